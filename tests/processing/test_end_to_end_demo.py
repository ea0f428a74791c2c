"""The first vertical slice on the demo region: classify → location quotients → Gi*, against planted truth."""

import pytest



@pytest.fixture(scope="module")
def demo_lq(demo_region, provider, tmp_path_factory):
    import processing

    firms = f"{demo_region['gpkg']}|layername=firms"
    areas = f"{demo_region['gpkg']}|layername=areas"
    classified = processing.run("creativeclusters:classifyfirms", {"INPUT": firms, "RULE": 0, "OUTPUT": "memory:"})["OUTPUT"]
    lq = processing.run(
        "creativeclusters:locationquotients",
        {"AREAS": areas, "AREA_ID": "area_id", "FIRMS": classified, "EXCLUDE_DORMANT": False, "OUTPUT": "memory:"},
    )["OUTPUT"]
    return classified, lq


def test_classification_matches_generator_counts(demo_region, demo_lq):
    classified, _ = demo_lq
    truth = demo_region["truth_data"]
    assert classified.featureCount() == truth["n_firms"]
    creative = sum(1 for f in classified.getFeatures() if f["cc_creative"] is True)
    dormant = sum(1 for f in classified.getFeatures() if f["cc_dormant"] is True)
    assert creative == truth["n_creative_first_sic"]
    assert dormant == truth["n_dormant"]


def test_lq_of_planted_cluster_areas_equals_truth(demo_region, demo_lq):
    """The generator computes each planted cluster's centre-area LQ itself (counting every firm)."""
    _, lq = demo_lq
    rows = {f["area_id"]: f for f in lq.getFeatures()}
    for cluster in demo_region["truth_data"]["clusters"]:
        row = rows[cluster["centre_area_id"]]
        assert row["n_creative"] == cluster["centre_area_n_creative"], cluster["name"]
        assert row["n_all"] == cluster["centre_area_n_firms"], cluster["name"]
        assert row["lq_creative"] == pytest.approx(cluster["centre_area_creative_lq"], abs=1e-4), cluster["name"]
        assert row["lq_creative_lo"] > 1.0, cluster["name"]  # significantly specialised


def test_planted_clusters_are_significant_hot_spots(demo_region, demo_lq, provider):
    import processing

    _, lq = demo_lq
    gi = processing.run(
        "creativeclusters:hotspots", {"INPUT": lq, "FIELD": "n_creative", "WEIGHTS": 0, "FDR": True, "OUTPUT": "memory:"}
    )["OUTPUT"]
    rows = {f["area_id"]: f for f in gi.getFeatures()}
    for cluster in demo_region["truth_data"]["clusters"]:
        row = rows[cluster["centre_area_id"]]
        assert row["Gi_Bin"] >= 2, f"{cluster['name']}: Gi_Bin {row['Gi_Bin']}, z {row['GiZScore']}"
    # and most of the region is not hot
    hot = sum(1 for f in gi.getFeatures() if f["Gi_Bin"] is not None and f["Gi_Bin"] >= 2)
    assert hot < 0.35 * gi.featureCount()
