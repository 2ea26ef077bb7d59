//! What storage provides. `leasehold-store` implements [`Store`] for SQLite and
//! PostgreSQL; the API's services depend only on this trait.
//!
//! Every write goes through [`Store::commit`]: the changes, their audit entries and
//! the idempotency claim of the request are applied in one transaction, or none is.

use crate::access::{Actor, Visibility};
use crate::error::{DomainError, FieldError};
use crate::ids::LeaseId;
use crate::ids::{
    ApiKeyId, AuditEntryId, AuthSessionId, DeviceId, LicenceId, OrganisationId, PoolId, ProductId, SeatId,
    SeatRequestId, UserId,
};
use crate::ids::{DeliveryId, WebhookId};
use crate::licence::{Licence, Organisation, Product};
use crate::notify::Recipient;
use crate::seat::{
    Checkout, CheckoutOutcome, Decision, Device, DeviceRegistration, Lease, LeaseSettings, Pool, Registration, Seat,
    SeatRequest,
};
use crate::values::{
    ApiScope, BillingStatus, Channel, DeliveryStatus, Email, EventKind, LicenceStatus, QueuePolicy, ReleaseReason,
    Role, SeatKind,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A 1-based page of at most 100 items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 25;
    pub const MAX_PER_PAGE: u32 = 100;

    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Result<Self, FieldError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if page == 0 {
            return Err(FieldError::new("page", "too_small", "pages start at 1"));
        }
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            return Err(FieldError::new("per_page", "out_of_range", "must be between 1 and 100"));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub organisation_id: Option<OrganisationId>,
    pub scopes: Vec<ApiScope>,
    pub prefix: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A licence with the names a list shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceDetails {
    pub licence: Licence,
    pub product_name: String,
    pub owner_organisation_name: Option<String>,
    pub owner_user_email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    /// Ends after `now` and no later than `soon_until`.
    Soon,
    /// Ended at or before `now`.
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceSortKey {
    CreatedAt,
    Name,
    EndsAt,
    Quantity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceSort {
    pub key: LicenceSortKey,
    pub descending: bool,
}

impl LicenceSort {
    pub fn parse(text: Option<&str>) -> Result<Self, FieldError> {
        let text = text.unwrap_or("-created_at");
        let (descending, field) = match text.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, text),
        };
        let key = match field {
            "created_at" => LicenceSortKey::CreatedAt,
            "name" => LicenceSortKey::Name,
            "ends_at" => LicenceSortKey::EndsAt,
            "quantity" => LicenceSortKey::Quantity,
            _ => {
                return Err(FieldError::new(
                    "sort",
                    "invalid_sort",
                    "sort by created_at, name, ends_at or quantity (prefix - for descending)",
                ))
            }
        };
        Ok(Self { key, descending })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceFilter {
    pub organisation: Option<OrganisationId>,
    pub user: Option<UserId>,
    pub product: Option<ProductId>,
    pub status: Option<LicenceStatus>,
    pub billing_status: Option<BillingStatus>,
    pub expiring: Option<Expiring>,
    pub q: Option<String>,
    pub sort: LicenceSort,
    pub page: PageRequest,
    /// The instant the statuses and the expiring filters are computed at.
    pub now: DateTime<Utc>,
    /// The end of the "expiring soon" window.
    pub soon_until: DateTime<Utc>,
}

impl LicenceFilter {
    /// Everything, by name, first page, with the default "expiring soon" window, at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            organisation: None,
            user: None,
            product: None,
            status: None,
            billing_status: None,
            expiring: None,
            q: None,
            sort: LicenceSort {
                key: LicenceSortKey::Name,
                descending: false,
            },
            page: PageRequest::default(),
            now,
            soon_until: now + chrono::Duration::days(crate::licence::DEFAULT_EXPIRING_SOON_DAYS),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilter {
    pub q: Option<String>,
    pub organisation: Option<OrganisationId>,
    pub page: PageRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub organisation: Option<OrganisationId>,
    pub product: Option<ProductId>,
    pub licence: Option<LicenceId>,
    pub actor: Option<uuid::Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: PageRequest,
}

/// What a change does to the audit log; the actor, time and request come from
/// the [`WriteContext`].
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub organisation_id: Option<OrganisationId>,
    pub product_id: Option<ProductId>,
    pub action: &'static str,
    pub object_kind: &'static str,
    pub object_id: uuid::Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    pub organisation_id: Option<OrganisationId>,
    pub product_id: Option<ProductId>,
    pub actor: Actor,
    pub action: String,
    pub object_kind: String,
    pub object_id: uuid::Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Who writes, when, and on behalf of which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub now: DateTime<Utc>,
}

/// A retried request is recognised by (scope, key); `request_hash` tells a true
/// retry from a different request reusing the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// Who may replay: the principal's kind and id.
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    /// The object the request created or changed.
    pub resource_id: uuid::Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    InsertOrganisation(Organisation),
    UpdateOrganisation(Organisation),
    InsertUser {
        user: User,
        password_hash: String,
    },
    InsertApiKey {
        key: ApiKey,
        key_hash: String,
    },
    RevokeApiKey {
        id: ApiKeyId,
        at: DateTime<Utc>,
    },
    InsertProduct(Product),
    UpdateProduct(Product),
    InsertLicence(Licence),
    /// Saves `licence` if the stored version is still `licence.version - 1`.
    UpdateLicence(Licence),
    /// Deletes the licence if the stored version is still `version` and none of its seats is held.
    DeleteLicence {
        id: LicenceId,
        version: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    pub audit: Vec<AuditRecord>,
    pub idempotency: Option<IdempotencyClaim>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Applied,
    /// The idempotency key was used before with the same request; nothing was
    /// changed and the earlier request's object is named.
    Replayed {
        resource_id: uuid::Uuid,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule enforced by the database (a unique e-mail, a coupon redeemed twice…).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// An optimistic update found the row changed since it was read.
    #[error("the object changed since it was read")]
    Stale,
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A console session: the refresh-token family of one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    pub id: AuthSessionId,
    pub user_id: UserId,
    pub refresh_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    Rotated {
        session_id: AuthSessionId,
        user: User,
    },
    /// The token was already used once: the whole session is revoked (theft detection).
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// A pool with the names a list shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolDetails {
    pub pool: Pool,
    pub organisation_name: String,
    pub product_name: String,
    pub seat_kind: SeatKind,
    /// Requests waiting in the queue.
    pub waiting: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSeat {
    pub seat: Seat,
    pub product_id: ProductId,
    pub product_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestDetails {
    pub request: SeatRequest,
    /// 1 = next in line; 0 when no longer waiting.
    pub position: u64,
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub product_name: String,
    pub device_name: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDetails {
    pub device: Device,
    pub seats: Vec<DeviceSeat>,
    pub waiting: Vec<RequestDetails>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    /// Holds at least one seat.
    Licensed,
    Blocked,
    /// Waits in at least one queue.
    Requested,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceFilter {
    pub state: Option<DeviceState>,
    pub organisation: Option<OrganisationId>,
    pub product: Option<ProductId>,
    pub q: Option<String>,
    pub page: PageRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolFilter {
    pub organisation: Option<OrganisationId>,
    pub product: Option<ProductId>,
    pub page: PageRequest,
}

/// A lease with the names the Sessions screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseDetails {
    pub lease: Lease,
    pub settings: LeaseSettings,
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub product_name: String,
    pub user_email: String,
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseFilter {
    pub organisation: Option<OrganisationId>,
    pub product: Option<ProductId>,
    pub user: Option<UserId>,
    pub page: PageRequest,
}

/// What one pass of the licence lifecycle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LicenceSweep {
    pub renewed: u64,
    /// "Expiring soon" notices sent.
    pub noticed: u64,
    pub expired: u64,
}

impl LicenceSweep {
    /// Some step did `limit` licences: there may be more.
    pub fn filled(&self, limit: u32) -> bool {
        let limit = u64::from(limit);
        self.renewed >= limit || self.noticed >= limit || self.expired >= limit
    }
}

/// Something an organisation's admins should know (a low pool, a top-up…).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: crate::ids::NotificationId,
    pub organisation_id: OrganisationId,
    pub pool_id: Option<PoolId>,
    /// `low_seats`, `topup_done`, `topup_awaiting_approval`, `topup_limit_reached`.
    pub kind: String,
    pub message: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationFilter {
    pub organisation: Option<OrganisationId>,
    pub unread: bool,
    pub page: PageRequest,
}

/// A webhook endpoint as stored (its secret is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub organisation_id: OrganisationId,
    pub url: String,
    pub description: String,
    /// The events it receives; empty: all of them.
    pub events: std::collections::BTreeSet<EventKind>,
    pub enabled: bool,
    /// Failed deliveries since the last success.
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
}

/// A webhook endpoint to add, with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

/// What to change of a webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<std::collections::BTreeSet<EventKind>>,
    pub enabled: Option<bool>,
    /// A new signing secret (the old one stops working at once).
    pub secret: Option<String>,
}

/// One e-mail or webhook delivery of a notification, as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub organisation_id: OrganisationId,
    pub notification_id: crate::ids::NotificationId,
    pub channel: Channel,
    /// The e-mail address (channel `email`).
    pub recipient: Option<String>,
    /// The endpoint (channel `webhook`).
    pub webhook_id: Option<WebhookId>,
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The HTTP status the endpoint answered, or the SMTP reply code.
    pub response_status: Option<u16>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery this one replays.
    pub replay_of: Option<DeliveryId>,
    pub created_at: DateTime<Utc>,
}

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub claim: uuid::Uuid,
    pub notification: Notification,
    /// The endpoint's URL and secret (channel `webhook`).
    pub endpoint: Option<(String, String)>,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    Delivered {
        response_status: Option<u16>,
    },
    Failed {
        error: String,
        response_status: Option<u16>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryFilter {
    pub organisation: Option<OrganisationId>,
    pub webhook: Option<WebhookId>,
    pub channel: Option<Channel>,
    pub status: Option<DeliveryStatus>,
    pub page: PageRequest,
}

/// One change of a pool's held seats or capacity, or a denial: what reports integrate over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub pool_id: PoolId,
    pub at: DateTime<Utc>,
    /// `seat_granted`, `seat_released`, `capacity_changed`, `request_queued`,
    /// `request_denied`, `request_rejected`, `device_blocked`, `device_unblocked`.
    pub kind: String,
    /// Held seats after the event.
    pub held: i64,
    /// Capacity after the event.
    pub capacity: i64,
    pub subject_id: Option<uuid::Uuid>,
    pub reason: Option<String>,
}

/// Seats added to a pool by one licence: when, how and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addition {
    pub at: DateTime<Utc>,
    pub source: crate::values::AdditionSource,
    pub quantity: i64,
}

/// A month's additions of one organisation and product from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionLine {
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub product_id: ProductId,
    pub product_code: String,
    pub product_name: String,
    pub source: crate::values::AdditionSource,
    pub licences: i64,
    pub seats: i64,
    /// Minor units of `currency`: unit price × quantity summed.
    pub amount: i64,
    pub currency: String,
}

/// Which invoices a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceFilter {
    pub status: Option<crate::values::InvoiceStatus>,
    pub organisation: Option<OrganisationId>,
    pub page: PageRequest,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies a change set atomically; see the module documentation.
    async fn commit(&self, ctx: &WriteContext, set: ChangeSet) -> Result<Committed, StoreError>;

    /// The request hash and resource of an earlier request with this idempotency key.
    async fn idempotency_record(&self, scope: &str, key: &str) -> Result<Option<(String, uuid::Uuid)>, StoreError>;

    /// Is the database reachable?
    async fn ping(&self) -> Result<(), StoreError>;

    async fn organisation(&self, vis: Visibility, id: OrganisationId) -> Result<Option<Organisation>, StoreError>;
    async fn organisations(&self, vis: Visibility, filter: &ListFilter) -> Result<Page<Organisation>, StoreError>;

    async fn user(&self, vis: Visibility, id: UserId) -> Result<Option<User>, StoreError>;
    async fn users(&self, vis: Visibility, filter: &ListFilter) -> Result<Page<User>, StoreError>;
    /// The user and their password hash, for signing in.
    async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError>;

    /// Counts a failed sign-in for `key` (a hash of the e-mail address tried,
    /// known or not); failures before `window_start` are forgotten. When it
    /// makes `threshold` in the window, sign-in for `key` is locked until
    /// `lock_until`, which is returned.
    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        threshold: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Until when sign-in for `key` is locked, if it is at `now`.
    async fn sign_in_locked_until(&self, key: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Forgets `key`'s failures (after a successful sign-in).
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError>;

    async fn start_auth_session(&self, session: &AuthSession) -> Result<(), StoreError>;
    /// Exchanges a refresh token (by hash) for a new one in the same session.
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError>;
    /// Revokes the session (by id, or by a refresh token's hash).
    async fn end_auth_session(
        &self,
        id: Option<AuthSessionId>,
        refresh_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn auth_session_live(&self, id: AuthSessionId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    async fn api_key(&self, vis: Visibility, id: ApiKeyId) -> Result<Option<ApiKey>, StoreError>;
    async fn api_keys(&self, vis: Visibility, filter: &ListFilter) -> Result<Page<ApiKey>, StoreError>;
    /// A live (unrevoked) key by the hash of its secret; records its use.
    async fn authenticate_api_key(&self, key_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError>;

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError>;
    async fn products(&self, filter: &ListFilter) -> Result<Page<Product>, StoreError>;

    async fn licence(&self, vis: Visibility, id: LicenceId) -> Result<Option<LicenceDetails>, StoreError>;
    async fn licences(&self, vis: Visibility, filter: &LicenceFilter) -> Result<Page<LicenceDetails>, StoreError>;
    /// Any licence by its coupon code, whoever owns it (redemption).
    async fn licence_by_coupon(&self, code: &str) -> Result<Option<Licence>, StoreError>;

    async fn audit(&self, vis: Visibility, filter: &AuditFilter) -> Result<Page<AuditEntry>, StoreError>;

    /// Gives up to `limit` unsealed audit entries their places in their chains,
    /// in commit order; one sealer per chain at a time, whichever process runs it.
    async fn seal_audit(&self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
    /// The chains `vis` may see: each one's head and how many entries await sealing.
    async fn audit_chains(&self, vis: Visibility) -> Result<Vec<crate::audit::ChainState>, StoreError>;
    /// Up to `limit` sealed entries of one chain after `after_seq`, in `seq` order.
    async fn sealed_audit(
        &self,
        chain_id: uuid::Uuid,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<crate::audit::SealedEntry>, StoreError>;

    // ------------------------------------------------------------ the seat engine

    /// Registers a device and, in the same transaction, returns its seat, grants
    /// one if free (a conditional update: never more held than capacity), queues
    /// it, or refuses, as the pool's policy says.
    async fn register_device(
        &self,
        ctx: &WriteContext,
        registration: &DeviceRegistration,
        idempotency: Option<IdempotencyClaim>,
    ) -> Result<Registration, StoreError>;
    /// Gives back a device's seats (in one product's pool, or all); each freed seat
    /// goes to the oldest waiting request of an auto-granting pool, in the same
    /// transaction. Returns how many seats were released.
    async fn release_device_seats(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        device: DeviceId,
        product: Option<ProductId>,
        reason: ReleaseReason,
    ) -> Result<u64, StoreError>;
    /// Releases every seat of the device, withdraws its requests and refuses it from now on.
    async fn block_device(&self, ctx: &WriteContext, vis: Visibility, device: DeviceId) -> Result<Device, StoreError>;
    /// Lets the device register again; grants nothing by itself.
    async fn unblock_device(&self, ctx: &WriteContext, vis: Visibility, device: DeviceId)
        -> Result<Device, StoreError>;
    /// Approves (grants a free seat) or rejects a waiting request.
    async fn decide_request(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        request: SeatRequestId,
        decision: Decision,
    ) -> Result<RequestDetails, StoreError>;
    /// Moves the seat of `from` to the waiting request, in one transaction.
    async fn reallocate_seat(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        request: SeatRequestId,
        from: DeviceId,
    ) -> Result<RequestDetails, StoreError>;
    async fn set_queue_policy(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        policy: QueuePolicy,
    ) -> Result<Pool, StoreError>;

    async fn pool(&self, vis: Visibility, id: PoolId) -> Result<Option<PoolDetails>, StoreError>;
    async fn pools(&self, vis: Visibility, filter: &PoolFilter) -> Result<Page<PoolDetails>, StoreError>;
    async fn device(&self, vis: Visibility, id: DeviceId) -> Result<Option<DeviceDetails>, StoreError>;
    async fn devices(&self, vis: Visibility, filter: &DeviceFilter) -> Result<Page<DeviceDetails>, StoreError>;
    async fn seat_requests(
        &self,
        vis: Visibility,
        pool: Option<PoolId>,
        page: PageRequest,
    ) -> Result<Page<RequestDetails>, StoreError>;
    /// A live seat and its device, for validating seat tokens.
    async fn seat(&self, id: SeatId) -> Result<Option<(Seat, Device)>, StoreError>;
    async fn seats_held_by_licence(&self, id: LicenceId) -> Result<u64, StoreError>;
    /// Records that a device was seen (at most once a minute) and returns its seat in the product's pool.
    async fn device_heartbeat(
        &self,
        organisation: OrganisationId,
        device: DeviceId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<Option<(Device, Seat)>, StoreError>;
    /// A pool's usage events, oldest first.
    async fn usage_events(&self, pool: PoolId) -> Result<Vec<UsageEvent>, StoreError>;

    // ------------------------------------------------------------ concurrent seats (leases)

    /// A member asks for a concurrent seat from a client: the seat it holds from
    /// that client (revived if lingering), a new one (a conditional update), a
    /// place in the queue, or a refusal — in one transaction.
    async fn checkout(&self, ctx: &WriteContext, checkout: &Checkout) -> Result<CheckoutOutcome, StoreError>;
    /// Renews a live lease of the organisation (of `user`, when given); `None` when
    /// it lapsed or ended. `activity` also moves the idle deadline.
    async fn renew_lease(
        &self,
        ctx: &WriteContext,
        organisation: OrganisationId,
        lease: LeaseId,
        user: Option<UserId>,
        activity: bool,
    ) -> Result<Option<(Lease, Pool)>, StoreError>;
    /// Ends a lease: a logout lingers when the pool says so; anything else frees
    /// the seat at once (to the oldest waiting request of an auto-granting pool).
    async fn end_lease(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        lease: LeaseId,
        reason: ReleaseReason,
    ) -> Result<(), StoreError>;
    /// Reclaims up to `limit` leases that lapsed, went idle or finished lingering
    /// at `ctx.now`; each exactly once, even with several processes reaping.
    async fn reap_leases(&self, ctx: &WriteContext, limit: u32) -> Result<u64, StoreError>;
    /// One pass of the licence lifecycle at `ctx.now`, in one transaction:
    /// renews up to `limit` due auto-renewing licences, sends up to `limit`
    /// "expiring soon" notices (once per licence and term) and stores as
    /// expired up to `limit` licences whose end passed, each with its audit
    /// entry, its notification and its pool's capacity change.
    async fn expire_licences(&self, ctx: &WriteContext, limit: u32) -> Result<LicenceSweep, StoreError>;
    async fn lease(&self, vis: Visibility, id: LeaseId) -> Result<Option<LeaseDetails>, StoreError>;
    async fn leases(&self, vis: Visibility, filter: &LeaseFilter) -> Result<Page<LeaseDetails>, StoreError>;
    async fn set_lease_settings(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        settings: LeaseSettings,
    ) -> Result<Pool, StoreError>;

    /// Stores a pool's low-seat alert and top-up settings (validated by the
    /// caller); a changed trigger starts armed and is checked at once.
    async fn set_pool_watch(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        watch: crate::watch::PoolWatch,
    ) -> Result<Pool, StoreError>;
    /// Approves (adds the seats) or dismisses the top-up waiting for approval.
    async fn settle_topup(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        approve: bool,
    ) -> Result<Pool, StoreError>;
    /// Buys `quantity` seats on `plan` for the pool: a new active licence of its
    /// organisation, priced from the product and ready to invoice.
    async fn buy_seats(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        pool: PoolId,
        quantity: i64,
        plan: crate::values::Plan,
    ) -> Result<Licence, StoreError>;
    /// Notifications, newest first, with how many of the visible ones are unread.
    async fn notifications(
        &self,
        vis: Visibility,
        filter: &NotificationFilter,
    ) -> Result<(Page<Notification>, u64), StoreError>;
    /// Marks one notification (or, with `None`, all of the visible ones) read.
    async fn mark_notifications_read(
        &self,
        vis: Visibility,
        id: Option<crate::ids::NotificationId>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// An organisation's e-mail recipients, in their order.
    async fn recipients(&self, vis: Visibility, organisation: OrganisationId) -> Result<Vec<Recipient>, StoreError>;
    /// Replaces an organisation's recipients (audited).
    async fn set_recipients(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        organisation: OrganisationId,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError>;
    /// Adds a webhook endpoint with its signing secret (audited, without the secret).
    async fn create_webhook(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        webhook: &NewWebhook,
    ) -> Result<Webhook, StoreError>;
    async fn webhook(&self, vis: Visibility, id: WebhookId) -> Result<Option<Webhook>, StoreError>;
    async fn webhooks(&self, vis: Visibility, filter: &ListFilter) -> Result<Page<Webhook>, StoreError>;
    async fn update_webhook(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        id: WebhookId,
        change: &WebhookChange,
    ) -> Result<Webhook, StoreError>;
    /// Removes an endpoint and its delivery log.
    async fn delete_webhook(&self, ctx: &WriteContext, vis: Visibility, id: WebhookId) -> Result<(), StoreError>;
    /// The outbox's deliveries, newest first.
    async fn deliveries(&self, vis: Visibility, filter: &DeliveryFilter) -> Result<Page<Delivery>, StoreError>;
    /// Queues a new delivery of the same notification to the same target.
    async fn replay_delivery(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        id: DeliveryId,
    ) -> Result<Delivery, StoreError>;
    /// Claims up to `limit` due deliveries for `lease_seconds`: no other
    /// process is handed them until the claim is finished or lapses. E-mails
    /// only with `email` (a process without an SMTP server leaves them queued).
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
        email: bool,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Records how a claimed delivery went: delivered, or failed and retried
    /// with backoff (given up after the last attempt). A webhook endpoint that
    /// keeps failing raises a `webhook_failing` notification. `false` when the
    /// claim had lapsed and another process owns the delivery now.
    async fn finish_delivery(
        &self,
        ctx: &WriteContext,
        id: DeliveryId,
        claim: uuid::Uuid,
        result: &DeliveryResult,
    ) -> Result<bool, StoreError>;

    /// Rolls up the whole UTC days before `until` (a midnight) that are not
    /// rolled yet, for up to `limit` pools; returns the days rolled. Safe to
    /// run on several processes at once: each day is rolled once.
    async fn roll_up_usage(&self, until: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
    /// The pool's day reports of `[from, to)` (midnights): from the rollups
    /// where rolled, integrated from raw events after.
    async fn usage_days(
        &self,
        pool: PoolId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::report::BucketReport>, StoreError>;
    /// The licences that added seats to the pool in `[from, to)`, oldest first.
    async fn pool_additions(
        &self,
        pool: PoolId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Addition>, StoreError>;
    /// Every visible organisation's additions in `[from, to)` per product and source.
    async fn additions(
        &self,
        vis: Visibility,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AdditionLine>, StoreError>;

    /// Invoices each visible licence of `licences` (at most 20) for its
    /// current billing period, in one transaction with the licences' billing
    /// status, the audit entries, the notifications and the owners' e-mails.
    /// A period invoiced before is reported, never billed again; a replayed
    /// idempotency claim returns the first request's results.
    async fn send_invoices(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        licences: &[LicenceId],
        claim: Option<&IdempotencyClaim>,
    ) -> Result<crate::wire::InvoiceBatch, StoreError>;
    async fn invoice(
        &self,
        vis: Visibility,
        id: crate::ids::InvoiceId,
    ) -> Result<Option<crate::wire::InvoiceView>, StoreError>;
    /// Invoices, newest first.
    async fn invoices(
        &self,
        vis: Visibility,
        filter: &InvoiceFilter,
    ) -> Result<Page<crate::wire::InvoiceView>, StoreError>;
    /// Marks a sent invoice paid (and its licence, when no other invoice of it is open).
    async fn mark_invoice_paid(
        &self,
        ctx: &WriteContext,
        vis: Visibility,
        id: crate::ids::InvoiceId,
    ) -> Result<crate::wire::InvoiceView, StoreError>;

    /// Stored signing keys (key id, PKCS#8 private key), newest first.
    async fn signing_keys(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Stores a signing key unless one exists already; returns the newest.
    async fn ensure_signing_key(
        &self,
        kid: &str,
        pkcs8: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), StoreError>;
}
