//! Invoices over HTTP: only licences with an owning user, at most 20 at once,
//! one result per licence, never a period billed twice (retries, second
//! clicks), the owner e-mailed through the outbox, paid with an audit trail,
//! and each organisation seeing only its own.

mod support;

use leasehold_core::ids::{LicenceId, OrganisationId, UserId};
use leasehold_core::values::{BillingStatus, Channel, InvoiceOutcome, InvoiceStatus, Plan};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use support::*;

fn licence(w: &World, plan: Plan, quantity: i64, org: OrganisationId, user: Option<UserId>) -> CreateLicence {
    CreateLicence {
        product_id: w.product,
        plan,
        name: format!("{quantity} seats"),
        note: None,
        quantity,
        owner_organisation_id: Some(org),
        owner_user_id: user,
        auto_renew: false,
    }
}

async fn invoices_bill_owned_licences_once_each_and_are_paid_with_an_audit_trail(db: TestDatabase) {
    let w = world(db).await;
    let owner = ok(w.north_admin.me().await);
    let create = |body: CreateLicence| {
        let manager = w.manager.clone();
        async move { ok(manager.create_licence(&body, None).await).body.id }
    };
    let yearly = create(licence(&w, Plan::Yearly, 2, w.north, Some(owner.id))).await;
    let unowned = create(licence(&w, Plan::Yearly, 5, w.north, None)).await;
    let monthly = create(licence(&w, Plan::Monthly, 3, w.north, Some(owner.id))).await;

    // 21 licences are refused as a whole, before anything is written.
    let too_many: Vec<LicenceId> = std::iter::repeat_n(yearly, 21).collect();
    let problem = err(w.manager.send_invoices(&too_many, None).await);
    assert_eq!((problem.status(), problem.code()), (Some(422), "too_many_selected"));
    // Customers do not send invoices.
    assert_eq!(
        err(w.north_admin.send_invoices(&[yearly], None).await).status(),
        Some(403)
    );

    let selection = [yearly, unowned, monthly];
    let batch = ok(w.manager.send_invoices(&selection, Some("month-end-1")).await);
    let outcomes: Vec<_> = batch.results.iter().map(|r| (r.licence_id, r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (yearly, InvoiceOutcome::Invoiced),
            (unowned, InvoiceOutcome::NoOwner),
            (monthly, InvoiceOutcome::Invoiced)
        ]
    );
    assert_eq!(batch.invoiced, 2);
    let first = batch.results[0].invoice.clone().unwrap_or_else(|| panic!("no invoice"));
    assert_eq!((first.amount, first.quantity, first.unit_price), (30_000, 2, 15_000));
    assert_eq!(
        (first.owner_email.as_str(), first.status),
        ("admin@north.test", InvoiceStatus::Sent)
    );
    assert!(first.number.starts_with("INV-") && first.period_end.is_some());
    let third = batch.results[2].invoice.clone().unwrap_or_else(|| panic!("no invoice"));
    assert_eq!(third.amount, 4_500);

    // A retry with the same key answers as the first request did; a second
    // click without one reports the earlier invoice: nothing is billed twice.
    let replay = ok(w.manager.send_invoices(&selection, Some("month-end-1")).await);
    assert_eq!(replay, batch, "a replay answers as the first call did, count included");
    let again = ok(w.vendor.send_invoices(&[yearly], None).await);
    assert_eq!(again.results[0].outcome, InvoiceOutcome::AlreadyInvoiced);
    assert_eq!(again.results[0].invoice.as_ref().map(|i| i.id), Some(first.id));
    let all = ok(w.vendor.list_invoices(&InvoiceQuery::default()).await);
    assert_eq!(all.total, 2);
    assert_eq!(
        ok(w.manager.get_licence(yearly).await).billing_status,
        BillingStatus::Invoiced
    );
    assert_eq!(
        ok(w.manager.get_licence(unowned).await).billing_status,
        BillingStatus::Uninvoiced
    );

    // The owner is e-mailed through the outbox, and the organisation told in-app.
    let mails = ok(w
        .vendor
        .list_deliveries(&DeliveryQuery {
            channel: Some(Channel::Email),
            ..DeliveryQuery::default()
        })
        .await);
    let to_owner: Vec<_> = mails
        .items
        .iter()
        .filter(|d| d.kind == "invoice_sent" && d.recipient.as_deref() == Some("admin@north.test"))
        .collect();
    assert_eq!(to_owner.len(), 2);
    let inbox = ok(w.north_viewer.list_notifications(&NotificationQuery::default()).await);
    assert!(inbox
        .items
        .iter()
        .any(|n| n.kind == "invoice_sent" && n.message.contains(&first.number)));

    // Each organisation sees its own invoices only.
    assert_eq!(
        ok(w.north_viewer.list_invoices(&InvoiceQuery::default()).await).total,
        2
    );
    assert_eq!(ok(w.south_admin.list_invoices(&InvoiceQuery::default()).await).total, 0);
    assert_eq!(err(w.south_admin.get_invoice(first.id).await).status(), Some(404));
    // The account manager cannot invoice an organisation it does not manage.
    let south_owner = ok(w.south_admin.me().await);
    let south = ok(w
        .vendor
        .create_licence(&licence(&w, Plan::Yearly, 1, w.south, Some(south_owner.id)), None)
        .await)
    .body
    .id;
    let refused = ok(w.manager.send_invoices(&[south], None).await);
    assert_eq!(refused.results[0].outcome, InvoiceOutcome::NotFound);

    // Paid: the invoice and its licence, once, with audit entries.
    assert_eq!(err(w.north_admin.mark_invoice_paid(first.id).await).status(), Some(403));
    let paid = ok(w.manager.mark_invoice_paid(first.id).await);
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert!(paid.paid_at.is_some());
    assert_eq!(
        ok(w.manager.get_licence(yearly).await).billing_status,
        BillingStatus::Paid
    );
    let twice = err(w.manager.mark_invoice_paid(first.id).await);
    assert_eq!((twice.status(), twice.code()), (Some(409), "already_paid"));
    let filtered = ok(w
        .vendor
        .list_invoices(&InvoiceQuery {
            status: Some(InvoiceStatus::Sent),
            organisation: Some(w.north),
            ..InvoiceQuery::default()
        })
        .await);
    assert_eq!(filtered.items.iter().map(|i| i.id).collect::<Vec<_>>(), [third.id]);
    let audit = ok(w.vendor.list_audit(&AuditQuery::default()).await);
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "invoice.sent").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "invoice.paid").count(), 1);

    // Two concurrent "mark paid" clicks: one marks it, the other is told so,
    // and the audit log says it once.
    let (x, y) = tokio::join!(
        w.manager.mark_invoice_paid(third.id),
        w.vendor.mark_invoice_paid(third.id)
    );
    let refused: Vec<_> = [x, y].into_iter().filter_map(Result::err).collect();
    assert_eq!(refused.len(), 1, "exactly one of the two calls marks it paid");
    assert_eq!((refused[0].status(), refused[0].code()), (Some(409), "already_paid"));
    let audit = ok(w.vendor.list_audit(&AuditQuery::default()).await);
    assert_eq!(audit.items.iter().filter(|a| a.action == "invoice.paid").count(), 2);

    // Overlapping batches asked in opposite orders both answer (rows are
    // locked in one order, so PostgreSQL cannot deadlock them), each licence
    // is billed once, results come in the order asked, a duplicate once.
    let a = create(licence(&w, Plan::Yearly, 1, w.north, Some(owner.id))).await;
    let b = create(licence(&w, Plan::Yearly, 1, w.north, Some(owner.id))).await;
    let (first_order, second_order) = ([a, b], [b, a, b]);
    let (ab, bab) = tokio::join!(
        w.manager.send_invoices(&first_order, None),
        w.vendor.send_invoices(&second_order, None)
    );
    let (ab, bab) = (ok(ab), ok(bab));
    let order = |batch: &InvoiceBatch| batch.results.iter().map(|r| r.licence_id).collect::<Vec<_>>();
    assert_eq!((order(&ab), order(&bab)), (vec![a, b], vec![b, a]));
    assert_eq!(ab.invoiced + bab.invoiced, 2);
    for id in [a, b] {
        let billed = ok(w.vendor.list_invoices(&InvoiceQuery::default()).await)
            .items
            .into_iter()
            .filter(|i| i.licence_id == id)
            .count();
        assert_eq!(billed, 1);
    }
}

on_both_engines!(invoices_bill_owned_licences_once_each_and_are_paid_with_an_audit_trail);
