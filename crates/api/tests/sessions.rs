//! Concurrent seats over HTTP, on both engines: members check out from a
//! client, keep the same seat, queue when the pool is full, log out, are
//! force-released by an admin, and lose a lapsed seat to the next in line.

mod support;

use chrono::Duration;
use leasehold_client::{Checkout, Client};
use leasehold_core::access::Actor;
use leasehold_core::ids::{LicenceId, OrganisationId, ProductId, UserId};
use leasehold_core::ports::WriteContext;
use leasehold_core::seat::LeaseState;
use leasehold_core::values::{ApiScope, Plan, QueuePolicy, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

struct Floor {
    w: World,
    viewer: ProductId,
    nina: Client,
    omar: Client,
    nina_id: UserId,
    licence: LicenceId,
}

/// North has a 1-seat concurrent product and two members.
async fn floor(db: TestDatabase) -> Floor {
    let w = world(db).await;
    let (viewer, licence) = w.licensed_product("VIEW", SeatKind::Concurrent, Plan::Yearly, 1).await;
    let licence = licence.id;
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
        licence,
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
    let in_use = err(f.w.manager.delete_licence(f.licence).await);
    assert_eq!(
        (in_use.status(), in_use.code()),
        (Some(409), "licence_in_use"),
        "a held concurrent seat keeps its licence"
    );
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

/// Queue policies of a concurrent pool: refuse answers 409 at once, auto-grant
/// queues; approval makes no sense for members waiting in line and is refused.
/// Every denial and every queue entry is audited.
async fn concurrent_pools_refuse_or_queue_and_say_so_in_the_audit(db: TestDatabase) {
    let f = floor(db).await;
    let pool = ok(f
        .w
        .north_admin
        .list_pools(&PoolQuery {
            product: Some(f.viewer),
            ..Default::default()
        })
        .await)
    .items[0]
        .id;
    let approval = err(f
        .w
        .north_admin
        .update_pool(
            pool,
            &UpdatePool {
                queue_policy: Some(QueuePolicy::Approval),
                lease_seconds: Some(300),
                ..Default::default()
            },
        )
        .await);
    assert_eq!(
        approval.problem().map(|p| p.fields[0].code.as_str()),
        Some("not_for_concurrent")
    );
    let unchanged = ok(f.w.north_admin.list_pools(&PoolQuery::default()).await);
    assert!(
        unchanged.items.iter().all(|p| p.lease_seconds == 900),
        "a refused update writes nothing"
    );
    ok(f.w
        .north_admin
        .update_pool(
            pool,
            &UpdatePool {
                queue_policy: Some(QueuePolicy::Refuse),
                ..Default::default()
            },
        )
        .await);
    granted(ok(f.nina.create_session(&ask(f.viewer, "laptop")).await));
    let refused = err(f.omar.create_session(&ask(f.viewer, "desktop")).await);
    assert_eq!((refused.status(), refused.code()), (Some(409), "seat_unavailable"));
    ok(f.w
        .north_admin
        .update_pool(
            pool,
            &UpdatePool {
                queue_policy: Some(QueuePolicy::AutoGrant),
                ..Default::default()
            },
        )
        .await);
    assert!(matches!(
        ok(f.omar.create_session(&ask(f.viewer, "desktop")).await),
        Checkout::Queued(_)
    ));
    let audit = ok(f
        .w
        .north_admin
        .list_audit(&AuditQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await);
    let steps: Vec<&str> = audit
        .items
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("lease"))
        .collect();
    assert_eq!(
        steps,
        ["lease_request.queued", "lease.denied", "lease.granted"],
        "newest first"
    );
}

/// The server's own reaper and expiry job run: a lapsed seat is reclaimed and
/// an ended licence shrinks its pool without anyone calling an endpoint.
async fn the_running_jobs_reclaim_lapsed_seats_and_expire_licences(db: TestDatabase) {
    let w = world_with(db, |s| s.reaper_interval_seconds = 1).await;
    let (viewer, licence) = w.licensed_product("VIEW", SeatKind::Concurrent, Plan::Yearly, 2).await;
    let admin = ok(w.north_admin.me().await).id;
    // A checkout two hours ago whose client then vanished: its lease has lapsed.
    w.lapsed_lease(viewer, admin, "vanished-tab").await;
    let world = &w;
    let pool_of = move || async move {
        ok(world
            .north_admin
            .list_pools(&PoolQuery {
                product: Some(viewer),
                ..Default::default()
            })
            .await)
        .items[0]
            .clone()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while pool_of().await.held > 0 {
        assert!(std::time::Instant::now() < deadline, "the reaper never ran");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The licence ends a moment after it started; the expiry job takes its seats away.
    let ends = licence.activated_at.map(|at| at + Duration::milliseconds(20));
    ok(w.manager
        .update_licence(
            licence.id,
            &UpdateLicence {
                ends_at: ends,
                ..Default::default()
            },
        )
        .await);
    // (Ending in the past already, the edit itself shrinks the pool; the job
    // stores the status and says so in the audit log.)
    let system_actions = || async move {
        let audit = ok(world
            .north_admin
            .list_audit(&AuditQuery {
                per_page: Some(100),
                ..Default::default()
            })
            .await);
        audit
            .items
            .into_iter()
            .filter(|e| e.actor_kind == leasehold_core::access::ActorKind::System)
            .map(|e| e.action)
            .collect::<Vec<String>>()
    };
    while !system_actions().await.iter().any(|a| a == "licence.expired") {
        assert!(std::time::Instant::now() < deadline, "expiry never ran");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(system_actions().await.iter().any(|a| a == "lease.released"));
    assert_eq!(pool_of().await.capacity, 0);
    let expired = ok(w.manager.get_licence(licence.id).await);
    assert_eq!(expired.status, leasehold_core::values::LicenceStatus::Expired);
}

on_both_engines!(
    concurrent_pools_refuse_or_queue_and_say_so_in_the_audit,
    the_running_jobs_reclaim_lapsed_seats_and_expire_licences,
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
                auto_renew: false,
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

    // Every client vanishes; both servers reap at once, later: each lapsed
    // seat is reclaimed exactly once and handed to exactly one waiting client.
    let later = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: chrono::Utc::now() + Duration::hours(1),
    };
    let (one, two) = futures::join!(
        f.w.app.state.store.reap_leases(&later, 3),
        second.state.store.reap_leases(&later, 3)
    );
    let (one, two) = (
        one.unwrap_or_else(|e| panic!("{e}")),
        two.unwrap_or_else(|e| panic!("{e}")),
    );
    println!("two reapers at once reclaimed {one} + {two} lapsed seats");
    assert_eq!(one + two, 5, "five lapsed seats, each reclaimed once");
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
    assert_eq!((pool.held, pool.waiting), (5, 25), "five more handed on from the queue");
}
