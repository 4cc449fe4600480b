"""explorer.analysis.clustering gives the flat clusters of scipy's hierarchical clustering cut at a distance."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis import clustering

hierarchy = pytest.importorskip("scipy.cluster.hierarchy")


def _scipy_labels(D, t, method):
    from scipy.spatial.distance import squareform

    raw = hierarchy.fcluster(hierarchy.linkage(squareform(D, checks=False), method=method), t=t, criterion="distance")
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(c), len(order)) for c in raw])


@pytest.mark.parametrize("method", clustering.METHODS)
@pytest.mark.parametrize("ties", [False, True])
def test_flat_clusters_equal_scipy(method, ties):
    rng = np.random.default_rng(7)
    for _ in range(150):
        n = int(rng.integers(2, 30))
        X = rng.random((n, 3))
        if ties:  # points on a coarse grid: many equal distances, resolved as scipy resolves them
            X = np.round(X * 3) / 3
        D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
        D = np.clip(D, 0, 0.9)
        t = float(rng.uniform(0.05, 1.0))
        np.testing.assert_array_equal(
            clustering.flat_clusters(D, max_distance=t, method=method), _scipy_labels(D, t, method)
        )


def test_flat_clusters_small_and_bad_input():
    assert clustering.flat_clusters(np.zeros((1, 1)), max_distance=0.5).tolist() == [0]
    D = np.array([[0, 0.2, 0.9], [0.2, 0, 0.9], [0.9, 0.9, 0]])
    assert clustering.flat_clusters(D, max_distance=0.5, method="single").tolist() == [0, 0, 1]
    assert clustering.flat_clusters(D, max_distance=0.1, method="average").tolist() == [0, 1, 2]
    assert clustering.flat_clusters(D, max_distance=1.0, method="complete").tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="unknown linkage"):
        clustering.flat_clusters(D, max_distance=0.5, method="ward")
    with pytest.raises(ValueError, match="square"):
        clustering.flat_clusters(np.zeros((2, 3)), max_distance=0.5)
