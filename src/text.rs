//! Text that came from outside git-par — tasks.md, file paths, commit
//! messages, a hook's output — made safe to show: it never controls the
//! terminal.
//!
//! One function, [`escape_controls`], used where such text meets a human:
//! every line git-par prints goes through it (the binary's `output::Ui`),
//! and so do the landing commit's message, the tmux banner and the task
//! logs. JSON keeps the exact text; its serializer escapes control
//! characters, and `Ui::json` the C1 ones it leaves.

use std::borrow::Cow;

/// `text` with every control character but newline and tab written out as
/// an escape: `ESC` → `\x1b`, `CR` → `\x0d`, a C1 control (`U+009B`, the
/// one-byte CSI) → `\u{9b}`. Escape sequences (colors, cursor moves, OSC
/// titles and hyperlinks, a carriage return that overwrites the line) so
/// show as text and do nothing.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_written_out() {
        assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(escape_controls("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_controls("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
        assert_eq!(escape_controls("over\rwrite"), "over\\x0dwrite");
        assert_eq!(escape_controls("csi\u{9b}31m del\x7f"), "csi\\u{9b}31m del\\x7f");
        assert_eq!(escape_controls("écrit ✓"), "écrit ✓");
    }
}
