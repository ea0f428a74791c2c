"""creativeclusters:demoregion — try the plugin without data: the synthetic Dunmere Vale region that ``make demo``
uses (thin adapter over core.demo_region)."""

from __future__ import annotations

import os
import tempfile

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)

from ...core.atomic_files import give_default_permissions
from ...core.demo_region import DEFAULT_SEED, write_demo_region
from ..base_algorithm import CreativeClustersAlgorithm

#: the layers written into demo_region.gpkg, loaded when the algorithm finishes (output name -> layer)
LAYERS = {"FIRMS": "firms", "AREAS": "areas", "TOWNS": "towns", "ROADS": "roads", "REGION": "region",
          "POSTCODES": "postcodes"}


class DemoRegion(CreativeClustersAlgorithm):
    ALGORITHM_ID = "demoregion"
    REQUIRES = ("numpy", "scipy", "pandas", "shapely", "geopandas")
    DISPLAY_NAME = "Demo region: try the plugin without data"
    GROUP = "0 · Data"
    GROUP_ID = "data"
    TAGS = "demo,sample,example,synthetic,try,tutorial,dunmere vale"
    HELP = """<p>Writes <b>Dunmere Vale</b>, a synthetic region to try every Creative Clusters algorithm on — the same data <code>make demo</code> uses. Nothing in it is real: the towns, roads, wards and about 56,000 firms (in Companies House's format, with SIC codes, postcodes and incorporation dates) are generated, with creative clusters planted at known places (a ground-truth file says where), a chain of clusters along the motorway for corridor analysis, and a formation agent's stacked address.</p>
<h3>Parameters</h3>
<ul>
<li><b>Seed</b> (SEED): the same seed gives the same region.</li>
<li><b>Output folder</b> (OUTPUT): where <code>demo_region.gpkg</code> (layers firms, areas, towns, roads, region, postcodes), <code>firms.csv</code>, <code>postcodes.csv</code> (Code-Point Open format) and <code>ground_truth.json</code> are written. Files of the same names there are replaced.</li>
</ul>
<p>Then try: <i>Classify firms</i> on the firms, <i>Location quotients by area</i> with the areas, <i>Hot spot analysis</i>, <i>Creative microclusters</i>, <i>Corridors</i>, and the atlas with the towns as place names and the roads as context.</p>"""

    SEED = "SEED"
    OUTPUT = "OUTPUT"
    GPKG = "GPKG"
    TRUTH = "TRUTH"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterNumber(
            self.SEED, self.tr("Seed"), QgsProcessingParameterNumber.Integer, defaultValue=DEFAULT_SEED, minValue=0))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT, self.tr("Output folder")))
        self.addOutput(QgsProcessingOutputFile(self.GPKG, self.tr("Demo region GeoPackage")))
        self.addOutput(QgsProcessingOutputFile(self.TRUTH, self.tr("Ground truth (JSON)")))
        for name, layer in LAYERS.items():
            self.addOutput(QgsProcessingOutputVectorLayer(name, self.tr(f"Demo {layer}")))

    def execute(self, parameters, context, feedback):
        folder = self.parameterAsString(parameters, self.OUTPUT, context)
        seed = self.parameterAsInt(parameters, self.SEED, context)
        os.makedirs(folder, exist_ok=True)
        feedback.pushInfo(f"Generating Dunmere Vale (seed {seed}) …")
        feedback.setProgress(5)
        # written beside the target and moved in at the end: a cancelled or failed run leaves the folder as it was
        with tempfile.TemporaryDirectory(prefix=".cc-demo-", dir=folder) as work:
            written = write_demo_region(work, seed=seed)
            self.check_cancel(feedback)
            give_default_permissions(work)
            for name in os.listdir(work):
                os.replace(os.path.join(work, name), os.path.join(folder, name))
        gpkg = os.path.join(folder, "demo_region.gpkg")
        truth = written["truth_data"]
        feedback.pushInfo(f"{truth['n_firms']:,} firms, {len(truth['clusters'])} planted clusters → {gpkg}")
        results = {self.OUTPUT: folder, self.GPKG: gpkg, self.TRUTH: os.path.join(folder, "ground_truth.json")}
        for name, layer in LAYERS.items():
            source = f"{gpkg}|layername={layer}"
            results[name] = source
            context.addLayerToLoadOnCompletion(
                source, QgsProcessingContext.LayerDetails(f"Dunmere Vale – {layer}", context.project(), name))
        feedback.setProgress(100)
        return results


ALGORITHM = DemoRegion
