"""The atlas PDF: cover + overview + one page per filtered, sorted coverage feature, read back with poppler.

Page counts come from ``pdfinfo``; each page's text from ``pdftotext -f N -l N`` must hold that feature's
name and key figures, computed here from the layer's attributes (not from the layout). The map extent of
every page is checked to contain its feature.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest

from tests.gui import result_layers as R

pytestmark = pytest.mark.skipif(
    shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def pdf_pages(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def pdf_page_size(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("Page size:"))
    return line


def page_text(path, page):
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return " ".join(unicodedata.normalize("NFKC", out).split())  # ligatures (ﬁ) and line breaks normalised


@pytest.fixture
def hotspot_areas():
    from creative_clusters_plugin.styling import apply_style

    layer = R.areas_layer()
    apply_style(layer, "gi_bin")
    return layer


def _expected(layer, keep, key, reverse=False):
    rows = [f for f in layer.getFeatures() if keep(f)]
    return sorted(rows, key=key, reverse=reverse)


def test_atlas_pages_names_figures_and_extents(tmp_path, hotspot_areas):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf, iterate_pages

    microclusters = R.microclusters_layer()
    settings = AtlasSettings(
        title="Creative hot spots atlas", subtitle="Test region", layers=[microclusters, hotspot_areas],
        filter_expression='"Gi_Bin" >= 2', sort_expression='"GiZScore"', sort_ascending=False,
    )
    build = build_atlas(hotspot_areas, settings)
    expected = _expected(hotspot_areas, lambda f: f["Gi_Bin"] >= 2, key=lambda f: f["GiZScore"], reverse=True)
    assert build.feature_count == len(expected) > 3
    path = export_atlas_pdf(build, tmp_path / "atlas.pdf")
    assert pdf_pages(path) == len(expected) + 2

    cover = page_text(path, 1)
    assert "Creative hot spots atlas" in cover and "Test region" in cover
    assert f"one page for each of the {len(expected)} areas" in cover
    assert "Companies House" in cover and "Crown copyright" in cover
    overview = page_text(path, 2)
    assert f"Overview – {len(expected)} areas" in overview
    for feature in expected:  # every atlas feature is labelled on the overview map
        assert feature["area_name"] in overview
    for page, feature in enumerate(expected, start=3):
        text = page_text(path, page)
        assert text.startswith(feature["area_name"]), text[:80]
        assert f"Firms: {feature['n_all']:,}" in text
        share = 100.0 * feature["n_creative"] / feature["n_all"]
        assert f"Creative firms: {feature['n_creative']:,} ({share:.1f} %)" in text
        assert f"Location quotient (creative): {feature['lq_creative']:.2f}" in text
        assert f"(95% CI {feature['lq_creative_lo']:.2f}–{feature['lq_creative_hi']:.2f})" in text
        level = {2: "95%", 3: "99%"}[feature["Gi_Bin"]]
        assert f"Gi* class: Hot spot – {level} confidence (z = {feature['GiZScore']:.2f})" in text
        counts = {name: feature[f"n_{code}"] for code, name in zip(R.SUBSECTOR_CODES, R.SUBSECTOR_NAMES)}
        top = max(counts, key=counts.get)
        assert f"{top} ({counts[top]:,})" in text
        assert f"Page {page} of {len(expected) + 2}" in text
        assert "Contains OS data © Crown copyright and database right 2025" in text

    pages = list(iterate_pages(build))
    assert [f["area_name"] for f, _ in pages] == [f["area_name"] for f in expected]
    for feature, extent in pages:
        box = feature.geometry().boundingBox()
        assert extent.contains(box)
        # with a margin, but not the whole region
        assert extent.width() < 3 * max(box.width(), box.height())


def test_without_front_pages_and_a3_portrait(tmp_path, hotspot_areas):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, export_atlas

    settings = AtlasSettings(filter_expression='"Gi_Bin" = 3', cover=False, overview=False, page_size="A3",
                             orientation="portrait")
    build = export_atlas(hotspot_areas, tmp_path / "a3.pdf", settings)
    n = sum(1 for f in hotspot_areas.getFeatures() if f["Gi_Bin"] == 3)
    assert build.page_count == n
    assert pdf_pages(tmp_path / "a3.pdf") == n
    assert "A3" in pdf_page_size(tmp_path / "a3.pdf")
    assert "Page 1 of" in page_text(tmp_path / "a3.pdf", 1)


def test_point_coverage_gets_a_buffered_extent(tmp_path):
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf, iterate_pages

    polygons = R.microclusters_layer(n=5)
    points = QgsVectorLayer("Point?crs=EPSG:27700&field=cc_cluster_id:integer&field=n_firms:integer", "centres", "memory")
    features = []
    for polygon in polygons.getFeatures():
        feature = QgsFeature(points.fields())
        feature.setGeometry(QgsGeometry(polygon.geometry().centroid()))
        feature.setAttributes([polygon["cc_cluster_id"], polygon["n_firms"]])
        features.append(feature)
    points.dataProvider().addFeatures(features)
    points.updateExtents()
    build = build_atlas(points, AtlasSettings(point_buffer=400.0, layers=[points, polygons]))
    path = export_atlas_pdf(build, tmp_path / "points.pdf")
    assert pdf_pages(path) == 5 + 2
    for number, (feature, extent) in enumerate(iterate_pages(build), start=1):
        point = feature.geometry().asPoint()
        assert extent.contains(point)
        assert extent.center().distance(point) < 1.0  # centred on the point
        assert 800.0 - 1e-6 <= min(extent.width(), extent.height()) <= 1200.0  # the 400 m buffer on both sides
        assert f"Microcluster {feature['cc_cluster_id']}" in page_text(path, number + 2)
        assert f"Firms: {feature['n_firms']}" in page_text(path, number + 2)


def test_line_coverage(tmp_path):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, export_atlas

    links = R.corridor_links_layer()
    build = export_atlas(links, tmp_path / "links.pdf", AtlasSettings(sort_expression='"gravity"', sort_ascending=False))
    assert pdf_pages(tmp_path / "links.pdf") == links.featureCount() + 2 == build.page_count


def test_zero_features_is_a_clear_error(tmp_path, hotspot_areas):
    from qgis.core import QgsVectorLayer

    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.atlas import AtlasSettings, export_atlas

    with pytest.raises(CreativeClustersError, match="left after the filter"):
        export_atlas(hotspot_areas, tmp_path / "none.pdf", AtlasSettings(filter_expression='"Gi_Bin" > 10'))
    empty = QgsVectorLayer("Polygon?crs=EPSG:27700&field=area_name:string", "empty", "memory")
    with pytest.raises(CreativeClustersError, match="has no features"):
        export_atlas(empty, tmp_path / "none.pdf")
    table = QgsVectorLayer("None?field=area_name:string", "table", "memory")
    with pytest.raises(CreativeClustersError, match="no geometries"):
        export_atlas(table, tmp_path / "none.pdf")
    with pytest.raises(CreativeClustersError, match="filter expression is not valid"):
        export_atlas(hotspot_areas, tmp_path / "none.pdf", AtlasSettings(filter_expression='"Gi_Bin" >>= 1'))
    with pytest.raises(CreativeClustersError, match="does not have"):
        export_atlas(hotspot_areas, tmp_path / "none.pdf", AtlasSettings(sort_expression='"no_such_field"'))
    assert not (tmp_path / "none.pdf").exists()


def test_unwritable_output_path(tmp_path, hotspot_areas):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.atlas import export_atlas

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(CreativeClustersError, match="cannot be created"):
        export_atlas(hotspot_areas, blocker / "atlas.pdf")
    with pytest.raises(CreativeClustersError, match="is a folder"):
        export_atlas(hotspot_areas, tmp_path)
    # missing folders are created; a name without .pdf gets it
    build = export_atlas(hotspot_areas, tmp_path / "new" / "folder" / "atlas", None)
    assert (tmp_path / "new" / "folder" / "atlas.pdf").is_file()
    assert build.page_count == hotspot_areas.featureCount() + 2


def test_very_long_names_are_cut_not_overflowing(tmp_path):
    from creative_clusters_plugin.layout.atlas import MAX_TITLE_CHARS, AtlasSettings, export_atlas

    long_name = "The Exceptionally Long-Named Creative Quarter of " + "Somewhere-upon-Thames and District " * 8
    names = [long_name if i == 0 else f"Ward {i}" for i in range(4)]
    layer = R.areas_layer(n_side=2, names=names)
    export_atlas(layer, tmp_path / "long.pdf", AtlasSettings(cover=False, overview=False))
    text = page_text(tmp_path / "long.pdf", 1)
    assert text.startswith(long_name[:60])
    assert "..." in text[:MAX_TITLE_CHARS + 20]  # the ellipsis "…" after NFKC normalisation
    assert long_name.strip() not in text  # cut, not printed in full
    assert "Firms:" in text


def test_cancel_leaves_no_pdf(tmp_path, hotspot_areas):
    from qgis.core import QgsFeedback

    from creative_clusters_plugin.core.errors import CancelledError
    from creative_clusters_plugin.layout.atlas import build_atlas, export_atlas_pdf

    feedback = QgsFeedback()
    seen = []

    def cancel_after_first_page(progress):
        seen.append(progress)
        if progress > 0:
            feedback.cancel()

    feedback.progressChanged.connect(cancel_after_first_page)
    build = build_atlas(hotspot_areas)
    with pytest.raises(CancelledError):
        export_atlas_pdf(build, tmp_path / "cancelled.pdf", feedback)
    assert seen and not (tmp_path / "cancelled.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".pdf"]


def test_shipped_templates_have_every_item(qgis_app):
    from qgis.core import QgsProject

    from creative_clusters_plugin.layout import template_builder
    from creative_clusters_plugin.layout.atlas import AtlasSettings, load_template

    ids = {"cc_main_map", "cc_inset_map", "cc_legend", "cc_scalebar", "cc_north_arrow", "cc_title", "cc_subtitle",
           "cc_summary", "cc_date", "cc_attribution", "cc_page_number", "cc_cover_title", "cc_cover_map",
           "cc_overview_page_map", "cc_overview_legend"}
    project = QgsProject()
    for size in template_builder.PAGE_SIZES:
        for orientation in template_builder.ORIENTATIONS:
            layout = load_template(project, AtlasSettings(page_size=size, orientation=orientation))
            assert layout.pageCollection().pageCount() == 3
            found = {item.id() for item in layout.items() if hasattr(item, "id")}
            assert ids <= found, (size, orientation, ids - found)
            for item_id in ("cc_main_map", "cc_inset_map", "cc_cover_map"):
                rect = layout.itemById(item_id).rect()
                assert rect.width() > 20 and rect.height() > 20  # real sizes, not NaN
            # the shipped file is what the builder makes today (regenerate with python -m …template_builder)
            fresh = template_builder.build_template_layout(project, size, orientation)
            for item in fresh.items():
                if getattr(item, "id", lambda: "")():
                    shipped = layout.itemById(item.id())
                    assert shipped.pagePos().x() == pytest.approx(item.pagePos().x(), abs=0.01), item.id()
                    assert shipped.pagePos().y() == pytest.approx(item.pagePos().y(), abs=0.01), item.id()
                    assert shipped.page() == item.page(), item.id()
            del layout, fresh


def test_hotspot_map_one_page(tmp_path, hotspot_areas):
    from creative_clusters_plugin.layout.hotspot_map import export_hotspot_map

    renderer_before = hotspot_areas.renderer().type()
    path = export_hotspot_map(hotspot_areas, tmp_path / "hot.pdf", title="Creative hot spots — test",
                              subtitle="Gi* of creative firm counts")
    assert pdf_pages(path) == 1
    text = page_text(path, 1)
    assert "Creative hot spots — test" in text and "Gi* of creative firm counts" in text
    hot99 = sum(1 for f in hotspot_areas.getFeatures() if f["Gi_Bin"] == 3)
    assert f"Hot spot – 99% confidence: {hot99}" in text
    assert "Contains Companies House data" in text
    assert hotspot_areas.renderer().type() == renderer_before  # the caller's style is untouched


def test_hotspot_map_needs_gi_bin(tmp_path):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.hotspot_map import export_hotspot_map

    with pytest.raises(CreativeClustersError, match="Gi_Bin"):
        export_hotspot_map(R.corridors_layer(), tmp_path / "x.pdf")


# --- through Processing ------------------------------------------------------------------------------
def _to_gpkg(layer, path, name):
    from qgis.core import QgsCoordinateTransformContext, QgsVectorFileWriter

    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    error = QgsVectorFileWriter.writeAsVectorFormatV2(layer, str(path), QgsCoordinateTransformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    return f"{path}|layername={name}"


def test_exportatlas_algorithm(tmp_path, run_alg):
    source = _to_gpkg(R.areas_layer(), tmp_path / "areas.gpkg", "areas_hotspots")
    result = run_alg("exportatlas", {
        "COVERAGE": source, "TITLE": "Processing atlas", "FILTER": '"Gi_Bin" = 3', "SORT": '"area_name"',
        "OUTPUT": str(tmp_path / "out" / "atlas.pdf"),
    })
    layer = R.areas_layer()
    names = sorted(f["area_name"] for f in layer.getFeatures() if f["Gi_Bin"] == 3)
    assert result["PAGES"] == len(names) + 2
    assert pdf_pages(result["OUTPUT"]) == len(names) + 2
    for page, name in enumerate(names, start=3):
        assert page_text(result["OUTPUT"], page).startswith(name)


def test_exportatlas_algorithm_errors(tmp_path, run_alg):
    from qgis.core import QgsProcessingException

    source = _to_gpkg(R.areas_layer(), tmp_path / "areas.gpkg", "areas")
    with pytest.raises(QgsProcessingException, match="left after the filter"):
        run_alg("exportatlas", {"COVERAGE": source, "FILTER": "false", "OUTPUT": str(tmp_path / "x.pdf")})
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(QgsProcessingException, match="cannot be created"):
        run_alg("exportatlas", {"COVERAGE": source, "OUTPUT": str(blocker / "x.pdf")})


def test_exportatlas_runs_on_main_thread(provider):
    from qgis.core import QgsProcessingAlgorithm

    algorithm = provider.algorithm("exportatlas")
    assert algorithm.flags() & QgsProcessingAlgorithm.FlagNoThreading
    names = {p.name() for p in algorithm.parameterDefinitions()}
    assert {"COVERAGE", "LAYERS", "TEMPLATE", "TITLE", "FILTER", "SORT", "OUTPUT"} <= names


def test_custom_template_through_processing(tmp_path, run_alg, project_root):
    source = _to_gpkg(R.areas_layer(n_side=3), tmp_path / "areas.gpkg", "areas")
    template = project_root / "resources" / "templates" / "atlas_a3_landscape.qpt"
    result = run_alg("exportatlas", {"COVERAGE": source, "TEMPLATE": str(template), "COVER": False,
                                     "OUTPUT": str(tmp_path / "a3.pdf")})
    assert result["PAGES"] == 9 + 1  # nine areas and the overview page
    assert "A3" in pdf_page_size(result["OUTPUT"])
    assert page_text(result["OUTPUT"], 1).startswith("Overview – 9 areas")


def test_broken_template_is_a_clear_error(tmp_path, hotspot_areas):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas

    broken = tmp_path / "broken.qpt"
    broken.write_text("<Layout><not closed")
    with pytest.raises(CreativeClustersError, match="not a valid .qpt"):
        build_atlas(hotspot_areas, AtlasSettings(template=broken))
    with pytest.raises(CreativeClustersError, match="does not exist"):
        build_atlas(hotspot_areas, AtlasSettings(template=tmp_path / "missing.qpt"))


def test_exporthotspotmap_algorithm(tmp_path, run_alg, provider):
    if provider.algorithm("exporthotspotmap") is None:
        pytest.skip("exporthotspotmap is not listed in the provider's ALGORITHM_MODULES")
    source = _to_gpkg(R.areas_layer(), tmp_path / "areas.gpkg", "areas")
    result = run_alg("exporthotspotmap", {"INPUT": source, "TITLE": "Map via Processing", "OUTPUT": str(tmp_path / "m.pdf")})
    assert pdf_pages(result["OUTPUT"]) == 1
    assert "Map via Processing" in page_text(result["OUTPUT"], 1)


def test_atlas_of_the_demo_region(tmp_path, demo_region):
    """Realistic layers: the generated ward-like areas as coverage over the 20,000+ firm points."""
    from qgis.core import QgsVectorLayer

    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf, iterate_pages

    areas = QgsVectorLayer(f"{demo_region['gpkg']}|layername=areas", "areas", "ogr")
    firms = QgsVectorLayer(f"{demo_region['gpkg']}|layername=firms", "firms", "ogr")
    assert areas.isValid() and firms.isValid()
    settings = AtlasSettings(title="Demo region", layers=[firms, areas], filter_expression="$id <= 6",
                             sort_expression='"area_name"')
    build = build_atlas(areas, settings)
    path = export_atlas_pdf(build, tmp_path / "demo.pdf")
    expected = sorted((f for f in areas.getFeatures() if f.id() <= 6), key=lambda f: f["area_name"])
    assert pdf_pages(path) == len(expected) + 2 == 8
    for page, (feature, extent) in enumerate(iterate_pages(build), start=3):
        assert feature["area_name"] == expected[page - 3]["area_name"]
        assert extent.contains(feature.geometry().boundingBox())
        assert page_text(path, page).startswith(feature["area_name"])
