//! The caller's credentials, the registry they are bound to, and the two things the flow derives
//! from them without ever putting them in clear anywhere else: a cache identity and the Basic
//! header.

use crate::error::{Code, Error};
use sha2::{Digest, Sha256};

/// A registry name as credentials are keyed: the domain `parseReference` gives, compared without
/// case, with Docker Hub's other names (`index.docker.io`, the legacy index, and
/// `registry-1.docker.io`, where its API is served) folded into `docker.io`, as Docker's
/// `config.json` lookups do.
pub fn registry_key(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => lower,
    }
}

#[derive(Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    /// An OAuth2 refresh token ("identity token" in Docker's config.json).
    pub refresh_token: Option<String>,
}

/// Never print secrets, not even through `{:?}` in a test failure or a log line.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { username: ")?;
        f.write_str(if self.username.is_some() { "Some(..)" } else { "None" })?;
        f.write_str(", password: ")?;
        f.write_str(if self.password.is_some() { "<redacted>" } else { "None" })?;
        f.write_str(", refresh_token: ")?;
        f.write_str(if self.refresh_token.is_some() { "<redacted>" } else { "None" })?;
        f.write_str(" }")
    }
}

impl Credentials {
    /// Refuses what cannot be sent: a password without a user, control characters (they would
    /// break a header or a form), and ':' in a user name (RFC 7617 §2).
    pub fn validate(&self) -> Result<(), Error> {
        if self.password.is_some() && self.username.as_deref().is_none_or(str::is_empty) {
            return Err(Error::new(Code::InvalidReference, "a password was given without a username"));
        }
        for (name, value) in [("username", &self.username), ("password", &self.password), ("refreshToken", &self.refresh_token)] {
            if value.as_deref().is_some_and(|v| v.chars().any(char::is_control)) {
                return Err(Error::new(Code::InvalidReference, format!("{name} contains control characters")));
            }
        }
        if self.username.as_deref().is_some_and(|u| u.contains(':')) {
            return Err(Error::new(Code::InvalidReference, "username must not contain ':' (RFC 7617)"));
        }
        Ok(())
    }

    pub fn is_anonymous(&self) -> bool {
        self.password.is_none() && self.refresh_token.is_none()
    }

    /// username + password, the pair both Basic and the OAuth2 password grant need.
    pub fn password_pair(&self) -> Option<(&str, &str)> {
        Some((self.username.as_deref().unwrap_or(""), self.password.as_deref()?))
    }

    /// A SHA-256 of everything that identifies the caller, as 32 hex digits. A cryptographic hash
    /// (not FNV or SipHash with a fixed key) because in a multi-tenant edge function one tenant
    /// must not be able to craft credentials whose cache key collides with another's.
    pub fn cache_id(&self) -> String {
        if self.is_anonymous() {
            return "anonymous".to_string();
        }
        let mut h = Sha256::new();
        for part in [&self.username, &self.password, &self.refresh_token] {
            match part {
                Some(s) => {
                    h.update([1u8]);
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
                None => h.update([0u8]),
            }
        }
        let mut out = String::with_capacity(32);
        crate::digest::push_hex(&mut out, h.finalize().get(..16).unwrap_or_default());
        out
    }

    /// `Basic base64(username:password)` (RFC 7617), or None without a password.
    pub fn basic_header(&self) -> Option<String> {
        let (user, pass) = self.password_pair()?;
        let mut raw = String::with_capacity(user.len() + 1 + pass.len());
        raw.push_str(user);
        raw.push(':');
        raw.push_str(pass);
        let mut out = "Basic ".to_string();
        base64_into(&mut out, raw.as_bytes());
        Some(out)
    }

    /// An error with every text it carries (message, `Retry-After`) passed through [`redact`]:
    /// the one exit every error of a call with secrets goes through.
    ///
    /// [`redact`]: Credentials::redact
    pub fn scrub(&self, mut e: Error) -> Error {
        e.message = self.redact(&e.message);
        e.retry_after = e.retry_after.map(|ra| self.redact(&ra));
        e
    }

    /// Replaces every secret (and its Basic encoding) in text that came from a server, in case
    /// the server echoed it back: our messages must never carry a secret.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut secrets: Vec<String> = Vec::new();
        for s in [&self.password, &self.refresh_token].into_iter().flatten() {
            secrets.push(s.clone());
        }
        if let Some(b) = self.basic_header().and_then(|h| h.strip_prefix("Basic ").map(str::to_string)) {
            secrets.push(b);
        }
        // Percent-encoded as the OAuth2 form body carried them (a server may echo the form), as
        // JavaScript's encodeURIComponent writes them (which keeps `!'()*`), with `+` for spaces,
        // and with lower-case hex digits.
        for raw in self.password.iter().chain(self.refresh_token.iter()) {
            let mut strict = String::new();
            crate::url::encode_component(&mut strict, raw);
            let js = strict.replace("%21", "!").replace("%27", "'").replace("%28", "(").replace("%29", ")").replace("%2A", "*");
            for encoded in [strict, js] {
                if encoded == *raw {
                    continue;
                }
                let lower = lower_hex_escapes(&encoded);
                for form in [encoded.replace("%20", "+"), lower.replace("%20", "+"), lower, encoded] {
                    if form != *raw && !secrets.contains(&form) {
                        secrets.push(form);
                    }
                }
            }
        }
        // As JSON writes them (a server's error detail), and lower-cased (URLs we quote are).
        for raw in self.password.iter().chain(self.refresh_token.iter()) {
            let mut json = String::new();
            crate::json::push_escaped(&mut json, raw);
            let lower = raw.to_ascii_lowercase();
            for form in [json, lower] {
                if form != *raw && !secrets.contains(&form) {
                    secrets.push(form);
                }
            }
        }
        for s in secrets.iter().filter(|s| s.len() >= 3) {
            out = out.replace(s.as_str(), "[redacted]");
        }
        out
    }
}

/// `%2F` → `%2f`: servers differ in the case of the hex digits they write back.
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_percent = 0;
    for c in s.chars() {
        if c == '%' {
            after_percent = 2;
            out.push(c);
        } else if after_percent > 0 {
            after_percent -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 4648 base64 with padding. Thirty lines instead of the `base64` crate's engine generics.
fn base64_into(out: &mut String, input: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'='));
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(u: Option<&str>, p: Option<&str>, r: Option<&str>) -> Credentials {
        Credentials { username: u.map(Into::into), password: p.map(Into::into), refresh_token: r.map(Into::into) }
    }

    #[test]
    fn basic_matches_rfc7617() {
        assert_eq!(creds(Some("Aladdin"), Some("open sesame"), None).basic_header().unwrap(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(creds(Some("a"), Some("bc"), None).basic_header().unwrap(), "Basic YTpiYw==");
        assert_eq!(creds(Some("ab"), Some("cd"), None).basic_header().unwrap(), "Basic YWI6Y2Q=");
        assert_eq!(creds(Some("user"), Some("pässwörd"), None).basic_header().unwrap(), "Basic dXNlcjpww6Rzc3fDtnJk");
        assert!(creds(Some("u"), None, None).basic_header().is_none());
    }

    #[test]
    fn cache_id_hides_and_separates() {
        let a = creds(Some("u"), Some("hunter2-secret"), None);
        let id = a.cache_id();
        assert_eq!(id.len(), 32);
        assert!(!id.contains("hunter2"));
        assert_ne!(id, creds(Some("u"), Some("other"), None).cache_id());
        assert_ne!(creds(Some("ab"), Some("c"), None).cache_id(), creds(Some("a"), Some("bc"), None).cache_id());
        assert_eq!(Credentials::default().cache_id(), "anonymous");
        assert!(!format!("{a:?}").contains("hunter2"));
    }

    #[test]
    fn registry_keys_fold_docker_hub() {
        for (name, want) in [
            ("docker.io", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("Registry-1.Docker.io", "docker.io"),
            ("GHCR.io", "ghcr.io"),
            ("localhost:5000", "localhost:5000"),
            ("[::1]:5000", "[::1]:5000"),
        ] {
            assert_eq!(registry_key(name), want, "{name}");
        }
    }

    #[test]
    fn validates() {
        assert!(creds(Some("u"), Some("p"), None).validate().is_ok());
        assert!(creds(None, Some("p"), None).validate().is_err());
        assert!(creds(Some("a:b"), Some("p"), None).validate().is_err());
        assert!(creds(Some("u"), Some("p\n"), None).validate().is_err());
        let e = creds(Some("u"), Some("secret\u{7}x"), None).validate().unwrap_err();
        assert!(!e.message.contains("secret"));
    }

    #[test]
    fn redacts() {
        let c = creds(Some("u"), Some("hunter2-secret"), Some("refresh-XYZ"));
        assert_eq!(c.redact("bad password hunter2-secret and refresh-XYZ"), "bad password [redacted] and [redacted]");
        let c = creds(Some("u"), Some("p@ss word:1"), None);
        assert_eq!(c.redact("got password=p%40ss%20word%3A1 and p%40ss+word%3A1"), "got password=[redacted] and [redacted]");
        assert_eq!(c.redact("lower p%40ss%20word%3a1"), "lower [redacted]");
        let c = creds(Some("u"), Some("p@ss!w0rd*(LEAK)'x"), None);
        // encodeURIComponent keeps !*()' as they are; the form encoder does not.
        assert_eq!(c.redact("js p%40ss!w0rd*(LEAK)'x form p%40ss%21w0rd%2A%28LEAK%29%27x"), "js [redacted] form [redacted]");
    }
}
