//! The tenant-isolation matrix: every object route of the API (read from the
//! OpenAPI document, so a new route cannot escape it), called by every kind
//! of principal of another organisation (admin, viewer, member, an API key
//! with every scope) with the ids of North's objects, answers 404 (or 403
//! for a role that may not make the call at all) and never North's data;
//! every list route, called by them, shows none of North's ids; and North's
//! objects are unchanged afterwards.

mod support;

use leasehold_client::ClientError;
use leasehold_core::values::{ApiScope, BillingStatus, LicenceStatus, Plan, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::collections::BTreeMap;
use support::*;

/// Routes whose objects are not any organisation's: the vendor's catalogue.
const SHARED: [&str; 1] = ["products"];

fn all_scopes() -> Vec<ApiScope> {
    ApiScope::ALL.to_vec()
}

async fn another_organisations_ids_are_never_found(db: TestDatabase) {
    let (w, agent) = with_devices(world(db).await).await;
    // North's objects, one of each kind.
    let north_admin_user = ok(w.north_admin.me().await);
    for i in 0..3 {
        let body = RegisterDevice {
            fingerprint: format!("north-{i}"),
            name: format!("North desk {i}"),
            product_id: w.product,
        };
        ok(agent.register_device(&body, None).await); // the third waits for a seat
    }
    let devices = ok(w.north_admin.list_devices(&DeviceQuery::default()).await).items;
    // A device that holds a seat (the matrix tries to revoke, release and block it).
    let device = devices
        .iter()
        .find(|d| !d.seats.is_empty())
        .cloned()
        .unwrap_or_else(|| panic!("a device holds a seat"));
    let requests = ok(w.north_admin.list_seat_requests(&SeatRequestQuery::default()).await).items;
    let pools = ok(w.north_admin.list_pools(&PoolQuery::default()).await).items;
    let floating = ok(w
        .vendor
        .create_product(&CreateProduct {
            code: "float".into(),
            name: "Viewer Floating".into(),
            seat_kind: SeatKind::Concurrent,
            currency: "EUR".into(),
            prices: [(Plan::Yearly, 9000)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await);
    let owned = ok(w
        .manager
        .create_licence(
            &CreateLicence {
                product_id: floating.id,
                plan: Plan::Yearly,
                name: "North floating".into(),
                note: None,
                quantity: 2,
                owner_organisation_id: Some(w.north),
                owner_user_id: Some(north_admin_user.id),
                auto_renew: false,
            },
            None,
        )
        .await)
    .body;
    let (member, north_member) = w.member("member@north.test").await;
    let session = match ok(north_member
        .create_session(&CreateSession {
            product_id: floating.id,
            user_id: None,
            client_id: "north-laptop".into(),
        })
        .await)
    {
        leasehold_client::Checkout::Granted { grant, .. } => grant.id,
        leasehold_client::Checkout::Queued(_) => panic!("the floating pool has seats"),
    };
    let invoice = ok(w.manager.send_invoices(&[owned.id], None).await).results[0]
        .invoice
        .clone()
        .unwrap_or_else(|| panic!("invoiced"))
        .id;
    let webhook = ok(w
        .north_admin
        .create_webhook(&CreateWebhook {
            organisation_id: None,
            url: "https://hooks.north.test/leasehold".into(),
            description: "North's hook".into(),
            events: vec![],
        })
        .await)
    .id;
    let key = ok(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "north sync".into(),
            organisation_id: None,
            scopes: vec![ApiScope::LicencesRead],
        })
        .await)
    .api_key
    .id;
    let notification = ok(w.north_admin.list_notifications(&NotificationQuery::default()).await).items[0].id;
    let delivery = ok(w
        .vendor
        .list_deliveries(&DeliveryQuery {
            organisation: Some(w.north),
            ..DeliveryQuery::default()
        })
        .await)
    .items[0]
        .id;
    let ids: BTreeMap<&str, String> = [
        ("api-keys", key.to_string()),
        ("deliveries", delivery.to_string()),
        ("devices", device.id.to_string()),
        ("invoices", invoice.to_string()),
        ("licences", owned.id.to_string()),
        ("notifications", notification.to_string()),
        ("organisations", w.north.to_string()),
        ("pools", pools[0].id.to_string()),
        ("reports", pools[0].id.to_string()),
        ("seat-requests", requests[0].id.to_string()),
        ("sessions", session.to_string()),
        ("users", member.id.to_string()),
        ("webhooks", webhook.to_string()),
    ]
    .into_iter()
    .collect();
    let secrets = [
        w.north.to_string(),
        "North Clinic".to_owned(),
        owned.id.to_string(),
        device.id.to_string(),
        session.to_string(),
        webhook.to_string(),
        "hooks.north.test".to_owned(),
        "north.test".to_owned(),
    ];

    // South's principals: every role, and an API key with every scope.
    for (email, role) in [
        ("viewer@south.test", Role::OrgViewer),
        ("member@south.test", Role::Member),
    ] {
        ok(w.vendor
            .create_user(&CreateUser {
                email: email.into(),
                name: String::new(),
                password: PASSWORD.into(),
                role,
                organisation_id: Some(w.south),
            })
            .await);
    }
    let south_key = ok(w
        .south_admin
        .create_api_key(&CreateApiKey {
            name: "south everything".into(),
            organisation_id: None,
            scopes: all_scopes(),
        })
        .await)
    .key;
    let principals = [
        ("south admin", w.south_admin.clone()),
        ("south viewer", w.app.login("viewer@south.test").await),
        ("south member", w.app.login("member@south.test").await),
        ("south API key", w.app.anonymous().with_token(&south_key)),
    ];

    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json"))
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let paths = spec["paths"].as_object().cloned().unwrap_or_default();
    let (mut object_calls, mut list_calls) = (0, 0);
    for (path, item) in &paths {
        let Some(resource) = path.strip_prefix("/v1/").and_then(|p| p.split('/').next()) else {
            continue;
        };
        if SHARED.contains(&resource) {
            continue;
        }
        for method in item
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let http_method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            if path.contains("{id}") {
                let id = ids
                    .get(resource)
                    .unwrap_or_else(|| panic!("{method} {path}: the matrix has no North object for `{resource}`"));
                // Required query parameters, where an operation has them.
                let today = chrono::Utc::now().date_naive();
                let query = if path.starts_with("/v1/reports/pools/") {
                    format!("?from={today}&to={today}")
                } else {
                    String::new()
                };
                let url = format!("{}{query}", path.replace("{id}", id));
                // The same call with an id that names nothing: the answers must
                // not tell North's existing objects from missing ones.
                let nothing = format!("{}{query}", path.replace("{id}", &uuid::Uuid::now_v7().to_string()));
                for (who, client) in &principals {
                    let call = |url: String| {
                        let mut request = client.request(http_method.clone(), &url);
                        if matches!(method.as_str(), "post" | "patch" | "put") {
                            request = request.json(&serde_json::json!({}));
                        }
                        async move {
                            let response = ok(request.send().await.map_err(|e| ClientError::Transport(e.to_string())));
                            let status = response.status().as_u16();
                            let body = response.text().await.unwrap_or_default();
                            let code = serde_json::from_str::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned));
                            (status, code, body)
                        }
                    };
                    let (status, code, body) = call(url.clone()).await;
                    // Not found, not allowed, a body refused before any lookup,
                    // or (heartbeats) "lapsed: check out again", as for any unknown seat.
                    let refused = matches!(status, 403 | 404)
                        || (status == 400 && code.as_deref() == Some("invalid_body"))
                        || (status == 409 && code.as_deref() == Some("session_lapsed"));
                    assert!(refused, "{who} {method} {url}: {status} {body}");
                    for secret in &secrets {
                        assert!(
                            !body.contains(secret.as_str()),
                            "{who} {method} {url} shows {secret}: {body}"
                        );
                    }
                    let (missing_status, missing_code, _) = call(nothing.clone()).await;
                    assert_eq!(
                        (status, code),
                        (missing_status, missing_code),
                        "{who} {method} {path}: North's object answers unlike a missing one"
                    );
                    object_calls += 1;
                }
            } else if method == "get" && !path.contains('{') {
                let url = if path == "/v1/reports/additions" {
                    format!("{path}?month={}", chrono::Utc::now().format("%Y-%m"))
                } else {
                    path.clone()
                };
                for (who, client) in &principals {
                    let response = ok(client
                        .request(reqwest::Method::GET, &url)
                        .send()
                        .await
                        .map_err(|e| ClientError::Transport(e.to_string())));
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    assert!(status < 500, "{who} GET {url}: {status}");
                    for secret in &secrets {
                        assert!(
                            !body.contains(secret.as_str()),
                            "{who} lists {url} and sees {secret}: {body}"
                        );
                    }
                    list_calls += 1;
                }
            }
        }
    }
    println!("isolation matrix: {object_calls} object calls and {list_calls} list calls by 4 principals");
    assert!(
        object_calls >= 4 * 30 && list_calls >= 4 * 15,
        "{object_calls} / {list_calls}"
    );

    // North's objects are as they were.
    let licence = ok(w.north_admin.get_licence(owned.id).await);
    assert_eq!(
        (
            licence.name.as_str(),
            licence.quantity,
            licence.status,
            licence.billing_status
        ),
        ("North floating", 2, LicenceStatus::Active, BillingStatus::Invoiced)
    );
    assert!(ok(w.north_admin.get_device(device.id).await)
        .seats
        .iter()
        .any(|s| s.product_id == w.product));
    ok(w.north_admin.get_session(session).await);
    assert_eq!(
        ok(w.north_admin.get_webhook(webhook).await).url,
        "https://hooks.north.test/leasehold"
    );
    assert_eq!(
        ok(w.north_admin.get_invoice(invoice).await).status,
        leasehold_core::values::InvoiceStatus::Sent
    );
    let keys = ok(w.north_admin.list_api_keys(&ListQuery::default()).await).items;
    assert!(keys.iter().any(|k| k.id == key && k.revoked_at.is_none()));
    assert_eq!(
        ok(w.north_admin.list_seat_requests(&SeatRequestQuery::default()).await).items[0].id,
        requests[0].id
    );
}

on_both_engines!(another_organisations_ids_are_never_found);
