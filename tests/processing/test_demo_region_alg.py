"""creativeclusters:demoregion: the demo region as a user gets it (the same data make demo uses)."""

from __future__ import annotations

import json

from qgis.core import QgsProcessingContext, QgsProject, QgsVectorLayer


def test_demo_region_algorithm_writes_and_loads_the_layers(run_alg, tmp_path, demo_region):
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    result = run_alg("demoregion", {"OUTPUT": str(tmp_path / "demo")}, context=context)
    truth = json.loads((tmp_path / "demo" / "ground_truth.json").read_text())
    assert truth == demo_region["truth_data"]  # the same region as the generator's default seed
    for name, layer in (("FIRMS", "firms"), ("AREAS", "areas"), ("TOWNS", "towns"), ("ROADS", "roads"),
                        ("REGION", "region")):
        loaded = QgsVectorLayer(result[name], layer, "ogr")
        assert loaded.isValid() and loaded.featureCount() > 0, name
    assert QgsVectorLayer(result["FIRMS"], "f", "ogr").featureCount() == truth["n_firms"]
    assert set(context.layersToLoadOnCompletion()) == {result[n] for n in ("FIRMS", "AREAS", "TOWNS", "ROADS",
                                                                            "REGION", "POSTCODES")}
    assert not [p for p in (tmp_path / "demo").iterdir() if p.name.startswith(".cc-demo-")]  # no staging left
