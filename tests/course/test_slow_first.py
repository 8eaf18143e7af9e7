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


def test_measured_seconds_outrank_estimates_and_unmeasured_files_keep_their_estimate(tmp_path, monkeypatch):
    import json

    from tests import slow_first

    monkeypatch.setattr(slow_first, "DURATIONS", tmp_path / "durations.json")
    (tmp_path / "durations.json").write_text(json.dumps({"tests/few.py": 9.0, "tests/many.py": 0.2}))
    items = [_Item("tests/many.py::a", slow=True), _Item("tests/many.py::b", slow=True),  # 2 units, measured 0.2 s
             _Item("tests/few.py::a"),                                                   # 0.05 units, measured 9 s
             _Item("tests/new.py::a", slow=True)]                                        # not measured: 1 unit
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == ["tests/few.py::a", "tests/new.py::a", "tests/many.py::a",
                                               "tests/many.py::b"]


def test_store_durations_writes_each_files_seconds_in_the_controlling_process_only(tmp_path, monkeypatch):
    import json
    from collections import Counter
    from types import SimpleNamespace

    from tests import slow_first

    monkeypatch.setattr(slow_first, "DURATIONS", tmp_path / "durations.json")
    monkeypatch.setattr(slow_first, "_SPENT", Counter())
    for nodeid, seconds in [("tests/a.py::x", 1.0), ("tests/a.py::y", 0.25), ("notebooks/b.ipynb::Cell 0", 2.0)]:
        slow_first.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds))
    worker = SimpleNamespace(config=SimpleNamespace(getoption=lambda name: True, workerinput={}))
    slow_first.pytest_sessionfinish(worker)
    assert not (tmp_path / "durations.json").exists()
    controller = SimpleNamespace(config=SimpleNamespace(getoption=lambda name: True))
    slow_first.pytest_sessionfinish(controller)
    assert json.loads((tmp_path / "durations.json").read_text()) == {"notebooks/b.ipynb": 2.0, "tests/a.py": 1.2}
