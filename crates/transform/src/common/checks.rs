//! Input checks every transform applies to what a user passes.

use crate::error::{Result, TransformError};
use ndarray::{ArrayView, Axis, Dimension, RemoveAxis};

/// Refuses NaN and infinities in a batch, naming the first one by its sample and its
/// position within the sample (row-major).
pub(crate) fn check_finite<A, D>(a: &ArrayView<'_, A, D>) -> Result<()>
where
    A: Copy + Into<f64>,
    D: Dimension + RemoveAxis,
{
    for (batch, sample) in a.axis_iter(Axis(0)).enumerate() {
        let bad = sample.iter().map(|&v| v.into()).enumerate();
        if let Some((index, value)) = bad.into_iter().find(|(_, v): &(usize, f64)| !v.is_finite()) {
            return Err(TransformError::NonFinite {
                batch,
                index,
                value,
            });
        }
    }
    Ok(())
}

/// Checks that `got` is `(batch, per_sample...)` with `batch >= 1` when `batch` is `None`,
/// or exactly `batch` otherwise; returns the batch size.
pub(crate) fn check_batch_shape(
    what: &'static str,
    got: &[usize],
    per_sample: &[usize],
    batch: Option<usize>,
) -> Result<usize> {
    let ok = got.len() == per_sample.len() + 1
        && got[1..] == *per_sample
        && batch.map_or(got[0] >= 1, |b| got[0] == b);
    if ok {
        return Ok(got[0]);
    }
    let dims: Vec<String> = per_sample.iter().map(|d| d.to_string()).collect();
    let lead = batch.map_or("batch >= 1".to_string(), |b| b.to_string());
    Err(TransformError::Shape {
        what,
        expected: format!("({lead}, {})", dims.join(", ")),
        got: format!("{got:?}"),
    })
}
/// Checks the arguments of a vector-Jacobian product: `x` is `(batch, input...)`, `grad`
/// is `(batch, output...)` with the same batch, both finite; returns the batch size.
pub(crate) fn check_vjp<A, G, DA, DG>(
    x: &ArrayView<'_, A, DA>,
    grad: &ArrayView<'_, G, DG>,
    input: &[usize],
    output: &[usize],
) -> Result<usize>
where
    A: Copy + Into<f64>,
    G: Copy + Into<f64>,
    DA: Dimension + RemoveAxis,
    DG: Dimension + RemoveAxis,
{
    let b = check_batch_shape("input", x.shape(), input, None)?;
    check_batch_shape("output gradient", grad.shape(), output, Some(b))?;
    check_finite(x)?;
    check_finite(grad)?;
    Ok(b)
}
