"""Register dates read as the registers write them; anything else is NaT (hand-made cases)."""

import datetime

import numpy as np

from creative_clusters_plugin.core.firms.firm_dates import parse_dates


def test_iso_uk_and_date_objects_and_nothing_else():
    values = ["2015-03-04", "04/03/2015", datetime.date(2020, 1, 2), datetime.datetime(2019, 5, 6, 7, 8),
              "2019-01-01T00:00:00", " 2018-02-03 ", None, "", "2015", "12345678", "2015-13-01", "31/02/2020", "x"]
    parsed = parse_dates(values, len(values)).to_numpy(dtype="datetime64[D]")
    expected = np.array(["2015-03-04", "2015-03-04", "2020-01-02", "2019-05-06", "2019-01-01", "2018-02-03"]
                        + ["NaT"] * 7, dtype="datetime64[D]")
    assert np.array_equal(parsed, expected, equal_nan=True)
