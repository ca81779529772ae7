//! Helpers of the media tests: test images made in code (PNG, a JPEG with
//! a hand-built EXIF segment, a decompression bomb) and multipart bodies
//! built by hand (the tests' reqwest has no multipart feature).

use crate::{
    api_client::Api,
    harness::{http_client, TestInstance},
};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use outloud::config::{Backend, Config};
use serde_json::Value;
use std::io::Cursor;

// ---- test files -------------------------------------------------------------

/// A colourful picture, so the blurhash and thumbnail have something in them.
pub fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 4) as u8, (y * 4) as u8, 128])
    }))
}

pub fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height), ImageFormat::Png)
}

/// A JPEG whose EXIF says "rotate 90° clockwise to view" (orientation 6),
/// with a camera make that must not survive: an APP1 segment put right
/// after SOI, built by hand (big-endian TIFF, one IFD, two entries).
pub fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(&picture(width, height), ImageFormat::Jpeg);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08"); // header, IFD at 8
    tiff.extend_from_slice(&2u16.to_be_bytes()); // two entries
                                                 // Make (0x010f), ASCII, 8 bytes at offset 38 (after this IFD).
    tiff.extend_from_slice(&[0x01, 0x0f, 0x00, 0x02, 0, 0, 0, 8, 0, 0, 0, 38]);
    // Orientation (0x0112), SHORT, 1 value: 6.
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    assert_eq!(tiff.len(), 38);
    tiff.extend_from_slice(b"SPYCAM\x00\x00");
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A decompression bomb: a valid PNG header claiming 100,000 × 100,000
/// pixels in a file of a few dozen bytes.
pub fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

// ---- multipart ----------------------------------------------------------------

pub enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        name: &'a str,
        filename: &'a str,
        mime: &'a str,
        bytes: &'a [u8],
    },
}

/// A `multipart/form-data` body and its Content-Type.
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "outloud-test-boundary-7d1c0f";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File {
                name,
                filename,
                mime,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Sends a multipart request; status and JSON.
pub async fn send_multipart(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    parts: &[Part<'_>],
) -> (u16, Value) {
    let (content_type, body) = multipart(parts);
    let mut request = http_client()
        .request(method, format!("{}{}", api.base, path))
        .header("Content-Type", content_type)
        .body(body);
    if let Some(token) = &api.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Uploads `bytes` as `file`, with extra text fields; the answer.
pub async fn upload(api: &Api, path: &str, bytes: &[u8], extra: &[(&str, &str)]) -> (u16, Value) {
    let mut parts: Vec<Part> = extra.iter().map(|(k, v)| Part::Text(k, v)).collect();
    parts.push(Part::File {
        name: "file",
        filename: "upload.bin",
        mime: "application/octet-stream",
        bytes,
    });
    send_multipart(api, reqwest::Method::POST, path, &parts).await
}

pub async fn uploaded(api: &Api, bytes: &[u8], extra: &[(&str, &str)]) -> Value {
    let (status, json) = upload(api, "/api/v2/media", bytes, extra).await;
    assert_eq!(status, 200, "upload failed: {json}");
    json
}

/// GETs a file URL: status, Content-Type, the response.
pub async fn fetch(url: &str) -> reqwest::Response {
    http_client().get(url).send().await.unwrap()
}

pub fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

fn media_dir() -> (tempfile::TempDir, impl FnOnce(&mut Config)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    (dir, move |c: &mut Config| c.media.path = path)
}

/// An instance whose media goes to a throwaway directory.
pub async fn spawn(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
) -> (TestInstance, tempfile::TempDir) {
    let (dir, set_path) = media_dir();
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        set_path(c);
        adjust(c);
    })
    .await;
    (alpha, dir)
}
