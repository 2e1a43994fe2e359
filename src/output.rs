//! Everything that reaches the terminal: data on stdout (human text or one
//! versioned JSON document), chatter on stderr, colors decided once.

use std::io::{self, IsTerminal, Write};

use anyhow::{Context as _, Result};
use serde::Serialize;

/// The version of every `--json` document; fields only ever grow.
pub const JSON_VERSION: u32 = 1;

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

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

    /// A plain UI for tests and library callers: no JSON, no color.
    pub fn plain() -> Ui {
        Ui {
            json: false,
            color_stdout: false,
            color_stderr: false,
            printed_json: std::cell::Cell::new(false),
        }
    }

    /// Prints `body` as the one JSON document of this command: indented for
    /// a terminal, one line for a pipe. Built in memory and written at once,
    /// since stdout is line-buffered and a large document has many lines.
    pub fn json<T: Serialize>(&self, body: &T) -> Result<()> {
        let doc = Document { version: JSON_VERSION, body };
        let mut text = if io::stdout().is_terminal() {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        }
        .context("serialising JSON")?;
        text.push('\n');
        self.printed_json.set(true);
        self.out(&text)
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
            hints: crate::error::refusal(err).map(|r| r.hints.clone()).unwrap_or_default(),
            exit: crate::error::exit_code(err),
        };
        self.json(&Body { error })
    }

    /// Writes data to stdout, exactly as given.
    pub fn out(&self, text: &str) -> Result<()> {
        let mut out = io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            // A closed pipe (`git par list | head`) is not an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other.context("writing to stdout"),
        }
    }

    /// A progress or status line on stderr.
    pub fn status(&self, message: &str) {
        eprintln!("{message}");
    }

    /// A `warning:` line on stderr.
    pub fn warn(&self, message: &str) {
        eprintln!("{} {message}", self.paint_err(Style::Warning, "warning:"));
    }

    /// A `hint:` line on stderr.
    pub fn hint(&self, message: &str) {
        eprintln!("{} {message}", self.paint_err(Style::Hint, "hint:"));
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
            eprintln!("{} {top}", self.paint_err(Style::Error, "error:"));
        }
        for cause in causes {
            // A refusal wrapped in context repeats nothing new beyond its own message.
            eprintln!("  caused by: {cause}");
        }
        if let Some(refusal) = crate::error::refusal(err) {
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
    format!("\x1b[{code}m{text}\x1b[0m")
}
