"""Values a test compares are data: a student object that answers arithmetic, comparison or conversion with what
the test wants gets nothing, and code that writes into the arguments a test passed cannot change what it checks."""

import pytest

from coursekit.grading.limits import MAX_MESSAGE, MiB
from coursekit.lessons.l02_computation_graphs import exercises as lesson02
from graded_submissions import LIMITED, by_id, grade, replacing, solution_cell, with_cell

pytestmark = pytest.mark.slow  # grades through a sandbox server

# Honest on the cases the learner's check() uses, so that only the hidden tests meet the liar.
VISIBLE_GRAPH_CASES = [tuple(case) for case in lesson02["graph_gradients"].cases]

LIARS = {
    "arithmetic that answers 0": (
        "class Liar:\n"
        "    def __sub__(self, other): return 0.0\n"
        "    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__\n"
        "    def __abs__(self): return 0.0\n"
        "    def __neg__(self): return 0.0\n"),
    "comparisons that say yes": (
        "class Liar:\n"
        "    def __eq__(self, other): return True\n"
        "    __le__ = __lt__ = __ge__ = __gt__ = __eq__\n"
        "    __hash__ = object.__hash__\n"
        "    def __sub__(self, other): return self\n"
        "    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__\n"
        "    def __abs__(self): return self\n"),
    "conversions to the right number": (
        "import numpy as np\n"
        "class Liar:\n"
        "    def __float__(self): return 0.0\n"
        "    def __array__(self, dtype=None, copy=None): return np.zeros(())\n"
        "    def __sub__(self, other): return 0.0\n"
        "    __rsub__ = __sub__\n"),
}


def _graded_graph_gradients(server, prelude: str, on_hidden: str):
    """Lesson 02 graded with a graph_gradients that is right on check()'s cases and returns ``on_hidden`` on the
    others (after ``prelude``)."""
    code = prelude + (f"VISIBLE = {VISIBLE_GRAPH_CASES!r}\n"
                      "def graph_gradients(x, y):\n"
                      "    if (x, y) in VISIBLE:\n"
                      "        return 2 * x, -2 * y\n"
                      f"    return {on_hidden}\n")
    return grade(server, replacing("02_computation_graphs", "graph_gradients", code), "02_computation_graphs", LIMITED)


@pytest.mark.parametrize("liar", sorted(LIARS))
def test_a_function_that_returns_a_liar_on_hidden_cases_scores_nothing(server, liar):
    graded = _graded_graph_gradients(server, LIARS[liar], "Liar(), Liar()")
    result = by_id(graded)["graph_gradients_test"]
    assert result.points == 0 and result.status == "failed", result
    # a hidden case: the refusal in fixed words, without the name of the student's class (which could carry data)
    assert "gave an object where a plain value" in result.message and "Liar" not in result.message
    others = [test for test in graded.tests if test.grade_id != "graph_gradients_test"]
    assert all(test.status == "passed" for test in others), others


@pytest.mark.parametrize("narrow", ["np.float16", "np.float32", "lambda v: np.array(v, dtype=np.float32)",
                                    "lambda v: np.array([v], dtype=np.float32)",    # an array: a red team's
                                    "lambda v: np.array([[v]], dtype=np.float16)"])
def test_a_number_of_a_narrow_type_keeps_the_hidden_tests_tolerance(server, narrow):
    """A hidden assert compares with Python floats (abs(got - 2 x) <= 1e-9 ...): in the student's float16 or float32,
    NumPy would compute the difference at that precision, where an answer 0.02 % off rounds to exactly right."""
    graded = _graded_graph_gradients(server, f"import numpy as np\nNARROW = {narrow}\n",
                                     "NARROW(2.0004 * x), NARROW(-2.0004 * y)")
    result = by_id(graded)["graph_gradients_test"]
    assert result.points == 0 and result.status == "failed", result


def test_the_result_of_a_students_arithmetic_is_never_a_value_of_the_grader(session_for):
    session = session_for("class Sly:\n    def __sub__(self, other):\n        return 0.0\nsly = Sly()")
    sly = session.get("sly")
    with pytest.raises(TypeError, match="plain value"):
        sly - 1.0
    with pytest.raises(TypeError, match="plain value"):
        float(sly)


def test_arithmetic_is_forwarded_for_a_declared_value_class_and_stays_a_proxy(session_for):
    from coursekit.feedback import NameRules

    session = session_for("class V:\n    def __init__(self, d): self.data = d\n"
                          "    def __mul__(self, o): return V(self.data * (o.data if isinstance(o, V) else o))\n"
                          "    def __sub__(self, o): return 0.0\n")
    V = session.get("V", NameRules("V", arithmetic=True))
    product = V(3.0) * 2
    assert product.data == 6.0
    with pytest.raises(TypeError, match="plain value"):
        (V(1.0) - 1.0) < 1e-9  # noqa: B015 -- its __sub__ says 0.0, which stays in the sandbox


ZEROING_WRAPPER = """

def forward(params, x, hidden, output):
    if len(params) == 6:               # the hidden test's network: it computes its answer from these, after the call
        for W, b in params:
            W[...] = 0
            b[...] = 0
    return _honest_forward(params, x, hidden, output)
"""


def test_code_that_zeroes_the_tests_arguments_cannot_make_the_expected_value_match(server):
    honest = solution_cell("05_delta_recursion", "forward")
    nb = replacing("05_delta_recursion", "forward",
                   honest.replace("def forward(", "def _honest_forward(") + ZEROING_WRAPPER)
    graded = grade(server, nb, "05_delta_recursion", LIMITED)
    result = by_id(graded)["forward_test"]
    assert result.points == 0 and result.status == "failed", result
    assert "a hidden case your code changed an argument in place" in result.message  # a hidden case's fixed words


def test_an_argument_declared_as_changed_comes_back_and_others_stay_the_callers(session_for):
    import numpy as np

    from coursekit.feedback import NameRules

    session = session_for("def step(params, grads):\n    for k in params:\n        params[k] -= grads[k]\n"
                          "    grads.clear()\n")
    params, grads = {"w": np.ones(2)}, {"w": np.full(2, 0.5)}
    declared = session.get("step", NameRules("step", mutates=(0,)))
    with pytest.raises(AssertionError, match="`step` changed its argument 2 in place"):
        declared(params, grads)
    assert np.array_equal(params["w"], [0.5, 0.5]) and list(grads) == ["w"]  # the declared one changed, not grads


def test_a_declared_argument_whose_shape_was_changed_in_place_fails_the_call_in_plain_words(session_for):
    # red team U: gradient_check left the caller's x flattened (x.shape = ...); the grader could not copy that back
    # into its own array, kept checking x as it was, and gave the test 3/3
    import numpy as np

    from coursekit.feedback import NameRules

    session = session_for("def walk(x):\n    x.shape = (x.size,)\n    x[0] += 0.0\n    return 1.0\n")
    x = np.ones((2, 3))
    declared = session.get("walk", NameRules("walk", mutates=(0,)))
    with pytest.raises(AssertionError, match="`walk` changed the shape of its argument 1 in place"):
        declared(x)
    assert x.shape == (2, 3)


def test_a_declared_dict_or_list_changes_here_as_in_the_students_process(session_for):
    # an entry removed, a list that grew or shrank: the caller's own dict and list, as in the learner's kernel
    import numpy as np

    from coursekit.feedback import NameRules

    session = session_for("import numpy as np\n\ndef tidy(d, items, more):\n    del d['old']\n    d['w'][0] = 5.0\n"
                          "    items.pop()\n    more.append(np.zeros(2))\n")
    w, first = np.ones(2), np.ones(3)
    d, items, more = {"w": w, "old": 1.0}, [1.0, 2.0, 3.0], [first]
    session.get("tidy", NameRules("tidy", mutates=(0, 1, 2)))(d, items, more)
    assert list(d) == ["w"] and d["w"] is w and w[0] == 5.0  # the same array, written in place
    assert items == [1.0, 2.0] and len(more) == 2 and more[0] is first


@pytest.mark.slow
def test_a_gradient_check_that_leaves_x_flattened_scores_nothing(server):
    code = ("def gradient_check(f, x, grad, h=1e-5):\n"
            "    shape = x.shape\n"
            "    numerical = np.zeros(x.size)\n"
            "    x.shape = (x.size,)\n"
            "    for i in range(x.size):\n"
            "        saved = x[i]\n"
            "        x[i] = saved + h\n"
            "        up = f(x.reshape(shape))\n"
            "        x[i] = saved - h\n"
            "        down = f(x.reshape(shape))\n"
            "        x[i] = saved\n"
            "        numerical[i] = (up - down) / (2 * h)\n"
            "    numerical = numerical.reshape(shape)\n"
            "    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)\n"
            "    return numerical, float(np.max(np.abs(grad - numerical) / scale))\n")
    graded = grade(server, replacing("04_linear_and_losses", "gradient_check", code), "04_linear_and_losses")
    assert by_id(graded)["gradient_check_test"].points == 0


def test_a_write_into_an_array_inside_a_tuple_or_a_keyword_argument_fails_the_call(session_for):
    # the worker compared only lists, dicts and arrays passed by position (red team U)
    import numpy as np

    session = session_for("def into_tuple(pair):\n    pair[0][0] = 9.0\n    return 1.0\n\n"
                          "def into_keyword(x, *, out):\n    out[0] = 9.0\n    return 1.0\n")
    pair, out = (np.zeros(2), 1.0), np.zeros(2)
    with pytest.raises(AssertionError, match="changed its argument 1 in place"):
        session.get("into_tuple")(pair)
    with pytest.raises(AssertionError, match="changed its argument out in place"):
        session.get("into_keyword")(1.0, out=out)
    assert pair[0][0] == 0.0 and out[0] == 0.0


@pytest.mark.slow
def test_a_function_that_wipes_the_weights_of_the_model_it_was_given_scores_nothing(server):
    # red team U: the worker compared no model's parameters unless the lesson declared the call may change them
    code = ("def layer_gradient_norms(model, x, y):\n"
            "    _, dz = nn.softmax_cross_entropy(model.forward(x), y)\n"
            "    model.backward(dz)\n"
            "    norms = [float(np.linalg.norm(g)) for k, g in model.grads.items() if k.endswith('W')]\n"
            "    for value in model.params.values():\n"
            "        value[...] = 0.0\n"
            "    return norms\n")
    graded = by_id(grade(server, replacing("06_training", "layer_gradient_norms", code), "06_training"))
    assert graded["layer_gradient_norms_test"].points == 0
    assert "changed its argument 1 in place" in graded["layer_gradient_norms_test"].message


VALUE_CLASS = ("class V:\n    def __init__(self, d): self.data = d\n"
               "    def __mul__(self, o):\n"
               "        if o == 13: raise ValueError('unlucky')\n"
               "        if o == 17:\n            while True: pass\n"
               "        return V(self.data * (o.data if isinstance(o, V) else o))\n")


def test_a_chain_of_declared_arithmetic_costs_no_round_trip_until_it_is_read(session_for, monkeypatch):
    from coursekit.feedback import NameRules

    session = session_for(VALUE_CLASS)
    V = session.get("V", NameRules("V", arithmetic=True))
    y = V(1.0)
    answered = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, *a, **k: answered.append(a) or original(self, *a, **k))
    for _ in range(1500):  # deeper than any recursion limit: lesson 02's backward test builds such a chain
        y = y * 1.001
    assert answered == []
    assert abs(y.data - 1.001**1500) < 1e-9 * 1.001**1500 and len(answered) == 1


def test_an_error_in_posted_arithmetic_comes_with_the_next_read(session_for):
    from coursekit.feedback import NameRules

    session = session_for(VALUE_CLASS)
    V = session.get("V", NameRules("V", arithmetic=True))
    broken = V(2.0) * 13  # nothing raised yet: the operation was only posted
    with pytest.raises(ValueError, match="unlucky"):
        broken.data  # noqa: B018 -- reading is what collects the error
    assert (V(2.0) * 3).data == 6.0  # and the session goes on


def test_posted_arithmetic_that_loops_is_stopped_at_the_next_read(session_for):
    from coursekit.feedback import NameRules
    from coursekit.grading.session import SandboxTimeout

    session = session_for(VALUE_CLASS, cpu_limit=0.3)
    V = session.get("V", NameRules("V", arithmetic=True))
    looping = V(2.0) * 17
    with pytest.raises(SandboxTimeout):
        looping.data  # noqa: B018


CHAIN = ("class V:\n    def __init__(self, d): self.data = d\n"
         "    def __mul__(self, o): return V(self.data * (o.data if isinstance(o, V) else o))\n"
         "    def __add__(self, o):\n"
         "        if self.data > 1e9:\n"
         "            while True:\n"
         "                pass\n"
         "        return V(self.data + (o.data if isinstance(o, V) else o))\n")


def _writes(monkeypatch) -> list[bytes]:
    """What the grader writes to sandboxes from now on, one entry a write (each is still sent)."""
    from coursekit.grading import wire

    writes = []
    monkeypatch.setattr(wire, "send_framed", lambda sock, data, deadline=None, send=wire.send_framed:
                        (writes.append(data), send(sock, data, deadline))[1])
    return writes


def test_a_chain_of_arithmetic_reaches_the_sandbox_in_a_few_writes_and_answers_as_step_by_step(session_for,
                                                                                             monkeypatch):
    from coursekit.feedback import NameRules
    from coursekit.grading.limits import POSTED_AT_ONCE

    session = session_for(CHAIN)
    V = session.get("V", NameRules("V", arithmetic=True))
    writes = _writes(monkeypatch)
    y = V(1.0)
    for _ in range(200):
        y = y * 1.01 + 0.0
    assert abs(y.data - 1.01**200) < 1e-9  # the construction and 400 operations posted, then the read
    # POSTED_AT_ONCE at a time, the last ones with the read
    assert len(writes) == -(-401 // POSTED_AT_ONCE) == 2


def test_posted_requests_travel_as_one_message_and_a_malformed_one_among_them_is_an_error_not_a_crash(session_for,
                                                                                                      monkeypatch):
    import json
    import struct

    from coursekit.feedback import NameRules
    from coursekit.grading import protocol, wire

    session = session_for(CHAIN)
    V = session.get("V", NameRules("V", arithmetic=True))
    writes = _writes(monkeypatch)
    y = V(1.0) * 2.0 + 3.0
    assert y.data == 5.0
    (size,) = struct.unpack("!I", writes[0][:4])
    posted = json.loads(writes[0][4:4 + size])  # the construction and two operations: one message, then the read
    assert posted[protocol.OP] == protocol.POSTED
    *operations, released = posted[protocol.REQUESTS]  # and, last, the two intermediate results the grader dropped
    assert len(operations) == 3 and released == {protocol.OP: protocol.RELEASE, protocol.HANDLES: [-1, -2]}
    # entries that are no request (a number, a posted message inside a posted message) fail, and the session goes on
    session.posted += [b"7", wire.to_json({protocol.OP: protocol.POSTED, protocol.REQUESTS: []})]
    session.unconfirmed = True
    with pytest.raises(Exception, match="unknown object"):
        session.flush()
    assert (V(2.0) * 3.0).data == 6.0


def test_a_value_built_from_numbers_is_posted_and_its_constructors_error_comes_with_the_next_read(session_for):
    from coursekit.feedback import NameRules
    from coursekit.grading.session import StudentError

    session = session_for(CHAIN + "class Picky(V):\n    def __init__(self, d):\n        raise KeyError('no')\n"
                                  "def total(*values):\n    return sum(v.data for v in values)\n")
    V, Picky = (session.get(name, NameRules(name, arithmetic=True)) for name in ("V", "Picky"))
    values = [V(float(n)) for n in range(50)]  # no round trip yet
    assert session.get("total")(*values) == sum(range(50))
    assert isinstance(values[3], V) and not isinstance(values[3], Picky)
    broken = Picky(1.0)
    with pytest.raises((KeyError, StudentError)):  # the construction's error, raised at the read
        _ = broken.data
    assert session.get("total")(values[1], values[2]) == 3.0  # and the session goes on


def test_a_value_built_from_an_array_is_called_and_answers_at_once_what_it_changed(session_for):
    import numpy as np

    from coursekit.feedback import NameRules
    from coursekit.grading.proxies import ChangedArgument

    session = session_for("class Grab:\n    def __init__(self, a):\n        a[0] = 99.0\n        self.data = a\n")
    Grab = session.get("Grab", NameRules("Grab", arithmetic=True))
    given = np.zeros(2)
    with pytest.raises(ChangedArgument):  # not posted: an array could be changed in place, and that must show
        Grab(given)
    assert given[0] == 0.0


def test_operations_posted_while_the_worker_loops_on_an_earlier_one_end_at_the_next_requests_limit(session_for):
    from coursekit.feedback import NameRules
    from coursekit.grading.session import SandboxTimeout

    session = session_for(CHAIN, cpu_limit=0.3)
    V = session.get("V", NameRules("V", arithmetic=True))
    y = V(2e9) + 1.0  # posted: the worker loops on it once it reads it
    for _ in range(600):  # more than a write holds: posted ones go out while the worker loops
        y = y * 1.0
    with pytest.raises(SandboxTimeout):
        _ = y.data
    assert not session.alive


PAST_THE_WIRE = [f"np.zeros({MAX_MESSAGE // 8 + 1})",  # a message too large
                 "'x' * 20_000",  # a text too long
                 "__import__('functools').reduce(lambda a, _: [a], range(100), [])"]  # nested too deeply


@pytest.mark.parametrize("value", PAST_THE_WIRE)
def test_a_value_past_the_wires_limits_is_said_in_the_graders_words_never_as_the_students_exception(session_for,
                                                                                                    value):
    from coursekit.grading.session import ProtocolError

    session = session_for(f"import numpy as np\ndef huge():\n    return {value}\n")
    with pytest.raises(ProtocolError, match="^your code sent the grader something it cannot read") as raised:
        session.get("huge")()
    assert "WireError" not in str(raised.value) and "raised" not in str(raised.value)
    assert not session.alive  # killed, as for any message the grader cannot read


def test_a_chained_computation_is_one_message_and_gives_what_the_operations_one_by_one_give(session_for, monkeypatch):
    from coursekit.feedback import NameRules
    from coursekit.feedback.batched import chained

    session = session_for(CHAIN)
    V = session.get("V", NameRules("V", arithmetic=True))
    writes = _writes(monkeypatch)
    y = chained(V(1.0), [("__mul__", 1.01), ("__add__", 0.5)], 300)  # 600 operations
    expected = 1.0
    for _ in range(300):
        expected = expected * 1.01 + 0.5
    assert abs(y.data - expected) < 1e-9 * expected
    assert len(writes) == 1  # the construction and the chain went with the read


@pytest.mark.parametrize(("steps", "count", "error"), [
    ([["__getattribute__", "data"]], 1, "only forwarded arithmetic"),
    ([["__mul__", 2.0]], 100_001, "at most 100,000 operations"),
    ([["__mul__", 2.0], ["__add__", 1.0]], 50_001, "at most 100,000 operations"),
    ([], 10**18, "1 to 8 steps"),
    ([["__mul__", 2.0]] * 9, 1, "1 to 8 steps"),  # refused, never cut short to the first 8
    ([["__mul__", 2.0]], -1, "at most 100,000 operations"),
])
def test_a_chain_the_grader_would_never_send_is_refused_by_the_worker(session_for, steps, count, error):
    from coursekit.grading import protocol

    session = session_for(CHAIN + "v = V(1.0)")
    v = session.get("v")
    session.post({protocol.OP: protocol.REPEAT, protocol.TARGET: object.__getattribute__(v, "_id"),
                  protocol.STEPS: steps, protocol.COUNT: count, protocol.RESULT_ID: session.new_result_id()})
    with pytest.raises((TypeError, ValueError), match=error):
        session.flush()


def test_a_chain_whose_student_operation_loops_is_stopped_at_the_next_read(session_for):
    from coursekit.feedback import NameRules
    from coursekit.feedback.batched import chained
    from coursekit.grading.session import SandboxTimeout

    session = session_for(CHAIN, cpu_limit=0.3)
    V = session.get("V", NameRules("V", arithmetic=True))
    looping = chained(V(1.0), [("__mul__", 1e10), ("__add__", 1.0)], 2)  # the second __add__ loops
    with pytest.raises(SandboxTimeout):
        looping.data  # noqa: B018


def test_only_a_class_declared_for_arithmetic_can_be_chained(session_for):
    from coursekit.feedback.batched import chained

    session = session_for(CHAIN + "v = V(1.0)")
    with pytest.raises(TypeError, match="plain value"):
        chained(session.get("v"), [("__mul__", 2.0)], 3)


@pytest.mark.slow  # a worker killed and the cells replayed
def test_a_graded_function_returning_a_text_past_the_limit_fails_its_test_in_the_graders_words(server):
    code = "def numerical_passes(n_params, method):\n    return 'x' * 20_000\n"
    graded = grade(server, replacing("07_efficiency", "numerical_passes", code), "07_efficiency")
    test = by_id(graded)["numerical_passes_test"]
    assert test.status == "error" and test.points == 0
    assert test.message.startswith("your code sent the grader something it cannot read (a text of more than")
    assert "WireError" not in test.message
    others = [t.status for t in graded.tests if t.grade_id != "numerical_passes_test"]
    assert set(others) == {"passed"}  # the worker was replaced, and the rest graded


FORGED_CALLBACK = ("import gc\nfrom coursekit.grading import wire as _wire\n"
                   "_worker = next(o for o in gc.get_objects() if type(o).__name__ == 'Worker')\n"
                   "def forge(number):\n"
                   "    _wire.send(_worker.sock, {'op': 'callback', 'id': number})\n"
                   "    while True:\n"
                   "        pass\n")


@pytest.mark.parametrize("number", ["'phase 8.933'", "[1]", "1e999", "None"])
def test_a_forged_callback_is_a_protocol_error_and_the_worker_is_gone(session_for, number):
    # red team R: the grader's int() on a callback's id raised ValueError with the worker's own words ("phase 8.933",
    # a clock read that carried a hidden input), the submission became "the grader failed on it: <those words>", and
    # the worker was left running
    from coursekit.grading.session import ProtocolError

    session = session_for(FORGED_CALLBACK)
    with pytest.raises(ProtocolError) as raised:
        session.run_cell(f"forge({number})", 5.0)
    assert "phase" not in str(raised.value) and "8.933" not in str(raised.value)
    assert not session.alive


@pytest.mark.slow
def test_a_cell_that_forges_a_callback_is_that_cells_error_and_the_rest_is_graded(server):
    graded = grade(server, with_cell("07_efficiency", FORGED_CALLBACK + "forge('phase 8.933')\n"), "07_efficiency")
    (problem,) = graded.cell_problems
    assert problem.status == "error" and problem.cause.startswith("your code sent the grader something it cannot read")
    assert "phase" not in problem.cause
    assert all(t.status == "passed" for t in graded.tests), graded.tests


def test_a_graders_failure_is_told_by_its_type_and_place_never_its_text():
    from coursekit.grading.reasons import failure_words

    try:
        int("phase 8.933")
    except ValueError as error:
        words = failure_words(error)
    assert words == "ValueError" and "phase" not in words
    try:
        failure_words(None)  # fails inside coursekit: the place is named
    except AttributeError as error:
        assert failure_words(error).startswith("AttributeError at reasons.py:")


def test_narrow_arrays_whose_widening_would_take_more_than_twice_a_message_are_refused(session_for):
    # red team R: a 61 MiB reply of int8 arrays, widened to 8 bytes a number, took 353 MiB more in the grader
    from coursekit.grading.session import ProtocolError

    session = session_for(f"import numpy as np\ndef narrow(n):\n    return [np.zeros({8 * MiB}, np.int8)] * n\n")
    assert len(session.get("narrow")(2)) == 2  # 16 MiB sent, 128 MiB once widened: the allowance
    with pytest.raises(ProtocolError, match="arrays of more than 128 MiB once widened"):
        session.get("narrow")(3)



def test_the_widening_allowance_is_the_whole_messages_not_each_answers(session_for):
    # red team Z: check()'s cases come back in one reply, and each answer had an allowance of its own: four int8
    # arrays of 16 MB took a grading process from 36 MiB to 1 GiB
    from coursekit.grading.session import ProtocolError

    session = session_for(f"import numpy as np\ndef narrow(n):\n    return np.zeros({8 * MiB}, np.int8)\n")
    narrow = session.get("narrow")
    assert len(type(narrow)._coursekit_many(narrow, [(1,), (2,)])) == 2  # 16 MiB, 128 MiB widened: the allowance
    with pytest.raises(ProtocolError, match="arrays of more than 128 MiB once widened"):
        type(narrow)._coursekit_many(narrow, [(1,), (2,), (3,)])


@pytest.mark.parametrize("raising", [
    "class E(Exception):\n    pass\nE.__name__ = 'coursekit:unsendable'\nraise E(WORDS)",
    "from coursekit.grading.wire import WireError\nraise WireError(WORDS)"])
def test_a_student_exception_posing_as_an_unsendable_value_puts_no_words_of_its_own_in_the_graders(session_for,
                                                                                                 raising):
    from coursekit.grading.session import ProtocolError

    body = raising.replace("WORDS", "'I chose these words'").replace("\n", "\n    ")
    session = session_for(f"def pose():\n    {body}\n")
    with pytest.raises(ProtocolError) as raised:
        session.get("pose")()
    assert "I chose" not in str(raised.value)
    assert str(raised.value) == ("your code sent the grader something it cannot read (a value too large, or nested "
                                 "too deeply, to send); it was stopped")
