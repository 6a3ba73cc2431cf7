//! Pieces of the modules' support code checked on their own, through wasmtime: what the runtime tests cannot see
//! directly (a block zeroed one store short still passes a flow that happens to write those bytes first).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::backend::asm::{Func, add, both, c32, call, get, ld32};
use proc_compiler::backend::module::ModuleBuilder;
use proc_compiler::backend::prelude::zero_small;
use wasm_encoder::ValType::I32;
use wasmtime::{Engine, Instance, Memory, Store};

/// The built module, validated and instantiated, with its memory.
fn instantiate(mb: ModuleBuilder) -> (Store<()>, Instance, Memory) {
    let wasm = mb.finish(1, &[]);
    wasmparser::validate(&wasm).unwrap();
    let engine = Engine::default();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    (store, instance, memory)
}

/// `zero_small` zeroes exactly `[p, p + size)` for every size it is used with (multiples of 8 up to 512) and
/// every alignment of `p` to 8, and nothing around it.
#[test]
fn zero_small_zeroes_exactly_the_block() {
    let mut mb = ModuleBuilder::new(1024);
    let zero = mb.declare("zero", &[I32, I32], &[]);
    let mut f = Func::new("zero", &[I32, I32], &[]);
    let (p, size) = (f.param(0), f.param(1));
    zero_small(&mut f, p, size);
    mb.define(zero, f);
    mb.export("zero", zero);
    let (mut store, instance, memory) = instantiate(mb);
    let zero = instance
        .get_typed_func::<(i32, i32), ()>(&mut store, "zero")
        .unwrap();
    for at in [2048usize, 2056, 2064, 3000] {
        for size in (0..=512).step_by(8) {
            memory.data_mut(&mut store)[1024..4096].fill(0xAB);
            zero.call(
                &mut store,
                (i32::try_from(at).unwrap(), i32::try_from(size).unwrap()),
            )
            .unwrap();
            let data = &memory.data(&store)[1024..4096];
            for (i, byte) in data.iter().enumerate() {
                let address = 1024 + i;
                let inside = (at..at + size).contains(&address);
                assert_eq!(
                    *byte,
                    if inside { 0 } else { 0xAB },
                    "size {size} at {at}: byte {address}"
                );
            }
        }
    }
}

/// `both(a, b)` is `a && b` and runs `b` only when `a` is true: the support code relies on it to skip calls (a host
/// import, a text comparison) that `a` already makes unnecessary.
#[test]
fn both_runs_its_second_operand_only_when_the_first_is_true() {
    let mut mb = ModuleBuilder::new(1024);
    let counted = mb.declare("counted", &[I32], &[I32]);
    let run = mb.declare("run", &[I32, I32], &[I32]);
    // Counts its calls at address 0 and returns its argument.
    let mut f = Func::new("counted", &[I32], &[I32]);
    f.st32(c32(0), 0, add(ld32(c32(0), 0), c32(1)));
    f.ret(get(f.param(0)));
    mb.define(counted, f);
    let mut f = Func::new("run", &[I32, I32], &[I32]);
    f.ret(both(get(f.param(0)), call(counted, vec![get(f.param(1))])));
    mb.define(run, f);
    mb.export("run", run);
    let (mut store, instance, memory) = instantiate(mb);
    let run = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "run")
        .unwrap();
    for (a, b, result, calls) in [(0, 0, 0, 0), (0, 1, 0, 0), (1, 0, 0, 1), (1, 1, 1, 1)] {
        memory.data_mut(&mut store)[0..4].fill(0);
        assert_eq!(run.call(&mut store, (a, b)).unwrap(), result, "{a} && {b}");
        let count = u32::from_le_bytes(memory.data(&store)[0..4].try_into().unwrap());
        assert_eq!(count, calls, "calls of the second operand for {a} && {b}");
    }
}
