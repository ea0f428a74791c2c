"""creativeclusters:emerginghotspots through Processing: planted firm-formation patterns come back from dated
firm points, counted per area and per fishnet cell; periods, dates and bad input.

Independent reference: the planted cube of tests/core/autocorrelation/test_emerging_hotspots.py (patterns put there by
construction), turned into firm points with dates inside each planted year.
"""

from __future__ import annotations

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from tests.core.autocorrelation.test_emerging_hotspots import STEPS, planted_cube
from tests.processing.stats_helpers import RecordingFeedback

ORIGIN = np.array([430_000.0, 380_000.0])
FIRST_YEAR = 2015
RESULT_FIELDS = ["PATTERN", "CATEGORY", "TREND_Z", "TREND_P", "HS_TREND_Z", "HS_TREND_P", "N_HOT", "N_COLD",
                 "GiZScore", "GiPValue", "N_FIRMS", "NNeighbors"]


def _firms_and_areas(folder, uk_dates=False, seed=1):
    """One firm per planted count, uniformly inside its 500 m square, dated uniformly within its year."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    xy, counts, centres, _ = planted_cube()
    rng = np.random.default_rng(seed)
    n = counts.astype(int)
    cell = np.repeat(np.arange(len(xy)), n.sum(axis=1))
    step = np.concatenate([np.repeat(np.arange(STEPS), row) for row in n])
    pts = ORIGIN + xy[cell] + rng.uniform(-249.0, 249.0, (len(cell), 2))
    day = rng.integers(0, 365, len(cell))
    dates = (np.array([f"{FIRST_YEAR + s}-01-01" for s in step], dtype="datetime64[D]") + day).astype(str)
    if uk_dates:
        dates = np.array([f"{d[8:10]}/{d[5:7]}/{d[0:4]}" for d in dates])
    firms = gpd.GeoDataFrame({"CompanyNumber": np.arange(len(cell)).astype(str), "IncorporationDate": dates},
                             geometry=[Point(p) for p in pts], crs="EPSG:27700")
    firms_path = str(folder / "firms.gpkg")
    firms.to_file(firms_path, layer="firms", driver="GPKG")
    squares = [box(*(ORIGIN + c - 250.0), *(ORIGIN + c + 250.0)) for c in xy]
    areas = gpd.GeoDataFrame({"area_id": [f"A{i:03d}" for i in range(len(xy))]}, geometry=squares, crs="EPSG:27700")
    areas_path = str(folder / "areas.gpkg")
    areas.to_file(areas_path, layer="areas", driver="GPKG")
    return firms_path, areas_path, xy, n.astype(float), centres  # the counts actually generated (whole firms)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return _firms_and_areas(tmp_path_factory.mktemp("emerging"))


def test_planted_patterns_per_area(run_alg, planted):
    firms, areas, xy, counts, centres = planted
    feedback = RecordingFeedback()
    out = run_alg("emerginghotspots", {"INPUT": firms, "AREAS": areas, "DISTANCE": 750, "END": "2024-12-31",
                                       "OUTPUT": "memory:"}, feedback=feedback)["OUTPUT"]
    assert out.fields().names()[-len(RESULT_FIELDS):] == RESULT_FIELDS
    assert "area_id" in out.fields().names()
    rows = {f["area_id"]: f for f in out.getFeatures()}
    assert len(rows) == len(xy)
    # default start: 10 yearly steps ending on END, i.e. exactly the planted years
    assert any("Time steps: 10 of 1 year(s) from 2015-01-01 to 2024-12-31" in m for m in feedback.infos), feedback.infos
    for i in range(len(xy)):
        assert rows[f"A{i:03d}"]["N_FIRMS"] == int(counts[i].sum())
    names = {1: "New Hot Spot", 2: "Consecutive Hot Spot", 3: "Intensifying Hot Spot", 4: "Persistent Hot Spot",
             5: "Diminishing Hot Spot", 6: "Sporadic Hot Spot", 7: "Oscillating Hot Spot", 8: "Historical Hot Spot",
             -4: "Persistent Cold Spot"}
    for category, i in centres.items():
        f = rows[f"A{i:03d}"]
        assert (f["CATEGORY"], f["PATTERN"]) == (category, names[category])
    intensifying = rows[f"A{centres[3]:03d}"]
    assert intensifying["HS_TREND_Z"] > 0 and intensifying["HS_TREND_P"] <= 0.05 and intensifying["TREND_Z"] > 0
    persistent = rows[f"A{centres[4]:03d}"]
    assert persistent["N_HOT"] == STEPS and persistent["GiZScore"] > 1.96 and persistent["NNeighbors"] == 8
    assert rows[f"A{centres[-4]:03d}"]["N_COLD"] == STEPS
    assert any(m.startswith("Patterns: No Pattern Detected") for m in feedback.infos)


def test_fishnet_uk_dates_and_partial_period(run_alg, tmp_path):
    firms, _, xy, counts, centres = _firms_and_areas(tmp_path, uk_dates=True, seed=2)
    feedback = RecordingFeedback()
    out = run_alg("emerginghotspots", {"INPUT": firms, "CELL_SIZE": 500, "START": "2017-01-01",
                                       "END": "2024-12-31", "OUTPUT": "memory:"}, feedback=feedback)["OUTPUT"]
    assert out.fields().names() == ["cell_id"] + RESULT_FIELDS
    dated_in_period = int(counts[:, 2:].sum())
    assert sum(f["N_FIRMS"] for f in out.getFeatures()) == dated_in_period
    assert any(f"{dated_in_period:,} firms dated in the period, {int(counts[:, :2].sum()):,} outside it" in m
               for m in feedback.infos)
    assert any("Neighbourhood distance 707 m (automatic)" in m for m in feedback.infos)
    # the cell holding the persistent block's centre is hot in every one of the 8 steps
    centre = ORIGIN + xy[centres[4]]
    for f in out.getFeatures():
        bbox = f.geometry().boundingBox()
        if bbox.xMinimum() <= centre[0] < bbox.xMaximum() and bbox.yMinimum() <= centre[1] < bbox.yMaximum():
            assert f["N_HOT"] == 8 and f["CATEGORY"] > 0
            break
    else:
        pytest.fail("no cell holds the planted persistent centre")
    assert any("Only 8 time steps" in m for m in feedback.warnings)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"TIME_FIELD": "CompanyNumber"}, "No firm has a readable date"),
        ({"START": "2030-01-01"}, "analysis period is empty"),
        ({"END": "31 Dec"}, "is not a date"),
        ({"TIME_STEP": 0.3}, "whole number of months"),
    ],
)
def test_bad_input_is_explained(run_alg, planted, params, message):
    firms = planted[0]
    with pytest.raises(QgsProcessingException, match=message):
        run_alg("emerginghotspots", {"INPUT": firms, "OUTPUT": "memory:", **params})
