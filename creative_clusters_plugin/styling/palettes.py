"""Colours and class labels shared by every Creative Clusters map.

Pure data (no QGIS import) so the same colours are used by the styling code, the print layouts, the docks
and the tests. Colours are hex strings ``#rrggbb``.

* Gi* bins follow the ArcGIS Pro hot-spot convention (seven classes, blue – white – red), colours from
  ColorBrewer's diverging *RdBu* scheme (Brewer & Harrower 2003), which stays readable for the common
  red–green colour-vision deficiencies because it runs blue to red.
* Local Moran cluster/outlier types use the GeoDa / ArcGIS colours (HH red, LL blue, outliers light).
* The nine DCMS creative sub-sectors use Paul Tol's *muted* qualitative scheme (Tol 2021, "Colour
  Schemes", SRON/EPS/TN/09-002), designed to stay distinguishable with colour-blind vision; every map in
  the plugin uses the same colour for the same sub-sector.
"""

from __future__ import annotations

from ..core.subsectors import SUBSECTORS

#: Gi_Bin value -> (label, colour), in legend order (cold 99 % … hot 99 %).
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

#: Fixed location-quotient classes: (lower, upper, label). Upper bounds are exclusive except the last.
LQ_FIXED_BREAKS = (0.8, 1.25, 2.0)
LQ_FIXED_LABELS = (
    "Below 0.8 – under-represented",
    "0.8 – 1.25 – about the regional average",
    "1.25 – 2 – specialised",
    "2 or more – highly specialised",
)
#: Default LQ colours (ColorBrewer PuRd, 4 classes): pale for under-represented, dark for specialised.
LQ_DEFAULT_COLOURS = ("#f1eef6", "#d7b5d8", "#df65b0", "#980043")
LQ_DEFAULT_RAMP = "PuRd"

#: Paul Tol "muted" (9 colours), assigned in DCMS sub-sector order.
TOL_MUTED = (
    "#cc6677",  # rose
    "#332288",  # indigo
    "#ddcc77",  # sand
    "#117733",  # green
    "#88ccee",  # cyan
    "#882255",  # wine
    "#44aa99",  # teal
    "#999933",  # olive
    "#aa4499",  # purple
)
#: DCMS sub-sector code -> colour (same on every map).
SUBSECTOR_COLOURS = dict(zip(SUBSECTORS.keys(), TOL_MUTED))
#: DCMS sub-sector display name -> colour.
SUBSECTOR_NAME_COLOURS = {SUBSECTORS[code]: colour for code, colour in SUBSECTOR_COLOURS.items()}
#: Firms that are not creative / microcluster noise.
NEUTRAL_GREY = "#c8c8c8"
MIXED_COLOUR = "#dddddd"

#: Stacked registered-office addresses.
STACK_COLOURS = {True: ("Stacked address (formation agent, accountant …)", "#d7301f"),
                 False: ("Ordinary address", "#bdbdbd")}

#: Corridors and links.
CORRIDOR_RAMP = "YlOrRd"
LINK_COLOUR = "#54278f"

#: Density rasters.
DENSITY_DEFAULT_RAMP = "Magma"


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
