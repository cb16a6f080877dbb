//! A small JSON reader (RFC 8259) for the two kinds of bodies we read: token responses and error
//! bodies, a few fields each. Written here instead of serde_json because serde's generic
//! machinery, serde_json's `BTreeMap`-backed `Value` and float parsing were a third of the wasm;
//! numbers stay text, so no float code is linked at all.
//!
//! It builds no tree. [`read`] checks a whole document without allocating and hands back its
//! root as a [`Raw`], a span of checked JSON text; callers then look up the few members they
//! need and everything else is stepped over, never copied. A tree costs a node per value: a
//! 128 KiB body of `[[],[],…]` made 2 MB of them, deep nesting 8 MB, and wasm memory never
//! shrinks once grown. Here memory is the strings a caller asks for, whatever the body.

/// Deeper nesting than any token or error body has (RFC 8259 §9 lets a parser limit it). Refused
/// as the recursive parser this replaced did, and it keeps [`Cursor::skip_value`]'s bracket stack
/// within 128 bits.
const MAX_DEPTH: usize = 64;

/// Checks a whole document: one value with only whitespace around it (RFC 8259 §2), UTF-8
/// (§8.1), nested at most 64 deep. Allocates nothing; the root comes back as a span.
pub fn read(input: &[u8]) -> Option<Raw<'_>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut cursor = Cursor { text, pos: 0 };
    let root = cursor.value()?;
    cursor.skip_ws();
    (cursor.pos == text.len()).then_some(root)
}

/// Whether `input` is one JSON document, exactly as [`read`] judges it.
pub fn is_valid(input: &[u8]) -> bool {
    read(input).is_some()
}

/// The text of one value of a document [`read`] checked, without the whitespace around it. Only
/// this module makes them, so every method can rely on the text being well-formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a>(&'a str);

impl<'a> Raw<'a> {
    /// The value's JSON text as sent: `true`, `"a\u00e9"`, `[1, 2]`.
    pub fn text(self) -> &'a str {
        self.0
    }

    pub fn is_object(self) -> bool {
        self.0.starts_with('{')
    }

    pub fn is_array(self) -> bool {
        self.0.starts_with('[')
    }

    /// An object's members in order, as (name, value); nothing for other values. A name is a
    /// string: [`Raw::is_str`] compares it without unescaping it into a buffer.
    pub fn members(self) -> Members<'a> {
        Members(Cursor { text: self.0.strip_prefix('{').unwrap_or(""), pos: 0 })
    }

    /// An array's items in order; nothing for other values.
    pub fn items(self) -> Items<'a> {
        Items(Cursor { text: self.0.strip_prefix('[').unwrap_or(""), pos: 0 })
    }

    /// The member named `key` of an object: the first, if a hostile body repeats it (RFC 8259 §4
    /// leaves repeated names to the reader).
    pub fn get(self, key: &str) -> Option<Raw<'a>> {
        let [value] = self.fields([key]);
        value
    }

    /// The members named `names` of an object, looked up in one pass over it: each name's
    /// first value, as [`Raw::get`] gives it.
    pub fn fields<const N: usize>(self, names: [&str; N]) -> [Option<Raw<'a>>; N] {
        let mut found = [None; N];
        for (name, value) in self.members() {
            for (wanted, slot) in names.iter().zip(found.iter_mut()) {
                if slot.is_none() && name.is_str(wanted) {
                    *slot = Some(value);
                }
            }
        }
        found
    }

    /// A string's value, escapes resolved (RFC 8259 §7); None for other values.
    pub fn as_string(self) -> Option<String> {
        if !self.0.starts_with('"') {
            return None;
        }
        // A value is never longer than its JSON text (escapes only shrink), so one allocation.
        let mut out = String::with_capacity(self.0.len());
        Cursor { text: self.0, pos: 0 }.string(|piece| out.push_str(piece))?;
        Some(out)
    }

    /// Whether this is a string whose value is `s`.
    pub fn is_str(self, s: &str) -> bool {
        let mut rest = Some(s);
        let is_string = Cursor { text: self.0, pos: 0 }.string(|piece| rest = rest.and_then(|r| r.strip_prefix(piece))).is_some();
        is_string && rest == Some("")
    }

    /// The value as JSON again, its strings written with the fewest escapes (only `"`, `\` and
    /// control characters): text a redactor can search, where `\u0068unter2` would hide
    /// `hunter2`. Whitespace between tokens is dropped.
    pub fn normalized(self) -> String {
        let mut out = String::with_capacity(self.0.len());
        self.write_normalized(&mut out, 0);
        out
    }

    fn write_normalized(self, out: &mut String, depth: usize) {
        if self.0.starts_with('"') {
            out.push('"');
            let _ = Cursor { text: self.0, pos: 0 }.string(|piece| push_escaped(out, piece));
            out.push('"');
        } else if self.is_object() && depth < MAX_DEPTH {
            out.push('{');
            for (i, (k, v)) in self.members().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                k.write_normalized(out, depth + 1);
                out.push(':');
                v.write_normalized(out, depth + 1);
            }
            out.push('}');
        } else if self.is_array() && depth < MAX_DEPTH {
            out.push('[');
            for (i, v) in self.items().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                v.write_normalized(out, depth + 1);
            }
            out.push(']');
        } else {
            out.push_str(self.0);
        }
    }

    /// A number's text as sent (`-1.5e3`), for [`number_as_u64`]; None for other values.
    pub fn as_number(self) -> Option<&'a str> {
        self.0.starts_with(|c: char| c == '-' || c.is_ascii_digit()).then_some(self.0)
    }
}

/// A string's characters as JSON writes them with the fewest escapes.
pub fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(b"0123456789abcdef".get((c as usize) >> 4).copied().unwrap_or(b'0')));
                out.push(char::from(b"0123456789abcdef".get((c as usize) & 15).copied().unwrap_or(b'0')));
            }
            c => out.push(c),
        }
    }
}

/// The members of an object, from [`Raw::members`].
pub struct Members<'a>(Cursor<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (Raw<'a>, Raw<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_entry()?;
        let name = self.0.value()?;
        self.0.skip_ws();
        self.0.eat(b':')?;
        Some((name, self.0.value()?))
    }
}

/// The items of an array, from [`Raw::items`].
pub struct Items<'a>(Cursor<'a>);

impl<'a> Iterator for Items<'a> {
    type Item = Raw<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_entry()?;
        self.0.value()
    }
}

/// A JSON number's text as a whole number, rounding toward zero and saturating: `"900.7"` → 900,
/// `"1e308"` → `u64::MAX`. Negative numbers give None. Good enough for seconds, and exact for
/// every integer a server sends, without linking float parsing.
pub fn number_as_u64(text: &str) -> Option<u64> {
    // One pass over bytes rather than str splitting and `parse::<i32>`: the same answers in a
    // third of the code (this is on every token, manifest and stored-token read).
    let text = text.trim().as_bytes();
    let (mantissa, exponent) = match text.iter().position(|&b| b | 0x20 == b'e') {
        Some(i) => (text.get(..i)?, exponent(text.get(i + 1..)?)?),
        None => (text, 0),
    };
    let point = mantissa.iter().position(|&b| b == b'.');
    let int_len = point.unwrap_or(mantissa.len());
    // Digits on both sides of at most one point; also refuses a leading '-': negative
    // durations mean nothing here.
    if int_len == 0 || mantissa.iter().enumerate().any(|(i, b)| Some(i) != point && !b.is_ascii_digit()) {
        return None;
    }
    // Shift the decimal point by the exponent, digit by digit, saturating.
    let whole_digits = i64::try_from(int_len).ok()?.saturating_add(exponent).clamp(0, 40);
    let mut digits = mantissa.iter().filter(|b| b.is_ascii_digit());
    let mut n: u64 = 0;
    for _ in 0..whole_digits {
        let d = digits.next().map_or(0, |b| b - b'0');
        n = n.saturating_mul(10).saturating_add(u64::from(d));
    }
    Some(n)
}

/// An exponent's digits with an optional sign, within `i32` as JSON parsers read them; None
/// otherwise.
fn exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
    let value = if negative { -value } else { value };
    i32::try_from(value).ok().map(i64::from)
}

/// A position in UTF-8 text. Every step checks what it passes and gives None at malformed input,
/// leaving the position anywhere.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Steps past a byte `peek` returned (so never past the end).
    fn bump(&mut self) {
        self.pos += 1;
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.bump())
    }

    fn eat_literal(&mut self, literal: &str) -> Option<()> {
        let end = self.pos.checked_add(literal.len())?;
        (self.text.as_bytes().get(self.pos..end)? == literal.as_bytes()).then(|| self.pos = end)
    }

    /// RFC 8259 §2's whitespace: space, tab, line feed, carriage return.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// The next value, checked, as a span.
    fn value(&mut self) -> Option<Raw<'a>> {
        self.skip_ws();
        let start = self.pos;
        self.skip_value()?;
        Some(Raw(self.text.get(start..self.pos)?))
    }

    /// Steps over one value of any shape, checking it. Iterative, so nesting costs a bit of
    /// `objects` per level rather than a stack frame; the depth a value starts at is the number
    /// of containers open around it, refused past [`MAX_DEPTH`]. Inside a checked document a
    /// value nests no deeper than the document, so counting from 0 there is right too.
    fn skip_value(&mut self) -> Option<()> {
        let mut open: usize = 0;
        // One bit per open container, the innermost lowest: 1 for an object, 0 for an array.
        let mut objects: u128 = 0;
        loop {
            // A value starts here.
            if open > MAX_DEPTH {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                bracket @ (b'{' | b'[') => {
                    let object = bracket == b'{';
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.bump(); // empty, and so already a whole value
                    } else {
                        open += 1;
                        objects = objects << 1 | u128::from(object);
                        if object {
                            self.member_name()?;
                        }
                        continue;
                    }
                }
                b'"' => self.string(|_| ())?,
                b't' => self.eat_literal("true")?,
                b'f' => self.eat_literal("false")?,
                b'n' => self.eat_literal("null")?,
                _ => self.skip_number()?,
            }
            // A value ended: close the containers it completes, up to the next entry or the end.
            loop {
                if open == 0 {
                    return Some(());
                }
                let object = objects & 1 == 1;
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.bump();
                        if object {
                            self.member_name()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.bump();
                open -= 1;
                objects >>= 1;
            }
        }
    }

    /// `string name-separator` (§4), before a member's value.
    fn member_name(&mut self) -> Option<()> {
        self.skip_ws();
        self.string(|_| ())?;
        self.skip_ws();
        self.eat(b':')
    }

    /// In a checked object or array: past the ',' before the next entry, or None at the closing
    /// bracket (or the end of an empty span).
    fn next_entry(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'}' | b']' => None,
            b',' => {
                self.bump();
                Some(())
            }
            _ => Some(()),
        }
    }

    /// `number = [ minus ] int [ frac ] [ exp ]` (§6).
    fn skip_number(&mut self) -> Option<()> {
        let digits = |c: &mut Self| {
            let start = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.bump();
            }
            (c.pos > start).then_some(())
        };
        if self.peek() == Some(b'-') {
            self.bump();
        }
        if self.peek() == Some(b'0') {
            self.bump();
        } else {
            digits(self)?;
        }
        if self.peek() == Some(b'.') {
            self.bump();
            digits(self)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            digits(self)?;
        }
        Some(())
    }

    /// A string (§7) from its opening quote. Its value goes to `piece` a run or an escaped
    /// character at a time, so checking, comparing or copying it shares this one reader.
    fn string(&mut self, mut piece: impl FnMut(&str)) -> Option<()> {
        self.eat(b'"')?;
        loop {
            let rest = self.text.get(self.pos..)?;
            let run = rest.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len());
            // It stops at an ASCII byte or the end, so both ends are character boundaries.
            piece(rest.get(..run)?);
            self.pos += run;
            match self.peek()? {
                b'"' => {
                    self.bump();
                    return Some(());
                }
                b'\\' => {
                    self.bump();
                    piece(self.escape()?.encode_utf8(&mut [0; 4]));
                }
                _ => return None, // control characters must be escaped
            }
        }
    }

    /// What follows a backslash.
    fn escape(&mut self) -> Option<char> {
        let c = match self.peek()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.bump();
                return self.unicode_escape();
            }
            _ => return None,
        };
        self.bump();
        Some(c)
    }

    /// `XXXX` after `\u`, joining a UTF-16 surrogate pair; a lone surrogate is an error.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            self.eat_literal("\\u")?;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return None;
            }
            return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
        }
        char::from_u32(first)
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.pos.checked_add(4)?;
        let hex = self.text.get(self.pos..end)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos = end;
        u32::from_str_radix(hex, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document's root; panics if it is not valid.
    fn root(text: &str) -> Raw<'_> {
        read(text.as_bytes()).unwrap_or_else(|| panic!("not valid: {text:?}"))
    }

    #[test]
    fn reads_documents() {
        let v = root(r#" {"token":"a\"b\u00e9\ud83d\ude00","n":-1.5e3,"ok":true,"x":null,"arr":[1,{"k":[]}]} "#);
        assert!(v.is_object() && !v.is_array());
        assert_eq!(v.get("token").unwrap().as_string().unwrap(), "a\"bé😀");
        assert_eq!(v.get("n").unwrap().as_number(), Some("-1.5e3"));
        assert_eq!(v.get("ok").unwrap().text(), "true");
        assert_eq!(v.get("x").unwrap().text(), "null");
        assert_eq!(v.get("missing"), None);
        let arr = v.get("arr").unwrap();
        assert!(arr.is_array());
        assert_eq!(arr.items().map(Raw::text).collect::<Vec<_>>(), ["1", r#"{"k":[]}"#]);
        let names: Vec<String> = v.members().map(|(k, _)| k.as_string().unwrap()).collect();
        assert_eq!(names, ["token", "n", "ok", "x", "arr"]);
        // The first of a repeated key, as before; fields looks several up in one pass.
        assert_eq!(root(r#"{"a":1,"a":2}"#).get("a").unwrap().text(), "1");
        let [a, b, missing, again] = root(r#"{"b":[2],"a":1,"a":3,"\u0062":4}"#).fields(["a", "b", "c", "a"]);
        assert_eq!([a, b, again].map(|v| v.unwrap().text()), ["1", "[2]", "1"]);
        assert_eq!(missing, None);
        assert_eq!(root("[1]").fields(["a"]), [None]);
        // Whitespace anywhere RFC 8259 allows it; spans never include it.
        let spaced = root("\t[ 1 ,\r\n\"s\" , { } , [ ] ]\n");
        assert_eq!(spaced.text(), "[ 1 ,\r\n\"s\" , { } , [ ] ]");
        assert_eq!(spaced.items().map(Raw::text).collect::<Vec<_>>(), ["1", "\"s\"", "{ }", "[ ]"]);
        assert_eq!(root(r#" { "k" : "v" } "#).get("k").unwrap().text(), "\"v\"");
        // Empty containers yield nothing; other values have no members or items.
        assert_eq!(root("{}").members().count(), 0);
        assert_eq!(root("[]").items().count(), 0);
        assert_eq!(root("[1]").members().count(), 0);
        assert_eq!(root(r#"{"a":1}"#).items().count(), 0);
        assert_eq!(root(r#""{\"a\":1}""#).get("a"), None);
    }

    #[test]
    fn strings_escapes_and_surrogate_pairs() {
        for (json, want) in [
            (r#""""#, ""),
            (r#""plain""#, "plain"),
            (r#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
            (r#""\u0041\u00e9\u20AC""#, "Aé€"),
            (r#""\ud83d\ude00 \uD834\uDD1E""#, "😀 𝄞"),
            (r#""é😀 raw""#, "é😀 raw"),
            (r#""\u0000""#, "\0"),
        ] {
            let v = root(json);
            assert_eq!(v.as_string().as_deref(), Some(want), "{json}");
            assert!(v.is_str(want), "{json}");
            let shorter: String = want.chars().skip(1).collect();
            assert!(!v.is_str(&format!("{want}x")) && (want.is_empty() || !v.is_str(&shorter)), "{json}");
        }
        // Names compare unescaped, as the tree parser stored them.
        assert_eq!(root(r#"{"tok\u0065n":"t"}"#).get("token").unwrap().text(), "\"t\"");
        for not_a_string in ["1", "null", "[]", "{}", "true"] {
            assert_eq!(root(not_a_string).as_string(), None);
            assert!(!root(not_a_string).is_str(not_a_string));
        }
        assert_eq!(root(r#""1""#).as_number(), None);
        assert_eq!(root("0").as_number(), Some("0"));
    }

    #[test]
    fn rejects_malformed() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        let too_deep_scalar = "[".repeat(65) + "1" + &"]".repeat(65);
        let too_deep_object = r#"{"a":"#.repeat(65) + "1" + &"}".repeat(65);
        for bad in [
            &b""[..],
            b" ",
            b"{",
            b"[",
            b"\"",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\" 1}",
            b"{\"a\":1,}",
            b"{,\"a\":1}",
            b"{\"a\":1 \"b\":2}",
            b"{1:2}",
            b"{a:1}",
            b"[1,]",
            b"[,1]",
            b"[1 2]",
            b"[}",
            b"{]",
            b"[[]}",
            b"{\"a\":[}]",
            b"]",
            b"01",
            b"-01",
            b"1.",
            b".5",
            b"-",
            b"+1",
            b"1e",
            b"1e+",
            b"0x10",
            b"NaN",
            b"\"\\x\"",
            b"\"\\u12\"",
            b"\"\\u12g4\"",
            b"\"\\ud800\"",
            b"\"\\ud800x\"",
            b"\"\\ud800\\u0041\"",
            b"\"\\udc00\"",
            b"\"a\nb\"",
            b"\"a\x1fb\"",
            b"'a'",
            b"tru",
            b"True",
            b"nul",
            b"{} x",
            b"{}}",
            b"1 2",
            b"{}\0",
            b"\xef\xbb\xbf{}",
            b"\xff",
            b"\"\xc3\"",
            b"\"\xed\xa0\x80\"",
            deep.as_bytes(),
            too_deep_scalar.as_bytes(),
            too_deep_object.as_bytes(),
        ] {
            assert!(!is_valid(bad), "{:?}", String::from_utf8_lossy(bad));
            assert_eq!(read(bad), None);
        }
        for good in ["0", "-0", "-0.0e-0", "1E+9", "\"\"", "[]", "{}", " null ", "[true,false]", "\"\u{7f}é\""] {
            assert!(is_valid(good.as_bytes()), "{good}");
        }
    }

    /// As deep as the recursive parser went: a value at depth 64 (the root is 0), no deeper.
    #[test]
    fn depth_limit() {
        let nested = |n: usize, inner: &str| "[".repeat(n) + inner + &"]".repeat(n);
        assert!(is_valid(nested(60, "").as_bytes()));
        assert!(is_valid(nested(64, "1").as_bytes()));
        assert!(is_valid(nested(65, "").as_bytes()));
        assert!(!is_valid(nested(65, "1").as_bytes()));
        assert!(!is_valid(nested(66, "").as_bytes()));
        let objects = |n: usize| r#"{"a":"#.repeat(n) + "1" + &"}".repeat(n);
        assert!(is_valid(objects(64).as_bytes()));
        assert!(!is_valid(objects(65).as_bytes()));
        // Mixed, to exercise the bracket bits across the whole 64 levels.
        let mixed: String = (0..64).map(|i| if i % 3 == 0 { r#"{"k":"# } else { "[" }).collect();
        let closing: String = (0..64).rev().map(|i| if i % 3 == 0 { '}' } else { ']' }).collect();
        assert!(is_valid(format!("{mixed}0{closing}").as_bytes()));
        assert!(!is_valid(format!("{mixed}0{}", closing.replacen('}', "]", 1)).as_bytes()));
        // Siblings do not add up: depth is nesting, not count.
        let wide = format!("[{}]", vec![nested(63, ""); 1000].join(","));
        assert!(is_valid(wide.as_bytes()));
        // Megabytes of brackets are refused at the limit, not read to the end.
        assert!(!is_valid("[".repeat(1 << 20).as_bytes()));
    }

    #[test]
    fn numbers_as_whole_seconds() {
        for (text, want) in [
            ("300", Some(300)),
            ("900.7", Some(900)),
            ("1e3", Some(1000)),
            ("1.5E+2", Some(150)),
            ("15e-1", Some(1)),
            ("1e308", Some(u64::MAX)),
            ("-5", None),
            ("0", Some(0)),
            ("abc", None),
            ("1e", None),
            ("99999999999999999999999", Some(u64::MAX)),
            ("1e-2147483648", Some(0)),
            ("1e2147483648", None),
            ("1e+", None),
            ("1.2.3", None),
            (".5", None),
            ("5.", Some(5)),
            (" 42 ", Some(42)),
        ] {
            assert_eq!(number_as_u64(text), want, "{text}");
        }
    }
}
