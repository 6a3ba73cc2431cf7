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
