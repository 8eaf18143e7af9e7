"""The Sphinx extension of the course's website: each edition's title and MathJax, the language switch to the
same page of the other edition, and the link that opens a page's notebook in JupyterLab.

It reads course_site.json, which site/build.py writes beside the staged notebooks of each edition.
"""

from __future__ import annotations

import html
import json
import posixpath
import urllib.parse
from pathlib import Path

# The words the site adds to every page, in each edition's language. The switch names the other language in itself.
WORDS = {
    "en": {"switch": "日本語", "switch_title": "このページを日本語で読む",
           "lab": "Open in JupyterLab", "lab_title": "Open {path} in JupyterLab"},
    "ja": {"switch": "English", "switch_title": "Read this page in English",
           "lab": "JupyterLab で開く", "lab_title": "{path} を JupyterLab で開きます"},
}
SPHINX_PAGES = ("genindex", "search")  # made by Sphinx in every edition


def read_settings(app) -> dict:
    return json.loads((Path(app.srcdir) / "course_site.json").read_text(encoding="utf-8"))


def configure(app, config) -> None:
    """The edition's title, and the folder of MathJax that site/build.py staged (copied into _static)."""
    settings = app.course_site = read_settings(app)
    config.project = config.html_title = settings["title"]
    config.html_static_path.append(str(Path(app.srcdir).parent / "static"))


def page_context(app, pagename, templatename, context, doctree) -> None:
    """What course-buttons.html shows on ``pagename``: the switch, and the JupyterLab link of a notebook's page."""
    settings = app.course_site
    edition, other = settings["edition"], settings["other"]
    words = WORDS[edition]
    target = pagename if pagename in settings["other_pages"] or pagename in SPHINX_PAGES else settings["other_home"]
    href = posixpath.relpath(f"{other}/{target}.html", posixpath.dirname(f"{edition}/{pagename}"))
    context["course_switch"] = {"href": href, "lang": other, "label": words["switch"], "title": words["switch_title"]}
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{html.escape(href)}">')
    path = settings["notebooks"].get(pagename)
    context["course_lab"] = path and {
        "href": settings["lab_url"] + urllib.parse.quote(path), "path": path, "label": words["lab"],
        "title": words["lab_title"].format(path=path)}


def setup(app):
    app.connect("config-inited", configure)
    app.connect("html-page-context", page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
