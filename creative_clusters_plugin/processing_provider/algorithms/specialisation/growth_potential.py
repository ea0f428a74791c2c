"""creativeclusters:growthpotential — composite growth-potential score (thin adapter)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
)

from ....core.specialisation.growth_potential import DIMENSIONS, FIELD_BY_DIMENSION, growth_potential
from ...base_algorithm import CreativeClustersAlgorithm, field

METHODS = ("rank", "minmax", "zscore")


class GrowthPotential(CreativeClustersAlgorithm):
    ALGORITHM_ID = "growthpotential"
    REQUIRES = ('numpy', 'scipy', 'pandas')
    DISPLAY_NAME = "Growth-potential score"
    GROUP = "4 · Corridors and growth"
    GROUP_ID = "corridors"
    TAGS = "growth potential,dcms,frontier economics,composite index,score,benchmark"
    HELP = """<p>Scores areas or clusters on their creative <b>growth potential</b>, after the five-point DCMS / Frontier Economics (2022) benchmarking framework. The framework's exact indicators were not published: this score uses one documented indicator per dimension, each normalised to 0–100, combined in a weighted mean.</p>
<ul>
<li><b>Scale</b> (W_SCALE): log(1 + n_creative) (or n_firms for microclusters).</li>
<li><b>Specialisation</b> (W_SPECIALISATION): lq_creative.</li>
<li><b>Growth</b> (W_GROWTH): dlq_creative from <i>Select creative clusters</i> (or recent_share).</li>
<li><b>Diversity and co-location</b> (W_DIVERSITY): 1 − Herfindahl of the nine sub-sector counts (n_advert … n_music), averaged with the high-tech and KIBS LQs (capped at 3) when present.</li>
<li><b>Significance</b> (W_SIGNIFICANCE): GiZScore from <i>Hot spots (Getis-Ord Gi*)</i>, capped at ±3.29.</li>
</ul>
<p><b>Normalisation</b> (NORMALISATION): percentile rank (default, robust to skew), min–max, or z-score (50 + 10z). A dimension whose field is absent is left out and the weights renormalised (warning); NULL values take the indicator's median (warning).</p>
<p><b>Output</b>: the input features with cc_gp_scale, cc_gp_spec, cc_gp_growth, cc_gp_divers, cc_gp_signif (0–100, for the dimensions used), <b>cc_gp_score</b> (0–100), <b>cc_gp_rank</b> (1 = highest) and <b>cc_gp_class</b> (quintile: Very low … Very high). Typical input: the output of <i>Hot spots</i> run on <i>Location quotients by area</i>.</p>"""

    INPUT = "INPUT"
    NORMALISATION = "NORMALISATION"
    OUTPUT = "OUTPUT"
    WEIGHT_PARAMS = {d: f"W_{d.upper()}" for d in DIMENSIONS}

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Areas or clusters"), [QgsProcessing.TypeVector]))
        for dimension, name in self.WEIGHT_PARAMS.items():
            self.addParameter(QgsProcessingParameterNumber(name, self.tr(f"Weight of {dimension}"), QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterEnum(self.NORMALISATION, self.tr("Normalisation"), options=[self.tr("Percentile rank"), self.tr("Min–max"), self.tr("z-score")], defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Growth-potential score")))

    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        table = self.read_table(source, feedback, require_geometry=False, progress_range=(0, 40), parameter=self.INPUT)
        weights = {d: self.parameterAsDouble(parameters, p, context) for d, p in self.WEIGHT_PARAMS.items()}
        method = METHODS[self.parameterAsEnum(parameters, self.NORMALISATION, context)]
        result = growth_potential(table.frame, weights, method)
        for warning in result.warnings:
            feedback.pushWarning(warning)
        for dimension, description in result.used.items():
            feedback.pushInfo(f"{dimension}: {description} (weight {weights[dimension]:g})")
        new_fields = [field(FIELD_BY_DIMENSION[d], "double") for d in DIMENSIONS if FIELD_BY_DIMENSION[d] in result.table]
        new_fields += [field("cc_gp_score", "double"), field("cc_gp_rank", "int"), field("cc_gp_class", "string", 10)]
        dest_id = self.write_table(parameters, self.OUTPUT, context, feedback, table, result.table, new_fields)
        self.style_output_on_load(context, dest_id, "growth")
        return {self.OUTPUT: dest_id}


ALGORITHM = GrowthPotential
