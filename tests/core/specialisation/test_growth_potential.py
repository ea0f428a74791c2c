"""Growth-potential score: normalisations, Herfindahl, weights and fallbacks checked by hand."""

import numpy as np
import pandas as pd
import pytest

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.specialisation.growth_potential import growth_potential, herfindahl, normalise


def test_herfindahl_by_hand():
    h = herfindahl(np.array([[1, 1, 2], [5, 0, 0], [0, 0, 0]]))
    assert h[0] == pytest.approx(0.25**2 + 0.25**2 + 0.5**2)
    assert h[1] == 1.0 and np.isnan(h[2])


def test_normalisations():
    x = np.array([1.0, 2.0, 4.0, np.nan])
    assert normalise(x, "rank")[:3].tolist() == [0.0, 50.0, 100.0]
    assert normalise(x, "minmax")[:3] == pytest.approx([0, 100 / 3, 100])
    z = normalise(x, "zscore")
    sd = np.std([1, 2, 4])
    assert z[0] == pytest.approx(50 + 10 * (1 - 7 / 3) / sd)
    assert np.isnan(normalise(x, "rank")[3])


def test_score_is_weighted_mean_of_ranks():
    frame = pd.DataFrame({"n_creative": [10, 100, 1000], "lq_creative": [3.0, 1.0, 2.0], "GiZScore": [0.0, 1.0, 5.0]})
    result = growth_potential(frame, {"scale": 2, "specialisation": 1, "significance": 1})
    t = result.table
    # ranks: scale 0/50/100, spec 100/0/50, signif 0/50/100 -> (2*s + sp + sg)/4
    assert t["cc_gp_score"].tolist() == pytest.approx([(0 + 100 + 0) / 4, (100 + 0 + 50) / 4, (200 + 50 + 100) / 4])
    assert t["cc_gp_rank"].tolist() == [3, 2, 1]
    assert any("growth" in w for w in result.warnings) and any("diversity" in w for w in result.warnings)
    assert t["cc_gp_class"].tolist() == ["Very low", "Medium", "Very high"]


def test_null_values_take_the_median_and_no_indicator_is_an_error():
    frame = pd.DataFrame({"lq_creative": [1.0, np.nan, 3.0]})
    result = growth_potential(frame)
    assert result.table["cc_gp_spec"].tolist() == [0.0, 50.0, 100.0]
    assert any("median" in w for w in result.warnings)
    with pytest.raises(CreativeClustersError, match="No usable indicator"):
        growth_potential(pd.DataFrame({"other": [1, 2]}))
    with pytest.raises(CreativeClustersError, match="no features"):
        growth_potential(pd.DataFrame({"lq_creative": []}))
