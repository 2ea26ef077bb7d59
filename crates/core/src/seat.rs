//! Pools, devices, seats and the request queue. The rules that must hold under
//! concurrency (never more held than capacity; every freed seat goes to the
//! oldest waiting request when the policy says so) are enforced by the store in
//! single transactions; these types describe their results.

use crate::ids::{DeviceId, LicenceId, OrganisationId, PoolId, ProductId, SeatId, SeatRequestId};
use crate::values::{QueuePolicy, RequestState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The seats of one product in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub id: PoolId,
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    /// The quantities of the organisation's active licences of the product.
    pub capacity: i64,
    pub held: i64,
    pub queue_policy: QueuePolicy,
    pub created_at: DateTime<Utc>,
}

impl Pool {
    /// Free seats; zero when over capacity.
    pub fn available(&self) -> i64 {
        (self.capacity - self.held).max(0)
    }

    /// More seats are held than the licences allow (after a pause, expiry or
    /// deletion): nothing more is granted until enough are released.
    pub fn over_capacity(&self) -> bool {
        self.held > self.capacity
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: DeviceId,
    pub organisation_id: OrganisationId,
    pub fingerprint: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub blocked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub id: SeatId,
    pub pool_id: PoolId,
    pub licence_id: LicenceId,
    pub device_id: DeviceId,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatRequest {
    pub id: SeatRequestId,
    pub pool_id: PoolId,
    pub device_id: DeviceId,
    pub state: RequestState,
    pub requested_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub seat_id: Option<SeatId>,
}

/// What a device asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRegistration {
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub fingerprint: String,
    pub name: String,
}

/// What a registration came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// The device holds a seat; `new` is false when it held it already.
    Granted {
        device: Device,
        seat: Seat,
        pool: Pool,
        new: bool,
    },
    /// No seat was free: the device waits at `position` (1 = next).
    Queued {
        device: Device,
        request: SeatRequest,
        position: u64,
    },
    /// No seat was free and the pool refuses to queue.
    Refused { pool: Pool },
    /// The device is blocked in this organisation.
    Blocked,
}

/// An administrator's answer to a waiting request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Checks a device's self-description.
pub fn parse_fingerprint(input: &str) -> Result<String, crate::FieldError> {
    let fingerprint = input.trim();
    if fingerprint.len() < 4 || fingerprint.len() > 200 || fingerprint.chars().any(char::is_control) {
        return Err(crate::FieldError::new(
            "fingerprint",
            "invalid_fingerprint",
            "4–200 printable characters",
        ));
    }
    Ok(fingerprint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn availability_never_goes_negative() {
        let mut pool = Pool {
            id: PoolId::from_uuid(Uuid::nil()),
            organisation_id: OrganisationId::from_uuid(Uuid::nil()),
            product_id: ProductId::from_uuid(Uuid::nil()),
            capacity: 3,
            held: 1,
            queue_policy: QueuePolicy::AutoGrant,
            created_at: Utc::now(),
        };
        assert_eq!((pool.available(), pool.over_capacity()), (2, false));
        pool.capacity = 0;
        assert_eq!((pool.available(), pool.over_capacity()), (0, true));
    }

    #[test]
    fn fingerprints_are_printable_and_bounded() {
        assert!(parse_fingerprint("  mac-00:11:22  ").is_ok_and(|f| f == "mac-00:11:22"));
        assert!(parse_fingerprint("abc").is_err());
        assert!(parse_fingerprint("bad\nline").is_err());
    }
}
