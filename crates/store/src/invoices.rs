// Invoices, included after `reports.rs` by each engine module.
//
// Sending is one transaction for the whole selection: per licence the
// invoice (unique per licence and billing period, so a retry or a second
// click finds the earlier one instead of billing twice), the licence's
// billing status, the audit entry, the `invoice_sent` notification and the
// e-mail to the owner in the outbox. The per-licence results are kept with
// the Idempotency-Key, so a retried request answers as the first did.

use leasehold_core::licence::{INVOICE_DUE_DAYS, MAX_INVOICE_BATCH};
use leasehold_core::values::{InvoiceOutcome, InvoiceStatus};
use leasehold_core::wire::{InvoiceBatch, InvoiceResult, InvoiceView};

const INVOICE_COLUMNS: &str = "i.id, i.number, i.licence_id, i.licence_name, i.product_name, i.plan, \
     i.organisation_id, o.name AS organisation_name, i.owner_user_id, i.owner_email, i.period_start, i.period_end, \
     i.quantity, i.unit_price, i.amount, i.currency, i.status, i.created_at, i.due_at, i.paid_at";
const INVOICE_FROM: &str = " FROM invoices i JOIN organisations o ON o.id = i.organisation_id";

#[derive(Debug, sqlx::FromRow)]
struct InvoiceRow {
    id: Uuid,
    number: String,
    licence_id: Uuid,
    licence_name: String,
    product_name: String,
    plan: String,
    organisation_id: Uuid,
    organisation_name: String,
    owner_user_id: Uuid,
    owner_email: String,
    period_start: Option<DateTime<Utc>>,
    period_end: Option<DateTime<Utc>>,
    quantity: i64,
    unit_price: i64,
    amount: i64,
    currency: String,
    status: String,
    created_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
}

impl TryFrom<InvoiceRow> for InvoiceView {
    type Error = StoreError;

    fn try_from(row: InvoiceRow) -> Result<Self, StoreError> {
        Ok(InvoiceView {
            id: InvoiceId::from_uuid(row.id),
            number: row.number,
            licence_id: LicenceId::from_uuid(row.licence_id),
            licence_name: row.licence_name,
            product_name: row.product_name,
            plan: parse("plan", &row.plan, leasehold_core::values::Plan::parse)?,
            organisation_id: OrganisationId::from_uuid(row.organisation_id),
            organisation_name: row.organisation_name,
            owner_user_id: UserId::from_uuid(row.owner_user_id),
            owner_email: row.owner_email,
            period_start: row.period_start,
            period_end: row.period_end,
            quantity: row.quantity,
            unit_price: row.unit_price,
            amount: row.amount,
            currency: row.currency,
            status: parse("status", &row.status, InvoiceStatus::parse)?,
            created_at: row.created_at,
            due_at: row.due_at,
            paid_at: row.paid_at,
        })
    }
}

async fn load_invoice(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<Option<InvoiceView>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {INVOICE_COLUMNS}{INVOICE_FROM} WHERE i.id = "));
    qb.push_bind(id);
    push_visibility(&mut qb, vis, "i.organisation_id", None);
    let row: Option<InvoiceRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    row.map(TryInto::try_into).transpose()
}

/// A number people can quote: the day and 12 hex digits of the id's random
/// part (48 bits: a clash between two invoices of one day, which the unique
/// index would refuse, needs some ten million invoices that day).
fn invoice_number(id: Uuid, now: DateTime<Utc>) -> String {
    let simple = id.simple().to_string().to_uppercase();
    format!("INV-{}-{}", now.format("%Y%m%d"), &simple[simple.len() - 12..])
}

/// Invoices one licence inside the batch's transaction.
async fn invoice_licence(
    conn: &mut Conn,
    ctx: &WriteContext,
    vis: Visibility,
    id: LicenceId,
) -> Result<InvoiceResult, StoreError> {
    let result = |outcome, invoice| InvoiceResult {
        licence_id: id,
        outcome,
        invoice,
    };
    let mut qb = QueryBuilder::<Db>::new(LICENCE_SELECT);
    qb.push(LICENCE_FROM).push(" WHERE l.id = ").push_bind(id.as_uuid());
    push_visibility(&mut qb, vis, "l.owner_organisation_id", None);
    let row: Option<LicenceDetailsRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    let Some(details) = row.map(LicenceDetails::try_from).transpose()? else {
        return Ok(result(InvoiceOutcome::NotFound, None));
    };
    let licence = &details.licence;
    if let Some(refusal) = licence.invoice_refusal() {
        return Ok(result(refusal, None));
    }
    let (Some(organisation), Some(owner), Some(owner_email)) =
        (licence.owner_organisation_id, licence.owner_user_id, details.owner_user_email.clone())
    else {
        return Ok(result(InvoiceOutcome::NoOwner, None));
    };
    let period = licence.billing_period();
    let invoice_id = Uuid::now_v7();
    let number = invoice_number(invoice_id, ctx.now);
    let due = ctx.now + chrono::Duration::days(INVOICE_DUE_DAYS);
    let inserted = sqlx::query(
        "INSERT INTO invoices (id, number, licence_id, licence_name, product_name, plan, organisation_id, owner_user_id, \
         owner_email, period, period_start, period_end, quantity, unit_price, amount, currency, status, created_by, \
         created_at, due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'sent', $17, $18, $19) \
         ON CONFLICT (licence_id, period) DO NOTHING",
    )
    .bind(invoice_id)
    .bind(&number)
    .bind(licence.id.as_uuid())
    .bind(&licence.name)
    .bind(&details.product_name)
    .bind(licence.plan.as_str())
    .bind(organisation.as_uuid())
    .bind(owner.as_uuid())
    .bind(&owner_email)
    .bind(&period.key)
    .bind(period.start)
    .bind(period.end)
    .bind(i64::from(licence.quantity))
    .bind(licence.unit_price)
    .bind(licence.amount())
    .bind(&licence.currency)
    .bind(ctx.actor.id)
    .bind(ctx.now)
    .bind(due)
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected();
    if inserted != 1 {
        let earlier: Option<Uuid> = sqlx::query_scalar("SELECT id FROM invoices WHERE licence_id = $1 AND period = $2")
            .bind(licence.id.as_uuid())
            .bind(&period.key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        let invoice = match earlier {
            Some(earlier) => load_invoice(conn, Visibility::Everything, earlier).await?,
            None => None,
        };
        return Ok(result(InvoiceOutcome::AlreadyInvoiced, invoice));
    }
    // Conditional on the version read: a licence renewed meanwhile (another
    // billing period) fails the batch as stale rather than being marked invoiced.
    let updated =
        sqlx::query("UPDATE licences SET billing_status = 'invoiced', version = version + 1 WHERE id = $1 AND version = $2")
            .bind(licence.id.as_uuid())
            .bind(licence.version)
            .execute(&mut *conn)
            .await
            .map_err(backend)?
            .rows_affected();
    if updated != 1 {
        return Err(StoreError::Stale);
    }
    let invoice = load_invoice(conn, Visibility::Everything, invoice_id)
        .await?
        .ok_or_else(|| not_found("invoice"))?;
    let after = serde_json::json!({
        "number": invoice.number,
        "licence_id": invoice.licence_id,
        "amount": invoice.amount,
        "currency": invoice.currency,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "owner_email": invoice.owner_email,
        "billing_status": "invoiced",
    });
    let record = AuditRecord {
        organisation_id: Some(organisation),
        product_id: Some(licence.product_id),
        action: "invoice.sent",
        object_kind: "invoice",
        object_id: invoice_id,
        before: Some(serde_json::json!({"billing_status": licence.billing_status})),
        after: Some(after),
    };
    insert_audit(conn, ctx, &record).await?;
    let message = format!(
        "Invoice {} for {} ({} × {}): {} {}, due {}",
        invoice.number,
        invoice.licence_name,
        invoice.quantity,
        invoice.product_name,
        invoice.currency,
        leasehold_core::licence::decimal_amount(invoice.amount, &invoice.currency),
        invoice.due_at.format("%Y-%m-%d"),
    );
    let data = serde_json::json!({
        "invoice_id": invoice.id,
        "number": invoice.number,
        "licence_id": invoice.licence_id,
        "amount": invoice.amount,
        "currency": invoice.currency,
        "due_at": invoice.due_at,
    });
    let notification =
        notify_organisation(conn, ctx, organisation.as_uuid(), None, "invoice_sent", &message, data).await?;
    // The owner is e-mailed whether or not they are a configured recipient (once).
    let queued: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM deliveries WHERE notification_id = $1 AND channel = 'email' AND recipient = $2",
    )
    .bind(notification)
    .bind(&owner_email)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if queued.is_none() {
        let to = Some(owner_email);
        insert_delivery(conn, ctx, notification, organisation.as_uuid(), Channel::Email, to, None, "invoice_sent", None)
            .await?;
    }
    Ok(result(InvoiceOutcome::Invoiced, Some(invoice)))
}

async fn send_invoices(
    engine: &Engine,
    ctx: &WriteContext,
    vis: Visibility,
    licences: &[LicenceId],
    claim: Option<&IdempotencyClaim>,
) -> Result<InvoiceBatch, StoreError> {
    if licences.len() > MAX_INVOICE_BATCH {
        return Err(leasehold_core::licence::too_many_selected(licences.len()).into());
    }
    let mut tx = engine.begin().await.map_err(backend)?;
    if let Some(claim) = claim {
        if let Some(batch) = claim_idempotency(&mut tx, ctx, claim).await? {
            let (results,): (Json<Vec<InvoiceResult>>,) =
                sqlx::query_as("SELECT results FROM invoice_batches WHERE id = $1")
                    .bind(batch)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
            tx.rollback().await.map_err(backend)?;
            return Ok(InvoiceBatch::of(results.0));
        }
    }
    // Licences are taken in id order, whatever order they were asked in: two
    // overlapping batches then lock their rows in one order and cannot deadlock.
    let mut sorted = licences.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut done = std::collections::HashMap::with_capacity(sorted.len());
    for id in sorted {
        done.insert(id, invoice_licence(&mut tx, ctx, vis, id).await?);
    }
    // The answer follows the request's order, each licence once.
    let results: Vec<InvoiceResult> = licences.iter().filter_map(|id| done.remove(id)).collect();
    let batch = claim.map_or_else(Uuid::now_v7, |c| c.resource_id);
    sqlx::query("INSERT INTO invoice_batches (id, results, created_at) VALUES ($1, $2, $3)")
        .bind(batch)
        .bind(Json(&results))
        .bind(ctx.now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(InvoiceBatch::of(results))
}

async fn invoices(engine: &Engine, vis: Visibility, f: &InvoiceFilter) -> Result<Page<InvoiceView>, StoreError> {
    let build = |select: &str| {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {select}{INVOICE_FROM} WHERE 1 = 1"));
        push_visibility(&mut qb, vis, "i.organisation_id", None);
        if let Some(org) = f.organisation {
            qb.push(" AND i.organisation_id = ").push_bind(org.as_uuid());
        }
        if let Some(status) = f.status {
            qb.push(" AND i.status = ").push_bind(status.as_str());
        }
        qb
    };
    let total = count(build("COUNT(*)"), engine.reader()).await?;
    let mut qb = build(INVOICE_COLUMNS);
    qb.push(" ORDER BY i.created_at DESC, i.id DESC");
    push_page(&mut qb, f.page);
    let rows: Vec<InvoiceRow> = qb.build_query_as().fetch_all(engine.reader()).await.map_err(backend)?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?;
    Ok(Page { items, total })
}

async fn mark_invoice_paid(
    engine: &Engine,
    ctx: &WriteContext,
    vis: Visibility,
    id: InvoiceId,
) -> Result<InvoiceView, StoreError> {
    let mut tx = engine.begin().await.map_err(backend)?;
    let invoice = load_invoice(&mut tx, vis, id.as_uuid()).await?.ok_or_else(|| not_found("invoice"))?;
    let already_paid = |invoice: &InvoiceView| -> StoreError {
        let on = invoice.paid_at.map_or_else(String::new, |at| format!(" on {}", at.format("%Y-%m-%d")));
        DomainError::Conflict {
            code: "already_paid",
            message: format!("invoice {} was already paid{on}", invoice.number),
        }
        .into()
    };
    if invoice.status == InvoiceStatus::Paid {
        return Err(already_paid(&invoice));
    }
    // Conditional: of two concurrent calls, one marks the invoice paid; the other is told so.
    let marked = sqlx::query("UPDATE invoices SET status = 'paid', paid_at = $2 WHERE id = $1 AND status = 'sent'")
        .bind(id.as_uuid())
        .bind(ctx.now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
    if marked != 1 {
        return Err(already_paid(&invoice));
    }
    // The licence is paid when none of its invoices is open, and only from
    // invoiced: a licence renewed since (uninvoiced again) stays so.
    sqlx::query(
        "UPDATE licences SET billing_status = 'paid', version = version + 1 WHERE id = $1 \
         AND billing_status = 'invoiced' AND NOT EXISTS \
         (SELECT 1 FROM invoices WHERE licence_id = $1 AND status = 'sent')",
    )
    .bind(invoice.licence_id.as_uuid())
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let record = AuditRecord {
        organisation_id: Some(invoice.organisation_id),
        product_id: None,
        action: "invoice.paid",
        object_kind: "invoice",
        object_id: id.as_uuid(),
        before: Some(serde_json::json!({"status": "sent"})),
        after: Some(serde_json::json!({"status": "paid", "number": invoice.number, "paid_at": ctx.now})),
    };
    insert_audit(&mut tx, ctx, &record).await?;
    let paid = load_invoice(&mut tx, Visibility::Everything, id.as_uuid())
        .await?
        .ok_or_else(|| not_found("invoice"))?;
    tx.commit().await.map_err(backend)?;
    Ok(paid)
}
