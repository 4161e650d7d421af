//! Shared pieces of the benchmarks: the configurations compared with Kymatio and a
//! deterministic input batch for each.

use ndarray::Array2;

/// A benchmark configuration of 1D scattering.
#[derive(Debug, Clone, Copy)]
pub struct TimeConfig {
    /// Short name used in reports.
    pub name: &'static str,
    /// Octaves.
    pub j: usize,
    /// Signal length.
    pub n: usize,
    /// First-order wavelets per octave (Q2 = 1 as in Kymatio's default).
    pub q: usize,
    /// Batch size.
    pub batch: usize,
}

/// The two configurations of the foundation issue, timed against Kymatio.
pub const TIME_CONFIGS: [TimeConfig; 2] = [
    TimeConfig {
        name: "J6_N8192_Q8_B64",
        j: 6,
        n: 1 << 13,
        q: 8,
        batch: 64,
    },
    TimeConfig {
        name: "J8_N65536_Q12_B8",
        j: 8,
        n: 1 << 16,
        q: 12,
        batch: 8,
    },
];

/// A benchmark configuration of joint time-frequency scattering.
#[derive(Debug, Clone, Copy)]
pub struct JointConfig {
    /// Short name used in reports.
    pub name: &'static str,
    /// Time scales.
    pub j: usize,
    /// Signal length.
    pub n: usize,
    /// Wavelets per octave (Q1, Q2).
    pub q: (usize, usize),
    /// Frequential scales and wavelets per octave.
    pub j_fr: usize,
    /// Frequential wavelets per octave.
    pub q_fr: usize,
    /// Batch size.
    pub batch: usize,
}

/// The configurations of the audio issue, timed against Kymatio's numpy JTFS: case A's
/// parameters at N = 2^14, and J = 10, Q = (12, 2), J_fr = 4 at N = 2^16.
pub const JOINT_CONFIGS: [JointConfig; 2] = [
    JointConfig {
        name: "JTFS_J6_N16384_Q8-2_Jfr3_B16",
        j: 6,
        n: 1 << 14,
        q: (8, 2),
        j_fr: 3,
        q_fr: 2,
        batch: 16,
    },
    JointConfig {
        name: "JTFS_J10_N65536_Q12-2_Jfr4_B4",
        j: 10,
        n: 1 << 16,
        q: (12, 2),
        j_fr: 4,
        q_fr: 1,
        batch: 4,
    },
];

/// A deterministic pseudo-random batch (a linear congruential generator: no dependency,
/// the same numbers on every machine).
pub fn input_batch(batch: usize, n: usize) -> Array2<f64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    Array2::from_shape_fn((batch, n), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// A benchmark configuration of 2D scattering.
#[derive(Debug, Clone, Copy)]
pub struct ImageConfig {
    /// Short name used in reports.
    pub name: &'static str,
    /// Scales.
    pub j: usize,
    /// Image side (square images).
    pub side: usize,
    /// Orientations.
    pub l: usize,
    /// Batch size.
    pub batch: usize,
}

/// The 2D configurations of the image-scattering issue, timed against Kymatio.
pub const IMAGE_CONFIGS: [ImageConfig; 3] = [
    ImageConfig {
        name: "2D_J2_32x32_L8_B256",
        j: 2,
        side: 32,
        l: 8,
        batch: 256,
    },
    ImageConfig {
        name: "2D_J3_28x28_L8_B256",
        j: 3,
        side: 28,
        l: 8,
        batch: 256,
    },
    ImageConfig {
        name: "2D_J4_256x256_L8_B4",
        j: 4,
        side: 256,
        l: 8,
        batch: 4,
    },
];

/// A deterministic batch of images `(batch, side, side)`.
pub fn image_batch(batch: usize, side: usize) -> ndarray::Array3<f64> {
    let flat = input_batch(batch, side * side);
    flat.into_shape_with_order((batch, side, side))
        .unwrap_or_else(|_| unreachable!())
}
