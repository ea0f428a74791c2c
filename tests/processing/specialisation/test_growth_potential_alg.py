"""growthpotential through Processing on a hand-made table."""

import pytest
from qgis.core import QgsFeature, QgsVectorLayer


def test_growth_potential_fields_and_ranks(run_alg):
    layer = QgsVectorLayer("None?field=id:integer&field=n_creative:integer&field=lq_creative:double", "t", "memory")
    feats = []
    for i, (n, lq) in enumerate([(10, 0.5), (50, 1.5), (200, 3.0), (5, None)]):
        f = QgsFeature(layer.fields())
        f.setAttributes([i, n, lq])
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    out = run_alg("growthpotential", {"INPUT": layer, "NORMALISATION": 1, "OUTPUT": "memory:"})["OUTPUT"]
    rows = {f["id"]: f for f in out.getFeatures()}
    assert rows[2]["cc_gp_rank"] == 1 and rows[2]["cc_gp_score"] == pytest.approx(100.0)
    # row 3: scale 0, NULL LQ -> median 1.5 -> min-max 40 -> score 20; row 0: scale 17.3, LQ 0 -> 8.7
    assert rows[3]["cc_gp_rank"] == 3 and rows[0]["cc_gp_rank"] == 4
    assert "cc_gp_growth" not in out.fields().names()
    assert rows[2]["cc_gp_class"] == "Very high"
