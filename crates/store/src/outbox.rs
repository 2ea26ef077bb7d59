// The delivery outbox, included after `watch.rs` by each engine module.
//
// A notification is written with one `deliveries` row per e-mail recipient and
// webhook endpoint that wants it, in the transaction of the change that caused
// it ([`enqueue_deliveries`], called by `notify_organisation`): no change
// commits without its deliveries, and no delivery exists without its change.
// Workers claim due rows with a conditional update (`FOR UPDATE SKIP LOCKED`
// on PostgreSQL; SQLite's single writer serialises claims), so across any
// number of processes each attempt is made by one of them; the claim lapses
// after a lease, so a process that dies mid-send leaves the row to another.

use leasehold_core::notify::{endpoint_wants, next_attempt, Recipient, FAILING_AFTER};
use leasehold_core::values::{Channel, DeliveryStatus, EventKind};
use std::collections::BTreeSet;

const DELIVERY_COLUMNS: &str = "d.id, d.organisation_id, d.notification_id, d.channel, d.recipient, d.webhook_id, \
     d.kind, d.status, d.attempts, d.next_attempt_at, d.last_error, d.response_status, d.delivered_at, \
     d.replay_of, d.created_at";
const WEBHOOK_COLUMNS: &str =
    "w.id, w.organisation_id, w.url, w.description, w.events, w.enabled, w.consecutive_failures, w.created_at";

/// Queues the deliveries of a new notification: to every recipient whose
/// toggles (and pool) want it, and to every enabled endpoint whose filter does
/// (an endpoint's own failures are not sent to endpoints).
async fn enqueue_deliveries(
    conn: &mut Conn,
    ctx: &WriteContext,
    notification: Uuid,
    organisation: Uuid,
    pool: Option<Uuid>,
    kind: &str,
) -> Result<(), StoreError> {
    let Some(event) = EventKind::parse(kind) else { return Ok(()) };
    let pool = pool.map(PoolId::from_uuid);
    let mut targets: Vec<(Channel, Option<String>, Option<Uuid>)> = load_recipients(conn, OrganisationId::from_uuid(organisation))
        .await?
        .into_iter()
        .filter(|r| r.wants(event, pool))
        .map(|r| (Channel::Email, Some(r.email.as_str().to_owned()), None))
        .collect();
    let endpoints: Vec<(Uuid, Json<BTreeSet<EventKind>>)> =
        sqlx::query_as("SELECT id, events FROM webhooks WHERE organisation_id = $1 AND enabled ORDER BY created_at, id")
            .bind(organisation)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    for (id, events) in endpoints {
        if endpoint_wants(&events.0, event) {
            targets.push((Channel::Webhook, None, Some(id)));
        }
    }
    for (channel, recipient, webhook) in targets {
        insert_delivery(conn, ctx, notification, organisation, channel, recipient, webhook, kind, None).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_delivery(
    conn: &mut Conn,
    ctx: &WriteContext,
    notification: Uuid,
    organisation: Uuid,
    channel: Channel,
    recipient: Option<String>,
    webhook: Option<Uuid>,
    kind: &str,
    replay_of: Option<Uuid>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO deliveries (id, organisation_id, notification_id, channel, recipient, webhook_id, kind, status, \
         attempts, next_attempt_at, replay_of, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $8)",
    )
    .bind(id)
    .bind(organisation)
    .bind(notification)
    .bind(channel.as_str())
    .bind(recipient)
    .bind(webhook)
    .bind(kind)
    .bind(ctx.now)
    .bind(replay_of)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(id)
}

/// The organisation, if `vis` may see it.
async fn visible_organisation(conn: &mut Conn, vis: Visibility, id: OrganisationId) -> Result<(), StoreError> {
    let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM organisations o WHERE o.id = ");
    qb.push_bind(id.as_uuid());
    push_visibility(&mut qb, vis, "o.id", None);
    let found: i64 = qb.build_query_scalar().fetch_one(&mut *conn).await.map_err(backend)?;
    if found == 0 {
        return Err(StoreError::Domain(DomainError::NotFound("organisation")));
    }
    Ok(())
}

async fn load_recipients(conn: &mut Conn, organisation: OrganisationId) -> Result<Vec<Recipient>, StoreError> {
    let rows: Vec<(String, Json<BTreeSet<EventKind>>, Option<Uuid>)> = sqlx::query_as(
        "SELECT email, events, pool_id FROM notification_recipients WHERE organisation_id = $1 ORDER BY position",
    )
    .bind(organisation.as_uuid())
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|(email, events, pool)| {
            Ok(Recipient {
                email: Email::parse(&email).map_err(|e| StoreError::Backend(format!("stored recipient: {e}")))?,
                events: events.0,
                pool_id: pool.map(PoolId::from_uuid),
            })
        })
        .collect()
}

fn recipients_json(recipients: &[Recipient]) -> serde_json::Value {
    serde_json::Value::Array(
        recipients
            .iter()
            .map(|r| serde_json::json!({"email": r.email.as_str(), "events": r.events, "pool_id": r.pool_id}))
            .collect(),
    )
}

async fn replace_recipients(
    conn: &mut Conn,
    ctx: &WriteContext,
    vis: Visibility,
    organisation: OrganisationId,
    recipients: &[Recipient],
) -> Result<Vec<Recipient>, StoreError> {
    visible_organisation(conn, vis, organisation).await?;
    let mut errors = Vec::new();
    for (index, recipient) in recipients.iter().enumerate() {
        let Some(pool) = recipient.pool_id else { continue };
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pools WHERE id = $1 AND organisation_id = $2")
            .bind(pool.as_uuid())
            .bind(organisation.as_uuid())
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
        if found == 0 {
            errors.push(leasehold_core::FieldError::new(
                &format!("recipients[{index}].pool_id"),
                "not_found",
                "is not a pool of this organisation",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Domain(DomainError::Validation(errors)));
    }
    let before = load_recipients(conn, organisation).await?;
    sqlx::query("DELETE FROM notification_recipients WHERE organisation_id = $1")
        .bind(organisation.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for (position, recipient) in recipients.iter().enumerate() {
        sqlx::query(
            "INSERT INTO notification_recipients (id, organisation_id, position, email, events, pool_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(organisation.as_uuid())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(recipient.email.as_str())
        .bind(Json(&recipient.events))
        .bind(recipient.pool_id.map(|p| p.as_uuid()))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    if before != recipients {
        let record = AuditRecord {
            organisation_id: Some(organisation),
            product_id: None,
            action: "notification_recipients.updated",
            object_kind: "organisation",
            object_id: organisation.as_uuid(),
            before: Some(recipients_json(&before)),
            after: Some(recipients_json(recipients)),
        };
        insert_audit(conn, ctx, &record).await?;
    }
    load_recipients(conn, organisation).await
}

fn webhook_json(webhook: &Webhook) -> serde_json::Value {
    serde_json::json!({
        "url": webhook.url,
        "description": webhook.description,
        "events": webhook.events,
        "enabled": webhook.enabled,
    })
}

async fn load_webhook(conn: &mut Conn, vis: Visibility, id: WebhookId) -> Result<Webhook, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = "));
    qb.push_bind(id.as_uuid());
    push_visibility(&mut qb, vis, "w.organisation_id", None);
    let row: Option<WebhookRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    row.ok_or(StoreError::Domain(DomainError::NotFound("webhook")))?.try_into()
}

async fn insert_webhook(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, new: &NewWebhook) -> Result<Webhook, StoreError> {
    let webhook = &new.webhook;
    visible_organisation(conn, vis, webhook.organisation_id).await?;
    sqlx::query(
        "INSERT INTO webhooks (id, organisation_id, url, description, secret, events, enabled, consecutive_failures, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
    )
    .bind(webhook.id.as_uuid())
    .bind(webhook.organisation_id.as_uuid())
    .bind(&webhook.url)
    .bind(&webhook.description)
    .bind(&new.secret)
    .bind(Json(&webhook.events))
    .bind(webhook.enabled)
    .bind(webhook.created_at)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let record = AuditRecord {
        organisation_id: Some(webhook.organisation_id),
        product_id: None,
        action: "webhook.created",
        object_kind: "webhook",
        object_id: webhook.id.as_uuid(),
        before: None,
        after: Some(webhook_json(webhook)),
    };
    insert_audit(conn, ctx, &record).await?;
    load_webhook(conn, Visibility::Everything, webhook.id).await
}

async fn change_webhook(
    conn: &mut Conn,
    ctx: &WriteContext,
    vis: Visibility,
    id: WebhookId,
    change: &WebhookChange,
) -> Result<Webhook, StoreError> {
    let before = load_webhook(conn, vis, id).await?;
    let mut after = before.clone();
    if let Some(url) = &change.url {
        after.url.clone_from(url);
    }
    if let Some(description) = &change.description {
        after.description.clone_from(description);
    }
    if let Some(events) = &change.events {
        after.events.clone_from(events);
    }
    if let Some(enabled) = change.enabled {
        after.enabled = enabled;
    }
    // Turning an endpoint back on starts its failure count afresh.
    let failures = if after.enabled && !before.enabled { 0 } else { before.consecutive_failures };
    sqlx::query(
        "UPDATE webhooks SET url = $2, description = $3, events = $4, enabled = $5, consecutive_failures = $6, \
         secret = COALESCE($7, secret) WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(&after.url)
    .bind(&after.description)
    .bind(Json(&after.events))
    .bind(after.enabled)
    .bind(i64::from(failures))
    .bind(change.secret.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if after != before || change.secret.is_some() {
        let mut after_json = webhook_json(&after);
        if change.secret.is_some() {
            after_json["secret_rotated"] = serde_json::Value::Bool(true);
        }
        let record = AuditRecord {
            organisation_id: Some(before.organisation_id),
            product_id: None,
            action: "webhook.updated",
            object_kind: "webhook",
            object_id: id.as_uuid(),
            before: Some(webhook_json(&before)),
            after: Some(after_json),
        };
        insert_audit(conn, ctx, &record).await?;
    }
    load_webhook(conn, Visibility::Everything, id).await
}

async fn remove_webhook(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, id: WebhookId) -> Result<(), StoreError> {
    let before = load_webhook(conn, vis, id).await?;
    sqlx::query("DELETE FROM deliveries WHERE webhook_id = $1")
        .bind(id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let record = AuditRecord {
        organisation_id: Some(before.organisation_id),
        product_id: None,
        action: "webhook.deleted",
        object_kind: "webhook",
        object_id: id.as_uuid(),
        before: Some(webhook_json(&before)),
        after: None,
    };
    insert_audit(conn, ctx, &record).await
}

async fn load_delivery(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<Delivery, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = "));
    qb.push_bind(id);
    push_visibility(&mut qb, vis, "d.organisation_id", None);
    let row: Option<DeliveryRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    row.ok_or(StoreError::Domain(DomainError::NotFound("delivery")))?.try_into()
}

async fn replay(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, id: DeliveryId) -> Result<Delivery, StoreError> {
    let original = load_delivery(conn, vis, id.as_uuid()).await?;
    if original.status == DeliveryStatus::Pending {
        return Err(StoreError::Domain(DomainError::Conflict {
            code: "delivery_pending",
            message: "the delivery has not been attempted for the last time yet; it is retried by itself".into(),
        }));
    }
    let replayed = insert_delivery(
        conn,
        ctx,
        original.notification_id.as_uuid(),
        original.organisation_id.as_uuid(),
        original.channel,
        original.recipient.clone(),
        original.webhook_id.map(|w| w.as_uuid()),
        &original.kind,
        Some(original.id.as_uuid()),
    )
    .await?;
    let record = AuditRecord {
        organisation_id: Some(original.organisation_id),
        product_id: None,
        action: "delivery.replayed",
        object_kind: "delivery",
        object_id: replayed,
        before: None,
        after: Some(serde_json::json!({"replay_of": original.id, "channel": original.channel, "kind": original.kind})),
    };
    insert_audit(conn, ctx, &record).await?;
    load_delivery(conn, Visibility::Everything, replayed).await
}

/// Claims due deliveries: one conditional update hands each row to one caller.
async fn claim_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: u32,
    lease_seconds: i64,
    email: bool,
) -> Result<(Uuid, Vec<Delivery>), StoreError> {
    let claim = Uuid::now_v7();
    sqlx::query(&format!(
        "UPDATE deliveries SET claim = $1, claimed_until = $2, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
          AND (claimed_until IS NULL OR claimed_until <= $3) AND (channel = 'webhook' OR $5) ORDER BY next_attempt_at, id LIMIT $4{SKIP_LOCKED})"
    ))
    .bind(claim)
    .bind(now + chrono::Duration::seconds(lease_seconds))
    .bind(now)
    .bind(i64::from(limit))
    .bind(email)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.claim = $1 ORDER BY d.next_attempt_at, d.id"
    ))
    .bind(claim)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    Ok((claim, rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?))
}

/// What workers need to send claimed deliveries: each notification and each
/// endpoint read once, however many deliveries share it.
async fn delivery_contents(
    conn: &mut Conn,
    claim: Uuid,
    due: Vec<Delivery>,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let mut notifications: std::collections::HashMap<Uuid, Notification> = std::collections::HashMap::new();
    let mut endpoints: std::collections::HashMap<Uuid, Option<(String, String)>> = std::collections::HashMap::new();
    let mut claimed = Vec::with_capacity(due.len());
    for delivery in due {
        let id = delivery.notification_id.as_uuid();
        if let std::collections::hash_map::Entry::Vacant(slot) = notifications.entry(id) {
            let row: NotificationRow = sqlx::query_as(
                "SELECT id, organisation_id, pool_id, kind, message, data, created_at, read_at FROM notifications WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
            slot.insert(row.try_into()?);
        }
        let endpoint = match delivery.webhook_id.map(|w| w.as_uuid()) {
            Some(webhook) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = endpoints.entry(webhook) {
                    let found = sqlx::query_as("SELECT url, secret FROM webhooks WHERE id = $1")
                        .bind(webhook)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(backend)?;
                    slot.insert(found);
                }
                endpoints.get(&webhook).cloned().flatten()
            }
            None => None,
        };
        let notification = notifications.get(&id).cloned().ok_or_else(|| backend("a claimed delivery lost its notification"))?;
        claimed.push(ClaimedDelivery {
            delivery,
            claim,
            notification,
            endpoint,
        });
    }
    Ok(claimed)
}

/// Records an attempt's result, if `claim` still owns the delivery.
async fn finish(
    conn: &mut Conn,
    ctx: &WriteContext,
    id: DeliveryId,
    claim: Uuid,
    result: &DeliveryResult,
) -> Result<bool, StoreError> {
    let owned: Option<(i64, Option<Uuid>, Uuid)> = sqlx::query_as(
        "SELECT attempts, webhook_id, organisation_id FROM deliveries WHERE id = $1 AND claim = $2 AND status = 'pending'",
    )
    .bind(id.as_uuid())
    .bind(claim)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((attempts, webhook, organisation)) = owned else { return Ok(false) };
    match result {
        DeliveryResult::Delivered { response_status } => {
            sqlx::query(
                "UPDATE deliveries SET status = 'delivered', delivered_at = $3, response_status = $4, last_error = NULL, \
                 claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2",
            )
            .bind(id.as_uuid())
            .bind(claim)
            .bind(ctx.now)
            .bind(response_status.map(i32::from))
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
            if let Some(webhook) = webhook {
                sqlx::query("UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1")
                    .bind(webhook)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
            }
        }
        DeliveryResult::Failed { error, response_status } => {
            let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
            let retry = next_attempt(attempts, ctx.now);
            let error: String = error.chars().take(500).collect();
            sqlx::query(
                "UPDATE deliveries SET status = $3, next_attempt_at = $4, last_error = $5, response_status = $6, \
                 claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2",
            )
            .bind(id.as_uuid())
            .bind(claim)
            .bind(if retry.is_some() { "pending" } else { "failed" })
            .bind(retry.unwrap_or(ctx.now))
            .bind(&error)
            .bind(response_status.map(i32::from))
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
            if let Some(webhook) = webhook {
                let (failures, url): (i64, String) = sqlx::query_as(
                    "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 \
                     RETURNING consecutive_failures, url",
                )
                .bind(webhook)
                .fetch_one(&mut *conn)
                .await
                .map_err(backend)?;
                if failures == i64::from(FAILING_AFTER) {
                    let message = format!("Webhook {url} failed {failures} deliveries in a row: {error}");
                    let data = serde_json::json!({"webhook_id": webhook, "url": url, "failures": failures, "last_error": error});
                    notify_organisation(conn, ctx, organisation, None, "webhook_failing", &message, data).await?;
                }
            }
        }
    }
    Ok(true)
}

fn push_delivery_filter(qb: &mut QueryBuilder<'_, Db>, vis: Visibility, f: &DeliveryFilter) {
    qb.push(" WHERE 1 = 1");
    push_visibility(qb, vis, "d.organisation_id", None);
    if let Some(org) = f.organisation {
        qb.push(" AND d.organisation_id = ").push_bind(org.as_uuid());
    }
    if let Some(webhook) = f.webhook {
        qb.push(" AND d.webhook_id = ").push_bind(webhook.as_uuid());
    }
    if let Some(channel) = f.channel {
        qb.push(" AND d.channel = ").push_bind(channel.as_str());
    }
    if let Some(status) = f.status {
        qb.push(" AND d.status = ").push_bind(status.as_str());
    }
}
