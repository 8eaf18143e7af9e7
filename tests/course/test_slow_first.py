"""The suite hands its longest files to the test processes first (tests/slow_first.py)."""

import pytest

from tests.slow_first import pytest_collection_modifyitems


class _Item:
    def __init__(self, nodeid: str, slow: bool = False):
        self.nodeid = nodeid
        self.slow = slow

    def get_closest_marker(self, name):
        return pytest.mark.slow if name == "slow" and self.slow else None


def test_files_are_ordered_by_their_slow_tests_and_keep_their_own_order():
    items = [_Item("tests/a.py::quick1"), _Item("tests/a.py::quick2"),
             _Item("tests/b.py::waits", slow=True), _Item("tests/b.py::quick"),
             _Item("notebooks/01.ipynb::Cell 0"), _Item("notebooks/01.ipynb::Cell 1"),
             _Item("tests/c.py::one", slow=True)]
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == [
        "notebooks/01.ipynb::Cell 0", "notebooks/01.ipynb::Cell 1",  # two cells of a kernel: 2 units
        "tests/b.py::waits", "tests/b.py::quick",                      # 1.05
        "tests/c.py::one",                                              # 1
        "tests/a.py::quick1", "tests/a.py::quick2"]                     # 0.1
