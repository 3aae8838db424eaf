//! The normalizer's rules, one file each, and what each one does to plain
//! ASCII: the facts the engine's ASCII shortcut relies on.
//!
//! Character rules act on each character on its own, in this order:
//! [`invisible`], [`nfkc`], [`case`], [`diacritics`]. Word rules act on the
//! core of a word (the word without its leading and trailing
//! punctuation), in rounds until nothing changes: [`confusables`] (with
//! the marks left over dropped by [`diacritics`]), [`separators`] and
//! [`masks`] in one pass, [`leet`], then [`squeeze`]. [`url`] keeps the
//! word rules off URLs and e-mail addresses, and [`lexicon`] holds the
//! words that several rules restore.
//!
//! Most words of most comments are printable ASCII that no rule changes.
//! The engine copies such a word whole instead of folding it character by
//! character, and to know that no rule changes it, it asks every rule:
//! a character rule says what it does to printable ASCII
//! ([`CharRule::ascii`]), a word rule whether it may change a word made of
//! ASCII letters ([`WordRule::may_change_letters`]). A new rule writes its
//! fact beside its code and joins [`CHAR_RULES`] or [`WORD_RULES`]; a
//! test checks every fact against what its rule does to ASCII words.

pub(super) mod case;
pub(super) mod confusables;
pub(super) mod diacritics;
pub(super) mod invisible;
pub(super) mod leet;
pub(super) mod lexicon;
pub(super) mod masks;
pub(super) mod nfkc;
pub(super) mod separators;
pub(super) mod squeeze;
pub(super) mod url;

#[cfg(test)]
mod tests;

use super::NormalizerConfig;

/// What a character rule does to a printable ASCII character (`!` to
/// `~`). Only effects the ASCII shortcut can repeat in place, one byte
/// for one byte, are possible: a rule that does anything else to ASCII
/// needs a new variant here, and the shortcut a way to repeat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AsciiEffect {
    /// Every printable ASCII character stays as it is.
    Unchanged,
    /// Upper-case ASCII letters become lower-case; the rest stays.
    Lowercase,
}

impl AsciiEffect {
    /// The effect of this one followed by `next`.
    #[inline]
    fn then(self, next: AsciiEffect) -> AsciiEffect {
        match (self, next) {
            (AsciiEffect::Unchanged, next) => next,
            (AsciiEffect::Lowercase, _) => AsciiEffect::Lowercase,
        }
    }
}

/// A rule that acts on each character on its own, as the ASCII shortcut
/// knows it.
pub(super) struct CharRule {
    /// The rule's name, for test messages.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) name: &'static str,
    /// The rule's fact: what it does to printable ASCII under the given
    /// settings.
    pub(super) ascii: fn(&NormalizerConfig) -> AsciiEffect,
}

/// A rule that acts on whole words, as the ASCII shortcut knows it.
pub(super) struct WordRule {
    /// The rule's name, for test messages.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) name: &'static str,
    /// The rule's fact: whether it may change a word whose core is
    /// `core`, two or more ASCII letters or one, under the given settings.
    /// The word rules see the letters after case folding; `core` is given
    /// as written, so a fact compares letters ignoring case (the shortcut
    /// offers upper-case letters only when case folding is on). A fact may
    /// say `true` of a word its rule leaves alone, which then takes the
    /// slow path, but never `false` of a word its rule changes.
    pub(super) may_change_letters: fn(&[u8], &NormalizerConfig) -> bool,
}

/// Every character rule, in the order they run.
pub(super) const CHAR_RULES: [CharRule; 4] = [
    invisible::RULE,
    nfkc::RULE,
    case::RULE,
    diacritics::CHAR_RULE,
];

/// Every word rule, in the order they run.
pub(super) const WORD_RULES: [WordRule; 6] = [
    confusables::RULE,
    diacritics::WORD_RULE,
    separators::RULE,
    masks::RULE,
    leet::RULE,
    squeeze::RULE,
];

/// What the character rules together do to printable ASCII under
/// `config`.
#[inline]
pub(super) fn ascii_effect(config: &NormalizerConfig) -> AsciiEffect {
    CHAR_RULES
        .iter()
        .fold(AsciiEffect::Unchanged, |effect, rule| {
            effect.then((rule.ascii)(config))
        })
}

/// True if a word rule may change a word whose core is the ASCII letters
/// `core`, under `config`.
#[inline]
pub(super) fn may_change_letters(core: &[u8], config: &NormalizerConfig) -> bool {
    WORD_RULES
        .iter()
        .any(|rule| (rule.may_change_letters)(core, config))
}
