//! Helpers shared by the integration tests of the tools.

/// A PCM WAV file: the 44-byte header with the given rate, channels and bits per sample,
/// then `frames` frames of varied bytes.
#[allow(dead_code)] // not every test file builds WAV files
pub fn wav_bytes(rate: u32, channels: u16, bits: u16, frames: usize) -> Vec<u8> {
    let block = channels * bits.div_ceil(8);
    let data = frames * block as usize;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data as u32).to_le_bytes());
    b.extend((0..data).map(|i| (i * 37 % 251) as u8));
    b
}

/// Runs the `scatter` binary: whether it succeeded, and its standard error.
#[allow(dead_code)] // not every test file runs the binary
pub fn scatter(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scatter"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
