//! How `git par up` is shown: each event on one line, the summary table,
//! and the live view on a terminal (indicatif): a line per
//! running task with its elapsed time and the last line of its log, and an
//! overall bar with the counts of landed, blocked and waiting tasks. Events
//! are printed above it as they happen.
//!
//! Text from agents' logs and tasks.md is shown with its escape sequences
//! removed and other control characters written out, so an agent's colors
//! or cursor moves cannot disturb the view.

use std::collections::HashMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use git_par::up::events::{self, Adoption, Event, Summary};
use git_par::up::{agent, InFlight, Observer};

/// The view; drawn on stderr.
pub struct LiveView {
    multi: MultiProgress,
    overall: ProgressBar,
    lines: HashMap<String, ProgressBar>,
    total: u64,
    landed: u64,
    blocked: u64,
}

impl Default for LiveView {
    fn default() -> Self {
        LiveView::new()
    }
}

impl LiveView {
    /// A view drawn on stderr (hidden when stderr is not a terminal).
    pub fn new() -> LiveView {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} done · {msg} · {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("##-"),
        );
        LiveView { multi, overall, lines: HashMap::new(), total: 0, landed: 0, blocked: 0 }
    }

    fn counts(&self) {
        let running = self.lines.len() as u64;
        let waiting = self.total.saturating_sub(self.landed + self.blocked + running);
        self.overall.set_length(self.total);
        self.overall.set_position(self.landed + self.blocked);
        self.overall.set_message(format!(
            "{} landed · {} blocked · {running} running · {waiting} waiting",
            self.landed, self.blocked
        ));
    }
}

impl Observer for LiveView {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Planned { tasks, .. } => self.total = *tasks as u64,
            Event::Landed { task, .. } => {
                self.landed += 1;
                self.drop_line(task);
            }
            Event::Blocked { task, .. } | Event::StartFailed { task, .. } => {
                self.blocked += 1;
                self.drop_line(task);
            }
            Event::Finished(_) => {
                for (_, line) in self.lines.drain() {
                    line.finish_and_clear();
                }
                self.overall.finish_and_clear();
            }
            _ => {}
        }
        if !matches!(event, Event::Finished(_) | Event::Planned { .. }) {
            let _ = self.multi.println(shown(&human(event)));
        }
        self.counts();
    }

    fn tick(&mut self, running: &[InFlight<'_>]) {
        let names: Vec<&str> = running.iter().map(|r| r.task).collect();
        let gone: Vec<String> = self.lines.keys().filter(|k| !names.contains(&k.as_str())).cloned().collect();
        for task in gone {
            self.drop_line(&task);
        }
        for flight in running {
            let line = self.lines.entry(flight.task.to_string()).or_insert_with(|| {
                let bar = self.multi.insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix:8} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(shown(flight.task));
                bar
            });
            let said = if flight.landing {
                "landing".to_string()
            } else {
                agent::last_line(flight.log).map(|l| shown(&l)).unwrap_or_default()
            };
            line.set_message(format!("{:>6}  {said}", events::duration(flight.elapsed.as_secs_f64())));
            line.tick();
        }
        self.counts();
    }
}

impl LiveView {
    fn drop_line(&mut self, task: &str) {
        if let Some(line) = self.lines.remove(task) {
            line.finish_and_clear();
            self.multi.remove(&line);
        }
    }
}

/// Text made safe for the view: escape sequences dropped, other control
/// characters written out, cut to a reasonable width.
fn shown(text: &str) -> String {
    let plain = strip_escapes(text);
    let safe = git_par::text::escape_controls(&plain);
    safe.chars().take(160).collect()
}

/// Removes ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ...
/// BEL` or `ESC \`), and two-byte escapes.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The one-line human form of an event (control characters are the
/// renderer's to write out).
pub fn human(event: &Event) -> String {
    match event {
        Event::Planned { tasks, jobs } => format!("{tasks} task(s) to run, {jobs} at a time"),
        Event::Adopted { task, then } => match then {
            Adoption::Running => {
                format!("{task}: its agent from the last run is still running; waiting for it")
            }
            Adoption::Landing => format!("{task}: its agent from the last run exited 0; landing it"),
            Adoption::Rerun => {
                format!("{task}: its agent from the last run did not finish; running it again")
            }
        },
        Event::Started { task, attempt: 1, worktree, .. } => format!("started {task} in {worktree}"),
        Event::Started { task, attempt, .. } => format!("started {task} again (attempt {attempt})"),
        Event::AgentExited { task, exit: Some(code), seconds, .. } => {
            format!("{task}: agent exited {code} after {}", events::duration(*seconds))
        }
        Event::AgentExited { task, timed_out: true, seconds, .. } => {
            format!("{task}: agent stopped after {} (--timeout)", events::duration(*seconds))
        }
        Event::AgentExited { task, seconds, .. } => {
            format!("{task}: agent stopped after {}", events::duration(*seconds))
        }
        Event::Landed { task, commit, .. } => format!("landed {task} as {}", short(commit)),
        Event::Retried { task, attempt, reason } => format!("retrying {task} (attempt {attempt}): {reason}"),
        Event::Blocked { task, reason } => format!("blocked {task}: {reason}"),
        Event::StartFailed { task, reason } => format!("could not start {task}: {reason}"),
        Event::Warning { message } => format!("warning: {message}"),
        Event::Interrupted { count: 1 } => {
            "interrupted: no new task starts; running agents finish (Ctrl-C again stops them)".to_string()
        }
        Event::Interrupted { .. } => {
            "interrupted again: stopping the agents; their tasks stay active".to_string()
        }
        Event::Finished(summary) => {
            let mut parts = vec![format!("{} landed", summary.landed)];
            for (n, word) in
                [(summary.blocked, "blocked"), (summary.active, "left active"), (summary.waiting, "waiting")]
            {
                if n > 0 {
                    parts.push(format!("{n} {word}"));
                }
            }
            format!("finished in {}: {}", events::duration(summary.seconds), parts.join(", "))
        }
    }
}

/// The summary as a table: task, result, time, commit or reason.
pub fn table(summary: &Summary) -> String {
    let width = summary.tasks.iter().map(|r| r.task.chars().count()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}  {:7}  {:>7}  commit or reason\n", "task", "result", "time");
    for row in &summary.tasks {
        let time = row.seconds.map(events::duration).unwrap_or_else(|| "-".to_string());
        let last = match (&row.commit, &row.reason) {
            (Some(commit), _) => short(commit).to_string(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => String::new(),
        };
        out.push_str(format!("{:width$}  {:7}  {time:>7}  {last}", row.task, row.result.word()).trim_end());
        out.push('\n');
    }
    out
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git_par::up::events::{Outcome, Row};

    #[test]
    fn escapes_are_dropped_and_controls_written_out() {
        assert_eq!(shown("\x1b[32mok\x1b[0m done"), "ok done");
        assert_eq!(shown("\x1b]0;title\x07x\x1b]8;;http://x\x1b\\link"), "xlink");
        assert_eq!(shown("a\rb\x08"), "a\\x0db\\x08");
    }

    #[test]
    fn the_table_lines_up() {
        let summary = Summary {
            tasks: vec![
                Row {
                    task: "T001".into(),
                    result: Outcome::Landed,
                    seconds: Some(1.25),
                    commit: Some("3f2a1c9aa".into()),
                    reason: None,
                },
                Row {
                    task: "T010".into(),
                    result: Outcome::Blocked,
                    seconds: Some(75.0),
                    commit: None,
                    reason: Some("agent exited 1".into()),
                },
                Row {
                    task: "T011".into(),
                    result: Outcome::Waiting,
                    seconds: None,
                    commit: None,
                    reason: Some("waits for T010".into()),
                },
            ],
            ..Summary::default()
        };
        assert_eq!(
            table(&summary),
            "task  result      time  commit or reason\n\
             T001  landed      1.2s  3f2a1c9\n\
             T010  blocked    1m15s  agent exited 1\n\
             T011  waiting        -  waits for T010\n"
        );
    }
}
