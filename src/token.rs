//! The token server's answer (distribution `docs/spec/auth/token.md` §"Token Response Fields"
//! and `oauth.md`).
//!
//! The spec lets a server send `token`, `access_token` or both ("if they differ the client's
//! choice is undefined"): we take `token` first, as Docker does. `expires_in` "defaults to 60
//! seconds" and "a token should never be returned with less than 60 seconds to live", so anything
//! missing, unreadable or smaller becomes 60. Expiry counts from when we received the answer, not
//! from `issued_at`, so a skewed server clock cannot make a fresh token look stale.

use crate::error::{Code, Error};
use crate::json::{self, Raw};

/// The most of a token or error body we read: the shell stops there, and the flow refuses a
/// token response that did not fit (`body_truncated`). A token goes into an `Authorization`
/// header, which servers cap at 8–16 KiB, and the spec lets a body carry it twice (`token` and
/// `access_token`), so real bodies are a few kilobytes; oras-go caps token responses at 128 KiB
/// too. Bodies land in wasm memory, which never shrinks, so this also bounds what one response
/// can grow it by.
pub const MAX_BODY: usize = 128 * 1024;

/// The spec's floor and default for `expires_in`, in seconds.
pub const MIN_EXPIRES_IN: u64 = 60;

/// A ceiling that keeps `now + expires_in` far from overflow whatever a server claims (a year).
pub const MAX_EXPIRES_IN: u64 = 365 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenResponse {
    pub token: String,
    /// Seconds, clamped to [`MIN_EXPIRES_IN`, `MAX_EXPIRES_IN`].
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    /// The granted scope (OAuth2 responses carry it), space-separated as sent; `""` means the
    /// server granted nothing, which is not an error (spec: partial grants are normal).
    pub scope: Option<String>,
}

/// Reads the body whole (an invalid body is refused even past the members we use) but copies
/// out only the members below: whatever else a hostile server pads it with is stepped over.
pub fn decode(body: &[u8]) -> Result<TokenResponse, Error> {
    let bad = |why: &str| Error::new(Code::BadTokenResponse, why.to_string());
    let obj = json::read(body).ok_or_else(|| bad(&describe_non_json(body)))?;
    if !obj.is_object() {
        return Err(bad("the token response is JSON but not an object"));
    }
    let [token, access_token, expires, refresh_token, scope] =
        obj.fields(["token", "access_token", "expires_in", "refresh_token", "scope"]);
    let non_empty = |v: Option<Raw>| v.and_then(Raw::as_string).filter(|t| !t.is_empty());
    let token = match non_empty(token).or_else(|| non_empty(access_token)) {
        Some(t) => t,
        None if token.is_none() && access_token.is_none() => {
            return Err(bad("the token response has neither \"token\" nor \"access_token\""))
        }
        None => return Err(bad("the token response's \"token\"/\"access_token\" is not a non-empty string")),
    };
    if token.bytes().any(|b| b < 0x20 || b == 0x7f) {
        // It goes into an Authorization header; fetch would throw on it, later and less clearly.
        return Err(bad("the token holds control characters and cannot be sent in a header"));
    }
    Ok(TokenResponse {
        token,
        expires_in: expires_in(expires),
        refresh_token: non_empty(refresh_token),
        scope: scope.and_then(Raw::as_string),
    })
}

fn expires_in(value: Option<Raw>) -> u64 {
    let secs = value.and_then(|v| match v.as_number() {
        Some(n) => json::number_as_u64(n),
        // Not in the spec, but a numeric string is unambiguous; anything else means "default".
        None => v.as_string().as_deref().and_then(json::number_as_u64),
    });
    secs.unwrap_or(MIN_EXPIRES_IN).clamp(MIN_EXPIRES_IN, MAX_EXPIRES_IN)
}

/// Says what is wrong without quoting the body: the caller quotes it once secrets are removed.
fn describe_non_json(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        "the token response body is empty".to_string()
    } else {
        "the token response is not JSON".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_fields() {
        let t = decode(br#"{"token":"a","access_token":"b","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!((t.token.as_str(), t.expires_in), ("a", 300));
        let t = decode(br#"{"access_token":"b","scope":"repository:x:pull","refresh_token":"r"}"#).unwrap();
        assert_eq!(t.token, "b");
        assert_eq!(t.expires_in, 60);
        assert_eq!(t.scope.as_deref(), Some("repository:x:pull"));
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        assert_eq!(decode(br#"{"token":"","access_token":"z"}"#).unwrap().token, "z");
    }

    #[test]
    fn expires_in_is_clamped() {
        for (v, want) in [
            ("10", 60),
            ("-5", 60),
            ("1e308", MAX_EXPIRES_IN),
            ("\"120\"", 120),
            ("\"soon\"", 60),
            ("null", 60),
            ("900.7", 900),
            ("[]", 60),
        ] {
            let body = format!(r#"{{"token":"t","expires_in":{v}}}"#);
            assert_eq!(decode(body.as_bytes()).unwrap().expires_in, want, "{v}");
        }
    }

    #[test]
    fn bad_bodies() {
        for body in [
            &b""[..],
            b"   ",
            b"<html>nope</html>",
            b"[]",
            b"{}",
            b"{\"token\":5}",
            b"{\"token\":null}",
            b"{\"token\":\"a\nb\"}",
            b"{\"token\":\"\"}",
            b"\xff\xfe",
        ] {
            assert_eq!(decode(body).unwrap_err().code, Code::BadTokenResponse, "{body:?}");
        }
    }

    const NOT_JSON: &str = "the token response is not JSON";
    const EMPTY: &str = "the token response body is empty";
    const NOT_OBJECT: &str = "the token response is JSON but not an object";
    const NEITHER: &str = "the token response has neither \"token\" nor \"access_token\"";
    const NOT_STRING: &str = "the token response's \"token\"/\"access_token\" is not a non-empty string";
    const CONTROL: &str = "the token holds control characters and cannot be sent in a header";

    fn ok(token: &str, expires_in: u64, refresh_token: Option<&str>, scope: Option<&str>) -> Result<TokenResponse, String> {
        Ok(TokenResponse { token: token.into(), expires_in, refresh_token: refresh_token.map(Into::into), scope: scope.map(Into::into) })
    }

    /// Real servers' answers and hostile variations, with what the tree-building decoder this
    /// reader replaced returned for each (recorded from it before the switch).
    #[test]
    fn same_results_as_the_tree_decoder() {
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3MiOltdfQ.c2ln";
        let docker_hub =
            format!(r#"{{"token":"{jwt}","access_token":"{jwt}","expires_in":300,"issued_at":"2024-05-01T12:00:00.123456789Z"}}"#);
        let cases: Vec<(&[u8], Result<TokenResponse, String>)> = vec![
            (docker_hub.as_bytes(), ok(jwt, 300, None, None)),
            (br#"{"token":"djE6b3JnL2FwcDoxNzE0NTYwMDAwMDAw"}"#, ok("djE6b3JnL2FwcDoxNzE0NTYwMDAwMDAw", 60, None, None)),
            (br#"{"expires_in":3600,"issued_at":"2024-05-01T12:00:00.000000Z","token":"ya29.c.b0Aaek"}"#, ok("ya29.c.b0Aaek", 3600, None, None)),
            (br#"{"access_token":"eyJ0eXAiOiJKV1QifQ.e30.c2ln"}"#, ok("eyJ0eXAiOiJKV1QifQ.e30.c2ln", 60, None, None)),
            (br#"{"token":"h","access_token":"","expires_in":1800,"issued_at":"2024-05-01T12:00:00Z"}"#, ok("h", 1800, None, None)),
            (
                br#"{"access_token":"a","refresh_token":"r","expires_in":300,"scope":"repository:library/nginx:pull","issued_at":"2024-05-01T12:00:00Z"}"#,
                ok("a", 300, Some("r"), Some("repository:library/nginx:pull")),
            ),
            (br#"{"access_token":"x","token_type":"Bearer","expires_in":"3600","scope":""}"#, ok("x", 3600, None, Some(""))),
            (b"{\n  \"token\" : \"spaced\" ,\n\t\"expires_in\" : 120\r\n}\n", ok("spaced", 120, None, None)),
            (br#"{"token":"a\/b\u002Bc\u00e9"}"#, ok("a/b+c\u{e9}", 60, None, None)),
            (br#"{"tok\u0065n":"k","expires_in":1.2e3}"#, ok("k", 1200, None, None)),
            (br#"{"token":"first","token":"second"}"#, ok("first", 60, None, None)),
            (br#"{"token":5,"token":"second","access_token":"z"}"#, ok("z", 60, None, None)),
            (br#"{"token":5,"token":"s"}"#, Err(NOT_STRING.into())),
            (br#"{"token":"t","extra":{"token":"nested","a":[1,2,{"x":null}]},"more":[true,false,null,-0.5e-3]}"#, ok("t", 60, None, None)),
            (br#"{"token":"\ud83d\ude00","refresh_token":""}"#, ok("\u{1f600}", 60, None, None)),
            (br#"{"token":"a\u0000b"}"#, Err(CONTROL.into())),
            (br#"{"token":"a\u007fb"}"#, Err(CONTROL.into())),
            (br#"{"token":"a\tb"}"#, Err(CONTROL.into())),
            (br#"{"token":"t","expires_in":-1}"#, ok("t", 60, None, None)),
            (br#"{"token":"t","expires_in":1e400}"#, ok("t", MAX_EXPIRES_IN, None, None)),
            (br#"{"token":"t","expires_in":" 90 "}"#, ok("t", 90, None, None)),
            (br#"{"token":"t","expires_in":{"s":90}}"#, ok("t", 60, None, None)),
            (br#"{"token":"t","expires_in":100,"expires_in":200}"#, ok("t", 100, None, None)),
            (br#"{"token":"t","refresh_token":5,"scope":7}"#, ok("t", 60, None, None)),
            (br#"{"token":"t","scope":"a b","scope":"c"}"#, ok("t", 60, None, Some("a b"))),
            (br#"{"token":"","access_token":""}"#, Err(NOT_STRING.into())),
            (br#"{"token":null,"access_token":"a"}"#, ok("a", 60, None, None)),
            (br#"{"access_token":5}"#, Err(NOT_STRING.into())),
            (br#"{"Token":"t"}"#, Err(NEITHER.into())),
            (b"{}", Err(NEITHER.into())),
            (b"[]", Err(NOT_OBJECT.into())),
            (br#"[{"token":"t"}]"#, Err(NOT_OBJECT.into())),
            (br#""token""#, Err(NOT_OBJECT.into())),
            (b"null", Err(NOT_OBJECT.into())),
            (b"42", Err(NOT_OBJECT.into())),
            (b"", Err(EMPTY.into())),
            (b" \n\t", Err(EMPTY.into())),
            (b"<html><body>Login</body></html>", Err(NOT_JSON.into())),
            (br#"{"token":"t"} x"#, Err(NOT_JSON.into())),
            (br#"{"token":"t"}}"#, Err(NOT_JSON.into())),
            (br#"{"token":"t",}"#, Err(NOT_JSON.into())),
            (br#"{"token":"t""#, Err(NOT_JSON.into())),
            (br#"{"token":"\x"}"#, Err(NOT_JSON.into())),
            (br#"{"token":"\ud800"}"#, Err(NOT_JSON.into())),
            (br#"{"token":"\udc00x"}"#, Err(NOT_JSON.into())),
            (br#"{"token":"\ud800\u0041"}"#, Err(NOT_JSON.into())),
            (b"{\"token\":\"t\",\"a\":\"\x01\"}", Err(NOT_JSON.into())),
            (br#"{"token":"t","n":01}"#, Err(NOT_JSON.into())),
            (br#"{"token":"t","n":1.}"#, Err(NOT_JSON.into())),
            (br#"{"token":"t","n":tru}"#, Err(NOT_JSON.into())),
            (b"{\"token\":\"t\"}\0", Err(NOT_JSON.into())),
            (b"\xef\xbb\xbf{\"token\":\"t\"}", Err(NOT_JSON.into())),
            (b"\xff\xfe", Err(NOT_JSON.into())),
            (b"{\"token\":\"a\xc3\"}", Err(NOT_JSON.into())),
        ];
        for (body, want) in cases {
            let got = decode(body).map_err(|e| {
                assert_eq!(e.code, Code::BadTokenResponse);
                e.message
            });
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(body));
        }
    }

    /// `head`, as many `unit`s as fit, then spaces (JSON whitespace, or a string's text) to make
    /// exactly `len` bytes with `tail`.
    fn padded(head: &str, unit: &str, tail: &str, len: usize) -> Vec<u8> {
        let mut body = head.to_string();
        while body.len() + unit.len() + tail.len() <= len {
            body.push_str(unit);
        }
        body.push_str(&" ".repeat(len - body.len() - tail.len()));
        body.push_str(tail);
        body.into_bytes()
    }

    #[test]
    fn a_body_of_exactly_max_body_decodes() {
        let body = padded(r#"{"token":"t","expires_in":300,"padding":""#, "x", r#""}"#, MAX_BODY);
        assert_eq!(body.len(), MAX_BODY);
        assert_eq!(decode(&body).map_err(|e| e.message), ok("t", 300, None, None));
        // Padding of any shape, before the token as well as after.
        let body = padded(r#"{"padding":["#, "[{},[]],", r#"[]],"access_token":"a"}"#, MAX_BODY);
        assert_eq!(body.len(), MAX_BODY);
        assert_eq!(decode(&body).unwrap().token, "a");
        // A token as long as the body allows.
        let body = padded(r#"{"token":""#, "y", r#""}"#, MAX_BODY);
        assert_eq!(decode(&body).unwrap().token.len(), MAX_BODY - 12);
    }

    /// Shapes that made the tree decoder allocate megabytes are refused with the same errors
    /// (the allocation itself is measured in tests/regressions.rs).
    #[test]
    fn hostile_bodies_of_max_body() {
        let empty_arrays = padded("[", "[],", "[]]", MAX_BODY);
        assert_eq!(decode(&empty_arrays).unwrap_err().message, NOT_OBJECT);
        let deep = padded(r#"{"a":"#, "[", "", MAX_BODY);
        assert_eq!(decode(&deep).unwrap_err().message, NOT_JSON);
        let deep_but_closed = format!(r#"{{"a":{}1{}}}"#, "[".repeat(MAX_BODY / 2 - 4), "]".repeat(MAX_BODY / 2 - 4));
        assert_eq!(decode(deep_but_closed.as_bytes()).unwrap_err().message, NOT_JSON);
        let no_token = padded(r#"{"a":["#, "[],", "[]]}", MAX_BODY);
        assert_eq!(decode(&no_token).unwrap_err().message, NEITHER);
        let many_members = padded("{", r#""token":5,"#, r#""token":6}"#, MAX_BODY);
        assert_eq!(decode(&many_members).unwrap_err().message, NOT_STRING);
    }
}
