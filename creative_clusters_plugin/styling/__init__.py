"""Styling of result layers with QGIS renderers, shared by the style dock and the algorithms' outputs."""

from .apply import apply_style, detect_result_type  # noqa: F401
