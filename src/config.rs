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
}

impl EnforceScope {
    /// Reads a `par.enforceScope` value; anything unknown (or unset) is the strict default.
    pub fn from_config(value: Option<&str>) -> EnforceScope {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("warn") => EnforceScope::Warn,
            Some("off") | Some("false") => EnforceScope::Off,
            _ => EnforceScope::Error,
        }
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
}

impl Config {
    /// Reads the settings visible from `repo` (local, global, system).
    pub fn load(repo: &Repo) -> Result<Config> {
        let mut cfg = repo.git.config().context("reading git config")?;
        let cfg = cfg.snapshot().context("reading git config")?;
        let get = |key: &str| -> Option<String> { cfg.get_string(key).ok() };
        let mut config = Config {
            tasks: get("par.tasks"),
            main_branch: get("par.mainBranch"),
            worktree_dir: get("par.worktreeDir"),
            branch_prefix: get("par.branchPrefix").unwrap_or_else(|| "par/".to_string()),
            verify: get("par.verify"),
            enforce_scope: EnforceScope::from_config(get("par.enforceScope").as_deref()),
            log_dir: get("par.logDir").unwrap_or_else(|| "logs/parallel".to_string()),
            command: get("par.command"),
            remote: get("par.remote"),
            ..Config::default()
        };
        let mut entries = cfg.entries(Some(r"^par\.")).context("reading git config")?;
        while let Some(entry) = entries.next() {
            let entry = entry.context("reading git config")?;
            let (Some(name), Some(value)) = (entry.name(), entry.value()) else { continue };
            let lower = name.to_ascii_lowercase();
            if lower == "par.paneenv" {
                config.pane_env.push(value.to_string());
            } else if let Some(class) = name.strip_prefix("par.class.") {
                let labels = value.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string);
                config.classes.entry(class.to_ascii_lowercase()).or_default().extend(labels);
            } else if let Some(class) = name.strip_prefix("par.limit.") {
                if let Ok(n) = value.trim().parse() {
                    config.limits.insert(class.to_ascii_lowercase(), n);
                }
            }
        }
        Ok(config)
    }
}
