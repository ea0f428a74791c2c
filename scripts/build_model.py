#!/usr/bin/python3
"""Build the shipped Processing model ``resources/models/creative_clusters_full_analysis.model3``.

The model chains the whole analysis: classify firms → flag stacked addresses → location quotients →
Gi* hot spots → growth-potential score, and from the classified firms → microclusters → corridors, and a
creative kernel-density surface. It is built with the QGIS model API (not hand-written XML) so every child
parameter name is checked against the registered algorithms; run it after changing an algorithm's
parameters: ``make model``.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, "/usr/share/qgis/python/plugins")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL_PATH = ROOT / "resources" / "models" / "creative_clusters_full_analysis.model3"


def build_model():
    from qgis.core import (
        QgsApplication,
        QgsProcessing,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource as Source,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterNumber,
    )
    from qgis.PyQt.QtCore import QPointF

    registry = QgsApplication.processingRegistry()
    model = QgsProcessingModelAlgorithm(
        "Full creative-cluster analysis", "5 · Workflows", "workflows"
    )
    model.setHelpContent(
        {
            "ALG_DESC": "Runs the whole Creative Clusters analysis on a firms layer (Companies House points) and an "
            "areas layer: DCMS classification, stacked-address flags, location quotients, Getis-Ord Gi* hot spots, "
            "growth-potential score, creative microclusters (DBSCAN), corridors between them and a creative "
            "kernel-density surface. Each step is a Creative Clusters algorithm whose help explains it.",
        }
    )

    def add_input(parameter, x, y):
        component = QgsProcessingModelParameter(parameter.name())
        component.setPosition(QPointF(x, y))
        model.addModelParameter(parameter, component)

    add_input(QgsProcessingParameterFeatureSource("firms", "Firms (points with SIC codes)", [QgsProcessing.TypeVectorPoint]), 120, 60)
    add_input(QgsProcessingParameterFeatureSource("areas", "Areas (polygons)", [QgsProcessing.TypeVectorPolygon]), 420, 60)
    add_input(QgsProcessingParameterField("area_id", "Area identifier", parentLayerParameterName="areas"), 620, 60)
    add_input(QgsProcessingParameterNumber("eps", "Microcluster radius EPS (m)", QgsProcessingParameterNumber.Double, 250.0, minValue=1.0), 820, 60)
    add_input(QgsProcessingParameterNumber("min_firms", "Minimum creative firms per microcluster", QgsProcessingParameterNumber.Integer, 50, minValue=2), 1020, 60)

    def add_child(child_id, algorithm_id, sources, outputs, x, y):
        algorithm = registry.algorithmById(algorithm_id)
        if algorithm is None:
            raise RuntimeError(f"{algorithm_id} is not registered: cannot build the model")
        names = {p.name() for p in algorithm.parameterDefinitions()}
        unknown = set(sources) - names
        if unknown:
            raise RuntimeError(f"{algorithm_id} has no parameter(s) {sorted(unknown)}")
        child = QgsProcessingModelChildAlgorithm(algorithm_id)
        child.setChildId(child_id)
        child.setDescription(algorithm.displayName())
        child.setPosition(QPointF(x, y))
        for name, source in sources.items():
            child.addParameterSources(name, [source])
        model_outputs = {}
        for output_name, description in outputs.items():
            output = QgsProcessingModelOutput(description, description)
            output.setChildId(child_id)
            output.setChildOutputName(output_name)
            output.setDefaultValue("TEMPORARY_OUTPUT")  # an output not asked for goes to a temporary file
            model_outputs[description] = output
        child.setModelOutputs(model_outputs)
        model.addChildAlgorithm(child)

    static, param, child_out = Source.fromStaticValue, Source.fromModelParameter, Source.fromChildOutput
    add_child("classify", "creativeclusters:classifyfirms", {"INPUT": param("firms"), "RULE": static(0)}, {"OUTPUT": "Classified firms"}, 120, 200)
    add_child(
        "stacks", "creativeclusters:flagstacks", {"INPUT": child_out("classify", "OUTPUT")},
        {"OUTPUT": "Firms with stacked-address flags", "OUTPUT_ADDRESSES": "Stacked addresses"}, 120, 320,
    )
    add_child(
        "lq", "creativeclusters:locationquotients",
        {"AREAS": param("areas"), "AREA_ID": param("area_id"), "FIRMS": child_out("stacks", "OUTPUT"), "STACKS": static(1)},
        {"OUTPUT": "Areas with location quotients"}, 420, 440,
    )
    add_child(
        "gi", "creativeclusters:hotspots",
        {"INPUT": child_out("lq", "OUTPUT"), "FIELD": static("n_creative"), "WEIGHTS": static(0), "FDR": static(True)},
        {"OUTPUT": "Creative hot spots (Gi*)"}, 420, 560,
    )
    add_child("growth", "creativeclusters:growthpotential", {"INPUT": child_out("gi", "OUTPUT")}, {"OUTPUT": "Growth-potential score"}, 420, 680)
    add_child(
        "micro", "creativeclusters:microclusters",
        {"INPUT": child_out("stacks", "OUTPUT"), "FILTER": static(0), "METHOD": static(0), "EPS": param("eps"),
         "MIN_FIRMS": param("min_firms"), "STACKS": static(2)},
        {"OUTPUT_POINTS": "Microcluster firms", "OUTPUT_CLUSTERS": "Creative microclusters"}, 120, 560,
    )
    add_child(
        "corridors", "creativeclusters:corridors", {"CLUSTERS": child_out("micro", "OUTPUT_CLUSTERS"), "MASS_FIELD": static("n_firms")},
        {"OUTPUT_LINKS": "Corridor links", "OUTPUT_CORRIDORS": "Creative corridors", "OUTPUT_RASTER": "Corridor surface"}, 120, 680,
    )
    add_child(
        "creative", "native:extractbyexpression", {"INPUT": child_out("classify", "OUTPUT"), "EXPRESSION": static('"cc_creative"')},
        {}, 720, 320,
    )
    add_child(
        "density", "creativeclusters:density", {"INPUT": child_out("creative", "OUTPUT"), "BANDWIDTH": static(0), "PIXEL_SIZE": static(100)},
        {"OUTPUT": "Creative firm density"}, 720, 440,
    )
    model.updateDestinationParameters()  # turn the children's model outputs into the model's own outputs
    return model


def main():
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    import creative_clusters_plugin

    plugin = creative_clusters_plugin.classFactory(None)
    plugin.initProcessing()
    model = build_model()
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    if not model.toFile(str(MODEL_PATH)):
        raise SystemExit(f"could not write {MODEL_PATH}")
    print(f"wrote {MODEL_PATH}")
    plugin.unload()
    app.exitQgis()


if __name__ == "__main__":
    main()
