//! Loading a compiled module once: validation (WebAssembly, imports, exports, ABI version, metadata), then
//! compilation with wasmtime. A [`Module`] is cheap to clone and can back many [`crate::Runtime`]s.

use crate::calendar::Calendar;
use crate::directory::Directory;
use crate::effect::Names;
use crate::error::Error;
use proc_abi::{ABI_VERSION, METADATA_SECTION, Metadata, exports, imports};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use wasmparser::{Parser, Payload, TypeRef};
use wasmtime::{Caller, Config, Engine, InstancePre, Linker, StoreLimits};

/// What the module's imports can reach: the calendars and the directory.
pub(crate) struct HostState {
    pub(crate) calendars: Arc<Vec<Calendar>>,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) limits: StoreLimits,
}

/// A compiled, validated Proc module.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) meta: Metadata,
    pub(crate) names: Names,
    pub(crate) calendars: Arc<Vec<Calendar>>,
    /// SHA-256 of the module's bytes: which build a snapshot belongs to. The source hash is not enough: another
    /// compiler lays out the same source's cases differently.
    pub(crate) build_hash: [u8; 32],
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("package", &self.inner.meta.package)
            .field("source_hash", &self.inner.meta.source_hash)
            .finish_non_exhaustive()
    }
}

fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidModule(why.into())
}

/// Checks the module's shape and reads its metadata.
fn inspect(bytes: &[u8]) -> Result<Metadata, Error> {
    // Another kind of file (a `.proc` source, JSON, a truncated download) is named as such, not by a dump of its
    // first bytes.
    if !bytes.starts_with(b"\0asm") {
        let hint = if bytes.is_empty() {
            "the file is empty"
        } else if bytes.is_ascii() {
            "the file is text; build a module with `procc build`"
        } else {
            "the file does not start with WebAssembly's `\\0asm` header"
        };
        return Err(invalid(format!("it is not a WebAssembly module ({hint})")));
    }
    wasmparser::validate(bytes)
        .map_err(|e| invalid(format!("it is not a valid WebAssembly module ({e})")))?;
    let known: Vec<String> = imports::ALL
        .iter()
        .map(|(name, _, _)| format!("`{}.{name}`", imports::MODULE))
        .collect();
    let mut metadata: Option<Metadata> = None;
    let mut exported: Vec<String> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| invalid(e.to_string()))?;
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| invalid(e.to_string()))?;
                    let is_function = matches!(import.ty, TypeRef::Func(_));
                    let ours = import.module == imports::MODULE
                        && imports::ALL.iter().any(|(name, _, _)| *name == import.name);
                    if !(is_function && ours) {
                        return Err(invalid(format!(
                            "it imports `{}.{}`, which this runtime does not provide; a Proc module may only \
                             import {} (no WASI, no clock, no randomness)",
                            import.module,
                            import.name,
                            known.join(", ")
                        )));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| invalid(e.to_string()))?;
                    exported.push(export.name.to_string());
                }
            }
            Payload::CustomSection(section) if section.name() == METADATA_SECTION => {
                let meta: Metadata = serde_json::from_slice(section.data()).map_err(|e| {
                    invalid(format!(
                        "its `{METADATA_SECTION}` section is not valid metadata ({e})"
                    ))
                })?;
                metadata = Some(meta);
            }
            _ => {}
        }
    }
    for required in exports::ALL {
        if !exported.iter().any(|e| e == required) {
            return Err(invalid(format!(
                "it does not export `{required}`; was it compiled by `procc build`?"
            )));
        }
    }
    let meta = metadata.ok_or_else(|| {
        invalid(format!(
            "it has no `{METADATA_SECTION}` section; was it compiled by `procc build`?"
        ))
    })?;
    if meta.abi_version != ABI_VERSION {
        return Err(invalid(format!(
            "it was compiled for ABI version {} by procc {}, and this runtime runs version {ABI_VERSION}; \
             rebuild it with a matching `procc build`",
            meta.abi_version, meta.compiler_version
        )));
    }
    Ok(meta)
}

fn read_bytes(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Option<String> {
    let memory = caller.get_export(exports::MEMORY)?.into_memory()?;
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    let bytes = memory.data(&*caller).get(start..end)?;
    String::from_utf8(bytes.to_vec()).ok()
}

fn manager_of(mut caller: Caller<'_, HostState>, ptr: i32, len: i32, out: i32, cap: i32) -> i32 {
    let Some(person) = read_bytes(&mut caller, ptr, len) else {
        return -1;
    };
    let Some(manager) = caller.data().directory.manager_of(&person) else {
        return -1;
    };
    let length = i32::try_from(manager.len()).unwrap_or(i32::MAX);
    if length > cap {
        return length;
    }
    let Some(memory) = caller
        .get_export(exports::MEMORY)
        .and_then(wasmtime::Extern::into_memory)
    else {
        return -1;
    };
    let Ok(start) = usize::try_from(out) else {
        return -1;
    };
    match memory
        .data_mut(&mut caller)
        .get_mut(start..start + manager.len())
    {
        Some(target) => {
            target.copy_from_slice(manager.as_bytes());
            length
        }
        None => -1,
    }
}

/// How often the watchdog moves the engine's epoch on: the unit of [`crate::Limits::time_per_event`].
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Starts the thread that moves `engine`'s epoch on every [`TICK`], so that an event running past its deadline
/// traps. The thread holds only a weak reference and ends within a tick of the engine's last user.
fn start_watchdog(engine: &Engine) -> Result<(), Error> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("proc-watchdog".to_string())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .map(drop)
        .map_err(|e| {
            Error::Limit(format!(
                "the runtime could not start the thread that stops runaway workflows: {e}"
            ))
        })
}

/// The engine every loaded module shares while any is alive, with its one watchdog thread. (An engine per module
/// cost a compiler configuration and a thread per module; wasmtime is designed for one engine per process.)
static SHARED_ENGINE: std::sync::Mutex<Option<wasmtime::EngineWeak>> = std::sync::Mutex::new(None);

/// The shared engine, made (with its watchdog) if no module holds it now.
fn shared_engine() -> Result<Engine, Error> {
    let mut shared = SHARED_ENGINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(engine) = shared.as_ref().and_then(wasmtime::EngineWeak::upgrade) {
        return Ok(engine);
    }
    let mut config = Config::new();
    // A module that runs away is stopped by epoch interruption: a check at loop heads and function entries
    // against a deadline that a watchdog thread moves on (see `start_watchdog`). Fuel metering did the same
    // deterministically but cost about a sixth of every event's time (docs/performance.md).
    config.epoch_interruption(true);
    // For profiling only: names the JIT code for `perf` (see docs/performance.md).
    if std::env::var_os("PROC_PERF_MAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config).map_err(|e| invalid(e.to_string()))?;
    start_watchdog(&engine)?;
    *shared = Some(engine.weak());
    Ok(engine)
}

fn calendar<'a>(caller: &'a Caller<'_, HostState>, id: i32) -> Option<&'a Calendar> {
    caller.data().calendars.get(usize::try_from(id).ok()?)
}

impl Module {
    /// Validates and compiles a module produced by `procc build`.
    ///
    /// Refuses, with a clear [`Error::InvalidModule`], anything that is not valid WebAssembly, imports anything
    /// but the documented `proc.*` functions, lacks the documented exports or metadata, or was compiled for
    /// another ABI version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Module, Error> {
        let meta = inspect(bytes)?;
        let calendars = meta
            .calendars
            .iter()
            .map(Calendar::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let engine = shared_engine()?;
        let module = wasmtime::Module::new(&engine, bytes).map_err(|e| invalid(e.to_string()))?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        let wrap = |e: wasmtime::Error| invalid(e.to_string());
        linker
            .func_wrap(
                imports::MODULE,
                imports::CALENDAR_ADD,
                |caller: Caller<'_, HostState>, cal: i32, start: i64, duration: i64| -> i64 {
                    calendar(&caller, cal)
                        .map_or(start.saturating_add(duration), |c| c.add(start, duration))
                },
            )
            .map_err(wrap)?;
        linker
            .func_wrap(
                imports::MODULE,
                imports::CALENDAR_BETWEEN,
                |caller: Caller<'_, HostState>, cal: i32, from: i64, to: i64| -> i64 {
                    calendar(&caller, cal)
                        .map_or(to.saturating_sub(from).max(0), |c| c.between(from, to))
                },
            )
            .map_err(wrap)?;
        linker
            .func_wrap(
                imports::MODULE,
                imports::CALENDAR_IS_OPEN,
                |caller: Caller<'_, HostState>, cal: i32, at: i64| -> i32 {
                    calendar(&caller, cal).map_or(1, |c| i32::from(c.is_open(at)))
                },
            )
            .map_err(wrap)?;
        linker
            .func_wrap(
                imports::MODULE,
                imports::CALENDAR_NEXT_OPEN,
                |caller: Caller<'_, HostState>, cal: i32, at: i64| -> i64 {
                    calendar(&caller, cal).map_or(at, |c| c.next_open(at))
                },
            )
            .map_err(wrap)?;
        linker
            .func_wrap(imports::MODULE, imports::MANAGER_OF, manager_of)
            .map_err(wrap)?;
        let pre = linker.instantiate_pre(&module).map_err(|e| {
            invalid(format!(
                "its imports do not match what this runtime provides: {e}"
            ))
        })?;
        Ok(Module {
            inner: Arc::new(Inner {
                engine,
                pre,
                names: Names::new(&meta),
                meta,
                calendars: Arc::new(calendars),
                build_hash: Sha256::digest(bytes).into(),
            }),
        })
    }

    /// The module's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.inner.meta
    }

    /// Which build this is: the SHA-256 of the module's bytes, in hex. Snapshots record it
    /// ([`crate::Runtime::snapshot_build_id`]), and only a module with the same build id restores them.
    pub fn build_id(&self) -> String {
        hex(&self.inner.build_hash)
    }
}

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
