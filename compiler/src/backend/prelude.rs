//! The runtime support every module carries: the case heap, reading events, writing effects, building texts,
//! fibers and their scheduler, tasks with deadlines and escalation ladders, authorization, and the event
//! handlers behind the `proc_handle` export. Generated code (flows, type helpers) calls these functions; they
//! call back into generated code through the [`Hooks`].
//!
//! Everything here follows one rule that keeps the host's promise ("a rejected event changes nothing"): the
//! module works on a copy of the case, so it may reject at any point. It writes the rejection and returns;
//! the host throws the copy away.

use super::asm::*;
use super::layout::{self, actor, fiber, frame, header, record, run, step, task};
use super::module::{ModuleBuilder, global as g};
use proc_abi::{NO_ID, NO_TIME, abort, cancel_reason, effect, event, instance, reject, status};
use wasm_encoder::ValType;

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

/// The run-time error of arithmetic on whole numbers, durations and times whose result does not fit in 64 bits.
pub const TIME_OUT_OF_RANGE: &str =
    "a whole number, duration or time is out of range: the result does not fit in 64 bits";

/// Constants the support code is compiled with.
#[derive(Clone, Copy, Debug)]
pub struct Cx {
    /// Where case blobs are loaded.
    pub case_base: u32,
    /// Address of the static step table.
    pub steps_at: u32,
    /// Number of steps.
    pub nsteps: u32,
    /// Number of roles.
    pub nroles: u32,
    /// Type index of unit functions `(fiber) -> status`.
    pub unit_ty: u32,
    /// Type index of stage functions `(task, stage) -> alive`.
    pub stage_ty: u32,
    /// Type index of output decoders and encoders `(record) -> ()`.
    pub record_ty: u32,
    /// Address of the static empty text.
    pub empty_text: u32,
    /// Whether some ladder warns before its deadline (`before 1h notify …`): only then do tasks schedule warnings.
    pub warnings: bool,
    /// Whether some step expires (`expires after`): only then do tasks keep and check an expiry time.
    pub expiry: bool,
}

impl Cx {
    fn h(&self, offset: u32) -> E {
        u32c(self.case_base + offset)
    }

    /// The step table entry of the step id in `step_id`.
    fn step_entry(&self, step_id: E) -> E {
        add(u32c(self.steps_at), mul(step_id, u32c(step::SIZE)))
    }
}

/// Generated functions the support code calls.
#[derive(Clone, Copy, Debug)]
pub struct Hooks {
    /// `(process) -> i32`: builds the root frame from the event's parameters and starts the root fiber; 1 if
    /// there is no such process.
    pub start_process: FnId,
    /// `(signal) -> i32`: decodes the payload of a signal (a record pointer).
    pub decode_signal: FnId,
    /// `(action) -> i64`: decodes the result of an action.
    pub decode_action_result: FnId,
    /// `(process, frame)`: writes the process's parameters and the records of its own steps (queries).
    pub encode_data: FnId,
    /// `(stage) -> i32`: fires stage `k` of the case's own ladder (its process's `on breach`); 0 if there is none.
    pub case_stage: FnId,
    /// `(stage, from) -> i64`: when stage `k` of the case's own ladder fires, the one before it (or the breach, for
    /// the first) having fired at `from`; [`NO_TIME`] if there is no such stage. (A ladder counts one clock, so
    /// each stage's time is the one before plus the difference of their offsets.)
    pub case_stage_at: FnId,
}

macro_rules! runtime_fns {
    ($($field:ident: $name:literal ($($p:ident),*) -> ($($r:ident),*);)*) => {
        /// The support functions' ids.
        #[derive(Clone, Copy, Debug)]
        pub struct Rt {
            $(
                #[doc = $name]
                pub $field: FnId,
            )*
        }

        impl Rt {
            /// Declares every support function (after the imports).
            pub fn declare(mb: &mut ModuleBuilder) -> Rt {
                Rt {
                    $($field: mb.declare($name, &[$($p),*], &[$($r),*]),)*
                }
            }
        }
    };
}

/// The imported host functions.
#[derive(Clone, Copy, Debug)]
pub struct Imports {
    /// `calendar_add`.
    pub calendar_add: FnId,
    /// `calendar_between`.
    pub calendar_between: FnId,
    /// `calendar_is_open`.
    pub calendar_is_open: FnId,
    /// `calendar_next_open`.
    pub calendar_next_open: FnId,
    /// `manager_of`.
    pub manager_of: FnId,
}

impl Imports {
    /// Declares the imports (before any function).
    pub fn declare(mb: &mut ModuleBuilder) -> Imports {
        use proc_abi::imports as names;
        Imports {
            calendar_add: mb.import(names::CALENDAR_ADD, &[I32, I64, I64], &[I64]),
            calendar_between: mb.import(names::CALENDAR_BETWEEN, &[I32, I64, I64], &[I64]),
            calendar_is_open: mb.import(names::CALENDAR_IS_OPEN, &[I32, I64], &[I32]),
            calendar_next_open: mb.import(names::CALENDAR_NEXT_OPEN, &[I32, I64], &[I64]),
            manager_of: mb.import(names::MANAGER_OF, &[I32, I32, I32, I32], &[I32]),
        }
    }
}

runtime_fns! {
    alloc: "alloc" (I32) -> (I32);
    alloc_raw: "alloc_raw" (I32) -> (I32);
    copy: "copy" (I32, I32, I32) -> ();
    free: "free" (I32, I32) -> ();
    abort: "abort" (I32) -> ();
    fault: "fault" (I32) -> ();
    list_append: "list_append" (I32, I32, I32) -> ();
    list_remove: "list_remove" (I32, I32, I32) -> ();
    out_reserve: "out_reserve" (I32) -> (I32);
    out_u8: "out_u8" (I32) -> ();
    out_u32: "out_u32" (I32) -> ();
    out_i64: "out_i64" (I64) -> ();
    out_raw: "out_raw" (I32, I32) -> ();
    out_text: "out_text" (I32) -> ();
    effect: "effect" (I32) -> ();
    in_take: "in_take" (I32) -> (I32);
    in_u8: "in_u8" () -> (I32);
    in_u32: "in_u32" () -> (I32);
    in_i64: "in_i64" () -> (I64);
    in_text_ref: "in_text_ref" () -> (I32);
    in_text: "in_text" () -> (I32);
    in_actor: "in_actor" (I32) -> ();
    text_eq: "text_eq" (I32, I32) -> (I32);
    text_concat: "text_concat" (I32, I32) -> (I32);
    text_copy: "text_copy" (I32) -> (I32);
    text_drop: "text_drop" (I32) -> ();
    sb_begin: "sb_begin" () -> ();
    sb_reserve: "sb_reserve" (I32) -> (I32);
    sb_byte: "sb_byte" (I32) -> ();
    sb_raw: "sb_raw" (I32, I32) -> ();
    sb_text: "sb_text" (I32) -> ();
    sb_int: "sb_int" (I64) -> ();
    sb_pad: "sb_pad" (I32, I32) -> ();
    sb_date: "sb_date" (I64) -> ();
    sb_time: "sb_time" (I64) -> ();
    sb_duration: "sb_duration" (I64) -> ();
    sb_end: "sb_end" () -> (I32);
    fiber_new: "fiber_new" (I32, I32, I32, I32) -> (I32);
    fiber_remove: "fiber_remove" (I32) -> ();
    run: "run" () -> ();
    fiber_finished: "fiber_finished" (I32) -> ();
    join_one: "join_one" (I32) -> ();
    cancel_fiber: "cancel_fiber" (I32) -> ();
    cancel_children: "cancel_children" (I32) -> ();
    cancel_branch: "cancel_branch" (I32, I32, I32) -> (I32);
    proc_return: "proc_return" (I32, I32) -> (I32);
    fiber_wake: "fiber_wake" (I32) -> ();
    task_open: "task_open" (I32, I32, I32, I32, I32, I32, I32, I32, I32, I64, I64, I64, I32) -> (I32);
    task_find: "task_find" (I32) -> (I32);
    task_remove: "task_remove" (I32) -> ();
    task_cancel: "task_cancel" (I32, I32) -> ();
    task_withdraw: "task_withdraw" (I32, I32) -> ();
    task_breach: "task_breach" (I32) -> ();
    task_stage: "task_stage" (I32) -> ();
    task_warn_at: "task_warn_at" (I32, I32) -> (I64);
    task_pause: "task_pause" (I32) -> ();
    task_unpause: "task_unpause" (I32) -> ();
    cancel_step_tasks: "cancel_step_tasks" (I32, I32) -> ();
    eligible: "eligible" (I32, I32) -> (I32);
    rejection_detail: "rejection_detail" (I32, I32) -> (I32);
    is_manager: "is_manager" (I32, I32) -> (I32);
    has_id: "has_id" (I32, I32, I32) -> (I32);
    rec_done_by: "rec_done_by" (I32) -> (I32);
    due_within: "due_within" (I64, I64, I32) -> (I64);
    manager_lookup: "manager_lookup" (I32) -> (I32);
    reject: "reject" (I32, I32, I32, I32) -> (I32);
    advance_to: "advance_to" (I64) -> ();
    next_wakeup: "next_wakeup" () -> (I64);
    case_end: "case_end" (I32) -> ();
    ev_start: "ev_start" () -> (I32);
    ev_complete: "ev_complete" () -> (I32);
    ev_signal: "ev_signal" () -> (I32);
    ev_cancel: "ev_cancel" () -> (I32);
    ev_action: "ev_action" () -> (I32);
    ev_claim: "ev_claim" () -> (I32);
    ev_release: "ev_release" () -> (I32);
    ev_delegate: "ev_delegate" () -> (I32);
    ev_reassign: "ev_reassign" () -> (I32);
    ev_suspend: "ev_suspend" () -> (I32);
    ev_resume: "ev_resume" () -> (I32);
    ev_skip: "ev_skip" () -> (I32);
    ev_redo: "ev_redo" () -> (I32);
    ev_fault: "ev_fault" () -> (I32);
    ev_query: "ev_query" () -> (I32);
    handle: "proc_handle" (I32, I32, I32, I32, I32, I32, I64) -> (I32);
    abi_version: "proc_abi_version" () -> (I32);
    case_base: "proc_case_base" () -> (I32);
    abort_area: "proc_abort_area" () -> (I32);
}

const MS_PER_DAY: i64 = 86_400_000;

/// Appends `(list head, next pointer)` iteration: `for node in list { body }`.
fn each(f: &mut Func, node: Local, head: E, body: impl FnOnce(&mut Func, Label)) {
    f.set(node, ld32(head, 0));
    f.while_(ne(get(node), c32(0)), |f, exit| {
        body(f, exit);
        f.set(node, ld32(get(node), 0));
    });
}

/// Whether fiber `node` is blocked in an `await` of signal `sig`.
fn waits_for_signal(node: Local, sig: Local) -> E {
    and(
        eq(ld32(get(node), fiber::STATUS), c32(fiber::BLOCKED)),
        and(
            eq(ld32(get(node), fiber::WAIT), c32(fiber::WAIT_SIGNAL)),
            eq(ld32(get(node), fiber::WAIT_ARG), get(sig)),
        ),
    )
}

/// Zeroes `size` bytes (a multiple of 8) at `p` with plain stores: for small blocks this is much cheaper than
/// `memory.fill`, which engines implement as a call out of the module. Sixteen-byte stores, two per round, and
/// the last 32 (or 16) bytes as stores that may overlap the ones before: few rounds, so few interruption checks.
pub fn zero_small(f: &mut Func, p: Local, size: Local) {
    // The case header is zeroed with it.
    const _: () = assert!(header::SIZE % 8 == 0 && header::SIZE <= 512);
    let zero = || E::Op(wasm_encoder::Instruction::V128Const(0), Vec::new());
    let end = f.l32();
    let at = f.l32();
    f.set(end, add(get(p), get(size)));
    f.if_else(
        ge_u(get(size), c32(32)),
        |f| {
            f.set(at, get(p));
            f.while_(le_u(add(get(at), c32(32)), get(end)), |f, _| {
                f.st128(get(at), 0, zero());
                f.st128(get(at), 16, zero());
                f.set(at, add(get(at), c32(32)));
            });
            f.st128(sub(get(end), c32(32)), 0, zero());
            f.st128(sub(get(end), c32(16)), 0, zero());
        },
        |f| {
            f.if_else(
                ge_u(get(size), c32(16)),
                |f| {
                    f.st128(get(p), 0, zero());
                    f.st128(sub(get(end), c32(16)), 0, zero());
                },
                |f| {
                    f.if_(get(size), |f| f.st64(get(p), 0, c64(0)));
                },
            );
        },
    );
}

/// Sets `class` to the size class of `size` (a multiple of 8, at most 512): ceil(log2(size)) - 4, at least 0, so
/// 16 bytes is class 0 and 512 bytes class 5 (sizes of 8 give -1 and a size of 0 gives 28: both class 0). Returns
/// the address of that class's free list.
fn free_list(cx: &Cx, f: &mut Func, size: Local, class: Local) -> E {
    f.set(
        class,
        sub(
            c32(28),
            E::Op(
                wasm_encoder::Instruction::I32Clz,
                vec![sub(get(size), c32(1))],
            ),
        ),
    );
    f.if_(gt_u(get(class), c32(5)), |f| f.set(class, c32(0)));
    add(cx.h(header::FREE), shl(get(class), c32(2)))
}

fn abort_with(f: &mut Func, rt: &Rt, code: u32) {
    f.exec(rt.abort, vec![u32c(code)]);
}

impl Rt {
    /// Defines every support function.
    pub fn define(&self, mb: &mut ModuleBuilder, cx: &Cx, hooks: &Hooks, imports: &Imports) {
        let too_far = [
            mb.text(TIME_OUT_OF_RANGE),
            mb.text(
                "a time counted in a calendar's working time lies more than a hundred years ahead (or the \
                 calendar has no working time for ten years)",
            ),
        ];
        let defs: Vec<(FnId, Func)> = vec![
            (self.alloc, self.f_alloc()),
            (self.alloc_raw, self.f_alloc_raw(cx)),
            (self.copy, self.f_copy()),
            (self.free, self.f_free(cx)),
            (self.abort, self.f_abort()),
            (self.fault, self.f_fault()),
            (self.list_append, self.f_list_append()),
            (self.list_remove, self.f_list_remove()),
            (self.out_reserve, self.f_out_reserve()),
            (self.out_u8, self.f_out_scalar("out_u8", 1)),
            (self.out_u32, self.f_out_scalar("out_u32", 4)),
            (self.out_i64, self.f_out_scalar("out_i64", 8)),
            (self.out_raw, self.f_out_raw()),
            (self.out_text, self.f_out_text()),
            (self.effect, self.f_effect()),
            (self.in_take, self.f_in_take()),
            (self.in_u8, self.f_in_scalar("in_u8", 1)),
            (self.in_u32, self.f_in_scalar("in_u32", 4)),
            (self.in_i64, self.f_in_scalar("in_i64", 8)),
            (self.in_text_ref, self.f_in_text_ref()),
            (self.in_text, self.f_in_text()),
            (self.in_actor, self.f_in_actor()),
            (self.text_eq, self.f_text_eq()),
            (self.text_concat, self.f_text_concat()),
            (self.text_copy, self.f_text_copy()),
            (self.text_drop, self.f_text_drop()),
            (self.sb_begin, self.f_sb_begin()),
            (self.sb_reserve, self.f_sb_reserve()),
            (self.sb_byte, self.f_sb_byte()),
            (self.sb_raw, self.f_sb_raw()),
            (self.sb_text, self.f_sb_text()),
            (self.sb_int, self.f_sb_int()),
            (self.sb_pad, self.f_sb_pad()),
            (self.sb_date, self.f_sb_date()),
            (self.sb_time, self.f_sb_time()),
            (self.sb_duration, self.f_sb_duration(mb)),
            (self.sb_end, self.f_sb_end()),
            (self.fiber_new, self.f_fiber_new(cx)),
            (self.fiber_remove, self.f_fiber_remove(cx)),
            (self.run, self.f_run(cx)),
            (self.fiber_finished, self.f_fiber_finished()),
            (self.join_one, self.f_join_one()),
            (self.cancel_fiber, self.f_cancel_fiber()),
            (self.cancel_children, self.f_cancel_children(cx)),
            (self.cancel_branch, self.f_cancel_branch(cx)),
            (self.proc_return, self.f_proc_return()),
            (self.fiber_wake, self.f_fiber_wake()),
            (self.task_open, self.f_task_open(cx)),
            (self.task_find, self.f_task_find(cx)),
            (self.task_remove, self.f_task_remove(cx)),
            (self.task_cancel, self.f_task_cancel()),
            (self.task_withdraw, self.f_task_withdraw()),
            (self.task_breach, self.f_task_breach(cx)),
            (self.task_stage, self.f_task_stage(cx)),
            (self.task_warn_at, self.f_task_warn_at(cx, imports)),
            (self.task_pause, self.f_task_pause(cx, imports)),
            (self.task_unpause, self.f_task_unpause(cx, imports)),
            (self.cancel_step_tasks, self.f_cancel_step_tasks(cx)),
            (self.eligible, self.f_eligible(cx)),
            (self.rejection_detail, self.f_rejection_detail()),
            (self.is_manager, self.f_is_manager(cx)),
            (self.has_id, self.f_has_id()),
            (self.rec_done_by, self.f_rec_done_by()),
            (self.due_within, self.f_due_within(imports, too_far)),
            (self.manager_lookup, self.f_manager_lookup(cx, imports)),
            (self.reject, self.f_reject()),
            (self.advance_to, self.f_advance_to(cx, hooks)),
            (self.next_wakeup, self.f_next_wakeup(cx)),
            (self.case_end, self.f_case_end(cx)),
            (self.ev_start, self.f_ev_start(cx, hooks)),
            (self.ev_complete, self.f_ev_complete(cx, imports)),
            (self.ev_signal, self.f_ev_signal(cx, hooks)),
            (self.ev_cancel, self.f_ev_cancel()),
            (self.ev_action, self.f_ev_action(cx, hooks)),
            (self.ev_claim, self.f_ev_claim()),
            (self.ev_release, self.f_ev_release()),
            (self.ev_delegate, self.f_ev_delegate()),
            (self.ev_reassign, self.f_ev_reassign(cx)),
            (self.ev_suspend, self.f_ev_suspend()),
            (self.ev_resume, self.f_ev_resume()),
            (self.ev_skip, self.f_ev_skip(cx)),
            (self.ev_redo, self.f_ev_redo(cx)),
            (self.ev_fault, self.f_ev_fault()),
            (self.ev_query, self.f_ev_query(cx, hooks)),
            (self.handle, self.f_handle(cx, hooks)),
            (self.abi_version, {
                let mut f = Func::new("proc_abi_version", &[], &[I32]);
                f.emit(&u32c(proc_abi::ABI_VERSION));
                f
            }),
            (self.case_base, {
                let mut f = Func::new("proc_case_base", &[], &[I32]);
                f.emit(&u32c(cx.case_base));
                f
            }),
            (self.abort_area, {
                let mut f = Func::new("proc_abort_area", &[], &[I32]);
                f.emit(&u32c(layout::ABORT_AREA));
                f
            }),
        ];
        for (id, func) in defs {
            mb.define(id, func);
        }
        mb.export(proc_abi::exports::ABI_VERSION, self.abi_version);
        mb.export(proc_abi::exports::CASE_BASE, self.case_base);
        mb.export(proc_abi::exports::ABORT_AREA, self.abort_area);
        mb.export(proc_abi::exports::HANDLE, self.handle);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Memory

    /// Zeroed memory (for frames, fibers, tasks and step records, which rely on zero defaults): the requested
    /// bytes here, the rest of the block by `alloc_raw`.
    fn f_alloc(&self) -> Func {
        let mut f = Func::new("alloc", &[I32], &[I32]);
        let size = f.param(0);
        let p = f.l32();
        f.set(p, call(self.alloc_raw, vec![get(size)]));
        // From its last whole 8 bytes on, `alloc_raw` zeroed the block.
        f.set(size, and(get(size), c32(-8)));
        f.if_else(
            le_u(get(size), c32(512)),
            |f| zero_small(f, p, size),
            |f| f.zero(get(p), get(size)),
        );
        f.ret(get(p));
        f
    }

    /// Size classes of 16 … 512 bytes with free lists; bigger blocks are never freed. For values that are written in
    /// full (texts): only the block's bytes past the requested size (from its last whole 8 bytes on) are zeroed.
    /// Those are kept with the case, and fresh heap holds whatever an earlier event of another case left there: a
    /// snapshot must hold nothing but its own case, and the same events must give the same bytes.
    fn f_alloc_raw(&self, cx: &Cx) -> Func {
        let mut f = Func::new("alloc_raw", &[I32], &[I32]);
        let size = f.param(0);
        let wanted = f.l32();
        let class = f.l32();
        let head = f.l32();
        let p = f.l32();
        let tail = f.l32();
        f.set(wanted, get(size));
        f.set(size, and(add(get(size), c32(7)), c32(-8)));
        f.if_(le_u(get(size), c32(512)), |f| {
            let list = free_list(cx, f, size, class);
            f.set(head, list);
            f.set(size, shl(c32(16), get(class)));
            f.set(p, ld32(get(head), 0));
            f.if_(get(p), |f| f.st32(get(head), 0, ld32(get(p), 0)));
        });
        f.if_(eqz(get(p)), |f| {
            f.set(p, gget(g::HEAP_TOP));
            f.if_(gt_u(get(size), sub(gget(g::HEAP_LIMIT), get(p))), |f| {
                abort_with(f, self, abort::NEED_HEAP)
            });
            f.gset(g::HEAP_TOP, add(get(p), get(size)));
        });
        f.set(wanted, and(get(wanted), c32(-8)));
        f.set(tail, add(get(p), get(wanted)));
        f.set(size, sub(get(size), get(wanted)));
        zero_small(&mut f, tail, size);
        f.ret(get(p));
        f
    }

    /// `(dst, src, len)`: copies of texts and records with plain loads and stores, sixteen bytes at a time
    /// (engines implement `memory.copy` as a call out of the module, which costs more than copying an
    /// instruction text), long ones with `memory.copy`. Regions never overlap.
    fn f_copy(&self) -> Func {
        let mut f = Func::new("copy", &[I32, I32, I32], &[]);
        let (dst, src, len) = (f.param(0), f.param(1), f.param(2));
        // Up to 64 bytes (most texts) without a loop: a head and a tail that may overlap (the regions do not, so
        // bytes written twice get the same value). Loops would cost an interruption check per round.
        let at_end = |p: Local, back: i32| sub(add(get(p), get(len)), c32(back));
        f.if_(ge_u(get(len), c32(16)), |f| {
            f.if_(le_u(get(len), c32(32)), |f| {
                f.st128(get(dst), 0, ld128(get(src), 0));
                f.st128(at_end(dst, 16), 0, ld128(at_end(src, 16), 0));
                f.ret_void();
            });
            f.if_(le_u(get(len), c32(64)), |f| {
                f.st128(get(dst), 0, ld128(get(src), 0));
                f.st128(get(dst), 16, ld128(get(src), 16));
                f.st128(at_end(dst, 32), 0, ld128(at_end(src, 32), 0));
                f.st128(at_end(dst, 16), 0, ld128(at_end(src, 16), 0));
                f.ret_void();
            });
            f.if_(gt_u(get(len), c32(512)), |f| {
                f.copy(get(dst), get(src), get(len));
                f.ret_void();
            });
            f.while_(gt_u(get(len), c32(16)), |f, _| {
                f.st128(get(dst), 0, ld128(get(src), 0));
                f.set(dst, add(get(dst), c32(16)));
                f.set(src, add(get(src), c32(16)));
                f.set(len, sub(get(len), c32(16)));
            });
            f.st128(at_end(dst, 16), 0, ld128(at_end(src, 16), 0));
            f.ret_void();
        });
        f.if_(ge_u(get(len), c32(8)), |f| {
            f.st64(get(dst), 0, ld64(get(src), 0));
            f.st64(at_end(dst, 8), 0, ld64(at_end(src, 8), 0));
            f.ret_void();
        });
        f.if_(ge_u(get(len), c32(4)), |f| {
            f.st32(get(dst), 0, ld32(get(src), 0));
            f.st32(at_end(dst, 4), 0, ld32(at_end(src, 4), 0));
            f.ret_void();
        });
        f.while_(get(len), |f, _| {
            f.st8(get(dst), 0, ld8(get(src), 0));
            f.set(dst, add(get(dst), c32(1)));
            f.set(src, add(get(src), c32(1)));
            f.set(len, sub(get(len), c32(1)));
        });
        f
    }

    fn f_free(&self, cx: &Cx) -> Func {
        let mut f = Func::new("free", &[I32, I32], &[]);
        let (p, size) = (f.param(0), f.param(1));
        let class = f.l32();
        let head = f.l32();
        f.if_(eqz(get(p)), |f| f.ret_void());
        f.set(size, and(add(get(size), c32(7)), c32(-8)));
        f.if_(gt_u(get(size), c32(512)), |f| f.ret_void());
        let list = free_list(cx, &mut f, size, class);
        f.set(head, list);
        f.st32(get(p), 0, ld32(get(head), 0));
        f.st32(get(head), 0, get(p));
        f
    }

    fn f_abort(&self) -> Func {
        let mut f = Func::new("abort", &[I32], &[]);
        f.st32(u32c(layout::ABORT_AREA), 0, get(f.param(0)));
        f.st32(u32c(layout::ABORT_AREA), 4, c32(0));
        f.trap();
        f
    }

    /// Stops the event with a fault: the host then fails the instance with this message.
    fn f_fault(&self) -> Func {
        let mut f = Func::new("fault", &[I32], &[]);
        let msg = f.param(0);
        let len = f.l32();
        let max = u32::try_from(abort::AREA_SIZE).unwrap_or(1024) - 8;
        f.set(len, ld32(get(msg), 0));
        f.if_(gt_u(get(len), u32c(max)), |f| f.set(len, u32c(max)));
        f.st32(u32c(layout::ABORT_AREA), 0, u32c(abort::FAULT));
        f.st32(u32c(layout::ABORT_AREA), 4, get(len));
        f.copy(
            u32c(layout::ABORT_AREA + 8),
            add(get(msg), c32(4)),
            get(len),
        );
        f.trap();
        f
    }

    /// `(head address, tail address, node)`: appends a node whose first word is its `next` pointer.
    fn f_list_append(&self) -> Func {
        let mut f = Func::new("list_append", &[I32, I32, I32], &[]);
        let (head, tail, node) = (f.param(0), f.param(1), f.param(2));
        let last = f.l32();
        f.st32(get(node), 0, c32(0));
        f.set(last, ld32(get(tail), 0));
        f.if_else(
            eqz(get(last)),
            |f| f.st32(get(head), 0, get(node)),
            |f| f.st32(get(last), 0, get(node)),
        );
        f.st32(get(tail), 0, get(node));
        f
    }

    fn f_list_remove(&self) -> Func {
        let mut f = Func::new("list_remove", &[I32, I32, I32], &[]);
        let (head, tail, node) = (f.param(0), f.param(1), f.param(2));
        let prev = f.l32();
        let cur = f.l32();
        f.set(prev, c32(0));
        f.set(cur, ld32(get(head), 0));
        f.while_(ne(get(cur), c32(0)), |f, exit| {
            f.if_(eq(get(cur), get(node)), |f| {
                f.if_else(
                    eqz(get(prev)),
                    |f| f.st32(get(head), 0, ld32(get(node), 0)),
                    |f| f.st32(get(prev), 0, ld32(get(node), 0)),
                );
                f.if_(eq(ld32(get(tail), 0), get(node)), |f| {
                    f.st32(get(tail), 0, get(prev));
                });
                f.br(exit);
            });
            f.set(prev, get(cur));
            f.set(cur, ld32(get(cur), 0));
        });
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Output and input

    fn f_out_reserve(&self) -> Func {
        let mut f = Func::new("out_reserve", &[I32], &[I32]);
        let n = f.param(0);
        let p = f.l32();
        f.set(p, gget(g::OUT));
        f.if_(gt_u(get(n), sub(gget(g::OUT_END), get(p))), |f| {
            abort_with(f, self, abort::NEED_OUT);
        });
        f.gset(g::OUT, add(get(p), get(n)));
        f.ret(get(p));
        f
    }

    /// Writes a scalar; the bounds check is inlined (these are the most called functions of an event).
    fn f_out_scalar(&self, name: &str, width: u32) -> Func {
        let ty = if width == 8 { I64 } else { I32 };
        let mut f = Func::new(name, &[ty], &[]);
        let v = f.param(0);
        let p = f.l32();
        f.set(p, gget(g::OUT));
        f.if_(gt_u(u32c(width), sub(gget(g::OUT_END), get(p))), |f| {
            abort_with(f, self, abort::NEED_OUT);
        });
        match width {
            1 => f.st8(get(p), 0, get(v)),
            4 => f.st32(get(p), 0, get(v)),
            _ => f.st64(get(p), 0, get(v)),
        }
        f.gset(g::OUT, add(get(p), u32c(width)));
        f
    }

    fn f_out_raw(&self) -> Func {
        let mut f = Func::new("out_raw", &[I32, I32], &[]);
        let (p, len) = (f.param(0), f.param(1));
        f.exec(
            self.copy,
            vec![call(self.out_reserve, vec![get(len)]), get(p), get(len)],
        );
        f
    }

    fn f_out_text(&self) -> Func {
        let mut f = Func::new("out_text", &[I32], &[]);
        let t = f.param(0);
        f.if_(eqz(get(t)), |f| {
            f.exec(self.out_u32, vec![c32(0)]);
            f.ret_void();
        });
        f.exec(self.out_u32, vec![ld32(get(t), 0)]);
        f.exec(self.out_raw, vec![add(get(t), c32(4)), ld32(get(t), 0)]);
        f
    }

    fn f_effect(&self) -> Func {
        let mut f = Func::new("effect", &[I32], &[]);
        f.exec(self.out_u8, vec![get(f.param(0))]);
        f.gset(g::COUNT, add(gget(g::COUNT), c32(1)));
        f
    }

    fn f_in_take(&self) -> Func {
        let mut f = Func::new("in_take", &[I32], &[I32]);
        let n = f.param(0);
        let p = f.l32();
        f.set(p, gget(g::IN));
        f.if_(gt_u(get(n), sub(gget(g::IN_END), get(p))), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.gset(g::IN, add(get(p), get(n)));
        f.ret(get(p));
        f
    }

    fn f_in_scalar(&self, name: &str, width: u32) -> Func {
        let ty = if width == 8 { I64 } else { I32 };
        let mut f = Func::new(name, &[], &[ty]);
        let p = f.l32();
        f.set(p, gget(g::IN));
        f.if_(gt_u(u32c(width), sub(gget(g::IN_END), get(p))), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.gset(g::IN, add(get(p), u32c(width)));
        match width {
            1 => f.emit(&ld8(get(p), 0)),
            4 => f.emit(&ld32(get(p), 0)),
            _ => f.emit(&ld64(get(p), 0)),
        }
        f
    }

    /// A text in the event, used in place: `u32 length` + bytes is exactly a text object.
    fn f_in_text_ref(&self) -> Func {
        let mut f = Func::new("in_text_ref", &[], &[I32]);
        let p = f.l32();
        f.set(p, gget(g::IN));
        f.drop_value(call(self.in_take, vec![call(self.in_u32, vec![])]));
        f.ret(get(p));
        f
    }

    fn f_in_text(&self) -> Func {
        let mut f = Func::new("in_text", &[], &[I32]);
        f.emit(&call(self.text_copy, vec![call(self.in_text_ref, vec![])]));
        f
    }

    /// Reads `TEXT id, u32 n, n × u32 role, u32 m, m × u32 skill, u8 admin` into an actor record.
    fn f_in_actor(&self) -> Func {
        let mut f = Func::new("in_actor", &[I32], &[]);
        let dst = f.param(0);
        let n = f.l32();
        f.st32(get(dst), actor::ID, call(self.in_text_ref, vec![]));
        for (list, count) in [
            (actor::ROLES, actor::NROLES),
            (actor::SKILLS, actor::NSKILLS),
        ] {
            f.set(n, call(self.in_u32, vec![]));
            f.if_(
                gt_u(get(n), shr_u(sub(gget(g::IN_END), gget(g::IN)), c32(2))),
                |f| abort_with(f, self, abort::BAD_EVENT),
            );
            f.st32(get(dst), count, get(n));
            f.st32(
                get(dst),
                list,
                call(self.in_take, vec![shl(get(n), c32(2))]),
            );
        }
        f.st32(get(dst), actor::ADMIN, call(self.in_u8, vec![]));
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Texts

    fn f_text_eq(&self) -> Func {
        let mut f = Func::new("text_eq", &[I32, I32], &[I32]);
        let (a, b) = (f.param(0), f.param(1));
        let len = f.l32();
        let i = f.l32();
        f.if_(eq(get(a), get(b)), |f| f.ret(c32(1)));
        f.if_(eqz(get(a)), |f| f.ret(eqz(ld32(get(b), 0))));
        f.if_(eqz(get(b)), |f| f.ret(eqz(ld32(get(a), 0))));
        f.set(len, ld32(get(a), 0));
        f.if_(ne(get(len), ld32(get(b), 0)), |f| f.ret(c32(0)));
        f.set(i, c32(0));
        f.while_(lt_u(add(get(i), c32(8)), add(get(len), c32(1))), |f, _| {
            f.if_(
                ne64(ld64(add(get(a), get(i)), 4), ld64(add(get(b), get(i)), 4)),
                |f| f.ret(c32(0)),
            );
            f.set(i, add(get(i), c32(8)));
        });
        f.while_(lt_u(get(i), get(len)), |f, _| {
            f.if_(
                ne(ld8(add(get(a), get(i)), 4), ld8(add(get(b), get(i)), 4)),
                |f| f.ret(c32(0)),
            );
            f.set(i, add(get(i), c32(1)));
        });
        f.ret(c32(1));
        f
    }

    fn f_text_concat(&self) -> Func {
        let mut f = Func::new("text_concat", &[I32, I32], &[I32]);
        let (a, b) = (f.param(0), f.param(1));
        let (la, lb, p) = (f.l32(), f.l32(), f.l32());
        f.set(la, cond(I32, get(a), ld32(get(a), 0), c32(0)));
        f.set(lb, cond(I32, get(b), ld32(get(b), 0), c32(0)));
        f.set(
            p,
            call(self.alloc_raw, vec![add(add(get(la), get(lb)), c32(4))]),
        );
        f.st32(get(p), 0, add(get(la), get(lb)));
        f.if_(get(a), |f| {
            f.exec(
                self.copy,
                vec![add(get(p), c32(4)), add(get(a), c32(4)), get(la)],
            )
        });
        f.if_(get(b), |f| {
            f.exec(
                self.copy,
                vec![
                    add(add(get(p), c32(4)), get(la)),
                    add(get(b), c32(4)),
                    get(lb),
                ],
            );
        });
        f.ret(get(p));
        f
    }

    fn f_text_copy(&self) -> Func {
        let mut f = Func::new("text_copy", &[I32], &[I32]);
        let t = f.param(0);
        let (len, p) = (f.l32(), f.l32());
        f.if_(eqz(get(t)), |f| f.ret(c32(0)));
        f.set(len, add(ld32(get(t), 0), c32(4)));
        f.set(p, call(self.alloc_raw, vec![get(len)]));
        f.exec(self.copy, vec![get(p), get(t), get(len)]);
        f.ret(get(p));
        f
    }

    /// Gives back the heap of a text that `sb_end` built and that is still the last thing on the heap: a message
    /// that was written out and that nothing else holds. Any other text is left alone. Without it, every round of
    /// a loop that notifies would keep its message in the case.
    fn f_text_drop(&self) -> Func {
        let mut f = Func::new("text_drop", &[I32], &[]);
        let t = f.param(0);
        f.if_(eqz(get(t)), |f| f.ret_void());
        f.if_(
            eq(
                gget(g::HEAP_TOP),
                and(add(add(get(t), ld32(get(t), 0)), c32(4 + 7)), c32(-8)),
            ),
            |f| f.gset(g::HEAP_TOP, get(t)),
        );
        f
    }

    /// Starts building a text at the top of the heap (nothing else may allocate until `sb_end`).
    fn f_sb_begin(&self) -> Func {
        let mut f = Func::new("sb_begin", &[], &[]);
        f.if_(
            gt_u(c32(4), sub(gget(g::HEAP_LIMIT), gget(g::HEAP_TOP))),
            |f| abort_with(f, self, abort::NEED_HEAP),
        );
        f.gset(g::SB, add(gget(g::HEAP_TOP), c32(4)));
        f
    }

    fn f_sb_reserve(&self) -> Func {
        let mut f = Func::new("sb_reserve", &[I32], &[I32]);
        let n = f.param(0);
        let p = f.l32();
        f.set(p, gget(g::SB));
        f.if_(gt_u(get(n), sub(gget(g::HEAP_LIMIT), get(p))), |f| {
            abort_with(f, self, abort::NEED_HEAP);
        });
        f.gset(g::SB, add(get(p), get(n)));
        f.ret(get(p));
        f
    }

    fn f_sb_byte(&self) -> Func {
        let mut f = Func::new("sb_byte", &[I32], &[]);
        f.st8(call(self.sb_reserve, vec![c32(1)]), 0, get(f.param(0)));
        f
    }

    fn f_sb_raw(&self) -> Func {
        let mut f = Func::new("sb_raw", &[I32, I32], &[]);
        let (p, len) = (f.param(0), f.param(1));
        f.exec(
            self.copy,
            vec![call(self.sb_reserve, vec![get(len)]), get(p), get(len)],
        );
        f
    }

    fn f_sb_text(&self) -> Func {
        let mut f = Func::new("sb_text", &[I32], &[]);
        let t = f.param(0);
        f.if_(get(t), |f| {
            f.exec(self.sb_raw, vec![add(get(t), c32(4)), ld32(get(t), 0)]);
        });
        f
    }

    fn f_sb_int(&self) -> Func {
        let mut f = Func::new("sb_int", &[I64], &[]);
        let v = f.param(0);
        let i = f.l32();
        f.if_(lt64(get(v), c64(0)), |f| {
            f.exec(self.sb_byte, vec![c32(i32::from(b'-'))]);
            f.set(v, sub64(c64(0), get(v)));
        });
        f.set(i, c32(24));
        f.looping(|f, again| {
            f.set(i, sub(get(i), c32(1)));
            f.st8(
                add(u32c(layout::DIGITS), get(i)),
                0,
                add(c32(i32::from(b'0')), wrap(rem64_u(get(v), c64(10)))),
            );
            f.set(v, div64_u(get(v), c64(10)));
            f.br_if(again, ne64(get(v), c64(0)));
        });
        f.exec(
            self.sb_raw,
            vec![add(u32c(layout::DIGITS), get(i)), sub(c32(24), get(i))],
        );
        f
    }

    /// `(value, width)`: a non-negative number with leading zeros.
    fn f_sb_pad(&self) -> Func {
        let mut f = Func::new("sb_pad", &[I32, I32], &[]);
        let (v, width) = (f.param(0), f.param(1));
        let i = f.l32();
        f.set(i, get(width));
        f.while_(gt_s(get(i), c32(0)), |f, _| {
            f.set(i, sub(get(i), c32(1)));
            f.st8(
                add(u32c(layout::DIGITS), get(i)),
                0,
                add(c32(i32::from(b'0')), rem_u(get(v), c32(10))),
            );
            f.set(v, div_u(get(v), c32(10)));
        });
        f.exec(self.sb_raw, vec![u32c(layout::DIGITS), get(width)]);
        f
    }

    /// `2026-03-02` (the civil-from-days algorithm, as in `proc_abi::text::civil_from_days`).
    fn f_sb_date(&self) -> Func {
        let mut f = Func::new("sb_date", &[I64], &[]);
        let days = f.param(0);
        let (z, era, doe, yoe, y, doy, mp, d, m) = (
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
            f.l64(),
        );
        f.set(z, add64(get(days), c64(719_468)));
        f.set(
            era,
            div64(
                cond(
                    I64,
                    ge64(get(z), c64(0)),
                    get(z),
                    sub64(get(z), c64(146_096)),
                ),
                c64(146_097),
            ),
        );
        f.set(doe, sub64(get(z), mul64(get(era), c64(146_097))));
        f.set(
            yoe,
            div64(
                sub64(
                    add64(
                        sub64(get(doe), div64(get(doe), c64(1460))),
                        div64(get(doe), c64(36_524)),
                    ),
                    div64(get(doe), c64(146_096)),
                ),
                c64(365),
            ),
        );
        f.set(y, add64(get(yoe), mul64(get(era), c64(400))));
        f.set(
            doy,
            sub64(
                get(doe),
                sub64(
                    add64(mul64(c64(365), get(yoe)), div64(get(yoe), c64(4))),
                    div64(get(yoe), c64(100)),
                ),
            ),
        );
        f.set(mp, div64(add64(mul64(c64(5), get(doy)), c64(2)), c64(153)));
        f.set(
            d,
            add64(
                sub64(
                    get(doy),
                    div64(add64(mul64(c64(153), get(mp)), c64(2)), c64(5)),
                ),
                c64(1),
            ),
        );
        f.set(
            m,
            cond(
                I64,
                lt64(get(mp), c64(10)),
                add64(get(mp), c64(3)),
                sub64(get(mp), c64(9)),
            ),
        );
        f.if_(le64(get(m), c64(2)), |f| f.set(y, add64(get(y), c64(1))));
        f.if_else(
            and(ge64(get(y), c64(0)), le64(get(y), c64(9999))),
            |f| f.exec(self.sb_pad, vec![wrap(get(y)), c32(4)]),
            |f| f.exec(self.sb_int, vec![get(y)]),
        );
        f.exec(self.sb_byte, vec![c32(i32::from(b'-'))]);
        f.exec(self.sb_pad, vec![wrap(get(m)), c32(2)]);
        f.exec(self.sb_byte, vec![c32(i32::from(b'-'))]);
        f.exec(self.sb_pad, vec![wrap(get(d)), c32(2)]);
        f
    }

    /// `2026-03-02T09:00Z` (seconds and milliseconds only when not zero).
    fn f_sb_time(&self) -> Func {
        let mut f = Func::new("sb_time", &[I64], &[]);
        let t = f.param(0);
        let (days, rest) = (f.l64(), f.l64());
        let byte = |f: &mut Func, c: u8| f.exec(self.sb_byte, vec![c32(i32::from(c))]);
        f.set(days, div64(get(t), c64(MS_PER_DAY)));
        f.set(rest, sub64(get(t), mul64(get(days), c64(MS_PER_DAY))));
        f.if_(lt64(get(rest), c64(0)), |f| {
            f.set(days, sub64(get(days), c64(1)));
            f.set(rest, add64(get(rest), c64(MS_PER_DAY)));
        });
        f.exec(self.sb_date, vec![get(days)]);
        byte(&mut f, b'T');
        f.exec(
            self.sb_pad,
            vec![wrap(div64(get(rest), c64(3_600_000))), c32(2)],
        );
        byte(&mut f, b':');
        f.exec(
            self.sb_pad,
            vec![
                wrap(div64(rem64(get(rest), c64(3_600_000)), c64(60_000))),
                c32(2),
            ],
        );
        f.if_(ne64(rem64(get(rest), c64(60_000)), c64(0)), |f| {
            byte(f, b':');
            f.exec(
                self.sb_pad,
                vec![
                    wrap(div64(rem64(get(rest), c64(60_000)), c64(1000))),
                    c32(2),
                ],
            );
            f.if_(ne64(rem64(get(rest), c64(1000)), c64(0)), |f| {
                byte(f, b'.');
                f.exec(self.sb_pad, vec![wrap(rem64(get(rest), c64(1000))), c32(3)]);
            });
        });
        byte(&mut f, b'Z');
        f
    }

    /// `1h30m`, `2d`, `0s`, `-15m`.
    fn f_sb_duration(&self, mb: &mut ModuleBuilder) -> Func {
        let mut f = Func::new("sb_duration", &[I64], &[]);
        let v = f.param(0);
        let count = f.l64();
        let zero = mb.text("0s");
        f.if_(eqz64(get(v)), |f| {
            f.exec(self.sb_text, vec![u32c(zero)]);
            f.ret_void();
        });
        f.if_(lt64(get(v), c64(0)), |f| {
            f.exec(self.sb_byte, vec![c32(i32::from(b'-'))]);
            f.set(v, sub64(c64(0), get(v)));
        });
        for (unit, size) in [
            ("d", MS_PER_DAY),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ] {
            let text = mb.text(unit);
            f.set(count, div64_u(get(v), c64(size)));
            f.set(v, rem64_u(get(v), c64(size)));
            f.if_(ne64(get(count), c64(0)), |f| {
                f.exec(self.sb_int, vec![get(count)]);
                f.exec(self.sb_text, vec![u32c(text)]);
            });
        }
        f
    }

    fn f_sb_end(&self) -> Func {
        let mut f = Func::new("sb_end", &[], &[I32]);
        let (p, end) = (f.l32(), f.l32());
        f.set(p, gget(g::HEAP_TOP));
        f.st32(get(p), 0, sub(gget(g::SB), add(get(p), c32(4))));
        f.set(end, and(add(gget(g::SB), c32(7)), c32(-8)));
        f.if_(gt_u(get(end), gget(g::HEAP_LIMIT)), |f| {
            abort_with(f, self, abort::NEED_HEAP);
        });
        // The padding up to the next 8 bytes is kept with the case: zeroed (see `alloc_raw`). The last 8 bytes
        // (at or after the length, which is written) keep their first `SB - (end - 8)` bytes, 1 to 8.
        let last = f.l32();
        f.set(last, sub(get(end), c32(8)));
        f.st64(
            get(last),
            0,
            and64(
                ld64(get(last), 0),
                shr64_u(
                    c64(-1),
                    ext(shl(sub(c32(8), sub(gget(g::SB), get(last))), c32(3))),
                ),
            ),
        );
        f.gset(g::HEAP_TOP, get(end));
        f.ret(get(p));
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fibers

    /// `(unit, frame, parent, origin)`: a ready fiber at the start of `unit`.
    fn f_fiber_new(&self, cx: &Cx) -> Func {
        let mut f = Func::new("fiber_new", &[I32, I32, I32, I32], &[I32]);
        let (unit, fr, parent, origin) = (f.param(0), f.param(1), f.param(2), f.param(3));
        let fb = f.l32();
        f.set(fb, call(self.alloc, vec![u32c(fiber::SIZE)]));
        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
        f.st32(get(fb), fiber::UNIT, get(unit));
        f.st32(get(fb), fiber::FRAME, get(fr));
        f.st32(get(fb), fiber::PARENT, get(parent));
        f.st32(get(fb), fiber::ORIGIN, get(origin));
        f.st32(get(fb), fiber::SPAWN_FRAME, get(fr));
        f.st64(get(fb), fiber::WAKE, c64(NO_TIME));
        f.exec(
            self.list_append,
            vec![cx.h(header::FIBERS), cx.h(header::FIBERS_TAIL), get(fb)],
        );
        f.ret(get(fb));
        f
    }

    fn f_fiber_remove(&self, cx: &Cx) -> Func {
        let mut f = Func::new("fiber_remove", &[I32], &[]);
        let fb = f.param(0);
        f.exec(
            self.list_remove,
            vec![cx.h(header::FIBERS), cx.h(header::FIBERS_TAIL), get(fb)],
        );
        f.exec(self.free, vec![get(fb), u32c(fiber::SIZE)]);
        f
    }

    /// Runs ready fibers, oldest first, until none is ready or the instance has ended.
    ///
    /// When none is ready and a fiber ran since the last such pass (`POKE`), the reminder loops waiting for their
    /// next round (`WAIT_ROUND`) are woken to look at their `until` condition again: one that holds ends the loop
    /// at once (the step it names was completed by another branch), one that does not goes back to sleep without
    /// counting as something having happened (`QUIET`), so the passes end.
    fn f_run(&self, cx: &Cx) -> Func {
        let mut f = Func::new("run", &[], &[]);
        let fb = f.l32();
        let result = f.l32();
        // Whether the scan passed a loop waiting for its round: only then is a pass of wake-ups worth making.
        let rounds = f.l32();
        f.looping(|f, again| {
            f.if_(
                ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
                |f| {
                    f.gset(g::POKE, c32(0));
                    f.ret_void();
                },
            );
            f.set(fb, ld32(cx.h(header::FIBERS), 0));
            f.set(rounds, c32(0));
            f.block(|f, found| {
                f.looping(|f, scan| {
                    f.if_(eqz(get(fb)), |f| {
                        f.if_(eqz(and(gget(g::POKE), get(rounds))), |f| {
                            f.gset(g::POKE, c32(0));
                            f.ret_void();
                        });
                        f.gset(g::POKE, c32(0));
                        f.set(fb, ld32(cx.h(header::FIBERS), 0));
                        f.while_(ne(get(fb), c32(0)), |f, _| {
                            f.if_(
                                eq(ld32(get(fb), fiber::WAIT), c32(fiber::WAIT_ROUND)),
                                |f| {
                                    f.st64(get(fb), fiber::WAKE, c64(NO_TIME));
                                    f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
                                    f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
                                },
                            );
                            f.set(fb, ld32(get(fb), fiber::NEXT));
                        });
                        f.br(again);
                    });
                    f.br_if(found, eq(ld32(get(fb), fiber::STATUS), c32(fiber::READY)));
                    f.if_(
                        eq(ld32(get(fb), fiber::WAIT), c32(fiber::WAIT_ROUND)),
                        |f| {
                            f.set(rounds, c32(1));
                        },
                    );
                    f.set(fb, ld32(get(fb), fiber::NEXT));
                    f.br(scan);
                });
            });
            f.gset(g::QUIET, c32(0));
            f.call_indirect(cx.unit_ty, vec![get(fb)], ld32(get(fb), fiber::UNIT));
            f.set_top(result);
            f.if_(eqz(gget(g::QUIET)), |f| f.gset(g::POKE, c32(1)));
            f.if_(eq(get(result), c32(run::DONE)), |f| {
                f.exec(self.fiber_finished, vec![get(fb)]);
            });
            f.br(again);
        });
        f
    }

    fn f_fiber_finished(&self) -> Func {
        let mut f = Func::new("fiber_finished", &[I32], &[]);
        let fb = f.param(0);
        let parent = f.l32();
        f.set(parent, ld32(get(fb), fiber::PARENT));
        f.exec(self.fiber_remove, vec![get(fb)]);
        f.if_(get(parent), |f| f.exec(self.join_one, vec![get(parent)]));
        f
    }

    /// One branch of `parent` finished: continue the parent once enough have.
    fn f_join_one(&self) -> Func {
        let mut f = Func::new("join_one", &[I32], &[]);
        let p = f.param(0);
        let done = f.l32();
        f.set(done, add(ld32(get(p), fiber::JOIN_DONE), c32(1)));
        f.st32(get(p), fiber::JOIN_DONE, get(done));
        f.if_(
            and(
                ge_u(get(done), ld32(get(p), fiber::JOIN_NEEDED)),
                eq(ld32(get(p), fiber::WAIT), c32(fiber::WAIT_JOIN)),
            ),
            |f| {
                f.exec(self.cancel_children, vec![get(p)]);
                f.st32(get(p), fiber::WAIT, c32(fiber::WAIT_NONE));
                f.st32(get(p), fiber::STATUS, c32(fiber::READY));
            },
        );
        f
    }

    /// Cancels a fiber, its branches and the task it waits for.
    fn f_cancel_fiber(&self) -> Func {
        let mut f = Func::new("cancel_fiber", &[I32], &[]);
        let fb = f.param(0);
        f.exec(self.cancel_children, vec![get(fb)]);
        f.if_(eq(ld32(get(fb), fiber::WAIT), c32(fiber::WAIT_TASK)), |f| {
            f.exec(
                self.task_cancel,
                vec![
                    ld32(get(fb), fiber::WAIT_ARG),
                    c32(i32::from(cancel_reason::BRANCH_ENDED)),
                ],
            );
        });
        f.exec(self.fiber_remove, vec![get(fb)]);
        f
    }

    fn f_cancel_children(&self, cx: &Cx) -> Func {
        let mut f = Func::new("cancel_children", &[I32], &[]);
        let p = f.param(0);
        let fb = f.l32();
        f.looping(|f, again| {
            f.set(fb, ld32(cx.h(header::FIBERS), 0));
            f.while_(ne(get(fb), c32(0)), |f, _| {
                f.if_(eq(ld32(get(fb), fiber::PARENT), get(p)), |f| {
                    f.exec(self.cancel_fiber, vec![get(fb)]);
                    f.br(again);
                });
                f.set(fb, ld32(get(fb), fiber::NEXT));
            });
        });
        f
    }

    /// `(unit, frame, fiber)`: cancels the running branch `unit` started in `frame`; it counts as finished. Returns
    /// whether `fiber` (the one cancelling) still exists: when that satisfies the join of a `first` or `parallel N of`
    /// the join cancels its other branches, which may include the one cancelling (or one it runs inside).
    fn f_cancel_branch(&self, cx: &Cx) -> Func {
        let mut f = Func::new("cancel_branch", &[I32, I32, I32], &[I32]);
        let (unit, fr, me) = (f.param(0), f.param(1), f.param(2));
        let fb = f.l32();
        let parent = f.l32();
        f.looping(|f, again| {
            f.set(fb, ld32(cx.h(header::FIBERS), 0));
            f.while_(ne(get(fb), c32(0)), |f, _| {
                f.if_(
                    and(
                        eq(ld32(get(fb), fiber::ORIGIN), get(unit)),
                        and(
                            eq(ld32(get(fb), fiber::SPAWN_FRAME), get(fr)),
                            ne(ld32(get(fb), fiber::PARENT), c32(0)),
                        ),
                    ),
                    |f| {
                        f.set(parent, ld32(get(fb), fiber::PARENT));
                        f.exec(self.cancel_fiber, vec![get(fb)]);
                        f.exec(self.join_one, vec![get(parent)]);
                        f.br(again);
                    },
                );
                f.set(fb, ld32(get(fb), fiber::NEXT));
            });
        });
        // Cancelling allocates nothing, so a freed fiber's block cannot have become another fiber meanwhile.
        f.set(fb, ld32(cx.h(header::FIBERS), 0));
        f.while_(ne(get(fb), c32(0)), |f, _| {
            f.if_(eq(get(fb), get(me)), |f| f.ret(c32(1)));
            f.set(fb, ld32(get(fb), fiber::NEXT));
        });
        f.ret(c32(0));
        f
    }

    /// `(fiber, root frame)`: ends a procedure; its caller continues. Returns what the unit returns.
    fn f_proc_return(&self) -> Func {
        let mut f = Func::new("proc_return", &[I32, I32], &[I32]);
        let (fb, root) = (f.param(0), f.param(1));
        let owner = f.l32();
        f.set(owner, ld32(get(root), frame::OWNER));
        f.exec(self.cancel_children, vec![get(owner)]);
        f.st32(get(owner), fiber::UNIT, ld32(get(root), frame::CALLER_UNIT));
        f.st32(get(owner), fiber::PC, ld32(get(root), frame::CALLER_PC));
        f.st32(
            get(owner),
            fiber::FRAME,
            ld32(get(root), frame::CALLER_FRAME),
        );
        f.st32(get(owner), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(owner), fiber::STATUS, c32(fiber::READY));
        f.exec(self.free, vec![get(root), ld32(get(root), frame::SIZE)]);
        f.ret(cond(
            I32,
            eq(get(fb), get(owner)),
            c32(run::CONTINUE),
            c32(run::KILLED),
        ));
        f
    }

    /// A timer of a waiting fiber fired: a `wait` ends, or an `await … within` times out (giving `none`).
    fn f_fiber_wake(&self) -> Func {
        let mut f = Func::new("fiber_wake", &[I32], &[]);
        let fb = f.param(0);
        let dest = f.l32();
        f.if_(
            eq(ld32(get(fb), fiber::WAIT), c32(fiber::WAIT_SIGNAL)),
            |f| {
                f.set(dest, ld32(get(fb), fiber::DEST));
                f.if_(get(dest), |f| f.st64(get(dest), 0, c64(0)));
            },
        );
        f.st64(get(fb), fiber::WAKE, c64(NO_TIME));
        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Tasks

    /// `(fiber, step, record, frame, performer, role, person, basis, excluded, due, earliest, instruction)`.
    fn f_task_open(&self, cx: &Cx) -> Func {
        let mut f = Func::new(
            "task_open",
            &[
                I32, I32, I32, I32, I32, I32, I32, I32, I32, I64, I64, I64, I32,
            ],
            &[I32],
        );
        let fb = f.param(0);
        let st = f.param(1);
        let rec = f.param(2);
        let fr = f.param(3);
        let kind = f.param(4);
        let role = f.param(5);
        let person = f.param(6);
        let basis = f.param(7);
        let excluded = f.param(8);
        let due = f.param(9);
        let earliest = f.param(10);
        let expires = f.param(11);
        let instruction = f.param(12);
        let t = f.l32();
        let id = f.l32();
        let entry = f.l32();
        f.set(t, call(self.alloc, vec![u32c(task::SIZE)]));
        f.set(id, add(ld32(cx.h(header::NEXT_TASK), 0), c32(1)));
        f.st32(cx.h(header::NEXT_TASK), 0, get(id));
        f.st32(get(t), task::ID, get(id));
        f.st32(get(t), task::STEP, get(st));
        f.st32(get(t), task::STATUS, c32(task::OPEN));
        f.st32(get(t), task::FIBER, get(fb));
        f.st32(get(t), task::FRAME, get(fr));
        f.st32(get(t), task::RECORD, get(rec));
        f.st32(get(t), task::ROLE, get(role));
        f.st32(get(t), task::PERSON, get(person));
        f.st32(get(t), task::EXCLUDED, get(excluded));
        f.st32(get(t), task::BASIS, get(basis));
        f.st64(get(t), task::OPENED, gget(g::NOW));
        f.st64(get(t), task::DUE, get(due));
        f.st64(get(t), task::EARLIEST, get(earliest));
        f.st64(get(t), task::STAGE_AT, c64(NO_TIME));
        if cx.expiry {
            f.st64(get(t), task::EXPIRES, get(expires));
        }
        if cx.warnings {
            self.schedule_warning(&mut f, t, c32(0));
        }
        f.st32(get(t), task::INSTRUCTION, get(instruction));
        f.st32(get(t), task::PERFORMER, get(kind));
        f.exec(
            self.list_append,
            vec![cx.h(header::TASKS), cx.h(header::TASKS_TAIL), get(t)],
        );
        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_TASK));
        f.st32(get(fb), fiber::WAIT_ARG, get(t));
        f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
        f.set(entry, cx.step_entry(get(st)));
        // tag, task, step, performer, role: one reservation for the fixed-size part.
        let at = f.l32();
        f.set(at, call(self.out_reserve, vec![c32(14)]));
        f.gset(g::COUNT, add(gget(g::COUNT), c32(1)));
        f.st8(get(at), 0, c32(i32::from(effect::TASK_OPENED)));
        f.st32(get(at), 1, get(id));
        f.st32(get(at), 5, get(st));
        f.st8(get(at), 9, get(kind));
        f.st32(get(at), 10, get(role));
        f.exec(self.out_text, vec![get(person)]);
        f.exec(self.out_text, vec![get(basis)]);
        f.exec(self.out_text, vec![get(excluded)]);
        f.exec(self.out_u32, vec![ld32(get(entry), step::NSKILLS)]);
        f.exec(
            self.out_raw,
            vec![
                ld32(get(entry), step::SKILLS),
                shl(ld32(get(entry), step::NSKILLS), c32(2)),
            ],
        );
        f.exec(self.out_i64, vec![get(due)]);
        f.exec(self.out_i64, vec![get(earliest)]);
        f.exec(self.out_i64, vec![get(expires)]);
        f.exec(self.out_text, vec![get(instruction)]);
        f.ret(get(t));
        f
    }

    fn f_task_find(&self, cx: &Cx) -> Func {
        let mut f = Func::new("task_find", &[I32], &[I32]);
        let id = f.param(0);
        let t = f.l32();
        each(&mut f, t, cx.h(header::TASKS), |f, _| {
            f.if_(eq(ld32(get(t), task::ID), get(id)), |f| f.ret(get(t)));
        });
        f.ret(c32(0));
        f
    }

    fn f_task_remove(&self, cx: &Cx) -> Func {
        let mut f = Func::new("task_remove", &[I32], &[]);
        let t = f.param(0);
        f.exec(
            self.list_remove,
            vec![cx.h(header::TASKS), cx.h(header::TASKS_TAIL), get(t)],
        );
        f.exec(self.free, vec![get(t), u32c(task::SIZE)]);
        f
    }

    /// `(task, reason)`: closes a task without completing it (its fiber is dealt with by the caller).
    fn f_task_cancel(&self) -> Func {
        let mut f = Func::new("task_cancel", &[I32, I32], &[]);
        let (t, reason) = (f.param(0), f.param(1));
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_CANCELLED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_u8, vec![get(reason)]);
        f.exec(self.task_remove, vec![get(t)]);
        f
    }

    /// `(task, reason)`: the task is withdrawn and the flow continues: an escalation stage `cancel` (`breached` is
    /// set), or an expiry (`expired` is set; no breach).
    fn f_task_withdraw(&self) -> Func {
        let mut f = Func::new("task_withdraw", &[I32, I32], &[]);
        let (t, reason) = (f.param(0), f.param(1));
        let fb = f.l32();
        f.set(fb, ld32(get(t), task::FIBER));
        f.exec(self.task_cancel, vec![get(t), get(reason)]);
        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
        f
    }

    fn f_task_breach(&self, cx: &Cx) -> Func {
        let mut f = Func::new("task_breach", &[I32], &[]);
        let t = f.param(0);
        let entry = f.l32();
        let due = f.l64();
        f.set(due, ld64(get(t), task::DUE));
        f.st32(
            get(t),
            task::FLAGS,
            or(ld32(get(t), task::FLAGS), c32(task::BREACHED)),
        );
        f.st64(ld32(get(t), task::RECORD), record::BREACHED, c64(1));
        f.st64(get(t), task::BREACHED_AT, get(due));
        // From here on, the time the task has been on hold (see `task_unpause`).
        f.st64(get(t), task::REMAINING, c64(0));
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_BREACHED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_i64, vec![get(due)]);
        f.set(entry, cx.step_entry(ld32(get(t), task::STEP)));
        // The stages after the breach, from the first after the warnings (those of them still to fire are past,
        // as the deadline is; without warnings that is stage 0).
        let k = f.l32();
        f.set(k, ld32(get(t), task::STAGE));
        f.st64(get(t), task::STAGE_AT, c64(NO_TIME));
        f.while_(
            both(
                lt_u(get(k), ld32(get(entry), step::NSTAGES)),
                lt64(stage_offset(entry, get(k)), c64(0)),
            ),
            |f, _| f.set(k, add(get(k), c32(1))),
        );
        f.if_(lt_u(get(k), ld32(get(entry), step::NSTAGES)), |f| {
            f.st32(get(t), task::STAGE, get(k));
            f.st64(
                get(t),
                task::STAGE_AT,
                call(
                    self.due_within,
                    vec![
                        get(due),
                        stage_offset(entry, get(k)),
                        stage_calendar(entry, get(k)),
                    ],
                ),
            );
        });
        f
    }

    /// Schedules warning `k` of task `t` (none if stage `k` is no warning).
    fn schedule_warning(&self, f: &mut Func, t: Local, k: E) {
        f.st64(
            get(t),
            task::STAGE_AT,
            call(self.task_warn_at, vec![get(t), k]),
        );
    }

    /// `(task, k)`: when warning `k` of the task's ladder (`before D`, a negative offset) fires: once `D` of the
    /// deadline is left, on the deadline's own clock (the clock, or its calendar's working time), never before
    /// now. [`NO_TIME`] if stage `k` is no warning, or the task has no deadline (paused, or none).
    fn f_task_warn_at(&self, cx: &Cx, imports: &Imports) -> Func {
        let mut f = Func::new("task_warn_at", &[I32, I32], &[I64]);
        let (t, k) = (f.param(0), f.param(1));
        let entry = f.l32();
        let before = f.l64();
        let due = f.l64();
        let cal = f.l32();
        let left = f.l64();
        let at = f.l64();
        f.set(entry, cx.step_entry(ld32(get(t), task::STEP)));
        f.if_(ge_u(get(k), ld32(get(entry), step::NSTAGES)), |f| {
            f.ret(c64(NO_TIME));
        });
        f.set(before, sub64(c64(0), stage_offset(entry, get(k))));
        f.set(due, ld64(get(t), task::DUE));
        f.if_(
            or(le64(get(before), c64(0)), eq64(get(due), c64(NO_TIME))),
            |f| f.ret(c64(NO_TIME)),
        );
        f.set(cal, ld32(get(entry), step::CALENDAR));
        f.if_else(
            eq(get(cal), u32c(NO_ID)),
            |f| f.set(at, sub64(get(due), get(before))),
            |f| {
                f.set(
                    left,
                    call(
                        imports.calendar_between,
                        vec![get(cal), gget(g::NOW), get(due)],
                    ),
                );
                f.set(at, gget(g::NOW));
                f.if_(gt64(get(left), get(before)), |f| {
                    f.set(
                        at,
                        call(
                            self.due_within,
                            vec![gget(g::NOW), sub64(get(left), get(before)), get(cal)],
                        ),
                    );
                });
            },
        );
        f.if_(lt64(get(at), gget(g::NOW)), |f| f.set(at, gget(g::NOW)));
        f.ret(get(at));
        f
    }

    /// When stage `k` of task `t`'s ladder fires after the breach: its offset from the breach, plus the time the
    /// task has been on hold since (`REMAINING`), on the ladder's clock `cal`.
    fn stage_time(&self, t: Local, entry: Local, k: E, cal: E) -> E {
        call(
            self.due_within,
            vec![
                ld64(get(t), task::BREACHED_AT),
                add64(stage_offset(entry, k), ld64(get(t), task::REMAINING)),
                cal,
            ],
        )
    }

    /// Fires the task's next escalation stage and schedules the one after.
    fn f_task_stage(&self, cx: &Cx) -> Func {
        let mut f = Func::new("task_stage", &[I32], &[]);
        let t = f.param(0);
        let entry = f.l32();
        let k = f.l32();
        let alive = f.l32();
        f.set(entry, cx.step_entry(ld32(get(t), task::STEP)));
        f.set(k, ld32(get(t), task::STAGE));
        f.st64(get(t), task::STAGE_AT, c64(NO_TIME));
        f.call_indirect(
            cx.stage_ty,
            vec![get(t), get(k)],
            ld32(get(entry), step::STAGE_FN),
        );
        f.set_top(alive);
        f.if_(eqz(get(alive)), |f| f.ret_void());
        f.set(k, add(get(k), c32(1)));
        f.st32(get(t), task::STAGE, get(k));
        if cx.warnings {
            // Before the breach: the next warning, if any (the stages after the breach start at the breach).
            f.if_(not_breached(t), |f| {
                self.schedule_warning(f, t, get(k));
                f.ret_void();
            });
        }
        f.if_(lt_u(get(k), ld32(get(entry), step::NSTAGES)), |f| {
            f.st64(
                get(t),
                task::STAGE_AT,
                self.stage_time(t, entry, get(k), stage_calendar(entry, get(k))),
            );
        });
        f
    }

    /// Stops a task's deadline clock, remembering the (business) time left.
    fn f_task_pause(&self, cx: &Cx, imports: &Imports) -> Func {
        let mut f = Func::new("task_pause", &[I32], &[]);
        let t = f.param(0);
        let cal = f.l32();
        let due = f.l64();
        f.st64(get(t), task::PAUSED_AT, gget(g::NOW));
        // Past its deadline, the deadline stays as it was (missed) and the ladder waits: its next stage is
        // scheduled again at the resumption (`task_unpause`), later by the time on hold.
        f.if_(
            ne(and(ld32(get(t), task::FLAGS), c32(task::BREACHED)), c32(0)),
            |f| {
                f.st64(get(t), task::STAGE_AT, c64(NO_TIME));
                f.ret_void();
            },
        );
        f.set(due, ld64(get(t), task::DUE));
        f.set(
            cal,
            ld32(cx.step_entry(ld32(get(t), task::STEP)), step::CALENDAR),
        );
        f.if_else(
            eq64(get(due), c64(NO_TIME)),
            |f| f.st64(get(t), task::REMAINING, c64(NO_TIME)),
            |f| {
                f.if_else(
                    eq(get(cal), u32c(NO_ID)),
                    |f| f.st64(get(t), task::REMAINING, sub64(get(due), gget(g::NOW))),
                    |f| {
                        f.st64(
                            get(t),
                            task::REMAINING,
                            call(
                                imports.calendar_between,
                                vec![get(cal), gget(g::NOW), get(due)],
                            ),
                        );
                    },
                );
                f.if_(lt64(ld64(get(t), task::REMAINING), c64(0)), |f| {
                    f.st64(get(t), task::REMAINING, c64(0));
                });
            },
        );
        f.st64(get(t), task::DUE, c64(NO_TIME));
        if cx.warnings {
            // A warning waits with the deadline.
            f.if_(not_breached(t), |f| {
                f.st64(get(t), task::STAGE_AT, c64(NO_TIME));
            });
        }
        f
    }

    fn f_task_unpause(&self, cx: &Cx, imports: &Imports) -> Func {
        let mut f = Func::new("task_unpause", &[I32], &[]);
        let t = f.param(0);
        let cal = f.l32();
        let rest = f.l64();
        f.set(rest, ld64(get(t), task::REMAINING));
        f.set(
            cal,
            ld32(cx.step_entry(ld32(get(t), task::STEP)), step::CALENDAR),
        );
        // Past its deadline: the ladder goes on where it stood. Its stages still to come fire as much later as the
        // task was on hold, counted on the ladder's own clock (a ladder counts one: the calendar of its stages, or
        // none), so a stage in working time moves by the hold's working time. Since the breach, `REMAINING` holds
        // the total time on hold.
        f.if_(
            ne(and(ld32(get(t), task::FLAGS), c32(task::BREACHED)), c32(0)),
            |f| {
                let entry = f.l32();
                let k = f.l32();
                let stage_cal = f.l32();
                f.set(entry, cx.step_entry(ld32(get(t), task::STEP)));
                f.set(k, ld32(get(t), task::STAGE));
                f.if_(ge_u(get(k), ld32(get(entry), step::NSTAGES)), |f| {
                    f.ret_void()
                });
                f.set(stage_cal, stage_calendar(entry, get(k)));
                f.if_else(
                    eq(get(stage_cal), u32c(NO_ID)),
                    |f| {
                        f.st64(
                            get(t),
                            task::REMAINING,
                            add64(
                                get(rest),
                                sub64(gget(g::NOW), ld64(get(t), task::PAUSED_AT)),
                            ),
                        );
                    },
                    |f| {
                        f.st64(
                            get(t),
                            task::REMAINING,
                            add64(
                                get(rest),
                                call(
                                    imports.calendar_between,
                                    vec![
                                        get(stage_cal),
                                        ld64(get(t), task::PAUSED_AT),
                                        gget(g::NOW),
                                    ],
                                ),
                            ),
                        );
                    },
                );
                f.st64(
                    get(t),
                    task::STAGE_AT,
                    self.stage_time(t, entry, get(k), get(stage_cal)),
                );
                f.ret_void();
            },
        );
        f.if_(eq64(get(rest), c64(NO_TIME)), |f| f.ret_void());
        f.st64(
            get(t),
            task::DUE,
            call(self.due_within, vec![gget(g::NOW), get(rest), get(cal)]),
        );
        if cx.warnings {
            f.if_(not_breached(t), |f| {
                self.schedule_warning(f, t, ld32(get(t), task::STAGE));
            });
        }
        f
    }

    /// `(step, frame)`: cancels the step's open tasks in `frame`; their fibers continue.
    fn f_cancel_step_tasks(&self, cx: &Cx) -> Func {
        let mut f = Func::new("cancel_step_tasks", &[I32, I32], &[]);
        let (st, fr) = (f.param(0), f.param(1));
        let t = f.l32();
        let fb = f.l32();
        f.looping(|f, again| {
            each(f, t, cx.h(header::TASKS), |f, _| {
                f.if_(
                    and(
                        eq(ld32(get(t), task::STEP), get(st)),
                        eq(ld32(get(t), task::FRAME), get(fr)),
                    ),
                    |f| {
                        f.set(fb, ld32(get(t), task::FIBER));
                        f.exec(
                            self.task_cancel,
                            vec![get(t), c32(i32::from(cancel_reason::CANCEL_STATEMENT))],
                        );
                        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
                        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
                        f.br(again);
                    },
                );
            });
        });
        f
    }

    /// `(task, actor)`: 0 if the actor may perform the task, else a rejection code (id in `REJECT_ARG`).
    fn f_eligible(&self, cx: &Cx) -> Func {
        let mut f = Func::new("eligible", &[I32, I32], &[I32]);
        let (t, a) = (f.param(0), f.param(1));
        let id = f.l32();
        let other = f.l32();
        let entry = f.l32();
        let i = f.l32();
        let skill = f.l32();
        f.set(id, ld32(get(a), actor::ID));
        f.gset(g::REJECT_ARG, u32c(NO_ID));
        f.set(other, ld32(get(t), task::CLAIMED));
        f.if_(
            both(
                ne(get(other), c32(0)),
                eqz(call(self.text_eq, vec![get(other), get(id)])),
            ),
            |f| f.ret(u32c(reject::CLAIMED_BY_OTHER)),
        );
        f.set(other, ld32(get(t), task::PERSON));
        f.if_(
            both(
                ne(get(other), c32(0)),
                eqz(call(self.text_eq, vec![get(other), get(id)])),
            ),
            |f| f.ret(u32c(reject::NOT_THE_PERSON)),
        );
        f.if_(
            both(
                ne(ld32(get(t), task::ROLE), u32c(NO_ID)),
                eqz(call(
                    self.has_id,
                    vec![
                        ld32(get(a), actor::ROLES),
                        ld32(get(a), actor::NROLES),
                        ld32(get(t), task::ROLE),
                    ],
                )),
            ),
            |f| {
                f.gset(g::REJECT_ARG, ld32(get(t), task::ROLE));
                f.ret(u32c(reject::NOT_IN_ROLE));
            },
        );
        f.if_(
            eqz(and(ld32(get(t), task::FLAGS), c32(task::REASSIGNED))),
            |f| {
                f.set(entry, cx.step_entry(ld32(get(t), task::STEP)));
                f.set(i, c32(0));
                f.while_(lt_u(get(i), ld32(get(entry), step::NSKILLS)), |f, _| {
                    f.set(
                        skill,
                        ld32(add(ld32(get(entry), step::SKILLS), shl(get(i), c32(2))), 0),
                    );
                    f.if_(
                        eqz(call(
                            self.has_id,
                            vec![
                                ld32(get(a), actor::SKILLS),
                                ld32(get(a), actor::NSKILLS),
                                get(skill),
                            ],
                        )),
                        |f| {
                            f.gset(g::REJECT_ARG, get(skill));
                            f.ret(u32c(reject::MISSING_SKILL));
                        },
                    );
                    f.set(i, add(get(i), c32(1)));
                });
            },
        );
        f.set(other, ld32(get(t), task::EXCLUDED));
        f.if_(
            both(
                ne(get(other), c32(0)),
                call(self.text_eq, vec![get(other), get(id)]),
            ),
            |f| f.ret(u32c(reject::FOUR_EYES)),
        );
        f.ret(c32(0));
        f
    }

    /// `(code, task)`: the person a rejection names (claimant, the one person, the excluded person), or 0.
    fn f_rejection_detail(&self) -> Func {
        let mut f = Func::new("rejection_detail", &[I32, I32], &[I32]);
        let (code, t) = (f.param(0), f.param(1));
        f.if_(eq(get(code), u32c(reject::CLAIMED_BY_OTHER)), |f| {
            f.ret(ld32(get(t), task::CLAIMED));
        });
        f.if_(eq(get(code), u32c(reject::NOT_THE_PERSON)), |f| {
            f.ret(ld32(get(t), task::PERSON));
        });
        f.if_(eq(get(code), u32c(reject::FOUR_EYES)), |f| {
            f.ret(ld32(get(t), task::EXCLUDED));
        });
        f.ret(c32(0));
        f
    }

    /// `(step, actor)`: 1 if the actor may manage the step's tasks (an admin, or holding a role of its ladder).
    fn f_is_manager(&self, cx: &Cx) -> Func {
        let mut f = Func::new("is_manager", &[I32, I32], &[I32]);
        let (st, a) = (f.param(0), f.param(1));
        let entry = f.l32();
        let i = f.l32();
        f.if_(ld32(get(a), actor::ADMIN), |f| f.ret(c32(1)));
        f.set(entry, cx.step_entry(get(st)));
        f.set(i, c32(0));
        f.while_(lt_u(get(i), ld32(get(entry), step::NMANAGERS)), |f, _| {
            f.if_(
                call(
                    self.has_id,
                    vec![
                        ld32(get(a), actor::ROLES),
                        ld32(get(a), actor::NROLES),
                        ld32(
                            add(ld32(get(entry), step::MANAGERS), shl(get(i), c32(2))),
                            0,
                        ),
                    ],
                ),
                |f| f.ret(c32(1)),
            );
            f.set(i, add(get(i), c32(1)));
        });
        f.ret(c32(0));
        f
    }

    /// `(ids, count, id)`: 1 if the `u32` array holds `id`.
    fn f_has_id(&self) -> Func {
        let mut f = Func::new("has_id", &[I32, I32, I32], &[I32]);
        let (ids, n, id) = (f.param(0), f.param(1), f.param(2));
        let i = f.l32();
        f.set(i, c32(0));
        f.while_(lt_u(get(i), get(n)), |f, _| {
            f.if_(
                eq(ld32(add(get(ids), shl(get(i), c32(2))), 0), get(id)),
                |f| f.ret(c32(1)),
            );
            f.set(i, add(get(i), c32(1)));
        });
        f.ret(c32(0));
        f
    }

    /// Who completed a step record, or 0 if it has not completed (no four-eyes restriction then).
    fn f_rec_done_by(&self) -> Func {
        let mut f = Func::new("rec_done_by", &[I32], &[I32]);
        let rec = f.param(0);
        f.if_(eqz(get(rec)), |f| f.ret(c32(0)));
        f.if_(eqz64(ld64(get(rec), record::DONE)), |f| f.ret(c32(0)));
        f.ret(wrap(ld64(get(rec), record::DONE_BY)));
        f
    }

    /// `(base, duration, calendar)`: `base + duration`, counting only working time if a calendar is given.
    /// `base` plus `d` of clock time, or of the calendar's working time (`cal`). A time that does not fit in 64
    /// bits, or that the calendar cannot find (more than a hundred years ahead), is a run-time error: a deadline
    /// must never wrap around into the past or silently become "none". `messages`: the texts of the two faults.
    fn f_due_within(&self, imports: &Imports, messages: [u32; 2]) -> Func {
        let mut f = Func::new("due_within", &[I64, I64, I32], &[I64]);
        let (base, d, cal) = (f.param(0), f.param(1), f.param(2));
        let r = f.l64();
        f.if_(eq(get(cal), u32c(NO_ID)), |f| {
            f.set(r, add64(get(base), get(d)));
            f.if_(add_wrapped(base, d, r), |f| {
                f.exec(self.fault, vec![u32c(messages[0])]);
            });
            f.ret(get(r));
        });
        f.set(
            r,
            call(imports.calendar_add, vec![get(cal), get(base), get(d)]),
        );
        f.if_(eq64(get(r), c64(NO_TIME)), |f| {
            f.exec(self.fault, vec![u32c(messages[1])]);
        });
        f.ret(get(r));
        f
    }

    /// The manager of a person, asked from the host's directory; the empty text if unknown (then nobody but a
    /// manager's reassignment can make the task doable).
    fn f_manager_lookup(&self, cx: &Cx, imports: &Imports) -> Func {
        let mut f = Func::new("manager_lookup", &[I32], &[I32]);
        let person = f.param(0);
        let buf = f.l32();
        let len = f.l32();
        let ask = |buf: E, cap: E| {
            call(
                imports.manager_of,
                vec![
                    add(get(person), c32(4)),
                    ld32(get(person), 0),
                    add(buf, c32(4)),
                    cap,
                ],
            )
        };
        f.if_(eqz(get(person)), |f| f.ret(u32c(cx.empty_text)));
        f.set(buf, call(self.alloc, vec![c32(68)]));
        f.set(len, ask(get(buf), c32(64)));
        f.if_(lt_s(get(len), c32(0)), |f| f.ret(u32c(cx.empty_text)));
        f.if_(gt_s(get(len), c32(64)), |f| {
            f.set(buf, call(self.alloc, vec![add(get(len), c32(4))]));
            f.set(len, ask(get(buf), get(len)));
            f.if_(lt_s(get(len), c32(0)), |f| f.ret(u32c(cx.empty_text)));
        });
        f.st32(get(buf), 0, get(len));
        f.ret(get(buf));
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Time

    /// Fires every timer due at or before `target`, each at its own time, in time order.
    fn f_advance_to(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("advance_to", &[I64], &[]);
        let target = f.param(0);
        let best = f.l64();
        let kind = f.l32();
        let obj = f.l32();
        let node = f.l32();
        f.looping(|f, again| {
            f.if_(
                ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
                |f| {
                    f.if_(gt64(get(target), gget(g::NOW)), |f| {
                        f.gset(g::NOW, get(target))
                    });
                    f.ret_void();
                },
            );
            f.set(best, c64(NO_TIME));
            f.set(kind, c32(0));
            each(f, node, cx.h(header::TASKS), |f, _| {
                f.if_(eq(ld32(get(node), task::STATUS), c32(task::OPEN)), |f| {
                    f.if_(
                        and(
                            eqz(and(ld32(get(node), task::FLAGS), c32(task::BREACHED))),
                            lt64(ld64(get(node), task::DUE), get(best)),
                        ),
                        |f| {
                            f.set(best, ld64(get(node), task::DUE));
                            f.set(kind, c32(1));
                            f.set(obj, get(node));
                        },
                    );
                    f.if_(lt64(ld64(get(node), task::STAGE_AT), get(best)), |f| {
                        f.set(best, ld64(get(node), task::STAGE_AT));
                        f.set(kind, c32(2));
                        f.set(obj, get(node));
                    });
                });
                if cx.expiry {
                    // Also on hold; at the same moment as a deadline or a stage, the expiry comes first (`<=`), so
                    // a task withdrawn then is not late.
                    f.if_(le64(ld64(get(node), task::EXPIRES), get(best)), |f| {
                        f.set(best, ld64(get(node), task::EXPIRES));
                        f.set(kind, c32(5));
                        f.set(obj, get(node));
                    });
                }
            });
            each(f, node, cx.h(header::FIBERS), |f, _| {
                f.if_(
                    and(
                        eq(ld32(get(node), fiber::STATUS), c32(fiber::BLOCKED)),
                        lt64(ld64(get(node), fiber::WAKE), get(best)),
                    ),
                    |f| {
                        f.set(best, ld64(get(node), fiber::WAKE));
                        f.set(kind, c32(3));
                        f.set(obj, get(node));
                    },
                );
            });
            f.if_(lt64(ld64(cx.h(header::DEADLINE), 0), get(best)), |f| {
                f.set(best, ld64(cx.h(header::DEADLINE), 0));
                f.set(kind, c32(4));
            });
            f.if_(or(eqz(get(kind)), gt64(get(best), get(target))), |f| {
                f.if_(gt64(get(target), gget(g::NOW)), |f| {
                    f.gset(g::NOW, get(target))
                });
                f.ret_void();
            });
            f.if_(gt64(get(best), gget(g::NOW)), |f| f.gset(g::NOW, get(best)));
            f.if_(eq(get(kind), c32(1)), |f| {
                f.exec(self.task_breach, vec![get(obj)]);
            });
            f.if_(eq(get(kind), c32(2)), |f| {
                f.exec(self.task_stage, vec![get(obj)]);
            });
            f.if_(eq(get(kind), c32(3)), |f| {
                f.exec(self.fiber_wake, vec![get(obj)]);
            });
            if cx.expiry {
                f.if_(eq(get(kind), c32(5)), |f| {
                    f.st64(
                        ld32(get(obj), task::RECORD),
                        record::CLOSED,
                        c64(record::EXPIRED),
                    );
                    f.exec(
                        self.task_withdraw,
                        vec![get(obj), c32(i32::from(cancel_reason::EXPIRED))],
                    );
                });
            }
            f.if_(eq(get(kind), c32(4)), |f| {
                // The process deadline (stage 0 of the header's count), then the stages of the case's own ladder.
                let k = f.l32();
                f.set(k, ld32(cx.h(header::CASE_STAGE), 0));
                f.st64(cx.h(header::DEADLINE), 0, c64(NO_TIME));
                f.if_else(
                    eqz(get(k)),
                    |f| {
                        f.exec(self.effect, vec![c32(i32::from(effect::PROCESS_BREACHED))]);
                        f.exec(self.out_i64, vec![get(best)]);
                    },
                    |f| {
                        f.drop_value(call(hooks.case_stage, vec![sub(get(k), c32(1))]));
                    },
                );
                f.st32(cx.h(header::CASE_STAGE), 0, add(get(k), c32(1)));
                f.st64(
                    cx.h(header::DEADLINE),
                    0,
                    call(hooks.case_stage_at, vec![get(k), get(best)]),
                );
            });
            f.exec(self.run, vec![]);
            f.br(again);
        });
        f
    }

    fn f_next_wakeup(&self, cx: &Cx) -> Func {
        let mut f = Func::new("next_wakeup", &[], &[I64]);
        let best = f.l64();
        let node = f.l32();
        f.if_(
            ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
            |f| f.ret(c64(NO_TIME)),
        );
        f.set(best, ld64(cx.h(header::DEADLINE), 0));
        each(&mut f, node, cx.h(header::TASKS), |f, _| {
            f.if_(eq(ld32(get(node), task::STATUS), c32(task::OPEN)), |f| {
                f.if_(
                    and(
                        eqz(and(ld32(get(node), task::FLAGS), c32(task::BREACHED))),
                        lt64(ld64(get(node), task::DUE), get(best)),
                    ),
                    |f| f.set(best, ld64(get(node), task::DUE)),
                );
                f.if_(lt64(ld64(get(node), task::STAGE_AT), get(best)), |f| {
                    f.set(best, ld64(get(node), task::STAGE_AT));
                });
            });
            if cx.expiry {
                f.if_(lt64(ld64(get(node), task::EXPIRES), get(best)), |f| {
                    f.set(best, ld64(get(node), task::EXPIRES));
                });
            }
        });
        each(&mut f, node, cx.h(header::FIBERS), |f, _| {
            f.if_(
                and(
                    eq(ld32(get(node), fiber::STATUS), c32(fiber::BLOCKED)),
                    lt64(ld64(get(node), fiber::WAKE), get(best)),
                ),
                |f| f.set(best, ld64(get(node), fiber::WAKE)),
            );
        });
        f.ret(get(best));
        f
    }

    /// Ends the instance with `status`, cancelling every open task.
    fn f_case_end(&self, cx: &Cx) -> Func {
        let mut f = Func::new("case_end", &[I32], &[]);
        let st = f.param(0);
        let t = f.l32();
        f.st32(cx.h(header::STATUS), 0, get(st));
        f.looping(|f, again| {
            f.set(t, ld32(cx.h(header::TASKS), 0));
            f.if_(get(t), |f| {
                f.exec(
                    self.task_cancel,
                    vec![get(t), c32(i32::from(cancel_reason::INSTANCE_ENDED))],
                );
                f.br(again);
            });
        });
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events

    /// `(code, task, arg, detail)`: replaces the output with a rejection.
    fn f_reject(&self) -> Func {
        let mut f = Func::new("reject", &[I32, I32, I32, I32], &[I32]);
        f.gset(g::OUT, gget(g::OUT_START));
        for i in 0..3 {
            f.exec(self.out_u32, vec![get(f.param(i))]);
        }
        f.exec(self.out_text, vec![get(f.param(3))]);
        f.ret(c32(status::REJECTED));
        f
    }

    fn f_ev_start(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("ev_start", &[], &[I32]);
        let pid = f.l32();
        f.st32(cx.h(header::MAGIC), 0, c32(header::MAGIC_VALUE));
        f.st32(cx.h(header::STATUS), 0, u32c(instance::RUNNING));
        f.st64(cx.h(header::STARTED), 0, gget(g::NOW));
        f.st64(cx.h(header::NOW), 0, gget(g::NOW));
        f.st64(cx.h(header::DEADLINE), 0, c64(NO_TIME));
        f.set(pid, call(self.in_u32, vec![]));
        f.st32(cx.h(header::PROCESS), 0, get(pid));
        f.if_(call(hooks.start_process, vec![get(pid)]), |f| {
            f.ret(call(
                self.reject,
                vec![u32c(reject::UNKNOWN_PROCESS), c32(0), get(pid), c32(0)],
            ));
        });
        f.if_(ne(gget(g::IN), gget(g::IN_END)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    /// Reads `u32 task` and an actor into [`layout::ACTOR`]; returns the open task or 0 after writing the
    /// rejection (the caller then returns `REJECTED`).
    fn task_and_actor(&self, f: &mut Func, t: Local) {
        let id = f.l32();
        f.set(id, call(self.in_u32, vec![]));
        f.exec(self.in_actor, vec![u32c(layout::ACTOR)]);
        f.set(t, call(self.task_find, vec![get(id)]));
        f.if_(eqz(get(t)), |f| {
            f.ret(call(
                self.reject,
                vec![u32c(reject::UNKNOWN_TASK), get(id), u32c(NO_ID), c32(0)],
            ));
        });
    }

    fn reject_here(&self, f: &mut Func, code: E, t: Local, arg: E, detail: E) {
        f.ret(call(
            self.reject,
            vec![code, ld32(get(t), task::ID), arg, detail],
        ));
    }

    fn f_ev_complete(&self, cx: &Cx, imports: &Imports) -> Func {
        let mut f = Func::new("ev_complete", &[], &[I32]);
        let id = f.l32();
        let st = f.l32();
        let t = f.l32();
        let code = f.l32();
        let entry = f.l32();
        let rec = f.l32();
        let start = f.l32();
        let fb = f.l32();
        f.set(id, call(self.in_u32, vec![]));
        f.set(st, call(self.in_u32, vec![]));
        f.exec(self.in_actor, vec![u32c(layout::ACTOR)]);
        f.set(t, call(self.task_find, vec![get(id)]));
        f.if_(
            or(eqz(get(t)), ne(ld32(get(t), task::STEP), get(st))),
            |f| {
                f.ret(call(
                    self.reject,
                    vec![u32c(reject::UNKNOWN_TASK), get(id), get(st), c32(0)],
                ));
            },
        );
        f.if_(eq(ld32(get(t), task::STATUS), c32(task::SUSPENDED)), |f| {
            self.reject_here(f, u32c(reject::TASK_SUSPENDED), t, get(st), c32(0));
        });
        f.set(code, call(self.eligible, vec![get(t), u32c(layout::ACTOR)]));
        f.if_(get(code), |f| {
            self.reject_here(
                f,
                get(code),
                t,
                gget(g::REJECT_ARG),
                call(self.rejection_detail, vec![get(code), get(t)]),
            );
        });
        f.if_(lt64(gget(g::NOW), ld64(get(t), task::EARLIEST)), |f| {
            // The detail says from when (the refusal is dropped with the heap it used).
            f.exec(self.sb_begin, vec![]);
            f.exec(self.sb_time, vec![ld64(get(t), task::EARLIEST)]);
            let when = call(self.sb_end, vec![]);
            self.reject_here(f, u32c(reject::TOO_EARLY), t, get(st), when);
        });
        f.set(entry, cx.step_entry(get(st)));
        f.if_(
            both(
                ne(ld32(get(entry), step::ONLY_DURING), u32c(NO_ID)),
                eqz(call(
                    imports.calendar_is_open,
                    vec![ld32(get(entry), step::ONLY_DURING), gget(g::NOW)],
                )),
            ),
            |f| {
                self.reject_here(
                    f,
                    u32c(reject::OUTSIDE_HOURS),
                    t,
                    ld32(get(entry), step::ONLY_DURING),
                    c32(0),
                );
            },
        );
        f.set(rec, ld32(get(t), task::RECORD));
        f.set(start, gget(g::IN));
        f.call_indirect(
            cx.record_ty,
            vec![get(rec)],
            ld32(get(entry), step::DECODE_FN),
        );
        f.if_(ne(gget(g::IN), gget(g::IN_END)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.st64(
            get(rec),
            record::DONE_BY,
            ext(call(
                self.text_copy,
                vec![ld32(u32c(layout::ACTOR), actor::ID)],
            )),
        );
        f.st64(get(rec), record::COMPLETED_AT, gget(g::NOW));
        f.st64(get(rec), record::DONE, c64(1));
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_COMPLETED))]);
        f.exec(self.out_u32, vec![get(id)]);
        f.exec(self.out_u32, vec![get(st)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.exec(
            self.out_raw,
            vec![get(start), sub(gget(g::IN_END), get(start))],
        );
        f.set(fb, ld32(get(t), task::FIBER));
        f.exec(self.task_remove, vec![get(t)]);
        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_signal(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("ev_signal", &[], &[I32]);
        let sig = f.l32();
        let payload = f.l32();
        let accepted = f.l32();
        let node = f.l32();
        let entry = f.l32();
        let dest = f.l32();
        let boxed = f.l32();
        f.set(sig, call(self.in_u32, vec![]));
        // Taken when a fiber waits for the signal, or an open step pauses on it; an open step takes it also when
        // there is nothing to pause or resume (already paused, past its deadline, not paused): the host reports a
        // fact, which is not refused. Only a fiber reads the payload, so only then is it decoded into the case.
        f.set(accepted, c32(0));
        each(&mut f, node, cx.h(header::FIBERS), |f, _| {
            f.if_(waits_for_signal(node, sig), |f| f.set(accepted, c32(1)));
        });
        f.if_else(
            get(accepted),
            |f| {
                f.set(payload, call(hooks.decode_signal, vec![get(sig)]));
                f.if_(ne(gget(g::IN), gget(g::IN_END)), |f| {
                    abort_with(f, self, abort::BAD_EVENT);
                });
            },
            |f| {
                each(f, node, cx.h(header::TASKS), |f, _| {
                    f.set(entry, cx.step_entry(ld32(get(node), task::STEP)));
                    f.if_(
                        or(
                            eq(ld32(get(entry), step::PAUSE_FROM), get(sig)),
                            eq(ld32(get(entry), step::PAUSE_UNTIL), get(sig)),
                        ),
                        |f| f.set(accepted, c32(1)),
                    );
                });
            },
        );
        f.if_(eqz(get(accepted)), |f| {
            f.ret(call(
                self.reject,
                vec![
                    u32c(reject::SIGNAL_NOT_AWAITED),
                    u32c(NO_ID),
                    get(sig),
                    c32(0),
                ],
            ));
        });
        each(&mut f, node, cx.h(header::TASKS), |f, _| {
            f.set(entry, cx.step_entry(ld32(get(node), task::STEP)));
            f.if_(
                and(
                    eq(ld32(get(entry), step::PAUSE_FROM), get(sig)),
                    eqz(and(
                        ld32(get(node), task::FLAGS),
                        c32(task::PAUSED | task::BREACHED),
                    )),
                ),
                |f| {
                    f.if_(
                        eqz(and(ld32(get(node), task::FLAGS), c32(task::SUSPEND_PAUSED))),
                        |f| f.exec(self.task_pause, vec![get(node)]),
                    );
                    f.st32(
                        get(node),
                        task::FLAGS,
                        or(ld32(get(node), task::FLAGS), c32(task::PAUSED)),
                    );
                    f.exec(self.effect, vec![c32(i32::from(effect::DEADLINE_PAUSED))]);
                    f.exec(self.out_u32, vec![ld32(get(node), task::ID)]);
                    f.exec(self.out_u32, vec![ld32(get(node), task::STEP)]);
                },
            );
            f.if_(
                and(
                    eq(ld32(get(entry), step::PAUSE_UNTIL), get(sig)),
                    ne(and(ld32(get(node), task::FLAGS), c32(task::PAUSED)), c32(0)),
                ),
                |f| {
                    f.st32(
                        get(node),
                        task::FLAGS,
                        and(ld32(get(node), task::FLAGS), c32(!task::PAUSED)),
                    );
                    f.if_(
                        eqz(and(ld32(get(node), task::FLAGS), c32(task::SUSPEND_PAUSED))),
                        |f| f.exec(self.task_unpause, vec![get(node)]),
                    );
                    f.exec(self.effect, vec![c32(i32::from(effect::DEADLINE_RESUMED))]);
                    f.exec(self.out_u32, vec![ld32(get(node), task::ID)]);
                    f.exec(self.out_u32, vec![ld32(get(node), task::STEP)]);
                    f.exec(self.out_i64, vec![ld64(get(node), task::DUE)]);
                },
            );
        });
        each(&mut f, node, cx.h(header::FIBERS), |f, _| {
            f.if_(waits_for_signal(node, sig), |f| {
                f.set(accepted, c32(1));
                f.set(dest, ld32(get(node), fiber::DEST));
                f.if_(get(dest), |f| {
                    f.if_else(
                        ld32(get(node), fiber::JOIN_TOTAL),
                        |f| {
                            f.set(boxed, call(self.alloc, vec![c32(8)]));
                            f.st64(get(boxed), 0, ext(get(payload)));
                            f.st64(get(dest), 0, ext(get(boxed)));
                        },
                        |f| f.st64(get(dest), 0, ext(get(payload))),
                    );
                });
                f.st64(get(node), fiber::WAKE, c64(NO_TIME));
                f.st32(get(node), fiber::WAIT, c32(fiber::WAIT_NONE));
                f.st32(get(node), fiber::STATUS, c32(fiber::READY));
            });
        });
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_cancel(&self) -> Func {
        let mut f = Func::new("ev_cancel", &[], &[I32]);
        let reason = f.l32();
        f.set(reason, call(self.in_text_ref, vec![]));
        f.exec(self.case_end, vec![u32c(instance::CANCELLED)]);
        f.exec(self.effect, vec![c32(i32::from(effect::CANCELLED))]);
        f.exec(self.out_text, vec![get(reason)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_fault(&self) -> Func {
        let mut f = Func::new("ev_fault", &[], &[I32]);
        let reason = f.l32();
        f.set(reason, call(self.in_text_ref, vec![]));
        f.if_(ne(gget(g::IN), gget(g::IN_END)), |f| {
            abort_with(f, self, abort::BAD_EVENT)
        });
        f.exec(self.case_end, vec![u32c(instance::FAILED)]);
        f.exec(self.effect, vec![c32(i32::from(effect::FAILED))]);
        f.exec(self.out_text, vec![get(reason)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_action(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("ev_action", &[], &[I32]);
        let req = f.l32();
        let ok = f.l32();
        let node = f.l32();
        let found = f.l32();
        let dest = f.l32();
        let value = f.l64();
        let action = f.l32();
        f.set(req, call(self.in_u32, vec![]));
        f.set(action, call(self.in_u32, vec![]));
        f.set(ok, call(self.in_u8, vec![]));
        f.set(found, c32(0));
        each(&mut f, node, cx.h(header::FIBERS), |f, exit| {
            f.if_(
                and(
                    eq(ld32(get(node), fiber::WAIT), c32(fiber::WAIT_ACTION)),
                    and(
                        eq(ld32(get(node), fiber::WAIT_ARG), get(req)),
                        eq(ld32(get(node), fiber::JOIN_TOTAL), get(action)),
                    ),
                ),
                |f| {
                    f.set(found, get(node));
                    f.br(exit);
                },
            );
        });
        f.if_(eqz(get(found)), |f| {
            f.ret(call(
                self.reject,
                vec![u32c(reject::UNKNOWN_REQUEST), u32c(NO_ID), get(req), c32(0)],
            ));
        });
        f.if_(eqz(get(ok)), |f| {
            f.set(dest, call(self.in_text_ref, vec![]));
            f.exec(self.case_end, vec![u32c(instance::FAILED)]);
            f.exec(self.effect, vec![c32(i32::from(effect::FAILED))]);
            f.exec(self.out_text, vec![get(dest)]);
            f.ret(c32(status::OK));
        });
        f.set(
            value,
            call(
                hooks.decode_action_result,
                vec![ld32(get(found), fiber::JOIN_TOTAL)],
            ),
        );
        f.if_(ne(gget(g::IN), gget(g::IN_END)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.set(dest, ld32(get(found), fiber::DEST));
        f.if_(get(dest), |f| f.st64(get(dest), 0, get(value)));
        f.st32(get(found), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(found), fiber::STATUS, c32(fiber::READY));
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_claim(&self) -> Func {
        let mut f = Func::new("ev_claim", &[], &[I32]);
        let t = f.l32();
        let code = f.l32();
        let claimed = f.l32();
        self.task_and_actor(&mut f, t);
        f.if_(eq(ld32(get(t), task::STATUS), c32(task::SUSPENDED)), |f| {
            self.reject_here(f, u32c(reject::TASK_SUSPENDED), t, u32c(NO_ID), c32(0));
        });
        f.set(claimed, ld32(get(t), task::CLAIMED));
        self.refuse_if_claimed_by(&mut f, t, claimed, layout::ACTOR);
        f.set(code, call(self.eligible, vec![get(t), u32c(layout::ACTOR)]));
        f.if_(get(code), |f| {
            self.reject_here(
                f,
                get(code),
                t,
                gget(g::REJECT_ARG),
                call(self.rejection_detail, vec![get(code), get(t)]),
            );
        });
        f.st32(
            get(t),
            task::CLAIMED,
            call(self.text_copy, vec![ld32(u32c(layout::ACTOR), actor::ID)]),
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_CLAIMED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_release(&self) -> Func {
        let mut f = Func::new("ev_release", &[], &[I32]);
        let t = f.l32();
        let claimed = f.l32();
        self.task_and_actor(&mut f, t);
        f.set(claimed, ld32(get(t), task::CLAIMED));
        f.if_(eqz(get(claimed)), |f| {
            self.reject_here(f, u32c(reject::NOT_CLAIMED), t, u32c(NO_ID), c32(0));
        });
        f.if_(
            both(
                eqz(call(
                    self.text_eq,
                    vec![get(claimed), ld32(u32c(layout::ACTOR), actor::ID)],
                )),
                eqz(call(
                    self.is_manager,
                    vec![ld32(get(t), task::STEP), u32c(layout::ACTOR)],
                )),
            ),
            |f| {
                self.reject_here(
                    f,
                    u32c(reject::CLAIMED_BY_OTHER),
                    t,
                    u32c(NO_ID),
                    get(claimed),
                );
            },
        );
        f.st32(get(t), task::CLAIMED, c32(0));
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_RELEASED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.ret(c32(status::OK));
        f
    }

    /// The claimant, anyone who may perform the task, or a manager hands it to a colleague who may perform it;
    /// the colleague then holds the claim.
    fn f_ev_delegate(&self) -> Func {
        let mut f = Func::new("ev_delegate", &[], &[I32]);
        let t = f.l32();
        let claimed = f.l32();
        let code = f.l32();
        self.task_and_actor(&mut f, t);
        f.exec(self.in_actor, vec![u32c(layout::TARGET)]);
        f.if_(eq(ld32(get(t), task::STATUS), c32(task::SUSPENDED)), |f| {
            self.reject_here(f, u32c(reject::TASK_SUSPENDED), t, u32c(NO_ID), c32(0));
        });
        f.if_(
            call(
                self.text_eq,
                vec![
                    ld32(u32c(layout::ACTOR), actor::ID),
                    ld32(u32c(layout::TARGET), actor::ID),
                ],
            ),
            |f| {
                self.reject_here(f, u32c(reject::DELEGATE_TO_SELF), t, u32c(NO_ID), c32(0));
            },
        );
        f.set(claimed, ld32(get(t), task::CLAIMED));
        // Someone who may not do the task hands it on only as a manager; while another holds the claim, that
        // claim is the reason.
        f.set(code, call(self.eligible, vec![get(t), u32c(layout::ACTOR)]));
        f.if_(
            both(
                ne(get(code), c32(0)),
                eqz(call(
                    self.is_manager,
                    vec![ld32(get(t), task::STEP), u32c(layout::ACTOR)],
                )),
            ),
            |f| {
                f.if_(eq(get(code), u32c(reject::CLAIMED_BY_OTHER)), |f| {
                    self.reject_here(f, get(code), t, u32c(NO_ID), get(claimed));
                });
                self.reject_here(f, u32c(reject::NOT_A_MANAGER), t, u32c(NO_ID), c32(0));
            },
        );
        self.refuse_if_claimed_by(&mut f, t, claimed, layout::TARGET);
        f.st32(get(t), task::CLAIMED, c32(0));
        f.set(
            code,
            call(self.eligible, vec![get(t), u32c(layout::TARGET)]),
        );
        f.if_(get(code), |f| {
            f.st32(get(t), task::CLAIMED, get(claimed));
            self.reject_here(
                f,
                u32c(reject::DELEGATE_NOT_ELIGIBLE),
                t,
                get(code),
                ld32(u32c(layout::TARGET), actor::ID),
            );
        });
        f.st32(
            get(t),
            task::CLAIMED,
            call(self.text_copy, vec![ld32(u32c(layout::TARGET), actor::ID)]),
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_DELEGATED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::TARGET), actor::ID)]);
        f.ret(c32(status::OK));
        f
    }

    /// Refuses with `ALREADY_CLAIMED` when the task is claimed (`claimed`) by the actor read into `who`.
    fn refuse_if_claimed_by(&self, f: &mut Func, t: Local, claimed: Local, who: u32) {
        f.if_(
            both(
                ne(get(claimed), c32(0)),
                call(self.text_eq, vec![get(claimed), ld32(u32c(who), actor::ID)]),
            ),
            |f| {
                self.reject_here(
                    f,
                    u32c(reject::ALREADY_CLAIMED),
                    t,
                    u32c(NO_ID),
                    get(claimed),
                );
            },
        );
    }

    fn manager_only(&self, f: &mut Func, t: Local) {
        f.if_(
            eqz(call(
                self.is_manager,
                vec![ld32(get(t), task::STEP), u32c(layout::ACTOR)],
            )),
            |f| {
                self.reject_here(f, u32c(reject::NOT_A_MANAGER), t, u32c(NO_ID), c32(0));
            },
        );
    }

    fn f_ev_reassign(&self, cx: &Cx) -> Func {
        let mut f = Func::new("ev_reassign", &[], &[I32]);
        let t = f.l32();
        let role = f.l32();
        self.task_and_actor(&mut f, t);
        f.set(role, call(self.in_u32, vec![]));
        f.if_(ge_u(get(role), u32c(cx.nroles)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        self.manager_only(&mut f, t);
        f.st32(get(t), task::ROLE, get(role));
        f.st32(get(t), task::PERSON, c32(0));
        f.st32(get(t), task::CLAIMED, c32(0));
        f.st32(
            get(t),
            task::FLAGS,
            or(ld32(get(t), task::FLAGS), c32(task::REASSIGNED)),
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_REASSIGNED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_u32, vec![get(role)]);
        f.exec(self.out_u8, vec![c32(1)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_suspend(&self) -> Func {
        let mut f = Func::new("ev_suspend", &[], &[I32]);
        let t = f.l32();
        self.task_and_actor(&mut f, t);
        self.manager_only(&mut f, t);
        f.if_(eq(ld32(get(t), task::STATUS), c32(task::SUSPENDED)), |f| {
            self.reject_here(f, u32c(reject::TASK_SUSPENDED), t, u32c(NO_ID), c32(0));
        });
        f.st32(get(t), task::STATUS, c32(task::SUSPENDED));
        f.if_(
            eqz(and(ld32(get(t), task::FLAGS), c32(task::PAUSED))),
            |f| {
                f.exec(self.task_pause, vec![get(t)]);
            },
        );
        f.st32(
            get(t),
            task::FLAGS,
            or(ld32(get(t), task::FLAGS), c32(task::SUSPEND_PAUSED)),
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_SUSPENDED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_resume(&self) -> Func {
        let mut f = Func::new("ev_resume", &[], &[I32]);
        let t = f.l32();
        self.task_and_actor(&mut f, t);
        self.manager_only(&mut f, t);
        f.if_(ne(ld32(get(t), task::STATUS), c32(task::SUSPENDED)), |f| {
            self.reject_here(f, u32c(reject::NOT_SUSPENDED), t, u32c(NO_ID), c32(0));
        });
        f.st32(get(t), task::STATUS, c32(task::OPEN));
        f.st32(
            get(t),
            task::FLAGS,
            and(ld32(get(t), task::FLAGS), c32(!task::SUSPEND_PAUSED)),
        );
        f.if_(
            eqz(and(ld32(get(t), task::FLAGS), c32(task::PAUSED))),
            |f| {
                f.exec(self.task_unpause, vec![get(t)]);
            },
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_RESUMED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.exec(self.out_i64, vec![ld64(get(t), task::DUE)]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_skip(&self, cx: &Cx) -> Func {
        let mut f = Func::new("ev_skip", &[], &[I32]);
        let t = f.l32();
        let fb = f.l32();
        self.task_and_actor(&mut f, t);
        self.manager_only(&mut f, t);
        f.if_(
            eqz(and(
                ld32(cx.step_entry(ld32(get(t), task::STEP)), step::FLAGS),
                c32(step::SKIPPABLE),
            )),
            |f| {
                self.reject_here(
                    f,
                    u32c(reject::NOT_SKIPPABLE),
                    t,
                    ld32(get(t), task::STEP),
                    c32(0),
                );
            },
        );
        f.st64(
            ld32(get(t), task::RECORD),
            record::CLOSED,
            c64(record::SKIPPED),
        );
        f.exec(self.effect, vec![c32(i32::from(effect::TASK_SKIPPED))]);
        f.exec(self.out_u32, vec![ld32(get(t), task::ID)]);
        f.exec(self.out_u32, vec![ld32(get(t), task::STEP)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.set(fb, ld32(get(t), task::FIBER));
        f.exec(self.task_remove, vec![get(t)]);
        f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st32(get(fb), fiber::STATUS, c32(fiber::READY));
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    /// Sends a fiber back to an earlier step of the unit it is in; what it waited for is cancelled.
    fn f_ev_redo(&self, cx: &Cx) -> Func {
        let mut f = Func::new("ev_redo", &[], &[I32]);
        let st = f.l32();
        let entry = f.l32();
        let node = f.l32();
        let found = f.l32();
        let rec = f.l32();
        f.set(st, call(self.in_u32, vec![]));
        f.exec(self.in_actor, vec![u32c(layout::ACTOR)]);
        f.if_(ge_u(get(st), u32c(cx.nsteps)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
        f.if_(
            eqz(call(self.is_manager, vec![get(st), u32c(layout::ACTOR)])),
            |f| {
                f.ret(call(
                    self.reject,
                    vec![u32c(reject::NOT_A_MANAGER), u32c(NO_ID), get(st), c32(0)],
                ));
            },
        );
        f.set(entry, cx.step_entry(get(st)));
        f.set(found, c32(0));
        // The fiber running the step's unit, in the frame where the step is done: the unit it runs now, or one of
        // the callers of the procedures it is in (each procedure's root frame says who called it, and from where).
        let unit = f.l32();
        let fr = f.l32();
        let at_frame = f.l32();
        each(&mut f, node, cx.h(header::FIBERS), |f, exit| {
            f.set(unit, ld32(get(node), fiber::UNIT));
            f.set(fr, ld32(get(node), fiber::FRAME));
            f.looping(|f, up| {
                f.if_(eq(get(unit), ld32(get(entry), step::UNIT)), |f| {
                    f.set(
                        rec,
                        wrap(ld64(
                            add(get(fr), shl(ld32(get(entry), step::SLOT), c32(3))),
                            frame::SLOTS,
                        )),
                    );
                    f.if_(
                        both(
                            ne(get(rec), c32(0)),
                            ne64(ld64(get(rec), record::DONE), c64(0)),
                        ),
                        |f| {
                            f.set(found, get(node));
                            f.set(at_frame, get(fr));
                            f.br(exit);
                        },
                    );
                });
                // Up to the caller, when this frame is a procedure's that this fiber called.
                f.if_(
                    both(
                        ne(get(fr), c32(0)),
                        eq(ld32(get(fr), frame::OWNER), get(node)),
                    ),
                    |f| {
                        f.set(unit, ld32(get(fr), frame::CALLER_UNIT));
                        f.set(fr, ld32(get(fr), frame::CALLER_FRAME));
                        f.br(up);
                    },
                );
            });
        });
        f.if_(eqz(get(found)), |f| {
            f.ret(call(
                self.reject,
                vec![u32c(reject::CANNOT_REDO), u32c(NO_ID), get(st), c32(0)],
            ));
        });
        f.if_(
            eq(ld32(get(found), fiber::WAIT), c32(fiber::WAIT_TASK)),
            |f| {
                f.exec(
                    self.task_cancel,
                    vec![
                        ld32(get(found), fiber::WAIT_ARG),
                        c32(i32::from(cancel_reason::REDO)),
                    ],
                );
            },
        );
        f.exec(self.cancel_children, vec![get(found)]);
        // Leave the procedures called since the step: their frames go, the fiber runs the step's unit again.
        f.set(fr, ld32(get(found), fiber::FRAME));
        f.while_(ne(get(fr), get(at_frame)), |f, _| {
            f.set(unit, ld32(get(fr), frame::CALLER_FRAME));
            f.exec(self.free, vec![get(fr), ld32(get(fr), frame::SIZE)]);
            f.set(fr, get(unit));
        });
        f.st32(get(found), fiber::UNIT, ld32(get(entry), step::UNIT));
        f.st32(get(found), fiber::FRAME, get(at_frame));
        f.st32(get(found), fiber::PC, ld32(get(entry), step::PC));
        f.st32(get(found), fiber::WAIT, c32(fiber::WAIT_NONE));
        f.st64(get(found), fiber::WAKE, c64(NO_TIME));
        f.st32(get(found), fiber::STATUS, c32(fiber::READY));
        f.exec(self.effect, vec![c32(i32::from(effect::STEP_REDONE))]);
        f.exec(self.out_u32, vec![get(st)]);
        f.exec(self.out_text, vec![ld32(u32c(layout::ACTOR), actor::ID)]);
        f.exec(self.run, vec![]);
        f.ret(c32(status::OK));
        f
    }

    fn f_ev_query(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("ev_query", &[], &[I32]);
        let node = f.l32();
        let count = f.l32();
        let at = f.l32();
        f.gset(g::OUT, gget(g::OUT_START));
        f.exec(self.out_u32, vec![ld32(cx.h(header::STATUS), 0)]);
        f.exec(self.out_u32, vec![ld32(cx.h(header::PROCESS), 0)]);
        f.exec(self.out_i64, vec![ld64(cx.h(header::STARTED), 0)]);
        f.exec(self.out_i64, vec![gget(g::NOW)]);
        f.exec(self.out_i64, vec![call(self.next_wakeup, vec![])]);
        f.set(at, call(self.out_reserve, vec![c32(4)]));
        f.set(count, c32(0));
        each(&mut f, node, cx.h(header::TASKS), |f, _| {
            f.set(count, add(get(count), c32(1)));
            f.exec(self.out_u32, vec![ld32(get(node), task::ID)]);
            f.exec(self.out_u32, vec![ld32(get(node), task::STEP)]);
            f.exec(
                self.out_u8,
                vec![cond(
                    I32,
                    eq(ld32(get(node), task::STATUS), c32(task::SUSPENDED)),
                    c32(i32::from(proc_abi::query::TASK_SUSPENDED)),
                    c32(i32::from(proc_abi::query::TASK_OPEN)),
                )],
            );
            f.exec(self.out_u32, vec![ld32(get(node), task::ROLE)]);
            f.exec(self.out_text, vec![ld32(get(node), task::PERSON)]);
            f.exec(self.out_text, vec![ld32(get(node), task::CLAIMED)]);
            f.exec(self.out_i64, vec![ld64(get(node), task::OPENED)]);
            f.exec(self.out_i64, vec![ld64(get(node), task::DUE)]);
            f.exec(self.out_text, vec![ld32(get(node), task::INSTRUCTION)]);
        });
        f.st32(get(at), 0, get(count));
        f.exec(
            hooks.encode_data,
            vec![
                ld32(cx.h(header::PROCESS), 0),
                ld32(cx.h(header::ROOT_FRAME), 0),
            ],
        );
        // What the case waits for besides its tasks: signals, actions and times. An ended case waits for nothing
        // (its fibers are not freed when it ends).
        let kind = f.l32();
        f.set(at, call(self.out_reserve, vec![c32(4)]));
        f.set(count, c32(0));
        f.if_(
            ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
            |f| {
                f.st32(get(at), 0, c32(0));
                f.ret(c32(status::ANSWERED));
            },
        );
        each(&mut f, node, cx.h(header::FIBERS), |f, _| {
            f.set(kind, c32(0));
            f.if_(
                eq(ld32(get(node), fiber::STATUS), c32(fiber::BLOCKED)),
                |f| {
                    let waits = |w: i32| eq(ld32(get(node), fiber::WAIT), c32(w));
                    f.if_(waits(fiber::WAIT_SIGNAL), |f| {
                        f.set(kind, c32(i32::from(proc_abi::query::WAIT_SIGNAL)));
                    });
                    f.if_(waits(fiber::WAIT_ACTION), |f| {
                        f.set(kind, c32(i32::from(proc_abi::query::WAIT_ACTION)));
                    });
                    f.if_(
                        or(waits(fiber::WAIT_TIMER), waits(fiber::WAIT_ROUND)),
                        |f| {
                            f.set(kind, c32(i32::from(proc_abi::query::WAIT_TIME)));
                        },
                    );
                },
            );
            f.if_(get(kind), |f| {
                f.set(count, add(get(count), c32(1)));
                f.exec(self.out_u8, vec![get(kind)]);
                // The signal's id, or the action's (kept in JOIN_TOTAL while it is asked for) and the request's.
                f.if_else(
                    eq(get(kind), c32(i32::from(proc_abi::query::WAIT_ACTION))),
                    |f| {
                        f.exec(self.out_u32, vec![ld32(get(node), fiber::JOIN_TOTAL)]);
                        f.exec(self.out_u32, vec![ld32(get(node), fiber::WAIT_ARG)]);
                    },
                    |f| {
                        f.exec(
                            self.out_u32,
                            vec![cond(
                                I32,
                                eq(get(kind), c32(i32::from(proc_abi::query::WAIT_SIGNAL))),
                                ld32(get(node), fiber::WAIT_ARG),
                                u32c(NO_ID),
                            )],
                        );
                        f.exec(self.out_u32, vec![c32(0)]);
                    },
                );
                f.exec(self.out_i64, vec![ld64(get(node), fiber::WAKE)]);
            });
        });
        f.st32(get(at), 0, get(count));
        f.ret(c32(status::ANSWERED));
        f
    }

    /// Fires due timers, then hands the event to its handler (everything but START, QUERY and FAULT).
    fn dispatch(&self, f: &mut Func, cx: &Cx, kind: Local, now: Local, result: Local) {
        // Timers due before the event fire first, each at its own time (none can be due before the wake-up
        // computed at the end of the last event). A person's event comes before the timers due at its own time:
        // a task completed at its due time is on time (`within 15m` includes the fifteenth minute, as a KPI's
        // `target <= 15m` does); those timers fire after it. `ADVANCE` fires them too.
        let until = f.l64();
        f.set(
            until,
            sub64(get(now), ext(ne(get(kind), u32c(event::ADVANCE)))),
        );
        f.if_(ge64(get(until), ld64(cx.h(header::WAKE), 0)), |f| {
            f.exec(self.advance_to, vec![get(until)]);
        });
        f.gset(g::NOW, get(now));
        f.if_(
            and(
                ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
                ne(get(kind), u32c(event::ADVANCE)),
            ),
            |f| {
                f.ret(call(
                    self.reject,
                    vec![
                        u32c(reject::INSTANCE_ENDED),
                        u32c(NO_ID),
                        u32c(NO_ID),
                        c32(0),
                    ],
                ));
            },
        );
        let handlers: Vec<(u32, FnId)> = vec![
            (event::COMPLETE, self.ev_complete),
            (event::SIGNAL, self.ev_signal),
            (event::CANCEL, self.ev_cancel),
            (event::ACTION_RESULT, self.ev_action),
            (event::CLAIM, self.ev_claim),
            (event::RELEASE, self.ev_release),
            (event::DELEGATE, self.ev_delegate),
            (event::REASSIGN, self.ev_reassign),
            (event::SUSPEND, self.ev_suspend),
            (event::RESUME, self.ev_resume),
            (event::SKIP, self.ev_skip),
            (event::REDO, self.ev_redo),
        ];
        f.set(result, c32(-1));
        f.if_(eq(get(kind), u32c(event::ADVANCE)), |f| {
            f.set(result, c32(status::OK));
        });
        for (code, handler) in handlers {
            f.if_(eq(get(kind), u32c(code)), |f| {
                f.set(result, call(handler, vec![]));
            });
        }
        f.if_(eq(get(result), c32(-1)), |f| {
            abort_with(f, self, abort::BAD_EVENT);
        });
    }

    /// The one export hosts call: see `docs/abi.md`.
    fn f_handle(&self, cx: &Cx, hooks: &Hooks) -> Func {
        let mut f = Func::new("proc_handle", &[I32, I32, I32, I32, I32, I32, I64], &[I32]);
        let case_len = f.param(0);
        let limit = f.param(1);
        let in_ptr = f.param(2);
        let in_len = f.param(3);
        let out_ptr = f.param(4);
        let out_cap = f.param(5);
        let now = f.param(6);
        let kind = f.l32();
        let result = f.l32();
        let wake = f.l64();
        f.gset(g::IN, get(in_ptr));
        f.gset(g::IN_END, add(get(in_ptr), get(in_len)));
        f.gset(g::OUT_START, get(out_ptr));
        f.gset(
            g::OUT,
            add(get(out_ptr), u32c(proc_abi::header::SIZE as u32)),
        );
        f.gset(g::OUT_END, add(get(out_ptr), get(out_cap)));
        f.gset(g::HEAP_LIMIT, get(limit));
        f.gset(g::COUNT, c32(0));
        f.gset(g::POKE, c32(0));
        f.if_(lt_u(get(out_cap), c32(256)), |f| {
            abort_with(f, self, abort::NEED_OUT);
        });
        f.set(kind, call(self.in_u32, vec![]));
        f.if_else(
            or(
                eq(get(kind), u32c(event::START)),
                and(eq(get(kind), u32c(event::FAULT)), eqz(get(case_len))),
            ),
            |f| {
                f.if_(get(case_len), |f| abort_with(f, self, abort::BAD_EVENT));
                f.gset(g::HEAP_TOP, cx.h(header::SIZE));
                f.if_(gt_u(gget(g::HEAP_TOP), gget(g::HEAP_LIMIT)), |f| {
                    abort_with(f, self, abort::NEED_HEAP);
                });
                // The header (104 bytes): plain stores (`memory.fill` is a call out of the module).
                let (p, size) = (f.l32(), f.l32());
                f.set(p, cx.h(0));
                f.set(size, u32c(header::SIZE));
                zero_small(f, p, size);
                f.gset(g::NOW, get(now));
                f.if_else(
                    eq(get(kind), u32c(event::START)),
                    |f| f.set(result, call(self.ev_start, vec![])),
                    |f| {
                        // A start that hit a run-time error: the instance exists, and has failed. Its input is
                        // decoded again (the flow is not run), so that queries read it as for any case.
                        let pid = f.l32();
                        f.st32(cx.h(header::MAGIC), 0, c32(header::MAGIC_VALUE));
                        f.st64(cx.h(header::STARTED), 0, gget(g::NOW));
                        f.st64(cx.h(header::NOW), 0, gget(g::NOW));
                        f.st64(cx.h(header::DEADLINE), 0, c64(NO_TIME));
                        f.set(pid, call(self.in_u32, vec![]));
                        f.st32(cx.h(header::PROCESS), 0, get(pid));
                        f.if_(call(hooks.start_process, vec![get(pid)]), |f| {
                            abort_with(f, self, abort::BAD_EVENT);
                        });
                        f.set(result, call(self.ev_fault, vec![]));
                    },
                );
            },
            |f| {
                f.if_(
                    or(
                        lt_u(get(case_len), u32c(header::SIZE)),
                        or(
                            ne(ld32(cx.h(header::MAGIC), 0), c32(header::MAGIC_VALUE)),
                            ne(ld32(cx.h(header::HEAP_TOP), 0), add(cx.h(0), get(case_len))),
                        ),
                    ),
                    |f| abort_with(f, self, abort::BAD_EVENT),
                );
                f.gset(g::HEAP_TOP, add(cx.h(0), get(case_len)));
                // Time never runs backwards: an event dated before the instance's last one happens then.
                f.gset(g::NOW, ld64(cx.h(header::NOW), 0));
                f.if_(lt64(get(now), gget(g::NOW)), |f| f.set(now, gget(g::NOW)));
                f.if_(eq(get(kind), u32c(event::QUERY)), |f| {
                    f.gset(g::NOW, get(now));
                    f.ret(call(self.ev_query, vec![]));
                });
                f.if_(
                    ne(ld32(cx.h(header::STATUS), 0), u32c(instance::RUNNING)),
                    |f| {
                        f.ret(call(
                            self.reject,
                            vec![
                                u32c(reject::INSTANCE_ENDED),
                                u32c(NO_ID),
                                u32c(NO_ID),
                                c32(0),
                            ],
                        ));
                    },
                );
                f.if_else(
                    eq(get(kind), u32c(event::FAULT)),
                    |f| {
                        // No timers first: if one of them caused the fault, it would fault again.
                        f.gset(g::NOW, get(now));
                        f.drop_value(call(self.in_u32, vec![]));
                        f.set(result, call(self.ev_fault, vec![]));
                    },
                    |f| self.dispatch(f, cx, kind, now, result),
                );
            },
        );
        f.if_(ne(get(result), c32(status::OK)), |f| f.ret(get(result)));
        // Timers that became due while handling the event (a `wait` of zero, a deadline in the past).
        f.set(wake, call(self.next_wakeup, vec![]));
        f.if_(le64(get(wake), gget(g::NOW)), |f| {
            f.exec(self.advance_to, vec![gget(g::NOW)]);
            f.set(wake, call(self.next_wakeup, vec![]));
        });
        f.st64(cx.h(header::WAKE), 0, get(wake));
        f.st64(cx.h(header::NOW), 0, gget(g::NOW));
        f.st32(cx.h(header::HEAP_TOP), 0, gget(g::HEAP_TOP));
        f.st32(get(out_ptr), 0, sub(gget(g::HEAP_TOP), cx.h(0)));
        f.st32(
            get(out_ptr),
            4,
            sub(
                sub(gget(g::OUT), get(out_ptr)),
                u32c(proc_abi::header::SIZE as u32),
            ),
        );
        f.st64(get(out_ptr), 8, get(wake));
        f.st32(get(out_ptr), 16, ld32(cx.h(header::STATUS), 0));
        f.st32(get(out_ptr), 20, gget(g::COUNT));
        f.ret(c32(status::OK));
        f
    }
}

/// Whether task `t` has not been breached.
fn not_breached(t: Local) -> E {
    eqz(and(ld32(get(t), task::FLAGS), c32(task::BREACHED)))
}

/// The offset of stage `k` of the step table entry `entry` (negative for a warning).
fn stage_offset(entry: Local, k: E) -> E {
    ld64(
        add(ld32(get(entry), step::STAGE_OFFSETS), shl(k, c32(3))),
        0,
    )
}

/// The calendar of stage `k` of the step table entry `entry` ([`NO_ID`] for the clock).
fn stage_calendar(entry: Local, k: E) -> E {
    ld32(
        add(ld32(get(entry), step::STAGE_CALENDARS), shl(k, c32(2))),
        0,
    )
}
