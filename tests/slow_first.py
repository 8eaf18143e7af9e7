"""A pytest plugin, loaded by the root conftest.py: the longest files of tests run first.

pytest-xdist hands out whole files (``--dist loadscope``) in collection order (course.py turns off its own
reordering, which puts the files with the most tests first, however quick). A file that waits on kernels or
time limits, handed out last, would leave the other processes idle until it ends. So collection orders files
by their length: the seconds a whole run measured (tests/durations.json, written by
``python3 course.py test --store-durations``), or, for a file not measured yet, an estimate: one unit per slow
test (marked ``slow``, or a notebook cell, whose file starts a kernel), a twentieth for any other; a test marked
``slow(units=N)`` counts N. Every process computes the same order from the same items and the same file, as
pytest-xdist requires.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

SLOW = 1.0
QUICK = 0.05
SECONDS_PER_UNIT = 0.4  # an unmeasured file's unit beside measured seconds (what a notebook cell typically costs)
DURATIONS = Path(__file__).with_name("durations.json")


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _units(item) -> float:
    marker = item.get_closest_marker("slow")
    if marker is not None:
        return float(marker.kwargs.get("units", SLOW))
    return SLOW if item.nodeid.split("::", 1)[0].endswith(".ipynb") else QUICK


def measured() -> dict[str, float]:
    """Seconds each file took in the run that wrote DURATIONS (none when it is missing or unreadable)."""
    try:
        return {str(name): float(seconds) for name, seconds in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


@pytest.hookimpl(trylast=True)  # after every plugin that drops or adds items
def pytest_collection_modifyitems(items):
    """Stable-sort the items by the length of their file, longest first: measured, else estimated."""
    units: dict[str, float] = {}
    for item in items:
        units[_file_of(item)] = units.get(_file_of(item), 0.0) + _units(item)
    seconds = measured()
    weight = {name: seconds.get(name, count * SECONDS_PER_UNIT) for name, count in units.items()}
    items.sort(key=lambda item: -weight[_file_of(item)])


def pytest_addoption(parser):
    parser.addoption("--store-durations", action="store_true",
                     help="write the seconds each test file took to tests/durations.json (the order of later runs)")


_SPENT: Counter = Counter()


def pytest_runtest_logreport(report):
    """Add up each file's setup, call and teardown (in the controlling process, every worker's reports)."""
    _SPENT[report.nodeid.split("::", 1)[0]] += report.duration


def pytest_sessionfinish(session):
    if session.config.getoption("store_durations") and not hasattr(session.config, "workerinput"):
        DURATIONS.write_text(json.dumps({name: round(seconds, 1) for name, seconds in sorted(_SPENT.items())},
                                        indent=0) + "\n")
