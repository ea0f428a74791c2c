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


def _no_back_matter(dock):
    """Only cover, overview and the feature pages (the tests that count pages or read page 1)."""
    for check in (dock.contents_check, dock.summary_check, dock.methods_check):
        check.setChecked(False)


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
    _no_back_matter(dock)
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
    assert [lyr.name() for lyr in layout.itemById("cc_main_map").layers() if lyr.name() in order] == order

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
    _no_back_matter(dock)
    dock.cover_check.setChecked(False)
    dock.overview_check.setChecked(False)
    layout = dock.build_layout(open_designer=False)
    layout.itemById("cc_date").setText("Edited in the designer")
    path = dock.export_pdf(tmp_path / "edited.pdf")
    assert "Edited in the designer" in _text(path, 1)
    # changing a dock setting builds a new layout for the export; the edited one stays in the manager
    from qgis.core import QgsProject

    dock.title_edit.setText("Another title")
    path = dock.export_pdf(tmp_path / "rebuilt.pdf")
    assert "Edited in the designer" not in _text(path, 1)
    assert "Another title" in _text(path, 1)
    manager = QgsProject.instance().layoutManager()
    assert len(manager.layouts()) == 2
    assert manager.layoutByName(layout.name()).itemById("cc_date").text() == "Edited in the designer"


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
    _no_back_matter(dock)
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


# --- the dock keeps work (issue 10, item 9) -----------------------------------------------------------------
def _places_layer():
    from qgis.core import QgsGeometry, QgsPointXY

    layer = R._memory_layer("Point", [("code", "string"), ("name", "string")], "places")
    rows = [(QgsGeometry.fromPointXY(QgsPointXY(430500 + 1500 * i, 387500 + 1200 * i)), [f"P{i}", f"Town {i}"])
            for i in range(4)]
    return R._add(layer, rows)


def _add_note(layout, text="My note"):
    from qgis.core import QgsLayoutItemLabel

    note = QgsLayoutItemLabel(layout)
    note.setId("user_note")
    note.setText(text)
    layout.addLayoutItem(note)
    return note


def test_building_twice_makes_a_second_layout(dock, project_layers):
    from qgis.core import QgsProject

    areas, _ = project_layers
    manager = QgsProject.instance().layoutManager()
    dock.coverage_combo.setLayer(areas)
    dock.title_edit.setText("Book")
    assert dock.build_as_combo.currentIndex() == 0 and dock.replace_target() is None  # default: a new layout
    first = dock.build_layout(open_designer=False)
    assert first.name() == "Book – areas_hotspots"
    _add_note(first)
    second = dock.build_layout(open_designer=False)
    assert second is not first and second.name() == "Book – areas_hotspots (2)"
    third = dock.build_layout(open_designer=False)
    assert third.name() == "Book – areas_hotspots (3)"
    assert len(manager.layouts()) == 3
    kept = manager.layoutByName("Book – areas_hotspots")
    assert kept is first and kept.itemById("user_note").text() == "My note"
    assert dock.current_layout() is third
    # "Build as" offers the atlas layouts for replacing; still "New layout" after building
    items = [dock.build_as_combo.itemText(i) for i in range(dock.build_as_combo.count())]
    assert items[0] == "New layout" and len(items) == 4
    assert any("Book – areas_hotspots (2)" in text for text in items)
    assert dock.build_as_combo.currentIndex() == 0


def test_a_users_own_layout_is_never_touched(dock, project_layers):
    from qgis.core import QgsPrintLayout, QgsProject

    areas, _ = project_layers
    project = QgsProject.instance()
    own = QgsPrintLayout(project)
    own.initializeDefaults()
    own.setName("Creative clusters atlas – areas_hotspots")
    _add_note(own, "Mine")
    assert project.layoutManager().addLayout(own)
    dock.coverage_combo.setLayer(areas)
    built = dock.build_layout(open_designer=False)
    assert built.name() == "Creative clusters atlas – areas_hotspots (2)"
    kept = project.layoutManager().layoutByName("Creative clusters atlas – areas_hotspots")
    assert kept is own and kept.itemById("user_note").text() == "Mine"
    # only the dock's own layouts can be chosen for replacing
    assert dock.build_as_combo.count() == 2
    dock.set_replace_target(own)
    assert dock.replace_target() is None


def test_update_replaces_the_chosen_layout(dock, project_layers):
    from qgis.core import QgsProject

    areas, _ = project_layers
    manager = QgsProject.instance().layoutManager()
    dock.coverage_combo.setLayer(areas)
    first = dock.build_layout(open_designer=False)
    first_name = first.name()
    _add_note(first)
    second = dock.build_layout(open_designer=False)
    _add_note(second, "Second note")
    asked = []

    # the user says no: nothing changes
    dock.confirm_replace = lambda name: asked.append(name) or False
    dock.set_replace_target(first)
    assert dock.replace_target() is first
    assert dock.build_layout(open_designer=False) is None
    assert asked == [first_name] and "kept" in dock.message_label.text()
    assert manager.layoutByName(first_name) is first and len(manager.layouts()) == 2

    # the user says yes: the chosen layout is rebuilt under its name, the other one is kept
    dock.confirm_replace = lambda name: asked.append(name) or True
    dock.title_edit.setText("Rebuilt")
    replaced = dock.build_layout(open_designer=False)
    assert replaced is not None and asked == [first_name, first_name]
    assert len(manager.layouts()) == 2
    assert replaced.name() == first_name and manager.layoutByName(first_name) is replaced
    assert replaced.itemById("user_note") is None
    assert "replaced" in dock.message_label.text()
    assert manager.layoutByName(second.name()).itemById("user_note").text() == "Second note"
    # the combo still points at the replaced layout, so building again replaces it again
    assert dock.replace_target() is replaced
    assert dock.current_layout() is replaced


def test_replace_target_after_the_layout_is_deleted(dock, project_layers):
    from qgis.core import QgsProject

    areas, _ = project_layers
    manager = QgsProject.instance().layoutManager()
    dock.coverage_combo.setLayer(areas)
    first = dock.build_layout(open_designer=False)
    dock.set_replace_target(first)
    manager.removeLayout(first)
    # the deleted layout leaves the combo; building makes a new layout
    assert dock.build_as_combo.count() == 1 and dock.replace_target() is None
    assert dock.current_layout() is None
    layout = dock.build_layout(open_designer=False)
    assert layout is not None and len(manager.layouts()) == 1


def test_current_settings_defaults(dock, project_layers):
    from qgis.core import QgsProject

    areas, clusters = project_layers
    places = _places_layer()
    QgsProject.instance().addMapLayer(places)
    dock.coverage_combo.setLayer(areas)
    settings = dock.current_settings()
    # optional context layers stay empty even though point and polygon layers are in the project
    assert settings.places is None and settings.place_field == "" and settings.study_area is None
    assert dock.places_combo.currentText() == "none"
    assert dock.study_area_combo.currentText() == "coverage outline"
    assert settings.name_expression == ""
    assert settings.basemap_url == "" and settings.basemap_attribution == ""
    assert settings.organisation == "" and settings.author == "" and settings.logo is None
    assert settings.cover and settings.overview and settings.contents and settings.summary and settings.methods
    assert settings.title == "Creative clusters atlas"


def test_current_settings_carry_every_option(dock, project_layers, tmp_path):
    from qgis.core import QgsProject

    areas, clusters = project_layers
    places = _places_layer()
    QgsProject.instance().addMapLayer(places)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"")
    dock.coverage_combo.setLayer(areas)
    dock.name_widget.setExpression('"area_name" || \' (\' || "area_id" || \')\'')
    assert not dock.place_field_combo.isEnabled()
    dock.places_combo.setLayer(places)
    assert dock.place_field_combo.layer() is places and dock.place_field_combo.isEnabled()
    dock.place_field_combo.setField("name")
    dock.study_area_combo.setLayer(clusters)
    dock.basemap_edit.setText(" https://tile.example.org/{z}/{x}/{y}.png ")
    dock.basemap_attribution_edit.setText("© Example tiles")
    dock.organisation_edit.setText("Creative Region Observatory")
    dock.author_edit.setText("A. Analyst")
    dock.logo_widget.setFilePath(str(logo))
    dock.contents_check.setChecked(False)
    dock.summary_check.setChecked(False)
    dock.methods_check.setChecked(False)
    dock.overview_check.setChecked(False)
    settings = dock.current_settings()
    assert settings.name_expression == '"area_name" || \' (\' || "area_id" || \')\''
    assert settings.places is places and settings.place_field == "name"
    assert settings.study_area is clusters
    assert settings.basemap_url == "https://tile.example.org/{z}/{x}/{y}.png"
    assert settings.basemap_attribution == "© Example tiles"
    assert settings.organisation == "Creative Region Observatory" and settings.author == "A. Analyst"
    assert str(settings.logo) == str(logo)
    assert (settings.contents, settings.summary, settings.methods) == (False, False, False)
    assert settings.cover and not settings.overview
    # an empty field means "detect"; no places layer means no place field
    dock.place_field_combo.setField("")
    assert dock.current_settings().place_field == ""
    dock.places_combo.setLayer(None)
    assert dock.current_settings().places is None and dock.current_settings().place_field == ""
    assert dock.places_combo.currentText() == "none"
    assert "{z}" in dock.basemap_edit.toolTip() and "network" in dock.basemap_edit.toolTip()
    # the attribution starts as the builder's default; a button fills in the UK open data credits
    from creative_clusters_plugin.layout import atlas as atlas_module

    assert settings.attribution == atlas_module.DEFAULT_ATTRIBUTION
    if dock.uk_credits_button is not None:
        dock.uk_credits_button.click()
        assert dock.current_settings().attribution == atlas_module.UK_OPEN_DATA_ATTRIBUTION


def test_build_passes_the_settings_to_build_atlas(dock, project_layers, monkeypatch):
    import dataclasses

    from qgis.core import QgsProject

    from creative_clusters_plugin.layout import atlas as atlas_module

    areas, _ = project_layers
    places = _places_layer()
    QgsProject.instance().addMapLayer(places)
    seen = []
    original = atlas_module.build_atlas

    def spy(coverage, settings=None, project=None):
        seen.append(dataclasses.replace(settings))
        return original(coverage, settings, project)

    monkeypatch.setattr(atlas_module, "build_atlas", spy)
    dock.coverage_combo.setLayer(areas)
    dock.places_combo.setLayer(places)
    dock.organisation_edit.setText("Org")
    dock.methods_check.setChecked(False)
    layout = dock.build_layout(open_designer=False)
    assert layout is not None and len(seen) == 1
    expected = dock.current_settings()
    for field in dataclasses.fields(expected):
        if field.name != "layout_name":
            assert getattr(seen[0], field.name) == getattr(expected, field.name), field.name
    assert seen[0].layout_name == layout.name()
    # changing one of the new settings makes the export rebuild (into a new layout)
    dock.author_edit.setText("Someone")
    assert dock._layout_for_export() is not layout and len(seen) == 2 and seen[1].author == "Someone"


def test_name_expression_names_the_pages(dock, project_layers):
    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    assert dock.name_widget.layer() is areas
    dock.name_widget.setExpression("'Page of ' || \"area_id\"")
    layout = dock.build_layout(open_designer=False)
    assert layout.atlas().pageNameExpression() == "'Page of ' || \"area_id\""


def _check_every_control_reachable(dock):
    from qgis.PyQt.QtCore import QCoreApplication, QPoint

    scroll = dock.scroll_area
    viewport = scroll.viewport()
    QCoreApplication.processEvents()
    assert scroll.widgetResizable()
    # nothing needs more width than the dock gives (no horizontal clipping)
    assert scroll.widget().minimumSizeHint().width() <= viewport.width()
    # the buttons stay in view below the scrolling settings
    footer = [dock.build_button, dock.export_button, dock.progress_bar]
    scroll.verticalScrollBar().setValue(0)
    QCoreApplication.processEvents()
    for widget in footer:
        assert not scroll.widget().isAncestorOf(widget)
        assert widget.visibleRegion().boundingRect().size() == widget.size(), widget.objectName()
    for widget in dock.input_widgets():
        name = widget.objectName()
        if widget not in footer:
            assert scroll.widget().isAncestorOf(widget), name
            # scroll so that the whole widget shows (ensureWidgetVisible only shows a line edit's cursor)
            centre = widget.mapTo(scroll.widget(), widget.rect().center())
            scroll.ensureVisible(centre.x(), centre.y(), 0, widget.height() // 2 + 1)
            QCoreApplication.processEvents()
            top_left = widget.mapTo(viewport, QPoint(0, 0))
            assert top_left.x() >= 0 and top_left.x() + widget.width() <= viewport.width(), name
        assert widget.isVisible(), name
        assert widget.width() > 0 and widget.height() > 0, name
        assert not widget.visibleRegion().isEmpty(), name
        if widget.height() <= viewport.height():  # fully shown once scrolled to
            assert widget.visibleRegion().boundingRect().size() == widget.size(), name
        hint = widget.minimumSizeHint()
        assert widget.width() >= hint.width() and widget.height() >= hint.height(), name


def test_every_control_reachable_in_a_short_dock(dock, project_layers):
    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    dock.resize(380, 500)
    dock.show()
    try:
        assert dock.scroll_area.verticalScrollBar().maximum() > 0  # the content scrolls rather than squeezes
        _check_every_control_reachable(dock)
    finally:
        dock.hide()


def test_every_control_reachable_docked_in_a_1600x1000_window(qgis_iface, qgis_new_project):
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QCoreApplication, Qt
    from qgis.PyQt.QtWidgets import QLabel, QMainWindow

    from creative_clusters_plugin.gui.atlas_dock import AtlasDock

    QgsProject.instance().addMapLayer(R.areas_layer())
    window = QMainWindow()
    window.setCentralWidget(QLabel("map canvas"))
    window.resize(1600, 1000)
    dock = AtlasDock(qgis_iface, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.show()
    try:
        QCoreApplication.processEvents()
        window.resizeDocks([dock], [380], Qt.Orientation.Horizontal)  # a typical QGIS dock width
        QCoreApplication.processEvents()
        assert dock.height() > 800 and 300 <= dock.width() <= 420
        # layers in the project before the dock opened: the optional layers still start empty
        assert dock.current_settings().places is None and dock.current_settings().study_area is None
        _check_every_control_reachable(dock)
    finally:
        window.hide()
        dock.cleanup()
        window.deleteLater()


def test_export_progress_says_page_k_of_n_and_cancel_button_works(dock, project_layers, tmp_path):
    import re

    from qgis.core import QgsFeedback
    from qgis.PyQt.QtWidgets import QPushButton

    areas, _ = project_layers
    dock.coverage_combo.setLayer(areas)
    dock.filter_widget.setExpression('"Gi_Bin" >= 2')
    layout = dock.build_layout(open_designer=False)
    total = dock.last_build.page_count
    assert total >= layout.atlas().count() + dock.last_build.front_pages
    labels = []
    feedback = QgsFeedback()
    # (this slot runs before the dock's: it sees the label of the page before)
    feedback.progressChanged.connect(lambda _: labels.append(dock._progress_dialog.labelText()))
    path = dock.export_pdf(tmp_path / "progress.pdf", feedback=feedback)
    assert path is not None and _pages(path) == total
    assert labels[0] == f"Exporting pages 1–{dock.last_build.front_pages + 1} of {total}…"
    assert any(re.fullmatch(rf"Exporting page \d+ of {total}…", text) for text in labels)
    assert dock.progress_bar.format() == "%p%"

    # pressing the dialog's Cancel button between pages stops the export; no PDF
    feedback = QgsFeedback()

    def press_cancel(progress):
        if progress > 0 and dock._progress_dialog is not None:
            dock._progress_dialog.findChild(QPushButton).click()

    feedback.progressChanged.connect(press_cancel)
    assert dock.export_pdf(tmp_path / "cancelled.pdf", feedback=feedback) is None
    assert feedback.isCanceled()
    assert "cancelled" in dock.message_label.text().lower()
    assert not (tmp_path / "cancelled.pdf").exists()
    assert dock.build_button.isEnabled() and dock.export_button.isEnabled()


def test_dock_strings_are_translatable(qgis_iface, qgis_new_project, monkeypatch):
    from qgis.PyQt.QtWidgets import QAbstractButton, QGroupBox, QLabel, QLineEdit

    from creative_clusters_plugin.gui.atlas_dock import AtlasDock

    monkeypatch.setattr(AtlasDock, "tr", lambda self, text, *args: "T:" + text)
    dock = AtlasDock(qgis_iface)
    try:
        texts = [dock.build_as_combo.itemText(0), dock.orientation_combo.itemText(0), dock.message_label.text()]
        for widget in dock.widget().findChildren(QLabel):
            if isinstance(widget.parentWidget(), QGroupBox) and widget.text():  # the form labels
                texts.append(widget.text())
        texts += [w.title() for w in dock.widget().findChildren(QGroupBox)]
        texts += [w.text() for w in dock.widget().findChildren(QAbstractButton) if w.text() and w.text() != "…"]
        texts += [w.placeholderText() for w in (dock.subtitle_edit, dock.basemap_edit, dock.organisation_edit)]
        texts += [w.toolTip() for w in dock.input_widgets() if w.toolTip() and not isinstance(w, QLineEdit)
                  and w is not dock.layers_list] + [dock.basemap_edit.toolTip()]
        assert len(texts) > 30
        assert [t for t in texts if not t.startswith("T:")] == []
    finally:
        dock.cleanup()
        dock.deleteLater()
