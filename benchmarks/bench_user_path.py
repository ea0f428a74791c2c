"""Benchmark of the user's path: ``qgis_process`` with a file in and a file out, against what a user would run
instead on the same input file in the same run (wall-time medians, ratios, peak memory).

Run: ``/usr/bin/python3 benchmarks/bench_user_path.py [--quick] [--only classify,microclusters] [--plugin-path DIR]``
(``--plugin-path``: the folder holding the built ``creative_clusters_plugin/``, default ``<repo>/build`` of
``make build``; ``--only``: any of floor, classify, flagstacks, hotspots, microclusters, geocode, density).

Input (built once into ``--cache``, default ``<repo>/.bench_cache/``, which git ignores): the South Yorkshire
Companies House register (75,740 firms, ``<repo>/../shared/data``; a small synthetic stand-in when that folder is
absent) tiled ``--n-tiles`` times (full: 14 = 1,060,360 firms, tiles 60 km × 45 km apart, CompanyNumber made unique,
all fields kept) as a GeoPackage, and the same rows without geometry as a Companies House-style CSV (postcodes
unchanged, so they geocode against Code-Point Open). ``--quick``: 2 tiles (151,480 firms), 1 repeat; full: 3 repeats.

Each command runs as a child process (``qgis_process.bin run <alg> -- KEY=VALUE ...`` with the plugin from
``--plugin-path`` in a throw-away QGIS profile); wall time and peak RSS (``/usr/bin/time -f %M``) are taken per run,
ours and the reference alternate, every output is deleted before each run. The plugin is byte-compiled first and
the children may write byte code, as in an installed QGIS (where Python compiles a plugin once, at its first
load): otherwise every run, ours and the reference alike (both load the plugin), would compile it again. Steps:

1. floor: ``ogr2ogr -f GPKG copy.gpkg <input>`` (of firms.gpkg, of the classified file, of the CSV), and
   ``qgis_process help`` (QGIS's start-up, no data) for scale.
2. classifyfirms firms.gpkg → gpkg, vs the floor (≤ 2×, ≤ 1 GiB).
3. flagstacks, 4. hotspots (Gi*, kNN 8 on cc_creative, FDR) on the classified file (step 2's output, cached;
   made untimed when missing), vs the floor of that file (≤ 2×).
5. microclusters (DBSCAN, EPS 250, MIN_FIRMS 10, all firms) vs the floor (≤ 2×) and vs QGIS
   ``native:dbscanclustering`` on the same file (≤ 0.5×).
6. geocodepostcodes on the CSV with Code-Point Open vs ``ogr2ogr`` CSV → gpkg (≤ 2×, ≤ 1 GiB) and vs a user's
   pandas script (read_csv of both + merge, nothing written; reported, no target). ``--geocode-5m``: a 5.5 M-row
   CSV (73 tiles), peak ≤ 1.5 GiB.
7. density (quartic, 2 km, 250 m pixels, points per km²) vs ``qgis:heatmapkerneldensityestimation`` (quartic,
   scaled; ≥ 3× faster), plus the largest cell difference once QGIS's values are divided by 3.22's quartic
   constant 7.25 (see bench_kde.py) and put in points per km²; the two default grids are not cell-aligned, so ours
   is then re-run (untimed) with TEMPLATE = QGIS's raster for the comparison.

Printed: a Markdown table (MB = MiB; also ``<cache>/user_path_results.json`` with every run), the cluster and
geocoded counts of ours and the reference, and the feature count of every output. A failing step is reported
(exit code, last output lines) and the others still run; the exit code is the number of failed rows.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QGIS = "/usr/bin/qgis_process.bin"
SOURCE_NAME = "firms/companies_house_2024-11_south_yorkshire_points.gpkg"
CODEPOINT_NAME = "postcodes/os_codepoint_open_2025_04_codepo_gb.zip"
FIELDS = ["CompanyName", "CompanyNumber", "Postcode", "RegAddress.PostTown", "CompanyCategory", "CompanyStatus",
          "CountryOfOrigin", "IncorporationDate", "SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3",
          "SICCode.SicText_4", "URI", "localauthority_code", "localauthority_name"]
QUARTIC_322 = 7.25  # QGIS 3.22's scaled quartic heatmap integrates to 7.25 n (bench_kde.py)
STEPS = ["floor", "classify", "flagstacks", "hotspots", "microclusters", "geocode", "density"]
GIB = 1024.0


# ------------------------------------------------------------------------------------------------ inputs
def synthetic_source(folder: Path, n=75_740, seed=3):
    """A stand-in for the real data: firms at the centroids of generated S-area postcodes around 30 towns of a South
    Yorkshire-sized region, 6 % piled on 20 'formation agent' postcodes, plausible SIC texts; plus a
    Postcode,Eastings,Northings lookup CSV."""
    import numpy as np
    import pandas as pd

    gpkg, lookup = folder / "synthetic_firms.gpkg", folder / "synthetic_postcodes.csv"
    if gpkg.exists() and lookup.exists():
        return gpkg, lookup
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    letters = list("ABDEFGHJLNPQRSTUWXYZ")
    codes = np.array(sorted({f"S{rng.integers(1, 99)} {rng.integers(10)}{rng.choice(letters)}{rng.choice(letters)}"
                             for _ in range(20_000)}))
    towns = rng.uniform([420_000, 382_000], [468_000, 414_000], (30, 2))
    xy = np.round(towns[rng.integers(0, 30, len(codes))] + rng.normal(0, 1500, (len(codes), 2)))
    pd.DataFrame({"Postcode": codes, "Eastings": xy[:, 0], "Northings": xy[:, 1]}).to_csv(lookup, index=False)
    pick = rng.integers(0, len(codes), n)
    stacked = rng.random(n) < 0.06
    pick[stacked] = rng.integers(0, len(codes), 20)[np.minimum(rng.zipf(1.5, stacked.sum()), 20) - 1]
    sic = np.array(["59111 - Motion picture production activities", "62012 - Business and domestic software "
                    "development", "73110 - Advertising agencies", "90030 - Artistic creation", "68209 - Other letting"
                    " and operating of own or leased real estate", "96020 - Hairdressing and other beauty treatment",
                    "41100 - Development of building projects", "99999 - Dormant Company", ""])
    weights = np.array([2, 4, 1, 2, 12, 6, 8, 3])
    sics = rng.choice(len(weights), (n, 2), p=weights / weights.sum())
    sics[rng.random(n) < 0.7, 1] = len(sic) - 1  # most firms give one SIC code
    numbers = [f"{i:08d}" for i in range(n)]
    dates = [f"{d:02d}/{m:02d}/{y}" for d, m, y in zip(rng.integers(1, 29, n), rng.integers(1, 13, n),
                                                      rng.integers(1990, 2025, n))]
    frame = pd.DataFrame({"CompanyName": [f"FIRM {i} LTD" for i in range(n)], "CompanyNumber": numbers,
                          "Postcode": codes[pick], "RegAddress.PostTown": "SHEFFIELD",
                          "CompanyCategory": "Private Limited Company", "CompanyStatus": "Active",
                          "CountryOfOrigin": "United Kingdom", "IncorporationDate": dates,
                          "SICCode.SicText_1": sic[sics[:, 0]], "SICCode.SicText_2": sic[sics[:, 1]],
                          "SICCode.SicText_3": "", "SICCode.SicText_4": "",
                          "URI": [f"http://business.data.gov.uk/id/company/{c}" for c in numbers],
                          "localauthority_code": "E08000019", "localauthority_name": "Sheffield",
                          "X": xy[pick, 0], "Y": xy[pick, 1]})
    frame.to_csv(folder / "synthetic_firms.csv", index=False)
    options = ["X_POSSIBLE_NAMES=X", "Y_POSSIBLE_NAMES=Y", "KEEP_GEOM_COLUMNS=NO", "EMPTY_STRING_AS_NULL=YES"]
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-nln", "companies", "-a_srs", "EPSG:27700", str(gpkg),
                    str(folder / "synthetic_firms.csv")] + [a for o in options for a in ("-oo", o)], check=True)
    return gpkg, lookup


def tiled_gpkg(source: Path, n_tiles: int, path: Path):
    """The register tiled n_tiles times (4 tiles per row, 60 km × 45 km apart), CompanyNumber unique per copy."""
    if path.exists():
        return path
    part = path.with_suffix(".part.gpkg")
    part.unlink(missing_ok=True)
    for k in range(n_tiles):
        dx, dy = 60_000 * (k % 4), 45_000 * (k // 4)
        number = f"'T{k}-' || \"CompanyNumber\" AS \"CompanyNumber\"" if k else '"CompanyNumber"'
        cols = ", ".join(number if f == "CompanyNumber" else f'"{f}"' for f in FIELDS)
        sql = f"SELECT ST_Translate(geom, {dx}, {dy}, 0) AS geom, {cols} FROM companies"
        subprocess.run(["ogr2ogr", "-f", "GPKG", *(["-append"] if k else []), "-nln", "companies", "-gt", "65536",
                        part, source, "-dialect", "SQLite", "-sql", sql], check=True, stderr=subprocess.DEVNULL)
    part.rename(path)
    return path


def tiled_csv(source: Path, n_tiles: int, path: Path, cache: Path):
    """A Companies House-style CSV (no geometry) of the register's rows repeated n_tiles times."""
    import pandas as pd

    if path.exists():
        return path
    base_csv = cache / "register_rows.csv"
    if not base_csv.exists():
        subprocess.run(["ogr2ogr", "-f", "CSV", str(base_csv), str(source)], check=True, stderr=subprocess.DEVNULL)
    base = pd.read_csv(base_csv, dtype=str, keep_default_na=False)[FIELDS]
    part = path.with_suffix(".part.csv")
    for k in range(n_tiles):
        tile = base.assign(CompanyNumber=base["CompanyNumber"] if k == 0 else f"T{k}-" + base["CompanyNumber"])
        tile.to_csv(part, mode="w" if k == 0 else "a", header=k == 0, index=False)
    part.rename(path)
    return path


# ------------------------------------------------------------------------------------------------ running
def run_measured(cmd, env, logs: Path, timeout: float):
    """Run one child; ``dict(ok, wall, peak_mb, rc, tail)``: wall seconds and peak RSS (MiB).

    The peak comes from GNU time's %M: wait4's ru_maxrss of a child of this process would include this (large)
    Python image, which Linux carries over the fork and the exec; time's own image is ~1 MB."""
    out_path, err_path, time_path = (logs.with_suffix(s) for s in (".out", ".err", ".time"))
    wrapper = ["/usr/bin/time", "-f", "%M", "-o", str(time_path)] if os.path.exists("/usr/bin/time") else []
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(wrapper + [str(c) for c in cmd], stdout=out, stderr=err, env=env,
                                start_new_session=True)
        timer = threading.Timer(timeout, lambda: subprocess.run(["kill", "-KILL", f"-{proc.pid}"]))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_kib = usage.ru_maxrss  # fallback without /usr/bin/time: an upper bound (see above)
    if wrapper and time_path.exists():
        numbers = [line for line in time_path.read_text().split() if line.isdigit()]
        peak_kib = int(numbers[-1]) if numbers else peak_kib
    tail = []
    if proc.returncode != 0:
        for p in (err_path, out_path):
            lines = [line for line in p.read_text(errors="replace").splitlines() if line.strip("- \t")
                     and "setapi()" not in line and "XDG_RUNTIME_DIR" not in line]
            tail += [f"[{p.suffix[1:]}] {line}" for line in lines[-8:]]
    return {"ok": proc.returncode == 0, "wall": wall, "peak_mb": peak_kib / 1024.0, "rc": proc.returncode,
            "tail": tail}


class Bench:
    def __init__(self, args, env, work: Path):
        self.args, self.env, self.work = args, env, work
        self.measured = {}  # name → {"label", "walls", "peaks", "error"}

    def qgis(self, alg, **params):
        return [QGIS, "run", alg, "--"] + [f"{k}={v}" for k, v in params.items()]

    def measure(self, entries, repeats=None):
        """entries: [(name, label, cmd, outputs)] run in turn ``repeats`` times; an entry that fails is not re-run."""
        repeats = repeats or self.args.repeat
        for name, label, _, _ in entries:
            self.measured.setdefault(name, {"label": label, "walls": [], "peaks": [], "error": None})
        for i in range(repeats):
            for name, label, cmd, outputs in entries:
                record = self.measured[name]
                if record["error"]:
                    continue
                for output in outputs:
                    remove(output)
                print(f"  {name} run {i + 1}/{repeats} …", end=" ", flush=True)
                result = run_measured(cmd, self.env, self.work / f"{name}_{i}", self.args.timeout)
                missing = [str(o) for o in outputs if not Path(o).exists()]
                if result["ok"] and missing:
                    result["ok"], result["tail"] = False, [f"exit 0 but no output: {', '.join(missing)}"]
                if not result["ok"]:
                    record["error"] = (f"exit {result['rc']} after {result['wall']:.1f} s, peak {result['peak_mb']:.0f}"
                                       f" MiB; " + " | ".join(result["tail"]))
                    print(f"FAILED (exit {result['rc']})\n    " + "\n    ".join(result["tail"]), flush=True)
                    continue
                record["last_out"] = str(self.work / f"{name}_{i}.out")
                record["features"] = {Path(o).name: feature_count(o) for o in outputs if str(o).endswith(".gpkg")}
                record["walls"].append(result["wall"])
                record["peaks"].append(result["peak_mb"])
                print(f"{result['wall']:.2f} s, {result['peak_mb']:.0f} MiB", flush=True)
        return [self.measured[e[0]] for e in entries]

    def floor(self, name, src: Path):
        """ogr2ogr copy of ``src`` to a GeoPackage (measured once per run, reused as the reference)."""
        if name not in self.measured:
            copy = self.work / f"{name}_copy.gpkg"
            print(f"[{name}] ogr2ogr -f GPKG copy.gpkg {src.name}")
            self.measure([(name, f"ogr2ogr {src.suffix[1:]}→gpkg", ["ogr2ogr", "-f", "GPKG", copy, src], [copy])])
        return self.measured[name]


def remove(path):
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.aux.xml")):
        p.unlink(missing_ok=True)


def last_value(record, key):
    """``KEY:<tab>value`` from the last successful run's stdout (key None: its last line)."""
    path = record.get("last_out") if record else None
    if not path or not Path(path).exists():
        return None
    lines = Path(path).read_text(errors="replace").splitlines()
    if key is None:
        return lines[-1].strip() if lines else None
    values = [line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{key}:")]
    return values[-1] if values else None


def feature_count(path):
    from osgeo import ogr

    ds = ogr.Open(str(path)) if Path(path).exists() else None
    return ds.GetLayer(0).GetFeatureCount() if ds else None


def median(record):
    return statistics.median(record["walls"]) if record and record["walls"] else None


def row(step, ours, ref, target_ratio=None, target_peak=None, target_label=None, error=None):
    """A table row comparing two measured records (ratio = ours / reference)."""
    ours_wall, ref_wall = median(ours), median(ref)
    ours_peak = max(ours["peaks"]) if ours and ours["peaks"] else None
    ref_peak = max(ref["peaks"]) if ref and ref["peaks"] else None
    ratio = ours_wall / ref_wall if ours_wall and ref_wall else None
    targets, met = [], None
    if target_ratio is not None:
        targets.append(target_label or f"≤ {target_ratio:g}×")
        met = ratio is not None and ratio <= target_ratio
    if target_peak is not None:
        targets.append(f"≤ {target_peak / GIB:g} GiB")
        met = (met is not False) and ours_peak is not None and ours_peak <= target_peak
    error = error or (ours or {}).get("error") or (ref or {}).get("error")
    return {"step": step, "ours": ours["label"] if ours else None, "ours_wall": ours_wall, "ours_peak_mb": ours_peak,
            "ours_runs": ours["walls"] if ours else [], "reference": ref["label"] if ref else None,
            "ref_wall": ref_wall, "ref_peak_mb": ref_peak, "ref_runs": ref["walls"] if ref else [], "ratio": ratio,
            "target": ", ".join(targets) or "—", "met": met, "error": error}


def density_difference(ours_tif: Path, qgis_tif: Path) -> dict:
    """Largest |ours − QGIS / 7.25 × 1e6| (points per km²) cell by cell where the grids overlap; when the cells
    are not aligned (origins a fraction of a pixel apart) nothing is compared (``aligned`` False)."""
    import numpy as np
    import rasterio

    with rasterio.open(ours_tif) as a, rasterio.open(qgis_tif) as b:
        ours, theirs = a.read(1, masked=True).filled(0.0), b.read(1, masked=True).filled(0.0)
        ta, tb = a.transform, b.transform
    theirs = theirs.astype(float) / QUARTIC_322 * 1e6  # QGIS: 7.25 × points per m² → points per km²
    grids = (f"ours {ours.shape[0]}×{ours.shape[1]} cells from ({ta.c:.0f}, {ta.f:.0f}), QGIS "
             f"{theirs.shape[0]}×{theirs.shape[1]} from ({tb.c:.0f}, {tb.f:.0f})")
    if abs(ta.a - tb.a) > 1e-9 or abs(ta.e - tb.e) > 1e-9:
        return {"aligned": False, "note": f"pixel sizes differ ({ta.a:g} vs {tb.a:g}); {grids}"}
    col_off, row_off = (ta.c - tb.c) / tb.a, (ta.f - tb.f) / tb.e  # ours' origin in QGIS's pixels
    if abs(col_off - round(col_off)) > 1e-6 or abs(row_off - round(row_off)) > 1e-6:
        return {"aligned": False, "note": f"cells not aligned (ours offset by {col_off:.3f}, {row_off:.3f} QGIS "
                                          f"pixels): {grids}"}
    c0, r0 = round(col_off), round(row_off)
    same = ours.shape == theirs.shape and (c0, r0) == (0, 0)
    rows = slice(max(0, -r0), min(ours.shape[0], theirs.shape[0] - r0))
    cols = slice(max(0, -c0), min(ours.shape[1], theirs.shape[1] - c0))
    a_part = ours[rows, cols]
    b_part = theirs[rows.start + r0:rows.stop + r0, cols.start + c0:cols.stop + c0]
    diff = np.abs(a_part - b_part)
    if not diff.size:
        return {"aligned": True, "note": f"no overlap: {grids}"}
    at = np.unravel_index(diff.argmax(), diff.shape)
    km2 = abs(ta.a * ta.e) / 1e6
    return {"aligned": True, "max_abs_diff_per_km2": float(diff.max()), "there_ours_qgis": [float(a_part[at]),
            float(b_part[at])], "max_density_per_km2": float(max(a_part.max(), b_part.max())),
            "cells_compared": int(diff.size), "total_ours": float(ours.sum() * km2),
            "total_qgis_over_7.25": float(theirs.sum() * km2),
            "note": "same grid" if same else f"grids differ, compared on the overlap: {grids}"}


PANDAS_SCRIPT = """
import sys, zipfile, pandas as pd
csv, lookup = sys.argv[1], sys.argv[2]
firms = pd.read_csv(csv, dtype=str)
if lookup.endswith(".zip"):
    with zipfile.ZipFile(lookup) as z:
        names = [n for n in z.namelist() if n.startswith("Data/CSV/") and n.endswith(".csv")]
        cp = pd.concat([pd.read_csv(z.open(n), header=None, usecols=[0, 2, 3], dtype={0: str}) for n in names])
    cp.columns = ["Postcode", "Eastings", "Northings"]
else:
    cp = pd.read_csv(lookup, dtype={"Postcode": str})
key = lambda s: s.str.replace(" ", "", regex=False).str.upper()
firms["pc_key"] = key(firms["Postcode"])
cp["pc_key"] = key(cp["Postcode"])
out = firms.merge(cp[["pc_key", "Eastings", "Northings"]], on="pc_key", how="left")
print(len(out), int(out["Eastings"].notna().sum()))
"""


# ------------------------------------------------------------------------------------------------ steps
DENSITY = {"BANDWIDTH": 2000, "PIXEL_SIZE": 250, "KERNEL": 0, "OUTPUT_VALUES": 0}  # quartic, points per km²


def run_steps(steps, bench: Bench, inputs: dict, rows: list, notes: dict):
    work, q, firms = bench.work, bench.qgis, inputs["firms"]
    for step in steps:
        print(f"\n== {step}", flush=True)
        if step == "floor":
            rows.append(row("1 floor: ogr2ogr copy (firms.gpkg)", bench.floor("floor", firms), None))
            startup, = bench.measure([("qgis_startup", "qgis_process help",
                                       [QGIS, "help", "creativeclusters:classifyfirms"], [])])
            rows.append(row("1b qgis_process start-up (help, no data)", startup, None))
        elif step == "classify":
            out = work / "classified.gpkg"
            floor = bench.floor("floor", firms)
            ours, = bench.measure([("classify", "classifyfirms",
                                    q("creativeclusters:classifyfirms", INPUT=firms, OUTPUT=out), [out])])
            if not ours["error"]:
                shutil.copy(out, inputs["classified"])
            rows.append(row("2 classifyfirms", ours, floor, 2, GIB))
        elif step in ("flagstacks", "hotspots", "microclusters"):
            cls = classified_input(bench, inputs)
            if cls is None:
                rows.append(row(step, None, None, error="skipped: no classified input (classifyfirms failed)"))
                continue
            floor = bench.floor("floor_classified", cls)
            if step == "flagstacks":
                out, addresses = work / "stacks.gpkg", work / "addresses.gpkg"
                ours, = bench.measure([("flagstacks", "flagstacks", q("creativeclusters:flagstacks", INPUT=cls,
                                        OUTPUT=out, OUTPUT_ADDRESSES=addresses), [out, addresses])])
                rows.append(row("3 flagstacks", ours, floor, 2))
            elif step == "hotspots":
                out = work / "hotspots.gpkg"
                ours, = bench.measure([("hotspots", "hotspots kNN 8", q(
                    "creativeclusters:hotspots", INPUT=cls, FIELD="cc_creative", WEIGHTS=3, K=8, FDR="true",
                    OUTPUT=out), [out])])
                rows.append(row("4 hotspots (Gi*, kNN 8, FDR)", ours, floor, 2))
            else:
                points, clusters, native = (work / f"{n}.gpkg" for n in ("micro_points", "micro_clusters", "dbscan"))
                ours, ref = bench.measure([
                    ("microclusters", "microclusters DBSCAN", q(
                        "creativeclusters:microclusters", INPUT=cls, FILTER=2, METHOD=0, EPS=250, MIN_FIRMS=10,
                        STACKS=0, OUTPUT_POINTS=points, OUTPUT_CLUSTERS=clusters), [points, clusters]),
                    ("native_dbscan", "native:dbscanclustering", q(
                        "native:dbscanclustering", INPUT=cls, EPS=250, MIN_SIZE=10, OUTPUT=native), [native])])
                rows.append(row("5 microclusters", ours, floor, 2))
                rows.append(row("5 microclusters", ours, ref, 0.5))
                notes["dbscan_clusters"] = {"ours": feature_count(clusters), "native": last_value(ref, "NUM_CLUSTERS")}
        elif step == "geocode":
            for name, csv in [(n, inputs[c]) for n, c in (("geocode", "csv"), ("geocode_5m", "csv_5m")) if c in inputs]:
                out, unmatched = work / "geocoded.gpkg", work / "unmatched.gpkg"
                floor = bench.floor(f"floor_{name}_csv", csv)
                entries = [(name, "geocodepostcodes", q(
                    "creativeclusters:geocodepostcodes", INPUT=csv, POSTCODE_FIELD="Postcode", LOOKUP=inputs["lookup"],
                    OUTPUT=out, OUTPUT_UNMATCHED=unmatched), [out, unmatched])]
                if name == "geocode":
                    entries.append(("pandas_merge", "pandas read_csv+merge (no write)",
                                    [sys.executable, "-c", PANDAS_SCRIPT, csv, inputs["lookup"]], []))
                    ours, pandas = bench.measure(entries)
                    rows.append(row("6 geocodepostcodes", ours, floor, 2, GIB))
                    rows.append(row("6 geocodepostcodes", ours, pandas))
                    notes["geocode_matched"] = {"ours": last_value(ours, "MATCHED_COUNT"),
                                                "pandas": (last_value(pandas, None) or " ").split()[-1]}
                else:
                    ours, = bench.measure(entries, repeats=1)
                    rows.append(row("6b geocodepostcodes 5.5 M rows", ours, floor, None, 1.5 * GIB))
        elif step == "density":
            ours_tif, qgis_tif = work / "density.tif", work / "heatmap.tif"
            ours, ref = bench.measure([
                ("density", "density quartic 2 km", q("creativeclusters:density", INPUT=firms, **DENSITY,
                                                      OUTPUT=ours_tif), [ours_tif]),
                ("heatmap", "qgis:heatmapkerneldensityestimation", q(
                    "qgis:heatmapkerneldensityestimation", INPUT=firms, RADIUS=2000, PIXEL_SIZE=250, KERNEL=0,
                    OUTPUT_VALUE=1, OUTPUT=qgis_tif), [qgis_tif])])
            rows.append(row("7 density vs QGIS heatmap", ours, ref, 1 / 3, target_label="≥ 3× faster"))
            if ours_tif.exists() and qgis_tif.exists():
                notes["density_difference"] = compare_density(bench, firms, ours_tif, qgis_tif)


def classified_input(bench: Bench, inputs: dict):
    """The classified firms for steps 3-5 (cc_ fields): the cached classify output, else made now (untimed)."""
    cached, out = inputs["classified"], bench.work / "cls.gpkg"
    if not cached.exists() and bench.measured.get("classify", {}).get("error"):
        return None  # it has just failed: not again
    if not cached.exists():
        print("[classified input] running classifyfirms once (untimed)")
        result = run_measured(bench.qgis("creativeclusters:classifyfirms", INPUT=inputs["firms"], OUTPUT=out),
                              bench.env, bench.work / "classify_setup", bench.args.timeout)
        if not result["ok"] or not out.exists():
            print("  classifyfirms failed:\n    " + "\n    ".join(result["tail"]))
            return None
        shutil.copy(out, cached)
    return cached


# ------------------------------------------------------------------------------------------------ main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 tiles (~150 k firms), 1 repeat")
    parser.add_argument("--n-tiles", type=int, help="copies of the 75,740-firm register (default 14; quick 2)")
    parser.add_argument("--repeat", type=int, help="runs per command (default 3; quick 1)")
    parser.add_argument("--only", help=f"comma-separated steps: {','.join(STEPS)}")
    parser.add_argument("--plugin-path", type=Path, default=ROOT / "build", help="holds creative_clusters_plugin/")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench_cache")
    parser.add_argument("--geocode-5m", action="store_true", help="also geocode a 5.5 M-row CSV (peak ≤ 1.5 GiB)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a child is killed")
    args = parser.parse_args(argv)
    args.n_tiles = args.n_tiles or (2 if args.quick else 14)
    args.repeat = args.repeat or (1 if args.quick else 3)
    only = set(STEPS if not args.only else [s.strip() for s in args.only.split(",")])
    if only - set(STEPS):
        parser.error(f"unknown steps {sorted(only - set(STEPS))}; choose from {STEPS}")
    steps = [s for s in STEPS if s in only]
    if not (args.plugin_path / "creative_clusters_plugin" / "metadata.txt").exists():
        parser.error(f"no plugin in {args.plugin_path}/creative_clusters_plugin: run make build or pass --plugin-path")

    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    (cache / ".gitignore").write_text("*\n")  # keeps the cache out of git
    source, lookup = args.data_dir / SOURCE_NAME, args.data_dir / CODEPOINT_NAME
    t = time.perf_counter()
    if not (source.exists() and lookup.exists()):
        print(f"{args.data_dir} has no real data: using a synthetic register and postcode lookup.")
        source, lookup = synthetic_source(cache / "synthetic")
    tag = f"{'synthetic' if 'synthetic' in source.name else 'real'}_t{args.n_tiles}"
    inputs = {"firms": tiled_gpkg(source, args.n_tiles, cache / f"firms_{tag}.gpkg"), "lookup": lookup,
              "classified": cache / f"classified_{tag}.gpkg"}
    if "geocode" in steps:
        inputs["csv"] = tiled_csv(source, args.n_tiles, cache / f"firms_{tag}.csv", cache)
        if args.geocode_5m:
            inputs["csv_5m"] = tiled_csv(source, 73, cache / f"firms_{tag.split('_')[0]}_t73.csv", cache)
    n_firms = feature_count(inputs["firms"])
    print(f"Inputs ready in {time.perf_counter() - t:.0f} s: {inputs['firms'].name} ({n_firms:,} firms), "
          f"{args.repeat} repeat(s), plugin from {args.plugin_path}.")

    work = cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    env = dict(os.environ, QGIS_PLUGINPATH=str(args.plugin_path.resolve()), QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=tempfile.mkdtemp(prefix="bench_user_path_qgis_"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: the plugin is compiled once, not at every start
    compileall.compile_dir(str(args.plugin_path / "creative_clusters_plugin"), quiet=1)
    enabled = run_measured([QGIS, "plugins", "enable", "creative_clusters_plugin"], env, work / "enable", 300)
    if not enabled["ok"]:
        print("Enabling the plugin failed:\n  " + "\n  ".join(enabled["tail"]))
    bench, rows, notes = Bench(args, env, work), [], {}
    run_steps(steps, bench, inputs, rows, notes)
    shutil.rmtree(env["QGIS_CUSTOM_CONFIG_PATH"], ignore_errors=True)

    notes["output_features"] = {n: r["features"] for n, r in bench.measured.items() if r.get("features")}
    print_table(rows, notes, args, n_firms)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "input": inputs["firms"].name, "n_firms": n_firms,
               "repeats": args.repeat, "plugin_path": str(args.plugin_path), "rows": rows, "notes": notes,
               "runs": bench.measured}
    (cache / "user_path_results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"\nJSON: {cache / 'user_path_results.json'}")
    return sum(1 for r in rows if r["error"])


def compare_density(bench, firms, ours_tif, qgis_tif) -> dict:
    """Cell-by-cell comparison; when the default grids are not aligned, ours is re-run (untimed) with
    TEMPLATE = QGIS's raster so that both are on one grid."""
    try:
        diff = density_difference(ours_tif, qgis_tif)
        if diff["aligned"]:
            return diff
        on_grid = bench.work / "density_on_qgis_grid.tif"
        print("  density: default grids not aligned; re-running ours (untimed) with TEMPLATE=QGIS's raster")
        result = run_measured(bench.qgis("creativeclusters:density", INPUT=firms, **DENSITY, TEMPLATE=qgis_tif,
                                         OUTPUT=on_grid),
                              bench.env, bench.work / "density_template", bench.args.timeout)
        if not result["ok"] or not on_grid.exists():
            return {**diff, "note": diff["note"] + f"; re-run on QGIS's grid failed (exit {result['rc']})"}
        again = density_difference(on_grid, qgis_tif)
        return {**again, "note": f"default {diff['note']}; compared ours re-run with TEMPLATE=QGIS's raster: "
                                 f"{again['note']}"}
    except Exception as error:  # a malformed raster is a finding, not a crash
        return {"note": f"comparison failed: {error!r}"}


def print_table(rows, notes, args, n_firms):
    def num(value, fmt, unit=""):
        return "—" if value is None else format(value, fmt) + unit

    print(f"\n### User path: {n_firms:,} firms ({args.n_tiles} tiles), median of {args.repeat} run(s); "
          "peak = max RSS (MiB) of the child\n")
    print("| step | ours wall (median) | ours peak MB | reference | ref wall | ref peak MB | ratio | target | met? |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        met = "FAILED" if r["error"] else {True: "yes", False: "**no**", None: "—"}[r["met"]]
        print(f"| {r['step']} | {num(r['ours_wall'], '.2f', ' s')} | {num(r['ours_peak_mb'], '.0f')} | "
              f"{r['reference'] or '—'} | {num(r['ref_wall'], '.2f', ' s')} | {num(r['ref_peak_mb'], '.0f')} | "
              f"{num(r['ratio'], '.2f', '×')} | {r['target']} | {met} |")
    for error in dict.fromkeys(r["error"] for r in rows if r["error"]):
        print(f"\n{next(r['step'] for r in rows if r['error'] == error)}: {error}")
    for key, value in notes.items():
        if key != "density_difference":
            print(f"\n{key}: " + "; ".join(f"{k} {v}" for k, v in value.items()))
    diff = notes.get("density_difference")
    if diff:
        there = diff.get("there_ours_qgis") or [None, None]
        print(f"\nDensity, ours vs QGIS heatmap / {QUARTIC_322} × 1e6 (points per km²): max |difference| "
              f"{num(diff.get('max_abs_diff_per_km2'), '.4g')} (there ours {num(there[0], '.4g')}, QGIS "
              f"{num(there[1], '.4g')}; largest value {num(diff.get('max_density_per_km2'), '.4g')}; "
              f"{diff.get('cells_compared', 0):,} cells; integrals ours {num(diff.get('total_ours'), ',.1f')}, "
              f"QGIS/7.25 {num(diff.get('total_qgis_over_7.25'), ',.1f')} points); {diff['note']}")


if __name__ == "__main__":
    sys.exit(main())
