//! Who a commit is by: the user's identity as git would take it
//! (`GIT_*_NAME/EMAIL/DATE`, `author.*`, `committer.*`, `user.*`, and
//! `git var` for the rest).

use anyhow::{Context as _, Result};
use git2::{Repository, Signature};

/// Who a commit is by: the user's identity as git would take it.
pub struct Signatures {
    pub author: Signature<'static>,
    pub committer: Signature<'static>,
}

/// The author and committer git would use in `repo`: `GIT_{AUTHOR,COMMITTER}_{NAME,EMAIL,DATE}`,
/// then `{author,committer,user}.{name,email}`; anything else is asked of `git var`.
pub fn signatures(repo: &Repository) -> Result<Signatures> {
    let config = repo.config().and_then(|mut c| c.snapshot()).context("reading git config")?;
    let author = identity(repo, &config, "AUTHOR")?;
    let committer = identity(repo, &config, "COMMITTER")?;
    Ok(Signatures { author, committer })
}

fn identity(repo: &Repository, config: &git2::Config, who: &str) -> Result<Signature<'static>> {
    let env = |key: &str| std::env::var(format!("GIT_{who}_{key}")).ok();
    let conf = |key: &str| {
        config
            .get_string(&format!("{}.{key}", who.to_ascii_lowercase()))
            .ok()
            .or_else(|| config.get_string(&format!("user.{key}")).ok())
    };
    let name = env("NAME").or_else(|| conf("name"));
    let email = env("EMAIL").or_else(|| conf("email")).or_else(|| std::env::var("EMAIL").ok());
    // None: a date git understands and this parser does not.
    let date: Option<Option<(i64, i32)>> = match env("DATE") {
        Some(text) => parse_date(&text).map(Some),
        None => Some(None),
    };
    if let (Some(name), Some(email), Some(date)) = (name, email, date) {
        let sig = match date {
            Some((secs, offset)) => Signature::new(&name, &email, &git2::Time::new(secs, offset)),
            None => Signature::now(&name, &email),
        };
        return sig.with_context(|| {
            format!("building the {} identity '{name} <{email}>'", who.to_ascii_lowercase())
        });
    }
    // Let git decide (and explain when it cannot: "Please tell me who you are").
    let dir = repo.workdir().unwrap_or_else(|| repo.path());
    let line = super::git_cli(dir, &["var", &format!("GIT_{who}_IDENT")])?;
    parse_ident(line.trim()).with_context(|| format!("reading `git var GIT_{who}_IDENT`: {}", line.trim()))
}

fn parse_ident(line: &str) -> Result<Signature<'static>> {
    let (name, rest) = line.split_once(" <").context("no email")?;
    let (email, rest) = rest.split_once('>').context("no email")?;
    let (secs, offset) = parse_date(rest.trim()).context("no date")?;
    Ok(Signature::new(name, email, &git2::Time::new(secs, offset))?)
}

/// Parses the date formats a `GIT_*_DATE` usually holds: `[@]SECS [+ZZZZ]`
/// and ISO 8601 (`2026-01-01T00:00:00Z`, `2026-01-01 10:00:00 +0200`), as
/// (seconds since the epoch, offset in minutes).
fn parse_date(text: &str) -> Option<(i64, i32)> {
    let text = text.trim();
    let raw = text.strip_prefix('@').unwrap_or(text);
    let mut parts = raw.split_whitespace();
    if let Some(secs) = parts.next().and_then(|s| s.parse::<i64>().ok()) {
        let offset = match parts.next() {
            Some(tz) => parse_offset(tz)?,
            None => 0,
        };
        return parts.next().is_none().then_some((secs, offset));
    }
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let (y, mo, d, h, mi) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?);
    let mut rest = &text[16..];
    let mut s = 0;
    if let Some(r) = rest.strip_prefix(':') {
        s = r.get(..2)?.parse().ok()?;
        rest = &r[2..];
    }
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let rest = rest.trim();
    let offset = if rest.is_empty() || rest == "Z" { 0 } else { parse_offset(rest)? };
    let days = days_from_civil(y, mo, d);
    let local = days * 86_400 + h * 3600 + mi * 60 + s;
    Some((local - i64::from(offset) * 60, offset))
}

fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_formats_git_users_set() {
        assert_eq!(parse_date("2026-01-01T00:00:00Z"), Some((1_767_225_600, 0)));
        assert_eq!(parse_date("@1767225600 +0100"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("1767225600"), Some((1_767_225_600, 0)));
        assert_eq!(parse_date("2026-01-01 01:00:00 +0100"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("2026-01-01T01:00:00+01:00"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("1970-01-01T00:00:00.123Z"), Some((0, 0)));
        assert_eq!(parse_date("Thu, 1 Jan 2026 00:00:00 +0000"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn git_var_idents_parse() {
        let sig = parse_ident("A U Thor <a@example.com> 1767225600 -0130").unwrap();
        assert_eq!(sig.name(), Some("A U Thor"));
        assert_eq!(sig.email(), Some("a@example.com"));
        assert_eq!(sig.when().seconds(), 1_767_225_600);
        assert_eq!(sig.when().offset_minutes(), -90);
    }
}
