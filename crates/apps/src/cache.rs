//! A feature cache: arrays stored as `.npy` under a key derived from what produced them, so a
//! second run of an experiment skips feature extraction.

use crate::error::AppError;
use crate::io::Outputs;
use ndarray::Array2;
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

/// FNV-1a 64-bit hash, enough to name cache entries (not a security boundary).
pub fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// The FNV-1a offset basis, the starting value of [`fnv1a`].
pub const FNV_START: u64 = 0xcbf29ce484222325;

/// Hash of an array's values (bit patterns), to key caches by input content.
pub fn hash_values(values: impl IntoIterator<Item = f64>) -> u64 {
    let mut h = FNV_START;
    for v in values {
        h = fnv1a(&v.to_bits().to_le_bytes(), h);
    }
    h
}

/// A directory of cached feature matrices.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: Option<PathBuf>,
}

impl FeatureCache {
    /// A cache in `dir`; `None` disables caching. The folder is checked at once (it exists
    /// or can be created, and takes files), so a bad `--cache` stops a run before it
    /// computes anything rather than after.
    pub fn new(dir: Option<PathBuf>) -> Result<Self, AppError> {
        if let Some(d) = &dir {
            crate::io::prepare_folder(d)?;
        }
        Ok(Self { dir })
    }

    /// The file for `name` and `key`.
    pub fn path(&self, name: &str, key: u64) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{name}-{key:016x}.npy")))
    }

    /// Returns the cached array for `(name, key)` if it exists with `rows` rows, otherwise
    /// computes it, stores it (atomically) and returns it. The flag tells whether it was cached.
    pub fn get_or_compute(
        &self,
        name: &str,
        key: u64,
        rows: usize,
        compute: impl FnOnce() -> Result<Array2<f64>, AppError>,
    ) -> Result<(Array2<f64>, bool), AppError> {
        if let Some(p) = self.path(name, key) {
            if let Some(a) = read_if_valid(&p, rows) {
                return Ok((a, true));
            }
        }
        let a = compute()?;
        if let Some(p) = self.path(name, key) {
            let mut out = Outputs::new();
            out.npy(&p, &a)?;
            out.commit()?;
        }
        Ok((a, false))
    }
}

fn read_if_valid(p: &Path, rows: usize) -> Option<Array2<f64>> {
    let f = std::fs::File::open(p).ok()?;
    let a = Array2::<f64>::read_npy(std::io::BufReader::new(f)).ok()?;
    (a.nrows() == rows && a.iter().all(|v| v.is_finite())).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_call_reads_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let c = FeatureCache::new(Some(dir.path().to_path_buf())).unwrap();
        let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64);
        let (x, hit) = c.get_or_compute("f", 42, 3, || Ok(a.clone())).unwrap();
        assert!(!hit && x == a);
        let (y, hit) = c
            .get_or_compute("f", 42, 3, || panic!("must not recompute"))
            .unwrap();
        assert!(hit && y == a);
        // A different row count (another subset) recomputes.
        let (_, hit) = c
            .get_or_compute("f", 42, 4, || Ok(Array2::zeros((4, 2))))
            .unwrap();
        assert!(!hit);
        assert_ne!(hash_values([1.0, 2.0]), hash_values([2.0, 1.0]));
    }
}
