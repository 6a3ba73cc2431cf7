//! IR → one WebAssembly module: a function per unit (a resumable state machine over its blocks), escalation
//! stage functions and output codecs per step, encode/decode/format/equality helpers per type, the static step
//! table, and the runtime support code of [`super::prelude`].

use super::asm::*;
use super::ir::*;
use super::layout::{self, fiber, frame, header, record, run, step, task};
use super::module::{ModuleBuilder, global as g};
use super::prelude::{Cx, Hooks, Imports, Rt};
use proc_abi::{NO_ID, NO_TIME, abort, effect, instance};
use rustc_hash::FxHashMap as HashMap;
use wasm_encoder::{BlockType, Instruction as I, ValType};

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const MS_PER_DAY: i64 = 86_400_000;

/// Emits the module for a program; `metadata` goes into the metadata section.
pub fn emit(program: &Program, metadata: &[u8]) -> Vec<u8> {
    let mut case_base: u32 = 65_536;
    loop {
        let (bytes, data_end) = emit_at(program, metadata, case_base);
        if data_end <= case_base {
            return bytes;
        }
        // Static data did not fit below the case base: move the case base up and emit again.
        case_base = (data_end / 65_536 + 1) * 65_536;
    }
}

#[derive(Clone, Copy)]
struct TypeFns {
    dec: FnId,
    enc: FnId,
    fmt: FnId,
    eq: FnId,
}

struct Gen<'p> {
    program: &'p Program,
    mb: ModuleBuilder,
    rt: Rt,
    cx: Cx,
    imports: Imports,
    units: Vec<FnId>,
    types: HashMap<Ty, TypeFns>,
    pending: Vec<Ty>,
    role_names: u32,
    enum_names: Vec<u32>,
    step_names: u32,
}

fn emit_at(program: &Program, metadata: &[u8], case_base: u32) -> (Vec<u8>, u32) {
    let mut mb = ModuleBuilder::new(layout::STATIC_BASE);
    let imports = Imports::declare(&mut mb);
    let rt = Rt::declare(&mut mb);
    let unit_ty = mb.ty(&[I32], &[I32]);
    let stage_ty = mb.ty(&[I32, I32], &[I32]);
    let record_ty = mb.ty(&[I32], &[]);
    let hooks = Hooks {
        start_process: mb.declare("start_process", &[I32], &[I32]),
        decode_signal: mb.declare("decode_signal", &[I32], &[I32]),
        decode_action_result: mb.declare("decode_action_result", &[I32], &[I64]),
        encode_data: mb.declare("encode_data", &[I32, I32], &[]),
        case_stage: mb.declare("case_stage", &[I32], &[I32]),
        case_stage_at: mb.declare("case_stage_at", &[I32, I64], &[I64]),
    };
    let units: Vec<FnId> = program
        .units
        .iter()
        .map(|u| mb.declare(&format!("unit {}", u.name), &[I32], &[I32]))
        .collect();
    for &unit in &units {
        mb.table_slot(unit);
    }
    let empty_text = mb.text("");
    let steps_at = mb.reserve(program.steps.len() * step::SIZE as usize, 8);
    let cx = Cx {
        case_base,
        steps_at,
        nsteps: to_u32(program.steps.len()),
        nroles: to_u32(program.roles.len()),
        unit_ty,
        stage_ty,
        record_ty,
        empty_text,
        warnings: program
            .steps
            .iter()
            .any(|s| s.stages.iter().any(|stage| stage.offset_ms < 0)),
        expiry: program.steps.iter().any(|s| s.expires),
    };
    let mut generator = Gen {
        program,
        mb,
        rt,
        cx,
        imports,
        units,
        types: HashMap::default(),
        pending: Vec::new(),
        role_names: 0,
        enum_names: Vec::new(),
        step_names: 0,
    };
    generator.name_tables();
    for (id, unit) in program.units.iter().enumerate() {
        let func = generator.unit(to_u32(id), unit);
        if let Some(&fid) = generator.units.get(id) {
            generator.mb.define(fid, func);
        }
    }
    generator.step_table();
    generator.hooks(&hooks);
    generator.type_functions();
    generator
        .rt
        .define(&mut generator.mb, &generator.cx, &hooks, &generator.imports);
    let data_end = generator.mb.data_end();
    let pages = u64::from(case_base / 65_536 + 1);
    let bytes = generator
        .mb
        .finish(pages, &[(proc_abi::METADATA_SECTION, metadata)]);
    (bytes, data_end)
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn slot_offset(slot: u32) -> u32 {
    frame::SLOTS + 8 * slot
}

/// The frame `depth` static links up from `fr`.
fn frame_at(fr: Local, depth: u32) -> E {
    let mut e = get(fr);
    for _ in 0..depth {
        e = ld32(e, frame::LINK);
    }
    e
}

fn is_scalar(ty: &Ty) -> bool {
    matches!(
        ty,
        Ty::Int
            | Ty::IntIn(..)
            | Ty::Bool
            | Ty::Duration
            | Ty::Time
            | Ty::Date
            | Ty::Role
            | Ty::Enum(_)
            | Ty::Calendar
            | Ty::Step(_)
            | Ty::Unit
    )
}

impl Gen<'_> {
    fn text(&mut self, text: &str) -> u32 {
        self.mb.text(text)
    }

    fn name_tables(&mut self) {
        let roles: Vec<String> = self.program.roles.clone();
        self.role_names = self.pointer_table(&roles);
        let enums: Vec<Vec<String>> = self
            .program
            .enums
            .iter()
            .map(|e| e.variants.clone())
            .collect();
        self.enum_names = enums.iter().map(|v| self.pointer_table(v)).collect();
        let steps: Vec<String> = self.program.steps.iter().map(|s| s.name.clone()).collect();
        self.step_names = self.pointer_table(&steps);
    }

    /// A static array of text pointers.
    fn pointer_table(&mut self, names: &[String]) -> u32 {
        let pointers: Vec<u8> = names
            .iter()
            .flat_map(|n| self.mb.text(n).to_le_bytes())
            .collect();
        self.mb.data(&pointers, 4)
    }

    fn u32_array(&mut self, values: &[u32]) -> u32 {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.mb.data(&bytes, 4)
    }

    fn type_fns(&mut self, ty: &Ty) -> TypeFns {
        if let Some(fns) = self.types.get(ty) {
            return *fns;
        }
        let name = format!("{ty:?}");
        let fns = TypeFns {
            dec: self.mb.declare(&format!("decode {name}"), &[], &[I64]),
            enc: self.mb.declare(&format!("encode {name}"), &[I64], &[]),
            fmt: self.mb.declare(&format!("format {name}"), &[I64], &[]),
            eq: self
                .mb
                .declare(&format!("equal {name}"), &[I64, I64], &[I32]),
        };
        self.types.insert(ty.clone(), fns);
        self.pending.push(ty.clone());
        fns
    }

    // ---------------------------------------------------------------------------------------------------------
    // Expressions

    /// Pushes the `i64` value of `e`, evaluated in frame `fr`.
    fn ex(&mut self, f: &mut Func, fr: Local, e: &Ex) {
        stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.ex_inner(f, fr, e));
    }

    fn ex_inner(&mut self, f: &mut Func, fr: Local, e: &Ex) {
        let rt = self.rt;
        match e {
            Ex::Const(v) => f.emit(&c64(*v)),
            Ex::Text(text) => {
                let address = self.text(text);
                f.emit(&c64(i64::from(address)));
            }
            Ex::None => f.emit(&c64(0)),
            Ex::Some(inner) => {
                let p = f.l32();
                f.set(p, call(rt.alloc, vec![c32(8)]));
                f.emit(&get(p));
                self.ex(f, fr, inner);
                f.store64_top(0);
                f.emit(&ext(get(p)));
            }
            Ex::Now => f.emit(&gget(g::NOW)),
            Ex::Var(v) => f.emit(&ld64(frame_at(fr, v.depth), slot_offset(v.slot))),
            Ex::Field(base, index) => {
                self.ex(f, fr, base);
                f.ins(I::I32WrapI64);
                f.load64_top(8 * index);
            }
            Ex::Fact {
                record: rec,
                step: step_id,
                fact,
            } => self.fact(f, fr, rec, *step_id, *fact),
            Ex::CalendarOpen(c) => {
                self.ex(f, fr, c);
                f.ins(I::I32WrapI64);
                f.emit(&gget(g::NOW));
                f.ins(I::Call(self.imports.calendar_is_open.0));
                f.ins(I::I64ExtendI32U);
            }
            Ex::CalendarNext(c) => {
                self.ex(f, fr, c);
                f.ins(I::I32WrapI64);
                f.emit(&gget(g::NOW));
                f.ins(I::Call(self.imports.calendar_next_open.0));
            }
            Ex::Unary(UnOp::Not, inner) => {
                self.ex(f, fr, inner);
                f.ins(I::I64Eqz);
                f.ins(I::I64ExtendI32U);
            }
            Ex::Unary(UnOp::Neg, inner) => {
                let v = self.ex_local(f, fr, inner);
                let message = self.text(crate::backend::prelude::TIME_OUT_OF_RANGE);
                f.if_(eq64(get(v), c64(i64::MIN)), |f| {
                    f.exec(rt.fault, vec![u32c(message)]);
                });
                f.emit(&sub64(c64(0), get(v)));
            }
            Ex::Binary(op, ty, a, b) => self.binary(f, fr, *op, ty, a, b),
            Ex::And(a, b) => {
                self.ex(f, fr, a);
                f.emit(&c64(0));
                f.ins(I::I64Ne);
                f.ins(I::If(BlockType::Result(I64)));
                self.ex(f, fr, b);
                f.ins(I::Else);
                f.emit(&c64(0));
                f.ins(I::End);
            }
            Ex::Or(a, b) => {
                self.ex(f, fr, a);
                f.emit(&c64(0));
                f.ins(I::I64Ne);
                f.ins(I::If(BlockType::Result(I64)));
                f.emit(&c64(1));
                f.ins(I::Else);
                self.ex(f, fr, b);
                f.ins(I::End);
            }
            Ex::Coalesce(a, b) => {
                let p = f.l32();
                self.ex(f, fr, a);
                f.ins(I::I32WrapI64);
                f.set_top(p);
                f.emit(&get(p));
                f.ins(I::If(BlockType::Result(I64)));
                f.emit(&ld64(get(p), 0));
                f.ins(I::Else);
                self.ex(f, fr, b);
                f.ins(I::End);
            }
            Ex::BusinessAdd(base, duration, calendar) => {
                // `due_within` fails the case when the calendar gives no such time.
                self.ex(f, fr, base);
                self.ex(f, fr, duration);
                f.emit(&u32c(*calendar));
                f.ins(I::Call(rt.due_within.0));
            }
            Ex::Checked(op, a, b) => {
                let x = self.ex_local(f, fr, a);
                let y = self.ex_local(f, fr, b);
                let r = f.l64();
                let message = self.text(crate::backend::prelude::TIME_OUT_OF_RANGE);
                let fault = |f: &mut Func| f.exec(rt.fault, vec![u32c(message)]);
                match op {
                    BinOp::Add => {
                        f.set(r, add64(get(x), get(y)));
                        f.if_(add_wrapped(x, y, r), fault);
                    }
                    BinOp::Sub => {
                        f.set(r, sub64(get(x), get(y)));
                        let overflow = and64(xor64(get(x), get(y)), xor64(get(x), get(r)));
                        f.if_(lt64(overflow, c64(0)), fault);
                    }
                    _ => {
                        f.set(r, mul64(get(x), get(y)));
                        // `r / x` gives `y` back unless it wrapped; -1 × MIN is the one product that division
                        // cannot check (it traps).
                        f.if_(ne64(get(x), c64(0)), |f| {
                            f.if_(
                                both(eq64(get(x), c64(-1)), eq64(get(y), c64(i64::MIN))),
                                fault,
                            );
                            f.if_(ne64(div64(get(r), get(x)), get(y)), fault);
                        });
                    }
                }
                f.emit(&get(r));
            }
            Ex::AtLeast(value, min, what) => {
                let v = self.ex_local(f, fr, value);
                let message = if *min > 0 {
                    format!("{what} must be a positive duration, and the one computed is not")
                } else {
                    format!(
                        "{what} must be a duration of zero or more, and the one computed is negative"
                    )
                };
                let message = self.text(&message);
                f.if_(lt64(get(v), c64(*min)), |f| {
                    f.exec(rt.fault, vec![u32c(message)]);
                });
                f.emit(&get(v));
            }
            Ex::InRange(value, min, max) => {
                let v = self.ex_local(f, fr, value);
                let message = self.text(&format!(
                    "a computed value is outside `Int from {min} to {max}`, where it was given"
                ));
                f.if_(or(lt64(get(v), c64(*min)), gt64(get(v), c64(*max))), |f| {
                    f.exec(rt.fault, vec![u32c(message)]);
                });
                f.emit(&get(v));
            }
            Ex::DateToTime(d) => {
                self.ex(f, fr, d);
                f.emit(&c64(MS_PER_DAY));
                f.ins(I::I64Mul);
            }
            Ex::DateEnd(d) => {
                self.ex(f, fr, d);
                f.emit(&c64(1));
                f.ins(I::I64Add);
                f.emit(&c64(MS_PER_DAY));
                f.ins(I::I64Mul);
            }
            Ex::Record(_, fields) => {
                let p = f.l32();
                f.set(p, call(rt.alloc, vec![u32c(8 * to_u32(fields.len()))]));
                for (i, field) in fields.iter().enumerate() {
                    f.emit(&get(p));
                    self.ex(f, fr, field);
                    f.store64_top(8 * to_u32(i));
                }
                f.emit(&ext(get(p)));
            }
            Ex::List(items) => {
                let p = f.l32();
                let n = to_u32(items.len());
                f.set(p, call(rt.alloc, vec![u32c(8 + 8 * n)]));
                f.st32(get(p), 0, u32c(n));
                for (i, item) in items.iter().enumerate() {
                    f.emit(&get(p));
                    self.ex(f, fr, item);
                    f.store64_top(8 + 8 * to_u32(i));
                }
                f.emit(&ext(get(p)));
            }
            Ex::Interp(parts) => self.interp(f, fr, parts),
            Ex::ListLen(list) => {
                self.ex(f, fr, list);
                f.ins(I::I32WrapI64);
                f.load32_top(0);
                f.ins(I::I64ExtendI32U);
            }
            Ex::ListItem(list, index) => {
                self.ex(f, fr, list);
                f.ins(I::I32WrapI64);
                self.ex(f, fr, index);
                f.ins(I::I32WrapI64);
                f.emit(&c32(3));
                f.ins(I::I32Shl);
                f.ins(I::I32Add);
                f.load64_top(8);
            }
        }
    }

    /// Evaluates into a fresh local.
    fn ex_local(&mut self, f: &mut Func, fr: Local, e: &Ex) -> Local {
        let local = f.l64();
        self.ex(f, fr, e);
        f.set_top(local);
        local
    }

    /// Evaluates an `i64` holding a pointer or id into a fresh `i32` local.
    fn ex_local32(&mut self, f: &mut Func, fr: Local, e: &Ex) -> Local {
        let local = f.l32();
        self.ex(f, fr, e);
        f.ins(I::I32WrapI64);
        f.set_top(local);
        local
    }

    fn fact(&mut self, f: &mut Func, fr: Local, rec: &Ex, step_id: u32, fact: Fact) {
        let r = self.ex_local32(f, fr, rec);
        let offset = match fact {
            Fact::Breached => {
                f.emit(&cond(
                    I64,
                    eqz(get(r)),
                    c64(0),
                    ld64(get(r), record::BREACHED),
                ));
                return;
            }
            Fact::Done => {
                f.emit(&cond(I64, eqz(get(r)), c64(0), ld64(get(r), record::DONE)));
                return;
            }
            Fact::Expired => {
                f.emit(&cond(
                    I64,
                    eqz(get(r)),
                    c64(0),
                    ext(eq64(ld64(get(r), record::CLOSED), c64(record::EXPIRED))),
                ));
                return;
            }
            Fact::DoneBy => record::DONE_BY,
            Fact::CompletedAt => record::COMPLETED_AT,
            Fact::Output(i) => record::OUTPUTS + 8 * i,
        };
        let step_info = self.program.steps.get(step_id as usize);
        let step_name = step_info.map_or_else(String::new, |s| s.name.clone());
        let what = match fact {
            Fact::DoneBy => "who did it".to_string(),
            Fact::CompletedAt => "when it was done".to_string(),
            Fact::Output(i) => {
                let output = step_info
                    .and_then(|s| s.outputs.get(i as usize))
                    .map_or_else(String::new, |(n, _)| n.clone());
                format!("its output `{output}`")
            }
            _ => String::new(),
        };
        let message = self.text(&format!(
            "step `{step_name}` has not been completed, so {what} is not known"
        ));
        let rt = self.rt;
        f.if_(or(eqz(get(r)), eqz64(ld64(get(r), record::DONE))), |f| {
            f.exec(rt.fault, vec![u32c(message)])
        });
        f.emit(&ld64(get(r), offset));
    }

    fn binary(&mut self, f: &mut Func, fr: Local, op: BinOp, ty: &Ty, a: &Ex, b: &Ex) {
        let rt = self.rt;
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                self.ex(f, fr, a);
                self.ex(f, fr, b);
                f.ins(match op {
                    BinOp::Add => I::I64Add,
                    BinOp::Sub => I::I64Sub,
                    _ => I::I64Mul,
                });
            }
            BinOp::Div | BinOp::Rem => {
                let x = self.ex_local(f, fr, a);
                let y = self.ex_local(f, fr, b);
                let message = self.text("division by zero");
                f.if_(eqz64(get(y)), |f| f.exec(rt.fault, vec![u32c(message)]));
                let minus_one = if op == BinOp::Div {
                    sub64(c64(0), get(x))
                } else {
                    c64(0)
                };
                let normal = if op == BinOp::Div {
                    div64(get(x), get(y))
                } else {
                    rem64(get(x), get(y))
                };
                f.emit(&cond(I64, eq64(get(y), c64(-1)), minus_one, normal));
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.ex(f, fr, a);
                self.ex(f, fr, b);
                f.ins(match op {
                    BinOp::Lt => I::I64LtS,
                    BinOp::Le => I::I64LeS,
                    BinOp::Gt => I::I64GtS,
                    _ => I::I64GeS,
                });
                f.ins(I::I64ExtendI32U);
            }
            BinOp::Eq | BinOp::Ne => {
                self.ex(f, fr, a);
                self.ex(f, fr, b);
                self.equal_top(f, ty);
                if op == BinOp::Ne {
                    f.ins(I::I32Eqz);
                }
                f.ins(I::I64ExtendI32U);
            }
            BinOp::Concat => {
                self.ex(f, fr, a);
                f.ins(I::I32WrapI64);
                self.ex(f, fr, b);
                f.ins(I::I32WrapI64);
                f.ins(I::Call(rt.text_concat.0));
                f.ins(I::I64ExtendI32U);
            }
        }
    }

    /// Compares the two `i64` values on the stack; leaves an `i32`.
    fn equal_top(&mut self, f: &mut Func, ty: &Ty) {
        if is_scalar(ty) {
            f.ins(I::I64Eq);
        } else {
            let fns = self.type_fns(ty);
            f.ins(I::Call(fns.eq.0));
        }
    }

    fn interp(&mut self, f: &mut Func, fr: Local, parts: &[Part]) {
        // Values first: building the text reserves the top of the heap, so nothing may allocate meanwhile.
        let mut values = Vec::new();
        for part in parts {
            if let Part::Value(e, ty) = part {
                values.push((self.ex_local(f, fr, e), ty.clone()));
            }
        }
        let rt = self.rt;
        f.exec(rt.sb_begin, vec![]);
        let mut values = values.into_iter();
        for part in parts {
            match part {
                Part::Lit(text) => {
                    let address = self.text(text);
                    f.exec(rt.sb_text, vec![u32c(address)]);
                }
                Part::Value(..) => {
                    if let Some((local, ty)) = values.next() {
                        self.format(f, get(local), &ty);
                    }
                }
            }
        }
        f.emit(&ext(call(rt.sb_end, vec![])));
    }

    /// Appends the text form of a value to the text being built.
    fn format(&mut self, f: &mut Func, value: E, ty: &Ty) {
        let rt = self.rt;
        match ty {
            Ty::Text => f.exec(rt.sb_text, vec![wrap(value)]),
            Ty::Int | Ty::IntIn(..) => f.exec(rt.sb_int, vec![value]),
            Ty::Duration => f.exec(rt.sb_duration, vec![value]),
            Ty::Time => f.exec(rt.sb_time, vec![value]),
            Ty::Date => f.exec(rt.sb_date, vec![value]),
            _ => {
                let fns = self.type_fns(ty);
                f.exec(fns.fmt, vec![value]);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Units

    fn unit(&mut self, id: UnitId, unit: &Unit) -> Func {
        let mut f = Func::new(format!("unit {}", unit.name), &[I32], &[I32]);
        let fb = f.param(0);
        let fr = f.l32();
        let pc = f.l32();
        f.set(fr, ld32(get(fb), fiber::FRAME));
        f.set(pc, ld32(get(fb), fiber::PC));
        let dispatch = f.open_loop();
        let labels = f.open_blocks(unit.blocks.len().max(1));
        let default = labels.first().copied().unwrap_or(dispatch);
        f.br_table(get(pc), &labels, default);
        let cx = UnitCx {
            unit: id,
            fiber: fb,
            frame: fr,
            pc,
            dispatch,
        };
        for (index, block) in unit.blocks.iter().enumerate() {
            f.end();
            // Nothing stays in locals from one block to the next: reuse them.
            let mark = f.mark();
            for st in &block.stmts {
                self.stmt(&mut f, fr, st);
            }
            self.term(&mut f, &cx, to_u32(index), &block.term);
            f.release_since(mark);
        }
        if unit.blocks.is_empty() {
            f.end();
            f.ret(c32(run::DONE));
        }
        f.end();
        f.trap();
        f
    }

    fn stmt(&mut self, f: &mut Func, fr: Local, st: &St) {
        let rt = self.rt;
        match st {
            St::Assign(v, e) => {
                f.emit(&frame_at(fr, v.depth));
                self.ex(f, fr, e);
                f.store64_top(slot_offset(v.slot));
            }
            St::Quiet => f.gset(g::QUIET, c32(1)),
            St::SetDeadline(d, calendar) => {
                f.emit(&u32c(self.cx.case_base + header::DEADLINE));
                f.emit(&ld64(u32c(self.cx.case_base + header::STARTED), 0));
                self.ex(f, fr, d);
                // Clock or calendar time, and past the end of time a fault, as for every deadline.
                f.emit(&u32c(calendar.unwrap_or(NO_ID)));
                f.ins(I::Call(rt.due_within.0));
                f.store64_top(0);
            }
            St::Notify { role, message } => {
                let role = self.ex_local32(f, fr, role);
                self.notify(f, fr, get(role), message.as_ref(), u32c(NO_ID));
            }
        }
    }

    fn jump(&self, f: &mut Func, cx: &UnitCx, target: BlockId) {
        f.set(cx.pc, u32c(target));
        f.br(cx.dispatch);
    }

    fn suspend(&self, f: &mut Func, cx: &UnitCx, next: BlockId) {
        f.st32(get(cx.fiber), fiber::PC, u32c(next));
        f.ret(c32(run::BLOCKED));
    }

    fn join_needed(&mut self, f: &mut Func, fr: Local, join: &JoinIr, total: E) -> Local {
        let needed = f.l32();
        match join {
            JoinIr::All => f.set(needed, total),
            JoinIr::Any => f.set(
                needed,
                cond(I32, gt_u(total.clone(), c32(0)), c32(1), c32(0)),
            ),
            JoinIr::Count(count) => {
                let n = self.ex_local(f, fr, count);
                f.if_(lt64(get(n), c64(0)), |f| f.set(n, c64(0)));
                f.set(
                    needed,
                    cond(I32, gt64(get(n), ext(total.clone())), total, wrap(get(n))),
                );
            }
        }
        needed
    }

    fn term(&mut self, f: &mut Func, cx: &UnitCx, index: BlockId, term: &Term) {
        let rt = self.rt;
        let fb = cx.fiber;
        let fr = cx.frame;
        match term {
            Term::Goto(target) => {
                if *target != index + 1 {
                    self.jump(f, cx, *target);
                }
            }
            Term::If(c, then, otherwise) => {
                self.ex(f, fr, c);
                f.emit(&c64(0));
                f.ins(I::I64Ne);
                f.ins(I::If(BlockType::Empty));
                self.jump(f, cx, *then);
                f.ins(I::Else);
                self.jump(f, cx, *otherwise);
                f.ins(I::End);
            }
            Term::Switch(value, targets) => {
                let table = self.u32_array(targets);
                let v = self.ex_local32(f, fr, value);
                let message = self.text("an enum value out of range");
                f.if_(ge_u(get(v), u32c(to_u32(targets.len()))), |f| {
                    f.exec(rt.fault, vec![u32c(message)]);
                });
                f.set(cx.pc, ld32(add(u32c(table), shl(get(v), c32(2))), 0));
                f.br(cx.dispatch);
            }
            Term::Step(open) => self.open_step(f, cx, open),
            Term::Wait { until, round, next } => {
                let t = self.ex_local(f, fr, until);
                f.if_(le64(get(t), gget(g::NOW)), |f| self.jump(f, cx, *next));
                let wait = if *round {
                    fiber::WAIT_ROUND
                } else {
                    fiber::WAIT_TIMER
                };
                f.st32(get(fb), fiber::WAIT, c32(wait));
                f.st64(get(fb), fiber::WAKE, get(t));
                f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
                self.suspend(f, cx, *next);
            }
            Term::Await {
                signal,
                timeout,
                dest,
                optional,
                next,
            } => {
                match timeout {
                    Some(t) => {
                        // Checked: a timeout past the end of time fails the case.
                        f.emit(&get(fb));
                        f.emit(&gget(g::NOW));
                        self.ex(f, fr, t);
                        f.emit(&u32c(NO_ID));
                        f.ins(I::Call(rt.due_within.0));
                        f.store64_top(fiber::WAKE);
                    }
                    None => f.st64(get(fb), fiber::WAKE, c64(NO_TIME)),
                }
                let dest_addr = match dest {
                    Some(v) => add(frame_at(fr, v.depth), u32c(slot_offset(v.slot))),
                    None => c32(0),
                };
                f.st32(get(fb), fiber::DEST, dest_addr);
                f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_SIGNAL));
                f.st32(get(fb), fiber::WAIT_ARG, u32c(*signal));
                f.st32(get(fb), fiber::JOIN_TOTAL, c32(i32::from(*optional)));
                f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
                self.suspend(f, cx, *next);
            }
            Term::Call {
                unit,
                args,
                dest,
                next,
            } => {
                let slots = self
                    .program
                    .units
                    .get(*unit as usize)
                    .map_or(0, |u| u.slots);
                let size = frame::SLOTS + 8 * slots;
                let nf = f.l32();
                f.set(nf, call(rt.alloc, vec![u32c(size)]));
                f.st32(get(nf), frame::CALLER_UNIT, u32c(cx.unit));
                f.st32(get(nf), frame::CALLER_PC, u32c(*next));
                f.st32(get(nf), frame::CALLER_FRAME, get(fr));
                f.st32(get(nf), frame::SIZE, u32c(size));
                f.st32(get(nf), frame::OWNER, get(fb));
                let dest_addr = match dest {
                    Some(v) => add(frame_at(fr, v.depth), u32c(slot_offset(v.slot))),
                    None => c32(0),
                };
                f.st32(get(nf), frame::DEST, dest_addr);
                for (i, arg) in args.iter().enumerate() {
                    f.emit(&get(nf));
                    self.ex(f, fr, arg);
                    f.store64_top(slot_offset(to_u32(i)));
                }
                f.st32(get(fb), fiber::UNIT, u32c(*unit));
                f.st32(get(fb), fiber::PC, c32(0));
                f.st32(get(fb), fiber::FRAME, get(nf));
                f.ret(c32(run::CONTINUE));
            }
            Term::Action {
                action,
                args,
                dest,
                next,
            } => {
                let values: Vec<(Local, Ty)> = args
                    .iter()
                    .map(|(e, ty)| (self.ex_local(f, fr, e), ty.clone()))
                    .collect();
                let req = f.l32();
                let base = self.cx.case_base;
                f.set(req, add(ld32(u32c(base + header::NEXT_REQUEST), 0), c32(1)));
                f.st32(u32c(base + header::NEXT_REQUEST), 0, get(req));
                f.exec(rt.effect, vec![c32(i32::from(effect::ACTION_REQUESTED))]);
                f.exec(rt.out_u32, vec![get(req)]);
                f.exec(rt.out_u32, vec![u32c(*action)]);
                for (local, ty) in values {
                    self.encode(f, get(local), &ty);
                }
                let dest_addr = match dest {
                    Some(v) => add(frame_at(fr, v.depth), u32c(slot_offset(v.slot))),
                    None => c32(0),
                };
                f.st32(get(fb), fiber::DEST, dest_addr);
                f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_ACTION));
                f.st32(get(fb), fiber::WAIT_ARG, get(req));
                f.st32(get(fb), fiber::JOIN_TOTAL, u32c(*action));
                f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
                self.suspend(f, cx, *next);
            }
            Term::Spawn { units, join, next } => {
                let total = u32c(to_u32(units.len()));
                let needed = self.join_needed(f, fr, join, total.clone());
                f.if_(eqz(get(needed)), |f| self.jump(f, cx, *next));
                f.st32(get(fb), fiber::JOIN_TOTAL, total);
                f.st32(get(fb), fiber::JOIN_NEEDED, get(needed));
                f.st32(get(fb), fiber::JOIN_DONE, c32(0));
                for &unit in units {
                    f.call(
                        rt.fiber_new,
                        vec![u32c(unit), get(fr), get(fb), u32c(unit)],
                        1,
                    );
                }
                f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_JOIN));
                f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
                self.suspend(f, cx, *next);
            }
            Term::SpawnEach {
                unit,
                list,
                var,
                join,
                next,
            } => {
                let slots = self
                    .program
                    .units
                    .get(*unit as usize)
                    .map_or(0, |u| u.slots);
                let size = frame::SLOTS + 8 * slots;
                let l = self.ex_local32(f, fr, list);
                let n = f.l32();
                f.set(n, ld32(get(l), 0));
                let needed = self.join_needed(f, fr, join, get(n));
                f.if_(eqz(get(needed)), |f| self.jump(f, cx, *next));
                f.st32(get(fb), fiber::JOIN_TOTAL, get(n));
                f.st32(get(fb), fiber::JOIN_NEEDED, get(needed));
                f.st32(get(fb), fiber::JOIN_DONE, c32(0));
                let i = f.l32();
                let nf = f.l32();
                f.set(i, c32(0));
                f.while_(lt_u(get(i), get(n)), |f, _| {
                    f.set(nf, call(rt.alloc, vec![u32c(size)]));
                    f.st32(get(nf), frame::LINK, get(fr));
                    f.st32(get(nf), frame::SIZE, u32c(size));
                    f.st64(
                        get(nf),
                        slot_offset(*var),
                        ld64(add(get(l), shl(get(i), c32(3))), 8),
                    );
                    f.call(
                        rt.fiber_new,
                        vec![u32c(*unit), get(nf), get(fb), u32c(*unit)],
                        1,
                    );
                    f.set(i, add(get(i), c32(1)));
                });
                f.st32(get(fb), fiber::WAIT, c32(fiber::WAIT_JOIN));
                f.st32(get(fb), fiber::STATUS, c32(fiber::BLOCKED));
                self.suspend(f, cx, *next);
            }
            Term::CancelStep {
                step: step_id,
                depth,
                next,
            } => {
                f.exec(
                    rt.cancel_step_tasks,
                    vec![u32c(*step_id), frame_at(fr, *depth)],
                );
                self.jump(f, cx, *next);
            }
            Term::CancelBranch { unit, next } => {
                // The branch cancelling may have been cancelled with it (its join was satisfied): it stops here.
                f.if_(
                    eqz(call(rt.cancel_branch, vec![u32c(*unit), get(fr), get(fb)])),
                    |f| f.ret(c32(run::KILLED)),
                );
                self.jump(f, cx, *next);
            }
            Term::Return(value, depth) => {
                let root = f.l32();
                f.set(root, frame_at(fr, *depth));
                if let Some(value) = value {
                    let v = self.ex_local(f, fr, value);
                    let dest = f.l32();
                    f.set(dest, ld32(get(root), frame::DEST));
                    f.if_(get(dest), |f| f.st64(get(dest), 0, get(v)));
                }
                f.ret(call(rt.proc_return, vec![get(fb), get(root)]));
            }
            Term::Complete(completion) => {
                let value = match completion {
                    Completion::Nothing => None,
                    Completion::Value(e, ty) => Some((self.ex_local(f, fr, e), Some(ty.clone()))),
                    Completion::Reason(e) => Some((self.ex_local(f, fr, e), None)),
                };
                f.exec(rt.case_end, vec![u32c(instance::COMPLETED)]);
                f.exec(rt.effect, vec![c32(i32::from(effect::COMPLETED))]);
                match value {
                    None => f.exec(rt.out_u8, vec![c32(0)]),
                    Some((v, Some(ty))) => {
                        f.exec(rt.out_u8, vec![c32(1)]);
                        self.encode(f, get(v), &ty);
                    }
                    Some((v, None)) => {
                        f.exec(rt.out_u8, vec![c32(2)]);
                        f.exec(rt.out_text, vec![wrap(get(v))]);
                    }
                }
                f.ret(c32(run::ENDED));
            }
            Term::Fail(reason) => {
                let v = self.ex_local32(f, fr, reason);
                f.exec(rt.case_end, vec![u32c(instance::FAILED)]);
                f.exec(rt.effect, vec![c32(i32::from(effect::FAILED))]);
                f.exec(rt.out_text, vec![get(v)]);
                f.ret(c32(run::ENDED));
            }
            Term::End => f.ret(c32(run::DONE)),
        }
    }

    fn open_step(&mut self, f: &mut Func, cx: &UnitCx, open: &OpenStep) {
        let rt = self.rt;
        let fr = cx.frame;
        let rec = f.l32();
        let size = record::OUTPUTS + 8 * open.outputs;
        // A step opened again (a loop's next round, `redo`) gives back its earlier record: its task has ended, and
        // its facts are read through this slot only. (Texts in it, such as who completed it, may be held elsewhere
        // and stay.)
        f.exec(
            rt.free,
            vec![
                wrap(ld64(
                    frame_at(fr, open.slot.depth),
                    slot_offset(open.slot.slot),
                )),
                u32c(size),
            ],
        );
        f.set(rec, call(rt.alloc, vec![u32c(size)]));
        f.st64(
            frame_at(fr, open.slot.depth),
            slot_offset(open.slot.slot),
            ext(get(rec)),
        );
        let p = &open.performer;
        let role = match &p.role {
            Some(e) => self.ex_local32(f, fr, e),
            None => {
                let l = f.l32();
                f.set(l, u32c(NO_ID));
                l
            }
        };
        let person = match &p.person {
            Some(e) => self.ex_local32(f, fr, e),
            None => {
                let l = f.l32();
                f.set(l, c32(0));
                l
            }
        };
        let basis = f.l32();
        f.set(basis, c32(0));
        if let Some(of) = &p.manager_of {
            self.ex(f, fr, of);
            f.ins(I::I32WrapI64);
            f.set_top(basis);
            f.set(person, call(rt.manager_lookup, vec![get(basis)]));
        }
        let excluded = f.l32();
        match &p.excluded {
            Some(e) => {
                self.ex(f, fr, e);
                f.ins(I::I32WrapI64);
                f.set_top(excluded);
                f.set(excluded, call(rt.rec_done_by, vec![get(excluded)]));
            }
            None => f.set(excluded, c32(0)),
        }
        let due = f.l64();
        match &open.due {
            DueIr::None => f.set(due, c64(NO_TIME)),
            DueIr::Within {
                base,
                duration,
                calendar,
            } => {
                self.ex(f, fr, base);
                self.ex(f, fr, duration);
                f.emit(&u32c(calendar.unwrap_or(NO_ID)));
                f.ins(I::Call(rt.due_within.0));
                f.set_top(due);
            }
            DueIr::At(t) => {
                self.ex(f, fr, t);
                f.set_top(due);
            }
        }
        let earliest = match &open.earliest {
            Some(e) => self.ex_local(f, fr, e),
            None => {
                let l = f.l64();
                f.set(l, c64(i64::MIN));
                l
            }
        };
        let expires = f.l64();
        match &open.expires {
            Some((duration, calendar)) => {
                f.emit(&gget(g::NOW));
                self.ex(f, fr, duration);
                f.emit(&u32c(calendar.unwrap_or(NO_ID)));
                f.ins(I::Call(rt.due_within.0));
                f.set_top(expires);
            }
            None => f.set(expires, c64(NO_TIME)),
        }
        let instruction = match &open.instruction {
            Some(e) => self.ex_local32(f, fr, e),
            None => {
                let l = f.l32();
                f.set(l, u32c(self.cx.empty_text));
                l
            }
        };
        f.call(
            rt.task_open,
            vec![
                get(cx.fiber),
                u32c(open.step),
                get(rec),
                frame_at(fr, open.slot.depth),
                c32(i32::from(p.kind)),
                get(role),
                get(person),
                get(basis),
                get(excluded),
                get(due),
                get(earliest),
                get(expires),
                get(instruction),
            ],
            1,
        );
        self.suspend(f, cx, open.next);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Steps

    fn step_table(&mut self) {
        let rt = self.rt;
        let no_stages = self.mb.declare("no stages", &[I32, I32], &[I32]);
        let mut nothing_fn = Func::new("no stages", &[I32, I32], &[I32]);
        nothing_fn.emit(&c32(1));
        self.mb.define(no_stages, nothing_fn);
        let no_outputs = self.mb.declare("no outputs", &[I32], &[]);
        self.mb
            .define(no_outputs, Func::new("no outputs", &[I32], &[]));
        let steps = self.program.steps.clone();
        for (id, info) in steps.iter().enumerate() {
            let id = to_u32(id);
            let stage_fn = if info.stages.is_empty() {
                no_stages
            } else {
                let fid = self
                    .mb
                    .declare(&format!("stages {}", info.name), &[I32, I32], &[I32]);
                let func = self.stage_fn(id, info);
                self.mb.define(fid, func);
                fid
            };
            let (decode_fn, encode_fn) = if info.outputs.is_empty() {
                (no_outputs, no_outputs)
            } else {
                let dec = self
                    .mb
                    .declare(&format!("decode outputs {}", info.name), &[I32], &[]);
                let enc = self
                    .mb
                    .declare(&format!("encode outputs {}", info.name), &[I32], &[]);
                let mut df = Func::new(format!("decode outputs {}", info.name), &[I32], &[]);
                let mut ef = Func::new(format!("encode outputs {}", info.name), &[I32], &[]);
                let rec = df.param(0);
                for (i, (_, ty)) in info.outputs.iter().enumerate() {
                    let fns = self.type_fns(ty);
                    df.st64(
                        get(rec),
                        record::OUTPUTS + 8 * to_u32(i),
                        call(fns.dec, vec![]),
                    );
                    ef.exec(
                        fns.enc,
                        vec![ld64(get(rec), record::OUTPUTS + 8 * to_u32(i))],
                    );
                }
                self.mb.define(dec, df);
                self.mb.define(enc, ef);
                (dec, enc)
            };
            let skills = self.u32_array(&info.skills);
            let offsets: Vec<u8> = info
                .stages
                .iter()
                .flat_map(|s| s.offset_ms.to_le_bytes())
                .collect();
            let offsets = self.mb.data(&offsets, 8);
            let stage_calendars: Vec<u32> = info
                .stages
                .iter()
                .map(|s| s.calendar.unwrap_or(NO_ID))
                .collect();
            let stage_calendars = self.u32_array(&stage_calendars);
            let managers = self.u32_array(&info.managers);
            let name = self.text(&info.name);
            let fields: [(u32, u32); 20] = [
                (step::FLAGS, if info.skippable { 1 } else { 0 }),
                (step::ONLY_DURING, info.only_during.unwrap_or(NO_ID)),
                (step::CALENDAR, info.calendar.unwrap_or(NO_ID)),
                (step::PAUSE_FROM, info.pause.map_or(NO_ID, |p| p.0)),
                (step::PAUSE_UNTIL, info.pause.map_or(NO_ID, |p| p.1)),
                (step::NSKILLS, to_u32(info.skills.len())),
                (step::SKILLS, skills),
                (step::NSTAGES, to_u32(info.stages.len())),
                (step::STAGE_OFFSETS, offsets),
                (step::STAGE_FN, self.mb.table_slot(stage_fn)),
                (step::DECODE_FN, self.mb.table_slot(decode_fn)),
                (step::ENCODE_FN, self.mb.table_slot(encode_fn)),
                (step::NMANAGERS, to_u32(info.managers.len())),
                (step::MANAGERS, managers),
                (step::UNIT, info.unit),
                (step::PC, info.open_block),
                (step::NOUTPUTS, to_u32(info.outputs.len())),
                (step::NAME, name),
                (step::SLOT, info.slot),
                (step::STAGE_CALENDARS, stage_calendars),
            ];
            let entry = self.cx.steps_at + id * step::SIZE;
            for (offset, value) in fields {
                self.mb.patch(entry + offset, &value.to_le_bytes());
            }
        }
        let _ = rt;
    }

    /// The hooks of the whole case's ladders (`on breach` in a process's body): firing stage `k` of the case's
    /// process (notifications and flags, their messages read in the root frame), and when it fires after the one
    /// before it (the ladder counts one clock, so the difference of their offsets; the first counts from the
    /// breach).
    fn case_ladders(&mut self, hooks: &Hooks, processes: &[ProcessIr]) {
        let rt = self.rt;
        let base = self.cx.case_base;
        let mut fire = Func::new("case_stage", &[I32], &[I32]);
        let k = fire.param(0);
        let pid = fire.l32();
        let fr = fire.l32();
        fire.set(pid, ld32(u32c(base + header::PROCESS), 0));
        fire.set(fr, ld32(u32c(base + header::ROOT_FRAME), 0));
        let mut at = Func::new("case_stage_at", &[I32, I64], &[I64]);
        // `breached`: when the stage before (or the breach) fired.
        let (ak, breached) = (at.param(0), at.param(1));
        let apid = at.l32();
        at.set(apid, ld32(u32c(base + header::PROCESS), 0));
        for (id, process) in processes.iter().enumerate() {
            for (index, stage) in process.stages.iter().enumerate() {
                let here = both(
                    eq(get(pid), u32c(to_u32(id))),
                    eq(get(k), u32c(to_u32(index))),
                );
                fire.emit(&here);
                fire.ins(I::If(BlockType::Empty));
                match &stage.action {
                    StageAction::Notify { role, message } => {
                        self.notify(&mut fire, fr, u32c(*role), message.as_ref(), u32c(NO_ID));
                    }
                    StageAction::Flag(message) => {
                        self.flag_stage(&mut fire, fr, message, u32c(NO_ID));
                    }
                    // Refused by the checker for a case's ladder.
                    StageAction::Reassign(_) | StageAction::Cancel => {}
                }
                fire.ret(c32(1));
                fire.ins(I::End);
                let here = both(
                    eq(get(apid), u32c(to_u32(id))),
                    eq(get(ak), u32c(to_u32(index))),
                );
                let before = index
                    .checked_sub(1)
                    .and_then(|i| process.stages.get(i))
                    .map_or(0, |s| s.offset_ms);
                let step = stage.offset_ms.saturating_sub(before).max(0);
                at.if_(here, |f| {
                    f.ret(call(
                        rt.due_within,
                        vec![
                            get(breached),
                            c64(step),
                            u32c(stage.calendar.unwrap_or(NO_ID)),
                        ],
                    ));
                });
            }
        }
        fire.ret(c32(0));
        at.ret(c64(NO_TIME));
        self.mb.define(hooks.case_stage, fire);
        self.mb.define(hooks.case_stage_at, at);
    }

    /// `notify Role "message"` (a statement, or a ladder's stage): the message written in frame `fr` and given back
    /// once written out; `task` is the task whose ladder it is (`NO_ID` for a statement and the whole case's).
    fn notify(&mut self, f: &mut Func, fr: Local, role: E, message: Option<&Ex>, task: E) {
        let rt = self.rt;
        let text = f.l32();
        match message {
            Some(m) => {
                self.ex(f, fr, m);
                f.ins(I::I32WrapI64);
                f.set_top(text);
            }
            None => f.set(text, c32(0)),
        }
        f.exec(rt.effect, vec![c32(i32::from(effect::NOTIFIED))]);
        f.exec(rt.out_u32, vec![role]);
        f.exec(rt.out_text, vec![get(text)]);
        f.exec(rt.out_u32, vec![task]);
        drop_built(f, rt, message, text);
    }

    /// A ladder's `flag "message"`, as [`Gen::notify`].
    fn flag_stage(&mut self, f: &mut Func, fr: Local, message: &Ex, task: E) {
        let rt = self.rt;
        let text = self.ex_local32(f, fr, message);
        f.exec(rt.effect, vec![c32(i32::from(effect::FLAGGED))]);
        f.exec(rt.out_text, vec![get(text)]);
        f.exec(rt.out_u32, vec![task]);
        drop_built(f, rt, Some(message), text);
    }

    fn stage_fn(&mut self, step_id: u32, info: &StepIr) -> Func {
        let rt = self.rt;
        let mut f = Func::new(format!("stages {}", info.name), &[I32, I32], &[I32]);
        let t = f.param(0);
        let k = f.param(1);
        let fr = f.l32();
        f.set(fr, ld32(get(t), task::FRAME));
        for (index, stage) in info.stages.iter().enumerate() {
            f.emit(&eq(get(k), u32c(to_u32(index))));
            f.ins(I::If(BlockType::Empty));
            match &stage.action {
                StageAction::Notify { role, message } => {
                    self.notify(
                        &mut f,
                        fr,
                        u32c(*role),
                        message.as_ref(),
                        ld32(get(t), task::ID),
                    );
                    f.ret(c32(1));
                }
                StageAction::Reassign(role) => {
                    f.st32(get(t), task::ROLE, u32c(*role));
                    f.st32(get(t), task::PERSON, c32(0));
                    f.st32(get(t), task::CLAIMED, c32(0));
                    f.st32(
                        get(t),
                        task::FLAGS,
                        or(ld32(get(t), task::FLAGS), c32(task::REASSIGNED)),
                    );
                    f.exec(rt.effect, vec![c32(i32::from(effect::TASK_REASSIGNED))]);
                    f.exec(rt.out_u32, vec![ld32(get(t), task::ID)]);
                    f.exec(rt.out_u32, vec![u32c(step_id)]);
                    f.exec(rt.out_u32, vec![u32c(*role)]);
                    f.exec(rt.out_u8, vec![c32(0)]);
                    f.exec(rt.out_text, vec![c32(0)]);
                    f.ret(c32(1));
                }
                StageAction::Cancel => {
                    f.exec(
                        rt.task_withdraw,
                        vec![get(t), c32(i32::from(proc_abi::cancel_reason::BREACH))],
                    );
                    f.ret(c32(0));
                }
                StageAction::Flag(message) => {
                    self.flag_stage(&mut f, fr, message, ld32(get(t), task::ID));
                    f.ret(c32(1));
                }
            }
            f.ins(I::End);
        }
        f.ret(c32(1));
        f
    }

    // ---------------------------------------------------------------------------------------------------------
    // Hooks

    fn hooks(&mut self, hooks: &Hooks) {
        let rt = self.rt;
        let base = self.cx.case_base;
        let processes = self.program.processes.clone();
        self.case_ladders(hooks, &processes);

        let mut f = Func::new("start_process", &[I32], &[I32]);
        let pid = f.param(0);
        let fr = f.l32();
        for (id, process) in processes.iter().enumerate() {
            let slots = self
                .program
                .units
                .get(process.unit as usize)
                .map_or(0, |u| u.slots);
            let size = frame::SLOTS + 8 * slots;
            f.emit(&eq(get(pid), u32c(to_u32(id))));
            f.ins(I::If(BlockType::Empty));
            f.set(fr, call(rt.alloc, vec![u32c(size)]));
            f.st32(get(fr), frame::SIZE, u32c(size));
            for (i, ty) in process.params.iter().enumerate() {
                let fns = self.type_fns(ty);
                f.st64(get(fr), slot_offset(to_u32(i)), call(fns.dec, vec![]));
            }
            f.st32(u32c(base + header::ROOT_FRAME), 0, get(fr));
            f.call(
                rt.fiber_new,
                vec![u32c(process.unit), get(fr), c32(0), u32c(process.unit)],
                1,
            );
            f.ret(c32(0));
            f.ins(I::End);
        }
        f.ret(c32(1));
        self.mb.define(hooks.start_process, f);

        let mut f = Func::new("decode_signal", &[I32], &[I32]);
        let sig = f.param(0);
        let signals = self.program.signals.clone();
        for (id, record_id) in signals.iter().enumerate() {
            let fns = self.type_fns(&Ty::Record(*record_id));
            f.if_(eq(get(sig), u32c(to_u32(id))), |f| {
                f.ret(wrap(call(fns.dec, vec![])));
            });
        }
        f.exec(rt.abort, vec![u32c(abort::BAD_EVENT)]);
        f.ret(c32(0));
        self.mb.define(hooks.decode_signal, f);

        let mut f = Func::new("decode_action_result", &[I32], &[I64]);
        let action = f.param(0);
        let actions = self.program.actions.clone();
        for (id, info) in actions.iter().enumerate() {
            if info.result == Ty::Unit {
                f.if_(eq(get(action), u32c(to_u32(id))), |f| f.ret(c64(0)));
            } else {
                let fns = self.type_fns(&info.result);
                f.if_(eq(get(action), u32c(to_u32(id))), |f| {
                    f.ret(call(fns.dec, vec![]));
                });
            }
        }
        f.exec(rt.abort, vec![u32c(abort::BAD_EVENT)]);
        f.ret(c64(0));
        self.mb.define(hooks.decode_action_result, f);

        let mut f = Func::new("encode_data", &[I32, I32], &[]);
        let (pid, fr) = (f.param(0), f.param(1));
        let at = f.l32();
        let count = f.l32();
        let rec = f.l32();
        for (id, process) in processes.iter().enumerate() {
            f.emit(&eq(get(pid), u32c(to_u32(id))));
            f.ins(I::If(BlockType::Empty));
            for (i, ty) in process.params.iter().enumerate() {
                self.encode(&mut f, ld64(get(fr), slot_offset(to_u32(i))), ty);
            }
            f.set(at, call(rt.out_reserve, vec![c32(4)]));
            f.set(count, c32(0));
            let own: Vec<(usize, StepIr)> =
                self.program
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        s.flow == process.name
                            && !process.wraps_procedure
                            && s.in_flow_frame
                            && self.program.units.get(s.unit as usize).is_some_and(|u| {
                                matches!(u.kind, UnitKind::Process | UnitKind::Branch)
                            })
                    })
                    .map(|(i, s)| (i, s.clone()))
                    .collect();
            for (step_id, info) in own {
                f.set(rec, wrap(ld64(get(fr), slot_offset(info.slot))));
                f.emit(&get(rec));
                f.ins(I::If(BlockType::Empty));
                f.set(count, add(get(count), c32(1)));
                f.exec(rt.out_u32, vec![u32c(to_u32(step_id))]);
                f.exec(rt.out_u8, vec![wrap(ld64(get(rec), record::DONE))]);
                f.exec(rt.out_u8, vec![wrap(ld64(get(rec), record::BREACHED))]);
                f.exec(rt.out_text, vec![wrap(ld64(get(rec), record::DONE_BY))]);
                f.exec(rt.out_i64, vec![ld64(get(rec), record::COMPLETED_AT)]);
                f.emit(&ld64(get(rec), record::DONE));
                f.ins(I::I64Eqz);
                f.ins(I::I32Eqz);
                f.ins(I::If(BlockType::Empty));
                for (i, (_, ty)) in info.outputs.iter().enumerate() {
                    self.encode(&mut f, ld64(get(rec), record::OUTPUTS + 8 * to_u32(i)), ty);
                }
                f.ins(I::End);
                f.ins(I::End);
            }
            f.st32(get(at), 0, get(count));
            f.ins(I::End);
        }
        self.mb.define(hooks.encode_data, f);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Types

    fn encode(&mut self, f: &mut Func, value: E, ty: &Ty) {
        let rt = self.rt;
        match ty {
            Ty::Unit => {}
            Ty::Int | Ty::IntIn(..) | Ty::Duration | Ty::Time | Ty::Date => {
                f.exec(rt.out_i64, vec![value])
            }
            Ty::Bool => f.exec(rt.out_u8, vec![wrap(value)]),
            Ty::Text => f.exec(rt.out_text, vec![wrap(value)]),
            Ty::Role | Ty::Enum(_) | Ty::Calendar | Ty::Step(_) => {
                f.exec(rt.out_u32, vec![wrap(value)]);
            }
            _ => {
                let fns = self.type_fns(ty);
                f.exec(fns.enc, vec![value]);
            }
        }
    }

    fn type_functions(&mut self) {
        while let Some(ty) = self.pending.pop() {
            let Some(fns) = self.types.get(&ty).copied() else {
                continue;
            };
            let dec = self.dec_fn(&ty);
            self.mb.define(fns.dec, dec);
            let enc = self.enc_fn(&ty);
            self.mb.define(fns.enc, enc);
            let fmt = self.fmt_fn(&ty);
            self.mb.define(fns.fmt, fmt);
            let eq = self.eq_fn(&ty);
            self.mb.define(fns.eq, eq);
        }
    }

    fn dec_fn(&mut self, ty: &Ty) -> Func {
        let rt = self.rt;
        let mut f = Func::new(format!("decode {ty:?}"), &[], &[I64]);
        let bad = |f: &mut Func| f.exec(rt.abort, vec![u32c(abort::BAD_EVENT)]);
        match ty {
            Ty::Int | Ty::IntIn(..) | Ty::Duration | Ty::Time | Ty::Date => {
                f.emit(&call(rt.in_i64, vec![]));
            }
            Ty::Bool => {
                let v = f.l32();
                f.set(v, call(rt.in_u8, vec![]));
                f.if_(gt_u(get(v), c32(1)), bad);
                f.emit(&ext(get(v)));
            }
            Ty::Text => f.emit(&ext(call(rt.in_text, vec![]))),
            Ty::Role | Ty::Enum(_) => {
                let limit = match ty {
                    Ty::Enum(e) => self
                        .program
                        .enums
                        .get(*e as usize)
                        .map_or(0, |e| e.variants.len()),
                    _ => self.program.roles.len(),
                };
                let v = f.l32();
                f.set(v, call(rt.in_u32, vec![]));
                f.if_(ge_u(get(v), u32c(to_u32(limit))), bad);
                f.emit(&ext(get(v)));
            }
            Ty::Record(r) => {
                let fields: Vec<Ty> = self
                    .program
                    .records
                    .get(*r as usize)
                    .map(|r| r.fields.iter().map(|(_, t)| t.clone()).collect())
                    .unwrap_or_default();
                let p = f.l32();
                f.set(
                    p,
                    call(rt.alloc, vec![u32c(8 * to_u32(fields.len()).max(1))]),
                );
                for (i, field) in fields.iter().enumerate() {
                    let fns = self.type_fns(field);
                    f.st64(get(p), 8 * to_u32(i), call(fns.dec, vec![]));
                }
                f.emit(&ext(get(p)));
            }
            Ty::Optional(inner) => {
                let fns = self.type_fns(inner);
                let tag = f.l32();
                let p = f.l32();
                f.set(tag, call(rt.in_u8, vec![]));
                f.if_(eqz(get(tag)), |f| f.ret(c64(0)));
                f.if_(ne(get(tag), c32(1)), bad);
                f.set(p, call(rt.alloc, vec![c32(8)]));
                f.st64(get(p), 0, call(fns.dec, vec![]));
                f.emit(&ext(get(p)));
            }
            Ty::List(inner) => {
                let fns = self.type_fns(inner);
                let n = f.l32();
                let p = f.l32();
                let i = f.l32();
                f.set(n, call(rt.in_u32, vec![]));
                // Every item takes at least one byte, so a count beyond the remaining bytes is malformed.
                f.if_(gt_u(get(n), sub(gget(g::IN_END), gget(g::IN))), bad);
                f.set(p, call(rt.alloc, vec![add(c32(8), shl(get(n), c32(3)))]));
                f.st32(get(p), 0, get(n));
                f.set(i, c32(0));
                f.while_(lt_u(get(i), get(n)), |f, _| {
                    f.st64(add(get(p), shl(get(i), c32(3))), 8, call(fns.dec, vec![]));
                    f.set(i, add(get(i), c32(1)));
                });
                f.emit(&ext(get(p)));
            }
            Ty::Unit | Ty::Calendar | Ty::Step(_) => f.emit(&c64(0)),
        }
        f
    }

    fn enc_fn(&mut self, ty: &Ty) -> Func {
        let rt = self.rt;
        let mut f = Func::new(format!("encode {ty:?}"), &[I64], &[]);
        let v = f.param(0);
        match ty {
            Ty::Record(r) => {
                let fields: Vec<Ty> = self
                    .program
                    .records
                    .get(*r as usize)
                    .map(|r| r.fields.iter().map(|(_, t)| t.clone()).collect())
                    .unwrap_or_default();
                for (i, field) in fields.iter().enumerate() {
                    self.encode(&mut f, ld64(wrap(get(v)), 8 * to_u32(i)), field);
                }
            }
            Ty::Optional(inner) => {
                f.if_(eqz64(get(v)), |f| {
                    f.exec(rt.out_u8, vec![c32(0)]);
                    f.ret_void();
                });
                f.exec(rt.out_u8, vec![c32(1)]);
                self.encode(&mut f, ld64(wrap(get(v)), 0), inner);
            }
            Ty::List(inner) => {
                let n = f.l32();
                let i = f.l32();
                f.set(n, ld32(wrap(get(v)), 0));
                f.exec(rt.out_u32, vec![get(n)]);
                f.set(i, c32(0));
                let inner = (**inner).clone();
                let item = ld64(add(wrap(get(v)), shl(get(i), c32(3))), 8);
                f.block(|f, exit| {
                    f.looping(|f, again| {
                        f.br_if(exit, ge_u(get(i), get(n)));
                        self.encode(f, item, &inner);
                        f.set(i, add(get(i), c32(1)));
                        f.br(again);
                    });
                });
            }
            other => self.encode(&mut f, get(v), other),
        }
        f
    }

    fn fmt_fn(&mut self, ty: &Ty) -> Func {
        let rt = self.rt;
        let mut f = Func::new(format!("format {ty:?}"), &[I64], &[]);
        let v = f.param(0);
        match ty {
            Ty::Bool => {
                let (yes, no) = (self.text("true"), self.text("false"));
                f.exec(
                    rt.sb_text,
                    vec![cond(I32, truthy(get(v)), u32c(yes), u32c(no))],
                );
            }
            Ty::Role => f.exec(
                rt.sb_text,
                vec![ld32(
                    add(u32c(self.role_names), shl(wrap(get(v)), c32(2))),
                    0,
                )],
            ),
            Ty::Enum(e) => {
                let table = self.enum_names.get(*e as usize).copied().unwrap_or(0);
                f.exec(
                    rt.sb_text,
                    vec![ld32(add(u32c(table), shl(wrap(get(v)), c32(2))), 0)],
                );
            }
            Ty::Step(s) => {
                let name = self
                    .program
                    .steps
                    .get(*s as usize)
                    .map_or_else(String::new, |s| s.name.clone());
                let text = self.text(&name);
                f.exec(rt.sb_text, vec![u32c(text)]);
            }
            Ty::Record(r) => {
                let fields: Vec<(String, Ty)> = self
                    .program
                    .records
                    .get(*r as usize)
                    .map(|r| r.fields.clone())
                    .unwrap_or_default();
                for (i, (name, field)) in fields.iter().enumerate() {
                    let label = if i == 0 {
                        format!("{name}: ")
                    } else {
                        format!(", {name}: ")
                    };
                    let label = self.text(&label);
                    f.exec(rt.sb_text, vec![u32c(label)]);
                    self.format(&mut f, ld64(wrap(get(v)), 8 * to_u32(i)), field);
                }
            }
            Ty::Optional(inner) => {
                let none = self.text("none");
                f.if_(eqz64(get(v)), |f| {
                    f.exec(rt.sb_text, vec![u32c(none)]);
                    f.ret_void();
                });
                self.format(&mut f, ld64(wrap(get(v)), 0), inner);
            }
            Ty::List(inner) => {
                let n = f.l32();
                let i = f.l32();
                let comma = self.text(", ");
                f.set(n, ld32(wrap(get(v)), 0));
                f.set(i, c32(0));
                let inner = (**inner).clone();
                let item = ld64(add(wrap(get(v)), shl(get(i), c32(3))), 8);
                f.block(|f, exit| {
                    f.looping(|f, again| {
                        f.br_if(exit, ge_u(get(i), get(n)));
                        f.if_(get(i), |f| f.exec(rt.sb_text, vec![u32c(comma)]));
                        self.format(f, item, &inner);
                        f.set(i, add(get(i), c32(1)));
                        f.br(again);
                    });
                });
            }
            Ty::Calendar | Ty::Unit => {}
            other => self.format(&mut f, get(v), other),
        }
        f
    }

    fn eq_fn(&mut self, ty: &Ty) -> Func {
        let rt = self.rt;
        let mut f = Func::new(format!("equal {ty:?}"), &[I64, I64], &[I32]);
        let (a, b) = (f.param(0), f.param(1));
        match ty {
            Ty::Text => f.emit(&call(rt.text_eq, vec![wrap(get(a)), wrap(get(b))])),
            Ty::Record(r) => {
                let fields: Vec<Ty> = self
                    .program
                    .records
                    .get(*r as usize)
                    .map(|r| r.fields.iter().map(|(_, t)| t.clone()).collect())
                    .unwrap_or_default();
                f.if_(eq64(get(a), get(b)), |f| f.ret(c32(1)));
                for (i, field) in fields.iter().enumerate() {
                    f.emit(&ld64(wrap(get(a)), 8 * to_u32(i)));
                    f.emit(&ld64(wrap(get(b)), 8 * to_u32(i)));
                    self.equal_top(&mut f, field);
                    f.ins(I::I32Eqz);
                    f.ins(I::If(BlockType::Empty));
                    f.ret(c32(0));
                    f.ins(I::End);
                }
                f.emit(&c32(1));
            }
            Ty::Optional(inner) => {
                f.if_(eq64(get(a), get(b)), |f| f.ret(c32(1)));
                f.if_(or(eqz64(get(a)), eqz64(get(b))), |f| f.ret(c32(0)));
                f.emit(&ld64(wrap(get(a)), 0));
                f.emit(&ld64(wrap(get(b)), 0));
                self.equal_top(&mut f, inner);
            }
            Ty::List(inner) => {
                let n = f.l32();
                let i = f.l32();
                f.if_(eq64(get(a), get(b)), |f| f.ret(c32(1)));
                f.set(n, ld32(wrap(get(a)), 0));
                f.if_(ne(get(n), ld32(wrap(get(b)), 0)), |f| f.ret(c32(0)));
                f.set(i, c32(0));
                let inner = (**inner).clone();
                f.block(|f, exit| {
                    f.looping(|f, again| {
                        f.br_if(exit, ge_u(get(i), get(n)));
                        f.emit(&ld64(add(wrap(get(a)), shl(get(i), c32(3))), 8));
                        f.emit(&ld64(add(wrap(get(b)), shl(get(i), c32(3))), 8));
                        self.equal_top(f, &inner);
                        f.ins(I::I32Eqz);
                        f.ins(I::If(BlockType::Empty));
                        f.ret(c32(0));
                        f.ins(I::End);
                        f.set(i, add(get(i), c32(1)));
                        f.br(again);
                    });
                });
                f.emit(&c32(1));
            }
            _ => f.emit(&eq64(get(a), get(b))),
        }
        f
    }
}

struct UnitCx {
    unit: UnitId,
    fiber: Local,
    frame: Local,
    pc: Local,
    dispatch: Label,
}

/// After a message was written out: gives back its text when the message built it (an interpolation), since
/// nothing else holds that text. A text from a variable or a literal is shared and stays.
fn drop_built(f: &mut Func, rt: Rt, message: Option<&Ex>, text: Local) {
    if matches!(message, Some(Ex::Interp(_))) {
        f.exec(rt.text_drop, vec![get(text)]);
    }
}
