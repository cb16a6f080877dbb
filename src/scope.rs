//! Resource scopes (distribution `docs/spec/auth/scope.md`):
//!
//! ```text
//! scope         := resourcescope [ ' ' resourcescope ]*
//! resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*
//! resourcetype  := /[a-z0-9]+/ [ '(' /[a-z0-9]+/ ')' ]     (the class is deprecated)
//! resourcename  := [ hostname '/' ] component [ '/' component ]*
//! action        := /[a-z]*/
//! ```
//!
//! A resource name may hold a `host:port`, so the type is split at the first `:` and the actions
//! at the last one; the spec warns that naive three-way splitting is wrong.

use crate::error::{Code, Error};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub resource_type: String,
    pub name: String,
    /// Sorted and de-duplicated, so equal requests give equal cache keys.
    pub actions: Vec<String>,
}

impl Scope {
    /// The scope for a repository with the caller's actions (`["pull"]` when none are given).
    pub fn repository(path: &str, actions: &[String]) -> Result<Scope, Error> {
        for action in actions {
            check_action(action)?;
        }
        let mut set = actions.to_vec();
        if set.is_empty() {
            set.push("pull".to_string());
        }
        Ok(Scope { resource_type: "repository".to_string(), name: path.to_string(), actions: normalized(set) })
    }

    /// A scope a caller or a resource's challenge asked for, checked before it goes into a token
    /// request: its actions as [`Scope::repository`] checks them, and a name without the spaces,
    /// commas or control characters that would smuggle another scope in.
    pub fn checked(input: &str) -> Result<Scope, Error> {
        let bad = || Error::new(Code::InvalidReference, format!("invalid scope \"{}\"", crate::text::clip(input, 200)));
        let scope = Scope::parse(input).ok_or_else(bad)?;
        if scope.name.bytes().any(|b| b <= b' ' || b == b',' || b == 0x7f) || scope.actions.is_empty() {
            return Err(bad());
        }
        for action in &scope.actions {
            check_action(action)?;
        }
        Ok(scope)
    }

    /// Parses one `resourcescope`. Used for the granted `scope` of OAuth2 responses.
    pub fn parse(input: &str) -> Option<Scope> {
        let (resource_type, rest) = input.split_once(':')?;
        let (name, actions) = crate::text::rsplit_ascii(rest, b':')?;
        let resource_type = resource_type.split('(').next().unwrap_or(resource_type);
        let valid_type = !resource_type.is_empty() && resource_type.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid_type || name.is_empty() {
            return None;
        }
        let mut list = Vec::new();
        for a in actions.split(',') {
            if !a.is_empty() {
                list.push(a.to_string());
            }
        }
        Some(Scope { resource_type: resource_type.to_string(), name: name.to_string(), actions: normalized(list) })
    }
}

/// Sorted and without duplicates. Insertion by binary search: action lists have a few entries,
/// and this avoids linking a general sort into the wasm.
fn normalized(actions: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(actions.len());
    for a in actions {
        if let Err(at) = out.binary_search(&a) {
            out.insert(at, a);
        }
    }
    out
}

/// `action := /[a-z]*/`; `*` is what `registry:catalog:*` uses, so it is allowed too. Anything
/// else (a space, comma or colon) would let a caller smuggle a second scope into the request.
fn check_action(action: &str) -> Result<(), Error> {
    let ok = !action.is_empty() && (action == "*" || action.bytes().all(|b| b.is_ascii_lowercase()));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidReference,
            format!("invalid action \"{action}\": actions are lower-case words such as \"pull\" or \"push\""),
        ))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.resource_type)?;
        f.write_str(":")?;
        f.write_str(&self.name)?;
        f.write_str(":")?;
        for (i, a) in self.actions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(a)?;
        }
        Ok(())
    }
}

/// Merges scopes on the same resource into one, unioning their actions; the result is sorted,
/// so merging is idempotent, commutative and independent of input order.
pub fn merge(scopes: &[Scope]) -> Vec<Scope> {
    // Insertion by binary search on (type, name), as `normalized` does: a few entries, and no
    // general sort linked into the wasm (4 KB).
    let mut out: Vec<Scope> = Vec::new();
    for s in scopes {
        match out.binary_search_by(|o| (&o.resource_type, &o.name).cmp(&(&s.resource_type, &s.name))) {
            Ok(i) => {
                if let Some(same) = out.get_mut(i) {
                    let mut all = std::mem::take(&mut same.actions);
                    all.extend_from_slice(&s.actions);
                    same.actions = normalized(all);
                }
            }
            Err(i) => out.insert(i, s.clone()),
        }
    }
    out
}

/// Splits a space-separated scope string (OAuth2 `scope`) into its entries.
pub fn split_list(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in list.split(' ') {
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acts(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn repository_scope_sorts_and_dedupes() {
        let s = Scope::repository("library/nginx", &acts(&["push", "pull", "pull"])).unwrap();
        assert_eq!(s.to_string(), "repository:library/nginx:pull,push");
        assert_eq!(Scope::repository("a/b", &[]).unwrap().to_string(), "repository:a/b:pull");
        for bad in ["", "pull push", "pull,push", "a:b", "PULL", "pull\n"] {
            assert_eq!(Scope::repository("a", &acts(&[bad])).unwrap_err().code, Code::InvalidReference, "{bad:?}");
        }
        assert_eq!(Scope::repository("a", &acts(&["*"])).unwrap().to_string(), "repository:a:*");
    }

    #[test]
    fn parse_is_port_aware() {
        let s = Scope::parse("repository:localhost:5000/foo/bar:pull,push").unwrap();
        assert_eq!(s.name, "localhost:5000/foo/bar");
        assert_eq!(s.actions.len(), 2);
        let s = Scope::parse("repository(plugin):a/b:pull").unwrap();
        assert_eq!(s.resource_type, "repository");
        assert_eq!(Scope::parse("registry:catalog:*").unwrap().to_string(), "registry:catalog:*");
        assert!(Scope::parse("nonsense").is_none());
        assert!(Scope::parse("repository::pull").is_none());
    }

    #[test]
    fn merge_unions_actions() {
        let a = Scope::parse("repository:x:pull").unwrap();
        let b = Scope::parse("repository:x:push").unwrap();
        let c = Scope::parse("repository:y:pull").unwrap();
        let m = merge(&[b.clone(), c.clone(), a.clone()]);
        assert_eq!(m.iter().map(|s| s.to_string()).collect::<Vec<_>>(), ["repository:x:pull,push", "repository:y:pull"]);
        assert_eq!(merge(&m), m);
        assert_eq!(merge(&[a, c, b]), m);
    }
}
