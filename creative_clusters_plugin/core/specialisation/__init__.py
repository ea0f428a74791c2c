"""How specialised places are: location quotients with intervals, Nesta's cluster recipes, the growth-potential score, joining firms to areas.

No QGIS import."""
