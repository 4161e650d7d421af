//! The maximum-entropy fit against a model with a closed form, and the mixture sampler.

use scattering_models::{
    L2Norm, Macrocanonical, Microcanonical, ModelError, Representation, Result,
};

/// `Φ(x) = (mean x, mean x²)`: a user-defined representation. Its maximum-entropy model with
/// `μ = (m, m² + v)` is i.i.d. `N(m, v)`, i.e. `θ = (−n m / v, n / (2v))`.
struct MeanAndPower {
    n: usize,
}

impl Representation for MeanAndPower {
    fn input_len(&self) -> usize {
        self.n
    }
    fn output_len(&self) -> usize {
        2
    }
    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        let n = self.n as f64;
        Ok(vec![
            x.iter().sum::<f64>() / n,
            x.iter().map(|v| v * v).sum::<f64>() / n,
        ])
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        let n = self.n as f64;
        Ok(x.iter().map(|xi| (v[0] + 2.0 * xi * v[1]) / n).collect())
    }
}

#[test]
fn max_entropy_fit_recovers_the_gaussian() {
    let (n, m, v) = (16usize, 0.5, 1.0);
    let phi = MeanAndPower { n };
    let base_std: f64 = 10.0;
    let fit = Macrocanonical {
        seed: 1,
        chains: 16,
        iterations: 800,
        base_std,
        ..Default::default()
    }
    .fit(&phi, &[m, m * m + v])
    .unwrap();
    assert!(
        fit.moment_rel_error < 0.04,
        "mismatch {}",
        fit.moment_rel_error
    );
    // The reference measure N(0, base_std²) is absorbed into θ₂.
    let nf = n as f64;
    let want = [
        -nf * m / v,
        nf / (2.0 * v) - nf / (2.0 * base_std * base_std),
    ];
    for (got, want) in fit.theta.iter().zip(want) {
        assert!(
            (got - want).abs() < 0.15 * want.abs(),
            "θ {:?}, want {want}",
            fit.theta
        );
    }
    assert!(
        fit.acceptance > 0.3 && fit.acceptance < 0.9,
        "{}",
        fit.acceptance
    );
    // The chains are samples of N(m, v).
    let all: Vec<f64> = fit.samples.iter().flatten().copied().collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64;
    assert!(
        (mean - m).abs() < 0.2 && (var - v).abs() < 0.3,
        "{mean} {var}"
    );
}

#[test]
fn max_entropy_fit_rejects_bad_settings() {
    let phi = L2Norm { n: 8 };
    let bad = Macrocanonical {
        chains: 0,
        ..Default::default()
    };
    assert!(matches!(bad.fit(&phi, &[1.0]), Err(ModelError::Param(_))));
    let ok = Macrocanonical::default();
    assert!(matches!(
        ok.fit(&phi, &[1.0, 2.0]),
        Err(ModelError::Length { .. })
    ));
    assert!(matches!(
        ok.fit(&phi, &[f64::NAN]),
        Err(ModelError::NonFinite(_))
    ));
    assert!(matches!(ok.fit(&phi, &[0.0]), Err(ModelError::Param(_))));
}

#[test]
fn mixture_matches_each_realisation_and_reports_progress() {
    let phi = L2Norm { n: 32 };
    let targets = vec![vec![0.5], vec![2.0], vec![4.0]];
    let mc = Microcanonical::default();
    let draws = mc.sample_mixture(&phi, &targets).unwrap();
    assert_eq!(draws.len(), 3);
    for (d, t) in draws.iter().zip(&targets) {
        let got = phi.forward(&d.x).unwrap()[0];
        assert!((got - t[0]).abs() < 1e-4 * t[0], "{got} vs {t:?}");
    }
    // Different seeds: the draws are not rescaled copies of one another.
    let cos = draws[0]
        .x
        .iter()
        .zip(&draws[1].x)
        .map(|(a, b)| a * b)
        .sum::<f64>()
        / (0.5f64 * 32.0 * 2.0 * 32.0).sqrt();
    assert!(cos.abs() < 0.9, "{cos}");
    assert!(mc.sample_mixture(&phi, &[]).is_err());

    let mut seen = Vec::new();
    let mut record = |i: usize, loss: f64| seen.push((i, loss));
    let d = mc.sample_with_progress(&phi, &[2.0], &mut record).unwrap();
    assert_eq!(seen.len(), d.loss_curve.len());
    assert_eq!(seen.last().map(|s| s.0), Some(d.loss_curve.len()));
}
