"""Colours and class labels shared by every Creative Clusters map: the single source of the plugin's colours.

Pure data (no QGIS import) so the same colours are used by the styling code, the print layouts, the docks
and the tests. Colours are hex strings ``#rrggbb``.

One colour family per meaning, so layers printed on the same page never share a colour
(``tests/gui/test_palette.py`` measures it in CIEDE2000 on the renderers actually built):

* **Hot and cold spots** (Gi* bins, Local Moran types): diverging red – near-white – blue, ColorBrewer's
  *RdBu* (Brewer & Harrower 2003), seven classes as in ArcGIS Pro. Readable with the common red–green
  colour-vision deficiencies because it runs blue to red. Reds and blues are reserved for them.
* **Creative sub-sectors**: nine qualitative colours with no reds, pinks or blues and no purples (those
  belong to hot spots, cold spots and corridors): oranges, yellows, greens, teals and browns, chosen from the
  Okabe–Ito / ColorBrewer Dark2 families and tuned so every pair is ΔE₀₀ ≥ 22, every colour ΔE₀₀ ≥ 21 from
  every hot/cold bin and ≥ 33 from every corridor colour.
* **Corridors** (links, corridor polygons, the least-cost corridor surface): one sequential purple
  (ColorBrewer *PRGn*'s purple arm), strong = dark.
* **Density** surfaces: a sequential grey ramp (ColorBrewer *Greys*), transparent at the low end: every hue
  is already taken by a meaning, and a neutral intensity reads beneath coloured points.
* **Background** categories ("not creative", noise, ordinary addresses): light greys, drawn small and beneath.
"""

from __future__ import annotations

from ..core.firms.subsectors import SUBSECTORS

# --- hot and cold spots ----------------------------------------------------------------------------------
#: Gi_Bin value -> (label, colour), in legend order (cold 99 % … hot 99 %). ColorBrewer RdBu, 7 classes.
GI_BIN_CLASSES = (
    (-3, "Cold spot – 99% confidence", "#2166ac"),
    (-2, "Cold spot – 95% confidence", "#67a9cf"),
    (-1, "Cold spot – 90% confidence", "#d1e5f0"),
    (0, "Not significant", "#f7f7f7"),
    (1, "Hot spot – 90% confidence", "#fddbc7"),
    (2, "Hot spot – 95% confidence", "#ef8a62"),
    (3, "Hot spot – 99% confidence", "#b2182b"),
)
#: Features with NULL Gi_Bin (no neighbours: Gi* undefined).
GI_BIN_NULL = ("No neighbours – not tested", "#bdbdbd")

#: COType value -> (label, colour), in legend order.
COTYPE_CLASSES = (
    ("HH", "High–High cluster", "#d7191c"),
    ("HL", "High–Low outlier", "#fdae61"),
    ("LH", "Low–High outlier", "#abd9e9"),
    ("LL", "Low–Low cluster", "#2c7bb6"),
)
COTYPE_NOT_SIGNIFICANT = ("Not significant", "#f0f0f0")

#: Emerging hot spot patterns: (CATEGORY, PATTERN label, fill colour) in ArcGIS Pro's legend order.
#: Reds and oranges for hot patterns, blues for cold ones, the strongest (intensifying, persistent) darkest,
#: the fading ones (diminishing, historical) palest, as in ArcGIS's emerging hot spot layer.
EMERGING_HOT_CLASSES = (
    (1, "New Hot Spot", "#fc8d59"),
    (2, "Consecutive Hot Spot", "#e6550d"),
    (3, "Intensifying Hot Spot", "#99000d"),
    (4, "Persistent Hot Spot", "#d7301f"),
    (5, "Diminishing Hot Spot", "#fcbba1"),
    (6, "Sporadic Hot Spot", "#fed976"),
    (7, "Oscillating Hot Spot", "#b35806"),
    (8, "Historical Hot Spot", "#fff0e0"),
)
EMERGING_COLD_CLASSES = (
    (-1, "New Cold Spot", "#6baed6"),
    (-2, "Consecutive Cold Spot", "#41b6c4"),
    (-3, "Intensifying Cold Spot", "#08306b"),
    (-4, "Persistent Cold Spot", "#2166ac"),
    (-5, "Diminishing Cold Spot", "#c6dbef"),
    (-6, "Sporadic Cold Spot", "#8c96c6"),
    (-7, "Oscillating Cold Spot", "#5e4fa2"),
    (-8, "Historical Cold Spot", "#f2f6fb"),
)
#: CATEGORY 0: no fill, light grey outline.
EMERGING_NO_PATTERN = (0, "No Pattern Detected", "#bdbdbd")
EMERGING_CLASSES = EMERGING_HOT_CLASSES + EMERGING_COLD_CLASSES

# --- location quotients --------------------------------------------------------------------------------
#: Fixed location-quotient classes: (lower, upper, label). Upper bounds are exclusive except the last.
LQ_FIXED_BREAKS = (0.8, 1.25, 2.0)
LQ_FIXED_LABELS = (
    "Below 0.8 – under-represented",
    "0.8 – 1.25 – about the regional average",
    "1.25 – 2 – specialised",
    "2 or more – highly specialised",
)
#: LQ = 1: the same share as the reference area; computed classes always break there.
LQ_PIVOT = 1.0
#: Default LQ colours (ColorBrewer PuRd, 4 classes): pale for under-represented, dark for specialised.
LQ_DEFAULT_COLOURS = ("#f1eef6", "#d7b5d8", "#df65b0", "#980043")
LQ_DEFAULT_RAMP = "PuRd"

# --- creative sub-sectors ------------------------------------------------------------------------------
#: Nine qualitative colours without reds, pinks, blues or purples, assigned in DCMS sub-sector order.
SUBSECTOR_PALETTE = (
    "#e69f00",  # orange (Okabe–Ito)          – Advertising and marketing
    "#237b7e",  # dark teal                   – Architecture
    "#a65c0a",  # rust brown                  – Crafts
    "#6e8a24",  # olive green                 – Design and designer fashion
    "#1fcfc5",  # turquoise                   – Film, TV, video, radio and photography
    "#125627",  # dark green                  – IT, software and computer services
    "#e6e01e",  # yellow                      – Publishing
    "#42300a",  # dark brown                  – Museums, galleries and libraries
    "#8fe88f",  # light green                 – Music, performing and visual arts
)
#: DCMS sub-sector code -> colour (same on every map).
SUBSECTOR_COLOURS = dict(zip(SUBSECTORS.keys(), SUBSECTOR_PALETTE))
#: DCMS sub-sector display name -> colour.
SUBSECTOR_NAME_COLOURS = {SUBSECTORS[code]: colour for code, colour in SUBSECTOR_COLOURS.items()}

# --- background categories -----------------------------------------------------------------------------
#: Firms that are not creative, microcluster noise, ordinary addresses: light, small, drawn beneath.
NEUTRAL_GREY = "#d9d9d9"
NEUTRAL_OUTLINE = "#b3b3b3"
#: Microcluster footprints with no dominant sub-sector.
MIXED_COLOUR = "#dddddd"
#: Point sizes (mm): the subject larger, background categories smaller.
SUBJECT_POINT_SIZE = 2.2
BACKGROUND_POINT_SIZE = 1.2

#: Stacked registered-office addresses.
STACK_COLOURS = {True: ("Stacked address (formation agent, accountant …)", "#d7301f"),
                 False: ("Ordinary address", NEUTRAL_GREY)}

#: Firms coloured by microcluster id (arbitrary ids: Paul Tol's bright/light colours).
CLUSTER_ID_COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#ee8866",
                      "#77aadd", "#99ddff", "#44bb99", "#eedd88", "#ffaabb")

# --- corridors -------------------------------------------------------------------------------------------
#: Corridor purples, strongest (rank 1, highest gravity, the least-cost core) first.
CORRIDOR_COLOURS = ("#40004b", "#762a83", "#9970ab", "#c2a5cf")
#: Corridor polygons span CORRIDOR_COLOURS[1:] (translucent), links and outlines use the darkest purple.
CORRIDOR_OUTLINE = "#40004b"
LINK_COLOUR = "#40004b"
#: Legacy name: corridors now use the plugin's own purples unless a ramp is chosen.
CORRIDOR_RAMP = None
#: Corridor surface (0 = on the least-cost path): (position 0–1 along the value range, colour, alpha 0–255).
#: The core is dark and opaque, the edge of the corridor pale and fully transparent.
CORRIDOR_SURFACE_STOPS = (
    (0.0, "#40004b", 255),
    (0.2, "#762a83", 235),
    (0.45, "#9970ab", 170),
    (0.7, "#c2a5cf", 90),
    (1.0, "#e7d4e8", 0),
)

# --- density ---------------------------------------------------------------------------------------------
DENSITY_DEFAULT_RAMP = "Greys"

# --- cluster selection and growth potential ------------------------------------------------------------
SELECTED_CLUSTER_COLOURS = {True: ("Creative cluster", "#6a3d9a"), False: ("Not selected", "#eeeeee")}
GROWTH_CLASSES = ("Very low", "Low", "Medium", "High", "Very high")
GROWTH_COLOURS = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")


def subsector_colour(value) -> str | None:
    """Colour for a sub-sector given its DCMS name or code (case-insensitive), None when unknown."""
    if value is None:
        return None
    key = str(value).strip().lower()
    for code, name in SUBSECTORS.items():
        if key in (code, name.lower()):
            return SUBSECTOR_COLOURS[code]
    return None


def gi_bin_label(value) -> str:
    for code, label, _ in GI_BIN_CLASSES:
        if value is not None and value == code:
            return label
    return GI_BIN_NULL[0]
