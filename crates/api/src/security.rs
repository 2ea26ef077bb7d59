//! Security headers: a Content-Security-Policy per kind of response (the
//! console, the API docs, the API itself), beside `nosniff`, frame denial and
//! no referrer, which every response carries.
//!
//! The console's policy allows exactly what Trunk's page runs: its own
//! scripts and the WebAssembly they instantiate (`'wasm-unsafe-eval'`, not
//! `'unsafe-eval'`), and the one inline bootstrap script by its SHA-256, read
//! from the built `index.html` at start-up (a rebuilt console gets a new hash
//! when the server restarts). Styles may be inline: Leptos writes `style`
//! attributes (chart bars, progress widths).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// JSON and problem responses: nothing may load, nothing may frame them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Swagger UI at `/docs`: its own scripts, inline styles, data: images.
pub const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// The console's policy for a built `index.html`: its inline scripts allowed by hash.
pub fn console_policy(index_html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(index_html)
        .map(|body| format!("'sha256-{}'", BASE64.encode(Sha256::digest(body.as_bytes()))))
        .collect();
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in &hashes {
        script_src.push(' ');
        script_src.push_str(hash);
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of the `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find("<script")?;
        let after = &rest[start..];
        let tag_end = after.find('>')?;
        let tag = &after[..tag_end];
        let body_start = tag_end + 1;
        let close = after[body_start..].find("</script>")?;
        let body = &after[body_start..body_start + close];
        rest = &after[body_start + close..];
        if !tag.contains("src=") && !body.trim().is_empty() {
            return Some(body);
        }
    })
}

/// Which policy a request's response gets.
pub fn policy_for<'a>(path: &str, console: &'a str) -> &'a str {
    if path == "/docs" || path.starts_with("/docs/") {
        DOCS_POLICY
    } else if path == "/v1"
        || path.starts_with("/v1/")
        || path.starts_with("/.well-known/")
        || matches!(path, "/healthz" | "/readyz")
    {
        API_POLICY
    } else {
        console
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_bootstrap_is_allowed_by_its_hash_and_external_scripts_by_origin() {
        let html = "<html><head><script type=module>import init from '/app.js';\nawait init();</script>\
                    <script src=/other.js></script><script></script></head></html>";
        let bodies: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(bodies, ["import init from '/app.js';\nawait init();"]);
        let policy = console_policy(html);
        let expected = BASE64.encode(Sha256::digest(bodies[0].as_bytes()));
        assert!(policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains(" 'unsafe-eval'") && !policy.contains("script-src 'self' 'unsafe-inline'"));
    }

    #[test]
    fn each_kind_of_response_gets_its_policy() {
        assert_eq!(policy_for("/v1/licences", "console"), API_POLICY);
        assert_eq!(policy_for("/healthz", "console"), API_POLICY);
        assert_eq!(policy_for("/readyz", "console"), API_POLICY);
        assert_eq!(policy_for("/docs/", "console"), DOCS_POLICY);
        assert_eq!(policy_for("/docs", "console"), DOCS_POLICY);
        assert_eq!(policy_for("/", "console"), "console");
        assert_eq!(policy_for("/licences/new", "console"), "console");
        assert_eq!(policy_for("/app-123.js", "console"), "console");
        assert_eq!(policy_for("/.well-known/jwks.json", "console"), API_POLICY);
    }
}
