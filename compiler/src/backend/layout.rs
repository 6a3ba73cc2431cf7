//! The module's memory map and the layout of everything a case keeps in its blob. Private to the back end: hosts
//! see only the blob's bytes (and [`proc_abi`]'s call protocol).
//!
//! ```text
//! 0        16            1040    1072    1104      2048                 CASE_BASE
//! | unused | abort area  | actor | actor | scratch | static data …      | case blob (header, heap) … | in | out
//! ```
//!
//! A case blob starts with a [`header`]; everything else (fibers, tasks, frames, step records, values) lives on
//! the blob's heap, addressed by absolute pointers (blobs are always loaded at `CASE_BASE`). Pointer 0 means
//! "none". Values are 8-byte slots: numbers, times, booleans, enum variants and role ids directly; texts
//! (`u32 length` + bytes), records (`n × slot`), lists (`u32 count, u32 unused, n × slot`) and optionals
//! (a pointer to one slot, or 0 for none) by pointer.

/// The abort area (see [`proc_abi::abort`]).
pub const ABORT_AREA: u32 = 16;
/// The decoded acting person of an event: `u32 id (text ptr), u32 roles ptr, u32 role count, u32 skills ptr,
/// u32 skill count, u32 admin`.
pub const ACTOR: u32 = ABORT_AREA + proc_abi::abort::AREA_SIZE as u32;
/// The second person of an event (a delegation's colleague).
pub const TARGET: u32 = ACTOR + 32;
/// An 8-byte slot that discarded results are written to.
pub const SCRATCH: u32 = TARGET + 32;
/// 32 bytes where numbers are turned into digits.
pub const DIGITS: u32 = SCRATCH + 8;
/// Where static data (texts, tables) starts.
pub const STATIC_BASE: u32 = 2048;

/// Offsets inside an actor record.
pub mod actor {
    /// Text pointer of the person's id.
    pub const ID: u32 = 0;
    /// Pointer to `u32` role ids.
    pub const ROLES: u32 = 4;
    /// Number of role ids.
    pub const NROLES: u32 = 8;
    /// Pointer to `u32` skill ids.
    pub const SKILLS: u32 = 12;
    /// Number of skill ids.
    pub const NSKILLS: u32 = 16;
    /// 1 if the host says the person may manage every task.
    pub const ADMIN: u32 = 20;
}

/// The case header, at the start of a blob.
pub mod header {
    /// `u32` [`MAGIC`].
    pub const MAGIC: u32 = 0;
    /// `u32` instance status ([`proc_abi::instance`]).
    pub const STATUS: u32 = 4;
    /// `u32` process id.
    pub const PROCESS: u32 = 8;
    /// `u32` the heap's end (absolute), saved at the end of each event.
    pub const HEAP_TOP: u32 = 12;
    /// `i64` start time.
    pub const STARTED: u32 = 16;
    /// `i64` time of the latest event.
    pub const NOW: u32 = 24;
    /// `u32` the next task id.
    pub const NEXT_TASK: u32 = 32;
    /// `u32` the next action request id.
    pub const NEXT_REQUEST: u32 = 36;
    /// `u32` first live fiber.
    pub const FIBERS: u32 = 40;
    /// `u32` last live fiber.
    pub const FIBERS_TAIL: u32 = 44;
    /// `u32` first open task.
    pub const TASKS: u32 = 48;
    /// `u32` last open task.
    pub const TASKS_TAIL: u32 = 52;
    /// `6 × u32` free lists of the size classes 16, 32, 64, 128, 256, 512.
    pub const FREE: u32 = 56;
    /// `i64` the process deadline, then (after it passed) the time of the next stage of the case's own ladder
    /// ([`proc_abi::NO_TIME`] if none).
    pub const DEADLINE: u32 = 80;
    /// `u32` the process's root frame.
    pub const ROOT_FRAME: u32 = 88;
    /// `u32` 0 while the process deadline has not passed; then 1 + the stage of the case's own ladder (`on breach`
    /// in the process's body) that [`DEADLINE`] is the time of.
    pub const CASE_STAGE: u32 = 92;
    /// `i64` the next wake-up, as computed at the end of the last event (no timer fires before it).
    pub const WAKE: u32 = 96;
    /// The header's size; the heap starts after it.
    pub const SIZE: u32 = 104;
    /// "PRC1".
    pub const MAGIC_VALUE: i32 = 0x3143_5250;
}

/// Number of allocator size classes (16 … 512 bytes).
pub const SIZE_CLASSES: u32 = 6;

/// A fiber: one thread of a flow (the process body, a branch, one item of a parallel `for each`).
pub mod fiber {
    /// `u32` next live fiber.
    pub const NEXT: u32 = 0;
    /// `u32` [`READY`] or [`BLOCKED`].
    pub const STATUS: u32 = 4;
    /// `u32` the unit (function table index) it runs.
    pub const UNIT: u32 = 8;
    /// `u32` where in the unit it resumes.
    pub const PC: u32 = 12;
    /// `u32` the frame it runs in.
    pub const FRAME: u32 = 16;
    /// `u32` the fiber waiting for it to finish (0 for the root).
    pub const PARENT: u32 = 20;
    /// `u32` what it waits for (the `WAIT_*` constants).
    pub const WAIT: u32 = 24;
    /// `u32` task pointer, signal id or request id it waits for.
    pub const WAIT_ARG: u32 = 28;
    /// `i64` when a timer or timeout wakes it ([`proc_abi::NO_TIME`] if never).
    pub const WAKE: u32 = 32;
    /// `u32` branches started (join), or the action id (action wait), or 1 for an optional await.
    pub const JOIN_TOTAL: u32 = 40;
    /// `u32` branches needed before continuing.
    pub const JOIN_NEEDED: u32 = 44;
    /// `u32` branches finished.
    pub const JOIN_DONE: u32 = 48;
    /// `u32` address the awaited value is written to (0: discard).
    pub const DEST: u32 = 52;
    /// `u32` the branch unit it was started for (for `cancel branch`).
    pub const ORIGIN: u32 = 56;
    /// `u32` the frame it was started in.
    pub const SPAWN_FRAME: u32 = 60;
    /// Size in bytes.
    pub const SIZE: u32 = 64;

    /// Runnable.
    pub const READY: i32 = 1;
    /// Waiting.
    pub const BLOCKED: i32 = 2;

    /// Waiting for nothing.
    pub const WAIT_NONE: i32 = 0;
    /// Waiting for a task to be completed.
    pub const WAIT_TASK: i32 = 1;
    /// Waiting for a signal (with an optional timeout).
    pub const WAIT_SIGNAL: i32 = 2;
    /// Waiting for a time.
    pub const WAIT_TIMER: i32 = 3;
    /// Waiting for branches.
    pub const WAIT_JOIN: i32 = 4;
    /// Waiting for the host to perform an action.
    pub const WAIT_ACTION: i32 = 5;
    /// Waiting for a time, like [`WAIT_TIMER`], but also woken whenever something else happened (another fiber
    /// ran): an `every … until c` loop between rounds, which looks at `c` again and either ends or sleeps on.
    pub const WAIT_ROUND: i32 = 6;
}

/// What a unit function returns to the scheduler.
pub mod run {
    /// The fiber changed units (a call or a return): run it again.
    pub const CONTINUE: i32 = 0;
    /// The fiber waits.
    pub const BLOCKED: i32 = 1;
    /// The fiber's unit finished: the branch is done.
    pub const DONE: i32 = 2;
    /// The fiber no longer exists (a `return` from inside a branch).
    pub const KILLED: i32 = 3;
    /// The instance ended.
    pub const ENDED: i32 = 4;
}

/// An open task.
pub mod task {
    /// `u32` next open task.
    pub const NEXT: u32 = 0;
    /// `u32` task id.
    pub const ID: u32 = 4;
    /// `u32` step id.
    pub const STEP: u32 = 8;
    /// `u32` [`OPEN`] or [`SUSPENDED`].
    pub const STATUS: u32 = 12;
    /// `u32` the fiber waiting for it.
    pub const FIBER: u32 = 16;
    /// `u32` the frame of the step (for escalation messages).
    pub const FRAME: u32 = 20;
    /// `u32` the step record.
    pub const RECORD: u32 = 24;
    /// `u32` role id ([`proc_abi::NO_ID`] if for a person).
    pub const ROLE: u32 = 28;
    /// `u32` text: the one person who may do it (0: anyone with the role).
    pub const PERSON: u32 = 32;
    /// `u32` text: the person who may not do it (0: nobody excluded).
    pub const EXCLUDED: u32 = 36;
    /// `u32` text: whose manager the task is for (0 unless `manager of`).
    pub const BASIS: u32 = 40;
    /// `u32` text: who claimed it (0: nobody).
    pub const CLAIMED: u32 = 44;
    /// `i64` when it opened.
    pub const OPENED: u32 = 48;
    /// `i64` due time ([`proc_abi::NO_TIME`]: none, or paused).
    pub const DUE: u32 = 56;
    /// `i64` earliest completion (`i64::MIN`: any time).
    pub const EARLIEST: u32 = 64;
    /// `u32` next escalation stage.
    pub const STAGE: u32 = 72;
    /// `u32` flags: [`BREACHED`], [`REASSIGNED`], [`PAUSED`].
    pub const FLAGS: u32 = 76;
    /// `i64` when the next escalation stage fires ([`proc_abi::NO_TIME`] if none).
    pub const STAGE_AT: u32 = 80;
    /// `i64` when the deadline was paused.
    pub const PAUSED_AT: u32 = 88;
    /// `i64` the time left when paused.
    pub const REMAINING: u32 = 96;
    /// `u32` text: the instruction.
    pub const INSTRUCTION: u32 = 104;
    /// `u32` performer kind ([`proc_abi::performer`]).
    pub const PERFORMER: u32 = 108;
    /// `i64` when it was breached.
    pub const BREACHED_AT: u32 = 112;
    /// `i64` when it expires (`expires after`; [`proc_abi::NO_TIME`] if never). Kept only by modules with a step
    /// that expires (the other modules leave it zero and never read it).
    pub const EXPIRES: u32 = 120;
    /// Size in bytes.
    pub const SIZE: u32 = 128;

    /// Open.
    pub const OPEN: i32 = 1;
    /// On hold.
    pub const SUSPENDED: i32 = 2;

    /// The deadline passed.
    pub const BREACHED: i32 = 1;
    /// Reassigned: skills no longer required.
    pub const REASSIGNED: i32 = 2;
    /// Deadline paused by a signal (`paused from … until …`).
    pub const PAUSED: i32 = 4;
    /// Deadline paused by a suspension.
    pub const SUSPEND_PAUSED: i32 = 8;
}

/// A frame: the slots of one flow activation (or one item of a parallel `for each`).
pub mod frame {
    /// `u32` the unit to return to.
    pub const CALLER_UNIT: u32 = 0;
    /// `u32` where to resume the caller.
    pub const CALLER_PC: u32 = 4;
    /// `u32` the caller's frame.
    pub const CALLER_FRAME: u32 = 8;
    /// `u32` the enclosing frame (static link) for iteration frames.
    pub const LINK: u32 = 12;
    /// `u32` where the result goes (0: discard).
    pub const DEST: u32 = 16;
    /// `u32` the frame's size in bytes.
    pub const SIZE: u32 = 20;
    /// `u32` the fiber that called the procedure.
    pub const OWNER: u32 = 24;
    /// Where slots start.
    pub const SLOTS: u32 = 32;
}

/// A step record: what a step's name means as a value (`assess.urgency`, `assess.done_by`, …).
pub mod record {
    /// Text: who completed it.
    pub const DONE_BY: u32 = 0;
    /// Time: when.
    pub const COMPLETED_AT: u32 = 8;
    /// Bool: its deadline passed.
    pub const BREACHED: u32 = 16;
    /// Bool: completed.
    pub const DONE: u32 = 24;
    /// How it ended without a completion: 0 (it did not), [`SKIPPED`] or [`EXPIRED`].
    pub const CLOSED: u32 = 32;
    /// [`CLOSED`]: skipped by a manager.
    pub const SKIPPED: i64 = 1;
    /// [`CLOSED`]: its task expired (`expires after`).
    pub const EXPIRED: i64 = 2;
    /// Where outputs start (one slot each).
    pub const OUTPUTS: u32 = 40;
}

/// An entry of the static step table.
pub mod step {
    /// `u32` bit 0: skippable.
    pub const FLAGS: u32 = 0;
    /// `u32` calendar of `only during` ([`proc_abi::NO_ID`] if none).
    pub const ONLY_DURING: u32 = 4;
    /// `u32` calendar of a business-time `within` ([`proc_abi::NO_ID`] if none).
    pub const CALENDAR: u32 = 8;
    /// `u32` signal that pauses the deadline.
    pub const PAUSE_FROM: u32 = 12;
    /// `u32` signal that resumes it.
    pub const PAUSE_UNTIL: u32 = 16;
    /// `u32` number of required skills.
    pub const NSKILLS: u32 = 20;
    /// `u32` pointer to `u32` skill ids.
    pub const SKILLS: u32 = 24;
    /// `u32` number of escalation stages.
    pub const NSTAGES: u32 = 28;
    /// `u32` pointer to `i64` stage offsets (after the breach).
    pub const STAGE_OFFSETS: u32 = 32;
    /// `u32` table index of the stage function.
    pub const STAGE_FN: u32 = 36;
    /// `u32` table index of the output decoder.
    pub const DECODE_FN: u32 = 40;
    /// `u32` table index of the output encoder.
    pub const ENCODE_FN: u32 = 44;
    /// `u32` number of roles that may manage the task.
    pub const NMANAGERS: u32 = 48;
    /// `u32` pointer to `u32` role ids.
    pub const MANAGERS: u32 = 52;
    /// `u32` the unit the step is in.
    pub const UNIT: u32 = 56;
    /// `u32` the block that opens it (for `redo`).
    pub const PC: u32 = 60;
    /// `u32` number of outputs.
    pub const NOUTPUTS: u32 = 64;
    /// `u32` static text: its name.
    pub const NAME: u32 = 68;
    /// `u32` the slot of its record in its frame (for `redo`).
    pub const SLOT: u32 = 72;
    /// `u32` pointer to `u32` stage calendars, one per stage ([`proc_abi::NO_ID`]: clock time).
    pub const STAGE_CALENDARS: u32 = 76;
    /// Size of an entry.
    pub const SIZE: u32 = 80;

    /// Flag: a manager may skip it.
    pub const SKIPPABLE: i32 = 1;
}
