//! `procc graph`: a flowchart per process and procedure, as Mermaid, Graphviz DOT or a standalone SVG.

use crate::files::errln;
use crate::files::{error_free_packages, write_stdout};
use crate::{ColorChoice, use_color};
use clap::ValueEnum;
use proc_compiler::graph::{self, Flowchart};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `procc graph` writes.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    /// Mermaid `flowchart` text (GitHub, GitLab and many wikis draw it).
    Mermaid,
    /// Graphviz DOT text (`dot -Tpng`).
    Dot,
    /// A standalone SVG image, laid out by procc (no Graphviz needed).
    Svg,
}

impl GraphFormat {
    fn extension(self) -> &'static str {
        match self {
            GraphFormat::Mermaid => "mmd",
            GraphFormat::Dot => "dot",
            GraphFormat::Svg => "svg",
        }
    }

    fn render(self, chart: &Flowchart) -> String {
        match self {
            GraphFormat::Mermaid => graph::to_mermaid(chart),
            GraphFormat::Dot => graph::to_dot(chart),
            GraphFormat::Svg => graph::to_svg(chart),
        }
    }
}

/// Runs `procc graph`.
pub fn run(
    paths: &[PathBuf],
    format: GraphFormat,
    output: Option<&Path>,
    only: Option<&str>,
    color: ColorChoice,
) -> ExitCode {
    let packages =
        match error_free_packages(paths, use_color(color), "fix them to draw its flowcharts") {
            Ok(packages) => packages,
            Err(code) => return code,
        };
    let mut charts = Vec::new();
    for (_, analysis) in &packages {
        charts.extend(graph::flowcharts(analysis));
    }
    if let Some(only) = only {
        let names: std::collections::BTreeSet<String> = charts
            .iter()
            .map(|chart| format!("`{}`", chart.name))
            .collect();
        charts.retain(|chart| chart.name == only);
        if charts.is_empty() {
            errln!("error: no process or procedure named `{only}`");
            if !names.is_empty() {
                errln!(
                    "help: the package has {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            return ExitCode::from(2);
        }
    }
    if charts.is_empty() {
        errln!("error: there is no process or procedure to draw");
        return ExitCode::from(1);
    }
    // `-o -` is standard output, as for `procc build`.
    match output.filter(|dir| dir.as_os_str() != "-") {
        None => {
            if format == GraphFormat::Svg && charts.len() > 1 {
                errln!(
                    "error: {} flowcharts cannot go to standard output as one SVG",
                    charts.len()
                );
                errln!(
                    "help: write them to a directory with `-o DIR`, or pick one with `--process NAME`"
                );
                return ExitCode::from(2);
            }
            let text: Vec<String> = charts.iter().map(|chart| format.render(chart)).collect();
            write_stdout(&text.join("\n"));
        }
        Some(dir) => {
            // Two packages with a module and flow of the same names would overwrite one chart with the other.
            let mut files = std::collections::BTreeSet::new();
            for chart in &charts {
                if !files.insert((chart.module.as_str(), chart.name.as_str())) {
                    errln!(
                        "error: two packages both have `{}` in module `{}`: one flowchart would overwrite the other",
                        chart.name,
                        chart.module
                    );
                    errln!("help: draw them one package at a time, each with its own `-o`");
                    return ExitCode::from(2);
                }
            }
            if let Err(code) = crate::files::output_dir(
                dir,
                "`-o` takes a directory for the flowcharts",
                "give a directory, or `-o -` for standard output",
            ) {
                return code;
            }
            for chart in &charts {
                let file = dir.join(format!(
                    "{}.{}.{}",
                    chart.module,
                    chart.name,
                    format.extension()
                ));
                if let Err(error) = std::fs::write(&file, format.render(chart)) {
                    errln!("error: cannot write `{}`: {error}", file.display());
                    return ExitCode::from(2);
                }
            }
            errln!(
                "wrote {} flowchart{} to `{}`",
                charts.len(),
                if charts.len() == 1 { "" } else { "s" },
                dir.display()
            );
        }
    }
    ExitCode::SUCCESS
}
