//! Files a task writes without naming them (DESIGN §3 "Paths on real
//! plans"): real plans name a file once and keep writing it. After every
//! task's own text is resolved, a task that names no path it writes (and
//! is no check: `Verify`, `Run`, `... review`) takes, in this order:
//!
//! 1. the one file of the task before it in its section, when it points
//!    back at it (`in frontmatter`, `in the same file`);
//! 2. the path of a term of the plan's glossary it writes into: a "Path
//!    Conventions" section lists `**Skill file**: .claude/skills/x/SKILL.md`,
//!    and the task says `... in skill instructions`;
//! 3. for a task that writes tests, the test file an earlier task wrote
//!    whose name's words the task uses (`TaskServiceTest.java`, then `Write
//!    service test for the update of a task`): the one with the most words,
//!    when only one has that many;
//! 4. the one path its user story has written so far (`Update
//!    configuration.mdx` then `Document the registry options`);
//! 5. the plan's only file: the glossary and `plan.md`'s tree name one file
//!    the feature writes (the other entries are read or its directories),
//!    some task names it, and the task's story (or phase) has written no
//!    other file so far.
//!
//! Before these, a task that starts by changing one of the spec folder's
//! documents (`Update quickstart.md ...`) writes the one in the spec folder
//! the task file's preamble names (`Design documents from /specs/003-x/`).
//!
//! Anything else stays without paths: it runs alone and acquires what it
//! commits. A wrong lock costs a refused commit and a rerun; a task that
//! says nothing about where it writes gets no guess beyond these.

use super::{
    declarations, listed, normalize, placeholder, scan_found, test_path, words, writes_tests, Candidate,
    Context, Found, From, FxMap, Resolved, CHECK_WORDS, SPEC_DOCS, WRITE_VERBS,
};
use crate::tasks::Task;

/// Words that make a task a check when no write verb comes with them
/// (`Final link checking across all pages`, `Build testing and validation`).
const CHECK_NOUNS: &[&str] = &[
    "audit",
    "check",
    "checking",
    "checks",
    "review",
    "test",
    "testing",
    "tests",
    "validation",
    "verification",
];

/// Words of a glossary term that say what kind of thing it is, not which.
const GENERIC: &[&str] = &[
    "dir",
    "directory",
    "directories",
    "file",
    "files",
    "folder",
    "folders",
    "main",
    "path",
    "paths",
    "root",
    "the",
];

/// Phrases by which a task points back at the file of the task before it.
const BACK_REFERENCES: &[&str] =
    &["frontmatter", "front matter", "front-matter", "same file", "this file", "that file", "the file above"];

/// What a task continues: its user story, or outside stories its phase.
#[derive(PartialEq, Eq, Hash)]
enum Group {
    Story(String),
    Phase(Option<usize>),
}

impl Group {
    fn of(task: &Task) -> Group {
        match &task.story {
            Some(story) => Group::Story(story.clone()),
            None => Group::Phase(task.phase),
        }
    }
}

/// One entry of the plan's glossary (`**Skill file**: path (note)`).
struct Term {
    /// The term's own words, lowercase, without generic ones (`skill`).
    words: Vec<String>,
    /// The paths it names, normalised.
    paths: Vec<String>,
    /// Its note says the feature only reads it (`read-only reference`).
    read_only: bool,
}

/// Gives pathless tasks the file they continue (see the module comment).
/// `sections[i]` is the heading and prose of section `i`; `section_of[t]` the section of task `t`.
pub(super) fn carry(tasks: &mut [Task], sections: &[String], section_of: &[usize], cx: &Context) {
    if !tasks.iter().any(|t| t.paths.is_empty()) {
        return;
    }
    let glossary = glossary(sections, section_of);
    let spec_dir = spec_dir(sections, section_of);
    let target = only_file(&glossary, cx, tasks);
    // Paths the tasks of each story (or, outside stories, each phase) named
    // themselves (two at most: more says no less), and the last such task.
    let mut groups: FxMap<Group, (Vec<String>, usize)> = FxMap::default();
    // Whether task `i` named its paths itself (not carried over).
    let mut own = vec![false; tasks.len()];
    // The files tasks named so far, with the words of their names.
    let mut named: Vec<(String, Vec<String>)> = Vec::new();
    for i in 0..tasks.len() {
        if !tasks[i].paths.is_empty() {
            own[i] = true;
            for path in &tasks[i].paths {
                if !path.ends_with('/') && test_path(path) && !named.iter().any(|(p, _)| p == path) {
                    named.push((path.clone(), name_words(path)));
                }
            }
            let paths = &tasks[i].paths;
            match groups.get_mut(&Group::of(&tasks[i])) {
                Some((seen, last)) => {
                    for p in paths {
                        if seen.len() < 2 && !seen.contains(p) {
                            seen.push(p.clone());
                        }
                    }
                    *last = i;
                }
                None => {
                    let seen: Vec<String> = paths.iter().take(2).cloned().collect();
                    groups.insert(Group::of(&tasks[i]), (seen, i));
                }
            }
            continue;
        }
        let task = &tasks[i];
        if !declarations(task).is_empty() || is_check(task) || ambiguous(task) {
            continue;
        }
        if let Some((path, text)) = spec_dir.as_deref().and_then(|dir| spec_document(&task.description, dir))
        {
            let task = &mut tasks[i];
            task.paths = vec![path.clone()];
            task.resolved = vec![Resolved { path, from: From::Heading, text }];
            continue;
        }
        let section = section_of.get(i).copied();
        let previous = i
            .checked_sub(1)
            .filter(|&p| own[p] && section_of.get(p).copied() == section)
            .and_then(|p| match tasks[p].paths.as_slice() {
                [one] if !one.ends_with('/') => Some((one.clone(), p)),
                _ => None,
            });
        let lower = task.description.to_ascii_lowercase();
        let carried: Option<(String, From, String)> = previous
            .filter(|_| BACK_REFERENCES.iter().any(|phrase| lower.contains(phrase)))
            .map(|(path, p)| (path, From::Heading, format!("continues {}", tasks[p].id)))
            .or_else(|| {
                term_written_into(&task.description, &glossary).map(|(path, term)| (path, From::Plan, term))
            })
            .or_else(|| {
                if !writes_tests(&task.description) {
                    return None;
                }
                let path = named_file(&task.description, &named)?;
                let text = format!("named like {path}");
                Some((path, From::Heading, text))
            })
            .or_else(|| {
                task.story.as_ref()?;
                let (seen, last) = groups.get(&Group::of(task))?;
                match seen.as_slice() {
                    [one] => Some((one.clone(), From::Heading, format!("continues {}", tasks[*last].id))),
                    _ => None,
                }
            })
            .or_else(|| {
                // Not when the task's story (or phase) has written another file:
                // then the plan's tree does not tell the whole story.
                let target = target.as_ref()?;
                let others =
                    groups.get(&Group::of(task)).is_some_and(|(seen, _)| seen.iter().any(|p| p != target));
                (!others).then(|| (target.clone(), From::Plan, "the plan's only file".to_string()))
            });
        if let Some((path, from, text)) = carried {
            let task = &mut tasks[i];
            task.paths = vec![path.clone()];
            task.resolved = vec![Resolved { path, from, text }];
        }
    }
}

/// The words of a file's name, lowercase (`TaskServiceTest.java` → task,
/// service, test; `task_repo.py` → task, repo): none for a name of one word.
fn name_words(path: &str) -> Vec<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let out = split_words(stem);
    if out.len() < 2 {
        return Vec::new();
    }
    out
}

/// The words of `text`, lowercase, identifiers split at `_`, `-` and
/// case changes (`findAllTasks` → find, all, tasks).
fn split_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The file named so far (the last 256) whose name's words all appear in
/// `description`, with the most such words; none when two tie.
fn named_file(description: &str, named: &[(String, Vec<String>)]) -> Option<String> {
    let said = split_words(description);
    let uses = |w: &String| {
        said.iter()
            .any(|s| s == w || (s.len() == w.len() + 1 && s.starts_with(w.as_str()) && s.ends_with('s')))
    };
    let mut best: Option<(&str, usize)> = None;
    let mut tie = false;
    for (path, name) in named.iter().rev().take(256) {
        if name.is_empty() || !name.iter().all(uses) {
            continue;
        }
        match best {
            Some((_, n)) if n > name.len() => {}
            Some((_, n)) if n == name.len() => tie = true,
            _ => {
                best = Some((path, name.len()));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(path, _)| path.to_string())
}

/// Whether a task only checks, runs or studies: it starts with a check word
/// (`Verify`, `Test`), or names a check (`link checking`) and no write verb.
pub(crate) fn is_check(task: &Task) -> bool {
    let mut all = words(&task.description);
    if all.next().is_some_and(|first| listed(CHECK_WORDS, first) || listed(&["test", "tests"], first)) {
        return true;
    }
    let mut check = false;
    for word in words(&task.description) {
        if listed(WRITE_VERBS, word) {
            return false;
        }
        check |= listed(CHECK_NOUNS, word);
    }
    check
}

/// Whether the task names something the resolver could not place: it
/// should be written out, not guessed over.
fn ambiguous(task: &Task) -> bool {
    task.rejected_paths.iter().any(|r| r.reason.starts_with("ambiguous"))
}

/// The glossary of the task file: entries `**Term**: path` in sections
/// without tasks whose heading is about paths or the project's structure
/// (not a phase's heading: `Phase 4: Plan Structure` is about a story).
fn glossary(sections: &[String], section_of: &[usize]) -> Vec<Term> {
    let mut has_tasks = vec![false; sections.len()];
    for &s in section_of {
        if let Some(slot) = has_tasks.get_mut(s) {
            *slot = true;
        }
    }
    let mut out = Vec::new();
    for (s, text) in sections.iter().enumerate() {
        let mut lines = text.lines();
        let title = lines.next().unwrap_or("").to_ascii_lowercase();
        let about_paths = [
            "path",
            "convention",
            "project structure",
            "file structure",
            "directory structure",
            "folder structure",
            "layout",
            "file location",
            "key files",
            "file map",
        ]
        .iter()
        .any(|w| title.contains(w))
            && !title.contains("phase")
            && !title.contains("story");
        if has_tasks.get(s).copied().unwrap_or(true) || !about_paths {
            continue;
        }
        out.extend(lines.filter_map(term));
    }
    out
}

/// One glossary line: `- **Skill file**: `x/SKILL.md` (main file)`.
fn term(line: &str) -> Option<Term> {
    let line = line.trim().trim_start_matches(['-', '*', '+']).trim_start();
    let (name, rest) = if let Some(bold) = line.strip_prefix("**") {
        let end = bold.find("**")?;
        let name = bold[..end].trim_end_matches(':');
        (name, bold[end + 2..].trim_start_matches(':'))
    } else {
        let (name, rest) = line.split_once(':')?;
        (name, rest)
    };
    if name.contains('`') || name.split_whitespace().count() > 4 {
        return None;
    }
    let words: Vec<String> =
        words(name).filter(|w| !listed(GENERIC, w)).map(|w| w.to_ascii_lowercase()).collect();
    let mut found: Vec<Found> = Vec::new();
    scan_found(rest, &mut found);
    let paths: Vec<String> = found
        .iter()
        .filter_map(|f| match f.candidate {
            Candidate::Path(p) | Candidate::Maybe(p) => Some(p),
            Candidate::Unsure(..) => None,
        })
        .map(|p| p.trim_start_matches('/'))
        .filter(|p| !placeholder(p) && !p.contains(['*', '?', '[']))
        .filter_map(|p| normalize(p).ok().map(|n| n.into_owned()))
        .collect();
    if words.is_empty() || paths.is_empty() {
        return None;
    }
    let note = rest.to_ascii_lowercase();
    let read_only = ["read-only", "read only", "read by", "reference", "unchanged", "not modified"]
        .iter()
        .any(|m| note.contains(m));
    Some(Term { words, paths, read_only })
}

/// The path of the glossary term a task writes into (`... in skill
/// instructions`, `to the config file`), when exactly one place fits.
fn term_written_into(description: &str, glossary: &[Term]) -> Option<(String, String)> {
    if glossary.is_empty() {
        return None;
    }
    let all: Vec<&str> = description.split_whitespace().collect();
    let mut hits: Vec<(&String, &Term)> = Vec::new();
    for (i, word) in all.iter().enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if !listed(&["in", "into", "to", "inside", "within"], bare) {
            continue;
        }
        // The next few words, articles skipped.
        let place: Vec<String> = all[i + 1..]
            .iter()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_ascii_lowercase())
            .filter(|w| !matches!(w.as_str(), "the" | "a" | "an" | "its"))
            .take(3)
            .collect();
        for term in glossary.iter().filter(|t| !t.read_only && t.paths.len() == 1) {
            let fits = term.words.iter().all(|w| {
                place
                    .iter()
                    .any(|p| p == w || p.strip_suffix('s') == Some(w) || w.strip_suffix('s') == Some(p))
            });
            if fits && !hits.iter().any(|(p, _)| **p == term.paths[0]) {
                hits.push((&term.paths[0], term));
            }
        }
    }
    // A directory and a file in it (`Skill directory`, `Skill file`): the file.
    let files: Vec<&(&String, &Term)> = hits.iter().filter(|(p, _)| !p.ends_with('/')).collect();
    let pick = match files.as_slice() {
        [one] if hits.iter().all(|(p, _)| *p == one.0 || one.0.starts_with(p.as_str())) => Some(*one),
        [] if hits.len() == 1 => hits.first(),
        _ => None,
    }?;
    Some((pick.0.clone(), pick.1.words.join(" ")))
}

/// The plan's only file: the glossary's and `plan.md`'s writable entries
/// are one file and its directories, and some task names that file.
fn only_file(glossary: &[Term], cx: &Context, tasks: &[Task]) -> Option<String> {
    let written = glossary
        .iter()
        .filter(|t| !t.read_only)
        .flat_map(|t| t.paths.iter())
        .chain(cx.plan_written.iter())
        .filter(|p| !p.contains(['*', '?']));
    let mut file: Option<&String> = None;
    let mut dirs: Vec<&String> = Vec::new();
    for path in written {
        if path.ends_with('/') {
            dirs.push(path);
        } else {
            match file {
                Some(f) if f != path => return None,
                _ => file = Some(path),
            }
        }
    }
    let file = file?;
    if !dirs.iter().all(|d| file.starts_with(d.as_str())) {
        return None;
    }
    tasks.iter().any(|t| t.paths.iter().any(|p| p == file)).then(|| file.clone())
}

/// The spec folder the task file's prose names (`**Input**: Design
/// documents from `/specs/003-x/``): the first `specs/NNN-name/` directory
/// of a section without tasks.
fn spec_dir(sections: &[String], section_of: &[usize]) -> Option<String> {
    let mut has_tasks = vec![false; sections.len()];
    for &s in section_of {
        if let Some(slot) = has_tasks.get_mut(s) {
            *slot = true;
        }
    }
    for (s, text) in sections.iter().enumerate() {
        if has_tasks.get(s).copied().unwrap_or(true) {
            continue;
        }
        let mut found: Vec<Found> = Vec::new();
        scan_found(text, &mut found);
        for f in &found {
            let Candidate::Path(p) = f.candidate else { continue };
            let p = p.trim_start_matches('/');
            let rest = p.strip_prefix(".specify/").unwrap_or(p);
            let Some(rest) = rest.strip_prefix("specs/") else { continue };
            let name = rest.split('/').next().unwrap_or("");
            let numbered = name.split_once('-').is_some_and(|(n, tail)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !tail.is_empty()
            });
            if numbered && !placeholder(name) {
                let dir = &p[..p.len() - rest.len() + name.len()];
                return normalize(&format!("{dir}/")).ok().map(|d| d.into_owned());
            }
        }
    }
    None
}

/// `Update quickstart.md ...`: a task that starts by changing a spec-kit
/// document named alone writes the spec folder's.
fn spec_document(description: &str, spec_dir: &str) -> Option<(String, String)> {
    let mut all = description.split_whitespace();
    // Verbs that change a document in place: `Add spec.md parsing notes`
    // adds something about spec.md, `Update quickstart.md` changes it.
    let verb = all.next()?;
    let changes = [
        "amend",
        "correct",
        "edit",
        "fix",
        "normalize",
        "normalise",
        "refine",
        "revise",
        "rewrite",
        "update",
    ];
    if !listed(&changes, verb) {
        return None;
    }
    let mut next = all.next()?;
    if next.eq_ignore_ascii_case("the") {
        next = all.next()?;
    }
    let name = next.trim_matches(|c: char| matches!(c, '`' | '*' | '"' | '\'' | ',' | ':' | ';' | '(' | ')'));
    let spec_doc = SPEC_DOCS.iter().any(|d| d.eq_ignore_ascii_case(name));
    spec_doc.then(|| (format!("{spec_dir}{name}"), name.to_string()))
}
