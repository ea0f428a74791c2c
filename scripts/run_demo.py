#!/usr/bin/python3
"""`make demo`: generate the demo region and run the Creative Clusters analysis headless through the plugin.

Writes, under ``--output`` (default ``demo_output/``):

* ``demo_region/`` — the synthetic region (GeoPackage, CSVs, ground truth) from the project's generator;
* ``creative_clusters_demo.gpkg`` — classified firms, areas with location quotients and Gi* hot spots, and
  (when those algorithms are installed) local Moran, stacked addresses, microclusters and corridors, each
  layer with its style saved in the GeoPackage (it loads styled in QGIS);
* ``*.tif`` density / corridor rasters; ``hotspot_map.pdf`` (one page) and ``atlas.pdf``.

The plugin is loaded from ``build/creative_clusters_plugin`` (made by ``make build``) exactly as QGIS
would load the installed plugin, and every step runs through ``processing.run("creativeclusters:…")``.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, "/usr/share/qgis/python/plugins")

ROOT = Path(__file__).resolve().parents[1]


def start_qgis():
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    import processing  # noqa: F401
    from processing.core.Processing import Processing

    Processing.initialize()
    return app


def load_plugin(plugin_parent: Path):
    sys.path.insert(0, str(plugin_parent))
    import creative_clusters_plugin

    plugin = creative_clusters_plugin.classFactory(None)
    plugin.initProcessing()
    return plugin


class Demo:
    def __init__(self, output: Path):
        from qgis.core import QgsProcessingFeedback

        self.output = output
        self.gpkg = output / "creative_clusters_demo.gpkg"
        self.feedback = QgsProcessingFeedback()
        self.layers = {}  # name -> (QgsMapLayer, style name)
        self.timings = []

    def run(self, algorithm, parameters):
        import processing

        start = time.perf_counter()
        print(f"\n=== creativeclusters:{algorithm}", flush=True)
        result = processing.run(f"creativeclusters:{algorithm}", parameters, feedback=self.feedback)
        self.timings.append((algorithm, time.perf_counter() - start))
        print(f"    done in {self.timings[-1][1]:.1f} s", flush=True)
        return result

    def table(self, name):
        return f"ogr:dbname='{self.gpkg}' table=\"{name}\" (geom)"

    def layer(self, name, style=None):
        from qgis.core import QgsVectorLayer

        layer = QgsVectorLayer(f"{self.gpkg}|layername={name}", name, "ogr")
        if not layer.isValid():
            raise RuntimeError(f"demo layer {name} did not load")
        self.layers[name] = (layer, style)
        return layer

    def raster_style(self, path, style):
        """Style a raster with the plugin's styling code and save the style beside it (QGIS loads
        ``<name>.qml`` automatically when the raster is opened)."""
        from qgis.core import QgsRasterLayer

        from creative_clusters_plugin.styling import apply_style

        layer = QgsRasterLayer(str(path), Path(path).stem)
        if not layer.isValid():
            raise RuntimeError(f"demo raster {path} did not load")
        apply_style(layer, style)
        message, ok = layer.saveNamedStyle(str(Path(path).with_suffix(".qml")))
        if not ok:
            print(f"WARNING: could not save the style of {Path(path).name}: {message}")

    def save_styles(self):
        """Style each layer with the plugin's styling code and store the style in the GeoPackage."""
        from creative_clusters_plugin.styling import apply_style

        from qgis.core import QgsVectorLayer

        for name, (layer, style) in self.layers.items():
            if style is None or layer.type() != layer.VectorLayer:
                continue
            # a fresh connection: layers opened before later tables were written can hold a stale handle
            layer = QgsVectorLayer(f"{self.gpkg}|layername={name}", name, "ogr")
            try:
                apply_style(layer, style)
                layer.saveStyleToDatabase(name, f"Creative Clusters {style} style", True, "")
            except Exception as error:  # a style problem must not lose the analysis
                print(f"WARNING: could not style {name}: {error}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", type=Path)
    parser.add_argument("--plugin-dir", default=ROOT / "build", type=Path, help="folder holding creative_clusters_plugin/")
    parser.add_argument("--seed", default=20261124, type=int)
    args = parser.parse_args(argv)

    app = start_qgis()
    plugin = load_plugin(args.plugin_dir.resolve())
    from creative_clusters_plugin.core.atomic_files import give_default_permissions
    from creative_clusters_plugin.core.demo_region import write_demo_region

    final = args.output.resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".demo-", dir=final.parent))  # written atomically: moved at the end
    try:
        print(f"Generating the demo region (seed {args.seed}) …", flush=True)
        region = write_demo_region(work / "demo_region", seed=args.seed)
        truth = region["truth_data"]
        print(f"  {truth['n_firms']} firms, {len(truth['clusters'])} planted clusters -> {region['gpkg']}")
        demo = Demo(work)
        firms_src = f"{region['gpkg']}|layername=firms"
        areas_src = f"{region['gpkg']}|layername=areas"

        demo.run("classifyfirms", {"INPUT": firms_src, "RULE": 0, "OUTPUT": demo.table("firms_classified")})
        firms = demo.layer("firms_classified", "classified_firms")
        demo.run(
            "flagstacks",
            {"INPUT": firms, "OUTPUT": demo.table("firms_stacks"), "OUTPUT_ADDRESSES": demo.table("stacked_addresses")},
        )
        firms_for_lq = demo.layer("firms_stacks", "stacks")
        demo.layer("stacked_addresses", None)
        demo.run(
            "locationquotients",
            {"AREAS": areas_src, "AREA_ID": "area_id", "FIRMS": firms_for_lq, "QUANTILE": 0.75, "OUTPUT": demo.table("areas_lq")},
        )
        demo.layer("areas_lq", "lq")
        demo.run(
            "clusterselection",
            {"INPUT": areas_src, "AREA_ID": "area_id", "RECIPE": 0, "PERIODS": 1, "FIRMS": firms_for_lq,
             "DATE_EARLIER": "2021-10-31", "DATE_LATER": "2026-10-31", "OUTPUT": demo.table("areas_clusters_nesta2016")},
        )
        demo.layer("areas_clusters_nesta2016", "clusters")
        demo.run(
            "hotspots",
            {
                "INPUT": demo.layers["areas_lq"][0],
                "FIELD": "n_creative",
                "WEIGHTS": 0,
                "FDR": True,
                "OUTPUT": demo.table("areas_hotspots"),
            },
        )
        hotspots = demo.layer("areas_hotspots", "gi_bin")
        demo.run("growthpotential", {"INPUT": hotspots, "OUTPUT": demo.table("areas_growth")})
        demo.layer("areas_growth", "growth")
        demo.run(
            "optimizedhotspots",
            {"INPUT": f"{work / 'creative_clusters_demo.gpkg'}|layername=firms_classified|subset=\"cc_creative\" = 1",
             "AGGREGATION": 1, "OUTPUT": demo.table("optimized_hotspots")},
        )
        demo.layer("optimized_hotspots", "gi_bin")
        demo.run(
            "localmoran",
            {"INPUT": demo.layers["areas_lq"][0], "FIELD": "lq_creative", "WEIGHTS": 0, "PERMUTATIONS": 999,
             "SEED": 1, "FDR": False, "OUTPUT": demo.table("areas_local_moran")},
        )
        demo.layer("areas_local_moran", "cotype")
        demo.run(
            "microclusters",
            {"INPUT": firms_for_lq, "FILTER": 0, "METHOD": 0, "EPS": 250, "MIN_FIRMS": 50, "STACKS": 2,
             "OUTPUT_POINTS": demo.table("microcluster_firms"), "OUTPUT_CLUSTERS": demo.table("microclusters")},
        )
        demo.layer("microclusters", "microclusters")
        demo.layer("microcluster_firms", "classified_firms")
        demo.run(
            "density",
            {"INPUT": f"{work / 'creative_clusters_demo.gpkg'}|layername=firms_classified|subset=\"cc_creative\" = 1",
             "BANDWIDTH": 1000, "PIXEL_SIZE": 100, "KERNEL": 0, "REFERENCE": firms,
             "OUTPUT": str(work / "creative_density.tif"), "OUTPUT_RELATIVE": str(work / "creative_relative_density.tif")},
        )
        demo.raster_style(work / "creative_density.tif", "density")
        demo.raster_style(work / "creative_relative_density.tif", "density")
        demo.run(
            "corridors",
            {"CLUSTERS": demo.layers["microclusters"][0], "MASS_FIELD": "n_firms", "CELL_SIZE": 100,
             "OUTPUT_LINKS": demo.table("corridor_links"), "OUTPUT_CORRIDORS": demo.table("corridors"),
             "OUTPUT_RASTER": str(work / "corridor_surface.tif")},
        )
        demo.layer("corridor_links", "corridor_links")
        demo.layer("corridors", "corridors")
        demo.raster_style(work / "corridor_surface.tif", "corridor_surface")
        demo.save_styles()

        from creative_clusters_plugin.layout.hotspot_map import export_hotspot_map

        export_hotspot_map(hotspots, work / "hotspot_map.pdf", title="Creative hot spots — demo region")
        print(f"\nOne-page hot-spot map: {final / 'hotspot_map.pdf'}")
        demo.run(
            "exportatlas",
            {"COVERAGE": demo.layers["microclusters"][0], "TITLE": "Creative microclusters — demo region",
             "LAYERS": [demo.layers["microclusters"][0], demo.layers["corridors"][0]],
             "OUTPUT": str(work / "atlas.pdf")},
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        plugin.unload()
    # close every layer (and the GeoPackage's WAL) before the folder moves
    demo.layers.clear()
    del hotspots, firms, firms_for_lq
    gc.collect()
    if final.exists():
        shutil.rmtree(final)
    give_default_permissions(work)
    os.replace(work, final)
    print("\nTimings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in demo.timings))
    print(f"\nDemo outputs are in {final}:")
    for path in sorted(final.iterdir()):
        print(f"  {path.name}")
    print("Open creative_clusters_demo.gpkg in QGIS: every layer loads with its saved style.")
    del demo
    gc.collect()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
