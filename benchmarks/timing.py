"""Timing helper shared by the benchmarks (run as scripts: this folder is on ``sys.path``)."""

import time


def timed(fn, repeat):
    """``(times, result)``: wall-clock seconds of ``repeat`` calls of ``fn()`` and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result
