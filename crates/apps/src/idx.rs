//! IDX files (the MNIST format): a big-endian header `0, 0, type, ndim`, `ndim` u32 sizes, then
//! the raw values. Only unsigned bytes (type 0x08) are accepted; gzip-compressed files are read
//! transparently.

use crate::error::AppError;
use ndarray::Array3;
use std::io::Read;
use std::path::Path;

fn read_all(path: &Path) -> Result<Vec<u8>, AppError> {
    let len = std::fs::metadata(path)
        .map_err(|e| AppError::io(path, e))?
        .len();
    crate::io::check_input_size(path, len)?;
    let raw = std::fs::read(path).map_err(|e| AppError::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        // Bounded, so that a small archive cannot expand past the input limit.
        let limit = crate::io::input_limit_bytes() / 8;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| AppError::format(path, format!("bad gzip data: {e}")))?;
        if out.len() as u64 > limit {
            crate::io::check_input_size(path, limit + 1)?;
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses the header; returns the dimensions and the offset of the data.
fn header(path: &Path, bytes: &[u8], ndim: usize) -> Result<(Vec<usize>, usize), AppError> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(AppError::format(path, "not an IDX file (bad magic number)"));
    }
    if bytes[2] != 0x08 {
        return Err(AppError::format(
            path,
            format!(
                "IDX value type 0x{:02x}; only unsigned bytes (0x08) are supported",
                bytes[2]
            ),
        ));
    }
    if bytes[3] as usize != ndim {
        return Err(AppError::format(
            path,
            format!("expected {ndim} dimensions, the file has {}", bytes[3]),
        ));
    }
    let off = 4 + 4 * ndim;
    if bytes.len() < off {
        return Err(AppError::format(path, "truncated IDX header"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|k| {
            u32::from_be_bytes([
                bytes[4 + 4 * k],
                bytes[5 + 4 * k],
                bytes[6 + 4 * k],
                bytes[7 + 4 * k],
            ]) as usize
        })
        .collect();
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| AppError::format(path, format!("IDX dimensions {dims:?} overflow")))?;
    if bytes.len() != off + n {
        return Err(AppError::format(
            path,
            format!(
                "header promises {n} values, the file holds {}",
                bytes.len().saturating_sub(off)
            ),
        ));
    }
    Ok((dims, off))
}

/// Reads an IDX image file (3 dimensions: count, rows, columns) as values in `[0, 1]`.
pub fn read_idx_images(path: &Path) -> Result<Array3<f64>, AppError> {
    let bytes = read_all(path)?;
    let (d, off) = header(path, &bytes, 3)?;
    if d[0] == 0 || d[1] == 0 || d[2] == 0 {
        return Err(AppError::format(path, "no images"));
    }
    let data: Vec<f64> = bytes[off..].iter().map(|&b| f64::from(b) / 255.0).collect();
    Array3::from_shape_vec((d[0], d[1], d[2]), data)
        .map_err(|e| AppError::format(path, e.to_string()))
}

/// Reads an IDX label file (1 dimension) whose labels are classes `0..classes`.
pub fn read_idx_labels(path: &Path, classes: usize) -> Result<Vec<usize>, AppError> {
    let bytes = read_all(path)?;
    let (_, off) = header(path, &bytes, 1)?;
    if off == bytes.len() {
        return Err(AppError::format(path, "no labels"));
    }
    if let Some((i, &b)) = bytes[off..]
        .iter()
        .enumerate()
        .find(|&(_, &b)| b as usize >= classes)
    {
        return Err(AppError::format(
            path,
            format!("label {i} is {b}; expected a class in 0..{classes}"),
        ));
    }
    Ok(bytes[off..].iter().map(|&b| b as usize).collect())
}

/// Writes an IDX file of unsigned bytes (used by tests and to cut subsets).
pub fn write_idx(path: &Path, dims: &[usize], values: &[u8]) -> Result<(), AppError> {
    let mut out = vec![0u8, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(values);
    std::fs::write(path, out).map_err(|e| AppError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("imgs");
        write_idx(&p, &[2, 2, 3], &[0, 255, 0, 0, 0, 0, 1, 2, 3, 4, 5, 255]).unwrap();
        let a = read_idx_images(&p).unwrap();
        assert_eq!(a.dim(), (2, 2, 3));
        assert_eq!(a[[0, 0, 1]], 1.0);
        assert_eq!(a[[1, 1, 2]], 1.0);
        let l = dir.path().join("labels");
        write_idx(&l, &[3], &[7, 2, 1]).unwrap();
        assert_eq!(read_idx_labels(&l, 10).unwrap(), vec![7, 2, 1]);
        write_idx(&l, &[3], &[7, 200, 1]).unwrap();
        let e = read_idx_labels(&l, 10).unwrap_err().to_string();
        assert!(e.contains("label 1 is 200"), "{e}");
        write_idx(&l, &[0], &[]).unwrap();
        assert!(read_idx_labels(&l, 10).is_err(), "no labels");
        // Dimensions whose product overflows.
        std::fs::write(
            &p,
            [
                0u8, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
            ],
        )
        .unwrap();
        assert!(read_idx_images(&p).is_err(), "overflow");
        assert!(read_idx_images(&l).is_err(), "labels are not images");
        std::fs::write(&p, [0u8, 0, 8, 3, 0, 0, 0, 9]).unwrap();
        assert!(read_idx_images(&p).is_err(), "truncated");
        std::fs::write(&p, b"PNG....").unwrap();
        assert!(read_idx_images(&p).is_err(), "bad magic");
    }
}
