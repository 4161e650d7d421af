//! Times one gradient of `0.5 ||S x - S y||^2` for a 256 x 256 texture with J = 5, L = 8
//! (the cost of one L-BFGS step of a scattering texture synthesis):
//! `cargo run --release -p scattering-transform --example texture_gradient`.

use ndarray::Array3;
use scattering_transform::{Padding, Scattering2dParams, TransformError};
use std::time::Instant;

fn main() -> Result<(), TransformError> {
    let n = 256;
    let s = Scattering2dParams::new((n, n), 5)
        .l(8)
        .padding(Padding::Periodic)
        .build()?;
    let y = Array3::from_shape_fn((1, n, n), |(_, i, j)| ((i * 7 + j * 13) % 17) as f64 / 17.0);
    let x = Array3::from_shape_fn((1, n, n), |(_, i, j)| ((i * 3 + j * 5) % 11) as f64 / 11.0);
    let sy = s.forward(y.view())?;
    for round in 0..3 {
        let t = Instant::now();
        let d = s.forward(x.view())? - &sy;
        let g = s.backward(x.view(), d.view())?;
        println!(
            "round {round}: forward + backward {:.3} s, |grad| = {:.3e}",
            t.elapsed().as_secs_f64(),
            g.iter().map(|v| v * v).sum::<f64>().sqrt()
        );
    }
    Ok(())
}
