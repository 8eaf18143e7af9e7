"""How the website is made, on a small course of this test's own (built once into a temporary folder): both editions
from the stored outputs, the language switch between counterparts (and to the other edition's home page where a
page has no counterpart yet), the JupyterLab links, the navigation, no page for the masters; and the checks the
site's tests rely on, shown to catch a broken link and a leaked hidden test or solution."""

import base64
import shutil
import struct
import zlib

import nbformat
import pytest
import sitecheck

pytestmark = pytest.mark.slow(units=0.5)  # the module builds a small site once: about 4 s
LAB_URL = "https://hub.example.org/hub/user-redirect/lab/tree/"
HIDDEN = "assert abs(secret_function(0.123456) - 0.987654) < 1e-12  # a hidden value"
SOLUTION = "return (f(x + h) - f(x - h)) / (2 * h)  # the answer itself"


def png(width: int = 4, height: int = 3) -> str:
    """A small grey PNG, base64-encoded as a notebook stores it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(data).decode()


def notebook(path, *cells):
    """Write a notebook of markdown (str) and code ((source, outputs)) cells."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell))
        else:
            source, outputs = cell
            nb.cells.append(nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def stored_outputs(text):
    """A stream that says what was stored (not what the code would print now), and a figure."""
    return [nbformat.v4.new_output("stream", name="stdout", text=text),
            nbformat.v4.new_output("display_data", data={"image/png": png(), "text/plain": "<Figure>"})]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course of two lessons and one exercise set in English, its master, and a Japanese edition that has the
    start page, lesson 01 and its exercise set but not lesson 02 yet."""
    root = tmp_path_factory.mktemp("course")
    notebook(root / "notebooks/00_start_here.ipynb",
             "# A small course\n\n[Lesson 01](01_one.ipynb), [lesson 02](02_two.ipynb#two-a-heading), "
             "[its exercises](../exercises/01_one.ipynb)")
    notebook(root / "notebooks/01_one.ipynb", "# Lesson 01 · One\n\nThe limit\n\n$$f'(x) = \\lim_{h \\to 0} "
             "\\frac{f(x+h) - f(x)}{h}$$\n\nand inline $\\sigma'(z) = y(1-y)$.",
             ("print(6 * 7)", stored_outputs("stored output, not 42\n")))
    notebook(root / "notebooks/02_two.ipynb", "# Lesson 02 · Two\n\n## Two, a heading\n\nBack to [one](01_one.ipynb), "
             "or [in Japanese](../ja/notebooks/01_one.ipynb \"レッスン 01\").")
    notebook(root / "exercises/01_one.ipynb", "# Exercises 01",
             ("def central_difference(f, x, h=1e-5):\n    # YOUR CODE HERE\n    raise NotImplementedError()", []))
    notebook(root / "solutions/01_one.ipynb", "# Exercises 01",
             (f"def central_difference(f, x, h=1e-5):\n    ### BEGIN SOLUTION\n    {SOLUTION}\n    ### END SOLUTION",
              []), (f"check()\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS", []))
    notebook(root / "ja/notebooks/00_start_here.ipynb",
             "# 小さな講座\n\n[レッスン 01](01_one.ipynb)、[演習](../exercises/01_one.ipynb)、"
             "[English](../../notebooks/00_start_here.ipynb)、[Lesson 02](../../notebooks/02_two.ipynb#two-a-heading)")
    notebook(root / "ja/notebooks/01_one.ipynb", "# レッスン 01 · 一\n\n極限\n\n$$f'(x) = \\lim_{h \\to 0} "
             "\\frac{f(x+h) - f(x)}{h}$$", ("print(6 * 7)", stored_outputs("保存された出力\n")))
    notebook(root / "ja/exercises/01_one.ipynb", "# 演習 01",
             ("def central_difference(f, x, h=1e-5):\n    # YOUR CODE HERE\n    raise NotImplementedError()", []))
    out = tmp_path_factory.mktemp("site") / "course"
    summary = sitecheck.build(out, root, "--lab-url", LAB_URL)
    return {"root": root, "out": out, "summary": summary, "pages": sitecheck.pages(out)}


def page(course, name):
    return course["pages"][course["out"] / name]


def target(course, name, anchor_class):
    """Where the first <a> of class ``anchor_class`` on page ``name`` leads, relative to the site."""
    href = page(course, name).anchors[anchor_class]
    return (course["out"] / name).parent.joinpath(href).resolve().relative_to(course["out"].resolve()).as_posix()


def test_both_editions_have_their_pages_and_the_masters_none(course):
    assert course["summary"]["pages"] == {
        "en": ["exercises/01_one", "notebooks/00_start_here", "notebooks/01_one", "notebooks/02_two"],
        "ja": ["exercises/01_one", "notebooks/00_start_here", "notebooks/01_one"]}
    assert not list(course["out"].rglob("solutions"))
    assert course["summary"]["warnings"] == {"en": [], "ja": []}


def test_the_pages_show_the_stored_outputs_and_nothing_is_executed(course):
    assert "stored output, not 42" in page(course, "en/notebooks/01_one.html").text
    assert "保存された出力" in page(course, "ja/notebooks/01_one.html").text
    for edition in ("en", "ja"):
        images = [url for tag, _attribute, url in page(course, f"{edition}/notebooks/01_one.html").links
                  if tag == "img"]
        assert any(url.startswith("../_images/") for url in images), images


def test_the_language_switch_goes_to_the_counterpart_or_the_other_home_page(course):
    assert target(course, "en/notebooks/01_one.html", "course-language-switch") == "ja/notebooks/01_one.html"
    assert target(course, "ja/notebooks/01_one.html", "course-language-switch") == "en/notebooks/01_one.html"
    assert target(course, "ja/exercises/01_one.html", "course-language-switch") == "en/exercises/01_one.html"
    # lesson 02 has no Japanese page yet: its switch goes to the Japanese edition's home page
    assert target(course, "en/notebooks/02_two.html", "course-language-switch") == "ja/notebooks/00_start_here.html"
    assert 'lang="ja"' in (course["out"] / "ja/notebooks/01_one.html").read_text(encoding="utf-8")[:300]


def test_links_to_the_other_edition_lead_to_its_folder_of_the_site(course):
    """Sphinx sees one edition at a time: the build makes a link to a notebook of the other edition a link between
    the site's two folders (a link within the edition stays MyST's to resolve)."""
    japanese = {url for _tag, _attribute, url in page(course, "ja/notebooks/00_start_here.html").links}
    assert {"../../en/notebooks/00_start_here.html", "../../en/notebooks/02_two.html#two-a-heading",
            "01_one.html", "../exercises/01_one.html"} <= japanese
    english = {url for _tag, _attribute, url in page(course, "en/notebooks/02_two.html").links}
    assert "../../ja/notebooks/01_one.html" in english


def test_each_notebook_page_opens_its_notebook_in_jupyterlab(course):
    assert page(course, "en/notebooks/01_one.html").anchors["course-open-in-lab"] == (
        LAB_URL + "notebooks/01_one.ipynb")
    assert page(course, "ja/exercises/01_one.html").anchors["course-open-in-lab"] == (
        LAB_URL + "ja/exercises/01_one.ipynb")
    assert "course-open-in-lab" not in page(course, "en/search.html").anchors


def test_the_navigation_and_the_titles_come_from_the_notebooks(course):
    english, japanese = page(course, "en/notebooks/02_two.html"), page(course, "ja/notebooks/01_one.html")
    assert "Lessons" in english.text and "Exercise sets" in english.text and "Lesson 01 · One" in english.text
    assert "レッスン" in japanese.text and "演習セット" in japanese.text and "小さな講座" in japanese.text
    for edition, home in (("en", "A small course"), ("ja", "小さな講座")):
        index = (course["out"] / edition / "index.html").read_text(encoding="utf-8")
        assert 'url=notebooks/00_start_here.html"' in index  # an edition's index.html goes to its start page
        assert f"<title>{home}" in (course["out"] / edition / "notebooks/00_start_here.html").read_text("utf-8")


def test_the_checks_pass_on_this_site(course):
    assert sitecheck.broken_links(course["out"], course["pages"]) == []
    assert sitecheck.leaks(course["out"], course["root"], course["pages"]) == []
    assert sitecheck.loaded_from_elsewhere(course["pages"], course["out"]) == []


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(course, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(course["out"], site)
    lesson = site / "en/notebooks/02_two.html"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace(
        "</body>", '<a href="03_three.html">gone</a><a href="01_one.html#no-such-heading">x</a>'
                   '<img src="../_images/none.png"></body>'), encoding="utf-8")
    broken = sitecheck.broken_links(site)
    assert len(broken) == 3 and all(line.startswith("en/notebooks/02_two.html: ") for line in broken), broken
    assert any("no element with id 'no-such-heading'" in line for line in broken)


def test_the_leak_check_finds_a_hidden_test_a_solution_and_a_marker(course, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(course["out"], site)
    lesson = site / "en/notebooks/01_one.html"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("</body>", f"<pre>{HIDDEN}</pre></body>"),
                      encoding="utf-8")
    exercise = site / "ja/exercises/01_one.html"
    exercise.write_text(exercise.read_text(encoding="utf-8").replace("</body>", f"<pre>{SOLUTION}</pre></body>"),
                        encoding="utf-8")
    (site / "en/notes.txt").write_text("### BEGIN HIDDEN TESTS\n")
    found = sitecheck.leaks(site, course["root"])
    assert any(line.startswith("en/notebooks/01_one.html: a hidden test") for line in found), found
    assert not any("ja/exercises" in line for line in found), "the Japanese master does not exist: nothing to leak"
    shutil.copytree(course["root"] / "solutions", course["root"] / "ja/solutions")
    try:
        found = sitecheck.leaks(site, course["root"])
    finally:
        shutil.rmtree(course["root"] / "ja/solutions")
    assert any(line.startswith("ja/exercises/01_one.html: a solution line") for line in found), found
    assert any(line.startswith("en/notes.txt: the marker") for line in found), found
