//! The editor's view of the files: open documents (their latest text and version) over the files on disk, which
//! package each file belongs to, and which files must be analysed together after a change.
//!
//! A package is a directory tree of `.proc` files, as for `procc check DIR`: modules are named by their path
//! inside it. The package root of a file is the outermost directory (in the workspace folder) that some file's
//! `use` lines resolve against; without one, it is found by walking up from the file's directory while the
//! parent directory also holds `.proc` files (without leaving the workspace folder).
//!
//! Only what a change can affect is analysed again: the changed file, the files that import it (directly or
//! through others), and what those import. Other files keep their last results.

use proc_compiler::SourceFile;
use proc_compiler::analysis::module_path;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use tower_lsp::lsp_types::Url;

/// An open document.
#[derive(Clone, Debug)]
pub struct OpenDocument {
    /// Its latest text.
    pub text: String,
    /// Its latest version, as the client numbers them.
    pub version: i32,
}

/// Open documents and workspace folders.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The workspace folders the client named (may be empty).
    pub folders: Vec<PathBuf>,
    /// Open documents by URI.
    pub open: HashMap<Url, OpenDocument>,
}

/// One file of a unit of analysis.
#[derive(Clone, Debug)]
pub struct UnitFile {
    /// Its URI.
    pub uri: Url,
    /// Its module path.
    pub module: String,
    /// The text analysed.
    pub text: String,
    /// The version analysed, for open documents.
    pub version: Option<i32>,
    /// For a file read from disk that is not valid UTF-8: where the first bad byte was (reported as `P0006`).
    pub invalid_utf8_at: Option<u32>,
}

/// Files analysed together.
#[derive(Clone, Debug, Default)]
pub struct Unit {
    /// The files, in a stable order (by path).
    pub files: Vec<UnitFile>,
    /// The files whose diagnostics this analysis decides: the changed file and the files that depend on it.
    pub targets: Vec<Url>,
}

impl Unit {
    /// A hash of everything the analysis reads, to reuse an analysis of identical input.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for file in &self.files {
            file.uri.as_str().hash(&mut hasher);
            file.module.hash(&mut hasher);
            file.text.hash(&mut hasher);
        }
        hasher.finish()
    }

    /// The files as the compiler takes them (named by their path, or their URI when they have none).
    pub fn sources(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .map(|file| {
                let mut source = SourceFile::new(display_name(&file.uri), &file.module, &file.text);
                source.invalid_utf8_at = file.invalid_utf8_at;
                source
            })
            .collect()
    }
}

/// How a file is named in messages: its path for `file:` URIs, else the URI.
pub fn display_name(uri: &Url) -> String {
    uri.to_file_path()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|()| uri.to_string())
}

/// Most files a package may have before the server analyses a file alone (a workspace opened at `/`).
const MAX_PACKAGE_FILES: usize = 5_000;

/// The largest file read from disk (an open document may be larger: the editor holds it).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A `.proc` file's bytes from disk: only regular files, only up to [`MAX_FILE_BYTES`]. A request may name any
/// path (`file:///dev/zero`, a pipe, a log of gigabytes); such paths are not read.
fn read_proc_file(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    if path.extension().is_none_or(|ext| ext != "proc") {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

impl Workspace {
    /// The unit to analyse for a file: the file, its dependents, and their imports.
    pub fn unit_for(&self, uri: &Url) -> Unit {
        let package = self.package_of(uri, &self.roots());
        let Some(index) = package.iter().position(|file| &file.uri == uri) else {
            return Unit::default();
        };
        let imports = import_graph(&package);
        // Dependents: reverse edges, breadth first from the changed file.
        let mut dependents = vec![false; package.len()];
        let mut queue = VecDeque::from([index]);
        if let Some(seen) = dependents.get_mut(index) {
            *seen = true;
        }
        while let Some(current) = queue.pop_front() {
            for (file, targets) in imports.iter().enumerate() {
                if targets.contains(&current) && !dependents.get(file).copied().unwrap_or(true) {
                    if let Some(seen) = dependents.get_mut(file) {
                        *seen = true;
                    }
                    queue.push_back(file);
                }
            }
        }
        // Then everything those files import.
        let mut included = dependents.clone();
        let mut queue: VecDeque<usize> = (0..package.len())
            .filter(|&file| dependents.get(file).copied().unwrap_or(false))
            .collect();
        while let Some(current) = queue.pop_front() {
            for &target in imports.get(current).map_or(&[][..], Vec::as_slice) {
                if !included.get(target).copied().unwrap_or(true) {
                    if let Some(seen) = included.get_mut(target) {
                        *seen = true;
                    }
                    queue.push_back(target);
                }
            }
        }
        let targets = package
            .iter()
            .enumerate()
            .filter(|(file, _)| dependents.get(*file).copied().unwrap_or(false))
            .map(|(_, file)| file.uri.clone())
            .collect();
        let files = package
            .into_iter()
            .enumerate()
            .filter(|(file, _)| included.get(*file).copied().unwrap_or(false))
            .map(|(_, file)| file)
            .collect();
        Unit { files, targets }
    }

    /// The whole package a file belongs to (for references and rename, which must see every use).
    pub fn package_unit(&self, uri: &Url) -> Unit {
        self.package_unit_with(uri, &self.roots())
    }

    fn package_unit_with(&self, uri: &Url, roots: &Roots) -> Unit {
        let files = self.package_of(uri, roots);
        let targets = files.iter().map(|file| file.uri.clone()).collect();
        Unit { files, targets }
    }

    /// Every package in the workspace folders and every package of an open document.
    pub fn all_packages(&self) -> Vec<Unit> {
        let known = self.roots();
        let mut roots: Vec<PathBuf> = Vec::new();
        let mut loose: Vec<Url> = Vec::new();
        for folder in &self.folders {
            let mut found = Vec::new();
            walk(folder, &mut found, MAX_PACKAGE_FILES);
            for path in found {
                if let Some(root) = self.package_root(&path, &known) {
                    roots.push(root);
                }
            }
        }
        for uri in self.open.keys() {
            match uri
                .to_file_path()
                .ok()
                .and_then(|path| self.package_root(&path, &known))
            {
                Some(root) => roots.push(root),
                None => loose.push(uri.clone()),
            }
        }
        roots.sort();
        roots.dedup();
        let mut units: Vec<Unit> = roots
            .iter()
            .map(|root| {
                let files = self.files_under(root, &known);
                let targets = files.iter().map(|file| file.uri.clone()).collect();
                Unit { files, targets }
            })
            .collect();
        loose.sort();
        for uri in loose {
            units.push(self.package_unit_with(&uri, &known));
        }
        units
    }

    /// The text of a file: the open document's, else the file on disk.
    pub fn text_of(&self, uri: &Url) -> Option<(String, Option<i32>)> {
        self.file_of(uri, None)
            .map(|(text, version, _)| (text, version))
    }

    /// The text of a file, its version if it is open, and for a file on disk that is not valid UTF-8 where its
    /// first bad byte was (the text has U+FFFD there, as `procc check` reads it). A file `roots` read from disk
    /// for the same request is not read again.
    fn file_of(
        &self,
        uri: &Url,
        roots: Option<&Roots>,
    ) -> Option<(String, Option<i32>, Option<u32>)> {
        if let Some(document) = self.open.get(uri) {
            return Some((document.text.clone(), Some(document.version), None));
        }
        let path = uri.to_file_path().ok()?;
        let (text, invalid) = match roots.and_then(|roots| roots.read.get(&path)) {
            Some(read) => read.clone(),
            None => disk_text(&path)?,
        };
        Some((text, None, invalid))
    }

    /// Every file of the package of `uri`, the file itself included even if it is not on disk.
    fn package_of(&self, uri: &Url, roots: &Roots) -> Vec<UnitFile> {
        let root = uri
            .to_file_path()
            .ok()
            .and_then(|path| self.package_root(&path, roots));
        let mut files = match &root {
            Some(root) => self.files_under(root, roots),
            None => Vec::new(),
        };
        if !files.iter().any(|file| &file.uri == uri) {
            if let Some((text, version, invalid_utf8_at)) = self.file_of(uri, Some(roots)) {
                let module = uri
                    .to_file_path()
                    .ok()
                    .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| "main".to_string());
                files.push(UnitFile {
                    uri: uri.clone(),
                    module,
                    text,
                    version,
                    invalid_utf8_at,
                });
            }
        }
        files
    }

    /// After a file was deleted: the files of its package that may import it (their text names its module), so
    /// that they are checked again.
    pub fn importers_of_deleted(&self, uri: &Url) -> Vec<Url> {
        let roots = self.roots();
        let Some((root, path)) = uri
            .to_file_path()
            .ok()
            .and_then(|path| Some((self.package_root(&path, &roots)?, path)))
        else {
            return Vec::new();
        };
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let module = module_path(&relative.to_string_lossy());
        self.files_under(&root, &roots)
            .into_iter()
            .filter(|file| file.text.contains(module.as_str()))
            .map(|file| file.uri)
            .collect()
    }

    /// The module names of the package of `uri` (for completing `use`), without reading the files.
    pub fn package_modules(&self, uri: &Url) -> Vec<String> {
        let roots = self.roots();
        let Some(root) = uri
            .to_file_path()
            .ok()
            .and_then(|path| self.package_root(&path, &roots))
        else {
            return Vec::new();
        };
        let mut paths = Vec::new();
        walk(&root, &mut paths, MAX_PACKAGE_FILES);
        paths.retain(|path| self.package_root(path, &roots).as_ref() == Some(&root));
        paths
            .iter()
            .map(|path| {
                let relative = path.strip_prefix(&root).unwrap_or(path);
                module_path(&relative.to_string_lossy())
            })
            .collect()
    }

    /// Where packages begin in the workspace folders: for every file that imports modules of its package, the
    /// directory its imports resolve against best (the most of them; of equals, the deepest). A layout such as
    /// `billing/refund.proc` next to `support/main.proc` (which says `use billing.refund…`) has no `.proc` file in
    /// the directory above both, which is still their package, as `procc check` of that directory sees it.
    fn roots(&self) -> Roots {
        let mut preferred = Vec::new();
        let mut read = HashMap::default();
        for folder in &self.folders {
            let mut paths = Vec::new();
            walk(folder, &mut paths, MAX_PACKAGE_FILES);
            for uri in self.open.keys() {
                if let Ok(path) = uri.to_file_path() {
                    if path.starts_with(folder)
                        && path.extension().is_some_and(|ext| ext == "proc")
                        && !paths.contains(&path)
                    {
                        paths.push(path);
                    }
                }
            }
            let known: HashSet<&Path> = paths.iter().map(PathBuf::as_path).collect();
            for path in &paths {
                let open = Url::from_file_path(path)
                    .ok()
                    .and_then(|uri| self.open.get(&uri));
                let text = match open {
                    Some(document) => document.text.as_str(),
                    None => match disk_text(path) {
                        Some(text) => read.entry(path.clone()).or_insert(text).0.as_str(),
                        None => continue,
                    },
                };
                let uses: Vec<String> = use_paths(text)
                    .filter(|path| path != "std" && !path.starts_with("std."))
                    .collect();
                if uses.is_empty() {
                    continue;
                }
                let mut best: Option<(usize, &Path)> = None;
                for dir in path.ancestors().skip(1) {
                    if !dir.starts_with(folder) {
                        break;
                    }
                    let resolved = uses
                        .iter()
                        .filter(|used| {
                            module_prefixes(used).any(|module| {
                                let file = dir.join(format!("{}.proc", module.replace('.', "/")));
                                known.contains(file.as_path())
                            })
                        })
                        .count();
                    if resolved > 0 && best.is_none_or(|(most, _)| resolved > most) {
                        best = Some((resolved, dir));
                    }
                }
                if let Some((_, dir)) = best {
                    preferred.push(dir.to_path_buf());
                }
            }
        }
        preferred.sort();
        preferred.dedup();
        Roots { preferred, read }
    }

    /// The package root of a file on disk: the outermost directory above it that a file's imports resolve against
    /// (see [`Workspace::roots`]); else its directory, extended upwards while the parent directory also holds
    /// `.proc` files (without leaving the workspace folder).
    fn package_root(&self, path: &Path, roots: &Roots) -> Option<PathBuf> {
        let mut root = path.parent()?.to_path_buf();
        let folder = self
            .folders
            .iter()
            .filter(|folder| root.starts_with(folder))
            .max_by_key(|folder| folder.components().count());
        // Outside every workspace folder, the file's own directory is its package (as `procc check DIR`).
        let Some(folder) = folder else {
            return Some(root);
        };
        let outermost = root
            .ancestors()
            .take_while(|dir| dir.starts_with(folder))
            .filter(|dir| roots.preferred.iter().any(|p| p == dir))
            .last();
        if let Some(dir) = outermost {
            return Some(dir.to_path_buf());
        }
        while root != *folder {
            let Some(parent) = root.parent() else { break };
            if !parent.starts_with(folder) || !has_proc_files(parent) {
                break;
            }
            root = parent.to_path_buf();
        }
        Some(root)
    }

    /// The files of the package rooted at `root`: on disk, plus open documents under it, without those of
    /// packages nested in it.
    fn files_under(&self, root: &Path, roots: &Roots) -> Vec<UnitFile> {
        let mut paths = Vec::new();
        walk(root, &mut paths, MAX_PACKAGE_FILES);
        for uri in self.open.keys() {
            if let Ok(path) = uri.to_file_path() {
                if path.starts_with(root)
                    && path.extension().is_some_and(|ext| ext == "proc")
                    && !paths.contains(&path)
                {
                    paths.push(path);
                }
            }
        }
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter(|path| self.package_root(path, roots).as_deref() == Some(root))
            .filter_map(|path| {
                let uri = Url::from_file_path(&path).ok()?;
                let (text, version, invalid_utf8_at) = self.file_of(&uri, Some(roots))?;
                let relative = path.strip_prefix(root).unwrap_or(&path);
                Some(UnitFile {
                    uri,
                    module: module_path(&relative.to_string_lossy()),
                    text,
                    version,
                    invalid_utf8_at,
                })
            })
            .collect()
    }
}

/// Where packages begin: directories that files' imports resolve against (see [`Workspace::roots`]).
struct Roots {
    preferred: Vec<PathBuf>,
    /// The files read from disk to find them (text, first bad UTF-8 byte), so the same request reads them once.
    read: HashMap<PathBuf, (String, Option<u32>)>,
}

/// A `.proc` file's text from disk, as the compiler reads it: invalid UTF-8 becomes U+FFFD, and where the first
/// bad byte was is kept for `P0006`.
fn disk_text(path: &Path) -> Option<(String, Option<u32>)> {
    let bytes = read_proc_file(path)?;
    let (text, invalid) = proc_compiler::source::decode_utf8(&bytes);
    Some((
        text,
        invalid.map(|at| u32::try_from(at).unwrap_or(u32::MAX)),
    ))
}

/// The module paths named by a text's `use` lines, read without parsing (`billing.refund.` for
/// `use billing.refund.{A, B}`, `std.calendar.Support` for an item).
fn use_paths(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix("use")?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        Some(
            rest.trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect(),
        )
    })
}

/// Every prefix of a dotted path (`a`, `a.b`, `a.b.c`): a `use` names a module, perhaps followed by an item.
fn module_prefixes(path: &str) -> impl Iterator<Item = &str> + '_ {
    path.match_indices('.')
        .map(|(at, _)| path.get(..at).unwrap_or_default())
        .chain(std::iter::once(path))
        .filter(|prefix| !prefix.is_empty() && !prefix.ends_with('.'))
}

/// For each file, the files of the package it imports. Read from `use` lines without parsing: a `use` names a
/// module path, perhaps followed by an item, so every prefix of the path that names a module counts.
fn import_graph(files: &[UnitFile]) -> Vec<Vec<usize>> {
    let by_module: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(index, file)| (file.module.as_str(), index))
        .collect();
    files
        .iter()
        .map(|file| {
            let mut targets = HashSet::default();
            for path in use_paths(&file.text) {
                for prefix in module_prefixes(&path) {
                    if let Some(&target) = by_module.get(prefix) {
                        targets.insert(target);
                    }
                }
            }
            let mut targets: Vec<usize> = targets.into_iter().collect();
            targets.sort_unstable();
            targets
        })
        .collect()
}

fn has_proc_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.path().extension().is_some_and(|ext| ext == "proc"))
    })
}

/// Most directory entries one search looks at (a file opened in a home directory must not scan the disk).
const MAX_ENTRIES_SEEN: usize = 50_000;

/// `.proc` files under a directory, skipping hidden directories, `target` and `node_modules`; at most `limit`.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, limit: usize) {
    let mut seen = 0;
    walk_counted(dir, found, limit, &mut seen);
}

fn walk_counted(dir: &Path, found: &mut Vec<PathBuf>, limit: usize, seen: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        *seen += 1;
        if found.len() >= limit || *seen > MAX_ENTRIES_SEEN {
            return;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk_counted(&path, found, limit, seen),
            Ok(kind) if kind.is_file() && path.extension().is_some_and(|ext| ext == "proc") => {
                found.push(path);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(module: &str, text: &str) -> UnitFile {
        UnitFile {
            uri: Url::parse(&format!("file:///p/{}.proc", module.replace('.', "/")))
                .unwrap_or_else(|_| Url::parse("file:///p/x.proc").expect("a valid URI")),
            module: module.to_string(),
            text: text.to_string(),
            version: None,
            invalid_utf8_at: None,
        }
    }

    #[test]
    fn imports_are_read_from_use_lines() {
        let files = vec![
            file("a", "use billing.refund.{Refund}\nuse std.calendar.*\n"),
            file("billing.refund", "use c.X\n"),
            file("c", "// use a.b is a comment\nrole X\n"),
        ];
        assert_eq!(import_graph(&files), vec![vec![1], vec![2], vec![]]);
    }

    /// Writes files under a fresh directory and returns it.
    fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("proc-lsp-roots-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root.canonicalize().unwrap()
    }

    fn modules(workspace: &Workspace, path: &Path) -> Vec<String> {
        let uri = Url::from_file_path(path).unwrap();
        workspace
            .unit_for(&uri)
            .files
            .iter()
            .map(|f| f.module.clone())
            .collect()
    }

    /// Modules in sibling directories with no `.proc` file above them are one package when one imports the
    /// other, as `procc check` of the directory above sees them: with that directory as the workspace folder, or
    /// with a folder above it.
    #[test]
    fn sibling_directories_that_import_each_other_are_one_package() {
        let root = tree(
            "siblings",
            &[
                ("pkgm/billing/refund.proc", "role Clerk\n"),
                ("pkgm/support/main.proc", "use billing.refund.{Clerk}\n"),
            ],
        );
        for folder in [root.join("pkgm"), root.clone()] {
            let workspace = Workspace {
                folders: vec![folder],
                ..Workspace::default()
            };
            let main = root.join("pkgm/support/main.proc");
            assert_eq!(
                modules(&workspace, &main),
                vec!["billing.refund", "support.main"]
            );
            let refund = root.join("pkgm/billing/refund.proc");
            assert_eq!(
                modules(&workspace, &refund),
                vec!["billing.refund", "support.main"]
            );
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A stray file at the top of the workspace does not pull a package below it into one with longer module
    /// names: the package is where its imports resolve, and the stray file is a package of its own.
    #[test]
    fn a_stray_file_above_a_package_is_a_package_of_its_own() {
        let root = tree(
            "stray",
            &[
                ("notes.proc", "role Note\n"),
                ("procs/b.proc", "use a.x.{X}\n"),
                ("procs/a/x.proc", "role X\n"),
            ],
        );
        let workspace = Workspace {
            folders: vec![root.clone()],
            ..Workspace::default()
        };
        assert_eq!(
            modules(&workspace, &root.join("procs/b.proc")),
            vec!["a.x", "b"]
        );
        assert_eq!(
            modules(&workspace, &root.join("procs/a/x.proc")),
            vec!["a.x", "b"]
        );
        assert_eq!(modules(&workspace, &root.join("notes.proc")), vec!["notes"]);
        let units = workspace.all_packages();
        assert_eq!(units.len(), 2, "{units:?}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
