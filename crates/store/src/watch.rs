// Pools that look after themselves, included after `seats.rs` by each engine
// module. [`watch_pool`] runs in the transaction that moved a pool (a grant, a
// release, a change of capacity): a trigger fires only for the transaction
// whose conditional update clears its armed flag, so concurrent grants that
// cross a threshold together fire it exactly once, and the notification, the
// top-up licence and their audit entries commit with the grant or not at all.

use leasehold_core::licence::Owner;
use leasehold_core::values::{CouponCode, LicenceSource, Plan};
use leasehold_core::watch::{month_of, TopUp, Trigger};

/// Sets a trigger's armed flag when it is not set so already; says whether
/// this transaction changed it.
async fn flip(conn: &mut Conn, pool: Uuid, column: &'static str, armed: bool) -> Result<bool, StoreError> {
    let flipped = sqlx::query(&format!("UPDATE pools SET {column} = $2 WHERE id = $1 AND {column} = $3"))
        .bind(pool)
        .bind(armed)
        .bind(!armed)
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
    Ok(flipped == 1)
}

/// [`watch_pool`], then the pool as it is afterwards (read again only when a
/// trigger moved: the common case costs nothing).
async fn watched(conn: &mut Conn, ctx: &WriteContext, pool: Pool) -> Result<Pool, StoreError> {
    if watch_pool(conn, ctx, &pool).await? {
        load_pool(conn, pool.id.as_uuid()).await
    } else {
        Ok(pool)
    }
}

/// After a change of `pool` (as loaded in this transaction after the change):
/// fires or re-arms its low-seat alert and its automatic top-up. Says whether
/// it wrote anything.
async fn watch_pool(conn: &mut Conn, ctx: &WriteContext, pool: &Pool) -> Result<bool, StoreError> {
    let (id, available) = (pool.id.as_uuid(), pool.available());
    let mut wrote = false;
    let alert = pool.watch.alert_step(available, pool.capacity);
    if alert == Some(Trigger::Fire) && flip(conn, id, "alert_armed", false).await? {
        wrote = true;
        let product = product_name(conn, pool).await?;
        let message = format!("{product}: {available} of {} seats left", pool.capacity);
        let data = serde_json::json!({"available": available, "capacity": pool.capacity, "held": pool.held});
        notify(conn, ctx, pool, "low_seats", &message, data).await?;
    }
    if alert == Some(Trigger::Rearm) {
        wrote |= flip(conn, id, "alert_armed", true).await?;
    }
    let topup = pool.watch.topup_step(available);
    if topup == Some(Trigger::Fire) && flip(conn, id, "topup_armed", false).await? {
        wrote = true;
        Box::pin(fire_topup(conn, ctx, id)).await?;
    }
    if topup == Some(Trigger::Rearm) {
        wrote |= flip(conn, id, "topup_armed", true).await?;
    }
    Ok(wrote)
}

async fn product_name(conn: &mut Conn, pool: &Pool) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
        .bind(pool.product_id.as_uuid())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

/// An in-app notification for the pool's organisation.
async fn notify(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: &Pool,
    kind: &str,
    message: &str,
    data: serde_json::Value,
) -> Result<(), StoreError> {
    notify_organisation(conn, ctx, pool.organisation_id.as_uuid(), Some(pool.id.as_uuid()), kind, message, data).await?;
    Ok(())
}

/// An in-app notification for an organisation, about one of its pools or not,
/// with its e-mail and webhook deliveries; returns the notification's id.
async fn notify_organisation(
    conn: &mut Conn,
    ctx: &WriteContext,
    organisation: Uuid,
    pool: Option<Uuid>,
    kind: &str,
    message: &str,
    data: serde_json::Value,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO notifications (id, organisation_id, pool_id, kind, message, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(organisation)
    .bind(pool)
    .bind(kind)
    .bind(message)
    .bind(Json(data))
    .bind(ctx.now)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    enqueue_deliveries(conn, ctx, id, organisation, pool, kind).await?;
    Ok(id)
}

/// The top-up trigger fired in this transaction: add the seats, ask for
/// approval, or say that the month's top-ups are used up.
async fn fire_topup(conn: &mut Conn, ctx: &WriteContext, pool_id: Uuid) -> Result<(), StoreError> {
    let pool = load_pool(conn, pool_id).await?;
    let Some(rule) = pool.watch.topup else { return Ok(()) };
    let product = product_name(conn, &pool).await?;
    match pool.watch.topup_decision(ctx.now) {
        Some(TopUp::Add { quantity, plan }) => {
            let licence = add_seats(conn, ctx, &pool, quantity, plan, LicenceSource::AutoTopup, None).await?;
            let message = format!("{product}: added {quantity} seats automatically");
            let data = serde_json::json!({"licence_id": licence.id, "quantity": quantity, "plan": plan});
            notify(conn, ctx, &pool, "topup_done", &message, data).await?;
        }
        Some(TopUp::AskFirst) => {
            sqlx::query("UPDATE pools SET topup_pending_since = $2 WHERE id = $1")
                .bind(pool_id)
                .bind(ctx.now)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
            let after = serde_json::json!({"topup_pending_since": ctx.now, "quantity": rule.add, "plan": rule.plan});
            record_audit(conn, ctx, &pool, "pool.topup_requested", "pool", pool_id, None, Some(after)).await?;
            let message = format!("{product}: a top-up of {} seats awaits approval", rule.add);
            let data = serde_json::json!({"quantity": rule.add, "plan": rule.plan, "available": pool.available()});
            notify(conn, ctx, &pool, "topup_awaiting_approval", &message, data).await?;
        }
        Some(TopUp::LimitReached { max_per_month }) => {
            let message = format!("{product}: low on seats, but this month's {max_per_month} automatic top-ups are used");
            let data = serde_json::json!({"max_per_month": max_per_month, "available": pool.available()});
            notify(conn, ctx, &pool, "topup_limit_reached", &message, data).await?;
        }
        Some(TopUp::AlreadyPending) | None => {}
    }
    Ok(())
}

/// A coupon code no licence has yet (checked first, so a collision never
/// aborts the transaction it runs in).
async fn fresh_coupon(conn: &mut Conn) -> Result<CouponCode, StoreError> {
    for _ in 0..8 {
        let random = Uuid::new_v4();
        let mut bytes = [0u8; CouponCode::LEN];
        bytes.copy_from_slice(&random.as_bytes()[..CouponCode::LEN]);
        let code = CouponCode::from_random(bytes);
        let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licences WHERE coupon_code = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        if taken.is_none() {
            return Ok(code);
        }
    }
    Err(StoreError::Domain(DomainError::Conflict {
        code: "coupon_collision",
        message: "no free coupon code was found".into(),
    }))
}

/// Adds `quantity` seats to the pool as a new active licence of its
/// organisation (a purchase or a top-up), priced from the product, with its
/// audit entry; the capacity rises in the same transaction and waiting
/// requests get the new seats. A top-up counts against its month.
async fn add_seats(
    conn: &mut Conn,
    ctx: &WriteContext,
    pool: &Pool,
    quantity: i64,
    plan: Plan,
    source: LicenceSource,
    created_by: Option<UserId>,
) -> Result<Licence, StoreError> {
    let row: ProductRow = sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"))
        .bind(pool.product_id.as_uuid())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let product: Product = row.try_into()?;
    let quantity = u32::try_from(quantity)
        .map_err(|_| StoreError::Domain(DomainError::field("quantity", "out_of_range", "too many seats")))?;
    let name = match source {
        LicenceSource::AutoTopup => format!("{} — automatic top-up", product.name),
        _ => format!("{} — {quantity} seats bought", product.name),
    };
    let licence = Licence::new(
        LicenceId::from_uuid(Uuid::now_v7()),
        &product,
        plan,
        name,
        String::new(),
        quantity,
        Owner::Organisation {
            organisation_id: pool.organisation_id,
            user_id: None,
        },
        fresh_coupon(conn).await?,
        source,
        created_by,
        ctx.now,
    )
    .map_err(StoreError::Domain)?;
    if source == LicenceSource::AutoTopup {
        sqlx::query(
            "UPDATE pools SET topup_count = CASE WHEN topup_month = $2 THEN topup_count + 1 ELSE 1 END, \
             topup_month = $2 WHERE id = $1",
        )
        .bind(pool.id.as_uuid())
        .bind(month_of(ctx.now))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Box::pin(apply_change(conn, ctx, &Change::InsertLicence(licence.clone()))).await?;
    let record = AuditRecord {
        organisation_id: Some(pool.organisation_id),
        product_id: Some(pool.product_id),
        action: "licence.created",
        object_kind: "licence",
        object_id: licence.id.as_uuid(),
        before: None,
        after: serde_json::to_value(&licence).ok(),
    };
    insert_audit(conn, ctx, &record).await?;
    Ok(licence)
}

/// The pool, if `vis` may see it.
async fn visible_pool(conn: &mut Conn, vis: Visibility, id: PoolId) -> Result<Pool, StoreError> {
    let mut qb = QueryBuilder::<Db>::new("SELECT p.id FROM pools p WHERE p.id = ");
    qb.push_bind(id.as_uuid());
    push_visibility(&mut qb, vis, "p.organisation_id", None);
    let found: Option<Uuid> = qb.build_query_scalar().fetch_optional(&mut *conn).await.map_err(backend)?;
    let id = found.ok_or(StoreError::Domain(DomainError::NotFound("pool")))?;
    load_pool(conn, id).await
}

/// Stores a pool's alert and top-up settings; a changed trigger starts armed
/// and is checked at once (a pool already below its new threshold alerts now).
async fn save_watch(conn: &mut Conn, ctx: &WriteContext, before: &Pool, watch: &leasehold_core::watch::PoolWatch) -> Result<(), StoreError> {
    use leasehold_core::watch::Threshold;
    let old = before.watch;
    if old.alert == watch.alert && old.topup == watch.topup {
        return Ok(());
    }
    let (seats, percent) = match watch.alert {
        Some(Threshold::Seats(k)) => (Some(k), None),
        Some(Threshold::Percent(p)) => (None, Some(p)),
        None => (None, None),
    };
    let rule = watch.topup;
    sqlx::query(
        "UPDATE pools SET alert_below_seats = $2, alert_below_percent = $3, \
         alert_armed = CASE WHEN $4 THEN TRUE ELSE alert_armed END, \
         topup_enabled = $5, topup_below = $6, topup_add = $7, topup_max_per_month = $8, topup_ask_first = $9, \
         topup_plan = $10, topup_armed = CASE WHEN $11 THEN TRUE ELSE topup_armed END WHERE id = $1",
    )
    .bind(before.id.as_uuid())
    .bind(seats)
    .bind(percent)
    .bind(old.alert != watch.alert)
    .bind(rule.is_some())
    .bind(rule.map_or(0, |r| r.below))
    .bind(rule.map_or(0, |r| r.add))
    .bind(rule.map_or(0, |r| r.max_per_month))
    .bind(rule.is_some_and(|r| r.ask_first))
    .bind(rule.map_or(Plan::Monthly, |r| r.plan).as_str())
    .bind(old.topup != watch.topup)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let after = load_pool(conn, before.id.as_uuid()).await?;
    let was = serde_json::json!({"alert": old.alert, "topup": old.topup});
    let now = serde_json::json!({"alert": watch.alert, "topup": watch.topup});
    record_audit(conn, ctx, &after, "pool.updated", "pool", before.id.as_uuid(), Some(was), Some(now)).await?;
    watch_pool(conn, ctx, &after).await?;
    Ok(())
}

/// An administrator's answer to a top-up that waits for approval.
async fn settle_topup(
    conn: &mut Conn,
    ctx: &WriteContext,
    vis: Visibility,
    id: PoolId,
    approve: bool,
    by: Option<UserId>,
) -> Result<(), StoreError> {
    let pool = visible_pool(conn, vis, id).await?;
    let (Some(rule), Some(since)) = (pool.watch.topup, pool.watch.topup_pending_since) else {
        return Err(StoreError::Domain(DomainError::Conflict {
            code: "no_pending_topup",
            message: "no top-up of this pool waits for approval".into(),
        }));
    };
    let cleared = sqlx::query("UPDATE pools SET topup_pending_since = NULL WHERE id = $1 AND topup_pending_since IS NOT NULL")
        .bind(pool.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(backend)?
        .rows_affected();
    if cleared != 1 {
        return Err(StoreError::Stale);
    }
    let action = if approve { "pool.topup_approved" } else { "pool.topup_dismissed" };
    let before = serde_json::json!({"topup_pending_since": since});
    let after = serde_json::json!({"quantity": rule.add, "plan": rule.plan});
    record_audit(conn, ctx, &pool, action, "pool", pool.id.as_uuid(), Some(before), Some(after)).await?;
    if approve {
        let product = product_name(conn, &pool).await?;
        let message = format!("{product}: added {} seats, as approved", rule.add);
        let data = serde_json::json!({"quantity": rule.add, "plan": rule.plan, "approved_by": by});
        notify(conn, ctx, &pool, "topup_done", &message, data).await?;
        add_seats(conn, ctx, &pool, rule.add, rule.plan, LicenceSource::AutoTopup, by).await?;
    }
    Ok(())
}
