"""Benchmark: kernel density of 1,000,000 points to a 2,400 × 2,400 grid (quartic, radius 2 km), ours vs
QGIS's ``qgis:heatmapkerneldensityestimation``.

Run: ``/usr/bin/python3 benchmarks/bench_kde.py`` (``--repeat N``; ``--quick``: 100,000 points, 1,200² grid).

Same input, same run: clustered points (60 % in 40 Gaussian clusters of σ 300–3,000 m, 40 % uniform) in a
476 km square (quick: 236 km) in British National Grid, written once to a GeoPackage; 200 m pixels, so the
2 km radius is 10 pixels — the configuration in which QGIS takes about 10 s. Timed, alternating, after one
untimed warm-up each:

* QGIS: ``processing.run("qgis:heatmapkerneldensityestimation", RADIUS=2000, PIXEL_SIZE=200, KERNEL=0 quartic,
  OUTPUT_VALUE=1 scaled)`` from the GeoPackage to a GeoTIFF (its grid: the points' extent + the radius);
* ours, core: ``core.kernel_density.kernel_density`` on the same grid + ``core.raster_io.write_geotiff``
  (coordinates already in memory);
* ours, end to end: ``processing.run("creativeclusters:density", TEMPLATE=<QGIS's output>, BANDWIDTH=2000)``
  from the GeoPackage (includes reading the features through QGIS, ~2 s per million).

Printed: medians, ratios (QGIS / ours) and both surfaces' integrals divided by n (1 = correct; QGIS 3.22's
quartic constant gives 7.25). Goal: at least 3× faster than QGIS with the correct integral.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, "/usr/share/qgis/python/plugins")

import numpy as np  # noqa: E402


def make_points(n, size, seed=7):
    rng = np.random.default_rng(seed)
    x0, y0 = 400_000.0, 200_000.0
    n_clustered = int(0.6 * n)
    centres = rng.uniform([x0, y0], [x0 + size, y0 + size], size=(40, 2))
    sigmas = rng.uniform(300, 3000, 40)
    pick = rng.integers(0, 40, n_clustered)
    clustered = centres[pick] + rng.normal(size=(n_clustered, 2)) * sigmas[pick, None]
    uniform = rng.uniform([x0, y0], [x0 + size, y0 + size], size=(n - n_clustered, 2))
    xy = np.vstack([clustered, uniform])
    return np.clip(xy, [x0, y0], [x0 + size, y0 + size])


def write_gpkg(path, xy):
    from osgeo import ogr, osr

    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    layer = ds.CreateLayer("points", srs, ogr.wkbPoint)
    definition = layer.GetLayerDefn()
    layer.StartTransaction()
    for x, y in xy:
        feature = ogr.Feature(definition)
        geometry = ogr.Geometry(ogr.wkbPoint)
        geometry.AddPoint_2D(float(x), float(y))
        feature.SetGeometry(geometry)
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    ds = None


def raster_sum(path):
    import rasterio

    with rasterio.open(path) as dataset:
        array = dataset.read(1).astype(float)
        nodata = dataset.nodata
        transform, shape = dataset.transform, dataset.shape
    if nodata is not None:
        array[array == nodata] = 0.0
    return float(array.sum()), transform, shape


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else 1_000_000
    # 2,400 (quick: 1,200) cells of 200 m with the 2 km margin: the configuration of QGIS's ~10 s reference
    size = 236_000.0 if args.quick else 476_000.0
    radius, pixel = 2000.0, 200.0
    repeat = 1 if args.quick else args.repeat

    from qgis.core import QgsApplication, QgsProcessingFeedback, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()
    from creative_clusters_plugin.core.surfaces.kernel_density import DensityGrid, kernel_density
    from creative_clusters_plugin.core.surfaces.raster_io import write_geotiff
    from creative_clusters_plugin.processing_provider.provider import CreativeClustersProvider

    provider = CreativeClustersProvider()
    QgsApplication.processingRegistry().addProvider(provider)

    work = Path(tempfile.mkdtemp(prefix="bench_kde_"))
    xy = make_points(n, size)
    t = time.perf_counter()
    gpkg = work / "points.gpkg"
    write_gpkg(gpkg, xy)
    layer = QgsVectorLayer(f"{gpkg}|layername=points", "points", "ogr")
    assert layer.featureCount() == n
    print(f"{n:,} points written in {time.perf_counter() - t:.1f} s; radius {radius:g} m, pixel {pixel:g} m.")

    def run_qgis(path):
        processing.run(
            "qgis:heatmapkerneldensityestimation",
            {"INPUT": layer, "RADIUS": radius, "PIXEL_SIZE": pixel, "KERNEL": 0, "OUTPUT_VALUE": 1, "DECAY": 0,
             "OUTPUT": str(path)},
            feedback=QgsProcessingFeedback(),
        )

    template = work / "qgis_0.tif"
    run_qgis(template)  # warm-up; its grid is the grid for everyone
    _, transform, shape = raster_sum(template)
    grid = DensityGrid.from_transform(transform, *shape)
    print(f"Grid (QGIS's: the points' extent + the radius): {shape[0]:,} × {shape[1]:,} cells.")

    def run_core(path):
        result = kernel_density(xy, bandwidth=radius, grid=grid)
        write_geotiff(path, result.values, grid.transform, "EPSG:27700", description="kernel density benchmark")

    def run_ours(path):
        processing.run(
            "creativeclusters:density",
            {"INPUT": layer, "BANDWIDTH": radius, "PIXEL_SIZE": pixel, "TEMPLATE": str(template), "OUTPUT": str(path)},
            feedback=QgsProcessingFeedback(),
        )

    run_core(work / "core_0.tif")
    run_ours(work / "ours_0.tif")
    times = {"qgis": [], "core": [], "ours": []}
    runners = {"qgis": run_qgis, "core": run_core, "ours": run_ours}
    for i in range(1, repeat + 1):
        for name, runner in runners.items():
            t = time.perf_counter()
            runner(work / f"{name}_{i}.tif")
            times[name].append(time.perf_counter() - t)
    medians = {name: statistics.median(values) for name, values in times.items()}
    qgis_sum, _, _ = raster_sum(work / f"qgis_{repeat}.tif")
    core_sum, _, _ = raster_sum(work / f"core_{repeat}.tif")
    ours_sum, _, _ = raster_sum(work / f"ours_{repeat}.tif")
    cell = pixel * pixel
    print(f"QGIS heatmap (scaled, quartic):         median {medians['qgis']:.2f} s  runs {[round(v, 2) for v in times['qgis']]}")
    print(f"ours, core KDE + GeoTIFF:               median {medians['core']:.2f} s  runs {[round(v, 2) for v in times['core']]}"
          f"  → {medians['qgis'] / medians['core']:.1f}× faster than QGIS")
    print(f"ours, creativeclusters:density (end to end, reads the layer): median {medians['ours']:.2f} s  "
          f"runs {[round(v, 2) for v in times['ours']]}  → {medians['qgis'] / medians['ours']:.1f}× faster than QGIS")
    print(f"integral / n: QGIS {qgis_sum * cell / n:.4f} (3.22's quartic constant is 7.25× too large); "
          f"ours (core) {core_sum * cell / 1e6 / n:.6f}; ours (algorithm) {ours_sum * cell / 1e6 / n:.6f}")
    goal = medians["qgis"] / medians["ours"] >= 3 and abs(ours_sum * cell / 1e6 / n - 1) < 1e-3
    print(f"goal (≥ 3× QGIS end to end, integral = n): {'met' if goal else 'NOT met'}")
    QgsApplication.processingRegistry().removeProvider(provider)
    return 0


if __name__ == "__main__":
    sys.exit(main())
