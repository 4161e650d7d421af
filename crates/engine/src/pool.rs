//! A pool of per-thread workspaces kept by a transform, so that repeated calls reuse
//! their buffers instead of allocating them again.

use std::sync::Mutex;

/// Workspaces of type `W`, at most `keep` of them held between calls.
pub struct Pool<W> {
    items: Mutex<Vec<W>>,
    keep: usize,
}

impl<W> Pool<W> {
    /// An empty pool holding at most `keep_per_thread` workspaces per rayon thread.
    pub fn new(keep_per_thread: usize) -> Self {
        Self {
            items: Mutex::new(Vec::new()),
            keep: keep_per_thread.max(1),
        }
    }

    /// A workspace from the pool, or `make()` when it is empty; it goes back on drop.
    pub fn take(&self, make: impl FnOnce() -> W) -> Pooled<'_, W> {
        let w = self.items.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Pooled {
            w: Some(w.unwrap_or_else(make)),
            pool: self,
        }
    }
}

/// A workspace on loan from a [`Pool`].
pub struct Pooled<'a, W> {
    w: Option<W>,
    pool: &'a Pool<W>,
}

impl<W> std::ops::Deref for Pooled<'_, W> {
    type Target = W;
    fn deref(&self) -> &W {
        self.w
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<W> std::ops::DerefMut for Pooled<'_, W> {
    fn deref_mut(&mut self) -> &mut W {
        self.w
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<W> Drop for Pooled<'_, W> {
    fn drop(&mut self) {
        if let Some(w) = self.w.take() {
            let mut items = self.pool.items.lock().unwrap_or_else(|e| e.into_inner());
            if items.len() < self.pool.keep * rayon::current_num_threads() {
                items.push(w);
            }
        }
    }
}
