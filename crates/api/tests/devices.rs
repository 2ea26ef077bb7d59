//! Device seats over HTTP: registration by an integration's key, seat tokens
//! verified offline against the JWKS and online, the admin's revoke, block,
//! unblock, approve and reallocate, and tenant isolation of all of it.

mod support;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use leasehold_client::{Client, Registration};
use leasehold_core::values::{ApiScope, Plan, QueuePolicy, RequestState};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

async fn device_world(db: TestDatabase) -> (World, Client) {
    with_devices(world(db).await).await
}

fn registration(w: &World, fingerprint: &str) -> RegisterDevice {
    RegisterDevice {
        fingerprint: fingerprint.into(),
        name: format!("{fingerprint} name"),
        product_id: w.product,
    }
}

async fn grant(w: &World, agent: &Client, fingerprint: &str) -> SeatGrant {
    match ok(agent.register_device(&registration(w, fingerprint), None).await) {
        Registration::Granted { grant, .. } => grant,
        other => panic!("{fingerprint} was not granted: {other:?}"),
    }
}

async fn queue(w: &World, agent: &Client, fingerprint: &str) -> SeatQueued {
    match ok(agent.register_device(&registration(w, fingerprint), None).await) {
        Registration::Queued(queued) => queued,
        other => panic!("{fingerprint} was not queued: {other:?}"),
    }
}

async fn devices_register_queue_and_verify_their_tokens(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    let first = match ok(agent
        .register_device(&registration(&w, "laptop-01"), Some("reg-1"))
        .await)
    {
        Registration::Granted { grant, new: true } => grant,
        other => panic!("{other:?}"),
    };
    let replay = ok(agent
        .register_device(&registration(&w, "laptop-01"), Some("reg-1"))
        .await);
    assert_eq!(
        replay,
        Registration::Granted {
            grant: replay_grant(&replay),
            new: true
        },
        "a retried request answers as the first did (201)"
    );
    assert_eq!(
        replay_grant(&replay).seat_id,
        first.seat_id,
        "a licensed device gets its seat back"
    );
    assert!(
        matches!(
            ok(agent.register_device(&registration(&w, "laptop-01"), None).await),
            Registration::Granted { new: false, .. }
        ),
        "asking again without the key: the seat it holds (200)"
    );
    let reused = err(agent
        .register_device(&registration(&w, "laptop-99"), Some("reg-1"))
        .await);
    assert_eq!(reused.code(), "idempotency_key_reused", "one key, one request body");
    grant(&w, &agent, "laptop-02").await;
    let waiting = queue(&w, &agent, "laptop-03").await;
    assert_eq!(waiting.queue_position, 1);
    assert_eq!(queue(&w, &agent, "laptop-04").await.queue_position, 2);

    // Offline: the token verifies against the published key.
    let jwks = ok(w.app.anonymous().jwks().await);
    let jwk = &jwks.keys[0];
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str()),
        ("OKP", "Ed25519", "EdDSA")
    );
    let header = jsonwebtoken::decode_header(&first.seat_token).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.kid.as_deref(), Some(jwk.kid.as_str()));
    let key = DecodingKey::from_ed_components(&jwk.x).unwrap_or_else(|e| panic!("{e}"));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["leasehold-seat"]);
    let claims = jsonwebtoken::decode::<SeatClaims>(&first.seat_token, &key, &validation)
        .unwrap_or_else(|e| panic!("{e}"))
        .claims;
    assert_eq!(
        (claims.sub, claims.jti, claims.licence, claims.pool),
        (first.device_id, first.seat_id, first.licence_id, first.pool_id)
    );
    assert_eq!(claims.exp, first.expires_at.timestamp());
    let mut forged = first.seat_token.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert!(jsonwebtoken::decode::<SeatClaims>(&forged, &key, &validation).is_err());

    // Online: valid until revoked.
    let anyone = w.app.anonymous();
    assert_eq!(ok(anyone.validate_seat(&first.seat_token).await).code, "valid");
    assert_eq!(ok(anyone.validate_seat("not.a.token").await).code, "invalid_token");
    let renewed = ok(agent.heartbeat_device(first.device_id, w.product).await);
    assert_eq!(renewed.seat_id, first.seat_id);

    // Revoking the seat hands it to the first waiting device; its next call says so.
    let revoked = ok(w.north_admin.revoke_device(first.device_id, None).await);
    assert_eq!(revoked.released, 1);
    let check = ok(anyone.validate_seat(&first.seat_token).await);
    assert_eq!((check.valid, check.code.as_str()), (false, "seat_revoked"));
    assert_eq!(
        err(agent.heartbeat_device(first.device_id, w.product).await).code(),
        "seat_revoked"
    );
    match ok(agent.register_device(&registration(&w, "laptop-03"), None).await) {
        Registration::Granted { new: false, grant } => assert_eq!(grant.device_id, waiting.device_id),
        other => panic!("the queued device was granted: {other:?}"),
    }
    assert_eq!(
        queue(&w, &agent, "laptop-01").await.queue_position,
        2,
        "behind laptop-04"
    );
    let pools = ok(w.north_viewer.list_pools(&PoolQuery::default()).await);
    let pool = &pools.items[0];
    assert_eq!(
        (
            pool.capacity,
            pool.held,
            pool.available,
            pool.waiting,
            pool.over_capacity
        ),
        (2, 2, 0, 2, false)
    );
}

fn replay_grant(registration: &Registration) -> SeatGrant {
    match registration {
        Registration::Granted { grant, .. } => grant.clone(),
        other => panic!("{other:?}"),
    }
}

async fn blocked_devices_are_refused_and_unblocking_grants_nothing(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    let lost = grant(&w, &agent, "tablet-lost").await;
    grant(&w, &agent, "tablet-2").await;
    let next = queue(&w, &agent, "tablet-3").await;
    let blocked = ok(w.north_admin.block_device(lost.device_id).await);
    assert!(blocked.blocked_at.is_some() && blocked.seats.is_empty());
    assert_eq!(
        ok(w.app.anonymous().validate_seat(&lost.seat_token).await).code,
        "device_blocked"
    );
    let refused = err(agent.register_device(&registration(&w, "tablet-lost"), None).await);
    assert_eq!((refused.status(), refused.code()), (Some(403), "device_blocked"));
    let licensed = ok(w
        .north_viewer
        .list_devices(&DeviceQuery {
            state: Some("licensed".into()),
            ..Default::default()
        })
        .await);
    assert!(
        licensed.items.iter().any(|d| d.id == next.device_id),
        "the freed seat went to the queue"
    );
    let blocked_tab = ok(w
        .north_viewer
        .list_devices(&DeviceQuery {
            state: Some("blocked".into()),
            ..Default::default()
        })
        .await);
    assert_eq!(
        blocked_tab.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        [lost.device_id]
    );
    ok(w.north_admin.unblock_device(lost.device_id).await);
    assert!(ok(w
        .north_viewer
        .list_devices(&DeviceQuery {
            state: Some("blocked".into()),
            ..Default::default()
        })
        .await)
    .items
    .is_empty());
    assert_eq!(
        ok(w.north_viewer.list_pools(&PoolQuery::default()).await).items[0].held,
        2,
        "unblocking grants nothing"
    );
    assert_eq!(queue(&w, &agent, "tablet-lost").await.queue_position, 1);
    assert_eq!(
        err(w.north_viewer.block_device(next.device_id).await).status(),
        Some(403),
        "viewers only read"
    );
    let audit = ok(w
        .north_admin
        .list_audit(&AuditQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await);
    let about_lost: Vec<(&str, Option<&str>)> = audit
        .items
        .iter()
        .filter(|e| e.object_id == lost.device_id.as_uuid())
        .map(|e| {
            let reason = e.after.as_ref().and_then(|a| a["reason"].as_str());
            (e.action.as_str(), reason)
        })
        .collect();
    assert_eq!(
        about_lost,
        [
            ("device.unblocked", None),
            ("seat.denied", Some("blocked")),
            ("device.blocked", None),
            ("seat.released", Some("blocked")),
            ("seat.granted", None),
        ],
        "each step is audited, newest first"
    );
}

async fn admins_approve_reject_and_reallocate(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    let pool = ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0].id;
    let updated = ok(w
        .north_admin
        .update_pool(
            pool,
            &UpdatePool {
                queue_policy: Some(QueuePolicy::Approval),
                ..Default::default()
            },
        )
        .await);
    assert_eq!(updated.queue_policy, QueuePolicy::Approval);
    let idle = grant(&w, &agent, "desk-idle").await;
    let busy = grant(&w, &agent, "desk-busy").await;
    let waiting = queue(&w, &agent, "desk-new").await;
    let other = queue(&w, &agent, "desk-other").await;
    let queue_view = ok(w.north_admin.list_seat_requests(&SeatRequestQuery::default()).await);
    assert_eq!(
        queue_view
            .items
            .iter()
            .map(|r| (r.device_id, r.position))
            .collect::<Vec<_>>(),
        [(waiting.device_id, 1), (other.device_id, 2)]
    );
    let full = err(w.north_admin.approve_seat_request(waiting.request_id).await);
    assert_eq!((full.status(), full.code()), (Some(409), "seat_unavailable"));
    let moved = ok(w.north_admin.reallocate_seat(waiting.request_id, idle.device_id).await);
    assert_eq!(moved.state, RequestState::Granted);
    let licensed = ok(w
        .north_admin
        .list_devices(&DeviceQuery {
            state: Some("licensed".into()),
            ..Default::default()
        })
        .await);
    let mut holders: Vec<_> = licensed.items.iter().map(|d| d.id).collect();
    holders.sort();
    let mut expected = vec![busy.device_id, waiting.device_id];
    expected.sort();
    assert_eq!(holders, expected, "the seat moved in one step");
    ok(w.north_admin.revoke_device(busy.device_id, None).await);
    assert_eq!(
        ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0].held,
        1,
        "approval pools wait for an admin"
    );
    assert_eq!(
        ok(w.north_admin.approve_seat_request(other.request_id).await).state,
        RequestState::Granted
    );
    let late = queue(&w, &agent, "desk-late").await;
    assert_eq!(
        ok(w.north_admin.reject_seat_request(late.request_id).await).state,
        RequestState::Rejected
    );
    assert_eq!(
        err(w.north_admin.reject_seat_request(late.request_id).await).code(),
        "request_not_waiting"
    );
    let audit = ok(w
        .north_admin
        .list_audit(&AuditQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await);
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "seat.granted",
        "seat_request.queued",
        "seat.released",
        "seat_request.reallocated",
        "seat_request.approved",
        "seat_request.rejected",
        "pool.updated",
    ] {
        assert!(actions.contains(&action), "{action} is audited");
    }
}

async fn seats_stay_inside_their_organisation(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    let north_device = grant(&w, &agent, "north-pc").await;
    grant(&w, &agent, "north-pc-2").await;
    queue(&w, &agent, "north-pc-3").await;
    // South sees none of it, and cannot act on it.
    assert_eq!(ok(w.south_admin.list_devices(&DeviceQuery::default()).await).total, 0);
    assert!(ok(w.south_admin.list_pools(&PoolQuery::default()).await)
        .items
        .iter()
        .all(|p| p.organisation_id != w.north));
    assert_eq!(
        ok(w.south_admin.list_seat_requests(&SeatRequestQuery::default()).await).total,
        0
    );
    assert_eq!(
        err(w.south_admin.revoke_device(north_device.device_id, None).await).status(),
        Some(404)
    );
    assert_eq!(
        err(w.south_admin.block_device(north_device.device_id).await).status(),
        Some(404)
    );
    assert_eq!(
        err(w.south_admin.get_device(north_device.device_id).await).status(),
        Some(404)
    );
    assert_eq!(
        err(w.south_admin.get_pool(north_device.pool_id).await).status(),
        Some(404)
    );
    // A console user's token cannot register devices; a key without the scope neither.
    assert_eq!(
        err(w.north_admin.register_device(&registration(&w, "sneaky"), None).await).status(),
        Some(403)
    );
    let reader = ok(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "r".into(),
            organisation_id: None,
            scopes: vec![ApiScope::LicencesRead],
        })
        .await);
    let reader = w.app.anonymous().with_token(&reader.key);
    assert_eq!(
        err(reader.register_device(&registration(&w, "sneaky"), None).await).status(),
        Some(403)
    );
    // South's key registers into south's pool, which has no seats.
    let south_key = ok(w
        .south_admin
        .create_api_key(&CreateApiKey {
            name: "s".into(),
            organisation_id: None,
            scopes: vec![ApiScope::DevicesRegister],
        })
        .await);
    let south_agent = w.app.anonymous().with_token(&south_key.key);
    assert!(matches!(
        ok(south_agent.register_device(&registration(&w, "north-pc"), None).await),
        Registration::Queued(_)
    ));
    assert_eq!(
        err(south_agent.heartbeat_device(north_device.device_id, w.product).await).code(),
        "seat_revoked"
    );
}

async fn licences_with_held_seats_cannot_be_deleted_and_pausing_stops_grants(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    grant(&w, &agent, "pc-1").await;
    let licences = ok(w
        .manager
        .list_licences(&LicenceQuery {
            q: Some("Two seats".into()),
            ..Default::default()
        })
        .await);
    let licence = &licences.items[0];
    let in_use = err(w.manager.delete_licence(licence.id).await);
    assert_eq!(in_use.code(), "licence_in_use");
    assert!(in_use
        .problem()
        .and_then(|p| p.detail.clone())
        .unwrap_or_default()
        .contains("one of its seats is held"));
    ok(w.manager.pause_licence(licence.id).await);
    let pool = &ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0];
    assert_eq!((pool.capacity, pool.held, pool.over_capacity), (0, 1, true));
    assert!(matches!(
        ok(agent.register_device(&registration(&w, "pc-2"), None).await),
        Registration::Queued(_)
    ));
    ok(w.manager.resume_licence(licence.id).await);
    let pool = &ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0];
    assert_eq!(
        (pool.capacity, pool.held, pool.waiting),
        (2, 2, 0),
        "resuming grants the waiting device"
    );
}

fn fields(error: &leasehold_client::ClientError) -> Vec<(String, String)> {
    let problem = error.problem().unwrap_or_else(|| panic!("no problem in {error}"));
    problem
        .fields
        .iter()
        .map(|f| (f.field.clone(), f.code.clone()))
        .collect()
}

async fn pools_alert_top_up_and_sell_seats_over_http(db: TestDatabase) {
    let (w, agent) = device_world(db).await;
    let pools = ok(w.north_admin.list_pools(&PoolQuery::default()).await);
    let pool = pools.items[0].id;
    // A purchase: a priced, uninvoiced licence of the organisation.
    let bought = ok(w
        .north_admin
        .buy_seats(
            pool,
            &BuySeats {
                quantity: 3,
                plan: Plan::Yearly,
            },
        )
        .await);
    assert_eq!(
        (bought.source, bought.quantity, bought.amount),
        (leasehold_core::values::LicenceSource::Purchase, 3, 45_000)
    );
    assert_eq!(bought.billing_status, leasehold_core::values::BillingStatus::Uninvoiced);
    let trial = err(w
        .north_admin
        .buy_seats(
            pool,
            &BuySeats {
                quantity: 0,
                plan: Plan::Trial,
            },
        )
        .await);
    assert_eq!(
        fields(&trial),
        [
            ("quantity".into(), "out_of_range".into()),
            ("plan".into(), "not_for_purchase".into())
        ]
    );
    assert_eq!(
        err(w
            .north_viewer
            .buy_seats(
                pool,
                &BuySeats {
                    quantity: 1,
                    plan: Plan::Yearly
                }
            )
            .await)
        .status(),
        Some(403)
    );
    assert_eq!(
        err(w
            .south_admin
            .buy_seats(
                pool,
                &BuySeats {
                    quantity: 1,
                    plan: Plan::Yearly
                }
            )
            .await)
        .status(),
        Some(404)
    );

    // Settings are checked against the capacity (now 5) before anything is written.
    let bad = UpdatePool {
        alert_below: Some(5),
        topup_enabled: Some(true),
        ..UpdatePool::default()
    };
    let bad = err(w.north_admin.update_pool(pool, &bad).await);
    assert_eq!((bad.status(), bad.code()), (Some(422), "validation_failed"));
    assert_eq!(
        fields(&bad),
        [
            ("alert_below".into(), "not_below_capacity".into()),
            ("topup_below".into(), "required".into()),
            ("topup_add".into(), "required".into()),
            ("topup_max_per_month".into(), "required".into()),
        ]
    );
    let unchanged = ok(w.north_admin.get_pool(pool).await);
    assert_eq!((unchanged.alert_below, unchanged.topup_enabled), (None, false));
    let settings = UpdatePool {
        alert_below: Some(2),
        topup_enabled: Some(true),
        topup_below: Some(1),
        topup_add: Some(2),
        topup_max_per_month: Some(1),
        topup_plan: Some(Plan::Yearly),
        ..UpdatePool::default()
    };
    assert_eq!(
        err(w.north_viewer.update_pool(pool, &settings).await).status(),
        Some(403)
    );
    let view = ok(w.north_admin.update_pool(pool, &settings).await);
    assert_eq!(
        (
            view.alert_below,
            view.topup_below,
            view.topup_add,
            view.topup_max_per_month
        ),
        (Some(2), 1, 2, 1)
    );

    // 4 of 5 held: low. The 5th takes the last seat: the top-up adds 2.
    for i in 0..5 {
        grant(&w, &agent, &format!("desk-{i}")).await;
    }
    let view = ok(w.north_admin.get_pool(pool).await);
    assert_eq!(
        (view.capacity, view.held, view.topups_this_month, view.low),
        (7, 5, 1, true)
    );
    let topups = ok(w.north_admin.list_licences(&LicenceQuery::default()).await);
    let auto: Vec<_> = topups
        .items
        .iter()
        .filter(|l| l.source == leasehold_core::values::LicenceSource::AutoTopup)
        .collect();
    assert_eq!(auto.len(), 1);
    assert_eq!((auto[0].quantity, auto[0].amount), (2, 30_000));

    // The notifications, newest first, for the organisation only.
    let page = ok(w.north_viewer.list_notifications(&NotificationQuery::default()).await);
    let kinds: Vec<_> = page.items.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!((kinds, page.unread), (vec!["topup_done", "low_seats"], 2));
    assert_eq!(page.items[1].message, "CAD Pro: 1 of 5 seats left");
    assert_eq!(
        ok(w.south_admin.list_notifications(&NotificationQuery::default()).await).total,
        0
    );
    let foreign = err(w.south_admin.read_notification(page.items[0].id).await);
    assert_eq!(foreign.status(), Some(404));
    assert_eq!(ok(w.north_viewer.read_notification(page.items[0].id).await).marked, 1);
    let unread = ok(w
        .north_admin
        .list_notifications(&NotificationQuery {
            unread: true,
            ..NotificationQuery::default()
        })
        .await);
    assert_eq!((unread.total, unread.unread), (1, 1));
    assert_eq!(ok(w.north_admin.read_all_notifications().await).marked, 1);

    // Nothing waits for approval.
    let none = err(w.north_admin.approve_topup(pool).await);
    assert_eq!((none.status(), none.code()), (Some(409), "no_pending_topup"));
    let audit = ok(w.north_admin.list_audit(&AuditQuery::default()).await);
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"pool.updated") && actions.contains(&"licence.created"),
        "{actions:?}"
    );
}

on_both_engines!(
    devices_register_queue_and_verify_their_tokens,
    blocked_devices_are_refused_and_unblocking_grants_nothing,
    admins_approve_reject_and_reallocate,
    seats_stay_inside_their_organisation,
    licences_with_held_seats_cannot_be_deleted_and_pausing_stops_grants,
    pools_alert_top_up_and_sell_seats_over_http,
);
