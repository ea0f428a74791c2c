"""What puts a printed map in its place: place names, the study-area outline, muted context layers, an optional
basemap, the extent a map book is about and an honest attribution line.

Shared by the atlas (:mod:`.atlas`) and the one-page hot-spot map (:mod:`.hotspot_map`). Nothing here changes
the user's layers: every style is applied as a map item's style override, made on a clone.

* **Place names** (``PLACES``): a point layer (towns, stations, localities). Its name field is detected when not
  given. Names are labelled by QGIS's labelling engine, which never lets two labels collide (a label that cannot
  be placed is dropped), in dark text with a white halo over a small dot. Atlas features without a name of their
  own are named after the place inside them (the one nearest their centre) or, failing that, the nearest place.
* **Study area** (``STUDY_AREA``): drawn as a dark dashed outline on every map. Without one, the outline of the
  (filtered) coverage: the union of its polygons when they tile an area (they cover at least half of their
  convex hull, e.g. wards), else their convex hull with a 5 % margin (clusters, corridors, points).
* **Context layers** (any layer that is not a Creative Clusters result, e.g. motorways, stations, boundaries) are
  drawn beneath the results in one muted grey style, whatever their own style.
* **Basemap** (``BASEMAP``): an XYZ tile URL with ``{x}``, ``{y}`` and ``{z}``, drawn at the bottom. Off by
  default: tiles need a network connection and carry their provider's terms (e.g. OpenStreetMap: "© OpenStreetMap
  contributors"), which the attribution line then includes.
* **Extent**: maps of the whole study area are fitted to the filtered coverage and the study area plus a margin,
  never to context layers (a GB-wide motorway layer must not zoom the cover out to Great Britain).
* Every symbol drawn is told not to clip features to the map extent (QGIS's clipping leaves empty rings in the
  PDF, which readers report as "No current point in closepath"); Qt clips to the map frame instead.
"""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import quote

from qgis.core import (
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeature,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsGeometry,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMapLayerStyle,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsRasterLayer,
    QgsRectangle,
    QgsRenderContext,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QColor, QFont

from ..core.errors import CreativeClustersError
from ..qt_compat import same_type

#: name fields of common place layers, best first (OS Open Names NAME1, ONS …NM, OSM name, our demo's name)
PLACE_NAME_FIELDS = ("name", "name1", "place_name", "placename", "place", "town", "locality", "settlement",
                     "station", "station_name", "label", "title")
STUDY_AREA_NAME = "Study area"
CONTEXT_GREY = "#9e9e9e"
OUTLINE_COLOUR = "#333333"
TILING_SHARE = 0.5  # polygons covering at least this share of their convex hull are taken as tiling an area
MARGIN = 0.05


# --- finding things ---------------------------------------------------------------------------------------
def is_result_layer(layer) -> bool:
    """True for a layer the plugin recognises as one of its results (it keeps its own style on maps)."""
    from ..styling import detect_result_type

    try:
        return detect_result_type(layer) is not None
    except Exception:  # an unusual layer type is context
        return False


def detect_place_field(layer, wanted: str = "") -> str:
    """The name field of a place layer: ``wanted`` when it exists, else a known name field, else the first text
    field. Raises when there is no text field at all."""
    names = layer.fields().names()
    lower = {n.lower(): n for n in names}
    if wanted:
        if wanted.lower() in lower:
            return lower[wanted.lower()]
        raise CreativeClustersError(f"The places layer '{layer.name()}' has no field '{wanted}'.")
    for candidate in PLACE_NAME_FIELDS:
        if candidate in lower:
            return lower[candidate]
    ons = [n for n in names if n.upper().endswith("NM")]  # ONS boundaries and centroids: WD22NM, LAD23NM …
    if ons:
        return ons[0]
    text = [f.name() for f in layer.fields() if f.typeName().lower() in ("string", "text", "varchar")
            or same_type(f.type(), "string")]
    if text:
        return text[0]
    raise CreativeClustersError(
        f"The places layer '{layer.name()}' has no text field to take place names from: choose PLACE_FIELD."
    )


def _transform(source_crs, target_crs, project):
    if not source_crs.isValid() or not target_crs.isValid() or source_crs == target_crs:
        return None
    context = project.transformContext() if project is not None else QgsCoordinateTransformContext()
    return QgsCoordinateTransform(source_crs, target_crs, context)


def place_points(places, field: str, crs, project) -> list:
    """``[(QgsPointXY in crs, name)]`` of the places with a name and a geometry."""
    transform = _transform(places.crs(), crs, project)
    index = places.fields().lookupField(field)
    request = QgsFeatureRequest().setSubsetOfAttributes([index])
    points = []
    for feature in places.getFeatures(request):
        geometry = QgsGeometry(feature.geometry())
        name = feature.attribute(index)
        if geometry.isNull() or geometry.isEmpty() or name is None or str(name).strip() in ("", "NULL"):
            continue
        if transform is not None:
            geometry.transform(transform)
        points.append((geometry.centroid().asPoint(), str(name).strip()))
    return points


def names_from_places(coverage, places, field: str, project, limit: float | None = None) -> dict:
    """``{feature id: place name}``: the place inside the feature nearest its centre, else the nearest place
    (within ``limit`` map units when given)."""
    points = place_points(places, field, coverage.crs(), project)
    if not points:
        return {}
    import numpy as np
    from scipy.spatial import cKDTree

    xy = np.array([(p.x(), p.y()) for p, _ in points])
    tree = cKDTree(xy)
    names = {}
    for feature in coverage.getFeatures(QgsFeatureRequest().setNoAttributes()):
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            continue
        centre = geometry.pointOnSurface().asPoint()
        inside = []
        if QgsWkbTypes.geometryType(geometry.wkbType()) == QgsWkbTypes.PolygonGeometry:
            box = geometry.boundingBox()
            candidates = np.flatnonzero((xy[:, 0] >= box.xMinimum()) & (xy[:, 0] <= box.xMaximum())
                                        & (xy[:, 1] >= box.yMinimum()) & (xy[:, 1] <= box.yMaximum()))
            engine = QgsGeometry.createGeometryEngine(geometry.constGet())
            engine.prepareGeometry()
            inside = [i for i in candidates if engine.contains(QgsGeometry.fromPointXY(points[i][0]).constGet())]
        if inside:
            best = min(inside, key=lambda i: math.hypot(xy[i, 0] - centre.x(), xy[i, 1] - centre.y()))
        else:
            distance, best = tree.query([centre.x(), centre.y()])
            if limit is not None and distance > limit:
                continue
        names[feature.id()] = points[int(best)][1]
    return names


# --- the study area -----------------------------------------------------------------------------------------
def _filtered_geometries(coverage, filter_expression: str = ""):
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(coverage))
    expression = QgsExpression(filter_expression) if filter_expression else None
    if expression is not None:
        expression.prepare(context)
    for feature in coverage.getFeatures():
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            continue
        if expression is not None:
            context.setFeature(feature)
            if not expression.evaluate(context):
                continue
        yield geometry


def coverage_outline(coverage, filter_expression: str = "") -> tuple[QgsGeometry, str]:
    """The outline of the (filtered) coverage and how it was made (see the module docstring)."""
    geometries = list(_filtered_geometries(coverage, filter_expression))
    if not geometries:
        raise CreativeClustersError(f"The layer '{coverage.name()}' has no geometry to outline.")
    union = QgsGeometry.unaryUnion(geometries)
    hull = union.convexHull()
    if _tiles(coverage, union, hull):
        return union, f"the outline of the {len(geometries):,} features of '{coverage.name()}'"
    size = max(hull.boundingBox().width(), hull.boundingBox().height(), 1.0)
    return hull.buffer(MARGIN * size, 16), f"the area around the features of '{coverage.name()}' (convex hull)"


#: result types that never tile a study area (clusters and corridors are islands within it)
ISLAND_RESULTS = ("microclusters", "corridors", "corridor_links", "classified_firms", "stacks")


def _tiles(coverage, union, hull) -> bool:
    from ..styling import detect_result_type

    polygons = QgsWkbTypes.geometryType(coverage.wkbType()) == QgsWkbTypes.PolygonGeometry
    if not polygons or detect_result_type(coverage) in ISLAND_RESULTS:
        return False
    return hull.area() > 0 and union.area() >= TILING_SHARE * hull.area()


def coverage_tiles_area(coverage, filter_expression: str = "") -> bool:
    """True when the (filtered) coverage polygons cover an area (wards, MSOAs, a fishnet), so that totals over
    them are the study area's; False for clusters, corridors, points and lines."""
    geometries = list(_filtered_geometries(coverage, filter_expression))
    if not geometries:
        return False
    union = QgsGeometry.unaryUnion(geometries)
    return _tiles(coverage, union, union.convexHull())


def study_area_layer(coverage, study_area=None, filter_expression: str = "", project=None) -> tuple:
    """A memory layer (coverage CRS) holding the study-area outline, styled as a dashed line, and a description."""
    crs = coverage.crs()
    if study_area is not None:
        geometries = []
        transform = _transform(study_area.crs(), crs, project)
        for feature in study_area.getFeatures(QgsFeatureRequest().setNoAttributes()):
            geometry = QgsGeometry(feature.geometry())
            if geometry.isNull() or geometry.isEmpty():
                continue
            if transform is not None:
                geometry.transform(transform)
            geometries.append(geometry.makeValid())
        if not geometries:
            raise CreativeClustersError(f"The study area layer '{study_area.name()}' has no polygon.")
        outline, how = QgsGeometry.unaryUnion(geometries), f"'{study_area.name()}'"
    else:
        outline, how = coverage_outline(coverage, filter_expression)
    layer = QgsVectorLayer(f"MultiPolygon?crs={crs.authid()}", STUDY_AREA_NAME, "memory")
    if not crs.authid():
        layer.setCrs(crs)
    feature = QgsFeature()
    outline.convertToMultiType()
    feature.setGeometry(outline)
    layer.dataProvider().addFeatures([feature])
    layer.updateExtents()
    symbol = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": OUTLINE_COLOUR,
                                         "outline_width": "0.5", "outline_style": "dash"})
    symbol.setClipFeaturesToExtent(False)
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    return layer, how


# --- styles (map item overrides, made on clones) ---------------------------------------------------------------
def _style_of(layer) -> str:
    style = QgsMapLayerStyle()
    style.readFromLayer(layer)
    return style.xmlData()


def _unclip(renderer):
    if renderer is None:
        return
    for symbol in renderer.symbols(QgsRenderContext()):
        symbol.setClipFeaturesToExtent(False)


def unclipped_style_xml(layer) -> str | None:
    """The layer's own style with clipping to the map extent switched off (see the module docstring)."""
    if layer is None or layer.type() != QgsMapLayer.VectorLayer or layer.renderer() is None:
        return None
    clone = layer.clone()
    try:
        _unclip(clone.renderer())
        return _style_of(clone)
    finally:
        del clone


def muted_renderer(layer):
    """One light grey symbol for a context layer of any geometry."""
    kind = QgsWkbTypes.geometryType(layer.wkbType())
    if kind == QgsWkbTypes.PointGeometry:
        symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": "#bdbdbd", "outline_color": "#8a8a8a",
                                               "outline_width": "0.1", "size": "1.4"})
    elif kind == QgsWkbTypes.LineGeometry:
        symbol = QgsLineSymbol.createSimple({"color": CONTEXT_GREY, "width": "0.35"})
    else:
        symbol = QgsFillSymbol.createSimple({"color": "#ecebe7", "outline_color": "#b5b5b5", "outline_width": "0.15"})
    symbol.setClipFeaturesToExtent(False)
    return QgsSingleSymbolRenderer(symbol)


def muted_style_xml(layer) -> str:
    clone = layer.clone()
    try:
        clone.setRenderer(muted_renderer(clone))
        clone.setLabelsEnabled(False)
        return _style_of(clone)
    finally:
        del clone


def halo_text_format(size: float, colour: str, bold: bool = False, italic: bool = False, halo: float = 0.9,
                     halo_alpha: int = 235) -> QgsTextFormat:
    """Dark map text with a white halo, readable over any map (place names, feature labels)."""
    text = QgsTextFormat()
    font = QFont()
    font.setBold(bold)
    font.setItalic(italic)
    text.setFont(font)
    text.setSize(size)
    text.setColor(QColor(colour))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(halo)
    buffer.setColor(QColor(255, 255, 255, halo_alpha))
    text.setBuffer(buffer)
    return text


def place_label_settings(field: str, size: float = 7.5) -> QgsPalLayerSettings:
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.isExpression = False
    settings.placement = QgsPalLayerSettings.OrderedPositionsAroundPoint
    settings.dist = 1.0
    settings.setFormat(halo_text_format(size, "#2b2b2b", italic=True))
    settings.displayAll = False  # the labelling engine drops a label rather than let two collide
    settings.priority = 5
    return settings


def places_style_xml(places, field: str, size: float = 7.5) -> str:
    clone = places.clone()
    try:
        symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": "#3a3a3a", "outline_color": "#ffffff",
                                               "outline_width": "0.3", "size": "1.5"})
        symbol.setClipFeaturesToExtent(False)
        clone.setRenderer(QgsSingleSymbolRenderer(symbol))
        clone.setLabeling(QgsVectorLayerSimpleLabeling(place_label_settings(field, size)))
        clone.setLabelsEnabled(True)
        return _style_of(clone)
    finally:
        del clone


# --- basemap -------------------------------------------------------------------------------------------------
def basemap_layer(url: str, name: str = "Basemap") -> QgsRasterLayer:
    """An XYZ tile layer for ``url`` (``…/{z}/{x}/{y}.png``); raises for a URL without the three placeholders."""
    url = (url or "").strip()
    if not all(token in url for token in ("{x}", "{y}", "{z}")):
        raise CreativeClustersError(
            "The basemap must be an XYZ tile URL with {x}, {y} and {z}, e.g. "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png (check the provider's terms of use)."
        )
    source = f"type=xyz&url={quote(url, safe=':/{}')}&zmax=19&zmin=0"
    layer = QgsRasterLayer(source, name, "wms")
    if not layer.isValid():
        raise CreativeClustersError(f"QGIS could not open the basemap tiles at {url}.")
    return layer


# --- extent and attribution ---------------------------------------------------------------------------------
def extent_with_margin(rectangles, margin: float = MARGIN) -> QgsRectangle:
    extent = QgsRectangle()
    extent.setMinimal()
    for rectangle in rectangles:
        if rectangle is not None and not rectangle.isNull() and rectangle.isFinite():
            extent.combineExtentWith(rectangle)
    if extent.isNull() or not extent.isFinite() or extent.width() < 0:
        return QgsRectangle(0, 0, 1, 1)
    size = max(extent.width(), extent.height(), 1.0)
    if extent.width() == 0 or extent.height() == 0:
        extent.grow(size * 0.5 if size > 1 else 500.0)
    extent.grow(margin * size)
    return extent


def subject_extent(coverage, filter_expression="", study_area_outline=None) -> QgsRectangle:
    """The (filtered) coverage and the study area, plus a margin: what whole-area maps are fitted to."""
    boxes = [g.boundingBox() for g in _filtered_geometries(coverage, filter_expression)]
    if study_area_outline is not None:
        boxes.append(study_area_outline.extent())
    return extent_with_margin(boxes)


def layer_credits(layers) -> list:
    """Rights and licences from the layers' QGIS metadata (Layer Properties > Metadata), without repeats."""
    credits = []
    for layer in layers:
        if layer is None:
            continue
        metadata = layer.metadata()
        for text in list(metadata.rights()) + list(metadata.licenses()):
            text = (text or "").strip()
            if text and text not in credits:
                credits.append(text)
    return credits


def attribution_text(layers, attribution: str = "", basemap_attribution: str = "", year: int | None = None) -> str:
    """The attribution line: the ``attribution`` text (``{year}`` replaced by the current year), the layers'
    metadata rights and licences, and the basemap's credit — nothing invented."""
    year = year or dt.date.today().year
    parts = []
    if attribution and attribution.strip():
        parts.append(attribution.strip().replace("{year}", str(year)))
    for credit in layer_credits(layers):
        credit = credit.replace("{year}", str(year))
        if not any(credit in part for part in parts):
            parts.append(credit)
    if basemap_attribution and basemap_attribution.strip():
        parts.append(f"Basemap: {basemap_attribution.strip()}")
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


__all__ = [
    "attribution_text",
    "basemap_layer",
    "coverage_outline",
    "detect_place_field",
    "extent_with_margin",
    "is_result_layer",
    "layer_credits",
    "muted_style_xml",
    "names_from_places",
    "place_points",
    "places_style_xml",
    "study_area_layer",
    "subject_extent",
    "unclipped_style_xml",
]
