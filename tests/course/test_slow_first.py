"""The suite hands its longest files to the test processes first (tests/slow_first.py)."""

import pytest

from tests.slow_first import pytest_collection_modifyitems


class _Item:
    def __init__(self, nodeid: str, slow: bool = False, units: float | None = None):
        self.nodeid = nodeid
        self.slow = slow or units is not None
        self.units = units

    def get_closest_marker(self, name):
        if name != "slow" or not self.slow:
            return None
        return pytest.mark.slow if self.units is None else pytest.mark.slow(units=self.units)


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


def test_a_test_marked_with_units_counts_that_many():
    items = [_Item("tests/many.py::a", slow=True), _Item("tests/many.py::b", slow=True),
             _Item("tests/browser.py::page", units=5)]
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == ["tests/browser.py::page", "tests/many.py::a", "tests/many.py::b"]
