"""Grading is by name: an honest submission keeps its score however its cells are moved, copied or stripped."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graded_submissions import MASTERS, grade, solution

pytestmark = pytest.mark.slow  # grades through a sandbox server

LESSON = "03_activations"


def mangle(nb, order, duplicates, strip, drop_markdown, drop_tests):
    nb = copy.deepcopy(nb)
    cells = [nb.cells[i] for i in order]
    cells += [copy.deepcopy(cells[i % len(cells)]) for i in duplicates]
    if drop_markdown:
        cells = [c for c in cells if c.cell_type != "markdown"]
    if drop_tests:
        cells = [c for c in cells if not c.metadata.get("nbgrader", {}).get("grade")]
    if strip:
        for cell in cells:
            cell.metadata = {}
            cell.pop("id", None)
        nb.metadata = {}
    nb.cells = cells
    nb.nbformat_minor = 4 if strip else nb.nbformat_minor
    return nb


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_an_honest_submission_keeps_its_score_when_mangled(server, data):
    nb = solution(LESSON)
    order = data.draw(st.permutations(range(len(nb.cells))))
    duplicates = data.draw(st.lists(st.integers(0, 100), max_size=3))
    mangled = mangle(nb, order, duplicates, data.draw(st.booleans()), data.draw(st.booleans()),
                     data.draw(st.booleans()))
    graded = grade(server, mangled, LESSON)
    assert graded.points == MASTERS[LESSON].max_points, [(t.grade_id, t.status, t.message[:100]) for t in graded.tests]


def test_split_and_retyped_cells_still_grade(server):
    nb = copy.deepcopy(solution(LESSON))
    extra = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "def stable_sigmoid" in cell.source:
            head, _, tail = cell.source.partition("def stable_sigmoid")
            cell.source = head or "pass"
            extra.append(copy.deepcopy(cell))
            extra[-1].source = "def stable_sigmoid" + tail
        if cell.cell_type == "markdown":
            cell.cell_type = "raw"
    nb.cells += extra
    assert grade(server, nb, LESSON).points == MASTERS[LESSON].max_points
