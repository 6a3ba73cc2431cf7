//! Assembling a module: types, imports, functions (declared first, defined later, so code can call anything),
//! the function table, static data, globals, exports, the name section and the metadata section.

use super::asm::{FnId, Func};
use rustc_hash::FxHashMap as HashMap;
use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, DataSection, ElementSection, Elements, EntityType,
    ExportKind, ExportSection, FunctionSection, GlobalSection, GlobalType, ImportSection,
    MemorySection, MemoryType, NameMap, NameSection, RefType, TableSection, TableType, TypeSection,
    ValType,
};

/// Mutable globals of the module (indexes).
pub mod global {
    /// `i32` end of the case heap.
    pub const HEAP_TOP: u32 = 0;
    /// `i32` the heap may not grow past this.
    pub const HEAP_LIMIT: u32 = 1;
    /// `i32` read position in the event.
    pub const IN: u32 = 2;
    /// `i32` end of the event.
    pub const IN_END: u32 = 3;
    /// `i32` start of the output buffer.
    pub const OUT_START: u32 = 4;
    /// `i32` write position in the output buffer.
    pub const OUT: u32 = 5;
    /// `i32` end of the output buffer.
    pub const OUT_END: u32 = 6;
    /// `i64` the time of the event (or of the timer being fired).
    pub const NOW: u32 = 7;
    /// `i32` number of effects written.
    pub const COUNT: u32 = 8;
    /// `i32` write position of the text being built.
    pub const SB: u32 = 9;
    /// `i32` the id (role, skill) a rejection refers to.
    pub const REJECT_ARG: u32 = 10;
    /// `i32` 1 once a fiber has run since the last time the scheduler woke the reminder loops that wait for
    /// their next round (`every … until c`, which look at `c` again after anything happened).
    pub const POKE: u32 = 11;
    /// `i32` set by a reminder loop woken early that found its condition still false and went back to sleep: its
    /// run changed nothing, so it does not count as something having happened.
    pub const QUIET: u32 = 12;
    /// Their types, in order.
    pub const TYPES: &[wasm_encoder::ValType] = &[
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I64,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I32,
    ];
}

/// The default of [`ModuleBuilder::set_inline_limit`].
const INLINE_LIMIT: usize = 40;

/// A module under construction.
#[derive(Default)]
pub struct ModuleBuilder {
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    type_index: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    imports: Vec<(String, u32)>,
    functions: Vec<(String, u32, Option<Func>)>,
    table: Vec<FnId>,
    table_index: HashMap<FnId, u32>,
    /// Static data, placed at `data_base`.
    data: Vec<u8>,
    data_base: u32,
    texts: HashMap<String, u32>,
    exports: Vec<(String, FnId)>,
    /// Functions of at most this many instructions are inlined at their call sites (0: none).
    inline_limit: usize,
}

impl ModuleBuilder {
    /// A builder whose static data starts at `data_base`.
    pub fn new(data_base: u32) -> ModuleBuilder {
        ModuleBuilder {
            data_base,
            inline_limit: INLINE_LIMIT,
            ..ModuleBuilder::default()
        }
    }

    /// Inlines functions of at most `limit` instructions at their call sites ([`Func::with_inlined`]); 0 turns
    /// inlining off. The default is 40, measured on the complaint benchmark (docs/performance.md).
    pub fn set_inline_limit(&mut self, limit: usize) {
        self.inline_limit = limit;
    }

    /// The index of a function type.
    pub fn ty(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let key = (params.to_vec(), results.to_vec());
        if let Some(&index) = self.type_index.get(&key) {
            return index;
        }
        let index = u32::try_from(self.types.len()).unwrap_or(u32::MAX);
        self.types.push(key.clone());
        self.type_index.insert(key, index);
        index
    }

    /// Imports a function from module `proc` (only before any function is declared).
    pub fn import(&mut self, name: &str, params: &[ValType], results: &[ValType]) -> FnId {
        let ty = self.ty(params, results);
        self.imports.push((name.to_string(), ty));
        FnId(u32::try_from(self.imports.len() - 1).unwrap_or(u32::MAX))
    }

    /// Declares a function; define its body later with [`ModuleBuilder::define`].
    pub fn declare(&mut self, name: &str, params: &[ValType], results: &[ValType]) -> FnId {
        let ty = self.ty(params, results);
        self.functions.push((name.to_string(), ty, None));
        FnId(u32::try_from(self.imports.len() + self.functions.len() - 1).unwrap_or(u32::MAX))
    }

    /// Gives a declared function its body.
    pub fn define(&mut self, id: FnId, func: Func) {
        let index = (id.0 as usize).wrapping_sub(self.imports.len());
        if let Some(slot) = self.functions.get_mut(index) {
            slot.2 = Some(func);
        }
    }

    /// The function's index in the table used by `call_indirect` (added on first use).
    pub fn table_slot(&mut self, id: FnId) -> u32 {
        if let Some(&slot) = self.table_index.get(&id) {
            return slot;
        }
        let slot = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        self.table.push(id);
        self.table_index.insert(id, slot);
        slot
    }

    /// Exports a function.
    pub fn export(&mut self, name: &str, id: FnId) {
        self.exports.push((name.to_string(), id));
    }

    /// Appends bytes to the static data (aligned to `align`) and returns their address.
    pub fn data(&mut self, bytes: &[u8], align: usize) -> u32 {
        while self.data.len() % align.max(1) != 0 {
            self.data.push(0);
        }
        let address = self.data_base + u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        self.data.extend_from_slice(bytes);
        address
    }

    /// A text object (`u32 length` + bytes) in static data; equal texts share one address.
    pub fn text(&mut self, text: &str) -> u32 {
        if let Some(&address) = self.texts.get(text) {
            return address;
        }
        let mut bytes = u32::try_from(text.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes()
            .to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let address = self.data(&bytes, 4);
        self.texts.insert(text.to_string(), address);
        address
    }

    /// Reserves zeroed static data and returns its address (fill it with [`ModuleBuilder::patch`]).
    pub fn reserve(&mut self, len: usize, align: usize) -> u32 {
        self.data(&vec![0; len], align)
    }

    /// Overwrites static data at `address`.
    pub fn patch(&mut self, address: u32, bytes: &[u8]) {
        let start = address.wrapping_sub(self.data_base) as usize;
        if let Some(target) = self.data.get_mut(start..start + bytes.len()) {
            target.copy_from_slice(bytes);
        }
    }

    /// The end of static data.
    pub fn data_end(&self) -> u32 {
        self.data_base + u32::try_from(self.data.len()).unwrap_or(u32::MAX)
    }

    /// Encodes the module. `pages` is the initial memory size; `custom` sections are appended.
    pub fn finish(self, pages: u64, custom: &[(&str, &[u8])]) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        let mut types = TypeSection::new();
        for (params, results) in &self.types {
            types
                .ty()
                .function(params.iter().copied(), results.iter().copied());
        }
        module.section(&types);

        let mut imports = ImportSection::new();
        for (name, ty) in &self.imports {
            imports.import(proc_abi::imports::MODULE, name, EntityType::Function(*ty));
        }
        module.section(&imports);

        let mut functions = FunctionSection::new();
        for (_, ty, _) in &self.functions {
            functions.function(*ty);
        }
        module.section(&functions);

        let mut tables = TableSection::new();
        let table_len = u64::try_from(self.table.len()).unwrap_or(0);
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: table_len,
            maximum: Some(table_len),
            shared: false,
        });
        module.section(&tables);

        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);

        let mut globals = GlobalSection::new();
        for ty in global::TYPES {
            let init = match ty {
                ValType::I64 => ConstExpr::i64_const(0),
                _ => ConstExpr::i32_const(0),
            };
            globals.global(
                GlobalType {
                    val_type: *ty,
                    mutable: true,
                    shared: false,
                },
                &init,
            );
        }
        module.section(&globals);

        let mut exports = ExportSection::new();
        exports.export(proc_abi::exports::MEMORY, ExportKind::Memory, 0);
        for (name, id) in &self.exports {
            exports.export(name, ExportKind::Func, id.0);
        }
        module.section(&exports);

        let mut elements = ElementSection::new();
        let table: Vec<u32> = self.table.iter().map(|f| f.0).collect();
        elements.active(
            None,
            &ConstExpr::i32_const(0),
            Elements::Functions(table.into()),
        );
        module.section(&elements);

        let mut code = CodeSection::new();
        let empty = Func::new("", &[], &[]);
        let imported = u32::try_from(self.imports.len()).unwrap_or(0);
        let inlinable = |index: u32| -> Option<&Func> {
            let (_, _, body) = self.functions.get(index.checked_sub(imported)? as usize)?;
            body.as_ref()
                .filter(|f| self.inline_limit > 0 && f.inlinable(self.inline_limit))
        };
        for (_, _, body) in &self.functions {
            let body = body.as_ref().unwrap_or(&empty);
            code.function(&body.with_inlined(inlinable).encode());
        }
        module.section(&code);

        let mut data = DataSection::new();
        data.active(
            0,
            &ConstExpr::i32_const(i32::try_from(self.data_base).unwrap_or(0)),
            self.data.iter().copied(),
        );
        module.section(&data);

        let mut names = NameSection::new();
        let mut function_names = NameMap::new();
        for (index, (name, _)) in self.imports.iter().enumerate() {
            function_names.append(u32::try_from(index).unwrap_or(0), name);
        }
        for (index, (name, _, _)) in self.functions.iter().enumerate() {
            let index = u32::try_from(index + self.imports.len()).unwrap_or(0);
            function_names.append(index, name);
        }
        names.functions(&function_names);
        module.section(&names);

        for (name, bytes) in custom {
            module.section(&CustomSection {
                name: (*name).into(),
                data: (*bytes).into(),
            });
        }
        module.finish()
    }
}
