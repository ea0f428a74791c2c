"""One palette for every map: colours shown on the same page stay apart in CIEDE2000.

Colours are read from the renderers the plugin actually builds (``build_renderer`` on the small result layers
of ``tests/gui/result_layers.py``), not only from the palette constants, so the test checks what users see.
ΔE₀₀ is computed with scikit-image (``rgb2lab`` + ``deltaE_ciede2000``); "clearly different" is ΔE₀₀ ≥ 20.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.gui import result_layers as R

skcolor = pytest.importorskip("skimage.color")

CLEARLY_DIFFERENT = 20.0


def _lab(colours):
    rgb = np.array([[c.redF(), c.greenF(), c.blueF()] for c in colours], dtype=float)
    return skcolor.rgb2lab(rgb.reshape(-1, 1, 3)).reshape(-1, 3)


def _delta_e(first, second):
    """Matrix of CIEDE2000 differences between two lists of QColor."""
    a, b = _lab(first), _lab(second)
    return skcolor.deltaE_ciede2000(a[:, None, :], b[None, :, :])


def _qcolor(hex_colour):
    from qgis.PyQt.QtGui import QColor

    return QColor(hex_colour)


def _ranks_layer(n):
    return R.corridors_layer(name=f"corridors_{n}", n=n)


@pytest.fixture(scope="module")
def shown():
    """The colours each renderer draws: Gi* bins by value, sub-sectors, corridors (links + polygons)."""
    from creative_clusters_plugin.core.firms.subsectors import SUBSECTORS
    from creative_clusters_plugin.styling.apply import build_renderer

    gi = {c.value(): c.symbol().color() for c in build_renderer(R.areas_layer(), "gi_bin").categories()[:7]}
    names = list(SUBSECTORS.values())
    firms = build_renderer(R.classified_firms_layer(), "classified_firms")
    subsectors = [c.symbol().color() for c in firms.categories() if c.label() in names]
    microclusters = build_renderer(R.microclusters_layer(), "microclusters")
    footprints = [c.symbol().color() for c in microclusters.categories() if c.label() in names]
    links = build_renderer(R.corridor_links_layer(), "corridor_links")
    corridors = [r.symbol().color() for r in links.ranges()]
    for n in (3, 9):
        corridors += [c.symbol().color() for c in build_renderer(_ranks_layer(n), "corridors").categories()]
    return {"gi": gi, "subsectors": subsectors, "footprints": footprints, "corridors": corridors}


def _hot_cold(shown):
    return [shown["gi"][v] for v in (-3, -2, -1, 1, 2, 3)]


def test_renderers_draw_the_palette(shown):
    from creative_clusters_plugin.styling import palettes

    assert len(shown["subsectors"]) == 9 and len(shown["footprints"]) == 9
    assert [c.name() for c in shown["subsectors"]] == list(palettes.SUBSECTOR_PALETTE)
    assert [c.name() for c in shown["footprints"]] == list(palettes.SUBSECTOR_PALETTE)
    assert {c.name() for c in shown["corridors"][:1]} == {palettes.LINK_COLOUR}


def test_hot_and_cold_spots_apart_from_corridors_and_subsectors(shown):
    hot_cold = _hot_cold(shown)
    to_corridors = _delta_e(hot_cold, shown["corridors"])
    to_subsectors = _delta_e(hot_cold, shown["subsectors"])
    assert to_corridors.min() >= CLEARLY_DIFFERENT, to_corridors.min()
    assert to_subsectors.min() >= CLEARLY_DIFFERENT, to_subsectors.min()
    # the three colours the issue found nearly identical (Gi* 99 % red, corridor crimson, IT maroon)
    red = shown["gi"][3]
    it = shown["subsectors"][5]
    strongest_corridor = shown["corridors"][0]
    assert _delta_e([red], [it, strongest_corridor]).min() >= 30
    assert _delta_e([it], [strongest_corridor]).min() >= 30


def test_subsectors_pairwise_apart(shown):
    colours = shown["subsectors"]
    distances = _delta_e(colours, colours)
    pairs = [distances[i, j] for i, j in itertools.combinations(range(len(colours)), 2)]
    assert min(pairs) >= CLEARLY_DIFFERENT, min(pairs)
    # and apart from the corridors drawn over them
    assert _delta_e(colours, shown["corridors"]).min() >= CLEARLY_DIFFERENT


def test_subsectors_have_no_reds_and_no_blues(shown):
    """Hue angle in CIELAB: reds/pinks/maroons (h < 55° or h > 320°) and blues (215°–320°) are reserved."""
    lab = _lab(shown["subsectors"])
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    assert (chroma > 15).all()
    assert ((hue >= 55) & (hue <= 215)).all(), hue


def test_corridors_are_one_purple_hue(shown):
    lab = _lab(shown["corridors"])
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    assert ((hue > 295) & (hue < 335)).all(), hue  # purple: neither red nor blue
    # polygons: rank 1 darkest
    ranks = [c.lightness() for c in shown["corridors"][-9:]]
    assert ranks == sorted(ranks)


def test_gi_bins_ordered_toward_neutral(shown):
    lightness = _lab([shown["gi"][v] for v in (-3, -2, -1, 0, 1, 2, 3)])[:, 0]
    # lightness rises from ±3 through ±2 and ±1 to "not significant" on both sides
    assert lightness[0] < lightness[1] < lightness[2] < lightness[3]
    assert lightness[6] < lightness[5] < lightness[4] < lightness[3]
    assert lightness[3] > 95


def test_density_and_corridor_surface_ramps(tmp_path, shown):
    """Visible density colours (alpha > 0) stay off the hot/cold bins and corridor purples; the corridor
    surface is drawn in the corridor purples."""
    from qgis.core import QgsRasterLayer

    from creative_clusters_plugin.styling.apply import build_renderer

    density = build_renderer(QgsRasterLayer(R.density_raster(tmp_path), "creative_density"), "density")
    items = density.shader().rasterShaderFunction().colorRampItemList()
    visible = [i.color for i in items if i.color.alpha() > 0]
    lightness = _lab(visible)[:, 0]
    assert list(lightness) == sorted(lightness, reverse=True)  # sequential: denser = darker
    # neutral greys: no hue shared with any meaning; the palest visible grey (the sparse fringe) is only
    # near the palest Gi* bins (ΔE ≈ 8.6 to the 90 % cold spot), mid greys ΔE ≥ 13.9
    assert _delta_e(visible, _hot_cold(shown)).min() >= 8
    dense = [c for c, lab_l in zip(visible, lightness) if lab_l < 80]
    assert len(dense) >= 4
    assert _delta_e(dense, _hot_cold(shown)).min() >= 12
    assert _delta_e(visible, shown["corridors"]).min() >= 15
    assert _delta_e(visible, shown["subsectors"]).min() >= 12

    surface = build_renderer(QgsRasterLayer(R.density_raster(tmp_path, name="corridor_surface.tif"), "corridor"),
                             "corridor_surface")
    opaque = [i.color for i in surface.shader().rasterShaderFunction().colorRampItemList() if i.color.alpha() > 128]
    assert opaque and _delta_e(opaque, _hot_cold(shown)).min() >= CLEARLY_DIFFERENT


def test_measured_figures(shown, capsys):
    """Prints the ΔE figures (run with -s) so the report quotes what was measured."""
    hot_cold = _hot_cold(shown)
    sub = _delta_e(shown["subsectors"], shown["subsectors"])
    pairs = [sub[i, j] for i, j in itertools.combinations(range(9), 2)]
    figures = {
        "gi_vs_corridors": _delta_e(hot_cold, shown["corridors"]).min(),
        "gi_vs_subsectors": _delta_e(hot_cold, shown["subsectors"]).min(),
        "subsectors_pairwise": min(pairs),
        "subsectors_vs_corridors": _delta_e(shown["subsectors"], shown["corridors"]).min(),
    }
    print({k: round(float(v), 1) for k, v in figures.items()})
    assert all(v >= CLEARLY_DIFFERENT for v in figures.values())


def test_palette_constants_are_valid_hex():
    from creative_clusters_plugin.styling import palettes

    colours = [c for _, _, c in palettes.GI_BIN_CLASSES] + list(palettes.SUBSECTOR_PALETTE)
    colours += list(palettes.CORRIDOR_COLOURS) + [c for _, _, c in palettes.EMERGING_CLASSES]
    assert all(_qcolor(c).isValid() and len(c) == 7 for c in colours)
