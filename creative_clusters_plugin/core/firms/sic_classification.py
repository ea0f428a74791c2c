"""Classify firms into the DCMS creative sub-sectors (and high-tech, KIBS, dormant) from their SIC codes.

The definition is data (``resources/definitions/dcms_creative_sic.csv``): each row maps a SIC 2007 code at
one level — 2-digit division, 4-digit class or 5-digit UK subclass — to a sector (``creative``, ``hightech``,
``kibs``, ``dormant``) and, for creative rows, a DCMS sub-sector. A firm's code matches the most specific row.

Companies House writes up to four codes per company as text, ``"59111 - Motion picture production
activities"``. :func:`parse_sic` also accepts ``"59111"``, ``"5911"``, ``"59.11"`` and ``"59.2"`` (= 59.20).

Rules (``rule``):

* ``FIRST`` (0): the first parseable code of the firm (in field order) decides every flag.
* ``ANY`` (1): a firm is creative / high-tech / KIBS when any of its codes is; its sub-sector is that of
  its first creative code.

``cc_dormant`` is true when every parseable code is a dormant code (99999, 74990): a company that also
declares a trading activity is not dormant. Dormant firms are never creative.

Reference: DCMS (2016) *Creative Industries Economic Estimates: Methodology*; methods.md §1.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from ..errors import CreativeClustersError
from .subsectors import SUBSECTOR_NAMES

if TYPE_CHECKING:
    import pandas as pd

SECTORS = ("creative", "hightech", "kibs", "dormant")

#: Default definition shipped with the plugin (installed layout first, source tree second).
_HERE = Path(__file__).resolve().parent.parent  # core/ (this module is in core/firms/)
_DEFAULT_CANDIDATES = (
    _HERE.parent / "resources" / "definitions" / "dcms_creative_sic.csv",
    _HERE.parent.parent / "resources" / "definitions" / "dcms_creative_sic.csv",
)

# A SIC code at the start of the text: 5 digits, 4 digits, or NN.N / NN.NN (optionally followed by /N).
_SIC_PATTERN = re.compile(r"^\s*(\d{2})(?:\.(\d{1,2})|(\d{2,3}))?(?=\D|$)")


class Rule(IntEnum):
    FIRST = 0
    ANY = 1


@dataclass(frozen=True)
class ParsedSic:
    """A parsed code: ``division`` (2 digits), ``sic4`` (4 digits or None), ``sic5`` (5 digits or None)."""

    division: str
    sic4: str | None
    sic5: str | None


def parse_sic(value) -> ParsedSic | None:
    """Parse one SIC text; None when it holds no code (blank, NULL, "None Supplied", garbage)."""
    if value is None:
        return None
    if isinstance(value, float):
        if not np.isfinite(value):
            return None
        value = str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    match = _SIC_PATTERN.match(text)
    if match is None:
        return None
    division, dotted, plain = match.groups()
    if dotted is not None:
        return ParsedSic(division, division + dotted.ljust(2, "0"), None)
    if plain is None:
        return ParsedSic(division, None, None)
    if len(plain) == 2:
        return ParsedSic(division, division + plain, None)
    return ParsedSic(division, division + plain[:2], division + plain)


@dataclass
class SicDefinition:
    """Lookup tables built from a definition CSV."""

    subclass: dict  # "99999" -> (sector set, subsector)
    klass: dict  # "5911" -> ...
    division: dict  # "69" -> ...
    source: str

    def lookup(self, parsed: ParsedSic | None) -> tuple[frozenset, str | None]:
        """(sectors, creative sub-sector) of a parsed code: the most specific matching rows win."""
        if parsed is None:
            return frozenset(), None
        sectors: set = set()
        subsector = None
        # the most specific level that has a row decides each sector; levels add up
        for table, key in ((self.subclass, parsed.sic5), (self.klass, parsed.sic4), (self.division, parsed.division)):
            if key is None or key not in table:
                continue
            level_sectors, level_subsector = table[key]
            sectors |= level_sectors
            if subsector is None and level_subsector:
                subsector = level_subsector
        return frozenset(sectors), subsector


def default_definition_path() -> Path:
    for candidate in _DEFAULT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise CreativeClustersError(
        "The default DCMS definition (resources/definitions/dcms_creative_sic.csv) is missing; "
        "reinstall the plugin or pass a definition CSV."
    )


def load_definition(path: str | Path | None = None) -> SicDefinition:
    """Read a definition CSV (columns ``code, sector, subsector[, description]``)."""
    path = Path(path) if path else default_definition_path()
    if not path.is_file():
        raise CreativeClustersError(f"The definition file '{path}' does not exist.")
    tables: dict = {5: {}, 4: {}, 2: {}}
    known_subsectors = {name.lower(): name for name in SUBSECTOR_NAMES}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {c.strip().lower() for c in (reader.fieldnames or [])}
        if not {"code", "sector"} <= columns:
            raise CreativeClustersError(
                f"The definition file '{path.name}' needs the columns 'code' and 'sector' (and 'subsector' "
                f"for creative rows); it has: {', '.join(sorted(columns)) or 'none'}."
            )
        for line_no, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            code, sector = row.get("code", ""), row.get("sector", "").lower()
            if not code:
                continue
            if sector not in SECTORS:
                raise CreativeClustersError(
                    f"{path.name} line {line_no}: unknown sector '{sector}' (use one of {', '.join(SECTORS)})."
                )
            parsed = parse_sic(code)
            if parsed is None:
                raise CreativeClustersError(f"{path.name} line {line_no}: '{code}' is not a SIC code.")
            digits = re.sub(r"\D", "", code)
            level = 2 if len(digits) == 2 else (5 if len(digits) == 5 and "." not in code else 4)
            key = {2: parsed.division, 4: parsed.sic4, 5: parsed.sic5}[level]
            subsector = None
            if sector == "creative":
                name = row.get("subsector", "")
                subsector = known_subsectors.get(name.lower())
                if subsector is None:
                    raise CreativeClustersError(
                        f"{path.name} line {line_no}: creative code {code} has sub-sector '{name}', which is "
                        f"not one of the nine DCMS sub-sectors ({'; '.join(SUBSECTOR_NAMES)})."
                    )
            sectors, old_sub = tables[level].get(key, (frozenset(), None))
            tables[level][key] = (sectors | {sector}, old_sub or subsector)
    if not any(tables[level] for level in tables):
        raise CreativeClustersError(f"The definition file '{path.name}' has no rows.")
    return SicDefinition(subclass=tables[5], klass=tables[4], division=tables[2], source=str(path))


@dataclass
class ClassificationResult:
    """Output of :func:`classify_frame`.

    ``table`` is aligned to the input index with columns ``sic4``, ``cc_creative``, ``cc_subsector``,
    ``cc_hightech``, ``cc_kibs``, ``cc_dormant``. ``counts`` maps each sub-sector name (and "creative",
    "hightech", "kibs", "dormant", "no code") to a firm count; ``unparseable`` counts non-blank texts that
    hold no SIC code.
    """

    table: pd.DataFrame
    counts: dict
    unparseable: int
    unknown_codes: int
    warnings: list = field(default_factory=list)


def classify_frame(
    frame: pd.DataFrame,
    sic_columns: Sequence[str],
    rule: int = Rule.FIRST,
    definition: SicDefinition | None = None,
) -> ClassificationResult:
    """Classify every row of ``frame`` from the SIC texts in ``sic_columns`` (1 to 4 columns, in order)."""
    import pandas as pd

    sic_columns = list(sic_columns)
    if not 1 <= len(sic_columns) <= 4:
        raise CreativeClustersError("Choose between one and four SIC code fields.")
    missing = [c for c in sic_columns if c not in frame.columns]
    if missing:
        raise CreativeClustersError(f"SIC field(s) not found in the input: {', '.join(missing)}.")
    rule = Rule(int(rule))
    definition = definition or load_definition()

    # classify each distinct combination of texts once (a register repeats the same few thousand), then expand
    n = len(frame)
    if n:
        codes = [pd.factorize(frame[column].to_numpy(dtype=object))[0] for column in sic_columns]
        _, first, inverse = np.unique(np.column_stack(codes), axis=0, return_index=True, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
    else:
        first = np.empty(0, dtype=np.int64)
        inverse = np.empty(0, dtype=np.int64)
    distinct = _classify_rows(frame.iloc[first], sic_columns, rule, definition)
    sic4, creative, subsector, hightech, kibs, dormant, unparseable_rows, no_code_rows, unknown_rows = (
        column[inverse] for column in distinct
    )
    unparseable = int(unparseable_rows.sum())
    no_code = int(no_code_rows.sum())
    unknown = int(unknown_rows.sum())

    table = pd.DataFrame(
        {
            "sic4": sic4,
            "cc_creative": creative,
            "cc_subsector": subsector,
            "cc_hightech": hightech,
            "cc_kibs": kibs,
            "cc_dormant": dormant,
        },
        index=frame.index,
    )
    counts = {name: int(np.sum(subsector == name)) for name in SUBSECTOR_NAMES}
    counts.update(
        creative=int(creative.sum()),
        hightech=int(hightech.sum()),
        kibs=int(kibs.sum()),
        dormant=int(dormant.sum()),
        **{"no code": no_code},
    )
    warnings = []
    if unparseable:
        warnings.append(
            f"{unparseable} SIC text(s) held no recognisable code (e.g. 'None Supplied'); they were ignored."
        )
    if n and counts["no code"] == n:
        warnings.append("No firm has a parseable SIC code: check that the right SIC fields were chosen.")
    return ClassificationResult(table=table, counts=counts, unparseable=unparseable, unknown_codes=unknown, warnings=warnings)


def _classify_rows(frame: pd.DataFrame, sic_columns, rule, definition):
    """Per-row arrays (sic4, creative, subsector, hightech, kibs, dormant, unparseable texts, no code, unknown
    class) for the rows of ``frame``, one Python pass."""
    cache: dict = {}
    n = len(frame)
    unparseable = np.zeros(n, dtype=np.int64)
    parsed_columns = []
    for column in sic_columns:
        values = frame[column].to_numpy(dtype=object)
        parsed = np.empty(n, dtype=object)
        for i, value in enumerate(values):
            key = value if isinstance(value, str) or value is None else repr(value)
            if key not in cache:
                cache[key] = parse_sic(value)
            parsed[i] = cache[key]
            if parsed[i] is None and _is_nonblank(value):
                unparseable[i] += 1
        parsed_columns.append(parsed)

    sic4 = np.empty(n, dtype=object)
    creative = np.zeros(n, dtype=bool)
    hightech = np.zeros(n, dtype=bool)
    kibs = np.zeros(n, dtype=bool)
    dormant = np.zeros(n, dtype=bool)
    subsector = np.empty(n, dtype=object)
    no_code = np.zeros(n, dtype=bool)
    unknown = np.zeros(n, dtype=bool)
    lookup_cache: dict = {}
    for i in range(n):
        codes = [col[i] for col in parsed_columns if col[i] is not None]
        if not codes:
            no_code[i] = True
            continue
        looked = []
        for code in codes:
            if code not in lookup_cache:
                lookup_cache[code] = definition.lookup(code)
            looked.append(lookup_cache[code])
        sic4[i] = codes[0].sic4
        unknown[i] = codes[0].sic4 is None
        is_dormant = [("dormant" in sectors) for sectors, _ in looked]
        if all(is_dormant):
            dormant[i] = True
            continue
        active = [(sectors, sub) for (sectors, sub), d in zip(looked, is_dormant) if not d]
        if rule == Rule.FIRST:
            active = active[:1]
        for sectors, sub in active:
            if "creative" in sectors and not creative[i]:
                creative[i] = True
                subsector[i] = sub
            hightech[i] |= "hightech" in sectors
            kibs[i] |= "kibs" in sectors
    return sic4, creative, subsector, hightech, kibs, dormant, unparseable, no_code, unknown


def _is_nonblank(value) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and not np.isfinite(value):
        return False
    return bool(str(value).strip())


def companies_house_sic_columns(columns: Iterable[str]) -> list[str]:
    """The Companies House SIC fields present among ``columns`` (``SICCode.SicText_1`` … ``_4``), in order."""
    columns = list(columns)

    def normalised(name):  # case and punctuation aside: ogr2ogr into PostGIS writes siccode_sictext_1
        return re.sub(r"[^0-9a-z]", "_", name.lower())

    by_name = {}
    for column in columns:
        by_name.setdefault(normalised(column), column)
    found = []
    for i in range(1, 5):
        for candidate in (f"SICCode.SicText_{i}", f"SicText_{i}", f"sic{i}"):
            if normalised(candidate) in by_name:
                found.append(by_name[normalised(candidate)])
                break
    return found
