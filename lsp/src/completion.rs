//! Completion and signature help. The context is read from the tokens before the cursor (the text being typed
//! is usually broken, so the syntax tree cannot be trusted there); what the names mean comes from the analysis.

use crate::convert;
use crate::view::View;
use proc_compiler::Span;
use proc_compiler::ast::{ItemKind, UseItems};
use proc_compiler::lexer::{self, Token};
use proc_compiler::model::{DefId, DefKind, Definition, Ty};
use proc_compiler::std_lib::STD_MODULES;
use proc_compiler::{FileId, SourceFile};
use tower_lsp::lsp_types::{
    CompletionItem, CompletionItemKind, CompletionItemLabelDetails, Documentation,
    InsertTextFormat, MarkupContent, MarkupKind, ParameterInformation, ParameterLabel, Range,
    SignatureHelp, SignatureInformation, TextEdit,
};

/// What every step tells about itself: name, type, meaning (for completion and hover).
pub(crate) const STEP_FACTS: &[(&str, &str, &str)] = &[
    ("done", "Bool", "the step has been completed"),
    (
        "breached",
        "Bool",
        "the step's deadline passed before it was done",
    ),
    (
        "expired",
        "Bool",
        "nobody did the step before it expired (`expires after`), so its task was withdrawn",
    ),
    ("done_by", "Text", "who completed the step"),
    ("completed_at", "Time", "when the step was completed"),
];

/// What every calendar tells: name, type, meaning.
pub(crate) const CALENDAR_FACTS: &[(&str, &str, &str)] = &[
    (
        "is_open",
        "Bool",
        "the calendar is within working hours now",
    ),
    ("next_open", "Time", "the next moment the calendar is open"),
];

/// One token with its text and byte range.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    token: Token<'a>,
    text: &'a str,
    start: u32,
    end: u32,
}

fn tokens(source: &SourceFile) -> Vec<Tok<'_>> {
    let lexed = lexer::lex(FileId(0), &source.text);
    lexed
        .tokens
        .iter()
        .map(|(token, span)| Tok {
            token: *token,
            text: source.text.get(span.start..span.end).unwrap_or(""),
            start: u32::try_from(span.start).unwrap_or(u32::MAX),
            end: u32::try_from(span.end).unwrap_or(u32::MAX),
        })
        .collect()
}

/// What surrounds the cursor: the block it is in, by the first word of the line that opened the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    TopLevel,
    Flow,
    Step,
    Breach,
    Calendar,
    Fields,
    Enum,
    Match,
    Test,
    Schedule,
    Kpi,
    Braces,
}

fn block_of(source: &SourceFile, toks: &[Tok<'_>]) -> Vec<Block> {
    let mut stack = Vec::new();
    for (index, tok) in toks.iter().enumerate() {
        match tok.token {
            Token::LBrace => {
                let line = source.line_index(tok.start);
                let head = toks
                    .get(..index)
                    .unwrap_or(&[])
                    .iter()
                    .rev()
                    .take_while(|t| source.line_index(t.start) == line)
                    .last();
                let previous = index.checked_sub(1).and_then(|i| toks.get(i));
                let block = match head.map(|t| t.token) {
                    Some(Token::Process | Token::Procedure) => Block::Flow,
                    Some(Token::Step) => Block::Step,
                    Some(Token::Calendar) => Block::Calendar,
                    Some(Token::Record | Token::Signal) => Block::Fields,
                    Some(Token::Enum) => Block::Enum,
                    Some(Token::Match) => Block::Match,
                    Some(Token::Test) => Block::Test,
                    Some(Token::Schedule) => Block::Schedule,
                    Some(Token::Kpi) => Block::Kpi,
                    Some(Token::Ident("on")) => Block::Breach,
                    // `with { ... }` of a test completion, a record literal `Name { ... }`: fields and values.
                    _ if previous
                        .is_some_and(|p| matches!(p.token, Token::Ident(_) | Token::Eq)) =>
                    {
                        Block::Braces
                    }
                    _ => Block::Flow,
                };
                stack.push(block);
            }
            Token::RBrace => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack
}

struct Ctx<'v, 'a> {
    view: &'v View<'a>,
    file: FileId,
    offset: u32,
    snippets: bool,
    items: Vec<CompletionItem>,
}

impl Ctx<'_, '_> {
    fn push(&mut self, label: &str, kind: CompletionItemKind, detail: Option<String>, rank: u8) {
        if self.items.iter().any(|item| item.label == label) {
            return;
        }
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail,
            sort_text: Some(format!("{rank}{label}")),
            ..CompletionItem::default()
        });
    }

    fn push_def(&mut self, id: DefId, rank: u8) {
        let Some(def) = self.view.analysis.def(id) else {
            return;
        };
        if def.name.is_empty() || self.items.iter().any(|item| item.label == def.name) {
            return;
        }
        self.items.push(CompletionItem {
            label: def.name.clone(),
            kind: Some(item_kind(def.kind)),
            detail: Some(def.signature.clone()),
            documentation: def.docs.as_ref().map(|docs| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: docs.clone(),
                })
            }),
            sort_text: Some(format!("{rank}{}", def.name)),
            ..CompletionItem::default()
        });
    }

    fn keywords(&mut self, words: &[&str]) {
        for word in words {
            self.push(word, CompletionItemKind::KEYWORD, None, 5);
        }
    }

    fn snippet(&mut self, label: &str, detail: &str, body: &str) {
        if !self.snippets {
            return;
        }
        // The snippet writes the keyword too: one item per word, not two with the same label.
        self.items.retain(|item| {
            !(item.label == label && item.kind == Some(CompletionItemKind::KEYWORD))
        });
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(CompletionItemKind::SNIPPET),
            detail: Some(detail.to_string()),
            insert_text: Some(body.to_string()),
            insert_text_format: Some(InsertTextFormat::SNIPPET),
            sort_text: Some(format!("6{label}")),
            ..CompletionItem::default()
        });
    }

    /// Definitions the file can name: its own, and those of the package and `std` (imported or not; the
    /// compiler reports a missing `use`).
    fn visible(&self, kinds: &[DefKind]) -> Vec<DefId> {
        let analysis = self.view.analysis;
        let mut ids: Vec<(u8, DefId)> = analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, def)| kinds.contains(&def.kind) && def.parent.is_none())
            .filter(|(_, def)| def.file == self.file || self.imports(def))
            .map(|(index, def)| {
                let rank = if def.file == self.file {
                    1
                } else if self.view.is_std(def.file) {
                    3
                } else {
                    2
                };
                (rank, DefId(u32::try_from(index).unwrap_or(u32::MAX)))
            })
            .collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// True if this file's `use` lines name `def` (by name, in braces, or with `.*`).
    fn imports(&self, def: &Definition) -> bool {
        let Some(module) = self
            .view
            .source(def.file)
            .map(|source| source.module.as_str())
        else {
            return false;
        };
        let Some(parsed) = self.view.analysis.parsed.get(self.file.0 as usize) else {
            return false;
        };
        parsed.ast.items.iter().any(|item| {
            let ItemKind::Use(decl) = &item.kind else {
                return false;
            };
            let path = decl.module.iter().map(|i| i.name.as_str());
            path.eq(module.split('.'))
                && match &decl.items {
                    UseItems::All(_) => true,
                    UseItems::Named(names) => names.iter().any(|n| n.name == def.name),
                }
        })
    }

    fn push_visible(&mut self, kinds: &[DefKind]) {
        for id in self.visible(kinds) {
            let rank = self
                .view
                .analysis
                .def(id)
                .map_or(4, |def| if def.file == self.file { 1 } else { 3 });
            self.push_def(id, rank);
        }
        self.push_importable(kinds);
    }

    /// Declarations of other modules (of the package, then `std`) that this file does not import yet: choosing
    /// one adds its `use` line too, as the "import" quick fix would.
    fn push_importable(&mut self, kinds: &[DefKind]) {
        if self.view.is_std(self.file) {
            return;
        }
        let Some(edit_at) = self.use_insertion() else {
            return;
        };
        let analysis = self.view.analysis;
        let mut found: Vec<(bool, &str, &str, DefId)> = analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, def)| kinds.contains(&def.kind) && def.parent.is_none())
            .filter(|(_, def)| def.file != self.file && !self.imports(def))
            .filter_map(|(index, def)| {
                let module = self.view.source(def.file)?.module.as_str();
                let id = DefId(u32::try_from(index).ok()?);
                Some((self.view.is_std(def.file), module, def.name.as_str(), id))
            })
            .collect();
        found.sort();
        for (is_std, module, name, id) in found {
            if name.is_empty() || self.items.iter().any(|item| item.label == name) {
                continue;
            }
            // After what the file can already name, its keywords and snippets; the package's before `std`'s.
            self.push_def(id, if is_std { 8 } else { 7 });
            let (range, before, after) = edit_at;
            if let Some(item) = self.items.last_mut() {
                item.label_details = Some(CompletionItemLabelDetails {
                    detail: None,
                    description: Some(format!("use {module}.{name}")),
                });
                item.additional_text_edits = Some(vec![TextEdit {
                    range,
                    new_text: format!("{before}use {module}.{name}{after}"),
                }]);
            }
        }
    }

    /// Where a new `use` line goes (`proc_compiler::suggest::use_insertion`), where the quick fix puts it.
    fn use_insertion(&self) -> Option<(Range, &'static str, &'static str)> {
        let source = self.view.source(self.file)?;
        let parsed = self.view.analysis.parsed.get(self.file.0 as usize)?;
        let (offset, before, after) =
            proc_compiler::suggest::use_insertion(&source.text, &parsed.ast.items);
        let at = Span {
            start: offset,
            end: offset,
        };
        Some((convert::range(source, at), before, after))
    }

    /// The procedure, process or test around the cursor.
    fn enclosing_flow(&self) -> Option<DefId> {
        self.view
            .analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, def)| {
                def.file == self.file
                    && matches!(
                        def.kind,
                        DefKind::Procedure | DefKind::Process | DefKind::Test
                    )
                    && def.span.start <= self.offset
                    && self.offset <= def.span.end
            })
            .min_by_key(|(_, def)| def.span.len())
            .map(|(index, _)| DefId(u32::try_from(index).unwrap_or(u32::MAX)))
    }

    /// Parameters, steps, branches and earlier variables of the enclosing flow.
    fn push_scope(&mut self) {
        let Some(flow) = self.enclosing_flow() else {
            return;
        };
        let members = self
            .view
            .analysis
            .members
            .get(&flow)
            .cloned()
            .unwrap_or_default();
        for id in members {
            let Some(def) = self.view.analysis.def(id) else {
                continue;
            };
            let earlier = def.name_span.end <= self.offset;
            match def.kind {
                DefKind::Param | DefKind::Step | DefKind::Branch => self.push_def(id, 0),
                DefKind::Local if earlier => self.push_def(id, 0),
                _ => {}
            }
        }
    }

    fn steps_of_flow(&mut self) {
        self.steps_of_flow_before(u32::MAX);
    }

    /// Steps (and branches) of the enclosing flow declared before `limit` (an offset in the file).
    fn steps_of_flow_before(&mut self, limit: u32) {
        let Some(flow) = self.enclosing_flow() else {
            return;
        };
        for id in self
            .view
            .analysis
            .members
            .get(&flow)
            .cloned()
            .unwrap_or_default()
        {
            if self.view.analysis.def(id).is_some_and(|def| {
                matches!(def.kind, DefKind::Step | DefKind::Branch)
                    && (def.file != self.file || def.name_span.end < limit)
            }) {
                self.push_def(id, 0);
            }
        }
    }

    /// Steps of the process a test started (a test names them in `complete` and `expect`).
    fn steps_of_tested_process(&mut self, toks: &[Tok<'_>]) {
        let process = toks
            .windows(2)
            .rev()
            .find(|pair| {
                pair.first()
                    .is_some_and(|t| t.token == Token::Ident("start"))
                    && pair
                        .get(1)
                        .is_some_and(|t| matches!(t.token, Token::Ident(_)))
            })
            .and_then(|pair| pair.get(1))
            .and_then(|t| self.view.analysis.name_at(self.file, t.start))
            .map(|(_, id)| id);
        if let Some(process) = process {
            self.steps_of_process(process);
        }
    }

    /// The process a `kpi NAME for PROCESS` measures.
    fn kpi_process(&self, toks: &[Tok<'_>]) -> Option<DefId> {
        let position = toks.iter().rposition(|t| t.text == "kpi")?;
        let (Some(for_), Some(process)) = (toks.get(position + 2), toks.get(position + 3)) else {
            return None;
        };
        if for_.token != Token::For {
            return None;
        }
        self.view
            .analysis
            .name_at(self.file, process.start)
            .map(|(_, id)| id)
    }

    /// The steps of a process, e.g. as moments of a KPI (`measure time from start to close`).
    fn steps_of_process(&mut self, process: DefId) {
        for id in self
            .view
            .analysis
            .members
            .get(&process)
            .cloned()
            .unwrap_or_default()
        {
            if self
                .view
                .analysis
                .def(id)
                .is_some_and(|def| def.kind == DefKind::Step)
            {
                self.push_def(id, 0);
            }
        }
    }

    fn types(&mut self) {
        for builtin in ["Text", "Int", "Bool", "Duration", "Time", "Date", "Role"] {
            self.push(builtin, CompletionItemKind::TYPE_PARAMETER, None, 2);
        }
        self.push_visible(&[DefKind::Record, DefKind::Enum, DefKind::Signal]);
    }

    /// Members of a value of type `ty` after a `.`.
    fn members_of_type(&mut self, ty: &Ty, depth: usize) {
        if depth > 4 {
            return;
        }
        match ty {
            Ty::Named(id) | Ty::EnumType(id) => self.members_of_def(*id),
            Ty::Optional(inner) => self.members_of_type(inner, depth + 1),
            Ty::Step(id) => {
                self.members_of_def(*id);
                for (fact, ty, detail) in STEP_FACTS {
                    self.push(
                        fact,
                        CompletionItemKind::PROPERTY,
                        Some(format!("{ty}: {detail}")),
                        1,
                    );
                }
            }
            Ty::Calendar(_) => {
                for (fact, ty, detail) in CALENDAR_FACTS {
                    self.push(
                        fact,
                        CompletionItemKind::PROPERTY,
                        Some(format!("{ty}: {detail}")),
                        1,
                    );
                }
            }
            _ => {}
        }
    }

    fn members_of_def(&mut self, id: DefId) {
        for member in self
            .view
            .analysis
            .members
            .get(&id)
            .cloned()
            .unwrap_or_default()
        {
            if self.view.analysis.def(member).is_some_and(|def| {
                matches!(
                    def.kind,
                    DefKind::Field | DefKind::Variant | DefKind::Output
                )
            }) {
                self.push_def(member, 0);
            }
        }
    }

    /// What a name before a `.` refers to: the analysis's resolution, else the nearest definition of that name.
    fn resolve(&self, tok: &Tok<'_>) -> Option<DefId> {
        if let Some((_, id)) = self.view.analysis.name_at(self.file, tok.start) {
            return Some(id);
        }
        let flow = self.enclosing_flow();
        let analysis = self.view.analysis;
        analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, def)| def.name == tok.text)
            .min_by_key(|(_, def)| {
                let in_flow = flow.is_some() && def.parent == flow;
                let same_file = def.file == self.file;
                (!in_flow, !same_file)
            })
            .map(|(index, _)| DefId(u32::try_from(index).unwrap_or(u32::MAX)))
    }

    fn members_of_name(&mut self, tok: &Tok<'_>) {
        let Some(id) = self.resolve(tok) else { return };
        let Some(def) = self.view.analysis.def(id).cloned() else {
            return;
        };
        match def.kind {
            DefKind::Enum | DefKind::Record | DefKind::Signal => self.members_of_def(id),
            DefKind::Step => self.members_of_type(&Ty::Step(id), 0),
            DefKind::Calendar => self.members_of_type(&Ty::Calendar(id), 0),
            _ => self.members_of_type(&def.ty, 0),
        }
    }

    /// Variants of the enum a `match` looks at.
    fn match_variants(&mut self, toks: &[Tok<'_>], before: usize) {
        // The innermost open `match ... {` before the cursor.
        let mut depth = 0i32;
        let mut brace = None;
        for index in (0..before).rev() {
            match toks.get(index).map(|t| t.token) {
                Some(Token::RBrace) => depth += 1,
                Some(Token::LBrace) if depth == 0 => {
                    brace = Some(index);
                    break;
                }
                Some(Token::LBrace) => depth -= 1,
                _ => {}
            }
        }
        let Some(brace) = brace else { return };
        // The scrutinee's last name (`assess.urgency` → `urgency`).
        let Some(last) = brace
            .checked_sub(1)
            .and_then(|i| toks.get(i))
            .filter(|t| matches!(t.token, Token::Ident(_)))
            .copied()
        else {
            return;
        };
        let covered: Vec<&str> = toks
            .get(brace..)
            .unwrap_or(&[])
            .iter()
            .filter(|t| matches!(t.token, Token::Ident(_)))
            .map(|t| t.text)
            .collect();
        let Some(id) = self.resolve(&last) else {
            return;
        };
        let Some(def) = self.view.analysis.def(id).cloned() else {
            return;
        };
        let mut ty = def.ty.clone();
        while let Ty::Optional(inner) = ty {
            ty = *inner;
        }
        let Ty::Named(enum_id) = ty else { return };
        for member in self
            .view
            .analysis
            .members
            .get(&enum_id)
            .cloned()
            .unwrap_or_default()
        {
            let uncovered = self
                .view
                .analysis
                .def(member)
                .is_some_and(|variant| !covered.contains(&variant.name.as_str()));
            self.push_def(member, if uncovered { 0 } else { 4 });
        }
        self.push(
            "_",
            CompletionItemKind::KEYWORD,
            Some("any other variant".to_string()),
            5,
        );
    }

    /// Module paths after `use`.
    fn modules(&mut self, typed: &str, package_modules: &[String]) {
        let own = self.view.source(self.file).map(|f| f.module.clone());
        let mut modules: Vec<String> = STD_MODULES.iter().map(|(m, _, _)| m.to_string()).collect();
        // Every module of the package (also those this file does not import yet), but not the file itself.
        modules.extend(
            self.view
                .analysis
                .files
                .iter()
                .take(self.view.analysis.package_files)
                .map(|file| file.module.clone())
                .chain(package_modules.iter().cloned())
                .filter(|module| Some(module) != own.as_ref()),
        );
        modules.sort();
        modules.dedup();
        let prefix = if typed.is_empty() {
            String::new()
        } else {
            format!("{typed}.")
        };
        for module in modules {
            if let Some(rest) = module.strip_prefix(&prefix) {
                let segment = rest.split('.').next().unwrap_or(rest);
                if !segment.is_empty() {
                    self.push(segment, CompletionItemKind::MODULE, Some(module.clone()), 1);
                }
            }
        }
        // Items of the module named so far.
        let analysis = self.view.analysis;
        let file = analysis.files.iter().position(|file| file.module == typed);
        if let Some(file) = file {
            let ids: Vec<DefId> = analysis
                .defs
                .iter()
                .enumerate()
                .filter(|(_, def)| {
                    def.file.0 as usize == file && def.parent.is_none() && def.kind != DefKind::Test
                })
                .map(|(index, _)| DefId(u32::try_from(index).unwrap_or(u32::MAX)))
                .collect();
            for id in ids {
                self.push_def(id, 0);
            }
            self.push(
                "*",
                CompletionItemKind::KEYWORD,
                Some("everything in the module".to_string()),
                5,
            );
        }
    }
}

fn item_kind(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Role => CompletionItemKind::CLASS,
        DefKind::Record => CompletionItemKind::STRUCT,
        DefKind::Field | DefKind::Output => CompletionItemKind::FIELD,
        DefKind::Enum => CompletionItemKind::ENUM,
        DefKind::Variant => CompletionItemKind::ENUM_MEMBER,
        DefKind::Signal => CompletionItemKind::EVENT,
        DefKind::Action | DefKind::Procedure | DefKind::Process | DefKind::Test => {
            CompletionItemKind::FUNCTION
        }
        DefKind::Calendar | DefKind::Schedule => CompletionItemKind::MODULE,
        DefKind::Kpi => CompletionItemKind::VALUE,
        DefKind::Step => CompletionItemKind::METHOD,
        DefKind::Param | DefKind::Local | DefKind::Branch => CompletionItemKind::VARIABLE,
    }
}

const ITEM_KEYWORDS: &[&str] = &[
    "role",
    "record",
    "enum",
    "signal",
    "action",
    "calendar",
    "procedure",
    "process",
    "schedule",
    "kpi",
    "test",
    "use",
];
// `else` follows an `if` block's `}` and `each` follows `for`: neither starts a statement.
const STATEMENT_KEYWORDS: &[&str] = &[
    "step", "let", "if", "match", "parallel", "first", "branch", "for", "repeat", "every", "await",
    "wait", "fail", "complete", "return", "notify", "cancel",
];
const EXPRESSION_KEYWORDS: &[&str] = &["and", "or", "not", "true", "false", "none", "now"];
const STEP_CLAUSES: &[&str] = &[
    "by",
    "within",
    "after",
    "due",
    "expires after",
    "on breach",
    "paused from",
    "only during",
    "skippable",
];
const BREACH_ACTIONS: &[&str] = &["after", "before", "notify", "reassign to", "cancel", "flag"];
const CALENDAR_ENTRIES: &[&str] = &["zone", "hours", "holiday", "include"];
const TEST_STATEMENTS: &[&str] = &[
    "start", "complete", "expect", "advance", "signal", "given", "claim", "release", "delegate",
    "reassign", "suspend", "resume", "skip", "redo",
];
const SCHEDULE_CLAUSES: &[&str] = &["every", "at", "on", "start"];

/// Completion items at a byte offset.
pub fn completion(
    view: &View<'_>,
    file: FileId,
    offset: u32,
    snippets: bool,
    package_modules: &dyn Fn() -> Vec<String>,
) -> Vec<CompletionItem> {
    let Some(source) = view.source(file) else {
        return Vec::new();
    };
    let toks = tokens(source);
    // The word being typed, if any, does not count as context.
    let before = toks.partition_point(|t| t.end < offset || (t.end == offset && !is_word(t)));
    let before_tokens = toks.get(..before).unwrap_or(&[]);
    let mut ctx = Ctx {
        view,
        file,
        offset,
        snippets,
        items: Vec::new(),
    };
    // Inside a comment or text: nothing to offer.
    let in_trivia = view
        .analysis
        .parsed
        .get(file.0 as usize)
        .is_some_and(|parsed| {
            parsed
                .trivia
                .iter()
                .any(|t| t.span.start < offset && offset <= t.span.end)
        });
    let in_text = toks.iter().any(|t| {
        matches!(t.token, Token::Text(_) | Token::UnterminatedText(_))
            && t.start < offset
            && (offset < t.end || matches!(t.token, Token::UnterminatedText(_)) && offset == t.end)
    });
    if in_trivia {
        return Vec::new();
    }
    if in_text {
        // Inside `{…}` of a text: the names it can show, or the fields of the one before the dot.
        interpolation(&mut ctx, source, &toks, offset);
        return ctx.items;
    }
    let last = before_tokens.last().copied();
    let second = before.checked_sub(2).and_then(|i| toks.get(i)).copied();
    let line_start = last.is_none_or(|t| source.line_index(t.start) != source.line_index(offset));

    // `use a.b.` and `use a.b.{`: modules and their items.
    if let Some(path) = use_path(before_tokens) {
        ctx.modules(&path, &package_modules());
        // Inside `use m.{A, `: not `*`, and not what the braces already name.
        let use_at = before_tokens.iter().rposition(|t| t.token == Token::Use);
        let brace = before_tokens
            .iter()
            .rposition(|t| t.token == Token::LBrace)
            .filter(|&brace| use_at.is_some_and(|u| brace > u));
        if let Some(brace) = brace {
            let named: Vec<&str> = before_tokens
                .get(brace..)
                .unwrap_or(&[])
                .iter()
                .filter(|t| is_word(t))
                .map(|t| t.text)
                .collect();
            ctx.items
                .retain(|item| item.label != "*" && !named.contains(&item.label.as_str()));
        }
        return ctx.items;
    }
    // `complete assess by "ann" as Agent with { `: the step's outputs (those not given yet).
    if let Some(step) = completed_with(before_tokens) {
        if let Some(id) = ctx.resolve(&step) {
            ctx.members_of_def(id);
        }
        drop_named(&mut ctx.items, before_tokens);
        return ctx.items;
    }
    // `Complaint { `, `signal CustomerReplied { customer: "Ada", ` in a test: the fields not given yet (not in the
    // declaration `record Complaint {` or `signal CustomerReplied {`).
    let declared = literal_owner(before_tokens).is_some_and(|_| {
        let open = field_position(before_tokens).unwrap_or(0);
        let keyword = open.checked_sub(2).and_then(|i| before_tokens.get(i));
        keyword.is_some_and(|k| match k.token {
            Token::Signal => {
                block_of(source, before_tokens.get(..open).unwrap_or(&[])).last()
                    != Some(&Block::Test)
            }
            _ => matches!(
                k.token,
                Token::Record
                    | Token::Enum
                    | Token::Calendar
                    | Token::Procedure
                    | Token::Process
                    | Token::Schedule
                    | Token::Kpi
            ),
        })
    });
    if let Some(owner) = literal_owner(before_tokens).filter(|_| !declared) {
        let record = ctx.resolve(&owner).filter(|&id| {
            view.analysis
                .def(id)
                .is_some_and(|def| matches!(def.kind, DefKind::Record | DefKind::Signal))
        });
        if let Some(record) = record {
            ctx.members_of_def(record);
            drop_named(&mut ctx.items, before_tokens);
            return ctx.items;
        }
    }
    let in_kpi = block_of(source, before_tokens).last() == Some(&Block::Kpi);
    match last.map(|t| t.token) {
        Some(Token::Dot) => {
            if let Some(name) = second.filter(|t| matches!(t.token, Token::Ident(_))) {
                ctx.members_of_name(&name);
            }
            return ctx.items;
        }
        Some(Token::By | Token::Notify) => {
            ctx.push_visible(&[DefKind::Role]);
            if last.is_some_and(|t| t.token == Token::By) && !in_kpi {
                ctx.keywords(&["person", "role", "manager of", "same person as"]);
            }
            return ctx.items;
        }
        // `other than`, `same person as`, `manager of`, `since`: a step that runs before this one, so only the
        // steps declared before the `step` the cursor is in.
        Some(Token::Ident("than" | "of" | "since" | "as"))
            if !in_kpi
                && in_step(before_tokens)
                && (last.is_some_and(|t| t.text != "as")
                    || second.is_some_and(|t| t.text == "person")) =>
        {
            let step = before_tokens
                .iter()
                .rev()
                .find(|t| t.token == Token::Step)
                .map_or(u32::MAX, |t| t.start);
            ctx.steps_of_flow_before(step);
            return ctx.items;
        }
        Some(Token::Ident("to" | "as")) if !in_kpi => {
            ctx.push_visible(&[DefKind::Role]);
            return ctx.items;
        }
        Some(Token::For) if block_of(source, before_tokens).last() == Some(&Block::Test) => {
            ctx.push_visible(&[DefKind::Role]);
            return ctx.items;
        }
        Some(Token::Ident("than")) => {
            ctx.steps_of_flow();
            return ctx.items;
        }
        Some(Token::Ident("of" | "since")) => {
            ctx.steps_of_flow();
            return ctx.items;
        }
        Some(Token::Ident("during")) => {
            ctx.push_visible(&[DefKind::Calendar]);
            return ctx.items;
        }
        Some(Token::Ident("on")) => {
            if second.is_some_and(|t| matches!(t.token, Token::Duration(_) | Token::Int(_))) {
                ctx.push_visible(&[DefKind::Calendar]);
            } else {
                ctx.keywords(&["breach"]);
            }
            return ctx.items;
        }
        Some(Token::Colon | Token::Arrow) => {
            let block = block_of(source, before_tokens).last().copied();
            if block == Some(Block::Braces) {
                ctx.push_scope();
                ctx.push_visible(&[DefKind::Enum, DefKind::Record]);
                ctx.keywords(EXPRESSION_KEYWORDS);
            } else {
                ctx.types();
            }
            return ctx.items;
        }
        Some(Token::Cancel) => {
            ctx.steps_of_flow();
            return ctx.items;
        }
        Some(Token::For) if second.is_some_and(|t| is_word(&t)) && before_tokens.len() >= 3 => {
            // `kpi NAME for `: the processes it can measure.
            let kpi = before.checked_sub(3).and_then(|i| toks.get(i));
            if kpi.is_some_and(|t| t.text == "kpi") {
                ctx.push_visible(&[DefKind::Process]);
                return ctx.items;
            }
        }
        Some(Token::Await) => {
            ctx.push_visible(&[DefKind::Signal]);
            return ctx.items;
        }
        Some(Token::Ident("from")) if second.is_some_and(|t| t.text == "paused") => {
            ctx.push_visible(&[DefKind::Signal]);
            return ctx.items;
        }
        // `paused from A until `: the signal that resumes it.
        Some(Token::Ident("until"))
            if before
                .checked_sub(4)
                .and_then(|i| toks.get(i))
                .is_some_and(|t| t.text == "paused") =>
        {
            ctx.push_visible(&[DefKind::Signal]);
            return ctx.items;
        }
        _ => {}
    }
    let block = block_of(source, before_tokens)
        .last()
        .copied()
        .unwrap_or(Block::TopLevel);
    match block {
        Block::TopLevel => {
            if line_start {
                ctx.keywords(ITEM_KEYWORDS);
                item_snippets(&mut ctx);
            }
        }
        Block::Step => {
            if line_start {
                ctx.keywords(STEP_CLAUSES);
            } else if last
                .is_some_and(|t| matches!(t.token, Token::Within | Token::After | Token::Due))
            {
                // A duration or a time: values and calls, not roles, types or calendars (those follow `on`).
                ctx.push_scope();
                ctx.push_visible(&[DefKind::Procedure, DefKind::Action]);
                if last.is_some_and(|t| t.token == Token::Due) {
                    ctx.keywords(&["now"]);
                }
                // Not the step being declared: its deadline cannot depend on it.
                let declared = before_tokens
                    .iter()
                    .rposition(|t| t.token == Token::Step)
                    .and_then(|i| before_tokens.get(i + 1))
                    .map(|t| t.text);
                // Calls that give a duration (`within`, `after`) or a time (`due`).
                let results: &[&str] = if last.is_some_and(|t| t.token == Token::Due) {
                    &["-> Time", "-> Date", "-> Time?", "-> Date?"]
                } else {
                    &["-> Duration"]
                };
                ctx.items.retain(|item| {
                    let detail = item.detail.as_deref().unwrap_or("");
                    let call = detail.starts_with("procedure ") || detail.starts_with("action ");
                    Some(item.label.as_str()) != declared
                        && (!call || results.iter().any(|r| detail.ends_with(r)))
                });
            } else {
                value_completions(&mut ctx);
            }
        }
        Block::Breach => {
            if line_start
                || last.is_some_and(|t| matches!(t.token, Token::Duration(_) | Token::LBrace))
            {
                ctx.keywords(BREACH_ACTIONS);
            }
        }
        Block::Calendar => {
            if line_start {
                ctx.keywords(CALENDAR_ENTRIES);
            } else if last.is_some_and(|t| t.text == "include") {
                ctx.push_visible(&[DefKind::Calendar]);
                // Not the calendar being declared: it cannot include itself.
                let declared = before_tokens
                    .iter()
                    .rposition(|t| t.token == Token::Calendar)
                    .and_then(|i| before_tokens.get(i + 1))
                    .map(|t| t.text);
                ctx.items
                    .retain(|item| Some(item.label.as_str()) != declared);
            }
        }
        Block::Schedule => {
            if line_start {
                ctx.keywords(SCHEDULE_CLAUSES);
            } else {
                ctx.push_visible(&[DefKind::Process, DefKind::Calendar]);
            }
        }
        Block::Kpi => match last.filter(|_| !line_start).map(|t| t.text) {
            None => ctx.keywords(&["measure", "target"]),
            Some("measure") => ctx.keywords(&["time", "count", "value"]),
            Some("time") => ctx.keywords(&["from"]),
            Some("count") => ctx.keywords(&["breaches", "escalations"]),
            Some("from" | "to") => {
                ctx.keywords(&["start", "end", "first"]);
                if let Some(process) = ctx.kpi_process(before_tokens) {
                    ctx.steps_of_process(process);
                }
            }
            Some("first") => ctx.keywords(&["completion"]),
            Some("by") => ctx.push_visible(&[DefKind::Role]),
            Some("value") => ctx.push_visible(&[DefKind::Signal]),
            _ => {}
        },
        Block::Fields | Block::Enum => {}
        Block::Match => {
            if line_start || last.is_some_and(|t| t.token == Token::Pipe) {
                ctx.match_variants(&toks, before);
            } else {
                value_completions(&mut ctx);
            }
        }
        Block::Test => {
            if line_start {
                ctx.keywords(TEST_STATEMENTS);
            } else if last.is_some_and(|t| t.text == "start") {
                ctx.push_visible(&[DefKind::Process]);
            } else if last
                .is_some_and(|t| matches!(t.text, "complete" | "task" | "escalated" | "breached"))
            {
                ctx.steps_of_tested_process(before_tokens);
            } else if last.is_some_and(|t| t.text == "no") {
                ctx.keywords(&["task", "escalated", "notified", "breached", "flagged"]);
            } else if last.is_some_and(|t| t.text == "rejected") {
                ctx.keywords(&["complete", "signal"]);
            } else if last.is_some_and(|t| t.text == "notified") {
                ctx.push_visible(&[DefKind::Role]);
            } else if last.is_some_and(|t| t.text == "kpi") {
                ctx.push_visible(&[DefKind::Kpi]);
            } else if last.is_some_and(|t| t.text == "signal") {
                ctx.push_visible(&[DefKind::Signal]);
            } else if last.is_some_and(|t| t.text == "expect") {
                ctx.keywords(&[
                    "task",
                    "no",
                    "escalated",
                    "notified",
                    "breached",
                    "flagged",
                    "kpi",
                    "completed",
                    "failed",
                    "rejected",
                ]);
            } else {
                value_completions(&mut ctx);
            }
        }
        Block::Flow | Block::Braces => {
            if line_start && block == Block::Flow {
                ctx.keywords(STATEMENT_KEYWORDS);
                flow_snippets(&mut ctx);
            }
            value_completions(&mut ctx);
        }
    }
    ctx.items
}

/// Completion in an interpolation of the text around `offset`: after `{`, the values in scope; after `{name.`,
/// its fields, outputs or facts.
fn interpolation(ctx: &mut Ctx<'_, '_>, source: &SourceFile, toks: &[Tok<'_>], offset: u32) {
    let Some(text) = toks.iter().find(|t| {
        matches!(t.token, Token::Text(_) | Token::UnterminatedText(_))
            && t.start < offset
            && offset <= t.end
    }) else {
        return;
    };
    let Some(inside) = source.text.get(text.start as usize..offset as usize) else {
        return;
    };
    // The last `{` that opens an interpolation (not `{{`) and is not closed before the cursor.
    let Some(open) = inside.rfind('{') else {
        return;
    };
    let after = inside.get(open + 1..).unwrap_or_default();
    if inside
        .get(..open)
        .is_some_and(|before| before.ends_with('{'))
        || after.contains('}')
    {
        return;
    }
    let path = after;
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return;
    }
    match path.split_once('.') {
        None => ctx.push_scope(),
        Some((name, rest)) if !name.is_empty() && !rest.contains('.') => {
            let start = text.start + u32::try_from(open + 1).unwrap_or(u32::MAX);
            let tok = Tok {
                token: Token::Ident(name),
                text: name,
                start,
                end: start + u32::try_from(name.len()).unwrap_or(u32::MAX),
            };
            ctx.members_of_name(&tok);
        }
        Some(_) => {}
    }
}

/// In a test, at the start of a field of `complete STEP … with { …`: the step's name.
/// Whether the cursor is in the clauses of a `step` (its braces are the innermost open ones).
fn in_step(before: &[Tok<'_>]) -> bool {
    let mut depth = 0i32;
    for (index, tok) in before.iter().enumerate().rev() {
        match tok.token {
            Token::RBrace => depth += 1,
            Token::LBrace if depth == 0 => {
                // `step name "…" -> (…) {`: a `step` keyword on the way back before another brace.
                return before
                    .get(..index)
                    .unwrap_or(&[])
                    .iter()
                    .rev()
                    .take_while(|t| !matches!(t.token, Token::LBrace | Token::RBrace))
                    .any(|t| t.token == Token::Step);
            }
            Token::LBrace => depth -= 1,
            _ => {}
        }
    }
    false
}

/// Where a field name is expected (right after `{` or `,`): the index of the `{` still open before the cursor.
fn field_position(before: &[Tok<'_>]) -> Option<usize> {
    if !before
        .last()
        .is_some_and(|t| matches!(t.token, Token::LBrace | Token::Comma))
    {
        return None;
    }
    let mut depth = 0i32;
    (0..before.len()).rev().find(|&i| {
        match before.get(i).map(|t| t.token) {
            Some(Token::RBrace | Token::RParen | Token::RBracket) => depth += 1,
            Some(Token::LBrace) if depth == 0 => return true,
            Some(Token::LBrace | Token::LParen | Token::LBracket) => depth -= 1,
            _ => {}
        }
        false
    })
}

/// The name before the `{` of a record or signal literal the cursor is in, where a field name is expected.
fn literal_owner<'a>(before: &[Tok<'a>]) -> Option<Tok<'a>> {
    let open = field_position(before)?;
    before
        .get(open.checked_sub(1)?)
        .copied()
        .filter(|t| matches!(t.token, Token::Ident(_)) && t.text.starts_with(char::is_uppercase))
}

/// Leaves out the fields a literal already gives (`name:` at the top level of its braces).
fn drop_named(items: &mut Vec<CompletionItem>, before: &[Tok<'_>]) {
    let Some(open) = field_position(before) else {
        return;
    };
    let inside = before.get(open + 1..).unwrap_or(&[]);
    let mut depth = 0i32;
    let mut named = Vec::new();
    for (index, tok) in inside.iter().enumerate() {
        match tok.token {
            Token::LBrace | Token::LParen | Token::LBracket => depth += 1,
            Token::RBrace | Token::RParen | Token::RBracket => depth -= 1,
            Token::Colon if depth == 0 => {
                if let Some(name) = index.checked_sub(1).and_then(|i| inside.get(i)) {
                    named.push(name.text);
                }
            }
            _ => {}
        }
    }
    items.retain(|item| !named.contains(&item.label.as_str()));
}

fn completed_with<'a>(before: &[Tok<'a>]) -> Option<Tok<'a>> {
    let open = field_position(before)?;
    if before.get(open.checked_sub(1)?)?.text != "with" {
        return None;
    }
    let complete = (0..open)
        .rev()
        .find(|&i| before.get(i).is_some_and(|t| t.text == "complete"))?;
    before.get(complete + 1).copied().filter(is_word)
}

fn is_word(tok: &Tok<'_>) -> bool {
    tok.text
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The module path typed so far if the cursor is in a `use` declaration: `use std.` gives `std`.
fn use_path(before: &[Tok<'_>]) -> Option<String> {
    let start = before.iter().rposition(|t| {
        !(matches!(t.token, Token::Dot | Token::LBrace | Token::Comma)
            || (is_word(t) && t.token != Token::Use))
    })?;
    if before.get(start)?.token != Token::Use {
        return None;
    }
    let rest = before.get(start + 1..)?;
    // A path is being typed only right after `use`, a `.`, a `{` or a `,`.
    if rest
        .last()
        .is_some_and(|t| !matches!(t.token, Token::Dot | Token::LBrace | Token::Comma))
    {
        return None;
    }
    // Two words in a row mean the `use` ended and a new declaration began (`use a.b` then `role X`).
    if rest.windows(2).any(|pair| pair.iter().all(|t| is_word(t))) {
        return None;
    }
    let path: Vec<&str> = rest
        .iter()
        .take_while(|t| t.token != Token::LBrace)
        .filter(|t| is_word(t))
        .map(|t| t.text)
        .collect();
    Some(path.join("."))
}

fn value_completions(ctx: &mut Ctx<'_, '_>) {
    ctx.push_scope();
    ctx.push_visible(&[
        DefKind::Procedure,
        DefKind::Action,
        DefKind::Enum,
        DefKind::Record,
        DefKind::Signal,
        DefKind::Calendar,
        DefKind::Role,
    ]);
    ctx.keywords(EXPRESSION_KEYWORDS);
}

fn item_snippets(ctx: &mut Ctx<'_, '_>) {
    ctx.snippet(
        "process",
        "a process with one step",
        "/// ${1:What the process is for.}\nprocess ${2:name}(${3:input}: ${4:Input}) within ${5:5d} {\n  step ${6:first_step} \"${7:What to do}\" {\n    by ${8:Agent}\n    within ${9:4h}\n  }\n}",
    );
    ctx.snippet(
        "procedure",
        "a procedure with one step",
        "procedure ${1:name}(${2:input}: ${3:Input}) {\n  step ${4:first_step} \"${5:What to do}\" {\n    by ${6:Agent}\n    within ${7:4h}\n  }\n}",
    );
    ctx.snippet("role", "a role", "/// ${1:Who they are.}\nrole ${2:Name}");
    ctx.snippet(
        "record",
        "a record type",
        "record ${1:Name} {\n  ${2:field}: ${3:Text}\n}",
    );
    ctx.snippet(
        "enum",
        "an enum type",
        "enum ${1:Name} {\n  ${2:first}\n  ${3:second}\n}",
    );
    ctx.snippet(
        "calendar",
        "business hours",
        "calendar ${1:Support} {\n  zone \"${2:Europe/Berlin}\"\n  hours ${3:mon-fri} ${4:09:00-17:00}\n}",
    );
    ctx.snippet(
        "test",
        "a test of a process",
        "test \"${1:what it shows}\" {\n  start ${2:process}(${3}) at ${4:2026-03-02T09:00Z}\n  $0\n}",
    );
}

fn flow_snippets(ctx: &mut Ctx<'_, '_>) {
    ctx.snippet(
        "step",
        "a step with a deadline and an escalation",
        "step ${1:name} \"${2:What to do}\" {\n  by ${3:Agent}\n  within ${4:4h}\n  on breach {\n    notify ${5:Supervisor} \"${6:The step is late}\"\n  }\n}",
    );
    ctx.snippet(
        "match",
        "choose by an enum's variant",
        "match ${1:value} {\n  ${2:variant} => {\n    $0\n  }\n}",
    );
    ctx.snippet(
        "parallel",
        "two branches at once, joined",
        "parallel {\n  branch {\n    $1\n  }\n  branch {\n    $2\n  }\n}",
    );
    ctx.snippet(
        "first",
        "whichever branch finishes first",
        "first {\n  branch {\n    $1\n  }\n  branch {\n    wait ${2:24h}\n  }\n}",
    );
    ctx.snippet("if", "a decision", "if ${1:condition} {\n  $0\n}");
}

/// Signature help inside the parentheses of a call.
pub fn signature_help(view: &View<'_>, file: FileId, offset: u32) -> Option<SignatureHelp> {
    let source = view.source(file)?;
    let toks = tokens(source);
    let before = toks.partition_point(|t| t.end <= offset);
    let mut depth = 0i32;
    let mut commas = 0u32;
    let mut open = None;
    for index in (0..before).rev() {
        let tok = toks.get(index)?;
        match tok.token {
            Token::RParen | Token::RBrace | Token::RBracket => depth += 1,
            Token::LParen if depth == 0 => {
                open = Some(index);
                break;
            }
            Token::LParen | Token::LBrace | Token::LBracket => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            Token::Comma if depth == 0 => commas += 1,
            _ => {}
        }
    }
    let name = toks.get(open?.checked_sub(1)?)?;
    if !matches!(name.token, Token::Ident(_)) {
        return None;
    }
    let (_, id) = view.analysis.name_at(file, name.start)?;
    let def: &Definition = view.analysis.def(id)?;
    if !matches!(
        def.kind,
        DefKind::Procedure | DefKind::Action | DefKind::Process
    ) {
        return None;
    }
    let params: Vec<&Definition> = {
        let mut params: Vec<&Definition> = view
            .analysis
            .members
            .get(&id)
            .map(|members| {
                members
                    .iter()
                    .filter_map(|member| view.analysis.def(*member))
                    .filter(|member| member.kind == DefKind::Param)
                    .collect()
            })
            .unwrap_or_default();
        params.sort_by_key(|param| param.name_span.start);
        params
    };
    let label = def.signature.clone();
    let parameters: Vec<ParameterInformation> = params
        .iter()
        .filter_map(|param| {
            let open = label.find('(')?;
            let at = open + label.get(open..)?.find(&format!("{}:", param.name))?;
            let rest = label.get(at..)?;
            let mut depth = 0i32;
            let mut end = rest.len();
            for (index, ch) in rest.char_indices() {
                match ch {
                    '(' | '[' => depth += 1,
                    ')' | ']' if depth == 0 => {
                        end = index;
                        break;
                    }
                    ')' | ']' => depth -= 1,
                    ',' if depth == 0 => {
                        end = index;
                        break;
                    }
                    _ => {}
                }
            }
            let start = u32::try_from(label.get(..at)?.encode_utf16().count()).ok()?;
            let length = u32::try_from(rest.get(..end)?.encode_utf16().count()).ok()?;
            Some(ParameterInformation {
                label: ParameterLabel::LabelOffsets([start, start + length]),
                documentation: param.docs.clone().map(Documentation::String),
            })
        })
        .collect();
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: def.docs.clone().map(|docs| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: docs,
                })
            }),
            parameters: Some(parameters),
            active_parameter: Some(commas),
        }],
        active_signature: Some(0),
        active_parameter: Some(commas),
    })
}
