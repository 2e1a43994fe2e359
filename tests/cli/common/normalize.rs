//! The one place where what differs from host to host and run to run is
//! replaced in the output tests compare: this machine's host name (part of
//! every task owner) becomes `host`, the binary's path `[BIN]`, and the
//! temporary directory holding the test repository `[TMP]`.

use git_par::state::Owner;

use super::{bin, Run, TestRepo};

/// `text` with this machine's host name, part of every task owner, replaced by `host`.
pub fn hostless(text: &str) -> String {
    text.replace(&format!("tester@{}", Owner::current().host), "tester@host")
}

impl TestRepo {
    /// `text` with the host name, the binary's path and the temporary
    /// directory (as given and as resolved) replaced by stable names.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = hostless(text).replace(bin().to_str().unwrap(), "[BIN]");
        // The resolved directory first: it may contain the one given (`/private/tmp/x` and `/tmp/x`).
        let resolved = self.root.parent().unwrap().to_string_lossy().into_owned();
        out = out.replace(&resolved, "[TMP]");
        let given = self.tmp.path().to_string_lossy().into_owned();
        if given != resolved {
            out = out.replace(&given, "[TMP]");
        }
        out
    }
}

impl Run {
    /// Stderr with the host name of task owners replaced by `host`.
    pub fn stderr_hostless(&self) -> String {
        hostless(&self.stderr)
    }

    /// Stdout as JSON (checked for `"version": 1`), the host name of task owners replaced by `host`.
    #[track_caller]
    pub fn json_hostless(&self) -> serde_json::Value {
        self.json();
        serde_json::from_str(&hostless(&self.stdout)).unwrap()
    }

    /// The whole snapshot (exit code, stdout, stderr), normalised.
    pub fn snapshot_in(&self, repo: &TestRepo) -> String {
        repo.normalize(&self.snapshot())
    }

    /// Exit code and stderr, normalised: what a refusal says.
    pub fn refusal_in(&self, repo: &TestRepo) -> String {
        repo.normalize(&format!("exit {}\n{}", self.code, self.stderr))
    }
}
