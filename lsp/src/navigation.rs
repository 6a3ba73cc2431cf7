//! Features that read the resolved names of the analysis: hover, go to definition, references, highlights,
//! rename, outline, workspace symbols and semantic tokens; plus folding ranges and formatting, which read the
//! tokens and the syntax tree.

use crate::convert;
use crate::view::View;
use proc_compiler::ParsedFile;
use proc_compiler::ast::ItemKind;
use proc_compiler::lexer::{self, Token};
use proc_compiler::model::{DefId, DefKind, Definition};
use proc_compiler::{FileId, FileSpan, SourceFile, Span};
use std::collections::HashMap;
use tower_lsp::lsp_types::{
    DocumentHighlight, DocumentHighlightKind, DocumentSymbol, FoldingRange, FoldingRangeKind,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, Position, Range, SemanticToken,
    SemanticTokenModifier, SemanticTokenType, SymbolInformation, SymbolKind, TextEdit, Url,
    WorkspaceEdit,
};

/// Hover: the signature of the thing under the cursor, what it means in words, and its documentation.
pub fn hover(view: &View<'_>, file: FileId, offset: u32) -> Option<Hover> {
    let source = view.source(file)?;
    let Some(info) = view.analysis.hover(file, offset) else {
        return module_hover(view, file, source, offset)
            .or_else(|| fact_hover(view, file, source, offset))
            .or_else(|| builtin_hover(source, offset))
            .or_else(|| deadline_hover(view, file, source, offset));
    };
    let mut text = format!("```proc\n{}\n```", info.signature);
    if let Some(meaning) = &info.meaning {
        text.push_str("\n\n");
        text.push_str(&capitalise(meaning));
        text.push('.');
    }
    if let Some(docs) = &info.docs {
        text.push_str("\n\n---\n\n");
        text.push_str(docs);
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(convert::range(source, info.span.span)),
    })
}

/// The built-in types, as hover shows them.
const BUILTIN_TYPES: &[(&str, &str)] = &[
    (
        "Text",
        "A piece of text, such as a name or a message (`\"Ada\"`, `\"Hello {c.customer}\"`).",
    ),
    ("Int", "A whole number (`3`, `-7`)."),
    ("Bool", "`true` or `false`."),
    ("Duration", "A length of time (`15m`, `4h`, `2d`, `1w`)."),
    (
        "Time",
        "An instant, e.g. `2026-03-02T09:00Z`; `now` is the host's current time.",
    ),
    (
        "Date",
        "A calendar day, e.g. `2026-12-24`; as a deadline, the end of that day (UTC).",
    ),
    ("Role", "A role as a value (`by role r.team`)."),
];

/// Hover over a built-in type name (`Text`, `Duration`, …): what its values are.
fn builtin_hover(source: &SourceFile, offset: u32) -> Option<Hover> {
    let lexed = lexer::lex(FileId(0), &source.text);
    let (token, span) = lexed
        .tokens
        .iter()
        .find(|(_, span)| span.start as u32 <= offset && offset < span.end as u32)?;
    let Token::Ident(name) = token else {
        return None;
    };
    let (name, meaning) = BUILTIN_TYPES.iter().find(|(builtin, _)| builtin == name)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!("```proc\n{name}\n```\n\n{meaning}"),
        }),
        range: Some(convert::range(source, Span::new(span.start, span.end))),
    })
}

/// Hover over a fact of a step or calendar (`acknowledge.breached`, `Support.is_open`): its type and meaning.
fn fact_hover(view: &View<'_>, file: FileId, source: &SourceFile, offset: u32) -> Option<Hover> {
    let lexed = lexer::lex(FileId(0), &source.text);
    let index = lexed
        .tokens
        .iter()
        .position(|(_, span)| span.start as u32 <= offset && offset < span.end as u32)?;
    let (Token::Ident(fact), span) = lexed.tokens.get(index)? else {
        return None;
    };
    let (Token::Dot, _) = lexed.tokens.get(index.checked_sub(1)?)? else {
        return None;
    };
    let (Token::Ident(owner), owner_span) = lexed.tokens.get(index.checked_sub(2)?)? else {
        return None;
    };
    let (_, id) = view.analysis.name_at(file, owner_span.start as u32)?;
    let facts = match view.analysis.def(id)?.kind {
        DefKind::Step => crate::completion::STEP_FACTS,
        DefKind::Calendar => crate::completion::CALENDAR_FACTS,
        _ => return None,
    };
    let (_, ty, meaning) = facts.iter().find(|(name, _, _)| name == fact)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!(
                "```proc\n{owner}.{fact}: {ty}\n```\n\n{}.",
                capitalise(meaning)
            ),
        }),
        range: Some(convert::range(source, Span::new(span.start, span.end))),
    })
}

/// Hover over a deadline or escalation clause (`within 4h on Support`, `after 1h`, `on breach`): what the
/// step's timing means, in words.
fn deadline_hover(
    view: &View<'_>,
    file: FileId,
    source: &SourceFile,
    offset: u32,
) -> Option<Hover> {
    let lexed = lexer::lex(FileId(0), &source.text);
    let (token, span) = lexed
        .tokens
        .iter()
        .find(|(_, span)| span.start as u32 <= offset && offset < span.end as u32)?;
    let timing = matches!(
        token,
        Token::Within
            | Token::After
            | Token::Due
            | Token::Duration(_)
            | Token::Ident("breach" | "on")
    );
    if !timing {
        return None;
    }
    let step = view
        .analysis
        .defs
        .iter()
        .filter(|def| {
            def.file == file
                && def.kind == DefKind::Step
                && def.span.contains(offset)
                && def.meaning.is_some()
        })
        .min_by_key(|def| def.span.len())?;
    let meaning = step.meaning.as_deref()?;
    let span = Span::new(span.start, span.end);
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!(
                "```proc\n{}\n```\n\n{}.",
                step.signature,
                capitalise(meaning)
            ),
        }),
        range: Some(convert::range(source, span)),
    })
}

/// Hover over a module path in a `use` (`use std.calendar.*`): the module and what it declares.
fn module_hover(view: &View<'_>, file: FileId, source: &SourceFile, offset: u32) -> Option<Hover> {
    let (site, path, target) = view.analysis.module_at(file, offset)?;
    let mut text = format!("```proc\nmodule {path}\n```");
    let declared = module_contents(view, target);
    if !declared.is_empty() {
        text.push_str("\n\nDeclares ");
        text.push_str(&declared.join("; "));
        text.push('.');
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(convert::range(source, site.span)),
    })
}

/// What a module declares at its top level, kind by kind: "roles `Agent`, `Supervisor`".
fn module_contents(view: &View<'_>, target: FileId) -> Vec<String> {
    const KINDS: &[(DefKind, &str)] = &[
        (DefKind::Process, "processes"),
        (DefKind::Procedure, "procedures"),
        (DefKind::Role, "roles"),
        (DefKind::Calendar, "calendars"),
        (DefKind::Schedule, "schedules"),
        (DefKind::Record, "records"),
        (DefKind::Enum, "enums"),
        (DefKind::Signal, "signals"),
        (DefKind::Action, "actions"),
        (DefKind::Kpi, "KPIs"),
    ];
    KINDS
        .iter()
        .filter_map(|(kind, plural)| {
            let names: Vec<String> = view
                .analysis
                .defs
                .iter()
                .filter(|def| def.file == target && def.kind == *kind)
                .map(|def| format!("`{}`", def.name))
                .collect();
            (!names.is_empty()).then(|| format!("{plural} {}", names.join(", ")))
        })
        .collect()
}

/// Go to definition: of a name, or of a module named in a `use` (its file).
pub fn definition(view: &View<'_>, file: FileId, offset: u32) -> Option<Location> {
    match view.analysis.definition_at(file, offset) {
        Some(at) => view.location(at),
        None => {
            let (_, _, target) = view.analysis.module_at(file, offset)?;
            view.location(FileSpan {
                file: target,
                span: Span::new(0, 0),
            })
        }
    }
}

/// Every place the thing under the cursor is named.
pub fn references(
    view: &View<'_>,
    file: FileId,
    offset: u32,
    include_declaration: bool,
) -> Vec<Location> {
    let Some((_, id)) = view.analysis.name_at(file, offset) else {
        return Vec::new();
    };
    let declaration = view.analysis.def(id).map(|def| FileSpan {
        file: def.file,
        span: def.name_span,
    });
    view.analysis
        .references_to(id)
        .into_iter()
        .filter(|site| include_declaration || Some(*site) != declaration)
        .filter_map(|site| view.location(site))
        .collect()
}

/// The uses of the thing under the cursor in this file, its declaration marked as written.
pub fn highlights(view: &View<'_>, file: FileId, offset: u32) -> Vec<DocumentHighlight> {
    let Some((_, id)) = view.analysis.name_at(file, offset) else {
        return Vec::new();
    };
    let Some(source) = view.source(file) else {
        return Vec::new();
    };
    let declaration = view.analysis.def(id).map(|def| FileSpan {
        file: def.file,
        span: def.name_span,
    });
    view.analysis
        .references_to(id)
        .into_iter()
        .filter(|site| site.file == file)
        .map(|site| DocumentHighlight {
            range: convert::range(source, site.span),
            kind: Some(if Some(site) == declaration {
                DocumentHighlightKind::WRITE
            } else {
                DocumentHighlightKind::READ
            }),
        })
        .collect()
}

/// Why a name cannot be renamed, or the name and where it is written.
pub fn prepare_rename(
    view: &View<'_>,
    file: FileId,
    offset: u32,
) -> Result<(Range, String), String> {
    let Some((site, id)) = view.analysis.name_at(file, offset) else {
        return Err("there is no name to rename here".to_string());
    };
    let def = view
        .analysis
        .def(id)
        .ok_or_else(|| "there is no name to rename here".to_string())?;
    if view.is_std(def.file) {
        return Err(format!(
            "`{}` is defined in the standard library and cannot be renamed",
            def.name
        ));
    }
    if def.kind == DefKind::Test {
        return Err("a test's name is text: edit it directly".to_string());
    }
    let source = view
        .source(file)
        .ok_or_else(|| "the file is not analysed".to_string())?;
    Ok((convert::range(source, site.span), def.name.clone()))
}

/// Checks a new name: one identifier, not a keyword.
pub fn check_new_name(name: &str) -> Result<(), String> {
    let lexed = lexer::lex(FileId(0), name);
    match lexed.tokens.as_slice() {
        [(Token::Ident(text), span)] if *text == name && span.start == 0 => Ok(()),
        [(_, span)]
            if span.start == 0
                && span.end == name.len()
                && name.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            Err(format!(
                "`{name}` is a keyword of the language and cannot be used as a name"
            ))
        }
        _ => Err(format!(
            "`{name}` is not a valid name: use letters, digits and `_`, starting with a letter or `_`"
        )),
    }
}

/// The edits that rename the definition under the cursor everywhere it is named, grouped by file.
pub fn rename_edits(
    view: &View<'_>,
    file: FileId,
    offset: u32,
    new_name: &str,
) -> Result<HashMap<Url, Vec<TextEdit>>, String> {
    prepare_rename(view, file, offset)?;
    check_new_name(new_name)?;
    let Some((_, id)) = view.analysis.name_at(file, offset) else {
        return Err("there is no name to rename here".to_string());
    };
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for site in view.analysis.references_to(id) {
        let (Some(uri), Some(source)) = (view.uri(site.file), view.source(site.file)) else {
            continue;
        };
        changes.entry(uri).or_default().push(TextEdit::new(
            convert::range(source, site.span),
            new_name.to_string(),
        ));
    }
    Ok(changes)
}

/// A workspace edit from per-file edits.
pub fn workspace_edit(changes: HashMap<Url, Vec<TextEdit>>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }
}

/// Applies non-overlapping edits to a text (used to check a rename before offering it).
pub fn apply_edits(source: &SourceFile, edits: &[TextEdit]) -> String {
    let mut spans: Vec<(Span, &str)> = edits
        .iter()
        .map(|edit| (convert::span(source, edit.range), edit.new_text.as_str()))
        .collect();
    spans.sort_by_key(|(span, _)| span.start);
    // One pass from the start (replacing in place, edit by edit, moved the rest of the text each time: a rename
    // of thousands of uses in a large file took seconds).
    let mut text = String::with_capacity(source.text.len());
    let mut copied = 0usize;
    for (span, new_text) in spans {
        let range = span.range();
        if range.start < copied || source.text.get(range.clone()).is_none() {
            continue;
        }
        text.push_str(source.text.get(copied..range.start).unwrap_or(""));
        text.push_str(new_text);
        copied = range.end;
    }
    text.push_str(source.text.get(copied..).unwrap_or(""));
    text
}

fn symbol_kind(kind: DefKind) -> SymbolKind {
    match kind {
        DefKind::Role => SymbolKind::CLASS,
        DefKind::Record => SymbolKind::STRUCT,
        DefKind::Field => SymbolKind::FIELD,
        DefKind::Enum => SymbolKind::ENUM,
        DefKind::Variant => SymbolKind::ENUM_MEMBER,
        DefKind::Signal => SymbolKind::EVENT,
        DefKind::Action | DefKind::Procedure => SymbolKind::FUNCTION,
        DefKind::Calendar | DefKind::Schedule => SymbolKind::OBJECT,
        DefKind::Kpi => SymbolKind::NUMBER,
        DefKind::Process => SymbolKind::MODULE,
        DefKind::Test => SymbolKind::METHOD,
        DefKind::Step => SymbolKind::METHOD,
        DefKind::Output => SymbolKind::PROPERTY,
        DefKind::Param | DefKind::Local => SymbolKind::VARIABLE,
        DefKind::Branch => SymbolKind::NAMESPACE,
    }
}

/// Kinds shown in outlines and symbol searches (parameters and local variables are left out).
fn is_outline_kind(kind: DefKind) -> bool {
    !matches!(kind, DefKind::Param | DefKind::Local)
}

/// The outline of a file: declarations with their steps, fields, variants and outputs nested inside.
pub fn document_symbols(view: &View<'_>, file: FileId) -> Vec<DocumentSymbol> {
    let Some(source) = view.source(file) else {
        return Vec::new();
    };
    let defs = &view.analysis.defs;
    let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (index, def) in defs.iter().enumerate() {
        if def.file != file || !is_outline_kind(def.kind) {
            continue;
        }
        match def.parent {
            Some(parent) if defs.get(parent.0 as usize).is_some_and(|p| p.file == file) => {
                children.entry(parent.0).or_default().push(index);
            }
            _ => roots.push(index),
        }
    }
    roots
        .into_iter()
        .filter_map(|index| symbol(source, defs, &children, index, 0))
        .collect()
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written out; `tags` replaces it.
fn symbol(
    source: &SourceFile,
    defs: &[Definition],
    children: &HashMap<u32, Vec<usize>>,
    index: usize,
    depth: usize,
) -> Option<DocumentSymbol> {
    let def = defs.get(index)?;
    let whole = if def.span.start <= def.name_span.start && def.name_span.end <= def.span.end {
        def.span
    } else {
        def.name_span.to(def.span)
    };
    let nested: Vec<DocumentSymbol> = if depth < 8 {
        children
            .get(&u32::try_from(index).unwrap_or(u32::MAX))
            .map(|list| {
                list.iter()
                    .filter_map(|&child| symbol(source, defs, children, child, depth + 1))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Some(DocumentSymbol {
        name: if def.name.is_empty() {
            def.kind.word().to_string()
        } else {
            def.name.clone()
        },
        detail: Some(def.signature.clone()),
        kind: symbol_kind(def.kind),
        tags: None,
        deprecated: None,
        range: convert::range(source, whole),
        selection_range: convert::range(source, def.name_span),
        children: (!nested.is_empty()).then_some(nested),
    })
}

/// True if every character of `query` appears in `name` in order (ignoring case): `cmpl` finds `complaint`.
pub fn fuzzy_match(query: &str, name: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    query
        .chars()
        .flat_map(char::to_lowercase)
        .all(|wanted| name.any(|ch| ch == wanted))
}

/// Declarations of the package matching a query, for `workspace/symbol`.
#[allow(deprecated)] // `SymbolInformation::deprecated` must be written out.
pub fn workspace_symbols(view: &View<'_>, query: &str, limit: usize) -> Vec<SymbolInformation> {
    let mut found = Vec::new();
    for def in &view.analysis.defs {
        if found.len() >= limit {
            break;
        }
        if view.is_std(def.file) || !is_outline_kind(def.kind) || !fuzzy_match(query, &def.name) {
            continue;
        }
        let Some(location) = view.location(FileSpan {
            file: def.file,
            span: def.name_span,
        }) else {
            continue;
        };
        let container = def
            .parent
            .and_then(|parent| view.analysis.def(parent))
            .map(|parent| parent.name.clone())
            .or_else(|| view.source(def.file).map(|source| source.module.clone()));
        found.push(SymbolInformation {
            name: def.name.clone(),
            kind: symbol_kind(def.kind),
            tags: None,
            deprecated: None,
            location,
            container_name: container,
        });
    }
    found
}

/// The semantic token types, in legend order.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::CLASS,       // role
    SemanticTokenType::STRUCT,      // record
    SemanticTokenType::PROPERTY,    // field, output
    SemanticTokenType::ENUM,        // enum
    SemanticTokenType::ENUM_MEMBER, // variant
    SemanticTokenType::EVENT,       // signal
    SemanticTokenType::FUNCTION,    // action, procedure, process, test
    SemanticTokenType::NAMESPACE,   // calendar, schedule, branch
    SemanticTokenType::METHOD,      // step
    SemanticTokenType::PARAMETER,   // parameter
    SemanticTokenType::VARIABLE,    // local
];

/// The semantic token modifiers, in legend order.
pub const TOKEN_MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::DEFAULT_LIBRARY,
    SemanticTokenModifier::DOCUMENTATION,
];

fn token_type(kind: DefKind) -> u32 {
    match kind {
        DefKind::Role => 0,
        DefKind::Record => 1,
        DefKind::Field | DefKind::Output => 2,
        DefKind::Enum => 3,
        DefKind::Variant => 4,
        DefKind::Signal => 5,
        DefKind::Action | DefKind::Procedure | DefKind::Process | DefKind::Test => 6,
        DefKind::Calendar | DefKind::Schedule | DefKind::Branch | DefKind::Kpi => 7,
        DefKind::Step => 8,
        DefKind::Param => 9,
        DefKind::Local => 10,
    }
}

/// Semantic tokens for every resolved name in a file: declarations and uses, coloured by what they name.
pub fn semantic_tokens(view: &View<'_>, file: FileId) -> Vec<SemanticToken> {
    let Some(source) = view.source(file) else {
        return Vec::new();
    };
    let mut names: Vec<(Span, DefId, bool)> = Vec::new();
    for (index, def) in view.analysis.defs.iter().enumerate() {
        if def.file == file && !def.name_span.is_empty() {
            names.push((
                def.name_span,
                DefId(u32::try_from(index).unwrap_or(u32::MAX)),
                true,
            ));
        }
    }
    for (site, id) in &view.analysis.references {
        if site.file == file {
            names.push((site.span, *id, false));
        }
    }
    names.sort_by_key(|(span, _, declaration)| (span.start, !*declaration));
    let mut tokens = Vec::with_capacity(names.len());
    let mut previous = Position::new(0, 0);
    let mut last_end = 0u32;
    for (span, id, declaration) in names {
        if span.start < last_end {
            continue;
        }
        let Some(def) = view.analysis.def(id) else {
            continue;
        };
        let text = source.slice(span);
        // Only plain names on one line (a test's name is text, not a name to colour).
        if text.is_empty() || text.contains('\n') || text.starts_with('"') {
            continue;
        }
        let start = convert::position(source, span.start);
        let length = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
        let mut modifiers = 0;
        if declaration {
            modifiers |= 1;
        }
        if view.is_std(def.file) {
            modifiers |= 2;
        }
        let delta_line = start.line - previous.line;
        let delta_start = if delta_line == 0 {
            start.character - previous.character
        } else {
            start.character
        };
        tokens.push(SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: token_type(def.kind),
            token_modifiers_bitset: modifiers,
        });
        previous = start;
        last_end = span.end;
    }
    tokens
}

/// Folding ranges: every `{ ... }` over several lines (its closing line stays visible), runs of comment lines,
/// and runs of `use` declarations.
pub fn folding_ranges(source: &SourceFile, parsed: &ParsedFile) -> Vec<FoldingRange> {
    let line = |offset: u32| u32::try_from(source.line_index(offset)).unwrap_or(u32::MAX);
    let mut ranges = Vec::new();
    let lexed = lexer::lex(FileId(0), &source.text);
    let mut open: Vec<u32> = Vec::new();
    for (token, span) in &lexed.tokens {
        let start = u32::try_from(span.start).unwrap_or(u32::MAX);
        match token {
            Token::LBrace => open.push(start),
            Token::RBrace => {
                if let Some(opened) = open.pop() {
                    let (first, last) = (line(opened), line(start));
                    if last > first + 1 {
                        ranges.push(fold(first, last - 1, None));
                    }
                }
            }
            _ => {}
        }
    }
    let mut runs = |lines: &mut dyn Iterator<Item = (u32, u32)>, kind: FoldingRangeKind| {
        let mut run: Option<(u32, u32)> = None;
        for (first, last) in lines {
            run = match run {
                Some((start, end)) if first <= end + 1 => Some((start, last.max(end))),
                other => {
                    if let Some((start, end)) = other.filter(|(start, end)| end > start) {
                        ranges.push(fold(start, end, Some(kind.clone())));
                    }
                    Some((first, last))
                }
            };
        }
        if let Some((start, end)) = run.filter(|(start, end)| end > start) {
            ranges.push(fold(start, end, Some(kind)));
        }
    };
    runs(
        &mut parsed
            .trivia
            .iter()
            .filter(|trivia| {
                let start = source.line_start(source.line_index(trivia.span.start));
                source
                    .text
                    .get(start as usize..trivia.span.start as usize)
                    .is_some_and(|before| before.trim().is_empty())
            })
            .map(|trivia| (line(trivia.span.start), line(trivia.span.end))),
        FoldingRangeKind::Comment,
    );
    runs(
        &mut parsed
            .ast
            .items
            .iter()
            .filter(|item| matches!(item.kind, ItemKind::Use(_)))
            .map(|item| (line(item.span.start), line(item.span.end))),
        FoldingRangeKind::Imports,
    );
    ranges.sort_by_key(|range| (range.start_line, range.end_line));
    ranges
}

fn fold(start_line: u32, end_line: u32, kind: Option<FoldingRangeKind>) -> FoldingRange {
    FoldingRange {
        start_line,
        start_character: None,
        end_line,
        end_character: None,
        kind,
        collapsed_text: None,
    }
}

/// Above this many changed runs of lines, formatting replaces the whole text in one edit.
const MAX_FORMAT_EDITS: usize = 200;

/// Formatting: the edits that turn the file into `procc fmt`'s layout, as few as the line diff allows; `None`
/// when the file has syntax errors (it is left alone, as `procc fmt` does).
pub fn formatting(source: &SourceFile) -> Option<Vec<TextEdit>> {
    let formatted = proc_compiler::format::format(source).ok()?;
    // A diff of a file far from the layout can take seconds; past the deadline `similar` gives a coarser diff.
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_millis(100))
        .diff_lines(source.text.as_str(), formatted.as_str());
    let ops = diff.ops();
    let changed = ops
        .iter()
        .filter(|op| !matches!(op, similar::DiffOp::Equal { .. }))
        .count();
    if changed > MAX_FORMAT_EDITS {
        // A file far from the layout: one edit of the whole text (each edit's position costs a walk of its line,
        // and an editor applies one big edit faster than thousands of small ones).
        let whole = Span {
            start: 0,
            end: u32::try_from(source.text.len()).unwrap_or(u32::MAX),
        };
        return Some(vec![TextEdit::new(
            convert::range(source, whole),
            formatted,
        )]);
    }
    let new_lines: Vec<&str> = diff.new_slices().to_vec();
    // Where each old line starts.
    let mut starts = Vec::with_capacity(diff.old_slices().len() + 1);
    let mut total = 0usize;
    starts.push(0);
    for line in diff.old_slices() {
        total += line.len();
        starts.push(total);
    }
    let line_offset = |line: usize| -> u32 {
        u32::try_from(starts.get(line).copied().unwrap_or(total)).unwrap_or(u32::MAX)
    };
    let mut edits = Vec::new();
    for op in ops {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        let old = op.old_range();
        let new = op.new_range();
        let text: String = new_lines
            .get(new.clone())
            .map(|lines| lines.concat())
            .unwrap_or_default();
        let span = Span {
            start: line_offset(old.start),
            end: line_offset(old.end),
        };
        edits.push(TextEdit::new(convert::range(source, span), text));
    }
    Some(edits)
}

/// The text with its first letter in upper case.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One edit of a rename: where it is in the file as it was, and how long its new text is.
#[derive(Clone, Copy, Debug)]
pub struct RenameEdit {
    /// The file.
    pub file: FileId,
    /// The name replaced.
    pub span: Span,
    /// The length of the new name, in bytes.
    pub new_len: usize,
}

/// Why the renamed program `after` would not mean what `before` meant, or `None` when it means the same: every
/// name must still refer to the same declaration (a rename can make a name resolve elsewhere, e.g. to an import
/// that the new name shadows, or make an unknown name resolve), and no new error may appear. Errors and warnings
/// that existed before (with the old name in their message) do not count.
pub fn rename_problem(
    before: &proc_compiler::Analysis,
    after: &proc_compiler::Analysis,
    edits: &[RenameEdit],
    old: &str,
    new: &str,
) -> Option<String> {
    let old_errors: Vec<String> = before
        .package_diagnostics()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    // Compared with the old name put back, so an error that was there before (and names it) does not count.
    let new_error = after.package_diagnostics().find(|d| {
        d.is_error()
            && !old_errors.contains(&d.message.replace(&format!("`{new}`"), &format!("`{old}`")))
    });
    if let Some(error) = new_error {
        return Some(error.message.clone());
    }
    // Where an offset of the old text is in the new one: per file, the edits by start with the shift of all of them
    // up to each (looked up by binary search: thousands of references and edits stay fast).
    let mut shifts: HashMap<FileId, Vec<(u32, i64)>> = HashMap::new();
    let mut sorted: Vec<&RenameEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.file, e.span.start));
    for edit in sorted {
        let list = shifts.entry(edit.file).or_default();
        let before = list.last().map_or(0, |&(_, shift)| shift);
        let change = edit.new_len as i64 - i64::from(edit.span.end - edit.span.start);
        list.push((edit.span.start, before + change));
    }
    let moved = |file: FileId, offset: u32| -> i64 {
        let shift = shifts.get(&file).map_or(0, |list| {
            let count = list.partition_point(|&(start, _)| start < offset);
            count
                .checked_sub(1)
                .and_then(|i| list.get(i))
                .map_or(0, |&(_, shift)| shift)
        });
        i64::from(offset) + shift
    };
    let place = |analysis: &proc_compiler::Analysis, file: FileId, offset: u32| {
        analysis.file(file).map_or_else(String::new, |f| {
            format!("line {} of module `{}`", f.line_col(offset).line, f.module)
        })
    };
    let after_sites: HashMap<(FileId, i64), DefId> = after
        .references
        .iter()
        .map(|(site, id)| ((site.file, i64::from(site.span.start)), *id))
        .collect();
    for (site, id) in &before.references {
        let (Some(was), Some(now)) = (
            before.def(*id),
            after_sites
                .get(&(site.file, moved(site.file, site.span.start)))
                .and_then(|&now| after.def(now)),
        ) else {
            continue;
        };
        let same = was.kind == now.kind
            && was.file == now.file
            && moved(was.file, was.name_span.start) == i64::from(now.name_span.start);
        if !same {
            return Some(format!(
                "the name on {} would refer to {} `{}` (declared on {}) instead",
                place(before, site.file, site.span.start),
                now.kind.word(),
                now.name,
                place(after, now.file, now.name_span.start),
            ));
        }
    }
    if after.references.len() > before.references.len() {
        return Some(format!(
            "a name `{new}` that refers to nothing now would then refer to the renamed {}",
            edits
                .first()
                .and_then(|e| before.name_at(e.file, e.span.start))
                .and_then(|(_, id)| before.def(id))
                .map_or("declaration", |d| d.kind.word())
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file far from the layout (hundreds of changed places) is replaced in one edit, which gives the formatted
    /// text; a file with a few changes gets edits of just those lines.
    #[test]
    fn formatting_a_messy_file_replaces_it_whole() {
        let mut messy = String::from("/// Agents.\nrole Agent\n");
        for k in 0..300 {
            messy.push_str(&format!(
                "/// P{k}.\nprocess p{k}() {{\nstep s \"Do it\" {{ by Agent }}\n}}\n"
            ));
        }
        let source = SourceFile::new("m.proc", "m", messy.as_str());
        let formatted = proc_compiler::format::format(&source).unwrap_or_default();
        let edits = formatting(&source).unwrap_or_default();
        assert_eq!(edits.len(), 1);
        assert_eq!(apply_edits(&source, &edits), formatted);
        let tidy = formatted.replacen("step s \"Do it\"", "step  s \"Do it\"", 1);
        let source = SourceFile::new("m.proc", "m", tidy.as_str());
        let edits = formatting(&source).unwrap_or_default();
        assert_eq!(edits.len(), 1);
        // Just the changed line.
        assert_eq!(
            edits.first().map(|e| e.range.end.line - e.range.start.line),
            Some(1)
        );
        assert_eq!(apply_edits(&source, &edits), formatted);
    }

    /// Edits in any order, of other lengths than what they replace, on ASCII and wider lines, applied in one pass.
    #[test]
    fn edits_apply_in_one_pass() {
        let source = SourceFile::new("m.proc", "m", "role Agent\n// é Agent\nby Agent Agent\n");
        let edit = |line, start, end| {
            TextEdit::new(
                Range::new(Position::new(line, start), Position::new(line, end)),
                "Clerk2".to_string(),
            )
        };
        let edits = [
            edit(2, 9, 14),
            edit(0, 5, 10),
            edit(2, 3, 8),
            edit(1, 5, 10),
        ];
        assert_eq!(
            apply_edits(&source, &edits),
            "role Clerk2\n// é Clerk2\nby Clerk2 Clerk2\n"
        );
    }
}
