"""creativeclusters:classifyfirms — SIC codes to DCMS creative sub-sectors (thin adapter)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingException,
)

from ....core.firms.sic_classification import classify_frame, companies_house_sic_columns, load_definition
from ....core.firms.subsectors import SUBSECTOR_NAMES
from ...base_algorithm import CreativeClustersAlgorithm, field


class ClassifyFirms(CreativeClustersAlgorithm):
    ALGORITHM_ID = "classifyfirms"
    REQUIRES = ('numpy', 'pandas')
    DISPLAY_NAME = "Classify firms (SIC → DCMS creative sub-sectors)"
    GROUP = "1 · Prepare firms"
    GROUP_ID = "prepare"
    TAGS = "sic,dcms,creative industries,companies house,classification,high-tech,kibs,dormant"
    HELP = """<p>Classifies firms into the nine <b>DCMS creative-industry sub-sectors</b> from their SIC 2007 codes, and flags high-tech, knowledge-intensive business services (KIBS) and dormant companies.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input firms</b> (INPUT): points or a table (e.g. the Companies House BasicCompanyData CSV).</li>
<li><b>SIC code fields</b> (SIC_FIELDS): one to four fields, in order. Texts like <i>59111 - Motion picture production activities</i>, <i>59111</i>, <i>5911</i> or <i>59.11</i> are all understood. Left empty, the Companies House fields SICCode.SicText_1…4 are used when present.</li>
<li><b>Rule</b> (RULE): <i>First SIC code decides</i> (default) — the firm's first parseable code gives every flag; <i>Any SIC code</i> — a firm is creative when any of its codes is creative, with the sub-sector of its first creative code.</li>
<li><b>Definition</b> (DEFINITION, optional): a CSV with columns <i>code, sector, subsector</i>. The default is the DCMS definition shipped in <i>resources/definitions/dcms_creative_sic.csv</i> (31 creative classes, Nesta's 47 high-tech classes, KIBS divisions 69, 70, 71, 73, 74, dormant codes 99999 and 74990). Copy and edit it when the definition changes.</li>
</ul>
<h3>Output</h3>
<p>The input features with new fields: <b>sic4</b> (4-digit class of the first code), <b>cc_creative</b>, <b>cc_subsector</b> (DCMS sub-sector name), <b>cc_hightech</b>, <b>cc_kibs</b>, <b>cc_dormant</b> (every code is 99999 Dormant Company or 74990 Non-trading company; dormant firms are never creative).</p>
<h3>Bad input</h3>
<p>NULL, blank and unparseable codes (e.g. <i>None Supplied</i>) are ignored and counted in the log; a firm with no usable code is not creative. The log reports the count per sub-sector. The input layer is never modified.</p>
<p>Reference: DCMS Creative Industries Economic Estimates methodology (SIC 2007 definition).</p>"""

    INPUT = "INPUT"
    SIC_FIELDS = "SIC_FIELDS"
    RULE = "RULE"
    DEFINITION = "DEFINITION"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.INPUT, self.tr("Input firms"), [QgsProcessing.TypeVector]
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.SIC_FIELDS,
                self.tr("SIC code fields (1 to 4, in order; empty = Companies House SICCode.SicText_1…4)"),
                parentLayerParameterName=self.INPUT,
                allowMultiple=True,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.RULE,
                self.tr("Rule"),
                options=[self.tr("First SIC code decides"), self.tr("Any SIC code")],
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.DEFINITION,
                self.tr("Definition CSV (empty = DCMS definition shipped with the plugin)"),
                extension="csv",
                optional=True,
            )
        )
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Classified firms")))

    def execute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.INPUT))
        sic_fields = self.parameterAsFields(parameters, self.SIC_FIELDS, context)
        if not sic_fields:
            sic_fields = companies_house_sic_columns(source.fields().names())
            if not sic_fields:
                raise QgsProcessingException(
                    "Choose the SIC code field(s): the input has no Companies House SICCode.SicText_1…4 fields."
                )
            feedback.pushInfo(f"Using SIC fields: {', '.join(sic_fields)}")
        if len(sic_fields) > 4:
            raise QgsProcessingException("Choose at most four SIC code fields.")
        rule = self.parameterAsEnum(parameters, self.RULE, context)
        definition = load_definition(self.parameterAsFile(parameters, self.DEFINITION, context) or None)
        feedback.pushInfo(f"Definition: {definition.source}")

        table = self.read_table(source, feedback, fields=sic_fields, require_geometry=False, progress_range=(0, 40),
                                parameter=self.INPUT)
        if len(table) == 0:
            raise QgsProcessingException("The input layer has no features: there is nothing to classify.")
        self.check_cancel(feedback)
        result = classify_frame(table.frame, sic_fields, rule, definition)
        feedback.setProgress(60)
        for warning in result.warnings:
            feedback.pushWarning(warning)
        n = len(table)
        feedback.pushInfo(f"{n} firms classified ({'first code decides' if rule == 0 else 'any code'}):")
        for name in SUBSECTOR_NAMES:
            feedback.pushInfo(f"  {name}: {result.counts[name]}")
        feedback.pushInfo(
            f"  all creative: {result.counts['creative']} ({100 * result.counts['creative'] / n:.1f} %); "
            f"high-tech: {result.counts['hightech']}; KIBS: {result.counts['kibs']}; "
            f"dormant/non-trading: {result.counts['dormant']}; no usable SIC code: {result.counts['no code']}; "
            f"unparseable SIC texts: {result.unparseable}"
        )
        new_fields = [
            field("sic4", "string", 4),
            field("cc_creative", "bool"),
            field("cc_subsector", "string", 60),
            field("cc_hightech", "bool"),
            field("cc_kibs", "bool"),
            field("cc_dormant", "bool"),
        ]
        dest_id = self.write_table(parameters, self.OUTPUT, context, feedback, table, result.table, new_fields, progress_range=(60, 100))
        self.style_output_on_load(context, dest_id, "classified_firms")
        return {self.OUTPUT: dest_id}


ALGORITHM = ClassifyFirms
