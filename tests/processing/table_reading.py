"""A test harness for the base class's ``read_table``: the same source read in bulk (through GDAL) or by
QGIS's feature loop, as an algorithm reads its INPUT."""

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
)

from creative_clusters_plugin.processing_provider.base_algorithm import CreativeClustersAlgorithm

BNG = QgsCoordinateReferenceSystem("EPSG:27700")


class _Reader(CreativeClustersAlgorithm):
    """An algorithm that only reads its INPUT (to call ``read_table`` as every algorithm does)."""

    ALGORITHM_ID = "test_reader"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", "Input"))


def read_input(value, fields, bulk, with_geometry=True, analysis_crs=BNG, require_geometry=True, context=None):
    """``read_table`` of INPUT ``value``: in bulk (``parameter`` given) or by QGIS's feature loop."""
    algorithm = _Reader()
    algorithm.initAlgorithm()
    context = context or QgsProcessingContext()
    parameters = {"INPUT": value}
    algorithm._run_parameters, algorithm._run_context = parameters, context
    source = algorithm.parameterAsSource(parameters, "INPUT", context)
    table = algorithm.read_table(source, QgsProcessingFeedback(), fields=fields, with_geometry=with_geometry,
                                 analysis_crs=analysis_crs, require_geometry=require_geometry,
                                 parameter="INPUT" if bulk else None)
    algorithm._run_parameters = algorithm._run_context = None
    return table
