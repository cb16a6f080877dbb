//! Small string helpers every module uses: clipping what messages quote, building lists, and
//! splitting at an ASCII delimiter. Each exists once so the wasm carries one copy (see
//! docs/design.md, "Writing for size").

/// `s` split around the last `byte`, an ASCII delimiter (so both sides are whole characters).
/// Searching bytes backwards instead of `rsplit_once(char)` keeps `char`'s reverse searcher, and
/// its UTF-8 decoding, out of the wasm.
pub fn rsplit_ascii(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = s.bytes().rposition(|b| b == byte)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// Appends `item` to a `sep`-separated list. Every list of owned strings a message or header
/// names is built with this, so `[String]::join` (a second copy of `join` beside `[&str]`'s) is
/// not linked.
pub fn push_item(list: &mut String, sep: &str, item: &str) {
    if !list.is_empty() {
        list.push_str(sep);
    }
    list.push_str(item);
}

/// `s`, or its first `max` bytes (cut on a character boundary) followed by '…'. Messages quote
/// user input and server text, and neither may make a message long; every module clips with this.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s.get(..end).unwrap_or_default().to_string();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsplit_ascii_splits_at_the_last_delimiter() {
        assert_eq!(rsplit_ascii("host:5000/name:tag", b':'), Some(("host:5000/name", "tag")));
        assert_eq!(rsplit_ascii("é:ü", b':'), Some(("é", "ü")));
        assert_eq!(rsplit_ascii("a:", b':'), Some(("a", "")));
        assert_eq!(rsplit_ascii(":a", b':'), Some(("", "a")));
        assert_eq!(rsplit_ascii("no delimiter", b':'), None);
    }

    #[test]
    fn push_item_separates_items() {
        let mut list = String::new();
        for item in ["a", "b", "c"] {
            push_item(&mut list, ", ", item);
        }
        assert_eq!(list, "a, b, c");
    }
}
