"""creativeclusters:exportatlas — the creative-cluster atlas as one PDF (thin adapter over layout.atlas)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExpression,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProject,
)

from ....core.errors import CancelledError
from ....layout.atlas import DEFAULT_ATTRIBUTION, DEFAULT_TITLE, AtlasSettings, build_atlas, check_output_path, export_atlas_pdf
from ...base_algorithm import Cancelled, CreativeClustersAlgorithm
from ...map_parameters import CONTEXT_HELP, add_context_parameters, context_settings, style_if_unstyled

PAGE_SIZES = ("A4", "A3")
ORIENTATIONS = ("Landscape", "Portrait")


class ExportAtlas(CreativeClustersAlgorithm):
    ALGORITHM_ID = "exportatlas"
    REQUIRES = ('numpy', 'scipy')
    DISPLAY_NAME = "Export creative-cluster atlas (PDF)"
    GROUP = "5 · Maps and atlas"
    GROUP_ID = "maps"
    TAGS = "atlas,print,layout,pdf,map book,report,councillors,cover,overview"
    HELP = """<p>Writes a printable <b>map book</b> as one PDF: a <b>cover</b>, a <b>contents</b> page, a <b>summary</b> table ranking every feature, an <b>overview</b> map (the whole study area with every feature numbered by its page), <b>one page per feature</b> of the coverage layer — areas, microclusters, corridors or any polygon, line or point layer — and a closing <b>methods and data</b> page.</p>
<p>Each feature page has the feature's name as title, an atlas-driven map with a margin around the feature (points get a square window of fixed scale, half the typical spacing between points wide), an overview inset locating the page, a legend of the layers shown (filtered to what the map shows), scale bar, north arrow, a <b>key figures</b> table comparing the feature with the study area (firms, creative firms and share, creative LQ with its 95 % interval, firms per hectare, its class: Gi_Bin, COType, PATTERN or dominant sub-sector — whichever fields exist), one plain-English sentence saying what the LQ and the hot-spot class mean, a <b>chart of its creative sub-sector mix</b> (from n_advert … n_music), the date, the page number and the attribution.</p>
<h3>Parameters</h3>
<ul>
<li><b>Coverage layer</b> (COVERAGE): one page per feature. A layer with no features, or none left after the filter, is an error.</li>
<li><b>Layers to show</b> (LAYERS, optional, top first): default the coverage layer alone over a neutral, basemap-free background. Layers loaded from files without a saved style are drawn with the plugin's style for their result type.</li>
<li><b>Layout template</b> (TEMPLATE, optional .qpt): default the shipped template for the page size and orientation (resources/templates/atlas_a4_landscape.qpt …). A template saved from the layout designer works when it keeps the item ids cc_main_map, cc_inset_map, cc_legend, cc_title, cc_summary … (missing items are skipped).</li>
<li><b>Title</b> (TITLE) and <b>Subtitle</b> (SUBTITLE): on the cover and every page.</li>
<li><b>Filter</b> (FILTER, optional expression): only features where it is true get a page, e.g. <code>"Gi_Bin" = 3</code> or <code>"n_firms" &gt;= 100</code>.</li>
<li><b>Sort</b> (SORT, optional expression) and <b>Sort descending</b> (SORT_DESCENDING): page order, e.g. <code>"n_firms"</code> descending for the biggest clusters first.</li>
<li><b>Page name</b> (NAME, optional expression): the title of each page; default the first name field found (area_name, name, …NM) or a numbered id (cc_cluster_id, corridor_id). Names longer than 90 characters are cut with an ellipsis.</li>
<li><b>Page size</b> (PAGE_SIZE: A4, A3), <b>Orientation</b> (ORIENTATION: landscape, portrait).</li>
<li><b>Cover page</b> (COVER) and <b>Overview page</b> (OVERVIEW): on by default.</li>
<li><b>Attribution</b> (ATTRIBUTION): the data notices printed on every page, "{year}" replaced by the current year. Empty (default): built from the layers' own metadata (Layer Properties › Metadata › Access: rights and licences), and when none records a source, the layers are named with a note saying so — nothing is invented. For the UK open data this plugin works with, the credits read: "Contains Companies House data licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right {year}. Contains Royal Mail data © Royal Mail copyright and database right {year} (Code-Point Open). Source: Office for National Statistics licensed under the Open Government Licence v3.0."</li>
""" + CONTEXT_HELP + """
<li><b>Organisation</b> (ORGANISATION), <b>Author</b> (AUTHOR) and <b>Logo</b> (LOGO, an image): on the cover; title and author also go into the PDF's properties.</li>
<li><b>Contents</b> (CONTENTS), <b>Summary</b> (SUMMARY: every feature ranked by creative firms, with its page, firms, creative firms, LQ and class) and <b>Methods and data</b> (METHODS: what each statistic shown means in plain English, the layers and sources, the filter and sort) pages: on by default.</li>
<li><b>Output PDF</b> (OUTPUT). Missing folders are created; an unwritable folder or a read-only file is an error before anything is rendered.</li>
</ul>
<h3>How it runs</h3>
<p>The cover and overview are pages of the same atlas layout that are exported only with the first feature (data-defined "exclude from exports"), so QGIS writes the whole book in one pass to one PDF — no PDF merging tool is needed. Like QGIS's own layout exporters, the algorithm runs on the main thread; progress advances page by page and Cancel stops between pages without leaving a partial PDF. Text stays text in the PDF (searchable). Inputs are never modified.</p>
<p>Outputs: OUTPUT (the PDF path) and PAGES (number of pages written).</p>"""

    COVERAGE = "COVERAGE"
    LAYERS = "LAYERS"
    TEMPLATE = "TEMPLATE"
    TITLE = "TITLE"
    SUBTITLE = "SUBTITLE"
    FILTER = "FILTER"
    SORT = "SORT"
    SORT_DESCENDING = "SORT_DESCENDING"
    NAME = "NAME"
    PAGE_SIZE = "PAGE_SIZE"
    ORIENTATION = "ORIENTATION"
    COVER = "COVER"
    OVERVIEW = "OVERVIEW"
    ATTRIBUTION = "ATTRIBUTION"
    POINT_BUFFER = "POINT_BUFFER"
    PLACES = "PLACES"
    PLACE_FIELD = "PLACE_FIELD"
    STUDY_AREA = "STUDY_AREA"
    BASEMAP = "BASEMAP"
    BASEMAP_ATTRIBUTION = "BASEMAP_ATTRIBUTION"
    ORGANISATION = "ORGANISATION"
    AUTHOR = "AUTHOR"
    LOGO = "LOGO"
    CONTENTS = "CONTENTS"
    SUMMARY = "SUMMARY"
    METHODS = "METHODS"
    OUTPUT = "OUTPUT"
    PAGES = "PAGES"

    def flags(self):
        # layouts are QGraphicsScenes: like QGIS's own layout exporters, run on the main thread
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterVectorLayer(self.COVERAGE, self.tr("Coverage layer (one page per feature)"),
                                              [QgsProcessing.TypeVectorAnyGeometry])
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(self.LAYERS, self.tr("Layers to show (top first)"),
                                                 QgsProcessing.TypeMapLayer, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterFile(self.TEMPLATE, self.tr("Layout template (.qpt)"), extension="qpt", optional=True)
        )
        self.addParameter(QgsProcessingParameterString(self.TITLE, self.tr("Title"), defaultValue=DEFAULT_TITLE))
        self.addParameter(QgsProcessingParameterString(self.SUBTITLE, self.tr("Subtitle"), defaultValue="", optional=True))
        self.addParameter(
            QgsProcessingParameterExpression(self.FILTER, self.tr("Filter (only features where true)"),
                                             parentLayerParameterName=self.COVERAGE, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterExpression(self.SORT, self.tr("Sort by"), parentLayerParameterName=self.COVERAGE,
                                             optional=True)
        )
        self.addParameter(QgsProcessingParameterBoolean(self.SORT_DESCENDING, self.tr("Sort descending"), defaultValue=False))
        self.addParameter(
            QgsProcessingParameterExpression(self.NAME, self.tr("Page name (default: guessed from the fields)"),
                                             parentLayerParameterName=self.COVERAGE, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.PAGE_SIZE, self.tr("Page size"), options=list(PAGE_SIZES), defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.ORIENTATION, self.tr("Orientation"), options=[self.tr(o) for o in ORIENTATIONS],
                                       defaultValue=0)
        )
        self.addParameter(QgsProcessingParameterBoolean(self.COVER, self.tr("Cover page"), defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(self.OVERVIEW, self.tr("Overview page"), defaultValue=True))
        self.addParameter(
            QgsProcessingParameterString(self.ATTRIBUTION, self.tr("Attribution"), defaultValue=DEFAULT_ATTRIBUTION,
                                         multiLine=True, optional=True)
        )
        add_context_parameters(self)
        self.addParameter(QgsProcessingParameterString(self.ORGANISATION, self.tr("Organisation (cover)"), defaultValue="",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString(self.AUTHOR, self.tr("Author (cover, PDF properties)"),
                                                       defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterFile(self.LOGO, self.tr("Logo image (cover)"), optional=True,
                                                     fileFilter="Images (*.png *.jpg *.jpeg *.svg)"))
        self.addParameter(QgsProcessingParameterBoolean(self.CONTENTS, self.tr("Contents page"), defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(self.SUMMARY, self.tr("Summary page (ranked table)"),
                                                        defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(self.METHODS, self.tr("Methods and data page"), defaultValue=True))
        buffer = QgsProcessingParameterNumber(
            self.POINT_BUFFER, self.tr("Map half-width around point features (0 = automatic)"),
            QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0,
        )
        buffer.setFlags(buffer.flags() | buffer.FlagAdvanced)
        self.addParameter(buffer)
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("Atlas PDF"), "PDF files (*.pdf)"))
        self.addOutput(QgsProcessingOutputNumber(self.PAGES, self.tr("Pages written")))

    def execute(self, parameters, context, feedback):
        coverage = self.parameterAsVectorLayer(parameters, self.COVERAGE, context)
        if coverage is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.COVERAGE))
        output = check_output_path(self.parameterAsFileOutput(parameters, self.OUTPUT, context))
        layers = self.parameterAsLayerList(parameters, self.LAYERS, context) or []
        project = context.project()
        for layer in [coverage, *layers]:
            style_if_unstyled(layer, project, feedback)
        settings = AtlasSettings(
            title=self.parameterAsString(parameters, self.TITLE, context) or DEFAULT_TITLE,
            subtitle=self.parameterAsString(parameters, self.SUBTITLE, context) or "",
            page_size=PAGE_SIZES[self.parameterAsEnum(parameters, self.PAGE_SIZE, context)],
            orientation=ORIENTATIONS[self.parameterAsEnum(parameters, self.ORIENTATION, context)].lower(),
            layers=layers or None,
            filter_expression=self.expression_text(parameters, self.FILTER, context),
            sort_expression=self.expression_text(parameters, self.SORT, context),
            sort_ascending=not self.parameterAsBoolean(parameters, self.SORT_DESCENDING, context),
            name_expression=self.expression_text(parameters, self.NAME, context),
            attribution=self.parameterAsString(parameters, self.ATTRIBUTION, context)
            if parameters.get(self.ATTRIBUTION) is not None else DEFAULT_ATTRIBUTION,
            template=self.parameterAsFile(parameters, self.TEMPLATE, context) or None,
            point_buffer=self.parameterAsDouble(parameters, self.POINT_BUFFER, context) or None,
            cover=self.parameterAsBoolean(parameters, self.COVER, context),
            overview=self.parameterAsBoolean(parameters, self.OVERVIEW, context),
            contents=self.parameterAsBoolean(parameters, self.CONTENTS, context),
            summary=self.parameterAsBoolean(parameters, self.SUMMARY, context),
            methods=self.parameterAsBoolean(parameters, self.METHODS, context),
            organisation=self.parameterAsString(parameters, self.ORGANISATION, context) or "",
            author=self.parameterAsString(parameters, self.AUTHOR, context) or "",
            logo=self.parameterAsFile(parameters, self.LOGO, context) or None,
            **context_settings(self, parameters, context, feedback),
        )
        # a private project: the layout must not appear in (or change) the user's project
        layout_project = QgsProject()
        layout_project.setCrs(coverage.crs())
        feedback.pushInfo(f"Building the atlas of '{coverage.name()}' …")
        build = build_atlas(coverage, settings, layout_project)
        for warning in build.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(
            f"{build.feature_count} feature page(s) + {build.front_pages} front page(s) = {build.page_count} pages."
        )
        pages = build.page_count
        try:
            self.check_cancel(feedback)
            export_atlas_pdf(build, output, feedback)
        except CancelledError as error:
            raise Cancelled(str(error)) from error
        finally:
            del build  # the layout goes before the private project it points to
            del layout_project
        feedback.setProgress(100)
        feedback.pushInfo(f"Atlas written to {output}")
        return {self.OUTPUT: str(output), self.PAGES: pages}


ALGORITHM = ExportAtlas
