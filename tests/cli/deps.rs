//! `deps`: text, dot, mermaid and JSON.

use crate::common::TestRepo;

const TASKS: &str = "## Phase 1: Setup\n\n- [x] T001 Setup\n- [ ] T002 [P] A\n- [ ] T003 [P] B\n\n## Phase 2: Core\n\n- [ ] T004 Core\n";

#[test]
fn text_dot_mermaid_and_json() {
    let repo = TestRepo::with_tasks(TASKS);
    assert_eq!(
        repo.par(&["deps"]).success().stdout,
        "[x] T001\n[ ] T002 <- T001\n[ ] T003 <- T001\n[ ] T004 <- T002, T003\n"
    );
    assert_eq!(
        repo.par(&["deps", "--format", "dot"]).success().stdout,
        "digraph tasks {\n  rankdir=LR;\n  \"T001\" [label=\"T001\", style=filled, fillcolor=\"#d4f7d4\"];\n  \"T002\" [label=\"T002\"];\n  \"T003\" [label=\"T003\"];\n  \"T004\" [label=\"T004\"];\n  \"T001\" -> \"T002\";\n  \"T001\" -> \"T003\";\n  \"T002\" -> \"T004\";\n  \"T003\" -> \"T004\";\n}\n"
    );
    assert_eq!(
        repo.par(&["deps", "--format", "mermaid"]).success().stdout,
        "graph TD\n  T001[\"T001\"]:::done\n  T002[\"T002\"]\n  T003[\"T003\"]\n  T004[\"T004\"]\n  T001 --> T002\n  T001 --> T003\n  T002 --> T004\n  T003 --> T004\n  classDef done fill:#d4f7d4\n"
    );
    // JSON names the [P] group T004 waits for once, as a barrier.
    let json = repo.par(&["--json", "deps"]).success().json();
    assert_eq!(
        json["edges"],
        serde_json::json!([
            {"from": "T001", "to": "T002"},
            {"from": "T001", "to": "T003"},
            {"from": "T002..T003", "to": "T004"}
        ])
    );
    assert_eq!(json["groups"], serde_json::json!([{"name": "T002..T003", "members": ["T002", "T003"]}]));
    repo.par(&["deps", "--format", "svg"]).code(2);
}
