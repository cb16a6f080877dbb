//! What the fuzz targets assert, beyond "no panic". Each target is a thin `fuzz_target!` around
//! one function here, so an input from `artifacts/` can be replayed from a unit test too.
//!
//! Every invariant here holds today, so any failure is a find: fix it, then pin the input in
//! `tests/regressions.rs`.


use registry_token::challenge::{parse_challenges, Challenge};
use registry_token::credentials::Credentials;
use registry_token::flow::{Client, Flow, Method, Mode, Options, Purpose, Redirect, Response, Step};
use registry_token::reference::Reference;
use registry_token::token;
use registry_token::url::{encode_component, parse_base, HttpUrl};
use registry_token::{Code, Error};

#[path = "../../tests/support/rfc7235.rs"]
pub mod rfc7235;

/// No error message may exceed this, whatever the input: a hostile server must not be able to
/// make the caller log megabytes.
pub const MESSAGE_MAX: usize = 2048;

/// A reference error names the input and at most two parts of it, each clipped to 200 bytes.
pub const REFERENCE_MESSAGE_MAX: usize = 1024;

/// Recognisable secrets. The fuzzer finds them through `dict/flow.dict` and the seeds, so a
/// server that echoes them is explored.
pub const USERNAME: &str = "alice";
pub const PASSWORD: &str = "hunter2-PASSWORD-must-not-leak";
/// Characters that change under percent-, JSON- and Basic encoding.
pub const ODD_PASSWORD: &str = "p@ss w\u{f6}rd:\"LEAK\"&=+";
pub const REFRESH_TOKEN: &str = "rt-REFRESH-TOKEN-must-not-leak";

fn check_message(what: &str, e: &Error) {
    assert!(!e.message.is_empty(), "{what}: empty message for {:?}", e.code);
    assert!(e.message.len() <= MESSAGE_MAX, "{what}: {:?} message is {} bytes", e.code, e.message.len());
}

// ---------------------------------------------------------------------------------------------
// reference

pub fn reference(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    match Reference::parse(&input) {
        Ok(r) => {
            let full = r.to_string();
            assert_eq!(Reference::parse(&full).as_ref(), Ok(&r), "Display does not round-trip: {input:?} → {full:?}");
            let familiar = r.familiar();
            assert_eq!(Reference::parse(&familiar).as_ref(), Ok(&r), "familiar does not round-trip: {input:?} → {familiar:?}");
            assert!(r.name().len() <= 255, "{input:?}: name over 255");
            assert!(!r.domain.is_empty() && !r.path.is_empty(), "{input:?}");
            assert!(!r.path.bytes().any(|b| b.is_ascii_uppercase()), "{input:?}: upper-case path");
            // The base URL derived from any valid reference is one the flow accepts.
            let base = parse_base(&r.registry_url());
            assert!(base.is_ok(), "{input:?}: registry_url {:?} refused: {:?}", r.registry_url(), base.err());
        }
        Err(e) => {
            assert_eq!(e.code, Code::InvalidReference);
            // The input and every part of it named in the message are quoted clipped to 200
            // bytes (a CI run found a path error quoting 2,170 bytes before that).
            assert!(e.message.len() <= REFERENCE_MESSAGE_MAX, "{input:?}: message is {} bytes", e.message.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// challenge

/// Writes challenges back as a header, every value quoted.
pub fn serialize(challenges: &[Challenge]) -> String {
    let mut out = String::new();
    for (i, c) in challenges.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&c.scheme);
        for (j, (k, v)) in c.params.iter().enumerate() {
            out.push_str(if j == 0 { " " } else { ", " });
            if k.is_empty() {
                out.push_str(v);
                continue;
            }
            out.push_str(k);
            out.push_str("=\"");
            for ch in v.chars() {
                if ch == '"' || ch == '\\' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
        }
    }
    out
}

fn as_ref_form(challenges: &[Challenge]) -> Vec<rfc7235::RefChallenge> {
    challenges.iter().map(|c| (c.scheme.clone(), c.params.clone())).collect()
}

pub fn challenge(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let parsed = parse_challenges(&header);
    match &parsed {
        Ok(all) => {
            assert!(!all.is_empty());
            for c in all {
                assert!(!c.scheme.is_empty() && c.scheme.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase()), "{c:?}");
                let mut names: Vec<&str> = c.params.iter().map(|(k, _)| k.as_str()).collect();
                assert!(names.iter().all(|k| !k.bytes().any(|b| b.is_ascii_uppercase())), "{c:?}");
                let n = names.len();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), n, "duplicate parameter names survived: {c:?}");
                if c.params.iter().any(|(k, _)| k.is_empty()) {
                    assert_eq!(c.params.len(), 1, "a token68 shares its challenge: {c:?}");
                }
            }
            // What we parsed, written back with every value quoted, parses to the same thing.
            let again = serialize(all);
            assert_eq!(parse_challenges(&again).as_ref(), Ok(all), "round trip of {header:?} via {again:?}");
        }
        Err(e) => {
            assert_eq!(e.code, Code::InvalidChallenge);
            assert!(e.message.len() <= 600, "message is {} bytes", e.message.len());
        }
    }
    // Differential, one way: whatever the strict ABNF parser accepts, we accept the same way.
    if header.len() <= 256 {
        let reference = rfc7235::parse_all(&header);
        if !reference.is_empty() {
            let ours = parsed.as_ref().map(|all| as_ref_form(all));
            assert!(
                ours.as_ref().is_ok_and(|o| reference.contains(o)),
                "{header:?}: RFC 7235 parses {reference:?}, parse_challenges gives {ours:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// token

pub fn token_body(data: &[u8]) {
    match token::decode(data) {
        Ok(t) => {
            assert!(!t.token.is_empty());
            assert!(!t.token.bytes().any(|b| b < 0x20 || b == 0x7f), "control characters in {:?}", t.token);
            assert!((token::MIN_EXPIRES_IN..=token::MAX_EXPIRES_IN).contains(&t.expires_in), "{}", t.expires_in);
        }
        Err(e) => {
            assert_eq!(e.code, Code::BadTokenResponse);
            assert!(e.message.len() <= 600, "message is {} bytes", e.message.len());
        }
    }
    json_agrees_with_serde(data);
    // describe() is unclipped (callers redact, then clip); it never says more than the body.
    if let Some(d) = registry_token::server_error::describe(data) {
        assert!(d.len() <= data.len(), "{} bytes of description from a {}-byte body", d.len(), data.len());
        assert!(registry_token::server_error::clip(&d).len() <= 300 + '…'.len_utf8());
    }
}

/// Differential: src/json.rs reads what serde_json reads, the same way. Allowed differences:
/// its depth limit (64, serde_json's is 128), numbers serde_json cannot hold (it refuses 1e400;
/// ours keeps the text), and repeated keys (ours keeps the first, serde_json the last).
fn json_agrees_with_serde(data: &[u8]) {
    use registry_token::json;
    let ours = json::read(data);
    assert_eq!(json::is_valid(data), ours.is_some());
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, &theirs) {
        (Some(_), Err(e)) => {
            let m = e.to_string();
            assert!(
                m.contains("number out of range"),
                "json.rs accepts what serde_json refuses ({m}): {:?}",
                String::from_utf8_lossy(data)
            );
        }
        (None, Ok(v)) => assert!(depth(v) > 64, "json.rs refuses valid JSON {:?}", String::from_utf8_lossy(data)),
        (Some(o), Ok(t)) => {
            let mut duplicates = false;
            let converted = to_serde(*o, &mut duplicates);
            if !duplicates {
                if let Some(c) = converted {
                    assert_eq!(&c, t, "json.rs and serde_json read {:?} differently", String::from_utf8_lossy(data));
                }
            }
        }
        (None, Err(_)) => {}
    }
}

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What json.rs's reader sees, walked through its API into serde_json's tree (recursion is
/// fine here: `read` checked the depth). None when a number is one serde_json cannot represent.
fn to_serde(v: registry_token::json::Raw, duplicates: &mut bool) -> Option<serde_json::Value> {
    use serde_json::Value as S;
    Some(if v.is_object() {
        let mut map = serde_json::Map::new();
        for (k, v) in v.members() {
            let k = k.as_string().unwrap_or_else(|| panic!("a member name that is not a string: {k:?}"));
            if map.contains_key(&k) {
                *duplicates = true;
            }
            map.insert(k, to_serde(v, duplicates)?);
        }
        S::Object(map)
    } else if v.is_array() {
        S::Array(v.items().map(|i| to_serde(i, duplicates)).collect::<Option<_>>()?)
    } else if let Some(s) = v.as_string() {
        assert!(v.is_str(&s), "is_str disagrees with as_string on {v:?}");
        S::String(s)
    } else if let Some(text) = v.as_number() {
        serde_json::from_str::<S>(text).ok()?
    } else {
        match v.text() {
            "true" => S::Bool(true),
            "false" => S::Bool(false),
            "null" => S::Null,
            other => panic!("json.rs handed back {other:?} as a value"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// flow

/// The fuzz input for `flow`, as text so seeds can be written by hand from real exchanges:
///
/// ```text
/// <options byte>                         first byte: see `Call::from_byte`
/// 401                                    a response: status line …
/// www-authenticate: Bearer realm="…"     … headers (www-authenticate, retry-after, url,
/// retry-after: 120                         truncated); repeated www-authenticate lines are
///                                          joined with ", " as fetch's Headers.get does …
///                                        … a blank line …
/// {"token":"…"}                          … the body
/// ~~~                                    separator line
/// call <hex byte> <ms>                   optional: the next call's options byte and how much
///                                        the clock advances before it
/// ```
///
/// A response whose status line is not a number stands for a network failure (the text is the
/// failure's description). Calls run on one `Client`, so caches carry over between them.
pub fn flow(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut chunks = text.split("\n~~~\n").peekable();
    let mut client = Client::with_capacity(4);
    let mut now: u64 = 1_700_000_000_000;
    let mut call = Call::from_byte(first);
    let mut calls = 0;
    // Set once any response header carried a secret; the challenge cache carries it to later calls.
    let mut header_echo = false;
    while chunks.peek().is_some() && calls < 8 {
        calls += 1;
        if let Some(next) = chunks.peek().and_then(|c| Call::parse_marker(c)) {
            chunks.next();
            call = Call::from_byte(next.0);
            now = now.saturating_add(next.1);
        }
        run_call(&mut client, &call, now, &mut chunks, &mut header_echo);
        now = now.saturating_add(1_000);
        let stats = client.stats();
        assert!(stats.tokens <= stats.token_capacity, "{stats:?}");
    }
}

struct Call {
    reference: &'static str,
    registry_url: Option<&'static str>,
    actions: Vec<String>,
    credentials: Credentials,
    mode: Mode,
    offline: bool,
}

const REFERENCES: [(&str, Option<&str>); 8] = [
    ("nginx:1.25", None),
    ("ghcr.io/o/app:1.2", None),
    ("127.0.0.1:5000/team/app", None),
    ("localhost:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", None),
    ("example.com:8443/x/y", None),
    ("[::1]:5000/app", None),
    ("myreg.azurecr.io/team/app", None),
    ("ghcr.io/o/a", Some("http://127.0.0.1:9/proxy/ghcr/")),
];

impl Call {
    /// bits 0–1: credentials (none, password, refresh token, both); bit 2: the odd password and
    /// `offline` (OAuth2 POST first);
    /// bit 3: authorize() rather than getToken(); bit 4: actions push+pull; bits 5–7: reference.
    fn from_byte(b: u8) -> Call {
        let password = if b & 4 != 0 { ODD_PASSWORD } else { PASSWORD };
        let credentials = match b & 3 {
            0 => Credentials::default(),
            1 => Credentials { username: Some(USERNAME.into()), password: Some(password.into()), refresh_token: None },
            2 => Credentials { username: None, password: None, refresh_token: Some(REFRESH_TOKEN.into()) },
            _ => {
                Credentials { username: Some(USERNAME.into()), password: Some(password.into()), refresh_token: Some(REFRESH_TOKEN.into()) }
            }
        };
        let (reference, registry_url) = REFERENCES[usize::from(b >> 5)];
        Call {
            reference,
            registry_url,
            actions: if b & 16 != 0 { vec!["push".into(), "pull".into()] } else { Vec::new() },
            credentials,
            mode: if b & 8 != 0 { Mode::Authorization } else { Mode::Token },
            offline: b & 4 != 0,
        }
    }

    /// `call <hex> <ms>` → (options byte, clock advance).
    fn parse_marker(chunk: &str) -> Option<(u8, u64)> {
        let line = chunk.strip_prefix("call ")?.lines().next()?;
        let mut parts = line.split_whitespace();
        let b = u8::from_str_radix(parts.next()?, 16).ok()?;
        let ms = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Some((b, ms))
    }

    /// The secrets as they are, and as a server would echo them from the form body or the
    /// Authorization header: percent-encoded, and Basic's base64.
    fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in [&self.credentials.password, &self.credentials.refresh_token].into_iter().flatten() {
            out.push(s.clone());
            // As the form body carried it (fixed in a77b9bf: redact knew only the raw form).
            let mut enc = String::new();
            encode_component(&mut enc, s);
            out.push(enc);
        }
        if let Some(b) = self.credentials.basic_header() {
            out.push(b.trim_start_matches("Basic ").to_string());
        }
        out.sort();
        out.dedup();
        out
    }
}

fn parse_response(chunk: &str) -> Result<Response, String> {
    let (head, body) = chunk.split_once("\n\n").unwrap_or((chunk, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line.trim().parse().map_err(|_| status_line.to_string())?;
    // The shell maps what fetch reports outside 0–999 to 0, as it does opaque redirects.
    let status = if status > 999 { 0 } else { status };
    let mut r = Response { status, body: body.as_bytes().to_vec(), ..Response::default() };
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim_matches([' ', '\t']).to_string();
        match name.trim().to_ascii_lowercase().as_str() {
            "www-authenticate" => {
                r.www_authenticate = Some(match r.www_authenticate.take() {
                    Some(prev) => format!("{prev}, {value}"),
                    None => value,
                })
            }
            "retry-after" => r.retry_after = Some(value),
            "url" => r.url = Some(value),
            "location" => r.location = Some(value),
            "truncated" => r.body_truncated = true,
            _ => {}
        }
    }
    if r.body.len() > token::MAX_BODY {
        r.body.truncate(token::MAX_BODY);
        r.body_truncated = true;
    }
    Ok(r)
}

fn run_call<'a>(
    client: &mut Client,
    call: &Call,
    now: u64,
    chunks: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
    header_echo: &mut bool,
) {
    let options = Options {
        actions: call.actions.clone(),
        credentials: call.credentials.clone(),
        registry_url: call.registry_url.map(str::to_string),
        mode: call.mode,
        offline: call.offline,
    };
    let mut flow = match Flow::new(call.reference, options) {
        Ok(f) => f,
        Err(e) => panic!("the fixed options must be valid: {e}"),
    };
    let secrets = call.secrets();
    let base = match call.registry_url {
        Some(u) => parse_base(u).map(|b| b.to_string()).unwrap_or_default(),
        None => Reference::parse(call.reference).map(|r| r.registry_url()).unwrap_or_default(),
    };
    let mut step = flow.start(client, now);
    let mut sent = 0;
    // The origin the first token request went to: Authorization may go there and nowhere else.
    let mut realm_origin: Option<String> = None;
    loop {
        match step {
            Step::Send(req) => {
                sent += 1;
                let most = 3 + usize::from(registry_token::flow::MAX_REDIRECTS);
                assert!(sent <= most, "a call made more than {most} requests (ping, POST, GET, redirects)");
                let url = HttpUrl::parse(&req.url);
                assert!(url.is_ok(), "request to an unparsable URL {:?}", req.url);
                let url = url.unwrap_or_else(|_| unreachable!());
                if req.purpose == Purpose::Challenge {
                    assert_eq!(req.method, Method::Get);
                    assert!(req.headers.is_empty() && req.body.is_none(), "the /v2/ ping carries something: {req:?}");
                    assert_eq!(req.url, format!("{base}/v2/"));
                }
                let carries_secret =
                    !req.headers.is_empty() || req.body.as_deref().is_some_and(|b| secrets.iter().any(|s| b.contains(s.as_str())));
                if carries_secret {
                    assert!(url.is_https() || url.is_loopback(), "credentials sent to {}", url.origin());
                }
                if req.purpose != Purpose::Challenge {
                    let origin = realm_origin.get_or_insert_with(|| url.origin());
                    if !req.headers.iter().all(|(k, _)| *k != "authorization") {
                        assert_eq!(*origin, url.origin(), "Authorization followed a redirect to another origin");
                    }
                }
                if req.method == Method::Post {
                    assert_eq!(req.redirect, Redirect::Manual, "a POST body with a secret may follow redirects");
                }
                // (Unless the server itself put it in the realm.)
                for s in secrets.iter().filter(|_| !*header_echo) {
                    assert!(!req.url.contains(s.as_str()), "a secret in a request URL");
                }
                let Some(chunk) = chunks.next() else { return };
                step = match parse_response(chunk) {
                    Ok(resp) => {
                        let headers = [&resp.www_authenticate, &resp.retry_after, &resp.url];
                        *header_echo |= headers.into_iter().flatten().any(|h| secrets.iter().any(|s| h.contains(s.as_str())));
                        flow.on_response(client, resp, now)
                    }
                    Err(detail) => Step::Failed(flow.on_network_error(client, &detail)),
                };
            }
            Step::Done(g) => {
                assert_eq!(g.registry, base);
                match (&g.token, &g.authorization) {
                    (Some(t), Some(a)) => {
                        assert_eq!(a, &format!("Bearer {t}"));
                        assert!(!t.is_empty() && !t.bytes().any(|b| b < 0x20 || b == 0x7f));
                        let exp = g.expires_at.unwrap_or(0);
                        assert!(
                            exp >= now.saturating_add(15_000),
                            "a token that expires {} ms from now was handed out",
                            exp as i128 - now as i128
                        );
                    }
                    (None, Some(a)) => {
                        assert_eq!(call.mode, Mode::Authorization, "getToken resolved with Basic");
                        assert!(a.starts_with("Basic "));
                    }
                    (None, None) => {}
                    (Some(_), None) => panic!("a token without its header"),
                }
                return;
            }
            Step::Failed(e) => {
                check_message("flow", &e);
                // (Header text — challenge excerpts, schemes, the realm, Retry-After — reached
                // messages unredacted until a77b9bf; found by this target.)
                for (i, s) in secrets.iter().enumerate() {
                    assert!(!e.message.contains(s.as_str()), "secret #{i} in the {:?} message", e.code);
                }
                if let Some(status) = e.status {
                    assert!(status <= 999, "{status}");
                }
                assert_ne!(e.code, Code::InvalidReference, "input from a server reported as a bad argument: {}", e.message);
                return;
            }
        }
    }
}
