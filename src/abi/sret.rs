//! Calls in both directions whose C++ return type is a class returned in memory
//! (`std::string`, `ConstantSP`: non-trivial copy constructor and destructor), by the
//! Itanium C++ ABI of this target. The caller reserves the object and passes its address:
//! on x86_64 as a hidden first argument (`this` and the others move one register down);
//! on AArch64 in register x8, the other arguments unchanged. Rust's own C ABI cannot express
//! the AArch64 case for an 8-byte object, so two small assembly pieces do it:
//! - [`call`]: the plugin calls a server method returning a class by value;
//! - [`entry_shim!`](crate::entry_shim): the server calls a plugin function
//!   `ConstantSP f(Heap*, vector<ConstantSP>&)`.
//!
//! Each is a register shuffle and a tail branch: it is never on the stack while the callee
//! runs, so an exception the callee throws unwinds straight from the callee to the caller.
use std::ffi::c_void;

/// Calls the C++ function `f` as `ret = f(this, a1, a2)`, where `f` returns a class by
/// value, constructed at `ret`. `a1`, `a2` are integer or pointer arguments (an `int`
/// passed as its sign-extended value); a function taking fewer ignores the rest.
///
/// # Safety
/// `f` must be a function of this shape whose result fits at `ret` (suitably aligned), and
/// `this`, `a1`, `a2` the arguments it expects.
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe fn call(
    f: *const c_void,
    ret: *mut c_void,
    this: *const c_void,
    a1: usize,
    a2: usize,
) {
    type F = unsafe extern "C-unwind" fn(*mut c_void, *const c_void, usize, usize);
    // SAFETY: System V x86_64: the hidden return pointer is the first integer argument,
    // then `this`, then the arguments; extra integer registers are ignored by a callee that
    // takes fewer. The callee is as the caller promised.
    unsafe { std::mem::transmute::<*const c_void, F>(f)(ret, this, a1, a2) }
}

#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn call(
    f: *const c_void,
    ret: *mut c_void,
    this: *const c_void,
    a1: usize,
    a2: usize,
) {
    // SAFETY: the trampoline moves `ret` into x8 (the AArch64 indirect result register),
    // the arguments down into x0..x2 and branches to `f`, which returns to our caller.
    unsafe { sret_trampoline(f, ret, this, a1, a2) }
}

/// x0 = f, x1 = ret, x2 = this, x3 = a1, x4 = a2 -> x8 = ret, x0 = this, x1 = a1, x2 = a2.
#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
unsafe extern "C-unwind" fn sret_trampoline(
    _f: *const c_void,
    _ret: *mut c_void,
    _this: *const c_void,
    _a1: usize,
    _a2: usize,
) {
    core::arch::naked_asm!(
        "mov x16, x0",
        "mov x8, x1",
        "mov x0, x2",
        "mov x1, x3",
        "mov x2, x4",
        "br x16",
    )
}

/// Defines the exported symbol `$symbol` with the server's calling convention for
/// `ConstantSP f(Heap*, vector<ConstantSP>&)`, forwarding to `$imp`, an
/// `extern "C-unwind" fn(ret, heap, args) -> ret` (the x86_64 order).
#[cfg(target_arch = "x86_64")]
#[macro_export]
macro_rules! entry_shim {
    ($symbol:ident, $imp:path) => {
        /// # Safety
        /// Called only by the DolphinDB server, with its return slot and arguments.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $symbol(
            ret: $crate::abi::ReturnSlot,
            heap: *mut ::std::ffi::c_void,
            args: *const $crate::abi::ArgVector,
        ) -> $crate::abi::ReturnSlot {
            // SAFETY: the server's hidden return slot, heap and arguments, passed on.
            unsafe { $imp(ret, heap, args) }
        }
    };
}

/// AArch64: x8 = ret, x0 = heap, x1 = args -> x0 = ret, x1 = heap, x2 = args.
#[cfg(target_arch = "aarch64")]
#[macro_export]
macro_rules! entry_shim {
    ($symbol:ident, $imp:path) => {
        /// Called only by the DolphinDB server (x8 = return slot, x0 = heap, x1 = args).
        #[no_mangle]
        #[unsafe(naked)]
        pub unsafe extern "C-unwind" fn $symbol() {
            ::core::arch::naked_asm!(
                "mov x2, x1",
                "mov x1, x0",
                "mov x0, x8",
                "b {imp}",
                imp = sym $imp,
            )
        }
    };
}
