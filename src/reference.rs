//! Image references, parsed the way `docker pull` reads them: distribution/reference's
//! `ParseNormalizedNamed` (grammar in `reference.go` and `regexp.go`, Docker Hub rules in
//! `normalize.go`), with digests validated as opencontainers/go-digest does.
//!
//! Pure and allocation-light: no regex (the wasm size budget), one pass per component, and
//! errors that say which part is wrong and quote the input (references are not secrets).

use std::fmt;

use crate::error::{Code, Error};
use crate::text::clip;

/// Docker Hub's canonical domain in references (`defaultDomain` in normalize.go).
const DOCKER_HUB: &str = "docker.io";
/// The legacy "Docker Index" domain, normalised to [`DOCKER_HUB`] (`legacyDefaultDomain`).
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`officialRepoPrefix`).
const OFFICIAL_PREFIX: &str = "library/";
/// Where Docker Hub's registry API really lives; `docker.io` itself does not serve `/v2/`.
/// containerd and oras use this host (registry-facts.md, Docker Hub row).
const DOCKER_HUB_REGISTRY: &str = "https://registry-1.docker.io";
/// `RepositoryNameTotalLengthMax` in reference.go, applied to `domain "/" path`: see
/// [`Reference::parse`] for why the domain counts.
const NAME_MAX: usize = 255;
/// `[\w][\w.-]{0,127}`: one leading word character plus up to 127 more.
const TAG_MAX: usize = 128;
/// Longer input cannot be a valid reference (see `parse`).
const INPUT_MAX: usize = 1024;
/// How much of a bad input an error message quotes.
const QUOTE_MAX: usize = 200;

/// A parsed, normalised image reference such as `docker.io/library/nginx:1.25`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Registry host with optional port, as written (`ghcr.io`, `localhost:5000`,
    /// `[::1]:5000`); `docker.io` for Docker Hub.
    pub domain: String,
    /// Repository path inside the registry (`library/nginx`, `owner/app`).
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`, validated like go-digest (`sha256` with 64 lower-case hex digits, …).
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `input` as docker does (`ParseNormalizedNamed`): `nginx` becomes
    /// `docker.io/library/nginx`, `index.docker.io` becomes `docker.io`, a tag and a digest may
    /// both be present. No default tag is added: `tag` is `None` when the input has none.
    ///
    /// Two deliberate differences. The 255-character limit applies to the whole normalised
    /// name (`domain/path`), as distribution/reference did until v0.6.0 and as the OCI
    /// distribution-spec's implementer note describes "many clients" doing; v0.6.0
    /// (distribution/reference#9, 2024) counts the path alone. And a first component that
    /// `splitDockerDomain` takes for a domain but that is not a valid host (`a_b.c/d`) is an
    /// error, where docker falls back to a reference with an empty domain.
    pub fn parse(input: &str) -> Result<Reference, Error> {
        parse(input).map_err(|problem| {
            let mut msg = String::from("invalid reference ");
            msg.push_str(&quoted(input));
            msg.push_str(": ");
            msg.push_str(&problem);
            Error::new(Code::InvalidReference, msg)
        })
    }

    /// `domain "/" path`, e.g. `docker.io/library/nginx`.
    pub fn name(&self) -> String {
        let mut out = String::with_capacity(self.domain.len() + 1 + self.path.len());
        out.push_str(&self.domain);
        out.push('/');
        out.push_str(&self.path);
        out
    }

    /// The shortest form docker shows (`FamiliarString`): Docker Hub's domain and the
    /// `library/` prefix of single-component official images are dropped, e.g. `nginx:1.25`,
    /// `user/app`, `ghcr.io/o/a@sha256:…`.
    ///
    /// Unlike docker, the Docker Hub domain is kept when dropping it would make the first path
    /// component read as a domain (`docker.io/foo.bar/app` stays as is; docker prints
    /// `foo.bar/app`, which names another registry). As distribution's `FamiliarName`,
    /// `docker.io/library/<64 hex>` becomes the bare 64 hex characters, the one familiar form
    /// that does not parse back (docker reads a bare identifier as an image ID).
    pub fn familiar(&self) -> String {
        let mut out = String::new();
        if self.domain == DOCKER_HUB {
            // distribution's FamiliarName drops "library/" whenever one component follows, even
            // a 64-hex one (which ParseNormalizedNamed refuses as a name on its own).
            let short = match self.path.strip_prefix(OFFICIAL_PREFIX) {
                Some(rest) if !rest.contains('/') => rest,
                _ => &self.path,
            };
            let first = short.split('/').next().unwrap_or_default();
            if short.contains('/') && is_domain_like(first) {
                out.push_str(DOCKER_HUB);
                out.push('/');
            }
            out.push_str(short);
        } else {
            out.push_str(&self.domain);
            out.push('/');
            out.push_str(&self.path);
        }
        self.push_tag_digest(&mut out);
        out
    }

    /// Base URL of the registry API. Docker Hub is served from `registry-1.docker.io`; loopback
    /// hosts (`localhost`, 127.0.0.0/8, `[::1]`) get plain http like docker's default insecure
    /// registries, since a local test registry rarely has a certificate; everything else https.
    pub fn registry_url(&self) -> String {
        if self.domain == DOCKER_HUB {
            return DOCKER_HUB_REGISTRY.to_owned();
        }
        let scheme = if crate::url::is_loopback_host(host_of(&self.domain)) { "http://" } else { "https://" };
        let mut out = String::with_capacity(scheme.len() + self.domain.len());
        out.push_str(scheme);
        out.push_str(&self.domain);
        out
    }

    fn push_tag_digest(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
    }
}

/// The full normalised form `name[":" tag]["@" digest]`; [`Reference::parse`] reads it back
/// to an equal value.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_tag_digest(&mut out);
        f.write_str(&out)
    }
}

// Grammar (distribution/reference, reference.go):
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] remote-name
//
// plus normalize.go: a bare 64-hex identifier is refused, the first component is split off as
// a domain by `splitDockerDomain`, and the remote name must be lower-case.
fn parse(input: &str) -> Result<Reference, String> {
    if input.is_empty() {
        return Err("the reference is empty".into());
    }
    // No valid reference comes near this (name 255 + tag 129 + sha512 digest 136, plus 6 for
    // "index."), so longer input is refused before any message could echo a megabyte of it.
    if input.len() > INPUT_MAX {
        return Err(format!("the reference is {} characters long, more than any valid reference ({INPUT_MAX})", input.len()));
    }
    check_characters(input)?;
    // identifier := /[a-f0-9]{64}/ — an image ID, which ParseNormalizedNamed refuses as a name.
    if is_identifier(input) {
        return Err("a 64-character hexadecimal string is an image ID, not a repository name".into());
    }

    // A name never contains '@' and a tag never contains '/' or ':', so the first '@' starts
    // the digest and a ':' after the last '/' starts the tag; any other ':' belongs to a port.
    let (rest, digest) = match input.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (input, None),
    };
    let (name, tag) = match crate::text::rsplit_ascii(rest, b':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err("the repository name is missing".into());
    }

    let (domain, remote) = split_docker_domain(name);
    check_domain(domain)?;
    let path = if domain == DOCKER_HUB && !remote.contains('/') {
        // "docker.io/ubuntu" and "ubuntu" are the official image "docker.io/library/ubuntu".
        let mut path = String::with_capacity(OFFICIAL_PREFIX.len() + remote.len());
        path.push_str(OFFICIAL_PREFIX);
        path.push_str(remote);
        path
    } else {
        remote.to_owned()
    };
    check_path(&path)?;
    let name_len = domain.len() + 1 + path.len();
    if name_len > NAME_MAX {
        return Err(format!(
            "the repository name {} is {name_len} characters long; the limit is {NAME_MAX}",
            quoted(&format!("{domain}/{path}"))
        ));
    }
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    Ok(Reference { domain: domain.to_owned(), path, tag: tag.map(str::to_owned), digest: digest.map(str::to_owned) })
}

/// Every character the grammar can match is ASCII and printable; naming the first one that
/// is not gives a clearer message than a grammar mismatch further on.
fn check_characters(input: &str) -> Result<(), String> {
    for (at, c) in input.char_indices() {
        let problem = match c {
            ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' => "whitespace",
            _ if c.is_ascii_control() => "a control character",
            _ if !c.is_ascii() => "a non-ASCII character",
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' | '/' | ':' | '@' | '+' | '[' | ']' => continue,
            _ => "a character that no part of a reference allows",
        };
        return Err(format!("{problem} ({}) at offset {at}", describe(c)));
    }
    Ok(())
}

/// `splitDockerDomain` from normalize.go: the first '/'-separated component is a domain only
/// if it is `localhost`, contains '.' or ':', or contains an upper-case letter (upper case is
/// not allowed in paths, so docker reads it as a host name: `Foo/bar` is on host `Foo`).
/// Anything else is a Docker Hub repository. Returns `(domain, remote name)`.
fn split_docker_domain(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        // Bare names ("ubuntu", even "localhost" or "example.com") are always Docker Hub's.
        None => (DOCKER_HUB, name),
        Some((first, rest)) if is_domain_like(first) || first.bytes().any(|b| b.is_ascii_uppercase()) => {
            if first == LEGACY_DOCKER_HUB {
                (DOCKER_HUB, rest)
            } else {
                (first, rest)
            }
        }
        Some(_) => (DOCKER_HUB, name),
    }
}

/// `identifier := /[a-f0-9]{64}/`: what docker takes for an image ID.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9'))
}

/// The part of `splitDockerDomain`'s test that a lower-case path component can also pass.
fn is_domain_like(component: &str) -> bool {
    component == "localhost" || component.contains(['.', ':'])
}

// domain           := host [':' port-number]
// host             := domain-name | IPv4address | \[ IPv6address \]   ; rfc3986 appendix-A
// domain-name      := domain-component ['.' domain-component]*
// domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
// port-number      := /[0-9]+/
// IPv6address      := /[a-fA-F0-9:]+/   (regexp.go: no zone identifier, no embedded IPv4)
//
// An IPv4 address in decimal is a domain-name too. docker accepts a first component that
// fails this grammar when the whole name still matches as a path (e.g. `a_b.c/d`), leaving
// the domain empty; a token client needs a host, so that is an error here.
fn check_domain(domain: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("the registry domain {} {why}", quoted(domain)));
    let port = if let Some(bracketed) = domain.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return bad("opens '[' without a closing ']'");
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return bad(
                "has an IPv6 address with characters other than hex digits and ':' (zone identifiers and embedded IPv4 are not supported)",
            );
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return bad("has something other than ':port' after ']'"),
        }
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        if host.is_empty() {
            return bad("has an empty host name");
        }
        for component in host.split('.') {
            let inner_ok = component.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if component.is_empty() || !inner_ok || component.starts_with('-') || component.ends_with('-') {
                return bad("is not a valid host name (letters, digits and '-' between dots, not starting or ending with '-')");
            }
        }
        port
    };
    match port {
        Some(port) if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) => bad("has a port that is not a number"),
        _ => Ok(()),
    }
}

// path (or "remote-name") := path-component ['/' path-component]*
// path-component          := alpha-numeric [separator alpha-numeric]*
// alpha-numeric           := /[a-z0-9]+/
// separator               := /[_.]|__|[-]+/     (regexp.go; reference.go's comment says [-]*)
fn check_path(path: &str) -> Result<(), String> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("repository name must be lowercase (got {})", quoted(path)));
    }
    for component in path.split('/') {
        if let Some(why) = path_component_error(component) {
            return Err(format!("the repository path {} {why}", quoted(path)));
        }
    }
    Ok(())
}

fn path_component_error(component: &str) -> Option<String> {
    if component.is_empty() {
        return Some("has an empty component (a leading, trailing or doubled '/')".into());
    }
    // The separator run being read: its byte and length (0 = inside an alpha-numeric run).
    let mut run = (0u8, 0usize);
    for (at, b) in component.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => run = (0, 0),
            b'.' | b'_' | b'-' => {
                if at == 0 {
                    return Some(format!("has a component {} that starts with a separator", quoted(component)));
                }
                let len = if run.0 == b { run.1 + 1 } else { 1 };
                let allowed = match b {
                    b'.' => 1,
                    b'_' => 2,
                    _ => usize::MAX,
                };
                if (run.1 > 0 && run.0 != b) || len > allowed {
                    return Some(format!(
                        "has a component {} with an invalid separator (allowed between letters and digits: '.', '_', '__', or one or more '-')",
                        quoted(component)
                    ));
                }
                run = (b, len);
            }
            b':' => return Some(format!("has a component {} containing ':' (a tag comes once, after the last '/')", quoted(component))),
            _ => {
                return Some(format!(
                    "has a component {} containing {} (only a-z, 0-9 and separators are allowed)",
                    quoted(component),
                    describe(char::from(b))
                ))
            }
        }
    }
    (run.1 > 0).then(|| format!("has a component {} that ends with a separator", quoted(component)))
}

// tag := /[\w][\w.-]{0,127}/
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    let first_ok = bytes.next().is_some_and(word);
    if tag.is_empty() {
        Err("the tag after ':' is empty".into())
    } else if tag.len() > TAG_MAX {
        Err(format!("the tag is {} characters long; the limit is {TAG_MAX}", tag.len()))
    } else if !first_ok || !bytes.all(|b| word(b) || b == b'.' || b == b'-') {
        Err(format!(
            "the tag {} may contain only letters, digits, '_', '.' and '-', and must start with a letter, digit or '_'",
            quoted(tag)
        ))
    } else {
        Ok(())
    }
}

// digest                     := digest-algorithm ":" digest-hex
// digest-algorithm           := digest-algorithm-component
//                               [ digest-algorithm-separator digest-algorithm-component ]*
// digest-algorithm-separator := /[+.-_]/
// digest-algorithm-component := /[A-Za-z][A-Za-z0-9]*/
// digest-hex                 := /[0-9a-fA-F]{32,}/ ; At least 128 bit digest value
//
// Parse then hands the digest to go-digest's `Parse`, which only accepts the algorithms it has
// registered, each with lower-case hex of a fixed length; docker does the same, so do we.
fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!("the digest {} must have the form <algorithm>:<hex>", quoted(digest)));
    };
    let mut expect_letter = true;
    for b in algorithm.bytes() {
        expect_letter = match b {
            b'A'..=b'Z' | b'a'..=b'z' => false,
            b'0'..=b'9' if !expect_letter => false,
            b'+' | b'.' | b'-' | b'_' if !expect_letter => true,
            _ => return Err(format!("the digest algorithm {} is malformed", quoted(algorithm))),
        };
    }
    if expect_letter {
        return Err(format!("the digest algorithm {} is malformed", quoted(algorithm)));
    }
    if hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the digest {} must end in at least 32 hexadecimal digits", quoted(digest)));
    }
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(format!("the digest algorithm {} is not supported (sha256, sha384, sha512)", quoted(algorithm))),
    };
    if hex.len() != want {
        return Err(format!("a {algorithm} digest has {want} hex digits, this one has {}", hex.len()));
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("the {algorithm} digest must be lower-case hex"));
    }
    Ok(())
}

/// The host of a validated domain, without its port (brackets kept for IPv6).
fn host_of(domain: &str) -> &str {
    match domain.find(']') {
        Some(end) => domain.get(..=end).unwrap_or(domain),
        None => domain.split(':').next().unwrap_or(domain),
    }
}

/// `"…"` around at most [`QUOTE_MAX`] bytes of `s`: the input and every part of it a message
/// names are clipped, so no input makes a message longer than a few hundred bytes.
fn quoted(s: &str) -> String {
    let mut out = String::from('"');
    out.push_str(&clip(s, QUOTE_MAX));
    out.push('"');
    out
}

/// A character named for an error message: printable ASCII quoted, anything else as U+XXXX.
fn describe(c: char) -> String {
    if c == ' ' || c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H64: &str = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

    fn d(hex: &str) -> String {
        format!("sha256:{hex}")
    }

    /// input, domain, path, tag, digest, familiar.
    type Case<'a> = (String, &'a str, &'a str, Option<&'a str>, Option<&'a str>, String);

    #[test]
    fn normalises_like_docker() {
        let dg = d(H64);
        let cases: Vec<Case<'_>> = vec![
            // Docker Hub normalisation (normalize_test.go TestParseRepositoryInfo / TestNormalizedSplitHostname).
            ("nginx".into(), "docker.io", "library/nginx", None, None, "nginx".into()),
            ("nginx:1.25".into(), "docker.io", "library/nginx", Some("1.25"), None, "nginx:1.25".into()),
            ("library/nginx".into(), "docker.io", "library/nginx", None, None, "nginx".into()),
            ("docker.io/nginx".into(), "docker.io", "library/nginx", None, None, "nginx".into()),
            ("docker.io/library/nginx".into(), "docker.io", "library/nginx", None, None, "nginx".into()),
            ("index.docker.io/nginx".into(), "docker.io", "library/nginx", None, None, "nginx".into()),
            ("index.docker.io/library/debian".into(), "docker.io", "library/debian", None, None, "debian".into()),
            ("index.docker.io/fooo/bar".into(), "docker.io", "fooo/bar", None, None, "fooo/bar".into()),
            ("user/app".into(), "docker.io", "user/app", None, None, "user/app".into()),
            ("docker/migrator".into(), "docker.io", "docker/migrator", None, None, "docker/migrator".into()),
            ("test_com/foo".into(), "docker.io", "test_com/foo", None, None, "test_com/foo".into()),
            ("other/library".into(), "docker.io", "other/library", None, None, "other/library".into()),
            ("library/foo/bar".into(), "docker.io", "library/foo/bar", None, None, "library/foo/bar".into()),
            ("docker.io/library/foo/bar".into(), "docker.io", "library/foo/bar", None, None, "library/foo/bar".into()),
            ("store/foo/bar".into(), "docker.io", "store/foo/bar", None, None, "store/foo/bar".into()),
            ("docker.io/library".into(), "docker.io", "library/library", None, None, "library".into()),
            ("ubuntu-12.04-base".into(), "docker.io", "library/ubuntu-12.04-base", None, None, "ubuntu-12.04-base".into()),
            // Bare names are Docker Hub's even when they look like hosts (normalize.go FIXME).
            ("localhost".into(), "docker.io", "library/localhost", None, None, "localhost".into()),
            ("localhost:5000".into(), "docker.io", "library/localhost", Some("5000"), None, "localhost:5000".into()),
            ("192.168.0.1".into(), "docker.io", "library/192.168.0.1", None, None, "192.168.0.1".into()),
            ("192.168.0.1:80".into(), "docker.io", "library/192.168.0.1", Some("80"), None, "192.168.0.1:80".into()),
            ("example.com".into(), "docker.io", "library/example.com", None, None, "example.com".into()),
            // registry-1.docker.io is a different domain string to docker: not normalised.
            (
                "registry-1.docker.io/library/nginx".into(),
                "registry-1.docker.io",
                "library/nginx",
                None,
                None,
                "registry-1.docker.io/library/nginx".into(),
            ),
            ("registry-1.docker.io/nginx".into(), "registry-1.docker.io", "nginx", None, None, "registry-1.docker.io/nginx".into()),
            // Other registries, ports, IPs.
            ("ghcr.io/owner/app:1.2".into(), "ghcr.io", "owner/app", Some("1.2"), None, "ghcr.io/owner/app:1.2".into()),
            ("localhost/app".into(), "localhost", "app", None, None, "localhost/app".into()),
            ("localhost:5000/app".into(), "localhost:5000", "app", None, None, "localhost:5000/app".into()),
            ("127.0.0.1:5000/a/b:1".into(), "127.0.0.1:5000", "a/b", Some("1"), None, "127.0.0.1:5000/a/b:1".into()),
            ("192.168.1.1:5000/repo:5050".into(), "192.168.1.1:5000", "repo", Some("5050"), None, "192.168.1.1:5000/repo:5050".into()),
            ("test:5000/repo".into(), "test:5000", "repo", None, None, "test:5000/repo".into()),
            ("test-com:8080/foo".into(), "test-com:8080", "foo", None, None, "test-com:8080/foo".into()),
            ("xn--n3h.com:18080/foo".into(), "xn--n3h.com:18080", "foo", None, None, "xn--n3h.com:18080/foo".into()),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
                "sub-dom1.foo.com",
                "bar/baz/quux",
                Some("some-long-tag"),
                None,
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                "b.gcr.io",
                "test.example.com/my-app",
                Some("test.example.com"),
                None,
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
            ),
            ("us-docker.pkg.dev/p/r/i".into(), "us-docker.pkg.dev", "p/r/i", None, None, "us-docker.pkg.dev/p/r/i".into()),
            // Upper case in the first component makes it a domain (normalize_test.go).
            ("Foo/bar".into(), "Foo", "bar", None, None, "Foo/bar".into()),
            ("FOO/bar".into(), "FOO", "bar", None, None, "FOO/bar".into()),
            ("Docker.io/x/y".into(), "Docker.io", "x/y", None, None, "Docker.io/x/y".into()),
            // IPv6 (reference_test.go).
            ("[::1]:5000/app".into(), "[::1]:5000", "app", None, None, "[::1]:5000/app".into()),
            ("[2001:db8::1]/repo".into(), "[2001:db8::1]", "repo", None, None, "[2001:db8::1]/repo".into()),
            (
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
                "[2001:db8:1:2:3:4:5:6]",
                "repo",
                Some("tag"),
                None,
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
            ),
            ("[fc00::1]:5000/docker/docker".into(), "[fc00::1]:5000", "docker/docker", None, None, "[fc00::1]:5000/docker/docker".into()),
            // Separators.
            ("docker---rules/docker".into(), "docker.io", "docker---rules/docker", None, None, "docker---rules/docker".into()),
            ("dock__er/docker".into(), "docker.io", "dock__er/docker", None, None, "dock__er/docker".into()),
            ("a.b-c/d_e.f__g--h---i".into(), "a.b-c", "d_e.f__g--h---i", None, None, "a.b-c/d_e.f__g--h---i".into()),
            ("d/docker".into(), "docker.io", "d/docker", None, None, "d/docker".into()),
            (
                "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev".into(),
                "docker.io",
                "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
                None,
                None,
                "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev".into(),
            ),
            // An image ID is fine as a path once a domain is given; 63 hex digits are a name.
            (format!("docker.io/{H64}"), "docker.io", "", None, None, String::new()),
            (format!("{}:tag", H64), "docker.io", "", Some("tag"), None, String::new()),
            // Tags: any case, digits, '_' first.
            ("lowercase:Uppercase".into(), "docker.io", "library/lowercase", Some("Uppercase"), None, "lowercase:Uppercase".into()),
            ("x:_tag-1.0".into(), "docker.io", "library/x", Some("_tag-1.0"), None, "x:_tag-1.0".into()),
            // Digests, with and without a tag.
            (format!("nginx@{dg}"), "docker.io", "library/nginx", None, Some(dg.as_str()), format!("nginx@{dg}")),
            (format!("nginx:1.25@{dg}"), "docker.io", "library/nginx", Some("1.25"), Some(dg.as_str()), format!("nginx:1.25@{dg}")),
            (format!("ghcr.io/o/a@{dg}"), "ghcr.io", "o/a", None, Some(dg.as_str()), format!("ghcr.io/o/a@{dg}")),
            (
                format!("[2001:db8::1]:5000/repo:tag@{dg}"),
                "[2001:db8::1]:5000",
                "repo",
                Some("tag"),
                Some(dg.as_str()),
                format!("[2001:db8::1]:5000/repo:tag@{dg}"),
            ),
            // Docker Hub paths whose first component looks like a host keep "docker.io/".
            ("docker.io/foo.bar/app".into(), "docker.io", "foo.bar/app", None, None, "docker.io/foo.bar/app".into()),
            ("docker.io/localhost/app".into(), "docker.io", "localhost/app", None, None, "docker.io/localhost/app".into()),
            ("docker.io/library/foo.bar".into(), "docker.io", "library/foo.bar", None, None, "foo.bar".into()),
        ];
        for (input, domain, path, tag, digest, familiar) in &cases {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            // "" stands for "library/<H64>", whose familiar form keeps the prefix.
            let library_id = format!("library/{H64}");
            let path = if path.is_empty() { library_id.as_str() } else { path };
            let familiar =
                if familiar.is_empty() { format!("{H64}{}", tag.map(|t| format!(":{t}")).unwrap_or_default()) } else { familiar.clone() };
            assert_eq!(r.domain, *domain, "domain of {input}");
            assert_eq!(r.path, path, "path of {input}");
            assert_eq!(r.tag.as_deref(), *tag, "tag of {input}");
            assert_eq!(r.digest.as_deref(), *digest, "digest of {input}");
            assert_eq!(r.familiar(), familiar, "familiar of {input}");
            assert_eq!(r.name(), format!("{domain}/{path}"), "name of {input}");
            // Display and familiar both parse back to the same reference.
            assert_eq!(Reference::parse(&r.to_string()).as_ref(), Ok(&r), "round trip of {input}");
            if !r.familiar().starts_with(H64) {
                assert_eq!(Reference::parse(&r.familiar()).as_ref(), Ok(&r), "familiar round trip of {input}");
            }
        }
    }

    #[test]
    fn display_is_the_full_normalised_string() {
        let dg = d(H64);
        let cases = [
            ("nginx".to_owned(), "docker.io/library/nginx".to_owned()),
            ("nginx:1.25".into(), "docker.io/library/nginx:1.25".into()),
            (format!("busybox:latest@{dg}"), format!("docker.io/library/busybox:latest@{dg}")),
            ("index.docker.io/u/a:t".into(), "docker.io/u/a:t".into()),
            ("localhost:5000/app".into(), "localhost:5000/app".into()),
        ];
        for (input, want) in cases {
            assert_eq!(Reference::parse(&input).map(|r| r.to_string()), Ok(want), "{input}");
        }
    }

    #[test]
    fn registry_urls() {
        let cases = [
            ("nginx", "https://registry-1.docker.io"),
            ("index.docker.io/u/a", "https://registry-1.docker.io"),
            ("registry-1.docker.io/u/a", "https://registry-1.docker.io"),
            ("ghcr.io/o/a", "https://ghcr.io"),
            ("example.com:8443/a", "https://example.com:8443"),
            ("localhost/a", "http://localhost"),
            ("localhost:5000/a", "http://localhost:5000"),
            ("LOCALHOST:5000/a", "http://LOCALHOST:5000"),
            ("127.0.0.1:5000/a/b:1", "http://127.0.0.1:5000"),
            ("127.255.3.4/a", "http://127.255.3.4"),
            ("128.0.0.1/a", "https://128.0.0.1"),
            ("127.0.0.256/a", "https://127.0.0.256"),
            ("127.0.0/a", "https://127.0.0"),
            ("127.0.0.1.5/a", "https://127.0.0.1.5"),
            ("0127.0.0.1/a", "https://0127.0.0.1"),
            ("127.example.com/a", "https://127.example.com"),
            ("localhost.example.com/a", "https://localhost.example.com"),
            ("[::1]:5000/app", "http://[::1]:5000"),
            ("[::1]/app", "http://[::1]"),
            ("[0:0:0:0:0:0:0:1]:5000/app", "http://[0:0:0:0:0:0:0:1]:5000"),
            ("[::0:0001]/app", "http://[::0:0001]"),
            ("[::2]/app", "https://[::2]"),
            ("[1::]/app", "https://[1::]"),
            ("[::]/app", "https://[::]"),
            ("[1::1]/app", "https://[1::1]"),
            ("[0:0:0:0:0:0:1]/app", "https://[0:0:0:0:0:0:1]"),
            ("[0:0:0:0::0:0:0:1]/app", "https://[0:0:0:0::0:0:0:1]"),
            ("[:::1]/app", "https://[:::1]"),
            ("[2001:db8::1]:5000/repo", "https://[2001:db8::1]:5000"),
        ];
        for (input, want) in cases {
            assert_eq!(Reference::parse(input).map(|r| r.registry_url()), Ok(want.to_owned()), "{input}");
        }
    }

    /// input, a fragment the message must contain.
    #[test]
    fn rejects_with_clear_errors() {
        let long_tag = "t".repeat(129);
        let ok_tag = "t".repeat(128);
        // docker.io/library/ + 237 = 255 characters: the limit; one more is over it.
        let at_limit = "a".repeat(237);
        let over_limit = "a".repeat(238);
        let long_host = format!("{}.com/{}", "h".repeat(200), "p".repeat(60));
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "empty"),
            (" nginx".into(), "whitespace"),
            ("nginx ".into(), "whitespace"),
            ("ng inx".into(), "whitespace (' ')"),
            ("nginx\t".into(), "whitespace"),
            ("nginx\n".into(), "whitespace"),
            ("ngi\u{7f}nx".into(), "control character"),
            ("nginé".into(), "non-ASCII"),
            ("ghcr.io/ówner/app".into(), "non-ASCII character (U+00F3) at offset 8"),
            ("nginx$".into(), "('$')"),
            ("https://github.com/docker/docker".into(), "registry domain \"https:\""),
            (H64.into(), "image ID"),
            ("Uppercase:tag".into(), "must be lowercase"),
            ("docker/Docker".into(), "must be lowercase"),
            ("docker.io/docker/Docker".into(), "must be lowercase"),
            ("test:5000/Uppercase/lowercase:tag".into(), "must be lowercase"),
            ("ghcr.io/Owner/app".into(), "must be lowercase"),
            ("a:b:c".into(), "containing ':'"),
            ("nginx::1".into(), "containing ':'"),
            ("nginx:".into(), "tag after ':' is empty"),
            (":justtag".into(), "repository name is missing"),
            (format!("@{}", d(H64)), "repository name is missing"),
            ("nginx/".into(), "empty component"),
            ("/nginx".into(), "empty component"),
            ("docker///docker".into(), "empty component"),
            ("docker.io/docker//docker".into(), "empty component"),
            ("ghcr.io/".into(), "empty component"),
            ("ghcr.io//a".into(), "empty component"),
            ("-docker".into(), "starts with a separator"),
            ("-docker/docker".into(), "starts with a separator"),
            ("_docker/_docker".into(), "starts with a separator"),
            ("____/____".into(), "starts with a separator"),
            ("docker-/docker".into(), "ends with a separator"),
            ("-docker-/docker".into(), "starts with a separator"),
            // A '.' makes the first component a domain, so docker's own cases fail as hosts.
            ("dock..er/docker".into(), "not a valid host name"),
            ("dock_.er/docker".into(), "not a valid host name"),
            ("dock-.er/docker".into(), "not a valid host name"),
            ("u/dock..er".into(), "invalid separator"),
            ("u/dock_.er".into(), "invalid separator"),
            ("u/dock-.er".into(), "invalid separator"),
            ("u/dock._er".into(), "invalid separator"),
            ("u/dock-_er".into(), "invalid separator"),
            ("dock___er/docker".into(), "invalid separator"),
            ("ghcr.io/o/a..b".into(), "invalid separator"),
            ("-docker.io/docker/docker".into(), "not a valid host name"),
            ("foo-.com/a".into(), "not a valid host name"),
            ("foo..com/a".into(), "not a valid host name"),
            ("foo.com./a".into(), "not a valid host name"),
            (".foo.com/a".into(), "not a valid host name"),
            // docker would read these as domain-less paths; a token client needs a host.
            ("a_b.c/d".into(), "not a valid host name"),
            ("a.b_c-d/e".into(), "not a valid host name"),
            (":5000/a".into(), "empty host name"),
            ("host:/a".into(), "port that is not a number"),
            ("host:50a/a".into(), "port that is not a number"),
            ("host:1:2/a".into(), "port that is not a number"),
            ("fc00::1:5000/debian".into(), "port that is not a number"),
            ("[fc00::1]".into(), "containing '['"),
            ("[fc00::1]/".into(), "empty component"),
            ("[fc00::1]:5000".into(), "containing '['"),
            ("[2001:db8::1]:tag".into(), "containing '['"),
            ("[fe80::1%eth0]:5000/debian".into(), "('%')"),
            ("[2001:db8:3:4::192.0.2.33]:5000/debian".into(), "IPv6 address"),
            ("[]:5000/a".into(), "IPv6 address"),
            ("[::1/a".into(), "without a closing ']'"),
            ("[::1]x/a".into(), "after ']'"),
            ("[::1]:/a".into(), "port that is not a number"),
            (format!("x:{long_tag}"), "129 characters long; the limit is 128"),
            ("x:-tag".into(), "must start with a letter"),
            ("x:.tag".into(), "must start with a letter"),
            ("x:ta+g".into(), "may contain only"),
            ("x:ta]g".into(), "may contain only"),
            ("nginx@sha256".into(), "<algorithm>:<hex>"),
            ("nginx@".into(), "<algorithm>:<hex>"),
            ("nginx@sha256:".into(), "at least 32 hexadecimal"),
            ("nginx@sha256:ffffffffffffffffffffffffffffffffff".into(), "has 64 hex digits, this one has 34"),
            ("nginx@sha256:abc".into(), "at least 32 hexadecimal"),
            (format!("nginx@sha256:{}", "g".repeat(64)), "at least 32 hexadecimal"),
            (format!("nginx@sha256:{}", H64.to_ascii_uppercase()), "lower-case hex"),
            (format!("nginx@sha256:{H64}0"), "this one has 65"),
            (format!("nginx@md5:{}", "f".repeat(32)), "not supported"),
            (format!("validname@invaliddigest:{}", "f".repeat(64)), "not supported"),
            (format!("nginx@SHA256:{H64}"), "not supported"),
            (format!("nginx@1sha:{H64}"), "algorithm \"1sha\" is malformed"),
            (format!("nginx@sha+:{H64}"), "malformed"),
            (format!("nginx@sha++b:{H64}"), "malformed"),
            (format!("nginx@:{H64}"), "malformed"),
            (format!("nginx@sha256:{H64}@sha256:{H64}"), "at least 32 hexadecimal"),
            (format!("nginx@sha256:{H64}:tag"), "at least 32 hexadecimal"),
            (over_limit, "256 characters long; the limit is 255"),
            (long_host, "265 characters long"),
        ];
        for (input, fragment) in &cases {
            match Reference::parse(input) {
                Ok(r) => panic!("{input:?} parsed as {r:?}, expected an error with {fragment:?}"),
                Err(e) => {
                    assert_eq!(e.code, Code::InvalidReference, "{input:?}");
                    assert!(e.message.contains(fragment), "{input:?}: {:?} lacks {fragment:?}", e.message);
                    // The message quotes the input (capped), so the user sees what was refused.
                    let quoted: String = input.chars().take(50).collect();
                    assert!(e.message.starts_with("invalid reference \""), "{}", e.message);
                    assert!(e.message.contains(&quoted), "{input:?}: {:?}", e.message);
                }
            }
        }
        // The boundaries themselves are accepted.
        assert!(Reference::parse(&at_limit).is_ok());
        assert!(Reference::parse(&format!("x:{ok_tag}")).is_ok());
    }

    #[test]
    fn error_messages_quote_long_inputs_briefly() {
        let input = format!("{}$", "a".repeat(1_000_000));
        let e = Reference::parse(&input).err().map(|e| e.message).unwrap_or_default();
        assert!(e.len() < 400, "{}", e.len());
        assert!(e.contains("…\""), "{e}");
        assert!(e.contains("1000001 characters long, more than any valid reference"), "{e}");
        let e = Reference::parse(&format!("u/{}", "A".repeat(1022))).err().map(|e| e.message);
        assert!(e.is_some_and(|e| e.contains("must be lowercase") && e.len() < 1400));
        let e = Reference::parse(&format!("u/{}", "A".repeat(1023))).err().map(|e| e.message);
        assert!(e.is_some_and(|e| e.contains("more than any valid reference")));
        // Truncation never splits a multi-byte character.
        let input = format!("{}é", "a".repeat(QUOTE_MAX - 1));
        let e = Reference::parse(&input).err().map(|e| e.message).unwrap_or_default();
        assert!(e.contains("non-ASCII"), "{e}");
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        // A small deterministic fuzz over the characters the grammar cares about.
        let alphabet: Vec<char> = "aZ09._-/:@+[]%é \u{0}".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            for i in 0..len {
                let pick = (state >> (i % 48)) as usize ^ i.wrapping_mul(31);
                s.push(alphabet.get(pick % alphabet.len()).copied().unwrap_or('a'));
            }
            if let Ok(r) = Reference::parse(&s) {
                assert_eq!(Reference::parse(&r.to_string()).as_ref(), Ok(&r), "{s:?}");
                assert_eq!(Reference::parse(&r.familiar()).as_ref(), Ok(&r), "{s:?}");
                let _ = r.registry_url();
            }
        }
    }
}
