//! Stage 1 of the pipeline: turn raw comment text into a canonical form.
//!
//! The [`Normalizer`] applies Unicode NFKC, case folding, removal of
//! invisible characters (zero-width and bidi controls) and folding of the
//! obfuscations people use to slip insults past a filter: look-alike letters
//! from other scripts ("іdiot" with a Cyrillic і), leetspeak ("1d10t"),
//! separators inside a word ("i.d.i.o.t", "s t u p i d"), masked letters
//! ("f*ck") and stretched letters ("stuuupid").
//!
//! Folding only ever rewrites *whole words* — it never replaces a substring
//! inside a longer word — so innocent words such as "Scunthorpe",
//! "assessment" or "cocktail" come out unchanged.
//!
//! The result, [`Normalized`], keeps for every byte of the normalized text the
//! byte range of the original character it came from, so later stages can
//! point at the exact span of the original comment.
//!
//! # Steps, in order
//!
//! 1. The text is split into words at whitespace and control characters;
//!    invisible characters are dropped and split nothing.
//! 2. Each character, as it is read: NFKC, then case folding, then accents
//!    stripped from Latin letters.
//! 3. Each word, on its core (the word without leading and trailing
//!    punctuation) unless it is a URL or an e-mail address, in rounds until
//!    nothing changes: look-alike letters, separators and masks, leetspeak,
//!    stretched letters. Then combining marks left after Latin letters go.
//! 4. Three or more words of a single letter in a row are joined into one
//!    spelled-out word.
//!
//! Which steps run is set by [`NormalizerConfig`] (`config.rs`). The engine
//! (`engine.rs`) does all of this in one pass over the text, and copies
//! plain ASCII words that no rule changes whole; each rule lives in its own
//! file under `rules/`, with the facts about ASCII that the engine's
//! shortcut relies on.

mod config;
mod engine;
mod rules;

pub use config::NormalizerConfig;
pub(crate) use engine::WordState;

use std::ops::Range;

/// Normalized text with a map back to the original bytes.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    text: String,
    /// For each byte of `text`, the start of the original character.
    starts: Vec<u32>,
    /// For each byte of `text`, the end of the original character.
    ends: Vec<u32>,
}

impl Normalized {
    /// The normalized text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a byte range of the normalized text to the byte range of the
    /// original text it came from. Out-of-range input is clamped; an empty
    /// range maps to an empty range.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let end = range.end.min(self.text.len());
        let start = range.start.min(end);
        if start == end {
            let at = self
                .starts
                .get(start)
                .copied()
                .unwrap_or_else(|| self.ends.last().copied().unwrap_or(0))
                as usize;
            return at..at;
        }
        self.starts[start] as usize..self.ends[end - 1] as usize
    }

    #[inline]
    fn push(&mut self, c: char, start: u32, end: u32) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.starts.push(start);
            self.ends.push(end);
        }
    }
}

/// One character of a word being folded, with its original byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ch {
    c: char,
    start: u32,
    end: u32,
}

/// The normalization stage. Cheap to clone; holds only its configuration.
///
/// # Examples
///
/// ```
/// use civility::Normalizer;
///
/// let normalizer = Normalizer::default();
/// let normalized = normalizer.normalize("You are an 1D10T!!");
/// assert_eq!(normalized.as_str(), "you are an idiot!!");
/// // "idiot" came from the bytes of "1D10T" in the original.
/// assert_eq!(normalized.original_range(11..16), 11..16);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalizer {
    config: NormalizerConfig,
}

impl Normalizer {
    /// A normalizer with the given steps.
    pub fn new(config: NormalizerConfig) -> Self {
        Normalizer { config }
    }

    /// The configured steps.
    pub fn config(&self) -> &NormalizerConfig {
        &self.config
    }

    /// Normalizes `input`. Never fails: any string has a normalized form.
    /// Runs in time linear in the length of the input.
    pub fn normalize(&self, input: &str) -> Normalized {
        let mut out = Normalized {
            text: String::with_capacity(input.len()),
            starts: Vec::with_capacity(input.len()),
            ends: Vec::with_capacity(input.len()),
        };
        self.normalize_into(input, &mut out, &mut WordState::default());
        out
    }

    /// Normalizes `input` into `out`, reusing `out`'s and `state`'s
    /// buffers: once they have grown to a comment's size, normalizing
    /// another allocates nothing.
    pub(crate) fn normalize_into(&self, input: &str, out: &mut Normalized, state: &mut WordState) {
        self.normalize_with(input, out, state, true);
    }

    /// Normalizes `input` character by character, without the shortcut
    /// for plain ASCII words: the fuzz targets check that both agree.
    #[cfg(fuzzing)]
    pub fn normalize_char_by_char(&self, input: &str) -> Normalized {
        let mut out = Normalized::default();
        self.normalize_with(input, &mut out, &mut WordState::default(), false);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Normalizer::default().normalize(s).as_str().to_string()
    }

    /// (input, expected normalized text)
    const CASES: &[(&str, &str)] = &[
        ("", ""),
        ("   ", ""),
        ("Hello  World", "hello world"),
        ("stuuupid", "stupid"),
        ("sooooo good", "so good"),
        ("idiiot", "idiot"),
        ("asssshole", "asshole"),
        ("1d10t", "idiot"),
        ("1d107", "idiot"),
        ("b1g07", "bigot"),
        ("win10", "win10"),
        ("m0ron", "moron"),
        ("sh!t!", "shit!"),
        ("a$$hole", "asshole"),
        ("$hit", "shit"),
        ("i.d.i.o.t", "idiot"),
        ("s t u p i d people", "stupid people"),
        ("S c r e w you", "screw you"),
        ("you are a m o r o n", "you are a moron"),
        ("a s s", "ass"),
        ("st.upid", "stupid"),
        ("f*ck", "fuck"),
        ("f**king", "fucking"),
        ("b*tch.", "bitch."),
        ("f***", "fuck"),
        ("іdiot", "idiot"),
        ("ѕtupid", "stupid"),
        ("ｉｄｉｏｔ", "idiot"),
        ("𝐢𝐝𝐢𝐨𝐭", "idiot"),
        ("id\u{200B}iot", "idiot"),
        ("st\u{202E}upid", "stupid"),
        ("stüpid", "stupid"),
        ("café", "cafe"),
        ("¸", "\u{327}"),
        ("і¸e\u{301}A", "iea"),
        ("Aі¸", "ai"),
        ("ĦAH", "hah"),
        ("і¨!іa", "ia"),
        ("2020", "2020"),
        ("4th", "4th"),
        ("100k", "100k"),
        ("covid19", "covid19"),
        ("mp3", "mp3"),
        ("Scunthorpe", "scunthorpe"),
        ("assessment", "assessment"),
        ("cocktail", "cocktail"),
        ("good", "good"),
        ("I saw a bee", "i saw a bee"),
        ("https://Example.com/a1b2", "https://example.com/a1b2"),
        ("mail me@x.org", "mail me@x.org"),
        ("идиот", "идиот"),
        ("you're", "you're"),
        ("well-known", "well-known"),
        ("e.g. this", "e.g. this"),
        ("so path.etic", "so pathetic"),
        ("so p.athetic", "so pathetic"),
        ("so path*tic", "so pathtic"),
        ("a-b-c test", "abc test"),
        ("u.s. policy", "u.s. policy"),
    ];

    #[test]
    fn folding_table() {
        for (input, expected) in CASES {
            assert_eq!(norm(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn idempotent_on_table() {
        for (input, _) in CASES {
            let once = norm(input);
            assert_eq!(norm(&once), once, "input {input:?}");
        }
    }

    #[test]
    fn offsets_point_into_original() {
        let input = "Ｙou  are a 1d10t, s t u p i d";
        let n = Normalizer::default().normalize(input);
        assert_eq!(n.as_str(), "you are a idiot, stupid");
        let idiot = n.as_str().find("idiot").unwrap();
        assert_eq!(&input[n.original_range(idiot..idiot + 5)], "1d10t");
        let stupid = n.as_str().find("stupid").unwrap();
        assert_eq!(&input[n.original_range(stupid..stupid + 6)], "s t u p i d");
        for i in 0..n.as_str().len() {
            let r = n.original_range(i..i + 1);
            assert!(input.is_char_boundary(r.start) && input.is_char_boundary(r.end));
        }
    }

    #[test]
    fn disabled_steps_leave_text_alone() {
        let n = Normalizer::new(NormalizerConfig {
            leetspeak: false,
            masks: false,
            separators: false,
            max_repeat: 0,
            ..NormalizerConfig::default()
        });
        assert_eq!(
            n.normalize("1d10t f*ck s t u p i d").as_str(),
            "1d10t f*ck s t u p i d"
        );
    }
}
