//! `WWW-Authenticate` parsing (RFC 7235 §4.1, list syntax from RFC 7230 §7).
//!
//! One pass over the bytes, no backtracking beyond one element, so the work is linear in the
//! header length (plus an O(n log n) duplicate check per challenge); no input can panic it.
//!
//! ```text
//! WWW-Authenticate = 1#challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-scheme      = token
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! Several challenges share one value, separated by commas like their parameters: fetch's
//! `Headers.get` joins repeated `WWW-Authenticate` headers with ", ", and Gitea/Codeberg send
//! `Bearer realm=…,service=…,scope="*",Basic realm=…` on one line. A list element that is a
//! token followed by `=` is a parameter of the challenge before it; any other token starts a
//! new challenge. Lenient where it costs nothing: a parameter after `scheme,` (rather than
//! `scheme `) still belongs to that scheme, and empty list elements are skipped as RFC 7230
//! §7 requires of recipients.

use crate::error::{Code, Error};

/// How much of the header an error message quotes around the failure.
const EXCERPT: usize = 100;

/// One challenge: `Bearer realm="…",service="…"` becomes scheme `bearer` and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme, lower-cased: schemes are case-insensitive (RFC 7235 §2.1), and Nexus
    /// sends `BASIC`.
    pub scheme: String,
    /// Parameters in header order, keys lower-cased (case-insensitive, RFC 7235 §2.2), values
    /// unquoted and unescaped. A token68 (`Negotiate abc==`) is kept verbatim under the key ""
    /// (it has no name, and "" can never be an auth-param name). A repeated name keeps its
    /// first value only: RFC 7235 §2.2 says each name occurs once per challenge, and letting a
    /// later duplicate win would let text appended to a challenge replace its `realm`.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `key`, compared case-insensitively.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Parses every challenge in one `WWW-Authenticate` value (or several joined with commas).
/// Fails with [`Code::InvalidChallenge`] when the value is empty or does not follow the
/// grammar; the message names the problem and its byte offset and quotes the header near it.
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>, Error> {
    let mut p = Cursor { text: header, pos: 0 };
    let mut out: Vec<Challenge> = Vec::new();
    let mut next = Expect::Element;
    loop {
        p.skip_ows();
        // Empty list elements (", ,") are allowed by the #rule.
        while p.peek() == Some(b',') {
            p.pos += 1;
            p.skip_ows();
            next = Expect::Element;
        }
        let Some(b) = p.peek() else { break };
        if next == Expect::Comma {
            return Err(p.error(p.pos, "expected ',' or the end of the header"));
        }
        let start = p.pos;
        let name = p.token();
        if name.is_empty() {
            let what = match b {
                b'=' => "'=' without a parameter name before it",
                b'"' => "a quoted-string where an auth-scheme or parameter name belongs",
                _ => "a character that cannot start an auth-scheme or parameter name",
            };
            return Err(p.error(start, what));
        }
        let after_name = p.pos;
        p.skip_ows();
        if p.peek() == Some(b'=') {
            // auth-param = token BWS "=" BWS ( token / quoted-string )
            let Some(challenge) = out.last_mut() else {
                return Err(p.error(start, "a parameter before any auth-scheme"));
            };
            if challenge.params.first().is_some_and(|(k, _)| k.is_empty()) {
                return Err(p.error(start, "a parameter after a token68 in the same challenge"));
            }
            p.pos += 1;
            p.skip_ows();
            let value = p.value()?;
            challenge.params.push((name.to_ascii_lowercase(), value));
            next = Expect::Comma;
        } else if next == Expect::Param {
            return Err(p.error(after_name, "expected '=' after the parameter name"));
        } else {
            // A new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ]
            p.pos = after_name;
            let mut challenge = Challenge { scheme: name.to_ascii_lowercase(), params: Vec::new() };
            let spaces = p.skip_ows();
            next = match p.peek() {
                None | Some(b',') => Expect::Comma,
                Some(_) if spaces == 0 => return Err(p.error(p.pos, "expected a space after the auth-scheme")),
                Some(_) => match p.token68() {
                    Some(token68) => {
                        challenge.params.push((String::new(), token68.to_owned()));
                        Expect::Comma
                    }
                    None => Expect::Param,
                },
            };
            out.push(challenge);
        }
    }
    if out.is_empty() {
        return Err(p.error(0, "no challenge in an empty WWW-Authenticate header"));
    }
    for challenge in &mut out {
        if !keep_first_of_each_name(&mut challenge.params) {
            return Err(Error::new(
                Code::InvalidChallenge,
                format!("a {} challenge has more than {MAX_DISTINCT_PARAMS} distinct parameters", challenge.scheme),
            ));
        }
    }
    Ok(out)
}

/// What may come next in the list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A new list element: a challenge, or a parameter of the current one.
    Element,
    /// The first auth-param right after `scheme SP` (no comma before it).
    Param,
    /// ',' or the end: an element has just ended.
    Comma,
}

#[derive(Clone, Copy)]
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// OWS = *( SP / HTAB ); returns how many were skipped.
    fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `self.text[from..self.pos]`; empty rather than a panic if that were not a char
    /// boundary (it always is: every stop is at an ASCII byte or the end).
    fn since(&self, from: usize) -> &'a str {
        self.text.get(from..self.pos).unwrap_or_default()
    }

    /// token = 1*tchar (RFC 7230 §3.2.6); returns "" when none is here.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        self.since(start)
    }

    /// The value after `=`: token / quoted-string.
    fn value(&mut self) -> Result<String, Error> {
        if self.peek() == Some(b'"') {
            return self.quoted_string();
        }
        let start = self.pos;
        match self.token() {
            "" => Err(self.error(start, "expected a token or quoted-string after '='")),
            token => Ok(token.to_owned()),
        }
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    /// qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    /// quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
    /// obs-text (bytes 0x80–0xFF) arrives here as UTF-8 and is copied through whole.
    fn quoted_string(&mut self) -> Result<String, Error> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut segment = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error(open, "unterminated quoted-string")),
                Some(b'"') => {
                    out.push_str(self.since(segment));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.since(segment));
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(self.error(open, "unterminated quoted-string")),
                        Some(b) if is_text(b) => {
                            // The escaped character starts the next copied segment.
                            segment = self.pos;
                            self.pos += 1;
                        }
                        Some(_) => return Err(self.error(self.pos, "a control character in a quoted-pair")),
                    }
                }
                Some(b) if is_text(b) => self.pos += 1,
                Some(_) => return Err(self.error(self.pos, "a control character in a quoted-string")),
            }
        }
    }

    /// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", when it is the
    /// whole rest of the challenge. `a=b` could be either; it is read as an auth-param (as
    /// every peer client does), so a token68 is only taken when no `token BWS "=" BWS value`
    /// reading exists: `abc==`, `abc=`, `a/b`.
    fn token68(&mut self) -> Option<&'a str> {
        if self.at_auth_param() {
            return None;
        }
        let mut look = *self;
        let start = look.pos;
        while look.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
            look.pos += 1;
        }
        if look.pos == start {
            return None;
        }
        while look.peek() == Some(b'=') {
            look.pos += 1;
        }
        let token68 = look.since(start);
        look.skip_ows();
        match look.peek() {
            None | Some(b',') => {
                self.pos = start + token68.len();
                Some(token68)
            }
            _ => None,
        }
    }

    /// Whether `token BWS "=" BWS ( tchar / DQUOTE )` starts here.
    fn at_auth_param(&self) -> bool {
        let mut look = *self;
        if look.token().is_empty() {
            return false;
        }
        look.skip_ows();
        if look.peek() != Some(b'=') {
            return false;
        }
        look.pos += 1;
        look.skip_ows();
        look.peek().is_some_and(|b| b == b'"' || is_tchar(b))
    }

    /// An InvalidChallenge error at byte `at`, quoting up to [`EXCERPT`] bytes around it.
    fn error(&self, at: usize, what: &str) -> Error {
        let text = self.text;
        let mut from = at.saturating_sub(EXCERPT / 2).min(text.len());
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let mut to = from.saturating_add(EXCERPT).min(text.len());
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        let mut msg = String::with_capacity(what.len() + EXCERPT + 64);
        msg.push_str(what);
        msg.push_str(" at byte ");
        msg.push_str(&at.to_string());
        msg.push_str(" of WWW-Authenticate \"");
        if from > 0 {
            msg.push('…');
        }
        msg.push_str(text.get(from..to).unwrap_or_default());
        if to < text.len() {
            msg.push('…');
        }
        msg.push('"');
        Error::new(Code::InvalidChallenge, msg)
    }
}

/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
///       / "~" / DIGIT / ALPHA
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// HTAB / SP / VCHAR / obs-text: what a quoted-string may carry (qdtext adds the exclusion of
/// '"' and '\', which the caller has already matched).
fn is_text(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Real challenges carry at most half a dozen parameters (Digest, the richest, about ten); the
/// bound keeps the linear-scan de-duplication below cheap whatever a server sends (and a set
/// type would cost kilobytes of wasm for six entries). Its cost is up to this many comparisons
/// per parameter: at 1024, a crafted 1 MB header (1,024 names sharing a 60-byte prefix, then the
/// last one repeated) took 1.3 s of wasm; at 64 it is a sixteenth of that (issue 7).
const MAX_DISTINCT_PARAMS: usize = 64;

/// Drops every parameter whose name already occurred earlier in the challenge. False when the
/// challenge has more than [`MAX_DISTINCT_PARAMS`] distinct names.
fn keep_first_of_each_name(params: &mut Vec<(String, String)>) -> bool {
    let mut kept: Vec<(String, String)> = Vec::with_capacity(params.len().min(16));
    for (k, v) in params.drain(..) {
        if !kept.iter().any(|(seen, _)| *seen == k) {
            if kept.len() == MAX_DISTINCT_PARAMS {
                return false;
            }
            kept.push((k, v));
        }
    }
    *params = kept;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expected<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

    fn check(header: &str, want: Expected<'_>) {
        let got = parse_challenges(header).unwrap_or_else(|e| panic!("{header:?}: {e}"));
        let want: Vec<Challenge> = want
            .iter()
            .map(|(scheme, params)| Challenge {
                scheme: (*scheme).to_owned(),
                params: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            })
            .collect();
        assert_eq!(got, want, "{header:?}");
    }

    #[test]
    fn real_registry_headers() {
        let cases: &[(&str, Expected<'_>)] = &[
            // Docker Hub /v2/ (no scope), then a repository.
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#,
                &[("bearer", &[("realm", "https://auth.docker.io/token"), ("service", "registry.docker.io")])],
            ),
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
                &[(
                    "bearer",
                    &[
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:library/nginx:pull"),
                    ],
                )],
            ),
            // Docker Hub / distribution with an RFC 6750 error.
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:nosuch/repo:pull",error="insufficient_scope""#,
                &[(
                    "bearer",
                    &[
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:nosuch/repo:pull"),
                        ("error", "insufficient_scope"),
                    ],
                )],
            ),
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="registry:catalog:*""#,
                &[(
                    "bearer",
                    &[("realm", "https://auth.docker.io/token"), ("service", "registry.docker.io"), ("scope", "registry:catalog:*")],
                )],
            ),
            // GHCR.
            (
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:owner/img:pull""#,
                &[("bearer", &[("realm", "https://ghcr.io/token"), ("service", "ghcr.io"), ("scope", "repository:owner/img:pull")])],
            ),
            (r#"Basic realm="GitHub Package Registry""#, &[("basic", &[("realm", "GitHub Package Registry")])]),
            // Quay.
            (
                r#"Bearer realm="https://quay.io/v2/auth",service="quay.io""#,
                &[("bearer", &[("realm", "https://quay.io/v2/auth"), ("service", "quay.io")])],
            ),
            // GCR, both orders.
            (
                r#"Bearer realm="https://k8s.gcr.io/v2/token",service="k8s.gcr.io""#,
                &[("bearer", &[("realm", "https://k8s.gcr.io/v2/token"), ("service", "k8s.gcr.io")])],
            ),
            (
                r#"Bearer service="gcr.io",realm="https://auth.gcr.io/v36/tokenz""#,
                &[("bearer", &[("service", "gcr.io"), ("realm", "https://auth.gcr.io/v36/tokenz")])],
            ),
            // Artifact Registry /v2/: no service at all.
            (r#"Bearer realm="https://us-docker.pkg.dev/v2/token""#, &[("bearer", &[("realm", "https://us-docker.pkg.dev/v2/token")])]),
            // ECR: a Basic challenge with extra parameters.
            (
                r#"Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com""#,
                &[("basic", &[("realm", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"), ("service", "ecr.amazonaws.com")])],
            ),
            // ACR: a comma inside the quoted scope.
            (
                r#"Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io",scope="repository:app:pull,push""#,
                &[(
                    "bearer",
                    &[
                        ("realm", "https://myreg.azurecr.io/oauth2/token"),
                        ("service", "myreg.azurecr.io"),
                        ("scope", "repository:app:pull,push"),
                    ],
                )],
            ),
            // GitLab, Harbor (both its challenges).
            (
                r#"Bearer realm="https://gitlab.com/jwt/auth",service="container_registry""#,
                &[("bearer", &[("realm", "https://gitlab.com/jwt/auth"), ("service", "container_registry")])],
            ),
            (
                r#"Bearer realm="https://harbor.example.com/service/token",service="harbor-registry""#,
                &[("bearer", &[("realm", "https://harbor.example.com/service/token"), ("service", "harbor-registry")])],
            ),
            (r#"Basic realm="harbor""#, &[("basic", &[("realm", "harbor")])]),
            // Artifactory.
            (
                r#"Bearer realm="https://art.example.com/artifactory/api/docker/docker-remote/v2/token",service="art.example.com""#,
                &[(
                    "bearer",
                    &[("realm", "https://art.example.com/artifactory/api/docker/docker-remote/v2/token"), ("service", "art.example.com")],
                )],
            ),
            (r#"Basic realm="Artifactory Realm""#, &[("basic", &[("realm", "Artifactory Realm")])]),
            // Nexus: upper-case scheme.
            (r#"BASIC realm="Sonatype Nexus Repository Manager""#, &[("basic", &[("realm", "Sonatype Nexus Repository Manager")])]),
            // Gitea / Forgejo / Codeberg: two challenges on one line.
            (
                r#"Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*",Basic realm="https://codeberg.org/v2",service="container_registry",scope="*""#,
                &[
                    ("bearer", &[("realm", "https://codeberg.org/v2/token"), ("service", "container_registry"), ("scope", "*")]),
                    ("basic", &[("realm", "https://codeberg.org/v2"), ("service", "container_registry"), ("scope", "*")]),
                ],
            ),
            // distribution's own token access controller and htpasswd.
            (
                r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push repository:c/d:pull",error="invalid_token""#,
                &[(
                    "bearer",
                    &[
                        ("realm", "https://auth.example.com/token"),
                        ("service", "registry.example.com"),
                        ("scope", "repository:a/b:pull,push repository:c/d:pull"),
                        ("error", "invalid_token"),
                    ],
                )],
            ),
            (r#"Basic realm="basic-realm""#, &[("basic", &[("realm", "basic-realm")])]),
            // Pulp: plain-http realm with a port in service.
            (
                r#"Bearer realm="http://pulp.example.com/token/",service="pulp.example.com:24817""#,
                &[("bearer", &[("realm", "http://pulp.example.com/token/"), ("service", "pulp.example.com:24817")])],
            ),
            // Two headers joined by fetch's Headers.get.
            (
                r#"Bearer realm="https://a/token",service="x",scope="*", Basic realm="https://a/v2""#,
                &[("bearer", &[("realm", "https://a/token"), ("service", "x"), ("scope", "*")]), ("basic", &[("realm", "https://a/v2")])],
            ),
        ];
        for (header, want) in cases {
            check(header, want);
        }
    }

    #[test]
    fn rfc_7235_syntax() {
        let cases: &[(&str, Expected<'_>)] = &[
            // The brief's two examples.
            (
                r#"Bearer realm="https://a/token",service="x",scope="*",Basic realm="https://a/v2""#,
                &[("bearer", &[("realm", "https://a/token"), ("service", "x"), ("scope", "*")]), ("basic", &[("realm", "https://a/v2")])],
            ),
            (
                r#"Bearer realm="a,b", scope="repository:x:pull,push""#,
                &[("bearer", &[("realm", "a,b"), ("scope", "repository:x:pull,push")])],
            ),
            // Case-insensitive scheme and keys; values keep their case.
            (r#"bEaReR ReAlM="https://A/T", SERVICE=Svc"#, &[("bearer", &[("realm", "https://A/T"), ("service", "Svc")])]),
            // Tokens as values, BWS around '=', OWS around ','.
            (r#"Bearer realm = "r" , service= s ,scope =t"#, &[("bearer", &[("realm", "r"), ("service", "s"), ("scope", "t")])]),
            ("Bearer\trealm=\"r\"\t,\tservice=s", &[("bearer", &[("realm", "r"), ("service", "s")])]),
            ("  Bearer realm=r  ", &[("bearer", &[("realm", "r")])]),
            // Empty values and empty list elements.
            (r#"Bearer realm="""#, &[("bearer", &[("realm", "")])]),
            (r#"Bearer realm="", service="s""#, &[("bearer", &[("realm", ""), ("service", "s")])]),
            (r#", ,Bearer realm="r",, ,service="s", ,"#, &[("bearer", &[("realm", "r"), ("service", "s")])]),
            (r#"Basic realm="a", , Bearer realm="b""#, &[("basic", &[("realm", "a")]), ("bearer", &[("realm", "b")])]),
            // quoted-pair escapes.
            (r#"Basic realm="say \"hi\"""#, &[("basic", &[("realm", r#"say "hi""#)])]),
            (r#"Basic realm="back\\slash""#, &[("basic", &[("realm", r"back\slash")])]),
            (r#"Basic realm="\a\b\,""#, &[("basic", &[("realm", "ab,")])]),
            (r#"Basic realm="\\", b="\"""#, &[("basic", &[("realm", r"\"), ("b", "\"")])]),
            (r#"Basic realm="end\\""#, &[("basic", &[("realm", r"end\")])]),
            // obs-text inside quotes is kept (fetch hands bytes over as Latin-1 characters).
            ("Basic realm=\"Zugriff f\u{fc}r \\\u{e9}quipe\"", &[("basic", &[("realm", "Zugriff f\u{fc}r \u{e9}quipe")])]),
            // Schemes without parameters, alone and in lists.
            ("Negotiate", &[("negotiate", &[])]),
            ("Negotiate  ", &[("negotiate", &[])]),
            ("Negotiate, Basic realm=x", &[("negotiate", &[]), ("basic", &[("realm", "x")])]),
            ("Basic realm=x, Negotiate", &[("basic", &[("realm", "x")]), ("negotiate", &[])]),
            ("A, B ,C", &[("a", &[]), ("b", &[]), ("c", &[])]),
            // token68, stored under the key "".
            ("Negotiate abc==", &[("negotiate", &[("", "abc==")])]),
            ("Negotiate YWxhZGRpbjpvcGVuc2VzYW1l", &[("negotiate", &[("", "YWxhZGRpbjpvcGVuc2VzYW1l")])]),
            ("Negotiate a/b+c~d.e-f_=", &[("negotiate", &[("", "a/b+c~d.e-f_=")])]),
            ("Negotiate abc= , Basic realm=x", &[("negotiate", &[("", "abc=")]), ("basic", &[("realm", "x")])]),
            // `a=b` reads as an auth-param, not a token68.
            ("Negotiate a=b", &[("negotiate", &[("a", "b")])]),
            // A parameter after "scheme," still belongs to that scheme.
            ("Bearer, realm=r", &[("bearer", &[("realm", "r")])]),
            // Duplicates: the first wins, whatever the case of the later name.
            (
                r#"Bearer realm="https://good/token",service=s,REALM="https://evil/token",realm=x"#,
                &[("bearer", &[("realm", "https://good/token"), ("service", "s")])],
            ),
            // ... but only within one challenge.
            ("Basic realm=a, Bearer realm=b", &[("basic", &[("realm", "a")]), ("bearer", &[("realm", "b")])]),
            // tchar beyond letters and digits, in scheme, name and value.
            ("X-Custom!#$%&'*+.^_`|~ k-1=v!#$%&'*+-.^_`|~", &[("x-custom!#$%&'*+.^_`|~", &[("k-1", "v!#$%&'*+-.^_`|~")])]),
        ];
        for (header, want) in cases {
            check(header, want);
        }
    }

    #[test]
    fn param_lookup_is_case_insensitive() {
        let all = parse_challenges(r#"Bearer Realm="r",service="s""#).unwrap_or_default();
        let c = all.first().cloned().unwrap_or(Challenge { scheme: String::new(), params: Vec::new() });
        assert_eq!(c.param("realm"), Some("r"));
        assert_eq!(c.param("REALM"), Some("r"));
        assert_eq!(c.param("Service"), Some("s"));
        assert_eq!(c.param("scope"), None);
        assert_eq!(c.param(""), None);
        let t68 = parse_challenges("Negotiate abc==").unwrap_or_default();
        assert_eq!(t68.first().and_then(|c| c.param("")), Some("abc=="));
    }

    /// header, fragment of the message, byte offset it must report.
    #[test]
    fn rejects_malformed_headers() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "empty", 0),
            ("   ", "empty", 0),
            ("\t", "empty", 0),
            (", ,", "empty", 0),
            (r#"Bearer realm="https://a/token"#, "unterminated quoted-string", 13),
            (r#"Bearer realm="abc\"#, "unterminated quoted-string", 13),
            (r#"Bearer realm="a", service="b"#, "unterminated quoted-string", 26),
            (r#"realm="x", Bearer"#, "parameter before any auth-scheme", 0),
            ("=", "'=' without a parameter name", 0),
            ("Bearer =", "parameter before any auth-scheme", 0),
            ("Bearer = x", "parameter before any auth-scheme", 0),
            ("Basic  =", "parameter before any auth-scheme", 0),
            ("Bearer realm=x, =y", "'=' without a parameter name", 16),
            ("Bearer realm=, service=s", "parameter after a token68", 15),
            ("Bearer realm=\"r\", service=", "expected a token or quoted-string after '='", 26),
            ("Bearer realm=\"r\" service=\"s\"", "expected ','", 17),
            ("Bearer realm=r service=s", "expected ','", 15),
            ("Bearer realm=https://a/token", "expected ','", 18),
            ("Bearer realm foo", "expected '=' after the parameter name", 12),
            ("Bearer\"x\"", "expected a space after the auth-scheme", 6),
            ("Bearer/x", "expected a space after the auth-scheme", 6),
            (r#""Bearer" realm=x"#, "quoted-string where an auth-scheme", 0),
            ("Bearer realm=x, \"y\"", "quoted-string where an auth-scheme", 16),
            ("Negotiate abc==, realm=x", "parameter after a token68", 17),
            ("Negotiate abc==, def==", "parameter after a token68", 17),
            ("Bearer realm=\"a\u{1}b\"", "control character in a quoted-string", 15),
            ("Bearer realm=\"a\\\u{7f}\"", "control character in a quoted-pair", 16),
            ("Bearer realm=\"a\nb\"", "control character in a quoted-string", 15),
            ("Bearer r\u{e9}alm=x", "expected '=' after the parameter name", 8),
            ("B\u{e9}arer realm=x", "expected a space after the auth-scheme", 1),
            ("\u{e9}", "cannot start an auth-scheme", 0),
            ("Bearer realm=\u{e9}", "expected a token or quoted-string", 13),
            ("Bearer realm=x;", "expected ','", 14),
            ("Bearer realm=x\r\n", "expected ','", 14),
        ];
        for (header, fragment, offset) in cases {
            match parse_challenges(header) {
                Ok(c) => panic!("{header:?} parsed as {c:?}, expected {fragment:?}"),
                Err(e) => {
                    assert_eq!(e.code, Code::InvalidChallenge, "{header:?}");
                    assert!(e.message.contains(fragment), "{header:?}: {:?} lacks {fragment:?}", e.message);
                    let at = format!(" at byte {offset} of WWW-Authenticate \"");
                    assert!(e.message.contains(&at), "{header:?}: {:?} lacks {at:?}", e.message);
                }
            }
        }
    }

    #[test]
    fn error_excerpt_is_short_and_near_the_problem() {
        let header = format!("Bearer realm=\"{}\", service=\"s\" x", "é".repeat(100_000));
        let e = parse_challenges(&header).err().map(|e| e.message).unwrap_or_default();
        assert!(e.contains("expected ','"), "{e}");
        assert!(e.contains("service=\\\"s\\\" x\"") || e.contains("service=\"s\" x\""), "{e}");
        assert!(e.starts_with("expected ','"), "{e}");
        assert!(e.chars().count() < 250, "{}", e.len());
        assert!(e.contains("…"), "{e}");
    }

    #[test]
    fn large_inputs_are_linear() {
        // 1,000 challenges in one value.
        let one = r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull""#;
        let header = vec![one; 1000].join(", ");
        let all = parse_challenges(&header).unwrap_or_default();
        assert_eq!(all.len(), 1000);
        assert!(all.iter().all(|c| c.param("scope") == Some("repository:a/b:pull")));

        // A 1 MB quoted value, full of escapes.
        let big = "a\\\"".repeat(350_000);
        let header = format!("Bearer realm=\"{big}\"");
        assert!(header.len() > 1_000_000);
        let all = parse_challenges(&header).unwrap_or_default();
        assert_eq!(all.first().and_then(|c| c.param("realm")).map(str::len), Some(700_000));

        // 100,000 parameters in one challenge, most of them duplicates: no quadratic dedup.
        let params: Vec<String> = (0..100_000).map(|i| format!("k{}=v", i % 50)).collect();
        let header = format!("Bearer {}", params.join(","));
        let all = parse_challenges(&header).unwrap_or_default();
        assert_eq!(all.first().map(|c| c.params.len()), Some(50));
        // More distinct names than any real challenge has: refused.
        let params: Vec<String> = (0..100_000).map(|i| format!("k{}=v", i % 500)).collect();
        let header = format!("Bearer {}", params.join(","));
        assert!(parse_challenges(&header).is_err_and(|e| e.message.contains("more than 64 distinct parameters")));

        // Regression (issue 7): names sharing a long prefix make each comparison cost their
        // length; the distinct-name bound keeps a crafted 1 MB header cheap.
        let prefix = "p".repeat(60);
        let mut header = String::from("Bearer ");
        for i in 0..MAX_DISTINCT_PARAMS {
            header.push_str(&format!("{prefix}{i:04}=v,"));
        }
        let last = format!("{prefix}{:04}=v,", MAX_DISTINCT_PARAMS - 1);
        while header.len() < 1_000_000 {
            header.push_str(&last);
        }
        let all = parse_challenges(&header).unwrap_or_default();
        assert_eq!(all.first().map(|c| c.params.len()), Some(MAX_DISTINCT_PARAMS));

        // 1 MB of whitespace and empty list elements, and an unterminated quote at the end.
        let header = format!("{}Bearer realm=x", " ,".repeat(500_000));
        assert_eq!(parse_challenges(&header).map(|c| c.len()), Ok(1));
        let header = format!("Bearer realm=\"{}", "x".repeat(1_000_000));
        assert!(parse_challenges(&header).is_err());
        // 1 MB of schemes.
        let header = "A,".repeat(500_000);
        assert_eq!(parse_challenges(&header).map(|c| c.len()), Ok(500_000));
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        let alphabet: Vec<char> = "aB=\",\\ \t/+~é\u{1}x".chars().collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 20) as usize;
            let s: String = (0..len)
                .map(|i| {
                    let pick = ((state >> (i % 50)) as usize) ^ i.wrapping_mul(0x9e37);
                    alphabet.get(pick % alphabet.len()).copied().unwrap_or('a')
                })
                .collect();
            if let Ok(all) = parse_challenges(&s) {
                assert!(!all.is_empty());
                for c in &all {
                    assert!(!c.scheme.is_empty());
                    assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
                }
            }
        }
    }
}
