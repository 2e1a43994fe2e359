//! Everything that reaches the terminal: data on stdout (human text or one
//! versioned JSON document), chatter on stderr, colors decided once.
//!
//! Every human line goes through [`render`], which writes out the
//! control characters of whatever text it holds ([`escape_controls`]):
//! descriptions and paths from tasks.md, file names, commit subjects, hook
//! output never control the terminal. git-par's own colors survive that:
//! [`Ui::paint`] marks them with a per-process secret that text from outside
//! cannot know, and only marked spans become escape sequences.

use std::io::{self, IsTerminal, Write};

use anyhow::{Context as _, Result};
use serde::Serialize;

use git_par::text::escape_controls;

mod compact;

use crate::cli::ColorChoice;

/// The version of every `--json` document; fields only ever grow.
pub const JSON_VERSION: u32 = 1;

/// Where output goes and how it looks; built once in `run`.
#[derive(Debug, Clone)]
pub struct Ui {
    pub json: bool,
    pub color_stdout: bool,
    pub color_stderr: bool,
    /// Whether this command's JSON document has been printed (there is only one).
    printed_json: std::cell::Cell<bool>,
}

/// A JSON document: `{"version": 1, ...body}`.
#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    version: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl Ui {
    /// Decides colors once: the flag, then `NO_COLOR`, then whether the stream is a terminal.
    pub fn new(json: bool, color: ColorChoice) -> Ui {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |is_tty: bool| match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && is_tty,
        };
        Ui {
            json,
            color_stdout: !json && decide(io::stdout().is_terminal()),
            color_stderr: decide(io::stderr().is_terminal()),
            printed_json: std::cell::Cell::new(false),
        }
    }

    /// Prints `body` as the one JSON document of this command: indented for
    /// a terminal, one line for a pipe. Built in memory and written at once,
    /// since stdout is line-buffered and a large document has many lines.
    pub fn json<T: Serialize>(&self, body: &T) -> Result<()> {
        let doc = Document { version: JSON_VERSION, body };
        if io::stdout().is_terminal() {
            let mut text = serde_json::to_string_pretty(&doc).context("serialising JSON")?;
            text.push('\n');
            self.printed_json.set(true);
            return write_stdout(&[json_safe(&text).as_bytes()]);
        }
        self.json_line(body)
    }

    /// Prints `body` as one line of a JSON Lines stream: `{"version": 1, ...body}`.
    pub fn json_line<T: Serialize>(&self, body: &T) -> Result<()> {
        let doc = Document { version: JSON_VERSION, body };
        let chunks = one_line(&doc)?;
        self.printed_json.set(true);
        write_stdout(&chunks)
    }

    /// Prints the error document of a failed command under `--json`:
    /// `{"version":1,"error":{"message","causes","hints","exit"}}` — unless
    /// the command already printed its document (`check` and `doctor` print
    /// their findings and then fail).
    pub fn json_error(&self, err: &anyhow::Error) -> Result<()> {
        if self.printed_json.get() {
            return Ok(());
        }
        #[derive(Serialize)]
        struct ErrorJson {
            message: String,
            causes: Vec<String>,
            hints: Vec<String>,
            exit: i32,
        }
        #[derive(Serialize)]
        struct Body {
            error: ErrorJson,
        }
        let mut chain = err.chain().map(|c| c.to_string());
        let error = ErrorJson {
            message: chain.next().unwrap_or_default(),
            causes: chain.collect(),
            hints: crate::command_error::refusal(err).map(|r| r.hints).unwrap_or_default(),
            exit: crate::command_error::exit_code(err),
        };
        self.json(&Body { error })
    }

    /// Writes human text to stdout ([`render`]ed).
    pub fn out(&self, text: &str) -> Result<()> {
        write_stdout(&[render(text, self.color_stdout).as_bytes()])
    }

    /// Writes text to stderr as it is meant to be seen ([`render`]ed),
    /// e.g. what a hook printed, or a diff.
    pub fn err(&self, text: &str) {
        eprint!("{}", render(text, self.color_stderr));
    }

    /// A progress or status line on stderr.
    pub fn status(&self, message: &str) {
        eprintln!("{}", render(message, self.color_stderr));
    }

    /// A `warning:` line on stderr.
    pub fn warn(&self, message: &str) {
        let line = format!("{} {message}", self.paint_err(Style::Warning, "warning:"));
        eprintln!("{}", render(&line, self.color_stderr));
    }

    /// A `hint:` line on stderr.
    pub fn hint(&self, message: &str) {
        let line = format!("{} {message}", self.paint_err(Style::Hint, "hint:"));
        eprintln!("{}", render(&line, self.color_stderr));
    }

    /// Colors `text` for stdout when colors are on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_stdout, style, text)
    }

    /// Colors `text` for stderr when colors are on.
    pub fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_stderr, style, text)
    }

    /// Prints an error with its causes and hints, git style, on stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let mut causes = err.chain();
        if let Some(top) = causes.next() {
            let line = format!("{} {top}", self.paint_err(Style::Error, "error:"));
            eprintln!("{}", render(&line, self.color_stderr));
        }
        for cause in causes {
            // A refusal wrapped in context repeats nothing new beyond its own message.
            eprintln!("{}", render(&format!("  caused by: {cause}"), self.color_stderr));
        }
        if let Some(refusal) = crate::command_error::refusal(err) {
            for hint in &refusal.hints {
                self.hint(hint);
            }
        }
    }
}

/// Text styles used across the tool.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Error,
    Warning,
    Hint,
    Done,
    Todo,
    Partial,
    Id,
    Dim,
    Bold,
}

/// Opens and closes the mark of a colored span: `OPEN secret code CLOSE`.
const OPEN: char = '\u{e000}';
const CLOSE: char = '\u{e001}';

/// This process's secret, which only [`paint`] writes into its marks.
fn secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| {
        use std::hash::{BuildHasher as _, Hasher as _};
        // RandomState is seeded from the OS for each process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        format!("{:016x}", hasher.finish())
    })
}

/// `doc` as one line of JSON and a newline, control characters escaped
/// ([`json_safe`]), in pieces to write one after the other.
fn one_line<T: Serialize>(doc: &T) -> Result<Vec<Vec<u8>>> {
    // The compact writer writes the same bytes faster; what it leaves (a
    // float, say) goes through serde_json. Nothing is printed before the
    // whole document is made.
    if let Ok(mut chunks) = compact::to_chunks(doc) {
        if let Some(last) = chunks.last_mut() {
            last.push(b'\n');
        }
        return Ok(chunks);
    }
    let mut text = serde_json::to_string(doc).context("serialising JSON")?;
    text.push('\n');
    Ok(vec![json_safe(&text).into_owned().into_bytes()])
}

/// Writes `pieces` to stdout, one after the other.
fn write_stdout<T: AsRef<[u8]>>(pieces: &[T]) -> Result<()> {
    let mut out = io::stdout().lock();
    match write_pieces(&mut out, pieces).and_then(|()| out.flush()) {
        // A closed pipe (`git par list | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// Writes all of `pieces` with vectored writes: stdout is line-buffered,
/// and a piece written alone would first be searched for a newline from
/// end to start (the last piece ends with one, so it is found at once).
fn write_pieces<T: AsRef<[u8]>>(out: &mut impl Write, pieces: &[T]) -> io::Result<()> {
    // The first piece not fully written, and how much of it is.
    let (mut first, mut skip) = (0, 0);
    while first < pieces.len() {
        let slices: Vec<io::IoSlice<'_>> = pieces[first..]
            .iter()
            .enumerate()
            .map(|(k, p)| io::IoSlice::new(if k == 0 { &p.as_ref()[skip..] } else { p.as_ref() }))
            .collect();
        let mut written = match out.write_vectored(&slices) {
            Ok(0) if slices.iter().any(|s| !s.is_empty()) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while first < pieces.len() {
            let left = pieces[first].as_ref().len() - skip;
            if written < left {
                skip += written;
                break;
            }
            written -= left;
            first += 1;
            skip = 0;
        }
    }
    Ok(())
}

/// A JSON document with the control characters serde_json leaves as they
/// are (DEL and the C1 range) escaped too: the same text, safe to print.
fn json_safe(json: &str) -> std::borrow::Cow<'_, str> {
    // U+007F is the byte 0x7f and U+0080..=U+009F start with 0xc2 in UTF-8:
    // a byte scan (megabytes for a large `list --json`) settles the usual case.
    if !json.as_bytes().contains(&0x7f) && !json.as_bytes().contains(&0xc2) {
        return std::borrow::Cow::Borrowed(json);
    }
    if !json.chars().any(|c| ('\u{7f}'..='\u{9f}').contains(&c)) {
        return std::borrow::Cow::Borrowed(json);
    }
    // Outside strings JSON has only ASCII punctuation, so any such
    // character is inside a string, where `\u00XX` means the same.
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` as a human sees it: control characters written out, and the
/// spans [`paint`] marked colored when `colors` (else plain).
fn render(text: &str, colors: bool) -> String {
    let escaped = escape_controls(text);
    if !escaped.contains(OPEN) {
        return escaped.into_owned();
    }
    let mark = format!("{OPEN}{}", secret());
    let mut out = String::with_capacity(escaped.len());
    let mut rest: &str = &escaped;
    while let Some(at) = rest.find(&mark) {
        let after = &rest[at + mark.len()..];
        let code_len = after.find(|c: char| !(c.is_ascii_digit() || c == ';')).unwrap_or(after.len());
        if after[code_len..].starts_with(CLOSE) {
            out.push_str(&rest[..at]);
            if colors {
                out.push_str(&format!("\x1b[{}m", &after[..code_len]));
            }
            rest = &after[code_len + CLOSE.len_utf8()..];
        } else {
            out.push_str(&rest[..at + mark.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn paint(on: bool, style: Style, text: &str) -> String {
    if !on {
        return text.to_string();
    }
    let code = match style {
        Style::Error => "1;31",
        Style::Warning => "1;33",
        Style::Hint => "1;36",
        Style::Done => "32",
        Style::Todo => "33",
        Style::Partial => "35",
        Style::Id => "1",
        Style::Dim => "2",
        Style::Bold => "1",
    };
    let mark = |code: &str| format!("{OPEN}{}{code}{CLOSE}", secret());
    format!("{}{text}{}", mark(code), mark("0"))
}

#[cfg(test)]
mod tests {
    /// A writer that takes at most `max` bytes a call, as a slow pipe does.
    struct Trickle {
        max: usize,
        got: Vec<u8>,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.max);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(self.max - n);
                self.got.extend_from_slice(&buf[..take]);
                n += take;
                if n == self.max {
                    break;
                }
            }
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn pieces_are_written_whole_and_in_order_by_short_writes() {
        let pieces: Vec<Vec<u8>> = vec![b"abc".to_vec(), Vec::new(), b"defgh".to_vec(), b"i\n".to_vec()];
        for max in 1..12 {
            let mut out = Trickle { max, got: Vec::new() };
            super::write_pieces(&mut out, &pieces).expect("writes");
            assert_eq!(out.got, b"abcdefghi\n", "{max} bytes a write");
        }
    }

    use super::*;

    #[test]
    fn only_git_pars_own_colors_reach_the_terminal() {
        let painted = paint(true, Style::Error, "error:");
        let forged = format!("{OPEN}0000000000000000{}{CLOSE}", "2J");
        let line = format!("{painted} \x1b[2J\x1b]0;title\x07 {forged}");
        assert_eq!(
            render(&line, true),
            format!("\x1b[1;31merror:\x1b[0m \\x1b[2J\\x1b]0;title\\x07 {forged}")
        );
        assert_eq!(render(&paint(false, Style::Error, "error:"), false), "error:");
        // Painted for a stream with colors, shown on one without.
        assert_eq!(render(&painted, false), "error:");
    }

    #[test]
    fn json_escapes_c1_controls() {
        assert_eq!(json_safe("{\"a\":\"x\u{9b}y\u{7f}\"}"), "{\"a\":\"x\\u009by\\u007f\"}");
        // U+00A0 shares the 0xc2 lead byte with the C1 controls: it stays as it is.
        assert!(matches!(json_safe("{\"a\":\"\u{a0}é\"}"), std::borrow::Cow::Borrowed(_)));
        let back: serde_json::Value = serde_json::from_str(&json_safe("{\"a\":\"x\u{9b}\"}")).unwrap();
        assert_eq!(back["a"], "x\u{9b}");
    }
}
