//! What goes into a shared token store (Workers KV, the Cache API, Web Storage) and what may come
//! back out (issue 12). A store is shared across isolates and page loads, and whoever can write
//! to it can put anything there, so:
//!
//! - the **key** is opaque and fixed-length: a SHA-256 over what a fresh isolate knows before any
//!   request (format version, registry base URL, the sorted scope, a hash of the whole credential),
//!   so a hit costs no request at all and names nothing in clear;
//! - the **value** holds only what using the token needs (token, expiry, granted scope, realm,
//!   service) and a hash of its own key, so a value copied under another key is refused; never a
//!   password, refresh token, Basic header or user name;
//! - a value read back is **checked** against the call's clock and key before it is trusted.
//!
//! Pure functions: the shell does the store's I/O, timeouts and counting.

use crate::digest::push_hex;
use crate::flow::{Grant, REFRESH_MARGIN_MS};
use crate::json::{self, Raw};
use sha2::{Digest, Sha256};

/// Bumped whenever the key's inputs or the value's shape change: old entries then miss.
pub const FORMAT: u32 = 1;

/// A token is written only with at least this much life left (two minutes).
pub const MIN_LIFE_TO_STORE_MS: u64 = 120_000;

/// Workers KV refuses a TTL under 60 seconds.
pub const MIN_TTL_SECONDS: u64 = 60;

/// The store key for one (registry, scope, credential): `rt1-` and 64 hex digits.
/// `credential_id` is [`Credentials::cache_id`]: the whole credential hashed (user name with
/// password, or the refresh token), the same identity the in-memory cache uses, so the two can
/// never disagree.
pub fn key(base: &str, scope: &str, credential_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [FORMAT.to_string().as_str(), base, &sorted_scope(scope), credential_id] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let mut out = format!("rt{FORMAT}-");
    push_hex(&mut out, &h.finalize());
    out
}

/// Scope entries sorted, so `a b` and `b a` are one key.
fn sorted_scope(scope: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in scope.split(' ').filter(|p| !p.is_empty()) {
        if let Err(at) = parts.binary_search(&p) {
            parts.insert(at, p);
        }
    }
    parts.join(" ")
}

/// A token as a store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub token: String,
    /// The token's own expiry, ms since the epoch.
    pub expires_at: u64,
    /// The granted scope entries.
    pub scope: Vec<String>,
    pub realm: String,
    pub service: Option<String>,
}

/// What `put` gets: the value, the token's expiry and the TTL in whole seconds — or None when the
/// token has less than two minutes left (not worth a write; KV's 60 s minimum TTL would outlive it).
pub fn encode(store_key: &str, t: &Stored, now: u64, refresh_margin_ms: u64) -> Option<(String, u64, u64)> {
    let left = t.expires_at.checked_sub(now)?;
    if left < MIN_LIFE_TO_STORE_MS {
        return None;
    }
    let ttl = (left.saturating_sub(refresh_margin_ms) / 1000).max(MIN_TTL_SECONDS);
    let mut v = String::with_capacity(t.token.len() + 200);
    v.push_str("{\"v\":");
    v.push_str(&FORMAT.to_string());
    v.push_str(",\"k\":\"");
    v.push_str(&key_check(store_key));
    v.push_str("\",\"token\":\"");
    json::push_escaped(&mut v, &t.token);
    v.push_str("\",\"expiresAt\":");
    v.push_str(&t.expires_at.to_string());
    v.push_str(",\"scope\":[");
    for (i, s) in t.scope.iter().enumerate() {
        if i > 0 {
            v.push(',');
        }
        v.push('"');
        json::push_escaped(&mut v, s);
        v.push('"');
    }
    v.push_str("],\"realm\":\"");
    json::push_escaped(&mut v, &t.realm);
    v.push('"');
    if let Some(s) = &t.service {
        v.push_str(",\"service\":\"");
        json::push_escaped(&mut v, s);
        v.push('"');
    }
    v.push('}');
    Some((v, t.expires_at, ttl))
}

/// A short hash of the key the value was written under, checked on read.
fn key_check(store_key: &str) -> String {
    let mut out = String::with_capacity(32);
    push_hex(&mut out, Sha256::digest(store_key.as_bytes()).get(..16).unwrap_or_default());
    out
}

/// What to write for a grant a call just received: (value, expiresAt, ttlSeconds), or None when
/// it is not a bearer token fresh from its token server with at least two minutes left.
pub fn for_grant(store_key: &str, grant: &Grant, now: u64) -> Option<(String, u64, u64)> {
    let (true, Some(token), Some(expires_at), Some(realm)) = (grant.fresh, &grant.token, grant.expires_at, &grant.realm) else {
        return None;
    };
    let stored =
        Stored { token: token.clone(), expires_at, scope: grant.scope.clone(), realm: realm.clone(), service: grant.service.clone() };
    encode(store_key, &stored, now, REFRESH_MARGIN_MS)
}

/// Why a value read back was not used (each counts as a store miss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not our JSON, or a field missing or of the wrong type.
    Malformed,
    /// Another format version.
    Version,
    /// Written under another key (copied, or another credential's).
    ForeignKey,
    /// Expired, or inside the refresh margin, by the call's clock.
    Expired,
}

/// Checks a value read back under `store_key` at `now` (the call's clock).
pub fn decode(store_key: &str, value: &str, now: u64, refresh_margin_ms: u64) -> Result<Stored, Refused> {
    let root = json::read(value.as_bytes()).filter(|r| r.is_object()).ok_or(Refused::Malformed)?;
    let [v, k, token, expires_at, scope, realm, service] = root.fields(["v", "k", "token", "expiresAt", "scope", "realm", "service"]);
    let number = |r: Option<Raw>| r.and_then(Raw::as_number).and_then(json::number_as_u64);
    if number(v) != Some(u64::from(FORMAT)) {
        return Err(if v.is_some() { Refused::Version } else { Refused::Malformed });
    }
    if k.and_then(Raw::as_string).as_deref() != Some(key_check(store_key).as_str()) {
        return Err(Refused::ForeignKey);
    }
    let token =
        token.and_then(Raw::as_string).filter(|t| !t.is_empty() && !t.bytes().any(|b| b < 0x20 || b == 0x7f)).ok_or(Refused::Malformed)?;
    let expires_at = number(expires_at).ok_or(Refused::Malformed)?;
    let realm = realm.and_then(Raw::as_string).ok_or(Refused::Malformed)?;
    let scope = match scope {
        Some(list) if list.is_array() => {
            let mut entries = Vec::new();
            for s in list.items() {
                entries.push(s.as_string().ok_or(Refused::Malformed)?);
            }
            entries
        }
        _ => return Err(Refused::Malformed),
    };
    let service = match service {
        None => None,
        Some(s) => Some(s.as_string().ok_or(Refused::Malformed)?),
    };
    if expires_at <= now.saturating_add(refresh_margin_ms) {
        return Err(Refused::Expired);
    }
    Ok(Stored { token, expires_at, scope, realm, service })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;

    const MARGIN: u64 = 30_000;

    fn creds(user: Option<&str>, pass: Option<&str>, refresh: Option<&str>) -> String {
        Credentials { username: user.map(Into::into), password: pass.map(Into::into), refresh_token: refresh.map(Into::into) }.cache_id()
    }

    fn token(expires_at: u64) -> Stored {
        Stored {
            token: "tok\"en\\1".into(),
            expires_at,
            scope: vec!["repository:a/b:pull".into()],
            realm: "https://auth.example/token".into(),
            service: Some("svc".into()),
        }
    }

    #[test]
    fn keys_are_opaque_fixed_and_separate() {
        let base = "https://ghcr.io";
        let k = key(base, "repository:a/b:pull", &creds(Some("u"), Some("hunter2"), None));
        assert_eq!(k.len(), 4 + 64);
        assert!(k.starts_with("rt1-"));
        assert!(!k.contains("hunter2") && !k.contains("ghcr"));
        assert_eq!(
            key(base, "b a", &Credentials::default().cache_id()),
            key(base, "a b", &Credentials::default().cache_id()),
            "sorted scope"
        );
        let others = [
            key("https://other.io", "repository:a/b:pull", &creds(Some("u"), Some("hunter2"), None)),
            key(base, "repository:a/b:pull,push", &creds(Some("u"), Some("hunter2"), None)),
            key(base, "repository:a/b:pull", &creds(Some("u"), Some("other"), None)),
            key(base, "repository:a/b:pull", &creds(Some("v"), Some("hunter2"), None)),
            key(base, "repository:a/b:pull", &creds(None, None, Some("rt"))),
            key(base, "repository:a/b:pull", &Credentials::default().cache_id()),
        ];
        for (i, o) in others.iter().enumerate() {
            assert_ne!(*o, k, "{i}");
        }
    }

    #[test]
    fn round_trip_and_what_is_written() {
        let k = key("https://ghcr.io", "repository:a/b:pull", &creds(Some("alice"), Some("hunter2"), None));
        let now = 1_000_000;
        let (value, expires_at, ttl) = encode(&k, &token(now + 300_000), now, MARGIN).unwrap();
        assert_eq!(expires_at, now + 300_000);
        assert_eq!(ttl, 270);
        for secret in ["hunter2", "alice", "Basic"] {
            assert!(!value.contains(secret), "{secret} in {value}");
        }
        assert_eq!(decode(&k, &value, now, MARGIN).unwrap(), token(now + 300_000));
    }

    #[test]
    fn short_lives_are_not_written_and_ttl_has_a_floor() {
        let k = key("b", "s", &Credentials::default().cache_id());
        assert!(encode(&k, &token(119_999), 0, MARGIN).is_none(), "under two minutes left");
        assert!(encode(&k, &token(100), 200, MARGIN).is_none(), "already expired");
        assert_eq!(encode(&k, &token(120_000), 0, MARGIN).unwrap().2, 90);
        assert_eq!(encode(&k, &token(125_000), 0, 100_000).unwrap().2, MIN_TTL_SECONDS, "never below KV's 60 s");
    }

    #[test]
    fn values_are_checked_on_read() {
        let k = key("b", "s", &Credentials::default().cache_id());
        let other = key("b", "s", &creds(Some("u"), Some("p"), None));
        let (value, ..) = encode(&k, &token(500_000), 0, MARGIN).unwrap();
        assert_eq!(decode(&other, &value, 0, MARGIN), Err(Refused::ForeignKey), "copied under another key");
        assert_eq!(decode(&k, &value, 470_000, MARGIN), Err(Refused::Expired), "inside the refresh margin");
        assert!(decode(&k, &value, 469_999, MARGIN).is_ok());
        assert_eq!(decode(&k, &value.replace("\"v\":1", "\"v\":2"), 0, MARGIN), Err(Refused::Version));
        for bad in [
            "",
            "null",
            "[]",
            "{}",
            "{\"v\":1}",
            &value.replace("\"token\":", "\"nope\":"),
            &value.replace("[\"repository", "[1,\"repository"),
        ] {
            let e = decode(&k, bad, 0, MARGIN).unwrap_err();
            assert!(matches!(e, Refused::Malformed | Refused::ForeignKey), "{bad}: {e:?}");
        }
    }
}
