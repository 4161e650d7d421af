//! The pyo3 classes of `scattering_rs._core`.

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn, Order};
use numpy::{Element, IntoPyArray, PyArrayDyn, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use scattering_transform::{
    Averaging, JointFormat, Padding, Parallelism, Scattering1d, Scattering1dParams, Scattering2d,
    Scattering2dParams, SolidHarmonicScattering3d, SolidHarmonicScattering3dParams, SpiralParams,
    SpiralScattering, TimeFrequencyParams, TimeFrequencyScattering, Transform, TransformError,
};
use std::sync::OnceLock;

fn value_error(e: TransformError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn fmt_shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Splits `shape` into leading batch axes and the trailing `sample` axes, which must match.
fn split_batch<'a>(what: &str, shape: &'a [usize], sample: &[usize]) -> PyResult<&'a [usize]> {
    let k = shape.len().checked_sub(sample.len());
    match k {
        Some(k) if &shape[k..] == sample => Ok(&shape[..k]),
        _ => Err(PyValueError::new_err(format!(
            "{what} has shape {}; expected (..., {}) (any leading batch axes, then one sample)",
            fmt_shape(shape),
            sample
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn concat(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().chain(b).copied().collect()
}

/// `x` as `(batch, sample...)`: a view when it is C-contiguous, a copy otherwise.
fn batched<'a, A: Clone>(
    x: &'a ArrayViewD<'a, A>,
    batch: usize,
    sample: &[usize],
) -> PyResult<CowArray<'a, A, IxDyn>> {
    x.to_shape((IxDyn(&concat(&[batch], sample)), Order::RowMajor))
        .map_err(|e| PyValueError::new_err(format!("cannot reshape the input: {e}")))
}

/// Forward pass over any leading batch axes, the GIL released.
fn forward<'py, S>(
    py: Python<'py>,
    s: &S,
    x: PyReadonlyArrayDyn<'py, S::Elem>,
) -> PyResult<Bound<'py, PyArrayDyn<S::Elem>>>
where
    S: Transform,
    S::Elem: Element,
{
    let view = x.as_array();
    let sample = s.input_shape();
    let lead = split_batch("input", view.shape(), &sample)?.to_vec();
    let batch: usize = lead.iter().product();
    let out_shape = concat(&lead, &s.output_shape());
    let xb = batched(&view, batch, &sample)?;
    let out = py
        .detach(|| -> Result<ArrayD<S::Elem>, TransformError> {
            if batch == 0 {
                return Ok(ArrayD::zeros(IxDyn(&concat(&[0], &s.output_shape()))));
            }
            s.forward_batch(xb.view())
        })
        .map_err(value_error)?;
    let out = out
        .into_shape_with_order(IxDyn(&out_shape))
        .map_err(|e| PyValueError::new_err(format!("cannot shape the output: {e}")))?;
    Ok(out.into_pyarray(py))
}

/// Vector-Jacobian product over any leading batch axes, the GIL released.
fn backward<'py, S>(
    py: Python<'py>,
    s: &S,
    x: PyReadonlyArrayDyn<'py, S::Elem>,
    grad: PyReadonlyArrayDyn<'py, S::Elem>,
) -> PyResult<Bound<'py, PyArrayDyn<S::Elem>>>
where
    S: Transform,
    S::Elem: Element,
{
    let xv = x.as_array();
    let gv = grad.as_array();
    let sample = s.input_shape();
    let coeffs = s.output_shape();
    let lead = split_batch("input", xv.shape(), &sample)?.to_vec();
    let glead = split_batch("grad_output", gv.shape(), &coeffs)?;
    if glead != lead.as_slice() {
        return Err(PyValueError::new_err(format!(
            "grad_output has shape {}; expected {} (the input's batch axes, then the coefficients)",
            fmt_shape(gv.shape()),
            fmt_shape(&concat(&lead, &coeffs))
        )));
    }
    let batch: usize = lead.iter().product();
    let xb = batched(&xv, batch, &sample)?;
    let gb = batched(&gv, batch, &coeffs)?;
    let out = py
        .detach(|| -> Result<ArrayD<S::Elem>, TransformError> {
            if batch == 0 {
                return Ok(ArrayD::zeros(IxDyn(&concat(&[0], &sample))));
            }
            s.backward_batch(xb.view(), gb.view())
        })
        .map_err(value_error)?;
    let out = out
        .into_shape_with_order(IxDyn(xv.shape()))
        .map_err(|e| PyValueError::new_err(format!("cannot shape the gradient: {e}")))?;
    Ok(out.into_pyarray(py))
}

fn parallelism(n_threads: Option<usize>) -> PyResult<Parallelism> {
    match n_threads {
        None => Ok(Parallelism::Global),
        Some(0) => Err(PyValueError::new_err(
            "n_threads must be at least 1 (or None for all cores)",
        )),
        Some(1) => Ok(Parallelism::Sequential),
        Some(n) => Ok(Parallelism::Threads(n)),
    }
}

/// A transform in both precisions: f64 built eagerly (so parameters are checked at
/// construction), f32 on first use.
struct Pair<S64, S32> {
    f64: S64,
    f32: OnceLock<Result<S32, TransformError>>,
    build_f32: Box<dyn Fn() -> Result<S32, TransformError> + Send + Sync>,
}

impl<S64: Transform<Elem = f64>, S32: Transform<Elem = f32>> Pair<S64, S32> {
    /// Builds the f64 transform from `p` now and keeps `p` to build the f32 one later,
    /// both with the parallelism `par`.
    fn new<P: Clone + Send + Sync + 'static>(
        p: P,
        par: Parallelism,
        build_f64: impl Fn(P) -> Result<S64, TransformError>,
        build_f32: impl Fn(P) -> Result<S32, TransformError> + Send + Sync + 'static,
    ) -> PyResult<Self> {
        let f64 = build_f64(p.clone())
            .and_then(|s| s.with_parallelism(par))
            .map_err(value_error)?;
        Ok(Self {
            f64,
            f32: OnceLock::new(),
            build_f32: Box::new(move || build_f32(p.clone())?.with_parallelism(par)),
        })
    }

    fn f32(&self) -> PyResult<&S32> {
        self.f32
            .get_or_init(|| (self.build_f32)())
            .as_ref()
            .map_err(|e| value_error(e.clone()))
    }
}

/// Dispatches `forward`/`backward` on the input's dtype (the Python wrapper casts every
/// other dtype to float64 first).
macro_rules! transform_class {
    ($ty:ident, { $($own:tt)* }) => {
        #[pymethods]
        impl $ty {
            $($own)*

            /// Scattering coefficients of `x` (float32 or float64, shape `(..., sample)`),
            /// in the input's precision.
            fn forward<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                if let Ok(x) = x.extract::<PyReadonlyArrayDyn<'py, f64>>() {
                    Ok(forward(py, &self.inner.f64, x)?.into_any())
                } else if let Ok(x) = x.extract::<PyReadonlyArrayDyn<'py, f32>>() {
                    Ok(forward(py, self.inner.f32()?, x)?.into_any())
                } else {
                    Err(PyValueError::new_err(
                        "expected a float32 or float64 numpy array",
                    ))
                }
            }

            /// Vector-Jacobian product: the gradient with respect to `x` of
            /// `<S x, grad_output>`, per sample.
            fn backward<'py>(
                &self,
                py: Python<'py>,
                x: &Bound<'py, PyAny>,
                grad_output: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                if let (Ok(x), Ok(g)) = (
                    x.extract::<PyReadonlyArrayDyn<'py, f64>>(),
                    grad_output.extract::<PyReadonlyArrayDyn<'py, f64>>(),
                ) {
                    Ok(backward(py, &self.inner.f64, x, g)?.into_any())
                } else if let (Ok(x), Ok(g)) = (
                    x.extract::<PyReadonlyArrayDyn<'py, f32>>(),
                    grad_output.extract::<PyReadonlyArrayDyn<'py, f32>>(),
                ) {
                    Ok(backward(py, self.inner.f32()?, x, g)?.into_any())
                } else {
                    Err(PyValueError::new_err(
                        "expected x and grad_output as numpy arrays of one dtype, float32 or float64",
                    ))
                }
            }

            /// Shape of one input sample.
            #[getter]
            fn input_shape(&self) -> Vec<usize> {
                Transform::input_shape(&self.inner.f64)
            }

            /// Shape of the coefficients of one sample.
            #[getter]
            fn output_shape(&self) -> Vec<usize> {
                Transform::output_shape(&self.inner.f64)
            }
        }
    };
}

/// Time scattering (`scattering_rs.Scattering1D` wraps it).
#[pyclass(frozen, module = "scattering_rs._core")]
struct Scattering1DCore {
    inner: Pair<Scattering1d<f64>, Scattering1d<f32>>,
}

transform_class!(Scattering1DCore, {
    #[new]
    #[pyo3(signature = (n, j, q1, q2, t, average, max_order, padding, n_threads))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n: usize,
        j: usize,
        q1: usize,
        q2: usize,
        t: Option<usize>,
        average: &str,
        max_order: usize,
        padding: &str,
        n_threads: Option<usize>,
    ) -> PyResult<Self> {
        let mut p = Scattering1dParams::new(n, j)
            .q((q1, q2))
            .max_order(max_order)
            .average(averaging(average)?)
            .padding(padding_of(padding)?);
        if let Some(t) = t {
            p = p.t(t);
        }
        Ok(Self {
            inner: Pair::new(p, parallelism(n_threads)?, |p| p.build(), |p| p.build_f32())?,
        })
    }

    /// One tuple `(order, n, j, xi, sigma)` per channel, in output order.
    #[allow(clippy::type_complexity)]
    fn paths(&self) -> Vec<(usize, Vec<usize>, Vec<usize>, Vec<f64>, Vec<f64>)> {
        self.inner
            .f64
            .meta()
            .iter()
            .map(|m| {
                (
                    m.order,
                    m.n.clone(),
                    m.j.clone(),
                    m.xi.clone(),
                    m.sigma.clone(),
                )
            })
            .collect()
    }

    /// Averaging scale T in samples.
    #[getter]
    fn t(&self) -> usize {
        self.inner.f64.t()
    }

    /// Length of the padded signal the filters act on.
    #[getter]
    fn padded_length(&self) -> usize {
        self.inner.f64.padded_len()
    }
});

/// Image scattering (`scattering_rs.Scattering2D` wraps it).
#[pyclass(frozen, module = "scattering_rs._core")]
struct Scattering2DCore {
    inner: Pair<Scattering2d<f64>, Scattering2d<f32>>,
}

transform_class!(Scattering2DCore, {
    #[new]
    #[pyo3(signature = (m, n, j, l, max_order, average, padding, n_threads))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        m: usize,
        n: usize,
        j: usize,
        l: usize,
        max_order: usize,
        average: &str,
        padding: &str,
        n_threads: Option<usize>,
    ) -> PyResult<Self> {
        let p = Scattering2dParams::new((m, n), j)
            .l(l)
            .max_order(max_order)
            .average(averaging(average)?)
            .padding(padding_of(padding)?);
        Ok(Self {
            inner: Pair::new(p, parallelism(n_threads)?, |p| p.build(), |p| p.build_f32())?,
        })
    }

    /// One tuple `(order, n, j, theta)` per channel, in output order.
    #[allow(clippy::type_complexity)]
    fn paths(&self) -> Vec<(usize, Vec<usize>, Vec<usize>, Vec<usize>)> {
        self.inner
            .f64
            .meta()
            .iter()
            .map(|m| (m.order, m.n.clone(), m.j.clone(), m.theta.clone()))
            .collect()
    }

    /// Padded size `(rows, columns)` the filters act on.
    #[getter]
    fn padded_shape(&self) -> (usize, usize) {
        self.inner.f64.padded_shape()
    }
});

/// Solid harmonic scattering (`scattering_rs.HarmonicScattering3D` wraps it).
#[pyclass(frozen, module = "scattering_rs._core")]
struct HarmonicScattering3DCore {
    inner: Pair<SolidHarmonicScattering3d<f64>, SolidHarmonicScattering3d<f32>>,
}

transform_class!(HarmonicScattering3DCore, {
    #[new]
    #[pyo3(signature = (shape, j, l, sigma_0, max_order, integral_powers, n_threads))]
    fn new(
        shape: (usize, usize, usize),
        j: usize,
        l: usize,
        sigma_0: f64,
        max_order: usize,
        integral_powers: Vec<f64>,
        n_threads: Option<usize>,
    ) -> PyResult<Self> {
        let p = SolidHarmonicScattering3dParams::new(shape, j, l)
            .sigma0(sigma_0)
            .max_order(max_order)
            .integral_powers(integral_powers);
        Ok(Self {
            inner: Pair::new(p, parallelism(n_threads)?, |p| p.build(), |p| p.build_f32())?,
        })
    }

    /// One tuple `(order, j)` per path (axis 1 of the output), in output order.
    fn paths(&self) -> Vec<(usize, Vec<usize>)> {
        self.inner
            .f64
            .meta()
            .iter()
            .map(|m| (m.order, m.j.clone()))
            .collect()
    }
});

/// Joint time-frequency scattering (`scattering_rs.TimeFrequencyScattering` wraps it).
#[pyclass(frozen, module = "scattering_rs._core")]
struct TimeFrequencyScatteringCore {
    inner: Pair<TimeFrequencyScattering<f64>, TimeFrequencyScattering<f32>>,
}

transform_class!(TimeFrequencyScatteringCore, {
    #[new]
    #[pyo3(signature = (n, j, j_fr, q1, q2, q_fr, t, average, stride, f, average_fr, stride_fr, format, n_threads))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n: usize,
        j: usize,
        j_fr: usize,
        q1: usize,
        q2: usize,
        q_fr: usize,
        t: Option<usize>,
        average: &str,
        stride: Option<usize>,
        f: Option<usize>,
        average_fr: &str,
        stride_fr: Option<usize>,
        format: &str,
        n_threads: Option<usize>,
    ) -> PyResult<Self> {
        let format = match format {
            "time" => JointFormat::Time,
            "joint" => JointFormat::Joint,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "format must be 'time' or 'joint', got {format:?}"
                )))
            }
        };
        let mut p = TimeFrequencyParams::new(n, j, j_fr)
            .q((q1, q2))
            .q_fr(q_fr)
            .average(averaging(average)?)
            .average_fr(averaging(average_fr)?)
            .format(format);
        if let Some(t) = t {
            p = p.t(t);
        }
        if let Some(s) = stride {
            p = p.stride(s);
        }
        if let Some(f) = f {
            p = p.f(f);
        }
        if let Some(s) = stride_fr {
            p = p.stride_fr(s);
        }
        Ok(Self {
            inner: Pair::new(p, parallelism(n_threads)?, |p| p.build(), |p| p.build_f32())?,
        })
    }

    /// One tuple `(order, n2, n_fr, spin, n1, row, n1_max, n1_stride)` per output channel
    /// (-1 where a field does not apply), in output order.
    #[allow(clippy::type_complexity)]
    fn paths(&self) -> Vec<(usize, i64, i64, i8, i64, i64, i64, i64)> {
        let o = |v: Option<usize>| v.map_or(-1, |v| v as i64);
        self.inner
            .f64
            .meta()
            .iter()
            .map(|m| {
                (
                    m.order,
                    o(m.n2),
                    o(m.n_fr),
                    m.spin,
                    o(m.n1),
                    o(m.row),
                    o(m.n1_max),
                    o(m.n1_stride),
                )
            })
            .collect()
    }
});

/// Spiral scattering (`scattering_rs.SpiralScattering` wraps it).
#[pyclass(frozen, module = "scattering_rs._core")]
struct SpiralScatteringCore {
    inner: Pair<SpiralScattering<f64>, SpiralScattering<f32>>,
}

transform_class!(SpiralScatteringCore, {
    #[new]
    #[pyo3(signature = (n, j, q1, q2, j_chroma, j_octave, t, average, n_threads))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n: usize,
        j: usize,
        q1: usize,
        q2: usize,
        j_chroma: usize,
        j_octave: usize,
        t: Option<usize>,
        average: &str,
        n_threads: Option<usize>,
    ) -> PyResult<Self> {
        let mut p = SpiralParams::new(n, j)
            .q((q1, q2))
            .j_chroma(j_chroma)
            .j_octave(j_octave)
            .average(averaging(average)?);
        if let Some(t) = t {
            p = p.t(t);
        }
        Ok(Self {
            inner: Pair::new(p, parallelism(n_threads)?, |p| p.build(), |p| p.build_f32())?,
        })
    }

    /// One tuple `(order, n1, n2, chroma, octave, spin_chroma, spin_octave)` per output
    /// channel (-1 where a field does not apply), in output order.
    #[allow(clippy::type_complexity)]
    fn paths(&self) -> Vec<(usize, i64, i64, i64, i64, i8, i8)> {
        let o = |v: Option<usize>| v.map_or(-1, |v| v as i64);
        self.inner
            .f64
            .meta()
            .iter()
            .map(|m| {
                (
                    m.order,
                    o(m.n1),
                    o(m.n2),
                    o(m.chroma),
                    o(m.octave),
                    m.spin_chroma,
                    m.spin_octave,
                )
            })
            .collect()
    }
});

fn averaging(a: &str) -> PyResult<Averaging> {
    match a {
        "local" => Ok(Averaging::Local),
        "global" => Ok(Averaging::Global),
        "none" => Ok(Averaging::None),
        _ => Err(PyValueError::new_err(format!(
            "average must be 'local', 'global' or 'none', got {a:?}"
        ))),
    }
}

fn padding_of(p: &str) -> PyResult<Padding> {
    match p {
        "reflect" => Ok(Padding::Reflect),
        "periodic" => Ok(Padding::Periodic),
        _ => Err(PyValueError::new_err(format!(
            "padding must be 'reflect' or 'periodic', got {p:?}"
        ))),
    }
}

/// The native module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scattering1DCore>()?;
    m.add_class::<Scattering2DCore>()?;
    m.add_class::<HarmonicScattering3DCore>()?;
    m.add_class::<TimeFrequencyScatteringCore>()?;
    m.add_class::<SpiralScatteringCore>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
