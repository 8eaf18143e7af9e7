"""Without chromium or Playwright the browser tests skip, and the reason says how to enable them."""

from pathlib import Path

import jupyterlab_driver


def test_a_missing_chromium_is_named_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(jupyterlab_driver, "CHROMIUM", Path("/nonexistent/chromium"))
    reason = jupyterlab_driver.missing()
    assert reason.startswith("/nonexistent/chromium is missing")
    assert "apt-get install -y chromium" in reason and "`test` extra" in reason and ".ci/run" in reason
