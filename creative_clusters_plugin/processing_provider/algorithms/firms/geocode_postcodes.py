"""creativeclusters:geocodepostcodes — place firms at their postcode centroid (thin adapter)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingOutputNumber,
    QgsWkbTypes,
)

from ....core.firms.postcodes import STATUS_MATCHED, GeocodingTally, PostcodeLookup, geocode_postcodes, needed_areas
from ...base_algorithm import CreativeClustersAlgorithm, _field_kind, _to_python, _to_qgis, field, writing_errors
from ...bulk_writer import NewColumn, PointTableWriter, bulk_format
from ...columnar_reader import _python_column, ogr_layer_ref

#: postcode field names detected automatically, in order of preference (case-insensitive)
POSTCODE_FIELD_CANDIDATES = ("Postcode", "RegAddress.PostCode", "postcode", "pcd", "pcds", "post_code", "postal_code")


def detect_postcode_field(names):
    """The first field among :data:`POSTCODE_FIELD_CANDIDATES` present in ``names`` (case-insensitive)."""
    lower = {n.lower(): n for n in names}
    for candidate in POSTCODE_FIELD_CANDIDATES:
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


class GeocodePostcodes(CreativeClustersAlgorithm):
    ALGORITHM_ID = "geocodepostcodes"
    REQUIRES = ('numpy', 'pandas')
    DISPLAY_NAME = "Geocode firms by postcode (Code-Point Open)"
    GROUP = "1 · Prepare firms"
    GROUP_ID = "prepare"
    TAGS = "postcode,geocode,code-point open,companies house,registered office,centroid,os,ordnance survey"
    HELP = """<p>Places each firm (e.g. a row of the Companies House BasicCompanyData CSV) at the <b>centroid of its postcode unit</b>, the usual open way to map registered offices. Output points are in British National Grid (EPSG:27700).</p>
<h3>Parameters</h3>
<ul>
<li><b>Input firms</b> (INPUT): a table (CSV) or a layer; its own geometry, if any, is ignored.</li>
<li><b>Postcode field</b> (POSTCODE_FIELD, optional): left empty, the first of <i>Postcode</i>, <i>RegAddress.PostCode</i>, <i>pcd</i>, <i>pcds</i> found is used. Postcodes are normalised before matching: upper case, extra or missing spaces tolerated (<i>s118fx</i>, <i>S11  8FX</i> → <i>S11 8FX</i>), and validated against the Royal Mail format.</li>
<li><b>Postcode lookup file</b> (LOOKUP): one of
 <ul><li>the <b>OS Code-Point Open zip</b> as downloaded (<i>codepo_gb.zip</i>: Data/CSV/&lt;area&gt;.csv without header, column names in Doc/). Only the postcode-area files the input needs are read (<i>S11 8FX</i> → <i>s.csv</i>), so a region is geocoded in a second, not the 1.7 million rows of Great Britain;</li>
 <li>any area file of an <b>extracted Code-Point folder</b> (e.g. Data/CSV/s.csv): the other area files the input needs are read from the same folder (from scripts, the folder path itself is accepted too);</li>
 <li>a <b>CSV with a header</b> holding a postcode column (<i>Postcode</i>, <i>pcd</i>, <i>pcds</i>) and <i>Eastings</i>/<i>Northings</i> (or <i>x</i>/<i>y</i>) in EPSG:27700; a <i>doterm</i> or <i>terminated</i> column, when present, marks terminated postcodes (as in the ONS Postcode Directory).</li></ul></li>
<li><b>Postcode lookup layer</b> (LOOKUP_LAYER, optional): instead of a file, a point layer of postcode centroids in any CRS, with its postcode field <b>LOOKUP_FIELD</b> (default: detected as above). Give either LOOKUP or LOOKUP_LAYER, not both.</li>
</ul>
<h3>Outputs</h3>
<ul>
<li><b>Geocoded firms</b> (OUTPUT): points, EPSG:27700, <b>one feature per input row</b> so that nothing disappears silently: all input fields plus <b>cc_pcd_norm</b> (the normalised postcode, NULL when blank or invalid), <b>cc_geocoded</b> (true when placed) and <b>cc_pcd_status</b> (<i>matched</i>, <i>blank</i>, <i>invalid</i>, <i>unmatched</i> — a well-formed postcode missing from the lookup: new, mistyped, terminated, or outside Great Britain —, <i>terminated</i>, <i>no_coordinates</i> — Code-Point positional quality 90). Rows not placed have a NULL geometry; the analysis tools of this plugin skip and count them.</li>
<li><b>Firms not geocoded</b> (OUTPUT_UNMATCHED, optional): a table of the rows not placed, with the same fields, to fix and re-run.</li>
<li>MATCHED_COUNT and UNMATCHED_COUNT: the numbers of rows placed and not placed.</li>
</ul>
<h3>Bad input</h3>
<p>An empty input, a missing or unreadable lookup, or a lookup without postcode/coordinate columns stops with a clear error. Blank, NULL and garbage postcodes are counted in the log with examples; a warning is given when fewer than half the rows are placed. Firms sharing a registered office (accountants, formation agents) land on the same point: see <i>Flag stacked registered offices</i>. The input is never modified.</p>
<p>Data: OS Code-Point Open, Open Government Licence v3 — "Contains OS data © Crown copyright and database right; Contains Royal Mail data © Royal Mail copyright and database right; Contains National Statistics data © Crown copyright and database right".</p>"""

    INPUT = "INPUT"
    POSTCODE_FIELD = "POSTCODE_FIELD"
    LOOKUP = "LOOKUP"
    LOOKUP_LAYER = "LOOKUP_LAYER"
    LOOKUP_FIELD = "LOOKUP_FIELD"
    OUTPUT = "OUTPUT"
    OUTPUT_UNMATCHED = "OUTPUT_UNMATCHED"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Input firms (table or layer)"), [QgsProcessing.TypeVector])
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.POSTCODE_FIELD,
                self.tr("Postcode field (empty = detect Postcode / RegAddress.PostCode)"),
                parentLayerParameterName=self.INPUT,
                type=QgsProcessingParameterField.String,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.LOOKUP,
                self.tr("Postcode lookup file (Code-Point Open zip, one of its area CSVs, or a CSV with Postcode, Eastings, Northings)"),
                behavior=QgsProcessingParameterFile.File,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.LOOKUP_LAYER,
                self.tr("…or a postcode lookup point layer"),
                [QgsProcessing.TypeVectorPoint],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.LOOKUP_FIELD,
                self.tr("Postcode field of the lookup layer (empty = detect)"),
                parentLayerParameterName=self.LOOKUP_LAYER,
                type=QgsProcessingParameterField.String,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Geocoded firms"), QgsProcessing.TypeVectorPoint)
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT_UNMATCHED,
                self.tr("Firms not geocoded"),
                QgsProcessing.TypeVector,
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(QgsProcessingOutputNumber("MATCHED_COUNT", self.tr("Rows placed")))
        self.addOutput(QgsProcessingOutputNumber("UNMATCHED_COUNT", self.tr("Rows not placed")))

    # --- helpers -----------------------------------------------------------------------------------
    def _lookup_from_layer(self, parameters, context, feedback, target_crs):
        layer = self.parameterAsSource(parameters, self.LOOKUP_LAYER, context)
        if layer is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.LOOKUP_LAYER))
        field_name = self.parameterAsString(parameters, self.LOOKUP_FIELD, context)
        if not field_name:
            field_name = detect_postcode_field(layer.fields().names())
            if field_name is None:
                raise QgsProcessingException(
                    "Choose the postcode field of the lookup layer: none of "
                    + ", ".join(POSTCODE_FIELD_CANDIDATES) + " was found."
                )
        if layer.fields().lookupField(field_name) < 0:
            raise QgsProcessingException(f"The lookup layer has no field '{field_name}'.")
        transform = None
        if layer.sourceCrs().isValid() and layer.sourceCrs() != target_crs:
            transform = QgsCoordinateTransform(layer.sourceCrs(), target_crs, self.transform_context())
        elif not layer.sourceCrs().isValid():
            feedback.pushWarning("The lookup layer has no CRS; its coordinates are taken as British National Grid.")
        postcodes, xs, ys = [], [], []
        request = QgsFeatureRequest().setSubsetOfAttributes([field_name], layer.fields())
        for i, feature in enumerate(layer.getFeatures(request)):
            if i % 20000 == 0:
                self.check_cancel(feedback)
            geometry = feature.geometry()
            if geometry is None or geometry.isNull() or geometry.isEmpty():
                continue
            geometry = QgsGeometry(geometry)
            if transform is not None:
                geometry.transform(transform)
            point = geometry.asPoint() if not geometry.isMultipart() else geometry.centroid().asPoint()
            postcodes.append(_to_python(feature[field_name]))
            xs.append(point.x())
            ys.append(point.y())
        if not postcodes:
            raise QgsProcessingException("The postcode lookup layer has no features with a geometry.")
        return PostcodeLookup.from_arrays(postcodes, xs, ys, source=layer.sourceName())

    # --- run ---------------------------------------------------------------------------------------
    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        postcode_field = self.parameterAsString(parameters, self.POSTCODE_FIELD, context)
        if not postcode_field:
            postcode_field = detect_postcode_field(source.fields().names())
            if postcode_field is None:
                raise QgsProcessingException(
                    "Choose the postcode field: the input has none of " + ", ".join(POSTCODE_FIELD_CANDIDATES) + "."
                )
            feedback.pushInfo(f"Postcode field: {postcode_field}")
        if source.fields().lookupField(postcode_field) < 0:
            raise QgsProcessingException(f"The input has no field '{postcode_field}'.")

        lookup_path = self.parameterAsFile(parameters, self.LOOKUP, context)
        has_layer = parameters.get(self.LOOKUP_LAYER) not in (None, "")
        if lookup_path and has_layer:
            raise QgsProcessingException("Give either a postcode lookup file or a lookup layer, not both.")
        if not lookup_path and not has_layer:
            raise QgsProcessingException(
                "Give a postcode lookup: the OS Code-Point Open zip (or one of its area CSVs, or a CSV with "
                "Postcode, Eastings, Northings), or a point layer of postcode centroids."
            )

        new_fields = [field("cc_pcd_norm", "string", 8), field("cc_geocoded", "bool"), field("cc_pcd_status", "string", 16)]
        ref = self._bulk_source(parameters, context, source)
        if ref is not None:
            # GDAL copies the table to the output's folder; its distinct postcodes are matched and SQLite writes
            # the output joining each row to its postcode: memory stays bounded whatever the file's size
            for warning in ref.warnings:
                feedback.pushWarning(warning)
            outputs, tally = self._geocode_in_bulk(parameters, context, feedback, ref, postcode_field, lookup_path,
                                                   new_fields)
        else:
            outputs, tally = self._geocode_by_features(parameters, context, feedback, source, postcode_field,
                                                       lookup_path, new_fields)
        c = tally.counts
        outputs["MATCHED_COUNT"] = c["matched"]
        outputs["UNMATCHED_COUNT"] = c["total"] - c["matched"]
        return outputs

    # --- the lookup and the log, shared by both paths -----------------------------------------------
    def _lookup(self, parameters, context, feedback, lookup_path, areas, progress=(25, 45), read=None):
        """The postcode lookup (``read``: the lookup file already read for ``areas``)."""
        if lookup_path:
            feedback.pushInfo(
                f"Reading the postcode lookup {lookup_path} for postcode area(s): {', '.join(sorted(areas)) or 'none'}"
            )
            lookup = read if read is not None else PostcodeLookup.read(
                lookup_path, areas=areas, callback=self.progress_callback(feedback, *progress))
            if lookup.files_read:
                feedback.pushInfo(f"  {len(lookup)} postcodes read from {len(lookup.files_read)} file(s).")
        else:
            lookup = self._lookup_from_layer(parameters, context, feedback, QgsCoordinateReferenceSystem("EPSG:27700"))
            feedback.pushInfo(f"Postcode lookup layer: {len(lookup)} postcodes.")
        self.check_cancel(feedback)
        return lookup

    @staticmethod
    def _report(feedback, tally, lookup):
        for warning in tally.warnings(lookup):
            feedback.pushWarning(warning)
        c = tally.counts
        if c["total"]:
            feedback.pushInfo(
                f"{c['total']} rows: {c['matched']} placed ({100.0 * c['matched'] / c['total']:.1f} %), "
                f"{c['unmatched']} postcode(s) not in the lookup, {c['invalid']} invalid, {c['blank']} blank, "
                f"{c['terminated']} terminated, {c['no_coordinates']} without coordinates."
            )

    # --- the bulk path: a table GDAL reads whole, to a file ----------------------------------------
    def _bulk_source(self, parameters, context, source):
        """The input's GDAL reference when the input is a table GDAL reads whole (no selection) and the
        output a file written in bulk; else None."""
        if source.wkbType() != QgsWkbTypes.NoGeometry:
            return None
        if not bulk_format(self.destination_string(parameters, self.OUTPUT, context)):
            return None
        if any(source.fields().lookupField(name) >= 0 for name in ("cc_pcd_norm", "cc_geocoded", "cc_pcd_status")):
            return None  # a re-run on its own output: QGIS's writer replaces those fields
        ref = ogr_layer_ref(parameters, self.INPUT, context)
        if ref is None or ref.selected_fids is not None or ref.feature_limit >= 0:
            return None
        return ref

    def _geocode_in_bulk(self, parameters, context, feedback, ref, postcode_field, lookup_path, new_fields):
        """GDAL copies the table to a hidden file beside the output while a thread reads the postcode column of
        the input (its distinct values and how many rows hold each) and matches each distinct postcode once; then
        SQLite writes the output in one INSERT … SELECT joining each row to its postcode's point and new values.
        Nothing per row goes through Python but the spatial index: memory stays bounded whatever the size."""
        path = self.output_file(parameters, self.OUTPUT, context)
        writer = PointTableWriter(path, 27700, progress=lambda fraction: feedback.setProgress(100 * fraction),
                                  cancelled=feedback.isCanceled)
        unmatched_destination = self.destination_string(parameters, self.OUTPUT_UNMATCHED, context)
        not_placed = '"cc_geocoded" = 0'
        outputs, unmatched = {}, None
        stop = threading.Event()
        reader = ThreadPoolExecutor(max_workers=1)
        try:
            with writing_errors(path):
                early = reader.submit(self._distinct_postcodes, ref, postcode_field,
                                      lambda: stop.is_set() or feedback.isCanceled(),
                                      lookup_path)
                try:
                    total = writer.copy(ref.path, ref.layer_name, ref.layer_index, ref.where, ref.open_options)
                except BaseException:
                    stop.set()
                    raise
                if total == 0:
                    stop.set()
                # (an error of the thread, e.g. an unreadable lookup, is raised again below, from this thread)
                found = early.result() if early.exception() is None else None
                if total == 0:
                    raise QgsProcessingException("The input has no features: there is nothing to geocode.")
                self.check_cancel(feedback)
                if found is not None and int(found[1].sum()) != total:
                    found = None  # the two reads disagree: ask the copy itself
                for attempt in range(2):
                    if found is None:
                        postcodes, counts = writer.distinct_values(postcode_field)
                        lookup = None
                    else:
                        postcodes, counts, lookup = found
                    lookup = self._lookup(parameters, context, feedback, lookup_path,
                                          needed_areas(postcodes) if lookup_path else set(), progress=(45, 48),
                                          read=lookup)
                    result = geocode_postcodes(postcodes, lookup)
                    values = [result.normalised, result.matched.astype(object), result.status]
                    columns = [NewColumn(f.name(), _field_kind(f), f.length(), v) for f, v in zip(new_fields, values)]
                    self.check_cancel(feedback)
                    if writer.write(postcode_field, postcodes, np.column_stack([result.x, result.y]), columns):
                        break
                    found = None  # the copy holds postcodes the first read did not see: again from the copy
                else:
                    raise OSError("the copy of the input changed while it was being read")
                tally = GeocodingTally()
                tally.add(result, postcodes, weights=counts)
                self._report(feedback, tally, lookup)
                if unmatched_destination and bulk_format(unmatched_destination):
                    unmatched_path = self.output_file(parameters, self.OUTPUT_UNMATCHED, context)
                    with writing_errors(unmatched_path):
                        writer.write_subset(unmatched_path, not_placed)
                    outputs[self.OUTPUT_UNMATCHED] = unmatched_path
                elif unmatched_destination:
                    unmatched = writer.rows_where(not_placed, ["cc_pcd_norm", "cc_pcd_status"])
                self.check_cancel(feedback)
                outputs[self.OUTPUT] = writer.publish()
        except BaseException:
            stop.set()
            writer.discard()  # (nothing is left once published)
            raise
        finally:
            reader.shutdown(wait=True)
        if unmatched is not None:
            rows = np.array([r[0] for r in unmatched], dtype=np.int64)
            outputs[self.OUTPUT_UNMATCHED] = self._write_unmatched(
                parameters, context, feedback, rows, [[r[1] for r in unmatched], [r[2] for r in unmatched]], new_fields)
        feedback.setProgress(100)
        return outputs, tally

    @staticmethod
    def _distinct_postcodes(ref, field_name, stopped, lookup_path):
        """``(values, counts, lookup or None)``: the distinct values of the input's postcode column (NULL as None)
        with their numbers of rows, read by GDAL in Arrow batches, and — for a lookup file — the lookup of their
        postcode areas. Runs in a thread while GDAL copies the input (no QGIS call here); None when stopped."""
        import pandas as pd

        dataset, layer = ref.open()
        if layer is None:
            return None
        definition = layer.GetLayerDefn()
        names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
        if field_name not in names:
            return None
        layer.SetIgnoredFields([n for n in names if n != field_name] + ["OGR_GEOMETRY"])
        counts, cache = {}, {}
        for batch in layer.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=YES"]):
            if stopped():
                return None
            column = _python_column(batch[field_name], cache)
            codes, uniques = pd.factorize(column)
            missing = int((codes < 0).sum())
            for value, n in zip(uniques.tolist(), np.bincount(codes[codes >= 0], minlength=len(uniques)).tolist()):
                counts[value] = counts.get(value, 0) + n
            if missing:
                counts[None] = counts.get(None, 0) + missing
        del layer, dataset  # (the file is closed)
        values = list(counts)
        lookup = None
        if lookup_path and not stopped():
            lookup = PostcodeLookup.read(lookup_path, areas=needed_areas(values))
        return values, np.fromiter(counts.values(), dtype=np.int64, count=len(counts)), lookup

    def _write_unmatched(self, parameters, context, feedback, rows, values, new_fields):
        """The rows not placed, through QGIS's writer (``rows``: positions in the input's order; ``values``: their
        normalised postcodes and statuses)."""
        source = self.parameterAsSource(parameters, self.INPUT, context)
        fields = self.output_fields(source.fields(), new_fields)
        sink, dest_id = self.create_sink(parameters, self.OUTPUT_UNMATCHED, context, fields, QgsWkbTypes.NoGeometry,
                                         QgsCoordinateReferenceSystem())
        position = {int(r): k for k, r in enumerate(rows)}
        for i, feature in enumerate(source.getFeatures(QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry))):
            if i % 20000 == 0:
                self.check_cancel(feedback)
            k = position.get(i)
            if k is not None:
                row = QgsFeature(fields)
                row.setAttributes(feature.attributes() + [_to_qgis(values[0][k]), False, str(values[1][k])])
                sink.addFeature(row, QgsFeatureSink.FastInsert)
        return dest_id

    # --- the row path: any other input or output ----------------------------------------------------
    def _geocode_by_features(self, parameters, context, feedback, source, postcode_field, lookup_path, new_fields):
        total = source.featureCount() or 0
        features, postcodes = [], []
        request = QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry)
        for i, feature in enumerate(source.getFeatures(request)):
            if i % 5000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(25.0 * i / max(total, 1))
            features.append(feature)
            postcodes.append(_to_python(feature[postcode_field]))
        if not features:
            raise QgsProcessingException("The input has no features: there is nothing to geocode.")
        lookup = self._lookup(parameters, context, feedback, lookup_path, needed_areas(postcodes) if lookup_path else set())
        result = geocode_postcodes(postcodes, lookup, callback=self.progress_callback(feedback, 45, 50))
        tally = GeocodingTally()
        tally.add(result, postcodes)
        self._report(feedback, tally, lookup)
        return self._write_features(parameters, context, feedback, source, features, result, new_fields), tally

    def _write_features(self, parameters, context, feedback, source, features, result, new_fields):
        fields = self.output_fields(source.fields(), new_fields)
        new_names = {f.name() for f in new_fields}
        kept = [f.name() for f in fields if f.name() not in new_names]
        sink, dest_id = self.create_sink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Point, QgsCoordinateReferenceSystem(result.crs))
        unmatched_sink, unmatched_id = None, None
        if self.destination_string(parameters, self.OUTPUT_UNMATCHED, context):
            unmatched_sink, unmatched_id = self.create_sink(
                parameters, self.OUTPUT_UNMATCHED, context, fields, QgsWkbTypes.NoGeometry, QgsCoordinateReferenceSystem()
            )
        n = len(features)
        for i, feature in enumerate(features):
            if i % 5000 == 0:
                self.check_cancel(feedback)
                feedback.setProgress(75.0 + 25.0 * i / n)
            attributes = [feature[name] for name in kept]
            attributes += [_to_qgis(result.normalised[i]), bool(result.matched[i]), str(result.status[i])]
            out = QgsFeature(fields)
            out.setAttributes(attributes)
            if result.matched[i]:
                out.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(result.x[i]), float(result.y[i]))))
            if not sink.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, self.OUTPUT))
            if unmatched_sink is not None and result.status[i] != STATUS_MATCHED:
                row = QgsFeature(fields)
                row.setAttributes(attributes)
                unmatched_sink.addFeature(row, QgsFeatureSink.FastInsert)
        feedback.setProgress(100)
        outputs = {self.OUTPUT: dest_id}
        if unmatched_sink is not None:
            outputs[self.OUTPUT_UNMATCHED] = unmatched_id
        return outputs


ALGORITHM = GeocodePostcodes
