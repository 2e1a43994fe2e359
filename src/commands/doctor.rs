//! `doctor`: report inconsistencies and repair what is safe.

use anyhow::Result;
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::command_error::Refusal;
use crate::output::Style;
use crate::output::Ui;
use git_par::doctor::{self, Finding, Severity};
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct Body<'a> {
    findings: &'a [Finding],
    /// Whether no problem is left (notes do not count).
    clean: bool,
}

/// Runs `git par doctor`; exits 1 while problems remain (notes are not problems).
pub fn run(args: &DoctorArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let mut findings = doctor::diagnose(ws)?;
    if args.repair {
        doctor::repair(ws, &mut findings);
    }
    let remaining = findings.iter().filter(|f| f.remains()).count();
    if ui.json {
        ui.json(&Body { findings: &findings, clean: remaining == 0 })?;
    } else {
        let mut out = String::new();
        for finding in &findings {
            if finding.severity == Severity::Note {
                out.push_str(&format!("{} {}\n", ui.paint(Style::Hint, "note:"), finding.message));
                if let Some(advice) = &finding.advice {
                    out.push_str(&format!("  hint: {advice}\n"));
                }
                continue;
            }
            if let Some(done) = finding.repaired_text() {
                out.push_str(&format!(
                    "{} {} ({})\n",
                    ui.paint(Style::Done, "repaired:"),
                    finding.message,
                    done
                ));
                continue;
            }
            out.push_str(&format!("{} {}\n", ui.paint(Style::Warning, "problem:"), finding.message));
            if let Some(error) = &finding.repair_error {
                out.push_str(&format!("  repair failed: {error}\n"));
            } else if finding.repair.is_some() {
                out.push_str("  fix: `git par doctor --repair`\n");
            }
            if let Some(advice) = &finding.advice {
                out.push_str(&format!("  fix: {advice}\n"));
            }
        }
        ui.out(&out)?;
        if findings.iter().all(|f| f.severity == Severity::Note) {
            ui.status("no problems found");
        }
    }
    if remaining == 0 {
        return Ok(());
    }
    let repairable =
        findings.iter().filter(|f| !f.repaired && f.repair.is_some() && f.repair_error.is_none()).count();
    let manual = remaining - repairable;
    let plural = |n: usize| if n == 1 { "problem" } else { "problems" };
    let mut refusal = if args.repair {
        Refusal::failed(format!("{remaining} {} {}", plural(remaining), verb(remaining, "remains", "remain")))
    } else {
        Refusal::failed(format!("{remaining} {} found", plural(remaining)))
    };
    if repairable > 0 {
        refusal = refusal.hint(format!("`git par doctor --repair` fixes {repairable} of them safely"));
    }
    if manual > 0 {
        refusal = refusal.hint(format!(
            "{manual} {} a person: follow {} `fix:` lines",
            verb(manual, "needs", "need"),
            if manual == 1 { "its" } else { "their" }
        ));
    }
    Err(refusal.into())
}

/// The verb agreeing with `n` things.
fn verb(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}
