//! Equality and copies of the short byte strings that keys, names and the pieces of output
//! text mostly are, done in a few loads, compares and stores inlined at the call site, without
//! a call to `memcmp` or `memcpy`.
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

/// The `N` bytes of `bytes` from `at` on.
#[inline(always)]
fn bytes_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut word = [0; N];
    word.copy_from_slice(&bytes[at..at + N]);
    word
}

#[inline(always)]
fn word8(bytes: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(bytes_at(bytes, at))
}

#[inline(always)]
fn word4(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes_at(bytes, at))
}

/// Copies `from` to `to`: up to thirty-two bytes inlined, as two (possibly overlapping)
/// words from each end (sixteen bytes each from 17 on, eight from 8, four from 4; the first,
/// middle and last byte below that), longer ones with `copy_nonoverlapping`.
///
/// # Safety
///
/// `to` is valid for writes of `from.len()` bytes that do not overlap `from`.
#[inline(always)]
pub(crate) unsafe fn copy_to(from: &[u8], to: *mut u8) {
    // SAFETY: `to` is valid for `from.len()` bytes (the caller's promise), as `ends` and
    // `copy_nonoverlapping` need; the bytes written below 4 are among them. Tested in this
    // order, 8 bytes or more first as most keys and strings are: with a `match` on the
    // length, a pack's run mispredicted 1,873 branches a shared-bench bundle instead of
    // 1,731 (callgrind).
    let n = from.len();
    unsafe {
        if n >= 8 {
            if n > 32 {
                std::ptr::copy_nonoverlapping(from.as_ptr(), to, n);
            } else if n > 16 {
                ends::<16>(from, to);
            } else {
                ends::<8>(from, to);
            }
        } else if n >= 4 {
            ends::<4>(from, to);
        } else if n > 0 {
            *to = from[0];
            *to.add(n / 2) = from[n / 2];
            *to.add(n - 1) = from[n - 1];
        }
    }
}

/// Copies `from`, `N` to `2N` bytes long, as two (possibly overlapping) words of `N` bytes,
/// one from each end.
///
/// # Safety
///
/// As [`copy_to`].
#[inline(always)]
unsafe fn ends<const N: usize>(from: &[u8], to: *mut u8) {
    let n = from.len();
    // SAFETY: both words lie within the first `n` bytes at `to`: the first starts at 0 and
    // `N <= n`, the second ends at `n`.
    unsafe {
        to.cast::<[u8; N]>().write_unaligned(bytes_at(from, 0));
        to.add(n - N)
            .cast::<[u8; N]>()
            .write_unaligned(bytes_at(from, n - N));
    }
}

/// Appends `bytes` to `out` ([`copy_to`]: short ones without a call to `memcpy`).
#[inline(always)]
pub(crate) fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len());
    let len = out.len();
    // SAFETY: `reserve` made room for `bytes.len()` more bytes past `len`, in `out`'s own
    // allocation, which `bytes` (borrowed apart from `out`) is not part of; they are written,
    // then counted.
    unsafe {
        copy_to(bytes, out.as_mut_ptr().add(len));
        out.set_len(len + bytes.len());
    }
}

/// [`append`] to a `String`.
#[inline(always)]
pub(crate) fn append_str(out: &mut String, text: &str) {
    // SAFETY: appending a whole `&str` keeps the bytes UTF-8.
    append(unsafe { out.as_mut_vec() }, text.as_bytes());
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
        fn copy_to_copies_exactly(from in proptest::collection::vec(any::<u8>(), 0..72)) {
            let mut to = vec![0xAAu8; from.len() + 8];
            // SAFETY: `to` has room for `from.len()` bytes and is another allocation.
            unsafe { super::copy_to(&from, to.as_mut_ptr()) };
            prop_assert_eq!(&to[..from.len()], &from[..]);
            prop_assert!(to[from.len()..].iter().all(|&byte| byte == 0xAA));
        }

        /// Appending is `extend_from_slice`, whatever was there and whatever the room.
        #[test]
        fn append_extends(before in ".{0,20}", text in ".{0,40}", room in 0usize..64) {
            let mut out = String::with_capacity(room);
            out.push_str(&before);
            super::append_str(&mut out, &text);
            prop_assert_eq!(out, format!("{before}{text}"));
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
