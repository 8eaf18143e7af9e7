"""The course's website, built once from this repository (as `python3 course.py site` builds it) into a temporary
folder: every lesson and exercise set has its page in both languages, no internal link is broken, every page
switches language and opens its notebook in JupyterLab, nothing of the masters' solutions or hidden tests shows,
nothing loads from elsewhere, and Sphinx had nothing to warn about."""

import json
import urllib.parse

import pytest
import sitecheck
from sitecheck import EDITIONS, LAB_URL, ROOT

pytestmark = pytest.mark.slow  # reads the course's site, built once per run (5 to 10 s on two cores)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out, summary = sitecheck.course_site(tmp_path_factory)
    return {"out": out, "summary": summary, "pages": sitecheck.pages(out)}


def expected_pages() -> set[str]:
    """Every lesson and exercise set that either edition has: each must have a page in both."""
    return {page for edition in EDITIONS for page in sitecheck.sources(ROOT, edition)}


def test_every_lesson_and_exercise_set_has_a_page_in_both_languages(site):
    missing = [f"{edition}/{page}.html" for page in sorted(expected_pages()) for edition in EDITIONS
               if not (site["out"] / edition / f"{page}.html").is_file()]
    assert expected_pages() >= {f"notebooks/{path.stem}" for path in (ROOT / "notebooks").glob("0*.ipynb")}
    assert not missing, (
        f"pages missing (a lesson or exercise set without its notebook in the other language): {missing}")


def test_the_masters_have_no_pages(site):
    assert not list(site["out"].rglob("solutions")), "the site must not show solutions/ (solutions, hidden tests)"
    built = {page for edition in EDITIONS for page in site["summary"]["pages"][edition]}
    assert all(page.split("/")[0] in ("notebooks", "exercises") for page in built)


def test_no_internal_link_is_broken(site):
    broken = sitecheck.broken_links(site["out"], site["pages"])
    assert not broken, "broken links:\n" + "\n".join(broken)
    # the start page's course map links every lesson and exercise set (relative .ipynb links became pages)
    start = site["pages"][site["out"] / "en" / "notebooks" / "00_start_here.html"]
    linked = {url.split("#")[0] for _tag, _attribute, url in start.links}
    assert {"01_chain_rule.html", "../exercises/01_chain_rule.html"} <= linked


def test_every_page_switches_language_and_opens_its_notebook_in_jupyterlab(site):
    out = site["out"]
    for edition, prefix in EDITIONS.items():
        other = next(name for name in EDITIONS if name != edition)
        for page in site["summary"]["pages"][edition]:
            path = out / edition / f"{page}.html"
            anchors = site["pages"][path].anchors
            switch = (path.parent / anchors["course-language-switch"]).resolve()
            counterpart = out / other / f"{page}.html"
            home = out / other / "notebooks" / "00_start_here.html"  # the other edition's home page
            expected = counterpart if counterpart.exists() else home if home.exists() else out / other / "index.html"
            assert switch == expected.resolve(), f"{path.relative_to(out)}: the switch goes to {switch}"
            lab = anchors["course-open-in-lab"]
            assert lab.startswith(LAB_URL), lab
            notebook = urllib.parse.unquote(lab[len(LAB_URL):])
            assert notebook == f"{prefix}{page}.ipynb" and (ROOT / notebook).is_file(), lab
        for extra in ("search.html", "genindex.html"):  # Sphinx's own pages switch too, to their counterparts
            anchors = site["pages"][out / edition / extra].anchors
            assert (out / edition / extra).parent.joinpath(anchors["course-language-switch"]).resolve() == (
                out / other / extra).resolve()


def test_no_page_shows_a_solution_or_a_hidden_test(site):
    leaks = sitecheck.leaks(site["out"], ROOT, site["pages"])
    assert not leaks, "the site shows what only the masters hold:\n" + "\n".join(leaks)


def test_the_site_loads_nothing_from_elsewhere_and_serves_its_own_mathjax(site):
    outside = sitecheck.loaded_from_elsewhere(site["pages"], site["out"])
    assert not outside, f"resources from outside the site (it must work offline, with no CDN): {outside}"
    lesson = site["pages"][site["out"] / "en" / "notebooks" / "01_chain_rule.html"]
    scripts = [url for tag, _attribute, url in lesson.links if tag == "script"]
    assert any(url.startswith("../_static/mathjax/tex-chtml.js") for url in scripts), scripts
    for edition in EDITIONS:
        static = site["out"] / edition / "_static" / "mathjax"
        assert (static / "tex-chtml.js").is_file() and list((static / "output/chtml/fonts/woff-v2").glob("*.woff"))


def test_the_pages_show_the_stored_outputs(site):
    """Built from the stored outputs: the text a lesson printed when it was last executed is on its page."""
    for edition, prefix in EDITIONS.items():
        for notebook in sorted((ROOT / prefix / "notebooks").glob("*.ipynb")):
            text = site["pages"][site["out"] / edition / "notebooks" / f"{notebook.stem}.html"].text
            for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
                for output in cell.get("outputs", []):
                    if output["output_type"] == "stream":
                        first = " ".join("".join(output["text"]).strip().splitlines()[0].split())
                        assert first in text, f"{notebook.relative_to(ROOT)}: {first!r} is not on its page"


def test_the_build_warns_of_nothing(site):
    warnings = site["summary"]["warnings"]
    assert not any(warnings.values()), f"Sphinx's warnings: {json.dumps(warnings, ensure_ascii=False, indent=1)}"


def test_the_landing_page_and_github_pages(site):
    out = site["out"]
    landing = sitecheck.read_page(out / "index.html")
    assert {url for _tag, _attribute, url in landing.links} == {"en/notebooks/00_start_here.html",
                                                                "ja/notebooks/00_start_here.html"}
    assert (out / ".nojekyll").exists(), "without .nojekyll GitHub Pages would hide _static and _images"
    # nothing else is published: no build leftovers (MyST-NB's jupyter_execute stays in the staging area)
    published = {path.name for path in out.iterdir()}
    assert published == {".course-site", ".nojekyll", "build.json", "index.html", "en", "ja"}
