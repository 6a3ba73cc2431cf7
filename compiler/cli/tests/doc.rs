//! `procc doc` from the outside: a manual per package in Markdown and HTML, an index, and broken packages.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::procc;

#[test]
fn writes_markdown_html_and_an_index() {
    let dir = std::env::temp_dir().join(format!("procc-doc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = procc(&["doc", "examples/", "-o", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["examples.md", "examples.html", "index.md", "index.html"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let markdown = std::fs::read_to_string(dir.join("examples.md")).unwrap();
    for process in ["complaint", "incident", "inquiry", "onboarding", "refund"] {
        assert!(
            markdown.contains(&format!(
                "## Process {process} <a id=\"process-{process}\"></a>"
            )),
            "{process}"
        );
    }
    assert!(markdown.contains("### Roles and responsibilities"));
    assert!(markdown.contains("```mermaid"));
    let html = std::fs::read_to_string(dir.join("examples.html")).unwrap();
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let index = std::fs::read_to_string(dir.join("index.md")).unwrap();
    assert_eq!(
        index,
        "# Standard operating procedures\n\n- [examples: standard operating procedures](examples.md)\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_package_gets_no_manual_and_output_is_required() {
    let dir = std::env::temp_dir().join(format!("procc-doc-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.proc");
    std::fs::write(
        &file,
        "role Agent\nprocess p() {\n  step s \"Do it\" { by Agnet }\n}\n",
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = procc(&[
        "doc",
        file.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown role `Agnet`"), "{stderr}");
    assert!(!out_dir.exists());
    let out = procc(&["doc", "examples/"]);
    assert_eq!(out.status.code(), Some(2), "-o is required");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two packages of one name, or a package named `index`, would overwrite a page: refused before anything is
/// written. `-o -` cannot hold a directory of pages.
#[test]
fn pages_that_would_overwrite_each_other_are_refused() {
    let dir = common::temp_dir("doc-clash");
    let source =
        "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    for package in ["a/pkg", "b/pkg", "c/index"] {
        std::fs::create_dir_all(dir.join(package)).unwrap();
        std::fs::write(dir.join(package).join("p.proc"), source).unwrap();
    }
    let out = dir.join("out");
    for (packages, says) in [
        (["a/pkg", "b/pkg"], "two packages are named `pkg`"),
        (
            ["a/pkg", "c/index"],
            "the package `index`'s manual and the index page",
        ),
    ] {
        let mut args = vec!["doc".to_string()];
        args.extend(packages.iter().map(|p| dir.join(p).display().to_string()));
        args.extend(["-o".to_string(), out.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = procc(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!out.exists());
    }
    let run = procc(&["doc", dir.join("a/pkg").to_str().unwrap(), "-o", "-"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(!root_has_dash());
    // `-o` naming a file: refused, and the file is left as it was.
    std::fs::write(&out, "notes").unwrap();
    let run = procc(&[
        "doc",
        dir.join("a/pkg").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is a file, and `procc doc` writes a directory of pages there"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "notes");
}

fn root_has_dash() -> bool {
    common::root().join("-").exists()
}
