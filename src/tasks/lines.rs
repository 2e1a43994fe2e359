//! Line classification for tasks.md: how the parser and the editor split
//! the file into lines, and what each line is (text, blank, fenced code, an
//! HTML comment), with the list-item, checkbox and heading shapes.

use std::borrow::Cow;

use super::TaskState;

/// The lines of a text as the parser and the editor see them: split on `\n`,
/// without the `\r` of CRLF and without a leading byte-order mark.
pub fn lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// What a line is, once fences and comments are accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ordinary text (its visible part, comments removed).
    Text,
    /// Blank, or only a comment.
    Blank,
    /// A fence line or a line inside a fenced block.
    Code,
    /// Inside a multi-line HTML comment.
    Comment,
}

/// One classified line.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The line without its ending.
    pub raw: &'a str,
    /// The text with HTML comments removed.
    pub visible: Cow<'a, str>,
    pub kind: Kind,
    /// The info string of the fenced block this line is in (`mermaid`), if any.
    pub fence_info: Option<&'a str>,
    /// Whether a fenced block or an HTML comment is still open after this line.
    pub open_after: bool,
}

/// Classifies every line: fenced code, HTML comments, text.
pub fn classify(text: &str) -> Vec<Line<'_>> {
    Classify::new(text).collect()
}

/// The lines of [`lines`], one at a time, found with memchr.
struct RawLines<'a> {
    /// What is left; `None` once the last line is out.
    rest: Option<&'a str>,
}

impl<'a> Iterator for RawLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let line = match rest.find('\n') {
            Some(end) => {
                let after = &rest[end + 1..];
                // A text that ends with a newline has no empty line after it.
                self.rest = (!after.is_empty()).then_some(after);
                &rest[..end]
            }
            None => {
                self.rest = None;
                rest
            }
        };
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// [`classify`] one line at a time: a parser that reads each line once
/// needs no list of them (for a large plan, a megabyte).
pub struct Classify<'a> {
    lines: RawLines<'a>,
    fence: Option<(char, usize, &'a str)>,
    in_comment: bool,
}

impl<'a> Classify<'a> {
    pub fn new(text: &'a str) -> Classify<'a> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Classify { lines: RawLines { rest: Some(text) }, fence: None, in_comment: false }
    }
}

impl<'a> Iterator for Classify<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let raw = self.lines.next()?;
        let trimmed = raw.trim_start();
        if let Some((ch, len, info)) = self.fence {
            let run = trimmed.chars().take_while(|&c| c == ch).count();
            if run >= len && trimmed[run * ch.len_utf8()..].trim().is_empty() {
                self.fence = None;
                return Some(Line {
                    raw,
                    visible: Cow::Borrowed(""),
                    kind: Kind::Code,
                    fence_info: None,
                    open_after: false,
                });
            }
            return Some(Line {
                raw,
                visible: Cow::Borrowed(""),
                kind: Kind::Code,
                fence_info: Some(info),
                open_after: true,
            });
        }
        if !self.in_comment {
            if let Some((ch, len, info)) = fence_open(trimmed) {
                self.fence = Some((ch, len, info));
                return Some(Line {
                    raw,
                    visible: Cow::Borrowed(""),
                    kind: Kind::Code,
                    fence_info: None,
                    open_after: true,
                });
            }
        }
        let (visible, still_open) = strip_comments(raw, self.in_comment);
        let was_in_comment = self.in_comment;
        self.in_comment = still_open;
        let kind = if !visible.trim().is_empty() {
            Kind::Text
        } else if was_in_comment || raw.contains("<!--") {
            Kind::Comment
        } else {
            Kind::Blank
        };
        Some(Line { raw, visible, kind, fence_info: None, open_after: self.in_comment })
    }
}

/// A fence opening: three or more backticks or tildes, and its info string.
fn fence_open(trimmed: &str) -> Option<(char, usize, &str)> {
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|&c| c == ch).count();
    if run < 3 {
        return None;
    }
    let info = trimmed[run..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((ch, run, info))
}

/// Removes `<!-- ... -->` parts of a line; says whether a comment stays open.
fn strip_comments(raw: &str, mut in_comment: bool) -> (Cow<'_, str>, bool) {
    if !in_comment && !raw.contains("<!--") {
        return (Cow::Borrowed(raw), false);
    }
    let mut out = String::new();
    let mut rest = raw;
    loop {
        if in_comment {
            match rest.find("-->") {
                Some(end) => {
                    rest = &rest[end + 3..];
                    in_comment = false;
                }
                None => return (Cow::Owned(out), true),
            }
        } else {
            match rest.find("<!--") {
                Some(start) => {
                    out.push_str(&rest[..start]);
                    rest = &rest[start + 4..];
                    in_comment = true;
                }
                None => {
                    out.push_str(rest);
                    return (Cow::Owned(out), false);
                }
            }
        }
    }
}

/// Columns of leading whitespace (a tab advances to the next multiple of 4).
pub fn indent_of(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col += 4 - col % 4,
            _ => break,
        }
    }
    col
}

/// A heading: its level and text, for `#` to `######` followed by a space.
pub fn heading(line: &str) -> Option<(usize, &str)> {
    if indent_of(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// A list bullet: the text after `- `, `* `, `+ ` (or `1. `), if the line is one.
pub fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let mut chars = t.char_indices();
    let (_, first) = chars.next()?;
    let after = if matches!(first, '-' | '*' | '+') {
        &t[1..]
    } else if first.is_ascii_digit() {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &t[digits..];
        rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))?
    } else {
        return None;
    };
    if after.is_empty() {
        return Some("");
    }
    if !after.starts_with([' ', '\t']) {
        return None;
    }
    Some(after.trim_start())
}

/// A checkbox item (only `-`, `*`, `+` bullets): its state and the text after the box.
pub fn checkbox(line: &str) -> Option<(TaskState, &str)> {
    let t = line.trim_start();
    if !t.starts_with(['-', '*', '+']) {
        return None;
    }
    let rest = bullet(line)?;
    let b = rest.as_bytes();
    if b.len() < 3 || b[0] != b'[' || b[2] != b']' {
        return None;
    }
    let state = match b[1] {
        b' ' => TaskState::Todo,
        b'x' | b'X' => TaskState::Done,
        b'~' => TaskState::Partial,
        _ => return None,
    };
    let after = &rest[3..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    Some((state, after.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_at_a_time_is_the_same_split() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\n\n",
            "\u{feff}a\r\nb\r\n",
            "a\rb\n\r\n\r",
            "```\nx\n```\n<!-- a\nb -->\n",
        ] {
            let raw: Vec<&str> =
                RawLines { rest: Some(text.strip_prefix('\u{feff}').unwrap_or(text)) }.collect();
            assert_eq!(raw, lines(text), "{text:?}");
            let kinds: Vec<(Kind, &str)> = Classify::new(text).map(|l| (l.kind, l.raw)).collect();
            assert_eq!(kinds.len(), lines(text).len(), "{text:?}");
        }
    }
}
