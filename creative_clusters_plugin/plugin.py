"""The plugin object QGIS creates through :func:`classFactory`."""

from qgis.core import QgsApplication


class CreativeClustersPlugin:
    """Registers the Processing provider and, with a desktop ``iface``, the dock widgets.

    Under ``qgis_process`` ``iface`` is ``None`` and only :meth:`initProcessing` runs, so nothing here may
    need ``iface`` outside :meth:`initGui`.
    """

    def __init__(self, iface):
        self.iface = iface
        self.provider = None  # keep a reference: an unreferenced Python provider is garbage-collected
        self.docks = []
        self.actions = []

    def initProcessing(self):  # noqa: N802 - QGIS API
        from .processing_provider.provider import CreativeClustersProvider

        if self.provider is None:
            self.provider = CreativeClustersProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 - QGIS API
        self.initProcessing()
        if self.iface is None:
            return
        try:
            from .gui.install import install_gui
        except ImportError:  # GUI module not available: Processing still works
            return
        self.docks, self.actions = install_gui(self.iface)

    def unload(self):
        if self.iface is not None:
            for action in self.actions:
                self.iface.removePluginMenu("&Creative Clusters", action)
                self.iface.removeToolBarIcon(action)
            for dock in self.docks:
                self.iface.removeDockWidget(dock)
                dock.deleteLater()
        self.actions, self.docks = [], []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
