//! The token server's answer (distribution `docs/spec/auth/token.md` §"Token Response Fields"
//! and `oauth.md`).
//!
//! The spec lets a server send `token`, `access_token` or both ("if they differ the client's
//! choice is undefined"): we take `token` first, as Docker does. `expires_in` "defaults to 60
//! seconds" and "a token should never be returned with less than 60 seconds to live", so anything
//! missing, unreadable or smaller becomes 60. Expiry counts from when we received the answer, not
//! from `issued_at`, so a skewed server clock cannot make a fresh token look stale.

use crate::error::{Code, Error};
use crate::json::{self, Value};

/// Token bodies are a few kilobytes; anything past this is refused, not buffered.
pub const MAX_BODY: usize = 1024 * 1024;

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

pub fn decode(body: &[u8]) -> Result<TokenResponse, Error> {
    let bad = |why: &str| Error::new(Code::BadTokenResponse, why.to_string());
    let obj = json::parse(body).ok_or_else(|| bad(&describe_non_json(body)))?;
    if !obj.is_object() {
        return Err(bad("the token response is JSON but not an object"));
    }
    let token = match (obj.get("token"), obj.get("access_token")) {
        (Some(Value::String(t)), _) if !t.is_empty() => t.clone(),
        (_, Some(Value::String(t))) if !t.is_empty() => t.clone(),
        (None, None) => return Err(bad("the token response has neither \"token\" nor \"access_token\"")),
        _ => return Err(bad("the token response's \"token\"/\"access_token\" is not a non-empty string")),
    };
    if token.bytes().any(|b| b < 0x20 || b == 0x7f) {
        // It goes into an Authorization header; fetch would throw on it, later and less clearly.
        return Err(bad("the token holds control characters and cannot be sent in a header"));
    }
    let string = |key: &str| obj.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(TokenResponse {
        token,
        expires_in: expires_in(obj.get("expires_in")),
        refresh_token: string("refresh_token"),
        scope: obj.get("scope").and_then(Value::as_str).map(str::to_string),
    })
}

fn expires_in(value: Option<&Value>) -> u64 {
    let secs = match value {
        Some(Value::Number(n)) => json::number_as_u64(n),
        // Not in the spec, but a numeric string is unambiguous; anything else means "default".
        Some(Value::String(s)) => json::number_as_u64(s),
        _ => None,
    };
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
}
