//! Pools, devices, seats and the request queue. The rules that must hold under
//! concurrency (never more held than capacity; every freed seat goes to the
//! oldest waiting request when the policy says so) are enforced by the store in
//! single transactions; these types describe their results.

use crate::ids::{
    DeviceId, LeaseId, LeaseRequestId, LicenceId, OrganisationId, PoolId, ProductId, SeatId, SeatRequestId, UserId,
};
use crate::values::{QueuePolicy, RequestState};
use crate::FieldError;
use chrono::Duration;
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
    /// How concurrent seats of this pool are leased.
    pub lease: LeaseSettings,
    /// The low-seat alert and the automatic top-up.
    pub watch: crate::watch::PoolWatch,
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

/// How a pool leases concurrent seats. The defaults suit a practice: a
/// 15-minute lease renewed every 7½ minutes, 2 minutes' grace for a late
/// heartbeat, no idle timeout, no linger after logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseSettings {
    pub lease_seconds: i64,
    pub grace_seconds: i64,
    /// Reclaim a seat whose client reports no activity for this long.
    pub idle_seconds: Option<i64>,
    /// Keep a logged-out seat this long for the same client to come back to.
    pub linger_seconds: i64,
}

impl LeaseSettings {
    pub const DEFAULT: LeaseSettings = LeaseSettings {
        lease_seconds: 900,
        grace_seconds: 120,
        idle_seconds: None,
        linger_seconds: 0,
    };

    /// Checks bounds: a lease of 1 minute to 24 hours, grace up to the lease,
    /// idle timeout of 1 minute to 7 days, linger up to 1 hour.
    pub fn check(self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(60..=86_400).contains(&self.lease_seconds) {
            errors.push(FieldError::new(
                "lease_seconds",
                "out_of_range",
                "must be between 60 and 86400",
            ));
        }
        if self.grace_seconds < 0 || self.grace_seconds > self.lease_seconds {
            errors.push(FieldError::new(
                "grace_seconds",
                "out_of_range",
                "must be between 0 and the lease length",
            ));
        }
        if self.idle_seconds.is_some_and(|idle| !(60..=604_800).contains(&idle)) {
            errors.push(FieldError::new(
                "idle_seconds",
                "out_of_range",
                "must be between 60 and 604800",
            ));
        }
        if !(0..=3_600).contains(&self.linger_seconds) {
            errors.push(FieldError::new(
                "linger_seconds",
                "out_of_range",
                "must be between 0 and 3600",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// When a lease renewed at `at` lapses: the lease and its grace.
    pub fn expires_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::seconds(self.lease_seconds + self.grace_seconds)
    }

    /// When the client should renew: half-way through the lease, so one missed
    /// heartbeat still leaves a second chance before the lease ends.
    pub fn next_heartbeat_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::seconds(self.lease_seconds / 2)
    }

    /// When a lease whose client was last active at `at` goes idle.
    pub fn idle_expires_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.idle_seconds.map(|idle| at + Duration::seconds(idle))
    }
}

/// A member's concurrent seat from one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub id: LeaseId,
    pub pool_id: PoolId,
    pub licence_id: LicenceId,
    pub user_id: UserId,
    pub client_id: String,
    pub granted_at: DateTime<Utc>,
    pub last_heartbeat_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_expires_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub linger_until: Option<DateTime<Utc>>,
}

/// What support sees of a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeaseState {
    /// Renewed on time.
    Active,
    /// Past its lease, in grace: the next heartbeat saves it, or the reaper takes it.
    Lapsing,
    /// Renewed, but its client reports no activity for half the idle timeout.
    Idle,
    /// Logged out, held a little longer for the same client.
    Lingering,
}

impl Lease {
    /// What an online check of this lease's token answers at `now` (the code of
    /// [`crate::wire::SeatValidity`]): a seat logged out, idle past the pool's
    /// timeout or lapsed no longer holds, even before the reaper takes it.
    pub fn validity_at(&self, now: DateTime<Utc>) -> &'static str {
        if self.released_at.is_some() {
            "seat_released"
        } else if self.idle_expires_at.is_some_and(|idle| idle <= now) {
            "seat_idle"
        } else if self.expires_at <= now {
            "seat_revoked"
        } else {
            "valid"
        }
    }

    pub fn state_at(&self, now: DateTime<Utc>, settings: &LeaseSettings) -> LeaseState {
        if self.released_at.is_some() {
            return LeaseState::Lingering;
        }
        if now > self.last_heartbeat_at + Duration::seconds(settings.lease_seconds) {
            return LeaseState::Lapsing;
        }
        match settings.idle_seconds {
            Some(idle) if now > self.last_activity_at + Duration::seconds(idle / 2) => LeaseState::Idle,
            _ => LeaseState::Active,
        }
    }
}

/// A member (or an integration acting for one) asks for a concurrent seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub organisation_id: OrganisationId,
    pub product_id: ProductId,
    pub user_id: UserId,
    pub client_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// The member holds a seat from this client; `new` is false for the seat it held already.
    Granted {
        lease: Lease,
        pool: Pool,
        new: bool,
    },
    Queued {
        request_id: LeaseRequestId,
        position: u64,
    },
    Refused {
        pool: Pool,
    },
}

/// Checks a client's self-description (an installation id, a browser tab id…).
pub fn parse_client_id(input: &str) -> Result<String, FieldError> {
    let client = input.trim();
    if client.is_empty() || client.len() > 200 || client.chars().any(char::is_control) {
        return Err(FieldError::new(
            "client_id",
            "invalid_client_id",
            "1–200 printable characters",
        ));
    }
    Ok(client.to_owned())
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
            lease: LeaseSettings::DEFAULT,
            watch: crate::watch::PoolWatch::default(),
            created_at: Utc::now(),
        };
        assert_eq!((pool.available(), pool.over_capacity()), (2, false));
        pool.capacity = 0;
        assert_eq!((pool.available(), pool.over_capacity()), (0, true));
    }

    #[test]
    fn a_lease_validates_until_released_idle_or_lapsed() {
        let at = Utc::now();
        let lease = Lease {
            id: LeaseId::from_uuid(Uuid::nil()),
            pool_id: PoolId::from_uuid(Uuid::nil()),
            licence_id: LicenceId::from_uuid(Uuid::nil()),
            user_id: UserId::from_uuid(Uuid::nil()),
            client_id: "tab-1".into(),
            granted_at: at,
            last_heartbeat_at: at,
            last_activity_at: at,
            expires_at: at + Duration::seconds(600),
            idle_expires_at: Some(at + Duration::seconds(300)),
            released_at: None,
            linger_until: None,
        };
        assert_eq!(lease.validity_at(at + Duration::seconds(299)), "valid");
        assert_eq!(lease.validity_at(at + Duration::seconds(300)), "seat_idle");
        let busy = Lease {
            idle_expires_at: None,
            ..lease.clone()
        };
        assert_eq!(busy.validity_at(at + Duration::seconds(599)), "valid");
        assert_eq!(busy.validity_at(at + Duration::seconds(600)), "seat_revoked");
        let lingering = Lease {
            released_at: Some(at),
            linger_until: Some(at + Duration::seconds(60)),
            ..lease
        };
        assert_eq!(lingering.validity_at(at), "seat_released");
    }

    #[test]
    fn leases_lapse_after_lease_and_grace_and_renew_half_way() {
        let at = Utc::now();
        let settings = LeaseSettings::DEFAULT;
        assert_eq!(settings.expires_at(at), at + Duration::seconds(1020));
        assert_eq!(settings.next_heartbeat_at(at), at + Duration::seconds(450));
        assert_eq!(settings.idle_expires_at(at), None);
        let lease = Lease {
            id: LeaseId::from_uuid(Uuid::nil()),
            pool_id: PoolId::from_uuid(Uuid::nil()),
            licence_id: LicenceId::from_uuid(Uuid::nil()),
            user_id: UserId::from_uuid(Uuid::nil()),
            client_id: "tab-1".into(),
            granted_at: at,
            last_heartbeat_at: at,
            last_activity_at: at,
            expires_at: settings.expires_at(at),
            idle_expires_at: None,
            released_at: None,
            linger_until: None,
        };
        assert_eq!(
            lease.state_at(at + Duration::seconds(899), &settings),
            LeaseState::Active
        );
        assert_eq!(
            lease.state_at(at + Duration::seconds(901), &settings),
            LeaseState::Lapsing
        );
        let idle = LeaseSettings {
            idle_seconds: Some(600),
            ..settings
        };
        assert_eq!(lease.state_at(at + Duration::seconds(301), &idle), LeaseState::Idle);
        assert!(LeaseSettings {
            grace_seconds: 1000,
            ..settings
        }
        .check()
        .is_err());
        assert!(LeaseSettings {
            lease_seconds: 30,
            ..settings
        }
        .check()
        .is_err());
        assert!(settings.check().is_ok());
    }

    #[test]
    fn fingerprints_are_printable_and_bounded() {
        assert!(parse_fingerprint("  mac-00:11:22  ").is_ok_and(|f| f == "mac-00:11:22"));
        assert!(parse_fingerprint("abc").is_err());
        assert!(parse_fingerprint("bad\nline").is_err());
    }
}
