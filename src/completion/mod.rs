//! Shell completion scripts for bash, zsh and fish, made from the clap
//! definition, that also work through git: `git par st<TAB>`.
//!
//! Each shell's git completion hands `git par ...` to a function of ours:
//! bash's calls `_git_par` (loading the file `git-par` from bash-completion's
//! directories first), zsh's calls `_git-par`, fish's runs
//! `complete -C "git-par ..."`. The scripts are templates (the files next to
//! this one) filled with the commands, options and values read from clap, so
//! a new flag completes without touching them. Task IDs come at completion
//! time from `git par list --json`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Arg, Command};

use crate::command_error::Refusal;

const BASH: &str = include_str!("git-par.bash");
const ZSH: &str = include_str!("_git-par.zsh");
const FISH: &str = include_str!("git-par.fish");
const FISH_GIT: &str = include_str!("git-par-git.fish");

/// The shells this module writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// What a value on the command line is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Words(Vec<String>),
    Files,
    Dirs,
    /// Free text (a message, a number): nothing to offer.
    Free,
}

/// What the arguments after a command are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Positional {
    /// Task IDs: `all`, `todo` (not done, not started) or `active`; one or several.
    Ids {
        which: &'static str,
        many: bool,
    },
    Words(Vec<(String, String)>),
    Files,
    Dirs,
    None,
}

#[derive(Debug, Clone)]
struct Opt {
    /// `--path`, `-s`: every spelling.
    names: Vec<String>,
    long: Option<String>,
    short: Option<char>,
    about: String,
    value: Option<Value>,
}

#[derive(Debug, Clone)]
struct Sub {
    name: String,
    about: String,
    opts: Vec<Opt>,
    positional: Positional,
}

/// The command line as completion sees it.
#[derive(Debug, Clone)]
struct Model {
    globals: Vec<Opt>,
    subs: Vec<Sub>,
}

impl Model {
    fn new(mut root: Command) -> Model {
        root.build();
        let globals = root.get_arguments().filter(|a| completable(a) && a.is_global_set()).map(opt).collect();
        let names: Vec<(String, String)> = root
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| (s.get_name().to_string(), about(s)))
            .collect();
        let subs = root
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|sub| Sub {
                name: sub.get_name().to_string(),
                about: about(sub),
                opts: sub.get_arguments().filter(|a| completable(a) && !a.is_global_set()).map(opt).collect(),
                positional: positional(sub, &names),
            })
            .collect();
        Model { globals, subs }
    }

    fn global_names(&self) -> String {
        self.globals.iter().flat_map(|o| o.names.clone()).collect::<Vec<_>>().join(" ")
    }

    fn global_valued(&self) -> Vec<String> {
        self.globals.iter().filter(|o| o.value.is_some()).flat_map(|o| o.names.clone()).collect()
    }
}

fn completable(arg: &Arg) -> bool {
    !arg.is_hide_set()
        && !arg.is_positional()
        && !matches!(
            arg.get_action(),
            clap::ArgAction::Help | clap::ArgAction::HelpLong | clap::ArgAction::Version
        )
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

fn opt(arg: &Arg) -> Opt {
    let long = arg.get_long().map(str::to_string);
    let short = arg.get_short();
    let mut names = Vec::new();
    if let Some(short) = short {
        names.push(format!("-{short}"));
    }
    if let Some(long) = &long {
        names.push(format!("--{long}"));
    }
    Opt {
        names,
        long,
        short,
        about: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
        value: arg.get_action().takes_values().then(|| value(arg)),
    }
}

fn value(arg: &Arg) -> Value {
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !possible.is_empty() {
        return Value::Words(possible);
    }
    let name = arg.get_value_names().and_then(|n| n.first()).map(|n| n.to_string()).unwrap_or_default();
    match name.as_str() {
        "DIR" => Value::Dirs,
        "FILE" | "PATH" | "GLOB" => Value::Files,
        _ => Value::Free,
    }
}

/// Which tasks a command's ID argument can name.
fn id_kind(command: &str) -> &'static str {
    match command {
        "show" => "all",
        "start" | "tmux" => "todo",
        _ => "active",
    }
}

fn positional(sub: &Command, commands: &[(String, String)]) -> Positional {
    if sub.get_name() == "help" {
        return Positional::Words(commands.iter().filter(|(n, _)| n != "help").cloned().collect());
    }
    if sub.has_subcommands() {
        return Positional::Words(
            sub.get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| (s.get_name().to_string(), about(s)))
                .collect(),
        );
    }
    let Some(arg) = sub.get_positionals().find(|a| !a.is_hide_set() && !a.is_last_set()) else {
        return Positional::None;
    };
    let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
    let name = arg
        .get_value_names()
        .and_then(|n| n.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    if name == "ID" {
        return Positional::Ids { which: id_kind(sub.get_name()), many };
    }
    match value(arg) {
        Value::Words(words) => Positional::Words(words.into_iter().map(|w| (w, String::new())).collect()),
        Value::Dirs => Positional::Dirs,
        Value::Files => Positional::Files,
        Value::Free if name == "PATH" => Positional::Files,
        Value::Free => Positional::None,
    }
}

/// The completion script for `shell`.
pub fn script(shell: Shell, root: Command) -> String {
    let model = Model::new(root);
    match shell {
        Shell::Bash => bash(&model),
        Shell::Zsh => zsh(&model),
        Shell::Fish => fish(&model),
    }
}

/// The `case $sub in` lines shared by bash and zsh: options, the options that
/// take a value, and what the arguments are.
fn subcommand_table(model: &Model, indent: &str) -> String {
    let mut out = String::new();
    for sub in &model.subs {
        let opts: Vec<String> = sub.opts.iter().flat_map(|o| o.names.clone()).collect();
        let vopts: Vec<String> =
            sub.opts.iter().filter(|o| o.value.is_some()).flat_map(|o| o.names.clone()).collect();
        let pos = match &sub.positional {
            Positional::Ids { which, many } => format!("ids:{which}:{}", if *many { "many" } else { "one" }),
            Positional::Words(words) => {
                format!("words:{}", words.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(" "))
            }
            Positional::Files => "files".to_string(),
            Positional::Dirs => "dirs".to_string(),
            Positional::None => String::new(),
        };
        out.push_str(&format!(
            "{indent}{}) opts='{}'; vopts='{}'; pos='{pos}' ;;\n",
            sub.name,
            opts.join(" "),
            vopts.join(" ")
        ));
    }
    out.trim_end().to_string()
}

fn bash(model: &Model) -> String {
    let mut globals = String::new();
    for opt in model.globals.iter().filter(|o| o.value.is_some()) {
        let action = match &opt.value {
            Some(Value::Words(words)) => format!("__git_par_reply '{}'", words.join(" ")),
            Some(Value::Files) => "__git_par_files f".to_string(),
            Some(Value::Dirs) => "__git_par_files d".to_string(),
            _ => ":".to_string(),
        };
        globals.push_str(&format!("\t{})\n\t\t{action}\n\t\treturn 0\n\t\t;;\n", opt.names.join("|")));
    }
    let mut values = String::new();
    for sub in &model.subs {
        for opt in &sub.opts {
            let action = match &opt.value {
                Some(Value::Words(words)) => format!("__git_par_reply '{}'", words.join(" ")),
                Some(Value::Files) => "__git_par_files f".to_string(),
                Some(Value::Dirs) => "__git_par_files d".to_string(),
                _ => continue,
            };
            let patterns: Vec<String> = opt.names.iter().map(|n| format!("'{} {n}'", sub.name)).collect();
            values.push_str(&format!("\t\t{}) {action} ;;\n", patterns.join("|")));
        }
    }
    let commands: Vec<&str> = model.subs.iter().map(|s| s.name.as_str()).collect();
    BASH.replace("@COMMANDS@", &commands.join(" "))
        .replace("@GLOBAL_VALUED@", &model.global_valued().join(" "))
        .replace("@SUBCOMMAND_TABLE@", &subcommand_table(model, "\t\t\t\t"))
        .replace("@GLOBAL_VALUES@", globals.trim_end())
        .replace("@OPTION_VALUES@", values.trim_end())
        .replace("@GLOBAL_OPTIONS@", &model.global_names())
}

/// A word in single quotes, for sh-like shells (zsh and fish differ only in `\`).
fn single_quoted(text: &str, fish: bool) -> String {
    if fish {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn zsh(model: &Model) -> String {
    let commands: Vec<String> = model
        .subs
        .iter()
        .map(|s| format!("    {}", single_quoted(&format!("{}:{}", s.name, s.about), false)))
        .collect();
    let action = |value: &Value| match value {
        Value::Words(words) => format!("compadd -- {}", words.join(" ")),
        Value::Files => "_files".to_string(),
        Value::Dirs => "_directories".to_string(),
        Value::Free => ":".to_string(),
    };
    let mut globals = String::new();
    for opt in &model.globals {
        if let Some(value) = &opt.value {
            globals.push_str(&format!("      ({}) {}; return ;;\n", opt.names.join("|"), action(value)));
        }
    }
    let mut values = String::new();
    for sub in &model.subs {
        for opt in &sub.opts {
            if let Some(value @ (Value::Words(_) | Value::Files | Value::Dirs)) = &opt.value {
                let patterns: Vec<String> = opt.names.iter().map(|n| format!("'{} {n}'", sub.name)).collect();
                values.push_str(&format!("      ({}) {} ;;\n", patterns.join("|"), action(value)));
            }
        }
    }
    ZSH.replace("@ZSH_COMMANDS@", &commands.join("\n"))
        .replace("@GLOBAL_VALUED@", &model.global_valued().join(" "))
        .replace("@SUBCOMMAND_TABLE@", &subcommand_table(model, "            "))
        .replace("@ZSH_GLOBAL_VALUES@", globals.trim_end())
        .replace("@ZSH_OPTION_VALUES@", values.trim_end())
        .replace("@GLOBAL_OPTIONS@", &model.global_names())
}

fn fish(model: &Model) -> String {
    let q = |text: &str| single_quoted(text, true);
    let option_line = |condition: Option<String>, opt: &Opt| {
        let mut line = "complete -c git-par".to_string();
        if let Some(condition) = condition {
            line.push_str(&format!(" -n {}", q(&condition)));
        }
        if let Some(short) = opt.short {
            line.push_str(&format!(" -s {short}"));
        }
        if let Some(long) = &opt.long {
            line.push_str(&format!(" -l {long}"));
        }
        match &opt.value {
            Some(Value::Words(words)) => line.push_str(&format!(" -x -a {}", q(&words.join(" ")))),
            Some(Value::Files) => line.push_str(" -r -F"),
            Some(Value::Dirs) => line.push_str(" -x -a '(__fish_complete_directories)'"),
            Some(Value::Free) => line.push_str(" -x"),
            None => {}
        }
        line.push_str(&format!(" -d {}", q(&opt.about)));
        line
    };
    let mut body = Vec::new();
    for opt in &model.globals {
        body.push(option_line(None, opt));
    }
    for sub in &model.subs {
        body.push(format!(
            "complete -c git-par -n __git_par_needs_subcommand -a {} -d {}",
            q(&sub.name),
            q(&sub.about)
        ));
    }
    for sub in &model.subs {
        let using = format!("__git_par_using {}", sub.name);
        for opt in &sub.opts {
            body.push(option_line(Some(using.clone()), opt));
        }
        match &sub.positional {
            Positional::Ids { which, many: true } => {
                body.push(format!("complete -c git-par -n {} -a '(__git_par_ids {which})'", q(&using)))
            }
            Positional::Ids { which, many: false } => body.push(format!(
                "complete -c git-par -n {} -a '(__git_par_ids {which})'",
                q(&format!("{using}; and __git_par_no_argument"))
            )),
            Positional::Words(words) => {
                for (word, about) in words {
                    body.push(format!(
                        "complete -c git-par -n {} -a {} -d {}",
                        q(&format!("{using}; and __git_par_no_argument")),
                        q(word),
                        q(about)
                    ));
                }
            }
            Positional::Files => body.push(format!("complete -c git-par -n {} -F", q(&using))),
            Positional::Dirs => body.push(format!(
                "complete -c git-par -n {} -a '(__fish_complete_directories)'",
                q(&format!("{using}; and __git_par_no_argument"))
            )),
            Positional::None => {}
        }
    }
    let script = FISH
        .replace("@FISH_GLOBAL_VALUED@", &model.global_valued().join(" "))
        .replace("@FISH_BODY@", &body.join("\n"));
    format!("{script}\n{FISH_GIT}")
}

/// Where `--install` writes a shell's script, and what to tell the user.
#[derive(Debug, Clone)]
pub struct Installed {
    pub path: PathBuf,
    /// What the user still has to do, if anything (zsh: add the directory to fpath).
    pub next: Option<String>,
}

/// Writes the script where the shell looks for it, creating directories:
/// bash-completion's user directory, a zsh site-functions directory, fish's
/// completions directory.
pub fn install(shell: Shell, root: Command) -> Result<Installed> {
    let env = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let home = env("HOME").ok_or_else(|| {
        Refusal::failed("HOME is not set (or not absolute), so there is no place to install completions")
            .hint("print the script instead: `git par completions SHELL > FILE`")
    })?;
    let data = env("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share"));
    let config = env("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
    let (path, next) = match shell {
        Shell::Bash => {
            let dir = env("BASH_COMPLETION_USER_DIR").unwrap_or_else(|| data.join("bash-completion"));
            (dir.join("completions/git-par"), None)
        }
        Shell::Zsh => {
            let dir = data.join("zsh/site-functions");
            let next = format!(
                "zsh reads it when ~/.zshrc has, before `compinit`: fpath=({} $fpath)",
                git_par::workflow::shell_quote(&dir.to_string_lossy())
            );
            (dir.join("_git-par"), Some(next))
        }
        Shell::Fish => {
            // fish reads completions/git.fish (its own) for `git`: the glue that
            // makes `git par <TAB>` work is loaded at startup instead.
            write(&config.join("fish/conf.d/git-par.fish"), FISH_GIT)?;
            (config.join("fish/completions/git-par.fish"), None)
        }
    };
    write(&path, &script(shell, root))?;
    Ok(Installed { path, next })
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
