//! One storage conformance suite, run against SQLite always and PostgreSQL too
//! (each test on a fresh database, dropped afterwards).

use chrono::{DateTime, Duration, TimeZone, Utc};
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::ids::*;
use leasehold_core::licence::{Licence, Organisation, Owner, Product};
use leasehold_core::ports::*;
use leasehold_core::values::*;
use leasehold_core::DomainError;
mod common;

use leasehold_store::testing::TestDatabase;
use leasehold_store::StoreOptions;
use std::sync::Arc;
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().unwrap_or_default()
}

fn ctx(now: DateTime<Utc>) -> WriteContext {
    WriteContext {
        actor: Actor::SYSTEM,
        request_id: Some("test".into()),
        now,
    }
}

struct World {
    store: Arc<dyn Store>,
    product: Product,
    north: Organisation,
    south: Organisation,
    manager: User,
    north_user: User,
}

fn user(email: &str, role: Role, org: Option<OrganisationId>) -> User {
    User {
        id: UserId::from_uuid(Uuid::now_v7()),
        email: email.into(),
        name: email.split('@').next().unwrap_or_default().into(),
        role,
        organisation_id: org,
        created_at: t0(),
    }
}

fn organisation(name: &str, manager: Option<UserId>) -> Organisation {
    Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: name.into(),
        account_manager_id: manager,
        created_at: t0(),
    }
}

async fn apply(store: &Arc<dyn Store>, changes: Vec<Change>) {
    let set = ChangeSet {
        changes,
        ..ChangeSet::default()
    };
    if let Err(error) = store.commit(&ctx(t0()), set).await {
        panic!("commit failed: {error}");
    }
}

async fn world(db: &TestDatabase) -> World {
    let store = match leasehold_store::open(&db.url, &StoreOptions::default()).await {
        Ok(store) => store,
        Err(error) => panic!("open {}: {error}", db.url),
    };
    let manager = user("am@vendor.test", Role::AccountManager, None);
    let north = organisation("North Clinic", Some(manager.id));
    let south = organisation("South Labs", None);
    let north_user = user("nina@north.test", Role::Member, Some(north.id));
    let product = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "CAD".into(),
        name: "CAD Pro".into(),
        seat_kind: SeatKind::Device,
        currency: "EUR".into(),
        prices: [(Plan::Monthly, 1500), (Plan::Yearly, 15000), (Plan::Perpetual, 50000)]
            .into_iter()
            .collect(),
        default_lease_seconds: 900,
        created_at: t0(),
    };
    apply(
        &store,
        vec![
            Change::InsertUser {
                user: manager.clone(),
                password_hash: "x".into(),
            },
            Change::InsertOrganisation(north.clone()),
            Change::InsertOrganisation(south.clone()),
            Change::InsertUser {
                user: north_user.clone(),
                password_hash: "x".into(),
            },
            Change::InsertProduct(product.clone()),
        ],
    )
    .await;
    World {
        store,
        product,
        north,
        south,
        manager,
        north_user,
    }
}

fn licence(w: &World, name: &str, owner: Owner, coupon: &str, start: DateTime<Utc>) -> Licence {
    Licence::new(
        LicenceId::from_uuid(Uuid::now_v7()),
        &w.product,
        Plan::Monthly,
        name.into(),
        format!("note of {name}"),
        3,
        owner,
        CouponCode::parse(coupon).unwrap_or_else(|e| panic!("{e}")),
        LicenceSource::AccountManager,
        Some(w.manager.id),
        start,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn north(w: &World) -> Owner {
    Owner::Organisation {
        organisation_id: w.north.id,
        user_id: None,
    }
}

fn filter(now: DateTime<Utc>) -> LicenceFilter {
    LicenceFilter::at(now)
}

async fn names(w: &World, vis: Visibility, f: &LicenceFilter) -> Vec<String> {
    match w.store.licences(vis, f).await {
        Ok(page) => {
            assert!(page.total as usize >= page.items.len());
            page.items.into_iter().map(|d| d.licence.name).collect()
        }
        Err(error) => panic!("list: {error}"),
    }
}

// ------------------------------------------------------------------ the suite

async fn expiring_filters_hold_at_the_window_edges(db: TestDatabase) {
    let w = world(&db).await;
    let now = t0() + Duration::days(100);
    let soon_until = now + Duration::days(30);
    let cases = [
        ("a-ended-a-second-ago", now - Duration::seconds(1)),
        ("b-ends-exactly-now", now),
        ("c-ends-in-a-second", now + Duration::seconds(1)),
        ("d-ends-at-window-end", soon_until),
        ("e-ends-after-window", soon_until + Duration::seconds(1)),
    ];
    let mut changes = Vec::new();
    for (i, (name, ends)) in cases.iter().enumerate() {
        let mut l = licence(
            &w,
            name,
            north(&w),
            &format!("AAAAAAA{}", ['A', 'B', 'C', 'D', 'E'][i]),
            t0(),
        );
        l.ends_at = Some(*ends);
        changes.push(Change::InsertLicence(l));
    }
    let mut perpetual = licence(&w, "f-perpetual", north(&w), "AAAAAAAF", t0());
    perpetual.ends_at = None;
    changes.push(Change::InsertLicence(perpetual));
    changes.push(Change::InsertLicence(licence(
        &w,
        "g-unassigned",
        Owner::Unassigned,
        "AAAAAAAG",
        t0(),
    )));
    apply(&w.store, changes).await;

    let mut f = filter(now);
    f.expiring = Some(Expiring::Soon);
    assert_eq!(
        names(&w, Visibility::Everything, &f).await,
        ["c-ends-in-a-second", "d-ends-at-window-end"]
    );
    f.expiring = Some(Expiring::Expired);
    assert_eq!(
        names(&w, Visibility::Everything, &f).await,
        ["a-ended-a-second-ago", "b-ends-exactly-now"]
    );
    f.expiring = None;
    f.status = Some(LicenceStatus::Expired);
    assert_eq!(
        names(&w, Visibility::Everything, &f).await,
        ["a-ended-a-second-ago", "b-ends-exactly-now"]
    );
    f.status = Some(LicenceStatus::Active);
    assert_eq!(
        names(&w, Visibility::Everything, &f).await,
        [
            "c-ends-in-a-second",
            "d-ends-at-window-end",
            "e-ends-after-window",
            "f-perpetual"
        ]
    );
    f.status = Some(LicenceStatus::Unassigned);
    assert_eq!(names(&w, Visibility::Everything, &f).await, ["g-unassigned"]);
}

async fn keyword_sort_and_pagination(db: TestDatabase) {
    let w = world(&db).await;
    let mut owned = licence(
        &w,
        "Radiology 100%",
        Owner::Organisation {
            organisation_id: w.north.id,
            user_id: Some(w.north_user.id),
        },
        "BBBBBBBA",
        t0(),
    );
    owned.note = "second floor".into();
    let south = licence(
        &w,
        "Lab floor",
        Owner::Organisation {
            organisation_id: w.south.id,
            user_id: None,
        },
        "BBBBBBBB",
        t0(),
    );
    let spare = licence(&w, "Spare", Owner::Unassigned, "K7PMW2QX", t0());
    apply(
        &w.store,
        vec![
            Change::InsertLicence(owned),
            Change::InsertLicence(south),
            Change::InsertLicence(spare),
        ],
    )
    .await;
    let mut f = filter(t0());
    for (q, expected) in [
        ("radiology", vec!["Radiology 100%"]),
        ("SECOND FLOOR", vec!["Radiology 100%"]),
        ("k7pmw2", vec!["Spare"]),
        ("south labs", vec!["Lab floor"]),
        ("nina@north", vec!["Radiology 100%"]),
        ("100%", vec!["Radiology 100%"]),
        ("_", vec![]),
        ("floor", vec!["Lab floor", "Radiology 100%"]),
    ] {
        f.q = Some(q.into());
        assert_eq!(names(&w, Visibility::Everything, &f).await, expected, "q={q}");
    }
    f.q = None;
    f.user = Some(w.north_user.id);
    assert_eq!(names(&w, Visibility::Everything, &f).await, ["Radiology 100%"]);
    f.user = None;
    f.organisation = Some(w.south.id);
    assert_eq!(names(&w, Visibility::Everything, &f).await, ["Lab floor"]);
    f.organisation = None;
    f.sort = LicenceSort {
        key: LicenceSortKey::Name,
        descending: true,
    };
    f.page = PageRequest { page: 2, per_page: 2 };
    let page = w
        .store
        .licences(Visibility::Everything, &f)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|d| d.licence.name.as_str()).collect::<Vec<_>>(),
        ["Lab floor"]
    );
}

async fn visibility_scopes_every_read(db: TestDatabase) {
    let w = world(&db).await;
    let north_licence = licence(&w, "north", north(&w), "CCCCCCCA", t0());
    let south_licence = licence(
        &w,
        "south",
        Owner::Organisation {
            organisation_id: w.south.id,
            user_id: None,
        },
        "CCCCCCCB",
        t0(),
    );
    let spare = licence(&w, "spare by manager", Owner::Unassigned, "CCCCCCCC", t0());
    let (n, s, sp) = (north_licence.id, south_licence.id, spare.id);
    apply(
        &w.store,
        vec![
            Change::InsertLicence(north_licence),
            Change::InsertLicence(south_licence),
            Change::InsertLicence(spare),
        ],
    )
    .await;
    let f = filter(t0());
    let manager = Visibility::ManagedBy(w.manager.id);
    assert_eq!(names(&w, manager, &f).await, ["north", "spare by manager"]);
    assert_eq!(names(&w, Visibility::Organisation(w.south.id), &f).await, ["south"]);
    assert_eq!(names(&w, Visibility::Everything, &f).await.len(), 3);
    let get = |vis, id| {
        let store = w.store.clone();
        async move { store.licence(vis, id).await.unwrap_or_else(|e| panic!("{e}")).is_some() }
    };
    assert!(get(manager, n).await && get(manager, sp).await && !get(manager, s).await);
    assert!(!get(Visibility::Organisation(w.north.id), s).await);
    assert!(
        !get(Visibility::Organisation(w.north.id), sp).await,
        "unassigned licences are the vendor's"
    );

    let orgs = w
        .store
        .organisations(manager, &ListFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        orgs.items.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["North Clinic"]
    );
    assert!(w
        .store
        .organisation(Visibility::Organisation(w.north.id), w.south.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    let users = w
        .store
        .users(Visibility::Organisation(w.south.id), &ListFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(users.total, 0);
    let users = w
        .store
        .users(manager, &ListFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        users.total, 2,
        "the manager and the user of the organisation they manage"
    );
}

async fn coupon_codes_are_unique(db: TestDatabase) {
    let w = world(&db).await;
    apply(
        &w.store,
        vec![Change::InsertLicence(licence(&w, "first", north(&w), "DDDDDDDD", t0()))],
    )
    .await;
    let again = ChangeSet {
        changes: vec![Change::InsertLicence(licence(
            &w,
            "second",
            north(&w),
            "DDDDDDDD",
            t0(),
        ))],
        ..ChangeSet::default()
    };
    let result = w.store.commit(&ctx(t0()), again).await;
    assert!(
        matches!(
            result,
            Err(StoreError::Domain(DomainError::Conflict {
                code: "coupon_collision",
                ..
            }))
        ),
        "{result:?}"
    );
    assert!(w
        .store
        .licence_by_coupon("DDDDDDDD")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some_and(|l| l.name == "first"));
    // Another unique violation (the same id again) is not a coupon collision:
    // retrying it with a new code would loop for nothing.
    let first = w
        .store
        .licence_by_coupon("DDDDDDDD")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("first"));
    let same_id = Licence {
        id: first.id,
        ..licence(&w, "third", north(&w), "EEEEEEEE", t0())
    };
    let result = w
        .store
        .commit(
            &ctx(t0()),
            ChangeSet {
                changes: vec![Change::InsertLicence(same_id)],
                ..ChangeSet::default()
            },
        )
        .await;
    assert!(
        result.is_err()
            && !matches!(
                result,
                Err(StoreError::Domain(DomainError::Conflict {
                    code: "coupon_collision",
                    ..
                }))
            ),
        "{result:?}"
    );
}

async fn a_failed_change_set_leaves_nothing_behind(db: TestDatabase) {
    let w = world(&db).await;
    apply(
        &w.store,
        vec![Change::InsertLicence(licence(&w, "taken", north(&w), "EEEEEEEE", t0()))],
    )
    .await;
    let good = licence(&w, "would be written", north(&w), "EEEEEEEF", t0());
    let good_id = good.id;
    let set = ChangeSet {
        changes: vec![
            Change::InsertLicence(good),
            Change::InsertLicence(licence(&w, "dup", north(&w), "EEEEEEEE", t0())),
        ],
        audit: vec![AuditRecord {
            organisation_id: Some(w.north.id),
            product_id: None,
            action: "licence.created",
            object_kind: "licence",
            object_id: good_id.as_uuid(),
            before: None,
            after: None,
        }],
        idempotency: None,
    };
    assert!(w.store.commit(&ctx(t0()), set).await.is_err());
    assert!(w
        .store
        .licence(Visibility::Everything, good_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    let audit = AuditFilter {
        organisation: None,
        product: None,
        licence: Some(good_id),
        actor: None,
        from: None,
        to: None,
        page: PageRequest::default(),
    };
    assert_eq!(
        w.store
            .audit(Visibility::Everything, &audit)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .total,
        0
    );
}

async fn changes_and_audit_entries_commit_together(db: TestDatabase) {
    let w = world(&db).await;
    let l = licence(&w, "audited", north(&w), "FFFFFFFF", t0());
    let id = l.id;
    let set = ChangeSet {
        audit: vec![AuditRecord {
            organisation_id: Some(w.north.id),
            product_id: Some(w.product.id),
            action: "licence.created",
            object_kind: "licence",
            object_id: id.as_uuid(),
            before: None,
            after: Some(serde_json::json!({"name": "audited"})),
        }],
        changes: vec![Change::InsertLicence(l)],
        idempotency: None,
    };
    w.store.commit(&ctx(t0()), set).await.unwrap_or_else(|e| panic!("{e}"));
    let filter = AuditFilter {
        organisation: None,
        product: Some(w.product.id),
        licence: Some(id),
        actor: None,
        from: None,
        to: None,
        page: PageRequest::default(),
    };
    let entries = w
        .store
        .audit(Visibility::Organisation(w.north.id), &filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.total, 1);
    let entry = &entries.items[0];
    assert_eq!(
        (entry.action.as_str(), entry.request_id.as_deref()),
        ("licence.created", Some("test"))
    );
    assert_eq!(entry.after, Some(serde_json::json!({"name": "audited"})));
    let hidden = w
        .store
        .audit(Visibility::Organisation(w.south.id), &filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hidden.total, 0);
}

async fn optimistic_updates_detect_a_concurrent_change(db: TestDatabase) {
    let w = world(&db).await;
    let l = licence(&w, "v0", Owner::Unassigned, "GGGGGGGG", t0());
    apply(&w.store, vec![Change::InsertLicence(l.clone())]).await;
    let mut first = l.clone();
    first.redeem(w.north.id, t0()).unwrap_or_else(|e| panic!("{e}"));
    first.version = 1;
    let mut second = l.clone();
    second.redeem(w.south.id, t0()).unwrap_or_else(|e| panic!("{e}"));
    second.version = 1;
    apply(&w.store, vec![Change::UpdateLicence(first)]).await;
    let result = w
        .store
        .commit(
            &ctx(t0()),
            ChangeSet {
                changes: vec![Change::UpdateLicence(second)],
                ..ChangeSet::default()
            },
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Stale)),
        "a coupon is redeemed once: {result:?}"
    );
    let stored = w
        .store
        .licence_by_coupon("GGGGGGGG")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.owner_organisation_id, Some(w.north.id));
    let delete = ChangeSet {
        changes: vec![Change::DeleteLicence { id: l.id, version: 1 }],
        ..ChangeSet::default()
    };
    assert!(
        matches!(w.store.commit(&ctx(t0()), delete).await, Err(StoreError::Stale)),
        "a redeemed licence is never deleted"
    );
}

async fn idempotency_keys_replay_and_refuse_reuse(db: TestDatabase) {
    let w = world(&db).await;
    let first = licence(&w, "once", north(&w), "HHHHHHHH", t0());
    let claim = |hash: &str, id: LicenceId| IdempotencyClaim {
        scope: "user:1".into(),
        key: "k-1".into(),
        request_hash: hash.into(),
        resource_id: id.as_uuid(),
    };
    let set = ChangeSet {
        idempotency: Some(claim("h1", first.id)),
        changes: vec![Change::InsertLicence(first.clone())],
        audit: vec![],
    };
    assert_eq!(w.store.commit(&ctx(t0()), set).await.ok(), Some(Committed::Applied));
    let retry = licence(&w, "once", north(&w), "HHHHHHHJ", t0());
    let set = ChangeSet {
        idempotency: Some(claim("h1", retry.id)),
        changes: vec![Change::InsertLicence(retry.clone())],
        audit: vec![],
    };
    assert_eq!(
        w.store.commit(&ctx(t0()), set).await.ok(),
        Some(Committed::Replayed {
            resource_id: first.id.as_uuid()
        })
    );
    assert!(w
        .store
        .licence(Visibility::Everything, retry.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    let other = ChangeSet {
        idempotency: Some(claim("h2", retry.id)),
        changes: vec![Change::InsertLicence(retry)],
        audit: vec![],
    };
    assert!(matches!(
        w.store.commit(&ctx(t0()), other).await,
        Err(StoreError::Domain(DomainError::IdempotencyKeyReused))
    ));
    assert_eq!(
        w.store
            .idempotency_record("user:1", "k-1")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(("h1".into(), first.id.as_uuid()))
    );
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_session(db: TestDatabase) {
    let w = world(&db).await;
    let session = AuthSession {
        id: AuthSessionId::from_uuid(Uuid::now_v7()),
        user_id: w.north_user.id,
        refresh_hash: "r1".into(),
        created_at: t0(),
        expires_at: t0() + Duration::days(30),
    };
    w.store
        .start_auth_session(&session)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let now = t0() + Duration::minutes(1);
    let rotated = w
        .store
        .rotate_refresh_token("r1", "r2", now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(rotated, RefreshOutcome::Rotated { ref user, .. } if user.id == w.north_user.id));
    assert!(w.store.auth_session_live(session.id, now).await.unwrap_or(false));
    assert_eq!(
        w.store.rotate_refresh_token("r1", "r3", now).await.ok(),
        Some(RefreshOutcome::Reused)
    );
    assert!(
        !w.store.auth_session_live(session.id, now).await.unwrap_or(true),
        "reuse revokes the session"
    );
    assert_eq!(
        w.store.rotate_refresh_token("r2", "r4", now).await.ok(),
        Some(RefreshOutcome::Invalid)
    );
    assert_eq!(
        w.store.rotate_refresh_token("unknown", "r5", now).await.ok(),
        Some(RefreshOutcome::Invalid)
    );
}

async fn api_keys_authenticate_until_revoked(db: TestDatabase) {
    let w = world(&db).await;
    let key = ApiKey {
        id: ApiKeyId::from_uuid(Uuid::now_v7()),
        name: "agent".into(),
        organisation_id: Some(w.north.id),
        scopes: vec![ApiScope::DevicesRegister, ApiScope::LicencesRead],
        prefix: "lh_abc".into(),
        created_by: None,
        created_at: t0(),
        last_used_at: None,
        revoked_at: None,
    };
    apply(
        &w.store,
        vec![Change::InsertApiKey {
            key: key.clone(),
            key_hash: "hash-1".into(),
        }],
    )
    .await;
    let found = w
        .store
        .authenticate_api_key("hash-1", t0())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.map(|k| k.scopes), Some(key.scopes.clone()));
    let listed = w
        .store
        .api_key(Visibility::Organisation(w.north.id), key.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.and_then(|k| k.last_used_at), Some(t0()), "use is recorded");
    assert!(w
        .store
        .api_key(Visibility::Organisation(w.south.id), key.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    apply(&w.store, vec![Change::RevokeApiKey { id: key.id, at: t0() }]).await;
    assert!(w
        .store
        .authenticate_api_key("hash-1", t0())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
}

async fn unique_emails_and_product_codes(db: TestDatabase) {
    let w = world(&db).await;
    let twin = user("nina@north.test", Role::Member, Some(w.north.id));
    let result = w
        .store
        .commit(
            &ctx(t0()),
            ChangeSet {
                changes: vec![Change::InsertUser {
                    user: twin,
                    password_hash: "x".into(),
                }],
                ..ChangeSet::default()
            },
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Domain(DomainError::Validation(ref f))) if f[0].code == "email_taken"),
        "{result:?}"
    );
    let mut product = w.product.clone();
    product.id = ProductId::from_uuid(Uuid::now_v7());
    let result = w
        .store
        .commit(
            &ctx(t0()),
            ChangeSet {
                changes: vec![Change::InsertProduct(product)],
                ..ChangeSet::default()
            },
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Domain(DomainError::Validation(ref f))) if f[0].code == "code_taken"),
        "{result:?}"
    );
    let stored = w.store.product(w.product.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored, Some(w.product.clone()), "products round-trip, prices included");
}

async fn signing_keys_are_created_once(db: TestDatabase) {
    let w = world(&db).await;
    let first = w
        .store
        .ensure_signing_key("k1", b"one", t0())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = w
        .store
        .ensure_signing_key("k2", b"two", t0())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, ("k1".to_owned(), b"one".to_vec()));
    assert_eq!(second, first, "an existing key is kept");
    assert_eq!(w.store.signing_keys().await.unwrap_or_default().len(), 1);
}

on_both_engines!(
    expiring_filters_hold_at_the_window_edges,
    keyword_sort_and_pagination,
    visibility_scopes_every_read,
    coupon_codes_are_unique,
    a_failed_change_set_leaves_nothing_behind,
    changes_and_audit_entries_commit_together,
    optimistic_updates_detect_a_concurrent_change,
    idempotency_keys_replay_and_refuse_reuse,
    refresh_tokens_rotate_and_reuse_revokes_the_session,
    api_keys_authenticate_until_revoked,
    unique_emails_and_product_codes,
    signing_keys_are_created_once,
);

/// Both migration sets hold the same tables and columns.
#[tokio::test]
async fn both_schemas_hold_the_same_tables_and_columns() {
    let Some(pg_db) = TestDatabase::postgres().await else {
        return;
    };
    let sqlite_db = TestDatabase::sqlite();
    let sqlite = leasehold_store::sqlite::SqliteStore::open(&sqlite_db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlite.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let pg = leasehold_store::postgres::PgStore::open(&pg_db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    pg.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let mut sqlite_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(sqlite.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut pg_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pg.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    sqlite_columns.sort();
    pg_columns.sort();
    assert!(
        sqlite_columns.len() > 50,
        "the schema was read: {}",
        sqlite_columns.len()
    );
    assert_eq!(sqlite_columns, pg_columns);
}
