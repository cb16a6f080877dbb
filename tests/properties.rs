//! Property tests (issue 7): references round-trip, the challenge parser agrees with a slow
//! parser written from the RFC 7235 ABNF, and scope merging is idempotent, commutative and
//! independent of order, so the cache key is too.

// Test helpers outside #[test] functions may unwrap and panic like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::sample::select;
use registry_token::challenge::{parse_challenges, Challenge};
use registry_token::reference::Reference;
use registry_token::scope::{merge, Scope};

#[path = "support/rfc7235.rs"]
mod rfc7235;

fn config() -> ProptestConfig {
    // PROPTEST_CASES=20000 cargo test --test properties for a longer run.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// References: generated from distribution/reference's grammar.

/// domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
fn domain_component() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9]", "[a-zA-Z0-9][a-zA-Z0-9-]{0,8}[a-zA-Z0-9]"]
}

fn port() -> impl Strategy<Value = String> {
    "[0-9]{1,5}".prop_map(|p| format!(":{p}"))
}

/// A domain that `splitDockerDomain` takes for one: it has a '.', a port, is `localhost`, or is
/// an IPv6 literal. `None` is Docker Hub.
fn domain() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::collection::vec(domain_component(), 2..4).prop_map(|c| Some(c.join("."))),
        (prop::collection::vec(domain_component(), 1..3), port()).prop_map(|(c, p)| Some(format!("{}{p}", c.join(".")))),
        prop::option::of(port()).prop_map(|p| Some(format!("localhost{}", p.unwrap_or_default()))),
        ("[0-9a-fA-F]{0,4}:[0-9a-fA-F:]{0,10}", prop::option::of(port()))
            .prop_map(|(a, p)| Some(format!("[{a}]{}", p.unwrap_or_default()))),
        select(vec!["docker.io", "index.docker.io", "registry-1.docker.io", "ghcr.io", "127.0.0.1:5000"]).prop_map(|d| Some(d.to_string())),
    ]
}

/// path-component := alpha-numeric [separator alpha-numeric]*; separator := /[_.]|__|[-]+/
fn path_component() -> impl Strategy<Value = String> {
    let separator = prop_oneof![Just(".".to_string()), Just("_".to_string()), Just("__".to_string()), "-{1,3}"];
    ("[a-z0-9]{1,6}", prop::collection::vec((separator, "[a-z0-9]{1,6}"), 0..3)).prop_map(|(first, rest)| {
        let mut s = first;
        for (sep, an) in rest {
            s.push_str(&sep);
            s.push_str(&an);
        }
        s
    })
}

fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}"
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}")),
        "[0-9a-f]{96}".prop_map(|h| format!("sha384:{h}")),
        "[0-9a-f]{128}".prop_map(|h| format!("sha512:{h}")),
    ]
}

/// (input, expected domain, expected path, tag, digest)
fn valid_reference() -> impl Strategy<Value = (String, String, String, Option<String>, Option<String>)> {
    (domain(), prop::collection::vec(path_component(), 1..4), prop::option::of(tag()), prop::option::of(digest())).prop_map(
        |(domain, path, tag, digest)| {
            // With no domain, a first component that looks like a host (has a '.') is read as
            // one, as docker does: write Docker Hub's domain out for those.
            let domain = match domain {
                None if path.first().is_some_and(|c| c.contains('.')) => Some("docker.io".to_string()),
                d => d,
            };
            let path = path.join("/");
            let mut input = String::new();
            if let Some(d) = &domain {
                input.push_str(d);
                input.push('/');
            }
            input.push_str(&path);
            if let Some(t) = &tag {
                input.push(':');
                input.push_str(t);
            }
            if let Some(d) = &digest {
                input.push('@');
                input.push_str(d);
            }
            let domain = match domain.as_deref() {
                None | Some("index.docker.io") => "docker.io".to_string(),
                Some(d) => d.to_string(),
            };
            let path = if domain == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path };
            (input, domain, path, tag, digest)
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_reference_round_trips((input, domain, path, tag, digest) in valid_reference()) {
        // The only refusals a grammatical reference may get: the 255-character name limit and
        // a bare 64-hex name (an image ID).
        prop_assume!(domain.len() + 1 + path.len() <= 255);
        prop_assume!(!(input.len() == 64 && input.bytes().all(|b| b.is_ascii_hexdigit())));
        let r = Reference::parse(&input);
        prop_assert!(r.is_ok(), "{input:?} refused: {:?}", r.err());
        let r = r.unwrap();
        prop_assert_eq!(&r.domain, &domain);
        prop_assert_eq!(&r.path, &path);
        prop_assert_eq!(&r.tag, &tag);
        prop_assert_eq!(&r.digest, &digest);
        // parse → string → parse, through both printed forms.
        let full = r.to_string();
        let again = Reference::parse(&full);
        prop_assert_eq!(again.as_ref(), Ok(&r), "Display {:?}", full);
        let familiar = r.familiar();
        // distribution's FamiliarName: docker.io/library/<64 hex> is the bare hex (an image ID).
        if !(r.domain == "docker.io" && r.path.strip_prefix("library/").is_some_and(|p| p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()))) {
            let again = Reference::parse(&familiar);
            prop_assert_eq!(again.as_ref(), Ok(&r), "familiar {:?}", familiar);
        }
        prop_assert_eq!(Reference::parse(&full).map(|r| r.to_string()), Ok(full.clone()));
    }

    /// Any string at all: what parses, round-trips.
    #[test]
    fn whatever_parses_round_trips(input in "[a-zA-Z0-9._/:@\\[\\]-]{1,40}") {
        if let Ok(r) = Reference::parse(&input) {
            let full = Reference::parse(&r.to_string());
            prop_assert_eq!(full.as_ref(), Ok(&r), "{:?}", input);
            if !(r.domain == "docker.io" && r.path.strip_prefix("library/").is_some_and(|p| p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()))) {
                let familiar = Reference::parse(&r.familiar());
                prop_assert_eq!(familiar.as_ref(), Ok(&r), "{:?}", input);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Challenges: headers generated from the RFC 7235 ABNF, with the variation real servers use.

const TCHAR_EXTRA: &str = "!#$%&'*+-.^_`|~";

fn token() -> impl Strategy<Value = String> {
    let class = format!("[A-Za-z0-9{}]", regex_escape(TCHAR_EXTRA));
    proptest::string::string_regex(&format!("{class}{{1,8}}")).unwrap_or_else(|e| panic!("{e}"))
}

fn regex_escape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\{c}") }).collect()
}

/// OWS, and 1*SP (only spaces: RFC 7235 puts `1*SP` after the scheme).
fn ows() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(String::new()), 1 => "[ \t]{1,3}"]
}

fn sp() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(" ".to_string()), 1 => " {2,3}"]
}

/// A list separator: OWS "," OWS, sometimes with empty elements (RFC 7230 §7).
fn comma() -> impl Strategy<Value = String> {
    (ows(), prop_oneof![4 => Just(",".to_string()), 1 => Just(", ,".to_string()), 1 => Just(",,".to_string())], ows())
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

/// A parameter value as written, and what it means.
fn value() -> impl Strategy<Value = (String, String)> {
    // qdtext and quoted-pair material: printable ASCII, space, tab, obs-text, '"' and '\'.
    let piece = prop_oneof![
        6 => "[ -~]",
        1 => Just("\t".to_string()),
        1 => select(vec!["é", "€", "ÿ", "日"]).prop_map(str::to_string),
    ];
    let quoted = prop::collection::vec((piece, any::<bool>()), 0..12).prop_map(|chars| {
        let (mut written, mut meant) = ("\"".to_string(), String::new());
        for (c, escape) in chars {
            if escape || c == "\"" || c == "\\" {
                written.push('\\');
            }
            written.push_str(&c);
            meant.push_str(&c);
        }
        written.push('"');
        (written, meant)
    });
    prop_oneof![token().prop_map(|t| (t.clone(), t)), quoted]
}

fn case_variant(s: &str, upper: &[bool]) -> String {
    s.chars().zip(upper.iter().cycle()).map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
}

/// One challenge as written, and the Challenge it means.
fn challenge() -> impl Strategy<Value = (String, Challenge)> {
    let scheme = (
        prop_oneof![select(vec!["Bearer", "Basic", "Digest", "Negotiate", "Newauth"]).prop_map(str::to_string), token()],
        prop::collection::vec(any::<bool>(), 1..4),
    )
        .prop_map(|(s, upper)| case_variant(&s, &upper));
    let param_name =
        prop_oneof![select(vec!["realm", "service", "scope", "error", "error_description", "charset"]).prop_map(str::to_string), token()];
    let params = prop::collection::vec((param_name, prop::collection::vec(any::<bool>(), 1..3), ows(), ows(), value(), comma()), 1..5);
    let token68 = "[A-Za-z0-9._~+/-]{1,12}={0,2}";
    let body = prop_oneof![
        2 => Just(None),
        1 => token68.prop_map(|t| Some(Err(t))),
        6 => params.prop_map(|p| Some(Ok(p))),
    ];
    (scheme, sp(), any::<bool>(), body).prop_map(|(scheme, sp, leading_comma, body)| {
        let mut written = scheme.clone();
        let mut meant = Challenge { scheme: scheme.to_ascii_lowercase(), params: Vec::new() };
        match body {
            None => {}
            Some(Err(token68)) => {
                written.push_str(&sp);
                written.push_str(&token68);
                meant.params.push((String::new(), token68));
            }
            Some(Ok(params)) => {
                written.push_str(&sp);
                if leading_comma {
                    // `#auth-param` may open with an empty element: "Bearer , realm=x".
                    written.push_str(", ");
                }
                let mut first = true;
                for (name, upper, bws1, bws2, (value_written, value_meant), sep) in params {
                    let key = name.to_ascii_lowercase();
                    if meant.params.iter().any(|(k, _)| *k == key) {
                        continue; // RFC 7235 §2.2: each name once per challenge
                    }
                    if !first {
                        written.push_str(&sep);
                    }
                    first = false;
                    written.push_str(&case_variant(&name, &upper));
                    written.push_str(&bws1);
                    written.push('=');
                    written.push_str(&bws2);
                    written.push_str(&value_written);
                    meant.params.push((key, value_meant));
                }
            }
        }
        (written, meant)
    })
}

fn header() -> impl Strategy<Value = (String, Vec<Challenge>)> {
    (ows(), any::<bool>(), prop::collection::vec((challenge(), comma()), 1..4), ows()).prop_map(|(lead, lead_comma, list, trail)| {
        let mut written = lead;
        if lead_comma {
            written.push_str(", ");
        }
        let mut meant = Vec::new();
        let n = list.len();
        for (i, ((w, c), sep)) in list.into_iter().enumerate() {
            written.push_str(&w);
            if i + 1 < n {
                written.push_str(&sep);
            }
            meant.push(c);
        }
        written.push_str(&trail);
        (written, meant)
    })
}

fn ref_form(challenges: &[Challenge]) -> Vec<rfc7235::RefChallenge> {
    challenges.iter().map(|c| (c.scheme.clone(), c.params.clone())).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn challenge_parser_agrees_with_the_abnf((header, meant) in header()) {
        let reference = rfc7235::parse_all(&header);
        // The generator writes only grammatical, unambiguous headers: the slow parser finds
        // exactly the meaning it wrote …
        prop_assert_eq!(&reference, &vec![ref_form(&meant)], "RFC 7235 parse of {:?}", header);
        // … and so does parse_challenges.
        prop_assert_eq!(parse_challenges(&header), Ok(meant), "{:?}", header);
    }

    /// Whatever the strict parser accepts in arbitrary text, parse_challenges reads the same way.
    #[test]
    fn challenge_parser_never_contradicts_the_abnf(header in "[A-Za-z= ,\"\\\\\t/é]{0,24}") {
        let reference = rfc7235::parse_all(&header);
        let ours = parse_challenges(&header);
        if !reference.is_empty() {
            prop_assert!(ours.as_ref().is_ok_and(|c| reference.contains(&ref_form(c))), "{:?}: {:?} vs {:?}", header, reference, ours);
        }
        if let Ok(c) = &ours {
            prop_assert!(!c.is_empty());
        }
    }

    /// The documented leniency: a repeated parameter name is an error in RFC 7235 §2.2; we keep
    /// the first value (so appended text cannot replace the realm).
    #[test]
    fn duplicate_names_keep_the_first((header, meant) in header(), v in "[a-z]{1,5}") {
        let Some(first) = meant.first().filter(|c| c.params.first().is_some_and(|(k, _)| !k.is_empty())) else {
            return Ok(());
        };
        let Some((key, original)) = first.params.first().cloned() else { return Ok(()) };
        // Append the duplicate right after the first challenge's parameters.
        let reparsed = parse_challenges(&format!("{} {}, {}={v}", first.scheme, serialize_params(&first.params), key.to_uppercase()));
        prop_assert_eq!(reparsed.ok().and_then(|c| c.first().and_then(|c| c.param(&key).map(str::to_string))), Some(original));
        let _ = header;
    }
}

fn serialize_params(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// Scopes: merge is a normal form.

fn scope() -> impl Strategy<Value = Scope> {
    // Scope keeps its actions sorted and de-duplicated (a normal form); build them that way.
    let actions = prop::collection::btree_set(select(vec!["pull", "push", "delete", "*"]).prop_map(str::to_string), 0..4)
        .prop_map(|set| set.into_iter().collect::<Vec<_>>());
    (select(vec!["repository", "registry"]), select(vec!["a/b", "library/nginx", "localhost:5000/foo/bar", "catalog", "x"]), actions)
        .prop_map(|(t, n, actions)| Scope { resource_type: t.to_string(), name: n.to_string(), actions })
}

/// What the token cache keys on: the merged scopes as strings, in merge's order.
fn cache_key(scopes: &[Scope]) -> String {
    merge(scopes).iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn merge_is_idempotent(scopes in prop::collection::vec(scope(), 0..8)) {
        let once = merge(&scopes);
        prop_assert_eq!(merge(&once), once.clone());
        // One entry per resource, sorted, each holding the union of its actions.
        for pair in once.windows(2) {
            prop_assert!((&pair[0].resource_type, &pair[0].name) < (&pair[1].resource_type, &pair[1].name));
        }
        for s in &once {
            let union: std::collections::BTreeSet<String> = scopes
                .iter()
                .filter(|x| x.resource_type == s.resource_type && x.name == s.name)
                .flat_map(|x| x.actions.iter().cloned())
                .collect();
            prop_assert_eq!(&s.actions, &union.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn merge_is_commutative(a in prop::collection::vec(scope(), 0..6), b in prop::collection::vec(scope(), 0..6)) {
        let ab: Vec<Scope> = a.iter().chain(&b).cloned().collect();
        let ba: Vec<Scope> = b.iter().chain(&a).cloned().collect();
        prop_assert_eq!(merge(&ab), merge(&ba));
        // And merging in steps changes nothing.
        let stepwise: Vec<Scope> = merge(&a).into_iter().chain(merge(&b)).collect();
        prop_assert_eq!(merge(&stepwise), merge(&ab));
    }

    #[test]
    fn merge_and_cache_key_ignore_order((scopes, shuffled) in prop::collection::vec(scope(), 0..8).prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))) {
        prop_assert_eq!(merge(&scopes), merge(&shuffled));
        prop_assert_eq!(cache_key(&scopes), cache_key(&shuffled));
    }

    /// The caller's actions: order and repeats do not change the scope (nor the cache key).
    #[test]
    fn repository_scope_ignores_action_order(actions in prop::collection::vec(select(vec!["pull", "push", "delete"]).prop_map(str::to_string), 0..6)) {
        let mut reversed = actions.clone();
        reversed.reverse();
        let mut doubled = actions.clone();
        doubled.extend(actions.iter().cloned());
        let a = Scope::repository("team/app", &actions).map(|s| s.to_string());
        prop_assert_eq!(&a, &Scope::repository("team/app", &reversed).map(|s| s.to_string()));
        prop_assert_eq!(&a, &Scope::repository("team/app", &doubled).map(|s| s.to_string()));
    }

    /// Scope strings round-trip, host:port names included.
    #[test]
    fn scope_round_trips(s in scope()) {
        prop_assert_eq!(Scope::parse(&s.to_string()), Some(s));
    }
}
