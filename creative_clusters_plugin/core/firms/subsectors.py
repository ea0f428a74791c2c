"""The nine DCMS creative-industry sub-sectors: display names and the short codes used in field names.

The SIC classes that belong to each sub-sector are data (``resources/definitions/dcms_creative_sic.csv``),
not code; this module only fixes the names and their stable order, which output field names depend on.
"""

from collections import OrderedDict

#: code -> DCMS sub-sector name, in the DCMS order. Codes are used in field names (``n_<code>``, ``lq_<code>``).
SUBSECTORS = OrderedDict(
    [
        ("advert", "Advertising and marketing"),
        ("archit", "Architecture"),
        ("crafts", "Crafts"),
        ("design", "Design and designer fashion"),
        ("film", "Film, TV, video, radio and photography"),
        ("it", "IT, software and computer services"),
        ("publish", "Publishing"),
        ("museums", "Museums, galleries and libraries"),
        ("music", "Music, performing and visual arts"),
    ]
)

SUBSECTOR_CODES = tuple(SUBSECTORS)
SUBSECTOR_NAMES = tuple(SUBSECTORS.values())
CODE_BY_NAME = {name: code for code, name in SUBSECTORS.items()}


def code_for(name_or_code: str) -> str:
    """Short code for a sub-sector given its name or code (case-insensitive); KeyError when unknown."""
    key = str(name_or_code).strip()
    if key.lower() in SUBSECTORS:
        return key.lower()
    for name, code in CODE_BY_NAME.items():
        if name.lower() == key.lower():
            return code
    raise KeyError(f"Unknown creative sub-sector '{name_or_code}'. Known: {', '.join(SUBSECTOR_NAMES)}")
