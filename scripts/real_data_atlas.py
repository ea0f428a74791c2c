#!/usr/bin/python3
"""A real-data atlas: Sheffield's creative microclusters over the GB motorways and railway stations, the stations
as place names, with the credits of the open data used. Part of ``make screenshots`` (pages rendered to PNG).

Reads ``../shared/data`` (Companies House firms of South Yorkshire, OS Open Roads motorways, the National Rail
stations list); exits with a message and status 0 when that folder is absent. Every step runs through the
plugin's Processing algorithms, as an officer would: classify the firms, flag stacked registered offices,
find microclusters of Sheffield's creative firms with stacked addresses excluded, export the atlas.

Run: ``/usr/bin/python3 scripts/real_data_atlas.py --output screenshots`` (after ``make build``).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_demo import ROOT, load_plugin, start_qgis  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FIRMS = DATA / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"
MOTORWAYS = DATA / "transport" / "os_openroads_gb_motorways_roadbox.fgb"
STATIONS = DATA / "transport" / "uk_railway_stations_davwheat.csv"
YEAR = datetime.date.today().year
CREDITS = (
    "Contains Companies House data licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right {year} (OS Open Roads). "
    "Contains Royal Mail data © Royal Mail copyright and database right {year} (Code-Point Open). "
    "Stations: uk-railway-stations by David Wheatley, ODbL 1.0."
)


def run(algorithm, parameters):
    import processing
    from qgis.core import QgsProcessingFeedback

    print(f"=== creativeclusters:{algorithm}", flush=True)
    return processing.run(f"creativeclusters:{algorithm}", parameters, feedback=QgsProcessingFeedback())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=ROOT / "screenshots", type=Path)
    parser.add_argument("--plugin-dir", default=ROOT / "build", type=Path)
    parser.add_argument("--min-firms", default=20, type=int)
    parser.add_argument("--eps", default=250.0, type=float)
    args = parser.parse_args(argv)
    if not all(p.is_file() for p in (FIRMS, MOTORWAYS, STATIONS)):
        print(f"Real data not found under {DATA}: no real-data atlas.")
        return 0
    app = start_qgis()
    plugin = load_plugin(args.plugin_dir.resolve())
    from qgis.core import QgsVectorLayer

    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        gpkg = Path(work) / "sheffield.gpkg"
        table = lambda name: f"ogr:dbname='{gpkg}' table=\"{name}\" (geom)"  # noqa: E731
        run("classifyfirms", {"INPUT": f"{FIRMS}|layername=companies", "RULE": 0, "OUTPUT": table("classified")})
        run("flagstacks", {"INPUT": f"{gpkg}|layername=classified", "OUTPUT": table("stacks"),
                           "OUTPUT_ADDRESSES": table("stacked_addresses")})
        sheffield = f"{gpkg}|layername=stacks|subset=\"localauthority_name\" = 'Sheffield'"
        run("microclusters", {"INPUT": sheffield, "EPS": args.eps, "MIN_FIRMS": args.min_firms, "STACKS": 2,
                              "OUTPUT_POINTS": table("members"), "OUTPUT_CLUSTERS": table("microclusters")})
        clusters = QgsVectorLayer(f"{gpkg}|layername=microclusters", "Sheffield microclusters", "ogr")
        motorways = QgsVectorLayer(str(MOTORWAYS), "Motorways", "ogr")
        stations = QgsVectorLayer(
            f"file://{STATIONS}?delimiter=,&xField=long&yField=lat&crs=EPSG:4326", "Railway stations", "delimitedtext")
        print(f"{clusters.featureCount()} microclusters; stations valid: {stations.isValid()}")
        result = run("exportatlas", {
            "COVERAGE": clusters, "LAYERS": [clusters, motorways, stations], "PLACES": stations,
            "TITLE": "Creative microclusters of Sheffield",
            "SUBTITLE": f"DBSCAN, {args.eps:.0f} m, at least {args.min_firms} creative firms, stacked addresses excluded",
            "SORT": '"n_creative"', "SORT_DESCENDING": True, "ATTRIBUTION": CREDITS.replace("{year}", str(YEAR)),
            "AUTHOR": "Creative Clusters (real-data check)", "OUTPUT": str(output / "sheffield_atlas.pdf")})
        print(f"Atlas: {result['OUTPUT']} ({result['PAGES']} pages)")
        del clusters, motorways, stations
    plugin.unload()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
