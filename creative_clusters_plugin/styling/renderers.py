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
    QgsFillSymbol,
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
from ..core.subsectors import SUBSECTORS
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
RAMP_CHOICES = ("PuRd", "YlOrRd", "Blues", "Greens", "Purples", "Viridis", "Magma", "Inferno", "Plasma", "Cividis",
                "RdBu", "Spectral")

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


def make_symbol(layer, colour, outline=OUTLINE, size=None, outline_width=None, opacity=1.0) -> QgsSymbol:
    """A simple fill / marker / line symbol matching the layer's geometry type."""
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
    (``setClassificationMethod`` + ``updateClasses``) with ``classes`` classes. ``ramp`` names a colour ramp;
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
    renderer = QgsGraduatedSymbolRenderer(field, [])
    renderer.setSourceSymbol(make_symbol(layer, "#888888"))
    renderer.setSourceColorRamp(color_ramp(ramp, invert))
    method_class = CLASSIFICATION_METHODS[method][0]
    classification = method_class()
    classification.setLabelFormat("%1 – %2")
    classification.setLabelPrecision(2)
    classification.setLabelTrimTrailingZeroes(True)
    renderer.setClassificationMethod(classification)
    renderer.updateClasses(layer, int(classes))
    renderer.updateColorRamp(color_ramp(ramp, invert))
    return renderer


def _subsector_categories(layer, field, else_label, else_colour, size=None):
    """One category per DCMS sub-sector, spelled as the layer spells it (names or codes)."""
    values = {str(v).strip().lower(): v for v in _unique_values(layer, field)}
    categories = []
    for code, name in SUBSECTORS.items():
        value = name
        if code in values and name.lower() not in values:
            value = values[code]
        elif name.lower() in values:
            value = values[name.lower()]
        categories.append(
            QgsRendererCategory(value, make_symbol(layer, palettes.SUBSECTOR_COLOURS[code], size=size), name)
        )
    categories.append(QgsRendererCategory("", make_symbol(layer, else_colour, size=size), else_label))
    return categories


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
    """Firms coloured by microcluster id; noise (−1) small and grey."""
    palette = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#ee8866", "#77aadd",
               "#99ddff", "#44bb99", "#eedd88", "#ffaabb")
    ids = sorted({int(v) for v in _unique_values(layer, field) if _is_number(v)})
    categories = []
    colour_index = 0
    for value in ids:
        if value < 0:
            continue
        categories.append(
            QgsRendererCategory(value, make_symbol(layer, palette[colour_index % len(palette)], size=1.8),
                                f"Microcluster {value}")
        )
        colour_index += 1
    categories.append(
        QgsRendererCategory("", make_symbol(layer, palettes.NEUTRAL_GREY, size=1.0, outline="#a0a0a0"),
                            "Not in a microcluster (noise)")
    )
    return QgsCategorizedSymbolRenderer(field, categories)


def classified_firms_renderer(layer, field=None):
    """Firms by DCMS sub-sector (same palette as microclusters); non-creative firms small and grey."""
    field = require_field(layer, field or "cc_subsector")
    return QgsCategorizedSymbolRenderer(
        field, _subsector_categories(layer, field, "Not creative", palettes.NEUTRAL_GREY, size=1.6)
    )


def corridor_links_renderer(layer, field=None, classes=5, method="jenks"):
    """Links between clusters: line width grows with gravity (graduated size), one colour."""
    field = require_field(layer, field or "gravity")
    renderer = QgsGraduatedSymbolRenderer(field, [])
    symbol = QgsLineSymbol.createSimple({"color": palettes.LINK_COLOUR, "width": "0.6", "capstyle": "round"})
    symbol.setOpacity(0.85)
    renderer.setSourceSymbol(symbol)
    method_class = CLASSIFICATION_METHODS.get(method, CLASSIFICATION_METHODS["jenks"])[0] or QgsClassificationJenks
    classification = method_class()
    classification.setLabelFormat("gravity %1 – %2")
    classification.setLabelPrecision(1)
    renderer.setClassificationMethod(classification)
    renderer.setGraduatedMethod(QgsGraduatedSymbolRenderer.GraduatedSize)
    renderer.updateClasses(layer, int(classes))
    renderer.setSymbolSizes(0.3, 3.0)
    return renderer


def corridors_renderer(layer, field=None, ramp=None):
    """Corridor polygons by rank: rank 1 (strongest) darkest; semi-transparent fill."""
    field = require_field(layer, field or "rank")
    ranks = sorted({_as_number(v) for v in _unique_values(layer, field) if _is_number(v)})
    ramp_obj = color_ramp(ramp, invert=True, default=palettes.CORRIDOR_RAMP)  # low rank number = dark
    if 0 < len(ranks) <= 9:
        colours = ramp_colours(ramp_obj, max(len(ranks), 2))
        categories = [
            QgsRendererCategory(rank, make_symbol(layer, colours[i], outline="#7f2704", opacity=0.75,
                                                  outline_width=0.4),
                                f"Corridor rank {int(rank) if float(rank).is_integer() else rank}")
            for i, rank in enumerate(ranks)
        ]
        return QgsCategorizedSymbolRenderer(field, categories)
    renderer = QgsGraduatedSymbolRenderer(field, [])
    renderer.setSourceSymbol(make_symbol(layer, "#fd8d3c", outline="#7f2704", opacity=0.75, outline_width=0.4))
    renderer.setSourceColorRamp(ramp_obj)
    classification = QgsClassificationQuantile()
    classification.setLabelFormat("rank %1 – %2")
    classification.setLabelPrecision(0)
    renderer.setClassificationMethod(classification)
    renderer.updateClasses(layer, 5)
    renderer.updateColorRamp(color_ramp(ramp, invert=True, default=palettes.CORRIDOR_RAMP))
    return renderer


def _true_value(layer, field):
    """How the layer spells "true" in a flag field: True for booleans, 1 where the format stores integers."""
    if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in _unique_values(layer, field)):
        return 1
    return True


def stacks_renderer(layer, field=None):
    """Firms at stacked registered-office addresses in red, the others small and grey."""
    field = require_field(layer, field or "cc_stack")
    (true_label, true_colour), (false_label, false_colour) = palettes.STACK_COLOURS[True], palettes.STACK_COLOURS[False]
    categories = [
        QgsRendererCategory(_true_value(layer, field), make_symbol(layer, true_colour, size=2.6), true_label),
        QgsRendererCategory("", make_symbol(layer, false_colour, size=1.2, outline="#a0a0a0"), false_label),
    ]
    return QgsCategorizedSymbolRenderer(field, categories)


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


def corridor_surface_renderer(layer, band=1, ramp=None, classes=8):
    """Normalised least-cost corridor raster: 0 (on the least-cost path) darkest, fading to pale at the cut-off
    width; cells outside every corridor are nodata and so not drawn."""
    return density_renderer(layer, band=band, ramp=ramp or "Magma", invert=False, classes=classes,
                            upper_quantile=None, transparent_low=False)


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
    "density_renderer",
    "find_field",
    "gi_bin_renderer",
    "lq_renderer",
    "make_symbol",
    "microclusters_renderer",
    "stacks_renderer",
]


def selected_clusters_renderer(layer, field=None):
    """Areas selected as clusters by a published recipe (``cc_cluster``) in purple, the others pale grey."""
    field = require_field(layer, field or "cc_cluster")
    categories = [
        QgsRendererCategory(_true_value(layer, field), make_symbol(layer, "#6a3d9a"), "Creative cluster"),
        QgsRendererCategory("", make_symbol(layer, "#eeeeee", outline="#bdbdbd"), "Not selected"),
    ]
    return QgsCategorizedSymbolRenderer(field, categories)


GROWTH_CLASSES = ("Very low", "Low", "Medium", "High", "Very high")
GROWTH_COLOURS = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")


def growth_renderer(layer, field=None):
    """Growth-potential quintile classes (``cc_gp_class``) in five greens, Very low → Very high."""
    field = require_field(layer, field or "cc_gp_class")
    categories = [
        QgsRendererCategory(label, make_symbol(layer, colour), label) for label, colour in zip(GROWTH_CLASSES, GROWTH_COLOURS)
    ]
    categories.append(QgsRendererCategory("", make_symbol(layer, "#d9d9d9"), "No score"))
    return QgsCategorizedSymbolRenderer(field, categories)
