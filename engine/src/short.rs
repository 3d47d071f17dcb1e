//! Equality and copies of the short byte strings that keys and names mostly are, done in a
//! few loads, compares and stores inlined at the call site, without a call to `memcmp` or
//! `memcpy`.
//!
//! The slice `==` of the standard library compares lengths, then calls `memcmp`, and a
//! copy of a short `&str` calls `memcpy`; the branches of both on the length are
//! shared by every caller in the program, and mispredicted when the lengths vary. In the cost
//! model of a batch run (callgrind, 2,000 shared-bench bundles), `memcmp` was called 386K
//! times and `memcpy` 779K times, mostly for keys and strings under 16 bytes.

/// Whether `a` and `b` hold the same bytes: for up to sixteen bytes, two (possibly
/// overlapping) words from each end; beyond that, the standard library's comparison.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        if n > 16 {
            return a == b;
        }
        return word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8);
    }
    if n >= 4 {
        return word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4);
    }
    // One to three bytes: the first, the middle and the last cover them all.
    n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
}

#[inline(always)]
fn word8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(word)
}

#[inline(always)]
fn word4(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(word)
}

/// Copies `from` to `to`: four to sixteen bytes as two (possibly overlapping) words from each
/// end, inlined, other lengths with `copy_nonoverlapping`.
///
/// # Safety
///
/// `to` is valid for writes of `from.len()` bytes that do not overlap `from`.
#[inline(always)]
pub(crate) unsafe fn copy_to(from: &[u8], to: *mut u8) {
    let n = from.len();
    // SAFETY: every write lies within the first `n` bytes at `to` (the caller's promise):
    // the second word ends at `n`, and the first starts at 0 and is no longer than `n`.
    unsafe {
        if (8..=16).contains(&n) {
            to.cast::<[u8; 8]>()
                .write_unaligned(word8(from, 0).to_ne_bytes());
            to.add(n - 8)
                .cast::<[u8; 8]>()
                .write_unaligned(word8(from, n - 8).to_ne_bytes());
        } else if (4..8).contains(&n) {
            to.cast::<[u8; 4]>()
                .write_unaligned(word4(from, 0).to_ne_bytes());
            to.add(n - 4)
                .cast::<[u8; 4]>()
                .write_unaligned(word4(from, n - 4).to_ne_bytes());
        } else {
            std::ptr::copy_nonoverlapping(from.as_ptr(), to, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_is_slice_equality(a in proptest::collection::vec(0u8..4, 0..40),
                                  b in proptest::collection::vec(0u8..4, 0..40)) {
            prop_assert_eq!(super::same(&a, &b), a == b);
            prop_assert!(super::same(&a, &a.clone()));
        }

        /// Every length, and nothing written past the copy.
        #[test]
        fn copy_to_copies_exactly(from in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut to = vec![0xAAu8; from.len() + 8];
            // SAFETY: `to` has room for `from.len()` bytes and is another allocation.
            unsafe { super::copy_to(&from, to.as_mut_ptr()) };
            prop_assert_eq!(&to[..from.len()], &from[..]);
            prop_assert!(to[from.len()..].iter().all(|&byte| byte == 0xAA));
        }

        /// Strings that differ in one byte, at any place, of any length.
        #[test]
        fn one_byte_apart(a in proptest::collection::vec(any::<u8>(), 1..40), at in any::<prop::sample::Index>(), by in 1u8..) {
            let mut b = a.clone();
            let at = at.index(a.len());
            b[at] = b[at].wrapping_add(by);
            prop_assert!(!super::same(&a, &b));
        }
    }
}
