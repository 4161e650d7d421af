//! Littlewood-Paley bounds of the 1D banks: the frame constants that make the scattering
//! transform contractive (upper bound <= 1) and stable (lower bound away from 0).

use scattering_filters::bank1d::xi_max;
use scattering_filters::littlewood_paley::{bounds, littlewood_paley};
use scattering_filters::{Bank1dParams, FilterBank1d, Gabor};

const CONFIGS: [(usize, (usize, usize)); 6] = [
    (6, (8, 1)),
    (8, (12, 2)),
    (5, (4, 2)),
    (3, (1, 1)),
    (10, (16, 1)),
    (4, (2, 2)),
];

fn bank(j: usize, q: (usize, usize), n: usize) -> FilterBank1d {
    FilterBank1d::new(n, &Bank1dParams::new(j, q, None).unwrap()).unwrap()
}

#[test]
fn upper_bound_is_one_so_the_transform_is_contractive() {
    for (j, q) in CONFIGS {
        let b = bank(j, q, 1 << (j + 4));
        for order in [1, 2] {
            let (_, hi) = bounds(&b.littlewood_paley(order), 0.0, 0.5);
            assert!(hi <= 1.0 + 1e-12, "J={j} Q={q:?} order {order}: max {hi}");
            // phi has unit DC gain, so the sum reaches 1 at w = 0.
            assert!(hi > 1.0 - 1e-9);
        }
    }
}

#[test]
fn lower_bound_over_the_covered_band() {
    for (j, q) in CONFIGS {
        let b = bank(j, q, 1 << (j + 4));
        for (order, qq) in [(1, q.0), (2, q.1)] {
            let (lo, _) = bounds(&b.littlewood_paley(order), 0.0, xi_max(qq));
            // Analytic wavelets see half of a real signal's energy, and neighbours meet at
            // sqrt(1/2) of their peak: the sum dips to about 1/6 between two Q = 1 wavelets.
            assert!(lo > 0.15, "J={j} Q={q:?} order {order}: min {lo}");
        }
    }
}

#[test]
fn analytic_sum_peaks_near_one_per_wavelet() {
    let b = bank(6, (8, 1), 2048);
    let psis: Vec<&[f64]> = b.psi1.iter().map(|f| f.levels[0].as_slice()).collect();
    let lp = littlewood_paley(&psis);
    let (lo, hi) = bounds(&lp, 0.05, 0.4);
    assert!(hi < 2.0 && lo > 0.5, "analytic LP in band: [{lo}, {hi}]");
    // Negative frequencies carry almost nothing.
    let neg_max = lp[1100..1900].iter().cloned().fold(0.0, f64::max);
    assert!(neg_max < 1e-6, "negative-frequency leakage {neg_max}");
}

#[test]
fn gabor_bank_has_the_same_layout_and_bounds() {
    let p = Bank1dParams::new(6, (8, 1), None).unwrap();
    let m = FilterBank1d::new(2048, &p).unwrap();
    let g = FilterBank1d::with_wavelet(2048, &p, &Gabor).unwrap();
    assert_eq!(g.wavelet, "gabor");
    assert_eq!(m.psi1.len(), g.psi1.len());
    for (a, b) in m.psi1.iter().zip(&g.psi1) {
        assert_eq!((a.xi, a.sigma, a.j), (b.xi, b.sigma, b.j));
    }
    // Away from DC the Morlet correction is negligible: both banks cover the band alike.
    let (lm, lg) = (m.littlewood_paley(1), g.littlewood_paley(1));
    for k in 205..=1024 {
        assert!(
            (lm[k] - lg[k]).abs() < 1e-6,
            "bin {k}: {} vs {}",
            lm[k],
            lg[k]
        );
    }
    // Near DC the uncorrected Gabor atoms leak into the low-pass band.
    assert!(lg[1] > lm[1]);
}
