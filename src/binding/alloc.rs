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
//!
//! Freed large blocks are also kept for reuse, up to `KEPT_BYTES` (`Kept`): glibc gives a freed
//! megabyte back to the kernel (it trims the top of the heap past twice its mmap threshold), and the
//! next one faulted in its pages again, 256 page faults per megabyte, a fifth of the CPU of 1 MiB
//! in + out JS tasks once the caller's GC freed results by scavenges (`js::young_gc_hint`). A block
//! of the same size and alignment comes back from `Kept` with its pages still mapped: 5.4k -> 6.2k
//! tasks/s there (3 alternating runs of each build, 3,000 tasks after 500 of warm-up), kernel time
//! per task halved. What is kept goes back to the system when an environment has no job pending
//! (`release_kept`), so an idle process holds none of it, and blocks freed later by a GC wait at
//! most until the next idle moment.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use mimalloc::MiMalloc;

/// Blocks of this size and more go to the system allocator.
const LARGE: usize = 256 * 1024;

pub(crate) struct Allocator;

fn large(size: usize) -> bool {
    size >= LARGE
}

/// At most this many bytes of freed large blocks are kept for reuse.
const KEPT_BYTES: usize = 16 * 1024 * 1024;
/// Slots for kept blocks: enough for `KEPT_BYTES` of the smallest large blocks.
const KEPT_SLOTS: usize = KEPT_BYTES / LARGE;

/// Freed large blocks kept for reuse: `(address, size, align)`, in a fixed array (the allocator must
/// not allocate under its own lock), and their total size.
struct Kept {
    blocks: [(usize, usize, usize); KEPT_SLOTS],
    len: usize,
    bytes: usize,
}

static KEPT: Mutex<Kept> = Mutex::new(Kept { blocks: [(0, 0, 0); KEPT_SLOTS], len: 0, bytes: 0 });
/// Whether anything is kept: lets `release_kept` skip the lock, on every settle that empties an
/// environment.
static ANY_KEPT: AtomicBool = AtomicBool::new(false);

fn kept() -> std::sync::MutexGuard<'static, Kept> {
    // Nothing under this lock can panic; a poisoned lock is used as it is.
    KEPT.lock().unwrap_or_else(|e| e.into_inner())
}

/// A kept block of exactly this layout, or null.
fn take_kept(layout: Layout) -> *mut u8 {
    if !ANY_KEPT.load(Ordering::Relaxed) {
        return std::ptr::null_mut();
    }
    let mut k = kept();
    let Some(i) = k.blocks[..k.len].iter().position(|&(_, size, align)| size == layout.size() && align == layout.align()) else {
        return std::ptr::null_mut();
    };
    let (address, size, _) = k.blocks[i];
    k.len -= 1;
    k.blocks[i] = k.blocks[k.len];
    k.bytes -= size;
    ANY_KEPT.store(k.len > 0, Ordering::Relaxed);
    address as *mut u8
}

/// Keeps a freed block if there is room; false if the caller must free it.
fn keep(ptr: *mut u8, layout: Layout) -> bool {
    let mut k = kept();
    if k.len == KEPT_SLOTS || k.bytes + layout.size() > KEPT_BYTES {
        return false;
    }
    let len = k.len;
    k.blocks[len] = (ptr as usize, layout.size(), layout.align());
    k.len += 1;
    k.bytes += layout.size();
    ANY_KEPT.store(true, Ordering::Relaxed);
    true
}

/// How many freed large blocks are kept now (for tests: `__test__/gc.test.js`).
pub(crate) fn kept_blocks() -> usize {
    kept().len
}

/// Gives every kept block back to the system allocator (called when an environment has no job
/// pending).
pub(crate) fn release_kept() {
    if !ANY_KEPT.load(Ordering::Relaxed) {
        return;
    }
    let mut blocks = [(0, 0, 0); KEPT_SLOTS];
    let len = {
        let mut k = kept();
        let len = k.len;
        blocks[..len].copy_from_slice(&k.blocks[..len]);
        k.len = 0;
        k.bytes = 0;
        ANY_KEPT.store(false, Ordering::Relaxed);
        len
    };
    for &(address, size, align) in &blocks[..len] {
        // SAFETY: each kept block came from `System.alloc` with exactly this size and alignment (a
        // valid layout then), and left the cache above, so it is freed once.
        unsafe { System.dealloc(address as *mut u8, Layout::from_size_align_unchecked(size, align)) };
    }
}

// SAFETY: every block is allocated and freed by the same allocator, chosen from its layout's size
// alone, which `dealloc` and `realloc` receive unchanged (GlobalAlloc's contract); a `realloc` that
// crosses the threshold moves the block between the two with a fresh allocation, a copy of the
// smaller size and a free. A kept block is a system block, handed out again only for its exact
// layout (as if freed and allocated anew), and freed to the system at last.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees (a non-zero size).
        unsafe {
            if large(layout.size()) {
                let kept = take_kept(layout);
                if kept.is_null() {
                    System.alloc(layout)
                } else {
                    kept
                }
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
                if !keep(ptr, layout) {
                    System.dealloc(ptr, layout)
                }
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
