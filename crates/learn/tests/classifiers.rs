//! Classifiers against the Bayes error on Gaussian classes with a known answer.

use ndarray::{Array2, Axis};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_learn::{error_rate, AffineSpace, Logistic, Standardizer};

/// Two isotropic unit Gaussians in 10 dimensions with means ±1 along the first axis: the Bayes
/// rule thresholds x0 at 0 and errs with probability Φ(−1) = 0.158655.
fn two_gaussians(n: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = Array2::from_shape_fn((n, 10), |(i, j)| {
        let z: f64 = StandardNormal.sample(&mut rng);
        if j == 0 {
            z + if y[i] == 0 { -1.0 } else { 1.0 }
        } else {
            z
        }
    });
    (x, y)
}

const BAYES: f64 = 0.158655;

#[test]
fn logistic_reaches_the_bayes_error() {
    let (x, y) = two_gaussians(2000, 1);
    let (xt, yt) = two_gaussians(20000, 2);
    let model = Logistic {
        alpha: 1e-3,
        ..Default::default()
    }
    .fit(x.view(), &y)
    .unwrap();
    let err = error_rate(&model.predict(xt.view()).unwrap(), &yt);
    // Standard error of the test estimate is 0.0026; estimation error adds a little.
    assert!(
        (err - BAYES).abs() < 0.012,
        "logistic error {err}, Bayes {BAYES}"
    );
}

#[test]
fn affine_classifier_reaches_the_bayes_error_and_picks_a_small_space() {
    let (x, y) = two_gaussians(2000, 3);
    let (xt, yt) = two_gaussians(20000, 4);
    let model = AffineSpace::new(vec![0, 1, 2, 5, 9], 5)
        .fit(x.view(), &y)
        .unwrap();
    let err = error_rate(&model.predict(xt.view()).unwrap(), &yt);
    assert!(
        (err - BAYES).abs() < 0.012,
        "affine error {err}, Bayes {BAYES}"
    );
    // The class spread is isotropic: extra dimensions do not help, so CV should not pick
    // (nearly) the whole space, where the two affine spaces coincide up to the mean offset.
    assert!(model.dim <= 5, "picked dimension {}", model.dim);
    assert_eq!(model.cv_errors.len(), 5);
}

/// Classes that are lines through different points: x = mean_c + t · dir_c + small noise.
/// Nearest-mean (d = 0) fails, the affine space of dimension 1 separates them almost perfectly.
#[test]
fn affine_classifier_needs_and_finds_the_class_directions() {
    let mut rng = StdRng::seed_from_u64(5);
    let dirs = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ];
    let mut sample = |n: usize| {
        let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let x = Array2::from_shape_fn((n, 4), |(i, j)| {
            let t: f64 = StandardNormal.sample(&mut rng);
            let e: f64 = StandardNormal.sample(&mut rng);
            10.0 * t * dirs[y[i]][j] + 0.05 * e
        });
        (x, y)
    };
    let (x, y) = sample(600);
    let (xt, yt) = sample(3000);
    let model = AffineSpace::new(vec![0, 1, 2], 3)
        .fit(x.view(), &y)
        .unwrap();
    assert!(model.dim >= 1, "cross-validation kept nearest-mean");
    let all = model.predict_dims(xt.view(), &[0, 1]).unwrap();
    let (e0, e1) = (error_rate(&all[0], &yt), error_rate(&all[1], &yt));
    assert!(e0 > 0.3, "nearest mean should fail, got {e0}");
    assert!(e1 < 0.02, "affine d=1 error {e1}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (mut x, y) = two_gaussians(40, 6);
    assert!(AffineSpace::new(vec![1], 2)
        .fit(x.view(), &y[..30])
        .is_err());
    assert!(AffineSpace::new(vec![], 2).fit(x.view(), &y).is_err());
    assert!(AffineSpace::new(vec![1, 2], 1).fit(x.view(), &y).is_err());
    assert!(Logistic::default().fit(x.view(), &vec![0; 40]).is_err());
    let model = AffineSpace::new(vec![1], 2).fit(x.view(), &y).unwrap();
    assert!(model.predict(x.slice(ndarray::s![.., ..5])).is_err());
    x[[3, 3]] = f64::NAN;
    assert!(Logistic::default().fit(x.view(), &y).is_err());
    assert!(AffineSpace::new(vec![1], 2).fit(x.view(), &y).is_err());
    assert!(Standardizer::fit(x.view()).is_err());
    let _ = x.index_axis(Axis(0), 0);
}
