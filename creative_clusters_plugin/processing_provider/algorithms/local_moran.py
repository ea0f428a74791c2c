"""creativeclusters:localmoran — Anselin local Moran's I cluster and outlier analysis (thin adapter)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.local_moran import local_moran
from ..base_algorithm import field
from .hotspots import INPUT_HELP, WEIGHTS_HELP, LocalStatisticAlgorithm


class LocalMoran(LocalStatisticAlgorithm):
    STATISTIC = "Local Moran's I"
    OUTPUT_DESCRIPTION = "Clusters and outliers (local Moran)"
    ALGORITHM_ID = "localmoran"
    DISPLAY_NAME = "Cluster and outlier analysis (Anselin local Moran's I)"
    TAGS = "local moran,lisa,anselin,cluster,outlier,hh,ll,hl,lh,cotype,permutation,fdr,arcgis"
    DEFAULT_PERMUTATIONS = 999
    HELP = (
        """<p>Finds statistically significant <b>clusters</b> of high values (HH) and low values (LL) and <b>spatial outliers</b> — a high value among low ones (HL) or a low value among high ones (LH) — with Anselin's (1995) local Moran's I, as ArcGIS Pro's <i>Cluster and Outlier Analysis</i> and GeoDa do:</p>
<p>I<sub>i</sub> = z<sub>i</sub> / m<sub>2</sub> · Σ<sub>j</sub> w<sub>ij</sub> z<sub>j</sub>, &nbsp; z = x − x̄, &nbsp; m<sub>2</sub> = Σ z² / (n − 1)</p>
<p>with row-standardised weights and the feature itself excluded. This is the index PySAL esda's <code>Moran_Local</code> reports.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input features</b> (INPUT): polygons or points.</li>
<li><b>Analysis field</b> (FIELD): a numeric field. Negative values are allowed.</li>
"""
        + WEIGHTS_HELP
        + """
<li><b>Permutations</b> (PERMUTATIONS, default 999; 0 = analytic only): conditional permutation test — each feature's value is held fixed and its neighbours are drawn without replacement from the other n − 1 values, R times. The pseudo p-value follows SIGNIFICANCE (default: GeoDa's and esda's folded (min(M, R − M) + 1)/(R + 1), M the permutations whose I is at least the observed one, compared with α directly; or two-sided, conservative). An unusually high I is a cluster (HH, LL), an unusually low one an outlier (HL, LH): the type follows the tail the p-value comes from. Results do not depend on the order the features arrive in. Memory stays proportional to the number of features and links.</li>
<li><b>Pseudo p-value convention</b> (SIGNIFICANCE): 0 — folded pseudo p compared with α, ties at least as extreme (GeoDa, esda, ArcGIS Pro; default); 1 — two-sided, ties on both sides (conservative).</li>
<li><b>Random seed</b> (SEED, default 1): the same seed gives the same result.</li>
<li><b>Apply false discovery rate correction</b> (FDR, default no): Benjamini–Hochberg at 0.05 decides which features get a COType.</li>
</ul>
<h3>Output</h3>
<p>The input features with their fields plus:</p>
<ul>
<li><b>LMiIndex</b>: local Moran's I;</li>
<li><b>LMiZScore</b>: analytic z-score under total randomisation (Anselin 1995; moments as Sokal et al. 1998 eqs. A3–A4, with the sample kurtosis);</li>
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

    def execute(self, parameters, context, feedback):
        permutations, seed, fdr, significance = self.inference_options(parameters, context)
        table, keep, values, weights, options = self.read_input(parameters, context, feedback)
        self.log_run(feedback, options["field"], len(values), permutations, seed, fdr, significance)
        result = local_moran(
            values, weights, permutations=permutations, seed=seed, fdr=fdr, significance=significance,
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
