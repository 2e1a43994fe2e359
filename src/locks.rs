//! Lock patterns: what they are, how they are normalised, and when two of
//! them conflict.
//!
//! A pattern is a file (`src/a.py`), a directory (`src/data/`, everything
//! below it) or a glob (`src/**/*.rs`). A pattern is a glob only when it
//! holds `*` or `?`; then `[...]` and `{...}` are glob syntax too. Without
//! them brackets are literal, so `app/[id]/page.tsx` is a file.
//!
//! Conflict is conservative ("when unsure, it is a conflict"):
//! - a file conflicts with a pattern that matches it; a directory pattern
//!   matches its own path too (`vendor/lib/` matches `vendor/lib`): a file,
//!   a symbolic link or a submodule put there replaces the directory;
//! - two directories conflict when one contains the other;
//! - a glob and a directory or another glob conflict when their literal
//!   directory prefixes nest, unless two globs end in literal suffixes that
//!   no single path could end with both (`*.rs` and `*.py`).
//!
//! Since a path matching a glob must start with the glob's literal prefix,
//! prefixes that do not nest can never match a common path; the rule never
//! misses a real overlap.
//!
//! One reading of what people write, wherever they write it (a path in
//! tasks.md, `start --path`, `lock --add`/`--remove`):
//! - `{a,b}` alternatives in a pattern without `*`/`?` are expanded
//!   ([`expand_braces`]: `src/{a,b}.py` → `src/a.py`, `src/b.py`), since
//!   such a pattern is not a glob;
//! - an absolute path inside the repository is made relative to its root
//!   ([`relative_to_root`]): the main worktree's for tasks.md, on the
//!   command line also the current worktree's; any other absolute path is
//!   refused;
//! - [`normalize`] then cleans it and refuses what leaves the repository or
//!   lies in `.git/` (git's own files are never staged, so a lock there
//!   guards nothing).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// Characters that make a pattern a glob.
const GLOB_TRIGGERS: [char; 2] = ['*', '?'];
/// Characters that end the literal part of a glob.
const GLOB_META: [char; 6] = ['*', '?', '[', ']', '{', '}'];

/// Normalises a repository-relative path or pattern: `\` becomes `/`, `.`
/// and empty segments go, `..` is applied, a trailing `/` (directory) is
/// kept. Returns why it cannot be locked: absolute, leaving the repository,
/// or inside `.git/`. Normalising a normalised pattern changes nothing.
pub fn normalize(pattern: &str) -> Result<String, String> {
    // One pass can uncover what only the next one sees: `./ a` leaves ` a`,
    // whose space the next pass trims, and `./~x` leaves `~x`, which the next
    // pass refuses. So repeat until the text stays put; after the first pass
    // a pass can only trim spaces, so this ends.
    let mut normal = normalize_once(pattern)?;
    loop {
        let next = normalize_once(&normal)?;
        if next == normal {
            return Ok(normal);
        }
        normal = next;
    }
}

fn normalize_once(pattern: &str) -> Result<String, String> {
    let text = pattern.trim().replace('\\', "/");
    if text.is_empty() {
        return Err("empty path".to_string());
    }
    if text.starts_with('/') || text.starts_with('~') || has_drive_letter(&text) {
        return Err("absolute path: lock patterns are relative to the repository root".to_string());
    }
    // `src/`, `src/.` and `src/x/..` all name a directory.
    let is_dir = matches!(text.rsplit('/').next(), Some("" | "." | ".."));
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("leaves the repository".to_string());
                }
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("names the repository root, which would lock everything".to_string());
    }
    if in_git_dir(parts[0]) {
        return Err(
            "inside .git: git's own files are never committed, so there is nothing to lock".to_string()
        );
    }
    let mut out = parts.join("/");
    if is_dir {
        out.push('/');
    }
    Ok(out)
}

/// Whether a path's first segment is `.git` (any case, as case-insensitive
/// file systems see it): [`normalize`]'s test, for a path already normal.
pub fn in_git_dir(path: &str) -> bool {
    path.split('/').next().is_some_and(|first| first.eq_ignore_ascii_case(".git"))
}

fn has_drive_letter(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// What a path or pattern written by a person stands for, not yet
/// normalised: its `{a,b}` alternatives expanded, an absolute path inside
/// one of `roots` made relative.
pub fn expand_written(written: &str, roots: &[String]) -> Vec<String> {
    expand_braces(written)
        .into_iter()
        .map(|candidate| {
            roots
                .iter()
                .find_map(|root| relative_to_root(&candidate, Some(root)))
                .unwrap_or_else(|| candidate.into_owned())
        })
        .collect()
}

/// Expands `{a,b}` alternatives of a path that is not a glob: `x/{a,b}/` →
/// `x/a/`, `x/b/`. At most 64 results; anything odd is kept as written.
pub fn expand_braces(path: &str) -> Vec<Cow<'_, str>> {
    if is_glob(path) || !path.contains('{') {
        return vec![Cow::Borrowed(path)];
    }
    let mut done = Vec::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        let open = p.find('{');
        let close = open.and_then(|o| p[o..].find('}').map(|c| o + c));
        match (open, close) {
            (Some(o), Some(c)) if p[o + 1..c].contains(',') && !p[o + 1..c].contains('{') => {
                for alt in p[o + 1..c].split(',') {
                    if done.len() + todo.len() >= 64 {
                        return vec![Cow::Borrowed(path)];
                    }
                    todo.push(format!("{}{}{}", &p[..o], alt.trim(), &p[c + 1..]));
                }
            }
            _ => done.push(Cow::Owned(p)),
        }
    }
    done.reverse();
    done
}

/// An absolute path inside `root` (as [`root_text`] gives it), made
/// relative to it; `None` for a relative path or one outside `root`.
pub fn relative_to_root(path: &str, root: Option<&str>) -> Option<String> {
    let root = root?;
    if !(path.starts_with(['/', '\\']) || has_drive(path)) {
        return None;
    }
    let path = path.replace('\\', "/");
    // Windows paths compare without case; ASCII only, so byte offsets stay valid.
    let matches = path.len() > root.len()
        && path.is_char_boundary(root.len())
        && if has_drive(&path) {
            path[..root.len()].eq_ignore_ascii_case(root)
        } else {
            path[..root.len()] == *root
        };
    if !matches {
        return None;
    }
    let rest = path[root.len()..].strip_prefix('/')?;
    (!rest.is_empty()).then(|| rest.to_string())
}

/// A repository root as [`relative_to_root`] compares it: `/` separators,
/// no trailing `/`.
pub fn root_text(root: Option<&Path>) -> Option<String> {
    let root = root?.to_str()?.replace('\\', "/");
    let root = root.trim_end_matches('/');
    (!root.is_empty()).then(|| root.to_string())
}

/// Whether `text` starts with a Windows drive and a separator (`C:\\`, `d:/`).
pub fn has_drive(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// Whether a normalised pattern is a glob.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(GLOB_TRIGGERS)
}

#[derive(Debug, Clone)]
enum Kind {
    File,
    /// The text ends with `/`.
    Dir,
    Glob(Box<GlobKind>),
}

#[derive(Debug, Clone)]
struct GlobKind {
    glob: Glob,
    /// Compiled on first use: most checks are settled by `literal` and `suffix` alone.
    matcher: OnceLock<GlobMatcher>,
    /// The literal directory every match lies in (see [`glob_prefix`]).
    prefix: String,
    /// What every match starts and ends with (see [`glob_ends`]).
    literal: String,
    suffix: String,
}

/// Why a path or glob cannot be a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// It does not name a place inside the repository.
    Outside { shown: String, reason: String },
    /// Its glob syntax is wrong.
    Glob { shown: String, reason: String },
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Outside { shown, reason } | PatternError::Glob { shown, reason } => {
                write!(f, "cannot lock '{shown}': {reason}")
            }
        }
    }
}

impl std::error::Error for PatternError {}

/// A compiled lock pattern; its text is kept for messages.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    kind: Kind,
}

impl Pattern {
    /// Normalises and compiles `text`; refuses patterns that leave the
    /// repository or do not compile, naming the pattern.
    pub fn new(text: &str) -> anyhow::Result<Pattern> {
        Pattern::named(text, text)
    }

    /// [`Pattern::new`] of `text`, naming `shown` (what was written) in refusals.
    fn named(text: &str, shown: &str) -> anyhow::Result<Pattern> {
        let normal =
            normalize(text).map_err(|reason| PatternError::Outside { shown: shown.to_string(), reason })?;
        Pattern::compile(normal)
            .map_err(|e| PatternError::Glob { shown: shown.to_string(), reason: e.to_string() }.into())
    }

    /// The patterns a path or pattern given on the command line stands for,
    /// read as the module documentation says: `{a,b}` expanded, an absolute
    /// path inside one of `roots` ([`root_text`]) made relative, each
    /// normalised and compiled.
    pub fn written(text: &str, roots: &[String]) -> anyhow::Result<Vec<Pattern>> {
        let candidates = expand_written(text, roots);
        // Refusals name what was written, or the one alternative at fault.
        let single = candidates.len() == 1;
        candidates.iter().map(|c| Pattern::named(c, if single { text } else { c })).collect()
    }

    /// Compiles an already normalised pattern (as stored in the state).
    pub fn compile(normal: String) -> Result<Pattern, globset::Error> {
        let kind = if is_glob(&normal) {
            // Parsed now, so that a bad glob is refused here; compiled only when matched.
            let glob = glob(&normal)?;
            let prefix = glob_prefix(&normal).to_string();
            let (literal, suffix) = glob_ends(&normal);
            let (literal, suffix) = (literal.to_string(), suffix.to_string());
            Kind::Glob(Box::new(GlobKind { glob, matcher: OnceLock::new(), prefix, literal, suffix }))
        } else if normal.ends_with('/') {
            Kind::Dir
        } else {
            Kind::File
        };
        Ok(Pattern { text: normal, kind })
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the repository-relative file `path` falls under this pattern.
    pub fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::File => path == self.text,
            // The directory itself too: a file, a symbolic link or a
            // submodule (gitlink) put in its place replaces all it holds.
            Kind::Dir => path.starts_with(&self.text) || Some(path) == self.text.strip_suffix('/'),
            // Every path a glob matches starts with its literal prefix (normal
            // text has no `\` escapes), which spares compiling it for the rest.
            Kind::Glob(g) => {
                path.starts_with(g.literal.as_str())
                    && path.ends_with(g.suffix.as_str())
                    && g.matcher.get_or_init(|| compiled(&g.glob)).is_match(path)
            }
        }
    }

    /// Whether this pattern and `held` (a normalised pattern, as the state
    /// keeps it) could overlap at all, told from their literal parts
    /// without compiling a glob: false only when [`Pattern::overlaps`]
    /// would be false too (for a `held` that compiles).
    pub fn may_overlap(&self, held: &str) -> bool {
        let held_prefix = if is_glob(held) { glob_prefix(held) } else { held };
        let mine = self.prefix();
        if !(mine.starts_with(held_prefix) || held_prefix.starts_with(mine)) {
            return false;
        }
        match self.kind {
            // A file overlaps a glob only if the glob matches it.
            Kind::File if is_glob(held) => {
                let (literal, suffix) = glob_ends(held);
                self.text.starts_with(literal) && self.text.ends_with(suffix)
            }
            _ => true,
        }
    }

    /// The directory prefix every matching path starts with (`""` for none).
    fn prefix(&self) -> &str {
        match &self.kind {
            Kind::File | Kind::Dir => &self.text,
            Kind::Glob(g) => &g.prefix,
        }
    }

    /// Whether some path could fall under both patterns.
    pub fn overlaps(&self, other: &Pattern) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::File, _) => other.matches(&self.text),
            (_, Kind::File) => self.matches(&other.text),
            (Kind::Glob(a), Kind::Glob(b))
                if !(a.suffix.ends_with(&b.suffix) || b.suffix.ends_with(&a.suffix)) =>
            {
                false
            }
            _ => {
                let (a, b) = (self.prefix(), other.prefix());
                a.starts_with(b) || b.starts_with(a)
            }
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The matcher of `glob`, compiled once per process: the same lock is
/// compared with many paths and patterns, through many `Pattern`s of it.
fn compiled(glob: &Glob) -> GlobMatcher {
    static MATCHERS: OnceLock<Mutex<HashMap<String, GlobMatcher>>> = OnceLock::new();
    let mut matchers = MATCHERS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    matchers.entry(glob.glob().to_string()).or_insert_with(|| glob.compile_matcher()).clone()
}

/// Whether the normalised pattern `text` surely compiles, told without
/// compiling it: true for a path, or a glob without alternates or escapes
/// whose classes are closed and hold letters, digits, `_`, `.` and ranges
/// in order. False means "not known", not "broken". (The lock property
/// test holds this against globset.)
pub fn surely_compiles(text: &str) -> bool {
    if !is_glob(text) {
        return true;
    }
    if text.contains(['{', '}', '\\']) {
        return false;
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '[' {
            continue;
        }
        let mut items = 0;
        loop {
            match chars.next() {
                Some(']') if items > 0 => break,
                Some(low) if plain(low) => {
                    let mut ahead = chars.clone();
                    if ahead.next() == Some('-') {
                        match ahead.next() {
                            Some(high) if plain(high) && low <= high => chars = ahead,
                            _ => return false,
                        }
                    }
                    items += 1;
                }
                _ => return false,
            }
        }
    }
    true
}

/// What every path a glob matches starts with (its text up to the first
/// glob character) and ends with (its text after the last one, less a
/// leading `/`: a `**/` there may match no directory at all, as `**/` alone
/// matches every path). Normal text has no `\` escapes, so both are literal.
fn glob_ends(text: &str) -> (&str, &str) {
    let literal_end = text.find(GLOB_META).unwrap_or(text.len());
    let suffix_start = text.rfind(GLOB_META).map_or(text.len(), |i| i + 1);
    (&text[..literal_end], text[suffix_start..].trim_start_matches('/'))
}

/// The literal directory a glob's matches all lie in (`src/a/` of
/// `src/a/*.rs`, `""` of `*.rs`), up to and with its last `/`.
fn glob_prefix(text: &str) -> &str {
    let literal_end = text.find(GLOB_META).unwrap_or(text.len());
    match text[..literal_end].rfind('/') {
        Some(slash) => &text[..=slash],
        None => "",
    }
}

fn glob(text: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text).literal_separator(true).backslash_escape(true).build()
}

/// The locks of many holders, compiled once, for asking who holds a path.
#[derive(Debug)]
pub struct LockIndex<H> {
    literal: Vec<(Pattern, usize)>,
    globs: GlobSet,
    glob_owner: Vec<usize>,
    holders: Vec<H>,
}

impl<H> LockIndex<H> {
    /// Compiles `(holder, patterns)` pairs. Patterns that no longer compile
    /// are reported by the second value rather than silently dropped.
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (H, &'a [String])>,
    ) -> (LockIndex<H>, Vec<(String, globset::Error)>) {
        let mut literal = Vec::new();
        let mut builder = GlobSetBuilder::new();
        let mut glob_owner = Vec::new();
        let mut holders = Vec::new();
        let mut errors = Vec::new();
        for (holder, patterns) in entries {
            let index = holders.len();
            holders.push(holder);
            for text in patterns {
                if is_glob(text) {
                    match glob(text) {
                        Ok(g) => {
                            builder.add(g);
                            glob_owner.push(index);
                        }
                        Err(e) => errors.push((text.clone(), e)),
                    }
                } else {
                    match Pattern::compile(text.clone()) {
                        Ok(p) => literal.push((p, index)),
                        Err(e) => errors.push((text.clone(), e)),
                    }
                }
            }
        }
        let globs = builder.build().unwrap_or_else(|_| GlobSet::empty());
        (LockIndex { literal, globs, glob_owner, holders }, errors)
    }

    /// The holders whose locks cover `path`, each once, in build order.
    pub fn holders_of(&self, path: &str) -> Vec<&H> {
        let mut hit = vec![false; self.holders.len()];
        for (pattern, owner) in &self.literal {
            if pattern.matches(path) {
                hit[*owner] = true;
            }
        }
        for i in self.globs.matches(path) {
            hit[self.glob_owner[i]] = true;
        }
        hit.iter().zip(&self.holders).filter(|(h, _)| **h).map(|(_, holder)| holder).collect()
    }

    /// Whether no holder has any pattern.
    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.glob_owner.is_empty()
    }
}

/// Up to how many paths [`PathHolders`] compares each pattern with each
/// path rather than looking it up.
const FEW_PATHS: usize = 8;

/// Who holds each of a few paths (the ones a commit stages): made for the
/// paths, then given every holder's patterns once. Each pattern costs a
/// lookup or two of its literal part, however many paths there are; only
/// globs whose literal directory holds one of the paths are compiled, into
/// one [`GlobSet`], so a thousand holders' globs elsewhere cost nothing.
pub struct PathHolders<'p> {
    paths: &'p [String],
    /// Each path, to the indices of the paths equal to it.
    files: HashMap<&'p str, Vec<usize>>,
    /// Each directory holding a path (`a/`, `a/b/`; `""` for all), to the
    /// indices of the paths below it.
    dirs: HashMap<&'p str, Vec<usize>>,
    /// For each path, the holders found so far.
    hits: Vec<Vec<usize>>,
    /// Globs that could match one of the paths (they start and end as one
    /// does), with their holder.
    globs: Vec<(Glob, usize)>,
    /// Globs that do not compile, with their holder.
    broken: Vec<(usize, String)>,
}

impl<'p> PathHolders<'p> {
    /// Ready to find the holders of `paths` (normalised, repository-relative files).
    pub fn new(paths: &'p [String]) -> PathHolders<'p> {
        let mut files: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut dirs: HashMap<&str, Vec<usize>> = HashMap::new();
        let many = if paths.len() > FEW_PATHS { paths } else { &[] };
        for (i, path) in many.iter().enumerate() {
            files.entry(path.as_str()).or_default().push(i);
            dirs.entry("").or_default().push(i);
            for (slash, _) in path.match_indices('/') {
                dirs.entry(&path[..=slash]).or_default().push(i);
            }
        }
        PathHolders {
            paths,
            files,
            dirs,
            hits: vec![Vec::new(); paths.len()],
            globs: Vec::new(),
            broken: Vec::new(),
        }
    }

    /// Adds `pattern` (normalised, as the state keeps it) of `holder`.
    pub fn add(&mut self, holder: usize, pattern: &str) {
        if self.paths.len() <= FEW_PATHS {
            return self.add_by_scan(holder, pattern);
        }
        if is_glob(pattern) {
            let Some(below) = self.dirs.get(glob_prefix(pattern)) else { return };
            let (literal, suffix) = glob_ends(pattern);
            let paths = self.paths;
            if !below.iter().any(|&i| paths[i].starts_with(literal) && paths[i].ends_with(suffix)) {
                return;
            }
            match glob(pattern) {
                Ok(g) => self.globs.push((g, holder)),
                Err(_) => self.broken.push((holder, pattern.to_string())),
            }
            return;
        }
        let (dir, file) = match pattern.strip_suffix('/') {
            // The directory itself too: see [`Pattern::matches`].
            Some(own) => (self.dirs.get(pattern), self.files.get(own)),
            None => (None, self.files.get(pattern)),
        };
        for i in dir.into_iter().chain(file).flatten() {
            self.hits[*i].push(holder);
        }
    }

    /// [`PathHolders::add`] for a few paths: comparing with each costs less
    /// than hashing the pattern.
    fn add_by_scan(&mut self, holder: usize, pattern: &str) {
        if is_glob(pattern) {
            let (literal, suffix) = glob_ends(pattern);
            if !self.paths.iter().any(|p| p.starts_with(literal) && p.ends_with(suffix)) {
                return;
            }
            match glob(pattern) {
                Ok(g) => self.globs.push((g, holder)),
                Err(_) => self.broken.push((holder, pattern.to_string())),
            }
            return;
        }
        let own = pattern.strip_suffix('/');
        for (path, hits) in self.paths.iter().zip(&mut self.hits) {
            let held = match own {
                Some(own) => path.starts_with(pattern) || path == own,
                None => path == pattern,
            };
            if held {
                hits.push(holder);
            }
        }
    }

    /// For each path, its holders in increasing order, each once; and the
    /// globs that could have matched a path but do not compile (they lock
    /// nothing), with their holder.
    pub fn finish(mut self) -> (Vec<Vec<usize>>, Vec<(usize, String)>) {
        if !self.globs.is_empty() {
            let mut builder = GlobSetBuilder::new();
            for (g, _) in &self.globs {
                builder.add(g.clone());
            }
            match builder.build() {
                Ok(set) => {
                    for (path, hits) in self.paths.iter().zip(&mut self.hits) {
                        hits.extend(set.matches(path).into_iter().map(|g| self.globs[g].1));
                    }
                }
                // Too big for one automaton: each on its own, none skipped.
                Err(_) => {
                    for (g, holder) in &self.globs {
                        let matcher = compiled(g);
                        for (path, hits) in self.paths.iter().zip(&mut self.hits) {
                            if matcher.is_match(path) {
                                hits.push(*holder);
                            }
                        }
                    }
                }
            }
        }
        for hits in &mut self.hits {
            hits.sort_unstable();
            hits.dedup();
        }
        (self.hits, self.broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Pattern {
        Pattern::new(text).unwrap()
    }

    #[test]
    fn the_prefix_shortcut_agrees_with_the_compiled_glob() {
        let globs = [
            "src/**",
            "src/**/*.rs",
            "src/*.py",
            "**/x.py",
            "*.md",
            "src/a?/b*",
            "docs/[ab]*/*.md",
            "src/{a,b}*",
        ];
        let paths = [
            "src",
            "src/",
            "src/a.py",
            "src/a/b.rs",
            "srcx/a.py",
            "x.py",
            "lib/x.py",
            "README.md",
            "docs/a1/i.md",
            "src/ab/bc",
            "sr",
        ];
        for text in globs {
            let pattern = p(text);
            let full = glob(text).unwrap().compile_matcher();
            for path in paths {
                assert_eq!(pattern.matches(path), full.is_match(path), "{text} against {path}");
            }
        }
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./src//a.py").unwrap(), "src/a.py");
        assert_eq!(normalize("src\\data\\").unwrap(), "src/data/");
        assert_eq!(normalize("src/x/../y.rs").unwrap(), "src/y.rs");
        assert!(normalize("../x").is_err());
        assert!(normalize("a/../../x").is_err());
        assert!(normalize("/home/x").is_err());
        assert!(normalize("C:\\x\\y").is_err());
        assert!(normalize("").is_err());
        assert!(normalize("./").is_err());
        assert!(normalize(".git/hooks/pre-commit").is_err());
        assert!(normalize("src/../.GIT/config").is_err());
        assert!(normalize(".git").is_err());
        assert_eq!(normalize(".github/workflows/ci.yml").unwrap(), ".github/workflows/ci.yml");
        assert_eq!(normalize("src/.git/x").unwrap(), "src/.git/x");
    }

    #[test]
    fn written_patterns_expand_braces_and_absolute_paths() {
        let roots = vec![root_text(Some(Path::new("/r/wt/"))).unwrap(), "/r/main".to_string()];
        assert_eq!(expand_written("src/{a,b}.py", &roots), ["src/a.py", "src/b.py"]);
        assert_eq!(expand_written("src/{a,b}/*.py", &roots), ["src/{a,b}/*.py"]);
        assert_eq!(expand_written("/r/wt/docs/", &roots), ["docs/"]);
        assert_eq!(expand_written("/r/main/{x,y}.md", &roots), ["x.md", "y.md"]);
        assert_eq!(expand_written("/r/other/x.md", &roots), ["/r/other/x.md"]);
        let texts: Vec<String> = Pattern::written("/r/main/src/{a,b}.py", &roots)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(texts, ["src/a.py", "src/b.py"]);
        assert!(Pattern::written("/r/main/.git/config", &roots).is_err());
    }

    #[test]
    fn a_path_ending_in_dot_dot_is_a_directory() {
        assert_eq!(normalize("src/x/.."), Ok("src/".to_string()));
        assert_eq!(normalize("src\\x\\.."), Ok("src/".to_string()));
        assert!(p("src/x/..").overlaps(&p("src/a.py")));
        assert!(normalize("src/..").is_err());
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        // Found by the lock property test: one pass left ` a` and `~x`.
        assert_eq!(normalize("./ a"), Ok("a".to_string()));
        assert_eq!(normalize("src/ /x"), Ok("src/ /x".to_string()));
        assert!(normalize("./~x").is_err());
        assert!(normalize("./C:x").is_err());
        assert_eq!(normalize("./ ./x"), Ok("x".to_string()));
    }

    #[test]
    fn overlap_rules() {
        assert!(p("src/a.py").overlaps(&p("src/a.py")));
        assert!(!p("src/a.py").overlaps(&p("src/b.py")));
        assert!(p("src/a.py").overlaps(&p("src/")));
        assert!(p("src/data/").overlaps(&p("src/")));
        assert!(!p("src/data/").overlaps(&p("docs/")));
        assert!(p("src/**/*.rs").overlaps(&p("src/x/y.rs")));
        assert!(!p("src/**/*.rs").overlaps(&p("src/x/y.py")));
        assert!(!p("src/**/*.rs").overlaps(&p("src/**/*.py")));
        assert!(p("src/**/*.rs").overlaps(&p("src/a/*.rs")));
        assert!(p("*.rs").overlaps(&p("src/data/")));
        assert!(!p("src/*.rs").overlaps(&p("docs/*.rs")));
        assert!(p("app/[id]/page.tsx").matches("app/[id]/page.tsx"));
        assert!(p("vendor/lib/").matches("vendor/lib"), "a submodule or file in the directory's place");
        assert!(p("vendor/lib/").overlaps(&p("vendor/lib")));
        assert!(!p("vendor/lib/").matches("vendor/library"));
        assert!(!p("src/*.rs").matches("src/a/b.rs"));
    }

    #[test]
    fn a_leading_recursive_glob_overlaps_everything() {
        // Found by the lock property test: `**/` matches every path, yet its
        // suffix `/` told it apart from `*/src`.
        assert!(p("**/").matches("x/src"));
        assert!(p("**/").overlaps(&p("*/src")));
        assert!(p("*.rs").overlaps(&p("**/")));
        assert!(!p("**/*.rs").overlaps(&p("**/*.py")));
    }

    #[test]
    fn surely_compiles_only_what_compiles() {
        for sure in ["src/a.py", "docs/", "src/**/*.rs", "x/gen_[5-9]*.rs", "[ab]?", "[a-c_.]*"] {
            assert!(surely_compiles(sure), "{sure}");
            assert!(Pattern::compile(sure.to_string()).is_ok(), "{sure}");
        }
        // Broken, or not known without compiling.
        for unsure in ["src/[*.rs", "[c-a]*", "{a,b}*", "[!a]*", "[]]*", "[a-]*"] {
            assert!(!surely_compiles(unsure), "{unsure}");
        }
        // A `]` outside a class is a literal.
        assert!(surely_compiles("*]") && Pattern::compile("*]".to_string()).is_ok());
    }

    #[test]
    fn may_overlap_is_told_from_literal_parts() {
        assert!(!p("src/a/file.rs").may_overlap("src/a/gen_T1_[5-9]*.rs"));
        assert!(p("src/a/gen_T1_7.rs").may_overlap("src/a/gen_T1_[5-9]*.rs"));
        assert!(!p("docs/").may_overlap("src/[*.rs"));
        assert!(p("src/").may_overlap("src/a/*.py"));
        assert!(p("*.rs").may_overlap("docs/x.md"), "a glob without a directory may match anywhere");
    }

    #[test]
    fn index_finds_holders() {
        let a = vec!["src/a.py".to_string()];
        let b = vec!["src/**/*.rs".to_string(), "docs/".to_string()];
        let (index, errors) = LockIndex::build([("A", a.as_slice()), ("B", b.as_slice())]);
        assert!(errors.is_empty());
        assert_eq!(index.holders_of("src/a.py"), vec![&"A"]);
        assert_eq!(index.holders_of("src/x/y.rs"), vec![&"B"]);
        assert_eq!(index.holders_of("docs/readme.md"), vec![&"B"]);
        assert!(index.holders_of("other").is_empty());
    }
}

#[cfg(test)]
mod proptests;
