"""Fixtures shared by the unit tests."""

import matplotlib

matplotlib.use("Agg")  # tests check figures through their data, never on a screen
