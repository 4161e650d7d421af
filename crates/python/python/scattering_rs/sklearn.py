"""A scikit-learn transformer of scattering features.

``ScatteringTransformer(kind, **params)`` flattens the coefficients of each sample into one
feature row, so it sits in a ``Pipeline`` before any estimator::

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from scattering_rs.sklearn import ScatteringTransformer

    model = make_pipeline(ScatteringTransformer("2d", J=1, shape=(8, 8), L=8),
                          LogisticRegression(max_iter=2000))
    model.fit(X_train, y_train)          # X: (n_samples, 64) or (n_samples, 8, 8)

scikit-learn is not needed to import this module: without it the class is a plain object
with the same methods; with it, it derives from ``BaseEstimator`` and ``TransformerMixin``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from ._frontend import HarmonicScattering3D, Scattering1D, Scattering2D

try:  # scikit-learn is optional
    from sklearn.base import BaseEstimator, TransformerMixin

    _BASES: tuple = (TransformerMixin, BaseEstimator)
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _BASES = (object,)

__all__ = ["ScatteringTransformer"]

_KINDS = {
    "1d": Scattering1D,
    "scattering1d": Scattering1D,
    "2d": Scattering2D,
    "scattering2d": Scattering2D,
    "3d": HarmonicScattering3D,
    "harmonicscattering3d": HarmonicScattering3D,
}


class ScatteringTransformer(*_BASES):  # type: ignore[misc]
    """Scattering coefficients as features: ``transform(X)`` has shape
    ``(n_samples, prod(output_shape))``.

    Parameters
    ----------
    kind : str
        ``'1d'``, ``'2d'`` or ``'3d'`` (or the class names ``'Scattering1D'``,
        ``'Scattering2D'``, ``'HarmonicScattering3D'``).
    **params
        The arguments of that class (``J``, ``shape``, ``Q``, ``L``, ...).

    ``X`` may hold each sample flattened, ``(n_samples, prod(shape))``, or in its shape,
    ``(n_samples, *shape)``. The transform is stateless: ``fit`` only builds it (and checks
    the parameters) and records ``n_features_in_``.
    """

    def __init__(self, kind: str = "1d", **params: Any) -> None:
        self.kind = kind
        self._params = params

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """``kind`` and the transform's parameters (scikit-learn's estimator API)."""
        return {"kind": self.kind, **self._params}

    def set_params(self, **params: Any) -> "ScatteringTransformer":
        """Sets ``kind`` or transform parameters; the transform is rebuilt at ``fit``."""
        if "kind" in params:
            self.kind = params.pop("kind")
        self._params.update(params)
        self.__dict__.pop("scattering_", None)
        return self

    def _build(self):
        cls = _KINDS.get(str(self.kind).lower())
        if cls is None:
            raise ValueError(f"kind must be '1d', '2d' or '3d', got {self.kind!r}")
        return cls(**self._params)

    def fit(self, X: Any, y: Optional[Any] = None) -> "ScatteringTransformer":
        """Builds the transform and checks that ``X`` fits it."""
        self.scattering_ = self._build()
        X = self._samples(np.asarray(X))
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Flattened scattering coefficients, ``(n_samples, n_features)``."""
        s = getattr(self, "scattering_", None)
        if s is None:
            s = self.scattering_ = self._build()
        X = self._samples(np.asarray(X), s)
        return s(X).reshape(X.shape[0], -1)

    def fit_transform(self, X: Any, y: Optional[Any] = None, **fit_params: Any) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    def _samples(self, X: np.ndarray, s=None) -> np.ndarray:
        s = s if s is not None else self.scattering_
        shape = s.input_shape
        if X.ndim == 2 and X.shape[1] == int(np.prod(shape)):
            return X.reshape((X.shape[0],) + shape)
        if X.shape[1:] == shape:
            return X
        raise ValueError(
            f"X has shape {X.shape}; expected (n_samples, {int(np.prod(shape))}) or "
            f"(n_samples, {', '.join(map(str, shape))})"
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``scattering{i}`` of the output features."""
        s = getattr(self, "scattering_", None) or self._build()
        return np.array([f"scattering{i}" for i in range(int(np.prod(s.output_shape)))], dtype=object)
