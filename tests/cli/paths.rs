//! Path resolution against the repository (DESIGN §3 "Paths on real
//! plans"): one task of `fixtures/tasks/resolve/tasks.md` per rule, read by
//! the real binary in a repository whose tracked tree and `plan.md` decide.

use serde_json::Value;

use crate::common::{fixtures, TestRepo};

/// The fixture plan in a repository with the files its rules need.
pub fn resolve_repo() -> TestRepo {
    let dir = fixtures().join("tasks/resolve");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    TestRepo::with_files(&[
        ("specs/001-resolve/tasks.md", &read("tasks.md")),
        ("specs/001-resolve/plan.md", &read("plan.md")),
        ("README.md", "demo\n"),
        ("services/billing/Program.cs", "x\n"),
        ("services/billing/appsettings.json", "{}\n"),
        ("services/billing/Models/Customer.cs", "x\n"),
        ("services/orders/Program.cs", "x\n"),
        ("db/schema/init.sql", "x\n"),
        ("cli/render/table.go", "x\n"),
        ("tools/scripts/old.ts", "x\n"),
        ("web/src/app.ts", "x\n"),
        ("web/src/format.ts", "x\n"),
        ("web/src/theme.css", "x\n"),
        ("app/__init__.py", "x\n"),
        ("pkg/__init__.py", "x\n"),
        ("lib/helpers.py", "x\n"),
        ("tests/helpers.py", "x\n"),
    ])
}

/// `id → (paths as "path@from", rejected as "text: reason")` from `list --json`.
fn outcome(json: &Value, id: &str) -> (Vec<String>, Vec<String>) {
    let task = json["tasks"].as_array().unwrap().iter().find(|t| t["id"] == id).expect(id);
    let paths: Vec<String> = task["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}@{}", r["path"].as_str().unwrap(), r["from"].as_str().unwrap()))
        .collect();
    let plain: Vec<&str> = task["paths"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let from_resolved: Vec<&str> = paths.iter().map(|p| p.split('@').next().unwrap()).collect();
    assert_eq!(plain, from_resolved, "{id}: paths and resolved agree");
    let rejected = task["rejected_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}: {}", r["path"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    (paths, rejected)
}

#[test]
fn every_rule_of_design_3_on_its_own_task() {
    let repo = resolve_repo();
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<String>, Vec<String>)> = vec![
        // Explicit declarations win: the Files line, not the prose.
        ("T001", s(&["services/billing/Program.cs@written", "services/billing/appsettings.json@written"]), s(&[])),
        ("T002", s(&["web/src/settings.ts@written", "web/src/loader.ts@written"]), s(&[])),
        // A leading slash is the root...
        ("T003", s(&["db/schema/users.sql@root-slash"]), s(&[])),
        // ...unless it is a route or clearly outside.
        (
            "T004",
            s(&[]),
            s(&[
                "/api/users/{id}: an HTTP route, not a path",
                "/.well-known/health: an HTTP route, not a path",
                "/etc/hosts: absolute path: lock patterns are relative to the repository root",
            ]),
        ),
        (
            "T005",
            s(&["db/schema/audit.sql@root-slash"]),
            s(&["/var/log/audit.log: absolute path: lock patterns are relative to the repository root"]),
        ),
        // Bare names join the directory the task gives them.
        ("T006", s(&["cli/render/table.go@written", "cli/render/json.go@task-dir", "cli/render/yaml.go@task-dir"]), s(&[])),
        ("T007", s(&["tools/scripts/sync.ts@task-dir"]), s(&[])),
        ("T008", s(&["services/billing/Models/Invoice.cs@task-dir"]), s(&[])),
        // Tracked in two places and nothing says which: ambiguous, not locked at the root.
        (
            "T009",
            s(&[]),
            s(&["Program.cs: ambiguous: could be services/billing/Program.cs, services/orders/Program.cs (write the full path, or add a `Files:` line)"]),
        ),
        (
            "T010",
            s(&[]),
            s(&["helpers.py: ambiguous: could be lib/helpers.py, tests/helpers.py (write the full path, or add a `Files:` line)"]),
        ),
        // A tracked directory written without its slash is a directory.
        ("T011", s(&["cli/render/@written"]), s(&[])),
        // The heading's directory, with plan.md's tree saying Startup.cs belongs there.
        ("T012", s(&["services/billing/Startup.cs@heading"]), s(&[])),
        ("T013", s(&["services/billing/Endpoints/@heading", "services/billing/Models/@task-dir"]), s(&[])),
        // Not paths, each with its reason.
        (
            "T014",
            s(&[]),
            s(&[".{agent}/commands/: a placeholder, not a path", "<name>.md: a placeholder, not a path"]),
        ),
        (
            "T015",
            s(&["web/src/app.ts@written"]),
            s(&[
                "github.com/acme/retry: a package or module name, not a path",
                "shadcn/ui: a package or module name, not a path",
            ]),
        ),
        (
            "T016",
            s(&[".gitignore@written"]),
            s(&[
                "node_modules/: a pattern written into an ignore file, not a path",
                "dist/: a pattern written into an ignore file, not a path",
            ]),
        ),
        (
            "T017",
            s(&["web/src/report.ts@written"]),
            s(&[
                "web/src/format.ts: only read or called by the task, not written",
                "contracts/report.yaml: only read or called by the task, not written",
            ]),
        ),
        (
            "T018",
            s(&["web/src/theme-dark.css@written"]),
            s(&["web/src/theme.css: only read or called by the task, not written"]),
        ),
        // Emphasis never eats a name's underscores.
        ("T019", s(&["app/__init__.py@task-dir"]), s(&[])),
        ("T020", s(&[]), s(&["web/src/app.ts: only read or called by the task, not written"])),
        ("T021", s(&["web/src/alpha.ts@written", "web/src/beta.ts@written"]), s(&[])),
        // A check reads what it names, `in X` included, up to a verb that writes.
        (
            "T022",
            s(&[]),
            s(&[
                "web/src/app.ts: only read or called by the task, not written",
                "lib/helpers.py: only read or called by the task, not written",
            ]),
        ),
        (
            "T023",
            s(&["web/src/report.ts@written"]),
            s(&["web/src/format.ts: only read or called by the task, not written"]),
        ),
        // A documentation task writes where the documentation goes, not its subject.
        (
            "T024",
            s(&["docs/theming.md@written"]),
            s(&[
                "web/src/theme.css: the subject the task documents, not a file it writes",
                "web/src/theme-dark.css: the subject the task documents, not a file it writes",
            ]),
        ),
        ("T025", s(&[]), s(&["billing.toml: the subject the task documents, not a file it writes"])),
        // What the task must not write is not locked.
        (
            "T026",
            s(&["db/schema/init.sql@written"]),
            s(&[
                "db/schema/legacy.sql: named as what the task must not write",
                "db/schema/archive.sql: named as what the task must not write",
                "tools/scripts/old.ts: named as what the task must not write",
            ]),
        ),
        // A well-known file without an extension, as a bare word.
        ("T027", s(&["Makefile@written"]), s(&[])),
        // A link to a spec document is no repository path, like its bare name.
        ("T028", s(&["web/src/limits.ts@written"]), s(&[])),
        // A bare name the task also writes in full, and a directory named as
        // the context of a file in it, are that one file.
        ("T029", s(&["web/package.json@root-slash"]), s(&[])),
        ("T030", s(&["services/mailer/main.go@root-slash"]), s(&[])),
    ];
    let mut failures = Vec::new();
    for (id, paths, rejected) in cases {
        let got = outcome(&json, id);
        if got != (paths.clone(), rejected.clone()) {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {:?}", (paths, rejected)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The plan of `fixtures/tasks/carry/`: tasks that name no path but write
/// the file they continue (DESIGN §3: a name joins "an earlier task it
/// continues" and `plan.md`'s project tree).
fn carry_repo() -> TestRepo {
    let dir = fixtures().join("tasks/carry");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    TestRepo::with_files(&[
        ("specs/002-clock/tasks.md", &read("tasks.md")),
        ("specs/002-clock/plan.md", &read("plan.md")),
        ("README.md", "clock\n"),
        ("guide/intro.md", "intro\n"),
        ("assets/icons/sun.svg", "<svg/>\n"),
        ("services/a/Program.cs", "x\n"),
        ("services/b/Program.cs", "x\n"),
    ])
}

/// `id → [(path, from, text)]` from `list --json`.
fn carried(json: &Value, id: &str) -> Vec<(String, String, String)> {
    let task = json["tasks"].as_array().unwrap().iter().find(|t| t["id"] == id).expect(id);
    task["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_string();
            (field("path"), field("from"), field("text"))
        })
        .collect()
}

#[test]
fn a_task_that_names_no_path_carries_the_file_it_continues() {
    let repo = carry_repo();
    let json = repo.par(&["--json", "list"]).success().json();
    let one =
        |path: &str, from: &str, text: &str| vec![(path.to_string(), from.to_string(), text.to_string())];
    let none: Vec<(String, String, String)> = Vec::new();
    let widget = "widgets/clock/WIDGET.md";
    let cases = vec![
        ("T001", one(widget, "written", widget)),
        // Points back at the file of the task before it in its section.
        ("T002", one(widget, "heading", "continues T001")),
        ("T003", one("guide/intro.md", "written", "guide/intro.md")),
        // Its story has written one file so far.
        ("T004", one("guide/intro.md", "heading", "continues T003")),
        // A check writes nothing and carries nothing.
        ("T005", none.clone()),
        // The documented `clock.toml` is no file it writes; the story's file is.
        ("T006", one("guide/intro.md", "heading", "continues T003")),
        // A term of the Path Conventions glossary, written into.
        ("T007", one(widget, "plan", "widget")),
        // The plan's only written file (the icons are only read).
        ("T008", one(widget, "plan", "the plan's only file")),
        // A check by its nouns ("proofreading and link checking").
        ("T009", none.clone()),
        ("T010", one("guide/alarms.md", "written", "guide/alarms.md")),
        ("T011", one("guide/timers.md", "written", "guide/timers.md")),
        // Its story wrote two files: no guess, not even the plan's only file.
        ("T012", none.clone()),
        // A spec document named alone, changed: the spec folder's.
        ("T013", one("specs/002-clock/quickstart.md", "heading", "quickstart.md")),
        // An ambiguous name is reported, not papered over by the plan's file.
        ("T014", none.clone()),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let got = carried(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // `show` says where a carried path came from.
    let show = repo.par(&["show", "T004"]).success();
    assert!(show.stdout.contains("guide/intro.md (heading: continues T003)"), "{}", show.stdout);
    // A pathless task that carried nothing still runs alone, and lint says
    // so; the checks among them (T005, T009) write nothing and are no problem.
    let lint = repo.par(&["--json", "lint"]).json();
    let no_paths: Vec<&str> = lint["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "no-paths")
        .map(|p| p["task"].as_str().unwrap())
        .collect();
    assert_eq!(no_paths, ["T012", "T014"]);
}

/// A `Files:` line is the author's own list of repository paths: it is
/// taken as written, never joined to the directory of the task before, and
/// no join compounds a directory onto itself (`data/` + `data/` was
/// `data/data/`, and the next task's `out/` became `data/data/out/`).
#[test]
fn a_declaration_is_taken_as_written_and_joins_never_compound() {
    let tasks = std::fs::read_to_string(fixtures().join("tasks/declared-as-written.md")).expect("fixture");
    // Nothing tracked but the plan: no tree to resolve against.
    let repo = TestRepo::with_files(&[("specs/001-data/tasks.md", &tasks)]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        ("T001", s(&["data/a.txt@written"])),
        ("T002", s(&["data/@written"])),
        // The task before locks a directory as a whole: an open set that
        // says nothing about where this task's new directory goes.
        ("T003", s(&["out/@written"])),
        // A bare name in a declaration is at the root, as written.
        ("T004", s(&["rows.csv@written", "data/rows/@written"])),
        ("T005", s(&["samples/x.txt@written", "samples/y.txt@written"])),
        // The task before lends `samples/`; `samples/` itself is not `samples/samples/`.
        ("T006", s(&["samples/@written", "samples/index.txt@written"])),
        // A dot-file with a directory is a path like any other (it was dropped).
        ("T007", s(&["web/.gitignore@written"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want || !rejected.is_empty() {
            failures.push(format!("{id}:\n  got      {got:?} {rejected:?}\n  expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A setup step that names no file writes its ecosystem's manifest or lock
/// file; a CI workflow a task runs something in is the file it edits.
#[test]
fn setup_steps_lock_their_manifest_and_ci_steps_their_workflow() {
    let tasks = std::fs::read_to_string(fixtures().join("tasks/setup-files.md")).expect("fixture");
    // A Go module at the root makes "install dependencies" a go.mod/go.sum change.
    let repo = TestRepo::with_files(&[("specs/001-setup/tasks.md", &tasks), ("go.mod", "module x\n")]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        ("T001", s(&["go.mod@written"])),
        ("T002", s(&["go.mod@written", "go.sum@written"])),
        ("T003", s(&["bun.lock@written"])),
        // `pnpm install` holds `npm install`; the longer command is the one named.
        ("T004", s(&["pnpm-lock.yaml@written"])),
        ("T005", s(&[".github/workflows/ci.yml@written"])),
        // Checks write nothing.
        ("T006", s(&[])),
        // A task that names its file keeps it alone.
        ("T007", s(&["package.json@written"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, _) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Without a Go module, installing dependencies names no file to lock.
    let plain = TestRepo::with_files(&[("specs/001-setup/tasks.md", &tasks)]);
    let json = plain.par(&["--json", "list"]).success().json();
    assert_eq!(outcome(&json, "T002").0, Vec::<String>::new());
}

/// A bare name that no tracked file has continues the one file of that
/// name an earlier task writes (`.razor` is a file extension); two such
/// files make it ambiguous, never a lock at the root.
#[test]
fn a_bare_name_continues_the_file_an_earlier_task_made() {
    let tasks = std::fs::read_to_string(fixtures().join("tasks/continues-earlier.md")).expect("fixture");
    let repo = TestRepo::with_files(&[("specs/001-pages/tasks.md", &tasks), ("src/web/Program.cs", "x\n")]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(outcome(&json, "T002").0, s(&["src/web/Pages/RideList.razor@heading"]));
    assert_eq!(outcome(&json, "T005").0, s(&["src/core/Services/Weather.cs@heading"]));
    let (got, rejected) = outcome(&json, "T006");
    assert_eq!(got, Vec::<String>::new());
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].contains("ambiguous: could be src/a/Notes.cs, src/b/Notes.cs"), "{rejected:?}");
}

#[test]
fn what_a_task_only_names_is_not_locked() {
    let tasks = std::fs::read_to_string(fixtures().join("tasks/named-not-written.md")).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/001-named/tasks.md", &tasks),
        ("README.md", "r\n"),
        ("package.json", "{}\n"),
        ("pricing.py", "x\n"),
        ("schemas.py", "x\n"),
        ("models.py", "x\n"),
        ("api.py", "x\n"),
        ("web/pages/cart.tsx", "x\n"),
        ("lib/runner.ts", "x\n"),
        ("docs/contracts/README.md", "x\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        // A tool's dot-file is a file name.
        ("T001", s(&[".eslintrc@written"])),
        ("T002", s(&[".npmrc@written", ".nvmrc@written"])),
        // An import specifier names the module read, not a file written.
        ("T003", s(&["lib/main.ts@written"])),
        // A test task writes its test file; the code under test is read.
        ("T004", s(&["tests/test_pricing.py@written"])),
        ("T005", s(&["tests/test_flow.py@written"])),
        // "Review and refine" writes.
        ("T006", s(&["lib/runner.ts@written"])),
        // A check that refines one file writes it; what it then confirms is read.
        ("T007", s(&["package.json@written"])),
        // What a document describes is its subject.
        ("T008", s(&["docs/pricing.md@written"])),
        ("T009", s(&["docs/contracts/openapi.json@written"])),
        // The task before lends its directory to its continuation, not to a root file.
        ("T010", s(&["README.md@written"])),
        ("T012", s(&["README.md@written"])),
        // Code and its tests in one task: both written.
        ("T013", s(&["pricing.py@written", "tests/test_pricing.py@written"])),
        // What the written thing links to, or is made consistent with, is read.
        ("T014", s(&["web/pages/cart.tsx@written"])),
        ("T015", s(&["schemas.py@written"])),
        // In a task about endpoints, `/carts/` that names nothing here is a route;
        // `/docs/` names a tracked directory.
        ("T016", s(&["api.py@written"])),
        ("T017", s(&["docs/@root-slash"])),
        // Anchored patterns in an ignore file are its content.
        ("T018", s(&[".gitignore@written"])),
        // What a build writes under target/ (not tracked) is no file a task commits.
        ("T019", s(&[])),
        // Recording results writes the file they go in.
        ("T020", s(&["docs/perf.md@written"])),
        // A project generator writes a scaffold no name says: pathless (it acquires).
        ("T021", s(&[])),
        // A test task that names no file writes the test file whose name it uses;
        // a task that is no test task does not.
        ("T024", s(&["tests/unit/CartTotalsTest.java@heading"])),
        ("T025", s(&[])),
        // Joined into an untracked build-output directory: output too (as `node_modules/cache.py` is).
        ("T026", s(&[])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What is not locked is reported with its reason.
    let reasons = |id: &str| outcome(&json, id).1;
    assert!(reasons("T003").iter().any(|r| r.starts_with("./runner.js: only read")), "{:?}", reasons("T003"));
    assert!(
        reasons("T004").iter().any(|r| r == "pricing.py: the code under test, which a test task reads"),
        "{:?}",
        reasons("T004")
    );
    assert!(reasons("T005").iter().any(|r| r.starts_with("web/pages/cart.tsx: the code under test")));
    assert!(
        reasons("T007").iter().any(|r| r.starts_with("dist/main.js: only read")),
        "{:?}",
        reasons("T007")
    );
    assert!(reasons("T008").iter().any(|r| r.starts_with("pricing.py: only read")), "{:?}", reasons("T008"));
    assert!(
        reasons("T016").iter().any(|r| r == "/carts/: an HTTP route, not a path"),
        "{:?}",
        reasons("T016")
    );
}

/// `fixtures/tasks/names-code/`: tasks that name no path but a piece of
/// code (`in LoanPage`, `invoice_builder`), a section built around one new
/// file, a directory and the identifier made in it, and the other rules
/// the fifth round of real plans showed (issue 11).
#[test]
fn a_task_that_names_code_writes_the_file_of_that_name() {
    let dir = fixtures().join("tasks/names-code");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/003-shelf/tasks.md", &read("tasks.md")),
        ("specs/003-shelf/plan.md", &read("plan.md")),
        ("specs/003-shelf/contracts/api.yaml", "openapi: 3.1.0\n"),
        ("requirements.txt", "x\n"),
        ("server/requirements.txt", "x\n"),
        ("server/settings.py", "x\n"),
        ("server/billing/invoice_builder.py", "x\n"),
        ("server/BookShelf.cs", "x\n"),
        ("web/src/BookShelf.ts", "x\n"),
        ("server/events/LoanReturned.py", "x\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        // The directory named right before a bare name has that file.
        ("T001", s(&["server/requirements.txt@task-dir"])),
        // A tool's settings file stays at the root after a task about docs/.
        ("T003", s(&[".editorconfig@written"])),
        // An identifier where the task writes: the file an earlier task made, or a tracked one.
        ("T012", s(&["web/src/pages/LoanPage.tsx@heading"])),
        ("T013", s(&["server/billing/invoice_builder.py@heading"])),
        // Used, named by two files, or named with no word of where it writes: no lock.
        ("T014", s(&[])),
        ("T015", s(&[])),
        ("T017", s(&[])),
        // The identifier a task creates in a directory: the plan's file, or one
        // with the extension every file there has.
        ("T018", s(&["server/Core/Interfaces/ILoanStore.cs@task-dir"])),
        ("T019", s(&["web/src/hooks/useLoans.ts@task-dir"])),
        // The plan's own contract, built from, is read.
        ("T020", s(&["server/routes/loans.py@written"])),
        // A section around one new file: its next tasks fill it...
        ("T031", s(&["server/reminders.py@heading"])),
        ("T032", s(&["server/reminders.py@heading"])),
        // ...but not a `[P]` task beside it, nor after a change to an existing file.
        ("T034", s(&[])),
        ("T036", s(&[])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let reasons = |id: &str| outcome(&json, id).1;
    assert!(
        reasons("T015").iter().any(
            |r| r.starts_with("BookShelf: ambiguous: could be server/BookShelf.cs, web/src/BookShelf.ts")
        ),
        "{:?}",
        reasons("T015")
    );
    assert!(
        reasons("T020").iter().any(|r| r.starts_with("contracts/api.yaml: only read")),
        "{:?}",
        reasons("T020")
    );
    // `lint` shows the ambiguous identifier with its candidates.
    let lint = repo.par(&["lint"]).code(1);
    assert!(lint.stdout.contains("BookShelf") || lint.stderr.contains("BookShelf"), "{lint:?}");
}

/// Where a path goes when the plan says it another way (issue 11, sixth
/// round of real plans): a placeholder for the root, an extension written
/// after its file, the plan's tree over an older tracked namesake, the
/// directory earlier tasks write, an identifier in another case, the lock
/// file beside a manifest; and what is no path (a pattern followed, the
/// content code generates, a product's name).
#[test]
fn paths_written_another_way_are_placed_where_the_plan_means() {
    let dir = fixtures().join("tasks/placed");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/004-harbour/tasks.md", &read("tasks.md")),
        ("specs/004-harbour/plan.md", &read("plan.md")),
        ("app2/README.md", "x\n"),
        ("legacy/backend/requirements.txt", "x\n"),
        ("Cargo.toml", "[package]\n"),
        ("Cargo.lock", "# lock\n"),
        ("server/report_service.py", "x\n"),
        ("src/http.rs", "x\n"),
        ("src/fetch.rs", "x\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        // A placeholder for the repository's root is the root.
        ("T001", s(&["config/settings.json@root-slash"])),
        ("T002", s(&["config/README.md@root-slash"])),
        // The plan's tree places the file, not the only tracked one elsewhere.
        ("T003", s(&["app2/backend/requirements.txt@plan"])),
        // A dependency changes the tracked lock file beside the manifest; a description does not.
        ("T004", s(&["Cargo.toml@written", "Cargo.lock@tree"])),
        ("T005", s(&["Cargo.toml@written"])),
        // `X.axaml` + `.axaml.cs`: both files.
        ("T010", s(&["ui/Views/AboutDialog.axaml@written", "ui/Views/AboutDialog.axaml.cs@task-dir"])),
        // A path relative to the directory an earlier task writes.
        ("T012", s(&["tools/go/pkg/scanner/doc.go@heading"])),
        // `ReportService` names report_service.py.
        ("T013", s(&["server/report_service.py@heading"])),
        // The pattern followed, the content generated, a product: no lock.
        ("T014", s(&["src/fetch.rs@written"])),
        ("T015", s(&["src/scaffold.go@written"])),
        ("T016", s(&[])),
        // `services/` could be a new top-level directory, but the plan has the file under app2/.
        ("T017", s(&["app2/services/storage.py@plan"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let reasons = |id: &str| outcome(&json, id).1;
    assert!(reasons("T014").iter().any(|r| r.starts_with("src/http.rs: only read")), "{:?}", reasons("T014"));
    assert!(
        reasons("T015").iter().any(|r| r.starts_with("Dockerfile: the content")),
        "{:?}",
        reasons("T015")
    );
    assert!(
        reasons("T016").iter().any(|r| r.starts_with("TypeScript/Node.js: a product")),
        "{:?}",
        reasons("T016")
    );
}

/// A plan whose paths are relative to a project inside the repository
/// (issue 11, seventh round of real plans): the directory the plan names,
/// found by the tail the repository tracks; the plan's tree drawn from that
/// project; a type's member naming the type; a directory named in words; a
/// root file the plan draws only in a subproject; `LICENSE` as a word.
#[test]
fn paths_relative_to_the_project_the_plan_names_are_placed_inside_it() {
    let dir = fixtures().join("tasks/based");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/005-documents/tasks.md", &read("tasks.md")),
        ("specs/005-documents/plan.md", &read("plan.md")),
        ("tools/Harbour/appsettings.json", "{}\n"),
        ("tools/Harbour/Program.cs", "x\n"),
        ("tools/Harbour/Data/HarbourDbContext.cs", "x\n"),
        ("tools/Other/appsettings.json", "{}\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        ("T001", s(&["tools/Harbour/appsettings.json@heading"])),
        ("T002", s(&["tools/Harbour/Services/IStore.cs@heading"])),
        ("T003", s(&["tools/Harbour/Pages/Documents.razor@plan"])),
        ("T004", s(&["tools/Harbour/Data/HarbourDbContext.cs@heading"])),
        ("T005", s(&["tools/Harbour/Widgets/@plan"])),
        ("T006", s(&["LICENSE@written"])),
        ("T007", s(&["Cargo.toml@written"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn detail_notes_members_settings_and_spelled_ids_are_read_as_the_plan_means() {
    let dir = fixtures().join("tasks/noted");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/008-reports/tasks.md", &read("tasks.md")),
        ("README.md", "# project\n"),
        ("docs/guide/index.md", "x\n"),
        ("docs/standards/csharp.md", "x\n"),
        ("Forms/ReportForm.cs", "x\n"),
        ("Forms/ReportForm.Designer.cs", "x\n"),
        ("Data/Exports/.keep", ""),
        ("package.json", "{}\n"),
        ("package-lock.json", "{}\n"),
        ("tsconfig.json", "{}\n"),
        ("src/index.ts", "x\n"),
        ("api/auth.py", "x\n"),
        ("api/main.py", "x\n"),
        ("CHANGELOG.md", "x\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        // The Path Conventions section places the overview in the guide directory.
        ("T001", s(&["docs/guide/README.md@plan"])),
        ("T002", s(&["Services/ReportQueue.cs@written"])),
        // A member names its type's file; the completion note is no instruction.
        ("T003", s(&["Services/ReportQueue.cs@heading"])),
        // `ReportForm.cs`, not its designer half.
        ("T004", s(&["Forms/ReportForm.cs@heading"])),
        ("T005", s(&["Forms/ReportForm.cs@heading"])),
        // The file the review follows is read, by its full path and its bare name.
        ("T006", s(&[])),
        ("T007", s(&["package.json@written"])),
        ("T008", s(&["package.json@written", "package-lock.json@written"])),
        ("T009", s(&[])),
        ("T010", s(&["src/index.ts@written"])),
        ("T011", s(&["api/main.py@written"])),
        ("TASK-012", s(&["CHANGELOG.md@written"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    let rejected = |id: &str| outcome(&json, id).1.join("\n");
    assert!(rejected("T002").contains("docs/standards/csharp.md: only read"), "{}", rejected("T002"));
    assert!(rejected("T006").contains("csharp.md: only read"), "{}", rejected("T006"));
    assert!(
        rejected("T007").contains("workspaceContains:**/pom.xml: a setting's value"),
        "{}",
        rejected("T007")
    );
    assert!(rejected("T010").contains("console.log: a call in code"), "{}", rejected("T010"));
    assert!(rejected("T011").contains("api/auth.py: only read"), "{}", rejected("T011"));
    let deps = json["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "TASK-013").expect("TASK-013")
        ["deps"]
        .clone();
    assert_eq!(deps, serde_json::json!(["TASK-012"]));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn route_files_type_methods_and_installs_are_placed_where_the_plan_means() {
    let dir = fixtures().join("tasks/routes");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("fixture");
    let repo = TestRepo::with_files(&[
        ("specs/009-sharing/tasks.md", &read("tasks.md")),
        ("specs/009-sharing/plan.md", &read("plan.md")),
        ("web/package.json", "{}\n"),
        ("web/package-lock.json", "{}\n"),
        ("admin/package.json", "{}\n"),
        ("app/api/projects/route.ts", "x\n"),
        ("src/models/__pycache__/invite.cpython-313.pyc", "x\n"),
        ("legacy/invite_store.py", "x\n"),
        ("src/mailer.py", "x\n"),
        ("src/__pycache__/mailer.cpython-313.pyc", "x\n"),
    ]);
    let json = repo.par(&["--json", "list"]).success().json();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        // The package goes into that project's manifest and lock file, not all of web/.
        ("T001", s(&["web/package.json@written", "web/package-lock.json@tree"])),
        ("T002", s(&["admin/package.json@written", "admin/pnpm-lock.yaml@tree"])),
        // A route's handler file is a file, under the one `api/` directory the app has.
        ("T003", s(&["app/api/projects/[projectId]/invite/route.ts@root-slash"])),
        ("T004", s(&["app/api/projects/[projectId]/members/route.ts@root-slash"])),
        ("T005", s(&[])),
        ("T006", s(&["src/models/invite.py@written"])),
        // `Type.method()`: the type's source file, not its compiled copy; the plan's, not an older one.
        ("T007", s(&["src/models/invite.py@heading"])),
        ("T008", s(&["src/services/invite_store.py@heading"])),
        ("T009", s(&["src/mailer.py@heading"])),
    ];
    let mut failures = Vec::new();
    for (id, want) in cases {
        let (got, rejected) = outcome(&json, id);
        if got != want {
            failures.push(format!("{id}:\n  got      {got:?}\n  expected {want:?}\n  rejected {rejected:?}"));
        }
    }
    let rejected = outcome(&json, "T005").1.join("\n");
    assert!(rejected.contains("/api/projects/{id}: an HTTP route"), "{rejected}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
