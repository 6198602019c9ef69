//! Calling server code that may throw a C++ exception. Rust cannot catch one: a foreign
//! exception reaching `catch_unwind` aborts the process, i.e. the server. So the call
//! goes through `ddbhc_guarded`, a small assembly function shaped like what g++ emits for
//! `try { f(ctx); } catch (...) { ... }`: a call-site table (LSDA) with a catch-all
//! clause, and the C++ personality routine (libstdc++'s `__gxx_personality_v0`, reached
//! through a forwarder here, so nothing is linked at build time). Its landing pad calls
//! `__cxa_begin_catch`, hands the caught object to Rust (which copies its message), and
//! `__cxa_end_catch`, which frees it. The exception never travels further.
//!
//! Used where the server may legitimately refuse: `writeLog` throws for a session that is
//! not logged in.
use super::cxx::Cxx;
use super::server::Server;
use std::ffi::{c_char, c_int, c_void, CStr};

pub(crate) type BeginCatchFn = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
pub(crate) type EndCatchFn = unsafe extern "C" fn();
pub(crate) type CurrentTypeFn = unsafe extern "C" fn() -> *const c_void;
type CaughtFn = unsafe extern "C" fn(*mut c_void, *const c_void, *mut c_void);
pub(crate) type PersonalityFn =
    unsafe extern "C" fn(c_int, c_int, u64, *mut c_void, *mut c_void) -> c_int;

/// What the landing pad calls, in this order (offsets 0, 8, 16, 24, 32 in the assembly).
#[repr(C)]
struct Hooks {
    begin_catch: BeginCatchFn,
    end_catch: EndCatchFn,
    current_type: CurrentTypeFn,
    caught: CaughtFn,
    state: *mut c_void,
}

/// The caught exception, as far as Rust may read it.
struct Caught<'a> {
    server: &'a Server,
    message: String,
}

extern "C-unwind" {
    /// Calls `f(ctx)`; returns 0, or 1 when it threw (after `hooks.caught` saw it).
    fn ddbhc_guarded(
        f: unsafe extern "C-unwind" fn(*mut c_void),
        ctx: *mut c_void,
        hooks: *const Hooks,
    ) -> c_int;
}

/// `_URC_CONTINUE_UNWIND`: no handler here (used when libstdc++ is not loaded).
const URC_CONTINUE_UNWIND: c_int = 8;

/// The personality routine of `ddbhc_guarded`'s frame: libstdc++'s, found at run time.
unsafe extern "C" fn ddbhc_personality(
    version: c_int,
    actions: c_int,
    class: u64,
    exception: *mut c_void,
    context: *mut c_void,
) -> c_int {
    match Cxx::get().and_then(|c| c.personality()) {
        // SAFETY: called by the unwinder with its own arguments, forwarded unchanged to
        // the personality routine the frame's unwind information was written for.
        Some(f) => unsafe { f(version, actions, class, exception, context) },
        None => URC_CONTINUE_UNWIND,
    }
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl ddbhc_guarded",
    ".hidden ddbhc_guarded",
    ".type ddbhc_guarded, @function",
    "ddbhc_guarded:",
    ".Lddbhc_fb:",
    ".cfi_startproc",
    ".cfi_personality 0x9b, .Lddbhc_personality_ref",
    ".cfi_lsda 0x1b, .Lddbhc_lsda",
    "pushq %rbx",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset %rbx, -16",
    "pushq %r12",
    ".cfi_def_cfa_offset 24",
    ".cfi_offset %r12, -24",
    "subq $8, %rsp",
    ".cfi_def_cfa_offset 32",
    "movq %rdx, %rbx",
    "movq %rdi, %rax",
    "movq %rsi, %rdi",
    ".Lddbhc_b0:",
    "call *%rax",
    ".Lddbhc_e0:",
    "xorl %eax, %eax",
    ".Lddbhc_out:",
    "addq $8, %rsp",
    ".cfi_remember_state",
    ".cfi_def_cfa_offset 24",
    "popq %r12",
    ".cfi_def_cfa_offset 16",
    "popq %rbx",
    ".cfi_def_cfa_offset 8",
    "ret",
    ".Lddbhc_pad:",
    ".cfi_restore_state",
    ".Lddbhc_b1:",
    "movq %rax, %rdi",
    "call *0(%rbx)",
    "movq %rax, %r12",
    "call *16(%rbx)",
    "movq %r12, %rdi",
    "movq %rax, %rsi",
    "movq 32(%rbx), %rdx",
    "call *24(%rbx)",
    "call *8(%rbx)",
    ".Lddbhc_e1:",
    "movl $1, %eax",
    "jmp .Lddbhc_out",
    ".cfi_endproc",
    ".Lddbhc_fe:",
    ".size ddbhc_guarded, .Lddbhc_fe - ddbhc_guarded",
    // The call-site table: the call of f lands at the pad with action 1 (catch all);
    // the pad's own calls have no handler.
    ".section .gcc_except_table,\"a\",@progbits",
    ".p2align 2",
    ".Lddbhc_lsda:",
    ".byte 0xff",
    ".byte 0x9b",
    ".uleb128 .Lddbhc_tt - .Lddbhc_ttd",
    ".Lddbhc_ttd:",
    ".byte 0x1",
    ".uleb128 .Lddbhc_cse - .Lddbhc_csb",
    ".Lddbhc_csb:",
    ".uleb128 .Lddbhc_b0 - .Lddbhc_fb",
    ".uleb128 .Lddbhc_e0 - .Lddbhc_b0",
    ".uleb128 .Lddbhc_pad - .Lddbhc_fb",
    ".uleb128 0x1",
    ".uleb128 .Lddbhc_b1 - .Lddbhc_fb",
    ".uleb128 .Lddbhc_e1 - .Lddbhc_b1",
    ".uleb128 0",
    ".uleb128 0",
    ".Lddbhc_cse:",
    ".byte 0x1",
    ".byte 0",
    ".p2align 2",
    ".long 0",
    ".Lddbhc_tt:",
    ".section .data.rel.local.ddbhc,\"aw\",@progbits",
    ".p2align 3",
    ".Lddbhc_personality_ref:",
    ".quad {personality}",
    ".text",
    personality = sym ddbhc_personality,
    options(att_syntax)
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".p2align 2",
    ".globl ddbhc_guarded",
    ".hidden ddbhc_guarded",
    ".type ddbhc_guarded, %function",
    "ddbhc_guarded:",
    ".Lddbhc_fb:",
    ".cfi_startproc",
    ".cfi_personality 0x9b, .Lddbhc_personality_ref",
    ".cfi_lsda 0x1b, .Lddbhc_lsda",
    "stp x29, x30, [sp, -32]!",
    ".cfi_def_cfa_offset 32",
    ".cfi_offset 29, -32",
    ".cfi_offset 30, -24",
    "mov x29, sp",
    "stp x19, x20, [sp, 16]",
    ".cfi_offset 19, -16",
    ".cfi_offset 20, -8",
    "mov x3, x0",
    "mov x0, x1",
    "mov x19, x2",
    ".Lddbhc_b0:",
    "blr x3",
    ".Lddbhc_e0:",
    "mov w0, 0",
    ".Lddbhc_out:",
    "ldp x19, x20, [sp, 16]",
    "ldp x29, x30, [sp], 32",
    ".cfi_remember_state",
    ".cfi_restore 30",
    ".cfi_restore 29",
    ".cfi_restore 20",
    ".cfi_restore 19",
    ".cfi_def_cfa_offset 0",
    "ret",
    ".Lddbhc_pad:",
    ".cfi_restore_state",
    ".Lddbhc_b1:",
    "ldr x3, [x19, 0]",
    "blr x3",
    "mov x20, x0",
    "ldr x3, [x19, 16]",
    "blr x3",
    "mov x1, x0",
    "mov x0, x20",
    "ldr x2, [x19, 32]",
    "ldr x3, [x19, 24]",
    "blr x3",
    "ldr x3, [x19, 8]",
    "blr x3",
    ".Lddbhc_e1:",
    "mov w0, 1",
    "b .Lddbhc_out",
    ".cfi_endproc",
    ".Lddbhc_fe:",
    ".size ddbhc_guarded, .Lddbhc_fe - ddbhc_guarded",
    ".section .gcc_except_table,\"a\",@progbits",
    ".p2align 2",
    ".Lddbhc_lsda:",
    ".byte 0xff",
    ".byte 0x9b",
    ".uleb128 .Lddbhc_tt - .Lddbhc_ttd",
    ".Lddbhc_ttd:",
    ".byte 0x1",
    ".uleb128 .Lddbhc_cse - .Lddbhc_csb",
    ".Lddbhc_csb:",
    ".uleb128 .Lddbhc_b0 - .Lddbhc_fb",
    ".uleb128 .Lddbhc_e0 - .Lddbhc_b0",
    ".uleb128 .Lddbhc_pad - .Lddbhc_fb",
    ".uleb128 0x1",
    ".uleb128 .Lddbhc_b1 - .Lddbhc_fb",
    ".uleb128 .Lddbhc_e1 - .Lddbhc_b1",
    ".uleb128 0",
    ".uleb128 0",
    ".Lddbhc_cse:",
    ".byte 0x1",
    ".byte 0",
    ".p2align 2",
    ".word 0",
    ".Lddbhc_tt:",
    ".section .data.rel.local.ddbhc,\"aw\",@progbits",
    ".p2align 3",
    ".Lddbhc_personality_ref:",
    ".xword {personality}",
    ".text",
    personality = sym ddbhc_personality,
);

/// Copies what a caught exception says, while it is still alive (before end_catch).
unsafe extern "C" fn caught(obj: *mut c_void, typeinfo: *const c_void, state: *mut c_void) {
    // SAFETY: `state` is the Caught that `guarded` passed for this very call.
    let state = unsafe { &mut *(state as *mut Caught<'_>) };
    let server = state.server;
    let name = if typeinfo.is_null() {
        String::from("?")
    } else {
        // SAFETY: a std::type_info is a vtable pointer and the mangled name's pointer.
        let p = unsafe { *(typeinfo as *const *const c_char).add(1) };
        // SAFETY: the mangled name is a NUL-terminated string in the binary's data.
        unsafe { CStr::from_ptr(p) }
            .to_string_lossy()
            .trim_start_matches('*')
            .to_string()
    };
    let known_server_type = [server.runtime_exception, server.illegal_argument]
        .iter()
        .flatten()
        .any(|t| t.typeinfo as *const c_void == typeinfo);
    // libstdc++'s exceptions (mangled `St...`) derive from std::exception, whose what()
    // is slot 2 of the vtable; the server's own put what() where the facts say.
    let what_slot = if known_server_type {
        Some(server.facts.slots.exception_what)
    } else if name.starts_with("St") {
        Some(2)
    } else {
        None
    };
    state.message = match what_slot {
        Some(slot) if !obj.is_null() => {
            type What = unsafe extern "C" fn(*const c_void) -> *const c_char;
            // SAFETY: obj is the caught object, of a class whose what() sits at `slot`.
            let text = unsafe {
                let vtable = *(obj as *const *const *const c_void);
                let what: What = std::mem::transmute(*vtable.add(slot));
                CStr::from_ptr(what(obj)).to_string_lossy().into_owned()
            };
            format!("{text} ({name})")
        }
        _ => format!("an exception of type {name}"),
    };
}

unsafe extern "C-unwind" fn run_closure<F: FnOnce()>(ctx: *mut c_void) {
    // SAFETY: ctx is the Option<F> that `guarded` owns for the duration of the call.
    let f = unsafe { &mut *(ctx as *mut Option<F>) };
    if let Some(f) = f.take() {
        f()
    }
}

/// Runs `f`, which calls into the server; a C++ exception it throws is caught and its
/// message returned as Err. `f` must not panic: the catch-all clause here would also
/// match a Rust panic (a foreign exception to the C++ personality), and reading it as a
/// C++ exception is undefined. Every `f` given is a single call of a server function.
pub(crate) fn guarded<F: FnOnce()>(server: &Server, f: F) -> Result<(), String> {
    let cxx = server.cxx;
    let Some((begin_catch, end_catch, current_type)) = cxx.catch_functions() else {
        return Err("the C++ runtime lacks __cxa_begin_catch".into());
    };
    let mut state = Caught {
        server,
        message: String::new(),
    };
    let hooks = Hooks {
        begin_catch,
        end_catch,
        current_type,
        caught,
        state: (&mut state as *mut Caught<'_>).cast(),
    };
    let mut closure = Some(f);
    // SAFETY: ddbhc_guarded calls run_closure::<F>(&mut closure) once and returns; the
    // hooks point to live functions of the C++ runtime and to `state`, which outlives the
    // call.
    let threw = unsafe {
        ddbhc_guarded(
            run_closure::<F>,
            (&mut closure as *mut Option<F>).cast(),
            &hooks,
        )
    };
    if threw == 0 {
        Ok(())
    } else {
        Err(state.message)
    }
}
