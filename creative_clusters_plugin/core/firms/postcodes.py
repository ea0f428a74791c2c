"""UK postcodes: normalise and validate them, read a postcode-centroid lookup, geocode records.

Companies House gives each company's registered-office postcode. The usual open way to put a company on
the map is the centroid of its postcode unit in **OS Code-Point Open** (British National Grid,
EPSG:27700, integer metres): that is how the South Yorkshire firms in ``../shared/data`` were placed.

Normalisation (:func:`normalise_postcode`)
    Upper case, every whitespace removed, then one space before the 3-character inward code:
    ``" s11 8fx"``, ``"S118FX"``, ``"S11  8FX"`` → ``"S11 8FX"``. The result is validated against the
    Royal Mail unit format: outward code ``A9``, ``A99``, ``AA9``, ``AA99``, ``A9A`` or ``AA9A``, then
    inward ``9AA``, with Royal Mail's letter restrictions (no Q/V/X first, no I/J/Z second, no C/I/K/M/O/V
    in the inward code; plus the special ``GIR 0AA``). Anything else is *invalid*; an empty value is *blank*.

Lookups (:class:`PostcodeLookup`)
    * the official Code-Point Open zip (``codepo_gb.zip``: ``Data/CSV/<area>.csv``, no header; the column
      names are in ``Doc/Code-Point_Open_Column_Headers.csv``), or the same folder extracted, or any
      folder of such CSVs. Only the postcode-area files the input needs are parsed: the letters of the
      outward code name the file (``S11 8FX`` → ``s.csv``, ``DN5 0DD`` → ``dn.csv``), so geocoding a
      region reads a few MB, not the 1.7 million rows of Great Britain;
    * one CSV with a header holding a postcode column (``Postcode``, ``pcd``, ``pcds``, ``pcd2``) and
      coordinate columns (``Eastings``/``Northings``, ``easting``/``northing``, ``x``/``y``); a
      termination column (``doterm``, ``date_of_termination``, ``terminated``), when present, marks
      terminated postcodes (as in the ONS Postcode Directory);
    * one headerless CSV in Code-Point column order;
    * arrays (e.g. from a point layer) via :meth:`PostcodeLookup.from_arrays`.
    Code-Point rows with positional quality 90 have no coordinates (0, 0): they are reported as
    ``no_coordinates``, never placed at the grid origin.

Geocoding (:func:`geocode_postcodes`)
    Each record gets a status: ``matched``, ``blank``, ``invalid`` (not a postcode), ``unmatched``
    (a well-formed postcode missing from the lookup: new, mistyped or terminated and dropped from
    Code-Point), ``terminated`` (the lookup says so) or ``no_coordinates``. Coordinates are NaN unless
    matched.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

from ..errors import CreativeClustersError, check_callback

if TYPE_CHECKING:
    import pandas as pd

#: the column names of Code-Point Open (Doc/Code-Point_Open_Column_Headers.csv, second row)
CODEPOINT_COLUMNS = (
    "Postcode", "Positional_quality_indicator", "Eastings", "Northings", "Country_code",
    "NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code", "Admin_district_code", "Admin_ward_code",
)
#: Code-Point positional quality 90 = "no coordinates" (the row holds 0, 0)
NO_COORDINATES_QUALITY = 90

STATUS_MATCHED = "matched"
STATUS_BLANK = "blank"
STATUS_INVALID = "invalid"
STATUS_UNMATCHED = "unmatched"
STATUS_TERMINATED = "terminated"
STATUS_NO_COORDINATES = "no_coordinates"
STATUSES = (STATUS_MATCHED, STATUS_BLANK, STATUS_INVALID, STATUS_UNMATCHED, STATUS_TERMINATED, STATUS_NO_COORDINATES)

# Royal Mail unit format: letters Q, V, X never start a postcode; I, J, Z are never second; the third/fourth
# position letters and the inward letters are restricted (C, I, K, M, O, V never appear inward).
# Every one of the 1.74 million units in Code-Point Open 2025 matches this pattern.
_UNIT_RE = (
    r"^(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}$|^GIR 0AA$"
)
_POSTCODE_RE = re.compile(_UNIT_RE)
_AREA_RE = re.compile(r"^([A-Z]{1,2})")

_POSTCODE_ALIASES = ("postcode", "pcd", "pcds", "pcd2", "post_code", "postal_code", "pc")
_X_ALIASES = ("eastings", "easting", "east", "x", "oseast1m", "ea")
_Y_ALIASES = ("northings", "northing", "north", "y", "osnrth1m", "no")
_TERMINATED_ALIASES = ("doterm", "date_of_termination", "terminated", "termination_date")
_QUALITY_ALIASES = ("positional_quality_indicator", "pq", "quality")


# ---------------------------------------------------------------------------------------------------
# normalisation
# ---------------------------------------------------------------------------------------------------
def _is_blank(value) -> bool:
    import pandas as pd

    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def normalise_postcode(value) -> str | None:
    """The postcode in standard form (``"S11 8FX"``), or None when blank or not a valid UK postcode."""
    if _is_blank(value):
        return None
    text = re.sub(r"\s+", "", str(value)).upper()
    if len(text) < 5 or len(text) > 7:
        return None
    text = f"{text[:-3]} {text[-3:]}"
    return text if _POSTCODE_RE.match(text) else None


def is_valid_postcode(value) -> bool:
    """True when ``value`` normalises to a well-formed UK postcode unit."""
    return normalise_postcode(value) is not None


def postcode_area(postcode) -> str | None:
    """The postcode area (the letters at the start of the outward code): ``"DN5 0DD"`` → ``"DN"``."""
    norm = normalise_postcode(postcode)
    if norm is None:
        return None
    return _AREA_RE.match(norm).group(1)


def normalise_postcodes(values: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`normalise_postcode`.

    Returns ``(normalised, status)``: object arrays; ``normalised`` holds None for blank or invalid values,
    ``status`` holds ``"ok"``, ``"blank"`` or ``"invalid"``.
    """
    import pandas as pd

    items = values.tolist() if isinstance(values, (pd.Series, np.ndarray)) else list(values)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    # each distinct spelling once: a register repeats its postcodes (and its blanks) many times
    codes, uniques = pd.factorize(array)
    distinct_norm, distinct_status = _normalise_distinct(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    normalised = np.full(len(items), None, dtype=object)
    status = np.full(len(items), "blank", dtype=object)
    present = codes >= 0
    normalised[present] = distinct_norm[codes[present]]
    status[present] = distinct_status[codes[present]]
    return normalised, status


def _normalise_distinct(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    blank = series.map(_is_blank).to_numpy(dtype=bool)
    text = series.where(~blank, "").astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    length = text.str.len()
    text = text.str[:-3] + " " + text.str[-3:]
    ok = (~blank) & length.between(5, 7).to_numpy() & text.str.match(_UNIT_RE).to_numpy(dtype=bool)
    normalised = np.where(ok, text.to_numpy(dtype=object), None).astype(object)
    status = np.where(blank, "blank", np.where(ok, "ok", "invalid")).astype(object)
    return normalised, status


def _normalise_lookup_series(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    return text.str[:-3] + " " + text.str[-3:]


# ---------------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------------
@dataclass
class PostcodeLookup:
    """Postcode → centroid table (British National Grid unless ``crs`` says otherwise).

    ``frame`` is indexed by the normalised postcode and has float columns ``x``, ``y`` and bool columns
    ``terminated`` and ``no_coordinates``.
    """

    frame: pd.DataFrame
    source: str = ""
    crs: str = "EPSG:27700"
    files_read: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def __len__(self):
        return len(self.frame)

    @classmethod
    def from_arrays(cls, postcodes, x, y, terminated=None, source="arrays", crs="EPSG:27700") -> "PostcodeLookup":
        """Build a lookup from parallel sequences (invalid postcodes and non-finite coordinates dropped)."""
        import pandas as pd

        postcodes = list(postcodes)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if not (len(postcodes) == len(x) == len(y)):
            raise CreativeClustersError("The postcode lookup needs as many coordinates as postcodes.")
        norm, status = normalise_postcodes(postcodes)
        frame = pd.DataFrame(
            {
                "postcode": norm,
                "x": x,
                "y": y,
                "terminated": np.zeros(len(x), bool) if terminated is None else np.asarray(terminated, dtype=bool),
            }
        )
        warnings = []
        n_bad = int((status != "ok").sum())
        if n_bad:
            warnings.append(f"{n_bad} lookup row(s) without a valid postcode were ignored.")
        frame = frame[status == "ok"]
        frame["no_coordinates"] = ~(np.isfinite(frame["x"]) & np.isfinite(frame["y"]))
        return cls._finish(frame, source, crs, [], warnings)

    @classmethod
    def _finish(cls, frame, source, crs, files_read, warnings) -> "PostcodeLookup":
        frame = frame.reset_index(drop=True)
        dup = frame["postcode"].duplicated(keep="first")
        if dup.any():
            first = frame.loc[~dup].set_index("postcode")
            later = frame.loc[dup]
            moved = (
                (first.loc[later["postcode"], "x"].to_numpy() != later["x"].to_numpy())
                | (first.loc[later["postcode"], "y"].to_numpy() != later["y"].to_numpy())
            )
            warnings.append(
                f"The lookup lists {int(dup.sum())} postcode(s) more than once; the first row is used"
                + (f" ({int(moved.sum())} of them with different coordinates)." if moved.any() else ".")
            )
            frame = frame.loc[~dup]
        frame = frame.set_index("postcode")
        frame.index.name = "postcode"
        return cls(frame=frame[["x", "y", "terminated", "no_coordinates"]], source=source, crs=crs,
                   files_read=list(files_read), warnings=list(warnings))

    # --- reading ----------------------------------------------------------------------------------
    @classmethod
    def read(cls, path, areas: Iterable[str] | None = None, callback=None) -> "PostcodeLookup":
        """Read a Code-Point Open zip, an extracted Code-Point folder, or one CSV (see the module docstring).

        ``areas``: postcode areas to read (e.g. ``{"S", "DN"}``); for a zip or folder only those area files
        are parsed. None reads everything. ``callback(fraction) -> cancelled`` reports progress.
        """
        if path is None or str(path).strip() == "":
            raise CreativeClustersError("Choose a postcode lookup: the Code-Point Open zip, its folder or a CSV.")
        path = os.fspath(path)
        if not os.path.exists(path):
            raise CreativeClustersError(f"The postcode lookup '{path}' does not exist.")
        wanted = None if areas is None else {str(a).strip().upper() for a in areas if a}
        if os.path.isdir(path):
            return cls._read_folder(path, wanted, callback)
        lower = path.lower()
        if lower.endswith(".zip"):
            return cls._read_zip(path, wanted, callback)
        # one area file of an extracted Code-Point folder (e.g. Data/CSV/s.csv): read the folder, so that
        # every postcode area the input needs is found
        folder = os.path.dirname(os.path.abspath(path))
        if cls._area_of_file(path) is not None and _is_headerless_codepoint(path):
            siblings = [n for n in os.listdir(folder) if cls._area_of_file(n) is not None]
            if len(siblings) > 1:
                return cls._read_folder(folder, wanted, callback)
        if lower.endswith((".csv", ".txt", ".csv.gz", ".gz")):
            return cls._read_single_csv(path, wanted)
        raise CreativeClustersError(
            f"'{os.path.basename(path)}' is not a postcode lookup this tool reads: use the Code-Point Open zip, "
            "its extracted folder, or a CSV with Postcode, Eastings and Northings columns."
        )

    @staticmethod
    def _area_of_file(name: str) -> str | None:
        base = os.path.basename(name)
        stem, ext = os.path.splitext(base)
        if ext.lower() != ".csv" or not re.fullmatch(r"[A-Za-z]{1,2}", stem):
            return None
        return stem.upper()

    @classmethod
    def _read_zip(cls, path, wanted, callback):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise CreativeClustersError(f"'{os.path.basename(path)}' is not a readable zip file ({error}).") from error
        with archive:
            names = archive.namelist()
            area_files = {}
            for name in names:
                area = cls._area_of_file(name)
                if area is not None and "/doc/" not in ("/" + name.lower()):
                    area_files[area] = name
            if not area_files:
                csvs = [n for n in names if n.lower().endswith(".csv") and "doc/" not in n.lower()]
                if len(csvs) == 1:
                    with archive.open(csvs[0]) as fh:
                        return cls._read_single_csv(io.BytesIO(fh.read()), wanted, label=f"{path}:{csvs[0]}")
                raise CreativeClustersError(
                    f"'{os.path.basename(path)}' holds no Code-Point Open area files (Data/CSV/<area>.csv)."
                )
            columns = list(CODEPOINT_COLUMNS)
            header_names = [n for n in names if n.lower().endswith("code-point_open_column_headers.csv")]
            if header_names:
                with archive.open(header_names[0]) as fh:
                    columns = _columns_from_header_doc(fh.read().decode("utf-8", "replace")) or columns

            def opener(name):
                return archive.open(name)

            return cls._read_area_files(path, area_files, wanted, columns, opener, callback)

    @classmethod
    def _read_folder(cls, path, wanted, callback):
        area_files = {}
        columns = list(CODEPOINT_COLUMNS)
        for root, _dirs, files in os.walk(path):
            for name in files:
                full = os.path.join(root, name)
                if name.lower() == "code-point_open_column_headers.csv":
                    with open(full, encoding="utf-8", errors="replace") as fh:
                        columns = _columns_from_header_doc(fh.read()) or columns
                    continue
                area = cls._area_of_file(name)
                if area is not None:
                    area_files[area] = full
        if not area_files:
            raise CreativeClustersError(
                f"The folder '{path}' holds no Code-Point Open area files (<area>.csv such as s.csv, dn.csv)."
            )
        return cls._read_area_files(path, area_files, wanted, columns, lambda name: open(name, "rb"), callback)

    @classmethod
    def _read_area_files(cls, source, area_files, wanted, columns, opener, callback):
        import pandas as pd

        if wanted is None:
            selected = sorted(area_files)
        else:
            selected = sorted(a for a in wanted if a in area_files)
        warnings = []
        if wanted is not None:
            missing = sorted(a for a in wanted if a not in area_files)
            if missing:
                warnings.append(
                    "The lookup has no file for postcode area(s) " + ", ".join(missing)
                    + ": postcodes there stay unmatched (Code-Point Open covers Great Britain only)."
                )
        frames = []
        for k, area in enumerate(selected):
            check_callback(callback, k / max(len(selected), 1))
            with opener(area_files[area]) as fh:
                raw = fh.read()
            frames.append(_parse_codepoint_csv(raw, columns, label=area_files[area]))
        check_callback(callback, 1.0)
        if frames:
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = pd.DataFrame({"postcode": [], "x": [], "y": [], "terminated": [], "no_coordinates": []})
        return cls._finish(frame, os.fspath(source), "EPSG:27700", [area_files[a] for a in selected], warnings)

    @classmethod
    def _read_single_csv(cls, path_or_buffer, wanted, label=None):
        import pandas as pd

        label = label or os.fspath(path_or_buffer)
        try:
            raw = pd.read_csv(path_or_buffer, dtype=str, keep_default_na=False, header=None, nrows=1)
        except Exception as error:  # pandas raises several types for unreadable files
            raise CreativeClustersError(f"Could not read the postcode lookup '{label}': {error}") from error
        if hasattr(path_or_buffer, "seek"):
            path_or_buffer.seek(0)
        first = str(raw.iloc[0, 0]) if raw.shape[1] else ""
        if normalise_postcode(first) is not None:
            # no header: Code-Point column order
            frame = _parse_codepoint_csv(path_or_buffer, list(CODEPOINT_COLUMNS), label=label)
        else:
            try:
                table = pd.read_csv(path_or_buffer, dtype=str, keep_default_na=False)
            except Exception as error:
                raise CreativeClustersError(f"Could not read the postcode lookup '{label}': {error}") from error
            frame = _frame_from_header_csv(table, label)
        warnings = []
        if wanted is not None and len(frame):
            area = frame["postcode"].str.extract(r"^([A-Z]{1,2})", expand=False)
            frame = frame[area.isin(wanted)]
        return cls._finish(frame, label, "EPSG:27700", [label], warnings)


def _is_headerless_codepoint(path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    cell = first.split(",")[0].strip().strip('"')
    return normalise_postcode(cell) is not None


def _columns_from_header_doc(text: str) -> list | None:
    """Long column names from Doc/Code-Point_Open_Column_Headers.csv (row 2), or None."""
    rows = [r for r in text.splitlines() if r.strip()]
    if len(rows) >= 2:
        names = [c.strip().strip('"') for c in rows[1].split(",")]
        if len(names) >= 4 and names[0].lower() == "postcode":
            return names
    return None


def _pick(columns, aliases):
    lower = {c.lower().strip(): c for c in columns}
    for alias in aliases:
        if alias in lower:
            return lower[alias]
    return None


def _parse_codepoint_csv(raw, columns, label="") -> pd.DataFrame:
    """Parse one headerless Code-Point CSV (bytes, path or buffer) into postcode/x/y/terminated/no_coordinates."""
    import pandas as pd

    try:
        source = io.BytesIO(raw) if isinstance(raw, (bytes, bytearray)) else raw
        table = pd.read_csv(source, header=None, dtype=str, keep_default_na=False, usecols=[0, 1, 2, 3])
    except pd.errors.EmptyDataError:
        return pd.DataFrame({"postcode": [], "x": [], "y": [], "terminated": [], "no_coordinates": []})
    except Exception as error:
        raise CreativeClustersError(f"Could not read the Code-Point file '{label}': {error}") from error
    table.columns = [columns[i] if i < len(columns) else f"col{i}" for i in range(4)]
    pc_col = _pick(table.columns, _POSTCODE_ALIASES) or table.columns[0]
    q_col = _pick(table.columns, _QUALITY_ALIASES) or table.columns[1]
    x_col = _pick(table.columns, _X_ALIASES) or table.columns[2]
    y_col = _pick(table.columns, _Y_ALIASES) or table.columns[3]
    x = pd.to_numeric(table[x_col], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(table[y_col], errors="coerce").to_numpy(dtype=float)
    quality = pd.to_numeric(table[q_col], errors="coerce").to_numpy(dtype=float)
    no_coords = (quality == NO_COORDINATES_QUALITY) | ~np.isfinite(x) | ~np.isfinite(y)
    return pd.DataFrame(
        {
            "postcode": _normalise_lookup_series(table[pc_col]).to_numpy(dtype=object),
            "x": np.where(no_coords, np.nan, x),
            "y": np.where(no_coords, np.nan, y),
            "terminated": np.zeros(len(table), dtype=bool),
            "no_coordinates": no_coords,
        }
    )


def _frame_from_header_csv(table: pd.DataFrame, label: str) -> pd.DataFrame:
    import pandas as pd

    pc_col = _pick(table.columns, _POSTCODE_ALIASES)
    x_col = _pick(table.columns, _X_ALIASES)
    y_col = _pick(table.columns, _Y_ALIASES)
    if pc_col is None or x_col is None or y_col is None:
        raise CreativeClustersError(
            f"The postcode lookup '{os.path.basename(str(label))}' needs a postcode column (Postcode/pcd/pcds) and "
            f"coordinate columns (Eastings/Northings or x/y); it has: {', '.join(map(str, table.columns))}."
        )
    x = pd.to_numeric(table[x_col], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(table[y_col], errors="coerce").to_numpy(dtype=float)
    no_coords = ~np.isfinite(x) | ~np.isfinite(y)
    q_col = _pick(table.columns, _QUALITY_ALIASES)
    if q_col is not None:
        no_coords |= pd.to_numeric(table[q_col], errors="coerce").to_numpy(dtype=float) == NO_COORDINATES_QUALITY
    t_col = _pick(table.columns, _TERMINATED_ALIASES)
    if t_col is not None:
        value = table[t_col].astype(str).str.strip().str.lower()
        terminated = ~value.isin(["", "nan", "none", "null", "0", "false", "no", "n"])
    else:
        terminated = pd.Series(False, index=table.index)
    norm, status = normalise_postcodes(table[pc_col])
    frame = pd.DataFrame(
        {
            "postcode": norm,
            "x": np.where(no_coords, np.nan, x),
            "y": np.where(no_coords, np.nan, y),
            "terminated": terminated.to_numpy(dtype=bool),
            "no_coordinates": no_coords,
        }
    )
    return frame[status == "ok"]


# ---------------------------------------------------------------------------------------------------
# geocoding
# ---------------------------------------------------------------------------------------------------
@dataclass
class GeocodeResult:
    """Per-record outcome of :func:`geocode_postcodes` (arrays aligned with the input)."""

    x: np.ndarray
    y: np.ndarray
    matched: np.ndarray
    normalised: np.ndarray
    status: np.ndarray
    counts: dict
    crs: str = "EPSG:27700"
    warnings: list = field(default_factory=list)
    unmatched_examples: list = field(default_factory=list)


def needed_areas(postcodes: Iterable) -> set:
    """Postcode areas (the outward code's letters, when a digit follows them) among the distinct ``postcodes``.

    A cheap look at each distinct text, not a validation: it decides which Code-Point Open area files to read,
    and a stray area costs one small file."""
    import pandas as pd

    items = postcodes.tolist() if isinstance(postcodes, (pd.Series, np.ndarray)) else list(postcodes)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    distinct = pd.Series(pd.unique(array), dtype=object).dropna()
    text = distinct.astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    return set(text.str.extract(r"^([A-Z]{1,2})[0-9]", expand=False).dropna().unique())


class GeocodingTally:
    """Counts and examples of :func:`geocode_postcodes` results added up over the batches of a large file, so
    the log says the same as for one call on all the rows."""

    def __init__(self):
        self.counts = {s: 0 for s in STATUSES}
        self.counts["total"] = 0
        self.invalid_examples: set = set()
        self.unmatched_examples: set = set()

    def add(self, result: "GeocodeResult", postcodes, weights=None) -> None:
        """Add a result for ``postcodes``; ``weights`` (optional): how many records each of them stands for
        (e.g. the distinct postcodes of a large file and their counts)."""
        if weights is None:
            for key, value in result.counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
        else:
            weights = np.asarray(weights, dtype=np.int64)
            for status in STATUSES:
                self.counts[status] += int(weights[result.status == status].sum())
            self.counts["total"] += int(weights.sum())
        if len(self.invalid_examples) < 5:
            values = list(postcodes)
            self.invalid_examples |= {str(values[i]) for i in np.flatnonzero(result.status == STATUS_INVALID)[:5]}
        if len(self.unmatched_examples) < 10:
            self.unmatched_examples |= set(result.normalised[result.status == STATUS_UNMATCHED][:10])

    def warnings(self, lookup=None) -> list:
        return list(getattr(lookup, "warnings", []) or []) + geocoding_warnings(
            self.counts, sorted(self.invalid_examples)[:5], sorted(self.unmatched_examples)[:10]
        )


def geocoding_warnings(counts: dict, invalid_examples, unmatched_examples) -> list:
    """The log's warnings for the status ``counts`` of a geocoding (``total`` included)."""
    n = counts["total"]
    warnings = []
    if n == 0:
        warnings.append("There are no records to geocode.")
    if counts[STATUS_BLANK]:
        warnings.append(f"{counts[STATUS_BLANK]} record(s) have no postcode and were not placed.")
    if counts[STATUS_INVALID]:
        examples = ", ".join(repr(e) for e in list(invalid_examples)[:5])
        warnings.append(f"{counts[STATUS_INVALID]} record(s) have text that is not a UK postcode (e.g. {examples}).")
    if counts[STATUS_UNMATCHED]:
        warnings.append(
            f"{counts[STATUS_UNMATCHED]} well-formed postcode(s) are not in the lookup (new, mistyped, "
            f"terminated, or outside its coverage), e.g. {', '.join(list(unmatched_examples)[:5])}."
        )
    if counts[STATUS_TERMINATED]:
        warnings.append(f"{counts[STATUS_TERMINATED]} postcode(s) are terminated according to the lookup.")
    if counts[STATUS_NO_COORDINATES]:
        warnings.append(f"{counts[STATUS_NO_COORDINATES]} postcode(s) have no coordinates in the lookup.")
    if n and counts[STATUS_MATCHED] / n < 0.5:
        warnings.append(
            f"Only {counts[STATUS_MATCHED]} of {n} records were placed: check the postcode field and that the "
            "lookup covers the region."
        )
    return warnings


def geocode_postcodes(postcodes: Iterable, lookup, callback=None) -> GeocodeResult:
    """Place each record at its postcode centroid.

    Parameters
    ----------
    postcodes : sequence of str (None/NaN allowed)
        One postcode per record, in any common spelling (see :func:`normalise_postcode`).
    lookup : PostcodeLookup or path
        A lookup, or a path given to :meth:`PostcodeLookup.read` (only the postcode areas present in
        ``postcodes`` are read).
    callback : callable(fraction) -> bool, optional
        Progress; returning True cancels (:class:`~creative_clusters_plugin.core.errors.CancelledError`).

    Returns
    -------
    GeocodeResult
        ``x``, ``y`` (NaN when not matched), ``matched`` mask, ``normalised`` postcodes, ``status`` per record
        (one of :data:`STATUSES`), ``counts`` per status plus ``total``, and ``warnings`` for the log.
    """
    import pandas as pd

    values = postcodes.tolist() if isinstance(postcodes, (pd.Series, np.ndarray)) else list(postcodes)
    n = len(values)
    check_callback(callback, 0.0)
    norm, status0 = normalise_postcodes(values)
    if not isinstance(lookup, PostcodeLookup):
        areas = set(pd.Series(norm[status0 == "ok"], dtype=object).str.extract(r"^([A-Z]{1,2})", expand=False).dropna())

        def sub(fraction):
            return callback(0.05 + 0.85 * fraction) if callback is not None else False

        lookup = PostcodeLookup.read(lookup, areas=areas, callback=sub)
    check_callback(callback, 0.9)

    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    status = np.where(status0 == "ok", STATUS_UNMATCHED, status0).astype(object)
    ok = np.flatnonzero(status0 == "ok")
    if len(ok) and len(lookup.frame):
        position = lookup.frame.index.get_indexer(pd.Index(norm[ok]))
        found = position >= 0
        rows = ok[found]
        pos = position[found]
        terminated = lookup.frame["terminated"].to_numpy()[pos]
        no_coords = lookup.frame["no_coordinates"].to_numpy()[pos]
        good = ~terminated & ~no_coords
        x[rows[good]] = lookup.frame["x"].to_numpy()[pos[good]]
        y[rows[good]] = lookup.frame["y"].to_numpy()[pos[good]]
        status[rows[good]] = STATUS_MATCHED
        status[rows[terminated]] = STATUS_TERMINATED
        status[rows[~terminated & no_coords]] = STATUS_NO_COORDINATES
    matched = status == STATUS_MATCHED
    counts = {s: int((status == s).sum()) for s in STATUSES}
    counts["total"] = n

    invalid_examples = sorted({str(values[i]) for i in np.flatnonzero(status == STATUS_INVALID)[:200]})[:5]
    unmatched_examples = sorted(set(norm[status == STATUS_UNMATCHED]))[:10]
    warnings = list(lookup.warnings) + geocoding_warnings(counts, invalid_examples, unmatched_examples)
    check_callback(callback, 1.0)
    return GeocodeResult(
        x=x, y=y, matched=matched, normalised=norm, status=status, counts=counts, crs=lookup.crs,
        warnings=warnings, unmatched_examples=unmatched_examples,
    )
