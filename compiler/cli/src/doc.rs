//! `procc doc`: the SOP manual of each package, as Markdown and as a standalone HTML page, plus an index.

use crate::files::errln;
use crate::files::error_free_packages;
use crate::{ColorChoice, use_color};
use proc_compiler::doc;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `procc doc`.
pub fn run(paths: &[PathBuf], output: &Path, color: ColorChoice) -> ExitCode {
    let packages = match error_free_packages(
        paths,
        use_color(color),
        "a manual of a broken package would mislead, so none was written",
    ) {
        Ok(packages) => packages,
        Err(code) => return code,
    };
    let manuals: Vec<(String, doc::Manual)> = packages
        .iter()
        .map(|(name, analysis)| (name.clone(), doc::manual(analysis, name)))
        .collect();
    // One page per package and the index: two packages of one name (or one named `index`) would overwrite a page.
    let mut names = std::collections::BTreeSet::from(["index"]);
    for (name, _) in &manuals {
        if !names.insert(name.as_str()) {
            errln!(
                "error: {} would overwrite `{name}.md` and `{name}.html`",
                if name == "index" {
                    "the package `index`'s manual and the index page".to_string()
                } else {
                    format!("two packages are named `{name}`: their manuals")
                }
            );
            errln!("help: write their manuals one at a time, each with its own `-o`");
            return ExitCode::from(2);
        }
    }
    if output.as_os_str() == "-" {
        errln!(
            "error: `procc doc` writes a directory of pages; `-o -` (standard output) cannot hold them"
        );
        errln!("help: give a directory, for example `-o manual`");
        return ExitCode::from(2);
    }
    if let Err(code) = crate::files::output_dir(
        output,
        "`procc doc` writes a directory of pages there",
        "give a directory (it is created if it does not exist)",
    ) {
        return code;
    }
    for (name, manual) in &manuals {
        for (extension, text) in [
            ("md", doc::to_markdown(manual)),
            ("html", doc::to_html(manual)),
        ] {
            let file = output.join(format!("{name}.{extension}"));
            if let Err(error) = std::fs::write(&file, text) {
                errln!("error: cannot write `{}`: {error}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    let (index_md, index_html) = doc::index(&manuals);
    for (file, text) in [("index.md", index_md), ("index.html", index_html)] {
        let path = output.join(file);
        if let Err(error) = std::fs::write(&path, text) {
            errln!("error: cannot write `{}`: {error}", path.display());
            return ExitCode::from(2);
        }
    }
    errln!(
        "wrote the manual{} of {} package{} to `{}` (Markdown and HTML, with index.md and index.html)",
        if manuals.len() == 1 { "" } else { "s" },
        manuals.len(),
        if manuals.len() == 1 { "" } else { "s" },
        output.display()
    );
    ExitCode::SUCCESS
}
