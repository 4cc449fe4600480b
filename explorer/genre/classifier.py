"""A multinomial logistic-regression classifier kept as plain arrays (fit with scikit-learn, run with numpy).

The fitted model is stored in an ``.npz`` file read with ``allow_pickle=False``: standardisation
``mean``/``scale``, ``coef``, ``intercept`` and the ``classes`` names — no code, nothing to unpickle.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class LinearClassifier:
    """``softmax(coef · (x - mean) / scale + intercept)`` over ``classes``.

    Attributes
    ----------
    classes : tuple of str
        Class names, in the order of the probabilities.
    mean, scale : np.ndarray [shape=(n_features,)]
        Standardisation of the inputs (``scale > 0``).
    coef : np.ndarray [shape=(n_classes, n_features)]
    intercept : np.ndarray [shape=(n_classes,)]
    """

    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_features)]

        Returns
        -------
        np.ndarray [shape=(n, n_classes), dtype=float64]
            Rows sum to 1.
        """
        X = np.nan_to_num(np.atleast_2d(np.asarray(X, dtype=np.float64)))
        z = ((X - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> list[str]:
        """The most probable class of each row of ``X`` [shape=(n, n_features)]."""
        return [self.classes[i] for i in np.argmax(self.predict_proba(X), axis=1)]

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The arrays that describe the model, named for an ``.npz`` file."""
        return {
            f"{prefix}classes": np.array(self.classes, dtype=str),
            f"{prefix}mean": self.mean,
            f"{prefix}scale": self.scale,
            f"{prefix}coef": self.coef,
            f"{prefix}intercept": self.intercept,
        }

    @classmethod
    def from_arrays(cls, data, prefix: str = "") -> LinearClassifier:
        """Inverse of :meth:`arrays`; ``data`` is a mapping such as an opened ``np.load`` file.

        Raises ``ValueError`` when the shapes do not fit together.
        """
        classes = tuple(str(c) for c in data[f"{prefix}classes"])
        mean, scale, coef, intercept = (
            np.asarray(data[f"{prefix}{k}"], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")
        )
        if coef.shape != (len(classes), mean.size) or scale.shape != mean.shape or intercept.shape != (len(classes),):
            raise ValueError("inconsistent classifier arrays")
        if not np.all(scale > 0):
            raise ValueError("classifier scale must be positive")
        return cls(classes, mean, scale, coef, intercept)

    def to_bytes(self) -> bytes:
        """The model as the bytes of an ``.npz`` file."""
        buf = io.BytesIO()
        np.savez(buf, **self.arrays())  # type: ignore[arg-type]  # numpy's stubs take ** as allow_pickle
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearClassifier:
        """Read a model written by :meth:`to_bytes` (never unpickles)."""
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return cls.from_arrays(npz)


def fit(X: np.ndarray, y, *, classes=None, C: float = 1.0, max_iter: int = 5000) -> LinearClassifier:
    """Fit a standardised, L2-regularised multinomial logistic regression.

    Parameters
    ----------
    X : np.ndarray [shape=(n, n_features)]
        Training rows.
    y : sequence of str [shape=(n,)]
        Their class names.
    classes : sequence of str, optional
        The class order of the model; default: the sorted distinct names of ``y``.  Every class
        must occur in ``y``.
    C : float > 0
        Inverse regularisation strength (smaller = simpler model).
    max_iter : int
        Iteration limit of the solver.

    Returns
    -------
    LinearClassifier
    """
    from sklearn.linear_model import LogisticRegression

    X = np.nan_to_num(np.asarray(X, dtype=np.float64))
    y = np.asarray([str(v) for v in y])
    classes = tuple(sorted(set(y))) if classes is None else tuple(str(c) for c in classes)
    missing = set(classes) - set(y)
    if missing:
        raise ValueError(f"no training rows for {sorted(missing)}")
    if not set(y) <= set(classes):
        raise ValueError(f"labels outside the class list: {sorted(set(y) - set(classes))}")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-12] = 1.0
    model = LogisticRegression(C=C, max_iter=max_iter)
    model.fit((X - mean) / scale, y)
    order = [list(model.classes_).index(c) for c in classes]
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # scikit-learn keeps a single row for two classes: make it symmetric
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return LinearClassifier(classes, mean, scale, np.asarray(coef)[order], np.asarray(intercept)[order])
