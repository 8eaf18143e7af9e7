"""Proxies for student objects: calls, methods and attributes forwarded; no equality, truth or hash."""

import warnings

import numpy as np
import pytest

from coursekit.grading import session as session_module
from graded_submissions import solution_cell

STUDENT = """
import numpy as np

class Doubler:
    def __init__(self):
        self.params = {"w": np.array([2.0])}
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * self.params["w"]

def apply(f, x):
    return f(x)

def triple(x):
    return 3 * x

layer = Doubler()
"""


@pytest.fixture()
def session(server):
    session = server.session(5.0)
    assert session.run_cell(STUDENT, 5.0)["ok"]
    yield session
    session.kill()


def test_a_method_called_again_and_again_goes_to_the_sandbox_each_time(session):
    layer = session.get("layer")
    x = np.arange(3.0)
    for _ in range(5):
        np.testing.assert_array_equal(layer.forward(x), 2 * x)
    assert layer.calls == 5  # each call ran in the student's process


def test_a_method_is_looked_up_when_called_so_a_rebound_method_is_seen(session):
    layer = session.get("layer")
    layer.forward(np.ones(2))
    assert session.run_cell("Doubler.forward = lambda self, x: x - 1", 5.0)["ok"]
    np.testing.assert_array_equal(layer.forward(np.ones(2)), np.zeros(2))


def test_a_method_passed_to_student_code_arrives_as_the_method(session):
    layer, apply = session.get("layer"), session.get("apply")
    layer.forward(np.ones(1))
    np.testing.assert_array_equal(apply(layer.forward, np.array([4.0])), [8.0])


def test_a_grader_function_passed_to_student_code_is_called_back_here(session):
    seen = []

    def square(x):
        seen.append(x)
        return x * x

    assert session.get("apply")(square, 3) == 9 and seen == [3]


def test_a_public_sample_function_or_ufunc_goes_by_name_and_runs_in_the_sandbox(session):
    from coursekit.feedback.sample_functions import cube

    assert session.run_cell("def kind_and_value(f, x):\n    return type(f).__name__, f(x)", 5.0)["ok"]
    kind_and_value = session.get("kind_and_value")
    assert kind_and_value(cube, 2.0) == ("function", 8.0)
    assert kind_and_value(np.sin, 0.0) == ("ufunc", 0.0)
    assert session.callbacks == {}  # no round trip back to the grader for either


def test_only_the_real_public_functions_go_by_name():
    from coursekit.feedback import sample_functions
    from coursekit.grading.session import goes_by_name
    from coursekit.lessons.l01_chain_rule import cube

    def impostor(x):
        return x

    impostor.__module__, impostor.__qualname__ = sample_functions.__name__, "cube"  # claims a public name
    assert goes_by_name(np.exp) and goes_by_name(cube) and goes_by_name(sample_functions.log_sum_exp)
    assert not goes_by_name(impostor)
    assert not goes_by_name(lambda x: x) and not goes_by_name(print) and not goes_by_name(sample_functions)


def test_a_student_who_replaces_a_sample_function_in_the_sandbox_fools_only_their_own_code(server):
    from graded_submissions import by_id, grade, with_cell

    nb = with_cell("01_chain_rule", "import coursekit.feedback.sample_functions as s\ns.cube = lambda x: 0.0", at=2)
    verdict = by_id(grade(server, nb, "01_chain_rule"))["central_difference_test"]
    assert verdict.status == "failed" and verdict.points == 0  # expected values are the grader's own


def test_what_student_code_prints_during_a_call_is_discarded_wherever_a_cell_pointed_stdout(server):
    session = server.session(5.0)
    assert session.run_cell("import sys\nclass Refusing:\n    def write(self, text):\n        raise OSError('no')\n"
                            "sys.stdout = sys.stderr = Refusing()\n"
                            "def loud(x):\n    print('x' * 10_000_000)\n    return 2 * x", 5.0)["ok"]
    assert session.get("loud")(21) == 42
    session.kill()


GRADS_LAYER = """
import numpy as np

class Layer:
    def __init__(self, size):
        self.size, self.grads = size, {}

    def forward(self, x):
        self.grads = {"w": np.full(self.size, -1.0)}  # a read after this must see it
        return x

    def backward(self, dout):
        self.grads = {"w": np.full(self.size, float(dout))}
        return dout
"""


def counting_requests(session, monkeypatch) -> list:
    sent = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, message, cpu_limit=None:
                        (sent.append(message["op"]), original(self, message, cpu_limit))[1])
    return sent


def test_a_layers_grads_come_with_its_backwards_answer_and_are_read_without_a_round_trip(server, monkeypatch):
    session = server.session(5.0)
    assert session.run_cell(GRADS_LAYER + "layer = Layer(3)", 5.0)["ok"]
    layer, sent = session.get("layer"), counting_requests(session, monkeypatch)
    assert layer.backward(2.0) == 2.0
    np.testing.assert_array_equal(layer.grads["w"], [2.0, 2.0, 2.0])
    assert sent == ["callmethod"]
    np.testing.assert_array_equal(layer.grads["w"], [2.0, 2.0, 2.0])  # a second read asks the sandbox again
    assert sent == ["callmethod", "getattr"]
    session.kill()


def test_grads_sent_with_backward_are_not_used_once_anything_else_reached_the_sandbox(server, monkeypatch):
    session = server.session(5.0)
    assert session.run_cell(GRADS_LAYER + "layer = Layer(3)\nbig = Layer(5000)", 5.0)["ok"]
    layer, big = session.get("layer"), session.get("big")
    layer.backward(2.0)
    layer.forward(1.0)  # changes grads in the sandbox
    np.testing.assert_array_equal(layer.grads["w"], [-1.0, -1.0, -1.0])
    sent = counting_requests(session, monkeypatch)
    big.backward(3.0)  # grads too large to come with the answer: read when asked
    assert big.grads["w"].shape == (5000,) and sent == ["callmethod", "getattr"]
    session.kill()


@pytest.mark.parametrize("operation", [lambda o: o == o, lambda o: o != 1, lambda o: bool(o), lambda o: hash(o)])
def test_proxies_and_their_methods_never_compare_or_answer_truth(session, operation):
    layer = session.get("layer")
    layer.forward(np.ones(1))
    for student_object in (layer, layer.forward, session.get("triple")):
        with pytest.raises(TypeError):
            operation(student_object)


def test_a_parameter_write_that_fails_raises_at_the_next_request_or_at_the_flush(session):
    from coursekit.gradcheck import set_parameter

    assert session.run_cell("frozen = Doubler()\nfrozen.params['w'].flags.writeable = False", 5.0)["ok"]
    frozen = session.get("frozen")
    set_parameter(frozen, "w", np.array([5.0]))  # posted: its answer is collected by the next request
    with pytest.raises(ValueError, match="read-only"):
        frozen.forward(np.ones(1))
    set_parameter(frozen, "w", np.array([5.0]))
    with pytest.raises(ValueError, match="read-only"):
        session.flush()
    layer = session.get("layer")
    set_parameter(layer, "w", np.array([5.0]))  # a write that works changes what the next call sees
    np.testing.assert_array_equal(layer.forward(np.ones(2)), [5.0, 5.0])


def test_the_methods_of_a_student_class_are_called_in_one_round_trip_from_the_start(session, monkeypatch):
    layer = session.get("layer")
    sent = []
    request = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, message, timeout=None: (
        sent.append(message["op"]), request(self, message, timeout))[1])
    np.testing.assert_array_equal(layer.forward(np.ones(2)), [2.0, 2.0])
    assert sent == ["callmethod"]
    assert layer.calls == 1 and sent == ["callmethod", "getattr"]  # data is still read from the object


def test_an_attribute_of_the_object_that_hides_a_method_of_its_class_reads_as_the_attribute(session):
    assert session.run_cell("class Odd(Doubler):\n    def grads(self):\n        return 'a method'\n"
                            "odd = Odd()\nodd.grads = {'w': np.zeros(1)}", 5.0)["ok"]
    np.testing.assert_array_equal(session.get("odd").grads["w"], [0.0])


def test_a_method_called_on_many_inputs_answers_each_as_one_call_would_in_one_round_trip(session, monkeypatch):
    layer = session.get("layer")
    inputs = [(np.full(2, float(k)),) for k in range(70)]  # more than one batch (64 calls each)
    one_by_one = [layer.forward(*args) for args in inputs]
    requests = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, *a, **k: requests.append(a) or original(self, *a, **k))
    together = layer.forward.many(inputs)
    assert len(requests) == 2 and all(np.array_equal(a, b) for a, b in zip(together, one_by_one, strict=True))


def test_a_batched_call_that_writes_into_its_argument_fails_like_a_single_one(server):
    session = server.session(5.0)
    try:
        assert session.run_cell("class Zeroing:\n    def forward(self, x):\n        x[...] = 0\n        return x\n"
                                "zeroing = Zeroing()", 5.0)["ok"]
        with pytest.raises(AssertionError, match="changed its argument 1 in place"):
            session.get("zeroing").forward.many([(np.ones(3),), (np.ones(3),)])
    finally:
        session.kill()


def test_a_checks_cases_reach_a_student_function_in_one_round_trip_and_a_failure_still_names_its_case(
        server, monkeypatch):
    from coursekit.feedback import Exercise, ExerciseSet

    exercises = ExerciseSet("demo")
    exercises.add(Exercise("double", cases=[(1.0,), (2.0,), (3.0,)], expected=lambda x: 2 * x))
    session = server.session(5.0)
    try:
        assert session.run_cell("def double(x):\n    return 2 * x\n"
                                "def wrong(x):\n    if x == 2.0:\n        raise ValueError('two')\n"
                                "    return 2 * x", 5.0)["ok"]
        requests = []
        original = type(session).request
        monkeypatch.setattr(type(session), "request",
                            lambda self, *a, **k: requests.append(a) or original(self, *a, **k))
        assert exercises.evaluate("double", session.get("double")).status == "passed"
        assert len(requests) == 2  # the name, then all three cases at once
        result = exercises.evaluate("double", session.get("wrong"))
        assert result.status == "error" and "on case (2)" in result.message and "two" in result.message
    finally:
        session.kill()


def test_calls_with_parameters_set_before_each_answer_as_writes_then_calls_would_in_one_round_trip(session,
                                                                                                      monkeypatch):
    from coursekit.gradcheck import set_parameter

    layer = session.get("layer")
    weights = [np.array([float(k)]) for k in (3, 5, 7)]
    one_by_one = []
    for w in weights:
        set_parameter(layer, "w", w)
        one_by_one.append(layer.forward(np.ones(2)))
    requests = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, *a, **k: requests.append(a) or original(self, *a, **k))
    together = layer.forward.many([(np.ones(2),)] * 3, params=[{"w": w} for w in weights])
    assert len(requests) == 1 and all(np.array_equal(a, b) for a, b in zip(together, one_by_one, strict=True))
    assert [list(out) for out in together] == [[3.0, 3.0], [5.0, 5.0], [7.0, 7.0]]


def test_a_layer_check_screens_a_sandboxed_layer_in_one_round_trip_per_pair_of_points_with_the_same_verdict(
        session, monkeypatch):
    from coursekit.gradcheck import check_layer
    from coursekit.gradcheck.checks import screening

    assert session.run_cell("class Scale:\n"
                            "    def __init__(self, wrong=False):\n"
                            "        self.params, self.grads = {'w': np.array([1.5, -0.5])}, {}\n"
                            "        self.wrong = wrong\n"
                            "    def forward(self, x):\n"
                            "        self.x = x.copy()\n"
                            "        return x * self.params['w']\n"
                            "    def backward(self, dout):\n"
                            "        self.grads['w'] = (dout * self.x).sum(0) * (2.0 if self.wrong else 1.0)\n"
                            "        return dout * self.params['w']\n"
                            "right, wrong = Scale(), Scale(wrong=True)", 5.0)["ok"]
    x = np.random.default_rng(3).standard_normal((4, 2))
    calls = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, message, *a, **k:
                        calls.append(message.get("op")) or original(self, message, *a, **k))
    with screening():
        assert check_layer(session.get("right"), x).passed
        assert "callmany" in calls and calls.count("callmethod") <= 3  # forward, backward: the screen goes in pairs
        report = check_layer(session.get("wrong"), x)
    assert not report.passed and "dw" in str(report)  # the wrong gradient is still found and named


STEPPED = """
import numpy as np

class Scale:
    def __init__(self):
        self.params, self.grads = {}, {"w": np.zeros(1)}  # the course's layers: params and grads (none to learn here)

    def forward(self, x):
        return 2.0 * x

    def backward(self, dout):
        self.grads = {"w": np.array([dout.sum()])}
        return 2.0 * dout

class Fragile(Scale):
    def backward(self, dout):
        raise ValueError("backward broke")

def rows_shared(x):
    return x / x.sum()            # normalises over the whole batch: breaks row_wise

def first_row_raises(x):
    if x.shape[0] == 1:
        raise ValueError("one row")
    return x * 1.0

class Seeded(Scale):
    def __init__(self, sizes, rng):
        super().__init__()
        self.drawn = rng.standard_normal()  # draws from the generator it was given
        sizes.append(len(sizes))            # and changes the list it was given

class Unbuildable(Scale):
    def __init__(self, sizes, rng):
        raise ValueError("no layer of these sizes")
"""


def _counting(session, monkeypatch) -> list:
    requests = []
    original = type(session).request
    monkeypatch.setattr(type(session), "request", lambda self, *a, **k: requests.append(a) or original(self, *a, **k))
    return requests


@pytest.fixture()
def stepped(server):
    """A worker that has run STEPPED."""
    session = server.session(5.0)
    assert session.run_cell(STEPPED, 5.0)["ok"]
    yield session
    session.kill()


X_STEPPED, DOUT_STEPPED = np.arange(6.0).reshape(3, 2) + 1.0, np.ones((3, 2))


def test_an_exercises_planned_properties_go_to_the_sandbox_in_one_round_trip_with_the_verdicts_of_one_by_one(
        stepped, monkeypatch):
    from coursekit.feedback import properties

    x = X_STEPPED
    checks = [properties.inputs_kept((x,)), properties.repeatable((x,)), properties.dtype_kept((x,)),
              properties.row_wise(lambda rows, n: np.vstack(rows), (x,))]
    layer_checks = properties.layer_properties(lambda cls: cls(), x, DOUT_STEPPED)
    scale, shared = stepped.get("Scale"), stepped.get("rows_shared")
    requests = _counting(stepped, monkeypatch)
    assert properties.verdict("Scale", layer_checks, scale) is None
    assert len(requests) == 1  # 7 layers built (posted), their 39 steps in one message
    requests.clear()
    broken = properties.verdict("rows_shared", checks, shared)
    assert len(requests) == 1 and broken.status == "failed" and str(properties.ROWS) in broken.message
    # the same verdict as each property checked alone, one step at a time, here in the grader's process
    alone = properties.verdict("rows_shared", checks, lambda v: v / v.sum())
    assert alone.message == broken.message


def test_a_plans_layers_built_from_a_list_and_a_generator_cost_no_round_trip_and_a_constructor_error_is_reported(
        stepped, monkeypatch):
    from coursekit.feedback import properties
    from coursekit.grading import proxies

    layer_checks = properties.layer_properties(lambda cls: cls([3, 2], np.random.default_rng(3)), X_STEPPED,
                                               DOUT_STEPPED)
    seeded, unbuildable = stepped.get("Seeded"), stepped.get("Unbuildable")
    requests = _counting(stepped, monkeypatch)
    # 7 layers, each built from a list and a generator of its own (which nothing reads again): posted with the
    # steps, rather than called one round trip each
    assert properties.verdict("Seeded", layer_checks, seeded) is None
    assert len(requests) == 1
    error = properties.verdict("Unbuildable", layer_checks, unbuildable)  # found again when checked alone
    assert error.status == "error" and "ValueError: no layer of these sizes" in error.message
    assert str(properties.LAYER_INPUT) in error.message
    # outside a plan, the same construction is a call of its own, whose change to its list is reported
    requests.clear()
    with pytest.raises(proxies.ChangedArgument, match="changed its argument 1 in place"):
        seeded([3, 2], np.random.default_rng(3))
    assert len(requests) == 1


def test_a_step_that_raises_in_the_shared_trip_is_reported_by_the_property_that_made_it(stepped):
    from coursekit.feedback import properties

    x = X_STEPPED
    checks = [properties.inputs_kept((x,)), properties.dtype_kept((x,)),
              properties.row_wise(lambda rows, n: np.vstack(rows), (x,))]
    error = properties.verdict("f", checks, stepped.get("first_row_raises"))
    assert error.status == "error" and "ValueError: one row" in error.message
    assert str(properties.ROWS) in error.message  # the property whose call raised, not the first one
    fragile = properties.verdict("Fragile", properties.layer_properties(lambda cls: cls(), x, DOUT_STEPPED),
                                 stepped.get("Fragile"))
    assert fragile.status == "error" and "backward broke" in fragile.message
    assert str(properties.LAYER_INPUT) in fragile.message


def test_a_losss_value_is_evaluated_at_many_points_in_one_round_trip_with_the_values_of_one_by_one(
        server, monkeypatch):
    from coursekit.gradcheck import value_and_gradient

    session = server.session(5.0)
    try:
        assert session.run_cell("import numpy as np\ndef half_square(y, t):\n"
                                "    return 0.5 * float(np.sum((y - t) ** 2)), y - t\n", 5.0)["ok"]
        target = np.array([0.5, -1.0])
        value, gradient = value_and_gradient(session.get("half_square"), target)
        points = [np.array([float(k), 1.0]) for k in range(5)]
        one_by_one = [value(point) for point in points]
        requests = _counting(session, monkeypatch)
        assert value.many(points) == one_by_one and len(requests) == 1
        np.testing.assert_allclose(gradient(points[1]), points[1] - target)
    finally:
        session.kill()


def test_isinstance_is_answered_by_the_class_itself_not_by_what_an_object_says_of_its_class(session_for):
    session = session_for("class Value:\n    pass\n"
                          "class Meta(type):\n    def __instancecheck__(cls, obj):\n        return True\n"
                          "class Claiming(metaclass=Meta):\n    pass\n"
                          "class Posing:\n    __class__ = property(lambda self: Value)\n"
                          "class Child(Value):\n    pass\n"
                          "posing, child, plain = Posing(), Child(), Value()\n"
                          "anything = Value()\n")
    value, claiming = session.get("Value"), session.get("Claiming")
    assert isinstance(session.get("plain"), value) and isinstance(session.get("child"), value)
    assert not isinstance(session.get("posing"), value)  # its __class__ property says Value
    assert not isinstance(session.get("anything"), claiming)  # its metaclass says yes to every object


def test_a_worker_raises_at_most_its_share_of_warnings_in_the_grader(session_for, monkeypatch):
    """A submission that warned 5 times a call wrote 910 warnings (1.5 MB) on the grader's output."""
    from coursekit.grading.limits import MAX_WARNINGS

    session = session_for("import warnings\n"
                          "def noisy(n):\n"
                          "    for k in range(5):\n"
                          "        warnings.warn(f'call {n}, warning {k}', RuntimeWarning)\n"
                          "    return n\n")
    noisy = session.get("noisy")
    considered = []
    monkeypatch.setattr(session_module, "_watched", lambda category, text: considered.append(text) or False)
    assert [noisy(n) for n in range(30)] == list(range(30))
    assert len(considered) == MAX_WARNINGS


def test_a_warning_from_the_sandbox_reaches_the_grader_with_its_control_characters_escaped(session_for):
    # re-raised here, so that a check sees it (printed nowhere: see the next test)
    session = session_for("import warnings\n"
                          "def noisy():\n"
                          "    warnings.warn('red \\x1b[31m title \\x1b]0;owned\\x07 clip \\x1b]52;c;Zm9v\\x07', "
                          "RuntimeWarning)\n"
                          "    return 1.0\n")
    with warnings.catch_warnings(), pytest.raises(RuntimeWarning) as caught:
        warnings.simplefilter("error")
        session.get("noisy")()
    text = str(caught.value)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[31m" in text


def test_a_warning_of_the_students_code_is_never_printed_and_a_check_still_sees_it(session_for):
    # a red team's warning, wrapped to the terminal's width, posed as the course server's own line
    session = session_for("import warnings\n"
                          "def noisy():\n"
                          "    warnings.warn('x' + ' ' * 70 + 'coursekit grading worker: upload 12: regrade of ada "
                          "FAILED', UserWarning)\n"
                          "    return 1.0\n")
    noisy = session.get("noisy")
    with warnings.catch_warnings(record=True) as shown:  # what would be printed, with the filters as they are
        assert noisy() == 1.0
    assert not shown
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a check that watches for warnings
        with pytest.raises(UserWarning, match="regrade of ada FAILED"):
            noisy()


# A red team's cell: the sandbox's own worker made to attach a warning to every reply that hands over a name.
WARNS_ON_EVERY_FETCH = """
import sys
_Worker = sys.modules["coursekit.grading.worker"].Worker
_handle = _Worker.handle
def _warning_handle(self, request):
    reply = _handle(self, request)
    if request.get("op") == "get":
        reply["warnings"] = [["UserWarning", "carried out of a hidden case"]]
    return reply
_Worker.handle = _warning_handle
def f():
    return 1.0
"""


def test_a_name_fetched_again_for_a_hidden_part_lets_none_of_its_warnings_out(session_for, monkeypatch):
    # After a hidden case stopped the worker, its cells are replayed in a new one and the next test's names fetched
    # again: the red team's forged warnings then reached the grader's output with a hidden input in them.
    from types import SimpleNamespace

    from coursekit.grading import master_tests
    from coursekit.grading.limits import Settings

    session = session_for(WARNS_ON_EVERY_FETCH)
    student = SimpleNamespace(session=session, settings=Settings(), deadline=None, out_of_time=lambda: False)
    test = SimpleNamespace(grade_id="f_test", names_used=lambda known: ["f"])
    considered = []
    monkeypatch.setattr(session_module, "_watched", lambda category, text: considered.append(text) or False)
    for hidden in (False, True):
        namespace = {}
        assert master_tests._fetch_names(test, {}, student, namespace, hidden=hidden) is None
        assert namespace["f"]() == 1.0
    assert considered == ["carried out of a hidden case"]  # the visible fetch's only


def test_feedback_names_the_learners_type_never_the_graders_stand_in(session_for):
    from coursekit.feedback.compare import difference, type_name

    session = session_for("def pairs():\n    return (g for g in (1.0, 2.0))\nclass Layer:\n    pass\n")
    generator, layer = session.get("pairs")(), session.get("Layer")()
    assert (type_name(generator), type_name(layer), type_name(3.0)) == ("generator", "Layer", "float")
    said = str(difference(generator, (1.0, 2.0), rtol=1e-9, atol=0.0))
    assert "generator" in said and "Proxy" not in said


def test_a_graded_generator_is_called_a_generator_as_check_calls_it(server):
    from graded_submissions import by_id, grade, replacing

    code = "def graph_gradients(x, y):\n    a, b = x + y, x - y\n    return (g for g in (b + a, b - a))\n"
    result = by_id(grade(server, replacing("02_computation_graphs", "graph_gradients", code),
                         "02_computation_graphs"))["graph_gradients_test"]
    assert result.points == 0 and "generator" in result.message and "Proxy" not in result.message, result


@pytest.mark.parametrize("made", ["collections.namedtuple('LossGrad', 'loss grad')(1.5, [1.0, 2.0])",
                                  "collections.OrderedDict(z=[1.0], a=[2.0])",
                                  "collections.defaultdict(list, z=[1.0])", "type('Row', (list,), {})([1.0, 2.0])"])
def test_a_tuple_list_or_dict_of_a_subclass_comes_back_as_the_plain_data_it_holds(session_for, made):
    # red team Q: a namedtuple (loss, grad) came back as a handle, and check() in the grader said "a _Proxy"
    session = session_for(f"import collections\ndef made():\n    return {made}\n")
    got = session.get("made")()
    assert type(got) in (tuple, list, dict)
    assert got in ((1.5, [1.0, 2.0]), {"z": [1.0], "a": [2.0]}, {"z": [1.0]}, [1.0, 2.0])


def test_a_namedtuple_answer_is_graded_as_the_tuple_it_is(server):
    from graded_submissions import by_id, grade, replacing

    code = ("from collections import namedtuple\nLossGrad = namedtuple('LossGrad', ['loss', 'grad'])\n"
            "def mse_loss(y, t):\n    n = y.shape[0]\n"
            "    return LossGrad(float(0.5 * np.sum((y - t) ** 2) / n), (y - t) / n)\n")
    result = by_id(grade(server, replacing("04_linear_and_losses", "mse_loss", code), "04_linear_and_losses"))
    assert result["mse_loss_test"].status == "passed", result["mse_loss_test"]


def test_through_the_grader_an_argument_put_back_by_steps_is_said_to_be_off_by_rounding(server):
    from graded_submissions import by_id, grade, replacing

    code = ("import numpy as np\ndef gradient_check(f, x, grad, h=1e-5):\n    numerical = np.zeros_like(x)\n"
            "    for index in np.ndindex(x.shape):\n        x[index] += h\n        plus = f(x)\n"
            "        x[index] -= 2 * h\n        minus = f(x)\n        x[index] += h\n"
            "        numerical[index] = (plus - minus) / (2 * h)\n"
            "    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)\n"
            "    return numerical, float(np.max(np.abs(grad - numerical) / scale))\n")
    result = by_id(grade(server, replacing("04_linear_and_losses", "gradient_check", code),
                         "04_linear_and_losses"))["gradient_check_test"]
    assert result.points == 0 and "differs only by rounding" in result.message, result


def test_an_object_the_grader_holds_no_more_is_freed_in_the_sandbox_as_in_a_kernel(session):
    # red team U: the worker kept every object a test had touched, so a bug that shows when an object is freed (its
    # id used again) never showed in the grader
    assert session.run_cell("class Counted:\n    alive = 0\n"
                            "    def __init__(self):\n        Counted.alive += 1\n"
                            "    def __del__(self):\n        Counted.alive -= 1\n\n"
                            "def alive():\n    return Counted.alive", 5.0)["ok"]
    make, alive = session.get("Counted"), session.get("alive")
    kept = make()
    for _ in range(5):
        make()  # each dropped at once here, as in a kernel
    assert alive() == 1 and kept is not None  # the one still held here
    del kept
    assert alive() == 0


def test_a_step_read_again_shows_what_a_later_step_changed_as_in_a_kernel(session):
    # red team U: a function that returns a list it keeps and fills again passed in the grader, whose sandbox read
    # each result at once, and failed in the learner's kernel, which holds the list itself
    from coursekit.feedback.batched import again, run_steps

    assert session.run_cell("_KEPT = []\n\ndef fill(n):\n    _KEPT[:] = [n]\n    return _KEPT", 5.0)["ok"]
    fill = session.get("fill")
    steps = [(fill, None, (n,)) for n in range(70)]  # two trips: 64 steps, then the rest
    steps += [again(steps[68]), again(steps[0])]
    results = run_steps(steps)
    assert results[68] == [68] and results[-2] == [69]  # read at once, and read again after step 69 filled it
    assert results[-1] == [0]  # a step of an earlier trip: what that trip read

    kept = []

    def fill_here(n):  # in a kernel: the very list, as it is when read
        kept[:] = [n]
        return kept

    here = [(fill_here, None, (n,)) for n in range(70)]
    here += [again(here[68]), again(here[0])]
    results = run_steps(here)
    assert results[-2] is results[-1] is kept == [69]


def test_lesson_03s_sigmoid_points_go_in_one_round_trip_and_an_overflow_is_still_named_at_its_point(server,
                                                                                                     monkeypatch):
    from coursekit.lessons import l03_activations

    session = server.session(5.0)
    try:
        assert session.run_cell("import numpy as np\n" + solution_cell("03_activations", "stable_sigmoid")
                                + "\ndef naive(x):\n    return 1 / (1 + np.exp(-x))\n", 5.0)["ok"]
        requests = _counting(session, monkeypatch)
        assert l03_activations._sigmoid_test(session.get("stable_sigmoid")) is None
        # the name, the nine points, the grid, the integers
        assert [message["op"] for message, *_ in requests] == ["get", "callmany", "call", "call"]
        requests.clear()
        verdict = l03_activations._sigmoid_test(session.get("naive"))
        assert verdict.startswith("at x = -1000 the computation overflowed")  # found again alone, where it fails
        assert [message["op"] for message, *_ in requests][-2:] == ["callmany", "call"]
    finally:
        session.kill()


def test_lesson_04s_checker_cases_go_in_one_round_trip_with_the_verdict_of_one_by_one(server, monkeypatch):
    from coursekit.lessons import l04_linear_losses

    session = server.session(5.0)
    try:
        one_sided = ("def one_sided(f, x, grad, h=1e-5):\n    numerical = np.zeros(x.shape)\n    base = f(x)\n"
                     "    for index in np.ndindex(x.shape):\n        up = x.copy()\n        up[index] += h\n"
                     "        numerical[index] = (f(up) - base) / h\n"
                     "    return numerical, float(np.max(np.abs(grad - numerical)))\n")
        assert session.run_cell("import numpy as np\n" + solution_cell("04_linear_and_losses", "gradient_check")
                                + "\n" + one_sided, 5.0)["ok"]
        requests = _counting(session, monkeypatch)
        assert l04_linear_losses._checker_test(session.get("gradient_check")) is None
        assert [message["op"] for message, *_ in requests] == ["get", "callmany"]  # the name, then every case at once
        batched = l04_linear_losses._checker_test(session.get("one_sided"))
        alone = l04_linear_losses._checker_test(l04_linear_losses._one_sided)  # the same mistake, here, one by one
        assert batched == alone and "your numerical gradient at" in batched
    finally:
        session.kill()
