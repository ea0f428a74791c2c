"""Translations: the strings marked with tr() are collected into i18n/*.ts (make transup), and a compiled
translation is used by the algorithms and the docks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "creative_clusters_plugin" / "i18n"


def test_ts_files_hold_the_dock_and_algorithm_strings():
    text = (I18N / "creative_clusters_fr.ts").read_text(encoding="utf-8")
    for context, source in (("AtlasDock", "Build layout"), ("StyleDock", "Apply"),
                            ("ExportAtlas", "Coverage layer (one page per feature)"),
                            ("EmergingHotSpots", "Time step in years")):
        blocks = [part.split("</context>")[0] for part in text.split(f"<name>{context}</name>")[1:]]
        assert any(f"<source>{source}</source>" in block for block in blocks), (context, source)


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="lrelease (Qt tools) not installed")
def test_a_compiled_translation_is_used(qgis_app, tmp_path):
    from qgis.PyQt.QtCore import QCoreApplication, QTranslator

    from creative_clusters_plugin.processing_provider.algorithms.maps.export_atlas import ExportAtlas

    ts = tmp_path / "creative_clusters_fr.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.0" language="fr_FR">'
        "<context><name>ExportAtlas</name><message><source>Coverage layer (one page per feature)</source>"
        "<translation>Couche de couverture (une page par entité)</translation></message></context></TS>",
        encoding="utf-8")
    subprocess.run(["lrelease", "-silent", str(ts), "-qm", str(tmp_path / "fr.qm")], check=True)
    translator = QTranslator()
    assert translator.load(str(tmp_path / "fr.qm"))
    QCoreApplication.installTranslator(translator)
    try:
        algorithm = ExportAtlas()
        algorithm.initAlgorithm()
        assert algorithm.parameterDefinition("COVERAGE").description() == "Couche de couverture (une page par entité)"
        assert algorithm.parameterDefinition("TITLE").description() == "Title"  # untranslated stays English
    finally:
        QCoreApplication.removeTranslator(translator)
