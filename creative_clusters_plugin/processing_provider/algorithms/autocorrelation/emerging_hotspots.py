"""creativeclusters:emerginghotspots — Emerging Hot Spot Analysis of firm formation (thin adapter over
core.emerging_hotspots).

Firms' dates → time steps (core), firms → fishnet cells or given areas (core.aggregation), the space-time cube of
counts → Gi* per bin, Mann–Kendall trends and ArcGIS's pattern categories (core), one output feature per location.
"""

from __future__ import annotations

import numpy as np

from qgis.core import (
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsWkbTypes,
)

from ....core.autocorrelation.aggregation import FISHNET, aggregate_to_grid, aggregate_to_polygons
from ....core.autocorrelation.emerging_hotspots import (
    count_cube,
    emerging_hotspots,
    neighbourhood_distance,
    start_of_steps_ending_on,
    time_steps,
)
from ....core.firms.firm_dates import parse_dates
from ...base_algorithm import CreativeClustersAlgorithm, field

#: Output fields (a public contract, named as ArcGIS Pro's Emerging Hot Spot Analysis where it has them).
RESULT_FIELDS = (
    ("PATTERN", "string"), ("CATEGORY", "int"), ("TREND_Z", "double"), ("TREND_P", "double"),
    ("HS_TREND_Z", "double"), ("HS_TREND_P", "double"), ("N_HOT", "int"), ("N_COLD", "int"),
    ("GiZScore", "double"), ("GiPValue", "double"), ("N_FIRMS", "int"), ("NNeighbors", "int"),
)
DEFAULT_STEPS = 10


class EmergingHotSpots(CreativeClustersAlgorithm):
    ALGORITHM_ID = "emerginghotspots"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely')
    DISPLAY_NAME = "Emerging hot spots (space-time Gi*, trends)"
    GROUP = "2 · Specialisation and hot spots"
    GROUP_ID = "hotspots"
    TAGS = ("emerging,hot spot,space time,trend,mann-kendall,getis,ord,gi*,new,intensifying,persistent,diminishing,"
            "sporadic,oscillating,historical,incorporation,formation,arcgis")

    INPUT = "INPUT"
    TIME_FIELD = "TIME_FIELD"
    TIME_STEP = "TIME_STEP"
    START = "START"
    END = "END"
    CELL_SIZE = "CELL_SIZE"
    AREAS = "AREAS"
    DISTANCE = "DISTANCE"
    TIME_WINDOW = "TIME_WINDOW"
    FDR = "FDR"
    OUTPUT = "OUTPUT"

    HELP = f"""<p>Where is creative business formation <b>new, intensifying, persistent or fading</b>? After ArcGIS Pro's <i>Emerging Hot Spot Analysis</i>: the firms are counted per location (fishnet cell or area) and time step by the date in TIME_FIELD (by default the Companies House <i>IncorporationDate</i>, so the counts are firms founded in each step), each location–step is tested for being a hot or cold spot of firm formation with Getis-Ord Gi* among its neighbours in space and time, and each location's series of results is given one of ArcGIS's patterns.</p>
<h3>Parameters</h3>
<ul>
<li><b>Firms</b> (INPUT): points with a date field, e.g. the creative firms from <i>Classify firms</i> (use <i>Selected features only</i> or <i>Extract by attribute</i> for one sub-sector).</li>
<li><b>Date field</b> (TIME_FIELD, default IncorporationDate): a date, date-time or text field (YYYY-MM-DD or DD/MM/YYYY). Firms without a readable date are left out and counted in the log.</li>
<li><b>Time step in years</b> (TIME_STEP, default 1; 0.25 = quarters): a whole number of months.</li>
<li><b>Start / End</b> (START, END, optional, YYYY-MM-DD): the period analysed. End defaults to the latest date in the data; start defaults to {DEFAULT_STEPS} steps before the end (ArcGIS recommends at least 10), so the last step ends on the end date and is complete. Firms outside the period are left out and counted.</li>
<li><b>Cell size</b> (CELL_SIZE, metres, 0 = automatic as in <i>Optimized hot spot analysis</i>): fishnet squares; only cells holding at least one firm of the period are analysed.</li>
<li><b>Areas</b> (AREAS, optional): polygons (e.g. wards, MSOAs) to count firms in instead of a fishnet; every area is analysed, empty ones as zeros.</li>
<li><b>Neighbourhood distance</b> (DISTANCE, metres, 0 = automatic): locations whose centres lie within it are neighbours. Automatic: for a fishnet the eight surrounding cells (√2 × cell size); for areas the smallest distance that gives every area a neighbour.</li>
<li><b>Time window</b> (TIME_WINDOW, steps, default 1): a bin's neighbourhood also covers this many steps up to and including its own (2 = this step and the one before).</li>
<li><b>False discovery rate</b> (FDR, default off): Benjamini–Hochberg correction of the hot/cold bins, per time step.</li>
</ul>
<h3>Method</h3>
<p>Gi* of every location–step bin (binary weights, the bin itself included; mean and standard deviation over the whole cube, as ArcGIS); a bin is a hot (cold) spot when its two-sided p ≤ 0.05 and z &gt; 0 (z &lt; 0). The Mann–Kendall test (with the tie and continuity corrections) measures each location's trend in its counts (TREND_Z, TREND_P) and in its Gi* z-scores (HS_TREND_Z, HS_TREND_P). Patterns, CATEGORY 1…8 hot and −1…−8 cold: <b>New</b> (hot in the last step only), <b>Consecutive</b> (one unbroken run of at least two hot steps up to the last, never hot before, under 90 % of steps hot), <b>Intensifying</b> / <b>Persistent</b> / <b>Diminishing</b> (hot in at least 90 % of steps including the last, with a significantly rising / no / falling z trend), <b>Sporadic</b> (hot in the last step, on and off before, never cold), <b>Oscillating</b> (hot in the last step, cold at some earlier step), <b>Historical</b> (hot in at least 90 % of steps but not the last); cold spots mirror these; 0 = No Pattern Detected. A location that was cold earlier and is hot now is Oscillating rather than New or Consecutive.</p>
<h3>Output</h3>
<p>One polygon per location (fishnet cells in the analysis CRS with cell_id; or the areas with all their fields) with <b>PATTERN</b>, <b>CATEGORY</b>, <b>TREND_Z</b>, <b>TREND_P</b>, <b>HS_TREND_Z</b>, <b>HS_TREND_P</b>, <b>N_HOT</b>, <b>N_COLD</b> (hot/cold steps), <b>GiZScore</b> and <b>GiPValue</b> of the last step, <b>N_FIRMS</b> (firms of the period at the location) and <b>NNeighbors</b> (neighbouring locations, itself not counted). Styled on loading in ArcGIS's colours. A live register holds no dissolved companies, so early steps undercount firms that have since closed: read trends as formation of firms that survive.</p>"""

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT, self.tr("Firms (points with a date)"), [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterField(
            self.TIME_FIELD, self.tr("Date field"), defaultValue="IncorporationDate", parentLayerParameterName=self.INPUT,
            optional=True))  # optional: QGIS 3.22 refuses a missing required field parameter despite its default
        self.addParameter(QgsProcessingParameterNumber(
            self.TIME_STEP, self.tr("Time step in years"), QgsProcessingParameterNumber.Double, defaultValue=1.0,
            minValue=1 / 12))
        self.addParameter(QgsProcessingParameterString(
            self.START, self.tr("Start date (YYYY-MM-DD; empty = 10 steps before the end)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.END, self.tr("End date (YYYY-MM-DD; empty = the latest date)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.CELL_SIZE, self.tr("Fishnet cell size in metres (0 = automatic)"), QgsProcessingParameterNumber.Double,
            defaultValue=0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.AREAS, self.tr("Areas to count firms in instead of a fishnet"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.DISTANCE, self.tr("Neighbourhood distance in metres (0 = automatic)"),
            QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.TIME_WINDOW, self.tr("Time window (steps)"), QgsProcessingParameterNumber.Integer, defaultValue=1,
            minValue=1))
        self.addParameter(QgsProcessingParameterBoolean(
            self.FDR, self.tr("False discovery rate correction"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Emerging hot spots"), QgsProcessing.TypeVectorPolygon))

    # --- running ----------------------------------------------------------------------------------
    def execute(self, parameters, context, feedback):
        import pandas as pd

        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        time_field = (self.parameterAsFields(parameters, self.TIME_FIELD, context) or ["IncorporationDate"])[0]
        if time_field not in self.field_names(source):
            raise QgsProcessingException(
                f"The firms layer has no date field '{time_field}'. Choose the field holding each firm's date "
                "(Companies House: IncorporationDate).")
        table = self.read_table(source, feedback, fields=[time_field], progress_range=(0, 15), parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The firms layer has no features with a geometry.")
        steps = self._time_steps(parameters, context, feedback, table.frame[time_field])
        dated = np.flatnonzero(steps.index >= 0)
        if len(dated) == 0:
            raise QgsProcessingException("No firm is dated within the analysis period: check START, END and the date field.")
        self.check_cancel(feedback)
        areas, agg = self._aggregate(parameters, context, feedback, table, dated)
        cube = count_cube(agg.cell_of_point, steps.index[dated], len(agg.counts), len(steps.step_starts))
        analysed = np.isfinite(agg.centres).all(axis=1)
        distance = self._distance(parameters, context, feedback, agg, analysed)
        result = emerging_hotspots(  # the core's errors reach the user through the base class
            agg.centres[analysed], cube[analysed], distance,
            time_window=self.parameterAsInt(parameters, self.TIME_WINDOW, context),
            fdr=self.parameterAsBool(parameters, self.FDR, context),
            callback=self.progress_callback(feedback, 35, 90),
        )
        for message in result.warnings:
            feedback.pushWarning(message)
        self._log_patterns(feedback, result)
        columns = _result_columns(result, analysed, cube)
        if areas is not None:
            dest_id = self.write_table(parameters, self.OUTPUT, context, feedback, areas, pd.DataFrame(columns),
                                       _result_fields(), progress_range=(90, 100))
        else:
            dest_id = self._write_cells(parameters, context, feedback, table, agg, columns)
        self.style_output_on_load(context, dest_id)
        return {self.OUTPUT: dest_id}

    def _time_steps(self, parameters, context, feedback, values):
        dates = parse_dates(values.to_numpy(dtype=object), len(values)).to_numpy(dtype="datetime64[D]")
        if np.isnat(dates).all():
            raise QgsProcessingException(
                "No firm has a readable date in the date field (dates are read as YYYY-MM-DD or DD/MM/YYYY).")
        step_years = self.parameterAsDouble(parameters, self.TIME_STEP, context)
        end = _date_parameter(self.parameterAsString(parameters, self.END, context), "end date")
        start = _date_parameter(self.parameterAsString(parameters, self.START, context), "start date")
        if end is None:
            end = dates[~np.isnat(dates)].max()
        if start is None:  # DEFAULT_STEPS whole steps ending on the end date
            start = start_of_steps_ending_on(end, step_years, DEFAULT_STEPS)
        steps = time_steps(dates, step_years, start=start, end=end)
        feedback.pushInfo(
            f"Time steps: {len(steps.step_starts)} of {step_years:g} year(s) from {steps.step_starts[0]} to {end}; "
            f"{int((steps.index >= 0).sum()):,} firms dated in the period, {steps.n_out_of_range:,} outside it, "
            f"{steps.n_missing:,} without a readable date (left out).")
        for message in steps.warnings:
            feedback.pushWarning(message)
        return steps

    def _aggregate(self, parameters, context, feedback, table, dated):
        areas_source = self.parameterAsSource(parameters, self.AREAS, context)
        if areas_source is not None:
            areas = self.read_table(areas_source, feedback, fields=None, with_geometry=True,
                                    analysis_crs=table.analysis_crs, progress_range=(15, 25), parameter=self.AREAS)
            agg = aggregate_to_polygons(table.xy[dated], areas.wkb, callback=self.progress_callback(feedback, 25, 35))
        else:
            areas = None
            agg = aggregate_to_grid(table.xy[dated], FISHNET,
                                    cell_size=self.parameterAsDouble(parameters, self.CELL_SIZE, context),
                                    callback=self.progress_callback(feedback, 15, 35))
        for message in agg.messages:
            feedback.pushInfo(message)
        if agg.n_left_out:
            feedback.pushWarning(f"{agg.n_left_out:,} firm(s) lie outside every area and are left out.")
        return areas, agg

    def _distance(self, parameters, context, feedback, agg, analysed):
        distance = self.parameterAsDouble(parameters, self.DISTANCE, context)
        if distance > 0:
            feedback.pushInfo(f"Neighbourhood distance {distance:,.0f} m (given).")
            return distance
        distance, how = neighbourhood_distance(agg.centres[analysed], agg.cell_size)
        feedback.pushInfo(f"Neighbourhood distance {distance:,.0f} m (automatic): {how}.")
        return distance

    @staticmethod
    def _log_patterns(feedback, result):
        names, counts = np.unique(result.pattern, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        feedback.pushInfo("Patterns: " + ", ".join(f"{names[i]} {counts[i]:,}" for i in order) + ".")

    def _write_cells(self, parameters, context, feedback, table, agg, columns):
        out_fields = QgsFields()
        for f in [field("cell_id", "int")] + _result_fields():
            out_fields.append(f)
        names = [name for name, _ in RESULT_FIELDS]
        rows = (
            (QgsGeometry.fromWkt(polygon.wkt), [i + 1] + [columns[name][i] for name in names])
            for i, polygon in enumerate(agg.polygons)
        )
        dest_id = self.write_geometries(parameters, self.OUTPUT, context, feedback, out_fields, QgsWkbTypes.Polygon,
                                        table.analysis_crs, rows)
        if table.analysis_crs != table.source_crs:
            feedback.pushInfo(f"The cells are written in the analysis CRS {table.analysis_crs.authid()}.")
        return dest_id


def _result_fields():
    return [field(name, kind, 40 if kind == "string" else 0) for name, kind in RESULT_FIELDS]


def _result_columns(result, analysed, cube) -> dict:
    """Output columns for every location (None where a location could not be analysed)."""
    n = len(analysed)
    values = {
        "PATTERN": result.pattern, "CATEGORY": result.category, "TREND_Z": result.trend_z,
        "TREND_P": result.trend_p, "HS_TREND_Z": result.hs_trend_z, "HS_TREND_P": result.hs_trend_p,
        "N_HOT": result.n_hot, "N_COLD": result.n_cold, "GiZScore": result.last_z,
        "GiPValue": result.gi_p[:, -1], "NNeighbors": result.n_neighbors,
    }
    columns = {}
    for name, array in values.items():
        column = np.full(n, None, dtype=object)
        column[analysed] = [None if isinstance(v, float) and not np.isfinite(v) else v for v in array.tolist()]
        columns[name] = column
    columns["N_FIRMS"] = cube.sum(axis=1).astype(np.int64).astype(object)
    return columns


def _date_parameter(text: str, label: str):
    text = (text or "").strip()
    if not text:
        return None
    parsed = parse_dates([text], 1).to_numpy(dtype="datetime64[D]")[0]
    if np.isnat(parsed):
        raise QgsProcessingException(f"The {label} '{text}' is not a date: write it as YYYY-MM-DD.")
    return parsed


ALGORITHM = EmergingHotSpots
