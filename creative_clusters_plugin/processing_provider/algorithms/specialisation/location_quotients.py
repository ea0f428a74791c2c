"""creativeclusters:locationquotients — creative counts and LQs per area (thin adapter)."""

import numpy as np

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
)

from ....core.specialisation.area_join import points_in_areas
from ....core.firms.stacking import STACK_DOWNWEIGHT, STACK_EXCLUDE, STACK_OPTIONS, apply_stack_choice
from ....core.specialisation.location_quotients import location_quotients
from ....core.firms.subsectors import CODE_BY_NAME
from ...base_algorithm import CreativeClustersAlgorithm, field



class LocationQuotients(CreativeClustersAlgorithm):
    ALGORITHM_ID = "locationquotients"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely', 'geopandas')
    DISPLAY_NAME = "Location quotients by area"
    GROUP = "2 · Specialisation and hot spots"
    GROUP_ID = "hotspots"
    TAGS = "location quotient,lq,specialisation,nesta,creative nation,confidence interval"
    HELP = """<p>Counts firms per area — all industries, all creative, each of the nine DCMS sub-sectors, high-tech and KIBS — and computes <b>location quotients</b> with a 95 % confidence interval, plus the <b>Nesta 2018</b> agglomeration flag.</p>
<p>LQ(s, r) = (x<sub>sr</sub> / x<sub>.r</sub>) / (x<sub>s.</sub> / x<sub>..</sub>): the share of sector s among all firms of area r over its share in the whole study region (all firms inside the areas). LQ &gt; 1 means the area is more specialised than the region.</p>
<h3>Parameters</h3>
<ul>
<li><b>Areas</b> (AREAS): polygons (wards, MSOAs, TTWAs, local authorities…).</li>
<li><b>Area identifier</b> (AREA_ID): a field of the areas (kept in the output).</li>
<li><b>Classified firms</b> (FIRMS): points with the fields of <i>Classify firms</i> (cc_creative, cc_subsector; cc_hightech, cc_kibs, cc_dormant when present).</li>
<li><b>Nesta 2018 activity quantile</b> (QUANTILE, default 0.75): an area is flagged when LQ<sub>creative</sub> &gt; 1 and its creative count is at or above this quantile of all areas' creative counts.</li>
<li><b>Confidence level</b> (CONFIDENCE, default 0.95) of the LQ interval (Moineddin et al. 2003 delta method on the log scale; undefined, so NULL, when the count is 0).</li>
<li><b>Minimum firms per area</b> (MIN_COUNT, default 0): areas with fewer firms get NULL LQs (small areas give unstable LQs).</li>
<li><b>Exclude dormant companies</b> (EXCLUDE_DORMANT, default yes): firms flagged cc_dormant are not counted.</li>
<li><b>Stacked addresses</b> (STACKS): keep every firm (default), count each stacked address as one firm (each firm at an address of n firms weighs 1/n), or exclude firms flagged cc_stack by <i>Flag stacked addresses</i>.</li>
</ul>
<h3>Output fields</h3>
<p>n_all, n_creative, n_advert, n_archit, n_crafts, n_design, n_film, n_it, n_publish, n_museums, n_music, n_hightech, n_kibs; lq_creative with lq_creative_lo and lq_creative_hi, the same for each sub-sector, lq_hightech, lq_kibs; cc_nesta2018.</p>
<p>Firms outside every area are counted and reported in the log; a firm on a shared boundary counts once, in the first area. Firms in another CRS are reprojected to the areas' CRS; a geographic CRS is projected with a warning. Inputs are never modified.</p>"""

    AREAS = "AREAS"
    AREA_ID = "AREA_ID"
    FIRMS = "FIRMS"
    QUANTILE = "QUANTILE"
    CONFIDENCE = "CONFIDENCE"
    MIN_COUNT = "MIN_COUNT"
    EXCLUDE_DORMANT = "EXCLUDE_DORMANT"
    STACKS = "STACKS"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(self.AREAS, self.tr("Areas"), [QgsProcessing.TypeVectorPolygon])
        )
        self.addParameter(
            QgsProcessingParameterField(self.AREA_ID, self.tr("Area identifier"), parentLayerParameterName=self.AREAS)
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.FIRMS, self.tr("Classified firms (points)"), [QgsProcessing.TypeVectorPoint]
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.QUANTILE, self.tr("Nesta 2018 activity quantile"), QgsProcessingParameterNumber.Double,
                defaultValue=0.75, minValue=0.0, maxValue=1.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.CONFIDENCE, self.tr("Confidence level of the LQ interval"), QgsProcessingParameterNumber.Double,
                defaultValue=0.95, minValue=0.5, maxValue=0.999,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MIN_COUNT, self.tr("Minimum firms per area (fewer: LQ left NULL)"),
                QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(self.EXCLUDE_DORMANT, self.tr("Exclude dormant companies"), defaultValue=True)
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.STACKS, self.tr("Stacked registered-office addresses"),
                options=[self.tr(o) for o in STACK_OPTIONS], defaultValue=0,
            )
        )
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Areas with location quotients")))

    def execute(self, parameters, context, feedback):
        areas_source = self.parameterAsSource(parameters, self.AREAS, context)
        firms_source = self.parameterAsSource(parameters, self.FIRMS, context)
        if areas_source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.AREAS))
        if firms_source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.FIRMS))
        area_id = self.parameterAsFields(parameters, self.AREA_ID, context)[0]
        names = self.field_names(firms_source)
        for required in ("cc_creative", "cc_subsector"):
            if required not in names:
                raise QgsProcessingException(
                    f"The firms layer has no '{required}' field: run 'Classify firms' on it first."
                )
        stacks = self.parameterAsEnum(parameters, self.STACKS, context)
        if stacks == STACK_EXCLUDE and "cc_stack" not in names:
            raise QgsProcessingException(
                "Excluding stacked addresses needs the 'cc_stack' field: run 'Flag stacked addresses' first."
            )

        areas = self._read_areas(areas_source, area_id, feedback)
        firm_fields = [f for f in ("cc_creative", "cc_subsector", "cc_hightech", "cc_kibs", "cc_dormant", "cc_stack") if f in names]
        firms = self.read_table(
            firms_source, feedback, fields=firm_fields, analysis_crs=areas.analysis_crs, progress_range=(10, 60),
            parameter=self.FIRMS,
        )
        if len(firms) == 0:
            raise QgsProcessingException("The firms layer has no features with a geometry.")
        frame = firms.frame
        xy = firms.xy
        exclude_dormant = self.parameterAsBoolean(parameters, self.EXCLUDE_DORMANT, context)
        keep, weights = _firms_to_count(frame, xy, stacks, exclude_dormant, feedback)
        self.check_cancel(feedback)

        polygons = areas.geodataframe().geometry.tolist()
        area_index = points_in_areas(xy[keep], polygons)
        self.check_cancel(feedback)
        feedback.setProgress(75)
        creative, codes, extra = _sector_arrays(frame, keep)
        result = location_quotients(
            area_index,
            len(areas),
            creative,
            codes,
            weights=weights[keep],
            extra_sectors=extra,
            quantile=self.parameterAsDouble(parameters, self.QUANTILE, context),
            confidence=self.parameterAsDouble(parameters, self.CONFIDENCE, context),
            min_count=self.parameterAsDouble(parameters, self.MIN_COUNT, context),
        )
        for warning in result.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(
            f"{int(keep.sum()) - result.outside} firms counted in {len(areas)} areas ({result.outside} outside every area); "
            f"{result.totals['creative']:g} creative. Nesta 2018 threshold (creative count at quantile): "
            f"{result.totals['nesta2018_threshold']:g}; areas flagged: {int(result.table['cc_nesta2018'].sum())}."
        )
        new_fields = _output_fields(result.table, integer_counts=stacks != STACK_DOWNWEIGHT)
        dest_id = self.write_table(
            parameters, self.OUTPUT, context, feedback, areas, result.table, new_fields, progress_range=(85, 100)
        )
        self.style_output_on_load(context, dest_id, "lq")
        return {self.OUTPUT: dest_id}

    def _read_areas(self, areas_source, area_id, feedback):
        """Read the areas (identifier and geometry); warn when identifiers repeat."""
        areas = self.read_table(areas_source, feedback, fields=[area_id], with_geometry=True, progress_range=(0, 10),
                                parameter=self.AREAS)
        if len(areas) == 0:
            raise QgsProcessingException("The areas layer has no features.")
        duplicated = areas.frame[area_id].duplicated(keep=False) & areas.frame[area_id].notna()
        if duplicated.any():
            feedback.pushWarning(
                f"{int(duplicated.sum())} areas share an identifier with another area; each polygon is still counted on its own."
            )
        return areas


def _firms_to_count(frame, xy, stacks, exclude_dormant, feedback):
    """The firms counted (dormant ones out when asked, then the STACKS choice) and their weights; logs both."""
    keep = np.ones(len(frame), dtype=bool)
    if "cc_dormant" in frame and exclude_dormant:
        dormant = frame["cc_dormant"].fillna(False).astype(bool).to_numpy()
        keep &= ~dormant
        feedback.pushInfo(f"{int(dormant.sum())} dormant companies excluded.")
    stacked = frame["cc_stack"].to_numpy(dtype=object) if "cc_stack" in frame else None
    before = int(keep.sum())
    keep, weights = apply_stack_choice(xy, stacks, flagged=stacked, keep=keep)
    if stacks == STACK_EXCLUDE:
        feedback.pushInfo(f"{before - int(keep.sum())} firms at stacked addresses excluded.")
    elif stacks == STACK_DOWNWEIGHT:
        feedback.pushInfo(
            f"Stacked addresses down-weighted: {before} firms count as {weights[keep].sum():.0f} (one per address)."
        )
    return keep, weights


def _sector_arrays(frame, keep):
    """Creative flag, sub-sector code and the extra sectors (high-tech, KIBS when present) of the kept firms."""
    creative = frame["cc_creative"].fillna(False).astype(bool).to_numpy()[keep]
    codes = np.array([CODE_BY_NAME.get(v) if isinstance(v, str) else None for v in frame["cc_subsector"]], dtype=object)[keep]
    extra = {}
    for sector in ("hightech", "kibs"):
        if f"cc_{sector}" in frame:
            extra[sector] = frame[f"cc_{sector}"].fillna(False).astype(bool).to_numpy()[keep]
    return creative, codes, extra


def _output_fields(table, integer_counts):
    """Output fields of the LQ table; rounds the count columns to integers in ``table`` when ``integer_counts``."""
    if integer_counts:
        count_columns = [c for c in table.columns if c.startswith("n_")]
        table[count_columns] = table[count_columns].round().astype("int64")
    new_fields = []
    for column in table.columns:
        if column.startswith("n_"):
            new_fields.append(field(column, "int" if integer_counts else "double"))
        elif column == "cc_nesta2018":
            new_fields.append(field(column, "bool"))
        else:
            new_fields.append(field(column, "double"))
    return new_fields


ALGORITHM = LocationQuotients
