//! Source files, byte spans and line/column conversion.
//!
//! Spans are byte offsets into one file's text everywhere in the compiler; line/column (and the LSP's UTF-16
//! positions) are computed only at the edges, from a [`SourceFile`]'s line table.

use std::ops::Range;

/// Index of a file inside a [`crate::Package`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` inside one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// As a `usize` range.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// True if `offset` lies inside the span (the end included, so a cursor just after a name finds it).
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }

    /// Length in bytes.
    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// True for an empty span.
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

impl From<chumsky::span::SimpleSpan> for Span {
    fn from(span: chumsky::span::SimpleSpan) -> Self {
        Span::new(span.start, span.end)
    }
}

/// A 1-based line and column (the column counts Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// One `.proc` file: its display name, module path and text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// How the file is shown in diagnostics (usually its path).
    pub name: String,
    /// The module path, e.g. `billing.refund` (file `billing/refund.proc`) or `std.calendar`.
    pub module: String,
    /// The text.
    pub text: String,
    /// Byte offset of the first invalid UTF-8 sequence, if the file was not valid UTF-8 (reported as `P0006`).
    pub invalid_utf8_at: Option<u32>,
    line_starts: Vec<u32>,
    /// The 0-based lines that hold a character outside ASCII, in order (usually none).
    wide_lines: Vec<u32>,
}

impl SourceFile {
    /// A file with its display name, module path and text.
    pub fn new(
        name: impl Into<String>,
        module: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        let mut wide_lines: Vec<u32> = Vec::new();
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            } else if !b.is_ascii() {
                let line = u32::try_from(line_starts.len() - 1).unwrap_or(u32::MAX);
                if wide_lines.last() != Some(&line) {
                    wide_lines.push(line);
                }
            }
        }
        SourceFile {
            name: name.into(),
            module: module.into(),
            text,
            invalid_utf8_at: None,
            line_starts,
            wide_lines,
        }
    }

    /// A file from raw bytes: invalid UTF-8 is replaced by U+FFFD and remembered for `P0006`.
    pub fn from_bytes(name: impl Into<String>, module: impl Into<String>, bytes: &[u8]) -> Self {
        let (text, invalid) = decode_utf8(bytes);
        let mut file = SourceFile::new(name, module, text);
        file.invalid_utf8_at = invalid.map(|offset| u32::try_from(offset).unwrap_or(u32::MAX));
        file
    }

    /// The text under a span (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The text under a span on one line: its runs of whitespace (line breaks too) become one space, as
    /// documents and hovers quote source text.
    pub fn slice_one_line(&self, span: Span) -> String {
        self.slice(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        }
    }

    /// Byte offset where a 0-based line starts.
    pub fn line_start(&self, line: usize) -> u32 {
        self.line_starts
            .get(line)
            .copied()
            .unwrap_or(u32::try_from(self.text.len()).unwrap_or(u32::MAX))
    }

    /// Whether a 0-based line is all ASCII (one byte, one character, one UTF-16 unit): known without reading it.
    pub fn line_is_ascii(&self, line: usize) -> bool {
        u32::try_from(line).map_or(true, |line| self.wide_lines.binary_search(&line).is_err())
    }

    /// The byte offset where a 0-based line ends, before its line break (`\n`, or `\r\n`).
    pub fn line_end(&self, line: usize) -> u32 {
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next as usize - 1);
        let start = self.line_start(line) as usize;
        let end = if end > start && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        u32::try_from(end).unwrap_or(u32::MAX)
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let line = self.line_index(offset);
        let start = self.line_start(line) as usize;
        let end = (offset as usize).min(self.text.len());
        let column = if self.line_is_ascii(line) {
            end.saturating_sub(start)
        } else {
            self.text
                .get(start..end)
                .map_or(end.saturating_sub(start), |prefix| prefix.chars().count())
        };
        LineCol {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

/// Decodes file bytes as UTF-8. Invalid sequences become U+FFFD; the byte offset of the first one is returned
/// so the caller can report `P0006`.
pub fn decode_utf8(bytes: &[u8]) -> (String, Option<usize>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(error) => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(error.valid_up_to()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let file = SourceFile::new("a.proc", "a", "ab\nüx\n");
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(3), LineCol { line: 2, column: 1 });
        // `x` comes after the two-byte `ü`.
        assert_eq!(file.line_col(5), LineCol { line: 2, column: 2 });
        assert_eq!(file.line_col(7), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn decode_reports_first_invalid_byte() {
        let (text, bad) = decode_utf8(b"role A\xff");
        assert_eq!(bad, Some(6));
        assert!(text.starts_with("role A"));
    }
}
