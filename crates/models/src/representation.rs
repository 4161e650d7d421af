//! Differentiable representations `Φ`: a moment vector of a signal and the vector-Jacobian
//! product of that map, which is all a sampler needs.

use crate::error::{check_finite, check_len, ModelError, Result};
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex64;
use rand_distr::Distribution;
use scattering_engine::fourier2d::Fft2d;
use scattering_transform::{
    Averaging, Padding, Real, Scattering1d, Scattering1dParams, Scattering2d, Scattering2dParams,
    Transform,
};

/// A differentiable map from signals (flattened to `input_len` values) to `output_len`
/// moments. Implement it to use your own statistics with the samplers.
pub trait Representation: Sync {
    /// Length of the (flattened) signal.
    fn input_len(&self) -> usize;
    /// Number of moments.
    fn output_len(&self) -> usize;
    /// The moments `Φ(x)`.
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>>;
    /// The vector-Jacobian product `(∂Φ/∂x)ᵀ v`.
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>>;
    /// `Φ(x)` and the vector-Jacobian product for the cotangent `cotangent(Φ(x))`, in one
    /// call: what a descent on a loss of `Φ(x)` needs at each point. Representations that
    /// keep their intermediate fields (as [`crate::ScatteringSpectra`] does) compute them
    /// once; the default calls [`Self::forward`], then [`Self::backward`].
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let m = self.forward(x)?;
        let v = cotangent(&m);
        let g = self.backward(x, &v)?;
        Ok((m, g))
    }
}

/// A borrowed representation is one: a wrapper such as [`Pooled`] can then hold a
/// representation its caller keeps.
impl<R: Representation + ?Sized> Representation for &R {
    fn input_len(&self) -> usize {
        (**self).input_len()
    }
    fn output_len(&self) -> usize {
        (**self).output_len()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        (**self).forward(x)
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        (**self).backward(x, v)
    }
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        (**self).forward_backward(x, cotangent)
    }
}

fn check_in(r: &dyn Representation, x: &[f64]) -> Result<()> {
    check_len("signal", x.len(), r.input_len())?;
    check_finite("signal", x)
}

/// `Φ(x) = mean(x²)`: its microcanonical set is the sphere of radius `sqrt(n μ)`.
#[derive(Debug, Clone, Copy)]
pub struct L2Norm {
    /// Signal length.
    pub n: usize,
}

impl Representation for L2Norm {
    fn input_len(&self) -> usize {
        self.n
    }
    fn output_len(&self) -> usize {
        1
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        Ok(vec![x.iter().map(|v| v * v).sum::<f64>() / self.n as f64])
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        check_len("cotangent", v.len(), 1)?;
        Ok(x.iter().map(|xi| 2.0 * xi * v[0] / self.n as f64).collect())
    }
}

/// `Φ(x) = mean(|x|)`: its microcanonical set is the surface of an l1 ball (a simplex in each
/// orthant). The subgradient at 0 is 0.
#[derive(Debug, Clone, Copy)]
pub struct L1Norm {
    /// Signal length.
    pub n: usize,
}

impl Representation for L1Norm {
    fn input_len(&self) -> usize {
        self.n
    }
    fn output_len(&self) -> usize {
        1
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        Ok(vec![x.iter().map(|v| v.abs()).sum::<f64>() / self.n as f64])
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        check_len("cotangent", v.len(), 1)?;
        Ok(x.iter()
            .map(|xi| {
                if *xi == 0.0 {
                    0.0
                } else {
                    xi.signum() * v[0] / self.n as f64
                }
            })
            .collect())
    }
}

/// The first four moments of the values, `mean(x^p)` for `p = 1..=4`: the one-point
/// statistics that wavelet moments leave free. Matched with the others, `mean(x⁴)` against
/// `mean(x²)²` sets whether the histogram has one mode or two (a field of `±1` spins has
/// `mean(x⁴) = mean(x²)²`, a Gaussian three times that).
#[derive(Debug, Clone, Copy)]
pub struct Marginal {
    /// Signal length.
    pub n: usize,
}

impl Representation for Marginal {
    fn input_len(&self) -> usize {
        self.n
    }
    fn output_len(&self) -> usize {
        4
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        let mut m = [0.0; 4];
        for &v in x {
            let v2 = v * v;
            m[0] += v;
            m[1] += v2;
            m[2] += v2 * v;
            m[3] += v2 * v2;
        }
        Ok(m.iter().map(|s| s / self.n as f64).collect())
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        check_len("cotangent", v.len(), 4)?;
        let n = self.n as f64;
        Ok(x.iter()
            .map(|&a| (v[0] + a * (2.0 * v[1] + a * (3.0 * v[2] + 4.0 * a * v[3]))) / n)
            .collect())
    }
}

/// The histogram of the values as `q` quantile means: sort the signal and average each of
/// `q` blocks of consecutive ranks (block `b` holds ranks `⌊b n/q⌋ .. ⌊(b+1) n/q⌋`). Two
/// signals with equal quantile means have marginals at a Wasserstein-2 distance no larger
/// than the spread within the blocks, so matching them sets the whole histogram, atoms
/// included (the zeros of a count field, the two values of a spin field), where
/// [`Marginal`]'s four moments leave it free between them. The map is linear in the sorted
/// values; its vector-Jacobian product sends each block's cotangent back to the block's
/// samples (ties broken by index, a set of measure zero).
#[derive(Debug, Clone, Copy)]
pub struct Quantiles {
    /// Signal length.
    pub n: usize,
    /// Number of blocks, `1 ..= n`.
    pub q: usize,
}

impl Quantiles {
    /// Quantile means of `q` blocks for signals of `n` samples.
    pub fn new(n: usize, q: usize) -> Result<Self> {
        if q == 0 || q > n {
            return Err(ModelError::Param(format!(
                "quantile blocks must number 1 to the signal length {n}, got {q}"
            )));
        }
        Ok(Self { n, q })
    }

    /// First rank of block `b` (`b = q` gives `n`).
    fn start(&self, b: usize) -> usize {
        b * self.n / self.q
    }

    /// Indices of `x` in increasing order of value.
    fn order(x: &[f64]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
        idx
    }

    /// The quantile means of `x`, whose ranks are `idx`.
    fn means(&self, x: &[f64], idx: &[usize]) -> Vec<f64> {
        (0..self.q)
            .map(|b| {
                let r = self.start(b)..self.start(b + 1);
                let len = r.len() as f64;
                idx[r].iter().map(|&i| x[i]).sum::<f64>() / len
            })
            .collect()
    }

    /// The vector-Jacobian product for cotangent `v`, the ranks being `idx`.
    fn spread(&self, idx: &[usize], v: &[f64]) -> Vec<f64> {
        let mut g = vec![0.0; self.n];
        for (b, vb) in v.iter().enumerate() {
            let r = self.start(b)..self.start(b + 1);
            let share = vb / r.len() as f64;
            for &i in &idx[r] {
                g[i] = share;
            }
        }
        g
    }
}

impl Representation for Quantiles {
    fn input_len(&self) -> usize {
        self.n
    }
    fn output_len(&self) -> usize {
        self.q
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        Ok(self.means(x, &Self::order(x)))
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        check_len("cotangent", v.len(), self.q)?;
        Ok(self.spread(&Self::order(x), v))
    }
    /// One sort for both (the default would sort twice per evaluation).
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_in(self, x)?;
        let idx = Self::order(x);
        let m = self.means(x, &idx);
        let v = cotangent(&m);
        check_len("cotangent", v.len(), self.q)?;
        Ok((m, self.spread(&idx, &v)))
    }
}

/// The power spectrum `|x̂(k)|² / n` at every frequency of a 1D signal (`shape = (1, n)`) or
/// an image (`shape = (m, n)`), periodic: the sufficient statistics of a stationary Gaussian
/// model.
pub struct PowerSpectrum {
    shape: (usize, usize),
    fft: Fft2d<f64>,
}

impl PowerSpectrum {
    /// A power spectrum for signals of `shape` (use `(1, n)` for 1D).
    pub fn new(shape: (usize, usize)) -> Result<Self> {
        if shape.0 == 0 || shape.1 == 0 {
            return Err(ModelError::Param(format!("empty shape {shape:?}")));
        }
        Ok(Self {
            shape,
            fft: Fft2d::new(shape.0, shape.1),
        })
    }

    fn fft2(&self, x: &[f64]) -> Vec<Complex64> {
        let mut a: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        self.fft.process(&mut a, false);
        a
    }
}

impl Representation for PowerSpectrum {
    fn input_len(&self) -> usize {
        self.shape.0 * self.shape.1
    }
    fn output_len(&self) -> usize {
        self.input_len()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        let n = self.input_len() as f64;
        Ok(self.fft2(x).iter().map(|c| c.norm_sqr() / n).collect())
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        // d/dx sum_k v_k |F x|_k^2 / n = (2 / n) Re(F^H (v ⊙ F x)); F^H y = conj(F conj(y)).
        check_in(self, x)?;
        check_len("cotangent", v.len(), self.output_len())?;
        let n = self.input_len() as f64;
        let fx = self.fft2(x);
        let (re, im): (Vec<f64>, Vec<f64>) =
            fx.iter().zip(v).map(|(c, w)| (c.re * w, -c.im * w)).unzip();
        // F^H y = conj(F conj y): transform real and imaginary parts separately (both real).
        let (a, b) = (self.fft2(&re), self.fft2(&im));
        Ok(a.iter()
            .zip(&b)
            .map(|(p, q)| 2.0 / n * (p.re - q.im))
            .collect())
    }
}

/// Scattering coefficients of one signal as a moment vector, for any [`Transform`]: with
/// global averaging (what [`ScatteringMoments1d::new`] and [`ScatteringMoments2d::new`]
/// build) these are the expected scattering moments `mean(x)`, `mean |x * ψ_λ1|` and
/// `mean ||x * ψ_λ1| * ψ_λ2|`; with local averaging, every coefficient. Signals are the
/// transform's input flattened row-major, moments its output flattened likewise.
///
/// ```
/// use scattering_models::{Representation, ScatteringMoments};
/// use scattering_transform::{Averaging, SolidHarmonicScattering3dParams};
///
/// // Solid harmonic invariants of a 3D volume as moments, in single precision.
/// let s = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 1).build_f32()?;
/// let phi = ScatteringMoments::from_transform(s);
/// let x: Vec<f64> = (0..512).map(|i| ((i * 7) % 11) as f64).collect();
/// assert_eq!(phi.forward(&x)?.len(), phi.output_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ScatteringMoments<S: Transform> {
    s: S,
    input: Vec<usize>,
    output: Vec<usize>,
}

/// Expected scattering moments of 1D signals (the time transform, global averaging).
pub type ScatteringMoments1d = ScatteringMoments<Scattering1d<f64>>;
/// Expected scattering moments of images (the image transform, global averaging).
pub type ScatteringMoments2d = ScatteringMoments<Scattering2d<f64>>;

impl<S: Transform> ScatteringMoments<S> {
    /// Moments computed by the transform `s`, as it was built.
    pub fn from_transform(s: S) -> Self {
        let (input, output) = (s.input_shape(), s.output_shape());
        Self { s, input, output }
    }

    /// The underlying transform (labels of the moments through `meta()`).
    pub fn transform(&self) -> &S {
        &self.s
    }

    /// `x` as a batch of one sample of the transform's element type.
    fn batch(&self, shape: &[usize], x: &[f64]) -> Result<ArrayD<S::Elem>> {
        let dims: Vec<usize> = std::iter::once(1).chain(shape.iter().copied()).collect();
        ArrayD::from_shape_vec(IxDyn(&dims), x.iter().map(|&v| S::Elem::of(v)).collect())
            .map_err(|e| ModelError::Param(e.to_string()))
    }
}

impl ScatteringMoments1d {
    /// Moments of signals of length `n`: `j` octaves, `q` wavelets per octave (first order),
    /// orders 0..=2, periodic boundaries (stationary signals).
    pub fn new(n: usize, j: usize, q: usize) -> Result<Self> {
        let s = Scattering1dParams::new(n, j)
            .q((q, 1))
            .average(Averaging::Global)
            .padding(Padding::Periodic)
            .build()?;
        Ok(Self::from_transform(s))
    }
}

impl ScatteringMoments2d {
    /// Moments of `shape` images with `j` scales and `l` orientations (sides divisible by 2^j).
    pub fn new(shape: (usize, usize), j: usize, l: usize) -> Result<Self> {
        let s = Scattering2dParams::new(shape, j)
            .l(l)
            .average(Averaging::Global)
            .padding(Padding::Periodic)
            .build()?;
        Ok(Self::from_transform(s))
    }

    /// White noise of standard deviation `std`, band-limited to the frequencies the moments
    /// see: its spectrum is the filter bank's Littlewood-Paley sum (scaled to peak 1).
    /// The gradient of every moment is a combination of first-layer wavelets, so descent never
    /// changes a start's energy outside the bank's support; this start leaves it (nearly) empty
    /// instead of at the white-noise level.
    pub fn band_limited_noise(&self, std: f64, rng: &mut impl rand::Rng) -> Result<Vec<f64>> {
        let p = self.s.params();
        let (m, n) = p.shape;
        let bank = scattering_filters::FilterBank2d::new(m, n, p.j, p.l)
            .map_err(|e| ModelError::Param(e.to_string()))?;
        let lp = bank.littlewood_paley();
        let peak = lp
            .iter()
            .fold(0.0f64, |a, v| a.max(*v))
            .max(f64::MIN_POSITIVE);
        let fft = Fft2d::new(m, n);
        let mut a: Vec<Complex64> = (0..m * n)
            .map(|_| Complex64::new(rand_distr::StandardNormal.sample(rng), 0.0))
            .collect();
        fft.process(&mut a, false);
        // LP is symmetric under k -> -k for this real bank, so the result stays real.
        a.iter_mut()
            .zip(&lp)
            .for_each(|(c, w)| *c *= (w / peak).max(0.0).sqrt());
        fft.process(&mut a, true);
        let x: Vec<f64> = a.iter().map(|c| c.re).collect();
        let sd = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
        Ok(x.iter()
            .map(|v| std * v / sd.max(f64::MIN_POSITIVE))
            .collect())
    }
}

impl<S: Transform> Representation for ScatteringMoments<S> {
    fn input_len(&self) -> usize {
        self.input.iter().product()
    }
    fn output_len(&self) -> usize {
        self.output.iter().product()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        let a = self.batch(&self.input, x)?;
        Ok(self
            .s
            .forward_batch(a.view())?
            .iter()
            .map(|v| v.as_f64())
            .collect())
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_in(self, x)?;
        check_len("cotangent", v.len(), self.output_len())?;
        let (a, g) = (self.batch(&self.input, x)?, self.batch(&self.output, v)?);
        Ok(self
            .s
            .backward_batch(a.view(), g.view())?
            .iter()
            .map(|v| v.as_f64())
            .collect())
    }
}

/// Several representations of the same signal, their moments concatenated (e.g. scattering
/// moments plus [`L2Norm`], which makes a maximum-entropy model normalisable).
pub struct Concat {
    parts: Vec<Box<dyn Representation>>,
}

impl Concat {
    /// Concatenates `parts`, which must all take signals of the same length.
    pub fn new(parts: Vec<Box<dyn Representation>>) -> Result<Self> {
        let Some(first) = parts.first() else {
            return Err(ModelError::Param("Concat needs at least one part".into()));
        };
        let n = first.input_len();
        if parts.iter().any(|p| p.input_len() != n) {
            return Err(ModelError::Param(
                "Concat parts take signals of different lengths".into(),
            ));
        }
        Ok(Self { parts })
    }
}

/// [`Concat`]'s pass over `parts`: runs the first part's `forward_backward`, whose
/// cotangent callback appends its moments to `seen` and recurses on the rest; past the last
/// part, `cotangent` fills `v` from all the moments. Each part's gradient, for its slice of
/// `v`, goes to its place in `grads`.
fn nested(
    parts: &[Box<dyn Representation>],
    x: &[f64],
    seen: &mut Vec<f64>,
    cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    v: &mut Vec<f64>,
    grads: &mut [Vec<f64>],
) -> Result<()> {
    let Some((head, rest)) = parts.split_first() else {
        *v = cotangent(seen);
        return Ok(());
    };
    let (at, k) = (seen.len(), head.output_len());
    let Some((first, later)) = grads.split_first_mut() else {
        return Err(ModelError::Param("one gradient slot per part".into()));
    };
    let mut inner = Ok(());
    let (_, gh) = head.forward_backward(x, &mut |m| {
        seen.extend_from_slice(m);
        inner = nested(rest, x, seen, cotangent, v, later);
        v.get(at..at + k)
            .map_or_else(|| vec![0.0; k], <[f64]>::to_vec)
    })?;
    inner?;
    *first = gh;
    Ok(())
}

impl Representation for Concat {
    fn input_len(&self) -> usize {
        self.parts[0].input_len()
    }
    fn output_len(&self) -> usize {
        self.parts.iter().map(|p| p.output_len()).sum()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(self.output_len());
        for p in &self.parts {
            out.extend(p.forward(x)?);
        }
        Ok(out)
    }
    /// Every part in one pass of its own: each part's cotangent callback runs the next
    /// part, and the innermost asks `cotangent` for the whole vector.
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut all = Vec::with_capacity(self.output_len());
        let mut v = Vec::new();
        let mut grads = vec![Vec::new(); self.parts.len()];
        nested(&self.parts, x, &mut all, cotangent, &mut v, &mut grads)?;
        check_len("cotangent", v.len(), self.output_len())?;
        // Summed in part order, as `backward` does.
        let mut parts = grads.into_iter();
        let mut g = parts.next().unwrap_or_default();
        for p in parts {
            for (gi, d) in g.iter_mut().zip(p) {
                *gi += d;
            }
        }
        Ok((all, g))
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("cotangent", v.len(), self.output_len())?;
        let mut g = vec![0.0; self.input_len()];
        let mut at = 0;
        for p in &self.parts {
            let k = p.output_len();
            for (gi, d) in g.iter_mut().zip(p.backward(x, &v[at..at + k])?) {
                *gi += d;
            }
            at += k;
        }
        Ok(g)
    }
}

/// The mean of a representation over `count` signals laid end to end: `Φ(x₁ … x_k) =
/// (1/k) Σ Φ(x_i)`. A microcanonical synthesis through it draws `k` signals whose moments
/// match the target *on average*, as the originals' do (Morel et al. synthesise batches
/// this way): an intermittent process whose realisations differ (one walk with a burst,
/// three calm ones) is then drawn as such, where `k` separate syntheses would each be
/// pulled to the average.
///
/// ```
/// use scattering_models::{Pooled, Representation, ScatteringMoments1d};
///
/// let pooled = Pooled::new(Box::new(ScatteringMoments1d::new(256, 4, 1)?), 3)?;
/// assert_eq!(pooled.input_len(), 3 * 256);
/// let x: Vec<f64> = (0..3 * 256).map(|i| ((i * 13) % 7) as f64 - 3.0).collect();
/// assert_eq!(pooled.forward(&x)?.len(), pooled.output_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Pooled<'a> {
    inner: Box<dyn Representation + 'a>,
    count: usize,
}

impl<'a> Pooled<'a> {
    /// The mean of `inner` over `count` (at least 1) signals; `inner` may be a borrow
    /// (`Box::new(&phi)`).
    pub fn new(inner: Box<dyn Representation + 'a>, count: usize) -> Result<Self> {
        if count == 0 || inner.input_len().checked_mul(count).is_none() {
            return Err(ModelError::Param(format!(
                "Pooled needs at least one signal and a total length that fits, got {count}"
            )));
        }
        Ok(Self { inner, count })
    }

    /// Signals pooled.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// [`Pooled`]'s pass: the first signal's `forward_backward`, whose cotangent callback adds
/// its moments to `sum` and recurses on the other signals; past the last, `cotangent`
/// gets the mean and its answer, divided by the count, goes back to every signal.
fn pooled_nested(
    inner: &dyn Representation,
    xs: &[f64],
    grads: &mut [f64],
    sum: &mut Vec<f64>,
    count: usize,
    cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    v: &mut Vec<f64>,
) -> Result<()> {
    let n = inner.input_len();
    if xs.is_empty() {
        let mean: Vec<f64> = sum.iter().map(|s| s / count as f64).collect();
        *v = cotangent(&mean).iter().map(|c| c / count as f64).collect();
        *sum = mean;
        return Ok(());
    }
    let (x, rest) = xs.split_at(n);
    let (g, later) = grads.split_at_mut(n);
    let mut deeper = Ok(());
    let (_, gx) = inner.forward_backward(x, &mut |m| {
        if sum.is_empty() {
            sum.extend_from_slice(m);
        } else {
            sum.iter_mut().zip(m).for_each(|(s, v)| *s += v);
        }
        deeper = pooled_nested(inner, rest, later, sum, count, cotangent, v);
        v.clone()
    })?;
    deeper?;
    g.copy_from_slice(&gx);
    Ok(())
}

impl Representation for Pooled<'_> {
    fn input_len(&self) -> usize {
        self.inner.input_len() * self.count
    }
    fn output_len(&self) -> usize {
        self.inner.output_len()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_len("pooled signals", x.len(), self.input_len())?;
        let mut out = vec![0.0; self.output_len()];
        for xi in x.chunks_exact(self.inner.input_len()) {
            for (o, m) in out.iter_mut().zip(self.inner.forward(xi)?) {
                *o += m / self.count as f64;
            }
        }
        Ok(out)
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("pooled signals", x.len(), self.input_len())?;
        check_len("cotangent", v.len(), self.output_len())?;
        let w: Vec<f64> = v.iter().map(|c| c / self.count as f64).collect();
        let mut g = Vec::with_capacity(x.len());
        for xi in x.chunks_exact(self.inner.input_len()) {
            g.extend(self.inner.backward(xi, &w)?);
        }
        Ok(g)
    }
    /// One pass per signal, nested so that each signal's fields are computed once.
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len("pooled signals", x.len(), self.input_len())?;
        let mut g = vec![0.0; x.len()];
        let (mut sum, mut v) = (Vec::with_capacity(self.output_len()), Vec::new());
        pooled_nested(
            self.inner.as_ref(),
            x,
            &mut g,
            &mut sum,
            self.count,
            cotangent,
            &mut v,
        )?;
        check_len("cotangent", v.len(), self.output_len())?;
        Ok((sum, g))
    }
}

/// Moments of another representation, each multiplied by its own weight: `w ⊙ Φ(x)`.
/// Descent on `‖w ⊙ (Φx − μ)‖²` with `w = 1 / |μ|` (see [`Weighted::relative`]) matches
/// every moment to the same relative accuracy, so that the small second-order scattering
/// moments count as much as the large first-order ones.
///
/// ```
/// use scattering_models::{Representation, ScatteringMoments1d, Weighted};
///
/// let phi = ScatteringMoments1d::new(256, 4, 2)?;
/// let x: Vec<f64> = (0..256).map(|i| ((i * 13) % 7) as f64 - 3.0).collect();
/// let mu = phi.forward(&x)?;
/// let w = Weighted::relative(Box::new(phi), &mu, 1e-6)?;
/// // At the target every weighted moment is ±1 (or 0 where the moment is 0).
/// assert!(w.forward(&x)?.iter().all(|v| v.abs() <= 1.0 + 1e-12));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Weighted {
    inner: Box<dyn Representation>,
    w: Vec<f64>,
}

impl Weighted {
    /// `w ⊙ inner(x)`; `w` has one finite weight per moment.
    pub fn new(inner: Box<dyn Representation>, w: Vec<f64>) -> Result<Self> {
        check_len("weights", w.len(), inner.output_len())?;
        check_finite("weights", &w)?;
        Ok(Self { inner, w })
    }

    /// Weights `1 / max(|μ_k|, floor · max_k |μ_k|)`: relative errors per moment, with
    /// moments below `floor` times the largest weighted as if they were at that level (so
    /// that moments at numerical-noise level do not dominate).
    pub fn relative(inner: Box<dyn Representation>, target: &[f64], floor: f64) -> Result<Self> {
        check_len("target", target.len(), inner.output_len())?;
        check_finite("target", target)?;
        if !(floor.is_finite() && floor > 0.0) {
            return Err(ModelError::Param(format!(
                "the weight floor must be positive, got {floor}"
            )));
        }
        let top = target.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let low = (floor * top).max(f64::MIN_POSITIVE);
        let w = target.iter().map(|v| 1.0 / v.abs().max(low)).collect();
        Self::new(inner, w)
    }

    /// The weights.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }
}

impl Representation for Weighted {
    fn input_len(&self) -> usize {
        self.inner.input_len()
    }
    fn output_len(&self) -> usize {
        self.w.len()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        let m = self.inner.forward(x)?;
        Ok(m.iter().zip(&self.w).map(|(a, b)| a * b).collect())
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("cotangent", v.len(), self.w.len())?;
        let wv: Vec<f64> = v.iter().zip(&self.w).map(|(a, b)| a * b).collect();
        self.inner.backward(x, &wv)
    }
    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut weighted = Vec::new();
        let (_, g) = self.inner.forward_backward(x, &mut |m| {
            weighted = m.iter().zip(&self.w).map(|(a, b)| a * b).collect();
            cotangent(&weighted)
                .iter()
                .zip(&self.w)
                .map(|(a, b)| a * b)
                .collect()
        })?;
        Ok((weighted, g))
    }
}

/// Envelope-intensity correlations of an image: `mean((x − x̄) · |x * ψ_j,θ|)` for every
/// wavelet of the 2D Morlet bank (periodic). Scattering moments cannot tell `x` from
/// `2x̄ − x` (the modulus forgets the sign); these odd moments say whether edges sit on bright
/// or dark pixels, which sets the skewness of a texture's histogram. Combine them with
/// [`ScatteringMoments2d`] through [`Concat`].
pub struct EnvelopeCorrelations2d {
    shape: (usize, usize),
    fft: Fft2d<f64>,
    filters: Vec<Vec<f64>>,
}

impl EnvelopeCorrelations2d {
    /// Correlations for `shape` images with `j` scales and `l` orientations.
    pub fn new(shape: (usize, usize), j: usize, l: usize) -> Result<Self> {
        let bank = scattering_filters::FilterBank2d::new(shape.0, shape.1, j, l)
            .map_err(|e| ModelError::Param(e.to_string()))?;
        Ok(Self {
            shape,
            fft: Fft2d::new(shape.0, shape.1),
            filters: bank.psi.iter().map(|f| f.levels[0].data.clone()).collect(),
        })
    }

    fn spectrum(&self, x: &[f64]) -> Vec<Complex64> {
        let mut a: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        self.fft.process(&mut a, false);
        a
    }

    /// `x * ψ` for one filter, from the spectrum of `x`.
    fn filtered(&self, xh: &[Complex64], f: &[f64]) -> Vec<Complex64> {
        let mut w: Vec<Complex64> = xh.iter().zip(f).map(|(c, h)| c * h).collect();
        self.fft.process(&mut w, true);
        w
    }
}

impl Representation for EnvelopeCorrelations2d {
    fn input_len(&self) -> usize {
        self.shape.0 * self.shape.1
    }
    fn output_len(&self) -> usize {
        self.filters.len()
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        check_in(self, x)?;
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let xh = self.spectrum(x);
        Ok(self
            .filters
            .par_iter()
            .map(|f| {
                let w = self.filtered(&xh, f);
                x.iter()
                    .zip(&w)
                    .map(|(xi, wi)| (xi - mean) * wi.norm())
                    .sum::<f64>()
                    / n
            })
            .collect())
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        check_in(self, x)?;
        check_len("cotangent", v.len(), self.output_len())?;
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let xh = self.spectrum(x);
        // d/dx mean((x − x̄) U) = (U − Ū)/n + Re(ψ ⋆ ((x − x̄)/n · w/|w|)), ψ̂ real.
        let parts: Vec<Vec<f64>> = self
            .filters
            .par_iter()
            .zip(v)
            .map(|(f, &vl)| {
                let w = self.filtered(&xh, f);
                let u_mean = w.iter().map(|c| c.norm()).sum::<f64>() / n;
                let mut r: Vec<Complex64> = w
                    .iter()
                    .zip(x)
                    .map(|(wi, xi)| {
                        let m = wi.norm();
                        if m > 0.0 {
                            wi / m * ((xi - mean) / n)
                        } else {
                            Complex64::new(0.0, 0.0)
                        }
                    })
                    .collect();
                self.fft.process(&mut r, false);
                r.iter_mut().zip(f).for_each(|(c, h)| *c *= h);
                self.fft.process(&mut r, true);
                w.iter()
                    .zip(&r)
                    .map(|(wi, ri)| vl * ((wi.norm() - u_mean) / n + ri.re))
                    .collect()
            })
            .collect();
        let mut g = vec![0.0; x.len()];
        for p in parts {
            g.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        }
        Ok(g)
    }
}
