//! The fused engine: one pass over the comment that splits it into words,
//! runs the character rules on each character as it is read, the word
//! rules on each finished word, joins spelled-out words, and writes the
//! result with its map back to the original bytes. Plain ASCII words that
//! no rule changes (most words of most comments) are copied whole; the
//! rules' facts in [`super::rules`] say which those are.

use super::rules::diacritics::{self, drop_marks_after_latin};
use super::rules::invisible::is_invisible;
use super::rules::leet::{fold_leet, leet_letter};
use super::rules::lexicon::lexicon_word;
use super::rules::separators::fold_separators_and_masks;
use super::rules::squeeze::squeeze;
use super::rules::url::is_url_like;
use super::rules::{self, case, confusables::fold_confusables, nfkc, AsciiEffect};
use super::{Ch, Normalized, Normalizer};

impl Normalizer {
    /// `normalize_into`, with or without the shortcut for plain ASCII
    /// words (tests check that both give the same result).
    pub(super) fn normalize_with(
        &self,
        input: &str,
        out: &mut Normalized,
        state: &mut WordState,
        fast: bool,
    ) {
        out.text.clear();
        out.starts.clear();
        out.ends.clear();
        state.word.clear();
        state.singles.clear();
        state.space = None;
        let bytes = input.as_bytes();
        // Offsets are u32: past 4 GiB only the character path keeps the
        // byte map as it always was.
        let fast = fast && u32::try_from(bytes.len()).is_ok();
        // What the character rules do to the ASCII chunks the shortcut copies.
        let lowercase = rules::ascii_effect(&self.config) == AsciiEffect::Lowercase;
        let mut i = 0;
        while i < bytes.len() {
            if state.word.is_empty() && fast {
                if let Some(len) = self.plain_ascii_chunk(&bytes[i..], lowercase) {
                    // What `end_word` does with a word no rule changes.
                    self.flush_singles(state, out, &[]);
                    emit_ascii(out, state.space.take(), &input[i..i + len], i as u32);
                    if lowercase {
                        let n = out.text.len();
                        out.text[n - len..].make_ascii_lowercase();
                    }
                    i += len;
                    continue;
                }
            }
            let Some(c) = input[i..].chars().next() else {
                break;
            };
            let start = i as u32;
            i += c.len_utf8();
            let end = i as u32;
            if is_invisible(c) {
                continue;
            }
            if c.is_whitespace() || c.is_control() {
                self.end_word(state, out);
                if state.space.is_none() {
                    state.space = Some((start, end));
                }
                continue;
            }
            self.fold_char(c, start, end, &mut state.word);
        }
        self.end_word(state, out);
        self.flush_singles(state, out, &[]);
    }

    /// The length of the whitespace-delimited chunk at the start of
    /// `bytes` if it is printable ASCII that no rule would change, apart
    /// from lower-casing its letters if `lowercase` (what the character
    /// rules do to ASCII): the character-by-character path would give the
    /// same text, with every byte mapped to itself. Most words of most
    /// comments are such chunks.
    ///
    /// The word rules only change a word's core (`core_bounds`), so a
    /// chunk whose core is empty is taken. A core of letters (lower-case
    /// ones, unless case folding makes them so) is taken if no word rule's
    /// fact says it may change it; any other core is left to the slow
    /// path. So is a chunk followed by a character outside ASCII, which
    /// the slow path may join to the word.
    fn plain_ascii_chunk(&self, bytes: &[u8], lowercase: bool) -> Option<usize> {
        let len = bytes
            .iter()
            .position(|b| !b.is_ascii_graphic())
            .unwrap_or(bytes.len());
        if len == 0 || bytes.get(len).is_some_and(|b| !b.is_ascii()) {
            return None;
        }
        let chunk = &bytes[..len];
        let lead = chunk
            .iter()
            .position(|&b| b.is_ascii_alphanumeric() || b == b'$')
            .unwrap_or(len);
        let trail = chunk
            .iter()
            .rposition(|&b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'*' | b'#'))
            .map_or(0, |k| k + 1);
        if lead >= trail {
            return Some(len);
        }
        let core = &chunk[lead..trail];
        let letter = |b: &u8| match lowercase {
            true => b.is_ascii_alphabetic(),
            false => b.is_ascii_lowercase(),
        };
        if !core.iter().all(letter) || rules::may_change_letters(core, &self.config) {
            return None;
        }
        Some(len)
    }

    /// Character-level folding: NFKC, case, diacritics.
    fn fold_char(&self, c: char, start: u32, end: u32, word: &mut Vec<Ch>) {
        let push = |d: char, word: &mut Vec<Ch>| {
            // Compatibility decompositions can yield a space ("¸" is a space
            // and a combining cedilla); inside a word it would split the
            // word on a second pass, so it is dropped.
            if d.is_whitespace() || is_invisible(d) {
                return;
            }
            let d = match self.config.strip_diacritics {
                true => match diacritics::strip(d, word) {
                    Some(d) => d,
                    None => return,
                },
                false => d,
            };
            word.push(Ch { c: d, start, end });
        };
        // Case first, then accents: "Ħ" lowers to "ħ", whose base is "h".
        let lower = |d: char, word: &mut Vec<Ch>| {
            if self.config.lowercase {
                case::fold(d, |l| push(l, word));
            } else {
                push(d, word);
            }
        };
        // Most characters are their own NFKC form, which the quick check
        // tells without building a normalizing iterator.
        if self.config.nfkc && nfkc::may_change(c) {
            for d in nfkc::form(c) {
                lower(d, word);
            }
        } else {
            lower(c, word);
        }
    }

    /// Finishes the word in `state.word`, folding it and writing it out.
    fn end_word(&self, state: &mut WordState, out: &mut Normalized) {
        if state.word.is_empty() {
            return;
        }
        let mut word = std::mem::take(&mut state.word);
        // Folded first, so a word that folds to one letter ("oooo") joins a
        // spelled-out word just as it would on a second pass.
        self.fold_word(&mut word, &mut state.buffers);
        // A single letter, possibly followed by punctuation ("d!"), may be
        // part of a spelled-out word.
        let (lead, trail) = core_bounds(&word);
        let is_single = self.config.separators
            && lead == 0
            && trail == 1
            && (word[0].c.is_ascii_alphabetic() || leet_letter(word[0].c).is_some());
        if is_single {
            state.singles.push((state.space.take(), word[0]));
            if word.len() > 1 {
                self.flush_singles(state, out, &word[1..]);
            }
        } else {
            self.flush_singles(state, out, &[]);
            emit_word(out, state.space.take(), &word, &[]);
        }
        word.clear();
        state.word = word;
    }

    /// Writes pending single-letter words, then `suffix`: three or more in a
    /// row ("s t u p i d") are one spelled-out word, fewer are left alone.
    fn flush_singles(&self, state: &mut WordState, out: &mut Normalized, suffix: &[Ch]) {
        if state.singles.is_empty() {
            return;
        }
        let letters = state
            .singles
            .iter()
            .filter(|(_, ch)| ch.c.is_ascii_alphabetic())
            .count();
        if state.singles.len() >= 3 && letters >= 2 {
            let mut word = std::mem::take(&mut state.spelled);
            word.clear();
            word.extend(state.singles.iter().map(|(_, ch)| *ch));
            word.extend_from_slice(suffix);
            let mut first = 0;
            // "you are a m o r o n": the article is a word of its own,
            // unless the whole run spells a word we know ("a s s").
            if state.singles.len() >= 4 && word[0].c == 'a' {
                let mut whole = std::mem::take(&mut state.whole);
                whole.clear();
                whole.extend_from_slice(&word);
                self.fold_word(&mut whole, &mut state.buffers);
                let (lead, trail) = core_bounds(&whole);
                let known = lexicon_word(&whole[lead..trail]).is_some();
                state.whole = whole;
                if !known {
                    let (space, ch) = state.singles[0];
                    emit_word(out, space, &[ch], &[]);
                    word.remove(0);
                    first = 1;
                }
            }
            self.fold_word(&mut word, &mut state.buffers);
            emit_word(out, state.singles[first].0, &word, &[]);
            state.spelled = word;
        } else {
            let last = state.singles.len() - 1;
            for (i, (space, ch)) in state.singles.iter().enumerate() {
                let tail = if i == last { suffix } else { &[] };
                emit_word(out, *space, &[*ch], tail);
            }
        }
        state.singles.clear();
    }

    /// Word-level folding of one whitespace-delimited chunk.
    fn fold_word(&self, word: &mut Vec<Ch>, buffers: &mut Buffers) {
        if is_url_like(word) {
            return;
        }
        let (lead, trail) = core_bounds(word);
        if lead >= trail {
            return;
        }
        // Most words are plain lower-case letters with no doubled letter:
        // no rule applies, and the copy below would be an allocation per
        // word on the scoring path.
        let plain = word[lead..trail].iter().all(|ch| ch.c.is_ascii_lowercase())
            && word[lead..trail].windows(2).all(|w| w[0].c != w[1].c);
        if plain {
            return;
        }
        let Buffers {
            core,
            snapshot,
            runs,
            squeezed,
        } = buffers;
        core.clear();
        core.extend_from_slice(&word[lead..trail]);
        // One rule can expose another's pattern ("iiidiot*": squeezing
        // leaves "idiot*", which unmasks to "idiots"), so the rules repeat
        // until nothing changes; that keeps normalization idempotent. Each
        // round only ever shortens or rewrites the word, so a few suffice.
        for _ in 0..4 {
            snapshot.clear();
            snapshot.extend(core.iter().map(|ch| ch.c));
            if self.config.confusables {
                fold_confusables(core);
                if self.config.strip_diacritics {
                    drop_marks_after_latin(core);
                }
            }
            if self.config.separators || self.config.masks {
                fold_separators_and_masks(&self.config, core, squeezed);
            }
            if self.config.leetspeak {
                fold_leet(core, squeezed);
            }
            if self.config.max_repeat > 0 {
                squeeze(core, self.config.max_repeat, runs, squeezed);
            }
            if core.iter().map(|ch| ch.c).eq(snapshot.iter().copied()) {
                break;
            }
        }
        word.splice(lead..trail, core.iter().copied());
        if self.config.strip_diacritics {
            drop_marks_after_latin(word);
        }
    }
}

/// The normalizer's working state and buffers for one comment, reusable
/// for the next.
#[derive(Debug, Default)]
pub(crate) struct WordState {
    word: Vec<Ch>,
    buffers: Buffers,
    /// A run of single letters read as one spelled-out word...
    spelled: Vec<Ch>,
    /// ...and the same run folded whole, article included.
    whole: Vec<Ch>,
    /// The first whitespace character before the current word, if any.
    space: Option<(u32, u32)>,
    /// Pending single-character words, each with the space before it.
    singles: Vec<(Option<(u32, u32)>, Ch)>,
}

/// Buffers of the word-level rules.
#[derive(Debug, Default)]
struct Buffers {
    /// The word being folded, without its leading and trailing punctuation.
    core: Vec<Ch>,
    /// Its letters before the latest round of rules.
    snapshot: Vec<char>,
    /// Runs of one letter: (start, length).
    runs: Vec<(usize, usize)>,
    /// The word with its runs squeezed.
    squeezed: Vec<Ch>,
}

/// Writes the word `head` followed by `tail`, after a space unless it is
/// the first word.
#[inline]
fn emit_word(out: &mut Normalized, space: Option<(u32, u32)>, head: &[Ch], tail: &[Ch]) {
    let Some(first) = head.first().or(tail.first()) else {
        return;
    };
    separate(out, space, first.start);
    for ch in head.iter().chain(tail) {
        out.push(ch.c, ch.start, ch.end);
    }
}

/// Writes the space before a word that starts at `at` in the original,
/// unless it is the first: mapped to the whitespace that preceded the
/// word, or to an empty range at its start.
#[inline]
fn separate(out: &mut Normalized, space: Option<(u32, u32)>, at: u32) {
    if !out.text.is_empty() {
        let (start, end) = space.unwrap_or((at, at));
        out.push(' ', start, end);
    }
}

/// Writes an ASCII chunk whose first byte is at `offset` in the
/// original, like `emit_word`: every byte maps to itself.
#[inline]
fn emit_ascii(out: &mut Normalized, space: Option<(u32, u32)>, chunk: &str, offset: u32) {
    separate(out, space, offset);
    out.text.push_str(chunk);
    let end = offset + chunk.len() as u32;
    out.starts.extend(offset..end);
    out.ends.extend(offset + 1..end + 1);
}

/// The bounds of a word's core, without surrounding punctuation.
/// Leading `$` and trailing `$`, `*` and `#` stay: they may be letters
/// in disguise ("$hit", "a$$", "f***").
fn core_bounds(word: &[Ch]) -> (usize, usize) {
    let mut lead = 0;
    while lead < word.len() && !word[lead].c.is_alphanumeric() && word[lead].c != '$' {
        lead += 1;
    }
    let mut trail = word.len();
    while trail > lead
        && !word[trail - 1].c.is_alphanumeric()
        && !matches!(word[trail - 1].c, '$' | '*' | '#')
    {
        trail -= 1;
    }
    (lead, trail)
}

#[cfg(test)]
mod shortcut {
    use super::*;
    use crate::normalize::NormalizerConfig;
    use proptest::prelude::*;

    /// The normalizer's output with and without the plain-ASCII shortcut.
    fn both(normalizer: &Normalizer, text: &str) -> [(String, Vec<u32>, Vec<u32>); 2] {
        [true, false].map(|fast| {
            let mut out = Normalized::default();
            normalizer.normalize_with(text, &mut out, &mut WordState::default(), fast);
            (out.text, out.starts, out.ends)
        })
    }

    fn configs() -> Vec<Normalizer> {
        let with = |f: fn(&mut NormalizerConfig)| {
            let mut config = NormalizerConfig::default();
            f(&mut config);
            Normalizer::new(config)
        };
        vec![
            Normalizer::default(),
            with(|c| c.lowercase = false),
            with(|c| c.max_repeat = 0),
            with(|c| c.max_repeat = 3),
            with(|c| c.separators = false),
            with(|c| c.masks = false),
        ]
    }

    const TRICKY: &[&str] = &[
        "good",
        "Good",
        "GOOD",
        "fuuck",
        "FUuck",
        "kiill",
        "kiil",
        "aa",
        "Aa",
        "a",
        "I",
        "$hit",
        "a$$",
        "f***",
        "sh#",
        "hello@x.",
        "x@y.z",
        "http://x.y",
        "www.x",
        "s t u p i d",
        "a b c d",
        "I I I",
        "x\u{200B}y",
        "ab\u{0301}",
        "Heyyy",
        "ok!!",
        "--",
        "(\"good\")",
        "Ww",
        "wellll",
        "asss",
        "ass",
        "Ass.",
        "assss",
        "bulllshit",
        "bullshit",
        "a\u{a0}b",
        "idiot\u{ff01}",
        "\u{0456}diot",
        "x\ty\r\nz",
        "!!! ???",
        "stupid\u{7f}x",
        "mr. t",
        "u s a",
        "e.g.",
        "o k",
        "*",
        "#",
        "$",
        "5",
        "a5",
        "ab5",
        "no,\u{2019}t",
    ];

    #[test]
    fn tricky_chunks() {
        for normalizer in configs() {
            for text in TRICKY {
                let [fast, slow] = both(&normalizer, text);
                assert_eq!(fast, slow, "{text:?} with {:?}", normalizer.config());
            }
        }
    }

    #[test]
    fn our_comments() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/training-data");
        for file in ["comments.jsonl", "validation.jsonl", "judgements.jsonl"] {
            let data = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            for line in data.lines() {
                let row: serde_json::Value = serde_json::from_str(line).unwrap();
                let text = row["text"].as_str().unwrap();
                for normalizer in configs() {
                    let [fast, slow] = both(&normalizer, text);
                    assert_eq!(fast, slow, "{text:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn same_as_character_by_character(
            text in "([a-dA-D]{1,4}|[fF]u{1,3}ck|[kK]i{1,2}l{1,3}|as{1,3}|[ .!*#$@15]|\u{200B}|\u{0456}|\u{e9}|\u{301}| {1,2}|\n){0,24}"
        ) {
            for normalizer in configs() {
                let [fast, slow] = both(&normalizer, &text);
                prop_assert_eq!(fast, slow);
            }
        }
    }
}
