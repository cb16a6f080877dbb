//! A small JSON reader (RFC 8259) for the two kinds of bodies we read: token responses and error
//! bodies, a few fields each. Written here instead of serde_json because serde's generic
//! machinery, serde_json's `BTreeMap`-backed `Value` and float parsing were a third of the wasm;
//! this is about 200 lines and keeps numbers as their text, so no float code is linked at all.

/// A parsed JSON value. Objects keep their members in order; numbers keep their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Deeper nesting than any token or error body has; the limit keeps recursion bounded whatever
/// a hostile server sends.
const MAX_DEPTH: usize = 64;

impl Value {
    /// The member `key` of an object (the first, if a hostile body repeats it).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
}

/// Parses a whole document; anything but whitespace after the value is an error.
pub fn parse(input: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(input).ok()?;
    let mut p = Parser { bytes: text.as_bytes(), pos: 0 };
    let value = p.value(0)?;
    p.skip_ws();
    (p.pos == p.bytes.len()).then_some(value)
}

/// A JSON number's text as a whole number, rounding toward zero and saturating: `"900.7"` → 900,
/// `"1e308"` → `u64::MAX`. Negative numbers give None. Good enough for seconds, and exact for
/// every integer a server sends, without linking float parsing.
pub fn number_as_u64(text: &str) -> Option<u64> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (text.get(..i)?, text.get(i + 1..)?.trim_start_matches('+').parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() || !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return None; // also refuses a leading '-': negative durations mean nothing here
    }
    // Shift the decimal point by the exponent, digit by digit, saturating.
    let whole_digits = i64::try_from(int_part.len()).ok()?.saturating_add(i64::from(exponent));
    let mut digits = int_part.bytes().chain(frac_part.bytes());
    let mut n: u64 = 0;
    for _ in 0..whole_digits.clamp(0, 40) {
        let d = digits.next().map_or(0, |b| b - b'0');
        n = n.saturating_mul(10).saturating_add(u64::from(d));
    }
    Some(n)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> Option<()> {
        let end = self.pos.checked_add(literal.len())?;
        (self.bytes.get(self.pos..end)? == literal.as_bytes()).then(|| self.pos = end)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Value::String),
            b't' => self.eat("true").map(|()| Value::Bool(true)),
            b'f' => self.eat("false").map(|()| Value::Bool(false)),
            b'n' => self.eat("null").map(|()| Value::Null),
            _ => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            self.eat(":")?;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(Value::Object(members));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(Value::Array(items));
                }
                _ => return None,
            }
        }
    }

    /// `number = [ minus ] int [ frac ] [ exp ]`, validated and kept as text.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        let text = std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?;
        Some(Value::Number(text.to_string()))
    }

    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let esc = self.peek()?;
                    self.pos += 1;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                _ => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.pos.checked_add(4)?;
        let text = std::str::from_utf8(self.bytes.get(self.pos..end)?).ok()?;
        self.pos = end;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair; a lone surrogate is an error.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            self.eat("\\u")?;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return None;
            }
            return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
        }
        char::from_u32(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents() {
        let v = parse(br#" {"token":"a\"b\u00e9\ud83d\ude00","n":-1.5e3,"ok":true,"x":null,"arr":[1,{"k":[]}]} "#).unwrap();
        assert_eq!(v.get("token").unwrap().as_str(), Some("a\"bé😀"));
        assert_eq!(v.get("n"), Some(&Value::Number("-1.5e3".into())));
        assert_eq!(v.get("ok"), Some(&Value::Bool(true)));
        assert_eq!(v.get("arr").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(parse(br#"{"a":1,"a":2}"#).unwrap().get("a"), Some(&Value::Number("1".into())));
    }

    #[test]
    fn rejects_malformed() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\"}",
            b"{\"a\":1,}",
            b"[1,]",
            b"01",
            b"1.",
            b"-",
            b"\"\\x\"",
            b"\"\\ud800\"",
            b"\"a\nb\"",
            b"tru",
            b"{} x",
            b"\xff",
            deep.as_bytes(),
            b"\"\\u12\"",
        ] {
            assert!(parse(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
        let ok = "[".repeat(60) + &"]".repeat(60);
        assert!(parse(ok.as_bytes()).is_some());
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
        ] {
            assert_eq!(number_as_u64(text), want, "{text}");
        }
    }
}
