"""Styles of the result layers: result types recognised by their fields, renderers, classes, labels, colours.

Expectations are stated independently of the styling code: colours are checked by hue (blue / white / red),
class membership by evaluating the renderer on values, Jenks breaks on data with obvious groups, quantile
breaks against numpy, colour-blind safety with the Machado et al. (2009) deficiency simulation.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui import result_layers as R


@pytest.fixture
def areas():
    return R.areas_layer()


def _rgb(colour):
    return np.array([colour.red(), colour.green(), colour.blue()], dtype=float)


def _labels(renderer):
    return [item.label() for item in renderer.legendSymbolItems()]


# --- recognising result types ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "factory, expected",
    [
        (R.areas_layer, "gi_bin"),
        (R.microclusters_layer, "microclusters"),
        (R.microcluster_points_layer, "microclusters"),
        (R.corridor_links_layer, "corridor_links"),
        (R.corridors_layer, "corridors"),
        (R.stacks_layer, "stacks"),
        (R.classified_firms_layer, "classified_firms"),
    ],
)
def test_detect_result_type_by_fields(factory, expected):
    from creative_clusters_plugin.styling import detect_result_type

    assert detect_result_type(factory()) == expected


def test_lq_and_cotype_layers_are_recognised_when_alone():
    from qgis.core import QgsVectorLayer

    from creative_clusters_plugin.styling import detect_result_type, matching_styles

    lq = QgsVectorLayer("Polygon?crs=EPSG:27700&field=area_id:string&field=lq_it:double", "lq", "memory")
    assert detect_result_type(lq) == "lq"
    moran = QgsVectorLayer("Polygon?crs=EPSG:27700&field=COType:string&field=LMiIndex:double", "m", "memory")
    assert detect_result_type(moran) == "cotype"
    plain = QgsVectorLayer("Point?crs=EPSG:27700&field=name:string", "plain", "memory")
    assert detect_result_type(plain) is None
    assert matching_styles(plain) == []
    # the hotspot output of an LQ layer offers both
    assert matching_styles(R.areas_layer())[:3] == ["gi_bin", "cotype", "lq"]


def test_density_raster_detected_by_name_or_description(tmp_path):
    from qgis.core import QgsRasterLayer

    from creative_clusters_plugin.styling import detect_result_type

    path = R.density_raster(tmp_path)
    assert detect_result_type(QgsRasterLayer(path, "creative_density")) == "density"
    other = R.density_raster(tmp_path, name="surface.tif")
    from osgeo import gdal

    dataset = gdal.Open(other, gdal.GA_Update)
    dataset.GetRasterBand(1).SetDescription("elevation")
    dataset = None
    assert detect_result_type(QgsRasterLayer(other, "surface")) is None


# --- Gi_Bin ----------------------------------------------------------------------------------------
def test_gi_bin_seven_classes_blue_white_red(areas):
    from qgis.core import QgsCategorizedSymbolRenderer

    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "gi_bin")
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert renderer.classAttribute() == "Gi_Bin"
    categories = renderer.categories()
    values = [c.value() for c in categories[:7]]
    assert values == [-3, -2, -1, 0, 1, 2, 3]
    labels = [c.label() for c in categories[:7]]
    assert labels == [
        "Cold spot – 99% confidence",
        "Cold spot – 95% confidence",
        "Cold spot – 90% confidence",
        "Not significant",
        "Hot spot – 90% confidence",
        "Hot spot – 95% confidence",
        "Hot spot – 99% confidence",
    ]
    colours = [_rgb(c.symbol().color()) for c in categories[:7]]
    # cold spots blue (blue channel dominates), hot spots red, not significant near white
    for rgb in colours[:3]:
        assert rgb[2] > rgb[0]
    for rgb in colours[4:]:
        assert rgb[0] > rgb[2]
    assert colours[3].min() > 235
    # intensity grows with confidence on both sides (further from white)
    distance = [np.linalg.norm(rgb - 255) for rgb in colours]
    assert distance[0] > distance[1] > distance[2] > distance[3] < distance[4] < distance[5] < distance[6]
    # the eighth category catches NULL (no neighbours) so those features are still drawn, in grey
    assert len(categories) == 8 and categories[7].value() in (None, "")
    grey = _rgb(categories[7].symbol().color())
    assert np.ptp(grey) < 10


def test_gi_bin_null_feature_is_drawn(areas):
    from qgis.core import QgsFeature, QgsGeometry, QgsRectangle, QgsRenderContext

    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "gi_bin")
    feature = QgsFeature(areas.fields())
    feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(0, 0, 1, 1)))
    context = QgsRenderContext()
    renderer.startRender(context, areas.fields())
    try:
        symbol = renderer.symbolForFeature(feature, context)
    finally:
        renderer.stopRender(context)
    assert symbol is not None


# --- COType -------------------------------------------------------------------------------------------
def test_cotype_classes(areas):
    from qgis.core import QgsCategorizedSymbolRenderer

    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "cotype")
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert renderer.classAttribute() == "COType"
    by_value = {c.value(): c for c in renderer.categories()}
    assert {"HH", "HL", "LH", "LL"} <= set(by_value)
    assert "not significant" in by_value[""].label().lower()
    hh, ll = _rgb(by_value["HH"].symbol().color()), _rgb(by_value["LL"].symbol().color())
    assert hh[0] > hh[2] and ll[2] > ll[0]


# --- LQ -------------------------------------------------------------------------------------------------
def test_lq_fixed_classes_and_boundaries(areas):
    from qgis.core import QgsGraduatedSymbolRenderer

    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "lq")
    assert isinstance(renderer, QgsGraduatedSymbolRenderer)
    assert renderer.classAttribute() == "lq_creative"
    ranges = renderer.ranges()
    assert len(ranges) == 4
    labels = [r.label() for r in ranges]
    assert labels[0].startswith("Below 0.8") and labels[1].startswith("0.8 – 1.25")
    assert labels[2].startswith("1.25 – 2") and labels[3].startswith("2 or more")

    def class_of(value):
        symbol = renderer.symbolForValue(value)
        colours = [r.symbol().color().name() for r in ranges]
        return colours.index(symbol.color().name())

    # a value on a break belongs to the upper class: 0.8 is "about average", 2 is "highly specialised"
    assert [class_of(v) for v in (0.0, 0.79, 0.8, 1.0, 1.249, 1.25, 1.99, 2.0, 35.0)] == [0, 0, 1, 1, 1, 2, 2, 3, 3]
    # darker with higher specialisation
    lightness = [r.symbol().color().lightness() for r in ranges]
    assert lightness == sorted(lightness, reverse=True)


def test_lq_jenks_finds_obvious_groups():
    from qgis.core import QgsClassificationJenks, QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    from creative_clusters_plugin.styling import apply_style

    layer = QgsVectorLayer("Point?crs=EPSG:27700&field=lq_creative:double", "lq", "memory")
    groups = [0.2, 0.25, 0.3, 1.0, 1.05, 1.1, 3.0, 3.1, 3.2]
    features = []
    for i, value in enumerate(groups):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(i, i)))
        feature.setAttributes([value])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    renderer = apply_style(layer, "lq", method="jenks", classes=3, ramp="Viridis")
    assert isinstance(renderer.classificationMethod(), QgsClassificationJenks)
    ranges = renderer.ranges()  # keep the copies alive: symbol() points into them
    uppers = [r.upperValue() for r in ranges]
    assert uppers == pytest.approx([0.3, 1.1, 3.2])
    # colours follow the chosen ramp (Viridis starts dark purple and ends yellow)
    first, last = ranges[0].symbol().color(), ranges[-1].symbol().color()
    assert first.blue() > first.green() and last.red() > last.blue()


def test_lq_quantile_breaks_match_numpy(areas):
    from qgis.core import QgsClassificationQuantile

    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "lq", method="quantile", classes=4)
    assert isinstance(renderer.classificationMethod(), QgsClassificationQuantile)
    values = np.array([f["lq_creative"] for f in areas.getFeatures()], dtype=float)
    inner = [r.upperValue() for r in renderer.ranges()][:-1]
    expected = np.quantile(values, [0.25, 0.5, 0.75])
    # every inner break is a data value between the neighbouring order statistics of the numpy quantile
    for got, want in zip(inner, expected):
        below, above = values[values <= want].max(), values[values >= want].min()
        assert below - 1e-9 <= got <= above + 1e-9
    assert renderer.ranges()[0].lowerValue() == pytest.approx(values.min())
    assert renderer.ranges()[-1].upperValue() == pytest.approx(values.max())


def test_lq_other_field_and_bad_input(areas):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.styling import apply_style

    renderer = apply_style(areas, "lq", field="lq_creative_hi")
    assert renderer.classAttribute() == "lq_creative_hi"
    with pytest.raises(CreativeClustersError, match="no field"):
        apply_style(areas, "lq", field="nope")
    with pytest.raises(CreativeClustersError, match="Unknown classification"):
        apply_style(areas, "lq", method="magic")
    with pytest.raises(CreativeClustersError, match="Unknown style"):
        apply_style(areas, "rainbow")
    with pytest.raises(CreativeClustersError, match="no field"):
        apply_style(R.corridors_layer(), "gi_bin")


# --- microclusters: the fixed, colour-blind-safe sub-sector palette ---------------------------------------
def _machado(rgb, kind):
    """Simulate colour-vision deficiency at full severity (Machado, Oliveira & Fernandes 2009)."""
    matrices = {
        "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
        "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
        "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    }
    linear = (np.asarray(rgb) / 255.0) ** 2.2
    out = np.clip(linear @ np.asarray(matrices[kind]).T, 0, 1)
    return out ** (1 / 2.2) * 255


def test_microclusters_by_subsector_with_fixed_palette():
    from qgis.core import QgsCategorizedSymbolRenderer

    from creative_clusters_plugin.core.subsectors import SUBSECTORS
    from creative_clusters_plugin.styling import apply_style

    layer_first = R.microclusters_layer()
    first = apply_style(layer_first, "microclusters")
    assert isinstance(first, QgsCategorizedSymbolRenderer)
    assert first.classAttribute() == "dominant_subsector"
    names = list(SUBSECTORS.values())
    by_label = {c.label(): c.symbol().color().name() for c in first.categories()}
    assert set(names) <= set(by_label)
    # the same colour for a sub-sector on every map: firms coloured by cc_subsector use the same palette
    layer_firms = R.classified_firms_layer()
    firms = apply_style(layer_firms, "classified_firms")
    firm_colours = {c.label(): c.symbol().color().name() for c in firms.categories()}
    assert all(firm_colours[n] == by_label[n] for n in names)
    # and a second microcluster layer with other sub-sectors present gets identical colours
    layer_second = R.microclusters_layer(n=2, name="other")
    second = apply_style(layer_second, "microclusters")
    assert {c.label(): c.symbol().color().name() for c in second.categories()} == by_label

    categories = first.categories()
    colours = np.array([_rgb(categories[i].symbol().color()) for i in range(9)])
    for kind in (None, "deuteranopia", "protanopia", "tritanopia"):
        seen = colours if kind is None else np.array([_machado(c, kind) for c in colours])
        distances = [np.linalg.norm(seen[i] - seen[j]) for i in range(9) for j in range(i + 1, 9)]
        assert min(distances) > 20, kind  # no two sub-sectors collapse to the same colour


def test_microcluster_points_by_cluster_id_with_grey_noise():
    from creative_clusters_plugin.styling import apply_style

    layer = R.microcluster_points_layer()
    renderer = apply_style(layer, "microclusters")
    assert renderer.classAttribute() == "cc_cluster_id"
    values = [c.value() for c in renderer.categories()]
    assert values[:-1] == [0, 1, 2] and values[-1] in ("", None)
    assert "noise" in renderer.categories()[-1].label().lower()


# --- corridors, stacks ----------------------------------------------------------------------------------
def test_corridor_links_width_by_gravity():
    from qgis.core import QgsGraduatedSymbolRenderer

    from creative_clusters_plugin.styling import apply_style

    layer = R.corridor_links_layer()
    renderer = apply_style(layer, "corridor_links")
    assert isinstance(renderer, QgsGraduatedSymbolRenderer)
    assert renderer.classAttribute() == "gravity"
    assert renderer.graduatedMethod() == QgsGraduatedSymbolRenderer.GraduatedSize
    widths = [r.symbol().width() for r in renderer.ranges()]
    assert len(widths) >= 3 and widths == sorted(widths) and widths[-1] > widths[0]
    colours = {r.symbol().color().name() for r in renderer.ranges()}
    assert len(colours) == 1  # one colour, width carries the gravity


def test_corridors_by_rank_strongest_darkest():
    from creative_clusters_plugin.styling import apply_style

    layer = R.corridors_layer()
    renderer = apply_style(layer, "corridors")
    assert renderer.classAttribute() == "rank"
    categories = renderer.categories()
    assert [c.value() for c in categories] == [1, 2, 3]
    lightness = [c.symbol().color().lightness() for c in categories]
    assert lightness == sorted(lightness)  # rank 1 darkest


def test_stacks_highlighted():
    from creative_clusters_plugin.styling import apply_style

    layer = R.stacks_layer()
    renderer = apply_style(layer, "stacks")
    assert renderer.classAttribute() == "cc_stack"
    categories = renderer.categories()
    stacked = categories[0]
    assert stacked.value() is True
    rgb = _rgb(stacked.symbol().color())
    assert rgb[0] > 150 and rgb[0] > rgb[1] + 60


# --- density raster ---------------------------------------------------------------------------------------
def test_density_pseudocolour_with_transparent_low_values(tmp_path):
    from qgis.core import QgsRasterLayer, QgsSingleBandPseudoColorRenderer

    from creative_clusters_plugin.styling import apply_style

    layer = QgsRasterLayer(R.density_raster(tmp_path), "creative_density")
    renderer = apply_style(layer, transparent_fraction=0.1)
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert len(items) >= 5
    values = [i.value for i in items]
    assert values == sorted(values)
    assert items[0].color.alpha() == 0 and items[-1].color.alpha() == 255
    pixels = renderer.rasterTransparency().transparentSingleValuePixelList()
    assert len(pixels) == 1 and pixels[0].percentTransparent == 100
    low, high = values[0], values[-1]
    assert pixels[0].max == pytest.approx(low + 0.1 * (high - low))
    # a value above the threshold stays visible
    assert renderer.rasterTransparency().alphaValue(low + 0.5 * (high - low), 255) == 255
    assert renderer.rasterTransparency().alphaValue(low + 0.01 * (high - low), 255) == 0


def test_vector_style_on_raster_is_a_clear_error(tmp_path):
    from qgis.core import QgsRasterLayer

    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.styling import apply_style

    layer = QgsRasterLayer(R.density_raster(tmp_path), "creative_density")
    with pytest.raises(CreativeClustersError, match="vector"):
        apply_style(layer, "gi_bin")
    with pytest.raises(CreativeClustersError, match="raster"):
        apply_style(R.areas_layer(), "density")


# --- QML round trip ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style, options", [("gi_bin", {}), ("lq", {"method": "jenks", "classes": 4, "ramp": "Blues"})])
def test_qml_round_trip(tmp_path, areas, style, options):
    from creative_clusters_plugin.styling import apply_style, load_qml, save_qml

    renderer = apply_style(areas, style, **options)
    expected = [(item.label(), item.symbol().color().name()) for item in renderer.legendSymbolItems()]
    path = save_qml(areas, tmp_path / f"{style}")
    assert path.suffix == ".qml" and path.is_file()
    fresh = R.areas_layer(name="fresh")
    assert fresh.renderer().type() == "singleSymbol"
    load_qml(fresh, path)
    got = [(item.label(), item.symbol().color().name()) for item in fresh.renderer().legendSymbolItems()]
    assert got == expected
    assert fresh.renderer().type() == renderer.type()


def test_qml_load_missing_file(areas, tmp_path):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.styling import load_qml

    with pytest.raises(CreativeClustersError, match="does not exist"):
        load_qml(areas, tmp_path / "missing.qml")


def test_snapshot_and_restore(areas):
    from creative_clusters_plugin.styling import apply_style, restore_style, snapshot_style

    before = areas.renderer().type()
    snapshot = snapshot_style(areas)
    apply_style(areas, "gi_bin")
    assert areas.renderer().type() == "categorizedSymbol"
    restore_style(areas, snapshot)
    assert areas.renderer().type() == before


# --- cluster selection and growth potential ------------------------------------------------------------
def _selection_and_growth_layer():
    from qgis.core import QgsGeometry, QgsRectangle

    layer = R._memory_layer(
        "Polygon", [("cc_cluster", "boolean"), ("cc_reason", "string"), ("cc_gp_class", "string")], "areas_growth"
    )
    rows = []
    classes = ["Very low", "Low", "Medium", "High", "Very high", None]
    for k, gp_class in enumerate(classes):
        geometry = QgsGeometry.fromRect(QgsRectangle(k * 100.0, 0, k * 100.0 + 100, 100))
        rows.append((geometry, [k % 2 == 0, "top LQ" if k % 2 == 0 else "", gp_class]))
    return R._add(layer, rows)


def test_cluster_selection_and_growth_styles():
    from qgis.core import QgsRenderContext

    from creative_clusters_plugin.styling import apply_style
    from creative_clusters_plugin.styling.apply import matching_styles

    layer = _selection_and_growth_layer()
    assert {"clusters", "growth"} <= set(matching_styles(layer))
    renderer = apply_style(layer, "growth")
    assert renderer.classAttribute() == "cc_gp_class"
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    greens = {}
    for feature in layer.getFeatures():
        symbol = renderer.symbolForFeature(feature, context)
        assert symbol is not None
        greens[feature["cc_gp_class"]] = _rgb(symbol.color())
    renderer.stopRender(context)
    # darker green for higher classes: the sum of RGB falls monotonically from Very low to Very high
    order = ["Very low", "Low", "Medium", "High", "Very high"]
    brightness = [greens[c].sum() for c in order]
    assert brightness == sorted(brightness, reverse=True)
    assert all(greens[c][1] >= greens[c][0] and greens[c][1] >= greens[c][2] for c in order)

    renderer = apply_style(layer, "clusters")
    assert renderer.classAttribute() == "cc_cluster"
    labels = _labels(renderer)
    assert labels == ["Creative cluster", "Not selected"]


def test_corridor_surface_dark_on_the_path_and_never_transparent(tmp_path):
    import rasterio
    from rasterio.transform import from_origin
    from qgis.core import QgsRasterLayer

    from creative_clusters_plugin.styling import apply_style
    from creative_clusters_plugin.styling.apply import matching_styles

    values = np.full((20, 20), -9999.0, dtype="float32")
    values[5:15, :] = np.abs(np.arange(5, 15) - 9.5)[:, None] * 10.0  # 5 … 95 cost units above the least cost
    values[9, :] = 0.0  # the least-cost path
    path = tmp_path / "corridor_surface.tif"
    with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=1, dtype="float32", crs="EPSG:27700",
                       transform=from_origin(430000, 390000, 100, 100), nodata=-9999.0) as dst:
        dst.write(values, 1)
    layer = QgsRasterLayer(str(path), "corridor_surface")
    assert layer.isValid()
    assert matching_styles(layer) == ["corridor_surface"]
    renderer = apply_style(layer, "corridor_surface")
    shader = renderer.shader().rasterShaderFunction()
    ok_low, r0, g0, b0, a0 = shader.shade(0.0)
    ok_high, r1, g1, b1, a1 = shader.shade(float(values[values > -9999].max()))
    assert ok_low and ok_high
    assert a0 == 255 and a1 == 255
    assert r0 + g0 + b0 < r1 + g1 + b1  # darkest on the path
    assert not renderer.rasterTransparency().transparentSingleValuePixelList()
