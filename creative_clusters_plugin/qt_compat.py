"""What differs between QGIS 3.22 (Qt5) and QGIS 4 (Qt6) for this plugin, in one place.

* Field types: QGIS < 3.38 takes ``QVariant.Type`` for :class:`QgsField`; 3.38 and QGIS 4 take
  ``QMetaType.Type`` (Qt6 has no ``QVariant.Type``). The numbers are the same (Double = 6, Int = 2 …), so
  :func:`field_type` returns the right enum for the running QGIS and :func:`same_type` compares either kind.
* ``QAction`` lives in QtGui under Qt6 and in QtWidgets under Qt5.
"""

from __future__ import annotations

from qgis.core import Qgis

try:  # Qt6
    from qgis.PyQt.QtGui import QAction  # noqa: F401
except ImportError:  # Qt5
    from qgis.PyQt.QtWidgets import QAction  # noqa: F401

_NAMES = {"double": "Double", "int": "Int", "long": "LongLong", "string": "QString", "bool": "Bool", "date": "QDate",
          "datetime": "QDateTime"}
_QVARIANT_NAMES = {"string": "String", "date": "Date", "datetime": "DateTime"}


def _uses_metatype() -> bool:
    return Qgis.QGIS_VERSION_INT >= 33800


def field_type(kind: str):
    """The field type ``kind`` ("double", "int", "long", "string", "bool", "date", "datetime") as the running
    QGIS's QgsField expects it."""
    if _uses_metatype():
        from qgis.PyQt.QtCore import QMetaType

        return getattr(QMetaType.Type, _NAMES[kind])
    from qgis.PyQt.QtCore import QVariant

    return getattr(QVariant, _QVARIANT_NAMES.get(kind, _NAMES[kind]))


def type_number(value) -> int:
    """The integer behind a QVariant.Type or QMetaType.Type."""
    return int(value.value) if hasattr(value, "value") else int(value)


def same_type(value, kind: str) -> bool:
    return type_number(value) == type_number(field_type(kind))


__all__ = ["QAction", "field_type", "same_type", "type_number"]
