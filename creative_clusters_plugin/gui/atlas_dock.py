"""The atlas dock: choose a coverage layer and options, build the print layout, export the PDF map book.

The layout comes from :mod:`creative_clusters_plugin.layout.atlas` (the same code as
``creativeclusters:exportatlas``) and is added to the project's layout manager, so the user can open it in
the layout designer, edit it, and export again from the dock: the edited layout is exported as long as the
dock's settings have not changed since it was built.

The dock keeps work: every build makes a NEW layout ("<title> – <coverage>", then " (2)", " (3)" …), so a
layout built earlier — and perhaps edited in the designer — is never removed or overwritten. An existing
atlas layout (one this dock built, in this session or an earlier one: they carry the custom property
``creative_clusters/atlas_id``) is replaced only when the user picks it under "Build as" (and confirms;
:meth:`AtlasDock.confirm_replace` can be replaced, as the tests do).

Why the export runs on the main thread: a print layout is a ``QGraphicsScene``; QGIS renders layouts on
the main thread only (its designer, ``native:atlaslayouttopdf`` and the ``QgsLayoutExporter`` API all do).
A ``QgsTask`` would have to render a layout owned by the GUI thread, which is not safe in QGIS 3.22. So the
dock does what QGIS's layout designer does for atlas exports: ``QgsLayoutExporter.exportToPdf(atlas, …,
feedback)`` with a ``QgsFeedback`` whose progress (page by page) drives an application-modal
``QProgressDialog`` ("Exporting page k of n") and the dock's progress bar and processes events — the window
repaints, Cancel works between pages, and nothing else (like removing the coverage layer) can happen
mid-export.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from qgis.core import QgsExpressionContextUtils, QgsFeedback, QgsMapLayerProxyModel, QgsProject
from qgis.gui import (
    QgsCollapsibleGroupBox,
    QgsDockWidget,
    QgsFieldComboBox,
    QgsFieldExpressionWidget,
    QgsFileWidget,
    QgsMapLayerComboBox,
)
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CancelledError, CreativeClustersError
from ..layout import atlas as atlas_module
from ..layout.atlas import DEFAULT_ATTRIBUTION, DEFAULT_TITLE, AtlasSettings
from ..resources_path import resource

TITLE = "Creative Clusters – Atlas"
ATLAS_ID_PROPERTY = "creative_clusters/atlas_id"  # custom property of the layouts this dock builds
BASEMAP_EXAMPLE = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _form(parent=None):
    form = QFormLayout(parent) if parent is not None else QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return form


class AtlasDock(QgsDockWidget):
    """Dock widget that builds and exports the creative-cluster atlas."""

    def __init__(self, iface=None, parent=None):
        super().__init__(QCoreApplication.translate("AtlasDock", "Creative Clusters – Atlas"), parent)
        self.setObjectName("CreativeClustersAtlasDock")
        self.iface = iface
        self._atlas_id = None  # ATLAS_ID_PROPERTY of the layout this dock built last
        self._built_key = None  # settings the layout was built with
        self.last_build = None
        self._exporting = False
        self._coverage_id = None
        self._progress_dialog = None
        self._build_ui()
        project = QgsProject.instance()
        project.layersAdded.connect(self._refresh_layer_list)
        project.layersRemoved.connect(self._refresh_layer_list)
        project.layerTreeRoot().layerOrderChanged.connect(self._refresh_layer_list)
        manager = project.layoutManager()
        manager.layoutAdded.connect(self._refresh_build_as)
        manager.layoutRemoved.connect(self._refresh_build_as)
        manager.layoutRenamed.connect(self._refresh_build_as)
        self._refresh_layer_list()
        self._refresh_build_as()
        self._on_coverage_changed(self.coverage_combo.currentLayer())

    # --- widgets ---------------------------------------------------------------------------------------
    def _group(self, title, name, parent):
        group = QgsCollapsibleGroupBox(title, parent)
        group.setObjectName(name)
        group.setSaveCollapsedState(False)
        group.setCollapsed(False)
        return group

    def _build_ui(self):
        scroll = QScrollArea(self)
        scroll.setObjectName("scroll_area")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # only when very narrow
        self.scroll_area = scroll
        body = QWidget(scroll)
        body.setObjectName("atlas_dock_body")
        outer = QVBoxLayout(body)
        forms = []
        for build_group in (self._build_atlas_group, self._build_pages_group, self._build_context_group,
                            self._build_front_group, self._build_output_group):
            group, group_form = build_group(body)
            outer.addWidget(group)
            forms.append(group_form)
        outer.addStretch(1)
        self._align_labels(tuple(forms))
        scroll.setWidget(body)

        self._build_footer(scroll, outer.contentsMargins())
        icon = resource("icons", "atlas_dock.svg")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))

        self._connect_signals()

    def _build_atlas_group(self, body):
        """The Atlas group: coverage, layers, page size and orientation, title and subtitle."""
        atlas_group = self._group(self.tr("Atlas"), "atlas_group", body)
        form = _form(atlas_group)
        self.coverage_combo = QgsMapLayerComboBox(body)
        self.coverage_combo.setFilters(QgsMapLayerProxyModel.Filter.HasGeometry)
        self.coverage_combo.setObjectName("coverage_combo")
        self.coverage_combo.setToolTip(self.tr("The layer whose features get one page each"))
        form.addRow(self.tr("Coverage"), self.coverage_combo)
        self.layers_list = QListWidget(body)
        self.layers_list.setObjectName("layers_list")
        self.layers_list.setMaximumHeight(110)
        self.layers_list.setToolTip(self.tr("The layers drawn on the maps, in the project's layer order"))
        form.addRow(self.tr("Layers"), self.layers_list)
        self.page_combo = QComboBox(body)
        self.page_combo.setObjectName("page_combo")
        self.page_combo.addItems(["A4", "A3"])
        self.orientation_combo = QComboBox(body)
        self.orientation_combo.setObjectName("orientation_combo")
        self.orientation_combo.addItem(self.tr("Landscape"), "landscape")
        self.orientation_combo.addItem(self.tr("Portrait"), "portrait")
        page_row = QHBoxLayout()
        page_row.addWidget(self.page_combo)
        page_row.addWidget(self.orientation_combo, 1)
        form.addRow(self.tr("Page"), page_row)
        self.title_edit = QLineEdit(DEFAULT_TITLE, body)
        self.title_edit.setObjectName("title_edit")
        form.addRow(self.tr("Title"), self.title_edit)
        self.subtitle_edit = QLineEdit(body)
        self.subtitle_edit.setObjectName("subtitle_edit")
        self.subtitle_edit.setPlaceholderText(self.tr("e.g. the area and the data date"))
        form.addRow(self.tr("Subtitle"), self.subtitle_edit)
        return atlas_group, form

    def _build_pages_group(self, body):
        """The Pages group: which features get a page, in which order, named how."""
        pages_group = self._group(self.tr("Pages"), "pages_group", body)
        pages_form = _form(pages_group)
        self.filter_widget = QgsFieldExpressionWidget(pages_group)
        self.filter_widget.setObjectName("filter_widget")
        self.filter_widget.setToolTip(self.tr('Only features where this is true get a page, e.g. "Gi_Bin" = 3'))
        pages_form.addRow(self.tr("Filter"), self.filter_widget)
        self.sort_widget = QgsFieldExpressionWidget(pages_group)
        self.sort_widget.setObjectName("sort_widget")
        self.sort_widget.setToolTip(self.tr("The order of the pages; empty: the layer's order"))
        self.sort_descending = QCheckBox(self.tr("Descending"), pages_group)
        self.sort_descending.setObjectName("sort_descending")
        pages_form.addRow(self.tr("Sort by"), self.sort_widget)
        pages_form.addRow("", self.sort_descending)
        self.name_widget = QgsFieldExpressionWidget(pages_group)
        self.name_widget.setObjectName("name_widget")
        self.name_widget.setToolTip(self.tr("The title of each page (a field or an expression); empty: guessed from "
                                       "the fields (a name field, else a numbered id)"))
        self._set_placeholder(self.name_widget, self.tr("automatic"))
        pages_form.addRow(self.tr("Page names"), self.name_widget)
        return pages_group, pages_form

    def _build_context_group(self, body):
        """The Context group: places, study area and basemap drawn on the maps."""
        context_group = self._group(self.tr("Context"), "context_group", body)
        context_form = _form(context_group)
        self.places_combo = QgsMapLayerComboBox(context_group)
        self.places_combo.setObjectName("places_combo")
        self.places_combo.setFilters(QgsMapLayerProxyModel.Filter.PointLayer)
        self._allow_empty(self.places_combo, self.tr("none"))
        self.places_combo.setToolTip(self.tr("Optional point layer of place names (towns, villages): labelled on the "
                                        "maps and used to say where each feature is"))
        context_form.addRow(self.tr("Places"), self.places_combo)
        self.place_field_combo = QgsFieldComboBox(context_group)
        self.place_field_combo.setObjectName("place_field_combo")
        self.place_field_combo.setAllowEmptyFieldName(True)
        self.place_field_combo.setToolTip(self.tr("The field with the place names; empty: detected"))
        context_form.addRow(self.tr("Place names"), self.place_field_combo)
        self.study_area_combo = QgsMapLayerComboBox(context_group)
        self.study_area_combo.setObjectName("study_area_combo")
        self.study_area_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self._allow_empty(self.study_area_combo, self.tr("coverage outline"))
        self.study_area_combo.setToolTip(self.tr("Optional polygons outlined on every map; empty: the outline of the "
                                            "coverage layer"))
        context_form.addRow(self.tr("Study area"), self.study_area_combo)
        self.basemap_edit = QLineEdit(context_group)
        self.basemap_edit.setObjectName("basemap_edit")
        self.basemap_edit.setPlaceholderText(self.tr("none (or an XYZ tile URL)"))
        self.basemap_edit.setClearButtonEnabled(True)
        self.basemap_edit.setToolTip(self.tr(
            "Optional XYZ tile URL for a basemap under the maps, e.g. {example}\n"
            "Tiles are downloaded while building and exporting, so they need a network connection, and each "
            "tile service has its own terms and attribution: fill in the tile credit."
        ).format(example=BASEMAP_EXAMPLE))
        context_form.addRow(self.tr("Basemap"), self.basemap_edit)
        self.basemap_attribution_edit = QLineEdit(context_group)
        self.basemap_attribution_edit.setObjectName("basemap_attribution_edit")
        self.basemap_attribution_edit.setPlaceholderText(self.tr("e.g. © OpenStreetMap contributors"))
        self.basemap_attribution_edit.setToolTip(self.tr("The credit line the basemap's tile service asks for, printed with "
                                                     "the attribution"))
        context_form.addRow(self.tr("Tile credit"), self.basemap_attribution_edit)
        return context_group, context_form

    def _build_front_group(self, body):
        """The Cover and front matter group: organisation, author, logo, front pages, credits."""
        front_group = self._group(self.tr("Cover and front matter"), "front_group", body)
        front_form = _form(front_group)
        self.organisation_edit = QLineEdit(front_group)
        self.organisation_edit.setObjectName("organisation_edit")
        self.organisation_edit.setPlaceholderText(self.tr("optional"))
        front_form.addRow(self.tr("Organisation"), self.organisation_edit)
        self.author_edit = QLineEdit(front_group)
        self.author_edit.setObjectName("author_edit")
        self.author_edit.setPlaceholderText(self.tr("optional"))
        front_form.addRow(self.tr("Author"), self.author_edit)
        self.logo_widget = QgsFileWidget(front_group)
        self.logo_widget.setObjectName("logo_widget")
        self.logo_widget.setFilter(self.tr("Images (*.png *.jpg *.jpeg *.svg *.gif *.bmp *.tif *.tiff)"))
        self.logo_widget.setToolTip(self.tr("Optional image for the cover (PNG, JPEG or SVG)"))
        front_form.addRow(self.tr("Logo"), self.logo_widget)
        checks = QGridLayout()
        checks.setContentsMargins(0, 0, 0, 0)
        self.cover_check = QCheckBox(self.tr("Cover"), front_group)
        self.cover_check.setObjectName("cover_check")
        self.overview_check = QCheckBox(self.tr("Overview"), front_group)
        self.overview_check.setObjectName("overview_check")
        self.overview_check.setToolTip(self.tr("A map of all the pages' features, labelled"))
        self.contents_check = QCheckBox(self.tr("Contents"), front_group)
        self.contents_check.setObjectName("contents_check")
        self.contents_check.setToolTip(self.tr("A list of the pages"))
        self.summary_check = QCheckBox(self.tr("Summary"), front_group)
        self.summary_check.setObjectName("summary_check")
        self.summary_check.setToolTip(self.tr("A table of the key figures of every feature"))
        self.methods_check = QCheckBox(self.tr("Methods"), front_group)
        self.methods_check.setObjectName("methods_check")
        self.methods_check.setToolTip(self.tr("How the results were made, and the data sources"))
        for index, check in enumerate((self.cover_check, self.overview_check, self.contents_check,
                                       self.summary_check, self.methods_check)):
            check.setChecked(True)
            checks.addWidget(check, index // 2, index % 2)
        front_form.addRow(checks)
        self.attribution_edit = QPlainTextEdit(DEFAULT_ATTRIBUTION, front_group)
        self.attribution_edit.setObjectName("attribution_edit")
        self.attribution_edit.setMaximumHeight(90)
        self.attribution_edit.setToolTip(self.tr("The data credits printed on every page ({year} becomes the current "
                                            "year)"))
        self.attribution_edit.setPlaceholderText(self.tr("empty: the credits in the layers' metadata"))
        front_form.addRow(self.tr("Attribution"), self.attribution_edit)
        self.uk_credits_button = None
        uk_credits = getattr(atlas_module, "UK_OPEN_DATA_ATTRIBUTION", "")
        if uk_credits:
            self.uk_credits_button = QPushButton(self.tr("UK open data credits"), front_group)
            self.uk_credits_button.setObjectName("uk_credits_button")
            self.uk_credits_button.setToolTip(self.tr("Fill in the credits of Companies House, OS, Royal Mail "
                                                 "(Code-Point Open) and ONS data, for atlases made from them"))
            self.uk_credits_button.clicked.connect(lambda: self.attribution_edit.setPlainText(uk_credits))
            front_form.addRow("", self.uk_credits_button)
        return front_group, front_form

    def _build_output_group(self, body):
        """The Layout and PDF group: template, build as, output PDF, open the designer."""
        output_group = self._group(self.tr("Layout and PDF"), "output_group", body)
        output_form = _form(output_group)
        self.template_widget = QgsFileWidget(output_group)
        self.template_widget.setObjectName("template_widget")
        self.template_widget.setFilter(self.tr("QGIS layout templates (*.qpt)"))
        self.template_widget.setToolTip(self.tr("Optional: a template saved from the layout designer (keep the cc_… "
                                           "item ids); empty: the shipped one for the page size"))
        output_form.addRow(self.tr("Template"), self.template_widget)
        self.build_as_combo = QComboBox(output_group)
        self.build_as_combo.setObjectName("build_as_combo")
        self.build_as_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.build_as_combo.setMinimumContentsLength(8)
        self.build_as_combo.setToolTip(self.tr("A new layout never touches the layouts already in the project. "
                                          "Replacing an atlas layout loses the changes made to it in the "
                                          "layout designer."))
        output_form.addRow(self.tr("Build as"), self.build_as_combo)
        self.output_widget = QgsFileWidget(output_group)
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        self.output_widget.setFilter(self.tr("PDF files (*.pdf)"))
        self.output_widget.setObjectName("output_widget")
        output_form.addRow(self.tr("Output PDF"), self.output_widget)
        self.open_designer_check = QCheckBox(self.tr("Open the layout after building"), output_group)
        self.open_designer_check.setObjectName("open_designer_check")
        self.open_designer_check.setToolTip(self.tr("Open the layout in the layout designer after building it"))
        output_form.addRow(self.open_designer_check)
        return output_group, output_form

    def _build_footer(self, scroll, margin):
        """Actions, progress and messages below the scrolling settings, always in view."""
        container = QWidget(self)
        container.setObjectName("atlas_dock_container")
        main = QVBoxLayout(container)
        main.setContentsMargins(0, 0, 0, 0)
        main.setSpacing(0)
        main.addWidget(scroll, 1)
        footer = QWidget(container)
        footer.setObjectName("atlas_dock_footer")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(margin.left(), margin.top() // 2, margin.right(), margin.bottom())
        buttons = QHBoxLayout()
        self.build_button = QPushButton(self.tr("Build layout"), footer)
        self.build_button.setObjectName("build_button")
        self.build_button.setToolTip(self.tr("Build the atlas into the project's layouts (see Build as)"))
        self.export_button = QPushButton(self.tr("Export PDF"), footer)
        self.export_button.setObjectName("export_button")
        self.export_button.setToolTip(self.tr("Export the atlas to the output PDF (building it first if the settings "
                                         "changed since the last build)"))
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.export_button)
        footer_layout.addLayout(buttons)
        self.progress_bar = QProgressBar(footer)
        self.progress_bar.setObjectName("progress_bar")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        footer_layout.addWidget(self.progress_bar)
        self.message_label = QLabel(footer)
        self.message_label.setWordWrap(True)
        self.message_label.setObjectName("message_label")
        self.message_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        footer_layout.addWidget(self.message_label)
        main.addWidget(footer)
        self.setWidget(container)

    def _connect_signals(self):
        """Connect the widgets' signals to the dock's handlers."""
        self.coverage_combo.layerChanged.connect(self._on_coverage_changed)
        self.places_combo.layerChanged.connect(self._on_places_changed)
        self._on_places_changed(self.places_combo.currentLayer())
        # QgsMapLayerComboBox picks a layer by itself when layers arrive without always saying so
        model = self.coverage_combo.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._sync_coverage)
        self.build_button.clicked.connect(self._build_clicked)
        self.export_button.clicked.connect(self._export_clicked)

    @staticmethod
    def _allow_empty(combo, text):
        """An optional layer: the named empty entry (first in the list) is chosen and stays chosen."""
        try:  # QGIS ≥ 3.20 can name the empty entry
            combo.setAllowEmptyLayer(True, text)
        except TypeError:
            combo.setAllowEmptyLayer(True)
        combo.setCurrentIndex(0)  # not the first layer, which the combo picks by itself

        def show_empty_entry(layer):  # setLayer(None) leaves no entry shown at all
            if layer is None and combo.currentIndex() < 0:
                combo.setCurrentIndex(0)

        combo.layerChanged.connect(show_empty_entry)

    @staticmethod
    def _align_labels(forms):
        """Give the label columns of the stacked forms one width, so their fields line up."""
        labels = []
        for form in forms:
            for row in range(form.rowCount()):
                item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if item is not None and isinstance(item.widget(), QLabel) and item.widget().text():
                    labels.append(item.widget())
        width = max((label.sizeHint().width() for label in labels), default=0)
        for label in labels:
            label.setMinimumWidth(width)

    def _on_places_changed(self, layer):
        self.place_field_combo.setLayer(layer)
        self.place_field_combo.setEnabled(layer is not None)

    @staticmethod
    def _set_placeholder(expression_widget, text):
        combo = expression_widget.findChild(QComboBox)
        if combo is not None and combo.lineEdit() is not None:
            combo.lineEdit().setPlaceholderText(text)

    def input_widgets(self):
        """The controls the user fills in or presses (for layout checks)."""
        return [
            self.coverage_combo, self.layers_list, self.page_combo, self.orientation_combo, self.title_edit,
            self.subtitle_edit, self.filter_widget, self.sort_widget, self.sort_descending, self.name_widget,
            self.places_combo, self.place_field_combo, self.study_area_combo, self.basemap_edit,
            self.basemap_attribution_edit, self.organisation_edit, self.author_edit, self.logo_widget,
            self.cover_check, self.overview_check, self.contents_check, self.summary_check, self.methods_check,
            self.attribution_edit, *([self.uk_credits_button] if self.uk_credits_button is not None else []),
            self.template_widget, self.build_as_combo, self.output_widget,
            self.open_designer_check, self.build_button, self.export_button,
        ]

    # --- layer list -----------------------------------------------------------------------------------
    def _ordered_layers(self):
        project = QgsProject.instance()
        ordered = [lyr for lyr in project.layerTreeRoot().layerOrder() if lyr is not None]
        known = {lyr.id() for lyr in ordered}
        ordered += [lyr for lyr in project.mapLayers().values() if lyr.id() not in known]
        return [lyr for lyr in ordered if lyr.type() in (lyr.VectorLayer, lyr.RasterLayer)]

    def _refresh_layer_list(self, *_):
        checked = {self.layers_list.item(i).data(Qt.ItemDataRole.UserRole)
                   for i in range(self.layers_list.count())
                   if self.layers_list.item(i).checkState() == Qt.CheckState.Checked}
        coverage = self.coverage_combo.currentLayer()
        self.layers_list.clear()
        for layer in self._ordered_layers():
            item = QListWidgetItem(layer.name())
            item.setData(Qt.ItemDataRole.UserRole, layer.id())
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            wanted = layer.id() in checked or (not checked and coverage is not None and layer.id() == coverage.id())
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
            self.layers_list.addItem(item)

    def _sync_coverage(self, *_):
        layer = self.coverage_combo.currentLayer()
        if (layer.id() if layer is not None else None) != self._coverage_id:
            self._on_coverage_changed(layer)

    def _on_coverage_changed(self, layer):
        self._coverage_id = layer.id() if layer is not None else None
        self.filter_widget.setLayer(layer)
        self.sort_widget.setLayer(layer)
        self.name_widget.setLayer(layer)
        if layer is not None:
            for i in range(self.layers_list.count()):
                item = self.layers_list.item(i)
                if item.data(Qt.ItemDataRole.UserRole) == layer.id():
                    item.setCheckState(Qt.CheckState.Checked)
        has_layer = layer is not None
        self.build_button.setEnabled(has_layer and not self._exporting)
        self.export_button.setEnabled(has_layer and not self._exporting)
        if not has_layer:
            self._message(self.tr("Add a polygon, line or point layer to the project to make an atlas."))

    def checked_layers(self):
        """The ticked layers, top first in the project's current layer order."""
        ticked = {self.layers_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.layers_list.count())
                  if self.layers_list.item(i).checkState() == Qt.CheckState.Checked}
        return [layer for layer in self._ordered_layers() if layer.id() in ticked]

    def set_checked_layers(self, layers):
        ids = {lyr.id() for lyr in layers}
        for i in range(self.layers_list.count()):
            item = self.layers_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in ids else Qt.CheckState.Unchecked)

    # --- settings ------------------------------------------------------------------------------------------
    def current_settings(self) -> AtlasSettings:
        """The :class:`AtlasSettings` the dock's controls describe (``layout_name`` is set when building)."""
        return AtlasSettings(
            title=self.title_edit.text().strip() or DEFAULT_TITLE,
            subtitle=self.subtitle_edit.text().strip(),
            page_size=self.page_combo.currentText(),
            orientation=self.orientation_combo.currentData(),
            layers=self.checked_layers() or None,
            filter_expression=self.filter_widget.currentText().strip(),
            sort_expression=self.sort_widget.currentText().strip(),
            sort_ascending=not self.sort_descending.isChecked(),
            name_expression=self.name_widget.currentText().strip(),
            attribution=self.attribution_edit.toPlainText(),
            template=self.template_widget.filePath() or None,
            cover=self.cover_check.isChecked(),
            overview=self.overview_check.isChecked(),
            places=self.places_combo.currentLayer(),
            place_field=(self.place_field_combo.currentField() or "") if self.places_combo.currentLayer() else "",
            study_area=self.study_area_combo.currentLayer(),
            basemap_url=self.basemap_edit.text().strip(),
            basemap_attribution=self.basemap_attribution_edit.text().strip(),
            organisation=self.organisation_edit.text().strip(),
            author=self.author_edit.text().strip(),
            logo=self.logo_widget.filePath().strip() or None,
            contents=self.contents_check.isChecked(),
            summary=self.summary_check.isChecked(),
            methods=self.methods_check.isChecked(),
        )

    settings = current_settings  # the older name

    def _settings_key(self, coverage, settings):
        def layer_id(layer):
            return layer.id() if layer is not None else None

        data = {
            "coverage": layer_id(coverage),
            "layers": [lyr.id() for lyr in settings.layers or []],
            "places": layer_id(settings.places),
            "study_area": layer_id(settings.study_area),
            **{k: getattr(settings, k) for k in (
                "title", "subtitle", "page_size", "orientation", "filter_expression", "sort_expression",
                "sort_ascending", "name_expression", "attribution", "cover", "overview", "place_field",
                "basemap_url", "basemap_attribution", "organisation", "author", "contents", "summary", "methods")},
            "template": str(settings.template or ""),
            "logo": str(settings.logo or ""),
        }
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()

    # --- messages ------------------------------------------------------------------------------------------
    def _message(self, text, error=False):
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #b2182b;" if error else "color: #2b5d34;")
        if error and self.iface is not None and hasattr(self.iface, "messageBar"):
            try:
                self.iface.messageBar().pushWarning("Creative Clusters", text)
            except Exception:  # a test iface without a full message bar
                pass

    # --- which layout to build into ------------------------------------------------------------------------
    @staticmethod
    def _atlas_layouts():
        """The atlas layouts in the project's layout manager (built by this dock, now or in an earlier session)."""
        layouts = []
        for layout in QgsProject.instance().layoutManager().printLayouts():
            atlas_id = layout.customProperty(ATLAS_ID_PROPERTY)
            if atlas_id:
                layouts.append((str(atlas_id), layout))
        return layouts

    def _layout_by_id(self, atlas_id):
        if not atlas_id:
            return None
        return next((layout for aid, layout in self._atlas_layouts() if aid == atlas_id), None)

    def _refresh_build_as(self, *_):
        combo = self.build_as_combo
        wanted = combo.currentData()
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(self.tr("New layout"), None)
            for atlas_id, layout in self._atlas_layouts():
                combo.addItem(self.tr("Replace “{name}”").format(name=layout.name()), atlas_id)
            index = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)

    def _select_build_as(self, atlas_id):
        index = self.build_as_combo.findData(atlas_id) if atlas_id else 0
        self.build_as_combo.setCurrentIndex(max(index, 0))

    def replace_target(self):
        """The layout chosen under "Build as" to be replaced, or None for a new layout."""
        return self._layout_by_id(self.build_as_combo.currentData())

    def set_replace_target(self, layout=None):
        """Choose "Build as": ``None`` for a new layout, else an atlas layout to replace."""
        self._refresh_build_as()
        atlas_id = layout.customProperty(ATLAS_ID_PROPERTY) if layout is not None else None
        index = self.build_as_combo.findData(str(atlas_id)) if atlas_id else 0
        if index < 0:
            raise ValueError("Only an atlas layout built by the dock can be replaced.")
        self.build_as_combo.setCurrentIndex(index)

    def confirm_replace(self, name) -> bool:
        """Ask before replacing a layout (tests replace this method with a function)."""
        answer = QMessageBox.question(
            self, self.tr("Replace layout"),
            self.tr("Replace the layout “{name}”? Changes made to it in the layout designer will be lost "
                    "(and its designer window closes).").format(name=name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    @staticmethod
    def _unique_name(base):
        manager = QgsProject.instance().layoutManager()
        name, n = base, 2
        while manager.layoutByName(name) is not None:
            name = f"{base} ({n})"
            n += 1
        return name

    # --- building ------------------------------------------------------------------------------------------
    def current_layout(self):
        """The layout this dock built last, if it is still in the project (the user may have deleted it)."""
        return self._layout_by_id(self._atlas_id)

    def build_layout(self, open_designer=None):
        """Build the atlas layout into the project's layout manager; returns it (None + message on error).

        A new layout with a new name, unless "Build as" names an atlas layout to replace (after
        :meth:`confirm_replace`).
        """
        coverage = self.coverage_combo.currentLayer()
        if coverage is None:
            self._message(self.tr("Choose a coverage layer first."), error=True)
            return None
        settings = self.current_settings()
        manager = QgsProject.instance().layoutManager()
        target = self.replace_target()
        if target is not None:
            name, atlas_id = target.name(), str(target.customProperty(ATLAS_ID_PROPERTY))
            if not self.confirm_replace(name):
                self._message(self.tr("Nothing built: the layout “{name}” was kept.").format(name=name))
                return None
        else:
            name, atlas_id = self._unique_name(f"{settings.title} – {coverage.name()}"), uuid.uuid4().hex
        settings.layout_name = name
        try:
            build = atlas_module.build_atlas(coverage, settings, QgsProject.instance())
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        if target is not None:
            manager.removeLayout(target)
        build.layout.setName(name)
        build.layout.setCustomProperty(ATLAS_ID_PROPERTY, atlas_id)
        if not manager.addLayout(build.layout):  # should not happen: the name was free or freed
            build.layout.setName(self._unique_name(name))
            manager.addLayout(build.layout)
        self._atlas_id = atlas_id
        self._built_key = self._settings_key(coverage, settings)
        self.last_build = build
        self._refresh_build_as()
        if target is not None:  # keep offering to replace the same layout (it left the combo for a moment)
            self._select_build_as(atlas_id)
        verb = self.tr("replaced") if target is not None else self.tr("built")
        text = self.tr("Layout “{name}” {verb}: {pages} pages ({count} {features}).").format(
            name=build.layout.name(), verb=verb, pages=build.page_count, count=build.feature_count,
            features=atlas_module.feature_words(coverage)[1])
        if build.warnings:
            text += " " + " ".join(build.warnings)
        self._message(text)
        if open_designer is None:
            open_designer = self.open_designer_check.isChecked()
        if open_designer and self.iface is not None and hasattr(self.iface, "openLayoutDesigner"):
            self.iface.openLayoutDesigner(build.layout)
        return build.layout

    def _layout_for_export(self):
        coverage = self.coverage_combo.currentLayer()
        layout = self.current_layout()
        stale = (layout is None or coverage is None or layout.atlas().coverageLayer() is None
                 or self._built_key != self._settings_key(coverage, self.current_settings()))
        if stale:
            layout = self.build_layout(open_designer=False)
        return layout

    # --- exporting ------------------------------------------------------------------------------------------
    def _page_counts(self, layout):
        """(pages before the first atlas feature, total pages) of ``layout``'s PDF."""
        count = layout.atlas().updateFeatures()
        build = self.last_build
        if build is not None and build.layout is layout:
            return build.front_pages, max(build.page_count, count + build.front_pages)
        # a layout built in an earlier session: the builder stored its front page count as a variable
        try:
            front = int(QgsExpressionContextUtils.layoutScope(layout).variable("cc_front_pages") or 0)
        except (TypeError, ValueError):
            front = 0
        return front, count + front

    def export_pdf(self, path=None, feedback=None):
        """Export the atlas to ``path`` (default: the output widget); returns the path or None (message shown).

        Runs on the main thread with a modal progress dialog (see the module docstring); ``feedback`` may be
        given (tests cancel through it).
        """
        if self._exporting:
            return None
        path = path or self.output_widget.filePath()
        if not path:
            self._message(self.tr("Choose an output PDF file."), error=True)
            return None
        try:
            path = atlas_module.check_output_path(path)
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        layout = self._layout_for_export()
        if layout is None:
            return None
        feedback = feedback or QgsFeedback()
        front, total = self._page_counts(layout)
        features = max(layout.atlas().count(), 1)
        dialog = QProgressDialog(self.tr("Exporting the atlas…"), self.tr("Cancel"), 0, 100, self)
        dialog.setObjectName("atlas_progress_dialog")
        dialog.setWindowTitle(self.tr("Creative Clusters atlas"))
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(feedback.cancel)
        self._progress_dialog = dialog

        def on_progress(value):
            # QgsLayoutExporter reports progress before rendering each atlas feature: 100 * i / count
            index = min(int(round(value * features / 100.0)), features - 1)
            first = index + 1 + (front if index > 0 else 0)
            last = index + 1 + front
            if first == last:
                text = self.tr("Exporting page {page} of {total}…").format(page=last, total=total)
            else:
                text = self.tr("Exporting pages {first}–{last} of {total}…").format(first=first, last=last,
                                                                                    total=total)
            self.progress_bar.setValue(int(value))
            self.progress_bar.setFormat(self.tr("page {page} of {total}").format(page=last, total=total))
            dialog.setLabelText(text)
            dialog.setValue(int(value))
            QCoreApplication.processEvents()

        feedback.progressChanged.connect(on_progress)
        self._exporting = True
        self.build_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.progress_bar.setValue(0)
        dialog.show()
        on_progress(0)
        try:
            written = atlas_module.export_atlas_pdf(layout, path, feedback)
        except CancelledError:
            self._message(self.tr("Export cancelled: no PDF was written."), error=True)
            return None
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        finally:
            try:
                feedback.progressChanged.disconnect(on_progress)
            except (TypeError, RuntimeError):
                pass
            self._progress_dialog = None
            dialog.close()
            dialog.deleteLater()
            self._exporting = False
            self.progress_bar.setFormat("%p%")
            self.build_button.setEnabled(self.coverage_combo.currentLayer() is not None)
            self.export_button.setEnabled(self.coverage_combo.currentLayer() is not None)
        self.progress_bar.setValue(100)
        self._message(self.tr("Atlas written to {path} ({pages} pages, from the layout “{name}”).").format(
            path=written, pages=total, name=layout.name()))
        return Path(written)

    def _build_clicked(self):
        self.build_layout()

    def _export_clicked(self):
        self.export_pdf()

    def cleanup(self):
        """Disconnect from the project (called when the plugin unloads)."""
        project = QgsProject.instance()
        for signal in (project.layersAdded, project.layersRemoved, project.layerTreeRoot().layerOrderChanged):
            try:
                signal.disconnect(self._refresh_layer_list)
            except (TypeError, RuntimeError):
                pass
        manager = project.layoutManager()
        for signal in (manager.layoutAdded, manager.layoutRemoved, manager.layoutRenamed):
            try:
                signal.disconnect(self._refresh_build_as)
            except (TypeError, RuntimeError):
                pass
