"""Helpers of the website's tests: build the site as `python3 course.py site` does, read its pages, and find broken
internal links, resources loaded from elsewhere, and text of the masters' solutions and hidden tests."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "site" / "build.py"
EDITIONS = {"en": "", "ja": "ja/"}  # edition -> its folder in the repository
FOLDERS = ("notebooks", "exercises")  # the pages: lessons and exercise sets, never the masters (solutions/)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SHORTEST_LINE = 30  # characters: a shorter line of a master's region may well appear elsewhere by chance


def build(out: Path, root: Path = ROOT, *extra: str) -> dict:
    """Build the site of the course in ``root`` into ``out`` with site/build.py (as `course.py site` runs it);
    return its summary (build.json: pages per edition, seconds, Sphinx's warnings)."""
    finished = subprocess.run([sys.executable, str(BUILD), "--root", str(root), "--out", str(out), "--quiet", *extra],
                              capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, f"the site's build failed:\n{finished.stdout}\n{finished.stderr}"
    return json.loads((out / "build.json").read_text(encoding="utf-8"))


LAB_URL = "http://lab.invalid/lab/tree/"  # where the course's built site sends "Open in JupyterLab" in the tests


def course_site(tmp_path_factory) -> tuple[Path, dict]:
    """The course's own site (built with LAB_URL) and its summary: built once per test run, whichever test process
    asks first, and read by the others (the build is the same: 5 to 10 s of CPU each time saved)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base  # pytest-xdist: one folder per process
    out = shared / "course-site"
    with open(shared / "course-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here while the first builds
        if not (out / "build.json").exists():
            build(out, ROOT, "--lab-url", LAB_URL)
    return out, json.loads((out / "build.json").read_text(encoding="utf-8"))


def sources(root: Path, edition: str) -> list[str]:
    """The page names (e.g. notebooks/01_chain_rule) of an edition's notebooks in the repository ``root``."""
    return sorted(f"{folder}/{path.stem}" for folder in FOLDERS
                  for path in (root / EDITIONS[edition] / folder).glob("*.ipynb"))


@dataclass
class Page:
    """What a page holds that the tests read: its links and resources, its ids, its text."""

    path: Path
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, URL)
    ids: set[str] = field(default_factory=set)
    text: str = ""
    anchors: dict[str, str] = field(default_factory=dict)  # class of an <a> -> its href (the first of each)


class _Reader(HTMLParser):
    LINKING = {("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"), ("iframe", "src"),
               ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page, self.parts, self.skip = page, [], 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if (tag, name) in self.LINKING and value is not None:
                self.page.links.append((tag, name, value))
            if name in ("id", "name") and value:
                self.page.ids.add(value)
        if tag == "a" and values.get("href") is not None:
            for one in (values.get("class") or "").split():
                self.page.anchors.setdefault(one, values["href"])
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def read_page(path: Path) -> Page:
    page = Page(path)
    reader = _Reader(page)
    reader.feed(path.read_text(encoding="utf-8", errors="replace"))
    reader.close()
    page.text = " ".join(" ".join(reader.parts).split())
    return page


def pages(site: Path) -> dict[Path, Page]:
    """Every HTML page of the site, read (not the theme's files in _static: Jinja macros that end in .html)."""
    return {path: read_page(path) for path in sorted(site.rglob("*.html"))
            if "_static" not in path.relative_to(site).parts}


def is_external(url: str) -> bool:
    return bool(urllib.parse.urlsplit(url).scheme) or url.startswith("//")


def broken_links(site: Path, read: dict[Path, Page] | None = None) -> list[str]:
    """Every internal link or resource of the site's pages whose file is missing, which leaves the site, or whose
    #fragment names no element of its page: "page: URL (why)"."""
    read = pages(site) if read is None else read
    site = site.resolve()
    broken = []
    for path, page in read.items():
        for _tag, _attribute, url in page.links:
            if is_external(url) or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            parts = urllib.parse.urlsplit(html.unescape(url))
            target = path if not parts.path else (path.parent / urllib.parse.unquote(parts.path)).resolve()
            where = f"{path.relative_to(site)}: {url}"
            if site not in target.parents and target != site:
                broken.append(f"{where} (outside the site)")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{where} (no such file)")
                continue
            fragment = urllib.parse.unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = read[target].ids if target in read else read_page(target).ids
                if fragment not in ids:
                    broken.append(f"{where} (no element with id {fragment!r})")
    return broken


def loaded_from_elsewhere(read: dict[Path, Page], site: Path) -> list[str]:
    """Every resource a page loads (script, style sheet, image, frame) from outside the site: "page: URL"."""
    return [f"{path.relative_to(site)}: {url}" for path, page in read.items()
            for tag, _attribute, url in page.links if tag != "a" and is_external(url)]


def region_lines(master: Path) -> dict[str, set[str]]:
    """The lines inside the solution and hidden-test regions of a master notebook (stripped, the long ones)."""
    found = {"SOLUTION": set(), "HIDDEN TESTS": set()}
    for cell in json.loads(master.read_text(encoding="utf-8"))["cells"]:
        kind = None
        for line in "".join(cell["source"]).splitlines():
            marker = re.match(r"\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$", line)
            if marker:
                kind = marker[2] if marker[1] == "BEGIN" else None
            elif kind and len(line.strip()) >= SHORTEST_LINE and not line.strip().startswith("#"):
                found[kind].add(" ".join(line.split()))
    return found


def notebook_text(path: Path) -> str:
    """A notebook's cell sources, one string with its whitespace collapsed ("" when there is no such file)."""
    if not path.exists():
        return ""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return " ".join(" ".join("".join(cell["source"]).split()) for cell in cells)


def leaks(site: Path, root: Path, read: dict[Path, Page] | None = None) -> list[str]:
    """What the site shows of the masters: a region marker anywhere in the site's files (pages, the notebooks it
    offers for download, the search index); a line of a hidden test on any page; a line of a solution on an
    exercise set's page, or in its downloadable notebook, that the exercise notebook itself does not hold."""
    read = pages(site) if read is None else read
    found = []
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".js", ".txt", ".json"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(site)}: the marker {marker!r}" for marker in MARKERS if marker in text]
    texts = {path: page.text for path, page in read.items()}
    for edition, prefix in EDITIONS.items():
        for master in sorted((root / prefix / "solutions").glob("*.ipynb")):
            lines = region_lines(master)
            for line in lines["HIDDEN TESTS"]:
                found += [f"{path.relative_to(site)}: a hidden test of {master.relative_to(root)}: {line}"
                          for path, text in texts.items() if line in text]
            own = notebook_text(root / prefix / "exercises" / master.name)
            page = site / edition / "exercises" / f"{master.stem}.html"
            shown = texts.get(page, "") + " " + notebook_text(site / edition / "_sources" / "exercises" / master.name)
            found += [f"{page.relative_to(site)}: a solution line of {master.relative_to(root)}: {line}"
                      for line in lines["SOLUTION"] if line in shown and line not in own]
    return found
