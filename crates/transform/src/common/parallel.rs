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
    /// One thread per call: nothing in a call runs in parallel, and calls made from
    /// different threads run at once (each on a pool of its own thread).
    Sequential,
    /// A dedicated pool of this many threads (at least one).
    Threads(usize),
}

thread_local! {
    /// The one-thread pool that runs the sequential transforms called from this thread
    /// (`None` if the OS refused the thread: the caller's pool runs the work then).
    static SEQUENTIAL: Option<rayon::ThreadPool> =
        rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
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
            // One pool per calling thread, not per transform: a sequential transform shared
            // by several threads (Python threads, Dask workers) then runs one call per
            // thread at once instead of queueing them all on a single worker.
            Parallelism::Sequential => {
                return SEQUENTIAL.with(|pool| match pool {
                    Some(p) => p.install(f),
                    None => f(),
                })
            }
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
