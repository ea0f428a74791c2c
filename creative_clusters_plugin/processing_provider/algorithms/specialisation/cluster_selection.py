"""creativeclusters:clusterselection — Nesta 2016 / Nesta 2018 cluster recipes on LQ areas (thin adapter)."""

import datetime as dt

import numpy as np

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ....core.specialisation.area_join import points_in_areas
from ....core.specialisation.cluster_recipes import nesta2016, nesta2018
from ....core.specialisation.location_quotients import location_quotients
from ....core.firms.subsectors import CODE_BY_NAME, SUBSECTORS
from ...base_algorithm import CreativeClustersAlgorithm, field

GROUPS = ("creative",) + tuple(SUBSECTORS)
GROUP_LABELS = ["All creative industries"] + list(SUBSECTORS.values())


class ClusterSelection(CreativeClustersAlgorithm):
    ALGORITHM_ID = "clusterselection"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely', 'geopandas')
    DISPLAY_NAME = "Select creative clusters (Nesta 2016 / 2018 recipes)"
    GROUP = "2 · Specialisation and hot spots"
    GROUP_ID = "hotspots"
    TAGS = "nesta,geography of creativity,creative nation,cluster,location quotient,growth"
    HELP = """<p>Selects creative clusters among areas with the published Nesta recipes.</p>
<ul>
<li><b>Nesta 2016</b> (<i>The Geography of Creativity in the UK</i>): for each chosen sub-sector group, keep the areas whose creative activity (creative firm count, later period) is at or above the <b>PERCENTILE</b> (0.75) of all areas; take the <b>TOP_N</b> (10) of them by LQ and the TOP_N by change in LQ between the two periods. The clusters are the union of all lists. Ties at the cut are broken by the area order (deterministic); areas with a NULL LQ are never selected.</li>
<li><b>Nesta 2018</b> (<i>Creative Nation</i>): LQ<sub>creative</sub> &gt; 1 and activity at or above the <b>QUANTILE</b> (0.75) of all areas. Uses the later period only.</li>
</ul>
<h3>Periods (PERIODS)</h3>
<ul>
<li><b>0 — Two LQ snapshots</b>: INPUT is the output of <i>Location quotients by area</i> for the later period, EARLIER the same for the earlier period; rows are matched on AREA_ID. Areas missing from EARLIER get a NULL change.</li>
<li><b>1 — Firm incorporation dates</b>: INPUT is any polygon layer and FIRMS the classified firms; the algorithm computes the LQs itself for the firms alive at DATE_EARLIER and at DATE_LATER (incorporated on or before the date, from DATE_FIELD, default IncorporationDate). A live-register snapshot holds no dissolved companies, so the earlier period misses firms that have since closed: changes in LQ are indicative.</li>
</ul>
<h3>Output</h3>
<p>The areas with <b>cc_cluster</b> (bool) and <b>cc_reason</b> (which list(s) selected the area, e.g. <i>creative top LQ #2; film top LQ growth #1</i>), and for each group used <b>lq_&lt;group&gt;_t0</b>, <b>lq_&lt;group&gt;_t1</b> and <b>dlq_&lt;group&gt;</b>; the activity cut is written to the log. Groups: creative (all), advert, archit, crafts, design, film, it, publish, museums, music.</p>"""

    INPUT = "INPUT"
    AREA_ID = "AREA_ID"
    RECIPE = "RECIPE"
    PERIODS = "PERIODS"
    EARLIER = "EARLIER"
    FIRMS = "FIRMS"
    DATE_FIELD = "DATE_FIELD"
    DATE_EARLIER = "DATE_EARLIER"
    DATE_LATER = "DATE_LATER"
    GROUPS = "GROUPS"
    PERCENTILE = "PERCENTILE"
    TOP_N = "TOP_N"
    QUANTILE = "QUANTILE"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Areas (later period LQs, or any polygons)"), [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.AREA_ID, self.tr("Area identifier"), parentLayerParameterName=self.INPUT))
        self.addParameter(QgsProcessingParameterEnum(self.RECIPE, self.tr("Recipe"), options=[self.tr("Nesta 2016 (top LQ and top LQ growth)"), self.tr("Nesta 2018 (LQ > 1 and activity quantile)")], defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.PERIODS, self.tr("Periods from"), options=[self.tr("Two LQ snapshots"), self.tr("Firm incorporation dates")], defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSource(self.EARLIER, self.tr("Earlier period LQ areas (snapshots)"), [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.FIRMS, self.tr("Classified firms (incorporation dates)"), [QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterString(self.DATE_FIELD, self.tr("Incorporation date field"), defaultValue="IncorporationDate", optional=True))
        self.addParameter(QgsProcessingParameterString(self.DATE_EARLIER, self.tr("Earlier date (YYYY-MM-DD)"), defaultValue="2019-12-31", optional=True))
        self.addParameter(QgsProcessingParameterString(self.DATE_LATER, self.tr("Later date (YYYY-MM-DD; empty = all firms)"), defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.GROUPS, self.tr("Sub-sector groups (Nesta 2016)"), options=GROUP_LABELS, allowMultiple=True, defaultValue=list(range(len(GROUPS)))))
        self.addParameter(QgsProcessingParameterNumber(self.PERCENTILE, self.tr("Activity percentile (Nesta 2016)"), QgsProcessingParameterNumber.Double, defaultValue=0.75, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(self.TOP_N, self.tr("Areas per list (Nesta 2016)"), QgsProcessingParameterNumber.Integer, defaultValue=10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(self.QUANTILE, self.tr("Activity quantile (Nesta 2018)"), QgsProcessingParameterNumber.Double, defaultValue=0.75, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Areas with selected clusters")))

    # --- periods ------------------------------------------------------------------------------------
    def _snapshot_lqs(self, parameters, context, feedback, areas, area_id, groups):
        import pandas as pd

        names = areas.frame.columns
        missing = [f"lq_{g}" for g in groups if f"lq_{g}" not in names] + ([] if "n_creative" in names else ["n_creative"])
        if missing:
            raise QgsProcessingException(
                f"The areas have no {', '.join(missing)} field(s): run 'Location quotients by area' first, "
                "or choose 'Firm incorporation dates' as the periods."
            )
        later = {g: pd.to_numeric(areas.frame[f"lq_{g}"], errors="coerce").to_numpy(float) for g in groups}
        activity = pd.to_numeric(areas.frame["n_creative"], errors="coerce").to_numpy(float)
        earlier_source = self.parameterAsSource(parameters, self.EARLIER, context)
        earlier = None
        if earlier_source is not None:
            fields = earlier_source.fields().names()
            if area_id not in fields:
                raise QgsProcessingException(f"The earlier-period layer has no '{area_id}' field to match areas on.")
            wanted = [f"lq_{g}" for g in groups if f"lq_{g}" in fields]
            table = self.read_table(earlier_source, feedback, fields=[area_id] + wanted, require_geometry=False, progress_range=(20, 40), parameter=self.EARLIER)
            lookup = table.frame.drop_duplicates(area_id).set_index(area_id)
            keys = areas.frame[area_id]
            earlier = {}
            for g in groups:
                if f"lq_{g}" not in lookup:
                    raise QgsProcessingException(f"The earlier-period layer has no 'lq_{g}' field.")
                earlier[g] = pd.to_numeric(keys.map(lookup[f"lq_{g}"]), errors="coerce").to_numpy(float)
            unmatched = int(keys.map(lambda k: k not in lookup.index).sum())
            if unmatched:
                feedback.pushWarning(f"{unmatched} area(s) have no match in the earlier period: their LQ change is NULL.")
        return earlier, later, activity

    def _dated_lqs(self, parameters, context, feedback, areas, groups):
        import pandas as pd

        firms_source = self.parameterAsSource(parameters, self.FIRMS, context)
        if firms_source is None:
            raise QgsProcessingException("Choose the classified firms layer (FIRMS) to build periods from incorporation dates.")
        date_field = self.parameterAsString(parameters, self.DATE_FIELD, context) or "IncorporationDate"
        names = self.field_names(firms_source)
        for required in ("cc_creative", "cc_subsector", date_field):
            if required not in names:
                raise QgsProcessingException(f"The firms layer has no '{required}' field (run 'Classify firms' first; check the date field).")
        earlier_date = _parse_date(self.parameterAsString(parameters, self.DATE_EARLIER, context), "earlier date")
        later_text = self.parameterAsString(parameters, self.DATE_LATER, context)
        later_date = _parse_date(later_text, "later date") if later_text else None
        if earlier_date is None:
            raise QgsProcessingException("Give the earlier date as YYYY-MM-DD.")
        if later_date is not None and later_date <= earlier_date:
            raise QgsProcessingException("The later date must come after the earlier date.")
        firms = self.read_table(firms_source, feedback, fields=[f for f in ("cc_creative", "cc_subsector", "cc_dormant", date_field) if f in names], analysis_crs=areas.analysis_crs, progress_range=(20, 50), parameter=self.FIRMS)
        frame = firms.frame
        born = pd.to_datetime(frame[date_field].astype(str), errors="coerce").to_numpy()
        unknown = int(np.isnat(born).sum())
        if unknown:
            feedback.pushWarning(f"{unknown} firm(s) have no readable incorporation date: counted in the later period only.")
        active = np.ones(len(frame), dtype=bool)
        if "cc_dormant" in frame:
            active &= ~frame["cc_dormant"].fillna(False).astype(bool).to_numpy()
        area_index = points_in_areas(firms.xy, areas.geodataframe().geometry.tolist())
        creative = frame["cc_creative"].fillna(False).astype(bool).to_numpy()
        codes = np.array([CODE_BY_NAME.get(v) if isinstance(v, str) else None for v in frame["cc_subsector"]], dtype=object)
        results = []
        for date in (earlier_date, later_date):
            alive = active.copy()
            if date is not None:
                alive &= ~np.isnat(born) & (born <= np.datetime64(date))
            feedback.pushInfo(f"Firms alive at {date or 'the snapshot'}: {int(alive.sum())}")
            results.append(location_quotients(np.where(alive, area_index, -1), len(areas), creative, codes).table)
        earlier = {g: results[0][f"lq_{g}"].to_numpy(float) for g in groups}
        later = {g: results[1][f"lq_{g}"].to_numpy(float) for g in groups}
        return earlier, later, results[1]["n_creative"].to_numpy(float)

    def execute(self, parameters, context, feedback):
        import pandas as pd

        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        area_id = self.parameterAsFields(parameters, self.AREA_ID, context)[0]
        recipe = self.parameterAsEnum(parameters, self.RECIPE, context)
        periods = self.parameterAsEnum(parameters, self.PERIODS, context)
        group_idx = self.parameterAsEnums(parameters, self.GROUPS, context) or [0]
        groups = [GROUPS[i] for i in group_idx] if recipe == 0 else ["creative"]
        all_fields = source.fields().names()
        areas = self.read_table(source, feedback, fields=all_fields, with_geometry=periods == 1, progress_range=(0, 20), parameter=self.INPUT)
        if len(areas) == 0:
            raise QgsProcessingException("The areas layer has no features.")
        if periods == 0:
            earlier, later, activity = self._snapshot_lqs(parameters, context, feedback, areas, area_id, groups)
        else:
            earlier, later, activity = self._dated_lqs(parameters, context, feedback, areas, groups)
        self.check_cancel(feedback)
        feedback.setProgress(70)
        if recipe == 0:
            if earlier is None:
                raise QgsProcessingException("The Nesta 2016 recipe needs two periods: give the earlier-period LQ layer (EARLIER) or use incorporation dates.")
            selection = nesta2016(activity, earlier, later, self.parameterAsDouble(parameters, self.PERCENTILE, context), self.parameterAsInt(parameters, self.TOP_N, context))
            feedback.pushInfo(f"Nesta 2016: activity cut (creative firms at the percentile) = {selection.threshold:g}")
            for name, members in selection.lists.items():
                feedback.pushInfo(f"  {name}: {', '.join(str(areas.frame[area_id].iloc[i]) for i in members) or '—'}")
        else:
            selection = nesta2018(later["creative"], activity, self.parameterAsDouble(parameters, self.QUANTILE, context))
            feedback.pushInfo(f"Nesta 2018: activity cut = {selection.threshold:g}")
        for warning in selection.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(f"{int(selection.selected.sum())} area(s) selected as clusters out of {len(areas)}.")
        columns = {"cc_cluster": selection.selected, "cc_reason": selection.reasons}
        new_fields = [field("cc_cluster", "bool"), field("cc_reason", "string", 254)]
        for g in groups:
            if earlier is not None:
                columns[f"lq_{g}_t0"] = earlier[g]
                new_fields.append(field(f"lq_{g}_t0", "double"))
            columns[f"lq_{g}_t1"] = later[g]
            new_fields.append(field(f"lq_{g}_t1", "double"))
            if earlier is not None:
                columns[f"dlq_{g}"] = later[g] - earlier[g]
                new_fields.append(field(f"dlq_{g}", "double"))
        dest_id = self.write_table(parameters, self.OUTPUT, context, feedback, areas, pd.DataFrame(columns), new_fields)
        self.style_output_on_load(context, dest_id, "clusters")
        return {self.OUTPUT: dest_id}


def _parse_date(text, label):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as error:
        raise QgsProcessingException(f"The {label} '{text}' is not a date: write it as YYYY-MM-DD.") from error


ALGORITHM = ClusterSelection
