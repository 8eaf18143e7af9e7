"""Sphinx configuration of the course's website, shared by both editions (site/build.py runs Sphinx once per
edition, with -D language=.. and root_doc=..; course_site.py reads the rest from the staged course_site.json)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "Backpropagation, from the chain rule up"  # each edition's title replaces it (course_site.py)
extensions = ["myst_nb", "course_site"]

# The notebooks as they are stored: their outputs are what a learner reads, and nbval keeps them fresh.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # the stored outputs of widgets are static figures: no widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # links to a heading of a page, [text](#heading) or [text](page.ipynb#heading)
# A link to a page of the other edition (site/build.py rewrites it so: Sphinx sees one edition at a time) is a plain
# relative URL between the site's two folders, e.g. from ja/notebooks/ to ../../en/notebooks/00_start_here.html.
myst_url_schemes = {
    "http": None, "https": None, "mailto": None, "ftp": None,
    "course-site": {"url": "{{path}}", "classes": ["course-other-edition"]},
    "course-site-at": {"url": "{{path}}#{{fragment}}", "classes": ["course-other-edition"]},
}

# MathJax from the site itself (site/build.py copies it into _static/mathjax): the site loads nothing from a CDN.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_theme_options = {
    "article_header_end": ["course-buttons.html", "article-header-buttons.html"],
    "home_page_in_toc": True,
    "use_download_button": True,  # the page's notebook (.ipynb), as stored
    "show_toc_level": 2,
}
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
