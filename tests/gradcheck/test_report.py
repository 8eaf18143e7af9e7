"""Gradient reports: a one-line reading on top, a real HTML table, aligned plain text, kinks in one line."""

from html.parser import HTMLParser

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursekit import nn
from coursekit.gradcheck import check_gradient, check_layer


class _Cells(HTMLParser):
    """The tables of an HTML fragment, as lists of rows of cell texts, with the tag of each cell."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


def tables_of(fragment: str) -> list:
    parser = _Cells()
    parser.feed(fragment)
    return parser.tables


def relu_layer(backward):
    return type("Mine", (nn.ReLU,), {"backward": backward})()


def relu_input(seed=1, shape=(4, 5)):
    x = np.random.default_rng(seed).standard_normal(shape)
    x[np.abs(x) < 0.05] = 0.3
    return x


def relu_sum(v):
    return float(np.sum(np.maximum(v, 0.0)))


def test_a_relu_mask_taken_from_dout_is_read_in_plain_words():
    report = check_layer(relu_layer(lambda self, dout: dout * (dout > 0)), relu_input())
    top = str(report.reports["x"]).splitlines()[0]
    assert top.startswith("dx: gradient check FAILED: ")
    assert "exactly those where x and dout have opposite signs" in top
    assert "the mask is built from dout instead of x" in top


def test_the_reading_relates_the_wrong_elements_to_the_sign_of_the_input():
    x = np.array([-1.5, 2.0, -3.0, 0.5, -0.2])
    report = check_gradient(relu_sum, lambda v: np.ones_like(v), x)
    assert report.summary.startswith("x: gradient check FAILED: 3 of 5 elements are wrong, exactly those where x < 0")
    assert "a mask is missing" in report.summary
    turned = check_layer(relu_layer(lambda self, dout: dout * ~self.positive), relu_input())
    assert "the mask is the wrong way round" in turned.reports["x"].summary


def test_a_gradient_that_ignores_dout_is_named():
    report = check_layer(relu_layer(lambda self, dout: self.positive * 1.0), relu_input())
    assert "exactly those where x > 0" in report.reports["x"].summary
    assert "dout is not multiplied in" in report.reports["x"].summary


def test_a_reading_says_nothing_it_cannot_see():
    """A factor wrong everywhere has no sign pattern: the reading counts and the diagnosis names the factor."""
    report = check_gradient(lambda v: float(np.sum(v**2)), lambda v: 4 * v, np.array([1.0, -2.0, 3.0]))
    assert report.summary == "x: gradient check FAILED: all 3 elements are wrong."
    assert "extra factor of 2" in str(report)
    assert "x" not in str(report).splitlines()[1].split()[1:]  # no column of x values that explain nothing


def test_the_html_report_is_a_real_table_under_its_reading():
    report = check_layer(relu_layer(lambda self, dout: dout * (dout > 0)), relu_input()).reports["x"]
    fragment = report._repr_html_()
    assert fragment.index(report.summary.split(":")[0]) < fragment.index("<table")
    (table,) = tables_of(fragment)
    header, *rows = table
    assert [text for _, text in header] == ["element", "analytic", "numerical", "ratio", "rel. error", "x", "dout"]
    assert {tag for tag, _ in header} == {"th"}
    assert len(rows) == len(report.wrong_rows) == 5 and all(len(row) == len(header) for row in rows)
    assert rows[0][0][1] == report.wrong_rows[0].label
    assert "<br>" not in fragment


def test_a_passing_report_has_no_table():
    report = check_gradient(lambda v: float(np.sum(v**2)), lambda v: 2 * v, np.array([1.0, 2.0]))
    assert report.passed and tables_of(report._repr_html_()) == []


def test_kinks_crossed_are_summed_up_in_one_line():
    x = np.array([0.0, 1.0, 0.0, -2.0, 0.0, 0.0, 3.0])
    report = check_gradient(relu_sum, lambda v: (v > 0).astype(float), x)
    text = str(report)
    assert report.passed and report.kinks == 4
    assert text.count("kink crossed") == 1 and len(text.splitlines()) == 2
    assert "4 elements with a kink crossed (x[0], x[2], x[4], ...), all where x = 0" in text


def test_one_kink_keeps_its_slopes():
    report = check_gradient(relu_sum, lambda v: (v > 0).astype(float), np.array([-1.5, 0.0, 2.0]))
    assert "x[1]: kink crossed (left slope 0, right slope 1); your 0 lies between them" in str(report)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(2, 9), elements=st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-3)),
       st.floats(1.5, 1e4))
def test_plain_text_columns_line_up_whatever_the_values(x, factor):
    report = check_gradient(lambda v: float(np.sum(v**2)), lambda v: 2 * factor * v, x)
    lines = str(report).splitlines()
    table = [line for line in lines[1:] if not line.strip().startswith("(") and not line.startswith("Diagnosis")]
    assert len(table) == 1 + len(report.wrong_rows) and len(table) >= 2
    assert len({len(line) for line in table}) == 1  # numbers are right-aligned to the same edge
    header = table[0]
    for title in ["analytic", "numerical", "ratio", "rel. error"]:  # each column ends where its title ends
        edge = header.index(title) + len(title)
        assert all(line[edge - 1] != " " and line[edge:edge + 1] in ("", " ") for line in table), title
