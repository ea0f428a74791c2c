"""creativeclusters:optimizedhotspots — Optimized Hot Spot Analysis (thin adapter over core.optimized_hotspots).

Weighted features (INPUT + FIELD) go straight to the core; incident points (no FIELD) are first aggregated
(core.aggregation) to fishnet squares, hexagons or given polygons. Every decision of the core is logged.
"""

from __future__ import annotations

import numpy as np

from qgis.core import (
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)

from ....core.autocorrelation.aggregation import AGGREGATION_LABELS, FISHNET, POLYGONS, aggregate_to_grid, aggregate_to_polygons
from ....core.autocorrelation.optimized_hotspots import optimized_hot_spots
from ...base_algorithm import field
from ...local_statistic import INPUT_HELP, LocalStatisticAlgorithm, gi_columns, gi_fields

#: Name of the incident-count field (as ArcGIS's Optimized Hot Spot Analysis writes it).
COUNT_FIELD = "Join_Count"
GI_FIELDS = ("GiZScore", "GiPValue", "NNeighbors", "Gi_Bin")


class OptimizedHotSpots(LocalStatisticAlgorithm):
    ALGORITHM_ID = "optimizedhotspots"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely')
    DISPLAY_NAME = "Optimized hot spot analysis (automatic scale, FDR)"
    TAGS = "optimized,optimised,hot spot,getis,ord,gi*,incidents,fishnet,hexagon,incremental spatial autocorrelation,fdr,arcgis"

    AGGREGATION = "AGGREGATION"
    POLYGONS = "POLYGONS"
    BOUNDING = "BOUNDING"
    CELL_SIZE = "CELL_SIZE"

    HELP = (
        """<p>Hot spot analysis (Getis-Ord Gi*) that <b>chooses its own settings from the data</b> and writes every decision to the log, after ArcGIS Pro's <i>Optimized Hot Spot Analysis</i>. Use it when you do not know which distance to use; use <i>Hot spot analysis (Getis-Ord Gi*)</i> to set everything yourself — the log tells you the settings to start from.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input features</b> (INPUT): points or polygons. Without an analysis field they must be <b>incident points</b> (e.g. creative firms), which are counted per cell.</li>
<li><b>Analysis field</b> (FIELD, optional): a numeric field of <i>weighted features</i> (counts, rates, LQs; negative values allowed). Empty = the input holds incidents to aggregate. Features whose value is NULL or not a number are left out of the analysis (counted in the log) and get NULL results.</li>
<li><b>Incident aggregation</b> (AGGREGATION, incidents only): <i>0 fishnet</i> (square cells, default), <i>1 hexagons</i> (same area as the squares), <i>2 given polygons</i> (POLYGONS).</li>
<li><b>Aggregation polygons</b> (POLYGONS, optional; needed for AGGREGATION = 2): e.g. wards. Each incident is counted in the first polygon that contains it (a point on a shared boundary once). All polygons are kept, those without incidents with a count of 0.</li>
<li><b>Bounding polygons</b> (BOUNDING, optional, fishnet/hexagons only): where incidents are possible (e.g. the local authority boundary). With them every cell overlapping them is kept — cells without incidents count 0 — and incidents outside are left out (counted). Without them only cells holding incidents are kept: an empty cell says nothing when incidents could not occur there.</li>
<li><b>Cell size</b> (CELL_SIZE, metres, default 0 = automatic): side of the fishnet squares (hexagons get the same area). Automatic: twice the mean nearest-neighbour distance between the distinct incident locations, locational outliers set aside, rounded to 2 significant figures and kept between the sizes that give 100 and 1,000,000 cells over the extent.</li>
</ul>
<h3>Method</h3>
<ol>
<li><b>Minimums</b>: at least 30 features after aggregation, and values that vary; otherwise an error says what to change (cell size, bounding polygons, polygons).</li>
<li><b>Locational outliers</b>: locations whose nearest-neighbour distance is at least the mean + 3 standard deviations (measured between distinct locations, so coincident features do not count) are left out of the scale estimation, but not of the hot-spot analysis.</li>
<li><b>Scale by incremental spatial autocorrelation</b>: global Moran's I (binary distance-band weights, row-standardised, z under randomisation) for 10 distance bands, the first being the smallest band that gives every non-outlier location a neighbour, each next one adding the mean nearest-neighbour distance. Chosen: the <i>first peak</i> of the z-scores with z &gt; 1.65; else — no significant peak — as ArcGIS, a fixed band at the <i>average distance to the K nearest neighbours</i> (K = 5 % of the features, between 3 and 30), capped at one <i>standard distance</i> of the features.</li>
<li><b>Gi*</b> with the chosen neighbours and the <b>false discovery rate</b> correction (always on). Features with no neighbour in the band get NULL and a warning. The log reports the share of features with fewer than 8 neighbours.</li>
</ol>
<p><b>Irregular polygons</b> (small wards in towns, large ones in the countryside): the first band must give the largest rural polygon a neighbour, so it can be several kilometres and dilute small urban hot spots — ArcGIS behaves the same. The log shows the band; for such layers consider <i>Hot spot analysis (Getis-Ord Gi*)</i> with queen contiguity, or incidents on a fishnet / hexagon grid.</p>
<h3>Output</h3>
<p>Incidents: the cells (fishnet or hexagons, in the analysis CRS) or the given polygons (with their fields); weighted features: the input features with their fields. New fields:</p>
<ul>
<li><b>Join_Count</b> (incidents only): incidents in the cell / polygon;</li>
<li><b>cell_id</b> (grids only): cell number;</li>
<li><b>GiZScore</b>, <b>GiPValue</b> (two-sided normal), <b>NNeighbors</b> (neighbours, the feature itself not counted), <b>Gi_Bin</b> (−3 … 3: cold/hot spot at 99, 95, 90 % confidence after FDR, 0 not significant).</li>
</ul>
<p>The output loads styled blue – white – red by Gi_Bin.</p>
"""
        + INPUT_HELP
        + """<p>References: ArcGIS Pro, "How Optimized Hot Spot Analysis works" and "Incremental Spatial Autocorrelation"; Getis &amp; Ord (1992); Ord &amp; Getis (1995); Cliff &amp; Ord (1981) for Moran's I moments; Benjamini &amp; Hochberg (1995).</p>"""
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.INPUT, self.tr("Input features (incident points, or weighted points / polygons)"),
                [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.FIELD, self.tr("Analysis field (empty = count incidents)"), parentLayerParameterName=self.INPUT,
                type=QgsProcessingParameterField.Numeric, optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.AGGREGATION, self.tr("Incident aggregation"), options=[self.tr(x) for x in AGGREGATION_LABELS],
                defaultValue=FISHNET,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.POLYGONS, self.tr("Aggregation polygons (for 'Given polygons')"),
                [QgsProcessing.TypeVectorPolygon], optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.BOUNDING, self.tr("Bounding polygons: where incidents are possible (fishnet / hexagons)"),
                [QgsProcessing.TypeVectorPolygon], optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.CELL_SIZE, self.tr("Cell size in metres (0 = automatic)"), QgsProcessingParameterNumber.Double,
                defaultValue=0.0, minValue=0.0,
            )
        )
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Optimized hot spots")))

    # --- running ----------------------------------------------------------------------------------
    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        fields = self.parameterAsFields(parameters, self.FIELD, context)
        field_name = fields[0] if fields else ""
        if field_name:
            return self._weighted(parameters, context, feedback, source, field_name)
        return self._incidents(parameters, context, feedback, source)

    def _log(self, feedback, result, extra_info=()):
        for message in extra_info:
            feedback.pushInfo(message)
        for message in result.decisions:
            feedback.pushInfo(message)
        for message in result.warnings:
            feedback.pushWarning(message)

    def _weighted(self, parameters, context, feedback, source, field_name):
        import pandas as pd

        feedback.pushInfo(
            f"Weighted features: Gi* on the field '{field_name}' (the aggregation settings are not used)."
        )
        table = self.read_table(source, feedback, fields=[field_name], progress_range=(0, 15), parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no features with a geometry.")
        values, keep = self.analysis_values(table, field_name, feedback)
        result = optimized_hot_spots(
            table.xy[keep], values[keep], what="features with a value",
            callback=self.progress_callback(feedback, 15, 90),
        )
        self._log(feedback, result)
        self.check_cancel(feedback)
        dest_id = self.write_table(
            parameters, self.OUTPUT, context, feedback, table, pd.DataFrame(gi_columns(result.gi, keep)), gi_fields(),
            progress_range=(90, 100),
        )
        self.style_output_on_load(context, dest_id, "gi_bin")
        return {self.OUTPUT: dest_id}

    def _incidents(self, parameters, context, feedback, source):
        import pandas as pd

        if QgsWkbTypes.geometryType(source.wkbType()) != QgsWkbTypes.PointGeometry:
            raise QgsProcessingException(
                "Without an analysis field the input must be incident points to count. For polygons, choose the "
                "numeric field to analyse (e.g. a count of firms per area)."
            )
        method = self.parameterAsEnum(parameters, self.AGGREGATION, context)
        cell_size = self.parameterAsDouble(parameters, self.CELL_SIZE, context)
        table = self.read_table(source, feedback, fields=[], progress_range=(0, 10), parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no incident points with a geometry.")
        feedback.pushInfo(
            f"Incidents: {len(table):,} points counted per {AGGREGATION_LABELS[method].lower()} cell / polygon."
        )
        callback = self.progress_callback(feedback, 10, 30)
        if method == POLYGONS:
            polygons_source = self.parameterAsSource(parameters, self.POLYGONS, context)
            if polygons_source is None:
                raise QgsProcessingException(
                    "Aggregation to given polygons needs a polygon layer in 'Aggregation polygons' (POLYGONS), e.g. "
                    "wards; or choose fishnet or hexagons."
                )
            if self.parameterAsSource(parameters, self.BOUNDING, context) is not None:
                feedback.pushInfo("Bounding polygons are not used with given aggregation polygons.")
            polygons = self.read_table(
                polygons_source, feedback, fields=[], with_geometry=True, analysis_crs=table.analysis_crs,
                progress_range=(10, 15), parameter=self.POLYGONS,
            )
            agg = aggregate_to_polygons(table.xy, polygons.wkb, callback=callback)
            keep = np.isfinite(agg.centres).all(axis=1)
            result = optimized_hot_spots(
                agg.centres[keep], agg.counts[keep], what="polygons", callback=self.progress_callback(feedback, 30, 90)
            )
            self._log(feedback, result, agg.messages)
            columns = {COUNT_FIELD: agg.counts.astype(object)}
            columns.update(gi_columns(result.gi, keep))
            dest_id = self.write_table(
                parameters, self.OUTPUT, context, feedback, polygons, pd.DataFrame(columns),
                [field(COUNT_FIELD, "int")] + gi_fields(), progress_range=(90, 100),
            )
        else:
            bounding_source = self.parameterAsSource(parameters, self.BOUNDING, context)
            bounding = None
            if bounding_source is not None:
                bounding = self.read_table(
                    bounding_source, feedback, fields=[], with_geometry=True, analysis_crs=table.analysis_crs,
                    progress_range=(10, 15), parameter=self.BOUNDING,
                ).wkb
            if self.parameterAsSource(parameters, self.POLYGONS, context) is not None:
                feedback.pushInfo("Aggregation polygons are only used with 'Given polygons' (AGGREGATION = 2).")
            agg = aggregate_to_grid(table.xy, method, cell_size=cell_size, bounding=bounding, callback=callback)
            result = optimized_hot_spots(
                agg.centres, agg.counts, what="cells", callback=self.progress_callback(feedback, 30, 90)
            )
            self._log(feedback, result, agg.messages)
            self.check_cancel(feedback)
            out_fields = QgsFields()
            for f in [field("cell_id", "int"), field(COUNT_FIELD, "int")] + gi_fields():
                out_fields.append(f)
            columns = gi_columns(result.gi)
            rows = (
                (
                    QgsGeometry.fromWkt(polygon.wkt),
                    [i + 1, int(agg.counts[i])] + [columns[name][i] for name in GI_FIELDS],
                )
                for i, polygon in enumerate(agg.polygons)
            )
            dest_id = self.write_geometries(
                parameters, self.OUTPUT, context, feedback, out_fields, QgsWkbTypes.Polygon, table.analysis_crs, rows
            )
            if table.analysis_crs != table.source_crs:
                feedback.pushInfo(
                    f"The cells are written in the analysis CRS {table.analysis_crs.authid()} (squares and hexagons "
                    "stay regular there)."
                )
        self.style_output_on_load(context, dest_id, "gi_bin")
        return {self.OUTPUT: dest_id}


ALGORITHM = OptimizedHotSpots
