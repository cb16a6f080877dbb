//! Regression tests for what the issue 7 fuzzing and hostile-server work found. Each names the
//! fuzz target or suite that found it.

// Test helpers outside #[test] functions may unwrap and panic like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use registry_token::challenge::parse_challenges;
use registry_token::credentials::Credentials;
use registry_token::flow::{Client, Flow, Mode, Options, Request, Response, Step};
use registry_token::reference::Reference;
use registry_token::{json, server_error, token};
use registry_token::{Code, Error};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

const PASSWORD: &str = "hunter2-PASSWORD-must-not-leak";

fn with_password(password: &str) -> Options {
    Options {
        actions: Vec::new(),
        credentials: Credentials { username: Some("alice".into()), password: Some(password.into()), refresh_token: None },
        registry_url: None,
        mode: Mode::Token,
        offline: false,
        scopes: Vec::new(),
        registry_only: false,
    }
}

/// Runs one call against `server` and returns its error (panics if it succeeds).
fn fail(reference: &str, options: Options, mut server: impl FnMut(&Request) -> Response) -> Error {
    let mut client = Client::new();
    let mut flow = Flow::new(reference, options).unwrap();
    let mut step = flow.start(&mut client, 0);
    for _ in 0..4 {
        match step {
            Step::Send(req) => step = flow.on_response(&mut client, server(&req), 0),
            Step::Failed(e) => return e,
            Step::Done(g) => panic!("expected an error, got {g:?}"),
        }
    }
    panic!("too many requests")
}

fn challenge(header: &str) -> Response {
    Response { status: 401, www_authenticate: Some(header.to_string()), ..Response::default() }
}

fn answer(status: u16, body: &str) -> Response {
    Response { status, body: body.as_bytes().to_vec(), ..Response::default() }
}

const REALM: &str = r#"Bearer realm="https://auth.example.com/token",service="s""#;

// ---------------------------------------------------------------------------------------------
// Found and fixed here.

/// fuzz `reference`: a 1 KB domain made a 1.7 KB message. Bounded by construction (input is cut
/// at 1024 characters, quotes at 200); this pins the bound the fuzz target checks.
#[test]
fn reference_messages_stay_bounded() {
    let long_v6 = format!("[{}x]/a", "1:".repeat(500));
    let long_host = format!("{}-.com/a", "h".repeat(1000));
    let long_tag = format!("a:{}", "t".repeat(1000));
    for input in [long_v6, long_host, long_tag, "A".repeat(5000)] {
        let e = Reference::parse(&input).unwrap_err();
        assert!(e.message.len() <= 2048, "{} bytes for {:.20}…", e.message.len(), input);
    }
}

/// CI fuzz run (`reference`, 398,563 executions in): a path error quoted both the whole path and
/// the bad component unclipped, so a ~1,000-character path made a 2,170-byte message. Every part
/// named in a message is now clipped like the input itself.
#[test]
fn reference_parts_named_in_messages_are_clipped() {
    let colon_component = format!("h.com/{}/b", "a:".repeat(500));
    let bad_separator = format!("h.com/{}--.__x/b", "a".repeat(990));
    let upper_path = format!("h.com/{}", "aB".repeat(500));
    let long_digest = format!("a@sha256:{}", "F".repeat(1000));
    for input in [colon_component, bad_separator, upper_path, long_digest] {
        assert!(input.len() <= 1024, "the case must get past the input length check");
        let e = Reference::parse(&input).unwrap_err();
        assert!(e.message.len() <= 1024, "{} bytes: {:.120}…", e.message.len(), e.message);
        assert!(e.message.contains('…'), "a clipped part is marked: {:.120}", e.message);
    }
}

/// fuzz `challenge` (a timeout in the slow RFC 7235 oracle, not the parser): this header made the
/// oracle exponential. Kept as a case both parsers must agree on quickly.
#[test]
fn comma_heavy_header_parses_quickly() {
    let header = ", ,Beararer ,rreal,m , realm , ,seserve ,Beararer rreal,m , realm , ,seseervr re, ,Be, er realm,arer rreal,m , realm , ,seserve ,Beararer rreal,m ,, ,seserveull,push ,";
    let started = std::time::Instant::now();
    let ours = parse_challenges(header);
    assert!(ours.is_ok(), "{ours:?}");
    assert!(started.elapsed().as_millis() < 100);
}

/// A hostile realm of any size gives a short INSECURE_REALM message (url.rs now clips it).
#[test]
fn huge_realm_gives_a_short_message() {
    let realm = format!(r#"Bearer realm="javascript:{}""#, "a".repeat(1_000_000));
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |_| challenge(&realm));
    assert_eq!(e.code, Code::InsecureRealm);
    assert!(e.message.len() < 1000, "{} bytes", e.message.len());
}

// ---------------------------------------------------------------------------------------------
// Reported and fixed in flow.rs / credentials.rs / server_error.rs (a77b9bf).

/// fuzz `flow`: text from response headers reaches messages without `Credentials::redact`.
#[test]
fn secrets_echoed_in_headers_are_redacted() {
    // INVALID_CHALLENGE quotes the header around the syntax error.
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |_| challenge(&format!(r#"Bearer realm="x" {PASSWORD}"#)));
    assert_eq!(e.code, Code::InvalidChallenge);
    assert!(!e.message.contains(PASSWORD), "{}", e.message);
    // UNSUPPORTED_CHALLENGE lists the schemes (lower-cased: a lower-case password leaks whole).
    let lower = "hunter2-password-must-not-leak";
    let e = fail("ghcr.io/o/a", with_password(lower), |_| challenge(lower));
    assert_eq!(e.code, Code::UnsupportedChallenge);
    assert!(!e.message.contains(lower), "{}", e.message);
    // INSECURE_REALM quotes a realm that is not a URL (url.rs cannot redact: it has no secrets).
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |_| challenge(&format!(r#"Bearer realm="{PASSWORD}:x""#)));
    assert_eq!(e.code, Code::InsecureRealm);
    assert!(!e.message.contains(PASSWORD), "{}", e.message);
    // TOKEN_ENDPOINT quotes the realm's path, and Retry-After.
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |r| {
        if r.url.ends_with("/v2/") {
            challenge(&format!(r#"Bearer realm="https://auth.example.com/{PASSWORD}/token""#))
        } else {
            Response { status: 429, retry_after: Some(PASSWORD.into()), ..Response::default() }
        }
    });
    assert!(!e.message.contains(PASSWORD), "{}", e.message);
    assert!(!e.retry_after.unwrap_or_default().contains(PASSWORD));
}

/// fuzz `flow` (crash-bb9126…): a server that echoes the form body quotes the password
/// percent-encoded, which `Credentials::redact` does not know.
#[test]
fn percent_encoded_password_is_redacted() {
    let odd = "p@ss w\u{f6}rd:\"LEAK\"&=+";
    let encoded = "p%40ss%20w%C3%B6rd%3A%22LEAK%22%26%3D%2B";
    let e = fail("ghcr.io/o/a", with_password(odd), |r| {
        if r.url.ends_with("/v2/") {
            challenge(REALM)
        } else {
            answer(500, &format!("cannot parse form: grant_type=password&username=alice&password={encoded}&access_type=offline"))
        }
    });
    assert!(!e.message.contains(encoded), "{}", e.message);
}

/// hostile-servers / secrets suite: server text is clipped to 300 characters *before* it is
/// redacted, so a secret straddling the cut leaves its first part in the message.
#[test]
fn a_secret_cut_by_the_quote_limit_is_still_redacted() {
    let body = format!(r#"{{"details":"{} {PASSWORD}"}}"#, "x".repeat(285));
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |r| if r.url.ends_with("/v2/") { challenge(REALM) } else { answer(403, &body) });
    assert_eq!(e.code, Code::Unauthorized);
    assert!(!e.message.contains(&PASSWORD[..12]), "{}", e.message);
}

/// hostile-servers suite: UNSUPPORTED_CHALLENGE named every scheme, so 500,000 of them made a
/// 1.5 MB message.
#[test]
fn unsupported_challenge_message_is_bounded() {
    let schemes = "A,".repeat(500_000);
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |_| challenge(&schemes));
    assert_eq!(e.code, Code::UnsupportedChallenge);
    assert!(e.message.len() <= 2048, "{} bytes", e.message.len());
}

// ---------------------------------------------------------------------------------------------
// Reported by the hostile-servers suite and fixed in flow.rs (realm text is clipped).

/// A 1 MB realm (path or host) is quoted whole: "the token server <origin><path> answered …" and
/// "refusing to send credentials to <origin>" become megabyte messages.
#[test]
fn realm_quotes_stay_bounded() {
    for realm in [format!("https://auth.example.com/{}", "p".repeat(1_000_000)), format!("https://{}.example.com/t", "h".repeat(1_000_000))]
    {
        let header = format!(r#"Bearer realm="{realm}""#);
        let e =
            fail("ghcr.io/o/a", with_password(PASSWORD), |r| if r.url.ends_with("/v2/") { challenge(&header) } else { answer(500, "") });
        assert_eq!(e.code, Code::TokenEndpoint);
        assert!(e.message.len() <= 2048, "{} bytes", e.message.len());
    }
    let header = format!(r#"Bearer realm="http://{}.example.com/t""#, "h".repeat(1_000_000));
    let e = fail("ghcr.io/o/a", with_password(PASSWORD), |_| challenge(&header));
    assert_eq!(e.code, Code::InsecureRealm);
    assert!(e.message.len() <= 2048, "{} bytes", e.message.len());
}

// ---------------------------------------------------------------------------------------------
// Bounded bodies, bounded memory: json.rs built a tree of every body, a node per value, so a
// 128 KiB `[[],[],…]` took 2 MB and 128 KiB of 60-deep nesting 8 MB, and wasm memory never
// shrinks. It now steps over what it does not keep.

/// The system allocator, counting each thread's live and peak bytes (per thread, because the
/// test harness runs tests side by side). Only this test binary uses it.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn counted(grown: usize, shrunk: usize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get().saturating_sub(shrunk) + grown);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

// SAFETY: every call is passed to System unchanged; the counting touches only const-initialized
// thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            counted(layout.size(), 0);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            counted(layout.size(), 0);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        counted(0, layout.size());
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            counted(new_size, layout.size());
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes `f` had allocated at once on this thread, its result included.
fn peak_bytes<R>(f: impl FnOnce() -> R) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let result = f();
    let peak = PEAK.with(Cell::get) - base;
    drop(result);
    peak
}

/// `head`, then `unit` repeated, then `tail`: at most `token::MAX_BODY` bytes, within a unit of it.
fn fill(head: &str, unit: &str, tail: &str) -> Vec<u8> {
    let mut body = head.to_string();
    while body.len() + unit.len() + tail.len() <= token::MAX_BODY {
        body.push_str(unit);
    }
    body.push_str(tail);
    body.into_bytes()
}

/// Hostile token and error bodies of the largest size read: checking, decoding and describing
/// them allocates a few small strings, nothing that grows with the body.
#[test]
fn reading_a_max_size_body_allocates_little() {
    const LIMIT: usize = 8 * 1024;
    let deep = format!("{}{}", "[".repeat(60), "]".repeat(60));
    let hostile = [
        fill("[", "[],", "[]]"),
        fill("[", "{},", "{}]"),
        fill("[", "0,", "0]"),
        fill(r#"{"a":["#, &format!("{deep},"), r#"0],"token":"t"}"#),
        fill(r#"{"a":""#, "x", r#"","token":"t","expires_in":300}"#),
        fill(r#"{"token":"t","a":["#, "[],", "[]]}"),
        fill("{", r#""k":0,"#, r#""access_token":"a"}"#),
        fill(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":["#, "[],", "[]]}]}"),
        fill(r#"{"errors":["#, r#"{"code":"C","detail":[{}]},"#, "{}]}"),
        fill(r#"{"details":"incorrect username or password","padding":["#, "[{}],", "0]}"),
        fill(r#"{"error":"invalid_grant","error_description":"bad refresh token","padding":""#, r"\u0041", r#""}"#),
    ];
    for body in &hostile {
        assert!(body.len() > token::MAX_BODY - 64 && body.len() <= token::MAX_BODY);
        let what = String::from_utf8_lossy(&body[..40]);
        assert!(json::is_valid(body), "{what}…");
        let checked = peak_bytes(|| json::is_valid(body));
        let decoded = peak_bytes(|| token::decode(body));
        let described = peak_bytes(|| server_error::describe(body));
        assert!(checked == 0, "is_valid allocated {checked} bytes for {what}…");
        assert!(decoded < LIMIT, "decode allocated {decoded} bytes for {what}…");
        assert!(described < LIMIT, "describe allocated {described} bytes for {what}…");
    }
    // Not JSON: decode says so without copying; describe quotes the text (the caller redacts,
    // then clips), in one buffer no larger than the body.
    for body in [fill(r#"{"a":"#, "[", "]}"), fill("", "a ", ""), fill("<p>", "\r\n\t", "</p>")] {
        let what = String::from_utf8_lossy(&body[..40]);
        assert!(!json::is_valid(&body), "{what}…");
        let decoded = peak_bytes(|| token::decode(&body));
        let described = peak_bytes(|| server_error::describe(&body));
        assert!(decoded < LIMIT, "decode allocated {decoded} bytes for {what}…");
        assert!(described <= body.len(), "describe allocated {described} bytes for {what}…");
    }
    // The counter does see allocations made on this thread.
    assert!(peak_bytes(|| vec![0u8; 100_000]) >= 100_000);
}
