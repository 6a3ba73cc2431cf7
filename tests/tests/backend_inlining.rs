//! The back end's inliner (`Func::with_inlined`): a module built with small functions inlined computes exactly
//! what the same module computes with real calls, for callees with early returns inside nested blocks and loops,
//! locals that must start at zero on every call, memory effects, calls inside the inlined body and nested calls.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::backend::asm::{
    E, Func, add64, c32, c64, call, eqz64, ext, get, gt64, ld64, lt64, mul64, sub64, wrap,
};
use proc_compiler::backend::module::ModuleBuilder;
use proptest::prelude::*;
use wasm_encoder::ValType::I64;
use wasmtime::{Config, Engine, Instance, Store};

/// A module exporting `run(x) -> i64`, which calls small helpers in the ways generated code does.
fn module(inline_limit: usize) -> Vec<u8> {
    let mut mb = ModuleBuilder::new(1024);
    mb.set_inline_limit(inline_limit);
    let double = mb.declare("double", &[I64], &[I64]);
    let clamp = mb.declare("clamp", &[I64], &[I64]);
    let sum_to = mb.declare("sum_to", &[I64], &[I64]);
    let bump = mb.declare("bump", &[I64], &[]);
    let twice_clamped = mb.declare("twice_clamped", &[I64], &[I64]);
    let run = mb.declare("run", &[I64], &[I64]);

    let mut f = Func::new("double", &[I64], &[I64]);
    f.ret(mul64(get(f.param(0)), c64(2)));
    mb.define(double, f);

    // An early return two blocks deep, and a fall-through value.
    let mut f = Func::new("clamp", &[I64], &[I64]);
    let x = f.param(0);
    f.block(|f, _| {
        f.if_(gt64(get(x), c64(100)), |f| f.ret(c64(100)));
        f.if_(lt64(get(x), c64(-100)), |f| f.ret(c64(-100)));
    });
    f.emit(&get(x));
    mb.define(clamp, f);

    // A local that accumulates from zero, and a return from inside a loop.
    let mut f = Func::new("sum_to", &[I64], &[I64]);
    let n = f.param(0);
    let acc = f.l64();
    let i = f.l64();
    f.looping(|f, again| {
        f.if_(gt64(get(i), get(n)), |f| f.ret(get(acc)));
        f.set(acc, add64(get(acc), get(i)));
        f.set(i, add64(get(i), c64(1)));
        f.if_(eqz64(sub64(get(i), c64(50))), |f| f.ret(c64(-1)));
        f.br(again);
    });
    f.trap();
    mb.define(sum_to, f);

    // No result: a memory effect and a void return in the middle.
    let mut f = Func::new("bump", &[I64], &[]);
    let by = f.param(0);
    f.if_(eqz64(get(by)), |f| f.ret_void());
    f.st64(c32(0), 0, add64(ld64(c32(0), 0), get(by)));
    mb.define(bump, f);

    // Calls inside a body that is itself inlined.
    let mut f = Func::new("twice_clamped", &[I64], &[I64]);
    f.ret(call(double, vec![call(clamp, vec![get(f.param(0))])]));
    mb.define(twice_clamped, f);

    let mut f = Func::new("run", &[I64], &[I64]);
    let x = f.param(0);
    let r = f.l64();
    f.st64(c32(0), 0, c64(0));
    f.exec(bump, vec![get(x)]);
    f.exec(bump, vec![c64(0)]);
    f.exec(bump, vec![c64(3)]);
    f.set(r, call(double, vec![call(double, vec![get(x)])]));
    f.set(r, add64(get(r), call(clamp, vec![get(x)])));
    f.set(
        r,
        add64(
            get(r),
            call(sum_to, vec![call(clamp, vec![wrap_back(get(x))])]),
        ),
    );
    f.set(r, add64(get(r), call(sum_to, vec![c64(3)])));
    f.set(r, add64(get(r), call(twice_clamped, vec![get(x)])));
    f.ret(add64(mul64(get(r), c64(1000)), ld64(c32(0), 0)));
    mb.define(run, f);
    mb.export("run", run);
    mb.finish(1, &[])
}

/// `x` through an `i32` and back (keeps an `i32` operation in the mix).
fn wrap_back(x: E) -> E {
    ext(wrap(x))
}

/// The number of `call` instructions in the module's code.
fn calls(wasm: &[u8]) -> usize {
    let mut count = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                if let wasmparser::Operator::Call { .. } = reader.read().unwrap() {
                    count += 1;
                }
            }
        }
    }
    count
}

struct Run {
    store: Store<()>,
    instance: Instance,
}

impl Run {
    fn new(engine: &Engine, wasm: &[u8]) -> Run {
        wasmparser::validate(wasm).expect("the module validates");
        let module = wasmtime::Module::new(engine, wasm).expect("the module compiles");
        let mut store = Store::new(engine, ());
        // A wrong branch could loop: fuel turns that into an error.
        store.set_fuel(1_000_000).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).expect("it instantiates");
        Run { store, instance }
    }

    fn run(&mut self, x: i64) -> Result<i64, String> {
        self.store.set_fuel(1_000_000).unwrap();
        let f = self
            .instance
            .get_typed_func::<i64, i64>(&mut self.store, "run")
            .unwrap();
        f.call(&mut self.store, x).map_err(|e| format!("{e}"))
    }
}

#[test]
fn small_functions_are_inlined_and_large_ones_called() {
    let inlined = module(40);
    let called = module(0);
    // `run` makes 10 calls, `twice_clamped` 2. Inlined, only the calls inside a spliced body remain: the two of
    // `twice_clamped`'s original body, spliced into `run` (one level).
    assert_eq!(calls(&called), 12);
    assert_eq!(calls(&inlined), 2);
    // A limit below a function's size keeps its calls.
    assert!(calls(&module(3)) > calls(&inlined));
}

fn engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true);
    Engine::new(&config).unwrap()
}

#[test]
fn inlining_changes_no_result() {
    let engine = engine();
    let mut inlined = Run::new(&engine, &module(40));
    let mut called = Run::new(&engine, &module(0));
    for x in [-1000, -101, -100, -5, 0, 1, 3, 49, 50, 99, 100, 101, 1000] {
        assert_eq!(inlined.run(x), called.run(x), "run({x})");
    }
    // Spot values worked out by hand: x = 3 → double(double(3)) = 12, clamp = 3, sum_to(3) = 6 twice,
    // twice_clamped = 6: r = 33; memory 3 + 3.
    assert_eq!(called.run(3), Ok(33 * 1000 + 6));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn inlined_and_called_agree(x in any::<i64>()) {
        let engine = engine();
        let mut inlined = Run::new(&engine, &module(40));
        let mut called = Run::new(&engine, &module(0));
        prop_assert_eq!(inlined.run(x), called.run(x));
    }
}
