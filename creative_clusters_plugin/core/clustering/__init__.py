"""Density-based clustering of firms: DBSCAN, HDBSCAN and the microcluster profiles built on them.

No QGIS import."""
