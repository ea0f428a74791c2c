"""The plugin object QGIS creates through :func:`classFactory`."""

from qgis.PyQt import sip
from qgis.core import Qgis, QgsApplication, QgsMessageLog


def _install_translator():
    """Load ``i18n/creative_clusters_<locale>.qm`` for the user's QGIS locale, when there is one."""
    from pathlib import Path

    from qgis.core import QgsSettings
    from qgis.PyQt.QtCore import QCoreApplication, QTranslator

    locale = str(QgsSettings().value("locale/userLocale", "") or "")[:2]
    path = Path(__file__).resolve().parent / "i18n" / f"creative_clusters_{locale}.qm"
    if not locale or not path.is_file():
        return None
    translator = QTranslator()
    if translator.load(str(path)):
        QCoreApplication.installTranslator(translator)
        return translator
    return None


class CreativeClustersPlugin:
    """Registers the Processing provider and, with a desktop ``iface``, the dock widgets.

    Under ``qgis_process`` ``iface`` is ``None`` and only :meth:`initProcessing` runs, so nothing here may
    need ``iface`` outside :meth:`initGui`.
    """

    def __init__(self, iface):
        self.iface = iface
        self.translator = _install_translator()
        self.provider = None  # keep a reference: an unreferenced Python provider is garbage-collected
        self.docks = []
        self.actions = []

    def initProcessing(self):  # noqa: N802 - QGIS API
        from .processing_provider.provider import CreativeClustersProvider

        if self.provider is not None:
            return
        registry = QgsApplication.processingRegistry()
        if registry.providerById(CreativeClustersProvider.PROVIDER_ID) is not None:
            # another copy of the plugin (e.g. a development checkout) already registered it: QGIS would
            # delete a duplicate, so keep the registered one and say so
            QgsMessageLog.logMessage(
                "A 'creativeclusters' Processing provider is already registered; this copy of the plugin "
                "does not register a second one.", "Creative Clusters", Qgis.Warning)
            return
        provider = CreativeClustersProvider()
        if registry.addProvider(provider):
            self.provider = provider

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
        # test ifaces (pytest-qgis) lack some of the desktop methods: remove with what the iface has
        remove_menu = getattr(self.iface, "removePluginMenu", None)
        remove_icon = getattr(self.iface, "removeToolBarIcon", None)
        remove_dock = getattr(self.iface, "removeDockWidget", None)
        for action in self.actions:
            if remove_menu is not None:
                remove_menu("&Creative Clusters", action)
            if remove_icon is not None:
                remove_icon(action)
            action.deleteLater()
        for dock in self.docks:
            if hasattr(dock, "cleanup"):
                dock.cleanup()
            if remove_dock is not None:
                remove_dock(dock)
            dock.deleteLater()
        self.actions, self.docks = [], []
        if self.provider is not None:
            registry = QgsApplication.processingRegistry()
            if not sip.isdeleted(self.provider) and registry.providerById(self.provider.id()) is self.provider:
                registry.removeProvider(self.provider)
            self.provider = None
