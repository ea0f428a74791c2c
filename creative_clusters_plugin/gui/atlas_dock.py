"""The atlas dock: choose a coverage layer and options, build the print layout, export the PDF map book.

The layout comes from :mod:`creative_clusters_plugin.layout.atlas` (the same code as
``creativeclusters:exportatlas``) and is added to the project's layout manager, so the user can open it in
the layout designer, edit it, and export again from the dock: the edited layout is exported as long as the
dock's settings have not changed since it was built.

Why the export runs on the main thread: a print layout is a ``QGraphicsScene``; QGIS renders layouts on
the main thread only (its designer, ``native:atlaslayouttopdf`` and the ``QgsLayoutExporter`` API all do).
A ``QgsTask`` would have to render a layout owned by the GUI thread, which is not safe in QGIS 3.22. So the
dock does what QGIS's layout designer does for atlas exports: ``QgsLayoutExporter.exportToPdf(atlas, …,
feedback)`` with a ``QgsFeedback`` whose progress (page by page) drives an application-modal
``QProgressDialog`` and the dock's progress bar and processes events — the window repaints, Cancel works
between pages, and nothing else (like removing the coverage layer) can happen mid-export.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qgis.core import QgsFeedback, QgsMapLayerProxyModel, QgsProject
from qgis.gui import QgsDockWidget, QgsFieldExpressionWidget, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CancelledError, CreativeClustersError
from ..layout import atlas as atlas_module
from ..layout.atlas import DEFAULT_ATTRIBUTION, DEFAULT_TITLE, AtlasSettings
from ..resources_path import resource

TITLE = "Creative Clusters – Atlas"


class AtlasDock(QgsDockWidget):
    """Dock widget that builds and exports the creative-cluster atlas."""

    def __init__(self, iface=None, parent=None):
        super().__init__(TITLE, parent)
        self.setObjectName("CreativeClustersAtlasDock")
        self.iface = iface
        self._layout_name = None  # name of the layout this dock built (in the project's layout manager)
        self._built_key = None  # settings the layout was built with
        self.last_build = None
        self._exporting = False
        self._coverage_id = None
        self._build_ui()
        project = QgsProject.instance()
        project.layersAdded.connect(self._refresh_layer_list)
        project.layersRemoved.connect(self._refresh_layer_list)
        project.layerTreeRoot().layerOrderChanged.connect(self._refresh_layer_list)
        self._refresh_layer_list()
        self._on_coverage_changed(self.coverage_combo.currentLayer())

    # --- widgets ---------------------------------------------------------------------------------------
    def _build_ui(self):
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        body = QWidget(scroll)
        outer = QVBoxLayout(body)
        form = QFormLayout()
        self.coverage_combo = QgsMapLayerComboBox(body)
        self.coverage_combo.setFilters(QgsMapLayerProxyModel.HasGeometry)
        self.coverage_combo.setObjectName("coverage_combo")
        form.addRow("Coverage (one page each)", self.coverage_combo)
        self.layers_list = QListWidget(body)
        self.layers_list.setObjectName("layers_list")
        self.layers_list.setMaximumHeight(120)
        form.addRow("Layers to show", self.layers_list)
        self.page_combo = QComboBox(body)
        self.page_combo.addItems(["A4", "A3"])
        self.orientation_combo = QComboBox(body)
        self.orientation_combo.addItem("Landscape", "landscape")
        self.orientation_combo.addItem("Portrait", "portrait")
        page_row = QHBoxLayout()
        page_row.addWidget(self.page_combo)
        page_row.addWidget(self.orientation_combo)
        form.addRow("Page", page_row)
        self.title_edit = QLineEdit(DEFAULT_TITLE, body)
        self.title_edit.setObjectName("title_edit")
        form.addRow("Title", self.title_edit)
        self.subtitle_edit = QLineEdit(body)
        self.subtitle_edit.setPlaceholderText("e.g. the area and the data date")
        form.addRow("Subtitle", self.subtitle_edit)
        self.filter_widget = QgsFieldExpressionWidget(body)
        self.filter_widget.setObjectName("filter_widget")
        self.filter_widget.setToolTip('Only features where this is true get a page, e.g. "Gi_Bin" = 3')
        form.addRow("Filter", self.filter_widget)
        self.sort_widget = QgsFieldExpressionWidget(body)
        self.sort_widget.setObjectName("sort_widget")
        self.sort_descending = QCheckBox("Descending", body)
        sort_row = QHBoxLayout()
        sort_row.addWidget(self.sort_widget, 1)
        sort_row.addWidget(self.sort_descending)
        form.addRow("Sort by", sort_row)
        self.cover_check = QCheckBox("Cover page", body)
        self.cover_check.setChecked(True)
        self.overview_check = QCheckBox("Overview page", body)
        self.overview_check.setChecked(True)
        front_row = QHBoxLayout()
        front_row.addWidget(self.cover_check)
        front_row.addWidget(self.overview_check)
        form.addRow("Front pages", front_row)
        self.template_widget = QgsFileWidget(body)
        self.template_widget.setFilter("QGIS layout templates (*.qpt)")
        self.template_widget.setToolTip("Optional: a template saved from the layout designer (keep the cc_… item ids)")
        form.addRow("Template (optional)", self.template_widget)
        self.output_widget = QgsFileWidget(body)
        self.output_widget.setStorageMode(QgsFileWidget.SaveFile)
        self.output_widget.setFilter("PDF files (*.pdf)")
        self.output_widget.setObjectName("output_widget")
        form.addRow("Output PDF", self.output_widget)
        self.attribution_edit = QPlainTextEdit(DEFAULT_ATTRIBUTION, body)
        self.attribution_edit.setObjectName("attribution_edit")
        self.attribution_edit.setMaximumHeight(90)
        form.addRow("Attribution", self.attribution_edit)
        outer.addLayout(form)

        self.open_designer_check = QCheckBox("Open the layout in the layout designer after building", body)
        outer.addWidget(self.open_designer_check)
        buttons = QHBoxLayout()
        self.build_button = QPushButton("Build layout", body)
        self.build_button.setObjectName("build_button")
        self.export_button = QPushButton("Export PDF", body)
        self.export_button.setObjectName("export_button")
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.export_button)
        outer.addLayout(buttons)
        self.progress_bar = QProgressBar(body)
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        outer.addWidget(self.progress_bar)
        self.message_label = QLabel(body)
        self.message_label.setWordWrap(True)
        self.message_label.setObjectName("message_label")
        outer.addWidget(self.message_label)
        outer.addStretch(1)
        scroll.setWidget(body)
        self.setWidget(scroll)
        icon = resource("icons", "atlas_dock.svg")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))

        self.coverage_combo.layerChanged.connect(self._on_coverage_changed)
        # QgsMapLayerComboBox picks a layer by itself when layers arrive without always saying so
        model = self.coverage_combo.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._sync_coverage)
        self.build_button.clicked.connect(self._build_clicked)
        self.export_button.clicked.connect(self._export_clicked)

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
        if layer is not None:
            for i in range(self.layers_list.count()):
                item = self.layers_list.item(i)
                if item.data(Qt.ItemDataRole.UserRole) == layer.id():
                    item.setCheckState(Qt.CheckState.Checked)
        has_layer = layer is not None
        self.build_button.setEnabled(has_layer)
        self.export_button.setEnabled(has_layer)
        if not has_layer:
            self._message("Add a polygon, line or point layer to the project to make an atlas.")

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
    def settings(self) -> AtlasSettings:
        return AtlasSettings(
            title=self.title_edit.text().strip() or DEFAULT_TITLE,
            subtitle=self.subtitle_edit.text().strip(),
            page_size=self.page_combo.currentText(),
            orientation=self.orientation_combo.currentData(),
            layers=self.checked_layers() or None,
            filter_expression=self.filter_widget.currentText().strip(),
            sort_expression=self.sort_widget.currentText().strip(),
            sort_ascending=not self.sort_descending.isChecked(),
            attribution=self.attribution_edit.toPlainText(),
            template=self.template_widget.filePath() or None,
            cover=self.cover_check.isChecked(),
            overview=self.overview_check.isChecked(),
        )

    def _settings_key(self, coverage, settings):
        data = {
            "coverage": coverage.id() if coverage is not None else None,
            "layers": [lyr.id() for lyr in settings.layers or []],
            **{k: getattr(settings, k) for k in ("title", "subtitle", "page_size", "orientation", "filter_expression",
                                                 "sort_expression", "sort_ascending", "attribution", "cover",
                                                 "overview")},
            "template": str(settings.template or ""),
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

    # --- building ------------------------------------------------------------------------------------------
    def current_layout(self):
        """The layout this dock built, if it is still in the project (the user may have deleted it)."""
        if not self._layout_name:
            return None
        return QgsProject.instance().layoutManager().layoutByName(self._layout_name)

    def build_layout(self, open_designer=None):
        """Build the atlas layout into the project's layout manager; returns it (None + message on error)."""
        coverage = self.coverage_combo.currentLayer()
        if coverage is None:
            self._message("Choose a coverage layer first.", error=True)
            return None
        settings = self.settings()
        manager = QgsProject.instance().layoutManager()
        base = f"{settings.title} – {coverage.name()}"
        settings.layout_name = base
        try:
            build = atlas_module.build_atlas(coverage, settings, QgsProject.instance())
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        previous = self.current_layout()
        if previous is not None:
            manager.removeLayout(previous)
        name, n = base, 2
        while manager.layoutByName(name) is not None:
            name = f"{base} ({n})"
            n += 1
        build.layout.setName(name)
        manager.addLayout(build.layout)
        self._layout_name = name
        self._built_key = self._settings_key(coverage, settings)
        self.last_build = build
        text = f"Layout “{name}” built: {build.page_count} pages ({build.feature_count} {atlas_module.feature_words(coverage)[1]})."
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
                 or self._built_key != self._settings_key(coverage, self.settings()))
        if stale:
            layout = self.build_layout(open_designer=False)
        return layout

    # --- exporting ------------------------------------------------------------------------------------------
    def export_pdf(self, path=None, feedback=None):
        """Export the atlas to ``path`` (default: the output widget); returns the path or None (message shown).

        Runs on the main thread with a modal progress dialog (see the module docstring); ``feedback`` may be
        given (tests cancel through it).
        """
        if self._exporting:
            return None
        path = path or self.output_widget.filePath()
        if not path:
            self._message("Choose an output PDF file.", error=True)
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
        dialog = QProgressDialog("Exporting the atlas…", "Cancel", 0, 100, self)
        dialog.setWindowTitle("Creative Clusters atlas")
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(feedback.cancel)

        def on_progress(value):
            self.progress_bar.setValue(int(value))
            dialog.setValue(int(value))
            label = feedback.property("progress")
            if label:
                dialog.setLabelText(str(label))
            QCoreApplication.processEvents()

        feedback.progressChanged.connect(on_progress)
        self._exporting = True
        self.build_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.progress_bar.setValue(0)
        dialog.show()
        try:
            written = atlas_module.export_atlas_pdf(layout, path, feedback)
        except CancelledError:
            self._message("Export cancelled: no PDF was written.", error=True)
            return None
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        finally:
            try:
                feedback.progressChanged.disconnect(on_progress)
            except (TypeError, RuntimeError):
                pass
            dialog.close()
            dialog.deleteLater()
            self._exporting = False
            self.build_button.setEnabled(self.coverage_combo.currentLayer() is not None)
            self.export_button.setEnabled(self.coverage_combo.currentLayer() is not None)
        self.progress_bar.setValue(100)
        pages = layout.atlas().count() + (self.last_build.front_pages if self.last_build is not None else 0)
        self._message(f"Atlas written to {written} ({pages} pages).")
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
