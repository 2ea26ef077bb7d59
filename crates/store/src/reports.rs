// Pool reports: daily rollups of usage events, included after `outbox.rs` by
// each engine module.
//
// A pool's cursor says up to which midnight its days are rolled, and carries
// the integration state at that instant (held, capacity, who waits since
// when, recent denials): rolling up resumes exactly where it stopped, so a
// rolled day equals the same day integrated from the pool's whole history.
// A report reads the rolled days and integrates only the events after the
// cursor (normally less than a day). Rolling up claims the cursor with a
// conditional update, so two processes never roll the same days, and under
// the pool row's lock, which also stamps each usage event: no event is ever
// written inside days already rolled (it counts at the cursor instead).

use leasehold_core::report::{integrate, Bucket, BucketReport, ReportState};
use leasehold_core::values::AdditionSource;

/// Days rolled per transaction: bounds the events held in memory at once.
const ROLL_UP_DAYS_PER_PASS: i64 = 7;

async fn usage_cursor(
    conn: &mut Conn,
    pool: Uuid,
) -> Result<Option<(DateTime<Utc>, ReportState)>, StoreError> {
    let row: Option<(DateTime<Utc>, Json<ReportState>)> =
        sqlx::query_as("SELECT rolled_until, state FROM usage_rollup_cursors WHERE pool_id = $1")
            .bind(pool)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    Ok(row.map(|(until, state)| (until, state.0)))
}

/// The midnight of the pool's first usage event, if it has any before `until`.
async fn first_usage_day(conn: &mut Conn, pool: Uuid, until: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
    let first: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT at FROM usage_events WHERE pool_id = $1 AND at < $2 ORDER BY at, id LIMIT 1")
            .bind(pool)
            .bind(until)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    Ok(first.map(|at| leasehold_core::report::bucket_start(Bucket::Day, at)))
}

async fn usage_between(
    conn: &mut Conn,
    pool: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<UsageEvent>, StoreError> {
    let rows: Vec<UsageRow> = sqlx::query_as(
        "SELECT pool_id, at, kind, held, capacity, subject_id, reason FROM usage_events \
         WHERE pool_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
    )
    .bind(pool)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Rolls up at most one pass of the pool's days before `until`; returns the
/// days rolled (0: up to date, or another process holds the cursor).
async fn roll_up_pass(conn: &mut Conn, pool: Uuid, until: DateTime<Utc>) -> Result<u64, StoreError> {
    // Under the pool row's lock, as events are stamped: an event being
    // written now either committed before this read or will be stamped at or
    // after the new cursor (see `record_usage`), never inside the rolled days.
    sqlx::query(&format!("SELECT id FROM pools WHERE id = $1{FOR_UPDATE}"))
        .bind(pool)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let cursor = usage_cursor(conn, pool).await?;
    let (from, mut state, known) = match cursor {
        Some((rolled, state)) => (rolled, state, Some(rolled)),
        None => match first_usage_day(conn, pool, until).await? {
            Some(first) => (first, ReportState::default(), None),
            None => return Ok(0),
        },
    };
    if from >= until {
        return Ok(0);
    }
    let to = (from + chrono::Duration::days(ROLL_UP_DAYS_PER_PASS)).min(until);
    let events = usage_between(conn, pool, from, to).await?;
    let days = integrate(&mut state, &events, Bucket::Day, from, to);
    state.prune(to);
    // Claim the cursor first: a process that loses the race writes nothing.
    let claimed = match known {
        Some(rolled) => sqlx::query(
            "UPDATE usage_rollup_cursors SET rolled_until = $2, state = $3 WHERE pool_id = $1 AND rolled_until = $4",
        )
        .bind(pool)
        .bind(to)
        .bind(Json(&state))
        .bind(rolled),
        None => sqlx::query(
            "INSERT INTO usage_rollup_cursors (pool_id, rolled_until, state) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id) DO NOTHING",
        )
        .bind(pool)
        .bind(to)
        .bind(Json(&state)),
    }
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected();
    if claimed != 1 {
        return Ok(0);
    }
    sqlx::query("UPDATE pools SET last_usage_at = $2 WHERE id = $1 AND (last_usage_at IS NULL OR last_usage_at < $2)")
        .bind(pool)
        .bind(to)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for day in &days {
        sqlx::query("INSERT INTO usage_rollups (pool_id, day, report) VALUES ($1, $2, $3)")
            .bind(pool)
            .bind(day.start)
            .bind(Json(day))
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(days.len() as u64)
}

async fn roll_up_usage(engine: &Engine, until: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
    let pools: Vec<Uuid> = sqlx::query_scalar(
        "SELECT p.id FROM pools p LEFT JOIN usage_rollup_cursors c ON c.pool_id = p.id \
         WHERE c.rolled_until < $1 \
            OR (c.pool_id IS NULL AND EXISTS (SELECT 1 FROM usage_events e WHERE e.pool_id = p.id AND e.at < $1)) \
         ORDER BY p.id LIMIT $2",
    )
    .bind(until)
    .bind(i64::from(limit))
    .fetch_all(engine.reader())
    .await
    .map_err(backend)?;
    let mut rolled = 0;
    for pool in pools {
        // One pool failing (a busy snapshot, a bad row) does not hold up the others.
        match roll_up_pool(engine, pool, until).await {
            Ok(days) => rolled += days,
            Err(error) => tracing::warn!(pool = %pool, error = %error, "rolling up this pool's usage failed; it is tried again next pass"),
        }
    }
    Ok(rolled)
}

/// Rolls up one pool's days before `until`, a pass per transaction.
async fn roll_up_pool(engine: &Engine, pool: Uuid, until: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut rolled = 0;
    loop {
        let mut tx = engine.begin().await.map_err(backend)?;
        let days = roll_up_pass(&mut tx, pool, until).await?;
        tx.commit().await.map_err(backend)?;
        rolled += days;
        if days == 0 {
            return Ok(rolled);
        }
    }
}

async fn usage_days(
    engine: &Engine,
    pool: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BucketReport>, StoreError> {
    let mut conn = engine.reader().acquire().await.map_err(backend)?;
    // One snapshot: a roll-up committing between the reads must not be seen half.
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(backend)?;
    let cursor = usage_cursor(&mut tx, pool).await?;
    let rolled_until = cursor.as_ref().map(|(until, _)| *until);
    let mut days: Vec<BucketReport> = match rolled_until {
        Some(until) if from < until => {
            let rows: Vec<(Json<BucketReport>,)> = sqlx::query_as(
                "SELECT report FROM usage_rollups WHERE pool_id = $1 AND day >= $2 AND day < $3 ORDER BY day",
            )
            .bind(pool)
            .bind(from)
            .bind(to.min(until))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            rows.into_iter().map(|(report,)| report.0).collect()
        }
        _ => Vec::new(),
    };
    if rolled_until.is_none_or(|until| until < to) {
        // The days after the cursor (or all of them, never rolled): integrate
        // from the cursor's state, or from the pool's first event.
        let (start, mut state) = match cursor {
            Some((until, state)) => (until, state),
            None => (
                first_usage_day(&mut tx, pool, to).await?.map_or(from, |first| first.min(from)),
                ReportState::default(),
            ),
        };
        let events = usage_between(&mut tx, pool, start, to).await?;
        let tail = integrate(&mut state, &events, Bucket::Day, start, to);
        days.extend(tail.into_iter().filter(|day| day.start >= from));
    }
    tx.commit().await.map_err(backend)?;
    // Days before the pool's first event (never rolled): nothing held, nothing offered.
    let mut filled = Vec::new();
    let mut known = days.into_iter().peekable();
    for (start, end) in leasehold_core::report::buckets(Bucket::Day, from, to) {
        match known.next_if(|day| day.start == start) {
            Some(day) => filled.push(day),
            None => filled.extend(integrate(&mut ReportState::default(), &[], Bucket::Day, start, end)),
        }
    }
    Ok(filled)
}

async fn pool_additions(
    engine: &Engine,
    pool: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Addition>, StoreError> {
    let rows: Vec<(DateTime<Utc>, String, bool, i64)> = sqlx::query_as(
        "SELECT l.activated_at, l.source, l.redeemed_at IS NOT NULL, CAST(l.quantity AS BIGINT) FROM licences l \
         JOIN pools p ON p.organisation_id = l.owner_organisation_id AND p.product_id = l.product_id \
         WHERE p.id = $1 AND l.activated_at >= $2 AND l.activated_at < $3 ORDER BY l.activated_at, l.id",
    )
    .bind(pool)
    .bind(from)
    .bind(to)
    .fetch_all(engine.reader())
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|(at, source, redeemed, quantity)| {
            let source = parse("source", &source, LicenceSource::parse)?;
            Ok(Addition {
                at,
                source: AdditionSource::of(source, redeemed),
                quantity,
            })
        })
        .collect()
}

async fn additions(
    engine: &Engine,
    vis: Visibility,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AdditionLine>, StoreError> {
    type Row = (Uuid, String, Uuid, String, String, String, bool, i64, i64, i64, String);
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT o.id, o.name, p.id, p.code, p.name, l.source, l.redeemed_at IS NOT NULL, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(l.quantity) AS BIGINT), CAST(SUM(l.quantity * l.unit_price) AS BIGINT), l.currency \
         FROM licences l JOIN organisations o ON o.id = l.owner_organisation_id JOIN products p ON p.id = l.product_id \
         WHERE l.activated_at >= ",
    );
    qb.push_bind(from).push(" AND l.activated_at < ").push_bind(to);
    push_visibility(&mut qb, vis, "l.owner_organisation_id", None);
    qb.push(
        " GROUP BY o.id, o.name, p.id, p.code, p.name, l.source, l.redeemed_at IS NOT NULL, l.currency \
         ORDER BY o.name, o.id, p.code, p.id, l.source, l.redeemed_at IS NOT NULL, l.currency",
    );
    let rows: Vec<Row> = qb.build_query_as().fetch_all(engine.reader()).await.map_err(backend)?;
    let mut lines = Vec::with_capacity(rows.len());
    for (org, org_name, product, code, product_name, source, redeemed, licences, seats, amount, currency) in rows {
        let source = AdditionSource::of(parse("source", &source, LicenceSource::parse)?, redeemed);
        // A coupon and a direct assignment share a licence source: fold the
        // rows of one (organisation, product, addition source) together.
        match lines.last_mut() {
            Some(AdditionLine {
                organisation_id,
                product_id,
                source: last,
                currency: last_currency,
                licences: l,
                seats: s,
                amount: a,
                ..
            }) if organisation_id.as_uuid() == org
                && product_id.as_uuid() == product
                && *last == source
                && *last_currency == currency =>
            {
                *l += licences;
                *s += seats;
                *a += amount;
            }
            _ => lines.push(AdditionLine {
                organisation_id: OrganisationId::from_uuid(org),
                organisation_name: org_name,
                product_id: ProductId::from_uuid(product),
                product_code: code,
                product_name,
                source,
                licences,
                seats,
                amount,
                currency,
            }),
        }
    }
    lines.sort_by(|a, b| {
        (&a.organisation_name, a.organisation_id.as_uuid(), &a.product_code, a.source)
            .cmp(&(&b.organisation_name, b.organisation_id.as_uuid(), &b.product_code, b.source))
    });
    Ok(lines)
}

impl Engine {
    /// Writes usage events as they are (tests and the report benchmark build
    /// histories with it); the pool's organisation is looked up.
    pub async fn import_usage_events(&self, events: &[UsageEvent]) -> Result<(), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        for event in events {
            sqlx::query(
                "INSERT INTO usage_events (id, pool_id, organisation_id, at, kind, held, capacity, subject_id, reason) \
                 SELECT $1, id, organisation_id, $3, $4, $5, $6, $7, $8 FROM pools WHERE id = $2",
            )
            .bind(Uuid::now_v7())
            .bind(event.pool_id.as_uuid())
            .bind(event.at)
            .bind(&event.kind)
            .bind(event.held)
            .bind(event.capacity)
            .bind(event.subject_id)
            .bind(&event.reason)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
