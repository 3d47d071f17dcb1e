//! A parsed bundle's keys, strings and lists, in blocks the bundle owns.
//!
//! A parse copies each key and string it keeps into its bundle's [`Arena`], and moves each
//! object's members and each array's elements there when the object or array ends: the
//! document holds a [`Str`] or a [`List`] that points into the arena. No allocation per key,
//! string, object or array when the bundle is built, and when it is dropped nothing to free
//! but the arena's blocks, and no walk through the documents: a `List` in an arena never
//! drops its values, which own nothing outside the arena. A projected parse puts the texts it
//! keeps of skeletons there too (`crate::projection::RawPart`: text, path and document name).
//! The arena starts with one block sized for the text (see `crate::projection::parse`) and
//! adds blocks when that is full; nothing in a block ever moves.
//!
//! A `Str` or `List` that does not point into an arena owns its text or values, as a
//! `Box<str>` or `Box<[T]>` does: documents converted from a `serde_json::Value`, values
//! built without a bundle, and every copy ([`Clone`]).
//!
//! The rules that keep this sound:
//! - A `Str` or `List` that points into an arena lives inside the bundle that owns the arena,
//!   and never leaves it. Such values are made only by [`Arena::push`] and [`Arena::list`],
//!   which only the parse calls, and the parse moves the documents and their arena into one
//!   [`crate::Bundle`] together; a bundle lends its documents (`&Doc`) and never gives one
//!   away (there is no `&mut` to them); and a copy of a `Str` or `List` owns what it holds, so
//!   a document cloned out of a bundle owns all of it.
//! - What a list in an arena holds owns nothing outside the arena: while an arena has blocks,
//!   every key, string and list the parse builds goes into it (it grows rather than fall
//!   back to owning), and numbers own nothing (a compile-time assertion keeps that so).
//! - A `Str` or `List` in an arena drops without touching the arena, so the order in which a
//!   bundle's fields drop does not matter.

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

/// The blocks that a parse copies the keys, strings and lists it keeps into, owned by the
/// bundle built: see the module's documentation.
pub(crate) struct Arena {
    /// The block being filled (dangling when `cap` is 0: an arena without blocks).
    ptr: NonNull<u8>,
    cap: usize,
    /// Bytes written so far, from the start of the block.
    used: usize,
    /// The blocks filled before this one (none unless the parse outgrew its first block),
    /// freed with the arena. Nothing ever moves out of a block.
    full: Vec<(NonNull<u8>, usize)>,
}

// SAFETY: the arena owns its blocks; the `Str`s and `List`s pointing into them only read them.
unsafe impl Send for Arena {}
// SAFETY: `&Arena` gives no access to the blocks.
unsafe impl Sync for Arena {}

/// The alignment of every block, and the most a value in a [`List`] in an arena may need.
const ALIGN: usize = 8;

// A list in an arena never drops its values: a number must own nothing (serde_json's
// `arbitrary_precision` feature would make it own its text).
const _: () = assert!(!std::mem::needs_drop::<serde_json::Number>());

impl Arena {
    /// An arena without a block: every [`Arena::push`] gives an owned `Str`, and every list
    /// built with it is owned.
    pub(crate) const fn none() -> Arena {
        Arena {
            ptr: NonNull::dangling(),
            cap: 0,
            used: 0,
            full: Vec::new(),
        }
    }

    /// An arena whose first block holds `cap` bytes (at least 64). It grows by further blocks
    /// when that is full (nothing moves: a `Str` or `List` points into its block for good). A
    /// parse gives it room for the keys, strings and lists of the text it parses, which one
    /// block holds for most texts (see `crate::projection::parse`).
    pub(crate) fn with_capacity(cap: usize) -> Arena {
        let mut arena = Arena::none();
        arena.start_block(cap.max(64));
        arena
    }

    /// Whether the arena has blocks: without, keys, strings and lists are owned.
    #[inline(always)]
    pub(crate) fn has_blocks(&self) -> bool {
        self.cap != 0
    }

    /// A new block of at least `cap` bytes to fill, the current one (if any) kept as full.
    #[cold]
    #[inline(never)]
    fn start_block(&mut self, cap: usize) {
        let Ok(layout) = std::alloc::Layout::from_size_align(cap, ALIGN) else {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<u8>());
        };
        // SAFETY: `cap` is not zero: callers ask for 64 bytes or more (`with_capacity`), or
        // for the bytes needed plus 8 (`room`).
        let block = unsafe { std::alloc::alloc(layout) };
        let Some(block) = NonNull::new(block) else {
            std::alloc::handle_alloc_error(layout);
        };
        if self.cap != 0 {
            self.full.push((self.ptr, self.cap));
        }
        self.ptr = block;
        self.cap = cap;
        self.used = 0;
    }

    /// Where `bytes` bytes aligned to `align` start in the current block, which is replaced
    /// by a larger one first when they do not fit.
    #[inline(always)]
    fn room(&mut self, bytes: usize, align: usize) -> *mut u8 {
        let mut start = self.used.next_multiple_of(align);
        if start > self.cap || bytes > self.cap - start {
            // Twice the block, or what `bytes` needs: blocks stay few however large the text.
            let Some(cap) = bytes
                .checked_add(ALIGN)
                .map(|need| need.max(self.cap.saturating_mul(2)))
            else {
                std::alloc::handle_alloc_error(std::alloc::Layout::new::<u8>());
            };
            self.start_block(cap);
            start = 0;
        }
        self.used = start + bytes;
        // SAFETY: `start + bytes <= cap`: inside the block.
        unsafe { self.ptr.as_ptr().add(start) }
    }

    /// `text` as a `Str`: copied into the arena when it has blocks, otherwise owned.
    ///
    /// The `Str` must stay with this arena: in the bundle that will own it (the module's
    /// documentation says why that is sound).
    #[inline(always)]
    pub(crate) fn push(&mut self, text: &str) -> Str {
        if !self.has_blocks() {
            return Str::from(text);
        }
        let n = text.len();
        let to = self.room(n, 1);
        // SAFETY: `room` gave `n` bytes in a block, after every byte an earlier `Str` or
        // `List` points to; they are written once and never again, and they are a copy of
        // UTF-8. A text is never as long as half the address space, so the bit is free.
        unsafe {
            crate::short::copy_to(text.as_bytes(), to);
            Str {
                ptr: NonNull::new_unchecked(to),
                len: n | IN_ARENA,
            }
        }
    }

    /// The values of `stack` from `start` on, moved into a [`List`] (and off the stack): into
    /// the arena when it has blocks, otherwise into a list of their own.
    ///
    /// The list must stay with this arena, as a `Str` must; and everything its values own
    /// must lie in this arena too (the list never drops them): so it is only for values
    /// built in this arena, whose keys, strings and lists went into it.
    #[inline]
    pub(crate) fn list<T>(&mut self, stack: &mut Vec<T>, start: usize) -> List<T> {
        const { assert!(align_of::<T>() <= ALIGN && size_of::<T>() > 0) };
        if !self.has_blocks() {
            return List::from(stack.split_off(start));
        }
        let n = stack.len() - start;
        // A slice of `n` values is never larger than `isize::MAX` bytes.
        let to = self.room(n * size_of::<T>(), align_of::<T>()).cast::<T>();
        // SAFETY: `room` gave an aligned place for `n` values in a block, written once. The
        // values are moved there bitwise and taken off the stack without being dropped
        // (`set_len`), so each has one owner, the list. `len | IN_ARENA`: `n` is far below
        // the bit.
        unsafe {
            std::ptr::copy_nonoverlapping(stack.as_ptr().add(start), to, n);
            stack.set_len(start);
            List {
                ptr: NonNull::new_unchecked(to),
                len: n | IN_ARENA,
                values: std::marker::PhantomData,
            }
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let current = (self.cap != 0).then_some((self.ptr, self.cap));
        for (ptr, cap) in self.full.drain(..).chain(current) {
            // SAFETY: each block was allocated by `start_block` with this layout, and is
            // freed once, here. Nothing in it needs dropping: a `Str` or `List` in an arena
            // never drops what it points to.
            unsafe {
                std::alloc::dealloc(
                    ptr.as_ptr(),
                    std::alloc::Layout::from_size_align_unchecked(cap, ALIGN),
                );
            }
        }
    }
}

/// A list of a document's values (an array's elements, an object's members): owned, as a
/// `Box<[T]>` is, or in its bundle's arena, where a parse put it. Reads as a `&[T]` either way,
/// 16 bytes as a `Box<[T]>`.
///
/// A list in an arena never drops its values: the values a parse builds own nothing outside
/// the arena (their keys, strings and lists are in it too), so dropping a parsed bundle's
/// documents takes no walk through them; the arena's blocks are freed whole.
pub struct List<T> {
    ptr: NonNull<T>,
    /// The length, with [`IN_ARENA`] set when the values lie in an arena.
    len: usize,
    values: std::marker::PhantomData<T>,
}

// SAFETY: a `List` is either a `Box<[T]>` or a shared view of values that no one writes once
// it exists (the arena writes them once, before making the `List`).
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for List<T> {}

impl<T> List<T> {
    /// The values.
    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `ptr` and the length are those of a `Box<[T]>` this list owns, or of
        // values in an arena that outlives it (see the module's documentation).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len & !IN_ARENA) }
    }

    /// Whether the values lie in an arena.
    #[cfg(test)]
    pub(crate) fn in_arena(&self) -> bool {
        self.len & IN_ARENA != 0
    }
}

impl<T> From<Vec<T>> for List<T> {
    #[inline]
    fn from(values: Vec<T>) -> List<T> {
        let values = values.into_boxed_slice();
        let len = values.len();
        // SAFETY: `Box::into_raw` never gives a null pointer.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(values).cast::<T>()) };
        // A boxed slice of values larger than zero bytes has fewer than `isize::MAX` of them.
        List {
            ptr,
            len,
            values: std::marker::PhantomData,
        }
    }
}

impl<T> Drop for List<T> {
    #[inline]
    fn drop(&mut self) {
        if self.len & IN_ARENA == 0 {
            // SAFETY: the values are owned: `ptr` and `len` came from `Box::into_raw` of a
            // `Box<[T]>` of that length, which is rebuilt once, here.
            unsafe {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    self.ptr.as_ptr(),
                    self.len,
                )));
            }
        }
    }
}

impl<T: Clone> Clone for List<T> {
    /// An owned copy, wherever the values lie: a copy may outlive the bundle (and copies of
    /// keys, strings and lists own theirs).
    fn clone(&self) -> List<T> {
        List::from(self.as_slice().to_vec())
    }
}

impl<T: Clone> List<T> {
    /// The values, owned: taken as they are from an owned list, copied from one in an arena.
    pub fn into_vec(self) -> Vec<T> {
        if self.len & IN_ARENA != 0 {
            return self.as_slice().to_vec();
        }
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: as in `drop`: the `Box<[T]>` this list owns, rebuilt once (the list itself
        // is not dropped).
        unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                this.ptr.as_ptr(),
                this.len,
            ))
            .into_vec()
        }
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List::from(Vec::new())
    }
}

impl<T> std::ops::Deref for List<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<'l, T> IntoIterator for &'l List<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
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
        write!(
            f,
            "Arena({} of {} bytes, {} blocks before)",
            self.used,
            self.cap,
            self.full.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Arena, List, Str};
    use crate::Doc;

    /// Calls `each` with every key and string of `doc`, and `lists` with whether each of its
    /// lists (arrays' and objects') lies in an arena.
    fn each_part(doc: &Doc, each: &mut impl FnMut(&Str), lists: &mut impl FnMut(bool)) {
        match doc {
            Doc::String(text) => each(text),
            Doc::Array(items) => {
                lists(items.in_arena());
                items.iter().for_each(|item| each_part(item, each, lists));
            }
            Doc::Object(members) => {
                lists(members.list_in_arena());
                for (key, value) in members.as_slice() {
                    each(key);
                    each_part(value, each, lists);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn push_copies_into_the_blocks_and_a_full_block_is_followed_by_another() {
        let mut arena = Arena::with_capacity(64);
        let a = arena.push(&"a".repeat(60));
        let b = arena.push("bcd");
        let c = arena.push("efgh");
        assert_eq!((&b[..], &c[..]), ("bcd", "efgh"));
        assert!(a.in_arena() && b.in_arena() && c.in_arena());
        assert_eq!(b.as_ptr(), a.as_ptr().wrapping_add(60));
        assert_eq!(arena.full.len(), 1, "the 65th byte starts a second block");
        assert_eq!(&a[..], "a".repeat(60), "nothing moved");
        let none = Arena::none().push("x");
        assert!(!none.in_arena());
        let copy = a.clone();
        assert!(!copy.in_arena(), "a copy owns its text");
        assert_eq!(copy, a);
    }

    /// The parse puts every key, string and list of a bundle in its arena, and a clone of the
    /// bundle owns all of them and reads the same once the original is dropped.
    #[test]
    fn a_parsed_bundle_keeps_its_parts_in_its_arena_and_a_clone_owns_its_own() {
        let text = r#"{"as_of": "2026-11-20T12:00:00Z", "context": {"note": "caf\u00e9"},
            "documents": {"doc": {"outer": {"id": "i-1", "list": ["one", "a\nb", []],
            "none": null, "n": 1.5, "z": {}, "a": {"b": [1, {"c": "d"}]}}}}}"#;
        let bundle = crate::Bundle::from_json(text).unwrap();
        let expected = bundle.to_value();
        let (mut strs, mut lists) = (0, 0);
        let mut str_in_arena = |text: &Str| {
            strs += 1;
            assert!(text.in_arena(), "{text:?} is not in the arena");
        };
        let mut list_in_arena = |in_arena: bool| {
            lists += 1;
            assert!(in_arena, "a list is not in the arena");
        };
        each_part(bundle.context(), &mut str_in_arena, &mut list_in_arena);
        for doc in bundle.documents().values() {
            each_part(doc, &mut str_in_arena, &mut list_in_arena);
        }
        assert_eq!((strs, lists), (15, 9));
        let copy = bundle.clone();
        drop(bundle);
        let mut str_owned = |text: &Str| assert!(!text.in_arena(), "{text:?} is in an arena");
        let mut list_owned = |in_arena: bool| assert!(!in_arena, "a list is in an arena");
        each_part(copy.context(), &mut str_owned, &mut list_owned);
        for doc in copy.documents().values() {
            each_part(doc, &mut str_owned, &mut list_owned);
        }
        assert_eq!(copy.to_value(), expected);
    }

    /// A text whose lists need more than its first block: the arena grows, and the bundle
    /// reads as the text says.
    #[test]
    fn a_bundle_larger_than_its_first_block_grows_the_arena() {
        let zeros = vec!["0"; 2000].join(",");
        let text = format!(r#"{{"documents": {{"d": {{"z": [{zeros}], "k": "v"}}}}}}"#);
        let bundle = crate::Bundle::from_json(&text).unwrap();
        assert!(!bundle.arena.full.is_empty(), "{:?}", bundle.arena);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(bundle.to_value()["documents"], value["documents"]);
    }

    proptest! {
        /// Whatever the lengths, each `Str` reads back its own text, and every one is in the
        /// arena.
        #[test]
        fn every_str_reads_back_its_text(texts in proptest::collection::vec(".{0,80}", 0..24),
                                         cap in 0usize..200) {
            let mut arena = Arena::with_capacity(cap);
            let strs: Vec<Str> = texts.iter().map(|text| arena.push(text)).collect();
            for (text, s) in texts.iter().zip(&strs) {
                prop_assert!(s.in_arena());
                prop_assert_eq!(s.as_str(), text.as_str());
            }
        }

        /// `Arena::list` moves exactly the values from `start` on off the stack, into the
        /// arena (aligned, whatever was pushed before) or, without blocks, into a list of their
        /// own; every list reads back its values afterwards.
        #[test]
        fn lists_take_the_top_of_the_stack(
            steps in proptest::collection::vec(
                (".{0,9}", proptest::collection::vec(any::<u64>(), 0..40), 0usize..50),
                0..16,
            ),
            blocks in any::<bool>(),
        ) {
            let mut arena = if blocks { Arena::with_capacity(100) } else { Arena::none() };
            // Each list, with the text pushed just before it and the values it must hold.
            type Kept = (Str, List<(u64, u8)>, Vec<(u64, u8)>);
            let mut kept: Vec<Kept> = Vec::new();
            let mut stack: Vec<(u64, u8)> = Vec::new();
            for (text, values, under) in steps {
                // Values left on the stack below the list's start stay there.
                stack.truncate(under.min(stack.len()));
                let start = stack.len();
                stack.extend(values.iter().map(|&v| (v, v as u8)));
                let expected = stack[start..].to_vec();
                let s = arena.push(&text);
                let list = arena.list(&mut stack, start);
                prop_assert_eq!(stack.len(), start);
                prop_assert_eq!(list.in_arena(), blocks);
                prop_assert_eq!(list.as_ptr() as usize % align_of::<(u64, u8)>(), 0);
                prop_assert_eq!(&list[..], &expected[..]);
                kept.push((s, list, expected));
            }
            for (_, list, expected) in &kept {
                prop_assert_eq!(&list[..], &expected[..]);
                prop_assert_eq!(list.clone().into_vec(), expected.clone());
                prop_assert!(!list.clone().in_arena());
            }
        }
    }
}
