//! Positions: the compiler speaks byte offsets, LSP speaks UTF-16 line/character pairs. This is the only place
//! that converts between them.

use proc_compiler::{SourceFile, Span};
use tower_lsp::lsp_types::{Position, Range};

/// A position as LSP defines it: 0-based line and 0-based character offset in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Utf16Position {
    /// 0-based line.
    pub line: u32,
    /// 0-based column in UTF-16 code units.
    pub character: u32,
}

/// The LSP position of a byte offset. Offsets inside a multi-byte character point at that character.
pub fn to_utf16(file: &SourceFile, offset: u32) -> Utf16Position {
    let line = file.line_index(offset);
    let start = file.line_start(line) as usize;
    let mut end = (offset as usize).clamp(start, file.text.len());
    // Inside a multi-byte character: that character.
    while !file.text.is_char_boundary(end) {
        end -= 1;
    }
    // ASCII lines (nearly all) have one UTF-16 unit per byte, and the file knows which lines those are without
    // reading them: thousands of positions on one long line stay quick to convert.
    let character = if file.line_is_ascii(line) {
        end - start
    } else {
        let prefix = file.text.get(start..end).unwrap_or("");
        prefix.chars().map(char::len_utf16).sum::<usize>()
    };
    Utf16Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(character).unwrap_or(u32::MAX),
    }
}

/// The byte offset of an LSP position. Positions past the end of a line clamp to the line's end (before its
/// newline); lines past the end of the file clamp to the end of the file, as the protocol asks.
pub fn from_utf16(file: &SourceFile, position: Utf16Position) -> u32 {
    let line = position.line as usize;
    if line >= file.line_count() {
        return u32::try_from(file.text.len()).unwrap_or(u32::MAX);
    }
    let start = file.line_start(line) as usize;
    let end = (file.line_end(line) as usize).max(start);
    if file.line_is_ascii(line) {
        let at = start + (end - start).min(position.character as usize);
        return u32::try_from(at).unwrap_or(u32::MAX);
    }
    let line_text = file.text.get(start..end).unwrap_or("");
    let mut units = 0usize;
    for (index, ch) in line_text.char_indices() {
        if units >= position.character as usize {
            return u32::try_from(start + index).unwrap_or(u32::MAX);
        }
        units += ch.len_utf16();
    }
    u32::try_from(start + line_text.len()).unwrap_or(u32::MAX)
}

/// The LSP position of a byte offset.
pub fn position(file: &SourceFile, offset: u32) -> Position {
    let at = to_utf16(file, offset);
    Position::new(at.line, at.character)
}

/// The byte offset of an LSP position.
pub fn offset(file: &SourceFile, position: Position) -> u32 {
    from_utf16(
        file,
        Utf16Position {
            line: position.line,
            character: position.character,
        },
    )
}

/// The LSP range of a span.
pub fn range(file: &SourceFile, span: Span) -> Range {
    Range::new(position(file, span.start), position(file, span.end))
}

/// The span of an LSP range (its ends swapped if the client sent them backwards).
pub fn span(file: &SourceFile, range: Range) -> Span {
    let start = offset(file, range.start);
    let end = offset(file, range.end);
    Span {
        start: start.min(end),
        end: start.max(end),
    }
}

/// The byte offset of an LSP position in plain text (for applying edits before the text is a [`SourceFile`]).
/// Positions past a line's end clamp to it; lines past the end clamp to the end of the text.
pub fn text_offset(text: &str, position: Position) -> usize {
    let mut line_start = 0usize;
    for _ in 0..position.line {
        match text.get(line_start..).and_then(|rest| rest.find('\n')) {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let line = text.get(line_start..).unwrap_or("");
    let line = line.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0usize;
    for (index, ch) in line.char_indices() {
        if units >= position.character as usize {
            return line_start + index;
        }
        units += ch.len_utf16();
    }
    line_start + line.len()
}

/// Applies one `didChange` content change: a range edit, or the whole text when `range` is absent.
pub fn apply_change(text: &mut String, range: Option<Range>, new_text: &str) {
    match range {
        Some(range) => {
            let start = text_offset(text, range.start);
            let end = text_offset(text, range.end);
            let (start, end) = (start.min(end), start.max(end));
            text.replace_range(start..end, new_text);
        }
        None => {
            text.clear();
            text.push_str(new_text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every offset of a line that is ASCII up to some point and not after it converts both ways, whichever of the
    /// two ways (ASCII or character by character) each conversion takes; an offset inside a character is that
    /// character.
    #[test]
    fn ascii_and_other_text_on_one_line_agree() {
        let text = "role A role B note \"é😀 ok\" x\nnext";
        let file = SourceFile::new("t.proc", "t", text);
        let mut units = 0;
        for (index, ch) in text.char_indices().take_while(|(_, ch)| *ch != '\n') {
            let at = u32::try_from(index).unwrap();
            assert_eq!(
                to_utf16(&file, at),
                Utf16Position {
                    line: 0,
                    character: units
                }
            );
            assert_eq!(
                from_utf16(
                    &file,
                    Utf16Position {
                        line: 0,
                        character: units
                    }
                ),
                at
            );
            for inside in 1..ch.len_utf8() {
                let inside = u32::try_from(index + inside).unwrap();
                assert_eq!(to_utf16(&file, inside).character, units);
            }
            units += u32::try_from(ch.len_utf16()).unwrap();
        }
        let next = u32::try_from(text.find("next").unwrap()).unwrap();
        assert_eq!(
            from_utf16(
                &file,
                Utf16Position {
                    line: 1,
                    character: 99
                }
            ),
            next + 4
        );
    }

    #[test]
    fn round_trips_non_ascii_text() {
        // `é` is 2 bytes and 1 UTF-16 unit; `😀` is 4 bytes and 2 UTF-16 units.
        let text = "role Agent\nstep é😀x {\n}\n";
        let file = SourceFile::new("t.proc", "t", text);
        let x = u32::try_from(text.find('x').unwrap()).unwrap();
        let position = to_utf16(&file, x);
        assert_eq!(
            position,
            Utf16Position {
                line: 1,
                character: 8
            }
        );
        assert_eq!(from_utf16(&file, position), x);
    }

    #[test]
    fn applies_incremental_changes_in_utf16_units() {
        let mut text = "a😀b\nsecond\r\nthird".to_string();
        // Replace `b` (after a 2-unit emoji) with `XY`.
        apply_change(
            &mut text,
            Some(Range::new(Position::new(0, 3), Position::new(0, 4))),
            "XY",
        );
        assert_eq!(text, "a😀XY\nsecond\r\nthird");
        // An edit spanning a CRLF line end, with the range's ends swapped.
        apply_change(
            &mut text,
            Some(Range::new(Position::new(2, 1), Position::new(1, 6))),
            "-",
        );
        assert_eq!(text, "a😀XY\nsecond-hird");
        // Past the end clamps; a missing range replaces everything.
        apply_change(
            &mut text,
            Some(Range::new(Position::new(9, 0), Position::new(9, 0))),
            "!",
        );
        assert_eq!(text, "a😀XY\nsecond-hird!");
        apply_change(&mut text, None, "new");
        assert_eq!(text, "new");
    }

    #[test]
    fn clamps_out_of_range_positions() {
        let file = SourceFile::new("t.proc", "t", "ab\r\ncd");
        assert_eq!(
            from_utf16(
                &file,
                Utf16Position {
                    line: 0,
                    character: 99
                }
            ),
            2
        );
        assert_eq!(
            from_utf16(
                &file,
                Utf16Position {
                    line: 9,
                    character: 0
                }
            ),
            6
        );
        assert_eq!(
            to_utf16(&file, 99),
            Utf16Position {
                line: 1,
                character: 2
            }
        );
    }
}
