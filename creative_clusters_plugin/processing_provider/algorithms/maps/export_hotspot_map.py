"""creativeclusters:exporthotspotmap — a one-page PDF map of a Gi* result (thin adapter over layout.hotspot_map)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProject,
)

from ....layout.atlas import DEFAULT_ATTRIBUTION, check_output_path
from ....layout.hotspot_map import HotspotMapOptions, export_hotspot_map
from ...base_algorithm import CreativeClustersAlgorithm
from ...map_parameters import CONTEXT_HELP, add_context_parameters, context_settings, style_if_unstyled

PAGE_SIZES = ("A4", "A3")
ORIENTATIONS = ("Landscape", "Portrait")


class ExportHotspotMap(CreativeClustersAlgorithm):
    ALGORITHM_ID = "exporthotspotmap"
    REQUIRES = ('numpy', 'scipy')
    DISPLAY_NAME = "Export hot-spot map (one-page PDF)"
    GROUP = "5 · Maps and atlas"
    GROUP_ID = "maps"
    TAGS = "map,print,layout,pdf,hot spot,getis-ord,gi*"
    HELP = """<p>Writes a <b>one-page PDF map</b> of a Getis-Ord Gi* result (the output of <i>Getis-Ord Gi* hot spots</i> or <i>Optimized hot spots</i>): title, subtitle, the map drawn with the seven confidence classes in blue – white – red (Gi_Bin; features without neighbours in grey), a legend, the number of features in each class, scale bar, north arrow, date and the data attribution.</p>
<h3>Parameters</h3>
<ul>
<li><b>Gi* result layer</b> (INPUT): a layer with the Gi_Bin field; an error otherwise, or when it has no features.</li>
<li><b>Title</b> (TITLE), <b>Subtitle</b> (SUBTITLE).</li>
<li><b>Page size</b> (PAGE_SIZE: A4, A3) and <b>Orientation</b> (ORIENTATION: landscape, portrait).</li>
<li><b>More layers</b> (LAYERS, optional, top first): Creative Clusters results keep their style; other layers (roads, stations, boundaries) are drawn beneath in a muted grey. The map is fitted to the Gi* layer and the study area, never to these.</li>
<li><b>Attribution</b> (ATTRIBUTION): data notices, "{year}" replaced by the current year; empty (default) = built from the layers' metadata rights and licences, nothing invented (see <i>Export creative-cluster atlas</i> for the usual UK open data credits).</li>
""" + CONTEXT_HELP + """
<li><b>Author</b> (AUTHOR): in the PDF's properties, with the title.</li>
<li><b>Output PDF</b> (OUTPUT): missing folders are created; an unwritable folder is an error.</li>
</ul>
<p>The layer is drawn with the plugin's Gi_Bin style on the map only; its own style is not changed. Runs on the main thread like QGIS's own layout exporters. Text stays text in the PDF.</p>"""

    INPUT = "INPUT"
    TITLE = "TITLE"
    SUBTITLE = "SUBTITLE"
    PAGE_SIZE = "PAGE_SIZE"
    ORIENTATION = "ORIENTATION"
    ATTRIBUTION = "ATTRIBUTION"
    LAYERS = "LAYERS"
    AUTHOR = "AUTHOR"
    OUTPUT = "OUTPUT"

    def flags(self):
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterVectorLayer(self.INPUT, self.tr("Gi* result layer"), [QgsProcessing.TypeVectorAnyGeometry])
        )
        self.addParameter(QgsProcessingParameterString(self.TITLE, self.tr("Title"), defaultValue="Creative hot spots"))
        self.addParameter(QgsProcessingParameterString(self.SUBTITLE, self.tr("Subtitle"), defaultValue="", optional=True))
        self.addParameter(
            QgsProcessingParameterEnum(self.PAGE_SIZE, self.tr("Page size"), options=list(PAGE_SIZES), defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.ORIENTATION, self.tr("Orientation"), options=[self.tr(o) for o in ORIENTATIONS],
                                       defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterString(self.ATTRIBUTION, self.tr("Attribution"), defaultValue=DEFAULT_ATTRIBUTION,
                                         multiLine=True, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(self.LAYERS, self.tr("More layers to show (top first)"),
                                                 QgsProcessing.TypeMapLayer, optional=True)
        )
        add_context_parameters(self)
        self.addParameter(QgsProcessingParameterString(self.AUTHOR, self.tr("Author (PDF properties)"), defaultValue="",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("Map PDF"), "PDF files (*.pdf)"))

    def execute(self, parameters, context, feedback):
        layer = self.parameterAsVectorLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        output = check_output_path(self.parameterAsFileOutput(parameters, self.OUTPUT, context))
        project = QgsProject()
        layers = self.parameterAsLayerList(parameters, self.LAYERS, context) or []
        for extra in layers:
            style_if_unstyled(extra, context.project(), feedback)
        options = HotspotMapOptions(
            title=self.parameterAsString(parameters, self.TITLE, context) or "Creative hot spots",
            subtitle=self.parameterAsString(parameters, self.SUBTITLE, context) or "",
            attribution=self.parameterAsString(parameters, self.ATTRIBUTION, context) or "",
            page_size=PAGE_SIZES[self.parameterAsEnum(parameters, self.PAGE_SIZE, context)],
            orientation=ORIENTATIONS[self.parameterAsEnum(parameters, self.ORIENTATION, context)].lower(),
            layers=layers,
            author=self.parameterAsString(parameters, self.AUTHOR, context) or "",
            **context_settings(self, parameters, context, feedback),
        )
        try:
            path = export_hotspot_map(layer, output, options, project=project)
        finally:
            del project
        feedback.setProgress(100)
        feedback.pushInfo(f"Map written to {path}")
        return {self.OUTPUT: str(path)}


ALGORITHM = ExportHotspotMap
