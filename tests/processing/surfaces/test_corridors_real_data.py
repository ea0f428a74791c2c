"""Real data (skipped when ../shared/data is absent): South Yorkshire creative firms (Companies House, Nov 2024)
aggregated into 1 km grid hotspots, linked through ``creativeclusters:corridors`` with the GB motorways
(OS Open Roads) as TRANSPORT. The result is documented (printed with ``-s``), not tuned: the assertions only
check what must hold whatever the data (least costs against scikit-image, every cluster linked, fields)."""

import math

import numpy as np
import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

gpd = pytest.importorskip("geopandas")
skgraph = pytest.importorskip("skimage.graph")

from tests.core.real_data import motorways_path, south_yorkshire_creative_grid_hotspots  # noqa: E402
from tests.processing.stats_helpers import RecordingFeedback as Feedback  # noqa: E402


@pytest.mark.shared_data
def test_south_yorkshire_grid_hotspots_with_motorways(shared_data, provider, run_alg, tmp_path):
    firms, clusters, masses = south_yorkshire_creative_grid_hotspots(shared_data)
    roads_path = motorways_path(shared_data)
    layer = QgsVectorLayer("Polygon?crs=EPSG:27700&field=name:string&field=n_firms:integer", "hotspots", "memory")
    features = []
    for k, c in enumerate(clusters, start=1):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([f"H{k} E{c.centroid.x / 1000:.0f} N{c.centroid.y / 1000:.0f}", int(masses[k - 1])])
        feature.setGeometry(QgsGeometry.fromWkt(c.wkt))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    roads = QgsVectorLayer(str(roads_path), "motorways", "ogr")
    assert roads.isValid()
    roads.setSubsetString("")  # whole GB network: the adapter keeps what crosses the grid
    feedback = Feedback()
    out = run_alg("corridors", {
        "CLUSTERS": layer, "MASS_FIELD": "n_firms", "ID_FIELD": "name", "TRANSPORT": roads, "CELL_SIZE": 200,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "sy.tif"),
    }, feedback=feedback)
    links = list(out["OUTPUT_LINKS"].getFeatures())
    corridors = list(out["OUTPUT_CORRIDORS"].getFeatures())
    print(f"\nSouth Yorkshire: {len(firms)} creative firms (first SIC), {len(clusters)} 1 km hotspots (≥ 25 firms)")
    print("\n".join(feedback.log))
    for f in sorted(links, key=lambda f: -f["gravity"])[:12]:
        print(f"  {f['from_id']} — {f['to_id']}: cost {f['cost_dist']:.0f}, path {f['path_len'] / 1000:.1f} km, "
              f"cost/path {f['cost_path']:.2f}, gravity {f['gravity']:.2f}, strength {f['strength']:.2f}")
    for f in corridors:
        print(f"  corridor {f['corridor_id']} (rank {f['rank']}): {f['clusters']} — {f['length_m'] / 1000:.1f} km, mass {f['total_mass']:.0f}")
    # what must hold whatever the data: every hotspot is linked, costs are finite, motorways made some links
    # cheaper than their length (cost per metre below 1 somewhere along the path)
    linked = {f["from_id"] for f in links} | {f["to_id"] for f in links}
    assert len(linked) == len(clusters)
    assert all(np.isfinite(f["cost_dist"]) and f["cost_dist"] >= 0 for f in links)
    assert min(f["cost_path"] for f in links if f["path_len"] > 0) < 1.0


@pytest.mark.shared_data
def test_m1_chain_on_real_microclusters_with_the_defaults(shared_data, provider, run_alg, tmp_path):
    """Issue 11, item 6: corridor chains on real microclusters, built as a user would (classify, flag stacks,
    microclusters of creative firms with stacks excluded, DBSCAN 250 m / 10 firms: clusters in all four
    districts), then corridors with the defaults, the creative firms as mass and the GB motorways as transport.
    A chain of three or more clusters spanning 10 km or more runs along the M1."""
    from collections import Counter

    from shapely import wkt as shapely_wkt

    from tests.core.real_data import firms_gpkg, m1_geometry

    if not firms_gpkg(shared_data).exists() or not motorways_path(shared_data).exists():
        pytest.skip("South Yorkshire firms or GB motorways not in shared data")
    classified = run_alg("classifyfirms", {"INPUT": str(firms_gpkg(shared_data)), "RULE": 0, "OUTPUT": str(tmp_path / "c.gpkg")})["OUTPUT"]
    flagged = run_alg("flagstacks", {"INPUT": classified, "POSTCODE_FIELD": "Postcode", "OUTPUT": str(tmp_path / "f.gpkg"),
                                     "OUTPUT_ADDRESSES": "memory:"})["OUTPUT"]
    micro = run_alg("microclusters", {"INPUT": flagged, "STACKS": 2, "EPS": 250, "MIN_FIRMS": 10,
                                      "OUTPUT_POINTS": str(tmp_path / "p.gpkg"), "OUTPUT_CLUSTERS": str(tmp_path / "m.gpkg")})
    clusters = QgsVectorLayer(micro["OUTPUT_CLUSTERS"], "microclusters", "ogr")
    points = QgsVectorLayer(micro["OUTPUT_POINTS"], "points", "ogr")
    places = {}
    for f in points.getFeatures():
        if f["cc_cluster_id"] not in (None, -1) and f["cc_cluster_id"] == f["cc_cluster_id"]:
            places.setdefault(int(f["cc_cluster_id"]), Counter())[f["localauthority_name"]] += 1
    districts = {max(c, key=c.get) for c in places.values()}
    assert {"Sheffield", "Rotherham", "Barnsley", "Doncaster"} <= districts, districts
    roads = QgsVectorLayer(str(motorways_path(shared_data)), "motorways", "ogr")
    feedback = Feedback()
    out = run_alg("corridors", {
        "CLUSTERS": clusters, "MASS_FIELD": "n_creative", "ID_FIELD": "cc_cluster_id", "TRANSPORT": roads,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "nlcc.tif"),
    }, feedback=feedback)
    print(f"\n{clusters.featureCount()} microclusters (DBSCAN 250 m, 10 creative firms, stacks excluded)")
    print("\n".join(line for line in feedback.log if "Step" in line or "corridor" in line))
    centres = {int(f["cc_cluster_id"]): f.geometry().centroid().asPoint() for f in clusters.getFeatures()}
    m1 = m1_geometry(shared_data)
    links = list(out["OUTPUT_LINKS"].getFeatures())
    good = []
    for corridor in out["OUTPUT_CORRIDORS"].getFeatures():
        ids = [int(x) for x in corridor["clusters"].split(" > ")]
        first, last = centres[ids[0]], centres[ids[-1]]
        span = math.hypot(last.x() - first.x(), last.y() - first.y())
        lines = [shapely_wkt.loads(f.geometry().asWkt()) for f in links if f["corridor_id"] == corridor["corridor_id"]]
        samples = [line.interpolate(d) for line in lines for d in np.arange(0.0, line.length, 100.0)]
        to_m1 = float(np.median([m1.distance(p) for p in samples]))
        names = [max(places[i], key=places[i].get) + f" ({sum(places[i].values())} firms)" for i in ids]
        print(f"  corridor {corridor['corridor_id']}: {corridor['clusters']} — {', '.join(names)}; span {span / 1000:.1f} km, "
              f"along the links {corridor['length_m'] / 1000:.1f} km, median distance to the M1 {to_m1 / 1000:.2f} km, "
              f"mean strength {corridor['mean_strength']:.2f}")
        if corridor["n_clusters"] >= 3 and span >= 10_000 and to_m1 <= 3_000:
            good.append(corridor["clusters"])
    assert good, "no corridor chain of three or more clusters along the M1"
