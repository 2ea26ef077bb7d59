//! The checked-in spec is the generated one, and every route of the public
//! contract is in it.

use leasehold_api::openapi::{spec, spec_json};

#[test]
fn checked_in_spec_matches_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let generated = spec_json().unwrap_or_else(|e| panic!("{e}"));
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if std::env::var("LEASEHOLD_UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    assert!(
        checked_in == generated,
        "openapi/openapi.json is out of date: run `LEASEHOLD_UPDATE_OPENAPI=1 cargo test -p leasehold-api --test openapi` (or `leasehold openapi > openapi/openapi.json`)"
    );
}

#[test]
fn every_contract_route_is_documented() {
    let api = spec();
    let documented: Vec<(String, String)> = api
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let mut methods = Vec::new();
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("patch", &item.patch),
                ("delete", &item.delete),
                ("put", &item.put),
            ] {
                if op.is_some() {
                    methods.push((method.to_owned(), path.clone()));
                }
            }
            methods
        })
        .collect();
    for (method, path) in [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("post", "/v1/auth/login"),
        ("post", "/v1/auth/refresh"),
        ("post", "/v1/auth/logout"),
        ("get", "/v1/me"),
        ("get", "/v1/organisations"),
        ("post", "/v1/organisations"),
        ("get", "/v1/users"),
        ("post", "/v1/users"),
        ("get", "/v1/api-keys"),
        ("post", "/v1/api-keys"),
        ("get", "/v1/products"),
        ("post", "/v1/products"),
        ("get", "/v1/licences"),
        ("post", "/v1/licences"),
        ("get", "/v1/licences/{id}"),
        ("patch", "/v1/licences/{id}"),
        ("delete", "/v1/licences/{id}"),
        ("post", "/v1/licences/{id}/pause"),
        ("post", "/v1/licences/{id}/resume"),
        ("post", "/v1/coupons/redeem"),
        ("get", "/v1/audit"),
        ("get", "/v1/pools"),
        ("get", "/v1/pools/{id}"),
        ("patch", "/v1/pools/{id}"),
        ("post", "/v1/devices/register"),
        ("post", "/v1/devices/{id}/heartbeat"),
        ("get", "/v1/devices"),
        ("post", "/v1/devices/{id}/revoke"),
        ("post", "/v1/devices/{id}/block"),
        ("post", "/v1/devices/{id}/unblock"),
        ("post", "/v1/seat-requests/{id}/approve"),
        ("post", "/v1/seat-requests/{id}/reject"),
        ("get", "/.well-known/jwks.json"),
        ("post", "/v1/seats/validate"),
        ("post", "/v1/sessions"),
        ("get", "/v1/sessions"),
        ("post", "/v1/sessions/{id}/heartbeat"),
        ("delete", "/v1/sessions/{id}"),
    ] {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is missing from the spec"
        );
    }
    for (_, path) in &documented {
        let item = &api.paths.paths[path];
        for op in [&item.get, &item.post, &item.patch, &item.delete].into_iter().flatten() {
            // Whatever needs a credential can fail with a problem, and says so.
            if op.security.is_some() {
                assert!(op.responses.responses.len() >= 2, "{path} documents its errors");
            }
        }
    }
}
