"""Processing algorithms — printed maps: the atlas map book and the one-page hot-spot map (PDF)."""
