//! Concurrent seats over HTTP, on both engines: members check out from a
//! client, keep the same seat, queue when the pool is full, log out, are
//! force-released by an admin, and lose a lapsed seat to the next in line.

mod support;

use chrono::Duration;
use leasehold_client::{Checkout, Client};
use leasehold_core::access::Actor;
use leasehold_core::ids::{OrganisationId, ProductId, UserId};
use leasehold_core::ports::WriteContext;
use leasehold_core::seat::LeaseState;
use leasehold_core::values::{ApiScope, Plan, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

struct Floor {
    w: World,
    viewer: ProductId,
    nina: Client,
    omar: Client,
    nina_id: UserId,
}

/// North has a 1-seat concurrent product and two members.
async fn floor(db: TestDatabase) -> Floor {
    let w = world(db).await;
    let viewer = ok(w
        .vendor
        .create_product(&CreateProduct {
            code: "VIEW".into(),
            name: "Viewer".into(),
            seat_kind: SeatKind::Concurrent,
            currency: "EUR".into(),
            prices: [(Plan::Yearly, 900)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await)
    .id;
    ok(w.manager
        .create_licence(
            &CreateLicence {
                product_id: viewer,
                plan: Plan::Yearly,
                name: "One floating seat".into(),
                note: None,
                quantity: 1,
                owner_organisation_id: Some(w.north),
                owner_user_id: None,
            },
            None,
        )
        .await);
    let member = |email: &str| CreateUser {
        email: email.into(),
        name: String::new(),
        password: PASSWORD.into(),
        role: Role::Member,
        organisation_id: None,
    };
    let nina_id = ok(w.north_admin.create_user(&member("nina@north.test")).await).id;
    ok(w.north_admin.create_user(&member("omar@north.test")).await);
    let nina = w.app.login("nina@north.test").await;
    let omar = w.app.login("omar@north.test").await;
    Floor {
        w,
        viewer,
        nina,
        omar,
        nina_id,
    }
}

fn ask(product: ProductId, client: &str) -> CreateSession {
    CreateSession {
        product_id: product,
        user_id: None,
        client_id: client.into(),
    }
}

fn granted(checkout: Checkout) -> (SessionGrant, bool) {
    match checkout {
        Checkout::Granted { grant, new } => (grant, new),
        other => panic!("not granted: {other:?}"),
    }
}

async fn members_keep_one_seat_per_client_queue_and_log_out(db: TestDatabase) {
    let f = floor(db).await;
    let (first, new) = granted(ok(f.nina.create_session(&ask(f.viewer, "laptop")).await));
    assert!(new);
    assert!(
        first.next_heartbeat_at < first.expires_at,
        "the server says when to renew"
    );
    let (again, new) = granted(ok(f.nina.create_session(&ask(f.viewer, "laptop")).await));
    assert_eq!(
        (again.id, new),
        (first.id, false),
        "the same member and client keep one seat"
    );
    let queued = match ok(f.omar.create_session(&ask(f.viewer, "desktop")).await) {
        Checkout::Queued(queued) => queued,
        other => panic!("{other:?}"),
    };
    assert_eq!(queued.queue_position, 1);
    let validity = ok(f.w.app.anonymous().validate_seat(&first.seat_token).await);
    assert_eq!(validity.code, "valid", "{validity:?} {}", first.seat_token);
    let renewed = ok(f.nina.heartbeat_session(first.id, true).await);
    assert!(renewed.expires_at >= first.expires_at);
    // Logout frees at once, and the queue gets the seat.
    ok(f.nina.delete_session(first.id).await);
    assert_eq!(
        ok(f.w.app.anonymous().validate_seat(&first.seat_token).await).code,
        "seat_revoked"
    );
    let (omar, new) = granted(ok(f.omar.create_session(&ask(f.viewer, "desktop")).await));
    assert!(!new, "granted from the queue when the seat freed");
    assert_eq!(
        err(f.nina.heartbeat_session(first.id, false).await).code(),
        "session_lapsed"
    );
    // Who holds what: the admin sees everyone, a member only themselves.
    let everyone = ok(f.w.north_admin.list_sessions(&SessionQuery::default()).await);
    assert_eq!(
        everyone
            .items
            .iter()
            .map(|s| (s.user_email.as_str(), s.state))
            .collect::<Vec<_>>(),
        [("omar@north.test", LeaseState::Active)]
    );
    assert_eq!(ok(f.nina.list_sessions(&SessionQuery::default()).await).total, 0);
    assert_eq!(err(f.nina.get_session(omar.id).await).status(), Some(404));
    assert_eq!(
        err(f.nina.delete_session(omar.id).await).status(),
        Some(404),
        "members cannot end another's seat"
    );
}

async fn admins_force_release_and_the_reaper_reclaims_lapsed_seats(db: TestDatabase) {
    let f = floor(db).await;
    let (held, _) = granted(ok(f.nina.create_session(&ask(f.viewer, "kiosk")).await));
    assert_eq!(
        err(f.w.north_viewer.delete_session(held.id).await).status(),
        Some(403),
        "viewers only look"
    );
    assert_eq!(
        err(f.w.south_admin.delete_session(held.id).await).status(),
        Some(404),
        "another organisation's seat does not exist"
    );
    ok(f.w.north_admin.delete_session(held.id).await);
    assert_eq!(
        ok(f.w.north_admin.list_sessions(&SessionQuery::default()).await).total,
        0
    );

    // A closed browser: no more heartbeats. One reaper pass after the lease and
    // its grace, the seat goes to the member who waits.
    let (closed, _) = granted(ok(f.nina.create_session(&ask(f.viewer, "browser-tab")).await));
    assert!(matches!(
        ok(f.omar.create_session(&ask(f.viewer, "desktop")).await),
        Checkout::Queued(_)
    ));
    let later = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: closed.expires_at + Duration::seconds(1),
    };
    assert_eq!(f.w.app.state.store.reap_leases(&later, 100).await.unwrap_or(0), 1);
    let holders = ok(f.w.north_admin.list_sessions(&SessionQuery::default()).await);
    assert_eq!(
        holders.items.iter().map(|s| s.user_email.as_str()).collect::<Vec<_>>(),
        ["omar@north.test"]
    );
    assert_eq!(
        err(f.nina.heartbeat_session(closed.id, false).await).code(),
        "session_lapsed"
    );
    let audit = ok(f
        .w
        .north_admin
        .list_audit(&AuditQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await);
    let reasons: Vec<String> = audit
        .items
        .iter()
        .filter(|e| e.action == "lease.released")
        .filter_map(|e| e.after.as_ref().and_then(|a| a["reason"].as_str().map(String::from)))
        .collect();
    assert_eq!(reasons, ["lapsed", "forced"], "each reclaim says why (newest first)");
}

async fn integrations_check_out_for_members_and_pools_take_lease_settings(db: TestDatabase) {
    let f = floor(db).await;
    let key = ok(f
        .w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "desktop app".into(),
            organisation_id: None,
            scopes: vec![ApiScope::SessionsWrite],
        })
        .await);
    let app = f.w.app.anonymous().with_token(&key.key);
    let missing = err(app.create_session(&ask(f.viewer, "pc-1")).await);
    assert_eq!(missing.problem().map(|p| p.fields[0].field.as_str()), Some("user_id"));
    let (grant, _) = granted(ok(app
        .create_session(&CreateSession {
            user_id: Some(f.nina_id),
            ..ask(f.viewer, "pc-1")
        })
        .await));
    assert_eq!(grant.user_id, f.nina_id);
    ok(app.heartbeat_session(grant.id, true).await);
    ok(app.delete_session(grant.id).await);
    let device_product = err(f.nina.create_session(&ask(f.w.product, "pc-1")).await);
    assert_eq!(
        device_product.problem().map(|p| p.fields[0].code.as_str()),
        Some("not_concurrent")
    );
    assert_eq!(
        err(f.w.vendor.create_session(&ask(f.viewer, "x")).await).status(),
        Some(403)
    );
    let foreign = err(f
        .w
        .south_admin
        .create_session(&CreateSession {
            user_id: Some(f.nina_id),
            ..ask(f.viewer, "x")
        })
        .await);
    assert_eq!(foreign.status(), Some(403), "members check out for themselves");

    let pool = ok(f
        .w
        .north_admin
        .list_pools(&PoolQuery {
            product: Some(f.viewer),
            ..Default::default()
        })
        .await)
    .items[0]
        .clone();
    assert_eq!(
        (
            pool.lease_seconds,
            pool.grace_seconds,
            pool.idle_seconds,
            pool.linger_seconds
        ),
        (900, 120, None, 0)
    );
    let update = UpdatePool {
        lease_seconds: Some(300),
        grace_seconds: Some(60),
        idle_seconds: Some(1800),
        linger_seconds: Some(30),
        ..Default::default()
    };
    let updated = ok(f.w.north_admin.update_pool(pool.id, &update).await);
    assert_eq!(
        (
            updated.lease_seconds,
            updated.grace_seconds,
            updated.idle_seconds,
            updated.linger_seconds
        ),
        (300, 60, Some(1800), 30)
    );
    let bad = err(f
        .w
        .north_admin
        .update_pool(
            pool.id,
            &UpdatePool {
                lease_seconds: Some(10),
                grace_seconds: Some(600),
                ..Default::default()
            },
        )
        .await);
    let fields: Vec<&str> = bad
        .problem()
        .map(|p| p.fields.iter().map(|f| f.field.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["lease_seconds", "grace_seconds"]);
    let (short, _) = granted(ok(f.nina.create_session(&ask(f.viewer, "tablet")).await));
    assert_eq!(
        (short.next_heartbeat_at - short.expires_at).num_seconds(),
        150 - 360,
        "renew at half the lease; lapse after lease + grace"
    );
    let _: OrganisationId = f.w.north;
}

on_both_engines!(
    members_keep_one_seat_per_client_queue_and_log_out,
    admins_force_release_and_the_reaper_reclaims_lapsed_seats,
    integrations_check_out_for_members_and_pools_take_lease_settings,
    two_servers_on_one_database_never_over_allocate,
);

/// Two server processes (two independent stacks: connection pools, signing
/// keys, reapers) on one database: concurrent checkouts split across them never
/// grant more seats than the pool has, and every release hands the seat on once.
async fn two_servers_on_one_database_never_over_allocate(db: TestDatabase) {
    let f = floor(db).await;
    ok(f.w
        .manager
        .create_licence(
            &CreateLicence {
                product_id: f.viewer,
                plan: Plan::Yearly,
                name: "Four more".into(),
                note: None,
                quantity: 4,
                owner_organisation_id: Some(f.w.north),
                owner_user_id: None,
            },
            None,
        )
        .await);
    let second = TestApp::second_process(&f.w.app).await;
    let key = ok(f
        .w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "desktop".into(),
            organisation_id: None,
            scopes: vec![ApiScope::SessionsWrite],
        })
        .await);
    let (a, b) = (
        f.w.app.anonymous().with_token(&key.key),
        second.anonymous().with_token(&key.key),
    );
    let attempts = 40;
    let calls = (0..attempts).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        let body = CreateSession {
            product_id: f.viewer,
            user_id: Some(f.nina_id),
            client_id: format!("pc-{i}"),
        };
        async move { ok(client.create_session(&body).await) }
    });
    let outcomes = futures::future::join_all(calls).await;
    let granted: Vec<SessionGrant> = outcomes
        .iter()
        .filter_map(|o| match o {
            Checkout::Granted { grant, .. } => Some(grant.clone()),
            _ => None,
        })
        .collect();
    println!(
        "{attempts} checkouts over 2 servers on a 5-seat pool: {} granted",
        granted.len()
    );
    assert_eq!(granted.len(), 5, "never more than the pool's 5 seats");
    let pool = ok(f
        .w
        .north_admin
        .list_pools(&PoolQuery {
            product: Some(f.viewer),
            ..Default::default()
        })
        .await)
    .items[0]
        .clone();
    assert_eq!((pool.held, pool.capacity, pool.waiting), (5, 5, 35));
    // Releases through both servers at once: each freed seat goes to exactly one waiting client.
    let releases = granted.iter().enumerate().map(|(i, g)| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { ok(client.delete_session(g.id).await) }
    });
    futures::future::join_all(releases).await;
    let pool = ok(second
        .login("admin@north.test")
        .await
        .list_pools(&PoolQuery {
            product: Some(f.viewer),
            ..Default::default()
        })
        .await)
    .items[0]
        .clone();
    assert_eq!((pool.held, pool.waiting), (5, 30));
    let sessions = ok(f
        .w
        .north_admin
        .list_sessions(&SessionQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await);
    let mut clients: Vec<&str> = sessions.items.iter().map(|s| s.client_id.as_str()).collect();
    clients.sort();
    clients.dedup();
    assert_eq!(clients.len(), 5, "five distinct holders, none granted twice");
}
