"""Print layouts: the creative-cluster atlas (cover, overview, one page per feature) and the one-page hot-spot map."""
