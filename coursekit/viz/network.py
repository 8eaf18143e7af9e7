"""Lesson 05's small network drawn as a graph: every unit split into its sum z and its output a = f(z), the loss at
the end, and the paths from one weight to the loss highlighted (the picture of seed 000). Matplotlib alone.

Nodes are named "x1", "z1_2" (layer 1, unit 2), "a1_2", ..., "E"; units count from 1 as in the lesson's text.
An edge is a pair of names; each drawn edge is a Line2D whose gid is "source->target", so tests read the figure
through its data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from coursekit.i18n import fonts
from coursekit.viz.graphs import fit_to_nodes

PATH_COLOR = "#e8710a"   # orange, as in seed 000's pictures
EDGE_COLOR = "0.65"


def nodes_of(sizes: list[int]) -> list[list[str]]:
    """The columns of the drawing, left to right: the inputs, then z and a of every layer, then the loss E."""
    columns = [[f"x{j}" for j in range(1, sizes[0] + 1)]]
    for layer, n in enumerate(sizes[1:], start=1):
        columns.append([f"z{layer}_{i}" for i in range(1, n + 1)])
        columns.append([f"a{layer}_{i}" for i in range(1, n + 1)])
    return columns + [["E"]]


def edges_of(sizes: list[int]) -> list[tuple[str, str]]:
    """Every edge: a^(l-1)_j -> z^l_i (the weight W^l_ij), z^l_i -> a^l_i (the activation), a^L_i -> E."""
    edges = []
    for layer in range(1, len(sizes)):
        for i in range(1, sizes[layer] + 1):
            for j in range(1, sizes[layer - 1] + 1):
                source = f"x{j}" if layer == 1 else f"a{layer - 1}_{j}"
                edges.append((source, f"z{layer}_{i}"))
            edges.append((f"z{layer}_{i}", f"a{layer}_{i}"))
    return edges + [(f"a{len(sizes) - 1}_{i}", "E") for i in range(1, sizes[-1] + 1)]


def weight_paths(sizes: list[int], layer: int, i: int, j: int) -> list[list[str]]:
    """Every path from the weight W^layer_ij to the loss, as the list of nodes it passes: it starts at z^layer_i,
    the only node the weight enters, and follows the edges to E."""
    following: dict[str, list[str]] = {}
    for source, target in edges_of(sizes):
        following.setdefault(source, []).append(target)
    if not (1 <= i <= sizes[layer] and 1 <= j <= sizes[layer - 1]):
        raise ValueError(f"W^{layer} has shape ({sizes[layer]}, {sizes[layer - 1]}): no entry ({i}, {j})")
    paths, stack = [], [[f"z{layer}_{i}"]]
    while stack:
        path = stack.pop()
        if path[-1] == "E":
            paths.append(path)
        stack.extend(path + [nxt] for nxt in reversed(following.get(path[-1], [])))
    return paths


def _label(name: str) -> str:
    if name == "E":
        return "$E$"
    if name.startswith("x"):
        return f"$x_{name[1:]}$"
    layer, unit = name[1:].split("_")
    return f"${name[0]}^{layer}_{unit}$"


def draw_network(weights: list[np.ndarray], highlight: tuple[int, int, int] | None = None,
                 values: dict[str, float] | None = None, ax: plt.Axes | None = None) -> plt.Figure:
    """Draw the network with weight matrices ``weights`` (W^l of shape (n_l, n_(l-1))) as a graph.

    Each weight edge carries the weight's value; ``values`` (name -> number) writes a number under a node;
    ``highlight = (layer, i, j)`` colours the weight W^layer_ij's edge and every path from it to the loss.
    """
    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    columns = nodes_of(sizes)
    positions = {name: (1.5 * c, 1.3 * ((len(col) - 1) / 2 - r))
                 for c, col in enumerate(columns) for r, name in enumerate(col)}
    on_path: set[tuple[str, str]] = set()
    if highlight is not None:
        layer, i, j = highlight
        source = f"x{j}" if layer == 1 else f"a{layer - 1}_{j}"
        on_path.add((source, f"z{layer}_{i}"))
        for path in weight_paths(sizes, layer, i, j):
            on_path.update(zip(path[:-1], path[1:], strict=False))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.35 * len(columns) + 0.6, 1.1 * max(map(len, columns)) + 1.0))
    for source, target in edges_of(sizes):
        (x0, y0), (x1, y1) = positions[source], positions[target]
        lit = (source, target) in on_path
        ax.plot([x0 + 0.25, x1 - 0.25], [y0, y1], color=PATH_COLOR if lit else EDGE_COLOR,
                lw=2.4 if lit else 1.0, zorder=2 if lit else 1, gid=f"{source}->{target}")
        if target.startswith("z"):       # a weight edge: W^l_ij, written near its source end
            layer, i = (int(part) for part in target[1:].split("_"))
            j = int(source[1:]) if source.startswith("x") else int(source.split("_")[1])
            lx, ly = x0 + 0.25 + 0.25 * (x1 - x0 - 0.5), y0 + 0.25 * (y1 - y0)
            # beside the line, never on it: above a level edge, to the left of a rising one, right of a falling one
            dx, ha = (0.0, "center") if y1 == y0 else ((-0.06, "right") if y1 > y0 else (0.06, "left"))
            ax.text(lx + dx, ly + 0.06, f"{weights[layer - 1][i - 1, j - 1]:.2f}", ha=ha, va="bottom", fontsize=8,
                    color=PATH_COLOR if lit else "0.3", gid=f"W{layer}_{i}{j}")
    for name, (x, y) in positions.items():
        ax.add_patch(FancyBboxPatch((x - 0.25, y - 0.22), 0.5, 0.44, boxstyle="round,pad=0.02",
                                    facecolor="#e8f1fb" if name != "E" else "#fff3c4", edgecolor="0.2", zorder=3))
        ax.text(x, y, _label(name), ha="center", va="center", fontsize=11, zorder=4)
        if values and name in values:
            ax.text(x, y - 0.3, f"{values[name]:.4f}", ha="center", va="top", fontsize=8, zorder=4,
                    family=fonts.families("monospace"))
    return fit_to_nodes(ax, positions, across=0.4, below=0.6, above=0.45)  # room for the values under the nodes
