"""Read the columns an algorithm needs from a QGIS feature source in bulk, through GDAL.

QGIS hands features to Python one at a time: a million firms cost several seconds in the loop alone, more
than the analysis itself, and keeping the feature objects costs gigabytes. When a source is read by QGIS's
OGR provider (GeoPackage, shapefile, CSV, GeoJSON, FlatGeobuf, …), GDAL (3.6 or newer) can return whole
columns at once as numpy arrays through its Arrow stream, about ten times faster and holding only the
columns asked for.

:func:`ogr_layer_ref` tells whether a Processing source parameter can be read this way (it can when its layer
is an OGR layer without unsaved edits and without a full-SQL subset; subset strings, "selected features only"
and feature limits are honoured). :func:`read_columns` then reads the requested fields, the feature ids and,
for point layers, the coordinates (reprojected in bulk when asked), or, for any geometry (polygons, lines,
multipoints), the geometries as WKB for QGIS to turn into points and analysis geometries. Both return
``None`` when the bulk path does not apply, and the caller falls back to QGIS's feature loop, which handles
every source; both give the same rows in the same order.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..qt_compat import same_type
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsVectorLayer,
    QgsWkbTypes,
)

#: ISO WKB of a 2D point: byte order, geometry type, x, y (21 bytes)
_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
_POINT_Z_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8"), ("z", "<f8")])


@dataclass
class OgrLayerRef:
    """Where GDAL finds the features of a QGIS source: file, layer, attribute filter, selection."""

    path: str
    layer_name: str | None
    layer_index: int
    where: str | None
    crs: QgsCoordinateReferenceSystem
    wkb_type: int
    selected_fids: np.ndarray | None = None
    feature_limit: int = -1
    open_options: list = field(default_factory=list)
    #: things the user should read in the log (e.g. a CSV read as Windows-1252)
    warnings: list = field(default_factory=list)
    #: whether GDAL's copy of the source holds the fields QGIS shows (not for PostGIS: its key is no field in GDAL)
    copyable: bool = True

    def open(self):
        """``(dataset, layer)`` with the attribute filter set, or ``(None, None)``."""
        from osgeo import gdal

        try:
            dataset = gdal.OpenEx(self.path, gdal.OF_VECTOR | gdal.OF_READONLY, open_options=self.open_options)
        except RuntimeError:
            return None, None
        if dataset is None:
            return None, None
        layer = dataset.GetLayerByName(self.layer_name) if self.layer_name else dataset.GetLayer(self.layer_index)
        if layer is None:
            return None, None
        if self.where:
            try:
                if layer.SetAttributeFilter(self.where) != 0:
                    return None, None
            except RuntimeError:
                return None, None
        return dataset, layer


def _layer_of(parameters, name, context):
    """(QgsVectorLayer, selected only, feature limit) behind parameter ``name``, or None."""
    value = parameters.get(name)
    selected_only, limit = False, -1
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        if getattr(value, "filterExpression", ""):
            return None  # a QGIS expression: only QGIS can evaluate it
        selected_only = bool(value.selectedFeaturesOnly)
        limit = int(value.featureLimit)
        value = value.source.staticValue()
    if isinstance(value, QgsVectorLayer):
        layer = value
    elif isinstance(value, str) and value:
        layer = QgsProcessingUtils.mapLayerFromString(value, context)
    else:
        return None
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        return None
    return layer, selected_only, limit


def provider_name(parameters, name, context) -> str | None:
    """The data provider of the layer behind parameter ``name`` (``ogr``, ``delimitedtext``, ``memory``…)."""
    found = _layer_of(parameters, name, context)
    return found[0].providerType() if found is not None else None


def ogr_layer_ref(parameters, name, context) -> OgrLayerRef | None:
    """How GDAL can read the source of parameter ``name``, or None when only QGIS can."""
    try:
        from osgeo import ogr
    except ImportError:
        return None
    if not hasattr(ogr.Layer, "GetArrowStreamAsNumPy"):
        return None  # GDAL older than 3.6
    found = _layer_of(parameters, name, context)
    if found is None:
        return None
    layer, selected_only, limit = found
    if layer.isEditable() and layer.editBuffer() is not None and layer.editBuffer().isModified():
        return None  # unsaved edits live only in QGIS
    if layer.providerType() == "postgres":
        return _postgis_layer_ref(layer, selected_only, limit)
    if layer.providerType() != "ogr":
        return None
    subset = layer.subsetString().strip()
    if subset.lower().startswith("select"):
        return None  # a full SQL query: leave it to QGIS
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    path = parts.get("path")
    if not path:
        return None
    options = [str(o) for o in (parts.get("openOptions") or [])]
    warnings = []
    if Path(path).suffix.lower() in (".csv", ".txt", ".tsv"):
        path, warning = utf8_text_file(path)
        if warning:
            warnings.append(warning)
    if layer.storageType() == "ESRI Shapefile" and not any(o.upper().startswith("ENCODING=") for o in options):
        # QGIS opens shapefiles with GDAL's recoding switched off (SHAPE_ENCODING="") and decodes the DBF
        # itself, in the layer's encoding (from its .cpg or language id, or set by the user); GDAL is told the
        # same encoding, so that it hands over (and copies) UTF-8 text
        encoding = _python_codec(layer.dataProvider().encoding())
        if encoding is None:
            return None
        options.append(f"ENCODING={encoding}")
    selected = None
    if selected_only:
        selected = np.sort(np.fromiter(layer.selectedFeatureIds(), dtype=np.int64))
    return OgrLayerRef(
        path=path,
        layer_name=parts.get("layerName") or None,
        layer_index=int(parts.get("layerId") or 0),
        where=subset or None,
        crs=layer.crs(),
        wkb_type=int(layer.wkbType()),
        selected_fids=selected,
        feature_limit=limit,
        open_options=options,
        warnings=warnings,
    )


def _python_codec(qgis_encoding: str) -> str | None:
    """The encoding QGIS names (``UTF-8``, ``ISO-8859-1``, ``windows-1252``…) as GDAL and Python know it;
    None for one they may not share (QGIS's ``System``: the locale's, decided by Qt)."""
    import codecs

    if not qgis_encoding or qgis_encoding.lower() == "system":
        return None
    try:
        codecs.lookup(qgis_encoding)
    except LookupError:
        return None
    return qgis_encoding


def _postgis_layer_ref(layer, selected_only, limit) -> OgrLayerRef | None:
    """A PostGIS table read by QGIS's own provider, as GDAL's PostgreSQL driver sees it (same rows: the table's
    integer key is the feature id for both). Views, queries, saved credentials (authcfg) and tables without an
    integer key are left to QGIS."""
    from qgis.core import QgsDataSourceUri

    uri = QgsDataSourceUri(layer.source())
    if uri.authConfigId() or not uri.table() or uri.table().lstrip().startswith("("):
        return None
    key = uri.keyColumn()
    if not key or "," in key or layer.fields().lookupField(key.strip('"')) < 0:
        return None
    key_type = layer.fields().field(key.strip('"')).type()
    if not (same_type(key_type, "int") or same_type(key_type, "long")):
        return None
    parts = [f"dbname='{uri.database()}'"]
    for name, value in (("host", uri.host()), ("port", uri.port()), ("user", uri.username()),
                        ("password", uri.password())):
        if value:
            parts.append(f"{name}='{value}'")
    if uri.service():
        parts.append(f"service='{uri.service()}'")
    schema = uri.schema() or "public"
    selected = np.sort(np.fromiter(layer.selectedFeatureIds(), dtype=np.int64)) if selected_only else None
    return OgrLayerRef(
        path="PG:" + " ".join(parts),
        layer_name=f"{schema}.{uri.table()}",
        layer_index=0,
        where=uri.sql() or None,
        crs=layer.crs(),
        wkb_type=int(layer.wkbType()),
        selected_fids=selected,
        feature_limit=limit,
        open_options=[],
        copyable=False,
    )


_TRANSCODED: dict = {}


def utf8_text_file(path: str) -> tuple[str, str | None]:
    """``(path, None)`` for a UTF-8 text file (with or without a byte-order mark); for any other, a UTF-8
    copy in the temporary folder read as Windows-1252 (a superset of Latin-1, what Excel writes on Windows) and
    a sentence for the log. GDAL reads CSV files as UTF-8: without this, accented company names would come
    out as replacement characters."""
    import codecs
    import tempfile

    try:
        stat = os.stat(path)
    except OSError:
        return path, None
    key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
    if key in _TRANSCODED and os.path.exists(_TRANSCODED[key]):
        return _TRANSCODED[key], _TRANSCODED_NOTE.format(name=os.path.basename(path))
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return path, None
    except UnicodeDecodeError:
        pass
    except OSError:
        return path, None
    folder = tempfile.mkdtemp(prefix="cc_utf8_")
    copy = os.path.join(folder, os.path.basename(path))
    with open(path, "r", encoding="cp1252", errors="replace", newline="") as source, \
            open(copy, "w", encoding="utf-8", newline="") as target:
        for block in iter(lambda: source.read(1 << 22), ""):
            target.write(block)
    _TRANSCODED[key] = copy
    return copy, _TRANSCODED_NOTE.format(name=os.path.basename(path))


_TRANSCODED_NOTE = (
    "{name} is not UTF-8 text: it was read as Windows-1252 (Latin-1), the encoding Excel uses on Windows. "
    "Save it as 'CSV UTF-8' to be sure accented names come out right."
)


@dataclass
class BulkColumns:
    """What :func:`read_columns` read: one entry per feature of the OGR iteration that is kept.

    ``positions`` are the features' positions in the filtered OGR iteration (0-based), which a bulk writer
    uses to put new values next to the same features of a copy; ``fids`` are the feature ids QGIS knows them
    by; ``xy`` the points (NaN when a feature has no geometry; None for tables), ``columns`` the values with
    NULL as None (strings decoded from UTF-8).
    """

    fids: np.ndarray
    positions: np.ndarray
    xy: np.ndarray | None
    columns: dict
    total: int
    #: the same points in the layer's own CRS (``xy`` itself when nothing was reprojected)
    source_xy: np.ndarray | None = None
    #: with ``shapes``: each feature's geometry as WKB in the layer's CRS, None for no geometry
    geometries: list | None = None


def read_columns(ref: OgrLayerRef, fields, with_points: bool, target_crs=None, cancelled=None,
                 shapes: bool = False) -> BulkColumns | None:
    """Read ``fields`` (and points, when ``with_points``) of ``ref`` in bulk; None when GDAL cannot.

    Points come in ``target_crs`` (reprojected in bulk from the layer's CRS when they differ). Only single
    points are read as points; for other geometry types ``with_points`` returns None. With ``shapes``
    (and without ``with_points``) the geometries of any type come back as WKB in the layer's CRS
    (``geometries``), for the caller to turn into points and analysis geometries with QGIS's own functions.
    ``cancelled()`` is polled between batches.
    """
    from osgeo import ogr

    geometry_type = QgsWkbTypes.flatType(ref.wkb_type)
    if with_points and geometry_type != QgsWkbTypes.Point:
        return None
    dataset, layer = ref.open()
    if layer is None:
        return None
    definition = layer.GetLayerDefn()
    ogr_names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    fid_column = layer.GetFIDColumn() or ""
    fields = list(fields)
    wanted = [f for f in fields if f in ogr_names]
    if any(f not in ogr_names and f != fid_column for f in fields):
        return None
    booleans = [f for f in wanted if definition.GetFieldDefn(ogr_names.index(f)).GetSubType() == ogr.OFSTBoolean]
    with_geometry = with_points or shapes
    layer.SetIgnoredFields([n for n in ogr_names if n not in wanted] + ([] if with_geometry else ["OGR_GEOMETRY"]))
    geometry_column = layer.GetGeometryColumn() or "wkb_geometry"
    try:
        # with the FID column included: GDAL 3.6 returns empty geometry blobs when geometry is the only column
        stream = layer.GetArrowStreamAsNumPy(options=["INCLUDE_FID=YES", "USE_MASKED_ARRAYS=YES"])
    except RuntimeError:
        return None
    fids, xs, ys, blobs = [], [], [], []
    raw = {f: [] for f in wanted}
    caches = {f: {} for f in wanted}
    for batch in stream:
        if cancelled is not None and cancelled():
            return None
        fid_key = "OGC_FID" if "OGC_FID" in batch else (fid_column if fid_column in batch else next(iter(batch)))
        fids.append(np.asarray(batch[fid_key], dtype=np.int64))
        if with_points:
            records, present = _point_records(batch[geometry_column])
            if records is None:
                return None
            x = np.full(len(present), np.nan)
            y = np.full(len(present), np.nan)
            x[present] = records["x"]
            y[present] = records["y"]
            xs.append(x)
            ys.append(y)
        if shapes:
            batch_blobs = _wkb_blobs(batch[geometry_column])
            if batch_blobs is None:
                return None
            blobs.extend(batch_blobs)
        for f in wanted:
            # converted batch by batch: a million fixed-width texts would otherwise take hundreds of MB
            raw[f].append(_python_column(batch[f], caches[f]))
    fid_array = np.concatenate(fids) if fids else np.empty(0, dtype=np.int64)
    total = len(fid_array)
    columns = {f: np.concatenate(raw[f]) if raw[f] else np.empty(0, dtype=object) for f in wanted}
    if booleans:
        fixed = _boolean_columns(dataset, layer, ref, booleans, total)
        if fixed is None:
            return None
        columns.update(fixed)
    if fid_column in fields and fid_column not in columns:
        columns[fid_column] = fid_array.astype(object)
    xy = source_xy = None
    if with_points:
        xy = source_xy = np.column_stack([np.concatenate(xs), np.concatenate(ys)]) if xs else np.empty((0, 2))
        xy[np.isnan(xy).any(axis=1)] = np.nan
        if target_crs is not None and target_crs.isValid() and ref.crs.isValid() and target_crs != ref.crs:
            xy = _reproject(source_xy, ref.crs, target_crs)
            if xy is None:
                return None
    positions = np.arange(total, dtype=np.int64)
    keep = np.ones(total, dtype=bool)
    if ref.selected_fids is not None:
        keep &= np.isin(fid_array, ref.selected_fids)
    if ref.feature_limit >= 0:
        keep &= np.cumsum(keep) <= ref.feature_limit
    if not keep.all():
        positions = positions[keep]
        fid_array = fid_array[keep]
        xy = xy[keep] if xy is not None else None
        source_xy = source_xy[keep] if source_xy is not None else None
        columns = {k: v[keep] for k, v in columns.items()}
        blobs = [blob for blob, kept in zip(blobs, keep) if kept]
    return BulkColumns(fids=fid_array, positions=positions, xy=xy, columns=columns, total=total, source_xy=source_xy,
                       geometries=blobs if shapes else None)


def iter_text_column(path: str, layer_name: str, field_name: str, cancelled=None):
    """``(start, values)`` for each Arrow batch of one column of a layer, ``start`` being the 0-based row
    number of the batch's first row: a column of a file too large to hold, read in bounded memory."""
    from osgeo import gdal

    dataset = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_READONLY)
    layer = dataset.GetLayerByName(layer_name)
    definition = layer.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    layer.SetIgnoredFields([n for n in names if n != field_name] + ["OGR_GEOMETRY"])
    cache: dict = {}
    start = 0
    for batch in layer.GetArrowStreamAsNumPy(options=["INCLUDE_FID=YES", "USE_MASKED_ARRAYS=YES"]):
        if cancelled is not None and cancelled():
            return
        values = _python_column(batch[field_name], cache)
        yield start, values
        start += len(values)


def _boolean_columns(dataset, layer, ref, names, total):
    """Boolean fields read as integers through OGR SQL (GDAL 3.6 unpacks Arrow's bit-packed booleans wrongly)."""
    layer_name = layer.GetName()
    # a GeoPackage answers in its own SQLite (much faster than OGR SQL; its filter is SQLite syntax anyway);
    # there NULL becomes -1, so that every row has an integer and the result column is typed as one
    native = dataset.GetDriver().ShortName == "GPKG"
    if native:
        select = ", ".join(f'(CASE WHEN "{n}" IS NULL THEN -1 ELSE CAST("{n}" AS INTEGER) END) AS "{n}"' for n in names)
    else:
        select = ", ".join(f'CAST("{n}" AS integer) AS "{n}"' for n in names)
    sql = f'SELECT {select} FROM "{layer_name}"'
    if ref.where:
        sql += f" WHERE {ref.where}"
    dialect = "SQLITE" if native else "OGRSQL"
    try:
        result = dataset.ExecuteSQL(sql, dialect=dialect)
    except RuntimeError:
        return None
    if result is None:
        return None
    try:
        parts = {n: [] for n in names}
        for batch in result.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=YES"]):
            for n in names:
                parts[n].append(batch[n])
    finally:
        dataset.ReleaseResultSet(result)
    out = {}
    for n in names:
        values = np.ma.concatenate(parts[n]) if parts[n] else np.ma.masked_array(np.empty(0))
        if len(values) != total:
            return None
        data = np.ma.getdata(values).astype(np.int64)
        column = (data != 0).astype(object)
        column[np.ma.getmaskarray(values) | (data == -1)] = None
        out[n] = column
    return out


def _python_column(values, cache: dict):
    """One Arrow batch column as an object array of Python values, NULL as None.

    Texts are decoded from UTF-8 once per distinct value (``cache`` is shared by the batches of a column, so
    equal texts are one Python object): registers repeat the same values many times.
    """
    import pandas as pd

    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
    data = np.ma.getdata(values)
    kind = data.dtype.kind
    if kind == "S":
        codes, uniques = pd.factorize(data.astype(object))
        decoded = np.empty(len(uniques) + 1, dtype=object)
        for i, raw in enumerate(uniques):
            text = cache.get(raw)
            if text is None:
                text = raw.decode("utf-8", "replace")
                if len(cache) < 200_000:  # a column of unique names (company names) is not worth caching
                    cache[raw] = text
            decoded[i] = text
        out = decoded[codes]
    elif kind == "M":
        unit = np.datetime_data(data.dtype)[0]
        as_date = unit == "D"
        out = np.empty(len(data), dtype=object)
        valid = ~np.isnat(data)
        if as_date:
            out[valid] = data[valid].astype("datetime64[D]").astype(_dt.date)
        else:
            out[valid] = data[valid].astype("datetime64[us]").astype(_dt.datetime)
        out[~valid] = None
    elif kind == "f":
        out = data.astype(object)
        out[np.isnan(data)] = None
    elif kind in "iub":
        out = data.astype(object)
    else:
        out = np.array([_python_value(v) for v in data], dtype=object)
    if mask is not None:
        out[mask] = None
    return out


def _python_value(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _wkb_blobs(geometries) -> list | None:
    """A WKB column as a list of ``bytes`` (None for no geometry); None when GDAL returned unreadable blobs."""
    mask = np.ma.getmaskarray(geometries) if np.ma.isMaskedArray(geometries) else np.zeros(len(geometries), bool)
    data = np.ma.getdata(geometries)
    out = []
    for value, masked in zip(data, mask):
        if masked or value is None:
            out.append(None)
            continue
        blob = bytes(value)
        if not blob:
            # GDAL 3.6 returns empty blobs for some GeoPackages (e.g. geometries with envelopes): not NULLs,
            # so QGIS reads those
            return None
        out.append(blob)
    return out


def _point_records(geometries):
    """(structured x/y records of the present points, mask of present geometries) from a WKB column."""
    mask = np.ma.getmaskarray(geometries) if np.ma.isMaskedArray(geometries) else None
    data = np.ma.getdata(geometries)
    if data.dtype.kind == "V" and data.dtype.itemsize in (_POINT_WKB.itemsize, _POINT_Z_WKB.itemsize):
        # every geometry has the same size: the column is already a packed array of WKB points
        present = np.ones(len(data), dtype=bool) if mask is None else ~mask
        dtype = _POINT_WKB if data.dtype.itemsize == _POINT_WKB.itemsize else _POINT_Z_WKB
        records = np.ascontiguousarray(data[present]).view(dtype).reshape(-1)
    else:
        all_blobs = _wkb_blobs(geometries)
        if all_blobs is None:
            return None, None
        present = np.fromiter((b is not None for b in all_blobs), dtype=bool, count=len(all_blobs))
        blobs = [b for b in all_blobs if b is not None]
        sizes = {len(b) for b in blobs}
        if len(sizes) > 1 or sizes - {_POINT_WKB.itemsize, _POINT_Z_WKB.itemsize}:
            return None, None
        dtype = _POINT_Z_WKB if sizes == {_POINT_Z_WKB.itemsize} else _POINT_WKB
        records = np.frombuffer(b"".join(blobs), dtype=dtype) if blobs else np.empty(0, dtype=dtype)
    if len(records) and ((records["order"] != 1).any() or ((records["type"] % 1000) != 1).any()):
        return None, None
    empty = np.isnan(records["x"]) | np.isnan(records["y"])  # POINT EMPTY
    if empty.any():
        keep = np.flatnonzero(present)[~empty]
        present = np.zeros_like(present)
        present[keep] = True
        records = records[~empty]
    return records, present


def _reproject(xy, source_crs, target_crs):
    """Reproject an (n, 2) array in one call through PROJ (x/y order as QGIS uses it)."""
    try:
        from osgeo import osr
    except ImportError:
        return None
    source = osr.SpatialReference()
    target = osr.SpatialReference()
    if source.ImportFromWkt(source_crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)) != 0:
        return None
    if target.ImportFromWkt(target_crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)) != 0:
        return None
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, target)
    out = np.full_like(xy, np.nan)
    valid = ~np.isnan(xy).any(axis=1)
    if valid.any():
        points = transform.TransformPoints(xy[valid].tolist())
        out[valid] = np.asarray(points, dtype=float)[:, :2]
    return out
