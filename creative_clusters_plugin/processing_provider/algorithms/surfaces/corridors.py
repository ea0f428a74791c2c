"""creativeclusters:corridors — least-cost links, corridors and corridor chains between clusters (thin adapter)."""

import numpy as np

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)

from ....core.surfaces.corridor_steps import detect_corridors
from ....core.surfaces.corridors import WidthMode, analysis_crs_wkt, analysis_grid, empty_output_grid
from ....core.surfaces.raster_io import write_geotiff
from ....core.surfaces.resistance import RasterData, ResistanceWeights, build_resistance
from ...base_algorithm import CreativeClustersAlgorithm, field


class Corridors(CreativeClustersAlgorithm):
    ALGORITHM_ID = "corridors"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely', 'geopandas', 'rasterio', 'skimage')
    DISPLAY_NAME = "Creative corridors (least-cost links and corridor chains)"
    GROUP = "4 · Corridors and growth"
    GROUP_ID = "corridors"
    TAGS = (
        "corridor,least-cost path,cost distance,linkage mapper,connectivity,gravity,chain,resistance,"
        "creative corridors,network"
    )
    HELP = """<p>Finds <b>corridors between creative clusters</b>: least-cost links over a resistance surface, normalised least-cost corridors (the Linkage Mapper method, McRae &amp; Kavanagh 2011) and <b>corridor chains</b> — sequences of three or more clusters joined by strong links that run roughly straight, as in the RSA/PEC/ACE <i>Creative Corridors</i> (2024) report.</p>
<h3>Method</h3>
<ol>
<li><b>Cores and cost distance.</b> Clusters are rasterised (polygons: the cells whose centre they contain; points: the 3 × 3 cells around them). One cost-distance surface per cluster (Dijkstra on the 8-connected grid; a move costs its length × the mean resistance of the two cells, as in ArcGIS Cost Distance and GRASS r.cost), computed only as far as needed: up to the cost of its MAX_NEIGHBOURS-th nearest cluster plus the corridor width, never beyond MAX_COST_DISTANCE, on a window around the cluster. Never one surface per pair.</li>
<li><b>Candidate links.</b> Each cluster is linked to its MAX_NEIGHBOURS nearest clusters by least-cost distance. A link whose path crosses another cluster is split into consecutive links (a chain) instead of being dropped. Groups that would stay disconnected are joined by their cheapest link. Groups that cannot reach each other (nodata barriers, or beyond MAX_COST_DISTANCE) are reported in the log.</li>
<li><b>Link metrics</b>: Euclidean distance (edge to edge), cost distance, path length, cost/Euclidean and cost/path ratios (Linkage Mapper's), gravity = mass_i × mass_j / cost^BETA (the cost is floored at one cell step so touching clusters get a finite gravity), strength.</li>
<li><b>Corridor surface</b>: for every link, CWD_i + CWD_j − least cost, kept up to WIDTH, mosaicked by minimum (0 on the least-cost paths) — the normalised least-cost corridor raster — and polygonised.</li>
<li><b>Corridor chains</b> join <b>places</b>, not single clusters: clusters that lie closer to each other than their own size (edge-to-edge gap at most PLACE_GAP × the sum of their radii; default 1) are one place — the microclusters of one town centre, twins, a formation-agent address beside a cluster. <b>strength</b> = d_ref / cost distance, with d_ref the median, over places, of the cost distance to the nearest other place: 1 = as close as a typical pair of neighbouring places, whatever the units of the resistance. Links with strength ≥ STRENGTH are strong. Two places are joined by their cheapest link if it is strong; a chain follows these place-to-place links by good continuation (at each place the links are paired by the smallest turning angle between the place centres, at most MAX_TURN degrees), and chains through three or more places are corridors. Inside a place a chain runs from the cluster where it arrives to the cluster where it leaves, over the place's own links. Corridors are oriented west to east and ranked by total mass, then mean strength of their links between places. in_mst marks the maximum spanning tree of the links on gravity (the backbone that keeps every cluster connected).</li>
</ol>
<h3>Parameters</h3>
<ul>
<li><b>Clusters</b> (CLUSTERS): polygons (microclusters, hotspot areas) or points (cluster centres).</li>
<li><b>Mass field</b> (MASS_FIELD, optional): number of firms, jobs… (NULL = 0). Empty: every cluster has mass 1.</li>
<li><b>Identifier field</b> (ID_FIELD, optional): written to from_id / to_id and to the chains; default the feature id.</li>
<li><b>Resistance raster</b> (RESISTANCE, optional): cost per metre of each cell (positive; <b>nodata = impassable</b>; zero or negative values are an error). Default: 1 everywhere (cost units = metres).</li>
<li><b>Density raster</b> (DENSITY, optional): creative density; cost is divided by 1 + DENSITY_WEIGHT × min(density / p95, 1) (p95 = 95th percentile of the positive cells; default weight 4: the densest cells cost 1/5). Density nodata = no firms (never a barrier).</li>
<li><b>Transport lines</b> (TRANSPORT, optional): cost × TRANSPORT_FACTOR (default 0.2) within TRANSPORT_BUFFER (default 500 m).</li>
<li><b>Stations</b> (STATIONS, optional): cost × STATION_FACTOR (default 0.5) within STATION_RADIUS (default 800 m).</li>
<li><b>Cell size</b> (CELL_SIZE, metres): 0 = the resistance (or density) raster's own cell size, or, with no raster, about 1/1000 of the clusters' extent (a round number). A grid that would not fit in memory is refused with the size it needs.</li>
<li><b>Maximum neighbours</b> (MAX_NEIGHBOURS, default 4), <b>maximum cost distance</b> (MAX_COST_DISTANCE, cost units, 0 = no limit).</li>
<li><b>Corridor width</b> (WIDTH) and <b>width mode</b> (WIDTH_MODE): 0 = WIDTH cost units above the least cost; 1 = WIDTH percent above the least cost of each link (default: 10 %).</li>
<li><b>Gravity decay</b> (BETA, default 1), <b>strength threshold</b> (STRENGTH, default 0.8: links up to 1.25 × the typical cost between neighbouring places), <b>maximum turn</b> (MAX_TURN, default 30°), <b>place gap</b> (PLACE_GAP, default 1: clusters closer than the sum of their radii are one place; 0 = only overlapping or touching clusters).</li>
</ul>
<h3>Outputs</h3>
<ul>
<li><b>Links</b> (OUTPUT_LINKS, lines along the least-cost paths): link_id, from_id, to_id, euc_dist (m), cost_dist, path_len (m), cost_euc, cost_path, gravity, strength, in_mst, strong, in_chain, corridor_id, origin (nearest / reconnect / split), split_from (the link that crossed a cluster). Styled with line width by gravity.</li>
<li><b>Corridors</b> (OUTPUT_CORRIDORS, polygons, one per chain): corridor_id, clusters (ids in order, "A &gt; B &gt; C"), n_clusters, total_mass, length_m (along the least-cost paths), mean_strength, rank (1 = largest). Styled by rank.</li>
<li><b>Corridor raster</b> (OUTPUT_RASTER, GeoTIFF): the normalised least-cost corridor value (cost units above the least cost; nodata outside every corridor).</li>
</ul>
<p>Outputs are in the analysis CRS: the resistance (or density) raster's CRS when it is projected, else the clusters' CRS.</p>
<h3>Bad input</h3>
<p>Fewer than two usable clusters is an error (no corridor is possible). Clusters outside the raster or only on nodata cells are left out with a warning. Overlapping clusters are linked with cost 0. Clusters that cannot reach each other are reported, not an error. Clusters in a geographic CRS are projected (British National Grid in Great Britain, else UTM) with a warning; rasters in another or a geographic CRS are warped onto the analysis grid with rasterio (average of the finer cells; a cell is nodata when half of it is) with a warning — set CELL_SIZE in metres then. The input layers are never modified.</p>
<p>References: McRae &amp; Kavanagh (2011) Linkage Mapper; Adriaensen et al. (2003) Landscape and Urban Planning 64; Thomson &amp; Richardson (1999) good continuation.</p>"""

    CLUSTERS = "CLUSTERS"
    MASS_FIELD = "MASS_FIELD"
    ID_FIELD = "ID_FIELD"
    RESISTANCE = "RESISTANCE"
    DENSITY = "DENSITY"
    TRANSPORT = "TRANSPORT"
    STATIONS = "STATIONS"
    CELL_SIZE = "CELL_SIZE"
    MAX_NEIGHBOURS = "MAX_NEIGHBOURS"
    MAX_COST_DISTANCE = "MAX_COST_DISTANCE"
    WIDTH = "WIDTH"
    WIDTH_MODE = "WIDTH_MODE"
    BETA = "BETA"
    STRENGTH = "STRENGTH"
    MAX_TURN = "MAX_TURN"
    PLACE_GAP = "PLACE_GAP"
    DENSITY_WEIGHT = "DENSITY_WEIGHT"
    TRANSPORT_FACTOR = "TRANSPORT_FACTOR"
    TRANSPORT_BUFFER = "TRANSPORT_BUFFER"
    STATION_FACTOR = "STATION_FACTOR"
    STATION_RADIUS = "STATION_RADIUS"
    OUTPUT_LINKS = "OUTPUT_LINKS"
    OUTPUT_CORRIDORS = "OUTPUT_CORRIDORS"
    OUTPUT_RASTER = "OUTPUT_RASTER"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        defaults = ResistanceWeights()
        double = QgsProcessingParameterNumber.Double
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.CLUSTERS, self.tr("Clusters (polygons or points)"),
                [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint],
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.MASS_FIELD, self.tr("Mass field (firms, jobs…; empty = 1 per cluster)"),
                parentLayerParameterName=self.CLUSTERS, type=QgsProcessingParameterField.Numeric, optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.ID_FIELD, self.tr("Identifier field (empty = feature id)"),
                parentLayerParameterName=self.CLUSTERS, optional=True,
            )
        )
        self.addParameter(QgsProcessingParameterRasterLayer(self.RESISTANCE, self.tr("Resistance raster (cost per metre; nodata = impassable)"), optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DENSITY, self.tr("Creative density raster (dense = cheap to cross)"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.TRANSPORT, self.tr("Transport lines (motorways, rail: cheaper nearby)"), [QgsProcessing.TypeVectorLine], optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.STATIONS, self.tr("Stations (cheaper nearby)"), [QgsProcessing.TypeVectorPoint], optional=True
            )
        )
        self.addParameter(QgsProcessingParameterNumber(self.CELL_SIZE, self.tr("Cell size (m; 0 = automatic)"), double, defaultValue=0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(self.MAX_NEIGHBOURS, self.tr("Maximum neighbours per cluster"), QgsProcessingParameterNumber.Integer, defaultValue=4, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(self.MAX_COST_DISTANCE, self.tr("Maximum cost distance (0 = no limit)"), double, defaultValue=0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(self.WIDTH, self.tr("Corridor width"), double, defaultValue=10.0, minValue=0.0))
        self.addParameter(
            QgsProcessingParameterEnum(
                self.WIDTH_MODE, self.tr("Width mode"),
                options=[self.tr("Cost units above the least cost"), self.tr("Percent above the least cost")],
                defaultValue=int(WidthMode.PERCENT),
            )
        )
        self.addParameter(QgsProcessingParameterNumber(self.BETA, self.tr("Gravity distance decay β"), double, defaultValue=1.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(self.STRENGTH, self.tr("Strength threshold for corridor chains"), double, defaultValue=0.8, minValue=0.0))
        advanced = [
            QgsProcessingParameterNumber(self.MAX_TURN, self.tr("Maximum turn of a chain at a cluster (degrees)"), double, defaultValue=30.0, minValue=0.0, maxValue=180.0),
            QgsProcessingParameterNumber(self.DENSITY_WEIGHT, self.tr("Density weight a (cost / (1 + a·density/p95))"), double, defaultValue=defaults.density_weight, minValue=0.0),
            QgsProcessingParameterNumber(self.TRANSPORT_FACTOR, self.tr("Cost multiplier near transport lines"), double, defaultValue=defaults.transport_factor, minValue=0.0001),
            QgsProcessingParameterNumber(self.TRANSPORT_BUFFER, self.tr("Transport buffer (m)"), double, defaultValue=defaults.transport_buffer, minValue=0.0),
            QgsProcessingParameterNumber(self.STATION_FACTOR, self.tr("Cost multiplier near stations"), double, defaultValue=defaults.station_factor, minValue=0.0001),
            QgsProcessingParameterNumber(self.STATION_RADIUS, self.tr("Station radius (m)"), double, defaultValue=defaults.station_radius, minValue=0.0),
            QgsProcessingParameterNumber(self.PLACE_GAP, self.tr("Place gap (clusters closer than this × the sum of their radii are one place)"), double, defaultValue=1.0, minValue=0.0),
        ]
        for parameter in advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT_LINKS, self.tr("Corridor links"), QgsProcessing.TypeVectorLine))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT_CORRIDORS, self.tr("Corridors (chains)"), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_RASTER, self.tr("Normalised least-cost corridors")))

    # ----------------------------------------------------------------------------------------------
    def _read_raster(self, parameters, name, context, feedback):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            return None
        if layer.providerType() != "gdal":
            raise QgsProcessingException(f"The {name.lower()} raster must be a file readable by GDAL (got a {layer.providerType()} layer).")
        path = layer.dataProvider().dataSourceUri()
        raster = RasterData.read(path)
        if raster.crs is None and layer.crs().isValid():
            raster.crs = layer.crs().toWkt()
            feedback.pushWarning(
                f"The {name.lower()} raster {path} has no CRS of its own: QGIS's choice for it, "
                f"{layer.crs().authid() or layer.crs().description()}, is used. Set the raster's CRS if the "
                "corridors land in the wrong place."
            )
        elif raster.crs is None:
            raise QgsProcessingException(
                f"The {name.lower()} raster {path} has no CRS, so it cannot be placed under the clusters: assign one "
                "(Raster ▸ Projections ▸ Assign Projection) and run again."
            )
        feedback.pushInfo(f"{name.title()} raster: {path} ({raster.array.shape[0]} × {raster.array.shape[1]} cells).")
        return raster

    def _read_geometries(self, parameters, name, context, feedback, crs):
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None
        table = self.read_table(source, feedback, fields=[], with_geometry=True, analysis_crs=crs, progress_range=(12, 15),
                                parameter=name)
        return list(table.geodataframe().geometry)

    def _raster_crs(self, resistance, density):
        """The analysis CRS the rasters decide (the core's rule), as a QGIS CRS; None: the clusters decide."""
        wkt = analysis_crs_wkt(resistance, density)
        crs = QgsCoordinateReferenceSystem.fromWkt(wkt) if wkt else None
        return crs if crs is not None and crs.isValid() else None

    def _read_clusters(self, source, fields, analysis_crs, feedback):
        """The cluster table in the analysis CRS (projected to the raster's CRS, with a warning, when geographic)."""
        if analysis_crs is not None and source.sourceCrs().isValid() and source.sourceCrs().isGeographic():
            feedback.pushWarning(
                f"The clusters are in a geographic CRS ({source.sourceCrs().authid()}): they are projected to the "
                f"raster's CRS ({analysis_crs.authid() or analysis_crs.description()}) for the analysis."
            )
        return self.read_table(
            source, feedback, fields=list(dict.fromkeys(f for f in fields if f)), with_geometry=True,
            analysis_crs=analysis_crs, progress_range=(2, 10), parameter=self.CLUSTERS,
        )

    def _resistance_surface(self, parameters, context, feedback, grid, resistance, density, analysis_crs):
        """The resistance on the analysis grid (rasters, transport lines, stations), with its summary logged."""
        weights = ResistanceWeights(
            density_weight=self.parameterAsDouble(parameters, self.DENSITY_WEIGHT, context),
            transport_factor=self.parameterAsDouble(parameters, self.TRANSPORT_FACTOR, context),
            transport_buffer=self.parameterAsDouble(parameters, self.TRANSPORT_BUFFER, context),
            station_factor=self.parameterAsDouble(parameters, self.STATION_FACTOR, context),
            station_radius=self.parameterAsDouble(parameters, self.STATION_RADIUS, context),
        )
        transport = self._read_geometries(parameters, self.TRANSPORT, context, feedback, analysis_crs)
        stations = self._read_geometries(parameters, self.STATIONS, context, feedback, analysis_crs)
        surface = build_resistance(
            grid, resistance=resistance, density=density, transport=transport, stations=stations, weights=weights,
            callback=self.progress_callback(feedback, 15, 20),
        )
        for warning in surface.warnings:
            feedback.pushWarning(warning)
        summary = surface.summary
        feedback.pushInfo(
            f"Resistance: {' × '.join(summary['components'])}; cost per metre min {summary['min']:.4g}, median "
            f"{summary['median']:.4g}, max {summary['max']:.4g}"
            + (f"; {summary['impassable_cells']:,} impassable (nodata) cell(s)." if summary.get("impassable_cells") else ".")
        )
        return surface

    def _corridor_options(self, parameters, context):
        """The keyword arguments of :func:`detect_corridors` read from the parameters."""
        return dict(
            max_neighbours=self.parameterAsInt(parameters, self.MAX_NEIGHBOURS, context),
            max_cost_distance=self.parameterAsDouble(parameters, self.MAX_COST_DISTANCE, context),
            width=self.parameterAsDouble(parameters, self.WIDTH, context),
            width_mode=self.parameterAsEnum(parameters, self.WIDTH_MODE, context),
            beta=self.parameterAsDouble(parameters, self.BETA, context),
            strength_threshold=self.parameterAsDouble(parameters, self.STRENGTH, context),
            max_turn=self.parameterAsDouble(parameters, self.MAX_TURN, context),
            place_gap=self.parameterAsDouble(parameters, self.PLACE_GAP, context),
        )

    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.CLUSTERS, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.CLUSTERS))
        mass_field = (self.parameterAsFields(parameters, self.MASS_FIELD, context) or [None])[0]
        id_field = (self.parameterAsFields(parameters, self.ID_FIELD, context) or [None])[0]
        cell_size = self.parameterAsDouble(parameters, self.CELL_SIZE, context)

        # --- rasters decide the analysis CRS when projected, else the clusters do
        resistance = self._read_raster(parameters, self.RESISTANCE, context, feedback)
        density = self._read_raster(parameters, self.DENSITY, context, feedback)
        feedback.setProgress(2)
        clusters = self._read_clusters(source, (mass_field, id_field), self._raster_crs(resistance, density), feedback)
        analysis_crs = clusters.analysis_crs
        crs_text = analysis_crs.toWkt() if analysis_crs.isValid() else None
        gdf = clusters.geodataframe()
        if len(clusters) < 2:
            # a chain (the shipped model) keeps going: this branch's outputs are empty, the others are written
            feedback.pushWarning(
                f"The cluster layer has {len(clusters)} cluster(s) with a geometry: a corridor joins two or more, so "
                "the outputs are empty. Find more microclusters (a smaller MIN_FIRMS or a larger EPS, or keep "
                "stacked addresses) and run again."
            )
            return self._write_empty_outputs(parameters, context, feedback, gdf, analysis_crs, crs_text, cell_size)
        geometries = list(gdf.geometry)
        if mass_field:
            masses = gdf[mass_field].tolist()
        else:
            masses = [1.0] * len(geometries)
            feedback.pushInfo("No mass field: every cluster has mass 1 (gravity then depends on cost only).")
        ids = gdf[id_field].tolist() if id_field else clusters.fids.tolist()
        self.check_cancel(feedback)

        # --- the analysis grid (the core's rules: raster grid, automatic cell size, margins) and the resistance
        grid = analysis_grid(
            tuple(gdf.total_bounds), cell_size, crs_text, resistance=resistance, density=density,
            crs_name=analysis_crs.authid() or "the analysis CRS", info=feedback.pushInfo, warning=feedback.pushWarning,
        )
        feedback.pushInfo(f"Analysis grid: {grid.height} × {grid.width} cells of {grid.cell_size:g} m in {analysis_crs.authid() or 'the layer CRS'}.")
        surface = self._resistance_surface(parameters, context, feedback, grid, resistance, density, analysis_crs)

        result = detect_corridors(
            geometries, masses, surface.values, grid, ids=ids, **self._corridor_options(parameters, context),
            callback=self.progress_callback(feedback, 20, 92), log_callback=feedback.pushInfo,
        )
        for warning in result.warnings:
            feedback.pushWarning(warning)
        self.check_cancel(feedback)
        return self._write_outputs(parameters, context, feedback, result, ids, grid, analysis_crs)

    @staticmethod
    def _link_fields(id_kind):
        link_fields = QgsFields()
        for f in (
            field("link_id", "int"), field("from_id", id_kind, 254 if id_kind == "string" else 0),
            field("to_id", id_kind, 254 if id_kind == "string" else 0), field("euc_dist", "double"),
            field("cost_dist", "double"), field("path_len", "double"), field("cost_euc", "double"),
            field("cost_path", "double"), field("gravity", "double"), field("strength", "double"),
            field("in_mst", "bool"), field("strong", "bool"), field("in_chain", "bool"), field("corridor_id", "int"),
            field("origin", "string", 12), field("split_from", "string", 254),
        ):
            link_fields.append(f)
        return link_fields

    @staticmethod
    def _corridor_fields():
        corridor_fields = QgsFields()
        for f in (
            field("corridor_id", "int"), field("clusters", "string", 254), field("n_clusters", "int"),
            field("total_mass", "double"), field("length_m", "double"), field("mean_strength", "double"), field("rank", "int"),
        ):
            corridor_fields.append(f)
        return corridor_fields

    def _write_empty_outputs(self, parameters, context, feedback, gdf, analysis_crs, crs_text, cell_size):
        """Empty links and corridors, and a corridor surface of nodata over the clusters (or one cell)."""
        links_id = self.write_geometries(parameters, self.OUTPUT_LINKS, context, feedback, self._link_fields("long"),
                                         QgsWkbTypes.LineString, analysis_crs, [])
        corridors_id = self.write_geometries(parameters, self.OUTPUT_CORRIDORS, context, feedback,
                                             self._corridor_fields(), QgsWkbTypes.MultiPolygon, analysis_crs, [])
        grid = empty_output_grid(gdf.total_bounds if len(gdf) else (0.0, 0.0, 0.0, 0.0), cell_size, crs_text)
        raster_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        write_geotiff(raster_path, np.full((grid.height, grid.width), np.nan), grid,
                      description="normalised least-cost corridor (none: fewer than two clusters)")
        feedback.setProgress(100)
        return {self.OUTPUT_LINKS: links_id, self.OUTPUT_CORRIDORS: corridors_id, self.OUTPUT_RASTER: raster_path}

    def _write_outputs(self, parameters, context, feedback, result, ids, grid, analysis_crs):
        id_kind = "long" if all(isinstance(v, int) and not isinstance(v, bool) for v in ids) else "string"
        link_fields = self._link_fields(id_kind)
        names = [link_fields.at(i).name() for i in range(link_fields.count())]

        def convert(value, kind):
            if value is None:
                return None
            return str(value) if kind == "string" else value

        links = result.links
        link_rows = []
        for _, row in links.iterrows():
            values = []
            for name in names:
                value = row[name]
                if name in ("from_id", "to_id"):
                    value = convert(value, id_kind)
                elif name == "corridor_id":
                    value = None if value != value else int(value)
                values.append(value)
            link_rows.append((QgsGeometry.fromWkt(row.geometry.wkt), values))
        links_id = self.write_geometries(
            parameters, self.OUTPUT_LINKS, context, feedback, link_fields, QgsWkbTypes.LineString, analysis_crs, link_rows
        )
        feedback.setProgress(95)

        corridor_fields = self._corridor_fields()
        corridor_rows = []
        for _, row in result.corridors.iterrows():
            geometry = QgsGeometry.fromWkt(row.geometry.wkt)
            geometry.convertToMultiType()
            corridor_rows.append(
                (geometry, [int(row.corridor_id), row.clusters, int(row.n_clusters), row.total_mass, row.length_m, row.mean_strength, int(row["rank"])])
            )
        corridors_id = self.write_geometries(
            parameters, self.OUTPUT_CORRIDORS, context, feedback, corridor_fields, QgsWkbTypes.MultiPolygon, analysis_crs, corridor_rows
        )
        if not corridor_rows:
            feedback.pushInfo(
                "No corridor chain: no three places are joined by strong links running roughly straight. Lower STRENGTH "
                "or raise MAX_TURN to relax the rule; the links layer still shows every link."
            )
        raster_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        write_geotiff(raster_path, result.surface, grid, description="normalised least-cost corridor (cost above the least cost)")
        self.style_output_on_load(context, links_id, "corridor_links")
        self.style_output_on_load(context, corridors_id, "corridors")
        self.style_output_on_load(context, raster_path, "corridor_surface")
        feedback.setProgress(100)
        return {self.OUTPUT_LINKS: links_id, self.OUTPUT_CORRIDORS: corridors_id, self.OUTPUT_RASTER: raster_path}


ALGORITHM = Corridors
