"""Styling of result layers with QGIS renderers, shared by the style dock and the algorithms' outputs."""

from .apply import (  # noqa: F401
    STYLES,
    apply_style,
    build_renderer,
    detect_result_type,
    load_qml,
    matching_styles,
    restore_style,
    save_qml,
    snapshot_style,
)
