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
    QgsLayoutItem,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutObject,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendStyle,
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
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QFont

from ..core.atomic_files import publish
from ..core.errors import CancelledError, CreativeClustersError
from ..core.firms.subsectors import SUBSECTORS
from ..qt_compat import field_type, same_type
from ..resources_path import resource
from ..styling.palettes import GI_BIN_CLASSES
from ..styling.renderers import find_field
from . import atlas_pages, map_context, template_builder
from .template_safety import read_template_file

#: empty: the attribution is built from the layers' metadata (rights, licences) — nothing invented
DEFAULT_ATTRIBUTION = ""
#: the usual credits of the UK open data this plugin works with ({year} becomes the current year); for the
#: ATTRIBUTION parameter or the dock when those sources are used
UK_OPEN_DATA_ATTRIBUTION = (
    "Contains Companies House data licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right {year}. "
    "Contains Royal Mail data © Royal Mail copyright and database right {year} (Code-Point Open). "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0; "
    "contains National Statistics data © Crown copyright and database right {year} (boundaries)."
)
DEFAULT_TITLE = "Creative clusters atlas"
MAX_TITLE_CHARS = 90
HIGHLIGHT_NAME = "Creative Clusters atlas highlight"
OVERVIEW_NAMES_UP_TO = 12  # the overview labels features with page and name up to this many, then page only


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
    back_pages: int = 0
    plan: object = None  # the MapPlan the maps were drawn from

    @property
    def page_count(self) -> int:
        return self.feature_count + self.front_pages + self.back_pages


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


def own_name_field(layer) -> str | None:
    """The layer's own name field (area_name, name, …, ONS …NM), if any."""
    for candidate in NAME_FIELDS:
        hit = find_field(layer, candidate)
        if hit:
            return hit
    ons = [n for n in layer.fields().names() if n.upper().endswith("NM") and len(n) <= 10]
    return ons[0] if ons else None


NAME_FIELDS = ("area_name", "name", "cluster_name", "corridor_name", "cc_name", "title", "label")


def guess_name_expression(layer) -> str:
    """Expression giving each feature's display name: a name field, else a numbered id, else the page number."""
    own = own_name_field(layer)  # ONS boundaries: WD22NM, LAD23NM …
    if own:
        return f"coalesce(to_string({_quoted(own)}), 'Unnamed ' || @atlas_featurenumber)"
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
                lines.append((fld.name(), _num(fld.name(), 2 if same_type(fld.type(), "double") else 0)))
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
    settings.setFormat(map_context.halo_text_format(7.0 * scale, "#1a1a1a", bold=True, halo=0.8, halo_alpha=230))
    settings.dataDefinedProperties().setProperty(QgsPalLayerSettings.Show, QgsProperty.fromExpression('"cc_in_atlas" = 1'))
    settings.displayAll = False
    settings.obstacle = False
    return settings


def build_helper_layer(coverage, pages, front_pages: int):
    """A memory copy of the atlas features' geometries (``cc_fid``, ``cc_label``, ``cc_in_atlas``) that draws
    the current feature's outline on the main map, a red locator on the inset and, on the overview, each
    feature's page number (with its name when there are few) — without touching the user's coverage layer.

    ``pages`` lists ``(feature id, page name)`` in export order."""
    gtype = QgsWkbTypes.geometryType(coverage.wkbType())
    geometry_name = {QgsWkbTypes.PointGeometry: "MultiPoint", QgsWkbTypes.LineGeometry: "MultiLineString"}.get(
        gtype, "MultiPolygon"
    )
    helper = QgsVectorLayer(f"{geometry_name}?crs={coverage.crs().authid() or ''}", HIGHLIGHT_NAME, "memory")
    if not coverage.crs().authid():
        helper.setCrs(coverage.crs())
    provider = helper.dataProvider()
    provider.addAttributes([QgsField("cc_fid", field_type("long")), QgsField("cc_label", field_type("string")),
                            QgsField("cc_in_atlas", field_type("int"))])
    helper.updateFields()
    page_of = {fid: (front_pages + i + 1, name) for i, (fid, name) in enumerate(pages)}
    shorts = [str(name).split(" – ")[-1] for _, name in pages]
    # names only when few and telling apart (not "5 · Sheffield", "6 · Sheffield" …)
    with_names = len(pages) <= OVERVIEW_NAMES_UP_TO and len(set(shorts)) == len(shorts)
    features = []
    for feature in coverage.getFeatures(QgsFeatureRequest().setNoAttributes()):
        geometry = feature.geometry()
        if geometry is None or geometry.isEmpty():
            continue
        page = page_of.get(feature.id())
        short = str(page[1]).split(" – ")[-1] if page is not None else ""
        label = None if page is None else (f"{page[0]} · {short}" if with_names else str(page[0]))
        out = QgsFeature(helper.fields())
        out_geometry = QgsGeometry(geometry)
        out_geometry.convertToMultiType()
        out.setGeometry(out_geometry)
        out.setAttributes([feature.id(), label, 1 if page is not None else 0])
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


# --- building the layout ---------------------------------------------------------------------------------
def template_path(settings: AtlasSettings) -> Path:
    if settings.template:
        path = Path(settings.template)
        if not path.is_file():
            raise CreativeClustersError(f"The layout template {path.name} does not exist.")
        return path
    return resource("templates", template_builder.template_name(settings.page_size, settings.orientation))


def load_template(project, settings: AtlasSettings, warnings: list | None = None) -> QgsPrintLayout:
    """A layout from the user's or the shipped ``.qpt`` (built in code when the shipped file is missing). A
    user's template is read as data (:mod:`.template_safety`): what an atlas does not need is removed."""
    path = template_path(settings)
    if not path.is_file() and not settings.template:
        return template_builder.build_template_layout(project, settings.page_size, settings.orientation)
    document, messages = read_template_file(path)
    if warnings is not None:
        warnings.extend(messages)
    layout = QgsPrintLayout(project)
    _, ok = layout.loadFromTemplate(document, QgsReadWriteContext(), True)
    if not ok:
        raise CreativeClustersError(f"QGIS could not load the layout template {path.name}.")
    if layout.pageCollection().pageCount() == 0:
        raise CreativeClustersError(f"The layout template {path.name} has no pages.")
    return layout


def _item(layout, item_id, kind=None):
    item = layout.itemById(item_id)
    if item is None or (kind is not None and not isinstance(item, kind)):
        return None
    return item


#: legend titles of the plugin's result layers (instead of file or layer names such as "areas_hotspots")
FRIENDLY_TITLES = {
    "gi_bin": "Hot and cold spots (Gi*)",
    "cotype": "Clusters and outliers (local Moran's I)",
    "lq": "Creative location quotient",
    "microclusters": "Microclusters by main sub-sector",
    "corridor_links": "Corridor links",
    "corridors": "Creative corridors",
    "stacks": "Stacked addresses",
    "classified_firms": "Firms by creative sub-sector",
    "clusters": "Creative clusters (Nesta rule)",
    "growth": "Growth potential",
    "emerging_hotspots": "Emerging hot spots",
    "density": "Density of creative firms",
    "corridor_surface": "Corridor surface",
}


def friendly_title(layer) -> str:
    from ..styling import detect_result_type

    try:
        style = detect_result_type(layer)
    except Exception:
        style = None
    if style in FRIENDLY_TITLES:
        return FRIENDLY_TITLES[style]
    name = layer.name().replace("_", " ").strip()
    return name[:1].upper() + name[1:] if name else "Layer"


@dataclass
class MapPlan:
    """What the atlas maps draw: result layers (own styles), context beneath (muted), the study-area outline,
    places (labelled), an optional basemap, the extent of whole-area maps and the attribution line."""

    results: list
    context: list
    study: QgsVectorLayer
    study_how: str
    places: QgsVectorLayer | None
    place_field: str
    basemap: QgsMapLayer | None
    extent: QgsRectangle
    attribution: str

    def layers(self, helper=None) -> list:
        """Map layers, top first: the highlight and places; result points and lines; context points and lines
        (roads stay visible over a choropleth); the study-area outline; result polygons; context polygons; the
        basemap."""
        def polygons(layer):
            return (layer.type() == QgsMapLayer.VectorLayer
                    and QgsWkbTypes.geometryType(layer.wkbType()) == QgsWkbTypes.PolygonGeometry)

        top = [helper] if helper is not None else []
        top += [self.places] if self.places is not None else []
        bottom = [self.basemap] if self.basemap is not None else []
        return [*top, *[lyr for lyr in self.results if not polygons(lyr)],
                *[lyr for lyr in self.context if not polygons(lyr)], self.study,
                *[lyr for lyr in self.results if polygons(lyr)], *[lyr for lyr in self.context if polygons(lyr)],
                *bottom]

    def keep_with(self, layout) -> None:
        """The layers made for the maps (study-area outline, basemap) live as long as the layout, which draws them
        long after the build (a layout in the project's layout manager, an export later)."""
        for layer in (self.study, self.basemap):
            if layer is not None and layer.parent() is None:
                layer.setParent(layout)

    def style_overrides(self) -> dict:
        overrides = {}
        for layer in self.results:
            xml = map_context.unclipped_style_xml(layer)
            if xml:
                overrides[layer.id()] = xml
        for layer in self.context:
            if layer.type() == QgsMapLayer.VectorLayer:
                overrides[layer.id()] = map_context.muted_style_xml(layer)
        if self.places is not None:
            overrides[self.places.id()] = map_context.places_style_xml(self.places, self.place_field)
        return overrides


def plan_maps(coverage, settings: AtlasSettings, filter_text: str, project) -> MapPlan:
    chosen = [lyr for lyr in (settings.layers or []) if lyr is not None and lyr.isValid()]
    if not any(lyr.id() == coverage.id() for lyr in chosen):
        chosen.insert(0, coverage)  # the page feature's own class is always drawn and in the legend
    places = settings.places if settings.places is not None and settings.places.isValid() else None
    chosen = [lyr for lyr in chosen if places is None or lyr.id() != places.id()]
    results = [lyr for lyr in chosen if lyr.id() == coverage.id() or map_context.is_result_layer(lyr)]
    context = [lyr for lyr in chosen if lyr not in results]
    study, how = map_context.study_area_layer(coverage, settings.study_area, filter_text, project)
    place_field = map_context.detect_place_field(places, settings.place_field) if places is not None else ""
    basemap = map_context.basemap_layer(settings.basemap_url) if settings.basemap_url else None
    extent = map_context.subject_extent(coverage, filter_text, study)
    used = [*results, *context, *([places] if places is not None else []), settings.study_area]
    attribution = map_context.attribution_text(used, settings.attribution or "",
                                               settings.basemap_attribution if basemap is not None else "")
    if not attribution:
        names = ", ".join(lyr.name() for lyr in [*results, *context])
        attribution = f"Map layers: {names} (no source or licence is recorded in their metadata)."
    return MapPlan(results, context, study, how, places, place_field, basemap, extent, attribution)


def _page_roles(layout) -> dict:
    """Page index of each role found in the layout (by the items that mark it)."""
    roles = {}
    for role, item_id in template_builder.PAGE_ROLES.items():
        item = layout.itemById(item_id)
        if item is not None:
            roles[role] = item.page()
    return roles


@dataclass
class Pagination:
    roles: dict  # role -> template page index
    front: list  # enabled front roles, in page order
    back: list  # enabled back roles

    def number(self, role, feature_count) -> int:
        if role in self.front:
            return self.front.index(role) + 1
        return len(self.front) + feature_count + self.back.index(role) + 1

    def total(self, feature_count) -> int:
        return len(self.front) + feature_count + len(self.back)


def paginate(layout, settings: AtlasSettings, warnings: list) -> Pagination:
    """Switch the front and back pages on or off (exclude from exports) and work out the page numbers."""
    wanted = {"cover": settings.cover, "contents": settings.contents, "summary": settings.summary,
              "overview": settings.overview, "methods": settings.methods}
    roles = _page_roles(layout)
    if "feature" not in roles:
        roles["feature"] = layout.pageCollection().pageCount() - 1
    pages = layout.pageCollection()
    front, back = [], []
    for role, index in sorted(roles.items(), key=lambda item: item[1]):
        if role == "feature" or index == roles["feature"]:
            continue
        on = bool(wanted.get(role, True))
        is_back = role in template_builder.BACK_ROLES
        if on:
            (back if is_back else front).append(role)
        exclude = template_builder.BACK_PAGE_EXCLUDE if is_back else template_builder.FRONT_PAGE_EXCLUDE
        expression = exclude if on else "true"
        pages.page(index).dataDefinedProperties().setProperty(
            QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(expression))
    missing = [role for role, on in wanted.items() if on and role not in roles]
    if missing and settings.template:
        warnings.append(f"The template has no page for: {', '.join(missing)}.")
    return Pagination(roles, front, back)


def _named_after_places(coverage, name_text, own_name, settings, plan, project):
    """Page names: NAME, else the feature's own name, else its id followed by the containing / nearest place."""
    if settings.name_expression or own_name or plan.places is None:
        return name_text
    names = map_context.names_from_places(coverage, plan.places, plan.place_field, project)
    if not names:
        return name_text
    pairs = ", ".join(f"'{fid}', '{str(name).replace(chr(39), chr(39) * 2)}'" for fid, name in names.items())
    return f"({name_text}) || coalesce(' – ' || map_get(map({pairs}), to_string($id)), '')"


def _atlas_pages(atlas) -> list:
    """(feature id, page name) of every atlas page, in export order."""
    pages = []
    atlas.beginRender()
    try:
        for index in range(atlas.count()):
            atlas.seekTo(index)
            pages.append((atlas.layout().reportContext().feature().id(), atlas.nameForPage(index)))
    finally:
        atlas.endRender()
    return pages


def configure_atlas(layout, coverage, filter_text, sort_text, settings, name_text) -> int:
    atlas = layout.atlas()
    atlas.setCoverageLayer(coverage)
    atlas.setEnabled(True)
    atlas.setHideCoverage(False)
    atlas.setPageNameExpression(name_text)
    atlas.setFilterFeatures(bool(filter_text))
    if filter_text:
        ok, error = atlas.setFilterExpression(filter_text)
        if not ok:
            raise CreativeClustersError(f"The filter expression is not valid: {error}")
    atlas.setSortFeatures(bool(sort_text))
    if sort_text:
        atlas.setSortExpression(sort_text)
        atlas.setSortAscending(bool(settings.sort_ascending))
    count = atlas.updateFeatures()
    if count == 0:
        _require_features(coverage, filter_text)
    return count


def _require_features(coverage, filter_text):
    """Raise a clear error when no coverage feature with a geometry passes the filter."""
    request = QgsFeatureRequest().setNoAttributes() if not filter_text else QgsFeatureRequest(QgsExpression(filter_text))
    if any(not f.geometry().isEmpty() for f in coverage.getFeatures(request)):
        return
    if coverage.featureCount() == 0:
        raise CreativeClustersError(f"The coverage layer '{coverage.name()}' has no features: nothing to put in the atlas.")
    raise CreativeClustersError(
        f"No feature of '{coverage.name()}' is left after the filter \"{filter_text}\": the atlas would be empty."
        if filter_text else f"The coverage layer '{coverage.name()}' has no features with a geometry."
    )


def _validated_expressions(coverage, settings):
    filter_text = (settings.filter_expression or "").strip()
    sort_text = (settings.sort_expression or "").strip()
    if filter_text:
        _check_expression(filter_text, coverage, "filter")
    if sort_text:
        _check_expression(sort_text, coverage, "sort")
    name_text = (settings.name_expression or "").strip() or guess_name_expression(coverage)
    _check_expression(name_text.replace("@atlas_featurenumber", "1"), coverage, "page name")
    return filter_text, sort_text, name_text, own_name_field(coverage) is not None


def build_atlas(coverage, settings: AtlasSettings | None = None, project=None) -> AtlasBuild:
    """Build the atlas layout for ``coverage`` (not added to any layout manager).

    Raises ``CreativeClustersError`` for a coverage layer without geometries, invalid filter / sort / name
    expressions, a missing or unreadable template and a coverage with no feature left after the filter.
    """
    settings = settings or AtlasSettings()
    project = project or QgsProject.instance()
    check_coverage(coverage)
    if settings.page_size.upper() not in template_builder.PAGE_SIZES:
        raise CreativeClustersError(f"Page size must be A4 or A3, not '{settings.page_size}'.")
    if settings.orientation.lower() not in template_builder.ORIENTATIONS:
        raise CreativeClustersError(f"Orientation must be landscape or portrait, not '{settings.orientation}'.")
    warnings = []
    filter_text, sort_text, name_text, own_name = _validated_expressions(coverage, settings)
    _require_features(coverage, filter_text)
    plan = plan_maps(coverage, settings, filter_text, project)
    name_text = _named_after_places(coverage, name_text, own_name, settings, plan, project)
    layout = load_template(project, settings, warnings)
    plan.keep_with(layout)
    layout.setName(settings.layout_name or f"{settings.title or DEFAULT_TITLE} – {coverage.name()}")
    layout.renderContext().setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
    pagination = paginate(layout, settings, warnings)
    count = configure_atlas(layout, coverage, filter_text, sort_text, settings, name_text)
    pages = _atlas_pages(layout.atlas())
    _set_variables(layout, coverage, settings, plan, pagination, count, name_text)
    helper = build_helper_layer(coverage, pages, len(pagination.front))
    helper.setParent(layout)  # lives as long as the layout; never added to the user's project
    _configure_maps(layout, coverage, settings, plan, helper, warnings)
    _configure_legends(layout, plan)
    _fill_pages(layout, coverage, settings, plan, pagination, pages)
    for item in layout.items():
        if isinstance(item, QgsLayoutItemLabel):
            item.refresh()
    return AtlasBuild(layout=layout, coverage=coverage, feature_count=count, helper=helper,
                      front_pages=len(pagination.front), warnings=warnings, back_pages=len(pagination.back),
                      plan=plan)


def _set_variables(layout, coverage, settings, plan, pagination, count, name_text):
    singular, plural = feature_words(coverage)
    variables = {
        "cc_title": settings.title or DEFAULT_TITLE,
        "cc_subtitle": settings.subtitle or "",
        "cc_organisation": settings.organisation or "",
        "cc_author": settings.author or "",
        "cc_attribution": plan.attribution,
        "cc_name_expression": _truncated(name_text),
        "cc_summary_expression": summary_expression(coverage),
        "cc_feature_singular": singular,
        "cc_feature_plural": plural,
        "cc_front_pages": len(pagination.front),
        "cc_total_pages": pagination.total(count),
        "cc_place_context": "",
    }
    for role in (*pagination.front, *pagination.back):
        variables[f"cc_page_{role}"] = pagination.number(role, count)
    for key, value in variables.items():
        QgsExpressionContextUtils.setLayoutVariable(layout, key, value)


def _configure_maps(layout, coverage, settings, plan, helper, warnings):
    crs = coverage.crs()
    gtype = QgsWkbTypes.geometryType(coverage.wkbType())
    overrides = plan.style_overrides()
    main = _item(layout, "cc_main_map", QgsLayoutItemMap)
    if main is None:  # a custom template without the id: the largest map on the last page is the atlas map
        maps = [i for i in layout.items() if isinstance(i, QgsLayoutItemMap)]
        if not maps:
            raise CreativeClustersError("The layout template has no map item for the atlas.")
        main = max(maps, key=lambda m: (m.page(), m.rect().width() * m.rect().height()))
        warnings.append("The template has no item 'cc_main_map': its largest map is used as the atlas map.")
    _set_map(main, crs, plan.layers(helper), overrides)
    main.setAtlasDriven(True)
    if gtype == QgsWkbTypes.PointGeometry:
        buffer = settings.point_buffer or automatic_point_buffer(coverage)
        first = next(coverage.getFeatures(QgsFeatureRequest().setLimit(1)), None)
        centre = first.geometry().centroid().asPoint() if first is not None else plan.extent.center()
        main.setAtlasScalingMode(QgsLayoutItemMap.Fixed)  # points: a fixed scale, centred on each point
        main.zoomToExtent(QgsRectangle(centre.x() - buffer, centre.y() - buffer, centre.x() + buffer, centre.y() + buffer))
    else:
        main.setAtlasScalingMode(QgsLayoutItemMap.Auto)
        main.setAtlasMargin(float(settings.margin))
        main.zoomToExtent(plan.extent)
    inset = _item(layout, "cc_inset_map", QgsLayoutItemMap)
    if inset is not None:
        # the study area, every feature and the current one (red); no context layers
        inset_overrides = dict(overrides)
        inset_overrides[helper.id()] = _style_xml(helper, _rule_renderer(gtype, "inset", '"cc_fid" = @atlas_featureid'))
        _set_map(inset, crs, [helper, coverage, plan.study], inset_overrides)
        inset.setAtlasDriven(False)
        inset.zoomToExtent(plan.extent)
        overview = inset.overview()
        overview.setLinkedMap(main)
        overview.setFrameSymbol(QgsFillSymbol.createSimple(
            {"color": "227,26,28,40", "outline_color": "#e31a1c", "outline_width": "0.5"}))
        overview.setEnabled(True)
    labels = QgsVectorLayerSimpleLabeling(_label_settings())
    numbered = dict(overrides)
    numbered[helper.id()] = _style_xml(helper, _rule_renderer(gtype, "all", '"cc_in_atlas" = 1'), labels)
    for map_id, with_numbers in (("cc_cover_map", False), ("cc_overview_page_map", True)):
        item = _item(layout, map_id, QgsLayoutItemMap)
        if item is not None:
            _set_map(item, crs, plan.layers(helper if with_numbers else None), numbered)
            item.setAtlasDriven(False)
            item.zoomToExtent(plan.extent)


def _set_map(item, crs, layers, overrides):
    item.setCrs(crs)
    item.setLayers(layers)
    item.setKeepLayerSet(True)
    ids = {lyr.id() for lyr in layers}
    item.setLayerStyleOverrides({k: v for k, v in overrides.items() if k in ids})
    item.setKeepLayerStyles(True)


def legend_entries(plan, owner) -> list:
    """(layer to draw the entry from, title) for the legends: results with their styles, the study area, and
    context layers as the muted style they are drawn in (a legend-only copy, owned by ``owner``, the layout)."""
    entries = [(layer, friendly_title(layer)) for layer in plan.results]
    entries.append((plan.study, "Study area"))
    for layer in plan.context:
        if layer.type() != QgsMapLayer.VectorLayer:
            continue
        kind = {QgsWkbTypes.PointGeometry: "Point", QgsWkbTypes.LineGeometry: "LineString"}.get(
            QgsWkbTypes.geometryType(layer.wkbType()), "Polygon")
        copy = QgsVectorLayer(f"{kind}?crs={layer.crs().authid()}", layer.name(), "memory")
        copy.setRenderer(map_context.muted_renderer(layer))
        copy.setParent(owner)
        entries.append((copy, friendly_title(layer)))
    return entries


def _configure_legends(layout, plan):
    entries = legend_entries(plan, layout)
    for legend_id in ("cc_legend", "cc_overview_legend"):
        legend = _item(layout, legend_id, QgsLayoutItemLegend)
        if legend is not None:
            fill_legend(legend, entries)
    page_legend = _item(layout, "cc_legend", QgsLayoutItemLegend)
    if page_legend is not None and page_legend.legendFilterByMapEnabled():
        # each feature page lists the classes its map shows: fit the legend again to those, page by page
        layout.atlas().featureChanged.connect(lambda _feature, legend=page_legend: refit_to_page(legend))


def refit_to_page(legend):
    """Fit the legend to the entries the current page's map shows (its filter by map content). When even the most
    compact legend is too big, it takes the sub-sector chart's place on that page (the chart is hidden there)."""
    try:
        layout = legend.layout()
        chart = [item for item in layout.items() if isinstance(item, QgsLayoutItem) and item.id().startswith("cc_chart")]
        box = _legend_home(legend)
        legend.attemptMove(QgsLayoutPoint(box[0], box[1]), page=legend.page())
        legend.attemptResize(QgsLayoutSize(box[2], box[3]))
        for item in chart:
            item.setVisibility(True)
        apply_map_filter(legend)
        if fit_legend(legend) is None and chart:
            top = min(item.pagePositionWithUnits().y() for item in chart)
            legend.attemptMove(QgsLayoutPoint(box[0], top), page=legend.page())
            legend.attemptResize(QgsLayoutSize(box[2], box[1] + box[3] - top))
            for item in chart:
                item.setVisibility(False)
            fit_legend(legend)
    except RuntimeError:  # the layout was deleted while the connection lived on
        pass


def _legend_home(legend) -> tuple:
    """The legend's box on its page as the template placed it (x, y, width, height in mm), kept on the item."""
    saved = legend.customProperty("cc_home_box")
    if saved:
        return tuple(float(v) for v in str(saved).split(","))
    position = legend.pagePositionWithUnits()
    box = (position.x(), position.y(), legend.rect().width(), legend.rect().height())
    legend.setCustomProperty("cc_home_box", ",".join(str(v) for v in box))
    return box


def apply_map_filter(legend):
    """Filter the legend's model by what its linked map shows now (QGIS itself does it only when painting)."""
    linked = legend.linkedMap()
    if linked is None or not legend.legendFilterByMapEnabled():
        return
    from qgis.PyQt.QtCore import QSizeF

    dpi = legend.layout().renderContext().dpi()
    extent = linked.extent()
    size = QSizeF(linked.rect().width(), linked.rect().height()) * (dpi / 25.4)  # pixels, as QGIS computes it
    settings = linked.mapSettings(extent, size, dpi, True)  # True: with the map's layers and style overrides
    model = legend.model()
    if hasattr(model, "setLegendFilterByMap"):  # QGIS 3.22 … 3.30
        model.setLegendFilterByMap(settings)
    else:  # QGIS ≥ 3.32 / 4
        from qgis.core import QgsLayerTreeFilterSettings

        model.setFilterSettings(QgsLayerTreeFilterSettings(settings))


LEGEND_LINE_CHARS = 30  # class labels longer than this are wrapped onto more lines (narrow legend columns)


def wrap_legend_labels(model, node, width: int = LEGEND_LINE_CHARS):
    """Wrap long class labels at word boundaries (the legend's own wrap character is a newline)."""
    import textwrap

    from qgis.core import QgsMapLayerLegendUtils

    model.refreshLayerLegend(node)
    changed = False
    for index, legend_node in enumerate(model.layerLegendNodes(node)):
        label = legend_node.data(Qt.ItemDataRole.DisplayRole)
        if isinstance(label, str) and len(label) > width and "\n" not in label:
            QgsMapLayerLegendUtils.setLegendNodeUserLabel(node, index, textwrap.fill(label, width))
            changed = True
    if changed:
        model.refreshLayerLegend(node)


def fill_legend(legend, entries):
    """Entries with friendly titles; fonts and columns adjusted until every entry fits the legend's frame."""
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.removeAllChildren()
    for layer, title in entries:
        node = QgsLayerTreeLayer(layer)
        node.setCustomProperty("legend/title-label", title)
        root.addChildNode(node)
        wrap_legend_labels(legend.model(), node)
    legend.setTitle("Legend")
    legend.setSplitLayer(True)
    legend.setEqualColumnWidth(True)
    legend.setWrapString("\n")
    fit_legend(legend)


LEGEND_STYLES = (QgsLegendStyle.Title, QgsLegendStyle.Group, QgsLegendStyle.Subgroup, QgsLegendStyle.SymbolLabel)
#: styles whose top margin (mm) sets the spacing between legend entries
SPACED_STYLES = (QgsLegendStyle.Group, QgsLegendStyle.Subgroup, QgsLegendStyle.Symbol, QgsLegendStyle.SymbolLabel)


def legend_content_size(legend):
    """Size (mm) the legend needs for all its entries (the worst case of the per-page map filter)."""
    from qgis.core import QgsLegendRenderer

    size = QgsLegendRenderer(legend.model(), legend.legendSettings()).minimumSize()
    return size.width(), size.height()


def legend_base_fonts(legend) -> dict:
    """The legend's fonts as the template set them (kept on the item, so refitting never compounds)."""
    saved = legend.customProperty("cc_base_fonts")
    if saved:
        fonts = {}
        for style, text in zip(LEGEND_STYLES, str(saved).split("|")):
            font = QFont()
            font.fromString(text)
            fonts[style] = font
        return fonts
    fonts = {style: QFont(legend.style(style).font()) for style in LEGEND_STYLES}
    legend.setCustomProperty("cc_base_fonts", "|".join(fonts[style].toString() for style in LEGEND_STYLES))
    return fonts


def legend_base_margins(legend) -> dict:
    saved = legend.customProperty("cc_base_margins")
    if saved:
        return dict(zip(SPACED_STYLES, (float(v) for v in str(saved).split("|"))))
    margins = {style: legend.rstyle(style).margin(QgsLegendStyle.Top) for style in SPACED_STYLES}
    legend.setCustomProperty("cc_base_margins", "|".join(str(margins[style]) for style in SPACED_STYLES))
    return margins


def fit_legend(legend, smallest: float = 4.5):
    """Columns, then smaller fonts and symbols, then tighter spacing without the "Legend" title, until every entry
    fits the frame. Returns (font factor, columns) or None when even the most compact legend is too big."""
    box_w, box_h = legend.rect().width(), legend.rect().height()
    fonts = legend_base_fonts(legend)
    margins = legend_base_margins(legend)
    for compact in (False, True):
        legend.setTitle("" if compact else "Legend")
        legend.setBoxSpace(1.0 if compact else 2.0)
        for style, margin in margins.items():
            legend.rstyle(style).setMargin(QgsLegendStyle.Top, min(margin, 0.6) if compact else margin)
        for factor in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
            for style, font in fonts.items():
                scaled = QFont(font)
                scaled.setPointSizeF(max(smallest, font.pointSizeF() * factor))
                legend.setStyleFont(style, scaled)
            legend.setSymbolHeight(max(2.0, 3.5 * factor))
            legend.setSymbolWidth(max(3.0, 5.0 * factor))
            for columns in (1, 2, 3):
                legend.setColumnCount(columns)
                legend.updateLegend()  # keeps the model's map filter: no new hit test per attempt
                width, height = legend_content_size(legend)
                if width <= box_w + 0.1 and height <= box_h + 0.1:
                    return factor, columns
    return None


def _fill_pages(layout, coverage, settings, plan, pagination, pages):
    """Contents, summary table, methods, key figures and the sub-sector chart (:mod:`.atlas_pages`)."""
    singular, plural = feature_words(coverage)
    study = atlas_pages.study_figures(coverage, tiles=map_context.coverage_tiles_area(coverage))
    summary = _item(layout, "cc_summary", QgsLayoutItemLabel)
    if summary is not None:
        atlas_pages.build_key_figures(layout, summary, coverage, singular, plural, study)
    chart = _item(layout, "cc_chart", QgsLayoutItemLabel)
    if chart is not None:
        atlas_pages.build_subsector_chart(layout, chart, coverage)
    count = len(pages)
    entries = [(pagination.number(role, count), CONTENT_TITLES[role]) for role in pagination.front
               if role not in ("cover", "contents")]
    entries += [(len(pagination.front) + i + 1, name) for i, (_, name) in enumerate(pages)]
    entries += [(pagination.number(role, count), CONTENT_TITLES[role]) for role in pagination.back]
    holders = [_item(layout, item_id, QgsLayoutItemLabel) for item_id in ("cc_contents", "cc_contents_2")]
    holders = [h for h in holders if h is not None]
    if holders:
        per_column = max(int((holders[0].rect().height() - 7) / 5.2), 5)
        chunks = atlas_pages.contents_chunks(entries, per_column, len(holders))
        for index, holder in enumerate(holders):
            if index < len(chunks):
                atlas_pages.summary_table(layout, holder, chunks[index], ["Page", "Contents"])
            else:
                layout.removeLayoutItem(holder)
    table_item = _item(layout, "cc_summary_table", QgsLayoutItemLabel)
    if table_item is not None:
        headers, rows, caption = summary_rows(coverage, pages, len(pagination.front), plural)
        fit = max(int((table_item.rect().height() - 7) / 4.8), 3)
        if len(rows) > fit:
            rest = len(rows) - fit + 1
            rows = rows[: fit - 1] + [["", f"… and {rest} more (see the contents)"] + [""] * (len(headers) - 2)]
        atlas_pages.summary_table(layout, table_item, rows, headers)
        QgsExpressionContextUtils.setLayoutVariable(layout, "cc_summary_caption", caption)
    left, right = methods_text(coverage, settings, plan)
    QgsExpressionContextUtils.setLayoutVariable(layout, "cc_methods", left)
    QgsExpressionContextUtils.setLayoutVariable(layout, "cc_methods_2", right)
    logo = _item(layout, "cc_logo", QgsLayoutItemPicture)
    if logo is not None:
        if settings.logo and Path(settings.logo).is_file():
            logo.setPicturePath(str(settings.logo))
        else:
            logo.setVisibility(False)


CONTENT_TITLES = {"summary": "Summary: every feature ranked", "overview": "Overview map",
                  "methods": "Methods and data"}


def summary_rows(coverage, pages, front, plural):
    """(headers, rows, caption) of the ranked summary table: every atlas feature with its page."""
    f = lambda *names: find_field(coverage, *names)  # noqa: E731
    firms, creative, lq = f("n_all", "n_firms"), f("n_creative"), f("lq_creative")
    klass = atlas_pages.class_expression(coverage)
    rank_by = creative or firms
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(coverage))
    class_expression = QgsExpression(klass[1]) if klass else None
    if class_expression is not None:
        class_expression.prepare(context)
    page_of = {fid: front + i + 1 for i, (fid, _) in enumerate(pages)}
    name_of = dict(pages)
    records = []
    for feature in coverage.getFeatures(QgsFeatureRequest().setFilterFids(list(page_of))):
        context.setFeature(feature)
        value = lambda name: feature[name] if name else None  # noqa: E731
        records.append((feature.id(), value(firms), value(creative), value(lq),
                        class_expression.evaluate(context) if class_expression is not None else None))
    if rank_by:
        key_index = 2 if creative else 1
        records.sort(key=lambda r: (-(r[key_index] or 0), page_of[r[0]]))
        caption = f"Every one of the {len(records)} {plural}, ranked by {'creative firms' if creative else 'firms'}."
    else:
        records.sort(key=lambda r: page_of[r[0]])
        caption = f"Every one of the {len(records)} {plural}, in page order."
    headers = ["Rank", "Name", "Page"] + (["Firms"] if firms else []) + (["Creative firms"] if creative else []) \
        + (["Creative LQ"] if lq else []) + ([klass[0]] if klass else [])
    rows = []
    for rank, (fid, n_firms, n_creative, lq_value, class_value) in enumerate(records, start=1):
        row = [str(rank), str(name_of[fid]), str(page_of[fid])]
        row += [_fmt(n_firms, 0)] if firms else []
        row += [_fmt(n_creative, 0)] if creative else []
        row += [_fmt(lq_value, 2)] if lq else []
        row += [str(class_value) if class_value not in (None, "") else "–"] if klass else []
        rows.append(row)
    return headers, rows, caption


def _fmt(value, places):
    if not isinstance(value, (int, float)) or value != value:
        return "–"
    return f"{value:,.{places}f}"


def methods_text(coverage, settings, plan) -> tuple[str, str]:
    from ..styling import matching_styles

    notes, seen = [], set()
    for layer in plan.results:  # every statistic a layer carries (the key figures show them too)
        for style in matching_styles(layer):
            if style in atlas_pages.METHOD_NOTES and style not in seen:
                seen.add(style)
                notes.append(atlas_pages.METHOD_NOTES[style])
    data = []
    for layer in [*plan.results, *plan.context, *([plan.places] if plan.places is not None else [])]:
        source = Path(layer.source().split("|")[0]).name if layer.providerType() in ("ogr", "gdal") else layer.providerType()
        count = f"{layer.featureCount():,} features, " if layer.type() == QgsMapLayer.VectorLayer else ""
        data.append(f"{friendly_title(layer)} ({layer.name()}): {count}{source}, {layer.crs().authid() or 'no CRS'}.")
    data.append(f"Study area: {plan.study_how}.")
    if plan.places is not None:
        data.append(f"Place names: '{plan.places.name()}', field {plan.place_field}.")
    if plan.basemap is not None:
        data.append(f"Basemap tiles: {settings.basemap_attribution or 'see the attribution line'}.")
    data.append(f"Sources and licences: {plan.attribution}")
    settings_lines = []
    if settings.filter_expression:
        settings_lines.append(f"Only features where {settings.filter_expression}.")
    if settings.sort_expression:
        order = "ascending" if settings.sort_ascending else "descending"
        settings_lines.append(f"Pages sorted by {settings.sort_expression} ({order}).")
    return atlas_pages.methods_columns(notes, data, settings_lines)


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


def write_pdf_metadata(path, title: str, author: str = "", subject: str = "") -> None:
    """Title, author and subject in the PDF's document information (what a reader's Properties dialog and search
    engines show), added by GDAL as an incremental update of the file QGIS wrote."""
    from osgeo import gdal

    try:
        dataset = gdal.Open(str(path), gdal.GA_Update)
    except RuntimeError:  # GDAL raising instead of returning None (gdal.UseExceptions() set elsewhere)
        dataset = None
    if dataset is None:
        raise CreativeClustersError(f"Cannot add the title to {Path(path).name}: GDAL could not open the PDF.")
    for key, value in (("TITLE", title), ("AUTHOR", author), ("SUBJECT", subject),
                       ("CREATOR", "Creative Clusters plugin for QGIS"), ("KEYWORDS", "creative industries, clusters")):
        if value:
            dataset.SetMetadataItem(key, str(value))
    dataset = None  # noqa: F841 - closing writes the update


def layout_metadata(layout) -> tuple[str, str, str]:
    """(title, author, subject) of an atlas layout, from the variables the builder set."""
    scope = QgsExpressionContextUtils.layoutScope(layout)
    title = scope.variable("cc_title") or layout.name()
    author = ", ".join(str(v) for v in (scope.variable("cc_author"), scope.variable("cc_organisation")) if v)
    return str(title), author, str(scope.variable("cc_subtitle") or "")


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
        write_pdf_metadata(temporary, *layout_metadata(layout))
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
    "UK_OPEN_DATA_ATTRIBUTION",
    "build_atlas",
    "check_output_path",
    "export_atlas",
    "export_atlas_pdf",
    "guess_name_expression",
    "iterate_pages",
    "summary_expression",
]
