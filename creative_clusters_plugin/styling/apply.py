"""Recognise Creative Clusters result layers by their fields and style them with QGIS renderers.

One entry point, :func:`apply_style`, serves the style dock, the Processing post-processors (outputs load
styled) and the print layouts, so a layer styled in the dock and one loaded by Processing look the same.
Works headless: no ``iface``, only ``qgis.core``.

Style names (public): ``gi_bin``, ``cotype``, ``lq``, ``microclusters``, ``corridor_links``, ``corridors``,
``density``, ``corridor_surface``, ``stacks``, ``classified_firms``, ``clusters``, ``growth`` and
``emerging_hotspots``.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsMapLayer, QgsMapLayerStyle, QgsRasterLayer, QgsVectorLayer

from ..core.errors import CreativeClustersError
from . import renderers
from .renderers import find_field

#: style name -> (display name, layer kind "vector"/"raster", default field or None)
STYLES = {
    "gi_bin": ("Getis-Ord Gi* hot and cold spots (Gi_Bin)", "vector", "Gi_Bin"),
    "cotype": ("Local Moran clusters and outliers (COType)", "vector", "COType"),
    "lq": ("Location quotients in classes", "vector", "lq_creative"),
    "microclusters": ("Microclusters by dominant sub-sector", "vector", "dominant_subsector"),
    "corridor_links": ("Corridor links: width by gravity", "vector", "gravity"),
    "corridors": ("Corridors by rank", "vector", "rank"),
    "stacks": ("Stacked registered-office addresses", "vector", "cc_stack"),
    "classified_firms": ("Firms by creative sub-sector", "vector", "cc_subsector"),
    "density": ("Density surface (pseudocolour, low values transparent)", "raster", None),
    "corridor_surface": ("Normalised least-cost corridor surface", "raster", None),
    "clusters": ("Areas selected as creative clusters (cc_cluster)", "vector", "cc_cluster"),
    "growth": ("Growth-potential classes (cc_gp_class)", "vector", "cc_gp_class"),
    "emerging_hotspots": ("Emerging hot spots (PATTERN / CATEGORY)", "vector", "CATEGORY"),
}

_BUILDERS = {
    "gi_bin": renderers.gi_bin_renderer,
    "cotype": renderers.cotype_renderer,
    "lq": renderers.lq_renderer,
    "microclusters": renderers.microclusters_renderer,
    "corridor_links": renderers.corridor_links_renderer,
    "corridors": renderers.corridors_renderer,
    "stacks": renderers.stacks_renderer,
    "classified_firms": renderers.classified_firms_renderer,
    "clusters": renderers.selected_clusters_renderer,
    "growth": renderers.growth_renderer,
    "emerging_hotspots": renderers.emerging_hotspots_renderer,
}

#: options each style accepts (passed through ``apply_style(**options)``)
STYLE_OPTIONS = {
    "lq": ("method", "classes", "ramp", "invert"),
    "corridor_links": ("classes", "method"),
    "corridors": ("ramp",),
    "density": ("band", "ramp", "invert", "transparent_fraction", "classes", "upper_quantile"),
}

_DENSITY_WORDS = ("density", "densities", "kde", "heatmap", "kernel")


def _is_raster(layer):
    return isinstance(layer, QgsRasterLayer) or (
        isinstance(layer, QgsMapLayer) and layer.type() == QgsMapLayer.RasterLayer
    )


def _is_vector(layer):
    return isinstance(layer, QgsVectorLayer) or (
        isinstance(layer, QgsMapLayer) and layer.type() == QgsMapLayer.VectorLayer
    )


def _raster_mentions_density(layer):
    # the file name, not the whole path: a folder called "density" says nothing about this raster
    texts = [layer.name(), Path(layer.source().split("|")[0]).name, getattr(layer, "abstract", lambda: "")()]
    try:
        texts.append(layer.dataProvider().generateBandName(1))
        texts.append(layer.dataProvider().bandDescription(1) if hasattr(layer.dataProvider(), "bandDescription") else "")
    except Exception:  # some providers have no band names
        pass
    try:
        texts.append(layer.metadata().abstract())
        texts.append(layer.metadata().title())
    except Exception:
        pass
    joined = " ".join(str(t) for t in texts if t).lower()
    return any(word in joined for word in _DENSITY_WORDS)


def matching_styles(layer) -> list[str]:
    """Every style that fits ``layer``'s fields, best match first (empty for other layers)."""
    if layer is None:
        return []
    if _is_raster(layer):
        if layer.bandCount() == 1 and _raster_mentions_density(layer):
            return ["density"]
        if layer.bandCount() == 1 and "corridor" in (layer.name() + " " + Path(layer.source()).name).lower():
            return ["corridor_surface"]
        return []
    if not _is_vector(layer):
        return []
    found = []
    if find_field(layer, "PATTERN") and find_field(layer, "CATEGORY"):
        found.append("emerging_hotspots")
    if find_field(layer, "Gi_Bin"):
        found.append("gi_bin")
    if find_field(layer, "COType"):
        found.append("cotype")
    if find_field(layer, "corridor_id") and find_field(layer, "rank"):
        found.append("corridors")
    if find_field(layer, "gravity") and find_field(layer, "cost_dist"):
        found.append("corridor_links")
    if find_field(layer, "dominant_subsector", "cc_cluster_id"):
        found.append("microclusters")
    if find_field(layer, "cc_stack"):
        found.append("stacks")
    if find_field(layer, "cc_gp_class"):
        found.append("growth")
    if find_field(layer, "cc_cluster") and find_field(layer, "cc_reason"):
        found.append("clusters")
    names = [n.lower() for n in layer.fields().names()]
    if "lq_creative" in names or any(n.startswith("lq_") for n in names):
        found.append("lq")
    if find_field(layer, "cc_subsector") and find_field(layer, "cc_creative"):
        found.append("classified_firms")
    return found


def detect_result_type(layer) -> str | None:
    """The result type of ``layer`` recognised from its fields (or a density raster), None otherwise.

    ``PATTERN`` + ``CATEGORY`` (the emerging hot spot output, with ``N_HOT``; ArcGIS Pro's output has the first
    two) → ``"emerging_hotspots"``; ``Gi_Bin`` → ``"gi_bin"``; ``COType`` → ``"cotype"``; ``corridor_id`` +
    ``rank`` → ``"corridors"``;
    ``gravity`` + ``cost_dist`` → ``"corridor_links"``; ``dominant_subsector`` / ``cc_cluster_id`` →
    ``"microclusters"``; ``cc_stack`` → ``"stacks"``; ``lq_creative`` / ``lq_*`` → ``"lq"``;
    ``cc_subsector`` + ``cc_creative`` → ``"classified_firms"``; a single-band raster whose name, source or
    description mentions density → ``"density"``.
    """
    styles = matching_styles(layer)
    return styles[0] if styles else None


def build_renderer(layer, style_name=None, field=None, **options):
    """The renderer :func:`apply_style` would set, without touching the layer."""
    if layer is None or not layer.isValid():
        raise CreativeClustersError("There is no valid layer to style.")
    if style_name is None:
        style_name = detect_result_type(layer)
        if style_name is None:
            raise CreativeClustersError(
                f"Layer '{layer.name()}' is not a Creative Clusters result (no Gi_Bin, COType, PATTERN/CATEGORY, lq_…, "
                "dominant_subsector, corridor or density fields): choose a style explicitly."
            )
    if style_name not in STYLES:
        raise CreativeClustersError(f"Unknown style '{style_name}'. Known styles: {', '.join(STYLES)}.")
    kind = STYLES[style_name][1]
    if kind == "raster":
        if not _is_raster(layer):
            raise CreativeClustersError(f"The '{style_name}' style is for rasters; '{layer.name()}' is not a raster.")
        if style_name == "corridor_surface":
            allowed = {k: v for k, v in options.items() if k in ("band", "ramp", "classes") and v is not None}
            return renderers.corridor_surface_renderer(layer, **allowed)
        allowed = {k: v for k, v in options.items() if k in STYLE_OPTIONS["density"] and v is not None}
        return renderers.density_renderer(layer, **allowed)
    if not _is_vector(layer):
        raise CreativeClustersError(f"The '{style_name}' style is for vector layers; '{layer.name()}' is not one.")
    allowed = {k: v for k, v in options.items() if k in STYLE_OPTIONS.get(style_name, ()) and v is not None}
    return _BUILDERS[style_name](layer, field, **allowed)


def apply_style(layer, style_name=None, field=None, **options):
    """Style ``layer`` with a Creative Clusters style and return the renderer set.

    ``style_name`` None means: detect it from the fields (:func:`detect_result_type`). ``field`` overrides
    the styled field. ``options`` per style: ``lq`` — ``method`` ("fixed", "jenks", "quantile", "equal",
    "pretty"), ``classes``, ``ramp`` (a QGIS colour ramp name), ``invert``; ``corridor_links`` —
    ``classes``, ``method``; ``corridors`` — ``ramp``; ``density`` — ``ramp``, ``invert``,
    ``transparent_fraction`` (share of the value range left transparent, default 0.05), ``classes``,
    ``upper_quantile``. Unknown options are ignored. Raises ``CreativeClustersError`` with a readable message
    when the layer does not fit the style.
    """
    renderer = build_renderer(layer, style_name, field, **options)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
    layer.emitStyleChanged()
    return layer.renderer()


def save_qml(layer, path) -> Path:
    """Write the layer's style to a ``.qml`` file; returns the path written."""
    path = Path(path)
    if path.suffix.lower() != ".qml":
        path = path.with_suffix(".qml")
    message, ok = layer.saveNamedStyle(str(path))
    if not ok:
        raise CreativeClustersError(f"Could not save the style to {path}: {message}")
    return path


def load_qml(layer, path) -> None:
    """Load a ``.qml`` style file into the layer."""
    path = Path(path)
    if not path.is_file():
        raise CreativeClustersError(f"The style file {path} does not exist.")
    message, ok = layer.loadNamedStyle(str(path))
    if not ok:
        raise CreativeClustersError(f"Could not load the style {path}: {message}")
    layer.triggerRepaint()
    layer.emitStyleChanged()


def snapshot_style(layer) -> QgsMapLayerStyle:
    """The layer's current style (renderer, labels …) to restore later with :func:`restore_style`."""
    style = QgsMapLayerStyle()
    style.readFromLayer(layer)
    return style


def restore_style(layer, style: QgsMapLayerStyle) -> None:
    style.writeToLayer(layer)
    layer.triggerRepaint()
    layer.emitStyleChanged()
