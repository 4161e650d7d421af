//! Python bindings of scattering-rs: the native module `scattering_rs._core` of the Python
//! package `scattering_rs`.
//!
//! The crate is empty unless built with the `python` feature, which maturin turns on (see
//! `pyproject.toml`), so `cargo test --workspace` needs no Python interpreter. The
//! Kymatio-shaped classes users import (`scattering_rs.Scattering1D`, ...) are thin Python
//! wrappers (`python/scattering_rs/`) over the classes defined here, which do the work:
//!
//! - a transform is built once per precision (f64 at construction, so bad parameters raise
//!   at once; f32 on first use) and shared by every call and thread;
//! - inputs are read in place when C-contiguous (copied otherwise), with any leading batch
//!   axes flattened into one, and the GIL is released while Rust computes;
//! - every [`scattering_transform::TransformError`] becomes a Python `ValueError` carrying
//!   its message.
//!
//! Build and test (from the repository root):
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install maturin numpy pytest
//! .venv/bin/pip install ./crates/python && .venv/bin/pytest crates/python/tests
//! ```

#![warn(missing_docs)]

#[cfg(feature = "python")]
mod bindings;
