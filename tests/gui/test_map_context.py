"""Context on the printed maps: place names, the study-area outline, muted context layers, extents from what the
map is about, legends that fit, honest attribution, PDF properties and an offline basemap.

Independent references: names and distances computed here with numpy, areas with shapely-free sums of the
squares, pixel colours of the rendered pages, and the PDF's own text and properties read back with poppler.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess

import numpy as np
import pytest

from tests.gui import result_layers as R
from tests.gui.test_atlas_export import FRONT, NO_MATTER, page_text, pdf_info

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def places_layer(points):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:27700&field=fid_:integer&field=NAME1:string", "stations", "memory")
    features = []
    for i, (x, y, name) in enumerate(points):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes([i, name])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    return layer


def gb_wide_lines():
    """A context layer reaching across Great Britain (motorways)."""
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("LineString?crs=EPSG:27700&field=road:string", "motorways", "memory")
    feature = QgsFeature(layer.fields())
    feature.setGeometry(QgsGeometry.fromPolylineXY([QgsPointXY(100_000, 50_000), QgsPointXY(430_500, 388_500),
                                                    QgsPointXY(650_000, 1_100_000)]))
    feature.setAttributes(["M1"])
    layer.dataProvider().addFeatures([feature])
    layer.updateExtents()
    return layer


def test_place_field_detection(qgis_app):
    from qgis.core import QgsVectorLayer

    from creative_clusters_plugin.layout.map_context import detect_place_field

    assert detect_place_field(places_layer([(0, 0, "A")])) == "NAME1"
    wards = QgsVectorLayer("Point?crs=EPSG:27700&field=WD22CD:string&field=WD22NM:string", "w", "memory")
    assert detect_place_field(wards) == "WD22NM"
    assert detect_place_field(wards, "wd22cd") == "WD22CD"
    plain = QgsVectorLayer("Point?crs=EPSG:27700&field=id:integer&field=label_text:string", "p", "memory")
    assert detect_place_field(plain) == "label_text"  # the first text field


def test_place_field_errors():
    from qgis.core import QgsVectorLayer

    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.map_context import detect_place_field

    numbers = QgsVectorLayer("Point?crs=EPSG:27700&field=id:integer", "n", "memory")
    with pytest.raises(CreativeClustersError, match="no text field"):
        detect_place_field(numbers)
    with pytest.raises(CreativeClustersError, match="no field 'nope'"):
        detect_place_field(numbers, "nope")
    del numbers


def test_features_are_named_after_the_place_inside_or_nearest(tmp_path):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf
    from creative_clusters_plugin.layout.map_context import names_from_places

    clusters = R.microclusters_layer(n=4)
    centres = {f.id(): f.geometry().centroid().asPoint() for f in clusters.getFeatures()}
    first, second = sorted(centres)[:2]
    inside = (centres[first].x() + 30, centres[first].y(), "Kelham Island")
    # two places inside the second cluster: the one nearer its centre names it
    near = (centres[second].x() + 20, centres[second].y(), "Neepsend")
    edge = (centres[second].x() + 200, centres[second].y(), "Shalesmoor")
    far = (centres[first].x() - 30_000, centres[first].y(), "Far Town")
    places = places_layer([inside, near, edge, far])
    names = names_from_places(clusters, places, "NAME1", None)
    assert names[first] == "Kelham Island" and names[second] == "Neepsend"
    pts = np.array([(p[0], p[1]) for p in (inside, near, edge, far)])
    for fid, centre in centres.items():
        if fid in (first, second):
            continue
        geometry = clusters.getFeature(fid).geometry()
        centre = geometry.pointOnSurface().asPoint()
        nearest = int(np.argmin(np.hypot(pts[:, 0] - centre.x(), pts[:, 1] - centre.y())))
        assert names[fid] == [inside, near, edge, far][nearest][2]
    build = build_atlas(clusters, AtlasSettings(places=places, **NO_MATTER))
    path = export_atlas_pdf(build, tmp_path / "named.pdf")
    assert page_text(path, 1).startswith("Microcluster 1 – Kelham Island")
    assert page_text(path, 2).startswith("Microcluster 2 – Neepsend")
    # an explicit NAME wins over places
    build = build_atlas(clusters, AtlasSettings(places=places, name_expression="'Site ' || \"cc_cluster_id\"",
                                                **NO_MATTER))
    path = export_atlas_pdf(build, tmp_path / "named2.pdf")
    assert page_text(path, 1).startswith("Site 1 ")


def test_extents_come_from_the_coverage_not_from_context(hotspot_areas_styled):
    from qgis.core import QgsLayoutItemMap

    from creative_clusters_plugin.layout import map_context
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas

    areas = hotspot_areas_styled
    motorways = gb_wide_lines()
    stations = places_layer([(432_000, 389_000, "Sheffield"), (300_000, 900_000, "Perth")])
    build = build_atlas(areas, AtlasSettings(layers=[areas, motorways], places=stations))
    box = areas.extent()
    allowed = box.buffered(0.2 * max(box.width(), box.height()))
    for item_id in ("cc_cover_map", "cc_overview_page_map", "cc_inset_map"):
        item = build.layout.itemById(item_id)
        assert isinstance(item, QgsLayoutItemMap)
        extent = item.extent()
        assert extent.intersects(box)
        # fitted to the frame's shape in one direction only, never to Great Britain
        assert extent.width() <= 5 * allowed.width() and extent.height() <= 5 * allowed.height(), item_id
    main = build.layout.itemById("cc_main_map")
    names = [layer.name() for layer in main.layers()]
    # top to bottom: highlight, places, context lines (visible over a choropleth), study area, result polygons
    assert names.index("stations") < names.index("motorways") < names.index("Study area") < names.index(areas.name())
    inset_names = [layer.name() for layer in build.layout.itemById("cc_inset_map").layers()]
    assert "motorways" not in inset_names and "Study area" in inset_names and areas.name() in inset_names
    overrides = main.layerStyleOverrides()
    from qgis.PyQt.QtGui import QColor

    grey = QColor(map_context.CONTEXT_GREY)
    assert f"{grey.red()},{grey.green()},{grey.blue()}" in overrides[motorways.id()]  # muted, whatever its own style
    assert "NAME1" in overrides[stations.id()]  # places labelled by their name field
    # no renderer symbol of a line or polygon layer clips features to the map extent (QGIS's clipping leaves
    # empty paths in the PDF); the places' label settings carry symbols of their own
    for layer in (areas, motorways):
        renderer_xml = overrides[layer.id()].split("<labeling")[0]
        assert 'clip_to_extent="1"' not in renderer_xml and 'clip_to_extent="0"' in renderer_xml, layer.name()


@pytest.fixture
def hotspot_areas_styled():
    from creative_clusters_plugin.styling import apply_style

    layer = R.areas_layer()
    apply_style(layer, "gi_bin")
    return layer


def test_study_area_outline(qgis_app):
    from creative_clusters_plugin.layout.map_context import coverage_tiles_area, study_area_layer

    areas = R.areas_layer(n_side=3)
    layer, how = study_area_layer(areas)
    outline = next(layer.getFeatures()).geometry()
    assert outline.area() == pytest.approx(9 * 1000.0**2)  # the union of nine 1 km squares
    assert how.startswith("the outline") and coverage_tiles_area(areas)
    clusters = R.microclusters_layer(n=4)
    layer, how = study_area_layer(clusters)
    hull = next(layer.getFeatures()).geometry()
    assert "convex hull" in how and not coverage_tiles_area(clusters)
    for feature in clusters.getFeatures():
        assert hull.contains(feature.geometry())
    given, how = study_area_layer(clusters, study_area=areas)
    assert next(given.getFeatures()).geometry().area() == pytest.approx(9 * 1000.0**2) and how == "'areas_hotspots'"


def test_legend_fits_six_layers_with_friendly_titles(hotspot_areas_styled):
    from qgis.core import QgsLayoutItemLegend

    from creative_clusters_plugin.layout.atlas import AtlasSettings, apply_map_filter, build_atlas, legend_content_size
    from creative_clusters_plugin.styling import apply_style

    layers = [R.microclusters_layer(), R.corridors_layer(), R.corridor_links_layer(), R.classified_firms_layer(),
              R.stacks_layer(), hotspot_areas_styled]
    for layer, style in zip(layers[:5], ("microclusters", "corridors", "corridor_links", "classified_firms", "stacks")):
        apply_style(layer, style)
    build = build_atlas(hotspot_areas_styled, AtlasSettings(layers=layers))
    for legend_id in ("cc_legend", "cc_overview_legend"):
        legend = build.layout.itemById(legend_id)
        assert isinstance(legend, QgsLayoutItemLegend)
        titles = [node.customProperty("legend/title-label") for node in legend.model().rootGroup().children()]
        assert titles[:6] == ["Microclusters by main sub-sector", "Creative corridors", "Corridor links",
                              "Firms by creative sub-sector", "Stacked addresses", "Hot and cold spots (Gi*)"]
        assert "Study area" in titles
    overview = build.layout.itemById("cc_overview_legend")
    width, height = legend_content_size(overview)  # every entry: the overview shows every feature
    assert width <= overview.rect().width() + 0.1 and height <= overview.rect().height() + 0.1
    # each feature page lists what its map shows, and fits it page by page
    legend = build.layout.itemById("cc_legend")
    atlas = build.layout.atlas()
    atlas.beginRender()
    try:
        for index in range(atlas.count()):
            atlas.seekTo(index)  # the atlas refits the legend to what the page's map shows
            apply_map_filter(legend)  # what QGIS does before painting the page
            width, height = legend_content_size(legend)
            assert width <= legend.rect().width() + 0.1 and height <= legend.rect().height() + 0.1, index
            titles = [n.customProperty("legend/title-label") for n in legend.model().rootGroup().children()]
            assert "Hot and cold spots (Gi*)" in titles  # the page feature's own layer is always listed
    finally:
        atlas.endRender()


def test_attribution_from_metadata_with_the_current_year(tmp_path, hotspot_areas_styled):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf

    year = datetime.date.today().year
    areas = hotspot_areas_styled
    metadata = areas.metadata()
    metadata.setRights(["Boundaries © Test Mapping Agency {year}"])
    metadata.setLicenses(["Open Government Licence v3.0"])
    areas.setMetadata(metadata)
    build = build_atlas(areas, AtlasSettings(filter_expression="$id <= 2", attribution="Firms: Example Register {year}",
                                             author="A. Officer", **NO_MATTER))
    path = export_atlas_pdf(build, tmp_path / "credits.pdf")
    text = page_text(path, 1)
    assert f"Firms: Example Register {year}." in text
    assert f"Boundaries © Test Mapping Agency {year}." in text and "Open Government Licence v3.0." in text
    assert "{year}" not in text and "Royal Mail" not in text
    info = pdf_info(path)
    assert info["Title"] == "Creative clusters atlas" and info["Author"] == "A. Officer"


def _write_tiles(folder, colour=(255, 0, 255)):
    """Solid-colour 256 px XYZ tiles covering the test area (around 53.4° N, 1.47° W) at zooms 0–16."""
    import math

    from qgis.PyQt.QtGui import QColor, QImage

    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(*colour))
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "tile.png"
    image.save(str(png))
    for z in range(0, 17):
        n = 2 ** z
        xs, ys = [], []
        for lon, lat in ((-1.6, 53.3), (-1.3, 53.5)):
            xs.append(int((lon + 180) / 360 * n))
            ys.append(int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))
        for x in range(min(xs) - 1, max(xs) + 2):
            for y in range(min(ys) - 1, max(ys) + 2):
                target = folder / str(z) / str(x) / f"{y}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(png, target)


def test_basemap_from_offline_tiles_and_bad_urls(tmp_path, hotspot_areas_styled):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.hotspot_map import HotspotMapOptions, export_hotspot_map

    tiles = tmp_path / "tiles"
    _write_tiles(tiles)
    url = f"file://{tiles}/{{z}}/{{x}}/{{y}}.png"
    path = export_hotspot_map(hotspot_areas_styled, tmp_path / "basemap.pdf",
                              HotspotMapOptions(basemap_url=url, basemap_attribution="Test tiles"))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True,
                   capture_output=True)
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(next(tmp_path.glob("page*.png"))))
    magenta = sum(1 for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
                  if image.pixelColor(x, y).red() > 200 and image.pixelColor(x, y).green() < 60
                  and image.pixelColor(x, y).blue() > 200)
    assert magenta > 50  # the tiles are drawn beneath the map
    assert "Basemap: Test tiles." in page_text(path, 1)
    with pytest.raises(CreativeClustersError, match=r"\{x\}, \{y\} and \{z\}"):
        export_hotspot_map(hotspot_areas_styled, tmp_path / "bad.pdf",
                           HotspotMapOptions(basemap_url="https://example.org/tiles.png"))
    assert not (tmp_path / "bad.pdf").exists()


def test_hotspot_map_with_context_through_processing(tmp_path, run_alg, hotspot_areas_styled):
    from tests.gui.test_atlas_export import _to_gpkg

    source = _to_gpkg(R.areas_layer(), tmp_path / "areas.gpkg", "areas_hotspots")
    stations = _to_gpkg(places_layer([(432_500, 389_500, "Midtown Station")]), tmp_path / "stations.gpkg", "stations")
    roads = _to_gpkg(gb_wide_lines(), tmp_path / "roads.gpkg", "motorways")
    result = run_alg("exporthotspotmap", {"INPUT": source, "LAYERS": [roads], "PLACES": stations,
                                          "TITLE": "Hot spots with context", "AUTHOR": "GIS team",
                                          "OUTPUT": str(tmp_path / "map.pdf")})
    text = page_text(result["OUTPUT"], 1)
    assert "Hot spots with context" in text and "Midtown Station" in text and "Study area" in text
    assert "Roads" in text  # the context layer's legend entry (its file name), drawn muted
    assert pdf_info(result["OUTPUT"])["Author"] == "GIS team"


def test_exportatlas_context_parameters(tmp_path, run_alg):
    from tests.gui.test_atlas_export import _to_gpkg

    source = _to_gpkg(R.microclusters_layer(n=3), tmp_path / "mc.gpkg", "microclusters")
    clusters = R.microclusters_layer(n=3)
    centre = next(clusters.getFeatures()).geometry().centroid().asPoint()
    stations = _to_gpkg(places_layer([(centre.x(), centre.y(), "Kelham Island")]), tmp_path / "st.gpkg", "stations")
    region = _to_gpkg(R.areas_layer(n_side=8, origin=(429_000.0, 386_000.0)), tmp_path / "region.gpkg", "region")
    result = run_alg("exportatlas", {"COVERAGE": source, "PLACES": stations, "STUDY_AREA": region,
                                     "ORGANISATION": "Test Council", "SUMMARY": False, "CONTENTS": False,
                                     "OUTPUT": str(tmp_path / "atlas.pdf")})
    assert result["PAGES"] == 3 + 2 + 1  # three clusters, cover and overview, methods
    assert "Test Council" in page_text(result["OUTPUT"], 1)
    assert page_text(result["OUTPUT"], 3).startswith("Microcluster 1 – Kelham Island")
    assert "Study area: 'region'" in page_text(result["OUTPUT"], result["PAGES"])
    assert FRONT == 4
