"""Errors the core raises for bad input; the Processing layer turns them into QgsProcessingException."""


class CreativeClustersError(ValueError):
    """Input the analysis cannot use, with a message a GIS officer understands."""


class CancelledError(CreativeClustersError):
    """The user cancelled a long computation (a progress callback returned True)."""


def check_callback(callback, fraction: float) -> None:
    """Report progress to ``callback(fraction) -> cancelled`` and raise :class:`CancelledError` on cancel."""
    if callback is not None and callback(min(max(float(fraction), 0.0), 1.0)):
        raise CancelledError("Cancelled by the user; no output was written.")
