"""Firms and where they are: SIC codes to DCMS creative sub-sectors, postcode geocoding, stacked registered offices, register dates.

No QGIS import."""
