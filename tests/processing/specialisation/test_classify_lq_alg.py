"""classifyfirms and locationquotients through Processing: outputs, logs, bad input, inputs untouched."""

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProcessingException, QgsVectorLayer

SIC = "SICCode.SicText_1"


def _firms_layer(rows, crs="EPSG:27700"):
    layer = QgsVectorLayer(
        f"Point?crs={crs}&field=name:string&field={SIC}:string&field=SICCode.SicText_2:string", "firms", "memory"
    )
    features = []
    for name, x, y, s1, s2 in rows:
        f = QgsFeature(layer.fields())
        f.setAttributes([name, s1, s2])
        if x is not None:
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def _areas_layer(crs="EPSG:27700"):
    layer = QgsVectorLayer(f"Polygon?crs={crs}&field=code:string", "areas", "memory")
    features = []
    for code, wkt in (("A", "POLYGON((0 0,100 0,100 100,0 100,0 0))"), ("B", "POLYGON((100 0,200 0,200 100,100 100,100 0))")):
        f = QgsFeature(layer.fields())
        f.setAttributes([code])
        f.setGeometry(QgsGeometry.fromWkt(wkt))
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


ROWS = [
    ("a", 10, 10, "59111 - Motion picture production", None),
    ("b", 20, 10, "62012 - Business and domestic software development", None),
    ("c", 30, 10, "68209 - Other letting", "74100 - specialised design activities"),
    ("d", 150, 10, "99999 - Dormant Company", None),
    ("e", 160, 10, "None Supplied", None),
    ("f", 170, 10, "47110 - Retail", None),
    ("g", 500, 500, "71111 - Architectural activities", None),
    ("h", None, None, "90030 - Artistic creation", None),
]


def test_classify_firms_adds_fields_and_reports(run_alg):
    layer = _firms_layer(ROWS)
    before = [f.attributes() for f in layer.getFeatures()]
    result = run_alg("classifyfirms", {"INPUT": layer, "SIC_FIELDS": [SIC, "SICCode.SicText_2"], "RULE": 1, "OUTPUT": "memory:"})
    out = result["OUTPUT"]
    by_name = {f["name"]: f for f in out.getFeatures()}
    assert len(by_name) == 8  # table semantics: features without geometry are kept
    assert by_name["a"]["cc_subsector"] == "Film, TV, video, radio and photography"
    assert by_name["c"]["cc_subsector"] == "Design and designer fashion"  # any-code rule
    assert by_name["d"]["cc_dormant"] is True and by_name["d"]["cc_creative"] is False
    assert by_name["e"]["cc_creative"] is False and by_name["e"]["sic4"] in (None, "") or by_name["e"]["sic4"].isNull()
    assert by_name["b"]["sic4"] == "6201"
    assert [f.attributes() for f in layer.getFeatures()] == before  # input untouched


def test_classify_defaults_to_companies_house_fields_and_first_rule(run_alg):
    out = run_alg("classifyfirms", {"INPUT": _firms_layer(ROWS), "OUTPUT": "memory:"})["OUTPUT"]
    by_name = {f["name"]: f for f in out.getFeatures()}
    assert by_name["c"]["cc_creative"] is False  # first code (68209) decides


def test_classify_empty_layer_is_an_error(run_alg):
    with pytest.raises(QgsProcessingException, match="no features"):
        run_alg("classifyfirms", {"INPUT": _firms_layer([]), "OUTPUT": "memory:"})


def test_location_quotients_by_hand(run_alg):
    classified = run_alg("classifyfirms", {"INPUT": _firms_layer(ROWS), "RULE": 1, "OUTPUT": "memory:"})["OUTPUT"]
    out = run_alg(
        "locationquotients", {"AREAS": _areas_layer(), "AREA_ID": "code", "FIRMS": classified, "OUTPUT": "memory:"}
    )["OUTPUT"]
    rows = {f["code"]: f for f in out.getFeatures()}
    # dormant d excluded; g outside; h has no geometry. A: a, b, c (3 creative of 3); B: e, f (0 of 2)
    assert rows["A"]["n_all"] == 3 and rows["A"]["n_creative"] == 3
    assert rows["B"]["n_all"] == 2 and rows["B"]["n_creative"] == 0
    assert rows["A"]["lq_creative"] == pytest.approx((3 / 3) / (3 / 5))
    assert rows["B"]["lq_creative"] == 0.0
    assert rows["A"]["n_film"] == 1 and rows["A"]["n_it"] == 1 and rows["A"]["n_design"] == 1
    assert rows["A"]["cc_nesta2018"] is True and rows["B"]["cc_nesta2018"] is False


def test_location_quotients_needs_classified_firms(run_alg):
    with pytest.raises(QgsProcessingException, match="Classify firms"):
        run_alg("locationquotients", {"AREAS": _areas_layer(), "AREA_ID": "code", "FIRMS": _firms_layer(ROWS), "OUTPUT": "memory:"})


def test_location_quotients_reprojects_geographic_firms(run_alg):
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject

    to_wgs = QgsCoordinateTransform(
        QgsCoordinateReferenceSystem("EPSG:27700"), QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance()
    )
    rows = []
    for name, x, y, s1, s2 in ROWS:
        if x is not None:
            p = to_wgs.transform(QgsPointXY(x + 430000, y + 387000))
            x, y = p.x(), p.y()
        rows.append((name, x, y, s1, s2))
    classified = run_alg("classifyfirms", {"INPUT": _firms_layer(rows, "EPSG:4326"), "RULE": 1, "OUTPUT": "memory:"})["OUTPUT"]
    areas = QgsVectorLayer("Polygon?crs=EPSG:27700&field=code:string", "areas", "memory")
    f = QgsFeature(areas.fields())
    f.setAttributes(["A"])
    f.setGeometry(QgsGeometry.fromWkt("POLYGON((430000 387000,430100 387000,430100 387100,430000 387100,430000 387000))"))
    areas.dataProvider().addFeatures([f])
    out = run_alg("locationquotients", {"AREAS": areas, "AREA_ID": "code", "FIRMS": classified, "OUTPUT": "memory:"})["OUTPUT"]
    assert next(out.getFeatures())["n_creative"] == 3


def _classified_with_stack_flags(run_alg):
    """Area A: three creative firms stacked at one address and one other firm; area B: two creative, two other."""
    rows = [
        ("s1", 50, 50, "59111 - Motion picture production", None),
        ("s2", 50, 50, "59111 - Motion picture production", None),
        ("s3", 50, 50, "59111 - Motion picture production", None),
        ("o1", 20, 20, "47110 - Retail sale", None),
        ("b1", 150, 20, "62012 - Business and domestic software development", None),
        ("b2", 160, 30, "73110 - Advertising agencies", None),
        ("b3", 170, 40, "47110 - Retail sale", None),
        ("b4", 180, 50, "47110 - Retail sale", None),
    ]
    classified = run_alg("classifyfirms", {"INPUT": _firms_layer(rows), "RULE": 0, "OUTPUT": "memory:"})["OUTPUT"]
    from qgis.core import QgsField
    from creative_clusters_plugin.qt_compat import field_type

    classified.dataProvider().addAttributes([QgsField("cc_stack", field_type("bool"))])
    classified.updateFields()
    index = classified.fields().lookupField("cc_stack")
    changes = {f.id(): {index: f["name"].startswith("s")} for f in classified.getFeatures()}
    classified.dataProvider().changeAttributeValues(changes)
    return classified


@pytest.mark.parametrize(
    "stacks, expected",
    [
        # STACKS=0 keep: A 3 creative of 4; B 2 of 4 -> region 5/8
        (0, {"A": (4, 3), "B": (4, 2)}),
        # STACKS=1 down-weight: the three stacked firms weigh 1/3 each -> A counts 2 firms, 1 creative
        (1, {"A": (2, 1), "B": (4, 2)}),
        # STACKS=2 exclude cc_stack: A keeps only the retailer
        (2, {"A": (1, 0), "B": (4, 2)}),
    ],
)
def test_location_quotients_stack_choices(run_alg, stacks, expected):
    firms = _classified_with_stack_flags(run_alg)
    out = run_alg(
        "locationquotients",
        {"AREAS": _areas_layer(), "AREA_ID": "code", "FIRMS": firms, "STACKS": stacks, "MIN_COUNT": 0, "OUTPUT": "memory:"},
    )["OUTPUT"]
    rows = {f["code"]: f for f in out.getFeatures()}
    total_all = sum(v[0] for v in expected.values())
    total_creative = sum(v[1] for v in expected.values())
    for code, (n_all, n_creative) in expected.items():
        assert rows[code]["n_all"] == pytest.approx(n_all)
        assert rows[code]["n_creative"] == pytest.approx(n_creative)
        lq = (n_creative / n_all) / (total_creative / total_all)
        assert rows[code]["lq_creative"] == pytest.approx(lq)
