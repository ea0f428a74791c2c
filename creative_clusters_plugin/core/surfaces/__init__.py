"""Surfaces over space: kernel density, resistance and least-cost distance, corridors, GeoTIFF I/O.

No QGIS import."""
