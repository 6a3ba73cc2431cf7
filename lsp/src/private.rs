//! Files the server writes for the editor to open (the standard library's sources for "go to definition", the
//! explanations of diagnostic codes): in a directory of the user's own, and never written through a link that
//! someone else planted there.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory `proc/NAME-VERSION` under the user's cache directory (`$XDG_CACHE_HOME`, else `~/.cache`;
/// `%LOCALAPPDATA%` on Windows), or, without one, a new directory of this process under the system's temporary
/// directory. Never a shared, predictable path under `/tmp`.
pub fn private_dir(name: &str) -> Option<PathBuf> {
    let versioned = format!("{name}-{}", env!("CARGO_PKG_VERSION"));
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    let cache = absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .or_else(|| absolute("LOCALAPPDATA"));
    if let Some(cache) = cache {
        let dir = cache.join("proc").join(&versioned);
        if std::fs::create_dir_all(&dir).is_ok() {
            return Some(dir);
        }
    }
    // `create_dir` fails if the path exists (as a directory or a link), so the directory is this process's own.
    let temp = std::env::temp_dir();
    (0..100).find_map(|attempt| {
        let dir = temp.join(format!("{versioned}-{}-{attempt}", std::process::id()));
        std::fs::create_dir(&dir).ok().map(|()| dir)
    })
}

/// Writes `text` to `path` unless it already holds it, through a new file renamed over `path`: a link at `path`
/// is replaced, never followed.
pub fn write_file(path: &Path, text: &str) -> Option<()> {
    let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file());
    if regular && std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Some(());
    }
    let parent = path.parent()?;
    std::fs::create_dir_all(parent).ok()?;
    let name = path.file_name()?.to_string_lossy();
    let temp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover of an earlier run (or anything else at that name) is removed, not written through.
    let _ = std::fs::remove_file(&temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .ok()?;
    if file.write_all(text.as_bytes()).is_err() {
        let _ = std::fs::remove_file(&temp);
        return None;
    }
    drop(file);
    std::fs::rename(&temp, path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link planted where a file is written is replaced by the file; what it pointed to is not touched.
    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let dir = std::env::temp_dir().join(format!("proc-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.join("escalation.proc");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_file(&target, "role Supervisor\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(
            std::fs::symlink_metadata(&target)
                .unwrap()
                .file_type()
                .is_file()
        );
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "role Supervisor\n"
        );
        // Written again with the same text: nothing changes.
        write_file(&target, "role Supervisor\n").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_directory_is_not_a_shared_temporary_path() {
        let dir = private_dir("proc-test").unwrap();
        assert!(dir.is_dir());
        assert_ne!(
            dir,
            std::env::temp_dir().join(format!("proc-test-{}", env!("CARGO_PKG_VERSION")))
        );
    }
}
