//! A slow reference parser for `WWW-Authenticate`, written straight from the ABNF, used as an
//! oracle by `tests/properties.rs` and the `challenge` fuzz target (which includes this file by
//! path). It is deliberately unlike `src/challenge.rs`: instead of one pass with look-ahead, every
//! rule returns *every* way it can match, and the header's parses are the ones that consume the
//! whole value. It is strict where the real parser is lenient (duplicate parameter names, a
//! parameter after `scheme,`, tabs after the scheme are refused here), so the contract checked is
//! one-directional: whatever this parser accepts, `parse_challenges` must accept with one of the
//! results found here.
//!
//! ```text
//! RFC 7235 §4.1   WWW-Authenticate = 1#challenge
//! RFC 7235 §2.1   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//!                 auth-scheme      = token
//!                 auth-param       = token BWS "=" BWS ( token / quoted-string )
//!                 token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! RFC 7235 §2.2   each parameter name MUST only occur once per challenge (case-insensitively)
//! RFC 9110 §5.6.1.2 (RFC 7230 §7 restated; 7230's `#element => [ ( "," / element ) …` would
//!                 refuse `Bearer , realm=x`, which 9110 and every recipient accept):
//!                 #element  => [ element ] *( OWS "," OWS [ element ] )
//!                 1#element => *( "," OWS ) element *( OWS "," OWS [ element ] )
//! RFC 7230 §3.2.6 token = 1*tchar; quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//!                 qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//!                 quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ); obs-text = %x80-FF
//! RFC 7230 §3.2.3 OWS = *( SP / HTAB ); BWS = OWS
//! RFC 7230 §3.2.4 the field value excludes leading and trailing OWS
//! ```
//!
//! Results use the same normal form as `Challenge`: scheme and parameter names lower-cased,
//! values unquoted, a token68 under the name "".
#![allow(dead_code, clippy::indexing_slicing)]

use std::collections::BTreeSet;

/// (scheme, [(name, value)]).
pub type RefChallenge = (String, Vec<(String, String)>);

/// Every distinct complete parse of `header` (empty: the header is not valid).
pub fn parse_all(header: &str) -> Vec<Vec<RefChallenge>> {
    let g = Grammar { s: header.as_bytes() };
    let start = g.ows(0);
    let mut out: Vec<Vec<RefChallenge>> =
        g.challenge_list(start).into_iter().filter(|(end, _)| g.ows(*end) == g.s.len()).map(|(_, list)| list).collect();
    out.sort();
    out.dedup();
    out
}

struct Grammar<'a> {
    s: &'a [u8],
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

fn qdtext(b: u8) -> bool {
    b == b'\t' || b == b' ' || b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b) || b >= 0x80
}

fn quoted_pair_char(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

fn dedup<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

impl Grammar<'_> {
    fn at(&self, p: usize) -> Option<u8> {
        self.s.get(p).copied()
    }

    /// OWS, maximal: in every rule here what follows OWS cannot start with SP or HTAB, so the
    /// shorter matches could never complete a parse.
    fn ows(&self, mut p: usize) -> usize {
        while matches!(self.at(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        p
    }

    /// token, maximal for the same reason (a token is never followed by a tchar).
    fn token(&self, p: usize) -> Option<(usize, String)> {
        let mut e = p;
        while self.at(e).is_some_and(tchar) {
            e += 1;
        }
        (e > p).then(|| (e, String::from_utf8_lossy(&self.s[p..e]).into_owned()))
    }

    fn token68(&self, p: usize) -> Option<(usize, String)> {
        let mut e = p;
        while self.at(e).is_some_and(token68_char) {
            e += 1;
        }
        if e == p {
            return None;
        }
        while self.at(e) == Some(b'=') {
            e += 1;
        }
        Some((e, String::from_utf8_lossy(&self.s[p..e]).into_owned()))
    }

    fn quoted_string(&self, p: usize) -> Option<(usize, String)> {
        if self.at(p) != Some(b'"') {
            return None;
        }
        let mut out = Vec::new();
        let mut e = p + 1;
        loop {
            match self.at(e)? {
                b'"' => return String::from_utf8(out).ok().map(|v| (e + 1, v)),
                b'\\' => {
                    let c = self.at(e + 1)?;
                    if !quoted_pair_char(c) {
                        return None;
                    }
                    out.push(c);
                    e += 2;
                }
                c if qdtext(c) => {
                    out.push(c);
                    e += 1;
                }
                _ => return None,
            }
        }
    }

    /// auth-param = token BWS "=" BWS ( token / quoted-string )
    fn auth_param(&self, p: usize) -> Vec<(usize, (String, String))> {
        let Some((e, name)) = self.token(p) else { return Vec::new() };
        let q = self.ows(e);
        if self.at(q) != Some(b'=') {
            return Vec::new();
        }
        let r = self.ows(q + 1);
        let name = name.to_ascii_lowercase();
        self.token(r).into_iter().chain(self.quoted_string(r)).map(|(end, v)| (end, (name.clone(), v))).collect()
    }

    /// #auth-param (recipient form): [ auth-param ] *( OWS "," OWS [ auth-param ] )
    fn param_list(&self, p: usize) -> Vec<(usize, Vec<(String, String)>)> {
        let mut frontier: Vec<(usize, Vec<(String, String)>)> = vec![(p, Vec::new())];
        for (e, kv) in self.auth_param(p) {
            frontier.push((e, vec![kv]));
        }
        // Explored state by state; every state is a result.
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some((e, params)) = frontier.pop() {
            if !seen.insert((e, params.clone())) {
                continue;
            }
            out.push((e, params.clone()));
            let q = self.ows(e);
            if self.at(q) != Some(b',') {
                continue;
            }
            let r = self.ows(q + 1);
            frontier.push((r, params.clone()));
            for (end, kv) in self.auth_param(r) {
                let mut next = params.clone();
                next.push(kv);
                frontier.push((end, next));
            }
        }
        dedup(out)
    }

    /// challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ], without duplicate names.
    fn challenge(&self, p: usize) -> Vec<(usize, RefChallenge)> {
        let Some((e, scheme)) = self.token(p) else { return Vec::new() };
        let scheme = scheme.to_ascii_lowercase();
        let mut out = vec![(e, (scheme.clone(), Vec::new()))];
        let mut q = e;
        while self.at(q) == Some(b' ') {
            q += 1;
        }
        if q == e {
            return out;
        }
        if let Some((end, t)) = self.token68(q) {
            out.push((end, (scheme.clone(), vec![(String::new(), t)])));
        }
        for (end, params) in self.param_list(q) {
            let mut names: Vec<&String> = params.iter().map(|(k, _)| k).collect();
            let n = names.len();
            names.sort();
            names.dedup();
            if names.len() == n {
                out.push((end, (scheme.clone(), params)));
            }
        }
        dedup(out)
    }

    /// 1#challenge (recipient form): *( "," OWS ) challenge *( OWS "," [ OWS challenge ] )
    fn challenge_list(&self, p: usize) -> Vec<(usize, Vec<RefChallenge>)> {
        let mut p = p;
        while self.at(p) == Some(b',') {
            p = self.ows(p + 1);
        }
        let mut out = Vec::new();
        let mut frontier: Vec<(usize, Vec<RefChallenge>)> = self.challenge(p).into_iter().map(|(e, c)| (e, vec![c])).collect();
        let mut seen = BTreeSet::new();
        while let Some((e, list)) = frontier.pop() {
            if !seen.insert((e, list.clone())) {
                continue;
            }
            out.push((e, list.clone()));
            let q = self.ows(e);
            if self.at(q) != Some(b',') {
                continue;
            }
            frontier.push((q + 1, list.clone()));
            let r = self.ows(q + 1);
            for (end, c) in self.challenge(r) {
                let mut next = list.clone();
                next.push(c);
                frontier.push((end, next));
            }
        }
        dedup(out)
    }
}
