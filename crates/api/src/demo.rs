//! Demo data: a vendor, two customer organisations, products and licences in
//! every state. Idempotent: a database that has the demo vendor admin is left alone.

use crate::error::ApiError;
use crate::service::accounts::create_user_as_system;
use crate::service::snapshot;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::ids::{LicenceId, OrganisationId, ProductId};
use leasehold_core::licence::{Licence, Organisation, Owner, Product};
use leasehold_core::ports::{AuditRecord, Change, ChangeSet, ListFilter, WriteContext};
use leasehold_core::seat::{Checkout, DeviceRegistration, Registration};
use leasehold_core::values::{CouponCode, Email, LicenceSource, Plan, Role, SeatKind};
use rand::RngCore;
use uuid::Uuid;

pub const DEMO_PASSWORD: &str = "leasehold-demo";

/// The demo logins: (e-mail, role, what they see).
pub const DEMO_LOGINS: &[(&str, &str, &str)] = &[
    ("admin@vendor.example", "vendor_admin", "everything"),
    ("am@vendor.example", "account_manager", "Northwind Clinics"),
    ("admin@northwind.example", "org_admin", "Northwind Clinics"),
    (
        "viewer@northwind.example",
        "org_viewer",
        "Northwind Clinics (read only)",
    ),
    ("admin@contoso.example", "org_admin", "Contoso Labs"),
    ("nurse@northwind.example", "member", "their own floating seats"),
];

/// (product, plan, name, note, quantity, owner, started days ago, paused)
type DemoLicence<'a> = (&'a Product, Plan, &'a str, &'a str, u32, Owner, i64, bool);

fn system_context(now: DateTime<Utc>) -> WriteContext {
    WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now,
    }
}

fn coupon() -> CouponCode {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    CouponCode::from_random(bytes)
}

/// Creates the demo data unless it exists. Returns whether it created anything.
pub async fn seed(state: &AppState) -> Result<bool, ApiError> {
    let admin = Email::parse("admin@vendor.example")?;
    if state.store.credentials(&admin).await?.is_some() {
        return Ok(false);
    }
    let now = Utc::now();
    create_user_as_system(
        state,
        admin.as_str(),
        "Vera Vendor",
        DEMO_PASSWORD,
        Role::VendorAdmin,
        None,
    )
    .await?;
    let manager = create_user_as_system(
        state,
        "am@vendor.example",
        "Arun Manager",
        DEMO_PASSWORD,
        Role::AccountManager,
        None,
    )
    .await?;

    let northwind = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: "Northwind Clinics".into(),
        account_manager_id: Some(manager.id),
        created_at: now,
    };
    let contoso = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: "Contoso Labs".into(),
        account_manager_id: None,
        created_at: now,
    };
    let cad = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "CAD".into(),
        name: "CAD Pro".into(),
        seat_kind: SeatKind::Device,
        currency: "EUR".into(),
        prices: [
            (Plan::Monthly, 1500),
            (Plan::Yearly, 15000),
            (Plan::Perpetual, 90000),
            (Plan::Trial, 0),
        ]
        .into_iter()
        .collect(),
        default_lease_seconds: 900,
        created_at: now,
    };
    let viewer = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "VIEW".into(),
        name: "Viewer Floating".into(),
        seat_kind: SeatKind::Concurrent,
        currency: "EUR".into(),
        prices: [(Plan::Monthly, 900), (Plan::Yearly, 9000)].into_iter().collect(),
        default_lease_seconds: 900,
        created_at: now,
    };
    let mut set = ChangeSet::default();
    for org in [&northwind, &contoso] {
        set.audit.push(AuditRecord {
            organisation_id: Some(org.id),
            product_id: None,
            action: "organisation.created",
            object_kind: "organisation",
            object_id: org.id.as_uuid(),
            before: None,
            after: snapshot(org),
        });
        set.changes.push(Change::InsertOrganisation(org.clone()));
    }
    for product in [&cad, &viewer] {
        set.audit.push(AuditRecord {
            organisation_id: None,
            product_id: Some(product.id),
            action: "product.created",
            object_kind: "product",
            object_id: product.id.as_uuid(),
            before: None,
            after: snapshot(product),
        });
        set.changes.push(Change::InsertProduct(product.clone()));
    }
    state.store.commit(&system_context(now), set).await?;

    create_user_as_system(
        state,
        "admin@northwind.example",
        "Nadia North",
        DEMO_PASSWORD,
        Role::OrgAdmin,
        Some(northwind.id),
    )
    .await?;
    create_user_as_system(
        state,
        "viewer@northwind.example",
        "Victor View",
        DEMO_PASSWORD,
        Role::OrgViewer,
        Some(northwind.id),
    )
    .await?;
    let nurse = create_user_as_system(
        state,
        "nurse@northwind.example",
        "Nina Nurse",
        DEMO_PASSWORD,
        Role::Member,
        Some(northwind.id),
    )
    .await?;
    create_user_as_system(
        state,
        "admin@contoso.example",
        "Carl Contoso",
        DEMO_PASSWORD,
        Role::OrgAdmin,
        Some(contoso.id),
    )
    .await?;

    let to_northwind = Owner::Organisation {
        organisation_id: northwind.id,
        user_id: None,
    };
    let to_nurse = Owner::Organisation {
        organisation_id: northwind.id,
        user_id: Some(nurse.id),
    };
    let to_contoso = Owner::Organisation {
        organisation_id: contoso.id,
        user_id: None,
    };
    let licences: Vec<DemoLicence> = vec![
        (
            &cad,
            Plan::Yearly,
            "Northwind radiology workstations",
            "Renewed every spring",
            6,
            to_northwind.clone(),
            40,
            false,
        ),
        (
            &viewer,
            Plan::Monthly,
            "Northwind reception viewers",
            "",
            10,
            to_nurse.clone(),
            20,
            false,
        ),
        (
            &cad,
            Plan::Monthly,
            "Northwind night shift",
            "Paused while the ward is closed",
            4,
            to_northwind.clone(),
            10,
            true,
        ),
        (
            &cad,
            Plan::Yearly,
            "Northwind surgery suite",
            "Renewal due",
            8,
            to_northwind.clone(),
            350,
            false,
        ),
        (
            &viewer,
            Plan::Monthly,
            "Northwind pilot (ended)",
            "Pilot finished in the autumn",
            3,
            to_northwind.clone(),
            75,
            false,
        ),
        (
            &cad,
            Plan::Trial,
            "Contoso evaluation",
            "Two-week trial",
            5,
            to_contoso.clone(),
            3,
            false,
        ),
        (
            &viewer,
            Plan::Yearly,
            "Contoso lab floor",
            "",
            12,
            to_contoso.clone(),
            100,
            false,
        ),
        (
            &cad,
            Plan::Perpetual,
            "Contoso archive terminals",
            "Perpetual, maintenance billed apart",
            2,
            to_contoso,
            200,
            false,
        ),
        (
            &cad,
            Plan::Yearly,
            "Spare seats for a new customer",
            "Hand the coupon to the customer",
            10,
            Owner::Unassigned,
            0,
            false,
        ),
        (
            &viewer,
            Plan::Monthly,
            "Conference demo kit",
            "",
            3,
            Owner::Unassigned,
            0,
            false,
        ),
    ];
    for (product, plan, name, note, quantity, owner, days_ago, paused) in licences {
        let start = now - Duration::days(days_ago);
        let mut licence = Licence::new(
            LicenceId::from_uuid(Uuid::now_v7()),
            product,
            plan,
            name.into(),
            note.into(),
            quantity,
            owner,
            coupon(),
            LicenceSource::AccountManager,
            Some(manager.id),
            start,
        )?;
        if paused {
            licence.pause(start)?;
        }
        let set = ChangeSet {
            audit: vec![AuditRecord {
                organisation_id: licence.owner_organisation_id,
                product_id: Some(licence.product_id),
                action: "licence.created",
                object_kind: "licence",
                object_id: licence.id.as_uuid(),
                before: None,
                after: snapshot(&licence),
            }],
            changes: vec![Change::InsertLicence(licence)],
            idempotency: None,
        };
        state.store.commit(&system_context(start), set).await?;
    }
    // Four weeks of Northwind's CAD usage before today, so reports have history.
    usage_history(state, northwind.id, cad.id, now).await?;
    // Northwind's CAD pool (6 + 8 seats) is full: 14 licensed devices, 3 waiting, 1 blocked.
    let device = |i: usize, name: &str| DeviceRegistration {
        organisation_id: northwind.id,
        product_id: cad.id,
        fingerprint: format!("NW-{i:04}-{}", name.to_lowercase().replace(' ', "-")),
        name: name.to_owned(),
    };
    let names = [
        "Radiology 1",
        "Radiology 2",
        "Radiology 3",
        "Radiology 4",
        "Radiology 5",
        "Radiology 6",
        "Theatre A",
        "Theatre B",
        "Theatre C",
        "Recovery desk",
        "Ward 4 station",
        "Ward 5 station",
        "Pharmacy",
        "Front desk",
        "Locum laptop",
        "New scanner PC",
        "Training room",
        "Lost tablet",
    ];
    let mut lost = None;
    for (i, name) in names.iter().enumerate() {
        let at = now - Duration::hours((names.len() - i) as i64);
        let outcome = state
            .store
            .register_device(&system_context(at), &device(i, name), None)
            .await?;
        if *name == "Lost tablet" {
            if let Registration::Queued { device, .. } = outcome {
                lost = Some(device.id);
            }
        }
    }
    if let Some(lost) = lost {
        state
            .store
            .block_device(&system_context(now), Visibility::Everything, lost)
            .await?;
    }
    // Northwind's floating viewer seats: members signed in from their clients.
    let mut members = vec![(nurse.id, "reception-pc-1", 12)];
    for (email, name, client, minutes_ago) in [
        ("dr.ahmed@northwind.example", "Dr Samira Ahmed", "surgery-laptop", 3),
        ("dr.kowalski@northwind.example", "Dr Piotr Kowalski", "home-office", 9),
        ("reception@northwind.example", "Front Reception", "reception-pc-2", 1),
    ] {
        let user = create_user_as_system(state, email, name, DEMO_PASSWORD, Role::Member, Some(northwind.id)).await?;
        members.push((user.id, client, minutes_ago));
    }
    for (user, client, minutes_ago) in members {
        let checkout = Checkout {
            organisation_id: northwind.id,
            product_id: viewer.id,
            user_id: user,
            client_id: client.to_owned(),
        };
        let at = now - Duration::minutes(minutes_ago);
        state.store.checkout(&system_context(at), &checkout).await?;
    }
    let organisations = state
        .store
        .organisations(Visibility::Everything, &ListFilter::default())
        .await?;
    tracing::info!(organisations = organisations.total, "demo data created");
    Ok(true)
}

/// Working days on the 14-seat pool: devices come in from 08:00 and leave from
/// 17:00, busy days fill it (queues and refused retries), weekends are quiet.
/// Written as usage events, as if the seat engine had recorded them.
async fn usage_history(
    state: &AppState,
    organisation: OrganisationId,
    product: ProductId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    use chrono::{Datelike, Weekday};
    use leasehold_core::ports::{PoolFilter, UsageEvent};
    let filter = PoolFilter {
        organisation: Some(organisation),
        product: Some(product),
        ..PoolFilter::default()
    };
    let Some(pool) = state
        .store
        .pools(Visibility::Everything, &filter)
        .await?
        .items
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let capacity = 14;
    let today = leasehold_core::report::bucket_start(leasehold_core::report::Bucket::Day, now);
    let mut events = Vec::new();
    let mut push = |at: DateTime<Utc>, kind: &str, held: i64, subject: u128| {
        events.push(UsageEvent {
            pool_id: pool.pool.id,
            at,
            kind: kind.into(),
            held,
            capacity,
            subject_id: Some(Uuid::from_u128(subject)),
            reason: None,
        });
    };
    // Up to the day before yesterday: the devices registered below arrive in the last 18 hours.
    for back in (2..=29).rev() {
        let day = today - Duration::days(back);
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        // A steady rhythm: 5–14 devices on weekdays, 2–3 at weekends.
        let peak = if weekend { 2 + back % 2 } else { 5 + (back * 7) % 10 };
        for n in 0..peak {
            let device = (back * 100 + n) as u128;
            let arrive = day + Duration::hours(8) + Duration::minutes(n * 11);
            if n >= capacity {
                continue;
            }
            push(arrive, "seat_granted", n + 1, device);
        }
        if peak >= 13 {
            // A full morning: two devices queue, one retries until a seat frees.
            let busy = day + Duration::hours(11);
            push(busy, "request_queued", peak.min(capacity), 9_000 + back as u128);
            push(
                busy + Duration::minutes(4),
                "request_denied",
                peak.min(capacity),
                9_500 + back as u128,
            );
            push(
                busy + Duration::minutes(9),
                "request_denied",
                peak.min(capacity),
                9_500 + back as u128,
            );
            push(
                busy + Duration::minutes(38),
                "seat_granted",
                peak.min(capacity),
                9_000 + back as u128,
            );
        }
        let held = peak.min(capacity);
        for n in 0..held {
            let leave = day + Duration::hours(17) + Duration::minutes(n * 9);
            push(leave, "seat_released", held - n - 1, (back * 100 + n) as u128);
        }
    }
    let url = secrecy::ExposeSecret::expose_secret(&state.settings.database_url).to_owned();
    leasehold_store::import_usage_events(&url, &events).await?;
    Ok(())
}
