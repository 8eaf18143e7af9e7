"""The wire format: plain data round-trips exactly; nothing else crosses except as a reference; no eval, no pickle."""

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit.feedback.widened import made_dtype
from coursekit.grading import sympy_text, wire


def roundtrip(value):
    return wire.decode(wire.encode(value, lambda obj: {"__handle__": 7}), lambda ref: ("ref", ref["__handle__"]))


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=5), inner,
                                                                                              max_size=4),
    max_leaves=20)


@given(plain)
def test_plain_python_data_round_trips_exactly(value):
    assert roundtrip(value) == value


@given(hnp.arrays(hnp.scalar_dtypes().filter(lambda d: d.kind in "biufc"), hnp.array_shapes(min_dims=0, max_dims=3)))
def test_numeric_arrays_round_trip_with_dtype_and_shape(array):
    back = roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_numpy_scalars_stay_scalars():
    assert isinstance(roundtrip(np.float64(1.5)), np.float64) and roundtrip(np.array(2.0)).shape == ()


@given(hnp.arrays(hnp.scalar_dtypes().filter(lambda d: d.kind in "biufc"), ()), st.booleans())
def test_a_number_the_grader_reads_is_widened_to_full_width_with_its_value(array, as_scalar):
    """What the grader decodes of the student's values (``widen``): a NumPy scalar or 0-d array of any width is a
    Python bool or int, an np.float64 or an np.complex128, of the same value (NaN stays NaN)."""
    value = array[()] if as_scalar else array
    back = wire.decode(wire.encode(value, lambda obj: {}), lambda ref: ref, widen=True)
    kind = array.dtype.kind
    assert type(back) is {"b": bool, "i": int, "u": int, "f": np.float64, "c": np.complex128}[kind]
    if kind in "fc":
        np.testing.assert_array_equal(np.asarray(back, dtype=array.dtype), array)
        assert np.asarray(back).astype(np.longdouble if kind == "f" else np.clongdouble) == \
            array.astype(np.longdouble if kind == "f" else np.clongdouble) or np.isnan(back) or \
            array.dtype.itemsize > np.dtype(np.float64 if kind == "f" else np.complex128).itemsize
    else:
        assert back == array.item()


@pytest.mark.parametrize("narrow, value, expected", [(np.float16, 0.6002, 0.6), (np.float32, 0.6000000001, 0.6),
                                                     (np.int8, -128, 0)])
@pytest.mark.parametrize("shape", [(), (1,), (2, 3)])
def test_a_narrow_number_keeps_a_tests_tolerance_once_widened(narrow, value, expected, shape):
    sent = np.full(shape, value, dtype=narrow)[()]  # a NumPy scalar, or an array of numbers of that type
    with np.errstate(over="ignore"):  # int8: abs(-128) overflows, and stays -128
        assert np.all(abs(sent - expected) <= 1e-12)  # in NumPy's own arithmetic, at the student's width: "right"
    got = wire.decode(wire.encode(sent, lambda obj: {}), lambda ref: ref, widen=True)
    assert not np.any(abs(got - expected) <= 1e-12)
    if shape:  # the checks that name a narrow result still see what the student's code made
        assert made_dtype(got) == np.dtype(narrow) or narrow is np.int8


def test_other_objects_cross_only_as_references():
    class Sneaky:
        def __eq__(self, other):
            return True

    assert roundtrip([1, Sneaky()]) == [1, ("ref", 7)]
    assert roundtrip(np.array([object()], dtype=object)) == ("ref", 7)


@pytest.mark.parametrize("dtype", ["O", "V8", "[('a', 'O')]"])
def test_arrays_of_objects_or_raw_bytes_are_refused(dtype):
    message = {"__ndarray__": {"dtype": dtype, "shape": [1], "data": ""}}
    with pytest.raises((wire.WireError, TypeError)):
        wire.decode(message, lambda ref: None)


@pytest.mark.parametrize("described", [
    [1, 2], "AAAA", None, {"dtype": "not a dtype", "shape": [1], "data": "AAAAAAAAAAA="},
    {"dtype": ["<f8"], "shape": [1], "data": "AAAAAAAAAAA="}, {"dtype": "<f8", "shape": 1, "data": "AAAAAAAAAAA="},
    {"dtype": "<f8", "shape": {"0": 1}, "data": "AAAAAAAAAAA="}, {"dtype": "<f8", "shape": [-1], "data": ""},
    {"dtype": "<f8", "shape": [1]}, {"dtype": "<f8", "shape": [1], "data": "not base64!"},
    # sizes that are not sizes, even with data of the right length (NumPy would infer a -1, or take 1.0 or True)
    {"dtype": "<f8", "shape": [-1], "data": "AAAAAAAAAAA="}, {"dtype": "<f8", "shape": [1.0], "data": "AAAAAAAAAAA="},
    {"dtype": "<f8", "shape": [True], "data": "AAAAAAAAAAA="}, {"dtype": "<f8", "shape": ["1"], "data": "AAAAAAAAAAA="},
    {"dtype": "<f8", "shape": [[1]], "data": "AAAAAAAAAAA="}, {"dtype": "<f8", "shape": [2**70], "data": ""},
    {"dtype": "<f8", "shape": [1], "data": "AAAAAAAAAAAAAAAAAAAAAA=="},  # twice the bytes the shape holds
    {"dtype": "<f8", "shape": [1], "data": 5}, {"dtype": "<f8", "shape": [1], "data": "\u00e9AAAAAAAAAA="}])
def test_a_malformed_array_is_a_wire_error_whatever_is_wrong_with_it(described):
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": described}, lambda ref: None)


@pytest.mark.parametrize("tag", ["__tuple__", "__dict__"])
@pytest.mark.parametrize("content", ["abc", {"a": 1}, 3, None])
def test_a_tuple_or_dict_that_is_not_a_list_on_the_wire_is_a_wire_error(tag, content):
    with pytest.raises(wire.WireError):
        wire.decode({tag: content}, lambda ref: None)


def test_a_str_of_a_subclass_crosses_as_its_text():
    class Words(str):
        pass

    assert wire.encode(Words("hello"), lambda obj: {"__handle__": 7}) == "hello"


def test_an_array_that_crosses_is_one_of_its_own_writable_and_resizable():
    for array in (np.arange(6.0).reshape(2, 3), np.zeros((0, 4)), np.array(3.5), np.arange(4, dtype=">i4")):
        back = roundtrip(array)
        assert back.flags.owndata and back.flags.writeable and back.dtype == array.dtype
        back.resize(back.size + 1, refcheck=False)  # only an array that owns its data can be resized in place


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3)), st.sampled_from(["C", "F", "transposed"]))
def test_an_array_crosses_in_its_own_layout_a_transpose_as_one(array, layout):
    # red team Z: a transposed x arrived C-ordered, so a checker that moved x through `x.reshape(-1)` (a copy for a
    # transpose, in the learner's kernel) passed in the grader
    array = {"C": np.ascontiguousarray, "F": np.asfortranarray, "transposed": lambda a: a.T}[layout](array)
    back = roundtrip(array)
    np.testing.assert_array_equal(back, array)
    assert back.flags.owndata and back.flags.c_contiguous == array.flags.c_contiguous
    assert back.flags.f_contiguous == array.flags.f_contiguous


@pytest.mark.parametrize("order", ["K", "A", "f", "", 1, None])
def test_an_array_of_any_order_but_c_or_f_is_a_wire_error(order):
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": {"dtype": "<f8", "shape": [1, 1], "data": "AAAAAAAAAAA=", "order": order}},
                    lambda ref: None)


def test_array_data_must_match_its_shape():
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": {"dtype": "<f8", "shape": [3], "data": "AAAA"}}, lambda ref: None)


def test_sympy_expressions_are_rebuilt_by_parsing_not_evaluating():
    x, theta = sp.Symbol("x", real=True), sp.Symbol("θ", positive=True)
    for expr in (x * sp.sin(x**2) + sp.Rational(1, 3), sp.exp(-x) * sp.Float(2.5), sp.pi * x, sp.Float("0.1", 40) * x,
                 sp.sqrt(theta) - sp.Float("-2.5e-7"), sp.Derivative(sp.tanh(x), x), sp.Max(x, 0) + sp.Heaviside(x)):
        assert roundtrip(expr) == expr


EXPRESSIONS = st.recursive(
    st.sampled_from([sp.Symbol("x"), sp.Symbol("t", positive=True), sp.Integer(3), sp.Rational(-2, 7), sp.pi,
                     sp.Float("0.25")]),
    lambda inner: st.one_of(st.tuples(inner, inner).map(lambda pair: pair[0] + pair[1]),
                            st.tuples(inner, inner).map(lambda pair: pair[0] * pair[1]),
                            inner.map(sp.sin), inner.map(sp.exp), inner.map(lambda e: e**2)),
    max_leaves=8)


@settings(max_examples=100, deadline=None)
@given(expression=EXPRESSIONS)
def test_a_text_parsed_again_gives_what_a_fresh_parse_gives(expression):
    # a short text's expression is kept (lesson 01's claims come again and again); kept or not, the text gives the
    # same expression, or the same refusal (a number past the bounds: products of powers grow fast)
    text = sp.srepr(expression)
    try:
        fresh = sympy_text._parse(text)
    except wire.WireError:
        for _ in range(2):
            with pytest.raises(wire.WireError):
                wire.parse_sympy(text)
        return
    assert wire.parse_sympy(text) == fresh == expression
    assert wire.parse_sympy(text) is wire.parse_sympy(text) or len(text) > sympy_text.SYMPY_PARSED_TEXT


def test_a_text_refused_once_is_refused_again_and_a_long_one_is_not_kept():
    refused = "Function('f')(Symbol('x'))"
    for _ in range(2):  # a failure is not remembered: it is refused again, by the same checks
        with pytest.raises(wire.WireError):
            wire.parse_sympy(refused)
    long = "Add(" + ", ".join(f"Symbol('a{k}')" for k in range(40)) + ")"
    assert len(long) > sympy_text.SYMPY_PARSED_TEXT
    before = sympy_text._parse_kept.cache_info().currsize
    assert wire.parse_sympy(long) == sum(sp.Symbol(f"a{k}") for k in range(40))
    assert sympy_text._parse_kept.cache_info().currsize == before


# What would let the text choose code or behaviour in the grader: an undefined function (its name is written into
# the code lambdify runs; its keywords become methods of a class, such as a __sub__ that answers 0), a call of what
# a call built, a symbol whose name is not an identifier, a keyword other than an assumption or a precision, text
# where an expression belongs.
@pytest.mark.parametrize("text", [
    "Function('f')(Symbol('x'))",
    "Function('__import__(\"os\").system(\"true\") or sin')(Symbol('x'))",
    "Function('f', __sub__=Integer(0), _op_priority=100.0)(Symbol('x'))",
    "sin(Symbol('x'))(Symbol('x'))",
    "Symbol('__import__(\"os\").system(\"true\")')",
    "Symbol('lambda')",
    "Symbol('x', __sub__=Integer(0))",
    "Symbol('x', positive=Integer(1))",
    "Symbol('x', 'y')",
    "Dummy('x', dummy_index=1)",
    "Float('0x10')",
    "Float('1.5', prec=53)",
    "Add(Symbol('x'), 'y')",
    "Integer('5')",
])
def test_text_that_would_choose_code_or_methods_in_the_grader_is_refused(text):
    with pytest.raises(wire.WireError):
        wire.parse_sympy(text)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "Symbol.__class__", "eval('1')",
                                  "Add(1, exec)", "(lambda: 1)()", "Symbol('x').__init__"])
def test_anything_but_sympy_constructors_is_refused(text):
    with pytest.raises(wire.WireError):
        wire.parse_sympy(text)


SUM_OF_30 = "Add(" + ", ".join(f"Symbol('a{k}')" for k in range(30)) + ")"


@pytest.mark.parametrize(("text", "why"), [
    ("factorial(Integer(4000000), evaluate=False)", "not one of the SymPy constructors"),
    ("Integer(" + "9" * 40 + ")", "too large"),
    ("Pow(Integer(10), Integer(1000000))", "exponent"),
    ("Pow(Pow(Add(Symbol('x'), Integer(1)), Integer(64)), Integer(64))", "powers are too high"),
    ("Add(" + "Symbol('x'), " * 3000 + ")", "too large"),
    ("Symbol('" + "x" * 500 + "')", "too long"),
    # an exponent, or a number, that SymPy computes in one call no time budget can stop (999999 ** 4000000: 44 s)
    ("Pow(Integer(999999), Mul(Integer(2000), Integer(2000)))", "exponent"),
    ("Pow(Integer(2), Add(Integer(1000000), Integer(1000000)))", "exponent"),
    ("Mul(" + "Integer(1000000), " * 300 + ")", "too large"),
    ("sin(Float('3.0', precision=332196))", "too large or too precise"),
    ("sin(Pow(Float('1e300', precision=53), Integer(64)))", "too large or too precise"),
    # a sum of 30 terms to the 64th: within the node and degree bounds, and simplify grew it by 60 MB a second; and
    # the same power as SymPy builds it from a power of a power, or from a rational or a float exponent
    ("Pow(" + SUM_OF_30 + ", Integer(64))", "too many terms"),
    ("Pow(Pow(" + SUM_OF_30 + ", Integer(2)), Integer(32))", "too many terms"),
    ("Pow(Mul(Symbol('x'), " + SUM_OF_30 + "), Integer(64))", "too many terms"),
    ("Pow(" + SUM_OF_30 + ", Rational(63, 2))", "too many terms"),
    ("Pow(" + SUM_OF_30 + ", Float('64.0', precision=53))", "too many terms"),
    # SymPy compares a Max's or a Min's arguments pairwise as it builds it (red team X: 200 symbols, 35 s), and
    # flattens nested ones of its kind first
    ("Max(" + ", ".join(f"Symbol('x{k}', real=True)" for k in range(200)) + ")", "Max of too many"),
    ("Min(" + ", ".join(f"Symbol('x{k}')" for k in range(9)) + ")", "Min of too many"),
    ("Max(" + ", ".join("Max(" + ", ".join(f"Symbol('x{j}{k}')" for k in range(5)) + ")" for j in range(2)) + ")",
     "Max of too many"),
    ("Max(" + ", ".join("Add(" + ", ".join(f"Symbol('x{j}_{k}')" for k in range(240)) + ")" for j in range(8)) + ")",
     "Max of too many or too large"),
])
def test_a_sympy_expression_that_could_run_away_in_the_grader_is_refused(text, why):
    with pytest.raises(wire.WireError, match=why):
        wire.parse_sympy(text)


def test_a_message_that_is_not_json_or_nests_too_deeply_is_a_wire_error():
    import socket
    import struct

    for body in (b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"[1, 2]"):
        ours, theirs = socket.socketpair()
        with ours, theirs:
            theirs.sendall(struct.pack("!I", len(body)) + body)
            with pytest.raises(wire.WireError):
                wire.receive(ours, deadline=None)


def test_a_message_trickled_past_its_deadline_times_out_whatever_the_progress():
    import socket
    import struct
    import threading
    import time

    ours, theirs = socket.socketpair()

    def trickle():
        theirs.sendall(struct.pack("!I", 100))
        for _ in range(30):
            time.sleep(0.05)
            try:
                theirs.sendall(b" ")
            except OSError:
                return

    sender = threading.Thread(target=trickle)
    sender.start()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        wire.receive(ours, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - start < 0.6  # each byte came within the old per-receive timeout: it never fired
    ours.close()
    sender.join()
    theirs.close()


def test_a_text_longer_than_the_limit_is_refused_wherever_it_is_in_a_value():
    from coursekit.grading.limits import MAX_TEXT

    assert wire.decode(["a" * MAX_TEXT], lambda ref: None) == ["a" * MAX_TEXT]
    for value in ("a" * (MAX_TEXT + 1), ["a" * (MAX_TEXT + 1)], {"__dict__": [["a" * (MAX_TEXT + 1), 1]]}):
        with pytest.raises(wire.WireError, match="characters"):
            wire.decode(value, lambda ref: None)


def test_a_large_message_of_too_many_values_is_refused_before_it_is_parsed():
    import socket
    import struct
    import threading

    from coursekit.grading.limits import MAX_MESSAGE_VALUES

    # 20 million empty lists in 60 MB took a grading process to 1.8 GB once parsed; a message of as many bytes
    # that holds a few values (an array's data) is read as ever
    many = json.dumps({"value": [[]] * (MAX_MESSAGE_VALUES + 1)}).encode()
    numbers = json.dumps({"value": [1] * (MAX_MESSAGE_VALUES + 1)}).encode()  # 8 bytes each once parsed, and more
    few = json.dumps({"value": "A" * len(many)}).encode()
    for body, refused in ((many, True), (numbers, True), (few, False)):
        ours, theirs = socket.socketpair()
        with ours, theirs:
            sender = threading.Thread(target=theirs.sendall, args=(struct.pack("!I", len(body)) + body,))
            sender.start()  # more than a socket's buffer holds
            if refused:
                with pytest.raises(wire.WireError, match="more than"):
                    wire.receive(ours, deadline=None)
            else:
                assert wire.receive(ours, deadline=None)["value"] == "A" * len(many)
            ours.shutdown(socket.SHUT_RD)
            sender.join(5)


def test_a_high_power_of_a_polynomial_in_one_symbol_is_accepted():
    # its expansion has degree times power plus one terms, whatever the count of its terms (a chain-rule exercise)
    x = sp.Symbol("x")
    for expr in (sp.diff(sum(x**i for i in range(7)) ** 13, x), sum(x**i for i in range(5)) ** 20):
        assert roundtrip(expr) == expr


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(["__ndarray__", "__tuple__", "__dict__", "__complex__",
                                                       "__bigint__", "__sympy__", "__handle__", "dtype", "shape",
                                                       "data", "scalar", "x"]), inner, max_size=4),
                    max_leaves=12)


def test_whatever_a_worker_sends_as_a_value_is_a_value_or_a_protocol_error(session_for):
    # a malformed value raised KeyError or TypeError in the grader: an error "of the test", in the worker's words
    from coursekit.grading.session import ProtocolError

    session = session_for("pass")  # decoding needs no worker: one for every example

    @settings(max_examples=300, deadline=None)
    @given(junk=JSON)
    def decoded_or_refused(junk):
        try:
            session.decode(junk)
        except ProtocolError as refused:
            assert str(refused).startswith("your code sent the grader something it cannot read")

    decoded_or_refused()


@pytest.mark.parametrize("expression", [sp.Piecewise((sp.Symbol("x"), sp.Symbol("x") > 0), (-sp.Symbol("x"), True)),
                                        sp.Float(sp.Rational(1, 3), precision=1024), sp.Float("1e-400", 300)])
def test_what_a_learner_may_honestly_answer_in_sympy_crosses_the_wire(expression):
    # red team R: a Piecewise's pieces (ExprCondPair, which sympy does not export) and a Float of the 1,024 bits
    # allowed (about 310 digits, past a 100-character cap) could not cross: the test ended as a protocol error
    assert wire.decode(wire.encode(expression, lambda obj: {}), lambda ref: None) == expression
