"""The Kymatio-shaped classes: agreement with Kymatio and with the Rust CLI, gradients,
metadata, precisions, batch shapes, errors, pickling and threads."""

import pickle
import subprocess
import threading

import numpy as np
import pytest

from conftest import fixture
from scattering_rs import HarmonicScattering3D, Scattering1D, Scattering2D


def rel(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


# ---------------------------------------------------------------- Kymatio agreement


def test_1d_matches_kymatio_main():
    x = fixture("kymatio-main", "s1d_input.npy")
    want = fixture("kymatio-main", "s1d_output.npy")
    S = Scattering1D(J=6, shape=1024, Q=8)
    got = S(x)
    assert got.shape == want.shape == (4, 126, 16)
    assert got.dtype == np.float64
    assert rel(got, want) <= 1e-6
    # float32 in, float32 out, still close to Kymatio's float64 result
    got32 = S(x.astype(np.float32))
    assert got32.dtype == np.float32
    assert rel(got32, want) <= 1e-5


def test_1d_second_configuration_matches_kymatio_main():
    x = fixture("kymatio-main", "s1d_case2_input.npy")
    want = fixture("kymatio-main", "s1d_case2_output.npy")
    S = Scattering1D(J=5, shape=x.shape[-1], Q=(4, 2), T=16)
    assert rel(S(x), want) <= 1e-6


def test_2d_matches_kymatio():
    x = fixture("kymatio-0.3.0", "s2d_input.npy")
    want = fixture("kymatio-0.3.0", "s2d_output.npy")
    S = Scattering2D(J=2, shape=(32, 32), L=8)
    assert rel(S(x), want) <= 1e-6
    assert rel(S(x.astype(np.float32)), want) <= 1e-5


def test_3d_matches_kymatio():
    x = fixture("kymatio-0.3.0", "s3d_input.npy")
    want = fixture("kymatio-0.3.0", "s3d_output.npy").astype(np.float64)
    S = HarmonicScattering3D(J=2, shape=(32, 32, 32), L=2, integral_powers=(0.5, 1, 2, 3))
    got = S(x)
    assert got.shape == want.shape == (2, 6, 3, 4)
    # Kymatio computes in float32: compare entry by entry
    assert np.max(np.abs(got - want) / np.abs(want)) <= 1e-6


# ---------------------------------------------------------------- the CLI


def run_cli(scatter_bin, tmp_path, args, x):
    inp, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(inp, x)
    subprocess.run([scatter_bin, *args, "--input", str(inp), "--output", str(out)],
                   check=True, capture_output=True)
    return np.load(out)


def test_equal_to_cli_time(scatter_bin, tmp_path):
    x = np.random.default_rng(1).standard_normal((3, 2000))
    cli = run_cli(scatter_bin, tmp_path, ["time", "-J", "5", "-Q", "4,2", "-T", "16"], x)
    ours = Scattering1D(J=5, shape=2000, Q=(4, 2), T=16)(x)
    np.testing.assert_array_equal(ours, cli)


def test_equal_to_cli_image(scatter_bin, tmp_path):
    x = np.random.default_rng(2).standard_normal((2, 30, 36))
    cli = run_cli(scatter_bin, tmp_path, ["image", "-J", "2", "-L", "6"], x)
    ours = Scattering2D(J=2, shape=(30, 36), L=6)(x)
    np.testing.assert_array_equal(ours, cli)


def test_equal_to_cli_solid(scatter_bin, tmp_path):
    x = np.random.default_rng(3).standard_normal((1, 16, 16, 16))
    cli = run_cli(scatter_bin, tmp_path, ["solid", "-J", "1", "-L", "2"], x)
    ours = HarmonicScattering3D(J=1, shape=16, L=2)(x)
    np.testing.assert_array_equal(ours, cli)


# ---------------------------------------------------------------- gradients


SMALL = [
    lambda: (Scattering1D(J=3, shape=128, Q=(4, 1)), (2, 128)),
    lambda: (Scattering1D(J=3, shape=96, Q=2, T="global"), (2, 96)),
    lambda: (Scattering1D(J=3, shape=64, average=False, max_order=1), (64,)),
    lambda: (Scattering2D(J=2, shape=(12, 14), L=3), (2, 12, 14)),
    lambda: (HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1, 2)), (8, 8, 8)),
]


@pytest.mark.parametrize("make", SMALL)
def test_backward_matches_finite_differences(make):
    S, shape = make()
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape) + 0.5
    g = rng.standard_normal(S(x).shape)
    grad = S.backward(x, g)
    assert grad.shape == x.shape and grad.dtype == np.float64
    for _ in range(3):
        v = rng.standard_normal(shape)
        h = 1e-5
        fd = (np.sum(S(x + h * v) * g) - np.sum(S(x - h * v) * g)) / (2 * h)
        an = np.sum(grad * v)
        assert abs(fd - an) <= 1e-5 * max(abs(fd), np.linalg.norm(grad) * np.linalg.norm(v) * 1e-3)


def test_backward_float32_agrees_with_float64():
    S = Scattering1D(J=4, shape=256, Q=4)
    x = np.random.default_rng(5).standard_normal((3, 256))
    g = S(x)
    g64 = S.backward(x, g)
    g32 = S.backward(x.astype(np.float32), g.astype(np.float32))
    assert g32.dtype == np.float32
    assert rel(g32, g64) <= 1e-4


# ---------------------------------------------------------------- metadata


def test_1d_meta_matches_kymatio():
    m = Scattering1D(J=6, shape=1024, Q=8).meta()
    want = fixture("kymatio-main", "s1d_meta.json")
    np.testing.assert_array_equal(m["order"], want["order"])
    assert m["key"] == [tuple(k) for k in want["key"]]
    for name in ("xi", "sigma", "j", "n"):
        assert m[name].shape == (126, 2)
    # order-1 channels carry psi1's centre frequency, bandwidth and j
    n1 = m["n"][1:39, 0].astype(int)
    np.testing.assert_allclose(m["xi"][1:39, 0], np.array(want["xi1"])[n1], rtol=1e-12)
    np.testing.assert_allclose(m["sigma"][1:39, 0], np.array(want["sigma1"])[n1], rtol=1e-12)
    np.testing.assert_array_equal(m["j"][1:39, 0], np.array(want["j1"])[n1])
    # order 2: second column from psi2; NaN past each channel's order
    n2 = m["n"][39:, 1].astype(int)
    np.testing.assert_allclose(m["xi"][39:, 1], np.array(want["xi2"])[n2], rtol=1e-12)
    assert np.all(np.isnan(m["xi"][0])) and np.all(np.isnan(m["xi"][1:39, 1]))


def test_2d_meta_matches_kymatio():
    m = Scattering2D(J=2, shape=(32, 32)).meta()
    paths = fixture("kymatio-0.3.0", "s2d_meta.json")["paths"]
    assert len(m["order"]) == len(paths) == 81
    for c, p in enumerate(paths):
        assert m["order"][c] == p["order"]
        k = p["order"]
        np.testing.assert_array_equal(m["j"][c, :k], p["j"])
        np.testing.assert_array_equal(m["theta"][c, :k], p["theta"])
        np.testing.assert_array_equal(m["n"][c, :k], p["n"])
        assert np.all(np.isnan(m["j"][c, k:]))


def test_3d_meta_matches_kymatio():
    S = HarmonicScattering3D(J=2, shape=(32, 32, 32), L=2, integral_powers=(0.5, 1, 2, 3))
    m = S.meta()
    paths = fixture("kymatio-0.3.0", "s3d_meta.json")["paths_axis1"]
    assert [p["order"] for p in paths] == list(m["order"])
    assert [tuple(p["j"]) for p in paths] == m["key"]
    np.testing.assert_array_equal(m["l"], [0, 1, 2])
    np.testing.assert_array_equal(m["integral_powers"], [0.5, 1, 2, 3])


def test_defaults_follow_kymatio():
    S = Scattering1D(J=6, shape=1024)
    assert S.T == 64 and S.output_shape[1] == 16
    assert Scattering2D(J=3, shape=(32, 32)).output_shape == (1 + 24 + 192, 4, 4)
    H = HarmonicScattering3D(J=2, shape=(16, 16, 16))
    assert H.output_shape == (6, 4, 3)  # L = 3, powers (0.5, 1, 2)


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_shapes_and_layouts(dtype):
    S = Scattering2D(J=2, shape=(16, 20), L=4)
    x = np.random.default_rng(6).standard_normal((2, 3, 16, 20)).astype(dtype)
    full = S(x)
    assert full.shape == (2, 3) + S.output_shape and full.dtype == dtype
    np.testing.assert_array_equal(S(x[1, 2]), full[1, 2])              # no batch axis
    np.testing.assert_array_equal(S(x[1]), full[1])                    # (B,)
    np.testing.assert_array_equal(S(np.asfortranarray(x)), full)       # Fortran order
    np.testing.assert_array_equal(S(x[:, :, ::-1, :][:, :, ::-1, :]), full)  # strided views
    xb = x.astype(x.dtype.newbyteorder(">"))                          # big-endian
    np.testing.assert_array_equal(S(xb), full)
    assert S(np.zeros((0, 16, 20), dtype)).shape == (0,) + S.output_shape


def test_other_dtypes_become_float64():
    S = Scattering1D(J=3, shape=64)
    xi = np.arange(64) % 7
    out = S(xi)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, S(xi.astype(np.float64)))
    np.testing.assert_array_equal(S(list(map(float, xi))), out)


BAD_CALLS = [
    lambda S: S(np.zeros((3, 100))),
    lambda S: S(np.zeros(())),
    lambda S: S(np.full(128, np.nan)),
    lambda S: S(np.full((2, 128), np.inf)),
    lambda S: S(np.zeros(128, complex)),
    lambda S: S(np.array(["a"] * 128)),
    lambda S: S.backward(np.zeros((2, 128)), np.zeros((3,) + S.output_shape)),
    lambda S: S.backward(np.zeros(128), np.zeros(5)),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call(Scattering1D(J=3, shape=128))


BAD_PARAMS = [
    lambda: Scattering1D(J=20, shape=1024),
    lambda: Scattering1D(J=6.5, shape=1024),
    lambda: Scattering1D(J=3, shape=0),
    lambda: Scattering1D(J=3, shape=256, Q=0),
    lambda: Scattering1D(J=3, shape=256, max_order=3),
    lambda: Scattering1D(J=3, shape=256, T=100000),
    lambda: Scattering1D(J=3, shape=256, oversampling=1),
    lambda: Scattering1D(J=3, shape=256, padding="zero"),
    lambda: Scattering1D(J=3, shape=256, n_threads=0),
    lambda: Scattering1D(J=3, shape=256, average=False, T=8),
    lambda: Scattering2D(J=2, shape=(32,)),
    lambda: Scattering2D(J=9, shape=(32, 32)),
    lambda: Scattering2D(J=2, shape=(32, 32), L=0),
    lambda: Scattering2D(J=2, shape=(32, 32), pre_pad=True),
    lambda: HarmonicScattering3D(J=2, shape=(16, 16, 16), sigma_0=float("nan")),
    lambda: HarmonicScattering3D(J=2, shape=(16, 16, 16), method="standard"),
    lambda: HarmonicScattering3D(J=2, shape=(16, 16, 16), integral_powers=("x",)),
]


@pytest.mark.parametrize("make", BAD_PARAMS)
def test_bad_parameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_error_message_comes_from_rust():
    with pytest.raises(ValueError, match="2\\^J"):
        Scattering1D(J=12, shape=1024)
    with pytest.raises(ValueError, match="not finite"):
        Scattering2D(J=1, shape=(8, 8))(np.full((8, 8), np.nan))


# ---------------------------------------------------------------- pickling, threads


@pytest.mark.parametrize("S", [
    Scattering1D(J=4, shape=300, Q=(3, 2), T="global"),
    Scattering2D(J=1, shape=(9, 11), L=5, average="global"),
    HarmonicScattering3D(J=1, shape=(8, 9, 10), L=1, sigma_0=0.8, integral_powers=(1, 2)),
])
def test_pickles_by_parameters(S):
    T = pickle.loads(pickle.dumps(S))
    assert T == S and repr(T) == repr(S) and T.get_params() == S.get_params()
    x = np.random.default_rng(7).standard_normal(S.input_shape)
    np.testing.assert_array_equal(T(x), S(x))


def test_threads_share_a_transform():
    S = Scattering1D(J=5, shape=2048, Q=4, n_threads=1)
    xs = [np.random.default_rng(i).standard_normal((4, 2048)) for i in range(4)]
    want = [S(x) for x in xs]
    got = [None] * 4

    def work(i):
        for _ in range(3):
            got[i] = S(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
