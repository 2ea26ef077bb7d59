//! Reports over HTTP: a pool's figures with seats added by every source, the
//! month-end additions as JSON and as CSV that sums to it, and who may see what.

mod support;

use chrono::{Datelike, Utc};
use leasehold_core::values::{AdditionSource, Plan, ReportBucket};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

fn licence(w: &World, quantity: i64, owner: Option<leasehold_core::ids::OrganisationId>) -> CreateLicence {
    CreateLicence {
        product_id: w.product,
        plan: Plan::Yearly,
        name: "Seats".into(),
        note: None,
        quantity,
        owner_organisation_id: owner,
        owner_user_id: None,
        auto_renew: false,
    }
}

async fn a_report_counts_seats_added_by_every_source_and_the_csv_sums_to_the_json(db: TestDatabase) {
    let (w, agent) = with_devices(world(db).await).await; // 2 seats from the account manager
    let pool = ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0].id;
    ok(w.north_admin
        .buy_seats(
            pool,
            &BuySeats {
                quantity: 1,
                plan: Plan::Yearly,
            },
        )
        .await);
    let coupon = ok(w.manager.create_licence(&licence(&w, 4, None), None).await);
    ok(w.north_admin.redeem_coupon(&coupon.body.coupon_code, None).await);
    // Below 1 free seat, add 3: the seventh device triggers one top-up.
    let topup = UpdatePool {
        topup_enabled: Some(true),
        topup_below: Some(1),
        topup_add: Some(3),
        topup_max_per_month: Some(2),
        topup_plan: Some(Plan::Yearly),
        ..UpdatePool::default()
    };
    ok(w.north_admin.update_pool(pool, &topup).await);
    for i in 0..7 {
        let body = RegisterDevice {
            fingerprint: format!("desk-{i}"),
            name: format!("desk-{i}"),
            product_id: w.product,
        };
        ok(agent.register_device(&body, None).await);
    }
    // A south licence the north must never see.
    ok(w.vendor.create_licence(&licence(&w, 9, Some(w.south)), None).await);

    let today = Utc::now().date_naive();
    let query = PoolReportQuery {
        from: today - chrono::Duration::days(6),
        to: today,
        bucket: Some(ReportBucket::Day),
    };
    let report = ok(w.north_viewer.pool_report(pool, &query).await);
    assert_eq!((report.buckets.len(), report.product_name.as_str()), (7, "CAD Pro"));
    let added = report.summary.seats_added;
    assert_eq!(
        (added.account_manager, added.purchase, added.coupon, added.automatic),
        (2, 1, 4, 3)
    );
    assert_eq!(report.summary.topups, 1);
    assert_eq!(report.buckets[6].seats_added, added);
    assert_eq!(report.buckets[0].seats_added.total(), 0);
    assert_eq!((report.summary.peak_held, report.summary.capacity_at_end), (7, 10));
    assert_eq!(report.summary.available_at_end, 3);
    assert!(report.summary.utilisation.is_some_and(|u| u > 0.0 && u <= 1.0));
    assert_eq!(
        report.buckets[0].utilisation, None,
        "no capacity before the first licence"
    );
    let weekly = ok(w
        .north_viewer
        .pool_report(
            pool,
            &PoolReportQuery {
                bucket: Some(ReportBucket::Week),
                ..query.clone()
            },
        )
        .await);
    assert_eq!(weekly.summary.seats_added, added);
    assert!((1..=2).contains(&weekly.buckets.len()));

    // Today is reported up to now, not as a whole day at the current state;
    // a period reaching into the future ends now.
    let last = &report.buckets[6];
    assert_eq!((last.end, report.summary.end), (report.until, report.until));
    let now = Utc::now();
    assert!(report.until <= now && report.until > now - chrono::Duration::minutes(1));
    let ahead = PoolReportQuery {
        from: today - chrono::Duration::days(1),
        to: today + chrono::Duration::days(5),
        bucket: Some(ReportBucket::Day),
    };
    let ahead = ok(w.north_viewer.pool_report(pool, &ahead).await);
    assert_eq!(ahead.buckets.len(), 2);
    assert_eq!(ahead.buckets[1].end, ahead.until);

    // The month's additions: the vendor sees both organisations, north only itself.
    let month = format!("{:04}-{:02}", today.year(), today.month());
    let all = ok(w.vendor.additions(&month).await);
    let north = ok(w.north_admin.additions(&month).await);
    assert!(north.lines.iter().all(|l| l.organisation_id == w.north));
    assert!(all.lines.iter().any(|l| l.organisation_id == w.south && l.seats == 9));
    let sources: Vec<_> = north.lines.iter().map(|l| (l.source, l.seats, l.licences)).collect();
    assert_eq!(
        sources,
        [
            (AdditionSource::Automatic, 3, 1),
            (AdditionSource::Purchase, 1, 1),
            (AdditionSource::Coupon, 4, 1),
            (AdditionSource::AccountManager, 2, 1),
        ]
    );
    assert_eq!(
        north.totals,
        [CurrencyTotal {
            currency: "EUR".into(),
            seats: 10,
            amount: 150_000
        }]
    );

    let csv = ok(w.vendor.additions_csv(&month).await);
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("month,organisation_id,organisation,product_code,product,source,licences,seats,amount,currency")
    );
    let (mut seats, mut cents, mut lines) = (0_i64, 0_i64, 0);
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 10, "{row}");
        assert_eq!(cells[0], month);
        seats += cells[7].parse::<i64>().unwrap_or_else(|e| panic!("{row}: {e}"));
        let (whole, fraction) = cells[8].split_once('.').unwrap_or_else(|| panic!("{row}"));
        cents += whole.parse::<i64>().unwrap_or_default() * 100 + fraction.parse::<i64>().unwrap_or_default();
        lines += 1;
    }
    assert_eq!(lines, all.lines.len());
    assert_eq!(seats, all.totals.iter().map(|t| t.seats).sum::<i64>());
    assert_eq!(cents, all.totals.iter().map(|t| t.amount).sum::<i64>());

    // The download's headers.
    let response = w
        .vendor
        .request(reqwest::Method::GET, &format!("/v1/reports/additions?month={month}"))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/csv"));
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"leasehold-additions-{month}.csv\"")
    );

    // Another organisation's pool is not found; bad input is a field error.
    assert_eq!(err(w.south_admin.pool_report(pool, &query).await).status(), Some(404));
    let backwards = PoolReportQuery {
        from: today,
        to: today - chrono::Duration::days(1),
        bucket: None,
    };
    let problem = err(w.north_admin.pool_report(pool, &backwards).await);
    assert_eq!((problem.status(), problem.code()), (Some(422), "validation_failed"));
    assert_eq!(
        problem.problem().map(|p| p.fields[0].code.as_str()),
        Some("invalid_range")
    );
    let tomorrow = PoolReportQuery {
        from: today + chrono::Duration::days(1),
        to: today + chrono::Duration::days(3),
        bucket: None,
    };
    let problem = err(w.north_admin.pool_report(pool, &tomorrow).await);
    assert_eq!(problem.problem().map(|p| p.fields[0].code.as_str()), Some("not_begun"));
    let too_long = PoolReportQuery {
        from: today - chrono::Duration::days(800),
        to: today,
        bucket: None,
    };
    let problem = err(w.north_admin.pool_report(pool, &too_long).await);
    assert_eq!(
        problem.problem().map(|p| p.fields[0].code.as_str()),
        Some("range_too_long")
    );
    let problem = err(w.vendor.additions("2026-13").await);
    assert_eq!(
        problem.problem().map(|p| p.fields[0].code.as_str()),
        Some("invalid_month")
    );
}

on_both_engines!(a_report_counts_seats_added_by_every_source_and_the_csv_sums_to_the_json);
