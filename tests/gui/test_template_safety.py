"""Layout templates are data, not code (issue 10, item 12): ``layout/template_safety.py``.

* the shipped templates pass unchanged and load with the same items;
* a hostile template built with QGIS's API (HTML frames reading local files, labels and data-defined
  properties calling ``env()``, pictures outside the template's folder, an HTML label loading a file) is
  cleaned, every removal is reported, and its PDF holds neither the files nor the environment — while
  the same template unsanitised does leak them (so the check can see a leak);
* files that are not layout templates give an error naming the file without quoting its content.

Layout objects are kept out of the tests that use ``pytest.raises`` (the process crashes at exit otherwise).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SECRET_LINE = "TOPSECRET-line-5c1e7a"
ENV_SECRET = "envsecret-8d41f0"
FILE_SECRET = "filesecret-27b9c3"

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "resources" / "templates").glob("*.qpt"))


# --- helpers -------------------------------------------------------------------------------------


def _layout_from(document):
    from qgis.core import QgsPrintLayout, QgsProject, QgsReadWriteContext

    layout = QgsPrintLayout(QgsProject.instance())
    _, ok = layout.loadFromTemplate(document, QgsReadWriteContext(), True)
    assert ok
    return layout


def _item_ids(layout):
    from qgis.core import QgsLayoutItem

    return sorted(item.id() for item in layout.items() if isinstance(item, QgsLayoutItem) and item.id())


def _parsed(path):
    from qgis.PyQt.QtXml import QDomDocument

    document = QDomDocument()
    result = document.setContent(Path(path).read_text(encoding="utf-8"))
    assert result[0] if isinstance(result, tuple) else bool(result)
    return document


def _pdf_text(layout, path):
    from qgis.core import QgsLayoutExporter, QgsRenderContext

    layout.renderContext().setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
    result = QgsLayoutExporter(layout).exportToPdf(str(path), QgsLayoutExporter.PdfExportSettings())
    assert result == QgsLayoutExporter.Success
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _write_hostile_template(folder: Path, private: Path) -> Path:
    """A template saved by QGIS with every kind of leak the sanitiser must stop."""
    from qgis.core import (
        QgsLayoutFrame,
        QgsLayoutItemHtml,
        QgsLayoutItemLabel,
        QgsLayoutItemPicture,
        QgsLayoutObject,
        QgsPrintLayout,
        QgsProject,
        QgsProperty,
        QgsReadWriteContext,
    )
    from qgis.PyQt.QtCore import QRectF, QUrl

    layout = QgsPrintLayout(QgsProject.instance())
    layout.initializeDefaults()

    def add_html(item_id, rect, url=None, html=None):
        frame_html = QgsLayoutItemHtml(layout)
        if url is not None:
            frame_html.setContentMode(QgsLayoutItemHtml.Url)
            frame_html.setUrl(QUrl(url))
        else:
            frame_html.setContentMode(QgsLayoutItemHtml.ManualHtml)
            frame_html.setHtml(html)
        frame = QgsLayoutFrame(layout, frame_html)
        frame.attemptSetSceneRect(QRectF(*rect))
        frame.setId(item_id)
        frame_html.addFrame(frame)
        layout.addMultiFrame(frame_html)

    add_html("hostname_frame", (10, 10, 90, 20), url="file:///etc/hostname")
    add_html("secret_frame", (10, 35, 90, 20), url=QUrl.fromLocalFile(str(private / "secret.txt")).toString())
    add_html("iframe_frame", (110, 10, 90, 40),
             html=f'<iframe src="{QUrl.fromLocalFile(str(private / "secret.txt")).toString()}"></iframe>')

    def add_label(item_id, text, rect, html=False):
        label = QgsLayoutItemLabel(layout)
        label.setText(text)
        label.setId(item_id)
        label.setMode(QgsLayoutItemLabel.ModeHtml if html else QgsLayoutItemLabel.ModeFont)
        layout.addLayoutItem(label)
        label.attemptSetSceneRect(QRectF(*rect))
        return label

    home = add_label("home_label", "[% env('HOME') %]", (10, 60, 150, 10))
    home.dataDefinedProperties().setProperty(
        QgsLayoutObject.ItemWidth, QgsProperty.fromExpression("length(env('HOME')) + 100")
    )
    add_label("env_label", "Before [% env('CC_TEMPLATE_SECRET') %] after [% @atlas_pagename %]", (10, 72, 150, 10))
    add_label("eval_label", "[% eval('env(''CC_TEMPLATE_SECRET'')') %]", (10, 84, 150, 10))
    add_label("var_label", "[% var('user_' || 'account_name') %][% @user_account_name %]", (10, 96, 150, 10))
    add_label("html_label", f'<p>Logo <img src="{QUrl.fromLocalFile(str(private / "secret.svg")).toString()}"></p>',
              (10, 108, 150, 20), html=True)
    add_label("safe_label", "Safe text [% upper('ok') %]", (10, 130, 150, 10))

    def add_picture(item_id, path, rect):
        picture = QgsLayoutItemPicture(layout)
        picture.setPicturePath(path)
        picture.setId(item_id)
        layout.addLayoutItem(picture)
        picture.attemptSetSceneRect(QRectF(*rect))

    add_picture("private_picture", str(private / "secret.svg"), (160, 60, 20, 20))
    add_picture("remote_picture", "https://example.invalid/track.png", (160, 85, 20, 20))
    add_picture("north_arrow", "arrows/NorthArrow_02.svg", (160, 110, 20, 20))
    add_picture("local_logo", str(folder / "logo.svg"), (160, 135, 20, 20))

    path = folder / "hostile.qpt"
    assert layout.saveAsTemplate(str(path), QgsReadWriteContext())
    return path


# --- the shipped templates -----------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_shipped_templates_pass_unchanged(qgis_app, template):
    from creative_clusters_plugin.layout.template_safety import read_template_file

    document, messages = read_template_file(template)
    assert messages == []
    original = _parsed(template)
    assert document.toString() == original.toString()
    cleaned_layout = _layout_from(document)
    original_layout = _layout_from(original)
    assert _item_ids(cleaned_layout) == _item_ids(original_layout)
    assert len(_item_ids(cleaned_layout)) >= 10
    assert cleaned_layout.pageCollection().pageCount() == original_layout.pageCollection().pageCount() == 6


def test_shipped_templates_found():
    assert len(TEMPLATES) == 4


# --- a hostile template --------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_hostile_template_cleaned_and_pdf_leaks_nothing(qgis_app, tmp_path, monkeypatch):
    from creative_clusters_plugin.layout.template_safety import read_template_file

    monkeypatch.setenv("CC_TEMPLATE_SECRET", ENV_SECRET)
    home = str(Path.home())
    folder, private = tmp_path / "templates", tmp_path / "private"
    folder.mkdir()
    private.mkdir()
    (private / "secret.txt").write_text(FILE_SECRET + "\n", encoding="utf-8")
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text x="0" y="9">{}</text>'
           '<rect width="10" height="10" fill="red"/></svg>')
    (private / "secret.svg").write_text(svg.format(FILE_SECRET), encoding="utf-8")
    (folder / "logo.svg").write_text(svg.format("logo"), encoding="utf-8")
    path = _write_hostile_template(folder, private)

    # the unsanitised template does leak: the checks below can see a leak
    leaked = _pdf_text(_layout_from(_parsed(path)), tmp_path / "unsafe.pdf")
    assert ENV_SECRET in leaked and FILE_SECRET in leaked

    document, messages = read_template_file(path)
    text = document.toString()
    report = "\n".join(messages)
    for item_id in ("hostname_frame", "secret_frame", "iframe_frame"):
        assert f"HTML frames are not supported in atlas templates (they can load files and web pages); removed '{item_id}'." in messages
    assert 'type="65648"' not in text
    for item_id in ("home_label", "env_label", "eval_label", "var_label"):
        assert f"label '{item_id}'" in report
    assert "data-defined property 'dataDefinedWidth' of label 'home_label'" in report
    assert "label 'html_label' from HTML to plain text" in report
    assert "Cleared the image of picture 'private_picture'" in report
    assert "Cleared the image of picture 'remote_picture': it is fetched from a URL" in report
    assert "north_arrow" not in report and "local_logo" not in report and "safe_label" not in report
    assert not re.search(r"env\s*\(", text, re.IGNORECASE)
    assert "user_account_name" not in text and "eval(" not in text
    assert text.count("secret.svg") == 1  # only in the text of the (now plain-text) HTML label
    assert f'file="{private}' not in text
    assert "[% @atlas_pagename %]" in text and "Safe text [% upper('ok') %]" in text
    assert "arrows/NorthArrow_02.svg" in text and "logo.svg" in text

    layout = _layout_from(document)
    assert {"home_label", "env_label", "north_arrow", "local_logo", "safe_label"} <= set(_item_ids(layout))
    assert not {"hostname_frame", "secret_frame", "iframe_frame"} & set(_item_ids(layout))
    assert layout.multiFrames() == []
    pdf_text = _pdf_text(layout, tmp_path / "safe.pdf")
    assert "Safe text OK" in pdf_text
    assert ENV_SECRET not in pdf_text and FILE_SECRET not in pdf_text
    assert home not in pdf_text
    hostname = Path("/etc/hostname").read_text(errors="replace").strip() if Path("/etc/hostname").is_file() else ""
    if len(hostname) >= 3:
        assert hostname not in pdf_text


# --- expressions and pictures in small templates -------------------------------------------------


def _template(body: str) -> str:
    return f'<Layout name="t" units="mm">\n{body}\n</Layout>\n'


def _label(item_id, text, html="0"):
    from xml.sax.saxutils import quoteattr

    return f'<LayoutItem type="65641" id="{item_id}" htmlState="{html}" labelText={quoteattr(text)}/>'


@pytest.mark.parametrize("expression", [
    "env('HOME')", "ENV /* comment */ ('HOME')", "@user_account_name", "@user_full_name", "@project_home",
    "var('user_' || 'account_name')", "eval('en' || 'v(''HOME'')')", "eval_template('{}')",
    "file_exists('/etc/passwd')", "layer_property(@layer, 'path')", "decode_uri(@layer)",
    "with_variable('cc_name_expression', 'env(''HOME'')', eval(@cc_name_expression))",
    "case when true then file_size('/etc/passwd') end", "1 in (2, env('X'))", "env('HOME'",
])
def test_denied_expressions_are_replaced(qgis_app, expression):
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    dd = ('<LayoutItem type="65643" id="box"><data_defined_properties><Option type="Map">'
          '<Option name="properties" type="Map"><Option name="dataDefinedOpacity" type="Map">'
          '<Option name="active" type="bool" value="true"/>'
          f'<Option name="expression" type="QString" value="{expression.replace(chr(39), "&apos;")}"/>'
          '<Option name="type" type="int" value="3"/></Option></Option></Option></data_defined_properties>'
          '</LayoutItem>')
    document, messages = sanitise_template(_template(_label("lab", f"A [% {expression} %] B") + dd), "t.qpt")
    root = document.documentElement()
    label = root.firstChildElement("LayoutItem")
    assert label.attribute("labelText") == "A [% '' %] B"
    assert "value=\"''\"" in document.toString()
    assert len(messages) == 2
    assert "label text of label 'lab'" in messages[0] and "replaced by ''" in messages[0]
    assert "data-defined property 'dataDefinedOpacity' of shape 'box'" in messages[1]


@pytest.mark.parametrize("expression", [
    "eval(@cc_name_expression)", "eval(@cc_summary_expression)", "@atlas_pagename", "format_date(now(), 'd MMMM yyyy')",
    "'Page ' || to_string(@atlas_featurenumber)", "with_variable('n', 2, @n * 2)", "\"environment\"",
    "@layout_name", "@project_title",
])
def test_allowed_expressions_are_kept(qgis_app, expression):
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    text = _template(_label("lab", f"[% {expression} %] and env (plain text) var"))
    document, messages = sanitise_template(text, "t.qpt")
    assert messages == []
    assert document.documentElement().firstChildElement("LayoutItem").attribute("labelText") == (
        f"[% {expression} %] and env (plain text) var"
    )


def test_picture_paths(qgis_app, tmp_path):
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    (tmp_path / "logo.svg").write_text("<svg/>", encoding="utf-8")
    pictures = {
        "kept_svg_name": "arrows/NorthArrow_02.svg",
        "kept_local": str(tmp_path / "logo.svg"),
        "kept_file_url": (tmp_path / "logo.svg").as_uri(),
        "kept_relative": "logo.svg",
        "kept_embedded": "base64:PHN2Zy8+",
        "gone_http": "http://example.invalid/beacon.png",
        "gone_absolute": "/etc/secret.png",
        "gone_file_url": "file:///etc/secret.png",
        "gone_climb": "../../etc/secret.png",
        "gone_symlink_escape": str(tmp_path / ".." / "secret.png"),
    }
    body = "".join(f'<LayoutItem type="65640" id="{key}" file="{value}"/>' for key, value in pictures.items())
    body += ('<LayoutItem type="65643" id="shape"><symbol><layer class="SvgMarker"><Option type="Map">'
             '<Option name="name" type="QString" value="https://example.invalid/x.svg"/></Option>'
             '<prop k="name" v="https://example.invalid/x.svg"/></layer></symbol></LayoutItem>')
    document, messages = sanitise_template(_template(body), "pics.qpt", tmp_path)
    items = {}
    element = document.documentElement().firstChildElement("LayoutItem")
    while not element.isNull():
        items[element.attribute("id")] = element.attribute("file")
        element = element.nextSiblingElement("LayoutItem")
    for key, value in pictures.items():
        assert items[key] == (value if key.startswith("kept") else ""), key
    assert len(messages) == 6
    assert all(message.startswith("Cleared") for message in messages)
    assert "https://example.invalid/x.svg" not in document.toString()
    assert "a symbol of shape 'shape'" in messages[-1]


def test_plugin_items_and_html_label_without_resources(qgis_app):
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    body = (_label("bold", "<b>Bold</b>", html="1") + _label("dynamic", "<b>[% @atlas_pagename %]</b>", html="1")
            + '<LayoutItem type="75651" id="foreign"/>')
    document, messages = sanitise_template(_template(body), "t.qpt")
    assert messages == [
        "Items added by other plugins are not supported in atlas templates; removed item 'foreign'.",
        "Switched label 'dynamic' from HTML to plain text: its HTML loads other files or inserts expression "
        "results as HTML.",
    ]
    assert 'htmlState="1"' in document.toString() and "foreign" not in document.toString()


def test_template_cannot_redefine_plugin_expression_variables(qgis_app):
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    def variables(names, values):
        return ('<customproperties><Option type="Map"><Option name="variableNames" type="StringList">'
                + "".join(f'<Option type="QString" value="{n}"/>' for n in names)
                + '</Option><Option name="variableValues" type="StringList">'
                + "".join(f'<Option type="QString" value="{v}"/>' for v in values)
                + "</Option></Option></customproperties>")

    item = ('<LayoutItem type="65641" id="lab" htmlState="0" labelText="[% eval(@cc_name_expression) %]">'
            f'<LayoutObject>{variables(["cc_name_expression", "other"], ["&apos;x&apos;", "kept"])}</LayoutObject>'
            "</LayoutItem>")
    body = item + variables(["CC_SUMMARY_EXPRESSION"], ["env(&apos;HOME&apos;)"])
    document, messages = sanitise_template(_template(body), "t.qpt")
    text = document.toString()
    assert "cc_name_expression\"" not in text and "CC_SUMMARY" not in text and "env(" not in text
    assert 'value="other"' in text and 'value="kept"' in text
    assert "[% eval(@cc_name_expression) %]" in text
    assert messages == [
        "Removed the variable @cc_name_expression that label 'lab' defines: the plugin sets it, and a template "
        "must not replace the expression it holds.",
        "Removed the variable @CC_SUMMARY_EXPRESSION that the layout defines: the plugin sets it, and a template "
        "must not replace the expression it holds.",
    ]


# --- files that are not layout templates ---------------------------------------------------------


def _assert_clean_error(error, name, folder):
    message = str(error.value)
    assert f"'{name}'" in message
    assert SECRET_LINE not in message and "TOPSECRET" not in message
    assert str(folder) not in message
    return message


@pytest.mark.parametrize("name, content, expected", [
    ("notes.qpt", f"{SECRET_LINE} is not XML at all\n<Layout/>\n", "is not valid XML: the error is at line 1"),
    ("broken.qpt", f"<Layout name=\"{SECRET_LINE}\">\n<LayoutItem id=\"{SECRET_LINE}\">\n</Layout>\n",
     "is not valid XML: the error is at line 3"),
    ("project.qpt", f'<!DOCTYPE qgis>\n<qgis version="3.22"><title>{SECRET_LINE}</title></qgis>\n', "document type"),
    ("entity.qpt", f'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<Layout name="&e;{SECRET_LINE}"/>\n',
     "document type or entities"),
    ("style.qpt", f'<qgis version="3.22"><renderer-v2 type="{SECRET_LINE}"/></qgis>\n',
     "not a QGIS layout template (its root element is not <Layout>). It looks like a QGIS project or style file"),
    ("other.qpt", f'<{SECRET_LINE}><Layout/></{SECRET_LINE}>\n', "its root element is not <Layout>"),
    ("old.qpt", f'<Composer title="{SECRET_LINE}"><Composition/></Composer>\n', "QGIS 2 composer template"),
    ("empty.qpt", "", "is not valid XML"),
])
def test_not_a_template_errors_do_not_echo_content(qgis_app, tmp_path, name, content, expected):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.template_safety import EXPECTED, read_template_file

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CreativeClustersError) as error:
        read_template_file(path)
    message = _assert_clean_error(error, name, tmp_path)
    assert expected in message
    assert EXPECTED in message


def test_binary_non_utf8_large_and_missing_files(qgis_app, tmp_path, monkeypatch):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout import template_safety
    from creative_clusters_plugin.layout.template_safety import read_template_file

    binary = tmp_path / "picture.qpt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + SECRET_LINE.encode() + bytes(range(256)))
    with pytest.raises(CreativeClustersError) as error:
        read_template_file(binary)
    assert "is a binary file" in _assert_clean_error(error, "picture.qpt", tmp_path)

    latin = tmp_path / "latin.qpt"
    latin.write_bytes(f'<Layout name="{SECRET_LINE} \xe9t\xe9"/>'.encode("latin-1"))
    with pytest.raises(CreativeClustersError) as error:
        read_template_file(latin)
    assert "is not UTF-8 text" in _assert_clean_error(error, "latin.qpt", tmp_path)

    big = tmp_path / "big.qpt"
    big.write_text(_template(f"<!-- {SECRET_LINE} -->" + " " * 2000), encoding="utf-8")
    monkeypatch.setattr(template_safety, "MAX_TEMPLATE_BYTES", 1024)
    with pytest.raises(CreativeClustersError) as error:
        read_template_file(big)
    assert "a layout template is at most" in _assert_clean_error(error, "big.qpt", tmp_path)
    monkeypatch.undo()

    with pytest.raises(CreativeClustersError) as error:
        read_template_file(tmp_path / "missing.qpt")
    assert "does not exist" in _assert_clean_error(error, "missing.qpt", tmp_path)


def test_sanitise_template_names_only_the_file(qgis_app):
    from creative_clusters_plugin.core.errors import CreativeClustersError
    from creative_clusters_plugin.layout.template_safety import sanitise_template

    with pytest.raises(CreativeClustersError) as error:
        sanitise_template(f"{SECRET_LINE}\n", "/home/someone/private/mine.qpt")
    message = str(error.value)
    assert "'mine.qpt'" in message and "/home/someone" not in message and SECRET_LINE not in message
