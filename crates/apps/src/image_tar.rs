//! Labelled colour images from a tar archive whose members are `{class}/{file}.{jpg,png}`
//! (the layout of CIFAR-10's JPEG releases). Pixels are kept as `u8` (3 bytes a pixel), so
//! the 60,000 CIFAR images take 184 MB.

use crate::error::AppError;
use std::io::Read;
use std::path::Path;

/// Images of one size with their class labels.
#[derive(Debug, Clone)]
pub struct LabelledImages {
    /// Class names; label `k` is `classes[k]`.
    pub classes: Vec<String>,
    /// One label per image.
    pub labels: Vec<usize>,
    /// `(height, width)` of every image.
    pub shape: (usize, usize),
    /// RGB pixels, image after image, row-major, 3 bytes a pixel.
    pub pixels: Vec<u8>,
}

impl LabelledImages {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The RGB bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.0 * self.shape.1 * 3;
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// Reads every `{class}/{file}.{jpg,jpeg,png}` member of the tar at `path` (other members,
/// such as folders, are skipped). With `classes`, every class must be one of them and labels
/// follow that list; without, the classes are the folder names in sorted order (CIFAR-10's
/// official label order is alphabetical). Images must all have the first image's size;
/// `max_bytes` bounds the decoded pixels, so an archive too big for memory is refused
/// with its size rather than read.
pub fn read_image_tar(
    path: &Path,
    classes: Option<&[String]>,
    max_bytes: u64,
) -> Result<LabelledImages, AppError> {
    let fmt = |reason: String| AppError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let entries = archive
        .entries()
        .map_err(|e| fmt(format!("not a tar archive: {e}")))?;
    let mut names: Vec<String> = Vec::new();
    let mut raw_labels: Vec<String> = Vec::new();
    let mut shape: Option<(usize, usize)> = None;
    let mut pixels: Vec<u8> = Vec::new();
    let mut buf = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| fmt(format!("not a tar archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry
            .path()
            .map_err(|e| fmt(format!("a member name is not a path: {e}")))?
            .to_string_lossy()
            .into_owned();
        let parts: Vec<&str> = member.trim_start_matches("./").split('/').collect();
        let ext = member.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if !["jpg", "jpeg", "png"].contains(&ext.as_str()) {
            continue;
        }
        if parts.len() != 2 || parts[0].is_empty() {
            return Err(fmt(format!(
                "member {member} is not named {{class}}/{{file}}.jpg"
            )));
        }
        buf.clear();
        entry
            .read_to_end(&mut buf)
            .map_err(|e| fmt(format!("cannot read member {member}: {e}")))?;
        let img = image::load_from_memory(&buf)
            .map_err(|e| fmt(format!("member {member} is not an image: {e}")))?
            .to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        match shape {
            None => shape = Some((h, w)),
            Some(s) if s != (h, w) => {
                return Err(fmt(format!(
                    "member {member} is {h} x {w}, the first image was {} x {}; all images must have one size",
                    s.0, s.1
                )))
            }
            _ => {}
        }
        if (pixels.len() + img.as_raw().len()) as u64 > max_bytes {
            return Err(fmt(format!(
                "the decoded images exceed {} of memory; use a smaller archive or set SCATTERING_MEMORY_LIMIT_GB",
                crate::io::gb(max_bytes)
            )));
        }
        pixels.extend_from_slice(img.as_raw());
        raw_labels.push(parts[0].to_string());
        if !names.iter().any(|n| n == parts[0]) {
            names.push(parts[0].to_string());
        }
    }
    let shape = shape.ok_or_else(|| fmt("no {class}/{file}.jpg member".into()))?;
    let classes: Vec<String> = match classes {
        Some(c) => c.to_vec(),
        None => {
            names.sort();
            names
        }
    };
    let labels = raw_labels
        .iter()
        .map(|c| {
            classes.iter().position(|k| k == c).ok_or_else(|| {
                fmt(format!(
                    "class {c} is not among the training classes ({})",
                    classes.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LabelledImages {
        classes,
        labels,
        shape,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(v: u8, side: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(side, side, image::Rgb([v, 0, 255 - v]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn write_tar(path: &Path, members: &[(&str, Vec<u8>)]) {
        let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
        for (name, data) in members {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        b.finish().unwrap();
    }

    #[test]
    fn reads_classes_in_sorted_order_and_checks_names_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.tar");
        write_tar(
            &p,
            &[
                ("truck/0.png", png(10, 4)),
                ("cat/0.png", png(20, 4)),
                ("cat/1.png", png(30, 4)),
                ("README.txt", b"x".to_vec()),
            ],
        );
        let a = read_image_tar(&p, None, 1 << 30).unwrap();
        assert_eq!(a.classes, vec!["cat", "truck"]);
        assert_eq!(a.labels, vec![1, 0, 0]);
        assert_eq!(a.shape, (4, 4));
        assert_eq!(&a.image(1)[..3], &[20, 0, 235]);
        // Labels follow a given class list; an unknown class is refused.
        let b = read_image_tar(&p, Some(&["truck".into(), "cat".into()]), 1 << 30).unwrap();
        assert_eq!(b.labels, vec![0, 1, 1]);
        let e = read_image_tar(&p, Some(&["cat".into()]), 1 << 30).unwrap_err();
        assert!(e.to_string().contains("class truck"), "{e}");
        // The memory bound.
        let e = read_image_tar(&p, None, 60).unwrap_err();
        assert!(e.to_string().contains("exceed"), "{e}");
        // Mixed sizes, flat names, non-images and non-tars.
        write_tar(&p, &[("a/0.png", png(1, 4)), ("a/1.png", png(1, 5))]);
        let e = read_image_tar(&p, None, 1 << 30).unwrap_err();
        assert!(e.to_string().contains("one size"), "{e}");
        write_tar(&p, &[("0.png", png(1, 4))]);
        let e = read_image_tar(&p, None, 1 << 30).unwrap_err();
        assert!(e.to_string().contains("{class}/{file}"), "{e}");
        write_tar(&p, &[("a/0.jpg", b"not a jpeg".to_vec())]);
        let e = read_image_tar(&p, None, 1 << 30).unwrap_err();
        assert!(e.to_string().contains("not an image"), "{e}");
        write_tar(&p, &[]);
        let e = read_image_tar(&p, None, 1 << 30).unwrap_err();
        assert!(e.to_string().contains("no {class}"), "{e}");
        let e = read_image_tar(&dir.path().join("missing.tar"), None, 1 << 30).unwrap_err();
        assert!(matches!(e, AppError::Io { .. }), "{e}");
    }
}
