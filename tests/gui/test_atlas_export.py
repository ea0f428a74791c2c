"""The atlas PDF: cover, contents, summary, overview, one page per filtered, sorted coverage feature, and the
methods page, read back with poppler.

Page counts come from ``pdfinfo``; each page's text from ``pdftotext -f N -l N`` must hold what that page is
about — the contents' page numbers, the summary's ranking and each feature's name and key figures — computed
here from the layer's attributes (not from the layout). The map extent of every page is checked to contain its
feature.
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


FRONT = 4  # cover, contents, summary, overview
BACK = 1  # methods and data
NO_MATTER = dict(cover=False, contents=False, summary=False, overview=False, methods=False)


def pdf_info(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in out.splitlines() if ":" in line}


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


def _lq_words(feature):
    if feature["lq_creative_lo"] > 1:
        return "clearly more concentrated than the study area"
    if feature["lq_creative_hi"] < 1:
        return "clearly less concentrated than the study area"
    return "not clearly different from the study area"


def test_atlas_book_names_figures_and_extents(tmp_path, hotspot_areas):
    import datetime

    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas, export_atlas_pdf, iterate_pages

    microclusters = R.microclusters_layer()
    settings = AtlasSettings(
        title="Creative hot spots atlas", subtitle="Test region", layers=[microclusters, hotspot_areas],
        filter_expression='"Gi_Bin" >= 2', sort_expression='"GiZScore"', sort_ascending=False,
        organisation="Test Borough Council", author="GIS team",
    )
    build = build_atlas(hotspot_areas, settings)
    expected = _expected(hotspot_areas, lambda f: f["Gi_Bin"] >= 2, key=lambda f: f["GiZScore"], reverse=True)
    n = len(expected)
    assert build.feature_count == n > 3
    path = export_atlas_pdf(build, tmp_path / "atlas.pdf")
    total = n + FRONT + BACK
    assert pdf_pages(path) == build.page_count == total
    info = pdf_info(path)
    assert info["Title"] == "Creative hot spots atlas" and "GIS team" in info["Author"]

    cover = page_text(path, 1)
    for text in ("Creative hot spots atlas", "Test region", "Test Borough Council", "Prepared by GIS team",
                 f"A map book of the {n} areas"):
        assert text in cover
    # nothing invented: without metadata or ATTRIBUTION the layers are named and their sources said to be missing
    assert "no source or licence is recorded" in cover and "Crown copyright" not in cover
    contents = page_text(path, 2)
    assert contents.startswith("Contents")
    assert "3 Summary" in contents and "4 Overview map" in contents and f"{total} Methods and data" in contents
    for page, feature in enumerate(expected, start=FRONT + 1):
        assert f"{page} {feature['area_name']}" in contents
    summary = page_text(path, 3)
    assert summary.startswith("Summary") and "ranked by creative firms" in summary
    ranked = sorted(expected, key=lambda f: -f["n_creative"])
    positions = [summary.index(f" {f['area_name']} ") for f in ranked]
    assert positions == sorted(positions)  # most creative firms first
    overview = page_text(path, 4)
    assert f"Overview – {n} areas" in overview
    for page, feature in enumerate(expected, start=FRONT + 1):  # every feature numbered with its page
        assert f"{page} · {feature['area_name']}" in overview
    for page, feature in enumerate(expected, start=FRONT + 1):
        text = page_text(path, page)
        assert text.startswith(feature["area_name"]), text[:80]
        share = 100.0 * feature["n_creative"] / feature["n_all"]
        assert f"{feature['n_all']:,}" in text and f"{feature['n_creative']:,} ({share:.0f} %)" in text
        lq = feature["lq_creative"]
        assert f"{lq:.2f} ({feature['lq_creative_lo']:.1f}–{feature['lq_creative_hi']:.1f})" in text
        assert _lq_words(feature) in text
        level = {2: "95%", 3: "99%"}[feature["Gi_Bin"]]
        assert f"Hot spot – {level} confidence" in text
        assert "Study area" in text  # areas tile the study area: the comparison column is the study area's
        counts = {name: feature[f"n_{code}"] for code, name in zip(R.SUBSECTOR_CODES, R.SUBSECTOR_NAMES)}
        top = max(counts, key=counts.get)
        assert "Creative firms by sub-sector" in text
        assert f"{int(100 * counts[top] / sum(counts.values()) + 0.5)}%" in text.replace(" %", "%")  # half up
        assert f"Page {page} of {total}" in text
        assert str(datetime.date.today().year - 1) + " (Code-Point" not in text
    methods = page_text(path, total)
    assert methods.startswith("Methods and data")
    assert "Location quotient (LQ)" in methods and "An LQ of 2 means" in methods
    assert "Hot spots (Getis-Ord Gi*)" in methods and "less than once in a hundred" in methods
    assert "Only features where" in methods and "sorted by" in methods

    pages = list(iterate_pages(build))
    assert [f["area_name"] for f, _ in pages] == [f["area_name"] for f in expected]
    for feature, extent in pages:
        box = feature.geometry().boundingBox()
        assert extent.contains(box)
        # with a margin, but not the whole region
        assert extent.width() < 3 * max(box.width(), box.height())


def test_without_front_pages_and_a3_portrait(tmp_path, hotspot_areas):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, export_atlas

    settings = AtlasSettings(filter_expression='"Gi_Bin" = 3', page_size="A3", orientation="portrait", **NO_MATTER)
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
    assert pdf_pages(path) == 5 + FRONT + BACK
    for number, (feature, extent) in enumerate(iterate_pages(build), start=1):
        point = feature.geometry().asPoint()
        assert extent.contains(point)
        assert extent.center().distance(point) < 1.0  # centred on the point
        assert 800.0 - 1e-6 <= min(extent.width(), extent.height()) <= 1200.0  # the 400 m buffer on both sides
        text = page_text(path, number + FRONT)
        assert text.startswith(f"Microcluster {feature['cc_cluster_id']}")
        assert "Firms" in text and f" {feature['n_firms']} " in text


def test_line_coverage(tmp_path):
    from creative_clusters_plugin.layout.atlas import AtlasSettings, export_atlas

    links = R.corridor_links_layer()
    build = export_atlas(links, tmp_path / "links.pdf", AtlasSettings(sort_expression='"gravity"', sort_ascending=False))
    assert pdf_pages(tmp_path / "links.pdf") == links.featureCount() + FRONT + BACK == build.page_count


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
    assert build.page_count == hotspot_areas.featureCount() + FRONT + BACK


def test_very_long_names_are_cut_not_overflowing(tmp_path):
    from creative_clusters_plugin.layout.atlas import MAX_TITLE_CHARS, AtlasSettings, export_atlas

    long_name = "The Exceptionally Long-Named Creative Quarter of " + "Somewhere-upon-Thames and District " * 8
    names = [long_name if i == 0 else f"Ward {i}" for i in range(4)]
    layer = R.areas_layer(n_side=2, names=names)
    export_atlas(layer, tmp_path / "long.pdf", AtlasSettings(**NO_MATTER))
    text = page_text(tmp_path / "long.pdf", 1)
    assert text.startswith(long_name[:60])
    assert "..." in text[:MAX_TITLE_CHARS + 20]  # the ellipsis "…" after NFKC normalisation
    assert long_name.strip() not in text  # cut, not printed in full
    assert "Key figures" in text


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
           "cc_summary", "cc_chart", "cc_date", "cc_attribution", "cc_page_number", "cc_cover_title", "cc_cover_map",
           "cc_cover_organisation", "cc_logo", "cc_contents", "cc_summary_table", "cc_overview_page_map",
           "cc_overview_legend", "cc_methods"} | set(template_builder.PAGE_ROLES.values())
    project = QgsProject()
    for size in template_builder.PAGE_SIZES:
        for orientation in template_builder.ORIENTATIONS:
            layout = load_template(project, AtlasSettings(page_size=size, orientation=orientation))
            assert layout.pageCollection().pageCount() == 6
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
    import datetime

    from creative_clusters_plugin.layout.hotspot_map import export_hotspot_map

    renderer_before = hotspot_areas.renderer().type()
    path = export_hotspot_map(hotspot_areas, tmp_path / "hot.pdf", title="Creative hot spots — test",
                              subtitle="Gi* of creative firm counts", attribution="Firms © Example {year}")
    assert pdf_pages(path) == 1
    text = page_text(path, 1)
    assert "Creative hot spots — test" in text and "Gi* of creative firm counts" in text
    hot99 = sum(1 for f in hotspot_areas.getFeatures() if f["Gi_Bin"] == 3)
    assert f"Hot spot – 99% confidence: {hot99}" in text
    assert f"Firms © Example {datetime.date.today().year}." in text
    assert "Study area" in text and "Hot and cold spots (Gi*)" in text
    assert pdf_info(path)["Title"] == "Creative hot spots — test"
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
    assert result["PAGES"] == len(names) + FRONT + BACK
    assert pdf_pages(result["OUTPUT"]) == len(names) + FRONT + BACK
    for page, name in enumerate(names, start=FRONT + 1):
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
    assert result["PAGES"] == 9 + FRONT - 1 + BACK  # nine areas, contents, summary, overview, methods
    assert "A3" in pdf_page_size(result["OUTPUT"])
    assert page_text(result["OUTPUT"], 1).startswith("Contents")
    assert page_text(result["OUTPUT"], 3).startswith("Overview – 9 areas")


def test_broken_template_is_a_clear_error(tmp_path, hotspot_areas):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.atlas import AtlasSettings, build_atlas

    broken = tmp_path / "broken.qpt"
    broken.write_text("<Layout><not closed")
    with pytest.raises(CreativeClustersError, match="broken.qpt") as error:
        build_atlas(hotspot_areas, AtlasSettings(template=broken))
    assert "not closed" not in str(error.value)  # the file's content is never echoed
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
    assert pdf_pages(path) == len(expected) + FRONT + BACK == 11
    for page, (feature, extent) in enumerate(iterate_pages(build), start=FRONT + 1):
        assert feature["area_name"] == expected[page - FRONT - 1]["area_name"]
        assert extent.contains(feature.geometry().boundingBox())
        assert page_text(path, page).startswith(feature["area_name"])
