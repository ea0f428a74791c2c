"""DBSCAN benchmark: ours vs QGIS native:dbscanclustering vs scikit-learn, same clustered points, same run.

Usage: /usr/bin/python3 benchmarks/bench_dbscan.py [--quick]
  full : 1,000,000 clustered points (eps 250 m, min 10) + a 5,000,000-point memory run (peak RSS)
  quick: 100,000 points, no 5 M run (well under a minute)
Prints medians, ratios and whether our labels equal scikit-learn's.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creative_clusters_plugin.core.clustering.dbscan import dbscan  # noqa: E402
from timing import timed as timed_runs  # noqa: E402


def clustered_points(n, seed=0, extent=150_000.0):
    """Town-like clusters (Gaussian blobs of 150–1500 m) on a uniform background, whole metres."""
    rng = np.random.default_rng(seed)
    n_centres = max(20, n // 5000)
    centres = rng.uniform(0, extent, (n_centres, 2))
    sizes = rng.multinomial(int(n * 0.8), rng.dirichlet(np.ones(n_centres)))
    parts = [c + rng.normal(0, rng.uniform(150, 1500), (s, 2)) for c, s in zip(centres, sizes)]
    parts.append(rng.uniform(0, extent, (n - int(sizes.sum()), 2)))
    return np.round(np.vstack(parts))


def timed(fn, repeat):
    """``(median seconds, result)`` of ``repeat`` calls."""
    times, out = timed_runs(fn, repeat)
    return statistics.median(times), out


def qgis_native(xy, eps, min_size):
    """Median time of native:dbscanclustering on a memory layer (layer building not timed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication, QgsFeature, QgsGeometry, QgsPointXY, QgsProcessing, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    import processing
    from processing.core.Processing import Processing
    from qgis.analysis import QgsNativeAlgorithms

    Processing.initialize()
    QgsApplication.processingRegistry().addProvider(QgsNativeAlgorithms())
    layer = QgsVectorLayer("Point?crs=EPSG:27700", "pts", "memory")
    feats = []
    for x, y in xy:
        f = QgsFeature()
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(x), float(y))))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    del feats
    t = time.perf_counter()
    result = processing.run("native:dbscanclustering", {"INPUT": layer, "MIN_SIZE": min_size, "EPS": eps,
                                                        "DBSCAN*": False, "FIELD_NAME": "CLUSTER_ID",
                                                        "OUTPUT": QgsProcessing.TEMPORARY_OUTPUT})
    elapsed = time.perf_counter() - t
    n_clusters = result.get("NUM_CLUSTERS")
    return elapsed, n_clusters


def peak_rss_mb():
    """Peak resident memory of this process image (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


MEMORY_CHILD = """
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
from bench_dbscan import clustered_points, peak_rss_mb
from creative_clusters_plugin.core.clustering.dbscan import dbscan
xy = clustered_points(int(sys.argv[2]), seed=1)
base = peak_rss_mb()
t = time.perf_counter(); r = dbscan(xy, 250.0, 10); dt = time.perf_counter() - t
peak = peak_rss_mb()
print(f"{dt:.2f} {peak:.0f} {base:.0f} {r.n_clusters}")
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    eps, min_samples = 250.0, 10
    repeat = 3 if args.quick else 1
    xy = clustered_points(n)
    print(f"DBSCAN benchmark: {n:,} clustered points, eps {eps:g} m, min {min_samples}")

    before = peak_rss_mb()
    ours_t, ours = timed(lambda: dbscan(xy, eps, min_samples), repeat)
    ours_mem = peak_rss_mb()
    print(f"  ours (grid DBSCAN)        : {ours_t:7.2f} s  ({ours.n_clusters} clusters, {ours.n_noise} noise); "
          f"peak RSS {ours_mem:.0f} MB (before: {before:.0f} MB)")

    from sklearn.cluster import DBSCAN

    sk_t, sk = timed(lambda: DBSCAN(eps=eps, min_samples=min_samples).fit(xy), 1)
    equal = np.array_equal(sk.labels_, ours.labels)
    core = np.zeros(n, dtype=bool)
    core[sk.core_sample_indices_] = True
    print(f"  scikit-learn DBSCAN       : {sk_t:7.2f} s  labels equal: {equal}; core equal: "
          f"{np.array_equal(core, ours.core)}; peak RSS {peak_rss_mb():.0f} MB (neighbour lists)")

    try:
        q_t, q_clusters = qgis_native(xy, eps, min_samples)
        print(f"  QGIS native:dbscanclustering: {q_t:5.2f} s  ({q_clusters} clusters)")
    except Exception as error:  # QGIS missing: report and go on
        q_t = None
        print(f"  QGIS native:dbscanclustering: not run ({error})")

    print(f"  ratio scikit-learn / ours : {sk_t / ours_t:6.1f}x")
    if q_t:
        print(f"  ratio QGIS native / ours  : {q_t / ours_t:6.1f}x")

    if not args.quick:  # in a fresh interpreter: its own peak memory (VmHWM)
        big = 5_000_000
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(ROOT), str(big)], capture_output=True,
                             text=True, cwd=str(ROOT))
        if out.returncode == 0:
            dt, peak, base, k = out.stdout.split()
            print(f"  5,000,000 points          : {float(dt):7.2f} s, peak RSS {peak} MB (points alone: {base} MB "
                  f"before clustering), {k} clusters; goal < 4096 MB")
        else:
            print("  5,000,000 points: failed\n" + out.stderr[-2000:])
    print(f"RESULT bench_dbscan n={n} ours={ours_t:.2f}s sklearn={sk_t:.2f}s qgis={q_t if q_t else float('nan'):.2f}s "
          f"labels_equal={equal}")
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
