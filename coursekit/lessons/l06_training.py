"""Lesson 06's exercise set: an SGD step, a training loop that learns the spirals, gradient norms per layer.

The training loop follows the reference protocol of coursekit.training exactly (seeded
permutation every epoch, loss of each batch before its update, epoch loss = mean of batch
losses), so its loss curve can be compared number for number.
"""

from __future__ import annotations

import functools

import numpy as np

from coursekit import datasets, nn, training
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.properties import ChangedBy, honours, inputs_kept, repeatable
from coursekit.feedback.relations import Diagnosis
from coursekit.i18n import N_

exercises = ExerciseSet(N_("06 Training"))
exercises.withhold("coursekit.training:sgd_step", "coursekit.training:fit", "coursekit.training:gradient_norms",
                   "coursekit.training:layer_norms")  # the library's training loop and its measurements
# The step changes the parameters it is given, and train the model: the grader's tests look at them after.
exercises.declare("sgd_step", mutates=(0,))
exercises.declare("train", mutates=(0,))


def _model(sizes=(3, 4, 2), layer=nn.Tanh, seed=0):
    return nn.mlp(list(sizes), layer, np.random.default_rng(seed))


# ---------------------------------------------------------------- 1. one SGD step
_X = np.random.default_rng(60).standard_normal((5, 3))
_Y = np.array([0, 1, 1, 0, 1])
LR = 0.1


def _after_one_step(step) -> list[np.ndarray]:
    """The change one step made to each parameter (a step of the wrong size then shows as a factor)."""
    model = _model()
    _, dz = nn.softmax_cross_entropy(model.forward(_X), _Y)
    model.backward(dz)
    before = {key: np.array(value, dtype=np.float64) for key, value in model.params.items()}
    step(model.params, model.grads, LR)
    return [np.asarray(model.params[key], dtype=np.float64) - before[key] for key in sorted(model.params)]


def _sgd_test(step) -> str | None:
    model = _model()
    before = {key: value.copy() for key, value in model.params.items()}
    _, dz = nn.softmax_cross_entropy(model.forward(_X), _Y)
    model.backward(dz)
    grads = {key: value.copy() for key, value in model.grads.items()}
    returned = step(model.params, model.grads, LR)
    for key in sorted(before):
        expected = before[key] - LR * grads[key]
        if np.array_equal(model.params[key], before[key]):
            hint = N_(" (your function returned a value; the model never sees it)") if returned is not None else ""
            return N_("the model's parameter {key} did not change{hint}").format(key=key, hint=hint)
        if not np.allclose(model.params[key], expected, rtol=1e-12, atol=1e-15):
            return N_("parameter {key} is not w - lr * grad after the step").format(key=key)
    return None


def _ascent(params, grads, lr):
    for key in params:
        params[key] += lr * grads[key]


def _rebinding(params, grads, lr):
    for key in params:
        params[key] = params[key] - lr * grads[key]  # a new array: the model keeps the old one


def _no_learning_rate(params, grads, lr):
    for key in params:
        params[key] -= grads[key]


def _step_case() -> tuple:
    """(params, grads, lr) of a fresh model after one backward pass."""
    model = _model()
    _, dz = nn.softmax_cross_entropy(model.forward(_X), _Y)
    model.backward(dz)
    return model.params, model.grads, LR


exercises.add(Exercise(
    "sgd_step",
    test=_sgd_test,
    probe=_after_one_step,
    diagnosis=Diagnosis(reference=training.sgd_step, factors={
        LR: N_("lr times the expected step: the learning rate applied twice (lr ** 2 where lr is meant?)")}),
    properties=[inputs_kept(_step_case, positions=(1,))],  # the parameters change; the gradients must not
    mistakes=[
        Mistake(N_("ascent"), _ascent, N_("subtract the gradient: it points uphill, and we want the loss to go down.")),
        Mistake(N_("rebinding"), _rebinding,
                N_("params[key] = params[key] - ... makes a NEW array and puts it in the dict, but model.params builds "
                   "a fresh dict each time: the layers still hold the old arrays. Update in place: params[key] -= "
                   "...")),
        Mistake(N_("no learning rate"), _no_learning_rate, N_("scale the step by the learning rate lr.")),
    ],
    hints=[
        N_("For every key: w <- w - lr * dL/dw."),
        N_("Change the arrays themselves (in place) so that the layers see the change."),
        N_("It is one line in a loop over the keys: an in-place subtraction (-=) on params[key], of the gradient "
           "scaled by lr."),
    ],
))

# ---------------------------------------------------------------- 2. the training loop
SMALL = datasets.spirals(n=24, seed=3)
# "It learns": a small tanh MLP on the two moons, with a fixed budget (the protocol's exactness is the 4-epoch curve's)
MOONS = datasets.moons(n=60, seed=5)
BUDGET = {"epochs": 30, "lr": 0.5, "batch_size": 10, "seed": 7}
TARGET = 0.95


def _small_history(train) -> list[float]:
    model = nn.mlp([2, 8, 2], nn.ReLU, np.random.default_rng(0))
    return list(train(model, *SMALL, epochs=4, lr=0.3, batch_size=16, seed=0))


@functools.cache
def _expected_small_history() -> tuple[float, ...]:
    """The protocol's own 4-epoch curve: the same for every check, so computed once."""
    return tuple(_small_history(training.fit))


# The signature's defaults (batch_size=32, seed=0) are part of the protocol: the lesson's own cells rely on them.
# 80 points (40 of each class): two batches of 32, then one of 16.
DEFAULTS_DATA = datasets.moons(n=40, seed=8)


def _default_history(train) -> list[float]:
    model = nn.mlp([2, 4, 2], nn.Tanh, np.random.default_rng(2))
    return list(train(model, *DEFAULTS_DATA, epochs=2, lr=0.3))


@functools.cache
def _expected_default_history() -> tuple[float, ...]:
    return tuple(_default_history(training.fit))


def _train_test(train) -> str | None:
    expected = list(_expected_small_history())
    got = _small_history(train)
    if len(got) != len(expected):
        return N_("train returned {count} losses for 4 epochs: one per epoch is expected").format(count=len(got))
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        return (N_("the loss curve differs from the protocol's: got {got}, expected "
                   "{expected} (same model, data and seed)").format(
            got=np.round(got, 6).tolist(), expected=np.round(expected, 6).tolist()))
    got, expected = _default_history(train), list(_expected_default_history())
    if len(got) != len(expected) or not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        return (N_("called without batch_size and seed, train gave {got}; with the signature's defaults "
                   "(batch_size=32, seed=0) the protocol gives {expected}").format(
            got=np.round(got, 6).tolist(), expected=np.round(expected, 6).tolist()))
    x, y = MOONS
    model = nn.mlp([2, 16, 2], nn.Tanh, np.random.default_rng(6))
    train(model, x.copy(), y.copy(), **BUDGET)
    reached = training.accuracy(model, x, y)
    if reached < TARGET:
        return (N_("after {budget_epochs} epochs the two moons are {reached:.1%} right; at least {target:.0%} "
                   "expected").format(
            budget_epochs=BUDGET['epochs'], reached=reached, target=TARGET))
    return None


def _fit_without_shuffling(model, x, y, epochs, lr, batch_size=32, seed=0):
    history = []
    for _ in range(epochs):
        losses = []
        for start in range(0, len(x), batch_size):
            loss, dz = nn.softmax_cross_entropy(model.forward(x[start:start + batch_size]), y[start:start + batch_size])
            model.backward(dz)
            training.sgd_step(model.params, model.grads, lr)
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return history


def _fit_last_batch_loss(model, x, y, epochs, lr, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, dz = nn.softmax_cross_entropy(model.forward(x[batch]), y[batch])
            model.backward(dz)
            training.sgd_step(model.params, model.grads, lr)
        history.append(float(loss))
    return history


def _fit_generator_per_epoch(model, x, y, epochs, lr, batch_size=32, seed=0):
    history = []
    for _ in range(epochs):
        rng = np.random.default_rng(seed)  # re-seeded every epoch: the same order each time
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, dz = nn.softmax_cross_entropy(model.forward(x[batch]), y[batch])
            model.backward(dz)
            training.sgd_step(model.params, model.grads, lr)
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return history


def _train_case() -> tuple:
    """A fresh small model and data, and the same budget each time (so that two calls must agree)."""
    x, y = SMALL
    return nn.mlp([2, 8, 2], nn.ReLU, np.random.default_rng(0)), x.copy(), y.copy(), 3, 0.3, 16, 0


exercises.add(Exercise(
    "train",
    test=_train_test,
    probe=_small_history,
    diagnosis=Diagnosis(reference=training.fit),
    # reproducible from its seed (a generator made once per call), and the data left in its order
    properties=[repeatable(_train_case), inputs_kept(_train_case, positions=(1, 2))],
    mistakes=[
        Mistake(N_("no shuffling"), _fit_without_shuffling,
                N_("shuffle every epoch: order = rng.permutation(len(x)), then take the batches in that order.")),
        Mistake(N_("last batch loss"), _fit_last_batch_loss,
                N_("an epoch's loss is the mean of the losses of all its batches, not the last one.")),
        Mistake(N_("re-seeded every epoch"), _fit_generator_per_epoch,
                N_("create the generator ONCE, before the epochs: re-seeding it inside the loop repeats the same "
                   "order every epoch.")),
    ],
    hints=[
        N_("rng = np.random.default_rng(seed) once; then for each epoch: order = rng.permutation(len(x))."),
        N_("For each batch of `order`: forward, softmax cross-entropy, backward, sgd_step; keep the batch's loss."),
        N_("Append the mean of the epoch's batch losses to the history; return the history."),
    ],
))

# ---------------------------------------------------------------- 3. gradient norms per layer
NORM_CASES = [(lambda: _model((2, 5, 5, 5, 2), nn.Sigmoid), *datasets.xor(n=10, seed=4)),
              (lambda: _model((2, 3, 2), nn.ReLU, 1), *datasets.moons(n=8, seed=5))]


def _norm_case() -> tuple:
    """A fresh model of NORM_CASES[1], and its data."""
    make, x, y = NORM_CASES[1]
    return make(), x, y


def _norms_probe(norms) -> list:
    return [np.asarray(norms(make(), x, y), dtype=float) for make, x, y in NORM_CASES]


def _norms_test(norms) -> str | None:
    for make, x, y in NORM_CASES:
        got = np.asarray(norms(make(), x, y), dtype=float)
        expected = np.asarray(training.gradient_norms(make(), x, y))
        if got.shape != expected.shape:
            return N_("expected one norm per weight matrix ({expected_size}), got {got_size}").format(
                expected_size=expected.size, got_size=got.size)
        if not np.allclose(got, expected, rtol=1e-10, atol=1e-14):
            return N_("got {got}, expected {expected}").format(got=np.round(got, 6).tolist(),
                                                              expected=np.round(expected, 6).tolist())
    return None


def _norms_of_weights(model, x, y):
    return [float(np.linalg.norm(v)) for k, v in model.params.items() if k.endswith("W")]


def _norms_reversed(model, x, y):
    return training.gradient_norms(model, x, y)[::-1]


def _norms_with_biases(model, x, y):
    _, dz = nn.softmax_cross_entropy(model.forward(x), y)
    model.backward(dz)
    return [float(np.linalg.norm(v)) for v in model.grads.values()]


exercises.add(Exercise(
    "layer_gradient_norms",
    test=_norms_test,
    probe=_norms_probe,
    diagnosis=Diagnosis(reference=training.gradient_norms),
    # and norms of this batch: ones remembered by the network's sizes are another batch's (or another network's)
    properties=[inputs_kept(_norm_case, positions=(1, 2)),
                honours("x", 1, ChangedBy(lambda args: 2.0 * args[1]), _norm_case)],
    mistakes=[
        Mistake(N_("norms of the weights"), _norms_of_weights,
                N_("measure the GRADIENTS: run forward, the loss and backward, then take the norms of grads, not "
                   "params.")),
        Mistake(N_("last layer first"), _norms_reversed, N_("list the layers from the input (first) to the output "
                                                            "(last).")),
        Mistake(N_("biases included"), _norms_with_biases,
                N_("one norm per weight matrix: skip the biases (keys ending in b).")),
    ],
    hints=[
        N_("Forward the batch, take the softmax cross-entropy, and call backward so that model.grads is filled."),
        N_("model.grads has keys like '0.W', '0.b', '2.W': keep the ones ending in 'W', in order."),
        N_("The result is one list comprehension over model.grads.items(): keep the keys ending in 'W' and take "
           "np.linalg.norm of each, as a float."),
    ],
))


@functools.lru_cache(maxsize=8)
def reference_training(n: int, data_seed: int, init_seed: int, epochs: int, lr: float, batch_size: int,
                       seed: int, sizes: tuple[int, ...] = (2, 16, 2),
                       layer: type = nn.Tanh) -> tuple[tuple[float, ...], dict[str, np.ndarray]]:
    """For the master's hidden test of ``train``: coursekit's own training loop (``training.fit``) on the moons
    (``n`` points, ``data_seed``) from a network of ``sizes`` with ``layer`` activations (``init_seed``; a 2-16-2
    tanh one unless told): its loss history and trained parameters, read-only. The same for every submission, so
    computed once per grading process."""
    x, y = datasets.moons(n=n, seed=data_seed)
    model = nn.mlp(list(sizes), layer, np.random.default_rng(init_seed))
    history = tuple(training.fit(model, x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed))
    params = {key: value.copy() for key, value in model.params.items()}
    for value in params.values():
        value.setflags(write=False)
    return history, params
