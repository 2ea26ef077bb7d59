//! Typed identifiers: a `LicenceId` can never be passed where an `OrganisationId` is meant.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    )*};
}

id_type!(
    /// An customer organisation (a tenant).
    OrganisationId,
    /// A person who signs in to the console.
    UserId,
    /// A product (SKU) whose seats are sold.
    ProductId,
    /// A grant of seats of one product.
    LicenceId,
    /// An integration's credential.
    ApiKeyId,
    /// A signed-in console session (refresh-token family).
    AuthSessionId,
    /// An append-only audit entry.
    AuditEntryId,
    /// The seats of one product in one organisation.
    PoolId,
    /// A customer's device, known by its fingerprint.
    DeviceId,
    /// A seat held by a device or a session.
    SeatId,
    /// A device waiting for a seat.
    SeatRequestId,
    /// A member's concurrent seat: a lease that lapses unless renewed.
    LeaseId,
    /// A member waiting for a concurrent seat.
    LeaseRequestId,
    /// Something an organisation's admins should know.
    NotificationId,
    /// A webhook endpoint of an organisation.
    WebhookId,
    /// One e-mail or webhook delivery of a notification.
    DeliveryId,
    /// An invoice of one licence's period.
    InvoiceId,
);
