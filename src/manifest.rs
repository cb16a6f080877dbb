//! What the core decides about a manifest (OCI image-spec `manifest.md`, `image-index.md`,
//! `descriptor.md`; Docker's manifest v2 schema 2 and manifest list): its media type, its digest
//! (checked against the bytes), the runnable platforms of an index and which one a caller meant.
//! The parsed JSON itself goes to JavaScript, whose `JSON.parse` is already there; only the few
//! fields a decision needs are read here.

use crate::digest;
use crate::error::{Code, Error};
use crate::json::{self, Raw};

/// Manifests above this are refused: the OCI distribution spec lets registries refuse larger
/// ones (distribution's default limit is 4 MiB), and the bytes must be held to be hashed.
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Without the OCI types Quay serves schema 1 and ACR refuses OCI manifests; without the list
/// types a multi-arch tag answers 404 on some registries.
pub const DEFAULT_ACCEPT: [&str; 4] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// One runnable entry of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

impl Platform {
    /// `os/arch[/variant]`, as `docker --platform` writes it.
    pub fn name(&self) -> String {
        let mut s = [self.os.as_str(), "/", self.architecture.as_str()].concat();
        if let Some(v) = &self.variant {
            s.push('/');
            s.push_str(v);
        }
        s
    }
}

/// A caller's `platform` option: `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Wanted {
    pub fn parse(text: &str) -> Result<Wanted, Error> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Wanted { os: os.to_string(), architecture: arch.to_string(), variant: None }),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => {
                Ok(Wanted { os: os.to_string(), architecture: arch.to_string(), variant: Some(v.to_string()) })
            }
            _ => Err(Error::new(
                Code::InvalidReference,
                format!("platform \"{}\" is not os/arch[/variant], e.g. \"linux/arm64\" or \"linux/arm/v7\"", crate::text::clip(text, 100)),
            )),
        }
    }

    /// containerd's rule: os and architecture equal, and the variant too when one is asked for.
    /// `arm64` is `arm64/v8` (its only variant), so the two match each other either way round.
    pub fn matches(&self, p: &Platform) -> bool {
        if !self.os.eq_ignore_ascii_case(&p.os) || !self.architecture.eq_ignore_ascii_case(&p.architecture) {
            return false;
        }
        let Some(wanted) = self.variant.as_deref() else { return true };
        let arm64_v8 = |v: Option<&str>| v.is_none_or(|v| v.eq_ignore_ascii_case("v8"));
        if self.architecture.eq_ignore_ascii_case("arm64") {
            return (arm64_v8(Some(wanted)) && arm64_v8(p.variant.as_deref()))
                || p.variant.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(wanted));
        }
        p.variant.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(wanted))
    }
}

/// What a manifest's bytes say, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// For an index or list: its runnable entries, in order (attestations and signatures left out).
    pub platforms: Option<Vec<Platform>>,
    /// For an image manifest: its config blob (digest, size, media type).
    pub config: Option<(String, u64, String)>,
}

/// Checks and describes a manifest. `digest`: the reference's digest when it has one (the bytes
/// must hash to it), else `Docker-Content-Digest` (checked the same way), else computed (sha256).
/// `media_type`: `Content-Type` unless missing or generic, then the body's `mediaType`.
pub fn describe(
    body: &[u8],
    content_type: Option<&str>,
    header_digest: Option<&str>,
    reference_digest: Option<&str>,
) -> Result<Described, Error> {
    let other = expected_digest(header_digest, reference_digest).filter(|e| !e.starts_with("sha256:")).map(|e| digest::of(e, body));
    describe_with(body, content_type, header_digest, reference_digest, other.as_deref())
}

/// The digest the bytes must hash to: the reference's, else the announced one.
pub fn expected_digest<'a>(header_digest: Option<&'a str>, reference_digest: Option<&'a str>) -> Option<&'a str> {
    reference_digest.or(header_digest.map(str::trim).filter(|d| !d.is_empty()))
}

/// [`describe`] with a sha384/sha512 digest of the bytes computed elsewhere (WebCrypto, in the
/// shell), as [`digest::verify_with`] takes it.
pub fn describe_with(
    body: &[u8],
    content_type: Option<&str>,
    header_digest: Option<&str>,
    reference_digest: Option<&str>,
    other: Option<&str>,
) -> Result<Described, Error> {
    if body.len() > MAX_MANIFEST {
        return Err(Error::new(Code::BadRegistryResponse, format!("the manifest is larger than {MAX_MANIFEST} bytes")));
    }
    let digest = match expected_digest(header_digest, reference_digest) {
        Some(expected) => {
            digest::verify_with(expected, body, "the manifest", other)?;
            expected.to_string()
        }
        None => digest::sha256(body),
    };
    let root = json::read(body)
        .filter(|r| r.is_object())
        .ok_or_else(|| Error::new(Code::BadRegistryResponse, "the manifest is not a JSON object"))?;
    let [body_type, manifests, config] = root.fields(["mediaType", "manifests", "config"]);
    let media_type = match content_type.map(essence).filter(|t| !is_generic(t)) {
        Some(t) => t.to_string(),
        None => body_type.and_then(Raw::as_string).unwrap_or_default(),
    };
    let index = is_index(&media_type) || (media_type.is_empty() && manifests.is_some());
    let platforms = if index {
        let list = manifests
            .filter(|m| m.is_array())
            .ok_or_else(|| Error::new(Code::BadRegistryResponse, "the index has no \"manifests\" array"))?;
        let mut runnable_entries = Vec::new();
        for entry in list.items() {
            if let Some(p) = runnable(entry) {
                runnable_entries.push(p);
            }
        }
        Some(runnable_entries)
    } else {
        None
    };
    let config = if index { None } else { config.and_then(descriptor) };
    Ok(Described { digest, media_type, size: body.len() as u64, platforms, config })
}

/// `application/json; charset=utf-8` → `application/json`.
fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Types that say nothing about which manifest this is (some registries and proxies send them).
fn is_generic(t: &str) -> bool {
    t.is_empty() || ["application/json", "application/octet-stream", "text/plain"].iter().any(|g| t.eq_ignore_ascii_case(g))
}

/// `(digest, size, mediaType)` of a descriptor with a valid digest.
fn descriptor(d: Raw) -> Option<(String, u64, String)> {
    let [digest_v, size, media_type] = d.fields(["digest", "size", "mediaType"]);
    let digest_s = digest_v.and_then(Raw::as_string).filter(|s| digest::validate(s).is_ok())?;
    let size = size.and_then(Raw::as_number).and_then(json::number_as_u64).unwrap_or(0);
    Some((digest_s, size, media_type.and_then(Raw::as_string).unwrap_or_default()))
}

/// An index entry a runtime could run: not BuildKit's attestation manifests (platform
/// `unknown/unknown`, annotation `vnd.docker.reference.type`), not signatures without a platform.
fn runnable(entry: Raw) -> Option<Platform> {
    let [platform, annotations] = entry.fields(["platform", "annotations"]);
    if annotations.and_then(|a| a.get("vnd.docker.reference.type")).is_some() {
        return None;
    }
    let [os, architecture, variant] = platform?.fields(["os", "architecture", "variant"]);
    let os = os.and_then(Raw::as_string).filter(|s| !s.is_empty() && s != "unknown")?;
    let architecture = architecture.and_then(Raw::as_string).filter(|s| !s.is_empty() && s != "unknown")?;
    let (digest, size, media_type) = descriptor(entry)?;
    Some(Platform { os, architecture, variant: variant.and_then(Raw::as_string).filter(|v| !v.is_empty()), digest, size, media_type })
}

/// The first entry, in index order, that `wanted` matches; else NOT_FOUND naming what there is.
pub fn choose<'a>(platforms: &'a [Platform], wanted: &Wanted) -> Result<&'a Platform, Error> {
    platforms.iter().find(|p| wanted.matches(p)).ok_or_else(|| {
        let mut asked = [wanted.os.as_str(), "/", wanted.architecture.as_str()].concat();
        if let Some(v) = &wanted.variant {
            asked.push('/');
            asked.push_str(v);
        }
        Error::new(Code::NotFound, format!("the index has no entry for {asked}; it has {}", names(platforms)))
    })
}

/// "linux/amd64, linux/arm64/v8" (at most 20 named), for messages.
pub fn names(platforms: &[Platform]) -> String {
    if platforms.is_empty() {
        return "no runnable platforms".to_string();
    }
    // Each name clipped: a hostile index may name platforms of any length.
    let mut list = String::new();
    for p in platforms.iter().take(20) {
        crate::text::push_item(&mut list, ", ", &crate::text::clip(&p.name(), 64));
    }
    if platforms.len() > 20 {
        crate::text::push_item(&mut list, ", ", &format!("and {} more", platforms.len() - 20));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    const D4: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

    fn index() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":10,"platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":11,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D3}","size":12,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D4}","size":13,"platform":{{"os":"unknown","architecture":"unknown"}},
              "annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{D1}"}}}}]}}"#
        )
    }

    #[test]
    fn index_platforms_and_choice() {
        let body = index();
        let d = describe(body.as_bytes(), Some("application/vnd.oci.image.index.v1+json"), None, None).unwrap();
        assert_eq!(d.media_type, OCI_INDEX);
        assert_eq!(d.digest, digest::of("sha256", body.as_bytes()));
        let p = d.platforms.unwrap();
        assert_eq!(p.iter().map(Platform::name).collect::<Vec<_>>(), ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
        let pick = |w: &str| choose(&p, &Wanted::parse(w).unwrap()).map(|x| x.digest.clone());
        assert_eq!(pick("linux/amd64").unwrap(), D1);
        assert_eq!(pick("linux/arm64").unwrap(), D2);
        assert_eq!(pick("linux/arm64/v8").unwrap(), D2);
        assert_eq!(pick("linux/arm/v7").unwrap(), D3);
        let e = pick("windows/amd64").unwrap_err();
        assert_eq!(e.code, Code::NotFound);
        assert!(e.message.contains("linux/amd64, linux/arm64/v8, linux/arm/v7"), "{}", e.message);
        assert_eq!(pick("linux/arm/v6").unwrap_err().code, Code::NotFound);
        // arm64 without a variant in the index matches a request for arm64/v8.
        let plain = [Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: None,
            digest: D2.into(),
            size: 1,
            media_type: String::new(),
        }];
        assert!(choose(&plain, &Wanted::parse("linux/arm64/v8").unwrap()).is_ok());
        for bad in ["linux", "linux/", "a/b/c/d", "linux/arm 64"] {
            assert_eq!(Wanted::parse(bad).unwrap_err().code, Code::InvalidReference, "{bad}");
        }
    }

    #[test]
    fn digests_and_media_types() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"x","digest":"{D1}","size":7}},"layers":[]}}"#
        );
        let own = digest::of("sha256", body.as_bytes());
        let d = describe(body.as_bytes(), Some("application/json; charset=utf-8"), Some(&own), None).unwrap();
        assert_eq!(d.media_type, DOCKER_MANIFEST, "a generic Content-Type gives way to the body's");
        assert_eq!(d.config, Some((D1.to_string(), 7, "x".to_string())));
        assert_eq!(d.size, body.len() as u64);
        assert_eq!(describe(body.as_bytes(), Some(OCI_MANIFEST), None, None).unwrap().media_type, OCI_MANIFEST);
        assert_eq!(describe(body.as_bytes(), None, Some(D2), None).unwrap_err().code, Code::DigestMismatch);
        assert_eq!(describe(body.as_bytes(), None, Some(D2), Some(&own)).unwrap().digest, own, "the reference's digest decides");
        assert_eq!(describe(body.as_bytes(), None, None, Some(D2)).unwrap_err().code, Code::DigestMismatch);
        let sha512 = digest::of("sha512", body.as_bytes());
        assert_eq!(describe(body.as_bytes(), None, None, Some(&sha512)).unwrap().digest, sha512);
        assert_eq!(describe(b"[]", None, None, None).unwrap_err().code, Code::BadRegistryResponse);
        assert_eq!(
            describe(br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#, None, None, None).unwrap_err().code,
            Code::BadRegistryResponse
        );
        let big = vec![b' '; MAX_MANIFEST + 1];
        assert_eq!(describe(&big, None, None, None).unwrap_err().code, Code::BadRegistryResponse);
    }
}
