//! Request and response bodies of the public API, shared by the server, the typed
//! client, the SPA and the device agent. Schemas are derived only with the
//! `openapi` feature, so the browser bundle carries serde and nothing more.

use crate::access::ActorKind;
use crate::error::FieldError;
use crate::ids::{
    ApiKeyId, AuditEntryId, DeviceId, LeaseId, LeaseRequestId, LicenceId, NotificationId, OrganisationId, PoolId,
    ProductId, SeatId, SeatRequestId, UserId,
};
use crate::seat::LeaseState;
use crate::values::{
    ApiScope, BillingStatus, LicenceSource, LicenceStatus, Plan, QueuePolicy, RequestState, Role, SeatKind,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An RFC 9457 problem document: every error the API returns has this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type (`https://leasehold.dev/problems/<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable machine code, e.g. `licence_in_use`.
    pub code: String,
    /// The offending fields of a request that failed validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// One page of a list, with the total across all pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
}

// ---------------------------------------------------------------- auth

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutRequest {
    /// Ends the session this refresh token belongs to; without it, the session of
    /// the access token is ended.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// A short-lived EdDSA JWT; send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: exchanging it at `/v1/auth/refresh` returns a new one.
    pub refresh_token: String,
    pub user: Me,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub organisation_name: Option<String>,
}

// ---------------------------------------------------------------- organisations and users

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationView {
    pub id: OrganisationId,
    pub name: String,
    pub account_manager_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrganisation {
    pub name: String,
    #[serde(default)]
    pub account_manager_id: Option<UserId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOrganisation {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub account_manager_id: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUser {
    pub email: String,
    #[serde(default)]
    pub name: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
}

// ---------------------------------------------------------------- API keys

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    /// `null` for a vendor integration's key.
    pub organisation_id: Option<OrganisationId>,
    pub scopes: Vec<ApiScope>,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiKey {
    pub name: String,
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
    pub scopes: Vec<ApiScope>,
}

/// The new key. `key` is shown this once and stored only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub id: ApiKeyId,
    pub key: String,
    pub api_key: ApiKeyView,
}

// ---------------------------------------------------------------- products

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductView {
    pub id: ProductId,
    pub code: String,
    pub name: String,
    pub seat_kind: SeatKind,
    pub currency: String,
    /// Price of one seat per plan, in minor units (e.g. `{"monthly": 1500}`).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, i64>))]
    pub prices: BTreeMap<Plan, i64>,
    pub default_lease_seconds: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProduct {
    pub code: String,
    pub name: String,
    pub seat_kind: SeatKind,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, i64>))]
    pub prices: BTreeMap<Plan, i64>,
    #[serde(default)]
    pub default_lease_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProduct {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, i64>>))]
    pub prices: Option<BTreeMap<Plan, i64>>,
    #[serde(default)]
    pub default_lease_seconds: Option<i64>,
}

// ---------------------------------------------------------------- licences

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceView {
    pub id: LicenceId,
    pub product_id: ProductId,
    pub product_name: String,
    pub plan: Plan,
    pub name: String,
    pub note: String,
    pub quantity: u32,
    /// Price of one seat, in minor units of `currency`.
    pub unit_price: i64,
    /// `unit_price × quantity`, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub owner_organisation_id: Option<OrganisationId>,
    pub owner_organisation_name: Option<String>,
    pub owner_user_id: Option<UserId>,
    pub owner_user_email: Option<String>,
    /// The 8-character code a customer redeems.
    pub coupon_code: String,
    /// Lifecycle: `unassigned`, `active`, `paused` or `expired`.
    pub status: LicenceStatus,
    /// Billing, shown beside the lifecycle: `uninvoiced`, `invoiced` or `paid`.
    pub billing_status: BillingStatus,
    pub source: LicenceSource,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub redeemed_at: Option<DateTime<Utc>>,
    /// Renews by itself before it ends (monthly and yearly licences).
    pub auto_renew: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateLicence {
    pub product_id: ProductId,
    pub plan: Plan,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    pub quantity: i64,
    /// Leave out (with `owner_user_id`) to create an unassigned licence whose
    /// coupon is handed to a customer.
    #[serde(default)]
    pub owner_organisation_id: Option<OrganisationId>,
    #[serde(default)]
    pub owner_user_id: Option<UserId>,
    /// Monthly and yearly licences only: renew by itself before it ends.
    #[serde(default)]
    pub auto_renew: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateLicence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Assigns an unassigned licence (or changes the user within its organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_organisation_id: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<UserId>,
    /// Moves the end of the term (vendor staff extend or shorten a licence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Monthly and yearly licences only: renew by itself before it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemCoupon {
    pub code: String,
}

/// Query of `GET /v1/licences`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct LicenceQuery {
    /// Only licences owned by this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// Only licences owned by this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductId>,
    /// Lifecycle status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LicenceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_status: Option<BillingStatus>,
    /// `soon` (ends within the configured window, 30 days by default) or `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiring: Option<String>,
    /// Keyword matched against name, note, coupon code, owner organisation and owner e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `created_at`, `name`, `ends_at` or `quantity`; prefix `-` for descending. Default `-created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// 1-based page number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Query of the plain lists (organisations, users, products, API keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ListQuery {
    /// Keyword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only this organisation's (vendor staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

// ---------------------------------------------------------------- audit

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    pub organisation_id: Option<OrganisationId>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<uuid::Uuid>,
    /// e.g. `licence.created`, `licence.paused`, `coupon.redeemed`.
    pub action: String,
    pub object_kind: String,
    pub object_id: uuid::Uuid,
    pub product_id: Option<ProductId>,
    /// The object before the change (`null` on creation).
    pub before: Option<serde_json::Value>,
    /// The object after the change (`null` on deletion).
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Query of `GET /v1/audit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<LicenceId>,
    /// The id of the user or API key that acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// The verdict of `GET /v1/audit/verify` over every chain the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditVerification {
    /// True when every chain verifies from its first entry to its head.
    pub verified: bool,
    pub checked_at: DateTime<Utc>,
    pub chains: Vec<AuditChainReport>,
}

/// One organisation's chain (`organisation_id` null: vendor-wide entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditChainReport {
    pub organisation_id: Option<OrganisationId>,
    /// Entries whose hashes and links were recomputed and matched.
    pub verified_entries: i64,
    /// Entries appended since the last sealing (sealed within seconds).
    pub pending_entries: i64,
    /// The chain's newest hash: record it elsewhere to detect a rewritten chain later.
    pub head_hash: Option<String>,
    /// The first place the chain breaks, if it does.
    pub problem: Option<crate::audit::ChainBreak>,
    /// The problem in words.
    pub detail: Option<String>,
}

// ---------------------------------------------------------------- pools and seats

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolView {
    pub id: PoolId,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub product_id: ProductId,
    pub product_name: String,
    pub seat_kind: SeatKind,
    /// The quantities of the organisation's active licences of the product.
    pub capacity: i64,
    pub held: i64,
    /// Free seats (never negative).
    pub available: i64,
    /// More held than capacity (after a pause, expiry or deletion): nothing is
    /// granted until enough seats are released.
    pub over_capacity: bool,
    pub queue_policy: QueuePolicy,
    /// Requests waiting in the queue.
    pub waiting: u64,
    /// Concurrent seats: the lease a checkout or heartbeat grants.
    pub lease_seconds: i64,
    /// Concurrent seats: how late a heartbeat may come before the seat is reclaimed.
    pub grace_seconds: i64,
    /// Concurrent seats: reclaim after this long without reported activity (`null`: never).
    pub idle_seconds: Option<i64>,
    /// Concurrent seats: how long a logged-out seat waits for the same client.
    pub linger_seconds: i64,
    /// Alert when fewer than this many seats are available (`null`: no such alert).
    pub alert_below: Option<i64>,
    /// Alert when fewer than this percentage of the capacity is available.
    pub alert_below_percent: Option<i64>,
    /// The low-seat alert has fired and re-arms when the pool rises above its threshold.
    pub low: bool,
    /// Automatic top-up: when fewer than `topup_below` seats are available,
    /// add `topup_add` seats on `topup_plan`, at most `topup_max_per_month`
    /// times a calendar month, asking an admin first when `topup_needs_approval`.
    pub topup_enabled: bool,
    pub topup_below: i64,
    pub topup_add: i64,
    pub topup_max_per_month: i64,
    pub topup_needs_approval: bool,
    pub topup_plan: Plan,
    /// Automatic top-ups done this calendar month.
    pub topups_this_month: i64,
    /// A top-up waits for an admin's approval since then.
    pub topup_pending_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePool {
    /// `auto_grant` (default), `approval` or `refuse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_policy: Option<QueuePolicy>,
    /// 60–86400 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<i64>,
    /// 0 up to the lease length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<i64>,
    /// 60–604800 seconds; 0 turns the idle timeout off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_seconds: Option<i64>,
    /// 0–3600 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger_seconds: Option<i64>,
    /// Low-seat alert below this many available seats, 1 up to the capacity
    /// (exclusive); 0 turns it off. Replaces a percentage threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_below: Option<i64>,
    /// Low-seat alert below this percentage of the capacity, 1–99; 0 turns it
    /// off. Replaces a threshold in seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_below_percent: Option<i64>,
    /// Turns the automatic top-up on or off; the other `topup_` fields change
    /// its rule (all are required the first time it is turned on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_enabled: Option<bool>,
    /// k: top up when fewer than k seats are available; 1 ≤ k < capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_below: Option<i64>,
    /// n: seats each top-up adds, 1–10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_add: Option<i64>,
    /// m: top-ups a calendar month at most, 1–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_max_per_month: Option<i64>,
    /// Ask an admin to approve each top-up first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_needs_approval: Option<bool>,
    /// The plan top-ups are bought on: `monthly` (default), `yearly` or `perpetual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topup_plan: Option<Plan>,
}

/// Body of `POST /v1/pools/{id}/seats`: a purchase of more seats.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuySeats {
    /// 1–10000.
    pub quantity: i64,
    /// `monthly`, `yearly` or `perpetual`; the product's price for it applies.
    pub plan: Plan,
}

/// An in-app notification of an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: NotificationId,
    pub organisation_id: OrganisationId,
    pub pool_id: Option<PoolId>,
    /// `low_seats`, `topup_done`, `topup_awaiting_approval` or `topup_limit_reached`.
    pub kind: String,
    pub message: String,
    /// The figures behind the message (available, capacity, quantity…).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A page of notifications with the count of unread ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// Unread notifications (of every page).
    pub unread: u64,
}

/// Query of `GET /v1/notifications`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct NotificationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    /// Only the unread ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unread: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Reply of `POST /v1/notifications/read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsMarked {
    pub marked: u64,
}

/// Query of `GET /v1/pools`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PoolQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// A device app asks for a seat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterDevice {
    /// A stable identifier of the device (hardware id, hash of a serial number…).
    pub fingerprint: String,
    /// What administrators see, e.g. the host name.
    pub name: String,
    pub product_id: ProductId,
}

/// A seat held by the device, with a signed token the app verifies offline
/// against `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatGrant {
    pub device_id: DeviceId,
    pub seat_id: SeatId,
    pub licence_id: LicenceId,
    pub pool_id: PoolId,
    pub product_id: ProductId,
    /// EdDSA (Ed25519) JWT naming licence, pool, device and expiry.
    pub seat_token: String,
    /// When the token expires; renew it with a heartbeat before then.
    pub expires_at: DateTime<Utc>,
}

/// No seat was free: the device waits in the pool's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatQueued {
    pub device_id: DeviceId,
    pub request_id: SeatRequestId,
    /// 1 = next in line.
    pub queue_position: u64,
}

/// A heartbeat or release names the product whose seat is meant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSeatRef {
    pub product_id: ProductId,
}

/// Which seats to give back: one product's, or (without it) all of the device's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseSeats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasedSeats {
    pub released: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSeatView {
    pub seat_id: SeatId,
    pub pool_id: PoolId,
    pub product_id: ProductId,
    pub product_name: String,
    pub licence_id: LicenceId,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatRequestView {
    pub id: SeatRequestId,
    pub pool_id: PoolId,
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub product_name: String,
    pub device_id: DeviceId,
    pub device_name: String,
    pub fingerprint: String,
    pub state: RequestState,
    pub requested_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// 1 = next in line; 0 once no longer waiting.
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    pub id: DeviceId,
    pub organisation_id: OrganisationId,
    pub fingerprint: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub blocked_at: Option<DateTime<Utc>>,
    pub seats: Vec<DeviceSeatView>,
    /// Queues the device waits in.
    pub requests: Vec<SeatRequestView>,
}

/// Query of `GET /v1/devices`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DeviceQuery {
    /// `licensed` (holds a seat), `blocked` or `requested` (waits for a seat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductId>,
    /// Keyword matched against name and fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Query of `GET /v1/seat-requests` (waiting requests, oldest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SeatRequestQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Moves the seat of `from_device_id` to the request, in one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReallocateSeat {
    pub from_device_id: DeviceId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidateSeat {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatValidity {
    pub valid: bool,
    /// `valid`, `invalid_token`, `expired`, `seat_revoked`, `device_blocked`; for
    /// session tokens also `seat_released` (logged out) and `seat_idle` (idle past the pool's timeout).
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_id: Option<SeatId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------- concurrent sessions

/// A member asks for a concurrent seat (a member for themselves; an integration
/// with `sessions:write` for a member of its organisation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSession {
    pub product_id: ProductId,
    /// The member; integrations must name one, members may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Which installation or browser asks: the same member and client get the same seat.
    pub client_id: String,
}

/// A concurrent seat: renew it before `next_heartbeat_at`; it lapses at `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionGrant {
    pub id: LeaseId,
    pub pool_id: PoolId,
    pub product_id: ProductId,
    pub licence_id: LicenceId,
    pub user_id: UserId,
    pub client_id: String,
    /// EdDSA JWT naming the session, member, licence and expiry.
    pub seat_token: String,
    pub expires_at: DateTime<Utc>,
    pub next_heartbeat_at: DateTime<Utc>,
}

/// No seat was free: the member waits in the pool's queue; asking again says when it was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionQueued {
    pub request_id: LeaseRequestId,
    pub queue_position: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionHeartbeat {
    /// The member did something since the last heartbeat (moves the idle deadline).
    #[serde(default)]
    pub activity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub id: LeaseId,
    pub pool_id: PoolId,
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub product_name: String,
    pub user_id: UserId,
    pub user_email: String,
    pub user_name: String,
    pub client_id: String,
    pub granted_at: DateTime<Utc>,
    pub last_heartbeat_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_expires_at: Option<DateTime<Utc>>,
    pub linger_until: Option<DateTime<Utc>>,
    /// `active`, `lapsing` (in grace), `idle` or `lingering` (logged out).
    pub state: LeaseState,
}

/// Query of `GET /v1/sessions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SessionQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// The claims of a session's seat token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionClaims {
    /// `session`.
    pub kind: String,
    /// The member.
    pub sub: UserId,
    /// The session.
    pub jti: LeaseId,
    pub client: String,
    pub licence: LicenceId,
    pub pool: PoolId,
    pub product: ProductId,
    pub organisation: OrganisationId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The claims of a seat token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatClaims {
    /// `device`.
    #[serde(default = "device_kind")]
    pub kind: String,
    /// The device.
    pub sub: DeviceId,
    /// The seat.
    pub jti: SeatId,
    pub licence: LicenceId,
    pub pool: PoolId,
    pub product: ProductId,
    pub organisation: OrganisationId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

fn device_kind() -> String {
    "device".into()
}

/// A JSON Web Key Set of the server's seat-token signing keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
}

/// One e-mail recipient and what they are told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientView {
    pub email: String,
    pub events: Vec<crate::values::EventKind>,
    /// Only about this pool; absent: about all of the organisation's pools.
    pub pool_id: Option<PoolId>,
}

/// An organisation's e-mail recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientList {
    pub organisation_id: OrganisationId,
    pub items: Vec<RecipientView>,
}

/// Query of `GET /v1/notification-recipients`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct RecipientQuery {
    /// Whose recipients (vendor staff must name the organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
}

/// One recipient of `PUT /v1/notification-recipients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientInput {
    pub email: String,
    /// Event kinds (`low_seats`, `topup_done`, …); absent: the ones that need
    /// someone to act (low seats, top-up awaiting approval, expiring soon,
    /// expired, device request waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_id: Option<PoolId>,
}

/// Replaces an organisation's whole list of recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutRecipients {
    /// Whose recipients (vendor staff must name the organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<OrganisationId>,
    pub recipients: Vec<RecipientInput>,
}

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: crate::ids::WebhookId,
    pub organisation_id: OrganisationId,
    pub url: String,
    pub description: String,
    /// The events it receives; empty: all of them.
    pub events: Vec<crate::values::EventKind>,
    pub enabled: bool,
    /// Failed deliveries since the last success.
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    /// The signing secret: present only in the reply that created or rotated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Adds a webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateWebhook {
    /// Whose endpoint (vendor staff must name the organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<OrganisationId>,
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event kinds to send; empty or absent: all of them.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Changes a webhook endpoint; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateWebhook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A new signing secret, returned once in the reply; the old one stops working at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotate_secret: bool,
}

/// Query of `GET /v1/webhooks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct WebhookQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// One e-mail or webhook delivery of a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: crate::ids::DeliveryId,
    pub notification_id: NotificationId,
    pub organisation_id: OrganisationId,
    pub channel: crate::values::Channel,
    /// The e-mail address (channel `email`).
    pub recipient: Option<String>,
    /// The endpoint (channel `webhook`).
    pub webhook_id: Option<crate::ids::WebhookId>,
    pub kind: String,
    pub status: crate::values::DeliveryStatus,
    pub attempts: u32,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The endpoint's HTTP status, or the SMTP server's reply code.
    pub response_status: Option<u16>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery this one replays.
    pub replay_of: Option<crate::ids::DeliveryId>,
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /v1/deliveries`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DeliveryQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<crate::ids::WebhookId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<crate::values::Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::values::DeliveryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Query of `GET /v1/reports/pools/{id}`: a period of whole UTC days, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PoolReportQuery {
    /// The first day (`YYYY-MM-DD`, UTC).
    pub from: chrono::NaiveDate,
    /// The last day, included.
    pub to: chrono::NaiveDate,
    /// `day` (default), `week` (from Monday) or `month`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<crate::values::ReportBucket>,
}

/// Seats added, per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatsBySource {
    /// By automatic top-ups.
    pub automatic: i64,
    /// Bought by the customer's admins.
    pub purchase: i64,
    /// Redeemed coupons.
    pub coupon: i64,
    /// Assigned by the account manager.
    pub account_manager: i64,
}

impl SeatsBySource {
    pub fn add(&mut self, source: crate::values::AdditionSource, seats: i64) {
        use crate::values::AdditionSource as S;
        let slot = match source {
            S::Automatic => &mut self.automatic,
            S::Purchase => &mut self.purchase,
            S::Coupon => &mut self.coupon,
            S::AccountManager => &mut self.account_manager,
        };
        *slot += seats;
    }

    pub fn total(&self) -> i64 {
        self.automatic + self.purchase + self.coupon + self.account_manager
    }
}

/// Waits of queued requests that got a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueWaits {
    pub count: u64,
    pub median_seconds: Option<i64>,
    pub longest_seconds: Option<i64>,
}

/// A pool's figures over one bucket (or the whole period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFigures {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Time-weighted held ÷ capacity (∫held dt ÷ ∫capacity dt) from the usage
    /// events; above 1 when over capacity; null without capacity.
    pub utilisation: Option<f64>,
    /// Time-weighted averages of held seats and of capacity.
    pub average_held: f64,
    pub average_capacity: f64,
    pub peak_held: i64,
    /// At the end of the bucket.
    pub capacity_at_end: i64,
    pub held_at_end: i64,
    pub available_at_end: i64,
    /// Denied requests; a device's burst of retries until it gets a seat counts once.
    pub denials: u64,
    pub queue_waits: QueueWaits,
    /// Automatic top-ups (licences added by them).
    pub topups: u64,
    /// Seats added, by source.
    pub seats_added: SeatsBySource,
}

/// `GET /v1/reports/pools/{id}`: a pool's usage over a period, per bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolReport {
    pub pool_id: PoolId,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub product_id: ProductId,
    pub product_name: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub bucket: crate::values::ReportBucket,
    /// Where the figures end: the end of `to`, or now when the period has not
    /// ended yet (the last bucket is then clipped to now).
    pub until: DateTime<Utc>,
    /// The whole period.
    pub summary: ReportFigures,
    pub buckets: Vec<ReportFigures>,
}

/// Query of `GET /v1/reports/additions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AdditionsQuery {
    /// The month, `YYYY-MM` (UTC).
    pub month: String,
}

/// One organisation's additions of one product from one source in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdditionLineView {
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub product_id: ProductId,
    pub product_code: String,
    pub product_name: String,
    pub source: crate::values::AdditionSource,
    /// Licences that started in the month.
    pub licences: i64,
    pub seats: i64,
    /// Unit price × quantity, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

/// Seats and amount of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotal {
    pub currency: String,
    pub seats: i64,
    pub amount: i64,
}

/// `GET /v1/reports/additions`: the month-end list of licence additions for
/// invoicing (also as CSV with `Accept: text/csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdditionsReport {
    pub month: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub lines: Vec<AdditionLineView>,
    pub totals: Vec<CurrencyTotal>,
}

/// Body of `POST /v1/invoices`: the licences to invoice (at most 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendInvoices {
    pub licence_ids: Vec<LicenceId>,
}

/// An invoice of one licence's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceView {
    pub id: crate::ids::InvoiceId,
    /// What the customer quotes, e.g. `INV-20261207-3F9A1C2B7E04`.
    pub number: String,
    pub licence_id: LicenceId,
    pub licence_name: String,
    pub product_name: String,
    pub plan: Plan,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub owner_user_id: UserId,
    pub owner_email: String,
    /// The term invoiced (absent ends: a perpetual licence).
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub quantity: i64,
    /// Minor units of `currency`.
    pub unit_price: i64,
    pub amount: i64,
    pub currency: String,
    pub status: crate::values::InvoiceStatus,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// What sending did with one licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceResult {
    pub licence_id: LicenceId,
    pub outcome: crate::values::InvoiceOutcome,
    /// The new invoice, or the earlier one of the same period.
    pub invoice: Option<InvoiceView>,
}

/// Response of `POST /v1/invoices`: one result per selected licence, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceBatch {
    pub results: Vec<InvoiceResult>,
    /// How many invoices the request created (a replay answers as the first call did).
    pub invoiced: u32,
}

impl InvoiceBatch {
    /// The batch answering with `results`, counting the invoices they created.
    pub fn of(results: Vec<InvoiceResult>) -> Self {
        let invoiced = results
            .iter()
            .filter(|r| r.outcome == crate::values::InvoiceOutcome::Invoiced)
            .count() as u32;
        Self { results, invoiced }
    }
}

/// Query of `GET /v1/invoices`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct InvoiceQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::values::InvoiceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(maximum = 4294967295.0))]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}
