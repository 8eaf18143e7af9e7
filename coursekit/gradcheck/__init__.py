"""Gradient checks that find the bug: numerical derivatives, checks, reports with a diagnosis."""

from coursekit.gradcheck.checks import (
    check_gradient,
    check_gradient_directional,
    check_gradient_sampled,
    check_layer,
    check_symbolic,
    same_gradient,
    set_parameter,
    value_and_gradient,
)
from coursekit.gradcheck.numerical import (
    Float32Warning,
    jvp,
    numerical_derivative,
    numerical_gradient,
    step,
)
from coursekit.gradcheck.report import GradientReport, LayerReport

__all__ = [
    "Float32Warning", "GradientReport", "LayerReport", "check_gradient", "check_gradient_directional",
    "check_gradient_sampled", "check_layer", "check_symbolic", "jvp", "numerical_derivative", "set_parameter",
    "numerical_gradient", "same_gradient", "step", "value_and_gradient",
]
