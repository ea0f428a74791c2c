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
    # the groups stay whole; the class of the low group ends at LQ = 1 (a break is always at 1, and 1 itself
    # belongs to the class above)
    assert uppers == pytest.approx([1.0, 1.1, 3.2])
    assert uppers[0] < 1.0
    assert [r.label() for r in ranges] == ["0.2 – under 1", "1 – 1.1", "1.1 – 3.2"]
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
    # quantiles are taken on each side of LQ = 1: 11 of the 36 values are below 1, so one class below
    # (ending at 1) and three above, whose breaks are numpy's terciles of the values at or above 1
    assert len(renderer.ranges()) == 4
    assert inner[0] == pytest.approx(1.0) and inner[0] < 1.0
    above = values[values >= 1.0]
    expected = np.quantile(above, [1 / 3, 2 / 3])
    # every inner break lies between the neighbouring order statistics of the numpy quantile
    for got, want in zip(inner[1:], expected):
        below, over = above[above <= want].max(), above[above >= want].min()
        assert below - 1e-9 <= got <= over + 1e-9
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

    from creative_clusters_plugin.core.firms.subsectors import SUBSECTORS
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


def test_corridor_surface_dark_on_the_path_fading_to_transparent(tmp_path):
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
    # the core opaque, the edge of the corridor fully transparent (never an opaque dark block)
    assert a0 == 255 and a1 == 0
    assert r0 + g0 + b0 < r1 + g1 + b1  # darkest on the path


# --- corridor links: classes never collapse into duplicated labels ---------------------------------------------
def _links_layer(values, field="strength"):
    from qgis.core import QgsGeometry, QgsPointXY

    layer = R._memory_layer("LineString", [("gravity", "double"), ("cost_dist", "double"), (field, "double")]
                            if field != "gravity" else [("gravity", "double"), ("cost_dist", "double")], "links")
    rows = []
    for k, value in enumerate(values):
        line = QgsGeometry.fromPolylineXY([QgsPointXY(431000 + 100 * k, 388000), QgsPointXY(431100 + 100 * k, 388300)])
        value = float(value)
        rows.append((line, [value, 1000.0, value] if field != "gravity" else [value, 1000.0]))
    return R._add(layer, rows)


@pytest.mark.parametrize(
    "values",
    [
        [2.7] * 6 + [5.1] * 2,  # two distinct values
        [2.7, 2.7, 2.7, 2.74, 2.74, 9.0],  # three, two of them equal to one decimal
        [0.81, 0.83, 0.83, 0.83, 0.85],  # close values: labels need two decimals
        list(np.round(np.random.default_rng(3).lognormal(1.0, 0.8, 60), 3)),  # many values
    ],
)
@pytest.mark.parametrize("field", ["strength", "gravity"])
def test_corridor_link_classes_never_duplicate_labels(values, field):
    from creative_clusters_plugin.styling import apply_style

    layer = _links_layer(values, field)
    renderer = apply_style(layer, "corridor_links", field=field, classes=5)
    ranges = renderer.ranges()
    labels = [r.label() for r in ranges]
    assert len(labels) == len(set(labels)), labels
    distinct = sorted(set(values))
    assert 1 <= len(ranges) <= min(5, len(distinct))
    for r in ranges:  # no class "2.7 – 2.7" made of two equal printed bounds
        parts = r.label().removeprefix(f"{field} ").split(" – ")
        assert len(parts) == 1 or parts[0] != parts[1], r.label()
    # every value falls in a class, and widths grow with the value
    assert all(renderer.symbolForValue(v) is not None for v in values)
    widths = [r.symbol().width() for r in ranges]
    assert widths == sorted(widths)
    if len(distinct) <= 3:  # few values: one class per value, labelled by it
        assert len(ranges) == len(distinct)


# --- LQ: a break exactly at 1 -------------------------------------------------------------------------------
def _lq_layer(values):
    from qgis.core import QgsGeometry, QgsPointXY

    layer = R._memory_layer("Point", [("lq_creative", "double")], "lq_skewed")
    return R._add(layer, [(QgsGeometry.fromPointXY(QgsPointXY(i, i)), [float(v)]) for i, v in enumerate(values)])


@pytest.mark.parametrize("method", ["jenks", "quantile", "equal", "pretty"])
def test_lq_classes_break_at_one_on_skewed_data(method):
    from creative_clusters_plugin.styling import apply_style

    rng = np.random.default_rng(7)
    # most areas under-represented, a long tail of specialised ones, some exactly at 1
    values = list(np.round(rng.lognormal(-0.4, 0.6, 120), 3)) + [1.0] * 5 + [6.5, 11.0, 35.0]
    layer = _lq_layer(values)
    renderer = apply_style(layer, "lq", method=method, classes=5)
    ranges = renderer.ranges()
    labels = [r.label() for r in ranges]
    uppers = [r.upperValue() for r in ranges]
    # one class ends just below 1 and the next starts at 1: LQ = 1 goes above, nothing straddles 1
    at_one = [i for i, u in enumerate(uppers) if u == pytest.approx(1.0)]
    assert len(at_one) == 1 and uppers[at_one[0]] < 1.0
    assert all(not (r.lowerValue() < 0.999 and r.upperValue() > 1.0) for r in ranges)
    class_of_one = [i for i, r in enumerate(ranges) if renderer.symbolForValue(1.0).color() == r.symbol().color()]
    assert class_of_one == [at_one[0] + 1]
    assert renderer.symbolForValue(0.999).color() == ranges[at_one[0]].symbol().color()
    # readers see 1, never 0.99; every label distinct
    assert labels[at_one[0]].endswith("under 1") and labels[at_one[0] + 1].startswith("1 – ")
    assert not any("0.99" in label for label in labels), labels
    assert len(set(labels)) == len(labels)
    assert 2 <= len(ranges) <= 5
    assert all(renderer.symbolForValue(v) is not None for v in values)


def test_lq_break_at_one_merges_collapsed_classes():
    from creative_clusters_plugin.styling import apply_style

    # only three distinct values, one below 1: no empty or repeated classes
    layer = _lq_layer([0.5] * 10 + [1.0] * 4 + [3.0])
    renderer = apply_style(layer, "lq", method="jenks", classes=5)
    labels = [r.label() for r in renderer.ranges()]
    assert labels in (["0.5 – under 1", "1", "1 – 3"], ["0.5 – under 1", "1 – 3"]), labels


# --- background points: small, light and beneath ------------------------------------------------------------------
def _render_points(layer, size=40):
    from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings, QgsRectangle
    from qgis.PyQt.QtCore import QSize, Qt
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(Qt.GlobalColor.white))
    settings.setExtent(QgsRectangle(430990, 387990, 431010, 388010))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def test_not_creative_firms_smaller_lighter_and_beneath():
    from qgis.core import QgsGeometry, QgsPointXY
    from qgis.PyQt.QtGui import QColor

    from creative_clusters_plugin.core.firms.subsectors import SUBSECTORS
    from creative_clusters_plugin.styling import apply_style

    fields = [("CompanyName", "string"), ("cc_creative", "boolean"), ("cc_subsector", "string")]
    layer = R._memory_layer("Point", fields, "firms_overlap")
    design = list(SUBSECTORS.values())[3]
    point = QgsGeometry.fromPointXY(QgsPointXY(431000, 388000))
    # the grey firm comes last in the data: without symbol levels it would be drawn on top
    R._add(layer, [(point, ["Studio", True, design]), (point, ["Bakery", False, None])])
    renderer = apply_style(layer, "classified_firms")
    categories = renderer.categories()
    grey = categories[-1]
    assert grey.label() == "Not creative"
    creative_sizes = [c.symbol().size() for c in categories[:-1]]
    assert grey.symbol().size() < min(creative_sizes)
    assert grey.symbol().color().lightness() > max(c.symbol().color().lightness() for c in categories[:-1])
    assert grey.symbol().color().lightness() >= 210 and np.ptp(_rgb(grey.symbol().color())) < 5  # light grey
    assert renderer.usingSymbolLevels()
    passes = {c.label(): c.symbol().symbolLayer(0).renderingPass() for c in categories}
    assert passes["Not creative"] < min(v for k, v in passes.items() if k != "Not creative")
    # rendered: the centre pixel shows the creative colour, not the grey drawn later in feature order
    image = _render_points(layer)
    centre = QColor(image.pixel(image.width() // 2, image.height() // 2))
    expected = QColor(categories[3].symbol().color())
    assert np.abs(_rgb(centre) - _rgb(expected)).sum() < 30


def test_noise_and_ordinary_addresses_beneath():
    from creative_clusters_plugin.styling import apply_style

    for layer, style in ((R.microcluster_points_layer(), "microclusters"), (R.stacks_layer(), "stacks")):
        renderer = apply_style(layer, style)
        assert renderer.usingSymbolLevels(), style
        background, subject = renderer.categories()[-1], renderer.categories()[:-1]
        assert background.symbol().symbolLayer(0).renderingPass() < min(c.symbol().symbolLayer(0).renderingPass()
                                                                        for c in subject)
        assert background.symbol().size() < min(c.symbol().size() for c in subject)


# --- corridor surface: sequential purple fading to transparent, NoData not drawn --------------------------------
def test_corridor_surface_ramp_fades_and_nodata_is_transparent(tmp_path):
    import rasterio
    from rasterio.transform import from_origin
    from qgis.core import QgsRasterLayer, QgsRectangle
    from qgis.PyQt.QtGui import QColor

    from creative_clusters_plugin.styling import apply_style

    values = np.full((10, 10), -9999.0, dtype="float32")
    values[2:8, :] = np.array([30.0, 10.0, 0.0, 5.0, 20.0, 60.0])[:, None]
    path = tmp_path / "corridor_surface.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32", crs="EPSG:27700",
                       transform=from_origin(430000, 390000, 100, 100), nodata=-9999.0) as dst:
        dst.write(values, 1)
    layer = QgsRasterLayer(str(path), "corridor_surface")
    renderer = apply_style(layer, "corridor_surface")
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert len(items) >= 4
    assert items[0].value == pytest.approx(0.0) and items[-1].value == pytest.approx(60.0)
    alphas = [i.color.alpha() for i in items]
    lightness = [i.color.lightness() for i in items]
    assert alphas[0] == 255 and alphas[-1] == 0
    assert alphas == sorted(alphas, reverse=True)  # opacity fades away from the core
    assert lightness == sorted(lightness)  # dark core, pale edge
    for item in items:  # one purple hue (red and blue above green, neither dominant alone)
        colour = item.color
        assert colour.red() > colour.green() and colour.blue() > colour.green()
    assert renderer.opacity() == pytest.approx(1.0)
    # NoData and values beyond the edge are not drawn; the core is opaque
    block = renderer.block(1, QgsRectangle(430000, 389000, 431000, 390000), 10, 10)
    assert QColor.fromRgba(block.color(0, 0)).alpha() == 0  # NoData row
    assert QColor.fromRgba(block.color(4, 0)).alpha() == 255  # the least-cost path
    assert 0 < QColor.fromRgba(block.color(5, 0)).alpha() < 255  # near the core: partly transparent
    assert QColor.fromRgba(block.color(7, 0)).alpha() == 0  # the corridor's far edge


# --- emerging hot spots -------------------------------------------------------------------------------------
EMERGING_NAMES = {0: "No Pattern Detected"}
for _code, _word in enumerate(("New", "Consecutive", "Intensifying", "Persistent", "Diminishing", "Sporadic",
                               "Oscillating", "Historical"), start=1):
    EMERGING_NAMES[_code] = f"{_word} Hot Spot"
    EMERGING_NAMES[-_code] = f"{_word} Cold Spot"


def emerging_layer(geometry="Polygon", name="emerging_hotspots"):
    """Fishnet cells (or their centres) with every emerging hot spot pattern: PATTERN, CATEGORY, N_HOT."""
    from qgis.core import QgsGeometry, QgsPointXY, QgsRectangle

    fields = [("LOCATION", "integer"), ("PATTERN", "string"), ("CATEGORY", "integer"), ("N_HOT", "integer"),
              ("N_COLD", "integer")]
    layer = R._memory_layer(geometry, fields, name)
    rows = []
    for k, code in enumerate(sorted(EMERGING_NAMES)):
        x0, y0 = 431000 + 500 * (k % 6), 388000 + 500 * (k // 6)
        shape = (QgsGeometry.fromRect(QgsRectangle(x0, y0, x0 + 500, y0 + 500)) if geometry == "Polygon"
                 else QgsGeometry.fromPointXY(QgsPointXY(x0 + 250, y0 + 250)))
        rows.append((shape, [k, EMERGING_NAMES[code], code, max(code, 0), max(-code, 0)]))
    return R._add(layer, rows)


@pytest.mark.parametrize("geometry", ["Polygon", "Point"])
def test_emerging_hot_spots_style(geometry):
    from qgis.core import QgsCategorizedSymbolRenderer, QgsRenderContext

    from creative_clusters_plugin.styling import apply_style, detect_result_type

    layer = emerging_layer(geometry)
    assert detect_result_type(layer) == "emerging_hotspots"
    renderer = apply_style(layer)
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert renderer.classAttribute() == "CATEGORY"
    by_value = {c.value(): c for c in renderer.categories()}
    assert set(by_value) == set(EMERGING_NAMES)
    assert {v: c.label() for v, c in by_value.items()} == EMERGING_NAMES
    for code in range(1, 9):
        hot, cold = _rgb(by_value[code].symbol().color()), _rgb(by_value[-code].symbol().color())
        assert hot[0] >= hot[2] + 15, EMERGING_NAMES[code]  # reds and oranges
        assert cold[2] > cold[0], EMERGING_NAMES[-code]  # blues
    # intensifying and persistent patterns stronger (darker) than diminishing and historical ones
    for sign in (1, -1):
        dark = [by_value[sign * c].symbol().color().lightness() for c in (3, 4)]
        pale = [by_value[sign * c].symbol().color().lightness() for c in (5, 8)]
        assert max(dark) < min(pale)
    colours = [c.symbol().color().name() for c in renderer.categories()]
    assert len(set(colours[:16])) == 16
    # no pattern: nothing filled, a light grey edge
    from qgis.PyQt.QtCore import Qt

    none = by_value[0].symbol()
    if geometry == "Point":
        assert none.symbolLayer(0).fillColor().alpha() == 0
        assert none.size() < min(c.symbol().size() for v, c in by_value.items() if v != 0)
    else:
        assert none.symbolLayer(0).brushStyle() == Qt.BrushStyle.NoBrush
    edge = none.symbolLayer(0).strokeColor()
    assert edge.lightness() > 150 and np.ptp(_rgb(edge)) < 10
    # every feature is drawn
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    try:
        assert all(renderer.symbolForFeature(f, context) is not None for f in layer.getFeatures())
    finally:
        renderer.stopRender(context)


def test_emerging_hot_spots_by_pattern_text_and_in_the_dock_list():
    from creative_clusters_plugin.styling import STYLES, apply_style, matching_styles

    layer = emerging_layer()
    assert matching_styles(layer)[0] == "emerging_hotspots"
    assert "emerging_hotspots" in STYLES and STYLES["emerging_hotspots"][1] == "vector"
    renderer = apply_style(layer, "emerging_hotspots", field="PATTERN")
    assert renderer.classAttribute() == "PATTERN"
    assert {c.value() for c in renderer.categories()} == set(EMERGING_NAMES.values())
    # a layer with PATTERN but no CATEGORY is not an emerging hot spot output
    plain = R._memory_layer("Polygon", [("PATTERN", "string")], "plain")
    assert "emerging_hotspots" not in matching_styles(plain)


def test_style_dock_offers_emerging_hot_spots(qgis_iface, qgis_new_project):
    from qgis.core import QgsCategorizedSymbolRenderer, QgsProject

    from creative_clusters_plugin.gui.style_dock import StyleDock

    dock = StyleDock(qgis_iface)
    try:
        layer = emerging_layer()
        QgsProject.instance().addMapLayer(layer)
        dock.set_layer(layer)
        assert dock.available_styles()[0] == "emerging_hotspots"
        assert "Emerging hot spots" in dock.type_label.text()
        assert dock.field_combo.currentField() == "CATEGORY"
        renderer = dock.apply()
        assert isinstance(renderer, QgsCategorizedSymbolRenderer)
        assert renderer.categories()[0].label() == "New Hot Spot"
        # offered among the other vector styles for any vector layer
        links = R.corridor_links_layer()
        QgsProject.instance().addMapLayer(links)
        dock.set_layer(links)
        assert "emerging_hotspots" in dock.available_styles()
    finally:
        dock.cleanup()
        dock.deleteLater()
