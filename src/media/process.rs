//! Turning an uploaded file into what is stored: the type detected from
//! the bytes (never from the file name or the client's Content-Type), images
//! decoded under explicit limits, turned upright (EXIF orientation) and
//! re-encoded so that no metadata (EXIF, GPS, ICC, comments) survives, a
//! thumbnail and a blurhash. Video and audio are kept as they are, without
//! transcoding. Pure and synchronous: callers run it on a blocking thread.

use image::{
    codecs::{gif::GifDecoder, jpeg::JpegEncoder},
    AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
};
use std::io::Cursor;

/// Longest side of a thumbnail (Mastodon's `small` is a 640 px box too).
pub const THUMBNAIL_BOX: u32 = 640;
/// JPEG quality of re-encoded photos and of thumbnails.
const JPEG_QUALITY: u8 = 85;
/// Most frames of an animated GIF.
const MAX_GIF_FRAMES: usize = 1_000;

/// The limits an upload is checked against (from `[media]`).
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits {
    pub image_size: u64,
    pub image_pixels: u64,
    pub video_size: u64,
}

impl MediaLimits {
    pub fn of(config: &crate::config::MediaConfig) -> MediaLimits {
        MediaLimits {
            image_size: config.image_size_limit,
            image_pixels: config.image_matrix_limit,
            video_size: config.video_size_limit,
        }
    }

    /// The most bytes any upload may have: the multipart reader stops there.
    pub fn max_upload(&self) -> u64 {
        self.image_size.max(self.video_size)
    }
}

/// Why a file was refused; every message is safe to show the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("File size must be less than {0}")]
    TooLarge(String),
    #[error("Image is too large: {width}x{height} pixels, at most {max} pixels in all")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("File type is not supported: upload a JPEG, PNG, WebP or GIF image, an MP4, WebM or MOV video, or MP3, Ogg, WAV, FLAC or M4A audio")]
    Unsupported,
    #[error("The image could not be read: {0}")]
    Undecodable(String),
}

/// A processed upload, ready for the store.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Mastodon's type: `image`, `video`, `audio`.
    pub kind: &'static str,
    pub media_type: &'static str,
    /// File name extension of the stored file (it also tells the file
    /// handler the Content-Type).
    pub extension: &'static str,
    pub file: Vec<u8>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumbnail: Option<Thumbnail>,
    pub blurhash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub file: Vec<u8>,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Video and audio types accepted as they are: detected type → (kind,
/// MIME type, extension).
const PASS_THROUGH: &[(&str, &str, &str, &str)] = &[
    ("video/mp4", "video", "video/mp4", "mp4"),
    ("video/x-m4v", "video", "video/mp4", "mp4"),
    ("video/webm", "video", "video/webm", "webm"),
    ("video/quicktime", "video", "video/quicktime", "mov"),
    ("audio/mpeg", "audio", "audio/mpeg", "mp3"),
    ("audio/ogg", "audio", "audio/ogg", "ogg"),
    ("audio/x-wav", "audio", "audio/wav", "wav"),
    ("audio/x-flac", "audio", "audio/flac", "flac"),
    ("audio/m4a", "audio", "audio/mp4", "m4a"),
    ("audio/x-m4a", "audio", "audio/mp4", "m4a"),
];

/// The MIME types uploads may have (`/api/v2/instance`).
pub const SUPPORTED_MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/flac",
    "audio/mp4",
];

/// The Content-Type of a stored file, by the extension [`process`] gave it.
pub fn content_type_of(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        _ => return None,
    })
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

/// Detects, checks and processes one upload.
pub fn process(bytes: Vec<u8>, limits: &MediaLimits) -> Result<Processed, Refusal> {
    let size = bytes.len() as u64;
    if let Ok(format) = image::guess_format(&bytes) {
        let (media_type, extension) = match format {
            ImageFormat::Jpeg => ("image/jpeg", "jpg"),
            ImageFormat::Png => ("image/png", "png"),
            ImageFormat::WebP => ("image/webp", "webp"),
            ImageFormat::Gif => ("image/gif", "gif"),
            _ => return Err(Refusal::Unsupported),
        };
        if size > limits.image_size {
            return Err(Refusal::TooLarge(megabytes(limits.image_size)));
        }
        return if format == ImageFormat::Gif {
            gif(&bytes, limits)
        } else {
            still_image(&bytes, format, media_type, extension, limits)
        };
    }
    let detected = infer::get(&bytes).ok_or(Refusal::Unsupported)?;
    let &(_, kind, media_type, extension) = PASS_THROUGH
        .iter()
        .find(|(mime, ..)| *mime == detected.mime_type())
        .ok_or(Refusal::Unsupported)?;
    if size > limits.video_size {
        return Err(Refusal::TooLarge(megabytes(limits.video_size)));
    }
    Ok(Processed {
        kind,
        media_type,
        extension,
        file: bytes,
        width: None,
        height: None,
        thumbnail: None,
        blurhash: None,
    })
}

/// The decoder's limits: the pixel budget bounds each side, and the
/// allocation budget follows from it (4 bytes per pixel, twice over).
fn decoder_limits(limits: &MediaLimits) -> Limits {
    let side = u32::try_from(limits.image_pixels).unwrap_or(u32::MAX);
    let mut l = Limits::default();
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    l.max_alloc = Some(limits.image_pixels.saturating_mul(8).min(1 << 30));
    l
}

/// Refuses an image whose header announces more pixels than allowed,
/// before a byte of it is decoded.
fn check_pixels(width: u32, height: u32, limits: &MediaLimits) -> Result<(), Refusal> {
    if u64::from(width) * u64::from(height) > limits.image_pixels || width == 0 || height == 0 {
        return Err(Refusal::TooManyPixels {
            width,
            height,
            max: limits.image_pixels,
        });
    }
    Ok(())
}

fn undecodable(e: impl std::fmt::Display) -> Refusal {
    match e.to_string() {
        m if m.contains("limit") => Refusal::Undecodable("it exceeds the size limits".into()),
        m => Refusal::Undecodable(m),
    }
}

fn still_image(
    bytes: &[u8],
    format: ImageFormat,
    media_type: &'static str,
    extension: &'static str,
    limits: &MediaLimits,
) -> Result<Processed, Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits));
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // A broken orientation tag is ignored rather than refused.
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    if let Some(orientation) = orientation {
        img.apply_orientation(orientation);
    }
    let file = encode(&img, format).map_err(undecodable)?;
    let (thumbnail, blurhash) = thumbnail_of(&img)?;
    Ok(Processed {
        kind: "image",
        media_type,
        extension,
        file,
        width: Some(img.width()),
        height: Some(img.height()),
        thumbnail: Some(thumbnail),
        blurhash,
    })
}

/// Re-encodes in the uploaded format; only pixels go in, so no metadata
/// comes out.
fn encode(img: &DynamicImage, format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => {
            let rgb = img.to_rgb8();
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&rgb)?;
        }
        ImageFormat::WebP => {
            // The crate's WebP encoder is lossless, and takes 8-bit RGB(A).
            let img = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            img.write_to(&mut out, ImageFormat::WebP)?;
        }
        other => img.write_to(&mut out, other)?,
    }
    Ok(out.into_inner())
}

/// A thumbnail in a [`THUMBNAIL_BOX`] box (PNG when the image has
/// transparency, else JPEG) and the blurhash of it.
fn thumbnail_of(img: &DynamicImage) -> Result<(Thumbnail, Option<String>), Refusal> {
    let small = if img.width() > THUMBNAIL_BOX || img.height() > THUMBNAIL_BOX {
        img.thumbnail(THUMBNAIL_BOX, THUMBNAIL_BOX)
    } else {
        img.clone()
    };
    let (format, extension) = if small.color().has_alpha() {
        (ImageFormat::Png, "png")
    } else {
        (ImageFormat::Jpeg, "jpg")
    };
    let file = encode(&small, format).map_err(undecodable)?;
    let rgba = small.to_rgba8();
    let blurhash = blurhash::encode(4, 3, small.width(), small.height(), rgba.as_raw()).ok();
    Ok((
        Thumbnail {
            file,
            extension,
            width: small.width(),
            height: small.height(),
        },
        blurhash,
    ))
}

/// A GIF stays a GIF (animated ones keep their frames; Mastodon's
/// conversion to an MP4 `gifv` is not done): its frames are decoded under
/// the same limits, the sum of their pixels included, and written again.
fn gif(bytes: &[u8], limits: &MediaLimits) -> Result<Processed, Refusal> {
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(undecodable)?;
    decoder
        .set_limits(decoder_limits(limits))
        .map_err(undecodable)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let frame_pixels = u64::from(width) * u64::from(height);
    let mut frames = Vec::new();
    let mut total = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(undecodable)?;
        total += frame_pixels;
        // All frames together are held in memory: they share the budget.
        if total > limits.image_pixels.saturating_mul(4) || frames.len() >= MAX_GIF_FRAMES {
            return Err(Refusal::Undecodable(
                "the animation has too many frames".into(),
            ));
        }
        frames.push(frame);
    }
    let first = frames
        .first()
        .map(|f| DynamicImage::ImageRgba8(f.buffer().clone()))
        .ok_or_else(|| Refusal::Undecodable("the GIF has no frames".into()))?;
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(undecodable)?;
        encoder.encode_frames(frames).map_err(undecodable)?;
    }
    let (thumbnail, blurhash) = thumbnail_of(&first)?;
    Ok(Processed {
        kind: "image",
        media_type: "image/gif",
        extension: "gif",
        file: out,
        width: Some(width),
        height: Some(height),
        thumbnail: Some(thumbnail),
        blurhash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MediaLimits = MediaLimits {
        image_size: 1 << 20,
        image_pixels: 10_000,
        video_size: 1 << 20,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(width, height);
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn png_is_processed_with_thumbnail_and_blurhash() {
        let p = process(png(80, 40), &LIMITS).unwrap();
        assert_eq!(
            (p.kind, p.media_type, p.extension),
            ("image", "image/png", "png")
        );
        assert_eq!((p.width, p.height), (Some(80), Some(40)));
        assert!(p.thumbnail.is_some());
        assert!(p.blurhash.is_some());
    }

    #[test]
    fn junk_and_bombs_are_refused() {
        assert_eq!(
            process(b"not a picture at all".to_vec(), &LIMITS).unwrap_err(),
            Refusal::Unsupported
        );
        // 200 x 200 pixels is over the 10,000-pixel budget: refused from
        // the header, before decoding.
        assert!(matches!(
            process(png(200, 200), &LIMITS).unwrap_err(),
            Refusal::TooManyPixels { .. }
        ));
    }
}
