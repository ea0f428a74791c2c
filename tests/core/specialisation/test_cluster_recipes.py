"""Nesta 2016 / 2018 recipes on hand-built tables whose selections are known."""

import numpy as np
import pytest

from creative_clusters_plugin.core.specialisation.cluster_recipes import nesta2016, nesta2018
from creative_clusters_plugin.core.errors import CreativeClustersError


def test_nesta2016_union_of_concentration_and_growth_lists():
    # 8 areas; activity 75th percentile (linear) of [10,20,30,40,50,60,70,80] = 62.5 -> eligible: 6, 7
    # with percentile 0.5 (45) -> eligible: 4, 5, 6, 7
    activity = np.array([10, 20, 30, 40, 50, 60, 70, 80], float)
    later = {"creative": np.array([9, 9, 9, 1.5, 2.0, 1.2, 0.8, 1.1]), "film": np.array([0, 0, 0, 3.0, 0.1, 0.2, 0.3, np.nan])}
    earlier = {"creative": np.array([1, 1, 1, 1.4, 1.0, 1.3, 0.2, 1.0]), "film": np.array([0, 0, 0, 3.0, 0.1, 0.1, 0.0, 0.0])}
    sel = nesta2016(activity, earlier, later, percentile=0.5, top_n=1)
    assert sel.threshold == pytest.approx(45.0)
    # creative top LQ: area 4 (2.0); creative top growth: area 4 (+1.0, area 6 +0.6); film top LQ: area 6 (0.3);
    # film top growth: area 6 (+0.3); area 7 has NULL film LQ and is never picked for film
    assert list(np.flatnonzero(sel.selected)) == [4, 6]
    assert sel.reasons[4] == "creative top LQ #1; creative top LQ growth #1"
    assert sel.reasons[6] == "film top LQ #1; film top LQ growth #1"
    assert sel.reasons[0] == ""  # high LQ but below the activity cut


def test_nesta2016_top_n_and_stable_ties():
    activity = np.full(5, 10.0)
    lq = {"creative": np.array([2.0, 3.0, 3.0, 1.0, 0.5])}
    sel = nesta2016(activity, {"creative": lq["creative"]}, lq, percentile=0.0, top_n=2)
    # concentration: areas 1, 2 (tie kept in area order); growth: all zero -> areas 0, 1 by order
    assert list(sel.lists["creative: LQ"]) == [1, 2]
    assert list(sel.lists["creative: LQ growth"]) == [0, 1]
    assert list(np.flatnonzero(sel.selected)) == [0, 1, 2]


def test_nesta2018_rule():
    lq = np.array([1.5, 0.9, 2.0, np.nan, 1.01])
    activity = np.array([100, 500, 10, 900, 400], float)
    sel = nesta2018(lq, activity, quantile=0.5)  # median activity 400
    assert sel.threshold == 400
    assert sel.selected.tolist() == [False, False, False, False, True]


def test_bad_input():
    with pytest.raises(CreativeClustersError):
        nesta2016(np.array([]), {"creative": np.array([])}, {"creative": np.array([])})
    with pytest.raises(CreativeClustersError, match="same sub-sector groups"):
        nesta2016(np.ones(3), {"creative": np.ones(3)}, {"film": np.ones(3)})
    with pytest.raises(CreativeClustersError, match="TOP_N"):
        nesta2016(np.ones(3), {"creative": np.ones(3)}, {"creative": np.ones(3)}, top_n=0)
