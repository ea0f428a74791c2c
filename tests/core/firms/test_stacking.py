"""Registered-office stacking: the flagging rule against hand computation and the real register."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.firms.stacking import (
    STACK_DOWNWEIGHT, STACK_EXCLUDE, STACK_KEEP, apply_stack_choice, flag_stacks,
)


def _points(counts, spacing=1000.0):
    """Firms stacked on a line of addresses: counts[i] firms at (i * spacing, 0)."""
    return np.repeat(np.column_stack([np.arange(len(counts)) * spacing, np.zeros(len(counts))]), counts, axis=0)


def test_rule_matches_hand_computation():
    counts = [1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 40, 400]
    xy = _points(counts)
    # hand: median of ln counts, 1.4826 * MAD, cut-off exp(m + 3.5 s), floor 20
    logs = np.log(np.array(counts, dtype=float))
    m = np.median(logs)
    s = 1.4826 * np.median(np.abs(logs - m))
    robust = np.exp(m + 3.5 * s)
    result = flag_stacks(xy, threshold=20, z_cutoff=3.5)
    assert result.robust_cutoff == pytest.approx(robust)
    assert result.cutoff == pytest.approx(max(20, robust))
    expected_addresses = np.array(counts) >= max(20, robust)
    assert sorted(result.counts.tolist()) == sorted(counts)
    assert result.flagged.sum() == sum(c for c, f in zip(counts, expected_addresses) if f)
    np.testing.assert_array_equal(result.flagged, np.repeat(expected_addresses, counts))
    assert expected_addresses[-1] and not expected_addresses[:-2].any()
    np.testing.assert_allclose(np.sort(result.robust_z), np.sort((logs - m) / s))


def test_threshold_floor_and_threshold_only():
    # every address holds 1 firm but one with 10: MAD 0 -> mean-absolute-deviation fallback
    xy = _points([1] * 30 + [10])
    r = flag_stacks(xy, threshold=50)
    assert not r.flagged.any() and r.cutoff == 50
    r = flag_stacks(xy, threshold=10, z_cutoff=0)
    assert r.flagged.sum() == 10 and r.cutoff == 10


def test_postcodes_are_normalised_and_take_precedence():
    xy = np.array([[0, 0], [5, 5], [10, 10], [1000, 1000]], dtype=float)
    postcodes = ["s11 9pa", "S119PA", "S11  9PA", None]
    r = flag_stacks(xy, postcodes, threshold=3, z_cutoff=0)
    assert r.flagged.tolist() == [True, True, True, False]
    assert "S11 9PA" in r.keys and "1000,1000" in r.keys
    assert r.n_at_address.tolist() == [3, 3, 3, 1]


def test_bad_input():
    with pytest.raises(CreativeClustersError):
        flag_stacks(np.empty((0, 2)))
    with pytest.raises(CreativeClustersError):
        flag_stacks(_points([3]), threshold=1)
    with pytest.raises(CreativeClustersError):
        flag_stacks(_points([3]), z_cutoff=-1)
    with pytest.raises(CreativeClustersError):
        flag_stacks(_points([3]), postcodes=["S1 1AA"])


def test_all_identical_points_single_address():
    r = flag_stacks(np.zeros((60, 2)))
    assert len(r.counts) == 1 and r.flagged.all()  # 60 >= floor 50; robust rule cannot decide (warned)
    assert r.warnings


def test_apply_stack_choice_unchanged():
    xy = _points([3, 1])
    keep, w = apply_stack_choice(xy, STACK_DOWNWEIGHT)
    np.testing.assert_allclose(w, [1 / 3] * 3 + [1])
    keep, w = apply_stack_choice(xy, STACK_EXCLUDE, flagged=[True, True, True, None])
    assert keep.tolist() == [False] * 3 + [True]
    keep, w = apply_stack_choice(xy, STACK_KEEP)
    assert keep.all() and (w == 1).all()


def test_real_south_yorkshire_distribution(shared_data):
    path = Path(shared_data) / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"
    if not path.exists():
        pytest.skip("South Yorkshire firms absent")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        postcodes = [r[0] for r in connection.execute('SELECT "Postcode" FROM companies')]
    xy = np.zeros((len(postcodes), 2))  # every firm has a postcode: the key is the postcode
    r = flag_stacks(xy, postcodes)
    # the figures quoted in the help and the docstring
    assert len(postcodes) == 75740
    counts = np.sort(r.counts)
    assert np.median(r.counts) == 2 and np.quantile(r.counts, 0.99) == pytest.approx(42, abs=1)
    assert r.robust_cutoff == pytest.approx(73.0, abs=0.5) and r.cutoff == r.robust_cutoff
    assert r.keys[int(np.argmax(r.counts))] == "S11 9PA" and counts[-1] == 1602
    assert r.address_flagged.sum() == 119 and r.flagged.sum() == 22744  # quoted in the help
    assert (r.counts >= 50).sum() == 153
