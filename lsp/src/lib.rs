//! The Proc language server (issue 4 builds the tower-lsp service on top of this crate).
//!
//! Today it holds the one piece every LSP feature needs first: converting the compiler's byte offsets to the
//! UTF-16 line/character positions the protocol uses, and back. This is the only place that conversion happens.

use proc_compiler::SourceFile;

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
    let end = (offset as usize).min(file.text.len());
    let character = file
        .text
        .get(start..)
        .unwrap_or("")
        .char_indices()
        .take_while(|(index, _)| start + index < end)
        .map(|(_, ch)| ch.len_utf16())
        .sum::<usize>();
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
    let line_text = file.text.get(start..).unwrap_or("");
    let line_text = line_text.split('\n').next().unwrap_or("");
    let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
    let mut units = 0usize;
    for (index, ch) in line_text.char_indices() {
        if units >= position.character as usize {
            return u32::try_from(start + index).unwrap_or(u32::MAX);
        }
        units += ch.len_utf16();
    }
    u32::try_from(start + line_text.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
