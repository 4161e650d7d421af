"""TimeFrequencyScattering from Python: Kymatio main's case A in both formats, labels,
batch axes, gradients, pickling and errors."""

import pickle

import numpy as np
import pytest

from conftest import fixture
from scattering_rs import TimeFrequencyScattering


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("fmt", ["joint", "time"])
def test_case_a_matches_kymatio_main(fmt):
    x = fixture("kymatio-jtfs", "case_a_input.npy")
    want = fixture("kymatio-jtfs", f"case_a_{fmt}_output.npy")
    # Kymatio's positional order: J, J_fr, Q, shape.
    S = TimeFrequencyScattering(6, 3, (8, 2), 2048, Q_fr=2, format=fmt)
    got = S(x)
    assert got.shape == want.shape
    assert rel(got, want) <= 1e-10
    # float32 in, float32 out.
    got32 = S(x.astype(np.float32))
    assert got32.dtype == np.float32
    assert rel(got32, want) <= 1e-4


def test_time_labels_match_kymatio():
    S = TimeFrequencyScattering(6, 3, (8, 2), 2048, Q_fr=2)
    meta = S.meta()
    recs = fixture("kymatio-jtfs", "case_a_time_meta.json")["channels_in_output_order"]
    assert len(meta["order"]) == len(recs) == 536
    for i, r in enumerate(recs):
        assert meta["order"][i] == r["order"]
        assert meta["n1"][i] == (-1 if r["n1"] is None else r["n1"])
        assert meta["n_fr"][i] == (-1 if r["n_fr"] is None else r["n_fr"])


def test_batch_axes_gradient_and_pickle():
    rng = np.random.default_rng(0)
    S = TimeFrequencyScattering(4, 2, 4, 256, T="global", format="time")
    x = rng.standard_normal((2, 3, 256))
    sx = S(x)
    assert sx.shape == (2, 3) + S.output_shape
    # The gradient of <S x, g> against a central difference.
    g = rng.standard_normal(sx.shape)
    v = rng.standard_normal(x.shape)
    an = float(np.sum(S.backward(x, g) * v))
    h = 1e-5
    fd = float(np.sum((S(x + h * v) - S(x - h * v)) * g)) / (2 * h)
    assert abs(an - fd) <= 1e-5 * max(abs(an), abs(fd))
    T = pickle.loads(pickle.dumps(S))
    assert T == S and np.array_equal(T(x), sx)


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError):
        TimeFrequencyScattering(6, 3, 8, 2048, F=0, format="joint")
    with pytest.raises(ValueError):
        TimeFrequencyScattering(6, 3, 8, 2048, format="spectrogram")
    with pytest.raises(ValueError):
        TimeFrequencyScattering(6, 3, 8, 2048, stride=3)
    S = TimeFrequencyScattering(4, 2, 4, 256)
    with pytest.raises(ValueError):
        S(np.zeros((2, 255)))


def test_spiral_equals_the_cli_and_has_gradients(scatter_bin, tmp_path):
    import subprocess

    from scattering_rs import SpiralScattering

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2048))
    S = SpiralScattering(7, 2048, Q=(8, 2))
    sx = S(x)
    assert sx.shape == (2,) + S.output_shape
    meta = S.meta()
    assert len(meta["order"]) == sx.shape[1]
    assert set(meta["spin_chroma"]) == {-1, 0, 1}
    inp, out = tmp_path / "x.npy", tmp_path / "sp.npy"
    np.save(inp, x)
    subprocess.run(
        [str(scatter_bin), "spiral", "--input", str(inp), "--output", str(out), "-J", "7",
         "-Q", "8,2"],
        check=True, capture_output=True,
    )
    np.testing.assert_allclose(np.load(out), sx, rtol=1e-12, atol=0)
    g = rng.standard_normal(sx.shape)
    v = rng.standard_normal(x.shape)
    an = float(np.sum(S.backward(x, g) * v))
    h = 1e-5
    fd = float(np.sum((S(x + h * v) - S(x - h * v)) * g)) / (2 * h)
    assert abs(an - fd) <= 1e-5 * max(abs(an), abs(fd))
    with pytest.raises(ValueError):
        SpiralScattering(7, 2048, Q=2)
