//! Fuzz and property targets for the code that reads untrusted input:
//! inbox activities, HTML sanitizing, Markdown rendering, handles and
//! WebFinger resources, `Signature` headers and client-API parameters.
//!
//! Every target is a `bolero::check!`: under `cargo test` it runs bolero's
//! random engine on stable for a bounded number of inputs (so the whole
//! binary stays well under 30 s in the dev profile); `OUTLOUD_FUZZ_CASES=N`
//! runs `N` inputs per target instead (the long run recorded in
//! docs/security.md). The same targets can be driven coverage-guided by
//! `cargo bolero test` where a libFuzzer toolchain is available.
//!
//! Each target asserts properties, not only "no panic"; a panic is a failed
//! test and bolero prints the `BOLERO_RANDOM_SEED` that reproduces it.

// A panic here is a failed assertion, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archive;
mod handles;
mod html_oracle;
mod inbox;
mod markdown_html;
mod params;
mod signature;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Inputs per target: `OUTLOUD_FUZZ_CASES` when set, else `default` (chosen
/// per target so that a plain `cargo test` stays quick).
pub fn cases(default: usize) -> usize {
    std::env::var("OUTLOUD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Counts the inputs a target really ran and reports them with the wall
/// time when dropped, so a long run's numbers come from the run itself
/// (`cargo test --test fuzz -- --nocapture` shows them).
pub struct Tally {
    name: &'static str,
    count: AtomicU64,
    start: Instant,
}

impl Tally {
    pub fn new(name: &'static str) -> Tally {
        Tally {
            name,
            count: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    pub fn tick(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            eprintln!(
                "fuzz target {}: {} inputs, 0 panics, {:.1} s",
                self.name,
                self.count.load(Ordering::Relaxed),
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}

/// Builds test strings from generated pieces: mostly fragments that matter
/// to the code under test (a dictionary, as coverage-guided fuzzers use),
/// mixed with arbitrary text and characters, so random inputs reach the
/// interesting states instead of staying plain text.
#[derive(Debug, bolero::generator::TypeGenerator)]
pub enum Piece {
    Word(u8),
    Text(String),
    Char(char),
}

/// One fuzz input: raw bytes (read as lossy UTF-8), or assembled pieces.
#[derive(Debug, bolero::generator::TypeGenerator)]
pub enum Input {
    Bytes(Vec<u8>),
    Pieces(Vec<Piece>),
}

impl Input {
    /// The input as text, with `dictionary` for the pieces.
    pub fn text(&self, dictionary: &[&str]) -> String {
        match self {
            Input::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Input::Pieces(pieces) => assemble(pieces, dictionary),
        }
    }

    /// The input as bytes: raw bytes as they are (invalid UTF-8 included).
    pub fn bytes(&self, dictionary: &[&str]) -> Vec<u8> {
        match self {
            Input::Bytes(bytes) => bytes.clone(),
            Input::Pieces(pieces) => assemble(pieces, dictionary).into_bytes(),
        }
    }
}

/// Most generated driver bytes one input may use: keeps inputs of a few
/// hundred characters, long enough for nesting and short enough for
/// millions of runs.
pub const MAX_LEN: usize = 2048;

/// The same for the HTML parsers, which cost far more per byte: a quarter
/// of it still builds nested markup from dozens of pieces.
pub const MAX_LEN_HTML: usize = 512;

pub fn assemble(pieces: &[Piece], dictionary: &[&str]) -> String {
    let mut out = String::new();
    let dictionary = if dictionary.is_empty() {
        &[""][..]
    } else {
        dictionary
    };
    for piece in pieces {
        match piece {
            Piece::Word(i) => out.push_str(dictionary[*i as usize % dictionary.len()]),
            Piece::Text(s) => out.push_str(s),
            Piece::Char(c) => out.push(*c),
        }
    }
    out
}

/// Characters whose lower-case form has another length in UTF-8, and other
/// Unicode that trips byte-offset arithmetic.
pub const TRICKY_UNICODE: &[&str] = &[
    "İ", "ẞ", "Ⱥ", "ȿ", "K", "Å", "ﬀ", "\u{0}", "\u{a0}", "\u{200b}", "\u{feff}", "é", "🦀",
    "\u{301}",
];

/// `base` and [`TRICKY_UNICODE`]: a target's dictionary.
pub fn words(base: &[&'static str]) -> Vec<&'static str> {
    let mut words = base.to_vec();
    words.extend_from_slice(TRICKY_UNICODE);
    words
}
