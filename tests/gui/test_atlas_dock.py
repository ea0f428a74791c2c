"""The atlas dock under pytest-qgis: coverage and layers, build into the layout manager, export with progress."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.gui import result_layers as R


@pytest.fixture
def dock(qgis_iface, qgis_new_project):
    from qgis.core import QgsProject

    from creative_clusters_plugin.gui.atlas_dock import AtlasDock

    widget = AtlasDock(qgis_iface)
    yield widget
    widget.cleanup()
    widget.deleteLater()
    manager = QgsProject.instance().layoutManager()
    for layout in list(manager.layouts()):
        manager.removeLayout(layout)


@pytest.fixture
def project_layers():
    from qgis.core import QgsProject

    from creative_clusters_plugin.styling import apply_style

    areas = R.areas_layer()
    apply_style(areas, "gi_bin")
    clusters = R.microclusters_layer()
    apply_style(clusters, "microclusters")
    QgsProject.instance().addMapLayers([clusters, areas])
    return areas, clusters


def _pages(path):
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo not installed")
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def _text(path, page):
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_no_layers(dock, tmp_path):
    assert dock.coverage_combo.currentLayer() is None
    assert not dock.build_button.isEnabled() and not dock.export_button.isEnabled()
    assert dock.layers_list.count() == 0
    assert dock.build_layout() is None
    assert "coverage" in dock.message_label.text().lower()
    assert dock.export_pdf(tmp_path / "x.pdf") is None
    assert not (tmp_path / "x.pdf").exists()


def test_layer_list_follows_the_project(dock, project_layers):
    from qgis.core import QgsProject

    areas, clusters = project_layers
    names = [dock.layers_list.item(i).text() for i in range(dock.layers_list.count())]
    assert set(names) == {"areas_hotspots", "microclusters"}
    links = R.corridor_links_layer()
    QgsProject.instance().addMapLayer(links)
    assert dock.layers_list.count() == 3
    QgsProject.instance().removeMapLayer(links.id())
    assert dock.layers_list.count() == 2


def test_build_layout_into_manager_and_export(dock, project_layers, tmp_path, qgis_iface, monkeypatch):
    from qgis.core import QgsProject

    areas, clusters = project_layers
    opened = []
    monkeypatch.setattr(qgis_iface, "openLayoutDesigner", lambda layout: opened.append(layout), raising=False)
    dock.coverage_combo.setLayer(areas)
    dock.set_checked_layers([clusters, areas])
    dock.title_edit.setText("Dock atlas")
    dock.subtitle_edit.setText("Hot spots only")
    dock.filter_widget.setExpression('"Gi_Bin" = 3')
    dock.sort_widget.setExpression('"area_name"')
    dock.attribution_edit.setPlainText("Contains made-up test data.")
    dock.open_designer_check.setChecked(True)
    layout = dock.build_layout()
    assert layout is not None
    assert QgsProject.instance().layoutManager().layoutByName(layout.name()) is layout
    assert opened == [layout]
    n = sum(1 for f in areas.getFeatures() if f["Gi_Bin"] == 3)
    assert layout.atlas().count() == n
    # the map draws the chosen layers in the project's layer order (under the atlas highlight)
    order = [lyr.name() for lyr in QgsProject.instance().layerTreeRoot().layerOrder()]
    assert [lyr.name() for lyr in layout.itemById("cc_main_map").layers()][1:] == order

    path = dock.export_pdf(tmp_path / "dock.pdf")
    assert path is not None and path.is_file()
    assert _pages(path) == n + 2
    assert dock.progress_bar.value() == 100
    assert "Atlas written" in dock.message_label.text()
    names = sorted(f["area_name"] for f in areas.getFeatures() if f["Gi_Bin"] == 3)
    assert _text(path, 3).startswith(names[0])
    assert "Contains made-up test data." in _text(path, 3)
    assert "Hot spots only" in _text(path, 1)


def test_export_uses_the_layout_edited_in_the_designer(dock, project_layers, tmp_path):
    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    dock.cover_check.setChecked(False)
    dock.overview_check.setChecked(False)
    layout = dock.build_layout(open_designer=False)
    layout.itemById("cc_date").setText("Edited in the designer")
    path = dock.export_pdf(tmp_path / "edited.pdf")
    assert "Edited in the designer" in _text(path, 1)
    # changing a dock setting rebuilds the layout (the old one is replaced in the manager)
    dock.title_edit.setText("Another title")
    path = dock.export_pdf(tmp_path / "rebuilt.pdf")
    assert "Edited in the designer" not in _text(path, 1)
    assert "Another title" in _text(path, 1)


def test_cancel_during_export(dock, project_layers, tmp_path):
    from qgis.core import QgsFeedback

    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    feedback = QgsFeedback()
    feedback.progressChanged.connect(lambda progress: feedback.cancel() if progress > 0 else None)
    assert dock.export_pdf(tmp_path / "cancelled.pdf", feedback=feedback) is None
    assert "cancelled" in dock.message_label.text().lower()
    assert not (tmp_path / "cancelled.pdf").exists()
    assert dock.export_button.isEnabled()


def test_bad_input_messages(dock, project_layers, tmp_path):
    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    dock.filter_widget.setExpression('"Gi_Bin" > 99')
    assert dock.export_pdf(tmp_path / "none.pdf") is None
    assert "left after the filter" in dock.message_label.text()
    dock.filter_widget.setExpression("")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    assert dock.export_pdf(blocker / "x.pdf") is None
    assert "cannot be created" in dock.message_label.text()
    assert dock.export_pdf("") is None or dock.output_widget.filePath()


def test_coverage_removed_while_open(dock, project_layers, tmp_path):
    from qgis.core import QgsProject

    areas, clusters = project_layers
    dock.coverage_combo.setLayer(areas)
    dock.build_layout(open_designer=False)
    QgsProject.instance().removeMapLayer(areas.id())
    current = dock.coverage_combo.currentLayer()
    assert current is None or current.name() == "microclusters"
    assert all(dock.layers_list.item(i).text() != "areas_hotspots" for i in range(dock.layers_list.count()))
    # exporting now rebuilds on what is left (or says there is no coverage) — never touches the deleted layer
    result = dock.export_pdf(tmp_path / "after.pdf")
    if current is None:
        assert result is None
    else:
        assert _pages(result) == clusters.featureCount() + 2
    QgsProject.instance().removeMapLayer(clusters.id())
    assert dock.coverage_combo.currentLayer() is None
    assert not dock.export_button.isEnabled()


def test_install_gui_adds_two_docks(qgis_iface, qgis_new_project, monkeypatch):
    from creative_clusters_plugin.gui.install import install_gui

    main_window = qgis_iface.mainWindow()
    # like QGIS: docks go into the main window (the test iface's addDockWidget is a stub)
    monkeypatch.setattr(qgis_iface, "addDockWidget", lambda area, dock: main_window.addDockWidget(area, dock))
    main_window.show()
    docks, actions = install_gui(qgis_iface)
    try:
        assert len(docks) == 2 and len(actions) == 2
        assert {d.objectName() for d in docks} == {"CreativeClustersStyleDock", "CreativeClustersAtlasDock"}
        for dock, action in zip(docks, actions):
            assert not action.icon().isNull()
            # hidden until its button is pressed
            assert dock.isHidden() and not action.isChecked()
            action.trigger()
            assert not dock.isHidden() and action.isChecked()
            action.trigger()
            assert dock.isHidden() and not action.isChecked()
    finally:
        for dock in docks:
            main_window.removeDockWidget(dock)
            dock.cleanup()
            dock.deleteLater()
        main_window.hide()


def test_layers_arriving_together_enable_the_dock(dock):
    from qgis.core import QgsProject

    assert not dock.build_button.isEnabled()
    QgsProject.instance().addMapLayers([R.areas_layer(), R.microclusters_layer()])
    assert dock.coverage_combo.currentLayer() is not None
    assert dock.build_button.isEnabled() and dock.export_button.isEnabled()
    assert sum(dock.layers_list.item(i).checkState() == 2 for i in range(dock.layers_list.count())) >= 1
