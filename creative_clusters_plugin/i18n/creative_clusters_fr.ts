<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../processing_provider/map_parameters.py" line="46"/>
        <source>Place names (points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/map_parameters.py" line="48"/>
        <source>Place name field (empty = detect)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/map_parameters.py" line="50"/>
        <source>Study area (polygons; default: outline of the features)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/map_parameters.py" line="53"/>
        <source>Basemap XYZ tile URL (optional; needs a network)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/map_parameters.py" line="55"/>
        <source>Basemap attribution</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AtlasDock</name>
    <message>
        <location filename="../gui/atlas_dock.py" line="86"/>
        <source>Creative Clusters – Atlas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="451"/>
        <source>Add a polygon, line or point layer to the project to make an atlas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="547"/>
        <source>New layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="549"/>
        <source>Replace “{name}”</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="574"/>
        <source>Replace layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="574"/>
        <source>Replace the layout “{name}”? Changes made to it in the layout designer will be lost (and its designer window closes).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="603"/>
        <source>Choose a coverage layer first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="611"/>
        <source>Nothing built: the layout “{name}” was kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="634"/>
        <source>replaced</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="634"/>
        <source>built</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="635"/>
        <source>Layout “{name}” {verb}: {pages} pages ({count} {features}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="680"/>
        <source>Choose an output PDF file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="693"/>
        <source>Exporting the atlas…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="693"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="695"/>
        <source>Creative Clusters atlas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="709"/>
        <source>Exporting page {page} of {total}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="711"/>
        <source>Exporting pages {first}–{last} of {total}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="714"/>
        <source>page {page} of {total}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="729"/>
        <source>Export cancelled: no PDF was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="747"/>
        <source>Atlas written to {path} ({pages} pages, from the layout “{name}”).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="128"/>
        <source>Atlas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="133"/>
        <source>The layer whose features get one page each</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="134"/>
        <source>Coverage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="138"/>
        <source>The layers drawn on the maps, in the project&apos;s layer order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="139"/>
        <source>Layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="145"/>
        <source>Landscape</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="146"/>
        <source>Portrait</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="150"/>
        <source>Page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="153"/>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="156"/>
        <source>e.g. the area and the data date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="157"/>
        <source>Subtitle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="161"/>
        <source>Pages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="165"/>
        <source>Only features where this is true get a page, e.g. &quot;Gi_Bin&quot; = 3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="166"/>
        <source>Filter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="169"/>
        <source>The order of the pages; empty: the layer&apos;s order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="170"/>
        <source>Descending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="172"/>
        <source>Sort by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="176"/>
        <source>The title of each page (a field or an expression); empty: guessed from the fields (a name field, else a numbered id)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="178"/>
        <source>automatic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="179"/>
        <source>Page names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="183"/>
        <source>Context</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="188"/>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="189"/>
        <source>Optional point layer of place names (towns, villages): labelled on the maps and used to say where each feature is</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="191"/>
        <source>Places</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="195"/>
        <source>The field with the place names; empty: detected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="196"/>
        <source>Place names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="200"/>
        <source>coverage outline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="201"/>
        <source>Optional polygons outlined on every map; empty: the outline of the coverage layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="203"/>
        <source>Study area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="206"/>
        <source>none (or an XYZ tile URL)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="208"/>
        <source>Optional XYZ tile URL for a basemap under the maps, e.g. {example}
Tiles are downloaded while building and exporting, so they need a network connection, and each tile service has its own terms and attribution: fill in the tile credit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="213"/>
        <source>Basemap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="216"/>
        <source>e.g. © OpenStreetMap contributors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="217"/>
        <source>The credit line the basemap&apos;s tile service asks for, printed with the attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="219"/>
        <source>Tile credit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="223"/>
        <source>Cover and front matter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="231"/>
        <source>optional</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="228"/>
        <source>Organisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="232"/>
        <source>Author</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="235"/>
        <source>Images (*.png *.jpg *.jpeg *.svg *.gif *.bmp *.tif *.tiff)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="236"/>
        <source>Optional image for the cover (PNG, JPEG or SVG)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="237"/>
        <source>Logo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="240"/>
        <source>Cover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="242"/>
        <source>Overview</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="244"/>
        <source>A map of all the pages&apos; features, labelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="245"/>
        <source>Contents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="247"/>
        <source>A list of the pages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="248"/>
        <source>Summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="250"/>
        <source>A table of the key figures of every feature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="251"/>
        <source>Methods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="253"/>
        <source>How the results were made, and the data sources</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="262"/>
        <source>The data credits printed on every page ({year} becomes the current year)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="264"/>
        <source>empty: the credits in the layers&apos; metadata</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="265"/>
        <source>Attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="269"/>
        <source>UK open data credits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="271"/>
        <source>Fill in the credits of Companies House, OS, Royal Mail (Code-Point Open) and ONS data, for atlases made from them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="278"/>
        <source>Layout and PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="282"/>
        <source>QGIS layout templates (*.qpt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="283"/>
        <source>Optional: a template saved from the layout designer (keep the cc_… item ids); empty: the shipped one for the page size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="285"/>
        <source>Template</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="290"/>
        <source>A new layout never touches the layouts already in the project. Replacing an atlas layout loses the changes made to it in the layout designer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="293"/>
        <source>Build as</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="296"/>
        <source>PDF files (*.pdf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="298"/>
        <source>Output PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="299"/>
        <source>Open the layout after building</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="301"/>
        <source>Open the layout in the layout designer after building it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="322"/>
        <source>Build layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="324"/>
        <source>Build the atlas into the project&apos;s layouts (see Build as)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="325"/>
        <source>Export PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/atlas_dock.py" line="327"/>
        <source>Export the atlas to the output PDF (building it first if the settings changed since the last build)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ClassifyFirms</name>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="46"/>
        <source>Input firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="51"/>
        <source>SIC code fields (1 to 4, in order; empty = Companies House SICCode.SicText_1…4)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="60"/>
        <source>Rule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="60"/>
        <source>First SIC code decides</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="60"/>
        <source>Any SIC code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="68"/>
        <source>Definition CSV (empty = DCMS definition shipped with the plugin)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/classify_firms.py" line="76"/>
        <source>Classified firms</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ClusterSelection</name>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="65"/>
        <source>Areas (later period LQs, or any polygons)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="66"/>
        <source>Area identifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="67"/>
        <source>Recipe</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="67"/>
        <source>Nesta 2016 (top LQ and top LQ growth)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="67"/>
        <source>Nesta 2018 (LQ &gt; 1 and activity quantile)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="68"/>
        <source>Periods from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="68"/>
        <source>Two LQ snapshots</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="68"/>
        <source>Firm incorporation dates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="69"/>
        <source>Earlier period LQ areas (snapshots)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="70"/>
        <source>Classified firms (incorporation dates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="71"/>
        <source>Incorporation date field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="72"/>
        <source>Earlier date (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="73"/>
        <source>Later date (YYYY-MM-DD; empty = all firms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="74"/>
        <source>Sub-sector groups (Nesta 2016)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="75"/>
        <source>Activity percentile (Nesta 2016)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="76"/>
        <source>Areas per list (Nesta 2016)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="77"/>
        <source>Activity quantile (Nesta 2018)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/cluster_selection.py" line="78"/>
        <source>Areas with selected clusters</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Corridors</name>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="112"/>
        <source>Clusters (polygons or points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="118"/>
        <source>Mass field (firms, jobs…; empty = 1 per cluster)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="124"/>
        <source>Identifier field (empty = feature id)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="130"/>
        <source>Resistance raster (cost per metre; nodata = impassable)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="131"/>
        <source>Creative density raster (dense = cheap to cross)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="132"/>
        <source>Transport lines (motorways, rail: cheaper nearby)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="137"/>
        <source>Stations (cheaper nearby)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="142"/>
        <source>Cell size (m; 0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="143"/>
        <source>Maximum neighbours per cluster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="144"/>
        <source>Maximum cost distance (0 = no limit)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="145"/>
        <source>Corridor width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="146"/>
        <source>Width mode</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="146"/>
        <source>Cost units above the least cost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="146"/>
        <source>Percent above the least cost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="153"/>
        <source>Gravity distance decay β</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="154"/>
        <source>Strength threshold for corridor chains</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="156"/>
        <source>Maximum turn of a chain at a cluster (degrees)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="157"/>
        <source>Density weight a (cost / (1 + a·density/p95))</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="158"/>
        <source>Cost multiplier near transport lines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="159"/>
        <source>Transport buffer (m)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="160"/>
        <source>Cost multiplier near stations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="161"/>
        <source>Station radius (m)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="162"/>
        <source>Place gap (clusters closer than this × the sum of their radii are one place)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="167"/>
        <source>Corridor links</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="168"/>
        <source>Corridors (chains)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/corridors.py" line="169"/>
        <source>Normalised least-cost corridors</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CreativeClusters</name>
    <message>
        <location filename="../gui/install.py" line="29"/>
        <source>Style Creative Clusters results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/install.py" line="29"/>
        <source>Creative Clusters atlas</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Density</name>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="105"/>
        <source>Firm points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="107"/>
        <source>Bandwidth in metres (quartic radius or Gaussian σ; 0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="108"/>
        <source>Pixel size in metres</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="109"/>
        <source>Kernel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="110"/>
        <source>Weight field (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="116"/>
        <source>Stacked registered-office addresses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="119"/>
        <source>Output values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="122"/>
        <source>Output extent (default: the points plus the kernel&apos;s reach)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="123"/>
        <source>All firms, for the relative density (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="128"/>
        <source>Template raster (grid and CRS to use)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="129"/>
        <source>Minimum all-firm density for the relative density (firm kernel peaks)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="136"/>
        <source>Density</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="137"/>
        <source>Relative density (input / all firms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="140"/>
        <source>Bandwidth used (m)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="141"/>
        <source>Points used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/density.py" line="142"/>
        <source>Total weight (integral of the surface)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EmergingHotSpots</name>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="82"/>
        <source>Firms (points with a date)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="84"/>
        <source>Date field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="87"/>
        <source>Time step in years</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="90"/>
        <source>Start date (YYYY-MM-DD; empty = 10 steps before the end)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="92"/>
        <source>End date (YYYY-MM-DD; empty = the latest date)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="94"/>
        <source>Fishnet cell size in metres (0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="97"/>
        <source>Areas to count firms in instead of a fishnet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="100"/>
        <source>Neighbourhood distance in metres (0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="103"/>
        <source>Time window (steps)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="106"/>
        <source>False discovery rate correction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/emerging_hotspots.py" line="108"/>
        <source>Emerging hot spots</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ExportAtlas</name>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="93"/>
        <source>Coverage layer (one page per feature)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="97"/>
        <source>Layers to show (top first)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="101"/>
        <source>Layout template (.qpt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="104"/>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="105"/>
        <source>Subtitle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="106"/>
        <source>Filter (only features where true)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="110"/>
        <source>Sort by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="114"/>
        <source>Sort descending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="115"/>
        <source>Page name (default: guessed from the fields)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="119"/>
        <source>Page size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="122"/>
        <source>Orientation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="126"/>
        <source>Cover page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="127"/>
        <source>Overview page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="128"/>
        <source>Attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="133"/>
        <source>Organisation (cover)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="135"/>
        <source>Author (cover, PDF properties)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="137"/>
        <source>Logo image (cover)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="139"/>
        <source>Contents page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="140"/>
        <source>Summary page (ranked table)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="142"/>
        <source>Methods and data page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="143"/>
        <source>Map half-width around point features (0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="149"/>
        <source>Atlas PDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_atlas.py" line="150"/>
        <source>Pages written</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ExportHotspotMap</name>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="59"/>
        <source>Gi* result layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="62"/>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="63"/>
        <source>Subtitle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="64"/>
        <source>Page size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="67"/>
        <source>Orientation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="71"/>
        <source>Attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="75"/>
        <source>More layers to show (top first)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="80"/>
        <source>Author (PDF properties)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/export_hotspot_map.py" line="82"/>
        <source>Map PDF</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FlagStacks</name>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="60"/>
        <source>Input firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="63"/>
        <source>Postcode field (empty = identical coordinates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="69"/>
        <source>Threshold: never flag an address with fewer firms than</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="75"/>
        <source>Robust z cut-off on log firms per address (0 = threshold only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="81"/>
        <source>Firms with stack flag</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/flag_stacks.py" line="82"/>
        <source>Addresses (firms per address)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GeocodePostcodes</name>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="79"/>
        <source>Input firms (table or layer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="82"/>
        <source>Postcode field (empty = detect Postcode / RegAddress.PostCode)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="91"/>
        <source>Postcode lookup file (Code-Point Open zip, one of its area CSVs, or a CSV with Postcode, Eastings, Northings)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="99"/>
        <source>…or a postcode lookup point layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="107"/>
        <source>Postcode field of the lookup layer (empty = detect)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="116"/>
        <source>Geocoded firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="119"/>
        <source>Firms not geocoded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="128"/>
        <source>Rows placed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/geocode_postcodes.py" line="129"/>
        <source>Rows not placed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GrowthPotential</name>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="42"/>
        <source>Areas or clusters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="44"/>
        <source>Weight of {dimension}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="45"/>
        <source>Normalisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="45"/>
        <source>Percentile rank</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="45"/>
        <source>Min–max</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="45"/>
        <source>z-score</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/growth_potential.py" line="46"/>
        <source>Growth-potential score</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HotSpots</name>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="338"/>
        <source>Count each feature in its own neighbourhood (Gi*; off = Getis–Ord's Gi)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LocalMoran</name>
    <message>
        <location filename="../processing_provider/algorithms/local_moran.py" line="60"/>
        <source>Index convention (LMiIndex and LMiZScore)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/local_moran.py" line="64"/>
        <source>0 — ArcGIS Pro (default): the index is divided by the variance of the other n − 1 features (S_i², feature i left out), with ArcGIS's moments for the z-score. 1 — esda / GeoDa: one variance over all features. Pseudo p-values and COType are the same in both.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LocalStatisticAlgorithm</name>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="75"/>
        <source>Input features (polygons or points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="89"/>
        <source>Spatial weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="95"/>
        <source>Distance band or cut-off in metres (0 = automatic / none)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="101"/>
        <source>Number of neighbours (k nearest neighbours)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="109"/>
        <source>Permutations for pseudo p-values (0 = analytic only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="116"/>
        <source>Random seed (same seed, same result)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="122"/>
        <source>Apply false discovery rate (FDR) correction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="127"/>
        <source>Pseudo p-value convention (with permutations)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="135"/>
        <source>Inverse distance power (1 or 2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/hotspots.py" line="139"/>
        <source>Contiguity snap tolerance in metres (gaps and slivers)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LocationQuotients</name>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="59"/>
        <source>Areas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="62"/>
        <source>Area identifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="65"/>
        <source>Classified firms (points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="70"/>
        <source>Nesta 2018 activity quantile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="76"/>
        <source>Confidence level of the LQ interval</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="82"/>
        <source>Minimum firms per area (fewer: LQ left NULL)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="88"/>
        <source>Exclude dormant companies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="91"/>
        <source>Stacked registered-office addresses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/location_quotients.py" line="97"/>
        <source>Areas with location quotients</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Microclusters</name>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="66"/>
        <source>Classified firms (points)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="69"/>
        <source>Firms to cluster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="69"/>
        <source>Creative firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="69"/>
        <source>One sub-sector (SUBSECTOR)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="69"/>
        <source>All firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="76"/>
        <source>Sub-sector (name or code, for &apos;one sub-sector&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="80"/>
        <source>Method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="83"/>
        <source>EPS: neighbourhood radius (metres)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="87"/>
        <source>Minimum firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="91"/>
        <source>Stacked registered-office addresses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="95"/>
        <source>Clustered firms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/microclusters.py" line="96"/>
        <source>Microclusters</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OptimizedHotSpots</name>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="79"/>
        <source>Input features (incident points, or weighted points / polygons)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="85"/>
        <source>Analysis field (empty = count incidents)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="91"/>
        <source>Incident aggregation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="97"/>
        <source>Aggregation polygons (for &apos;Given polygons&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="103"/>
        <source>Bounding polygons: where incidents are possible (fishnet / hexagons)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="109"/>
        <source>Cell size in metres (0 = automatic)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../processing_provider/algorithms/optimized_hotspots.py" line="115"/>
        <source>Optimized hot spots</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StyleDock</name>
    <message>
        <location filename="../gui/style_dock.py" line="75"/>
        <source>Options</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="80"/>
        <source>Classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="85"/>
        <source>Number of classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="89"/>
        <source>Colour ramp</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="91"/>
        <source>Invert ramp</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="97"/>
        <source>Transparent below</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="103"/>
        <source>Apply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="105"/>
        <source>Reset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="111"/>
        <source>Save QML…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="112"/>
        <source>Load QML…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="140"/>
        <source>Default of the style</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="214"/>
        <source>No layer: add a result layer to the project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="220"/>
        <source>, </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/style_dock.py" line="222"/>
        <source>Not a recognised Creative Clusters result: choose a style yourself.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
