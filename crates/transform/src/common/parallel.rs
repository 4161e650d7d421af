//! The caller's parallelism setting and the thread pool that carries it out.

use crate::error::{invalid, Result};
use std::sync::OnceLock;

/// How many threads a transform may use.
///
/// The routes a transform takes (samples over threads, or one sample's paths over threads)
/// depend on the thread count, so a setting also fixes the order of floating-point sums:
/// two runs with the same setting give the same outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parallelism {
    /// Rayon's global pool (all cores unless `RAYON_NUM_THREADS` says otherwise), or the
    /// pool the caller is running in.
    #[default]
    Global,
    /// One thread: nothing runs in parallel.
    Sequential,
    /// A dedicated pool of this many threads (at least one).
    Threads(usize),
}

/// Runs closures under a [`Parallelism`]; dedicated pools are built on first use.
#[derive(Debug, Default)]
pub(crate) struct Executor {
    setting: Parallelism,
    pool: OnceLock<Option<rayon::ThreadPool>>,
}

impl Executor {
    /// An executor for `setting`; `Threads(0)` is refused.
    pub(crate) fn new(setting: Parallelism) -> Result<Self> {
        if setting == Parallelism::Threads(0) {
            return Err(invalid("parallelism", "Threads(n) needs n >= 1"));
        }
        Ok(Self {
            setting,
            pool: OnceLock::new(),
        })
    }

    pub(crate) fn setting(&self) -> Parallelism {
        self.setting
    }

    /// Runs `f` in the pool the setting names.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let threads = match self.setting {
            Parallelism::Global => return f(),
            Parallelism::Sequential => 1,
            Parallelism::Threads(n) => n,
        };
        let pool = self.pool.get_or_init(|| {
            // Building a pool fails only when the OS refuses threads; the caller's pool
            // runs the work then, rather than the transform failing.
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .ok()
        });
        match pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }
}
