"""Small in-memory result layers with the documented output fields of the Creative Clusters algorithms.

Used by the styling, dock and atlas tests so they do not depend on the other algorithms being present.
Values are deterministic (seeded) and chosen to cover every class of every style.
"""

from __future__ import annotations

import numpy as np

from creative_clusters_plugin.core.firms.subsectors import SUBSECTORS

SUBSECTOR_CODES = list(SUBSECTORS)
SUBSECTOR_NAMES = list(SUBSECTORS.values())
GI_BINS = [-3, -2, -1, 0, 1, 2, 3]
COTYPES = ["HH", "HL", "LH", "LL", ""]


def _memory_layer(geometry, fields, name):
    from qgis.core import QgsVectorLayer

    spec = "&".join(f"field={n}:{t}" for n, t in fields)
    layer = QgsVectorLayer(f"{geometry}?crs=EPSG:27700&{spec}", name, "memory")
    assert layer.isValid(), name
    return layer


def _add(layer, rows):
    from qgis.core import QgsFeature

    features = []
    for geometry, attributes in rows:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        feature.setAttributes(list(attributes))
        features.append(feature)
    ok, _ = layer.dataProvider().addFeatures(features)
    assert ok
    layer.updateExtents()
    return layer


def areas_layer(n_side=6, cell=1000.0, origin=(430000.0, 387000.0), name="areas_hotspots", seed=1, names=None):
    """An ``n_side`` × ``n_side`` grid of ward-like squares with LQ, Gi* and local Moran fields."""
    from qgis.core import QgsGeometry, QgsRectangle

    fields = [("area_id", "string"), ("area_name", "string(1000)"), ("n_all", "integer"), ("n_creative", "integer")]
    fields += [(f"n_{code}", "integer") for code in SUBSECTOR_CODES]
    fields += [("lq_creative", "double"), ("lq_creative_lo", "double"), ("lq_creative_hi", "double"),
               ("GiZScore", "double"), ("GiPValue", "double"), ("NNeighbors", "integer"), ("Gi_Bin", "integer"),
               ("COType", "string")]
    layer = _memory_layer("Polygon", fields, name)
    rng = np.random.default_rng(seed)
    rows = []
    lq_values = [0.3, 0.8, 1.0, 1.25, 1.6, 2.0, 3.5]
    for k in range(n_side * n_side):
        i, j = divmod(k, n_side)
        x0, y0 = origin[0] + j * cell, origin[1] + i * cell
        geometry = QgsGeometry.fromRect(QgsRectangle(x0, y0, x0 + cell, y0 + cell))
        counts = rng.integers(0, 40, size=len(SUBSECTOR_CODES))
        counts[k % len(SUBSECTOR_CODES)] += 60  # a clear top sub-sector
        n_creative = int(counts.sum())
        n_all = n_creative + int(rng.integers(200, 2000))
        lq = lq_values[k % len(lq_values)]
        z = float(rng.normal(0, 2))
        area_name = names[k] if names is not None else f"Ward {k + 1:02d}"
        rows.append(
            (
                geometry,
                [f"E0500{k:04d}", area_name, n_all, n_creative, *[int(c) for c in counts], lq, lq * 0.8, lq * 1.2,
                 z, 0.01, 4, GI_BINS[k % len(GI_BINS)], COTYPES[k % len(COTYPES)]],
            )
        )
    return _add(layer, rows)


def microclusters_layer(n=4, name="microclusters", origin=(431000.0, 388000.0)):
    from qgis.core import QgsGeometry, QgsPointXY

    fields = [("cc_cluster_id", "integer"), ("n_firms", "integer"), ("n_creative", "integer"),
              ("dominant_subsector", "string"), ("lq_creative", "double"), ("area_ha", "double")]
    layer = _memory_layer("Polygon", fields, name)
    rows = []
    for k in range(n):
        centre = QgsPointXY(origin[0] + 900 * k, origin[1] + 500 * (k % 2))
        geometry = QgsGeometry.fromPointXY(centre).buffer(250 + 20 * k, 12)
        rows.append((geometry, [k + 1, 60 + 10 * k, 55 + 9 * k, SUBSECTOR_NAMES[k % 9], 1.5 + k / 10, 20.0 + k]))
    return _add(layer, rows)


def microcluster_points_layer(name="microcluster_firms"):
    from qgis.core import QgsGeometry, QgsPointXY

    layer = _memory_layer("Point", [("cc_cluster_id", "integer"), ("cc_subsector", "string")], name)
    rows = [(QgsGeometry.fromPointXY(QgsPointXY(431000 + 10 * i, 388000 + 7 * i)), [i % 4 - 1, SUBSECTOR_NAMES[i % 9]])
            for i in range(20)]
    return _add(layer, rows)


def corridor_links_layer(name="corridor_links"):
    from qgis.core import QgsGeometry, QgsPointXY

    fields = [("from_id", "integer"), ("to_id", "integer"), ("euclid_dist", "double"), ("cost_dist", "double"),
              ("gravity", "double")]
    layer = _memory_layer("LineString", fields, name)
    rows = []
    for k in range(8):
        a = QgsPointXY(431000 + 900 * k, 388000)
        b = QgsPointXY(431000 + 900 * (k + 1), 388000 + 300 * ((-1) ** k))
        rows.append((QgsGeometry.fromPolylineXY([a, b]), [k, k + 1, 900.0, 1200.0 + k, float(10 ** (k / 2))]))
    return _add(layer, rows)


def corridors_layer(name="corridors", n=3):
    from qgis.core import QgsGeometry, QgsPointXY

    fields = [("corridor_id", "integer"), ("rank", "integer"), ("n_clusters", "integer"), ("total_mass", "double")]
    layer = _memory_layer("Polygon", fields, name)
    rows = []
    for k in range(n):
        line = QgsGeometry.fromPolylineXY([QgsPointXY(431000, 388000 + 2000 * k), QgsPointXY(436000, 388500 + 2000 * k)])
        rows.append((line.buffer(200, 8), [k + 1, k + 1, 3 + k, 500.0 - 100 * k]))
    return _add(layer, rows)


def stacks_layer(name="firms_stacks"):
    from qgis.core import QgsGeometry, QgsPointXY

    fields = [("CompanyName", "string"), ("cc_creative", "boolean"), ("cc_subsector", "string"), ("cc_stack", "boolean")]
    layer = _memory_layer("Point", fields, name)
    rows = [(QgsGeometry.fromPointXY(QgsPointXY(431000 + i, 388000)), [f"Firm {i}", True, SUBSECTOR_NAMES[0], i % 3 == 0])
            for i in range(12)]
    return _add(layer, rows)


def classified_firms_layer(name="firms_classified"):
    from qgis.core import QgsGeometry, QgsPointXY

    fields = [("CompanyName", "string"), ("cc_creative", "boolean"), ("cc_subsector", "string")]
    layer = _memory_layer("Point", fields, name)
    rows = []
    for i in range(30):
        sub = SUBSECTOR_NAMES[i % 9] if i % 3 else None
        rows.append((QgsGeometry.fromPointXY(QgsPointXY(431000 + 30 * i, 388000 + 11 * i)), [f"Firm {i}", sub is not None, sub]))
    return _add(layer, rows)


def density_raster(folder, name="creative_density.tif", size=40):
    """A single-band GeoTIFF (EPSG:27700) with a smooth peak; returns its path."""
    from osgeo import gdal, osr

    path = str(folder / name)
    driver = gdal.GetDriverByName("GTiff")
    dataset = driver.Create(path, size, size, 1, gdal.GDT_Float32)
    dataset.SetGeoTransform((430000.0, 100.0, 0.0, 392000.0, 0.0, -100.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    dataset.SetProjection(srs.ExportToWkt())
    yy, xx = np.mgrid[0:size, 0:size]
    values = 500.0 * np.exp(-(((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (2 * (size / 6) ** 2)))
    band = dataset.GetRasterBand(1)
    band.WriteArray(values.astype(np.float32))
    band.SetDescription("creative firm density per km2")
    band.SetNoDataValue(-9999)
    dataset.FlushCache()
    dataset = None
    return path
