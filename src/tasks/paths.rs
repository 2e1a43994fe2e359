//! Paths in task text (DESIGN §3).
//!
//! Path heuristics (a wrong path costs a needless lock; a missed one costs a
//! missed conflict, so both matter):
//! - candidates are backtick spans, markdown links and bare words of the
//!   description, continuation lines and details (except `par:` result
//!   lines, which git-par writes itself); for a link `[label](target)` the
//!   label wins when it is a path (spec-kit links are relative to the spec
//!   directory, `../../src/x.cs`, while their labels are repository paths);
//! - a candidate never has `://`, placeholders (`<id>`), a leading `-`, `$`,
//!   `@` or `#`, and holds at least one letter;
//! - in backticks, anything with a `/` or `\` is a path, and so is a single
//!   name with a known file extension;
//! - a span with spaces, in backticks or quotes (`"…"`, `'…'`; a quote
//!   opens at the start of a word and closes at the end of one, so
//!   `user's` is no quote), is read whole; a span with `, ` and no `{` is
//!   a list, each item read on its own. It is nothing when it does not
//!   end like a path (an extension, a `/`), holds `$`, `=`, `;`, `&`, starts
//!   with an HTTP method or a well-known program (`cargo`, `pytest`, `npm`,
//!   ...) or has an option flag (`--lib`): that is code, a command line or
//!   prose. A path-shaped span the parser is unsure of is reported in
//!   `rejected_paths`, never locked and never dropped in silence. So it is
//!   - several paths when every word is a whole path (`src/a.py src/b.py`);
//!   - reported as too unsure when it has no `/` or `\` (`user guide.md`
//!     and `open notes.md` cannot be told apart);
//!   - reported as "looks like a command" when its first word is a whole
//!     path (`./gen.py build docs/x.md`) or a lowercase program-like name
//!     followed by a file-like word (`doit generate specs/x/spec.md`);
//!   - reported as "looks like prose" when the spaces are not inside a
//!     name: the first word has no `/` or `\` (`Export to src/a.py`), or a
//!     space touches one (`Saved to /tmp/a b.txt`);
//!   - else one path with spaces (`docs/user guide.md`).
//!
//!   In quotes, what would be nothing, a command or prose is read word by
//!   word like the text around it (`"see src/a.py"`); in backticks it is
//!   not;
//! - a bare word keeps balanced parentheses inside when it has a `/` and
//!   ends with an extension or a `/` (`app/(auth)/login/page.tsx`); a `)`
//!   that closes a parenthesis of the prose (`(see src/a.py)`) is not part
//!   of the word, and other words with parentheses (`load(src/a.py)`) are
//!   not paths;
//! - a bare word with `/` is a path when it ends with `/` (a directory), its
//!   last segment has a lowercase file extension, it starts with `./`/`../`,
//!   or its first segment is a usual top-level directory (`src`, `tests`,
//!   `internal`, ...) — so prose like `and/or`, `read/write/delete` is not;
//!   a bare name without `/` counts only with a known lowercase extension
//!   (`main.py`, not `e.g.`, `1.2.3`, `Node.js` or `SqlDbType.Json`);
//! - the spec-kit documents next to tasks.md (`spec.md`, `plan.md`,
//!   `research.md`, ...) named alone are not repository paths;
//! - a word after an HTTP method (`GET /api/x`) is a route, not a path; an
//!   absolute Unix path counts (as rejected) only under a well-known root
//!   (`/home`, `/usr`, `/tmp`, ...), so `/api/users` is ignored; Windows
//!   paths (`C:\x`, `D:/x`) are always paths;
//! - `{a,b}` alternatives without `*`/`?` are expanded (`internal/{cli,git}/`
//!   → `internal/cli/`, `internal/git/`), since a lock pattern is a glob only
//!   with `*` or `?`;
//! - `:42` / `#L42` line suffixes are dropped, and so are the `#anchor`
//!   and the `::name` after a file with an extension (`docs/a.md#setup`,
//!   `tests/test_a.py::test_b`, a pytest node ID); absolute paths
//!   inside `Options.root` become relative; anything the lock normaliser
//!   refuses (outside the repository, absolute) goes to `rejected_paths`
//!   with its reason, as does any file named `tasks.md` (git-par owns it).

mod inherit;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::OnceLock;

use serde::Serialize;

use super::{RejectedPath, Task};
use crate::locks::{self, expand_braces, has_drive, relative_to_root};

/// Whether a task only checks, runs or studies things (`Verify ...`, `Run
/// the tests`): naming no path, it has nothing to write.
pub fn only_checks(task: &Task) -> bool {
    inherit::is_check(task)
}

/// File extensions that make a single name (no `/`) a path.
pub(super) const EXTENSIONS: &[&str] = &[
    "py",
    "pyi",
    "ipynb",
    "rs",
    "go",
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "tsx",
    "mts",
    "cts",
    "vue",
    "svelte",
    "astro",
    "java",
    "kt",
    "kts",
    "scala",
    "groovy",
    "gradle",
    "cs",
    "csproj",
    "razor",
    "cshtml",
    "sln",
    "fs",
    "vb",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cxx",
    "m",
    "mm",
    "swift",
    "rb",
    "php",
    "pl",
    "lua",
    "r",
    "jl",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "clj",
    "elm",
    "zig",
    "nim",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    "sql",
    "prisma",
    "graphql",
    "gql",
    "proto",
    "md",
    "mdx",
    "rst",
    "txt",
    "adoc",
    "json",
    "jsonc",
    "json5",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "sass",
    "less",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "webp",
    "csv",
    "tsv",
    "parquet",
    "lock",
    "mod",
    "sum",
    "tf",
    "tfvars",
    "hcl",
    "dockerfile",
    "make",
    "mk",
    "cmake",
    "properties",
    "plist",
    "gradle",
    "snap",
    "tmpl",
    "j2",
    "jinja",
    "hbs",
    "ejs",
    "pug",
    "wasm",
    "log",
    "pem",
    "example",
    "sample",
    "http",
    "feature",
    "spec",
    "test",
    "bicep",
    "nix",
    "dhall",
    "cue",
    "star",
    "bzl",
];

/// Names that look like files but are products (`Node.js`).
const NOT_FILES: &[&str] = &[
    "node.js",
    "vue.js",
    "next.js",
    "nuxt.js",
    "express.js",
    "d3.js",
    "three.js",
    "chart.js",
    "react.js",
    "angular.js",
    "ember.js",
    "backbone.js",
    "nest.js",
    "socket.io",
    "deno.land",
    "asp.net",
    "vb.net",
    "ado.net",
];

/// Top-level directories that make a bare `a/b` a path even without an extension.
const TOP_DIRS: &[&str] = &[
    "src",
    "lib",
    "libs",
    "app",
    "apps",
    "packages",
    "internal",
    "pkg",
    "cmd",
    "crates",
    "tests",
    "test",
    "spec",
    "specs",
    "docs",
    "doc",
    "scripts",
    "bin",
    "components",
    "pages",
    "public",
    "static",
    "assets",
    "config",
    "migrations",
    "include",
    "examples",
    "benches",
    "fixtures",
    "tools",
    "services",
    "modules",
    "plugins",
    "resources",
    "templates",
    "deploy",
    "infra",
    ".github",
    ".specify",
];

/// The spec-kit documents next to tasks.md: named alone they are not repository paths.
const SPEC_DOCS: &[&str] =
    &["spec.md", "plan.md", "research.md", "data-model.md", "quickstart.md", "checklist.md"];

/// Well-known absolute roots: an absolute path under one is reported, others
/// (`/api/users`) are taken for routes.
const ABSOLUTE_ROOTS: &[&str] = &[
    "home",
    "usr",
    "etc",
    "tmp",
    "var",
    "opt",
    "root",
    "mnt",
    "srv",
    "Users",
    "Volumes",
    "private",
    "bin",
    "lib",
    "dev",
    "proc",
    "workspace",
    "workspaces",
    "work",
    "data",
];

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Programs whose name starts a command line in backticks (`pytest tests/x.py`):
/// such a span is a command, not a path, and is not reported. Sorted.
pub(super) const RUNNERS: &[&str] = &[
    "bash",
    "bun",
    "bundle",
    "cargo",
    "cat",
    "cd",
    "cmake",
    "composer",
    "cp",
    "curl",
    "dart",
    "deno",
    "docker",
    "dotnet",
    "flutter",
    "git",
    "go",
    "gradle",
    "helm",
    "jest",
    "kubectl",
    "ls",
    "make",
    "mix",
    "mkdir",
    "mv",
    "mvn",
    "mypy",
    "node",
    "npm",
    "npx",
    "php",
    "pip",
    "pnpm",
    "poetry",
    "pwsh",
    "py",
    "pytest",
    "python",
    "python3",
    "rake",
    "rm",
    "ruby",
    "ruff",
    "sh",
    "sudo",
    "swift",
    "terraform",
    "time",
    "touch",
    "tsc",
    "uv",
    "uvx",
    "vitest",
    "yarn",
    "zsh",
];

/// A path candidate found in task text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate<'a> {
    /// Read as a path: normalised, then locked or rejected.
    Path(&'a str),
    /// Path-shaped, but too unsure to lock: reported with the reason.
    Unsure(&'a str, &'static str),
    /// A backtick span with a `/` that the shape rules do not take
    /// (`cli/render`, `shadcn/ui`): a path only if the repository has it.
    Maybe(&'a str),
}

/// Where a resolved path comes from (`show` and `list --json` say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum From {
    /// As written, relative to the repository root.
    Written,
    /// Written with a leading `/` meaning the repository root.
    RootSlash,
    /// A bare or relative name joined to a directory the task names.
    TaskDir,
    /// Joined to a directory of the heading above the task, or of the task it continues.
    Heading,
    /// Found in `plan.md`'s project structure.
    Plan,
    /// The only tracked file of that name.
    Tree,
}

/// One locked path and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub path: String,
    pub from: From,
    /// The text as the task wrote it.
    pub text: String,
}

/// A fast hash for the resolver's sets of paths (FxHash's mixing): the
/// keys are the repository's own paths, so there is no hostile input to
/// defend against, and SipHash was a tenth of `list`'s time on a large plan.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

type Fx = std::hash::BuildHasherDefault<FxHasher>;
pub(super) type FxSet<T> = HashSet<T, Fx>;
pub(super) type FxMap<K, V> = HashMap<K, V, Fx>;

/// What paths are resolved against: the tracked tree at HEAD and the
/// project structure of the spec folder's `plan.md`. Built once per read.
#[derive(Debug, Default)]
pub struct Context {
    /// Tracked files and directories (directories end with `/`).
    tracked: FxSet<String>,
    /// How many tracked files there are.
    files: usize,
    /// File name → tracked paths with that name, sorted: built on the first
    /// bare name that needs it (most plans write full paths, and a large
    /// tree would cost every command the index).
    by_name: OnceLock<FxMap<String, Vec<String>>>,
    /// Paths of the plan's project tree (directories end with `/`).
    planned: FxSet<String>,
    /// File or directory name → plan paths with that name.
    plan_by_name: FxMap<String, Vec<String>>,
    /// First segments of tracked and planned paths.
    top: FxSet<String>,
    /// Tracked and planned directories, without their trailing `/`.
    dir_names: FxSet<String>,
    /// Directory name → tracked directories (ending with `/`) with that name, sorted; built when first needed.
    dirs_by_name: OnceLock<FxMap<String, Vec<String>>>,
    /// Paths of the plan's tree that the feature writes: not marked as only
    /// read (`# read by the skill`, `(existing, unchanged)`), not the spec
    /// folder's own documents. In tree order.
    plan_written: Vec<String>,
}

impl Context {
    /// A context from tracked file paths (`/`-separated, relative) and the
    /// text of `plan.md`, if there is one.
    pub fn new<I: IntoIterator<Item = String>>(tracked_files: I, plan_md: Option<&str>) -> Context {
        let mut cx = Context::default();
        // Files come grouped by directory: a directory is added once, when it changes.
        let mut last_dir = String::new();
        for file in tracked_files {
            let dir = &file[..file.rfind('/').map_or(0, |at| at + 1)];
            if dir != last_dir {
                cx.add_dirs(dir);
                last_dir.clear();
                last_dir.push_str(dir);
            }
            if !file.contains('/') {
                cx.top.insert(file.clone());
            }
            cx.files += 1;
            cx.tracked.insert(file);
        }
        if let Some(plan) = plan_md {
            for entry in plan_tree(plan, &cx) {
                let path = entry.path;
                let name = file_name(&path).to_string();
                if let Some(first) = path.split('/').next() {
                    cx.top.insert(first.to_string());
                }
                cx.plan_by_name.entry(name).or_default().push(path.clone());
                if let Some(dir) = path.strip_suffix('/') {
                    cx.dir_names.insert(dir.to_string());
                }
                if !entry.read_only && !cx.plan_written.contains(&path) {
                    cx.plan_written.push(path.clone());
                }
                cx.planned.insert(path);
            }
        }
        cx
    }

    /// Adds a tracked directory (ending with `/`) and its parents.
    fn add_dirs(&mut self, dir: &str) {
        let mut at = 0;
        while let Some(slash) = dir[at..].find('/') {
            at += slash + 1;
            if self.tracked.contains(&dir[..at]) {
                continue;
            }
            self.tracked.insert(dir[..at].to_string());
            self.dir_names.insert(dir[..at - 1].to_string());
            if at == slash + 1 {
                self.top.insert(dir[..slash].to_string());
            }
        }
    }

    /// File name → tracked files with that name.
    fn by_name(&self) -> &FxMap<String, Vec<String>> {
        self.by_name.get_or_init(|| self.index_names(false))
    }

    /// Directory name → tracked directories (ending with `/`) with that name.
    fn dirs_by_name(&self) -> &FxMap<String, Vec<String>> {
        self.dirs_by_name.get_or_init(|| self.index_names(true))
    }

    fn index_names(&self, dirs: bool) -> FxMap<String, Vec<String>> {
        let mut index: FxMap<String, Vec<String>> = FxMap::default();
        for path in self.tracked.iter().filter(|p| p.ends_with('/') == dirs) {
            let name = file_name(path);
            match index.get_mut(name) {
                Some(list) => list.push(path.clone()),
                None => {
                    index.insert(name.to_string(), vec![path.clone()]);
                }
            }
        }
        for list in index.values_mut() {
            list.sort_unstable();
        }
        index
    }

    /// Whether `path` is a tracked file, or (with a trailing `/`) a tracked directory.
    pub fn is_tracked(&self, path: &str) -> bool {
        self.tracked.contains(path)
    }

    /// Whether `dir` (ending with `/`) is a tracked or planned directory.
    pub fn is_known_dir(&self, dir: &str) -> bool {
        self.tracked.contains(dir) || self.planned.contains(dir)
    }

    /// Whether `path`, with or without its trailing `/`, is a tracked or
    /// planned directory (no allocation: it runs for every candidate).
    fn is_dir(&self, path: &str) -> bool {
        let bare = path.trim_end_matches('/');
        self.dir_names.contains(bare)
    }

    fn known(&self, path: &str) -> bool {
        self.tracked.contains(path) || self.planned.contains(path)
    }

    /// Whether the repository has any tracked file (a new repository has none).
    pub fn has_tree(&self) -> bool {
        self.files > 0
    }

    /// Whether the repository holds a project already: a tracked top-level
    /// entry besides dot-directories (spec-kit's `.specify/`, agents'
    /// `.claude/`) and documents (`README.md`, `LICENSE`). A repository made
    /// by `specify init` has none yet. (Read while the plan's tree is added,
    /// so `top` holds tracked names only.)
    fn has_code(&self) -> bool {
        self.top.iter().any(|name| {
            let upper = name.to_ascii_uppercase();
            let document =
                ["README", "LICENSE", "CHANGELOG", "CONTRIBUTING", "CODE_OF_CONDUCT", "SECURITY", "NOTICE"]
                    .iter()
                    .any(|d| upper.starts_with(d));
            !name.starts_with('.') && !document
        })
    }

    /// The only tracked (or, with `planned`, planned) path that ends with
    /// `/path`, found through its last name rather than a scan of the tree.
    fn only_ending_with(&self, path: &str, planned: bool) -> Option<String> {
        let name = file_name(path);
        let candidates = match (planned, path.ends_with('/')) {
            (false, false) => self.by_name().get(name),
            (false, true) => self.dirs_by_name().get(name),
            (true, _) => self.plan_by_name.get(name),
        }?;
        let mut hits = candidates.iter().filter(|p| {
            p.len() > path.len() && p.ends_with(path) && p.as_bytes()[p.len() - path.len() - 1] == b'/'
        });
        let one = hits.next()?;
        hits.next().is_none().then(|| one.clone())
    }

    /// The one path of `plan.md`'s tree named `name` (a directory when it
    /// ends with `/`), when the feature writes it (not marked as only read).
    fn only_planned_written(&self, name: &str) -> Option<String> {
        let mut planned = self
            .plan_by_name
            .get(name.trim_end_matches('/'))?
            .iter()
            .filter(|p| p.ends_with('/') == name.ends_with('/'));
        let one = planned.next()?;
        (planned.next().is_none() && self.plan_written.contains(one)).then(|| one.clone())
    }

    /// The paths of `plan.md`'s tree the feature writes (not marked as only read), in order.
    pub fn plan_written(&self) -> &[String] {
        &self.plan_written
    }

    /// The paths of `plan.md`'s project tree, sorted (directories end with `/`).
    pub fn planned(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.planned.iter().map(String::as_str).collect();
        out.sort_unstable();
        out
    }
}

/// One entry of `plan.md`'s project tree.
struct PlanEntry {
    path: String,
    /// Marked as only read by the feature (its comment says so, or its parent's).
    read_only: bool,
}

/// The paths of `plan.md`'s project structure: every fenced block drawn as
/// a tree (`├──`, `└──`, or indented names ending in `/`). A single root
/// directory that is not in the repository (the project's own name) is dropped.
fn plan_tree(plan: &str, cx: &Context) -> Vec<PlanEntry> {
    let mut out = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in plan.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            match block.take() {
                Some(lines) => out.extend(tree_block(&lines, cx)),
                None => block = Some(Vec::new()),
            }
            continue;
        }
        if let Some(lines) = block.as_mut() {
            lines.push(line);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path).then(b.read_only.cmp(&a.read_only)));
    out.dedup_by(|later, first| later.path == first.path);
    out
}

/// Whether a tree comment says the entry is only read by the feature.
fn read_only_note(note: &str) -> bool {
    let note = note.to_ascii_lowercase();
    ["read-only", "read only", "read by", "reference", "unchanged", "not modified", "no changes"]
        .iter()
        .any(|marker| note.contains(marker))
}

/// One fenced block read as a tree, or nothing when it does not look like one.
fn tree_block(lines: &[&str], cx: &Context) -> Vec<PlanEntry> {
    let drawn = lines.iter().any(|l| l.contains("├") || l.contains("└"));
    // (column, name, read only by its own comment) of each entry.
    let mut entries: Vec<(usize, String, bool)> = Vec::new();
    // The column of an entry that is no path (a placeholder): what is below it is skipped too.
    let mut skipped_at: Option<usize> = None;
    for line in lines {
        let (line, note) = match line.find(" #").or_else(|| line.find("←")).or_else(|| line.find(" //")) {
            Some(at) => (&line[..at], &line[at..]),
            None => (*line, ""),
        };
        let mut col = 0;
        let mut rest = line;
        for c in line.chars() {
            // Control characters too: box-drawing characters mangled by an encoder.
            if matches!(c, ' ' | '│' | '├' | '└' | '─' | '|' | '`' | '+' | '\u{a0}') || c.is_control()
            {
                col += 1;
                rest = &rest[c.len_utf8()..];
            } else {
                break;
            }
        }
        let name = rest.split_whitespace().next().unwrap_or("");
        let name = name.trim_start_matches("./");
        if name.is_empty() || !name.chars().any(char::is_alphanumeric) {
            continue;
        }
        if skipped_at.is_some_and(|at| col > at) {
            continue;
        }
        skipped_at = None;
        // A dot-name is a path when a letter follows the dot (`.claude/`, `.env`), not `...`.
        let dotted = name.starts_with('.') && !name[1..].starts_with(|c: char| c.is_alphanumeric());
        if name.contains(['<', '>', '#', '*', '{', '}', ':', '(', '$', '['])
            || name.starts_with('-')
            || dotted
            || placeholder(name)
        {
            skipped_at = Some(col);
            continue;
        }
        let note =
            if note.is_empty() { rest.split_once(char::is_whitespace).map_or("", |(_, n)| n) } else { note };
        entries.push((col, name.to_string(), read_only_note(note)));
    }
    let dirs_by_slash = entries.iter().filter(|(_, n, _)| n.ends_with('/')).count();
    if !drawn && dirs_by_slash < 2 {
        return Vec::new();
    }
    let mut paths: Vec<PlanEntry> = Vec::new();
    // (column, directory path, read only).
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    for (i, (col, name, own_read_only)) in entries.iter().enumerate() {
        while stack.last().is_some_and(|(c, _, _)| c >= col) {
            stack.pop();
        }
        let (parent, parent_read_only) = stack.last().map_or(("", false), |(_, p, r)| (p.as_str(), *r));
        let deeper_next = entries.get(i + 1).is_some_and(|(c, _, _)| c > col);
        let is_dir = name.ends_with('/') || (deeper_next && !has_extension(name));
        let mut path = format!("{parent}{}", name.trim_end_matches('/'));
        let read_only = *own_read_only || parent_read_only;
        if is_dir {
            path.push('/');
            stack.push((*col, path.clone(), read_only));
        }
        paths.push(PlanEntry { path, read_only });
    }
    // The spec folder's own documents (a directory holding plan.md or
    // tasks.md) are what the feature is planned with, not what it writes.
    let spec_dirs: Vec<String> = paths
        .iter()
        .filter(|e| matches!(file_name(&e.path), "plan.md" | "tasks.md" | "spec.md"))
        .filter_map(|e| e.path.rfind('/').map(|at| e.path[..=at].to_string()))
        .collect();
    for entry in &mut paths {
        let spec_doc = !entry.path.contains('/')
            && (SPEC_DOCS.contains(&entry.path.as_str()) || entry.path == "tasks.md");
        if spec_doc
            || spec_dirs
                .iter()
                .any(|d| entry.path.starts_with(d.as_str()) || d.starts_with(entry.path.as_str()))
        {
            entry.read_only = true;
        }
    }
    // A directory with entries below it, none of them written, is only read too.
    for i in 0..paths.len() {
        let dir = &paths[i].path;
        if paths[i].read_only || !dir.ends_with('/') {
            continue;
        }
        let below = paths.iter().filter(|e| e.path.len() > dir.len() && e.path.starts_with(dir.as_str()));
        let (mut any, mut written) = (false, false);
        for e in below {
            any = true;
            written |= !e.read_only;
        }
        if any && !written {
            paths[i].read_only = true;
        }
    }
    // A lone root that the repository does not have is the project's name.
    let roots: Vec<&PlanEntry> = paths.iter().filter(|e| !e.path[..e.path.len() - 1].contains('/')).collect();
    if let [root] = roots.as_slice() {
        let root = root.path.clone();
        let children_known = paths.iter().any(|e| {
            e.path
                .strip_prefix(root.as_str())
                .and_then(|rest| rest.split('/').next())
                .is_some_and(|c| cx.top.contains(c))
        });
        if root.ends_with('/') && !cx.is_tracked(&root) && (children_known || !cx.has_code()) {
            let stripped: Vec<PlanEntry> = paths
                .iter()
                .filter_map(|e| {
                    let rest = e.path.strip_prefix(root.as_str())?;
                    (!rest.is_empty()).then(|| PlanEntry { path: rest.to_string(), read_only: e.read_only })
                })
                .collect();
            if children_known
                || stripped
                    .iter()
                    .any(|e| TOP_DIRS.contains(&e.path.trim_end_matches('/').split('/').next().unwrap_or("")))
            {
                return stripped;
            }
        }
    }
    // `ContosoDashboard/` drawn at the top, which the repository keeps only
    // as `ai/x/ContosoDashboard/`: the plan draws its project from there.
    let moved: Vec<(String, String)> = roots
        .iter()
        .filter(|r| r.path.ends_with('/') && !cx.is_tracked(&r.path))
        .filter_map(|r| match cx.dirs_by_name().get(r.path.trim_end_matches('/'))?.as_slice() {
            [one] => Some((r.path.clone(), one.clone())),
            _ => None,
        })
        .collect();
    for (root, tracked) in moved {
        for entry in paths.iter_mut().filter(|e| e.path.starts_with(root.as_str())) {
            entry.path = format!("{tracked}{}", &entry.path[root.len()..]);
        }
    }
    paths
}

/// Whether a path with a leading `/` is an HTTP route rather than a file:
/// `/.well-known/...`, a `{param}` or `:param` segment, or under `/api/`.
fn is_route(path: &str) -> bool {
    !route_file(path)
        && (path.starts_with("/.well-known")
            || path.starts_with("/api/")
            || path
                .split('/')
                .any(|seg| seg.starts_with(':') || (seg.starts_with('{') && !seg.contains(','))))
}

/// Whether a route-shaped path ends in a source file (`/api/users/[id]/route.ts`,
/// `POST /api/invite/route.ts`): the file that serves the route, which a task writes.
fn route_file(path: &str) -> bool {
    let name = file_name(path);
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && ["ts", "tsx", "js", "jsx", "mjs", "cjs", "py", "go", "rs", "rb", "php", "java", "kt", "cs"]
                .contains(&ext)
    })
}

const ROUTE: &str = "an HTTP route, not a path";
const PLACEHOLDER: &str = "a placeholder, not a path";

/// Files that live at the repository root unless a task says otherwise.
const ROOT_FILES: &[&str] = &[
    "readme.md",
    "changelog.md",
    "contributing.md",
    "license",
    "package.json",
    "package-lock.json",
    "bun.lockb",
    "bun.lock",
    "pnpm-workspace.yaml",
    "tsconfig.json",
    "cargo.toml",
    "cargo.lock",
    "go.mod",
    "go.sum",
    "pyproject.toml",
    "requirements.txt",
    "makefile",
    "dockerfile",
    "docker-compose.yml",
    ".gitignore",
    ".env.example",
    "claude.md",
    "agents.md",
];

/// Files whose text lists patterns: names quoted as their content are not paths.
const IGNORE_FILES: &[&str] =
    &[".gitignore", ".dockerignore", ".npmignore", ".prettierignore", ".eslintignore"];

/// Words after which a path is only read, called or copied from, not written.
const READ_WORDS: &[&str] = &[
    "call",
    "calling",
    "calls",
    "consume",
    "consumes",
    "consuming",
    "copy",
    "copying",
    "covering",
    "describes",
    "describing",
    "documenting",
    "explaining",
    "following",
    "import",
    "importing",
    "imports",
    "invoke",
    "invokes",
    "invoking",
    "load",
    "loading",
    "loads",
    "mirroring",
    "per",
    "read",
    "reading",
    "reads",
    "referencing",
    "use",
    "uses",
    "using",
    "via",
];

/// First words of a task that only checks or studies things: what it names
/// is read (up to a write verb: `Verify X and fix Y`).
/// The same verbs in Chinese (`验证` verify, `检查` check, `确认` confirm,
/// `运行` run), which open a word with no space after them.
const WIDE_CHECK_WORDS: &[&str] = &["验证", "检查", "确认", "运行", "审查"];

/// Whether a task's first word makes it a check (`Verify ...`, `验证...`).
pub(super) fn check_word(first: &str) -> bool {
    listed(CHECK_WORDS, first) || WIDE_CHECK_WORDS.iter().any(|w| first.starts_with(w))
}

pub(super) const CHECK_WORDS: &[&str] = &[
    "check",
    "confirm",
    "examine",
    "execute",
    "explore",
    "inspect",
    "investigate",
    "review",
    "run",
    "smoke",
    "study",
    "validate",
    "verify",
];

/// Verbs that write: after one, a path is written again (`uses X to update Y`).
pub(super) const WRITE_VERBS: &[&str] = &[
    "add",
    "adds",
    "align",
    "append",
    "change",
    "configure",
    "convert",
    "create",
    "creates",
    "delete",
    "document",
    "edit",
    "enhance",
    "ensure",
    "expand",
    "extend",
    "extends",
    "fill",
    "fix",
    "generate",
    "implement",
    "implements",
    "improve",
    "include",
    "insert",
    "migrate",
    "modify",
    "move",
    "normalise",
    "normalize",
    "polish",
    "populate",
    "refactor",
    "refine",
    "regenerate",
    "register",
    "remove",
    "rename",
    "replace",
    "record",
    "rewrite",
    "simplify",
    "tidy",
    "tweak",
    "update",
    "updates",
    "wire",
    "write",
    "writes",
];

/// Words besides the verbs that end a read clause (`reads X into Y`).
const WRITE_LINKS: &[&str] = &["into", "then", "to"];

/// Labels of detail lines that declare a task's paths explicitly.
const DECLARATIONS: &[&str] =
    &["files", "file", "files owned", "file impact", "file(s)", "files touched", "files changed", "paths"];

/// Labels of a detail line that names what the task reads (`**Reference**:
/// .github/instructions/x.md`, `Contract: contracts/api.yaml`).
const REFERENCE_LABELS: &[&str] = &[
    "reference",
    "references",
    "ref",
    "refs",
    "see",
    "see also",
    "source",
    "sources",
    "input",
    "inputs",
    "spec",
    "specification",
    "contract",
    "contracts",
    "pattern",
    "patterns",
    "example",
    "examples",
    "guide",
    "guidelines",
    "standards",
    "based on",
    "follow",
    "follows",
    "research",
];

/// Labels of a detail line that records what happened once the task was
/// done (`**Completed**: 2025-10-26 - Created ...`): written after the
/// work, it is no instruction, and a task started from the plan has none.
const RECORD_LABELS: &[&str] =
    &["completed", "done", "finished", "status", "outcome", "result", "results", "progress"];

/// The label of a detail line (`**Reference**: x.md` → `Reference`), if it has one.
fn detail_label(detail: &str) -> Option<&str> {
    let plain = detail.trim_start_matches(['*', '_', ' ', '-']);
    let colon = plain.find(':')?;
    let label = plain[..colon].trim_end_matches(['*', '_', ' ']);
    (label.len() <= 16).then_some(label)
}

/// Whether a detail line is labelled as what the task reads (`**Reference**: x.md`).
fn reference_line(detail: &str) -> bool {
    detail_label(detail).is_some_and(|label| listed(REFERENCE_LABELS, label))
}

/// Whether a detail line records the work done (`**Completed**: ...`).
pub(super) fn record_line(detail: &str) -> bool {
    detail_label(detail).is_some_and(|label| listed(RECORD_LABELS, label))
}

/// A path candidate with where it was found.
struct Found<'a> {
    candidate: Candidate<'a>,
    /// The text it was found in, and its byte offset there.
    text: &'a str,
    at: usize,
}

/// What a task's text says about directories: the ones it names.
fn dirs_of<'a>(found: &[Found<'a>], cx: Option<&Context>) -> Vec<Cow<'a, str>> {
    let mut dirs: Vec<Cow<'a, str>> = Vec::new();
    for f in found {
        let Candidate::Path(p) = f.candidate else { continue };
        if p.starts_with('/') && known_absolute(p) {
            continue;
        }
        let p = p.trim_start_matches('/');
        let bare_dir = p.ends_with('/') && !p[..p.len() - 1].contains('/');
        if bare_dir && !cx.is_some_and(|cx| cx.is_tracked(p)) && !TOP_DIRS.contains(&&p[..p.len() - 1]) {
            // `Models/`: relative to something, not a directory of its own.
            continue;
        }
        let dir: Option<Cow<'a, str>> = if p.ends_with('/') {
            Some(Cow::Borrowed(p))
        } else if cx.is_some_and(|cx| cx.is_dir(p)) {
            Some(Cow::Owned(format!("{p}/")))
        } else {
            p.rfind('/').map(|at| Cow::Borrowed(&p[..=at]))
        };
        if let Some(dir) = dir.filter(|d| !d.contains(['{', '*']) && normalize(d).is_ok()) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// The task's own explicit declaration (`Files:` details, `[paths: ...]`),
/// if it has one: the texts to read paths from instead of the whole task.
fn declarations(task: &Task) -> Vec<&str> {
    let mut out = Vec::new();
    let label = b"[paths:";
    let found =
        task.description.as_bytes().iter().enumerate().filter(|(_, b)| **b == b'[').map(|(at, _)| at).find(
            |&at| {
                task.description.as_bytes()[at..]
                    .get(..label.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(label))
            },
        );
    if let Some(at) = found {
        let body = &task.description[at + "[paths:".len()..];
        out.push(body.find(']').map_or(body, |end| &body[..end]));
    }
    for detail in &task.details {
        let plain = detail.trim_start_matches(['*', '_', ' ']);
        let Some(colon) = plain.find(':') else { continue };
        let label = plain[..colon].trim_end_matches(['*', '_', ' ']).to_ascii_lowercase();
        if DECLARATIONS.contains(&label.as_str()) {
            let body = plain[colon + 1..].trim_start_matches(['*', '_']);
            out.push(body);
        }
    }
    out
}

/// Reads every path candidate of `text` (a task's description, a detail,
/// a declaration) with its position.
fn scan_found<'a>(text: &'a str, out: &mut Vec<Found<'a>>) {
    let mut found = Vec::new();
    scan_paths(text, &mut found);
    let base = text.as_ptr() as usize;
    for candidate in found {
        let slice = match candidate {
            Candidate::Path(p) | Candidate::Unsure(p, _) | Candidate::Maybe(p) => p,
        };
        let at = (slice.as_ptr() as usize).saturating_sub(base).min(text.len());
        out.push(Found { candidate, text, at });
    }
}

/// A declaration list item read as a path: lenient, since the author said
/// it is one (`Files: Program.cs, appsettings.json`).
fn declared_items<'a>(text: &'a str, out: &mut Vec<Found<'a>>) {
    let before = out.len();
    scan_found(text, out);
    if out.len() > before {
        return;
    }
    let base = text.as_ptr() as usize;
    for item in text.split([',', ';']) {
        let item = item.trim().trim_matches(['`', '*', '"', '\'']);
        if plausible(item) && !item.contains(char::is_whitespace) {
            let at = (item.as_ptr() as usize).saturating_sub(base).min(text.len());
            out.push(Found { candidate: Candidate::Path(item), text, at });
        }
    }
}

/// The words of `text`, letters and digits only.
fn words(text: &str) -> impl DoubleEndedIterator<Item = &str> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty())
}

/// Whether the words after a plain file name (`Dockerfile generation`,
/// `Makefile template`) make it the content some code generates.
fn generated_content(after: &str) -> bool {
    const MADE: &[&str] = &[
        "generation",
        "generator",
        "generators",
        "rendering",
        "renderer",
        "template",
        "templates",
        "templating",
        "content",
        "contents",
        "output",
    ];
    let after = after.trim_start_matches(['`', '*', '"', '\'']);
    after.starts_with(char::is_whitespace) && words(after).next().is_some_and(|w| listed(MADE, w))
}

/// Files without an extension that a bare word names as written.
const PLAIN_FILES: &[&str] = &[
    "AUTHORS",
    "Brewfile",
    "CHANGELOG",
    "CODEOWNERS",
    "Containerfile",
    "Dockerfile",
    "Gemfile",
    "Jenkinsfile",
    "Justfile",
    "LICENSE",
    "Makefile",
    "NOTICE",
    "Procfile",
    "Rakefile",
    "Vagrantfile",
];

/// Whether `word` is in `list`, ignoring ASCII case (no allocation: this runs per candidate).
fn listed(list: &[&str], word: &str) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether the candidate at `at` is only read: a read word (`uses`, `per`,
/// `copy`...) comes before it in its clause, with no write word between;
/// or the text is a check (`Verify`, `Inspect` ...) and no write verb
/// comes before it (there `in X` says where to look, not where to write).
fn read_only(text: &str, at: usize, clause: &str) -> bool {
    let before = text.get(..at.min(text.len())).unwrap_or("");
    let check = words(text).next().is_some_and(check_word);
    let mut backwards = words(clause).rev().peekable();
    while let Some(word) = backwards.next() {
        // `align with X`, `navigating to X`, `based on X`: X is what the written thing follows.
        // `Remove the routes from api/x.py` takes them out of it: that file is written.
        let takes = || {
            word.eq_ignore_ascii_case("from")
                && words(clause).any(|w| {
                    listed(
                        &[
                            "move",
                            "moving",
                            "extract",
                            "extracting",
                            "remove",
                            "removing",
                            "delete",
                            "deleting",
                            "drop",
                            "strip",
                            "split",
                            "migrate",
                            "migrating",
                        ],
                        w,
                    )
                })
        };
        if backwards.peek().is_some_and(|earlier| relates(earlier, word)) && !takes() {
            return true;
        }
        if listed(WRITE_VERBS, word) && !check {
            return false;
        }
        // `... to use X instead of Y in src/a.go`: the file after `in` is where the change goes.
        if !check && (listed(WRITE_LINKS, word) || listed(&["in", "at"], word)) {
            return false;
        }
        if listed(READ_WORDS, word) {
            return true;
        }
    }
    check && !writes_after_check(before)
}

/// Whether `word` then `link` (`aligned with`, `navigating to`, `based
/// on`) relates the thing written to what comes next, which is only read.
fn relates(word: &str, link: &str) -> bool {
    const WITH: &[&str] = &[
        "align",
        "aligned",
        "aligning",
        "aligns",
        "compatible",
        "complies",
        "comply",
        "consistent",
        "match",
        "matches",
        "matching",
    ];
    const TO: &[&str] = &[
        "according",
        "conform",
        "conforming",
        "conforms",
        "link",
        "linking",
        "links",
        "navigate",
        "navigates",
        "navigating",
        "navigation",
        "redirect",
        "redirecting",
        "redirects",
    ];
    const ON: &[&str] = &["based", "modeled", "modelled"];
    // `include the auth router from api/auth.py`: what is imported, not what changes.
    const IMPORTED: &[&str] = &["router", "routers", "routes"];
    // `the retry pattern from src/client.rs`: what is followed, not what changes.
    const FROM: &[&str] = &["approach", "conventions", "example", "examples", "pattern", "patterns", "style"];
    match link.len() {
        4 if link.eq_ignore_ascii_case("from") => listed(FROM, word) || listed(IMPORTED, word),
        2 if link.eq_ignore_ascii_case("to") => listed(TO, word),
        2 if link.eq_ignore_ascii_case("on") => listed(ON, word),
        4 if link.eq_ignore_ascii_case("with") => listed(WITH, word),
        _ => false,
    }
}

/// The clause of `text` before byte `at`: from the last `(`, `)`, `;` or sentence end.
fn clause_before(text: &str, at: usize) -> &str {
    let before = text.get(..at.min(text.len())).unwrap_or("");
    let b = before.as_bytes();
    // Bytes, backwards: all the marks are ASCII, so any position found is a char boundary.
    let start = (0..b.len())
        .rev()
        .find(|&i| matches!(b[i], b'(' | b')' | b';') || (b[i] == b'.' && b.get(i + 1) == Some(&b' ')))
        .map_or(0, |i| if b[i] == b'.' { i + 2 } else { i + 1 });
    &before[start.min(before.len())..]
}

/// Whether a candidate after `clause` is named as what the task must not write:
/// `MUST NOT touch X`, `never modify X`, `without changing X`, `no X change`.
/// Only a negation that governs the word or verb right before the path counts
/// (`does not block in src/a.ts` says nothing about writing src/a.ts).
fn negated(clause: &str) -> bool {
    const NEGATIONS: &[&str] = &["cannot", "don't", "dont", "mustn't", "never", "nor", "not", "without"];
    const TOUCHES: &[&str] = &[
        "alter",
        "altering",
        "changing",
        "editing",
        "modifying",
        "overwrite",
        "touch",
        "touches",
        "touching",
    ];
    let mut before =
        words(clause).rev().filter(|w| !listed(&["a", "an", "any", "existing", "other", "the"], w));
    match before.next() {
        Some(w) if w.eq_ignore_ascii_case("no") => true,
        Some(w) if listed(WRITE_VERBS, w) || listed(TOUCHES, w) => {
            before.next().is_some_and(|n| listed(NEGATIONS, n))
        }
        _ => false,
    }
}

/// Whether a check's text, up to a path, is writing there (`Verify X and
/// fix Y`, `Run the tests, then update Z`): the last clause-opening verb
/// before it writes. A check verb opening a later clause looks again
/// (`Verify and refine a.json: confirm it points to b.js` reads b.js), and
/// there `ensure` checks too. A write word inside a noun phrase (`the
/// manual edit routes`) does not count.
fn writes_after_check(text: &str) -> bool {
    let mut opens_clause = false;
    let mut writing = false;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if opens_clause || raw.starts_with('(') {
            if listed(CHECK_WORDS, word) || listed(&["ensure", "confirm", "make"], word) {
                writing = false;
            } else if listed(WRITE_VERBS, word) {
                writing = true;
            }
        }
        opens_clause = listed(&["and", "then", "to", "or", "also"], word) || raw.ends_with([',', ';', ':']);
    }
    writing
}

/// First words of a documentation task: what it names is its subject.
const DOC_VERBS: &[&str] = &["describe", "document", "explain", "outline"];

const SUBJECT: &str = "the subject the task documents, not a file it writes";

/// Words after `in` that name no place (`in detail`, `in the same way`).
const NOT_PLACES: &[&str] = &[
    "addition",
    "brief",
    "case",
    "cases",
    "depth",
    "detail",
    "details",
    "full",
    "general",
    "line",
    "mind",
    "order",
    "parallel",
    "particular",
    "place",
    "practice",
    "same",
    "sequence",
    "short",
    "summary",
    "terms",
    "this",
    "which",
];

/// Byte offsets in `text` of the places written into: the word after
/// `in`/`into`/`inside`/`within` (and any article), unless it names no
/// place (`in detail`).
fn destinations(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut after_preposition = false;
    let base = text.as_ptr() as usize;
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if after_preposition {
            if listed(&["a", "an", "the", "new", "its", "their", "our", "each", "every", "existing"], bare) {
                continue;
            }
            after_preposition = false;
            if !bare.is_empty() && !listed(NOT_PLACES, bare) {
                out.push(word.as_ptr() as usize - base);
            }
            continue;
        }
        after_preposition = word.len() == bare.len() && listed(&["in", "into", "inside", "within"], bare);
    }
    out
}

/// A documentation file: what a documentation task writes.
fn doc_file(path: &str) -> bool {
    path.ends_with('/')
        || matches!(path.rsplit_once('.').map(|(_, ext)| ext), Some("md" | "mdx" | "rst" | "txt" | "adoc"))
}

/// A name written as a placeholder (`.{agent}/`, `specs/###-x/`), not a path.
fn placeholder(path: &str) -> bool {
    // Every placeholder holds `{`, `#`, or one of the upper-case or
    // spelled-out markers below: most paths have none of them.
    let b = path.as_bytes();
    if !b.iter().any(|&c| matches!(c, b'{' | b'#' | b'N' | b'X' | b'x' | b'Y' | b'I')) {
        return false;
    }
    let brace = path.match_indices('{').any(|(at, _)| {
        let rest = &path[at + 1..];
        rest.find('}').is_some_and(|end| !rest[..end].contains(','))
    });
    brace
        || path.contains("###")
        || path.split(['/', '-', '_', '.']).any(|seg| matches!(seg, "NNN" | "XXX" | "xxx" | "YYYY" | "ID"))
}

/// The rest of a path written from a placeholder for the repository's root
/// (`{repo_root}/config/x.json`, `<repo-root>/x`, `$REPO_ROOT/x`): that
/// placeholder is the root, as a leading `/` is.
fn after_root_placeholder(path: &str) -> Option<&str> {
    let (head, rest) = path.split_once('/')?;
    let name = head
        .strip_prefix("${")
        .and_then(|h| h.strip_suffix('}'))
        .or_else(|| head.strip_prefix('$'))
        .or_else(|| head.strip_prefix('{').and_then(|h| h.strip_suffix('}')))
        .or_else(|| head.strip_prefix('<').and_then(|h| h.strip_suffix('>')))?;
    let name = name.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let root = matches!(
        name.as_str(),
        "reporoot" | "repositoryroot" | "root" | "projectroot" | "gitroot" | "workspaceroot" | "rootdir"
    );
    (root && !rest.is_empty()).then_some(rest)
}

/// `.axaml.cs` written after `Views/Dialog.axaml`: `Views/Dialog.axaml.cs`,
/// the file beside it whose extension continues the one before.
fn companion(before: &str, written: &str) -> Option<String> {
    let suffix = written.strip_prefix('.')?;
    if suffix.contains('/') || before.ends_with('/') {
        return None;
    }
    let name = file_name(before);
    let (stem, extension) = name.split_once('.')?;
    let longer = suffix.strip_prefix(extension)?.strip_prefix('.')?;
    if stem.is_empty() || longer.is_empty() || !longer.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return None;
    }
    Some(format!("{before}.{longer}"))
}

/// A Go module or package path (`github.com/org/x`), not a repository path.
fn module_name(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let tld = first.rsplit_once('.').map(|(_, t)| t).unwrap_or("");
    path.contains('/') && matches!(tld, "com" | "org" | "io" | "net" | "dev" | "in" | "co" | "sh")
}

/// What resolving one candidate gives.
enum Outcome {
    Lock(String, From),
    Reject(String),
}

/// The `{a,b}` expansions of a written path, without a vector for the usual one.
enum Alternatives<'a> {
    One(Option<Cow<'a, str>>),
    Many(std::vec::IntoIter<Cow<'a, str>>),
}

impl<'a> Iterator for Alternatives<'a> {
    type Item = Cow<'a, str>;

    fn next(&mut self) -> Option<Cow<'a, str>> {
        match self {
            Alternatives::One(one) => one.take(),
            Alternatives::Many(many) => many.next(),
        }
    }
}

/// The files earlier tasks of the plan write, by file name, without a
/// string per path: a name's hash leads to its latest entry, and each entry
/// (task, path, the entry before it with that hash plus one, or 0) to the
/// one before, so indexing a 10,000-task plan costs one map insert a path.
#[derive(Default)]
pub(super) struct Earlier {
    last: FxMap<u64, u32>,
    entries: Vec<(u32, u32, u32)>,
    /// The distinct directories of the files, by their last name (`scaffold` → `x/pkg/scaffold/`).
    dirs: FxMap<String, Vec<String>>,
}

impl Earlier {
    fn add(&mut self, task: usize, paths: &[String]) {
        for (k, path) in paths.iter().enumerate() {
            if path.ends_with('/') || !path.contains('/') {
                continue;
            }
            let (Ok(task), Ok(k), Ok(at)) =
                (u32::try_from(task), u32::try_from(k), u32::try_from(self.entries.len()))
            else {
                return;
            };
            let hash = Fx::default().hash_one(file_name(path));
            let before = self.last.insert(hash, at).map_or(0, |b| b + 1);
            self.entries.push((task, k, before));
            if let Some(dir) = parent(path) {
                // Distinct directories only: a plan's tasks mostly write into a few.
                match self.dirs.get_mut(file_name(dir)) {
                    Some(known) if known.iter().any(|d| d == dir) => {}
                    Some(known) => known.push(dir.to_string()),
                    None => {
                        self.dirs.insert(file_name(dir).to_string(), vec![dir.to_string()]);
                    }
                }
            }
        }
    }

    /// The distinct directories (ending with `/`) of files earlier tasks
    /// write that end with `/dir` (`dir` ends with `/`).
    fn dirs_ending_with(&self, dir: &str) -> Vec<&str> {
        let Some(known) = self.dirs.get(file_name(dir)) else { return Vec::new() };
        known
            .iter()
            .filter(|d| {
                d.len() > dir.len() && d.ends_with(dir) && d.as_bytes()[d.len() - dir.len() - 1] == b'/'
            })
            .map(String::as_str)
            .collect()
    }

    /// The distinct paths named `name` that tasks of `done` write.
    fn paths<'t>(&self, name: &str, done: &'t [Task]) -> Vec<&'t str> {
        let mut out: Vec<&str> = Vec::new();
        let mut at = self.last.get(&Fx::default().hash_one(name)).map(|&a| a as usize);
        while let Some(&(task, k, before)) = at.and_then(|a| self.entries.get(a)) {
            let path = done.get(task as usize).and_then(|t| t.paths.get(k as usize));
            if let Some(path) = path.filter(|p| file_name(p) == name) {
                if !out.contains(&path.as_str()) {
                    out.push(path);
                }
            }
            at = (before as usize).checked_sub(1);
        }
        out.reverse();
        out
    }
}

/// The inputs of resolving the candidates of one task.
struct Scope<'a> {
    cx: Option<&'a Context>,
    root: Option<&'a str>,
    /// Directories the task names.
    task_dirs: &'a [Cow<'a, str>],
    /// Directories its heading (or the task it continues) names.
    heading_dirs: &'a [Cow<'a, str>],
    /// Whether the task makes new things (`Create`, `Add`...): a new file
    /// goes beside what it names rather than onto a tracked namesake.
    creates: bool,
    /// Whether the task writes an ignore file: bare patterns are its content.
    writes_ignore: bool,
    /// Files earlier tasks of the plan write, by file name: a bare name
    /// (`in RideRecorder.razor`) continues the one an earlier task made.
    earlier: Option<(&'a Earlier, &'a [Task])>,
    /// Whether the paths come from an explicit declaration (`Files:`): the
    /// author wrote them for this purpose, so they are repository paths as
    /// written, never joined to a directory of the context.
    declared: bool,
    /// Whether `heading_dirs` is only the directory of the task before,
    /// which a task may continue but need not: a root file (`README.md`)
    /// is not placed there.
    lent: bool,
    /// The directory the plan says its paths are relative to (`All paths
    /// relative to ContosoDashboard/`), when it is one the repository tracks.
    base: Option<&'a str>,
    /// The directory a plan's "Path Conventions" name and the bare names
    /// they place in it (`Chapter directory: book/ch11/`, `README: README.md`).
    conventions: Option<&'a (String, Vec<String>)>,
    /// The task's description, for the rules that read its words only
    /// when a candidate needs them (`at the repository root` for a bare
    /// name, `endpoints` for a `/name/`).
    description: &'a str,
}

/// Fills the paths of every task: `sections[i]` is the text of the heading
/// and prose above task `i` (its section).
pub fn resolve_tasks(
    tasks: &mut [Task],
    sections: &[String],
    section_of: &[usize],
    options: &super::Options,
) {
    let root = locks::root_text(options.root.as_deref());
    let cx = options.context.as_deref();
    let mut section_dirs: Vec<Option<Vec<Cow<str>>>> = vec![None; sections.len()];
    let mut earlier = Earlier::default();
    let base = cx.and_then(|cx| base_dir(sections, section_of, cx));
    let conventions = cx.and_then(|cx| conventions_dir(sections, section_of, cx));
    for i in 0..tasks.len() {
        let section = section_of.get(i).copied().unwrap_or(usize::MAX);
        let (done, rest) = tasks.split_at_mut(i);
        let Some(task) = rest.first_mut() else { break };
        let own: &[Cow<str>] = match section_dirs.get_mut(section) {
            Some(slot) => slot.get_or_insert_with(|| {
                let mut found = Vec::new();
                scan_found(&sections[section], &mut found);
                dirs_of(&found, cx)
            }),
            None => &[],
        };
        // Without a directory of its own, the section lends the task before
        // in it, which the task may continue: its one directory, if it has one.
        let mut single: Option<Cow<str>> = None;
        if own.is_empty() {
            let previous = done.last().filter(|_| i > 0 && section_of.get(i - 1) == Some(&section));
            if let Some(previous) = previous {
                let mut dirs = previous.paths.iter().map(|p| {
                    if p.ends_with('/') {
                        None
                    } else {
                        p.rfind('/').map(|at| &p[..=at])
                    }
                });
                if let Some(Some(first)) = dirs.next() {
                    if dirs.all(|d| d == Some(first)) {
                        single = Some(Cow::Borrowed(first));
                    }
                }
            }
        }
        let heading_dirs: &[Cow<str>] = if own.is_empty() { single.as_slice() } else { own };
        let lent = own.is_empty() && single.is_some();
        resolve_task(
            task,
            heading_dirs,
            lent,
            cx,
            root.as_deref(),
            PlanDirs { base: base.as_deref(), conventions: conventions.as_ref() },
            Some((&earlier, &*done)),
        );
        earlier.add(i, &task.paths);
    }
    if let Some(cx) = cx {
        inherit::carry(tasks, sections, section_of, cx);
    }
}

/// The directory a section without tasks says the plan's paths are
/// relative to (`All paths relative to `d:\\code\\repo\\app\\``, `relative
/// to app/`): the longest tail of it the repository tracks as a directory.
fn base_dir(sections: &[String], section_of: &[usize], cx: &Context) -> Option<String> {
    let mut has_tasks = vec![false; sections.len()];
    for &s in section_of {
        if let Some(slot) = has_tasks.get_mut(s) {
            *slot = true;
        }
    }
    for (s, text) in sections.iter().enumerate() {
        if has_tasks.get(s).copied().unwrap_or(true) || !has_bytes(text.as_bytes(), b"relative to") {
            continue;
        }
        for (at, phrase) in text.match_indices("relative to") {
            let rest = text[at + phrase.len()..].trim_start();
            let written = match rest.strip_prefix('`') {
                Some(quoted) => quoted.split('`').next().unwrap_or(""),
                None => rest.split_whitespace().next().unwrap_or(""),
            };
            let written = written.trim_end_matches(['.', ',', ';', ':', ')']).replace('\\', "/");
            let segments: Vec<&str> =
                written.split('/').filter(|seg| !seg.is_empty() && !seg.ends_with(':')).collect();
            for i in 0..segments.len() {
                let dir = format!("{}/", segments[i..].join("/"));
                if cx.is_tracked(&dir) && locks::normalize(&dir).is_ok_and(|n| n == dir) {
                    return Some(dir);
                }
            }
        }
    }
    None
}

/// The one directory a "Path Conventions" section without tasks names
/// below the top level, when it also names bare files (`Chapter directory:
/// book/ch11/`, `README: README.md`): the plan's files of those names are
/// in it. The directory and those names.
fn conventions_dir(sections: &[String], section_of: &[usize], cx: &Context) -> Option<(String, Vec<String>)> {
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
        // A section's text starts with its heading's title.
        let heading = text.lines().next().unwrap_or("");
        if !heading.to_ascii_lowercase().contains("path convention") {
            continue;
        }
        let mut found = Vec::new();
        scan_found(text, &mut found);
        let mut dirs: Vec<&str> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for f in &found {
            let Candidate::Path(p) = f.candidate else { continue };
            let p = p.trim_start_matches('/');
            if p.ends_with('/') {
                if !dirs.contains(&p) {
                    dirs.push(p);
                }
            } else if !p.contains('/') && has_extension(p) && !placeholder(p) {
                names.push(p.to_string());
            }
        }
        if let ([dir], false) = (dirs.as_slice(), names.is_empty()) {
            let deep = dir.trim_end_matches('/').contains('/');
            if deep && (cx.is_tracked(dir) || cx.is_dir(dir)) && normalize(dir).is_ok_and(|n| n == *dir) {
                return Some((dir.to_string(), names));
            }
        }
    }
    None
}

/// Where the plan's prose says its paths go: the directory they are
/// relative to, and the one its "Path Conventions" name with the bare
/// names placed in it.
#[derive(Clone, Copy)]
pub(super) struct PlanDirs<'a> {
    base: Option<&'a str>,
    conventions: Option<&'a (String, Vec<String>)>,
}

/// Fills one task's `paths`, `resolved` and `rejected_paths`.
pub(super) fn resolve_task(
    task: &mut Task,
    heading_dirs: &[Cow<str>],
    lent: bool,
    cx: Option<&Context>,
    root: Option<&str>,
    plan_dirs: PlanDirs,
    earlier: Option<(&Earlier, &[Task])>,
) {
    let declared = declarations(task);
    let mut found: Vec<Found> = Vec::new();
    if declared.is_empty() {
        scan_found(&task.description, &mut found);
        for detail in &task.details {
            if !detail.starts_with("par:") && !record_line(detail) {
                scan_found(detail, &mut found);
            }
        }
    } else {
        for text in &declared {
            declared_items(text, &mut found);
        }
    }
    let task_dirs = dirs_of(&found, cx);
    let first_word = words(&task.description).next().unwrap_or_default();
    let creates = listed(
        &["create", "add", "scaffold", "initialize", "initialise", "write", "generate", "new"],
        first_word,
    );
    let writes_ignore = found.iter().any(|f| match f.candidate {
        Candidate::Path(p) => IGNORE_FILES.contains(&file_name(p)),
        Candidate::Unsure(..) | Candidate::Maybe(_) => false,
    });
    let scope = Scope {
        cx,
        root,
        task_dirs: &task_dirs,
        heading_dirs,
        creates,
        writes_ignore,
        earlier,
        declared: !declared.is_empty(),
        lent,
        base: plan_dirs.base,
        conventions: plan_dirs.conventions,
        description: &task.description,
    };
    // A documentation task writes the documentation, not what it documents.
    let documents = declared.is_empty() && listed(DOC_VERBS, first_word);
    let destinations = if documents { destinations(&task.description) } else { Vec::new() };
    // Whether the candidate before was where a documentation task writes, for lists.
    let mut last_destination: Option<(usize, bool)> = None;
    // Whether the candidate before was negated (text, end, negated), for lists.
    let mut last_negated: Option<(usize, usize, bool)> = None;

    // Sized for the usual one path per candidate: the vector stays in the task.
    let mut resolved: Vec<Resolved> = Vec::with_capacity(found.len());
    let mut rejected: Vec<RejectedPath> = Vec::new();
    let reject = |rejected: &mut Vec<RejectedPath>, path: String, reason: String| {
        if !rejected.iter().any(|r| r.path == path) {
            rejected.push(RejectedPath { path, reason });
        }
    };
    // The directory of the path before, for lists (`pkg/out/table.go, json.go`):
    // (text, end of the path in it), the directory kept in one reused buffer.
    let mut last_dir: Option<(usize, usize)> = None;
    let mut last_dir_text = String::new();
    for (k, f) in found.iter().enumerate() {
        let written = match f.candidate {
            Candidate::Path(path) => path,
            Candidate::Unsure(text, reason) => {
                reject(&mut rejected, text.to_string(), reason.to_string());
                continue;
            }
            Candidate::Maybe(text) => {
                let known = cx.is_some_and(|cx| {
                    let t = text.trim_start_matches('/').trim_end_matches('/');
                    cx.known(t) || cx.is_dir(t)
                });
                if !known {
                    let package = module_name(text)
                        || (!text.contains('.') && !text.starts_with('/') && text.matches('/').count() == 1);
                    if package {
                        reject(
                            &mut rejected,
                            text.to_string(),
                            "a package or module name, not a path".to_string(),
                        );
                    }
                    continue;
                }
                text
            }
        };
        // `conditional Dockerfile generation in scaffold.go`: the content the code makes.
        if PLAIN_FILES.contains(&written)
            && generated_content(f.text.get(f.at + written.len()..).unwrap_or(""))
        {
            reject(
                &mut rejected,
                written.to_string(),
                "the content the task's code generates, not a file".to_string(),
            );
            continue;
        }
        let clause = clause_before(f.text, f.at);
        // `Run gosec in CI in .github/workflows/ci.yml` adds the step to
        // that workflow file: no task runs a workflow file itself.
        let ci_step = !written.ends_with('/') && ci_config(written) && f.text.contains("in CI");
        let reference = !std::ptr::eq(f.text, task.description.as_str()) && reference_line(f.text);
        let read = declared.is_empty() && !ci_step && (reference || read_only(f.text, f.at, clause));
        // A list after a negation is negated too (`must not touch a.sql, b.sql`).
        let negative = declared.is_empty() && {
            let listed_after = last_negated.and_then(|(text, end, was)| {
                if text != f.text.as_ptr() as usize {
                    return None;
                }
                let between = f.text.get(end..f.at)?.trim_matches(['`', ' ', '*', '[', ']']);
                matches!(between, "," | "and" | ", and" | "&" | "or" | ", or").then_some(was)
            });
            listed_after.unwrap_or_else(|| negated(clause))
        };
        last_negated = Some((f.text.as_ptr() as usize, f.at + written.len(), negative));
        if negative {
            reject(&mut rejected, written.to_string(), "named as what the task must not write".to_string());
            continue;
        }
        // The directory right after it (`x.ts in .speck/scripts/`).
        let next_dir = found.get(k + 1).and_then(|next| {
            let Candidate::Path(p) = next.candidate else { return None };
            if !std::ptr::eq(next.text, f.text) {
                return None;
            }
            let between =
                next.text.get(f.at + written.len()..next.at)?.trim_matches(['`', ' ', '*', '"', '\'']);
            let linked =
                listed(&["in", "under", "inside", "within", "into", "in the", "under the", "at"], between);
            let dir = p.trim_start_matches('/');
            let is_dir = dir.ends_with('/') || cx.is_some_and(|cx| cx.is_dir(dir));
            (linked && is_dir).then(|| if dir.ends_with('/') { dir.to_string() } else { format!("{dir}/") })
        });
        // The directory of the path right before it in a list.
        let list_dir = last_dir.and_then(|(text, end)| {
            if text != f.text.as_ptr() as usize {
                return None;
            }
            let between = f.text.get(end..f.at)?.trim_matches(['`', ' ', '*']);
            matches!(between, "," | "and" | ", and" | "&" | "/" | "or").then(|| last_dir_text.clone())
        });
        // Where a documentation task writes: the object of `in`/`into`, or a
        // list item joined to one; else what it names is its subject, when it
        // says where the documentation goes elsewhere, or when the name is no
        // documentation file and the repository has no such path.
        let in_description = std::ptr::eq(f.text, task.description.as_str());
        let (destination, destination_elsewhere) = if documents && in_description {
            let here = |o: &usize| *o <= f.at && f.at - *o <= 2;
            let listed_after = last_destination.and_then(|(end, was)| {
                let between = f.text.get(end..f.at)?.trim_matches(['`', ' ', '*']);
                matches!(between, "," | "and" | ", and" | "&" | "or").then_some(was)
            });
            let this = destinations.iter().any(here) || listed_after == Some(true);
            last_destination = Some((f.at + written.len(), this));
            (this, destinations.iter().any(|o| !here(o)))
        } else {
            (false, false)
        };
        // `Dialog.axaml` + `.axaml.cs`: the file beside the one before, with that longer extension.
        if let Some(path) = resolved.last().and_then(|last| companion(&last.path, written)) {
            if !resolved.iter().any(|r| r.path == path) {
                resolved.push(Resolved { path, from: From::TaskDir, text: written.to_string() });
            }
            continue;
        }
        let alternatives = if written.contains('{') {
            Alternatives::Many(expand_braces(written).into_iter())
        } else {
            Alternatives::One(Some(Cow::Borrowed(written)))
        };
        for expanded in alternatives {
            let outcome = resolve_one(&expanded, next_dir.as_deref(), list_dir.as_deref(), &scope);
            match outcome {
                // `implementing GET /x from api-spec.yaml`: the plan's own contract is read.
                Outcome::Lock(ref path, _)
                    if read
                        || (declared.is_empty()
                            && path.starts_with("specs/")
                            && words(clause).next_back().is_some_and(|w| w.eq_ignore_ascii_case("from"))) =>
                {
                    reject(&mut rejected, expanded.into_owned(), READ.to_string())
                }
                Outcome::Lock(path, _)
                    if documents
                        && in_description
                        && !destination
                        && (destination_elsewhere
                            || (!doc_file(&path)
                                && cx.is_some_and(|cx| !cx.known(&path) && !cx.is_dir(&path)))) =>
                {
                    reject(&mut rejected, expanded.into_owned(), SUBJECT.to_string())
                }
                Outcome::Lock(path, from) => {
                    // A sibling in a list shares the directory the previous item is in.
                    if let Some(at) = path.trim_end_matches('/').rfind('/') {
                        last_dir = Some((f.text.as_ptr() as usize, f.at + written.len()));
                        last_dir_text.clear();
                        last_dir_text.push_str(&path[..=at]);
                    }
                    if !resolved.iter().any(|r| r.path == path) {
                        resolved.push(Resolved { path, from, text: expanded.into_owned() });
                    }
                }
                Outcome::Reject(reason) => reject(&mut rejected, expanded.into_owned(), reason),
            }
        }
    }
    // `**Reference**: docs/x.md`, then `follow x.md`: the bare name is the file the task reads.
    resolved.retain(|r| {
        let read_elsewhere = declared.is_empty()
            && !r.text.contains('/')
            && rejected.iter().any(|o| {
                o.reason == READ
                    && (o.path == r.text
                        || o.path.strip_suffix(r.text.as_str()).is_some_and(|dir| dir.ends_with('/')))
            });
        if read_elsewhere {
            reject(&mut rejected, r.text.clone(), READ.to_string());
        }
        !read_elsewhere
    });
    // A task that writes tests writes its test files; the code under test it names is read.
    if declared.is_empty()
        && resolved.len() > 1
        && resolved.iter().any(|r| test_path(&r.path))
        && writes_tests(&task.description)
    {
        resolved.retain(|r| {
            let keep = test_path(&r.path);
            if !keep {
                reject(&mut rejected, r.text.clone(), UNDER_TEST.to_string());
            }
            keep
        });
    }
    // `a/x.go, y.go, etc.`: the task edits an open set of files there, so it locks the directory.
    let etc = |text: &str| {
        has_bytes(text.as_bytes(), b"etc")
            && (text.contains("etc.") || text.contains("etc)") || text.contains(", etc"))
    };
    if declared.is_empty() && (etc(&task.description) || task.details.iter().any(|d| etc(d))) {
        let dirs: Vec<String> = resolved
            .iter()
            .filter(|r| !r.path.ends_with('/'))
            .filter_map(|r| r.path.rfind('/').map(|at| r.path[..=at].to_string()))
            .collect();
        if let Some(first) = dirs.first().filter(|d| dirs.len() >= 2 && dirs.iter().all(|x| x == *d)).cloned()
        {
            resolved.retain(|r| r.path.ends_with('/') || !r.path.starts_with(&first));
            resolved.push(Resolved { path: first.clone(), from: From::TaskDir, text: first });
        }
    }
    // A directory that only placed a bare name (`x.ts in scripts/`) is not locked itself.
    let bases: Vec<String> = resolved
        .iter()
        .filter(|r| matches!(r.from, From::TaskDir) && !r.text.contains('/'))
        .filter_map(|r| r.path.trim_end_matches('/').rfind('/').map(|at| r.path[..=at].to_string()))
        .collect();
    resolved.retain(|r| !(r.path.ends_with('/') && r.from == From::Written && bases.contains(&r.path)));
    // `Create apps/api package.json at /apps/api/package.json`: the bare
    // name is the file the task names in full, and `apps/api` (no slash, no
    // such file) is that file's directory named as context, not a file lock.
    if resolved.len() > 1 {
        let full: Vec<(String, String)> = resolved
            .iter()
            .filter(|r| r.text.contains('/'))
            .map(|r| (r.path.clone(), file_name(&r.path).to_string()))
            .collect();
        resolved.retain(|r| {
            let same_file = !r.text.contains('/')
                && !r.path.ends_with('/')
                && full.iter().any(|(path, name)| *name == file_name(&r.path) && *path != r.path);
            let context_dir = !r.path.ends_with('/')
                && !has_extension(file_name(&r.path))
                && !cx.is_some_and(|cx| cx.known(&r.path))
                && full.iter().any(|(path, _)| {
                    path.len() > r.path.len() + 1
                        && path.starts_with(r.path.as_str())
                        && path.as_bytes()[r.path.len()] == b'/'
                });
            !same_file && !context_dir
        });
    }
    // `Install TanStack Query in frontend/ via npm`: the package goes into
    // the manifest of that project and its lock file, not anywhere in it.
    if let (true, Some(cx), Some(manager)) = (declared.is_empty(), cx, installer(&task.description)) {
        let mut into: Vec<usize> = Vec::new();
        for (k, r) in resolved.iter_mut().enumerate().filter(|(_, r)| r.path.ends_with('/')) {
            let manifest = manager.manifest;
            let path = format!("{}{manifest}", r.path);
            if cx.known(&path) || !cx.is_tracked(&r.path) {
                r.text = format!("{manifest} in {}", r.text);
                r.path = path;
                into.push(k);
            }
        }
        let mut beside: Vec<Resolved> = Vec::new();
        for r in into.iter().map(|&k| &resolved[k]) {
            let dir = parent(&r.path).unwrap_or("");
            let known: Vec<&str> = lock_files(manager.manifest)
                .iter()
                .copied()
                .filter(|l| cx.known(&format!("{dir}{l}")))
                .collect();
            let locks = if known.is_empty() { manager.locks } else { &known[..] };
            for lock in locks {
                let path = format!("{dir}{lock}");
                if !resolved.iter().chain(&beside).any(|o| o.path == path) {
                    beside.push(Resolved {
                        path,
                        from: From::Tree,
                        text: format!("{lock} beside {}", r.text),
                    });
                }
            }
        }
        resolved.extend(beside);
    }
    // `Add the zip crate dependency to Cargo.toml`: the lock file the
    // repository keeps beside the manifest changes with it.
    if declared.is_empty() && adds_dependency(&task.description) {
        if let Some(cx) = cx {
            let mut beside: Vec<Resolved> = Vec::new();
            for r in &resolved {
                for lock in lock_files(file_name(&r.path)) {
                    let path = match parent(&r.path) {
                        Some(dir) => format!("{dir}{lock}"),
                        None => lock.to_string(),
                    };
                    let new = !resolved.iter().chain(&beside).any(|o| o.path == path);
                    if new && cx.is_tracked(&path) {
                        beside.push(Resolved {
                            path,
                            from: From::Tree,
                            text: format!("{lock} beside {}", r.text),
                        });
                    }
                }
            }
            resolved.extend(beside);
        }
    }
    // A setup step that names no file writes its ecosystem's manifest or lock
    // file (`Initialize Go module`, `Run bun install`).
    if resolved.is_empty() && declared.is_empty() {
        for file in setup_files(&task.description, cx) {
            resolved.push(Resolved { path: file.to_string(), from: From::Written, text: file.to_string() });
        }
    }
    let paths: Vec<String> = resolved.iter().map(|r| r.path.clone()).collect();
    task.paths = paths;
    task.resolved = resolved;
    task.rejected_paths = rejected;
}

const UNDER_TEST: &str = "the code under test, which a test task reads";

const READ: &str = "only read or called by the task, not written";

/// Whether a task's opening words are about writing tests (`Write unit
/// tests in ...`, `Add an integration test for ...`, `Contract test POST
/// /x in ...`): the first four words that are not paths name a test.
pub(super) fn writes_tests(description: &str) -> bool {
    description
        .split_whitespace()
        .filter(|w| !w.contains(['/', '.', '`']))
        .take(4)
        .any(|w| listed(&["test", "tests", "testing"], w.trim_matches(|c: char| !c.is_alphanumeric())))
}

/// Whether `path` is a test file or under a test directory (`tests/`,
/// `__tests__/`, `Service.Tests/`, `test_x.py`, `x_test.go`, `x.test.ts`,
/// `x.spec.ts`, `XTests.cs`).
pub(super) fn test_path(path: &str) -> bool {
    let trimmed = path.trim_end_matches('/');
    let name_at = if path.ends_with('/') { usize::MAX } else { trimmed.rfind('/').map_or(0, |at| at + 1) };
    let dirs = if name_at == usize::MAX { trimmed } else { &trimmed[..name_at] };
    let dir_like = dirs.split('/').any(|seg| {
        listed(&["test", "tests", "__tests__", "testing", "e2e", "spec", "testdata"], seg)
            || seg.ends_with(".Tests")
            || seg.ends_with(".Test")
            || seg.ends_with(".tests")
    });
    let Some(name) = trimmed.get(name_at..) else { return dir_like };
    let stem = name.split('.').next().unwrap_or(name);
    dir_like
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.contains("_spec.")
}

/// Whether a task's text is about HTTP endpoints or routes.
fn about_routes(description: &str) -> bool {
    let b = description.as_bytes();
    has_bytes(b, b"ndpoint") || has_bytes(b, b"oute") || has_bytes(b, b"API")
}

/// Whether the task says its bare names go at the repository's root.
fn at_root(description: &str) -> bool {
    if !has_bytes(description.as_bytes(), b"root") {
        return false;
    }
    let lower = description.to_ascii_lowercase();
    ["repository root", "repo root", "project root", "at the root", "in the root", "to the root"]
        .iter()
        .any(|p| lower.contains(p))
}

/// Whether `path` is a CI pipeline definition.
fn ci_config(path: &str) -> bool {
    let path = path.trim_start_matches("./").trim_start_matches('/');
    path.starts_with(".github/workflows/")
        || path.starts_with(".circleci/")
        || path.starts_with(".gitlab-ci.")
        || path.starts_with("azure-pipelines.")
}

/// The files a dependency or module setup step writes at the root, from the
/// command or phrase it names: `go mod init` / `Initialize Go module` →
/// `go.mod`; installing or adding dependencies in a Go module (one at the
/// root, tracked or planned, or made by the same phrase) → `go.mod`,
/// `go.sum`; a package manager's install or add → its lock file (and
/// `Cargo.toml` or `pyproject.toml` for an add). Used only for a task that
/// names no path of its own.
fn setup_files(description: &str, cx: Option<&Context>) -> Vec<&'static str> {
    let text = description.to_ascii_lowercase();
    let has = |needle: &str| text.contains(needle);
    let go_init = has("go mod init")
        || [
            "initialize go module",
            "initialise go module",
            "initialize the go module",
            "initialise the go module",
        ]
        .iter()
        .any(|p| has(p));
    if go_init {
        return vec!["go.mod"];
    }
    // No rule for a project generator (`Initialize a Spring Boot project using
    // Maven`): it writes a scaffold no name says, so the task stays pathless,
    // runs alone and acquires what it commits. Locking only its pom.xml refused
    // the scaffold's other files on a real run.
    let go_module = cx.is_some_and(|cx| cx.known("go.mod"));
    let installs = (has("install") || has("add")) && has("dependenc");
    if has("go mod tidy") || has("go get ") || (go_module && installs) {
        return vec!["go.mod", "go.sum"];
    }
    let manager = [
        ("bun install", &["bun.lock"][..]),
        ("bun add", &["package.json", "bun.lock"][..]),
        ("npm install", &["package-lock.json"][..]),
        ("npm i ", &["package-lock.json"][..]),
        ("pnpm install", &["pnpm-lock.yaml"][..]),
        ("pnpm add", &["package.json", "pnpm-lock.yaml"][..]),
        ("yarn install", &["yarn.lock"][..]),
        ("yarn add", &["package.json", "yarn.lock"][..]),
        ("cargo add", &["Cargo.toml", "Cargo.lock"][..]),
        ("uv add", &["pyproject.toml", "uv.lock"][..]),
        ("uv sync", &["uv.lock"][..]),
        ("poetry add", &["pyproject.toml", "poetry.lock"][..]),
        ("poetry install", &["poetry.lock"][..]),
    ];
    // `pnpm install` holds `npm install`: the longest command named wins.
    let mut found: Option<(&str, &[&'static str])> = None;
    for (command, files) in manager {
        if has(command) && found.map_or(true, |(c, _)| command.len() > c.len()) {
            found = Some((command, files));
        }
    }
    // `npm install java-parser` adds the package to package.json too.
    let adds_package = |command: &str| {
        let after = text.find(command).map_or("", |at| &text[at + command.len()..]);
        after.starts_with(' ')
            && after.split_whitespace().next().is_some_and(|w| {
                let w = w.trim_matches(['`', '"', '\'']);
                w.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '@')
            })
    };
    match found {
        Some(("npm install", _)) if adds_package("npm install") => vec!["package.json", "package-lock.json"],
        Some(("npm i ", _)) if adds_package("npm i") => vec!["package.json", "package-lock.json"],
        found => found.map_or(Vec::new(), |(_, files)| files.to_vec()),
    }
}

/// Whether a task adds, removes or changes its dependencies (`Add zip crate
/// dependency`, `Install axios`, `Upgrade tokio`).
fn adds_dependency(description: &str) -> bool {
    let lower = description.to_ascii_lowercase();
    ["dependenc", "crate", "install", "upgrade", "bump"].iter().any(|w| lower.contains(w))
}

/// A package manager a task installs with: the manifest it adds to and the
/// lock file it writes when the repository keeps none yet.
struct Installer {
    manifest: &'static str,
    locks: &'static [&'static str],
}

/// `Install X via npm`, `Install dev dependencies with uv`: a task that
/// opens with `Install` (or `Add`) and names its package manager.
fn installer(description: &str) -> Option<Installer> {
    let first = words(description).next()?;
    if !listed(&["install", "add"], first) {
        return None;
    }
    // The manager's name as a word of its own (`via npm`, `` `uv add` ``), not `Cargo.toml`.
    let mut names =
        description.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()));
    let (manifest, locks): (&'static str, &'static [&'static str]) = names.find_map(|w| {
        Some(match w.to_ascii_lowercase().as_str() {
            "npm" => ("package.json", &["package-lock.json"][..]),
            "pnpm" => ("package.json", &["pnpm-lock.yaml"][..]),
            "yarn" => ("package.json", &["yarn.lock"][..]),
            "bun" => ("package.json", &["bun.lock"][..]),
            "uv" => ("pyproject.toml", &["uv.lock"][..]),
            "poetry" => ("pyproject.toml", &["poetry.lock"][..]),
            "cargo" => ("Cargo.toml", &["Cargo.lock"][..]),
            _ => return None,
        })
    })?;
    Some(Installer { manifest, locks })
}

/// The lock files a package manager keeps beside a manifest.
fn lock_files(manifest: &str) -> &'static [&'static str] {
    match manifest {
        "Cargo.toml" => &["Cargo.lock"],
        "package.json" => &["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb"],
        "pyproject.toml" => &["poetry.lock", "uv.lock", "pdm.lock"],
        "go.mod" => &["go.sum"],
        "Gemfile" => &["Gemfile.lock"],
        "composer.json" => &["composer.lock"],
        "Pipfile" => &["Pipfile.lock"],
        _ => &[],
    }
}

/// `api/x/route.ts` → `app/api/x/route.ts`: a root-slash path whose first
/// directory is not at the root, neither tracked nor planned there, and is
/// tracked in exactly one place deeper.
fn rooted_deeper(path: &str, cx: &Context) -> Option<String> {
    let (first, rest) = path.split_once('/')?;
    if first.is_empty() || cx.top.contains(first) || cx.is_dir(first) || cx.known(first) {
        return None;
    }
    match cx.dirs_by_name().get(first)?.as_slice() {
        [one] => Some(format!("{one}{rest}")),
        _ => None,
    }
}

/// Calls in code shaped like file names (`console.log`).
const CODE_CALLS: &[&str] =
    &["console.log", "console.error", "console.warn", "console.info", "console.debug"];

/// Whether `text` is a setting and its value (`workspaceContains:**/pom.xml`,
/// `onLanguage:java`): a name of letters before a colon, which no path the
/// plan writes starts with (`C:\x` has one letter, a URL `//` after it).
fn setting_value(text: &str) -> bool {
    let Some((name, value)) = text.split_once(':') else { return false };
    name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !value.is_empty()
        && !value.starts_with("//")
        && !value.bytes().all(|b| b.is_ascii_digit())
}

/// Resolves one written path (braces expanded) of a task.
fn resolve_one(written: &str, next_dir: Option<&str>, list_dir: Option<&str>, scope: &Scope) -> Outcome {
    let cx = scope.cx;
    let rooted = after_root_placeholder(written);
    let written = rooted.unwrap_or(written);
    if placeholder(written) {
        return Outcome::Reject(PLACEHOLDER.to_string());
    }
    if module_name(written) {
        return Outcome::Reject("a package or module name, not a path".to_string());
    }
    if setting_value(written) {
        return Outcome::Reject("a setting's value (`name:value`), not a path".to_string());
    }
    if CODE_CALLS.contains(&written) {
        return Outcome::Reject("a call in code, not a path".to_string());
    }
    let mut from = if rooted.is_some() { From::RootSlash } else { From::Written };
    let inside_root = relative_to_root(written, scope.root);
    // An absolute path inside the repository is as full as a path gets.
    let full = inside_root.is_some();
    let mut candidate = inside_root.unwrap_or_else(|| written.to_string());
    if let Some(rest) = candidate.strip_prefix('/') {
        let first = rest.split('/').next().unwrap_or("");
        if !known_absolute(&candidate) || cx.is_some_and(|cx| cx.top.contains(first)) {
            candidate = rest.to_string();
            from = From::RootSlash;
        }
    }
    let path = match normalize(&candidate) {
        Ok(path) => path.into_owned(),
        Err(reason) => return Outcome::Reject(reason),
    };
    // `/todos/` in a task about endpoints, where the repository has no such
    // top-level entry and the plan none either: the endpoint, not a directory.
    if from == From::RootSlash && about_routes(scope.description) {
        let name = path.trim_end_matches('/');
        let unknown = cx.is_some_and(|cx| !cx.top.contains(name) && !cx.is_dir(name) && !cx.known(name));
        if !name.contains('/') && !has_extension(name) && !known_file(name) && unknown {
            return Outcome::Reject(ROUTE.to_string());
        }
    }
    // `/api/x/route.ts` where the repository has no top-level `api/` but one
    // `app/api/`: the plan wrote the route's file from the web app's root.
    let path = match cx.filter(|_| from == From::RootSlash).and_then(|cx| rooted_deeper(&path, cx)) {
        Some(deeper) => deeper,
        None => path,
    };
    // `TypeScript/Node.js`: names of products, not a path the repository has.
    if product(&path) && !cx.is_some_and(|cx| cx.known(&path)) {
        return Outcome::Reject("a product's name, not a path".to_string());
    }
    if file_name(&path).eq_ignore_ascii_case("tasks.md") {
        return Outcome::Reject("tasks.md is owned by git-par".to_string());
    }

    let bare = !path.trim_end_matches('/').contains('/');
    if scope.writes_ignore && !IGNORE_FILES.contains(&file_name(&path)) {
        // `/target/` there is an anchored pattern like `target/`, unless the repository has it.
        let tracked = |cx: &Context| {
            let dir = path.trim_end_matches('/');
            cx.is_tracked(dir) || cx.is_tracked(&format!("{dir}/"))
        };
        let pattern = path.contains('*') || (bare && !cx.is_some_and(tracked));
        if pattern {
            return Outcome::Reject("a pattern written into an ignore file, not a path".to_string());
        }
    }
    let top_dir = path.ends_with('/') && TOP_DIRS.contains(&path.trim_end_matches('/'));
    let (path, from) = if from == From::RootSlash || full || top_dir || scope.declared {
        (path, from)
    } else {
        let (joined, from) = if bare {
            match resolve_bare(&path, next_dir, list_dir, scope) {
                Ok(found) => found,
                Err(reason) => return Outcome::Reject(reason),
            }
        } else {
            resolve_relative(&path, next_dir, scope)
        };
        // A join that left the name as it was (`samples/` beside `samples/`) placed nothing.
        let from = if joined == path { From::Written } else { from };
        (joined, from)
    };
    // After the join: `x.py in node_modules/` is as much output as `node_modules/x.py`.
    if build_output(&path, cx) {
        return Outcome::Reject("build output, which git does not track".to_string());
    }
    // A tracked or planned directory written without its slash is a directory.
    let path = match cx {
        Some(cx) if !path.ends_with('/') && cx.is_dir(&path) && !cx.known(&path) => format!("{path}/"),
        _ => path,
    };
    // A segment with a file extension before the last: `research.md/plan.md/` lists names.
    if inner_file(&path) {
        return Outcome::Reject("names separated by `/`, not a path".to_string());
    }
    Outcome::Lock(path, from)
}

/// Directories that tools write and repositories ignore (`target/` of Cargo,
/// `node_modules/`, a virtual environment, coverage reports): a path under
/// one that the repository does not track is output, not a file a task commits.
fn build_output(path: &str, cx: Option<&Context>) -> bool {
    const OUTPUT: &[&str] = &[
        "target",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".next",
        ".nuxt",
        "coverage",
        "htmlcov",
        ".pytest_cache",
        ".mypy_cache",
        ".gradle",
    ];
    let Some((first, _)) = path.split_once('/') else { return false };
    // Tracked, not only planned: a plan's tree often shows `target/` as what the build makes.
    OUTPUT.contains(&first) && cx.is_some_and(|cx| !cx.is_tracked(&path[..=first.len()]))
}

/// Whether a directory segment of `path` (not its last) looks like a file name.
fn inner_file(path: &str) -> bool {
    path.trim_end_matches('/').rsplit_once('/').is_some_and(|(dirs, _)| {
        // No dot in the directories (the usual case): no file name among them.
        dirs.contains('.')
            && dirs.split('/').any(|seg| {
                seg.rsplit_once('.').is_some_and(|(stem, ext)| {
                    !stem.is_empty()
                        && matches!(
                            ext,
                            "md" | "mdx"
                                | "py"
                                | "ts"
                                | "tsx"
                                | "go"
                                | "rs"
                                | "cs"
                                | "json"
                                | "yaml"
                                | "yml"
                                | "toml"
                        )
                })
            })
    })
}

/// Joins `dir` (ending with `/`) and `name` (without `format!`: it runs for
/// most candidates). A name that starts with the directory's own last
/// segment is already inside it: `data/` and `data/` is `data/`, `src/Api/`
/// and `Api/x.cs` is `src/Api/x.cs`, never a directory compounded onto itself.
fn join(dir: &str, name: &str) -> String {
    let parent = dir.strip_suffix('/').unwrap_or(dir);
    let last_at = parent.rfind('/').map_or(0, |at| at + 1);
    let last = &parent[last_at..];
    let overlaps = !last.is_empty()
        && name.len() >= last.len()
        && name.as_bytes()[..last.len()] == *last.as_bytes()
        && matches!(name.as_bytes().get(last.len()), None | Some(b'/'));
    let dir = if overlaps { &dir[..last_at] } else { dir };
    let mut out = String::with_capacity(dir.len() + name.len());
    out.push_str(dir);
    out.push_str(name);
    out
}

/// A name without `/` (`Program.cs`, `Models/`): the directory the task,
/// its list, its heading or plan.md gives it, or the only tracked file of
/// that name; ambiguous (an error naming the candidates) when nothing decides.
fn resolve_bare(
    name: &str,
    next_dir: Option<&str>,
    list_dir: Option<&str>,
    scope: &Scope,
) -> Result<(String, From), String> {
    if let Some(dir) = next_dir {
        return Ok((join(dir, name), From::TaskDir));
    }
    if let Some((dir, _)) = scope.conventions.filter(|(_, names)| names.iter().any(|n| n == name)) {
        if scope.task_dirs.is_empty() {
            return Ok((join(dir, name), From::Plan));
        }
    }
    if scope.task_dirs.is_empty() && at_root(scope.description) {
        return Ok((name.to_string(), From::Written));
    }
    let cx = scope.cx;
    // The plan's base has it.
    if let (Some(base), Some(cx)) = (scope.base, cx) {
        let joined = join(base, name);
        if cx.known(&joined) || cx.is_dir(&joined) {
            return Ok((joined, From::Heading));
        }
    }
    // Tool settings (`.editorconfig`, `.prettierrc`) sit at the root unless a directory is named.
    let root_file = ROOT_FILES.contains(&name.to_ascii_lowercase().as_str())
        || name.eq_ignore_ascii_case(".editorconfig")
        || dotfile(name);
    // In a list, a name joins the previous item's directory, unless it is
    // a root file or already a path at the root (`src/a.go, README.md`).
    if let Some(dir) = list_dir.filter(|_| !root_file && !cx.is_some_and(|cx| cx.known(name))) {
        return Ok((join(dir, name), From::TaskDir));
    }
    // Task and heading directories where the name is already tracked or planned.
    if let Some(cx) = cx {
        // The task before lends its directory to what continues its work, not to a root file.
        let heading_dirs = if scope.lent && root_file { &[][..] } else { scope.heading_dirs };
        for (dirs, from) in [(scope.task_dirs, From::TaskDir), (heading_dirs, From::Heading)] {
            let hits: Vec<String> = dirs.iter().map(|d| join(d, name)).filter(|p| cx.known(p)).collect();
            if let [one] = hits.as_slice() {
                return Ok((one.clone(), from));
            }
        }
        if let Some(path) = project_word(scope.description, name, cx) {
            return Ok((path, From::TaskDir));
        }
        if cx.known(name) {
            return Ok((name.to_string(), From::Written));
        }
    }
    let tracked: Vec<String> = match cx {
        Some(cx) if name.ends_with('/') => {
            let mut dirs: Vec<String> =
                cx.dirs_by_name().get(name.trim_end_matches('/')).cloned().unwrap_or_default();
            dirs.sort();
            dirs
        }
        Some(cx) => cx.by_name().get(name).cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    let single_task_dir = match scope.task_dirs {
        [one] if !root_file => Some(one),
        _ => None,
    };
    if scope.creates {
        if let Some(dir) = single_task_dir {
            return Ok((join(dir, name), From::TaskDir));
        }
    }
    if let [one] = tracked.as_slice() {
        // The plan's tree places the file the feature writes
        // (`phase-03/backend/requirements.txt`), though an older one elsewhere is tracked.
        if let Some(planned) = cx.and_then(|cx| cx.only_planned_written(name)).filter(|p| p != one) {
            return Ok((planned, From::Plan));
        }
        return Ok((one.clone(), From::Tree));
    }
    // Tracked in several places and none of them named: no guess. A name
    // merely mentioned beside another directory (`... on SKILL.md content`
    // in a task about `scripts/x.ts`) is not placed there either.
    // Files of that name earlier tasks write, looked up only for a name no tracked file has.
    let made: Vec<&str> = match scope.earlier {
        Some((earlier, done)) if tracked.is_empty() && !root_file => earlier.paths(name, done),
        _ => Vec::new(),
    };
    if tracked.is_empty() {
        // The one file of that name an earlier task writes: this task continues it.
        if let ([one], false) = (made.as_slice(), root_file) {
            return Ok((one.to_string(), From::Heading));
        }
        // Several made by earlier tasks: none of them, nor a guess beside them.
        let planned: Vec<&String> =
            cx.and_then(|cx| cx.plan_by_name.get(name.trim_end_matches('/'))).map_or(Vec::new(), |list| {
                list.iter().filter(|p| p.ends_with('/') == name.ends_with('/')).collect()
            });
        // The directory the task before lends is weaker than the plan's one file of that name.
        let lent_over_plan = scope.lent && planned.len() == 1 && !root_file;
        if let ([one], false, true, false) = (scope.heading_dirs, root_file, made.is_empty(), lent_over_plan)
        {
            return Ok((join(one, name), From::Heading));
        }
        // A root file (`Cargo.toml`) the plan draws only in a subproject stays at the root.
        if let ([one], false) = (planned.as_slice(), root_file) {
            return Ok(((*one).clone(), From::Plan));
        }
        if root_file {
            return Ok((name.to_string(), From::Written));
        }
    }
    let tracked_somewhere = !tracked.is_empty();
    let mut candidates: Vec<String> = tracked;
    if !root_file && !tracked_somewhere {
        candidates.extend(made.iter().map(|p| p.to_string()));
        candidates.extend(scope.task_dirs.iter().map(|d| join(d, name)));
        candidates.extend(scope.heading_dirs.iter().map(|d| join(d, name)));
    }
    candidates.sort();
    candidates.dedup();
    if candidates.is_empty() {
        // A new file goes where the plan's paths are relative to.
        if let Some(base) = scope.base.filter(|_| !root_file) {
            return Ok((join(base, name), From::Heading));
        }
        return Ok((name.to_string(), From::Written));
    }
    candidates.truncate(5);
    Err(format!(
        "ambiguous: could be {} (write the full path, or add a `Files:` line)",
        candidates.join(", ")
    ))
}

/// `in backend requirements.txt`: the word right before a bare name is a
/// top-level directory that has (or is planned to have) a file of that name.
/// Such a name is that directory's file, even when the root has one too.
fn project_word(description: &str, name: &str, cx: &Context) -> Option<String> {
    let mut found = None;
    for (at, _) in description.match_indices(name) {
        let before = description[..at].trim_end_matches(['`', '*', '"', '\'']);
        // A name inside a longer word or path (`src/requirements.txt`) is not this one.
        if !before.ends_with(char::is_whitespace) {
            continue;
        }
        let word = before.trim_end().rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
        let word = word.trim_matches(['`', '*', '"', '\'']).trim_end_matches('/');
        if word.is_empty() || word.contains('/') || !cx.is_dir(word) {
            continue;
        }
        let path = join(&format!("{word}/"), name);
        if !cx.known(&path) || found.as_ref().is_some_and(|f| f != &path) {
            return None;
        }
        found = Some(path);
    }
    found
}

/// A relative path with a `/`: as written when the repository or plan has
/// its first directory; else joined to a directory the task or heading
/// names that has it; else the only tracked or planned path ending so.
fn resolve_relative(path: &str, next_dir: Option<&str>, scope: &Scope) -> (String, From) {
    let Some(cx) = scope.cx else { return (path.to_string(), From::Written) };
    let first = path.split('/').next().unwrap_or("");
    // Relative to the plan's base, unless the repository has its first directory at the root.
    if let Some(base) = scope.base {
        if !cx.is_tracked(&path[..(first.len() + 1).min(path.len())]) {
            return (join(base, path), From::Heading);
        }
    }
    if cx.known(path) || cx.is_dir(path) {
        return (path.to_string(), From::Written);
    }
    for (dirs, from) in [(scope.task_dirs, From::TaskDir), (scope.heading_dirs, From::Heading)] {
        for dir in dirs {
            // Already inside it. (A directory that ends where the path
            // begins, `src/Api/` and `Api/x.cs`, is joined without repeating
            // `Api/`: see `join`.)
            if path.starts_with(dir.as_ref()) {
                continue;
            }
            let joined = join(dir, path);
            let parent_known =
                joined.trim_end_matches('/').rfind('/').is_some_and(|at| cx.is_known_dir(&joined[..=at]));
            if cx.known(&joined) || (parent_known && !cx.top.contains(first)) {
                return (joined, from);
            }
        }
    }
    if cx.top.contains(first) {
        return (path.to_string(), From::Written);
    }
    // `pkg/scaffold/doc.go` where earlier tasks write `implementations/go/pkg/scaffold/`.
    if let (Some((earlier, _)), Some(dir)) = (scope.earlier, parent(path)) {
        if let [one] = earlier.dirs_ending_with(dir).as_slice() {
            return (format!("{one}{}", file_name(path)), From::Heading);
        }
    }
    if let Some(dir) = next_dir {
        return (join(dir, path), From::TaskDir);
    }
    // `services/storage.py` is the plan's `todo_console/services/storage.py`,
    // though `services/` could be a new top-level directory.
    if let Some(one) = cx.only_ending_with(path, false) {
        return (one, From::Tree);
    }
    if let Some(one) = cx.only_ending_with(path, true) {
        return (one, From::Plan);
    }
    (path.to_string(), From::Written)
}
/// [`locks::normalize`], without its allocations for a path that is
/// already normal (the common case).
pub(super) fn normalize(path: &str) -> Result<Cow<'_, str>, String> {
    let b = path.as_bytes();
    let unusual = b.is_empty()
        || matches!(b[0], b'/' | b'~')
        || b[0].is_ascii_whitespace()
        || b[b.len() - 1].is_ascii_whitespace()
        || path.trim().len() != path.len()
        || has_drive_letter(b)
        || odd_segment(b)
        || locks::in_git_dir(path);
    let normal = !unusual;
    if normal {
        Ok(Cow::Borrowed(path))
    } else {
        locks::normalize(path).map(Cow::Owned)
    }
}

/// Whether a path has a `\\`, an empty segment (`a//b`) or a `.`/`..` segment.
fn odd_segment(b: &[u8]) -> bool {
    let mut start = 0;
    for i in 0..=b.len() {
        let end = i == b.len();
        if !end && b[i] == b'\\' {
            return true;
        }
        if end || b[i] == b'/' {
            let segment = &b[start..i];
            // An empty segment anywhere but at the very end (`dir/` is fine).
            if (segment.is_empty() && !end && i > 0) || segment == b"." || segment == b".." {
                return true;
            }
            start = i + 1;
        }
    }
    false
}

/// The directory of a file path, with its `/` (`a/b/` for `a/b/c.go`); none at the root.
fn parent(path: &str) -> Option<&str> {
    if path.ends_with('/') {
        return None;
    }
    path.rfind('/').map(|at| &path[..=at])
}

fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.as_bytes().iter().rposition(|&b| b == b'/') {
        Some(at) => &trimmed[at + 1..],
        None => trimmed,
    }
}

/// Finds path candidates in a piece of task text, in order.
fn scan_paths<'a>(text: &'a str, out: &mut Vec<Candidate<'a>>) {
    let mut previous = "";
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start..];
        let ticks = after.bytes().take_while(|&b| b == b'`').count();
        let body = &after[ticks..];
        let end = if ticks == 1 { body.find('`') } else { body.find(&after[..ticks]) };
        let Some(end) = end else { break };
        scan_bare(&rest[..start], &mut previous, out);
        let span = body[..end].trim();
        if has_whitespace(span) {
            let mut words = span.split_whitespace();
            let route = words.next().filter(|w| HTTP_METHODS.contains(w)).and(words.next());
            match route {
                Some(route) if route.starts_with('/') && route_file(route) => {
                    out.push(Candidate::Path(route))
                }
                Some(route) if route.starts_with('/') => out.push(Candidate::Unsure(route, ROUTE)),
                _ => {
                    spaced_span(span, false, out);
                }
            }
        } else if let Some(path) = backtick_path(span) {
            out.push(Candidate::Path(path));
        } else if span.starts_with('/') && is_route(span) {
            out.push(Candidate::Unsure(span, ROUTE));
        } else if span.contains('<') && span.contains('>') && after_root_placeholder(span).is_some() {
            out.push(Candidate::Path(span));
        } else if span.contains('<') && span.contains('>') && span.contains(['/', '.']) {
            out.push(Candidate::Unsure(span, PLACEHOLDER));
        } else if span.contains('/') && plausible(span) && !span.contains("://") {
            out.push(Candidate::Maybe(span));
        }
        previous = "";
        rest = &body[end + ticks..];
    }
    scan_bare(rest, &mut previous, out);
}

/// Reads a backtick or quoted span with spaces in it (see the module comment): one
/// path, several, a command reported as unsure, or nothing. Says whether
/// it took the span.
fn spaced_span<'a>(span: &'a str, quoted: bool, out: &mut Vec<Candidate<'a>>) -> bool {
    if has_bytes(span.as_bytes(), b", ") && !span.contains('{') {
        // A list: each item on its own.
        let before = out.len();
        for item in span.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            if item.contains(char::is_whitespace) {
                spaced_span(item, quoted, out);
            } else if let Some(path) = backtick_path(item) {
                out.push(Candidate::Path(path));
            }
        }
        return out.len() > before;
    }
    let span = strip_location(span);
    if !plausible(span) || span.bytes().any(|b| matches!(b, b';' | b'&' | b'=' | b'`' | b'$')) {
        return false;
    }
    let mut words = span.split_whitespace();
    let Some(first) = words.next() else { return false };
    if HTTP_METHODS.contains(&first) || RUNNERS.binary_search(&first).is_ok() {
        return false;
    }
    let flag = |w: &str| {
        w.strip_prefix('-').is_some_and(|rest| rest.starts_with(|c: char| c == '-' || c.is_alphanumeric()))
    };
    if words.clone().any(flag) {
        return false;
    }
    let shaped = spaced_shape(span);
    let last = words.clone().next_back().unwrap_or(first);
    if !shaped && !known_file(strip_location(last)) {
        return false;
    }
    if complete_path(first) && words.clone().all(complete_path) {
        out.extend(span.split_whitespace().map(|word| Candidate::Path(strip_location(word))));
        return true;
    }
    if !shaped {
        return false;
    }
    let program = first.starts_with(|c: char| c.is_ascii_lowercase())
        && first
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    let file_like = |w: &str| w.contains(['/', '\\']) || has_extension(w);
    if !span.contains(['/', '\\']) {
        out.push(Candidate::Unsure(span, "a file name with spaces and no directory: too unsure to lock"));
        return true;
    }
    let reason = if complete_path(first) || (program && words.any(file_like)) {
        "looks like a command, not a path"
    } else if !first.contains(['/', '\\'])
        || span.as_bytes().windows(2).any(|w| matches!(w, [b' ', b'/' | b'\\'] | [b'/' | b'\\', b' ']))
    {
        // The spaces are not inside a directory or file name: `Saved to /tmp/a b.txt`.
        "looks like prose, not a path"
    } else {
        out.push(Candidate::Path(span));
        return true;
    };
    // Quoted commands and prose are read word by word, like the text around them.
    if quoted {
        return false;
    }
    out.push(Candidate::Unsure(span, reason));
    true
}

/// A whole span with spaces that reads as one path: a directory part and a
/// file with an extension (`docs/user guide.md`), a directory (`docs/my
/// notes/`), or a name with a known extension (`user guide.md`).
fn spaced_shape(span: &str) -> bool {
    let unix: Cow<str> =
        if span.contains('\\') { Cow::Owned(span.replace('\\', "/")) } else { Cow::Borrowed(span) };
    if !unix.contains('/') {
        return known_file(span);
    }
    if unix.starts_with("//") || (unix.starts_with('/') && !known_absolute(&unix)) {
        return false;
    }
    unix.ends_with('/') || has_extension(file_name(&unix))
}

/// A word that is a whole path by itself: a file with an extension, a
/// directory ending in `/`, a known file name (`Dockerfile`).
fn complete_path(word: &str) -> bool {
    let word = strip_location(word);
    if !word.contains(['/', '\\']) {
        // `path_shape` takes such a word only when it is a known file.
        return path_shape(word).is_some();
    }
    (word.ends_with(['/', '\\']) || has_extension(file_name(word))) && path_shape(word).is_some()
}

/// Finds paths outside backticks: a quoted span with spaces is read whole,
/// like a backtick span, the rest word by word. `previous` is the word
/// before (an HTTP method makes a route).
fn scan_bare<'a>(text: &'a str, previous: &mut &'a str, out: &mut Vec<Candidate<'a>>) {
    let mut rest = text;
    'text: loop {
        for word in rest.split_whitespace() {
            let opening = match word.as_bytes().first() {
                Some(b'(' | b'[') => word.trim_start_matches(['(', '[']),
                _ => word,
            };
            if matches!(opening.as_bytes().first(), Some(b'"' | b'\'')) {
                // Where the quote is in `rest`: both are slices of `text`.
                let open = opening.as_ptr() as usize - rest.as_ptr() as usize;
                if let Some(close) = closing_quote(rest, open) {
                    let inner = &rest[open + 1..close];
                    if inner.contains(char::is_whitespace) {
                        if spaced_span(inner, true, out) {
                            *previous = "";
                        } else {
                            scan_bare(inner, previous, out);
                        }
                        rest = &rest[close + 1..];
                        continue 'text;
                    }
                }
            }
            if word.is_ascii() {
                scan_word(word, previous, out);
            } else {
                for piece in wide_pieces(word) {
                    scan_word(piece, previous, out);
                }
            }
        }
        break;
    }
}

/// Whether `c` is a CJK character: a space-free script, where a path runs
/// into the words around it (`在package.json中添加`).
fn wide(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xFF00..=0xFF65)
}

/// Full-width punctuation (`（`, `，`, `：`), which ends a path as a space does.
fn wide_punctuation(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65)
}

/// The pieces of a word written in a space-free script: split at full-width
/// punctuation and where CJK characters meet ASCII letters or digits
/// (`在package.json中添加` → `在`, `package.json`, `中添加`; `说明.md` stays whole).
fn wide_pieces(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last: Option<char> = None;
    for (at, c) in word.char_indices() {
        if wide_punctuation(c) {
            if at > start {
                out.push(&word[start..at]);
            }
            start = at + c.len_utf8();
            last = None;
            continue;
        }
        let meets = last.is_some_and(|p| {
            (wide(p) && c.is_ascii_alphanumeric()) || (p.is_ascii_alphanumeric() && wide(c))
        });
        if meets && at > start {
            out.push(&word[start..at]);
            start = at;
        }
        last = Some(c);
    }
    if start < word.len() {
        out.push(&word[start..]);
    }
    out
}

/// The quote that closes the one at `open`: the same quote at the end of a
/// word, so apostrophes (`the user's file`) are not quotes.
fn closing_quote(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = b[open];
    if !matches!(b.get(open + 1), Some(c) if !c.is_ascii_whitespace() && *c != quote) {
        return None;
    }
    let mut at = open + 1;
    while let Some(close) = b[at..].iter().position(|&c| c == quote).map(|i| at + i) {
        at = close + 1;
        let ends_word = !b[close - 1].is_ascii_whitespace()
            && !matches!(b.get(close + 1), Some(c) if c.is_ascii_alphanumeric() || *c >= 0x80);
        if ends_word {
            return Some(close);
        }
    }
    None
}

/// A bare word as a path candidate; `previous` is the word before.
fn scan_word<'a>(word: &'a str, previous: &mut &'a str, out: &mut Vec<Candidate<'a>>) {
    let before = std::mem::replace(previous, word);
    // Cheap filter: every path holds `/`, `\\` or `.`, but for a few
    // well-known file names (`Makefile`), written capitalised as files are.
    if !word.bytes().any(|b| matches!(b, b'/' | b'\\' | b'.')) {
        let initial = word.trim_start_matches(['(', '*', '"', '\'']).bytes().next();
        if word.len() >= 6
            && matches!(
                initial,
                Some(b'A' | b'B' | b'C' | b'D' | b'G' | b'J' | b'L' | b'M' | b'N' | b'P' | b'R' | b'V')
            )
        {
            let name = trim_word(word);
            if PLAIN_FILES.contains(&name) {
                out.push(Candidate::Path(name));
            }
        }
        return;
    }
    let method = before.trim_matches(|c: char| !c.is_ascii_alphabetic());
    if HTTP_METHODS.contains(&method) {
        let route = trim_word(word);
        if route.starts_with('/') && plausible(route) {
            out.push(if route_file(route) {
                Candidate::Path(route)
            } else {
                Candidate::Unsure(route, ROUTE)
            });
        }
        return;
    }
    if let Some(path) = bare_path(link_target(word)) {
        out.push(Candidate::Path(path));
    }
}

/// A word, or the part of a markdown link `[label](target)` to read as a path.
fn link_target(word: &str) -> &str {
    let Some(at) = word.as_bytes().windows(2).position(|w| w == b"](") else { return word };
    let label = word[..at].trim_start_matches(|c: char| c != '[').trim_start_matches('[');
    let target = &word[at + 2..];
    let target = target.find(')').map_or(target, |end| &target[..end]);
    // A link to one of the spec folder's documents (`[plan.md](./plan.md)`)
    // names it as plainly as the bare name, which is no repository path.
    if bare_path(label).is_some() || SPEC_DOCS.iter().any(|d| d.eq_ignore_ascii_case(label)) {
        label
    } else {
        target
    }
}

/// A backtick span as a path, if it is one.
fn backtick_path(span: &str) -> Option<&str> {
    if span.is_empty() || span.contains(char::is_whitespace) {
        return None;
    }
    path_shape(strip_location(span))
}

/// A bare word as a path, if it is one.
fn bare_path(word: &str) -> Option<&str> {
    let path = strip_location(trim_word(word));
    if path.bytes().any(|b| matches!(b, b'=' | b'\'')) && !is_windows_absolute(path) {
        return None;
    }
    if path.contains(['(', ')']) && !is_windows_absolute(path) && !route_group(path) {
        return None;
    }
    path_shape(path)
}

/// Parentheses inside a path (`app/(auth)/login/page.tsx`): balanced, and
/// the path has a `/` and ends with an extension or a `/` (a call like
/// `load(src/a.py)` ends with `)`).
fn route_group(path: &str) -> bool {
    let mut depth = 0usize;
    for b in path.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0 && path.contains('/') && (path.ends_with('/') || has_extension(file_name(path)))
}

/// The rules a candidate must meet to be a path (see the module comment).
fn path_shape(path: &str) -> Option<&str> {
    if !plausible(path) {
        return None;
    }
    if is_windows_absolute(path) {
        return Some(path);
    }
    if !path.contains('/') && !path.contains('\\') {
        return known_file(path).then_some(path);
    }
    if path.starts_with("//") || path.contains('=') {
        return None;
    }
    if let Some(rest) = path.strip_prefix('/') {
        // A leading `/` is the repository root, unless the path is clearly
        // outside it (kept, to be reported) or an HTTP route (not a path).
        if known_absolute(path) {
            return Some(path);
        }
        return (!is_route(path) && path_shape(rest).is_some()).then_some(path);
    }
    let unix: Cow<str> =
        if path.contains('\\') { Cow::Owned(path.replace('\\', "/")) } else { Cow::Borrowed(path) };
    let mut relative: &str = &unix;
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    let first = relative.split('/').next().unwrap_or("");
    let real = unix.ends_with('/')
        || has_extension(file_name(&unix))
        || known_file(file_name(&unix))
        || unix.starts_with("./")
        || unix.starts_with("../")
        || TOP_DIRS.contains(&first);
    real.then_some(path)
}

/// Strips punctuation around a bare word, keeping balanced brackets and
/// trailing `*`s that are not the end of a bold/italic pair.
fn trim_word(word: &str) -> &str {
    let opened = word.trim_start_matches(['(', '[', '{', '"', '\'', '*', '<', '«', '“', '‘']);
    // Leading underscores are emphasis only when the word closes with them
    // too (`_src/a.py_`); otherwise they are the name's own (`__init__.py`).
    let closes_with_underscore = opened
        .trim_end_matches([',', ';', ':', '!', '?', '"', '\'', '>', '»', '”', '’', '…', '.', ')', ']', '*'])
        .ends_with('_');
    let stars = word.len() - word.trim_start_matches(['*', '_']).len();
    let mut w = if closes_with_underscore {
        word.trim_start_matches(['(', '[', '{', '"', '\'', '*', '_', '<', '«', '“', '‘'])
    } else {
        opened
    };
    let mut stars_left = stars;
    loop {
        let before = w;
        w = w.trim_end_matches([',', ';', ':', '!', '?', '"', '\'', '>', '»', '”', '’', '…']);
        if stars_left > 0 && w.ends_with(['*', '_']) {
            w = &w[..w.len() - 1];
            stars_left -= 1;
        }
        if w.ends_with('.') && !w.ends_with("..") && !w.ends_with("/.") {
            w = &w[..w.len() - 1];
        }
        for (open, close) in [('(', ')'), ('[', ']'), ('{', '}')] {
            if w.ends_with(close) && w.matches(open).count() < w.matches(close).count() {
                w = &w[..w.len() - 1];
            }
        }
        if w == before {
            return w;
        }
    }
}

/// Drops a `:42`, `:42:7`, `#L42`, `#anchor` location suffix, and the `::name` of a
/// test or symbol in a file (`tests/test_a.py::test_b`).
fn strip_location(path: &str) -> &str {
    let Some(colon) = path.find(':') else { return strip_line_anchor(path) };
    let test_id = path.as_bytes()[colon..].windows(2).position(|w| w == b"::").map(|at| colon + at);
    let path = match test_id {
        Some(at) if has_extension(file_name(&path[..at])) => &path[..at],
        _ => path,
    };
    let mut p = strip_line_anchor(path);
    while let Some(at) = p.rfind(':') {
        let tail = &p[at + 1..];
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == '-') && at > 1 {
            p = &p[..at];
        } else {
            break;
        }
    }
    p
}

/// Drops a `#L42` suffix, and any `#anchor` after a file name with an
/// extension (`docs/guide.md#install`).
fn strip_line_anchor(path: &str) -> &str {
    match path.find('#') {
        Some(at)
            if path[at + 1..].starts_with('L')
                && path[at + 2..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            &path[..at]
        }
        Some(at) if has_extension(file_name(&path[..at])) => &path[..at],
        _ => path,
    }
}

/// `C:` at the start, as the lock normaliser sees a drive.
fn has_drive_letter(b: &[u8]) -> bool {
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Whether `haystack` holds `needle` (short needles: cheaper than `str::contains`).
fn has_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Basic shape every path has: a letter, no URL, no option flag or variable.
fn plausible(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.is_empty() || bytes.len() > 300 || matches!(bytes[0], b'-' | b'$' | b'@' | b'%' | b'#' | b'+') {
        return false;
    }
    // One pass: a letter somewhere, no `<`, `>`, `"`, `|`, no `://`.
    let mut letter = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' | b'>' | b'"' | b'|' => return false,
            b':' if bytes.get(i + 1..i + 3) == Some(b"//") => return false,
            _ => letter |= b.is_ascii_alphabetic() || b >= 0x80,
        }
    }
    letter && !path.starts_with("www.")
}

fn is_windows_absolute(path: &str) -> bool {
    has_drive(path) || path.starts_with("\\\\")
}

fn known_absolute(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ABSOLUTE_ROOTS.contains(&first) || path.starts_with("~/")
}

fn has_extension(name: &str) -> bool {
    let b = name.as_bytes();
    let Some(dot) = b.iter().rposition(|&c| c == b'.') else { return false };
    let ext = &b[dot + 1..];
    dot > 0
        && !ext.is_empty()
        && ext.len() <= 12
        && ext.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && ext.iter().any(u8::is_ascii_lowercase)
}

/// Whether the last name of `path` is a product's (`TypeScript/Node.js`).
pub(super) fn product(path: &str) -> bool {
    let name = file_name(path);
    NOT_FILES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `text` has any whitespace (ASCII first: the usual case needs no decoding).
fn has_whitespace(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_whitespace()) || (!text.is_ascii() && text.contains(char::is_whitespace))
}

/// A tool's dot-file without an extension: a run-commands file
/// (`.prettierrc`, `.npmrc`), an ignore list (`.eslintignore`), or one of
/// the few others tools read (`.gitattributes`, `.nvmrc`). A word like
/// `.ts` or `.NET` is an extension or a name, not a file.
fn dotfile(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else { return false };
    rest.len() >= 4
        && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
        && (rest.ends_with("rc")
            || rest.ends_with("ignore")
            || ["gitattributes", "gitmodules", "mailmap", "node-version", "python-version", "tool-versions"]
                .contains(&rest))
}

/// A single name with a known file extension (`main.py`, `Cargo.toml`, `.env`).
fn known_file(name: &str) -> bool {
    if name.contains(['(', ')', '=', '<', '>', '|', '"', '\'', ',', '[', ']', '{', '}', '*', '?']) {
        return false;
    }
    let named = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    if named(NOT_FILES) || named(SPEC_DOCS) {
        return false;
    }
    if named(&["dockerfile", "makefile", ".gitignore", ".env", ".dockerignore", ".editorconfig"]) {
        return true;
    }
    if dotfile(name) {
        return true;
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && EXTENSIONS.contains(&ext)
                && stem.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
                && !stem.chars().all(|c| c.is_ascii_digit() || c == '.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(tracked: &[&str], plan: &str) -> Context {
        Context::new(tracked.iter().map(|s| s.to_string()), Some(plan))
    }

    #[test]
    fn a_plan_tree_keeps_what_its_comments_say_is_only_read() {
        let plan = "```text\nsrc/\n├── tool/\n│   └── main.rs      # the feature's code\n└── vendored/        # read only: upstream copy\n    └── lib.rs\ndocs/\n└── tool.md          (unchanged)\n```\n";
        let cx = context(&["README.md"], plan);
        assert_eq!(
            cx.planned(),
            [
                "docs/",
                "docs/tool.md",
                "src/",
                "src/tool/",
                "src/tool/main.rs",
                "src/vendored/",
                "src/vendored/lib.rs"
            ]
        );
        // The directory whose only entry is read is read as well.
        assert_eq!(cx.plan_written(), ["src/", "src/tool/", "src/tool/main.rs"]);
    }

    #[test]
    fn box_drawing_mangled_into_control_characters_still_nests() {
        // `└──` and `├──` turned into single control characters by an encoder.
        let plan = "```\ntool/\n\u{14} bin/\n    \u{1c} run.sh\n    \u{14} stop.sh\n```\n";
        let cx = context(&["README.md", "tool/old.txt"], plan);
        assert_eq!(cx.planned(), ["tool/", "tool/bin/", "tool/bin/run.sh", "tool/bin/stop.sh"]);
    }

    #[test]
    fn the_project_named_as_the_lone_root_is_dropped_in_a_scaffolded_repository() {
        let plan = "```text\nwidget/             # repository root\n├── cmd/\n│   └── main.go\n├── go.mod\n└── README.md\n```\n";
        // `specify init` leaves only dot-directories and documents: no project yet.
        let scaffolded =
            context(&[".specify/memory/constitution.md", ".claude/commands/plan.md", "README.md"], plan);
        assert_eq!(scaffolded.planned(), ["README.md", "cmd/", "cmd/main.go", "go.mod"]);
        // In a repository with code and none of the tree's entries, an
        // unknown root directory is a new directory.
        let with_code = context(&["lib/old.go"], plan);
        assert_eq!(
            with_code.planned(),
            ["widget/", "widget/README.md", "widget/cmd/", "widget/cmd/main.go", "widget/go.mod"]
        );
    }

    #[test]
    fn names_are_indexed_once_and_only_when_asked() {
        let cx = context(&["a/x.go", "b/x.go", "c/d/y.go", "z.go"], "");
        assert!(cx.by_name.get().is_none(), "the name index is built on first use");
        assert_eq!(cx.only_ending_with("d/y.go", false).as_deref(), Some("c/d/y.go"));
        assert_eq!(cx.only_ending_with("x.go", false), None, "two files end so");
        assert!(cx.by_name.get().is_some());
        assert_eq!(cx.only_ending_with("d/", false).as_deref(), Some("c/d/"));
        assert!(cx.has_tree() && cx.is_dir("c/d") && cx.is_tracked("c/") && cx.is_tracked("z.go"));
    }

    #[test]
    fn the_fast_hash_agrees_with_equality() {
        let build = Fx::default();
        let hash = |s: &str| build.hash_one(s);
        assert_eq!(hash("src/a.rs"), hash("src/a.rs"));
        assert_ne!(hash("src/a.rs"), hash("src/b.rs"));
        assert_ne!(hash("abcdefgh"), hash("abcdefgh0"), "a tail shorter than a word still counts");
    }
}
