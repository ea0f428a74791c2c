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


# DCMS creative SIC 2007 classes (methods.md §1), written out here independently of the plugin
CREATIVE_CLASSES = {
    "7021", "7311", "7312", "7111", "3212", "7410", "5911", "5912", "5913", "5914", "6010", "6020", "7420", "5821",
    "5829", "6201", "6202", "5811", "5812", "5813", "5814", "5819", "7430", "9101", "9102", "5920", "8552", "9001",
    "9002", "9003", "9004",
}


def motorways_path(shared_data: Path) -> Path:
    return Path(shared_data) / "transport" / "os_openroads_gb_motorways_roadbox.fgb"


def south_yorkshire_creative_grid_hotspots(shared_data: Path, cell: float = 1000.0, min_firms: int = 25):
    """``(firms, clusters, masses)``: the creative firms (first SIC code; GeoDataFrame, EPSG:27700), simple grid
    hotspots (``cell`` m cells with at least ``min_firms`` creative firms, touching cells merged; shapely
    polygons) and the creative firms in each. Skips when the firms or the motorways are absent."""
    import geopandas as gpd
    import pytest
    from shapely.geometry import box

    firms_path = firms_gpkg(shared_data)
    if not firms_path.exists() or not motorways_path(shared_data).exists():
        pytest.skip("South Yorkshire firms or GB motorways not in shared data")
    import fiona

    with fiona.open(firms_path, layer="companies") as layer:
        other_fields = [name for name in layer.schema["properties"] if name != "SICCode.SicText_1"]
    firms = gpd.read_file(firms_path, layer="companies", ignore_fields=other_fields)
    firms = firms[firms["SICCode.SicText_1"].fillna("").str.slice(0, 4).isin(CREATIVE_CLASSES)]
    x, y = firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()
    keys, counts = np.unique(np.column_stack([np.floor(x / cell), np.floor(y / cell)]).astype(int), axis=0, return_counts=True)
    hot = [(box(kx * cell, ky * cell, (kx + 1) * cell, (ky + 1) * cell), int(n))
           for (kx, ky), n in zip(keys, counts) if n >= min_firms]
    merged = gpd.GeoSeries([square for square, _ in hot], crs="EPSG:27700").unary_union
    clusters = list(getattr(merged, "geoms", [merged]))
    masses = [sum(n for square, n in hot if cluster.contains(square.centroid)) for cluster in clusters]
    return firms, clusters, masses


def m1_geometry(shared_data: Path):
    """The M1 (OS Open Roads motorways) around South Yorkshire, one shapely geometry in EPSG:27700."""
    import geopandas as gpd
    from shapely.ops import unary_union

    roads = gpd.read_file(motorways_path(shared_data), bbox=(-2.4, 53.1, -0.6, 53.9))
    m1 = roads[roads["road_classification_number"] == "M1"].to_crs(27700)
    return unary_union(list(m1.geometry))
