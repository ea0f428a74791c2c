"""Benchmark: a 50-page creative-cluster atlas of the demo region, our exporter vs QGIS's native:atlaslayouttopdf.

Run: ``/work/main/.venv/bin/python benchmarks/bench_atlas.py`` (``--repeat N`` for more runs, ``--quick``
for a 12-page smoke run).

Same layout, same run: the demo region is generated (``core.demo_region``), its ward-like areas are the
coverage (filtered to 48 features, so 48 feature pages + cover + overview = 50 pages) and the 56,000 firm
points and the areas are shown. The layout is built once by ``layout.atlas.build_atlas`` and registered in
the project's layout manager; then

* ours: ``layout.atlas.export_atlas_pdf`` (QgsLayoutExporter.exportToPdf on the atlas, with progress
  feedback, to a temporary file moved into place), and
* QGIS: ``processing.run("native:atlaslayouttopdf", {"LAYOUT": <same layout>, "TEXT_FORMAT": 1 …})``
  (which clones the layout and exports it),

alternate, after one untimed warm-up each. Both PDFs are checked to have the same page count. Medians and
the ratio are printed. Goal: ours within 1.2× of native.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, "/usr/share/qgis/python/plugins")


def pdf_pages(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    from qgis.core import QgsApplication, QgsProcessingFeedback, QgsProject, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()

    from creative_clusters_plugin.core.demo_region import write_demo_region
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf

    work = Path(tempfile.mkdtemp(prefix="bench_atlas_"))
    started = time.perf_counter()
    region = write_demo_region(work / "demo_region")
    print(f"demo region generated in {time.perf_counter() - started:.1f} s ({region['truth_data']['n_firms']} firms)")
    project = QgsProject.instance()
    areas = QgsVectorLayer(f"{region['gpkg']}|layername=areas", "areas", "ogr")
    firms = QgsVectorLayer(f"{region['gpkg']}|layername=firms", "firms", "ogr")
    assert areas.isValid() and firms.isValid()
    firms.renderer().symbol().setSize(0.8)
    project.addMapLayers([areas, firms])  # native:atlaslayouttopdf clones the layout: layers must be in the project

    feature_pages = 10 if args.quick else 48
    settings = AtlasSettings(title="Demo region atlas (benchmark)", layers=[firms, areas],
                             filter_expression=f"$id <= {feature_pages}", sort_expression='"area_name"')
    build = build_atlas(areas, settings, project)
    project.addMapLayer(build.helper, False)  # the highlight layer too, for the same reason (not in the legend)
    project.layoutManager().addLayout(build.layout)
    layout_name = build.layout.name()
    expected_pages = build.page_count
    print(f"layout '{layout_name}': {expected_pages} pages ({build.feature_count} areas + cover + overview), "
          f"{firms.featureCount()} firm points and {areas.featureCount()} areas on the maps")

    def ours(path):
        export_atlas_pdf(build.layout, path, QgsProcessingFeedback())

    def native(path):
        processing.run("native:atlaslayouttopdf", {
            "LAYOUT": layout_name, "TEXT_FORMAT": 1, "GEOREFERENCE": True, "INCLUDE_METADATA": True,
            "SIMPLIFY": True, "FORCE_VECTOR": False, "OUTPUT": str(path),
        }, feedback=QgsProcessingFeedback())

    runners = {"creativeclusters (layout.atlas.export_atlas_pdf)": ours, "QGIS native:atlaslayouttopdf": native}
    times = {name: [] for name in runners}
    pages = {}
    for name, run in runners.items():  # warm-up: fonts, SVG cache, provider connections
        path = work / f"warmup_{len(pages)}.pdf"
        run(path)
        pages[name] = pdf_pages(path)
    for i in range(args.repeat):
        order = list(runners.items()) if i % 2 == 0 else list(reversed(runners.items()))
        for name, run in order:
            path = work / f"run_{i}_{len(times[name])}_{abs(hash(name)) % 1000}.pdf"
            t = time.perf_counter()
            run(path)
            times[name].append(time.perf_counter() - t)
            assert pdf_pages(path) == expected_pages, (name, pdf_pages(path))

    print()
    for name in runners:
        print(f"{name:55s} pages {pages[name]:3d}   median {statistics.median(times[name]):7.2f} s   "
              f"runs {', '.join(f'{t:.2f}' for t in times[name])}")
    ratio = statistics.median(times[list(runners)[0]]) / statistics.median(times[list(runners)[1]])
    print(f"\nratio ours / native = {ratio:.2f}  (goal ≤ 1.2)  — {'OK' if ratio <= 1.2 else 'SLOWER THAN GOAL'}")
    print(f"per page: ours {statistics.median(times[list(runners)[0]]) / expected_pages:.3f} s")
    project.layoutManager().removeLayout(build.layout)
    del build
    project.removeAllMapLayers()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
