//! The registry calls a token is for (`fetch` with re-challenge and redirects, tag and catalog
//! paging, manifests, image configs, deletes), as a [`Session`] of synchronous decisions that the
//! JavaScript driver in `pkg-template/common.js` (`addRegistryCalls`) awaits between. Every
//! decision — which URL, which actions, what a 401 or a redirect means, where paging goes next,
//! whether bytes match their digest, which platform, what an error says — is made here or in the
//! core (`resource`, `link`, `manifest`, `digest`); the driver moves bytes and keeps response
//! bodies that go back to JavaScript out of wasm. Awaiting in JavaScript instead of in Rust is a
//! size decision: each `async fn` crossing into JavaScript compiled to a state machine with its
//! own drop glue, and the seven calls' machines were a fifth of the module.

use super::bindings::SignalLike;
use super::convert::{aborted_error, error_to_js, invalid, name, set, OptionReader};
use super::{bind_credentials, join_or_start, now_ms, status_code as status, Extra, Inner, RegistryClient, DEFAULT_CLIENT};
use crate::credentials::Credentials;
use crate::error::{Code, Error};
use crate::flow::{KeyParts, Mode};
use crate::manifest::{self, Described, Platform, Wanted};
use crate::reference::Reference;
use crate::resource::{self, Next};
use crate::url::HttpUrl;
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// One registry call's state between the driver's awaits: the target, the caller's options, the
/// authorization in use and the request in progress.
#[wasm_bindgen]
pub struct Session {
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
    call: Option<resource::Call>,
    /// Pages already fetched, so a `Link` back to one of them is refused.
    visited: Vec<String>,
    /// The manifest last described, for the platform choice and the config blob.
    described: Option<Described>,
    /// Until [`Session::open`]: the prepared call, and the promise of its credentials when a
    /// credentials function answered with one.
    start: Option<(super::Call, Option<Promise>)>,
}

/// The call's store, when it has one and its token may be stored.
fn store_of(c: &super::Call) -> Option<super::store::Store> {
    c.store.clone().filter(|_| c.flow.uses_store())
}

impl Session {
    /// A new token for `scopes` (after dropping the refused one when `forget`), through the same
    /// caches and flights as every other call; the promise resolves to the grant for [`Session::grant`].
    fn reauthorize(&mut self, scopes: Vec<String>, forget: bool, challenge: Option<&str>) -> Result<Promise, JsValue> {
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
        // per call, not again for every page or retry (and so nothing is pending here).
        extra.credentials = Some(self.credentials.clone());
        extra.refused = forget;
        let (c, _) = self.inner.prepare(&self.target, &self.options, Mode::Authorization, &extra)?;
        self.key_parts = c.flow.key_parts();
        self.store = store_of(&c);
        Ok(join_or_start(&self.inner, c, Mode::Authorization))
    }

    fn fail(&self, e: Error) -> JsValue {
        error_to_js(&self.credentials.scrub(e), None)
    }

    /// Platforms as messages may name them: secrets out of the index's strings before the core
    /// clips each name (a clip first could cut a secret past recognition).
    fn redacted(&self, platforms: &[Platform]) -> Vec<Platform> {
        let r = |s: &str| self.credentials.redact(s);
        let mut out = Vec::new();
        for p in platforms {
            out.push(Platform { os: r(&p.os), architecture: r(&p.architecture), variant: p.variant.as_deref().map(r), ..p.clone() });
        }
        out
    }
}

#[wasm_bindgen]
impl Session {
    /// The promise of the call's credentials, when a credentials function answered with one:
    /// the driver awaits it under the call's guard before [`Session::open`].
    pub fn pending(&self) -> Option<Promise> {
        self.start.as_ref().and_then(|(_, p)| p.clone())
    }

    /// Binds the credentials (`ok`: the pending promise fulfilled with `value`; ignored when
    /// nothing was pending) and takes the first authorization: the promise of its grant.
    pub fn open(&mut self, ok: bool, value: JsValue) -> Result<Promise, JsValue> {
        let Some((mut c, pending)) = self.start.take() else {
            return Err(error_to_js(&Error::new(Code::Network, "internal: the session is already open"), None));
        };
        if pending.is_some() {
            bind_credentials(&mut c, ok, &value)?;
        }
        self.credentials = c.flow.credentials().clone();
        self.key_parts = c.flow.key_parts();
        self.store = store_of(&c);
        Ok(join_or_start(&self.inner, c, Mode::Authorization))
    }

    /// Takes the grant an authorization resolved to.
    pub fn grant(&mut self, grant: &JsValue) {
        let text = |key: &str| Reflect::get(grant, &name(key)).ok().and_then(|v| v.as_string());
        self.authorization = text("authorization");
        self.token_key = text("realm").map(|realm| self.key_parts.token_key(&realm, text("service").as_deref()));
    }

    /// `[fetch, signal, timeoutMs]` of the call (each possibly undefined) for the driver's requests.
    pub fn io(&self) -> Array {
        let or_undefined = |v: Option<JsValue>| v.unwrap_or(JsValue::UNDEFINED);
        Array::of3(
            &or_undefined(self.fetch.clone().map(Into::into)),
            &or_undefined(self.signal.clone()),
            &or_undefined(self.timeout_ms.map(JsValue::from_f64)),
        )
    }

    /// Starts a request: `path` relative to the repository, absolute under the base URL, or a URL
    /// on the registry's origin (anything else is refused here, before it is sent).
    pub fn begin(&mut self, method: &str, path: &str) -> Result<(), JsValue> {
        let url = resource::url_for(&self.base, &self.repository, path).map_err(|e| self.fail(e))?;
        self.call = Some(resource::Call::new(method, url, &self.base, self.key_parts.scopes()));
        Ok(())
    }

    pub fn url(&self) -> String {
        self.call.as_ref().map(resource::Call::url).unwrap_or_default()
    }

    pub fn method(&self) -> String {
        self.call.as_ref().map(|c| c.method.clone()).unwrap_or_default()
    }

    /// What the request does with `Authorization`: the value to set, `null` to remove one the
    /// caller set (never to another origin), or undefined to leave the headers as they are.
    pub fn authorization(&self) -> JsValue {
        match (&self.authorization, self.call.as_ref().is_some_and(resource::Call::may_authorize)) {
            (Some(a), true) => JsValue::from_str(a),
            (_, false) => JsValue::NULL,
            (None, true) => JsValue::UNDEFINED,
        }
    }

    /// The core's answer to a response: 0 deliver it, 1 follow the redirect, 2 follow it as a GET
    /// (303; the body is dropped), 3 send again letting fetch follow (a browser hid the redirect),
    /// or a promise of the grant to take before sending again (a 401 the core retries once).
    pub fn step(&mut self, status_code: f64, www_authenticate: Option<String>, location: Option<String>) -> Result<JsValue, JsValue> {
        let Some(call) = self.call.as_mut() else { return Ok(JsValue::from_f64(0.0)) };
        let next = call.on_response(status(status_code), www_authenticate.as_deref(), location.as_deref());
        match next.map_err(|e| self.fail(e))? {
            Next::Deliver => Ok(JsValue::from_f64(0.0)),
            Next::Follow { as_get, .. } => Ok(JsValue::from_f64(if as_get { 2.0 } else { 1.0 })),
            Next::Resend => Ok(JsValue::from_f64(3.0)),
            Next::Reauthorize { scopes, forget } => Ok(self.reauthorize(scopes, forget, www_authenticate.as_deref())?.into()),
        }
    }

    /// Before the next page: the token may have expired by the client's clock since the last one;
    /// the cached path renews it (or hands the same one back), so no page is sent with a token the
    /// client already knows is dead.
    pub fn renew(&mut self) -> Result<Promise, JsValue> {
        self.reauthorize(self.key_parts.scopes(), false, None)
    }

    /// The NETWORK error for a request to `url` (the base URL when none) that failed with `cause`;
    /// secrets are scrubbed from the message and from a copy of the cause.
    #[wasm_bindgen(js_name = networkError)]
    pub fn network_error(&self, url: Option<String>, cause: JsValue) -> JsValue {
        let url = url.unwrap_or_else(|| self.base.text());
        let detail = self.credentials.redact(&super::convert::describe_js_error(&cause));
        let at = self.credentials.redact(&HttpUrl::parse(&url).map(|u| u.origin()).unwrap_or_default());
        let e = Error::new(
            Code::Network,
            format!("could not reach the registry at {}: {}", crate::text::clip(&at, 200), crate::server_error::clip(&detail)),
        );
        let cause =
            if self.credentials.is_anonymous() { cause } else { super::convert::scrubbed_copy(&cause, &|t| self.credentials.redact(t), 0) };
        error_to_js(&self.credentials.scrub(e), Some(&cause))
    }

    /// The error for a non-2xx answer to the current request, from its status, its (capped) body
    /// and `Retry-After`; `catalog` words a 404 or 405 as a registry without a catalog.
    #[wasm_bindgen(js_name = statusError)]
    pub fn status_error(&self, status_code: f64, body: &[u8], retry_after: Option<String>, method: &str, catalog: bool) -> JsValue {
        // "GET <url>": secrets out first, then clipped (a clip first could cut a secret in a URL
        // past recognition).
        let what = [method, " ", &crate::text::clip(&self.credentials.redact(&self.url()), 200)].concat();
        let creds = &self.credentials;
        let e = resource::status_error(status(status_code), body, retry_after.as_deref(), &what, &|t| creds.redact(t));
        error_to_js(&if catalog { resource::catalog_error(e) } else { e }, None)
    }

    /// The first page refused with `status` while `n` was sent: the `n` to ask with instead
    /// (`null` for none), or undefined when the refusal stands.
    pub fn fallback(&self, status_code: f64, sent: Option<u32>) -> JsValue {
        match resource::page_size_fallback(status(status_code), sent) {
            None => JsValue::UNDEFINED,
            Some(None) => JsValue::NULL,
            Some(Some(n)) => JsValue::from_f64(f64::from(n)),
        }
    }

    /// The page after the current one, from its `Link` header; undefined after the last.
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(&mut self, link: Option<String>) -> Result<Option<String>, JsValue> {
        let url = self.url();
        let here = HttpUrl::parse(&url).map_err(|why| self.fail(Error::new(Code::BadRegistryResponse, why)))?;
        self.visited.push(url);
        match crate::link::next_page(link.as_deref(), &here, &self.base.rest, &self.visited) {
            Ok(next) => Ok(next.map(|n| n.text())),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The digest the bytes of a manifest must hash to, when there is one to check.
    pub fn expected(&self, announced: Option<String>, digest: Option<String>) -> Option<String> {
        manifest::expected_digest(announced.as_deref(), digest.as_deref()).map(str::to_string)
    }

    /// `{ digest, mediaType, size, platforms? }` of a manifest's bytes, checked against the
    /// reference's digest or the announced one (`other`: the bytes' sha384/sha512 by WebCrypto).
    pub fn describe(
        &mut self,
        bytes: &[u8],
        content_type: Option<String>,
        announced: Option<String>,
        digest: Option<String>,
        other: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let d = manifest::describe_with(bytes, content_type.as_deref(), announced.as_deref(), digest.as_deref(), other.as_deref())
            .map_err(|e| self.fail(e))?;
        let o = descriptor_js(&d.digest, &d.media_type, d.size);
        if let Some(p) = &d.platforms {
            set(&o, "platforms", &platforms_js(p));
        }
        self.described = Some(d);
        Ok(o)
    }

    /// The digest of the entry for `platform` in the manifest last described, or undefined when
    /// that is no index; NOT_FOUND, naming the platforms there are, when none matches.
    pub fn choose(&self, platform: &str) -> Result<Option<String>, JsValue> {
        let Some(platforms) = self.described.as_ref().and_then(|d| d.platforms.as_ref()) else { return Ok(None) };
        let wanted = Wanted::parse(platform).map_err(|e| error_to_js(&e, None))?;
        manifest::choose(&self.redacted(platforms), &wanted).map(|p| Some(p.digest.clone())).map_err(|e| self.fail(e))
    }

    /// The descriptor a HEAD's headers give, or undefined when they do not give all of it (a
    /// registry that leaves out `Docker-Content-Digest` or sends a generic type costs a GET).
    pub fn head(
        &self,
        announced: Option<String>,
        content_type: Option<String>,
        length: Option<String>,
        digest: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let announced = announced.filter(|d| crate::digest::validate(d).is_ok());
        let media_type = content_type
            .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
            .filter(|t| manifest::DEFAULT_ACCEPT.contains(&t.as_str()) || t.starts_with("application/vnd."));
        let size = length.and_then(|l| l.trim().parse::<u64>().ok());
        let (Some(d), Some(t), Some(size)) = (announced, media_type, size) else { return Ok(JsValue::UNDEFINED) };
        if let Some(expected) = &digest {
            if *expected != d {
                return Err(self.fail(Error::new(Code::DigestMismatch, format!("the registry announced {d} for {expected}"))));
            }
        }
        Ok(descriptor_js(&d, &t, size))
    }

    /// The config blob's digest of the manifest last described.
    pub fn config(&self) -> Result<String, JsValue> {
        let Some(d) = &self.described else { return Err(self.fail(Error::new(Code::BadRegistryResponse, "no manifest was read"))) };
        if let Some(platforms) = &d.platforms {
            return Err(self.fail(Error::new(
                Code::InvalidReference,
                format!("this is an index of several images: pass platform, one of {}", manifest::names(&self.redacted(platforms))),
            )));
        }
        match &d.config {
            Some((digest, _, _)) => Ok(digest.clone()),
            None => Err(self.fail(Error::new(Code::BadRegistryResponse, "the manifest names no config blob"))),
        }
    }

    /// Checks that `bytes` hash to `expected` (`other`: their sha384/sha512 by WebCrypto).
    pub fn verify(&self, expected: &str, bytes: &[u8], what: &str, other: Option<String>) -> Result<(), JsValue> {
        crate::digest::verify_with(expected, bytes, what, other.as_deref()).map_err(|e| self.fail(e))
    }
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

/// `[reference, digest, accept, platform]` of a manifest call, checked before anything is sent:
/// the reference's tag or digest (`latest` when it has neither), its digest, the `Accept` value
/// and, when `with_platform`, the `platform` option.
#[wasm_bindgen(js_name = manifestArgs)]
pub fn manifest_args(image_ref: JsValue, options: JsValue, with_platform: bool) -> Result<Array, JsValue> {
    let s = image_ref.as_string().ok_or_else(|| invalid("the image reference must be a string".to_string()))?;
    let r = Reference::parse(&s).map_err(|e| error_to_js(&e, None))?;
    let digest = r.digest.clone();
    let reference = digest.clone().or(r.tag).unwrap_or_else(|| "latest".to_string());
    let o = OptionReader { call: &options, defaults: &JsValue::UNDEFINED };
    let list = o.strings("accept")?;
    if list.iter().any(|t| t.is_empty() || t.bytes().any(|b| b < b' ' || b == b',' || b == 0x7f)) {
        return Err(invalid("option accept must list media types".to_string()));
    }
    let accept = if list.is_empty() {
        manifest::DEFAULT_ACCEPT.join(", ")
    } else {
        let mut accept = String::new();
        for t in &list {
            crate::text::push_item(&mut accept, ", ", t);
        }
        accept
    };
    let platform = match with_platform.then(|| o.string("platform")).transpose()?.flatten() {
        Some(p) => {
            Wanted::parse(&p).map_err(|e| error_to_js(&e, None))?;
            JsValue::from_str(&p)
        }
        None => JsValue::UNDEFINED,
    };
    let or_undefined = |v: Option<String>| v.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s));
    Ok(Array::of4(&JsValue::from_str(&reference), &or_undefined(digest), &JsValue::from_str(&accept), &platform))
}

#[wasm_bindgen]
impl RegistryClient {
    /// A [`Session`] for a registry call with `method` (its actions unless the options name
    /// some; the registry's catalog scope when `catalog`), to [`Session::open`]. `path`, when
    /// given, is checked first: a path that leaves the registry's origin is refused before any
    /// request at all.
    #[wasm_bindgen(js_name = __session)]
    pub fn session(
        &self,
        target: JsValue,
        options: JsValue,
        method: &str,
        catalog: bool,
        path: Option<String>,
    ) -> Result<Session, JsValue> {
        let extra = if catalog {
            Extra { actions: Some(Vec::new()), scopes: vec!["registry:catalog:*".to_string()], registry_only: true, ..Extra::default() }
        } else {
            let mut actions = Vec::new();
            for a in resource::actions_for(method) {
                actions.push(a.to_string());
            }
            Extra { actions: Some(actions), ..Extra::default() }
        };
        let (c, pending) = self.inner.prepare(&target, &options, Mode::Authorization, &extra)?;
        if let Some(signal) = &c.signal {
            if signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
                return Err(aborted_error(signal));
            }
        }
        if let Some(path) = &path {
            resource::url_for(c.flow.base(), c.flow.repository(), path).map_err(|e| error_to_js(&e, None))?;
        }
        Ok(Session {
            inner: self.inner.clone(),
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
            call: None,
            visited: Vec::new(),
            described: None,
            start: Some((c, pending)),
        })
    }
}

/// The module-wide client as a `RegistryClient`, so the entries can offer `listTags`,
/// `getManifest`, … as plain functions without one wasm export each.
#[wasm_bindgen(js_name = sharedClient)]
pub fn shared_client() -> RegistryClient {
    RegistryClient { inner: DEFAULT_CLIENT.with(Rc::clone) }
}
