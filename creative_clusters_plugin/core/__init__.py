"""QGIS-free analytics for Creative Clusters (numpy, scipy, pandas, geopandas, rasterio only).

Nothing in this package may import ``qgis`` or Qt: every function here is testable on its own.
"""
