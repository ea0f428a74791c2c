"""Run esda (PySAL) in the reference venv as a subprocess and bring its results back.

esda, libpysal and numba live in ``.venv-ref`` (their own numpy/shapely), never in the QGIS python: arrays go
out and come back through ``.npz`` files in a temporary folder. Every helper skips the calling test
(``pytest.skip``) when the reference venv or esda is missing.

The weights are passed as a CSR matrix and turned into a libpysal ``W`` with ``W.from_sparse`` on the other
side, so a comparison tests the statistic, not two different neighbour definitions.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PYTHON = Path(os.environ.get("CREATIVE_CLUSTERS_REF_PYTHON", PROJECT_ROOT / ".venv-ref" / "bin" / "python"))

_SCRIPT = r"""
import sys, time, warnings
import numpy as np
from scipy import sparse
warnings.filterwarnings("ignore")
import esda
from libpysal.weights import W

def g_local(job):
    n, y, R, seed, repeat = job["n"], job["y"], job["permutations"], job["seed"], job["repeat"]
    times, out = [], {}
    for _ in range(repeat):
        w = W.from_sparse(job["matrix"].copy())
        start = time.perf_counter()
        g = esda.G_Local(y, w, transform="B", star=bool(job.get("star", 1)), permutations=R, seed=seed,
                         keep_simulations=False, n_jobs=1)
        times.append(time.perf_counter() - start)
    out["Zs"], out["Gs"] = g.Zs, g.Gs
    if R:
        out["p_sim"] = g.p_sim
    out["seconds"] = np.array(times)
    return out

def moran_local(job):
    n, y, R, seed, repeat = job["n"], job["y"], job["permutations"], job["seed"], job["repeat"]
    times, out = [], {}
    for _ in range(repeat):
        w = W.from_sparse(job["matrix"].copy())
        start = time.perf_counter()
        lm = esda.Moran_Local(y, w, transformation="r", permutations=R, seed=seed,
                              keep_simulations=False, n_jobs=1)
        times.append(time.perf_counter() - start)
    n1 = n - 1
    z = lm.z
    m2 = (z * z).sum() / n
    b2_esda = (z ** 4 / n) / m2 ** 2            # esda <= 2.7: fourth moment not summed (esda issue #390)
    b2 = (z ** 4).sum() / n / m2 ** 2            # Sokal et al. 1998 eq. A4: kurtosis of the whole sample
    ws = lm.w.sparse
    wi = np.asarray(ws.sum(axis=1)).ravel()
    wi2 = np.asarray(ws.multiply(ws).sum(axis=1)).ravel()
    # esda's own VI is linear in b2: move it from esda's b2 to the summed one
    VI = lm.VI + (b2 - b2_esda) * (-wi2 / n1 + 2 * (wi ** 2 - wi2) / (n1 * (n - 2)))
    out["Is"], out["EI"], out["VI_esda"], out["VI"], out["q"] = lm.Is, lm.EI, lm.VI, VI, lm.q
    # EI/VI are moments of Anselin's I (m2 = sum z^2 / n); Is uses sum z^2 / (n - 1)
    out["z"] = (lm.Is * n / n1 - lm.EI) / np.sqrt(VI)
    if R:
        out["p_sim"] = lm.p_sim
    out["seconds"] = np.array(times)
    return out

def fdr_bh(job):
    from scipy.stats import false_discovery_control
    return {"adjusted": false_discovery_control(job["y"], method="bh")}

args = dict(np.load(sys.argv[1], allow_pickle=False))
results = {}
for k in range(int(args["jobs"])):
    job = {key[len(f"j{k}_"):]: value for key, value in args.items() if key.startswith(f"j{k}_")}
    job["n"] = int(job["n"])
    job["permutations"] = int(job["permutations"])
    job["seed"] = int(job["seed"])
    job["repeat"] = int(job["repeat"])
    job["matrix"] = sparse.csr_matrix((job["data"], job["indices"], job["indptr"]), shape=(job["n"], job["n"]))
    kind = str(job["kind"])
    out = {"g_local": g_local, "moran_local": moran_local, "fdr_bh": fdr_bh}[kind](job)
    for key, value in out.items():
        results[f"j{k}_{key}"] = value
np.savez(sys.argv[2], **results)
"""


def reference_python() -> Path:
    """Path of the reference interpreter; skips the test when it or esda is missing."""
    if not REFERENCE_PYTHON.exists():
        pytest.skip(f"reference venv not found at {REFERENCE_PYTHON} (run `make refenv`)")
    check = subprocess.run(
        [str(REFERENCE_PYTHON), "-c", "import esda, libpysal"], capture_output=True, text=True, timeout=300
    )
    if check.returncode != 0:
        pytest.skip("esda/libpysal are not installed in the reference venv")
    return REFERENCE_PYTHON


def run_reference(jobs: list, timeout: int = 1800) -> list:
    """Run several reference jobs in one subprocess (esda is imported and JIT-compiled once).

    Each job is a dict: ``kind`` ("g_local", "moran_local" or "fdr_bh"), ``values``, ``matrix`` (n × n,
    not needed for "fdr_bh"), optional ``permutations``, ``seed``, ``repeat``. Returns one dict per job.
    """
    python = reference_python()
    payload = {"jobs": np.int64(len(jobs))}
    for k, job in enumerate(jobs):
        values = np.asarray(job["values"], dtype=np.float64)
        n = len(values)
        csr = sparse.csr_matrix(job["matrix"] if job.get("matrix") is not None else (n, n), dtype=np.float64)
        csr.sort_indices()
        payload.update(
            {
                f"j{k}_kind": np.array(job["kind"]),
                f"j{k}_n": np.int64(n),
                f"j{k}_y": values,
                f"j{k}_data": csr.data,
                f"j{k}_indices": csr.indices.astype(np.int64),
                f"j{k}_indptr": csr.indptr.astype(np.int64),
                f"j{k}_permutations": np.int64(job.get("permutations", 0)),
                f"j{k}_seed": np.int64(job.get("seed", 0)),
                f"j{k}_repeat": np.int64(job.get("repeat", 1)),
                f"j{k}_star": np.int64(job.get("star", True)),
            }
        )
    with tempfile.TemporaryDirectory(prefix="cc_esda_") as folder:
        src = Path(folder) / "in.npz"
        dst = Path(folder) / "out.npz"
        np.savez(src, **payload)
        done = subprocess.run(
            [str(python), "-c", _SCRIPT, str(src), str(dst)], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"esda reference failed:\n{done.stderr[-3000:]}")
        with np.load(dst) as result:
            out = [{} for _ in jobs]
            for key in result.files:
                k, name = key[1:].split("_", 1)
                out[int(k)][name] = result[key]
            return out


def esda_g_local(values, matrix, permutations: int = 0, seed: int = 0, repeat: int = 1) -> dict:
    """esda ``G_Local(star=True, transform="B")``: ``Zs``, ``Gs``, ``p_sim`` (folded), ``seconds``."""
    job = {"kind": "g_local", "values": values, "matrix": matrix, "permutations": permutations, "seed": seed}
    return run_reference([dict(job, repeat=repeat)])[0]


def esda_moran_local(values, matrix, permutations: int = 0, seed: int = 0, repeat: int = 1) -> dict:
    """esda ``Moran_Local`` (row-standardised): ``Is``, ``EI``, ``VI``, ``z``, ``q``, ``p_sim``, ``seconds``.

    ``VI`` is esda's variance with the kurtosis summed over the sample (esda ≤ 2.7 omits the sum, issue
    #390; ``VI_esda`` keeps esda's value) and ``z = (Is · n/(n−1) − EI) / sqrt(VI)`` puts ``Is`` on the scale
    of esda's moments, which are those of Anselin's I with ``m2 = Σz²/n``.
    """
    job = {"kind": "moran_local", "values": values, "matrix": matrix, "permutations": permutations, "seed": seed}
    return run_reference([dict(job, repeat=repeat)])[0]


def scipy_fdr_bh(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values from ``scipy.stats.false_discovery_control`` (scipy >= 1.11)."""
    return run_reference([{"kind": "fdr_bh", "values": p}])[0]["adjusted"]
