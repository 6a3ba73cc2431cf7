//! The contract between the Proc compiler and the Proc runtime (ABI version [`ABI_VERSION`]).
//!
//! The compiler emits one WebAssembly module per package; any host (the Rust runtime, the JavaScript host in
//! `runtime/js/`) runs it through the exports and imports named here. Neither side depends on the other: both
//! depend on this crate, and `docs/abi.md` says the same in prose. Change both together, and bump
//! [`ABI_VERSION`] when a change is not backward compatible.
//!
//! In one sentence: the host keeps each case (process instance) as a byte blob, copies it into the module's
//! memory at [`exports::CASE_BASE`], writes an event into an input buffer, calls [`exports::HANDLE`], and reads
//! back a result header, the new blob and a list of effects. A rejected event leaves the host's blob untouched.

pub mod meta;
pub mod text;

pub use meta::{
    ActionMeta, CalendarMeta, EnumMeta, FieldMeta, Hours, Metadata, ProcessMeta, RecordMeta,
    RoleMeta, ScheduleMeta, SignalMeta, StepMeta, TypeDesc,
};

/// The ABI version this crate describes. A module reports its own through [`exports::ABI_VERSION`].
pub const ABI_VERSION: u32 = 4;

/// The name of the custom section holding the module's [`Metadata`] as JSON.
pub const METADATA_SECTION: &str = "proc.metadata";

/// "None" for time values (due times, wake-ups): the largest `i64`.
pub const NO_TIME: i64 = i64::MAX;

/// "None" for 32-bit ids (roles, tasks, steps): the largest `u32`.
pub const NO_ID: u32 = u32::MAX;

/// Names of the module's exports.
pub mod exports {
    /// The module's linear memory.
    pub const MEMORY: &str = "memory";
    /// `() -> i32`: the ABI version the module was compiled for.
    pub const ABI_VERSION: &str = "proc_abi_version";
    /// `() -> i32`: the address at which case blobs are loaded.
    pub const CASE_BASE: &str = "proc_case_base";
    /// `() -> i32`: the address of the abort area, read after a trap (see [`crate::abort`]).
    pub const ABORT_AREA: &str = "proc_abort_area";
    /// `(case_len: i32, heap_limit: i32, in_ptr: i32, in_len: i32, out_ptr: i32, out_cap: i32, now: i64) -> i32`:
    /// handles one event. Returns a [`crate::status`] code.
    pub const HANDLE: &str = "proc_handle";
    /// Every export a module must have, in the order above.
    pub const ALL: &[&str] = &[MEMORY, ABI_VERSION, CASE_BASE, ABORT_AREA, HANDLE];
}

/// The module's imports: module name [`imports::MODULE`], and these functions. No other imports are allowed
/// (no WASI, no clock, no randomness).
pub mod imports {
    /// The import module name.
    pub const MODULE: &str = "proc";
    /// `(calendar: i32, start: i64, duration: i64) -> i64`: the instant `duration` of working time after
    /// `start` on the calendar (milliseconds).
    pub const CALENDAR_ADD: &str = "calendar_add";
    /// `(calendar: i32, from: i64, to: i64) -> i64`: working time between two instants (0 if `to <= from`).
    pub const CALENDAR_BETWEEN: &str = "calendar_between";
    /// `(calendar: i32, at: i64) -> i32`: 1 if the calendar is open at the instant, else 0.
    pub const CALENDAR_IS_OPEN: &str = "calendar_is_open";
    /// `(calendar: i32, at: i64) -> i64`: the next instant at or after `at` when the calendar is open.
    pub const CALENDAR_NEXT_OPEN: &str = "calendar_next_open";
    /// `(person_ptr: i32, person_len: i32, out_ptr: i32, out_cap: i32) -> i32`: writes the id of the person's
    /// manager (from the host's directory) at `out_ptr` and returns its length; -1 if unknown. If the length
    /// exceeds `out_cap`, nothing is written and the length is returned, so the module can ask again.
    pub const MANAGER_OF: &str = "manager_of";
    /// Every import, with its parameter and result types written as in the text format.
    pub const ALL: &[(&str, &[&str], &[&str])] = &[
        (CALENDAR_ADD, &["i32", "i64", "i64"], &["i64"]),
        (CALENDAR_BETWEEN, &["i32", "i64", "i64"], &["i64"]),
        (CALENDAR_IS_OPEN, &["i32", "i64"], &["i32"]),
        (CALENDAR_NEXT_OPEN, &["i32", "i64"], &["i64"]),
        (MANAGER_OF, &["i32", "i32", "i32", "i32"], &["i32"]),
    ];
}

/// Return codes of [`exports::HANDLE`].
pub mod status {
    /// The event was applied. The output buffer starts with a [`crate::header`] and the effects.
    pub const OK: i32 = 0;
    /// The event was refused; the output buffer holds a rejection (see [`crate::reject`]). The host keeps its
    /// old blob: the instance is unchanged.
    pub const REJECTED: i32 = 1;
    /// A query was answered; the output buffer holds the answer (see [`crate::query`]). Nothing changed.
    pub const ANSWERED: i32 = 2;
}

/// The result header at the start of the output buffer after [`status::OK`] (little-endian).
pub mod header {
    /// `u32`: the length of the new case blob at [`crate::exports::CASE_BASE`].
    pub const CASE_LEN: usize = 0;
    /// `u32`: the number of bytes of effects after the header.
    pub const EFFECTS_LEN: usize = 4;
    /// `i64`: the instance's next wake-up time ([`crate::NO_TIME`] if none): call `advance` then.
    pub const NEXT_WAKEUP: usize = 8;
    /// `u32`: the instance's status after the event (see [`crate::instance`]).
    pub const INSTANCE_STATUS: usize = 16;
    /// `u32`: the number of effects.
    pub const EFFECT_COUNT: usize = 20;
    /// The header's size; effects follow.
    pub const SIZE: usize = 24;
}

/// An instance's status.
pub mod instance {
    /// Still running.
    pub const RUNNING: u32 = 0;
    /// Ended with `complete`.
    pub const COMPLETED: u32 = 1;
    /// Ended with `fail`, or by a fault.
    pub const FAILED: u32 = 2;
    /// Cancelled by the host.
    pub const CANCELLED: u32 = 3;
}

/// The abort area: when the module traps on purpose it first writes `u32 code, u32 len, bytes` here.
pub mod abort {
    /// The case needs more heap than `heap_limit` allows: call again with a higher limit.
    pub const NEED_HEAP: u32 = 1;
    /// The effects do not fit in `out_cap` bytes: call again with a bigger output buffer.
    pub const NEED_OUT: u32 = 2;
    /// The event bytes are malformed (cut short, unknown kind, out-of-range id).
    pub const BAD_EVENT: u32 = 3;
    /// The workflow hit a run-time error (e.g. it read the output of a step that never ran); the message
    /// follows. The host then sends [`crate::event::FAULT`] with the message, which fails the instance.
    pub const FAULT: u32 = 4;
    /// The size of the abort area in bytes (code, length and up to this many minus 8 message bytes).
    pub const AREA_SIZE: usize = 1024;
}

/// Event kinds: the first `u32` of the input buffer. The encoding of each follows in its doc.
///
/// `TEXT` is `u32 length` + UTF-8 bytes. `ACTOR` is `TEXT id, u32 n, n × u32 role, u32 m, m × u32 skill,
/// u8 admin` (ids index [`Metadata::roles`] and [`Metadata::skills`]). Values are encoded by type (see
/// [`crate::TypeDesc`]).
pub mod event {
    /// `u32 process, params…` — the blob must be empty (`case_len` 0).
    pub const START: u32 = 1;
    /// `u32 task, u32 step, ACTOR, outputs…` (in the step's output order; the step must be the task's).
    pub const COMPLETE: u32 = 2;
    /// `u32 signal, payload fields…`.
    pub const SIGNAL: u32 = 3;
    /// (nothing) — fire every timer due at or before `now`, in time order.
    pub const ADVANCE: u32 = 4;
    /// `TEXT reason` — cancel the instance.
    pub const CANCEL: u32 = 5;
    /// `u32 request, u32 action, u8 ok, (result | TEXT error)` — the host performed an action (the action
    /// must be the one requested).
    pub const ACTION_RESULT: u32 = 6;
    /// `u32 task, ACTOR` — the actor takes the task; only they may complete it.
    pub const CLAIM: u32 = 7;
    /// `u32 task, ACTOR` — the claimant (or a manager) gives the task back.
    pub const RELEASE: u32 = 8;
    /// `u32 task, ACTOR, ACTOR target` — hand the task to a named colleague who may perform it.
    pub const DELEGATE: u32 = 9;
    /// `u32 task, ACTOR, u32 role` — a manager gives the task to another role.
    pub const REASSIGN: u32 = 10;
    /// `u32 task, ACTOR` — a manager puts the task on hold; its deadline stops.
    pub const SUSPEND: u32 = 11;
    /// `u32 task, ACTOR` — a manager takes the task off hold; its deadline runs again.
    pub const RESUME: u32 = 12;
    /// `u32 task, ACTOR` — a manager skips a `skippable` step; the flow continues without its outputs.
    pub const SKIP: u32 = 13;
    /// `u32 step, ACTOR` — a manager sends the flow back to an earlier step of the same flow.
    pub const REDO: u32 = 14;
    /// `u32 process, TEXT message` — fail the instance after a [`crate::abort::FAULT`]. With an empty blob (the
    /// fault happened while starting) it creates the instance of `process`, failed; otherwise `process` is ignored.
    pub const FAULT: u32 = 15;
    /// (nothing) — answer with the instance's state (see [`crate::query`]); changes nothing.
    pub const QUERY: u32 = 16;
}

/// Effect tags: each effect is `u8 tag` followed by its fields, as documented on each tag.
pub mod effect {
    /// `u32 task, u32 step, u8 performer, u32 role, TEXT person, TEXT basis, TEXT excluded, u32 n, n × u32 skill,
    /// i64 due, i64 earliest, TEXT instruction`. `performer` is one of [`crate::performer`]; `role` is
    /// [`crate::NO_ID`] when the task is for a person; `basis` is the person whose manager is asked (manager
    /// rule) or empty; `excluded` is the person who may not do it (four eyes) or empty; times are
    /// [`crate::NO_TIME`] when absent (`earliest` is `i64::MIN` when absent).
    pub const TASK_OPENED: u8 = 1;
    /// `u32 task, u32 step, TEXT actor, outputs…`.
    pub const TASK_COMPLETED: u8 = 2;
    /// `u32 task, u32 step, u8 reason` (one of [`crate::cancel_reason`]).
    pub const TASK_CANCELLED: u8 = 3;
    /// `u32 task, u32 step, i64 due` — the deadline passed without a completion.
    pub const TASK_BREACHED: u8 = 4;
    /// `u32 task, u32 step, u32 role, u8 cause, TEXT by` — cause 0: an escalation stage; 1: a `reassign` event.
    pub const TASK_REASSIGNED: u8 = 5;
    /// `u32 role, TEXT message, u32 task` — task is [`crate::NO_ID`] for a `notify` statement.
    pub const NOTIFIED: u8 = 6;
    /// `TEXT message, u32 task`.
    pub const FLAGGED: u8 = 7;
    /// `u32 request, u32 action, arguments…` — answer with [`crate::event::ACTION_RESULT`].
    pub const ACTION_REQUESTED: u8 = 8;
    /// `u8 kind, …` — kind 0: no value; 1: the process's result value follows; 2: `TEXT reason` follows.
    pub const COMPLETED: u8 = 9;
    /// `TEXT reason`.
    pub const FAILED: u8 = 10;
    /// `TEXT reason`.
    pub const CANCELLED: u8 = 11;
    /// `u32 task, u32 step, TEXT actor`.
    pub const TASK_CLAIMED: u8 = 12;
    /// `u32 task, u32 step, TEXT actor`.
    pub const TASK_RELEASED: u8 = 13;
    /// `u32 task, u32 step, TEXT by, TEXT to`.
    pub const TASK_DELEGATED: u8 = 14;
    /// `u32 task, u32 step, TEXT by`.
    pub const TASK_SUSPENDED: u8 = 15;
    /// `u32 task, u32 step, TEXT by, i64 due`.
    pub const TASK_RESUMED: u8 = 16;
    /// `u32 task, u32 step, TEXT by`.
    pub const TASK_SKIPPED: u8 = 17;
    /// `u32 step, TEXT by` — the flow went back to the step, which opens again.
    pub const STEP_REDONE: u8 = 18;
    /// `u32 task, u32 step` — the deadline stopped while waiting on the customer.
    pub const DEADLINE_PAUSED: u8 = 19;
    /// `u32 task, u32 step, i64 due` — the deadline runs again, with this due time.
    pub const DEADLINE_RESUMED: u8 = 20;
    /// `i64 due` — the process's own deadline (`process … within D`) passed.
    pub const PROCESS_BREACHED: u8 = 21;
}

/// How a task's performer was chosen (the `u8 performer` of [`effect::TASK_OPENED`]).
pub mod performer {
    /// `by Role (with skill …)`.
    pub const ROLE: u8 = 0;
    /// `by person EXPR`.
    pub const PERSON: u8 = 1;
    /// `by role EXPR`.
    pub const DYNAMIC_ROLE: u8 = 2;
    /// `by manager of STEP` (the `basis` is the person whose manager was asked).
    pub const MANAGER_OF: u8 = 3;
    /// `by same person as STEP`.
    pub const SAME_PERSON: u8 = 4;
}

/// Why a task was cancelled (the `u8 reason` of [`effect::TASK_CANCELLED`]).
pub mod cancel_reason {
    /// An escalation stage `cancel` withdrew it after a breach.
    pub const BREACH: u8 = 0;
    /// Another branch won (`first`, `parallel any`, `N of`), or its branch was cancelled.
    pub const BRANCH_ENDED: u8 = 1;
    /// A `cancel STEP` statement.
    pub const CANCEL_STATEMENT: u8 = 2;
    /// The instance ended (completed, failed or cancelled).
    pub const INSTANCE_ENDED: u8 = 3;
    /// A `redo` event sent the flow back to an earlier step.
    pub const REDO: u8 = 4;
    /// Nobody completed it before it expired (`expires after`); this is no breach.
    pub const EXPIRED: u8 = 5;
}

/// Rejections: after [`status::REJECTED`] the output buffer holds `u32 code, u32 task, u32 arg, TEXT detail`.
/// `arg` is a role, skill or step id depending on the code; `detail` a person id.
pub mod reject {
    /// No open task has this id.
    pub const UNKNOWN_TASK: u32 = 1;
    /// The task is on hold (suspended).
    pub const TASK_SUSPENDED: u32 = 2;
    /// The actor does not hold the task's role (`arg`).
    pub const NOT_IN_ROLE: u32 = 3;
    /// The actor lacks a required skill (`arg`).
    pub const MISSING_SKILL: u32 = 4;
    /// The task is for one named person (`detail`).
    pub const NOT_THE_PERSON: u32 = 5;
    /// Four eyes: the actor did the earlier step this one must be done by someone else than (`detail`).
    pub const FOUR_EYES: u32 = 6;
    /// Too early: the step's `after` lag has not passed.
    pub const TOO_EARLY: u32 = 7;
    /// The step may only be done during its calendar's hours (`arg` is the calendar).
    pub const OUTSIDE_HOURS: u32 = 8;
    /// Someone else (`detail`) has claimed the task.
    pub const CLAIMED_BY_OTHER: u32 = 9;
    /// The instance has ended.
    pub const INSTANCE_ENDED: u32 = 10;
    /// Nothing in the instance waits for this signal (`arg`).
    pub const SIGNAL_NOT_AWAITED: u32 = 11;
    /// No action request with this id is pending.
    pub const UNKNOWN_REQUEST: u32 = 12;
    /// The actor may not manage this task (reassign, suspend, resume, skip, redo).
    pub const NOT_A_MANAGER: u32 = 13;
    /// The step (`arg`) is not `skippable`.
    pub const NOT_SKIPPABLE: u32 = 14;
    /// The step (`arg`) cannot be redone now (it has not run, or its flow has moved on to other branches).
    pub const CANNOT_REDO: u32 = 15;
    /// The task is not claimed.
    pub const NOT_CLAIMED: u32 = 16;
    /// The colleague (`detail`) may not perform the task.
    pub const DELEGATE_NOT_ELIGIBLE: u32 = 17;
    /// The task is not suspended.
    pub const NOT_SUSPENDED: u32 = 18;
    /// No process has this id.
    pub const UNKNOWN_PROCESS: u32 = 19;
    /// The task is already claimed by the person (`detail`) the claim or delegation would give it to.
    pub const ALREADY_CLAIMED: u32 = 20;
    /// The actor tried to delegate the task to themselves.
    pub const DELEGATE_TO_SELF: u32 = 21;
}

/// The answer to [`event::QUERY`]: `u32 status, u32 process, i64 started, i64 now, i64 next_wakeup,
/// u32 n, n × TASK, params…, u32 m, m × STEP`, where `TASK` is `u32 task, u32 step, u8 state, u32 role,
/// TEXT person, TEXT claimed_by, i64 opened, i64 due, TEXT instruction` and `STEP` is
/// `u32 step, u8 done, u8 breached, TEXT done_by, i64 completed_at, outputs…` (outputs only when done) for
/// the steps of the process body that have run (the latest run of each).
pub mod query {
    /// The task is open.
    pub const TASK_OPEN: u8 = 0;
    /// The task is suspended.
    pub const TASK_SUSPENDED: u8 = 1;
    /// A wait for a signal (`await`), with its signal id and timeout.
    pub const WAIT_SIGNAL: u8 = 1;
    /// A wait for the host to perform an action, with the action id and the request id.
    pub const WAIT_ACTION: u8 = 2;
    /// A wait for a time (`wait`, or an `every` loop between its rounds).
    pub const WAIT_TIME: u8 = 3;
}
