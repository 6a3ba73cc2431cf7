//! One analysis of a package, shared by every front end: the CLI, the language server and the doc generator all
//! read the facts computed here instead of re-analysing.

use crate::ast;
use crate::check::{self, FileInput};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::lexer::{self, Trivia};
use crate::model::{DefId, DefKind, Definition};
use crate::parser;
use crate::source::{FileId, SourceFile, Span};
use crate::std_lib::STD_MODULES;
use rustc_hash::FxHashMap as HashMap;

/// A parsed file: its syntax tree and its comments.
#[derive(Clone, Debug, Default)]
pub struct ParsedFile {
    /// The syntax tree.
    pub ast: ast::File,
    /// Comments and doc comments, in order.
    pub trivia: Vec<Trivia>,
    /// Doc comments keyed by the start of the following token.
    pub docs: Vec<(u32, String)>,
}

/// Everything known about a package after checking it.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The files: the package's own first, then the standard library's.
    pub files: Vec<SourceFile>,
    /// How many of `files` belong to the package (the rest are `std`).
    pub package_files: usize,
    /// Parsed files, parallel to `files`.
    pub parsed: Vec<ParsedFile>,
    /// Every definition, indexed by [`DefId`].
    pub defs: Vec<Definition>,
    /// Every resolved use of a name.
    pub references: Vec<(FileSpan, DefId)>,
    /// Members of records, enums, signals, flows and steps.
    pub members: HashMap<DefId, Vec<DefId>>,
    /// Diagnostics, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The type of every expression, by where it is written (only with [`analyze_for_build`]).
    pub expr_types: HashMap<FileSpan, crate::model::Ty>,
    /// Result types of procedures, processes and actions.
    pub results: HashMap<DefId, crate::model::Ty>,
    /// The processes each KPI measures.
    pub kpi_processes: HashMap<DefId, Vec<DefId>>,
}

/// What a hover shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverInfo {
    /// The name under the cursor.
    pub span: FileSpan,
    /// The definition it refers to.
    pub def: DefId,
    /// E.g. `procedure triage(c: Complaint) -> Urgency`.
    pub signature: String,
    /// The `///` documentation.
    pub docs: Option<String>,
    /// What it means in words (deadlines and escalations of steps).
    pub meaning: Option<String>,
}

/// The module path of a file, from its path relative to the package root: `billing/refund.proc` → `billing.refund`.
pub fn module_path(relative_path: &str) -> String {
    let trimmed = relative_path.strip_suffix(".proc").unwrap_or(relative_path);
    trimmed
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join(".")
}

/// Analyses a package together with the standard library.
pub fn analyze(files: Vec<SourceFile>) -> Analysis {
    analyze_files(files, std_files(), false)
}

/// Analyses a package for the back end: like [`analyze`], and also records the type of every expression.
pub fn analyze_for_build(files: Vec<SourceFile>) -> Analysis {
    analyze_files(files, std_files(), true)
}

fn std_files() -> Vec<SourceFile> {
    STD_MODULES
        .iter()
        .map(|(module, name, text)| SourceFile::new(*name, *module, *text))
        .collect()
}

/// Analyses a package with the given standard-library files (used by std's own tests).
pub fn analyze_with_std(files: Vec<SourceFile>, std_files: Vec<SourceFile>) -> Analysis {
    analyze_files(files, std_files, false)
}

fn analyze_files(
    mut files: Vec<SourceFile>,
    std_files: Vec<SourceFile>,
    record_types: bool,
) -> Analysis {
    let package_files = files.len();
    files.extend(std_files);
    let (mut diagnostics, parsed) = parse_all(&files);
    let inputs: Vec<FileInput<'_>> = files
        .iter()
        .zip(&parsed)
        .enumerate()
        .map(|(index, (source, parsed))| FileInput {
            source,
            ast: &parsed.ast,
            docs: &parsed.docs,
            is_std: index >= package_files,
        })
        .collect();
    let checked = check::check_with(&inputs, record_types);
    // Where the parser had to skip text, what used a declaration may be what was skipped: "never used" would
    // be a false alarm on top of the real mistake.
    let skipped_text = diagnostics.iter().any(|d| {
        matches!(
            d.code,
            Code::Syntax | Code::UnterminatedText | Code::InvalidCharacter | Code::TooDeep
        ) && (d.at.file.0 as usize) < package_files
    });
    // A syntax error whose fix rewrites a value (`4 hours` → `4h`) already explains that value's type error.
    let rewritten: Vec<FileSpan> = diagnostics
        .iter()
        .filter(|d| d.code == Code::Syntax)
        .flat_map(|d| d.suggestions.iter().map(|s| s.at))
        .collect();
    // Where a syntax error starts, the checker sees only what the parser kept (`answer` of `answer = …`): "this
    // value is not used" there says the same thing less well.
    let syntax_starts: Vec<FileSpan> = diagnostics
        .iter()
        .filter(|d| d.code == Code::Syntax)
        .map(|d| d.at)
        .collect();
    diagnostics.extend(checked.diagnostics.into_iter().filter(|d| {
        let unused = matches!(
            d.code,
            Code::UnusedRole | Code::UnusedProcedure | Code::UnusedType | Code::UnusedVariable
        );
        let explained = matches!(d.code, Code::DeadlineNotTime | Code::TypeMismatch)
            && rewritten
                .iter()
                .any(|fix| fix.file == d.at.file && fix.span.start == d.at.span.start);
        let restated = d.code == Code::Misplaced
            && syntax_starts
                .iter()
                .any(|at| at.file == d.at.file && at.span.start == d.at.span.start);
        !(explained || restated || (skipped_text && unused))
    }));
    diagnostics.sort_by(|a, b| {
        (a.at.file, a.at.span.start, a.code).cmp(&(b.at.file, b.at.span.start, b.code))
    });
    diagnostics.dedup();
    Analysis {
        files,
        package_files,
        parsed,
        defs: checked.defs,
        references: checked.references,
        members: checked.members,
        diagnostics,
        expr_types: checked.expr_types,
        results: checked.results,
        kpi_processes: checked.kpi_processes,
    }
}

/// Lexes and parses one file.
fn parse_one(index: usize, source: &SourceFile) -> (Vec<Diagnostic>, ParsedFile) {
    let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
    let mut diagnostics = Vec::new();
    if let Some(offset) = source.invalid_utf8_at {
        diagnostics.push(
            Diagnostic::new(
                Code::NotUtf8,
                FileSpan {
                    file,
                    // The invalid bytes were replaced by U+FFFD: the span covers it.
                    span: Span {
                        start: offset,
                        end: offset.saturating_add(3),
                    },
                },
                "this file is not valid UTF-8",
            )
            .with_label("invalid byte")
            .with_help("save the file as UTF-8 text"),
        );
    }
    let lexed = lexer::lex(file, &source.text);
    let (ast, parse_diagnostics) = parser::parse(file, source.text.len(), &lexed);
    diagnostics.extend(lexed.diagnostics.iter().cloned());
    diagnostics.extend(parse_diagnostics.into_iter().filter(|d| {
        !(d.code == Code::Syntax
            && lexed
                .cuts
                .iter()
                .any(|cut| cut.start <= d.at.span.start && d.at.span.start <= cut.end))
    }));
    let parsed = ParsedFile {
        ast,
        trivia: lexed.trivia,
        docs: lexed.docs,
    };
    (diagnostics, parsed)
}

/// Below this many bytes in a package, parsing on one thread is faster than starting others.
const PARALLEL_PARSE_BYTES: usize = 256 * 1024;

/// Lexes and parses every file; large packages are split across the machine's cores (files are independent
/// until checking). The result is in file order whatever the split, so output stays deterministic.
fn parse_all(files: &[SourceFile]) -> (Vec<Diagnostic>, Vec<ParsedFile>) {
    let total: usize = files.iter().map(|f| f.text.len()).sum();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(files.len());
    let results: Vec<(Vec<Diagnostic>, ParsedFile)> = if workers > 1
        && total >= PARALLEL_PARSE_BYTES
    {
        // Deal files out by size so each worker gets a similar share of bytes.
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(files.get(i).map_or(0, |f| f.text.len())));
        let mut shares: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); workers];
        for index in order {
            if let Some(share) = shares.iter_mut().min_by_key(|(bytes, _)| *bytes) {
                share.0 += files.get(index).map_or(0, |f| f.text.len());
                share.1.push(index);
            }
        }
        let mut slots: Vec<Option<(Vec<Diagnostic>, ParsedFile)>> =
            (0..files.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|(_, indices)| {
                    scope.spawn(move || {
                        indices
                            .into_iter()
                            .filter_map(|i| files.get(i).map(|source| (i, parse_one(i, source))))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A worker that panicked leaves its files unparsed; they are parsed again below.
                if let Ok(done) = handle.join() {
                    for (index, result) in done {
                        if let Some(slot) = slots.get_mut(index) {
                            *slot = Some(result);
                        }
                    }
                }
            }
        });
        slots
            .into_iter()
            .enumerate()
            .map(|(index, slot)| {
                slot.unwrap_or_else(|| {
                    files
                        .get(index)
                        .map(|source| parse_one(index, source))
                        .unwrap_or_default()
                })
            })
            .collect()
    } else {
        files
            .iter()
            .enumerate()
            .map(|(index, source)| parse_one(index, source))
            .collect()
    };
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::with_capacity(results.len());
    for (file_diagnostics, file) in results {
        diagnostics.extend(file_diagnostics);
        parsed.push(file);
    }
    (diagnostics, parsed)
}

impl Analysis {
    /// A definition.
    pub fn def(&self, id: DefId) -> Option<&Definition> {
        self.defs.get(id.0 as usize)
    }

    /// A file.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// What the name written exactly at `span` refers to.
    pub fn reference_at(&self, file: FileId, span: Span) -> Option<DefId> {
        self.references
            .iter()
            .find(|(site, _)| site.file == file && site.span == span)
            .map(|(_, id)| *id)
    }

    /// Whether a procedure does work people see (steps, waits, notifications, actions), itself or through the
    /// procedures it calls; `working_days(2)` only works out a value. Unknown procedures count as working.
    pub fn does_work(&self, procedure: DefId) -> bool {
        self.does_work_in(procedure, &mut HashMap::default())
    }

    /// `known`: the procedures already looked at, so each body is walked once (a call in a cycle, which the
    /// checker reports, counts as work).
    fn does_work_in(&self, id: DefId, known: &mut HashMap<DefId, bool>) -> bool {
        if let Some(&works) = known.get(&id) {
            return works;
        }
        known.insert(id, true);
        let flow = self.def(id).and_then(|def| {
            let parsed = self.parsed.get(def.file.0 as usize)?;
            let flow = parsed.ast.items.iter().find_map(|item| match &item.kind {
                ast::ItemKind::Procedure(flow) if flow.name.span == def.name_span => Some(flow),
                _ => None,
            })?;
            Some((def.file, flow))
        });
        let works = flow.is_none_or(|(file, flow)| self.block_works(file, &flow.body, known));
        known.insert(id, works);
        works
    }

    fn block_works(
        &self,
        file: FileId,
        block: &ast::Block,
        known: &mut HashMap<DefId, bool>,
    ) -> bool {
        block.stmts.iter().any(|stmt| match &stmt.kind {
            ast::StmtKind::Let { value, .. } | ast::StmtKind::Expr(value) => match &value.kind {
                ast::ExprKind::Await { .. } => true,
                ast::ExprKind::Call(callee, _) => {
                    match self
                        .reference_at(file, callee.span)
                        .and_then(|id| self.def(id).map(|def| (id, def.kind)))
                    {
                        Some((id, DefKind::Procedure)) => self.does_work_in(id, known),
                        _ => true,
                    }
                }
                _ => false,
            },
            ast::StmtKind::If {
                branches,
                otherwise,
            } => {
                branches
                    .iter()
                    .any(|(_, body)| self.block_works(file, body, known))
                    || otherwise
                        .as_ref()
                        .is_some_and(|body| self.block_works(file, body, known))
            }
            ast::StmtKind::Match { arms, .. } => arms
                .iter()
                .any(|arm| self.block_works(file, &arm.body, known)),
            ast::StmtKind::ForEach { body, .. } | ast::StmtKind::Repeat { body, .. } => {
                self.block_works(file, body, known)
            }
            ast::StmtKind::Fail(_)
            | ast::StmtKind::Complete(_)
            | ast::StmtKind::Return(_)
            | ast::StmtKind::Error => false,
            _ => true,
        })
    }

    /// Every `kpi` declaration (package and standard library) with its definition.
    pub fn kpis(&self) -> Vec<(DefId, &ast::KpiDecl)> {
        let mut kpis = Vec::new();
        for (index, parsed) in self.parsed.iter().enumerate() {
            for item in &parsed.ast.items {
                let ast::ItemKind::Kpi(decl) = &item.kind else {
                    continue;
                };
                let def = self.defs.iter().position(|d| {
                    d.kind == crate::model::DefKind::Kpi
                        && d.file.0 as usize == index
                        && d.name_span == decl.name.span
                });
                if let Some(def) = def {
                    kpis.push((DefId(u32::try_from(def).unwrap_or(u32::MAX)), decl));
                }
            }
        }
        kpis
    }

    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The name under a byte offset: a use (reference) or a definition's own name.
    pub fn name_at(&self, file: FileId, offset: u32) -> Option<(FileSpan, DefId)> {
        let reference = self
            .references
            .iter()
            .filter(|(site, _)| site.file == file && site.span.contains(offset))
            .min_by_key(|(site, _)| site.span.len())
            .copied();
        reference.or_else(|| {
            self.defs
                .iter()
                .enumerate()
                .filter(|(_, def)| def.file == file && def.name_span.contains(offset))
                .min_by_key(|(_, def)| def.name_span.len())
                .map(|(index, def)| {
                    (
                        FileSpan {
                            file,
                            span: def.name_span,
                        },
                        DefId(u32::try_from(index).unwrap_or(u32::MAX)),
                    )
                })
        })
    }

    /// The module a `use` path names at a byte offset: the segment under the cursor (with the segments before it,
    /// so `std` in `use std.calendar.*` names nothing unless a module `std` exists) and the file of that module.
    pub fn module_at(&self, file: FileId, offset: u32) -> Option<(FileSpan, String, FileId)> {
        let parsed = self.parsed.get(file.0 as usize)?;
        parsed.ast.items.iter().find_map(|item| {
            let ast::ItemKind::Use(decl) = &item.kind else {
                return None;
            };
            let at = decl
                .module
                .iter()
                .position(|segment| segment.span.contains(offset))?;
            let path = decl
                .module
                .get(..=at)?
                .iter()
                .map(|segment| segment.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            let target = self.files.iter().position(|f| f.module == path)?;
            let span = decl.module.get(at)?.span;
            Some((
                FileSpan { file, span },
                path,
                FileId(u32::try_from(target).ok()?),
            ))
        })
    }

    /// Where the thing under the cursor is defined.
    pub fn definition_at(&self, file: FileId, offset: u32) -> Option<FileSpan> {
        let (_, id) = self.name_at(file, offset)?;
        let def = self.def(id)?;
        Some(FileSpan {
            file: def.file,
            span: def.name_span,
        })
    }

    /// Every place a definition is named: its own name first, then its uses.
    pub fn references_to(&self, id: DefId) -> Vec<FileSpan> {
        let mut sites: Vec<FileSpan> = self
            .def(id)
            .map(|def| FileSpan {
                file: def.file,
                span: def.name_span,
            })
            .into_iter()
            .collect();
        for (site, target) in &self.references {
            if *target == id && !sites.contains(site) {
                sites.push(*site);
            }
        }
        sites
    }

    /// What to show when hovering over a byte offset.
    pub fn hover(&self, file: FileId, offset: u32) -> Option<HoverInfo> {
        let (span, id) = self.name_at(file, offset)?;
        let def = self.def(id)?;
        Some(HoverInfo {
            span,
            def: id,
            signature: def.signature.clone(),
            docs: def.docs.clone(),
            meaning: def.meaning.clone(),
        })
    }

    /// Diagnostics of the package's own files (not of the standard library).
    pub fn package_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| (d.at.file.0 as usize) < self.package_files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze_one(text: &str) -> Analysis {
        analyze(vec![SourceFile::new("t.proc", "t", text)])
    }

    #[test]
    fn step_meaning_in_words() {
        let text = "role Agent\nrole Supervisor\ncalendar Support { hours mon-fri 09:00-17:00 }\n\
            process p() {\n  step s { by Agent within 4h on Support on breach { notify Supervisor after 4h reassign to Supervisor } }\n}\n";
        let analysis = analyze_one(text);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:#?}",
            analysis.diagnostics
        );
        let offset = u32::try_from(text.find("step s").unwrap() + 5).unwrap();
        let hover = analysis.hover(FileId(0), offset).unwrap();
        assert_eq!(
            hover.meaning.as_deref(),
            Some(
                "performed by `Agent`; due 4 business hours after the step opens, on calendar `Support`; \
                 on breach: at breach notify `Supervisor`, then 4 hours after the breach reassign to `Supervisor`"
            )
        );
    }

    #[test]
    fn an_expiry_in_words() {
        let text =
            "role Agent\nprocess p() {\n  step s { by Agent within 2d expires after 7d }\n}\n";
        let analysis = analyze_one(text);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:#?}",
            analysis.diagnostics
        );
        let offset = u32::try_from(text.find("step s").unwrap() + 5).unwrap();
        let hover = analysis.hover(FileId(0), offset).unwrap();
        assert_eq!(
            hover.meaning.as_deref(),
            Some(
                "performed by `Agent`; due 2 days after the step opens; withdrawn if not done 1 week after the \
                 step opens (it expires; no breach)"
            )
        );
    }

    #[test]
    fn an_old_zone_abbreviation_names_places_and_its_own_offset() {
        let analysis =
            analyze_one("calendar C {\n  zone \"CET\"\n  hours mon-fri 09:00-17:00\n}\n");
        let help = analysis
            .diagnostics
            .iter()
            .find_map(|d| d.help.clone())
            .unwrap_or_default();
        assert!(help.contains("`Europe/Berlin` or `Europe/Paris`"), "{help}");
        assert!(
            help.contains("`Etc/GMT-1` (one hour ahead of UTC all year)"),
            "{help}"
        );
    }

    #[test]
    fn a_role_in_quotes_is_written_without_them() {
        let analysis = analyze_one(
            "role Agent\nprocedure give(r: Role) {\n  step s { by role r }\n}\nprocess p() {\n  give(\"Agent\")\n}\n",
        );
        assert_eq!(analysis.diagnostics.len(), 1, "{:#?}", analysis.diagnostics);
        let diagnostic = &analysis.diagnostics[0];
        assert_eq!(
            diagnostic.help.as_deref(),
            Some("a role is written as its name, without quotes: `Agent`")
        );
        assert_eq!(diagnostic.suggestions.len(), 1);
    }

    #[test]
    fn a_test_of_a_process_in_another_module_is_told_the_import() {
        let analysis = analyze(vec![
            SourceFile::new(
                "refund.proc",
                "refund",
                "role Agent\nprocess refund(n: Int) {\n  step s \"x\" { by Agent }\n}\n",
            ),
            SourceFile::new(
                "tests.proc",
                "tests",
                "test \"t\" {\n  start refund(3)\n}\n",
            ),
        ]);
        assert_eq!(analysis.diagnostics.len(), 1, "{:#?}", analysis.diagnostics);
        assert_eq!(
            analysis.diagnostics[0].help.as_deref(),
            Some("`refund` is declared in module `refund`: import it with `use refund.refund`")
        );
    }

    #[test]
    fn an_optional_value_read_directly_is_named_as_written() {
        let analysis = analyze_one(
            "role A\nsignal Replied { message: Text }\nprocess p() {\n  let reply = await Replied within 1d\n  notify A reply.message\n}\n",
        );
        let messages: Vec<&str> = analysis
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            messages.contains(
                &"`reply` may be empty (it is `Replied?`), so `.message` cannot be read directly"
            ),
            "{messages:?}"
        );
    }

    #[test]
    fn module_paths() {
        assert_eq!(module_path("billing/refund.proc"), "billing.refund");
        assert_eq!(module_path("./complaint.proc"), "complaint");
    }

    #[test]
    fn definition_references_and_hover() {
        let text =
            "/// Answers first.\nrole Agent\nprocess p() {\n  step s { by Agent within 4h }\n}\n";
        let analysis = analyze_one(text);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:#?}",
            analysis.diagnostics
        );
        let use_offset = u32::try_from(text.rfind("Agent").unwrap()).unwrap();
        let definition = analysis.definition_at(FileId(0), use_offset).unwrap();
        assert_eq!(definition.span.start as usize, text.find("Agent").unwrap());
        let hover = analysis.hover(FileId(0), use_offset).unwrap();
        assert_eq!(hover.signature, "role Agent");
        assert_eq!(hover.docs.as_deref(), Some("Answers first."));
        assert_eq!(analysis.references_to(hover.def).len(), 2);
        let step_offset = u32::try_from(text.find("step s").unwrap() + 5).unwrap();
        let step = analysis.hover(FileId(0), step_offset).unwrap();
        assert_eq!(
            step.meaning.as_deref(),
            Some("performed by `Agent`; due 4 hours after the step opens")
        );
    }
}
