//! The invariant soak: many concurrent clients run a random mix of seat
//! operations — device registrations, heartbeats, releases and revokes on
//! pools of capacity 1, 10 and 1000; concurrent checkouts, heartbeats and
//! logouts; pauses and resumes of a licence; leases that lapse (the reaper
//! reclaims them) and a licence that expires (the expiry job shrinks its pool)
//! — against one server (SQLite) or two server processes on one database
//! (PostgreSQL). Afterwards, for every pool, held equals the seats and leases
//! that exist and stays within capacity, no queued request was granted twice,
//! no lease was released twice, and the audit chains verify.
//!
//! CI runs a reduced soak (`SOAK_CLIENTS` × `SOAK_OPS`, 32 × 60 by default).
//! The full one: `scripts/soak.sh` (256 clients, 10⁶ operations in all).

mod support;

use leasehold_client::{Checkout, Client, Registration};
use leasehold_core::ids::{DeviceId, LeaseId, ProductId};
use leasehold_core::values::{ApiScope, LicenceStatus, Plan, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use support::*;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift): each client's mix is reproducible.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

async fn invariants_hold_under_a_mixed_load(db: TestDatabase) {
    let clients = env_number("SOAK_CLIENTS", 32);
    let ops = env_number("SOAK_OPS", 60);
    let postgres = db.url.starts_with("postgres");
    // The full run lasts longer than an access token (15 min): the admin's
    // revokes and the vendor's pauses must not stop working half-way.
    let w = world_with(db, |s| {
        s.reaper_interval_seconds = 1;
        s.access_token_seconds = 4 * 3600;
    })
    .await;
    let second = if postgres {
        Some(TestApp::second_process(&w.app).await)
    } else {
        None
    };
    let mut device_pools = Vec::new();
    for (code, seats) in [("one", 1), ("ten", 10), ("thousand", 1000)] {
        device_pools.push(
            w.licensed_product(code, SeatKind::Device, Plan::Perpetual, seats)
                .await
                .0,
        );
    }
    let (floating, _) = w
        .licensed_product("float", SeatKind::Concurrent, Plan::Perpetual, 10)
        .await;
    // A licence paused and resumed under load: the 1000-seat pool's capacity
    // moves between 1000 and 1005 (never below what its at most 3 devices per
    // client can hold, so held ≤ capacity must stay true).
    let extra = w.licence(device_pools[2], Plan::Perpetual, 5).await.id;
    // A licence of the 1000-seat pool that ends a moment into the run: its 5
    // seats go when the expiry job (or the next change) sees it ended.
    let expiring = w.licence(device_pools[2], Plan::Perpetual, 5).await;
    let ends = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    ok(w.vendor
        .update_licence(
            expiring.id,
            &UpdateLicence {
                ends_at: Some(ends),
                ..Default::default()
            },
        )
        .await);
    let member = w.member("member@north.test").await.0.id;
    // Leases of clients that vanished two hours ago: lapsed, holding 5 of the
    // floating pool's 10 seats until a reaper (of either server) reclaims them.
    const VANISHED: usize = 5;
    for i in 0..VANISHED {
        w.lapsed_lease(floating, member, &format!("vanished-{i}")).await;
    }
    let key = ok(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "soak".into(),
            organisation_id: None,
            scopes: vec![ApiScope::DevicesRegister, ApiScope::SessionsWrite],
        })
        .await)
    .key;
    let bases: Vec<String> = std::iter::once(w.app.base.clone())
        .chain(second.as_ref().map(|s| s.base.clone()))
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let agent = Client::new(&bases[c as usize % bases.len()]).with_token(&key);
        let admin = w.north_admin.clone();
        let (device_pools, done) = (device_pools.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (c + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
            let mut devices: Vec<(DeviceId, ProductId)> = Vec::new();
            let mut leases: Vec<LeaseId> = Vec::new();
            for _ in 0..ops {
                let product = device_pools[dice.roll(3) as usize];
                match dice.roll(10) {
                    0..=2 => {
                        let body = RegisterDevice {
                            fingerprint: format!("soak-{c}-{}", dice.roll(3)),
                            name: "soak".into(),
                            product_id: product,
                        };
                        if let Ok(Registration::Granted { grant, .. }) = agent.register_device(&body, None).await {
                            devices.push((grant.device_id, grant.product_id));
                        }
                    }
                    3 => {
                        if let Some((device, product)) = devices.last() {
                            let _ = agent.heartbeat_device(*device, *product).await;
                        }
                    }
                    4 => {
                        if let Some((device, product)) = devices.pop() {
                            let _ = agent.release_device(device, Some(product)).await;
                        }
                    }
                    5 => {
                        if !devices.is_empty() {
                            let (device, _) = devices.swap_remove(dice.roll(devices.len() as u64) as usize);
                            // Gone already (released by its own client) is fine; refused is not.
                            if let Err(e) = admin.revoke_device(device, None).await {
                                assert!(e.status() != Some(401) && e.status() != Some(403), "{e}");
                            }
                        }
                    }
                    6 | 7 => {
                        let body = CreateSession {
                            product_id: floating,
                            user_id: Some(member),
                            client_id: format!("soak-{c}-{}", dice.roll(4)),
                        };
                        if let Ok(Checkout::Granted { grant, .. }) = agent.create_session(&body).await {
                            leases.push(grant.id);
                        }
                    }
                    8 => {
                        if let Some(lease) = leases.last() {
                            let _ = agent.heartbeat_session(*lease, true).await;
                        }
                    }
                    _ => {
                        if let Some(lease) = leases.pop() {
                            let _ = agent.delete_session(lease).await;
                        }
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Meanwhile, pause and resume a licence of the 1000-seat pool.
    let pauses = {
        let (vendor, done) = (w.vendor.clone(), done.clone());
        let total = clients * ops;
        tokio::spawn(async move {
            let mut paused = false;
            while done.load(Ordering::Relaxed) < total {
                ok(if paused {
                    vendor.resume_licence(extra).await
                } else {
                    vendor.pause_licence(extra).await
                });
                paused = !paused;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("a client panicked: {e}"));
    }
    pauses.await.unwrap_or_else(|e| panic!("{e}"));
    let elapsed = began.elapsed();
    let total = done.load(Ordering::Relaxed);
    println!(
        "soak: {total} operations by {clients} clients on {} server(s) in {:.1} s ({:.0}/s)",
        bases.len(),
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    // The lapsed leases are reclaimed, each once, and the licence expires.
    let db = &w.app.db;
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while db.count("leases WHERE client_id LIKE 'vanished-%'").await > 0
        || ok(w.vendor.get_licence(expiring.id).await).status != LicenceStatus::Expired
    {
        assert!(Instant::now() < deadline, "the reaper or the expiry job never ran");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let reclaimed = db
        .count("audit_log WHERE action = 'lease.released' AND CAST(before AS TEXT) LIKE '%vanished-%'")
        .await;
    assert_eq!(reclaimed, VANISHED as i64, "each lapsed lease is reclaimed once");
    let released_twice = db
        .count("(SELECT object_id FROM audit_log WHERE action = 'lease.released' GROUP BY object_id HAVING COUNT(*) > 1) twice")
        .await;
    assert_eq!(released_twice, 0, "no lease is released twice");

    // Invariants, read from the database itself.
    let miscounted = db
        .count(
            "pools p WHERE p.held <> (SELECT COUNT(*) FROM seats s WHERE s.pool_id = p.id) \
             + (SELECT COUNT(*) FROM leases e WHERE e.pool_id = p.id)",
        )
        .await;
    assert_eq!(miscounted, 0, "every pool's held equals its seats and leases");
    let over = db.count("pools p WHERE p.held > p.capacity").await;
    assert_eq!(over, 0, "no pool holds more than its capacity");
    let twice = db
        .count(
            "(SELECT object_id FROM audit_log WHERE action IN \
             ('seat_request.granted', 'seat_request.approved', 'seat_request.reallocated', 'lease_request.granted') \
             GROUP BY object_id HAVING COUNT(*) > 1) twice",
        )
        .await;
    assert_eq!(twice, 0, "no queued request is granted twice");
    let one_seat = db
        .count("(SELECT pool_id, device_id FROM seats GROUP BY pool_id, device_id HAVING COUNT(*) > 1) dup")
        .await;
    assert_eq!(one_seat, 0, "a device holds at most one seat per pool");
    let (seats, leases) = (db.count("seats").await, db.count("leases").await);
    println!("soak: at the end {seats} device seats and {leases} leases held; every invariant holds");
    let verification = ok(w.vendor.verify_audit().await);
    assert!(verification.verified, "{:?}", verification.chains);
}

on_both_engines!(invariants_hold_under_a_mixed_load);
