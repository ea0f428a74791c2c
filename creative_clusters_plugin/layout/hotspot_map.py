"""A one-page PDF map of a Getis-Ord Gi* result layer (title, map, legend, scale bar, north arrow, attribution).

Used by ``make demo`` (``scripts/run_demo.py``) and by ``creativeclusters:exporthotspotmap``. The layer
is drawn with the plugin's ``gi_bin`` style through a map style override, so the caller's layer keeps its
own style; the legend lists all seven confidence classes and the counts per class. Place names, the study-area
outline, muted context layers and an optional basemap come from :mod:`.map_context`, as on the atlas pages.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qgis.core import (
    QgsExpressionContextUtils,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendStyle,
    QgsMapLayerStyle,
    QgsPathResolver,
    QgsPrintLayout,
    QgsProject,
    QgsRenderContext,
    QgsScaleBarSettings,
    QgsSymbolLayerUtils,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont

from ..core.atomic_files import publish
from ..core.errors import CreativeClustersError
from ..styling.apply import build_renderer
from ..styling.palettes import GI_BIN_CLASSES, GI_BIN_NULL
from ..styling.renderers import find_field
from .atlas import (
    DEFAULT_ATTRIBUTION,
    AtlasSettings,
    check_output_path,
    fill_legend,
    legend_entries,
    layout_metadata,
    pdf_settings,
    plan_maps,
    write_pdf_metadata,
)
from .template_builder import ACCENT, MAP_BACKGROUND, NORTH_ARROW_SVG, PAGE_SIZES, TEXT_MUTED


def _font(size, bold=False):
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _label(layout, text, x, y, w, h, size, bold=False, colour="#222222", halign=Qt.AlignmentFlag.AlignLeft, item_id=""):
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)
    label.setText(text)
    label.setFont(_font(size, bold))
    label.setFontColor(QColor(colour))
    label.setHAlign(halign)
    layout.addLayoutItem(label)
    label.attemptMove(QgsLayoutPoint(x, y))
    label.attemptResize(QgsLayoutSize(w, h))
    return label


def class_counts(layer, field) -> list[tuple[str, int]]:
    """(label, number of features) per Gi_Bin class, hot 99 % first, then 'no neighbours'."""
    index = layer.fields().lookupField(field)
    counts = {}
    for feature in layer.getFeatures():
        value = feature.attribute(index)
        try:
            key = int(value)
        except (TypeError, ValueError):
            key = None
        counts[key] = counts.get(key, 0) + 1
    rows = [(label, counts.get(value, 0)) for value, label, _ in reversed(GI_BIN_CLASSES)]
    missing = sum(n for key, n in counts.items() if key not in {v for v, _, _ in GI_BIN_CLASSES})
    if missing:
        rows.append((GI_BIN_NULL[0], missing))
    return rows


@dataclass
class HotspotMapOptions:
    """What ``creativeclusters:exporthotspotmap`` and ``make demo`` let the user choose for the one-page map."""

    title: str = "Creative hot spots"
    subtitle: str = ""
    attribution: str = DEFAULT_ATTRIBUTION  # empty: built from the layers' metadata
    page_size: str = "A4"
    orientation: str = "landscape"
    layers: Sequence = ()  # more layers to draw (top first): results keep their style, context is muted
    places: QgsVectorLayer | None = None
    place_field: str = ""
    study_area: QgsVectorLayer | None = None
    basemap_url: str = ""
    basemap_attribution: str = ""
    field: str | None = None
    author: str = ""


def build_hotspot_layout(layer, options: HotspotMapOptions | None = None, project=None, **legacy):
    """A one-page QgsPrintLayout of a Gi* layer (not added to a layout manager); ``legacy`` keywords (title,
    subtitle, attribution, page_size, orientation, extra_layers, field) fill the options as before."""
    options = _options(options, legacy)
    gi_field = _check_layer(layer, options)
    page_size = options.page_size.upper()
    if page_size not in PAGE_SIZES:
        raise CreativeClustersError("Page size must be A4 or A3.")
    project = project or QgsProject.instance()
    plan = plan_maps(layer, AtlasSettings(
        layers=[layer, *[lyr for lyr in options.layers if lyr is not None and lyr.isValid()]],
        places=options.places, place_field=options.place_field, study_area=options.study_area,
        basemap_url=options.basemap_url, basemap_attribution=options.basemap_attribution,
        attribution=options.attribution or ""), "", project)
    frame = _page(page_size, options.orientation)
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    plan.keep_with(layout)
    layout.setName(options.title)
    layout.renderContext().setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
    layout.pageCollection().page(0).setPageSize(
        page_size, QgsLayoutItemPage.Landscape if frame.landscape else QgsLayoutItemPage.Portrait)
    for key, value in (("cc_title", options.title), ("cc_subtitle", options.subtitle), ("cc_author", options.author)):
        QgsExpressionContextUtils.setLayoutVariable(layout, key, value or "")
    top = _titles(layout, frame, options)
    map_item, legend_renderer = _map(layout, frame, top, layer, gi_field, plan)
    _legend_and_counts(layout, frame, top, map_item, layer, gi_field, legend_renderer, plan)
    _scale_and_north(layout, frame, top, map_item)
    k, m = frame.scale, frame.margin
    _label(layout, plan.attribution, m, frame.height - m - frame.footer * 0.85, frame.width - 2 * m - 45 * k,
           frame.footer * 0.85, 6.0 * k, colour=TEXT_MUTED, item_id="cc_attribution")
    _label(layout, "[% format_date(now(), 'd MMMM yyyy') %]", frame.width - m - 43 * k,
           frame.height - m - frame.footer * 0.85, 43 * k, 6 * k, 7.5 * k, colour=TEXT_MUTED,
           halign=Qt.AlignmentFlag.AlignRight, item_id="cc_date")
    for item in layout.items():
        if isinstance(item, QgsLayoutItemLabel):
            item.refresh()
    return layout


def _options(options, legacy) -> HotspotMapOptions:
    options = options or HotspotMapOptions()
    for key, value in legacy.items():
        if key == "extra_layers":
            key = "layers"
        if not hasattr(options, key):
            raise TypeError(f"Unknown hot-spot map option '{key}'.")
        if value is not None:
            setattr(options, key, value)
    return options


def _check_layer(layer, options) -> str:
    if layer is None or not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        raise CreativeClustersError("Choose a valid Gi* result layer for the hot-spot map.")
    gi_field = find_field(layer, options.field or "Gi_Bin")
    if gi_field is None:
        raise CreativeClustersError(
            f"Layer '{layer.name()}' has no Gi_Bin field: run 'Getis-Ord Gi* hot spots' first."
        )
    if layer.featureCount() == 0:
        raise CreativeClustersError(f"Layer '{layer.name()}' has no features to map.")
    return gi_field


@dataclass
class _Page:
    width: float
    height: float
    scale: float
    landscape: bool

    @property
    def margin(self):
        return 10.0 * self.scale

    @property
    def footer(self):
        return 16.0 * self.scale


def _page(page_size, orientation) -> _Page:
    long_side, short_side = PAGE_SIZES[page_size]
    landscape = orientation.lower() != "portrait"
    width, height = (long_side, short_side) if landscape else (short_side, long_side)
    return _Page(width, height, long_side / 297.0, landscape)


def _titles(layout, frame, options) -> float:
    k, m = frame.scale, frame.margin
    _label(layout, options.title, m, m * 0.7, frame.width - 2 * m, 12 * k, 18 * k, True, ACCENT, item_id="cc_title")
    if options.subtitle:
        _label(layout, options.subtitle, m, m * 0.7 + 12 * k, frame.width - 2 * m, 7 * k, 9.5 * k, colour=TEXT_MUTED,
               item_id="cc_subtitle")
    return m + (20 if options.subtitle else 14) * k


def _map_box(frame, top):
    side = 0.27 * frame.width if frame.landscape else 0.0
    map_w = frame.width - 2 * frame.margin - (side + 0.6 * frame.margin if frame.landscape else 0)
    map_h = frame.height - top - frame.footer - frame.margin - (0 if frame.landscape else 0.22 * frame.height)
    return side, map_w, map_h


def _map(layer_out, frame, top, layer, gi_field, plan):
    layout = layer_out
    _, map_w, map_h = _map_box(frame, top)
    map_item = QgsLayoutItemMap(layout)
    map_item.setId("cc_main_map")
    # CRS before size (a map item without a CRS cannot compute its scale while being resized); the extent
    # after it, with the frame's aspect ratio (setExtent resizes the item to the extent's shape).
    map_item.setCrs(layer.crs())
    layout.addLayoutItem(map_item)
    map_item.attemptMove(QgsLayoutPoint(frame.margin, top))
    map_item.attemptResize(QgsLayoutSize(map_w, map_h))
    map_item.setExtent(fit_extent(plan.extent, map_w, map_h))
    map_item.setFrameEnabled(True)
    map_item.setFrameStrokeColor(QColor("#7a7a7a"))
    map_item.setBackgroundColor(QColor(MAP_BACKGROUND))
    map_item.setLayers(plan.layers())
    map_item.setKeepLayerSet(True)
    # the Gi* layer with the plugin's gi_bin style, without touching the caller's layer (a clone's style)
    clone = layer.clone()
    try:
        clone.setRenderer(build_renderer(layer, "gi_bin", gi_field))
        legend_renderer = clone.renderer().clone()
        for symbol in clone.renderer().symbols(QgsRenderContext()):
            symbol.setClipFeaturesToExtent(False)
        styled = QgsMapLayerStyle()
        styled.readFromLayer(clone)
    finally:
        del clone
    overrides = plan.style_overrides()
    overrides[layer.id()] = styled.xmlData()
    map_item.setLayerStyleOverrides(overrides)
    map_item.setKeepLayerStyles(True)
    map_item.zoomToExtent(plan.extent)
    return map_item, legend_renderer


def _legend_and_counts(layout, frame, top, map_item, layer, gi_field, legend_renderer, plan):
    k, m = frame.scale, frame.margin
    side, map_w, map_h = _map_box(frame, top)
    legend = QgsLayoutItemLegend(layout)
    legend.setId("cc_legend")
    legend.setAutoUpdateModel(False)
    legend.setLinkedMap(map_item)
    legend.setResizeToContents(False)
    legend.setFrameEnabled(True)
    legend.setFrameStrokeColor(QColor("#9a9a9a"))
    for style, size, bold in ((QgsLegendStyle.Title, 10.0 * k, True), (QgsLegendStyle.Group, 8.0 * k, True),
                              (QgsLegendStyle.Subgroup, 8.0 * k, True), (QgsLegendStyle.SymbolLabel, 7.5 * k, False)):
        legend.setStyleFont(style, _font(size, bold))
    layout.addLayoutItem(legend)
    legend_layer = QgsVectorLayer(f"{_geometry_name(layer)}?crs={layer.crs().authid()}", "Hot and cold spots", "memory")
    legend_layer.setRenderer(legend_renderer)
    legend_layer.setParent(layout)
    entries = [(legend_layer, "Hot and cold spots (Gi*)")]
    entries += [(lyr, title) for lyr, title in legend_entries(plan, layout) if lyr is not layer]
    counts = class_counts(layer, gi_field)
    count_text = "Features per class\n" + "\n".join(f"{label}: {n}" for label, n in counts)
    if frame.landscape:
        x2 = m + map_w + 0.6 * m
        legend.attemptMove(QgsLayoutPoint(x2, top))
        legend.attemptResize(QgsLayoutSize(side, 0.58 * map_h))
        _label(layout, count_text, x2, top + 0.58 * map_h + 0.5 * m, side, 0.40 * map_h, 7.5 * k, item_id="cc_counts")
    else:
        y2 = top + map_h + 0.5 * m
        legend.attemptMove(QgsLayoutPoint(m, y2))
        legend.attemptResize(QgsLayoutSize((frame.width - 2 * m) / 2 - 0.3 * m, 0.2 * frame.height))
        _label(layout, count_text, frame.width / 2 + 0.3 * m, y2, (frame.width - 2 * m) / 2 - 0.3 * m,
               0.2 * frame.height, 7.5 * k, item_id="cc_counts")
    fill_legend(legend, entries)


def _scale_and_north(layout, frame, top, map_item):
    k, m = frame.scale, frame.margin
    _, map_w, map_h = _map_box(frame, top)
    bar = QgsLayoutItemScaleBar(layout)
    bar.setId("cc_scalebar")
    bar.setStyle("Single Box")
    bar.setLinkedMap(map_item)
    bar.setUnits(QgsUnitTypes.DistanceKilometers)
    bar.setUnitLabel("km")
    bar.setMapUnitsPerScaleBarUnit(1.0)
    bar.setNumberOfSegments(2)
    bar.setNumberOfSegmentsLeft(0)
    bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
    bar.setMinimumBarWidth(30 * k)
    bar.setMaximumBarWidth(60 * k)
    text_format = QgsTextFormat()
    text_format.setFont(_font(7.5 * k))
    text_format.setSize(7.5 * k)
    bar.setTextFormat(text_format)
    bar.setBackgroundEnabled(True)
    bar.setBackgroundColor(QColor(255, 255, 255, 210))
    layout.addLayoutItem(bar)
    bar.attemptMove(QgsLayoutPoint(m + 3 * k, top + map_h - 13 * k))
    north = QgsLayoutItemPicture(layout)
    north.setId("cc_north_arrow")
    north.setPicturePath(QgsSymbolLayerUtils.svgSymbolNameToPath(NORTH_ARROW_SVG, QgsPathResolver()) or NORTH_ARROW_SVG)
    north.setLinkedMap(map_item)
    layout.addLayoutItem(north)
    north.attemptMove(QgsLayoutPoint(m + map_w - 15 * k, top + 3 * k))
    north.attemptResize(QgsLayoutSize(12 * k, 12 * k))


def fit_extent(extent, width, height):
    """``extent`` grown in one direction to the width/height ratio of a ``width`` × ``height`` frame."""
    from qgis.core import QgsRectangle

    ratio = width / height
    w, h = extent.width(), extent.height()
    if w / h < ratio:
        w = h * ratio
    else:
        h = w / ratio
    c = extent.center()
    return QgsRectangle(c.x() - w / 2, c.y() - h / 2, c.x() + w / 2, c.y() + h / 2)


def _geometry_name(layer):
    from qgis.core import QgsWkbTypes

    return {QgsWkbTypes.PointGeometry: "Point", QgsWkbTypes.LineGeometry: "LineString"}.get(
        QgsWkbTypes.geometryType(layer.wkbType()), "Polygon"
    )


def export_hotspot_map(layer, path, options: HotspotMapOptions | None = None, project=None, **legacy) -> Path:
    """Write a one-page PDF map of the Gi* result ``layer`` to ``path`` (title and author in the PDF's
    properties); returns the path."""
    path = check_output_path(path)
    layout = build_hotspot_layout(layer, options, project, **legacy)
    handle, temporary = tempfile.mkstemp(prefix=".cc-map-", suffix=".pdf", dir=str(path.parent))
    os.close(handle)
    try:
        result = QgsLayoutExporter(layout).exportToPdf(temporary, pdf_settings(layout))
        if result != QgsLayoutExporter.Success:
            raise CreativeClustersError(f"The hot-spot map could not be exported to {path} (error code {int(result)}).")
        write_pdf_metadata(temporary, *layout_metadata(layout))
        publish(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path
