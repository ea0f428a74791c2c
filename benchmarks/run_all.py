"""Run every Creative Clusters benchmark in turn and print each one's report (medians and ratios).

``make bench`` calls this. ``--quick`` passes ``--quick`` to each benchmark (a smoke run, a few minutes in
all); without it the full sizes named in the issues run (tens of minutes). A benchmark that fails is
reported and the others still run; the exit code is the number of failures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("names", nargs="*", help="benchmarks to run (e.g. hotspots dbscan); default all")
    args = parser.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    failures = []
    for script in scripts:
        command = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"\n{'=' * 100}\n{script.name}  ({' '.join(command[1:])})\n{'=' * 100}", flush=True)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=HERE.parent)
        print(f"--- {script.name}: exit {result.returncode} after {time.perf_counter() - start:.0f} s", flush=True)
        if result.returncode != 0:
            failures.append(script.name)
    print("\nAll benchmarks done." if not failures else f"\nFailed: {', '.join(failures)}")
    return len(failures)


if __name__ == "__main__":
    sys.exit(main())
