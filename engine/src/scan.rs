//! A strict JSON scanner: skips values without building them, and builds documents
//! ([`Doc`]) where asked, accepting exactly what `serde_json` accepts when it parses into a `Value`.
//!
//! Every bundle, whole or projected, is read by this one scanner ([`crate::projection`]), so
//! that what is accepted never depends on which parts the rules read. Skipped parts are
//! checked as strictly as built ones: string escapes (a lone UTF-16 surrogate is an error),
//! control characters, the number grammar, numbers out of `f64` range (`1e400`) and nesting
//! deeper than serde_json's limit. A built value is bit for bit what serde_json builds:
//! numbers with a fraction or an exponent are rounded to the nearest `f64` as serde_json (with
//! `float_roundtrip`) rounds them. A differential fuzz target and property tests check
//! acceptance and values against serde_json.

use std::borrow::Cow;

use serde_json::{Number, Value};

use crate::arena::{Arena, Str};
use crate::doc::{Doc, Members};

/// The deepest nesting serde_json accepts: it refuses the 128th container opened inside
/// another (the bundle object itself counts).
pub(crate) const MAX_DEPTH: u32 = 127;

/// Room for building documents: the members and elements of the objects and arrays being
/// built, in one list each, so that each object or array is allocated once, at its size, when
/// it is complete (its members are copied off the list in one move).
#[derive(Debug)]
pub(crate) struct Stacks {
    members: Vec<(Str, Doc)>,
    items: Vec<Doc>,
    /// Where the keys and strings built go: the bundle's arena while a bundle is parsed (see
    /// [`crate::projection::parse`]), none otherwise.
    pub(crate) arena: Arena,
}

impl Default for Stacks {
    fn default() -> Stacks {
        // Each list starts with one placeholder (which allocates nothing), so that a value
        // never starts at 0: `split_off(0)` would hand over the whole list and allocate a new
        // one, where any other index copies exactly the value's part into its own allocation.
        let mut members = Vec::with_capacity(32);
        members.push((Str::default(), Doc::Null));
        let mut items = Vec::with_capacity(32);
        items.push(Doc::Null);
        Stacks {
            members,
            items,
            arena: Arena::none(),
        }
    }
}

thread_local! {
    /// Stacks kept by each thread between parses (see [`Stacks::reused`]).
    static SPARE: std::cell::Cell<Option<Stacks>> = const { std::cell::Cell::new(None) };
}

/// Lists longer than this are not kept for the next parse, so that one huge record does not
/// hold its room for the rest of a run.
const KEEP_AT_MOST: usize = 1 << 12;

impl Stacks {
    /// Runs `parse` with this thread's stacks, left empty by the previous parse on the thread
    /// (new ones the first time): a batch of records allocates its lists once per thread,
    /// not twice per record. Results never depend on it: `parse` starts from empty lists.
    pub(crate) fn reused<T>(parse: impl FnOnce(&mut Stacks) -> T) -> T {
        // `try_with`: while the thread's locals are being destroyed (a parse from another
        // local's destructor) there is nothing to reuse, and that is no error.
        let mut stacks = SPARE
            .try_with(std::cell::Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = parse(&mut stacks);
        // A parse that failed may leave members or elements behind: drop them (the
        // placeholder stays).
        stacks.members.truncate(1);
        stacks.items.truncate(1);
        stacks.arena = Arena::none();
        if stacks.members.capacity() <= KEEP_AT_MOST && stacks.items.capacity() <= KEEP_AT_MOST {
            let _ = SPARE.try_with(|spare| spare.set(Some(stacks)));
        }
        result
    }

    /// Where the next object's members start.
    #[inline]
    pub(crate) fn members_start(&self) -> usize {
        self.members.len()
    }

    /// Where the next array's elements start.
    #[inline]
    pub(crate) fn items_start(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub(crate) fn push_member(&mut self, key: Str, value: Doc) {
        self.members.push((key, value));
    }

    #[inline]
    pub(crate) fn push_item(&mut self, value: Doc) {
        self.items.push(value);
    }

    /// The object whose members were pushed since [`Stacks::members_start`] was `start`.
    #[inline]
    pub(crate) fn object(&mut self, start: usize) -> Doc {
        let start = start.max(1);
        crate::doc::sort_members(&mut self.members, start);
        Doc::Object(Members::from_sorted(
            self.arena.list(&mut self.members, start),
        ))
    }

    /// The array whose elements were pushed since [`Stacks::items_start`] was `start`.
    #[inline]
    pub(crate) fn array(&mut self, start: usize) -> Doc {
        Doc::Array(self.arena.list(&mut self.items, start.max(1)))
    }
}

/// Why the text is not accepted, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub(crate) message: &'static str,
    pub(crate) at: usize,
}

pub(crate) type Scan<T> = Result<T, ScanError>;

/// A cursor over JSON text.
#[derive(Clone)]
pub(crate) struct Scanner<'t> {
    pub(crate) text: &'t str,
    bytes: &'t [u8],
    pub(crate) at: usize,
    /// Containers open around the cursor.
    depth: u32,
}

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

impl<'t> Scanner<'t> {
    pub(crate) fn new(text: &'t str) -> Scanner<'t> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
        }
    }

    /// Out of line and cold: error paths stay out of the scanning code's cache lines.
    #[cold]
    #[inline(never)]
    pub(crate) fn fail<T>(&self, message: &'static str) -> Scan<T> {
        Err(ScanError {
            message,
            at: self.at,
        })
    }

    /// Skips JSON whitespace and returns the next byte, if any.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        // Compact JSON (a JSON Lines record) has no whitespace: one test for the usual case.
        match self.bytes.get(self.at) {
            Some(&byte) if byte > b' ' => return Some(byte),
            None => return None,
            _ => {}
        }
        while let Some(&byte) = self.bytes.get(self.at) {
            match byte {
                b' ' | b'\n' | b'\t' | b'\r' => self.at += 1,
                _ => return Some(byte),
            }
        }
        None
    }

    /// Consumes `byte` (after whitespace) or fails with `message`.
    #[inline]
    pub(crate) fn expect(&mut self, byte: u8, message: &'static str) -> Scan<()> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(message)
        }
    }

    /// Whether the text ends here (after whitespace).
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Opens a container: the cursor is on `{` or `[`.
    #[inline]
    pub(crate) fn enter(&mut self) -> Scan<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("recursion limit exceeded");
        }
        self.at += 1;
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// After `{` (entered): whether the object has a first member (`}` is consumed if not).
    #[inline]
    pub(crate) fn first_member(&mut self) -> Scan<bool> {
        match self.peek() {
            Some(b'}') => {
                self.at += 1;
                self.leave();
                Ok(false)
            }
            Some(b'"') => Ok(true),
            _ => self.fail("expected a key or `}`"),
        }
    }

    /// After a member's value: whether another member follows (`}` is consumed if not).
    #[inline]
    pub(crate) fn next_member(&mut self) -> Scan<bool> {
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                if self.peek() == Some(b'"') {
                    Ok(true)
                } else {
                    self.fail("expected a key after `,`")
                }
            }
            Some(b'}') => {
                self.at += 1;
                self.leave();
                Ok(false)
            }
            _ => self.fail("expected `,` or `}`"),
        }
    }

    /// Reads a key and the `:` after it; the cursor is on the key's opening quote.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> Scan<Cow<'t, str>> {
        self.at += 1;
        let key = self.string_body()?;
        self.expect(b':', "expected `:`")?;
        Ok(key)
    }

    /// Skips a key and the `:` after it.
    #[inline(always)]
    pub(crate) fn skip_key(&mut self) -> Scan<()> {
        self.at += 1;
        self.skip_string_body()?;
        self.expect(b':', "expected `:`")
    }

    /// After `[` (entered): whether the array has a first element (`]` is consumed if not).
    #[inline]
    pub(crate) fn first_element(&mut self) -> Scan<bool> {
        match self.peek() {
            Some(b']') => {
                self.at += 1;
                self.leave();
                Ok(false)
            }
            Some(_) => Ok(true),
            None => self.fail("unexpected end in an array"),
        }
    }

    /// After an element: whether another follows (`]` is consumed if not).
    #[inline]
    pub(crate) fn next_element(&mut self) -> Scan<bool> {
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                match self.peek() {
                    Some(b']') => self.fail("trailing comma"),
                    _ => Ok(true),
                }
            }
            Some(b']') => {
                self.at += 1;
                self.leave();
                Ok(false)
            }
            _ => self.fail("expected `,` or `]`"),
        }
    }

    /// [`Scanner::skip`], with the commonest values of compact JSON, a string or `null` right
    /// at the cursor, skipped in place (without a call).
    #[inline(always)]
    pub(crate) fn skip_value(&mut self) -> Scan<()> {
        match self.bytes.get(self.at) {
            Some(b'"') => {
                self.at += 1;
                self.skip_string_body()
            }
            Some(b'n') => self.literal(b"null"),
            _ => self.skip(),
        }
    }

    /// Skips one value, checking it as strictly as building it would.
    pub(crate) fn skip(&mut self) -> Scan<()> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                self.skip_string_body()
            }
            Some(b'{') => {
                self.enter()?;
                if self.first_member()? {
                    loop {
                        self.skip_key()?;
                        self.skip()?;
                        if !self.next_member()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b'[') => {
                self.enter()?;
                if self.first_element()? {
                    loop {
                        self.skip()?;
                        if !self.next_element()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true").map(drop),
            Some(b'f') => self.literal(b"false").map(drop),
            Some(b'n') => self.literal(b"null").map(drop),
            Some(b'-' | b'0'..=b'9') => self.number_token().map(drop),
            Some(_) => self.fail("expected a value"),
            None => self.fail("unexpected end, expected a value"),
        }
    }

    /// Builds one whole value as a `serde_json::Value` (as [`Scanner::doc`] builds it).
    #[cfg(test)]
    pub(crate) fn value(&mut self) -> Scan<Value> {
        self.doc().map(Value::from)
    }

    /// Builds one whole value.
    #[cfg(test)]
    pub(crate) fn doc(&mut self) -> Scan<Doc> {
        self.doc_in(&mut Stacks::default())
    }

    /// Builds one whole value, collecting members and elements on `stacks`.
    pub(crate) fn doc_in(&mut self, stacks: &mut Stacks) -> Scan<Doc> {
        match self.peek() {
            Some(b'{') => {
                self.enter()?;
                let start = stacks.members_start();
                if self.first_member()? {
                    loop {
                        let key = self.key()?;
                        let value = self.doc_value_in(stacks)?;
                        let key = stacks.arena.push(&key);
                        stacks.push_member(key, value);
                        if !self.next_member()? {
                            break;
                        }
                    }
                }
                Ok(stacks.object(start))
            }
            Some(b'[') => {
                self.enter()?;
                let start = stacks.items_start();
                if self.first_element()? {
                    loop {
                        let item = self.doc_value_in(stacks)?;
                        stacks.push_item(item);
                        if !self.next_element()? {
                            break;
                        }
                    }
                }
                Ok(stacks.array(start))
            }
            _ => self.doc_scalar(&mut stacks.arena),
        }
    }

    /// [`Scanner::doc_in`], with a string right at the cursor (the commonest value of compact
    /// JSON) built in place, without a call.
    #[inline(always)]
    pub(crate) fn doc_value_in(&mut self, stacks: &mut Stacks) -> Scan<Doc> {
        if self.bytes.get(self.at) == Some(&b'"') {
            self.at += 1;
            return Ok(Doc::String(stacks.arena.push(&self.string_body()?)));
        }
        self.doc_in(stacks)
    }

    /// Builds a value that is not an object or an array, as a `serde_json::Value`.
    pub(crate) fn scalar(&mut self) -> Scan<Value> {
        self.doc_scalar(&mut Arena::none()).map(Value::from)
    }

    /// Builds a value that is not an object or an array, a string into `arena`.
    pub(crate) fn doc_scalar(&mut self, arena: &mut Arena) -> Scan<Doc> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                Ok(Doc::String(arena.push(&self.string_body()?)))
            }
            Some(b't') => self.literal(b"true").map(|_| Doc::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|_| Doc::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|_| Doc::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                let plain = self.number_token()?;
                let token = self.text.split_at(self.at).0.split_at(start).1;
                number(token, plain).map(Doc::Number).ok_or(ScanError {
                    message: "number out of range",
                    at: start,
                })
            }
            Some(_) => self.fail("expected a value"),
            None => self.fail("unexpected end, expected a value"),
        }
    }

    #[inline(always)]
    fn literal(&mut self, word: &'static [u8]) -> Scan<()> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            self.fail("expected a value")
        }
    }

    /// Scans a number; returns whether it is a plain integer (no fraction, no exponent). A
    /// number serde_json would refuse as out of range is refused here.
    fn number_token(&mut self) -> Scan<bool> {
        let start = self.at;
        let digits = |s: &mut Self| {
            let from = s.at;
            while s.bytes.get(s.at).is_some_and(u8::is_ascii_digit) {
                s.at += 1;
            }
            s.at - from
        };
        if self.bytes[self.at] == b'-' {
            self.at += 1;
        }
        let mut count = match self.bytes.get(self.at) {
            Some(b'0') => {
                self.at += 1;
                if self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
                    return self.fail("invalid number");
                }
                1
            }
            Some(b'1'..=b'9') => digits(self),
            _ => return self.fail("invalid number"),
        };
        let mut plain = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            plain = false;
            let fraction = digits(self);
            if fraction == 0 {
                return self.fail("invalid number");
            }
            count += fraction;
        }
        let mut exponent = false;
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            plain = false;
            exponent = true;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return self.fail("invalid number");
            }
        }
        // Without an exponent, fewer than 300 digits are always below f64::MAX; anything else
        // is decided by converting it (`number`), as serde_json would.
        if (exponent || count >= 300) && number(&self.text[start..self.at], false).is_none() {
            return Err(ScanError {
                message: "number out of range",
                at: start,
            });
        }
        Ok(plain)
    }

    /// Skips the rest of a string (after its opening quote).
    #[inline(always)]
    fn skip_string_body(&mut self) -> Scan<()> {
        self.skip_plain();
        if self.bytes.get(self.at) == Some(&b'"') {
            self.at += 1;
            return Ok(());
        }
        self.skip_string_rest()
    }

    /// [`Scanner::skip_string_body`] from an escape or an error on.
    #[inline(never)]
    fn skip_string_rest(&mut self) -> Scan<()> {
        loop {
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(None)?;
                }
                Some(_) => return self.fail("control character in a string"),
                None => return self.fail("unexpected end in a string"),
            }
            self.skip_plain();
        }
    }

    /// Reads the rest of a string (after its opening quote), borrowed when it has no escape.
    #[inline(always)]
    pub(crate) fn string_body(&mut self) -> Scan<Cow<'t, str>> {
        let start = self.at;
        self.skip_plain();
        if self.bytes.get(self.at) == Some(&b'"') {
            self.at += 1;
            // Both ends are next to a `"`, so on character boundaries: `split_at` checks
            // them inline, where indexing calls a function.
            let (text, _) = self.text.split_at(self.at - 1);
            return Ok(Cow::Borrowed(text.split_at(start).1));
        }
        self.string_rest(start)
    }

    /// [`Scanner::string_body`] from an escape or an error on: the string starts at `start`.
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Scan<Cow<'t, str>> {
        let mut out = String::new();
        let mut from = start;
        loop {
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    out.push_str(&self.text[from..self.at]);
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.text[from..self.at]);
                    self.at += 1;
                    self.escape(Some(&mut out))?;
                    from = self.at;
                }
                Some(_) => return self.fail("control character in a string"),
                None => return self.fail("unexpected end in a string"),
            }
            self.skip_plain();
        }
    }

    /// Moves to the next `"`, `\\` or control character (or the end): sixteen bytes at a time
    /// while they last ([`specials16`]: one branch for the sixteen), then eight, then byte by
    /// byte.
    #[inline(always)]
    fn skip_plain(&mut self) {
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        while let Some(chunk) = self.bytes.get(self.at..).and_then(<[u8]>::first_chunk) {
            let found = specials16(chunk);
            if found != 0 {
                self.at += found.trailing_zeros() as usize;
                return;
            }
            self.at += 16;
        }
        if let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let found = specials(chunk);
            if found != 0 {
                self.at += found.trailing_zeros() as usize / 8;
                return;
            }
            self.at += 8;
        }
        while self.bytes.get(self.at).is_some_and(|b| !special(*b)) {
            self.at += 1;
        }
    }

    /// Reads an escape (after its `\`), appending the character to `out` when given.
    fn escape(&mut self, out: Option<&mut String>) -> Scan<()> {
        let Some(&byte) = self.bytes.get(self.at) else {
            return self.fail("unexpected end in a string");
        };
        self.at += 1;
        let c = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xDC00..=0xDFFF).contains(&high) {
                    return self.fail("lone leading surrogate in hex escape");
                } else if (0xD800..=0xDBFF).contains(&high) {
                    if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                        return self.fail("unexpected end of hex escape");
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return self.fail("lone leading surrogate in hex escape");
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                match char::from_u32(code) {
                    Some(c) => c,
                    None => return self.fail("invalid escape"),
                }
            }
            _ => return self.fail("invalid escape"),
        };
        if let Some(out) = out {
            out.push(c);
        }
        Ok(())
    }

    fn hex4(&mut self) -> Scan<u32> {
        let Some(digits) = self.bytes.get(self.at..self.at + 4) else {
            self.at = self.bytes.len();
            return self.fail("unexpected end in a string");
        };
        let mut code = 0;
        for &digit in digits {
            let value = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return self.fail("invalid escape"),
            };
            code = code * 16 + u32::from(value);
            self.at += 1;
        }
        Ok(code)
    }
}

/// The bit of the first `"`, `\\` or control character among the sixteen bytes of `chunk`
/// as its lowest set bit, or 0 when there is none. With SSE2 every such byte's bit is set;
/// elsewhere ([`specials16_words`]) only the first one's: callers use only the lowest set bit.
///
/// On x86-64 with SSE2 (part of every x86-64 processor, though a target may turn it off):
/// sixteen bytes compared at once, in
/// about ten instructions and no branch, where testing them as two words
/// ([`specials16_words`]) takes about twenty-five and decides between the words with a branch
/// that the lengths of strings, which are data, make hard to predict.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn specials16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is enabled (the cfg above), and `chunk` is sixteen readable bytes
    // (`_mm_loadu_si128` reads them without any alignment).
    let mask = unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        // A byte is at most 0x1F when the smaller of it and 0x1F is itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    mask as u32
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn specials16(chunk: &[u8; 16]) -> u32 {
    specials16_words(chunk)
}

/// [`specials16`] as two words ([`specials`]): the first special byte's bit, or 0.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn specials16_words(chunk: &[u8; 16]) -> u32 {
    let (low, high) = chunk.split_at(8);
    let low = specials(low);
    if low != 0 {
        return 1 << (low.trailing_zeros() / 8);
    }
    let high = specials(high);
    if high != 0 {
        return 1 << (8 + high.trailing_zeros() / 8);
    }
    0
}

/// The high bit of each byte of `chunk` (eight bytes) that is a `"`, a `\\` or a control
/// character, or of some byte after such a byte (only the lowest set bit is meaningful).
/// Kept apart from `json_text::special_bytes_quoted`, which flags bytes exactly in two more
/// instructions: this one runs once or twice per sixteen bytes where SSE2 is absent (aarch64).
#[inline(always)]
fn specials(chunk: &[u8]) -> u64 {
    let chars = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    let control = chars.wrapping_sub(ONES * 0x20) & !chars;
    let quote = chars ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = chars ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH
}

/// A number token as serde_json converts it (`None` when out of range). Plain integers that
/// fit are converted here, and so are numbers with a fraction or an exponent: serde_json (with
/// `float_roundtrip`) and the standard library both round to the nearest `f64`, so they agree
/// (a property test checks it); longer plain integers are left to serde_json.
fn number(token: &str, plain: bool) -> Option<Number> {
    if !plain {
        return token
            .parse::<f64>()
            .ok()
            .filter(|float| float.is_finite())
            .and_then(Number::from_f64);
    }
    if token.len() <= 18 {
        if let Some(digits) = token.strip_prefix('-') {
            if digits != "0" {
                return digits.parse::<i64>().ok().map(|n| Number::from(-n));
            }
        } else {
            return token.parse::<u64>().ok().map(Number::from);
        }
    }
    serde_json::from_str::<Number>(token).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(text: &str) -> bool {
        let mut scanner = Scanner::new(text);
        scanner.skip().is_ok() && scanner.at_end()
    }

    fn builds(text: &str) -> Option<Value> {
        let mut scanner = Scanner::new(text);
        let value = scanner.value().ok()?;
        scanner.at_end().then_some(value)
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let cases = [
            "1",
            "-0",
            "0.5",
            "1e5",
            "1E+5",
            "-1.5e-3",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "1e400",
            "-1e400",
            "1e-400",
            "0e999999999999",
            "1e99999999999999999999",
            "true",
            "tru",
            "null",
            "nul",
            "\"a\"",
            "\"\\u0041\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\ud800x\"",
            "\"\\x\"",
            "\"\\u00g0\"",
            "\"\t\"",
            "\"\u{1}\"",
            "\"é\\\"\"",
            "[]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            "{\"a\":1}",
            "{\"a\":1,}",
            "{\"a\"}",
            "{1:1}",
            "{\"a\":1 \"b\":2}",
            " [ 1 , { \"x\" : [ ] } ] ",
            "[] x",
            "",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "17976931348623157e292",
        ];
        let mut cases: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
        cases.extend([deep(126), deep(127), deep(128), deep(129)]);
        cases.push(format!("1{}", "0".repeat(308)));
        cases.push(format!("1{}", "0".repeat(309)));
        cases.push(format!("0.{}1e310", "0".repeat(400)));
        for case in &cases {
            let expected = serde_json::from_str::<Value>(case).ok();
            assert_eq!(accepts(case), expected.is_some(), "skip {case:?}");
            assert_eq!(builds(case), expected, "build {case:?}");
        }
    }

    #[test]
    fn sixteen_bytes_find_the_first_special_byte_as_two_words_do() {
        let first = |mask: u32| (mask != 0).then(|| mask.trailing_zeros());
        let bytes = [
            b'a', b'"', b'\\', 0, 0x1F, 0x20, 0x7F, 0x80, 0xE9, 0xFF, b'!', b'#', b']',
        ];
        for seed in 0..20_000_u64 {
            // Few special bytes, anywhere in the sixteen (or none).
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let chunk: [u8; 16] = std::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = (state % 64) as usize;
                if pick < bytes.len() {
                    bytes[pick]
                } else {
                    b'a' + (pick % 26) as u8
                }
            });
            let expected = chunk
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map(|at| at as u32);
            assert_eq!(first(specials16(&chunk)), expected, "{chunk:?}");
            assert_eq!(first(specials16_words(&chunk)), expected, "{chunk:?}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Number tokens of the JSON grammar, biased to the edges of the `f64` range.
        fn token() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                "(0|[1-9][0-9]{0,40})",
                proptest::option::of("[0-9]{1,40}"),
                proptest::option::of(("[eE]", "[+-]?", "[0-9]{1,3}|0{0,3}3[0-2][0-9]")),
            )
                .prop_map(|(minus, int, fraction, exponent)| {
                    let mut token = String::from(if minus { "-" } else { "" });
                    token.push_str(&int);
                    if let Some(fraction) = fraction {
                        token.push('.');
                        token.push_str(&fraction);
                    }
                    if let Some((e, sign, digits)) = exponent {
                        token.push_str(&(e + &sign + &digits));
                    }
                    token
                })
        }

        /// JSON texts, nested and spaced in any way, and texts a few edits away from JSON.
        fn near_json() -> impl Strategy<Value = String> {
            let leaf = prop::sample::select(vec![
                "null",
                "true",
                "false",
                "0",
                "-0",
                "12.5e-3",
                "1e400",
                "01",
                "-",
                "tru",
                "nul",
                "\"\"",
                "\"a\\\"b\"",
                "\"\\ud800\\udc00\"",
                "\"\\ud800\"",
                "\"\\q\"",
                "\"é\"",
                "\"abcdefghijklmnopqrstuvwxyz0123456789\"",
            ])
            .prop_map(str::to_owned);
            let text = leaf.prop_recursive(6, 48, 6, |inner| {
                let space = prop::sample::select(vec!["", "", " ", "\n\t ", "\r"]);
                prop_oneof![
                    (prop::collection::vec(inner.clone(), 0..6), space.clone()).prop_map(
                        |(items, space)| format!("[{space}{}]", items.join(&format!("{space},")))
                    ),
                    (prop::collection::vec(("[a-c]{0,2}", inner), 0..6), space).prop_map(
                        |(members, space)| {
                            let members: Vec<String> = members
                                .into_iter()
                                .map(|(key, value)| format!("\"{key}\"{space}:{value}"))
                                .collect();
                            format!("{{{space}{}}}", members.join(","))
                        }
                    ),
                ]
            });
            let edit = (
                any::<prop::sample::Index>(),
                0..4_u8,
                prop::sample::select(vec![
                    b'{', b'}', b'[', b']', b',', b':', b'"', b'\\', b' ', b'1', b'-', b'e', b'n',
                    1_u8,
                ]),
            );
            (text, prop::collection::vec(edit, 0..3)).prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                for (at, kind, byte) in edits {
                    let at = at.index(bytes.len() + 1);
                    match kind {
                        0 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        1 if at < bytes.len() => bytes[at] = byte,
                        2 => bytes.truncate(at),
                        _ => bytes.insert(at, byte),
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 20000, ..ProptestConfig::default() })]

            /// Skipping (as a whole, and value by value the way the projected parse skips
            /// unread members) and building accept what serde_json accepts.
            #[test]
            fn skipping_and_building_accept_what_serde_json_accepts(text in near_json()) {
                let expected = serde_json::from_str::<Value>(&text).ok();
                prop_assert_eq!(accepts(&text), expected.is_some(), "skip {}", text);
                prop_assert_eq!(builds(&text), expected.clone(), "build {}", text);
                let mut scanner = Scanner::new(&text);
                let by_value = scanner.skip_value().is_ok() && scanner.at_end();
                prop_assert_eq!(by_value, expected.is_some(), "skip_value {}", text);
            }

            #[test]
            fn numbers_convert_as_serde_json_converts_them(token in token()) {
                let expected = serde_json::from_str::<Value>(&token).ok();
                prop_assert_eq!(builds(&token), expected.clone(), "build {}", token);
                prop_assert_eq!(accepts(&token), expected.is_some(), "skip {}", token);
                if let Some(Value::Number(number)) = expected {
                    // Bit for bit, the sign of zero included.
                    let built = builds(&token).and_then(|value| value.as_f64());
                    prop_assert_eq!(built.map(f64::to_bits), number.as_f64().map(f64::to_bits));
                }
            }
        }
    }
}
