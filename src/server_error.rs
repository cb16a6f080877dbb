//! The server's own words for an error, to quote in our message. Registries answer in a few
//! shapes, and users need the words to fix their setup:
//! - distribution (`docs/spec/api.md`): `{"errors":[{"code":"UNAUTHORIZED","message":"…","detail":…}]}`
//! - Docker Hub's token server: `{"details":"incorrect username or password"}`
//! - OAuth2 (RFC 6749 §5.2): `{"error":"invalid_grant","error_description":"…"}`
//! - ECR, CDNs and proxies: plain text or HTML.

use crate::error::ServerError;
use crate::json::{self, Raw};

/// Longest piece of server text we quote: enough for any real message, and a hostile server
/// cannot make our error messages huge.
const MAX_QUOTE: usize = 300;

/// The server's words, unclipped: the caller removes secrets first and clips after, so a
/// secret cut in half by the clip cannot slip past the redaction.
pub fn describe(body: &[u8]) -> Option<String> {
    match json::read(body) {
        Some(value) => from_json(value),
        None => snippet(body),
    }
}

/// Copies out only the strings it quotes; the rest of the body (a `detail` of any shape, the
/// sixth error on) is stepped over.
fn from_json(value: Raw) -> Option<String> {
    let string = |v: Option<Raw>| v.and_then(Raw::as_string);
    let [errors, details, error, error_description, message] = value.fields(["errors", "details", "error", "error_description", "message"]);
    let mut parts: Option<String> = None;
    // `items` gives nothing unless `errors` is an array.
    if let Some(errors) = errors {
        for e in errors.items().take(5) {
            let [code, text, detail] = e.fields(["code", "message", "detail"]);
            let mut s = match (string(code), string(text)) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c,
                (None, Some(m)) => m,
                (None, None) => continue,
            };
            if let Some(d) = string(detail).filter(|d| !d.is_empty()) {
                s.push_str(" (");
                s.push_str(&d);
                s.push(')');
            }
            match &mut parts {
                Some(list) => {
                    list.push_str("; ");
                    list.push_str(&s);
                }
                None => parts = Some(s),
            }
        }
    }
    if parts.is_some() {
        return parts;
    }
    if let Some(d) = string(details) {
        return Some(d);
    }
    if let Some(e) = string(error) {
        return Some(match string(error_description) {
            Some(desc) => format!("{e}: {desc}"),
            None => e,
        });
    }
    string(message)
}

/// How many entries of an `errors` array an error carries, and how long a `detail` may be (its
/// JSON text) before it is dropped: enough for distribution's few entries of a few hundred bytes.
const MAX_ENTRIES: usize = 16;
const MAX_DETAIL: usize = 4096;

/// distribution's `errors` entries as sent (`code`, `message`, `detail` as JSON text), for the
/// error's `errors` property; `redact` is applied to every text before it is kept.
pub fn entries(body: &[u8], redact: &dyn Fn(&str) -> String) -> Vec<ServerError> {
    let Some(root) = json::read(body) else { return Vec::new() };
    let Some(errors) = root.get("errors") else { return Vec::new() };
    let mut entries = Vec::new();
    for e in errors.items().take(MAX_ENTRIES) {
        let [code, message, detail] = e.fields(["code", "message", "detail"]);
        // Secrets out first, then clipped: a clip first could cut a secret past recognition.
        let text = |v: Option<Raw>| crate::text::clip(&redact(&v.and_then(Raw::as_string).unwrap_or_default()), MAX_QUOTE);
        // `detail` as JSON with its escapes undone (`\u0068…` would hide a secret), then
        // redacted as text; dropped if that is no longer JSON (a secret across a quote).
        let detail =
            detail.filter(|d| d.text().len() <= MAX_DETAIL).map(|d| redact(&d.normalized())).filter(|d| json::is_valid(d.as_bytes()));
        entries.push(ServerError { code: text(code), message: text(message), detail });
    }
    entries
}

/// The printable text of a non-JSON body (unclipped), or None for binary or empty bodies:
/// control characters count as whitespace, and each run of whitespace becomes one space. One
/// pass into one buffer no larger than the body; splitting into words first cost 16 bytes a
/// word, 1 MB for a 128 KiB body of `a a a …`.
pub fn snippet(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Server text as messages quote it: at most `MAX_QUOTE` (300) bytes, the cut marked.
pub fn clip(s: &str) -> String {
    crate::text::clip(s, MAX_QUOTE)
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

    /// Real registries' error bodies and hostile variations, with what the description built on
    /// the tree-building JSON parser gave for each (recorded from it before the switch).
    #[test]
    fn same_results_as_the_tree_decoder() {
        let cases: [(&[u8], Option<&str>); 33] = [
            (
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"library/nginx","Action":"pull"}]}]}"#,
                Some("UNAUTHORIZED: authentication required"),
            ),
            (
                br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":"pull denied"}]}"#,
                Some("DENIED: requested access to the resource is denied (pull denied)"),
            ),
            (
                br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}"#,
                Some("TOOMANYREQUESTS: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"),
            ),
            (
                br#"{"errors":[{"code":"DENIED","message":"Permission \"artifactregistry.repositories.downloadArtifacts\" denied on resource \"projects/p/locations/us/repositories/r\" (or it may not exist)"}]}"#,
                Some(r#"DENIED: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/p/locations/us/repositories/r" (or it may not exist)"#),
            ),
            (
                br#"{"errors":[{"code":"A","message":"1"},{"code":"B"},{"message":"3"},{"code":"D","message":"4","detail":"d4"},{"code":"E","message":"5"},{"code":"F","message":"6"},{"code":"G"}]}"#,
                Some("A: 1; B; 3; D: 4 (d4); E: 5"),
            ),
            (br#"{"errors":[1,"x",{"message":"only message"},{},null]}"#, Some("only message")),
            (br#"{"errors":[],"details":"fallback"}"#, Some("fallback")),
            (br#"{"errors":[{}],"message":"m"}"#, Some("m")),
            (br#"{"errors":"nope","message":"m"}"#, Some("m")),
            (br#"{"errors":[{"code":5,"message":"m","detail":{"x":1}}]}"#, Some("m")),
            (br#"{"errors":[{"code":"C","detail":""}]}"#, Some("C")),
            (br#"{"errors":[{"code":"C","code":"D","message":"m\nline\u00e9"}]}"#, Some("C: m\nline\u{e9}")),
            (br#"{"details":"incorrect username or password"}"#, Some("incorrect username or password")),
            (br#"{"error":"invalid_grant","error_description":"bad refresh token"}"#, Some("invalid_grant: bad refresh token")),
            (br#"{"error":"unauthorized_client"}"#, Some("unauthorized_client")),
            (br#"{"error":"e","error_description":5}"#, Some("e")),
            (br#"{"error":5,"message":"m"}"#, Some("m")),
            (br#"{"message":"Not Found"}"#, Some("Not Found")),
            (br#"{"details":"d","error":"e","message":"m"}"#, Some("d")),
            (br#"{"details":5,"error":"e","error_description":""}"#, Some("e: ")),
            (br#"{"details":"","error":"e"}"#, Some("")),
            (br#"{"message":""}"#, Some("")),
            (b"{}", None),
            (br#"[{"message":"in an array"}]"#, None),
            (br#""just a string""#, None),
            (b"Your Authorization Token has expired.\n", Some("Your Authorization Token has expired.")),
            (
                b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n",
                Some("<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>"),
            ),
            ("internal error:\tdb\u{0}down\r\n  retry\u{85}later\u{a0}ok".as_bytes(), Some("internal error: db down retry later ok")),
            (br#"{"details":"cut"#, Some(r#"{"details":"cut"#)),
            (b"", None),
            (b"  \n ", None),
            ("\u{ff}\u{fe}".as_bytes(), Some("\u{ff}\u{fe}")),
            (b"\xff\xfe\x00", None),
        ];
        for (body, want) in cases {
            assert_eq!(describe(body).as_deref(), want, "{:?}", String::from_utf8_lossy(body));
        }
    }

    /// The one-pass snippet says what splitting into words and joining them said.
    #[test]
    fn snippet_collapses_whitespace_and_controls() {
        for text in [
            "",
            " ",
            "a",
            " a ",
            "a  b",
            "\u{0}a\u{7}\u{1b}[31mb\u{7f}",
            "\u{2003}x\u{2028}y\u{3000}",
            "tab\tnl\ncr\r",
            "é 😀\u{85}\u{9f}z",
        ] {
            let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let words = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(snippet(text.as_bytes()), (!words.is_empty()).then_some(words), "{text:?}");
        }
    }

    /// Only the quoted strings are copied out, however the rest of a 128 KiB body is shaped.
    #[test]
    fn padded_error_bodies_of_max_body() {
        let max = crate::token::MAX_BODY;
        let mut body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":["#.to_string();
        while body.len() < max - 8 {
            body.push_str("[{}],");
        }
        body.push_str("[]]}]}");
        assert!(body.len() <= max);
        assert_eq!(describe(body.as_bytes()).unwrap(), "UNAUTHORIZED: authentication required");
        let mut many = r#"{"errors":["#.to_string();
        while many.len() < max - 40 {
            many.push_str(r#"{"code":"C"},"#);
        }
        many.push_str(r#"{}],"details":"not used"}"#);
        assert_eq!(describe(many.as_bytes()).unwrap(), "C; C; C; C; C");
    }
}
