"""A pytest plugin, loaded by the root conftest.py: the longest files of tests run first.

pytest-xdist hands out whole files (``--dist loadscope``) in collection order (course.py turns off its own
reordering, which puts the files with the most tests first, however quick). A file that waits on kernels or
time limits, handed out last, would leave the other processes idle until it ends. So collection orders files
by an estimate of their length: one unit per slow test (marked ``slow``, or a notebook cell, whose file
starts a kernel), a twentieth for any other; a test marked ``slow(units=N)`` counts N (the browser tests, each of
which waits on a JupyterLab page). Every process computes the same order from the same items, as
pytest-xdist requires.
"""

import pytest

SLOW = 1.0
QUICK = 0.05


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _units(item) -> float:
    marker = item.get_closest_marker("slow")
    if marker is not None:
        return float(marker.kwargs.get("units", SLOW))
    return SLOW if item.nodeid.split("::", 1)[0].endswith(".ipynb") else QUICK


@pytest.hookimpl(trylast=True)  # after every plugin that drops or adds items
def pytest_collection_modifyitems(items):
    """Stable-sort the items by the estimated length of their file, longest first."""
    weight: dict[str, float] = {}
    for item in items:
        weight[_file_of(item)] = weight.get(_file_of(item), 0.0) + _units(item)
    items.sort(key=lambda item: -weight[_file_of(item)])
