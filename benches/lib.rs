//! Shared helpers for the benchmarks (deterministic inputs).
