"""Computation graphs for lesson 02: a small tape of scalar operations, its passes, and its drawing.

A `Tape` lists nodes in the order they are computed. `forward()` fills the values; `backward()`
walks the tape in reverse, one node per step, so that a widget can show the pass step by step.
Drawn with matplotlib alone (no Graphviz).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from coursekit.i18n import N_, fonts

# Each operation: how to compute it, and the local derivative with respect to each input.
OPERATIONS = {
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "square": (lambda a: a * a, lambda a: (2 * a,)),
    "exp": (np.exp, lambda a: (np.exp(a),)),
}
SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "square": "²", "exp": "exp"}


@dataclass
class Node:
    """One value of the computation: an input, a constant, or an operation on earlier nodes."""

    name: str
    op: str                          # "input", "const", or a key of OPERATIONS
    inputs: tuple[str, ...] = ()
    value: float = 0.0
    grad: float | None = None        # None until the backward pass has reached it
    local: tuple[float, ...] = ()    # local derivatives d(self)/d(input), filled by forward


@dataclass
class Tape:
    """Nodes in the order they are computed; the last node is the output."""

    nodes: list[Node] = field(default_factory=list)

    def __getitem__(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def forward(self, **inputs: float) -> float:
        """Compute every node from the inputs given by name; store each value and its local derivatives."""
        for node in self.nodes:
            if node.op == "input":
                node.value = float(inputs[node.name])
            elif node.op != "const":
                compute, derivatives = OPERATIONS[node.op]
                args = [self[name].value for name in node.inputs]
                node.value = float(compute(*args))
                node.local = tuple(float(d) for d in derivatives(*args))
            node.grad = None
        return self.nodes[-1].value

    def backward(self, steps: int | None = None) -> list[str]:
        """Run the first ``steps`` backward steps (all by default); return the names of the nodes processed.

        A step takes the next node from the end of the tape and adds its gradient times each local
        derivative into its inputs' gradients, so a node used twice receives two contributions.
        """
        for node in self.nodes:
            node.grad = None
        self.nodes[-1].grad = 1.0  # dL/dL = 1
        done = []
        for node in reversed(self.nodes):
            if steps is not None and len(done) >= steps:
                break
            for name, local in zip(node.inputs, node.local, strict=True):
                child = self[name]
                child.grad = (child.grad or 0.0) + node.grad * local
            done.append(node.name)
        return done


def tape(*lines: tuple) -> Tape:
    """Build a tape from tuples (name, op, *inputs), e.g. tape(("x", "input"), ("a", "add", "x", "y"))."""
    return Tape([Node(name, op, tuple(inputs)) for name, op, *inputs in lines])


def difference_of_squares() -> Tape:
    """f(x, y) = (x + y)(x - y), with a = x + y and b = x - y."""
    return tape(("x", "input"), ("y", "input"), ("a", "add", "x", "y"), ("b", "sub", "x", "y"),
                ("f", "mul", "a", "b"))


def shifted_square() -> Tape:
    """y = (x + 2)^2 + 5, with the constants as nodes of their own."""
    return tape(("x", "input"), ("two", "const"), ("u", "add", "x", "two"), ("s", "square", "u"),
                ("five", "const"), ("y", "add", "s", "five"))


def with_constants(t: Tape, **constants: float) -> Tape:
    """Set the values of constant nodes (they are not inputs: nothing flows into them)."""
    for name, value in constants.items():
        t[name].value = float(value)
    return t


def layout(t: Tape) -> dict[str, tuple[float, float]]:
    """Positions: the column is the length of the longest path from an input (a constant sits just
    left of its first user); rows spread evenly in each column."""
    depth: dict[str, int] = {}
    for node in t.nodes:
        depth[node.name] = 1 + max((depth[name] for name in node.inputs), default=-1)
    for node in t.nodes:
        if node.op == "const":
            users = [depth[other.name] for other in t.nodes if node.name in other.inputs]
            depth[node.name] = max(min(users, default=1) - 1, 0)
    columns: dict[int, list[str]] = {}
    for name, d in depth.items():
        columns.setdefault(d, []).append(name)
    positions = {}
    for d, names in columns.items():
        for row, name in enumerate(names):
            positions[name] = (1.3 * d, 1.1 * ((len(names) - 1) / 2 - row))
    return positions


def from_value(root, names: dict | None = None) -> Tape:
    """A drawable tape of an engine graph (objects with data, grad, _prev and _op, like lesson 02's Value).

    ``names`` maps nodes to labels (by identity, e.g. {id(x): "x"}); the others are numbered.
    """
    # Imported here: while lesson 02 is graded the sandbox withholds it (it answers an exercise), and a module that
    # imported it would hand it out; a graded notebook draws nothing, so only a call made there refuses.
    from coursekit.engine import topological_order

    names = dict(names or {})
    order = topological_order(root)
    for index, node in enumerate(order):
        names.setdefault(id(node), f"v{index}")
    nodes = [Node(names[id(node)], f"value:{node._op}" if node._prev else "input",
                  tuple(names[id(child)] for child in node._prev), float(node.data), float(node.grad))
             for node in order]
    return Tape(nodes)


def _label(node: Node) -> str:
    if node.op in ("input", "const"):
        head = node.name
    elif node.op.startswith("value:"):
        head = f"{node.name}: {node.op.removeprefix('value:')}"
    elif node.op == "square":
        head = f"{node.name} = {node.inputs[0]}²"
    elif node.op == "exp":
        head = f"{node.name} = exp {node.inputs[0]}"
    else:
        head = f"{node.name} = {node.inputs[0]} {SYMBOLS[node.op]} {node.inputs[1]}"
    grad = "?" if node.grad is None else f"{node.grad:.4g}"
    return N_("{head}\nvalue {value:.4g}\ngrad {grad}").format(head=head, value=node.value, grad=grad)


def draw_graph(t: Tape, highlight: str | None = None, ax: plt.Axes | None = None) -> plt.Figure:
    """Draw the tape as a graph: one box per node with its value and gradient, arrows along the data.

    Arrows carry the local derivative d(node)/d(input). ``highlight`` marks the node the
    backward pass is processing.
    """
    positions = layout(t)
    if ax is None:
        width = 2.2 * (1 + max(x for x, _ in positions.values()))
        height = 1.6 * (1 + max(abs(y) for _, y in positions.values()) * 2)
        _, ax = plt.subplots(figsize=(max(width, 5.0), max(height, 2.6)))
    for node in t.nodes:
        x1, y1 = positions[node.name]
        for name, local in zip(node.inputs, node.local or (None,) * len(node.inputs), strict=True):
            x0, y0 = positions[name]
            ax.annotate("", xy=(x1 - 0.42, y1), xytext=(x0 + 0.42, y0),
                        arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 1.2})
            if local is not None:  # the local derivative, written near the arrow's head
                lx, ly = x0 + 0.42 + 0.75 * (x1 - x0 - 0.84), y0 + 0.75 * (y1 - y0)
                ax.text(lx, ly + 0.05, f"{local:.3g}", ha="center", va="bottom", fontsize=8, color="C3")
    for node in t.nodes:
        x, y = positions[node.name]
        face = "#fff3c4" if node.name == highlight else ("#e8f1fb" if node.grad is not None else "white")
        ax.add_patch(FancyBboxPatch((x - 0.4, y - 0.3), 0.8, 0.6, boxstyle="round,pad=0.02",
                                    facecolor=face, edgecolor="0.2"))
        ax.text(x, y, _label(node), ha="center", va="center", fontsize=8, family=fonts.families("monospace"))
    return fit_to_nodes(ax, positions, across=0.55, below=0.45, above=0.45)


def fit_to_nodes(ax: plt.Axes, positions: dict, across: float, below: float, above: float) -> plt.Figure:
    """Frame the nodes at ``positions`` (margins in data units), with equal scales and no axes; the figure."""
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    ax.set_xlim(min(xs) - across, max(xs) + across)
    ax.set_ylim(min(ys) - below, max(ys) + above)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.figure.tight_layout()
    return ax.figure


def draw_backward_step(t: Tape, step: int, **inputs: float) -> plt.Figure:
    """The graph after ``step`` backward steps, the node handled last highlighted (the widget's draw)."""
    t.forward(**inputs)
    done = t.backward(steps=step)
    return draw_graph(t, highlight=done[-1] if done else None)
