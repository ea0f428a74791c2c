"""Write "the input plus new columns" outputs in bulk: a GDAL copy of the input, then one SQLite transaction.

Classified firms, stacked-address flags, Gi* results and clustered firms are the input features with a few
new fields. Writing them one Python ``QgsFeature`` at a time costs tens of seconds for a million firms; here
GDAL copies the input in C (the same work as ``ogr2ogr``), and the new columns are added and filled in one
SQLite transaction. Rows the analysis left out (no geometry, not selected, not kept) are deleted from the copy.

Everything is written to a hidden file beside the target and renamed into place at the end, so an output is
either complete or absent — never half-written — whatever happens (error, cancel, crash). GeoPackage is
written directly; shapefile, GeoJSON and FlatGeobuf are converted from the finished GeoPackage by GDAL.
This module has no QGIS import.
"""

from __future__ import annotations

import datetime as _dt
import functools
import inspect
import os
import shutil
import sqlite3
import struct
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: extension → GDAL driver of the formats written in bulk (others go through QGIS's writer)
BULK_FORMATS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")

#: our field kinds → SQLite declared types GDAL reads back as the same OGR types
_SQL_TYPES = {
    "double": "REAL",
    "int": "MEDIUMINT",
    "long": "INTEGER",
    "string": "TEXT",
    "bool": "BOOLEAN",
    "date": "DATE",
}


class WriteCancelled(Exception):
    """The user cancelled while the output was being written; nothing was left behind."""


class _MissingKeys(Exception):
    """:meth:`PointTableWriter.write` was given keys that miss values of the staged column."""


@dataclass
class NewColumn:
    """A field to add: name, kind (see ``_SQL_TYPES``), text width, values (one per row of the table)."""

    name: str
    kind: str
    width: int
    values: np.ndarray


def file_destination(destination: str) -> str | None:
    """The file an output destination writes, or None (memory, temporary, database, ``ogr:`` URIs)."""
    if not destination or destination == "TEMPORARY_OUTPUT" or "|" in destination:
        return None
    if destination.startswith(("memory:", "ogr:", "postgres:", "postgis:", "spatialite:", "mssql:", "oracle:")):
        return None
    return destination


def bulk_format(destination: str) -> str | None:
    """The GDAL driver for a destination written in bulk (a file of a format in :data:`BULK_FORMATS`), or None."""
    path = file_destination(destination)
    return BULK_FORMATS.get(Path(path).suffix.lower()) if path else None


def output_layer_name(target: str) -> str:
    """The layer name for an output file: its name without extension, as QGIS names it — but never starting
    with ``gpkg``, a prefix the GeoPackage standard reserves (``gpkg_results.gpkg`` → ``layer_gpkg_results``)."""
    stem = Path(target).stem
    return f"layer_{stem}" if stem.lower().startswith("gpkg") else stem


def temporary_sibling(target: str, suffix: str) -> str:
    """A hidden, unique path in the target's folder (so the final rename is atomic on one file system)."""
    folder = os.path.dirname(os.path.abspath(target)) or "."
    stem = Path(target).stem
    return os.path.join(folder, f".{stem}.partial-{uuid.uuid4().hex[:10]}{suffix}")


def remove_dataset(path: str):
    """Remove a file and, for a shapefile, its sidecars; never raises."""
    p = Path(path)
    candidates = [p] if p.suffix.lower() != ".shp" else [p.with_suffix(s) for s in _SHAPEFILE_PARTS]
    candidates += [Path(str(p) + "-journal"), Path(str(p) + "-wal"), Path(str(p) + "-shm")]
    for candidate in candidates:
        try:
            candidate.unlink()
        except OSError:
            pass


def move_into_place(partial: str, target: str):
    """Rename a finished dataset onto ``target`` (each shapefile part; stale parts of an old one removed)."""
    if Path(target).suffix.lower() == ".shp":
        remove_dataset(target)
        for suffix in _SHAPEFILE_PARTS:
            part = Path(partial).with_suffix(suffix)
            if part.exists():
                os.replace(part, Path(target).with_suffix(suffix))
    else:
        os.replace(partial, target)


def copy_with_new_columns(
    source_path: str,
    source_layer: str | None,
    source_layer_index: int,
    where: str | None,
    open_options,
    total: int,
    positions: np.ndarray,
    fids: np.ndarray,
    columns: list[NewColumn],
    drop_fields: list[str],
    target: str,
    layer_name: str | None = None,
    progress=None,
    cancelled=None,
    promote_to_multi: bool = False,
):
    """Write ``target``: the features of the source layer (filtered by ``where``) at ``positions`` of its
    iteration, with ``columns`` added (value ``k`` goes to the feature at ``positions[k]``).

    ``fids`` are the same features' ids in the source. ``total`` is the number of features the filtered
    iteration gives (a check that the copy saw the same rows). A single-layer GeoPackage is copied as a file
    (its table keeps its name and ids); any other source is copied by GDAL's VectorTranslate.
    ``progress(fraction)`` is called now and then; ``cancelled()`` is polled and stops the write
    (:class:`WriteCancelled`), removing every partial file. ``promote_to_multi`` makes single parts
    multi-part, as QGIS shows a shapefile's polygons and lines (its layer type is multi, its features mixed).
    """
    driver = bulk_format(target)
    if driver is None:
        raise ValueError(f"{target} is not a format written in bulk")
    layer_name = layer_name or output_layer_name(target)
    partial_gpkg = temporary_sibling(target, ".gpkg")
    progress = progress or (lambda fraction: None)
    cancelled = cancelled or (lambda: False)

    def gdal_callback(low, high):
        return _gdal_progress(progress, cancelled, low, high)

    try:
        copied_table = _copy_geopackage_file(source_path, source_layer, open_options, drop_fields, partial_gpkg)
        if copied_table is not None:
            progress(0.3)
            if cancelled():
                raise WriteCancelled()
            _add_and_fill(partial_gpkg, copied_table, None, fids, columns, cancelled)
            return _finish(partial_gpkg, target, driver, layer_name, progress, gdal_callback, cancelled)
        _translate(source_path, source_layer, source_layer_index, where, open_options, partial_gpkg, layer_name,
                   ["-nlt", "PROMOTE_TO_MULTI"] if promote_to_multi else [], drop_fields, gdal_callback(0.0, 0.7),
                   cancelled)
        if cancelled():
            raise WriteCancelled()
        # -unsetFid numbered the copy 1, 2, … in the order of the iteration
        _add_and_fill(partial_gpkg, layer_name, total, np.asarray(positions, dtype=np.int64) + 1, columns, cancelled)
        return _finish(partial_gpkg, target, driver, layer_name, progress, gdal_callback, cancelled)
    except RuntimeError:
        remove_dataset(partial_gpkg)
        if cancelled():
            raise WriteCancelled()
        raise
    except BaseException:
        remove_dataset(partial_gpkg)
        raise


def _gdal_progress(progress, cancelled, low, high):
    """A GDAL progress callback reporting ``low``…``high`` of ``progress`` and stopping when ``cancelled()``."""
    def callback(fraction, message, data):
        progress(low + (high - low) * fraction)
        return 0 if cancelled() else 1

    return callback


def _translate(source_path, source_layer, source_layer_index, where, open_options, target, layer_name,
               extra_options, drop_fields, callback, cancelled):
    """GDAL's VectorTranslate of one source layer (filtered by ``where``, without ``drop_fields``) into a new
    GeoPackage ``target`` whose features are numbered 1, 2, … in the order of the iteration (``-unsetFid``)."""
    from osgeo import gdal

    source = gdal.OpenEx(source_path, gdal.OF_VECTOR | gdal.OF_READONLY, open_options=list(open_options or []))
    if source is None:
        raise OSError(f"GDAL could not open {source_path}")
    layer = source.GetLayerByName(source_layer) if source_layer else source.GetLayer(source_layer_index)
    options = ["-unsetFid", "-nln", layer_name, "-lco", "FID=fid"] + list(extra_options)
    if drop_fields:
        definition = layer.GetLayerDefn()
        names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
        lowered = {d.lower() for d in drop_fields}
        options += ["-select", ",".join(n for n in names if n.lower() not in lowered)]
    if where:
        options += ["-where", where]
    translated = gdal.VectorTranslate(
        target, source,
        options=gdal.VectorTranslateOptions(options=options, format="GPKG", layers=[layer.GetName()], callback=callback),
    )
    if translated is None:
        raise WriteCancelled() if cancelled() else OSError(f"GDAL could not copy {source_path}")


class PointTableWriter:
    """Write a table without geometry as points placed by one key column (geocoding), in steps the caller drives:

    1. :meth:`copy` — GDAL copies the table (as ``ogr2ogr`` would) to a hidden staging GeoPackage beside the
       target; :meth:`distinct_values` then gives the key column's distinct values and their counts (SQLite
       reads the staged column: nothing per row comes to Python);
    2. :meth:`write` — given, per distinct key, a point (NaN: none) and new values, the output layer is created
       with the table's fields, the new fields and a point column, and SQLite fills it in one
       ``INSERT … SELECT`` joining the staged rows with the small key table; the spatial index is packed from
       the coordinates;
    3. :meth:`write_subset` (optional) — rows of the finished layer (e.g. those not placed) as a table of
       their own; :meth:`publish` — the finished file is renamed onto the target (or converted first).

    Any exception (or :meth:`discard`) removes what was written: the output is whole or absent. (Filling a
    point column of the staged table with ``UPDATE`` instead is five times slower: every row grows and moves.)
    """

    def __init__(self, target: str, epsg: int, layer_name: str | None = None, progress=None, cancelled=None):
        self.driver = bulk_format(target)
        if self.driver is None:
            raise ValueError(f"{target} is not a format written in bulk")
        self.target = target
        self.epsg = int(epsg)
        self.layer_name = layer_name or output_layer_name(target)
        self.staging = temporary_sibling(target, ".gpkg")
        self.partial = temporary_sibling(target, ".gpkg")
        self.progress = progress or (lambda fraction: None)
        self.cancelled = cancelled or (lambda: False)
        self.total = 0
        self._subsets = []  # partial files of write_subset not yet published

    def _callback(self, low, high):
        return _gdal_progress(self.progress, self.cancelled, low, high)

    def _guarded(self, function, *args):
        """Run ``function``; on any error remove everything (a cancel inside GDAL or SQLite → WriteCancelled)."""
        try:
            return function(*args)
        except _MissingKeys:
            remove_dataset(self.partial)
            raise
        except (RuntimeError, sqlite3.OperationalError):
            self.discard()
            if self.cancelled():
                raise WriteCancelled()
            raise
        except BaseException:
            self.discard()
            raise

    def copy(self, source_path, source_layer, source_layer_index, where, open_options):
        """Copy the source rows to :attr:`staging` (layer :attr:`layer_name`, ids 1…n); returns their number."""
        def run():
            _translate(source_path, source_layer, source_layer_index, where, open_options, self.staging,
                       self.layer_name, ["-nlt", "NONE"], [], self._callback(0.0, 0.4), self.cancelled)
            with sqlite3.connect(f"file:{self.staging}?mode=ro", uri=True) as connection:
                (self.total,) = connection.execute(f"SELECT max(fid) FROM {_quote(self.layer_name)}").fetchone()
            self.total = int(self.total or 0)
            return self.total

        return self._guarded(run)

    def distinct_values(self, field_name: str):
        """``(values, counts)``: the distinct values of a staged column (NULL as None) and how many rows hold
        each."""
        def run():
            connection = sqlite3.connect(f"file:{self.staging}?mode=ro", uri=True)
            try:
                self._watch(connection)
                rows = connection.execute(
                    f"SELECT {_quote(field_name)}, count(*) FROM {_quote(self.layer_name)} GROUP BY 1"
                ).fetchall()
            finally:
                connection.close()
            self.progress(0.45)
            values = [row[0] for row in rows]
            return values, np.array([row[1] for row in rows], dtype=np.int64)

        return self._guarded(run)

    def _watch(self, connection):
        """Let a long SQLite statement stop when the user cancels (it then raises ``OperationalError``)."""
        connection.set_progress_handler(lambda: 1 if self.cancelled() else 0, 2_000_000)

    def write(self, key_field: str, keys: list, xy: np.ndarray, columns: list[NewColumn]):
        """Fill the output: the staged row whose ``key_field`` equals ``keys[k]`` gets point ``xy[k]`` (NaN: no
        geometry) and value ``k`` of each of ``columns``. ``keys`` must hold every distinct value of the column,
        NULL as None (:meth:`distinct_values` gives them); when some value is missing, nothing is written and
        False is returned (the staged copy is kept: call again with the right keys)."""
        try:
            self._guarded(self._write, key_field, list(keys), np.asarray(xy, dtype=float).reshape(-1, 2), columns)
        except _MissingKeys:
            return False
        remove_dataset(self.staging)
        self.progress(0.92)
        return True

    def _write(self, key_field, keys, xy, columns):
        names = self._create_layer(columns)
        self.progress(0.5)
        table, quoted, key = self.layer_name, _quote(self.layer_name), _quote(key_field)
        keys_table = "cc_geocode_keys"
        connection = sqlite3.connect(self.partial, isolation_level=None)
        planner = None
        try:
            register_geopackage_functions(connection)
            self._watch(connection)
            connection.execute("PRAGMA synchronous = OFF")  # a hidden file, renamed into place only when complete
            geometry_column, srs_id = connection.execute(
                "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?)", (table,)
            ).fetchone()
            connection.execute("ATTACH DATABASE ? AS staged", (self.staging,))
            declared = {row[1]: row[2] for row in connection.execute(f"PRAGMA staged.table_info({quoted})")}
            # the distinct keys with their point and values, in the staging file (a second connection reads
            # them there while this one writes)
            value_names = [f"v{i}" for i in range(len(columns))]
            blobs = _point_blobs(xy, srs_id) if len(xy) else []
            converted = [_sql_values(c) for c in columns]
            null_row, rows = None, []
            for k, key_value in enumerate(keys):
                if key_value is None:
                    null_row = [blobs[k]] + [v[k] for v in converted]
                else:
                    rows.append((k, key_value, blobs[k], *(v[k] for v in converted)))
            null_row = null_row or [None] * (1 + len(columns))
            if null_row[0] is not None:
                raise ValueError("a NULL key cannot be given a point")
            connection.execute("BEGIN")
            connection.execute(f"DROP TABLE IF EXISTS staged.{keys_table}")
            connection.execute(
                f"CREATE TABLE staged.{keys_table} (k INTEGER PRIMARY KEY, raw {declared.get(key_field) or ''} UNIQUE, "
                f"geom BLOB{''.join(', ' + v for v in value_names)})"
            )
            connection.executemany(f"INSERT OR IGNORE INTO staged.{keys_table} VALUES (?, ?, ?{', ?' * len(columns)})", rows)
            connection.execute("COMMIT")
            # the spatial index is planned in a thread from the placed rows while SQLite copies the rows
            planner = ThreadPoolExecutor(max_workers=1)
            plan = planner.submit(self._plan_index, keys_table, key, xy)
            # GDAL's feature-count triggers would run once per row: off while filling, the count set at the end
            triggers = connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND lower(tbl_name) = lower(?) "
                "AND name LIKE 'trigger_%feature_count%'", (table,)).fetchall()
            connection.execute("BEGIN")
            for name, _sql in triggers:
                connection.execute(f"DROP TRIGGER {_quote(name)}")
            targets = ", ".join(["fid", _quote(geometry_column)] + [_quote(n) for n in names]
                                + [_quote(c.name) for c in columns])
            picked = [f"CASE WHEN m.k IS NULL THEN ? ELSE m.{v} END" for v in ["geom"] + value_names]
            sources = ", ".join(["s.fid", picked[0]] + [f"s.{_quote(n)}" for n in names] + picked[1:])
            connection.execute(
                f"INSERT INTO {quoted} ({targets}) SELECT {sources} FROM staged.{quoted} AS s "
                f"LEFT JOIN staged.{keys_table} AS m ON m.raw = s.{key} ORDER BY s.fid", null_row,
            )
            for _name, sql in triggers:
                connection.execute(sql)
            has_counts = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'").fetchone()[0]
            if has_counts:
                connection.execute("UPDATE gpkg_ogr_contents SET feature_count = ? WHERE lower(table_name) = lower(?)",
                                   (self.total, table))
            self.progress(0.8)
            fids, x, y, rtree_plan, missing = plan.result()
            if missing:
                raise _MissingKeys()
            self.progress(0.85)
            rtree = _create_point_rtree(connection, table, geometry_column)
            write_rtree_plan(connection, rtree, rtree_plan)
            del rtree_plan
            if len(fids):
                connection.execute(
                    "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                    "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lower(table_name) = lower(?)",
                    (float(x.min()), float(y.min()), float(x.max()), float(y.max()), table),
                )
            connection.execute("COMMIT")
            connection.execute("DETACH DATABASE staged")
        finally:
            if planner is not None:
                planner.shutdown(wait=True)  # (the staging file is removed only once nobody reads it)
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()

    def _plan_index(self, keys_table, key, xy):
        """(fids, x, y, R*Tree plan) of the staged rows that get a point (run in a thread)."""
        quoted = _quote(self.layer_name)
        connection = sqlite3.connect(f"file:{self.staging}?mode=ro", uri=True)
        fids, numbers, missing = [], [], 0
        try:
            self._watch(connection)
            step = 1_000_000
            for low in range(1, self.total + 1, step):
                # two texts per slice (no Python object per row), and the rows whose key is not in the table
                found, placed, lost = connection.execute(
                    f"SELECT group_concat(CASE WHEN m.geom IS NOT NULL THEN s.fid END), "
                    f"group_concat(CASE WHEN m.geom IS NOT NULL THEN m.k END), "
                    f"sum(m.k IS NULL AND s.{key} IS NOT NULL) FROM {quoted} AS s LEFT JOIN {keys_table} AS m "
                    f"ON m.raw = s.{key} WHERE s.fid BETWEEN ? AND ?", (low, low + step - 1)
                ).fetchone()
                missing += int(lost or 0)
                if missing:
                    return None, None, None, None, missing
                if found:
                    fids.append(np.fromstring(found, dtype=np.int64, sep=","))
                    numbers.append(np.fromstring(placed, dtype=np.int64, sep=","))
        finally:
            connection.close()
        fids = np.concatenate(fids) if fids else np.empty(0, dtype=np.int64)
        numbers = np.concatenate(numbers) if numbers else np.empty(0, dtype=np.int64)
        x, y = xy[numbers, 0], xy[numbers, 1]
        del numbers
        return fids, x, y, plan_rtree(fids, x, y), 0

    def _create_layer(self, columns):
        """The output layer: the staged table's fields, then the new ones, and a point column. Returns the
        staged field names."""
        from osgeo import gdal, ogr, osr

        staged = gdal.OpenEx(self.staging, gdal.OF_VECTOR | gdal.OF_READONLY)
        definition = staged.GetLayerByName(self.layer_name).GetLayerDefn()
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(self.epsg)
        dataset = ogr.GetDriverByName("GPKG").CreateDataSource(self.partial)
        layer = dataset.CreateLayer(self.layer_name, srs, ogr.wkbPoint, ["SPATIAL_INDEX=NO", "FID=fid"])
        names = []
        for i in range(definition.GetFieldCount()):
            layer.CreateField(definition.GetFieldDefn(i))
            names.append(definition.GetFieldDefn(i).GetName())
        kinds = {"double": (ogr.OFTReal, None), "int": (ogr.OFTInteger, None), "long": (ogr.OFTInteger64, None),
                 "string": (ogr.OFTString, None), "bool": (ogr.OFTInteger, ogr.OFSTBoolean), "date": (ogr.OFTDate, None)}
        for column in columns:
            kind, subtype = kinds[column.kind]
            field = ogr.FieldDefn(column.name, kind)
            if subtype is not None:
                field.SetSubType(subtype)
            if column.kind == "string" and column.width:
                field.SetWidth(int(column.width))
            layer.CreateField(field)
        layer = None
        dataset = None
        staged = None
        return names

    def rows_where(self, where: str, names: list) -> list:
        """``(position, value, …)`` of the finished layer's rows matching the SQL ``where`` (positions 0-based,
        in the staged order), for a caller writing them elsewhere."""
        def run():
            columns = ", ".join(["fid - 1"] + [_quote(n) for n in names])
            with sqlite3.connect(f"file:{self.partial}?mode=ro", uri=True) as connection:
                return connection.execute(
                    f"SELECT {columns} FROM {_quote(self.layer_name)} WHERE {where} ORDER BY fid").fetchall()

        return self._guarded(run)

    def write_subset(self, target: str, where: str) -> None:
        """The finished layer's rows matching the SQL ``where``, without geometry, to ``target`` (any format of
        :data:`BULK_FORMATS`; ids kept), made ready here and moved into place by :meth:`publish`."""
        from osgeo import gdal

        driver = bulk_format(target)
        if driver is None:
            raise ValueError(f"{target} is not a format written in bulk")
        layer_name = output_layer_name(target)
        partial = temporary_sibling(target, ".gpkg")
        self._subsets.append((partial, target, driver, layer_name))

        def run():
            translated = gdal.VectorTranslate(
                partial, self.partial,
                options=gdal.VectorTranslateOptions(
                    options=["-nlt", "NONE", "-nln", layer_name, "-lco", "FID=fid", "-preserve_fid", "-where", where],
                    format="GPKG", layers=[self.layer_name], callback=self._callback(0.92, 0.96)),
            )
            if translated is None:
                raise WriteCancelled() if self.cancelled() else OSError(f"GDAL could not write {target}")

        self._guarded(run)

    def publish(self) -> str:
        """Move the output (and the tables of :meth:`write_subset`) into place; returns the output's path."""
        def run():
            for partial, target, driver, layer_name in self._subsets:
                _finish(partial, target, driver, layer_name, lambda fraction: None,
                        lambda low, high: _gdal_progress(lambda fraction: None, self.cancelled, low, high),
                        self.cancelled)
            done = _finish(self.partial, self.target, self.driver, self.layer_name, self.progress, self._callback,
                           self.cancelled)
            self._subsets = []
            return done

        return self._guarded(run)

    def discard(self):
        remove_dataset(self.staging)
        remove_dataset(self.partial)
        for partial, _target, _driver, _layer in self._subsets:
            remove_dataset(partial)
        self._subsets = []


def _point_blobs(xy: np.ndarray, srs_id: int) -> list:
    """GeoPackage geometry blobs of 2D points (no envelope), None for NaN coordinates."""
    record = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs", "<i4"),
                       ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    out = np.zeros(len(xy), dtype=record)
    out["magic"] = b"GP"
    out["flags"] = 1  # little endian, no envelope, not empty
    out["srs"] = srs_id
    out["order"] = 1
    out["type"] = 1
    out["x"] = xy[:, 0]
    out["y"] = xy[:, 1]
    raw = out.tobytes()
    size = record.itemsize
    valid = ~np.isnan(xy).any(axis=1)
    return [raw[i * size:(i + 1) * size] if ok else None for i, ok in enumerate(valid.tolist())]


def _create_point_rtree(connection, table, column):
    """The GeoPackage R-tree spatial index of a point column, empty (the caller fills it from the coordinates with
    :func:`write_rtree_plan`: GDAL's own CreateSpatialIndex reads every geometry back, ten times slower), with the
    standard triggers that keep it up to date when the layer is edited later. Returns the R-tree's name."""
    rtree = _quote(f"rtree_{table}_{column}")
    t, c = _quote(table), _quote(column)
    connection.execute(f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
        "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
    )
    connection.execute(
        "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
        "VALUES (?, ?, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, column),
    )
    values = f"VALUES (NEW.fid, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}))"
    name = f"rtree_{table}_{column}"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c})) "
                  f"BEGIN INSERT OR REPLACE INTO {rtree} {values}; END",
        "update1": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.fid = NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c})) "
                   f"BEGIN INSERT OR REPLACE INTO {rtree} {values}; END",
        "update2": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.fid = NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c})) "
                   f"BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; END",
        "update3": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c})) "
                   f"BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; INSERT OR REPLACE INTO {rtree} {values}; END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c})) "
                   f"BEGIN DELETE FROM {rtree} WHERE id IN (OLD.fid, NEW.fid); END",
        "delete": f"AFTER DELETE ON {t} WHEN old.{c} NOT NULL BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; END",
    }
    for suffix, body in triggers.items():
        connection.execute(f"CREATE TRIGGER {_quote(name + '_' + suffix)} {body}")
    return name


#: an SQLite R*Tree cell of a 2D tree: id (or child node), then min x, max x, min y, max y as 32-bit floats;
#: everything big-endian (SQLite's rtree.c)
_RTREE_CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
_RTREE_MAX_CELLS = 51  # SQLite's RTREE_MAXCELLS: a 2D node holds 4 + 51 × 24 = 1,228 bytes


def bulk_load_rtree(connection, name: str, ids, x, y):
    """Fill an empty SQLite R*Tree ``name`` (2D) with points by Sort-Tile-Recursive packing, writing its node,
    rowid and parent tables directly: one pass instead of a million R*Tree insertions (which cost about ten
    seconds a million). The result is an ordinary R*Tree (``rtreecheck`` passes, later edits work)."""
    write_rtree_plan(connection, name, plan_rtree(ids, x, y))


def plan_rtree(ids, x, y):
    """The tables of a packed R*Tree of points (see :func:`bulk_load_rtree`), computed without SQLite (so it can
    run in a thread while SQLite works): ``(node rows, (rowid, node) arrays, (node, parent) arrays)``."""
    ids = np.asarray(ids, dtype=np.int64)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(ids) == 0:
        return None
    # 32-bit bounds that contain the 64-bit coordinates (SQLite rounds minima down and maxima up)
    lo_x, hi_x = _float32_down(x), _float32_up(x)
    lo_y, hi_y = _float32_down(y), _float32_up(y)
    levels = []  # each level: list of (cells array) per node, bottom-up
    cells = np.zeros(len(ids), dtype=_RTREE_CELL)
    cells["id"], cells["minx"], cells["maxx"], cells["miny"], cells["maxy"] = ids, lo_x, hi_x, lo_y, hi_y
    del lo_x, hi_x, lo_y, hi_y
    while True:
        nodes = _str_pack(cells)
        levels.append(nodes)
        if len(nodes) == 1:
            break
        parents = np.zeros(len(nodes), dtype=_RTREE_CELL)
        for k, node in enumerate(nodes):  # a parent cell's id is, for now, its child's index in the level below
            parents[k] = (k, node["minx"].min(), node["maxx"].max(), node["miny"].min(), node["maxy"].max())
        cells = parents
    # number the nodes top-down (the root must be node 1), then point each parent cell at its child's number
    numbers = []
    next_number = 1
    for level in reversed(levels):
        numbers.append(np.arange(next_number, next_number + len(level)))
        next_number += len(level)
    numbers.reverse()  # numbers[d][k]: number of node k at level d (0 = leaves)
    depth = len(levels) - 1
    node_size = 4 + _RTREE_MAX_CELLS * _RTREE_CELL.itemsize
    node_rows = []
    rowids = parents_of = None
    for d, level in enumerate(levels):
        child_numbers = numbers[d - 1] if d > 0 else None
        for k, node in enumerate(level):
            node = node.copy()
            if d > 0:
                node["id"] = child_numbers[node["id"]]
            header = np.array([depth if (d == depth) else 0, len(node)], dtype=">u2").tobytes()
            blob = header + node.tobytes()
            node_rows.append((int(numbers[d][k]), blob + bytes(node_size - len(blob))))
        owner = np.repeat(numbers[d], [len(node) for node in level])
        if d == 0:
            member = np.concatenate([node["id"] for node in level]).astype(np.int64)
        else:
            member = np.concatenate([child_numbers[node["id"]] for node in level])
        if d == 0:
            rowids = _rtree_rows(member, owner)
        else:
            parents_of = (parents_of or []) + _rtree_rows(member, owner)
        levels[d] = None  # free the level's cells
    return node_rows, rowids, parents_of


def _sqlite_has_json() -> bool:
    try:
        return sqlite3.connect(":memory:").execute("SELECT count(*) FROM json_each('[1]')").fetchone()[0] == 1
    except sqlite3.Error:
        return False


_HAS_JSON = _sqlite_has_json()


def write_rtree_plan(connection, name: str, plan):
    """Write :func:`plan_rtree`'s tables into the empty R*Tree ``name``."""
    if plan is None:
        return
    node_rows, rowids, parents_of = plan
    node_table, rowid_table, parent_table = (_quote(f"{name}_{part}") for part in ("node", "rowid", "parent"))
    connection.execute(f"DELETE FROM {node_table}")  # the empty root SQLite made
    connection.executemany(f"INSERT INTO {node_table} (nodeno, data) VALUES (?, ?)", node_rows)
    for table, columns, parts in ((rowid_table, "rowid, nodeno", rowids), (parent_table, "nodeno, parentnode", parents_of)):
        for part in parts or []:
            if isinstance(part, str):  # one JSON array of (member << 24 | owner): SQLite unpacks it in C
                connection.execute(f"INSERT INTO {table} ({columns}) SELECT value >> 24, value & 16777215 "
                                   "FROM json_each(?)", (part,))
            else:
                connection.executemany(f"INSERT INTO {table} ({columns}) VALUES (?, ?)",
                                       zip(part[0].tolist(), part[1].tolist()))


def _rtree_rows(member, owner):
    """(member, owner) rows in key order (appends, not random B-tree inserts), in slices (millions of Python
    integers at once cost GBs): JSON texts when SQLite reads JSON, else pairs of arrays."""
    order = np.argsort(member, kind="stable")
    member, owner = member[order].astype(np.int64), owner[order].astype(np.int64)
    parts = []
    for start in range(0, len(member), 500_000):
        m, o = member[start:start + 500_000], owner[start:start + 500_000]
        if _HAS_JSON and m.max() < 2**38 and o.max() < 2**24:
            parts.append("[" + ",".join(map(str, ((m << 24) | o).tolist())) + "]")
        else:
            parts.append((m, o))
    return parts


def _str_pack(cells):
    """Sort-Tile-Recursive grouping of ``cells`` into nodes of at most ``_RTREE_MAX_CELLS`` (by box centres).
    For parent levels the ``id`` field holds, per cell, the index of the child node it summarises."""
    n = len(cells)
    capacity = _RTREE_MAX_CELLS
    n_nodes = -(-n // capacity)
    slices = int(np.ceil(np.sqrt(n_nodes)))
    cx = (cells["minx"].astype(float) + cells["maxx"].astype(float)) / 2
    cy = (cells["miny"].astype(float) + cells["maxy"].astype(float)) / 2
    by_x = np.argsort(cx, kind="stable")
    per_slice = slices * capacity
    nodes = []
    for start in range(0, n, per_slice):
        part = by_x[start:start + per_slice]
        part = part[np.argsort(cy[part], kind="stable")]
        for node_start in range(0, len(part), capacity):
            nodes.append(cells[part[node_start:node_start + capacity]])
    return nodes


def _float32_down(values):
    f = values.astype(np.float32)
    too_big = f.astype(float) > values
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


def _float32_up(values):
    f = values.astype(np.float32)
    too_small = f.astype(float) < values
    f[too_small] = np.nextafter(f[too_small], np.float32(np.inf))
    return f


def _finish(partial_gpkg, target, driver, layer_name, progress, gdal_callback, cancelled):
    """Move the finished GeoPackage into place, or convert it to the target's format first."""
    from osgeo import gdal

    progress(0.9)
    if driver == "GPKG":
        if cancelled():  # the last moment: after the rename the output is complete
            raise WriteCancelled()
        move_into_place(partial_gpkg, target)
        progress(1.0)
        return target
    partial_final = temporary_sibling(target, Path(target).suffix)
    try:
        converted = gdal.VectorTranslate(
            partial_final,
            partial_gpkg,
            options=gdal.VectorTranslateOptions(
                format=driver,
                layerName=layer_name,
                layerCreationOptions=["ENCODING=UTF-8"] if driver == "ESRI Shapefile" else [],
                callback=gdal_callback(0.9, 1.0),
            ),
        )
        if converted is None:
            raise WriteCancelled() if cancelled() else OSError(f"GDAL could not write {target}")
        converted = None
        if cancelled():
            raise WriteCancelled()
        move_into_place(partial_final, target)
    except RuntimeError:
        remove_dataset(partial_final)
        if cancelled():
            raise WriteCancelled()
        raise
    except BaseException:
        remove_dataset(partial_final)
        raise
    finally:
        remove_dataset(partial_gpkg)
    progress(1.0)
    return target


def _copy_geopackage_file(source_path, source_layer, open_options, drop_fields, partial):
    """Copy a single-layer GeoPackage byte for byte (much faster than a feature-by-feature copy) and return
    its feature table's name; None when the source is anything else (the caller then uses GDAL)."""
    if Path(source_path).suffix.lower() != ".gpkg" or open_options or drop_fields:
        return None
    if os.path.exists(source_path + "-wal") and os.path.getsize(source_path + "-wal") > 0:
        return None  # uncheckpointed changes live beside the file
    try:
        with sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as connection:
            tables = connection.execute(
                "SELECT table_name, data_type FROM gpkg_contents WHERE lower(table_name) != 'layer_styles'"
            ).fetchall()
    except sqlite3.Error:
        return None
    if len(tables) != 1 or tables[0][1] != "features":
        return None
    table = tables[0][0]
    if source_layer and source_layer.lower() != table.lower():
        return None
    shutil.copyfile(source_path, partial)
    connection = sqlite3.connect(partial, isolation_level=None)
    try:
        exists = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND lower(name) = 'layer_styles'"
        ).fetchone()[0]
        if exists:  # the input's saved QGIS styles are not the output's
            connection.execute("DROP TABLE layer_styles")
            connection.execute("DELETE FROM gpkg_contents WHERE lower(table_name) = 'layer_styles'")
    finally:
        connection.close()
    return table


def _add_and_fill(path, table, total, keys, columns, cancelled):
    """Add ``columns`` to ``table`` of a GeoPackage, fill value ``k`` into the row with fid ``keys[k]`` and
    delete every other row. ``total`` (when given) is the number of rows the copy must hold."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        register_geopackage_functions(connection)
        quoted = _quote(table)
        (count,) = connection.execute(f"SELECT count(*) FROM {quoted}").fetchone()
        if total is not None and count != total:
            raise OSError(f"the copy holds {count} features where {total} were read; the source changed while running?")
        (fid_column,) = [row[1] for row in connection.execute(f"PRAGMA table_info({quoted})") if row[5] == 1] or ["fid"]
        connection.execute("BEGIN")
        for column in columns:
            declared = _SQL_TYPES[column.kind]
            if column.kind == "string" and column.width:
                declared = f"TEXT({int(column.width)})"
            connection.execute(f"ALTER TABLE {quoted} ADD COLUMN {_quote(column.name)} {declared}")
        keys = np.asarray(keys, dtype=np.int64).tolist()
        if columns:
            _fill(connection, quoted, _quote(fid_column), keys, columns, cancelled)
        if len(keys) != count:
            connection.execute("CREATE TEMP TABLE cc_keep (fid INTEGER PRIMARY KEY)")
            connection.executemany("INSERT OR IGNORE INTO cc_keep VALUES (?)", ((k,) for k in keys))
            connection.execute(f"DELETE FROM {quoted} WHERE {_quote(fid_column)} NOT IN (SELECT fid FROM cc_keep)")
            connection.execute("DROP TABLE cc_keep")
        connection.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE lower(table_name) = lower(?)",
            (table,),
        )
        connection.execute("COMMIT")
        if len(keys) < 0.75 * count:
            connection.execute("VACUUM")  # give the space of the deleted rows back
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()


@functools.lru_cache(maxsize=None)
def _factorize_has_sentinel() -> bool:
    """Whether ``pd.factorize`` takes ``use_na_sentinel`` (pandas ≥ 1.5)."""
    import pandas as pd

    return "use_na_sentinel" in inspect.signature(pd.factorize).parameters


def _factorize(values: list):
    """(codes, uniques) of a list of SQL values, NULL included as a value of its own."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        array = np.empty(len(values), dtype=object)
        array[:] = values
        if _factorize_has_sentinel():
            return pd.factorize(array, use_na_sentinel=False)
        return pd.factorize(array, na_sentinel=None)


def _fill(connection, quoted_table, quoted_fid, keys, columns, cancelled):
    """Set the new columns of the rows ``keys``. When the rows share few distinct combinations of values
    (classes, flags), each combination is stored once and SQLite copies it to its rows in one UPDATE … FROM;
    otherwise every row is updated with its own values."""
    values = [_sql_values(c) for c in columns]
    n = len(keys)
    codes = np.zeros(n, dtype=np.int64)
    radix = 1
    for column in values:
        column_codes, uniques = _factorize(column)
        radix_next = radix * (len(uniques) + 1)
        if radix_next > 2**62:
            codes = None
            break
        codes += column_codes.astype(np.int64) * radix
        radix = radix_next
    chunk = 200_000
    if codes is not None:
        group, first = np.unique(codes, return_index=True)[0:2]
        if len(group) * 4 < n:
            inverse = np.searchsorted(group, codes)
            names = [f"v{i}" for i in range(len(columns))]
            connection.execute(f"CREATE TEMP TABLE cc_values (gid INTEGER PRIMARY KEY, {', '.join(names)})")
            connection.executemany(
                f"INSERT INTO cc_values VALUES (?{', ?' * len(columns)})",
                zip(range(len(group)), *([column[i] for i in first] for column in values)),
            )
            connection.execute("CREATE TEMP TABLE cc_rows (fid INTEGER PRIMARY KEY, gid INTEGER)")
            for start in range(0, n, chunk):
                if cancelled():
                    raise WriteCancelled()
                connection.executemany(
                    "INSERT INTO cc_rows VALUES (?, ?)", zip(keys[start:start + chunk], inverse[start:start + chunk].tolist())
                )
            assignments = ", ".join(f"{_quote(c.name)} = cc_values.{name}" for c, name in zip(columns, names))
            connection.execute(
                f"UPDATE {quoted_table} SET {assignments} FROM cc_rows JOIN cc_values USING (gid) "
                f"WHERE {quoted_table}.{quoted_fid} = cc_rows.fid"
            )
            connection.execute("DROP TABLE cc_rows")
            connection.execute("DROP TABLE cc_values")
            return
    assignments = ", ".join(f"{_quote(c.name)} = ?" for c in columns)
    statement = f"UPDATE {quoted_table} SET {assignments} WHERE {quoted_fid} = ?"
    for start in range(0, n, chunk):
        if cancelled():
            raise WriteCancelled()
        connection.executemany(statement, zip(*(v[start:start + chunk] for v in values), keys[start:start + chunk]))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_values(column: NewColumn) -> list:
    """Values as Python objects SQLite stores: NULL for None/NaN, 0/1 for booleans, ISO text for dates."""
    import pandas as pd

    values = column.values
    if column.kind in ("double", "int", "long", "bool"):
        array = np.asarray(values)
        if array.dtype.kind not in "fiub":
            array = pd.to_numeric(pd.Series(array, dtype=object), errors="coerce").to_numpy(dtype=float)
        numbers = array.astype(float)
        valid = np.isfinite(numbers)
        out = np.empty(len(array), dtype=object)
        if column.kind == "double":
            out[valid] = numbers[valid].astype(object)
        elif column.kind == "bool":
            out[valid] = (numbers[valid] != 0).astype(np.int64).astype(object)
        else:
            out[valid] = numbers[valid].astype(np.int64).astype(object)
        return out.tolist()
    if column.kind == "date":
        return [None if _is_null(v) else _iso_date(v) for v in np.asarray(values, dtype=object)]
    array = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(array, skipna=True) in ("string", "empty"):  # texts and NULLs: as they are
        out = array.copy()
        out[pd.isna(array)] = None
        return out.tolist()
    return [None if _is_null(v) else str(v) for v in array]


def _is_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return not np.isfinite(value)
    try:
        return bool(value != value)  # NaT, pandas NA-like
    except (TypeError, ValueError):
        return False


def _iso_date(value) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return str(value)[:10]


# --- GeoPackage geometry functions ------------------------------------------------------------------------
# A GeoPackage's R-tree triggers call ST_IsEmpty and ST_Min/MaxX/Y; a plain sqlite3 connection must be given
# them before it can write to a feature table. They read the GeoPackage binary header (and, for points
# written without an envelope, the point itself).

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def _envelope(blob):
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    kind = (flags >> 1) & 7
    count = _ENVELOPE_DOUBLES.get(kind, 0)
    if count:
        values = struct.unpack_from(order + "d" * count, blob, 8)
        return values[0], values[1], values[2], values[3]
    wkb = blob[8:]
    if len(wkb) >= 21:
        wkb_order = "<" if wkb[0] == 1 else ">"
        (geometry_type,) = struct.unpack_from(wkb_order + "I", wkb, 1)
        if geometry_type % 1000 == 1:
            x, y = struct.unpack_from(wkb_order + "dd", wkb, 5)
            return x, x, y, y
    return None


def _is_empty(blob):
    if blob is None:
        return None
    if len(blob) >= 4 and blob[:2] == b"GP":
        return 1 if blob[3] & 0x10 else 0
    return 0


def register_geopackage_functions(connection: sqlite3.Connection):
    """Give ``connection`` the ST_* functions a GeoPackage's triggers call."""
    connection.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        connection.create_function(
            name, 1, lambda blob, i=index: (lambda e: None if e is None else e[i])(_envelope(blob)), deterministic=True
        )
