"""The shared base of the local spatial statistics (Gi*, local Moran's I, optimized hot spots): weights parameters and their help,
reading the analysis values in a canonical order, the Gi* output fields."""

from __future__ import annotations

import numpy as np

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)

from ..core.autocorrelation.conditional_permutation import canonical_order
from ..core.autocorrelation.significance import SIGNIFICANCE_FOLDED, SIGNIFICANCE_LABELS
from ..core.autocorrelation.weights import WEIGHTS_LABELS, WeightsKind, build_weights
from .base_algorithm import CreativeClustersAlgorithm, field

WEIGHTS_HELP = """<li><b>Spatial weights</b> (WEIGHTS) — who is a neighbour of whom:
<ol start="0">
<li><i>Queen contiguity</i>: polygons sharing an edge or a corner (polygons only);</li>
<li><i>Rook contiguity</i>: polygons sharing a stretch of edge (polygons only);</li>
<li><i>Fixed distance band</i> (default): features within DISTANCE of each other (polygons by a point on their surface);</li>
<li><i>K nearest neighbours</i>: the K closest features (coincident features are neighbours at distance 0);</li>
<li><i>Inverse distance</i>: every feature weighted by 1/distance<sup>POWER</sup> (distances under 1 m count as 1 m), only within DISTANCE when it is above 0. Without a cut-off every pair is linked, which is refused above 4,000 features.</li>
</ol></li>
<li><b>Distance band / cut-off</b> (DISTANCE, metres, default 0): for the fixed band, 0 means the smallest distance that gives every feature at least one neighbour (reported in the log); for inverse distance, 0 means no cut-off.</li>
<li><b>Number of neighbours</b> (K, default 8) for K nearest neighbours.</li>
<li><b>Inverse distance power</b> (POWER, advanced, 1 or 2, default 1).</li>
<li><b>Snap tolerance</b> (SNAP_TOLERANCE, advanced, metres, default 1): polygons closer than this count as touching, so tiny gaps and slivers between boundaries do not break contiguity; 0 = exact topology. Rook neighbours must share more than 4 × the tolerance of boundary.</li>"""

INPUT_HELP = """<p>Distances are measured in the layer's projected CRS (metres for British National Grid). A layer in a geographic CRS (degrees) is projected to British National Grid — or the UTM zone of its centre outside Great Britain — with a warning; outputs keep the input CRS. Features without geometry are left out and counted. Features whose analysis field is NULL (or not a number) are <b>left out of the analysis</b> — they are not neighbours of anyone — are counted in the log and get NULL results. Invalid polygons are repaired for the analysis only; the input layer is never modified.</p>"""


class LocalStatisticAlgorithm(CreativeClustersAlgorithm):
    """Shared parameters and input handling of the local spatial statistics (Gi*, local Moran's I)."""

    GROUP = "2 · Specialisation and hot spots"
    GROUP_ID = "hotspots"
    STATISTIC = ""  # the statistic's name in the log, e.g. "Gi*"
    OUTPUT_DESCRIPTION = ""  # the output sink's label

    INPUT = "INPUT"
    FIELD = "FIELD"
    WEIGHTS = "WEIGHTS"
    DISTANCE = "DISTANCE"
    K = "K"
    POWER = "POWER"
    SNAP_TOLERANCE = "SNAP_TOLERANCE"
    PERMUTATIONS = "PERMUTATIONS"
    SEED = "SEED"
    SIGNIFICANCE = "SIGNIFICANCE"
    FDR = "FDR"
    OUTPUT = "OUTPUT"

    DEFAULT_WEIGHTS = int(WeightsKind.DISTANCE_BAND)
    DEFAULT_PERMUTATIONS = 0
    MAX_PERMUTATIONS = 99_999

    # --- parameters -------------------------------------------------------------------------------
    def add_input_parameters(self, field_label):
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.INPUT, self.tr("Input features (polygons or points)"),
                [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint],
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.FIELD, self.tr(field_label), parentLayerParameterName=self.INPUT,
                type=QgsProcessingParameterField.Numeric,
            )
        )

    def add_weights_parameters(self):
        self.addParameter(
            QgsProcessingParameterEnum(
                self.WEIGHTS, self.tr("Spatial weights"), options=[self.tr(label) for label in WEIGHTS_LABELS],
                defaultValue=self.DEFAULT_WEIGHTS,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.DISTANCE, self.tr("Distance band or cut-off in metres (0 = automatic / none)"),
                QgsProcessingParameterNumber.Double, defaultValue=0.0, minValue=0.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.K, self.tr("Number of neighbours (k nearest neighbours)"), QgsProcessingParameterNumber.Integer,
                defaultValue=8, minValue=1, maxValue=1000,
            )
        )

    def add_inference_parameters(self):
        self.addParameter(
            QgsProcessingParameterNumber(
                self.PERMUTATIONS, self.tr("Permutations for pseudo p-values (0 = analytic only)"),
                QgsProcessingParameterNumber.Integer, defaultValue=self.DEFAULT_PERMUTATIONS, minValue=0,
                maxValue=self.MAX_PERMUTATIONS,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SEED, self.tr("Random seed (same seed, same result)"), QgsProcessingParameterNumber.Integer,
                defaultValue=1, minValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.FDR, self.tr("Apply false discovery rate (FDR) correction"), defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.SIGNIFICANCE, self.tr("Pseudo p-value convention (with permutations)"),
                options=[self.tr(label) for label in SIGNIFICANCE_LABELS], defaultValue=SIGNIFICANCE_FOLDED,
            )
        )

    def add_advanced_weights_parameters(self):
        power = QgsProcessingParameterNumber(
            self.POWER, self.tr("Inverse distance power (1 or 2)"), QgsProcessingParameterNumber.Integer,
            defaultValue=1, minValue=1, maxValue=2,
        )
        snap = QgsProcessingParameterNumber(
            self.SNAP_TOLERANCE, self.tr("Contiguity snap tolerance in metres (gaps and slivers)"),
            QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0,
        )
        for parameter in (power, snap):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)

    # --- running ----------------------------------------------------------------------------------
    def read_input(self, parameters, context, feedback):
        """Read the source, the analysis values and the weights of the features that have a value.

        Returns ``(table, keep, values, weights, options)`` where ``keep`` marks the features analysed.
        """
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        field_name = self.parameterAsFields(parameters, self.FIELD, context)[0]
        kind = WeightsKind(self.parameterAsEnum(parameters, self.WEIGHTS, context))
        distance = self.parameterAsDouble(parameters, self.DISTANCE, context)
        k = self.parameterAsInt(parameters, self.K, context)
        power = self.parameterAsInt(parameters, self.POWER, context) if self.POWER in parameters else 1
        snap = (
            self.parameterAsDouble(parameters, self.SNAP_TOLERANCE, context)
            if self.SNAP_TOLERANCE in parameters and parameters[self.SNAP_TOLERANCE] is not None
            else 1.0
        )
        contiguity = kind in (WeightsKind.QUEEN, WeightsKind.ROOK)
        if contiguity and QgsWkbTypes.geometryType(source.wkbType()) != QgsWkbTypes.PolygonGeometry:
            raise QgsProcessingException(
                f"{WEIGHTS_LABELS[kind]} needs polygons, but the input layer holds "
                f"{QgsWkbTypes.geometryDisplayString(QgsWkbTypes.geometryType(source.wkbType())).lower()}s. "
                "Choose a fixed distance band, k nearest neighbours or inverse distance for points."
            )
        table = self.read_table(source, feedback, fields=[field_name], with_geometry=contiguity, progress_range=(0, 15),
                                parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no features with a geometry.")
        values, keep = self.analysis_values(table, field_name, feedback)
        if keep.sum() < 3:
            raise QgsProcessingException(
                f"Only {int(keep.sum())} feature(s) have a value in '{field_name}': at least 3 are needed."
            )
        self.check_cancel(feedback)
        # analysed in an order of their own (x, y, value): the same SEED gives the same result whatever order
        # the features arrive in (a re-sorted file, a database, a selection)
        order = canonical_order(table.xy[np.flatnonzero(keep)], values[keep])
        kept = np.flatnonzero(keep)[order]
        feedback.pushInfo(f"Building spatial weights: {WEIGHTS_LABELS[kind]} on {len(kept):,} features…")
        if contiguity:
            crs = table.analysis_crs
            feedback.pushInfo(
                f"Snap tolerance {snap:g} m (SNAP_TOLERANCE, in metres of the analysis CRS "
                f"{crs.authid() or 'of the layer'}): polygons closer than this count as touching."
            )
        weights = build_weights(
            kind,
            xy=table.xy[kept],
            geometries=[table.wkb[i] for i in kept] if contiguity else None,
            distance=distance,
            k=k,
            power=power,
            snap_tolerance=snap,
            callback=self.progress_callback(feedback, 15, 25),
        )
        for message in weights.warnings:
            if "no neighbour" in message and not contiguity:
                continue  # islands are reported by the statistic itself (contiguity: the remedy names the tolerance)
            if message.startswith("k ="):
                feedback.pushWarning(message)
            else:
                feedback.pushInfo(message)
        cards = weights.cardinalities
        feedback.pushInfo(
            f"Neighbours per feature: min {cards.min()}, mean {cards.mean():.1f}, max {cards.max()}; "
            f"{int((cards < 8).sum()):,} feature(s) have fewer than 8."
        )
        options = {"kind": kind, "field": field_name, "source": source, "order": order}
        return table, keep, values[kept], weights, options

    def inference_options(self, parameters, context):
        """``(permutations, seed, fdr, significance convention)``."""
        permutations = self.parameterAsInt(parameters, self.PERMUTATIONS, context)
        seed = self.parameterAsInt(parameters, self.SEED, context)
        fdr = self.parameterAsBoolean(parameters, self.FDR, context)
        significance = self.parameterAsEnum(parameters, self.SIGNIFICANCE, context)  # the default when absent
        return permutations, seed, fdr, significance

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_input_parameters("Analysis field")
        self.add_weights_parameters()
        self.add_inference_parameters()
        self.add_advanced_weights_parameters()
        self.add_statistic_parameters()
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr(self.OUTPUT_DESCRIPTION)))

    def add_statistic_parameters(self):
        """Parameters of one statistic only (none by default), before the output."""

    def log_run(self, feedback, field_name, n, permutations, seed, fdr, significance):
        """One log line saying what is computed and how it is tested."""
        feedback.pushInfo(
            f"{self.STATISTIC} on '{field_name}' for {n:,} features"
            + (f", {permutations:,} permutations (seed {seed}); significance: "
               f"{SIGNIFICANCE_LABELS[significance].lower()}" if permutations else ", analytic inference")
            + (", FDR correction" if fdr else "")
            + "."
        )

    @staticmethod
    def analysis_values(table, field_name, feedback):
        """The field's values as floats and the mask of usable ones; NULL or non-numeric values are left out
        of the analysis with a warning (those features get NULL results)."""
        import pandas as pd

        values = pd.to_numeric(table.frame[field_name], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(values)
        dropped = int((~keep).sum())
        if dropped:
            feedback.pushWarning(
                f"{dropped} feature(s) have a NULL or non-numeric '{field_name}': they are left out of the analysis "
                "(not neighbours of anyone) and get NULL results."
            )
        return values, keep

    @staticmethod
    def expand(keep, values, fill=np.nan, dtype=object, order=None):
        """Full-length column (one entry per input feature) from values of the analysed features, given in
        the analysis ``order`` (indices into the kept features; None: their own order)."""
        out = np.full(len(keep), fill, dtype=dtype)
        kept = np.flatnonzero(keep)
        out[kept if order is None else kept[order]] = values
        return out


def gi_fields():
    """The ArcGIS Gi* output fields, in ArcGIS's order."""
    return [field("GiZScore", "double"), field("GiPValue", "double"), field("NNeighbors", "int"), field("Gi_Bin", "int")]


def gi_columns(result, keep=None, order=None) -> dict:
    """ArcGIS Gi* columns (GiZScore, GiPValue, NNeighbors, Gi_Bin) from a ``GiStarResult``: NULL for islands
    and, when ``keep`` is given, for the features left out of the analysis."""
    defined = np.isfinite(result.z)
    columns = {
        "GiZScore": result.z.astype(object),
        "GiPValue": result.p.astype(object),
        "NNeighbors": result.n_neighbors.astype(object),
        "Gi_Bin": np.where(defined, result.gi_bin.astype(object), None),
    }
    if keep is None:
        return columns
    return {name: LocalStatisticAlgorithm.expand(keep, values, fill=None, order=order)
            for name, values in columns.items()}
