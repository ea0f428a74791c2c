"""Processing provider and algorithms: thin adapters from QGIS sources/sinks to the QGIS-free core."""
