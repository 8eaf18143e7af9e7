"""The marker transforms: solution regions become stubs, hidden tests disappear."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursekit.assignment.markers import MarkerError, find_regions, replace_regions

body_line = st.text(alphabet="abcxyz =+()0123456789", min_size=1, max_size=20).filter(lambda s: s.strip())
indent = st.sampled_from(["", "    ", "        ", "\t"])


@given(indent=indent, before=st.lists(body_line, max_size=3), body=st.lists(body_line, min_size=1, max_size=5),
       after=st.lists(body_line, max_size=3))
def test_solution_region_becomes_stub_at_the_markers_indent(indent, before, body, after):
    source = "\n".join([*before, f"{indent}### BEGIN SOLUTION", *(indent + b for b in body),
                        f"{indent}### END SOLUTION", *after])
    student = replace_regions(source).split("\n")
    stub = [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
    assert student[len(before): len(before) + 2] == stub
    assert student[: len(before)] == before
    assert "\n".join(student[len(before) + 2:]) == "\n".join(after).rstrip()


@given(st.lists(body_line, max_size=8))
def test_text_without_markers_is_unchanged(lines):
    source = "\n".join(lines)
    assert replace_regions(source) == source.rstrip()


def test_hidden_tests_are_removed_with_the_gap_before_them():
    source = "check(f)\n\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n"
    assert replace_regions(source) == "check(f)"


def test_markdown_solution_becomes_answer_prompt():
    source = "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert replace_regions(source, markdown=True) == "Why?\nYOUR ANSWER HERE"


def test_two_regions_in_one_cell_are_both_replaced():
    source = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION"
    assert replace_regions(source).count("raise NotImplementedError()") == 2
    assert [r.kind for r in find_regions(source)] == ["SOLUTION", "SOLUTION"]


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2", 2, "never closed"),
        ("### END SOLUTION", 1, "no matching"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS", 2, "inside"),
        ("### BEGIN SOLUTION\nx\n### END HIDDEN TESTS", 3, "expected '### END SOLUTION'"),
    ],
)
def test_unbalanced_markers_name_the_line_and_the_problem(source, line, words):
    with pytest.raises(MarkerError) as err:
        find_regions(source)
    assert err.value.line == line
    assert words in str(err.value)
