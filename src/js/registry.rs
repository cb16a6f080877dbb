//! The registry calls a token is for: `fetch` with re-challenge and redirects, tag and catalog
//! paging, manifests, image configs and deletes. Every decision (which URL, which actions, what a
//! 401 or a redirect means, where paging goes next, whether bytes match their digest, which
//! platform) is the core's (`resource`, `link`, `manifest`, `digest`); this module moves bytes
//! and keeps response bodies that go back to JavaScript out of wasm.

use super::bindings::{global_fetch, subtle_digest, AbortController, FetchResponse, HeadersLike, HeadersObject, SignalLike, TextDecoder};
use super::cancel::{aborted_error, Cancel};
use super::convert::{error_to_js, name, set, OptionReader};
use super::http::{discard_body, read_capped, status_of};
use super::{join_or_start, now_ms, resolve_pending, Extra, Inner, RegistryClient, DEFAULT_CLIENT};
use crate::credentials::Credentials;
use crate::error::{Code, Error};
use crate::flow::{KeyParts, Mode};
use crate::manifest::{self, Described, Platform, Wanted};
use crate::reference::Reference;
use crate::resource::{self, Next};
use crate::url::HttpUrl;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Tag and catalog pages are capped at this many bytes (a page of 100,000 tags is ~2 MB).
const MAX_PAGE: usize = 16 * 1024 * 1024;
/// Error bodies, like token bodies, are read only this far.
const MAX_ERROR_BODY: usize = crate::token::MAX_BODY;
const DEFAULT_PAGE_SIZE: u32 = 1000;

thread_local! {
    /// Set once a `redirect: "manual"` request came back opaque: this runtime (a browser) hides
    /// redirects from code, so later requests let fetch follow them (the Fetch standard drops
    /// `Authorization` on a cross-origin hop) instead of paying a round trip to learn it again.
    static HIDES_REDIRECTS: Cell<bool> = const { Cell::new(false) };
}

/// What the calls of one session share: the target, the caller's options and what was learnt
/// from preparing the first authorization.
struct Session {
    inner: Rc<Inner>,
    target: JsValue,
    options: JsValue,
    extra: Extra,
    fetch: Option<Function>,
    clock: Option<Function>,
    signal: Option<JsValue>,
    timeout_ms: Option<f64>,
    base: HttpUrl,
    repository: String,
    credentials: Credentials,
    key_parts: KeyParts,
    /// The current `Authorization` value and the cache key of its token.
    authorization: Option<String>,
    token_key: Option<String>,
    /// The caller's `tokenStore` (None for `offline` calls), so a token the registry refuses is
    /// deleted there too, under the key [`KeyParts::store_key`] gives.
    store: Option<super::store::Store>,
}

/// The call's store, when it has one and its token may be stored.
fn store_of(c: &super::Call) -> Option<super::store::Store> {
    c.store.clone().filter(|_| c.flow.uses_store())
}

impl Session {
    /// Prepares the call and takes its first authorization. `path`, when given, is checked first:
    /// a path that leaves the registry's origin is refused before any request at all.
    async fn open(inner: &Rc<Inner>, target: JsValue, options: JsValue, extra: Extra, path: Option<&str>) -> Result<Session, JsValue> {
        let (mut c, pending) = inner.prepare(&target, &options, Mode::Authorization, &extra)?;
        if let Some(signal) = &c.signal {
            if signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
                return Err(aborted_error(signal));
            }
        }
        if let Some(path) = path {
            resource::url_for(c.flow.base(), c.flow.repository(), path).map_err(|e| error_to_js(&e, None))?;
        }
        if let Some(p) = pending {
            resolve_pending(&mut c, p).await?;
        }
        let mut session = Session {
            inner: inner.clone(),
            target,
            options,
            extra,
            fetch: c.fetch.clone(),
            clock: c.clock.clone(),
            signal: c.signal.clone(),
            timeout_ms: c.timeout_ms,
            base: c.flow.base().clone(),
            repository: c.flow.repository().to_string(),
            credentials: c.flow.credentials().clone(),
            key_parts: c.flow.key_parts(),
            authorization: None,
            token_key: None,
            store: None,
        };
        session.store = store_of(&c);
        let grant = JsFuture::from(join_or_start(inner, c, Mode::Authorization)).await?;
        session.take_grant(&grant);
        Ok(session)
    }

    fn take_grant(&mut self, grant: &JsValue) {
        let text = |key: &str| Reflect::get(grant, &name(key)).ok().and_then(|v| v.as_string());
        self.authorization = text("authorization");
        self.token_key = text("realm").map(|realm| self.key_parts.token_key(&realm, text("service").as_deref()));
    }

    /// A new token for `scopes` (after dropping the refused one when `forget`), through the same
    /// caches and flights as every other call.
    async fn reauthorize(&mut self, scopes: Vec<String>, forget: bool, challenge: Option<&str>) -> Result<(), JsValue> {
        let now = now_ms(self.clock.as_ref());
        // Only a refusal needs the store key (a SHA-256), so it is derived here, not per call.
        let store_key = self.store.as_ref().filter(|_| forget).map(|_| self.key_parts.store_key());
        {
            let mut core = self.inner.core.borrow_mut();
            if forget {
                if let Some(key) = &self.token_key {
                    core.forget(key);
                }
                if let Some(key) = &store_key {
                    // A token read from a store is cached under its store key.
                    core.forget(key);
                }
            }
            if let Some(header) = challenge {
                core.learn_challenge(&self.base.text(), header, now);
            }
        }
        self.inner.sync_generation();
        // Outside the borrow: the store is JavaScript, which may call back into this client.
        if let (Some(store), Some(key)) = (&self.store, &store_key) {
            super::store::remove(store, &self.inner.store_counts, key);
        }
        let mut extra = self.extra.clone();
        extra.scopes = scopes;
        // The credentials this session already resolved: a `credentials` function is asked once
        // per call, not again for every page or retry.
        extra.credentials = Some(self.credentials.clone());
        extra.refused = forget;
        let (mut c, pending) = self.inner.prepare(&self.target, &self.options, Mode::Authorization, &extra)?;
        if let Some(p) = pending {
            resolve_pending(&mut c, p).await?;
        }
        self.key_parts = c.flow.key_parts();
        self.store = store_of(&c);
        let grant = JsFuture::from(join_or_start(&self.inner, c, Mode::Authorization)).await?;
        self.take_grant(&grant);
        Ok(())
    }

    /// Platforms as messages may name them: secrets out of the index's strings before the core
    /// clips each name (a clip first could cut a secret past recognition).
    fn redacted(&self, platforms: &[Platform]) -> Vec<Platform> {
        let r = |s: &str| self.credentials.redact(s);
        platforms
            .iter()
            .map(|p| Platform { os: r(&p.os), architecture: r(&p.architecture), variant: p.variant.as_deref().map(r), ..p.clone() })
            .collect()
    }

    fn fail(&self, e: Error) -> JsValue {
        let e = self.credentials.scrub(e);
        error_to_js(&e, None)
    }

    /// Waits for `p` under the caller's timeout and signal; when they fire, `controller` aborts
    /// the request itself.
    async fn guarded(&self, p: Promise, controller: Option<&AbortController>) -> Result<JsValue, JsValue> {
        let cancel = Cancel::new(self.signal.as_ref(), self.timeout_ms);
        let result = JsFuture::from(Promise::race(&Array::of2(&p, &cancel.promise))).await;
        if cancel.fired.get() {
            if let Some(c) = controller {
                c.abort();
            }
        }
        result
    }

    /// One authorized request with the core's re-challenge and redirect rules; the final
    /// response is the caller's, whatever its status.
    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &JsValue,
        body: &JsValue,
        accept: Option<&str>,
    ) -> Result<(FetchResponse, String), JsValue> {
        let url = resource::url_for(&self.base, &self.repository, path).map_err(|e| self.fail(e))?;
        let mut call = resource::Call::new(method, url, &self.base, self.key_parts.scopes());
        let mut body = body.clone();
        loop {
            let follow = HIDES_REDIRECTS.with(Cell::get);
            let res = self.send(&call, headers, &body, accept, follow).await?;
            let challenge = header(&res, "www-authenticate");
            let next =
                call.on_response(status_of(&res), challenge.as_deref(), header(&res, "location").as_deref()).map_err(|e| self.fail(e))?;
            match next {
                Next::Deliver => return Ok((res, call.url())),
                Next::Follow { as_get, .. } => {
                    discard_body(&res);
                    if as_get {
                        body = JsValue::UNDEFINED;
                    }
                }
                Next::Resend => {
                    discard_body(&res);
                    HIDES_REDIRECTS.with(|h| h.set(true));
                }
                Next::Reauthorize { scopes, forget } => {
                    discard_body(&res);
                    self.reauthorize(scopes, forget, challenge.as_deref()).await?;
                }
            }
        }
    }

    async fn send(
        &self,
        call: &resource::Call,
        headers: &JsValue,
        body: &JsValue,
        accept: Option<&str>,
        follow: bool,
    ) -> Result<FetchResponse, JsValue> {
        let merged = HeadersObject::new(headers)?;
        if let Some(a) = accept {
            if !merged.has("accept")? {
                merged.set("accept", a)?;
            }
        }
        match (&self.authorization, call.may_authorize()) {
            (Some(a), true) => merged.set("authorization", a)?,
            // Never to another origin, not even a header the caller set.
            (_, false) => merged.remove("authorization")?,
            (None, true) => {}
        }
        let controller = AbortController::new().ok();
        let init: JsValue = Object::new().into();
        set(&init, "method", &JsValue::from_str(&call.method));
        set(&init, "headers", &merged);
        if !body.is_undefined() && !body.is_null() && call.method != "GET" && call.method != "HEAD" {
            set(&init, "body", body);
        }
        set(&init, "redirect", &name(if follow { "follow" } else { "manual" }));
        set(&init, "credentials", &name("omit"));
        if let Some(c) = &controller {
            set(&init, "signal", &c.signal());
        }
        let url = call.url();
        let pending = match &self.fetch {
            Some(f) => f.call2(&JsValue::UNDEFINED, &JsValue::from_str(&url), &init),
            None => global_fetch(&url, &init),
        };
        let pending = match pending {
            Ok(p) => p,
            Err(e) => return Err(self.network_error(&url, &e)),
        };
        match self.guarded(Promise::resolve(&pending), controller.as_ref()).await {
            Ok(v) if v.is_object() => Ok(v.unchecked_into()),
            Ok(_) => Err(self.network_error(&url, &js_sys::TypeError::new("fetch resolved to something that is not a Response").into())),
            Err(e) if is_registry_error(&e) => Err(e),
            Err(e) => Err(self.network_error(&url, &e)),
        }
    }

    /// "GET <url>" for a message: secrets out first, then clipped (a clip first could cut a
    /// secret in a URL past recognition).
    fn what(&self, method: &str, url: &str) -> String {
        [method, " ", &crate::error::clip(&self.credentials.redact(url), 200)].concat()
    }

    fn network_error(&self, url: &str, cause: &JsValue) -> JsValue {
        let detail = self.credentials.redact(&super::convert::describe_js_error(cause));
        let at = self.credentials.redact(&HttpUrl::parse(url).map(|u| u.origin()).unwrap_or_default());
        let e = Error::new(
            Code::Network,
            format!("could not reach the registry at {}: {}", crate::error::clip(&at, 200), crate::server_error::clip(&detail)),
        );
        let cause = if self.credentials.is_anonymous() {
            cause.clone()
        } else {
            super::convert::scrubbed_copy(cause, &|t| self.credentials.redact(t), 0)
        };
        error_to_js(&self.credentials.scrub(e), Some(&cause))
    }

    /// The error for a non-2xx answer: the body is read (capped) only to quote it.
    async fn status_error(&self, res: &FetchResponse, what: &str) -> JsValue {
        error_to_js(&self.registry_error(res, what).await, None)
    }

    async fn registry_error(&self, res: &FetchResponse, what: &str) -> Error {
        let status = status_of(res);
        let retry_after = header(res, "retry-after");
        let body = match read_capped(res, MAX_ERROR_BODY).await {
            Ok((bytes, _)) => bytes.to_vec(),
            Err(_) => Vec::new(),
        };
        let creds = &self.credentials;
        resource::status_error(status, &body, retry_after.as_deref(), what, &|t| creds.redact(t))
    }

    /// The body of a successful answer, at most `cap` bytes, under the caller's timeout.
    async fn body(&self, res: &FetchResponse, cap: usize, what: &str) -> Result<Uint8Array, JsValue> {
        let read = {
            let res: FetchResponse = AsRef::<JsValue>::as_ref(res).clone().unchecked_into();
            future_to_promise(async move {
                let (bytes, truncated) = read_capped(&res, cap).await?;
                Ok(if truncated { JsValue::NULL } else { bytes.into() })
            })
        };
        let v =
            self.guarded(read, None)
                .await
                .map_err(|e| if is_registry_error(&e) { e } else { self.network_error(&self.base.text(), &e) })?;
        if v.is_null() {
            return Err(self.fail(Error::new(Code::BadRegistryResponse, format!("{what} is larger than {cap} bytes"))));
        }
        Ok(v.unchecked_into())
    }
}

fn is_registry_error(e: &JsValue) -> bool {
    Reflect::get(e, &name("name")).ok().and_then(|n| n.as_string()).as_deref() == Some("RegistryAuthError")
}

fn header(res: &FetchResponse, n: &str) -> Option<String> {
    res.headers().unchecked_into::<HeadersLike>().get(n).ok().and_then(|v| v.as_string())
}

fn decode_json(bytes: &Uint8Array, what: &str, credentials: &Credentials) -> Result<JsValue, JsValue> {
    let text = TextDecoder::new()?.decode(bytes)?;
    js_sys::JSON::parse(&text)
        .map_err(|_| error_to_js(&credentials.scrub(Error::new(Code::BadRegistryResponse, format!("{what} is not JSON"))), None))
}

/// The sha384/sha512 digest of `bytes` by WebCrypto, when `expected` uses one of those.
async fn other_digest(expected: Option<&str>, bytes: &Uint8Array) -> Option<String> {
    let (algorithm, name) = match expected?.split(':').next()? {
        "sha512" => ("SHA-512", "sha512"),
        "sha384" => ("SHA-384", "sha384"),
        _ => return None,
    };
    let sum = JsFuture::from(subtle_digest(algorithm, bytes).ok()?).await.ok()?;
    Some(crate::digest::named(name, &Uint8Array::new(&sum).to_vec()))
}

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &name(key)).unwrap_or(JsValue::UNDEFINED)
}

// ---- fetch -------------------------------------------------------------------------------------

async fn registry_fetch(inner: Rc<Inner>, image_ref: JsValue, path: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    OptionReader::check_object(&init, "init")?;
    let o = OptionReader { call: &init, defaults: &JsValue::UNDEFINED };
    let method = o.string("method")?.unwrap_or_else(|| "GET".to_string()).to_ascii_uppercase();
    let path = path.as_string().ok_or_else(|| super::convert::invalid("the path must be a string".to_string()))?;
    let extra = Extra { actions: Some(resource::actions_for(&method).iter().map(|a| a.to_string()).collect()), ..Extra::default() };
    let mut session = Session::open(&inner, image_ref, init.clone(), extra, Some(&path)).await?;
    let (res, _) = session.exchange(&method, &path, &get(&init, "headers"), &get(&init, "body"), None).await?;
    Ok(res.into())
}

// ---- paging ------------------------------------------------------------------------------------

/// Tags of a repository or repositories of a catalog, page by page.
struct Pager {
    session: Option<Session>,
    inner: Rc<Inner>,
    target: JsValue,
    options: JsValue,
    catalog: bool,
    /// The next page's URL (None before the first page).
    next: Option<String>,
    page_size: Option<u32>,
    first: bool,
    visited: Vec<String>,
    remaining: Option<u64>,
    done: bool,
}

impl Pager {
    fn new(inner: Rc<Inner>, target: JsValue, options: JsValue, catalog: bool) -> Result<Pager, JsValue> {
        OptionReader::check_object(&options, "options")?;
        let count = |key: &str| -> Result<Option<u64>, JsValue> {
            let v = get(&options, key);
            if v.is_undefined() || v.is_null() {
                return Ok(None);
            }
            match v.as_f64() {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(Some(n as u64)),
                _ => Err(super::convert::invalid(format!("option {key} must be a whole number"))),
            }
        };
        let page_size = match count("pageSize")? {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=100_000).contains(&n) => n as u32,
            Some(_) => return Err(super::convert::invalid("option pageSize must be between 1 and 100000".to_string())),
        };
        let remaining = count("limit")?;
        Ok(Pager {
            session: None,
            inner,
            target,
            options,
            catalog,
            next: None,
            page_size: Some(page_size),
            first: true,
            visited: Vec::new(),
            remaining,
            done: remaining == Some(0),
        })
    }

    fn first_path(&self) -> String {
        let mut p = if self.catalog { "/v2/_catalog".to_string() } else { "tags/list".to_string() };
        if let Some(n) = self.page_size {
            p.push_str("?n=");
            p.push_str(&n.to_string());
        }
        p
    }

    /// The next page as an array of strings, or None when there is none.
    async fn page(&mut self) -> Result<Option<Array>, JsValue> {
        if self.done {
            return Ok(None);
        }
        if self.session.is_none() {
            let extra = if self.catalog {
                Extra { actions: Some(Vec::new()), scopes: vec!["registry:catalog:*".to_string()], registry_only: true, ..Extra::default() }
            } else {
                Extra { actions: Some(vec!["pull".to_string()]), ..Extra::default() }
            };
            self.session = Some(Session::open(&self.inner, self.target.clone(), self.options.clone(), extra, None).await?);
        }
        let Some(mut session) = self.session.take() else { return Ok(None) };
        let result = self.page_with(&mut session).await;
        self.session = Some(session);
        if result.is_err() {
            self.done = true;
        }
        result
    }

    async fn page_with(&mut self, session: &mut Session) -> Result<Option<Array>, JsValue> {
        let what = if self.catalog { "the catalog" } else { "the tags list" };
        if !self.first {
            // The token may have expired by the client's clock since the last page: the cached
            // path renews it (or hands the same one back) before the next request, so no page is
            // sent with a token the client already knows is dead.
            session.reauthorize(session.key_parts.scopes(), false, None).await?;
        }
        let (res, url) = loop {
            let path = self.next.clone().unwrap_or_else(|| self.first_path());
            let (res, url) = session.exchange("GET", &path, &JsValue::UNDEFINED, &JsValue::UNDEFINED, Some("application/json")).await?;
            let status = status_of(&res);
            if (200..=299).contains(&status) {
                break (res, url);
            }
            if self.first {
                if let Some(n) = resource::page_size_fallback(status, self.page_size) {
                    discard_body(&res);
                    self.page_size = n;
                    continue;
                }
            }
            let e = session.registry_error(&res, &session.what("GET", &url)).await;
            return Err(error_to_js(&if self.catalog { resource::catalog_error(e) } else { e }, None));
        };
        self.first = false;
        let bytes = session.body(&res, MAX_PAGE, what).await?;
        let json = decode_json(&bytes, what, &session.credentials)?;
        let field = if self.catalog { "repositories" } else { "tags" };
        let list = get(&json, field);
        let object = json.is_object() && !Array::is_array(&json);
        let page = if object && (list.is_null() || list.is_undefined()) {
            Array::new()
        } else if Array::is_array(&list) && Array::from(&list).iter().all(|t| t.is_string()) {
            Array::from(&list)
        } else {
            return Err(session.fail(Error::new(Code::BadRegistryResponse, format!("{what} has no \"{field}\" array of strings"))));
        };
        if let Some(left) = self.remaining {
            let n = u64::from(page.length()).min(left);
            let page = if n < u64::from(page.length()) { page.slice(0, n as u32) } else { page };
            self.remaining = Some(left - n);
            if left - n == 0 {
                self.done = true;
                return Ok(Some(page));
            }
            return self.advance(session, &res, &url, page);
        }
        self.advance(session, &res, &url, page)
    }

    fn advance(&mut self, session: &Session, res: &FetchResponse, url: &str, page: Array) -> Result<Option<Array>, JsValue> {
        let here = HttpUrl::parse(url).map_err(|why| session.fail(Error::new(Code::BadRegistryResponse, why)))?;
        let prefix = session.base.rest.clone();
        self.visited.push(url.to_string());
        match crate::link::next_page(header(res, "link").as_deref(), &here, &prefix, &self.visited) {
            Ok(Some(next)) => self.next = Some(next.text()),
            Ok(None) => self.done = true,
            Err(e) => return Err(session.fail(e)),
        }
        Ok(Some(page))
    }
}

async fn collect(mut pager: Pager) -> Result<JsValue, JsValue> {
    let all = Array::new();
    while let Some(page) = pager.page().await? {
        for t in page.iter() {
            all.push(&t);
        }
    }
    Ok(all.into())
}

/// `tagPages`: an async iterable of pages. Pages are fetched on demand (none ahead), so a
/// consumer that stops iterating stops the requests.
#[wasm_bindgen]
pub struct TagPages {
    pager: Rc<RefCell<Option<Pager>>>,
    busy: Rc<Cell<bool>>,
    /// Set by `return()`, even while a page is loading: nothing is fetched after it.
    stopped: Rc<Cell<bool>>,
}

#[wasm_bindgen]
impl TagPages {
    /// Resolves `{ value: string[], done: false }` per page, then `{ value: undefined, done: true }`.
    pub fn next(&self) -> Promise {
        let (cell, busy, stopped) = (self.pager.clone(), self.busy.clone(), self.stopped.clone());
        future_to_promise(async move {
            let result = iter_result(JsValue::UNDEFINED, true);
            if stopped.get() {
                return Ok(result);
            }
            if busy.replace(true) {
                return Err(super::convert::invalid("tagPages: next() called before the previous page arrived".to_string()));
            }
            let Some(mut pager) = cell.borrow_mut().take() else {
                busy.set(false);
                return Ok(result);
            };
            let page = pager.page().await;
            busy.set(false);
            *cell.borrow_mut() = Some(pager);
            match page? {
                Some(p) => Ok(iter_result(p.into(), false)),
                None => Ok(result),
            }
        })
    }

    /// Ends the iteration (a `for await` that breaks calls it): no further page is fetched.
    #[wasm_bindgen(js_name = "return")]
    pub fn finish(&self) -> Promise {
        self.stopped.set(true);
        Promise::resolve(&iter_result(JsValue::UNDEFINED, true))
    }

    #[wasm_bindgen(js_name = "[Symbol.asyncIterator]")]
    pub fn iterator(&self) -> TagPages {
        TagPages { pager: self.pager.clone(), busy: self.busy.clone(), stopped: self.stopped.clone() }
    }
}

fn iter_result(value: JsValue, done: bool) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "value", &value);
    set(&o, "done", &JsValue::from_bool(done));
    o
}

fn tag_pages(inner: Rc<Inner>, image_ref: JsValue, options: JsValue) -> Result<TagPages, JsValue> {
    let pager = Pager::new(inner, image_ref, options, false)?;
    Ok(TagPages { pager: Rc::new(RefCell::new(Some(pager))), busy: Rc::new(Cell::new(false)), stopped: Rc::new(Cell::new(false)) })
}

// ---- manifests ---------------------------------------------------------------------------------

/// The reference's tag or digest (`latest` when it has neither) and its digest.
fn reference_parts(image_ref: &JsValue) -> Result<(String, Option<String>), JsValue> {
    let s = image_ref.as_string().ok_or_else(|| super::convert::invalid("the image reference must be a string".to_string()))?;
    let r = Reference::parse(&s).map_err(|e| error_to_js(&e, None))?;
    let digest = r.digest.clone();
    Ok((digest.clone().or(r.tag).unwrap_or_else(|| "latest".to_string()), digest))
}

fn accept_of(options: &JsValue) -> Result<String, JsValue> {
    let list = OptionReader { call: options, defaults: &JsValue::UNDEFINED }.strings("accept")?;
    if list.iter().any(|t| t.is_empty() || t.bytes().any(|b| b < b' ' || b == b',' || b == 0x7f)) {
        return Err(super::convert::invalid("option accept must list media types".to_string()));
    }
    Ok(if list.is_empty() { manifest::DEFAULT_ACCEPT.join(", ") } else { list.join(", ") })
}

fn wanted_platform(options: &JsValue) -> Result<Option<Wanted>, JsValue> {
    match (OptionReader { call: options, defaults: &JsValue::UNDEFINED }).string("platform")? {
        Some(p) => Wanted::parse(&p).map(Some).map_err(|e| error_to_js(&e, None)),
        None => Ok(None),
    }
}

/// GET one manifest, checked: (what the core says, the bytes).
async fn fetch_manifest(
    session: &mut Session,
    reference: &str,
    digest: Option<&str>,
    accept: &str,
) -> Result<(Described, Uint8Array), JsValue> {
    let path = ["manifests/", reference].concat();
    let (res, url) = session.exchange("GET", &path, &JsValue::UNDEFINED, &JsValue::UNDEFINED, Some(accept)).await?;
    if !(200..=299).contains(&status_of(&res)) {
        return Err(session.status_error(&res, &session.what("GET", &url)).await);
    }
    let bytes = session.body(&res, manifest::MAX_MANIFEST, "the manifest").await?;
    let announced = header(&res, "docker-content-digest");
    let other = other_digest(manifest::expected_digest(announced.as_deref(), digest), &bytes).await;
    let described =
        manifest::describe_with(&bytes.to_vec(), header(&res, "content-type").as_deref(), announced.as_deref(), digest, other.as_deref())
            .map_err(|e| session.fail(e))?;
    Ok((described, bytes))
}

fn descriptor_js(digest: &str, media_type: &str, size: u64) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "digest", &JsValue::from_str(digest));
    set(&o, "mediaType", &JsValue::from_str(media_type));
    set(&o, "size", &JsValue::from_f64(size as f64));
    o
}

fn platforms_js(list: &[Platform]) -> JsValue {
    let out = Array::new();
    for p in list {
        let o = descriptor_js(&p.digest, &p.media_type, p.size);
        set(&o, "os", &JsValue::from_str(&p.os));
        set(&o, "architecture", &JsValue::from_str(&p.architecture));
        if let Some(v) = &p.variant {
            set(&o, "variant", &JsValue::from_str(v));
        }
        out.push(&o);
    }
    out.into()
}

/// The manifest the caller meant: with `platform`, an index resolves to its matching entry.
async fn resolve_manifest(
    session: &mut Session,
    image_ref: &JsValue,
    options: &JsValue,
) -> Result<(Described, Uint8Array, Option<Described>), JsValue> {
    let (reference, digest) = reference_parts(image_ref)?;
    let accept = accept_of(options)?;
    let wanted = wanted_platform(options)?;
    let (top, bytes) = fetch_manifest(session, &reference, digest.as_deref(), &accept).await?;
    let (Some(wanted), Some(platforms)) = (wanted, top.platforms.as_ref()) else { return Ok((top, bytes, None)) };
    let chosen = manifest::choose(&session.redacted(platforms), &wanted).map_err(|e| session.fail(e))?.digest.clone();
    let (child, child_bytes) = fetch_manifest(session, &chosen, Some(&chosen), &accept).await?;
    Ok((child, child_bytes, Some(top)))
}

fn manifest_js(d: &Described, bytes: &Uint8Array, index: Option<&Described>, credentials: &Credentials) -> Result<JsValue, JsValue> {
    let o = descriptor_js(&d.digest, &d.media_type, d.size);
    set(&o, "manifest", &decode_json(bytes, "the manifest", credentials)?);
    if let Some(i) = index {
        set(&o, "index", &descriptor_js(&i.digest, &i.media_type, i.size));
    }
    if let Some(p) = &d.platforms {
        set(&o, "platforms", &platforms_js(p));
    }
    Ok(o)
}

async fn get_manifest(inner: Rc<Inner>, image_ref: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let mut session = Session::open(&inner, image_ref.clone(), options.clone(), pull(), None).await?;
    let (d, bytes, index) = resolve_manifest(&mut session, &image_ref, &options).await?;
    manifest_js(&d, &bytes, index.as_ref(), &session.credentials)
}

fn pull() -> Extra {
    Extra { actions: Some(vec!["pull".to_string()]), ..Extra::default() }
}

/// HEAD, which Docker Hub does not count as a pull; a registry that leaves out
/// `Docker-Content-Digest` (or sends a generic type) costs a GET, whose bytes are then hashed.
async fn head_descriptor(session: &mut Session, image_ref: &JsValue, options: &JsValue) -> Result<(String, String, u64), JsValue> {
    let (reference, digest) = reference_parts(image_ref)?;
    let accept = accept_of(options)?;
    let path = ["manifests/", reference.as_str()].concat();
    let (res, url) = session.exchange("HEAD", &path, &JsValue::UNDEFINED, &JsValue::UNDEFINED, Some(&accept)).await?;
    discard_body(&res);
    if !(200..=299).contains(&status_of(&res)) {
        return Err(session.status_error(&res, &session.what("HEAD", &url)).await);
    }
    let announced = header(&res, "docker-content-digest").filter(|d| crate::digest::validate(d).is_ok());
    let media_type = header(&res, "content-type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
        .filter(|t| manifest::DEFAULT_ACCEPT.contains(&t.as_str()) || t.starts_with("application/vnd."));
    let size = header(&res, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if let (Some(d), Some(t), Some(size)) = (announced, media_type, size) {
        if let Some(expected) = &digest {
            if *expected != d {
                return Err(session.fail(Error::new(Code::DigestMismatch, format!("the registry announced {d} for {expected}"))));
            }
        }
        return Ok((d, t, size));
    }
    let (d, _) = fetch_manifest(session, &reference, digest.as_deref(), &accept).await?;
    Ok((d.digest, d.media_type, d.size))
}

async fn head_manifest(inner: Rc<Inner>, image_ref: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let mut session = Session::open(&inner, image_ref.clone(), options.clone(), pull(), None).await?;
    let (digest, media_type, size) = head_descriptor(&mut session, &image_ref, &options).await?;
    Ok(descriptor_js(&digest, &media_type, size))
}

async fn get_image_config(inner: Rc<Inner>, image_ref: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let mut session = Session::open(&inner, image_ref.clone(), options.clone(), pull(), None).await?;
    let (d, _, _) = resolve_manifest(&mut session, &image_ref, &options).await?;
    if let Some(platforms) = &d.platforms {
        return Err(session.fail(Error::new(
            Code::InvalidReference,
            format!("this is an index of several images: pass platform, one of {}", manifest::names(&session.redacted(platforms))),
        )));
    }
    let Some((digest, _, _)) = d.config else {
        return Err(session.fail(Error::new(Code::BadRegistryResponse, "the manifest names no config blob")));
    };
    let path = ["blobs/", digest.as_str()].concat();
    let (res, url) = session.exchange("GET", &path, &JsValue::UNDEFINED, &JsValue::UNDEFINED, None).await?;
    if !(200..=299).contains(&status_of(&res)) {
        return Err(session.status_error(&res, &session.what("GET", &url)).await);
    }
    let bytes = session.body(&res, manifest::MAX_MANIFEST, "the image config").await?;
    let other = other_digest(Some(&digest), &bytes).await;
    crate::digest::verify_with(&digest, &bytes.to_vec(), "the image config", other.as_deref()).map_err(|e| session.fail(e))?;
    let o: JsValue = Object::new().into();
    set(&o, "digest", &JsValue::from_str(&digest));
    set(&o, "config", &decode_json(&bytes, "the image config", &session.credentials)?);
    Ok(o)
}

async fn delete_manifest(inner: Rc<Inner>, image_ref: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let (_, digest) = reference_parts(&image_ref)?;
    let digest = match digest {
        Some(d) => d,
        None => {
            let mut session = Session::open(&inner, image_ref.clone(), options.clone(), pull(), None).await?;
            head_descriptor(&mut session, &image_ref, &JsValue::UNDEFINED).await?.0
        }
    };
    let extra = Extra { actions: Some(vec!["delete".to_string()]), ..Extra::default() };
    let mut session = Session::open(&inner, image_ref, options, extra, None).await?;
    let path = ["manifests/", digest.as_str()].concat();
    let (res, url) = session.exchange("DELETE", &path, &JsValue::UNDEFINED, &JsValue::UNDEFINED, None).await?;
    if (200..=299).contains(&status_of(&res)) {
        discard_body(&res);
        return Ok(JsValue::UNDEFINED);
    }
    let e = session.status_error(&res, &session.what("DELETE", &url)).await;
    Err(e)
}

// ---- the JavaScript API ------------------------------------------------------------------------

/// Which call; every method goes through [`api`], so the wasm holds one promise adapter for all
/// of them instead of one per method (each costs about a kilobyte).
#[derive(Clone, Copy)]
enum Op {
    Fetch,
    ListTags,
    Catalog,
    GetManifest,
    HeadManifest,
    GetImageConfig,
    DeleteManifest,
}

async fn api(op: Op, inner: Rc<Inner>, a: JsValue, b: JsValue, c: JsValue) -> Result<JsValue, JsValue> {
    match op {
        Op::Fetch => registry_fetch(inner, a, b, c).await,
        Op::ListTags => collect(Pager::new(inner, a, b, false)?).await,
        Op::Catalog => collect(Pager::new(inner, a, b, true)?).await,
        Op::GetManifest => get_manifest(inner, a, b).await,
        Op::HeadManifest => head_manifest(inner, a, b).await,
        Op::GetImageConfig => get_image_config(inner, a, b).await,
        Op::DeleteManifest => delete_manifest(inner, a, b).await,
    }
}

impl RegistryClient {
    fn run(&self, op: Op, a: JsValue, b: JsValue, c: JsValue) -> Promise {
        future_to_promise(api(op, self.inner.clone(), a, b, c))
    }
}

#[wasm_bindgen]
impl RegistryClient {
    /// One authorized request to the image's repository; resolves with the final `Response`.
    pub fn fetch(&self, image_ref: JsValue, path: JsValue, init: JsValue) -> Promise {
        self.run(Op::Fetch, image_ref, path, init)
    }

    #[wasm_bindgen(js_name = listTags)]
    pub fn list_tags(&self, image_ref: JsValue, options: JsValue) -> Promise {
        self.run(Op::ListTags, image_ref, options, JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = tagPages)]
    pub fn tag_pages(&self, image_ref: JsValue, options: JsValue) -> Result<TagPages, JsValue> {
        tag_pages(self.inner.clone(), image_ref, options)
    }

    pub fn catalog(&self, registry: JsValue, options: JsValue) -> Promise {
        self.run(Op::Catalog, registry, options, JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = getManifest)]
    pub fn get_manifest(&self, image_ref: JsValue, options: JsValue) -> Promise {
        self.run(Op::GetManifest, image_ref, options, JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = headManifest)]
    pub fn head_manifest(&self, image_ref: JsValue, options: JsValue) -> Promise {
        self.run(Op::HeadManifest, image_ref, options, JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = getImageConfig)]
    pub fn get_image_config(&self, image_ref: JsValue, options: JsValue) -> Promise {
        self.run(Op::GetImageConfig, image_ref, options, JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = deleteManifest)]
    pub fn delete_manifest(&self, image_ref: JsValue, options: JsValue) -> Promise {
        self.run(Op::DeleteManifest, image_ref, options, JsValue::UNDEFINED)
    }
}

/// The module-wide client as a `RegistryClient`, so the entries can offer `listTags`,
/// `getManifest`, … as plain functions without one wasm export each.
#[wasm_bindgen(js_name = sharedClient)]
pub fn shared_client() -> RegistryClient {
    RegistryClient { inner: DEFAULT_CLIENT.with(Rc::clone) }
}
