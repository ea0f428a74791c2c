"""Which Python packages each algorithm needs, whether they are installed, and how to install them.

QGIS ships numpy everywhere; the other packages depend on how QGIS was installed. An algorithm whose packages
are missing stays in the toolbox: its help starts with what is missing and how to install it, and running it
stops at once with the same message (``canExecute``), while the other algorithms keep working. Nothing is
imported to find out: :func:`importlib.util.find_spec` only looks.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    module: str  # import name
    name: str  # what people call it
    debian: str  # Debian / Ubuntu package
    pip: str  # name on PyPI (OSGeo4W shell, macOS bundle)


PACKAGES = {
    "numpy": Package("numpy", "NumPy", "python3-numpy", "numpy"),
    "scipy": Package("scipy", "SciPy", "python3-scipy", "scipy"),
    "pandas": Package("pandas", "pandas", "python3-pandas", "pandas"),
    "shapely": Package("shapely", "Shapely", "python3-shapely", "shapely"),
    "geopandas": Package("geopandas", "GeoPandas", "python3-geopandas", "geopandas"),
    "rasterio": Package("rasterio", "rasterio", "python3-rasterio", "rasterio"),
    "skimage": Package("skimage", "scikit-image", "python3-skimage", "scikit-image"),
}


def is_installed(module: str) -> bool:
    """True when ``module`` can be imported (a module set to None in ``sys.modules`` counts as missing)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(modules) -> list:
    return [PACKAGES[m] for m in modules if not is_installed(m)]


def install_message(missing) -> str:
    """What is missing and how to install it on Windows (OSGeo4W), macOS and Debian/Ubuntu."""
    names = ", ".join(p.name for p in missing)
    pip = " ".join(p.pip for p in missing)
    debian = " ".join(p.debian for p in missing)
    return (
        f"This algorithm needs {names}, which this QGIS installation does not have. Install it, then restart QGIS:\n"
        f"• Windows (OSGeo4W or the QGIS installer): open the OSGeo4W Shell as administrator and run "
        f"'python -m pip install {pip}' (or add the matching python3-… packages in the OSGeo4W setup).\n"
        f"• macOS (QGIS.app): run '/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install {pip}'.\n"
        f"• Debian / Ubuntu: 'sudo apt install {debian}'."
    )


def check(modules) -> tuple[bool, str]:
    """``(True, "")`` when every module is installed, else ``(False, install message)``."""
    missing = missing_packages(modules)
    return (not missing, install_message(missing) if missing else "")


__all__ = ["PACKAGES", "Package", "check", "install_message", "is_installed", "missing_packages"]
