//! The wasm-bindgen shell: the only code that touches JavaScript. It reads options, shares
//! in-flight work between identical concurrent calls, turns results and errors into JS values,
//! and steps a [`Flow`] through the requests of a flight ([`Run`]) and a caller through its wait
//! ([`Job`]). It awaits nothing itself: `io.fly` and `io.settle` in pkg-template/common.js send
//! the requests with the global (or the caller's) `fetch`, race `timeoutMs` and `signal`, and
//! hand every outcome back (see [`io`]). Every decision about the protocol lives in the core.

mod bindings;
mod convert;
mod credentials;
mod io;
mod registry;
mod store;
#[cfg(test)]
mod tests;

use crate::challenge::parse_challenges as parse_challenges_core;
use crate::credentials::Credentials;
use crate::error::{Code, Error};
use crate::flow::{Client, Flow, Grant, Mode, Options, Purpose, Redirect, Request, Response, Step};
use crate::reference::Reference;
use bindings::{AbortController, SignalLike};
use convert::{aborted_error, error_to_js, grant_to_js, invalid, name, set, OptionReader};
use js_sys::{Array, Function, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

/// Requests one flow may make: ping, POST, GET fallback, the GET's redirects followed by hand
/// (the core stops at [`crate::flow::MAX_REDIRECTS`]) and a browser's re-send — with room to spare.
const MAX_REQUESTS: usize = 4 + crate::flow::MAX_REDIRECTS as usize + 2;

/// Work shared by every caller with the same flight key and the same `fetch` and `now`
/// functions (a call with its own `fetch` must see its own requests go through it).
struct Flight {
    /// Tells this flight from a later one with the same key.
    id: u64,
    /// What `io.fly` in common.js returned for this flight's [`Run`]: the callers' shared answer.
    promise: RefCell<JsValue>,
    controller: Option<AbortController>,
    waiters: Cell<usize>,
    fetch: Option<Function>,
    clock: Option<Function>,
    store: Option<JsValue>,
    /// False for a re-authorization after a refusal: it must not be handed a stored token.
    reads_store: bool,
}

/// The same function object, or both absent.
fn same_function(a: &Option<Function>, b: &Option<Function>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Object::is(a, b),
        _ => false,
    }
}

/// The same store object, or both absent: a call with its own store reads and writes it.
fn same_store(a: &Option<JsValue>, b: &Option<store::Store>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Object::is(a, b.object()),
        _ => false,
    }
}

struct Inner {
    core: RefCell<Client>,
    defaults: JsValue,
    /// In-flight work by key. A list, not a map: it holds only calls still waiting on the
    /// network (a handful, even when thousands of callers share them), and a second map type
    /// would cost the wasm several kilobytes.
    flights: RefCell<Vec<(String, Rc<Flight>)>>,
    /// `GET /v2/` requests on the wire: a JavaScript `Map` from URL to the promise of the answer,
    /// kept by `io.fly`, so flights for different repositories of one registry share the
    /// challenge request instead of each pinging.
    pings: JsValue,
    next_id: Cell<u64>,
    store_counts: JsValue,
    /// `{ generation }`: the core's cache generation, pushed whenever it changes, so the JS fast
    /// path of `getToken` checks it with a property read instead of a call into wasm.
    cache_state: JsValue,
    pushed_generation: Cell<u64>,
}

/// A token client with its own caches. `new RegistryClient({ credentials, timeoutMs, … })` gives
/// each call those defaults; a call's own options win key by key. Secrets are never defaults:
/// they are bound to their registry through `credentials`.
#[wasm_bindgen]
pub struct RegistryClient {
    inner: Rc<Inner>,
}

thread_local! {
    /// What the top-level `getToken` uses, so its cache is shared module-wide.
    static DEFAULT_CLIENT: Rc<Inner> = Rc::new(Inner::new(JsValue::UNDEFINED));
}

/// Reads the caller's clock. Never call it while a `RefCell` of the client is borrowed: the
/// clock is JavaScript, and JavaScript may call back into this client.
fn now_ms(clock: Option<&Function>) -> u64 {
    let t = clock.and_then(|f| f.call0(&JsValue::UNDEFINED).ok()).and_then(|v| v.as_f64()).unwrap_or_else(js_sys::Date::now);
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

/// What a registry call asks a token for beyond the caller's options: the actions its method
/// needs when the call names none, more scopes (a resource's challenge), or the registry itself.
#[derive(Clone, Default)]
struct Extra {
    actions: Option<Vec<String>>,
    scopes: Vec<String>,
    registry_only: bool,
    /// Credentials an earlier step of the same call already resolved (a re-authorization).
    credentials: Option<Credentials>,
    /// The registry refused the token this call had: a store may still hold it (deletes are
    /// asynchronous, and eventually consistent in Workers KV), so the store is not read, only
    /// written with the new token.
    refused: bool,
}

/// What one call resolved from its arguments.
struct Call {
    flow: Flow,
    key: String,
    fetch: Option<Function>,
    clock: Option<Function>,
    signal: Option<JsValue>,
    timeout_ms: Option<f64>,
    store: Option<store::Store>,
    read_store: bool,
}

impl Inner {
    fn new(defaults: JsValue) -> Inner {
        Inner {
            core: RefCell::new(Client::new()),
            defaults,
            flights: RefCell::new(Vec::new()),
            pings: js_sys::Map::new().into(),
            next_id: Cell::new(0),
            store_counts: store::new_counts(),
            cache_state: {
                let o: JsValue = Object::new().into();
                set(&o, "generation", &JsValue::from_f64(0.0));
                o
            },
            pushed_generation: Cell::new(0),
        }
    }

    /// Publishes the core's cache generation after anything that may have changed it.
    fn sync_generation(&self) {
        let g = self.core.borrow().generation();
        if g != self.pushed_generation.get() {
            self.pushed_generation.set(g);
            set(&self.cache_state, "generation", &JsValue::from_f64(g as f64));
        }
    }

    /// Resolves the call's arguments. The credentials come from the call's own `username` /
    /// `password` / `refreshToken`, else from the `credentials` entry of the image's own
    /// registry; when that entry comes from an asynchronous function, its promise is returned
    /// beside the call for [`call`] to await.
    fn prepare(&self, image_ref: &JsValue, options: &JsValue, mode: Mode, extra: &Extra) -> Result<(Call, Option<Promise>), JsValue> {
        OptionReader::check_object(options, "options")?;
        let what = if extra.registry_only { "the registry" } else { "the image reference" };
        let image_ref = image_ref.as_string().ok_or_else(|| invalid(format!("{what} must be a string")))?;
        let o = OptionReader { call: options, defaults: &self.defaults };
        let actions = match &extra.actions {
            // A registry call: the method decides unless the call itself names actions.
            Some(default) => {
                let own = OptionReader { call: options, defaults: &JsValue::UNDEFINED }.strings("actions")?;
                if own.is_empty() {
                    default.clone()
                } else {
                    own
                }
            }
            None => o.strings("actions")?,
        };
        let opts = Options {
            actions,
            credentials: Credentials::default(),
            registry_url: o.string("registryUrl")?,
            mode,
            offline: o.boolean("offline")?,
            scopes: extra.scopes.clone(),
            registry_only: extra.registry_only,
        };
        let mut flow = Flow::new(&image_ref, opts).map_err(|e| error_to_js(&e, None))?;
        let mut pending = None;
        if let Some(known) = &extra.credentials {
            flow.set_credentials(known.clone()).map_err(|e| error_to_js(&e, None))?;
        } else if let Some(direct) = direct_credentials(&o)? {
            flow.set_credentials(direct).map_err(|e| error_to_js(&e, None))?;
        } else if let Some(option) = Some(o.raw("credentials")).filter(|v| !v.is_undefined() && !v.is_null()) {
            match credentials::lookup(&option, &flow.registry())? {
                credentials::Found::Nothing => {}
                credentials::Found::Now(c) => flow.set_credentials(c).map_err(|e| error_to_js(&e, None))?,
                credentials::Found::Later(p) => pending = Some(p),
            }
        }
        let key = flow.flight_key();
        let call = Call {
            flow,
            key,
            fetch: o.function("fetch")?,
            clock: o.function("now")?,
            signal: o.signal()?,
            timeout_ms: o.timeout_ms(DEFAULT_TIMEOUT_MS)?,
            store: store::from_options(&o)?,
            read_store: !extra.refused,
        };
        Ok((call, pending))
    }
}

/// The call's own `username` / `password` / `refreshToken`, when it gives any.
fn direct_credentials(o: &OptionReader) -> Result<Option<Credentials>, JsValue> {
    let c = Credentials { username: o.string("username")?, password: o.string("password")?, refresh_token: o.string("refreshToken")? };
    Ok((c.username.is_some() || !c.is_anonymous()).then_some(c))
}

fn call(inner: &Rc<Inner>, image_ref: JsValue, options: JsValue, mode: Mode) -> Promise {
    call_with(inner, image_ref, options, mode, &Extra::default())
}

fn call_with(inner: &Rc<Inner>, image_ref: JsValue, options: JsValue, mode: Mode, extra: &Extra) -> Promise {
    let (c, pending) = match inner.prepare(&image_ref, &options, mode, extra) {
        Ok(c) => c,
        Err(e) => return Promise::reject(&e),
    };
    if let Some(signal) = &c.signal {
        if signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
            return Promise::reject(&aborted_error(signal));
        }
    }
    match pending {
        None => join_or_start(inner, c, mode),
        // The credentials function answered with a promise: the job waits for it (under the
        // call's own timeout and signal), then goes on exactly as a synchronous answer would.
        Some(p) => {
            settle(Job { inner: inner.clone(), mode, signal: c.signal.clone(), timeout_ms: c.timeout_ms, call: Some((c, p)), flight: None })
        }
    }
}

/// Binds what a credentials function's promise gave to the call.
fn bind_credentials(c: &mut Call, ok: bool, value: &JsValue) -> Result<(), JsValue> {
    if !ok {
        return Err(credentials::function_failed(&c.flow.registry(), value));
    }
    if let Some(found) = credentials::from_js(value, &c.flow.registry())? {
        c.flow.set_credentials(found).map_err(|e| error_to_js(&e, None))?;
        c.key = c.flow.flight_key();
    }
    Ok(())
}

/// What joining the work for a call gave: the answer at once (the caches had it), or a flight to wait on.
enum Joined {
    Done(JsValue),
    Flight(Rc<Flight>),
}

/// Joins the flight of an identical call, or answers from the caches, or starts a flight.
fn join(inner: &Rc<Inner>, mut c: Call, mode: Mode) -> Result<Joined, JsValue> {
    let existing = inner
        .flights
        .borrow()
        .iter()
        .find(|(k, f)| {
            *k == c.key
                && same_function(&f.fetch, &c.fetch)
                && same_function(&f.clock, &c.clock)
                && same_store(&f.store, &c.store)
                && f.reads_store == c.read_store
        })
        .map(|(_, f)| f.clone());
    let flight = match existing {
        Some(f) => f,
        None => {
            let now = now_ms(c.clock.as_ref());
            let step = c.flow.start(&mut inner.core.borrow_mut(), now);
            inner.sync_generation();
            match step {
                // The cached path: no request, no timer, no allocation beyond the answer.
                Step::Done(g) => return Ok(Joined::Done(result_value(&g, mode))),
                Step::Failed(e) => return Err(error_to_js(&e, None)),
                Step::Send(first) => start_flight(inner, c, first, mode)?,
            }
        }
    };
    flight.waiters.set(flight.waiters.get() + 1);
    Ok(Joined::Flight(flight))
}

/// Starts or joins the work for one call and returns the caller's promise.
fn join_or_start(inner: &Rc<Inner>, c: Call, mode: Mode) -> Promise {
    let (signal, timeout_ms) = (c.signal.clone(), c.timeout_ms);
    match join(inner, c, mode) {
        Ok(Joined::Done(v)) => Promise::resolve(&v),
        Ok(Joined::Flight(f)) => settle(Job { inner: inner.clone(), mode, signal, timeout_ms, call: None, flight: Some(f) }),
        Err(e) => Promise::reject(&e),
    }
}

/// The caller's promise of a job, awaited by `io.settle` in common.js.
fn settle(job: Job) -> Promise {
    match io::io() {
        Some(io) => io.settle(job),
        None => Promise::reject(&io::missing()),
    }
}

/// One caller's call that has to wait: for its credentials function's promise, then for the
/// flight it joined. `io.settle` (pkg-template/common.js) awaits each under the caller's own
/// timeout and signal and hands the outcome back; one caller giving up never cancels work that
/// others share, and the last one to leave aborts it.
#[wasm_bindgen]
pub struct Job {
    inner: Rc<Inner>,
    mode: Mode,
    signal: Option<JsValue>,
    timeout_ms: Option<f64>,
    /// The call and its credentials promise, until that settles.
    call: Option<(Call, Promise)>,
    flight: Option<Rc<Flight>>,
}

#[wasm_bindgen]
impl Job {
    /// `[promise, signal, timeoutMs, credentials]`: what to wait for next, and whether it is the
    /// credentials promise (else the flight's answer).
    pub fn next(&self) -> Array {
        let (p, credentials) = match (&self.call, &self.flight) {
            (Some((_, p)), _) => (p.clone().into(), true),
            (None, Some(f)) => (f.promise.borrow().clone(), false),
            // Asked for nothing after the caller left or its credentials were refused.
            (None, None) => (JsValue::UNDEFINED, false),
        };
        let out = Array::of3(
            &p,
            self.signal.as_ref().unwrap_or(&JsValue::UNDEFINED),
            &self.timeout_ms.map_or(JsValue::UNDEFINED, JsValue::from_f64),
        );
        out.push(&JsValue::from_bool(credentials));
        out
    }

    /// The credentials promise settled (`ok`: fulfilled with `value`). Binds them and joins: the
    /// caller's answer when the caches had it, undefined when there is a flight to wait for.
    pub fn credentials(&mut self, ok: bool, value: JsValue) -> Result<JsValue, JsValue> {
        let Some((mut c, _)) = self.call.take() else { return Ok(JsValue::UNDEFINED) };
        bind_credentials(&mut c, ok, &value)?;
        match join(&self.inner, c, self.mode)? {
            Joined::Done(v) => Ok(v),
            Joined::Flight(f) => {
                self.flight = Some(f);
                Ok(JsValue::UNDEFINED)
            }
        }
    }

    /// The caller stopped waiting; `fired` when its own timer or signal ended the wait. When
    /// nobody waits any more, the flight's requests stop and the next call starts afresh.
    pub fn leave(&mut self, fired: bool) {
        let Some(flight) = self.flight.take() else { return };
        flight.waiters.set(flight.waiters.get().saturating_sub(1));
        if fired && flight.waiters.get() == 0 {
            if let Some(c) = &flight.controller {
                c.abort();
            }
            remove_flight(&self.inner, flight.id);
        }
    }
}

/// What the caller receives: the token itself (`""` when the registry needs no authentication)
/// or the whole Authorization object. The token path builds no object at all.
fn result_value(grant: &Grant, mode: Mode) -> JsValue {
    match mode {
        Mode::Authorization => grant_to_js(grant),
        Mode::Token => grant.token.as_deref().map_or_else(|| name(""), JsValue::from_str),
    }
}

fn remove_flight(inner: &Inner, id: u64) {
    inner.flights.borrow_mut().retain(|(_, f)| f.id != id);
}

/// Registers a flight, then hands its [`Run`] to `io.fly`, whose promise all its callers await.
fn start_flight(inner: &Rc<Inner>, c: Call, first: Request, mode: Mode) -> Result<Rc<Flight>, JsValue> {
    let io = io::io().ok_or_else(io::missing)?;
    let id = inner.next_id.get();
    inner.next_id.set(id + 1);
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map_or(JsValue::UNDEFINED, AbortController::signal);
    let Call { flow, key, fetch, clock, store, timeout_ms, read_store, .. } = c;
    let flight = Rc::new(Flight {
        id,
        promise: RefCell::new(JsValue::UNDEFINED),
        controller,
        waiters: Cell::new(0),
        fetch: fetch.clone(),
        clock: clock.clone(),
        store: store.as_ref().map(|s| s.object().clone()),
        reads_store: read_store,
    });
    // Registered, and its promise set, before any of the run's JavaScript runs (`fly` starts
    // on the next microtask): a custom fetch that re-enters the client joins a complete flight.
    inner.flights.borrow_mut().push((key, flight.clone()));
    let store = store.and_then(|s| flow.store_key().map(|k| (s, k)));
    let run = Run {
        inner: inner.clone(),
        id,
        flow,
        request: Some(first),
        fetch,
        clock,
        signal,
        store,
        read_store,
        timeout_ms,
        mode,
        answered: 0,
    };
    let promise: JsValue = io.fly(run).into();
    *flight.promise.borrow_mut() = promise;
    Ok(flight)
}

/// The work of one flight: the memory cache missed, so a shared store, then the network, as
/// `io.fly` in common.js drives it. Every decision — the request, which response bodies are
/// read, what an answer means, what is stored — is made here or in the core; `fly` awaits.
#[wasm_bindgen]
pub struct Run {
    inner: Rc<Inner>,
    id: u64,
    flow: Flow,
    request: Option<Request>,
    fetch: Option<Function>,
    clock: Option<Function>,
    /// The flight's own abort signal (its last caller leaving aborts it).
    signal: JsValue,
    store: Option<(store::Store, String)>,
    read_store: bool,
    timeout_ms: Option<f64>,
    mode: Mode,
    answered: usize,
}

impl Run {
    /// The answer of a finished flow, written to the shared store when it should be.
    fn done(&self, g: &Grant) -> JsValue {
        if let Some((s, k)) = &self.store {
            if let Some((value, expires_at, ttl)) = crate::store::for_grant(k, g, now_ms(self.clock.as_ref())) {
                store::write(s, &self.inner.store_counts, k, &value, expires_at, ttl);
            }
        }
        result_value(g, self.mode)
    }

    /// A redirect answered to a request sent with `redirect: "manual"`: the core follows it
    /// itself, so its `Location` matters and its body does not.
    fn asked_redirect(&self, status: u16) -> bool {
        self.request.as_ref().is_some_and(|r| r.redirect == Redirect::Manual) && (300..=399).contains(&status)
    }
}

#[wasm_bindgen]
impl Run {
    /// `[store, key, waitMs, counts]` for `io.storeRead` when a shared store comes before the
    /// network; undefined otherwise.
    #[wasm_bindgen(js_name = storeRead)]
    pub fn store_read(&self) -> JsValue {
        match (&self.store, self.read_store) {
            (Some((s, k)), true) => {
                // Half the call's own time at most, so a hanging store leaves the network the rest.
                let wait_ms = self.timeout_ms.map_or(store::WAIT_MS, |t| (t / 2.0).min(store::WAIT_MS));
                let out = Array::of3(s.object(), &JsValue::from_str(k), &JsValue::from_f64(wait_ms));
                out.push(&self.inner.store_counts);
                out.into()
            }
            _ => JsValue::UNDEFINED,
        }
    }

    /// What the store answered: the caller's answer when the core takes it, undefined when it
    /// refuses it (the network then).
    pub fn stored(&mut self, value: &str) -> Result<JsValue, JsValue> {
        let Some((_, k)) = &self.store else { return Ok(JsValue::UNDEFINED) };
        let now = now_ms(self.clock.as_ref());
        let Ok(stored) = crate::store::decode(k, value, now, crate::flow::REFRESH_MARGIN_MS) else {
            store::count(&self.inner.store_counts, "storeMisses");
            return Ok(JsValue::UNDEFINED);
        };
        store::count(&self.inner.store_counts, "storeHits");
        let step = self.flow.from_store(&mut self.inner.core.borrow_mut(), k.clone(), stored, now);
        self.inner.sync_generation();
        match step {
            Step::Done(g) => Ok(self.done(&g)),
            Step::Failed(e) => Err(error_to_js(&e, None)),
            Step::Send(_) => Err(error_to_js(&Error::new(Code::Network, "internal: a stored token asked for a request"), None)),
        }
    }

    /// The request to send as `[url, init, fetch, pings]`: `pings` (the client's shared
    /// challenge requests) only for a challenge request, which flights share by URL.
    pub fn request(&self) -> JsValue {
        let Some(req) = &self.request else { return JsValue::UNDEFINED };
        let init: JsValue = Object::new().into();
        set(&init, "method", &name(req.method.as_str()));
        if !req.headers.is_empty() {
            let headers: JsValue = Object::new().into();
            for (k, v) in &req.headers {
                set(&headers, k, &name(v));
            }
            set(&init, "headers", &headers);
        }
        if let Some(body) = &req.body {
            set(&init, "body", &JsValue::from_str(body));
        }
        let redirect = match req.redirect {
            Redirect::Follow => "follow",
            Redirect::Manual => "manual",
        };
        set(&init, "redirect", &name(redirect));
        // Never send cookies or HTTP auth the browser may hold for the registry.
        set(&init, "credentials", &name("omit"));
        set(&init, "signal", &self.signal);
        let fetch = self.fetch.as_ref().map_or(JsValue::UNDEFINED, |f| f.clone().into());
        let pings = if req.purpose == Purpose::Challenge { self.inner.pings.clone() } else { JsValue::UNDEFINED };
        let out = Array::of3(&JsValue::from_str(&req.url), &init, &fetch);
        out.push(&pings);
        out.into()
    }

    /// How much of the body of an answer with `status` the core needs: the token body cap, or 0
    /// (a challenge's 401, a success that only carries headers, a redirect we asked to see:
    /// the body is discarded).
    pub fn wants(&self, status: f64) -> f64 {
        let Some(req) = &self.request else { return 0.0 };
        let status = status_code(status);
        let wanted = !self.asked_redirect(status) && (req.purpose == Purpose::Token || !(status == 401 || (200..=299).contains(&status)));
        if wanted {
            crate::token::MAX_BODY as f64
        } else {
            0.0
        }
    }

    /// The answer to the current request: the caller's answer when the flow is done, undefined
    /// when there is a next request; rejects with the flow's error.
    #[allow(clippy::too_many_arguments)]
    pub fn respond(
        &mut self,
        status: f64,
        www_authenticate: Option<String>,
        retry_after: Option<String>,
        url: Option<String>,
        location: Option<String>,
        body: Option<Vec<u8>>,
        truncated: bool,
    ) -> Result<JsValue, JsValue> {
        let status = status_code(status);
        let redirect = self.asked_redirect(status);
        let response = Response {
            status,
            www_authenticate,
            retry_after,
            url: url.filter(|u| !u.is_empty()),
            location: location.filter(|_| redirect),
            body: body.unwrap_or_default(),
            body_truncated: truncated,
        };
        let now = now_ms(self.clock.as_ref());
        let step = self.flow.on_response(&mut self.inner.core.borrow_mut(), response, now);
        self.inner.sync_generation();
        self.answered += 1;
        match step {
            Step::Send(_) if self.answered >= MAX_REQUESTS => {
                Err(error_to_js(&Error::new(Code::TokenEndpoint, "too many requests for one token"), None))
            }
            Step::Send(next) => {
                self.request = Some(next);
                Ok(JsValue::UNDEFINED)
            }
            Step::Done(g) => Ok(self.done(&g)),
            Step::Failed(e) => Err(error_to_js(&e, None)),
        }
    }

    /// The error for a request that failed with `cause` (fetch threw or rejected, or its body
    /// could not be read); secrets are scrubbed from the message and from a copy of the cause.
    #[wasm_bindgen(js_name = networkError)]
    pub fn network_error(&mut self, cause: JsValue) -> JsValue {
        if self.signal.is_object() && self.signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
            // Every caller has already left; this value is never seen.
            return error_to_js(&Error::new(Code::Aborted, "aborted"), Some(&cause));
        }
        // Read everything JavaScript may compute (getters on the error) before borrowing.
        let detail = convert::describe_js_error(&cause);
        let e = self.flow.on_network_error(&mut self.inner.core.borrow_mut(), &detail);
        self.inner.sync_generation();
        let cause = if self.flow.has_secrets() { convert::scrubbed_copy(&cause, &|t| self.flow.redact(t), 0) } else { cause };
        error_to_js(&e, Some(&cause))
    }

    /// The flight is over: the next identical call starts afresh (and finds the cache).
    pub fn finish(&self) {
        remove_flight(&self.inner, self.id);
    }
}

/// The status as the core takes it: anything a Response-like reports outside 0–999 (or no
/// number at all) is 0, the value browsers give an opaque redirect.
pub fn status_code(s: f64) -> u16 {
    if (0.0..=999.0).contains(&s) {
        s as u16
    } else {
        0
    }
}

#[wasm_bindgen]
impl RegistryClient {
    #[wasm_bindgen(constructor)]
    pub fn new(defaults: JsValue) -> Result<RegistryClient, JsValue> {
        OptionReader::check_object(&defaults, "RegistryClient defaults")?;
        credentials::check_defaults(&defaults)?;
        store::from_options(&OptionReader { call: &defaults, defaults: &JsValue::UNDEFINED })?;
        // A copy: later changes to the caller's object must not change this client.
        let copy: JsValue =
            if defaults.is_object() { Object::assign(&Object::new(), defaults.unchecked_ref()).into() } else { JsValue::UNDEFINED };
        Ok(RegistryClient { inner: Rc::new(Inner::new(copy)) })
    }

    /// Resolves to the bearer token for the image ("" when the registry needs no auth).
    #[wasm_bindgen(js_name = getToken)]
    pub fn get_token(&self, image_ref: JsValue, options: JsValue) -> Promise {
        call(&self.inner, image_ref, options, Mode::Token)
    }

    /// Resolves to the whole Authorization (header value, token, expiry, scope, realm…).
    pub fn authorize(&self, image_ref: JsValue, options: JsValue) -> Promise {
        call(&self.inner, image_ref, options, Mode::Authorization)
    }

    /// For the JavaScript fast path of `getToken(imageRef)` called without options: the answer
    /// this client would give now from its caches, as `[token, freshUntil, generation]`, or
    /// undefined when it would not answer from memory (or the client's defaults ask a function
    /// for credentials, which must then be asked on every call). The entry holds while
    /// [`RegistryClient::cache_state`]'s generation is unchanged and the caller's clock is before `freshUntil`.
    #[wasm_bindgen(js_name = cachedEntry)]
    pub fn cached_entry(&self, image_ref: JsValue) -> JsValue {
        let Ok((mut c, None)) = self.inner.prepare(&image_ref, &JsValue::UNDEFINED, Mode::Token, &Extra::default()) else {
            return JsValue::UNDEFINED;
        };
        let now = now_ms(c.clock.as_ref());
        let mut core = self.inner.core.borrow_mut();
        let Step::Done(g) = c.flow.start(&mut core, now) else { return JsValue::UNDEFINED };
        let Some(until) = core.fresh_until(&c.flow, &g) else { return JsValue::UNDEFINED };
        let generation = core.generation() as f64;
        drop(core);
        self.inner.sync_generation();
        Array::of3(&result_value(&g, Mode::Token), &JsValue::from_f64(until as f64), &JsValue::from_f64(generation)).into()
    }

    /// `{ generation }`, kept current by this client (see [`RegistryClient::cached_entry`]).
    #[wasm_bindgen(js_name = cacheState)]
    pub fn cache_state(&self) -> JsValue {
        self.inner.cache_state.clone()
    }

    /// Forgets tokens, challenges and per-realm facts. Calls in flight finish normally.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        self.inner.core.borrow_mut().clear();
        self.inner.sync_generation();
    }

    /// Cache occupancy, for monitoring and for tests of the bound.
    pub fn stats(&self) -> JsValue {
        let s = self.inner.core.borrow().stats();
        let o: JsValue = Object::new().into();
        set(&o, "tokens", &JsValue::from_f64(s.tokens as f64));
        set(&o, "tokenCapacity", &JsValue::from_f64(s.token_capacity as f64));
        set(&o, "challenges", &JsValue::from_f64(s.challenges as f64));
        set(&o, "inFlight", &JsValue::from_f64(self.inner.flights.borrow().len() as f64));
        Object::assign(o.unchecked_ref::<Object>(), self.inner.store_counts.unchecked_ref::<Object>());
        // The module's linear memory (shared by every client of this instance; it never
        // shrinks): what an edge isolate watches for leaks.
        let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
        let bytes = memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length();
        set(&o, "memoryBytes", &JsValue::from_f64(f64::from(bytes)));
        o
    }
}

/// `getToken(imageRef, options)` on the module-wide client.
#[wasm_bindgen(js_name = getToken)]
pub fn get_token(image_ref: JsValue, options: JsValue) -> Promise {
    DEFAULT_CLIENT.with(|inner| call(inner, image_ref, options, Mode::Token))
}

#[wasm_bindgen(js_name = parseReference)]
pub fn parse_reference(image_ref: JsValue) -> Result<JsValue, JsValue> {
    let s = image_ref.as_string().ok_or_else(|| invalid("the image reference must be a string".to_string()))?;
    Reference::parse(&s).map(|r| convert::reference_to_js(&r)).map_err(|e| error_to_js(&e, None))
}

#[wasm_bindgen(js_name = parseChallenges)]
pub fn parse_challenges(header: JsValue) -> Result<JsValue, JsValue> {
    let s = header
        .as_string()
        .ok_or_else(|| error_to_js(&Error::new(Code::InvalidChallenge, "the WWW-Authenticate value must be a string"), None))?;
    parse_challenges_core(&s).map(|c| convert::challenges_to_js(&c)).map_err(|e| error_to_js(&e, None))
}
