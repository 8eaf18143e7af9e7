"""A pytest plugin, loaded by the root conftest.py: the longest files of tests run first.

pytest-xdist hands out whole files (``--dist loadscope``) in collection order (course.py turns off its own
reordering, which puts the files with the most tests first, however quick). A file that waits on kernels or
time limits, handed out last, would leave the other processes idle until it ends. So collection orders files
by an estimate of their length: one unit per slow test (marked ``slow``, or a notebook cell, whose file
starts a kernel), a twentieth for any other. Every process computes the same order from the same items, as
pytest-xdist requires.
"""

import pytest

SLOW = 1.0
QUICK = 0.05


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _is_slow(item) -> bool:
    return item.get_closest_marker("slow") is not None or item.nodeid.split("::", 1)[0].endswith(".ipynb")


@pytest.hookimpl(trylast=True)  # after every plugin that drops or adds items
def pytest_collection_modifyitems(items):
    """Stable-sort the items by the estimated length of their file, longest first."""
    weight: dict[str, float] = {}
    for item in items:
        weight[_file_of(item)] = weight.get(_file_of(item), 0.0) + (SLOW if _is_slow(item) else QUICK)
    items.sort(key=lambda item: -weight[_file_of(item)])
