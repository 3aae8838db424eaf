//! The hash that places a comment: [`text_key`] folds case and spacing
//! away, so copies of a comment share a key, and the key chooses the
//! comment's side of the training/held-out split, its fold, and whether a
//! capped source keeps it.

use crate::hash;

/// FNV-1a over the comment's lower-cased words: the key for the split and
/// for duplicate detection.
pub fn text_key(seed: u64, text: &str) -> u64 {
    let mut h = hash::FNV_OFFSET_BASIS ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            h = hash::fnv1a_step(h, u64::from(b' '));
        }
        first = false;
        // An ASCII word lowers byte by byte, to the bytes the general
        // path below gives it.
        if word.is_ascii() {
            for b in word.bytes().map(|b| b.to_ascii_lowercase()) {
                h = hash::fnv1a_step(h, u64::from(b));
            }
            continue;
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                h = hash::fnv1a_step(h, u64::from(b));
            }
        }
    }
    // Final avalanche so the low bits used for folds are well mixed.
    hash::fmix64_half(h)
}

/// The fraction in [0, 1) a hash stands for.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Which part of the split a comment is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Used for training.
    Train,
    /// Held out for validation.
    Holdout,
}

/// The part a comment with split key `key` is in: held out if its source is
/// `holdout_only`, or if the key falls in the first `holdout` of [0, 1).
pub(super) fn part(key: u64, holdout: f64, holdout_only: bool) -> Part {
    if holdout_only || unit(key) < holdout {
        Part::Holdout
    } else {
        Part::Train
    }
}

/// The order in which a source capped by `max_rows` keeps its rows, the
/// smallest first: a fixed subset, independent of the split (which uses
/// [`unit`]).
pub(super) fn cap_rank(key: u64) -> u64 {
    key.rotate_left(29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_key_of_ascii_words_as_of_any_words() {
        // The general path, for every word.
        let general = |seed: u64, text: &str| {
            let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for (i, word) in text.split_whitespace().enumerate() {
                if i > 0 {
                    h = (h ^ u64::from(b' ')).wrapping_mul(0x0000_0100_0000_01b3);
                }
                for c in word.chars().flat_map(char::to_lowercase) {
                    for &b in c.encode_utf8(&mut [0u8; 4]).as_bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
                    }
                }
            }
            h ^= h >> 33;
            h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^ (h >> 33)
        };
        for text in [
            "Hello World",
            "WHAT an 1D10T!!",
            "Straße İstanbul ok",
            "",
            " a\tb ",
        ] {
            assert_eq!(text_key(7, text), general(7, text), "{text:?}");
        }
    }

    #[test]
    fn text_key_ignores_case_and_spacing() {
        assert_eq!(text_key(1, "Hello  World"), text_key(1, "hello world\n"));
        assert_ne!(text_key(1, "hello world"), text_key(2, "hello world"));
        assert_ne!(text_key(1, "hello world"), text_key(1, "helloworld"));
    }
}
