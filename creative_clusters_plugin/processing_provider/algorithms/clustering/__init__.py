"""Processing algorithms — density-based clustering of firms: DBSCAN, HDBSCAN and the microcluster profiles built on them."""
