"""creativeclusters:flagstacks through Processing: the demo formation agent, the address summary, bad input."""

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProcessingException, QgsVectorLayer


@pytest.fixture(scope="module")
def classified(demo_region, tmp_path_factory):
    import processing

    out = str(tmp_path_factory.mktemp("stacks") / "classified.gpkg")
    processing.run("creativeclusters:classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "OUTPUT": out})
    return out


def test_formation_agent_flagged(provider, run_alg, classified, demo_region):
    fa = demo_region["truth_data"]["formation_agent"]
    result = run_alg("flagstacks", {"INPUT": classified, "POSTCODE_FIELD": "Postcode",
                                    "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_ADDRESSES": "TEMPORARY_OUTPUT"})
    firms, addresses = result["OUTPUT"], result["OUTPUT_ADDRESSES"]
    flagged = [f for f in firms.getFeatures() if f["cc_stack"]]
    assert len(flagged) == fa["n_companies"]
    assert {f["cc_address"] for f in flagged} == {fa["postcode"]}
    assert all(f["cc_stack_n"] == fa["n_companies"] for f in flagged)
    assert firms.featureCount() == demo_region["truth_data"]["n_firms"]
    rows = [f for f in addresses.getFeatures() if f["cc_stack"]]
    assert len(rows) == 1
    assert rows[0]["address"] == fa["postcode"] and rows[0]["n_firms"] == fa["n_companies"]
    assert rows[0]["n_creative"] == fa["n_creative"]
    point = rows[0].geometry().asPoint()
    assert (point.x(), point.y()) == pytest.approx(tuple(fa["xy"]))
    assert sum(f["n_firms"] for f in addresses.getFeatures()) == firms.featureCount()


def test_coordinates_only_and_threshold(provider, run_alg, classified, demo_region):
    fa = demo_region["truth_data"]["formation_agent"]
    result = run_alg("flagstacks", {"INPUT": classified, "THRESHOLD": 60, "Z_CUTOFF": 0,
                                    "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_ADDRESSES": "TEMPORARY_OUTPUT"})
    counts = sorted(f["n_firms"] for f in result["OUTPUT_ADDRESSES"].getFeatures() if f["cc_stack"])
    assert counts[-1] == fa["n_companies"] and all(c >= 60 for c in counts) and len(counts) > 1


def _points_layer(points, crs="EPSG:27700"):
    layer = QgsVectorLayer(f"Point?crs={crs}&field=Postcode:string", "firms", "memory")
    features = []
    for p in points:
        f = QgsFeature(layer.fields())
        if p is not None:
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*p)))
        f.setAttributes(["S1 1AA"])
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def test_bad_input(provider, run_alg):
    with pytest.raises(QgsProcessingException):
        run_alg("flagstacks", {"INPUT": _points_layer([]), "OUTPUT": "TEMPORARY_OUTPUT",
                               "OUTPUT_ADDRESSES": "TEMPORARY_OUTPUT"})
    # NULL geometries are skipped; identical points make one address; geographic CRS is accepted
    result = run_alg("flagstacks", {"INPUT": _points_layer([(-1.47, 53.38)] * 60 + [None], "EPSG:4326"),
                                    "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_ADDRESSES": "TEMPORARY_OUTPUT"})
    assert result["OUTPUT"].featureCount() == 60
    assert result["OUTPUT_ADDRESSES"].featureCount() == 1
    assert all(f["cc_stack"] for f in result["OUTPUT"].getFeatures())
