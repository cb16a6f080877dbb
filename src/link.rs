//! The `Link` header that pages tags and catalogs (RFC 8288 §3; distribution's api.md "Pagination",
//! OCI distribution-spec "Listing Tags").
//!
//! ```text
//! Link       = #link-value
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! Registries write it every way the grammar allows: distribution a relative URL
//! (`</v2/x/tags/list?last=a&n=100>; rel="next"`), Docker Hub and GHCR absolute ones, others
//! with `rel=next` unquoted or after other parameters, several links in one header. joyent's
//! client ignored the header; docker-registry-ui reads one page. We follow it, and refuse what
//! would make paging leave the registry or never end.

use crate::error::{Code, Error};
use crate::url::{resolve_location, HttpUrl};

/// The target of the first link whose `rel` holds the relation type `next` (case-insensitive;
/// `rel` may list several types separated by spaces), as written between `<` and `>`.
pub fn next_target(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let after = rest.get(start + 1..)?;
        let end = after.find('>')?;
        let target = after.get(..end)?;
        rest = after.get(end + 1..)?;
        // The parameters run to the next comma outside a quoted string.
        let mut params_end = rest.len();
        let mut quoted = false;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    params_end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = rest.get(..params_end)?;
        if rel_is_next(params) {
            return Some(target.trim());
        }
        rest = rest.get(params_end..)?;
    }
}

/// RFC 8288 §3.3: only the first `rel` parameter counts; its value is a token or a
/// quoted-string (RFC 9110 §5.6.4, `\` escapes the next character) listing relation types
/// separated by spaces. Parameters are split at `;` outside quotes.
fn rel_is_next(params: &str) -> bool {
    let mut name = String::new();
    let mut value = String::new();
    let (mut in_value, mut quoted, mut escaped) = (false, false, false);
    for c in params.chars().chain(std::iter::once(';')) {
        match c {
            _ if escaped => {
                value.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' if in_value => quoted = !quoted,
            ';' if !quoted => {
                if name.trim().eq_ignore_ascii_case("rel") {
                    return value.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("next"));
                }
                name.clear();
                value.clear();
                in_value = false;
            }
            '=' if !in_value => in_value = true,
            _ if in_value => value.push(c),
            _ => name.push(c),
        }
    }
    false
}

/// The next page's URL, resolved against the page that sent the header, its query kept verbatim.
/// `prefix` is the path of `registryUrl` (a proxy route such as `/proxy/ghcr`): a registry behind
/// it writes `/v2/…` paths that only make sense under that prefix. A link to another origin, or to
/// a page already visited, is refused (BAD_REGISTRY_RESPONSE) before anything is sent there.
pub fn next_page(header: Option<&str>, page: &HttpUrl, prefix: &str, visited: &[String]) -> Result<Option<HttpUrl>, Error> {
    let Some(target) = header.and_then(next_target) else { return Ok(None) };
    let bad = |why: &str| Error::new(Code::BadRegistryResponse, format!("the registry's Link header {why}; paging stopped"));
    let target = if !prefix.is_empty() && target.starts_with("/v2/") { [prefix, target].concat() } else { target.to_string() };
    let next = resolve_location(&target, page).map_err(|why| bad(&format!("names an unusable URL ({why})")))?;
    if next.origin() != page.origin() {
        return Err(bad(&format!("points to another origin ({})", crate::text::clip(&next.origin(), 100))));
    }
    let text = next.text();
    if text == page.text() || visited.contains(&text) {
        return Err(bad("points back to a page already read"));
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_in_every_form() {
        for (header, want) in [
            (r#"</v2/x/tags/list?last=b&n=2>; rel="next""#, Some("/v2/x/tags/list?last=b&n=2")),
            (r#"<https://r.example/v2/x/tags/list?n=100&last=z>; rel=next"#, Some("https://r.example/v2/x/tags/list?n=100&last=z")),
            (r#"<a>; rel="prev", <b>; type="x"; REL="Next""#, Some("b")),
            (r#"<a,b>; title="x, y; rel=next"; rel="next last""#, Some("a,b")),
            (r#"<a>; rel="prev""#, None),
            (r#"<a>; rel="nextpage""#, None),
            ("", None),
            ("<unterminated; rel=next", None),
            (r#"<a>; title="\"; rel=next", <c>; rel=next"#, Some("c")),
            // fuzz finds (RFC 8288 against our first reading): `;` inside quotes, the first rel
            // only, quoted-pair in the value.
            (r#"<a>; title="x; rel=next y", <b>; rel=next"#, Some("b")),
            (r#"<a>; rel="prev"; rel="next""#, None),
            (r#"<a>; rel="ne\xt""#, Some("a")),
        ] {
            assert_eq!(next_target(header), want, "{header}");
        }
    }

    #[test]
    fn resolves_and_refuses() {
        let page = HttpUrl::parse("http://127.0.0.1:5000/v2/x/tags/list?n=100").unwrap();
        let next = |h: &str, visited: &[String]| next_page(Some(h), &page, "", visited).map(|n| n.map(|u| u.text()));
        assert_eq!(
            next(r#"</v2/x/tags/list?last=b&n=100>; rel="next""#, &[]).unwrap().as_deref(),
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=b&n=100")
        );
        assert_eq!(
            next(r#"<list?last=%2Fb&n=1>; rel=next"#, &[]).unwrap().as_deref(),
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=%2Fb&n=1")
        );
        assert_eq!(next_page(None, &page, "", &[]).unwrap(), None);
        for bad in [
            r#"<http://127.0.0.1:6000/v2/x/tags/list>; rel=next"#,
            r#"<https://127.0.0.1:5000/v2/x>; rel=next"#,
            r#"<?n=100>; rel=next"#,
            r#"</\\evil>; rel=next"#,
        ] {
            assert_eq!(next(bad, &[]).unwrap_err().code, Code::BadRegistryResponse, "{bad}");
        }
        let seen = vec!["http://127.0.0.1:5000/v2/x/tags/list?last=a".to_string()];
        assert_eq!(next("</v2/x/tags/list?last=a>; rel=next", &seen).unwrap_err().code, Code::BadRegistryResponse);
        // A registry behind a proxy route writes /v2/ paths: they stay under the route.
        let proxied = HttpUrl::parse("http://127.0.0.1:8080/proxy/ghcr/v2/x/tags/list").unwrap();
        let n = next_page(Some("</v2/x/tags/list?last=a>; rel=next"), &proxied, "/proxy/ghcr", &[]).unwrap().unwrap();
        assert_eq!(n.text(), "http://127.0.0.1:8080/proxy/ghcr/v2/x/tags/list?last=a");
    }
}
