"""The demo region generator: determinism, realistic content, and planted structure checked independently.

Every check recomputes what it needs from the written files (own DCMS class list, own point-in-radius
counts, own spatial join, own Gi* formula) instead of trusting the generator's ground truth.
"""

import json
import math
import re
import sqlite3

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")


# The 31 DCMS creative SIC 2007 classes (methods.md section 1), written out here independently.
DCMS_CLASSES = {
    "7021": "advert", "7311": "advert", "7312": "advert",
    "7111": "archit",
    "3212": "crafts",
    "7410": "design",
    "5911": "film", "5912": "film", "5913": "film", "5914": "film", "6010": "film", "6020": "film", "7420": "film",
    "5821": "it", "5829": "it", "6201": "it", "6202": "it",
    "5811": "publish", "5812": "publish", "5813": "publish", "5814": "publish", "5819": "publish", "7430": "publish",
    "9101": "museums", "9102": "museums",
    "5920": "music", "8552": "music", "9001": "music", "9002": "music", "9003": "music", "9004": "music",
}
SUB_NAMES = {
    "advert": "Advertising and marketing", "archit": "Architecture", "crafts": "Crafts",
    "design": "Design and designer fashion", "film": "Film, TV, video, radio and photography",
    "it": "IT, software and computer services", "publish": "Publishing",
    "museums": "Museums, galleries and libraries", "music": "Music, performing and visual arts",
}
SIC_COLS = ["SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3", "SICCode.SicText_4"]
SIC_TEXT = re.compile(r"^\d{5} - \S.*$")


def _norm_pc(pc):
    s = re.sub(r"\s+", "", str(pc)).upper()
    return s[:-3] + " " + s[-3:]


@pytest.fixture(scope="module")
def demo(demo_region):
    gpkg = demo_region["gpkg"]
    data = {
        "paths": demo_region,
        "truth": demo_region["truth_data"],
        "areas": gpd.read_file(gpkg, layer="areas"),
        "firms": gpd.read_file(gpkg, layer="firms"),
        "postcodes": gpd.read_file(gpkg, layer="postcodes"),
        "region": gpd.read_file(gpkg, layer="region"),
    }
    firms = data["firms"]
    first4 = firms["SICCode.SicText_1"].fillna("").str.extract(r"^(\d{4})\d - ")[0]
    firms["_sub"] = first4.map(DCMS_CLASSES)
    firms["_creative"] = firms["_sub"].notna()
    firms["_x"] = firms.geometry.x
    firms["_y"] = firms.geometry.y
    return data


def test_returned_paths_and_truth_keys(demo):
    paths = demo["paths"]
    for key in ("gpkg", "firms_csv", "truth"):
        assert key in paths
    truth = demo["truth"]
    assert truth == json.load(open(paths["truth"], encoding="utf-8"))
    for key in ("crs", "clusters", "chain", "formation_agent", "n_firms", "dormant_share", "extent"):
        assert key in truth
    assert truth["crs"] == "EPSG:27700"
    for c in truth["clusters"]:
        assert set(c) >= {"name", "centre", "radius_m", "n_firms", "dominant_subsector", "subsector_mix",
                          "chain_order"}
        assert c["dominant_subsector"] in SUB_NAMES.values()
        assert abs(sum(c["subsector_mix"].values()) - 1.0) < 1e-3


def _gpkg_rows(path, layer):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        return con.execute(f'SELECT * FROM "{layer}" ORDER BY fid').fetchall()


def test_command_line_is_deterministic(demo, tmp_path):
    """The CLI with the default seed writes byte-identical CSV/JSON and identical GeoPackage rows."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-m", "creative_clusters_plugin.core.demo_region", str(tmp_path / "again")],
        capture_output=True, text=True, timeout=300, cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.returncode == 0, out.stderr
    assert "firms" in out.stdout and "ground_truth.json" in out.stdout
    again = tmp_path / "again"
    for key, name in (("firms_csv", "firms.csv"), ("postcodes_csv", "postcodes.csv"), ("truth", "ground_truth.json")):
        assert (again / name).read_bytes() == open(demo["paths"][key], "rb").read(), name
    # attributes and geometry blobs of every layer are identical
    for layer in ("region", "towns", "areas", "postcodes", "firms"):
        assert _gpkg_rows(again / "demo_region.gpkg", layer) == _gpkg_rows(demo["paths"]["gpkg"], layer), layer


def test_layers_in_british_national_grid(demo):
    for name in ("areas", "firms", "postcodes", "region"):
        assert demo[name].crs.to_epsg() == 27700, name
    xmin, ymin, xmax, ymax = demo["truth"]["extent"]
    assert 0 < xmin < xmax < 700000 and 0 < ymin < ymax < 1300000
    assert 30000 < xmax - xmin < 45000 and 20000 < ymax - ymin < 35000


def test_areas_are_ward_like_and_tile_the_region(demo):
    areas, region = demo["areas"], demo["region"].geometry.iloc[0]
    assert 250 <= len(areas) <= 400
    assert areas.geometry.is_valid.all()
    assert (areas.geometry.area > 0).all()
    assert areas["area_id"].str.fullmatch(r"DM\d{6}").all() and areas["area_id"].is_unique
    assert areas["area_name"].is_unique and areas["area_name"].str.len().gt(3).all()
    # region is not a rectangle
    minx, miny, maxx, maxy = region.bounds
    assert region.area / ((maxx - minx) * (maxy - miny)) < 0.9
    # no gaps, no overlaps: the union equals the region and the areas add up to it
    union = areas.geometry.unary_union
    assert union.symmetric_difference(region).area < 1.0  # m²
    assert abs(areas.geometry.area.sum() - region.area) < 1.0
    # pairwise overlaps of neighbours are nil
    sindex = areas.sindex
    overlap = 0.0
    for i, geom in enumerate(areas.geometry):
        for j in sindex.query(geom, predicate="intersects"):
            if j > i:
                overlap += geom.intersection(areas.geometry.iloc[j]).area
    assert overlap < 1.0
    # not a grid: many different shapes and sizes, small wards in towns, large ones in the countryside
    sizes = areas.geometry.area / 1e6
    assert sizes.max() / sizes.min() > 20
    n_vertices = areas.geometry.apply(lambda g: sum(len(p.exterior.coords) for p in g.geoms))
    assert n_vertices.nunique() > 5


def test_firm_fields_look_like_companies_house(demo):
    firms = demo["firms"]
    assert 20000 <= len(firms) <= 60000
    assert len(firms) == demo["truth"]["n_firms"]
    for col in ("CompanyName", "CompanyNumber", "Postcode", "RegAddress.PostTown", "CompanyCategory",
                "CompanyStatus", "IncorporationDate", *SIC_COLS):
        assert col in firms.columns, col
    assert firms["CompanyNumber"].str.len().eq(8).all() and firms["CompanyNumber"].is_unique
    assert firms["CompanyName"].is_unique
    assert (firms["CompanyStatus"] == "Active").all()
    assert firms["CompanyCategory"].value_counts(normalize=True).iloc[0] > 0.85
    dates = pd.to_datetime(firms["IncorporationDate"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("1980-01-01") and dates.max() <= pd.Timestamp("2026-10-31")
    assert 0.4 < (dates > pd.Timestamp("2016-10-31")).mean() < 0.9  # live companies are mostly young
    assert (dates < pd.Timestamp("2000-01-01")).mean() > 0.02
    # postcodes: mostly "DM1 4QT" style; a few written without the space or in lower case
    clean = firms["Postcode"].str.fullmatch(r"DM\d{1,2} \d[ABD-HJLNP-UW-Z]{2}")
    assert clean.mean() > 0.99 and clean.mean() < 1.0
    assert firms["Postcode"].map(_norm_pc).str.fullmatch(r"DM\d{1,2} \d[A-Z]{2}").all()
    # SIC text
    s1 = firms["SICCode.SicText_1"]
    ok1 = s1.fillna("").str.match(SIC_TEXT)
    assert ok1.mean() > 0.99
    odd = s1[~ok1]
    assert (odd == "None Supplied").sum() > 10 and odd.isna().sum() > 5 and (odd == "").sum() > 5
    for col in SIC_COLS[1:]:
        present = firms[col].dropna()
        assert present.str.match(SIC_TEXT).all()
    multi = firms["SICCode.SicText_2"].notna()
    assert 0.12 < multi.mean() < 0.3
    assert firms["SICCode.SicText_4"].notna().mean() < firms["SICCode.SicText_3"].notna().mean() < multi.mean()
    # a second code never appears without a first
    assert not (firms["SICCode.SicText_1"].isna() & multi).any()


def test_firms_sit_at_their_postcode_centroid(demo):
    firms, pcs = demo["firms"], demo["postcodes"]
    assert pcs["Postcode"].is_unique
    assert (pcs.geometry.x == pcs["easting"]).all() and (pcs.geometry.y == pcs["northing"]).all()
    lookup = pcs.set_index("Postcode")
    key = firms["Postcode"].map(_norm_pc)
    assert key.isin(lookup.index).all()
    assert np.array_equal(firms["_x"].to_numpy(), lookup.loc[key, "easting"].to_numpy().astype(float))
    assert np.array_equal(firms["_y"].to_numpy(), lookup.loc[key, "northing"].to_numpy().astype(float))
    counts = key.value_counts()
    assert np.array_equal(lookup.loc[counts.index, "n_firms"].to_numpy(), counts.to_numpy())
    # every firm is inside the region
    region = demo["region"].geometry.iloc[0]
    assert firms.geometry.within(region).all()


def test_csv_outputs(demo):
    firms = demo["firms"]
    csv = pd.read_csv(demo["paths"]["firms_csv"], dtype=str, keep_default_na=False)
    assert list(csv.columns) == [c for c in firms.columns if not c.startswith("_") and c != "geometry"]
    assert csv["CompanyNumber"].tolist() == firms["CompanyNumber"].tolist()
    assert csv["Postcode"].tolist() == firms["Postcode"].tolist()
    pc = pd.read_csv(demo["paths"]["postcodes_csv"], dtype={"Postcode": str})
    assert list(pc.columns) == [
        "Postcode", "Positional_quality_indicator", "Eastings", "Northings", "Country_code",
        "NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code", "Admin_district_code", "Admin_ward_code",
    ]
    merged = demo["postcodes"].merge(pc, on="Postcode", how="left")
    assert merged["Eastings"].notna().all()
    assert (merged["Eastings"] == merged["easting"]).all() and (merged["Northings"] == merged["northing"]).all()
    assert (merged["Admin_ward_code"] == merged["area_id"]).all()


def test_sic_proportions_are_realistic(demo):
    firms = demo["firms"]
    creative_share = firms["_creative"].mean()
    assert 0.08 <= creative_share <= 0.12
    assert creative_share == pytest.approx(demo["truth"]["creative_share"], abs=1e-6)
    dormant = firms["SICCode.SicText_1"].fillna("").str[:5].isin(["99999", "74990"])
    assert 0.05 <= dormant.mean() <= 0.08
    assert dormant.mean() == pytest.approx(demo["truth"]["dormant_share"], abs=1e-6)
    # dormant companies carry a single code
    assert firms.loc[dormant, "SICCode.SicText_2"].isna().all()
    # all 31 DCMS classes and all nine sub-sectors occur
    all4 = pd.concat([firms[c].dropna().str[:4] for c in SIC_COLS])
    assert set(DCMS_CLASSES) <= set(all4)
    assert set(firms["_sub"].dropna()) == set(SUB_NAMES)
    # the usual register leaders are near the top; IT is the largest creative sub-sector
    top = firms["SICCode.SicText_1"].str[:5].value_counts().index[:8].tolist()
    assert "68209" in top and "70229" in top
    assert firms["_sub"].value_counts().index[0] in ("it", "film")
    assert firms["SICCode.SicText_1"].str[:5].nunique() >= 100


def test_planted_clusters_are_dense(demo):
    firms, truth = demo["firms"], demo["truth"]
    creative = firms[firms["_creative"]]
    x, y = creative["_x"].to_numpy(), creative["_y"].to_numpy()
    region_area = demo["region"].geometry.iloc[0].area
    mean_density = len(creative) / region_area
    clusters = truth["clusters"]
    assert 7 <= len([c for c in clusters if c["chain_order"] is None]) <= 10
    for c in clusters:
        cx, cy = c["centre"]
        r = c["radius_m"]
        assert 300 <= r <= 900 and 80 <= c["n_firms"] <= 600
        d = np.hypot(x - cx, y - cy)
        inside = d <= r
        assert inside.sum() >= c["n_firms"], c["name"]
        disc_density = inside.sum() / (math.pi * r * r)
        ring = (d > r) & (d <= 3 * r)
        ring_density = ring.sum() / (math.pi * (9 - 1) * r * r)
        assert disc_density > 5 * ring_density, c["name"]
        assert disc_density > 30 * mean_density, c["name"]
        # dominant sub-sector inside the disc is the stated one
        subs = creative.loc[inside, "_sub"].value_counts(normalize=True)
        assert SUB_NAMES[subs.index[0]] == c["dominant_subsector"], c["name"]
        assert subs.iloc[0] > 0.4


def test_chain_of_four_clusters_along_a_line(demo):
    truth = demo["truth"]
    chain = sorted([c for c in truth["clusters"] if c["chain_order"] is not None], key=lambda c: c["chain_order"])
    assert [c["chain_order"] for c in chain] == [0, 1, 2, 3]
    assert truth["chain"]["cluster_names"] == [c["name"] for c in chain]
    p = np.array([c["centre"] for c in chain])
    assert np.allclose(p[0], truth["chain"]["start"]) and np.allclose(p[-1], truth["chain"]["end"])
    length = np.hypot(*(p[-1] - p[0]))
    assert 15000 <= length <= 25000
    u = (p[-1] - p[0]) / length
    along = (p - p[0]) @ u
    across = np.abs((p - p[0]) @ np.array([-u[1], u[0]]))
    assert np.all(np.diff(along) > 3000) and across.max() < 1500


def test_formation_agent_postcode(demo):
    firms, fa, clusters = demo["firms"], demo["truth"]["formation_agent"], demo["truth"]["clusters"]
    at = firms["Postcode"].map(_norm_pc) == fa["postcode"]
    assert 300 <= at.sum() == fa["n_companies"]
    assert (firms.loc[at, "_x"] == fa["xy"][0]).all() and (firms.loc[at, "_y"] == fa["xy"][1]).all()
    n_creative = firms.loc[at, "_creative"].sum()
    assert 100 <= n_creative <= 200
    assert firms.loc[at, "_sub"].nunique() >= 5  # mixed sectors
    assert firms.loc[at, "SICCode.SicText_1"].str[:2].nunique() > 20
    for c in clusters:
        assert math.dist(fa["xy"], c["centre"]) > c["radius_m"] + 1000
    # it is the biggest stack by far
    stack_sizes = firms["Postcode"].map(_norm_pc).value_counts()
    assert stack_sizes.index[0] == fa["postcode"] and stack_sizes.iloc[1] < fa["n_companies"] / 3


def _gi_star_z(x, w):
    """Getis-Ord Gi* z-scores (binary weights incl. self), dense textbook formula."""
    n = len(x)
    w = w + np.eye(n)
    xbar, s = x.mean(), np.sqrt((x ** 2).mean() - x.mean() ** 2)
    wi = w.sum(axis=1)
    s1 = (w ** 2).sum(axis=1)
    return (w @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))


def test_planted_clusters_give_high_lq_and_hot_spots(demo):
    areas, firms, truth = demo["areas"], demo["firms"], demo["truth"]
    joined = gpd.sjoin(firms[["_creative", "geometry"]], areas[["area_id", "geometry"]], predicate="within")
    assert len(joined) == len(firms)  # every firm falls in exactly one area
    per = joined.groupby("area_id")["_creative"].agg(["size", "sum"])
    per = per.reindex(areas["area_id"]).fillna(0)
    share = firms["_creative"].mean()
    lq = (per["sum"] / per["size"].clip(lower=1)) / share
    # queen contiguity
    n = len(areas)
    w = np.zeros((n, n))
    sindex = areas.sindex
    for i, geom in enumerate(areas.geometry):
        for j in sindex.query(geom, predicate="intersects"):
            if j != i:
                w[i, j] = 1.0
    z_lq = pd.Series(_gi_star_z(lq.to_numpy(), w), index=areas["area_id"])
    z_n = pd.Series(_gi_star_z(per["sum"].to_numpy(), w), index=areas["area_id"])
    # Benjamini-Hochberg at 5 % on two-sided normal p-values of the creative-count Gi*
    from scipy.stats import norm

    p = 2.0 * norm.sf(np.abs(z_n.to_numpy()))
    order = np.argsort(p)
    passed = p[order] <= 0.05 * np.arange(1, n + 1) / n
    k = np.flatnonzero(passed).max() + 1 if passed.any() else 0
    significant = pd.Series(False, index=z_n.index)
    significant.iloc[order[:k]] = True
    hot = significant & (z_n > 0)
    assert hot.mean() < 0.2
    joined = joined.join(firms[["_x", "_y"]])
    for c in truth["clusters"]:
        centre_area = c["centre_area_id"]
        assert lq[centre_area] == pytest.approx(c["centre_area_creative_lq"], abs=1e-3)
        assert lq[centre_area] > 4.0, c["name"]
        assert hot[centre_area], f"{c['name']}: z {z_n[centre_area]:.2f}"
        d = np.hypot(joined["_x"] - c["centre"][0], joined["_y"] - c["centre"][1])
        member_areas = joined.loc[(d <= c["radius_m"]) & joined["_creative"], "area_id"].unique()
        assert z_lq[member_areas].max() > 1.96, c["name"]
        assert z_n[member_areas].max() > 1.96, c["name"]


def test_no_shared_data_copied(demo, shared_data):
    path = shared_data / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"
    if not path.exists():
        pytest.skip("shared firms file absent")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        real = pd.read_sql('SELECT "CompanyNumber", "CompanyName", "Postcode" FROM companies', con)
    firms = demo["firms"]
    assert not set(real["CompanyNumber"]) & set(firms["CompanyNumber"])
    assert not set(real["Postcode"]) & set(firms["Postcode"])
    assert len(set(real["CompanyName"]) & set(firms["CompanyName"])) < 0.01 * len(firms)


# --- the generator's steps alone, on small hand-made inputs ------------------------------------------------
from creative_clusters_plugin.core import demo_region as dr  # noqa: E402

SIC_SUBSECTOR = {code: sub for code, _, _, sub in dr.SIC_TABLE}


def test_step_ward_order_numbers_bands_from_the_north_west_to_east():
    seeds = np.array([[0.0, 0.0], [100.0, 3000.0], [50.0, 0.0], [0.0, 2600.0]])
    assert dr._ward_order(seeds).tolist() == [3, 1, 0, 2]


def test_step_quarter_seeds_ring_a_cluster_centre():
    cluster = ("Q", "T", 10.0, 10.0, 600, 200, "film", 0.6, None)
    seeds = dr._quarter_seeds(np.random.default_rng(11), clusters=[cluster])
    assert seeds.shape == (7, 2)
    cx, cy = dr._km(10.0, 10.0)
    d = np.hypot(seeds[:, 0] - cx, seeds[:, 1] - cy)
    assert d[0] < 100.0  # the centre seed is jittered by 3 % of the radius
    assert ((d[1:] >= 0.62 * 600 - 1e-6) & (d[1:] <= 0.72 * 600 + 1e-6)).all()
    angles = np.sort(np.degrees(np.arctan2(seeds[1:, 1] - cy, seeds[1:, 0] - cx)) % 360.0)
    gaps = np.diff(np.append(angles, angles[0] + 360.0))
    assert ((gaps > 45.0) & (gaps < 75.0)).all()  # six seeds about 60 degrees apart


def test_step_cluster_postcodes_stay_in_the_disc_and_the_region():
    cluster = ("Edge", "T", 10.0, 10.0, 600, 200, "film", 0.6, None)
    cx, cy = dr._km(10.0, 10.0)
    # the region boundary runs through the cluster centre: half of the disc is outside
    ring = np.array([[cx - 5000, cy - 5000], [cx, cy - 5000], [cx, cy + 5000], [cx - 5000, cy + 5000]])
    pts = dr._cluster_unit_points(np.random.default_rng(12), ring, cluster)
    assert len(pts) == 200 // 5
    assert (pts == np.round(pts)).all()
    assert (np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) <= 599.0).all()
    assert dr._inside(ring, pts).all() and (pts[:, 0] <= cx).all()


def test_step_postcode_codes_are_unique_when_a_sector_is_full():
    centres = np.array([[0.0, 0.0], [10000.0, 0.0]])
    # 450 units due east of district 1's centre: one sector has only 400 two-letter inward codes
    east = np.column_stack([np.arange(1, 451) * 2.0, np.full(450, 1.0)])
    near_2 = np.column_stack([10000.0 - np.arange(1, 6) * 10.0, np.full(5, 1.0)])
    codes, district = dr._postcode_codes(np.random.default_rng(13), np.vstack([east, near_2]), centres)
    assert len(set(codes)) == len(codes) == 455
    assert all(re.fullmatch(r"DM[12] \d[ABD-HJLNP-UW-Z]{2}", c) for c in codes)
    assert district.tolist() == [0] * 450 + [1] * 5
    assert [c.split(" ")[0] for c in codes] == ["DM1"] * 450 + ["DM2"] * 5
    sectors = pd.Series([c[4] for c in codes[:450]]).value_counts()
    assert sectors["1"] == 400 and sectors.sum() == 450  # the bearing's sector is filled, the rest move on
    assert {c[4] for c in codes[450:]} == {"5"}  # bearing about 175 degrees: sector 160-200


def test_step_company_numbers_increase_with_incorporation_date():
    age_days = np.array([100, 5, 3000, 5, 0, 12000])
    numbers = dr._company_numbers(np.random.default_rng(14), age_days)
    assert all(re.fullmatch(r"DV\d{6}", x) for x in numbers) and len(set(numbers)) == len(numbers)
    as_int = np.array([int(x[2:]) for x in numbers])
    # the oldest company has the smallest number; companies of the same age keep their order
    assert np.argsort(as_int).tolist() == [5, 2, 0, 1, 3, 4]


def test_step_company_names_stay_unique_under_many_collisions():
    n = 2000  # one place and five crafts words: plain names collide again and again
    cat_idx = np.array([0] * (n - 10) + [4] * 10)  # "LTD", then the category without a suffix
    names = dr._unique_company_names(np.random.default_rng(15), ["crafts"] * n, np.array(["32120"] * n, dtype=object),
                                     cat_idx, ["Oakhurst"])
    assert len(set(names)) == n
    assert all(x.endswith(" LTD") for x in names[: n - 10])
    assert not any(x.endswith(" LTD") for x in names[n - 10:])
    assert all(any(w in x for w in dr._SECTOR_WORDS["crafts"]) for x in names)


def _small_firms():
    kind = np.array(["bg"] * 1500 + ["bg_dormant"] * 100 + ["cluster"] * 300 + ["fa"] * 100, dtype=object)
    sub = [None] * 1000 + ["it"] * 500 + [None] * 100 + ["film"] * 300 + ["music"] * 30 + [None] * 70
    n = len(kind)
    return dr.FirmDraws(kind=kind, unit=np.zeros(n, dtype=int), sub=sub, cluster=np.full(n, -1))


def test_step_sic_codes_match_each_firms_kind_and_subsector():
    rng = np.random.default_rng(16)
    firms = _small_firms()
    sic = dr._draw_sic_codes(rng, dr._SicDrawer(rng), firms)
    cols = np.column_stack(sic.columns)
    for i in range(len(firms)):
        texts = [t for t in cols[i] if t is not None]
        assert all(t is not None for t in cols[i][: len(texts)])  # filled from the first column on
        codes = [t[:5] for t in texts]
        assert codes[0] == sic.first_codes[i] and len(set(codes)) == len(codes)
        if firms.kind[i] == "bg_dormant":
            assert codes in (["99999"], ["74990"])
        elif firms.sub[i] is not None:
            assert SIC_SUBSECTOR[codes[0]] == firms.sub[i]
        elif firms.kind[i] == "bg":
            assert SIC_SUBSECTOR[codes[0]] is None
    fa_dormant = [c in ("99999", "74990") for c in sic.first_codes[-70:]]
    assert 0 < sum(fa_dormant) < 20  # about 8 % of the formation agent's non-creative companies


def test_step_noise_spoils_only_background_firms():
    rng = np.random.default_rng(17)
    firms = _small_firms()
    sic = dr._draw_sic_codes(rng, dr._SicDrawer(rng), firms)
    before = [c.copy() for c in sic.columns]
    counts = dr._spoil_first_sic_codes(rng, firms, sic)
    assert counts == {"None Supplied": 6, "NULL": 2, "blank": 2}  # 0.5 % of 2,000 in the ratio 3:1:1
    changed = np.flatnonzero(sic.columns[0] != before[0])
    assert len(changed) == 10 and (changed < 1000).all()  # background, trading, not creative
    assert pd.Series(sic.columns[0][changed]).value_counts(dropna=False).to_dict() == {
        "None Supplied": 6, "": 2, None: 2}
    assert all(sic.first_codes[i] is None and all(c[i] is None for c in sic.columns[1:]) for i in changed)
    unchanged = np.setdiff1d(np.arange(len(firms)), changed)
    assert all((c[unchanged] == b[unchanged]).all() for c, b in zip(sic.columns, before))

    text = np.array([f"DM{1 + i % 20} {i % 9 + 1}AB" for i in range(len(firms))], dtype=object)
    original = text.copy()
    assert dr._postcode_variants(rng, text, firms.kind) == 10
    moved = np.flatnonzero(text != original)
    assert len(moved) == 10 and (firms.kind[moved] == "bg").all()
    assert sum(" " not in t for t in text[moved]) == 6 and sum(t.islower() for t in text[moved]) == 4
    assert [_norm_pc(t) for t in text[moved]] == list(original[moved])
