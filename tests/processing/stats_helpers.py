"""Helpers for the hot-spot / local Moran Processing tests: small layers, a recording feedback, demo areas."""

from __future__ import annotations

import functools

import numpy as np
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProcessingFeedback, QgsVectorLayer


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps every info / warning message so tests can assert on the log (``log`` holds both, in order);
    ``cancel_after_progress`` presses Cancel once progress passes that percentage."""

    def __init__(self, cancel_after_progress=None):
        super().__init__()
        self.infos, self.warnings, self.log = [], [], []
        self._cancel_after = cancel_after_progress

    def pushInfo(self, info):  # noqa: N802 - QGIS API
        self.infos.append(info)
        self.log.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802 - QGIS API
        self.warnings.append(warning)
        self.log.append(warning)
        super().pushWarning(warning)

    def setProgress(self, progress):  # noqa: N802 - QGIS API
        super().setProgress(progress)
        if self._cancel_after is not None and progress > self._cancel_after:
            self.cancel()


def lattice_layer(values, cols, size=100.0, origin=(430000.0, 380000.0), crs="EPSG:27700"):
    """Square polygons row by row with one double field ``v`` (None → NULL)."""
    layer = QgsVectorLayer(f"Polygon?crs={crs}&field=v:double&field=name:string", "lattice", "memory")
    features = []
    for k, value in enumerate(values):
        r, c = divmod(k, cols)
        x0, y0 = origin[0] + c * size, origin[1] + r * size
        f = QgsFeature(layer.fields())
        f.setAttributes([None if value is None else float(value), f"cell{k}"])
        f.setGeometry(
            QgsGeometry.fromWkt(
                f"POLYGON(({x0} {y0},{x0 + size} {y0},{x0 + size} {y0 + size},{x0} {y0 + size},{x0} {y0}))"
            )
        )
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def points_layer(xy, values, crs="EPSG:27700"):
    layer = QgsVectorLayer(f"Point?crs={crs}&field=v:double", "points", "memory")
    features = []
    for (x, y), value in zip(xy, values):
        f = QgsFeature(layer.fields())
        f.setAttributes([None if value is None else float(value)])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(x), float(y))))
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def planted_lattice(rows=10, cols=10, seed=0):
    """Values on a lattice with a planted 3×3 hot block in one corner and a 3×3 cold block in the other."""
    rng = np.random.default_rng(seed)
    values = 10 + rng.normal(0, 1, rows * cols)
    r, c = np.divmod(np.arange(rows * cols), cols)
    hot = (r < 3) & (c < 3)
    cold = (r >= rows - 3) & (c >= cols - 3)
    values[hot] += 8
    values[cold] -= 6
    return values, hot, cold


def layer_rows(layer, *names):
    return [[f[name] for name in names] for f in layer.getFeatures()]


def as_float(value):
    return None if value is None or (hasattr(value, "isNull") and value.isNull()) else float(value)


@functools.lru_cache(maxsize=1)
def _demo_areas(gpkg_path: str, folder: str):
    import processing

    firms = f"{gpkg_path}|layername=firms"
    areas = f"{gpkg_path}|layername=areas"
    classified = processing.run(
        "creativeclusters:classifyfirms", {"INPUT": firms, "RULE": 0, "OUTPUT": f"{folder}/classified.gpkg"}
    )["OUTPUT"]
    return processing.run(
        "creativeclusters:locationquotients",
        {"AREAS": areas, "AREA_ID": "area_id", "FIRMS": classified, "EXCLUDE_DORMANT": False,
         "OUTPUT": f"{folder}/areas_lq.gpkg"},
    )["OUTPUT"]


def demo_areas_with_counts(demo_region, registry):
    """Path of the demo areas with creative counts (classify → location quotients), computed once."""
    import pytest
    from pathlib import Path

    for needed in ("classifyfirms", "locationquotients"):
        if registry.algorithmById(f"creativeclusters:{needed}") is None:
            pytest.skip(f"creativeclusters:{needed} is not available")
    folder = Path(demo_region["gpkg"]).parent / "stats_tests"
    folder.mkdir(exist_ok=True)
    return _demo_areas(str(demo_region["gpkg"]), str(folder))
