//! The little URL handling the token dance needs: a registry base URL, resolving a challenge's
//! realm against it, loopback detection and query encoding.
//!
//! Why not the `url` crate: its IDNA tables cost tens of kilobytes of wasm, and every URL here
//! ends up in the runtime's own `fetch`, which does the full WHATWG parse anyway. What must be
//! decided *before* anything is sent (the scheme, the host for the loopback rule, where a relative
//! realm points) is decided here.

use crate::error::{Code, Error};

/// An absolute http(s) URL split at the points this crate cares about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// "http" or "https", lower-cased.
    pub scheme: String,
    /// host[:port] as written (IPv6 in brackets), lower-cased.
    pub authority: String,
    /// Everything after the authority: path, query (no fragment). May be empty.
    pub rest: String,
}

impl HttpUrl {
    /// Parses `scheme://authority/rest`, accepting only http and https. The fragment is dropped:
    /// it is never sent on the wire anyway.
    pub fn parse(input: &str) -> Result<HttpUrl, String> {
        let input = trim_c0(input);
        let (scheme, after) = split_scheme(input).ok_or_else(|| "it has no scheme".to_string())?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("its scheme is {}:, not http: or https:", clipped(&scheme)));
        }
        let after = after.strip_prefix("//").ok_or_else(|| "it is not scheme://host/…".to_string())?;
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = (after.get(..end).unwrap_or(after), after.get(end..).unwrap_or(""));
        if authority.is_empty() {
            return Err("it has no host".to_string());
        }
        if authority.contains('@') {
            return Err("it embeds credentials (user@host)".to_string());
        }
        if authority.bytes().any(|b| b <= b' ' || b == b'\\' || b >= 0x7f) {
            return Err("its host has characters a URL host cannot hold".to_string());
        }
        let rest = rest.split('#').next().unwrap_or("");
        Ok(HttpUrl { scheme, authority: authority.to_ascii_lowercase(), rest: rest.to_string() })
    }

    /// The host without port or IPv6 brackets.
    pub fn host(&self) -> &str {
        let a = self.authority.as_str();
        if let Some(v6) = a.strip_prefix('[') {
            return v6.split(']').next().unwrap_or(v6);
        }
        crate::text::rsplit_ascii(a, b':').map_or(a, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { a })
    }

    /// The whole URL; the same as `to_string()` without the formatting machinery.
    pub fn text(&self) -> String {
        [self.scheme.as_str(), "://", self.authority.as_str(), self.rest.as_str()].concat()
    }

    pub fn origin(&self) -> String {
        let mut s = String::with_capacity(self.scheme.len() + 3 + self.authority.len());
        s.push_str(&self.scheme);
        s.push_str("://");
        s.push_str(&self.authority);
        s
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// RFC 3986 §3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` followed by ":".
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, after) = input.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.') {
        Some((scheme, after))
    } else {
        None
    }
}

/// Loopback is where plain http is acceptable: `localhost`, 127.0.0.0/8 and ::1 in any spelling
/// (`[::1]`, `[0:0:0:0:0:0:0:1]`, `[::0:1]`). The one rule for the whole crate: the reference
/// grammar uses it to pick http for a local registry, and the flow to allow credentials over http,
/// so a registry the first pings over http is never one the second then refuses.
///
/// Not `*.localhost`: RFC 6761 says it should resolve to loopback, but Node leaves that to the
/// system resolver, so a hostile realm `http://x.localhost/` could receive credentials in clear.
/// Not "0127.0.0.1" either: WHATWG URL reads a leading-zero octet as octal.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let v6 = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if v6.contains(':') {
        return is_ipv6_loopback(v6);
    }
    let mut parts = host.split('.');
    let octet = |p: &str| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n <= 255);
    parts.next() == Some("127") && parts.by_ref().take(3).filter(|p| octet(p)).count() == 3 && parts.next().is_none()
}

/// RFC 4291 §2.2 text forms of ::1: all groups zero but the last, which is 1, with at most one
/// `::`. (IPv4-mapped forms such as `::ffff:127.0.0.1` are not loopback to every stack, so no.)
fn is_ipv6_loopback(address: &str) -> bool {
    let groups = |s: &str| -> Option<Vec<u16>> {
        if s.is_empty() {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        for g in s.split(':') {
            out.push(if (1..=4).contains(&g.len()) { u16::from_str_radix(g, 16).ok()? } else { return None });
        }
        Some(out)
    };
    let (explicit, count_ok) = match address.split_once("::") {
        Some((head, tail)) => match (groups(head), groups(tail)) {
            (Some(mut head), Some(tail)) if !tail.is_empty() => {
                let ok = head.len() + tail.len() <= 7;
                head.extend(tail);
                (head, ok)
            }
            _ => return false,
        },
        None => match groups(address) {
            Some(all) => {
                let ok = all.len() == 8;
                (all, ok)
            }
            None => return false,
        },
    };
    match explicit.split_last() {
        Some((&1, rest)) => count_ok && rest.iter().all(|&g| g == 0),
        _ => false,
    }
}

/// Validates the `registryUrl` option: an absolute http(s) URL, optionally with a path prefix
/// (a proxy route), no query. Returns it without the trailing slash so "<base>/v2/" is right.
pub fn parse_base(input: &str) -> Result<HttpUrl, Error> {
    let mut url = HttpUrl::parse(input)
        .map_err(|why| Error::new(Code::InvalidReference, format!("registryUrl \"{}\" is not usable: {why}", clipped(input))))?;
    if url.rest.contains('?') {
        return Err(Error::new(Code::InvalidReference, format!("registryUrl \"{}\" must not have a query", clipped(input))));
    }
    while url.rest.ends_with('/') {
        url.rest.pop();
    }
    Ok(url)
}

/// Strips what the URL standard strips around a URL: C0 controls and space. Not Unicode
/// whitespace (`str::trim`): a U+00A0 at the end of a query is part of the URL, and trimming it
/// made a next-page URL that did not parse back to itself (found by the `link` fuzz target).
fn trim_c0(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Resolves a challenge's `realm` against the registry base the challenge came from.
/// Registries send absolute URLs; some proxies and test setups send `/token` or `token`, which a
/// browser would resolve against the `/v2/` URL that was answered, so we do the same.
pub fn resolve_realm(realm: &str, base: &HttpUrl) -> Result<HttpUrl, Error> {
    let realm = trim_c0(realm);
    let bad = |why: String| Error::new(Code::InsecureRealm, format!("refusing realm \"{}\": {why}", clipped(realm)));
    if realm.is_empty() {
        return Err(Error::new(Code::InvalidChallenge, "the Bearer challenge has an empty realm"));
    }
    let absolute = if let Some(rest) = realm.strip_prefix("//") {
        format!("{}://{}", base.scheme, rest)
    } else if split_scheme(realm).is_some() {
        realm.to_string()
    } else if realm.starts_with('/') {
        format!("{}{}", base.origin(), realm)
    } else {
        let v2 = format!("{}{}/v2/", base.origin(), base.rest);
        format!("{v2}{realm}")
    };
    HttpUrl::parse(&absolute).map_err(bad)
}

/// Resolves a redirect's `Location` (RFC 9110 §10.2.2, a URI reference) against the URL that
/// sent it. The result decides whether `Authorization` may follow the hop, so anything a WHATWG
/// parser could read differently from us is refused rather than guessed: backslashes (WHATWG
/// reads `/\evil` as `//evil`), whitespace and control characters.
pub fn resolve_location(location: &str, current: &HttpUrl) -> Result<HttpUrl, String> {
    if location.is_empty() || location.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f) {
        return Err("the redirect's Location is empty or holds characters URLs may not".to_string());
    }
    let absolute = if let Some(rest) = location.strip_prefix("//") {
        [current.scheme.as_str(), "://", rest].concat()
    } else if split_scheme(location).is_some() {
        location.to_string()
    } else if location.starts_with('/') {
        [current.origin().as_str(), location].concat()
    } else {
        let path = current.rest.split(['?', '#']).next().unwrap_or("");
        let dir = path.bytes().rposition(|b| b == b'/').and_then(|i| path.get(..=i)).unwrap_or("/");
        if location.starts_with('?') {
            [current.origin().as_str(), path, location].concat()
        } else {
            [current.origin().as_str(), dir, location].concat()
        }
    };
    HttpUrl::parse(&absolute)
}

/// How much of a URL an error message quotes: the realm comes from a server, and a hostile one
/// must not be able to make our messages megabytes long.
const QUOTE_MAX: usize = 200;

/// A URL as messages quote it: at most [`QUOTE_MAX`] bytes, the cut marked.
fn clipped(s: &str) -> String {
    crate::text::clip(s, QUOTE_MAX)
}

/// Percent-encodes a query or form component: RFC 3986 unreserved characters stay, all else
/// (including spaces, `:` and `/`) becomes %XX. Valid both in URLs and in
/// application/x-www-form-urlencoded bodies.
pub fn encode_component(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0')));
        }
    }
}

/// Builds `k1=v1&k2=v2…` with every key and value encoded.
pub fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_component(&mut out, k);
        out.push('=');
        encode_component(&mut out, v);
    }
    out
}

/// Appends an encoded query to a URL that may already carry one (Harbor-style realms do).
pub fn with_query(url: &HttpUrl, query: &str) -> String {
    let mut s = url.to_string();
    if !query.is_empty() {
        s.push(if url.rest.contains('?') { '&' } else { '?' });
        s.push_str(query);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_c0_and_space_are_trimmed() {
        let u = HttpUrl::parse(" \t https://r.io/v2/x?last=a\u{a0}\n").unwrap();
        assert_eq!(u.rest, "/v2/x?last=a\u{a0}", "U+00A0 is part of the URL");
        assert_eq!(HttpUrl::parse(&u.text()).as_ref(), Ok(&u), "and it parses back to itself");
    }

    #[test]
    fn parses_and_rejects() {
        let u = HttpUrl::parse("HTTPS://Auth.Docker.io/token?x=1#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.authority, "auth.docker.io");
        assert_eq!(u.rest, "/token?x=1");
        assert_eq!(u.host(), "auth.docker.io");
        assert_eq!(HttpUrl::parse("http://[::1]:5000/v2/").unwrap().host(), "::1");
        assert_eq!(HttpUrl::parse("http://127.0.0.1:80").unwrap().host(), "127.0.0.1");
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/plain,x",
            "ftp://x/",
            "http:/x",
            "http://",
            "//x/y",
            "http://u:p@x/",
            "http://a b/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for h in
            ["localhost", "LOCALHOST", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "[0:0:0:0:0:0:0:1]", "[::0:1]", "0:0::1", "localhost."]
        {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "a.localhost",
            "localhost.example",
            "128.0.0.1",
            "127.0.0.256",
            "127.0.0",
            "127.0.0.1.nip.io",
            "10.0.0.1",
            "::2",
            "",
            "0127.0.0.1",
            "[::ffff:127.0.0.1]",
            "[0:0:0:0:0:0:0:0:1]",
            "[::1::1]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn base_url() {
        let b = parse_base("http://127.0.0.1:5000/proxy/ghcr/").unwrap();
        assert_eq!(b.to_string(), "http://127.0.0.1:5000/proxy/ghcr");
        assert!(parse_base("ghcr.io").is_err());
        assert!(parse_base("https://x/?a").is_err());
    }

    #[test]
    fn realm_resolution() {
        let base = parse_base("http://127.0.0.1:5000/p").unwrap();
        let r = |s| resolve_realm(s, &base).map(|u| u.to_string());
        assert_eq!(r("https://auth.docker.io/token").unwrap(), "https://auth.docker.io/token");
        assert_eq!(r("/token").unwrap(), "http://127.0.0.1:5000/token");
        assert_eq!(r("token").unwrap(), "http://127.0.0.1:5000/p/v2/token");
        assert_eq!(r("//auth.example/t").unwrap(), "http://auth.example/t");
        assert_eq!(r("javascript:alert(1)").unwrap_err().code, Code::InsecureRealm);
        assert_eq!(r("file:///etc/passwd").unwrap_err().code, Code::InsecureRealm);
        assert_eq!(r("data:,x").unwrap_err().code, Code::InsecureRealm);
        assert_eq!(r("").unwrap_err().code, Code::InvalidChallenge);
    }

    /// Regression (issue 7): a hostile realm of any length gives a short message.
    #[test]
    fn messages_quote_urls_briefly() {
        let base = parse_base("http://127.0.0.1:5000").unwrap();
        for realm in
            [format!("javascript:{}", "a".repeat(1_000_000)), format!("{}:x", "s".repeat(1_000_000)), format!("ftp://{}é", "h".repeat(199))]
        {
            let e = resolve_realm(&realm, &base).unwrap_err();
            assert_eq!(e.code, Code::InsecureRealm);
            assert!(e.message.len() < 600, "{} bytes", e.message.len());
        }
        let e = parse_base(&format!("ftp://{}", "x".repeat(1_000_000))).unwrap_err();
        assert!(e.message.len() < 600, "{} bytes", e.message.len());
        assert_eq!(clipped("short"), "short");
        assert_eq!(clipped(&"é".repeat(150)).chars().count(), 101);
    }

    #[test]
    fn encoding() {
        assert_eq!(
            encode_pairs(&[("scope", "repository:a/b:pull,push"), ("x", "a b&é")]),
            "scope=repository%3Aa%2Fb%3Apull%2Cpush&x=a%20b%26%C3%A9"
        );
        let u = HttpUrl::parse("https://h/service/token?account=x").unwrap();
        assert_eq!(with_query(&u, "a=1"), "https://h/service/token?account=x&a=1");
        assert_eq!(with_query(&HttpUrl::parse("https://h/t").unwrap(), "a=1"), "https://h/t?a=1");
    }

    #[test]
    fn locations() {
        let cur = HttpUrl::parse("https://auth.example:8443/a/token?x=1").unwrap();
        let r = |s| resolve_location(s, &cur).map(|u| u.to_string());
        assert_eq!(r("https://other.example/t").unwrap(), "https://other.example/t");
        assert_eq!(r("//cdn.example/t").unwrap(), "https://cdn.example/t");
        assert_eq!(r("/b/token").unwrap(), "https://auth.example:8443/b/token");
        assert_eq!(r("other?y=2").unwrap(), "https://auth.example:8443/a/other?y=2");
        assert_eq!(r("?y=2").unwrap(), "https://auth.example:8443/a/token?y=2");
        assert_eq!(r("http://auth.example:8443/a").unwrap(), "http://auth.example:8443/a");
        for bad in ["", "/\\evil.example/x", "\\\\evil.example", " /x", "/x\ty", "javascript:x", "ftp://h/x", "http://u:p@h/"] {
            assert!(r(bad).is_err(), "{bad:?}");
        }
    }
}
