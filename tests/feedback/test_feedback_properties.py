"""Every exercise's declared properties: check() rejects an implementation that breaks one, naming it in words,
and a hidden test (``hold``) rejects it too, with the same words and no value."""

import copy
import importlib
import math
import pkgutil

import numpy as np
import pytest

import coursekit.lessons
from coursekit import nn, training
from coursekit.feedback import properties
from coursekit.lessons import l01_chain_rule, l02_computation_graphs, l03_activations, l04_linear_losses
from coursekit.lessons import l05_delta_recursion as l05
from coursekit.lessons import l06_training as l06
from coursekit.lessons import l07_efficiency as l07


def _exercise_sets():
    for module in pkgutil.iter_modules(coursekit.lessons.__path__):
        yield module.name, importlib.import_module(f"coursekit.lessons.{module.name}").exercises


def _writing_into_its_input(correct):
    """``correct``, then a write into the first array (or list) among its arguments: breaks 'inputs kept'."""
    def wrong(*args):
        result = correct(*copy.deepcopy(args))
        for arg in args:
            target = arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], tuple) else arg
            target = target[0] if isinstance(target, tuple) else target
            if isinstance(target, np.ndarray) and target.dtype.kind == "f":
                target.flat[0] += 1.0
                return result
            if isinstance(target, list):
                target.reverse()
                return result
        if any(isinstance(arg, np.ndarray) and arg.dtype.kind in "iu" for arg in args):
            return result  # only integers (lesson 03's check of an int array): a float input is where it writes
        raise AssertionError("no argument to write into")
    return wrong


def _central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def _chain(functions, derivatives, x):
    slope, value = 1.0, x
    for f, df in zip(functions, derivatives, strict=True):
        slope, value = slope * df(value), f(value)
    return slope


def _softmax_global_shift(z, labels):
    n = z.shape[0]
    shifted = z - z.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dz = np.exp(log_p)
    dz[np.arange(n), labels] -= 1
    return float(-log_p[np.arange(n), labels].sum() / n), dz / n


def _sigmoid_global_shift(x):
    m = max(float(np.max(x)), 0.0)  # one shift for the whole array: right for each element alone
    return np.exp(x - m) / (np.exp(x - m) + np.exp(-m))






def _global_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def _forward_global_softmax(params, x, hidden, output):
    f = nn.ACTIVATIONS[hidden][0]
    zs, acts = [], [x]
    for index, (W, b) in enumerate(params):
        z = acts[-1] @ W.T + b
        last = index == len(params) - 1
        a = (_global_softmax(z) if output == "softmax" else nn.ACTIVATIONS[output][0](z)) if last else f(z)
        zs.append(z)
        acts.append(a)
    return acts[-1], {"z": zs, "a": acts}


def _layer_accumulating(base):
    class Accumulating(base):
        def backward(self, dout):
            kept = {key: value.copy() for key, value in self.grads.items()}
            dx = super().backward(dout)
            for key in self.grads:
                self.grads[key] = self.grads[key] + kept.get(key, 0.0)
            return dx
    return Accumulating


def _layer_forward_in_place(base):
    class InPlace(base):
        def forward(self, x):
            out = super().forward(x.copy())
            np.maximum(x, 0.0, out=x)  # the caller's negative entries zeroed
            return out
    return InPlace


def _layer_cache_consumed(base):
    class Consumed(base):
        def backward(self, dout):
            dx = super().backward(dout)
            for name in ("x", "y"):
                if isinstance(getattr(self, name, None), np.ndarray):
                    setattr(self, name, getattr(self, name) * 0.5)
            if hasattr(self, "positive"):
                self.positive = np.zeros_like(self.positive)
            return dx
    return Consumed


def _layer_sharing_its_cache(base):
    """``base`` with what backward needs kept where every layer of the class finds it (red team U): right for one
    layer at a time, wrong in a network that uses the class twice."""
    class Shared(base):
        last_input: list = []  # on the class: shared by every layer of it, as a module-level variable would be

        def forward(self, x):
            Shared.last_input[:] = [np.array(x, dtype=np.float64, copy=True)]
            return super().forward(x)

        def backward(self, dout):
            super().forward(Shared.last_input[0])  # the cache of whichever layer of the class ran forward last
            return super().backward(dout)
    return Shared


def _linear_sharing_its_grads(base):
    """A Linear whose grads dict is a mutable default argument: every layer of the class has the same one (red team
    W: right for one layer at a time, and a network's second layer holds the first's gradients)."""
    class SharedGrads(base):
        def __init__(self, n_in, n_out, rng, grads={}):  # noqa: B006 -- the mistake itself
            super().__init__(n_in, n_out, rng)
            self.grads = grads

        def backward(self, dout):
            dx = super().backward(dout)
            self.grads.update(W=dout.T @ self.x, b=dout.sum(axis=0))
            return dx
    return SharedGrads


def _linear_sharing_its_params(base):
    """A Linear whose params dict is a mutable default argument, filled by every layer it builds (red team W)."""
    class SharedParams(base):
        def __init__(self, n_in, n_out, rng, params={}):  # noqa: B006 -- the mistake itself
            super().__init__(n_in, n_out, rng)
            params.update(self.params)
            self.params = params
    return SharedParams


class _Mlp(nn.Sequential):
    def __init__(self, sizes, activation, rng):
        super().__init__(nn.mlp(sizes, {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation],
                                rng).layers)


class _MlpAccumulating(_Mlp):
    def backward(self, dout):
        kept = {key: value.copy() for key, value in self.grads.items()}
        dx = super().backward(dout)
        for key, value in kept.items():
            self.grads[key] += value
        return dx


def _recursive_backward(self):
    order, seen = [], set()

    def build(node):
        if id(node) not in seen:
            seen.add(id(node))
            for child in node._prev:
                build(child)
            order.append(node)
    build(self)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


_KEPT: list = []


def _module_level_backward(self):
    stack = [(self, False)]
    while stack:
        node, done = stack.pop()
        if done:
            _KEPT.append(node)
        elif node not in _KEPT:
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    self.grad = 1.0
    for node in reversed(_KEPT):
        node._backward()


def _engine(backward):
    return type("Engine", (l02_computation_graphs._Value,), {"backward": backward})




def _fit_shuffling_data(model, x, y, epochs, lr, batch_size=32, seed=0):
    history = training.fit(model, x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    x *= 1 + 1e-12  # "normalised" in place: too little to change what it learned
    return history


def _sgd_zeroing_grads(params, grads, lr):
    training.sgd_step(params, grads, lr)
    for value in grads.values():
        value[...] = 0.0


def _norms_shuffling(model, x, y):
    norms = training.gradient_norms(model, x, y)
    x *= 1 + 1e-12
    return norms


def _backward_popping_cache(params, cache, delta_L, hidden):
    grads = l05._backward(params, cache, delta_L, hidden)
    cache["a"].pop()  # the cache that forward made is consumed
    return grads




# (lesson module, exercise, an implementation that breaks one property, the property's words)
BROKEN = [
    (l01_chain_rule, "central_difference", lambda f, x, h=1e-5: _central(f, x), "your h is not used"),
    (l01_chain_rule, "chain_rule", _writing_into_its_input(_chain), properties.INPUT_CHANGED),
    (l02_computation_graphs, "backward", _engine(_recursive_backward), l02_computation_graphs.DEEP_GRAPH),
    (l02_computation_graphs, "backward", _engine(_module_level_backward), l02_computation_graphs.FRESH_GRAPHS),
    (l03_activations, "stable_sigmoid", _writing_into_its_input(nn.sigmoid), properties.INPUT_CHANGED),
    (l03_activations, "stable_sigmoid", _sigmoid_global_shift, properties.ROWS),
    (l03_activations, "sigmoid_grad", _writing_into_its_input(lambda x: nn.sigmoid(x) * (1 - nn.sigmoid(x))),
     properties.INPUT_CHANGED),
    (l04_linear_losses, "Linear", _layer_accumulating(nn.Linear), properties.LAYER_REPEAT),
    (l04_linear_losses, "Linear", _layer_forward_in_place(nn.Linear), "changed the array you passed in"),
    (l04_linear_losses, "mse_loss", _writing_into_its_input(nn.mse_loss), properties.INPUT_CHANGED),
    (l04_linear_losses, "bce_with_logits", _writing_into_its_input(nn.bce_with_logits), properties.INPUT_CHANGED),
    (l04_linear_losses, "softmax_cross_entropy", _softmax_global_shift, properties.ROWS),
    (l04_linear_losses, "softmax_cross_entropy", _writing_into_its_input(nn.softmax_cross_entropy),
     properties.INPUT_CHANGED),
    (l05, "hand_deltas", _writing_into_its_input(l05._hand_deltas), properties.INPUT_CHANGED),
    (l05, "forward", _forward_global_softmax, properties.ROWS),
    (l05, "forward", _writing_into_its_input(l05._forward), properties.INPUT_CHANGED),
    (l05, "output_delta", _writing_into_its_input(l05._output_delta), properties.INPUT_CHANGED),
    (l05, "backward_step", _writing_into_its_input(l05._backward_step), properties.INPUT_CHANGED),
    (l05, "MLP", _MlpAccumulating, properties.LAYER_REPEAT),
    (l05, "backward", _backward_popping_cache, properties.INPUT_CHANGED),
    (l06, "sgd_step", _sgd_zeroing_grads, properties.INPUT_CHANGED),
    (l06, "train", _fit_shuffling_data, properties.INPUT_CHANGED),
    (l06, "layer_gradient_norms", _norms_shuffling, properties.INPUT_CHANGED),
    (l07, "mlp_jvp", _writing_into_its_input(l07._jvp), properties.INPUT_CHANGED),
    (l04_linear_losses, "gradient_check", _writing_into_its_input(l04_linear_losses._reference_check),
     properties.INPUT_CHANGED),
    (l04_linear_losses, "gradient_check", lambda f, x, grad, h=1e-5: l04_linear_losses._reference_check(f, x, grad),
     "your h is not used"),
    (l04_linear_losses, "LayerNorm", _layer_forward_in_place(l04_linear_losses._LayerNorm),
     "changed the array you passed in"),
    (l04_linear_losses, "LayerNorm", _layer_cache_consumed(l04_linear_losses._LayerNorm), properties.LAYER_REPEAT),
    (l04_linear_losses, "Linear", _layer_sharing_its_cache(nn.Linear), properties.LAYER_APART),
    (l04_linear_losses, "Linear", _linear_sharing_its_grads(nn.Linear), properties.LAYER_APART),
    (l04_linear_losses, "Linear", _linear_sharing_its_params(nn.Linear), properties.LAYER_APART),
    (l04_linear_losses, "LayerNorm", _layer_sharing_its_cache(l04_linear_losses._LayerNorm), properties.LAYER_APART),
    (l05, "MLP", _layer_sharing_its_cache(_Mlp), properties.LAYER_APART),
] + [(l03_activations, name, broken(getattr(nn, name)), words)
     for name in ("Sigmoid", "ReLU", "Tanh")
     for broken, words in ((_layer_forward_in_place, "changed the array you passed in"),
                           (_layer_cache_consumed, properties.LAYER_REPEAT),
                           (_layer_sharing_its_cache, properties.LAYER_APART))]


@pytest.mark.parametrize(("lesson", "name", "broken", "words"), BROKEN,
                         ids=[f"{lesson.__name__.rsplit('.', 1)[1]}:{name}:{i}"
                              for i, (lesson, name, _, _) in enumerate(BROKEN)])
def test_check_rejects_a_broken_property_and_names_it(lesson, name, broken, words):
    result = lesson.exercises.evaluate(name, broken)
    assert result.status in ("failed", "error"), result.message
    # a write into an argument of a value case is found by the value cases themselves, in their own words
    by_cases = words == properties.INPUT_CHANGED and "changed its input argument" in result.message
    assert by_cases or ("the value cases pass, but" in result.message and str(words) in result.message), result.message


@pytest.mark.parametrize(("lesson", "name", "broken", "words"), BROKEN,
                         ids=[f"{lesson.__name__.rsplit('.', 1)[1]}:{name}:{i}"
                              for i, (lesson, name, _, _) in enumerate(BROKEN)])
def test_a_hidden_test_rejects_it_with_the_same_words_and_no_value(lesson, name, broken, words):
    with pytest.raises(AssertionError) as failure:
        properties.hold(lesson.exercises[name], broken)
    message = str(failure.value)
    assert message.startswith("a hidden test found that") and str(words) in message
    assert not any(ch.isdigit() for ch in message.replace("float32", "").replace("float64", "")), message


def test_every_exercise_with_arrays_or_state_declares_properties():
    without = {"graph_gradients", "value_add_mul", "more_operations", "derived_operations", "neuron",
               "branch_gradient", "verify_derivative", "hand_derivative", "numerical_passes"}
    for module, exercises in _exercise_sets():
        for name in exercises.names():
            if name not in without:
                assert exercises[name].properties, f"{module}: {name} declares no property"


def test_every_exercise_is_covered_by_a_broken_implementation():
    covered = {(lesson.exercises.title, name) for lesson, name, _, _ in BROKEN}
    for module, exercises in _exercise_sets():
        for name in exercises.names():
            if exercises[name].properties and name != "chain_multiplications":
                assert (exercises.title, name) in covered, f"{module}: {name}"


def test_the_reference_of_every_exercise_keeps_every_property():
    """The oracles and reference classes the lessons compare with pass their own properties."""
    assert properties.verdict("central_difference", l01_chain_rule.exercises["central_difference"].properties,
                              _central) is None
    assert properties.verdict("backward", l02_computation_graphs.BACKWARD_PROPERTIES,
                              l02_computation_graphs._Value) is None
    for lesson, name, obj in [(l03_activations, "stable_sigmoid", nn.sigmoid), (l03_activations, "ReLU", nn.ReLU),
                              (l04_linear_losses, "Linear", nn.Linear),
                              (l04_linear_losses, "softmax_cross_entropy", nn.softmax_cross_entropy),
                              (l04_linear_losses, "gradient_check", l04_linear_losses._reference_check),
                              (l04_linear_losses, "LayerNorm", l04_linear_losses._LayerNorm),
                              (l05, "forward", l05._forward), (l05, "MLP", _Mlp), (l06, "train", training.fit),
                              (l07, "mlp_jvp", l07._jvp), (l07, "chain_multiplications", l07._chain)]:
        assert properties.verdict(name, lesson.exercises[name].properties, obj) is None, name


def test_a_dims_list_reversed_in_place_is_caught():
    def reversing(dims, order):
        cost = l07._chain(list(dims), order)
        if order == "reverse":
            dims.reverse()
        return cost
    result = l07.exercises.evaluate("chain_multiplications", reversing)
    assert result.status == "failed" and str(properties.INPUT_CHANGED) in result.message


def test_a_float32_result_is_named_when_the_values_pass():
    prop = properties.dtype_kept((np.array([0.5, 0.25]),))
    assert properties.verdict("f", [prop], lambda x: x.astype(np.float32)).status == "failed"
    assert properties.verdict("f", [prop], lambda x: x * 2) is None


def test_an_argument_is_honoured_only_when_changing_it_changes_the_result():
    prop = properties.honours("scale", 1, 3.0, (np.array([1.0, 2.0]), 2.0))
    assert properties.verdict("f", [prop], lambda x, s: x * s) is None
    failed = properties.verdict("f", [prop], lambda x, s: x * 2.0)
    assert failed.status == "failed" and "your scale is not used" in failed.message


def _remembering_by_shape(x, s):
    """Right on its first call for each shape of x, then the first answer again (a red team's memo)."""
    return _REMEMBERED.setdefault(np.shape(x), x * s)


_REMEMBERED: dict = {}


def test_an_argument_changed_by_a_function_of_the_case_catches_results_remembered_by_the_other_arguments():
    prop = properties.honours("x", 0, properties.ChangedBy(lambda args: 2 * args[0]), (np.array([1.0, 2.0]), 3.0))
    assert properties.verdict("f", [prop], lambda x, s: x * s) is None
    _REMEMBERED.clear()
    failed = properties.verdict("f", [prop], _remembering_by_shape)
    assert failed.status == "failed" and "your x is not used" in failed.message
    # a hidden test's case of another shape gets its own change: x doubled, of its own shape
    hidden = prop.on((np.ones((2, 3)), 0.5))
    assert hidden.problem(lambda x, s: x * s) is None
    assert "array of shape (2, 3)" in hidden.problem(_remembering_by_shape)


def test_an_exception_while_checking_a_property_is_an_error_that_names_the_property():
    result = l02_computation_graphs.exercises.evaluate("backward", _engine(_recursive_backward))
    assert result.status == "failed" and "RecursionError" in result.message
    prop = properties.repeatable((1.0,))
    calls = []

    def second_call_raises(x):
        calls.append(x)
        if len(calls) > 1:
            raise ValueError("boom")
        return x
    error = properties.verdict("f", [prop], second_call_raises)
    assert error.status == "error" and "ValueError: boom" in error.message and str(properties.REPEAT) in error.message


def test_hold_reports_a_student_exception_by_kind_only():
    def raising(f, x, h=1e-5):
        error = ValueError(f"secret {x}")
        error.from_student = True
        raise error
    with pytest.raises(AssertionError) as failure:
        properties.hold(l01_chain_rule.exercises["central_difference"], raising, [(np.log, 2.0, 0.3)])
    assert str(failure.value) == "a hidden test found that your h is not used: your code raised `ValueError`"


def test_the_deep_chain_is_deeper_than_the_recursion_limit():
    import sys

    assert l02_computation_graphs.DEEP > 1.4 * sys.getrecursionlimit()
    assert math.isclose(l02_computation_graphs._Value(1.0).data, 1.0)


def test_a_planned_property_checked_one_step_at_a_time_stops_where_its_judge_stops():
    made = []

    class Writing:
        def forward(self, x):
            made.append("forward")
            x[...] = 0.0  # writes into its input: the first judgement fails
            return x

        def backward(self, dout):
            made.append("backward")
            return dout

    prop = properties.layer_inputs_kept(lambda cls: cls(), np.ones(2), np.ones(2))
    result = properties.verdict("Writing", [prop], Writing)
    assert result.status == "failed" and "forward(x) wrote into x" in result.message
    assert made == ["forward"]  # backward was never called, as a rule written call by call would not


def test_in_a_learners_kernel_each_layer_property_builds_its_layer_once():
    built = []

    class Scale:
        def __init__(self):
            built.append(self)
            self.params, self.grads = {}, {}

        def forward(self, x):
            return 2.0 * x

        def backward(self, dout):
            return 2.0 * dout

    checks = properties.layer_properties(lambda cls: cls(), np.ones((2, 3)), np.ones((2, 3)))
    assert properties.verdict("Scale", checks, Scale) is None
    # the layers of each property made once, when it is checked: one each, two for two layers apart and two (a new
    # one and one used on other batches first) for backward following the last forward
    assert len(built) == len(checks) + 2


def test_a_property_declared_with_neither_a_rule_nor_a_plan_or_with_both_is_refused_in_plain_words():
    with pytest.raises(TypeError, match="needs a rule or a plan"):
        properties.Property("holds")
    with pytest.raises(TypeError, match="needs a rule or a plan"):
        properties.Property("holds", rule=lambda obj: None, plan=lambda obj: ([], lambda results: None))


def test_an_index_error_of_the_learners_code_in_a_property_is_its_error_never_the_end_of_its_calls():
    # red team U: the one-by-one results were iterated as a Sequence, which stops at the first IndexError
    def writes_then_fails(x):
        if x.shape == (3,):
            raise IndexError("the learner's own")
        x[0] = 99.0
        return x

    prop = properties.inputs_kept((np.ones(2),), (np.ones(3),))
    with pytest.raises(IndexError, match="the learner's own"):
        prop.problem(writes_then_fails)
