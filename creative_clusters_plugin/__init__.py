"""Creative Clusters QGIS plugin.

QGIS calls :func:`classFactory` with the desktop ``iface`` (``None`` under ``qgis_process``).
The import is lazy so that the core analytics can be used without QGIS.
"""


def classFactory(iface):  # noqa: N802 - name required by QGIS
    from .plugin import CreativeClustersPlugin

    return CreativeClustersPlugin(iface)
