"""Wavelet scattering transforms computed in Rust, with Kymatio's numpy API.

A Kymatio user changes one import::

    from scattering_rs import Scattering1D        # was: from kymatio.numpy import Scattering1D
    S = Scattering1D(J=6, shape=1024, Q=8)
    Sx = S(x)                                      # x: (..., 1024) float32 or float64
    meta = S.meta()                                # order, xi, sigma, j, n, key
    g = S.backward(x, Sx)                          # gradient of ||S x||^2 / 2

Every transform takes inputs with any leading batch axes, returns a new array of the
input's precision in Kymatio's layout, releases the GIL while it computes, raises
``ValueError`` on bad shapes, parameters or non-finite values, and pickles by its
parameters. ``scattering_rs.sklearn`` has a scikit-learn transformer and
``scattering_rs.dask`` maps a transform over a Dask array.
"""

from ._core import __version__
from ._frontend import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    SpiralScattering,
    TimeFrequencyScattering,
)

__all__ = [
    "Scattering1D",
    "Scattering2D",
    "HarmonicScattering3D",
    "TimeFrequencyScattering",
    "SpiralScattering",
    "__version__",
]
