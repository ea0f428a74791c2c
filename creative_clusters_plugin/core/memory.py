"""Memory available to an analysis, and byte counts written for people.

Grids (density surfaces, resistance and cost-distance rasters) check their size against
:func:`available_memory` before allocating, so an officer gets a clear error with the size needed instead
of a frozen QGIS.
"""

from __future__ import annotations

import os


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``, else free physical pages), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_AVPHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: float) -> str:
    """``1536`` → ``"1.5 KB"`` (binary multiples, as file managers show them)."""
    n = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
