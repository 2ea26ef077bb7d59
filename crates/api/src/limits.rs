//! Rate limits (GCRA via `governor`): sign-in and coupon redemption per
//! client address (they guess secrets), and every request made with an API
//! key per key (integrations and device fleets: registration, checkout,
//! heartbeats). Limits are per process; behind a load balancer each node
//! enforces its own share.
//!
//! Each decision is told to the client: `RateLimit-Limit` (requests per
//! minute), `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the
//! allowance is whole again) on every limited response, and `Retry-After`
//! with the 429 `rate_limited` problem.

use crate::error::ApiError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use leasehold_core::ids::ApiKeyId;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// One limiter's decision for one request, for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: u32,
    pub remaining: u32,
    pub reset_seconds: u64,
}

impl RateState {
    /// Writes the `RateLimit-*` headers.
    pub fn write(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("ratelimit-limit", u64::from(self.limit)),
            ("ratelimit-remaining", u64::from(self.remaining)),
            ("ratelimit-reset", self.reset_seconds),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

struct Limit<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>,
    per_minute: u32,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>(),
            per_minute: n.get(),
        }
    }

    fn check(&self, key: &K) -> Result<RateState, ApiError> {
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                // Each used request comes back after 60 / limit seconds.
                let used = u64::from(self.per_minute.saturating_sub(remaining));
                Ok(RateState {
                    limit: self.per_minute,
                    remaining,
                    reset_seconds: (used * 60).div_ceil(u64::from(self.per_minute)),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    retry_after_seconds: wait.as_secs().max(1),
                    limit: self.per_minute,
                })
            }
        }
    }
}

pub struct Limits {
    login: Limit<IpAddr>,
    redeem: Limit<IpAddr>,
    api_key: Limit<ApiKeyId>,
}

impl Limits {
    pub fn new(login_per_minute: u32, redeem_per_minute: u32, api_key_per_minute: u32) -> Self {
        Self {
            login: Limit::per_minute(login_per_minute),
            redeem: Limit::per_minute(redeem_per_minute),
            api_key: Limit::per_minute(api_key_per_minute),
        }
    }

    pub fn login(&self, ip: IpAddr) -> Result<RateState, ApiError> {
        self.login.check(&ip)
    }

    pub fn redeem(&self, ip: IpAddr) -> Result<RateState, ApiError> {
        self.redeem.check(&ip)
    }

    pub fn api_key(&self, key: ApiKeyId) -> Result<RateState, ApiError> {
        self.api_key.check(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_counts_down_then_says_when_to_come_back() {
        let limits = Limits::new(3, 1, 1);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let states: Vec<_> = (0..3).map(|_| limits.login(ip)).collect();
        let remaining: Vec<_> = states.iter().map(|s| s.as_ref().map(|s| s.remaining).ok()).collect();
        assert_eq!(remaining, [Some(2), Some(1), Some(0)]);
        assert_eq!(
            states[2].as_ref().map(|s| (s.limit, s.reset_seconds)).ok(),
            Some((3, 60))
        );
        match limits.login(ip) {
            Err(ApiError::RateLimited {
                retry_after_seconds,
                limit,
            }) => {
                assert!(
                    (1..=20).contains(&retry_after_seconds) && limit == 3,
                    "{retry_after_seconds}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Another address, and the other limiters, are untouched.
        assert!(limits.login([10, 0, 0, 2].into()).is_ok());
        assert!(limits.redeem(ip).is_ok());
    }
}
