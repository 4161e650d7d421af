"""The Kymatio-shaped classes: parameter checks, dtype handling, metadata and pickling
around the native transforms of ``scattering_rs._core``."""

from __future__ import annotations

import functools
import numbers
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core

__all__ = ["Scattering1D", "Scattering2D", "HarmonicScattering3D"]


def _int(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _shape(name: str, value: Any, rank: int) -> Tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        dims = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer or a tuple of {rank}, got {value!r}") from None
    if len(dims) != rank:
        raise ValueError(f"{name} must have {rank} entries, got {value!r}")
    return tuple(_int(name, d, 1) for d in dims)


def _as_float(x: Any) -> np.ndarray:
    """``x`` as a float32 or float64 array in native byte order (other real dtypes become
    float64, as in Kymatio's numpy frontend)."""
    x = np.asarray(x)
    if x.dtype.kind == "f" and x.dtype.itemsize in (4, 8):
        if not x.dtype.isnative:
            x = x.astype(x.dtype.newbyteorder("="))
        return x
    if np.iscomplexobj(x):
        raise ValueError("the input must be real; got a complex array")
    try:
        return x.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the input cannot be read as float64: {e}") from None


def _padded(rows, width: int) -> np.ndarray:
    """Rows of unequal length as a float array padded with NaN (Kymatio's meta layout)."""
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


@functools.lru_cache(maxsize=32)
def _native(kind: str, args: Tuple) -> Any:
    """The native transform for these arguments, built once per process: unpickled copies
    (on Dask workers, say) share it instead of rebuilding filters and FFT plans."""
    cls = {
        "1d": _core.Scattering1DCore,
        "2d": _core.Scattering2DCore,
        "3d": _core.HarmonicScattering3DCore,
        "jtfs": _core.TimeFrequencyScatteringCore,
        "spiral": _core.SpiralScatteringCore,
    }[kind]
    return cls(*args)


def _rebuild(cls, params):
    return cls(**params)


class _Transform:
    """What every transform shares: calls, backward pass, pickling and repr."""

    _kind = ""

    def __init__(self, params: Dict[str, Any], native_args: Tuple) -> None:
        self._params = params
        self._native = _native(self._kind, native_args)

    def __call__(self, x: Any) -> np.ndarray:
        """Same as :meth:`scattering`."""
        return self.scattering(x)

    def scattering(self, x: Any) -> np.ndarray:
        """Scattering coefficients of ``x`` (shape ``(..., *input_shape)``), a new array
        of shape ``(..., *output_shape)`` in the input's precision (float32 or float64;
        other real dtypes are computed in float64)."""
        return self._native.forward(_as_float(x))

    def backward(self, x: Any, grad_output: Any) -> np.ndarray:
        """Vector-Jacobian product: for each sample, the gradient with respect to ``x`` of
        ``sum(S(x) * grad_output)``. ``grad_output`` has the shape of ``S(x)``; the result
        has the shape and precision of ``x``. Plug it into any optimiser: the gradient of
        ``0.5 * ||S(x) - target||^2`` is ``S.backward(x, S(x) - target)``."""
        x = _as_float(x)
        g = np.asarray(grad_output)
        if np.iscomplexobj(g):
            raise ValueError("grad_output must be real; got a complex array")
        return self._native.backward(x, g.astype(x.dtype, copy=False))

    @property
    def input_shape(self) -> Tuple[int, ...]:
        """Shape of one input sample."""
        return tuple(self._native.input_shape)

    @property
    def output_shape(self) -> Tuple[int, ...]:
        """Shape of the coefficients of one sample."""
        return tuple(self._native.output_shape)

    def get_params(self) -> Dict[str, Any]:
        """The constructor's arguments (``type(S)(**S.get_params())`` rebuilds ``S``)."""
        return dict(self._params)

    def __reduce__(self):
        return (_rebuild, (type(self), self._params))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._params == other._params  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self._params.items()))))


class Scattering1D(_Transform):
    """Time scattering, Kymatio's ``Scattering1D`` (main branch): orders 0 to 2 of Morlet
    wavelet moduli, averaged by a low-pass of width ``T``.

    Parameters
    ----------
    J : int
        Number of octaves: the largest wavelet scale is ``2**J``.
    shape : int or (int,)
        Signal length ``N``.
    Q : int or (int, int)
        Wavelets per octave at orders 1 and 2 (an int ``Q`` means ``(Q, 1)``).
    T : int, 'global' or None
        Averaging scale in samples (default ``2**J``); ``'global'`` averages over the whole
        signal (one value per channel, translation invariant).
    max_order : int
        Highest scattering order, 0, 1 or 2.
    average : bool
        ``False`` returns the unaveraged moduli ``U`` at full rate (shape ``(C, N)``).
    oversampling : int
        Only 0 (Kymatio's default) is implemented.
    padding : 'reflect' or 'periodic'
        Boundary extension; ``'reflect'`` is Kymatio's.
    n_threads : int or None
        Threads per call (None: all cores; 1: the calling thread only).

    The output of an input ``(..., N)`` is ``(..., C, N / 2**log2(T))`` with channel 0 the
    order 0, then order 1 (``n1``), then order 2 (``(n1, n2)`` with ``j2 > j1``), as Kymatio.
    """

    _kind = "1d"

    def __init__(
        self,
        J: int,
        shape: Union[int, Sequence[int]],
        Q: Union[int, Sequence[int]] = 1,
        T: Union[int, str, None] = None,
        max_order: int = 2,
        average: bool = True,
        oversampling: int = 0,
        padding: str = "reflect",
        n_threads: Optional[int] = None,
    ) -> None:
        J = _int("J", J)
        (n,) = _shape("shape", shape, 1)
        if isinstance(Q, numbers.Integral):
            q = (_int("Q", Q, 1), 1)
        else:
            q = _shape("Q", Q, 2)
        max_order = _int("max_order", max_order)
        if _int("oversampling", oversampling) != 0:
            raise ValueError("oversampling > 0 is not implemented; use oversampling=0")
        if not isinstance(average, (bool, np.bool_)):
            raise ValueError(f"average must be True or False, got {average!r}")
        if T == "global":
            mode, t = "global", None
        elif T is None:
            mode, t = "local", None
        else:
            mode, t = "local", _int("T", T, 1)
        if not average:
            if T is not None:
                raise ValueError("T sets the averaging scale: it has no meaning with average=False")
            mode = "none"
        if n_threads is not None:
            n_threads = _int("n_threads", n_threads, 1)
        params = dict(
            J=J, shape=n, Q=q, T=T, max_order=max_order, average=bool(average),
            oversampling=0, padding=padding, n_threads=n_threads,
        )
        super().__init__(params, (n, J, q[0], q[1], t, mode, max_order, str(padding), n_threads))

    @property
    def T(self) -> int:
        """The averaging scale in samples (``2**J`` unless set)."""
        return int(self._native.t)

    def meta(self) -> Dict[str, Any]:
        """Labels of the output channels, as Kymatio's ``meta()``: ``order`` (C,), and
        ``xi``, ``sigma`` (cycles per sample), ``j`` (maximal dyadic subsampling) and ``n``
        (wavelet index) of shape (C, max_order), NaN past a channel's order; ``key`` the
        tuple ``n`` of each channel."""
        paths = self._native.paths()
        width = self._params["max_order"]
        return {
            "order": np.array([p[0] for p in paths], dtype=np.int64),
            "xi": _padded([p[3] for p in paths], width),
            "sigma": _padded([p[4] for p in paths], width),
            "j": _padded([p[2] for p in paths], width),
            "n": _padded([p[1] for p in paths], width),
            "key": [tuple(p[1]) for p in paths],
        }


class Scattering2D(_Transform):
    """Image scattering, Kymatio's ``Scattering2D``: Morlet wavelets at ``J`` scales and
    ``L`` orientations, orders 0 to 2, averaged at scale ``2**J``.

    Parameters
    ----------
    J : int
        Number of scales.
    shape : (int, int)
        Image size ``(M, N)``.
    L : int
        Orientations over [0, pi).
    max_order : int
        1 or 2.
    pre_pad : bool
        Only ``False`` (Kymatio's default) is implemented.
    average : 'local' or 'global'
        ``'global'`` averages each channel over the image (translation invariant).
    padding : 'reflect' or 'periodic'
        Boundary extension; ``'reflect'`` is Kymatio's.
    n_threads : int or None
        Threads per call (None: all cores; 1: the calling thread only).

    The output of an input ``(..., M, N)`` is ``(..., 1 + L J + L^2 J (J - 1) / 2,
    M / 2**J, N / 2**J)``, channels in Kymatio's order.
    """

    _kind = "2d"

    def __init__(
        self,
        J: int,
        shape: Sequence[int],
        L: int = 8,
        max_order: int = 2,
        pre_pad: bool = False,
        average: str = "local",
        padding: str = "reflect",
        n_threads: Optional[int] = None,
    ) -> None:
        J = _int("J", J)
        m, n = _shape("shape", shape, 2)
        L = _int("L", L, 1)
        max_order = _int("max_order", max_order)
        if pre_pad:
            raise ValueError("pre_pad=True is not implemented; pass the unpadded image")
        if average not in ("local", "global"):
            raise ValueError(f"average must be 'local' or 'global', got {average!r}")
        if n_threads is not None:
            n_threads = _int("n_threads", n_threads, 1)
        params = dict(
            J=J, shape=(m, n), L=L, max_order=max_order, pre_pad=False, average=average,
            padding=padding, n_threads=n_threads,
        )
        super().__init__(params, (m, n, J, L, max_order, average, str(padding), n_threads))

    def meta(self) -> Dict[str, Any]:
        """Labels of the output channels: ``order`` (C,), and ``j`` (scale), ``theta``
        (orientation index) and ``n`` (``j * L + theta``) of shape (C, max_order), NaN past
        a channel's order; ``key`` the tuple ``n`` of each channel."""
        paths = self._native.paths()
        width = self._params["max_order"]
        return {
            "order": np.array([p[0] for p in paths], dtype=np.int64),
            "j": _padded([p[2] for p in paths], width),
            "theta": _padded([p[3] for p in paths], width),
            "n": _padded([p[1] for p in paths], width),
            "key": [tuple(p[1]) for p in paths],
        }


class HarmonicScattering3D(_Transform):
    """Solid harmonic scattering, Kymatio's ``HarmonicScattering3D`` with
    ``method='integral'``: rotation-invariant moduli of solid harmonic wavelets at
    ``J + 1`` scales and degrees ``l = 0..L``, orders 1 and 2, integrated as
    ``sum_voxels U**q`` for each of the ``integral_powers``.

    Parameters
    ----------
    J : int
        Largest scale index (widths ``sigma_0 * 2**j``, ``j = 0..J``).
    shape : (int, int, int)
        Volume size.
    L : int
        Largest harmonic degree.
    sigma_0 : float
        Width of the finest wavelet, in voxels.
    max_order : int
        1 or 2.
    rotation_covariant : bool
        Only ``True`` (Kymatio's default) is implemented.
    method : str
        Only ``'integral'`` is implemented.
    integral_powers : sequence of float
        Exponents ``q`` (Kymatio's default ``(0.5, 1, 2)``).
    n_threads : int or None
        Threads per call (None: all cores; 1: the calling thread only).

    The output of an input ``(..., M, N, O)`` is ``(..., P, L + 1, len(integral_powers))``
    with the ``P`` paths ordered as Kymatio: ``j`` for order 1, then ``(j1, j2)``,
    ``j1 < j2``.
    """

    _kind = "3d"

    def __init__(
        self,
        J: int,
        shape: Sequence[int],
        L: int = 3,
        sigma_0: float = 1,
        max_order: int = 2,
        rotation_covariant: bool = True,
        method: str = "integral",
        integral_powers: Sequence[float] = (0.5, 1.0, 2.0),
        n_threads: Optional[int] = None,
    ) -> None:
        J = _int("J", J)
        dims = _shape("shape", shape, 3)
        L = _int("L", L)
        max_order = _int("max_order", max_order)
        if not rotation_covariant:
            raise ValueError("rotation_covariant=False is not implemented")
        if method != "integral":
            raise ValueError(f"only method='integral' is implemented, got {method!r}")
        try:
            sigma = float(sigma_0)
            powers = tuple(float(q) for q in integral_powers)
        except (TypeError, ValueError) as e:
            raise ValueError(f"sigma_0 and integral_powers must be numbers: {e}") from None
        if n_threads is not None:
            n_threads = _int("n_threads", n_threads, 1)
        params = dict(
            J=J, shape=dims, L=L, sigma_0=sigma, max_order=max_order, rotation_covariant=True,
            method="integral", integral_powers=powers, n_threads=n_threads,
        )
        super().__init__(params, (dims, J, L, sigma, max_order, powers, n_threads))

    def meta(self) -> Dict[str, Any]:
        """Labels of the paths (axis -3 of the output): ``order`` (P,), ``j`` (P,
        max_order, NaN past a path's order), ``key`` (the tuple ``j``), and the values
        along the last two axes, ``l`` (0..L) and ``integral_powers``."""
        paths = self._native.paths()
        return {
            "order": np.array([p[0] for p in paths], dtype=np.int64),
            "j": _padded([p[1] for p in paths], max(self._params["max_order"], 1)),
            "key": [tuple(p[1]) for p in paths],
            "l": np.arange(self._params["L"] + 1),
            "integral_powers": np.array(self._params["integral_powers"]),
        }


class TimeFrequencyScattering(_Transform):
    """Joint time-frequency scattering, Kymatio's ``TimeFrequencyScattering`` (main branch,
    commit 11552ed5), equal to it to 1e-14 in both formats.

    Parameters
    ----------
    J, J_fr, Q, shape
        As Kymatio (positional in that order): time scales ``2**J``, frequential scales
        ``2**J_fr`` (in first-order channels), wavelets per octave ``Q`` (int or
        ``(Q1, Q2)``), signal length.
    T : int, 'global' or None
        Time averaging width (default ``2**J``) or ``'global'`` (sum over time).
    stride : int or None
        Time subsampling, a power of two (default ``2**floor(log2 T)``).
    Q_fr : int
        Frequential wavelets per octave.
    F : int, 'global', 0 or None
        Log-frequency averaging width (default ``2**J_fr``), ``'global'``, or 0 (none;
        ``format='time'`` only).
    stride_fr : int or None
        Log-frequency subsampling, a power of two.
    format : 'time' or 'joint'
        ``'time'``: ``(..., channels, time)`` with the zeroth order first; ``'joint'``:
        ``(..., paths, log-frequency rows, time)``.
    n_threads : int or None
        Threads per call.
    """

    _kind = "jtfs"

    def __init__(
        self,
        J: int,
        J_fr: int,
        Q: Union[int, Sequence[int]],
        shape: Union[int, Sequence[int]],
        T: Union[int, str, None] = None,
        stride: Optional[int] = None,
        Q_fr: Union[int, Sequence[int]] = 1,
        F: Union[int, str, None] = None,
        stride_fr: Optional[int] = None,
        format: str = "time",
        n_threads: Optional[int] = None,
    ) -> None:
        J, J_fr = _int("J", J), _int("J_fr", J_fr)
        (n,) = _shape("shape", shape, 1)
        if isinstance(Q, numbers.Integral):
            q = (_int("Q", Q, 1), 1)
        elif len(Q) == 1:
            q = (_int("Q", Q[0], 1), 1)
        else:
            q = _shape("Q", Q, 2)
        q_fr = _int("Q_fr", Q_fr if isinstance(Q_fr, numbers.Integral) else Q_fr[0], 1)
        if T == "global":
            mode, t = "global", None
        elif T is None:
            mode, t = "local", None
        else:
            mode, t = "local", _int("T", T, 1)
        if F == "global":
            mode_fr, f = "global", None
        elif F is None:
            mode_fr, f = "local", None
        elif _int("F", F) == 0:
            mode_fr, f = "none", None
        else:
            mode_fr, f = "local", _int("F", F, 1)
        stride = None if stride is None else _int("stride", stride, 1)
        stride_fr = None if stride_fr is None else _int("stride_fr", stride_fr, 1)
        if n_threads is not None:
            n_threads = _int("n_threads", n_threads, 1)
        params = dict(
            J=J, J_fr=J_fr, Q=q, shape=n, T=T, stride=stride, Q_fr=q_fr, F=F,
            stride_fr=stride_fr, format=format, n_threads=n_threads,
        )
        super().__init__(
            params,
            (n, J, J_fr, q[0], q[1], q_fr, t, mode, stride, f, mode_fr, stride_fr,
             str(format), n_threads),
        )

    def meta(self) -> Dict[str, Any]:
        """One label per output channel: ``order``, ``n2``, ``n_fr``, ``spin``, ``n1``
        (Kymatio's label of a ``'time'`` row), ``row``, ``n1_max`` and ``n1_stride``, as
        integer arrays (-1 where a field does not apply)."""
        paths = self._native.paths()
        names = ["order", "n2", "n_fr", "spin", "n1", "row", "n1_max", "n1_stride"]
        return {k: np.array([p[i] for p in paths], dtype=np.int64) for i, k in enumerate(names)}


class SpiralScattering(_Transform):
    """Spiral scattering (Lostanlen and Mallat): time scattering's first order, then the
    scalogram rolled on the pitch spiral (``Q1`` chroma bins per octave) and scattered along
    time, chroma and octave, averaged over the spiral. Output ``(..., channels, time)``.

    Parameters
    ----------
    J : int
        Largest time scale ``2**J``.
    shape : int or (int,)
        Signal length.
    Q : int or (int, int)
        Wavelets per octave; ``Q1`` (4 to 64) is the number of chroma bins.
    J_chroma, J_octave : int
        Scales of the chroma and octave wavelets (``2**J_chroma <= Q1``).
    T : int, 'global' or None
        Time averaging width (default ``2**J``) or ``'global'``.
    n_threads : int or None
        Threads per call.
    """

    _kind = "spiral"

    def __init__(
        self,
        J: int,
        shape: Union[int, Sequence[int]],
        Q: Union[int, Sequence[int]] = 12,
        J_chroma: int = 2,
        J_octave: int = 2,
        T: Union[int, str, None] = None,
        n_threads: Optional[int] = None,
    ) -> None:
        J = _int("J", J)
        (n,) = _shape("shape", shape, 1)
        q = (_int("Q", Q, 1), 1) if isinstance(Q, numbers.Integral) else _shape("Q", Q, 2)
        jc, jo = _int("J_chroma", J_chroma), _int("J_octave", J_octave)
        if T == "global":
            mode, t = "global", None
        elif T is None:
            mode, t = "local", None
        else:
            mode, t = "local", _int("T", T, 1)
        if n_threads is not None:
            n_threads = _int("n_threads", n_threads, 1)
        params = dict(J=J, shape=n, Q=q, J_chroma=jc, J_octave=jo, T=T, n_threads=n_threads)
        super().__init__(params, (n, J, q[0], q[1], jc, jo, t, mode, n_threads))

    def meta(self) -> Dict[str, Any]:
        """One label per output channel: ``order``, ``n1`` (time scattering's first order),
        ``n2``, ``chroma`` and ``octave`` (filter indices), ``spin_chroma``,
        ``spin_octave``, as integer arrays (-1 where a field does not apply)."""
        paths = self._native.paths()
        names = ["order", "n1", "n2", "chroma", "octave", "spin_chroma", "spin_octave"]
        return {k: np.array([p[i] for p in paths], dtype=np.int64) for i, k in enumerate(names)}
