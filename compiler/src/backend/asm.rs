//! A small assembler over `wasm-encoder`: typed locals, expression trees and structured control flow with named
//! labels, so the runtime support code and the generated flows read like code rather than instruction lists.
//!
//! Values are either `i32` (addresses, counts, ids) or `i64` (every language value: numbers, times, pointers
//! widened to 64 bits). Expressions ([`E`]) push exactly one value; statements are methods on [`Func`].

use wasm_encoder::{BlockType, Instruction as I, MemArg, ValType};

/// A local variable (parameters first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local(pub u32);

/// A branch target: the block, loop or if it was opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

/// A function's index in the module's function index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub u32);

/// An expression: pushes one value.
#[derive(Clone, Debug)]
pub enum E {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `local.get`.
    Get(Local),
    /// Operands, then one instruction.
    Op(I<'static>, Vec<E>),
    /// A call of a function returning one value.
    Call(FnId, Vec<E>),
    /// `if (result t) cond then a else b`.
    If(ValType, Box<E>, Box<E>, Box<E>),
    /// `local.tee`.
    Tee(Local, Box<E>),
    /// Statements of a nested function body that leave one value (used for complex expressions).
    Block(ValType, Vec<I<'static>>),
}

fn arg(offset: u32, align: u32) -> MemArg {
    MemArg {
        offset: u64::from(offset),
        align,
        memory_index: 0,
    }
}

/// `i32.const`.
pub fn c32(value: i32) -> E {
    E::I32(value)
}
/// `i32.const` of an unsigned value (addresses, ids).
pub fn u32c(value: u32) -> E {
    E::I32(value as i32)
}
/// `i64.const`.
pub fn c64(value: i64) -> E {
    E::I64(value)
}
/// `local.get`.
pub fn get(local: Local) -> E {
    E::Get(local)
}
/// A call returning one value.
pub fn call(func: FnId, args: Vec<E>) -> E {
    E::Call(func, args)
}
/// `if (result t) c then a else b`, evaluating only the chosen side.
pub fn cond(ty: ValType, c: E, then: E, otherwise: E) -> E {
    E::If(ty, Box::new(c), Box::new(then), Box::new(otherwise))
}
/// `a && b` for values that are 0 or 1: `b` runs only when `a` is true, so a call in `b` costs nothing when `a`
/// already decides (`and` would evaluate both).
pub fn both(a: E, b: E) -> E {
    cond(ValType::I32, a, b, c32(0))
}
/// `local.tee`.
pub fn tee(local: Local, value: E) -> E {
    E::Tee(local, Box::new(value))
}
/// `global.get`.
pub fn gget(global: u32) -> E {
    E::Op(I::GlobalGet(global), Vec::new())
}

macro_rules! binary {
    ($($name:ident => $ins:expr, $doc:literal;)*) => {
        $(
            #[doc = $doc]
            pub fn $name(a: E, b: E) -> E {
                E::Op($ins, vec![a, b])
            }
        )*
    };
}

macro_rules! unary {
    ($($name:ident => $ins:expr, $doc:literal;)*) => {
        $(
            #[doc = $doc]
            pub fn $name(a: E) -> E {
                E::Op($ins, vec![a])
            }
        )*
    };
}

binary! {
    add => I::I32Add, "`i32.add`";
    sub => I::I32Sub, "`i32.sub`";
    mul => I::I32Mul, "`i32.mul`";
    div_u => I::I32DivU, "`i32.div_u`";
    rem_u => I::I32RemU, "`i32.rem_u`";
    and => I::I32And, "`i32.and`";
    or => I::I32Or, "`i32.or`";
    shl => I::I32Shl, "`i32.shl`";
    shr_u => I::I32ShrU, "`i32.shr_u`";
    eq => I::I32Eq, "`i32.eq`";
    ne => I::I32Ne, "`i32.ne`";
    lt_u => I::I32LtU, "`i32.lt_u`";
    le_u => I::I32LeU, "`i32.le_u`";
    gt_u => I::I32GtU, "`i32.gt_u`";
    ge_u => I::I32GeU, "`i32.ge_u`";
    lt_s => I::I32LtS, "`i32.lt_s`";
    gt_s => I::I32GtS, "`i32.gt_s`";
    add64 => I::I64Add, "`i64.add`";
    sub64 => I::I64Sub, "`i64.sub`";
    mul64 => I::I64Mul, "`i64.mul`";
    div64 => I::I64DivS, "`i64.div_s`";
    rem64 => I::I64RemS, "`i64.rem_s`";
    div64_u => I::I64DivU, "`i64.div_u`";
    rem64_u => I::I64RemU, "`i64.rem_u`";
    shr64_u => I::I64ShrU, "`i64.shr_u`";
    and64 => I::I64And, "`i64.and`";
    or64 => I::I64Or, "`i64.or`";
    xor64 => I::I64Xor, "`i64.xor`";
    eq64 => I::I64Eq, "`i64.eq`";
    ne64 => I::I64Ne, "`i64.ne`";
    lt64 => I::I64LtS, "`i64.lt_s`";
    le64 => I::I64LeS, "`i64.le_s`";
    gt64 => I::I64GtS, "`i64.gt_s`";
    ge64 => I::I64GeS, "`i64.ge_s`";
}

unary! {
    eqz => I::I32Eqz, "`i32.eqz`";
    eqz64 => I::I64Eqz, "`i64.eqz`";
    wrap => I::I32WrapI64, "`i32.wrap_i64`: an `i64` value as an `i32` (pointers, ids)";
    ext => I::I64ExtendI32U, "`i64.extend_i32_u`: an `i32` as an `i64` value";
}

/// Whether `sum = a + b` (`i64` locals, the sum already taken) wrapped around: both operands have the other sign
/// than the result.
pub fn add_wrapped(a: Local, b: Local, sum: Local) -> E {
    lt64(
        and64(xor64(get(a), get(sum)), xor64(get(b), get(sum))),
        c64(0),
    )
}

/// `i32.load offset`.
pub fn ld32(addr: E, offset: u32) -> E {
    E::Op(I::I32Load(arg(offset, 0)), vec![addr])
}
/// `i64.load offset`.
pub fn ld64(addr: E, offset: u32) -> E {
    E::Op(I::I64Load(arg(offset, 0)), vec![addr])
}
/// `v128.load offset`: sixteen bytes at once.
pub fn ld128(addr: E, offset: u32) -> E {
    E::Op(I::V128Load(arg(offset, 0)), vec![addr])
}
/// `i32.load8_u offset`.
pub fn ld8(addr: E, offset: u32) -> E {
    E::Op(I::I32Load8U(arg(offset, 0)), vec![addr])
}
/// An `i32` value as a boolean `i64` (0 or 1).
pub fn bool64(a: E) -> E {
    ext(ne(a, c32(0)))
}
/// A boolean `i64` as an `i32` condition.
pub fn truthy(a: E) -> E {
    ne64(a, c64(0))
}

/// A function being assembled.
#[derive(Clone, Debug)]
pub struct Func {
    /// Its name, for the name section.
    pub name: String,
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
    locals: Vec<ValType>,
    code: Vec<I<'static>>,
    depth: u32,
    /// Locals handed out since the function began (for [`Func::release_since`]).
    live: Vec<Local>,
    /// Released locals, ready to be handed out again.
    free32: Vec<Local>,
    free64: Vec<Local>,
}

/// A point in the allocation of locals, to release the ones handed out after it.
#[derive(Clone, Copy, Debug)]
pub struct Mark(usize);

impl Func {
    /// A new function.
    pub fn new(name: impl Into<String>, params: &[ValType], results: &[ValType]) -> Func {
        Func {
            name: name.into(),
            params: params.to_vec(),
            results: results.to_vec(),
            locals: Vec::new(),
            code: Vec::new(),
            depth: 0,
            live: Vec::new(),
            free32: Vec::new(),
            free64: Vec::new(),
        }
    }

    /// The current point of local allocation.
    pub fn mark(&self) -> Mark {
        Mark(self.live.len())
    }

    /// Makes the locals handed out since `mark` available again. Only for code whose locals are dead after it
    /// (the generated flows keep nothing in locals across blocks), so functions stay within the engines' limits
    /// on locals however long a flow is.
    pub fn release_since(&mut self, mark: Mark) {
        let released: Vec<Local> = self.live.drain(mark.0..).collect();
        for local in released {
            match self.local_type(local) {
                Some(ValType::I64) => self.free64.push(local),
                _ => self.free32.push(local),
            }
        }
    }

    fn local_type(&self, local: Local) -> Option<ValType> {
        let index = local.0 as usize;
        if index < self.params.len() {
            return self.params.get(index).copied();
        }
        self.locals.get(index - self.params.len()).copied()
    }

    /// Parameter `index`.
    pub fn param(&self, index: u32) -> Local {
        Local(index)
    }

    fn local(&mut self, ty: ValType) -> Local {
        let index = self.params.len() + self.locals.len();
        self.locals.push(ty);
        Local(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// A new `i32` local (or a released one).
    pub fn l32(&mut self) -> Local {
        let local = match self.free32.pop() {
            Some(local) => local,
            None => self.local(ValType::I32),
        };
        self.live.push(local);
        local
    }

    /// A new `i64` local (or a released one).
    pub fn l64(&mut self) -> Local {
        let local = match self.free64.pop() {
            Some(local) => local,
            None => self.local(ValType::I64),
        };
        self.live.push(local);
        local
    }

    /// The non-parameter locals.
    pub fn local_types(&self) -> &[ValType] {
        &self.locals
    }

    /// The instructions so far (without the final `end`).
    pub fn instructions(&self) -> &[I<'static>] {
        &self.code
    }

    /// Appends one raw instruction.
    pub fn ins(&mut self, instruction: I<'static>) {
        match instruction {
            I::Block(_) | I::Loop(_) | I::If(_) => self.depth += 1,
            I::End => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.code.push(instruction);
    }

    /// Pushes an expression's value.
    pub fn emit(&mut self, e: &E) {
        match e {
            E::I32(v) => self.ins(I::I32Const(*v)),
            E::I64(v) => self.ins(I::I64Const(*v)),
            E::Get(l) => self.ins(I::LocalGet(l.0)),
            E::Op(ins, operands) => {
                for operand in operands {
                    self.emit(operand);
                }
                self.ins(ins.clone());
            }
            E::Call(f, args) => {
                for a in args {
                    self.emit(a);
                }
                self.ins(I::Call(f.0));
            }
            E::If(ty, c, a, b) => {
                self.emit(c);
                self.ins(I::If(BlockType::Result(*ty)));
                self.emit(a);
                self.ins(I::Else);
                self.emit(b);
                self.ins(I::End);
            }
            E::Tee(l, v) => {
                self.emit(v);
                self.ins(I::LocalTee(l.0));
            }
            E::Block(ty, body) => {
                self.ins(I::Block(BlockType::Result(*ty)));
                for ins in body {
                    self.ins(ins.clone());
                }
                self.ins(I::End);
            }
        }
    }

    /// `local = value`.
    pub fn set(&mut self, local: Local, value: E) {
        self.emit(&value);
        self.ins(I::LocalSet(local.0));
    }

    /// `global = value`.
    pub fn gset(&mut self, global: u32, value: E) {
        self.emit(&value);
        self.ins(I::GlobalSet(global));
    }

    /// Stores the value on top of the stack (pushed by a previous call) into a local.
    pub fn set_top(&mut self, local: Local) {
        self.ins(I::LocalSet(local.0));
    }

    /// Evaluates and drops a value.
    pub fn drop_value(&mut self, value: E) {
        self.emit(&value);
        self.ins(I::Drop);
    }

    /// `i32.store offset`.
    pub fn st32(&mut self, addr: E, offset: u32, value: E) {
        self.emit(&addr);
        self.emit(&value);
        self.ins(I::I32Store(arg(offset, 0)));
    }

    /// `i64.store offset`.
    pub fn st64(&mut self, addr: E, offset: u32, value: E) {
        self.emit(&addr);
        self.emit(&value);
        self.ins(I::I64Store(arg(offset, 0)));
    }

    /// `v128.store offset`.
    pub fn st128(&mut self, addr: E, offset: u32, value: E) {
        self.emit(&addr);
        self.emit(&value);
        self.ins(I::V128Store(arg(offset, 0)));
    }

    /// `i32.store8 offset`.
    pub fn st8(&mut self, addr: E, offset: u32, value: E) {
        self.emit(&addr);
        self.emit(&value);
        self.ins(I::I32Store8(arg(offset, 0)));
    }

    /// `i64.store offset` of the address and value already pushed.
    pub fn store64_top(&mut self, offset: u32) {
        self.ins(I::I64Store(arg(offset, 0)));
    }

    /// `i64.load offset` of the address already pushed.
    pub fn load64_top(&mut self, offset: u32) {
        self.ins(I::I64Load(arg(offset, 0)));
    }

    /// `i32.load offset` of the address already pushed.
    pub fn load32_top(&mut self, offset: u32) {
        self.ins(I::I32Load(arg(offset, 0)));
    }

    /// Calls a function whose results (if any) are dropped.
    pub fn call(&mut self, func: FnId, args: Vec<E>, results: usize) {
        for a in &args {
            self.emit(a);
        }
        self.ins(I::Call(func.0));
        for _ in 0..results {
            self.ins(I::Drop);
        }
    }

    /// Calls a function with no results.
    pub fn exec(&mut self, func: FnId, args: Vec<E>) {
        self.call(func, args, 0);
    }

    /// `call_indirect` through table 0 with the given type.
    pub fn call_indirect(&mut self, type_index: u32, args: Vec<E>, index: E) {
        for a in &args {
            self.emit(a);
        }
        self.emit(&index);
        self.ins(I::CallIndirect {
            type_index,
            table_index: 0,
        });
    }

    /// `memory.copy dst src len`.
    pub fn copy(&mut self, dst: E, src: E, len: E) {
        self.emit(&dst);
        self.emit(&src);
        self.emit(&len);
        self.ins(I::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        });
    }

    /// `memory.fill dst 0 len`.
    pub fn zero(&mut self, dst: E, len: E) {
        self.emit(&dst);
        self.ins(I::I32Const(0));
        self.emit(&len);
        self.ins(I::MemoryFill(0));
    }

    /// Returns a value.
    pub fn ret(&mut self, value: E) {
        self.emit(&value);
        self.ins(I::Return);
    }

    /// Returns from a function without results.
    pub fn ret_void(&mut self) {
        self.ins(I::Return);
    }

    /// `unreachable`.
    pub fn trap(&mut self) {
        self.ins(I::Unreachable);
    }

    fn open(&mut self, ins: I<'static>) -> Label {
        let label = Label(self.depth);
        self.ins(ins);
        label
    }

    /// `block … end`; branching to the label leaves the block.
    pub fn block(&mut self, body: impl FnOnce(&mut Func, Label)) {
        let label = self.open(I::Block(BlockType::Empty));
        body(self, label);
        self.ins(I::End);
    }

    /// `loop … end`; branching to the label starts the loop again.
    pub fn looping(&mut self, body: impl FnOnce(&mut Func, Label)) {
        let label = self.open(I::Loop(BlockType::Empty));
        body(self, label);
        self.ins(I::End);
    }

    /// `while cond { body }`; the body gets the label that leaves the loop.
    pub fn while_(&mut self, condition: E, body: impl FnOnce(&mut Func, Label)) {
        self.block(|f, exit| {
            f.looping(|f, again| {
                f.br_if(exit, eqz(condition));
                body(f, exit);
                f.br(again);
            });
        });
    }

    /// `if cond { then }`.
    pub fn if_(&mut self, condition: E, then: impl FnOnce(&mut Func)) {
        self.emit(&condition);
        self.open(I::If(BlockType::Empty));
        then(self);
        self.ins(I::End);
    }

    /// `if cond { then } else { otherwise }`.
    pub fn if_else(
        &mut self,
        condition: E,
        then: impl FnOnce(&mut Func),
        otherwise: impl FnOnce(&mut Func),
    ) {
        self.emit(&condition);
        self.open(I::If(BlockType::Empty));
        then(self);
        self.ins(I::Else);
        otherwise(self);
        self.ins(I::End);
    }

    /// `br label`.
    pub fn br(&mut self, label: Label) {
        let depth = self.depth.saturating_sub(1).saturating_sub(label.0);
        self.ins(I::Br(depth));
    }

    /// `br_if label cond`.
    pub fn br_if(&mut self, label: Label, condition: E) {
        self.emit(&condition);
        let depth = self.depth.saturating_sub(1).saturating_sub(label.0);
        self.ins(I::BrIf(depth));
    }

    /// A `br_table` over `labels` with `default`, on the value of `index`.
    pub fn br_table(&mut self, index: E, labels: &[Label], default: Label) {
        self.emit(&index);
        let here = self.depth.saturating_sub(1);
        let targets: Vec<u32> = labels.iter().map(|l| here.saturating_sub(l.0)).collect();
        self.ins(I::BrTable(targets.into(), here.saturating_sub(default.0)));
    }

    /// Opens `count` nested blocks and returns their labels, innermost first. Close each with [`Func::end`].
    pub fn open_blocks(&mut self, count: usize) -> Vec<Label> {
        let mut labels: Vec<Label> = (0..count)
            .map(|_| self.open(I::Block(BlockType::Empty)))
            .collect();
        labels.reverse();
        labels
    }

    /// Opens a loop and returns its label; close it with [`Func::end`].
    pub fn open_loop(&mut self) -> Label {
        self.open(I::Loop(BlockType::Empty))
    }

    /// `end` of a block opened with [`Func::open_blocks`] or [`Func::open_loop`].
    pub fn end(&mut self) {
        self.ins(I::End);
    }

    /// Whether calls of this function may be replaced by its body ([`Func::with_inlined`]): it is short (at most
    /// `limit` instructions), has at most one result, and its locals are numbers or vectors (which start at zero).
    pub fn inlinable(&self, limit: usize) -> bool {
        self.code.len() <= limit
            && self.results.len() <= 1
            && self
                .params
                .iter()
                .chain(&self.locals)
                .all(|t| matches!(t, ValType::I32 | ValType::I64 | ValType::V128))
    }

    /// This function with each call of a function that `callee` gives a body for replaced by that body: the
    /// arguments go into fresh locals, the callee's own locals are zeroed (as on entry to a call), its body runs in a
    /// block that takes the place of the function's frame, and a `return` becomes a branch out of that block.
    /// Calls inside the spliced bodies stay calls (one level), so recursion cannot unfold.
    ///
    /// Engines do not inline across wasm functions by default, and a call costs a frame, a stack check and an
    /// interruption check: for the support code's one-line helpers (`out_u32`, `in_u32`, …) that is most of their
    /// cost (docs/performance.md).
    pub fn with_inlined<'a>(&self, callee: impl Fn(u32) -> Option<&'a Func>) -> Func {
        let mut out = Func {
            code: Vec::with_capacity(self.code.len()),
            ..self.clone()
        };
        // One set of locals per callee, shared by all its call sites: an inlined body finishes before the next
        // one starts (arguments are evaluated before the call), and it is zeroed on each entry.
        let mut bases: Vec<(u32, u32)> = Vec::new();
        for ins in &self.code {
            let Some((index, g)) = (match ins {
                I::Call(index) => callee(*index).map(|g| (index, g)),
                _ => None,
            }) else {
                out.code.push(ins.clone());
                continue;
            };
            let base = match bases.iter().find(|(i, _)| i == index) {
                Some(&(_, base)) => base,
                None => {
                    let base = u32::try_from(out.params.len() + out.locals.len()).unwrap_or(0);
                    out.locals.extend(g.params.iter().chain(&g.locals).copied());
                    bases.push((*index, base));
                    base
                }
            };
            let params = u32::try_from(g.params.len()).unwrap_or(0);
            for i in (0..params).rev() {
                out.code.push(I::LocalSet(base + i));
            }
            for (j, ty) in (params..).zip(&g.locals) {
                out.code.push(match ty {
                    ValType::I64 => I::I64Const(0),
                    ValType::V128 => I::V128Const(0),
                    _ => I::I32Const(0),
                });
                out.code.push(I::LocalSet(base + j));
            }
            out.code.push(I::Block(match g.results.first() {
                Some(t) => BlockType::Result(*t),
                None => BlockType::Empty,
            }));
            let mut depth = 0u32;
            for ins in &g.code {
                out.code.push(match ins {
                    I::LocalGet(l) => I::LocalGet(base + l),
                    I::LocalSet(l) => I::LocalSet(base + l),
                    I::LocalTee(l) => I::LocalTee(base + l),
                    I::Return => I::Br(depth),
                    I::Block(_) | I::Loop(_) | I::If(_) => {
                        depth += 1;
                        ins.clone()
                    }
                    I::End => {
                        depth = depth.saturating_sub(1);
                        I::End
                    }
                    other => other.clone(),
                });
            }
            out.code.push(I::End);
        }
        out
    }

    /// Encodes the finished body.
    pub fn encode(&self) -> wasm_encoder::Function {
        let mut function =
            wasm_encoder::Function::new_with_locals_types(self.locals.iter().copied());
        for ins in &self.code {
            function.instruction(ins);
        }
        function.instruction(&I::End);
        function
    }
}
