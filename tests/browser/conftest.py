"""The browser tests keep a screenshot of the page when one fails: the outcome of each test's call is kept on it."""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the report of the test's call on the test item (``item.report_call``), for its fixtures' teardown."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.report_call = report
