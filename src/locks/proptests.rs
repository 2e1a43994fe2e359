//! Properties of lock patterns, checked on generated patterns by `cargo test`
//! and on arbitrary bytes by the `locks` fuzz target (`fuzz/`), which
//! includes this file; so it names items only by `crate::` paths.
//!
//! - `normalize` is idempotent, and what it returns never starts with `/`
//!   and has no `..` segment;
//! - `overlaps` is symmetric and reflexive;
//! - soundness of the conservative rule: a path that both patterns match
//!   means they overlap;
//! - `may_overlap` never says no where `overlaps` says yes, and
//!   `surely_compiles` never says yes of a pattern that does not compile;
//! - a [`LockIndex`] finds a holder exactly when its pattern matches, and so
//!   do [`PathHolders`] (the hook's matcher), given all the paths at once.

use crate::locks::{self, LockIndex, PathHolders, Pattern};

/// Checks every property on two pattern texts and a path; panics on a violation.
pub(crate) fn check_patterns(a: &str, b: &str, path: &str) {
    for text in [a, b, path] {
        if let Ok(normal) = locks::normalize(text) {
            assert!(!normal.starts_with('/'), "{text:?} → {normal:?} starts with /");
            assert!(!normal.split('/').any(|s| s == ".."), "{text:?} → {normal:?} has a .. segment");
            assert_eq!(locks::normalize(&normal), Ok(normal.clone()), "normalising {text:?} twice");
        }
    }
    for text in [a, b] {
        if let Ok(normal) = locks::normalize(text) {
            if locks::surely_compiles(&normal) {
                assert!(
                    Pattern::compile(normal.clone()).is_ok(),
                    "{normal:?} was sure to compile, and does not"
                );
            }
        }
    }
    let (Ok(pa), Ok(pb)) = (Pattern::new(a), Pattern::new(b)) else { return };
    assert!(
        pa.may_overlap(pb.as_str()) || !pa.overlaps(&pb),
        "{pa} and {pb} overlap, yet may_overlap said no"
    );
    assert!(
        pb.may_overlap(pa.as_str()) || !pb.overlaps(&pa),
        "{pb} and {pa} overlap, yet may_overlap said no"
    );
    let overlap = pa.overlaps(&pb);
    assert_eq!(overlap, pb.overlaps(&pa), "{pa} and {pb}: overlap is not symmetric");
    assert!(pa.overlaps(&pa), "{pa} does not overlap itself");

    let held = [vec![pa.as_str().to_string()], vec![pb.as_str().to_string()]];
    let (index, errors) = LockIndex::build([("a", held[0].as_slice()), ("b", held[1].as_slice())]);
    assert!(errors.is_empty(), "{errors:?}");

    let mut candidates: Vec<String> = instances(pa.as_str()).chain(instances(pb.as_str())).collect();
    candidates.extend(locks::normalize(path).ok());
    // Paths as git-par sees them: normalised, and files (a trailing `/`
    // names a directory, which is never staged).
    let is_file = |p: &&String| locks::normalize(p).is_ok_and(|n| n == **p) && !p.ends_with('/');
    let few: Vec<String> = candidates.iter().filter(is_file).cloned().collect();
    // Past a few paths the matcher looks patterns up instead of comparing:
    // the same paths again, with ten others.
    let many: Vec<String> = few.iter().cloned().chain((0..10).map(|i| format!("~none/{i}"))).collect();
    for files in [&few, &many] {
        let mut matcher = PathHolders::new(files);
        matcher.add(0, pa.as_str());
        matcher.add(1, pb.as_str());
        let (held, broken) = matcher.finish();
        assert!(broken.is_empty(), "{broken:?}");
        for (p, held) in files.iter().zip(&held) {
            assert_eq!(held.contains(&0), pa.matches(p), "the hook's matcher and {pa} disagree on {p:?}");
            assert_eq!(held.contains(&1), pb.matches(p), "the hook's matcher and {pb} disagree on {p:?}");
        }
    }
    for p in candidates.iter().filter(is_file) {
        let (in_a, in_b) = (pa.matches(p), pb.matches(p));
        assert!(
            !(in_a && in_b) || overlap,
            "{p:?} matches both {pa} and {pb}, which are said not to overlap"
        );
        let holders = index.holders_of(p);
        assert_eq!(holders.contains(&&"a"), in_a, "index and pattern disagree on {pa} for {p:?}");
        assert_eq!(holders.contains(&&"b"), in_b, "index and pattern disagree on {pb} for {p:?}");
    }
}

/// Paths a pattern is likely to match: its wildcards filled in a few ways,
/// and a file under it when it names a directory.
pub(crate) fn instances(pattern: &str) -> impl Iterator<Item = String> + '_ {
    const FILLS: [(&str, &str, &str); 4] =
        [("", "", "a"), ("x/", "x", "x"), ("x/y/", "xy", "."), ("a.b/", ".rs", "/")];
    FILLS.into_iter().flat_map(move |(deep, star, one)| {
        let filled = pattern.replace("**/", deep).replace("**", deep).replace('*', star).replace('?', one);
        let file = filled.ends_with('/').then(|| format!("{filled}f"));
        [Some(filled), file].into_iter().flatten()
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::check_patterns;

    /// One path segment, biased towards what normalisation and globs treat specially.
    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec![
                "src", "a", "b.rs", "x.py", "data", "*", "**", "*.rs", "*.py", "?", "a?", "[ab]",
                "[!a]", "{a,b}", "{x,y}.rs", ".", "..", "", " ", " a", "~", "~x", "C:", "a b", "[id]",
                "[5-9]*.rs", "[c-a]", "[a-]", "[-a]", "[]]", "[a", "x]", "[a-c_.]?",
            ])
            .prop_map(str::to_string),
            1 => "[a-c.*?~ \\[\\]{},\\-]{0,4}",
        ]
    }

    /// A pattern as a user or a task file might write it.
    fn pattern() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["", "", "./", "/", " ", "../"]),
            prop::collection::vec(segment(), 0..5),
            prop::sample::select(vec!["/", "/", "\\", "//"]),
            prop::sample::select(vec!["", "", "/", "/.", "/..", " "]),
        )
            .prop_map(|(lead, segments, sep, tail)| format!("{lead}{}{tail}", segments.join(sep)))
    }

    proptest! {
        #[test]
        fn lock_patterns_keep_their_properties(a in pattern(), b in pattern(), path in pattern()) {
            check_patterns(&a, &b, &path);
        }
    }
}
