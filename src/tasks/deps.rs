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
//! An arrow or keyword links only ID lists right next to it, so prose that
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
//! notation wins: the implied edges on the cycle are dropped and a note says
//! so. A cycle of explicit edges alone is an error naming it.

use std::collections::HashMap;

use super::parse::{self, Kind};
use super::{Options, TaskFile};
use crate::error::Refusal;

/// Fills every task's `deps`; fails on duplicate IDs and on cycles, naming them.
pub fn resolve(file: &mut TaskFile, text: &str, options: &Options) -> anyhow::Result<()> {
    check_duplicates(file)?;
    let (explicit, implied) = {
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
        let mut implied = implied_edges(file, options);
        implied.retain(|(t, d)| t != d);
        (explicit, implied)
    };
    let mut implied = implied;
    let dropped = match break_implied_cycles(file.tasks.len(), &explicit, &mut implied) {
        Ok(dropped) => dropped,
        Err(cycle) => {
            return Err(Refusal::failed(format!("dependency cycle: {}", cycle_text(file, &cycle)))
                .hint("each task in the cycle waits for the one before it; remove one of these dependencies from the task file")
                .into())
        }
    };
    for (task, dep, cycle) in dropped {
        let note = format!(
            "{} no longer waits for {} by file order: the explicit dependencies {} say otherwise",
            file.tasks[task].id,
            file.tasks[dep].id,
            cycle_text(file, &cycle)
        );
        file.notes.push(note);
    }

    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); file.tasks.len()];
    for &(t, d) in explicit.iter().chain(implied.iter()) {
        deps[t].push(d);
    }
    let named: Vec<Vec<String>> = deps
        .into_iter()
        .map(|mut list| {
            list.sort_unstable();
            list.dedup();
            list.into_iter().map(|d| file.tasks[d].id.clone()).collect()
        })
        .collect();
    for (task, list) in file.tasks.iter_mut().zip(named) {
        task.deps = list;
    }
    Ok(())
}

/// Refuses a file where two tasks share an ID.
fn check_duplicates(file: &TaskFile) -> anyhow::Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(file.tasks.len());
    for task in &file.tasks {
        if let Some(first) = seen.insert(&task.id, task.line) {
            return Err(Refusal::failed(format!(
                "task ID {} is used twice, on lines {} and {}",
                task.id, first, task.line
            ))
            .hint(format!("rename one of them (e.g. {}a) so every task has its own ID", task.id))
            .into());
        }
    }
    Ok(())
}

/// The task IDs of a file, by text and by number for ranges.
struct IdIndex<'a> {
    by_id: HashMap<&'a str, usize>,
    /// (prefix, number) → positions, for ranges.
    by_number: HashMap<(&'a str, u64), Vec<usize>>,
}

impl<'a> IdIndex<'a> {
    fn new(file: &'a TaskFile) -> IdIndex<'a> {
        let mut by_id = HashMap::with_capacity(file.tasks.len());
        let mut by_number: HashMap<(&str, u64), Vec<usize>> = HashMap::with_capacity(file.tasks.len());
        for (i, task) in file.tasks.iter().enumerate() {
            by_id.insert(task.id.as_str(), i);
            if let Some(key) = number_key(&task.id) {
                by_number.entry(key).or_default().push(i);
            }
        }
        IdIndex { by_id, by_number }
    }

    /// The tasks of a range `from..=to` (same prefix, numbers in between).
    fn range(&self, from: &str, to: &str, out: &mut Vec<usize>) {
        let (Some((prefix, a)), Some((prefix_to, b))) = (number_key(from), number_key(to)) else { return };
        if prefix != prefix_to || a > b || b - a > 100_000 {
            return;
        }
        let mut found: Vec<usize> = Vec::new();
        for n in a..=b {
            if let Some(positions) = self.by_number.get(&(prefix, n)) {
                found.extend(positions);
            }
        }
        found.sort_unstable();
        out.extend(found);
    }
}

/// `I1-T041a` → (`I1-T`, 41).
fn number_key(id: &str) -> Option<(&str, u64)> {
    let t = id.rfind('T')?;
    let digits = id[t + 1..].bytes().take_while(u8::is_ascii_digit).count();
    Some((&id[..=t], id[t + 1..t + 1 + digits].parse().ok()?))
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
    if let Some(&pos) = ids.by_id.get(word) {
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
    if !bytes.iter().enumerate().any(|(i, &b)| b == b'T' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
    {
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
fn groups(file: &TaskFile) -> Vec<(Option<usize>, Vec<Vec<usize>>)> {
    let mut out: Vec<(Option<usize>, Vec<Vec<usize>>)> = Vec::new();
    for (i, task) in file.tasks.iter().enumerate() {
        if out.last().map_or(true, |(p, _)| *p != task.phase) {
            out.push((task.phase, Vec::new()));
        }
        let Some((_, groups)) = out.last_mut() else { continue };
        match groups.last_mut() {
            Some(group) if task.parallel && group.last().is_some_and(|&g| file.tasks[g].parallel) => {
                group.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    out
}

/// `(task, dep)` pairs implied by phase order and `[P]` groups.
fn implied_edges(file: &TaskFile, options: &Options) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    let phases = groups(file);
    let story_of = |n: usize| phases[n].0.and_then(|p| file.phases.get(p)).and_then(|p| p.story.clone());
    // The latest non-story phase, and the latest phase of each story since it.
    let mut last_plain: Option<usize> = None;
    let mut stories: Vec<(String, usize)> = Vec::new();
    for (n, (_, groups)) in phases.iter().enumerate() {
        let story = if options.strict_phases { None } else { story_of(n) };
        let waits_for: Vec<usize> = if options.strict_phases {
            n.checked_sub(1).into_iter().collect()
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
                if let Some(exit) = phases[w].1.last() {
                    for &t in entry {
                        edges.extend(exit.iter().map(|&d| (t, d)));
                    }
                }
            }
        }
        for pair in groups.windows(2) {
            for &t in &pair[1] {
                edges.extend(pair[0].iter().map(|&d| (t, d)));
            }
        }
        match story {
            Some(story) => match stories.iter_mut().find(|(s, _)| *s == story) {
                Some(entry) => entry.1 = n,
                None => stories.push((story, n)),
            },
            None => {
                last_plain = Some(n);
                stories.clear();
            }
        }
    }
    edges
}

/// A cycle as positions: each task waits for the next, the last is the first.
type Cycle = Vec<usize>;

/// Drops implied edges that close a cycle with explicit ones; returns them
/// with their cycle. A cycle of explicit edges alone is returned as the error.
fn break_implied_cycles(
    n: usize,
    explicit: &[(usize, usize)],
    implied: &mut Vec<(usize, usize)>,
) -> Result<Vec<(usize, usize, Cycle)>, Cycle> {
    let mut dropped = Vec::new();
    loop {
        let Some(cycle) = find_cycle(n, explicit, implied) else { return Ok(dropped) };
        // `cycle` lists positions t0 → t1 → ... → t0 where each depends on the next.
        let steps: Vec<(usize, usize)> = cycle.windows(2).map(|w| (w[0], w[1])).collect();
        let explicit_steps: std::collections::HashSet<(usize, usize)> = explicit.iter().copied().collect();
        let to_drop: Vec<(usize, usize)> =
            steps.iter().copied().filter(|s| !explicit_steps.contains(s)).collect();
        if to_drop.is_empty() {
            return Err(cycle);
        }
        implied.retain(|e| !to_drop.contains(e));
        for (t, d) in to_drop {
            dropped.push((t, d, cycle.clone()));
        }
    }
}

/// A cycle in the order work happens: `T003 → T005 → T003` (T005 waits for T003).
fn cycle_text(file: &TaskFile, cycle: &[usize]) -> String {
    cycle.iter().rev().map(|&p| file.tasks[p].id.as_str()).collect::<Vec<_>>().join(" → ")
}

/// A cycle in the graph (task → dep), as positions `a → b → ... → a`.
fn find_cycle(n: usize, explicit: &[(usize, usize)], implied: &[(usize, usize)]) -> Option<Vec<usize>> {
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(t, d) in explicit.iter().chain(implied) {
        if t != d {
            adjacency[t].push(d);
        }
    }
    // Iterative DFS with colors: 0 new, 1 on the stack, 2 done.
    let mut color = vec![0u8; n];
    let mut parent = vec![usize::MAX; n];
    for root in 0..n {
        if color[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = adjacency[node].get(*next) {
                *next += 1;
                match color[dep] {
                    0 => {
                        color[dep] = 1;
                        parent[dep] = node;
                        stack.push((dep, 0));
                    }
                    1 => {
                        // node → dep closes a cycle: walk back from node to dep.
                        let mut cycle = vec![node];
                        let mut at = node;
                        while at != dep {
                            at = parent[at];
                            cycle.push(at);
                        }
                        cycle.reverse();
                        cycle.push(dep);
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                color[node] = 2;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::tasks::{edit, read, Options};

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
