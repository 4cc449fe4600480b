"""Agglomerative (hierarchical) clustering of a few hundred items, cut at a distance, in numpy.

The flat clusters of ``scipy.cluster.hierarchy.fcluster(linkage(squareform(D), method),
t=max_distance, criterion="distance")`` without importing scipy (its ``cluster`` package loads
``scipy.spatial`` and ``scipy.linalg``, a third of a second at every start of the analysis).
"""

from __future__ import annotations

import numpy as np

#: The linkages supported, with the distance from a merged pair (i, j) to another cluster k
#: (Lance–Williams): nearest member, farthest member, mean over member pairs, mean of the two.
METHODS = ("single", "complete", "average", "weighted")


def flat_clusters(D: np.ndarray, *, max_distance: float, method: str = "average") -> np.ndarray:
    """Merge the closest two clusters while they are at most ``max_distance`` apart.

    Parameters
    ----------
    D : np.ndarray [shape=(n, n)]
        Symmetric distances between the items (the diagonal is ignored).
    max_distance : float
        Clusters are merged while their linkage distance is ``<= max_distance``.
    method : str
        One of :data:`METHODS`, as in ``scipy.cluster.hierarchy.linkage``.  With ``"single"`` the
        clusters are the connected components of the pairs at most ``max_distance`` apart.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=int]
        Cluster ids numbered in order of first appearance.
    """
    if method not in METHODS:
        raise ValueError(f"unknown linkage {method!r}; one of {', '.join(METHODS)}")
    D = np.array(D, dtype=np.float64)
    n = D.shape[0]
    if D.shape != (n, n):
        raise ValueError(f"distances must be a square matrix, not {D.shape}")
    group = np.arange(n)
    if method == "single":
        near = D <= max_distance
        group[:] = -1
        for i in range(n):
            if group[i] >= 0:
                continue
            group[i] = i
            todo = [i]
            while todo:
                new = np.flatnonzero(near[todo].any(axis=0) & (group < 0))
                group[new] = i
                todo = list(new)
    else:
        for i, j in _nn_chain_merges(D, method=method, max_distance=max_distance):
            group[group == group[j]] = group[i]
    _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=int)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse]


def _nn_chain_merges(D: np.ndarray, *, method: str, max_distance: float) -> list[tuple[int, int]]:
    """The merges of the nearest-neighbour chain algorithm (scipy's for these linkages, ties resolved
    as it does: the chain's previous cluster first, then the lowest index) whose distance is at most
    ``max_distance``.  ``D`` is overwritten."""
    n = D.shape[0]
    size = np.ones(n)
    np.fill_diagonal(D, np.inf)
    chain: list[int] = []
    merges = []
    for _ in range(n - 1):
        if not chain:
            chain.append(int(np.flatnonzero(size > 0)[0]))
        while True:
            x = chain[-1]
            y = int(np.argmin(D[x]))
            if len(chain) > 1 and not D[x, y] < D[x, chain[-2]]:
                y = chain[-2]
                break
            chain.append(y)
        del chain[-2:]
        x, y = min(x, y), max(x, y)
        d = D[x, y]
        if d <= max_distance:
            merges.append((x, y))
        # the merged cluster takes index y (as scipy's): distances to it by the linkage's rule
        if method == "average":
            row = (size[x] * D[x] + size[y] * D[y]) / (size[x] + size[y])
        elif method == "weighted":
            row = 0.5 * (D[x] + D[y])
        else:
            row = np.maximum(D[x], D[y])
        size[y] += size[x]
        size[x] = 0
        row[[x, y]] = np.inf
        row[size == 0] = np.inf
        D[y, :] = row
        D[:, y] = row
        D[x, :] = np.inf
        D[:, x] = np.inf
    return merges
