//! The `par.*` settings from git config, read once per command.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};

use crate::repo::Repo;

/// `par.enforceScope`: what the hook does with staged paths outside a task's locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnforceScope {
    #[default]
    Error,
    Warn,
    Off,
    /// A staged path nobody holds joins the task's locks (the default for a task that declared no path).
    Acquire,
}

impl EnforceScope {
    /// The scope for a task: the configured one, except that a task that
    /// declared no path acquires when nothing is configured.
    pub fn for_task(configured: Option<EnforceScope>, acquiring: bool) -> EnforceScope {
        match configured {
            Some(scope) => scope,
            None if acquiring => EnforceScope::Acquire,
            None => EnforceScope::Error,
        }
    }

    /// Reads a `par.enforceScope` value; unset is the strict default. An
    /// unknown value is an error the caller warns about, and then the strict
    /// default applies too (`unwrap_or_default`): a typo must not relax the check.
    pub fn from_config(value: Option<&str>) -> Result<EnforceScope, UnknownEnforceScope> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("error") => Ok(EnforceScope::Error),
            Some("warn") => Ok(EnforceScope::Warn),
            Some("off") | Some("false") => Ok(EnforceScope::Off),
            Some("acquire") => Ok(EnforceScope::Acquire),
            Some(_) => Err(UnknownEnforceScope(value.unwrap_or_default().to_string())),
        }
    }
}

/// A `par.enforceScope` value that is none of `error`, `warn`, `off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEnforceScope(pub String);

impl std::fmt::Display for UnknownEnforceScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "par.enforceScope = {} is not one of error, warn, off, acquire; using error", self.0)
    }
}

/// The `par.*` configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub tasks: Option<String>,
    pub main_branch: Option<String>,
    pub worktree_dir: Option<String>,
    pub branch_prefix: String,
    pub verify: Option<String>,
    pub enforce_scope: EnforceScope,
    pub log_dir: String,
    pub command: Option<String>,
    /// `par.paneEnv`: `NAME=VALUE` entries (multi-valued).
    pub pane_env: Vec<String>,
    /// `par.class.<name>`: label → class name, e.g. `par.class.net = FETCH` maps label FETCH to class net.
    pub classes: BTreeMap<String, Vec<String>>,
    /// `par.limit.<class>`: tasks of that class per wave.
    pub limits: BTreeMap<String, usize>,
    pub remote: Option<String>,
    /// `par.lockTTL`: how long a machine may go without a heartbeat before
    /// its tasks show as stale (remote mode; nothing expires by itself).
    pub lock_ttl: std::time::Duration,
    /// `par.agent`: the command `git par up` runs in each task's worktree (DESIGN §11).
    pub agent: Option<String>,
    /// `par.copy`: globs of ignored files copied from the main worktree into each new worktree (multi-valued).
    pub copy: Vec<String>,
    /// `par.setup`: the command run in each new worktree before it is handed over (DESIGN §12).
    pub setup: Option<String>,
    /// Values that could not be used, each saying what was used instead
    /// (the command layer warns about them).
    pub problems: Vec<String>,
}

/// `par.lockTTL` when it is not set.
pub const DEFAULT_LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

impl Config {
    /// Reads the settings visible from `repo` (local, global, system).
    pub fn load(repo: &Repo) -> Result<Config> {
        let mut cfg = repo.git.config().context("reading git config")?;
        let cfg = cfg.snapshot().context("reading git config")?;
        let get = |key: &str| -> Option<String> { cfg.get_string(key).ok() };
        let mut config = Config {
            tasks: get("par.tasks"),
            main_branch: get("par.mainBranch"),
            // Empty means unset: joined to the root, it would put worktrees inside the repository.
            worktree_dir: get("par.worktreeDir").filter(|v| !v.trim().is_empty()),
            branch_prefix: get("par.branchPrefix").unwrap_or_else(|| "par/".to_string()),
            verify: get("par.verify"),
            // The check, the one reader of this setting, warns about an unknown value.
            enforce_scope: EnforceScope::from_config(get("par.enforceScope").as_deref()).unwrap_or_default(),
            log_dir: get("par.logDir").unwrap_or_else(|| "logs/parallel".to_string()),
            command: get("par.command"),
            remote: get("par.remote"),
            lock_ttl: DEFAULT_LOCK_TTL,
            agent: get("par.agent").filter(|v| !v.trim().is_empty()),
            setup: get("par.setup").filter(|v| !v.trim().is_empty()),
            ..Config::default()
        };
        if let Some(text) = get("par.lockTTL") {
            match humantime::parse_duration(text.trim()) {
                Ok(ttl) => config.lock_ttl = ttl,
                Err(_) => config.problems.push(format!(
                    "par.lockTTL = {text} is not a duration (e.g. 24h, 90m, 2days); using 24h"
                )),
            }
        }
        if get("par.worktreeDir").is_some_and(|v| v.trim().is_empty()) {
            config.problems.push(
                "par.worktreeDir is empty; using the default, <repository>.par beside the repository"
                    .to_string(),
            );
        }
        let mut entries = cfg.entries(Some(r"^par\.")).context("reading git config")?;
        while let Some(entry) = entries.next() {
            let entry = entry.context("reading git config")?;
            let (Some(name), Some(value)) = (entry.name(), entry.value()) else { continue };
            let lower = name.to_ascii_lowercase();
            if lower == "par.paneenv" {
                config.pane_env.push(value.to_string());
            } else if lower == "par.copy" {
                config.copy.extend(value.split_whitespace().map(str::to_string));
            } else if let Some(class) = name.strip_prefix("par.class.") {
                let labels = value.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string);
                config.classes.entry(class.to_ascii_lowercase()).or_default().extend(labels);
            } else if let Some(class) = name.strip_prefix("par.limit.") {
                match value.trim().parse() {
                    Ok(n) => {
                        config.limits.insert(class.to_ascii_lowercase(), n);
                    }
                    Err(_) => config.problems.push(format!(
                        "{name} = {value} is not a whole number (e.g. 2); no limit is applied"
                    )),
                }
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforce_scope_values() {
        assert_eq!(EnforceScope::from_config(None), Ok(EnforceScope::Error));
        assert_eq!(EnforceScope::from_config(Some("Error")), Ok(EnforceScope::Error));
        assert_eq!(EnforceScope::from_config(Some("WARN")), Ok(EnforceScope::Warn));
        assert_eq!(EnforceScope::from_config(Some("off")), Ok(EnforceScope::Off));
        assert_eq!(EnforceScope::from_config(Some("false")), Ok(EnforceScope::Off));
        assert_eq!(EnforceScope::from_config(Some("Acquire")), Ok(EnforceScope::Acquire));
        let bogus = EnforceScope::from_config(Some("bogus")).unwrap_err();
        assert_eq!(
            bogus.to_string(),
            "par.enforceScope = bogus is not one of error, warn, off, acquire; using error"
        );
        assert_eq!(EnforceScope::from_config(Some("")).unwrap_or_default(), EnforceScope::Error);
    }
}
