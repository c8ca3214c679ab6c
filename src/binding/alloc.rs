//! The addon's global allocator: mimalloc for ordinary blocks, the system allocator for large ones.
//!
//! Jobs are allocated on the JS thread and freed on pool threads, results the other way round:
//! glibc's malloc took a fifth of the JS thread's time on empty tasks (fastbin consolidation, arena
//! locks); mimalloc's per-thread heaps with delayed cross-thread frees are made for that pattern.
//! Large blocks are another pattern: a result of a megabyte, copied out of a JS-task Worker and freed
//! when the caller's Buffer is collected, faulted in fresh pages from mimalloc each time (1 MiB in +
//! out per task took 1.1-1.8 ms of CPU, half of it in the kernel), where glibc, whose mmap threshold
//! rises to the size of the blocks it sees freed, serves them from memory it keeps (0.6-0.9 ms).
//! Measured with the 1 MiB row of `node benchmark/js-tasks.js`.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this size and more go to the system allocator.
const LARGE: usize = 256 * 1024;

pub(crate) struct Allocator;

fn large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is allocated and freed by the same allocator, chosen from its layout's size
// alone, which `dealloc` and `realloc` receive unchanged (GlobalAlloc's contract); a `realloc` that
// crosses the threshold moves the block between the two with a fresh allocation, a copy of the
// smaller size and a free.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees (a non-zero size).
        unsafe {
            if large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout, so from the allocator chosen here.
        unsafe {
            if large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from the allocator `large(layout.size())` chooses; the new layout is
        // valid (the caller guarantees `new_size` rounded up to the alignment does not overflow).
        unsafe {
            match (large(layout.size()), large(new_size)) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}
