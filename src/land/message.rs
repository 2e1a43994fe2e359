//! The text a landing writes: the landing commit's message, the result line
//! under the task in tasks.md, the diff of tasks.md. Pure functions of their inputs.

use git2::Oid;

use super::{Request, Strategy};
use crate::repo::{self as git};

/// The longest landing-commit subject, as git's own tools suggest.
pub(super) const SUBJECT_MAX: usize = 72;

/// The result line written under the task in tasks.md. The landing commit's
/// own hash cannot be in it (the line is part of that commit), so it names
/// the task tip that was merged — the landing commit's second parent for
/// `merge`, the parent of the tick commit for `ff` — and for `squash` the
/// branch name.
pub(super) fn result_line(req: &Request, tested: Oid, commits: usize, files: usize) -> String {
    let counts = format!("{commits} commit{}, {files} file{}", plural(commits), plural(files));
    let what = match req.strategy {
        _ if commits == 0 && files == 0 => "landed with no changes".to_string(),
        Strategy::Merge => format!("merged {} ({counts})", git::short(tested)),
        Strategy::Ff => format!("fast-forwarded to {} ({counts})", git::short(tested)),
        Strategy::Squash => format!("squashed {} ({counts})", req.id),
    };
    format!("{what} · {}/{}.log", req.log_dir.trim_end_matches('/'), req.id)
}

pub(super) fn landing_message(
    id: &str,
    description: Option<&str>,
    commits: &[(String, String)],
    strategy: Strategy,
) -> String {
    // Read in terminals (`git log`): text from tasks.md and commit subjects
    // has its control characters written out.
    let safe = crate::text::escape_controls;
    let subject = shorten(&format!("{id}: {}", safe(description.unwrap_or("land the task"))), SUBJECT_MAX);
    let mut body = String::new();
    if commits.is_empty() {
        body.push_str("The task made no commits.\n");
    } else {
        let how = match strategy {
            Strategy::Merge => "Merges",
            Strategy::Squash => "Squashes",
            Strategy::Ff => "Fast-forwards",
        };
        body.push_str(&format!("{how} {} commit{}:\n", commits.len(), plural(commits.len())));
        for (hash, summary) in commits {
            body.push_str(&format!("  {hash} {}\n", safe(summary)));
        }
    }
    format!("{subject}\n\n{body}\nPar-Task: {id}\n")
}

/// Cuts `text` to at most `max` characters, at a word boundary when one is
/// near, marking the cut with `…`.
pub(super) fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(at) if cut[..at].chars().count() >= max / 2 => {
            cut[..at].trim_end_matches([',', ';', ':', '-', ' ']).to_string()
        }
        _ => cut,
    };
    format!("{cut}…")
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn unified(before: &str, after: &str, path: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

pub(super) fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Merge => "merge",
        Strategy::Squash => "squash",
        Strategy::Ff => "ff",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_shortened_at_a_word() {
        assert_eq!(shorten("T001: short", 72), "T001: short");
        let long = format!("T001: {}", "word ".repeat(30));
        let cut = shorten(&long, 72);
        assert!(cut.chars().count() <= 72 && cut.ends_with("word…"), "{cut}");
        // Cut at the space, and the colon that would dangle goes too.
        assert_eq!(shorten("T001: ééééééééééééééééééé", 10), "T001…");
        assert_eq!(shorten("T001:    spaced\n  out", 72), "T001: spaced out");
    }
}
