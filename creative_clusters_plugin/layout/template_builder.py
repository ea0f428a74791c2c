"""Builds the atlas page templates shipped in ``resources/templates/`` (``atlas_<a4|a3>_<landscape|portrait>.qpt``).

The templates are generic: every item has a fixed id (``cc_…``) and its text comes from layout variables
(``@cc_title``, ``@cc_subtitle``, ``@cc_attribution``, ``@cc_name_expression``, ``@cc_summary_expression``,
``@cc_feature_plural``, ``@cc_front_pages``) that :mod:`creative_clusters_plugin.layout.atlas` sets for each
atlas, so a user can restyle a template in the layout designer, save it with *Save as Template* and pass
it as ``TEMPLATE``. Items a custom template leaves out are simply not filled.

Page plan (one atlas, one PDF, no merging), each page recognised by its items (``PAGE_ROLES``):

* cover — title band with organisation, author, date and logo, the study-area map, attribution;
* contents — the pages of the book (filled in when the atlas is built);
* summary — a ranked table of every feature (built into the ``cc_summary_table`` frame);
* overview — the whole study area with every atlas feature numbered by its page, legend, scale bar;
* feature page — atlas-driven map, overview inset, key figures table with a plain-English sentence, sub-sector
  chart (built into the ``cc_summary`` and ``cc_chart`` frames), legend, scale bar, north arrow, page number;
* methods and data — what each statistic means, the settings and the data sources.

The front pages carry the data-defined property *exclude from exports* = ``@atlas_featurenumber > 1`` and the
methods page ``@atlas_featurenumber < @atlas_totalfeatures``: the atlas exporter renders the front pages with the
first feature, the methods page after the last one and the feature page for every feature, which gives the whole
book in a single PDF written by ``QgsLayoutExporter.exportToPdf(atlas, …)`` — no PDF merging tool needed, and
QGIS's own ``native:atlaslayouttopdf`` exports the same layout identically.

Regenerate the shipped files with ``/usr/bin/python3 -m creative_clusters_plugin.layout.template_builder``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
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
    "cc_cover_organisation": "[% @cc_organisation %]",
    "cc_cover_contents": (
        "[% 'A map book of the ' || @atlas_totalfeatures || ' ' || @cc_feature_plural "
        "|| if(coalesce(@cc_place_context, '') <> '', ' of ' || @cc_place_context, '') || '.' %]"
    ),
    "cc_cover_date": (
        "[% if(coalesce(@cc_author, '') <> '', 'Prepared by ' || @cc_author || '\n', '') || 'Produced '"
        " || format_date(now(), 'd MMMM yyyy') || ' with the Creative Clusters plugin for QGIS' %]"
    ),
    "cc_cover_attribution": "[% @cc_attribution %]",
    "cc_contents_title": "Contents",
    "cc_contents": "[% @cc_contents %]",
    "cc_contents_2": "[% @cc_contents_2 %]",
    "cc_contents_page_number": "[% 'Page ' || @cc_page_contents || ' of ' || @cc_total_pages %]",
    "cc_summary_page_title": "Summary",
    "cc_summary_page_subtitle": "[% @cc_summary_caption %]",
    "cc_summary_table": "",
    "cc_summary_page_number": "[% 'Page ' || @cc_page_summary || ' of ' || @cc_total_pages %]",
    "cc_overview_title": "[% 'Overview – ' || @atlas_totalfeatures || ' ' || @cc_feature_plural %]",
    "cc_overview_subtitle": "[% @cc_title || ' · each ' || @cc_feature_singular || ' numbered by its page' %]",
    "cc_overview_attribution": "[% @cc_attribution %]",
    "cc_overview_page_number": "[% 'Page ' || @cc_page_overview || ' of ' || @cc_total_pages %]",
    "cc_title": "[% eval(@cc_name_expression) %]",
    "cc_subtitle": "[% @cc_title || if(coalesce(@cc_subtitle, '') <> '', ' · ' || @cc_subtitle, '') %]",
    "cc_summary_heading": "Key figures",
    "cc_summary": "[% eval(@cc_summary_expression) %]",
    "cc_chart": "",
    "cc_date": "[% format_date(now(), 'd MMMM yyyy') %]",
    "cc_attribution": "[% @cc_attribution %]",
    "cc_page_number": "[% 'Page ' || to_string(@atlas_featurenumber + @cc_front_pages) || ' of ' || @cc_total_pages %]",
    "cc_methods_title": "Methods and data",
    "cc_methods": "[% @cc_methods %]",
    "cc_methods_2": "[% @cc_methods_2 %]",
    "cc_methods_page_number": "[% 'Page ' || @cc_page_methods || ' of ' || @cc_total_pages %]",
}

#: the front pages are exported with the first atlas feature only, the back page with the last one
FRONT_PAGE_EXCLUDE = "@atlas_featurenumber > 1"
BACK_PAGE_EXCLUDE = "@atlas_featurenumber < @atlas_totalfeatures"

#: page role -> the item that marks a page as playing it (templates are read by items, not page numbers)
PAGE_ROLES = {
    "cover": "cc_cover_title",
    "contents": "cc_contents",
    "summary": "cc_summary_table",
    "overview": "cc_overview_page_map",
    "feature": "cc_main_map",
    "methods": "cc_methods",
}
FRONT_ROLES = ("cover", "contents", "summary", "overview")
BACK_ROLES = ("methods",)


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

    def picture(self, item_id, page, x, y, w, h):
        """An empty picture frame (the atlas builder sets the logo, or hides it)."""
        picture = QgsLayoutItemPicture(self.layout)
        picture.setId(item_id)
        picture.setResizeMode(QgsLayoutItemPicture.Zoom)
        picture.setBackgroundEnabled(False)
        picture.setFrameEnabled(False)
        self.layout.addLayoutItem(picture)
        self.place(picture, page, x, y, w, h)
        return picture

    def band(self, item_id, page, x, y, w, h, colour=ACCENT):
        shape = QgsLayoutItemShape(self.layout)
        shape.setShapeType(QgsLayoutItemShape.Rectangle)
        shape.setId(item_id)
        shape.setSymbol(QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"}))
        self.layout.addLayoutItem(shape)
        self.place(shape, page, x, y, w, h)
        return shape


@dataclass
class _Frame:
    """Page geometry shared by the page builders (mm)."""

    width: float
    height: float
    scale: float  # A3 is A4 scaled by √2
    landscape: bool

    @property
    def margin(self):
        return 10.0 * self.scale

    @property
    def header(self):
        return 0.10 * self.height if self.landscape else 0.07 * self.height

    @property
    def footer(self):
        return 0.09 * self.height if self.landscape else 0.065 * self.height


def build_template_layout(project, page_size="A4", orientation="landscape") -> QgsPrintLayout:
    """The generic six-page atlas layout for ``page_size`` ("A4"/"A3") and ``orientation``."""
    page_size = page_size.upper()
    orientation = orientation.lower()
    if page_size not in PAGE_SIZES or orientation not in ORIENTATIONS:
        raise ValueError(f"Unsupported page {page_size} {orientation}: use A4/A3 and landscape/portrait.")
    long_side, short_side = PAGE_SIZES[page_size]
    landscape = orientation == "landscape"
    width, height = (long_side, short_side) if landscape else (short_side, long_side)
    scale = long_side / 297.0
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName(f"Creative Clusters atlas {page_size} {orientation}")
    pages = layout.pageCollection()
    page_orientation = QgsLayoutItemPage.Landscape if landscape else QgsLayoutItemPage.Portrait
    pages.page(0).setPageSize(page_size, page_orientation)
    builders = (_cover_page, _contents_page, _summary_page, _overview_page, _feature_page, _methods_page)
    for _ in builders[1:]:
        page = QgsLayoutItemPage(layout)
        page.setPageSize(page_size, page_orientation)
        pages.addPage(page)
    b = _Builder(layout, width, height, 1.0 + (scale - 1.0) * 0.6)
    frame = _Frame(width, height, scale, landscape)
    for index, build_page in enumerate(builders):
        build_page(b, frame, index)
    for index, role in enumerate(("cover", "contents", "summary", "overview", "feature", "methods")):
        exclude = FRONT_PAGE_EXCLUDE if role in FRONT_ROLES else BACK_PAGE_EXCLUDE if role in BACK_ROLES else None
        if exclude:
            pages.page(index).dataDefinedProperties().setProperty(
                QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(exclude))
    return layout


def _footer(b, f, page, prefix, with_date=False):
    """Attribution (left) and page number (right) at the foot of a page."""
    m, footer, k = f.margin, f.footer, f.scale
    b.label(f"{prefix}attribution", page, m, f.height - m - footer * 0.8, f.width - 2 * m - 60 * k, footer * 0.8,
            size=6.0, colour=TEXT_MUTED, text="[% @cc_attribution %]")
    if with_date:
        b.label("cc_date", page, f.width - m - 58 * k, f.height - m - footer * 0.8, 58 * k, footer * 0.4, size=7.5,
                colour=TEXT_MUTED, halign=Qt.AlignmentFlag.AlignRight)
    b.label(f"{prefix}page_number", page, f.width - m - 58 * k, f.height - m - footer * 0.4, 58 * k, footer * 0.4,
            size=7.5, colour=TEXT_MUTED, halign=Qt.AlignmentFlag.AlignRight)


def _heading(b, f, page, title_id, subtitle_id=None):
    m, header = f.margin, f.header
    b.label(title_id, page, m, m * 0.8, f.width - 2 * m, header * 0.6, size=18, bold=True, colour=ACCENT)
    if subtitle_id:
        b.label(subtitle_id, page, m, m * 0.8 + header * 0.6, f.width - 2 * m, header * 0.4, size=10,
                colour=TEXT_MUTED)
    return m + header


def _cover_page(b, f, page):
    W, H, m, k = f.width, f.height, f.margin, f.scale
    if f.landscape:
        band_w = 0.38 * W
        b.band("cc_cover_band", page, 0, 0, band_w, H)
        x, w = m, band_w - 2 * m
        b.label("cc_cover_organisation", page, x, 0.07 * H, w, 0.08 * H, size=11, bold=True, colour="#e8dff0")
        b.label("cc_cover_title", page, x, 0.20 * H, w, 0.30 * H, size=30, bold=True, colour="#ffffff")
        b.label("cc_cover_subtitle", page, x, 0.51 * H, w, 0.12 * H, size=14, colour="#e8dff0")
        b.label("cc_cover_contents", page, x, 0.64 * H, w, 0.08 * H, size=10, colour="#ffffff")
        b.label("cc_cover_date", page, x, 0.73 * H, w, 0.09 * H, size=8.5, colour="#e8dff0")
        b.picture("cc_logo", page, x, 0.84 * H, 0.45 * w, 0.11 * H)
        cover_map = b.map("cc_cover_map", page, band_w + m, m, W - band_w - 2 * m, H - 2 * m - 0.16 * H)
        b.label("cc_cover_attribution", page, band_w + m, H - m - 0.14 * H, W - band_w - 2 * m, 0.14 * H, size=6.5,
                colour=TEXT_MUTED)
    else:
        band_h = 0.40 * H
        b.band("cc_cover_band", page, 0, 0, W, band_h)
        b.label("cc_cover_organisation", page, m, 0.03 * H, W - 2 * m - 45 * k, 0.04 * H, size=11, bold=True,
                colour="#e8dff0")
        b.picture("cc_logo", page, W - m - 40 * k, 0.02 * H, 40 * k, 0.06 * H)
        b.label("cc_cover_title", page, m, 0.09 * H, W - 2 * m, 0.13 * H, size=30, bold=True, colour="#ffffff")
        b.label("cc_cover_subtitle", page, m, 0.22 * H, W - 2 * m, 0.06 * H, size=14, colour="#e8dff0")
        b.label("cc_cover_contents", page, m, 0.285 * H, W - 2 * m, 0.04 * H, size=10, colour="#ffffff")
        b.label("cc_cover_date", page, m, 0.33 * H, W - 2 * m, 0.06 * H, size=8.5, colour="#e8dff0")
        cover_map = b.map("cc_cover_map", page, m, band_h + m, W - 2 * m, H - band_h - 2 * m - 0.09 * H)
        b.label("cc_cover_attribution", page, m, H - m - 0.08 * H, W - 2 * m, 0.08 * H, size=6.5, colour=TEXT_MUTED)
    cover_map.setKeepLayerSet(True)


def _contents_page(b, f, page):
    _two_column_page(b, f, page, "cc_contents", size=9.5)


def _two_column_page(b, f, page, prefix, size):
    """A titled page with two text columns ``<prefix>`` and ``<prefix>_2`` (contents, methods and data)."""
    top = _heading(b, f, page, f"{prefix}_title")
    m, W, H = f.margin, f.width, f.height
    col_w = (W - 3 * m) / 2
    h = H - top - f.footer - m
    b.label(prefix, page, m, top, col_w, h, size=size)
    b.label(f"{prefix}_2", page, 2 * m + col_w, top, col_w, h, size=size)
    _footer(b, f, page, f"{prefix}_")


def _summary_page(b, f, page):
    top = _heading(b, f, page, "cc_summary_page_title", "cc_summary_page_subtitle")
    m = f.margin
    b.label("cc_summary_table", page, m, top, f.width - 2 * m, f.height - top - f.footer - m, size=8)
    _footer(b, f, page, "cc_summary_")


def _overview_page(b, f, page):
    top = _heading(b, f, page, "cc_overview_title", "cc_overview_subtitle")
    W, H, m, k = f.width, f.height, f.margin, f.scale
    if f.landscape:
        side_w = 0.27 * W
        map_w = W - 2 * m - side_w - m * 0.6
        map_h = H - top - f.footer - m
        overview_map = b.map("cc_overview_page_map", page, m, top, map_w, map_h)
        b.legend("cc_overview_legend", page, m + map_w + m * 0.6, top, side_w, map_h, overview_map)
    else:
        map_w = W - 2 * m
        legend_h = 0.20 * H
        map_h = H - top - f.footer - legend_h - 1.5 * m
        overview_map = b.map("cc_overview_page_map", page, m, top, map_w, map_h)
        b.legend("cc_overview_legend", page, m, top + map_h + m * 0.5, map_w, legend_h, overview_map)
    overview_map.setKeepLayerSet(True)
    b.scalebar("cc_overview_scalebar", page, m + 3 * k, top + map_h - 12 * k, overview_map)
    b.north_arrow("cc_overview_north", page, m + map_w - 14 * k, top + 3 * k, 11 * k, overview_map)
    _footer(b, f, page, "cc_overview_")


def _feature_page(b, f, page):
    W, H, m, k, header = f.width, f.height, f.margin, f.scale, f.header
    b.label("cc_title", page, m, m * 0.6, W - 2 * m, header * 0.72, size=17, bold=True, colour=ACCENT,
            valign=Qt.AlignmentFlag.AlignVCenter)
    b.label("cc_subtitle", page, m, m * 0.6 + header * 0.72, W - 2 * m, header * 0.36, size=9.5, colour=TEXT_MUTED)
    top = m + header + 0.02 * H
    if f.landscape:
        side_w = 0.30 * W
        map_w = W - 2 * m - side_w - m * 0.6
        map_h = H - top - f.footer - m
        main_map = b.map("cc_main_map", page, m, top, map_w, map_h)
        x2 = m + map_w + m * 0.6
        boxes = _stack(top, map_h, (0.16, 0.33, 0.22, 0.29), gap=0.010 * H)
        inset = b.map("cc_inset_map", page, x2, boxes[0][0], side_w, boxes[0][1])
        _key_figures(b, page, x2, boxes[1][0], side_w, boxes[1][1], k)
        b.label("cc_chart", page, x2, boxes[2][0], side_w, boxes[2][1], size=6.5)
        b.legend("cc_legend", page, x2, boxes[3][0], side_w, boxes[3][1], main_map)
    else:
        map_w = W - 2 * m
        bottom_h = 0.30 * H
        map_h = H - top - f.footer - bottom_h - 1.6 * m
        main_map = b.map("cc_main_map", page, m, top, map_w, map_h)
        y2 = top + map_h + m * 0.6
        col_w = (map_w - 2 * m * 0.5) / 3
        inset_h = 0.45 * bottom_h
        inset = b.map("cc_inset_map", page, m, y2, col_w, inset_h)
        b.legend("cc_legend", page, m, y2 + inset_h + 0.3 * m, col_w, bottom_h - inset_h - 0.3 * m, main_map)
        x2 = m + col_w + m * 0.5
        _key_figures(b, page, x2, y2, col_w, bottom_h, k)
        b.label("cc_chart", page, x2 + col_w + m * 0.5, y2, col_w, bottom_h, size=6.5)
    inset.setKeepLayerSet(True)
    main_map.setKeepLayerSet(True)
    b.scalebar("cc_scalebar", page, m + 3 * k, top + map_h - 12 * k, main_map)
    b.north_arrow("cc_north_arrow", page, m + map_w - 14 * k, top + 3 * k, 11 * k, main_map)
    _footer(b, f, page, "cc_", with_date=True)


def _stack(top, height, shares, gap):
    """``(y, h)`` boxes splitting ``height`` from ``top`` by ``shares`` with ``gap`` between them."""
    usable = height - gap * (len(shares) - 1)
    boxes, y = [], top
    for share in shares:
        boxes.append((y, usable * share))
        y += usable * share + gap
    return boxes


def _key_figures(b, page, x, y, w, h, k):
    b.label("cc_summary_heading", page, x, y, w, 6 * k, size=9, bold=True, colour="#ffffff", background=ACCENT,
            valign=Qt.AlignmentFlag.AlignVCenter, margin=1.5 * k)
    b.label("cc_summary", page, x, y + 6 * k, w, h - 6 * k, size=7.2, frame=True, background="#ffffff",
            margin=1.8 * k)


def _methods_page(b, f, page):
    _two_column_page(b, f, page, "cc_methods", size=8.5)


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
