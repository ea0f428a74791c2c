#!/usr/bin/python3
"""`make screenshots`: the two docks in a real QGIS window (xcb under Xvfb), driven, grabbed to PNG.

Starts a ``QgsApplication`` with its GUI, a main window laid out like QGIS (layer tree on the left, map
canvas in the middle, the plugin's docks on the right) with a small ``iface`` that forwards docks and
toolbar buttons to it, and installs the plugin's GUI through ``gui.install.install_gui``. It then loads
the demo results (``demo_output/creative_clusters_demo.gpkg`` from ``make demo``, or — with ``--quick`` or
when that file is missing — result layers made in memory), drives the docks (choose a layer, pick a style,
apply; fill in the atlas form, build the layout) and writes:

* ``window_style_dock.png`` — the whole window after styling the Gi* layer from the style dock;
* ``style_dock_lq.png`` — the style dock set to LQ classes (natural breaks, chosen ramp);
* ``atlas_dock.png`` — the atlas dock filled in, after building the layout;
* ``atlas_page_cover.png`` … ``atlas_page_methods.png`` — the six template pages of that atlas.

``make screenshots`` then renders every page of ``make demo``'s ``atlas.pdf`` and ``hotspot_map.pdf`` and of the
real-data atlas of Sheffield (``scripts/real_data_atlas.py``, when ``../shared/data`` is there) with ``pdftoppm``.

Run: ``xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb /usr/bin/python3 scripts/screenshots.py``.
The offscreen platform works too (``QT_QPA_PLATFORM=offscreen``): widgets are grabbed with ``widget.grab()``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, "/usr/share/qgis/python/plugins")
os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")


class ScreenshotIface:
    """The part of ``QgisInterface`` the plugin's GUI uses, backed by a real main window."""

    def __init__(self, window, canvas, tree_view, message_bar):
        self._window = window
        self._canvas = canvas
        self._tree = tree_view
        self._bar = message_bar
        self.toolbar = window.addToolBar("Plugins")
        self.menu = window.menuBar().addMenu("Plugins")
        self.opened_layouts = []

    def mainWindow(self):  # noqa: N802 - QGIS API
        return self._window

    def mapCanvas(self):  # noqa: N802 - QGIS API
        return self._canvas

    def layerTreeView(self):  # noqa: N802 - QGIS API
        return self._tree

    def messageBar(self):  # noqa: N802 - QGIS API
        return self._bar

    def addDockWidget(self, area, dock):  # noqa: N802 - QGIS API
        self._window.addDockWidget(area, dock)

    def removeDockWidget(self, dock):  # noqa: N802 - QGIS API
        self._window.removeDockWidget(dock)

    def addPluginToMenu(self, name, action):  # noqa: N802 - QGIS API
        self.menu.addAction(action)

    def removePluginMenu(self, name, action):  # noqa: N802 - QGIS API
        self.menu.removeAction(action)

    def addToolBarIcon(self, action):  # noqa: N802 - QGIS API
        self.toolbar.addAction(action)

    def removeToolBarIcon(self, action):  # noqa: N802 - QGIS API
        self.toolbar.removeAction(action)

    def openLayoutDesigner(self, layout):  # noqa: N802 - QGIS API
        self.opened_layouts.append(layout)


def start_window():
    from qgis.core import QgsProject
    from qgis.gui import QgsLayerTreeMapCanvasBridge, QgsLayerTreeView, QgsMapCanvas, QgsMessageBar
    from qgis.core import QgsLayerTreeModel
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtWidgets import QDockWidget, QMainWindow, QVBoxLayout, QWidget

    window = QMainWindow()
    window.setWindowTitle("QGIS – Creative Clusters")
    central = QWidget(window)
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    bar = QgsMessageBar(central)
    canvas = QgsMapCanvas(central)
    canvas.setCanvasColor(Qt.white)
    layout.addWidget(bar)
    layout.addWidget(canvas, 1)
    window.setCentralWidget(central)
    root = QgsProject.instance().layerTreeRoot()
    model = QgsLayerTreeModel(root, window)
    model.setFlag(QgsLayerTreeModel.AllowNodeReorder)
    model.setFlag(QgsLayerTreeModel.AllowNodeChangeVisibility)
    tree = QgsLayerTreeView(window)
    tree.setModel(model)
    window._bridge = QgsLayerTreeMapCanvasBridge(root, canvas, window)
    layers_dock = QDockWidget("Layers", window)
    layers_dock.setObjectName("Layers")
    layers_dock.setWidget(tree)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, layers_dock)
    window.resize(1560, 960)
    return window, ScreenshotIface(window, canvas, tree, bar)


def load_demo_layers(gpkg: Path):
    """Layers of ``make demo``'s GeoPackage (they load with the styles saved in it)."""
    from qgis.core import QgsVectorLayer

    layers = {}
    for name in ("areas_lq", "areas_hotspots", "areas_local_moran", "microclusters", "corridors", "corridor_links"):
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        if layer.isValid():
            layers[name] = layer
    return layers


def memory_layers():
    """Result layers made in memory (the tests' fixtures) when no demo output exists."""
    from tests.gui import result_layers as R

    areas = R.areas_layer(n_side=10, name="areas_hotspots")
    return {"areas_hotspots": areas, "microclusters": R.microclusters_layer(n=6),
            "corridor_links": R.corridor_links_layer()}


def settle(app, rounds=20):
    for _ in range(rounds):
        app.processEvents()


def grab(widget, path):
    pixmap = widget.grab()
    if not pixmap.save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"  {path} ({pixmap.width()}×{pixmap.height()})")


def render_page(layout, page, path, dpi=70):
    from qgis.core import QgsLayoutExporter

    image = QgsLayoutExporter(layout).renderPageToImage(page, dpi=dpi)
    image.save(str(path))
    print(f"  {path} ({image.width()}×{image.height()})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=ROOT / "screenshots", type=Path)
    parser.add_argument("--demo", default=ROOT / "demo_output" / "creative_clusters_demo.gpkg", type=Path)
    parser.add_argument("--quick", action="store_true", help="use in-memory layers even if the demo output exists")
    args = parser.parse_args(argv)

    from qgis.core import QgsApplication, QgsProject

    app = QgsApplication([], True)
    app.initQgis()
    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    print(f"Qt platform: {app.platformName()}")

    window, iface = start_window()
    from creative_clusters_plugin.gui.install import install_gui

    docks, actions = install_gui(iface)
    style_dock, atlas_dock = docks
    window.tabifyDockWidget(style_dock, atlas_dock)
    for action in actions:
        action.setChecked(True)
    window.show()
    settle(app)

    layers = {} if args.quick or not args.demo.is_file() else load_demo_layers(args.demo)
    source = f"demo output {args.demo}" if layers else "in-memory result layers"
    if not layers:
        layers = memory_layers()
    print(f"Layers from {source}: {', '.join(layers)}")
    project = QgsProject.instance()
    order = [name for name in ("areas_hotspots", "areas_local_moran", "areas_lq", "microclusters", "corridors",
                               "corridor_links") if name in layers]
    project.addMapLayers([layers[name] for name in reversed(order)])
    hotspots = layers.get("areas_hotspots") or next(iter(layers.values()))
    for name, layer in layers.items():
        if layer is not hotspots and name != "microclusters":
            project.layerTreeRoot().findLayer(layer.id()).setItemVisibilityChecked(False)
    iface.mapCanvas().setDestinationCrs(hotspots.crs())
    iface.mapCanvas().setExtent(hotspots.extent())
    settle(app)

    # --- style dock: choose the Gi* layer, apply the recognised style -----------------------------------
    style_dock.raise_()
    style_dock.set_layer(hotspots)
    style_dock.set_style(style_dock.available_styles()[0])
    style_dock.apply_button.click()
    if "microclusters" in layers:
        from creative_clusters_plugin.styling import apply_style

        apply_style(layers["microclusters"], "microclusters")
    iface.mapCanvas().refreshAllLayers()
    iface.mapCanvas().waitWhileRendering()
    settle(app, 60)
    iface.mapCanvas().waitWhileRendering()
    settle(app)
    grab(window, output / "window_style_dock.png")

    from creative_clusters_plugin.styling import matching_styles

    lq_layer = next((layer for layer in layers.values() if "lq" in matching_styles(layer)), None)
    if lq_layer is not None:
        style_dock.set_layer(lq_layer)
        style_dock.set_style("lq")
        style_dock.set_options(method="jenks", classes=5, ramp="Viridis")
        settle(app)
        grab(style_dock, output / "style_dock_lq.png")
        style_dock.set_layer(hotspots)

    # --- atlas dock: coverage, layers, filter, build -------------------------------------------------------
    atlas_dock.raise_()
    coverage = layers.get("microclusters") or hotspots
    atlas_dock.coverage_combo.setLayer(coverage)
    atlas_dock.set_checked_layers([layer for layer in (layers.get("microclusters"), hotspots) if layer is not None])
    atlas_dock.title_edit.setText("Creative clusters of the demo region")
    if coverage is hotspots:
        atlas_dock.subtitle_edit.setText("Areas that are Gi* hot spots at 99% confidence")
        atlas_dock.filter_widget.setExpression('"Gi_Bin" = 3')
    else:
        atlas_dock.subtitle_edit.setText("Microclusters of 50 or more creative firms")
        atlas_dock.sort_widget.setExpression('"n_firms"')
        atlas_dock.sort_descending.setChecked(True)
    atlas_dock.output_widget.setFilePath(str(Path(tempfile.gettempdir()) / "creative_clusters_atlas.pdf"))
    layout = atlas_dock.build_layout(open_designer=False)
    settle(app)
    grab(atlas_dock, output / "atlas_dock.png")
    if layout is not None:
        atlas = layout.atlas()
        atlas.beginRender()
        atlas.first()
        for page, name in enumerate(("cover", "contents", "summary", "overview", "feature", "methods")):
            if page < layout.pageCollection().pageCount():
                render_page(layout, page, output / f"atlas_page_{name}.png")
        atlas.endRender()

    for dock in docks:
        dock.cleanup()
    window.close()
    settle(app)
    print(f"Screenshots in {output}")
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
