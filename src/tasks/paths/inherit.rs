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
    check_word, clause_before, declarations, listed, normalize, placeholder, product, read_only, scan_found,
    test_path, words, writes_tests, Candidate, Context, Found, From, FxMap, Resolved, EXTENSIONS, SPEC_DOCS,
    WRITE_VERBS,
};
use crate::tasks::{RejectedPath, Task};

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
    name_new_files(tasks, cx);
    if !tasks.iter().any(|t| t.paths.is_empty()) {
        return;
    }
    let mut stems = Stems::new(cx);
    // The files each section's tasks named themselves so far (two at most),
    // for a section whose first task makes a new file (`Create chat_service.py`).
    let mut section_files: FxMap<usize, Vec<String>> = FxMap::default();
    let mut opened: FxMap<usize, bool> = FxMap::default();
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
            if let Some(&section) = section_of.get(i) {
                opened.entry(section).or_insert_with(|| {
                    let task = &tasks[i];
                    words(&task.description).next().is_some_and(|w| listed(OPENS, w))
                        && matches!(task.paths.as_slice(), [one] if !one.ends_with('/') && !cx.is_tracked(one))
                });
                let seen = section_files.entry(section).or_default();
                for path in &tasks[i].paths {
                    if seen.len() < 2 && !seen.contains(path) {
                        seen.push(path.clone());
                    }
                }
            }
            stems.add_task(&tasks[i].paths);
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
        // An identifier several files are named after: reported, and no guess follows.
        let mut unsure: Option<(String, Vec<String>)> = None;
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
            .or_else(|| match stems.named_in(&task.description, writes_tests(&task.description))? {
                Named::File(path, word) => Some((path, From::Heading, format!("names {word}"))),
                Named::Several(word, files) => {
                    unsure = Some((word, files));
                    None
                }
            })
            .or_else(|| {
                let dir = directory_named(&task.description, cx)?;
                Some((
                    dir.clone(),
                    From::Plan,
                    format!("the {} directory", dir.trim_end_matches('/').rsplit('/').next().unwrap_or(&dir)),
                ))
            })
            .or_else(|| {
                // The one file its section's tasks wrote so far (`### Chat endpoint`).
                // A `[P]` task runs beside the others of its group: not in their file.
                let section = section.as_ref().filter(|_| !task.parallel)?;
                if !opened.get(section).copied().unwrap_or(false) {
                    return None;
                }
                match section_files.get(section)?.as_slice() {
                    [one] if !one.ends_with('/') => {
                        Some((one.clone(), From::Heading, "the one file of its section".to_string()))
                    }
                    _ => None,
                }
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
        let carried = match unsure {
            Some((word, files)) => {
                tasks[i].rejected_paths.push(RejectedPath {
                    path: word,
                    reason: format!(
                        "ambiguous: could be {} (write the full path, or add a `Files:` line)",
                        files.join(", ")
                    ),
                });
                None
            }
            None => carried,
        };
        if let Some((path, from, text)) = carried {
            let task = &mut tasks[i];
            task.paths = vec![path.clone()];
            task.resolved = vec![Resolved { path, from, text }];
        }
    }
}

/// `Create models directory and module structure`: the one directory of
/// that name the repository tracks or the plan draws, for a task that makes
/// or fills it.
fn directory_named(description: &str, cx: &Context) -> Option<String> {
    let all: Vec<&str> = words(description).collect();
    if !all.first().is_some_and(|w| listed(MAKES, w) || listed(&["set", "setup", "organize", "organise"], w))
    {
        return None;
    }
    let mut found: Option<String> = None;
    for pair in all.windows(2) {
        if !listed(&["directory", "directories", "folder", "dir", "package"], pair[1]) {
            continue;
        }
        let name = pair[0];
        if name.len() < 3 || listed(&["the", "a", "new", "project", "root", "source", "its", "each"], name) {
            continue;
        }
        let mut dirs: Vec<String> = cx.dirs_by_name().get(name).cloned().unwrap_or_default();
        if let Some(planned) = cx.plan_by_name.get(name) {
            dirs.extend(planned.iter().filter(|p| p.ends_with('/')).cloned());
        }
        dirs.sort();
        dirs.dedup();
        match dirs.as_slice() {
            [one] if found.as_ref().map_or(true, |f| f == one) => found = Some(one.clone()),
            _ => return None,
        }
    }
    found
}

/// First words of a task that makes a new thing it names next (`Create UserService ...`).
const MAKES: &[&str] = &["add", "build", "create", "define", "implement", "scaffold", "write"];

/// First words of a task that opens a section around the new file it names
/// (`Create ai_service.py ...`), which the section's next tasks fill.
const OPENS: &[&str] = &["build", "create", "implement", "scaffold", "write"];

/// Words right before an identifier that say the task writes in it:
/// `in DashboardPage`, `for ChatPanel component`, `Update OrderController`.
const INTO: &[&str] = &[
    "edit", "enhance", "extend", "for", "in", "inside", "into", "modify", "refactor", "to", "update",
    "within",
];

/// Whether `word` is shaped like a code identifier rather than a plain word:
/// a case change inside it (`OrderController`, `useAuth`) or an underscore
/// between letters (`parse_config`); not all capitals (`API_KEY`).
fn identifier(word: &str) -> bool {
    let b = word.as_bytes();
    if b.len() < 4
        || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        || !b[0].is_ascii_alphabetic()
    {
        return false;
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        return false;
    }
    let hump = b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    let joined =
        b.windows(3).any(|w| w[1] == b'_' && w[0].is_ascii_alphanumeric() && w[2].is_ascii_alphabetic());
    hump || joined
}

/// The identifiers of `text` with their byte offsets (`ITableStorageRepository<T>` → ITableStorageRepository),
/// and whether each is the type of a member named with it (`Service_Queue.QueueAsync`).
fn identifiers(text: &str) -> Vec<(&str, usize, bool)> {
    let mut out = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_ascii_alphanumeric() || c == '_' {
            start.get_or_insert(at);
        } else if let Some(from) = start.take() {
            // Part of a path or file name (`src/x_y.py`, `x.y`): the path rules have it.
            let touches = |b: Option<&u8>| matches!(b, Some(b'/' | b'.' | b'-' | b'\\'));
            // `ApplicationDbContext.OnModelCreating` is a member of the type, not a file name.
            let member = text.as_bytes().get(at) == Some(&b'.') && {
                let after = &text[at + 1..];
                let next =
                    after.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
                // A method or property (`OnModelCreating`, `btnSubmit_Click`,
                // `create_task()`), not a field (`emotion_dimensions`) written into.
                let hump = next
                    .as_bytes()
                    .windows(2)
                    .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
                let called = after.as_bytes().get(next.len()) == Some(&b'(');
                next.len() > 1
                    && (next.starts_with(|c: char| c.is_ascii_uppercase()) || hump || called)
                    && !EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(next))
            };
            let glued = touches(text.as_bytes().get(at))
                && !member
                && text.as_bytes().get(at + 1).is_some_and(u8::is_ascii_alphanumeric)
                || from > 0 && touches(text.as_bytes().get(from - 1));
            let word = &text[from..at];
            // `Task.update()`: a type's name alone is a capitalised word.
            let type_name = member
                && word.len() >= 3
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && word.bytes().skip(1).any(|b| b.is_ascii_lowercase())
                && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !glued && (identifier(word) || type_name) {
                out.push((word, from, member));
            }
        }
    }
    out
}

/// What an identifier a task names stands for.
enum Named {
    /// The one file of that name (path, identifier).
    File(String, String),
    /// Several files of that name (identifier, their paths).
    Several(String, Vec<String>),
}

/// File stems (a name up to its first `.`) of the files a task may mean by
/// an identifier: tracked files, plan.md's tree and earlier tasks' files.
/// The tracked ones are indexed only when a pathless task names an identifier.
struct Stems<'a> {
    cx: &'a Context,
    tracked: Option<FxMap<String, Vec<String>>>,
    plan: FxMap<String, Vec<String>>,
}

/// How a stem is looked up: `ChatService` names `chat_service.py` and
/// `chat-service.ts` as well as `ChatService.cs`.
fn key(stem: &str) -> String {
    stem.chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect()
}

fn stem(path: &str) -> Option<&str> {
    if path.ends_with('/') {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().filter(|s| !s.is_empty())
}

impl<'a> Stems<'a> {
    fn new(cx: &'a Context) -> Stems<'a> {
        let mut plan: FxMap<String, Vec<String>> = FxMap::default();
        for path in &cx.planned {
            if let Some(s) = stem(path) {
                plan.entry(key(s)).or_default().push(path.clone());
            }
        }
        Stems { cx, tracked: None, plan }
    }

    fn add_task(&mut self, paths: &[String]) {
        for path in paths {
            if let Some(s) = stem(path) {
                let entry = self.plan.entry(key(s)).or_default();
                if !entry.contains(path) {
                    entry.push(path.clone());
                }
            }
        }
    }

    fn files(&mut self, word: &str) -> Vec<&String> {
        let cx = self.cx;
        let tracked = self.tracked.get_or_insert_with(|| {
            let mut map: FxMap<String, Vec<String>> = FxMap::default();
            for path in &cx.tracked {
                if let Some(s) = stem(path) {
                    map.entry(key(s)).or_default().push(path.clone());
                }
            }
            map
        });
        let word = key(word);
        let mut out: Vec<&String> =
            tracked.get(&word).into_iter().chain(self.plan.get(&word)).flatten().collect();
        out.sort();
        out.dedup();
        out
    }

    /// The one file whose stem is an identifier `description` names where it
    /// writes (`in LoanPage`, not after `uses`, `calls`, `navigating to`...),
    /// and that identifier; the files when the identifier names several
    /// (up to five); none when it names files of several identifiers.
    fn named_in(&mut self, description: &str, tests: bool) -> Option<Named> {
        let mut found: Option<(String, String)> = None;
        for (word, at, member) in identifiers(description) {
            let clause = clause_before(description, at);
            // `Implement Queue.QueueReportAsync method`: the member is made in its type's file.
            let made = member && words(clause).rev().take(2).any(|w| listed(MAKES, w));
            let into = made || words(clause).rev().take(3).any(|w| listed(INTO, w));
            if read_only(description, at, clause) || !into {
                continue;
            }
            let cx = self.cx;
            // A test task means the test file of that name, any other task the code.
            let mut files: Vec<&String> =
                self.files(word).into_iter().filter(|p| test_path(p) == tests && !compiled(p)).collect();
            if let Some(main) = main_file(&files) {
                files = vec![main];
            }
            // The plan's tree draws where the feature writes it; another copy is older.
            if let [_, _, ..] = files.as_slice() {
                let planned: Vec<&String> =
                    files.iter().copied().filter(|p| cx.planned.contains(*p)).collect();
                if let [one] = planned.as_slice() {
                    files = vec![*one];
                }
            }
            match files.as_slice() {
                [] => {}
                [one] => match &found {
                    Some((path, _)) if path != *one => return None,
                    _ => found = Some(((*one).clone(), word.to_string())),
                },
                several if several.len() <= 5 => {
                    return Some(Named::Several(
                        word.to_string(),
                        several.iter().map(|p| p.to_string()).collect(),
                    ))
                }
                _ => return None,
            }
        }
        found.map(|(path, word)| Named::File(path, word))
    }
}

/// Whether `path` is what a build compiles (`__pycache__/x.cpython-313.pyc`,
/// `X.class`), which no code identifier means.
fn compiled(path: &str) -> bool {
    path.contains("__pycache__/")
        || [".pyc", ".pyo", ".class", ".o", ".obj", ".dll", ".exe", ".so", ".dylib"]
            .iter()
            .any(|e| path.ends_with(e))
}

/// Of files named alike in one directory, the one the others go with:
/// `Form.cs` of `Form.cs` and `Form.Designer.cs` (the designer's generated
/// half), when every other is `<stem>.<word>.<its extension>`.
fn main_file<'f>(files: &[&'f String]) -> Option<&'f String> {
    let [_, _, ..] = files else { return None };
    let mut plain = files.iter().filter(|p| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name.matches('.').count() == 1
    });
    let main = *plain.next()?;
    if plain.next().is_some() {
        return None;
    }
    let (base, ext) = main.rsplit_once('.')?;
    let others_go_with_it = files.iter().filter(|p| **p != main).all(|p| {
        p.strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_suffix(ext))
            .is_some_and(|word| {
                word.len() > 1 && word.ends_with('.') && !word[..word.len() - 1].contains(['.', '/'])
            })
    });
    others_go_with_it.then_some(main)
}

/// `Create the ITableStorageRepository<T> interface in src/Core/Interfaces/`:
/// a task that writes one directory and names one identifier writes the
/// file of that name there: the one the plan or the tree has, or else, when
/// every file known in that directory has one extension, the name with it.
fn name_new_files(tasks: &mut [Task], cx: &Context) {
    let mut all: Vec<&str> = cx.tracked.iter().chain(&cx.planned).map(String::as_str).collect();
    all.extend(tasks.iter().flat_map(|t| t.paths.iter().map(String::as_str)));
    let mut named: Vec<(usize, String)> = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let [dir] = task.paths.as_slice() else { continue };
        if !dir.ends_with('/') || !declarations(task).is_empty() {
            continue;
        }
        // The identifier is what the task makes: right after its first word, a making verb.
        let mut first = words(&task.description).filter(|w| !listed(&["a", "an", "new", "the"], w));
        let (Some(verb), Some(object)) = (first.next(), first.next()) else { continue };
        if !listed(MAKES, verb) || !identifier(object) {
            continue;
        }
        let word = &object;
        let inside: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| p.strip_prefix(dir.as_str()).is_some_and(|r| !r.is_empty() && !r.contains('/')))
            .collect();
        let same: Vec<&str> = inside.iter().copied().filter(|p| stem(p) == Some(word)).collect();
        let file = match same.as_slice() {
            [one] => Some(one.to_string()),
            [] => {
                let mut extensions =
                    inside.iter().filter_map(|p| p.rsplit('/').next()?.split_once('.').map(|(_, e)| e));
                match extensions.next() {
                    Some(first) if extensions.all(|e| e == first) => Some(format!("{dir}{word}.{first}")),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(file) = file {
            named.push((i, file));
        }
    }
    for (i, file) in named {
        let task = &mut tasks[i];
        let text = format!("{} in {}", file.rsplit('/').next().unwrap_or(&file), task.paths[0]);
        task.paths = vec![file.clone()];
        task.resolved = vec![Resolved { path: file, from: From::TaskDir, text }];
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
    if all.next().is_some_and(|first| check_word(first) || listed(&["test", "tests"], first)) {
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
        .filter(|p| !placeholder(p) && !product(p) && !p.contains(['*', '?', '[']))
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
