"""The creative-cluster atlas: a QgsPrintLayout + QgsLayoutAtlas built from a ``.qpt`` template.

Design (why one atlas gives cover + overview + feature pages in one PDF)
-----------------------------------------------------------------------
The template has three pages: cover, overview, feature page. The cover and overview pages carry the
data-defined *exclude from exports* property ``@atlas_featurenumber > 1``, so the atlas exporter writes
all three pages for the first feature and only the feature page for every later one: the single PDF
written by ``QgsLayoutExporter.exportToPdf(atlas, path, settings, feedback)`` reads cover, overview, then
one page per (filtered, sorted) coverage feature. No PDF merging tool (``pdfunite``, pypdf) is needed, so
this works in a desktop QGIS on Windows too, and QGIS's own ``native:atlaslayouttopdf`` produces the same
document from the same layout. Switching the cover or overview off excludes its page always.

Every page's text comes from layout variables (``@cc_title``, ``@cc_name_expression`` …) so the shipped
templates are generic and a user-edited template (saved from the layout designer) works as long as it
keeps the item ids (``cc_main_map``, ``cc_legend`` …); items it lacks are skipped.

Export runs on the main thread — layouts are ``QGraphicsScene`` objects and QGIS's own exporters and
``native:atlaslayouttopdf`` run there too. Progress and cancel come through a ``QgsFeedback`` between
pages; the dock keeps the UI alive with an application-modal progress dialog (as QGIS's layout designer
does), the Processing algorithm with ``FlagNoThreading``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Sequence

from qgis.core import (
    QgsCoordinateTransform,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsCentroidFillSymbolLayer,
    QgsFillSymbol,
    QgsGeometry,
    QgsLayerTreeLayer,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutObject,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMapLayerStyle,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsPrintLayout,
    QgsProject,
    QgsProperty,
    QgsReadWriteContext,
    QgsRectangle,
    QgsRenderContext,
    QgsRuleBasedRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtXml import QDomDocument

from ..core.atomic_files import publish
from ..core.errors import CancelledError, CreativeClustersError
from ..core.subsectors import SUBSECTORS
from ..resources_path import resource
from ..styling.palettes import GI_BIN_CLASSES
from ..styling.renderers import find_field
from . import template_builder
from .template_builder import FRONT_PAGE_EXCLUDE

DEFAULT_ATTRIBUTION = (
    "Contains Companies House data licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025 (Code-Point Open). "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0; "
    "contains National Statistics data © Crown copyright and database right 2025 (boundaries)."
)
DEFAULT_TITLE = "Creative clusters atlas"
MAX_TITLE_CHARS = 90
HIGHLIGHT_NAME = "Creative Clusters atlas highlight"


@dataclass
class AtlasSettings:
    """Everything the atlas dock and ``creativeclusters:exportatlas`` let the user choose."""

    title: str = DEFAULT_TITLE
    subtitle: str = ""
    page_size: str = "A4"  # "A4" or "A3"
    orientation: str = "landscape"  # "landscape" or "portrait"
    layers: Sequence[QgsMapLayer] | None = None  # top first; None: the coverage layer alone
    filter_expression: str = ""
    sort_expression: str = ""
    sort_ascending: bool = True
    name_expression: str = ""  # page titles; empty: guessed from the fields
    attribution: str = DEFAULT_ATTRIBUTION
    template: str | os.PathLike | None = None  # a .qpt; None: the shipped one for the page size
    margin: float = 0.25  # atlas margin around polygons / lines (fraction of the feature's extent)
    point_buffer: float | None = None  # map half-width around a point feature (map units); None: automatic
    cover: bool = True
    overview: bool = True
    layout_name: str = ""
    # context and front/back matter (issue 10)
    places: QgsVectorLayer | None = None  # point layer of place names, labelled and used to name features
    place_field: str = ""  # its name field; empty: detected
    study_area: QgsVectorLayer | None = None  # polygons outlined on every map; None: the coverage's outline
    basemap_url: str = ""  # optional XYZ tile URL ({x}, {y}, {z}); empty: no basemap
    basemap_attribution: str = ""  # credit line for the basemap tiles
    organisation: str = ""
    author: str = ""
    logo: str | os.PathLike | None = None  # image file for the cover
    contents: bool = True
    summary: bool = True
    methods: bool = True


@dataclass
class AtlasBuild:
    """A built atlas layout and what the builder found out."""

    layout: QgsPrintLayout
    coverage: QgsVectorLayer
    feature_count: int
    helper: QgsVectorLayer | None
    front_pages: int
    warnings: list = dataclass_field(default_factory=list)

    @property
    def page_count(self) -> int:
        return self.feature_count + self.front_pages


# --- guessing names and figures from the fields ---------------------------------------------------------
def feature_words(layer) -> tuple[str, str]:
    """Singular and plural word for the coverage features (for titles)."""
    if find_field(layer, "corridor_id"):
        return "corridor", "corridors"
    if find_field(layer, "dominant_subsector", "cc_cluster_id"):
        return "microcluster", "microclusters"
    gtype = QgsWkbTypes.geometryType(layer.wkbType())
    if gtype == QgsWkbTypes.PolygonGeometry:
        return "area", "areas"
    if gtype == QgsWkbTypes.PointGeometry:
        return "location", "locations"
    if gtype == QgsWkbTypes.LineGeometry:
        return "link", "links"
    return "feature", "features"


def _quoted(name):
    return QgsExpression.quotedColumnRef(name)


def guess_name_expression(layer) -> str:
    """Expression giving each feature's display name: a name field, else a numbered id, else the page number."""
    names = layer.fields().names()
    for candidate in ("area_name", "name", "cluster_name", "corridor_name", "cc_name", "title", "label"):
        hit = find_field(layer, candidate)
        if hit:
            return f"coalesce(to_string({_quoted(hit)}), 'Unnamed ' || @atlas_featurenumber)"
    ons = [n for n in names if n.upper().endswith("NM") and len(n) <= 10]  # ONS boundaries: WD22NM, LAD23NM …
    if ons:
        return f"coalesce(to_string({_quoted(ons[0])}), 'Unnamed ' || @atlas_featurenumber)"
    for candidate, word in (("cc_cluster_id", "Microcluster"), ("corridor_id", "Corridor"), ("area_id", "Area")):
        hit = find_field(layer, candidate)
        if hit:
            return f"'{word} ' || coalesce(to_string({_quoted(hit)}), @atlas_featurenumber)"
    singular = feature_words(layer)[0].capitalize()
    return f"'{singular} ' || @atlas_featurenumber"


def _truncated(expression, limit=MAX_TITLE_CHARS):
    """Wrap a text expression so very long names are cut with an ellipsis instead of overflowing the title."""
    return (
        f"with_variable('cc_n', to_string({expression}), "
        f"if(length(@cc_n) > {limit}, left(@cc_n, {limit - 1}) || '…', @cc_n))"
    )


def _num(name, places=0):
    return f"coalesce(format_number({_quoted(name)}, {places}), '–')"


def summary_lines(layer) -> list[tuple[str, str]]:
    """(caption, expression) pairs of the key figures the coverage layer can show, best first."""
    f = lambda *names: find_field(layer, *names)  # noqa: E731
    lines = []
    firms = f("n_all", "n_firms")
    creative = f("n_creative")
    if firms:
        lines.append(("Firms", _num(firms)))
    if creative:
        expr = _num(creative)
        if firms:
            expr += (f" || if(coalesce({_quoted(firms)}, 0) > 0, ' (' || format_number(100.0 * {_quoted(creative)}"
                     f" / {_quoted(firms)}, 1) || ' %)', '')")
        lines.append(("Creative firms", expr))
    lq = f("lq_creative")
    if lq:
        expr = f"coalesce(format_number({_quoted(lq)}, 2), '–')"
        lo, hi = f("lq_creative_lo"), f("lq_creative_hi")
        if lo and hi:
            expr += (f" || if({_quoted(lo)} is not null and {_quoted(hi)} is not null, ' (95% CI ' || "
                     f"format_number({_quoted(lo)}, 2) || '–' || format_number({_quoted(hi)}, 2) || ')', '')")
        lines.append(("Location quotient (creative)", expr))
    gi_bin = f("Gi_Bin")
    if gi_bin:
        cases = " ".join(f"WHEN {_quoted(gi_bin)} = {value} THEN '{label}'" for value, label, _ in GI_BIN_CLASSES)
        expr = f"CASE {cases} ELSE 'not tested (no neighbours)' END"
        z = f("GiZScore")
        if z:
            expr += f" || if({_quoted(z)} is not null, ' (z = ' || format_number({_quoted(z)}, 2) || ')', '')"
        lines.append(("Gi* class", expr))
    elif f("GiZScore"):
        lines.append(("Gi* z-score", f"coalesce(format_number({_quoted(f('GiZScore'))}, 2), '–')"))
    cotype = f("COType")
    if cotype:
        lines.append(("Local Moran type", f"if(coalesce({_quoted(cotype)}, '') = '', 'not significant', {_quoted(cotype)})"))
    dominant = f("dominant_subsector")
    if dominant:
        lines.append(("Dominant sub-sector", f"coalesce(to_string({_quoted(dominant)}), '–')"))
    counts = [(f(f"n_{code}"), name) for code, name in SUBSECTORS.items() if f(f"n_{code}")]
    if len(counts) >= 2:
        # zero-padded count (×100) || '|' || name, sorted descending as text, top 3, shown as "name (count)"
        items = ", ".join(
            f"lpad(to_string(to_int(round(coalesce({_quoted(col)}, 0) * 100))), 12, '0') || '|{name}'"
            for col, name in counts
        )
        expr = (
            "coalesce(array_to_string(array_foreach(array_slice(array_sort(array_filter(array(" + items + "), "
            "to_int(left(@element, 12)) > 0), false), 0, 2), "
            "'  ' || substr(@element, 14) || ' (' || format_number(to_int(left(@element, 12)) / 100.0, 0) || ')'), "
            "'\\n'), '')"
        )
        lines.append(("Top creative sub-sectors", expr))
    for caption, names, places in (("Nesta 2018 cluster", ("cc_nesta2018",), None), ("Rank", ("rank",), 0),
                                   ("Clusters in corridor", ("n_clusters",), 0), ("Area (ha)", ("area_ha",), 1),
                                   ("Firms per ha", ("density_ha", "firms_per_ha"), 1),
                                   ("Herfindahl index", ("herfindahl",), 3)):
        hit = f(*names)
        if not hit:
            continue
        if places is None:
            lines.append((caption, f"if({_quoted(hit)}, 'yes', 'no')"))
        else:
            lines.append((caption, _num(hit, places)))
    if not lines:  # any layer: its first numeric fields
        for fld in layer.fields():
            if fld.isNumeric() and fld.name().lower() not in ("fid", "id", "ogc_fid"):
                lines.append((fld.name(), _num(fld.name(), 2 if fld.type() == QVariant.Double else 0)))
            if len(lines) >= 6:
                break
    return lines


def summary_expression(layer) -> str:
    """One expression giving the key-figure text of a feature ("Caption: value" lines)."""
    lines = summary_lines(layer)
    if not lines:
        return "'No figures available for this feature.'"
    parts = []
    for caption, expr in lines:
        if caption == "Top creative sub-sectors":
            parts.append(f"if(({expr}) <> '', '{caption}:\\n' || ({expr}), '')")
        else:
            parts.append(f"'{caption}: ' || ({expr})")
    return " || '\\n' || ".join(parts)


# --- validation -------------------------------------------------------------------------------------------
def _check_expression(text, layer, what):
    expression = QgsExpression(text)
    if expression.hasParserError():
        raise CreativeClustersError(f"The {what} expression is not valid: {expression.parserErrorString()}")
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    expression.prepare(context)
    missing = [c for c in expression.referencedColumns() if c and c != QgsFeatureRequest.ALL_ATTRIBUTES
               and layer.fields().lookupField(c) < 0]
    if missing:
        raise CreativeClustersError(
            f"The {what} expression uses field(s) {', '.join(missing)} that the layer '{layer.name()}' does not have."
        )
    for feature in layer.getFeatures(QgsFeatureRequest().setLimit(50)):  # errors that only evaluation shows
        context.setFeature(feature)
        expression.evaluate(context)
        if expression.hasEvalError():
            raise CreativeClustersError(
                f"The {what} expression cannot be evaluated on the layer '{layer.name()}': "
                f"{expression.evalErrorString()}"
            )
    return expression


def check_coverage(layer) -> None:
    if layer is None or not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        raise CreativeClustersError("Choose a valid vector layer as the atlas coverage layer.")
    if QgsWkbTypes.geometryType(layer.wkbType()) not in (
        QgsWkbTypes.PolygonGeometry, QgsWkbTypes.PointGeometry, QgsWkbTypes.LineGeometry
    ):
        raise CreativeClustersError(
            f"The coverage layer '{layer.name()}' has no geometries: an atlas needs polygons, lines or points."
        )


def check_output_path(path) -> Path:
    """Make sure a PDF can be written at ``path`` (creating missing folders); returns the normalised path."""
    if path is None or str(path).strip() == "":
        raise CreativeClustersError("Choose an output PDF file.")
    path = Path(str(path)).expanduser()
    if path.is_dir():
        raise CreativeClustersError(f"The output {path} is a folder: give a PDF file name.")
    if path.suffix.lower() != ".pdf":
        path = path.with_name(path.name + ".pdf")
    if path.is_dir():
        raise CreativeClustersError(f"The output {path} is a folder: give a PDF file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CreativeClustersError(
            f"Cannot write the PDF to {path}: the folder {path.parent} cannot be created ({error.strerror or error})."
        ) from error
    try:
        handle, probe = tempfile.mkstemp(prefix=".cc-write-test-", suffix=".pdf", dir=str(path.parent))
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise CreativeClustersError(
            f"Cannot write the PDF to {path}: the folder {path.parent} is not writable ({error.strerror or error})."
        ) from error
    if path.exists() and not os.access(path, os.W_OK):
        raise CreativeClustersError(f"Cannot overwrite {path}: the file is read-only or open in another program.")
    return path


# --- geometry helpers -----------------------------------------------------------------------------------
def _layer_extent_in(layer, crs, project):
    extent = QgsRectangle(layer.extent())
    if extent.isNull() or not extent.isFinite():
        return None
    if layer.crs().isValid() and crs.isValid() and layer.crs() != crs:
        try:
            transform = QgsCoordinateTransform(layer.crs(), crs, project.transformContext())
            extent = transform.transformBoundingBox(extent)
        except Exception:  # a layer that cannot be transformed does not define the study area
            return None
    return extent if extent.isFinite() else None


def study_extent(layers, crs, project, coverage=None) -> QgsRectangle:
    """Union of the vector layers' extents (the coverage's at least) in ``crs``, with a 5 % margin."""
    extent = QgsRectangle()
    extent.setMinimal()
    candidates = [coverage] if coverage is not None else []
    candidates += [lyr for lyr in layers if lyr is not None and lyr.type() == QgsMapLayer.VectorLayer]
    for layer in candidates:
        part = _layer_extent_in(layer, crs, project)
        if part is not None and not part.isNull():
            extent.combineExtentWith(part)
    if extent.isNull() or not extent.isFinite() or extent.width() < 0:
        extent = QgsRectangle(0, 0, 1, 1)
    size = max(extent.width(), extent.height(), 1.0)
    if extent.width() == 0 or extent.height() == 0:
        extent.grow(size * 0.5 if size > 1 else 500.0)
    extent.grow(0.05 * size)
    return extent


def automatic_point_buffer(layer) -> float:
    """Half-width of the map around a point feature: half the median nearest-neighbour spacing, ≥ 300 m."""
    import numpy as np

    geographic = layer.crs().isGeographic()
    floor = 0.003 if geographic else 300.0
    points = []
    request = QgsFeatureRequest().setNoAttributes().setLimit(5000)
    for feature in layer.getFeatures(request):
        geometry = feature.geometry()
        if geometry is None or geometry.isEmpty():
            continue
        point = geometry.centroid().asPoint()
        points.append((point.x(), point.y()))
    if len(points) < 2:
        return floor * 2
    xy = np.asarray(points)
    nearest = []
    for i in range(min(len(xy), 2000)):
        d = np.hypot(*(xy - xy[i]).T)
        d[i] = np.inf
        nearest.append(d.min())
    spacing = float(np.median(nearest))
    return max(floor, spacing / 2.0) if math.isfinite(spacing) else floor * 2


# --- the highlight helper layer -----------------------------------------------------------------------------
def _helper_symbols(gtype, mode):
    """Symbols of the helper layer: "current" outline on the main map, "inset" red fill, "all" thin outline."""
    if gtype == QgsWkbTypes.PointGeometry:
        if mode == "inset":
            return QgsMarkerSymbol.createSimple({"name": "circle", "color": "#e31a1c", "outline_color": "#ffffff",
                                                  "size": "2.6"})
        size = "6" if mode == "current" else "3"
        return QgsMarkerSymbol.createSimple({"name": "circle", "color": "0,0,0,0", "outline_color": "#1a1a1a",
                                              "outline_width": "0.6" if mode == "current" else "0.3", "size": size})
    if gtype == QgsWkbTypes.LineGeometry:
        colour = "#e31a1c" if mode == "inset" else "#1a1a1a"
        width = "1.2" if mode != "all" else "0.3"
        symbol = QgsLineSymbol.createSimple({"color": colour, "width": width})
        symbol.setOpacity(0.6 if mode == "current" else 1.0)
        return symbol
    if mode == "inset":
        # a small area disappears on the study-area inset: add a marker on its centroid
        symbol = QgsFillSymbol.createSimple({"color": "#e31a1c", "outline_color": "#e31a1c", "outline_width": "0.3"})
        centroid = QgsCentroidFillSymbolLayer()
        centroid.setSubSymbol(QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": "#e31a1c", "outline_color": "#ffffff", "outline_width": "0.4", "size": "2.8"}))
        symbol.appendSymbolLayer(centroid)
        return symbol
    return QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "#1a1a1a", "outline_style": "solid",
                                        "outline_width": "0.8" if mode == "current" else "0.25"})


def _rule_renderer(gtype, mode, expression):
    root = QgsRuleBasedRenderer.Rule(None)
    rule = QgsRuleBasedRenderer.Rule(_helper_symbols(gtype, mode), 0, 0, expression, "")
    root.appendChild(rule)
    return QgsRuleBasedRenderer(root)


def _label_settings(scale=1.0):
    settings = QgsPalLayerSettings()
    settings.fieldName = "cc_label"
    settings.isExpression = False
    text = QgsTextFormat()
    font = QFont()
    font.setBold(True)
    text.setFont(font)
    text.setSize(7.0 * scale)
    text.setColor(QColor("#1a1a1a"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor(255, 255, 255, 230))
    text.setBuffer(buffer)
    settings.setFormat(text)
    settings.dataDefinedProperties().setProperty(QgsPalLayerSettings.Show, QgsProperty.fromExpression('"cc_in_atlas" = 1'))
    settings.displayAll = False
    settings.obstacle = False
    return settings


def build_helper_layer(coverage, name_expression, filter_expression, project):
    """A memory copy of the coverage geometries (``cc_fid``, ``cc_label``, ``cc_in_atlas``) that draws the
    current atlas feature's outline on the main map, a red locator on the inset and the labels of every atlas
    feature on the overview page — without touching the user's coverage layer or its style."""
    gtype = QgsWkbTypes.geometryType(coverage.wkbType())
    geometry_name = {QgsWkbTypes.PointGeometry: "MultiPoint", QgsWkbTypes.LineGeometry: "MultiLineString"}.get(
        gtype, "MultiPolygon"
    )
    helper = QgsVectorLayer(f"{geometry_name}?crs={coverage.crs().authid() or ''}", HIGHLIGHT_NAME, "memory")
    if not coverage.crs().authid():
        helper.setCrs(coverage.crs())
    provider = helper.dataProvider()
    provider.addAttributes([QgsField("cc_fid", QVariant.LongLong), QgsField("cc_label", QVariant.String),
                            QgsField("cc_in_atlas", QVariant.Int)])
    helper.updateFields()
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(coverage))
    label_expr = QgsExpression(name_expression)
    label_expr.prepare(context)
    filter_expr = QgsExpression(filter_expression) if filter_expression else None
    if filter_expr is not None:
        filter_expr.prepare(context)
    features = []
    for feature in coverage.getFeatures():
        geometry = feature.geometry()
        if geometry is None or geometry.isEmpty():
            continue
        context.setFeature(feature)
        in_atlas = True if filter_expr is None else bool(filter_expr.evaluate(context))
        label = label_expr.evaluate(context)
        out = QgsFeature(helper.fields())
        out_geometry = QgsGeometry(geometry)
        out_geometry.convertToMultiType()
        out.setGeometry(out_geometry)
        out.setAttributes([feature.id(), None if label is None else str(label), 1 if in_atlas else 0])
        features.append(out)
    provider.addFeatures(features)
    helper.updateExtents()
    helper.setRenderer(_rule_renderer(gtype, "current", '"cc_fid" = @atlas_featureid'))
    return helper


def _style_xml(helper, renderer, labeling=None) -> str:
    """The QgsMapLayerStyle XML of ``helper`` with another renderer/labels, for a map item's style override."""
    saved = QgsMapLayerStyle()
    saved.readFromLayer(helper)
    helper.setRenderer(renderer)
    if labeling is not None:
        helper.setLabeling(labeling)
        helper.setLabelsEnabled(True)
    style = QgsMapLayerStyle()
    style.readFromLayer(helper)
    saved.writeToLayer(helper)
    return style.xmlData()


def _neutral_style_xml(layer) -> str:
    """Style XML drawing ``layer`` as light grey context, made on a clone so the user's layer is untouched."""
    from qgis.core import QgsSingleSymbolRenderer

    clone = layer.clone()
    try:
        clone.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
            {"color": "#e9e9e6", "outline_color": "#bdbdbd", "outline_width": "0.1"})))
        clone.setLabelsEnabled(False)
        style = QgsMapLayerStyle()
        style.readFromLayer(clone)
        return style.xmlData()
    finally:
        del clone


# --- building the layout ---------------------------------------------------------------------------------
def template_path(settings: AtlasSettings) -> Path:
    if settings.template:
        path = Path(settings.template)
        if not path.is_file():
            raise CreativeClustersError(f"The layout template {path} does not exist.")
        return path
    return resource("templates", template_builder.template_name(settings.page_size, settings.orientation))


def load_template(project, settings: AtlasSettings) -> QgsPrintLayout:
    """A layout from the user's or the shipped ``.qpt`` (built in code when the shipped file is missing)."""
    path = template_path(settings)
    layout = QgsPrintLayout(project)
    if not path.is_file() and not settings.template:
        return template_builder.build_template_layout(project, settings.page_size, settings.orientation)
    document = QDomDocument()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CreativeClustersError(f"Cannot read the layout template {path}: {error}") from error
    parsed = document.setContent(text)  # PyQt returns (ok, message, line, column)
    ok = parsed[0] if isinstance(parsed, tuple) else bool(parsed)
    if not ok:
        where = f" (line {parsed[2]}: {parsed[1]})" if isinstance(parsed, tuple) and len(parsed) >= 3 else ""
        raise CreativeClustersError(f"The layout template {path} is not a valid .qpt (XML) file{where}.")
    _, ok = layout.loadFromTemplate(document, QgsReadWriteContext(), True)
    if not ok:
        raise CreativeClustersError(f"QGIS could not load the layout template {path}.")
    if layout.pageCollection().pageCount() == 0:
        raise CreativeClustersError(f"The layout template {path} has no pages.")
    return layout


def _item(layout, item_id, kind=None):
    item = layout.itemById(item_id)
    if item is None or (kind is not None and not isinstance(item, kind)):
        return None
    return item


def _set_legend_layers(legend, layers):
    if legend is None:
        return
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.removeAllChildren()
    entries = 0
    for layer in layers:
        root.addChildNode(QgsLayerTreeLayer(layer))
        entries += 1
        renderer = layer.renderer() if layer.type() == QgsMapLayer.VectorLayer else None
        if renderer is not None:
            entries += max(len(renderer.legendSymbolItems()), 1)
        else:
            entries += 3
    # a wide legend far too short for one entry per line (about 4 mm each) gets a second column; the legend
    # is filtered by the map content, so most pages show fewer entries than all the layers' classes
    lines = max(int((legend.rect().height() - 8.0) / 4.2), 1)
    legend.setColumnCount(2 if entries > 1.5 * lines and legend.rect().width() >= 110.0 else 1)
    legend.setSplitLayer(True)
    legend.setEqualColumnWidth(True)
    legend.updateLegend()


def build_atlas(coverage, settings: AtlasSettings | None = None, project=None) -> AtlasBuild:
    """Build the atlas layout for ``coverage`` (not added to any layout manager).

    Raises ``CreativeClustersError`` for a coverage layer without geometries, invalid filter / sort / name
    expressions, a missing template and a coverage with no feature left after the filter.
    """
    settings = settings or AtlasSettings()
    project = project or QgsProject.instance()
    check_coverage(coverage)
    if settings.page_size.upper() not in template_builder.PAGE_SIZES:
        raise CreativeClustersError(f"Page size must be A4 or A3, not '{settings.page_size}'.")
    if settings.orientation.lower() not in template_builder.ORIENTATIONS:
        raise CreativeClustersError(f"Orientation must be landscape or portrait, not '{settings.orientation}'.")
    warnings = []
    filter_text = (settings.filter_expression or "").strip()
    sort_text = (settings.sort_expression or "").strip()
    if filter_text:
        _check_expression(filter_text, coverage, "filter")
    if sort_text:
        _check_expression(sort_text, coverage, "sort")
    name_text = (settings.name_expression or "").strip() or guess_name_expression(coverage)
    _check_expression(name_text.replace("@atlas_featurenumber", "1"), coverage, "page name")

    layers = [lyr for lyr in (settings.layers or []) if lyr is not None and lyr.isValid()]
    if not layers:
        layers = [coverage]
    gtype = QgsWkbTypes.geometryType(coverage.wkbType())

    layout = load_template(project, settings)
    layout.setName(settings.layout_name or f"{settings.title or DEFAULT_TITLE} – {coverage.name()}")
    layout.renderContext().setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
    singular, plural = feature_words(coverage)
    front_pages = int(bool(settings.cover)) + int(bool(settings.overview))
    variables = {
        "cc_title": settings.title or DEFAULT_TITLE,
        "cc_subtitle": settings.subtitle or "",
        "cc_attribution": settings.attribution if settings.attribution is not None else DEFAULT_ATTRIBUTION,
        "cc_name_expression": _truncated(name_text),
        "cc_summary_expression": summary_expression(coverage),
        "cc_feature_singular": singular,
        "cc_feature_plural": plural,
        "cc_front_pages": front_pages,
    }
    for key, value in variables.items():
        QgsExpressionContextUtils.setLayoutVariable(layout, key, value)

    pages = layout.pageCollection()
    if pages.pageCount() >= 3:
        for index, wanted in ((0, settings.cover), (1, settings.overview)):
            expression = FRONT_PAGE_EXCLUDE if wanted else "true"
            pages.page(index).dataDefinedProperties().setProperty(
                QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(expression)
            )
    elif settings.cover or settings.overview:
        warnings.append("The template has fewer than three pages: no cover or overview page.")
        front_pages = 0
        QgsExpressionContextUtils.setLayoutVariable(layout, "cc_front_pages", 0)

    # --- atlas --------------------------------------------------------------------------------------
    atlas = layout.atlas()
    atlas.setCoverageLayer(coverage)
    atlas.setEnabled(True)
    atlas.setHideCoverage(False)
    atlas.setPageNameExpression(name_text)
    if filter_text:
        atlas.setFilterFeatures(True)
        ok, error = atlas.setFilterExpression(filter_text)
        if not ok:
            raise CreativeClustersError(f"The filter expression is not valid: {error}")
    else:
        atlas.setFilterFeatures(False)
    if sort_text:
        atlas.setSortFeatures(True)
        atlas.setSortExpression(sort_text)
        atlas.setSortAscending(bool(settings.sort_ascending))
    else:
        atlas.setSortFeatures(False)
    count = atlas.updateFeatures()
    if count == 0:
        if coverage.featureCount() == 0:
            raise CreativeClustersError(f"The coverage layer '{coverage.name()}' has no features: nothing to put in the atlas.")
        raise CreativeClustersError(
            f"No feature of '{coverage.name()}' is left after the filter \"{filter_text}\": the atlas would be empty."
            if filter_text else f"The coverage layer '{coverage.name()}' has no features with a geometry."
        )

    # --- helper layer and maps ---------------------------------------------------------------------------
    helper = build_helper_layer(coverage, name_text.replace("@atlas_featurenumber", "$id"), filter_text, project)
    helper.setParent(layout)  # lives as long as the layout; never added to the user's project
    crs = coverage.crs()
    extent = study_extent(layers, crs, project, coverage)

    main = _item(layout, "cc_main_map", QgsLayoutItemMap)
    if main is None:  # a custom template without the id: the largest map on the last page is the atlas map
        maps = [i for i in layout.items() if isinstance(i, QgsLayoutItemMap)]
        if not maps:
            raise CreativeClustersError("The layout template has no map item for the atlas.")
        main = max(maps, key=lambda m: (m.page(), m.rect().width() * m.rect().height()))
        warnings.append("The template has no item 'cc_main_map': its largest map is used as the atlas map.")
    main.setCrs(crs)
    main.setLayers([helper, *layers])
    main.setKeepLayerSet(True)
    main.setAtlasDriven(True)
    if gtype == QgsWkbTypes.PointGeometry:
        buffer = settings.point_buffer or automatic_point_buffer(coverage)
        first = next(coverage.getFeatures(QgsFeatureRequest().setLimit(1)), None)
        centre = first.geometry().centroid().asPoint() if first is not None else extent.center()
        main.setAtlasScalingMode(QgsLayoutItemMap.Fixed)  # points: a fixed scale, centred on each point
        main.zoomToExtent(QgsRectangle(centre.x() - buffer, centre.y() - buffer, centre.x() + buffer, centre.y() + buffer))
    else:
        main.setAtlasScalingMode(QgsLayoutItemMap.Auto)
        main.setAtlasMargin(float(settings.margin))
        main.zoomToExtent(extent)

    inset = _item(layout, "cc_inset_map", QgsLayoutItemMap)
    if inset is not None:
        inset.setCrs(crs)
        inset.setAtlasDriven(False)
        # context: the other polygon layers shown, drawn light grey under the coverage
        context = [lyr for lyr in layers if lyr is not coverage and lyr.type() == QgsMapLayer.VectorLayer
                   and QgsWkbTypes.geometryType(lyr.wkbType()) == QgsWkbTypes.PolygonGeometry][:3]
        inset.setLayers([helper, coverage, *context])
        inset.setKeepLayerSet(True)
        overrides = {helper.id(): _style_xml(helper, _rule_renderer(gtype, "inset", '"cc_fid" = @atlas_featureid'))}
        for layer in context:
            overrides[layer.id()] = _neutral_style_xml(layer)
        inset.setLayerStyleOverrides(overrides)
        inset.setKeepLayerStyles(True)
        inset.zoomToExtent(extent)
        overview = inset.overview()
        overview.setLinkedMap(main)
        overview.setFrameSymbol(QgsFillSymbol.createSimple(
            {"color": "227,26,28,40", "outline_color": "#e31a1c", "outline_width": "0.5"}))
        overview.setEnabled(True)

    labels = QgsVectorLayerSimpleLabeling(_label_settings())
    all_rule = _rule_renderer(gtype, "all", '"cc_in_atlas" = 1')
    for map_id, with_labels in (("cc_cover_map", False), ("cc_overview_page_map", True)):
        item = _item(layout, map_id, QgsLayoutItemMap)
        if item is None:
            continue
        item.setCrs(crs)
        item.setAtlasDriven(False)
        item.setLayers([helper, *layers] if with_labels else list(layers))
        item.setKeepLayerSet(True)
        if with_labels:
            item.setLayerStyleOverrides({helper.id(): _style_xml(helper, all_rule.clone(), labels.clone())})
            item.setKeepLayerStyles(True)
        item.zoomToExtent(extent)

    for legend_id in ("cc_legend", "cc_overview_legend"):
        _set_legend_layers(_item(layout, legend_id, QgsLayoutItemLegend), layers)
    for item in layout.items():
        if isinstance(item, QgsLayoutItemLabel):
            item.refresh()
    return AtlasBuild(layout=layout, coverage=coverage, feature_count=count, helper=helper,
                      front_pages=front_pages, warnings=warnings)


# --- export -------------------------------------------------------------------------------------------------
def pdf_settings(layout=None) -> QgsLayoutExporter.PdfExportSettings:
    """PDF settings of every Creative Clusters export: vector output with real (searchable) text."""
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.textRenderFormat = QgsRenderContext.TextFormatAlwaysText
    settings.rasterizeWholeImage = False
    settings.forceVectorOutput = False
    settings.exportMetadata = True
    settings.appendGeoreference = True
    if layout is not None:
        settings.dpi = layout.renderContext().dpi()
    return settings


_RESULT_MESSAGES = {
    QgsLayoutExporter.MemoryError: "not enough memory to render a page",
    QgsLayoutExporter.FileError: "the file could not be written",
    QgsLayoutExporter.PrintError: "the PDF printer could not start",
    QgsLayoutExporter.SvgLayerError: "an SVG layer failed",
    QgsLayoutExporter.IteratorError: "the atlas could not step through its features",
}


def export_atlas_pdf(layout_or_build, path, feedback=None) -> Path:
    """Export the atlas of a layout (or :class:`AtlasBuild`) to one PDF; returns the path written.

    The file appears only when the export succeeded (written to a temporary name in the same folder, then
    moved). Raises ``CancelledError`` when ``feedback`` was cancelled and ``CreativeClustersError`` on failure.
    """
    layout = layout_or_build.layout if isinstance(layout_or_build, AtlasBuild) else layout_or_build
    path = check_output_path(path)
    atlas = layout.atlas()
    if not atlas.enabled() or atlas.coverageLayer() is None:
        raise CreativeClustersError("The layout has no atlas enabled: build it first.")
    if atlas.updateFeatures() == 0:
        raise CreativeClustersError("The atlas has no features to export (check the coverage layer and the filter).")
    handle, temporary = tempfile.mkstemp(prefix=".cc-atlas-", suffix=".pdf", dir=str(path.parent))
    os.close(handle)
    try:
        result, error = QgsLayoutExporter.exportToPdf(atlas, temporary, pdf_settings(layout), feedback)
        if result == QgsLayoutExporter.Canceled or (feedback is not None and feedback.isCanceled()):
            raise CancelledError("Atlas export cancelled; no PDF was written.")
        if result != QgsLayoutExporter.Success:
            reason = error or _RESULT_MESSAGES.get(result, f"error code {int(result)}")
            raise CreativeClustersError(f"The atlas could not be exported to {path}: {reason}.")
        publish(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def export_atlas(coverage, path, settings: AtlasSettings | None = None, feedback=None, project=None) -> AtlasBuild:
    """Build and export in one go (what ``creativeclusters:exportatlas`` does); returns the build."""
    path = check_output_path(path)
    build = build_atlas(coverage, settings, project)
    export_atlas_pdf(build, path, feedback)
    return build


def iterate_pages(build: AtlasBuild):
    """Yield (feature, main map extent) for each atlas page, in export order (for checks and previews)."""
    layout = build.layout
    atlas = layout.atlas()
    main = _item(layout, "cc_main_map", QgsLayoutItemMap) or next(
        i for i in layout.items() if isinstance(i, QgsLayoutItemMap) and i.atlasDriven()
    )
    atlas.beginRender()
    try:
        for index in range(atlas.count()):
            atlas.seekTo(index)
            yield QgsFeature(atlas.layout().reportContext().feature()), QgsRectangle(main.extent())
    finally:
        atlas.endRender()


__all__ = [
    "AtlasBuild",
    "AtlasSettings",
    "DEFAULT_ATTRIBUTION",
    "build_atlas",
    "check_output_path",
    "export_atlas",
    "export_atlas_pdf",
    "guess_name_expression",
    "iterate_pages",
    "summary_expression",
]
