"""Builders of QGIS renderers for the plugin's result layers.

Each function takes a layer (and the field to style) and returns a new renderer; it never changes the layer.
:func:`creative_clusters_plugin.styling.apply.apply_style` picks the builder and sets the renderer.
Everything here works headless (no ``iface``): only ``qgis.core`` is used.
"""

from __future__ import annotations

import math

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsClassificationEqualInterval,
    QgsClassificationJenks,
    QgsClassificationPrettyBreaks,
    QgsClassificationQuantile,
    QgsColorBrewerColorRamp,
    QgsColorRampShader,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsGraduatedSymbolRenderer,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsRasterBandStats,
    QgsRasterShader,
    QgsRasterTransparency,
    QgsRendererCategory,
    QgsRendererRange,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsSymbol,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QColor

from ..core.errors import CreativeClustersError
from ..core.firms.subsectors import SUBSECTORS
from . import palettes

#: Classification methods offered for graduated styles (key -> class, label).
CLASSIFICATION_METHODS = {
    "fixed": (None, "Fixed LQ classes (0.8 / 1.25 / 2)"),
    "jenks": (QgsClassificationJenks, "Natural breaks (Jenks)"),
    "quantile": (QgsClassificationQuantile, "Equal count (quantile)"),
    "equal": (QgsClassificationEqualInterval, "Equal interval"),
    "pretty": (QgsClassificationPrettyBreaks, "Pretty breaks"),
}

#: Colour ramps offered in the dock (all exist in QGIS's default style; ColorBrewer ones are rebuilt if not).
RAMP_CHOICES = ("PuRd", "YlOrRd", "Blues", "Greens", "Purples", "Greys", "Viridis", "Magma", "Inferno", "Plasma",
                "Cividis", "RdBu", "Spectral")

OUTLINE = "#5a5a5a"


# --- small helpers -------------------------------------------------------------------------------------
def find_field(layer, *names):
    """The layer's spelling of the first field in ``names`` that exists (case-insensitive), else None."""
    try:
        existing = layer.fields().names()
    except AttributeError:
        return None
    lower = {n.lower(): n for n in existing}
    for name in names:
        if name is None:
            continue
        hit = lower.get(str(name).lower())
        if hit is not None:
            return hit
    return None


def require_field(layer, field, *fallbacks):
    """Resolve ``field`` (or the first existing fallback) or raise a clear error."""
    name = find_field(layer, field, *fallbacks)
    if name is None:
        wanted = ", ".join(repr(n) for n in (field, *fallbacks) if n)
        raise CreativeClustersError(f"Layer '{layer.name()}' has no field {wanted} to style.")
    return name


def geometry_type(layer):
    return QgsWkbTypes.geometryType(layer.wkbType())


def make_symbol(layer, colour, outline=OUTLINE, size=None, outline_width=None, opacity=1.0, level=None) -> QgsSymbol:
    """A simple fill / marker / line symbol matching the layer's geometry type.

    ``level``: the symbol-level rendering pass (lower passes are drawn first, i.e. beneath), used with
    ``renderer.setUsingSymbolLevels(True)``.
    """
    gtype = geometry_type(layer)
    if gtype == QgsWkbTypes.PointGeometry:
        symbol = QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": colour, "outline_color": outline,
             "outline_width": str(outline_width if outline_width is not None else 0.2),
             "size": str(size if size is not None else 2.4)}
        )
    elif gtype == QgsWkbTypes.LineGeometry:
        symbol = QgsLineSymbol.createSimple(
            {"color": colour, "width": str(size if size is not None else 0.6), "capstyle": "round",
             "joinstyle": "round"}
        )
    else:
        symbol = QgsFillSymbol.createSimple(
            {"color": colour, "outline_color": outline, "outline_style": "solid",
             "outline_width": str(outline_width if outline_width is not None else 0.1)}
        )
    symbol.setOpacity(opacity)
    if level is not None:
        _set_level(symbol, level)
    return symbol


def _set_level(symbol, level):
    for index in range(symbol.symbolLayerCount()):
        symbol.symbolLayer(index).setRenderingPass(int(level))
    return symbol


def color_ramp(name=None, invert=False, default=palettes.LQ_DEFAULT_RAMP):
    """A colour ramp by name from QGIS's default style (ColorBrewer rebuilt when the style lacks it)."""
    name = name or default
    ramp = None
    try:
        ramp = QgsStyle.defaultStyle().colorRamp(name)
    except Exception:  # a broken user style database must not break styling
        ramp = None
    if ramp is None:
        if name in QgsColorBrewerColorRamp.listSchemeNames():
            ramp = QgsColorBrewerColorRamp(name, 9)
        else:
            raise CreativeClustersError(f"Unknown colour ramp '{name}'. Known: {', '.join(RAMP_CHOICES)}")
    if invert:
        ramp.invert()
    return ramp


def ramp_colours(ramp, n):
    """``n`` colours evenly spaced along ``ramp`` (ends included)."""
    if n <= 1:
        return [ramp.color(1.0).name()]
    return [ramp.color(i / (n - 1)).name() for i in range(n)]


def _unique_values(layer, field):
    index = layer.fields().lookupField(field)
    values = layer.uniqueValues(index)
    return [v for v in values if v is not None and not (hasattr(v, "isNull") and v.isNull()) and str(v) != "NULL"]


def _numeric_range(layer, field):
    index = layer.fields().lookupField(field)
    lo, hi = layer.minimumValue(index), layer.maximumValue(index)
    try:
        return float(lo), float(hi)
    except (TypeError, ValueError):
        return None, None


def _finite_values(layer, field):
    """The field's finite numeric values, sorted (NULLs and non-numbers left out)."""
    index = layer.fields().lookupField(field)
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry).setSubsetOfAttributes([index])
    values = [float(feature.attribute(index)) for feature in layer.getFeatures(request)
              if _is_number(feature.attribute(index))]
    return sorted(values)


# --- classes that never collapse -----------------------------------------------------------------------
def _method_uppers(method_class, values, classes):
    """Upper bounds of ``classes`` classes of ``values`` by a QGIS classification method."""
    if not values:
        return []
    if len(set(values)) == 1 or classes <= 1:
        return [values[-1]]
    return [r.upperBound() for r in method_class().classes(list(values), int(classes))]


def tidy_breaks(values, uppers):
    """Upper class bounds without duplicates and without empty classes, the last one at ``max(values)``.

    Class *i* holds the values in (upper[i-1], upper[i]] (the first also its lower bound): a break that
    repeats the previous one, or a class no value falls in, is merged into its neighbour, so collapsed
    breaks (few distinct values, many equal values) never give two classes "2.7 – 2.7".
    """
    if not values:
        return []
    values = sorted(values)
    tidy = []
    for upper in sorted(float(u) for u in uppers if _is_number(u)):
        previous = tidy[-1] if tidy else -math.inf
        if upper <= previous:
            continue
        if not any(previous < v <= upper for v in values):
            continue
        tidy.append(upper)
    if not tidy or tidy[-1] < values[-1]:
        tidy.append(values[-1])
    return tidy


def _format_number(value, decimals):
    text = f"{value:,.{decimals}f}"
    if decimals > 0:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def class_labels(values, uppers, min_decimals=1, prefix="", single_values=True, pivot=None):
    """Labels for the classes bounded by ``uppers``, with just enough decimals that they all differ.

    A class holding a single distinct value is labelled by that value when ``single_values``; otherwise
    "lower – upper". A class ending just below ``pivot`` (LQ = 1) reads "lower – under 1".
    """
    values = sorted(values)
    lowers = [values[0], *uppers[:-1]] if values else []
    members = []
    for i, upper in enumerate(uppers):
        lower = -math.inf if i == 0 else uppers[i - 1]
        members.append([v for v in values if lower < v <= upper])
    for decimals in range(int(min_decimals), 10):
        labels = []
        for lower, upper, inside in zip(lowers, uppers, members):
            if single_values and inside and inside[0] == inside[-1]:
                labels.append(f"{prefix}{_format_number(inside[0], decimals)}")
                continue
            if pivot is not None and upper < pivot and math.nextafter(upper, math.inf) >= pivot:
                labels.append(f"{prefix}{_format_number(lower, decimals)} – under {_format_number(pivot, decimals)}")
                continue
            low_text, high_text = _format_number(lower, decimals), _format_number(upper, decimals)
            if low_text == high_text:
                if inside and inside[0] == inside[-1]:
                    labels.append(f"{prefix}{_format_number(inside[0], decimals)}")  # e.g. only LQ = 1 itself
                    continue
                break  # not enough decimals to tell the bounds apart
            labels.append(f"{prefix}{low_text} – {high_text}")
        if len(labels) == len(uppers) and len(set(labels)) == len(labels):
            return labels
    lowers = lowers or [math.nan]
    return [f"{prefix}{lower:.15g} – {upper:.15g}" for lower, upper in zip(lowers, uppers)]


def _ranges_from_breaks(layer, values, uppers, labels, colour="#888888"):
    lowers = [values[0], *uppers[:-1]]
    return [QgsRendererRange(lower, upper, make_symbol(layer, colour), label)
            for lower, upper, label in zip(lowers, uppers, labels)]


def _within_class_sum_of_squares(values, uppers):
    total, start = 0.0, 0
    for upper in uppers:
        stop = start
        while stop < len(values) and values[stop] <= upper:
            stop += 1
        chunk = values[start:stop]
        if chunk:
            mean = sum(chunk) / len(chunk)
            total += sum((v - mean) ** 2 for v in chunk)
        start = stop
    return total


def pivot_breaks(values, method, classes, pivot=palettes.LQ_PIVOT):
    """Upper class bounds for ``values`` with a break exactly at ``pivot`` (values equal to it go above).

    The values below and at-or-above the pivot are classified separately with the QGIS method ``method``
    ("jenks", "quantile", "equal", "pretty"); the ``classes`` classes are shared between the two sides:
    for Jenks the split that leaves the smallest within-class sum of squares, for quantiles in proportion
    to the counts, for equal intervals and pretty breaks in proportion to the value ranges. With values on
    one side only, the plain classification. Collapsed and empty classes are merged (:func:`tidy_breaks`).
    """
    values = sorted(values)
    method_class = CLASSIFICATION_METHODS[method][0]
    classes = max(int(classes), 1)
    below = [v for v in values if v < pivot]
    above = [v for v in values if v >= pivot]
    if not below or not above or classes < 2:
        return tidy_breaks(values, _method_uppers(method_class, values, classes))
    just_below = math.nextafter(pivot, -math.inf)

    def split(k_below):
        low = _method_uppers(method_class, below, k_below)
        low[-1] = just_below
        return tidy_breaks(values, low + _method_uppers(method_class, above, classes - k_below))

    options = range(1, classes)
    if method == "jenks":
        k_below = min(options, key=lambda k: (_within_class_sum_of_squares(values, split(k)), k))
    else:
        if method == "quantile":
            share = len(below) / len(values)
        else:
            share = (pivot - below[0]) / max(above[-1] - below[0], 1e-12)
        k_below = min(max(int(round(classes * share)), 1), classes - 1)
    return split(k_below)


# --- vector renderers -------------------------------------------------------------------------------
def gi_bin_renderer(layer, field=None):
    """Seven Gi* confidence classes, blue – white – red, plus grey for features left NULL (no neighbours)."""
    field = require_field(layer, field or "Gi_Bin")
    categories = [
        QgsRendererCategory(value, make_symbol(layer, colour), label) for value, label, colour in palettes.GI_BIN_CLASSES
    ]
    label, colour = palettes.GI_BIN_NULL
    categories.append(QgsRendererCategory(None, make_symbol(layer, colour), label))
    return QgsCategorizedSymbolRenderer(field, categories)


def cotype_renderer(layer, field=None):
    """Local Moran cluster / outlier types HH, HL, LH, LL and 'not significant' (empty or NULL)."""
    field = require_field(layer, field or "COType")
    categories = [
        QgsRendererCategory(value, make_symbol(layer, colour), label) for value, label, colour in palettes.COTYPE_CLASSES
    ]
    label, colour = palettes.COTYPE_NOT_SIGNIFICANT
    # an empty value is QGIS's "all other values" category: it also catches NULL
    categories.append(QgsRendererCategory("", make_symbol(layer, colour), label))
    return QgsCategorizedSymbolRenderer(field, categories)


def lq_renderer(layer, field=None, method="fixed", classes=5, ramp=None, invert=False):
    """Location quotients in classes.

    ``method="fixed"``: below 0.8, 0.8–1.25, 1.25–2, 2 or more (a value on a break goes to the upper class).
    Otherwise ``"jenks"``, ``"quantile"``, ``"equal"`` or ``"pretty"`` through QGIS's classification methods
    with ``classes`` classes, computed separately below and above LQ = 1 so that 1 is always a break
    (:func:`pivot_breaks`; LQ = 1 goes to the upper class, the class below reads "… – under 1"); collapsed
    classes are merged and labels get the decimals they need to differ. ``ramp`` names a colour ramp;
    with the fixed classes and no ramp the plugin's default PuRd colours are used.
    """
    if field is None:
        field = find_field(layer, "lq_creative") or next(
            (n for n in layer.fields().names() if n.lower().startswith("lq_") and not n.lower().endswith(("_lo", "_hi"))),
            None,
        )
        if field is None:
            raise CreativeClustersError(f"Layer '{layer.name()}' has no location-quotient field (lq_creative, lq_…).")
    else:
        field = require_field(layer, field)
    method = (method or "fixed").lower()
    if method not in CLASSIFICATION_METHODS:
        raise CreativeClustersError(
            f"Unknown classification '{method}'. Choose one of: {', '.join(CLASSIFICATION_METHODS)}."
        )
    if method == "fixed":
        if ramp is None and not invert:
            colours = list(palettes.LQ_DEFAULT_COLOURS)
        else:
            colours = ramp_colours(color_ramp(ramp, invert), 4)
        lo, hi = _numeric_range(layer, field)
        bounds = [min(0.0, lo if lo is not None else 0.0), *palettes.LQ_FIXED_BREAKS,
                  max(1e9, hi if hi is not None else 0.0)]
        ranges = []
        for i, label in enumerate(palettes.LQ_FIXED_LABELS):
            lower = bounds[i]
            # QGIS puts a value equal to a shared bound in the first matching range: end each class just
            # below the next break so LQ = 0.8 is "about average" and LQ = 2 is "highly specialised".
            upper = bounds[i + 1] if i == len(palettes.LQ_FIXED_LABELS) - 1 else math.nextafter(bounds[i + 1], -math.inf)
            ranges.append(QgsRendererRange(lower, upper, make_symbol(layer, colours[i]), label))
        renderer = QgsGraduatedSymbolRenderer(field, ranges)
        return renderer
    values = _finite_values(layer, field)
    method_class = CLASSIFICATION_METHODS[method][0]
    classification = method_class()
    classification.setLabelFormat("%1 – %2")
    classification.setLabelPrecision(2)
    classification.setLabelTrimTrailingZeroes(True)
    if not values:
        renderer = QgsGraduatedSymbolRenderer(field, [])
        renderer.setSourceSymbol(make_symbol(layer, "#888888"))
        renderer.setClassificationMethod(classification)
        return renderer
    # LQ = 1 (the reference area's share) is always a break: classes read "below 1" or "1 and above"
    uppers = pivot_breaks(values, method, classes)
    labels = class_labels(values, uppers, min_decimals=2, single_values=False, pivot=palettes.LQ_PIVOT)
    renderer = QgsGraduatedSymbolRenderer(field, _ranges_from_breaks(layer, values, uppers, labels))
    renderer.setSourceSymbol(make_symbol(layer, "#888888"))
    renderer.setClassificationMethod(classification)
    renderer.updateColorRamp(color_ramp(ramp, invert))
    return renderer


def _subsector_categories(layer, field, else_label, else_colour, size=None, else_size=None, else_outline=OUTLINE,
                          levels=False):
    """One category per DCMS sub-sector, spelled as the layer spells it (names or codes).

    ``levels``: the catch-all ("not creative") category on symbol level 0, the sub-sectors on level 1, so with
    symbol levels on the background is drawn beneath the creative firms.
    """
    values = {str(v).strip().lower(): v for v in _unique_values(layer, field)}
    categories = []
    for code, name in SUBSECTORS.items():
        value = name
        if code in values and name.lower() not in values:
            value = values[code]
        elif name.lower() in values:
            value = values[name.lower()]
        symbol = make_symbol(layer, palettes.SUBSECTOR_COLOURS[code], size=size, level=1 if levels else None)
        categories.append(QgsRendererCategory(value, symbol, name))
    else_symbol = make_symbol(layer, else_colour, size=else_size if else_size is not None else size,
                              outline=else_outline, level=0 if levels else None)
    categories.append(QgsRendererCategory("", else_symbol, else_label))
    return categories


def _background_beneath(renderer):
    """Draw with symbol levels: background categories (level 0) first, the subject (level 1) on top."""
    renderer.setUsingSymbolLevels(True)
    return renderer


def microclusters_renderer(layer, field=None):
    """Microcluster footprints by dominant sub-sector (fixed palette); firm points by cluster id."""
    if field is not None:
        name = require_field(layer, field)
        if name.lower() == "cc_cluster_id":
            return cluster_id_renderer(layer, name)
    else:
        name = find_field(layer, "dominant_subsector")
        if name is None:
            return cluster_id_renderer(layer, require_field(layer, "cc_cluster_id"))
    return QgsCategorizedSymbolRenderer(name, _subsector_categories(layer, name, "Mixed / other", palettes.MIXED_COLOUR))


def cluster_id_renderer(layer, field="cc_cluster_id"):
    """Firms coloured by microcluster id; noise (−1) small, light grey and beneath."""
    palette = palettes.CLUSTER_ID_COLOURS
    ids = sorted({int(v) for v in _unique_values(layer, field) if _is_number(v)})
    categories = []
    colour_index = 0
    for value in ids:
        if value < 0:
            continue
        categories.append(
            QgsRendererCategory(value, make_symbol(layer, palette[colour_index % len(palette)], size=1.8, level=1),
                                f"Microcluster {value}")
        )
        colour_index += 1
    categories.append(
        QgsRendererCategory("", make_symbol(layer, palettes.NEUTRAL_GREY, size=1.0, outline=palettes.NEUTRAL_OUTLINE,
                                            level=0),
                            "Not in a microcluster (noise)")
    )
    return _background_beneath(QgsCategorizedSymbolRenderer(field, categories))


def classified_firms_renderer(layer, field=None):
    """Firms by DCMS sub-sector (same palette as microclusters); non-creative firms smaller, lighter, beneath."""
    field = require_field(layer, field or "cc_subsector")
    categories = _subsector_categories(
        layer, field, "Not creative", palettes.NEUTRAL_GREY, size=palettes.SUBJECT_POINT_SIZE,
        else_size=palettes.BACKGROUND_POINT_SIZE, else_outline=palettes.NEUTRAL_OUTLINE, levels=True,
    )
    return _background_beneath(QgsCategorizedSymbolRenderer(field, categories))


def corridor_links_renderer(layer, field=None, classes=5, method="jenks"):
    """Links between clusters: line width grows with gravity (graduated size), one colour (corridor purple).

    Classes come from the QGIS method on the values; collapsed breaks (few distinct values) are merged, a
    class holding a single value is labelled by it, and labels get the decimals they need to differ.
    """
    field = require_field(layer, field or "gravity")
    symbol = QgsLineSymbol.createSimple({"color": palettes.LINK_COLOUR, "width": "0.6", "capstyle": "round"})
    symbol.setOpacity(0.85)
    method_class = CLASSIFICATION_METHODS.get(method, CLASSIFICATION_METHODS["jenks"])[0] or QgsClassificationJenks
    classification = method_class()
    classification.setLabelFormat(f"{field} %1 – %2")
    classification.setLabelPrecision(1)
    values = _finite_values(layer, field)
    ranges = []
    if values:
        uppers = tidy_breaks(values, _method_uppers(method_class, values, max(int(classes), 1)))
        labels = class_labels(values, uppers, min_decimals=1, prefix=f"{field} ")
        lowers = [values[0], *uppers[:-1]]
        ranges = [QgsRendererRange(lower, upper, symbol.clone(), label)
                  for lower, upper, label in zip(lowers, uppers, labels)]
    renderer = QgsGraduatedSymbolRenderer(field, ranges)
    renderer.setSourceSymbol(symbol)
    renderer.setClassificationMethod(classification)
    renderer.setGraduatedMethod(QgsGraduatedSymbolRenderer.GraduatedSize)
    renderer.setSymbolSizes(0.3, 3.0)
    return renderer


def corridor_ramp():
    """The corridor polygons' purple ramp: rank 1 (strongest) at 0, the weakest at 1 (never pale enough to
    be mistaken for a cold or hot spot)."""
    strong, *middle, weak = palettes.CORRIDOR_COLOURS[1:]
    stops = [QgsGradientStop((i + 1) / (len(middle) + 1), QColor(c)) for i, c in enumerate(middle)]
    return QgsGradientColorRamp(QColor(strong), QColor(weak), False, stops)


def corridors_renderer(layer, field=None, ramp=None):
    """Corridor polygons by rank: rank 1 (strongest) darkest purple; translucent fill, dark purple outline."""
    field = require_field(layer, field or "rank")
    ranks = sorted({_as_number(v) for v in _unique_values(layer, field) if _is_number(v)})
    ramp_obj = corridor_ramp() if ramp is None else color_ramp(ramp, invert=True)  # low rank number = dark

    def symbol(colour):
        return make_symbol(layer, colour, outline=palettes.CORRIDOR_OUTLINE, opacity=0.7, outline_width=0.4)

    if 0 < len(ranks) <= 9:
        colours = ramp_colours(ramp_obj, len(ranks)) if len(ranks) > 1 else [ramp_obj.color(0.0).name()]
        categories = [
            QgsRendererCategory(rank, symbol(colours[i]),
                                f"Corridor rank {int(rank) if float(rank).is_integer() else rank}")
            for i, rank in enumerate(ranks)
        ]
        return QgsCategorizedSymbolRenderer(field, categories)
    values = _finite_values(layer, field)
    ranges = []
    if values:
        uppers = tidy_breaks(values, _method_uppers(QgsClassificationQuantile, values, 5))
        labels = class_labels(values, uppers, min_decimals=0, prefix="rank ")
        lowers = [values[0], *uppers[:-1]]
        ranges = [QgsRendererRange(lo, up, symbol("#9970ab"), label) for lo, up, label in zip(lowers, uppers, labels)]
    renderer = QgsGraduatedSymbolRenderer(field, ranges)
    renderer.setSourceSymbol(symbol("#9970ab"))
    classification = QgsClassificationQuantile()
    classification.setLabelFormat("rank %1 – %2")
    classification.setLabelPrecision(0)
    renderer.setClassificationMethod(classification)
    renderer.updateColorRamp(ramp_obj)
    return renderer


def _true_value(layer, field):
    """How the layer spells "true" in a flag field: True for booleans, 1 where the format stores integers."""
    if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in _unique_values(layer, field)):
        return 1
    return True


def stacks_renderer(layer, field=None):
    """Firms at stacked registered-office addresses in red, the others small, light grey and beneath."""
    field = require_field(layer, field or "cc_stack")
    (true_label, true_colour), (false_label, false_colour) = palettes.STACK_COLOURS[True], palettes.STACK_COLOURS[False]
    categories = [
        QgsRendererCategory(_true_value(layer, field), make_symbol(layer, true_colour, size=2.6, level=1), true_label),
        QgsRendererCategory("", make_symbol(layer, false_colour, size=palettes.BACKGROUND_POINT_SIZE,
                                            outline=palettes.NEUTRAL_OUTLINE, level=0), false_label),
    ]
    return _background_beneath(QgsCategorizedSymbolRenderer(field, categories))


def _emerging_symbol(layer, colour, hollow=False):
    """Pattern symbol: fishnet cells / areas with a thin grey edge; points as circles. ``hollow``: no fill."""
    gtype = geometry_type(layer)
    fill = "0,0,0,0" if hollow else colour
    edge = colour if hollow else "#969696"
    if gtype == QgsWkbTypes.PointGeometry:
        return QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": fill, "outline_color": edge if hollow else OUTLINE,
             "outline_width": "0.2", "size": "1.6" if hollow else "2.6"}
        )
    if gtype == QgsWkbTypes.LineGeometry:
        return QgsLineSymbol.createSimple({"color": colour, "width": "0.3" if hollow else "0.8"})
    properties = {"color": fill, "outline_color": edge, "outline_style": "solid", "outline_width": "0.15"}
    if hollow:
        properties["style"] = "no"
    return QgsFillSymbol.createSimple(properties)


def emerging_hotspots_renderer(layer, field=None):
    """Emerging hot spot patterns (ArcGIS Pro's names and colour logic) on ``CATEGORY`` (or ``PATTERN``).

    1–8 hot patterns in reds and oranges, −1…−8 cold patterns in blues, 0 "No Pattern Detected" with no fill
    and a light grey outline (points: small hollow grey circles, drawn beneath the patterns). Polygons
    (fishnet cells, areas) and points alike.
    """
    field = require_field(layer, field or "CATEGORY", "PATTERN")
    index = layer.fields().lookupField(field)
    by_text = not layer.fields().at(index).isNumeric()
    if by_text:
        existing = {str(v).strip().lower(): v for v in _unique_values(layer, field)}
    classes = (*palettes.EMERGING_CLASSES, palettes.EMERGING_NO_PATTERN)
    categories = []
    for code, label, colour in classes:
        if by_text:
            # a PATTERN text field, or CATEGORY stored as text ("3", "-3")
            value = existing.get(label.lower(), existing.get(str(code), label))
        else:
            value = code
        hollow = code == palettes.EMERGING_NO_PATTERN[0]
        symbol = _set_level(_emerging_symbol(layer, colour, hollow=hollow), 0 if hollow else 1)
        categories.append(QgsRendererCategory(value, symbol, label))
    return _background_beneath(QgsCategorizedSymbolRenderer(field, categories))


# --- raster renderer --------------------------------------------------------------------------------
def density_renderer(layer, band=1, ramp=None, invert=False, transparent_fraction=0.05, classes=8, upper_quantile=0.99,
                     transparent_low=True):
    """Pseudocolour ramp for a density surface; values in the lowest ``transparent_fraction`` of the range are
    fully transparent so the map underneath shows through where there is (almost) nothing.

    The ramp spans the band minimum to its ``upper_quantile`` cumulative cut (a few very dense cells must not
    wash out the rest).
    """
    provider = layer.dataProvider()
    if provider is None or layer.bandCount() < band:
        raise CreativeClustersError(f"Raster '{layer.name()}' has no band {band} to style.")
    stats = provider.bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
    lo, hi = float(stats.minimumValue), float(stats.maximumValue)
    if upper_quantile is not None and upper_quantile < 1.0:
        try:
            cut = provider.cumulativeCut(band, 0.0, float(upper_quantile))
            if isinstance(cut, tuple) and len(cut) == 2 and cut[1] > lo:
                hi = float(cut[1])
        except Exception:  # providers without histogram support keep the plain range
            pass
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    ramp_obj = color_ramp(ramp, invert, default=palettes.DENSITY_DEFAULT_RAMP)
    threshold = lo + float(transparent_fraction) * (hi - lo)
    items = []
    for i in range(classes):
        value = lo + (hi - lo) * i / (classes - 1)
        colour = QColor(ramp_obj.color(i / (classes - 1)))
        if transparent_low and value <= threshold:
            colour.setAlpha(0)
        items.append(QgsColorRampShader.ColorRampItem(value, colour, _format_value(value)))
    shader_function = QgsColorRampShader(lo, hi)
    shader_function.setColorRampType(QgsColorRampShader.Interpolated)
    shader_function.setSourceColorRamp(ramp_obj.clone())
    shader_function.setColorRampItemList(items)
    shader_function.setClip(False)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    transparency = QgsRasterTransparency()
    if transparent_low:
        pixel = QgsRasterTransparency.TransparentSingleValuePixel()
        pixel.min = min(lo, threshold) - abs(lo) * 1e-9 - 1e-12
        pixel.max = threshold
        pixel.percentTransparent = 100.0
        transparency.setTransparentSingleValuePixelList([pixel])
    renderer.setRasterTransparency(transparency)
    renderer.setOpacity(0.85)
    return renderer


def corridor_surface_renderer(layer, band=1, ramp=None, classes=None):
    """Normalised least-cost corridor raster (0 on the least-cost path, higher = weaker corridor, NoData
    outside every corridor).

    Sequential corridor purple whose opacity fades with the value: the core (0) dark and opaque, the edge of
    the corridor (the band maximum) pale and fully transparent, so the map underneath shows through and the
    corridor never prints as a dark block; NoData is not drawn. ``ramp`` replaces the purples (same opacity
    profile); ``classes`` (≥ 2) samples that many colour stops instead of the palette's five.
    """
    provider = layer.dataProvider()
    if provider is None or layer.bandCount() < band:
        raise CreativeClustersError(f"Raster '{layer.name()}' has no band {band} to style.")
    stats = provider.bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
    lo, hi = float(stats.minimumValue), float(stats.maximumValue)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    stops = palettes.CORRIDOR_SURFACE_STOPS
    positions = [p for p, _, _ in stops]
    alphas = [a for _, _, a in stops]
    palette_ramp = QgsGradientColorRamp(
        QColor(stops[0][1]), QColor(stops[-1][1]), False,
        [QgsGradientStop(p, QColor(c)) for p, c, _ in stops[1:-1]],
    )
    ramp_obj = palette_ramp if ramp is None else color_ramp(ramp)
    if classes is not None and int(classes) >= 2:
        positions = [i / (int(classes) - 1) for i in range(int(classes))]
    elif ramp is not None:
        positions = [i / 4 for i in range(5)]
    items = []
    for position in positions:
        value = lo + (hi - lo) * position
        colour = QColor(ramp_obj.color(position))
        alpha = _interpolate(position, [p for p, _, _ in stops], alphas)
        colour.setAlpha(int(round(alpha)))
        items.append(QgsColorRampShader.ColorRampItem(value, colour, _format_value(value)))
    shader_function = QgsColorRampShader(lo, hi)
    shader_function.setColorRampType(QgsColorRampShader.Interpolated)
    shader_function.setSourceColorRamp(ramp_obj.clone())
    shader_function.setColorRampItemList(items)
    shader_function.setClip(True)  # above the maximum: not drawn
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    renderer.setOpacity(1.0)
    return renderer


def _interpolate(x, xs, ys):
    if x <= xs[0]:
        return ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return ys[-1]


# --- value helpers -----------------------------------------------------------------------------------
def _is_number(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _as_number(value):
    number = float(value)
    return int(number) if number.is_integer() else number


def _format_value(value):
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"


__all__ = [
    "CLASSIFICATION_METHODS",
    "RAMP_CHOICES",
    "classified_firms_renderer",
    "cluster_id_renderer",
    "color_ramp",
    "corridor_links_renderer",
    "corridors_renderer",
    "cotype_renderer",
    "corridor_surface_renderer",
    "density_renderer",
    "emerging_hotspots_renderer",
    "find_field",
    "gi_bin_renderer",
    "lq_renderer",
    "make_symbol",
    "microclusters_renderer",
    "stacks_renderer",
    "class_labels",
    "pivot_breaks",
    "tidy_breaks",
]


def selected_clusters_renderer(layer, field=None):
    """Areas selected as clusters by a published recipe (``cc_cluster``) in purple, the others pale grey."""
    field = require_field(layer, field or "cc_cluster")
    (true_label, true_colour) = palettes.SELECTED_CLUSTER_COLOURS[True]
    (false_label, false_colour) = palettes.SELECTED_CLUSTER_COLOURS[False]
    categories = [
        QgsRendererCategory(_true_value(layer, field), make_symbol(layer, true_colour), true_label),
        QgsRendererCategory("", make_symbol(layer, false_colour, outline="#bdbdbd"), false_label),
    ]
    return QgsCategorizedSymbolRenderer(field, categories)


GROWTH_CLASSES = palettes.GROWTH_CLASSES
GROWTH_COLOURS = palettes.GROWTH_COLOURS


def growth_renderer(layer, field=None):
    """Growth-potential quintile classes (``cc_gp_class``) in five greens, Very low → Very high."""
    field = require_field(layer, field or "cc_gp_class")
    categories = [
        QgsRendererCategory(label, make_symbol(layer, colour), label) for label, colour in zip(GROWTH_CLASSES, GROWTH_COLOURS)
    ]
    categories.append(QgsRendererCategory("", make_symbol(layer, "#d9d9d9"), "No score"))
    return QgsCategorizedSymbolRenderer(field, categories)
