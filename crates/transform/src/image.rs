//! Image (2D) scattering: `S x = (x * phi_J, |x * psi_{j1,t1}| * phi_J,
//! ||x * psi_{j1,t1}| * psi_{j2,t2}| * phi_J)` with `j2 > j1`, Kymatio's `Scattering2D`,
//! and its backward pass (vector-Jacobian product).

use crate::error::{invalid, Result, TransformError};
use crate::padding::Padding;
use crate::time::Averaging;
use ndarray::parallel::prelude::*;
use ndarray::{Array3, Array4, ArrayView3, ArrayView4, ArrayViewMut2, ArrayViewMut3, Axis};
use scattering_engine::fourier1d::{modulus, modulus_backward};
use scattering_engine::fourier2d::{split_pair, Plans2d, SparseFilter2d};
use scattering_engine::lowpass2d::SpatialLowpass;
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use scattering_filters::FilterBank2d;
use serde::Serialize;

/// Parameters of a [`Scattering2d`], set with builder methods and checked by `build`.
///
/// ```
/// use scattering_transform::Scattering2dParams;
/// let s = Scattering2dParams::new((32, 32), 2).l(8).build()?;
/// assert_eq!(s.output_shape(), (81, 8, 8));
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scattering2dParams {
    /// Image size `(rows, columns)`.
    pub shape: (usize, usize),
    /// Number of scales; outputs are subsampled by 2^J.
    pub j: usize,
    /// Number of orientations (Kymatio's default 8).
    pub l: usize,
    /// Highest order (0, 1 or 2).
    pub max_order: usize,
    /// Boundary handling: Kymatio's reflection (default), or periodic images (no padding;
    /// sides must be multiples of 2^J; output exactly `M / 2^J x N / 2^J`).
    pub padding: Padding,
    /// `Local`: low-pass at scale 2^J and subsample (Kymatio). `Global`: the mean of each
    /// modulus over the image, one value per channel (expected scattering).
    pub average: Averaging,
}

impl Scattering2dParams {
    /// Kymatio's defaults: L = 8, order 2, reflect padding.
    pub fn new(shape: (usize, usize), j: usize) -> Self {
        Self {
            shape,
            j,
            l: 8,
            max_order: 2,
            padding: Padding::Reflect,
            average: Averaging::Local,
        }
    }
    /// Local (Kymatio) or global averaging.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// Boundary handling.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    /// Number of orientations.
    pub fn l(mut self, l: usize) -> Self {
        self.l = l;
        self
    }
    /// Highest order.
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Builds the transform, computing in `f64`.
    pub fn build(self) -> Result<Scattering2d<f64>> {
        Scattering2d::new(self)
    }
    /// Builds the transform, computing in `f32`.
    pub fn build_f32(self) -> Result<Scattering2d<f32>> {
        Scattering2d::new(self)
    }
}

/// Label of one output channel of a [`Scattering2d`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeta2d {
    /// Scattering order.
    pub order: usize,
    /// Wavelet indices `n = j * L + theta` at each order.
    pub n: Vec<usize>,
    /// Scales at each order.
    pub j: Vec<usize>,
    /// Orientation indices at each order.
    pub theta: Vec<usize>,
}

struct Child2 {
    n2: usize,
    j2: usize,
    channel: usize,
}

struct First2 {
    n1: usize,
    j1: usize,
    channel: usize,
    children: Vec<Child2>,
}

/// 2D scattering transform, built once for an image size and applied to batches.
pub struct Scattering2d<T: Real = f64> {
    params: Scattering2dParams,
    /// Padded size and padding (top, left).
    mp: usize,
    np: usize,
    pad: (usize, usize),
    out: (usize, usize),
    /// Rows/columns dropped on each side of the subsampled output (1 with reflection).
    crop: usize,
    /// Global averaging: each channel is the mean of its modulus over the image.
    global: bool,
    first: Vec<First2>,
    /// Indices into `first` of one or two order-1 paths of the same scale, computed together.
    groups: Vec<Vec<usize>>,
    meta: Vec<PathMeta2d>,
    /// `psi[n][level]`, `phi[level]`, on their supports, in `T`.
    psi: Vec<Vec<SparseFilter2d<T>>>,
    phi: Vec<SparseFilter2d<T>>,
    /// `spatial[k]`: the low-pass of a level-`k` modulus in the image domain, for moduli
    /// whose spectrum is not needed (`None` with global averaging).
    spatial: Vec<Option<SpatialLowpass<T>>>,
    plans: Plans2d<T>,
    pool: Pool<Work2<T>>,
}

/// numpy `mode='reflect'` for any pad width: mirror without repeating the edge, periodically.
fn reflect_index(i: usize, pad: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1) as i64;
    let t = (i as i64 - pad as i64).rem_euclid(period);
    if t < n as i64 {
        t as usize
    } else {
        (period - t) as usize
    }
}

impl<T: Real> Scattering2d<T> {
    fn new(params: Scattering2dParams) -> Result<Self> {
        let (m, n) = params.shape;
        let j = params.j;
        if j == 0 || j > 12 {
            return Err(invalid("J", format!("must be in 1..=12, got {j}")));
        }
        if params.l == 0 {
            return Err(invalid(
                "L",
                "the number of orientations must be at least 1",
            ));
        }
        if m < (1 << j) || n < (1 << j) {
            return Err(invalid(
                "shape",
                format!("image {m}x{n} is smaller than 2^J = {} on a side", 1 << j),
            ));
        }
        if params.max_order > 2 {
            return Err(invalid(
                "max_order",
                format!("must be 0, 1 or 2, got {}", params.max_order),
            ));
        }
        if params.average == Averaging::None {
            return Err(invalid(
                "average",
                "2D scattering averages locally or globally; `None` is not available",
            ));
        }
        let (mp, np, crop) = match params.padding {
            // Kymatio's padded size: ((M + 2^J) // 2^J + 1) * 2^J.
            Padding::Reflect => {
                let padded = |s: usize| ((s + (1 << j)) / (1 << j) + 1) * (1 << j);
                (padded(m), padded(n), 1)
            }
            Padding::Periodic => {
                if m % (1 << j) != 0 || n % (1 << j) != 0 {
                    return Err(invalid(
                        "shape",
                        format!(
                            "periodic images need sides divisible by 2^J = {}, got {m}x{n}",
                            1 << j
                        ),
                    ));
                }
                (m, n, 0)
            }
        };
        let pad = ((mp - m) / 2, (np - n) / 2);
        let bank = FilterBank2d::new(mp, np, j, params.l)?;
        let l = params.l;
        let mut meta = vec![PathMeta2d {
            order: 0,
            n: vec![],
            j: vec![],
            theta: vec![],
        }];
        let mut first = Vec::new();
        if params.max_order >= 1 {
            for (n1, f) in bank.psi.iter().enumerate() {
                meta.push(PathMeta2d {
                    order: 1,
                    n: vec![n1],
                    j: vec![f.j],
                    theta: vec![f.theta],
                });
                first.push(First2 {
                    n1,
                    j1: f.j,
                    channel: 1 + n1,
                    children: vec![],
                });
            }
        }
        if params.max_order >= 2 {
            let mut channel = 1 + bank.psi.len();
            for f in first.iter_mut() {
                for (n2, g) in bank.psi.iter().enumerate() {
                    if g.j <= f.j1 {
                        continue;
                    }
                    f.children.push(Child2 {
                        n2,
                        j2: g.j,
                        channel,
                    });
                    channel += 1;
                    meta.push(PathMeta2d {
                        order: 2,
                        n: vec![f.n1, n2],
                        j: vec![f.j1, g.j],
                        theta: vec![f.n1 % l, g.theta],
                    });
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, f) in first.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.len() == 1 && first[g[0]].j1 == f.j1 => g.push(i),
                _ => groups.push(vec![i]),
            }
        }
        let sparse = |s: &scattering_filters::Spectrum2d| SparseFilter2d::of(&s.data, s.m, s.n);
        let global = params.average == Averaging::Global;
        let out = if global {
            (1, 1)
        } else {
            ((mp >> j) - 2 * crop, (np >> j) - 2 * crop)
        };
        let spatial = bank
            .phi
            .levels
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (!global)
                    .then(|| SpatialLowpass::of(&s.data, (s.m, s.n), 1 << (j - k), crop, out))
                    .flatten()
            })
            .collect();
        Ok(Self {
            psi: bank
                .psi
                .iter()
                .map(|f| f.levels.iter().map(sparse).collect())
                .collect(),
            phi: bank.phi.levels.iter().map(sparse).collect(),
            spatial,
            plans: Plans2d::new(mp, np, j),
            pool: Pool::new(2),
            out,
            crop,
            global,
            params,
            mp,
            np,
            pad,
            groups,
            first,
            meta,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Scattering2dParams {
        &self.params
    }
    /// The filter bank (f64, at the padded size), built anew: the transform keeps only
    /// its own copies of the filters, in its precision and on their supports.
    pub fn bank(&self) -> Result<FilterBank2d> {
        Ok(FilterBank2d::new(
            self.mp,
            self.np,
            self.params.j,
            self.params.l,
        )?)
    }
    /// `(channels, rows, columns)` of the output for one image:
    /// `1 + L J + L^2 J (J - 1) / 2` channels of size about `M / 2^J x N / 2^J`.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        (self.meta.len(), self.out.0, self.out.1)
    }
    /// One label per output channel, in output order.
    pub fn meta(&self) -> &[PathMeta2d] {
        &self.meta
    }
    /// Padded size the filters act on.
    pub fn padded_shape(&self) -> (usize, usize) {
        (self.mp, self.np)
    }

    fn check_input<A: Copy + Into<f64>>(&self, x: &ArrayView3<A>) -> Result<()> {
        let (b, m, n) = x.dim();
        if (m, n) != self.params.shape || b == 0 {
            return Err(TransformError::Shape {
                what: "input",
                expected: format!(
                    "(batch >= 1, {}, {})",
                    self.params.shape.0, self.params.shape.1
                ),
                got: format!("{:?}", x.shape()),
            });
        }
        for ((bb, i, j), v) in x.indexed_iter() {
            let v: f64 = (*v).into();
            if !v.is_finite() {
                return Err(TransformError::NonFinite {
                    batch: bb,
                    index: i * n + j,
                    value: v,
                });
            }
        }
        Ok(())
    }

    fn workspace(&self, backward: bool) -> Pooled<'_, Work2<T>> {
        let mut ws = self
            .pool
            .take(|| Work2::new(self.mp * self.np, self.plans.scratch_len));
        if backward {
            ws.ensure_backward(self.mp * self.np);
        }
        ws
    }

    /// Scattering coefficients of a batch `(batch, M, N)`, as `(batch, channel, M', N')`.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView3<A>) -> Result<Array4<T>> {
        self.check_input(&x)?;
        let (c, a, b) = self.output_shape();
        let mut out = Array4::zeros((x.dim().0, c, a, b));
        if x.dim().0 < rayon::current_num_threads() {
            // Too few images to occupy every thread: spread each image's paths instead.
            let mut ws = self.workspace(false);
            for (o, img) in out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0))) {
                self.load(&mut ws, img.iter().map(|&v| v.into()));
                self.forward_one_parallel(&mut ws, o);
            }
            return Ok(out);
        }
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || self.workspace(false),
                |ws, (o, img)| {
                    self.load(ws, img.iter().map(|&v| v.into()));
                    self.forward_one(ws, o);
                },
            );
        Ok(out)
    }

    /// Vector-Jacobian product: the gradient with respect to each image of
    /// `<S x, grad>`, `grad` of the output's shape.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        grad: ArrayView4<T>,
    ) -> Result<Array3<T>> {
        self.check_input(&x)?;
        let (c, a, b) = self.output_shape();
        if grad.dim() != (x.dim().0, c, a, b) {
            return Err(TransformError::Shape {
                what: "output gradient",
                expected: format!("({}, {c}, {a}, {b})", x.dim().0),
                got: format!("{:?}", grad.shape()),
            });
        }
        if let Some((idx, v)) = grad.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(TransformError::NonFinite {
                batch: idx.0,
                index: (idx.1 * a + idx.2) * b + idx.3,
                value: v.as_f64(),
            });
        }
        let mut out = Array3::zeros(x.raw_dim());
        if x.dim().0 < rayon::current_num_threads() {
            let mut ws = self.workspace(true);
            let rows = out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0)));
            for ((o, img), g) in rows.zip(grad.axis_iter(Axis(0))) {
                self.load(&mut ws, img.iter().map(|&v| v.into()));
                self.backward_one(&mut ws, g, o, true);
            }
            return Ok(out);
        }
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .zip(grad.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || self.workspace(true),
                |ws, ((o, img), g)| {
                    self.load(ws, img.iter().map(|&v| v.into()));
                    self.backward_one(ws, g, o, false);
                },
            );
        Ok(out)
    }

    /// Reflect-pads the image and leaves its (transposed) spectrum in `ws.x`.
    fn load(&self, ws: &mut Work2<T>, img: impl Iterator<Item = f64>) {
        let (m, n) = self.params.shape;
        ws.img.clear();
        ws.img.extend(img.map(T::of));
        let cols: Vec<usize> = (0..self.np)
            .map(|j| reflect_index(j, self.pad.1, n))
            .collect();
        for i in 0..self.mp {
            let row = &ws.img[reflect_index(i, self.pad.0, m) * n..][..n];
            for (x, &sj) in ws.x[i * self.np..(i + 1) * self.np].iter_mut().zip(&cols) {
                *x = Cx::new(row[sj], T::zero());
            }
        }
        self.plans.levels[0].forward_t(&mut ws.x, &mut ws.tmp, &mut ws.scratch);
    }

    /// `z = ifft2(fold(src * h))` from a spectrum to level `ko`.
    fn wavelet(
        &self,
        src: &[Cx<T>],
        h: &SparseFilter2d<T>,
        ko: usize,
        z: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let (mo, no) = (self.mp >> ko, self.np >> ko);
        h.fold(src, mo, no, z, tmp);
        self.plans.levels[ko].inverse_t(z, tmp, scratch);
    }

    /// [`Self::wavelet`], then `u = |z|`.
    #[allow(clippy::too_many_arguments)]
    fn wavelet_modulus(
        &self,
        src: &[Cx<T>],
        h: &SparseFilter2d<T>,
        ko: usize,
        z: &mut [Cx<T>],
        u: &mut [T],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        self.wavelet(src, h, ko, z, tmp, scratch);
        let len = (self.mp >> ko) * (self.np >> ko);
        modulus(&z[..len], &mut u[..len]);
    }

    /// Writes `|z|` into the real (`imag = false`) or imaginary part of `pack`. Two real
    /// moduli share one complex array so that one FFT serves both.
    fn pack_modulus(z: &[Cx<T>], imag: bool, pack: &mut [Cx<T>]) {
        scattering_engine::simd::pack_modulus::<T>(
            bytemuck::cast_slice(z),
            bytemuck::cast_slice_mut(pack),
            imag,
        )
    }

    /// Complex (transposed) spectrum of a real image `u` at level `k` into `out`.
    fn spectrum(
        &self,
        u: &[T],
        k: usize,
        out: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let len = (self.mp >> k) * (self.np >> k);
        for (o, &v) in out[..len].iter_mut().zip(&u[..len]) {
            *o = Cx::new(v, T::zero());
        }
        self.plans.levels[k].forward_t(out, tmp, scratch);
    }

    /// Rows and columns of the unpadded image on the grid subsampled by 2^k.
    fn region(&self, k: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (m, n) = self.params.shape;
        let d = 1usize << k;
        (
            self.pad.0.div_ceil(d)..(self.pad.0 + m).div_ceil(d),
            self.pad.1.div_ceil(d)..(self.pad.1 + n).div_ceil(d),
        )
    }

    /// Means of the real and imaginary parts of a packed pair of moduli (level `k`) over
    /// the unpadded image: global averaging.
    fn region_means(&self, u: &[Cx<T>], k: usize) -> (T, T) {
        let nk = self.np >> k;
        let (rows, cols) = self.region(k);
        let count = (rows.len() * cols.len()) as f64;
        let (re, im) = rows
            .flat_map(|i| u[i * nk + cols.start..i * nk + cols.end].iter())
            .fold((0.0, 0.0), |(a, b), v| {
                (a + v.re.as_f64(), b + v.im.as_f64())
            });
        (T::of(re / count), T::of(im / count))
    }

    /// Adjoint of a region mean: adds `g / count` over the region to `acc`.
    fn region_mean_backward(&self, g: T, k: usize, acc: &mut [T]) {
        let nk = self.np >> k;
        let (rows, cols) = self.region(k);
        let w = g / T::of((rows.len() * cols.len()) as f64);
        for i in rows {
            acc[i * nk + cols.start..i * nk + cols.end]
                .iter_mut()
                .for_each(|a| *a += w);
        }
    }

    /// Low-pass branch from the level-`k` spectrum of `a + i b`, two real arrays: fold to
    /// level J, inverse, unpad. Since the low-pass filter is real and even, the result is
    /// `lowpass(a) + i lowpass(b)`: `a`'s channel gets the real part, `b`'s (if any) the
    /// imaginary part.
    #[allow(clippy::too_many_arguments)]
    fn lowpass_pair(
        &self,
        src: &[Cx<T>],
        k: usize,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        mut oa: ArrayViewMut2<T>,
        ob: Option<ArrayViewMut2<T>>,
    ) {
        let j = self.params.j;
        let (mo, no) = (self.mp >> j, self.np >> j);
        self.phi[k].fold(src, mo, no, buf, tmp);
        self.plans.levels[j].inverse_t(buf, tmp, scratch);
        let c = self.crop;
        for ((a, b), o) in oa.indexed_iter_mut() {
            *o = buf[(a + c) * no + b + c].re;
        }
        if let Some(mut ob) = ob {
            for ((a, b), o) in ob.indexed_iter_mut() {
                *o = buf[(a + c) * no + b + c].im;
            }
        }
    }

    /// Adjoint of the low-pass branch: adds `phi_k * tile(fft(g))` to the level-`k`
    /// spectrum accumulator `acc`.
    #[allow(clippy::too_many_arguments)]
    fn lowpass_backward(
        &self,
        g: ndarray::ArrayView2<T>,
        k: usize,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        acc: &mut [Cx<T>],
    ) {
        let j = self.params.j;
        let (mo, no) = (self.mp >> j, self.np >> j);
        buf[..mo * no]
            .iter_mut()
            .for_each(|v| *v = Cx::new(T::zero(), T::zero()));
        let c = self.crop;
        for ((a, b), v) in g.indexed_iter() {
            buf[(a + c) * no + b + c] = Cx::new(*v, T::zero());
        }
        self.plans.levels[j].forward_t(buf, tmp, scratch);
        self.phi[k].tile_add(&buf[..mo * no], mo, no, acc);
    }

    /// Order 0 of one loaded image into channel 0 of `out`.
    fn order0_forward(&self, ws: &mut Work2<T>, out: ArrayViewMut2<T>) {
        let Work2 {
            img,
            x,
            buf,
            tmp,
            scratch,
            ..
        } = ws;
        if self.global {
            let mean = img.iter().map(|v| v.as_f64()).sum::<f64>() / img.len() as f64;
            let mut out = out;
            out[[0, 0]] = T::of(mean);
        } else {
            self.lowpass_pair(x, 0, buf, tmp, scratch, out, None);
        }
    }

    /// Writes the (one or two) values or maps of a packed pair to the channels `ca` and
    /// `cb`: low-pass of the packed spectrum `spec`, or global means of the packed moduli
    /// `pack`.
    #[allow(clippy::too_many_arguments)]
    fn emit_pair(
        &self,
        pack: &mut [Cx<T>],
        k: usize,
        ca: usize,
        cb: Option<usize>,
        need_spectrum: bool,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        out: &mut ArrayViewMut3<T>,
    ) {
        if self.global {
            let (a, b) = self.region_means(pack, k);
            out[[ca, 0, 0]] = a;
            if let Some(cb) = cb {
                out[[cb, 0, 0]] = b;
            }
            if need_spectrum {
                self.plans.levels[k].forward_t(pack, tmp, scratch);
            }
            return;
        }
        let spatial = self.spatial[k]
            .as_ref()
            .filter(|f| !need_spectrum && f.tmp_len() <= buf.len());
        if let Some(f) = spatial {
            // Straight from the moduli, without their spectrum.
            let n = self.out.0 * self.out.1;
            let o: &mut [T] = bytemuck::cast_slice_mut(&mut tmp[..n]);
            let (oa, ob) = o.split_at_mut(n);
            f.apply(pack, buf, oa, cb.is_some().then_some(&mut *ob));
            for (c, v) in std::iter::once((ca, &*oa)).chain(cb.map(|cb| (cb, &*ob))) {
                out.index_axis_mut(Axis(0), c)
                    .iter_mut()
                    .zip(v)
                    .for_each(|(d, &v)| *d = v);
            }
            return;
        }
        self.plans.levels[k].forward_t(pack, tmp, scratch);
        let (oa, ob) = match cb {
            Some(cb) => {
                let (oa, ob) =
                    out.multi_slice_mut((ndarray::s![ca, .., ..], ndarray::s![cb, .., ..]));
                (oa, Some(ob))
            }
            None => (out.index_axis_mut(Axis(0), ca), None),
        };
        self.lowpass_pair(pack, k, buf, tmp, scratch, oa, ob);
    }

    /// One or two order-1 paths of the same scale and their order-2 children, from the
    /// image spectrum `xs`. Member `g`'s order-1 channel goes to `out[slot(g, 0)]` and its
    /// child `k` to `out[slot(g, 1 + k)]`. Real moduli travel in pairs (`a + i b`), so one
    /// FFT and one low-pass serve two paths.
    fn group_forward(
        &self,
        xs: &[Cx<T>],
        group: &[usize],
        w: &mut Work2<T>,
        out: &mut ArrayViewMut3<T>,
        slot: &dyn Fn(usize, usize) -> usize,
    ) {
        let Work2 {
            z1,
            u1c,
            pk1,
            s1b,
            pk2,
            buf,
            tmp,
            scratch,
            ..
        } = w;
        let members = group.iter().map(|&i| &self.first[i]);
        let pair = group.len() == 2;
        let j1 = self.first[group[0]].j1;
        let (m1, n1) = (self.mp >> j1, self.np >> j1);
        let len1 = m1 * n1;
        for (g, f) in members.clone().enumerate() {
            self.wavelet(xs, &self.psi[f.n1][0], j1, z1, tmp, scratch);
            Self::pack_modulus(&z1[..len1], g == 1, &mut pk1[..len1]);
        }
        let children = members.clone().any(|f| !f.children.is_empty());
        let cb = pair.then(|| slot(1, 0));
        self.emit_pair(pk1, j1, slot(0, 0), cb, children, buf, tmp, scratch, out);
        if !children {
            return;
        }
        if pair {
            // The transposed spectrum is (n1, m1).
            split_pair(&pk1[..len1], n1, m1, &mut u1c[..len1], &mut s1b[..len1]);
        }
        for (g, f) in members.enumerate() {
            let spec: &[Cx<T>] = match (pair, g) {
                (false, _) => pk1,
                (true, 0) => u1c,
                _ => s1b,
            };
            let mut k = 0;
            while k < f.children.len() {
                let c = &f.children[k];
                let pair = f.children.get(k + 1).filter(|d| d.j2 == c.j2);
                let len2 = (self.mp >> c.j2) * (self.np >> c.j2);
                for (imag, d) in std::iter::once(c).chain(pair).enumerate() {
                    self.wavelet(spec, &self.psi[d.n2][j1], c.j2, z1, tmp, scratch);
                    Self::pack_modulus(&z1[..len2], imag == 1, &mut pk2[..len2]);
                }
                let cb = pair.map(|_| slot(g, 2 + k));
                self.emit_pair(pk2, c.j2, slot(g, 1 + k), cb, false, buf, tmp, scratch, out);
                k += 1 + usize::from(pair.is_some());
            }
        }
    }

    /// One loaded image, every path in turn (batches spread over threads).
    fn forward_one(&self, ws: &mut Work2<T>, mut out: ArrayViewMut3<T>) {
        self.order0_forward(ws, out.index_axis_mut(Axis(0), 0));
        let xs = std::mem::take(&mut ws.x);
        for group in &self.groups {
            let slot = |g: usize, k: usize| {
                let f = &self.first[group[g]];
                if k == 0 {
                    f.channel
                } else {
                    f.children[k - 1].channel
                }
            };
            self.group_forward(&xs, group, ws, &mut out, &slot);
        }
        ws.x = xs;
    }

    /// One loaded image with its groups of order-1 paths spread over threads (small
    /// batches).
    fn forward_one_parallel(&self, ws: &mut Work2<T>, mut out: ArrayViewMut3<T>) {
        self.order0_forward(ws, out.index_axis_mut(Axis(0), 0));
        let xs = &ws.x;
        let blocks: Vec<Array3<T>> = self
            .groups
            .par_iter()
            .map_init(
                || self.workspace(false),
                |w, group| {
                    let sizes: Vec<usize> = group
                        .iter()
                        .map(|&i| 1 + self.first[i].children.len())
                        .collect();
                    let total = sizes.iter().sum();
                    let mut block = Array3::zeros((total, self.out.0, self.out.1));
                    let slot = |g: usize, k: usize| if g == 0 { k } else { sizes[0] + k };
                    self.group_forward(xs, group, w, &mut block.view_mut(), &slot);
                    block
                },
            )
            .collect();
        for (group, block) in self.groups.iter().zip(&blocks) {
            let mut row = 0;
            for &i in group {
                let f = &self.first[i];
                out.index_axis_mut(Axis(0), f.channel)
                    .assign(&block.index_axis(Axis(0), row));
                for (k, c) in f.children.iter().enumerate() {
                    out.index_axis_mut(Axis(0), c.channel)
                        .assign(&block.index_axis(Axis(0), row + 1 + k));
                }
                row += 1 + f.children.len();
            }
        }
    }
    /// Adds to `acc0` (the spectrum-domain gradient at full resolution) the contribution
    /// of the order-1 path `f`, channel index `c1`, and its children.
    #[allow(clippy::too_many_arguments)]
    fn first_order_backward(
        &self,
        xs: &[Cx<T>],
        f: &First2,
        c1: usize,
        g: &ArrayView3<T>,
        w: &mut Work2<T>,
        acc0: &mut [Cx<T>],
    ) {
        let zero = Cx::new(T::zero(), T::zero());
        let (mp, np) = (self.mp, self.np);
        let Work2 {
            z1,
            u1,
            u1c,
            z2,
            u2,
            buf,
            tmp,
            scratch,
            acc1,
            acc2,
            gu,
            ..
        } = w;
        let (m1, n1) = (mp >> f.j1, np >> f.j1);
        self.wavelet_modulus(xs, &self.psi[f.n1][0], f.j1, z1, u1, tmp, scratch);
        acc1[..m1 * n1].iter_mut().for_each(|v| *v = zero);
        if !self.global {
            let g1 = g.index_axis(Axis(0), 1 + c1);
            self.lowpass_backward(g1, f.j1, buf, tmp, scratch, acc1);
        }
        if !f.children.is_empty() {
            self.spectrum(u1, f.j1, u1c, tmp, scratch);
        }
        for c in &f.children {
            let (m2, n2) = (mp >> c.j2, np >> c.j2);
            let h = &self.psi[c.n2][f.j1];
            self.wavelet_modulus(u1c, h, c.j2, z2, u2, tmp, scratch);
            // Gradient with respect to U2 (real), then through the modulus.
            if self.global {
                gu[..m2 * n2].iter_mut().for_each(|v| *v = T::zero());
                self.region_mean_backward(g[[c.channel, 0, 0]], c.j2, gu);
            } else {
                acc2[..m2 * n2].iter_mut().for_each(|v| *v = zero);
                let g2 = g.index_axis(Axis(0), c.channel);
                self.lowpass_backward(g2, c.j2, buf, tmp, scratch, acc2);
                self.plans.levels[c.j2].inverse_t(acc2, tmp, scratch);
                let s2 = T::of(1.0 / (m2 * n2) as f64);
                for (gv, a) in gu[..m2 * n2].iter_mut().zip(&acc2[..m2 * n2]) {
                    *gv = a.re * s2;
                }
            }
            modulus_backward(&z2[..m2 * n2], &gu[..m2 * n2], &mut buf[..m2 * n2]);
            self.plans.levels[c.j2].forward_t(buf, tmp, scratch);
            h.tile_add(&buf[..m2 * n2], m2, n2, acc1);
        }
        self.plans.levels[f.j1].inverse_t(acc1, tmp, scratch);
        let s1 = T::of(1.0 / (m1 * n1) as f64);
        for (gv, a) in gu[..m1 * n1].iter_mut().zip(&acc1[..m1 * n1]) {
            *gv = a.re * s1;
        }
        if self.global {
            self.region_mean_backward(g[[1 + c1, 0, 0]], f.j1, gu);
        }
        modulus_backward(&z1[..m1 * n1], &gu[..m1 * n1], &mut buf[..m1 * n1]);
        self.plans.levels[f.j1].forward_t(buf, tmp, scratch);
        self.psi[f.n1][0].tile_add(&buf[..m1 * n1], m1, n1, acc0);
    }

    /// Gradient for one loaded image; `parallel` spreads its first-order paths over
    /// threads (for small batches).
    fn backward_one(
        &self,
        ws: &mut Work2<T>,
        g: ArrayView3<T>,
        mut out: ArrayViewMut2<T>,
        parallel: bool,
    ) {
        let zero = Cx::new(T::zero(), T::zero());
        let (mp, np) = (self.mp, self.np);
        let xs = std::mem::take(&mut ws.x);
        let mut acc0 = std::mem::take(&mut ws.acc0);
        acc0.iter_mut().for_each(|v| *v = zero);
        if !self.global {
            let Work2 {
                buf, tmp, scratch, ..
            } = ws;
            self.lowpass_backward(g.index_axis(Axis(0), 0), 0, buf, tmp, scratch, &mut acc0);
        }
        if parallel {
            let parts: Vec<Vec<Cx<T>>> = self
                .first
                .par_iter()
                .enumerate()
                .fold(
                    || (self.workspace(true), vec![zero; mp * np]),
                    |(mut w, mut acc), (c1, f)| {
                        self.first_order_backward(&xs, f, c1, &g, &mut w, &mut acc);
                        (w, acc)
                    },
                )
                .map(|(_, acc)| acc)
                .collect();
            for part in parts {
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        } else {
            for (c1, f) in self.first.iter().enumerate() {
                self.first_order_backward(&xs, f, c1, &g, ws, &mut acc0);
            }
        }
        let Work2 {
            tmp, scratch, img, ..
        } = ws;
        self.plans.levels[0].inverse_t(&mut acc0, tmp, scratch);
        // Fold the padded gradient back onto the image (adjoint of the reflection).
        let (m, n) = self.params.shape;
        img.iter_mut().for_each(|v| *v = T::zero());
        let s0 = T::of(1.0 / (mp * np) as f64);
        for i in 0..mp {
            let si = reflect_index(i, self.pad.0, m);
            for j in 0..np {
                let sj = reflect_index(j, self.pad.1, n);
                img[si * n + sj] += acc0[i * np + j].re * s0;
            }
        }
        if self.global {
            let w = g[[0, 0, 0]] / T::of((m * n) as f64);
            img.iter_mut().for_each(|v| *v += w);
        }
        for (o, v) in out.iter_mut().zip(img.iter()) {
            *o = *v;
        }
        ws.x = xs;
        ws.acc0 = acc0;
    }
}

/// Per-thread buffers of a [`Scattering2d`].
struct Work2<T> {
    img: Vec<T>,
    x: Vec<Cx<T>>,
    z1: Vec<Cx<T>>,
    u1: Vec<T>,
    u1c: Vec<Cx<T>>,
    z2: Vec<Cx<T>>,
    u2: Vec<T>,
    /// Packed pairs of moduli `a + i b` (orders 1 and 2) and the second split spectrum.
    pk1: Vec<Cx<T>>,
    pk2: Vec<Cx<T>>,
    s1b: Vec<Cx<T>>,
    buf: Vec<Cx<T>>,
    tmp: Vec<Cx<T>>,
    scratch: Vec<Cx<T>>,
    acc0: Vec<Cx<T>>,
    acc1: Vec<Cx<T>>,
    acc2: Vec<Cx<T>>,
    gu: Vec<T>,
}

impl<T: Real> Work2<T> {
    fn new(len: usize, scratch_len: usize) -> Self {
        let z = Cx::new(T::zero(), T::zero());
        Self {
            img: Vec::new(),
            x: vec![z; len],
            z1: vec![z; len],
            u1: Vec::new(),
            u1c: vec![z; len],
            z2: Vec::new(),
            u2: Vec::new(),
            pk1: vec![z; len],
            pk2: vec![z; len],
            s1b: vec![z; len],
            buf: vec![z; len],
            tmp: vec![z; len],
            scratch: vec![z; scratch_len],
            acc0: Vec::new(),
            acc1: Vec::new(),
            acc2: Vec::new(),
            gu: Vec::new(),
        }
    }

    fn ensure_backward(&mut self, len: usize) {
        if self.acc0.len() != len {
            let z = Cx::new(T::zero(), T::zero());
            self.acc0 = vec![z; len];
            self.u1 = vec![T::zero(); len];
            self.z2 = vec![z; len];
            self.u2 = vec![T::zero(); len];
            self.acc1 = vec![z; len];
            self.acc2 = vec![z; len];
            self.gu = vec![T::zero(); len];
        }
    }
}
