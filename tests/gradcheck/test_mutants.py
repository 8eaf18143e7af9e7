"""Every wrong backward pass of the catalogue is rejected with its diagnosis; right ones pass."""

import pytest

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
