//! The whole token dance driven natively: a scripted registry answers each request the flow
//! emits, and a fake clock stands in for time. No sockets, no JavaScript.

use registry_token::credentials::Credentials;
use registry_token::flow::{Client, Flow, Grant, Method, Mode, Options, Redirect, Request, Response, Step};
use registry_token::Code;

const HUB_CHALLENGE: &str = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;

fn opts(mode: Mode) -> Options {
    Options {
        actions: Vec::new(),
        credentials: Credentials::default(),
        registry_url: None,
        mode,
        offline: false,
        scopes: Vec::new(),
        registry_only: false,
    }
}

fn with_password(mode: Mode, password: &str) -> Options {
    let mut o = opts(mode);
    o.credentials = Credentials { username: Some("alice".into()), password: Some(password.into()), refresh_token: None };
    o
}

fn unauthorized(header: &str) -> Response {
    Response { status: 401, www_authenticate: Some(header.to_string()), ..Response::default() }
}

fn ok(body: &str) -> Response {
    Response { status: 200, body: body.as_bytes().to_vec(), ..Response::default() }
}

fn status(code: u16, body: &str) -> Response {
    Response { status: code, body: body.as_bytes().to_vec(), ..Response::default() }
}

/// Runs one call to the end; `server` answers each request. Returns the outcome and the
/// requests that were sent.
fn run(
    client: &mut Client,
    reference: &str,
    options: Options,
    now: u64,
    mut server: impl FnMut(&Request) -> Response,
) -> (Result<Grant, registry_token::Error>, Vec<Request>) {
    let mut flow = match Flow::new(reference, options) {
        Ok(f) => f,
        Err(e) => return (Err(e), Vec::new()),
    };
    let mut sent = Vec::new();
    let mut step = flow.start(client, now);
    loop {
        match step {
            Step::Done(g) => return (Ok(g), sent),
            Step::Failed(e) => return (Err(e), sent),
            Step::Send(req) => {
                let resp = server(&req);
                sent.push(req);
                assert!(sent.len() <= 14, "too many requests");
                step = flow.on_response(client, resp, now);
            }
        }
    }
}

fn hub(req: &Request) -> Response {
    if req.url.ends_with("/v2/") {
        unauthorized(HUB_CHALLENGE)
    } else {
        ok(r#"{"token":"tok-1","access_token":"tok-1","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"}"#)
    }
}

#[test]
fn anonymous_docker_hub_then_cached() {
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "nginx:1.25", opts(Mode::Authorization), 1_000, hub);
    let g = g.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].url, "https://registry-1.docker.io/v2/");
    assert!(sent[0].headers.is_empty(), "the ping must stay a CORS simple request");
    assert_eq!(sent[1].method, Method::Get);
    assert_eq!(sent[1].url, "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull");
    assert!(sent[1].headers.is_empty());
    assert_eq!(g.token.as_deref(), Some("tok-1"));
    assert_eq!(g.authorization.as_deref(), Some("Bearer tok-1"));
    assert_eq!(g.expires_at, Some(1_000 + 300_000));
    assert_eq!(g.scope, vec!["repository:library/nginx:pull".to_string()]);
    assert_eq!(g.registry, "https://registry-1.docker.io");
    assert_eq!(g.repository, "library/nginx");
    assert_eq!(g.service.as_deref(), Some("registry.docker.io"));

    // Same repository, another tag: no request at all.
    let (g2, sent) = run(&mut client, "docker.io/library/nginx:latest", opts(Mode::Authorization), 2_000, hub);
    assert!(sent.is_empty());
    assert_eq!(g2.unwrap().token.as_deref(), Some("tok-1"));

    // Another repository on the same registry: the challenge is cached, one token request.
    let (_, sent) = run(&mut client, "redis", opts(Mode::Token), 3_000, hub);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].url.contains("library%2Fredis"));
}

#[test]
fn expiry_uses_injected_clock_and_refreshes_early() {
    let mut client = Client::new();
    let mut issued = 0;
    let mut server = |req: &Request| {
        if req.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="http://127.0.0.1:9/token",service="local""#)
        } else {
            issued += 1;
            ok(&format!(r#"{{"token":"t{issued}","expires_in":60}}"#))
        }
    };
    let (g, _) = run(&mut client, "127.0.0.1:5000/a", opts(Mode::Authorization), 0, &mut server);
    assert_eq!(g.unwrap().expires_at, Some(60_000));
    // 60 s tokens are replaced 15 s early (a quarter of their life).
    let (g, sent) = run(&mut client, "127.0.0.1:5000/a", opts(Mode::Authorization), 44_999, &mut server);
    assert!(sent.is_empty());
    assert_eq!(g.unwrap().token.as_deref(), Some("t1"));
    let (g, sent) = run(&mut client, "127.0.0.1:5000/a", opts(Mode::Authorization), 45_000, &mut server);
    assert_eq!(sent.len(), 1);
    assert_eq!(g.unwrap().token.as_deref(), Some("t2"));
}

#[test]
fn short_and_missing_expires_in_become_sixty_seconds() {
    for body in [r#"{"token":"x","expires_in":5}"#, r#"{"access_token":"x"}"#] {
        let mut client = Client::new();
        let (g, _) = run(&mut client, "127.0.0.1:5000/a", opts(Mode::Authorization), 10, |r| {
            if r.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="/token""#)
            } else {
                ok(body)
            }
        });
        assert_eq!(g.unwrap().expires_at, Some(60_010));
    }
}

/// Issue 13: a username and password go to the realm by GET + Basic, the one request every token
/// server accepts (GHCR, GCR, ACR, Artifactory and Harbor refuse the OAuth2 POST); no refresh
/// token is asked for.
#[test]
fn password_uses_get_with_basic_by_default() {
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "ghcr.io/o/app:1.2", with_password(Mode::Authorization, "s3cret"), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://ghcr.io/token",service="ghcr.io""#)
        } else {
            ok(r#"{"token":"g","refresh_token":"unasked"}"#)
        }
    });
    assert_eq!(g.unwrap().token.as_deref(), Some("g"));
    assert_eq!(sent.len(), 2);
    let get = &sent[1];
    assert_eq!(get.method, Method::Get);
    assert_eq!(get.url, "https://ghcr.io/token?service=ghcr.io&scope=repository%3Ao%2Fapp%3Apull");
    assert!(!get.url.contains("offline"));
    assert_eq!(get.headers, vec![("authorization", "Basic YWxpY2U6czNjcmV0".to_string())]);
    assert_eq!(get.redirect, Redirect::Manual, "a request with Basic is redirected by the flow, not by fetch");
    assert_eq!(get.body, None);
}

/// Issue 13: the flow follows a credentialed token GET's redirects itself, so `Authorization`
/// goes to the realm's own origin only, whatever the runtime's fetch would do.
#[test]
fn credentialed_redirects_drop_authorization_across_origins() {
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "127.0.0.1:5000/app", with_password(Mode::Token, "pw"), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="http://127.0.0.1:5000/token",service="s""#)
        } else if r.url.starts_with("http://127.0.0.1:5000/token2") {
            Response { status: 307, location: Some("http://127.0.0.1:6000/stolen".into()), ..Response::default() }
        } else if r.url.starts_with("http://127.0.0.1:5000/token") {
            Response { status: 302, location: Some("/token2?x=1".into()), ..Response::default() }
        } else {
            ok(r#"{"token":"elsewhere"}"#)
        }
    });
    assert_eq!(g.unwrap().token.as_deref(), Some("elsewhere"));
    let urls: Vec<&str> = sent.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls[2], "http://127.0.0.1:5000/token2?x=1");
    assert_eq!(urls[3], "http://127.0.0.1:6000/stolen");
    assert_eq!(sent[2].headers.len(), 1, "same origin keeps Authorization");
    assert!(sent[3].headers.is_empty(), "another origin gets no Authorization");

    // https → http is refused before anything is sent there; a bad Location too.
    for (location, code) in [("http://example.com/t", Code::InsecureRealm), ("/\\evil.example/t", Code::TokenEndpoint)] {
        let mut client = Client::new();
        let (e, sent) = run(&mut client, "example.com/a", with_password(Mode::Token, "pw"), 0, |r| {
            if r.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="https://example.com/token""#)
            } else {
                Response { status: 301, location: Some(location.into()), ..Response::default() }
            }
        });
        assert_eq!(e.unwrap_err().code, code, "{location}");
        assert_eq!(sent.len(), 2);
    }

    // A browser's opaque redirect: sent again with fetch following (the Fetch standard drops
    // Authorization across origins).
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "example.com/a", with_password(Mode::Token, "pw"), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://example.com/token""#)
        } else if r.redirect == Redirect::Manual {
            Response { status: 0, ..Response::default() }
        } else {
            ok(r#"{"token":"b"}"#)
        }
    });
    assert_eq!(g.unwrap().token.as_deref(), Some("b"));
    assert_eq!(sent[2].redirect, Redirect::Follow);
}

#[test]
fn redirect_loops_stop_after_ten_hops() {
    let mut client = Client::new();
    let mut flow = Flow::new("127.0.0.1:5000/app", with_password(Mode::Token, "pw")).unwrap();
    let mut step = flow.start(&mut client, 0);
    let mut token_requests = 0;
    let mut last = None;
    for _ in 0..20 {
        match step {
            Step::Send(req) => {
                let resp = if req.url.ends_with("/v2/") {
                    unauthorized(r#"Bearer realm="/token""#)
                } else {
                    token_requests += 1;
                    Response { status: 302, location: Some("/token".into()), ..Response::default() }
                };
                step = flow.on_response(&mut client, resp, 0);
            }
            other => {
                last = Some(other);
                break;
            }
        }
    }
    let Some(Step::Failed(e)) = last else { panic!("expected a failure") };
    assert_eq!(e.code, Code::Network);
    assert_eq!(token_requests, 11, "the first request and ten redirects; an 11th hop is not requested");
}

/// Issue 13: Basic credentials obey the plain-http rule of bearer flows.
#[test]
fn basic_challenge_over_plain_http_is_refused() {
    let basic = |_: &Request| unauthorized(r#"Basic realm="x""#);
    let mut o = with_password(Mode::Authorization, "pw");
    o.registry_url = Some("http://registry.example".into());
    let mut client = Client::new();
    let (e, sent) = run(&mut client, "registry.example/app", o, 0, basic);
    assert_eq!(e.unwrap_err().code, Code::InsecureRealm);
    assert!(sent.iter().all(|r| r.headers.is_empty()));
    // Loopback and https are fine.
    let mut o = with_password(Mode::Authorization, "pw");
    o.registry_url = Some("http://127.0.0.1:5000".into());
    let (g, _) = run(&mut Client::new(), "registry.example/app", o, 0, basic);
    assert!(g.unwrap().authorization.unwrap().starts_with("Basic "));
    let (g, _) = run(&mut Client::new(), "registry.example/app", with_password(Mode::Authorization, "pw"), 0, basic);
    assert!(g.is_ok());
}

/// Issue 13: a registry that names another registry's realm and service is never handed the
/// other's cached token.
#[test]
fn token_cache_is_per_registry() {
    let mut client = Client::new();
    let mut issued = 0;
    let mut server = |r: &Request| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://auth.example/token",service="shared""#)
        } else {
            issued += 1;
            ok(&format!(r#"{{"token":"t{issued}"}}"#))
        }
    };
    let (a, _) = run(&mut client, "a.example/app", opts(Mode::Token), 0, &mut server);
    let (b, sent) = run(&mut client, "b.example/app", opts(Mode::Token), 0, &mut server);
    assert_eq!(a.unwrap().token.as_deref(), Some("t1"));
    assert_eq!(b.unwrap().token.as_deref(), Some("t2"));
    assert_eq!(sent.len(), 2);
}

/// Issue 13: one loopback rule. The grammar pings `[0:0:0:0:0:0:0:1]` over http; the URL code
/// must then accept its relative realm with credentials, not refuse it as insecure.
#[test]
fn ipv6_loopback_spellings_agree() {
    for host in ["[0:0:0:0:0:0:0:1]:5000", "[::0:1]:5000", "[::1]:5000"] {
        let mut client = Client::new();
        let (g, sent) = run(&mut client, &format!("{host}/app"), with_password(Mode::Token, "pw"), 0, |r| {
            if r.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="/token""#)
            } else {
                ok(r#"{"token":"v6"}"#)
            }
        });
        assert_eq!(sent[0].url, format!("http://{host}/v2/"));
        assert_eq!(g.unwrap().token.as_deref(), Some("v6"), "{host}");
    }
}

#[test]
fn offline_posts_then_falls_back_to_get_and_remembers() {
    for refused in [400u16, 401, 403, 404, 405, 307, 0] {
        let mut client = Client::new();
        let mut server = |req: &Request| {
            if req.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#)
            } else if req.method == Method::Post {
                status(refused, "")
            } else {
                ok(r#"{"token":"g"}"#)
            }
        };
        let offline = |mode| {
            let mut o = with_password(mode, "s3cret");
            o.offline = true;
            o
        };
        let (g, sent) = run(&mut client, "ghcr.io/o/app:1.2", offline(Mode::Token), 0, &mut server);
        assert_eq!(g.unwrap().token.as_deref(), Some("g"), "status {refused}");
        assert_eq!(sent.len(), 3);
        let post = &sent[1];
        assert_eq!(post.method, Method::Post);
        assert_eq!(post.redirect, Redirect::Manual, "a POST body with a password must not follow redirects");
        assert_eq!(post.url, "https://ghcr.io/token");
        assert_eq!(
            post.body.as_deref(),
            Some("grant_type=password&username=alice&password=s3cret&access_type=offline&service=ghcr.io&client_id=registry-token&scope=repository%3Ao%2Fapp%3Apull")
        );
        let get = &sent[2];
        assert_eq!(get.method, Method::Get);
        assert!(!get.url.contains("user%2Fimage"), "the /v2/ challenge's scope must not be requested");
        assert_eq!(get.headers, vec![("authorization", "Basic YWxpY2U6czNjcmV0".to_string())]);
        // A later call to the same realm goes straight to GET.
        let (_, sent) = run(&mut client, "ghcr.io/o/other", offline(Mode::Token), 1, &mut server);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, Method::Get);
    }
}

#[test]
fn oauth2_post_success_keeps_scope_and_refresh_token() {
    let mut client = Client::new();
    let mut o = with_password(Mode::Authorization, "pw");
    o.offline = true;
    o.actions = vec!["push".into(), "pull".into(), "pull".into()];
    let (g, sent) = run(&mut client, "myreg.azurecr.io/team/app", o, 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io""#)
        } else {
            ok(r#"{"access_token":"acr","refresh_token":"rt-1","expires_in":900,"scope":"repository:team/app:pull"}"#)
        }
    });
    let g = g.unwrap();
    assert!(sent[1].body.as_deref().unwrap().contains("access_type=offline"));
    assert!(sent[1].body.as_deref().unwrap().contains("scope=repository%3Ateam%2Fapp%3Apull%2Cpush"));
    assert_eq!(g.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(g.scope, vec!["repository:team/app:pull".to_string()], "granted scope wins over requested");
}

#[test]
fn refresh_token_grant() {
    let mut client = Client::new();
    let mut o = opts(Mode::Token);
    o.credentials.refresh_token = Some("rt-secret".into());
    let (g, sent) = run(&mut client, "example.com/a/b", o.clone(), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://example.com/token",service="ex""#)
        } else {
            ok(r#"{"access_token":"fresh"}"#)
        }
    });
    assert_eq!(g.unwrap().token.as_deref(), Some("fresh"));
    assert_eq!(
        sent[1].body.as_deref(),
        Some("grant_type=refresh_token&refresh_token=rt-secret&service=ex&client_id=registry-token&scope=repository%3Aa%2Fb%3Apull")
    );
    // Refused refresh token without a password: UNAUTHORIZED, no GET (a refresh token cannot go in Basic).
    let mut client = Client::new();
    let (e, sent) = run(&mut client, "example.com/a/b", o, 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://example.com/token""#)
        } else {
            status(401, r#"{"error":"invalid_grant","error_description":"refresh token rt-secret expired"}"#)
        }
    });
    let e = e.unwrap_err();
    assert_eq!(e.code, Code::Unauthorized);
    assert_eq!(sent.len(), 2);
    assert!(e.message.contains("invalid_grant"));
    assert!(!e.message.contains("rt-secret"), "{}", e.message);
}

#[test]
fn basic_only_registries() {
    let nexus = |_: &Request| unauthorized(r#"BASIC realm="Sonatype Nexus Repository Manager""#);
    let mut client = Client::new();
    let (e, _) = run(&mut client, "nexus.example.com/a", opts(Mode::Token), 0, nexus);
    let e = e.unwrap_err();
    assert_eq!(e.code, Code::UnsupportedChallenge);
    assert!(e.message.contains("authorize"));
    let (e, sent) = run(&mut client, "nexus.example.com/a", opts(Mode::Authorization), 0, nexus);
    assert_eq!(e.unwrap_err().code, Code::Unauthorized);
    assert!(sent.is_empty(), "the challenge is cached");
    let (g, _) = run(&mut client, "nexus.example.com/a", with_password(Mode::Authorization, "pw"), 0, nexus);
    let g = g.unwrap();
    assert_eq!(g.authorization.as_deref(), Some("Basic YWxpY2U6cHc="));
    assert_eq!(g.token, None);
    assert_eq!(g.realm.as_deref(), Some("Sonatype Nexus Repository Manager"));
}

#[test]
fn no_auth_registry() {
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "localhost:5000/app", opts(Mode::Token), 0, |_| ok(""));
    assert_eq!(sent[0].url, "http://localhost:5000/v2/");
    let g = g.unwrap();
    assert_eq!((g.authorization, g.token, g.expires_at), (None, None, None));
}

#[test]
fn challenge_problems() {
    let cases: [(Response, Code); 6] = [
        (Response { status: 401, ..Response::default() }, Code::NoChallenge),
        (unauthorized("   "), Code::NoChallenge),
        (unauthorized(r#"Bearer realm="unterminated"#), Code::InvalidChallenge),
        (unauthorized(r#"Bearer service="x""#), Code::InvalidChallenge),
        (unauthorized("Negotiate abc=="), Code::UnsupportedChallenge),
        (status(404, "404 page not found"), Code::NoChallenge),
    ];
    for (resp, code) in cases {
        let mut client = Client::new();
        let (e, _) = run(&mut client, "example.com/a", opts(Mode::Token), 0, |_| resp.clone());
        assert_eq!(e.unwrap_err().code, code, "{resp:?}");
    }
}

#[test]
fn two_challenges_in_one_line_prefers_bearer() {
    let line = r#"Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*",Basic realm="https://codeberg.org/v2",service="container_registry",scope="*""#;
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "codeberg.org/u/app", opts(Mode::Token), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(line)
        } else {
            ok(r#"{"token":"c"}"#)
        }
    });
    assert_eq!(g.unwrap().token.as_deref(), Some("c"));
    assert_eq!(sent[1].url, "https://codeberg.org/v2/token?service=container_registry&scope=repository%3Au%2Fapp%3Apull");
}

#[test]
fn relative_realm_and_missing_service() {
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "europe-docker.pkg.dev/p/r/img", opts(Mode::Authorization), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="/v2/token""#)
        } else {
            ok(r#"{"token":"ar"}"#)
        }
    });
    assert_eq!(sent[1].url, "https://europe-docker.pkg.dev/v2/token?scope=repository%3Ap%2Fr%2Fimg%3Apull");
    let g = g.unwrap();
    assert_eq!(g.service, None);
    assert_eq!(g.realm.as_deref(), Some("https://europe-docker.pkg.dev/v2/token"));
}

#[test]
fn insecure_realms() {
    let plain = |_: &Request| unauthorized(r#"Bearer realm="http://auth.example.com/token",service="x""#);
    let mut client = Client::new();
    let (e, sent) = run(&mut client, "example.com/a", with_password(Mode::Token, "pw"), 0, plain);
    assert_eq!(e.unwrap_err().code, Code::InsecureRealm);
    assert_eq!(sent.len(), 1, "only the credential-free ping was sent");
    // Anonymous requests carry no secret, so plain http is allowed.
    let (_, sent) =
        run(
            &mut client,
            "example.com/a",
            opts(Mode::Token),
            0,
            |r| if r.url.ends_with("/v2/") { plain(r) } else { ok(r#"{"token":"t"}"#) },
        );
    assert_eq!(sent.len(), 1);
    for realm in ["javascript:alert(1)", "file:///etc/passwd", "data:,x"] {
        let mut client = Client::new();
        let h = format!(r#"Bearer realm="{realm}""#);
        let (e, _) = run(&mut client, "example.com/a", opts(Mode::Token), 0, |_| unauthorized(&h));
        assert_eq!(e.unwrap_err().code, Code::InsecureRealm, "{realm}");
    }
    // https realm redirected to http: refused.
    let mut client = Client::new();
    let (e, _) = run(&mut client, "example.com/a", opts(Mode::Token), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://example.com/token""#)
        } else {
            Response { url: Some("http://evil.example/token".into()), ..ok(r#"{"token":"t"}"#) }
        }
    });
    assert_eq!(e.unwrap_err().code, Code::InsecureRealm);
}

#[test]
fn token_endpoint_errors() {
    let realm = r#"Bearer realm="https://auth.example.com/token",service="s",error="insufficient_scope",error_description="no way""#;
    let cases: Vec<(Response, Code, &str)> = vec![
        (status(401, r#"{"details":"incorrect username or password"}"#), Code::Unauthorized, "incorrect username or password"),
        (
            status(403, r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#),
            Code::Unauthorized,
            "DENIED: requested access",
        ),
        (Response { retry_after: Some("30".into()), ..status(429, "slow down") }, Code::TokenEndpoint, "Retry-After: 30"),
        (status(500, "<html>boom</html>"), Code::TokenEndpoint, "500"),
        (ok("not json"), Code::BadTokenResponse, "not JSON"),
        (ok(r#"{"nothing":1}"#), Code::BadTokenResponse, "neither"),
        (Response { body_truncated: true, ..ok("{") }, Code::BadTokenResponse, "larger than"),
        (Response { www_authenticate: Some(realm.into()), ..status(401, "") }, Code::Unauthorized, "insufficient_scope: no way"),
    ];
    for (resp, code, needle) in cases {
        let mut client = Client::new();
        let (e, _) = run(&mut client, "example.com/a", with_password(Mode::Token, "hunter2hunter2"), 0, |r| {
            if r.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="https://auth.example.com/token",service="s""#)
            } else {
                resp.clone()
            }
        });
        let e = e.unwrap_err();
        assert_eq!(e.code, code, "{resp:?}");
        assert!(e.message.contains(needle), "{:?} lacks {needle:?}", e.message);
        if resp.status != 200 {
            assert_eq!(e.status, Some(resp.status));
        }
    }
}

#[test]
fn secrets_never_reach_messages() {
    let mut client = Client::new();
    let (e, _) = run(&mut client, "example.com/a", with_password(Mode::Token, "hunter2hunter2"), 0, |r| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://auth.example.com/token""#)
        } else {
            status(401, r#"{"details":"password hunter2hunter2 is wrong, basic YWxpY2U6aHVudGVyMmh1bnRlcjI="}"#)
        }
    });
    let e = e.unwrap_err();
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    assert!(!e.message.contains("YWxpY2U6aHVudGVyMmh1bnRlcjI="), "{}", e.message);
}

#[test]
fn network_error_on_token_forgets_the_challenge() {
    let mut client = Client::new();
    let mut flow = Flow::new("example.com/a", opts(Mode::Token)).unwrap();
    let Step::Send(_) = flow.start(&mut client, 0) else { panic!("expected ping") };
    let Step::Send(_) = flow.on_response(&mut client, unauthorized(r#"Bearer realm="https://auth.example.com/token""#), 0) else {
        panic!("expected token request")
    };
    let e = flow.on_network_error(&mut client, "fetch failed");
    assert_eq!(e.code, Code::Network);
    assert!(e.message.contains("auth.example.com"));
    let mut again = Flow::new("example.com/a", opts(Mode::Token)).unwrap();
    let Step::Send(r) = again.start(&mut client, 1) else { panic!("expected a new ping") };
    assert!(r.url.ends_with("/v2/"));
}

#[test]
fn flight_keys_and_caches_separate_credentials() {
    let key = |r: &str, o: Options| Flow::new(r, o).unwrap().flight_key();
    assert_eq!(
        key("nginx:1", opts(Mode::Token)),
        key("docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", opts(Mode::Token))
    );
    assert_ne!(key("nginx", opts(Mode::Token)), key("nginx", with_password(Mode::Token, "a")));
    assert_ne!(key("nginx", with_password(Mode::Token, "a")), key("nginx", with_password(Mode::Token, "b")));
    assert_ne!(key("nginx", opts(Mode::Token)), key("nginx", opts(Mode::Authorization)));
    assert!(!key("nginx", with_password(Mode::Token, "topsecret")).contains("topsecret"));

    let mut client = Client::new();
    let mut n = 0;
    let mut server = |r: &Request| {
        if r.url.ends_with("/v2/") {
            unauthorized(r#"Bearer realm="https://a.example/token""#)
        } else {
            n += 1;
            ok(&format!(r#"{{"token":"t{n}"}}"#))
        }
    };
    let (a, _) = run(&mut client, "example.com/x", with_password(Mode::Token, "one"), 0, &mut server);
    let (b, sent) = run(&mut client, "example.com/x", with_password(Mode::Token, "two"), 0, &mut server);
    assert_ne!(a.unwrap().token, b.unwrap().token);
    assert!(!sent.is_empty());
}

#[test]
fn bad_arguments_send_nothing() {
    let mut o = opts(Mode::Token);
    o.registry_url = Some("ftp://x".into());
    assert_eq!(Flow::new("nginx", o).unwrap_err().code, Code::InvalidReference);
    let mut o = opts(Mode::Token);
    o.actions = vec!["pull push".into()];
    assert_eq!(Flow::new("nginx", o).unwrap_err().code, Code::InvalidReference);
    let mut o = opts(Mode::Token);
    o.credentials.password = Some("p".into());
    assert_eq!(Flow::new("nginx", o).unwrap_err().code, Code::InvalidReference, "password without username");
    assert_eq!(Flow::new("Not/Valid", opts(Mode::Token)).unwrap_err().code, Code::InvalidReference);
}

#[test]
fn registry_url_override() {
    let mut o = opts(Mode::Authorization);
    o.registry_url = Some("http://127.0.0.1:8080/proxy/ghcr/".into());
    let mut client = Client::new();
    let (g, sent) = run(&mut client, "ghcr.io/o/a", o, 0, |_| ok(""));
    assert_eq!(sent[0].url, "http://127.0.0.1:8080/proxy/ghcr/v2/");
    assert_eq!(g.unwrap().registry, "http://127.0.0.1:8080/proxy/ghcr");
}

#[test]
fn cache_is_bounded() {
    let mut client = Client::with_capacity(32);
    for i in 0..500 {
        let r = format!("127.0.0.1:5000/img{i}");
        let (g, _) = run(&mut client, &r, opts(Mode::Token), i, |r| {
            if r.url.ends_with("/v2/") {
                unauthorized(r#"Bearer realm="/t""#)
            } else {
                ok(r#"{"token":"t"}"#)
            }
        });
        assert!(g.is_ok());
        assert!(client.stats().tokens <= 32);
    }
}

/// A shared store between two "isolates" (two clients): the second one needs no request at all,
/// and only a token the network just issued is ever written.
#[test]
fn store_round_trip_between_isolates() {
    let mut first = Client::new();
    let mut flow = Flow::new("nginx:1.25", opts(Mode::Authorization)).unwrap();
    let key = flow.store_key().unwrap();
    let mut step = flow.start(&mut first, 1_000);
    let mut sent = 0;
    let grant = loop {
        match step {
            Step::Send(req) => {
                sent += 1;
                step = flow.on_response(&mut first, hub(&req), 1_000);
            }
            Step::Done(g) => break g,
            Step::Failed(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(sent, 2);
    assert!(grant.fresh);
    let (value, expires_at, ttl) = registry_token::store::for_grant(&key, &grant, 1_000).unwrap();
    assert_eq!((expires_at, ttl), (301_000, 270));
    assert!(!value.contains("alice"));

    // The cached answer is not fresh: nothing to write again.
    let (again, sent) = run(&mut first, "nginx:1.25", opts(Mode::Authorization), 2_000, hub);
    let again = again.unwrap();
    assert!(sent.is_empty() && !again.fresh);
    assert!(registry_token::store::for_grant(&key, &again, 2_000).is_none());

    // Isolate two: its first step would ping; the store answers instead.
    let mut second = Client::new();
    let mut flow = Flow::new("nginx:1.25", opts(Mode::Authorization)).unwrap();
    assert_eq!(flow.store_key().as_deref(), Some(key.as_str()), "the same key from a fresh isolate");
    assert!(matches!(flow.start(&mut second, 5_000), Step::Send(_)));
    let stored = registry_token::store::decode(&key, &value, 5_000, 30_000).unwrap();
    let Step::Done(g) = flow.from_store(&mut second, key.clone(), stored, 5_000) else { panic!("no grant from the store") };
    assert_eq!(g.token.as_deref(), Some("tok-1"));
    assert_eq!(g.realm.as_deref(), Some("https://auth.docker.io/token"));
    assert_eq!(g.service.as_deref(), Some("registry.docker.io"));
    assert!(!g.fresh);
    // Later calls in isolate two find it in memory, with no request and no second store read.
    let (g, sent) = run(&mut second, "nginx:1.25", opts(Mode::Token), 6_000, hub);
    assert!(sent.is_empty());
    assert_eq!(g.unwrap().token.as_deref(), Some("tok-1"));
    // Past its life (minus the margin) it is gone and the network is asked.
    let (g, sent) = run(&mut second, "nginx:1.25", opts(Mode::Token), 271_000, hub);
    assert_eq!(sent.len(), 2);
    assert!(g.unwrap().fresh);
}

#[test]
fn store_keys_follow_credentials_and_offline_has_none() {
    let anonymous = Flow::new("ghcr.io/a/b", opts(Mode::Token)).unwrap().store_key().unwrap();
    let alice = Flow::new("ghcr.io/a/b", with_password(Mode::Token, "pw1")).unwrap().store_key().unwrap();
    let alice2 = Flow::new("ghcr.io/a/b", with_password(Mode::Token, "pw2")).unwrap().store_key().unwrap();
    assert!(anonymous != alice && alice != alice2 && anonymous != alice2);
    let mut offline = with_password(Mode::Authorization, "pw1");
    offline.offline = true;
    assert!(Flow::new("ghcr.io/a/b", offline).unwrap().store_key().is_none());
    // A value written for alice is refused under the anonymous key.
    let mut client = Client::new();
    let mut flow = Flow::new("ghcr.io/a/b", with_password(Mode::Token, "pw1")).unwrap();
    let mut step = flow.start(&mut client, 0);
    let grant = loop {
        match step {
            Step::Send(req) => step = flow.on_response(&mut client, hub(&req), 0),
            Step::Done(g) => break g,
            Step::Failed(e) => panic!("{e:?}"),
        }
    };
    let (value, ..) = registry_token::store::for_grant(&alice, &grant, 0).unwrap();
    assert!(!value.contains("pw1") && !value.contains("alice"));
    assert_eq!(registry_token::store::decode(&anonymous, &value, 0, 30_000), Err(registry_token::store::Refused::ForeignKey));
}

#[test]
fn generation_and_fresh_until_track_the_caches() {
    let mut client = Client::new();
    let g0 = client.generation();
    let (g, _) = run(&mut client, "nginx:1.25", opts(Mode::Token), 1_000, hub);
    let g = g.unwrap();
    assert_eq!(client.generation(), g0, "inserting new entries changes nothing");
    let flow = Flow::new("nginx:1.25", opts(Mode::Token)).unwrap();
    // Token of 300 s, refreshed 30 s early; the challenge lives an hour.
    assert_eq!(client.fresh_until(&flow, &g), Some(271_000));
    client.forget(g.cache_key.as_deref().unwrap());
    assert_ne!(client.generation(), g0);
    assert_eq!(client.fresh_until(&flow, &g), None, "the token is gone");
    let g1 = client.generation();
    client.clear();
    assert_ne!(client.generation(), g1);
}
