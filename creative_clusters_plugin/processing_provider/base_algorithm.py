"""The one base class every Creative Clusters algorithm derives from.

An algorithm subclass declares its id, names, group and help as class attributes, defines its
parameters in ``initAlgorithm`` and does three things in ``execute``: read inputs with
:meth:`read_table`, call a function from :mod:`creative_clusters_plugin.core`, write outputs with
:meth:`write_table` (or rasterio for rasters). Styling of outputs is attached with
:meth:`style_output_on_load`, which runs on the main thread when Processing loads the layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

from ..core.errors import CreativeClustersError
from .bulk_point_reader import read_points_in_bulk

# Post-processors must outlive processAlgorithm: Processing only keeps a raw pointer.
_POST_PROCESSORS: list = []


class Cancelled(QgsProcessingException):
    """Raised when the user presses Cancel."""


@dataclass
class FeatureTable:
    """Attributes and geometry of a feature source, read once, ready for the core.

    ``xy`` holds one point per feature (the point itself, or the polygon's point on surface) in the
    *analysis CRS* (projected metres). ``wkb`` holds the geometries as WKB in the analysis CRS (only when
    asked for). ``features`` are the original QgsFeatures (source CRS, all attributes) for writing out.
    """

    frame: pd.DataFrame
    xy: np.ndarray
    features: list
    source_fields: QgsFields
    source_crs: QgsCoordinateReferenceSystem
    analysis_crs: QgsCoordinateReferenceSystem
    wkb_type: int
    wkb: list | None = None
    skipped_null_geometry: int = 0

    def __len__(self):
        return len(self.features)

    def geodataframe(self):
        """GeoDataFrame (analysis CRS) built from ``wkb``; needs ``with_geometry=True`` when reading."""
        import geopandas as gpd
        from shapely import wkb as shapely_wkb

        geoms = [shapely_wkb.loads(bytes(b)) if b is not None else None for b in self.wkb]
        return gpd.GeoDataFrame(self.frame.copy(), geometry=geoms, crs=self.analysis_crs.authid() or None)


def british_national_grid():
    return QgsCoordinateReferenceSystem("EPSG:27700")


def suitable_projected_crs(extent_lonlat) -> QgsCoordinateReferenceSystem:
    """British National Grid for data inside Great Britain, else the UTM zone of the extent centre."""
    cx = (extent_lonlat.xMinimum() + extent_lonlat.xMaximum()) / 2
    cy = (extent_lonlat.yMinimum() + extent_lonlat.yMaximum()) / 2
    if -9.0 <= cx <= 2.5 and 49.5 <= cy <= 61.0:
        return british_national_grid()
    zone = int((cx + 180) // 6) + 1
    epsg = (32600 if cy >= 0 else 32700) + max(1, min(zone, 60))
    return QgsCoordinateReferenceSystem(f"EPSG:{epsg}")


class CreativeClustersAlgorithm(QgsProcessingAlgorithm):
    """Shared base: naming, help, reading sources into tables, writing sinks, styling, cancel."""

    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    HELP = ""
    TAGS = ""

    # --- identity ---------------------------------------------------------------------------------
    def name(self):
        return self.ALGORITHM_ID

    def displayName(self):  # noqa: N802 - QGIS API
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802 - QGIS API
        return self.GROUP_ID

    def tags(self):
        return [t.strip() for t in self.tr(self.TAGS).split(",") if t.strip()]

    def shortHelpString(self):  # noqa: N802 - QGIS API
        return self.tr(self.HELP)

    def helpUrl(self):  # noqa: N802 - QGIS API
        return ""

    def createInstance(self):  # noqa: N802 - QGIS API
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("CreativeClusters", text)

    # --- running ----------------------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs):
        # ``QgsProcessingAlgorithm.run`` is QGIS API (Processing's executor calls it with 5 arguments):
        # a subclass that implements its body as ``run(parameters, context, feedback)`` gets it moved to
        # ``execute`` so the QGIS method is never shadowed.
        super().__init_subclass__(**kwargs)
        own_run = cls.__dict__.get("run")
        if own_run is not None:
            setattr(cls, "execute", own_run)
            delattr(cls, "run")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API
        try:
            return self.execute(parameters, context, feedback)
        except CreativeClustersError as error:
            raise QgsProcessingException(str(error)) from error

    def execute(self, parameters, context, feedback):
        """Subclasses implement this (parameters in, core call, sinks out) instead of ``processAlgorithm``."""
        raise NotImplementedError

    @staticmethod
    def check_cancel(feedback):
        if feedback is not None and feedback.isCanceled():
            raise Cancelled("Cancelled by the user; no output was written.")

    @staticmethod
    def progress_callback(feedback, start=0.0, end=100.0):
        """A ``callback(fraction) -> bool`` for core loops: sets progress and returns True to stop."""

        def callback(fraction):
            if feedback is None:
                return False
            feedback.setProgress(start + (end - start) * float(fraction))
            return feedback.isCanceled()

        return callback

    # --- reading ----------------------------------------------------------------------------------
    def analysis_crs_for(self, source, feedback) -> QgsCoordinateReferenceSystem:
        """Projected CRS for distances: the source's own, or a suitable one with a warning."""
        crs = source.sourceCrs()
        if not crs.isValid():
            feedback.pushWarning(
                "The input layer has no CRS; its coordinates are taken as metres. Set the layer CRS if "
                "distances look wrong."
            )
            return crs
        if not crs.isGeographic():
            return crs
        extent = source.sourceExtent()
        to_wgs84 = QgsCoordinateTransform(
            crs, QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance().transformContext()
        )
        target = suitable_projected_crs(to_wgs84.transformBoundingBox(extent))
        feedback.pushWarning(
            f"The input is in a geographic CRS ({crs.authid()}): distances in degrees are meaningless, so the "
            f"analysis projects it to {target.authid()} ({target.description()}). Outputs keep the input CRS."
        )
        return target

    def read_table(
        self,
        source,
        feedback,
        fields: Sequence[str] | None = None,
        with_geometry: bool = False,
        analysis_crs: QgsCoordinateReferenceSystem | None = None,
        require_geometry: bool = True,
        progress_range=(0.0, 10.0),
    ) -> FeatureTable:
        """Read a feature source into a :class:`FeatureTable`.

        NULL geometries are skipped (counted, reported) when ``require_geometry``; invalid polygons are
        repaired with ``makeValid`` for the analysis copy only. The input layer is never modified.
        """
        if source is None:
            raise QgsProcessingException("The input layer could not be loaded.")
        field_names = list(fields) if fields is not None else [f.name() for f in source.fields()]
        for name in field_names:
            if source.fields().lookupField(name) < 0:
                raise QgsProcessingException(f"The field '{name}' does not exist in the input layer.")
        has_geometry = source.wkbType() != QgsWkbTypes.NoGeometry
        if analysis_crs is None:
            analysis_crs = self.analysis_crs_for(source, feedback) if has_geometry else source.sourceCrs()
        transform = None
        if has_geometry and analysis_crs.isValid() and analysis_crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), analysis_crs, QgsProject.instance().transformContext())

        total = source.featureCount() or 0
        step = (progress_range[1] - progress_range[0]) / total if total > 0 else 0
        features, rows, xy, wkb = [], [], [], []
        skipped = 0
        request = QgsFeatureRequest()
        if not has_geometry:
            request.setFlags(QgsFeatureRequest.NoGeometry)
        for i, feature in enumerate(source.getFeatures(request)):
            if i % 5000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(progress_range[0] + i * step)
            if has_geometry:
                geometry = feature.geometry()
                if geometry is None or geometry.isNull() or geometry.isEmpty():
                    if require_geometry:
                        skipped += 1
                        continue
                    xy.append((np.nan, np.nan))
                    wkb.append(None)
                else:
                    geometry = QgsGeometry(geometry)
                    if transform is not None:
                        geometry.transform(transform)
                    if geometry.type() == QgsWkbTypes.PolygonGeometry and not geometry.isGeosValid():
                        geometry = geometry.makeValid()
                    if geometry.type() == QgsWkbTypes.PointGeometry and not geometry.isMultipart():
                        point = geometry.asPoint()
                    else:
                        point = geometry.pointOnSurface().asPoint()
                    xy.append((point.x(), point.y()))
                    if with_geometry:
                        wkb.append(bytes(geometry.asWkb()))
            features.append(feature)
            rows.append([_to_python(feature[name]) for name in field_names])
        if skipped:
            feedback.pushWarning(f"{skipped} feature(s) with no geometry were left out of the analysis.")
        frame = pd.DataFrame(rows, columns=field_names)
        return FeatureTable(
            frame=frame,
            xy=np.asarray(xy, dtype=float).reshape(-1, 2) if has_geometry else np.empty((len(features), 2)),
            features=features,
            source_fields=source.fields(),
            source_crs=source.sourceCrs(),
            analysis_crs=analysis_crs,
            wkb_type=source.wkbType(),
            wkb=wkb if with_geometry else None,
            skipped_null_geometry=skipped,
        )

    def read_points(self, parameters, name, context, source, crs, feedback, fields=(), progress_range=(0.0, 10.0)):
        """Coordinates in ``crs`` and the values of ``fields`` (NULL → None) of the point source of parameter
        ``name``, one row per point (multipoints give one row per part); for analyses that need no features back.

        A plain file layer is read in bulk through GDAL (:mod:`.bulk_point_reader`, about 0.2 s a million
        points); any other QGIS source by a lean feature loop (no feature objects kept), about 2 s a million.
        """
        fields = list(fields)
        read = read_points_in_bulk(parameters, name, context, crs, fields)
        if read is not None:
            xy, columns, skipped = read
            if skipped:
                feedback.pushWarning(f"{skipped:,} feature(s) with no geometry were left out.")
            feedback.setProgress(progress_range[1])
            return xy, columns
        transform = None
        if crs.isValid() and source.sourceCrs().isValid() and crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), crs, QgsProject.instance().transformContext())
        request = QgsFeatureRequest()
        indices = [source.fields().lookupField(name) for name in fields]
        if indices:
            request.setSubsetOfAttributes(indices)
        else:
            request.setNoAttributes()
        total = source.featureCount() or 0
        step = (progress_range[1] - progress_range[0]) / total if total > 0 else 0.0
        xs, ys = [], []
        values = [[] for _ in fields]
        skipped = 0
        for i, feature in enumerate(source.getFeatures(request)):
            if i % 20000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(progress_range[0] + i * step)
            geometry = feature.geometry()
            if geometry.isNull() or geometry.isEmpty():
                skipped += 1
                continue
            if transform is not None:
                geometry.transform(transform)
            points = geometry.asMultiPoint() if geometry.isMultipart() else [geometry.asPoint()]
            attributes = [feature.attribute(index) for index in indices]
            for point in points:
                xs.append(point.x())
                ys.append(point.y())
                for column, value in zip(values, attributes):
                    column.append(None if value is None or value == NULL else value)
        if skipped:
            feedback.pushWarning(f"{skipped:,} feature(s) with no geometry were left out.")
        xy = np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)]) if xs else np.empty((0, 2))
        return xy, {name: column for name, column in zip(fields, values)}

    # --- writing ----------------------------------------------------------------------------------
    @staticmethod
    def output_fields(base: QgsFields | None, new_fields: Iterable[QgsField]) -> QgsFields:
        """Input fields followed by the new ones; a new field replaces an input field of the same name."""
        new_fields = list(new_fields)
        new_names = {f.name().lower() for f in new_fields}
        fields = QgsFields()
        if base is not None:
            for field in base:
                if field.name().lower() not in new_names:
                    fields.append(field)
        for field in new_fields:
            fields.append(field)
        return fields

    def write_table(
        self,
        parameters,
        output_name: str,
        context,
        feedback,
        table: FeatureTable,
        new_columns: pd.DataFrame,
        new_fields: Sequence[QgsField],
        keep: np.ndarray | None = None,
        progress_range=(90.0, 100.0),
    ):
        """Write the input features (all, or those with ``keep``) plus ``new_columns`` to a sink.

        Geometry and CRS are the input's; NaN/None become NULL. Returns the destination id.
        """
        fields = self.output_fields(table.source_fields, new_fields)
        sink, dest_id = self.parameterAsSink(parameters, output_name, context, fields, table.wkb_type, table.source_crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, output_name))
        new_names = [f.name() for f in new_fields]
        values = [new_columns[name].to_numpy(dtype=object) for name in new_names]
        kept_names = [f.name() for f in fields if f.name() not in new_names]
        total = len(table.features)
        step = (progress_range[1] - progress_range[0]) / max(total, 1)
        for i, feature in enumerate(table.features):
            if keep is not None and not keep[i]:
                continue
            if i % 5000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(progress_range[0] + i * step)
            out = QgsFeature(fields)
            if feature.hasGeometry():
                out.setGeometry(feature.geometry())
            attributes = [feature[name] for name in kept_names]
            attributes.extend(_to_qgis(column[i]) for column in values)
            out.setAttributes(attributes)
            if not sink.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, output_name))
        return dest_id

    def write_geometries(
        self,
        parameters,
        output_name: str,
        context,
        feedback,
        fields: QgsFields,
        wkb_type,
        crs: QgsCoordinateReferenceSystem,
        rows: Iterable[tuple[QgsGeometry | None, list]],
    ):
        """Write new features (geometry, attribute list) to a sink; returns the destination id."""
        sink, dest_id = self.parameterAsSink(parameters, output_name, context, fields, wkb_type, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, output_name))
        for i, (geometry, attributes) in enumerate(rows):
            if i % 1000 == 0:
                self.check_cancel(feedback)
            out = QgsFeature(fields)
            if geometry is not None:
                out.setGeometry(geometry)
            out.setAttributes([_to_qgis(v) for v in attributes])
            if not sink.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, output_name))
        return dest_id

    # --- styling ----------------------------------------------------------------------------------
    def style_output_on_load(self, context, dest_id, style_name: str | None = None, field: str | None = None):
        """Style the output layer when Processing loads it (main thread), with the shared styling code."""
        if not context.willLoadLayerOnCompletion(dest_id):
            return
        post = OutputStyler(style_name, field)
        _POST_PROCESSORS.append(post)
        context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(post)


class OutputStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies :func:`creative_clusters_plugin.styling.apply_style` to a loaded output layer."""

    def __init__(self, style_name=None, field=None):
        super().__init__()
        self.style_name = style_name
        self.field = field

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - QGIS API
        from ..styling import apply_style

        try:
            apply_style(layer, self.style_name, field=self.field)
        except Exception as error:  # styling must never lose a computed result
            feedback.pushWarning(f"Could not style {layer.name()}: {error}")


# --- value conversion -----------------------------------------------------------------------------
def _to_python(value):
    if value is None or value == NULL:
        return None
    if isinstance(value, QVariant):
        return None if value.isNull() else value.value()
    return value


def _to_qgis(value):
    if value is None:
        return NULL
    if isinstance(value, (float, np.floating)):
        return NULL if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    try:
        if pd.isna(value):
            return NULL
    except (TypeError, ValueError):
        pass
    return value


def field(name: str, kind: str, length: int = 0, precision: int = 0) -> QgsField:
    """Short-hand for a QgsField: ``kind`` is 'double', 'int', 'string', 'bool' or 'date'."""
    types = {
        "double": (QVariant.Double, "double"),
        "int": (QVariant.Int, "integer"),
        "long": (QVariant.LongLong, "integer64"),
        "string": (QVariant.String, "string"),
        "bool": (QVariant.Bool, "boolean"),
        "date": (QVariant.Date, "date"),
    }
    qtype, type_name = types[kind]
    return QgsField(name, qtype, type_name, length, precision)


__all__ = [
    "CreativeClustersAlgorithm",
    "Cancelled",
    "FeatureTable",
    "field",
    "QgsProcessing",
    "suitable_projected_crs",
]
