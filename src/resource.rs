//! One authorized request to a registry resource, in the spirit of oras-go's `auth.Client.Do`:
//! the token dance ([`crate::flow`]) is one step of it. This module decides everything about the
//! request itself — where it goes, which actions it needs, what a 401 asks for, which redirect
//! may carry `Authorization`, what a failure means — and the shell only moves bytes.
//!
//! ```text
//!  authorize(scopes) ──► send ──2xx/other──► deliver the Response
//!        ▲                │
//!        │                ├─3xx──► follow by hand (Authorization only on the registry's origin)
//!        │                └─401 Bearer, first time:
//!        │                     insufficient_scope + scope ─► scopes ∪ challenge's scopes ─┐
//!        │                     invalid_token / none ─────► drop the cached token ─────────┤
//!        └────────────────────────────────────────────────────────────── retry once ◄───┘
//! ```

use crate::challenge::parse_challenges;
use crate::error::{Code, Error};
use crate::scope::{split_list, Scope};
use crate::server_error;
use crate::url::HttpUrl;

/// The actions a method needs on the repository: reading is `pull`; writing (blob uploads,
/// manifest PUT) is `pull,push`, since distribution checks both on upload; `DELETE` is `delete`
/// (distribution ≥ 2.7 asks for it).
pub fn actions_for(method: &str) -> &'static [&'static str] {
    match method.to_ascii_uppercase().as_str() {
        "POST" | "PUT" | "PATCH" => &["pull", "push"],
        "DELETE" => &["delete"],
        _ => &["pull"],
    }
}

/// Where `path` points: relative to `<base>/v2/<repository>/` (`tags/list?n=10`,
/// `manifests/1.0`), an absolute path under the base (`/v2/_catalog`; a path prefix of the base,
/// such as a proxy route, is kept), or a URL on the registry's own origin. Anything else is
/// refused before it is sent, so `Authorization` cannot be pointed elsewhere.
pub fn url_for(base: &HttpUrl, repository: &str, path: &str) -> Result<HttpUrl, Error> {
    let bad = |why: &str| Error::new(Code::InvalidReference, format!("path \"{}\" {why}", crate::text::clip(path, 200)));
    if path.is_empty() || path.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f) {
        return Err(bad("is empty or holds characters a URL may not"));
    }
    let text = if path.contains("://") {
        let url = HttpUrl::parse(path).map_err(|why| bad(&why))?;
        if url.origin() != base.origin() {
            return Err(bad(&format!("is not on the registry's origin {}; nothing was sent", base.origin())));
        }
        return Ok(url);
    } else if path.starts_with("//") {
        return Err(bad("is a network-path reference; give a path or a URL on the registry's origin"));
    } else if path.starts_with('/') {
        [base.text().as_str(), path].concat()
    } else if repository.is_empty() {
        return Err(bad("is relative, but this call names no repository"));
    } else {
        [base.text().as_str(), "/v2/", repository, "/", path].concat()
    };
    HttpUrl::parse(&text).map_err(|why| bad(&why))
}

/// What to do with a resource's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Hand the response to the caller.
    Deliver,
    /// A redirect: send again to `url`, with `Authorization` only when `authorize` (the
    /// registry's own origin); `as_get` for a 303, which turns any method but HEAD into GET.
    Follow { url: String, authorize: bool, as_get: bool },
    /// A browser hid the redirect (opaque response): send again and let fetch follow.
    Resend,
    /// Get another token and send once more: for `scopes` (the caller's merged with what the
    /// challenge asked for), after dropping the refused token when `forget`.
    Reauthorize { scopes: Vec<String>, forget: bool },
}

/// One resource request in progress.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    url: HttpUrl,
    base_origin: String,
    /// The scopes the current token was asked for.
    scopes: Vec<String>,
    hops: u8,
    retried: bool,
}

impl Call {
    pub fn new(method: &str, url: HttpUrl, base: &HttpUrl, scopes: Vec<String>) -> Call {
        Call { method: method.to_ascii_uppercase(), url, base_origin: base.origin(), scopes, hops: 0, retried: false }
    }

    pub fn url(&self) -> String {
        self.url.text()
    }

    /// `Authorization` goes to the registry's origin only (blob storage on a CDN gets none).
    pub fn may_authorize(&self) -> bool {
        self.url.origin() == self.base_origin
    }

    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub fn on_response(&mut self, status: u16, www_authenticate: Option<&str>, location: Option<&str>) -> Result<Next, Error> {
        if status == 0 {
            self.hop()?;
            return Ok(Next::Resend);
        }
        if crate::redirect::is_redirect(status) && location.is_some() {
            let target = crate::redirect::next(&self.url.text(), status, location, self.hops, "the registry", Code::BadRegistryResponse)?;
            self.hops = self.hops.saturating_add(1);
            let as_get = status == 303 && self.method != "HEAD";
            if as_get {
                self.method = "GET".to_string();
            }
            self.url = target;
            return Ok(Next::Follow { url: self.url.text(), authorize: self.may_authorize(), as_get });
        }
        if status == 401 && !self.retried && self.may_authorize() {
            if let Some(next) = self.rechallenge(www_authenticate) {
                self.retried = true;
                return Ok(next);
            }
        }
        Ok(Next::Deliver)
    }

    fn hop(&mut self) -> Result<(), Error> {
        if self.hops >= crate::redirect::MAX_REDIRECTS {
            return Err(Error::new(Code::Network, "the registry redirected too often"));
        }
        self.hops += 1;
        Ok(())
    }

    /// RFC 6750 §3.1: `insufficient_scope` with the scopes the resource needs → a token for
    /// those and ours together; `invalid_token` (expired, revoked) or no error → a fresh token.
    /// No Bearer challenge (Basic, none): nothing a new token would fix.
    fn rechallenge(&mut self, header: Option<&str>) -> Option<Next> {
        let challenges = parse_challenges(header?).ok()?;
        let bearer = challenges.iter().find(|c| c.scheme == "bearer")?;
        let wanted = bearer.param("scope").map(split_list).unwrap_or_default();
        if bearer.param("error") == Some("insufficient_scope") && !wanted.is_empty() {
            let mut all: Vec<Scope> = Vec::new();
            for s in self.scopes.iter().chain(wanted.iter()) {
                all.push(Scope::checked(s).ok()?);
            }
            let mut merged = Vec::new();
            for s in crate::scope::merge(&all) {
                merged.push(s.to_string());
            }
            self.scopes = merged.clone();
            return Some(Next::Reauthorize { scopes: merged, forget: false });
        }
        Some(Next::Reauthorize { scopes: self.scopes.clone(), forget: true })
    }
}

/// The error for a registry's non-2xx answer to `what` ("GET …/tags/list"): the code from the
/// status, the registry's own words, its `errors` entries and `Retry-After`, secrets removed by
/// `redact` before anything is quoted.
pub fn status_error(status: u16, body: &[u8], retry_after: Option<&str>, what: &str, redact: &dyn Fn(&str) -> String) -> Error {
    let code = match status {
        404 => Code::NotFound,
        429 => Code::RateLimited,
        405 => Code::UnsupportedOperation,
        // A 401 that remains after the one retry. A 403 is not "authenticate": it is the
        // registry's answer about this operation, reported with its status like any other.
        401 => Code::Unauthorized,
        _ => Code::RegistryError,
    };
    let mut message = [what, " answered ", &status.to_string()].concat();
    if let Some(words) = server_error::describe(body) {
        message.push_str(": ");
        message.push_str(&server_error::clip(&redact(&words)));
    }
    if let Some(ra) = retry_after {
        message.push_str(" (Retry-After: ");
        message.push_str(&server_error::clip(&redact(ra)));
        message.push(')');
    }
    let mut e = Error::new(code, redact(&message)).with_status(status);
    e.retry_after = retry_after.map(|ra| server_error::clip(&redact(ra)));
    e.errors = server_error::entries(body, redact);
    e
}

/// A catalog answered 404 or 405 is a registry without one (Docker Hub, GHCR and GitLab offer
/// none): the operation, not a repository, is missing.
pub fn catalog_error(mut e: Error) -> Error {
    if matches!(e.status, Some(404 | 405)) {
        e.code = Code::UnsupportedOperation;
        e.message.push_str(" (this registry offers no catalog)");
    }
    e
}

/// Registries cap the page size differently (distribution refuses a catalog `n` over 1000 with
/// 400, Quay answers 413, ECR 405): when the first page is refused so and `n` was sent, ask
/// again with `n=100`, then without `n`. `Some(next n)` says retry; None says the refusal stands.
pub fn page_size_fallback(status: u16, sent: Option<u32>) -> Option<Option<u32>> {
    if !matches!(status, 400 | 405 | 413) {
        return None;
    }
    match sent {
        Some(n) if n != 100 => Some(Some(100)),
        Some(_) => Some(None),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HttpUrl {
        crate::url::parse_base("http://127.0.0.1:5000/proxy").unwrap()
    }

    #[test]
    fn urls() {
        let b = base();
        let u = |p: &str| url_for(&b, "team/app", p).map(|u| u.text());
        assert_eq!(u("tags/list?n=10").unwrap(), "http://127.0.0.1:5000/proxy/v2/team/app/tags/list?n=10");
        assert_eq!(u("/v2/_catalog").unwrap(), "http://127.0.0.1:5000/proxy/v2/_catalog");
        assert_eq!(u("http://127.0.0.1:5000/v2/x").unwrap(), "http://127.0.0.1:5000/v2/x");
        for bad in ["http://127.0.0.1:6000/v2/x", "https://127.0.0.1:5000/v2/x", "//evil/x", "", "a b", "/\\evil", "ftp://127.0.0.1:5000/x"]
        {
            assert_eq!(u(bad).unwrap_err().code, Code::InvalidReference, "{bad}");
        }
        assert_eq!(url_for(&b, "", "tags/list").unwrap_err().code, Code::InvalidReference);
    }

    #[test]
    fn actions() {
        assert_eq!(actions_for("get"), ["pull"]);
        assert_eq!(actions_for("HEAD"), ["pull"]);
        assert_eq!(actions_for("PUT"), ["pull", "push"]);
        assert_eq!(actions_for("patch"), ["pull", "push"]);
        assert_eq!(actions_for("DELETE"), ["delete"]);
    }

    fn call() -> Call {
        let b = base();
        Call::new("GET", url_for(&b, "team/app", "manifests/1").unwrap(), &b, vec!["repository:team/app:pull".into()])
    }

    #[test]
    fn rechallenges_once() {
        let mut c = call();
        let h = r#"Bearer realm="http://127.0.0.1:5000/token",service="s",scope="repository:other/x:pull repository:team/app:push",error="insufficient_scope""#;
        assert_eq!(
            c.on_response(401, Some(h), None).unwrap(),
            Next::Reauthorize { scopes: vec!["repository:other/x:pull".into(), "repository:team/app:pull,push".into()], forget: false }
        );
        assert_eq!(c.on_response(401, Some(h), None).unwrap(), Next::Deliver, "one retry only");
        let mut c = call();
        let expired = r#"Bearer realm="http://127.0.0.1:5000/token",error="invalid_token""#;
        assert_eq!(
            c.on_response(401, Some(expired), None).unwrap(),
            Next::Reauthorize { scopes: vec!["repository:team/app:pull".into()], forget: true }
        );
        let mut c = call();
        assert_eq!(c.on_response(401, Some(r#"Basic realm="x""#), None).unwrap(), Next::Deliver);
        assert_eq!(call().on_response(401, None, None).unwrap(), Next::Deliver);
        assert_eq!(call().on_response(200, None, None).unwrap(), Next::Deliver);
        // A hostile scope cannot smuggle a second one in.
        let sneaky = r#"Bearer realm="r",scope="repository:a b,c:pull",error="insufficient_scope""#;
        assert_eq!(call().on_response(401, Some(sneaky), None).unwrap(), Next::Deliver);
    }

    #[test]
    fn redirects_keep_authorization_home() {
        let mut c = call();
        assert_eq!(
            c.on_response(307, None, Some("http://127.0.0.1:6000/blob?sig=1")).unwrap(),
            Next::Follow { url: "http://127.0.0.1:6000/blob?sig=1".into(), authorize: false, as_get: false }
        );
        assert!(!c.may_authorize());
        assert_eq!(
            c.on_response(401, Some(r#"Bearer realm="x",error="invalid_token""#), None).unwrap(),
            Next::Deliver,
            "no retry off the registry"
        );
        let mut c = call();
        assert_eq!(
            c.on_response(302, None, Some("/proxy/v2/other")).unwrap(),
            Next::Follow { url: "http://127.0.0.1:5000/proxy/v2/other".into(), authorize: true, as_get: false }
        );
        let mut c = call();
        let mut last = Ok(Next::Deliver);
        for i in 0..11 {
            last = c.on_response(302, None, Some(&format!("/hop{i}")));
        }
        assert_eq!(last.unwrap_err().code, Code::Network);
        let mut c = Call::new("PUT", base(), &base(), Vec::new());
        assert!(matches!(c.on_response(303, None, Some("/done")).unwrap(), Next::Follow { as_get: true, .. }));
        assert_eq!(c.method, "GET");
    }

    #[test]
    fn errors_and_fallbacks() {
        let id = |s: &str| s.replace("hunter2", "[redacted]");
        let body =
            br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x hunter2"}}]}"#;
        let e = status_error(404, body, None, "GET /v2/x/tags/list", &id);
        assert_eq!((e.code, e.status), (Code::NotFound, Some(404)));
        assert!(e.message.contains("NAME_UNKNOWN: repository name not known"), "{}", e.message);
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].code, "NAME_UNKNOWN");
        assert_eq!(e.errors[0].detail.as_deref(), Some(r#"{"name":"x [redacted]"}"#));
        let e = status_error(429, b"slow down", Some("30"), "GET x", &id);
        assert_eq!((e.code, e.retry_after.as_deref()), (Code::RateLimited, Some("30")));
        assert_eq!(status_error(405, b"", None, "DELETE x", &id).code, Code::UnsupportedOperation);
        assert_eq!(status_error(503, b"", None, "GET x", &id).code, Code::RegistryError);
        assert_eq!(status_error(401, b"", None, "GET x", &id).code, Code::Unauthorized);
        assert_eq!(status_error(403, b"", None, "GET x", &id).code, Code::RegistryError);
        // A secret a server wrote with JSON escapes is redacted all the same (fuzz find).
        let escaped = br#"{"errors":[{"code":"X","message":"m","detail":{"p":"\u0068unter2 \"q\""}}]}"#;
        let e = status_error(404, escaped, None, "GET x", &id);
        assert_eq!(e.errors[0].detail.as_deref(), Some(r#"{"p":"[redacted] \"q\""}"#));
        // Redacted before it is clipped: a clip first could cut the secret past recognition.
        let long = format!(r#"{{"errors":[{{"code":"X","message":"{}hunter2"}}]}}"#, "a".repeat(295));
        assert!(!status_error(404, long.as_bytes(), None, "GET x", &id).errors[0].message.contains("hunt"));
        let missing = catalog_error(status_error(404, b"", None, "GET /v2/_catalog", &id));
        assert_eq!(missing.code, Code::UnsupportedOperation);
        assert!(missing.message.ends_with("(this registry offers no catalog)"));
        assert_eq!(catalog_error(status_error(500, b"", None, "GET /v2/_catalog", &id)).code, Code::RegistryError);
        assert_eq!(page_size_fallback(400, Some(1000)), Some(Some(100)));
        assert_eq!(page_size_fallback(413, Some(100)), Some(None));
        assert_eq!(page_size_fallback(405, None), None);
        assert_eq!(page_size_fallback(404, Some(1000)), None);
    }
}
