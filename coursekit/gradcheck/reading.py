"""A one-line reading of a failed gradient check: how many elements are wrong, what they have in common (the sign
of the input, of dout), and the cause that pattern suggests (a mask built from the wrong array, or turned round).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from coursekit.gradcheck import messages

TRUE_ZERO = 1e-7  # a numerical slope this small, relative to the largest, is a true zero (rounding noise only)


@dataclass(frozen=True)
class Region:
    """A set of checked elements described in words ("x < 0"); ``symbol`` names the one array it is the sign of."""

    words: str
    mask: np.ndarray
    symbol: str | None = None


def regions(context: Mapping[str, np.ndarray]) -> list[Region]:
    """The sign regions of each named array, then the elements where two of them agree or disagree in sign."""
    found = []
    for label, values in context.items():
        found += [Region(f"{label} < 0", values < 0, label), Region(f"{label} > 0", values > 0, label)]
    labels = list(context)
    for i, first in enumerate(labels):
        for second in labels[i + 1:]:
            product = np.sign(context[first]) * np.sign(context[second])
            found += [Region(messages.OPPOSITE_SIGNS.format(a=first, b=second), product < 0),
                      Region(messages.SAME_SIGN.format(a=first, b=second), product > 0)]
    return found


def read(name: str, analytic: np.ndarray, numerical: np.ndarray, wrong: np.ndarray, kinked: np.ndarray, *,
         size: int, context: Mapping[str, np.ndarray] | None = None) -> tuple[str, bool]:
    """The verdict line of a failed check over the flat ``analytic`` and ``numerical`` values of the checked elements.

    ``context`` holds named arrays with a value per checked element (the input ``x``, ``dout``) that the wrong
    elements are related to; ``size`` is the number of elements of the whole array (more than were checked when
    only some were sampled). Also says whether the context explained anything (its values are then worth
    showing beside the wrong elements).
    """
    context = {label: np.asarray(values, dtype=np.float64) for label, values in (context or {}).items()}
    bad, checked = int(wrong.sum()), wrong.size
    if bad == checked == size:
        text = messages.FAILED_ALL.format(name=name, bad=bad)
    else:
        of = f"{checked}" if checked == size else messages.CHECKED_OF.format(checked=checked, size=size)
        text = (messages.FAILED_READING_ONE if bad == 1 else messages.FAILED_READING).format(name=name, bad=bad,
                                                                                            checked=of)
    # Elements on a kink, or where an array of the context is exactly 0, have no sign to speak of.
    valid = ~kinked
    for values in context.values():
        valid &= values != 0
    found = regions(context)
    where = _where(wrong, valid, found)
    cause = _zero_cause(analytic, numerical, wrong, valid, found) or _constant_cause(analytic, wrong, context)
    return messages.READING.format(verdict=text, where=where or "") + (f" {cause}" if cause else ""), \
        bool(where or cause)


def _where(wrong: np.ndarray, valid: np.ndarray, found: list[Region]) -> str | None:
    """", exactly those where x < 0" or ", all where x < 0" when one region explains the wrong elements."""
    if wrong.sum() < 2 or (wrong & ~valid).any():
        return None
    for region in found:
        if np.array_equal(region.mask & valid, wrong):
            return messages.EXACTLY_WHERE.format(region=region.words)
    within = [region for region in found
              if not (wrong & ~region.mask).any() and (region.mask & valid).sum() < valid.sum()]
    if not within:
        return None
    smallest = min(within, key=lambda region: int((region.mask & valid).sum()))
    return messages.ALL_WHERE.format(region=smallest.words)


def _matching(zeros: np.ndarray, valid: np.ndarray, found: list[Region]) -> Region | None:
    """The sign region that is exactly where ``zeros`` holds (among valid elements), if one is."""
    zeros = zeros & valid
    if not zeros.any() or zeros.sum() == valid.sum():
        return None
    for region in found:
        if region.symbol is not None and np.array_equal(region.mask & valid, zeros):
            return region
    return None


def _zero_cause(analytic, numerical, wrong, valid, found) -> str | None:
    """Compare where your gradient is 0 with where the true one is: the pattern of a mask gone wrong."""
    if not (wrong & valid).any():
        return None
    scale = max(float(np.max(np.abs(numerical), initial=0.0)), float(np.max(np.abs(analytic), initial=0.0)), 1e-300)
    mine, truth = np.abs(analytic) <= 1e-12 * scale, np.abs(numerical) <= TRUE_ZERO * scale
    if np.array_equal(mine & valid, truth & valid):
        return None
    mine_region, true_region = _matching(mine, valid, found), _matching(truth, valid, found)
    if mine_region and true_region:
        if mine_region.symbol == true_region.symbol:
            return messages.MASK_TURNED.format(mine=mine_region.words, truth=true_region.words)
        return messages.MASK_FROM.format(mine=mine_region.words, truth=true_region.words,
                                         used=mine_region.symbol, meant=true_region.symbol)
    if true_region and not (mine & valid).any() and not (wrong & valid & ~truth).any():
        return messages.MASK_MISSING.format(truth=true_region.words)
    if mine_region and not (truth & valid).any() and not (wrong & valid & ~mine).any():
        return messages.ZERO_WHERE.format(mine=mine_region.words)
    return None


def _constant_cause(analytic, wrong, context) -> str | None:
    """Your gradient takes one value at every wrong element while dout varies there: dout not multiplied in."""
    if "dout" not in context or wrong.sum() < 2:
        return None
    values, dout = analytic[wrong], context["dout"][wrong]
    if np.ptp(values) == 0 and np.ptp(dout) > 0:
        return messages.DOUT_IGNORED.format(value=f"{float(values[0]) + 0.0:.6g}")
    return None


def kink_region(kinked: np.ndarray, context: Mapping[str, np.ndarray] | None) -> str | None:
    """"x = 0" when every element that crossed a kink sits where an array of the context is exactly 0."""
    if not kinked.any():
        return None
    for label, values in (context or {}).items():
        if np.all(np.asarray(values)[kinked] == 0):
            return f"{label} = 0"
    return None
