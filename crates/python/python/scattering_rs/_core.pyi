"""Type stubs of the native module (``scattering_rs._core``). Users import the wrappers in
``scattering_rs`` instead; these classes take positional, already-checked arguments."""

from typing import List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

_Float = npt.NDArray[np.floating]

class Scattering1DCore:
    def __init__(
        self,
        n: int,
        j: int,
        q1: int,
        q2: int,
        t: Optional[int],
        average: str,
        max_order: int,
        padding: str,
        n_threads: Optional[int],
    ) -> None: ...
    def forward(self, x: _Float) -> _Float: ...
    def backward(self, x: _Float, grad_output: _Float) -> _Float: ...
    def paths(self) -> List[Tuple[int, List[int], List[int], List[float], List[float]]]: ...
    @property
    def input_shape(self) -> List[int]: ...
    @property
    def output_shape(self) -> List[int]: ...
    @property
    def t(self) -> int: ...
    @property
    def padded_length(self) -> int: ...

class Scattering2DCore:
    def __init__(
        self,
        m: int,
        n: int,
        j: int,
        l: int,
        max_order: int,
        average: str,
        padding: str,
        n_threads: Optional[int],
    ) -> None: ...
    def forward(self, x: _Float) -> _Float: ...
    def backward(self, x: _Float, grad_output: _Float) -> _Float: ...
    def paths(self) -> List[Tuple[int, List[int], List[int], List[int]]]: ...
    @property
    def input_shape(self) -> List[int]: ...
    @property
    def output_shape(self) -> List[int]: ...
    @property
    def padded_shape(self) -> Tuple[int, int]: ...

class HarmonicScattering3DCore:
    def __init__(
        self,
        shape: Tuple[int, int, int],
        j: int,
        l: int,
        sigma_0: float,
        max_order: int,
        integral_powers: Sequence[float],
        n_threads: Optional[int],
    ) -> None: ...
    def forward(self, x: _Float) -> _Float: ...
    def backward(self, x: _Float, grad_output: _Float) -> _Float: ...
    def paths(self) -> List[Tuple[int, List[int]]]: ...
    @property
    def input_shape(self) -> List[int]: ...
    @property
    def output_shape(self) -> List[int]: ...
