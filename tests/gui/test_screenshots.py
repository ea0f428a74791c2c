"""Screenshots of the docks: grabbed offscreen in-process, and with the real xcb platform under Xvfb.

The PNGs are written to the test's temporary folder (``make screenshots`` writes them to screenshots/);
the checks make sure they are real pictures of the driven widgets, not blank grabs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.gui import result_layers as R

ROOT = Path(__file__).resolve().parents[2]


def _is_real_picture(path, min_colours=20):
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull() and image.width() > 200 and image.height() > 200
    step_x, step_y = max(image.width() // 60, 1), max(image.height() // 60, 1)
    colours = {image.pixel(x, y) for x in range(0, image.width(), step_x) for y in range(0, image.height(), step_y)}
    return len(colours) >= min_colours


def test_docks_grabbed_offscreen(tmp_path, qgis_iface, qgis_new_project):
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QCoreApplication

    from creative_clusters_plugin.gui.atlas_dock import AtlasDock
    from creative_clusters_plugin.gui.style_dock import StyleDock

    areas = R.areas_layer()
    QgsProject.instance().addMapLayer(areas)
    style_dock, atlas_dock = StyleDock(qgis_iface), AtlasDock(qgis_iface)
    try:
        for dock in (style_dock, atlas_dock):
            dock.resize(420, 800)
            dock.show()
        style_dock.set_layer(areas)
        style_dock.set_style("lq")
        style_dock.set_options(method="jenks", classes=5, ramp="Viridis")
        assert style_dock.apply() is not None
        atlas_dock.coverage_combo.setLayer(areas)
        atlas_dock.filter_widget.setExpression('"Gi_Bin" = 3')
        assert atlas_dock.build_layout(open_designer=False) is not None
        QCoreApplication.processEvents()
        for dock, name in ((style_dock, "style_dock.png"), (atlas_dock, "atlas_dock.png")):
            assert dock.widget().grab().save(str(tmp_path / name))
            assert _is_real_picture(tmp_path / name, min_colours=5)
    finally:
        for dock in (style_dock, atlas_dock):
            dock.cleanup()
            dock.deleteLater()
        manager = QgsProject.instance().layoutManager()
        for layout in list(manager.layouts()):
            manager.removeLayout(layout)


def test_atlas_dock_docked_in_a_1600x1000_window(tmp_path, qgis_iface, qgis_new_project):
    """The atlas dock docked right in a 1600×1000 main window, scrolled to the top and to the bottom."""
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QCoreApplication, Qt
    from qgis.PyQt.QtWidgets import QLabel, QMainWindow

    from creative_clusters_plugin.gui.atlas_dock import AtlasDock

    areas, clusters = R.areas_layer(), R.microclusters_layer()
    QgsProject.instance().addMapLayers([clusters, areas])
    window = QMainWindow()
    window.setCentralWidget(QLabel("map canvas", alignment=Qt.AlignmentFlag.AlignCenter))
    window.resize(1600, 1000)
    dock = AtlasDock(qgis_iface, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.show()
    try:
        QCoreApplication.processEvents()
        window.resizeDocks([dock], [380], Qt.Orientation.Horizontal)
        dock.coverage_combo.setLayer(areas)
        dock.set_checked_layers([clusters, areas])
        dock.subtitle_edit.setText("Gi* hot spots of the demo region")
        dock.filter_widget.setExpression('"Gi_Bin" = 3')
        dock.organisation_edit.setText("Creative Region Observatory")
        dock.author_edit.setText("A. Analyst")
        dock.output_widget.setFilePath(str(tmp_path / "atlas.pdf"))
        for edit in (dock.subtitle_edit, dock.organisation_edit):
            edit.setCursorPosition(0)  # show the start of the text, as after typing and leaving the field
        assert dock.build_layout(open_designer=False) is not None
        assert dock.build_layout(open_designer=False) is not None  # a second one: "Build as" offers both
        for _ in range(5):
            QCoreApplication.processEvents()
        assert window.grab().save(str(tmp_path / "window_atlas_dock.png"))
        assert _is_real_picture(tmp_path / "window_atlas_dock.png", min_colours=5)
        bar = dock.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())
        QCoreApplication.processEvents()
        assert dock.grab().save(str(tmp_path / "atlas_dock_bottom.png"))
        assert _is_real_picture(tmp_path / "atlas_dock_bottom.png", min_colours=5)
    finally:
        window.hide()
        dock.cleanup()
        window.deleteLater()
        manager = QgsProject.instance().layoutManager()
        for layout in list(manager.layouts()):
            manager.removeLayout(layout)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed")
def test_screenshot_script_in_a_real_window_under_xvfb(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "/usr/bin/python3",
               str(ROOT / "scripts" / "screenshots.py"), "--quick", "--output", str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=ROOT)
    if "could not connect to display" in result.stderr or "Could not load the Qt platform plugin" in result.stderr:
        pytest.skip("no usable X server for the xcb platform")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Qt platform: xcb" in result.stdout
    for name in ("window_style_dock.png", "style_dock_lq.png", "atlas_dock.png", "atlas_page_cover.png",
                 "atlas_page_contents.png", "atlas_page_summary.png", "atlas_page_overview.png",
                 "atlas_page_feature.png", "atlas_page_methods.png"):
        assert (tmp_path / name).is_file(), name
        assert _is_real_picture(tmp_path / name), name
