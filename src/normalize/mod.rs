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

use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::OnceLock;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Which normalization steps run. Stored in every model file, so scoring
/// always uses the steps the model was trained with.
///
/// | field | default | purpose |
/// |---|---|---|
/// | `nfkc` | `true` | Unicode compatibility composition: fullwidth and mathematical letters become plain letters |
/// | `lowercase` | `true` | full Unicode case folding to lower case |
/// | `strip_diacritics` | `true` | drop accents from Latin letters ("stüpid" → "stupid") |
/// | `confusables` | `true` | Cyrillic/Greek look-alikes inside Latin words become Latin |
/// | `leetspeak` | `true` | digits and symbols inside words become letters ("1d10t") |
/// | `separators` | `true` | "i.d.i.o.t" and "s t u p i d" become one word |
/// | `masks` | `true` | masked letters restored from a small lexicon ("f*ck") |
/// | `max_repeat` | `2` | runs of the same letter longer than this collapse to one; `0` disables |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizerConfig {
    /// Apply Unicode NFKC to every character.
    pub nfkc: bool,
    /// Fold case to lower case.
    pub lowercase: bool,
    /// Remove diacritics from Latin letters.
    pub strip_diacritics: bool,
    /// Fold Cyrillic and Greek look-alike letters inside Latin words.
    pub confusables: bool,
    /// Fold leetspeak digits and symbols inside words.
    pub leetspeak: bool,
    /// Join letters separated by dots, dashes or single spaces.
    pub separators: bool,
    /// Restore masked letters of known offensive words.
    pub masks: bool,
    /// Runs of one letter longer than this collapse to a single letter.
    pub max_repeat: usize,
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        NormalizerConfig {
            nfkc: true,
            lowercase: true,
            strip_diacritics: true,
            confusables: true,
            leetspeak: true,
            separators: true,
            masks: true,
            max_repeat: 2,
        }
    }
}

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

    /// `normalize_into`, with or without the shortcut for plain ASCII
    /// words (tests check that both give the same result).
    fn normalize_with(&self, input: &str, out: &mut Normalized, state: &mut WordState, fast: bool) {
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
        let mut i = 0;
        while i < bytes.len() {
            if state.word.is_empty() && fast {
                if let Some(len) = self.plain_ascii_chunk(&bytes[i..]) {
                    // What `end_word` does with a word no rule changes.
                    self.flush_singles(state, out, &[]);
                    emit_ascii(out, state.space.take(), &input[i..i + len], i as u32);
                    if self.config.lowercase {
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
    /// `bytes` if it is printable ASCII that no rule would change: the
    /// character-by-character path would give the same text, with every
    /// byte mapped to itself. Most words of most comments are such chunks.
    ///
    /// No rule changes a chunk whose core (`core_bounds`) is empty, or two
    /// or more letters with no run longer than `max_repeat` and, if a
    /// letter is doubled, whose runs spell no lexicon word ("fuuck"): look-alikes,
    /// separators, masks and leetspeak need a character other than a
    /// letter in the core. A chunk followed by a character outside ASCII
    /// is left to the slow path, which may join that character to the word.
    fn plain_ascii_chunk(&self, bytes: &[u8]) -> Option<usize> {
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
        let letter = |b: &u8| match self.config.lowercase {
            true => b.is_ascii_alphabetic(),
            false => b.is_ascii_lowercase(),
        };
        if core.len() < 2 || !core.iter().all(letter) {
            return None;
        }
        let max_repeat = self.config.max_repeat;
        if max_repeat == 0 {
            return Some(len);
        }
        let same = |a: u8, b: u8| a.eq_ignore_ascii_case(&b);
        let mut doubled = false;
        let mut run = 1;
        for w in core.windows(2) {
            if same(w[0], w[1]) {
                run += 1;
                doubled = true;
                if run > max_repeat {
                    return None;
                }
            } else {
                run = 1;
            }
        }
        if doubled && stretches_lexicon_word(core) {
            return None;
        }
        Some(len)
    }

    /// Character-level folding: NFKC, diacritics, case.
    fn fold_char(&self, c: char, start: u32, end: u32, word: &mut Vec<Ch>) {
        let push = |d: char, word: &mut Vec<Ch>| {
            // Compatibility decompositions can yield a space ("¸" is a space
            // and a combining cedilla); inside a word it would split the
            // word on a second pass, so it is dropped.
            if d.is_whitespace() || is_invisible(d) {
                return;
            }
            // No ASCII character is a combining mark: the table lookup is
            // skipped for most characters.
            if self.config.strip_diacritics
                && !d.is_ascii()
                && is_combining_mark(d)
                && word.last().is_some_and(|p| p.c.is_ascii_alphabetic())
            {
                return;
            }
            let d = match self.config.strip_diacritics && !d.is_ascii() {
                true => latin_base(d).unwrap_or(d),
                false => d,
            };
            word.push(Ch { c: d, start, end });
        };
        // Case first, then accents: "Ħ" lowers to "ħ", whose base is "h".
        let lower = |d: char, word: &mut Vec<Ch>| {
            if self.config.lowercase {
                d.to_lowercase().for_each(|l| push(l, word));
            } else {
                push(d, word);
            }
        };
        // Most characters are their own NFKC form, which the quick check
        // tells without building a normalizing iterator.
        let is_nfkc = || is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes;
        if self.config.nfkc && !c.is_ascii() && !is_nfkc() {
            for d in std::iter::once(c).nfkc() {
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
                self.fold_separators_and_masks(core, squeezed);
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

    /// `spare` is a buffer for the joined word.
    fn fold_separators_and_masks(&self, core: &mut Vec<Ch>, spare: &mut Vec<Ch>) {
        let interior_marks = core.len() > 2
            && core[1..core.len() - 1]
                .iter()
                .any(|ch| is_separator(ch.c) || is_mask(ch.c));
        let trailing_mask = core.len() > 1
            && core.last().is_some_and(|ch| is_mask(ch.c))
            && core[0].c.is_alphabetic();
        if !interior_marks && !trailing_mask {
            return;
        }
        if self.config.separators {
            // "i.d.i.o.t": every piece a single letter.
            let separators = core.iter().filter(|ch| is_separator(ch.c)).count();
            let pieces = separators + 1;
            let all_single =
                pieces >= 3 && core.split(|ch| is_separator(ch.c)).all(|p| p.len() == 1);
            // Joined, a word longer than any in the lexicon cannot be one.
            if all_single || (pieces > 1 && core.len() - separators <= LEXICON_MAX_LEN) {
                let joined = spare;
                joined.clear();
                joined.extend(core.iter().copied().filter(|ch| !is_separator(ch.c)));
                if all_single || lexicon_word(joined).is_some() {
                    std::mem::swap(core, joined);
                    return;
                }
            }
        }
        if self.config.masks {
            if let Some(target) = unmask(core) {
                for (ch, t) in core.iter_mut().zip(target.chars()) {
                    ch.c = t;
                }
                return;
            }
        }
        // A word we do not know, disguised by one dot ("path.etic") or by
        // masks between letters ("path*tic"): drop the marks, so at least
        // the character n-grams of the word come through. Hyphens stay
        // ("well-known"), and so do dots in short words ("e.g", "u.s").
        let letters_or =
            |mark: fn(char) -> bool| core.iter().all(|ch| ch.c.is_alphabetic() || mark(ch.c));
        let dots = core.iter().filter(|ch| ch.c == '.').count();
        let split_by_dot = self.config.separators
            && dots == 1
            && letters_or(|c| c == '.')
            && core.split(|ch| ch.c == '.').all(|p| !p.is_empty())
            && core.len() >= 5;
        let masked_inside = self.config.masks
            && core.len() > 2
            && core[1..core.len() - 1]
                .iter()
                .any(|ch| matches!(ch.c, '*' | '#'))
            && letters_or(|c| matches!(c, '*' | '#'))
            && core.first().is_some_and(|ch| ch.c.is_alphabetic())
            && core.last().is_some_and(|ch| ch.c.is_alphabetic());
        if split_by_dot || masked_inside {
            core.retain(|ch| ch.c.is_alphabetic());
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
fn separate(out: &mut Normalized, space: Option<(u32, u32)>, at: u32) {
    if !out.text.is_empty() {
        let (start, end) = space.unwrap_or((at, at));
        out.push(' ', start, end);
    }
}

/// Writes an ASCII chunk whose first byte is at `offset` in the
/// original, like `emit_word`: every byte maps to itself.
fn emit_ascii(out: &mut Normalized, space: Option<(u32, u32)>, chunk: &str, offset: u32) {
    separate(out, space, offset);
    out.text.push_str(chunk);
    let end = offset + chunk.len() as u32;
    out.starts.extend(offset..end);
    out.ends.extend(offset + 1..end + 1);
}

/// Drops combining marks after a Latin letter: accents on letters that
/// only became Latin when look-alikes were folded ("і̧" → "i").
fn drop_marks_after_latin(word: &mut Vec<Ch>) {
    // No ASCII character is a combining mark.
    if word.iter().all(|ch| ch.c.is_ascii()) {
        return;
    }
    let mut prev_latin = false;
    word.retain(|ch| {
        let keep = !(prev_latin && is_combining_mark(ch.c));
        if keep {
            prev_latin = ch.c.is_ascii_alphabetic();
        }
        keep
    });
}

/// Zero-width characters, bidi controls, the soft hyphen and other
/// format characters that render as nothing and only serve to hide words.
fn is_invisible(c: char) -> bool {
    // The first invisible character is U+00AD.
    c >= '\u{00AD}'
        && matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// The ASCII base letter of an accented Latin letter ("é" → 'e'), or `None`.
fn latin_base(c: char) -> Option<char> {
    let mut first = None;
    decompose_canonical(c, |d| {
        if first.is_none() {
            first = Some(d);
        }
    });
    match first {
        Some(b) if b.is_ascii_alphabetic() && b != c => Some(b),
        _ => match c {
            'ı' => Some('i'),
            'ł' | 'Ł' => Some('l'),
            'ø' | 'Ø' => Some('o'),
            'đ' | 'Đ' => Some('d'),
            'ħ' => Some('h'),
            _ => None,
        },
    }
}

/// A Latin look-alike for a Cyrillic or Greek lower-case letter.
fn confusable(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'ս' => 'u',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' => 'x',
        'у' | 'ү' => 'y',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        _ => return None,
    })
}

/// Folds look-alike letters when the word is Latin with a few foreign
/// letters mixed in, or consists only of look-alikes. A Russian or Greek
/// word with letters that have no Latin look-alike is left alone.
fn fold_confusables(core: &mut [Ch]) {
    let mut confusables = 0;
    let mut latin = 0;
    let mut other = 0;
    for ch in core.iter() {
        if ch.c.is_ascii_alphabetic() {
            latin += 1;
        } else if confusable(ch.c).is_some() {
            confusables += 1;
        } else if ch.c.is_alphabetic() {
            other += 1;
        }
    }
    if confusables == 0 || other > 0 || (latin == 0 && confusables < 2) {
        return;
    }
    for ch in core.iter_mut() {
        if let Some(l) = confusable(ch.c) {
            ch.c = l;
        }
    }
}

/// URLs and e-mail addresses are kept as written (only case-folded).
fn is_url_like(word: &[Ch]) -> bool {
    let starts_with =
        |p: &str| word.len() >= p.len() && word.iter().zip(p.chars()).all(|(ch, c)| ch.c == c);
    if starts_with("http://") || starts_with("https://") || starts_with("www.") {
        return true;
    }
    // name@host.tld
    let at = word.iter().position(|ch| ch.c == '@');
    matches!(at, Some(i) if i > 0
        && word[..i].iter().any(|ch| ch.c.is_alphanumeric())
        && word[i + 1..].iter().any(|ch| ch.c == '.'))
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

fn is_separator(c: char) -> bool {
    matches!(
        c,
        '.' | '-' | '_' | '~' | '+' | '·' | '•' | '|' | '/' | '\\' | ','
    )
}

fn is_mask(c: char) -> bool {
    matches!(c, '*' | '#' | '%' | '?' | '_' | '-' | '.')
}

/// The letter a leetspeak character stands for.
fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// Folds leetspeak in a word that mixes letters with digits or symbols
/// ("1d10t", "m0ron", "sh!t", "a$$hole", "h473"), but leaves numbers,
/// ordinals and names whose digits all come after their letters alone
/// ("2020", "4th", "100k", "covid19", "mp3"). A name with a digit between
/// letters is folded like leetspeak ("h1n1" becomes "hini"): telling it
/// from a disguised word ending in a digit would need a dictionary.
fn fold_leet(core: &mut [Ch], spare: &mut Vec<Ch>) {
    let letters = core.iter().filter(|ch| ch.c.is_ascii_alphabetic()).count();
    let leet = core.iter().filter(|ch| leet_letter(ch.c).is_some()).count();
    let others = core.len() - letters - leet;
    if letters == 0 || leet == 0 || others > 0 {
        return;
    }
    let first_digit = core.first().is_some_and(|ch| ch.c.is_ascii_digit());
    // "covid19", "mp3", "win10": every digit after the last letter.
    let last_letter = core.iter().rposition(|ch| ch.c.is_ascii_alphabetic());
    let trailing_digits_only = core
        .iter()
        .enumerate()
        .filter(|(_, ch)| leet_letter(ch.c).is_some())
        .all(|(i, ch)| ch.c.is_ascii_digit() && Some(i) > last_letter);
    // "4th", "100k", "1990s": digits then a short suffix.
    let digits_then_letters = first_digit && {
        let n = core.iter().take_while(|ch| ch.c.is_ascii_digit()).count();
        core[n..].iter().all(|ch| ch.c.is_ascii_alphabetic()) && core.len() - n <= 3
    };
    let folded = spare;
    folded.clear();
    folded.extend(core.iter().map(|ch| Ch {
        c: leet_letter(ch.c).unwrap_or(ch.c),
        ..*ch
    }));
    // Names and numbers are left alone, unless they spell a lexicon word.
    if (digits_then_letters || trailing_digits_only) && lexicon_word(folded).is_none() {
        return;
    }
    core.copy_from_slice(folded);
}

/// Collapses runs of one letter longer than `max_repeat` to one letter,
/// then restores a lexicon word whose letters were stretched ("idiiot").
fn squeeze(
    core: &mut Vec<Ch>,
    max_repeat: usize,
    runs: &mut Vec<(usize, usize)>,
    out: &mut Vec<Ch>,
) {
    // Most words repeat no letter: nothing to collapse, and no list of runs.
    if core.windows(2).all(|w| w[0].c != w[1].c) {
        return;
    }
    runs.clear();
    out.clear();
    for (i, ch) in core.iter().enumerate() {
        match runs.last_mut() {
            Some((s, n)) if core[*s].c == ch.c => *n += 1,
            _ => runs.push((i, 1)),
        }
    }
    if runs.len() == core.len() {
        return;
    }
    // A stretched lexicon word: same letters, different run lengths.
    if let Some(target) = lexicon_by_runs(core, runs) {
        let mut t = target.chars().peekable();
        for &(s, n) in runs.iter() {
            let span = Ch {
                c: core[s].c,
                start: core[s].start,
                end: core[s + n - 1].end,
            };
            while t.peek() == Some(&span.c) {
                t.next();
                out.push(span);
            }
        }
        std::mem::swap(core, out);
        return;
    }
    for &(s, n) in runs.iter() {
        let keep = if n > max_repeat && core[s].c.is_alphabetic() {
            1
        } else {
            n
        };
        for k in 0..keep {
            let mut ch = core[s + k];
            if keep == 1 && n > 1 {
                ch.end = core[s + n - 1].end;
            }
            out.push(ch);
        }
    }
    std::mem::swap(core, out);
}

/// Offensive words whose disguised spellings the normalizer restores.
/// Only whole words that match one of these are rewritten by the mask,
/// separator and stretched-letter rules.
const LEXICON: &[&str] = &[
    "arse",
    "ass",
    "asses",
    "asshat",
    "asshole",
    "assholes",
    "bastard",
    "bastards",
    "bitch",
    "bitches",
    "bitching",
    "bullshit",
    "clown",
    "clowns",
    "crap",
    "cretin",
    "cunt",
    "cunts",
    "damn",
    "dick",
    "dickhead",
    "dicks",
    "dumb",
    "dumbass",
    "fag",
    "faggot",
    "fool",
    "fools",
    "fuck",
    "fucked",
    "fucker",
    "fuckers",
    "fucking",
    "fucks",
    "idiot",
    "idiotic",
    "idiots",
    "imbecile",
    "imbeciles",
    "jackass",
    "jerk",
    "jerks",
    "kill",
    "loser",
    "losers",
    "moron",
    "moronic",
    "morons",
    "motherfucker",
    "piss",
    "pissed",
    "prick",
    "pussy",
    "retard",
    "retarded",
    "retards",
    "scum",
    "scumbag",
    "shit",
    "shithead",
    "shits",
    "shitty",
    "slut",
    "sluts",
    "stfu",
    "stupid",
    "stupidity",
    "twat",
    "wanker",
    "whore",
    "whores",
    "wtf",
];

/// The length of the longest word in [`LEXICON`], all of which are ASCII.
const LEXICON_MAX_LEN: usize = 12;

/// True if the ASCII letters `core`, with each run of one letter (in
/// any case) counted once, spell a lexicon word with its runs counted
/// once: `squeeze` would rewrite the word ("fuuck", "kiil").
fn stretches_lexicon_word(core: &[u8]) -> bool {
    lexicon_by_run_letters(core.iter().map(|&b| char::from(b.to_ascii_lowercase()))).is_some()
}

/// The first lexicon word whose letters, each run of one letter counted
/// once, are those of `letters` counted the same way.
fn lexicon_by_run_letters(letters: impl Iterator<Item = char>) -> Option<&'static str> {
    fn runs_of(word: impl Iterator<Item = char>) -> Option<([char; LEXICON_MAX_LEN], usize)> {
        let (mut own, mut n) = (['\0'; LEXICON_MAX_LEN], 0);
        for c in word {
            if n > 0 && own[n - 1] == c {
                continue;
            }
            // A word has no more runs than letters.
            *own.get_mut(n)? = c;
            n += 1;
        }
        Some((own, n))
    }
    static RUNS: OnceLock<Vec<([char; LEXICON_MAX_LEN], usize)>> = OnceLock::new();
    let runs = RUNS.get_or_init(|| {
        LEXICON
            .iter()
            .map(|w| runs_of(w.chars()).expect("no lexicon word is longer than LEXICON_MAX_LEN"))
            .collect()
    });
    let (own, n) = runs_of(letters)?;
    LEXICON
        .iter()
        .zip(runs)
        .find(|(_, (w, m))| w[..*m] == own[..n])
        .map(|(w, _)| *w)
}

fn lexicon_word(chars: &[Ch]) -> Option<&'static str> {
    if chars.len() > LEXICON_MAX_LEN {
        return None;
    }
    LEXICON
        .iter()
        .copied()
        .find(|w| w.len() == chars.len() && w.chars().zip(chars).all(|(a, ch)| a == ch.c))
}

/// Words people most often mask, tried first: "f***" is "fuck", not "fool".
const MASK_FIRST: &[&str] = &[
    "fuck", "fucking", "fucked", "fucker", "shit", "bitch", "cunt", "asshole", "ass", "dick",
    "damn", "crap", "piss", "bastard", "whore", "slut",
];

/// A lexicon word that matches `core` with masked characters standing for
/// letters ("f*ck", "sh#t", "b**ch", "f***"); leetspeak characters also
/// match the letter they stand for. At least one real letter must remain.
fn unmask(core: &[Ch]) -> Option<&'static str> {
    let masked = core.iter().filter(|ch| is_mask(ch.c)).count();
    let letters = core.iter().filter(|ch| ch.c.is_alphabetic()).count();
    if masked == 0 || letters == 0 || core.len() < 3 || core.len() > LEXICON_MAX_LEN {
        return None;
    }
    let fits = |w: &&str| {
        w.len() == core.len()
            && w.chars()
                .zip(core)
                .all(|(a, ch)| a == ch.c || is_mask(ch.c) || leet_letter(ch.c) == Some(a))
    };
    MASK_FIRST.iter().chain(LEXICON).copied().find(fits)
}

/// A lexicon word with the same sequence of letters as `core` but other run
/// lengths: "idiiot" → "idiot", "fuuuuck" → "fuck", "asssshole" → "asshole".
fn lexicon_by_runs(core: &[Ch], runs: &[(usize, usize)]) -> Option<&'static str> {
    lexicon_by_run_letters(runs.iter().map(|&(s, _)| core[s].c))
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
    fn lexicon_max_len_is_the_longest_word() {
        let longest = LEXICON.iter().chain(MASK_FIRST).map(|w| w.len()).max();
        assert_eq!(longest, Some(LEXICON_MAX_LEN));
        assert!(LEXICON.iter().chain(MASK_FIRST).all(|w| w.is_ascii()));
    }

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

#[cfg(test)]
mod shortcut {
    use super::*;
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
        for file in ["comments.jsonl", "validation.jsonl"] {
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
