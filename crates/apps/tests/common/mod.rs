//! Helpers shared by the integration tests of the tools.

/// A PCM WAV file: the 44-byte header with the given rate, channels and bits per sample,
/// then `frames` frames of varied bytes.
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
