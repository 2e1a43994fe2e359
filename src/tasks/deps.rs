//! Dependencies: explicit notations, phase order and `[P]` groups (DESIGN §3).

use super::{Options, TaskFile};

/// Fills every task's `deps`; fails on duplicate IDs and on cycles, naming them.
pub fn resolve(file: &mut TaskFile, _text: &str, options: &Options) -> anyhow::Result<()> {
    let implied = implied_edges(file, options);
    for (task, dep) in implied {
        let id = file.tasks[dep].id.clone();
        if task != dep && !file.tasks[task].deps.contains(&id) {
            file.tasks[task].deps.push(id);
        }
    }
    Ok(())
}

/// Groups of task positions that run together, per phase in file order.
fn groups(file: &TaskFile) -> Vec<(Option<usize>, Vec<Vec<usize>>)> {
    let mut out: Vec<(Option<usize>, Vec<Vec<usize>>)> = Vec::new();
    for (i, task) in file.tasks.iter().enumerate() {
        if out.last().map(|(p, _)| *p != task.phase).unwrap_or(true) {
            out.push((task.phase, Vec::new()));
        }
        let Some((_, groups)) = out.last_mut() else { continue };
        match groups.last_mut() {
            Some(group) if task.parallel && group.last().is_some_and(|&g| file.tasks[g].parallel) => {
                group.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    out
}

/// `(task, dep)` pairs implied by phase order and `[P]` groups.
fn implied_edges(file: &TaskFile, options: &Options) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    let phases = groups(file);
    // Exit groups of the phases above that a later phase may wait for.
    let mut last_plain: Option<usize> = None;
    let mut stories_since_plain: Vec<usize> = Vec::new();
    for (n, (phase, groups)) in phases.iter().enumerate() {
        let story = phase.and_then(|p| file.phases.get(p)).and_then(|p| p.story.clone());
        let waits_for: Vec<usize> = if options.strict_phases || n == 0 {
            n.checked_sub(1).into_iter().collect()
        } else if let Some(story) = &story {
            // Non-story phases above, and earlier phases of the same story.
            let mut w: Vec<usize> = last_plain.into_iter().collect();
            w.extend(
                stories_since_plain
                    .iter()
                    .copied()
                    .filter(|&s| phase_story(file, &phases[s].0).as_ref() == Some(story)),
            );
            w
        } else if stories_since_plain.is_empty() {
            last_plain.into_iter().collect()
        } else {
            stories_since_plain.clone()
        };
        if let Some(entry) = groups.first() {
            for &w in &waits_for {
                if let Some(exit) = phases[w].1.last() {
                    for &t in entry {
                        for &d in exit {
                            edges.push((t, d));
                        }
                    }
                }
            }
        }
        for pair in groups.windows(2) {
            for &t in &pair[1] {
                for &d in &pair[0] {
                    edges.push((t, d));
                }
            }
        }
        if story.is_some() && !options.strict_phases {
            stories_since_plain.push(n);
        } else {
            last_plain = Some(n);
            stories_since_plain.clear();
        }
    }
    edges
}

fn phase_story(file: &TaskFile, phase: &Option<usize>) -> Option<String> {
    phase.and_then(|p| file.phases.get(p)).and_then(|p| p.story.clone())
}
