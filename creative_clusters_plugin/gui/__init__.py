"""Desktop GUI: the style dock and the atlas dock (only imported from ``initGui`` with a desktop ``iface``)."""
