//! One analysis seen through the protocol's eyes: which URI each of its files has, and conversions of the
//! compiler's spans to LSP locations. Every feature reads the analysis through a [`View`].

use crate::convert;
use proc_compiler::{Analysis, FileId, FileSpan, SourceFile};
use std::path::PathBuf;
use std::sync::OnceLock;
use tower_lsp::lsp_types::{Location, Url};

/// An analysis and the URIs of its package files (parallel to `analysis.files[..package_files]`).
pub struct View<'a> {
    /// The analysis.
    pub analysis: &'a Analysis,
    /// URIs of the package's files.
    pub uris: &'a [Url],
}

impl<'a> View<'a> {
    /// The file id of a URI in this analysis.
    pub fn file_id(&self, uri: &Url) -> Option<FileId> {
        let index = self.uris.iter().position(|candidate| candidate == uri)?;
        u32::try_from(index).ok().map(FileId)
    }

    /// A file.
    pub fn source(&self, file: FileId) -> Option<&'a SourceFile> {
        self.analysis.file(file)
    }

    /// The URI of a file: the package file's own, or a read-only copy of a standard-library module.
    pub fn uri(&self, file: FileId) -> Option<Url> {
        let index = file.0 as usize;
        if let Some(uri) = self.uris.get(index) {
            return Some(uri.clone());
        }
        let source = self.analysis.files.get(index)?;
        std_copy(source)
    }

    /// True for files of the standard library.
    pub fn is_std(&self, file: FileId) -> bool {
        file.0 as usize >= self.analysis.package_files
    }

    /// The LSP location of a span.
    pub fn location(&self, at: FileSpan) -> Option<Location> {
        let source = self.source(at.file)?;
        Some(Location::new(
            self.uri(at.file)?,
            convert::range(source, at.span),
        ))
    }
}

/// Where the standard library's sources are written so that "go to definition" can open them: one directory per
/// compiler version, the user's own ([`crate::private`]).
fn std_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = crate::private::private_dir("std")?;
        for (_, name, text) in proc_compiler::std_lib::STD_MODULES {
            crate::private::write_file(&dir.join(name), text)?;
        }
        Some(dir)
    })
    .as_ref()
}

/// The URI of the on-disk copy of a standard-library file.
fn std_copy(source: &SourceFile) -> Option<Url> {
    let path = std_dir()?.join(&source.name);
    Url::from_file_path(path).ok()
}
