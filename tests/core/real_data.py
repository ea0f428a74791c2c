"""Real polygons for the statistics tests: South Yorkshire MSOAs with Companies House firm counts.

Read from ``../shared/data`` (never copied into the project): the 172 MSOA 2011 polygons of Sheffield,
Barnsley, Doncaster and Rotherham, projected to EPSG:27700, and the number of live companies whose
registered-office point falls in each (spatial join). Cached for the session.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SY_DISTRICTS = ("Sheffield", "Barnsley", "Doncaster", "Rotherham")


@functools.lru_cache(maxsize=2)
def south_yorkshire_msoas(shared_data: Path):
    """``(geodataframe, firm_counts)``: MSOA polygons (EPSG:27700) and firms per MSOA (float array)."""
    import geopandas as gpd

    msoa = gpd.read_file(Path(shared_data) / "boundaries" / "msoa2011_ew_vsimple.gpkg")
    pattern = r"^(" + "|".join(SY_DISTRICTS) + r") "
    msoa = msoa[msoa["msoa11nm"].str.match(pattern)].to_crs(27700).reset_index(drop=True)
    msoa["geometry"] = msoa.geometry.buffer(0)
    x, y = firm_points(firms_gpkg(shared_data))
    counts = np.zeros(len(msoa))
    for k, polygon in enumerate(msoa.geometry):
        minx, miny, maxx, maxy = polygon.bounds
        near = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        counts[k] = np.count_nonzero(_contains_xy(polygon, x[near], y[near]))
    return msoa, counts


def _contains_xy(polygon, x, y):
    try:
        import shapely

        return shapely.contains_xy(polygon, x, y)  # shapely >= 2
    except AttributeError:
        from shapely import vectorized

        return vectorized.contains(polygon, x, y)


@functools.lru_cache(maxsize=2)
def firm_points(path: Path):
    """x, y (EPSG:27700) of the Companies House points, read straight from the GeoPackage with sqlite."""
    import sqlite3
    import struct

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        blobs = [row[0] for row in connection.execute("SELECT geom FROM companies WHERE geom IS NOT NULL")]
    envelope_bytes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    xy = np.empty((len(blobs), 2))
    for k, blob in enumerate(blobs):
        offset = 8 + envelope_bytes[(blob[3] >> 1) & 7]  # GeoPackage binary header, then WKB
        order = "<" if blob[offset] == 1 else ">"
        xy[k] = struct.unpack_from(order + "dd", blob, offset + 5)
    return xy[:, 0], xy[:, 1]


def firms_gpkg(shared_data: Path) -> Path:
    return Path(shared_data) / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"


def require_files(shared_data: Path):
    """Skip when the files these tests need are absent."""
    import pytest

    needed = [
        Path(shared_data) / "boundaries" / "msoa2011_ew_vsimple.gpkg",
        firms_gpkg(shared_data),
    ]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        pytest.skip(f"shared data files missing: {missing}")
