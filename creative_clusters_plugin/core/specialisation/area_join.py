"""Which area holds each point: a spatial index join, boundary points given to the first area."""

from __future__ import annotations

import numpy as np

from ..errors import CreativeClustersError


def points_in_areas(xy: np.ndarray, polygons) -> np.ndarray:
    """Index of the polygon containing each point, −1 when none does.

    A point on a shared boundary belongs to the polygon that comes first in ``polygons`` (deterministic,
    counted once). ``polygons`` is a sequence of shapely polygons (NULL entries allowed, never matched);
    ``xy`` an (n, 2) array in the same CRS. Uses geopandas' spatial index (rtree or pygeos/shapely 2).
    """
    import geopandas as gpd

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    result = np.full(xy.shape[0], -1, dtype=np.int64)
    if xy.shape[0] == 0:
        return result
    areas = gpd.GeoDataFrame({"_area": np.arange(len(polygons))}, geometry=list(polygons))
    areas = areas[~areas.geometry.isna() & ~areas.geometry.is_empty]
    if areas.empty:
        raise CreativeClustersError("The areas layer has no usable polygons.")
    finite = np.isfinite(xy).all(axis=1)
    points = gpd.GeoDataFrame(
        {"_point": np.flatnonzero(finite)}, geometry=gpd.points_from_xy(xy[finite, 0], xy[finite, 1])
    )
    joined = gpd.sjoin(points, areas, how="inner", predicate="intersects")
    if joined.empty:
        return result
    joined = joined.sort_values(["_point", "_area"]).drop_duplicates("_point", keep="first")
    result[joined["_point"].to_numpy()] = joined["_area"].to_numpy()
    return result
