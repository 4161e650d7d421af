//! Times the construction of a large 1D bank: `cargo run --release --example build_bank`.
use scattering_filters::{Bank1dParams, FilterBank1d};
use std::time::Instant;

fn main() -> Result<(), scattering_filters::FilterError> {
    let p = Bank1dParams::new(8, (12, 1), None)?;
    let t = Instant::now();
    let b = FilterBank1d::new(1 << 17, &p)?;
    println!(
        "J=8 Q=12 N=2^17: {} + {} filters in {:.3} s",
        b.psi1.len(),
        b.psi2.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
