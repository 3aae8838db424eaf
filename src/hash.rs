//! The hashes behind feature indices and the data split: FNV-1a steps,
//! finished by MurmurHash3's 64-bit mixer.
//!
//! FNV-1a is one xor and one multiplication a byte or character, with no
//! table and no allocation, so a feature costs a few instructions; its low
//! bits mix poorly, which the finalizer fixes before bits are taken from
//! the hash. Every value these functions give is part of the model file
//! format (feature indices) and of the data split (which comment is held
//! out): they must never change.

/// FNV-1a's 64-bit offset basis, the hash of no bytes.
#[cfg_attr(not(feature = "train"), allow(dead_code))]
pub(crate) const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV's 64-bit prime.
pub(crate) const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One FNV-1a step: mixes `x` (a byte, or a whole character or marker)
/// into the running hash `h`.
#[inline]
pub(crate) const fn fnv1a_step(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(FNV_PRIME)
}

/// The first half of [`fmix64`]: one xor-shift, one multiplication, one
/// xor-shift. Enough to spread the low bits of an FNV hash over the word.
#[inline]
pub(crate) fn fmix64_half(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// MurmurHash3's 64-bit finalizer: spreads FNV's weak low bits over the
/// whole word before the top bits pick the bucket.
#[inline]
pub(crate) fn fmix64(h: u64) -> u64 {
    let mut h = fmix64_half(h);
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .fold(FNV_OFFSET_BASIS, |h, &b| fnv1a_step(h, u64::from(b)))
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // From the test vectors of the FNV reference code (Landon Curt
        // Noll's `test_fnv.c`, FNV-1a 64-bit).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fmix64_is_murmurhash3s_finalizer() {
        // The finalizer written out in one piece, as in MurmurHash3.cpp.
        let reference = |mut k: u64| {
            k ^= k >> 33;
            k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
            k ^= k >> 33;
            k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            k ^= k >> 33;
            k
        };
        for h in [0, 1, 0xdead_beef, u64::MAX, fnv1a(b"idiot")] {
            assert_eq!(fmix64(h), reference(h));
        }
        assert_eq!(fmix64(0), 0);
    }
}
