"""Toy datasets made in code (no downloads): two spirals, two moons, XOR. Seeded, two classes, labels 0/1."""

from __future__ import annotations

import numpy as np


def spirals(n: int = 200, turns: float = 1.5, noise: float = 0.04, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of ``n`` points each, within about [-2, 2]^2; returns (x of shape (2n, 2), labels)."""
    rng = np.random.default_rng(seed)
    radius = np.sqrt(rng.random(n))  # uniform density along the arms
    angle = radius * turns * 2 * np.pi
    points, labels = [], []
    for label in (0, 1):
        arm = np.stack([np.cos(angle + label * np.pi), np.sin(angle + label * np.pi)], axis=1) * 2 * radius[:, None]
        points.append(arm + rng.normal(scale=noise * 2, size=arm.shape))
        labels.append(np.full(n, label))
    return np.concatenate(points), np.concatenate(labels)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of ``n`` points each."""
    rng = np.random.default_rng(seed)
    t = rng.random(n) * np.pi
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(scale=noise, size=(2 * n, 2))
    return x - x.mean(axis=0), np.concatenate([np.zeros(n, int), np.ones(n, int)])


def xor(n: int = 100, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (±1, ±1); the label is 1 where the signs differ."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(4 * n, 2)) * 2 - 1
    labels = (corners[:, 0] != corners[:, 1]).astype(int)
    return corners + rng.normal(scale=noise, size=corners.shape), labels
