//! Stretched letters (setting `max_repeat`): runs of one letter longer
//! than `max_repeat` collapse to one letter ("sooooo" → "so"), and a
//! lexicon word whose letters were stretched is restored ("idiiot",
//! "fuuuuck"). The last word rule of each round.

use super::lexicon::lexicon_by_run_letters;
use super::WordRule;
use crate::normalize::{Ch, NormalizerConfig};

/// The rule as the ASCII shortcut knows it; see [`may_change_letters`].
pub(in crate::normalize) const RULE: WordRule = WordRule {
    name: "squeeze",
    may_change_letters,
};

/// The squeeze rule's fact for the ASCII shortcut: it may change a word
/// of ASCII letters `core` (runs counted ignoring case, as they are after
/// case folding) if a run of one letter is longer than `max_repeat`, or
/// if a letter is doubled and the word's runs spell a lexicon word
/// ("fuuck", "kiil"); never when `max_repeat` is 0.
#[inline]
fn may_change_letters(core: &[u8], config: &NormalizerConfig) -> bool {
    let max_repeat = config.max_repeat;
    if max_repeat == 0 {
        return false;
    }
    let same = |a: u8, b: u8| a.eq_ignore_ascii_case(&b);
    let mut doubled = false;
    let mut run = 1;
    for w in core.windows(2) {
        if same(w[0], w[1]) {
            run += 1;
            doubled = true;
            if run > max_repeat {
                return true;
            }
        } else {
            run = 1;
        }
    }
    doubled && stretches_lexicon_word(core)
}

/// Collapses runs of one letter longer than `max_repeat` to one letter,
/// then restores a lexicon word whose letters were stretched ("idiiot").
#[inline]
pub(in crate::normalize) fn squeeze(
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

/// True if the ASCII letters `core`, with each run of one letter (in
/// any case) counted once, spell a lexicon word with its runs counted
/// once: `squeeze` would rewrite the word ("fuuck", "kiil").
#[inline]
fn stretches_lexicon_word(core: &[u8]) -> bool {
    lexicon_by_run_letters(core.iter().map(|&b| char::from(b.to_ascii_lowercase()))).is_some()
}

/// A lexicon word with the same sequence of letters as `core` but other run
/// lengths: "idiiot" → "idiot", "fuuuuck" → "fuck", "asssshole" → "asshole".
#[inline]
fn lexicon_by_runs(core: &[Ch], runs: &[(usize, usize)]) -> Option<&'static str> {
    lexicon_by_run_letters(runs.iter().map(|&(s, _)| core[s].c))
}
