"""creativeclusters:microclusters — DBSCAN/HDBSCAN microclusters of firms with footprints and profiles."""

import numpy as np

from qgis.core import (
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsWkbTypes,
)

from ....core.clustering.microclusters import PROFILE_COLUMNS, microclusters
from ....core.firms.stacking import STACK_EXCLUDE, STACK_DOWNWEIGHT, STACK_OPTIONS, apply_stack_choice
from ....core.firms.subsectors import CODE_BY_NAME, SUBSECTOR_CODES, SUBSECTOR_NAMES, code_for
from ...base_algorithm import CreativeClustersAlgorithm, field

_SUBSECTOR_LIST = ", ".join(f"{name} ({code})" for code, name in zip(SUBSECTOR_CODES, SUBSECTOR_NAMES))


class Microclusters(CreativeClustersAlgorithm):
    ALGORITHM_ID = "microclusters"
    REQUIRES = ('numpy', 'scipy', 'pandas', 'shapely', 'rasterio')
    DISPLAY_NAME = "Creative microclusters (DBSCAN / HDBSCAN)"
    GROUP = "3 · Microclusters and density"
    GROUP_ID = "microclusters"
    TAGS = "microcluster,creative radar,dbscan,hdbscan,density-based clustering,footprint,creative pec"
    HELP = f"""<p>Finds <b>creative microclusters</b> — places where many firms sit close together — as Creative PEC's <i>Creative Radar</i> did (709 UK microclusters of at least 50 creative organisations), and profiles each one.</p>
<h3>Method</h3>
<p><b>DBSCAN</b> (default): a firm with at least MIN_FIRMS clustered firms within EPS metres (itself included) is a <i>core</i> firm; core firms within EPS of each other form one microcluster; a non-core firm within EPS of a core firm joins it (of several, the cluster numbered first by scikit-learn's order); the rest is noise. Labels equal scikit-learn's DBSCAN; the grid algorithm never holds all neighbour lists, so millions of points fit in memory. <b>HDBSCAN</b>: hierarchical DBSCAN over all radii (Campello et al. 2013; min cluster size = min samples = MIN_FIRMS, excess-of-mass selection), for areas of very different densities; EPS is then only used for the footprints. Exact spanning tree up to 25,000 distinct locations, nearest-neighbour + Delaunay candidate graph above (logged).</p>
<p><b>Footprint</b>: the union of discs of radius EPS/2 around the cluster's firms, simplified by EPS/20: it hugs the firms and never bridges empty land (a buffered union rather than a concave hull). A firm is <i>inside</i> a footprint when it lies within EPS/2 of one of the cluster's firms.</p>
<p><b>EPS suggestion</b>: the log reports the knee of the k-distance curve (distance of each clustered firm to its MIN_FIRMS-th nearest firm, Ester et al. 1996) as a starting value when you have no idea, and the share of clustered firms that have MIN_FIRMS firms within the chosen EPS. On sparse regional data the knee lies far out in the tail (South Yorkshire creative firms, MIN_FIRMS 50: about 2.9 km), so treat it as an upper bound: Creative Radar-like microclusters need a few hundred metres.</p>
<h3>Parameters</h3>
<ul>
<li><b>Classified firms</b> (INPUT): points with <i>cc_creative</i> and <i>cc_subsector</i> from <i>Classify firms</i> (and <i>cc_stack</i> from <i>Flag stacked addresses</i> to exclude stacks). A geographic CRS is projected with a warning; firms without geometry are skipped.</li>
<li><b>Firms to cluster</b> (FILTER): 0 creative firms (default), 1 one sub-sector named in SUBSECTOR, 2 all firms.</li>
<li><b>Sub-sector</b> (SUBSECTOR): name or code, for FILTER = 1: {_SUBSECTOR_LIST}.</li>
<li><b>Method</b> (METHOD): 0 DBSCAN, 1 HDBSCAN.</li>
<li><b>EPS</b> (EPS, metres, default 250): DBSCAN radius and footprint disc diameter; must be &gt; 0.</li>
<li><b>Minimum firms</b> (MIN_FIRMS, default 50 as Creative Radar; at least 2).</li>
<li><b>Stacked addresses</b> (STACKS): 0 keep every firm (default); 1 down-weight: each firm at an address (identical coordinates) of n firms counts 1/n (DBSCAN weights; HDBSCAN clusters one point per address); 2 exclude the firms flagged cc_stack (they are dropped before clustering and profiling).</li>
</ul>
<h3>Outputs</h3>
<ul>
<li><b>Clustered firms</b> (OUTPUT_POINTS): exactly the firms that entered the clustering, with <b>cc_cluster_id</b> (1, 2, … by decreasing size; −1 noise).</li>
<li><b>Microclusters</b> (OUTPUT_CLUSTERS): one polygon per microcluster, in the analysis CRS, with cc_cluster_id, <b>n_members</b> (clustered firms in it), <b>n_firms</b> (all input firms inside the footprint), <b>n_creative</b>, <b>n_&lt;code&gt;</b> and <b>share_&lt;code&gt;</b> for the nine sub-sectors (creative firms inside the footprint, share of n_creative), <b>dominant_subsector</b> (full name), <b>herfindahl</b> (Σ share², 1 = a single sub-sector), <b>lq_creative</b> ((n_creative / n_firms) / creative share of the whole input), <b>median_inc_year</b> and <b>n_recent</b> (members incorporated in the 3 years up to the latest incorporation date of the input; from IncorporationDate, ISO or DD/MM/YYYY, when present), <b>area_ha</b>, <b>density_ha</b> (members per hectare). With STACKS = 1 counts are weighted sums.</li>
</ul>"""

    INPUT = "INPUT"
    FILTER = "FILTER"
    SUBSECTOR = "SUBSECTOR"
    METHOD = "METHOD"
    EPS = "EPS"
    MIN_FIRMS = "MIN_FIRMS"
    STACKS = "STACKS"
    OUTPUT_POINTS = "OUTPUT_POINTS"
    OUTPUT_CLUSTERS = "OUTPUT_CLUSTERS"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Classified firms (points)"), [QgsProcessing.TypeVectorPoint])
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FILTER, self.tr("Firms to cluster"),
                options=[self.tr("Creative firms"), self.tr("One sub-sector (SUBSECTOR)"), self.tr("All firms")],
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(self.SUBSECTOR, self.tr("Sub-sector (name or code, for 'one sub-sector')"),
                                         defaultValue="", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.METHOD, self.tr("Method"), options=["DBSCAN", "HDBSCAN"], defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.EPS, self.tr("EPS: neighbourhood radius (metres)"),
                                         QgsProcessingParameterNumber.Double, defaultValue=250.0)
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.MIN_FIRMS, self.tr("Minimum firms"),
                                         QgsProcessingParameterNumber.Integer, defaultValue=50)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.STACKS, self.tr("Stacked registered-office addresses"),
                                       options=[self.tr(o) for o in STACK_OPTIONS], defaultValue=0)
        )
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT_POINTS, self.tr("Clustered firms")))
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.OUTPUT_CLUSTERS, self.tr("Microclusters"), QgsProcessing.TypeVectorPolygon)
        )

    def execute(self, parameters, context, feedback):
        import pandas as pd

        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        eps = self.parameterAsDouble(parameters, self.EPS, context)
        if not eps > 0:
            raise QgsProcessingException(f"EPS (the neighbourhood radius) must be greater than 0 metres; got {eps:g}.")
        min_firms = self.parameterAsInt(parameters, self.MIN_FIRMS, context)
        if min_firms < 2:
            raise QgsProcessingException(f"The minimum number of firms must be at least 2; got {min_firms}.")
        filter_choice = self.parameterAsEnum(parameters, self.FILTER, context)
        method = self.parameterAsEnum(parameters, self.METHOD, context)
        stacks = self.parameterAsEnum(parameters, self.STACKS, context)
        names = self.field_names(source)
        _check_fields(names, stacks)
        subsector_code = self._subsector_code(parameters, context) if filter_choice == 1 else None

        wanted = ["cc_creative", "cc_subsector"] + [f for f in ("cc_stack", "IncorporationDate") if f in names]
        table = self.read_table(source, feedback, fields=wanted, progress_range=(0, 20), parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no firms with a geometry: there is nothing to cluster.")
        frame = table.frame
        flagged = frame["cc_stack"].tolist() if "cc_stack" in frame else None
        keep, weights = apply_stack_choice(table.xy, stacks, flagged)
        if stacks == STACK_EXCLUDE:
            feedback.pushInfo(f"{int((~keep).sum())} firms at stacked addresses excluded.")
        if not keep.any():
            raise QgsProcessingException("Every firm is flagged cc_stack: nothing is left to cluster.")
        creative = frame["cc_creative"].fillna(False).astype(bool).to_numpy()
        codes = np.array([CODE_BY_NAME.get(v) if isinstance(v, str) else None for v in frame["cc_subsector"]], dtype=object)
        clustered, what = _firms_to_cluster(filter_choice, creative, codes, subsector_code, keep)
        # Python dates or texts already (the base class converts QGIS's dates while reading)
        dates = frame["IncorporationDate"].to_numpy(dtype=object) if "IncorporationDate" in frame else None
        if dates is None:
            feedback.pushWarning(
                "The firms have no IncorporationDate field: median_inc_year and n_recent are left empty (NULL), "
                "not zero."
            )
        idx = np.flatnonzero(keep)
        result = microclusters(
            table.xy[idx], creative[idx], codes[idx], clustered[idx], eps, min_firms, method=method,
            weights=weights[idx] if stacks == STACK_DOWNWEIGHT else None,
            incorporation_dates=None if dates is None else dates[idx],
            callback=self.progress_callback(feedback, 20, 80),
        )
        _log_result(feedback, result, eps, min_firms, method, what, clustered[idx])
        labels_all = np.full(len(frame), -1, dtype=np.int64)
        labels_all[idx] = result.labels
        points_id = self.write_table(
            parameters, self.OUTPUT_POINTS, context, feedback, table,
            pd.DataFrame({"cc_cluster_id": labels_all}), [field("cc_cluster_id", "int")],
            keep=clustered, progress_range=(80, 92),
        )
        self.style_output_on_load(context, points_id, "classified_firms")

        integer = stacks != STACK_DOWNWEIGHT
        profiles = result.profiles
        clusters_id = self.write_geometries(parameters, self.OUTPUT_CLUSTERS, context, feedback, _cluster_fields(integer),
                                            QgsWkbTypes.MultiPolygon, table.analysis_crs,
                                            _cluster_rows(profiles, result.footprints, integer))
        self.style_output_on_load(context, clusters_id, "microclusters")
        for row in profiles.head(10).itertuples(index=False):
            feedback.pushInfo(
                f"  microcluster {row.cc_cluster_id}: {row.n_members:g} firms, {row.dominant_subsector}, "
                f"LQ {row.lq_creative:.2f}, {row.area_ha:.1f} ha"
            )
        feedback.setProgress(100)
        return {self.OUTPUT_POINTS: points_id, self.OUTPUT_CLUSTERS: clusters_id}

    def _subsector_code(self, parameters, context):
        """The sub-sector code named (by name or code) in SUBSECTOR."""
        text = self.parameterAsString(parameters, self.SUBSECTOR, context)
        try:
            return code_for(text)
        except KeyError as error:
            raise QgsProcessingException(str(error).strip("'\"")) from error


#: profile columns that count firms (integers unless the firms are down-weighted)
_COUNT_COLUMNS = {"n_members", "n_firms", "n_creative", "n_recent"} | {f"n_{c}" for c in SUBSECTOR_CODES}


def _check_fields(names, stacks):
    """Refuse a firms layer without the classification fields, or without cc_stack when stacks are excluded."""
    for required in ("cc_creative", "cc_subsector"):
        if required not in names:
            raise QgsProcessingException(f"The firms layer has no '{required}' field: run 'Classify firms' on it first.")
    if stacks == STACK_EXCLUDE and "cc_stack" not in names:
        raise QgsProcessingException(
            "Excluding stacked addresses needs the 'cc_stack' field: run 'Flag stacked addresses' first."
        )


def _firms_to_cluster(filter_choice, creative, codes, subsector_code, keep):
    """Mask of the firms FILTER selects among those kept, and what to call them in the log."""
    if filter_choice == 0:
        clustered = creative.copy()
        what = "creative firms"
    elif filter_choice == 1:
        clustered = creative & (codes == subsector_code)
        what = f"{subsector_code} firms"
    else:
        clustered = np.ones(len(creative), dtype=bool)
        what = "firms"
    clustered &= keep
    if not clustered.any():
        raise QgsProcessingException(f"No {what} in the input (after the stacked-address choice): nothing to cluster.")
    return clustered, what


def _log_result(feedback, result, eps, min_firms, method, what, clustered_kept):
    """Log the clustering's warnings, the EPS suggestion and how many firms fell in microclusters."""
    for warning in result.warnings:
        feedback.pushWarning(warning)
    if result.eps_suggestion is not None:
        feedback.pushInfo(
            f"EPS suggestion: {result.eps_suggestion:.0f} m, the knee of the k-distance curve of the distinct "
            f"locations (distance to the {min_firms}-th nearest), kept within 50–1,000 m; EPS used {eps:g} m, "
            f"within which {100 * result.within_eps_share:.1f} % of the clustered firms have {min_firms} firms "
            "(potential core firms)."
        )
    k = len(result.profiles)
    feedback.pushInfo(
        f"{result.n_clustered} {what} clustered with {'DBSCAN' if method == 0 else 'HDBSCAN'} "
        f"(EPS {eps:g} m, minimum {min_firms}): {k} microcluster(s), "
        f"{int((result.labels[clustered_kept] < 0).sum())} firms in none."
    )


def _cluster_fields(integer):
    """Fields of the microclusters output: counts as integers (or doubles when weighted), the name as text."""
    fields = QgsFields()
    fields.append(field("cc_cluster_id", "int"))
    for column in PROFILE_COLUMNS:
        if column in _COUNT_COLUMNS:
            fields.append(field(column, "int" if integer else "double"))
        elif column == "dominant_subsector":
            fields.append(field(column, "string", 60))
        else:
            fields.append(field(column, "double"))
    return fields


def _cluster_rows(profiles, footprints, integer):
    """(multipolygon, attributes) per microcluster, counts rounded to integers unless weighted."""
    for row, shape in zip(profiles.itertuples(index=False), footprints):
        values = list(row)
        attrs = []
        for name, value in zip(["cc_cluster_id"] + PROFILE_COLUMNS, values):
            if name == "cc_cluster_id" or (integer and name in _COUNT_COLUMNS):
                attrs.append(int(round(float(value))) if np.isfinite(float(value)) else None)
            else:
                attrs.append(value)
        geometry = QgsGeometry()
        geometry.fromWkb(shape.wkb)
        geometry.convertToMultiType()
        yield geometry, attrs


ALGORITHM = Microclusters
