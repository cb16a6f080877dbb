//! The wasm-bindgen shell: the only code that touches JavaScript. It reads options, drives a
//! [`Flow`] with the global (or the caller's) `fetch`, shares in-flight work between identical
//! concurrent calls, enforces `timeoutMs` and `signal`, and turns results and errors into JS
//! values. Every decision about the protocol lives in the core.

mod bindings;
mod convert;
mod credentials;
mod http;
mod io;
mod registry;
mod store;
#[cfg(test)]
mod tests;

use crate::challenge::parse_challenges as parse_challenges_core;
use crate::credentials::Credentials;
use crate::error::{Code, Error};
use crate::flow::{Client, Flow, Grant, Mode, Options, Purpose, Request, Response, Step};
use crate::reference::Reference;
use bindings::{AbortController, SignalLike};
use convert::{aborted_error, error_to_js, grant_to_js, invalid, name, set, OptionReader};
use js_sys::{Array, Function, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

/// Requests one flow may make: ping, POST, GET fallback, the GET's redirects followed by hand
/// (the core stops at [`crate::flow::MAX_REDIRECTS`]) and a browser's re-send — with room to spare.
const MAX_REQUESTS: usize = 4 + crate::flow::MAX_REDIRECTS as usize + 2;

/// Work shared by every caller with the same flight key and the same `fetch` and `now`
/// functions (a call with its own `fetch` must see its own requests go through it).
struct Flight {
    /// Tells this flight from a later one with the same key.
    id: u64,
    promise: Promise,
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
    /// `GET /v2/` requests on the wire, by URL: flights for different repositories of one
    /// registry share the challenge request instead of each pinging.
    pings: RefCell<Vec<(String, Rc<Ping>)>>,
    next_id: Cell<u64>,
    store_counts: JsValue,
    /// `{ generation }`: the core's cache generation, pushed whenever it changes, so the JS fast
    /// path of `getToken` checks it with a property read instead of a call into wasm.
    cache_state: JsValue,
    pushed_generation: Cell<u64>,
}

/// One challenge request that several flights wait on.
struct Ping {
    /// Resolves (to nothing) once `result` is set.
    done: Promise,
    resolve: Option<Function>,
    result: RefCell<Option<Result<Response, JsValue>>>,
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
            pings: RefCell::new(Vec::new()),
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

/// Starts or joins the work for one call and returns the caller's promise.
fn call(inner: &Rc<Inner>, image_ref: JsValue, options: JsValue, mode: Mode) -> Promise {
    call_with(inner, image_ref, options, mode, &Extra::default())
}

fn call_with(inner: &Rc<Inner>, image_ref: JsValue, options: JsValue, mode: Mode, extra: &Extra) -> Promise {
    let (mut c, pending) = match inner.prepare(&image_ref, &options, mode, extra) {
        Ok(c) => c,
        Err(e) => return Promise::reject(&e),
    };
    if let Some(signal) = &c.signal {
        if signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
            return Promise::reject(&aborted_error(signal));
        }
    }
    let Some(pending) = pending else { return join_or_start(inner, c, mode) };
    // The credentials function answered with a promise: wait for it (under the call's own
    // timeout and signal), then go on exactly as a synchronous answer would.
    let inner = inner.clone();
    future_to_promise(async move {
        resolve_pending(&mut c, pending).await?;
        JsFuture::from(join_or_start(&inner, c, mode)).await
    })
}

/// Waits for a credentials function's promise and binds what it gave to the call.
async fn resolve_pending(c: &mut Call, pending: Promise) -> Result<(), JsValue> {
    let (answer, gave_up) = io::guarded(&pending, c.signal.as_ref(), c.timeout_ms).await;
    let value = match answer {
        Ok(v) => v,
        Err(e) if gave_up => return Err(e),
        Err(e) => return Err(credentials::function_failed(&c.flow.registry(), &e)),
    };
    if let Some(found) = credentials::from_js(&value, &c.flow.registry())? {
        c.flow.set_credentials(found).map_err(|e| error_to_js(&e, None))?;
        c.key = c.flow.flight_key();
    }
    Ok(())
}

fn join_or_start(inner: &Rc<Inner>, mut c: Call, mode: Mode) -> Promise {
    let (signal, timeout_ms) = (c.signal.take(), c.timeout_ms);
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
                Step::Done(g) => return Promise::resolve(&result_value(&g, mode)),
                Step::Failed(e) => return Promise::reject(&error_to_js(&e, None)),
                Step::Send(first) => start_flight(inner, c, first, mode),
            }
        }
    };
    flight.waiters.set(flight.waiters.get() + 1);
    let inner = inner.clone();
    future_to_promise(async move {
        let (result, gave_up) = io::guarded(&flight.promise, signal.as_ref(), timeout_ms).await;
        flight.waiters.set(flight.waiters.get().saturating_sub(1));
        if gave_up && flight.waiters.get() == 0 {
            // Nobody waits any more: stop the requests, and let the next call start afresh.
            if let Some(c) = &flight.controller {
                c.abort();
            }
            remove_flight(&inner, flight.id);
        }
        result
    })
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

fn start_flight(inner: &Rc<Inner>, c: Call, first: Request, mode: Mode) -> Rc<Flight> {
    let id = inner.next_id.get();
    inner.next_id.set(id + 1);
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map_or(JsValue::UNDEFINED, AbortController::signal);
    let Call { mut flow, key, fetch, clock, store, timeout_ms, read_store, .. } = c;
    let store_object = store.as_ref().map(|s| s.object().clone());
    let runner = {
        let inner = inner.clone();
        let (fetch, clock) = (fetch.clone(), clock.clone());
        async move {
            // Memory missed; a shared store comes before the network.
            let store = store.and_then(|s| flow.store_key().map(|k| (s, k)));
            let mut result = None;
            if let (Some((s, k)), true) = (&store, read_store) {
                // Half the call's own time at most, so a hanging store leaves the network the rest.
                let wait_ms = timeout_ms.map_or(store::WAIT_MS, |t| (t / 2.0).min(store::WAIT_MS));
                if let Some(value) = store::read(s, &inner.store_counts, k, wait_ms).await {
                    let now = now_ms(clock.as_ref());
                    match crate::store::decode(k, &value, now, crate::flow::REFRESH_MARGIN_MS) {
                        Ok(stored) => {
                            store::count(&inner.store_counts, "storeHits");
                            let step = flow.from_store(&mut inner.core.borrow_mut(), k.clone(), stored, now);
                            inner.sync_generation();
                            result = Some(match step {
                                Step::Done(g) => Ok(g),
                                Step::Failed(e) => Err(error_to_js(&e, None)),
                                Step::Send(_) => {
                                    Err(error_to_js(&Error::new(Code::Network, "internal: a stored token asked for a request"), None))
                                }
                            });
                        }
                        Err(_) => store::count(&inner.store_counts, "storeMisses"),
                    }
                }
            }
            let result = match result {
                Some(r) => r,
                None => drive(&inner, flow, first, fetch.as_ref(), clock.as_ref(), &signal).await,
            };
            if let (Ok(g), Some((s, k))) = (&result, &store) {
                if let Some((value, expires_at, ttl)) = crate::store::for_grant(k, g, now_ms(clock.as_ref())) {
                    store::write(s, &inner.store_counts, k, &value, expires_at, ttl);
                }
            }
            // Finished: the next identical call starts afresh (and finds the cache).
            remove_flight(&inner, id);
            result.map(|g| result_value(&g, mode))
        }
    };
    let flight = Rc::new(Flight {
        id,
        promise: future_to_promise(runner),
        controller,
        waiters: Cell::new(0),
        fetch,
        clock,
        store: store_object,
        reads_store: read_store,
    });
    inner.flights.borrow_mut().push((key, flight.clone()));
    flight
}

/// Sends `request`, or, when it is a challenge request already on the wire for another flight,
/// waits for that one's answer. A shared answer that failed (say, its flight was aborted by its
/// last caller) is not trusted: this flight then asks for itself.
async fn send_sharing_pings(inner: &Inner, request: &Request, fetch: Option<&Function>, signal: &JsValue) -> Result<Response, JsValue> {
    if request.purpose != Purpose::Challenge {
        return http::send(request, fetch, signal).await;
    }
    let pending = inner.pings.borrow().iter().find(|(url, _)| *url == request.url).map(|(_, p)| p.clone());
    if let Some(ping) = pending {
        let _ = JsFuture::from(ping.done.clone()).await;
        if let Some(Ok(response)) = ping.result.borrow().as_ref() {
            return Ok(response.clone());
        }
        return http::send(request, fetch, signal).await;
    }
    let mut resolve = None;
    let done = Promise::new(&mut |res, _rej| resolve = Some(res));
    let ping = Rc::new(Ping { done, resolve, result: RefCell::new(None) });
    inner.pings.borrow_mut().push((request.url.clone(), ping.clone()));
    let result = http::send(request, fetch, signal).await;
    inner.pings.borrow_mut().retain(|(_, p)| !Rc::ptr_eq(p, &ping));
    *ping.result.borrow_mut() = Some(result.clone());
    if let Some(f) = &ping.resolve {
        let _ = f.call0(&JsValue::UNDEFINED);
    }
    result
}

async fn drive(
    inner: &Inner,
    mut flow: Flow,
    first: Request,
    fetch: Option<&Function>,
    clock: Option<&Function>,
    signal: &JsValue,
) -> Result<Grant, JsValue> {
    let mut request = first;
    for _ in 0..MAX_REQUESTS {
        let response = match send_sharing_pings(inner, &request, fetch, signal).await {
            Ok(r) => r,
            Err(js_err) => {
                if signal.unchecked_ref::<SignalLike>().aborted().is_truthy() {
                    // Every caller has already left; this value is never seen.
                    return Err(error_to_js(&Error::new(Code::Aborted, "aborted"), Some(&js_err)));
                }
                // Read everything JavaScript may compute (getters on the error) before borrowing.
                let detail = convert::describe_js_error(&js_err);
                let e = flow.on_network_error(&mut inner.core.borrow_mut(), &detail);
                inner.sync_generation();
                let cause = if flow.has_secrets() { convert::scrubbed_copy(&js_err, &|t| flow.redact(t), 0) } else { js_err };
                return Err(error_to_js(&e, Some(&cause)));
            }
        };
        let now = now_ms(clock);
        let step = flow.on_response(&mut inner.core.borrow_mut(), response, now);
        inner.sync_generation();
        match step {
            Step::Send(next) => request = next,
            Step::Done(g) => return Ok(g),
            Step::Failed(e) => return Err(error_to_js(&e, None)),
        }
    }
    Err(error_to_js(&Error::new(Code::TokenEndpoint, "too many requests for one token"), None))
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
