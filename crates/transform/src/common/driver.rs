//! The batch driver the transforms share: samples over threads when a batch fills them,
//! otherwise one sample after another with its paths spread over threads.

use ndarray::parallel::prelude::*;
use ndarray::{ArrayView, ArrayViewMut, Axis, Dimension, RemoveAxis};

/// Calls `one(workspace, b, x[b], out[b], spread)` for every sample `b` of a batch.
///
/// With at least as many samples as threads, samples run in parallel, one workspace per
/// rayon job, and `spread` is false. With fewer, samples run in order on one workspace and
/// `spread` is true: `one` should then spread the sample's own paths over the threads.
pub(crate) fn for_each_sample<A, T, DA, DO, W>(
    x: ArrayView<'_, A, DA>,
    mut out: ArrayViewMut<'_, T, DO>,
    workspace: impl Fn() -> W + Sync + Send,
    one: impl Fn(&mut W, usize, ArrayView<'_, A, DA::Smaller>, ArrayViewMut<'_, T, DO::Smaller>, bool)
        + Sync
        + Send,
) where
    A: Sync,
    T: Send + Sync,
    DA: Dimension + RemoveAxis,
    DO: Dimension + RemoveAxis,
{
    if x.len_of(Axis(0)) < rayon::current_num_threads() {
        let mut ws = workspace();
        let samples = out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0)));
        for (b, (o, s)) in samples.enumerate() {
            one(&mut ws, b, s, o, true);
        }
        return;
    }
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(x.axis_iter(Axis(0)).into_par_iter())
        .enumerate()
        .for_each_init(workspace, |ws, (b, (o, s))| one(ws, b, s, o, false));
}

/// Paths per chunk when a sample's path gradients are summed in chunks: at most eight
/// chunks, a number that does not depend on the thread count, so that the summation order
/// (and the result, to the bit) is the same on any machine and in any run.
pub(crate) fn reduction_chunk(paths: usize) -> usize {
    paths.div_ceil(8).max(1)
}
