use clap::Parser;

// Scanning allocates heavily (syntax trees, findings): mimalloc is markedly faster than the
// system allocator there, for Rust and for tree-sitter's C core alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    concord::pages::turn_off_huge_pages();
    // SAFETY: set before any other tree-sitter call, while only this thread runs; the four
    // functions are one allocator family and never return null (see below).
    unsafe { tree_sitter::set_allocator(Some(tree_sitter_allocator::ALLOCATOR)) };
    concord::cli::run(concord::cli::Cli::parse())
}

/// mimalloc for tree-sitter, which requires allocations never to return null: out of memory
/// aborts, as tree-sitter's own default does.
mod tree_sitter_allocator {
    use std::ffi::c_void;

    use libmimalloc_sys as mi;

    pub const ALLOCATOR: tree_sitter::Allocator = tree_sitter::Allocator { malloc, calloc, realloc, free };

    fn checked(pointer: *mut c_void, size: usize) -> *mut c_void {
        if pointer.is_null() && size != 0 {
            std::process::abort();
        }
        pointer
    }

    unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_malloc(size) }, size)
    }

    unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_calloc(count, size) }, count.saturating_mul(size))
    }

    unsafe extern "C" fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_realloc(pointer, size) }, size)
    }

    unsafe extern "C" fn free(pointer: *mut c_void) {
        unsafe { mi::mi_free(pointer) }
    }
}
