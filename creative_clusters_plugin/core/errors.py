"""Errors the core raises for bad input; the Processing layer turns them into QgsProcessingException."""


class CreativeClustersError(ValueError):
    """Input the analysis cannot use, with a message a GIS officer understands."""
