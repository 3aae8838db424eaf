//! Separators (setting `separators`): letters split by dots, dashes and
//! the like become one word ("i.d.i.o.t", "st.upid"), and three or more
//! words of a single letter in a row are one spelled-out word
//! ("s t u p i d"; the engine collects those across words). Masks run in
//! the same pass ([`fold_separators_and_masks`]): `.`, `-` and `_` are
//! both, and a word that is neither rule's ends up with its marks dropped.

use super::lexicon::{lexicon_word, LEXICON_MAX_LEN};
use super::masks::{is_mask, unmask};
use super::WordRule;
use crate::normalize::{Ch, NormalizerConfig};

/// The rule as the ASCII shortcut knows it. Its fact: a word of ASCII
/// letters has no separator to join, but a word of one letter may be a
/// letter of a spelled-out word, which this rule joins to its neighbours.
pub(in crate::normalize) const RULE: WordRule = WordRule {
    name: "separators",
    may_change_letters: |core, config| config.separators && core.len() < 2,
};

/// Characters that may split the letters of a word.
#[inline]
pub(in crate::normalize) fn is_separator(c: char) -> bool {
    matches!(
        c,
        '.' | '-' | '_' | '~' | '+' | '·' | '•' | '|' | '/' | '\\' | ','
    )
}

/// Joins a word split by separators or restores its masked letters, as
/// `config` allows. `spare` is a buffer for the joined word.
#[inline]
pub(in crate::normalize) fn fold_separators_and_masks(
    config: &NormalizerConfig,
    core: &mut Vec<Ch>,
    spare: &mut Vec<Ch>,
) {
    let interior_marks = core.len() > 2
        && core[1..core.len() - 1]
            .iter()
            .any(|ch| is_separator(ch.c) || is_mask(ch.c));
    let trailing_mask =
        core.len() > 1 && core.last().is_some_and(|ch| is_mask(ch.c)) && core[0].c.is_alphabetic();
    if !interior_marks && !trailing_mask {
        return;
    }
    if config.separators {
        // "i.d.i.o.t": every piece a single letter.
        let separators = core.iter().filter(|ch| is_separator(ch.c)).count();
        let pieces = separators + 1;
        let all_single = pieces >= 3 && core.split(|ch| is_separator(ch.c)).all(|p| p.len() == 1);
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
    if config.masks {
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
    let split_by_dot = config.separators
        && dots == 1
        && letters_or(|c| c == '.')
        && core.split(|ch| ch.c == '.').all(|p| !p.is_empty())
        && core.len() >= 5;
    let masked_inside = config.masks
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
