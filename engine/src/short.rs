//! Equality and copies of the short byte strings that keys and names mostly are, done in a
//! few loads, compares and stores inlined at the call site, without a call to `memcmp` or
//! `memcpy`.
//!
//! The slice `==` of the standard library compares lengths, then calls `memcmp`, and a
//! `Box<str>` made from a `&str` calls `memcpy`; the branches of both on the length are
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

/// `text` as a `Box<str>`: a borrowed text of four to sixteen bytes is copied as two
/// (possibly overlapping) words from each end, inlined, instead of with a call to `memcpy`.
#[inline(always)]
pub(crate) fn boxed(text: std::borrow::Cow<'_, str>) -> Box<str> {
    match text {
        std::borrow::Cow::Borrowed(text) => boxed_str(text),
        std::borrow::Cow::Owned(text) => text.into_boxed_str(),
    }
}

/// [`boxed`] of a borrowed text.
#[inline(always)]
fn boxed_str(text: &str) -> Box<str> {
    let n = text.len();
    if !(4..=16).contains(&n) {
        return Box::from(text);
    }
    let from = text.as_bytes();
    let mut bytes: Vec<u8> = Vec::with_capacity(n);
    let to = &mut bytes.spare_capacity_mut()[..n];
    if n >= 8 {
        put(to, 0, &word8(from, 0).to_ne_bytes());
        put(to, n - 8, &word8(from, n - 8).to_ne_bytes());
    } else {
        put(to, 0, &word4(from, 0).to_ne_bytes());
        put(to, n - 4, &word4(from, n - 4).to_ne_bytes());
    }
    // SAFETY: the two words written cover the first `n` bytes (they overlap when `n` is not
    // twice a word), so all of them are initialized, and they are a copy of `text`'s bytes,
    // which are UTF-8.
    unsafe {
        bytes.set_len(n);
        String::from_utf8_unchecked(bytes).into_boxed_str()
    }
}

#[inline(always)]
fn put(to: &mut [std::mem::MaybeUninit<u8>], at: usize, word: &[u8]) {
    for (to, byte) in to[at..at + word.len()].iter_mut().zip(word) {
        to.write(*byte);
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

        #[test]
        fn boxed_is_the_text(text in ".{0,40}") {
            prop_assert_eq!(&*super::boxed_str(&text), text.as_str());
            prop_assert_eq!(&*super::boxed(std::borrow::Cow::Borrowed(&text)), text.as_str());
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
