//! Man pages, generated from the clap definition: `git-par.1` and one page
//! per command (`git-par-start.1`, `git-par-hook-install.1`, ...), so that
//! every page a page names exists. And the directory `man` reads this
//! binary's pages from, for `git par man --install`.
//!
//! `git par --help` is turned by git into `man git-par`; man-db finds a page
//! for a program in `<prefix>/bin` under `<prefix>/share/man` (derived from
//! PATH) unless `MANPATH` says otherwise, so installing next to the binary is
//! enough for `cargo install` (`~/.cargo/bin` → `~/.cargo/share/man`).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use anyhow::{Context as _, Result};
use clap::{Arg, ArgAction, Command};
use roff::{bold, italic, roman, Roff};

use crate::command_error::Refusal;

/// One rendered page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The page name: `git-par`, `git-par-start`.
    pub name: String,
    pub roff: Vec<u8>,
}

impl Page {
    /// The file name in a `man1` directory.
    pub fn file_name(&self) -> String {
        format!("{}.1", self.name)
    }
}

/// Renders the page of `root` (named `git-par`) and of every command below it.
pub fn pages(root: Command) -> Result<Vec<Page>> {
    let mut root = root.name("git-par").disable_help_subcommand(true);
    root.build();
    let version = root.get_version().unwrap_or_default().to_string();
    let mut out = Vec::new();
    collect(&root, None, &version, &mut out)?;
    Ok(out)
}

fn collect(cmd: &Command, parent: Option<&str>, version: &str, out: &mut Vec<Page>) -> Result<()> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_string();
    let page = match parent {
        None => render(cmd, &name, parent, version)?,
        // The global options are described once, on git-par(1).
        Some(_) => {
            let globals: Vec<String> =
                cmd.get_arguments().filter(|a| a.is_global_set()).map(|a| a.get_id().to_string()).collect();
            let own = globals.into_iter().fold(cmd.clone(), |c, id| c.mut_arg(id, |a| a.hide(true)));
            render(&own, &name, parent, version)?
        }
    };
    out.push(Page { roff: page, name: name.clone() });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, Some(&name), version, out)?;
    }
    Ok(())
}

fn render(cmd: &Command, name: &str, parent: Option<&str>, version: &str) -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone()).title(name).source(format!("git-par {version}"));
    let mut sections: Vec<Vec<u8>> = Vec::new();
    let mut section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> Result<()> {
        let mut buf = Vec::new();
        render(&mut buf).with_context(|| format!("rendering the man page {name}(1)"))?;
        sections.push(buf);
        Ok(())
    };
    let own = |roff: Roff| {
        move |w: &mut Vec<u8>| -> std::io::Result<()> {
            w.extend_from_slice(roff.render().as_bytes());
            Ok(())
        }
    };
    section(&|w| man.render_title(w))?;
    section(&|w| man.render_name_section(w))?;
    section(&own(synopsis(cmd, parent.is_none())))?;
    section(&|w| man.render_description_section(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        section(&|w| man.render_options_section(w))?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        section(&|w| man.render_subcommands_section(w))?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        section(&|w| man.render_extra_section(w))?;
    }
    if let Some(parent) = parent {
        section(&own(see_also(parent)))?;
    }
    if cmd.get_version().is_some() {
        section(&|w| man.render_version_section(w))?;
    }
    // Each section is rendered with roff's preamble; keep the first one only.
    let preamble = Roff::new().render();
    let mut page = Vec::new();
    for (i, text) in sections.iter().enumerate() {
        let body = if i == 0 { &text[..] } else { text.strip_prefix(preamble.as_bytes()).unwrap_or(text) };
        page.extend_from_slice(body);
    }
    Ok(page)
}

/// SYNOPSIS with argument names: `git par start [--path GLOB]... [--base REV] [--force] ID...`.
/// (clap_mangen's own synopsis leaves out the values options take.)
fn synopsis(cmd: &Command, is_root: bool) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name()).to_string();
    let mut line = vec![bold(name)];
    for arg in cmd.get_arguments().filter(|a| shown_in_synopsis(a, is_root)) {
        line.push(roman(" "));
        line.extend(option_usage(arg));
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        line.push(roman(" "));
        line.extend(positional_usage(arg));
    }
    if cmd.has_subcommands() {
        line.push(roman(" "));
        line.push(italic("COMMAND"));
        line.push(roman(" ["));
        line.push(italic("ARGS"));
        line.push(roman("]"));
    }
    roff.text(line);
    roff
}

/// Options shown in a synopsis: not help/version, and the global ones only on the top page.
fn shown_in_synopsis(arg: &Arg, is_root: bool) -> bool {
    !arg.is_hide_set()
        && !arg.is_positional()
        && !matches!(arg.get_action(), ArgAction::Help | ArgAction::HelpLong | ArgAction::Version)
        && (is_root || !arg.is_global_set())
}

fn option_usage(arg: &Arg) -> Vec<roff::Inline> {
    let flag = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => return Vec::new(),
    };
    let mut parts = Vec::new();
    if !arg.is_required_set() {
        parts.push(roman("["));
    }
    parts.push(bold(flag));
    if arg.get_action().takes_values() {
        parts.push(roman(" "));
        parts.push(italic(value_name(arg)));
    }
    if !arg.is_required_set() {
        parts.push(roman("]"));
    }
    if matches!(arg.get_action(), ArgAction::Append | ArgAction::Count) {
        parts.push(roman("..."));
    }
    parts
}

fn positional_usage(arg: &Arg) -> Vec<roff::Inline> {
    let mut parts = Vec::new();
    if arg.is_last_set() {
        parts.push(roman("-- "));
    }
    if !arg.is_required_set() {
        parts.push(roman("["));
    }
    parts.push(italic(value_name(arg)));
    if matches!(arg.get_action(), ArgAction::Append) || arg.get_num_args().is_some_and(|n| n.max_values() > 1)
    {
        parts.push(roman("..."));
    }
    if !arg.is_required_set() {
        parts.push(roman("]"));
    }
    parts
}

fn value_name(arg: &Arg) -> String {
    match arg.get_value_names() {
        Some(names) => names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(" "),
        None => arg.get_id().as_str().to_uppercase(),
    }
}

fn see_also(parent: &str) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    if parent == "git-par" {
        roff.text([bold(parent), roman("(1), for the options every command takes")]);
    } else {
        roff.text([
            bold(parent),
            roman("(1), and "),
            bold("git-par"),
            roman("(1) for the options every command takes"),
        ]);
    }
    roff
}

/// Where `--install` put the pages.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The `man1` directory written to.
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// Why the binary's own prefix was not used, when it was not.
    pub notes: Vec<String>,
    /// `false` when no `manpath` program could be run to check the result.
    pub checked: bool,
}

/// Installs the pages where `man` looks for the pages of the `git-par` that
/// PATH finds (this executable): `<prefix>/share/man` for a binary in
/// `<prefix>/bin`, else the first writable directory of the user's manpath.
pub fn install(pages: &[Page]) -> Result<Installed> {
    let exe = std::env::current_exe().context("finding the git-par executable")?;
    let bin = path_dir_of(&exe).or_else(|| exe.parent().map(Path::to_path_buf));
    let mut notes = Vec::new();
    let manpath = read_manpath();
    if let Some(prefix) = bin.as_deref().and_then(prefix_of_bin) {
        let root = prefix.join("share").join("man");
        match create_dirs(&root.join("man1")) {
            Ok(created) => {
                let found = manpath_now(&manpath).map(|list| contains(&list, &root));
                if found != Some(false) {
                    let files = write_pages(&root.join("man1"), pages)?;
                    return Ok(Installed { dir: root.join("man1"), files, notes, checked: found.is_some() });
                }
                remove_created(&created);
                notes.push(format!("man does not read {} (MANPATH is set without it)", root.display()));
            }
            Err(err) => notes.push(format!("cannot write {}: {err:#}", root.display())),
        }
    }
    let Some(list) = manpath else {
        return Err(Refusal::failed("cannot tell where man looks for pages: `manpath` cannot be run")
            .hint("install man (e.g. `apt-get install man-db`), or write the pages with `git par man --out DIR`")
            .into());
    };
    for root in ranked(&list) {
        let man1 = root.join("man1");
        if create_dirs(&man1).is_err() {
            continue;
        }
        if let Ok(files) = write_pages(&man1, pages) {
            return Ok(Installed { dir: man1, files, notes, checked: true });
        }
    }
    let mut refusal = Refusal::failed("no directory that man reads can be written");
    for note in notes {
        refusal = refusal.hint(note);
    }
    Err(refusal
        .hint("write the pages with `git par man --out DIR/man1` and add DIR to MANPATH (`export MANPATH=\"DIR:\"`)")
        .into())
}

/// The PATH directory whose `git-par` is this executable: the one git runs.
/// (Through a symlink, `current_exe` names the target, not the PATH entry.)
fn path_dir_of(exe: &Path) -> Option<PathBuf> {
    let exe = std::fs::canonicalize(exe).ok()?;
    let path = std::env::var_os("PATH")?;
    let cwd = std::env::current_dir().ok()?;
    std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty()).map(|d| cwd.join(d)).find(|dir| {
        std::fs::canonicalize(dir.join(exe.file_name().unwrap_or(OsStr::new("git-par"))))
            .is_ok_and(|found| found == exe)
    })
}

fn prefix_of_bin(dir: &Path) -> Option<PathBuf> {
    (dir.file_name()? == "bin").then(|| dir.parent().map(Path::to_path_buf)).flatten()
}

/// The directories `man` searches, from `manpath` (man-db) or `man -w` (BSD man).
fn read_manpath() -> Option<Vec<PathBuf>> {
    let attempts: [(&str, &[&str]); 2] = [("manpath", &["-q"]), ("man", &["-w"])];
    attempts.iter().find_map(|(program, args)| {
        let out = Process::new(program).args(*args).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty())
            .then(|| std::env::split_paths(&text).filter(|p| p.is_absolute()).collect())
    })
}

/// The manpath once more: man-db only lists a `<prefix>/share/man` that exists.
fn manpath_now(before: &Option<Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    before.as_ref()?;
    read_manpath()
}

fn contains(list: &[PathBuf], dir: &Path) -> bool {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    list.iter().any(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == dir)
}

/// The user's own directories first; never the package manager's.
fn ranked(list: &[PathBuf]) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_absolute());
    let system = |p: &Path| p.starts_with("/usr/share") || p == Path::new("/usr/man");
    let (mut own, rest): (Vec<PathBuf>, Vec<PathBuf>) =
        list.iter().cloned().partition(|p| home.as_ref().is_some_and(|h| p.starts_with(h)));
    own.extend(rest.into_iter().filter(|p| !system(p)));
    own
}

/// Creates `dir` and its missing parents; returns those it created, deepest first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(missing)
}

fn remove_created(created: &[PathBuf]) {
    for dir in created {
        // Only empty directories this run made; anything else stays.
        let _ = std::fs::remove_dir(dir);
    }
}

fn write_pages(dir: &Path, pages: &[Page]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for page in pages {
        let path = dir.join(page.file_name());
        std::fs::write(&path, &page.roff).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn page(name: &str) -> String {
        let pages = pages(crate::cli::Cli::command()).unwrap();
        let page = pages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no page {name}"));
        String::from_utf8(page.roff.clone()).unwrap()
    }

    #[test]
    fn synopsis_names_the_values() {
        let top = page("git-par");
        assert!(top.contains(r"[\fB\-C\fR \fIDIR\fR]"), "{top}");
        assert!(top.contains(r"[\fB\-\-tasks\fR \fIFILE\fR]"), "{top}");
        let start = page("git-par-start");
        assert!(start.contains(r"[\fB\-\-path\fR \fIGLOB\fR]..."), "{start}");
        assert!(start.contains(r"\fIID\fR..."), "{start}");
        assert!(!start.contains(r"\-\-strict\-phases\fR]"), "globals stay on the top page: {start}");
        let run = page("git-par-run");
        assert!(run.contains(r"\fIID\fR \-\- \fICMD\fR..."), "{run}");
        assert_eq!(top.matches(".ie \\n(.g").count(), 1, "one preamble");
    }
}
