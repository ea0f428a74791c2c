"""Layout templates are data, not code: check and clean a user's ``.qpt`` before QGIS loads it.

The atlas and the hot-spot map accept a layout template (``TEMPLATE``) saved from the QGIS layout
designer. A template is only meant to say *where* things go and *how* they look. QGIS, however, lets a
template do more than that, and a template received from someone else could use it to put the files
or the environment of the computer that runs the export into the PDF. So before a template reaches
``QgsPrintLayout.loadFromTemplate`` it goes through :func:`sanitise_template` (or
:func:`read_template_file` for a file), which:

* **refuses** text that is not a QGIS 3 layout template: not XML, a document type declaration
  (``<!DOCTYPE``/``<!ENTITY``: QGIS never writes one, and entities can expand or pull in files), a root
  element other than ``<Layout>`` (QGIS projects, QGIS 2 composer templates, other XML), a file that is
  not UTF-8 text, a binary file or one larger than :data:`MAX_TEMPLATE_BYTES`. The error names the
  file (its name only), says where the problem is (line and column for XML errors) and what is
  expected — it never quotes the file's content;
* **removes HTML frames** (``QgsLayoutItemHtml`` multiframes and their frames): an HTML frame can load
  any URL, including ``file:///`` paths, and print it. The atlas templates never need one;
* **removes items added by other plugins** (item types QGIS itself does not define): what they load
  cannot be checked;
* **clears pictures that read files from elsewhere**: a picture item, or an SVG/raster image symbol
  layer, whose file is a URL (``http://``, ``https://``, …), or an absolute path outside the template's
  own folder and QGIS's SVG search paths, or a relative path that climbs up with ``..``. Plain names
  that QGIS finds in its SVG paths (``arrows/NorthArrow_02.svg``, as the shipped templates use), files
  next to the template, Qt resources (``:/…``) and embedded images (``base64:…``) are kept. A picture
  whose source is data-defined (computed per feature) has that property switched off;
* **neutralises expressions that look up the machine** anywhere in the template (label text ``[% %]``
  blocks, data-defined properties, filters, symbol properties…): an expression that calls a function or
  reads a variable from :data:`DENIED_FUNCTIONS` / :data:`DENIED_VARIABLES` (environment variables, the
  user's name, file paths and file tests, databases on disk), reads a variable whose name it computes
  (``var('us' || 'er_…')``), or evaluates text (``eval``/``eval_template``) other than the plugin's own
  ``eval(@cc_name_expression)`` / ``eval(@cc_summary_expression)`` is replaced by the empty string
  literal ``''`` (a label's offending ``[% … %]`` block becomes ``[% '' %]``). Layout or item variables
  the template defines under those two plugin names are removed (the plugin sets them);
* **switches labels out of HTML mode** when their HTML references other resources (``src=``,
  ``href=``, ``<script>``, ``<iframe>``, ``url(…)``…) or contains ``[% %]`` expressions (whose results
  are inserted into the HTML unescaped). The label then prints its text as plain text.

Each removal adds one plain-English message to the list returned with the cleaned document, for the
log. The shipped templates pass unchanged with no message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from qgis.core import (
    QgsApplication,
    QgsExpression,
    QgsExpressionNodeBinaryOperator,
    QgsExpressionNodeColumnRef,
    QgsExpressionNodeCondition,
    QgsExpressionNodeFunction,
    QgsExpressionNodeInOperator,
    QgsExpressionNodeIndexOperator,
    QgsExpressionNodeLiteral,
    QgsExpressionNodeUnaryOperator,
    QgsFeatureRequest,
    QgsLayoutItemRegistry,
)
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtXml import QDomDocument

from ..core.errors import CreativeClustersError

#: a layout template larger than this is refused (the shipped ones are about 90 kB)
MAX_TEMPLATE_BYTES = 20 * 1024 * 1024

EXPECTED = "a QGIS layout template (.qpt) saved from the layout designer"

#: expression functions that read the environment, the file system or a database on disk
DENIED_FUNCTIONS = frozenset({
    "env",                        # environment variables (HOME, USER, tokens…)
    "base_file_name", "file_exists", "file_name", "file_path", "file_size", "file_suffix",
    "is_file", "is_directory",    # file-system tests and path parts
    "exif", "exif_geotag",        # read a file's metadata
    "sqlite_fetch_and_increment",  # opens (and writes) an SQLite file
    "layer_property",             # a layer's 'path'/'source' on disk
    "decode_uri",                 # a layer's source split into path, layer name…
    "eval_template",              # evaluates text as a template: hides any of the above
    "load_layer",                 # loads a layer from a path (newer QGIS)
})

#: expression variables that reveal the user, the machine or where the project lives on disk
DENIED_VARIABLES = frozenset({
    "user_account_name", "user_full_name",
    "qgis_os_name",
    "project_path", "project_home", "project_folder", "project_filename", "project_basename",
    "project_abs_path",
})

#: the only ``eval(@…)`` arguments allowed: variables the plugin itself sets on the layout
PLUGIN_EXPRESSION_VARIABLES = frozenset({"cc_name_expression", "cc_summary_expression"})


def _enum_int(value) -> int:
    """An item type id as an int (PyQt5 enums are ints; Python enums carry ``value``)."""
    return int(getattr(value, "value", value))


_LABEL = _enum_int(QgsLayoutItemRegistry.LayoutLabel)
_PICTURE = _enum_int(QgsLayoutItemRegistry.LayoutPicture)
_FRAME = _enum_int(QgsLayoutItemRegistry.LayoutFrame)
_HTML = _enum_int(QgsLayoutItemRegistry.LayoutHtml)
_PLUGIN_ITEM = _enum_int(QgsLayoutItemRegistry.PluginItem)

_KIND = {
    _enum_int(QgsLayoutItemRegistry.LayoutGroup): "group",
    _enum_int(QgsLayoutItemRegistry.LayoutPage): "page",
    _enum_int(QgsLayoutItemRegistry.LayoutMap): "map",
    _PICTURE: "picture",
    _LABEL: "label",
    _enum_int(QgsLayoutItemRegistry.LayoutLegend): "legend",
    _enum_int(QgsLayoutItemRegistry.LayoutShape): "shape",
    _enum_int(QgsLayoutItemRegistry.LayoutPolygon): "polygon",
    _enum_int(QgsLayoutItemRegistry.LayoutPolyline): "polyline",
    _enum_int(QgsLayoutItemRegistry.LayoutScaleBar): "scale bar",
    _FRAME: "frame",
    _HTML: "HTML frame",
    _enum_int(QgsLayoutItemRegistry.LayoutAttributeTable): "attribute table",
    _enum_int(QgsLayoutItemRegistry.LayoutTextTable): "text table",
    _enum_int(QgsLayoutItemRegistry.LayoutManualTable): "table",
    _enum_int(QgsLayoutItemRegistry.LayoutMarker): "marker",
}

#: symbol layer classes that read an image file, and the property holding its path
_IMAGE_SYMBOL_LAYERS = {
    "SvgMarker": ("name",),
    "SVGFill": ("svgFile",),
    "RasterMarker": ("imageFile",),
    "RasterFill": ("imageFile",),
    "RasterLine": ("imageFile",),
}

_NAME = r"(?<![A-Za-z0-9_])({})(?![A-Za-z0-9_])"
#: cheap pre-filter: text without any of these words cannot contain a denied expression
_SUSPECT = re.compile(
    _NAME.format("|".join(sorted(DENIED_FUNCTIONS | DENIED_VARIABLES | {"eval", "var", "with_variable"}))),
    re.IGNORECASE,
)
#: a denied name used as a call or a variable (for text QGIS cannot parse)
_CALL_OR_VARIABLE = re.compile(
    r"@\s*({0})(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])({0})\s*(\(|/\*|--)".format(
        "|".join(sorted(DENIED_FUNCTIONS | DENIED_VARIABLES | {"eval", "var", "with_variable"}))
    ),
    re.IGNORECASE,
)
_BLOCK = re.compile(r"\[%(.*?)%\]", re.DOTALL)  # the same pattern QGIS uses for label text
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HTML_RESOURCE = re.compile(
    r"<\s*(script|iframe|frame|object|embed|link|meta|base|svg|img|video|audio|source|form|style)\b"
    r"|\b(src|srcset|href|background|data|poster|action)\s*=|url\s*\(|@import|\b(file|https?|ftp|data):",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


# ------------------------------------------------------------------------------------------------
# expressions


def _children(node) -> Iterable:
    """The sub-expressions of one expression node (None for a node type this code does not know)."""
    if isinstance(node, QgsExpressionNodeFunction):
        return list(node.args().list()) if node.args() is not None else []
    if isinstance(node, QgsExpressionNodeBinaryOperator):
        return [node.opLeft(), node.opRight()]
    if isinstance(node, QgsExpressionNodeUnaryOperator):
        return [node.operand()]
    if isinstance(node, QgsExpressionNodeInOperator):
        return [node.node()] + (list(node.list().list()) if node.list() is not None else [])
    if isinstance(node, QgsExpressionNodeIndexOperator):
        return [node.container(), node.index()]
    if isinstance(node, QgsExpressionNodeCondition):
        parts = []
        for when_then in node.conditions():
            parts += [when_then.whenExp(), when_then.thenExp()]
        return parts + ([node.elseExp()] if node.elseExp() is not None else [])
    if isinstance(node, (QgsExpressionNodeLiteral, QgsExpressionNodeColumnRef)):
        return []
    return None


def _function_name(node) -> str:
    return QgsExpression.Functions()[node.fnIndex()].name().lower()


def _literal(node):
    return node.value() if isinstance(node, QgsExpressionNodeLiteral) else None


def _expression_problems(text: str) -> list[str]:
    """Why the expression ``text`` must not run (empty when it is harmless)."""
    if not _SUSPECT.search(text):
        return []
    expression = QgsExpression(text)
    root = expression.rootNode()
    if expression.hasParserError() or root is None:
        # QGIS will not evaluate it either; refuse anyway when it calls or reads a denied name
        called = _called(text)
        return [f"{', '.join(called)} in an expression QGIS cannot parse"] if called else []
    problems = set()
    functions = {name.lower() for name in expression.referencedFunctions()}
    problems |= {f"{name}()" for name in functions & DENIED_FUNCTIONS}
    variables = {name.lower() for name in expression.referencedVariables()}
    problems |= {f"@{name}" for name in variables & DENIED_VARIABLES}
    if "" in variables or QgsFeatureRequest.ALL_ATTRIBUTES.lower() in variables:
        problems.add("a variable whose name is computed")
    if {"eval", "with_variable"} & functions:
        stack = [root]
        while stack:
            node = stack.pop()
            children = _children(node)
            if children is None:
                problems.add("eval() in an expression this check cannot follow")
                break
            stack.extend(child for child in children if child is not None)
            if not isinstance(node, QgsExpressionNodeFunction):
                continue
            name = _function_name(node)
            args = list(node.args().list()) if node.args() is not None else []
            if name == "eval" and not _is_plugin_variable(args):
                problems.add("eval() of anything but @cc_name_expression or @cc_summary_expression")
            elif name == "with_variable" and args:
                bound = _literal(args[0])
                if not isinstance(bound, str) or bound.lower() in PLUGIN_EXPRESSION_VARIABLES:
                    problems.add("with_variable() redefining a plugin variable")
    return sorted(problems)


def _is_plugin_variable(args) -> bool:
    if len(args) != 1 or not isinstance(args[0], QgsExpressionNodeFunction) or _function_name(args[0]) != "var":
        return False
    inner = list(args[0].args().list()) if args[0].args() is not None else []
    return len(inner) == 1 and _literal(inner[0]) in PLUGIN_EXPRESSION_VARIABLES


def _called(text: str) -> list[str]:
    names = set()
    for match in _CALL_OR_VARIABLE.finditer(text):
        names.add(f"@{match.group(1).lower()}" if match.group(1) else f"{match.group(2).lower()}()")
    return sorted(names)


def _clean_label_text(text: str) -> tuple[str, list[str]]:
    """``text`` with every dangerous ``[% … %]`` block replaced by ``[% '' %]``."""
    problems: list[str] = []

    def replace(match):
        found = _expression_problems(match.group(1))
        if not found:
            return match.group(0)
        problems.extend(found)
        return "[% '' %]"

    return _BLOCK.sub(replace, text), problems


def _clean_string(text: str, label_text: bool) -> tuple[str, list[str]]:
    """Cleaned ``text`` (an attribute value or text node) and the reasons for any change."""
    if not _SUSPECT.search(text):
        return text, []
    whole = _expression_problems(text) if not label_text else []
    # a string that does not parse as a whole but holds [% %] blocks is label-like text
    if whole and not (QgsExpression(text).hasParserError() and _BLOCK.search(text)):
        return "''", whole
    if _BLOCK.search(text):
        return _clean_label_text(text)
    return text, []


# ------------------------------------------------------------------------------------------------
# file references


def _under(path: Path, folders: Iterable[Path]) -> bool:
    for folder in folders:
        try:
            path.relative_to(folder)
            return True
        except ValueError:
            continue
    return False


def _allowed_folders(template_dir) -> list[Path]:
    folders = []
    for folder in ([template_dir] if template_dir else []) + list(QgsApplication.svgPaths()):
        if folder:
            folders.append(Path(os.path.realpath(str(folder))))
    return folders


def _resource_problem(value: str, folders: list[Path]) -> str | None:
    """Why the picture/image path ``value`` must not be read (None when it may)."""
    value = value.strip()
    if not value or value.startswith(("base64:", ":/")):
        return None
    scheme = _SCHEME.match(value)
    if scheme and not _DRIVE.match(value):
        if scheme.group(1).lower() != "file":
            return "it is fetched from a URL"
        value = QUrl(value).toLocalFile()
        if not value:
            return "it is a file URL QGIS cannot resolve safely"
    if os.path.isabs(value) or _DRIVE.match(value) or value.startswith("\\\\"):
        if _under(Path(os.path.realpath(value)), folders):
            return None
        return "it is a file outside the template's folder and QGIS's SVG folders"
    if ".." in re.split(r"[\\/]", value):
        return "its path climbs out of the template's folder"
    return None


# ------------------------------------------------------------------------------------------------
# the document


def _elements(node) -> Iterable:
    """Every element below ``node`` (depth first, without recursion)."""
    stack = [node]
    while stack:
        current = stack.pop()
        child = current.lastChild()
        while not child.isNull():
            if child.isElement():
                stack.append(child)
            child = child.previousSibling()
        if current.isElement() and current is not node:
            yield current.toElement()


def _direct_children(element, tag=None) -> list:
    found = []
    child = element.firstChildElement() if tag is None else element.firstChildElement(tag)
    while not child.isNull():
        found.append(child)
        child = child.nextSiblingElement() if tag is None else child.nextSiblingElement(tag)
    return found


def _item_type(element) -> int | None:
    try:
        return int(element.attribute("type"))
    except ValueError:
        return None


def _describe(element) -> str:
    """'label 'cc_title'' for the layout item or multiframe that holds ``element``."""
    node = element
    while not node.isNull() and node.isElement():
        current = node.toElement()
        if current.tagName() in ("LayoutItem", "LayoutMultiFrame"):
            kind = _KIND.get(_item_type(current), "item")
            item_id = current.attribute("id")
            return f"{kind} '{item_id}'" if item_id else f"a {kind} without an id"
        if current.tagName() == "Layout" and current.parentNode().isDocument():
            return "the layout"
        node = current.parentNode()
    return "the layout"


def _where(element, attribute: str | None) -> str:
    if attribute == "labelText":
        return "label text"
    if element.tagName() == "Option" and element.attribute("name") == "expression":
        parent = element.parentNode().toElement()
        if not parent.isNull() and parent.attribute("name"):
            return f"data-defined property '{parent.attribute('name')}'"
    if attribute is None:
        return f"<{element.tagName()}> text"
    return f"'{attribute}'"


def _parse(xml_text: str, name: str) -> QDomDocument:
    if _DOCTYPE.search(xml_text):
        raise CreativeClustersError(
            f"The layout template '{name}' declares a document type or entities (<!DOCTYPE …>), which a "
            f"layout template never does; expected {EXPECTED}."
        )
    document = QDomDocument()
    result = document.setContent(xml_text)
    if isinstance(result, tuple):
        ok, message, line, column = (list(result) + ["", 0, 0])[:4]
    else:  # Qt 6 ParseResult
        ok = bool(result)
        message = getattr(result, "errorMessage", "")
        line, column = getattr(result, "errorLine", 0), getattr(result, "errorColumn", 0)
    if not ok:
        # Qt's own message only when it cannot be quoting the file (Qt 6 quotes names in '…')
        reason = str(message or "").strip().rstrip(".")
        detail = f" ({reason})" if reason and not re.search(r"['\"‘’“”<>]", reason) and len(reason) < 80 else ""
        raise CreativeClustersError(
            f"The layout template '{name}' is not valid XML: the error is at line {int(line)}, "
            f"column {int(column)}{detail}. Expected {EXPECTED}."
        )
    root = document.documentElement()
    if root.isNull() or root.tagName() != "Layout":
        hint = ""
        tag = "" if root.isNull() else root.tagName()
        if tag == "Composer":
            hint = " It looks like a QGIS 2 composer template: open it in QGIS 3's layout designer and save it again."
        elif tag == "qgis":
            hint = " It looks like a QGIS project or style file, not a layout template."
        raise CreativeClustersError(
            f"The layout template '{name}' is XML but not a QGIS layout template (its root element is not "
            f"<Layout>).{hint} Expected {EXPECTED}."
        )
    return document


def _remove_html_frames(root, messages: list[str]) -> None:
    multiframes = [element for element in _direct_children(root, "LayoutMultiFrame")]
    removed_uuids = set()
    for multiframe in multiframes:
        kind = _item_type(multiframe)
        if kind != _HTML and (kind is None or kind < _PLUGIN_ITEM):
            continue
        uuids = {multiframe.attribute("uuid"), multiframe.attribute("templateUuid")}
        uuids |= {child.attribute("uuid") for child in _direct_children(multiframe, "childFrame")}
        uuids |= {child.attribute("templateUuid") for child in _direct_children(multiframe, "childFrame")}
        removed_uuids |= uuids - {""}
        frames = [
            item for item in _direct_children(root, "LayoutItem")
            if _item_type(item) == _FRAME and (
                {item.attribute("uuid"), item.attribute("templateUuid")} & uuids
                or {item.attribute("multiFrame"), item.attribute("multiFrameTemplateUuid")} & uuids
            )
        ]
        ids = [frame.attribute("id") for frame in frames if frame.attribute("id")]
        name = f"'{ids[0]}'" if ids else "(no id)"
        if kind == _HTML:
            messages.append(
                f"HTML frames are not supported in atlas templates (they can load files and web pages); "
                f"removed {name}."
            )
        else:
            messages.append(f"Multiframes added by other plugins are not supported in atlas templates; removed {name}.")
        for frame in frames:
            root.removeChild(frame)
        root.removeChild(multiframe)
    # frames that point at an HTML multiframe QGIS would not find any more are left out too
    for item in _direct_children(root, "LayoutItem"):
        if _item_type(item) == _FRAME and {
            item.attribute("multiFrame"), item.attribute("multiFrameTemplateUuid")
        } & removed_uuids:
            root.removeChild(item)


def _remove_plugin_items(root, messages: list[str]) -> None:
    for item in _direct_children(root, "LayoutItem"):
        kind = _item_type(item)
        if kind is not None and kind >= _PLUGIN_ITEM:
            messages.append(
                f"Items added by other plugins are not supported in atlas templates; removed {_describe(item)}."
            )
            root.removeChild(item)


def _clean_pictures(root, folders, messages: list[str]) -> None:
    for item in _direct_children(root, "LayoutItem"):
        if _item_type(item) != _PICTURE:
            continue
        problem = _resource_problem(item.attribute("file"), folders)
        if problem:
            item.setAttribute("file", "")
            messages.append(f"Cleared the image of {_describe(item)}: {problem}.")
        for element in _elements(item):
            if (element.tagName() == "Option" and element.attribute("name") == "dataDefinedSource"
                    and element.parentNode().toElement().attribute("name") == "properties"):
                for option in _direct_children(element, "Option"):
                    if option.attribute("name") == "active" and option.attribute("value").lower() == "true":
                        option.setAttribute("value", "false")
                        messages.append(
                            f"Switched off the data-defined image source of {_describe(item)}: pictures in "
                            f"atlas templates must use a fixed file."
                        )


def _clean_symbol_images(root, folders, messages: list[str]) -> None:
    for layer in _elements(root):
        if layer.tagName() != "layer" or layer.attribute("class") not in _IMAGE_SYMBOL_LAYERS:
            continue
        keys = _IMAGE_SYMBOL_LAYERS[layer.attribute("class")]
        holders = []
        for option_map in _direct_children(layer, "Option"):
            holders += [(o, "value") for o in _direct_children(option_map, "Option") if o.attribute("name") in keys]
        holders += [(p, "v") for p in _direct_children(layer, "prop") if p.attribute("k") in keys]
        reported = False
        for element, attribute in holders:
            problem = _resource_problem(element.attribute(attribute), folders)
            if problem:
                element.setAttribute(attribute, "")
                if not reported:
                    messages.append(f"Cleared an image in a symbol of {_describe(layer)}: {problem}.")
                    reported = True


def _clean_html_labels(root, messages: list[str]) -> None:
    for item in _direct_children(root, "LayoutItem"):
        if _item_type(item) != _LABEL or item.attribute("htmlState") not in ("1", "true"):
            continue
        text = item.attribute("labelText")
        if _HTML_RESOURCE.search(text) or _BLOCK.search(text):
            item.setAttribute("htmlState", "0")
            messages.append(
                f"Switched {_describe(item)} from HTML to plain text: its HTML loads other files or inserts "
                f"expression results as HTML."
            )


def _clean_expressions(document, messages: list[str]) -> None:
    for element in _elements(document):
        attributes = element.attributes()
        names = [attributes.item(index).toAttr().name() for index in range(attributes.count())]
        for attribute in names:
            value = element.attribute(attribute)
            cleaned, problems = _clean_string(value, attribute == "labelText")
            if cleaned != value:
                element.setAttribute(attribute, cleaned)
                messages.append(
                    f"Removed an expression from the {_where(element, attribute)} of {_describe(element)}: it "
                    f"uses {', '.join(problems)} (environment, user or file-system lookups are not allowed in "
                    f"atlas templates); replaced by ''."
                )
        child = element.firstChild()
        while not child.isNull():
            if child.isText() or child.isCDATASection():
                data = child.toCharacterData()
                cleaned, problems = _clean_string(data.data(), False)
                if cleaned != data.data():
                    data.setData(cleaned)
                    messages.append(
                        f"Removed an expression from the {_where(element, None)} of {_describe(element)}: it "
                        f"uses {', '.join(problems)}; replaced by ''."
                    )
            child = child.nextSibling()


def _drop_plugin_variables(root, messages: list[str]) -> None:
    """Remove layout or item variables named like the plugin's expression variables (the plugin sets those)."""
    for element in _elements(root):
        if element.tagName() != "Option" or element.attribute("name") != "variableNames":
            continue
        values = _direct_children(element.parentNode().toElement(), "Option")
        values = next((option for option in values if option.attribute("name") == "variableValues"), None)
        names = _direct_children(element, "Option")
        value_items = _direct_children(values, "Option") if values is not None else []
        for index, option in enumerate(names):
            if option.attribute("value").lower() not in PLUGIN_EXPRESSION_VARIABLES:
                continue
            element.removeChild(option)
            if index < len(value_items):
                values.removeChild(value_items[index])
            messages.append(
                f"Removed the variable @{option.attribute('value')} that {_describe(element)} defines: the plugin "
                f"sets it, and a template must not replace the expression it holds."
            )


def _display_name(source_name) -> str:
    text = str(source_name or "template")
    return Path(text).name or text


def sanitise_template(xml_text: str, source_name, template_dir=None) -> tuple[QDomDocument, list[str]]:
    """Parse a ``.qpt`` template's text and return ``(document, messages)`` with unsafe parts removed.

    ``source_name`` names the template in messages (only its file name is used); ``template_dir`` is
    the folder pictures may also come from (the template's own folder; None: QGIS's SVG folders
    only). Raises :class:`CreativeClustersError` when the text is not a QGIS layout template; the
    message never quotes the text. See the module docstring for what is removed and why.
    """
    name = _display_name(source_name)
    document = _parse(xml_text, name)
    root = document.documentElement()
    messages: list[str] = []
    folders = _allowed_folders(template_dir)
    _remove_html_frames(root, messages)
    _remove_plugin_items(root, messages)
    _clean_pictures(root, folders, messages)
    _clean_symbol_images(root, folders, messages)
    _drop_plugin_variables(root, messages)
    _clean_expressions(document, messages)
    _clean_html_labels(root, messages)
    return document, messages


def _size(count: int) -> str:
    return f"{count / 1048576:.1f} MB" if count >= 1048576 else f"{count / 1024:.1f} kB"


def read_template_file(path) -> tuple[QDomDocument, list[str]]:
    """Read a ``.qpt`` file (UTF-8 text, at most :data:`MAX_TEMPLATE_BYTES`) and :func:`sanitise_template` it.

    Errors name the file (its name, not its content): missing or unreadable, too large, binary, not
    UTF-8, not XML, not a layout template.
    """
    path = Path(path)
    name = path.name or str(path)
    if not path.is_file():
        raise CreativeClustersError(f"The layout template '{name}' does not exist or is not a file.")
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise CreativeClustersError(
                f"The layout template '{name}' is {_size(size)}; a layout template is at most "
                f"{_size(MAX_TEMPLATE_BYTES)}. Expected {EXPECTED}."
            )
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or "it cannot be read"
        raise CreativeClustersError(f"Cannot read the layout template '{name}': {reason}.") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise CreativeClustersError(
            f"The layout template '{name}' is larger than {_size(MAX_TEMPLATE_BYTES)}; a layout template is at "
            f"most that. Expected {EXPECTED}."
        )
    if b"\x00" in data:
        raise CreativeClustersError(f"The layout template '{name}' is a binary file. Expected {EXPECTED}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CreativeClustersError(
            f"The layout template '{name}' is not UTF-8 text (the first bad byte is at offset {error.start}). "
            f"Expected {EXPECTED}."
        ) from None
    return sanitise_template(text, name, path.resolve().parent)
