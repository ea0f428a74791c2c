"""Firms' dates as the registers write them: ISO ``YYYY-MM-DD``, UK ``DD/MM/YYYY`` (the Companies House CSV) or
date objects from QGIS. No QGIS import."""

from __future__ import annotations

import numpy as np


def parse_dates(values, n):
    """Dates from ISO ``YYYY-MM-DD`` texts, UK ``DD/MM/YYYY`` texts (the Companies House CSV) or date
    objects; anything else becomes NaT."""
    import pandas as pd

    if values is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    # parse each distinct value once: a register holds a million dates but only some thousands distinct ones
    array = np.empty(n, dtype=object)
    array[:] = list(values)
    codes, uniques = pd.factorize(array)
    raw = pd.Series([v.isoformat() if hasattr(v, "isoformat") else v for v in uniques], dtype=object)
    text = raw.where(raw.notna(), None).astype(str).str.strip().str[:10]
    # only full dates: pandas' ISO fast path would otherwise read "2015" (a company number, say) as a year
    iso = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(text.where(text.str.fullmatch(r"\d{2}/\d{2}/\d{4}")), format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(uk).to_numpy(dtype="datetime64[ns]")
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[codes >= 0] = parsed[codes[codes >= 0]]
    return pd.Series(out)
