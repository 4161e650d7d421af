//! The trait every transform implements, so that models, inverse problems and bindings
//! are written once for all of them.

use super::checks::check_batch_shape;
use super::parallel::Parallelism;
use crate::error::Result;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use scattering_engine::Real;

/// A scattering transform: a fixed map from samples of [`Self::input_shape`] to
/// coefficients of [`Self::output_shape`], with its vector-Jacobian product.
///
/// Arrays carry a leading batch axis: the input of a batch of `B` samples has shape
/// `(B, input_shape...)`, its coefficients `(B, output_shape...)`. The first per-sample
/// output axis is the one [`Self::meta`] labels (channels in 1D and 2D, paths in 3D).
/// Shapes are checked and NaN or infinite inputs refused with a typed error.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use scattering_transform::{Parallelism, Scattering2dParams, Transform};
///
/// // Code written once for any transform: energy of the coefficients per sample.
/// fn energies<S: Transform>(s: &S, x: &ArrayD<S::Elem>) -> scattering_transform::Result<Vec<f64>> {
///     let sx = s.forward_batch(x.view())?;
///     Ok(sx.outer_iter().map(|c| c.iter().map(|v| v.as_f64().powi(2)).sum()).collect())
/// }
///
/// let s = Scattering2dParams::new((32, 32), 2).build_f32()?.with_parallelism(Parallelism::Sequential)?;
/// let x = ArrayD::from_shape_fn(IxDyn(&[3, 32, 32]), |i| ((i[1] * i[2] + i[0]) % 7) as f32);
/// assert_eq!(energies(&s, &x)?.len(), 3);
/// # use scattering_transform::Real;
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub trait Transform: Send + Sync {
    /// The element type of inputs, coefficients and gradients (`f32` or `f64`).
    type Elem: Real;
    /// The label of one output channel (or path).
    type Label: Clone + std::fmt::Debug + Send + Sync;

    /// Shape of one input sample.
    fn input_shape(&self) -> Vec<usize>;
    /// Shape of the coefficients of one sample.
    fn output_shape(&self) -> Vec<usize>;
    /// One label per index of the first output axis, in output order.
    fn meta(&self) -> &[Self::Label];
    /// The parallelism the transform runs with.
    fn parallelism(&self) -> Parallelism;
    /// Sets the parallelism (`Threads(0)` is refused). Outputs depend on it only through
    /// the order of floating-point sums.
    fn set_parallelism(&mut self, p: Parallelism) -> Result<()>;

    /// Coefficients of the batch `x` written into `out`, of shape `(B, output_shape...)`.
    fn forward_into(
        &self,
        x: ArrayViewD<'_, Self::Elem>,
        out: ArrayViewMutD<'_, Self::Elem>,
    ) -> Result<()>;

    /// Vector-Jacobian product written into `out` (the input's shape): for each sample,
    /// the gradient with respect to `x` of `<S x, grad>`.
    fn backward_into(
        &self,
        x: ArrayViewD<'_, Self::Elem>,
        grad: ArrayViewD<'_, Self::Elem>,
        out: ArrayViewMutD<'_, Self::Elem>,
    ) -> Result<()>;

    /// The transform with another parallelism setting.
    fn with_parallelism(mut self, p: Parallelism) -> Result<Self>
    where
        Self: Sized,
    {
        self.set_parallelism(p)?;
        Ok(self)
    }

    /// Coefficients of the batch `x`, allocated.
    fn forward_batch(&self, x: ArrayViewD<'_, Self::Elem>) -> Result<ArrayD<Self::Elem>> {
        let b = check_batch_shape("input", x.shape(), &self.input_shape(), None)?;
        let mut out = ArrayD::zeros(IxDyn(&batched(b, &self.output_shape())));
        self.forward_into(x, out.view_mut())?;
        Ok(out)
    }

    /// Vector-Jacobian product of the batch `x` with the output gradient `grad`,
    /// allocated.
    fn backward_batch(
        &self,
        x: ArrayViewD<'_, Self::Elem>,
        grad: ArrayViewD<'_, Self::Elem>,
    ) -> Result<ArrayD<Self::Elem>> {
        let b = check_batch_shape("input", x.shape(), &self.input_shape(), None)?;
        let mut out = ArrayD::zeros(IxDyn(&batched(b, &self.input_shape())));
        self.backward_into(x, grad, out.view_mut())?;
        Ok(out)
    }
}

/// `(b, shape...)`.
pub(crate) fn batched(b: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(b).chain(shape.iter().copied()).collect()
}

/// Checks the arrays of a forward call, returns the batch size.
pub(crate) fn check_forward<S: Transform + ?Sized>(
    s: &S,
    x: &ArrayViewD<'_, S::Elem>,
    out: &ArrayViewMutD<'_, S::Elem>,
) -> Result<usize> {
    let b = check_batch_shape("input", x.shape(), &s.input_shape(), None)?;
    check_batch_shape("output", out.shape(), &s.output_shape(), Some(b))?;
    super::checks::check_finite(x)?;
    Ok(b)
}

/// Checks the arrays of a backward call, returns the batch size.
pub(crate) fn check_backward<S: Transform + ?Sized>(
    s: &S,
    x: &ArrayViewD<'_, S::Elem>,
    grad: &ArrayViewD<'_, S::Elem>,
    out: &ArrayViewMutD<'_, S::Elem>,
) -> Result<usize> {
    let b = check_batch_shape("input", x.shape(), &s.input_shape(), None)?;
    check_batch_shape("output gradient", grad.shape(), &s.output_shape(), Some(b))?;
    check_batch_shape("input gradient", out.shape(), &s.input_shape(), Some(b))?;
    super::checks::check_finite(x)?;
    super::checks::check_finite(grad)?;
    Ok(b)
}

/// A dynamic-rank view as a fixed-rank one, after its shape was checked.
pub(crate) fn fixed<'a, A, D: ndarray::Dimension>(
    v: ArrayViewD<'a, A>,
) -> Result<ndarray::ArrayView<'a, A, D>> {
    v.into_dimensionality::<D>()
        .map_err(|e| crate::error::TransformError::Shape {
            what: "input",
            expected: format!("{} axes", D::NDIM.unwrap_or(0)),
            got: e.to_string(),
        })
}

/// [`fixed`] for a mutable view.
pub(crate) fn fixed_mut<'a, A, D: ndarray::Dimension>(
    v: ArrayViewMutD<'a, A>,
) -> Result<ndarray::ArrayViewMut<'a, A, D>> {
    v.into_dimensionality::<D>()
        .map_err(|e| crate::error::TransformError::Shape {
            what: "output",
            expected: format!("{} axes", D::NDIM.unwrap_or(0)),
            got: e.to_string(),
        })
}

/// Implements [`Transform`] for a transform type `$ty<T>` that has the fields `meta` and
/// `exec`, the methods `sample_dims` and `coefficient_dims` (per-sample shapes) and
/// `forward_checked`/`backward_checked` on fixed-rank views `$ix_in` (input) and `$ix_out`
/// (coefficients).
macro_rules! transform_impl {
    ($ty:ident, $label:ty, $ix_in:ident, $ix_out:ident) => {
        impl<T: Real> $crate::common::Transform for $ty<T> {
            type Elem = T;
            type Label = $label;

            fn input_shape(&self) -> Vec<usize> {
                self.sample_dims()
            }
            fn output_shape(&self) -> Vec<usize> {
                self.coefficient_dims()
            }
            fn meta(&self) -> &[$label] {
                &self.meta
            }
            fn parallelism(&self) -> $crate::common::Parallelism {
                self.exec.setting()
            }
            fn set_parallelism(&mut self, p: $crate::common::Parallelism) -> Result<()> {
                self.exec = $crate::common::parallel::Executor::new(p)?;
                Ok(())
            }
            fn forward_into(
                &self,
                x: ndarray::ArrayViewD<'_, T>,
                out: ndarray::ArrayViewMutD<'_, T>,
            ) -> Result<()> {
                use $crate::common::transform::{check_forward, fixed, fixed_mut};
                check_forward(self, &x, &out)?;
                let x = fixed::<_, ndarray::$ix_in>(x)?;
                let mut out = fixed_mut::<_, ndarray::$ix_out>(out)?;
                out.fill(T::zero());
                self.exec.install(|| self.forward_checked(x, out));
                Ok(())
            }
            fn backward_into(
                &self,
                x: ndarray::ArrayViewD<'_, T>,
                grad: ndarray::ArrayViewD<'_, T>,
                out: ndarray::ArrayViewMutD<'_, T>,
            ) -> Result<()> {
                use $crate::common::transform::{check_backward, fixed, fixed_mut};
                check_backward(self, &x, &grad, &out)?;
                let x = fixed::<_, ndarray::$ix_in>(x)?;
                let grad = fixed::<_, ndarray::$ix_out>(grad)?;
                let mut out = fixed_mut::<_, ndarray::$ix_in>(out)?;
                out.fill(T::zero());
                self.exec.install(|| self.backward_checked(x, grad, out));
                Ok(())
            }
        }
    };
}
pub(crate) use transform_impl;
