//! The server's own words for an error, to quote in our message. Registries answer in a few
//! shapes, and users need the words to fix their setup:
//! - distribution (`docs/spec/api.md`): `{"errors":[{"code":"UNAUTHORIZED","message":"…","detail":…}]}`
//! - Docker Hub's token server: `{"details":"incorrect username or password"}`
//! - OAuth2 (RFC 6749 §5.2): `{"error":"invalid_grant","error_description":"…"}`
//! - ECR, CDNs and proxies: plain text or HTML.

use crate::json::{self, Value};

/// Longest piece of server text we quote: enough for any real message, and a hostile server
/// cannot make our error messages huge.
const MAX_QUOTE: usize = 300;

/// The server's words, unclipped: the caller removes secrets first and clips after, so a
/// secret cut in half by the clip cannot slip past the redaction.
pub fn describe(body: &[u8]) -> Option<String> {
    if let Some(value) = json::parse(body) {
        return from_json(&value);
    }
    snippet(body)
}

fn from_json(value: &Value) -> Option<String> {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(errors) = value.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = errors
            .iter()
            .take(5)
            .filter_map(|e| {
                let code = str_of(e, "code");
                let message = str_of(e, "message");
                let detail = e.get("detail").and_then(Value::as_str).map(str::to_string);
                let mut s = match (code, message) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c,
                    (None, Some(m)) => m,
                    (None, None) => return None,
                };
                if let Some(d) = detail.filter(|d| !d.is_empty()) {
                    s.push_str(" (");
                    s.push_str(&d);
                    s.push(')');
                }
                Some(s)
            })
            .collect();
        if !parts.is_empty() {
            return Some(parts.join("; "));
        }
    }
    if let Some(d) = str_of(value, "details") {
        return Some(d);
    }
    if let Some(e) = str_of(value, "error") {
        return Some(match str_of(value, "error_description") {
            Some(desc) => format!("{e}: {desc}"),
            None => e,
        });
    }
    str_of(value, "message")
}

/// The printable text of a non-JSON body (unclipped), or None for binary or empty bodies.
pub fn snippet(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// Server text as messages quote it: at most [`MAX_QUOTE`] bytes, the cut marked.
pub fn clip(s: &str) -> String {
    crate::error::clip(s, MAX_QUOTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let d = |b: &str| describe(b.as_bytes());
        assert_eq!(
            d(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository"}]}]}"#).unwrap(),
            "UNAUTHORIZED: authentication required"
        );
        assert_eq!(d(r#"{"details":"incorrect username or password"}"#).unwrap(), "incorrect username or password");
        assert_eq!(d(r#"{"error":"invalid_grant","error_description":"bad refresh token"}"#).unwrap(), "invalid_grant: bad refresh token");
        assert_eq!(d("Your Authorization Token has expired.\n").unwrap(), "Your Authorization Token has expired.");
        assert_eq!(d(""), None);
        assert_eq!(describe(b"\xff\xfe\x00"), None);
        assert_eq!(d("{}"), None);
        let c = clip(&"é".repeat(400));
        assert!(c.len() <= MAX_QUOTE + 3 && c.ends_with('…'));
    }
}
