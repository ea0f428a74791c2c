"""The "Creative Clusters" Processing provider (id ``creativeclusters``)."""

import importlib

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt import sip
from qgis.PyQt.QtGui import QIcon

from ..resources_path import resource

#: One module per algorithm under ``algorithms/``; each exposes ``ALGORITHM`` (a class).
ALGORITHM_MODULES = (
    "demo_region",
    "firms.classify_firms",
    "firms.geocode_postcodes",
    "specialisation.location_quotients",
    "autocorrelation.hotspots",
    "autocorrelation.local_moran",
    "autocorrelation.optimized_hotspots",
    "autocorrelation.emerging_hotspots",
    "specialisation.cluster_selection",
    "firms.flag_stacks",
    "clustering.microclusters",
    "surfaces.density",
    "surfaces.corridors",
    "specialisation.growth_potential",
    "maps.export_atlas",
    "maps.export_hotspot_map",
)


class CreativeClustersProvider(QgsProcessingProvider):
    """Lists every Creative Clusters algorithm and the shipped Processing models."""

    PROVIDER_ID = "creativeclusters"

    def id(self):
        return self.PROVIDER_ID

    def name(self):
        return "Creative Clusters"

    def longName(self):  # noqa: N802 - QGIS API
        return "Creative Clusters: creative-industry hotspots, microclusters and corridors"

    def icon(self):
        return QIcon(str(resource("icons", "creative_clusters.svg")))

    def loadAlgorithms(self):  # noqa: N802 - QGIS API
        for module_name in ALGORITHM_MODULES:
            try:
                module = importlib.import_module(f"{__package__}.algorithms.{module_name}")
            except ModuleNotFoundError as error:
                # an optional dependency is missing (or the algorithm is not part of this build):
                # log it and keep the others working instead of breaking plugin load
                QgsMessageLog.logMessage(
                    f"Creative Clusters: algorithm module '{module_name}' not loaded ({error}).",
                    "Creative Clusters",
                    Qgis.Warning,
                )
                continue
            self.addAlgorithm(module.ALGORITHM())
        registry = QgsApplication.processingRegistry()
        if registry.providerById(self.id()) is self:
            self._load_models()
        else:
            # a model's steps are looked up in the registry, which does not know this provider yet: load the
            # shipped models once the provider is registered (refreshAlgorithms runs this method again)
            registry.providerAdded.connect(self._reload_when_registered)

    def _reload_when_registered(self, provider_id):
        registry = QgsApplication.processingRegistry()
        if sip.isdeleted(self):  # QGIS deleted this provider (e.g. a rejected duplicate): stop listening
            registry.providerAdded.disconnect(self._reload_when_registered)
            return
        if provider_id != self.PROVIDER_ID:
            return
        registry.providerAdded.disconnect(self._reload_when_registered)
        self.refreshAlgorithms()

    def _load_models(self):
        """The shipped Processing models (``resources/models/*.model3``), e.g. the full analysis chain."""
        from qgis.core import QgsProcessingModelAlgorithm

        try:
            folder = resource("models")
        except FileNotFoundError:
            return
        for path in sorted(folder.glob("*.model3")):
            model = QgsProcessingModelAlgorithm()
            if model.fromFile(str(path)):
                self.addAlgorithm(model)
            else:
                QgsMessageLog.logMessage(f"Creative Clusters: could not read the model {path.name}.", "Creative Clusters", Qgis.Warning)
