"""Lesson 05's exercise set: the deltas of the lesson's 2-2-1 network by hand, an L-layer MLP's forward pass, the
output delta, the recursion, and an MLP class.

Networks are lists of (W, b) with W of shape (n_l, n_(l-1)); a batch is rows. The cache of a
forward pass holds z = [Z1, ..., ZL] and a = [A0 = X, A1, ..., AL]. Gradients are checked
against numerical ones with the directional check, on random networks of several depths.
"""

from __future__ import annotations

import numpy as np

from coursekit import nn
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.compare import type_name
from coursekit.feedback.properties import (
    ChangedBy,
    dtype_kept,
    honours,
    inputs_kept,
    layer_properties,
    repeatable,
    row_wise,
)
from coursekit.feedback.relations import Diagnosis
from coursekit.gradcheck import check_gradient_directional, check_layer, same_gradient, set_parameter
from coursekit.i18n import N_

exercises = ExerciseSet(N_("05 The delta recursion"))
# The library's network answers MLP (its layers, which MLP is built from, stay available).
exercises.withhold("coursekit.nn:Sequential", "coursekit.nn:mlp")


# ---------------------------------------------------------------- the reference, for the checks
def random_network(sizes: list[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases for layer sizes [n0, n1, ..., nL], seeded."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]


def _forward(params, x, hidden, output):
    f = nn.ACTIVATIONS[hidden][0]
    z_list, a_list = [], [x]
    for index, (W, b) in enumerate(params):
        z = a_list[-1] @ W.T + b
        last = index == len(params) - 1
        a = (nn.softmax(z) if output == "softmax" else nn.ACTIVATIONS[output][0](z)) if last else f(z)
        z_list.append(z)
        a_list.append(a)
    return a_list[-1], {"z": z_list, "a": a_list}


def _output_delta(z_L, a_L, t, output, loss):
    n = z_L.shape[0]
    if loss == "mse":
        return nn.ACTIVATIONS[output][1](z_L) * (a_L - t) / n
    if loss == "bce":
        return (a_L - t) / n
    onehot = np.eye(z_L.shape[1])[t]
    return (a_L - onehot) / n


def _backward_step(delta, W, z_prev, hidden):
    return nn.ACTIVATIONS[hidden][1](z_prev) * (delta @ W)


def _backward(params, cache, delta_L, hidden):
    grads, delta = [None] * len(params), delta_L
    for index in reversed(range(len(params))):
        W, _ = params[index]
        grads[index] = (delta.T @ cache["a"][index], delta.sum(axis=0))
        if index > 0:
            delta = _backward_step(delta, W, cache["z"][index - 1], hidden)
    return grads


LOSSES = {  # the output/loss pairs of the lesson, with the loss as a function of the output
    ("identity", "mse"): lambda a, t: 0.5 * np.sum((a - t) ** 2) / len(a),
    ("sigmoid", "mse"): lambda a, t: 0.5 * np.sum((a - t) ** 2) / len(a),
    ("sigmoid", "bce"): lambda a, t: -np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)) / len(a),
    ("softmax", "ce"): lambda a, t: -np.sum(np.log(a[np.arange(len(a)), t])) / len(a),
}


def make_problem(sizes, hidden, output, loss, seed):
    """A seeded network, batch and targets for one output/loss pair."""
    rng = np.random.default_rng(seed + 1000)
    params = random_network(sizes, seed)
    x = rng.standard_normal((rng.integers(1, 6), sizes[0]))
    n = x.shape[0]
    if loss == "ce":
        t = rng.integers(0, sizes[-1], size=n)
    elif loss == "bce":
        t = (rng.random((n, sizes[-1])) > 0.5).astype(float)
    else:
        t = rng.standard_normal((n, sizes[-1]))
    return params, x, t


# ---------------------------------------------------------------- 0. the deltas of a 2-2-1 network, by hand
def _hand_deltas(W1, b1, W2, b2, x, t):
    """delta_out = dE/dz^2 and delta_hidden = dE/dz^1 of a 2-2-1 sigmoid network, E = 1/2 ||a^2 - t||^2, one
    example as 1-D arrays."""
    a1 = nn.sigmoid(W1 @ x + b1)
    a2 = nn.sigmoid(W2 @ a1 + b2)
    delta_out = (a2 - t) * a2 * (1 - a2)
    return delta_out, (W2.T @ delta_out) * a1 * (1 - a1)


def _hand_case(seed: int, scale: float = 1.0) -> tuple:
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((2, 2)), rng.standard_normal(2), scale * rng.standard_normal((1, 2)),
            rng.standard_normal(1), rng.standard_normal(2), rng.random(1))


HAND_CASES = [_hand_case(21), _hand_case(22, 2.0), _hand_case(23, 0.5)]


def _hand_output_slope_missing(W1, b1, W2, b2, x, t):
    a1 = nn.sigmoid(W1 @ x + b1)
    delta_out = nn.sigmoid(W2 @ a1 + b2) - t
    return delta_out, (W2.T @ delta_out) * a1 * (1 - a1)


def _hand_hidden_slope_missing(W1, b1, W2, b2, x, t):
    delta_out, _ = _hand_deltas(W1, b1, W2, b2, x, t)
    return delta_out, W2.T @ delta_out


def _hand_delta_o_sent_back(W1, b1, W2, b2, x, t):
    a1 = nn.sigmoid(W1 @ x + b1)
    a2 = nn.sigmoid(W2 @ a1 + b2)
    return (a2 - t) * a2 * (1 - a2), (W2.T @ (a2 - t)) * a1 * (1 - a1)


HAND_OUTPUT_FORM_AT_Z = (N_("the slope's output form a(1 - a) was evaluated at the sum z: it takes the unit's output "
                            "a = sigmoid(z); or use sigmoid'(z) itself"))
HAND_OUTPUT_FORM_BOTH = N_("the slope's output form a(1 - a) was evaluated at the sum z: it takes the unit's output "
                           "a = sigmoid(z); or use sigmoid'(z) itself (in both layers)")


def _hand_slope_at_z(hidden_only: bool):
    def wrong(W1, b1, W2, b2, x, t):
        z1 = W1 @ x + b1
        a1 = nn.sigmoid(z1)
        z2 = W2 @ a1 + b2
        a2 = nn.sigmoid(z2)
        delta_out = (a2 - t) * (a2 * (1 - a2) if hidden_only else z2 * (1 - z2))
        return delta_out, (W2.T @ delta_out) * z1 * (1 - z1)
    return wrong


def _hand_sign(W1, b1, W2, b2, x, t):
    delta_out, delta_hidden = _hand_deltas(W1, b1, W2, b2, x, t)
    return -delta_out, -delta_hidden


exercises.add(Exercise(
    "hand_deltas",
    cases=HAND_CASES,
    expected=_hand_deltas,
    rtol=1e-10, atol=1e-12,
    diagnosis=Diagnosis(arguments=("W1", "b1", "W2", "b2", "x", "t"),
                        parts=(N_("your delta_out"), N_("your delta_hidden")),
                        points={HAND_OUTPUT_FORM_AT_Z: _hand_slope_at_z(hidden_only=True),
                                HAND_OUTPUT_FORM_BOTH: _hand_slope_at_z(hidden_only=False)}),
    properties=[inputs_kept(*HAND_CASES), dtype_kept(HAND_CASES[0])],
    mistakes=[
        Mistake(N_("f' missing at the output"), _hand_output_slope_missing,
                N_("a^2 - t is dE/da^2, the lecture notes' delta^o. delta_out is dE/dz^2: the output unit's sigmoid "
                   "lies between z^2 and a^2, so its slope belongs in it too.")),
        Mistake(N_("f' missing in the hidden layer"), _hand_hidden_slope_missing,
                N_("W2.T @ delta_out is dE/da^1 (delta^o of the hidden units). delta_hidden is dE/dz^1: one more "
                   "factor, "
                   "the hidden units' own slope.")),
        Mistake(N_("delta^o sent back instead of delta^u"), _hand_delta_o_sent_back,
                N_("your delta_out is right, but the hidden step used a^2 - t: what travels back through W2 is "
                   "dE/dz^2 = delta_out, the error after the output unit's slope.")),
        Mistake(N_("sign"), _hand_sign, N_("the error is prediction minus target: dE/da^2 = a^2 - t = -(t - a^2).")),
    ],
    hints=[
        N_("Compute the forward pass first and keep each unit's sum z and output a. Then walk the lesson's drawing "
           "from E backward, one edge at a time, multiplying by each edge's local derivative."),
        N_("Each layer takes two steps, as in the lecture notes' delta^o and delta^u: first dE/da (at the output, "
           "from the squared error; at a hidden unit, through the weights it feeds), then times the sigmoid's slope "
           "at that unit, a(1 - a)."),
        N_("delta_hidden needs one entry per hidden unit: the transpose W2.T takes delta_out back to the two hidden "
           "units."),
    ],
))


# ---------------------------------------------------------------- 1. forward with a cache
FORWARD_CASES = [
    (random_network([3, 4, 2], 1), np.random.default_rng(2).standard_normal((5, 3)), "tanh", "identity"),
    (random_network([2, 5, 5, 3], 3), np.random.default_rng(4).standard_normal((1, 2)), "relu", "softmax"),
    # a sigmoid hidden layer: its z must reach the cache as it was, before the activation (not overwritten by it)
    (random_network([4, 3, 1], 5), np.random.default_rng(6).standard_normal((3, 4)), "sigmoid", "sigmoid"),
    # a hidden layer of width 1 and a wider output: a layer is hidden by its place, whatever its width
    (random_network([3, 1, 4], 10), np.random.default_rng(11).standard_normal((2, 3)), "tanh", "identity"),
    # tanh hidden layers and a sigmoid output (as in the backward check's deepest network): each its own activation
    (random_network([3, 4, 4, 2], 12), np.random.default_rng(13).standard_normal((3, 3)), "tanh", "sigmoid"),
]


def _forward_without_last_activation(params, x, hidden, output):
    out, cache = _forward(params, x, hidden, "identity")
    return out, cache


def _forward_activation_everywhere(params, x, hidden, output):
    f = nn.ACTIVATIONS[hidden][0]
    z_list, a_list = [], [x]
    for W, b in params:
        z_list.append(a_list[-1] @ W.T + b)
        a_list.append(f(z_list[-1]))
    return a_list[-1], {"z": z_list, "a": a_list}


def _forward_untransposed(params, x, hidden, output):
    return _forward([(W.T, b) for W, b in params], x, hidden, output)


def _forward_cache_without_input(params, x, hidden, output):
    out, cache = _forward(params, x, hidden, output)
    return out, {"z": cache["z"], "a": cache["a"][1:]}


def _rows_of_forward(rows: list, count: int) -> tuple:
    """(output, cache) of a batch from those of each row alone: every array stacked back by rows."""
    def stack(arrays):
        return np.concatenate([np.asarray(a) for a in arrays])
    caches = [cache for _, cache in rows]
    return (stack([out for out, _ in rows]),
            {key: [stack([c[key][i] for c in caches]) for i in range(len(caches[0][key]))] for key in ("z", "a")})


# a softmax output where one row's logits are huge: each row must be shifted by its own maximum
BIG_ROW = np.vstack([np.full((1, 2), 3000.0), np.random.default_rng(8).standard_normal((2, 2))])
FORWARD_MIXED = (random_network([2, 3, 3], 9), BIG_ROW, "relu", "softmax")
# Another network of the same sizes: an answer remembered by x (or by the sizes) is the other network's.
OTHER_WEIGHTS = ChangedBy(lambda args: [(-1.5 * W, b + 0.5) for W, b in args[0]])
FORWARD_PROPERTIES = [inputs_kept(FORWARD_CASES[0]), row_wise(_rows_of_forward, FORWARD_MIXED, batched=(1,)),
                      dtype_kept(FORWARD_CASES[1]), honours("params", 0, OTHER_WEIGHTS, FORWARD_CASES[0])]

exercises.add(Exercise(
    "forward",
    # and FORWARD_MIXED's huge row alone, against the reference (row_wise alone lets NaN in a row agree with NaN)
    cases=[*FORWARD_CASES, (FORWARD_MIXED[0], BIG_ROW[:1], "relu", "softmax")],
    expected=_forward,
    rtol=1e-10, atol=1e-12,
    diagnosis=Diagnosis(arguments=("params", "x", "hidden", "output"), parts=(N_("your output"), N_("your cache"))),
    properties=FORWARD_PROPERTIES,
    mistakes=[
        Mistake(N_("output activation missing"), _forward_without_last_activation,
                N_("the last layer applies the OUTPUT activation (identity, sigmoid or softmax), not nothing.")),
        Mistake(N_("hidden activation on the output"), _forward_activation_everywhere,
                N_("the hidden activation belongs to the hidden layers only; the last layer uses `output`.")),
        Mistake(N_("W not transposed"), _forward_untransposed,
                N_("with a batch as rows, z = a_prev @ W.T + b: W has shape (n_l, n_(l-1)), so it must be "
                   "transposed.")),
        Mistake(N_("cache without the input"), _forward_cache_without_input,
                N_("cache['a'] starts with a^0 = x: the weight gradient of layer 1 needs it.")),
    ],
    hints=[
        N_("Loop over the layers: z = a_prev @ W.T + b, then a = f(z); keep every z and every a."),
        N_("The last layer uses the output activation: identity, sigmoid, or a row-wise softmax "
           "(shift each row by its max before exp)."),
        N_("Return (a_L, {'z': [z1, ..., zL], 'a': [x, a1, ..., aL]})."),
    ],
))

# ---------------------------------------------------------------- 2. the output delta
def _delta_case(output, loss, seed):
    params, x, t = make_problem([3, 4, 3], "tanh", output, loss, seed)
    a_L, cache = _forward(params, x, "tanh", output)
    return (cache["z"][-1], a_L, t, output, loss)


DELTA_CASES = [_delta_case("identity", "mse", 1), _delta_case("sigmoid", "mse", 2), _delta_case("sigmoid", "bce", 3),
               _delta_case("softmax", "ce", 4)]


def _delta_without_slope(z_L, a_L, t, output, loss):
    if loss == "mse":
        return (a_L - t) / z_L.shape[0]
    return _output_delta(z_L, a_L, t, output, loss)


def _delta_summed(z_L, a_L, t, output, loss):
    return _output_delta(z_L, a_L, t, output, loss) * z_L.shape[0]


def _delta_sign(z_L, a_L, t, output, loss):
    return -_output_delta(z_L, a_L, t, output, loss)


def _rows_over_n(rows: list, count: int) -> np.ndarray:
    """A batch's delta from each row's alone: each row's (computed with N = 1) over the batch's N."""
    return np.concatenate([np.asarray(row) for row in rows]) / count


def _other_targets(args: tuple) -> np.ndarray:
    """Other targets for the same outputs: the next class for labels, 1 - t for numbers."""
    z_L, t = args[0], np.asarray(args[2])
    return (t + 1) % z_L.shape[1] if t.dtype.kind in "iu" else 1.0 - t


OTHER_TARGETS = ChangedBy(_other_targets)

exercises.add(Exercise(
    "output_delta",
    cases=DELTA_CASES,
    expected=_output_delta,
    rtol=1e-10, atol=1e-12,
    diagnosis=Diagnosis(arguments=("z_L", "a_L", "t", "output", "loss"), points={
        N_("f' was evaluated at the output a^L: the output activation's slope belongs at z^L, f'(z^L)"):
            lambda z_L, a_L, t, output, loss: nn.ACTIVATIONS[output][1](a_L) * (a_L - t) / len(z_L),
        N_("the slope's output form (a(1 - a) for the sigmoid) was evaluated at z^L: in that form it takes a^L"):
            lambda z_L, a_L, t, output, loss: nn.OUTPUT_SLOPES[output](z_L) * (a_L - t) / len(z_L),
    }),
    properties=[inputs_kept(*DELTA_CASES), row_wise(_rows_over_n, *DELTA_CASES, batched=(0, 1, 2)),
                dtype_kept(DELTA_CASES[0]), honours("t", 2, OTHER_TARGETS, DELTA_CASES[0], DELTA_CASES[3])],
    mistakes=[
        Mistake(N_("f'(z^L) missing"), _delta_without_slope,
                N_("with a sigmoid output and squared error, delta^L = f'(z^L) * (a^L - t) / N: the output "
                   "activation's slope is part of delta. (It cancels only for sigmoid + BCE; for softmax + CE the "
                   "whole "
                   "softmax Jacobian collapses the same way, to a^L - t.)")),
        Mistake(N_("sum instead of mean"), _delta_summed,
                N_("the cost is the mean over the batch: divide by N = z_L.shape[0].")),
        Mistake(N_("sign"), _delta_sign, N_("delta^L points from the target to the prediction: a^L - t, not t - a^L.")),
    ],
    hints=[
        N_("delta^L = f'(z^L) * grad_a C, elementwise. For the mean squared error grad_a C = (a^L - t) / N."),
        N_("For sigmoid + BCE the slope cancels; for softmax + CE the Jacobian diag(p) - p p^T collapses the same "
           "way (lesson 05, section 2): delta^L = (a^L - t) / N, with t one-hot for CE."),
        N_("For softmax + CE build the one-hot rows with np.eye(C)[t]."),
    ],
))

# ---------------------------------------------------------------- 3. one step back
def _step_case(sizes, hidden, seed, batch=3):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((sizes[1], sizes[0]))
    return (rng.standard_normal((batch, sizes[1])), W, rng.standard_normal((batch, sizes[0])), hidden)


STEP_CASES = [_step_case([4, 3], "tanh", 1), _step_case([3, 3], "sigmoid", 2), _step_case([2, 5], "relu", 3, 1)]


def _step_without_slope(delta, W, z_prev, hidden):
    return delta @ W


def _step_untransposed(delta, W, z_prev, hidden):
    return nn.ACTIVATIONS[hidden][1](z_prev) * (delta @ W.T)


def _step_activation_not_slope(delta, W, z_prev, hidden):
    return nn.ACTIVATIONS[hidden][0](z_prev) * (delta @ W)


def _rows_stacked(rows: list, count: int) -> np.ndarray:
    return np.concatenate([np.asarray(row) for row in rows])


exercises.add(Exercise(
    "backward_step",
    cases=STEP_CASES,
    expected=_backward_step,
    rtol=1e-10, atol=1e-12,
    diagnosis=Diagnosis(arguments=("delta", "W", "z_prev", "hidden"), points={
        N_("the slope's output form (1 - a**2 for tanh, a(1 - a) for the sigmoid) was evaluated at z_prev: z_prev is "
           "the pre-activation, so either use f'(z_prev) or first compute a = f(z_prev)"):
            lambda delta, W, z_prev, hidden: nn.OUTPUT_SLOPES[hidden](z_prev) * (delta @ W),
        N_("f' was evaluated at f(z_prev), the activation's output: the slope belongs at z_prev itself"):
            lambda delta, W, z_prev, hidden: nn.ACTIVATIONS[hidden][1](nn.ACTIVATIONS[hidden][0](z_prev)) * (delta @ W),
    }),
    properties=[inputs_kept(STEP_CASES[0]), row_wise(_rows_stacked, STEP_CASES[0], batched=(0, 2)),
                dtype_kept(STEP_CASES[0]), honours("W", 1, ChangedBy(lambda args: 1.0 - 2.0 * args[1]), STEP_CASES[0])],
    mistakes=[
        Mistake(N_("f' missing"), _step_without_slope,
                N_("multiply elementwise by f'(z^(l-1)): delta^(l-1) = f'(z^(l-1)) * (W^l)^T delta^l.")),
        Mistake(N_("W instead of W^T"), _step_untransposed,
                N_("per example delta^(l-1) uses (W^l)^T delta^l; with a batch as rows that is delta @ W (not W.T).")),
        Mistake(N_("f instead of f'"), _step_activation_not_slope,
                N_("multiply by the activation's DERIVATIVE f'(z^(l-1)), not by the activation f(z^(l-1)) itself.")),
    ],
    hints=[
        N_("Two factors take delta^l back one layer: the weights (transposed, since the error goes backward) and the "
           "hidden activation's slope at the cached z^(l-1), entry by entry (lesson 05, section 3)."),
        N_("Per example: delta^(l-1) = f'(z^(l-1)) ∘ (W^l)^T delta^l. With examples as rows, (W^l)^T delta^l for every "
           "row at once is delta @ W, of shape (N, n_(l-1))."),
        N_("It is one line: activation(hidden) gives (f, f'), and f' at z_prev multiplies, elementwise, the product "
           "of hint 2."),
    ],
))

# ---------------------------------------------------------------- 4. the whole backward pass
NETWORKS = [([3, 2], "tanh", "identity", "mse", 11), ([4, 5, 3], "relu", "softmax", "ce", 12),
            ([2, 6, 4, 1], "sigmoid", "sigmoid", "bce", 13), ([3, 4, 4, 4, 2], "tanh", "sigmoid", "mse", 14)]


def _cost_of_one_array(params, x, t, hidden, output, loss, layer_index, which):
    """The cost as a function of one weight matrix (which=0) or bias (which=1), the rest fixed."""
    def cost(value):
        changed = [list(pair) for pair in params]
        changed[layer_index][which] = value
        a_L = _forward([tuple(pair) for pair in changed], x, hidden, output)[0]
        return LOSSES[(output, loss)](a_L, t)
    return cost


def _backward_test(backward) -> str | None:
    for sizes, hidden, output, loss, seed in NETWORKS:
        params, x, t = make_problem(sizes, hidden, output, loss, seed)
        a_L, cache = _forward(params, x, hidden, output)
        delta_L = _output_delta(cache["z"][-1], a_L, t, output, loss)
        reference = _backward(params, cache, delta_L, hidden)  # before the learner's backward could touch cache
        grads = backward(params, {key: list(value) for key, value in cache.items()}, delta_L.copy(), hidden)
        if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
            return N_("backward must return one (dW, db) pair per layer: {count} for sizes {sizes}").format(
                count=len(params), sizes=sizes)
        for layer, ((W, b), pair, right) in enumerate(zip(params, grads, reference, strict=True), start=1):
            for name, index, value in ((f"W{layer}", 0, W), (f"b{layer}", 1, b)):
                if same_gradient(pair[index], right[index]):
                    continue  # the reference's own (checked numerically by the course's tests): nothing to find
                cost = _cost_of_one_array(params, x, t, hidden, output, loss, layer - 1, index)
                report = check_gradient_directional(cost, lambda _, got=pair[index]: got, value, name=f"d{name}")
                if not report.passed:
                    return N_("network {sizes} with {hidden} hidden layers, {output} output and "
                              "{loss}:\n{report}").format(
                        sizes=sizes, hidden=hidden, output=output, loss=loss, report=report)
    return None


def _backward_probe(backward):
    sizes, hidden, output, loss, seed = NETWORKS[3]
    params, x, t = make_problem(sizes, hidden, output, loss, seed)
    a_L, cache = _forward(params, x, hidden, output)
    delta_L = _output_delta(cache["z"][-1], a_L, t, output, loss)
    return backward(params, cache, delta_L, hidden)


def _backward_output_as_input(params, cache, delta_L, hidden):
    grads, delta = [None] * len(params), delta_L
    for index in reversed(range(len(params))):
        W, _ = params[index]
        grads[index] = (delta.T @ cache["a"][index + 1], delta.sum(axis=0))  # a^l where a^(l-1) belongs
        if index > 0:
            delta = _backward_step(delta, W, cache["z"][index - 1], hidden)
    return grads


def _backward_mean_bias(params, cache, delta_L, hidden):
    return [(dW, db / len(delta_L)) for dW, db in _backward(params, cache, delta_L, hidden)]


def _backward_without_slope(params, cache, delta_L, hidden):
    grads, delta = [None] * len(params), delta_L
    for index in reversed(range(len(params))):
        W, _ = params[index]
        grads[index] = (delta.T @ cache["a"][index], delta.sum(axis=0))
        delta = delta @ W
    return grads


def _backward_last_layer_only(params, cache, delta_L, hidden):
    return [(delta_L.T @ cache["a"][index], delta_L.sum(axis=0)) if index == len(params) - 1 else
            (np.zeros_like(W), np.zeros_like(b)) for index, (W, b) in enumerate(params)]


def _backward_case(index: int = 3) -> tuple:
    """(params, cache, delta_L, hidden) for one of NETWORKS, made afresh (the cache's lists are the caller's)."""
    sizes, hidden, output, loss, seed = NETWORKS[index]
    params, x, t = make_problem(sizes, hidden, output, loss, seed)
    a_L, cache = _forward(params, x, hidden, output)
    return params, cache, _output_delta(cache["z"][-1], a_L, t, output, loss), hidden


exercises.add(Exercise(
    "backward",
    test=_backward_test,
    probe=_backward_probe,
    diagnosis=Diagnosis(reference=_backward,
                        parts=tuple(N_("your (dW, db) of layer {i}").bind(i=i) for i in range(1, 5))),
    # the cache that forward made must still be there after backward: nothing popped, nothing written into
    # and an answer that depends on delta_L, afresh at every call (nothing remembered, nothing added up)
    properties=[inputs_kept(_backward_case), dtype_kept(_backward_case), repeatable(_backward_case),
                honours("delta_L", 2, ChangedBy(lambda args: -2.0 * args[2]), _backward_case)],
    mistakes=[
        Mistake(N_("f' missing"), _backward_without_slope,
                N_("each step back multiplies by f'(z^(l-1)): delta^(l-1) = f'(z^(l-1)) * (delta^l @ W^l).")),
        Mistake(N_("bias gradient a mean"), _backward_mean_bias,
                N_("db^l = delta^l summed over the batch: delta already carries the 1/N of the mean cost.")),
        Mistake(N_("delta times the wrong layer's activation"), _backward_output_as_input,
                N_("dW^l = delta^l (a^(l-1))^T: the activation that ENTERS layer l, cache['a'][i] for layer index i, "
                   "not the layer's own output.")),
        Mistake(N_("only the last layer"), _backward_last_layer_only,
                N_("every layer needs its own delta: step delta back through each W and f' before using it.")),
    ],
    hints=[
        N_("Go from the last layer to the first: dW^l = delta^l.T @ a^(l-1), db^l = delta^l.sum(0)."),
        N_("Then, unless you are at the first layer, step back: delta = f'(z^(l-1)) * (delta @ W^l)."),
        N_("With 0-based Python lists: layer index i uses cache['a'][i] (its input) and steps back with "
           "cache['z'][i-1]."),
    ],
))

# ---------------------------------------------------------------- 5. an MLP from layers
MLP_CASES = [([3, 4, 2], "tanh"), ([2, 3, 3, 3, 1], "relu"), ([5, 3, 1], "sigmoid")]  # each activation used


PARAMS_COPIES = (N_("writing into model.params[{key!r}] did not change the model: params looks like it hands out "
                    "copies of the weights, so an SGD step on them would never reach the layers. Return the layers' "
                    "own "
                    "arrays (a dict of them, built afresh if you like), not .copy() of them."))


def _mlp_test(cls) -> str | None:
    if not isinstance(cls, type):
        return N_("pass your class itself, MLP, not {kind}").format(kind=type_name(cls))
    for sizes, activation in MLP_CASES:
        model = cls(sizes, activation, np.random.default_rng(len(sizes)))
        expected = [f"{i}.{key}" for i in range(0, 2 * (len(sizes) - 1), 2) for key in ("W", "b")]
        keys = sorted(model.params)
        if keys != sorted(expected):
            return (N_("for sizes {sizes}, params should have the keys {expected} (layer index, then W or b), not "
                       "{keys}").format(
                sizes=sizes, expected=expected, keys=keys))
        x = np.random.default_rng(7).standard_normal((3, sizes[0]))
        network = random_network(sizes, 1)
        written = {}
        for i, (W, b) in enumerate(network):  # known weights, written into the model's own arrays
            for key, value in ((f"{2 * i}.W", W), (f"{2 * i}.b", b)):
                try:
                    set_parameter(model, key, value)
                except AttributeError:  # a read-only params that hands out copies: named just below
                    pass
                written[key] = value
        held = model.params  # read once, after every write (in the grader, each read is a round trip)
        for key, value in written.items():
            if not np.array_equal(np.asarray(held[key], dtype=np.float64), value):
                return PARAMS_COPIES.format(key=key)
        expected = _forward(network, x, activation, "identity")[0]
        out = np.asarray(model.forward(x.copy()))
        if out.shape != expected.shape or not np.allclose(out, expected, rtol=1e-10, atol=1e-12):
            return (N_("MLP{sizes} with {activation}: forward is not Linear, activation, ..., Linear (no "
                       "activation after the last layer)").format(
                sizes=tuple(sizes), activation=activation))
        report = check_layer(model, x)
        if not report.passed:
            return N_("MLP{sizes} with {activation}:\n{report}").format(
                sizes=tuple(sizes), activation=activation, report=report)
    return None


def _mlp_probe(cls):
    model = cls([3, 4, 2], "tanh", np.random.default_rng(3))
    x = np.random.default_rng(7).standard_normal((3, 3))
    out = model.forward(x)
    dx = model.backward(np.ones_like(out))
    return (out, dx, [model.grads[key] for key in sorted(model.grads)])


class _MlpActivationAfterLast(nn.Sequential):
    def __init__(self, sizes, activation, rng):
        act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(n_in, n_out, rng), act()]
        super().__init__(layers)


class _MlpLinearOnlyBackward(nn.Sequential):
    def __init__(self, sizes, activation, rng):
        act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        super().__init__(nn.mlp(sizes, act, rng).layers)

    def backward(self, dout):
        for layer in reversed(self.layers):
            if layer.params:  # the activations' backward is skipped
                dout = layer.backward(dout)
        return dout


class _ReferenceMlp(nn.Sequential):
    def __init__(self, sizes, activation, rng):
        kind = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        super().__init__(nn.mlp(sizes, kind, rng).layers)

MLP_X = np.random.default_rng(7).standard_normal((3, 3))
MLP_DOUT = np.random.default_rng(8).standard_normal((3, 2))

exercises.add(Exercise(
    "MLP",
    test=_mlp_test,
    probe=_mlp_probe,
    diagnosis=Diagnosis(reference=_ReferenceMlp,
                        parts=(N_("the output of your forward"), N_("the dx of your backward"), N_("your grads"))),
    properties=layer_properties(lambda cls: cls([3, 4, 2], "tanh", np.random.default_rng(3)), MLP_X, MLP_DOUT),
    mistakes=[
        Mistake(N_("activation after the last layer"), _MlpActivationAfterLast,
                N_("the last Linear layer has no activation after it: the output layer's activation belongs to the "
                   "loss.")),
        Mistake(N_("activations skipped in backward"), _MlpLinearOnlyBackward,
                N_("backward must go through EVERY layer in reverse order, the activations too: each multiplies "
                   "the gradient by its local slope.")),
    ],
    hints=[
        N_("Build a list: Linear, activation, Linear, activation, ..., Linear (no activation after the last)."),
        N_("forward feeds x through the list; backward feeds dout through the reversed list."),
        N_("params (and grads) is one dict built over enumerate(self.layers): for every layer, each of its own "
           "entries under the key f'{i}.{key}', the layer's array itself, not a copy."),
    ],
))
