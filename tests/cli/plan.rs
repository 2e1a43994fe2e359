//! `plan`: waves of ready `[P]` tasks.

use serde_json::json;

use crate::common::{TestRepo, LIST_PLAN};

#[test]
fn waves_keep_overlapping_paths_and_http_tasks_apart() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let json = repo.par(&["--json", "plan"]).success().json();
    assert_eq!(json["waves"], json!([["T002", "T003", "T004"], ["T005", "T006"]]));
}

#[test]
fn limit_flag_and_config() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let json = repo.par(&["--json", "plan", "--limit", "http=2"]).success().json();
    assert_eq!(json["waves"], json!([["T002", "T003", "T004", "T005"], ["T006"]]));
    repo.git(&["config", "par.limit.http", "2"]);
    let json = repo.par(&["--json", "plan"]).success().json();
    assert_eq!(json["waves"], json!([["T002", "T003", "T004", "T005"], ["T006"]]));
    repo.par(&["plan", "--limit", "http"]).code(2);
}

#[test]
fn human_output_shows_paths_and_classes() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let run = repo.par(&["plan"]).success();
    assert_eq!(
        run.stdout,
        "wave 1
  T002 Add loader in src/data/loader.py
      src/data/loader.py
  T003 Add pricing in `src/pricing/bs.py`
      src/pricing/bs.py
  T004 [http] Fetch quotes into src/data/quotes.py
      src/data/quotes.py
wave 2
  T005 [http] Fetch rates into src/data/rates.py
      src/data/rates.py
  T006 Normalise loader output in src/data/loader.py
      src/data/loader.py

start the first wave: git par start T002 T003 T004
"
    );
}
