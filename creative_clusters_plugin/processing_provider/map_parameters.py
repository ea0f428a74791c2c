"""Parameters the map exports share (``exportatlas``, ``exporthotspotmap``): place names, study area, basemap,
and styling layers Processing loaded from files."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterField,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsSingleSymbolRenderer,
)

from ..styling import apply_style, detect_result_type


def style_if_unstyled(layer, project, feedback):
    """A layer Processing loaded from a file (not a project layer) draws with a plain single symbol: give it
    its GeoPackage default style, or the plugin's style for its result type. Project layers keep theirs."""
    if layer is None or project is not None and project.mapLayer(layer.id()) is not None:
        return
    if layer.type() == layer.VectorLayer and not isinstance(layer.renderer(), QgsSingleSymbolRenderer):
        return
    try:
        _, loaded = layer.loadDefaultStyle()
    except Exception:  # providers without default styles
        loaded = False
    if loaded and not (layer.type() == layer.VectorLayer and isinstance(layer.renderer(), QgsSingleSymbolRenderer)):
        return
    style = detect_result_type(layer)
    if style:
        try:
            apply_style(layer, style)
            feedback.pushInfo(f"Layer '{layer.name()}' drawn with the '{style}' style.")
        except Exception as error:  # styling must not stop the atlas
            feedback.pushWarning(f"Could not style '{layer.name()}': {error}")


CONTEXT_HELP = """<li><b>Place names</b> (PLACES, optional point layer: towns, stations, localities) and <b>Name field</b> (PLACE_FIELD, empty = detected: name, NAME1, …NM or the first text field): labelled on every map without collisions, and used to name features that have no name of their own ("Microcluster 3 – Kelham Island": the place inside the feature, else the nearest).</li>
<li><b>Study area</b> (STUDY_AREA, optional polygons): outlined on every map (dashed). Default: the outline of the coverage — its union when its polygons cover an area (wards), else the area around its features.</li>
<li><b>Basemap</b> (BASEMAP, optional XYZ tile URL with {x}, {y}, {z}, e.g. <code>https://tile.openstreetmap.org/{z}/{x}/{y}.png</code>): off by default. Tiles need a network connection and have their own terms: give their credit in <b>Basemap attribution</b> (BASEMAP_ATTRIBUTION, e.g. "© OpenStreetMap contributors").</li>
<li>Other layers in LAYERS that are not Creative Clusters results (roads, stations, boundaries) are drawn beneath the results in one muted grey style. Maps of the whole study area (cover, overview, inset) are fitted to the filtered coverage and the study area, never to context layers.</li>"""


def add_context_parameters(algorithm):
    """PLACES, PLACE_FIELD, STUDY_AREA, BASEMAP, BASEMAP_ATTRIBUTION (shared with the hot-spot map)."""
    tr = algorithm.tr
    algorithm.addParameter(QgsProcessingParameterVectorLayer(
        "PLACES", tr("Place names (points)"), [QgsProcessing.TypeVectorPoint], optional=True))
    algorithm.addParameter(QgsProcessingParameterField(
        "PLACE_FIELD", tr("Place name field (empty = detect)"), parentLayerParameterName="PLACES", optional=True))
    algorithm.addParameter(QgsProcessingParameterVectorLayer(
        "STUDY_AREA", tr("Study area (polygons; default: outline of the features)"),
        [QgsProcessing.TypeVectorPolygon], optional=True))
    algorithm.addParameter(QgsProcessingParameterString(
        "BASEMAP", tr("Basemap XYZ tile URL (optional; needs a network)"), defaultValue="", optional=True))
    algorithm.addParameter(QgsProcessingParameterString(
        "BASEMAP_ATTRIBUTION", tr("Basemap attribution"), defaultValue="", optional=True))


def context_settings(algorithm, parameters, context, feedback) -> dict:
    places = algorithm.parameterAsVectorLayer(parameters, "PLACES", context)
    study = algorithm.parameterAsVectorLayer(parameters, "STUDY_AREA", context)
    fields = algorithm.parameterAsFields(parameters, "PLACE_FIELD", context)
    basemap = (algorithm.parameterAsString(parameters, "BASEMAP", context) or "").strip()
    credit = (algorithm.parameterAsString(parameters, "BASEMAP_ATTRIBUTION", context) or "").strip()
    if basemap and not credit:
        feedback.pushWarning("A basemap is drawn without a credit: give its provider's attribution in "
                             "BASEMAP_ATTRIBUTION (e.g. '© OpenStreetMap contributors').")
    return {"places": places, "place_field": fields[0] if fields else "", "study_area": study,
            "basemap_url": basemap, "basemap_attribution": credit}
