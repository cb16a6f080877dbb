//! Conversions between JavaScript values and the core's types, and the error objects callers
//! see. Plain `Reflect` calls instead of serde-wasm-bindgen: a dozen fields do not justify its
//! code size.

use crate::challenge::Challenge;
use crate::error::{Code, Error};
use crate::flow::Grant;
use crate::reference::Reference;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Property names and fixed strings the shell hands to JavaScript on every call. Each
/// `JsValue::from_str` decodes UTF-8 on the JS side; these are decoded once per instance
/// instead, which is most of what makes a cached `getToken` cheap.
pub(crate) const NAMES: [&str; 69] = [
    "",
    "ABORTED",
    "BAD_TOKEN_RESPONSE",
    "GET",
    "INSECURE_REALM",
    "INVALID_CHALLENGE",
    "INVALID_REFERENCE",
    "NETWORK",
    "NO_CHALLENGE",
    "POST",
    "RegistryAuthError",
    "TIMEOUT",
    "TOKEN_ENDPOINT",
    "UNAUTHORIZED",
    "UNSUPPORTED_CHALLENGE",
    "aborted",
    "actions",
    "addEventListener",
    "application/x-www-form-urlencoded",
    "authorization",
    "body",
    "cancel",
    "cause",
    "challenges",
    "code",
    "configurable",
    "content-type",
    "credentials",
    "digest",
    "domain",
    "done",
    "enumerable",
    "expiresAt",
    "familiar",
    "fetch",
    "follow",
    "getReader",
    "headers",
    "inFlight",
    "manual",
    "method",
    "name",
    "now",
    "offline",
    "omit",
    "params",
    "password",
    "path",
    "realm",
    "redirect",
    "refreshToken",
    "registry",
    "registryUrl",
    "repository",
    "retryAfter",
    "scheme",
    "scope",
    "service",
    "signal",
    "status",
    "tag",
    "timeoutMs",
    "token",
    "tokenCapacity",
    "tokens",
    "username",
    "value",
    "writable",
    "www-authenticate",
];

thread_local! {
    static NAME_VALUES: Vec<JsValue> = NAMES.iter().map(|s| JsValue::from_str(s)).collect();
}

/// The JS string for `s`, from the cache when it is one of [`NAMES`] (kept in byte order for the
/// binary search; a name out of order would only miss the cache, never give a wrong string).
pub fn name(s: &str) -> JsValue {
    match NAMES.binary_search(&s) {
        Ok(i) => NAME_VALUES.with(|v| v.get(i).cloned()).unwrap_or_else(|| JsValue::from_str(s)),
        Err(_) => JsValue::from_str(s),
    }
}

pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Reflect.set only fails on frozen or exotic targets; ours are fresh plain objects.
    let _ = Reflect::set(target, &name(key), value);
}

fn opt_str(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

thread_local! {
    /// The entry's `RegistryAuthError` class (set once at load by [`set_error_class`]), so
    /// `err instanceof RegistryAuthError` holds for everything this instance rejects with. Per
    /// wasm instance, not global: two copies of the package in one realm keep their own classes.
    static ERROR_CLASS: std::cell::RefCell<Option<Function>> = const { std::cell::RefCell::new(None) };
}

/// Called by each entry right after the module loads, with the class it exports.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = __setErrorClass)]
pub fn set_error_class(class: Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// A RegistryAuthError: an instance of the entry's class (a subclass of `Error`, so
/// `instanceof Error` holds and stacks work) with `name`, `code`, `status`, `retryAfter`,
/// `errors` and the original JS failure as `cause`.
pub fn error_to_js(e: &Error, cause: Option<&JsValue>) -> JsValue {
    let message = JsValue::from_str(&e.message);
    // Cloned out first: no borrow is held while JavaScript runs.
    let class = ERROR_CLASS.with(|c| c.borrow().clone());
    let constructed = class.and_then(|class| Reflect::construct(&class, &Array::of1(&message)).ok());
    let v: JsValue = constructed.unwrap_or_else(|| js_sys::Error::new(&e.message).into());
    set(&v, "name", &name("RegistryAuthError"));
    set(&v, "code", &name(e.code.as_str()));
    if let Some(status) = e.status {
        set(&v, "status", &JsValue::from_f64(f64::from(status)));
    }
    if let Some(ra) = &e.retry_after {
        set(&v, "retryAfter", &JsValue::from_str(ra));
    }
    if let Some(c) = cause {
        set(&v, "cause", c);
    }
    if !e.errors.is_empty() {
        let list = Array::new();
        for entry in &e.errors {
            let o: JsValue = Object::new().into();
            set(&o, "code", &JsValue::from_str(&entry.code));
            set(&o, "message", &JsValue::from_str(&entry.message));
            // `detail` as sent: any JSON value.
            let detail =
                entry.detail.as_deref().map_or(JsValue::UNDEFINED, |d| js_sys::JSON::parse(d).unwrap_or_else(|_| JsValue::from_str(d)));
            set(&o, "detail", &detail);
            list.push(&o);
        }
        set(&v, "errors", &list);
    }
    v
}

pub fn invalid(message: String) -> JsValue {
    error_to_js(&Error::new(Code::InvalidReference, message), None)
}

/// A short human description of a thrown JS value, including undici's `cause`
/// ("fetch failed (connect ECONNREFUSED 127.0.0.1:9)").
pub fn describe_js_error(e: &JsValue) -> String {
    let one = |v: &JsValue| -> Option<String> {
        if let Some(err) = v.dyn_ref::<js_sys::Error>() {
            let msg: String = err.message().into();
            let name: String = err.name().into();
            return Some(if msg.is_empty() { name } else { msg });
        }
        v.as_string()
    };
    let mut s = one(e).unwrap_or_else(|| "unknown failure".to_string());
    if let Ok(cause) = Reflect::get(e, &name("cause")) {
        if let Some(c) = one(&cause).filter(|c| !c.is_empty() && *c != s) {
            s.push_str(" (");
            s.push_str(&c);
            s.push(')');
        }
    }
    s
}

/// A copy of a thrown value whose texts (message, name, `code`, and its own causes, three deep)
/// went through `redact`. A network failure's text can hold what the request held — a realm
/// host made of a password, say — and nothing an error carries may hold a secret. The copy is
/// made whenever the call had secrets, not only when one is spotted: spotting is the redactor's
/// job, and this keeps every path through it.
pub fn scrubbed_copy(value: &JsValue, redact: &dyn Fn(&str) -> String, depth: u8) -> JsValue {
    let text = |key: &str| Reflect::get(value, &name(key)).ok().and_then(|v| v.as_string());
    let message = if value.is_object() { text("message") } else { value.as_string() };
    let copy = js_sys::Error::new(&redact(&message.unwrap_or_else(|| "unknown failure".to_string())));
    if value.is_object() {
        if let Some(n) = text("name") {
            copy.set_name(&redact(&n));
        }
        if let Some(code) = text("code") {
            set(&copy, "code", &JsValue::from_str(&redact(&code)));
        }
        if depth < 3 {
            if let Ok(inner) = Reflect::get(value, &name("cause")) {
                if !inner.is_undefined() && !inner.is_null() {
                    set(&copy, "cause", &scrubbed_copy(&inner, redact, depth + 1));
                }
            }
        }
    }
    copy.into()
}

pub fn reference_to_js(r: &Reference) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "domain", &JsValue::from_str(&r.domain));
    set(&o, "path", &JsValue::from_str(&r.path));
    set(&o, "name", &JsValue::from_str(&r.name()));
    set(&o, "tag", &opt_str(r.tag.as_deref()));
    set(&o, "digest", &opt_str(r.digest.as_deref()));
    set(&o, "familiar", &JsValue::from_str(&r.familiar()));
    set(&o, "registryUrl", &JsValue::from_str(&r.registry_url()));
    o
}

pub fn challenges_to_js(list: &[Challenge]) -> JsValue {
    let out = Array::new();
    for c in list {
        let o: JsValue = Object::new().into();
        set(&o, "scheme", &JsValue::from_str(&c.scheme));
        let params: JsValue = Object::new().into();
        for (k, v) in &c.params {
            let value = JsValue::from_str(v);
            if k == "__proto__" {
                // A plain assignment would set the prototype instead of an own property.
                let desc = Object::new();
                set(&desc, "value", &value);
                set(&desc, "enumerable", &JsValue::TRUE);
                set(&desc, "writable", &JsValue::TRUE);
                set(&desc, "configurable", &JsValue::TRUE);
                let target: &Object = params.unchecked_ref();
                let _ = Reflect::define_property(target, &JsValue::from_str(k), &desc);
            } else {
                set(&params, k, &value);
            }
        }
        set(&o, "params", &params);
        out.push(&o);
    }
    out.into()
}

pub fn grant_to_js(g: &Grant) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "authorization", &opt_str(g.authorization.as_deref()));
    set(&o, "token", &opt_str(g.token.as_deref()));
    set(&o, "expiresAt", &g.expires_at.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64)));
    let scope = Array::new();
    for s in &g.scope {
        scope.push(&JsValue::from_str(s));
    }
    set(&o, "scope", &scope);
    set(&o, "realm", &opt_str(g.realm.as_deref()));
    set(&o, "service", &opt_str(g.service.as_deref()));
    set(&o, "registry", &JsValue::from_str(&g.registry));
    set(&o, "repository", &JsValue::from_str(&g.repository));
    set(&o, "refreshToken", &opt_str(g.refresh_token.as_deref()));
    o
}

/// Reads options with the client's defaults merged underneath, key by key.
pub struct OptionReader<'a> {
    pub call: &'a JsValue,
    pub defaults: &'a JsValue,
}

impl OptionReader<'_> {
    pub fn check_object(value: &JsValue, what: &str) -> Result<(), JsValue> {
        if value.is_undefined() || value.is_null() || (value.is_object() && !value.is_function()) {
            Ok(())
        } else {
            Err(invalid(format!("{what} must be an object")))
        }
    }

    pub fn raw(&self, key: &str) -> JsValue {
        let k = name(key);
        for source in [self.call, self.defaults] {
            if source.is_object() {
                if let Ok(v) = Reflect::get(source, &k) {
                    if !v.is_undefined() {
                        return v;
                    }
                }
            }
        }
        JsValue::UNDEFINED
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string().map(Some).ok_or_else(|| invalid(format!("option {key} must be a string")))
    }

    pub fn boolean(&self, key: &str) -> Result<bool, JsValue> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(false);
        }
        v.as_bool().ok_or_else(|| invalid(format!("option {key} must be true or false")))
    }

    pub fn strings(&self, key: &str) -> Result<Vec<String>, JsValue> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(Vec::new());
        }
        if !Array::is_array(&v) {
            return Err(invalid(format!("option {key} must be an array of strings, e.g. [\"pull\", \"push\"]")));
        }
        let arr: Array = v.unchecked_into();
        if arr.length() > 64 {
            return Err(invalid(format!("option {key} has more than 64 entries")));
        }
        let mut strings = Vec::new();
        for item in arr.iter() {
            strings.push(item.as_string().ok_or_else(|| invalid(format!("option {key} must be an array of strings")))?);
        }
        Ok(strings)
    }

    pub fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        let v = self.raw(key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.dyn_into::<Function>().map(Some).map_err(|_| invalid(format!("option {key} must be a function")))
    }

    pub fn signal(&self) -> Result<Option<JsValue>, JsValue> {
        let v = self.raw("signal");
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        let looks_right = v.is_object()
            && Reflect::get(&v, &name("addEventListener")).is_ok_and(|f| f.is_function())
            && Reflect::has(&v, &name("aborted")).unwrap_or(false);
        if looks_right {
            Ok(Some(v))
        } else {
            Err(invalid("option signal must be an AbortSignal".to_string()))
        }
    }

    /// `timeoutMs`: a positive number of milliseconds; `Infinity` turns the timeout off.
    pub fn timeout_ms(&self, default_ms: f64) -> Result<Option<f64>, JsValue> {
        let v = self.raw("timeoutMs");
        if v.is_undefined() || v.is_null() {
            return Ok(Some(default_ms));
        }
        match v.as_f64() {
            Some(ms) if ms == f64::INFINITY => Ok(None),
            // setTimeout holds a signed 32-bit delay; beyond it fires at once.
            Some(ms) if ms > 0.0 && ms.is_finite() => Ok(Some(ms.min(2_147_483_647.0))),
            _ => Err(invalid("option timeoutMs must be a positive number of milliseconds (or Infinity)".to_string())),
        }
    }
}

/// The ABORTED error for a caller whose signal fired, with the signal's reason as `cause`.
pub fn aborted_error(signal: &JsValue) -> JsValue {
    let reason = signal.unchecked_ref::<super::bindings::SignalLike>().reason();
    let cause = (!reason.is_undefined()).then_some(reason);
    error_to_js(&Error::new(Code::Aborted, "the call was aborted by its AbortSignal"), cause.as_ref())
}
