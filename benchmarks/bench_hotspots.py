"""Benchmark: Gi* and local Moran's I against esda (PySAL) and pygeoda, plus a 1,000,000-point scale run.

Run: ``/work/main/.venv/bin/python benchmarks/bench_hotspots.py`` (add ``--quick`` for a smoke run).

Same input, same run:

1. 190 × 190 queen lattice (36,100 units), a planted hot/cold surface with noise:
   * queen weights from the polygons: ours vs libpysal ``Queen.from_dataframe``;
   * Gi* analytic: ours vs esda ``G_Local(star=True, transform="B", permutations=0)``, z-scores compared;
   * Gi* 999 permutations and local Moran 999 permutations: ours vs esda (cold = first call in a fresh
     process, including numba's JIT compilation; warm = a second call) and vs pygeoda's lookup-table
     permutations (1 thread and its default threads), when pygeoda is installed in ``.venv-ref``.
2. 100,000 points, kNN(8), Gi* 999 permutations: ours vs pygeoda (lookup table).
3. 1,000,000 points, kNN(8) weights + analytic Gi*: time and peak memory (``ru_maxrss`` of a fresh process).

Every statistic's timer covers the statistic only: each side's weights (ours, esda's ``W``, pygeoda's) are built
before its timer starts, and weight construction is timed on its own (queen from polygons, kNN). esda runs twice: on its fast path (``keep_simulations=False, n_jobs=1``, single core like ours) and with its
defaults (simulations kept, ``G_Local`` on all cores), as users get it. Medians of repeated runs are printed with the ratios. Goals: ≥ 10× esda on each statistic, the
1 M-point run under 10 s and 4 GB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star  # noqa: E402
from creative_clusters_plugin.core.autocorrelation.local_moran import local_moran  # noqa: E402
from creative_clusters_plugin.core.autocorrelation.weights import contiguity_weights, knn_weights  # noqa: E402
from timing import timed  # noqa: E402

REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"
SYSTEM_PYTHON = "/usr/bin/python3"

PEER_SCRIPT = textwrap.dedent(
    r"""
    import json, sys, time, warnings
    import numpy as np
    from scipy import sparse
    warnings.filterwarnings("ignore")
    d = np.load(sys.argv[1])
    jobs = json.loads(str(d["jobs"]))
    y = d["y"]
    n = len(y)
    out, arrays = {}, {}

    def timed(fn, repeat):
        times, result = [], None
        for _ in range(repeat):
            t = time.perf_counter(); result = fn(); times.append(time.perf_counter() - t)
        return times, result

    for job in jobs:
        name, kind, R, repeat = job["name"], job["kind"], job["permutations"], job["repeat"]
        if kind.startswith("esda"):
            import esda
            from libpysal.weights import W
            m = sparse.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=(n, n))
            options = {}  # esda's defaults: keep_simulations=True, n_jobs=-1 (G_Local) / 1 (Moran_Local)
            if job.get("fast"):
                options = {"keep_simulations": False, "n_jobs": 1}
            # the peer's weights object is built once, outside its timer, as ours is (both time the statistic)
            w_peer = W.from_sparse(m.copy())
            if kind == "esda_g":
                fn = lambda: esda.G_Local(y, w_peer, transform="B", star=True, permutations=R, seed=1, **options)
                times, res = timed(fn, repeat)
                arrays[name + "_z"] = res.Zs
            else:
                fn = lambda: esda.Moran_Local(y, w_peer, permutations=R, seed=1, **options)
                times, res = timed(fn, repeat)
                arrays[name + "_I"] = res.Is
            if R:
                arrays[name + "_p"] = res.p_sim
            out[name] = times
        elif kind == "libpysal_queen":
            import geopandas as gpd, shapely
            from libpysal.weights import Queen
            N = job["side"]
            g = gpd.GeoDataFrame(geometry=[shapely.box(c, r, c + 1, r + 1) for r in range(N) for c in range(N)])
            out[name], _ = timed(lambda: Queen.from_dataframe(g, use_index=False, silence_warnings=True), repeat)
        elif kind.startswith("pygeoda"):
            try:
                import pygeoda
            except ImportError:
                out[name] = None
                continue
            import geopandas as gpd, shapely
            if job["geometry"] == "lattice":
                N = job["side"]
                g = gpd.GeoDataFrame({"v": y}, geometry=[shapely.box(c, r, c + 1, r + 1) for r in range(N) for c in range(N)])
                gda = pygeoda.open(g)
                w = pygeoda.queen_weights(gda)
            else:
                g = gpd.GeoDataFrame({"v": y}, geometry=shapely.points(d["xy"]))
                gda = pygeoda.open(g)
                w = pygeoda.knn_weights(gda, 8)
            stat = pygeoda.local_gstar if kind == "pygeoda_g" else pygeoda.local_moran
            kwargs = dict(permutations=R, permutation_method="lookup-table", seed=1)
            if job.get("threads"):
                kwargs["cpu_threads"] = job["threads"]
            out[name], _ = timed(lambda: stat(w, list(y), **kwargs), repeat)
    np.savez(sys.argv[2], **arrays)
    print(json.dumps(out))
    """
)

SCALE_SCRIPT = textwrap.dedent(
    r"""
    import json, resource, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star
    from creative_clusters_plugin.core.autocorrelation.weights import knn_weights
    n = int(sys.argv[2])
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 100_000, (200, 2))
    xy = np.concatenate([rng.uniform(0, 100_000, (n // 2, 2)),
                         centres[rng.integers(0, 200, n - n // 2)] + rng.normal(0, 800, (n - n // 2, 2))])
    values = rng.poisson(3, n).astype(float)
    t0 = time.perf_counter()
    w = knn_weights(xy, 8)
    t1 = time.perf_counter()
    result = gi_star(values, w)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"weights_s": t1 - t0, "gi_s": t2 - t1, "total_s": t2 - t0, "peak_bytes": peak,
                      "finite": int(np.isfinite(result.z).sum())}))
    """
)


def median(times):
    return statistics.median(times) if times else float("nan")




def run_peers(jobs, y, matrix=None, xy=None, timeout=3600):
    if not REF_PYTHON.exists():
        print(f"  (reference venv {REF_PYTHON} missing: peers skipped)")
        return None, {}
    payload = {"jobs": np.array(json.dumps(jobs)), "y": y}
    if matrix is not None:
        payload.update(data=matrix.data, indices=matrix.indices, indptr=matrix.indptr)
    if xy is not None:
        payload["xy"] = xy
    with tempfile.TemporaryDirectory() as folder:
        src, dst = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(src, **payload)
        done = subprocess.run(
            [str(REF_PYTHON), "-c", PEER_SCRIPT, str(src), str(dst)], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            print("  peer run failed:\n" + done.stderr[-2000:])
            return None, {}
        with np.load(dst) as arrays:
            return json.loads(done.stdout.strip().splitlines()[-1]), {k: arrays[k] for k in arrays.files}


def planted_surface(side, seed=0):
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(side * side), side)
    hot = 6 * np.exp(-((r - side * 0.3) ** 2 + (c - side * 0.3) ** 2) / (2 * (side / 20) ** 2))
    cold = -4 * np.exp(-((r - side * 0.7) ** 2 + (c - side * 0.7) ** 2) / (2 * (side / 25) ** 2))
    return 10 + hot + cold + rng.normal(0, 1, side * side)


def row(label, ours, peer, peer_name):
    if peer is None or not np.isfinite(peer):
        print(f"  {label:<44} ours {ours:8.3f} s   {peer_name:>18}: n/a")
        return
    print(f"  {label:<44} ours {ours:8.3f} s   {peer_name:>18} {peer:8.3f} s   ratio {peer / ours:7.1f}×")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    side = 40 if args.quick else 190
    n_points_perm = 10_000 if args.quick else 100_000
    n_points_scale = 50_000 if args.quick else 1_000_000
    R = 999

    print(f"== {side} × {side} queen lattice ({side * side:,} units) ==")
    from shapely.geometry import box

    polygons = [box(c, r, c + 1, r + 1).wkb for r in range(side) for c in range(side)]
    weight_times, w = timed(lambda: contiguity_weights(polygons), 3)
    y = planted_surface(side)

    gi_analytic_times, gi = timed(lambda: gi_star(y, w), 5)
    gi_perm_times, gi_p = timed(lambda: gi_star(y, w, permutations=R, seed=1, alternative="folded"), 3)
    lm_perm_times, lm_p = timed(lambda: local_moran(y, w, permutations=R, seed=1, alternative="folded",
                                                     index_convention="esda"), 3)  # the index esda computes

    jobs = [
        {"name": "queen", "kind": "libpysal_queen", "side": side, "permutations": 0, "repeat": 1},
        {"name": "g0", "kind": "esda_g", "permutations": 0, "repeat": 3},
        {"name": "g999", "kind": "esda_g", "permutations": R, "repeat": 2, "fast": True},
        {"name": "m999", "kind": "esda_m", "permutations": R, "repeat": 2, "fast": True},
        {"name": "g999d", "kind": "esda_g", "permutations": R, "repeat": 2},
        {"name": "m999d", "kind": "esda_m", "permutations": R, "repeat": 2},
        {"name": "pg_g1", "kind": "pygeoda_g", "geometry": "lattice", "side": side, "permutations": R, "repeat": 3, "threads": 1},
        {"name": "pg_g", "kind": "pygeoda_g", "geometry": "lattice", "side": side, "permutations": R, "repeat": 3},
        {"name": "pg_m1", "kind": "pygeoda_m", "geometry": "lattice", "side": side, "permutations": R, "repeat": 3, "threads": 1},
        {"name": "pg_m", "kind": "pygeoda_m", "geometry": "lattice", "side": side, "permutations": R, "repeat": 3},
    ]
    print("  running esda / libpysal / pygeoda in .venv-ref (esda with 999 permutations takes minutes)…")
    peers, arrays = run_peers(jobs, y, matrix=w.matrix)
    peers = peers or {}

    def peer_time(name, index=None):
        times = peers.get(name)
        if not times:
            return None
        return times[index] if index is not None else median(times)

    row("queen weights from polygons (libpysal)", median(weight_times), peer_time("queen"), "libpysal")
    row("Gi* analytic (esda, warm)", median(gi_analytic_times), peer_time("g0", -1), "esda")
    if "g0_z" in arrays:
        print(f"    max |z ours − z esda| = {np.nanmax(np.abs(gi.z - arrays['g0_z'])):.2e}")
    print("  esda fast path (keep_simulations=False, n_jobs=1):")
    row("Gi* 999 permutations (esda cold, incl. JIT)", median(gi_perm_times), peer_time("g999", 0), "esda cold")
    row("Gi* 999 permutations (esda warm)", median(gi_perm_times), peer_time("g999", -1), "esda warm")
    if "g999_p" in arrays:
        print(f"    mean |pseudo p ours − esda| = {np.nanmean(np.abs(gi_p.pseudo_p - arrays['g999_p'])):.4f}")
    row("Gi* 999 permutations (pygeoda, 1 thread)", median(gi_perm_times), peer_time("pg_g1"), "pygeoda 1 thr")
    row("Gi* 999 permutations (pygeoda, default)", median(gi_perm_times), peer_time("pg_g"), "pygeoda")
    row("local Moran 999 permutations (esda cold)", median(lm_perm_times), peer_time("m999", 0), "esda cold")
    row("local Moran 999 permutations (esda warm)", median(lm_perm_times), peer_time("m999", -1), "esda warm")
    print("  esda defaults (keep_simulations=True; n_jobs=-1 for G_Local), after the fast-path runs:")
    row("Gi* 999 permutations (esda defaults, 1st)", median(gi_perm_times), peer_time("g999d", 0), "esda")
    row("Gi* 999 permutations (esda defaults, 2nd)", median(gi_perm_times), peer_time("g999d", -1), "esda")
    row("local Moran 999 permutations (esda defaults)", median(lm_perm_times), peer_time("m999d", -1), "esda")
    if "m999_I" in arrays:
        print(f"    max |I ours − I esda| = {np.nanmax(np.abs(lm_p.I - arrays['m999_I'])):.2e}; "
              f"mean |pseudo p ours − esda| = {np.nanmean(np.abs(lm_p.pseudo_p - arrays['m999_p'])):.4f}")
    row("local Moran 999 permutations (pygeoda, 1 thr)", median(lm_perm_times), peer_time("pg_m1"), "pygeoda 1 thr")
    row("local Moran 999 permutations (pygeoda)", median(lm_perm_times), peer_time("pg_m"), "pygeoda")

    print(f"\n== {n_points_perm:,} points, kNN(8), Gi* 999 permutations ==")
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50_000, (n_points_perm, 2))
    values = rng.gamma(2, 2, n_points_perm)
    knn_times, wk = timed(lambda: knn_weights(xy, 8), 3)
    perm_times, _ = timed(lambda: gi_star(values, wk, permutations=R, seed=1), 3)
    peers, _ = run_peers(
        [
            {"name": "pg1", "kind": "pygeoda_g", "geometry": "points", "permutations": R, "repeat": 3, "threads": 1},
            {"name": "pg", "kind": "pygeoda_g", "geometry": "points", "permutations": R, "repeat": 3},
        ],
        values, xy=xy,
    )
    peers = peers or {}
    print(f"  kNN(8) weights: ours {median(knn_times):.3f} s")
    row("Gi* 999 permutations (pygeoda, 1 thread)", median(perm_times), median(peers.get("pg1") or []), "pygeoda 1 thr")
    row("Gi* 999 permutations (pygeoda, default)", median(perm_times), median(peers.get("pg") or []), "pygeoda")

    print(f"\n== {n_points_scale:,} points, kNN(8) weights + analytic Gi* (fresh process) ==")
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", SCALE_SCRIPT, str(ROOT), str(n_points_scale)], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        print(done.stderr[-2000:])
    else:
        scale = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  weights {scale['weights_s']:.2f} s + Gi* {scale['gi_s']:.2f} s = {scale['total_s']:.2f} s; "
            f"peak memory {scale['peak_bytes'] / 2**30:.2f} GiB (goal: < 10 s, < 4 GiB)"
        )


if __name__ == "__main__":
    main()
