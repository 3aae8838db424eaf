//! The lexicon: the offensive words whose disguised spellings the mask,
//! separator, leetspeak and stretched-letter rules restore. A rule only
//! rewrites a whole word into one of these, so innocent words that
//! contain one ("Scunthorpe", "assessment") stay as they are.

use crate::normalize::Ch;
use std::sync::OnceLock;

/// Offensive words whose disguised spellings the normalizer restores.
/// Only whole words that match one of these are rewritten by the mask,
/// separator and stretched-letter rules.
pub(in crate::normalize) const LEXICON: &[&str] = &[
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
pub(in crate::normalize) const LEXICON_MAX_LEN: usize = 12;

/// The first lexicon word whose letters, each run of one letter counted
/// once, are those of `letters` counted the same way.
#[inline]
pub(in crate::normalize) fn lexicon_by_run_letters(
    letters: impl Iterator<Item = char>,
) -> Option<&'static str> {
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

/// The lexicon word spelled by `chars`, if any.
#[inline]
pub(in crate::normalize) fn lexicon_word(chars: &[Ch]) -> Option<&'static str> {
    if chars.len() > LEXICON_MAX_LEN {
        return None;
    }
    LEXICON
        .iter()
        .copied()
        .find(|w| w.len() == chars.len() && w.chars().zip(chars).all(|(a, ch)| a == ch.c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::rules::masks::MASK_FIRST;

    #[test]
    fn lexicon_max_len_is_the_longest_word() {
        let longest = LEXICON.iter().chain(MASK_FIRST).map(|w| w.len()).max();
        assert_eq!(longest, Some(LEXICON_MAX_LEN));
        assert!(LEXICON.iter().chain(MASK_FIRST).all(|w| w.is_ascii()));
    }
}
