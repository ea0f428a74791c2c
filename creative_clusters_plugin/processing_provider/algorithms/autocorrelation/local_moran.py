"""creativeclusters:localmoran — Anselin local Moran's I cluster and outlier analysis (thin adapter)."""

from __future__ import annotations

import numpy as np

from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterEnum

from ....core.autocorrelation.local_moran import INDEX_ARCGIS, INDEX_CONVENTION_LABELS, INDEX_ESDA, local_moran
from ...base_algorithm import field
from ...local_statistic import INPUT_HELP, WEIGHTS_HELP, LocalStatisticAlgorithm


class LocalMoran(LocalStatisticAlgorithm):
    STATISTIC = "Local Moran's I"
    OUTPUT_DESCRIPTION = "Clusters and outliers (local Moran)"
    ALGORITHM_ID = "localmoran"
    REQUIRES = ("numpy", "scipy", "shapely")
    DISPLAY_NAME = "Cluster and outlier analysis (Anselin local Moran's I)"
    TAGS = "local moran,lisa,anselin,cluster,outlier,hh,ll,hl,lh,cotype,permutation,fdr,arcgis"
    DEFAULT_PERMUTATIONS = 999
    HELP = (
        """<p>Finds statistically significant <b>clusters</b> of high values (HH) and low values (LL) and <b>spatial outliers</b> — a high value among low ones (HL) or a low value among high ones (LH) — with Anselin's (1995) local Moran's I, as ArcGIS Pro's <i>Cluster and Outlier Analysis</i> and GeoDa do:</p>
<p>I<sub>i</sub> = z<sub>i</sub> / S<sub>i</sub>² · Σ<sub>j≠i</sub> w<sub>ij</sub> z<sub>j</sub>, &nbsp; z = x − x̄, &nbsp; S<sub>i</sub>² = Σ<sub>j≠i</sub> z<sub>j</sub>² / (n − 1)</p>
<p>with row-standardised weights and the feature itself excluded — ArcGIS Pro's documented formula, whose variance S<sub>i</sub>² leaves feature i out (default). With INDEX_CONVENTION = 1 the variance is one over all features, m<sub>2</sub> = Σ<sub>k</sub> z<sub>k</sub>² / (n − 1): the index PySAL esda's <code>Moran_Local</code> and GeoDa report.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input features</b> (INPUT): polygons or points.</li>
<li><b>Analysis field</b> (FIELD): a numeric field. Negative values are allowed.</li>
"""
        + WEIGHTS_HELP
        + """
<li><b>Permutations</b> (PERMUTATIONS, default 999; 0 = analytic only): conditional permutation test — each feature's value is held fixed and its neighbours are drawn without replacement from the other n − 1 values, R times. The pseudo p-value follows SIGNIFICANCE (default: GeoDa's and esda's folded (min(M, R − M) + 1)/(R + 1), M the permutations whose I is at least the observed one, compared with α directly; or two-sided, conservative). An unusually high I is a cluster (HH, LL), an unusually low one an outlier (HL, LH): the type follows the tail the p-value comes from. Results do not depend on the order the features arrive in. Memory stays proportional to the number of features and links.</li>
<li><b>Pseudo p-value convention</b> (SIGNIFICANCE): 0 — folded pseudo p compared with α, ties at least as extreme (GeoDa, esda, ArcGIS Pro; default); 1 — two-sided, ties on both sides (conservative).</li>
<li><b>Index convention</b> (INDEX_CONVENTION, advanced): <i>0 — ArcGIS Pro</i> (default): I<sub>i</sub> divided by S<sub>i</sub>², the variance of the other n − 1 features around the mean, and the z-score from ArcGIS's moments E[I<sub>i</sub>] = −w<sub>i</sub>/(n − 1), V[I<sub>i</sub>] = w<sub>i(2)</sub>(n − b<sub>2i</sub>)/(n − 1) + (w<sub>i</sub>² − w<sub>i(2)</sub>)(2b<sub>2i</sub> − n)/((n − 1)(n − 2)) − E[I<sub>i</sub>]², b<sub>2i</sub> = (n − 1) Σ<sub>j≠i</sub> z<sub>j</sub>⁴ / (Σ<sub>j≠i</sub> z<sub>j</sub>²)²; <i>1 — esda / GeoDa</i>: one variance over all features, the index esda and GeoDa report, and the z-score from Anselin's (1995) moments with the sample kurtosis. The two indices differ by a positive factor per feature (Σ<sub>k</sub> z<sub>k</sub>² / Σ<sub>j≠i</sub> z<sub>j</sub>²), so signs, pseudo p-values and COTypes are the same; LMiIndex and LMiZScore differ. The log says which one ran.</li>
<li><b>Random seed</b> (SEED, default 1): the same seed gives the same result.</li>
<li><b>Apply false discovery rate correction</b> (FDR, default no): Benjamini–Hochberg at 0.05 decides which features get a COType.</li>
</ul>
<h3>Output</h3>
<p>The input features with their fields plus:</p>
<ul>
<li><b>LMiIndex</b>: local Moran's I in the INDEX_CONVENTION's scaling;</li>
<li><b>LMiZScore</b>: analytic z-score under randomisation (Anselin 1995; moments as Sokal et al. 1998 eqs. A3–A4 — ArcGIS Pro's, with the kurtosis of the other n − 1 features, by default);</li>
<li><b>LMiPValue</b>: the pseudo p-value when PERMUTATIONS &gt; 0, else the two-sided normal p-value of LMiZScore;</li>
<li><b>NNeighbors</b>: number of neighbours (the feature itself not counted);</li>
<li><b>COType</b>: HH, LL, HL or LH where LMiPValue ≤ 0.05 (FDR-adjusted when asked), empty otherwise. A feature whose value equals the mean is never significant.</li>
</ul>
<p>The output loads styled by COType (HH red, LL blue, outliers light).</p>
<h3>Bad input</h3>
<p>Fewer than 3 features with a value: error. Fewer than 30: warning. All values equal: error. Features with no neighbour (islands): NULL results and a warning; if no feature has a neighbour: error. Contiguity weights on points: error.</p>
"""
        + INPUT_HELP
        + """<p>References: Anselin (1995) "Local indicators of spatial association — LISA", <i>Geographical Analysis</i> 27(2); Sokal, Oden &amp; Thomson (1998) <i>Geographical Analysis</i> 30(4); ArcGIS Pro "How Cluster and Outlier Analysis (Anselin Local Moran's I) works".</p>"""
    )

    INDEX_CONVENTION = "INDEX_CONVENTION"

    def add_statistic_parameters(self):
        parameter = QgsProcessingParameterEnum(
            self.INDEX_CONVENTION, self.tr("Index convention (LMiIndex and LMiZScore)"),
            options=[self.tr(label) for label in INDEX_CONVENTION_LABELS], defaultValue=INDEX_ARCGIS,
        )
        parameter.setHelp(
            self.tr(
                "0 — ArcGIS Pro (default): the index is divided by the variance of the other n − 1 features "
                "(S_i², feature i left out), with ArcGIS's moments for the z-score. 1 — esda / GeoDa: one variance "
                "over all features. Pseudo p-values and COType are the same in both."
            )
        )
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def execute(self, parameters, context, feedback):
        import pandas as pd

        permutations, seed, fdr, significance = self.inference_options(parameters, context)
        convention = self.parameterAsEnum(parameters, self.INDEX_CONVENTION, context)  # the default when absent
        table, keep, values, weights, options = self.read_input(parameters, context, feedback)
        self.log_run(feedback, options["field"], len(values), permutations, seed, fdr, significance)
        feedback.pushInfo(
            "Index convention: "
            + (
                "ArcGIS Pro — I_i = z_i / S_i² · Σ w_ij z_j with S_i² = Σ_{j≠i} z_j² / (n − 1), feature i left out."
                if convention == INDEX_ARCGIS
                else "esda / GeoDa — I_i = z_i / m2 · Σ w_ij z_j with m2 = Σ z² / (n − 1) over all features."
            )
        )
        result = local_moran(
            values, weights, permutations=permutations, seed=seed, fdr=fdr, significance=significance,
            index_convention=INDEX_ESDA if convention == INDEX_ESDA else INDEX_ARCGIS,
            callback=self.progress_callback(feedback, 25, 90),
        )
        order = options["order"]
        for message in result.warnings:
            feedback.pushWarning(message)
        self.check_cancel(feedback)
        columns = {
            "LMiIndex": self.expand(keep, result.I, order=order),
            "LMiZScore": self.expand(keep, result.z, order=order),
            "LMiPValue": self.expand(keep, result.reported_p, order=order),
            "NNeighbors": self.expand(keep, result.n_neighbors.astype(object), fill=None, order=order),
            "COType": self.expand(keep, result.cotype, fill=None, order=order),
        }
        fields = [
            field("LMiIndex", "double"),
            field("LMiZScore", "double"),
            field("LMiPValue", "double"),
            field("NNeighbors", "int"),
            field("COType", "string", 2),
        ]
        labels = result.cotype[result.cotype != None]  # noqa: E711 - object array
        summary = ", ".join(f"{label} {int(np.count_nonzero(labels == label))}" for label in ("HH", "LL", "HL", "LH"))
        feedback.pushInfo(
            f"Significant at 95 %{' (FDR)' if fdr else ''}: {summary}; not significant: "
            f"{int(np.count_nonzero(labels == ''))}."
        )
        dest_id = self.write_table(
            parameters, self.OUTPUT, context, feedback, table, pd.DataFrame(columns), fields, progress_range=(90, 100)
        )
        self.style_output_on_load(context, dest_id, "cotype")
        return {self.OUTPUT: dest_id}


ALGORITHM = LocalMoran
