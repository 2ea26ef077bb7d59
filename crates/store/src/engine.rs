// The SQL of both engines, compiled once per engine by `include!` from
// `sqlite.rs` and `postgres.rs`, each of which defines `Db`, `Engine` (with
// `begin()` and `reader()`) and `LOCK_SIGNING_KEYS` before including this file.
// Placeholders are `$n`, which both engines accept; dynamic queries use
// `QueryBuilder`, which writes each engine's own placeholders.

use crate::rows::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leasehold_core::access::Visibility;
use leasehold_core::error::DomainError;
use leasehold_core::ids::*;
use leasehold_core::licence::{Licence, Organisation, Product};
use leasehold_core::ports::*;
use leasehold_core::values::{Email, LicenceStatus};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

type Conn = <Db as sqlx::Database>::Connection;

const LICENCE_SELECT: &str = "SELECT l.id, l.product_id, l.plan, l.name, l.note, l.quantity, l.unit_price, \
     l.currency, l.owner_organisation_id, l.owner_user_id, l.coupon_code, l.status, l.billing_status, \
     l.source, l.created_by, l.created_at, l.activated_at, l.ends_at, l.redeemed_at, l.auto_renew, l.version, \
     p.name AS product_name, o.name AS owner_organisation_name, u.email AS owner_user_email";
const LICENCE_FROM: &str = " FROM licences l JOIN products p ON p.id = l.product_id \
     LEFT JOIN organisations o ON o.id = l.owner_organisation_id \
     LEFT JOIN users u ON u.id = l.owner_user_id";
const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.organisation_id, u.created_at";
const API_KEY_COLUMNS: &str =
    "k.id, k.name, k.organisation_id, k.scopes, k.prefix, k.created_by, k.created_at, k.last_used_at, k.revoked_at";
const PRODUCT_COLUMNS: &str = "id, code, name, seat_kind, currency, prices, default_lease_seconds, created_at";
const AUDIT_COLUMNS: &str = "a.id, a.at, a.organisation_id, a.product_id, a.actor_kind, a.actor_id, a.action, \
     a.object_kind, a.object_id, a.before, a.after, a.request_id";
/// The organisations an account manager looks after; bind the manager's id after it.
const MANAGED_ORGANISATIONS: &str = "(SELECT mo.id FROM organisations mo WHERE mo.account_manager_id = ";
/// Account managers also see the unassigned licences they created.
const UNASSIGNED_CREATED_BY_MANAGER: Option<(&str, &str)> =
    Some(("(l.owner_organisation_id IS NULL AND l.created_by = ", ")"));

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A unique violation on `column`: PostgreSQL names the constraint
/// (`licences_coupon_code_key`), SQLite the column (`licences.coupon_code`).
fn is_unique_violation_of(error: &sqlx::Error, column: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation()
        && (db.constraint().is_some_and(|c| c.contains(column)) || db.message().contains(column)))
}

/// A `LIKE` pattern matching `text` anywhere, case-insensitively (compare against `lower(column)`).
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn push_keyword(qb: &mut QueryBuilder<'_, Db>, q: &Option<String>, columns: &[&str]) {
    let Some(q) = q.as_deref().filter(|q| !q.trim().is_empty()) else { return };
    let pattern = contains_pattern(q);
    qb.push(" AND (");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format!("lower({column}) LIKE "));
        qb.push_bind(pattern.clone());
        qb.push(" ESCAPE '\\'");
    }
    qb.push(")");
}

/// Restricts rows to what `vis` may see; `org_column` holds the owning
/// organisation, `manager_extra` adds what an account manager sees beyond the
/// organisations they manage: a condition around one bound user id.
fn push_visibility(
    qb: &mut QueryBuilder<'_, Db>,
    vis: Visibility,
    org_column: &str,
    manager_extra: Option<(&str, &str)>,
) {
    match vis {
        Visibility::Everything => {}
        Visibility::Organisation(org) => {
            qb.push(format!(" AND {org_column} = ")).push_bind(org.as_uuid());
        }
        Visibility::ManagedBy(manager) => {
            qb.push(format!(" AND ({org_column} IN {MANAGED_ORGANISATIONS}"))
                .push_bind(manager.as_uuid())
                .push(")");
            if let Some((before, after)) = manager_extra {
                qb.push(format!(" OR {before}")).push_bind(manager.as_uuid()).push(after);
            }
            qb.push(")");
        }
    }
}

fn push_page(qb: &mut QueryBuilder<'_, Db>, page: PageRequest) {
    qb.push(" LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
}

fn push_licence_filter(qb: &mut QueryBuilder<'_, Db>, vis: Visibility, f: &LicenceFilter) {
    qb.push(" WHERE 1 = 1");
    push_visibility(qb, vis, "l.owner_organisation_id", UNASSIGNED_CREATED_BY_MANAGER);
    if let Some(org) = f.organisation {
        qb.push(" AND l.owner_organisation_id = ").push_bind(org.as_uuid());
    }
    if let Some(user) = f.user {
        qb.push(" AND l.owner_user_id = ").push_bind(user.as_uuid());
    }
    if let Some(product) = f.product {
        qb.push(" AND l.product_id = ").push_bind(product.as_uuid());
    }
    if let Some(billing) = f.billing_status {
        qb.push(" AND l.billing_status = ").push_bind(billing.as_str());
    }
    // Statuses as callers see them: a running licence past its end is expired.
    let push_expired = |qb: &mut QueryBuilder<'_, Db>| {
        qb.push(" AND (l.status = 'expired' OR (l.status IN ('active', 'paused') AND l.ends_at <= ")
            .push_bind(f.now)
            .push("))");
    };
    match f.status {
        None => {}
        Some(LicenceStatus::Expired) => push_expired(qb),
        Some(LicenceStatus::Unassigned) => {
            qb.push(" AND l.status = 'unassigned'");
        }
        Some(running) => {
            qb.push(" AND l.status = ")
                .push_bind(running.as_str())
                .push(" AND (l.ends_at IS NULL OR l.ends_at > ")
                .push_bind(f.now)
                .push(")");
        }
    }
    match f.expiring {
        None => {}
        Some(Expiring::Expired) => push_expired(qb),
        Some(Expiring::Soon) => {
            qb.push(" AND l.status IN ('active', 'paused') AND l.ends_at > ")
                .push_bind(f.now)
                .push(" AND l.ends_at <= ")
                .push_bind(f.soon_until);
        }
    }
    push_keyword(qb, &f.q, &["l.name", "l.note", "l.coupon_code", "o.name", "u.email"]);
}

async fn count(mut qb: QueryBuilder<'_, Db>, pool: &sqlx::Pool<Db>) -> Result<u64, StoreError> {
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await.map_err(backend)?;
    Ok(u64::try_from(total).unwrap_or_default())
}

/// The console user a write is made by, if it is one.
fn acting_user(ctx: &WriteContext) -> Option<UserId> {
    match ctx.actor.kind {
        leasehold_core::access::ActorKind::User => ctx.actor.id.map(UserId::from_uuid),
        _ => None,
    }
}

/// The pool a licence counts in, if it has an owner.
fn pool_of(licence: &Licence) -> Option<(Uuid, Uuid)> {
    licence.owner_organisation_id.map(|org| (org.as_uuid(), licence.product_id.as_uuid()))
}

async fn apply_change(conn: &mut Conn, ctx: &WriteContext, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::InsertOrganisation(o) => {
            sqlx::query("INSERT INTO organisations (id, name, account_manager_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(o.id.as_uuid())
                .bind(&o.name)
                .bind(o.account_manager_id.map(|id| id.as_uuid()))
                .bind(o.created_at)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        Change::UpdateOrganisation(o) => {
            sqlx::query("UPDATE organisations SET name = $2, account_manager_id = $3 WHERE id = $1")
                .bind(o.id.as_uuid())
                .bind(&o.name)
                .bind(o.account_manager_id.map(|id| id.as_uuid()))
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        Change::InsertUser { user, password_hash } => {
            sqlx::query(
                "INSERT INTO users (id, email, name, role, organisation_id, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(user.id.as_uuid())
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(user.organisation_id.map(|id| id.as_uuid()))
            .bind(password_hash)
            .bind(user.created_at)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Domain(DomainError::field("email", "email_taken", "a user with this e-mail exists"))
                } else {
                    backend(e)
                }
            })?;
        }
        Change::InsertApiKey { key, key_hash } => {
            let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            sqlx::query(
                "INSERT INTO api_keys (id, name, organisation_id, scopes, prefix, key_hash, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(key.id.as_uuid())
            .bind(&key.name)
            .bind(key.organisation_id.map(|id| id.as_uuid()))
            .bind(Json(scopes))
            .bind(&key.prefix)
            .bind(key_hash)
            .bind(key.created_by.map(|id| id.as_uuid()))
            .bind(key.created_at)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        }
        Change::RevokeApiKey { id, at } => {
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.as_uuid())
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        Change::InsertProduct(p) => {
            sqlx::query(
                "INSERT INTO products (id, code, name, seat_kind, currency, prices, default_lease_seconds, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(p.id.as_uuid())
            .bind(&p.code)
            .bind(&p.name)
            .bind(p.seat_kind.as_str())
            .bind(&p.currency)
            .bind(Json(&p.prices))
            .bind(p.default_lease_seconds)
            .bind(p.created_at)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Domain(DomainError::field("code", "code_taken", "a product with this code exists"))
                } else {
                    backend(e)
                }
            })?;
        }
        Change::UpdateProduct(p) => {
            sqlx::query("UPDATE products SET name = $2, prices = $3, default_lease_seconds = $4 WHERE id = $1")
                .bind(p.id.as_uuid())
                .bind(&p.name)
                .bind(Json(&p.prices))
                .bind(p.default_lease_seconds)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        Change::InsertLicence(l) => {
            sqlx::query(
                "INSERT INTO licences (id, product_id, plan, name, note, quantity, unit_price, currency, \
                 owner_organisation_id, owner_user_id, coupon_code, status, billing_status, source, created_by, \
                 created_at, activated_at, ends_at, redeemed_at, version, auto_renew) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
            )
            .bind(l.id.as_uuid())
            .bind(l.product_id.as_uuid())
            .bind(l.plan.as_str())
            .bind(&l.name)
            .bind(&l.note)
            .bind(i64::from(l.quantity))
            .bind(l.unit_price)
            .bind(&l.currency)
            .bind(l.owner_organisation_id.map(|id| id.as_uuid()))
            .bind(l.owner_user_id.map(|id| id.as_uuid()))
            .bind(l.coupon_code.as_str())
            .bind(l.status.as_str())
            .bind(l.billing_status.as_str())
            .bind(l.source.as_str())
            .bind(l.created_by.map(|id| id.as_uuid()))
            .bind(l.created_at)
            .bind(l.activated_at)
            .bind(l.ends_at)
            .bind(l.redeemed_at)
            .bind(l.version)
            .bind(l.auto_renew)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                // Only the coupon's uniqueness is a collision worth a retry with a new code.
                if is_unique_violation_of(&e, "coupon_code") {
                    StoreError::Domain(DomainError::Conflict {
                        code: "coupon_collision",
                        message: "the generated coupon code exists already".into(),
                    })
                } else {
                    backend(e)
                }
            })?;
            if let Some((org, product)) = pool_of(l) {
                sync_pool(conn, ctx, org, product).await?;
            }
        }
        Change::UpdateLicence(l) => {
            save_licence(conn, l).await?;
            if let Some((org, product)) = pool_of(l) {
                sync_pool(conn, ctx, org, product).await?;
            }
        }
        Change::DeleteLicence { id, version } => {
            let owner: Option<(Option<Uuid>, Uuid)> =
                sqlx::query_as("SELECT owner_organisation_id, product_id FROM licences WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(backend)?;
            // Never while redeemed or while any of its seats is held.
            let deleted = sqlx::query(
                "DELETE FROM licences WHERE id = $1 AND version = $2 AND redeemed_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM seats WHERE licence_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM leases WHERE licence_id = $1)",
            )
            .bind(id.as_uuid())
            .bind(version)
            .execute(&mut *conn)
            .await
            .map_err(backend)?
            .rows_affected();
            if deleted != 1 {
                return Err(StoreError::Stale);
            }
            if let Some((Some(org), product)) = owner {
                sync_pool(conn, ctx, org, product).await?;
            }
        }
    }
    Ok(())
}

/// Saves a licence changed since it was read at `version - 1`; `Stale` when
/// someone else saved it in between.
async fn save_licence(conn: &mut Conn, l: &Licence) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE licences SET name = $3, note = $4, quantity = $5, owner_organisation_id = $6, owner_user_id = $7, \
         status = $8, billing_status = $9, activated_at = $10, ends_at = $11, redeemed_at = $12, version = $2, \
         auto_renew = $13 WHERE id = $1 AND version = $2 - 1",
    )
    .bind(l.id.as_uuid())
    .bind(l.version)
    .bind(&l.name)
    .bind(&l.note)
    .bind(i64::from(l.quantity))
    .bind(l.owner_organisation_id.map(|id| id.as_uuid()))
    .bind(l.owner_user_id.map(|id| id.as_uuid()))
    .bind(l.status.as_str())
    .bind(l.billing_status.as_str())
    .bind(l.activated_at)
    .bind(l.ends_at)
    .bind(l.redeemed_at)
    .bind(l.auto_renew)
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale)
    }
}

async fn insert_audit(conn: &mut Conn, ctx: &WriteContext, record: &AuditRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, organisation_id, product_id, chain_id, actor_kind, actor_id, action, \
         object_kind, object_id, before, after, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(Uuid::now_v7())
    .bind(ctx.now)
    .bind(record.organisation_id.map(|id| id.as_uuid()))
    .bind(record.product_id.map(|id| id.as_uuid()))
    .bind(leasehold_core::audit::chain_of(record.organisation_id))
    .bind(ctx.actor.kind.as_str())
    .bind(ctx.actor.id)
    .bind(record.action)
    .bind(record.object_kind)
    .bind(record.object_id)
    .bind(record.before.as_ref().map(Json))
    .bind(record.after.as_ref().map(Json))
    .bind(&ctx.request_id)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Seals up to `limit` of one chain's pending entries in one transaction, unless
/// another process is sealing that chain (then it is left to them).
async fn seal_chain(engine: &Engine, chain_id: Uuid, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
    use leasehold_core::audit::{entry_hash, GENESIS_HASH};
    let mut tx = engine.begin().await.map_err(backend)?;
    sqlx::query("INSERT INTO audit_chains (chain_id, seq, hash, sealed_at) VALUES ($1, 0, $2, $3) ON CONFLICT (chain_id) DO NOTHING")
        .bind(chain_id)
        .bind(GENESIS_HASH)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let head: Option<(i64, String)> =
        sqlx::query_as(&format!("SELECT seq, hash FROM audit_chains WHERE chain_id = $1{SKIP_LOCKED}"))
            .bind(chain_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    let Some((mut seq, mut hash)) = head else {
        return Ok(0);
    };
    let pending: Vec<AuditRow> = sqlx::query_as(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log a WHERE a.chain_id = $1 AND a.seq IS NULL ORDER BY a.at, a.id LIMIT $2"
    ))
    .bind(chain_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let sealed = pending.len() as u64;
    for row in pending {
        let entry = AuditEntry::try_from(row)?;
        let prev_hash = std::mem::take(&mut hash);
        seq += 1;
        hash = entry_hash(chain_id, seq, &prev_hash, &entry);
        sqlx::query("UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1 AND seq IS NULL")
            .bind(entry.id.as_uuid())
            .bind(seq)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    if sealed > 0 {
        sqlx::query("UPDATE audit_chains SET seq = $2, hash = $3, sealed_at = $4 WHERE chain_id = $1")
            .bind(chain_id)
            .bind(seq)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(sealed)
}

#[async_trait]
impl Store for Engine {
    #[tracing::instrument(skip_all, fields(changes = set.changes.len()))]
    async fn commit(&self, ctx: &WriteContext, set: ChangeSet) -> Result<Committed, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        if let Some(claim) = &set.idempotency {
            if let Some(resource_id) = claim_idempotency(&mut tx, ctx, claim).await? {
                tx.rollback().await.map_err(backend)?;
                return Ok(Committed::Replayed { resource_id });
            }
        }
        for change in &set.changes {
            apply_change(&mut tx, ctx, change).await?;
        }
        for record in &set.audit {
            insert_audit(&mut tx, ctx, record).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(Committed::Applied)
    }

    async fn idempotency_record(&self, scope: &str, key: &str) -> Result<Option<(String, Uuid)>, StoreError> {
        sqlx::query_as("SELECT request_hash, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(self.reader())
            .await
            .map_err(backend)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT COUNT(*) FROM signing_keys").execute(self.reader()).await.map_err(backend)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn organisation(&self, vis: Visibility, id: OrganisationId) -> Result<Option<Organisation>, StoreError> {
        let filter = ListFilter { organisation: Some(id), ..ListFilter::default() };
        Ok(self.organisations(vis, &filter).await?.items.into_iter().next())
    }

    #[tracing::instrument(skip_all)]
    async fn organisations(&self, vis: Visibility, f: &ListFilter) -> Result<Page<Organisation>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM organisations o WHERE 1 = 1");
            push_visibility(&mut qb, vis, "o.id", None);
            if let Some(org) = f.organisation {
                qb.push(" AND o.id = ").push_bind(org.as_uuid());
            }
            push_keyword(&mut qb, &f.q, &["o.name"]);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build("SELECT o.id, o.name, o.account_manager_id, o.created_at");
        qb.push(" ORDER BY lower(o.name), o.id");
        push_page(&mut qb, f.page);
        let rows: Vec<OrganisationRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), total })
    }

    #[tracing::instrument(skip_all)]
    async fn user(&self, vis: Visibility, id: UserId) -> Result<Option<User>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = "));
        qb.push_bind(id.as_uuid());
        push_visibility(&mut qb, vis, "u.organisation_id", Some(("u.id = ", "")));
        let row: Option<UserRow> = qb.build_query_as().fetch_optional(self.reader()).await.map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn users(&self, vis: Visibility, f: &ListFilter) -> Result<Page<User>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM users u WHERE 1 = 1");
            push_visibility(&mut qb, vis, "u.organisation_id", Some(("u.id = ", "")));
            if let Some(org) = f.organisation {
                qb.push(" AND u.organisation_id = ").push_bind(org.as_uuid());
            }
            push_keyword(&mut qb, &f.q, &["u.email", "u.name"]);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {USER_COLUMNS}"));
        qb.push(" ORDER BY u.email");
        push_page(&mut qb, f.page);
        let rows: Vec<UserRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
    }

    #[tracing::instrument(skip_all)]
    async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<CredentialsRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"))
                .bind(email.as_str())
                .fetch_optional(self.reader())
                .await
                .map_err(backend)?;
        row.map(|row| Ok((row.user.try_into()?, row.password_hash))).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        threshold: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        // One statement: concurrent failures each count (no read-then-write).
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO sign_in_failures (key_hash, failures, window_start, locked_until) VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (key_hash) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.window_start < $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
             window_start = CASE WHEN sign_in_failures.window_start < $3 THEN $2 ELSE sign_in_failures.window_start END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let locked = failures >= i64::from(threshold);
        if locked {
            sqlx::query("UPDATE sign_in_failures SET locked_until = $2 WHERE key_hash = $1")
                .bind(key)
                .bind(lock_until)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(locked.then_some(lock_until))
    }

    #[tracing::instrument(skip_all)]
    async fn sign_in_locked_until(&self, key: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE key_hash = $1 AND locked_until > $2")
            .bind(key)
            .bind(now)
            .fetch_optional(self.reader())
            .await
            .map_err(backend)
    }

    #[tracing::instrument(skip_all)]
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM sign_in_failures WHERE key_hash = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    #[tracing::instrument(skip_all)]
    async fn start_auth_session(&self, session: &AuthSession) -> Result<(), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(session.id.as_uuid())
            .bind(session.user_id.as_uuid())
            .bind(session.created_at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)")
            .bind(&session.refresh_hash)
            .bind(session.id.as_uuid())
            .bind(session.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT t.session_id, t.used_at, s.revoked_at, s.expires_at, s.user_id \
             FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
        )
        .bind(presented_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(RefreshOutcome::Invalid) };
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        // Mark the token used; zero rows means it was used before (or just now by a racer).
        let used = sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
            .bind(presented_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if row.used_at.is_some() || used != 1 {
            sqlx::query("UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(row.session_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            return Ok(RefreshOutcome::Reused);
        }
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)")
            .bind(new_hash)
            .bind(row.session_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let user: UserRow = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
            .bind(row.user_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(RefreshOutcome::Rotated { session_id: row.session_id.into(), user: user.try_into()? })
    }

    #[tracing::instrument(skip_all)]
    async fn end_auth_session(
        &self,
        id: Option<AuthSessionId>,
        refresh_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $3 WHERE revoked_at IS NULL AND (id = $1 OR id IN \
             (SELECT session_id FROM refresh_tokens WHERE token_hash = $2))",
        )
        .bind(id.map(|id| id.as_uuid()))
        .bind(refresh_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn auth_session_live(&self, id: AuthSessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(id.as_uuid())
        .bind(now)
        .fetch_one(self.reader())
        .await
        .map_err(backend)?;
        Ok(live > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn api_key(&self, vis: Visibility, id: ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {API_KEY_COLUMNS} FROM api_keys k WHERE k.id = "));
        qb.push_bind(id.as_uuid());
        push_visibility(&mut qb, vis, "k.organisation_id", None);
        let row: Option<ApiKeyRow> = qb.build_query_as().fetch_optional(self.reader()).await.map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn api_keys(&self, vis: Visibility, f: &ListFilter) -> Result<Page<ApiKey>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM api_keys k WHERE 1 = 1");
            push_visibility(&mut qb, vis, "k.organisation_id", None);
            if let Some(org) = f.organisation {
                qb.push(" AND k.organisation_id = ").push_bind(org.as_uuid());
            }
            push_keyword(&mut qb, &f.q, &["k.name", "k.prefix"]);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {API_KEY_COLUMNS}"));
        qb.push(" ORDER BY k.created_at DESC, k.id");
        push_page(&mut qb, f.page);
        let rows: Vec<ApiKeyRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
    }

    #[tracing::instrument(skip_all)]
    async fn authenticate_api_key(&self, key_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
        ))
        .bind(key_hash)
        .fetch_optional(self.reader())
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let key: ApiKey = row.try_into()?;
        // Record use at most once a minute, so authentication stays a read.
        if key.last_used_at.is_none_or(|at| now - at > chrono::Duration::seconds(60)) {
            let mut tx = self.begin().await.map_err(backend)?;
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
                .bind(key.id.as_uuid())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
        }
        Ok(Some(key))
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        let row: Option<ProductRow> = sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"))
            .bind(id.as_uuid())
            .fetch_optional(self.reader())
            .await
            .map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn products(&self, f: &ListFilter) -> Result<Page<Product>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM products WHERE 1 = 1");
            push_keyword(&mut qb, &f.q, &["code", "name"]);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {PRODUCT_COLUMNS}"));
        qb.push(" ORDER BY lower(name), id");
        push_page(&mut qb, f.page);
        let rows: Vec<ProductRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
    }

    #[tracing::instrument(skip_all)]
    async fn licence(&self, vis: Visibility, id: LicenceId) -> Result<Option<LicenceDetails>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(LICENCE_SELECT);
        qb.push(LICENCE_FROM).push(" WHERE l.id = ").push_bind(id.as_uuid());
        push_visibility(&mut qb, vis, "l.owner_organisation_id", UNASSIGNED_CREATED_BY_MANAGER);
        let row: Option<LicenceDetailsRow> = qb.build_query_as().fetch_optional(self.reader()).await.map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn licences(&self, vis: Visibility, f: &LicenceFilter) -> Result<Page<LicenceDetails>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(LICENCE_FROM);
            push_licence_filter(&mut qb, vis, f);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(LICENCE_SELECT);
        let direction = if f.sort.descending { "DESC" } else { "ASC" };
        let order = match f.sort.key {
            LicenceSortKey::CreatedAt => format!("l.created_at {direction}"),
            LicenceSortKey::Name => format!("lower(l.name) {direction}"),
            // Licences without an end (perpetual, unassigned) sort last either way.
            LicenceSortKey::EndsAt => format!("(CASE WHEN l.ends_at IS NULL THEN 1 ELSE 0 END), l.ends_at {direction}"),
            LicenceSortKey::Quantity => format!("l.quantity {direction}"),
        };
        qb.push(format!(" ORDER BY {order}, l.id {direction}"));
        push_page(&mut qb, f.page);
        let rows: Vec<LicenceDetailsRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
    }

    #[tracing::instrument(skip_all)]
    async fn licence_by_coupon(&self, code: &str) -> Result<Option<Licence>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(LICENCE_SELECT);
        qb.push(LICENCE_FROM).push(" WHERE l.coupon_code = ").push_bind(code.to_owned());
        let row: Option<LicenceDetailsRow> = qb.build_query_as().fetch_optional(self.reader()).await.map_err(backend)?;
        row.map(|row| row.licence.try_into()).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn audit(&self, vis: Visibility, f: &AuditFilter) -> Result<Page<AuditEntry>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM audit_log a WHERE 1 = 1");
            push_visibility(&mut qb, vis, "a.organisation_id", Some(("a.actor_id = ", "")));
            if let Some(org) = f.organisation {
                qb.push(" AND a.organisation_id = ").push_bind(org.as_uuid());
            }
            if let Some(product) = f.product {
                qb.push(" AND a.product_id = ").push_bind(product.as_uuid());
            }
            if let Some(licence) = f.licence {
                qb.push(" AND a.object_id = ").push_bind(licence.as_uuid());
            }
            if let Some(actor) = f.actor {
                qb.push(" AND a.actor_id = ").push_bind(actor);
            }
            if let Some(from) = f.from {
                qb.push(" AND a.at >= ").push_bind(from);
            }
            if let Some(to) = f.to {
                qb.push(" AND a.at < ").push_bind(to);
            }
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {AUDIT_COLUMNS}"));
        qb.push(" ORDER BY a.at DESC, a.id DESC");
        push_page(&mut qb, f.page);
        let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total })
    }

    #[tracing::instrument(skip_all)]
    async fn seal_audit(&self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        let chains: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT chain_id FROM audit_log WHERE seq IS NULL")
            .fetch_all(self.reader())
            .await
            .map_err(backend)?;
        let mut sealed = 0;
        for chain_id in chains {
            sealed += seal_chain(self, chain_id, now, limit).await?;
        }
        Ok(sealed)
    }

    async fn audit_chains(&self, vis: Visibility) -> Result<Vec<leasehold_core::audit::ChainState>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT c.chain_id, c.seq, c.hash, \
             (SELECT COUNT(*) FROM audit_log p WHERE p.chain_id = c.chain_id AND p.seq IS NULL) AS pending \
             FROM audit_chains c WHERE 1 = 1",
        );
        push_visibility(&mut qb, vis, "c.chain_id", None);
        qb.push(" ORDER BY c.chain_id");
        let heads: Vec<(Uuid, i64, String, i64)> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        // Entries of a chain whose head row is gone.
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT a.chain_id, COUNT(*) - COUNT(a.seq) AS pending FROM audit_log a \
             WHERE NOT EXISTS (SELECT 1 FROM audit_chains c WHERE c.chain_id = a.chain_id)",
        );
        push_visibility(&mut qb, vis, "a.chain_id", None);
        qb.push(" GROUP BY a.chain_id ORDER BY a.chain_id");
        let headless: Vec<(Uuid, i64)> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        let heads = heads.into_iter().map(|(chain_id, seq, hash, pending)| leasehold_core::audit::ChainState {
            chain_id,
            head: Some(leasehold_core::audit::ChainHead { seq, hash }),
            pending,
        });
        let headless = headless
            .into_iter()
            .map(|(chain_id, pending)| leasehold_core::audit::ChainState { chain_id, head: None, pending });
        Ok(heads.chain(headless).collect())
    }

    async fn sealed_audit(
        &self,
        chain_id: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<leasehold_core::audit::SealedEntry>, StoreError> {
        let rows: Vec<SealedAuditRow> = sqlx::query_as(&format!(
            "SELECT {AUDIT_COLUMNS}, a.chain_id, a.seq, a.prev_hash, a.hash FROM audit_log a \
             WHERE a.chain_id = $1 AND a.seq > $2 ORDER BY a.seq LIMIT $3"
        ))
        .bind(chain_id)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn register_device(
        &self,
        ctx: &WriteContext,
        registration: &leasehold_core::seat::DeviceRegistration,
        idempotency: Option<IdempotencyClaim>,
    ) -> Result<leasehold_core::seat::Registration, StoreError> {
        let (ctx, registration) = (ctx.clone(), registration.clone());
        self.write(move |conn| {
            let (ctx, registration, idempotency) = (ctx.clone(), registration.clone(), idempotency.clone());
            Box::pin(async move { register(conn, &ctx, &registration, idempotency.as_ref()).await })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn release_device_seats(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        device: DeviceId,
        product: Option<ProductId>,
        reason: leasehold_core::values::ReleaseReason,
    ) -> Result<u64, StoreError> {
        let ctx = ctx.clone();
        self.write(move |conn| {
            let ctx = ctx.clone();
            Box::pin(async move {
                visible_device(conn, vis, device.as_uuid()).await?;
                release(conn, &ctx, device.as_uuid(), product.map(|p| p.as_uuid()), reason).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn block_device(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        device: DeviceId,
    ) -> Result<leasehold_core::seat::Device, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let found = visible_device(&mut tx, vis, device.as_uuid()).await?;
        if found.blocked_at.is_none() {
            block(&mut tx, ctx, &found).await?;
        }
        let blocked = visible_device(&mut tx, vis, device.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(blocked)
    }

    #[tracing::instrument(skip_all)]
    async fn unblock_device(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        device: DeviceId,
    ) -> Result<leasehold_core::seat::Device, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let found = visible_device(&mut tx, vis, device.as_uuid()).await?;
        if found.blocked_at.is_some() {
            unblock(&mut tx, ctx, &found).await?;
        }
        let unblocked = visible_device(&mut tx, vis, device.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(unblocked)
    }

    #[tracing::instrument(skip_all)]
    async fn decide_request(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        request: SeatRequestId,
        decision: leasehold_core::seat::Decision,
    ) -> Result<RequestDetails, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        decide(&mut tx, ctx, vis, request.as_uuid(), decision).await?;
        let details = request_details(&mut tx, vis, request.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(details)
    }

    #[tracing::instrument(skip_all)]
    async fn reallocate_seat(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        request: SeatRequestId,
        from: DeviceId,
    ) -> Result<RequestDetails, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        reallocate(&mut tx, ctx, vis, request.as_uuid(), from.as_uuid()).await?;
        let details = request_details(&mut tx, vis, request.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(details)
    }

    #[tracing::instrument(skip_all)]
    async fn set_queue_policy(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        policy: leasehold_core::values::QueuePolicy,
    ) -> Result<leasehold_core::seat::Pool, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let before = visible_pool(&mut tx, vis, pool).await?;
        let id = before.id.as_uuid();
        if before.queue_policy != policy {
            sqlx::query("UPDATE pools SET queue_policy = $2 WHERE id = $1")
                .bind(id)
                .bind(policy.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let after = load_pool(&mut tx, id).await?;
            let (was, now) = (serde_json::json!({"queue_policy": before.queue_policy}), serde_json::json!({"queue_policy": policy}));
            record_audit(&mut tx, ctx, &after, "pool.updated", "pool", id, Some(was), Some(now)).await?;
            grant_waiting(&mut tx, ctx, id).await?;
        }
        let pool = load_pool(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(pool)
    }

    async fn pool(&self, vis: Visibility, id: PoolId) -> Result<Option<PoolDetails>, StoreError> {
        let filter = PoolFilter::default();
        Ok(pools_query(self.reader(), vis, &filter, Some(id)).await?.items.into_iter().next())
    }

    async fn pools(&self, vis: Visibility, filter: &PoolFilter) -> Result<Page<PoolDetails>, StoreError> {
        pools_query(self.reader(), vis, filter, None).await
    }

    async fn device(&self, vis: Visibility, id: DeviceId) -> Result<Option<DeviceDetails>, StoreError> {
        let filter = DeviceFilter::default();
        Ok(devices_query(self.reader(), vis, &filter, Some(id)).await?.items.into_iter().next())
    }

    async fn devices(&self, vis: Visibility, filter: &DeviceFilter) -> Result<Page<DeviceDetails>, StoreError> {
        devices_query(self.reader(), vis, filter, None).await
    }

    async fn seat_requests(
        &self,
        vis: Visibility,
        pool: Option<PoolId>,
        page: PageRequest,
    ) -> Result<Page<RequestDetails>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" WHERE r.state = 'waiting'");
            push_visibility(&mut qb, vis, "p.organisation_id", None);
            if let Some(pool) = pool {
                qb.push(" AND r.pool_id = ").push_bind(pool.as_uuid());
            }
            qb
        };
        let mut count_qb = build(
            "SELECT COUNT(*) FROM seat_requests r JOIN pools p ON p.id = r.pool_id",
        );
        let total: i64 = count_qb.build_query_scalar().fetch_one(self.reader()).await.map_err(backend)?;
        let mut qb = build(REQUEST_DETAILS);
        qb.push(" ORDER BY r.requested_at, r.id");
        push_page(&mut qb, page);
        let rows: Vec<RequestDetailsRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page { items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?, total: u64::try_from(total).unwrap_or_default() })
    }

    async fn seat(&self, id: SeatId) -> Result<Option<(leasehold_core::seat::Seat, leasehold_core::seat::Device)>, StoreError> {
        // One read: every online validation of a device's token asks this.
        let row: Option<SeatHolderRow> = sqlx::query_as(&format!(
            "SELECT {DEVICE_COLUMNS}, s.id AS seat_id, s.pool_id, s.licence_id, s.granted_at \
             FROM seats s JOIN devices d ON d.id = s.device_id WHERE s.id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_optional(self.reader())
        .await
        .map_err(backend)?;
        Ok(row.map(Into::into))
    }

    async fn seats_held_by_licence(&self, id: LicenceId) -> Result<u64, StoreError> {
        // Device seats and concurrent leases both hold a licence's seats.
        let held: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM seats WHERE licence_id = $1) \
             + (SELECT COUNT(*) FROM leases WHERE licence_id = $1)",
        )
        .bind(id.as_uuid())
            .fetch_one(self.reader())
            .await
            .map_err(backend)?;
        Ok(u64::try_from(held).unwrap_or_default())
    }

    #[tracing::instrument(skip_all)]
    async fn device_heartbeat(
        &self,
        organisation: OrganisationId,
        device: DeviceId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<Option<(leasehold_core::seat::Device, leasehold_core::seat::Seat)>, StoreError> {
        let found: Option<DeviceRow> = sqlx::query_as(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = $1 AND d.organisation_id = $2"
        ))
        .bind(device.as_uuid())
        .bind(organisation.as_uuid())
        .fetch_optional(self.reader())
        .await
        .map_err(backend)?;
        let Some(found) = found else { return Ok(None) };
        let seat: Option<SeatRow> = sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS} FROM seats s JOIN pools p ON p.id = s.pool_id WHERE s.device_id = $1 AND p.product_id = $2"
        ))
        .bind(device.as_uuid())
        .bind(product.as_uuid())
        .fetch_optional(self.reader())
        .await
        .map_err(backend)?;
        let Some(seat) = seat else { return Ok(None) };
        if now - found.last_seen_at > chrono::Duration::seconds(60) {
            let mut tx = self.begin().await.map_err(backend)?;
            sqlx::query("UPDATE devices SET last_seen_at = $2 WHERE id = $1")
                .bind(device.as_uuid())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
        }
        Ok(Some((leasehold_core::seat::Device { last_seen_at: now, ..found.into() }, seat.into())))
    }

    async fn usage_events(&self, pool: PoolId) -> Result<Vec<UsageEvent>, StoreError> {
        let rows: Vec<UsageRow> = sqlx::query_as(
            "SELECT pool_id, at, kind, held, capacity, subject_id, reason FROM usage_events WHERE pool_id = $1 ORDER BY at, id",
        )
        .bind(pool.as_uuid())
        .fetch_all(self.reader())
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn checkout(
        &self,
        ctx: &WriteContext,
        checkout: &leasehold_core::seat::Checkout,
    ) -> Result<leasehold_core::seat::CheckoutOutcome, StoreError> {
        let (ctx, checkout) = (ctx.clone(), checkout.clone());
        self.write(move |conn| {
            let (ctx, checkout) = (ctx.clone(), checkout.clone());
            Box::pin(async move { checkout_lease(conn, &ctx, &checkout).await })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn renew_lease(
        &self,
        ctx: &WriteContext,
        organisation: OrganisationId,
        lease: leasehold_core::ids::LeaseId,
        user: Option<UserId>,
        activity: bool,
    ) -> Result<Option<(leasehold_core::seat::Lease, leasehold_core::seat::Pool)>, StoreError> {
        // The lease's pool, read before the write: whether the caller's
        // organisation holds the lease, and the settings a renewal follows (a
        // change of them racing a heartbeat applies from the next one). The
        // write itself is one conditional update.
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {POOL_COLUMNS} FROM leases e JOIN pools p ON p.id = e.pool_id WHERE e.id = "
        ));
        qb.push_bind(lease.as_uuid());
        push_visibility(&mut qb, Visibility::Organisation(organisation), "p.organisation_id", None);
        let row: Option<PoolRow> = qb.build_query_as().fetch_optional(self.reader()).await.map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let pool: leasehold_core::seat::Pool = row.try_into()?;
        let (now, settings, user) = (ctx.now, pool.lease, user.map(|user| user.as_uuid()));
        let renewed = self
            .write(move |conn| Box::pin(async move { renew(conn, lease.as_uuid(), user, &settings, now, activity).await }))
            .await?;
        Ok(renewed.map(|lease| (lease, pool)))
    }

    #[tracing::instrument(skip_all)]
    async fn end_lease(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        lease: leasehold_core::ids::LeaseId,
        reason: leasehold_core::values::ReleaseReason,
    ) -> Result<(), StoreError> {
        let ctx = ctx.clone();
        self.write(move |conn| {
            let ctx = ctx.clone();
            Box::pin(async move { end(conn, &ctx, vis, lease.as_uuid(), reason).await })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn reap_leases(&self, ctx: &WriteContext, limit: u32) -> Result<u64, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let reclaimed = reap(&mut tx, ctx, limit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(reclaimed)
    }

    #[tracing::instrument(skip_all)]
    async fn expire_licences(&self, ctx: &WriteContext, limit: u32) -> Result<LicenceSweep, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let sweep = expire(&mut tx, ctx, limit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(sweep)
    }

    async fn lease(&self, vis: Visibility, id: leasehold_core::ids::LeaseId) -> Result<Option<LeaseDetails>, StoreError> {
        Ok(leases_query(self.reader(), vis, &LeaseFilter::default(), Some(id)).await?.items.into_iter().next())
    }

    async fn leases(&self, vis: Visibility, filter: &LeaseFilter) -> Result<Page<LeaseDetails>, StoreError> {
        leases_query(self.reader(), vis, filter, None).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_lease_settings(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        settings: leasehold_core::seat::LeaseSettings,
    ) -> Result<leasehold_core::seat::Pool, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let before = visible_pool(&mut tx, vis, pool).await?;
        let id = before.id.as_uuid();
        if before.lease != settings {
            sqlx::query(
                "UPDATE pools SET lease_seconds = $2, grace_seconds = $3, idle_seconds = $4, linger_seconds = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(settings.lease_seconds)
            .bind(settings.grace_seconds)
            .bind(settings.idle_seconds)
            .bind(settings.linger_seconds)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            let after = load_pool(&mut tx, id).await?;
            let (was, now) = (serde_json::json!(before.lease), serde_json::json!(settings));
            record_audit(&mut tx, ctx, &after, "pool.updated", "pool", id, Some(was), Some(now)).await?;
        }
        let updated = load_pool(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn set_pool_watch(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        watch: leasehold_core::watch::PoolWatch,
    ) -> Result<leasehold_core::seat::Pool, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let before = visible_pool(&mut tx, vis, pool).await?;
        save_watch(&mut tx, ctx, &before, &watch).await?;
        let updated = load_pool(&mut tx, before.id.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn settle_topup(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        approve: bool,
    ) -> Result<leasehold_core::seat::Pool, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        settle_topup(&mut tx, ctx, vis, pool, approve, acting_user(ctx)).await?;
        let updated = load_pool(&mut tx, pool.as_uuid()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn buy_seats(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        quantity: i64,
        plan: leasehold_core::values::Plan,
    ) -> Result<Licence, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let found = visible_pool(&mut tx, vis, pool).await?;
        let licence = add_seats(
            &mut tx,
            ctx,
            &found,
            quantity,
            plan,
            leasehold_core::values::LicenceSource::Purchase,
            acting_user(ctx),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(licence)
    }

    async fn notifications(&self, vis: Visibility, f: &NotificationFilter) -> Result<(Page<Notification>, u64), StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM notifications n WHERE 1 = 1");
            push_visibility(&mut qb, vis, "n.organisation_id", None);
            if let Some(org) = f.organisation {
                qb.push(" AND n.organisation_id = ").push_bind(org.as_uuid());
            }
            if f.unread {
                qb.push(" AND n.read_at IS NULL");
            }
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let unread = if f.unread {
            total
        } else {
            let mut qb = build("SELECT COUNT(*)");
            qb.push(" AND n.read_at IS NULL");
            count(qb, self.reader()).await?
        };
        let mut qb = build("SELECT n.id, n.organisation_id, n.pool_id, n.kind, n.message, n.data, n.created_at, n.read_at");
        qb.push(" ORDER BY n.created_at DESC, n.id DESC");
        push_page(&mut qb, f.page);
        let rows: Vec<NotificationRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        let page = Page {
            items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            total,
        };
        Ok((page, unread))
    }

    async fn mark_notifications_read(
        &self,
        vis: Visibility,
        id: Option<NotificationId>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let mut qb = QueryBuilder::<Db>::new("UPDATE notifications SET read_at = ");
        qb.push_bind(now);
        qb.push(" WHERE read_at IS NULL");
        push_visibility(&mut qb, vis, "organisation_id", None);
        if let Some(id) = id {
            qb.push(" AND id = ").push_bind(id.as_uuid());
        }
        let marked = qb.build().execute(&mut *tx).await.map_err(backend)?.rows_affected();
        if let (Some(id), 0) = (id, marked) {
            let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM notifications WHERE id = ");
            qb.push_bind(id.as_uuid());
            push_visibility(&mut qb, vis, "organisation_id", None);
            let found: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.map_err(backend)?;
            if found == 0 {
                return Err(StoreError::Domain(DomainError::NotFound("notification")));
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(marked)
    }

    async fn recipients(
        &self,
        vis: Visibility,
        organisation: OrganisationId,
    ) -> Result<Vec<leasehold_core::notify::Recipient>, StoreError> {
        let mut conn = self.reader().acquire().await.map_err(backend)?;
        visible_organisation(&mut conn, vis, organisation).await?;
        load_recipients(&mut conn, organisation).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_recipients(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        organisation: OrganisationId,
        recipients: &[leasehold_core::notify::Recipient],
    ) -> Result<Vec<leasehold_core::notify::Recipient>, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let saved = replace_recipients(&mut tx, ctx, vis, organisation, recipients).await?;
        tx.commit().await.map_err(backend)?;
        Ok(saved)
    }

    #[tracing::instrument(skip_all)]
    async fn create_webhook(&self, ctx: &WriteContext, vis: Visibility, webhook: &NewWebhook) -> Result<Webhook, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let created = insert_webhook(&mut tx, ctx, vis, webhook).await?;
        tx.commit().await.map_err(backend)?;
        Ok(created)
    }

    async fn webhook(&self, vis: Visibility, id: WebhookId) -> Result<Option<Webhook>, StoreError> {
        let mut conn = self.reader().acquire().await.map_err(backend)?;
        match load_webhook(&mut conn, vis, id).await {
            Ok(webhook) => Ok(Some(webhook)),
            Err(StoreError::Domain(DomainError::NotFound(_))) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn webhooks(&self, vis: Visibility, f: &ListFilter) -> Result<Page<Webhook>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM webhooks w WHERE 1 = 1");
            push_visibility(&mut qb, vis, "w.organisation_id", None);
            if let Some(org) = f.organisation {
                qb.push(" AND w.organisation_id = ").push_bind(org.as_uuid());
            }
            push_keyword(&mut qb, &f.q, &["w.url", "w.description"]);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {WEBHOOK_COLUMNS}"));
        qb.push(" ORDER BY w.created_at, w.id");
        push_page(&mut qb, f.page);
        let rows: Vec<WebhookRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page {
            items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            total,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        id: WebhookId,
        change: &WebhookChange,
    ) -> Result<Webhook, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let updated = change_webhook(&mut tx, ctx, vis, id, change).await?;
        tx.commit().await.map_err(backend)?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_webhook(&self, ctx: &WriteContext, vis: Visibility, id: WebhookId) -> Result<(), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        remove_webhook(&mut tx, ctx, vis, id).await?;
        tx.commit().await.map_err(backend)
    }

    async fn deliveries(&self, vis: Visibility, f: &DeliveryFilter) -> Result<Page<Delivery>, StoreError> {
        let build = |select: &str| {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" FROM deliveries d");
            push_delivery_filter(&mut qb, vis, f);
            qb
        };
        let total = count(build("SELECT COUNT(*)"), self.reader()).await?;
        let mut qb = build(&format!("SELECT {DELIVERY_COLUMNS}"));
        qb.push(" ORDER BY d.created_at DESC, d.id DESC");
        push_page(&mut qb, f.page);
        let rows: Vec<DeliveryRow> = qb.build_query_as().fetch_all(self.reader()).await.map_err(backend)?;
        Ok(Page {
            items: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            total,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn replay_delivery(&self, ctx: &WriteContext, vis: Visibility, id: DeliveryId) -> Result<Delivery, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let replayed = replay(&mut tx, ctx, vis, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(replayed)
    }

    #[tracing::instrument(skip_all)]
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
        email: bool,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let (claim, due) = claim_due(&mut tx, now, limit, lease_seconds, email).await?;
        tx.commit().await.map_err(backend)?;
        let mut conn = self.reader().acquire().await.map_err(backend)?;
        delivery_contents(&mut conn, claim, due).await
    }

    #[tracing::instrument(skip_all)]
    async fn finish_delivery(
        &self,
        ctx: &WriteContext,
        id: DeliveryId,
        claim: Uuid,
        result: &DeliveryResult,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let owned = finish(&mut tx, ctx, id, claim, result).await?;
        tx.commit().await.map_err(backend)?;
        Ok(owned)
    }

    async fn roll_up_usage(&self, until: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        roll_up_usage(self, until, limit).await
    }

    async fn usage_days(
        &self,
        pool: PoolId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<leasehold_core::report::BucketReport>, StoreError> {
        usage_days(self, pool.as_uuid(), from, to).await
    }

    async fn pool_additions(&self, pool: PoolId, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Addition>, StoreError> {
        pool_additions(self, pool.as_uuid(), from, to).await
    }

    async fn additions(&self, vis: Visibility, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<AdditionLine>, StoreError> {
        additions(self, vis, from, to).await
    }

    async fn send_invoices(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        licences: &[LicenceId],
        claim: Option<&IdempotencyClaim>,
    ) -> Result<leasehold_core::wire::InvoiceBatch, StoreError> {
        send_invoices(self, ctx, vis, licences, claim).await
    }

    async fn invoice(&self, vis: Visibility, id: InvoiceId) -> Result<Option<leasehold_core::wire::InvoiceView>, StoreError> {
        let mut conn = self.reader().acquire().await.map_err(backend)?;
        load_invoice(&mut conn, vis, id.as_uuid()).await
    }

    async fn invoices(&self, vis: Visibility, filter: &InvoiceFilter) -> Result<Page<leasehold_core::wire::InvoiceView>, StoreError> {
        invoices(self, vis, filter).await
    }

    async fn mark_invoice_paid(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        id: InvoiceId,
    ) -> Result<leasehold_core::wire::InvoiceView, StoreError> {
        mark_invoice_paid(self, ctx, vis, id).await
    }

    async fn signing_keys(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        sqlx::query_as("SELECT kid, pkcs8 FROM signing_keys ORDER BY created_at DESC, kid DESC")
            .fetch_all(self.reader())
            .await
            .map_err(backend)
    }

    async fn ensure_signing_key(
        &self,
        kid: &str,
        pkcs8: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        if let Some(lock) = LOCK_SIGNING_KEYS {
            sqlx::query(lock).execute(&mut *tx).await.map_err(backend)?;
        }
        let newest: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT kid, pkcs8 FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let key = match newest {
            Some(key) => key,
            None => {
                sqlx::query("INSERT INTO signing_keys (kid, pkcs8, created_at) VALUES ($1, $2, $3)")
                    .bind(kid)
                    .bind(pkcs8)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                (kid.to_owned(), pkcs8.to_vec())
            }
        };
        tx.commit().await.map_err(backend)?;
        Ok(key)
    }
}
