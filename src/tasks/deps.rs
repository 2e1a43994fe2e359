//! Dependencies: explicit notations, phase order and `[P]` groups (DESIGN §3).
//!
//! Explicit edges come from
//! - a task's own description and details (not its `par:` result line):
//!   `depends on T001, T002`, `Depends on: I1-T001`, `[deps: T001]`,
//!   `after T003`, `requires T002`, `blocked by T004`, `**Depends On**: T01`,
//!   and `blocks T009` (the other way round);
//! - dependency sections — a heading that says `depend`, `execution order`
//!   or `critical path`, down to the next heading of its level or above,
//!   except task lines and `par:` result lines — and every mermaid block:
//!   `T008 blocks T009, T015`, `T004-T007 before T008-T014`, `T005 after
//!   T004`, `T003 depends on T001`, arrow chains (`->`, `-->`, `→`, `──►`,
//!   `=>`, `⇒`) between ID lists (`T001, T002`, `{T005, T006}`, `T005 &
//!   T009`, ranges `T004-T007`, `T004–T007`, `T008…T030`); mermaid node
//!   labels (`T001[...]`) and edge labels (`-->|x|`) are skipped.
//!
//! An arrow or keyword links only the ID list right after it to the list
//! right before it (for `after` / `depends on`, the nearest list before it
//! in the clause: `T008, T009 can run in parallel after T007`), so prose that
//! happens to mention IDs links nothing; IDs that name no task are dropped.
//! Arrows in task descriptions (`GET /x → 200`) are never read.
//!
//! Implied edges follow the file: phases run in file order; a story phase
//! waits for the non-story phases above it (and for earlier phases of its
//! own story), not for other stories; a non-story phase after story phases
//! waits for all of them. Within a phase, consecutive `[P]` tasks form a
//! group, and each group waits for the group before it. A phase's first
//! group waits only for the last group of each phase it depends on, which
//! keeps the edge count close to linear (except between two large `[P]`
//! groups at a phase boundary, which needs their product).
//!
//! When an implied edge closes a cycle with explicit ones, the explicit
//! notation wins: the implied edges on the cycle are dropped (the task waits
//! for what the dropped dependency waited for instead) and a note says so.
//! A cycle of explicit edges alone is an error naming it.

use std::collections::HashSet;

use std::ops::Range;

use super::paths::FxMap;

use super::parse::{self, Kind};
use super::{Group, Options, TaskFile};

/// A cycle of explicit dependencies (`T001 → T002 → T001`): none of its
/// tasks can ever start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleError {
    pub cycle: String,
}

impl std::fmt::Display for CycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dependency cycle: {}", self.cycle)
    }
}

impl std::error::Error for CycleError {}

/// Fills every task's `deps` and `after` and the file's groups; fails on a
/// cycle of explicit dependencies, naming it.
///
/// The graph has a node per task and one per barrier (a `[P]` group that
/// later tasks wait for as a whole), so its size is linear in the file.
pub fn resolve(file: &mut TaskFile, text: &str, options: &Options) -> anyhow::Result<()> {
    let n = file.tasks.len();
    let (explicit, mut implied) = {
        let ids = IdIndex::new(file);
        let mut explicit: Vec<(usize, usize)> = Vec::new();
        let mut lower = String::new();
        for (i, task) in file.tasks.iter().enumerate() {
            own_edges(i, &task.description, &ids, &mut lower, &mut explicit);
            for detail in task.details.iter().filter(|d| !d.starts_with("par:")) {
                own_edges(i, detail, &ids, &mut lower, &mut explicit);
            }
        }
        section_edges(text, &ids, &mut explicit);
        explicit.retain(|(t, d)| t != d);
        (explicit, implied_edges(file, options))
    };
    let nodes = n + implied.groups.len();
    // Implied edges alone always lead back in file order (a task to earlier
    // tasks or to the barrier of an earlier group, a barrier to its tasks):
    // only explicit ones can close a cycle.
    let dropped = if explicit.is_empty() {
        Vec::new()
    } else {
        match break_implied_cycles(nodes, &explicit, &mut implied.edges) {
            Ok(dropped) => dropped,
            Err(cycle) => return Err(CycleError { cycle: cycle_text(file, &cycle) }.into()),
        }
    };
    let group_name = |node: usize, groups: &[Vec<usize>]| -> String {
        match groups.get(node.wrapping_sub(n)) {
            Some(members) => format!("the tasks after {}", group_id(file, members)),
            None => file.tasks[node].id.clone(),
        }
    };
    let mut notes = Vec::with_capacity(dropped.len());
    for (waiter, dep, cycle) in dropped {
        notes.push(format!(
            "{task} does not wait for {dep} as file order implies: explicit dependencies make {dep} wait for {task} ({cycle}); {task} waits for what {dep} waits for instead",
            task = group_name(waiter, &implied.groups),
            dep = file.tasks[dep].id,
            cycle = cycle_text(file, &cycle)
        ));
    }
    file.notes.extend(notes);

    // Direct task dependencies and barriers per task; a barrier's tasks,
    // with barriers it reached through a dropped edge flattened.
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); implied.groups.len()];
    for &(t, d) in explicit.iter().chain(implied.edges.iter()) {
        match (t < n, d < n) {
            (true, true) => deps[t].push(d),
            (true, false) => after[t].push(d - n),
            (false, _) => members[t - n].push(d),
        }
    }
    let members = flatten_groups(n, members);
    // Only barriers some task waits for are kept, renumbered in order.
    let mut kept: Vec<Option<usize>> = vec![None; members.len()];
    let mut groups = Vec::new();
    for list in &mut after {
        list.sort_unstable();
        list.dedup();
        for g in list.iter_mut() {
            let index = *kept[*g].get_or_insert_with(|| {
                let tasks = members[*g].clone();
                groups.push(Group { id: group_id(file, &tasks), tasks });
                groups.len() - 1
            });
            *g = index;
        }
    }
    let named: Vec<Vec<String>> = deps
        .into_iter()
        .enumerate()
        .map(|(i, mut list)| {
            list.sort_unstable();
            list.dedup();
            // A task a barrier already covers is not listed twice.
            list.retain(|d| !after[i].iter().any(|&g| groups[g].tasks.binary_search(d).is_ok()));
            // With a duplicated ID, a task can follow its namesake: that is no dependency.
            let own = &file.tasks[i].id;
            // Sized exactly: the list stays in the task.
            let mut ids: Vec<String> = Vec::with_capacity(list.len());
            ids.extend(list.into_iter().map(|d| &file.tasks[d].id).filter(|id| *id != own).cloned());
            ids.dedup();
            ids
        })
        .collect();
    for ((task, list), waits) in file.tasks.iter_mut().zip(named).zip(after) {
        task.deps = list;
        task.after = waits;
    }
    file.groups = groups;
    Ok(())
}

/// `T003..T009`: a group named by its first and last task.
fn group_id(file: &TaskFile, members: &[usize]) -> String {
    match (members.first(), members.last()) {
        (Some(&a), Some(&b)) if a != b => format!("{}..{}", file.tasks[a].id, file.tasks[b].id),
        (Some(&a), _) => file.tasks[a].id.clone(),
        _ => String::new(),
    }
}

/// Each barrier's tasks, with the barriers it waits for (only after a
/// dropped edge) replaced by their tasks; sorted, without repeats.
fn flatten_groups(n: usize, members: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    let mut out = Vec::with_capacity(members.len());
    for g in 0..members.len() {
        let mut tasks = Vec::new();
        let mut seen = vec![false; members.len()];
        let mut stack = vec![g];
        seen[g] = true;
        while let Some(at) = stack.pop() {
            for &m in &members[at] {
                if m < n {
                    tasks.push(m);
                } else if !seen[m - n] {
                    seen[m - n] = true;
                    stack.push(m - n);
                }
            }
        }
        tasks.sort_unstable();
        tasks.dedup();
        out.push(tasks);
    }
    out
}

/// The task IDs of a file, by text and by number for ranges. Built on
/// first use: most plans state no dependency in words, and their tasks
/// are never looked up by ID here.
struct IdIndex<'a> {
    file: &'a TaskFile,
    by_id: std::cell::OnceCell<FxMap<&'a str, usize>>,
    /// (prefix, number) → positions, for ranges.
    /// The first position inline: only a duplicated ID allocates a list.
    by_number: std::cell::OnceCell<ByNumber<'a>>,
}

/// (prefix, number) → the first position with it, and any others.
type ByNumber<'a> = FxMap<(&'a str, u64), (usize, Vec<usize>)>;

impl<'a> IdIndex<'a> {
    fn new(file: &'a TaskFile) -> IdIndex<'a> {
        IdIndex { file, by_id: std::cell::OnceCell::new(), by_number: std::cell::OnceCell::new() }
    }

    /// The position of the task with this ID; of the last one, if it is duplicated.
    fn get(&self, id: &str) -> Option<usize> {
        let by_id = self.by_id.get_or_init(|| {
            let mut by_id = FxMap::with_capacity_and_hasher(self.file.tasks.len(), Default::default());
            for (i, task) in self.file.tasks.iter().enumerate() {
                by_id.insert(task.id.as_str(), i);
            }
            by_id
        });
        by_id.get(id).copied()
    }

    fn by_number(&self) -> &ByNumber<'a> {
        self.by_number.get_or_init(|| {
            let mut by_number: ByNumber<'a> =
                FxMap::with_capacity_and_hasher(self.file.tasks.len(), Default::default());
            for (i, task) in self.file.tasks.iter().enumerate() {
                if let Some(key) = number_key(&task.id) {
                    match by_number.get_mut(&key) {
                        Some((_, more)) => more.push(i),
                        None => {
                            by_number.insert(key, (i, Vec::new()));
                        }
                    }
                }
            }
            by_number
        })
    }

    /// The tasks of a range `from..=to` (same prefix, numbers in between).
    fn range(&self, from: &str, to: &str, out: &mut Vec<usize>) {
        let (Some((prefix, a)), Some((prefix_to, b))) = (number_key(from), number_key(to)) else { return };
        if prefix != prefix_to || a > b || b - a > 100_000 {
            return;
        }
        let by_number = self.by_number();
        let mut found: Vec<usize> = Vec::new();
        for n in a..=b {
            if let Some((first, more)) = by_number.get(&(prefix, n)) {
                found.push(*first);
                found.extend(more);
            }
        }
        found.sort_unstable();
        out.extend(found);
    }
}

/// `I1-T041a` → (`I1-T`, 41), `TASK-003` → (`TASK-`, 3).
fn number_key(id: &str) -> Option<(&str, u64)> {
    let numbered = id.strip_suffix(|c: char| c.is_ascii_alphabetic()).unwrap_or(id);
    let digits = numbered.bytes().rev().take_while(u8::is_ascii_digit).count();
    let at = numbered.len() - digits;
    Some((&id[..at], numbered[at..].parse().ok()?))
}

/// A dependency keyword or an arrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// `A -> B`: B depends on A.
    Arrow,
    /// `A blocks B`, `A before B`: B depends on A.
    Blocks,
    /// `A after B`, `A depends on B`: A depends on B.
    After,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A list of task positions (IDs, ranges) with only separators between.
    Ids(Vec<usize>),
    Key(Word),
    /// Any other word: it breaks ID lists apart.
    Other,
}

/// Splits a line into clauses of tokens (`;` and sentence ends split clauses).
fn tokenize(line: &str, ids: &IdIndex<'_>) -> Vec<Vec<Token>> {
    let bytes = line.as_bytes();
    let mut clauses = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let sentence_end = c == b'.'
            && bytes.get(i + 1).map_or(true, |n| n.is_ascii_whitespace())
            && (i == 0 || bytes[i - 1] != b'.');
        if c == b';' || sentence_end {
            clauses.push(std::mem::take(&mut tokens));
            i += 1;
            continue;
        }
        let arrow = if matches!(c, b'-' | b'=') || c >= 0x80 { arrow_len(&line[i..]) } else { None };
        if let Some(len) = arrow {
            tokens.push(Token::Key(Word::Arrow));
            i += len;
            // A mermaid edge label: `-->|text|`.
            let rest = &line[i..];
            let label = rest.trim_start_matches(' ');
            if let Some(body) = label.strip_prefix('|') {
                if let Some(end) = body.find('|') {
                    i += rest.len() - label.len() + 1 + end + 1;
                }
            }
            continue;
        }
        let (ch, len) = char_at(line, i);
        if ch.is_alphanumeric() {
            let start = i;
            i += len;
            while i < bytes.len() {
                let (ch, len) = char_at(line, i);
                let joins = ch == '-' && i + 1 < bytes.len() && char_at(line, i + 1).0.is_alphanumeric();
                if !(ch.is_alphanumeric() || joins) {
                    break;
                }
                i += len;
            }
            let word = &line[start..i];
            let boundary =
                start == 0 || !line[..start].chars().next_back().is_some_and(char::is_alphanumeric);
            if boundary && word.as_bytes()[0].is_ascii_uppercase() {
                if let Some(found) = id_word(word, line, &mut i, ids) {
                    push_ids(&mut tokens, found);
                    continue;
                }
            }
            push_word(&mut tokens, word, line, &mut i);
            continue;
        }
        i += len;
    }
    clauses.push(tokens);
    clauses
}

/// The character at byte `i` (a char boundary) and its length, fast for ASCII.
fn char_at(s: &str, i: usize) -> (char, usize) {
    let b = s.as_bytes()[i];
    if b < 0x80 {
        return (b as char, 1);
    }
    let c = s[i..].chars().next().unwrap_or(' ');
    (c, c.len_utf8())
}

/// The length in bytes of an arrow at the start of `s`: `->`, `-->`, `==>`,
/// `=>`, `-.->`, `──►`, `→`, `⟶`, `⇒`.
fn arrow_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if matches!(first, '→' | '⟶' | '⇒' | '➔' | '➜' | '⟹' | '►' | '▶' | '⇨') {
        return Some(first.len_utf8());
    }
    if !matches!(first, '-' | '=' | '─') {
        return None;
    }
    for (at, c) in s.char_indices() {
        match c {
            '-' | '=' | '─' | '.' => {}
            '>' | '►' | '▶' => return Some(at + c.len_utf8()),
            _ => return None,
        }
    }
    None
}

/// An ID word (and a range after it, and a mermaid node label) as positions.
fn id_word(word: &str, line: &str, i: &mut usize, ids: &IdIndex) -> Option<Vec<usize>> {
    let len = parse::id_len(word)?;
    let mut out = Vec::new();
    if len != word.len() {
        // `T004-T007` is read as one word; split a range here.
        let (from, rest) = word.split_at(len);
        let to = rest.strip_prefix('-')?;
        if parse::id_len(to) != Some(to.len()) {
            return None;
        }
        ids.range(from, to, &mut out);
        return Some(out);
    }
    // Ranges with an en dash, an ellipsis or dots: `T004–T007`, `T008…T030`, `T1..T3`.
    let rest = &line[*i..];
    let after_sep = ["–", "—", "…", "...", ".."].iter().find_map(|sep| rest.strip_prefix(sep));
    if let Some(after) = after_sep {
        let to_len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
        let to = &after[..to_len];
        if parse::id_len(to) == Some(to.len()) {
            ids.range(word, to, &mut out);
            *i += rest.len() - after.len() + to_len;
            skip_node_label(line, i);
            return Some(out);
        }
    }
    if let Some(pos) = ids.get(word) {
        out.push(pos);
    }
    skip_node_label(line, i);
    Some(out)
}

/// Skips a mermaid node label right after an ID: `T001[Setup]`, `T2(x)`, `T3{y}`.
fn skip_node_label(line: &str, i: &mut usize) {
    let bytes = line.as_bytes();
    let Some(&open) = bytes.get(*i) else { return };
    let close = match open {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return,
    };
    let mut depth = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(*i) {
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 {
                *i = j + 1;
                return;
            }
        }
    }
}

fn push_ids(tokens: &mut Vec<Token>, found: Vec<usize>) {
    if let Some(Token::Ids(list)) = tokens.last_mut() {
        list.extend(found);
    } else {
        tokens.push(Token::Ids(found));
    }
}

/// Pushes a keyword (`blocks`, `before`, `after`, `depends on`, ...) or another word.
fn push_word(tokens: &mut Vec<Token>, word: &str, line: &str, i: &mut usize) {
    let is = |w: &str| word.eq_ignore_ascii_case(w);
    let rest = &line[*i..];
    let next = rest.trim_start();
    let colon_follows = next.starts_with(':');
    let key = if is("and") || is("et") || is("und") {
        return;
    } else if is("blocks") || is("before") || is("unblocks") || is("precedes") {
        Some(Word::Blocks)
    } else if is("after") || is("requires") || is("needs") {
        Some(Word::After)
    } else if is("depends") || is("depend") || is("blocked") {
        let next_len = next.bytes().take_while(u8::is_ascii_alphabetic).count();
        let next_word = &next[..next_len];
        if ["on", "upon", "by"].iter().any(|w| next_word.eq_ignore_ascii_case(w)) {
            *i += rest.len() - next.len() + next_len;
            Some(Word::After)
        } else if colon_follows {
            Some(Word::After)
        } else {
            None
        }
    } else if colon_follows && (is("deps") || is("dependencies") || is("prerequisites") || is("prereqs")) {
        Some(Word::After)
    } else {
        None
    };
    match key {
        Some(word) => tokens.push(Token::Key(word)),
        None => {
            if tokens.last() != Some(&Token::Other) {
                tokens.push(Token::Other);
            }
        }
    }
}

/// Words that can start a dependency notation, lowercase.
const KEYWORDS: &[&str] =
    &["depend", "after", "deps", "requires", "needs", "blocked", "blocks", "before", "prereq", "precedes"];

/// Edges a task's own text declares: `depends on T001`, `after T003`, `blocks T009`.
fn own_edges(task: usize, text: &str, ids: &IdIndex, lower: &mut String, out: &mut Vec<(usize, usize)>) {
    // Most task text states no dependency: look for an ID and a keyword before tokenizing.
    let bytes = text.as_bytes();
    // (`match_indices` finds each `T` with memchr: most descriptions have none.)
    if !text.match_indices('T').any(|(i, _)| bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
        return;
    }
    lower.clear();
    lower.push_str(text);
    lower.make_ascii_lowercase();
    if !KEYWORDS.iter().any(|k| lower.contains(k)) {
        return;
    }
    for clause in tokenize(text, ids) {
        for (k, token) in clause.iter().enumerate() {
            let Token::Key(word) = token else { continue };
            let Some(Token::Ids(list)) = clause.get(k + 1) else { continue };
            match word {
                Word::After => out.extend(list.iter().map(|&d| (task, d))),
                Word::Blocks
                    if !k
                        .checked_sub(1)
                        .and_then(|p| clause.get(p))
                        .is_some_and(|t| matches!(t, Token::Ids(_))) =>
                {
                    // Only `blocks T009` with no subject of its own: "T004 blocks T009"
                    // inside a description is prose about other tasks.
                    out.extend(list.iter().map(|&t| (t, task)));
                }
                _ => {}
            }
        }
    }
}

/// Whether a heading opens a dependency section.
fn is_dependency_heading(title: &str) -> bool {
    let lower = title.to_lowercase();
    lower.contains("depend") || lower.contains("execution order") || lower.contains("critical path")
}

/// Edges from dependency sections and mermaid blocks.
fn section_edges(text: &str, ids: &IdIndex, out: &mut Vec<(usize, usize)>) {
    // Most files have no dependency section and no mermaid block: a cheap
    // look at the raw lines spares classifying the whole file again. (A
    // heading behind an HTML comment is the one shape it cannot see, so a
    // comment sends the file through the full pass.)
    let may_have = text.contains("mermaid")
        || text.contains("<!--")
        || heading_lines(text.strip_prefix('\u{feff}').unwrap_or(text))
            .any(|l| parse::heading(l).is_some_and(|(_, title)| is_dependency_heading(title)));
    if !may_have {
        return;
    }
    let lines = parse::classify(text);
    let mut section: Option<usize> = None;
    for line in &lines {
        let content = match line.kind {
            Kind::Text => &line.visible,
            Kind::Code => line.raw,
            Kind::Blank | Kind::Comment => continue,
        };
        if line.kind == Kind::Text {
            if let Some((level, title)) = parse::heading(content) {
                if section.is_some_and(|s| level <= s) || section.is_none() {
                    section = is_dependency_heading(title).then_some(level);
                }
                continue;
            }
            // Task lines, and the `par:` result lines git-par writes under them.
            if parse::checkbox(content).is_some()
                || parse::bullet(content).is_some_and(|i| i.starts_with("par:"))
            {
                continue;
            }
        }
        let mermaid = line.fence_info.is_some_and(|info| info.starts_with("mermaid"));
        if section.is_some() || mermaid {
            line_edges(content, ids, out);
        }
    }
}

/// Every line of `text` (as [`str::lines`] splits it) that has a `#`, and
/// so every heading, found from its `#`s with memchr instead of walking
/// every line of a large plan.
fn heading_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + text.get(from..)?.find('#')?;
        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
        from = end;
        let line = &text[start..end];
        // As `lines`: a `\r` goes only before a `\n`.
        Some(if end < text.len() { line.strip_suffix('\r').unwrap_or(line) } else { line })
    })
}

/// Edges one line of a dependency section states.
fn line_edges(line: &str, ids: &IdIndex, out: &mut Vec<(usize, usize)>) {
    for mut clause in tokenize(line, ids) {
        split_shared_lists(&mut clause);
        for (k, token) in clause.iter().enumerate() {
            let Token::Key(word) = token else { continue };
            let Some(Token::Ids(right)) = clause.get(k + 1) else { continue };
            let left = match word {
                Word::Arrow | Word::Blocks => match k.checked_sub(1).and_then(|p| clause.get(p)) {
                    Some(Token::Ids(left)) => left,
                    _ => continue,
                },
                // `T008, T009 can run in parallel after T007`: the nearest list before.
                Word::After => {
                    match clause[..k].iter().rev().take_while(|t| !matches!(t, Token::Key(_))).find_map(|t| {
                        match t {
                            Token::Ids(list) => Some(list),
                            _ => None,
                        }
                    }) {
                        Some(left) => left,
                        None => continue,
                    }
                }
            };
            for &a in left {
                for &b in right {
                    match word {
                        Word::Arrow | Word::Blocks => out.push((b, a)),
                        Word::After => out.push((a, b)),
                    }
                }
            }
        }
    }
}

/// In `T005 after T004, T007 after T006` the list `T004, T007` is the object
/// of one keyword and, by its last ID, the subject of the next: split it.
fn split_shared_lists(clause: &mut Vec<Token>) {
    let mut k = 1;
    while k + 1 < clause.len() {
        let between_keys = matches!(clause[k - 1], Token::Key(Word::After | Word::Blocks))
            && matches!(clause[k + 1], Token::Key(Word::After | Word::Blocks));
        if between_keys {
            if let Token::Ids(list) = &mut clause[k] {
                if list.len() >= 2 {
                    let last = list.pop().unwrap_or_default();
                    clause.insert(k + 1, Token::Ids(vec![last]));
                    k += 1;
                }
            }
        }
        k += 1;
    }
}

/// Groups of task positions that run together, per phase in file order.
fn groups(file: &TaskFile) -> Vec<(Option<usize>, Vec<Range<usize>>)> {
    let mut out: Vec<(Option<usize>, Vec<Range<usize>>)> = Vec::new();
    for (i, task) in file.tasks.iter().enumerate() {
        if out.last().map_or(true, |(p, _)| *p != task.phase) {
            out.push((task.phase, Vec::new()));
        }
        let Some((_, groups)) = out.last_mut() else { continue };
        // A group is a run of consecutive tasks: a range, not a list.
        match groups.last_mut() {
            Some(group) if task.parallel && file.tasks[group.end - 1].parallel => group.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    out
}

/// The edges file order implies, over task nodes (`0..n`) and barrier
/// nodes (`n + i` waits for the tasks in `groups[i]`).
struct Implied {
    edges: Vec<(usize, usize)>,
    groups: Vec<Vec<usize>>,
}

/// The edges implied by phase order and `[P]` groups: a task after a group
/// of several tasks waits for one barrier node, so a boundary costs edges
/// in proportion to the tasks on its two sides, not their product.
fn implied_edges(file: &TaskFile, options: &Options) -> Implied {
    let n = file.tasks.len();
    let mut implied = Implied { edges: Vec::new(), groups: Vec::new() };
    // The barrier node of each (phase, group) already made.
    let mut barriers: FxMap<(usize, usize), usize> = FxMap::default();
    let mut target = |implied: &mut Implied, key: (usize, usize), members: &Range<usize>| -> usize {
        if members.len() == 1 {
            return members.start;
        }
        *barriers.entry(key).or_insert_with(|| {
            let node = n + implied.groups.len();
            implied.groups.push(members.clone().collect());
            implied.edges.extend(members.clone().map(|m| (node, m)));
            node
        })
    };
    let phases = groups(file);
    let story_of = |n: usize| phases[n].0.and_then(|p| file.phases.get(p)).and_then(|p| p.story.clone());
    // The latest non-story phase, and the latest phase of each story since it.
    let mut last_plain: Option<usize> = None;
    let mut stories: Vec<(String, usize)> = Vec::new();
    for (p, (_, groups)) in phases.iter().enumerate() {
        let story = if options.strict_phases { None } else { story_of(p) };
        let waits_for: Vec<usize> = if options.strict_phases {
            p.checked_sub(1).into_iter().collect()
        } else if let Some(story) = &story {
            match stories.iter().find(|(s, _)| s == story) {
                Some(&(_, same)) => vec![same],
                None => last_plain.into_iter().collect(),
            }
        } else if stories.is_empty() {
            last_plain.into_iter().collect()
        } else {
            stories.iter().map(|&(_, p)| p).collect()
        };
        if let Some(entry) = groups.first() {
            for &w in &waits_for {
                let exits = &phases[w].1;
                if let Some(exit) = exits.last() {
                    let node = target(&mut implied, (w, exits.len() - 1), exit);
                    implied.edges.extend(entry.clone().map(|t| (t, node)));
                }
            }
        }
        for (g, pair) in groups.windows(2).enumerate() {
            let node = target(&mut implied, (p, g), &pair[0]);
            implied.edges.extend(pair[1].clone().map(|t| (t, node)));
        }
        match story {
            Some(story) => match stories.iter_mut().find(|(s, _)| *s == story) {
                Some(entry) => entry.1 = p,
                None => stories.push((story, p)),
            },
            None => {
                last_plain = Some(p);
                stories.clear();
            }
        }
    }
    implied
}

/// A cycle as node positions: each waits for the next, the last is the
/// first. A long one keeps its ends around an [`ELIDED`] marker.
type Cycle = Vec<usize>;

/// Stands for the middle of a long cycle in a [`Cycle`].
const ELIDED: usize = usize::MAX;

/// The nodes a note shows at each end of a long cycle: a dependency
/// thousands of tasks ahead closes a cycle through all of them, and a note
/// per dropped link that names them all would be quadratic in the plan.
const CYCLE_ENDS: usize = 4;

/// Drops implied edges that close a cycle with explicit ones; returns each
/// with its cycle. In a cycle, an explicit edge `a → b` points forward in
/// file order and implied edges lead back from `b` to `a`; the one dropped
/// is the implied edge into `a` (whoever follows `a` by file order stops
/// waiting for it), and the waiter waits for what `a` waited for by file
/// order instead, so the rest of the order stands. A cycle of explicit
/// edges alone is returned as the error.
///
/// One depth-first search runs over the whole graph and breaks each cycle
/// where it finds it, then goes on from the waiter: dropping an edge and
/// adding the waiter's bypass never lets a node reach anything it did not
/// reach before, so a node once found to lead to no cycle stays so. Time
/// and memory stay linear in the plan however many dependencies point
/// ahead, and a cycle is reported only when there is one.
fn break_implied_cycles(
    nodes: usize,
    explicit: &[(usize, usize)],
    implied: &mut Vec<(usize, usize)>,
) -> Result<Vec<(usize, usize, Cycle)>, Cycle> {
    // (dep, explicit) per node.
    let mut adjacency: Vec<Vec<(usize, bool)>> = vec![Vec::new(); nodes];
    for (&(t, d), kind) in explicit.iter().map(|e| (e, true)).chain(implied.iter().map(|e| (e, false))) {
        if t != d {
            adjacency[t].push((d, kind));
        }
    }
    let mut dropped = Vec::new();
    let mut removed: HashSet<(usize, usize)> = HashSet::new();
    let mut bypasses: Vec<(usize, usize)> = Vec::new();
    // 0 new, 1 on the stack, 2 leads to no cycle.
    let mut color = vec![0u8; nodes];
    // Where each node on the stack is, and the stack: (node, next edge).
    let mut at = vec![0usize; nodes];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes {
        if color[root] != 0 {
            continue;
        }
        color[root] = 1;
        at[root] = 0;
        stack.push((root, 0));
        while let Some(&(node, next)) = stack.last() {
            let Some(&(dep, _)) = adjacency[node].get(next) else {
                color[node] = 2;
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            match color[dep] {
                0 => {
                    color[dep] = 1;
                    at[dep] = stack.len();
                    stack.push((dep, 0));
                }
                1 => {
                    // Step j leads from stack[j] to stack[j + 1] (the last
                    // one back to dep) by the edge just taken from it.
                    let first = at[dep];
                    let last = stack.len() - 1;
                    let explicit_step = |j: usize| {
                        let (from, taken) = stack[j];
                        adjacency[from][taken - 1].1
                    };
                    // The implied step into a task whose next step is explicit,
                    // looked for from the step that closed the cycle backwards.
                    let step = (first..=last)
                        .rev()
                        .find(|&j| !explicit_step(j) && explicit_step(if j == last { first } else { j + 1 }));
                    let cycle = |ends: usize| -> Cycle {
                        let len = last - first + 1;
                        let mut out: Cycle = Vec::with_capacity(len.min(2 * ends + 1) + 1);
                        if len <= 2 * ends + 1 {
                            out.extend(stack[first..].iter().map(|&(n, _)| n));
                        } else {
                            out.extend(stack[first..first + ends].iter().map(|&(n, _)| n));
                            out.push(ELIDED);
                            out.extend(stack[last + 1 - ends..].iter().map(|&(n, _)| n));
                        }
                        out.push(dep);
                        out
                    };
                    let Some(j) = step else { return Err(cycle(usize::MAX / 4)) };
                    let waiter = stack[j].0;
                    let into = if j == last { dep } else { stack[j + 1].0 };
                    dropped.push((waiter, into, cycle(CYCLE_ENDS)));
                    removed.insert((waiter, into));
                    let bypass: Vec<(usize, bool)> = adjacency[into]
                        .iter()
                        .filter(|&&(to, kind)| !kind && to != waiter && !removed.contains(&(waiter, to)))
                        .copied()
                        .collect();
                    // Back to the waiter: what was above it is explored again
                    // from its new edges.
                    for &(n, _) in &stack[j + 1..] {
                        color[n] = 0;
                    }
                    stack.truncate(j + 1);
                    let taken = stack[j].1;
                    let mut kept_before = 0;
                    let mut k = 0;
                    adjacency[waiter].retain(|&(d, kind)| {
                        let keep = kind || d != into;
                        if keep && k < taken {
                            kept_before += 1;
                        }
                        k += 1;
                        keep
                    });
                    stack[j].1 = kept_before;
                    bypasses.extend(bypass.iter().map(|&(to, _)| (waiter, to)));
                    adjacency[waiter].extend(bypass);
                }
                _ => {}
            }
        }
    }
    if !removed.is_empty() {
        implied.extend(bypasses);
        implied.retain(|e| !removed.contains(e));
    }
    Ok(dropped)
}

/// A cycle in the order work happens: `T003 → T005 → T003` (T005 waits for
/// T003); barrier nodes are left out, and so is the middle of a long one.
fn cycle_text(file: &TaskFile, cycle: &[usize]) -> String {
    let tasks: Vec<&str> = cycle
        .iter()
        .rev()
        .filter_map(|&p| if p == ELIDED { Some("…") } else { file.tasks.get(p).map(|t| t.id.as_str()) })
        .collect();
    let mut out: Vec<&str> = Vec::with_capacity(tasks.len());
    for id in tasks {
        if out.last() != Some(&id) {
            out.push(id);
        }
    }
    out.join(" → ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn heading_lines_has_every_line_with_a_hash() {
        for text in [
            "",
            "no hash\nat all\n",
            "# a\n## b\r\n  ### c\nx # y\n\n#\n##\r\nlast ##\r",
            "#",
            "é # ü\n\t# tab\n    # four\n##",
            "a\n\n###\r\n",
        ] {
            let ours: Vec<&str> = super::heading_lines(text).collect();
            let theirs: Vec<&str> = text.lines().filter(|l| l.contains('#')).collect();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    use std::path::Path;

    use crate::command_error::refusal;
    use crate::tasks::{edit, read, render, Options};

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tasks").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `ID deps` per task, for tasks that have deps.
    fn deps_of(text: &str, options: &Options) -> String {
        let file = read(text, options).expect("reads");
        file.tasks
            .iter()
            .map(|t| {
                let deps: Vec<&str> = file.all_deps(t).into_iter().map(|d| d.id.as_str()).collect();
                format!("{}: {}\n", t.id, deps.join(","))
            })
            .collect()
    }

    #[test]
    fn phases_run_in_order_and_stories_side_by_side() {
        assert_eq!(
            render(&read(&fixture("phases-and-stories.md"), &Options::default()).expect("reads")),
            "\
T001 L1-1 todo
T002 L7-7 todo phase=0 deps=T001
T003 L8-8 todo [P] phase=0 deps=T002
T004 L9-9 todo [P] phase=0 deps=T002
T005 L13-13 todo [P] phase=1 deps=T003,T004
T006 L14-14 todo [P] phase=1 deps=T003,T004
T007 L15-15 todo phase=1 deps=T005,T006
T008 L16-16 todo [P] phase=1 deps=T007
T009 L22-22 todo [P,US1] story=US1 phase=2 deps=T008
T010 L23-23 todo [P,US1] story=US1 phase=2 deps=T008
T011 L27-27 todo [US1] story=US1 phase=3 deps=T009,T010
T012 L31-31 todo [P,US2] story=US2 phase=4 deps=T008
T013 L32-32 todo [US2] story=US2 phase=4 deps=T012
T014 L36-36 todo [US3] story=US3 phase=5 deps=T008
T015 L40-40 todo [P] phase=6 deps=T011,T013,T014
T016 L41-41 todo [P] phase=6 deps=T011,T013,T014
T017 L45-45 todo [US4] story=US4 phase=7 deps=T015,T016
"
        );
    }

    #[test]
    fn strict_phases_make_every_phase_a_barrier() {
        let strict = Options { strict_phases: true, ..Options::default() };
        let deps = deps_of(&fixture("phases-and-stories.md"), &strict);
        let expected = "\
T001: 
T002: T001
T003: T002
T004: T002
T005: T003,T004
T006: T003,T004
T007: T005,T006
T008: T007
T009: T008
T010: T008
T011: T009,T010
T012: T011
T013: T012
T014: T013
T015: T014
T016: T014
T017: T015,T016
";
        assert_eq!(deps, expected);
    }

    #[test]
    fn every_explicit_notation() {
        let deps = deps_of(&fixture("dependency-notations.md"), &Options::default());
        let expected = "\
T001: 
T002: 
T003: T001,T002
T004: T003
T005: T001,T002
T006: T004
T007: T006
T008: 
T009: T008
T010: T008
T011: 
T012: 
T013: T012
T014: T011,T012
T015: T011,T012
T016: T001,T002
T017: T016
T018: T017
T019: T017
T020: T012,T014
";
        assert_eq!(deps, expected);
    }

    #[test]
    fn dependency_section_sentences() {
        let text = "\
## Phase 1

- [ ] T001 [P] a
- [ ] T002 [P] b
- [ ] T003 [P] c
- [ ] T004 [P] d
- [ ] T005 [P] e
- [ ] T006 [P] f
- [ ] T007 [P] g

## Dependencies & Execution Order

### Parallel Opportunities

- T003, T004 can run in parallel after T001, T002
- Sequential: T006 after T005, T007 after T006
- T005 depends on T004; T002 requires T001
- T001 … T002 ──► T004
- **Phase 2**: can start after Phase 1 (T001 is mentioned, nothing follows)

## Notes

- T007 -> T001 is not in a dependency section
";
        let expected = "\
T001: 
T002: T001
T003: T001,T002
T004: T001,T002
T005: T004
T006: T005
T007: T006
";
        assert_eq!(deps_of(text, &Options::default()), expected);
    }

    #[test]
    fn own_text_keywords_and_blocks() {
        let text = "\
- [ ] T001 [P] a, blocks T003
- [ ] T002 [P] b; requires T001 and needs nothing else
- [ ] T003 [P] c
- [ ] T004 [P] d, blocked by T003
- [ ] T005 [P] e mentions T004 and T001 but depends on none of them
- [ ] T006 [P] f
  - par: merged after T005
";
        let expected = "\
T001: 
T002: T001
T003: T001
T004: T003
T005: 
T006: 
";
        assert_eq!(deps_of(text, &Options::default()), expected);
    }

    #[test]
    fn a_cycle_is_an_error_that_names_it() {
        let err = read(&fixture("cycle.md"), &Options::default()).expect_err("a cycle");
        let refusal = refusal(&err).expect("a refusal");
        assert_eq!(refusal.message, "dependency cycle: T001 → T002 → T003 → T001");
        assert_eq!(refusal.hints.len(), 1);
        assert!(refusal.hints[0].contains("remove one of these dependencies"), "{:?}", refusal.hints);
    }

    #[test]
    fn a_self_dependency_is_ignored() {
        assert_eq!(deps_of("- [ ] T001 a (depends on T001)\n", &Options::default()), "T001: \n");
    }

    #[test]
    fn duplicate_ids_are_recorded_not_fatal() {
        let file =
            read(&fixture("duplicate-ids.md"), &Options::default()).expect("duplicates do not stop a read");
        assert_eq!(file.duplicates, [crate::tasks::Duplicate { id: "T001".to_string(), lines: vec![5, 7] }]);
        assert_eq!(file.duplicates[0].lines_text(), "lines 5 and 7");
        // The first T001 is the one the ID names; no task waits for itself.
        assert_eq!(file.get("T001").map(|t| t.line), Some(5));
        assert!(file.tasks.iter().all(|t| !t.deps.contains(&t.id)));
    }

    #[test]
    fn explicit_edges_win_over_file_order() {
        let file = read(&fixture("contradicting-order.md"), &Options::default()).expect("reads");
        let deps: Vec<String> =
            file.tasks.iter().map(|t| format!("{}: {}", t.id, t.deps.join(","))).collect();
        assert_eq!(deps, ["T001: ", "T002: T001,T003", "T003: T001"]);
        assert_eq!(
            file.notes,
            ["T003 does not wait for T002 as file order implies: explicit dependencies make T002 wait for T003 \
              (T002 → T003 → T002); T003 waits for what T002 waits for instead"]
        );
    }

    #[test]
    fn spelled_out_ids_take_ranges_and_arrows() {
        let text = "\
- [ ] TASK-001 a
- [ ] TASK-002 [P] b
- [ ] TASK-003 [P] c
- [ ] TASK-004 d

## Dependencies

TASK-002–TASK-003 -> TASK-004
";
        let expected = "\
TASK-001: 
TASK-002: TASK-001
TASK-003: TASK-001
TASK-004: TASK-002,TASK-003
";
        assert_eq!(deps_of(text, &Options::default()), expected);
    }

    #[test]
    fn ranges_cover_suffixed_ids_and_prefixes() {
        let text = "\
- [ ] I1-T001 [P] a
- [ ] I1-T002 [P] b
- [ ] I1-T002a [P] b2
- [ ] I1-T003 [P] c
- [ ] T001 [P] other prefix

## Dependency Graph

I1-T001-I1-T002 -> I1-T003
";
        let expected = "\
I1-T001: 
I1-T002: 
I1-T002a: 
I1-T003: I1-T001,I1-T002,I1-T002a
T001: 
";
        assert_eq!(deps_of(text, &Options::default()), expected);
    }

    #[test]
    fn the_option_optimizer_demo_plan() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/option-optimizer/specs/009-option-optimizer/tasks.md");
        let text = std::fs::read_to_string(&path).expect("demo plan");
        let file = read(&text, &Options::default()).expect("reads");
        let deps: String = deps_of(&text, &Options::default());
        assert_eq!(
            deps,
            "\
T001: 
T002: T001
T003: T001
T004: T001
T005: T001
T006: T002,T003,T004,T005
T007: T002,T003,T004,T005
T008: T002,T003,T004,T005
T009: T002,T003,T004,T005
T010: T002,T003,T004,T005
T011: T006,T007,T008,T009,T010
T012: T011
T013: T011
T014: T012,T013
T015: T012,T013
T016: T012,T013
T017: T014,T015,T016
T018: T017
T019: T011
T020: T011
T021: T011
T022: T014,T016,T019,T020,T021
T023: T018,T022
T024: T011
T025: T011
T026: T022,T024,T025
T027: T023,T026
T028: T018,T023,T027
T029: T018,T023,T027
T030: T028,T029
"
        );
        // T002–T010 are [P]; T008 and T009 share a file, so waves matter.
        let parallel: Vec<&str> =
            file.tasks[1..10].iter().filter(|t| t.parallel).map(|t| t.id.as_str()).collect();
        assert_eq!(parallel.len(), 9);
        let shared = "src/option_optimizer/data/__init__.py".to_string();
        let holders: Vec<&str> =
            file.tasks.iter().filter(|t| t.paths.contains(&shared)).map(|t| t.id.as_str()).collect();
        assert_eq!(holders, ["T008", "T009"]);
        let http: Vec<&str> =
            file.tasks.iter().filter(|t| t.classes().any(|c| c == "HTTP")).map(|t| t.id.as_str()).collect();
        assert_eq!(http, ["T007", "T008", "T009", "T025"]);
        let cpu: Vec<&str> =
            file.tasks.iter().filter(|t| t.classes().any(|c| c == "CPU")).map(|t| t.id.as_str()).collect();
        assert_eq!(cpu, ["T016", "T022", "T029"]);
        let rejected: Vec<_> = file.tasks.iter().flat_map(|t| t.rejected_paths.iter()).collect();
        assert!(rejected.is_empty(), "{rejected:?}");
    }

    #[test]
    fn phase_boundaries_link_only_exit_and_entry_groups() {
        // Three phases of a [P] group then a plain task: edges stay linear.
        let mut text = String::new();
        let mut n = 0;
        for phase in 0..3 {
            text.push_str(&format!("## Phase {phase}\n"));
            for _ in 0..50 {
                n += 1;
                text.push_str(&format!("- [ ] T{n:03} [P] work\n"));
            }
            n += 1;
            text.push_str(&format!("- [ ] T{n:03} join\n"));
        }
        let file = read(&text, &Options::default()).expect("reads");
        let edges: usize = file.tasks.iter().map(|t| t.deps.len() + t.after.len()).sum();
        // Each join waits for one barrier over its 50; each later [P] task waits for one join.
        assert_eq!(edges, 3 + 2 * 50);
        assert_eq!(file.groups.len(), 3);
        assert_eq!(file.groups[0].id, "T001..T050");
        assert_eq!(file.groups[0].tasks.len(), 50);
        assert_eq!(file.get("T052").expect("T052").deps, ["T051"]);
        let join = file.get("T051").expect("T051");
        assert!(join.deps.is_empty());
        assert_eq!(join.after, [0]);
        assert_eq!(file.unfinished_deps(join).len(), 50);
    }

    #[test]
    fn an_explicit_dependency_far_ahead_is_no_cycle() {
        // A chain of 6,000 tasks; the first explicitly waits for the 5,001st.
        let mut text = String::from("## Phase 1\n");
        for n in 1..=6000 {
            let extra = if n == 1 { " (depends on T5001)" } else { "" };
            text.push_str(&format!("- [ ] T{n:04} step{extra}\n"));
        }
        let file = read(&text, &Options::default()).expect("no cycle");
        assert_eq!(file.get("T0001").expect("T0001").deps, ["T5001"]);
        // Only the one file-order link into T0001 is dropped: T0002 waits for what T0001 waited for (nothing).
        assert!(file.get("T0002").expect("T0002").deps.is_empty());
        assert_eq!(file.get("T5001").expect("T5001").deps, ["T5000"]);
        assert_eq!(file.notes.len(), 1, "{:?}", file.notes);
    }

    /// Whether the tasks' waits (direct and through groups) form no cycle.
    fn acyclic(file: &crate::tasks::TaskFile) -> bool {
        let n = file.tasks.len();
        let index: std::collections::HashMap<&str, usize> =
            file.tasks.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
        let waits: Vec<Vec<usize>> = file
            .tasks
            .iter()
            .map(|t| {
                let mut w: Vec<usize> = t.deps.iter().map(|d| index[d.as_str()]).collect();
                w.extend(t.after.iter().flat_map(|&g| file.groups[g].tasks.iter().copied()));
                w
            })
            .collect();
        let mut blocking = vec![0usize; n];
        let mut waiters: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (t, list) in waits.iter().enumerate() {
            blocking[t] = list.len();
            for &d in list {
                waiters[d].push(t);
            }
        }
        let mut ready: Vec<usize> = (0..n).filter(|&t| blocking[t] == 0).collect();
        let mut done = 0;
        while let Some(t) = ready.pop() {
            done += 1;
            for &w in &waiters[t] {
                blocking[w] -= 1;
                if blocking[w] == 0 {
                    ready.push(w);
                }
            }
        }
        done == n
    }

    #[test]
    fn many_dependencies_far_ahead_are_no_cycle() {
        // One phase of 1,600 tasks in file order; each of the first 1,500
        // waits for the task 100 after it. Each closes cycles with file
        // order, broken one link at a time (T01501 can wait for no task
        // before it: every one of them waits, through the tasks ahead, for
        // T02001): more links than the search once allowed itself before it
        // called the plan a cycle.
        let mut text = String::from("## Phase 1\n");
        for n in 1..=1_600 {
            let extra = if n <= 1_500 { format!(" (depends on T{:05})", n + 100) } else { String::new() };
            text.push_str(&format!("- [ ] T{n:05} step{extra}\n"));
        }
        let file = read(&text, &Options::default()).expect("no cycle");
        assert!(file.notes.len() > 10_000, "{}", file.notes.len());
        assert!(acyclic(&file));
        for n in 1..=1_500 {
            let id = format!("T{n:05}");
            let want = format!("T{:05}", n + 100);
            assert!(file.get(&id).expect("task").deps.contains(&want), "{id} waits for {want}");
        }
        assert!(file.get("T01501").expect("T01501").deps.is_empty());
        assert_eq!(file.get("T01502").expect("T01502").deps, ["T01501"]);
        // A note names the ends of its long cycle, not its 100 tasks.
        let note = &file.notes[0];
        assert!(note.contains(" → … → "), "{note}");
        assert!(note.len() < 400, "{note}");
    }

    #[test]
    fn a_result_line_in_a_dependency_section_states_no_dependency() {
        // Found by the `edit` fuzz target: the result line of a task under a
        // dependencies heading was read as `T2 blocks T1`.
        let text = "- [ ] T1 first\n## Dependencies\n- [ ] T2 second\n";
        let landed = edit::set_result(text, "T2", "T2 blocks T1").unwrap();
        assert_eq!(read(text, &Options::default()).unwrap().tasks[0].deps, Vec::<String>::new());
        assert_eq!(read(&landed, &Options::default()).unwrap().tasks[0].deps, Vec::<String>::new());
    }
}
