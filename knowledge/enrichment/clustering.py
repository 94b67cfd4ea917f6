"""RAPTOR's clustering of one layer: reduce the vectors, let BIC choose how many Gaussian
components fit them, and group the nodes by component (no Django, no I/O).

RAPTOR (Sarthi et al., 2024) and RAGFlow reduce with UMAP; PCA does the same job here with
scikit-learn alone and is deterministic for a given seed.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

REDUCED_DIMENSIONS = 12


def _reduce(vectors: np.ndarray, seed: int) -> np.ndarray:
    n, d = vectors.shape
    dims = min(REDUCED_DIMENSIONS, n - 2, d)
    if dims < 1 or dims >= d:
        return vectors
    return np.asarray(PCA(n_components=dims, random_state=seed).fit_transform(vectors))


def _mixture(k: int, seed: int) -> GaussianMixture:
    return GaussianMixture(
        n_components=k, covariance_type="full", reg_covar=1e-4, random_state=seed
    )


def best_cluster_count(points: np.ndarray, max_clusters: int, seed: int) -> int:
    """The component count in 1..max_clusters with the lowest BIC."""
    best_k, best_bic = 1, float("inf")
    for k in range(1, max(1, max_clusters) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bic = float(_mixture(k, seed).fit(points).bic(points))
        if bic < best_bic:
            best_k, best_bic = k, bic
    return best_k


def cluster_layer(
    vectors: np.ndarray, *, max_clusters: int, threshold: float, seed: int
) -> list[list[int]]:
    """Groups of node indexes to summarise together; always fewer groups than nodes (so the
    tree shrinks to one root). A node joins every component whose probability for it is above
    `threshold`, and at least its most likely one."""
    n = len(vectors)
    if n <= 2:
        return [list(range(n))] if n else []
    points = _reduce(np.asarray(vectors, dtype=np.float64), seed)
    k = best_cluster_count(points, min(max_clusters, n - 1), seed)
    if k == 1:
        return [list(range(n))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probabilities = _mixture(k, seed).fit(points).predict_proba(points)
    groups: list[list[int]] = [[] for _ in range(k)]
    for index, row in enumerate(probabilities):
        members = set(np.flatnonzero(row > threshold).tolist()) | {int(np.argmax(row))}
        for component in sorted(members):
            groups[component].append(index)
    return [group for group in groups if group]
