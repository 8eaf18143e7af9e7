"""Lesson 07's exercise set: what a gradient costs, counted exactly (so that it can be graded).

The forward-mode exercise uses lesson 05's conventions: a network is a list of (W, b) with
W of shape (n_l, n_(l-1)), a batch is rows, hidden layers use one activation, the output is linear.
"""

from __future__ import annotations

import numpy as np

from coursekit import nn
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.properties import ChangedBy, dtype_kept, honours, inputs_kept, row_wise
from coursekit.feedback.relations import Diagnosis
from coursekit.i18n import N_
from coursekit.viz.efficiency import chain_costs

exercises = ExerciseSet(N_("07 Why backprop is efficient"))
exercises.withhold("coursekit.viz.efficiency:chain_costs")  # the library's answer to chain_multiplications

# ---------------------------------------------------------------- 1. forward passes for a numerical gradient
PASS_CASES = [(10, "central"), (10, "forward"), (1, "central"), (1_000_000, "forward"), (7, "central")]


def _passes(n_params, method):
    return 2 * n_params if method == "central" else n_params + 1


exercises.add(Exercise(
    "numerical_passes",
    cases=PASS_CASES,
    expected=_passes,
    diagnosis=Diagnosis(arguments=("n_params", "method")),
    mistakes=[
        Mistake(N_("one per parameter"), lambda n, method: n,
                N_("a central difference evaluates f at x + h and at x - h for EVERY parameter: 2 per parameter; "
                   "a forward difference needs f(x) once plus f(x + h) per parameter.")),
        Mistake(N_("same for both"), lambda n, method: 2 * n,
                N_("the forward difference shares f(x) between all parameters: n + 1 passes, not 2n.")),
        Mistake(N_("f(x) counted for central"), lambda n, method: 2 * n + 1 if method == "central" else n + 1,
                N_("the central difference never uses f(x) itself: 2n passes.")),
    ],
    hints=[
        N_("Count the evaluations of f: which points does each formula need, per parameter?"),
        N_("Central: f(x + h e_i) and f(x - h e_i) for each i. Forward: f(x + h e_i) for each i, and f(x)."),
        N_("It is one line: a count in n_params chosen by method, from hint 2's list (the forward difference's extra "
           "pass is f(x) itself)."),
    ],
))

# ---------------------------------------------------------------- 2. multiplying a chain of Jacobians
CHAIN_CASES = [([5, 3, 1], "forward"), ([5, 3, 1], "reverse"), ([100, 50, 50, 1], "forward"),
               ([100, 50, 50, 1], "reverse"), ([1, 50, 50, 100], "forward"), ([1, 50, 50, 100], "reverse"),
               ([4, 4], "forward"), ([3], "reverse"), ([6, 2, 9, 3, 5], "reverse")]  # [3]: no layer at all


def _chain(dims, order):
    forward, reverse = chain_costs(dims)
    return forward if order == "forward" else reverse


def _chain_swapped(dims, order):
    return _chain(dims, "reverse" if order == "forward" else "forward")


def _chain_matrix_vector(dims, order):
    return sum(dims[k] * dims[k - 1] for k in range(2 if order == "forward" else 1, len(dims) - (order == "reverse")))


def _chain_every_product(dims, order):
    return sum(dims[k] * dims[k - 1] * (dims[0] if order == "forward" else dims[-1]) for k in range(1, len(dims)))


exercises.add(Exercise(
    "chain_multiplications",
    cases=CHAIN_CASES,
    expected=_chain,
    diagnosis=Diagnosis(arguments=("dims", "order")),
    properties=[inputs_kept(([6, 2, 9, 3, 5], "reverse"), ([6, 2, 9, 3, 5], "forward"))],  # dims.reverse()?
    mistakes=[
        Mistake(N_("orders swapped"), _chain_swapped,
                N_("forward mode starts from the INPUT side, J_2 @ J_1 first, so it carries d0 columns; reverse mode "
                   "starts from the output side, J_L @ J_(L-1) first, carrying dL rows.")),
        Mistake(N_("matrix-vector cost"), _chain_matrix_vector,
                N_("here the whole Jacobian is formed, so each step is a matrix-matrix product: (a x b) @ (b x c) "
                   "costs "
                   "a*b*c multiplications, not a*b.")),
        Mistake(N_("first Jacobian counted"), _chain_every_product,
                N_("the first Jacobian of each order is taken as it is: only the L - 1 products that follow cost "
                   "multiplications.")),
    ],
    hints=[
        N_("J_k has shape (d_k, d_(k-1)). Multiplying an (a x b) by a (b x c) matrix costs a*b*c multiplications."),
        N_("Forward: M = J_1, then M = J_k @ M for k = 2..L; M always has d0 columns. Reverse: M = J_L, then "
           "M = M @ J_k for k = L-1..1; M always has dL rows."),
        N_("forward: sum over k = 2..L of d_k * d_(k-1) * d_0; reverse: sum over k = 1..L-1 of d_L * d_k * d_(k-1)."),
    ],
))

# ---------------------------------------------------------------- 3. a forward-mode pass for the MLP


def _network(sizes, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]


def _jvp(params, tangents, x, hidden, slope=None):
    f, df = nn.ACTIVATIONS[hidden]
    df = df if slope is None else slope
    a, da = x, np.zeros_like(x)
    for index, ((W, b), (dW, db)) in enumerate(zip(params, tangents, strict=True)):
        z = a @ W.T + b
        dz = da @ W.T + a @ dW.T + db
        if index < len(params) - 1:
            a, da = f(z), df(z) * dz
        else:
            a, da = z, dz
    return a, da


def _jvp_case(sizes, hidden, seed, batch=3):
    rng = np.random.default_rng(seed + 100)
    return (_network(sizes, seed), _network(sizes, seed + 50), rng.standard_normal((batch, sizes[0])), hidden)


JVP_CASES = [_jvp_case([3, 4, 2], "tanh", 1), _jvp_case([2, 5, 5, 1], "sigmoid", 2), _jvp_case([4, 3], "relu", 3, 1),
             _jvp_case([3, 6, 2, 4, 2], "relu", 4)]


def _jvp_without_slope(params, tangents, x, hidden):
    f, _ = nn.ACTIVATIONS[hidden]
    a, da = x, np.zeros_like(x)
    for index, ((W, b), (dW, db)) in enumerate(zip(params, tangents, strict=True)):
        z = a @ W.T + b
        dz = da @ W.T + a @ dW.T + db
        a, da = (f(z), dz) if index < len(params) - 1 else (z, dz)
    return a, da


def _jvp_weights_only(params, tangents, x, hidden):
    f, df = nn.ACTIVATIONS[hidden]
    a, da = x, np.zeros_like(x)
    for index, ((W, b), (dW, db)) in enumerate(zip(params, tangents, strict=True)):
        z = a @ W.T + b
        dz = a @ dW.T + db  # the tangent arriving from the layer below is dropped
        a, da = (f(z), df(z) * dz) if index < len(params) - 1 else (z, dz)
    return a, da


def _jvp_no_bias(params, tangents, x, hidden):
    return _jvp(params, [(dW, np.zeros_like(db)) for dW, db in tangents], x, hidden)


def _rows_of_pairs(rows: list, count: int) -> tuple:
    """(a, da) of a batch from those of each row alone, stacked by rows."""
    return tuple(np.concatenate([np.asarray(row[k]) for row in rows]) for k in (0, 1))


exercises.add(Exercise(
    "mlp_jvp",
    cases=JVP_CASES,
    expected=_jvp,
    rtol=1e-10, atol=1e-12,
    diagnosis=Diagnosis(arguments=("params", "tangents", "x", "hidden"), parts=(N_("your output"), N_("your tangent")),
                        points={
        N_("the slope's output form (1 - a**2 for tanh, a(1 - a) for the sigmoid) was evaluated at z: in that form it "
           "takes a = f(z)"):
            lambda params, tangents, x, hidden: _jvp(params, tangents, x, hidden, nn.OUTPUT_SLOPES[hidden]),
        N_("f' was evaluated at a = f(z), the activation's output: the slope belongs at z"):
            lambda params, tangents, x, hidden: _jvp(params, tangents, x, hidden,
                                                     lambda z: nn.ACTIVATIONS[hidden][1](nn.ACTIVATIONS[hidden][0](z))),
    }),
    # the tangent of another direction: one remembered by params and x is the first direction's
    properties=[inputs_kept(JVP_CASES[0]), row_wise(_rows_of_pairs, JVP_CASES[3], batched=(2,)),
                dtype_kept(JVP_CASES[0]),
                honours("tangents", 1, ChangedBy(lambda args: [(-2.0 * dW, 1.0 - db) for dW, db in args[1]]),
                        JVP_CASES[0])],
    mistakes=[
        Mistake(N_("f' missing"), _jvp_without_slope,
                N_("through an activation the tangent is multiplied by its slope: da = f'(z) * dz.")),
        Mistake(N_("incoming tangent dropped"), _jvp_weights_only,
                N_("z = a W^T + b changes both because W changes AND because a changed: dz = da W^T + a dW^T + db.")),
        Mistake(N_("bias tangent missing"), _jvp_no_bias, N_("the bias moves too: add db to dz.")),
    ],
    hints=[
        N_("Carry a pair (a, da) forward: a the value, da its change along the direction. At the input, da = 0."),
        N_("Product rule on z = a W^T + b: dz = da W^T + a dW^T + db."),
        N_("Hidden layers: a, da = f(z), f'(z) * dz. The output layer is linear: a, da = z, dz."),
    ],
))
