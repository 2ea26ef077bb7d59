//! Database rows, shared by both engines (`FromRow` is generic over the row type),
//! and their conversion into domain types. A stored value the domain rejects is
//! a backend error: the database was written by something other than Leasehold.

use crate::backend;
use chrono::{DateTime, Utc};
use leasehold_core::access::{Actor, ActorKind};
use leasehold_core::licence::{Licence, Organisation, Prices, Product};
use leasehold_core::ports::{ApiKey, AuditEntry, LicenceDetails, StoreError, User};
use leasehold_core::values::*;
use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

pub(crate) fn parse<T>(column: &str, text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| backend(format!("unexpected {column} '{text}' in the database")))
}

#[derive(Debug, FromRow)]
pub(crate) struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub account_manager_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<OrganisationRow> for Organisation {
    fn from(row: OrganisationRow) -> Self {
        Organisation {
            id: row.id.into(),
            name: row.name,
            account_manager_id: row.account_manager_id.map(Into::into),
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: row.id.into(),
            email: row.email,
            name: row.name,
            role: parse("role", &row.role, Role::parse)?,
            organisation_id: row.organisation_id.map(Into::into),
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    pub organisation_id: Option<Uuid>,
    pub scopes: Json<Vec<String>>,
    pub prefix: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        let scopes = row
            .scopes
            .0
            .iter()
            .map(|s| parse("scope", s, ApiScope::parse))
            .collect::<Result<_, _>>()?;
        Ok(ApiKey {
            id: row.id.into(),
            name: row.name,
            organisation_id: row.organisation_id.map(Into::into),
            scopes,
            prefix: row.prefix,
            created_by: row.created_by.map(Into::into),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct ProductRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub seat_kind: String,
    pub currency: String,
    pub prices: Json<Prices>,
    pub default_lease_seconds: i64,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(row: ProductRow) -> Result<Self, StoreError> {
        Ok(Product {
            id: row.id.into(),
            code: row.code,
            name: row.name,
            seat_kind: parse("seat_kind", &row.seat_kind, SeatKind::parse)?,
            currency: row.currency,
            prices: row.prices.0,
            default_lease_seconds: row.default_lease_seconds,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct LicenceRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub plan: String,
    pub name: String,
    pub note: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub currency: String,
    pub owner_organisation_id: Option<Uuid>,
    pub owner_user_id: Option<Uuid>,
    pub coupon_code: String,
    pub status: String,
    pub billing_status: String,
    pub source: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub version: i64,
}

impl TryFrom<LicenceRow> for Licence {
    type Error = StoreError;
    fn try_from(row: LicenceRow) -> Result<Self, StoreError> {
        Ok(Licence {
            id: row.id.into(),
            product_id: row.product_id.into(),
            plan: parse("plan", &row.plan, Plan::parse)?,
            name: row.name,
            note: row.note,
            quantity: u32::try_from(row.quantity).map_err(backend)?,
            unit_price: row.unit_price,
            currency: row.currency,
            owner_organisation_id: row.owner_organisation_id.map(Into::into),
            owner_user_id: row.owner_user_id.map(Into::into),
            coupon_code: CouponCode::parse(&row.coupon_code).map_err(backend)?,
            status: parse("status", &row.status, LicenceStatus::parse)?,
            billing_status: parse("billing_status", &row.billing_status, BillingStatus::parse)?,
            source: parse("source", &row.source, LicenceSource::parse)?,
            created_by: row.created_by.map(Into::into),
            created_at: row.created_at,
            activated_at: row.activated_at,
            ends_at: row.ends_at,
            redeemed_at: row.redeemed_at,
            auto_renew: row.auto_renew,
            version: row.version,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct LicenceDetailsRow {
    #[sqlx(flatten)]
    pub licence: LicenceRow,
    pub product_name: String,
    pub owner_organisation_name: Option<String>,
    pub owner_user_email: Option<String>,
}

impl TryFrom<LicenceDetailsRow> for LicenceDetails {
    type Error = StoreError;
    fn try_from(row: LicenceDetailsRow) -> Result<Self, StoreError> {
        Ok(LicenceDetails {
            licence: row.licence.try_into()?,
            product_name: row.product_name,
            owner_organisation_name: row.owner_organisation_name,
            owner_user_email: row.owner_user_email,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct AuditRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub organisation_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub object_kind: String,
    pub object_id: Uuid,
    pub before: Option<Json<serde_json::Value>>,
    pub after: Option<Json<serde_json::Value>>,
    pub request_id: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: row.id.into(),
            at: row.at,
            organisation_id: row.organisation_id.map(Into::into),
            product_id: row.product_id.map(Into::into),
            actor: Actor {
                kind: parse("actor_kind", &row.actor_kind, ActorKind::parse)?,
                id: row.actor_id,
            },
            action: row.action,
            object_kind: row.object_kind,
            object_id: row.object_id,
            before: row.before.map(|j| j.0),
            after: row.after.map(|j| j.0),
            request_id: row.request_id,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct SealedAuditRow {
    #[sqlx(flatten)]
    pub entry: AuditRow,
    pub chain_id: Uuid,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl TryFrom<SealedAuditRow> for leasehold_core::audit::SealedEntry {
    type Error = StoreError;
    fn try_from(row: SealedAuditRow) -> Result<Self, StoreError> {
        Ok(leasehold_core::audit::SealedEntry {
            entry: row.entry.try_into()?,
            chain_id: row.chain_id,
            seq: row.seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct RefreshRow {
    pub session_id: Uuid,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub user_id: Uuid,
}

#[derive(Debug, FromRow)]
pub(crate) struct PoolRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub product_id: Uuid,
    pub capacity: i64,
    pub held: i64,
    pub queue_policy: String,
    pub lease_seconds: i64,
    pub grace_seconds: i64,
    pub idle_seconds: Option<i64>,
    pub linger_seconds: i64,
    pub alert_below_seats: Option<i64>,
    pub alert_below_percent: Option<i64>,
    pub alert_armed: bool,
    pub topup_enabled: bool,
    pub topup_below: i64,
    pub topup_add: i64,
    pub topup_max_per_month: i64,
    pub topup_ask_first: bool,
    pub topup_plan: String,
    pub topup_armed: bool,
    pub topup_month: i32,
    pub topup_count: i64,
    pub topup_pending_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<PoolRow> for leasehold_core::seat::Pool {
    type Error = StoreError;
    fn try_from(row: PoolRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            organisation_id: row.organisation_id.into(),
            product_id: row.product_id.into(),
            capacity: row.capacity,
            held: row.held,
            queue_policy: parse("queue_policy", &row.queue_policy, QueuePolicy::parse)?,
            lease: leasehold_core::seat::LeaseSettings {
                lease_seconds: row.lease_seconds,
                grace_seconds: row.grace_seconds,
                idle_seconds: row.idle_seconds,
                linger_seconds: row.linger_seconds,
            },
            watch: leasehold_core::watch::PoolWatch {
                alert: match (row.alert_below_seats, row.alert_below_percent) {
                    (Some(k), _) => Some(leasehold_core::watch::Threshold::Seats(k)),
                    (None, Some(p)) => Some(leasehold_core::watch::Threshold::Percent(p)),
                    (None, None) => None,
                },
                alert_armed: row.alert_armed,
                topup: if row.topup_enabled {
                    Some(leasehold_core::watch::TopUpRule {
                        below: row.topup_below,
                        add: row.topup_add,
                        max_per_month: row.topup_max_per_month,
                        ask_first: row.topup_ask_first,
                        plan: parse("topup_plan", &row.topup_plan, leasehold_core::values::Plan::parse)?,
                    })
                } else {
                    None
                },
                topup_armed: row.topup_armed,
                topup_month: row.topup_month,
                topups_in_month: row.topup_count,
                topup_pending_since: row.topup_pending_since,
            },
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct PoolDetailsRow {
    #[sqlx(flatten)]
    pub pool: PoolRow,
    pub organisation_name: String,
    pub product_name: String,
    pub seat_kind: String,
    pub waiting: i64,
}

impl TryFrom<PoolDetailsRow> for leasehold_core::ports::PoolDetails {
    type Error = StoreError;
    fn try_from(row: PoolDetailsRow) -> Result<Self, StoreError> {
        Ok(Self {
            pool: row.pool.try_into()?,
            organisation_name: row.organisation_name,
            product_name: row.product_name,
            seat_kind: parse("seat_kind", &row.seat_kind, SeatKind::parse)?,
            waiting: u64::try_from(row.waiting).unwrap_or_default(),
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct DeviceRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub fingerprint: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub blocked_at: Option<DateTime<Utc>>,
}

impl From<DeviceRow> for leasehold_core::seat::Device {
    fn from(row: DeviceRow) -> Self {
        Self {
            id: row.id.into(),
            organisation_id: row.organisation_id.into(),
            fingerprint: row.fingerprint,
            name: row.name,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            blocked_at: row.blocked_at,
        }
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct SeatRow {
    pub id: Uuid,
    pub pool_id: Uuid,
    pub licence_id: Uuid,
    pub device_id: Uuid,
    pub granted_at: DateTime<Utc>,
}

impl From<SeatRow> for leasehold_core::seat::Seat {
    fn from(row: SeatRow) -> Self {
        Self {
            id: row.id.into(),
            pool_id: row.pool_id.into(),
            licence_id: row.licence_id.into(),
            device_id: row.device_id.into(),
            granted_at: row.granted_at,
        }
    }
}

/// A device and the seat it holds, in one row (the seat's columns renamed
/// where they would clash with the device's).
#[derive(Debug, FromRow)]
pub(crate) struct SeatHolderRow {
    #[sqlx(flatten)]
    pub device: DeviceRow,
    pub seat_id: Uuid,
    pub pool_id: Uuid,
    pub licence_id: Uuid,
    pub granted_at: DateTime<Utc>,
}

impl From<SeatHolderRow> for (leasehold_core::seat::Seat, leasehold_core::seat::Device) {
    fn from(row: SeatHolderRow) -> Self {
        let seat = SeatRow {
            id: row.seat_id,
            pool_id: row.pool_id,
            licence_id: row.licence_id,
            device_id: row.device.id,
            granted_at: row.granted_at,
        };
        (seat.into(), row.device.into())
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct DeviceSeatRow {
    #[sqlx(flatten)]
    pub seat: SeatRow,
    pub product_id: Uuid,
    pub product_name: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct RequestRow {
    pub id: Uuid,
    pub pool_id: Uuid,
    pub device_id: Uuid,
    pub state: String,
    pub requested_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub seat_id: Option<Uuid>,
}

impl TryFrom<RequestRow> for leasehold_core::seat::SeatRequest {
    type Error = StoreError;
    fn try_from(row: RequestRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            pool_id: row.pool_id.into(),
            device_id: row.device_id.into(),
            state: parse("state", &row.state, RequestState::parse)?,
            requested_at: row.requested_at,
            resolved_at: row.resolved_at,
            seat_id: row.seat_id.map(Into::into),
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct RequestDetailsRow {
    #[sqlx(flatten)]
    pub request: RequestRow,
    pub position: i64,
    pub organisation_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub device_name: String,
    pub fingerprint: String,
}

impl TryFrom<RequestDetailsRow> for leasehold_core::ports::RequestDetails {
    type Error = StoreError;
    fn try_from(row: RequestDetailsRow) -> Result<Self, StoreError> {
        Ok(Self {
            request: row.request.try_into()?,
            position: u64::try_from(row.position).unwrap_or_default(),
            organisation_id: row.organisation_id.into(),
            product_id: row.product_id.into(),
            product_name: row.product_name,
            device_name: row.device_name,
            fingerprint: row.fingerprint,
        })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct UsageRow {
    pub pool_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub held: i64,
    pub capacity: i64,
    pub subject_id: Option<Uuid>,
    pub reason: Option<String>,
}

impl From<UsageRow> for leasehold_core::ports::UsageEvent {
    fn from(row: UsageRow) -> Self {
        Self {
            pool_id: row.pool_id.into(),
            at: row.at,
            kind: row.kind,
            held: row.held,
            capacity: row.capacity,
            subject_id: row.subject_id,
            reason: row.reason,
        }
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct LeaseRow {
    pub id: Uuid,
    pub pool_id: Uuid,
    pub licence_id: Uuid,
    pub user_id: Uuid,
    pub client_id: String,
    pub granted_at: DateTime<Utc>,
    pub last_heartbeat_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_expires_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub linger_until: Option<DateTime<Utc>>,
}

impl From<LeaseRow> for leasehold_core::seat::Lease {
    fn from(row: LeaseRow) -> Self {
        Self {
            id: row.id.into(),
            pool_id: row.pool_id.into(),
            licence_id: row.licence_id.into(),
            user_id: row.user_id.into(),
            client_id: row.client_id,
            granted_at: row.granted_at,
            last_heartbeat_at: row.last_heartbeat_at,
            last_activity_at: row.last_activity_at,
            expires_at: row.expires_at,
            idle_expires_at: row.idle_expires_at,
            released_at: row.released_at,
            linger_until: row.linger_until,
        }
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct LeaseDetailsRow {
    #[sqlx(flatten)]
    pub lease: LeaseRow,
    pub organisation_id: Uuid,
    pub product_id: Uuid,
    pub lease_seconds: i64,
    pub grace_seconds: i64,
    pub idle_seconds: Option<i64>,
    pub linger_seconds: i64,
    pub product_name: String,
    pub user_email: String,
    pub user_name: String,
}

impl From<LeaseDetailsRow> for leasehold_core::ports::LeaseDetails {
    fn from(row: LeaseDetailsRow) -> Self {
        Self {
            lease: row.lease.into(),
            settings: leasehold_core::seat::LeaseSettings {
                lease_seconds: row.lease_seconds,
                grace_seconds: row.grace_seconds,
                idle_seconds: row.idle_seconds,
                linger_seconds: row.linger_seconds,
            },
            organisation_id: row.organisation_id.into(),
            product_id: row.product_id.into(),
            product_name: row.product_name,
            user_email: row.user_email,
            user_name: row.user_name,
        }
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct NotificationRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub pool_id: Option<Uuid>,
    pub kind: String,
    pub message: String,
    pub data: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for leasehold_core::ports::Notification {
    type Error = StoreError;
    fn try_from(row: NotificationRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            organisation_id: row.organisation_id.into(),
            pool_id: row.pool_id.map(Into::into),
            kind: row.kind,
            message: row.message,
            data: row.data.0,
            created_at: row.created_at,
            read_at: row.read_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Json<std::collections::BTreeSet<EventKind>>,
    pub enabled: bool,
    pub consecutive_failures: i64,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<WebhookRow> for leasehold_core::ports::Webhook {
    type Error = StoreError;
    fn try_from(row: WebhookRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            organisation_id: row.organisation_id.into(),
            url: row.url,
            description: row.description,
            events: row.events.0,
            enabled: row.enabled,
            consecutive_failures: u32::try_from(row.consecutive_failures).unwrap_or(u32::MAX),
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub notification_id: Uuid,
    pub channel: String,
    pub recipient: Option<String>,
    pub webhook_id: Option<Uuid>,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub response_status: Option<i32>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub replay_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<DeliveryRow> for leasehold_core::ports::Delivery {
    type Error = StoreError;
    fn try_from(row: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id.into(),
            organisation_id: row.organisation_id.into(),
            notification_id: row.notification_id.into(),
            channel: parse("channel", &row.channel, Channel::parse)?,
            recipient: row.recipient,
            webhook_id: row.webhook_id.map(Into::into),
            kind: row.kind,
            status: parse("delivery status", &row.status, DeliveryStatus::parse)?,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            response_status: row.response_status.and_then(|s| u16::try_from(s).ok()),
            delivered_at: row.delivered_at,
            replay_of: row.replay_of.map(Into::into),
            created_at: row.created_at,
        })
    }
}
