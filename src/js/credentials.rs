//! The `credentials` option: secrets bound to their registry, as Docker's `config.json` `auths`
//! and oras-go's `StaticCredential(host, cred)` bind them. A call looks up only the entry of its
//! own image's registry (the name the core derives from the reference, never from
//! `registryUrl`), and the function form is asked for that one name, so code that lets a user
//! choose the image cannot make the package send one registry's secret to another.

use super::convert::{error_to_js, invalid, name};
use crate::credentials::{registry_key, Credentials};
use crate::error::{Code, Error};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// What a lookup found for one registry.
pub enum Found {
    Nothing,
    Now(Credentials),
    /// The function form answered with a promise (or any thenable).
    Later(Promise),
}

const SHAPE: &str = "must be { username, password } or { refreshToken } (or null for none)";

/// Finds the credential for `registry` in the option's value: a record keyed by registry names
/// (Docker Hub's aliases fold into `docker.io`), or a function asked with the name.
pub fn lookup(option: &JsValue, registry: &str) -> Result<Found, JsValue> {
    if option.is_undefined() || option.is_null() {
        return Ok(Found::Nothing);
    }
    if let Some(f) = option.dyn_ref::<Function>() {
        let answer = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(registry)).map_err(|e| function_failed(registry, &e))?;
        if is_thenable(&answer) {
            return Ok(Found::Later(Promise::resolve(&answer)));
        }
        return Ok(from_js(&answer, registry)?.map_or(Found::Nothing, Found::Now));
    }
    if !is_record(option) {
        return Err(not_a_record());
    }
    for key in Object::keys(option.unchecked_ref::<Object>()).iter() {
        let Some(k) = key.as_string() else { continue };
        if registry_key(&k) == registry {
            let value = Reflect::get(option, &key).unwrap_or(JsValue::UNDEFINED);
            return Ok(from_js(&value, registry)?.map_or(Found::Nothing, Found::Now));
        }
    }
    Ok(Found::Nothing)
}

/// One credential value; `null` / `undefined` mean "none for this registry". The message names
/// the registry and the expected shape, never a value.
pub fn from_js(value: &JsValue, registry: &str) -> Result<Option<Credentials>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let bad = || invalid(format!("credentials for {registry} {SHAPE}"));
    if !value.is_object() || value.is_function() || Array::is_array(value) {
        return Err(bad());
    }
    let field = |key: &str| -> Result<Option<String>, JsValue> {
        let v = Reflect::get(value, &name(key)).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string().map(Some).ok_or_else(bad)
    };
    let c = Credentials { username: field("username")?, password: field("password")?, refresh_token: field("refreshToken")? };
    let pair = c.username.is_some() && c.password.is_some();
    if !pair && c.refresh_token.is_none() {
        return Err(bad());
    }
    c.validate().map_err(|mut e| {
        e.message = format!("credentials for {registry}: {}", e.message);
        error_to_js(&e, None)
    })?;
    Ok(Some(c))
}

/// The credentials function threw or rejected. What it threw is not passed on: a function that
/// reads secrets fails with their text (`JSON.parse` quotes its input), and we cannot scrub what
/// we were never given. Its name and `code` say what kind of failure it was.
pub fn function_failed(registry: &str, thrown: &JsValue) -> JsValue {
    let text = |key: &str| Reflect::get(thrown, &name(key)).ok().and_then(|v| v.as_string()).filter(|s| s.len() <= 64);
    let kind = if thrown.is_object() { text("name") } else { None };
    let message = match &kind {
        Some(kind) => format!("the credentials function failed for {registry} ({kind}; its message is not kept, as it may quote a secret)"),
        None => format!("the credentials function failed for {registry} (its message is not kept, as it may quote a secret)"),
    };
    let cause = js_sys::Error::new("withheld: the credentials function's own error may quote a secret");
    if let Some(kind) = kind {
        cause.set_name(&kind);
    }
    if let Some(code) = if thrown.is_object() { text("code") } else { None } {
        super::convert::set(&cause, "code", &JsValue::from_str(&code));
    }
    error_to_js(&Error::new(Code::InvalidReference, message), Some(&cause.into()))
}

/// Client defaults may carry `credentials`, never bare secrets: a default password would go to
/// whatever registry a later call names. A record is checked entry by entry now, so a typo
/// fails at construction rather than on some later call.
pub fn check_defaults(defaults: &JsValue) -> Result<(), JsValue> {
    if !defaults.is_object() {
        return Ok(());
    }
    for key in ["username", "password", "refreshToken"] {
        let v = Reflect::get(defaults, &name(key)).unwrap_or(JsValue::UNDEFINED);
        if !v.is_undefined() {
            return Err(invalid(format!(
                "RegistryClient defaults must not hold {key}: a default secret would go to any registry a call names. Bind it to its registry with the credentials option, e.g. new RegistryClient({{ credentials: {{ \"ghcr.io\": {{ username, password }} }} }}), or pass username and password with the call"
            )));
        }
    }
    let option = Reflect::get(defaults, &name("credentials")).unwrap_or(JsValue::UNDEFINED);
    if option.is_undefined() || option.is_null() || option.is_function() {
        return Ok(());
    }
    if !is_record(&option) {
        return Err(not_a_record());
    }
    for key in Object::keys(option.unchecked_ref::<Object>()).iter() {
        let k = key.as_string().unwrap_or_default();
        from_js(&Reflect::get(&option, &key).unwrap_or(JsValue::UNDEFINED), &registry_key(&k))?;
    }
    Ok(())
}

fn is_record(v: &JsValue) -> bool {
    v.is_object() && !Array::is_array(v)
}

fn not_a_record() -> JsValue {
    invalid(
        "option credentials must be an object keyed by registry (\"ghcr.io\", \"docker.io\", \"localhost:5000\") or a function of the registry name"
            .to_string(),
    )
}

fn is_thenable(v: &JsValue) -> bool {
    v.is_object() && Reflect::get(v, &name("then")).is_ok_and(|t| t.is_function())
}
