"""Location quotients and their Moineddin et al. (2003) interval, checked against hand computation."""

import math

import numpy as np
import pytest
from shapely.geometry import box

from creative_clusters_plugin.core.specialisation.area_join import points_in_areas
from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.specialisation.location_quotients import location_quotients


def _firms():
    # area 0: 10 firms, 4 creative (3 film, 1 it); area 1: 30 firms, 2 creative (it); 5 firms outside
    area = np.array([0] * 10 + [1] * 30 + [-1] * 5)
    creative = np.zeros(45, dtype=bool)
    codes = np.full(45, None, dtype=object)
    creative[[0, 1, 2, 3]] = True
    codes[[0, 1, 2]] = "film"
    codes[3] = "it"
    creative[[10, 11]] = True
    codes[[10, 11]] = "it"
    creative[[40, 41]] = True  # outside: never counted
    codes[[40, 41]] = "music"
    return area, creative, codes


def test_counts_lq_and_interval_by_hand():
    area, creative, codes = _firms()
    result = location_quotients(area, 2, creative, codes)
    t = result.table
    assert result.outside == 5
    assert t["n_all"].tolist() == [10, 30]
    assert t["n_creative"].tolist() == [4, 2]
    assert t["n_film"].tolist() == [3, 0]
    assert t["n_music"].tolist() == [0, 0]
    # region: 40 firms, 6 creative -> LQ0 = (4/10)/(6/40) = 8/3 ; LQ1 = (2/30)/(6/40) = 4/9
    assert t.loc[0, "lq_creative"] == pytest.approx(8 / 3, abs=1e-12)
    assert t.loc[1, "lq_creative"] == pytest.approx(4 / 9, abs=1e-12)
    var0 = 1 / 4 - 1 / 10 + 1 / 6 - 1 / 40
    z = 1.959963984540054
    assert t.loc[0, "lq_creative_lo"] == pytest.approx(8 / 3 * math.exp(-z * math.sqrt(var0)), rel=1e-9)
    assert t.loc[0, "lq_creative_hi"] == pytest.approx(8 / 3 * math.exp(z * math.sqrt(var0)), rel=1e-9)
    # film only in area 0: LQ = (3/10)/(3/40) = 4 ; zero count -> LQ 0, interval undefined
    assert t.loc[0, "lq_film"] == pytest.approx(4.0)
    assert t.loc[1, "lq_film"] == 0.0
    assert np.isnan(t.loc[1, "lq_film_lo"]) and np.isnan(t.loc[1, "lq_film_hi"])
    # sector absent everywhere: NULL LQ
    assert np.isnan(t.loc[0, "lq_music"])
    assert any("outside every area" in w for w in result.warnings)


def test_nesta_2018_flag_needs_lq_above_one_and_activity_at_quantile():
    # 4 areas: creative counts 1, 5, 9, 2 of 10 firms each -> LQ = c / (17/40) * 1/10
    area = np.repeat(np.arange(4), 10)
    creative = np.zeros(40, dtype=bool)
    for a, c in enumerate([1, 5, 9, 2]):
        creative[a * 10 : a * 10 + c] = True
    codes = np.where(creative, "it", None)
    t = location_quotients(area, 4, creative, codes, quantile=0.75).table
    # 0.75 quantile of [1, 5, 9, 2] (linear) = 6.0 -> only area 2 (9 >= 6 and LQ 2.1 > 1)
    assert t["cc_nesta2018"].tolist() == [False, False, True, False]
    t50 = location_quotients(area, 4, creative, codes, quantile=0.5).table
    # median 3.5 -> areas 1 (LQ 5/4.25 = 1.18) and 2
    assert t50["cc_nesta2018"].tolist() == [False, True, True, False]


def test_weights_and_min_count():
    area, creative, codes = _firms()
    w = np.ones(45)
    w[:3] = 1 / 3  # three film firms at one stacked address count as one
    t = location_quotients(area, 2, creative, codes, weights=w, min_count=15).table
    assert t.loc[0, "n_all"] == pytest.approx(8.0)
    assert t.loc[0, "n_film"] == pytest.approx(1.0)
    assert np.isnan(t.loc[0, "lq_creative"])  # 8 firms < 15
    assert t.loc[1, "lq_creative"] == pytest.approx((2 / 30) / (4 / 38))


def test_no_firm_inside_is_a_clear_error():
    with pytest.raises(CreativeClustersError, match="No firm lies inside"):
        location_quotients(np.array([-1, -1]), 1, np.array([True, False]), np.array(["it", None], dtype=object))


def test_points_in_areas_boundary_goes_to_first_area():
    index = points_in_areas(np.array([[0.5, 0.5], [1.0, 0.5], [1.5, 0.5], [9.0, 9.0], [np.nan, 1]]), [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    assert index.tolist() == [0, 0, 1, -1, -1]
