//! Stage 2 of the pipeline: split normalized text into tokens.
//!
//! Word boundaries come from Unicode's word segmentation (UAX #29, via
//! `unicode-segmentation`; runs of printable ASCII, most of most comments,
//! are split by the same rules without its table searches). URLs, @mentions, numbers and emoji are token
//! kinds of their own, because they carry signal ("@someone you idiot") and
//! should not be shredded into meaningless pieces. Every token knows both its
//! range in the normalized text and the byte range of the original comment it
//! came from, so a verdict can point at the words that drove it.

use crate::normalize::Normalized;
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word: letters, possibly with digits, apostrophes or marks.
    Word,
    /// A number such as `42`, `3.5` or `1,000`.
    Number,
    /// A web address (`https://…`, `www.…`).
    Url,
    /// A reply to a user: `@name`.
    Mention,
    /// An emoji or pictograph, including ZWJ sequences.
    Emoji,
    /// Punctuation that carries tone: `!` and `?`.
    Punct,
}

/// One token of a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte range in the normalized text.
    pub norm: Range<usize>,
    /// Byte range in the original comment.
    pub span: Range<usize>,
}

/// The tokenization stage.
///
/// # Examples
///
/// ```
/// use civility::{Normalizer, Tokenizer, TokenKind};
///
/// let text = "@Sam read https://example.com, it's 100% true 👍";
/// let normalized = Normalizer::default().normalize(text);
/// let tokens = Tokenizer::default().tokenize(&normalized);
/// let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
/// assert_eq!(kinds, [
///     TokenKind::Mention, TokenKind::Word, TokenKind::Url, TokenKind::Word,
///     TokenKind::Number, TokenKind::Word, TokenKind::Emoji,
/// ]);
/// assert_eq!(&text[tokens[0].span.clone()], "@Sam");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokenizer;

impl Tokenizer {
    /// Tokenizes normalized text into `out` (cleared first), so a caller
    /// scoring many comments can reuse one buffer.
    pub fn tokenize_into(&self, normalized: &Normalized, out: &mut Vec<Token>) {
        out.clear();
        let text = normalized.as_str();
        let mut offset = 0;
        for chunk in text.split(' ') {
            if !chunk.is_empty() {
                self.tokenize_chunk(chunk, offset, out);
            }
            offset += chunk.len() + 1;
        }
        for token in out.iter_mut() {
            token.span = normalized.original_range(token.norm.clone());
        }
    }

    /// Tokenizes normalized text.
    pub fn tokenize(&self, normalized: &Normalized) -> Vec<Token> {
        let mut out = Vec::new();
        self.tokenize_into(normalized, &mut out);
        out
    }

    fn tokenize_chunk(&self, chunk: &str, offset: usize, out: &mut Vec<Token>) {
        // A URL may follow opening punctuation: "(https://…)".
        let lead = chunk.len() - chunk.trim_start_matches(['(', '[', '<', '"', '\'']).len();
        if let Some(len) = url_len(&chunk[lead..]) {
            let (start, end) = (offset + lead, offset + lead + len);
            out.push(Token {
                kind: TokenKind::Url,
                norm: start..end,
                span: 0..0,
            });
            if lead + len < chunk.len() {
                self.tokenize_words(&chunk[lead + len..], end, out);
            }
            return;
        }
        self.tokenize_words(chunk, offset, out);
    }

    fn tokenize_words(&self, chunk: &str, offset: usize, out: &mut Vec<Token>) {
        // Most chunks are a word of ASCII letters, perhaps followed by
        // punctuation ("piece."), or punctuation alone: UAX #29 keeps the
        // letters together and breaks after them and between the marks
        // (no rule joins a letter to a mark that no letter follows, nor two
        // marks other than `_`), so this is the segmentation's answer
        // without it.
        let letters = chunk.bytes().take_while(u8::is_ascii_alphabetic).count();
        if is_ascii_punctuation(&chunk[letters..]) {
            if letters > 0 {
                out.push(Token {
                    kind: TokenKind::Word,
                    norm: offset..offset + letters,
                    span: 0..0,
                });
            }
            tokenize_ascii_punctuation(&chunk[letters..], offset + letters, out);
        } else if chunk.bytes().all(|b| b.is_ascii_graphic()) {
            self.tokenize_segments(ascii_word_bounds(chunk), offset, out);
        } else {
            self.tokenize_segments(chunk.split_word_bound_indices(), offset, out);
        }
    }

    /// Tokenizes a chunk from its word-bound segments, `(start, segment)`.
    fn tokenize_segments<'a>(
        &self,
        segments: impl Iterator<Item = (usize, &'a str)>,
        offset: usize,
        out: &mut Vec<Token>,
    ) {
        let mut pending_at: Option<usize> = None;
        for (i, segment) in segments {
            let start = offset + i;
            let end = start + segment.len();
            if segment == "@" {
                pending_at = Some(start);
                continue;
            }
            let Some(kind) = segment_kind(segment) else {
                pending_at = None;
                continue;
            };
            match pending_at.take() {
                Some(at) if at + 1 == start && kind == TokenKind::Word => out.push(Token {
                    kind: TokenKind::Mention,
                    norm: at..end,
                    span: 0..0,
                }),
                _ => out.push(Token {
                    kind,
                    norm: start..end,
                    span: 0..0,
                }),
            }
        }
    }
}

/// True if `chunk` is ASCII punctuation only, with no `_` (which joins
/// with itself in a word): every byte is then a word-bound segment of its
/// own (UAX #29 rule WB999), so no segmentation is needed.
fn is_ascii_punctuation(chunk: &str) -> bool {
    chunk.bytes().all(|b| b.is_ascii_punctuation() && b != b'_')
}

/// What [`Tokenizer::tokenize_segments`] makes of a chunk of ASCII
/// punctuation, one byte at a time: `!` and `?` are tokens, `@` starts a
/// mention that never comes. Linear in the chunk at a few instructions a
/// byte, where segmentation costs a table search a byte: a comment of ten
/// million exclamation marks takes milliseconds here.
fn tokenize_ascii_punctuation(chunk: &str, offset: usize, out: &mut Vec<Token>) {
    for (i, b) in chunk.bytes().enumerate() {
        if b == b'!' || b == b'?' {
            let start = offset + i;
            out.push(Token {
                kind: TokenKind::Punct,
                norm: start..start + 1,
                span: 0..0,
            });
        }
    }
}

/// The kind of token a word-bound segment is, or `None` if it is no token.
fn segment_kind(segment: &str) -> Option<TokenKind> {
    if let &[b] = segment.as_bytes() {
        // One ASCII character: the answers below, without decoding.
        return match b {
            b'0'..=b'9' => Some(TokenKind::Number),
            b'a'..=b'z' | b'A'..=b'Z' => Some(TokenKind::Word),
            b'!' | b'?' => Some(TokenKind::Punct),
            _ => None,
        };
    }
    general_kind(segment)
}

/// [`segment_kind`] by the general rules, for any segment.
fn general_kind(segment: &str) -> Option<TokenKind> {
    let first = segment.chars().next()?;
    if first.is_numeric() {
        if segment.chars().any(char::is_alphabetic) {
            Some(TokenKind::Word)
        } else {
            Some(TokenKind::Number)
        }
    } else if segment.chars().any(char::is_alphanumeric) {
        Some(TokenKind::Word)
    } else if is_emoji(first) {
        Some(TokenKind::Emoji)
    } else if segment == "!" || segment == "?" {
        Some(TokenKind::Punct)
    } else {
        None
    }
}

/// The word-break property (UAX #29) of a printable ASCII character, as
/// far as the rules between two ASCII characters use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordBreak {
    Letter,
    Numeric,
    MidLetter,
    MidNum,
    /// `MidNumLet` or `Single_Quote`: both rules treat them alike.
    MidNumLetQ,
    ExtendNumLet,
    Other,
}

fn word_break(b: u8) -> WordBreak {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => WordBreak::Letter,
        b'0'..=b'9' => WordBreak::Numeric,
        b':' => WordBreak::MidLetter,
        b',' | b';' => WordBreak::MidNum,
        b'.' | b'\'' => WordBreak::MidNumLetQ,
        b'_' => WordBreak::ExtendNumLet,
        _ => WordBreak::Other,
    }
}

/// Whether UAX #29 puts a word boundary before byte `k` (`0 < k <
/// bytes.len()`) of printable ASCII: rules WB5 to WB13b, the only ones
/// that can hold between two such characters (no spaces, controls,
/// extenders, Hebrew, Katakana or emoji), else WB999.
fn breaks_before(bytes: &[u8], k: usize) -> bool {
    use WordBreak::*;
    let at = |i: usize| bytes.get(i).map_or(Other, |&b| word_break(b));
    let (before, prev, cur, next) = (
        k.checked_sub(2).map_or(Other, at),
        at(k - 1),
        at(k),
        at(k + 1),
    );
    let keep = match (prev, cur) {
        // WB5, WB8, WB9, WB10
        (Letter | Numeric, Letter | Numeric) => true,
        // WB6
        (Letter, MidLetter | MidNumLetQ) => next == Letter,
        // WB7
        (MidLetter | MidNumLetQ, Letter) => before == Letter,
        // WB12
        (Numeric, MidNum | MidNumLetQ) => next == Numeric,
        // WB11
        (MidNum | MidNumLetQ, Numeric) => before == Numeric,
        // WB13a, WB13b
        (Letter | Numeric | ExtendNumLet, ExtendNumLet) => true,
        (ExtendNumLet, Letter | Numeric) => true,
        _ => false,
    };
    !keep
}

/// The word-bound segments of printable ASCII text, as
/// `split_word_bound_indices` gives them, without its per-character
/// search of the Unicode tables: most comments are mostly ASCII.
fn ascii_word_bounds(chunk: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = chunk.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut end = start + 1;
        while end < bytes.len() && !breaks_before(bytes, end) {
            end += 1;
        }
        // Every byte is ASCII, so every index is a character boundary.
        let segment = (start, &chunk[start..end]);
        start = end;
        Some(segment)
    })
}

/// The length of a URL at the start of a chunk, without trailing
/// punctuation, or `None`.
fn url_len(chunk: &str) -> Option<usize> {
    let is_url = chunk.starts_with("http://")
        || chunk.starts_with("https://")
        || (chunk.starts_with("www.") && chunk.len() > 4);
    if !is_url {
        return None;
    }
    let trimmed = chunk.trim_end_matches(['.', ',', ')', '!', '?', ';', ':', '"', '\'']);
    Some(trimmed.len())
}

/// Emoji and pictographs: the main blocks of `Extended_Pictographic`.
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;

    fn kinds_and_text(input: &str) -> Vec<(TokenKind, String, String)> {
        let n = Normalizer::default().normalize(input);
        Tokenizer
            .tokenize(&n)
            .into_iter()
            .map(|t| {
                (
                    t.kind,
                    n.as_str()[t.norm.clone()].to_string(),
                    input[t.span.clone()].to_string(),
                )
            })
            .collect()
    }

    macro_rules! t {
        ($input:expr, [$(($kind:ident, $norm:expr, $orig:expr)),* $(,)?]) => {
            assert_eq!(
                kinds_and_text($input),
                vec![$((TokenKind::$kind, $norm.to_string(), $orig.to_string())),*],
                "input {:?}", $input
            );
        };
    }

    #[test]
    fn token_table() {
        t!("", []);
        t!(
            "Hello, world!",
            [
                (Word, "hello", "Hello"),
                (Word, "world", "world"),
                (Punct, "!", "!")
            ]
        );
        t!(
            "You're WRONG?!",
            [
                (Word, "you're", "You're"),
                (Word, "wrong", "WRONG"),
                (Punct, "?", "?"),
                (Punct, "!", "!")
            ]
        );
        t!(
            "@Jen_K you 1d10t",
            [
                (Mention, "@jen_k", "@Jen_K"),
                (Word, "you", "you"),
                (Word, "idiot", "1d10t")
            ]
        );
        t!(
            "see www.example.com.",
            [
                (Word, "see", "see"),
                (Url, "www.example.com", "www.example.com")
            ]
        );
        t!(
            "(https://a.b/c?d=1)",
            [(Url, "https://a.b/c?d=1", "https://a.b/c?d=1")]
        );
        t!(
            "3.5 million, 1,000 people",
            [
                (Number, "3.5", "3.5"),
                (Word, "million", "million"),
                (Number, "1,000", "1,000"),
                (Word, "people", "people")
            ]
        );
        t!(
            "great 👍🏽 news",
            [
                (Word, "great", "great"),
                (Emoji, "👍🏽", "👍🏽"),
                (Word, "news", "news")
            ]
        );
        t!(
            "s t u p i d!",
            [(Word, "stupid", "s t u p i d"), (Punct, "!", "!")]
        );
        t!("a @ b", [(Word, "a", "a"), (Word, "b", "b")]);
        t!(
            "东京 is big",
            [
                (Word, "东", "东"),
                (Word, "京", "京"),
                (Word, "is", "is"),
                (Word, "big", "big")
            ]
        );
    }

    fn unicode_bounds(text: &str) -> Vec<(usize, &str)> {
        text.split_word_bound_indices().collect()
    }

    #[test]
    fn ascii_segments_match_unicode_segmentation() {
        // Every string of up to five characters from one character of each
        // word-break class (and a few of class Other).
        let alphabet = b"a1:.,;'_\"!@-";
        let mut text = Vec::new();
        let mut count = 0;
        for len in 1..=5u32 {
            for mut n in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let text = std::str::from_utf8(&text).unwrap();
                let ascii: Vec<_> = ascii_word_bounds(text).collect();
                assert_eq!(ascii, unicode_bounds(text), "{text:?}");
                count += 1;
            }
        }
        assert!(count > 250_000);
        // Longer pseudo-random strings of all printable ASCII.
        let mut x = 0x9e37_79b9u32;
        for _ in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = 1 + (x >> 16) as usize % 40;
            let text: String = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    // Letters, digits and the classes that join them, often.
                    let common = b"aZ09:.,;'_";
                    let b = if (x >> 30) & 1 == 0 {
                        common[(x >> 16) as usize % common.len()]
                    } else {
                        b'!' + ((x >> 16) % 94) as u8
                    };
                    b as char
                })
                .collect();
            let ascii: Vec<_> = ascii_word_bounds(&text).collect();
            assert_eq!(ascii, unicode_bounds(&text), "{text:?}");
        }
    }

    #[test]
    fn ascii_punctuation_shortcut_matches_segmentation() {
        let punctuation: Vec<u8> = (0..128u8)
            .filter(|b| b.is_ascii_punctuation() && *b != b'_')
            .collect();
        // Every pair and triple, and a long pseudo-random run.
        let mut chunks = Vec::new();
        for &a in &punctuation {
            for &b in &punctuation {
                chunks.push(vec![a, b]);
                for &c in &punctuation[..8] {
                    chunks.push(vec![a, b, c]);
                }
            }
        }
        let mut x = 7u32;
        chunks.push(
            (0..5000)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    punctuation[(x >> 16) as usize % punctuation.len()]
                })
                .collect(),
        );
        for chunk in chunks {
            let chunk = String::from_utf8(chunk).unwrap();
            assert!(is_ascii_punctuation(&chunk));
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            tokenize_ascii_punctuation(&chunk, 3, &mut fast);
            Tokenizer.tokenize_segments(chunk.split_word_bound_indices(), 3, &mut slow);
            assert_eq!(fast, slow, "{chunk:?}");
        }
        assert!(!is_ascii_punctuation("a!"));
        assert!(!is_ascii_punctuation("__"));
        assert!(!is_ascii_punctuation("!\u{2019}"));
    }

    #[test]
    fn word_or_punctuation_shortcut_matches_segmentation() {
        let marks: Vec<char> = (0..128u8)
            .map(char::from)
            .filter(|c| c.is_ascii_punctuation())
            .collect();
        let mut chunks = Vec::new();
        for word in ["", "a", "I", "you", "Its", "etc", "u"] {
            chunks.push(word.to_string());
            for &a in &marks {
                chunks.push(format!("{word}{a}"));
                for &b in &marks {
                    chunks.push(format!("{word}{a}{b}"));
                    for tail in ["s", "1", "é", "_", "x!"] {
                        chunks.push(format!("{word}{a}{b}{tail}"));
                    }
                }
                chunks.push(format!("{word}{a}t"));
                chunks.push(format!("{word}{a}5"));
            }
        }
        for chunk in chunks {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            Tokenizer.tokenize_words(&chunk, 3, &mut fast);
            Tokenizer.tokenize_segments(chunk.split_word_bound_indices(), 3, &mut slow);
            assert_eq!(fast, slow, "{chunk:?}");
        }
    }

    #[test]
    fn one_byte_segments_are_classified_as_longer_ones() {
        for c in (0..128u8).map(char::from) {
            let one = c.encode_utf8(&mut [0; 4]).to_string();
            assert_eq!(segment_kind(&one), general_kind(&one), "{c:?}");
        }
    }

    #[test]
    fn spans_are_char_boundaries() {
        let input = "Ｗow\u{200B}!! ｆ*ck — naïve 🤬🤬 @you";
        let n = Normalizer::default().normalize(input);
        for t in Tokenizer.tokenize(&n) {
            assert!(input.is_char_boundary(t.span.start));
            assert!(input.is_char_boundary(t.span.end));
            assert!(t.span.start <= t.span.end);
        }
    }
}
