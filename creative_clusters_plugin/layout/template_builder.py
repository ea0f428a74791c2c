"""Builds the atlas page templates shipped in ``resources/templates/`` (``atlas_<a4|a3>_<landscape|portrait>.qpt``).

The templates are generic: every item has a fixed id (``cc_…``) and its text comes from layout variables
(``@cc_title``, ``@cc_subtitle``, ``@cc_attribution``, ``@cc_name_expression``, ``@cc_summary_expression``,
``@cc_feature_plural``, ``@cc_front_pages``) that :mod:`creative_clusters_plugin.layout.atlas` sets for each
atlas, so a user can restyle a template in the layout designer, save it with *Save as Template* and pass
it as ``TEMPLATE``. Items a custom template leaves out are simply not filled.

Page plan (one atlas, one PDF, no merging):

* page 1 — cover (title band, study-area map, contents, date, attribution);
* page 2 — overview (the whole study area with every atlas feature labelled, legend, scale bar);
* page 3 — the per-feature page (atlas-driven map, overview inset, legend, scale bar, north arrow, key
  figures, date, attribution, page number).

Pages 1 and 2 carry the data-defined property *exclude from exports* = ``@atlas_featurenumber > 1``: the
atlas exporter renders every page for the first feature and only page 3 for the others, which gives
cover, overview, then one page per feature in a single PDF written by
``QgsLayoutExporter.exportToPdf(atlas, …)`` — no PDF merging tool needed, and QGIS's own
``native:atlaslayouttopdf`` exports the same layout identically.

Regenerate the shipped files with ``/usr/bin/python3 -m creative_clusters_plugin.layout.template_builder``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import (
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutItemShape,
    QgsLayoutMeasurement,
    QgsLayoutObject,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendStyle,
    QgsFillSymbol,
    QgsPrintLayout,
    QgsProperty,
    QgsReadWriteContext,
    QgsRectangle,
    QgsScaleBarSettings,
    QgsTextFormat,
    QgsSymbolLayerUtils,
    QgsPathResolver,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont

PAGE_SIZES = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}  # landscape width, height in mm
ORIENTATIONS = ("landscape", "portrait")

ACCENT = "#3b1f4f"  # deep purple title band
TEXT_DARK = "#222222"
TEXT_MUTED = "#555555"
MAP_BACKGROUND = "#f4f3ef"  # neutral, basemap-free background
NORTH_ARROW_SVG = "arrows/NorthArrow_02.svg"

#: label text (QGIS expressions between [% %]) of every generic item
TEXTS = {
    "cc_cover_title": "[% @cc_title %]",
    "cc_cover_subtitle": "[% @cc_subtitle %]",
    "cc_cover_contents": (
        "[% 'This atlas: a cover, an overview of the study area and one page for each of the '"
        " || @atlas_totalfeatures || ' ' || @cc_feature_plural || '.' %]"
    ),
    "cc_cover_date": "[% 'Produced ' || format_date(now(), 'd MMMM yyyy') || ' with the Creative Clusters plugin for QGIS' %]",
    "cc_cover_attribution": "[% @cc_attribution %]",
    "cc_overview_title": "[% 'Overview – ' || @atlas_totalfeatures || ' ' || @cc_feature_plural %]",
    "cc_overview_subtitle": "[% @cc_title %]",
    "cc_overview_attribution": "[% @cc_attribution %]",
    "cc_overview_page_number": "[% 'Page ' || to_string(@cc_front_pages) || ' of ' || to_string(@atlas_totalfeatures + @cc_front_pages) %]",
    "cc_title": "[% eval(@cc_name_expression) %]",
    "cc_subtitle": "[% @cc_title || if(coalesce(@cc_subtitle, '') <> '', ' · ' || @cc_subtitle, '') %]",
    "cc_summary_heading": "Key figures",
    "cc_summary": "[% eval(@cc_summary_expression) %]",
    "cc_date": "[% format_date(now(), 'd MMMM yyyy') %]",
    "cc_attribution": "[% @cc_attribution %]",
    "cc_page_number": "[% 'Page ' || to_string(@atlas_featurenumber + @cc_front_pages) || ' of ' || to_string(@atlas_totalfeatures + @cc_front_pages) %]",
}

#: the front pages (cover, overview) are exported with the first atlas feature only
FRONT_PAGE_EXCLUDE = "@atlas_featurenumber > 1"


def _font(size, bold=False, scale=1.0):
    font = QFont()
    font.setPointSizeF(size * scale)
    font.setBold(bold)
    return font


class _Builder:
    def __init__(self, layout, width, height, scale):
        self.layout = layout
        self.w = width
        self.h = height
        self.s = scale  # font scale

    def place(self, item, page, x, y, w, h):
        item.attemptResize(QgsLayoutSize(w, h))
        item.attemptMove(QgsLayoutPoint(x, y), page=page)

    def label(self, item_id, page, x, y, w, h, size=9.0, bold=False, colour=TEXT_DARK, halign=Qt.AlignmentFlag.AlignLeft,
              valign=Qt.AlignmentFlag.AlignTop, text=None, frame=False, background=None, margin=0.0):
        label = QgsLayoutItemLabel(self.layout)
        label.setId(item_id)
        label.setText(text if text is not None else TEXTS[item_id])
        label.setFont(_font(size, bold, self.s))
        label.setFontColor(QColor(colour))
        label.setHAlign(halign)
        label.setVAlign(valign)
        label.setMarginX(margin)
        label.setMarginY(margin)
        label.setFrameEnabled(frame)
        if frame:
            label.setFrameStrokeColor(QColor("#9a9a9a"))
            label.setFrameStrokeWidth(QgsLayoutMeasurement(0.2))
        if background:
            label.setBackgroundEnabled(True)
            label.setBackgroundColor(QColor(background))
        else:
            label.setBackgroundEnabled(False)
        self.layout.addLayoutItem(label)
        self.place(label, page, x, y, w, h)
        return label

    def map(self, item_id, page, x, y, w, h):
        item = QgsLayoutItemMap(self.layout)
        item.setId(item_id)
        item.setFrameEnabled(True)
        item.setFrameStrokeColor(QColor("#7a7a7a"))
        item.setFrameStrokeWidth(QgsLayoutMeasurement(0.3))
        item.setBackgroundColor(QColor(MAP_BACKGROUND))
        self.layout.addLayoutItem(item)
        self.place(item, page, x, y, w, h)
        # a template map needs a real extent (an empty one is saved as NaN and breaks the item's size);
        # the atlas builder replaces it with the study area
        item.setExtent(QgsRectangle(0, 0, w * 100.0, h * 100.0))
        return item

    def legend(self, item_id, page, x, y, w, h, linked_map):
        legend = QgsLayoutItemLegend(self.layout)
        legend.setId(item_id)
        legend.setTitle("Legend")
        legend.setAutoUpdateModel(False)
        legend.setResizeToContents(False)
        legend.setLinkedMap(linked_map)
        legend.setLegendFilterByMapEnabled(True)
        legend.setSymbolWidth(5.0)
        legend.setSymbolHeight(3.5)
        legend.setWrapString("")
        legend.setFrameEnabled(True)
        legend.setFrameStrokeColor(QColor("#9a9a9a"))
        legend.setFrameStrokeWidth(QgsLayoutMeasurement(0.2))
        legend.setBackgroundColor(QColor("#ffffff"))
        for style, size, bold in ((QgsLegendStyle.Title, 9.0, True), (QgsLegendStyle.Group, 8.0, True),
                                  (QgsLegendStyle.Subgroup, 7.5, True), (QgsLegendStyle.SymbolLabel, 6.5, False)):
            legend.setStyleFont(style, _font(size, bold, self.s))
        legend.model().rootGroup().removeAllChildren()
        self.layout.addLayoutItem(legend)
        self.place(legend, page, x, y, w, h)
        return legend

    def scalebar(self, item_id, page, x, y, linked_map):
        bar = QgsLayoutItemScaleBar(self.layout)
        bar.setId(item_id)
        bar.setStyle("Single Box")
        bar.setLinkedMap(linked_map)
        bar.setUnits(QgsUnitTypes.DistanceKilometers)
        bar.setUnitLabel("km")
        bar.setMapUnitsPerScaleBarUnit(1.0)  # the label multiplier: distances are measured in km already
        bar.setNumberOfSegments(2)
        bar.setNumberOfSegmentsLeft(0)
        bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
        bar.setMinimumBarWidth(25.0 * self.s)
        bar.setMaximumBarWidth(50.0 * self.s)
        bar.setHeight(1.8 * self.s)
        text_format = QgsTextFormat()
        text_format.setFont(_font(7.0, False, self.s))
        text_format.setSize(7.0 * self.s)
        bar.setTextFormat(text_format)
        bar.setBackgroundEnabled(True)
        bar.setBackgroundColor(QColor(255, 255, 255, 210))
        self.layout.addLayoutItem(bar)
        bar.attemptMove(QgsLayoutPoint(x, y), page=page)
        bar.update()
        return bar

    def north_arrow(self, item_id, page, x, y, size, linked_map):
        picture = QgsLayoutItemPicture(self.layout)
        picture.setId(item_id)
        path = QgsSymbolLayerUtils.svgSymbolNameToPath(NORTH_ARROW_SVG, QgsPathResolver()) or NORTH_ARROW_SVG
        picture.setPicturePath(path)
        picture.setLinkedMap(linked_map)
        picture.setNorthMode(QgsLayoutItemPicture.GridNorth)
        picture.setBackgroundEnabled(False)
        self.layout.addLayoutItem(picture)
        self.place(picture, page, x, y, size, size)
        return picture

    def band(self, item_id, page, x, y, w, h, colour=ACCENT):
        shape = QgsLayoutItemShape(self.layout)
        shape.setShapeType(QgsLayoutItemShape.Rectangle)
        shape.setId(item_id)
        shape.setSymbol(QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"}))
        self.layout.addLayoutItem(shape)
        self.place(shape, page, x, y, w, h)
        return shape


def build_template_layout(project, page_size="A4", orientation="landscape") -> QgsPrintLayout:
    """The generic three-page atlas layout for ``page_size`` ("A4"/"A3") and ``orientation``."""
    page_size = page_size.upper()
    orientation = orientation.lower()
    if page_size not in PAGE_SIZES or orientation not in ORIENTATIONS:
        raise ValueError(f"Unsupported page {page_size} {orientation}: use A4/A3 and landscape/portrait.")
    long_side, short_side = PAGE_SIZES[page_size]
    landscape = orientation == "landscape"
    width, height = (long_side, short_side) if landscape else (short_side, long_side)
    scale = long_side / 297.0  # A3 is A4 scaled by √2
    font_scale = 1.0 + (scale - 1.0) * 0.6

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName(f"Creative Clusters atlas {page_size} {orientation}")
    pages = layout.pageCollection()
    page_orientation = QgsLayoutItemPage.Landscape if landscape else QgsLayoutItemPage.Portrait
    pages.page(0).setPageSize(page_size, page_orientation)
    for _ in range(2):
        page = QgsLayoutItemPage(layout)
        page.setPageSize(page_size, page_orientation)
        pages.addPage(page)
    for index in (0, 1):
        pages.page(index).dataDefinedProperties().setProperty(
            QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(FRONT_PAGE_EXCLUDE)
        )
    b = _Builder(layout, width, height, font_scale)
    m = 10.0 * scale  # page margin
    W, H = width, height

    # --- page 1: cover -----------------------------------------------------------------------------
    if landscape:
        band_w = 0.38 * W
        b.band("cc_cover_band", 0, 0, 0, band_w, H)
        b.label("cc_cover_title", 0, m, 0.22 * H, band_w - 2 * m, 0.30 * H, size=30, bold=True, colour="#ffffff")
        b.label("cc_cover_subtitle", 0, m, 0.53 * H, band_w - 2 * m, 0.14 * H, size=14, colour="#e8dff0")
        b.label("cc_cover_contents", 0, m, 0.70 * H, band_w - 2 * m, 0.12 * H, size=10, colour="#ffffff")
        b.label("cc_cover_date", 0, m, 0.84 * H, band_w - 2 * m, 0.08 * H, size=8.5, colour="#e8dff0")
        cover_map = b.map("cc_cover_map", 0, band_w + m, m, W - band_w - 2 * m, H - 2 * m - 0.16 * H)
        b.label("cc_cover_attribution", 0, band_w + m, H - m - 0.14 * H, W - band_w - 2 * m, 0.14 * H, size=6.5,
                colour=TEXT_MUTED)
    else:
        band_h = 0.36 * H
        b.band("cc_cover_band", 0, 0, 0, W, band_h)
        b.label("cc_cover_title", 0, m, 0.06 * H, W - 2 * m, 0.14 * H, size=30, bold=True, colour="#ffffff")
        b.label("cc_cover_subtitle", 0, m, 0.20 * H, W - 2 * m, 0.06 * H, size=14, colour="#e8dff0")
        b.label("cc_cover_contents", 0, m, 0.265 * H, W - 2 * m, 0.05 * H, size=10, colour="#ffffff")
        b.label("cc_cover_date", 0, m, 0.32 * H, W - 2 * m, 0.03 * H, size=8.5, colour="#e8dff0")
        cover_map = b.map("cc_cover_map", 0, m, band_h + m, W - 2 * m, H - band_h - 2 * m - 0.09 * H)
        b.label("cc_cover_attribution", 0, m, H - m - 0.08 * H, W - 2 * m, 0.08 * H, size=6.5, colour=TEXT_MUTED)
    cover_map.setKeepLayerSet(True)

    # --- page 2: overview ----------------------------------------------------------------------------
    header_h = 0.10 * H if landscape else 0.07 * H
    footer_h = 0.09 * H if landscape else 0.065 * H
    b.label("cc_overview_title", 1, m, m * 0.8, W - 2 * m, header_h * 0.6, size=18, bold=True, colour=ACCENT)
    b.label("cc_overview_subtitle", 1, m, m * 0.8 + header_h * 0.6, W - 2 * m, header_h * 0.4, size=10,
            colour=TEXT_MUTED)
    top = m + header_h
    if landscape:
        side_w = 0.27 * W
        map_w = W - 2 * m - side_w - m * 0.6
        map_h = H - top - footer_h - m
        overview_map = b.map("cc_overview_page_map", 1, m, top, map_w, map_h)
        b.legend("cc_overview_legend", 1, m + map_w + m * 0.6, top, side_w, map_h, overview_map)
    else:
        map_w = W - 2 * m
        legend_h = 0.20 * H
        map_h = H - top - footer_h - legend_h - 1.5 * m
        overview_map = b.map("cc_overview_page_map", 1, m, top, map_w, map_h)
        b.legend("cc_overview_legend", 1, m, top + map_h + m * 0.5, map_w, legend_h, overview_map)
    overview_map.setKeepLayerSet(True)
    b.scalebar("cc_overview_scalebar", 1, m + 3 * scale, top + map_h - 12 * scale, overview_map)
    b.north_arrow("cc_overview_north", 1, m + map_w - 14 * scale, top + 3 * scale, 11 * scale, overview_map)
    b.label("cc_overview_attribution", 1, m, H - m - footer_h * 0.8, W - 2 * m - 35 * scale, footer_h * 0.8,
            size=6.0, colour=TEXT_MUTED)
    b.label("cc_overview_page_number", 1, W - m - 33 * scale, H - m - footer_h * 0.8, 33 * scale, footer_h * 0.8,
            size=7.5, colour=TEXT_MUTED, halign=Qt.AlignmentFlag.AlignRight)

    # --- page 3: one feature --------------------------------------------------------------------------
    b.label("cc_title", 2, m, m * 0.6, W - 2 * m, header_h * 0.72, size=17, bold=True, colour=ACCENT,
            valign=Qt.AlignmentFlag.AlignVCenter)
    b.label("cc_subtitle", 2, m, m * 0.6 + header_h * 0.72, W - 2 * m, header_h * 0.36, size=9.5, colour=TEXT_MUTED)
    top = m + header_h + 0.02 * H
    if landscape:
        side_w = 0.28 * W
        map_w = W - 2 * m - side_w - m * 0.6
        map_h = H - top - footer_h - m
        main_map = b.map("cc_main_map", 2, m, top, map_w, map_h)
        x2 = m + map_w + m * 0.6
        inset_h = 0.22 * H
        inset = b.map("cc_inset_map", 2, x2, top, side_w, inset_h)
        summary_h = 0.20 * H
        legend_top = top + inset_h + 0.02 * H
        legend_h = map_h - inset_h - summary_h - 0.04 * H
        b.legend("cc_legend", 2, x2, legend_top, side_w, legend_h, main_map)
        summary_top = legend_top + legend_h + 0.02 * H
        b.label("cc_summary_heading", 2, x2, summary_top, side_w, 6 * scale, size=9, bold=True, colour="#ffffff",
                background=ACCENT, valign=Qt.AlignmentFlag.AlignVCenter, margin=1.5 * scale)
        b.label("cc_summary", 2, x2, summary_top + 6 * scale, side_w, summary_h - 6 * scale, size=7.2,
                frame=True, background="#ffffff", margin=1.8 * scale)
    else:
        map_w = W - 2 * m
        bottom_h = 0.25 * H
        map_h = H - top - footer_h - bottom_h - 1.6 * m
        main_map = b.map("cc_main_map", 2, m, top, map_w, map_h)
        y2 = top + map_h + m * 0.6
        col_w = (map_w - 2 * m * 0.5) / 3
        inset = b.map("cc_inset_map", 2, m, y2, col_w, bottom_h)
        b.legend("cc_legend", 2, m + col_w + m * 0.5, y2, col_w, bottom_h, main_map)
        x3 = m + 2 * (col_w + m * 0.5)
        b.label("cc_summary_heading", 2, x3, y2, col_w, 6 * scale, size=9, bold=True, colour="#ffffff",
                background=ACCENT, valign=Qt.AlignmentFlag.AlignVCenter, margin=1.5 * scale)
        b.label("cc_summary", 2, x3, y2 + 6 * scale, col_w, bottom_h - 6 * scale, size=7.0, frame=True,
                background="#ffffff", margin=1.8 * scale)
    inset.setKeepLayerSet(True)
    main_map.setKeepLayerSet(True)
    b.scalebar("cc_scalebar", 2, m + 3 * scale, top + map_h - 12 * scale, main_map)
    b.north_arrow("cc_north_arrow", 2, m + map_w - 14 * scale, top + 3 * scale, 11 * scale, main_map)
    b.label("cc_attribution", 2, m, H - m - footer_h * 0.8, W - 2 * m - 60 * scale, footer_h * 0.8, size=6.0,
            colour=TEXT_MUTED)
    b.label("cc_date", 2, W - m - 58 * scale, H - m - footer_h * 0.8, 58 * scale, footer_h * 0.4, size=7.5,
            colour=TEXT_MUTED, halign=Qt.AlignmentFlag.AlignRight)
    b.label("cc_page_number", 2, W - m - 58 * scale, H - m - footer_h * 0.4, 58 * scale, footer_h * 0.4, size=7.5,
            colour=TEXT_MUTED, halign=Qt.AlignmentFlag.AlignRight)
    return layout


def template_name(page_size="A4", orientation="landscape") -> str:
    return f"atlas_{page_size.lower()}_{orientation.lower()}.qpt"


def write_templates(folder) -> list[Path]:
    """Write the four shipped templates into ``folder``."""
    from qgis.core import QgsProject

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    project = QgsProject()
    for page_size in PAGE_SIZES:
        for orientation in ORIENTATIONS:
            layout = build_template_layout(project, page_size, orientation)
            path = folder / template_name(page_size, orientation)
            if not layout.saveAsTemplate(str(path), QgsReadWriteContext()):
                raise OSError(f"could not write {path}")
            written.append(path)
    return written


def main(argv=None):  # pragma: no cover - maintenance entry point
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    from ..resources_path import resources_dir

    app = QgsApplication([], False)
    app.initQgis()
    target = Path(argv[0]) if argv else resources_dir() / "templates"
    for path in write_templates(target):
        print(path)
    app.exitQgis()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
