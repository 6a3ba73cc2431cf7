//! The tower-lsp service: document synchronisation, the analysis worker and the request handlers. Every handler
//! runs its feature under [`guard`], so a bug answering one request is logged and answered with an error while
//! the server keeps serving.

use crate::completion;
use crate::convert;
use crate::diagnostics;
use crate::navigation;
use crate::view::View;
use crate::workspace::{OpenDocument, Unit, Workspace};
use proc_compiler::{Analysis, FileId, SourceFile};
use rustc_hash::FxHashMap as HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer, LspService, Server};

/// The analyses kept for reuse (one per unit of files, most recent first).
const CACHED_ANALYSES: usize = 4;

/// An analysis and the URIs of its package files.
pub struct Analysed {
    /// The analysis.
    pub analysis: Analysis,
    /// URIs parallel to the package's files.
    pub uris: Vec<Url>,
}

impl Analysed {
    fn view(&self) -> View<'_> {
        View {
            analysis: &self.analysis,
            uris: &self.uris,
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// One thread with a large stack runs every analysis and every feature that walks a syntax tree, so deeply
/// nested (but accepted) code cannot overflow a small async worker's stack.
struct Worker {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Worker {
    fn start() -> std::io::Result<Worker> {
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("proc-analysis".to_string())
            .stack_size(256 * 1024 * 1024)
            .spawn(move || {
                while let Ok(job) = receiver.recv() {
                    job();
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Drops `value` on the worker thread, without waiting.
    fn dispose<T: Send + 'static>(&self, value: T) {
        let _ = self.jobs.send(Box::new(move || drop(value)));
    }

    /// Runs `work` on the worker; a panic becomes an error message.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::result::Result<T, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(panic_text);
            let _ = reply.send(result);
        });
        self.jobs
            .send(job)
            .map_err(|_| "the analysis worker has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the analysis worker has stopped".to_string())?
    }
}

/// Writes a line to the server's log: standard error, which editors show in their output panel (standard
/// output carries the protocol).
#[allow(
    clippy::print_stderr,
    reason = "standard error is the language server's log"
)]
fn log_stderr(message: &str) {
    eprintln!("proc-lsp: {message}");
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs one request's work, turning a panic into an internal error (the server keeps serving).
fn guard<T>(what: &str, work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = format!(
            "internal error while answering {what}: {}; please report this as a bug",
            panic_text(payload)
        );
        log_stderr(&message);
        Error {
            code: ErrorCode::InternalError,
            message: message.into(),
            data: None,
        }
    })
}

fn request_failed(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803), // RequestFailed
        message: message.into().into(),
        data: None,
    }
}

struct State {
    workspace: Workspace,
    cache: Vec<(u64, Arc<Analysed>)>,
    /// The newest change of each document, to drop diagnostics computed for older text.
    generation: HashMap<Url, u64>,
}

/// The language server.
pub struct Backend {
    client: Client,
    state: Mutex<State>,
    worker: Worker,
    /// Serialises analyses so that requests and diagnostics share results instead of racing.
    analysing: tokio::sync::Mutex<()>,
    changes: AtomicU64,
    snippets: AtomicBool,
    shutdown: Arc<AtomicBool>,
}

impl Backend {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The analysis of a unit, reused if nothing it reads has changed.
    async fn analyse(&self, unit: Unit) -> Result<Arc<Analysed>> {
        let fingerprint = unit.fingerprint();
        let _turn = self.analysing.lock().await;
        if let Some(found) = self.cached(fingerprint) {
            return Ok(found);
        }
        let sources: Vec<SourceFile> = unit.sources();
        let analysis = self
            .worker
            .run(move || proc_compiler::analyze(sources))
            .await
            .map_err(|message| {
                let message =
                    format!("the analysis failed: {message}; please report this as a bug");
                log_stderr(&message);
                request_failed(message)
            })?;
        let analysed = Arc::new(Analysed {
            analysis,
            uris: unit.files.iter().map(|file| file.uri.clone()).collect(),
        });
        let evicted: Vec<(u64, Arc<Analysed>)> = {
            let mut state = self.state();
            state.cache.insert(0, (fingerprint, Arc::clone(&analysed)));
            let keep = state.cache.len().min(CACHED_ANALYSES);
            state.cache.drain(keep..).collect()
        };
        // Free old analyses on the worker that allocated them: the allocator then reuses its pages for the next
        // analysis instead of faulting in fresh ones (measured: about a fifth of a change's time).
        self.worker.dispose(evicted);
        Ok(analysed)
    }

    fn cached(&self, fingerprint: u64) -> Option<Arc<Analysed>> {
        let mut state = self.state();
        let index = state
            .cache
            .iter()
            .position(|(key, _)| *key == fingerprint)?;
        let entry = state.cache.remove(index);
        let found = Arc::clone(&entry.1);
        state.cache.insert(0, entry);
        Some(found)
    }

    /// The analysis that covers a document as it is now, and the document's file id in it.
    async fn analysis_of(&self, uri: &Url) -> Result<Option<(Arc<Analysed>, FileId)>> {
        let unit = self.state().workspace.unit_for(uri);
        if unit.files.is_empty() {
            return Ok(None);
        }
        let analysed = self.analyse(unit).await?;
        let file = analysed.view().file_id(uri);
        Ok(file.map(|file| (analysed, file)))
    }

    /// The analysis of a document's whole package (for references and rename).
    async fn package_analysis_of(&self, uri: &Url) -> Result<Option<(Arc<Analysed>, FileId)>> {
        let unit = self.state().workspace.package_unit(uri);
        if unit.files.is_empty() {
            return Ok(None);
        }
        let analysed = self.analyse(unit).await?;
        let file = analysed.view().file_id(uri);
        Ok(file.map(|file| (analysed, file)))
    }

    /// Re-analyses what a change to `uri` can affect and publishes the diagnostics of those files, unless a newer
    /// change has arrived meanwhile (its own refresh publishes instead).
    async fn refresh(&self, uri: Url) {
        let generation = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        self.state().generation.insert(uri.clone(), generation);
        let _coalesce = self.analysing.lock().await;
        drop(_coalesce);
        if self.state().generation.get(&uri) != Some(&generation) {
            return;
        }
        let unit = self.state().workspace.unit_for(&uri);
        if unit.files.is_empty() {
            return;
        }
        // The versions of this text (an analysis reused from identical text may have been made for others).
        let versions: Vec<Option<i32>> = unit.files.iter().map(|file| file.version).collect();
        // This change's targets: an analysis reused from identical text may have been made for other targets (an
        // edit undone in one file must refresh the files that import it too).
        let targets = unit.targets.clone();
        let analysed = match self.analyse(unit).await {
            Ok(analysed) => analysed,
            Err(error) => {
                self.client
                    .log_message(MessageType::ERROR, error.message.to_string())
                    .await;
                return;
            }
        };
        let published = guard("diagnostics", || {
            let view = analysed.view();
            targets
                .iter()
                .filter_map(|target| {
                    let index = analysed.uris.iter().position(|u| u == target)?;
                    let file = FileId(u32::try_from(index).ok()?);
                    let version = versions.get(index).copied().flatten();
                    Some((
                        target.clone(),
                        version,
                        diagnostics::file_diagnostics(&view, file),
                    ))
                })
                .collect::<Vec<_>>()
        });
        let Ok(published) = published else { return };
        for (target, version, diagnostics) in published {
            // Drop results for text the client no longer has.
            let current = self
                .state()
                .workspace
                .open
                .get(&target)
                .map(|document| document.version);
            if version.is_some() && current != version {
                continue;
            }
            self.client
                .publish_diagnostics(target, diagnostics, version)
                .await;
        }
    }

    /// A debugging aid for the server's own tests: panics while answering, to show the server survives. Only
    /// answered when the server was started with `PROC_LSP_DEBUG=1`.
    async fn debug_panic(&self, _params: serde_json::Value) -> Result<serde_json::Value> {
        if std::env::var("PROC_LSP_DEBUG").as_deref() != Ok("1") {
            return Err(Error::method_not_found());
        }
        guard("proc/debugPanic", || -> serde_json::Value {
            #[allow(clippy::panic)]
            {
                panic!("deliberate panic for testing")
            }
        })
    }
}

fn file_uri(params: &TextDocumentPositionParams) -> &Url {
    &params.text_document.uri
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut folders: Vec<std::path::PathBuf> = params
            .workspace_folders
            .unwrap_or_default()
            .iter()
            .filter_map(|folder| folder.uri.to_file_path().ok())
            .collect();
        #[allow(deprecated)] // older clients send only `rootUri`
        if folders.is_empty() {
            if let Some(root) = params.root_uri.and_then(|uri| uri.to_file_path().ok()) {
                folders.push(root);
            }
        }
        self.state().workspace.folders = folders;
        let snippets = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|text| text.completion.as_ref())
            .and_then(|completion| completion.completion_item.as_ref())
            .and_then(|item| item.snippet_support)
            .unwrap_or(false);
        self.snippets.store(snippets, Ordering::Relaxed);
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "proc-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            capabilities: capabilities(),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.client
            .log_message(
                MessageType::INFO,
                format!("proc language server {} ready", env!("CARGO_PKG_VERSION")),
            )
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        self.state().workspace.open.insert(
            document.uri.clone(),
            OpenDocument {
                text: document.text,
                version: document.version,
            },
        );
        self.refresh(document.uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut state = self.state();
            let Some(document) = state.workspace.open.get_mut(&uri) else {
                return;
            };
            for change in params.content_changes {
                convert::apply_change(&mut document.text, change.range, &change.text);
            }
            document.version = params.text_document.version;
        }
        self.refresh(uri).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let on_disk = uri.to_file_path().is_ok_and(|path| path.exists());
        // A document that was never saved goes away with its editor: what imports it misses it now.
        let importers = if on_disk {
            Vec::new()
        } else {
            self.state().workspace.importers_of_deleted(&uri)
        };
        self.state().workspace.open.remove(&uri);
        if on_disk {
            // The file on disk is what counts now.
            self.refresh(uri).await;
        } else {
            self.client
                .publish_diagnostics(uri.clone(), Vec::new(), None)
                .await;
            for importer in importers.into_iter().filter(|importer| *importer != uri) {
                self.refresh(importer).await;
            }
        }
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            let open = self.state().workspace.open.contains_key(&change.uri);
            if open {
                continue;
            }
            if change.typ == FileChangeType::DELETED {
                self.client
                    .publish_diagnostics(change.uri.clone(), Vec::new(), None)
                    .await;
                // What imported it now misses it.
                let importers = self.state().workspace.importers_of_deleted(&change.uri);
                for importer in importers {
                    self.refresh(importer).await;
                }
            } else {
                self.refresh(change.uri).await;
            }
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some((analysed, file)) = self.analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        guard("hover", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            navigation::hover(&view, file, offset)
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let Some((analysed, file)) = self.analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        guard("definition", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            navigation::definition(&view, file, offset).map(GotoDefinitionResponse::Scalar)
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let Some((analysed, file)) = self.package_analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        guard("references", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            Some(navigation::references(
                &view,
                file,
                offset,
                params.context.include_declaration,
            ))
        })
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let at = params.text_document_position_params;
        let Some((analysed, file)) = self.analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        guard("highlights", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            Some(navigation::highlights(&view, file, offset))
        })
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some((analysed, file)) = self.package_analysis_of(file_uri(&params)).await? else {
            return Ok(None);
        };
        let answer = guard("prepareRename", || {
            let view = analysed.view();
            let source = view.source(file)?;
            let offset = convert::offset(source, params.position);
            Some(navigation::prepare_rename(&view, file, offset))
        })?;
        match answer {
            None => Ok(None),
            Some(Ok((range, placeholder))) => {
                Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
                    range,
                    placeholder,
                }))
            }
            Some(Err(message)) => Err(request_failed(message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let Some((analysed, file)) = self.package_analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        let new_name = params.new_name;
        let planned = guard("rename", || {
            let view = analysed.view();
            let source = view.source(file)?;
            let offset = convert::offset(source, at.position);
            Some(navigation::rename_edits(&view, file, offset, &new_name))
        })?;
        let changes = match planned {
            None => return Ok(None),
            Some(Err(message)) => return Err(request_failed(message)),
            Some(Ok(changes)) => changes,
        };
        // Check the result: a rename must not make the program mean something else or break it.
        let (renamed, edits, old_name) = guard("rename", || {
            let view = analysed.view();
            let old_name = view
                .analysis
                .name_at(file, convert::offset(view.source(file)?, at.position))
                .and_then(|(_, id)| view.analysis.def(id))
                .map(|d| d.name.clone())?;
            let mut edits = Vec::new();
            let renamed: Vec<SourceFile> = analysed
                .uris
                .iter()
                .enumerate()
                .filter_map(|(index, uri)| {
                    let id = FileId(u32::try_from(index).ok()?);
                    let source = view.source(id)?;
                    let text = match changes.get(uri) {
                        Some(file_edits) => {
                            edits.extend(file_edits.iter().map(|edit| navigation::RenameEdit {
                                file: id,
                                span: convert::span(source, edit.range),
                                new_len: edit.new_text.len(),
                            }));
                            navigation::apply_edits(source, file_edits)
                        }
                        None => source.text.clone(),
                    };
                    Some(SourceFile::new(
                        source.name.clone(),
                        source.module.clone(),
                        text,
                    ))
                })
                .collect();
            Some((renamed, edits, old_name))
        })?
        .ok_or_else(|| request_failed("there is no name to rename here".to_string()))?;
        let after = self
            .worker
            .run(move || proc_compiler::analyze(renamed))
            .await
            .map_err(request_failed)?;
        if let Some(problem) =
            navigation::rename_problem(&analysed.analysis, &after, &edits, &old_name, &new_name)
        {
            return Err(request_failed(format!(
                "cannot rename `{old_name}` to `{new_name}`: {problem}"
            )));
        }
        Ok(Some(navigation::workspace_edit(changes)))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let Some((analysed, file)) = self.analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        let snippets = self.snippets.load(Ordering::Relaxed);
        let uri = file_uri(&at).clone();
        // Walked only when a `use` path is being completed.
        let package_modules = || self.state().workspace.package_modules(&uri);
        guard("completion", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            Some(CompletionResponse::Array(completion::completion(
                &view,
                file,
                offset,
                snippets,
                &package_modules,
            )))
        })
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let at = params.text_document_position_params;
        let Some((analysed, file)) = self.analysis_of(file_uri(&at)).await? else {
            return Ok(None);
        };
        guard("signatureHelp", || {
            let view = analysed.view();
            let offset = convert::offset(view.source(file)?, at.position);
            completion::signature_help(&view, file, offset)
        })
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some((analysed, file)) = self.analysis_of(&params.text_document.uri).await? else {
            return Ok(None);
        };
        guard("documentSymbol", || {
            let view = analysed.view();
            Some(DocumentSymbolResponse::Nested(
                navigation::document_symbols(&view, file),
            ))
        })
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        let units = self.state().workspace.all_packages();
        let mut found = Vec::new();
        for unit in units {
            if found.len() >= 500 {
                break;
            }
            let analysed = self.analyse(unit).await?;
            let more = guard("workspace/symbol", || {
                navigation::workspace_symbols(&analysed.view(), &params.query, 500 - found.len())
            })?;
            found.extend(more);
        }
        Ok(Some(found))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some((analysed, file)) = self.analysis_of(&params.text_document.uri).await? else {
            return Ok(None);
        };
        guard("semanticTokens", || {
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: navigation::semantic_tokens(&analysed.view(), file),
            }))
        })
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let Some((analysed, file)) = self.analysis_of(&params.text_document.uri).await? else {
            return Ok(None);
        };
        guard("foldingRange", || {
            let source = analysed.analysis.file(file)?;
            let parsed = analysed.analysis.parsed.get(file.0 as usize)?;
            Some(navigation::folding_ranges(source, parsed))
        })
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let uri = params.text_document.uri;
        let Some((text, _)) = self.state().workspace.text_of(&uri) else {
            return Ok(None);
        };
        let name = crate::workspace::display_name(&uri);
        let edits = self
            .worker
            .run(move || navigation::formatting(&SourceFile::new(name, "main", text)))
            .await
            .map_err(|message| {
                log_stderr(&format!("formatting failed: {message}"));
                Error {
                    code: ErrorCode::InternalError,
                    message: format!("internal error while formatting: {message}").into(),
                    data: None,
                }
            })?;
        if edits.is_none() {
            self.client
                .log_message(
                    MessageType::INFO,
                    "not formatted: the file has syntax errors (fix them first)",
                )
                .await;
        }
        Ok(edits)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some((analysed, file)) = self.analysis_of(&params.text_document.uri).await? else {
            return Ok(None);
        };
        guard("codeAction", || {
            let view = analysed.view();
            let span = convert::span(view.source(file)?, params.range);
            Some(diagnostics::code_actions(&view, file, span))
        })
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), " ".to_string(), "{".to_string()]),
            ..CompletionOptions::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".to_string(), ",".to_string()]),
            retrigger_characters: None,
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: SemanticTokensLegend {
                    token_types: navigation::TOKEN_TYPES.to_vec(),
                    token_modifiers: navigation::TOKEN_MODIFIERS.to_vec(),
                },
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: None,
        })),
        ..ServerCapabilities::default()
    }
}

/// Ends the process once tower-lsp has handled `exit`: tower-lsp 0.20 otherwise keeps running until the client
/// closes stdin (upstream issue #399). The exit code is 0 after `shutdown`, 1 without it, as the protocol says.
struct ExitOnExit<S> {
    inner: S,
    shutdown: Arc<AtomicBool>,
}

impl<S> tower::Service<tower_lsp::jsonrpc::Request> for ExitOnExit<S>
where
    S: tower::Service<tower_lsp::jsonrpc::Request, Response = Option<tower_lsp::jsonrpc::Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<S::Response, S::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: tower_lsp::jsonrpc::Request) -> Self::Future {
        let is_exit = request.method() == "exit";
        // Requests are handled concurrently: note `shutdown` on arrival, so an `exit` sent right behind it (without
        // waiting for its answer) still ends with 0.
        if request.method() == "shutdown" {
            self.shutdown.store(true, Ordering::SeqCst);
        }
        let shutdown = Arc::clone(&self.shutdown);
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            if is_exit {
                use std::io::Write;
                let _ = std::io::stdout().flush();
                std::process::exit(if shutdown.load(Ordering::SeqCst) {
                    0
                } else {
                    1
                });
            }
            response
        })
    }
}

/// Serves the protocol over stdin and stdout until the client sends `exit` (or closes the connection).
/// Returns the process exit code: 0 after an orderly shutdown, 1 otherwise.
pub fn run_stdio() -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            log_stderr(&format!("cannot start: {error}"));
            return 1;
        }
    };
    let worker = match Worker::start() {
        Ok(worker) => worker,
        Err(error) => {
            log_stderr(&format!("cannot start the analysis thread: {error}"));
            return 1;
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let shutdown_flag = Arc::clone(&shutdown);
    let exit_flag = Arc::clone(&shutdown);
    runtime.block_on(async move {
        let (service, socket) = LspService::build(|client| Backend {
            client,
            state: Mutex::new(State {
                workspace: Workspace::default(),
                cache: Vec::new(),
                generation: HashMap::default(),
            }),
            worker,
            analysing: tokio::sync::Mutex::new(()),
            changes: AtomicU64::new(0),
            snippets: AtomicBool::new(false),
            shutdown: Arc::clone(&shutdown_flag),
        })
        .custom_method("proc/debugPanic", Backend::debug_panic)
        .finish();
        let service = ExitOnExit {
            inner: service,
            shutdown: exit_flag,
        };
        // tower-lsp reads only messages the guard let through: one bad message must not end the session.
        let (reader, writer) = tokio::io::duplex(1024 * 1024);
        let guard = tokio::spawn(crate::transport::forward(
            tokio::io::BufReader::new(tokio::io::stdin()),
            writer,
            log_stderr,
        ));
        Server::new(reader, tokio::io::stdout(), socket)
            .serve(service)
            .await;
        guard.abort();
    });
    i32::from(!shutdown.load(Ordering::SeqCst))
}
