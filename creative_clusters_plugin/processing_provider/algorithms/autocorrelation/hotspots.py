"""creativeclusters:hotspots — Getis-Ord Gi* hot spot analysis (thin adapter over core.autocorrelation.getis_ord,
on the shared base of the local statistics in ``processing_provider/local_statistic.py``)."""

from __future__ import annotations

import numpy as np

from qgis.core import (
    QgsProcessingParameterBoolean,
)

from ....core.autocorrelation.getis_ord import gi_star
from ...base_algorithm import field

from ...local_statistic import (  # noqa: F401 - re-exported for the other local statistics
    WEIGHTS_HELP,
    INPUT_HELP,
    LocalStatisticAlgorithm,
    gi_fields,
    gi_columns,
)


class HotSpots(LocalStatisticAlgorithm):
    STATISTIC = "Gi*"
    OUTPUT_DESCRIPTION = "Hot spots (Gi*)"
    ALGORITHM_ID = "hotspots"
    REQUIRES = ('numpy', 'scipy', 'shapely')
    DISPLAY_NAME = "Hot spot analysis (Getis-Ord Gi*)"
    TAGS = "getis,ord,gi*,gistar,hot spot,cold spot,cluster,fdr,permutation,arcgis"
    DEFAULT_PERMUTATIONS = 0
    HELP = (
        """<p>Finds statistically significant <b>hot spots</b> (high values surrounded by high values) and <b>cold spots</b> with the Getis-Ord Gi* statistic — the general Ord &amp; Getis (1995) form that ArcGIS Pro's <i>Hot Spot Analysis</i> uses:</p>
<p>Gi* = (Σ<sub>j</sub> w<sub>ij</sub> x<sub>j</sub> − x̄ Σ<sub>j</sub> w<sub>ij</sub>) / (S √((n Σ<sub>j</sub> w<sub>ij</sub>² − (Σ<sub>j</sub> w<sub>ij</sub>)²)/(n − 1)))</p>
<p>with the feature itself included (w<sub>ii</sub> = 1), x̄ the mean and S the population standard deviation of the field. Gi* is a z-score; it does not change if the weights are row-standardised and accepts any non-negative weights (binary or inverse distance). With binary weights it equals PySAL esda's <code>G_Local(star=True, transform="B")</code>.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input features</b> (INPUT): polygons (e.g. the areas output of <i>Location quotients by area</i>) or points.</li>
<li><b>Analysis field</b> (FIELD): a numeric field — counts, rates, LQs. Negative values are allowed.</li>
"""
        + WEIGHTS_HELP
        + """
<li><b>Apply false discovery rate correction</b> (FDR, default no): the Benjamini–Hochberg procedure is applied separately at 0.10, 0.05 and 0.01 to decide the confidence bins, as ArcGIS does; z-scores and p-values are not changed.</li>
<li><b>Permutations</b> (PERMUTATIONS, default 0 = analytic normal inference only): with R &gt; 0 a conditional permutation test is run as well — the value of each feature is held fixed and its neighbours are drawn without replacement from the other n − 1 values, R times — and the confidence bins use its pseudo p-value (see SIGNIFICANCE); the bin's sign is the tail of the permutation distribution that p-value comes from. The test holds each feature's own value fixed, so it asks whether its <i>neighbours</i> are unusually high or low: a single high feature among ordinary ones can have a large GiZScore but a modest pseudo p-value, and a high feature among unusually low neighbours is a cold spot by the test (the log counts such features). Results do not depend on the order the features arrive in (a re-sorted file or a database give the same pseudo p-values for the same SEED).</li>
<li><b>Pseudo p-value convention</b> (SIGNIFICANCE, with permutations): <i>0 — folded pseudo p compared with α</i> (default): p = (min(M, R − M) + 1)/(R + 1), M being the number of permutations whose statistic is at least the observed one (ties count as at least as extreme), compared with 0.10/0.05/0.01 directly — as GeoDa, PySAL esda (<code>p_sim</code>) and ArcGIS Pro; <i>1 — two-sided</i>: min(1, 2 (min(M≥, M≤) + 1)/(R + 1)) with ties counted on both sides, a conservative rule that calls fewer features significant. The log says which one ran. With FDR, the smallest attainable pseudo p-value (2/(R + 1)) may be too large for the strictest levels: the log says so and suggests how many permutations to use. Memory stays proportional to the number of features and links.</li>
<li><b>Random seed</b> (SEED, default 1): the same seed gives the same pseudo p-values.</li>
<li><b>Gi* or Gi</b> (STAR, default on): on — Gi*, each feature counts in its own neighbourhood (ArcGIS Pro's Hot Spot Analysis); off — Getis &amp; Ord's (1992) Gi, the feature left out of its own sum and of the mean and variance it is compared with (esda's <code>G_Local(star=False)</code>): it asks whether a feature's <i>surroundings</i> are hot, whatever the feature itself holds.</li>
</ul>
<h3>Output</h3>
<p>The input features with their fields plus:</p>
<ul>
<li><b>GiZScore</b>: Gi* (a z-score; positive = hot);</li>
<li><b>GiPValue</b>: two-sided p-value from the normal distribution;</li>
<li><b>NNeighbors</b>: number of neighbours (the feature itself not counted);</li>
<li><b>Gi_Bin</b>: −3 … 3 = cold/hot spot at 99, 95, 90 % confidence, 0 not significant;</li>
<li><b>GiPseudoP</b> (only when PERMUTATIONS &gt; 0): the permutation pseudo p-value under the SIGNIFICANCE convention.</li>
</ul>
<p>The output loads styled blue – white – red by Gi_Bin.</p>
<h3>Bad input</h3>
<p>Fewer than 3 features with a value: error. Fewer than 30: warning (results unreliable). All values equal: error. Features with no neighbour (islands): NULL results and a warning; if no feature has a neighbour: error. Contiguity weights on points: error. Coincident points are neighbours at distance 0.</p>
"""
        + INPUT_HELP
        + """<p>References: Getis &amp; Ord (1992) <i>Geographical Analysis</i> 24(3); Ord &amp; Getis (1995) <i>Geographical Analysis</i> 27(4); Benjamini &amp; Hochberg (1995); Anselin (1995) for conditional permutation; ArcGIS Pro "How Hot Spot Analysis (Getis-Ord Gi*) works".</p>"""
    )

    STAR = "STAR"

    def add_statistic_parameters(self):
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.STAR, self.tr("Count each feature in its own neighbourhood (Gi*; off = Getis–Ord's Gi)"),
                defaultValue=True,
            )
        )

    def execute(self, parameters, context, feedback):
        import pandas as pd

        permutations, seed, fdr, significance = self.inference_options(parameters, context)
        star = self.parameterAsBoolean(parameters, self.STAR, context)
        table, keep, values, weights, options = self.read_input(parameters, context, feedback)
        self.log_run(feedback, options["field"], len(values), permutations, seed, fdr, significance)
        if not star:
            feedback.pushInfo("Gi (STAR off): each feature is left out of its own sum and of the mean and variance "
                              "it is compared with (Getis & Ord 1992; esda's G_Local(star=False)).")
        result = gi_star(
            values, weights, permutations=permutations, seed=seed, fdr=fdr, significance=significance,
            star=star, callback=self.progress_callback(feedback, 25, 90),
        )
        for message in result.warnings:
            feedback.pushWarning(message)
        self.check_cancel(feedback)
        defined = np.isfinite(result.z)
        columns = gi_columns(result, keep, options["order"])
        fields = gi_fields()
        if result.pseudo_p is not None:
            columns["GiPseudoP"] = self.expand(keep, result.pseudo_p, order=options["order"])
            fields.append(field("GiPseudoP", "double"))
        counts = {b: int(np.count_nonzero(result.gi_bin[defined] == b)) for b in (3, 2, 1, -1, -2, -3)}
        feedback.pushInfo(
            "Hot spots (99/95/90 %): {} / {} / {}; cold spots: {} / {} / {}; not significant: {}.".format(
                counts[3], counts[2], counts[1], counts[-3], counts[-2], counts[-1],
                int(defined.sum()) - sum(counts.values()),
            )
        )
        dest_id = self.write_table(
            parameters, self.OUTPUT, context, feedback, table, pd.DataFrame(columns), fields, progress_range=(90, 100)
        )
        self.style_output_on_load(context, dest_id, "gi_bin")
        return {self.OUTPUT: dest_id}


ALGORITHM = HotSpots
