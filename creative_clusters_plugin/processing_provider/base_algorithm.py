"""The one base class every Creative Clusters algorithm derives from.

An algorithm subclass declares its id, names, group and help as class attributes, defines its
parameters in ``initAlgorithm`` and does three things in ``execute``: read inputs with
:meth:`read_table`, call a function from :mod:`creative_clusters_plugin.core`, write outputs with
:meth:`write_table` (or rasterio for rasters). Styling of outputs is attached with
:meth:`style_output_on_load`, which runs on the main thread when Processing loads the layer.
"""

from __future__ import annotations

import os
import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
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
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingUtils,
    QgsProperty,
    QgsProviderRegistry,
    QgsWkbTypes,
)
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QDate, QDateTime, QTime, QVariant

from ..core.errors import CreativeClustersError
from ..qt_compat import field_type, same_type
from . import dependencies
from .bulk_writer import (
    NewColumn,
    WriteCancelled,
    bulk_format,
    copy_with_new_columns,
    file_destination,
    move_into_place,
    remove_dataset,
    temporary_sibling,
)
from .columnar_reader import OgrLayerRef, ogr_layer_ref, provider_name, read_columns

if TYPE_CHECKING:
    import pandas as pd

#: from this many features, reading a source one feature at a time is worth a word in the log
LARGE_FEATURE_LOOP = 200_000

# Post-processors must outlive processAlgorithm: Processing only keeps a raw pointer.
_POST_PROCESSORS: list = []


class Cancelled(QgsProcessingException):
    """Raised when the user presses Cancel."""


@dataclass
class FeatureTable:
    """Attributes and geometry of a feature source, read once, ready for the core.

    One row per feature kept for the analysis. ``xy`` holds one point per feature (the point itself, or the
    polygon's point on surface) in the *analysis CRS* (projected metres); ``source_xy`` the same points in the
    source CRS (for writing derived points). ``wkb`` holds the geometries as WKB in the analysis CRS (only
    when asked for). ``fids`` are the features' ids, by which :meth:`CreativeClustersAlgorithm.write_table`
    finds them again; no feature objects are kept. ``ogr``/``positions`` say where GDAL can copy the same
    features from (set when the table was read in bulk).
    """

    frame: pd.DataFrame
    xy: np.ndarray
    fids: np.ndarray
    source: object
    source_fields: QgsFields
    source_crs: QgsCoordinateReferenceSystem
    analysis_crs: QgsCoordinateReferenceSystem
    wkb_type: int
    wkb: list | None = None
    skipped_null_geometry: int = 0
    source_xy: np.ndarray | None = None
    ogr: OgrLayerRef | None = None
    positions: np.ndarray | None = None
    ogr_total: int = 0

    def __len__(self):
        return len(self.fids)

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
    #: import names of the Python packages the algorithm needs beyond QGIS (see :mod:`.dependencies`)
    REQUIRES: tuple = ("numpy", "scipy", "pandas")

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
        ok, message = self.canExecute()
        warning = "" if ok else "<p><b>Not available: </b>" + message.replace("\n", "<br>") + "</p>"
        return warning + self.tr(self.HELP)

    def canExecute(self):  # noqa: N802 - QGIS API
        """``(False, what is missing and how to install it)`` when a package in ``REQUIRES`` is missing."""
        return dependencies.check(self.REQUIRES)

    def helpUrl(self):  # noqa: N802 - QGIS API
        return ""

    def createInstance(self):  # noqa: N802 - QGIS API
        return type(self)()

    def tr(self, text):
        """Translated ``text``: looked up under the class that wrote it (pylupdate's context) and its bases."""
        for cls in type(self).__mro__:
            if cls is QgsProcessingAlgorithm:
                break
            translated = QCoreApplication.translate(cls.__name__, text)
            if translated != text:
                return translated
        return text

    # --- running ----------------------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API
        # each run has its own instance (createInstance): remember what the readers need
        self._run_parameters = parameters
        self._run_context = context
        self._pending_outputs = []
        try:
            ok, message = self.canExecute()  # processing.run and qgis_process do not ask before running
            if not ok:
                raise QgsProcessingException(message)
            self.check_outputs_do_not_overwrite_inputs(parameters, context)
            results = self.execute(parameters, context, feedback)
            self._publish_pending_outputs()
            return results
        except CreativeClustersError as error:
            traceback.clear_frames(error.__traceback__)
            raise QgsProcessingException(str(error)) from None
        except BaseException as error:
            # the finished frames below hold QGIS objects (sources, layers): a traceback kept by the caller
            # (a console, a test) would otherwise keep them alive until after QGIS has shut down
            traceback.clear_frames(error.__traceback__)
            raise
        finally:
            self._discard_pending_outputs()
            # hold no QGIS objects past the run (a traceback kept by the caller would keep them after QGIS exits)
            self._run_parameters = None
            self._run_context = None

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
    def transform_context(self):
        """The transform context of the running algorithm's context (never the project's, from a worker)."""
        context = getattr(self, "_run_context", None)
        if context is not None:
            return context.transformContext()
        return QgsCoordinateTransformContext()

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
        to_wgs84 = QgsCoordinateTransform(crs, QgsCoordinateReferenceSystem("EPSG:4326"), self.transform_context())
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
        parameter: str | None = None,
    ) -> FeatureTable:
        """Read a feature source into a :class:`FeatureTable`: only ``fields`` (default all) plus geometry.

        ``parameter`` names the source's parameter: layers and tables behind QGIS's OGR provider (and
        PostGIS) are then read in bulk through GDAL (:mod:`.columnar_reader`), every other source by a lean
        feature loop; both give the same rows, points and geometries (polygons and lines are turned into
        points, reprojected and repaired by the same QGIS functions on either path). A table without geometry is an error when ``require_geometry``; NULL
        geometries are then skipped (counted, reported). Invalid polygons are repaired with ``makeValid`` for
        the analysis copy only. The input layer is never modified.
        """
        if source is None:
            raise QgsProcessingException("The input layer could not be loaded.")
        wanted = list(fields) if fields is not None else [f.name() for f in source.fields()]
        field_names = []
        for name in wanted:
            actual = find_field(source.fields(), name)
            if actual is None:
                raise QgsProcessingException(f"The field '{name}' does not exist in the input layer.")
            field_names.append(actual)
        has_geometry = source.wkbType() != QgsWkbTypes.NoGeometry
        if require_geometry:
            _require_geometry(source, points_only=False)
        if analysis_crs is None:
            analysis_crs = self.analysis_crs_for(source, feedback) if has_geometry else source.sourceCrs()
        table = None
        if parameter is not None:
            table = self._read_table_in_bulk(
                source, parameter, field_names, has_geometry, with_geometry, analysis_crs, feedback, progress_range
            )
        if table is None:
            self._note_feature_loop(source, parameter, feedback)
            table = self._read_table_by_features(
                source, field_names, has_geometry, with_geometry, analysis_crs, require_geometry, feedback, progress_range
            )
        if require_geometry and has_geometry and table.ogr is not None:
            present = ~np.isnan(table.xy).any(axis=1)
            if not present.all():
                table = _take_rows(table, present)
                table.skipped_null_geometry = int((~present).sum())
        if table.skipped_null_geometry:
            feedback.pushWarning(
                f"{table.skipped_null_geometry:,} feature(s) with no geometry were left out of the analysis."
            )
        renamed = {actual: name for actual, name in zip(field_names, wanted) if actual != name}
        if renamed:  # the algorithm sees the names it asked for (a shapefile's cc_creativ as cc_creative)
            table.frame = table.frame.rename(columns=renamed)
            feedback.pushInfo("Fields matched by name: " + ", ".join(f"{a} → {n}" for a, n in renamed.items()))
        feedback.setProgress(progress_range[1])
        return table

    def _read_table_in_bulk(
        self, source, parameter, field_names, has_geometry, with_geometry, analysis_crs, feedback, progress_range
    ):
        import pandas as pd

        context = getattr(self, "_run_context", None)
        parameters = getattr(self, "_run_parameters", None)
        if context is None or parameters is None:
            return None
        ref = ogr_layer_ref(parameters, parameter, context)
        if ref is None or ref.crs != source.sourceCrs():
            return None
        for warning in ref.warnings:
            feedback.pushWarning(warning)
        # single points are read as coordinates; any other geometry (or geometry wanted whole) as WKB
        shapes = has_geometry and (with_geometry or QgsWkbTypes.flatType(source.wkbType()) != QgsWkbTypes.Point)
        bulk = read_columns(ref, field_names, has_geometry and not shapes, analysis_crs,
                            cancelled=feedback.isCanceled, shapes=shapes)
        self.check_cancel(feedback)
        if bulk is None:
            return None
        frame = pd.DataFrame({name: bulk.columns[name] for name in field_names}, columns=field_names)
        xy = bulk.xy if has_geometry else np.full((len(bulk.fids), 2), np.nan)
        source_xy, wkb, invalid = bulk.source_xy, None, None
        if shapes:
            check = _invalid_geometry_check(parameters, parameter, context, source)
            source_xy, xy, wkb, invalid = self._analysis_shapes(
                bulk.geometries, bulk.fids, source, analysis_crs, with_geometry, check, feedback, progress_range
            )
        table = FeatureTable(
            frame=frame,
            xy=xy,
            fids=bulk.fids,
            source=source,
            source_fields=source.fields(),
            source_crs=source.sourceCrs(),
            analysis_crs=analysis_crs,
            wkb_type=source.wkbType(),
            wkb=wkb,
            source_xy=source_xy,
            ogr=ref,
            positions=bulk.positions,
            ogr_total=bulk.total,
        )
        return _take_rows(table, ~invalid) if invalid is not None and invalid.any() else table

    def _note_feature_loop(self, source, parameter, feedback):
        """Say so in the log when a large source is read one feature at a time, because only QGIS can read
        it (a delimited-text or memory layer, a layer with unsaved edits, a QGIS expression as filter)."""
        if (source.featureCount() or 0) < LARGE_FEATURE_LOOP:
            return
        context = getattr(self, "_run_context", None)
        parameters = getattr(self, "_run_parameters", None)
        provider = provider_name(parameters, parameter, context) if parameter and context is not None else None
        kind = {"delimitedtext": "a delimited-text layer", "memory": "a temporary (memory) layer"}.get(
            provider, "a layer only QGIS can read")
        feedback.pushInfo(
            f"'{source.sourceName()}' is {kind}: QGIS hands it over one feature at a time. Saved as a GeoPackage "
            "(Export ▸ Save Features As…), it would be read in bulk, several times faster."
        )

    def _analysis_shapes(self, blobs, fids, source, analysis_crs, with_geometry, check, feedback, progress_range):
        """Points (in the source and the analysis CRS), when ``with_geometry`` analysis geometries as WKB, and
        the mask of features to leave out, of the geometries GDAL read as WKB: the feature loop's steps
        (:func:`_analysis_geometry`) on the same geometries, so both paths give the same values. Single parts
        become multi-part as QGIS's OGR provider makes them for a multi-type layer (a shapefile's polygons).
        Invalid geometries are handled as Processing's setting (``check``) says, as QGIS's own feature
        source does on the loop path: skipped with a message, stopped at, or repaired for the analysis."""
        transform = None
        if analysis_crs.isValid() and analysis_crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), analysis_crs, self.transform_context())
        multi = QgsWkbTypes.isMultiType(source.wkbType())
        n = len(blobs)
        source_xy = np.full((n, 2), np.nan)
        xy = np.full((n, 2), np.nan)
        wkb = [None] * n if with_geometry else None
        invalid = np.zeros(n, dtype=bool)
        low, high = progress_range
        for i, blob in enumerate(blobs):
            if i % 2000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(low + (high - low) * (0.5 + 0.5 * i / max(n, 1)))
            if blob is None:
                continue
            geometry = QgsGeometry()
            geometry.fromWkb(blob)
            if geometry.isNull() or geometry.isEmpty():
                continue
            if multi and not geometry.isMultipart():
                geometry.convertToMultiType()
            if check != QgsFeatureRequest.GeometryNoCheck and not geometry.isGeosValid():
                message = f"Feature ({int(fids[i])}) from “{source.sourceName()}” has invalid geometry"
                advice = ("Please fix the geometry or change the Processing setting to the “Ignore invalid input "
                          "features” option.")
                if check == QgsFeatureRequest.GeometryAbortOnInvalid:
                    raise QgsProcessingException(f"{message}. {advice}")
                feedback.reportError(f"{message} and has been skipped. {advice}", False)
                invalid[i] = True
                continue
            source_xy[i], xy[i], geometry = _analysis_geometry(geometry, transform)
            if with_geometry:
                wkb[i] = bytes(geometry.asWkb())
        return source_xy, xy, wkb, invalid

    def _read_table_by_features(
        self, source, field_names, has_geometry, with_geometry, analysis_crs, require_geometry, feedback, progress_range
    ):
        import pandas as pd

        transform = None
        if has_geometry and analysis_crs.isValid() and analysis_crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), analysis_crs, self.transform_context())
        total = source.featureCount() or 0
        step = (progress_range[1] - progress_range[0]) / total if total > 0 else 0
        indices = [source.fields().lookupField(name) for name in field_names]
        fids, columns, xy, source_xy, wkb = [], [[] for _ in field_names], [], [], []
        skipped = 0
        request = QgsFeatureRequest()
        if not has_geometry:
            request.setFlags(QgsFeatureRequest.NoGeometry)
        if indices:
            request.setSubsetOfAttributes(indices)
        else:
            request.setNoAttributes()
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
                    source_xy.append((np.nan, np.nan))
                    wkb.append(None)
                else:
                    source_point, point, geometry = _analysis_geometry(geometry, transform)
                    source_xy.append(source_point)
                    xy.append(point)
                    if with_geometry:
                        wkb.append(bytes(geometry.asWkb()))
            fids.append(feature.id())
            for column, index in zip(columns, indices):
                column.append(_to_python(feature.attribute(index)))
        frame = pd.DataFrame({name: pd.Series(column, dtype=object) for name, column in zip(field_names, columns)},
                             columns=field_names)
        n = len(fids)
        return FeatureTable(
            frame=frame,
            xy=np.asarray(xy, dtype=float).reshape(-1, 2) if has_geometry else np.full((n, 2), np.nan),
            fids=np.asarray(fids, dtype=np.int64),
            source=source,
            source_fields=source.fields(),
            source_crs=source.sourceCrs(),
            analysis_crs=analysis_crs,
            wkb_type=source.wkbType(),
            wkb=wkb if with_geometry else None,
            skipped_null_geometry=skipped,
            source_xy=np.asarray(source_xy, dtype=float).reshape(-1, 2) if has_geometry else None,
        )

    def read_points(self, parameters, name, context, source, crs, feedback, fields=(), progress_range=(0.0, 10.0)):
        """Coordinates in ``crs`` and the values of ``fields`` (NULL → None) of the point source of parameter
        ``name``, one row per point (multipoints give one row per part); for analyses that need no features back.

        A layer behind QGIS's OGR provider is read in bulk through GDAL (:mod:`.columnar_reader`, about 0.3 s a
        million points, reprojected in bulk); any other QGIS source by a lean feature loop, about 2 s a million.
        """
        fields = list(fields)
        _require_geometry(source, points_only=True)
        ref = ogr_layer_ref(parameters, name, context)
        bulk = None
        if ref is not None and ref.crs == source.sourceCrs():
            bulk = read_columns(ref, fields, True, crs, cancelled=feedback.isCanceled)
        self.check_cancel(feedback)
        if bulk is not None:
            present = ~np.isnan(bulk.xy).any(axis=1)
            skipped = int((~present).sum())
            if skipped:
                feedback.pushWarning(f"{skipped:,} feature(s) with no geometry were left out.")
            feedback.setProgress(progress_range[1])
            return bulk.xy[present], {f: bulk.columns[f][present].tolist() for f in fields}
        self._note_feature_loop(source, name, feedback)
        transform = None
        if crs.isValid() and source.sourceCrs().isValid() and crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), crs, self.transform_context())
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
            attributes = [_to_python(feature.attribute(index)) for index in indices]
            for point in points:
                xs.append(point.x())
                ys.append(point.y())
                for column, value in zip(values, attributes):
                    column.append(value)
        if skipped:
            feedback.pushWarning(f"{skipped:,} feature(s) with no geometry were left out.")
        xy = np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)]) if xs else np.empty((0, 2))
        return xy, {name: column for name, column in zip(fields, values)}

    def expression_text(self, parameters, name, context) -> str:
        """An expression parameter as the user typed it. (``parameterAsExpression`` returns an empty string for
        an expression that does not parse, which would silently drop, say, an atlas filter.)"""
        value = parameters.get(name)
        if isinstance(value, QgsProperty):
            value = value.staticValue()
        if value is None:
            return ""
        text = str(value).strip()
        return text or (self.parameterAsExpression(parameters, name, context) or "")

    @staticmethod
    def field_names(source) -> FieldNames:
        """The source's field names, matched tolerantly by ``in`` (see :func:`find_field`)."""
        return FieldNames(source.fields())

    # --- outputs: never over an input, always whole -------------------------------------------------
    def check_outputs_do_not_overwrite_inputs(self, parameters, context):
        """Refuse, before anything is written, an output file that is one of the input files (a vector file,
        a raster, the GeoPackage holding an input layer: writing it would replace the whole file)."""
        inputs = {}
        for definition in self.parameterDefinitions():
            if definition.isDestination() or definition.name() not in parameters:
                continue
            if definition.type() not in _FILE_INPUT_TYPES:
                continue  # fields, numbers, expressions… name no file
            for path in _input_files(parameters.get(definition.name()), context):
                inputs.setdefault(_normalised(path), (definition.description(), path))
        if not inputs:
            return
        for definition in self.destinationParameterDefinitions():
            destination = self.destination_string(parameters, definition.name(), context)
            path = file_destination(destination)
            if path and _normalised(path) in inputs:
                description, input_path = inputs[_normalised(path)]
                raise QgsProcessingException(
                    f"The output '{definition.description()}' ({path}) is the file of the input '{description}'. "
                    f"Writing it would replace the input{' and every other layer in it' if path.lower().endswith('.gpkg') else ''}. "
                    "Choose another file name for the output."
                )

    def output_file(self, parameters, output_name, context) -> str:
        """The file an output parameter writes, registered for loading when the run ends, its folder created
        (a clear error when it cannot be)."""
        path = self.parameterAsOutputLayer(parameters, output_name, context)
        _make_folder(path)
        return path

    def create_sink(self, parameters, output_name, context, fields, wkb_type, crs):
        """``(sink, destination id)`` like ``parameterAsSink``, but a file output is written to a hidden file
        beside it and renamed into place when the algorithm finishes (removed if it fails or is cancelled);
        its folder is created when missing."""
        destination = self.destination_string(parameters, output_name, context)
        path = file_destination(destination)
        if not path or not os.path.splitext(path)[1]:
            sink, dest_id = self.parameterAsSink(parameters, output_name, context, fields, wkb_type, crs)
            if sink is None:
                raise QgsProcessingException(self.invalidSinkError(parameters, output_name))
            return sink, dest_id
        final = self.output_file(parameters, output_name, context)
        partial = temporary_sibling(final, os.path.splitext(final)[1])
        sink, _ = self.parameterAsSink({output_name: partial}, output_name, context, fields, wkb_type, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, output_name))
        self._pending_outputs.append([sink, partial, final])
        return sink, final

    def _publish_pending_outputs(self):
        for pending in self._pending_outputs:
            sink, partial, final = pending
            pending[0] = None
            if sink is not None:
                sip.delete(sink)  # closes the file
            if os.path.exists(partial):
                move_into_place(partial, final)
        self._pending_outputs = []

    def _discard_pending_outputs(self):
        for sink, partial, _ in getattr(self, "_pending_outputs", []):
            if sink is not None:
                try:
                    sip.delete(sink)
                except RuntimeError:
                    pass
            remove_dataset(partial)
        self._pending_outputs = []

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

    @staticmethod
    def destination_string(parameters, output_name: str, context) -> str:
        """The destination an output parameter names, as text ('' when unset), without creating anything."""
        value = parameters.get(output_name)
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            sink = value.sink
            value = sink.staticValue() if sink.propertyType() == QgsProperty.StaticProperty else \
                sink.valueAsString(context.expressionContext(), "")[0]
        if value is None:
            return ""
        return str(value)

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
        """Write the input features (all, or those with ``keep``) plus ``new_columns`` to the output.

        Geometry, CRS and every input field are the input's; NaN/None become NULL. A table read in bulk that
        goes to a GeoPackage, shapefile, GeoJSON or FlatGeobuf file is written by :mod:`.bulk_writer` (a GDAL
        copy plus one SQLite transaction, atomically); any other destination through QGIS's sink.
        Returns the destination id.
        """
        destination = self.destination_string(parameters, output_name, context)
        if table.ogr is not None and table.ogr.copyable and table.positions is not None and bulk_format(destination):
            return self._write_table_in_bulk(parameters, output_name, context, feedback, table, new_columns,
                                             new_fields, keep, progress_range)
        fields = self.output_fields(table.source_fields, new_fields)
        sink, dest_id = self.create_sink(parameters, output_name, context, fields, table.wkb_type, table.source_crs)
        new_names = [f.name() for f in new_fields]
        values = [new_columns[name].to_numpy(dtype=object) for name in new_names]
        kept_indices = [table.source_fields.lookupField(f.name()) for f in fields if f.name() not in new_names]
        order = np.argsort(table.fids, kind="stable")
        sorted_fids = table.fids[order]
        total = len(table)
        step = (progress_range[1] - progress_range[0]) / max(total, 1)
        request = QgsFeatureRequest()
        if table.wkb_type == QgsWkbTypes.NoGeometry:
            request.setFlags(QgsFeatureRequest.NoGeometry)
        written = 0
        for feature in table.source.getFeatures(request):
            at = np.searchsorted(sorted_fids, feature.id())
            if at >= total or sorted_fids[at] != feature.id():
                continue  # left out of the analysis (no geometry)
            i = order[at]
            if keep is not None and not keep[i]:
                continue
            if written % 5000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(progress_range[0] + written * step)
            written += 1
            out = QgsFeature(fields)
            if feature.hasGeometry():
                out.setGeometry(feature.geometry())
            attributes = [feature.attribute(index) for index in kept_indices]
            attributes.extend(_to_qgis(column[i]) for column in values)
            out.setAttributes(attributes)
            if not sink.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, output_name))
        return dest_id

    def _write_table_in_bulk(self, parameters, output_name, context, feedback, table, new_columns, new_fields,
                             keep, progress_range):
        path = self.output_file(parameters, output_name, context)
        rows = np.arange(len(table)) if keep is None else np.flatnonzero(np.asarray(keep, dtype=bool))
        columns = [
            NewColumn(f.name(), _field_kind(f), f.length(), new_columns[f.name()].to_numpy(dtype=object)[rows])
            for f in new_fields
        ]
        new_names = {f.name().lower() for f in new_fields}
        drop = [f.name() for f in table.source_fields if f.name().lower() in new_names]
        ref = table.ogr
        low, high = progress_range
        with writing_errors(path):
            copy_with_new_columns(
                ref.path, ref.layer_name, ref.layer_index, ref.where, ref.open_options, table.ogr_total,
                table.positions[rows], table.fids[rows], columns, drop, path,
                progress=lambda fraction: feedback.setProgress(low + (high - low) * fraction),
                cancelled=feedback.isCanceled,
                promote_to_multi=QgsWkbTypes.isMultiType(table.wkb_type),
            )
        return path

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
        sink, dest_id = self.create_sink(parameters, output_name, context, fields, wkb_type, crs)
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
    if value is None:
        return None
    if isinstance(value, QVariant):
        if value.isNull():
            return None
        value = value.value()
    if isinstance(value, QDate):
        return value.toPyDate() if value.isValid() else None
    if isinstance(value, QDateTime):
        return value.toPyDateTime() if value.isValid() else None
    if isinstance(value, QTime):
        return value.toPyTime() if value.isValid() else None
    try:
        if value == NULL:
            return None
    except TypeError:
        pass
    return value


@contextmanager
def writing_errors(path: str):
    """Around a bulk write: a cancel ends as QGIS's cancellation, a GDAL or file error as a message naming the
    output (the writer has already removed what it wrote)."""
    try:
        yield
    except WriteCancelled:
        raise Cancelled("Cancelled by the user; no output was written.") from None
    except (OSError, RuntimeError) as error:
        raise QgsProcessingException(f"Could not write {path}: {error}") from error


def _require_geometry(source, points_only: bool):
    """A clear error when ``source`` has no geometry (a table), or, with ``points_only``, no points."""
    if source.wkbType() == QgsWkbTypes.NoGeometry:
        raise QgsProcessingException(
            f"The input '{source.sourceName()}' is a table without geometry, but this algorithm needs "
            f"{'points' if points_only else 'points or polygons'}. Choose a layer with geometry (for a firms table: "
            "geocode it first with Creative Clusters ▸ Geocode postcodes)."
        )
    kind = QgsWkbTypes.geometryType(source.wkbType())
    if points_only and kind != QgsWkbTypes.PointGeometry:
        held = {QgsWkbTypes.PolygonGeometry: "polygons", QgsWkbTypes.LineGeometry: "lines"}.get(kind, "no points")
        raise QgsProcessingException(
            f"The input '{source.sourceName()}' holds {held}, but this algorithm needs points (one per firm). "
            "Choose the firms layer, or make points first (e.g. Vector geometry ▸ Centroids)."
        )


def _invalid_geometry_check(parameters, name, context, source) -> int:
    """What Processing does with invalid input geometries for this source (the feature loop gets it from QGIS's
    feature source): the source definition's own choice, else the context's; points are never checked."""
    if QgsWkbTypes.geometryType(source.wkbType()) == QgsWkbTypes.PointGeometry:
        return QgsFeatureRequest.GeometryNoCheck
    value = parameters.get(name)
    if isinstance(value, QgsProcessingFeatureSourceDefinition) and (
        value.flags & QgsProcessingFeatureSourceDefinition.FlagOverrideDefaultGeometryCheck
    ):
        return value.geometryCheck
    return context.invalidGeometryCheck()


def _analysis_geometry(geometry, transform):
    """``(point in the source CRS, point in the analysis CRS, analysis geometry)`` of a feature's geometry:
    reprojected by ``transform`` (when given) and, for invalid polygons, repaired with ``makeValid`` (the
    input itself is never changed)."""
    source_point = _representative_point(geometry)
    if transform is not None:
        geometry = QgsGeometry(geometry)
        geometry.transform(transform)
    if geometry.type() == QgsWkbTypes.PolygonGeometry and not geometry.isGeosValid():
        geometry = geometry.makeValid()
    point = _representative_point(geometry) if transform is not None else source_point
    return source_point, point, geometry


def _representative_point(geometry):
    """(x, y) of a point geometry, or of a line's or polygon's point on surface."""
    if geometry.type() == QgsWkbTypes.PointGeometry and not geometry.isMultipart():
        point = geometry.asPoint()
    else:
        point = geometry.pointOnSurface().asPoint()
    return point.x(), point.y()


def _take_rows(table: FeatureTable, rows: np.ndarray) -> FeatureTable:
    """The table restricted to ``rows`` (a boolean mask)."""
    from dataclasses import replace

    return replace(
        table,
        frame=table.frame.loc[rows].reset_index(drop=True),
        xy=table.xy[rows],
        fids=table.fids[rows],
        wkb=[w for w, r in zip(table.wkb, rows) if r] if table.wkb is not None else None,
        source_xy=table.source_xy[rows] if table.source_xy is not None else None,
        positions=table.positions[rows] if table.positions is not None else None,
    )


_FIELD_KINDS = ("double", "int", "long", "bool", "date")


def _field_kind(qgs_field: QgsField) -> str:
    """The :mod:`.bulk_writer` kind of a new field."""
    return next((kind for kind in _FIELD_KINDS if same_type(qgs_field.type(), kind)), "string")


def _to_qgis(value):
    if value is None:
        return NULL
    if isinstance(value, (float, np.floating)):
        return NULL if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    import pandas as pd  # (here, past the common cases: this runs once per value written)

    try:
        if pd.isna(value):
            return NULL
    except (TypeError, ValueError):
        pass
    return value


def field(name: str, kind: str, length: int = 0, precision: int = 0) -> QgsField:
    """Short-hand for a QgsField: ``kind`` is 'double', 'int', 'string', 'bool' or 'date'."""
    type_names = {"double": "double", "int": "integer", "long": "integer64", "string": "string", "bool": "boolean",
                  "date": "date"}
    qtype, type_name = field_type(kind), type_names[kind]
    return QgsField(name, qtype, type_name, length, precision)


__all__ = [
    "CreativeClustersAlgorithm",
    "Cancelled",
    "FeatureTable",
    "field",
    "QgsProcessing",
    "suitable_projected_crs",
]


# --- field names -------------------------------------------------------------------------------------
def _normalised_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "_", name.lower())


def find_field(fields: QgsFields, name: str) -> str | None:
    """The field of ``fields`` that ``name`` means: the same name; else the one name equal ignoring case
    (``incorporationdate`` in PostGIS after ``ogr2ogr``), or ignoring case and punctuation
    (``SICCode_SicText_1``); else the one 10-character name a shapefile cut it to (``cc_creativ``)."""
    names = fields.names()
    if name in names:
        return name
    for match in (
        lambda n: n.lower() == name.lower(),
        lambda n: _normalised_name(n) == _normalised_name(name),
        lambda n: len(n) == 10 and len(name) > 10 and _normalised_name(n) == _normalised_name(name)[:10],
    ):
        found = [n for n in names if match(n)]
        if len(found) == 1:
            return found[0]
    return None


class FieldNames(list):
    """The names of a source's fields; ``name in`` it also finds a field under the spellings
    :func:`find_field` accepts (case, punctuation, a shapefile's 10 characters)."""

    def __init__(self, fields: QgsFields):
        super().__init__(fields.names())
        self._fields = fields

    def __contains__(self, name):
        return find_field(self._fields, name) is not None


#: Processing parameter types whose value can name an input file
_FILE_INPUT_TYPES = {"source", "vector", "raster", "layer", "multilayer", "file", "mesh", "pointcloud"}


# --- input and output files -----------------------------------------------------------------------
def _normalised(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _layer_file(layer) -> str | None:
    """The file a map layer reads, or None (databases, memory layers, web services)."""
    try:
        parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    except Exception:  # noqa: BLE001 - a provider without URI decoding
        return None
    path = parts.get("path")
    return path if path and os.path.exists(path) else None


def _input_files(value, context) -> list:
    """The files behind a parameter value (a layer, a layer id or source, a path, a list of them)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [path for item in value for path in _input_files(item, context)]
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source.staticValue()
    if isinstance(value, QgsProperty):
        value = value.staticValue()
    if hasattr(value, "providerType") and hasattr(value, "source"):
        path = _layer_file(value)
        return [path] if path else []
    if not isinstance(value, str) or not value:
        return []
    plain = value.split("|")[0]
    if os.path.isfile(plain):
        return [plain]
    layer = QgsProcessingUtils.mapLayerFromString(value, context) if context is not None else None
    if layer is not None:
        path = _layer_file(layer)
        return [path] if path else []
    return []


def _make_folder(path: str):
    folder = os.path.dirname(os.path.abspath(path))
    existing = folder
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing and not os.path.isdir(existing):
        raise QgsProcessingException(f"The output {path} cannot be written: {existing} is a file, not a folder.")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise QgsProcessingException(f"The output folder {folder} could not be created: {error.strerror}.") from error
    if not os.access(folder, os.W_OK):
        raise QgsProcessingException(f"The output folder {folder} is read-only: choose a folder you can write to.")
