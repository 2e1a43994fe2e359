//! The three-way merge of tasks.md used when a task lands (DESIGN §6).
//!
//! git-par owns tasks.md, so a clash in it never stops a landing:
//! - checkbox changes the task branch made (an agent ticking its own box)
//!   are replayed onto main's version by task ID, wherever the task's line
//!   sits in main's version;
//! - the task's other edits are merged line by line (`similar`); a hunk that
//!   clashes with a change on main is dropped — main wins — and every
//!   dropped line is reported as a unified diff;
//! - two insertions at the same place are both kept, main's first (one copy
//!   when they are identical): two tasks adding lines under one heading is
//!   not a clash;
//! - the task branch never deletes a task that main has: a task line whose
//!   ID vanished on the task side comes back with its detail lines, and a
//!   detail line of a task main has is kept where the task only deleted it
//!   (an edit of it merges as usual). Dropping such a deletion is a clash
//!   main wins, reported like the others. Without this an agent that
//!   rewrote tasks.md would erase other tasks — and its own, so the landing
//!   could not tick it.
//!
//! Lines keep their own endings, so CRLF files, a missing final newline and
//! every untouched byte of main's version come through unchanged.

use std::collections::{HashMap, HashSet};

use similar::{Algorithm, DiffOp};

/// The result of [`merge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged file.
    pub text: String,
    /// A unified diff from the merged file to what the task branch wanted
    /// where it clashed with main; empty when nothing was dropped.
    pub dropped: String,
}

/// Merges the task branch's edits of tasks.md (`base` → `task`) into main's
/// version (`base` → `main`). Never fails: on a clash main wins.
pub fn merge(base: &str, main: &str, task: &str) -> Merged {
    merge_by(base, main, task, &parsed_checkboxes)
}

/// `main` with task `id`'s checkbox as the task branch's version `task` has
/// it: the one edit of tasks.md a landing takes from a task branch (DESIGN
/// §6). Nothing else of `task` is looked at; when `id` is not found once in
/// each version, `main` is returned as it is.
pub fn own_checkbox(main: &str, task: &str, id: &str) -> String {
    let once = |text: &str| -> Option<usize> {
        let found: Vec<Found> = parsed_checkboxes(text).into_iter().filter(|f| f.id == id).collect();
        (found.len() == 1).then(|| found[0].line)
    };
    let (Some(at_main), Some(at_task)) = (once(main), once(task)) else { return main.to_string() };
    let Some((_, state)) = task.split_inclusive('\n').nth(at_task).and_then(checkbox) else {
        return main.to_string();
    };
    main.split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| if i == at_main { set_checkbox(line, state) } else { line.to_string() })
        .collect()
}

/// A task's place in a file, 0-based lines.
#[derive(Debug, Clone)]
struct Found {
    id: String,
    /// The checkbox line.
    line: usize,
    /// The last line that belongs to the task (its details included).
    last: usize,
}

/// Where each task is in a text.
type Locate = dyn Fn(&str) -> Vec<Found>;

/// The tasks the tasks.md parser finds.
fn parsed_checkboxes(text: &str) -> Vec<Found> {
    let file = super::parse::parse(text, &super::Options::default());
    file.tasks
        .iter()
        .map(|t| {
            let line = t.line.saturating_sub(1);
            Found { id: t.id.clone(), line, last: t.last_line.max(line) }
        })
        .collect()
}

fn merge_by(base: &str, main: &str, task: &str, locate: &Locate) -> Merged {
    if task == base || task == main {
        return Merged { text: main.to_string(), dropped: String::new() };
    }
    let base_lines: Vec<&str> = base.split_inclusive('\n').collect();
    let main_lines: Vec<&str> = main.split_inclusive('\n').collect();
    let task_lines: Vec<&str> = task.split_inclusive('\n').collect();
    let (base_found, task_found) = (locate(base), locate(task));

    // Take the task's checkbox changes out of its lines, to replay them by ID.
    let base_boxes = first_by_id(&base_found);
    let mut task_norm: Vec<String> = task_lines.iter().map(|l| l.to_string()).collect();
    let mut replays: Vec<Replay> = Vec::new();
    let mut task_boxes: Vec<(String, usize)> = first_by_id(&task_found).into_iter().collect();
    task_boxes.sort_by_key(|(_, line)| *line);
    for (id, line) in task_boxes {
        let Some(&base_line) = base_boxes.get(&id) else { continue };
        let (Some(was), Some(now)) = (
            base_lines.get(base_line).and_then(|l| checkbox(l)),
            task_lines.get(line).and_then(|l| checkbox(l)),
        ) else {
            continue;
        };
        if was.1 != now.1 {
            if let Some(norm) = task_norm.get_mut(line) {
                *norm = set_checkbox(norm, was.1);
            }
            replays.push(Replay { id, was: was.1, now: now.1 });
        }
    }
    let task_norm: Vec<&str> = task_norm.iter().map(String::as_str).collect();

    // Main's tasks the task side deleted come back: the landing merges the
    // task side with those deletions undone, and what the task wanted shows
    // them as dropped.
    let main_found = if main == base { None } else { Some(locate(main)) };
    let main_ids: HashSet<&str> =
        main_found.as_deref().unwrap_or(&base_found).iter().map(|f| f.id.as_str()).collect();
    let guarded = guard_tasks(&base_lines, &task_norm, &base_found, &task_found, &main_ids);
    if main == base && guarded == task_norm && replays.is_empty() {
        return Merged { text: task.to_string(), dropped: String::new() };
    }

    let (landed, _) = three_way(&base_lines, &main_lines, &guarded);
    let (_, wanted) = three_way(&base_lines, &main_lines, &task_norm);
    let landed = replay(&landed, &replays, locate, false);
    let wanted = replay(&wanted, &replays, locate, true);
    let dropped = if landed == wanted {
        String::new()
    } else {
        similar::TextDiff::from_lines(&landed, &wanted)
            .unified_diff()
            .context_radius(1)
            .header("tasks.md (landed)", "tasks.md (task branch)")
            .to_string()
    };
    Merged { text: landed, dropped }
}

/// A checkbox the task branch changed from `was` to `now`.
struct Replay {
    id: String,
    was: char,
    now: char,
}

/// Applies checkbox replays to `text`. A box main changed too keeps main's
/// state unless `force` (used to build what the task wanted).
fn replay(text: &str, replays: &[Replay], locate: &Locate, force: bool) -> String {
    if replays.is_empty() {
        return text.to_string();
    }
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let boxes = first_by_id(&locate(text));
    for r in replays {
        let Some(line) = boxes.get(&r.id).and_then(|&i| lines.get_mut(i)) else { continue };
        let Some((_, current)) = checkbox(line) else { continue };
        if current == r.was || force {
            *line = set_checkbox(line, r.now);
        }
    }
    lines.concat()
}

fn first_by_id(found: &[Found]) -> HashMap<String, usize> {
    let mut map = HashMap::with_capacity(found.len());
    for f in found {
        map.entry(f.id.clone()).or_insert(f.line);
    }
    map
}

/// How a base line is kept from being deleted by the task side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The task side may delete or change it.
    Free,
    /// A line of a task main has and the task side removed entirely: kept.
    Kept,
    /// A detail line of a task main has: kept if the task side only deleted
    /// it; replaced lines are an edit, merged as usual.
    KeptUnlessEdited,
}

/// The task side's lines with its deletions of main's tasks undone: a task
/// line whose ID main still has and the task side no longer has comes back
/// with its details, where it was among the task side's lines; a detail line
/// of a task main has comes back when the task side only deleted it.
fn guard_tasks<'a>(
    base: &[&'a str],
    task: &[&'a str],
    base_found: &[Found],
    task_found: &[Found],
    main_ids: &HashSet<&str>,
) -> Vec<&'a str> {
    let task_ids: HashSet<&str> = task_found.iter().map(|f| f.id.as_str()).collect();
    let mut guard = vec![Guard::Free; base.len()];
    for f in base_found.iter().filter(|f| main_ids.contains(f.id.as_str())) {
        let (first, last) = (f.line.min(base.len()), (f.last + 1).min(base.len()));
        if task_ids.contains(f.id.as_str()) {
            for g in &mut guard[(first + 1).min(last)..last] {
                *g = Guard::KeptUnlessEdited;
            }
        } else {
            for g in &mut guard[first..last] {
                *g = Guard::Kept;
            }
        }
    }
    if guard.iter().all(|g| *g == Guard::Free) {
        return task.to_vec();
    }
    let base_id: HashMap<usize, &str> = base_found.iter().map(|f| (f.line, f.id.as_str())).collect();
    let task_id: HashMap<usize, &str> = task_found.iter().map(|f| (f.line, f.id.as_str())).collect();
    let mut out = Vec::with_capacity(task.len() + 4);
    for op in similar::capture_diff_slices(Algorithm::Myers, base, task) {
        let (old, new) = (op.old_range(), op.new_range());
        match op {
            DiffOp::Equal { .. } | DiffOp::Insert { .. } => out.extend_from_slice(&task[new]),
            DiffOp::Delete { .. } => {
                out.extend(old.filter(|&i| guard[i] != Guard::Free).map(|i| base[i]));
            }
            DiffOp::Replace { .. } => {
                // Kept lines go back between the new lines, after the new
                // version of the task that came before them.
                let mut next = new.start;
                for i in old {
                    if guard[i] == Guard::Kept {
                        out.push(base[i]);
                    } else if let Some(id) = base_id.get(&i) {
                        if let Some(j) = (next..new.end).find(|j| task_id.get(j) == Some(id)) {
                            out.extend_from_slice(&task[next..=j]);
                            next = j + 1;
                        }
                    }
                }
                out.extend_from_slice(&task[next..new.end]);
            }
        }
    }
    out
}

/// The byte offset and character of a list item's checkbox state
/// (`- [x] ...` → `x`), if the line is a checkbox item.
fn checkbox(line: &str) -> Option<(usize, char)> {
    let start = line.len() - line.trim_start_matches(['\u{feff}', ' ', '\t']).len();
    let rest = &line[start..];
    let after_bullet = if let Some(r) = rest.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        rest[digits..].strip_prefix(['.', ')'])?
    };
    let trimmed = after_bullet.trim_start_matches([' ', '\t']);
    if trimmed.len() == after_bullet.len() {
        return None;
    }
    let inner = trimmed.strip_prefix('[')?;
    let mut chars = inner.chars();
    let state = chars.next()?;
    if chars.next() != Some(']') {
        return None;
    }
    Some((line.len() - inner.len(), state))
}

fn set_checkbox(line: &str, state: char) -> String {
    match checkbox(line) {
        Some((at, old)) => {
            let mut out = String::with_capacity(line.len() + 4);
            out.push_str(&line[..at]);
            out.push(state);
            out.push_str(&line[at + old.len_utf8()..]);
            out
        }
        None => line.to_string(),
    }
}

/// One change of a side against the base: base lines `start..end` become `lines`.
#[derive(Debug, Clone)]
struct Hunk<'a> {
    start: usize,
    end: usize,
    lines: &'a [&'a str],
    main: bool,
}

fn hunks<'a>(base: &[&str], side: &'a [&'a str], main: bool) -> Vec<Hunk<'a>> {
    let mut out: Vec<Hunk<'a>> = Vec::new();
    let mut side_start = 0;
    for op in similar::capture_diff_slices(Algorithm::Myers, base, side) {
        if let DiffOp::Equal { .. } = op {
            continue;
        }
        let (old, new) = (op.old_range(), op.new_range());
        match out.last_mut() {
            // A delete followed by an insert at the same place is one hunk.
            Some(last) if last.end == old.start && side_start + last.lines.len() == new.start => {
                last.end = old.end;
                last.lines = &side[side_start..new.end];
            }
            _ => {
                side_start = new.start;
                out.push(Hunk { start: old.start, end: old.end, lines: &side[new.clone()], main });
            }
        }
    }
    out
}

/// Merges both sides' hunks into base. Returns (main wins, task wins): the
/// two differ only where the sides clash.
fn three_way(base: &[&str], main: &[&str], task: &[&str]) -> (String, String) {
    let mut all = hunks(base, main, true);
    all.extend(hunks(base, task, false));
    // By start; at one start, insertions first, then main before task.
    all.sort_by_key(|h| (h.start, h.end != h.start, !h.main));

    let (mut landed, mut wanted) = (String::new(), String::new());
    let mut pos = 0;
    let mut i = 0;
    while i < all.len() {
        let (cs, mut ce) = (all[i].start, all[i].end);
        let mut j = i + 1;
        while j < all.len() {
            let h = &all[j];
            let both_insert_here = h.start == ce && cs == ce && h.start == h.end;
            if h.start < ce || both_insert_here {
                ce = ce.max(h.end);
                j += 1;
            } else {
                break;
            }
        }
        let cluster = &all[i..j];
        for line in &base[pos..cs] {
            landed.push_str(line);
            wanted.push_str(line);
        }
        let has_main = cluster.iter().any(|h| h.main);
        let has_task = cluster.iter().any(|h| !h.main);
        if has_main && has_task && cluster.iter().all(|h| h.start == h.end) {
            // Both sides insert at the same place: keep both, main's first.
            let mut joined = String::new();
            for h in cluster.iter().filter(|h| h.main).chain(cluster.iter().filter(|h| !h.main)) {
                if h.main || !cluster.iter().any(|m| m.main && m.lines == h.lines) {
                    joined.push_str(&h.lines.concat());
                }
            }
            landed.push_str(&joined);
            wanted.push_str(&joined);
        } else {
            let main_version = apply(base, cs, ce, cluster.iter().filter(|h| h.main));
            let task_version = apply(base, cs, ce, cluster.iter().filter(|h| !h.main));
            match (has_main, has_task) {
                (true, false) => {
                    landed.push_str(&main_version);
                    wanted.push_str(&main_version);
                }
                (false, _) => {
                    landed.push_str(&task_version);
                    wanted.push_str(&task_version);
                }
                (true, true) => {
                    landed.push_str(&main_version);
                    wanted.push_str(&task_version);
                }
            }
        }
        pos = ce;
        i = j;
    }
    for line in &base[pos.min(base.len())..] {
        landed.push_str(line);
        wanted.push_str(line);
    }
    (landed, wanted)
}

/// Base lines `start..end` with one side's hunks (all inside the range) applied.
fn apply<'a>(base: &[&str], start: usize, end: usize, hunks: impl Iterator<Item = &'a Hunk<'a>>) -> String {
    let mut out = String::new();
    let mut pos = start;
    for h in hunks {
        for line in &base[pos..h.start] {
            out.push_str(line);
        }
        out.push_str(&h.lines.concat());
        pos = h.end;
    }
    for line in &base[pos..end] {
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tasks_own_checkbox_is_taken() {
        let main = "# T\r\n- [ ] T001 a\r\n- [ ] T002 b\r\n";
        let task = "# T (renamed)\r\n- [x] T001 a, rewritten\r\n- [X] T002 b\r\n- [ ] T003 new\r\n";
        assert_eq!(own_checkbox(main, task, "T001"), "# T\r\n- [x] T001 a\r\n- [ ] T002 b\r\n");
        // Gone or ambiguous on the task side: main's as it is.
        assert_eq!(own_checkbox(main, "", "T001"), main);
        assert_eq!(own_checkbox(main, "- [x] T001 a\n- [x] T001 b\n", "T001"), main);
    }

    /// A stand-in for the parser: `- [ ] T001 ...` lines, ID up to the first
    /// space; indented lines under a task are its details.
    fn simple(text: &str) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let id = checkbox(line).and_then(|(at, _)| {
                let id = line[at + 2..].split_whitespace().next()?.trim_matches('*').to_string();
                id.starts_with('T').then_some(id)
            });
            match (id, found.last_mut()) {
                (Some(id), _) => found.push(Found { id, line: i, last: i }),
                (None, Some(f))
                    if f.last + 1 == i && line.starts_with([' ', '\t']) && !line.trim().is_empty() =>
                {
                    f.last = i
                }
                _ => {}
            }
        }
        found
    }

    fn m(base: &str, main: &str, task: &str) -> Merged {
        merge_by(base, main, task, &simple)
    }

    const BASE: &str = "# Tasks\n\n## Phase 1\n- [ ] T001 one\n- [ ] T002 two\n- [ ] T003 three\n\n## Phase 2\n- [ ] T004 four\n";

    #[test]
    fn unchanged_sides_take_the_other() {
        assert_eq!(m(BASE, BASE, BASE).text, BASE);
        let main = BASE.replace("T001 one", "T001 uno");
        assert_eq!(m(BASE, &main, BASE).text, main);
        assert_eq!(m(BASE, BASE, &main).text, main);
    }

    #[test]
    fn a_tick_on_the_task_branch_is_replayed_by_id_after_main_moved_lines() {
        // The task ticks T003; main inserted tasks above it and edited T002.
        let task = BASE.replace("- [ ] T003", "- [x] T003");
        let main = BASE
            .replace("## Phase 1\n", "## Phase 1\n- [ ] T000 zero\n")
            .replace("- [ ] T002 two", "- [X] T002 two\n  - par: merged abc (1 commit, 1 file)");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, main.replace("- [ ] T003", "- [x] T003"));
        assert_eq!(merged.dropped, "");
    }

    #[test]
    fn a_tick_and_an_edit_of_the_same_line_on_main_both_survive() {
        let task = BASE.replace("- [ ] T003 three", "- [X] T003 three");
        let main = BASE.replace("- [ ] T003 three", "- [ ] T003 three (src/three.py)");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, BASE.replace("- [ ] T003 three", "- [X] T003 three (src/three.py)"));
        assert_eq!(merged.dropped, "");
    }

    #[test]
    fn a_box_main_changed_differently_keeps_mains_state_and_reports_it() {
        let base = BASE.replace("- [ ] T003", "- [~] T003");
        let task = base.replace("- [~] T003", "- [ ] T003");
        let main = base.replace("- [~] T003", "- [X] T003");
        let merged = m(&base, &main, &task);
        assert_eq!(merged.text, main);
        assert!(merged.dropped.contains("-- [X] T003 three\n+- [ ] T003 three\n"), "{}", merged.dropped);
    }

    #[test]
    fn non_clashing_edits_merge_line_by_line() {
        let task = BASE.replace("- [ ] T004 four\n", "- [ ] T004 four\n- [ ] T005 five (added by task)\n");
        let main = BASE.replace("# Tasks\n", "# Tasks for the demo\n");
        let merged = m(BASE, &main, &task);
        assert_eq!(
            merged.text,
            main.replace("- [ ] T004 four\n", "- [ ] T004 four\n- [ ] T005 five (added by task)\n")
        );
        assert_eq!(merged.dropped, "");
    }

    #[test]
    fn a_clash_keeps_main_and_shows_the_dropped_lines() {
        let task = BASE.replace("- [ ] T002 two", "- [ ] T002 two, rewritten by the task");
        let main = BASE.replace("- [ ] T002 two", "- [ ] T002 two, rewritten on main");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, main);
        assert_eq!(
            merged.dropped,
            "--- tasks.md (landed)\n+++ tasks.md (task branch)\n@@ -4,3 +4,3 @@\n \
             - [ ] T001 one\n-- [ ] T002 two, rewritten on main\n+- [ ] T002 two, rewritten by the task\n \
             - [ ] T003 three\n"
        );
    }

    #[test]
    fn insertions_at_the_same_place_keep_both_and_identical_ones_once() {
        let task = format!("{BASE}- [ ] T006 six\n");
        let main = format!("{BASE}- [ ] T005 five\n");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, format!("{BASE}- [ ] T005 five\n- [ ] T006 six\n"));
        assert_eq!(merged.dropped, "");
        // The same line added on both sides (and another edit on the task) lands once.
        let both = m(BASE, &main, &main.replace("# Tasks\n", "# Tasks!\n"));
        assert_eq!(both.text, main.replace("# Tasks\n", "# Tasks!\n"));
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_kept() {
        let base = "- [ ] T001 one\r\n- [ ] T002 two\r\n- [ ] T003 three";
        let task = base.replace("- [ ] T001", "- [X] T001");
        let main = base.replace("T003 three", "T003 three!");
        let merged = m(base, &main, &task);
        assert_eq!(merged.text, "- [X] T001 one\r\n- [ ] T002 two\r\n- [ ] T003 three!");
    }

    #[test]
    fn a_deleted_task_on_main_drops_the_tasks_tick() {
        let task = BASE.replace("- [ ] T004", "- [X] T004");
        let main = BASE.replace("- [ ] T004 four\n", "");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, main);
    }

    #[test]
    fn tasks_the_task_side_deleted_come_back_and_are_reported() {
        // The repro of the review: the task branch deleted every task line,
        // its own included, and main did not move.
        let base =
            "- [X] T001 done `a.py`\n  - par: merged abc\n- [ ] T002 [P] b `b.py`\n- [ ] T003 [P] c `c.py`\n";
        let task = "";
        let merged = m(base, base, task);
        assert_eq!(merged.text, base);
        assert_eq!(
            merged.dropped,
            "--- tasks.md (landed)\n+++ tasks.md (task branch)\n@@ -1,4 +0,0 @@\n\
             -- [X] T001 done `a.py`\n-  - par: merged abc\n-- [ ] T002 [P] b `b.py`\n-- [ ] T003 [P] c `c.py`\n"
        );
        // With main moved too, and the task's other edits kept.
        let main = BASE.replace("# Tasks\n", "# Tasks for the demo\n");
        let task = BASE.replace("- [ ] T002 two\n", "").replace("## Phase 2\n", "## Phase 2 (renamed)\n");
        let merged = m(BASE, &main, &task);
        assert_eq!(merged.text, main.replace("## Phase 2\n", "## Phase 2 (renamed)\n"));
        assert!(merged.dropped.contains("\n-- [ ] T002 two\n"), "{}", merged.dropped);
    }

    #[test]
    fn a_deleted_task_comes_back_where_it_was_among_the_task_sides_edits() {
        let base = "- [ ] T001 one\n  - detail of one\n- [ ] T002 two\n- [ ] T003 three\n";
        // T001 (and its detail) deleted while T002 is rewritten in the same hunk.
        let task = "- [x] T002 two, done\n- [ ] T003 three\n";
        assert_eq!(
            m(base, base, task).text,
            "- [ ] T001 one\n  - detail of one\n- [x] T002 two, done\n- [ ] T003 three\n"
        );
        // T003 replaced by a new task: both are there, the old one first.
        let task = "- [ ] T001 one\n  - detail of one\n- [ ] T002 two\n- [ ] T009 nine\n";
        assert_eq!(
            m(base, base, task).text,
            "- [ ] T001 one\n  - detail of one\n- [ ] T002 two\n- [ ] T003 three\n- [ ] T009 nine\n"
        );
        // A task line moved elsewhere is not a deletion.
        let task = "- [ ] T002 two\n- [ ] T003 three\n- [ ] T001 one\n  - detail of one\n";
        assert_eq!(m(base, base, task).text, task);
    }

    #[test]
    fn detail_lines_are_kept_from_deletion_but_may_be_edited() {
        let base = "- [X] T001 one\n  - par: merged abc\n  - note\n- [ ] T002 two\n";
        let deleted = base.replace("  - par: merged abc\n", "");
        let merged = m(base, base, &deleted);
        assert_eq!(merged.text, base);
        assert!(merged.dropped.contains("\n-  - par: merged abc\n"), "{}", merged.dropped);
        let edited = base.replace("  - note\n", "  - a better note\n");
        assert_eq!(m(base, base, &edited), Merged { text: edited.clone(), dropped: String::new() });
    }

    #[test]
    fn a_task_main_deleted_too_stays_deleted() {
        let main = BASE.replace("- [ ] T004 four\n", "");
        let task = BASE.replace("- [ ] T004 four\n", "").replace("# Tasks\n", "# Tasks!\n");
        assert_eq!(m(BASE, &main, &task).text, main.replace("# Tasks\n", "# Tasks!\n"));
    }

    proptest::proptest! {
        /// Any three texts merge without panicking, and lines both sides
        /// left alone survive.
        #[test]
        fn edits_made_apart_both_survive_and_nothing_panics(
            base in "(- \\[[ xX]\\] T[0-9] [a-c]{0,3}\r?\n|[a-c ]{0,4}\n){0,8}",
            main_edit in "(- \\[[ xX]\\] T[0-9] [a-c]{0,3}\n|[a-c ]{0,4}\n){0,3}",
            task_edit in "(- \\[[ xX]\\] T[0-9] [a-c]{0,3}\n|[a-c ]{0,4}\n){0,3}",
            at_main in 0usize..10,
            at_task in 0usize..10,
        ) {
            // Unique base lines: with repeated lines a diff may pick any of them,
            // and "apart" stops meaning anything (true of every line merge).
            let base: String = base
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, l)| format!("{} #{i}{}", l.trim_end_matches(['\r', '\n']), &l[l.trim_end_matches(['\r', '\n']).len()..]))
                .collect();
            let lines: Vec<&str> = base.split_inclusive('\n').collect();
            let splice = |at: usize, edit: &str| {
                let at = at.min(lines.len());
                let mut out = lines[..at].concat();
                out.push_str(edit);
                out.push_str(&lines[(at + 1).min(lines.len())..].concat());
                out
            };
            let (main, task) = (splice(at_main, &main_edit), splice(at_task, &task_edit));
            let merged = m(&base, &main, &task);
            let (at_main, at_task) = (at_main.min(lines.len()), at_task.min(lines.len()));
            // Edits apart from each other, and no task ID used twice (the first one counts).
            let ids = |t: &str| { let v = simple(t); let mut ids: Vec<_> = v.iter().map(|f| f.id.clone()).collect(); ids.sort(); ids.dedup(); ids.len() == v.len() };
            if at_main.abs_diff(at_task) > 1 && ids(&main) && ids(&task) {
                for line in main_edit.lines().chain(task_edit.lines()) {
                    proptest::prop_assert!(merged.text.contains(line), "{line:?} lost:\n{}", merged.text);
                }
            }
        }
    }

    #[test]
    fn checkbox_recognises_list_items() {
        assert_eq!(checkbox("- [ ] T1"), Some((3, ' ')));
        assert_eq!(checkbox("  * [x] T1"), Some((5, 'x')));
        assert_eq!(checkbox("1. [X] T1"), Some((4, 'X')));
        assert_eq!(checkbox("\u{feff}- [~] T1"), Some((6, '~')));
        assert_eq!(checkbox("-[ ] T1"), None);
        assert_eq!(checkbox("text [ ] T1"), None);
        assert_eq!(set_checkbox("- [ ] T1 ü\r\n", 'X'), "- [X] T1 ü\r\n");
    }
}
