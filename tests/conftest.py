"""Shared fixtures: the plugin's provider registered once, paths to ../shared/data, output folders.

Tests that need ``../shared/data`` use the ``shared_data`` fixture and skip cleanly when it is absent.
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CREATIVE_CLUSTERS_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))

if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


@pytest.fixture(scope="session")
def project_root():
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_data():
    """Path to ``../shared/data``; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not available at {SHARED_DATA}")
    return SHARED_DATA


_PROVIDERS = []  # keep Python references alive while the registry holds the providers


def ensure_provider():
    """The registered Creative Clusters provider, registering one when none is (again) registered."""
    from qgis.core import QgsApplication

    from creative_clusters_plugin.processing_provider.provider import CreativeClustersProvider

    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("creativeclusters")
    if existing is not None:
        return existing
    provider = CreativeClustersProvider()
    assert registry.addProvider(provider)
    _PROVIDERS.append(provider)
    return provider


class _RegisteredProvider:
    """Forwards to whichever Creative Clusters provider is registered now.

    The plugin lifecycle tests remove the registered provider (QGIS then deletes it) and let the plugin
    register its own; every later use of this fixture re-registers one transparently.
    """

    def __getattr__(self, name):
        return getattr(ensure_provider(), name)


@pytest.fixture(scope="session")
def provider(qgis_app, qgis_processing):
    """The Creative Clusters provider registered in the Processing registry for the session."""
    ensure_provider()
    return _RegisteredProvider()


@pytest.fixture(scope="session")
def demo_region(tmp_path_factory):
    """The demo region written once per session (GeoPackage + ground truth) by the project's generator."""
    from creative_clusters_plugin.core.demo_region import write_demo_region

    folder = tmp_path_factory.mktemp("demo_region")
    return write_demo_region(folder)


@pytest.fixture
def run_alg(provider):
    """``run_alg("hotspots", {...})`` runs ``creativeclusters:hotspots`` and returns its result dict."""
    import processing
    from qgis.core import QgsProcessingFeedback

    def run(algorithm_id, parameters, feedback=None, context=None):
        if ":" not in algorithm_id:
            algorithm_id = f"creativeclusters:{algorithm_id}"
        ensure_provider()
        return processing.run(
            algorithm_id, parameters, feedback=feedback or QgsProcessingFeedback(), context=context
        )

    return run
