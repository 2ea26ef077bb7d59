// Concurrent seats: leases that lapse unless renewed. Included after
// `seats.rs` by each engine module; every function runs in the caller's
// transaction.

use leasehold_core::ids::LeaseId;
use leasehold_core::seat::{Checkout, CheckoutOutcome, Lease, LeaseSettings};

const LEASE_COLUMNS: &str = "e.id, e.pool_id, e.licence_id, e.user_id, e.client_id, e.granted_at, e.last_heartbeat_at, \
     e.last_activity_at, e.expires_at, e.idle_expires_at, e.released_at, e.linger_until";

/// [`LEASE_COLUMNS`] as `UPDATE leases … RETURNING` names them.
static LEASE_RETURNING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| LEASE_COLUMNS.replace("e.", ""));

fn lease_details_select() -> String {
    format!(
        "SELECT {LEASE_COLUMNS}, p.organisation_id, p.product_id, p.lease_seconds, p.grace_seconds, p.idle_seconds, \
         p.linger_seconds, pr.name AS product_name, u.email AS user_email, u.name AS user_name \
         FROM leases e JOIN pools p ON p.id = e.pool_id JOIN products pr ON pr.id = p.product_id \
         JOIN users u ON u.id = e.user_id"
    )
}

async fn load_lease(conn: &mut Conn, id: Uuid) -> Result<Option<Lease>, StoreError> {
    let row: Option<LeaseRow> = sqlx::query_as(&format!("SELECT {LEASE_COLUMNS} FROM leases e WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(row.map(Into::into))
}

async fn lease_audit(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: &Pool,
    action: &'static str,
    lease: &Lease,
    after: serde_json::Value,
) -> Result<(), StoreError> {
    let before = serde_json::json!({"user_id": lease.user_id, "client_id": lease.client_id});
    record_audit(conn, ctx, pool, action, "lease", lease.id.as_uuid(), Some(before), Some(after)).await
}

/// After [`take_seat`] succeeded (`pool` as it left it): the lease row, its event and its audit entry.
async fn grant_lease(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: Pool,
    user: Uuid,
    client: &str,
    why: &str,
) -> Result<(Lease, Pool), StoreError> {
    let pool_id = pool.id.as_uuid();
    let licence = pick_licence(conn, &pool, ctx.now).await?;
    let settings = pool.lease;
    let lease = Lease {
        id: LeaseId::from_uuid(Uuid::now_v7()),
        pool_id: pool.id,
        licence_id: licence.into(),
        user_id: user.into(),
        client_id: client.to_owned(),
        granted_at: ctx.now,
        last_heartbeat_at: ctx.now,
        last_activity_at: ctx.now,
        expires_at: settings.expires_at(ctx.now),
        idle_expires_at: settings.idle_expires_at(ctx.now),
        released_at: None,
        linger_until: None,
    };
    sqlx::query(
        "INSERT INTO leases (id, pool_id, licence_id, user_id, client_id, granted_at, last_heartbeat_at, \
         last_activity_at, expires_at, idle_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7, $8)",
    )
    .bind(lease.id.as_uuid())
    .bind(pool_id)
    .bind(licence)
    .bind(user)
    .bind(client)
    .bind(ctx.now)
    .bind(lease.expires_at)
    .bind(lease.idle_expires_at)
    .execute(&mut *conn)
    .await
    .map_err(stale_on_conflict)?;
    record_usage(conn, ctx, &pool, "seat_granted", Some(user), Some(why)).await?;
    let after = serde_json::json!({"lease_id": lease.id, "licence_id": licence, "expires_at": lease.expires_at, "held": pool.held});
    lease_audit(conn, ctx, &pool, "lease.granted", &lease, after).await?;
    let pool = watched(conn, ctx, pool).await?;
    Ok((lease, pool))
}

/// Deletes a lease and gives its place back to the pool; `Stale` when another
/// transaction (a second reaper) freed it first.
async fn free_lease(conn: &mut Conn, ctx: &WriteContext, lease: &Lease, reason: ReleaseReason) -> Result<Pool, StoreError> {
    let deleted = sqlx::query("DELETE FROM leases WHERE id = $1")
        .bind(lease.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
    if deleted != 1 {
        return Err(StoreError::Stale);
    }
    let pool = give_back_seat(conn, lease.pool_id.as_uuid()).await?;
    record_usage(conn, ctx, &pool, "seat_released", Some(lease.user_id.as_uuid()), Some(reason.as_str())).await?;
    let after = serde_json::json!({"reason": reason.as_str(), "held": pool.held});
    lease_audit(conn, ctx, &pool, "lease.released", lease, after).await?;
    watched(conn, ctx, pool).await
}

/// The oldest waiting member of the pool gets a seat, if one is free.
async fn grant_next_lease_request(conn: &mut Conn, ctx: &WriteContext, pool_id: Uuid) -> Result<bool, StoreError> {
    let next: Option<(Uuid, Uuid, String)> = sqlx::query_as(&format!(
        "SELECT id, user_id, client_id FROM lease_requests WHERE pool_id = $1 AND state = 'waiting' \
         ORDER BY requested_at, id LIMIT 1{SKIP_LOCKED}"
    ))
    .bind(pool_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((request, user, client)) = next else { return Ok(false) };
    let Some(pool) = take_seat(conn, pool_id).await? else { return Ok(false) };
    let (lease, pool) = grant_lease(conn, ctx, pool, user, &client, "queue").await?;
    sqlx::query("UPDATE lease_requests SET state = 'granted', resolved_at = $2, lease_id = $3 WHERE id = $1")
        .bind(request)
        .bind(ctx.now)
        .bind(lease.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let after = serde_json::json!({"state": "granted", "lease_id": lease.id});
    record_audit(conn, ctx, &pool, "lease_request.granted", "lease_request", request, Some(serde_json::json!({"state": "waiting"})), Some(after)).await?;
    Ok(true)
}

async fn lease_queue_position(conn: &mut Conn, pool: Uuid, requested_at: DateTime<Utc>, id: Uuid) -> Result<u64, StoreError> {
    let ahead: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM lease_requests WHERE pool_id = $1 AND state = 'waiting' \
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

/// Renews lease `id` at `now` (and its idle deadline when `activity`) when it
/// is still live and, if `user` is given, held by `user`: one conditional
/// update that answers with the renewed lease, or `None`.
async fn renew(
    conn: &mut Conn,
    id: Uuid,
    user: Option<Uuid>,
    settings: &LeaseSettings,
    now: DateTime<Utc>,
    activity: bool,
) -> Result<Option<Lease>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new("UPDATE leases SET last_heartbeat_at = ");
    qb.push_bind(now).push(", expires_at = ").push_bind(settings.expires_at(now));
    if activity {
        qb.push(", last_activity_at = ").push_bind(now);
        qb.push(", idle_expires_at = ").push_bind(settings.idle_expires_at(now));
    }
    qb.push(", released_at = NULL, linger_until = NULL WHERE id = ").push_bind(id);
    qb.push(" AND expires_at > ").push_bind(now);
    qb.push(" AND (idle_expires_at IS NULL OR idle_expires_at > ").push_bind(now).push(")");
    qb.push(" AND (linger_until IS NULL OR linger_until > ").push_bind(now).push(")");
    if let Some(user) = user {
        qb.push(" AND user_id = ").push_bind(user);
    }
    qb.push(" RETURNING ").push(&*LEASE_RETURNING);
    let row: Option<LeaseRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    Ok(row.map(Into::into))
}

async fn checkout_lease(conn: &mut Conn, ctx: &WriteContext, c: &Checkout) -> Result<CheckoutOutcome, StoreError> {
    let pool = sync_pool(conn, ctx, c.organisation_id.as_uuid(), c.product_id.as_uuid()).await?;
    let pool_id = pool.id.as_uuid();
    let user = c.user_id.as_uuid();
    let existing: Option<LeaseRow> = sqlx::query_as(&format!(
        "SELECT {LEASE_COLUMNS} FROM leases e WHERE e.pool_id = $1 AND e.user_id = $2 AND e.client_id = $3"
    ))
    .bind(pool_id)
    .bind(user)
    .bind(&c.client_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if let Some(existing) = existing {
        let existing: Lease = existing.into();
        // The same member from the same client keeps its seat (a lingering one comes back).
        if let Some(lease) = renew(conn, existing.id.as_uuid(), None, &pool.lease, ctx.now, true).await? {
            return Ok(CheckoutOutcome::Granted { lease, pool, new: false });
        }
        // It lapsed and the reaper has not come by yet: reclaim it now, then ask anew.
        free_lease(conn, ctx, &existing, lapse_reason(&existing, ctx.now)).await?;
        grant_waiting(conn, ctx, pool_id).await?;
    }
    let queue: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lease_requests WHERE pool_id = $1 AND state = 'waiting'")
        .bind(pool_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    if queue > 0 {
        // Someone waits: this client may be among them already.
        let waiting: Option<(Uuid, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, requested_at FROM lease_requests WHERE pool_id = $1 AND user_id = $2 AND client_id = $3 AND state = 'waiting'",
        )
        .bind(pool_id)
        .bind(user)
        .bind(&c.client_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
        if let Some((request, requested_at)) = waiting {
            let position = lease_queue_position(conn, pool_id, requested_at, request).await?;
            return Ok(CheckoutOutcome::Queued { request_id: request.into(), position });
        }
    }
    let taken = if queue == 0 { take_seat(conn, pool_id).await? } else { None };
    if let Some(pool) = taken {
        let (lease, pool) = grant_lease(conn, ctx, pool, user, &c.client_id, "checkout").await?;
        return Ok(CheckoutOutcome::Granted { lease, pool, new: true });
    }
    let pool = load_pool(conn, pool_id).await?;
    if pool.queue_policy == QueuePolicy::Refuse {
        record_usage(conn, ctx, &pool, "request_denied", Some(user), Some("no_seat")).await?;
        let after = serde_json::json!({"reason": "no_seat", "user_id": user, "held": pool.held, "capacity": pool.capacity});
        record_audit(conn, ctx, &pool, "lease.denied", "pool", pool_id, None, Some(after)).await?;
        return Ok(CheckoutOutcome::Refused { pool });
    }
    let request = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO lease_requests (id, pool_id, user_id, client_id, state, requested_at) VALUES ($1, $2, $3, $4, 'waiting', $5)",
    )
    .bind(request)
    .bind(pool_id)
    .bind(user)
    .bind(&c.client_id)
    .bind(ctx.now)
    .execute(&mut *conn)
    .await
    .map_err(stale_on_conflict)?;
    record_usage(conn, ctx, &pool, "request_queued", Some(user), None).await?;
    let after = serde_json::json!({"state": "waiting", "user_id": user, "client_id": c.client_id});
    record_audit(conn, ctx, &pool, "lease_request.queued", "lease_request", request, None, Some(after)).await?;
    let position = lease_queue_position(conn, pool_id, ctx.now, request).await?;
    Ok(CheckoutOutcome::Queued { request_id: request.into(), position })
}

/// Why a lease that is no longer live ends.
fn lapse_reason(lease: &Lease, now: DateTime<Utc>) -> ReleaseReason {
    if lease.linger_until.is_some_and(|until| until <= now) {
        ReleaseReason::Logout
    } else if lease.idle_expires_at.is_some_and(|idle| idle <= now) && lease.expires_at > now {
        ReleaseReason::Idle
    } else {
        ReleaseReason::Lapsed
    }
}

async fn visible_lease(conn: &mut Conn, vis: Visibility, id: Uuid) -> Result<(Lease, Pool), StoreError> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {LEASE_COLUMNS} FROM leases e JOIN pools p ON p.id = e.pool_id WHERE e.id = "));
    qb.push_bind(id);
    push_visibility(&mut qb, vis, "p.organisation_id", None);
    let row: Option<LeaseRow> = qb.build_query_as().fetch_optional(&mut *conn).await.map_err(backend)?;
    let lease: Lease = row.ok_or_else(|| not_found("session"))?.into();
    let pool = load_pool(conn, lease.pool_id.as_uuid()).await?;
    Ok((lease, pool))
}

async fn end(conn: &mut Conn, ctx: &WriteContext, vis: Visibility, id: Uuid, reason: ReleaseReason) -> Result<(), StoreError> {
    let (lease, pool) = visible_lease(conn, vis, id).await?;
    if reason == ReleaseReason::Logout && pool.lease.linger_seconds > 0 {
        if lease.released_at.is_none() {
            let until = ctx.now + chrono::Duration::seconds(pool.lease.linger_seconds);
            sqlx::query("UPDATE leases SET released_at = $2, linger_until = $3 WHERE id = $1")
                .bind(id)
                .bind(ctx.now)
                .bind(until)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
            lease_audit(conn, ctx, &pool, "lease.logout", &lease, serde_json::json!({"linger_until": until})).await?;
        }
        return Ok(());
    }
    free_lease(conn, ctx, &lease, reason).await?;
    grant_waiting(conn, ctx, lease.pool_id.as_uuid()).await
}

async fn reap(conn: &mut Conn, ctx: &WriteContext, limit: u32) -> Result<u64, StoreError> {
    let due: Vec<Uuid> = sqlx::query_scalar(&format!(
        "SELECT id FROM leases WHERE expires_at <= $1 OR idle_expires_at <= $1 OR linger_until <= $1 \
         ORDER BY expires_at, id LIMIT $2{SKIP_LOCKED}"
    ))
    .bind(ctx.now)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut reclaimed = 0;
    for id in due {
        let Some(lease) = load_lease(conn, id).await? else { continue };
        match free_lease(conn, ctx, &lease, lapse_reason(&lease, ctx.now)).await {
            Ok(_) => reclaimed += 1,
            Err(StoreError::Stale) => continue,
            Err(error) => return Err(error),
        }
        grant_waiting(conn, ctx, lease.pool_id.as_uuid()).await?;
    }
    Ok(reclaimed)
}

async fn leases_query(
    pool: &sqlx::Pool<Db>,
    vis: Visibility,
    f: &LeaseFilter,
    id: Option<LeaseId>,
) -> Result<Page<LeaseDetails>, StoreError> {
    let build = |select: &str| {
        let mut qb = QueryBuilder::<Db>::new(select);
        qb.push(" WHERE 1 = 1");
        push_visibility(&mut qb, vis, "p.organisation_id", None);
        if let Some(id) = id {
            qb.push(" AND e.id = ").push_bind(id.as_uuid());
        }
        if let Some(org) = f.organisation {
            qb.push(" AND p.organisation_id = ").push_bind(org.as_uuid());
        }
        if let Some(product) = f.product {
            qb.push(" AND p.product_id = ").push_bind(product.as_uuid());
        }
        if let Some(user) = f.user {
            qb.push(" AND e.user_id = ").push_bind(user.as_uuid());
        }
        qb
    };
    let total = count(
        build("SELECT COUNT(*) FROM leases e JOIN pools p ON p.id = e.pool_id"),
        pool,
    )
    .await?;
    let mut qb = build(&lease_details_select());
    qb.push(" ORDER BY e.granted_at, e.id");
    push_page(&mut qb, f.page);
    let rows: Vec<LeaseDetailsRow> = qb.build_query_as().fetch_all(pool).await.map_err(backend)?;
    Ok(Page { items: rows.into_iter().map(Into::into).collect(), total })
}
