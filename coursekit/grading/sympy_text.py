"""SymPy expressions across the wire, without eval: an expression goes as its ``srepr`` text, and is rebuilt by a
parser that calls only SymPy's own constructors of elementary calculus, within the size bounds of ``limits``.

The text is parsed (``ast``), never evaluated. A short text's expression is kept for the next time the same text
comes, until the grading process forgets what it has read between submissions (``forget_what_was_read``).
"""

from __future__ import annotations

import ast
import functools
import importlib
import keyword
import math
import re
import sys

from coursekit.grading.limits import (
    SYMPY_MAX_DEGREE,
    SYMPY_MAX_EXPONENT,
    SYMPY_MAX_EXTREMA_ARGS,
    SYMPY_MAX_EXTREMA_NODES,
    SYMPY_MAX_FLOAT_BITS,
    SYMPY_MAX_INTEGER,
    SYMPY_MAX_NODES,
    SYMPY_MAX_TERMS,
    SYMPY_MAX_TEXT,
    SYMPY_PARSED_KEPT,
    SYMPY_PARSED_TEXT,
)
from coursekit.grading.protocol import WireError

_SYMPY_READ = False  # a SymPy text from the sandbox has been built since forget_what_was_read last ran


def forget_what_was_read() -> None:
    """Forget the expressions built from texts so far and, once any has been, what SymPy itself has kept since (its
    cache of what it computed): see ``wire.forget_what_was_read``."""
    global _SYMPY_READ
    _parse_kept.cache_clear()
    if _SYMPY_READ:
        from sympy.core.cache import clear_cache

        clear_cache()
        _SYMPY_READ = False


def srepr_of(value) -> str | None:
    sympy = sys.modules.get("sympy")  # a SymPy object exists only once SymPy is imported; never import it here
    if sympy is not None and isinstance(value, sympy.Basic):
        return sympy.srepr(value)
    return None


# The constructors of elementary calculus only (no factorial, no big-number functions); sizes: see limits. Nothing
# that makes a class: Function('f', **attributes) builds one whose methods the student's text would choose (a
# __sub__ that answers 0), and its name is written, as code, into what lambdify executes.
SYMPY_NAMES = frozenset({
    "Symbol", "Integer", "Rational", "Float", "Half", "One", "Zero", "NegativeOne", "Pi", "pi", "E", "I",
    "oo", "zoo", "nan", "true", "false", "Exp1",
    "ImaginaryUnit", "Infinity", "NegativeInfinity", "ComplexInfinity", "NaN", "BooleanTrue", "BooleanFalse",
    "Add", "Mul", "Pow", "exp", "log", "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "Abs", "sign", "Max", "Min", "Heaviside",
    "Piecewise", "ExprCondPair", "Derivative", "Tuple", "StrictGreaterThan", "StrictLessThan",
    "GreaterThan", "LessThan", "Equality", "Unequality", "And", "Or", "Not"})
# The keywords an srepr writes: a Symbol's assumptions (each True or False), a Float's precision in bits.
SYMPY_ASSUMPTIONS = frozenset({
    "algebraic", "antihermitian", "commutative", "complex", "composite", "even", "extended_negative",
    "extended_nonnegative", "extended_nonpositive", "extended_nonzero", "extended_positive", "extended_real", "finite",
    "hermitian", "imaginary", "infinite", "integer", "irrational", "negative", "noninteger", "nonnegative",
    "nonpositive", "nonzero", "odd", "polar", "positive", "prime", "rational", "real", "transcendental", "zero"})
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # a Float's text: no other form is read


def parse_sympy(text: str):
    """Rebuild a SymPy expression from its srepr, calling only SymPy's own constructors, within SYMPY_* bounds.

    The text is parsed (ast), never evaluated: every call must name a constructor of SYMPY_NAMES, every argument
    must be a small literal or such a call. A short text's expression is kept for the next time the same text
    comes, in this process (see _parse_kept).
    """
    if len(text) <= SYMPY_PARSED_TEXT:
        return _parse_kept(text)
    return _parse(text)


@functools.lru_cache(maxsize=SYMPY_PARSED_KEPT)
def _parse_kept(text: str):
    """``_parse(text)``, remembered: SymPy's expressions are immutable, and the same text always builds an equal one.

    A lesson's inputs come again and again: lesson 01 spent a fifth of a worker's CPU building the same claims
    (10 ms of 50), and a worker of its sandbox server finds the public ones built already (see forkserver). A
    grading process forgets them between submissions (see forget_what_was_read). A text that fails is not remembered.
    """
    return _parse(text)


def _parse(text: str):
    import sympy

    global _SYMPY_READ
    _SYMPY_READ = True

    if len(text) > SYMPY_MAX_TEXT:
        raise WireError("expression too long")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError) as error:
        raise WireError("not a SymPy srepr") from error
    nodes = 0

    def build(node, degree: int):
        nonlocal nodes
        nodes += 1
        if nodes > SYMPY_MAX_NODES:
            raise WireError("expression too large")
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, float))):
            return node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            if abs(node.value) > SYMPY_MAX_INTEGER:
                raise WireError("a number in the expression is too large")
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -build(node.operand, degree)
        if isinstance(node, ast.Tuple):
            return tuple(build(item, degree) for item in node.elts)
        if isinstance(node, ast.Name):
            return _sympy_name(sympy, node.id)
        if isinstance(node, ast.Call):
            func = _sympy_name(sympy, _call_name(node))  # a name, never a call: nothing accepted builds a function
            args = node.args
            if func is sympy.Pow and len(args) == 2:
                degree *= max(1, _exponent(args[1]))
                if degree > SYMPY_MAX_DEGREE:
                    raise WireError("the expression's powers are too high")
            text = _text_argument(sympy, func, args)  # a Symbol's name, a Float's digits
            below = nodes
            built = [text] if text is not None else [build(arg, degree) for arg in args]
            if func is sympy.Pow and len(built) == 2:
                _check_exponent(built[1])  # its value, whatever wrote it (Mul(Integer(2000), Integer(2000)) too)
            if (func is sympy.Max or func is sympy.Min) and (nodes - below > SYMPY_MAX_EXTREMA_NODES or sum(
                    len(arg.args) if isinstance(arg, func) else 1 for arg in built) > SYMPY_MAX_EXTREMA_ARGS):
                raise WireError(f"a {func.__name__} of too many or too large arguments")
            value = _checked_number(func(*built, **_keywords(sympy, func, node.keywords)))
            if func is sympy.Float and not getattr(value, "is_Float", False):  # Float('inf') is oo, 'nan' nan
                raise WireError("a number in the expression is too large or too precise")
            return value
        raise WireError(f"not a SymPy srepr: {type(node).__name__}")

    try:
        # evaluated as SymPy builds it: within the bounds above, that stays cheap; then the powers it made
        return _checked_expansion(sympy, build(tree, 1))
    except RecursionError as error:
        raise WireError("expression nested too deeply") from error
    except (TypeError, ValueError, AttributeError) as error:
        raise WireError(f"not a SymPy expression: {type(error).__name__}") from error


def _exponent(node) -> int:
    """The size of a numeric exponent written in srepr (Integer(5), Rational(1, 2), Float('3.0', ...)), else 1;
    WireError past SYMPY_MAX_EXPONENT."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        first = node.args[0]
        value = first.value if isinstance(first, ast.Constant) else None
        if isinstance(first, ast.UnaryOp) and isinstance(first.operand, ast.Constant):
            value = first.operand.value
        try:
            size = abs(int(float(value))) if value is not None else 1
        except (TypeError, ValueError, OverflowError):
            size = SYMPY_MAX_EXPONENT + 1
        if size > SYMPY_MAX_EXPONENT:
            raise WireError("an exponent in the expression is too large")
        return size
    return 1


def _check_exponent(exponent) -> None:
    """WireError for a numeric exponent past SYMPY_MAX_EXPONENT: SymPy raises a number to it at once, in one call
    (999999 ** 4000000 takes 44 s) that no time budget can interrupt."""
    if getattr(exponent, "is_Number", False) and exponent.is_finite and abs(exponent) > SYMPY_MAX_EXPONENT:
        raise WireError("an exponent in the expression is too large")


def _checked_expansion(sympy, value):
    """``value``, unless a power of a sum in it, as SymPy built it (which merges (s**2)**32 into s**64), expands to
    more than SYMPY_MAX_TERMS terms: simplify expands it, and (a0 + ... + a29)**64 grew at 60 MB a second until the
    test's budget stopped it. A sum of n terms to the k has at most C(n + k - 1, k); a polynomial of degree d in one
    symbol, d k + 1."""
    if not isinstance(value, sympy.Basic):
        return value
    for power in value.atoms(sympy.Pow):
        base, exponent = power.args
        if not (isinstance(base, sympy.Add) and exponent.is_number and exponent.is_finite):
            continue
        k = int(abs(float(exponent)))
        symbols = base.free_symbols
        if len(symbols) == 1 and base.is_polynomial(*symbols):
            terms = int(sympy.degree(base, *symbols)) * k + 1
        else:
            terms = math.comb(len(base.args) + k - 1, k)
        if terms > SYMPY_MAX_TERMS:
            raise WireError("a power of a sum in the expression would expand to too many terms")
    return value


def _checked_number(value):
    """``value``, unless SymPy built it as a number past what the grader computes with cheaply: an integer or a
    fraction of more than SYMPY_MAX_FLOAT_BITS bits; a Float past a double's range or of more bits than that. Each is
    checked as it is built, before anything uses it: SymPy evaluates the functions of a Float at once, and
    sin(Float('1e100000')) or the sine of a Float of 300,000 bits takes seconds."""
    if getattr(value, "is_Rational", False):
        if max(int(value.p).bit_length(), int(value.q).bit_length()) > SYMPY_MAX_FLOAT_BITS:
            raise WireError("a number in the expression is too large")
    elif getattr(value, "is_Float", False) and (not math.isfinite(float(value)) or value._prec > SYMPY_MAX_FLOAT_BITS):
        raise WireError("a number in the expression is too large or too precise")
    return value


def _text_argument(sympy, func, args: list) -> str | None:
    """The one argument of a Symbol (its name: a Python identifier, which lambdify may write into the code it runs)
    or of a Float (its digits), when ``func`` is one of them; None for any other constructor, whose arguments are
    never text."""
    if func is not sympy.Symbol and func is not sympy.Float:
        return None
    if len(args) != 1 or not isinstance(args[0], ast.Constant) or type(args[0].value) is not str:
        raise WireError(f"a {func.__name__} takes one text argument")
    text = args[0].value
    if len(text) > (100 if func is sympy.Symbol else 400):  # a Float of SYMPY_MAX_FLOAT_BITS has about 310 digits
        raise WireError("a name or number in the expression is too long")
    if func is sympy.Symbol and not (text.isidentifier() and not keyword.iskeyword(text)):
        raise WireError("a symbol's name must be a Python identifier")
    if func is sympy.Float and not _DECIMAL.fullmatch(text):
        raise WireError("a Float's value must be written in decimal digits")
    return text


def _keywords(sympy, func, keywords: list) -> dict:
    """The keyword arguments of a call: a Symbol's assumptions (True or False), a Float's precision (bits); nothing
    else (a keyword of any other constructor could set what SymPy stores on the object it builds)."""
    out = {}
    for item in keywords:
        value = item.value.value if isinstance(item.value, ast.Constant) else None
        if func is sympy.Symbol and item.arg in SYMPY_ASSUMPTIONS and type(value) is bool:
            out[item.arg] = value
        elif func is sympy.Float and item.arg == "precision" and type(value) is int and value > 0:
            if value > SYMPY_MAX_FLOAT_BITS:
                raise WireError("a number in the expression is too large or too precise")
            out[item.arg] = value
        else:
            raise WireError(f"{func.__name__} takes no keyword {item.arg!r} here")
    return out


def _call_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    raise WireError("not a SymPy srepr")


def _sympy_name(sympy, name: str):
    found = getattr(sympy, name, None) if name in SYMPY_NAMES else None
    if found is None and name in _NOT_TOP_LEVEL:  # a Piecewise's pieces could not cross (red team R)
        found = getattr(importlib.import_module(_NOT_TOP_LEVEL[name]), name, None)
    if found is None:
        raise WireError(f"{name!r} is not one of the SymPy constructors the grader accepts")
    return found


_NOT_TOP_LEVEL = {"ExprCondPair": "sympy.functions.elementary.piecewise"}  # accepted constructors sympy does not export
