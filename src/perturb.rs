//! Obfuscation families, for measuring how well scoring holds up when
//! people disguise the words that would get their comment held.
//!
//! Each [`Family`] rewrites chosen words of a comment the way evaders do
//! (Hosseini et al. 2017, "Deceiving Google's Perspective API"): "idiot"
//! becomes "1d10t", "i.d.i.o.t", "i d i o t", "idiiot", "id*ot", "іdiot"
//! with a Cyrillic і, "id\u{200B}iot" with a zero-width space, and so on;
//! and it misspells them the way hurried or evasive typing does: "idoit",
//! "idot", "iddiot" ([`Family::TYPOS`]).
//! [`perturb`] rewrites the words that push a comment's incivility score up
//! the most — what an evader would target — deterministically, so a
//! report can be reproduced. `civility eval --perturb` and the tests use it.

use crate::normalize::NormalizerConfig;
use std::fmt;

/// One way of disguising a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Letters replaced by digits and symbols: "1d107".
    Leetspeak,
    /// A dot between every letter: "i.d.i.o.t".
    Separators,
    /// A space between every letter: "i d i o t".
    Spaced,
    /// One separator inside the word: "idi.ot".
    Split,
    /// One letter repeated: "idiiiot".
    Repeated,
    /// A vowel masked with `*`: "id*ot".
    Masked,
    /// Latin letters replaced by Cyrillic or Greek look-alikes: "іdіot".
    Homoglyphs,
    /// Zero-width spaces inside the word.
    ZeroWidth,
    /// Accents on the vowels: "ìdíòt".
    Diacritics,
    /// Fullwidth letters: "ｉｄｉｏｔ".
    Fullwidth,
    /// Alternating case: "IdIoT".
    MixedCase,
    /// A typo: two adjacent letters swapped, "idoit".
    Swapped,
    /// A typo: one letter dropped, "idot".
    Dropped,
    /// A typo: one letter doubled, "iddiot".
    Doubled,
}

impl Family {
    /// Every family, in report order: the disguises, then the typos.
    pub const ALL: [Family; 14] = [
        Family::Leetspeak,
        Family::Separators,
        Family::Spaced,
        Family::Split,
        Family::Repeated,
        Family::Masked,
        Family::Homoglyphs,
        Family::ZeroWidth,
        Family::Diacritics,
        Family::Fullwidth,
        Family::MixedCase,
        Family::Swapped,
        Family::Dropped,
        Family::Doubled,
    ];

    /// The disguises: the ways evaders hide a known word from a filter,
    /// each of which some normalizer setting can undo. `ALL` starts with
    /// them, in this order.
    pub const DISGUISES: [Family; 11] = [
        Family::Leetspeak,
        Family::Separators,
        Family::Spaced,
        Family::Split,
        Family::Repeated,
        Family::Masked,
        Family::Homoglyphs,
        Family::ZeroWidth,
        Family::Diacritics,
        Family::Fullwidth,
        Family::MixedCase,
    ];

    /// The typos: misspellings rather than disguises. None of them touches
    /// a word's first letter (readers still read the word), and none leaves
    /// the word as it was. The normalizer does not undo them: a misspelt
    /// word keeps only the character n-grams the typo did not break.
    pub const TYPOS: [Family; 3] = [Family::Swapped, Family::Dropped, Family::Doubled];

    /// Whether a normalizer with `config` undoes this disguise exactly
    /// (look-alike letters, invisible characters, accents, fullwidth
    /// letters, case, each with its step on): the disguised comment then
    /// has the same features as the clean one.
    pub fn undone_by(self, config: &NormalizerConfig) -> bool {
        match self {
            Family::Homoglyphs => config.confusables,
            Family::ZeroWidth => true,
            Family::Diacritics => config.strip_diacritics,
            Family::Fullwidth => config.nfkc,
            Family::MixedCase => config.lowercase,
            _ => false,
        }
    }

    /// The family's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Leetspeak => "leetspeak",
            Family::Separators => "separators",
            Family::Spaced => "spaced",
            Family::Split => "split",
            Family::Repeated => "repeated",
            Family::Masked => "masked",
            Family::Homoglyphs => "homoglyphs",
            Family::ZeroWidth => "zero-width",
            Family::Diacritics => "diacritics",
            Family::Fullwidth => "fullwidth",
            Family::MixedCase => "mixed-case",
            Family::Swapped => "swapped",
            Family::Dropped => "dropped",
            Family::Doubled => "doubled",
        }
    }

    /// Rewrites one word (ASCII letters only; other characters are kept).
    /// `salt` varies the choice of position where the family has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::perturb::Family;
    ///
    /// assert_eq!(Family::Leetspeak.apply("idiot", 0), "1d107");
    /// assert_eq!(Family::Swapped.apply("idiot", 1), "idoit");
    /// assert_eq!(Family::Dropped.apply("idiot", 1), "idot");
    /// assert_eq!(Family::Doubled.apply("idiot", 0), "iddiot");
    /// ```
    pub fn apply(self, word: &str, salt: u64) -> String {
        let chars: Vec<char> = word.chars().collect();
        let n = chars.len();
        let mut out = String::with_capacity(word.len() * 3);
        match self {
            Family::Swapped | Family::Dropped | Family::Doubled => {
                return self.misspell(chars, salt);
            }
            Family::Leetspeak => {
                for &c in &chars {
                    out.push(match c.to_ascii_lowercase() {
                        'a' => '4',
                        'e' => '3',
                        'i' => '1',
                        'o' => '0',
                        's' => '$',
                        't' => '7',
                        _ => c,
                    });
                }
            }
            Family::Separators | Family::Spaced => {
                let sep = if self == Family::Separators { '.' } else { ' ' };
                for (i, &c) in chars.iter().enumerate() {
                    if i > 0 {
                        out.push(sep);
                    }
                    out.push(c);
                }
            }
            Family::Split => {
                let at = 1 + (salt as usize) % n.saturating_sub(1).max(1);
                for (i, &c) in chars.iter().enumerate() {
                    if i == at && i < n {
                        out.push('.');
                    }
                    out.push(c);
                }
            }
            Family::Repeated => {
                let at = (salt as usize) % n.max(1);
                for (i, &c) in chars.iter().enumerate() {
                    out.push(c);
                    if i == at {
                        out.push(c);
                        out.push(c);
                    }
                }
            }
            Family::Masked => {
                let vowels: Vec<usize> = (1..n)
                    .filter(|&i| {
                        matches!(chars[i].to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u')
                    })
                    .collect();
                let at = vowels.get((salt as usize) % vowels.len().max(1)).copied();
                for (i, &c) in chars.iter().enumerate() {
                    out.push(if Some(i) == at { '*' } else { c });
                }
            }
            Family::Homoglyphs => {
                for &c in &chars {
                    out.push(match c {
                        'a' => 'а',
                        'c' => 'с',
                        'e' => 'е',
                        'i' => 'і',
                        'o' => 'о',
                        'p' => 'р',
                        'x' => 'х',
                        'y' => 'у',
                        's' => 'ѕ',
                        _ => c,
                    });
                }
            }
            Family::ZeroWidth => {
                for (i, &c) in chars.iter().enumerate() {
                    if i > 0 {
                        out.push('\u{200B}');
                    }
                    out.push(c);
                }
            }
            Family::Diacritics => {
                for &c in &chars {
                    out.push(match c {
                        'a' => 'á',
                        'e' => 'é',
                        'i' => 'í',
                        'o' => 'ò',
                        'u' => 'ü',
                        _ => c,
                    });
                }
            }
            Family::Fullwidth => {
                for &c in &chars {
                    out.push(if c.is_ascii_graphic() {
                        char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
                    } else {
                        c
                    });
                }
            }
            Family::MixedCase => {
                for (i, &c) in chars.iter().enumerate() {
                    out.push(if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    });
                }
            }
        }
        out
    }

    /// The typo families: a word misspelt, never at its first letter.
    fn misspell(self, chars: Vec<char>, salt: u64) -> String {
        let n = chars.len();
        let mut out = String::with_capacity(n * 4 + 4);
        match self {
            Family::Swapped => {
                // Pairs after the first letter whose swap changes the word.
                let pairs: Vec<usize> = (1..n.saturating_sub(1))
                    .filter(|&i| chars[i] != chars[i + 1])
                    .collect();
                if pairs.is_empty() {
                    // Every letter after the first is the same ("zoo"): no
                    // swap changes the word, so it loses one of them.
                    return Family::Dropped.misspell(chars, salt);
                }
                let at = pairs[(salt as usize) % pairs.len()];
                let mut chars = chars;
                chars.swap(at, at + 1);
                out.extend(chars);
            }
            Family::Dropped | Family::Doubled => {
                // Any letter but the first. (A one-letter word is left
                // as it is: [`perturb`] rewrites words of three letters or
                // more.)
                let at = 1 + (salt as usize) % n.saturating_sub(1).max(1);
                for (i, &c) in chars.iter().enumerate() {
                    if i != at || self == Family::Doubled {
                        out.push(c);
                    }
                    if i == at && self == Family::Doubled {
                        out.push(c);
                    }
                }
            }
            _ => out.extend(chars),
        }
        out
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The words an evader would disguise: the two (at most) with the largest
/// positive weight, among those [`perturb`] rewrites (ASCII words of three
/// letters or more). `words` gives each word's byte range in `text` and its
/// weight toward the label evaders want to avoid; ties keep their order.
pub fn targets(
    text: &str,
    words: impl IntoIterator<Item = (std::ops::Range<usize>, f64)>,
) -> Vec<std::ops::Range<usize>> {
    let mut ranked: Vec<(std::ops::Range<usize>, f64)> = words
        .into_iter()
        .filter(|(span, w)| {
            *w > 0.0
                && text
                    .get(span.clone())
                    .is_some_and(|s| s.len() >= 3 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.into_iter().take(2).map(|(span, _)| span).collect()
}

/// Rewrites the words at the given byte ranges of `text` with `family`.
/// Ranges that are not ASCII-alphabetic words of at least three letters are
/// left alone; ranges must not overlap.
pub fn perturb(text: &str, words: &[std::ops::Range<usize>], family: Family) -> String {
    let mut ranges: Vec<_> = words
        .iter()
        .filter(|r| {
            text.get((*r).clone())
                .is_some_and(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_alphabetic()))
        })
        .cloned()
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        out.push_str(&text[at..r.start]);
        let salt = r.start as u64 ^ (text.len() as u64).rotate_left(17);
        out.push_str(&family.apply(&text[r.clone()], salt));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;

    #[test]
    fn families_rewrite_as_documented() {
        let cases = [
            (Family::Leetspeak, "1d107"),
            (Family::Separators, "i.d.i.o.t"),
            (Family::Spaced, "i d i o t"),
            (Family::Homoglyphs, "іdіоt"),
            (Family::ZeroWidth, "i\u{200B}d\u{200B}i\u{200B}o\u{200B}t"),
            (Family::Diacritics, "ídíòt"),
            (Family::Fullwidth, "ｉｄｉｏｔ"),
            (Family::MixedCase, "IdIoT"),
        ];
        for (family, expected) in cases {
            assert_eq!(family.apply("idiot", 0), expected, "{family}");
        }
        assert_eq!(Family::Repeated.apply("idiot", 1).len(), 7);
        assert_eq!(Family::Masked.apply("idiot", 0).matches('*').count(), 1);
        assert_eq!(Family::Split.apply("idiot", 0).matches('.').count(), 1);
    }

    /// Each typo, word by word and position by position.
    #[test]
    fn typos_rewrite_as_documented() {
        let cases = [
            // (family, word, salt, expected)
            (Family::Swapped, "idiot", 0, "iidot"),
            (Family::Swapped, "idiot", 1, "idoit"),
            (Family::Swapped, "idiot", 2, "idito"),
            (Family::Swapped, "idiot", 3, "iidot"),
            // Only the pairs whose swap changes the word: "ll" is skipped.
            (Family::Swapped, "silly", 0, "slily"),
            (Family::Swapped, "silly", 1, "silyl"),
            (Family::Swapped, "dumb", 1, "dubm"),
            // Nothing to swap after the first letter: a letter is dropped.
            (Family::Swapped, "zoo", 0, "zo"),
            (Family::Swapped, "Mmm", 5, "Mm"),
            (Family::Dropped, "idiot", 0, "iiot"),
            (Family::Dropped, "idiot", 1, "idot"),
            (Family::Dropped, "idiot", 3, "idio"),
            (Family::Dropped, "idiot", 4, "iiot"),
            (Family::Dropped, "fool", 1, "fol"),
            (Family::Doubled, "idiot", 0, "iddiot"),
            (Family::Doubled, "idiot", 2, "idioot"),
            (Family::Doubled, "idiot", 3, "idiott"),
            (Family::Doubled, "Liar", 0, "Liiar"),
        ];
        for (family, word, salt, expected) in cases {
            assert_eq!(family.apply(word, salt), expected, "{family} {word} {salt}");
        }
    }

    /// On any word of two letters or more, a typo keeps the first letter,
    /// changes the word, and is the edit its name says.
    #[test]
    fn typos_keep_the_first_letter_and_always_change_the_word() {
        let words = [
            "idiot",
            "moron",
            "pathetic",
            "zoo",
            "aaa",
            "see",
            "Ab",
            "all",
            "bookkeeper",
            "MIXed",
            "xx",
        ];
        for family in Family::TYPOS {
            for word in words {
                for salt in 0..12 {
                    let typo = family.apply(word, salt);
                    let what = format!("{family} {word} {salt}: {typo:?}");
                    assert_ne!(typo, word, "{what}");
                    assert_eq!(typo.chars().next(), word.chars().next(), "{what}");
                    let (w, t): (Vec<char>, Vec<char>) =
                        (word.chars().collect(), typo.chars().collect());
                    // Removing one letter after the first from the longer
                    // of the two gives the shorter.
                    let drops_to = |long: &[char], short: &[char]| {
                        (1..long.len()).any(|i| {
                            let mut l = long.to_vec();
                            l.remove(i);
                            l == short
                        })
                    };
                    match family {
                        Family::Doubled => {
                            assert!(drops_to(&t, &w), "{what}");
                            let at = (0..w.len()).find(|&i| t[i] != w[i]).unwrap_or(w.len());
                            assert_eq!(t[at], t[at - 1], "a letter doubled: {what}");
                        }
                        Family::Dropped => assert!(drops_to(&w, &t), "{what}"),
                        _ if t.len() < w.len() => {
                            // Only when no swap would change the word.
                            assert!(w[1..].iter().all(|&c| c == w[1]), "{what}");
                            assert!(drops_to(&w, &t), "{what}");
                        }
                        _ => {
                            let differ: Vec<usize> =
                                (0..w.len()).filter(|&i| t[i] != w[i]).collect();
                            assert_eq!(differ.len(), 2, "{what}");
                            let [i, j] = [differ[0], differ[1]];
                            assert!(j == i + 1 && t[i] == w[j] && t[j] == w[i], "{what}");
                        }
                    }
                }
            }
        }
    }

    /// The typos are deterministic and, through [`perturb`], vary their
    /// position with the comment, as the other families do.
    #[test]
    fn typos_are_deterministic() {
        let text = "You are an idiot and a moron.";
        let words = [11..16, 23..28];
        for family in Family::TYPOS {
            let once = perturb(text, &words, family);
            assert_eq!(once, perturb(text, &words, family), "{family}");
            assert_ne!(once, text, "{family}");
            assert!(once.starts_with("You are an i"), "{family}: {once}");
            assert!(once.contains(" and a m"), "{family}: {once}");
            assert!(Family::ALL.contains(&family), "{family}");
            assert!(!family.undone_by(&NormalizerConfig::default()), "{family}");
        }
    }

    #[test]
    fn perturb_touches_only_the_given_words() {
        let text = "You are an idiot, frankly.";
        let idiot = 11..16;
        let out = perturb(text, std::slice::from_ref(&idiot), Family::Separators);
        assert_eq!(out, "You are an i.d.i.o.t, frankly.");
        // Too short or not a word: left alone.
        assert_eq!(perturb(text, &[8..10, 16..17], Family::Leetspeak), text);
    }

    /// The families said to be undone by normalization are undone on any
    /// word, known to the normalizer or not.
    #[test]
    fn all_is_the_disguises_then_the_typos() {
        let joined: Vec<Family> = Family::DISGUISES.into_iter().chain(Family::TYPOS).collect();
        assert_eq!(joined, Family::ALL);
    }

    #[test]
    fn undone_families_are_undone_on_unknown_words_too() {
        let normalizer = Normalizer::default();
        let text = "the pathetic councillor";
        let undone: Vec<Family> = Family::ALL
            .into_iter()
            .filter(|f| f.undone_by(normalizer.config()))
            .collect();
        assert_eq!(undone.len(), 5);
        for family in undone {
            let disguised = perturb(text, &[4..12, 13..23], family);
            assert_ne!(disguised, text, "{family}");
            assert_eq!(normalizer.normalize(&disguised).as_str(), text, "{family}");
        }
        // A mask on an unknown word is not undone.
        let masked = perturb(text, std::slice::from_ref(&(4..12)), Family::Masked);
        assert_ne!(normalizer.normalize(&masked).as_str(), text);
        // With a step off, its family changes the features.
        let config = NormalizerConfig {
            lowercase: false,
            confusables: false,
            ..NormalizerConfig::default()
        };
        assert!(!Family::MixedCase.undone_by(&config));
        assert!(!Family::Homoglyphs.undone_by(&config));
        assert!(Family::ZeroWidth.undone_by(&config));
    }

    /// The normalizer undoes every disguise on the insult words it knows
    /// (typos are misspellings, not disguises: it does not guess them).
    #[test]
    fn normalizer_folds_every_disguise_on_lexicon_words() {
        let normalizer = Normalizer::default();
        for word in ["idiot", "stupid", "moron", "loser", "bastard"] {
            for family in Family::ALL
                .into_iter()
                .filter(|f| !Family::TYPOS.contains(f))
            {
                for salt in 0..4 {
                    let disguised = family.apply(word, salt);
                    let text = format!("you {disguised} you");
                    assert_eq!(
                        normalizer.normalize(&text).as_str(),
                        format!("you {word} you"),
                        "{family} {disguised:?}"
                    );
                }
            }
        }
    }
}
