"""The style dock: recognise a result layer by its fields and style it in one click.

Lists the project's vector and raster layers (a ``QgsMapLayerComboBox``, which follows layers being added
and removed), tells what kind of Creative Clusters result the chosen layer is, offers the matching styles
and their options, and applies them with :func:`creative_clusters_plugin.styling.apply_style` — the same
code the algorithms' outputs use, so a layer styled here and one loaded by Processing look the same.
Reset restores the style the layer had before the dock first changed it; Save/Load QML use QGIS's own
style files. Layers are never cached: every action asks the combo box for the current layer, so a layer
removed while the dock is open cannot be used after deletion.
"""

from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel, QgsProject, QgsStyle, QgsSymbolLayerUtils
from qgis.gui import QgsDockWidget, QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication, QSize
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CreativeClustersError
from ..resources_path import resource
from ..styling import apply as styling
from ..styling.renderers import CLASSIFICATION_METHODS, RAMP_CHOICES, find_field

TITLE = "Creative Clusters – Style results"


class StyleDock(QgsDockWidget):
    """Dock widget offering the plugin's styles for the selected layer."""

    def __init__(self, iface=None, parent=None):
        super().__init__(QCoreApplication.translate("StyleDock", TITLE), parent)
        self.setObjectName("CreativeClustersStyleDock")
        self.iface = iface
        self._snapshots = {}  # layer id -> QgsMapLayerStyle before the dock first changed it
        self._shown_layer_id = None
        self._build_ui()
        project = QgsProject.instance()
        project.layersWillBeRemoved.connect(self._forget_layers)
        self._on_layer_changed(self.layer_combo.currentLayer())

    # --- widgets -----------------------------------------------------------------------------------
    def _build_ui(self):
        body = QWidget(self)
        outer = QVBoxLayout(body)
        form = QFormLayout()
        self.layer_combo = QgsMapLayerComboBox(body)
        self.layer_combo.setFilters(QgsMapLayerProxyModel.VectorLayer | QgsMapLayerProxyModel.RasterLayer)
        self.layer_combo.setObjectName("layer_combo")
        form.addRow("Layer", self.layer_combo)
        self.type_label = QLabel(body)
        self.type_label.setWordWrap(True)
        self.type_label.setObjectName("type_label")
        form.addRow("Recognised as", self.type_label)
        self.style_combo = QComboBox(body)
        self.style_combo.setObjectName("style_combo")
        form.addRow("Style", self.style_combo)
        self.field_combo = QgsFieldComboBox(body)
        self.field_combo.setObjectName("field_combo")
        form.addRow("Field", self.field_combo)
        outer.addLayout(form)

        self.options_box = QGroupBox(self.tr("Options"), body)
        options = QFormLayout(self.options_box)
        self.method_combo = QComboBox(self.options_box)
        for key, (_, label) in CLASSIFICATION_METHODS.items():
            self.method_combo.addItem(label, key)
        self.method_label = QLabel(self.tr("Classes"), self.options_box)
        options.addRow(self.method_label, self.method_combo)
        self.classes_spin = QSpinBox(self.options_box)
        self.classes_spin.setRange(2, 12)
        self.classes_spin.setValue(5)
        self.classes_label = QLabel(self.tr("Number of classes"), self.options_box)
        options.addRow(self.classes_label, self.classes_spin)
        self.ramp_combo = QComboBox(self.options_box)
        self.ramp_combo.setIconSize(QSize(60, 14))
        self.ramp_label = QLabel(self.tr("Colour ramp"), self.options_box)
        options.addRow(self.ramp_label, self.ramp_combo)
        self.invert_check = QCheckBox(self.tr("Invert ramp"), self.options_box)
        options.addRow("", self.invert_check)
        self.transparency_spin = QSpinBox(self.options_box)
        self.transparency_spin.setRange(0, 90)
        self.transparency_spin.setSuffix(" %")
        self.transparency_spin.setValue(5)
        self.transparency_label = QLabel(self.tr("Transparent below"), self.options_box)
        options.addRow(self.transparency_label, self.transparency_spin)
        outer.addWidget(self.options_box)
        self._fill_ramps()

        buttons = QHBoxLayout()
        self.apply_button = QPushButton(self.tr("Apply"), body)
        self.apply_button.setObjectName("apply_button")
        self.reset_button = QPushButton(self.tr("Reset"), body)
        self.reset_button.setObjectName("reset_button")
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.reset_button)
        outer.addLayout(buttons)
        files = QHBoxLayout()
        self.save_button = QPushButton(self.tr("Save QML…"), body)
        self.load_button = QPushButton(self.tr("Load QML…"), body)
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)
        outer.addLayout(files)
        self.message_label = QLabel(body)
        self.message_label.setWordWrap(True)
        self.message_label.setObjectName("message_label")
        outer.addWidget(self.message_label)
        outer.addStretch(1)
        self.setWidget(body)
        icon = resource("icons", "style_dock.svg")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))

        self.layer_combo.layerChanged.connect(self._on_layer_changed)
        # QgsMapLayerComboBox picks a layer by itself when layers arrive without always saying so
        model = self.layer_combo.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._sync_layer)
        self.style_combo.currentIndexChanged.connect(self._on_style_changed)
        self.method_combo.currentIndexChanged.connect(self._update_option_visibility)
        self.apply_button.clicked.connect(self.apply)
        self.reset_button.clicked.connect(self.reset)
        self.save_button.clicked.connect(self._save_clicked)
        self.load_button.clicked.connect(self._load_clicked)

    def _fill_ramps(self):
        style = QgsStyle.defaultStyle()
        self.ramp_combo.addItem(self.tr("Default of the style"), None)
        for name in RAMP_CHOICES:
            icon = QIcon()
            try:
                ramp = style.colorRamp(name)
                if ramp is not None:
                    icon = QgsSymbolLayerUtils.colorRampPreviewIcon(ramp, QSize(60, 14))
            except Exception:  # a broken user style database only costs the preview icon
                pass
            self.ramp_combo.addItem(icon, name, name)

    # --- state ----------------------------------------------------------------------------------------
    def current_layer(self):
        return self.layer_combo.currentLayer()

    def set_layer(self, layer):
        self.layer_combo.setLayer(layer)
        self._on_layer_changed(layer)

    def current_style(self):
        return self.style_combo.currentData()

    def set_style(self, name):
        index = self.style_combo.findData(name)
        if index < 0:
            raise CreativeClustersError(f"The style '{name}' is not offered for this layer.")
        self.style_combo.setCurrentIndex(index)

    def available_styles(self):
        return [self.style_combo.itemData(i) for i in range(self.style_combo.count()) if self.style_combo.itemData(i)]

    def options(self) -> dict:
        """The options of the current style as :func:`apply_style` keywords."""
        style = self.current_style()
        ramp = self.ramp_combo.currentData()  # None: the style's own default colours
        if style == "lq":
            return {"method": self.method_combo.currentData(), "classes": self.classes_spin.value(), "ramp": ramp,
                    "invert": self.invert_check.isChecked()}
        if style == "corridor_links":
            return {"classes": self.classes_spin.value()}
        if style == "corridors":
            return {"ramp": ramp}
        if style == "density":
            return {"ramp": ramp, "invert": self.invert_check.isChecked(),
                    "transparent_fraction": self.transparency_spin.value() / 100.0}
        return {}

    def set_options(self, method=None, classes=None, ramp=None, invert=None, transparent_percent=None):
        if method is not None:
            self.method_combo.setCurrentIndex(max(self.method_combo.findData(method), 0))
        if classes is not None:
            self.classes_spin.setValue(int(classes))
        if ramp is not None:
            self.ramp_combo.setCurrentIndex(max(self.ramp_combo.findData(ramp), 0))
        elif method is not None:
            self.ramp_combo.setCurrentIndex(0)
        if invert is not None:
            self.invert_check.setChecked(bool(invert))
        if transparent_percent is not None:
            self.transparency_spin.setValue(int(transparent_percent))

    # --- reactions --------------------------------------------------------------------------------------
    def _sync_layer(self, *_):
        layer = self.layer_combo.currentLayer()
        if (layer.id() if layer is not None else None) != self._shown_layer_id:
            self._on_layer_changed(layer)

    def _on_layer_changed(self, layer):
        self._shown_layer_id = layer.id() if layer is not None else None
        if self.message_label.text():
            self.message_label.clear()
        self.style_combo.blockSignals(True)
        self.style_combo.clear()
        if layer is None:
            self.type_label.setText(self.tr("No layer: add a result layer to the project."))
            self.field_combo.setLayer(None)
        else:
            matching = styling.matching_styles(layer)
            kind = "raster" if layer.type() == layer.RasterLayer else "vector"
            if matching:
                self.type_label.setText(self.tr(", ").join(styling.STYLES[name][0] for name in matching))
            else:
                self.type_label.setText(self.tr("Not a recognised Creative Clusters result: choose a style yourself."))
            for name in matching:
                self.style_combo.addItem(styling.STYLES[name][0], name)
            others = [name for name, (_, style_kind, _) in styling.STYLES.items()
                      if name not in matching and style_kind == kind]
            if others and matching:
                self.style_combo.insertSeparator(self.style_combo.count())
            for name in others:
                self.style_combo.addItem(styling.STYLES[name][0], name)
            self.field_combo.setLayer(layer if kind == "vector" else None)
        self.style_combo.blockSignals(False)
        self._on_style_changed()
        self._set_enabled(layer is not None)

    def _set_enabled(self, enabled):
        for widget in (self.style_combo, self.field_combo, self.options_box, self.apply_button, self.reset_button,
                       self.save_button, self.load_button):
            widget.setEnabled(enabled)

    def _on_style_changed(self, *_):
        style = self.current_style()
        layer = self.current_layer()
        default_field = styling.STYLES.get(style, (None, None, None))[2] if style else None
        if layer is not None and layer.type() == layer.VectorLayer and default_field:
            name = find_field(layer, default_field)
            if style == "lq" and name is None:
                name = next((n for n in layer.fields().names() if n.lower().startswith("lq_")), None)
            if style == "microclusters" and name is None:
                name = find_field(layer, "cc_cluster_id")
            self.field_combo.setField(name or "")
        self._update_option_visibility()

    def _update_option_visibility(self, *_):
        style = self.current_style()
        is_lq = style == "lq"
        graduated = is_lq and self.method_combo.currentData() != "fixed"
        show = {
            "method": is_lq,
            "classes": graduated or style == "corridor_links",
            "ramp": style in ("lq", "corridors", "density"),
            "invert": style in ("lq", "density"),
            "transparency": style == "density",
        }
        for widgets, key in (((self.method_label, self.method_combo), "method"),
                             ((self.classes_label, self.classes_spin), "classes"),
                             ((self.ramp_label, self.ramp_combo), "ramp"),
                             ((self.invert_check,), "invert"),
                             ((self.transparency_label, self.transparency_spin), "transparency")):
            for widget in widgets:
                widget.setVisible(show[key])
        self.options_box.setVisible(any(show.values()))
        self.field_combo.setEnabled(style not in (None, "density"))

    def _forget_layers(self, layer_ids):
        for layer_id in layer_ids:
            self._snapshots.pop(layer_id, None)

    # --- actions ------------------------------------------------------------------------------------------
    def _message(self, text, error=False):
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #b2182b;" if error else "color: #2b5d34;")
        bar = getattr(self.iface, "messageBar", None) if self.iface is not None else None
        if error and bar is not None:
            try:
                bar().pushWarning("Creative Clusters", text)
            except Exception:  # a test iface without a full message bar
                pass

    def apply(self):
        """Apply the chosen style to the chosen layer; returns the renderer or None (message shown)."""
        layer = self.current_layer()
        style = self.current_style()
        if layer is None:
            self._message("Choose a layer first.", error=True)
            return None
        if not style:
            self._message("Choose a style first.", error=True)
            return None
        field = self.field_combo.currentField() or None if layer.type() == layer.VectorLayer else None
        if layer.id() not in self._snapshots:
            self._snapshots[layer.id()] = styling.snapshot_style(layer)
        try:
            renderer = styling.apply_style(layer, style, field=field, **self.options())
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        self._refresh_legend(layer)
        self._message(f"Styled '{layer.name()}' with “{styling.STYLES[style][0]}”.")
        return renderer

    def reset(self):
        """Give the layer back the style it had before the dock first changed it."""
        layer = self.current_layer()
        if layer is None:
            return False
        snapshot = self._snapshots.pop(layer.id(), None)
        if snapshot is None:
            self._message(f"'{layer.name()}' has not been styled from this dock: nothing to reset.")
            return False
        styling.restore_style(layer, snapshot)
        self._refresh_legend(layer)
        self._message(f"Restored the previous style of '{layer.name()}'.")
        return True

    def save_qml(self, path):
        layer = self.current_layer()
        if layer is None:
            self._message("Choose a layer first.", error=True)
            return None
        try:
            written = styling.save_qml(layer, path)
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return None
        self._message(f"Style saved to {written}")
        return written

    def load_qml(self, path):
        layer = self.current_layer()
        if layer is None:
            self._message("Choose a layer first.", error=True)
            return False
        if layer.id() not in self._snapshots:
            self._snapshots[layer.id()] = styling.snapshot_style(layer)
        try:
            styling.load_qml(layer, path)
        except CreativeClustersError as error:
            self._message(str(error), error=True)
            return False
        self._refresh_legend(layer)
        self._message(f"Style loaded from {path}")
        return True

    def _save_clicked(self):
        layer = self.current_layer()
        if layer is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save style as QML", f"{layer.name()}.qml", "QGIS style (*.qml)")
        if path:
            self.save_qml(path)

    def _load_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Load a QML style", "", "QGIS style (*.qml)")
        if path:
            self.load_qml(path)

    def _refresh_legend(self, layer):
        view = getattr(self.iface, "layerTreeView", None) if self.iface is not None else None
        if view is None:
            return
        try:
            view().refreshLayerSymbology(layer.id())
        except Exception:  # the test iface has no layer tree view
            pass

    def cleanup(self):
        """Disconnect from the project (called when the plugin unloads)."""
        try:
            QgsProject.instance().layersWillBeRemoved.disconnect(self._forget_layers)
        except (TypeError, RuntimeError):
            pass
