"""creativeclusters:flagstacks — registered-office stacking (formation agents, accountants) (thin adapter)."""

import numpy as np

from qgis.core import (
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)

from ....core.firms.stacking import DEFAULT_STACK_THRESHOLD, DEFAULT_STACK_Z, flag_stacks
from ...base_algorithm import CreativeClustersAlgorithm, field


class FlagStacks(CreativeClustersAlgorithm):
    ALGORITHM_ID = "flagstacks"
    REQUIRES = ('numpy', 'pandas')
    DISPLAY_NAME = "Flag stacked registered-office addresses"
    GROUP = "1 · Prepare firms"
    GROUP_ID = "prepare"
    TAGS = "stack,registered office,formation agent,accountant,companies house,postcode,outlier,mad"
    HELP = f"""<p>Companies House gives each company's <b>registered office</b>, not where it trades. Formation agents, accountants and virtual offices hold hundreds of companies at one postcode; left in, they make spurious hot spots and microclusters. This tool flags the firms at addresses holding an <b>anomalous number of firms</b> (field <b>cc_stack</b>) so that <i>Microclusters</i>, <i>Density</i> and <i>Location quotients</i> can keep, down-weight or exclude them (their STACKS parameter).</p>
<h3>Rule</h3>
<ol>
<li><b>Address</b>: the normalised postcode (upper case, one space: <i>s119pa</i> and <i>S11 9PA</i> are one address) when a postcode field is chosen; otherwise — and for firms with a blank or invalid postcode — identical coordinates (whole metres).</li>
<li><b>Robust z-score on the log of the count</b>: with n<sub>a</sub> the firms at address a, m the median of ln n<sub>a</sub> over all addresses and s = 1.4826 × MAD (median absolute deviation) of ln n<sub>a</sub>, z<sub>a</sub> = (ln n<sub>a</sub> − m) / s (Iglewicz &amp; Hoaglin 1993 modified z-score; when the MAD is 0, s = 1.2533 × mean absolute deviation). Counts per address are very skewed, hence the log.</li>
<li>An address is <b>stacked</b> when n<sub>a</sub> ≥ max(<i>threshold</i>, exp(m + <i>z cut-off</i> × s)): anomalous for this input and never below the threshold.</li>
</ol>
<p><b>Why these defaults.</b> In the real South Yorkshire register (Companies House, November 2024: 75,740 live companies at 17,034 postcodes) the median postcode holds 2 companies, the 99th percentile 42, and the MAD of the log counts is ln 2 (s = 1.03). With the cut-off z = 3.5 recommended by Iglewicz &amp; Hoaglin the rule flags postcodes with 73 or more companies: 119 postcodes holding 22,744 companies (30 %), 2,357 of them creative (of 5,860); the largest, S11 9PA, holds 1,602 companies of which 794 are creative. The floor of {DEFAULT_STACK_THRESHOLD} firms is Creative Radar's microcluster size: an address that alone could make a microcluster is never an ordinary address; 153 South Yorkshire postcodes (0.9 %) reach it. The floor matters for small or pre-filtered inputs (e.g. creative firms only), where the robust cut-off falls to a handful of firms.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input firms</b> (INPUT): firm points (e.g. geocoded Companies House companies). Count every firm, not only creative ones: the statistic describes addresses.</li>
<li><b>Postcode field</b> (POSTCODE_FIELD, optional): the registered-office postcode. Empty: identical coordinates define an address.</li>
<li><b>Threshold</b> (THRESHOLD, default {DEFAULT_STACK_THRESHOLD}): an address is never flagged below this many firms. With Z_CUTOFF = 0 it is the only rule.</li>
<li><b>Robust z cut-off</b> (Z_CUTOFF, default {DEFAULT_STACK_Z}): 0 switches the robust rule off.</li>
</ul>
<h3>Outputs</h3>
<ul>
<li><b>Firms with stack flag</b> (OUTPUT): every input firm with <b>cc_stack</b> (true at a stacked address), <b>cc_stack_n</b> (firms at its address) and <b>cc_address</b> (the address key).</li>
<li><b>Addresses</b> (OUTPUT_ADDRESSES): one point per address (the first firm's location) with <b>address</b> (postcode or "x,y"), <b>n_firms</b>, <b>n_creative</b> (when the input has cc_creative), <b>robust_z</b> and <b>cc_stack</b> (flagged).</li>
</ul>
<p>The log reports the median, the scale, the cut-off used, and the number of stacked addresses and firms. Firms with no geometry are left out (counted in the log). The input layer is never modified.</p>"""

    INPUT = "INPUT"
    POSTCODE_FIELD = "POSTCODE_FIELD"
    THRESHOLD = "THRESHOLD"
    Z_CUTOFF = "Z_CUTOFF"
    OUTPUT = "OUTPUT"
    OUTPUT_ADDRESSES = "OUTPUT_ADDRESSES"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(self.INPUT, self.tr("Input firms"), [QgsProcessing.TypeVectorPoint])
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.POSTCODE_FIELD, self.tr("Postcode field (empty = identical coordinates)"),
                parentLayerParameterName=self.INPUT, type=QgsProcessingParameterField.String, optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.THRESHOLD, self.tr("Threshold: never flag an address with fewer firms than"),
                QgsProcessingParameterNumber.Integer, defaultValue=DEFAULT_STACK_THRESHOLD, minValue=2,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.Z_CUTOFF, self.tr("Robust z cut-off on log firms per address (0 = threshold only)"),
                QgsProcessingParameterNumber.Double, defaultValue=DEFAULT_STACK_Z, minValue=0.0,
            )
        )
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Firms with stack flag")))
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT_ADDRESSES, self.tr("Addresses (firms per address)"), QgsProcessing.TypeVectorPoint
            )
        )

    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        postcode_fields = self.parameterAsFields(parameters, self.POSTCODE_FIELD, context)
        postcode_field = postcode_fields[0] if postcode_fields else None
        names = self.field_names(source)
        wanted = [postcode_field] if postcode_field else []
        if "cc_creative" in names:
            wanted.append("cc_creative")
        table = self.read_table(source, feedback, fields=wanted, progress_range=(0, 40), parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no firms with a geometry: there is nothing to check.")
        postcodes = table.frame[postcode_field].tolist() if postcode_field else None
        result = flag_stacks(
            table.xy,
            postcodes,
            threshold=self.parameterAsInt(parameters, self.THRESHOLD, context),
            z_cutoff=self.parameterAsDouble(parameters, self.Z_CUTOFF, context),
            callback=self.progress_callback(feedback, 40, 60),
        )
        _log_result(feedback, result, len(table), postcode_field)
        n_addr = len(result.counts)
        new_fields = [field("cc_stack", "bool"), field("cc_stack_n", "int"), field("cc_address", "string", 40)]
        dest_id = self.write_table(parameters, self.OUTPUT, context, feedback, table, _firm_columns(result), new_fields,
                                   progress_range=(60, 90))
        self.style_output_on_load(context, dest_id, "stacks")

        has_creative = "cc_creative" in table.frame
        n_creative = None
        if has_creative:
            creative = table.frame["cc_creative"].fillna(False).astype(bool).to_numpy()
            valid = result.address >= 0
            n_creative = np.bincount(result.address[valid], weights=creative[valid], minlength=n_addr)
        # address points go out in the input CRS: the first firm's own geometry
        first_feature = _first_firm_of_address(result.address)
        addr_id = self.write_geometries(parameters, self.OUTPUT_ADDRESSES, context, feedback,
                                        _address_fields(has_creative), QgsWkbTypes.Point, table.source_crs,
                                        _address_rows(result, table.source_xy, first_feature, n_creative))
        self.style_output_on_load(context, addr_id, "stacks")
        feedback.setProgress(100)
        return {self.OUTPUT: dest_id, self.OUTPUT_ADDRESSES: addr_id}


def _log_result(feedback, result, n_firms, postcode_field):
    """Log the flagging's warnings, the robust cut-off, how many firms are stacked and the largest addresses."""
    for warning in result.warnings:
        feedback.pushWarning(warning)
    n_addr = len(result.counts)
    feedback.pushInfo(
        f"{n_firms} firms at {n_addr} addresses ({'postcode' if postcode_field else 'identical coordinates'}); "
        f"median {result.median:g} firms per address, scale of ln(count) {result.scale:.3f}; robust cut-off "
        f"{result.robust_cutoff:.1f} firms, cut-off used {result.cutoff:.1f}."
    )
    feedback.pushInfo(
        f"Stacked: {int(result.address_flagged.sum())} addresses holding {int(result.flagged.sum())} firms "
        f"({100.0 * result.flagged.mean():.1f} % of the firms)."
    )
    if result.address_flagged.any():
        top = np.argsort(-result.counts)[:5]
        feedback.pushInfo("Largest: " + "; ".join(f"{result.keys[i]} ({int(result.counts[i])})" for i in top))


def _firm_columns(result):
    """The per-firm output columns: cc_stack, cc_stack_n and cc_address (NULL without an address)."""
    import pandas as pd

    n_addr = len(result.counts)
    keys = np.array(result.keys, dtype=object)
    return pd.DataFrame(
        {
            "cc_stack": result.flagged,
            "cc_stack_n": result.n_at_address,
            "cc_address": np.where(result.address >= 0, keys[np.maximum(result.address, 0)] if n_addr else None, None),
        }
    )


def _address_fields(has_creative):
    """Fields of the addresses output (n_creative only when the firms are classified)."""
    fields = QgsFields()
    for f in (field("address", "string", 40), field("n_firms", "int")):
        fields.append(f)
    if has_creative:
        fields.append(field("n_creative", "int"))
    fields.append(field("robust_z", "double"))
    fields.append(field("cc_stack", "bool"))
    return fields


def _first_firm_of_address(address):
    """Index of the first firm at each address (addresses −1 skipped)."""
    first_feature = {}
    for i, a in enumerate(address.tolist()):
        if a >= 0 and a not in first_feature:
            first_feature[a] = i
    return first_feature


def _address_rows(result, source_xy, first_feature, n_creative):
    """(point, attributes) per address, at its first firm's input coordinates; n_creative when not None."""
    for a in range(len(result.counts)):
        x, y = source_xy[first_feature[a]]
        geometry = QgsGeometry.fromPointXY(QgsPointXY(float(x), float(y)))
        attrs = [result.keys[a], int(result.counts[a])]
        if n_creative is not None:
            attrs.append(int(n_creative[a]))
        attrs += [float(result.robust_z[a]), bool(result.address_flagged[a])]
        yield geometry, attrs


ALGORITHM = FlagStacks
