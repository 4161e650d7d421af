//! Explicit feature maps that approximate the Gaussian kernel, so that linear models
//! (ridge, logistic) on the mapped features stand in for kernel methods at sizes where the
//! n × n kernel matrix does not fit (CIFAR-10's 50,000 images: 20 GB in f64).
//!
//! - [`RandomFourierFeatures`] (Rahimi and Recht 2007): `z(x) = sqrt(2 / D) cos(W x + b)`
//!   with Gaussian `W` and uniform phases; `z(x)·z(y)` is an unbiased estimate of
//!   `exp(-gamma ‖x − y‖²)` with an error of order `1 / sqrt(D)`.
//! - [`Nystrom`] (Williams and Seeger 2001): `m` landmark rows of the training set and
//!   `z(x) = k(x, L) K_LL^(-1/2)`, exact on the span of the landmarks' kernel functions.

use crate::error::{check_features, check_finite2, LearnError, Result};
use crate::kernel_ridge::Kernel;
use crate::linalg::{a_b, sym_eig_desc};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn check_gamma(gamma: f64) -> Result<()> {
    if !(gamma.is_finite() && gamma > 0.0) {
        return Err(LearnError::Param(format!(
            "the Gaussian kernel's gamma must be positive and finite, got {gamma}"
        )));
    }
    Ok(())
}

/// Random Fourier features of the Gaussian kernel `exp(-gamma ‖x − y‖²)`.
#[derive(Debug, Clone, Copy)]
pub struct RandomFourierFeatures {
    /// Inverse squared length scale of the kernel (> 0).
    pub gamma: f64,
    /// Number of features `D` (>= 1).
    pub n_features: usize,
    /// Seed of the random frequencies and phases.
    pub seed: u64,
}

/// A drawn random Fourier map.
#[derive(Debug, Clone)]
pub struct RandomFourierMap {
    /// Frequencies, (input features, D).
    w: Array2<f64>,
    /// Phases in [0, 2 pi), one per output feature.
    b: Array1<f64>,
}

impl RandomFourierFeatures {
    /// Draws the map for inputs of `d` features (frequencies `N(0, 2 gamma I)`).
    pub fn fit(&self, d: usize) -> Result<RandomFourierMap> {
        check_gamma(self.gamma)?;
        if self.n_features == 0 || d == 0 {
            return Err(LearnError::Param(format!(
                "random Fourier features need D >= 1 and inputs of at least one feature, got D = {}, {d} features",
                self.n_features
            )));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let s = (2.0 * self.gamma).sqrt();
        let w = Array2::from_shape_simple_fn((d, self.n_features), || {
            s * rng.sample::<f64, _>(StandardNormal)
        });
        let b = Array1::from_shape_simple_fn(self.n_features, || {
            rng.random_range(0.0..std::f64::consts::TAU)
        });
        Ok(RandomFourierMap { w, b })
    }
}

impl RandomFourierMap {
    /// The features of every row of `x`, shape (rows, D).
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.w.nrows(), x.ncols())?;
        check_finite2(x, "features")?;
        let scale = (2.0 / self.b.len() as f64).sqrt();
        let mut z = a_b(x, self.w.view());
        z.axis_iter_mut(Axis(0)).for_each(|mut r| {
            r.iter_mut()
                .zip(&self.b)
                .for_each(|(v, &p)| *v = scale * (*v + p).cos())
        });
        Ok(z)
    }

    /// Number of output features `D`.
    pub fn n_features(&self) -> usize {
        self.b.len()
    }
}

/// The Nystrom approximation of a kernel from `n_landmarks` rows of the training set.
#[derive(Debug, Clone, Copy)]
pub struct Nystrom {
    /// The kernel to approximate.
    pub kernel: Kernel,
    /// Number of landmark rows (>= 1; all rows when the set is smaller).
    pub n_landmarks: usize,
    /// Seed of the landmark choice.
    pub seed: u64,
}

/// A fitted Nystrom map.
#[derive(Debug, Clone)]
pub struct NystromMap {
    kernel: Kernel,
    landmarks: Array2<f64>,
    /// `U S^(-1/2)` over the eigenvalues kept, (landmarks, rank).
    projection: Array2<f64>,
}

impl Nystrom {
    /// Chooses the landmarks among the rows of `x` and factors their kernel matrix;
    /// eigenvalues below `1e-12` of the largest are dropped (a rank-deficient `K_LL`).
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<NystromMap> {
        let landmarks = self.landmarks(x)?;
        self.kernel.check()?;
        let k = self.kernel.matrix(landmarks.view(), landmarks.view());
        NystromMap::factor(self.kernel, landmarks, k)
    }

    /// The landmark rows of `x` (`n_landmarks` of them, or all), drawn with the seed.
    pub(crate) fn landmarks(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_finite2(x, "features")?;
        if self.n_landmarks == 0 || x.nrows() == 0 || x.ncols() == 0 {
            return Err(LearnError::Param(format!(
                "the Nystrom map needs at least one landmark and a non-empty training set, got {} landmarks for {} x {}",
                self.n_landmarks,
                x.nrows(),
                x.ncols()
            )));
        }
        let m = self.n_landmarks.min(x.nrows());
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut rows = sample(&mut rng, x.nrows(), m).into_vec();
        rows.sort_unstable();
        Ok(x.select(Axis(0), &rows))
    }
}

impl NystromMap {
    /// The map of `landmarks` whose kernel matrix is `k_ll`: `K_LL^(-1/2)` from its
    /// eigendecomposition, eigenvalues below `1e-12` of the largest dropped.
    pub(crate) fn factor(
        kernel: Kernel,
        landmarks: Array2<f64>,
        k_ll: Array2<f64>,
    ) -> Result<Self> {
        let (s, u) = sym_eig_desc(k_ll.view())?;
        let top = s.first().copied().unwrap_or(0.0);
        let rank = s.iter().take_while(|&&v| v > 1e-12 * top).count();
        if rank == 0 {
            return Err(LearnError::Fit(
                "the landmarks' kernel matrix is zero".into(),
            ));
        }
        let projection =
            Array2::from_shape_fn((landmarks.nrows(), rank), |(i, j)| u[[i, j]] / s[j].sqrt());
        Ok(NystromMap {
            kernel,
            landmarks,
            projection,
        })
    }

    /// The features of every row of `x`, shape (rows, rank).
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.landmarks.ncols(), x.ncols())?;
        check_finite2(x, "features")?;
        let k = self.kernel.matrix(x, self.landmarks.view());
        Ok(self.project(k.view()))
    }

    /// The features of rows whose kernel values against the landmarks are `k` (rows,
    /// landmarks).
    pub(crate) fn project(&self, k: ArrayView2<f64>) -> Array2<f64> {
        a_b(k, self.projection.view())
    }

    /// Number of output features (the numerical rank of the landmarks' kernel matrix).
    pub fn n_features(&self) -> usize {
        self.projection.ncols()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::at_b;

    fn data(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((n, d), || rng.random_range(-1.0..1.0))
    }

    fn worst(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// Inner products of random Fourier features approach the kernel at the `1 / sqrt(D)`
    /// rate: the worst error over 40 x 40 pairs falls about 4x from D = 256 to 4096.
    #[test]
    fn random_fourier_features_approach_the_gaussian_kernel() {
        let x = data(40, 5, 1);
        let gamma = 0.3;
        let exact = Kernel::Gaussian { gamma }.matrix(x.view(), x.view());
        let err = |n_features: usize| {
            let map = RandomFourierFeatures {
                gamma,
                n_features,
                seed: 2,
            }
            .fit(5)
            .unwrap();
            let z = map.transform(x.view()).unwrap();
            worst(&a_b(z.view(), z.t()), &exact)
        };
        let (coarse, fine) = (err(256), err(4096));
        assert!(fine < 0.06, "D = 4096: {fine}");
        assert!(coarse > 2.0 * fine, "D = 256: {coarse}, D = 4096: {fine}");
    }

    /// With every training row as a landmark, Nystrom reproduces the kernel matrix of the
    /// training set; with fewer, it is exact on the landmarks themselves.
    #[test]
    fn nystrom_is_exact_on_its_landmarks() {
        let x = data(30, 4, 3);
        let kernel = Kernel::Gaussian { gamma: 0.5 };
        let exact = kernel.matrix(x.view(), x.view());
        let all = Nystrom {
            kernel,
            n_landmarks: 30,
            seed: 0,
        }
        .fit(x.view())
        .unwrap();
        let z = all.transform(x.view()).unwrap();
        assert!(worst(&a_b(z.view(), z.t()), &exact) < 1e-8);
        let some = Nystrom {
            kernel,
            n_landmarks: 10,
            seed: 0,
        }
        .fit(x.view())
        .unwrap();
        let zl = some.transform(some.landmarks.view()).unwrap();
        let kl = kernel.matrix(some.landmarks.view(), some.landmarks.view());
        assert!(worst(&at_b(zl.t(), zl.t()), &kl) < 1e-8);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = data(5, 2, 0);
        let rff = |gamma: f64, n_features: usize| RandomFourierFeatures {
            gamma,
            n_features,
            seed: 0,
        };
        assert!(rff(0.0, 10).fit(2).is_err());
        assert!(rff(f64::NAN, 10).fit(2).is_err());
        assert!(rff(1.0, 0).fit(2).is_err());
        let map = rff(1.0, 8).fit(2).unwrap();
        assert!(map.transform(data(3, 3, 1).view()).is_err());
        let ny = Nystrom {
            kernel: Kernel::Gaussian { gamma: 1.0 },
            n_landmarks: 0,
            seed: 0,
        };
        assert!(ny.fit(x.view()).is_err());
    }
}
