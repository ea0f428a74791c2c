"""clusterselection through Processing: snapshots joined on the area id, and periods from incorporation dates."""

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProcessingException, QgsVectorLayer


def _lq_layer(rows, with_geometry=True):
    kind = "Polygon?crs=EPSG:27700" if with_geometry else "None"
    layer = QgsVectorLayer(f"{kind}&field=code:string&field=n_creative:double&field=lq_creative:double" if with_geometry else
                           "None?field=code:string&field=n_creative:double&field=lq_creative:double", "lq", "memory")
    feats = []
    for i, (code, n, lq) in enumerate(rows):
        f = QgsFeature(layer.fields())
        f.setAttributes([code, n, lq])
        if with_geometry:
            f.setGeometry(QgsGeometry.fromWkt(f"POLYGON(({i*10} 0,{i*10+10} 0,{i*10+10} 10,{i*10} 10,{i*10} 0))"))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def test_snapshots_nesta2016(run_alg):
    later = _lq_layer([("A", 10, 3.0), ("B", 50, 1.2), ("C", 60, 2.0), ("D", 70, 0.5)])
    earlier = _lq_layer([("D", 0, 0.1), ("C", 0, 2.5), ("B", 0, 0.2)], with_geometry=False)  # A missing
    out = run_alg("clusterselection", {"INPUT": later, "AREA_ID": "code", "RECIPE": 0, "PERIODS": 0, "EARLIER": earlier,
                                       "GROUPS": [0], "PERCENTILE": 0.5, "TOP_N": 1, "OUTPUT": "memory:"})["OUTPUT"]
    rows = {f["code"]: f for f in out.getFeatures()}
    # activity median 55 -> C, D eligible; top LQ: C (2.0); top growth: D (+0.4) vs C (-0.5)
    assert [c for c, f in rows.items() if f["cc_cluster"]] == ["C", "D"]
    assert rows["C"]["cc_reason"] == "creative top LQ #1"
    assert rows["D"]["dlq_creative"] == pytest.approx(0.4)
    assert rows["A"]["dlq_creative"] is None or rows["A"]["dlq_creative"].isNull()


def test_nesta2016_without_earlier_is_a_clear_error(run_alg):
    with pytest.raises(QgsProcessingException, match="two periods"):
        run_alg("clusterselection", {"INPUT": _lq_layer([("A", 1, 1.0)] * 3), "AREA_ID": "code", "RECIPE": 0, "GROUPS": [0], "OUTPUT": "memory:"})


def test_periods_from_incorporation_dates(run_alg):
    areas = _lq_layer([("A", 0, 0), ("B", 0, 0)])
    firms = QgsVectorLayer("Point?crs=EPSG:27700&field=cc_creative:boolean&field=cc_subsector:string&field=IncorporationDate:string", "f", "memory")
    feats = []
    # A: 2 creative born 2015 + 2 non-creative 2015 + 4 creative born 2022 ; B: 4 non-creative 2015 + 1 creative 2015
    spec = [(5, True, "2015-01-01")] * 2 + [(5, False, "2015-01-01")] * 2 + [(5, True, "2022-06-01")] * 4 + \
           [(15, False, "2015-01-01")] * 4 + [(15, True, "2015-01-01")]
    for x, creative, date in spec:
        f = QgsFeature(firms.fields())
        f.setAttributes([creative, "Architecture" if creative else None, date])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, 5)))
        feats.append(f)
    firms.dataProvider().addFeatures(feats)
    out = run_alg("clusterselection", {"INPUT": areas, "AREA_ID": "code", "RECIPE": 0, "PERIODS": 1, "FIRMS": firms,
                                       "DATE_EARLIER": "2019-12-31", "GROUPS": [0, 2], "PERCENTILE": 0.0, "TOP_N": 1,
                                       "OUTPUT": "memory:"})["OUTPUT"]
    rows = {f["code"]: f for f in out.getFeatures()}
    # earlier: A 2/4 creative, B 1/5 -> region 3/9: LQ_A = 1.5, LQ_B = 0.6
    assert rows["A"]["lq_creative_t0"] == pytest.approx((2 / 4) / (3 / 9))
    # later: A 6/8, B 1/5 -> region 7/13
    assert rows["A"]["lq_creative_t1"] == pytest.approx((6 / 8) / (7 / 13))
    assert rows["A"]["lq_archit_t1"] == pytest.approx((6 / 8) / (7 / 13))
    assert rows["A"]["cc_cluster"] is True
