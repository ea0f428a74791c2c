"""Spatial autocorrelation: weights, Getis-Ord Gi*, local and global Moran's I, permutation inference and significance, optimized and emerging hot spots, incidents to cells.

No QGIS import."""
