"""Scattering over Dask arrays, on a local cluster of two worker processes."""

import os
import signal
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from scattering_rs import Scattering1D, Scattering2D  # noqa: E402
from scattering_rs.dask import scatter  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def test_lazy_shapes_chunks_and_dtype():
    S = Scattering2D(J=2, shape=(16, 16), L=4)
    x = da.zeros((10, 3, 16, 16), chunks=(4, 2, 8, 16), dtype=np.float32)
    y = scatter(S, x)
    assert y.shape == (10, 3) + S.output_shape
    assert y.chunks[:2] == ((4, 4, 2), (2, 1))
    assert y.dtype == np.float32
    assert y.compute(scheduler="sync").shape == y.shape
    with pytest.raises(ValueError):
        scatter(S, da.zeros((4, 16, 15)))


def test_64_chunks_equal_the_in_process_transform(client):
    S = Scattering1D(J=6, shape=4096, Q=8)
    x = da.random.default_rng(0).standard_normal((256, 4096), chunks=(4, 4096))
    assert x.numblocks == (64, 1)
    want = S(x.compute())
    got = scatter(S, x).compute()
    np.testing.assert_array_equal(got, want)


def test_a_killed_worker_is_recovered(client):
    S = Scattering1D(J=8, shape=2**14, Q=8)
    x = da.random.default_rng(1).standard_normal((64 * 8, 2**14), chunks=(8, 2**14))
    xs = x.persist()
    want = S(xs.compute())
    future = client.compute(scatter(S, xs))

    def finished(dask_scheduler):
        return sum(ts.state == "memory" and "apply" in str(ts.key)
                   for ts in dask_scheduler.tasks.values())

    deadline = time.time() + 60
    while client.run_on_scheduler(finished) < 4 and time.time() < deadline:
        time.sleep(0.01)
    assert not future.done(), "the run finished before a worker could be killed"
    pid = next(iter(client.run(os.getpid).values()))
    os.kill(pid, signal.SIGKILL)
    got = future.result(timeout=300)
    np.testing.assert_array_equal(got, want)
