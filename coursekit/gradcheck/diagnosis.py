"""Guess the likely cause of a wrong gradient from how it differs from the numerical one."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from coursekit.gradcheck import messages


def diagnose(analytic: np.ndarray, numerical: np.ndarray, rtol: float = 1e-4, shape: tuple = ()) -> str | None:
    """A one-line diagnosis comparing two same-shape arrays, or None when no pattern fits.

    Checked in order: all zero (a missing term), the transpose (a missing transpose), a
    constant ratio of -1 (a sign) or of another constant (a missing or extra factor; when the
    factor is the length of an axis of ``shape``, a sum taken for a mean or the reverse).
    """
    scale = max(float(np.max(np.abs(numerical), initial=0.0)), 1e-12)
    if np.max(np.abs(analytic), initial=0.0) <= 1e-12 * scale:
        return str(messages.DIAG_ZERO)
    if analytic.ndim == 2 and analytic.shape[0] == analytic.shape[1] and analytic.shape[0] > 1 \
            and np.allclose(analytic, numerical.T, rtol=rtol, atol=rtol * scale):
        return str(messages.DIAG_TRANSPOSE)
    mask = np.abs(numerical) > 1e-3 * scale
    if not mask.any():
        return None
    ratios = analytic[mask] / numerical[mask]
    if np.all(np.abs(ratios) < 1e-3):
        return str(messages.DIAG_ZERO_WHERE)
    factor = float(np.median(ratios))
    # "everywhere" must hold where the true gradient is ~0 too, not only where the ratio is defined
    if abs(factor - 1) < 1e-3 or not np.allclose(analytic, factor * numerical, rtol=1e-3,
                                                 atol=1e-3 * scale * max(1.0, abs(factor))):
        return None
    if abs(factor + 1) < 1e-3:
        return str(messages.DIAG_SIGN)
    message, amount = _factor_words(factor)
    text = message.format(factor=f"{factor:.4g}", amount=amount)
    axes = [axis for axis, length in enumerate(shape) if length > 1 and str(length) == amount]
    if axes:
        text += messages.DIAG_AXIS.format(amount=amount, axis=axes[0])
    return text


def _factor_words(factor: float):
    """(the message, the amount): 'an extra' factor of 2 for 2, 'a missing' factor of 2 for 1/2; negative factors
    add a sign flip."""
    size = abs(factor)
    amount = size if size > 1 else 1 / size
    nearest = Fraction(amount).limit_denominator(16)
    text = str(nearest) if abs(float(nearest) - amount) < 1e-3 * amount else f"{amount:.4g}"
    message = {(False, True): messages.DIAG_FACTOR_EXTRA, (False, False): messages.DIAG_FACTOR_MISSING,
               (True, True): messages.DIAG_FACTOR_SIGN_EXTRA, (True, False): messages.DIAG_FACTOR_SIGN_MISSING}
    return message[(factor < 0, size > 1)], text
