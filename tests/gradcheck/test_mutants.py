"""Every wrong backward pass of the catalogue is rejected with its diagnosis; right ones pass."""

import pytest

from coursekit.gradcheck import LayerReport
from coursekit.gradcheck.checks import screening
from tests.gradcheck.mutants import CORRECT, MUTANTS


def test_the_catalogue_has_at_least_30_mutants():
    assert len(MUTANTS) >= 30
    assert len({entry.name for entry in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("entry", MUTANTS, ids=lambda entry: entry.name)
def test_mutant_is_rejected_with_its_diagnosis(entry):
    report = entry.run()
    text = str(report)
    assert not report.passed, f"{entry.name} passed the check:\n{text}"
    assert "FAILED" in text or "shape" in text or "changed in place" in text or "None" in text, text
    for phrase in entry.expect:
        assert phrase in text, f"{entry.name}: {phrase!r} missing from the report:\n{text}"


@pytest.mark.parametrize("entry", CORRECT, ids=lambda entry: entry.name)
def test_correct_variant_passes(entry):
    report = entry.run()
    assert report.passed, str(report)


@pytest.mark.parametrize("entry", MUTANTS, ids=lambda entry: entry.name)
def test_screening_as_the_autograder_does_gives_every_mutant_the_same_report(entry):
    with screening():
        screened = entry.run()
    full = entry.run()
    assert not screened.passed
    if not isinstance(full, LayerReport):  # screening concerns layer checks only
        assert str(screened) == str(full)
        return
    assert screened.notes == full.notes and screened.reports.keys() == full.reports.keys()
    for key, report in full.reports.items():  # every wrong part gets the full check's report and diagnosis
        assert screened.reports[key].passed == report.passed, key
        if not report.passed:
            assert str(screened.reports[key]) == str(report), key


@pytest.mark.parametrize("entry", CORRECT, ids=lambda entry: entry.name)
def test_screening_passes_every_correct_variant(entry):
    with screening():
        report = entry.run()
    assert report.passed, str(report)
