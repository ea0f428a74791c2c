"""Adds the plugin's docks, menu entries and toolbar buttons to the QGIS window (called from ``initGui``)."""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from ..qt_compat import QAction

from ..resources_path import resource
from .atlas_dock import AtlasDock
from .style_dock import StyleDock

MENU = "&Creative Clusters"


def _icon(name):
    path = resource("icons", name)
    return QIcon(str(path)) if path.is_file() else QIcon()


def install_gui(iface):
    """Create the style and atlas docks (hidden until their toolbar button is pressed).

    Returns ``(docks, actions)``; the plugin's ``unload`` removes them. Each action toggles its dock and
    follows the dock's visibility (``QgsDockWidget.setToggleVisibilityAction``).
    """
    main_window = iface.mainWindow()
    docks, actions = [], []
    for dock_class, icon_name, text in (
        (StyleDock, "style_dock.svg", QCoreApplication.translate("CreativeClusters", "Style Creative Clusters results")),
        (AtlasDock, "atlas_dock.svg", QCoreApplication.translate("CreativeClusters", "Creative Clusters atlas")),
    ):
        dock = dock_class(iface, main_window)
        iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        action = QAction(_icon(icon_name), text, main_window)
        action.setObjectName(f"{dock.objectName()}Action")
        action.setCheckable(True)
        dock.setToggleVisibilityAction(action)
        iface.addPluginToMenu(MENU, action)
        iface.addToolBarIcon(action)
        docks.append(dock)
        actions.append(action)
    return docks, actions
