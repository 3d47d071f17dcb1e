//! The binary's allocator: mimalloc, with two of its memory options changed.
//!
//! Not part of the library (the engine and the CLI library leave the allocator to whoever
//! embeds them): `src/main.rs` includes this file, and so does `benches/throughput.rs`, so that
//! the benchmark's figures are the binary's.
//!
//! mimalloc instead of the system allocator: evaluation makes many small, short-lived
//! allocations (documents, node lists, evidence), and glibc's malloc and free were a quarter of
//! the instructions of a batch run.
//!
//! Its defaults (mimalloc v3) cost memory, though: arenas committed at once and, on Linux,
//! advised for transparent huge pages, so memory is touched 2 MiB at a time; and freed memory
//! kept for 1000 ms before it goes back. Peak RSS of `diagnose --format jsonl` on 20,000
//! bundles of `../shared/bench` (`/usr/bin/time -f %M`), on 1 and 2 threads:
//!
//! | | default pack | `r1-r8.yaml` |
//! | --- | --- | --- |
//! | glibc's malloc | 9.3 / 26 MB | 7.8 / 16 MB |
//! | mimalloc's defaults | 30 / 55 MB | 15.7 / 30 MB |
//! | these options | 10.2 / 23.7 MB | 8.3 / 17.9 MB |
//!
//! flat in the number of bundles (2,000 to 100,000: 22 to 25 MB for the pack on 2 threads),
//! at the same instructions (callgrind, 2,000 bundles, one thread: 758 M for the pack, 265 M
//! for the eight rules, with or without them) and the same output. Those figures are of
//! commit cc439a1. Since 9d9b71e (worker threads take whole chunks) the pack on 2 threads
//! peaks at 24 to 30 MB from run to run, on 20,000 as on 100,000 bundles (purge delay 0: 22
//! to 27 MB; mimalloc's 1000 ms: 31 to 36 MB; its defaults: 53 to 57 MB); the other three
//! stay near the table's (10.9, 8.3 and 17.2 MB), and the instructions are still the same
//! with or without the options (746 M and 259 M). The options:
//!
//! - `allow_thp = 0`: no transparent huge pages for the process (mimalloc then calls
//!   `prctl(PR_SET_THP_DISABLE)`), whatever the system's THP mode. `arena_eager_commit = 0`
//!   did as well on this machine (THP mode `madvise`), but would not keep the kernel from using
//!   huge pages where the mode is `always` (not measured).
//! - `purge_delay = 10` (milliseconds; mimalloc v2's default): freed pages go back soon. With 0
//!   the peaks are a little lower (9.5 / 22.5 MB, 8.3 / 17.0 MB), but on 2 threads freed pages
//!   are given back and touched again over and over (for the pack 4,500 `madvise` calls and
//!   47,000 page faults instead of 1,300 and 25,000), which doubled the system time (0.21 s
//!   instead of 0.11 s for the pack, 0.09 s instead of 0.03 s for the eight rules: medians of
//!   15 runs); with 10 ms the time is that of mimalloc's defaults.
//!
//! mimalloc v2 (the crate's `v2` feature) was no better: 16 / 39 MB and 14.5 / 32.5 MB with
//! its defaults, 9.8 / 24 MB and 9 / 18 MB with options like these, and 0.5% more
//! instructions.

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// mimalloc, asked for plain `mi_malloc` blocks whenever those are aligned enough.
///
/// The `mimalloc` crate's `MiMalloc` (this file's allocator until 2026-12) asks for every
/// block through `mi_malloc_aligned`, whose extra checks cost instructions on each of the many
/// small allocations of a batch run. Plain blocks where they are aligned enough: callgrind,
/// `diagnose --format jsonl --threads 1` on 2,000 bundles of `../shared/bench`, the default
/// pack 402.0 M -> 391.3 M instructions, `r1-r8.yaml` 164.1 M -> 157.7 M, 2,000 `generate`
/// bundles 483.7 M -> 472.0 M, output the same.
///
/// mimalloc aligns a block of 16 bytes or more to 16 bytes and a smaller one to 8
/// (`MI_MAX_ALIGN_SIZE`; its `alloc.c` asserts it), so a layout whose alignment is at most 16
/// and at most its size gets a plain block, as the standard library's `System` allocator
/// decides for `malloc`; any other layout goes to the aligned calls, as before.
struct MiMalloc;

/// Alignment every `mi_malloc` block of at least this many bytes has.
const PLAIN_ALIGN: usize = 16;

/// Whether a plain block of `size` bytes is aligned enough for `align`.
#[inline]
fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` frees blocks of both
// kinds); a plain block is used only where `plain` holds, which mimalloc's alignment of its
// blocks guarantees (see the type's doc), and otherwise the aligned calls are made with the
// layout's alignment, as the `mimalloc` crate makes them.
unsafe impl std::alloc::GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions take any size and alignment.
        unsafe {
            if plain(layout.align(), layout.size()) {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.align(), layout.size()) {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` was allocated by this allocator, so by mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by this allocator, so by mimalloc; the new block is
        // aligned as `alloc` would align it for the new size.
        unsafe {
            if plain(layout.align(), new_size) {
                libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// Sets the defaults of two mimalloc options before mimalloc reads its options.
#[cfg(target_os = "linux")]
mod options {
    /// `mi_option_t` numbers in the bundled mimalloc v3 (`c_src/mimalloc/v3/include/mimalloc.h`
    /// of libmimalloc-sys 0.1.49, which does not name these two); `allow_thp` is 37 in mimalloc
    /// v2. `tests/allocator.rs` checks the options by name, as mimalloc prints them.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

    /// mimalloc reads its options once, in its own constructor (priority 101), before anything
    /// allocates; this one runs just before it (priority 100; Rust's standard library uses 99
    /// to record the arguments). Set in `main` they come too late (an earlier attempt measured
    /// 20 / 37 MB for the pack): mimalloc has initialized and taken its first arena by then.
    /// `mi_option_set_default` leaves an option unread, so `MIMALLOC_PURGE_DELAY` and
    /// `MIMALLOC_ALLOW_THP` in the environment still decide.
    #[ctor::ctor(unsafe, priority = 100)]
    fn set_defaults() {
        for (option, value) in [(PURGE_DELAY, 10), (ALLOW_THP, 0)] {
            // SAFETY: a store into mimalloc's static option table: it allocates nothing and
            // needs nothing of the C runtime.
            unsafe { libmimalloc_sys::mi_option_set_default(option, value) };
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every block is aligned as its layout asks, for small and large sizes, every alignment up
    /// to a page, fresh, zeroed and grown or shrunk; several blocks of each layout are held at
    /// once, so that a block put where only 8 bytes of alignment are kept (mimalloc's blocks
    /// under 16 bytes) would show.
    #[test]
    fn blocks_are_aligned_as_their_layouts_ask() {
        // Imported here: `benches/throughput.rs` includes this file, and a bench without the
        // test harness drops the test but would keep imports made for it.
        use std::alloc::{GlobalAlloc, Layout};

        use super::GLOBAL;

        let sizes = (1..=64).chain([72, 96, 100, 128, 200, 256, 1000, 4096, 5000, 70_000]);
        for size in sizes {
            for align in (0..=12).map(|shift| 1usize << shift) {
                let layout = Layout::from_size_align(size, align).unwrap();
                let mut held = Vec::new();
                for round in 0..8 {
                    // SAFETY: the layout's size is not zero; each block is freed below with
                    // the layout it has.
                    unsafe {
                        let zeroed = round % 2 == 1;
                        let block = if zeroed {
                            GLOBAL.alloc_zeroed(layout)
                        } else {
                            GLOBAL.alloc(layout)
                        };
                        assert!(!block.is_null());
                        assert_eq!(block as usize % align, 0, "size {size}, align {align}");
                        if zeroed {
                            assert!(
                                std::slice::from_raw_parts(block, size)
                                    .iter()
                                    .all(|b| *b == 0)
                            );
                        }
                        block.write_bytes(0xA5, size);
                        held.push(block);
                    }
                }
                for (round, block) in held.into_iter().enumerate() {
                    let new_size = if round % 2 == 0 {
                        size * 3
                    } else {
                        size.div_ceil(2)
                    };
                    // SAFETY: `block` came from `alloc` with `layout`; the new size is not
                    // zero, and the block is freed with the layout of its new size.
                    unsafe {
                        let moved = GLOBAL.realloc(block, layout, new_size);
                        assert!(!moved.is_null());
                        assert_eq!(
                            moved as usize % align,
                            0,
                            "realloc {size} -> {new_size}, align {align}"
                        );
                        let kept = size.min(new_size);
                        assert!(
                            std::slice::from_raw_parts(moved, kept)
                                .iter()
                                .all(|b| *b == 0xA5)
                        );
                        GLOBAL.dealloc(moved, Layout::from_size_align(new_size, align).unwrap());
                    }
                }
            }
        }
    }
}
