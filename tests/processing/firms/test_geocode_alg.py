"""creativeclusters:geocodepostcodes through Processing: demo round trip, lookup layer, bad rows, errors."""

import os
import sqlite3
import struct

import pytest
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsVectorLayer,
)

from tests.processing.stats_helpers import RecordingFeedback as LogFeedback

CODEPOINT_ZIP = ("postcodes", "os_codepoint_open_2025_04_codepo_gb.zip")
SY_FIRMS = ("firms", "companies_house_2024-11_south_yorkshire_points.gpkg")



def _gpkg_point_xy(blob):
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    wkb = blob[8 + envelope:]
    return struct.unpack(("<" if wkb[0] == 1 else ">") + "dd", wkb[5:21])


def _demo_points(gpkg):
    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as con:
        rows = con.execute('SELECT "CompanyNumber", geom FROM firms').fetchall()
    return {number: _gpkg_point_xy(blob) for number, blob in rows}


def _table(rows, fields=("id", "Postcode")):
    spec = "&".join(f"field={name}:string" for name in fields)
    layer = QgsVectorLayer(f"None?{spec}", "firms", "memory")
    feats = []
    for row in rows:
        f = QgsFeature(layer.fields())
        f.setAttributes(list(row))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def _check_demo_output(out, points):
    assert out.crs().authid() == "EPSG:27700"
    assert out.featureCount() == len(points)
    for f in out.getFeatures():
        assert f["cc_geocoded"] is True and f["cc_pcd_status"] == "matched"
        p = f.geometry().asPoint()
        assert (p.x(), p.y()) == points[f["CompanyNumber"]]


def test_demo_csv_geocodes_to_the_generator_points(run_alg, demo_region):
    points = _demo_points(demo_region["gpkg"])
    feedback = LogFeedback()
    result = run_alg(
        "geocodepostcodes",
        {"INPUT": demo_region["firms_csv"], "LOOKUP": demo_region["postcodes_csv"], "OUTPUT": "memory:"},
        feedback=feedback,
    )
    out = result["OUTPUT"]
    _check_demo_output(out, points)
    names = out.fields().names()
    assert names[-3:] == ["cc_pcd_norm", "cc_geocoded", "cc_pcd_status"]
    assert "SICCode.SicText_1" in names and "CompanyName" in names
    assert result["MATCHED_COUNT"] == len(points) and result["UNMATCHED_COUNT"] == 0
    assert any("Postcode field: Postcode" in line for line in feedback.log)
    # lower-case / no-space spellings were normalised
    variants = [f for f in out.getFeatures() if f["Postcode"] != f["cc_pcd_norm"]]
    assert len(variants) == demo_region["truth_data"]["n_postcode_format_variants"] > 0


def test_lookup_layer_mode(run_alg, demo_region):
    points = _demo_points(demo_region["gpkg"])
    result = run_alg(
        "geocodepostcodes",
        {
            "INPUT": demo_region["firms_csv"],
            "POSTCODE_FIELD": "Postcode",
            "LOOKUP_LAYER": f"{demo_region['gpkg']}|layername=postcodes",
            "LOOKUP_FIELD": "Postcode",
            "OUTPUT": "memory:",
        },
    )
    _check_demo_output(result["OUTPUT"], points)


def test_bad_rows_are_kept_with_status_and_listed(run_alg, demo_region):
    import pandas as pd

    lookup = pd.read_csv(demo_region["postcodes_csv"], dtype=str)
    good = lookup.iloc[0]
    rows = [
        ("ok", good["Postcode"].lower().replace(" ", "")),
        ("null", None),
        ("blank", "  "),
        ("garbage", "None Supplied"),
        ("unknown", "DM99 9ZZ"),
        ("outside", "S1 1AA"),
    ]
    layer = _table(rows)
    before = [f.attributes() for f in layer.getFeatures()]
    feedback = LogFeedback()
    result = run_alg(
        "geocodepostcodes",
        {"INPUT": layer, "LOOKUP": demo_region["postcodes_csv"], "OUTPUT": "memory:", "OUTPUT_UNMATCHED": "memory:"},
        feedback=feedback,
    )
    out = {f["id"]: f for f in result["OUTPUT"].getFeatures()}
    assert len(out) == len(rows)
    assert out["ok"]["cc_geocoded"] is True and out["ok"]["cc_pcd_norm"] == good["Postcode"]
    p = out["ok"].geometry().asPoint()
    assert (p.x(), p.y()) == (float(good["Eastings"]), float(good["Northings"]))
    expected = {"null": "blank", "blank": "blank", "garbage": "invalid", "unknown": "unmatched", "outside": "unmatched"}
    for key, status in expected.items():
        assert out[key]["cc_pcd_status"] == status
        assert out[key]["cc_geocoded"] is False
        assert out[key].geometry().isNull()
    unmatched = result["OUTPUT_UNMATCHED"]
    assert sorted(f["id"] for f in unmatched.getFeatures()) == sorted(expected)
    assert result["UNMATCHED_COUNT"] == 5 and result["MATCHED_COUNT"] == 1
    text = "\n".join(feedback.log)
    assert "not a UK postcode" in text and "not in the lookup" in text and "no postcode" in text
    assert [f.attributes() for f in layer.getFeatures()] == before  # input untouched


def test_point_input_with_other_field_name(run_alg, demo_region):
    import pandas as pd

    lookup = pd.read_csv(demo_region["postcodes_csv"], dtype=str).iloc[:3]
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string&field=RegAddress.PostCode:string", "p", "memory")
    feats = []
    for i, pc in enumerate(lookup["Postcode"]):
        f = QgsFeature(layer.fields())
        f.setAttributes([f"n{i}", pc])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(-1.5, 53.0)))  # ignored: replaced by the centroid
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    out = run_alg("geocodepostcodes", {"INPUT": layer, "LOOKUP": demo_region["postcodes_csv"], "OUTPUT": "memory:"})["OUTPUT"]
    got = sorted((f["RegAddress.PostCode"], f.geometry().asPoint().x()) for f in out.getFeatures())
    assert got == sorted(zip(lookup["Postcode"], lookup["Eastings"].astype(float)))


def test_errors(run_alg, demo_region, tmp_path):
    with pytest.raises(QgsProcessingException, match="no features"):
        run_alg("geocodepostcodes", {"INPUT": _table([]), "LOOKUP": demo_region["postcodes_csv"], "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="does not exist"):
        run_alg("geocodepostcodes", {"INPUT": _table([("a", "S1 1AA")]), "LOOKUP": str(tmp_path / "missing.zip"),
                                     "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="Give a postcode lookup"):
        run_alg("geocodepostcodes", {"INPUT": _table([("a", "S1 1AA")]), "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="not both"):
        run_alg("geocodepostcodes", {"INPUT": _table([("a", "S1 1AA")]), "LOOKUP": demo_region["postcodes_csv"],
                                     "LOOKUP_LAYER": f"{demo_region['gpkg']}|layername=postcodes", "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="postcode field"):
        run_alg("geocodepostcodes", {"INPUT": _table([("a", "b")], fields=("id", "address")),
                                     "LOOKUP": demo_region["postcodes_csv"], "OUTPUT": "memory:"})
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\na,1\n")
    with pytest.raises(QgsProcessingException, match="postcode column"):
        run_alg("geocodepostcodes", {"INPUT": _table([("a", "S1 1AA")]), "LOOKUP": str(bad), "OUTPUT": "memory:"})


def test_cancel(run_alg, demo_region):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException):
        run_alg("geocodepostcodes", {"INPUT": demo_region["firms_csv"], "LOOKUP": demo_region["postcodes_csv"],
                                     "OUTPUT": "memory:"}, feedback=feedback)


@pytest.mark.shared_data
def test_south_yorkshire_sample_with_codepoint_zip(run_alg, shared_data):
    zip_path = shared_data.joinpath(*CODEPOINT_ZIP)
    gpkg = shared_data.joinpath(*SY_FIRMS)
    if not zip_path.exists() or not gpkg.exists():
        pytest.skip("Code-Point zip or South Yorkshire firms absent")
    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as con:
        rows = con.execute('SELECT "CompanyNumber", "Postcode", geom FROM companies WHERE fid % 10 = 0').fetchall()
    truth = {number: _gpkg_point_xy(blob) for number, _, blob in rows}
    layer = _table([(number, pc) for number, pc, _ in rows])
    result = run_alg("geocodepostcodes", {"INPUT": layer, "LOOKUP": str(zip_path), "OUTPUT": "memory:"})
    out = list(result["OUTPUT"].getFeatures())
    assert len(out) == len(rows)
    close = 0
    for f in out:
        if f["cc_geocoded"]:
            p = f.geometry().asPoint()
            x, y = truth[f["id"]]
            close += (p.x() - x) ** 2 + (p.y() - y) ** 2 <= 1.0
    # the shared points come from an earlier Code-Point release: ~93 % of firms sit within 1 m
    assert close / len(rows) >= 0.92
    assert result["MATCHED_COUNT"] / len(rows) >= 0.999


def _csv_with_bad_rows(tmp_path, encoding="utf-8", bom=False):
    rows = ["id,CompanyName,Postcode"]
    rows += [f"{i},Café Ñoño {i} – Ltd,S1 {i % 9}AA" for i in range(30)]
    rows += ["90,Blank Ltd,", "91,Garbage Ltd,not a postcode", "92,Missing Ltd,ZZ9 9ZZ"]
    path = tmp_path / "firms.csv"
    text = "\n".join(rows) + "\n"
    if encoding != "utf-8":
        text = text.replace("–", "-")  # Latin-1 has no en dash
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("Postcode,Eastings,Northing\n" + "".join(f"S1 {k}AA,{435000 + k * 100},{387000 + k * 50}\n"
                                                               for k in range(9)))
    return path, lookup


def test_file_output_written_in_bulk_equals_qgis_writer(run_alg, tmp_path):
    """A CSV to a GeoPackage goes through GDAL in bulk; the same rows through QGIS's writer (memory output)."""
    csv, lookup = _csv_with_bad_rows(tmp_path)
    params = {"INPUT": str(csv), "LOOKUP": str(lookup)}
    bulk = run_alg("geocodepostcodes", {**params, "OUTPUT": str(tmp_path / "out.gpkg"),
                                        "OUTPUT_UNMATCHED": str(tmp_path / "unmatched.gpkg")})
    memory = run_alg("geocodepostcodes", {**params, "OUTPUT": "memory:", "OUTPUT_UNMATCHED": "memory:"})
    assert bulk["MATCHED_COUNT"] == memory["MATCHED_COUNT"] == 30
    assert bulk["UNMATCHED_COUNT"] == memory["UNMATCHED_COUNT"] == 3

    def rows(layer):
        out = {}
        for f in layer.getFeatures():
            point = None
            if f.hasGeometry() and not f.geometry().isEmpty():
                point = (f.geometry().asPoint().x(), f.geometry().asPoint().y())
            out[str(f["id"])] = (point, f["CompanyName"], f["cc_pcd_norm"] or None, bool(f["cc_geocoded"]),
                                 f["cc_pcd_status"])
        return out

    written = QgsVectorLayer(bulk["OUTPUT"], "o", "ogr")
    assert written.crs().authid() == "EPSG:27700"
    assert rows(written) == rows(memory["OUTPUT"])
    assert rows(written)["3"][0] == (435300.0, 387150.0)
    assert rows(written)["91"] == (None, "Garbage Ltd", None, False, "invalid")
    unmatched = QgsVectorLayer(bulk["OUTPUT_UNMATCHED"], "u", "ogr")
    assert sorted(str(f["id"]) for f in unmatched.getFeatures()) == ["90", "91", "92"]
    assert written.extent().xMinimum() == 435000.0 and written.extent().yMaximum() == 387400.0


@pytest.mark.parametrize("encoding,bom", [("utf-8", True), ("cp1252", False)])
def test_csv_encodings(run_alg, tmp_path, encoding, bom):
    """UTF-8 with a byte-order mark, and Windows-1252 (detected and reported): never replacement characters."""
    csv, lookup = _csv_with_bad_rows(tmp_path, encoding, bom)
    feedback = LogFeedback()
    result = run_alg("geocodepostcodes", {"INPUT": str(csv), "LOOKUP": str(lookup),
                                          "OUTPUT": str(tmp_path / "out.gpkg")}, feedback=feedback)
    layer = QgsVectorLayer(result["OUTPUT"], "o", "ogr")
    names = sorted(f["CompanyName"] for f in layer.getFeatures() if str(f["CompanyName"]).startswith("Café"))
    assert len(names) == 30 and all("Ñoño" in n for n in names), names[:3]
    assert "id" in layer.fields().names()  # the BOM is not part of the first field name
    if encoding != "utf-8":
        assert any("Windows-1252" in line for line in feedback.log)


def test_a_large_table_streams_in_batches_and_equals_the_row_path(run_alg, tmp_path):
    """70,000 rows: more than one Arrow batch; every row's point and status as through QGIS's writer."""
    import numpy as np

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 9, 70_000)
    blanks = rng.random(70_000) < 0.01
    rows = ["id,Postcode"] + [f"{i},{'' if b else f's1{c}aa'}" for i, (c, b) in enumerate(zip(codes, blanks))]
    csv = tmp_path / "big.csv"
    csv.write_text("\n".join(rows) + "\n")
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("Postcode,Eastings,Northing\n" + "".join(f"S1 {k}AA,{435000 + k * 100},{387000 + k * 50}\n"
                                                               for k in range(8)))  # S1 8AA is missing
    bulk = run_alg("geocodepostcodes", {"INPUT": str(csv), "LOOKUP": str(lookup), "OUTPUT": str(tmp_path / "o.gpkg")})
    rows_path = run_alg("geocodepostcodes", {"INPUT": str(csv), "LOOKUP": str(lookup), "OUTPUT": "memory:"})
    expected_matched = int(((codes < 8) & ~blanks).sum())
    assert bulk["MATCHED_COUNT"] == rows_path["MATCHED_COUNT"] == expected_matched
    written = QgsVectorLayer(bulk["OUTPUT"], "o", "ogr")
    assert written.featureCount() == 70_000
    got = {}
    for f in written.getFeatures():
        p = f.geometry().asPoint() if f.hasGeometry() and not f.geometry().isEmpty() else None
        got[int(f["id"])] = (None if p is None else (p.x(), p.y()), f["cc_pcd_status"])
    for i in (0, 1, 65_535, 65_536, 65_537, 69_999):
        c, b = codes[i], blanks[i]
        status = "blank" if b else ("matched" if c < 8 else "unmatched")
        point = (435000.0 + c * 100, 387000.0 + c * 50) if status == "matched" else None
        assert got[i] == (point, status), i


def test_cancelling_a_bulk_geocode_leaves_nothing(run_alg, tmp_path):
    csv, lookup = _csv_with_bad_rows(tmp_path)
    out = tmp_path / "out" / "geocoded.gpkg"
    for at in (10.0, 60.0, 90.0):
        with pytest.raises(QgsProcessingException):
            run_alg("geocodepostcodes", {"INPUT": str(csv), "LOOKUP": str(lookup), "OUTPUT": str(out)},
                    feedback=LogFeedback(cancel_after_progress=at))
        assert not out.parent.exists() or os.listdir(out.parent) == []


def test_bulk_output_is_a_complete_geopackage(run_alg, tmp_path):
    """Feature count, extent and a valid R-tree; the table of rows not placed keeps their ids."""
    csv, lookup = _csv_with_bad_rows(tmp_path)
    result = run_alg("geocodepostcodes", {"INPUT": str(csv), "LOOKUP": str(lookup), "OUTPUT": str(tmp_path / "g.gpkg"),
                                          "OUTPUT_UNMATCHED": str(tmp_path / "u.gpkg")})
    with sqlite3.connect(result["OUTPUT"]) as con:
        assert con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'g'").fetchone()[0] == 33
        assert con.execute("SELECT rtreecheck('rtree_g_geom')").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM rtree_g_geom").fetchone()[0] == 30
        placed = con.execute("SELECT fid FROM g WHERE geom IS NOT NULL ORDER BY fid").fetchall()
        assert placed == con.execute("SELECT id FROM rtree_g_geom ORDER BY id").fetchall()
    with sqlite3.connect(result["OUTPUT_UNMATCHED"]) as con:
        assert con.execute("SELECT fid, id, cc_pcd_status FROM u ORDER BY fid").fetchall() == [
            (31, "90", "blank"), (32, "91", "invalid"), (33, "92", "invalid")]


def test_bulk_geocode_when_the_early_read_misses_postcodes(run_alg, tmp_path, monkeypatch):
    """The postcodes read while GDAL copies the input are checked against the copy: when they miss some (or
    the read fails), the distinct postcodes of the copy itself are used, with the same result."""
    from creative_clusters_plugin.processing_provider.algorithms.firms.geocode_postcodes import GeocodePostcodes

    csv, lookup = _csv_with_bad_rows(tmp_path)
    params = {"INPUT": str(csv), "LOOKUP": str(lookup)}
    expected = run_alg("geocodepostcodes", {**params, "OUTPUT": str(tmp_path / "a.gpkg")})
    original = GeocodePostcodes._distinct_postcodes

    def missing_one(*args):
        values, counts, found_lookup = original(*args)
        values[0] = "S1 0AA" if values[0] != "S1 0AA" else "S1 1AA"  # same number of rows, one value wrong
        return values, counts, found_lookup

    for fake in (missing_one, lambda *args: None):
        monkeypatch.setattr(GeocodePostcodes, "_distinct_postcodes", staticmethod(fake))
        out = tmp_path / "b.gpkg"
        got = run_alg("geocodepostcodes", {**params, "OUTPUT": str(out)})
        assert (got["MATCHED_COUNT"], got["UNMATCHED_COUNT"]) == (expected["MATCHED_COUNT"], expected["UNMATCHED_COUNT"])
        with sqlite3.connect(out) as a, sqlite3.connect(expected["OUTPUT"]) as b:
            query = "SELECT id, cc_pcd_norm, cc_geocoded, cc_pcd_status, geom FROM {} ORDER BY fid"
            assert a.execute(query.format("b")).fetchall() == b.execute(query.format("a")).fetchall()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg", "firms.csv", "lookup.csv"]
        out.unlink()
