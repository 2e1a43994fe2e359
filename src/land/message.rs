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
pub(super) fn result_line(
    req: &Request,
    strategy: Strategy,
    tested: Oid,
    commits: usize,
    files: usize,
) -> String {
    let counts = format!("{commits} commit{}, {files} file{}", plural(commits), plural(files));
    let what = match strategy {
        _ if commits == 0 && files == 0 => "landed with no changes".to_string(),
        Strategy::Merge => format!("merged {} ({counts})", git::short(tested)),
        Strategy::Ff => format!("fast-forwarded to {} ({counts})", git::short(tested)),
        Strategy::Squash => format!("squashed {} ({counts})", req.id),
        Strategy::Rebase => format!("rebased onto {} ({counts})", req.main_branch),
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
            Strategy::Rebase => "Rebases",
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
        Strategy::Rebase => "rebase",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(strategy: Strategy) -> Request {
        Request {
            id: "T003".to_string(),
            strategy,
            verify: None,
            commit: None,
            keep: false,
            wait: None,
            dry_run: false,
            main_branch: "main".to_string(),
            tasks_file: Some("specs/001-demo/tasks.md".to_string()),
            log_dir: "logs/parallel/".to_string(),
            enforce_scope: None,
        }
    }

    #[test]
    fn the_landing_message_has_a_subject_the_commits_and_the_trailer() {
        let commits = [
            ("abc1234".to_string(), "Add the model".to_string()),
            ("def5678".to_string(), "Test it".to_string()),
        ];
        assert_eq!(
            landing_message("T003", Some("Write the model in src/app/models.py"), &commits, Strategy::Merge),
            "T003: Write the model in src/app/models.py\n\n\
             Merges 2 commits:\n  abc1234 Add the model\n  def5678 Test it\n\n\
             Par-Task: T003\n"
        );
        assert_eq!(
            landing_message("T003", None, &commits[..1], Strategy::Squash),
            "T003: land the task\n\nSquashes 1 commit:\n  abc1234 Add the model\n\nPar-Task: T003\n"
        );
        assert_eq!(
            landing_message("T003", Some("Tidy"), &[], Strategy::Ff),
            "T003: Tidy\n\nThe task made no commits.\n\nPar-Task: T003\n"
        );
    }

    #[test]
    fn the_landing_message_writes_control_characters_out_and_keeps_the_subject_short() {
        let commits = [("abc1234".to_string(), "evil\x1b[31m red".to_string())];
        let message =
            landing_message("T001", Some(&"very long description ".repeat(10)), &commits, Strategy::Merge);
        let subject = message.lines().next().unwrap();
        assert!(subject.chars().count() <= SUBJECT_MAX && subject.ends_with('…'), "{subject}");
        assert!(!message.contains('\x1b'), "{message:?}");
        assert!(message.ends_with("\nPar-Task: T001\n"), "{message:?}");
    }

    #[test]
    fn the_result_line_names_what_landed_and_the_log() {
        let tip = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(
            result_line(&request(Strategy::Merge), Strategy::Merge, tip, 2, 1),
            "merged 0123456 (2 commits, 1 file) · logs/parallel/T003.log"
        );
        assert_eq!(
            result_line(&request(Strategy::Ff), Strategy::Ff, tip, 1, 3),
            "fast-forwarded to 0123456 (1 commit, 3 files) · logs/parallel/T003.log"
        );
        assert_eq!(
            result_line(&request(Strategy::Squash), Strategy::Squash, tip, 4, 4),
            "squashed T003 (4 commits, 4 files) · logs/parallel/T003.log"
        );
        assert_eq!(
            result_line(&request(Strategy::Merge), Strategy::Merge, tip, 0, 0),
            "landed with no changes · logs/parallel/T003.log"
        );
        // `ff` that found main moved lands as `rebase`: the line says what happened.
        assert_eq!(
            result_line(&request(Strategy::Ff), Strategy::Rebase, tip, 2, 2),
            "rebased onto main (2 commits, 2 files) · logs/parallel/T003.log"
        );
    }

    #[test]
    fn the_task_file_diff_is_unified_and_empty_when_nothing_changed() {
        assert_eq!(unified("a\n", "a\n", "tasks.md"), "");
        assert_eq!(
            unified("- [ ] T001\n", "- [X] T001\n", "specs/tasks.md"),
            "--- a/specs/tasks.md\n+++ b/specs/tasks.md\n@@ -1 +1 @@\n-- [ ] T001\n+- [X] T001\n"
        );
        assert_eq!(strategy_name(Strategy::Ff), "ff");
        assert_eq!((plural(1), plural(0), plural(2)), ("", "s", "s"));
    }

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
