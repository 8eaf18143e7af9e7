"""A pytest plugin, loaded by the root conftest.py: in an untouched exercise set, every test cell fails as
"not attempted".

nbval already runs each exercise notebook once (its unsolved cells are tagged to raise, so nbval accepts the
error); this reads the outputs of that same run, so no exercise notebook is executed twice.
"""

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval ran a test cell of a notebook in an ``exercises`` folder (exercises/, ja/exercises/), require
    its "not attempted" error."""
    result = yield
    outputs = getattr(item, "test_outputs", None)  # set by nbval on the cells it ran
    if outputs is not None and item.path.parent.name == "exercises":
        from coursekit import i18n
        from coursekit.assignment import cells

        if cells.is_test_cell(item.cell):
            errors = [out for out in outputs if out.get("output_type") == "error"]
            said = errors[0].get("evalue", "") if errors else "no error"
            # in the exercise set's language: ja/exercises says 未着手
            words = {i18n.translate("not attempted", language) for language in i18n.LANGUAGES}
            assert errors and any(word in said.lower() for word in words), (
                f"{item.path.name}: test cell '{cells.grade_id(item.cell)}' of an untouched exercise set "
                f"should fail as 'not attempted'; it said: {said!r}")
    return result
