// The seat engine's SQL, included after `engine.rs` by each engine module.
// Every function here runs inside the caller's transaction: a grant, the event
// it writes and its audit entry commit together or not at all.

use leasehold_core::seat::{Decision, Device, DeviceRegistration, Pool, Registration, Seat};
use leasehold_core::licence::{renewal, EXPIRY_NOTICE_DAYS, RENEW_AHEAD_MINUTES};
use leasehold_core::values::{QueuePolicy, ReleaseReason};

const POOL_COLUMNS: &str = "p.id, p.organisation_id, p.product_id, p.capacity, p.held, p.queue_policy, \
     p.lease_seconds, p.grace_seconds, p.idle_seconds, p.linger_seconds, \
     p.alert_below_seats, p.alert_below_percent, p.alert_armed, p.topup_enabled, p.topup_below, p.topup_add, \
     p.topup_max_per_month, p.topup_ask_first, p.topup_plan, p.topup_armed, p.topup_month, p.topup_count, \
     p.topup_pending_since, p.created_at";
const DEVICE_COLUMNS: &str = "d.id, d.organisation_id, d.fingerprint, d.name, d.created_at, d.last_seen_at, d.blocked_at";
const SEAT_COLUMNS: &str = "s.id, s.pool_id, s.licence_id, s.device_id, s.granted_at";
const REQUEST_DETAILS: &str = "SELECT r.id, r.pool_id, r.device_id, r.state, r.requested_at, r.resolved_at, r.seat_id, \
     CASE WHEN r.state = 'waiting' THEN (SELECT COUNT(*) FROM seat_requests w WHERE w.pool_id = r.pool_id \
       AND w.state = 'waiting' AND (w.requested_at < r.requested_at OR (w.requested_at = r.requested_at AND w.id <= r.id))) \
     ELSE 0 END AS position, \
     p.organisation_id, p.product_id, pr.name AS product_name, d.name AS device_name, d.fingerprint \
     FROM seat_requests r JOIN pools p ON p.id = r.pool_id JOIN products pr ON pr.id = p.product_id \
     JOIN devices d ON d.id = r.device_id";

fn not_found(what: &'static str) -> StoreError {
    StoreError::Domain(DomainError::NotFound(what))
}

/// A conflict on a seat's or request's unique key: a concurrent call for the
/// same device won; the caller may retry.
fn stale_on_conflict(error: sqlx::Error) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Stale
    } else {
        backend(error)
    }
}

async fn load_pool(conn: &mut Conn, id: Uuid) -> Result<Pool, StoreError> {
    let row: PoolRow = sqlx::query_as(&format!("SELECT {POOL_COLUMNS} FROM pools p WHERE p.id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    row.try_into()
}

/// The instant a pool's next usage event is stamped with: now, but strictly
/// after the pool's last event and never before its rolled-up days (see
/// `record_usage`). Microseconds, the finest both engines keep.
fn usage_instant(now: DateTime<Utc>, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    let now = now.trunc_subsecs(6);
    match last {
        Some(last) if last >= now => last.trunc_subsecs(6) + chrono::Duration::microseconds(1),
        _ => now,
    }
}

/// Records a usage event of the pool, stamped under the pool row's lock: in
/// commit order even when a transaction that began earlier commits later,
/// and never inside days already rolled up (a late commit or a clock behind
/// counts at the start of the next day instead of being lost). Held seats and
/// capacity are read under the same lock.
async fn record_usage(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: &Pool,
    kind: &str,
    subject: Option<Uuid>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let (held, capacity, last): (i64, i64, Option<DateTime<Utc>>) =
        sqlx::query_as(&format!("SELECT held, capacity, last_usage_at FROM pools WHERE id = $1{FOR_UPDATE}"))
            .bind(pool.id.as_uuid())
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
    let at = usage_instant(ctx.now, last);
    sqlx::query("UPDATE pools SET last_usage_at = $2 WHERE id = $1")
        .bind(pool.id.as_uuid())
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query(
        "INSERT INTO usage_events (id, pool_id, organisation_id, at, kind, held, capacity, subject_id, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(pool.id.as_uuid())
    .bind(pool.organisation_id.as_uuid())
    .bind(at)
    .bind(kind)
    .bind(held)
    .bind(capacity)
    .bind(subject)
    .bind(reason)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one audit entry's fields, named at each call
async fn record_audit(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: &Pool,
    action: &'static str,
    object_kind: &'static str,
    object_id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    let record = AuditRecord {
        organisation_id: Some(pool.organisation_id),
        product_id: Some(pool.product_id),
        action,
        object_kind,
        object_id,
        before,
        after,
    };
    insert_audit(conn, ctx, &record).await
}

/// The pool of (organisation, product), created on first use, with its capacity
/// brought up to date; a change of capacity is an event, and may grant waiting requests.
async fn sync_pool(conn: &mut Conn, ctx: &WriteContext, org: Uuid, product: Uuid) -> Result<Pool, StoreError> {
    let by_key = format!("SELECT {POOL_COLUMNS} FROM pools p WHERE p.organisation_id = $1 AND p.product_id = $2");
    let mut found: Option<PoolRow> = sqlx::query_as(&by_key)
        .bind(org)
        .bind(product)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if found.is_none() {
        sqlx::query(
            "INSERT INTO pools (id, organisation_id, product_id, capacity, held, queue_policy, created_at) \
             VALUES ($1, $2, $3, 0, 0, 'auto_grant', $4) ON CONFLICT (organisation_id, product_id) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(org)
        .bind(product)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        found = sqlx::query_as(&by_key)
            .bind(org)
            .bind(product)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    }
    let pool: Pool = found.ok_or_else(|| not_found("pool"))?.try_into()?;
    let id = pool.id.as_uuid();
    let (pool, changed) = refresh_loaded_capacity(conn, ctx, pool).await?;
    if changed {
        grant_waiting(conn, ctx, id).await?;
        return load_pool(conn, id).await;
    }
    Ok(pool)
}

/// Brings a pool's capacity up to date with its organisation's active licences
/// at `ctx.now` (a licence may have expired since the last change); a change is
/// an event and an audit entry. Says whether it changed.
async fn refresh_capacity(conn: &mut Conn, ctx: &WriteContext, id: Uuid) -> Result<(Pool, bool), StoreError> {
    let before = load_pool(conn, id).await?;
    refresh_loaded_capacity(conn, ctx, before).await
}

/// [`refresh_capacity`] of a pool just read in this transaction: one
/// conditional update when nothing changed (the common case).
async fn refresh_loaded_capacity(conn: &mut Conn, ctx: &WriteContext, before: Pool) -> Result<(Pool, bool), StoreError> {
    let id = before.id.as_uuid();
    // Only the transaction that changes the value records the change.
    let changed = sqlx::query(
        "UPDATE pools SET capacity = (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM licences \
           WHERE owner_organisation_id = $2 AND product_id = $3 AND status = 'active' AND (ends_at IS NULL OR ends_at > $4)) \
         WHERE id = $1 AND capacity <> (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM licences \
           WHERE owner_organisation_id = $2 AND product_id = $3 AND status = 'active' AND (ends_at IS NULL OR ends_at > $4))",
    )
    .bind(id)
    .bind(before.organisation_id.as_uuid())
    .bind(before.product_id.as_uuid())
    .bind(ctx.now)
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected();
    if changed != 1 {
        return Ok((before, false));
    }
    let pool = load_pool(conn, id).await?;
    record_usage(conn, ctx, &pool, "capacity_changed", None, None).await?;
    let (was, now) = (serde_json::json!({"capacity": before.capacity}), serde_json::json!({"capacity": pool.capacity}));
    record_audit(conn, ctx, &pool, "pool.capacity_changed", "pool", id, Some(was), Some(now)).await?;
    let pool = watched(conn, ctx, pool).await?;
    Ok((pool, true))
}

/// A licence the expiry job looks at: id, owner, product, product name,
/// licence name, plan, status and end.
type Ending = (Uuid, Option<Uuid>, Uuid, String, String, String, String, DateTime<Utc>);

const ENDING_SELECT: &str = "SELECT l.id, l.owner_organisation_id, l.product_id, p.name, l.name, l.plan, l.status, l.ends_at \
     FROM licences l JOIN products p ON p.id = l.product_id";

/// The pool of an organisation's product, if it has one.
async fn pool_id_of(conn: &mut Conn, organisation: Uuid, product: Uuid) -> Result<Option<Uuid>, StoreError> {
    sqlx::query_scalar("SELECT id FROM pools WHERE organisation_id = $1 AND product_id = $2")
        .bind(organisation)
        .bind(product)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)
}

/// One pass of the licence lifecycle at `ctx.now`, up to `limit` licences of
/// each kind: renews the auto-renewing ones that are due, sends "expiring
/// soon" notices once per licence and term, and stores as expired the ones
/// whose end has passed, bringing their pools' capacity down with them (seats
/// held beyond it stay until released: the pool is over capacity). Each step
/// is a conditional update, so two processes never act on a licence twice.
async fn expire(conn: &mut Conn, ctx: &WriteContext, limit: u32) -> Result<LicenceSweep, StoreError> {
    let mut sweep = LicenceSweep {
        renewed: renew_licences(conn, ctx, limit).await?,
        noticed: notice_expiring(conn, ctx, limit).await?,
        expired: 0,
    };
    let due: Vec<Ending> = sqlx::query_as(&format!(
        "{ENDING_SELECT} WHERE l.status IN ('active', 'paused') AND l.ends_at IS NOT NULL AND l.ends_at <= $1 \
         ORDER BY l.ends_at, l.id LIMIT $2{SKIP_LOCKED}"
    ))
    .bind(ctx.now)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut pools = std::collections::BTreeSet::new();
    for (id, organisation, product, product_name, name, _plan, status, ends) in &due {
        let expired = sqlx::query(
            "UPDATE licences SET status = 'expired', version = version + 1 WHERE id = $1 AND status IN ('active', 'paused')",
        )
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
        if expired != 1 {
            continue;
        }
        let record = AuditRecord {
            organisation_id: organisation.map(OrganisationId::from_uuid),
            product_id: Some(ProductId::from_uuid(*product)),
            action: "licence.expired",
            object_kind: "licence",
            object_id: *id,
            before: Some(serde_json::json!({"status": status})),
            after: Some(serde_json::json!({"status": "expired"})),
        };
        insert_audit(conn, ctx, &record).await?;
        if let Some(organisation) = organisation {
            let pool = pool_id_of(conn, *organisation, *product).await?;
            let message = format!("{product_name}: licence {name} ended on {}; its seats are gone", ends.format("%Y-%m-%d"));
            let data = serde_json::json!({"licence_id": id, "licence_name": name, "ends_at": ends});
            notify_organisation(conn, ctx, *organisation, pool, "expired", &message, data).await?;
            pools.insert((*organisation, *product));
        }
        sweep.expired += 1;
    }
    for (organisation, product) in pools {
        sync_pool(conn, ctx, organisation, product).await?;
    }
    Ok(sweep)
}

/// Adds a term to every active auto-renewing licence within
/// [`RENEW_AHEAD_MINUTES`] of its end (or past it, after downtime).
async fn renew_licences(conn: &mut Conn, ctx: &WriteContext, limit: u32) -> Result<u64, StoreError> {
    let due_by = ctx.now + chrono::Duration::minutes(RENEW_AHEAD_MINUTES);
    let due: Vec<Ending> = sqlx::query_as(&format!(
        "{ENDING_SELECT} WHERE l.status = 'active' AND l.auto_renew AND l.plan IN ('monthly', 'yearly') \
         AND l.ends_at IS NOT NULL AND l.ends_at <= $1 ORDER BY l.ends_at, l.id LIMIT $2{SKIP_LOCKED}"
    ))
    .bind(due_by)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut renewed = 0;
    for (id, organisation, product, product_name, name, plan, _status, ends) in due {
        let Some((next, terms)) = Plan::parse(&plan).and_then(|plan| renewal(plan, ends, ctx.now)) else {
            continue;
        };
        // Conditional on the end it was read with: renewed once, by one process.
        let changed = sqlx::query(
            "UPDATE licences SET ends_at = $2, billing_status = 'uninvoiced', version = version + 1 \
             WHERE id = $1 AND ends_at = $3 AND status = 'active'",
        )
        .bind(id)
        .bind(next)
        .bind(ends)
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
        if changed != 1 {
            continue;
        }
        let record = AuditRecord {
            organisation_id: organisation.map(OrganisationId::from_uuid),
            product_id: Some(ProductId::from_uuid(product)),
            action: "licence.renewed",
            object_kind: "licence",
            object_id: id,
            before: Some(serde_json::json!({"ends_at": ends})),
            after: Some(serde_json::json!({"ends_at": next, "terms": terms})),
        };
        insert_audit(conn, ctx, &record).await?;
        if let Some(organisation) = organisation {
            let pool = pool_id_of(conn, organisation, product).await?;
            let message = format!("{product_name}: licence {name} renewed until {}", next.format("%Y-%m-%d"));
            let data = serde_json::json!({"licence_id": id, "licence_name": name, "ends_at": next, "terms": terms});
            notify_organisation(conn, ctx, organisation, pool, "renewed", &message, data).await?;
        }
        renewed += 1;
    }
    Ok(renewed)
}

/// "Expiring soon" for every running licence that ends within
/// [`EXPIRY_NOTICE_DAYS`] and will not renew, once per licence and end date.
async fn notice_expiring(conn: &mut Conn, ctx: &WriteContext, limit: u32) -> Result<u64, StoreError> {
    let window_end = ctx.now + chrono::Duration::days(EXPIRY_NOTICE_DAYS);
    let due: Vec<Ending> = sqlx::query_as(&format!(
        "{ENDING_SELECT} WHERE l.status IN ('active', 'paused') AND l.owner_organisation_id IS NOT NULL \
         AND NOT (l.auto_renew AND l.plan IN ('monthly', 'yearly')) \
         AND l.ends_at IS NOT NULL AND l.ends_at > $1 AND l.ends_at <= $2 \
         AND (l.expiry_notice_for IS NULL OR l.expiry_notice_for <> l.ends_at) \
         ORDER BY l.ends_at, l.id LIMIT $3{SKIP_LOCKED}"
    ))
    .bind(ctx.now)
    .bind(window_end)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut sent = 0;
    for (id, organisation, product, product_name, name, _plan, _status, ends) in due {
        let Some(organisation) = organisation else { continue };
        let claimed = sqlx::query(
            "UPDATE licences SET expiry_notice_for = ends_at WHERE id = $1 AND ends_at = $2 \
             AND (expiry_notice_for IS NULL OR expiry_notice_for <> ends_at)",
        )
        .bind(id)
        .bind(ends)
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
        if claimed != 1 {
            continue;
        }
        let days = (ends - ctx.now).num_days();
        let when = match days {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            n => format!("in {n} days"),
        };
        let pool = pool_id_of(conn, organisation, product).await?;
        let message = format!("{product_name}: licence {name} ends {when} ({})", ends.format("%Y-%m-%d"));
        let data = serde_json::json!({"licence_id": id, "licence_name": name, "ends_at": ends, "days_left": days});
        notify_organisation(conn, ctx, organisation, pool, "expiring_soon", &message, data).await?;
        sent += 1;
    }
    Ok(sent)
}

/// [`POOL_COLUMNS`] as `UPDATE pools … RETURNING` names them.
static POOL_RETURNING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| POOL_COLUMNS.replace("p.", ""));

/// `UPDATE pools SET {set} WHERE id = $1 {condition}`: the pool as the update
/// left it, `None` when the condition held it back.
async fn update_pool(conn: &mut Conn, pool: Uuid, set: &str, condition: &str) -> Result<Option<Pool>, StoreError> {
    let row: Option<PoolRow> = sqlx::query_as(&format!(
        "UPDATE pools SET {set} WHERE id = $1 {condition} RETURNING {}",
        *POOL_RETURNING
    ))
    .bind(pool)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(TryInto::try_into).transpose()
}

/// The atomic check-and-take: one conditional update, never read-then-write.
/// The pool as the update left it when a seat was taken, `None` when none was free.
async fn take_seat(conn: &mut Conn, pool: Uuid) -> Result<Option<Pool>, StoreError> {
    update_pool(conn, pool, "held = held + 1", "AND held < capacity").await
}

/// Gives a seat back to the pool: the pool as the update left it.
async fn give_back_seat(conn: &mut Conn, pool: Uuid) -> Result<Pool, StoreError> {
    update_pool(conn, pool, "held = held - 1", "").await?.ok_or_else(|| backend("the pool of a held seat is gone"))
}

/// After [`take_seat`] succeeded (`pool` as it left it): the seat row, its event and its audit entry.
async fn grant_seat(conn: &mut Conn, ctx: &WriteContext, pool: Pool, device: Uuid, why: &str) -> Result<(Seat, Pool), StoreError> {
    let pool_id = pool.id.as_uuid();
    let licence = pick_licence(conn, &pool, ctx.now).await?;
    let seat = Seat {
        id: leasehold_core::ids::SeatId::from_uuid(Uuid::now_v7()),
        pool_id: pool.id,
        licence_id: licence.into(),
        device_id: device.into(),
        granted_at: ctx.now,
    };
    sqlx::query("INSERT INTO seats (id, pool_id, licence_id, device_id, granted_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(seat.id.as_uuid())
        .bind(pool_id)
        .bind(licence)
        .bind(device)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await
        .map_err(stale_on_conflict)?;
    record_usage(conn, ctx, &pool, "seat_granted", Some(device), Some(why)).await?;
    let after = serde_json::json!({"seat_id": seat.id, "device_id": device, "licence_id": licence, "held": pool.held});
    record_audit(conn, ctx, &pool, "seat.granted", "device", device, None, Some(after)).await?;
    let pool = watched(conn, ctx, pool).await?;
    Ok((seat, pool))
}

/// The licence a new seat is drawn from: the pool's active licence that runs
/// longest (perpetual first) — an index lookup, not a count of seats per licence.
async fn pick_licence(conn: &mut Conn, pool: &Pool, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
    sqlx::query_scalar(
        "SELECT l.id FROM licences l WHERE l.owner_organisation_id = $1 AND l.product_id = $2 AND l.status = 'active' \
         AND (l.ends_at IS NULL OR l.ends_at > $3) \
         ORDER BY CASE WHEN l.ends_at IS NULL THEN 0 ELSE 1 END, l.ends_at DESC, l.created_at, l.id LIMIT 1",
    )
    .bind(pool.organisation_id.as_uuid())
    .bind(pool.product_id.as_uuid())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?
    .ok_or(StoreError::Domain(DomainError::Conflict {
        code: "seat_unavailable",
        message: "the organisation has no active licence of this product".into(),
    }))
}

/// Deletes a seat and gives its place back to the pool.
async fn free_seat(conn: &mut Conn, ctx: &WriteContext, seat: &Seat, reason: ReleaseReason) -> Result<Pool, StoreError> {
    let deleted = sqlx::query("DELETE FROM seats WHERE id = $1")
        .bind(seat.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
    if deleted != 1 {
        return Err(StoreError::Stale);
    }
    let pool = give_back_seat(conn, seat.pool_id.as_uuid()).await?;
    let device = seat.device_id.as_uuid();
    record_usage(conn, ctx, &pool, "seat_released", Some(device), Some(reason.as_str())).await?;
    let before = serde_json::json!({"seat_id": seat.id, "device_id": device, "licence_id": seat.licence_id});
    let after = serde_json::json!({"reason": reason.as_str(), "held": pool.held});
    record_audit(conn, ctx, &pool, "seat.released", "device", device, Some(before), Some(after)).await?;
    watched(conn, ctx, pool).await
}

/// Marks a waiting request granted with `seat`.
async fn settle_request(conn: &mut Conn, ctx: &WriteContext, pool: &Pool, request: Uuid, device: Uuid, seat: &Seat, action: &'static str) -> Result<(), StoreError> {
    sqlx::query("UPDATE seat_requests SET state = 'granted', resolved_at = $2, seat_id = $3 WHERE id = $1")
        .bind(request)
        .bind(ctx.now)
        .bind(seat.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let after = serde_json::json!({"state": "granted", "seat_id": seat.id, "device_id": device});
    record_audit(conn, ctx, pool, action, "seat_request", request, Some(serde_json::json!({"state": "waiting"})), Some(after)).await
}

/// While an auto-granting pool has a free seat, the oldest waiting request gets it.
async fn grant_waiting(conn: &mut Conn, ctx: &WriteContext, pool_id: Uuid) -> Result<(), StoreError> {
    // A freed seat goes nowhere when the licences behind it expired meanwhile.
    refresh_capacity(conn, ctx, pool_id).await?;
    loop {
        let pool = load_pool(conn, pool_id).await?;
        if pool.queue_policy != QueuePolicy::AutoGrant || pool.held >= pool.capacity {
            return Ok(());
        }
        let next: Option<(Uuid, Uuid)> = sqlx::query_as(&format!(
            "SELECT id, device_id FROM seat_requests WHERE pool_id = $1 AND state = 'waiting' \
             ORDER BY requested_at, id LIMIT 1{SKIP_LOCKED}"
        ))
        .bind(pool_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
        if let Some((request, device)) = next {
            let Some(pool) = take_seat(conn, pool_id).await? else { return Ok(()) };
            let (seat, pool) = grant_seat(conn, ctx, pool, device, "queue").await?;
            settle_request(conn, ctx, &pool, request, device, &seat, "seat_request.granted").await?;
            continue;
        }
        // A concurrent product's pool queues members instead of devices.
        if !grant_next_lease_request(conn, ctx, pool_id).await? {
            return Ok(());
        }
    }
}

async fn queue_position(conn: &mut Conn, pool: Uuid, requested_at: DateTime<Utc>, id: Uuid) -> Result<u64, StoreError> {
    let ahead: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM seat_requests WHERE pool_id = $1 AND state = 'waiting' \
         AND (requested_at < $2 OR (requested_at = $2 AND id <= $3))",
    )
    .bind(pool)
    .bind(requested_at)
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(u64::try_from(ahead).unwrap_or_default())
}

/// Inserts the idempotency claim; `Some(resource)` when the key was used before
/// with the same request.
async fn claim_idempotency(conn: &mut Conn, ctx: &WriteContext, claim: &IdempotencyClaim) -> Result<Option<Uuid>, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, resource_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .bind(&claim.request_hash)
    .bind(claim.resource_id)
    .bind(ctx.now)
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    let (request_hash, resource_id): (String, Uuid) =
        sqlx::query_as("SELECT request_hash, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(&claim.scope)
            .bind(&claim.key)
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
    if request_hash == claim.request_hash {
        Ok(Some(resource_id))
    } else {
        Err(DomainError::IdempotencyKeyReused.into())
    }
}

async fn register(conn: &mut Conn, ctx: &WriteContext, reg: &DeviceRegistration, claim: Option<&IdempotencyClaim>) -> Result<Registration, StoreError> {
    // A replay runs the same steps (registration is idempotent per device) and
    // answers as the first call did: a seat granted by it is still "new".
    let replay_of = match claim {
        Some(claim) => claim_idempotency(conn, ctx, claim).await?,
        None => None,
    };
    let org = reg.organisation_id.as_uuid();
    let product = reg.product_id.as_uuid();
    let row: DeviceRow = sqlx::query_as(
        "INSERT INTO devices (id, organisation_id, fingerprint, name, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (organisation_id, fingerprint) \
         DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at \
         RETURNING id, organisation_id, fingerprint, name, created_at, last_seen_at, blocked_at",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(&reg.fingerprint)
    .bind(&reg.name)
    .bind(ctx.now)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    let device: Device = row.into();
    let device_id = device.id.as_uuid();
    let pool = sync_pool(conn, ctx, org, product).await?;
    if device.blocked_at.is_some() {
        record_usage(conn, ctx, &pool, "request_denied", Some(device_id), Some("blocked")).await?;
        record_audit(conn, ctx, &pool, "seat.denied", "device", device_id, None, Some(serde_json::json!({"reason": "blocked"}))).await?;
        return Ok(Registration::Blocked);
    }
    let held: Option<SeatRow> = sqlx::query_as(&format!("SELECT {SEAT_COLUMNS} FROM seats s WHERE s.pool_id = $1 AND s.device_id = $2"))
        .bind(pool.id.as_uuid())
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if let Some(seat) = held {
        let new = replay_of == Some(seat.id);
        return Ok(Registration::Granted { device, seat: seat.into(), pool, new });
    }
    let waiting: Option<RequestRow> = sqlx::query_as(
        "SELECT id, pool_id, device_id, state, requested_at, resolved_at, seat_id FROM seat_requests \
         WHERE pool_id = $1 AND device_id = $2 AND state = 'waiting'",
    )
    .bind(pool.id.as_uuid())
    .bind(device_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if let Some(request) = waiting {
        let position = queue_position(conn, request.pool_id, request.requested_at, request.id).await?;
        return Ok(Registration::Queued { device, request: request.try_into()?, position });
    }
    // Nobody jumps the queue: a free seat goes to a newcomer only when nobody waits.
    let queue: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seat_requests WHERE pool_id = $1 AND state = 'waiting'")
        .bind(pool.id.as_uuid())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let taken = if queue == 0 { take_seat(conn, pool.id.as_uuid()).await? } else { None };
    if let Some(pool) = taken {
        let (seat, pool) = grant_seat(conn, ctx, pool, device_id, "registration").await?;
        if let Some(claim) = claim {
            // The key names the seat it granted.
            sqlx::query("UPDATE idempotency_keys SET resource_id = $3 WHERE scope = $1 AND key = $2")
                .bind(&claim.scope)
                .bind(&claim.key)
                .bind(seat.id.as_uuid())
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        return Ok(Registration::Granted { device, seat, pool, new: true });
    }
    if pool.queue_policy == QueuePolicy::Refuse {
        record_usage(conn, ctx, &pool, "request_denied", Some(device_id), Some("no_seat")).await?;
        let after = serde_json::json!({"reason": "no_seat", "held": pool.held, "capacity": pool.capacity});
        record_audit(conn, ctx, &pool, "seat.denied", "device", device_id, None, Some(after)).await?;
        // Refused devices retry: tell people at most once an hour per pool.
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE pool_id = $1 AND kind = 'seat_denied' AND created_at > $2",
        )
        .bind(pool.id.as_uuid())
        .bind(ctx.now - chrono::Duration::hours(1))
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
        if recent == 0 {
            let product = product_name(conn, &pool).await?;
            let message = format!("{product}: {} was refused a seat; all {} are in use", device.name, pool.capacity);
            let data = serde_json::json!({"device_id": device_id, "device_name": device.name, "capacity": pool.capacity});
            notify(conn, ctx, &pool, "seat_denied", &message, data).await?;
        }
        return Ok(Registration::Refused { pool });
    }
    let request = leasehold_core::seat::SeatRequest {
        id: leasehold_core::ids::SeatRequestId::from_uuid(Uuid::now_v7()),
        pool_id: pool.id,
        device_id: device.id,
        state: leasehold_core::values::RequestState::Waiting,
        requested_at: ctx.now,
        resolved_at: None,
        seat_id: None,
    };
    sqlx::query("INSERT INTO seat_requests (id, pool_id, device_id, state, requested_at) VALUES ($1, $2, $3, 'waiting', $4)")
        .bind(request.id.as_uuid())
        .bind(pool.id.as_uuid())
        .bind(device_id)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await
        .map_err(stale_on_conflict)?;
    record_usage(conn, ctx, &pool, "request_queued", Some(device_id), None).await?;
    let after = serde_json::json!({"state": "waiting", "device_id": device_id, "policy": pool.queue_policy.as_str()});
    record_audit(conn, ctx, &pool, "seat_request.queued", "seat_request", request.id.as_uuid(), None, Some(after)).await?;
    let position = queue_position(conn, pool.id.as_uuid(), ctx.now, request.id.as_uuid()).await?;
    // A request an administrator must approve is announced; one that the next
    // free seat serves by itself is not (the low-seat alert covers the pool).
    if pool.queue_policy == QueuePolicy::Approval {
        let product = product_name(conn, &pool).await?;
        let message = format!("{product}: {} asks for a seat and waits for your approval", device.name);
        let data = serde_json::json!({"device_id": device_id, "device_name": device.name, "request_id": request.id, "position": position});
        notify(conn, ctx, &pool, "device_request", &message, data).await?;
    }
    Ok(Registration::Queued { device, request, position })
}

async fn visible_device(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<Device, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = "));
    qb.push_bind(id);
    push_visibility(&mut qb, vis, "d.organisation_id", None);
    let row: Option<DeviceRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    row.map(Into::into).ok_or_else(|| not_found("device"))
}

async fn release(conn: &mut Conn, ctx: &WriteContext, device: Uuid, product: Option<Uuid>, reason: ReleaseReason) -> Result<u64, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {SEAT_COLUMNS} FROM seats s JOIN pools p ON p.id = s.pool_id WHERE s.device_id = "));
    qb.push_bind(device);
    if let Some(product) = product {
        qb.push(" AND p.product_id = ").push_bind(product);
    }
    qb.push(" ORDER BY s.granted_at, s.id");
    let seats: Vec<SeatRow> = qb.build_query_as().fetch_all(&mut *conn).await.map_err(backend)?;
    let count = seats.len() as u64;
    for seat in seats {
        let seat: Seat = seat.into();
        free_seat(conn, ctx, &seat, reason).await?;
        grant_waiting(conn, ctx, seat.pool_id.as_uuid()).await?;
    }
    Ok(count)
}

/// Pools in which the device has a history, for block and unblock events.
async fn device_pools(conn: &mut Conn, device: Uuid) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query_scalar("SELECT DISTINCT pool_id FROM usage_events WHERE subject_id = $1")
        .bind(device)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)
}

async fn block(conn: &mut Conn, ctx: &WriteContext, device: &Device) -> Result<(), StoreError> {
    let id = device.id.as_uuid();
    release(conn, ctx, id, None, ReleaseReason::Blocked).await?;
    sqlx::query("UPDATE seat_requests SET state = 'rejected', resolved_at = $2 WHERE device_id = $1 AND state = 'waiting'")
        .bind(id)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query("UPDATE devices SET blocked_at = $2 WHERE id = $1")
        .bind(id)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for pool in device_pools(conn, id).await? {
        let pool = load_pool(conn, pool).await?;
        record_usage(conn, ctx, &pool, "device_blocked", Some(id), None).await?;
    }
    let record = AuditRecord {
        organisation_id: Some(device.organisation_id),
        product_id: None,
        action: "device.blocked",
        object_kind: "device",
        object_id: id,
        before: Some(serde_json::json!({"blocked_at": null})),
        after: Some(serde_json::json!({"blocked_at": ctx.now})),
    };
    insert_audit(conn, ctx, &record).await
}

async fn unblock(conn: &mut Conn, ctx: &WriteContext, device: &Device) -> Result<(), StoreError> {
    let id = device.id.as_uuid();
    sqlx::query("UPDATE devices SET blocked_at = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for pool in device_pools(conn, id).await? {
        let pool = load_pool(conn, pool).await?;
        record_usage(conn, ctx, &pool, "device_unblocked", Some(id), None).await?;
    }
    let record = AuditRecord {
        organisation_id: Some(device.organisation_id),
        product_id: None,
        action: "device.unblocked",
        object_kind: "device",
        object_id: id,
        before: Some(serde_json::json!({"blocked_at": device.blocked_at})),
        after: Some(serde_json::json!({"blocked_at": null})),
    };
    insert_audit(conn, ctx, &record).await
}

async fn request_details(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<RequestDetails, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(REQUEST_DETAILS);
    qb.push(" WHERE r.id = ").push_bind(id);
    push_visibility(&mut qb, vis, "p.organisation_id", None);
    let row: Option<RequestDetailsRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    row.ok_or_else(|| not_found("seat request"))?.try_into()
}

/// A visible request that still waits.
async fn waiting_request(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<RequestDetails, StoreError> {
    let request = request_details(conn, vis, id).await?;
    if request.request.state != leasehold_core::values::RequestState::Waiting {
        return Err(DomainError::Conflict { code: "request_not_waiting", message: format!("the request is {}", request.request.state) }.into());
    }
    Ok(request)
}

async fn decide(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, id: Uuid, decision: Decision) -> Result<(), StoreError> {
    let request = waiting_request(conn, vis, id).await?;
    let pool_id = request.request.pool_id.as_uuid();
    let device = request.request.device_id.as_uuid();
    match decision {
        Decision::Approve => {
            let Some(pool) = take_seat(conn, pool_id).await? else {
                return Err(DomainError::Conflict {
                    code: "seat_unavailable",
                    message: "no seat is free: revoke a device, reallocate a seat or add seats".into(),
                }
                .into());
            };
            let (seat, pool) = grant_seat(conn, ctx, pool, device, "approval").await?;
            settle_request(conn, ctx, &pool, id, device, &seat, "seat_request.approved").await
        }
        Decision::Reject => {
            sqlx::query("UPDATE seat_requests SET state = 'rejected', resolved_at = $2 WHERE id = $1")
                .bind(id)
                .bind(ctx.now)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
            let pool = load_pool(conn, pool_id).await?;
            record_usage(conn, ctx, &pool, "request_rejected", Some(device), None).await?;
            let after = serde_json::json!({"state": "rejected", "device_id": device});
            record_audit(conn, ctx, &pool, "seat_request.rejected", "seat_request", id, Some(serde_json::json!({"state": "waiting"})), Some(after)).await
        }
    }
}

async fn reallocate(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, id: Uuid, from: Uuid) -> Result<(), StoreError> {
    let request = waiting_request(conn, vis, id).await?;
    let pool_id = request.request.pool_id.as_uuid();
    let seat: Option<SeatRow> = sqlx::query_as(&format!("SELECT {SEAT_COLUMNS} FROM seats s WHERE s.pool_id = $1 AND s.device_id = $2"))
        .bind(pool_id)
        .bind(from)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    let seat: Seat = seat.ok_or_else(|| not_found("seat of that device in this pool"))?.into();
    free_seat(conn, ctx, &seat, ReleaseReason::Reallocated).await?;
    let Some(pool) = take_seat(conn, pool_id).await? else {
        return Err(DomainError::Conflict {
            code: "pool_over_capacity",
            message: "the pool holds more seats than its licences allow; revoke instead of reallocating".into(),
        }
        .into());
    };
    let device = request.request.device_id.as_uuid();
    let (granted, pool) = grant_seat(conn, ctx, pool, device, "reallocation").await?;
    settle_request(conn, ctx, &pool, id, device, &granted, "seat_request.reallocated").await
}

async fn pools_query(
    pool: &sqlx::Pool<Db>,
    vis: Visibility,
    f: &PoolFilter,
    id: Option<PoolId>,
) -> Result<Page<PoolDetails>, StoreError> {
    let build = |select: &str| {
        let mut qb = QueryBuilder::<Db>::new(select);
        qb.push(" FROM pools p JOIN organisations o ON o.id = p.organisation_id JOIN products pr ON pr.id = p.product_id WHERE 1 = 1");
        push_visibility(&mut qb, vis, "p.organisation_id", None);
        if let Some(id) = id {
            qb.push(" AND p.id = ").push_bind(id.as_uuid());
        }
        if let Some(org) = f.organisation {
            qb.push(" AND p.organisation_id = ").push_bind(org.as_uuid());
        }
        if let Some(product) = f.product {
            qb.push(" AND p.product_id = ").push_bind(product.as_uuid());
        }
        qb
    };
    let total = count(build("SELECT COUNT(*)"), pool).await?;
    let mut qb = build(&format!(
        "SELECT {POOL_COLUMNS}, o.name AS organisation_name, pr.name AS product_name, pr.seat_kind, \
         (SELECT COUNT(*) FROM seat_requests r WHERE r.pool_id = p.id AND r.state = 'waiting') \
         + (SELECT COUNT(*) FROM lease_requests q WHERE q.pool_id = p.id AND q.state = 'waiting') AS waiting"
    ));
    qb.push(" ORDER BY lower(o.name), lower(pr.name), p.id");
    push_page(&mut qb, f.page);
    let rows: Vec<PoolDetailsRow> = qb.build_query_as().fetch_all(pool).await.map_err(backend)?;
    Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
}

async fn devices_query(
    pool: &sqlx::Pool<Db>,
    vis: Visibility,
    f: &DeviceFilter,
    id: Option<DeviceId>,
) -> Result<Page<DeviceDetails>, StoreError> {
    let build = |select: &str| {
        let mut qb = QueryBuilder::<Db>::new(select);
        qb.push(" FROM devices d WHERE 1 = 1");
        push_visibility(&mut qb, vis, "d.organisation_id", None);
        if let Some(id) = id {
            qb.push(" AND d.id = ").push_bind(id.as_uuid());
        }
        if let Some(org) = f.organisation {
            qb.push(" AND d.organisation_id = ").push_bind(org.as_uuid());
        }
        let product = f.product.map(|p| p.as_uuid());
        match f.state {
            None => {}
            Some(DeviceState::Blocked) => {
                qb.push(" AND d.blocked_at IS NOT NULL");
            }
            Some(DeviceState::Licensed) => {
                qb.push(" AND EXISTS (SELECT 1 FROM seats s JOIN pools sp ON sp.id = s.pool_id WHERE s.device_id = d.id");
                if let Some(product) = product {
                    qb.push(" AND sp.product_id = ").push_bind(product);
                }
                qb.push(")");
            }
            Some(DeviceState::Requested) => {
                qb.push(" AND EXISTS (SELECT 1 FROM seat_requests r JOIN pools rp ON rp.id = r.pool_id WHERE r.device_id = d.id AND r.state = 'waiting'");
                if let Some(product) = product {
                    qb.push(" AND rp.product_id = ").push_bind(product);
                }
                qb.push(")");
            }
        }
        push_keyword(&mut qb, &f.q, &["d.name", "d.fingerprint"]);
        qb
    };
    let total = count(build("SELECT COUNT(*)"), pool).await?;
    let mut qb = build(&format!("SELECT {DEVICE_COLUMNS}"));
    qb.push(" ORDER BY d.last_seen_at DESC, d.id");
    push_page(&mut qb, f.page);
    let rows: Vec<DeviceRow> = qb.build_query_as().fetch_all(pool).await.map_err(backend)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let device: Device = row.into();
        let seats: Vec<DeviceSeatRow> = sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS}, p.product_id, pr.name AS product_name FROM seats s JOIN pools p ON p.id = s.pool_id \
             JOIN products pr ON pr.id = p.product_id WHERE s.device_id = $1 ORDER BY s.granted_at"
        ))
        .bind(device.id.as_uuid())
        .fetch_all(pool)
        .await
        .map_err(backend)?;
        let mut qb = QueryBuilder::<Db>::new(REQUEST_DETAILS);
        qb.push(" WHERE r.state = 'waiting' AND r.device_id = ").push_bind(device.id.as_uuid());
        qb.push(" ORDER BY r.requested_at");
        let waiting: Vec<RequestDetailsRow> = qb.build_query_as().fetch_all(pool).await.map_err(backend)?;
        items.push(DeviceDetails {
            device,
            seats: seats
                .into_iter()
                .map(|row| DeviceSeat { product_id: row.product_id.into(), product_name: row.product_name, seat: row.seat.into() })
                .collect(),
            waiting: waiting.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
        });
    }
    Ok(Page { items, total })
}
