//! "Did you mean …?": the closest known name to a misspelled one.

/// Edit distance between two short strings, counted in characters: insertions, deletions, substitutions and
/// swaps of two neighbouring characters (`stpe` → `step`) each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = table.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = table.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let get = |i: usize, j: usize| table.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut best = (get(i - 1, j) + 1)
                .min(get(i, j - 1) + 1)
                .min(get(i - 1, j - 1) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                best = best.min(get(i - 2, j - 2) + 1);
            }
            if let Some(cell) = table.get_mut(at(i, j)) {
                *cell = best;
            }
        }
    }
    table.get(at(a.len(), b.len())).copied().unwrap_or(0)
}

/// The candidate closest to `name`, if it is close enough to be a likely typo (at most a third of the name's
/// length, and at least one edit; a difference in case only counts nothing). A name written in the other style
/// (`UkWorkingDays` for `working_days`: types, roles and calendars are capitalised, procedures and fields are
/// not) costs two edits more.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    let capital = |text: &str| text.chars().next().is_some_and(char::is_uppercase);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            let distance = if candidate.to_lowercase() == lower {
                0
            } else {
                edit_distance(&lower, &candidate.to_lowercase())
                    + if capital(candidate) == capital(name) {
                        0
                    } else {
                        2
                    }
            };
            (distance <= limit).then_some((distance, candidate))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, candidate)| candidate)
}

/// Where a new `use` line goes in a file, as `(offset, before, after)`: the line is `before`, `use …`, `after`
/// inserted at `offset`. After the line that ends the last `use` (at a line start, so a half-typed `use` or a
/// comment after one is never split), else above the first declaration and its doc comment (below a header
/// comment), followed by a blank line. Line ends are the file's own (CRLF in a Windows file).
pub fn use_insertion(text: &str, items: &[crate::ast::Item]) -> (u32, &'static str, &'static str) {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let last_use = items
        .iter()
        .filter(|i| matches!(i.kind, crate::ast::ItemKind::Use(_)))
        .map(|i| i.span.end as usize)
        .max();
    let at = |offset: usize| u32::try_from(offset.min(text.len())).unwrap_or(u32::MAX);
    if let Some(end) = last_use {
        return match text.get(end..).and_then(|rest| rest.find('\n')) {
            Some(newline_at) => (at(end + newline_at + 1), "", newline),
            None => (at(text.len()), newline, ""),
        };
    }
    let Some(first) = items.first() else {
        return (0, "", newline);
    };
    // The start of the first declaration's line, moved up over its `///` lines.
    let line_start = |offset: usize| {
        text.get(..offset)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline_at| newline_at + 1)
    };
    let mut start = line_start(first.span.start as usize);
    while start > 0 {
        let previous = line_start(start - 1);
        let is_doc = text
            .get(previous..start)
            .is_some_and(|line| line.trim_start().starts_with("///"));
        if !is_doc {
            break;
        }
        start = previous;
    }
    (
        at(start),
        "",
        if newline == "\r\n" {
            "\r\n\r\n"
        } else {
            "\n\n"
        },
    )
}

/// How Proc writes a type or value that another language spells `name` (`String` → `Text`, `True` → `true`), for
/// a name of kind `what` ("type" or "name") that is not declared.
pub fn foreign_spelling(what: &str, name: &str) -> Option<&'static str> {
    match what {
        "type" => match name {
            "String" | "string" | "str" | "Str" | "Char" | "char" => Some("Text"),
            "int" | "Integer" | "integer" | "i32" | "i64" | "u32" | "u64" | "Number" | "number"
            | "Long" | "long" => Some("Int"),
            "bool" | "Boolean" | "boolean" => Some("Bool"),
            "DateTime" | "Datetime" | "datetime" | "Timestamp" | "timestamp" | "Instant" => {
                Some("Time")
            }
            _ => None,
        },
        "name" => match name {
            "True" | "TRUE" => Some("true"),
            "False" | "FALSE" => Some("false"),
            "null" | "nil" | "None" | "NULL" | "undefined" | "Nothing" => Some("none"),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("Supervsor", "Supervisor"), 1);
        assert_eq!(edit_distance("stpe", "step"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_picks_a_near_name() {
        let names = ["Agent", "Supervisor", "Manager"];
        assert_eq!(closest("Supervsor", names), Some("Supervisor"));
        assert_eq!(closest("agent", names), Some("Agent"));
        assert_eq!(closest("Customer", names), None);
    }

    #[test]
    fn a_name_in_the_other_style_is_rarely_meant() {
        let names = ["working_days", "EnglandWorkingDays"];
        assert_eq!(closest("UkWorkingDays", names), None);
        assert_eq!(closest("workingdays", names), Some("working_days"));
    }

    /// Applies `use_insertion` for `use std.escalation.Supervisor` to `text`.
    fn with_import(text: &str) -> String {
        let file = crate::source::FileId(0);
        let lexed = crate::lexer::lex(file, text);
        let (ast, _) = crate::parser::parse(file, text.len(), &lexed);
        let (offset, before, after) = use_insertion(text, &ast.items);
        let (head, tail) = text.split_at(offset as usize);
        format!("{head}{before}use std.escalation.Supervisor{after}{tail}")
    }

    #[test]
    fn a_new_use_line_never_splits_a_line_and_keeps_the_line_ends() {
        // After the last `use`, at the start of the next line: a comment after it stays where it was.
        assert_eq!(
            with_import("use std.kpi.escalations // measured\n\nrole Agent\n"),
            "use std.kpi.escalations // measured\nuse std.escalation.Supervisor\n\nrole Agent\n"
        );
        // A `use` being typed is not split.
        let typed = with_import("use std.kpi.{escalations\n\n/// Agents.\nrole Agent\n");
        assert!(
            typed
                .lines()
                .any(|line| line == "use std.escalation.Supervisor"),
            "{typed}"
        );
        // Without a `use`: below a header comment, above the first declaration's doc comment.
        assert_eq!(
            with_import("// Header.\n\n/// Agents.\nrole Agent\n"),
            "// Header.\n\nuse std.escalation.Supervisor\n\n/// Agents.\nrole Agent\n"
        );
        // A Windows file gets CRLF.
        assert_eq!(
            with_import("use std.kpi.escalations\r\nrole Agent\r\n"),
            "use std.kpi.escalations\r\nuse std.escalation.Supervisor\r\nrole Agent\r\n"
        );
        assert_eq!(
            with_import("role Agent\r\n"),
            "use std.escalation.Supervisor\r\n\r\nrole Agent\r\n"
        );
        // A last `use` without a line end.
        assert_eq!(
            with_import("use std.kpi.escalations"),
            "use std.kpi.escalations\nuse std.escalation.Supervisor"
        );
    }
}
