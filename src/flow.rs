//! The whole token dance, as a state machine that emits requests and consumes responses.
//!
//! ```text
//!            cached challenge? ──yes──────────────────────────────┐
//!  start ──┤                                                      ▼
//!            no ──► GET <base>/v2/ ──200──► no auth needed     choose by challenge
//!                        │                                   ┌───┴───────────────┐
//!                        └──401 + WWW-Authenticate ──────────┤ Basic: header from│
//!                                                            │ the credentials   │
//!                                                            │ Bearer: cached    │
//!                                                            │ token, or ask the │
//!                                                            │ realm:            │
//!                                                            └───┬───────────────┘
//!   anonymous ─────────────────► GET realm?service&scope ────────┤
//!   password ──────────────────► GET + Basic (redirects followed ┤ by hand: Authorization
//!                                 only to the realm's own origin)│
//!   password, offline ──► POST (OAuth2) ──400/401/403/404/405/3xx──► GET + Basic (realm
//!                                                                │   remembered as GET-only)
//!   refresh token ─► POST refresh_token grant                    │
//!                                                                ▼
//!                                            token / access_token, expires_in ≥ 60 s → cache
//! ```
//!
//! Nothing here performs I/O or reads a clock: the shell sends each [`Request`], hands back the
//! [`Response`] and the time, and the same code runs under `cargo test` with a fake clock and no
//! sockets. A [`Client`] holds what outlives one call: tokens, challenges, and which realms refuse
//! OAuth2 POST.

use crate::cache::Bounded;
use crate::challenge::{parse_challenges, Challenge};
use crate::credentials::Credentials;
use crate::error::{Code, Error};
use crate::reference::Reference;
use crate::scope::{split_list, Scope};
use crate::server_error;
use crate::token;
use crate::url::{encode_pairs, parse_base, resolve_realm, with_query, HttpUrl};

/// Sent as `client_id`, which the OAuth2 grant requires ("should be set to a meaningful value").
pub const CLIENT_ID: &str = "registry-token";

/// How long a registry's challenge is trusted before it is asked again.
pub const CHALLENGE_TTL_MS: u64 = 60 * 60 * 1000;

/// Default bounds; a dashboard sees tens of repositories, an edge function maybe thousands.
pub const TOKEN_CACHE_CAPACITY: usize = 1024;
pub const CHALLENGE_CACHE_CAPACITY: usize = 256;

/// A token is replaced this long before it expires (at most a quarter of its life), so a caller
/// never receives one that dies on its way to the registry.
pub const REFRESH_MARGIN_MS: u64 = 30_000;

pub use crate::redirect::MAX_REDIRECTS;

/// Everything that outlives a single call. The three maps share one value type so the generic
/// map code is compiled once into the wasm, not three times.
#[derive(Debug)]
pub struct Client {
    challenges: Bounded<Cached>,
    tokens: Bounded<Cached>,
    /// Realms that refused the OAuth2 POST; later calls go straight to GET.
    get_only: Bounded<Cached>,
    /// Whether a token read from a shared store was ever cached here (under its store key, as
    /// its realm is not yet known): only then does a call without a cached challenge look there.
    store_aliases: bool,
}

#[derive(Clone, Debug)]
enum Cached {
    Challenge(Auth),
    Token(CachedToken),
    GetOnly,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        Client::with_capacity(TOKEN_CACHE_CAPACITY)
    }

    pub fn with_capacity(tokens: usize) -> Client {
        Client {
            challenges: Bounded::new(CHALLENGE_CACHE_CAPACITY),
            tokens: Bounded::new(tokens),
            get_only: Bounded::new(CHALLENGE_CACHE_CAPACITY),
            store_aliases: false,
        }
    }

    pub fn clear(&mut self) {
        self.challenges.clear();
        self.tokens.clear();
        self.get_only.clear();
    }

    /// Drops one cached token: the registry refused it (`invalid_token`), so it must not be
    /// handed out again however long it claimed to live.
    pub fn forget(&mut self, cache_key: &str) {
        self.tokens.remove(cache_key);
    }

    /// Caches a challenge a resource answered with, as a `/v2/` one would be: a registry that was
    /// never pinged, or that moved its realm, is then asked the right token server next time.
    pub fn learn_challenge(&mut self, base: &str, www_authenticate: &str, now: u64) {
        let Ok(base_url) = parse_base(base) else { return };
        if let Ok(auth @ Auth::Bearer { .. }) = select_challenge(Some(www_authenticate), &base_url) {
            self.challenges.insert(base_url.to_string(), Cached::Challenge(auth), now.saturating_add(CHALLENGE_TTL_MS), now);
        }
    }

    /// Changes whenever a token or challenge leaves the caches (expiry, eviction, refusal,
    /// clearing, replacement): an answer copied out earlier is good only while this is unchanged.
    pub fn generation(&self) -> u64 {
        self.tokens.removals().wrapping_add(self.challenges.removals())
    }

    /// Until when `grant` (a cached answer to `flow`, just given) will be given again unchanged:
    /// the earlier of its token's and its challenge's expiry. None when the grant is not cached.
    pub fn fresh_until(&self, flow: &Flow, grant: &Grant) -> Option<u64> {
        let challenge = self.challenges.expiry(&flow.base_text);
        let token = match &grant.cache_key {
            Some(key) => Some(self.tokens.expiry(key)?),
            None => None,
        };
        match (challenge, token) {
            (Some(c), Some(t)) => Some(c.min(t)),
            (c, t) => c.or(t),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats { tokens: self.tokens.len(), token_capacity: self.tokens.capacity(), challenges: self.challenges.len() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    pub tokens: usize,
    pub token_capacity: usize,
    pub challenges: usize,
}

/// What a registry asked for in its `/v2/` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Auth {
    Anonymous,
    Basic { realm: Option<String> },
    Bearer { realm: HttpUrl, service: Option<String> },
}

#[derive(Clone, Debug)]
struct CachedToken {
    token: String,
    expires_at: u64,
    refresh_token: Option<String>,
    scope: Option<Vec<String>>,
    /// Realm and service as a store reported them (tokens read from a store only).
    reported: Option<(String, Option<String>)>,
}

/// The parts of a token's cache key a flow knows before the challenge names the realm.
#[derive(Clone, Debug)]
pub struct KeyParts {
    base: String,
    scope: String,
    credentials: String,
}

impl KeyParts {
    /// The scopes the token is asked for, one entry each.
    pub fn scopes(&self) -> Vec<String> {
        crate::scope::split_list(&self.scope)
    }

    /// The registry base is part of the key: a registry that names another registry's realm and
    /// service must never be handed the other's cached token.
    pub fn token_key(&self, realm: &str, service: Option<&str>) -> String {
        token_key(realm, service, &self.base, &self.scope, &self.credentials)
    }

    /// The same call's key in a shared store (see [`Flow::store_key`]).
    pub fn store_key(&self) -> String {
        crate::store::key(&self.base, &self.scope, &self.credentials)
    }
}

fn token_key(realm: &str, service: Option<&str>, base: &str, scope: &str, credentials: &str) -> String {
    let service = service.unwrap_or("");
    let mut k = String::with_capacity(realm.len() + service.len() + base.len() + scope.len() + credentials.len() + 4);
    k.push_str(realm);
    for part in [service, base, scope, credentials] {
        k.push('\n');
        k.push_str(part);
    }
    k
}

/// What the caller wants in the end: `getToken` needs a bearer token, `authorize` takes any
/// Authorization header (Basic included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Token,
    Authorization,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub actions: Vec<String>,
    pub credentials: Credentials,
    pub registry_url: Option<String>,
    pub mode: Mode,
    /// Ask for a refresh token (OAuth2 `access_type=offline`). Off, a username and password go
    /// to the realm by GET + Basic, which every token server accepts in one round trip.
    pub offline: bool,
    /// More scopes for the same token (`repository:other/repo:pull`, `registry:catalog:*`): a
    /// resource's `insufficient_scope` challenge names what it needs beside the caller's own.
    pub scopes: Vec<String>,
    /// The call is for the registry itself (the catalog), not a repository: `image_ref` is then
    /// a registry name such as `localhost:5000` or `docker.io`.
    pub registry_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// How the shell must let fetch treat redirects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// Follow; fetch drops `Authorization` on a cross-origin hop by itself.
    Follow,
    /// Do not follow: the request holds a secret. A POST's body would be re-sent by fetch to any
    /// origin on 307/308, so a redirect counts as "POST not supported here" and we fall back to
    /// GET. A GET with Basic is redirected by the flow itself, which drops `Authorization` on
    /// any hop to another origin (some runtimes' fetch keeps it).
    Manual,
}

/// Why a request is made; the shell skips reading bodies nobody will look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `GET /v2/`: only the status and `WWW-Authenticate` matter, unless it is an error.
    Challenge,
    /// The token request: the body is the product.
    Token,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub purpose: Purpose,
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub redirect: Redirect,
}

/// The parts of an HTTP answer the flow reads. `status` 0 stands for an opaque redirect
/// (what browsers give for `redirect: "manual"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// All `WWW-Authenticate` values, joined with ", " as `Headers.get` does.
    pub www_authenticate: Option<String>,
    pub retry_after: Option<String>,
    /// At most [`token::MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// The server sent more than [`token::MAX_BODY`]; the shell stopped reading.
    pub body_truncated: bool,
    /// The URL that finally answered, when redirects were followed.
    pub url: Option<String>,
    /// `Location`, for a redirect answered to a request sent with [`Redirect::Manual`].
    pub location: Option<String>,
}

/// The result of a successful call, as `authorize` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Where the token is cached, so a caller the registry refused can drop exactly it.
    pub cache_key: Option<String>,
    pub authorization: Option<String>,
    pub token: Option<String>,
    pub expires_at: Option<u64>,
    pub scope: Vec<String>,
    pub realm: Option<String>,
    pub service: Option<String>,
    pub registry: String,
    pub repository: String,
    pub refresh_token: Option<String>,
    /// The token was just issued by the token server (not read from a cache or store): the one
    /// case where it is written to a shared store.
    pub fresh: bool,
}

#[derive(Debug)]
pub enum Step {
    Send(Request),
    Done(Grant),
    Failed(Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    /// OAuth2 POST, `grant_type=password`.
    PasswordPost,
    /// OAuth2 POST, `grant_type=refresh_token`.
    RefreshPost,
    /// The distribution token spec GET (anonymous, or Basic).
    Get,
    /// GET + Basic after the POST was refused; success marks the realm GET-only.
    GetAfterPost,
}

#[derive(Clone, Debug)]
enum State {
    Start,
    AwaitChallenge,
    AwaitToken { realm: HttpUrl, service: Option<String>, key: String, attempt: Attempt, sent: Box<Request>, hops: u8 },
    Finished,
}

/// One call in progress.
#[derive(Debug)]
pub struct Flow {
    base: HttpUrl,
    /// `base`, `scope` and the credentials' hash as text, computed once: a cached call uses them
    /// several times, and formatting them again was most of its cost.
    base_text: String,
    scope_text: String,
    credentials_id: String,
    repository: String,
    credentials: Credentials,
    mode: Mode,
    offline: bool,
    /// The reference's domain; [`Flow::registry`] derives the name credentials are keyed by, only
    /// when a call looks them up (not on the cached path).
    domain: String,
    state: State,
}

impl Flow {
    /// Validates everything the caller gave before any request exists, so a bad argument costs
    /// nothing and changes nothing.
    pub fn new(image_ref: &str, options: Options) -> Result<Flow, Error> {
        let reference = if options.registry_only { registry_reference(image_ref)? } else { Reference::parse(image_ref)? };
        let base = match &options.registry_url {
            Some(url) => parse_base(url)?,
            None => parse_base(&reference.registry_url())?,
        };
        // One scope (every token call) takes no list, merge or join: this runs on the cached path.
        let scope_text = if options.scopes.is_empty() && !options.registry_only {
            Scope::repository(&reference.path, &options.actions)?.to_string()
        } else {
            let mut scopes = Vec::with_capacity(1 + options.scopes.len());
            if !options.registry_only {
                scopes.push(Scope::repository(&reference.path, &options.actions)?);
            }
            for s in &options.scopes {
                scopes.push(Scope::checked(s)?);
            }
            if scopes.is_empty() {
                return Err(Error::new(Code::InvalidReference, "no scope to ask a token for"));
            }
            let mut joined = String::new();
            for s in crate::scope::merge(&scopes) {
                crate::text::push_item(&mut joined, " ", &s.to_string());
            }
            joined
        };
        options.credentials.validate()?;
        Ok(Flow {
            base_text: base.to_string(),
            scope_text,
            credentials_id: options.credentials.cache_id(),
            base,
            repository: if options.registry_only { String::new() } else { reference.path },
            credentials: options.credentials,
            mode: options.mode,
            offline: options.offline,
            domain: reference.domain,
            state: State::Start,
        })
    }

    /// The image's registry as credentials are keyed: the reference's domain decides, never
    /// `registry_url` (which only says where requests go), so a secret bound to `ghcr.io` is
    /// never handed to a call whose image names another registry.
    pub fn registry(&self) -> String {
        crate::credentials::registry_key(&self.domain)
    }

    /// Binds the credentials found for [`Flow::registry`] to this call, before it starts.
    pub fn set_credentials(&mut self, credentials: Credentials) -> Result<(), Error> {
        credentials.validate()?;
        self.credentials_id = credentials.cache_id();
        self.credentials = credentials;
        Ok(())
    }

    /// Calls with equal keys would send identical requests and get identical results, so the
    /// shell lets them share one in-flight flow. The credentials appear only as a hash.
    pub fn flight_key(&self) -> String {
        let mut k = self.base_text.clone();
        let mode = match (self.mode, self.offline) {
            (Mode::Token, false) => "t",
            (Mode::Token, true) => "to",
            (Mode::Authorization, false) => "a",
            (Mode::Authorization, true) => "ao",
        };
        for part in [self.scope_text.as_str(), self.credentials_id.as_str(), mode] {
            k.push('\n');
            k.push_str(part);
        }
        k
    }

    /// Whether this call holds anything secret (a password or a refresh token).
    pub fn has_secrets(&self) -> bool {
        !self.credentials.is_anonymous()
    }

    /// Secrets to scrub from any text that reaches a message.
    pub fn redact(&self, text: &str) -> String {
        self.credentials.redact(text)
    }

    pub fn start(&mut self, client: &mut Client, now: u64) -> Step {
        let step = self.start_inner(client, now);
        if client.store_aliases && matches!(step, Step::Send(_)) {
            if let Some(alias) = self.store_key().and_then(|k| self.cached_alias(client, k, now)) {
                self.state = State::Finished;
                return alias;
            }
        }
        self.scrub(step)
    }

    /// The key this call's token has in a shared store (see [`crate::store`]): what a fresh
    /// isolate knows before any request. None for `offline` calls, which want a refresh token
    /// that a store never holds.
    pub fn store_key(&self) -> Option<String> {
        self.uses_store().then(|| crate::store::key(&self.base_text, &self.scope_text, &self.credentials_id))
    }

    /// Whether a shared store may hold this call's token (not for `offline` calls).
    pub fn uses_store(&self) -> bool {
        !self.offline
    }

    /// A token read from a store (already checked by [`crate::store::decode`]): cached in
    /// memory under its store key and given as this call's answer. Its realm is only reported,
    /// never used: a store's content decides no request.
    pub fn from_store(&mut self, client: &mut Client, store_key: String, stored: crate::store::Stored, now: u64) -> Step {
        let fresh_until = stored.expires_at.saturating_sub(REFRESH_MARGIN_MS);
        let cached = CachedToken {
            token: stored.token,
            expires_at: stored.expires_at,
            refresh_token: None,
            scope: Some(stored.scope),
            reported: Some((stored.realm, stored.service)),
        };
        client.tokens.insert(store_key.clone(), Cached::Token(cached), fresh_until, now);
        client.store_aliases = true;
        self.cached_alias(client, store_key, now).unwrap_or_else(|| Step::Failed(Error::new(Code::Network, "internal: stored token lost")))
    }

    fn cached_alias(&mut self, client: &mut Client, store_key: String, now: u64) -> Option<Step> {
        let Some(Cached::Token(t)) = client.tokens.get(&store_key, now) else { return None };
        let t = t.clone();
        self.state = State::Finished;
        let (realm, service) = t.reported.map_or((None, None), |(r, s)| (Some(r), s));
        let mut g = self.grant(Some(format!("Bearer {}", t.token)), Some(t.token), Some(t.expires_at), None, realm, service);
        if let Some(scope) = t.scope {
            g.scope = scope;
        }
        g.cache_key = Some(store_key);
        Some(Step::Done(g))
    }

    pub fn on_response(&mut self, client: &mut Client, response: Response, now: u64) -> Step {
        let step = self.on_response_inner(client, response, now);
        self.scrub(step)
    }

    /// The one exit for errors: every message and `Retry-After` that leaves the flow, by any
    /// path (a response, a network failure), is scrubbed of the caller's secrets once more,
    /// whatever server text (a header, a realm host or path) went into it.
    pub fn scrub_error(&self, e: Error) -> Error {
        self.credentials.scrub(e)
    }

    fn scrub(&self, step: Step) -> Step {
        match step {
            Step::Failed(e) => Step::Failed(self.scrub_error(e)),
            other => other,
        }
    }

    /// Server text for a message: secrets removed first, then clipped.
    fn quote(&self, text: &str) -> String {
        server_error::clip(&self.redact(text))
    }

    fn start_inner(&mut self, client: &mut Client, now: u64) -> Step {
        match client.challenges.get(&self.base_text, now) {
            Some(Cached::Challenge(auth)) => {
                let auth = auth.clone();
                self.with_auth(client, auth, now)
            }
            _ => {
                self.state = State::AwaitChallenge;
                // No headers at all: in a browser this stays a CORS "simple" request, with no
                // preflight that registries (distribution answers OPTIONS with 401) get wrong.
                Step::Send(Request {
                    purpose: Purpose::Challenge,
                    method: Method::Get,
                    url: [self.base_text.as_str(), "/v2/"].concat(),
                    headers: Vec::new(),
                    body: None,
                    redirect: Redirect::Follow,
                })
            }
        }
    }

    fn on_response_inner(&mut self, client: &mut Client, response: Response, now: u64) -> Step {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::AwaitChallenge => self.on_challenge(client, response, now),
            State::AwaitToken { realm, service, key, attempt, sent, hops } => match self.redirected(&response, *sent, hops) {
                Some(Ok(next)) => {
                    self.state =
                        State::AwaitToken { realm, service, key, attempt, sent: Box::new(next.clone()), hops: hops.saturating_add(1) };
                    Step::Send(next)
                }
                Some(Err(e)) => Step::Failed(e),
                None => self.on_token(client, response, now, realm, service, key, attempt),
            },
            State::Start | State::Finished => Step::Failed(Error::new(Code::Network, "internal: response without a request")),
        }
    }

    /// A credentialed GET is sent with [`Redirect::Manual`]; its redirects come back here and are
    /// followed by hand so `Authorization` never leaves the origin it was meant for.
    fn redirected(&self, r: &Response, sent: Request, hops: u8) -> Option<Result<Request, Error>> {
        if sent.method != Method::Get || sent.redirect != Redirect::Manual {
            return None;
        }
        let opaque = r.status == 0;
        if !opaque && !crate::redirect::is_redirect(r.status) {
            return None;
        }
        let mut next = sent;
        if opaque {
            if hops >= MAX_REDIRECTS {
                return Some(Err(Error::new(Code::Network, "the token server redirected too often")));
            }
            // A browser answers `redirect: "manual"` with an opaque response that hides the
            // Location. Its fetch follows redirects itself and, by the Fetch standard (HTTP-redirect
            // fetch, step 13), removes `Authorization` on a cross-origin hop.
            next.redirect = Redirect::Follow;
            return Some(Ok(next));
        }
        let target = match crate::redirect::next(&next.url, r.status, r.location.as_deref(), hops, "the token server", Code::TokenEndpoint)
        {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        if HttpUrl::parse(&next.url).is_ok_and(|current| current.origin() != target.origin()) {
            next.headers.retain(|(name, _)| *name != "authorization");
        }
        next.url = target.text();
        Some(Ok(next))
    }

    /// The request never got an answer. A token endpoint that vanished may mean the registry
    /// moved its realm, so its challenge is asked again next time.
    pub fn on_network_error(&mut self, client: &mut Client, detail: &str) -> Error {
        let (what, url) = match &self.state {
            State::AwaitToken { realm, .. } => {
                client.challenges.remove(&self.base_text);
                ("token server", shown(&realm.origin()))
            }
            _ => ("registry", format!("{}/v2/", self.base)),
        };
        self.state = State::Finished;
        let mut msg = format!("could not reach the {what} at {url}: {}", self.quote(detail));
        msg.push_str(
            ". In a browser this is also how a missing CORS header shows: the server must send \
             Access-Control-Allow-Origin and answer OPTIONS preflights allowing Authorization; or \
             route the requests through a proxy of yours with the registryUrl option",
        );
        self.scrub_error(Error::new(Code::Network, msg))
    }

    fn on_challenge(&mut self, client: &mut Client, r: Response, now: u64) -> Step {
        let at = format!("{}/v2/", self.base);
        let auth = match r.status {
            200..=299 => Auth::Anonymous,
            401 => match select_challenge(r.www_authenticate.as_deref(), &self.base) {
                Ok(auth) => auth,
                Err(mut e) => {
                    e.message = format!("{at} answered 401: {}", e.message);
                    return Step::Failed(e.with_status(401));
                }
            },
            status => {
                let mut msg = format!("{at} answered {status} instead of 200 or a 401 challenge");
                if status == 404 {
                    msg.push_str(": this does not look like a Docker Registry v2 API (check the domain or registryUrl)");
                }
                return Step::Failed(self.http_error(Code::NoChallenge, msg, &r));
            }
        };
        client.challenges.insert(self.base_text.clone(), Cached::Challenge(auth.clone()), now.saturating_add(CHALLENGE_TTL_MS), now);
        self.with_auth(client, auth, now)
    }

    fn with_auth(&mut self, client: &mut Client, auth: Auth, now: u64) -> Step {
        self.state = State::Finished;
        match auth {
            Auth::Anonymous => Step::Done(self.grant(None, None, None, None, None, None)),
            Auth::Basic { realm } => {
                if self.mode == Mode::Token {
                    return Step::Failed(Error::new(
                        Code::UnsupportedChallenge,
                        format!("{} asks for Basic authentication, which has no bearer token: use RegistryClient.authorize() for an Authorization header", self.base),
                    ));
                }
                if !self.credentials.is_anonymous() && !self.base.is_https() && !self.base.is_loopback() {
                    return Step::Failed(Error::new(
                        Code::InsecureRealm,
                        format!("refusing to send Basic credentials to {} over plain http; nothing was sent", shown(&self.base.origin())),
                    ));
                }
                match self.credentials.basic_header() {
                    Some(header) => Step::Done(self.grant(Some(header), None, None, None, realm, None)),
                    None => Step::Failed(
                        Error::new(Code::Unauthorized, format!("{} asks for Basic authentication: pass username and password", self.base))
                            .with_status(401),
                    ),
                }
            }
            Auth::Bearer { realm, service } => {
                let key = self.token_key(&realm, service.as_deref());
                if let Some(Cached::Token(t)) = client.tokens.get(&key, now) {
                    let t = t.clone();
                    return Step::Done(self.bearer_grant(t, &realm, service, key));
                }
                if !self.credentials.is_anonymous() && !realm.is_https() && !realm.is_loopback() {
                    return Step::Failed(Error::new(
                        Code::InsecureRealm,
                        format!("refusing to send credentials to {} over plain http; nothing was sent", shown(&realm.origin())),
                    ));
                }
                let attempt = if self.credentials.refresh_token.is_some() {
                    Attempt::RefreshPost
                } else if self.offline && self.credentials.password.is_some() && client.get_only.get(&realm.text(), now).is_none() {
                    Attempt::PasswordPost
                } else {
                    Attempt::Get
                };
                self.send_token(realm, service, key, attempt)
            }
        }
    }

    fn send_token(&mut self, realm: HttpUrl, service: Option<String>, key: String, attempt: Attempt) -> Step {
        let scope = self.scope_text.clone();
        let svc = service.as_deref();
        let request = match attempt {
            Attempt::Get | Attempt::GetAfterPost => {
                let mut pairs: Vec<(&str, &str)> = Vec::new();
                if let Some(s) = svc {
                    pairs.push(("service", s));
                }
                // token.md: "should be specified multiple times if there is more than one".
                for one in scope.split(' ') {
                    pairs.push(("scope", one));
                }
                let mut headers = Vec::new();
                let mut redirect = Redirect::Follow;
                if let Some(basic) = self.credentials.basic_header() {
                    headers.push(("authorization", basic));
                    redirect = Redirect::Manual;
                }
                Request {
                    purpose: Purpose::Token,
                    method: Method::Get,
                    url: with_query(&realm, &encode_pairs(&pairs)),
                    headers,
                    body: None,
                    redirect,
                }
            }
            Attempt::PasswordPost | Attempt::RefreshPost => {
                let c = &self.credentials;
                let mut pairs: Vec<(&str, &str)> = Vec::new();
                match (attempt, c.password_pair(), c.refresh_token.as_deref()) {
                    (Attempt::RefreshPost, _, Some(rt)) => {
                        pairs.push(("grant_type", "refresh_token"));
                        pairs.push(("refresh_token", rt));
                    }
                    (_, Some((user, pass)), _) => {
                        pairs.extend([("grant_type", "password"), ("username", user), ("password", pass)]);
                    }
                    _ => return Step::Failed(Error::new(Code::Unauthorized, "internal: no credentials for the OAuth2 grant")),
                }
                if self.offline {
                    // oauth.md: "If "offline" is provided then a refresh token will be returned."
                    pairs.push(("access_type", "offline"));
                }
                if let Some(s) = svc {
                    pairs.push(("service", s));
                }
                pairs.push(("client_id", CLIENT_ID));
                pairs.push(("scope", &scope));
                Request {
                    purpose: Purpose::Token,
                    method: Method::Post,
                    url: realm.text(),
                    headers: vec![("content-type", "application/x-www-form-urlencoded".to_string())],
                    body: Some(encode_pairs(&pairs)),
                    redirect: Redirect::Manual,
                }
            }
        };
        self.state = State::AwaitToken { realm, service, key, attempt, sent: Box::new(request.clone()), hops: 0 };
        Step::Send(request)
    }

    #[allow(clippy::too_many_arguments)]
    fn on_token(
        &mut self,
        client: &mut Client,
        r: Response,
        now: u64,
        realm: HttpUrl,
        service: Option<String>,
        key: String,
        attempt: Attempt,
    ) -> Step {
        let posted = matches!(attempt, Attempt::PasswordPost | Attempt::RefreshPost);
        if realm.is_https()
            && r.url.as_deref().is_some_and(|u| u.len() >= 7 && u.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("http://")))
        {
            return Step::Failed(Error::new(
                Code::InsecureRealm,
                format!("the token server at {} redirected from https to plain http; refusing its answer", shown(&realm.origin())),
            ));
        }
        let refused_post = matches!(r.status, 0 | 300..=399 | 400 | 401 | 403 | 404 | 405);
        if posted && refused_post && self.credentials.password.is_some() {
            // Not every token server speaks OAuth2 (spec oauth.md: on 404 "refer to … GET").
            // Seen in the wild: GHCR 405, GCR 404 (2017), Artifactory 401 (2018), Harbor 403
            // (v1.9), ACR 400 (2022), GitLab HTML 404.
            return self.send_token(realm, service, key, Attempt::GetAfterPost);
        }
        if !(200..=299).contains(&r.status) {
            if r.status == 404 {
                client.challenges.remove(&self.base_text);
            }
            let code = if matches!(r.status, 401 | 403) { Code::Unauthorized } else { Code::TokenEndpoint };
            let mut msg =
                format!("the token server {} answered {}", shown(&[realm.origin().as_str(), path_only(&realm.rest)].concat()), r.status);
            if let Some(detail) = r.www_authenticate.as_deref().and_then(challenge_error) {
                msg.push_str(" [");
                msg.push_str(&self.quote(&detail));
                msg.push(']');
            }
            if code == Code::Unauthorized && self.credentials.is_anonymous() {
                msg.push_str("; anonymous access was refused, pass username and password");
            }
            return Step::Failed(self.http_error(code, msg, &r));
        }
        if r.body_truncated {
            return Step::Failed(
                Error::new(
                    Code::BadTokenResponse,
                    format!("the token response from {} is larger than {} bytes", shown(&realm.origin()), token::MAX_BODY),
                )
                .with_status(r.status),
            );
        }
        let decoded = match token::decode(&r.body) {
            Ok(t) => t,
            Err(mut e) => {
                e.message = format!("{} (from {})", e.message, shown(&realm.origin()));
                if !crate::json::is_valid(&r.body) {
                    if let Some(text) = server_error::snippet(&r.body) {
                        e.message.push_str(": ");
                        e.message.push_str(&self.quote(&text));
                    }
                }
                return Step::Failed(e.with_status(r.status));
            }
        };
        let life_ms = decoded.expires_in.saturating_mul(1000);
        let expires_at = now.saturating_add(life_ms);
        let fresh_until = expires_at.saturating_sub(REFRESH_MARGIN_MS.min(life_ms / 4));
        let cached = CachedToken {
            token: decoded.token,
            expires_at,
            refresh_token: decoded.refresh_token,
            scope: decoded.scope.as_deref().map(split_list),
            reported: None,
        };
        client.tokens.insert(key.clone(), Cached::Token(cached.clone()), fresh_until, now);
        if attempt == Attempt::GetAfterPost {
            client.get_only.insert(realm.text(), Cached::GetOnly, now.saturating_add(CHALLENGE_TTL_MS), now);
        }
        let mut grant = self.bearer_grant(cached, &realm, service, key);
        grant.fresh = true;
        Step::Done(grant)
    }

    fn http_error(&self, code: Code, mut msg: String, r: &Response) -> Error {
        if let Some(detail) = server_error::describe(&r.body) {
            msg.push_str(": ");
            msg.push_str(&self.quote(&detail));
        }
        if let Some(ra) = &r.retry_after {
            msg.push_str(" (Retry-After: ");
            msg.push_str(&self.quote(ra));
            msg.push(')');
        }
        let mut e = Error::new(code, msg);
        if r.status != 0 {
            e = e.with_status(r.status);
        }
        e.retry_after = r.retry_after.as_deref().map(|ra| self.quote(ra));
        e
    }

    fn token_key(&self, realm: &HttpUrl, service: Option<&str>) -> String {
        token_key(&realm.text(), service, &self.base_text, &self.scope_text, &self.credentials_id)
    }

    /// What a token's cache key is made of besides the realm and service, for a caller that must
    /// later drop the token a registry refused.
    pub fn key_parts(&self) -> KeyParts {
        KeyParts { base: self.base_text.clone(), scope: self.scope_text.clone(), credentials: self.credentials_id.clone() }
    }

    /// The caller's secrets, for scrubbing text that did not pass through the flow.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn base(&self) -> &HttpUrl {
        &self.base
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn bearer_grant(&self, t: CachedToken, realm: &HttpUrl, service: Option<String>, key: String) -> Grant {
        let mut g = self.grant(
            Some(format!("Bearer {}", t.token)),
            Some(t.token),
            Some(t.expires_at),
            t.refresh_token,
            Some(realm.text()),
            service,
        );
        if let Some(scope) = t.scope {
            g.scope = scope;
        }
        g.cache_key = Some(key);
        g
    }

    fn grant(
        &self,
        authorization: Option<String>,
        token: Option<String>,
        expires_at: Option<u64>,
        refresh_token: Option<String>,
        realm: Option<String>,
        service: Option<String>,
    ) -> Grant {
        Grant {
            cache_key: None,
            authorization,
            token,
            expires_at,
            scope: crate::scope::split_list(&self.scope_text),
            realm,
            service,
            registry: self.base_text.clone(),
            repository: self.repository.clone(),
            refresh_token,
            fresh: false,
        }
    }
}

/// A registry name (`localhost:5000`, `ghcr.io`, `docker.io`) as a reference to its catalog: the
/// reference grammar decides what a domain is, so `catalog("foo")` is refused, not sent to
/// Docker Hub as if `foo` were a repository.
fn registry_reference(name: &str) -> Result<Reference, Error> {
    let bad = || {
        Error::new(
            Code::InvalidReference,
            format!("\"{}\" is not a registry name such as \"ghcr.io\", \"docker.io\" or \"localhost:5000\"", crate::text::clip(name, 100)),
        )
    };
    if name.contains(['/', '@']) || name.trim() != name || name.is_empty() {
        return Err(bad());
    }
    let reference = Reference::parse(&[name, "/x"].concat()).map_err(|_| bad())?;
    if crate::credentials::registry_key(&reference.domain) != crate::credentials::registry_key(name) {
        return Err(bad());
    }
    Ok(reference)
}

/// A realm's origin or path as the server sent it, clipped: a hostile realm of a megabyte must
/// not make a megabyte of message.
fn shown(text: &str) -> String {
    server_error::clip(text)
}

fn path_only(rest: &str) -> &str {
    rest.split('?').next().unwrap_or("")
}

/// RFC 6750 §3: `error` and `error_description` in a Bearer challenge explain a refusal.
fn challenge_error(header: &str) -> Option<String> {
    let challenges = parse_challenges(header).ok()?;
    let c = challenges.iter().find(|c| c.param("error").is_some() || c.param("error_description").is_some())?;
    let mut text = String::new();
    for part in [c.param("error"), c.param("error_description")] {
        if let Some(p) = part.filter(|p| !p.is_empty()) {
            crate::text::push_item(&mut text, ": ", p);
        }
    }
    (!text.is_empty()).then_some(text)
}

/// Picks what to do from a 401's challenges: Bearer if offered (the only scheme that yields a
/// token), else Basic. The `scope` of a `/v2/` challenge describes the ping, not the image
/// (GHCR names another repository there, Gitea sends `*`), so it is deliberately ignored.
fn select_challenge(header: Option<&str>, base: &HttpUrl) -> Result<Auth, Error> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::new(
            Code::NoChallenge,
            "no WWW-Authenticate header came with it. In a browser the header is hidden unless the \
             registry sends Access-Control-Expose-Headers: WWW-Authenticate; otherwise route the \
             requests through a proxy of yours with the registryUrl option",
        )
    })?;
    let challenges = parse_challenges(header)?;
    let find = |scheme: &str| challenges.iter().find(|c: &&Challenge| c.scheme == scheme);
    if let Some(bearer) = find("bearer") {
        let realm = bearer.param("realm").ok_or_else(|| Error::new(Code::InvalidChallenge, "its Bearer challenge has no realm"))?;
        let realm = resolve_realm(realm, base)?;
        let service = bearer.param("service").filter(|s| !s.is_empty()).map(str::to_string);
        return Ok(Auth::Bearer { realm, service });
    }
    if let Some(basic) = find("basic") {
        return Ok(Auth::Basic { realm: basic.param("realm").map(str::to_string) });
    }
    // A hostile header may name thousands of schemes: name a few, count the rest.
    let mut schemes: Vec<&str> = Vec::new();
    for c in &challenges {
        if !schemes.contains(&c.scheme.as_str()) {
            schemes.push(&c.scheme);
        }
    }
    let mut list = String::new();
    for s in schemes.iter().take(5) {
        crate::text::push_item(&mut list, ", ", s);
    }
    if schemes.len() > 5 {
        list.push_str(&format!(" and {} more", schemes.len() - 5));
    }
    Err(Error::new(Code::UnsupportedChallenge, format!("it offers only {list} authentication, not Bearer or Basic")))
}
