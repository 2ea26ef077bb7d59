//! The API over real HTTP: the app runs on an ephemeral port against a fresh
//! database (SQLite, and PostgreSQL too) and is driven through the typed client.

mod support;

use leasehold_client::{Client, ClientError};
use leasehold_core::audit::ChainBreak;
use leasehold_core::ids::{LicenceId, OrganisationId};
use leasehold_core::values::{ApiScope, BillingStatus, CouponCode, LicenceStatus, Plan, Role};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

fn new_licence(w: &World, name: &str, owner: Option<OrganisationId>) -> CreateLicence {
    CreateLicence {
        product_id: w.product,
        plan: Plan::Monthly,
        name: name.into(),
        note: Some("from a test".into()),
        quantity: 4,
        owner_organisation_id: owner,
        owner_user_id: None,
        auto_renew: false,
    }
}

async fn create(w: &World, client: &Client, name: &str, owner: Option<OrganisationId>) -> LicenceView {
    let response = ok(client.create_licence(&new_licence(w, name, owner), None).await);
    assert_eq!(response.status, 201);
    response.body
}

async fn audit_actions(client: &Client, licence: LicenceId) -> Vec<String> {
    let page = ok(client
        .list_audit(&AuditQuery {
            licence: Some(licence),
            ..AuditQuery::default()
        })
        .await);
    let mut actions: Vec<String> = page.items.into_iter().map(|e| e.action).collect();
    actions.reverse();
    actions
}

// ---------------------------------------------------------------- the suite

async fn sign_in_refresh_and_sign_out(db: TestDatabase) {
    let app = TestApp::spawn(db, |_| {}).await;
    let wrong = err(app.anonymous().login("root@vendor.test", "not the password").await);
    assert_eq!((wrong.status(), wrong.code()), (Some(401), "unauthorized"));
    let unknown = err(app.anonymous().login("nobody@vendor.test", PASSWORD).await);
    assert_eq!(
        unknown.problem().map(|p| &p.detail),
        wrong.problem().map(|p| &p.detail),
        "no account enumeration"
    );

    let tokens = ok(app.anonymous().login("ROOT@vendor.test", PASSWORD).await);
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in), ("Bearer", 900));
    assert_eq!(tokens.access_token.split('.').count(), 3, "a JWT");
    let client = app.anonymous().with_token(&tokens.access_token);
    let me = ok(client.me().await);
    assert_eq!((me.email.as_str(), me.role), ("root@vendor.test", Role::VendorAdmin));

    let rotated = ok(app.anonymous().refresh(&tokens.refresh_token).await);
    assert_ne!(rotated.refresh_token, tokens.refresh_token);
    let fresh = app.anonymous().with_token(&rotated.access_token);
    ok(fresh.me().await);
    // The first refresh token presented again: theft is assumed, the session ends.
    assert_eq!(
        err(app.anonymous().refresh(&tokens.refresh_token).await).status(),
        Some(401)
    );
    assert_eq!(err(fresh.me().await).status(), Some(401));
    assert_eq!(
        err(app.anonymous().refresh(&rotated.refresh_token).await).status(),
        Some(401)
    );

    let again = ok(app.anonymous().login("root@vendor.test", PASSWORD).await);
    let client = app.anonymous().with_token(&again.access_token);
    ok(client.logout(Some(&again.refresh_token)).await);
    assert_eq!(
        err(client.me().await).code(),
        "unauthorized",
        "logout revokes the access token"
    );
    assert_eq!(
        err(app.anonymous().refresh(&again.refresh_token).await).status(),
        Some(401)
    );
    assert_eq!(err(app.anonymous().me().await).status(), Some(401));
    assert_eq!(
        err(app.anonymous().with_token("lh_not-a-key").me().await).status(),
        Some(401)
    );
}

async fn sign_in_is_rate_limited(db: TestDatabase) {
    let app = TestApp::spawn(db, |s| s.login_per_minute = 3).await;
    for _ in 0..3 {
        let _ = app.anonymous().login("root@vendor.test", "wrong password!").await;
    }
    let response = ok(app
        .anonymous()
        .request(reqwest::Method::POST, "/v1/auth/login")
        .json(&LoginRequest {
            email: "root@vendor.test".into(),
            password: PASSWORD.into(),
        })
        .send()
        .await
        .map_err(|e| ClientError::Transport(e.to_string())));
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry_after >= 1, "Retry-After says when to come back");
    assert_eq!(rate_headers(response.headers()), (Some(3), Some(0), Some(retry_after)));
    let problem: Problem = ok(response.json().await.map_err(|e| ClientError::Decode(e.to_string())));
    assert_eq!(problem.code, "rate_limited");
}

/// Repeated failed sign-ins lock the address tried for a while, even for the
/// right password, and unknown addresses lock the same way (a lock says
/// nothing about which accounts exist); a successful sign-in forgets earlier
/// failures.
async fn repeated_failures_lock_sign_in_for_the_address(db: TestDatabase) {
    let w = world_with(db, |s| s.lockout_failures = 3).await;
    let attempt = |email: &'static str, password: &'static str| {
        let client = w.app.anonymous();
        async move {
            let response = client
                .request(reqwest::Method::POST, "/v1/auth/login")
                .json(&LoginRequest {
                    email: email.into(),
                    password: password.into(),
                })
                .send()
                .await
                .map_err(|e| ClientError::Transport(e.to_string()));
            let response = ok(response);
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let status = response.status().as_u16();
            let code = response
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_default();
            (status, code, retry)
        }
    };
    // Two failures, a success, two more: the success forgot the first two.
    for _ in 0..2 {
        assert_eq!(attempt("admin@north.test", "not the password").await.0, 401);
    }
    assert_eq!(attempt("admin@north.test", PASSWORD).await.0, 200);
    for _ in 0..2 {
        assert_eq!(attempt("admin@north.test", "not the password").await.0, 401);
    }
    // The third failure in a row locks the address, for about the window.
    let (status, code, retry) = attempt("admin@north.test", "not the password").await;
    assert_eq!((status, code.as_str()), (429, "account_locked"));
    assert!(retry.is_some_and(|r| (800..=900).contains(&r)), "{retry:?}");
    let (status, code, _) = attempt("admin@north.test", PASSWORD).await;
    assert_eq!(
        (status, code.as_str()),
        (429, "account_locked"),
        "even the right password waits"
    );
    // Others sign in; an unknown address locks exactly like a known one.
    assert_eq!(attempt("admin@south.test", PASSWORD).await.0, 200);
    let unknown: Vec<_> = [
        attempt("nobody@north.test", "guess one!").await,
        attempt("nobody@north.test", "guess two!").await,
        attempt("nobody@north.test", "guess three").await,
    ]
    .into_iter()
    .map(|(status, code, _)| (status, code))
    .collect();
    assert_eq!(
        unknown,
        [
            (401, "unauthorized".to_owned()),
            (401, "unauthorized".to_owned()),
            (429, "account_locked".to_owned())
        ]
    );
    // Existing sessions are not touched by a lock.
    ok(w.north_admin.me().await);
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`.
fn rate_headers(headers: &reqwest::header::HeaderMap) -> (Option<u64>, Option<u64>, Option<u64>) {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    (
        number("ratelimit-limit"),
        number("ratelimit-remaining"),
        number("ratelimit-reset"),
    )
}

/// Each API key has its own allowance per minute, told on every response
/// (`RateLimit-*`); past it, 429 `rate_limited` with `Retry-After`, while
/// another key and signed-in users carry on.
async fn api_keys_are_rate_limited_each_on_its_own(db: TestDatabase) {
    let w = world_with(db, |s| s.api_key_per_minute = 3).await;
    let key = |name: &'static str| {
        let admin = w.north_admin.clone();
        async move {
            let body = CreateApiKey {
                name: name.into(),
                organisation_id: None,
                scopes: vec![ApiScope::LicencesRead],
            };
            ok(admin.create_api_key(&body).await).key
        }
    };
    let (busy, quiet) = (key("busy").await, key("quiet").await);
    let http = reqwest::Client::new();
    let get = |token: &str| {
        http.get(format!("{}/v1/licences", w.app.base))
            .bearer_auth(token)
            .send()
    };
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = ok(get(&busy).await.map_err(|e| ClientError::Transport(e.to_string())));
        assert_eq!(response.status().as_u16(), 200);
        let (limit, left, reset) = rate_headers(response.headers());
        assert_eq!(limit, Some(3));
        assert!(reset.is_some_and(|r| r <= 60));
        remaining.push(left);
    }
    assert_eq!(remaining, [Some(2), Some(1), Some(0)]);
    let refused = ok(get(&busy).await.map_err(|e| ClientError::Transport(e.to_string())));
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(rate_headers(refused.headers()).1, Some(0));
    let problem: Problem = ok(refused.json().await.map_err(|e| ClientError::Decode(e.to_string())));
    assert_eq!(problem.code, "rate_limited");
    let other = ok(get(&quiet).await.map_err(|e| ClientError::Transport(e.to_string())));
    assert_eq!(other.status().as_u16(), 200);
    ok(w.north_admin.list_licences(&LicenceQuery::default()).await);
}

/// What every client relies on: the spec served is the checked-in one, the
/// docs page loads, every answer carries a request id, errors are problem+json.
async fn the_http_surface_serves_docs_ids_and_problems(db: TestDatabase) {
    let app = TestApp::spawn(db, |_| {}).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", app.base)).send();
    let spec = ok(get("/v1/openapi.json")
        .await
        .map_err(|e| ClientError::Transport(e.to_string())));
    assert_eq!(spec.status().as_u16(), 200);
    let served: serde_json::Value = ok(spec.json().await.map_err(|e| ClientError::Decode(e.to_string())));
    let checked_in: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json"))
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    assert!(served == checked_in, "/v1/openapi.json is openapi/openapi.json");
    let docs = ok(get("/docs/").await.map_err(|e| ClientError::Transport(e.to_string())));
    assert_eq!(docs.status().as_u16(), 200);
    let page = docs.text().await.unwrap_or_default();
    assert!(page.contains("swagger"), "the docs page is Swagger UI");

    let health = ok(get("/healthz").await.map_err(|e| ClientError::Transport(e.to_string())));
    let id = health
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty(), "every answer names its request");
    let missing = ok(get("/v1/licences/not-a-licence")
        .await
        .map_err(|e| ClientError::Transport(e.to_string())));
    let other_id = missing.headers().get("x-request-id").and_then(|v| v.to_str().ok());
    assert!(other_id.is_some_and(|other| other != id), "each request has its own id");
    assert_eq!(
        missing.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: Problem = ok(missing.json().await.map_err(|e| ClientError::Decode(e.to_string())));
    assert_eq!((problem.status, problem.code.as_str()), (401, "unauthorized"));
}

async fn coupon_redemption_is_rate_limited(db: TestDatabase) {
    let w = world_with(db, |s| s.redeem_per_minute = 3).await;
    let spare = create(&w, &w.manager, "Spare", None).await;
    for guess in ["ZZZZZZZZ", "YYYYYYYY", "XXXXXXXX"] {
        assert_eq!(
            err(w.north_admin.redeem_coupon(guess, None).await).code(),
            "coupon_not_redeemable"
        );
    }
    let limited = err(w.north_admin.redeem_coupon(&spare.coupon_code, None).await);
    assert_eq!(
        (limited.status(), limited.code()),
        (Some(429), "rate_limited"),
        "guessing stops even at the right code"
    );
    assert!(
        ok(w.manager.get_licence(spare.id).await).redeemed_at.is_none(),
        "a limited attempt changes nothing"
    );
}

async fn expiry_filters_follow_the_configured_window(db: TestDatabase) {
    let w = world_with(db, |s| s.expiring_soon_days = 60).await;
    let now = chrono::Utc::now();
    ending(&w, "in 45 days", now + chrono::Duration::days(45)).await;
    ending(&w, "in 90 days", now + chrono::Duration::days(90)).await;
    let lapsing = create(&w, &w.manager, "lapsing", Some(w.north)).await;
    let just_after_start = lapsing.activated_at.map(|at| at + chrono::Duration::milliseconds(20));
    ending(&w, "lapsing", just_after_start.unwrap_or(now)).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let names = |page: Page<LicenceView>| page.items.into_iter().map(|l| l.name).collect::<Vec<_>>();
    let listed = |expiring: &str| LicenceQuery {
        expiring: Some(expiring.into()),
        ..Default::default()
    };
    assert_eq!(
        names(ok(w.north_viewer.list_licences(&listed("soon")).await)),
        ["in 45 days"],
        "a 60-day window, not the default 30"
    );
    assert_eq!(
        names(ok(w.north_viewer.list_licences(&listed("expired")).await)),
        ["lapsing"]
    );
    let lapsed = ok(w.manager.get_licence(lapsing.id).await);
    assert_eq!(lapsed.status, LicenceStatus::Expired, "its end date passed");
}

/// Sets the end date of the north licence called `name`, creating it first when missing.
async fn ending(w: &World, name: &str, ends: chrono::DateTime<chrono::Utc>) -> LicenceView {
    let existing = ok(w
        .manager
        .list_licences(&LicenceQuery {
            q: Some(name.into()),
            ..Default::default()
        })
        .await)
    .items
    .into_iter()
    .find(|l| l.name == name);
    let licence = match existing {
        Some(l) => l,
        None => create(w, &w.manager, name, Some(w.north)).await,
    };
    ok(w.manager
        .update_licence(
            licence.id,
            &UpdateLicence {
                ends_at: Some(ends),
                ..Default::default()
            },
        )
        .await)
}

async fn licences_carry_coupons_amounts_and_both_statuses(db: TestDatabase) {
    let w = world(db).await;
    let licence = create(&w, &w.manager, "Radiology seats", Some(w.north)).await;
    assert_eq!(
        (licence.status, licence.billing_status),
        (LicenceStatus::Active, BillingStatus::Uninvoiced)
    );
    assert_eq!(
        (licence.unit_price, licence.amount, licence.currency.as_str()),
        (1500, 6000, "EUR")
    );
    assert!(licence.activated_at.is_some() && licence.ends_at > licence.activated_at);
    assert_eq!(licence.owner_organisation_name.as_deref(), Some("North Clinic"));
    let code = CouponCode::parse(&licence.coupon_code).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code.as_str(), licence.coupon_code);

    let spare = create(&w, &w.manager, "Spare seats", None).await;
    assert_eq!(
        (spare.status, spare.activated_at, spare.ends_at),
        (LicenceStatus::Unassigned, None, None)
    );
    let mut codes = std::collections::HashSet::new();
    for i in 0..20 {
        let l = create(&w, &w.vendor, &format!("batch {i}"), None).await;
        assert!(
            l.coupon_code.bytes().all(|b| CouponCode::ALPHABET.contains(&b)),
            "{}",
            l.coupon_code
        );
        codes.insert(l.coupon_code);
    }
    assert_eq!(codes.len(), 20, "every coupon is unique");

    let invalid = err(w
        .manager
        .create_licence(
            &CreateLicence {
                quantity: 0,
                name: " ".into(),
                ..new_licence(&w, "x", Some(w.south))
            },
            None,
        )
        .await);
    assert_eq!((invalid.status(), invalid.code()), (Some(422), "validation_failed"));
    let fields: Vec<&str> = invalid
        .problem()
        .map(|p| p.fields.iter().map(|f| f.field.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["name", "quantity", "owner_organisation_id"],
        "south is not the manager's customer"
    );
}

async fn the_audit_chain_verifies_and_exposes_tampering(db: TestDatabase) {
    let w = world(db).await;
    let licence = create(&w, &w.manager, "Chained", Some(w.north)).await;
    ok(w.manager.pause_licence(licence.id).await);
    create(&w, &w.vendor, "Southern", Some(w.south)).await;

    let north = ok(w.north_admin.verify_audit().await);
    assert!(north.verified, "{north:?}");
    assert_eq!(
        north.chains.len(),
        1,
        "an organisation verifies its own chain: {north:?}"
    );
    let chain = &north.chains[0];
    assert_eq!(chain.organisation_id, Some(w.north));
    assert!(chain.verified_entries >= 3, "created, capacity, paused: {chain:?}");
    assert_eq!((chain.pending_entries, chain.problem.as_ref()), (0, None));
    assert_eq!(chain.head_hash.as_deref().map(str::len), Some(64));
    let everything = ok(w.vendor.verify_audit().await);
    assert!(
        everything.verified && everything.chains.len() >= 3,
        "north, south and vendor-wide: {everything:?}"
    );
    let viewer = ok(w.north_viewer.verify_audit().await);
    assert_eq!(viewer.chains, north.chains, "a viewer may check the log too");

    // Someone with database access rewrites north's pause as a resume.
    let db = &w.app.db;
    let forged = db
        .execute(&format!(
            "UPDATE audit_log SET action = 'licence.resumed' WHERE action = 'licence.paused' AND chain_id = {}",
            db.uuid_literal(w.north.as_uuid())
        ))
        .await;
    assert_eq!(forged, 1);
    let north = ok(w.north_admin.verify_audit().await);
    assert!(!north.verified);
    let problem = north.chains[0].problem.clone();
    assert!(matches!(problem, Some(ChainBreak::Edited { .. })), "{problem:?}");
    assert!(north.chains[0].detail.as_deref().is_some_and(|d| d.contains("edited")));
    let south = ok(w.south_admin.verify_audit().await);
    assert!(south.verified, "south's chain is untouched: {south:?}");
}

async fn pause_resume_and_every_change_is_audited(db: TestDatabase) {
    let w = world(db).await;
    let licence = create(&w, &w.manager, "Night shift", Some(w.north)).await;
    let paused = ok(w.manager.pause_licence(licence.id).await);
    assert_eq!(paused.status, LicenceStatus::Paused);
    assert_eq!(
        err(w.manager.pause_licence(licence.id).await).code(),
        "invalid_transition"
    );
    let resumed = ok(w.manager.resume_licence(licence.id).await);
    assert_eq!(resumed.status, LicenceStatus::Active);
    let renamed = ok(w
        .manager
        .update_licence(
            licence.id,
            &UpdateLicence {
                name: Some("Night shift B".into()),
                ..Default::default()
            },
        )
        .await);
    assert_eq!(renamed.name, "Night shift B");
    assert_eq!(
        audit_actions(&w.manager, licence.id).await,
        [
            "licence.created",
            "licence.paused",
            "licence.resumed",
            "licence.updated"
        ]
    );

    let entries = ok(w
        .north_admin
        .list_audit(&AuditQuery {
            licence: Some(licence.id),
            ..AuditQuery::default()
        })
        .await);
    assert_eq!(entries.total, 4, "the customer sees its licence's history");
    let pause = entries
        .items
        .iter()
        .find(|e| e.action == "licence.paused")
        .unwrap_or_else(|| panic!("no pause entry"));
    let manager_id = ok(w.manager.me().await).id;
    assert_eq!(pause.actor_id, Some(manager_id.as_uuid()));
    assert_eq!(pause.before.as_ref().and_then(|b| b["status"].as_str()), Some("active"));
    assert_eq!(pause.after.as_ref().and_then(|a| a["status"].as_str()), Some("paused"));
    assert!(pause.request_id.is_some(), "entries name their request");
    let by_actor = ok(w
        .vendor
        .list_audit(&AuditQuery {
            actor: Some(manager_id.as_uuid()),
            product: Some(w.product),
            ..AuditQuery::default()
        })
        .await);
    let kinds: Vec<&str> = by_actor.items.iter().map(|e| e.object_kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "licence").count(), 4);
    assert_eq!(
        kinds.iter().filter(|k| **k == "pool").count(),
        3,
        "capacity followed create, pause and resume"
    );
    assert_eq!(
        err(w.north_viewer.pause_licence(licence.id).await).status(),
        Some(403),
        "viewers only read"
    );
}

async fn coupons_redeem_once_and_redeemed_licences_cannot_be_deleted(db: TestDatabase) {
    let w = world(db).await;
    let spare = create(&w, &w.manager, "Hand-over", None).await;
    assert_eq!(
        err(w.north_admin.get_licence(spare.id).await).status(),
        Some(404),
        "not theirs until redeemed"
    );
    let typed = spare.coupon_code.to_lowercase();
    let redeemed = ok(w
        .north_admin
        .redeem_coupon(&format!("{}-{}", &typed[..4], &typed[4..]), Some("redeem-1"))
        .await);
    assert_eq!(
        (redeemed.id, redeemed.status, redeemed.owner_organisation_id),
        (spare.id, LicenceStatus::Active, Some(w.north))
    );
    assert!(redeemed.redeemed_at.is_some() && redeemed.ends_at.is_some());
    let replay = ok(w.north_admin.redeem_coupon(&spare.coupon_code, Some("redeem-1")).await);
    assert_eq!(replay.id, spare.id, "a retried redemption replays");
    let twice = err(w.north_admin.redeem_coupon(&spare.coupon_code, None).await);
    assert_eq!((twice.status(), twice.code()), (Some(422), "coupon_not_redeemable"));
    let other = err(w.south_admin.redeem_coupon(&spare.coupon_code, None).await);
    assert_eq!(other.code(), "coupon_not_redeemable");
    let unknown = err(w.south_admin.redeem_coupon("ZZZZZZZZ", None).await);
    assert_eq!(unknown.code(), "coupon_not_redeemable");
    let malformed = err(w.south_admin.redeem_coupon("O0I1O0I1", None).await);
    assert_eq!(
        malformed.problem().map(|p| p.fields[0].code.as_str()),
        Some("invalid_character")
    );
    assert_eq!(
        err(w.manager.redeem_coupon(&spare.coupon_code, None).await).status(),
        Some(403)
    );

    let in_use = err(w.manager.delete_licence(spare.id).await);
    assert_eq!((in_use.status(), in_use.code()), (Some(409), "licence_in_use"));
    assert!(
        in_use
            .problem()
            .and_then(|p| p.detail.clone())
            .unwrap_or_default()
            .contains("redeemed"),
        "it says why"
    );
    let unused = create(&w, &w.manager, "Mistake", Some(w.north)).await;
    ok(w.manager.delete_licence(unused.id).await);
    assert_eq!(err(w.manager.get_licence(unused.id).await).status(), Some(404));
    assert_eq!(
        audit_actions(&w.vendor, unused.id).await,
        ["licence.created", "licence.deleted"]
    );
    assert_eq!(
        audit_actions(&w.vendor, spare.id).await,
        ["licence.created", "coupon.redeemed"]
    );
}

async fn organisations_never_see_each_other(db: TestDatabase) {
    let w = world(db).await;
    let north_licence = create(&w, &w.manager, "North seats", Some(w.north)).await;
    let south_licence = create(&w, &w.vendor, "South seats", Some(w.south)).await;
    // Customers: their own organisation only, and another's objects do not exist.
    for (client, own, foreign, foreign_org) in [
        (&w.north_admin, &north_licence, &south_licence, w.south),
        (&w.south_admin, &south_licence, &north_licence, w.north),
    ] {
        let listed = ok(client.list_licences(&LicenceQuery::default()).await);
        assert_eq!(listed.items.iter().map(|l| l.id).collect::<Vec<_>>(), [own.id]);
        let narrowed = ok(client
            .list_licences(&LicenceQuery {
                organisation: Some(foreign_org),
                ..LicenceQuery::default()
            })
            .await);
        assert_eq!(narrowed.total, 0);
        assert_eq!(err(client.get_licence(foreign.id).await).status(), Some(404));
        assert_eq!(err(client.get_organisation(foreign_org).await).status(), Some(404));
        assert_eq!(
            err(client
                .update_licence(
                    foreign.id,
                    &UpdateLicence {
                        name: Some("x".into()),
                        ..Default::default()
                    }
                )
                .await)
            .status(),
            Some(404)
        );
        assert_eq!(err(client.pause_licence(foreign.id).await).status(), Some(404));
        assert_eq!(err(client.delete_licence(foreign.id).await).status(), Some(404));
        let orgs = ok(client.list_organisations(&ListQuery::default()).await);
        assert_eq!(orgs.total, 1);
        let users = ok(client.list_users(&ListQuery::default()).await);
        assert!(users.items.iter().all(|u| u.organisation_id != Some(foreign_org)));
        let audit = ok(client
            .list_audit(&AuditQuery {
                licence: Some(foreign.id),
                ..AuditQuery::default()
            })
            .await);
        assert_eq!(audit.total, 0);
    }
    // The account manager: the customers assigned to them, nobody else's.
    let listed = ok(w.manager.list_licences(&LicenceQuery::default()).await);
    assert!(listed.items.iter().all(|l| l.owner_organisation_id == Some(w.north)));
    assert_eq!(err(w.manager.get_licence(south_licence.id).await).status(), Some(404));
    assert_eq!(err(w.manager.pause_licence(south_licence.id).await).status(), Some(404));
    assert_eq!(err(w.manager.get_organisation(w.south).await).status(), Some(404));
    assert_eq!(ok(w.manager.list_organisations(&ListQuery::default()).await).total, 1);
    let south_user = ok(w
        .vendor
        .list_users(&ListQuery {
            organisation: Some(w.south),
            ..ListQuery::default()
        })
        .await)
    .items[0]
        .id;
    assert_eq!(err(w.manager.get_user(south_user).await).status(), Some(404));
    // The vendor sees everyone.
    assert_eq!(ok(w.vendor.list_licences(&LicenceQuery::default()).await).total, 2);
}

async fn creation_honours_idempotency_keys(db: TestDatabase) {
    let w = world(db).await;
    let body = new_licence(&w, "Once only", Some(w.north));
    let first = ok(w.manager.create_licence(&body, Some("create-1")).await);
    let second = ok(w.manager.create_licence(&body, Some("create-1")).await);
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body.id, second.body.id);
    assert_eq!(
        ok(w.manager
            .list_licences(&LicenceQuery {
                q: Some("once only".into()),
                ..Default::default()
            })
            .await)
        .total,
        1
    );
    let changed = err(w
        .manager
        .create_licence(
            &CreateLicence {
                quantity: 9,
                ..body.clone()
            },
            Some("create-1"),
        )
        .await);
    assert_eq!(
        (changed.status(), changed.code()),
        (Some(422), "idempotency_key_reused")
    );
    // Keys are private to their caller.
    let vendor_copy = ok(w.vendor.create_licence(&body, Some("create-1")).await);
    assert_ne!(vendor_copy.body.id, first.body.id);
}

async fn lists_filter_search_sort_and_paginate(db: TestDatabase) {
    let w = world(db).await;
    // Yearly: a monthly licence ends within the 30-day window from the start.
    for name in ["alpha", "bravo", "charlie"] {
        ok(w.manager
            .create_licence(
                &CreateLicence {
                    plan: Plan::Yearly,
                    ..new_licence(&w, name, Some(w.north))
                },
                None,
            )
            .await);
    }
    let soon = create(&w, &w.manager, "delta", Some(w.north)).await;
    let in_ten_days = chrono::Utc::now() + chrono::Duration::days(10);
    ok(w.manager
        .update_licence(
            soon.id,
            &UpdateLicence {
                ends_at: Some(in_ten_days),
                ..Default::default()
            },
        )
        .await);
    let page = ok(w
        .north_viewer
        .list_licences(&LicenceQuery {
            sort: Some("name".into()),
            per_page: Some(3),
            page: Some(2),
            ..Default::default()
        })
        .await);
    assert_eq!((page.total, page.page, page.per_page), (4, 2, 3));
    assert_eq!(
        page.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["delta"]
    );
    let found = ok(w
        .north_viewer
        .list_licences(&LicenceQuery {
            q: Some("CHAR".into()),
            ..Default::default()
        })
        .await);
    assert_eq!(
        found.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["charlie"]
    );
    let expiring = ok(w
        .north_viewer
        .list_licences(&LicenceQuery {
            expiring: Some("soon".into()),
            ..Default::default()
        })
        .await);
    assert_eq!(
        expiring.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["delta"]
    );
    let bad = err(w
        .north_viewer
        .list_licences(&LicenceQuery {
            expiring: Some("later".into()),
            sort: Some("colour".into()),
            ..Default::default()
        })
        .await);
    let fields: Vec<&str> = bad
        .problem()
        .map(|p| p.fields.iter().map(|f| f.field.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["sort", "expiring"]);
}

async fn api_keys_are_scoped_shown_once_and_revocable(db: TestDatabase) {
    let w = world(db).await;
    create(&w, &w.manager, "North seats", Some(w.north)).await;
    create(&w, &w.vendor, "South seats", Some(w.south)).await;
    let created = ok(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "inventory sync".into(),
            organisation_id: None,
            scopes: vec![ApiScope::LicencesRead],
        })
        .await);
    assert!(created.key.starts_with("lh_") && created.key.starts_with(&created.api_key.prefix));
    assert_eq!(created.api_key.organisation_id, Some(w.north));
    let integration = w.app.anonymous().with_token(&created.key);
    let listed = ok(integration.list_licences(&LicenceQuery::default()).await);
    assert_eq!(
        listed.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["North seats"]
    );
    assert_eq!(
        err(integration
            .create_licence(&new_licence(&w, "free seats", Some(w.north)), None)
            .await)
        .status(),
        Some(403)
    );
    assert_eq!(
        err(integration.redeem_coupon("ABCDEFGH", None).await).status(),
        Some(403),
        "no licences:write scope"
    );
    let keys = ok(w.north_admin.list_api_keys(&ListQuery::default()).await);
    assert_eq!(keys.total, 1);
    assert!(ok(w.south_admin.list_api_keys(&ListQuery::default()).await)
        .items
        .is_empty());
    assert_eq!(err(w.south_admin.revoke_api_key(created.id).await).status(), Some(404));
    assert!(ok(w.north_admin.revoke_api_key(created.id).await).revoked_at.is_some());
    assert_eq!(
        err(integration.list_licences(&LicenceQuery::default()).await).status(),
        Some(401)
    );
    let foreign = err(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "x".into(),
            organisation_id: Some(w.south),
            scopes: vec![ApiScope::LicencesRead],
        })
        .await);
    assert_eq!(foreign.status(), Some(403));
}

async fn users_follow_role_rules(db: TestDatabase) {
    let w = world(db).await;
    let member = ok(w
        .north_admin
        .create_user(&CreateUser {
            email: "nurse@north.test".into(),
            name: "Nina".into(),
            password: PASSWORD.into(),
            role: Role::Member,
            organisation_id: None,
        })
        .await);
    assert_eq!(
        member.organisation_id,
        Some(w.north),
        "an org admin's users join their organisation"
    );
    let escalate = err(w
        .north_admin
        .create_user(&CreateUser {
            email: "evil@north.test".into(),
            name: String::new(),
            password: PASSWORD.into(),
            role: Role::VendorAdmin,
            organisation_id: None,
        })
        .await);
    assert_eq!(escalate.status(), Some(403));
    let weak = err(w
        .vendor
        .create_user(&CreateUser {
            email: "not-an-email".into(),
            name: String::new(),
            password: "short".into(),
            role: Role::Member,
            organisation_id: Some(w.north),
        })
        .await);
    let fields: Vec<&str> = weak
        .problem()
        .map(|p| p.fields.iter().map(|f| f.field.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["email", "password"]);
    let taken = err(w
        .vendor
        .create_user(&CreateUser {
            email: "Nurse@North.test".into(),
            name: String::new(),
            password: PASSWORD.into(),
            role: Role::Member,
            organisation_id: Some(w.north),
        })
        .await);
    assert_eq!(taken.problem().map(|p| p.fields[0].code.as_str()), Some("email_taken"));
    ok(w.app.login("nurse@north.test").await.me().await);
}

/// Every response carries nosniff, frame denial and a Content-Security-Policy
/// for what it is: the console's allows its scripts, its WebAssembly and its
/// inline bootstrap by hash (nothing else inline); the API's allows nothing.
async fn responses_carry_security_headers_and_a_policy_per_kind(db: TestDatabase) {
    let console = std::env::temp_dir().join(format!("leasehold-console-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&console).unwrap_or_else(|e| panic!("{e}"));
    let bootstrap = "import init from '/app.js';\nawait init();";
    let index =
        format!("<!doctype html><html><head><script type=module>{bootstrap}</script></head><body></body></html>");
    std::fs::write(console.join("index.html"), index).unwrap_or_else(|e| panic!("{e}"));
    let dir = console.clone();
    let app = TestApp::spawn(db, move |s| s.frontend_dir = dir).await;
    let http = reqwest::Client::new();
    let headers = |path: &'static str| {
        let request = http.get(format!("{}{path}", app.base)).send();
        async move {
            let response = ok(request.await.map_err(|e| ClientError::Transport(e.to_string())));
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                header("content-security-policy"),
                header("x-content-type-options"),
                header("x-frame-options"),
            )
        }
    };
    for path in ["/", "/licences/new", "/v1/licences", "/healthz", "/docs/"] {
        let (_, nosniff, frames) = headers(path).await;
        assert_eq!((nosniff.as_str(), frames.as_str()), ("nosniff", "DENY"), "{path}");
    }
    use base64::Engine as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(bootstrap));
    let (spa, _, _) = headers("/licences/new").await;
    assert!(
        spa.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}';")),
        "{spa}"
    );
    assert!(
        spa.contains("frame-ancestors 'none'") && spa.contains("object-src 'none'"),
        "{spa}"
    );
    assert!(
        !spa.contains(" 'unsafe-eval'") && !spa.contains("script-src 'self' 'unsafe-inline'"),
        "{spa}"
    );
    for path in ["/v1/licences", "/healthz"] {
        assert_eq!(
            headers(path).await.0,
            "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
    assert!(headers("/docs/").await.0.starts_with("default-src 'self'"));
    std::fs::remove_dir_all(console).unwrap_or_default();
}

on_both_engines!(
    sign_in_refresh_and_sign_out,
    sign_in_is_rate_limited,
    the_http_surface_serves_docs_ids_and_problems,
    responses_carry_security_headers_and_a_policy_per_kind,
    api_keys_are_rate_limited_each_on_its_own,
    overload_is_shed_at_once_with_retry_after,
    repeated_failures_lock_sign_in_for_the_address,
    coupon_redemption_is_rate_limited,
    expiry_filters_follow_the_configured_window,
    licences_carry_coupons_amounts_and_both_statuses,
    pause_resume_and_every_change_is_audited,
    the_audit_chain_verifies_and_exposes_tampering,
    coupons_redeem_once_and_redeemed_licences_cannot_be_deleted,
    organisations_never_see_each_other,
    creation_honours_idempotency_keys,
    lists_filter_search_sort_and_paginate,
    api_keys_are_scoped_shown_once_and_revocable,
    users_follow_role_rules,
);

/// Past `max_in_flight` requests the server sheds load at once: 503
/// `overloaded` with `Retry-After`, never a queue; once the burst is over,
/// every place is given back and requests succeed again.
async fn overload_is_shed_at_once_with_retry_after(db: TestDatabase) {
    let w = world_with(db, |s| s.max_in_flight = 2).await;
    let token = w.north_admin.token().unwrap_or_default().to_owned();
    let http = reqwest::Client::new();
    let mut shed = 0;
    for _ in 0..10 {
        let burst = (0..48).map(|_| {
            let request = http
                .get(format!("{}/v1/licences", w.app.base))
                .bearer_auth(&token)
                .send();
            async move {
                let response = request.await.map_err(|e| ClientError::Transport(e.to_string()));
                let response = ok(response);
                let retry = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let status = response.status().as_u16();
                let code = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned));
                (status, retry, code)
            }
        });
        for (status, retry, code) in futures::future::join_all(burst).await {
            match status {
                200 => {}
                503 => {
                    assert_eq!((retry.as_deref(), code.as_deref()), (Some("1"), Some("overloaded")));
                    shed += 1;
                }
                other => panic!("neither served nor shed: {other}"),
            }
        }
        if shed > 0 {
            break;
        }
    }
    assert!(shed > 0, "48 concurrent requests against 2 places: some are shed");
    ok(w.north_admin.list_licences(&LicenceQuery::default()).await);
    assert_eq!(
        reqwest::get(format!("{}/healthz", w.app.base))
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );
}

/// `/readyz` says 503 `database_unreachable` (quickly) while PostgreSQL
/// refuses the server's connections, and 200 again once it accepts them;
/// `/healthz` (the process) stays 200 throughout.
#[tokio::test]
async fn readiness_follows_the_database() {
    use sqlx::{Connection, Executor};
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let app = TestApp::spawn(db, |_| {}).await;
    let http = reqwest::Client::new();
    let status = |path: &'static str| {
        let request = http.get(format!("{}{path}", app.base)).send();
        async move { request.await.map(|r| r.status().as_u16()).unwrap_or_default() }
    };
    assert_eq!((status("/readyz").await, status("/healthz").await), (200, 200));
    let url = secrecy::ExposeSecret::expose_secret(&app.state.settings.database_url).to_owned();
    let (server, name) = url.rsplit_once('/').unwrap_or_else(|| panic!("{url}"));
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refuse = format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    );
    admin.execute(refuse.as_str()).await.unwrap_or_else(|e| panic!("{e}"));
    let began = std::time::Instant::now();
    let response = http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 503);
    let problem: Problem = response.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(problem.code, "database_unreachable");
    assert!(
        began.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(status("/healthz").await, 200);
    admin
        .execute(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true").as_str())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status("/readyz").await, 200, "ready again once the database is back");
}
