//! The text of a parsed bundle's keys and strings, in one allocation per bundle.
//!
//! A parse copies each key and string it keeps into its bundle's [`Arena`], one block sized
//! once for the whole bundle, and the document holds a [`Str`] that points into it: no
//! allocation per key or string when the bundle is built, and nothing to free per key or
//! string when it is dropped. A projected parse puts the texts it keeps of skeletons there too
//! (`crate::projection::RawPart`: text, path and document name). A `Str` that does not point
//! into an arena owns its text, as a `Box<str>` does (documents converted from a
//! `serde_json::Value`, what finds no room left in the block, and every copy of a `Str`).
//!
//! The one rule that keeps this sound: a `Str` that points into an arena lives inside the
//! bundle that owns the arena, and never leaves it. Such a `Str` is made only by
//! [`Arena::push`], which only the parse calls, and the parse moves the documents and their
//! arena into one [`crate::Bundle`] together; a bundle lends its documents (`&Doc`) and never
//! gives one away; and a copy of a `Str` ([`Clone`]) owns its text, so a document cloned out
//! of a bundle owns all of it. A `Str` borrowed from the arena drops as a no-op, so the order
//! in which a bundle's fields drop does not matter.

use std::borrow::Borrow;
use std::fmt;
use std::ptr::NonNull;

/// The bit of [`Str::len`] that says the text lies in an arena (not owned).
const IN_ARENA: usize = 1 << (usize::BITS - 1);

/// A string of a document: its text owned, as a `Box<str>`, or in its bundle's arena. Reads
/// as a `&str` either way (the same pointer and length), 16 bytes as a `Box<str>`.
pub struct Str {
    ptr: NonNull<u8>,
    /// The length in bytes, with [`IN_ARENA`] set when the text lies in an arena.
    len: usize,
}

// SAFETY: a `Str` is either a `Box<str>` (Send and Sync) or a shared view of bytes that no
// one writes once it exists (the arena writes each byte once, before making the `Str`).
unsafe impl Send for Str {}
// SAFETY: as above.
unsafe impl Sync for Str {}

impl Str {
    /// The text.
    #[inline(always)]
    pub fn as_str(&self) -> &str {
        // SAFETY: `ptr` and the length are those of a `Box<str>` this `Str` owns, or of UTF-8
        // bytes in an arena that outlives it (see the module's documentation).
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                self.ptr.as_ptr(),
                self.len & !IN_ARENA,
            ))
        }
    }

    /// Whether the text lies in an arena.
    #[cfg(test)]
    pub(crate) fn in_arena(&self) -> bool {
        self.len & IN_ARENA != 0
    }
}

impl From<Box<str>> for Str {
    #[inline]
    fn from(text: Box<str>) -> Str {
        let len = text.len();
        // A `Box<str>` is never as long as half the address space, so the bit is free.
        debug_assert!(len & IN_ARENA == 0);
        // SAFETY: `Box::into_raw` never gives a null pointer.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(text).cast::<u8>()) };
        Str { ptr, len }
    }
}

impl From<String> for Str {
    #[inline]
    fn from(text: String) -> Str {
        Str::from(text.into_boxed_str())
    }
}

impl From<&str> for Str {
    #[inline]
    fn from(text: &str) -> Str {
        Str::from(Box::<str>::from(text))
    }
}

impl Drop for Str {
    #[inline]
    fn drop(&mut self) {
        if self.len & IN_ARENA == 0 {
            // SAFETY: the text is owned: `ptr` and `len` came from `Box::into_raw` of a
            // `Box<str>` of that length, which is rebuilt once, here.
            unsafe {
                drop(Box::from_raw(
                    std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len) as *mut str,
                ));
            }
        }
    }
}

impl Clone for Str {
    /// An owned copy, wherever the text lies: a copy may outlive the bundle.
    fn clone(&self) -> Str {
        Str::from(self.as_str())
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::from(Box::<str>::default())
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    #[inline(always)]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    #[inline]
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

/// One block that a parse copies the keys and strings it keeps into, owned by the bundle
/// built: see the module's documentation.
pub(crate) struct Arena {
    /// The block (dangling when `cap` is 0).
    ptr: NonNull<u8>,
    cap: usize,
    /// Bytes written so far, from the start of the block.
    used: usize,
}

// SAFETY: the arena owns its block; the `Str`s pointing into it only read it.
unsafe impl Send for Arena {}
// SAFETY: `&Arena` gives no access to the block.
unsafe impl Sync for Arena {}

impl Arena {
    /// An arena without a block: every [`Arena::push`] gives an owned `Str`.
    pub(crate) const fn none() -> Arena {
        Arena {
            ptr: NonNull::dangling(),
            cap: 0,
            used: 0,
        }
    }

    /// An arena of `cap` bytes, never grown (growing would move the text that `Str`s already
    /// point to). A parse gives it the length of the text it parses, which holds every key and
    /// string kept: each is no longer than its JSON text (an escape decodes to fewer bytes
    /// than it takes), and they do not overlap. A projected parse gives it twice that, for the
    /// texts of skeletons it keeps as well (see `crate::projection::parse`).
    pub(crate) fn with_capacity(cap: usize) -> Arena {
        if cap == 0 || cap & IN_ARENA != 0 {
            return Arena::none();
        }
        let block: Box<[std::mem::MaybeUninit<u8>]> = Box::new_uninit_slice(cap);
        // SAFETY: `Box::into_raw` never gives a null pointer.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(block).cast::<u8>()) };
        Arena { ptr, cap, used: 0 }
    }

    /// `text` as a `Str`: copied into the block when it has room (it always has for the
    /// text it was sized for), otherwise owned.
    ///
    /// The `Str` must stay with this arena: in the bundle that will own it (the module's
    /// documentation says why that is sound).
    #[inline(always)]
    pub(crate) fn push(&mut self, text: &str) -> Str {
        let n = text.len();
        if n > self.cap - self.used {
            return Str::from(text);
        }
        // SAFETY: `used + n <= cap`, so the bytes written lie in the block, after every byte
        // an earlier `Str` points to; they are written once and never again, and they are a
        // copy of UTF-8.
        unsafe {
            let to = self.ptr.as_ptr().add(self.used);
            crate::short::copy_to(text.as_bytes(), to);
            self.used += n;
            Str {
                ptr: NonNull::new_unchecked(to),
                len: n | IN_ARENA,
            }
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if self.cap != 0 {
            // SAFETY: `ptr` and `cap` came from `Box::into_raw` of a boxed slice of `cap`
            // bytes, which is rebuilt once, here.
            unsafe {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    self.ptr.as_ptr().cast::<std::mem::MaybeUninit<u8>>(),
                    self.cap,
                )));
            }
        }
    }
}

impl Default for Arena {
    fn default() -> Arena {
        Arena::none()
    }
}

impl Clone for Arena {
    /// An arena without a block: a cloned bundle's documents own their text (see
    /// [`Str::clone`]).
    fn clone(&self) -> Arena {
        Arena::none()
    }
}

impl PartialEq for Arena {
    /// Always: where a bundle's text lies is not part of what it is.
    fn eq(&self, _: &Arena) -> bool {
        true
    }
}

impl fmt::Debug for Arena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arena({} of {} bytes)", self.used, self.cap)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Arena, Str};
    use crate::Doc;

    /// Calls `each` with every key and string of `doc`.
    fn each_str(doc: &Doc, each: &mut impl FnMut(&Str)) {
        match doc {
            Doc::String(text) => each(text),
            Doc::Array(items) => items.iter().for_each(|item| each_str(item, each)),
            Doc::Object(members) => {
                for (key, value) in members.as_slice() {
                    each(key);
                    each_str(value, each);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn push_copies_into_the_block_while_it_has_room() {
        let mut arena = Arena::with_capacity(10);
        let a = arena.push("abcdef");
        let b = arena.push("ghij");
        let c = arena.push("k");
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("abcdef", "ghij", "k")
        );
        assert!(a.in_arena() && b.in_arena());
        assert!(!c.in_arena(), "the eleventh byte does not fit: owned");
        assert_eq!(b.as_ptr(), a.as_ptr().wrapping_add(6));
        let none = Arena::none().push("x");
        assert!(!none.in_arena());
        let copy = a.clone();
        assert!(!copy.in_arena(), "a copy owns its text");
        assert_eq!(copy, a);
    }

    /// The parse puts every key and string of a bundle in its arena, and a clone of the
    /// bundle owns all of its text and reads the same once the original is dropped.
    #[test]
    fn a_parsed_bundle_keeps_its_text_in_its_arena_and_a_clone_owns_its_own() {
        let text = r#"{"as_of": "2026-11-20T12:00:00Z", "context": {"note": "caf\u00e9"},
            "documents": {"doc": {"outer": {"id": "i-1", "list": ["one", "a\nb"],
            "none": null, "n": 1.5}}}}"#;
        let bundle = crate::Bundle::from_json(text).unwrap();
        let expected = bundle.to_value();
        let mut count = 0;
        let mut all_in_arena = |text: &Str| {
            count += 1;
            assert!(text.in_arena(), "{text:?} is not in the arena");
        };
        each_str(bundle.context(), &mut all_in_arena);
        for doc in bundle.documents().values() {
            each_str(doc, &mut all_in_arena);
        }
        assert_eq!(count, 10);
        let copy = bundle.clone();
        drop(bundle);
        let mut owned = |text: &Str| assert!(!text.in_arena(), "{text:?} is in an arena");
        each_str(copy.context(), &mut owned);
        copy.documents()
            .values()
            .for_each(|doc| each_str(doc, &mut owned));
        assert_eq!(copy.to_value(), expected);
    }

    proptest! {
        /// Whatever the lengths, each `Str` reads back its own text, in the block or owned.
        #[test]
        fn every_str_reads_back_its_text(texts in proptest::collection::vec(".{0,24}", 0..12),
                                         cap in 0usize..200) {
            let mut arena = Arena::with_capacity(cap);
            let strs: Vec<Str> = texts.iter().map(|text| arena.push(text)).collect();
            let used: usize = strs.iter().filter(|s| s.in_arena()).map(|s| s.len()).sum();
            prop_assert!(used <= cap);
            for (text, s) in texts.iter().zip(&strs) {
                prop_assert_eq!(s.as_str(), text.as_str());
            }
        }
    }
}
