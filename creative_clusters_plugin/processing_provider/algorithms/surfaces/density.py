"""creativeclusters:density — kernel density GeoTIFF of firm points, and relative density (thin adapter).

The analytics are in :mod:`creative_clusters_plugin.core.surfaces.kernel_density`; the raster is written by
:mod:`creative_clusters_plugin.core.surfaces.raster_io` (rasterio) at the path Processing gives.
"""

from __future__ import annotations

import math

import numpy as np

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ....core.surfaces.kernel_density import (
    DEFAULT_MIN_REFERENCE,
    GAUSSIAN,
    GAUSSIAN_TRUNCATION,
    KERNEL_NAMES,
    VALUES_NAMES,
    VALUES_PER_KM2,
    kernel_density,
    relative_density,
)
from ....core.surfaces.grid import Grid
from ....core.surfaces.raster_io import DEFAULT_NODATA, OVERVIEW_THRESHOLD, write_geotiff
from ....core.firms.stacking import STACK_EXCLUDE, STACK_OPTIONS, apply_stack_choice
from ...base_algorithm import CreativeClustersAlgorithm

STACK_FIELD = "cc_stack"


class Density(CreativeClustersAlgorithm):
    ALGORITHM_ID = "density"
    REQUIRES = ('numpy', 'scipy', 'rasterio')
    DISPLAY_NAME = "Density surface (kernel density, relative density)"
    GROUP = "3 · Microclusters and density"
    GROUP_ID = "microclusters"
    TAGS = "kernel density,kde,heatmap,quartic,biweight,gaussian,density surface,relative density,share,raster"
    HELP = f"""<p>Builds a <b>kernel density surface</b> (GeoTIFF) of firm points — every input point is used, so choose the firms with a selection (<i>Selected features only</i>) or a filtered layer (e.g. creative firms from <i>Classify firms</i>, <code>"cc_creative" = true</code>) — and optionally the <b>relative density</b>: their density divided by the density of all firms, i.e. the local creative share.</p>
<h3>Method</h3>
<p>Each point spreads a kernel that integrates to 1 (or to its weight), so the surface integrates to the number of points:</p>
<ul>
<li><i>Quartic (biweight)</i>, the default (as ArcGIS Pro's Kernel Density): K(d) = 3 / (π h²) · (1 − d²/h²)² within the radius h. Note: QGIS 3.22's <i>Heatmap</i> uses 21.75 / (π h²) for this constant, so its scaled surface integrates to 7.25 × the number of points; this tool's does not.</li>
<li><i>Gaussian</i>: K(d) = exp(−d²/2σ²) / (2π σ²) with σ = BANDWIDTH, cut at {GAUSSIAN_TRUNCATION:g} σ and rescaled so it still integrates to 1 (the tail beyond holds 0.03 % of the mass).</li>
</ul>
<p>Computation: points are shared between the four nearest cell centres (linear binning, Wand 1994) and the grid is convolved with the kernel sampled at the cell centres by FFT, rescaled so that it sums exactly to 1. The raster therefore sums to the number of points (to round-off) when the extent holds all the kernels (the default extent does). Each cell value differs from the exact kernel sum at the cell centre by the binning error, of order (pixel / bandwidth)² of the peak value: measured 0.1 % at 20 pixels per bandwidth, 0.4 % at 10, 1.3 % at 5. A bandwidth under two pixels triggers a warning.</p>
<h3>Parameters</h3>
<ul>
<li><b>Firm points</b> (INPUT): points (multipoints count each part); features without geometry are left out and counted in the log.</li>
<li><b>Bandwidth</b> (BANDWIDTH, metres; default 0 = automatic): the quartic radius h or the Gaussian σ. 0 applies ArcGIS Pro's default search radius, a spatial Silverman rule: h = 0.9 · min(SD, √(1/ln 2) · Dm) · n<sup>−0.2</sup>, with SD the standard distance of the points about their (weighted) mean centre, Dm the (weighted) median distance to it and n the number of points (sum of weights). For the Gaussian kernel σ = h / √8, which gives the same spread as the quartic kernel of radius h. The value used is logged and returned as BANDWIDTH_USED. It needs at least two distinct places.</li>
<li><b>Pixel size</b> (PIXEL_SIZE, metres, default 100): must be above 0. Ignored when a template raster is given.</li>
<li><b>Kernel</b> (KERNEL): 0 quartic (default), 1 Gaussian.</li>
<li><b>Weight field</b> (WEIGHT_FIELD, optional): e.g. employees; a point counts that many times. NULL weights leave the point out (logged); negative weights are an error.</li>
<li><b>Stacked addresses</b> (STACKS): keep every firm (default); down-weight the firms sharing one location to one firm per location (each of n firms weighs 1/n); or exclude the firms flagged <code>cc_stack</code> by <i>Flag stacked addresses</i>.</li>
<li><b>Output values</b> (OUTPUT_VALUES): 0 density in firms per km² (default); 1 expected number of firms per cell (the raster sums to the number of firms).</li>
<li><b>Output extent</b> (EXTENT, optional): default the points' extent plus the kernel's reach (h, or {GAUSSIAN_TRUNCATION:g} σ), snapped to multiples of the pixel size so that surfaces from different runs line up.</li>
<li><b>Template raster</b> (TEMPLATE, optional, advanced): the output uses exactly its grid — extent, pixel size and CRS (which must be projected) — so it can be combined cell by cell with it. Overrides EXTENT and PIXEL_SIZE.</li>
<li><b>All firms</b> (REFERENCE, optional): points of all firms for the relative density; smoothed with the same kernel, bandwidth, grid, STACKS choice and, when it has the same field, weights.</li>
<li><b>Minimum all-firm density</b> (MIN_REFERENCE, advanced, default {DEFAULT_MIN_REFERENCE:g}): the relative density is nodata where the all-firm density is below this many times the peak of one firm's kernel — roughly, where fewer than {DEFAULT_MIN_REFERENCE:g} firms are within reach of the cell (a lone firm gives 1 at its own location). Such shares would rest on a handful of firms.</li>
</ul>
<h3>Outputs</h3>
<ul>
<li><b>Density</b> (OUTPUT): single-band float32 GeoTIFF, nodata {DEFAULT_NODATA:g}, DEFLATE-compressed and tiled, with internal overviews when larger than {OVERVIEW_THRESHOLD} pixels. Cells with no firm in reach are 0. Loads styled (magma ramp, empty cells transparent).</li>
<li><b>Relative density</b> (OUTPUT_RELATIVE, optional, needs REFERENCE): input density / all-firm density (0–1 when the input is a subset of all firms), nodata where masked.</li>
<li>BANDWIDTH_USED (metres), N_POINTS (points used), TOTAL (their total weight, what the surface integrates to).</li>
</ul>
<p>Rasters are in the analysis CRS: the template's, else the input's when projected; an input in a geographic CRS (degrees) is projected to British National Grid (UTM outside Great Britain) with a warning. The input layers are never modified.</p>
<h3>Bad input</h3>
<p>No points, a PIXEL_SIZE or BANDWIDTH that is not a positive number, all points at one place with an automatic bandwidth, OUTPUT_RELATIVE without REFERENCE, excluding stacks without a cc_stack field: clear errors. A raster that would not fit in memory is refused with the size it would need.</p>
<p>References: Silverman (1986) <i>Density Estimation for Statistics and Data Analysis</i>, eq. 4.5 and §4.2.1; Wand (1994) JCGS 3(4); ArcGIS Pro "How Kernel Density works".</p>"""

    INPUT = "INPUT"
    BANDWIDTH = "BANDWIDTH"
    PIXEL_SIZE = "PIXEL_SIZE"
    KERNEL = "KERNEL"
    WEIGHT_FIELD = "WEIGHT_FIELD"
    STACKS = "STACKS"
    OUTPUT_VALUES = "OUTPUT_VALUES"
    EXTENT = "EXTENT"
    TEMPLATE = "TEMPLATE"
    REFERENCE = "REFERENCE"
    MIN_REFERENCE = "MIN_REFERENCE"
    OUTPUT = "OUTPUT"
    OUTPUT_RELATIVE = "OUTPUT_RELATIVE"
    BANDWIDTH_USED = "BANDWIDTH_USED"
    N_POINTS = "N_POINTS"
    TOTAL = "TOTAL"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        double = QgsProcessingParameterNumber.Double
        self.addParameter(QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Firm points"), [QgsProcessing.TypeVectorPoint]))
        # no minValue on the two numbers: a bad value gets this algorithm's explicit message, not a generic one
        self.addParameter(QgsProcessingParameterNumber(self.BANDWIDTH, self.tr("Bandwidth in metres (quartic radius or Gaussian σ; 0 = automatic)"), double, defaultValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(self.PIXEL_SIZE, self.tr("Pixel size in metres"), double, defaultValue=100.0))
        self.addParameter(QgsProcessingParameterEnum(self.KERNEL, self.tr("Kernel"), options=[self.tr(k) for k in KERNEL_NAMES], defaultValue=0))
        self.addParameter(
            QgsProcessingParameterField(
                self.WEIGHT_FIELD, self.tr("Weight field (optional)"), parentLayerParameterName=self.INPUT,
                type=QgsProcessingParameterField.Numeric, optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.STACKS, self.tr("Stacked registered-office addresses"), options=[self.tr(o) for o in STACK_OPTIONS], defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.OUTPUT_VALUES, self.tr("Output values"), options=[self.tr(v) for v in VALUES_NAMES], defaultValue=VALUES_PER_KM2)
        )
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, self.tr("Output extent (default: the points plus the kernel's reach)"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.REFERENCE, self.tr("All firms, for the relative density (optional)"), [QgsProcessing.TypeVectorPoint], optional=True
            )
        )
        template = QgsProcessingParameterRasterLayer(self.TEMPLATE, self.tr("Template raster (grid and CRS to use)"), optional=True)
        min_reference = QgsProcessingParameterNumber(
            self.MIN_REFERENCE, self.tr("Minimum all-firm density for the relative density (firm kernel peaks)"), double,
            defaultValue=DEFAULT_MIN_REFERENCE, minValue=0.0,
        )
        for parameter in (template, min_reference):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Density")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT_RELATIVE, self.tr("Relative density (input / all firms)"), optional=True, createByDefault=False)
        )
        self.addOutput(QgsProcessingOutputNumber(self.BANDWIDTH_USED, self.tr("Bandwidth used (m)")))
        self.addOutput(QgsProcessingOutputNumber(self.N_POINTS, self.tr("Points used")))
        self.addOutput(QgsProcessingOutputNumber(self.TOTAL, self.tr("Total weight (integral of the surface)")))

    # --- helpers ----------------------------------------------------------------------------------
    def _weights(self, xy, attributes, weight_field, stacks, feedback, label):
        """Weights per point from the weight field and the STACKS choice (0 = left out)."""
        weights = np.ones(len(xy))
        if weight_field:
            raw = attributes[weight_field]
            try:
                values = np.array([np.nan if v is None else float(v) for v in raw], dtype=float)
            except (TypeError, ValueError):
                example = next((v for v in raw if v is not None), "")
                raise QgsProcessingException(
                    f"The weight field '{weight_field}' holds text (e.g. '{example}'), not numbers: choose a numeric "
                    "field such as employees, or no weight field."
                ) from None
            missing = ~np.isfinite(values)
            if missing.any():
                feedback.pushWarning(f"{int(missing.sum()):,} {label} have a NULL '{weight_field}': they are left out.")
            if (values[~missing] < 0).any():
                raise QgsProcessingException(
                    f"{int((values[~missing] < 0).sum()):,} {label} have a negative '{weight_field}': weights must be 0 or more."
                )
            weights = np.where(missing, 0.0, values)
        flagged = attributes.get(STACK_FIELD) if stacks == STACK_EXCLUDE else None
        try:
            keep, stack_weights = apply_stack_choice(xy, stacks, flagged=flagged, keep=weights > 0)
        except ValueError as error:
            raise QgsProcessingException(str(error)) from error
        if stacks == STACK_EXCLUDE:
            feedback.pushInfo(f"{int((weights > 0).sum() - keep.sum()):,} {label} flagged cc_stack are excluded.")
        return np.where(keep, weights * stack_weights, 0.0)

    def _template_grid(self, layer):
        if layer.crs().isValid() and layer.crs().isGeographic():
            raise QgsProcessingException("The template raster is in a geographic CRS (degrees): use a projected template.")
        extent = layer.extent()
        width, height = layer.width(), layer.height()
        if width <= 0 or height <= 0:
            raise QgsProcessingException("The template raster is empty.")
        return Grid(
            extent.xMinimum(), extent.yMaximum(), extent.width() / width, extent.height() / height, height, width,
        )

    @staticmethod
    def _check_tif(path, name):
        if not str(path).lower().endswith((".tif", ".tiff")):
            raise QgsProcessingException(f"{name} is written as a GeoTIFF: give it a .tif file name (got {path}).")

    # --- running ----------------------------------------------------------------------------------
    def execute(self, parameters, context, feedback):
        bandwidth = self.parameterAsDouble(parameters, self.BANDWIDTH, context)
        pixel_size = self.parameterAsDouble(parameters, self.PIXEL_SIZE, context)
        kernel = self.parameterAsEnum(parameters, self.KERNEL, context)
        units = self.parameterAsEnum(parameters, self.OUTPUT_VALUES, context)
        stacks = self.parameterAsEnum(parameters, self.STACKS, context)
        weight_fields = self.parameterAsFields(parameters, self.WEIGHT_FIELD, context)
        weight_field = weight_fields[0] if weight_fields else None
        min_reference = self.parameterAsDouble(parameters, self.MIN_REFERENCE, context)
        template = self.parameterAsRasterLayer(parameters, self.TEMPLATE, context)
        if template is None and not (math.isfinite(pixel_size) and pixel_size > 0):
            raise QgsProcessingException(f"PIXEL_SIZE must be a positive number of metres (got {pixel_size:g}).")
        if not (math.isfinite(bandwidth) and bandwidth >= 0):
            raise QgsProcessingException(f"BANDWIDTH must be 0 (automatic) or a positive number of metres (got {bandwidth:g}).")

        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        out_path, relative_path, reference_source = self._outputs(parameters, context, feedback)
        grid, crs = self._analysis_grid(template, source, feedback)
        if stacks == STACK_EXCLUDE and source.fields().lookupField(STACK_FIELD) < 0:
            raise QgsProcessingException(
                "Excluding stacked addresses needs the 'cc_stack' field: run 'Flag stacked addresses' first."
            )
        fields = ([weight_field] if weight_field else []) + ([STACK_FIELD] if stacks == STACK_EXCLUDE else [])
        feedback.pushInfo("Reading the firm points…")
        xy, attributes = self.read_points(parameters, self.INPUT, context, source, crs, feedback, fields, (0, 30))
        if len(xy) == 0:
            raise QgsProcessingException("The input layer has no points (with a geometry): there is nothing to map.")
        weights = self._weights(xy, attributes, weight_field, stacks, feedback, "firms")
        if not (weights > 0).any():
            raise QgsProcessingException("No point is left with a positive weight: there is nothing to map.")

        extent = None
        if grid is None and parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, crs)
            if not rect.isNull() and not rect.isEmpty():
                extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        result = kernel_density(
            xy, weights, bandwidth=bandwidth, pixel_size=pixel_size, kernel=kernel, units=units, grid=grid,
            extent=extent, callback=self.progress_callback(feedback, 30, 60),
        )
        kernel_label = self._log_density(feedback, result, kernel)
        crs_wkt = crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL) if crs.isValid() else None
        self.check_cancel(feedback)
        write_geotiff(
            out_path, result.values, result.grid, crs_wkt, nodata=DEFAULT_NODATA,
            description=f"Kernel density ({kernel_label}), firms {result.unit_label}",
            tags={"bandwidth_m": f"{result.bandwidth:.3f}", "kernel": KERNEL_NAMES[kernel], "units": VALUES_NAMES[units],
                  "n_points": result.n_points, "total_weight": f"{result.total_weight:.6f}"},
        )
        feedback.setProgress(75)
        self.style_output_on_load(context, out_path, "density")
        outputs = {
            self.OUTPUT: out_path,
            self.BANDWIDTH_USED: result.bandwidth,
            self.N_POINTS: result.n_points,
            self.TOTAL: result.total_weight,
        }
        if reference_source is not None:
            self._relative_density(parameters, context, feedback, reference_source, crs, crs_wkt, result, kernel,
                                   kernel_label, units, weight_field, stacks, min_reference, relative_path)
            outputs[self.OUTPUT_RELATIVE] = relative_path
        feedback.setProgress(100)
        return outputs

    def _outputs(self, parameters, context, feedback):
        """``(density path, relative density path or "", reference source or None)``, checked."""
        reference_source = self.parameterAsSource(parameters, self.REFERENCE, context)
        out_path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        self._check_tif(out_path, "The density raster")
        relative_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_RELATIVE, context) if parameters.get(self.OUTPUT_RELATIVE) else ""
        if relative_path and reference_source is None:
            raise QgsProcessingException("The relative density needs the layer of all firms (REFERENCE).")
        if relative_path:
            self._check_tif(relative_path, "The relative density raster")
        if reference_source is not None and not relative_path:
            feedback.pushWarning("All firms (REFERENCE) were given but no relative density output (OUTPUT_RELATIVE) was asked for.")
            reference_source = None
        return out_path, relative_path, reference_source

    def _analysis_grid(self, template, source, feedback):
        """``(grid or None, CRS)``: the template raster's grid and CRS, or none (the core makes one) and the
        analysis CRS of the input."""
        if template is None:
            return None, self.analysis_crs_for(source, feedback)
        grid = self._template_grid(template)
        crs = template.crs() if template.crs().isValid() else source.sourceCrs()
        if not template.crs().isValid():
            feedback.pushWarning(
                f"The template raster has no CRS: its grid is taken to be in the input's CRS "
                f"({source.sourceCrs().authid() or 'unknown'}). Set the raster's CRS if the surface lands in the "
                "wrong place."
            )
        feedback.pushInfo(
            f"Template grid: {grid.height:,} × {grid.width:,} cells of {grid.cell_width:g} m, "
            f"{crs.authid() or crs.description()} (EXTENT and PIXEL_SIZE are not used)."
        )
        if source.sourceCrs().isValid() and source.sourceCrs().isGeographic():
            feedback.pushWarning(
                f"The input is in a geographic CRS ({source.sourceCrs().authid()}): it is projected to the template's CRS."
            )
        return grid, crs

    @staticmethod
    def _log_density(feedback, result, kernel) -> str:
        """Log the surface (and an automatic bandwidth); returns the kernel's label for descriptions."""
        for message in result.warnings:
            feedback.pushWarning(message)
        if result.bandwidth_details:
            d = result.bandwidth_details
            feedback.pushInfo(
                f"Automatic bandwidth (ArcGIS Pro's rule): standard distance {d['sd']:,.0f} m, median distance "
                f"{d['dm']:,.0f} m, n = {d['n']:,.1f} → radius {d['radius']:,.0f} m"
                + (f", Gaussian σ = radius / √8 = {result.bandwidth:,.0f} m." if kernel == GAUSSIAN else ".")
            )
        grid = result.grid
        kernel_label = f"{KERNEL_NAMES[kernel].split()[0].lower()} kernel, {'σ' if kernel == GAUSSIAN else 'radius'} {result.bandwidth:,.0f} m"
        feedback.pushInfo(
            f"Density of {result.n_points:,} points (total weight {result.total_weight:,.2f}), {kernel_label}, on "
            f"{grid.height:,} × {grid.width:,} cells of {grid.cell_width:g} m; the surface integrates to "
            f"{result.integral:,.2f}; maximum {float(result.values.max()):,.3f} {result.unit_label}."
        )
        return kernel_label

    def _relative_density(self, parameters, context, feedback, reference_source, crs, crs_wkt, result, kernel,
                          kernel_label, units, weight_field, stacks, min_reference, relative_path):
        """The input's density over that of all firms (REFERENCE) on the same grid, written to ``relative_path``."""
        ref_fields = []
        if weight_field:
            if reference_source.fields().lookupField(weight_field) >= 0:
                ref_fields.append(weight_field)
            else:
                feedback.pushWarning(f"All firms (REFERENCE) have no '{weight_field}' field: each counts as 1.")
        ref_stacks = stacks
        if stacks == STACK_EXCLUDE:
            if reference_source.fields().lookupField(STACK_FIELD) >= 0:
                ref_fields.append(STACK_FIELD)
            else:
                feedback.pushWarning("All firms (REFERENCE) have no 'cc_stack' field: none of them is excluded.")
                ref_stacks = 0
        feedback.pushInfo("Reading all firms (REFERENCE)…")
        ref_xy, ref_attributes = self.read_points(
            parameters, self.REFERENCE, context, reference_source, crs, feedback, ref_fields, (75, 85)
        )
        if len(ref_xy) == 0:
            raise QgsProcessingException("The layer of all firms (REFERENCE) has no points.")
        ref_weights = self._weights(
            ref_xy, ref_attributes, weight_field if weight_field in ref_fields else None, ref_stacks, feedback, "reference firms"
        )
        reference = kernel_density(
            ref_xy, ref_weights, bandwidth=result.bandwidth, kernel=kernel, units=units, grid=result.grid,
            callback=self.progress_callback(feedback, 85, 92),
        )
        ratio, masked = relative_density(result, reference, min_reference)
        finite = ratio[np.isfinite(ratio)]
        feedback.pushInfo(
            f"Relative density: masked (nodata) on {100 * masked:.1f} % of the cells, where all firms amount to less "
            f"than {min_reference:g} firm kernel peaks"
            + (f"; elsewhere from {finite.min():.3f} to {finite.max():.3f}, median {np.median(finite):.3f}." if finite.size else
               "; no cell is left: lower MIN_REFERENCE or use a larger bandwidth.")
        )
        write_geotiff(
            relative_path, ratio, result.grid, crs_wkt, nodata=DEFAULT_NODATA,
            description=f"Relative density (input / all firms, {kernel_label})",
            tags={"bandwidth_m": f"{result.bandwidth:.3f}", "min_reference": f"{min_reference:g}"},
        )
        self.style_output_on_load(context, relative_path, "density")


ALGORITHM = Density
