"""What the atlas pages say: the contents, the ranked summary table, the methods and data page, and on every
feature page a key-figures table comparing the feature with the study area, one plain-English sentence and a
chart of its creative sub-sector mix.

The figures come from whichever fields the coverage layer has (``n_firms``/``n_all``, ``n_creative``,
``lq_creative`` and its interval ``_lo``/``_hi``, ``Gi_Bin``, ``COType``, ``dominant_subsector``,
``n_<sub-sector>`` …). The study-area column is computed once from the whole coverage layer: totals of the
counts, and the study area's creative share (for microclusters, which do not tile the area, it is recovered from
the features' own location quotients: share ÷ LQ is the same for every feature). Per-feature values are QGIS
expressions evaluated by the atlas on each page, so the layout stays editable in the layout designer.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import (
    QgsExpression,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsLayoutFrame,
    QgsLayoutItemLabel,
    QgsLayoutItemShape,
    QgsLayoutItemTextTable,
    QgsLayoutObject,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLayoutTable,
    QgsLayoutTableColumn,
    QgsLayoutTableStyle,
    QgsProperty,
    QgsTextFormat,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont

from ..core.firms.subsectors import SUBSECTORS
from ..styling.palettes import GI_BIN_CLASSES, SUBSECTOR_COLOURS
from ..styling.renderers import find_field
from .template_builder import ACCENT, TEXT_DARK, TEXT_MUTED

ROW_SHADE = "#f3f0f6"
NARROW_COLUMNS = {"Rank": 10.0, "Page": 10.0}
CLASS_CAPTIONS = ("Hot-spot class", "Local Moran type", "Emerging pattern", "Dominant sub-sector")
#: sub-sector names short enough for a chart row
SHORT_NAMES = {
    "Advertising and marketing": "Advertising, marketing",
    "Design and designer fashion": "Design, designer fashion",
    "Film, TV, video, radio and photography": "Film, TV, radio, photography",
    "IT, software and computer services": "IT, software",
    "Museums, galleries and libraries": "Museums, galleries, libraries",
    "Music, performing and visual arts": "Music, performing, visual arts",
}


def _q(name):
    return QgsExpression.quotedColumnRef(name)


def _text(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# --- study-area figures -----------------------------------------------------------------------------------
@dataclass
class StudyFigures:
    """Totals over the whole coverage layer and the study area's creative share."""

    firms: float | None
    creative: float | None
    share: float | None  # creative / firms of the study area (fraction)
    features: int
    tiles: bool = True  # the features cover the study area (areas), so their totals are the study area's

    def heading(self, plural: str) -> str:
        return "Study area" if self.tiles else f"All {plural}"


def study_figures(layer, tiles: bool = True) -> StudyFigures:
    f = lambda *names: find_field(layer, *names)  # noqa: E731
    firms_f, creative_f, lq_f = f("n_all", "n_firms"), f("n_creative"), f("lq_creative")
    firms = creative = 0.0
    shares = []
    count = 0
    names = [n for n in (firms_f, creative_f, lq_f) if n]
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry).setSubsetOfAttributes(names, layer.fields())
    for feature in layer.getFeatures(request):
        count += 1
        a = feature[firms_f] if firms_f else None
        c = feature[creative_f] if creative_f else None
        lq = feature[lq_f] if lq_f else None
        firms += float(a) if isinstance(a, (int, float)) else 0.0
        creative += float(c) if isinstance(c, (int, float)) else 0.0
        if all(isinstance(v, (int, float)) for v in (a, c, lq)) and a > 0 and lq > 0:
            shares.append((c / a) / lq)
    share = None
    if shares:
        shares.sort()
        share = shares[len(shares) // 2]
    elif firms_f and creative_f and firms > 0:
        share = creative / firms
    return StudyFigures(firms if firms_f else None, creative if creative_f else None, share, count, tiles)


# --- key figures table, sentence and chart --------------------------------------------------------------------
def lq_words_expression(lq, lo=None, hi=None) -> str:
    """Expression saying what the creative LQ and its interval mean."""
    if lo and hi:
        return (f"CASE WHEN {_q(lo)} > 1 THEN 'clearly more concentrated than the study area' "
                f"WHEN {_q(hi)} < 1 THEN 'clearly less concentrated than the study area' "
                f"WHEN {_q(lq)} IS NOT NULL THEN 'not clearly different from the study area' ELSE '' END")
    return (f"CASE WHEN {_q(lq)} >= 1.25 THEN 'more concentrated than the study area' "
            f"WHEN {_q(lq)} <= 0.8 THEN 'less concentrated than the study area' "
            f"WHEN {_q(lq)} IS NOT NULL THEN 'about as concentrated as the study area' ELSE '' END")


def class_expression(layer) -> tuple[str, str] | None:
    """(caption, expression) of the feature's class on the map, when the layer has one."""
    gi = find_field(layer, "Gi_Bin")
    if gi:
        cases = " ".join(f"WHEN {_q(gi)} = {value} THEN {_text(label)}" for value, label, _ in GI_BIN_CLASSES)
        return "Hot-spot class", f"CASE {cases} ELSE 'not tested (no neighbours)' END"
    cotype = find_field(layer, "COType")
    if cotype:
        return "Local Moran type", f"if(coalesce({_q(cotype)}, '') = '', 'not significant', {_q(cotype)})"
    pattern = find_field(layer, "PATTERN")
    if pattern:
        return "Emerging pattern", f"coalesce({_q(pattern)}, '–')"
    dominant = find_field(layer, "dominant_subsector")
    if dominant:
        return "Dominant sub-sector", f"coalesce(to_string({_q(dominant)}), '–')"
    return None


def key_figure_rows(layer, study: StudyFigures) -> list[tuple[str, str, str]]:
    """(caption, expression for this feature, study-area text) rows."""
    f = lambda *names: find_field(layer, *names)  # noqa: E731
    rows = []
    firms, creative, lq = f("n_all", "n_firms"), f("n_creative"), f("lq_creative")
    if firms:
        rows.append(("Firms", f"coalesce(format_number({_q(firms)}, 0), '–')", _count(study.firms)))
    if creative:
        share = (f" || if(coalesce({_q(firms)}, 0) > 0, ' (' || format_number(100.0 * {_q(creative)} / {_q(firms)}, 0)"
                 f" || ' %)', '')") if firms else ""
        own = study.creative / study.firms if study.firms and study.creative is not None else None
        area = _count(study.creative) + (f" ({100 * own:.0f} %)" if own is not None else "")
        rows.append(("Creative firms", f"coalesce(format_number({_q(creative)}, 0), '–'){share}", area))
    if lq:
        lo, hi = f("lq_creative_lo"), f("lq_creative_hi")
        interval = (f" || if({_q(lo)} IS NOT NULL AND {_q(hi)} IS NOT NULL, ' (' || format_number({_q(lo)}, 1)"
                    f" || '–' || format_number({_q(hi)}, 1) || ')', '')") if lo and hi else ""
        reference = "1.00" + (f" ({100 * study.share:.0f} % creative)" if study.share is not None
                              and not study.tiles else "")
        rows.append(("Creative LQ", f"coalesce(format_number({_q(lq)}, 2), '–'){interval}", reference))
    density = f("density_ha", "firms_per_ha")
    if density:
        rows.append(("Firms per ha", f"coalesce(format_number({_q(density)}, 1), '–')", "–"))
    found = class_expression(layer)
    if found:
        rows.append((found[0], found[1], "–"))
    return rows


def _count(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def sentence_expression(layer, singular: str) -> str:
    """One plain-English sentence about the feature (an expression)."""
    f = lambda *names: find_field(layer, *names)  # noqa: E731
    firms, creative, lq = f("n_all", "n_firms"), f("n_creative"), f("lq_creative")
    parts = [f"'This {singular}'"]
    if firms and creative:
        parts.append(f"' has ' || format_number({_q(firms)}, 0) || ' firms, ' || format_number({_q(creative)}, 0)"
                     f" || ' of them creative'")
    elif creative:
        parts.append(f"' has ' || format_number({_q(creative)}, 0) || ' creative firms'")
    if lq:
        lo, hi = f("lq_creative_lo"), f("lq_creative_hi")
        parts.append(f"'. Creative firms are ' || format_number({_q(lq)}, 1) || ' times as large a share of its firms "
                     f"as in the study area (LQ): ' || ({lq_words_expression(lq, lo, hi)})")
    gi = f("Gi_Bin")
    if gi:
        parts.append(f"if({_q(gi)} = 3, '. It is a hot spot at 99 % confidence: a cluster this strong would arise by"
                     f" chance less than once in a hundred times', if({_q(gi)} > 0, '. It is a hot spot (' || "
                     f"CASE WHEN {_q(gi)} = 2 THEN '95' ELSE '90' END || ' % confidence)', ''))")
    if len(parts) == 1:
        return "''"
    return " || ".join(parts) + " || '.'"


def subsector_columns(layer) -> list[tuple[str, str, str]]:
    """(field, sub-sector name, colour) for the n_<code> count fields the layer has."""
    return [(find_field(layer, f"n_{code}"), name, SUBSECTOR_COLOURS[code]) for code, name in SUBSECTORS.items()
            if find_field(layer, f"n_{code}")]


def _label(layout, page, text, x, y, w, h, size, bold=False, colour=TEXT_DARK, background=None,
           halign=Qt.AlignmentFlag.AlignLeft, item_id=""):
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)
    label.setText(text)
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    label.setFont(font)
    label.setFontColor(QColor(colour))
    label.setHAlign(halign)
    label.setVAlign(Qt.AlignmentFlag.AlignVCenter)
    label.setMarginX(1.0)
    label.setMarginY(0.3)
    if background:
        label.setBackgroundEnabled(True)
        label.setBackgroundColor(QColor(background))
    else:
        label.setBackgroundEnabled(False)
    layout.addLayoutItem(label)
    label.attemptResize(QgsLayoutSize(w, h))
    label.attemptMove(QgsLayoutPoint(x, y), page=page)
    return label


def build_key_figures(layout, placeholder, layer, singular: str, plural: str, study: StudyFigures) -> float:
    """Replace the ``cc_summary`` label by a table (caption | this feature | study area) and a sentence;
    returns the height used (mm)."""
    page = placeholder.page()
    pos = placeholder.pagePositionWithUnits()
    x, y = pos.x(), pos.y()
    w, h = placeholder.rect().width(), placeholder.rect().height()
    layout.removeLayoutItem(placeholder)
    rows = key_figure_rows(layer, study)
    row_h = 3.9
    widths = (0.29 * w, 0.35 * w, 0.36 * w)
    header = ("", f"This {singular}", study.heading(plural))
    cx = [x, x + widths[0], x + widths[0] + widths[1]]
    for col, text in enumerate(header):
        _label(layout, page, text, cx[col], y, widths[col], row_h, 6.8, bold=True, colour=TEXT_MUTED,
               item_id=f"cc_kf_head_{col}")
    top = y + row_h
    for r, (caption, expression, area) in enumerate(rows):
        # rows whose text may take two lines (a class name, the study-area reference) get twice the height
        tall = row_h * (2 if len(area) > 24 or r == len(rows) - 1 and caption in CLASS_CAPTIONS else 1)
        shade = ROW_SHADE if r % 2 == 0 else None
        _label(layout, page, caption, cx[0], top, widths[0], tall, 6.8, bold=True, background=shade,
               item_id=f"cc_kf_caption_{r}")
        _label(layout, page, f"[% {expression} %]", cx[1], top, widths[1], tall, 6.8, background=shade,
               item_id=f"cc_kf_value_{r}")
        _label(layout, page, area, cx[2], top, widths[2], tall, 6.8, colour=TEXT_MUTED, background=shade,
               item_id=f"cc_kf_area_{r}")
        top += tall
    used = top - y + 1.0
    sentence = sentence_expression(layer, singular)
    if sentence != "''" and h - used > 6:
        _label(layout, page, f"[% {sentence} %]", x, y + used, w, h - used, 6.6, item_id="cc_kf_sentence")
        layout.itemById("cc_kf_sentence").setVAlign(Qt.AlignmentFlag.AlignTop)
    return h


def build_subsector_chart(layout, placeholder, layer) -> bool:
    """Replace the ``cc_chart`` label by a bar chart of the feature's creative sub-sector mix (bars whose
    width is data-defined from the n_<code> fields); removes the placeholder and returns False when the layer
    has no sub-sector counts."""
    columns = subsector_columns(layer)
    page = placeholder.page()
    pos = placeholder.pagePositionWithUnits()
    x, y = pos.x(), pos.y()
    w, h = placeholder.rect().width(), placeholder.rect().height()
    layout.removeLayoutItem(placeholder)
    if len(columns) < 2:
        return False
    total = " + ".join(f"coalesce({_q(col)}, 0)" for col, _, _ in columns)
    title_h = 4.2
    _label(layout, page, "Creative firms by sub-sector (share)", x, y, w, title_h, 6.8, bold=True,
           item_id="cc_chart_title")
    bar_h = min(3.6, (h - title_h) / len(columns))
    name_w, value_w = 0.44 * w, 0.12 * w
    bar_max = w - name_w - value_w
    for i, (col, name, colour) in enumerate(columns):
        top = y + title_h + i * bar_h
        share = f"(coalesce({_q(col)}, 0) / nullif({total}, 0))"
        _label(layout, page, SHORT_NAMES.get(name, name), x, top, name_w, bar_h, 6.0,
               item_id=f"cc_chart_name_{i}")
        bar = QgsLayoutItemShape(layout)
        bar.setShapeType(QgsLayoutItemShape.Rectangle)
        bar.setId(f"cc_chart_bar_{i}")
        bar.setSymbol(QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"}))
        layout.addLayoutItem(bar)
        bar.attemptResize(QgsLayoutSize(bar_max, bar_h * 0.7))
        bar.attemptMove(QgsLayoutPoint(x + name_w, top + bar_h * 0.15), page=page)
        bar.dataDefinedProperties().setProperty(
            QgsLayoutObject.ItemWidth, QgsProperty.fromExpression(f"max(0.01, coalesce({share}, 0) * {bar_max:.3f})"))
        bar.refreshDataDefinedProperty(QgsLayoutObject.ItemWidth)
        _label(layout, page, f"[% coalesce(format_number(100 * {share}, 0) || ' %', '–') %]",
               x + w - value_w, top, value_w, bar_h, 6.0, halign=Qt.AlignmentFlag.AlignRight,
               item_id=f"cc_chart_value_{i}")
    return True


# --- contents, summary and methods --------------------------------------------------------------------------
def contents_chunks(entries, per_column: int, columns: int = 2) -> list:
    """``entries`` ((page, title) pairs) split into at most ``columns`` lists of rows; overflow is summarised."""
    rows = [[str(page), title] for page, title in entries]
    capacity = columns * per_column
    if len(rows) > capacity:
        rest = entries[capacity - 1:]
        rows = rows[: capacity - 1] + [[f"{rest[0][0]}–{rest[-1][0]}", f"{len(rest)} more pages (see the overview map)"]]
    return [rows[i:i + per_column] for i in range(0, len(rows), per_column)][:columns]


def summary_table(layout, placeholder, rows, headers) -> QgsLayoutItemTextTable:
    """Replace the ``cc_summary_table`` label by a text table of ``rows`` (lists of strings)."""
    page = placeholder.page()
    pos = placeholder.pagePositionWithUnits()
    x, y = pos.x(), pos.y()
    w, h = placeholder.rect().width(), placeholder.rect().height()
    item_id = placeholder.id()
    layout.removeLayoutItem(placeholder)
    table = QgsLayoutItemTextTable(layout)
    columns = []
    for heading in headers:
        column = QgsLayoutTableColumn()
        column.setHeading(heading)
        if heading in NARROW_COLUMNS:
            column.setWidth(NARROW_COLUMNS[heading])
        columns.append(column)
    table.setColumns(columns)
    table.setContents([list(r) for r in rows])
    header_format, content_format = QgsTextFormat(), QgsTextFormat()
    font = QFont()
    font.setBold(True)
    header_format.setFont(font)
    header_format.setSize(9.0)
    header_format.setColor(QColor("#ffffff"))
    content_format.setSize(8.6)
    content_format.setColor(QColor(TEXT_DARK))
    table.setHeaderTextFormat(header_format)
    table.setContentTextFormat(content_format)
    table.setCellMargin(1.0)
    table.setGridStrokeWidth(0.1)
    table.setGridColor(QColor("#c8c8c8"))
    table.setBackgroundColor(QColor("#ffffff"))
    header_style, odd_style = QgsLayoutTableStyle(), QgsLayoutTableStyle()
    header_style.enabled, header_style.cellBackgroundColor = True, QColor(ACCENT)
    odd_style.enabled, odd_style.cellBackgroundColor = True, QColor(ROW_SHADE)
    table.setCellStyle(QgsLayoutTable.HeaderRow, header_style)
    table.setCellStyle(QgsLayoutTable.OddRows, odd_style)
    layout.addMultiFrame(table)
    frame = QgsLayoutFrame(layout, table)
    frame.setId(item_id)
    frame.attemptResize(QgsLayoutSize(w, h))
    frame.attemptMove(QgsLayoutPoint(x, y), page=page)
    table.addFrame(frame)
    table.setResizeMode(table.UseExistingFrames)
    table.refresh()
    return table


#: plain-English explanation of each result type a map may show (style name -> paragraph)
METHOD_NOTES = {
    "lq": "Location quotient (LQ). The creative share of a place's firms divided by the creative share of the "
          "whole study area. An LQ of 2 means creative firms are twice as large a share of its firms as across the "
          "study area; 1 means the same share; below 1, a smaller share. The 95 % interval, when shown, says how "
          "sure the figure is: entirely above 1, the concentration is clear and not an accident of small numbers.",
    "gi_bin": "Hot spots (Getis-Ord Gi*). Each feature is looked at together with its neighbours: a hot spot is a "
              "group with more creative firms than chance would give if firms were spread at random. A 99 % hot "
              "spot is a cluster so strong it would arise by chance less than once in a hundred times (95 %: once "
              "in twenty; 90 %: once in ten). Cold spots are the reverse: fewer than chance.",
    "cotype": "Clusters and outliers (Anselin local Moran's I). HH: a high value among high neighbours (part of a "
              "cluster); LL: low among low; HL: a high value among low neighbours (a standout); LH: low among high. "
              "Blank: not significant at 95 %.",
    "emerging_hotspots": "Emerging hot spots. Firms are counted per place and period; each period is tested for "
                         "hot and cold spots, and each place's run of results gets a pattern: new (hot only in the "
                         "latest period), consecutive, intensifying (hot almost always and getting stronger), "
                         "persistent, diminishing, sporadic (on and off), oscillating (cold before, hot now) or "
                         "historical (hot before, not now).",
    "microclusters": "Microclusters (after Creative PEC's Creative Radar). Groups of creative firms that lie close "
                     "together: each member has a minimum number of other creative firms within a short walking "
                     "distance. The footprint is the area around the members; firms counts every firm inside it, "
                     "creative firms the creative ones. The Herfindahl index measures how concentrated the "
                     "sub-sector mix is (1 = one sub-sector only).",
    "corridors": "Corridors. Least-cost links between clusters through places dense with firms, ranked by how "
                 "strongly they connect (rank 1 is the strongest).",
    "corridor_links": "Corridor links. Candidate links between clusters, their length along the least-cost path and "
                      "their strength (a gravity measure: larger, closer clusters link more strongly).",
    "classified_firms": "Creative firms. Companies whose SIC codes fall within the DCMS definition of the creative "
                        "industries, grouped into nine sub-sectors (advertising, architecture, crafts, design, film "
                        "and TV, IT and software, publishing, museums and libraries, music and performing arts).",
    "clusters": "Selected clusters. Areas meeting Nesta's rule for a creative cluster (high creative LQ and enough "
                "creative activity).",
    "growth": "Growth potential. A composite score of specialisation, recent growth, scale and diversity, after the "
              "DCMS growth-potential framework; classes from low to high.",
    "stacks": "Stacked addresses. Registered offices shared by many companies (formation agents, accountants): "
              "they are not where the businesses work and are set aside.",
}


def methods_columns(notes: list, data_lines: list, settings_lines: list) -> tuple[str, str]:
    """The methods page as two columns: what the statistics mean, then the data and settings."""
    left = "What the maps show\n\n" + "\n\n".join(notes) if notes else "What the maps show\n\nThe layers listed."
    right = "Data\n\n" + "\n".join(f"• {line}" for line in data_lines)
    if settings_lines:
        right += "\n\nSettings\n\n" + "\n".join(f"• {line}" for line in settings_lines)
    right += ("\n\nThe settings of each analysis (distances, minimum sizes, significance) are in QGIS's Processing "
              "history of the run that made the layers.")
    return left, right


__all__ = [
    "METHOD_NOTES",
    "methods_columns",
    "StudyFigures",
    "build_key_figures",
    "build_subsector_chart",
    "class_expression",
    "contents_chunks",
    "key_figure_rows",
    "sentence_expression",
    "study_figures",
    "summary_table",
]
