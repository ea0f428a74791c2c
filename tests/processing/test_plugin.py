"""The plugin as QGIS meets it: classFactory, initGui/unload, the provider, qgis_process and the ZIP package."""

import configparser
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ensure_provider

PROJECT = Path(__file__).resolve().parents[2]
QGIS_PROCESS = Path("/usr/bin/qgis_process.bin")
CORE_ALGORITHMS = {
    "demoregion", "classifyfirms", "geocodepostcodes", "locationquotients", "hotspots", "localmoran", "optimizedhotspots", "emerginghotspots",
    "clusterselection", "flagstacks", "microclusters", "density", "corridors", "growthpotential", "exportatlas",
    "exporthotspotmap",
}


def test_metadata_is_complete():
    meta = configparser.ConfigParser()
    meta.read(PROJECT / "metadata.txt")
    general = meta["general"]
    for key in ("name", "description", "about", "version", "qgisMinimumVersion", "author", "email", "tags", "license"):
        assert general.get(key), key
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["license"].startswith("GPL-2.0")
    assert (PROJECT / general["icon"]).is_file()


def _without_registered_provider():
    """Remove a provider registered by the session fixture: the plugin must register its own."""
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("creativeclusters")
    if existing is not None:
        registry.removeProvider(existing)


def test_class_factory_init_gui_unload(qgis_iface, qgis_app):
    from qgis.core import QgsApplication

    import creative_clusters_plugin

    _without_registered_provider()
    plugin = creative_clusters_plugin.classFactory(qgis_iface)
    plugin.initGui()
    assert plugin.provider is not None
    assert QgsApplication.processingRegistry().providerById("creativeclusters") is plugin.provider
    plugin.unload()
    assert plugin.provider is None
    ensure_provider()  # later tests expect a registered provider


def test_processing_only_without_iface(qgis_app):
    """Under qgis_process iface is None and only initProcessing() runs."""
    from qgis.core import QgsApplication

    import creative_clusters_plugin

    _without_registered_provider()
    plugin = creative_clusters_plugin.classFactory(None)
    plugin.initProcessing()
    plugin.initGui()  # must not need iface
    provider = QgsApplication.processingRegistry().providerById("creativeclusters")
    assert provider is not None and provider is plugin.provider
    plugin.unload()
    assert QgsApplication.processingRegistry().providerById("creativeclusters") is None
    ensure_provider()


def test_provider_lists_algorithms_with_help(provider):
    algorithms = {a.name(): a for a in provider.algorithms()}
    assert CORE_ALGORITHMS <= set(algorithms)
    for name, algorithm in algorithms.items():
        assert len(algorithm.shortHelpString()) > 200, f"{name} needs help text"
        assert algorithm.group(), name
        assert algorithm.createInstance().name() == name


def test_base_class_never_shadows_qgis_run(provider):
    from qgis.core import QgsProcessingAlgorithm

    for algorithm in provider.algorithms():
        for cls in type(algorithm).__mro__:
            if cls is QgsProcessingAlgorithm:
                break
            assert "run" not in vars(cls), f"{algorithm.name()}: {cls.__name__} defines run()"


def _package():
    subprocess.run(["make", "-s", "package"], cwd=PROJECT, check=True, capture_output=True)
    return PROJECT / "dist" / "creative_clusters_plugin.zip"


@pytest.fixture(scope="module")
def installed_profile(tmp_path_factory):
    """The packaged ZIP unpacked into a clean plugin folder, as 'Install from ZIP' does."""
    archive = _package()
    with zipfile.ZipFile(archive) as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
        assert tops == {"creative_clusters_plugin"}
        plugins = tmp_path_factory.mktemp("profile") / "python" / "plugins"
        plugins.mkdir(parents=True)
        zf.extractall(plugins)
    folder = plugins / "creative_clusters_plugin"
    assert (folder / "metadata.txt").is_file()
    assert (folder / "resources" / "definitions" / "dcms_creative_sic.csv").is_file()
    assert not list(folder.rglob("__pycache__"))
    return plugins


def _qgis_process(plugins, *args, config):
    env = dict(os.environ, QGIS_PLUGINPATH=str(plugins), QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([str(QGIS_PROCESS), *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(not QGIS_PROCESS.exists(), reason="qgis_process.bin not installed")
def test_zip_installs_and_qgis_process_lists_and_runs(installed_profile, tmp_path, demo_region):
    config = tmp_path / "config"
    config.mkdir()
    enable = _qgis_process(installed_profile, "plugins", "enable", "creative_clusters_plugin", config=config)
    assert enable.returncode == 0, enable.stderr
    listing = _qgis_process(installed_profile, "list", config=config)
    assert listing.returncode == 0, listing.stderr
    for name in CORE_ALGORITHMS:
        assert f"creativeclusters:{name}" in listing.stdout
    # the shipped model is listed too: its steps resolved once the provider was registered
    assert "creativeclusters:Full creative-cluster analysis" in listing.stdout
    out = tmp_path / "classified.gpkg"
    run = _qgis_process(
        installed_profile,
        "run",
        "creativeclusters:classifyfirms",
        "--",
        f"INPUT={demo_region['gpkg']}|layername=firms",
        "RULE=0",
        f"OUTPUT={out}",
        config=config,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.is_file()
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(str(out), "c", "ogr")
    assert layer.featureCount() == demo_region["truth_data"]["n_firms"]
    assert "cc_subsector" in layer.fields().names()
