"""Registered-office stacking: how firms sharing one address are treated by the point analyses.

Companies House postcodes are registered offices: formation agents and accountants hold hundreds of
companies at one address. The flagging rule (``cc_stack``) lives here too; every analysis that takes a
``STACKS`` parameter (location quotients, microclusters, density) applies the user's choice with
:func:`apply_stack_choice` so the three behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import CreativeClustersError, check_callback

#: enum order of the public ``STACKS`` parameter
STACK_KEEP, STACK_DOWNWEIGHT, STACK_EXCLUDE = 0, 1, 2
STACK_OPTIONS = (
    "Keep every firm",
    "Down-weight stacked addresses to one firm per address",
    "Exclude firms flagged cc_stack",
)


def apply_stack_choice(xy, choice: int, flagged=None, keep=None, decimals: int = 3):
    """Apply a ``STACKS`` choice to firm points.

    Returns ``(keep, weights)``: a boolean mask of the firms that stay and a weight per firm (1, or 1/n for
    each of the n kept firms sharing identical coordinates when down-weighting; 0 where not kept).
    ``flagged`` (the ``cc_stack`` values) is required for ``STACK_EXCLUDE``; NULL counts as not stacked.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    keep = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool).copy()
    weights = np.ones(n, dtype=float)
    if choice == STACK_EXCLUDE:
        if flagged is None:
            raise CreativeClustersError("Excluding stacked addresses needs the 'cc_stack' field: run 'Flag stacked addresses' first.")
        flags = np.array([bool(v) if v is not None and v == v else False for v in flagged], dtype=bool)
        keep &= ~flags
    elif choice == STACK_DOWNWEIGHT and keep.any():
        _, inverse, counts = np.unique(np.round(xy[keep], decimals), axis=0, return_inverse=True, return_counts=True)
        weights[keep] = 1.0 / counts[inverse.reshape(-1)]
    elif choice not in (STACK_KEEP, STACK_DOWNWEIGHT):
        raise CreativeClustersError(f"Unknown STACKS choice {choice}: 0 keep, 1 down-weight, 2 exclude.")
    weights[~keep] = 0.0
    return keep, weights


# --------------------------------------------------------------------------------------------------
# Flagging rule
# --------------------------------------------------------------------------------------------------
#: default floor of the flagging rule: an address is never flagged below this many firms
DEFAULT_STACK_THRESHOLD = 50
#: default cut-off of the robust z-score (Iglewicz & Hoaglin 1993 recommend 3.5 for the modified z)
DEFAULT_STACK_Z = 3.5


@dataclass
class StackResult:
    """Result of :func:`flag_stacks`.

    ``flagged`` (bool per firm), ``address`` (address index per firm, into the per-address arrays),
    ``n_at_address`` (firms at the firm's address), per address: ``keys`` (postcode or ``"x,y"``),
    ``address_xy`` (first firm's coordinates), ``counts``, ``address_flagged``, ``robust_z``;
    ``cutoff`` (the count from which an address is flagged), ``robust_cutoff``, ``median``, ``scale``
    and ``warnings``.
    """

    flagged: np.ndarray
    address: np.ndarray
    n_at_address: np.ndarray
    keys: list
    address_xy: np.ndarray
    counts: np.ndarray
    address_flagged: np.ndarray
    robust_z: np.ndarray
    cutoff: float
    robust_cutoff: float
    median: float
    scale: float
    warnings: list = field(default_factory=list)


def address_keys(xy, postcodes=None, decimals: int = 0):
    """One address key per firm: the normalised postcode (``"S11 9PA"``) when ``postcodes`` is
    given and the firm has a valid one, else its coordinates rounded to ``decimals`` (``"x,y"``)."""
    from .postcodes import normalise_postcode

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    rounded = np.round(xy, decimals)
    keys = []
    for i in range(len(xy)):
        key = None
        if postcodes is not None:
            value = postcodes[i]
            key = normalise_postcode(value) if value is not None else None
        if not key:
            if np.isfinite(rounded[i]).all():
                key = f"{rounded[i, 0]:.{max(decimals, 0)}f},{rounded[i, 1]:.{max(decimals, 0)}f}"
            else:
                key = None
        keys.append(key)
    return keys


def flag_stacks(xy, postcodes=None, threshold: float = DEFAULT_STACK_THRESHOLD, z_cutoff: float = DEFAULT_STACK_Z,
                decimals: int = 0, callback=None) -> StackResult:
    """Flag firms at registered-office addresses holding an anomalous number of firms (``cc_stack``).

    Rule
    ----
    1. **Address.** Firms are grouped by address: the normalised postcode (``"S11 9PA"``: upper case, one space)
       when ``postcodes`` is given and valid, otherwise identical coordinates (rounded to ``decimals``
       map units; 0 = whole metres, the precision of Code-Point Open centroids).
    2. **Robust z on log counts.** With ``n_a`` the firms at address ``a`` (every firm of the input
       counts), ``m`` the median of ``ln n_a`` over addresses and ``s = 1.4826 · MAD(ln n_a)`` (the
       normal-consistent median absolute deviation; when the MAD is 0, ``1.2533 · mean |ln n_a − m|``,
       the fallback of Iglewicz & Hoaglin 1993), the robust z is ``z_a = (ln n_a − m) / s``. Counts per
       address are heavily right-skewed (roughly log-normal), so the log scale is used; a plain z on
       raw counts would flag almost every multi-firm address.
    3. **Flag.** An address is stacked when ``n_a >= max(threshold, exp(m + z_cutoff · s))``: anomalous
       for this input *and* never below ``threshold`` firms (so small or pre-filtered inputs, whose
       robust cut-off collapses to a handful of firms, never flag ordinary office buildings).
       ``z_cutoff = 0`` (or None) uses ``threshold`` alone.

    Defaults from the real South Yorkshire register (Companies House, 2024-11, 75,740 live firms at
    17,034 postcodes): median 2 firms per postcode, 99th percentile 42, MAD of the log counts ln 2 so
    ``s`` = 1.03; the robust cut-off with ``z_cutoff`` = 3.5 (Iglewicz & Hoaglin's recommended value)
    is 73 firms, flagging 119 postcodes that hold 22,744 firms (30 %) and 2,357 of the 5,860 creative
    firms (the largest, S11 9PA, holds 1,602 firms of which 794 are creative). The floor ``threshold`` = 50 is the Creative Radar microcluster size: an address
    that alone could make a microcluster is never ordinary; 153 South Yorkshire postcodes (0.9 %)
    hold 50 or more firms.

    Returns a :class:`StackResult`. Firms with neither a postcode nor finite coordinates get address −1
    and are never flagged.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    if n == 0:
        raise CreativeClustersError("There are no firms to check for stacked addresses.")
    threshold, z_cutoff = _check_stack_arguments(n, postcodes, threshold, z_cutoff)
    check_callback(callback, 0.0)
    keys = address_keys(xy, postcodes, decimals)
    check_callback(callback, 0.5)
    valid = np.array([k is not None for k in keys], dtype=bool)
    warnings = []
    if not valid.all():
        warnings.append(
            f"{int((~valid).sum())} firm(s) have neither a postcode nor coordinates: they are never flagged."
        )
    address, unique_keys, counts, address_xy = _group_by_address(xy, keys, valid)
    n_addr = len(unique_keys)
    median, scale, robust_z, robust_cutoff = _robust_log_cutoff(counts, z_cutoff, warnings)
    cutoff = max(threshold, robust_cutoff)
    address_flagged = counts >= cutoff
    flagged = np.zeros(n, dtype=bool)
    flagged[valid] = address_flagged[address[valid]]
    n_at = np.zeros(n, dtype=np.int64)
    n_at[valid] = counts[address[valid]]
    check_callback(callback, 1.0)
    return StackResult(
        flagged=flagged, address=address, n_at_address=n_at, keys=[str(k) for k in unique_keys],
        address_xy=address_xy, counts=counts, address_flagged=address_flagged, robust_z=robust_z,
        cutoff=float(cutoff), robust_cutoff=robust_cutoff, median=float(np.exp(median)) if n_addr else float("nan"),
        scale=scale, warnings=warnings,
    )


def _check_stack_arguments(n: int, postcodes, threshold, z_cutoff) -> tuple[float, float]:
    """The threshold and robust z cut-off as floats; refuses bad values and a postcode list of the wrong length."""
    try:
        threshold = float(threshold)
    except (TypeError, ValueError) as error:
        raise CreativeClustersError("The stacking threshold must be a number of firms.") from error
    if not np.isfinite(threshold) or threshold < 2:
        raise CreativeClustersError(f"The stacking threshold must be at least 2 firms; got {threshold:g}.")
    z_cutoff = 0.0 if z_cutoff is None else float(z_cutoff)
    if not np.isfinite(z_cutoff) or z_cutoff < 0:
        raise CreativeClustersError("The robust z cut-off must be 0 (off) or positive.")
    if postcodes is not None and len(postcodes) != n:
        raise CreativeClustersError("There must be one postcode per firm.")
    return threshold, z_cutoff


def _group_by_address(xy: np.ndarray, keys: list, valid: np.ndarray):
    """Address index per firm (−1 without a key), the sorted address keys, firms per address and the first
    firm's coordinates per address."""
    n = len(xy)
    key_arr = np.array([k if k is not None else "" for k in keys], dtype=object)
    address = np.full(n, -1, dtype=np.int64)
    if valid.any():
        unique_keys, inverse = np.unique(key_arr[valid].astype(str), return_inverse=True)
        address[valid] = inverse.reshape(-1)
    else:
        unique_keys = np.array([], dtype=str)
    n_addr = len(unique_keys)
    counts = np.bincount(address[valid], minlength=n_addr).astype(np.int64)
    first = np.full(n_addr, -1, dtype=np.int64)
    idx_valid = np.flatnonzero(valid)
    first_pos = np.unique(address[valid], return_index=True)[1] if n_addr else np.array([], dtype=np.int64)
    first[:] = idx_valid[first_pos] if n_addr else first
    address_xy = xy[first] if n_addr else np.empty((0, 2))
    return address, unique_keys, counts, address_xy


def _robust_log_cutoff(counts: np.ndarray, z_cutoff: float, warnings: list):
    """Median and robust scale of the log counts per address, each address's robust z and the count cut-off
    ``exp(m + z_cutoff · s)`` (0 when off or undefined)."""
    n_addr = len(counts)
    if n_addr:
        logs = np.log(counts.astype(float))
        median = float(np.median(logs))
        mad = float(np.median(np.abs(logs - median)))
        scale = 1.4826 * mad
        if scale == 0:
            scale = 1.2533 * float(np.mean(np.abs(logs - median)))
        if scale > 0:
            robust_z = (logs - median) / scale
        else:
            robust_z = np.zeros(n_addr)
        robust_cutoff = float(np.exp(median + z_cutoff * scale)) if (z_cutoff > 0 and scale > 0) else 0.0
        if z_cutoff > 0 and scale == 0:
            warnings.append(
                "Every address holds the same number of firms: the robust rule cannot tell stacks apart; "
                "only the threshold applies."
            )
    else:
        median, scale, robust_z, robust_cutoff = float("nan"), float("nan"), np.zeros(0), 0.0
    return median, scale, robust_z, robust_cutoff
