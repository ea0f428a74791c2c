"""Where the plugin finds its run-time files (styles, templates, definitions, models, icons).

In an installed plugin (``make package`` / ``make deploy``) ``metadata.txt`` and ``resources/`` sit inside
the plugin folder. In the source tree they live one level up (the top-level sources the build copies).
"""

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """Return the ``resources`` folder, installed layout first, source tree second."""
    for candidate in (PLUGIN_DIR / "resources", PLUGIN_DIR.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "Creative Clusters cannot find its resources folder; reinstall the plugin from its ZIP package."
    )


def resource(*parts: str) -> Path:
    """Path of one resource file, e.g. ``resource("styles", "gi_bin.qml")``."""
    return resources_dir().joinpath(*parts)


def metadata_path() -> Path:
    for candidate in (PLUGIN_DIR / "metadata.txt", PLUGIN_DIR.parent / "metadata.txt"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("metadata.txt not found next to the plugin")
