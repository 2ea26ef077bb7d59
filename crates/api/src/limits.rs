//! Rate limits on the endpoints that guess secrets: sign-in and coupon
//! redemption, keyed by client address (GCRA via `governor`). Limits are per
//! process; behind a load balancer each node enforces its own share.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct Limits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    redeem: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(n))
}

fn check(limiter: &DefaultKeyedRateLimiter<IpAddr>, ip: IpAddr) -> Result<(), ApiError> {
    limiter.check_key(&ip).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::RateLimited {
            retry_after_seconds: wait.as_secs().max(1),
        }
    })
}

impl Limits {
    pub fn new(login_per_minute: u32, redeem_per_minute: u32) -> Self {
        Self {
            login: per_minute(login_per_minute),
            redeem: per_minute(redeem_per_minute),
        }
    }

    pub fn login(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.login, ip)
    }

    pub fn redeem(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.redeem, ip)
    }
}
