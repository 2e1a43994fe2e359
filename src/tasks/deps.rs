//! Dependencies: explicit notations, phase order and `[P]` groups (DESIGN §3).
//!
//! Explicit edges come from
//! - a task's own description and details (not its `par:` result line):
//!   `depends on T001, T002`, `Depends on: I1-T001`, `[deps: T001]`,
//!   `after T003`, `requires T002`, `blocked by T004`, `**Depends On**: T01`,
//!   and `blocks T009` (the other way round);
//! - dependency sections — a heading that says `depend`, `execution order`
//!   or `critical path`, down to the next heading of its level or above —
//!   and every mermaid block: `T008 blocks T009, T015`, `T004-T007 before
//!   T008-T014`, `T005 after T004`, `T003 depends on T001`, arrow chains
//!   (`->`, `-->`, `→`, `──►`, `=>`, `⇒`) between ID lists (`T001, T002`,
//!   `{T005, T006}`, `T005 & T009`, ranges `T004-T007`, `T004–T007`,
//!   `T008…T030`); mermaid node labels (`T001[...]`) and edge labels
//!   (`-->|x|`) are skipped.
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
    let ids = IdIndex::new(file);
    let mut explicit: Vec<(usize, usize)> = Vec::new();
    for (i, task) in file.tasks.iter().enumerate() {
        own_edges(i, &task.description, &ids, &mut explicit);
        for detail in task.details.iter().filter(|d| !d.starts_with("par:")) {
            own_edges(i, detail, &ids, &mut explicit);
        }
    }
    section_edges(text, &ids, &mut explicit);
    explicit.retain(|(t, d)| t != d);

    let mut implied = implied_edges(file, options);
    implied.retain(|(t, d)| t != d);
    let dropped = match break_implied_cycles(file.tasks.len(), &explicit, &mut implied) {
        Ok(dropped) => dropped,
        Err(cycle) => {
            return Err(Refusal::failed(format!("dependency cycle: {}", cycle_text(file, &cycle)))
                .hint("each task in the cycle waits for the one before it; remove one of these dependencies from the task file")
                .into())
        }
    };
    for (task, dep, cycle) in dropped {
        file.notes.push(format!(
            "{} no longer waits for {} by file order: the explicit dependencies {} say otherwise",
            file.tasks[task].id,
            file.tasks[dep].id,
            cycle_text(file, &cycle)
        ));
    }

    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); file.tasks.len()];
    for &(t, d) in explicit.iter().chain(implied.iter()) {
        deps[t].push(d);
    }
    for (task, mut list) in file.tasks.iter_mut().zip(deps) {
        list.sort_unstable();
        list.dedup();
        task.deps = list.into_iter().map(|d| ids.ids[d].clone()).collect();
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
struct IdIndex {
    ids: Vec<String>,
    by_id: HashMap<String, usize>,
    /// (prefix, number) → positions, for ranges.
    by_number: HashMap<(String, u64), Vec<usize>>,
}

impl IdIndex {
    fn new(file: &TaskFile) -> IdIndex {
        let ids: Vec<String> = file.tasks.iter().map(|t| t.id.clone()).collect();
        let mut by_id = HashMap::with_capacity(ids.len());
        let mut by_number: HashMap<(String, u64), Vec<usize>> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            by_id.insert(id.clone(), i);
            if let Some(key) = number_key(id) {
                by_number.entry(key).or_default().push(i);
            }
        }
        IdIndex { ids, by_id, by_number }
    }

    /// The tasks of a range `from..=to` (same prefix, numbers in between).
    fn range(&self, from: &str, to: &str, out: &mut Vec<usize>) {
        let (Some((prefix, a)), Some((prefix_to, b))) = (number_key(from), number_key(to)) else { return };
        if prefix != prefix_to || a > b || b - a > 100_000 {
            return;
        }
        let mut found: Vec<usize> = Vec::new();
        for n in a..=b {
            if let Some(positions) = self.by_number.get(&(prefix.clone(), n)) {
                found.extend(positions);
            }
        }
        found.sort_unstable();
        out.extend(found);
    }
}

/// `I1-T041a` → (`I1-T`, 41).
fn number_key(id: &str) -> Option<(String, u64)> {
    let t = id.rfind('T')?;
    let digits: String = id[t + 1..].chars().take_while(char::is_ascii_digit).collect();
    Some((id[..=t].to_string(), digits.parse().ok()?))
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
fn tokenize(line: &str, ids: &IdIndex) -> Vec<Vec<Token>> {
    let text: String = line.chars().map(|c| if matches!(c, '*' | '`' | '_') { ' ' } else { c }).collect();
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let tokens = &mut current;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ';'
            || (c == '.' && chars.get(i + 1).map_or(true, |n| n.is_whitespace()) && !prev_is_dot(&chars, i))
        {
            clauses.push(std::mem::take(tokens));
            i += 1;
            continue;
        }
        if let Some(len) = arrow_len(&chars, i) {
            tokens.push(Token::Key(Word::Arrow));
            i += len;
            // A mermaid edge label: `-->|text|`.
            let mut j = i;
            while chars.get(j).is_some_and(|c| *c == ' ') {
                j += 1;
            }
            if chars.get(j) == Some(&'|') {
                if let Some(end) = chars[j + 1..].iter().position(|c| *c == '|') {
                    i = j + 1 + end + 1;
                }
            }
            continue;
        }
        if c.is_alphanumeric() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '-' && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let boundary = start == 0 || !(chars[start - 1].is_alphanumeric());
            if boundary {
                if let Some(ids_found) = id_word(&word, &chars, &mut i, ids) {
                    push_ids(tokens, ids_found);
                    continue;
                }
            }
            push_word(tokens, &word, &chars, &mut i);
            continue;
        }
        i += 1;
    }
    clauses.push(current);
    clauses
}

fn prev_is_dot(chars: &[char], i: usize) -> bool {
    i > 0 && chars[i - 1] == '.'
}

/// The length of an arrow at `i`: `->`, `-->`, `==>`, `=>`, `-.->`, `──►`, `→`, `⟶`, `⇒`.
fn arrow_len(chars: &[char], i: usize) -> Option<usize> {
    let c = chars[i];
    if matches!(c, '→' | '⟶' | '⇒' | '➔' | '➜' | '⟹' | '►' | '▶' | '⇨') {
        return Some(1);
    }
    if !matches!(c, '-' | '=' | '─' | '.') {
        return None;
    }
    let mut j = i;
    while j < chars.len() && matches!(chars[j], '-' | '=' | '─' | '.') {
        j += 1;
    }
    let shaft = &chars[i..j];
    if shaft.iter().all(|c| *c == '.') {
        return None;
    }
    match chars.get(j) {
        Some('>' | '►' | '▶') => Some(j - i + 1),
        _ => None,
    }
}

/// An ID word (and a range after it, and a mermaid node label) as positions.
fn id_word(word: &str, chars: &[char], i: &mut usize, ids: &IdIndex) -> Option<Vec<usize>> {
    let len = parse::id_len(word)?;
    if len != word.len() {
        // `T004-T007` is read as one word; split a range here.
        let (from, rest) = word.split_at(len);
        let to = rest.strip_prefix('-')?;
        if parse::id_len(to) != Some(to.len()) {
            return None;
        }
        let mut out = Vec::new();
        ids.range(from, to, &mut out);
        return Some(out);
    }
    let mut out = Vec::new();
    // Ranges with an en dash, an ellipsis or dots: `T004–T007`, `T008…T030`, `T1..T3`.
    let mut j = *i;
    let sep_len = match (chars.get(j), chars.get(j + 1), chars.get(j + 2)) {
        (Some('–' | '—' | '…'), _, _) => 1,
        (Some('.'), Some('.'), Some('.')) => 3,
        (Some('.'), Some('.'), _) => 2,
        _ => 0,
    };
    if sep_len > 0 {
        j += sep_len;
        let start = j;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '-') {
            j += 1;
        }
        let to: String = chars[start..j].iter().collect();
        if parse::id_len(&to) == Some(to.len()) {
            ids.range(word, &to, &mut out);
            *i = j;
            skip_node_label(chars, i);
            return Some(out);
        }
    }
    if let Some(&pos) = ids.by_id.get(word) {
        out.push(pos);
    }
    skip_node_label(chars, i);
    Some(out)
}

/// Skips a mermaid node label right after an ID: `T001[Setup]`, `T2(x)`, `T3{y}`.
fn skip_node_label(chars: &[char], i: &mut usize) {
    let Some(&open) = chars.get(*i) else { return };
    let close = match open {
        '[' => ']',
        '(' => ')',
        '{' => '}',
        _ => return,
    };
    let mut depth = 0;
    let mut j = *i;
    while j < chars.len() {
        if chars[j] == open {
            depth += 1;
        } else if chars[j] == close {
            depth -= 1;
            if depth == 0 {
                *i = j + 1;
                return;
            }
        }
        j += 1;
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
fn push_word(tokens: &mut Vec<Token>, word: &str, chars: &[char], i: &mut usize) {
    let lower = word.to_lowercase();
    let next_word = |i: usize| -> (String, usize) {
        let mut j = i;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        let start = j;
        while chars.get(j).is_some_and(|c| c.is_alphanumeric()) {
            j += 1;
        }
        (chars[start..j].iter().collect::<String>().to_lowercase(), j)
    };
    let followed_by_colon = |i: usize| {
        let mut j = i;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        chars.get(j) == Some(&':')
    };
    let key = match lower.as_str() {
        "and" | "et" | "und" => return,
        "blocks" | "before" | "unblocks" | "precedes" => Some(Word::Blocks),
        "after" | "requires" | "needs" => Some(Word::After),
        "depends" | "depend" | "blocked" => {
            let (next, end) = next_word(*i);
            if matches!(next.as_str(), "on" | "upon" | "by") {
                *i = end;
                Some(Word::After)
            } else if followed_by_colon(*i) {
                Some(Word::After)
            } else {
                None
            }
        }
        "deps" | "dependencies" | "prerequisites" | "prereqs" if followed_by_colon(*i) => Some(Word::After),
        _ => None,
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

/// Edges a task's own text declares: `depends on T001`, `after T003`, `blocks T009`.
fn own_edges(task: usize, text: &str, ids: &IdIndex, out: &mut Vec<(usize, usize)>) {
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
            Kind::Text => line.visible.as_str(),
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
            if parse::checkbox(content).is_some() {
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
