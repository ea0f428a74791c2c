"""The style dock under pytest-qgis: choose a layer, pick a style, apply, reset, QML; layers coming and going."""

from __future__ import annotations

import pytest

from tests.gui import result_layers as R


@pytest.fixture
def dock(qgis_iface, qgis_new_project):
    from creative_clusters_plugin.gui.style_dock import StyleDock

    widget = StyleDock(qgis_iface)
    yield widget
    widget.cleanup()
    widget.deleteLater()


def _process_events():
    from qgis.PyQt.QtCore import QCoreApplication

    QCoreApplication.processEvents()


def test_no_layers(dock):
    assert dock.current_layer() is None
    assert "No layer" in dock.type_label.text()
    assert not dock.apply_button.isEnabled()
    assert dock.apply() is None
    assert "Choose a layer" in dock.message_label.text()
    assert dock.reset() is False


def test_choose_layer_and_apply_gi_bin(dock):
    from qgis.core import QgsCategorizedSymbolRenderer, QgsProject

    areas = R.areas_layer()
    QgsProject.instance().addMapLayer(areas)
    _process_events()
    dock.set_layer(areas)
    assert dock.current_layer() is areas
    assert dock.available_styles()[:3] == ["gi_bin", "cotype", "lq"]
    assert "Gi*" in dock.type_label.text()
    assert dock.current_style() == "gi_bin"
    assert dock.field_combo.currentField() == "Gi_Bin"
    dock.apply_button.click()
    renderer = areas.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert [c.value() for c in renderer.categories()[:7]] == [-3, -2, -1, 0, 1, 2, 3]
    assert "Styled" in dock.message_label.text()


def test_lq_with_method_classes_and_ramp_then_reset(dock):
    from qgis.core import QgsClassificationQuantile, QgsGraduatedSymbolRenderer, QgsProject

    areas = R.areas_layer()
    QgsProject.instance().addMapLayer(areas)
    dock.set_layer(areas)
    dock.set_style("lq")
    assert dock.field_combo.currentField() == "lq_creative"
    assert dock.method_combo.isVisibleTo(dock) and dock.ramp_combo.isVisibleTo(dock)
    assert not dock.transparency_spin.isVisibleTo(dock)
    dock.set_options(method="quantile", classes=4, ramp="Blues")
    assert dock.classes_spin.isVisibleTo(dock)
    renderer = dock.apply()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer)
    assert isinstance(renderer.classificationMethod(), QgsClassificationQuantile)
    ranges = renderer.ranges()
    assert len(ranges) == 4
    colours = [r.symbol().color() for r in ranges]
    assert all(c.blue() >= c.red() for c in colours)  # the Blues ramp
    # fixed classes through the dock
    dock.set_options(method="fixed")
    assert not dock.classes_spin.isVisibleTo(dock)
    renderer = dock.apply()
    assert [r.label().split(" ")[0] for r in renderer.ranges()] == ["Below", "0.8", "1.25", "2"]
    # reset gives back the style from before the first Apply
    assert dock.reset() is True
    assert areas.renderer().type() == "singleSymbol"
    assert dock.reset() is False


def test_wrong_style_for_layer_shows_message(dock):
    from qgis.core import QgsProject

    links = R.corridor_links_layer()
    QgsProject.instance().addMapLayer(links)
    dock.set_layer(links)
    assert dock.available_styles()[0] == "corridor_links"
    dock.set_style("gi_bin")  # offered among "other styles", but the layer has no Gi_Bin
    dock.field_combo.setField("")
    assert dock.apply() is None
    assert "Gi_Bin" in dock.message_label.text()
    assert links.renderer().type() == "singleSymbol"


def test_density_raster_through_the_dock(dock, tmp_path):
    from qgis.core import QgsProject, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

    raster = QgsRasterLayer(R.density_raster(tmp_path), "creative_density")
    QgsProject.instance().addMapLayer(raster)
    dock.set_layer(raster)
    # recognised as a density surface first; the other raster style is offered after it
    assert dock.available_styles() == ["density", "corridor_surface"]
    assert dock.transparency_spin.isVisibleTo(dock)
    dock.set_options(transparent_percent=20, ramp="Viridis")
    renderer = dock.apply()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    pixel = renderer.rasterTransparency().transparentSingleValuePixelList()[0]
    assert pixel.max == pytest.approx(items[0].value + 0.2 * (items[-1].value - items[0].value))


def test_save_and_load_qml(dock, tmp_path):
    from qgis.core import QgsProject

    areas = R.areas_layer()
    other = R.areas_layer(name="other")
    QgsProject.instance().addMapLayers([areas, other])
    dock.set_layer(areas)
    dock.set_style("cotype")
    dock.apply()
    written = dock.save_qml(tmp_path / "cotype.qml")
    assert written.is_file()
    dock.set_layer(other)
    assert dock.load_qml(written) is True
    assert other.renderer().classAttribute() == "COType"
    assert [c.label() for c in other.renderer().categories()] == [c.label() for c in areas.renderer().categories()]
    assert dock.load_qml(tmp_path / "missing.qml") is False
    assert "does not exist" in dock.message_label.text()


def test_layers_added_and_removed_while_open(dock):
    from qgis.core import QgsProject

    project = QgsProject.instance()
    areas = R.areas_layer()
    project.addMapLayer(areas)
    _process_events()
    dock.set_layer(areas)
    dock.apply()  # takes a snapshot for reset
    links = R.corridor_links_layer()
    project.addMapLayer(links)
    _process_events()
    names = [dock.layer_combo.itemText(i) for i in range(dock.layer_combo.count())]
    assert "corridor_links" in names and "areas_hotspots" in names

    areas_id = areas.id()
    project.removeMapLayer(areas_id)  # deletes the layer while the dock shows it
    _process_events()
    current = dock.current_layer()
    assert current is None or current.id() != areas_id
    assert areas_id not in dock._snapshots
    dock.apply()  # must not touch the deleted layer
    dock.reset()
    project.removeMapLayer(links.id())
    _process_events()
    assert dock.current_layer() is None
    assert dock.apply() is None


def test_layers_arriving_together_update_the_dock(dock):
    """QgsMapLayerComboBox selects a layer by itself when several arrive at once: the dock must follow."""
    from qgis.core import QgsProject

    areas, links = R.areas_layer(), R.corridor_links_layer()
    QgsProject.instance().addMapLayers([areas, links])
    current = dock.current_layer()
    assert current is not None
    assert dock.apply_button.isEnabled()
    assert dock.available_styles()[0] == ("gi_bin" if current is areas else "corridor_links")
