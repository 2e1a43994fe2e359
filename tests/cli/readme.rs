//! The README keeps its promises: every `git par` command it shows parses,
//! its Contents links every section, its agent instructions are what
//! `git par agent-guide` prints, and its install and pre-commit snippets work.

use std::path::Path;

use clap::Parser as _;
// The command line is the binary's: its clap definitions are compiled here on their own.
#[allow(dead_code)]
#[path = "../../src/cli.rs"]
mod cli;

use cli::Cli;

use crate::common::TestRepo;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// A fenced code block: its language and its text.
struct Block {
    lang: String,
    text: String,
}

/// The code blocks, and the text outside them.
fn split(markdown: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<Block> = None;
    for line in markdown.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some(Block { lang: lang.trim().to_string(), text: String::new() }),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    (blocks, prose)
}

/// Splits a shell line into commands of words, the way sh reads it (quotes,
/// comments, `&&`, `||`, `;`, `|`, `&`); a `$(...)` is a command of its own.
fn commands(line: &str, out: &mut Vec<Vec<String>>) {
    let chars: Vec<char> = line.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut i = 0;
    let end_command = |words: &mut Vec<String>, word: &mut Option<String>, out: &mut Vec<Vec<String>>| {
        words.extend(word.take());
        if !words.is_empty() {
            out.push(std::mem::take(words));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' if word.is_none() => break,
            ' ' | '\t' => words.extend(word.take()),
            ';' | '|' | '&' => end_command(&mut words, &mut word, out),
            '\'' => {
                let close = chars[i + 1..].iter().position(|&c| c == '\'').expect("unclosed '") + i + 1;
                word.get_or_insert_with(String::new).extend(&chars[i + 1..close]);
                i = close;
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                i += 1;
                while chars[i] != '"' {
                    if chars[i] == '$' && chars.get(i + 1) == Some(&'(') {
                        i = substitution(&chars, i, out);
                        w.push_str("SUBSTITUTED");
                    } else {
                        if chars[i] == '\\' {
                            i += 1;
                        }
                        w.push(chars[i]);
                    }
                    i += 1;
                }
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                i = substitution(&chars, i, out);
                word.get_or_insert_with(String::new).push_str("SUBSTITUTED");
            }
            '\\' => {
                i += 1;
                word.get_or_insert_with(String::new).push(chars[i]);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
        i += 1;
    }
    end_command(&mut words, &mut word, out);
}

/// Reads the command inside `$(` at `at`; returns the index of its `)`.
fn substitution(chars: &[char], at: usize, out: &mut Vec<Vec<String>>) -> usize {
    let mut depth = 0;
    for (j, &c) in chars.iter().enumerate().skip(at + 1) {
        match c {
            '(' => depth += 1,
            ')' if depth == 1 => {
                commands(&chars[at + 2..j].iter().collect::<String>(), out);
                return j;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unclosed $( in {}", chars.iter().collect::<String>())
}

/// The arguments of a `git par ...` or `git-par ...` command.
fn git_par_args(words: &[String]) -> Option<Vec<String>> {
    let env_free: Vec<&String> =
        words.iter().skip_while(|w| w.contains('=') && !w.starts_with('-')).collect();
    match env_free.as_slice() {
        [git, par, rest @ ..] if *git == "git" && *par == "par" => {
            Some(rest.iter().map(|s| s.to_string()).collect())
        }
        [bin, rest @ ..] if *bin == "git-par" => Some(rest.iter().map(|s| s.to_string()).collect()),
        _ => None,
    }
}

/// Every `git par` command shown in a code block: shell lines, and the inline
/// code of the agent instructions.
fn shown_commands() -> Vec<(String, Vec<String>)> {
    let (blocks, _) = split(&readme());
    let mut found = Vec::new();
    for block in &blocks {
        let lines: Vec<String> = match block.lang.as_str() {
            "sh" | "bash" | "console" | "shell" => {
                block.text.lines().map(|l| l.strip_prefix("$ ").unwrap_or(l).to_string()).collect()
            }
            // Inline code that is a whole command, not the name `git par` in prose.
            "markdown" => block
                .text
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|s| *s != "git par")
                .map(str::to_string)
                .collect(),
            "yaml" => block
                .text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("entry: "))
                .map(str::to_string)
                .collect(),
            _ => continue,
        };
        for line in lines {
            let mut cmds = Vec::new();
            commands(&line, &mut cmds);
            for words in cmds {
                if let Some(args) = git_par_args(&words) {
                    found.push((line.clone(), args));
                }
            }
        }
    }
    found
}

#[test]
fn every_git_par_command_in_the_readme_parses() {
    let shown = shown_commands();
    assert!(shown.len() >= 25, "only {} commands found: {shown:?}", shown.len());
    let mut bad = Vec::new();
    for (line, args) in &shown {
        let argv = std::iter::once("git-par".to_string()).chain(args.iter().cloned());
        if let Err(e) = Cli::try_parse_from(argv) {
            if !matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                bad.push(format!(
                    "{line}\n  git par {}\n  {}",
                    args.join(" "),
                    e.to_string().lines().next().unwrap_or("")
                ));
            }
        }
    }
    assert!(bad.is_empty(), "README commands that do not parse:\n{}", bad.join("\n"));
}

#[test]
fn the_shell_reader_finds_what_a_shell_would_run() {
    let mut cmds = Vec::new();
    commands(r#"cd "$(git par start T004)" && git par lock T004 --add 'a b.py' # comment"#, &mut cmds);
    commands("git par finish T002 & git par finish T003 & wait", &mut cmds);
    let args: Vec<Vec<String>> = cmds.iter().filter_map(|w| git_par_args(w)).collect();
    assert_eq!(
        args,
        [
            vec!["start", "T004"],
            vec!["lock", "T004", "--add", "a b.py"],
            vec!["finish", "T002"],
            vec!["finish", "T003"]
        ]
    );
    // And a broken example is caught: several IDs with --path is a usage error.
    let argv = ["git-par", "start", "T004", "T005", "--path", "docs/**/*.md"];
    assert!(Cli::try_parse_from(argv).is_ok(), "clap accepts it; git-par refuses it at run time");
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T004 [P] a.py\n- [ ] T005 [P] b.py\n");
    repo.par(&argv[1..]).code(2);
}

#[test]
fn readme_start_examples_are_not_usage_errors() {
    // `start` with several IDs and --path is refused after parsing (exit 2), so
    // parsing alone does not catch it: check the README's start commands for it.
    for (line, args) in shown_commands() {
        if args.first().map(String::as_str) == Some("start") {
            let ids = args[1..].iter().take_while(|a| !a.starts_with('-')).count();
            assert!(!(ids > 1 && args.iter().any(|a| a == "--path")), "a usage error in the README: {line}");
        }
    }
}

#[test]
fn the_readme_opens_with_install_and_test() {
    let (blocks, _) = split(&readme());
    assert_eq!(blocks[0].text, "cargo install --locked --path . && git par demo\ncargo test\n");
    for block in &blocks {
        for line in block.text.lines().filter(|l| l.contains("cargo install")) {
            assert!(line.contains("--locked"), "an install that re-resolves dependencies: {line}");
        }
    }
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn the_contents_links_every_section() {
    let (_, prose) = split(&readme());
    let headings: Vec<&str> =
        prose.lines().filter_map(|l| l.strip_prefix("## ")).filter(|h| *h != "Contents").collect();
    let contents = &prose[prose.find("## Contents\n").unwrap()..];
    let contents = &contents["## Contents\n".len()..];
    let contents = &contents[..contents.find("\n## ").unwrap()];
    let links: Vec<(&str, &str)> = contents
        .lines()
        .filter_map(|l| l.strip_prefix("- ["))
        .map(|l| {
            let (title, rest) = l.split_once("](#").unwrap();
            (title, rest.strip_suffix(')').unwrap())
        })
        .collect();
    assert_eq!(
        links.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        headings,
        "Contents lists every section in order"
    );
    for (title, anchor) in links {
        assert_eq!(anchor, slug(title), "the link to {title}");
    }
}

#[test]
fn the_agent_instructions_are_what_agent_guide_prints() {
    let text = readme();
    let marker = text.find("<!-- agent-guide").expect("the agent-guide marker");
    let block = &text[marker..];
    let start = block.find("```markdown\n").unwrap() + "```markdown\n".len();
    let block = &block[start..];
    let block = &block[..block.find("\n```\n").unwrap() + 1];
    let repo = TestRepo::empty();
    let printed = repo.par(&["agent-guide"]).success();
    assert_eq!(block, printed.stdout);
    for needed in
        ["git par start", "git par lock T004 --add", "git par finish", "Exit codes", "--json", "Never"]
    {
        assert!(printed.stdout.contains(needed), "the agent guide says nothing of {needed}");
    }
}

#[test]
fn the_pre_commit_snippet_uses_a_defined_hook() {
    let hooks = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"))
        .unwrap();
    let defined: Vec<&str> = hooks.lines().filter_map(|l| l.strip_prefix("- id: ")).collect();
    let (blocks, _) = split(&readme());
    let used: Vec<String> = blocks
        .iter()
        .filter(|b| b.lang == "yaml")
        .flat_map(|b| {
            b.text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- id: ").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!used.is_empty());
    for id in used {
        assert!(
            defined.contains(&id.as_str()),
            "hook id {id} is not in .pre-commit-hooks.yaml ({defined:?})"
        );
    }
    // The local hook runs exactly what .pre-commit-hooks.yaml runs.
    let entry = hooks.lines().find_map(|l| l.trim().strip_prefix("entry: ")).unwrap();
    assert!(readme().contains(&format!("entry: {entry}\n")));
}
