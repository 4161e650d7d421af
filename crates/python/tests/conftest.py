"""Shared fixtures of the Python package's tests: the repository's committed Kymatio
fixtures and the Rust `scatter` binary."""

import os
import pathlib
import shutil

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "data" / "fixtures"


def fixture(version: str, name: str):
    path = FIXTURES / version / name
    if name.endswith(".npy"):
        return np.load(path)
    import json

    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def scatter_bin():
    """The `scatter` CLI: $SCATTER_BIN, else the workspace's release or debug build (CI
    builds it with `cargo test --workspace`)."""
    for cand in (
        os.environ.get("SCATTER_BIN"),
        ROOT / "target" / "release" / "scatter",
        ROOT / "target" / "debug" / "scatter",
        shutil.which("scatter"),
    ):
        if cand and pathlib.Path(cand).is_file():
            return str(cand)
    pytest.skip("the scatter binary is not built (cargo build -p scattering-apps --bin scatter)")
