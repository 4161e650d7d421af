"""Scattering on Dask arrays: the same transform on any Dask scheduler or cluster
(threads, local processes, SSH, Kubernetes, HPC job queues).

    import dask.array as da
    from scattering_rs import Scattering1D
    from scattering_rs.dask import scatter

    x = da.from_zarr("signals.zarr")                 # (n_signals, 65536), chunked by rows
    S = Scattering1D(J=8, shape=65536, Q=12)
    Sx = scatter(S, x)                                # lazy, (n_signals, C, 256)
    Sx.to_zarr("coefficients.zarr")

The transform travels to the workers by its parameters (it pickles as its constructor
call) and each worker process builds its filters and FFT plans once, then reuses them for
every chunk it is given.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

__all__ = ["scatter"]


def _apply(block: np.ndarray, transform: Any) -> np.ndarray:
    return transform(block)


def scatter(transform: Any, array: Any):
    """Coefficients of every sample of ``array``, as a lazy Dask array.

    ``array`` (a Dask array, or anything ``dask.array.asarray`` takes) has shape
    ``(..., *transform.input_shape)``; the result has shape
    ``(..., *transform.output_shape)``, the same chunks along the leading (batch) axes, one
    chunk along the coefficient axes, and dtype float32 for float32 input, float64
    otherwise. Sample axes split across chunks are merged first (a sample must sit in one
    chunk).
    """
    import dask.array as da

    x = array if isinstance(array, da.Array) else da.asarray(array)
    sample = tuple(transform.input_shape)
    coeffs = tuple(transform.output_shape)
    k = x.ndim - len(sample)
    if k < 0 or tuple(x.shape[k:]) != sample:
        raise ValueError(
            f"array has shape {tuple(x.shape)}; expected (..., {', '.join(map(str, sample))})"
        )
    if x.dtype not in (np.float32, np.float64):
        if np.issubdtype(x.dtype, np.complexfloating):
            raise ValueError("the input must be real; got a complex array")
        x = x.astype(np.float64)
    x = x.rechunk({axis: -1 for axis in range(k, x.ndim)})
    letters = iter(string.ascii_letters)
    lead = "".join(next(letters) for _ in range(k))
    ins = "".join(next(letters) for _ in sample)
    outs = "".join(next(letters) for _ in coeffs)
    return da.blockwise(
        _apply,
        lead + outs,
        x,
        lead + ins,
        transform,
        None,
        new_axes=dict(zip(outs, coeffs)),
        concatenate=True,
        dtype=x.dtype,
        meta=np.empty((0,) * (k + len(coeffs)), dtype=x.dtype),
    )
