"""Benchmark: the corridor pipeline for 50 clusters on a 2,000 × 2,000 resistance raster, against
50 × one full scikit-image MCP_Geometric cost surface on the same raster (and GRASS r.cost when installed).

    /usr/bin/python3 benchmarks/bench_corridors.py [--quick] [--full] [--size 2000] [--clusters 50]

``--quick`` (for benchmarks/run_all.py, well under 60 s): 20 clusters on an 800 × 800 raster, 3 MCP surfaces.

Each measurement runs in its own subprocess so that its peak memory (max RSS) is its own. By default five
MCP_Geometric full surfaces are timed and the median is multiplied by the number of clusters (printed as
"extrapolated"); ``--full`` times all of them. The corridor pipeline is timed end to end (rasterising cores,
bounded surfaces, links, splitting, corridor surface and polygons, chains) with its defaults (4 neighbours,
width 10 % above the least cost). Goal: within 1.5 × the MCP total, memory under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL = 25.0


def make_inputs(size: int, n_clusters: int, seed: int = 7):
    """Smooth random resistance 1–10 with ~3 % nodata blobs, and clusters (discs of 100–400 m) on passable ground."""
    import numpy as np
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.normal(size=(size, size)), 20)
    field = (field - field.min()) / (field.max() - field.min())
    costs = 1.0 + 9.0 * field
    blobs = gaussian_filter(rng.normal(size=(size, size)), 8)
    costs[blobs > np.quantile(blobs, 0.97)] = np.nan
    centres, radii = [], []
    while len(centres) < n_clusters:
        r, c = rng.integers(50, size - 50, 2)
        if np.isfinite(costs[r, c]):
            centres.append((float(c * CELL + CELL / 2), float((size - r) * CELL - CELL / 2)))
            radii.append(float(rng.uniform(100, 400)))
    masses = rng.integers(20, 500, n_clusters).tolist()
    return costs, centres, radii, masses


def child(mode: str, size: int, n_clusters: int, repeats: int):
    """Run one measurement in this (child) process and print a JSON line."""
    import resource

    import numpy as np

    sys.path.insert(0, str(ROOT))
    costs, centres, radii, masses = make_inputs(size, n_clusters)
    result = {"mode": mode}
    if mode == "corridors":
        from shapely.geometry import Point

        from creative_clusters_plugin.core.surfaces.corridor_steps import detect_corridors
        from creative_clusters_plugin.core.surfaces.resistance import grid_from_bounds

        grid = grid_from_bounds((0, 0, size * CELL, size * CELL), CELL, "EPSG:27700")
        geoms = [Point(x, y).buffer(r) for (x, y), r in zip(centres, radii)]
        start = time.perf_counter()
        out = detect_corridors(geoms, masses, costs, grid)
        result["seconds"] = time.perf_counter() - start
        result["stats"] = {k: v for k, v in out.stats.items() if isinstance(v, (int, float, str))}
        result["links"] = len(out.links)
        result["corridors"] = len(out.corridors)
        result["corridor_cells"] = int(np.isfinite(out.surface).sum())
    elif mode == "mcp":
        from rasterio.features import rasterize
        from shapely.geometry import Point
        from skimage.graph import MCP_Geometric

        from creative_clusters_plugin.core.surfaces.resistance import grid_from_bounds

        grid = grid_from_bounds((0, 0, size * CELL, size * CELL), CELL, "EPSG:27700")
        cost = np.where(np.isnan(costs), np.inf, costs)
        times = []
        for i in range(repeats):
            mask = rasterize([(Point(*centres[i]).buffer(radii[i]), 1)], out_shape=grid.shape, transform=grid.transform)
            starts = list(zip(*np.nonzero(mask & np.isfinite(cost))))
            t0 = time.perf_counter()
            MCP_Geometric(cost, sampling=(CELL, CELL)).find_costs(starts)
            times.append(time.perf_counter() - t0)
        result["times"] = times
    result["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(result))


def run_child(mode, size, n_clusters, repeats=0):
    command = [sys.executable, __file__, "--child", mode, "--size", str(size), "--clusters", str(n_clusters), "--repeats", str(repeats)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    line = [x for x in completed.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def grass_rcost(size, n_clusters):
    """Time one GRASS r.cost surface (8 neighbours) from the first cluster's centre; None when GRASS is absent."""
    grass = shutil.which("grass")
    if grass is None:
        return None
    import numpy as np
    import rasterio
    from affine import Affine

    costs, centres, _, _ = make_inputs(size, n_clusters)
    folder = Path(tempfile.mkdtemp(prefix="bench_rcost_"))
    try:
        path = folder / "resistance.tif"
        with rasterio.open(path, "w", driver="GTiff", height=size, width=size, count=1, dtype="float64", nodata=-1.0,
                           transform=Affine(CELL, 0, 0, 0, -CELL, size * CELL), crs="EPSG:27700") as dataset:
            dataset.write(np.where(np.isnan(costs), -1.0, costs), 1)
        x, y = centres[0]
        script = folder / "run.sh"
        script.write_text(
            "set -e\n"
            f"r.in.gdal --quiet input={path} output=res\n"
            "g.region raster=res\n"
            "start=$(date +%s.%N)\n"
            f"r.cost --quiet input=res output=acc start_coordinates={x},{y} --overwrite\n"
            "end=$(date +%s.%N)\n"
            'echo "RCOST $start $end"\n'
        )
        completed = subprocess.run([grass, "--tmp-location", str(path), "--exec", "sh", str(script)],
                                   capture_output=True, text=True, timeout=900)
        lines = [x for x in (completed.stdout + completed.stderr).splitlines() if x.startswith("RCOST ")]
        if not lines:
            return {"error": (completed.stderr or completed.stdout)[-400:]}
        _, start, end = lines[-1].split()
        return {"seconds": float(end) - float(start)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=None, help="raster side in cells (default 2000; 800 with --quick)")
    parser.add_argument("--clusters", type=int, default=None, help="number of clusters (default 50; 20 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smaller case that runs in well under 60 s")
    parser.add_argument("--full", action="store_true", help="time every MCP surface instead of extrapolating from 5")
    parser.add_argument("--repeats", type=int, default=0)
    parser.add_argument("--child", choices=["corridors", "mcp"])
    args = parser.parse_args()
    if args.size is None:
        args.size = 800 if args.quick else 2000
    if args.clusters is None:
        args.clusters = 20 if args.quick else 50
    if args.child:
        child(args.child, args.size, args.clusters, args.repeats)
        return
    size, n = args.size, args.clusters
    print(f"Corridor benchmark: {n} clusters on a {size:,} × {size:,} resistance raster ({size * size / 1e6:.0f} M cells, {CELL:g} m)")
    ours = run_child("corridors", size, n)
    repeats = n if args.full else min(3 if args.quick else 5, n)
    mcp = run_child("mcp", size, n, repeats)
    per_surface = statistics.median(mcp["times"])
    mcp_total = per_surface * n if not args.full else sum(mcp["times"])
    label = "measured" if args.full else f"extrapolated from {repeats} surfaces × {n}"
    print(f"  creativeclusters corridors (whole pipeline): {ours['seconds']:8.1f} s   peak memory {ours['max_rss_bytes'] / 2**30:.2f} GB")
    print(f"    {ours['links']} links, {ours['corridors']} corridor chains, {ours['corridor_cells']:,} corridor cells; "
          f"{ours['stats']['dijkstra_runs']} bounded Dijkstra runs ({ours['stats']['surface_extensions']} extensions), "
          f"{ours['stats']['cells_settled']:,} cells settled (= {ours['stats']['cells_settled'] / (size * size):.1f} full surfaces)")
    print(f"  scikit-image MCP_Geometric, one full surface: median {per_surface:.2f} s (min {min(mcp['times']):.2f}, max {max(mcp['times']):.2f}); "
          f"peak memory {mcp['max_rss_bytes'] / 2**30:.2f} GB")
    print(f"  {n} × MCP_Geometric full surfaces ({label}): {mcp_total:8.1f} s")
    ratio = ours["seconds"] / mcp_total
    print(f"  ratio corridors / (n × MCP): {ratio:.2f}  (goal ≤ 1.5; memory goal < 4 GB: "
          f"{'met' if ours['max_rss_bytes'] < 4 * 2**30 else 'NOT met'})")
    rcost = grass_rcost(size, n)
    if rcost is None:
        print("  GRASS r.cost: not installed (skipped)")
    elif "error" in rcost:
        print(f"  GRASS r.cost: failed ({rcost['error']})")
    else:
        print(f"  GRASS r.cost, one full surface: {rcost['seconds']:.2f} s  (× {n} = {rcost['seconds'] * n:.0f} s; ratio corridors / that: "
              f"{ours['seconds'] / (rcost['seconds'] * n):.2f})")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
