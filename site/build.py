"""Build the course's website, both editions, from the notebooks' stored outputs (nothing is executed).

    python site/build.py [--out DIR] [--lab-url URL] [--root DIR]

(`python3 course.py site` runs this inside the course's environment.) The site is Sphinx with MyST-NB and the
Sphinx Book Theme, the stack Jupyter Book 1 is made of, all from PyPI; MathJax is served from the site itself,
copied from a PyPI package that bundles it, so that the site works offline and loads nothing from a CDN.

What it makes, in DIR (default build/site):

    index.html              goes to an edition by the browser's language (index.html?choose: links to both)
    en/, ja/                one Sphinx site per edition: the lessons (notebooks/, ja/notebooks/) and the exercise
                            sets (exercises/, ja/exercises/), never the masters (solutions/), which hold solutions
                            and hidden tests
    .nojekyll               GitHub Pages serves the folders that start with "_" (Sphinx's _static, _images) as they are

Every page has a language switch to the same page of the other edition and a link that opens its notebook in
JupyterLab (`--lab-url`, default the JupyterLab that `python3 course.py lab` starts on this machine). The two
editions build in parallel, each in its own Sphinx process (on Linux, forked from this one once it has imported
Sphinx), from copies of the notebooks staged in a temporary folder (the staged start page gets the hidden table of
contents that Sphinx's navigation needs).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "build" / "site"
# The JupyterLab of `python3 course.py lab`, whose root is the repository: a notebook's repository path follows.
DEFAULT_LAB_URL = "http://localhost:8888/lab/tree/"
MARKER = ".course-site"  # in DIR: a folder this script made, so that a rebuild may empty it
START = "notebooks/00_start_here"

# Each edition: where its lessons and exercise sets are in the repository, and the words the site adds.
EDITIONS = {
    "en": {"prefix": "", "name": "English", "lessons": "Lessons", "exercises": "Exercise sets",
           "fallback_title": "Backpropagation, from the chain rule up"},
    "ja": {"prefix": "ja/", "name": "日本語", "lessons": "レッスン", "exercises": "演習セット",
           "fallback_title": "誤差逆伝播法 (日本語版)"},
}
FOLDERS = ("notebooks", "exercises")  # never solutions/: the masters hold solutions and hidden tests

# The part of MathJax 3 (its "es5" distribution) that TeX input with CommonHTML output loads: the component, the
# TeX extensions it loads on demand, its fonts, and the menu's accessibility parts. Not the speech maps (4 MB).
MATHJAX_PARTS = ["tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "a11y", "ui"]


# Sphinx's command, less a second of CPU: jsonschema (which nbformat, and so MyST-NB, imports) imports
# rfc3987_syntax when it is installed (JupyterLab's dependencies install it), and that module builds a grammar at
# import; reading notebooks never checks the formats it serves (tests/startup.py does the same for the tests).
SPHINX = ("import sys; sys.modules.setdefault('rfc3987_syntax', None); "
          "from sphinx.cmd.build import main; sys.exit(main(sys.argv[1:]))")
# What every edition's Sphinx imports (Sphinx, MyST-NB and what it brings, the theme): about 0.9 s of CPU in each
# process. Where processes can fork, this one imports them once and each edition's Sphinx is a fork of it.
SPHINX_MODULES = ["sphinx.cmd.build", "sphinx.application", "sphinx.builders.html", "myst_nb.sphinx_ext",
                  "sphinx_book_theme"]


class ForkedSphinx:
    """Sphinx's main(``arguments``) in a child process forked from this one, its output in ``log``, run in ``cwd``;
    waited for as a Popen is (``wait()`` returns the exit status). Call ``preload()`` once before the first."""

    def __init__(self, arguments: list[str], log: Path, cwd: Path):
        sys.stdout.flush()
        sys.stderr.flush()  # nothing buffered here is written twice, by the child too
        self.returncode = None
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            status = 1
            try:
                os.chdir(cwd)
                output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(output, 1)
                os.dup2(output, 2)
                from sphinx.cmd.build import main

                status = main(arguments)
            except BaseException:  # noqa: BLE001 -- the child ends below whatever happened: its log says what it was
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)

    @staticmethod
    def available() -> bool:
        """Whether editions can be forked here (Linux; macOS forks poorly once system frameworks are loaded)."""
        return hasattr(os, "fork") and sys.platform.startswith("linux")

    @staticmethod
    def preload() -> None:
        """Import what every edition's Sphinx imports, once, in this process (as SPHINX's command does)."""
        import importlib

        sys.modules.setdefault("rfc3987_syntax", None)
        for name in SPHINX_MODULES:
            importlib.import_module(name)

    def wait(self) -> int:
        """The child's exit status (negative: the signal that ended it), once it has ended."""
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


def mathjax_source() -> Path:
    """MathJax's es5 folder, from the django-static-mathjax package (the `site` extra): MathJax's own
    distribution files, packaged on PyPI; nothing Django-specific is used."""
    try:
        import mathjax
    except ImportError:
        sys.exit("MathJax is missing: install the course's `site` extra (python3 course.py site does).")
    folder = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (folder / "tex-chtml.js").exists():
        sys.exit(f"MathJax's tex-chtml.js is not in {folder}: is the `mathjax` module django-static-mathjax's?")
    return folder


def first_heading(notebook: Path) -> str | None:
    """The text of a notebook's first level-1 heading."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def pages_of(root: Path, edition: str) -> dict[str, str]:
    """An edition's pages: page name (e.g. notebooks/01_chain_rule) -> the notebook's path in the repository."""
    prefix = EDITIONS[edition]["prefix"]
    return {f"{folder}/{notebook.stem}": f"{prefix}{folder}/{notebook.name}"
            for folder in FOLDERS for notebook in sorted((root / prefix / folder).glob("*.ipynb"))}


# A markdown link's target: [text](target) or [text](target "title").
LINK = re.compile(r"(\]\()(?P<target>[^)\s]+)(?=(?:\s+\"[^\"]*\")?\))")


def edition_page(repository_path: str) -> tuple[str, str] | None:
    """(edition, page name) of a notebook's path in the repository; None for any other file."""
    for edition in sorted(EDITIONS, key=lambda name: -len(EDITIONS[name]["prefix"])):  # "ja/" before ""
        prefix = EDITIONS[edition]["prefix"]
        rest = repository_path[len(prefix):] if repository_path.startswith(prefix) else None
        if rest and rest.endswith(".ipynb") and rest.split("/")[0] in FOLDERS and rest.count("/") == 1:
            return edition, rest[: -len(".ipynb")]
    return None


def link_other_edition(source: str, notebook: str, edition: str, pages: dict[str, dict[str, str]]) -> str:
    """``source`` (a markdown cell of the notebook at repository path ``notebook``) with its links to a page of the
    other edition (e.g. the Japanese start page's link to the English one, ../../notebooks/00_start_here.ipynb)
    made into links between the two editions' folders of the site. Sphinx sees one edition at a time, so these
    go through the URL schemes that conf.py declares ("course-site:" and, with a #fragment, "course-site-at:");
    links within the edition stay as written, for MyST to resolve (and to warn about when they are broken)."""
    def replace(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|[#/]", target):
            return match[0]  # a URL, a link within the page, or a path from the edition's root
        path, _, fragment = target.partition("#")
        linked = edition_page(posixpath.normpath(posixpath.join(posixpath.dirname(notebook), path)))
        if linked is None or linked[0] == edition or linked[1] not in pages[linked[0]]:
            return match[0]
        page = edition_page(notebook)[1]
        url = posixpath.relpath(f"{linked[0]}/{linked[1]}.html", posixpath.dirname(f"{edition}/{page}"))
        return match[1] + (f"course-site-at:{url}#{fragment}" if fragment else f"course-site:{url}")
    return LINK.sub(replace, source)


def toctree(caption: str, entries: list[str]) -> str:
    lines = "\n".join(f"/{entry}" for entry in entries)
    return f"```{{toctree}}\n:hidden:\n:caption: {caption}\n:maxdepth: 1\n\n{lines}\n```\n"


def stage(root: Path, edition: str, every_page: dict[str, dict[str, str]], lab_url: str,
          staging: Path) -> tuple[Path, str, str]:
    """Copy an edition's notebooks into ``staging``/edition (links to the other edition made into links between the
    site's folders), with the navigation and the settings its Sphinx run reads (course_site.json); return the
    source folder, its root page and its title."""
    words, pages = EDITIONS[edition], every_page[edition]
    other = next(name for name in EDITIONS if name != edition)
    other_pages = sorted(every_page[other])
    source = staging / edition
    for page, path in pages.items():
        (source / page).parent.mkdir(parents=True, exist_ok=True)
        notebook = json.loads((root / path).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = link_other_edition("".join(cell["source"]), path, edition, every_page)
        (source / f"{page}.ipynb").write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    lessons = [page for page in pages if page.startswith("notebooks/") and page != START]
    exercises = [page for page in pages if page.startswith("exercises/")]
    navigation = (toctree(words["lessons"], lessons) if lessons else "") + "\n" + (
        toctree(words["exercises"], exercises) if exercises else "")
    if START in pages:
        # The start page (written by the authors: the course map) is the edition's home page; the navigation is a
        # hidden markdown cell at its end, in the staged copy only.
        home, notebook_file = START, source / f"{START}.ipynb"
        notebook = json.loads(notebook_file.read_text(encoding="utf-8"))
        notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": navigation,
                                  "id": "course-site-navigation"})
        notebook_file.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
        title = first_heading(root / pages[START]) or words["fallback_title"]
    else:
        # An edition without its start page yet (a translation under way): a home page that lists what exists.
        home, title = "index", words["fallback_title"]
        listing = "".join(f"- [{first_heading(root / pages[page]) or page}](/{page})\n"
                          for page in [*lessons, *exercises])
        (source / "index.md").parent.mkdir(parents=True, exist_ok=True)
        (source / "index.md").write_text(f"# {title}\n\n{listing}\n{navigation}", encoding="utf-8")
    settings = {"edition": edition, "other": other, "title": title, "home": home, "lab_url": lab_url,
                "notebooks": pages, "other_pages": other_pages,
                "other_home": START if START in other_pages else "index"}
    (source / "course_site.json").write_text(json.dumps(settings, ensure_ascii=False, indent=1), encoding="utf-8")
    return source, home, title


def copy_mathjax(staging: Path) -> Path:
    """MathJax's parts, in a folder that each edition's Sphinx copies into its _static (as _static/mathjax)."""
    static = staging / "static"
    source = mathjax_source()
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, static / "mathjax" / part)
        else:
            (static / "mathjax" / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, static / "mathjax" / part)
    return static


def landing_page(homes: dict[str, tuple[str, str]]) -> str:
    """The site's index.html: to the home page of the reader's edition by the browser's language, with a link to
    each (``homes``: edition -> its home page, its title)."""
    links = "\n".join(f'  <li><a href="{name}/{homes[name][0]}.html" hreflang="{name}" lang="{name}">'
                      f'{html.escape(words["name"])}: {html.escape(homes[name][1])}</a></li>'
                      for name, words in EDITIONS.items())
    targets = json.dumps({name: f"{name}/{home}.html" for name, (home, _title) in homes.items()})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(" · ".join(title for _home, title in homes.values()))}</title>
<script>
  // The edition in the reader's language, unless they came here to choose (index.html?choose).
  if (!location.search.includes("choose")) {{
    const homes = {targets};
    const japanese = (navigator.languages || [navigator.language]).some(l => /^ja\\b/i.test(l || ""));
    location.replace(japanese ? homes.ja : homes.en);
  }}
</script>
</head>
<body>
<h1>{html.escape(homes["en"][1])}</h1>
<ul>
{links}
</ul>
</body>
</html>
"""


def redirect_page(target: str) -> str:
    """An edition's index.html when its home page is elsewhere (the start page, notebooks/00_start_here.html)."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}"><title>…</title></head>
<body><a href="{target}">{target}</a></body></html>
"""


def prepare_out(out: Path) -> None:
    """Make ``out`` an empty folder of this script's; refuse a folder that holds anything else."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        sys.exit(f"{out} holds files that this script did not make: choose another --out, or empty it.")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by site/build.py; emptied at each build\n")


def build(root: Path, out: Path, lab_url: str, quiet: bool = False) -> dict:
    """Build both editions into ``out``; return a summary (pages per edition, seconds, the warnings)."""
    started = time.monotonic()
    prepare_out(out)
    pages = {edition: pages_of(root, edition) for edition in EDITIONS}
    with tempfile.TemporaryDirectory(prefix="course-site-") as scratch:
        staging = Path(scratch)
        copy_mathjax(staging)
        fork = ForkedSphinx.available()
        if fork:
            ForkedSphinx.preload()
        runs, homes = {}, {}
        for edition in EDITIONS:
            source, home, title = stage(root, edition, pages, lab_url, staging)
            homes[edition] = (home, title)
            # Each edition's Sphinx writes into a folder of its own in the staging area: MyST-NB keeps the outputs
            # it extracts (figures) beside the output folder, in ../jupyter_execute, which must be neither shared
            # by the two runs nor published.
            html = staging / f"html-{edition}" / "site"
            warnings = staging / f"warnings-{edition}.txt"
            arguments = ["-b", "html", "-q", "-c", str(HERE), "-D", f"language={edition}", "-D", f"root_doc={home}",
                         "-w", str(warnings), "-d", str(staging / f"doctrees-{edition}"), str(source), str(html)]
            if fork:
                process = ForkedSphinx(arguments, staging / f"sphinx-{edition}.log", root)
            else:
                with (staging / f"sphinx-{edition}.log").open("wb") as log:
                    process = subprocess.Popen([sys.executable, "-c", SPHINX, *arguments], stdout=log,
                                               stderr=subprocess.STDOUT, cwd=root)
            runs[edition] = (process, html, warnings, home)
        failed, found = [], {}
        for edition, (process, html, warnings, home) in runs.items():
            if process.wait():
                log = (staging / f"sphinx-{edition}.log").read_text(errors="replace")
                failed.append(f"Sphinx failed on the {edition} edition (exit {process.returncode}):\n{log[-5000:]}")
                continue
            # "/tmp/course-site-…/ja/notebooks/01_chain_rule.ipynb:12: WARNING: …" names the notebook as the
            # repository does: ja/notebooks/01_chain_rule.ipynb (the English one: notebooks/01_chain_rule.ipynb).
            staged = str(staging / edition) + os.sep
            found[edition] = [line.replace(staged, EDITIONS[edition]["prefix"]) for line in
                              warnings.read_text(errors="replace").splitlines() if line.strip()]
            shutil.move(html, out / edition)
            if home != "index":
                (out / edition / "index.html").write_text(redirect_page(f"{home}.html"), encoding="utf-8")
        if failed:
            sys.exit("\n\n".join(failed))
    (out / "index.html").write_text(landing_page(homes), encoding="utf-8")
    (out / ".nojekyll").write_text("")
    summary = {"pages": {edition: sorted(pages[edition]) for edition in EDITIONS},
               "seconds": round(time.monotonic() - started, 1), "warnings": found}
    (out / "build.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if not quiet:
        for edition in EDITIONS:
            print(f"{edition}: {len(pages[edition])} pages" +
                  (f", {len(found[edition])} warnings:" if found[edition] else ""))
            for line in found[edition]:
                print("  " + line)
        print(f"The site is in {out} ({summary['seconds']} s). Open {out / 'index.html'}, or serve it: "
              f"python3 -m http.server -d {out}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the site's folder (default {DEFAULT_OUT})")
    parser.add_argument("--lab-url", default=os.environ.get("COURSE_SITE_LAB_URL", DEFAULT_LAB_URL),
                        help="what a notebook's repository path is appended to, to open it in JupyterLab "
                             f"(default {DEFAULT_LAB_URL}: the JupyterLab of `python3 course.py lab`)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course repository (default: this one)")
    parser.add_argument("--strict", action="store_true", help="fail (exit 1) when Sphinx warns")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    arguments = parser.parse_args(argv)
    summary = build(arguments.root.resolve(), arguments.out.resolve(), arguments.lab_url, quiet=arguments.quiet)
    return 1 if arguments.strict and any(summary["warnings"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
