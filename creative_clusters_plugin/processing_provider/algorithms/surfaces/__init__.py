"""Processing algorithms — surfaces over space: kernel density, resistance and least-cost distance, corridors, GeoTIFF I/O."""
