//! One wasmtime instance of a module that runs events for many cases: each call copies a case's blob in,
//! handles one event, and copies the new blob out. A case is data; creating one costs no instantiation.
//!
//! The call protocol (see `docs/abi.md`) lays memory out per call as
//! `[case blob + heap headroom | event | output buffer]` from the module's case base. If the module runs out
//! of heap or output space it stops on purpose; the call is simply repeated with more room (the host's copy of
//! the blob is untouched, and the module is deterministic, so the retry does exactly what the first try would
//! have done with enough room).

use crate::directory::Directory;
use crate::error::Error;
use crate::module::{HostState, Module};
use proc_abi::{abort, exports, header, status};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Memory, Store, StoreLimitsBuilder, Trap, TypedFunc};

/// Limits on what one event may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long one event may run; a module that loops is stopped here and the event is not applied. Measured in
    /// ticks of 10 ms, so the limit is kept to within a tick. Events of real workflows take microseconds.
    pub time_per_event: Duration,
    /// The most bytes one instance's state may take: an event that would make it larger is refused (a timer
    /// that would fails its instance), and no event may use more working memory than this either.
    pub max_instance_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_per_event: Duration::from_secs(1),
            max_instance_bytes: 16 << 20,
        }
    }
}

impl Limits {
    /// Refuses limits no event could meet: a time below one tick of the watchdog (10 ms), which would stop
    /// events at random, or no memory at all.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let tick = crate::module::TICK;
        if self.time_per_event < tick {
            return Err(Error::InvalidOptions(format!(
                "`limits.time_per_event` is {:?}; it must be at least {tick:?}, one tick of the watchdog that \
                 stops runaway events",
                self.time_per_event
            )));
        }
        if self.max_instance_bytes == 0 {
            return Err(Error::InvalidOptions(
                "`limits.max_instance_bytes` is 0, so no instance could start; give the most bytes one \
                 instance's state may take (the default is 16 MiB)"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

/// How an event ended.
pub(crate) enum Reply {
    /// Applied: where the effects are, and the header fields.
    Applied {
        /// Where the effects' bytes are in the module's memory (read them with [`Worker::bytes`]).
        effects: std::ops::Range<usize>,
        /// Number of effects.
        count: usize,
        /// Next wake-up.
        wake: i64,
        /// Instance status.
        status: u32,
    },
    /// Refused: `code, task, arg, detail`.
    Rejected(u32, u32, u32, String),
    /// A query's answer.
    Answered(Vec<u8>),
}

/// Why a call did not produce a reply.
pub(crate) enum CallError {
    /// The module could not read the event.
    BadEvent,
    /// The workflow hit a run-time error; the instance should be failed with this message.
    Fault(String),
    /// The event needs more memory or output than an instance may have (the module is deterministic: the same
    /// event would need it again).
    Limit(String),
    /// The event ran past its time limit (measured in wall-clock time, so another try may finish).
    Timeout(String),
    /// The host could not give the module more memory.
    Memory(String),
    /// Anything else.
    Trap(String),
}

/// `proc_handle(case_len, heap_limit, in_ptr, in_len, out_ptr, out_cap, now) -> status`.
type Handle = TypedFunc<(i32, i32, i32, i32, i32, i32, i64), i32>;

pub(crate) struct Worker {
    store: Store<HostState>,
    memory: Memory,
    handle: Handle,
    case_base: usize,
    abort_area: usize,
    headroom: usize,
    out_cap: usize,
    memory_size: usize,
    /// The case whose blob memory holds right now, unchanged since an applied event wrote it: its copy-in can be
    /// skipped. Every call forgets it, and only an applied event of a case sets it again (a refusal may have
    /// changed the copy; a call for no case, such as a query, puts another blob there).
    resident: Option<u64>,
    limits: Limits,
    /// [`Limits::time_per_event`] in epoch ticks, set before every call.
    deadline_ticks: u64,
}

const MAX_OUT: usize = 64 << 20;

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

fn i32_of(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn word(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn long(bytes: &[u8], at: usize) -> i64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, i64::from_le_bytes)
}

/// The epoch deadline for one call: the time limit in ticks, plus one because the first tick may come at once.
fn deadline_ticks(limits: &Limits) -> u64 {
    let tick = crate::module::TICK.as_millis().max(1);
    let ticks = limits.time_per_event.as_millis().div_ceil(tick);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

impl Worker {
    pub(crate) fn new(
        module: &Module,
        directory: Arc<dyn Directory>,
        limits: Limits,
    ) -> Result<Worker, Error> {
        let inner = &module.inner;
        let state = HostState {
            calendars: inner.calendars.clone(),
            directory,
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.max_instance_bytes.saturating_mul(4) + (256 << 20))
                .instances(1)
                .build(),
        };
        let mut store = Store::new(&inner.engine, state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        let deadline_ticks = deadline_ticks(&limits);
        store.set_epoch_deadline(deadline_ticks);
        let instance = inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| Error::InvalidModule(format!("it cannot be instantiated: {e}")))?;
        let missing = |name: &str| Error::InvalidModule(format!("it does not export `{name}`"));
        let memory = instance
            .get_memory(&mut store, exports::MEMORY)
            .ok_or_else(|| missing(exports::MEMORY))?;
        let get_i32 = |store: &mut Store<HostState>, name: &str| -> Result<i32, Error> {
            let f = instance
                .get_typed_func::<(), i32>(&mut *store, name)
                .map_err(|_| missing(name))?;
            f.call(&mut *store, ())
                .map_err(|e| Error::InvalidModule(format!("`{name}` failed: {e}")))
        };
        let version = get_i32(&mut store, exports::ABI_VERSION)?;
        if u32::try_from(version).ok() != Some(proc_abi::ABI_VERSION) {
            return Err(Error::InvalidModule(format!(
                "it reports ABI version {version}, and this runtime runs version {}",
                proc_abi::ABI_VERSION
            )));
        }
        let case_base = usize::try_from(get_i32(&mut store, exports::CASE_BASE)?).unwrap_or(0);
        let abort_area = usize::try_from(get_i32(&mut store, exports::ABORT_AREA)?).unwrap_or(0);
        let handle = instance
            .get_typed_func(&mut store, exports::HANDLE)
            .map_err(|e| {
                Error::InvalidModule(format!("`{}` has the wrong type: {e}", exports::HANDLE))
            })?;
        Ok(Worker {
            store,
            memory,
            handle,
            case_base,
            abort_area,
            headroom: 4096,
            out_cap: 16 << 10,
            memory_size: 0,
            resident: None,
            limits,
            deadline_ticks,
        })
    }

    pub(crate) fn set_directory(&mut self, directory: Arc<dyn Directory>) {
        self.store.data_mut().directory = directory;
    }

    /// After a [`Reply::Applied`]: its effects' bytes and the new blob (`len` bytes at the case base), read with
    /// one look-up of the memory.
    pub(crate) fn output(&self, effects: std::ops::Range<usize>, len: usize) -> (&[u8], &[u8]) {
        let data = self.memory.data(&self.store);
        (
            data.get(effects).unwrap_or_default(),
            data.get(self.case_base..self.case_base + len)
                .unwrap_or_default(),
        )
    }

    fn ensure_memory(&mut self, end: usize) -> Result<(), CallError> {
        if end <= self.memory_size {
            return Ok(());
        }
        let size = self.memory.data_size(&self.store);
        if end > size {
            let pages = (end - size).div_ceil(65_536) as u64;
            self.memory.grow(&mut self.store, pages).map_err(|_| {
                CallError::Memory("the runtime could not give the workflow more memory".to_string())
            })?;
        }
        self.memory_size = self.memory.data_size(&self.store);
        Ok(())
    }

    /// Bytes of the module's memory (effects after a call).
    pub(crate) fn bytes(&self, range: std::ops::Range<usize>) -> &[u8] {
        self.memory.data(&self.store).get(range).unwrap_or_default()
    }

    /// Runs one event against a case blob. On [`Reply::Applied`] the new blob is readable with
    /// [`Worker::blob`] (its length is the first header word, returned as `case_len`).
    pub(crate) fn call(
        &mut self,
        case: Option<u64>,
        blob: &[u8],
        event: &[u8],
        now: i64,
    ) -> Result<(Reply, usize), CallError> {
        // Taken whatever the call: a call for no case (a query, a check of a restored blob) puts another blob in
        // memory too.
        let was = self.resident.take();
        let mut resident = case.is_some() && case == was;
        loop {
            let heap_limit = align8(self.case_base + blob.len() + self.headroom);
            let in_ptr = heap_limit;
            let out_ptr = align8(in_ptr + event.len());
            let end = out_ptr + self.out_cap;
            self.ensure_memory(end)?;
            {
                let data = self.memory.data_mut(&mut self.store);
                if !resident {
                    if let Some(target) = data.get_mut(self.case_base..self.case_base + blob.len())
                    {
                        target.copy_from_slice(blob);
                    }
                }
                if let Some(target) = data.get_mut(in_ptr..in_ptr + event.len()) {
                    target.copy_from_slice(event);
                }
                if let Some(target) = data.get_mut(self.abort_area..self.abort_area + 8) {
                    target.fill(0);
                }
            }
            self.store.set_epoch_deadline(self.deadline_ticks);
            let result = self.handle.call(
                &mut self.store,
                (
                    i32_of(blob.len()),
                    i32_of(heap_limit),
                    i32_of(in_ptr),
                    i32_of(event.len()),
                    i32_of(out_ptr),
                    i32_of(self.out_cap),
                    now,
                ),
            );
            let data = self.memory.data(&self.store);
            match result {
                Ok(code) => {
                    let out = data.get(out_ptr..end).unwrap_or_default();
                    return Ok(match code {
                        status::OK => {
                            let case_len = word(out, header::CASE_LEN) as usize;
                            if case_len > self.limits.max_instance_bytes {
                                return Err(CallError::Limit(format!(
                                    "the instance's state would take {case_len} bytes, more than its limit of {} \
                                     bytes",
                                    self.limits.max_instance_bytes
                                )));
                            }
                            let effects_len = word(out, header::EFFECTS_LEN) as usize;
                            let start = out_ptr + header::SIZE;
                            let effects = start..(start + effects_len).min(end);
                            self.resident = case;
                            (
                                Reply::Applied {
                                    effects,
                                    count: word(out, header::EFFECT_COUNT) as usize,
                                    wake: long(out, header::NEXT_WAKEUP),
                                    status: word(out, header::INSTANCE_STATUS),
                                },
                                case_len,
                            )
                        }
                        status::ANSWERED => (Reply::Answered(out.to_vec()), 0),
                        _ => {
                            let mut r = crate::codec::Reader::new(out);
                            let code = r.u32().unwrap_or(0);
                            let task = r.u32().unwrap_or(0);
                            let arg = r.u32().unwrap_or(0);
                            let detail = r.text().unwrap_or_default().to_string();
                            (Reply::Rejected(code, task, arg, detail), 0)
                        }
                    });
                }
                Err(error) => {
                    // The copy in memory may have changed: copy the blob in again on a retry.
                    resident = false;
                    let code = word(data, self.abort_area);
                    match code {
                        abort::NEED_HEAP => {
                            if self.headroom >= self.limits.max_instance_bytes {
                                return Err(CallError::Limit(format!(
                                    "the instance would need more than {} bytes of memory, its limit",
                                    self.limits.max_instance_bytes
                                )));
                            }
                            self.headroom = (self.headroom * 4).min(self.limits.max_instance_bytes);
                        }
                        abort::NEED_OUT => {
                            if self.out_cap >= MAX_OUT {
                                return Err(CallError::Limit(
                                    "the event produced more effects than fit in 64 MiB"
                                        .to_string(),
                                ));
                            }
                            self.out_cap = (self.out_cap * 4).min(MAX_OUT);
                        }
                        abort::BAD_EVENT => return Err(CallError::BadEvent),
                        abort::FAULT => {
                            let len = (word(data, self.abort_area + 4) as usize)
                                .min(abort::AREA_SIZE - 8);
                            let message = data
                                .get(self.abort_area + 8..self.abort_area + 8 + len)
                                .map(|b| String::from_utf8_lossy(b).into_owned())
                                .unwrap_or_default();
                            return Err(CallError::Fault(message));
                        }
                        _ => {
                            return Err(match error.downcast_ref::<Trap>() {
                                Some(Trap::Interrupt) => CallError::Timeout(format!(
                                    "the workflow did not finish the event within {} ms and was stopped",
                                    self.limits.time_per_event.as_millis()
                                )),
                                _ => CallError::Trap(format!("{error:#}")),
                            });
                        }
                    }
                }
            }
        }
    }
}
