//! Telling people what happened: e-mail recipients and their toggles, the
//! delivery outbox's retry schedule, and webhook signatures.
//!
//! Every notification is written once, in the transaction of the change that
//! caused it, together with one outbox row per recipient and endpoint that
//! wants it; a worker delivers the rows. The rules here decide who wants what,
//! when a failed delivery is tried again, and how a receiver proves a webhook
//! came from us.

use crate::error::FieldError;
use crate::ids::PoolId;
use crate::values::{Email, EventKind};
use crate::wire::RecipientInput;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeSet;

/// At most this many recipients per organisation.
pub const MAX_RECIPIENTS: usize = 50;

/// A delivery is given up after this many failed attempts.
pub const MAX_ATTEMPTS: u32 = 8;

/// A webhook endpoint that failed this many deliveries in a row raises a
/// `webhook_failing` notification (once, until it succeeds again).
pub const FAILING_AFTER: u32 = 3;

/// A receiver should refuse signatures older than this (replayed requests).
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "Leasehold-Signature";

/// Someone who is e-mailed about some events, of every pool or of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: Email,
    pub events: BTreeSet<EventKind>,
    /// Only about this pool; `None`: about all of the organisation's pools
    /// (and about what concerns no pool).
    pub pool_id: Option<PoolId>,
}

impl Recipient {
    /// Whether this recipient wants an event of `kind` about `pool`.
    pub fn wants(&self, kind: EventKind, pool: Option<PoolId>) -> bool {
        self.events.contains(&kind) && (self.pool_id.is_none() || self.pool_id == pool)
    }
}

/// Whether a webhook endpoint filtering on `events` (empty: all of them) is
/// sent an event of `kind`; an endpoint's own failures never are.
pub fn endpoint_wants(events: &BTreeSet<EventKind>, kind: EventKind) -> bool {
    kind != EventKind::WebhookFailing && (events.is_empty() || events.contains(&kind))
}

/// Parses event kinds, recording each unknown one against `field`.
pub fn parse_events(names: &[String], field: &str, errors: &mut Vec<FieldError>) -> BTreeSet<EventKind> {
    let mut kinds = BTreeSet::new();
    for name in names {
        match EventKind::parse(name) {
            Some(kind) => {
                kinds.insert(kind);
            }
            None => errors.push(FieldError::new(
                field,
                "unknown_event",
                &format!("{name:?} is not an event"),
            )),
        }
    }
    kinds
}

/// The events a new recipient gets when the request names none: the ones that
/// need someone to act.
pub const DEFAULT_EVENTS: &[EventKind] = &[
    EventKind::LowSeats,
    EventKind::TopupAwaitingApproval,
    EventKind::ExpiringSoon,
    EventKind::Expired,
    EventKind::DeviceRequest,
];

/// Checks a whole list of recipients (it replaces the organisation's list):
/// valid, distinct addresses, known events, at most [`MAX_RECIPIENTS`].
pub fn validate_recipients(input: &[RecipientInput]) -> Result<Vec<Recipient>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if input.len() > MAX_RECIPIENTS {
        errors.push(FieldError::new(
            "recipients",
            "too_many",
            &format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut recipients = Vec::new();
    for (index, RecipientInput { email, events, pool_id }) in input.iter().enumerate() {
        let field = |name: &str| format!("recipients[{index}].{name}");
        let email = match Email::parse(email) {
            Ok(email) => email,
            Err(error) => {
                errors.push(FieldError::new(&field("email"), &error.code, &error.message));
                continue;
            }
        };
        if !seen.insert((email.as_str().to_owned(), *pool_id)) {
            errors.push(FieldError::new(&field("email"), "duplicate", "is listed twice"));
            continue;
        }
        let events = match events {
            None => DEFAULT_EVENTS.iter().copied().collect(),
            Some(names) => parse_events(names, &field("events"), &mut errors),
        };
        recipients.push(Recipient {
            email,
            events,
            pool_id: *pool_id,
        });
    }
    if errors.is_empty() {
        Ok(recipients)
    } else {
        Err(errors)
    }
}

/// Checks a webhook endpoint's URL: http or https with a host. Plain http is
/// allowed (receivers on a private network, tests); the README says to use https.
pub fn validate_webhook_url(url: &str) -> Result<String, FieldError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| FieldError::new("url", "invalid_url", "must start with https:// or http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.chars().any(char::is_whitespace) || url.len() > 2000 {
        return Err(FieldError::new("url", "invalid_url", "is not a URL"));
    }
    Ok(url.to_owned())
}

/// When to try a delivery again after its `attempts`-th failure, or `None` to
/// give up: 10 s, 20 s, 40 s… doubling, at most an hour apart.
pub fn next_attempt(attempts: u32, failed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let seconds = 10_i64.saturating_mul(1 << attempts.saturating_sub(1).min(20)).min(3600);
    Some(failed_at + Duration::seconds(seconds))
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Leasehold-Signature` header of a webhook: `t=<unix seconds>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is older than the tolerance")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// What a receiver runs: the header must sign this body under `secret`, within
/// [`SIGNATURE_TOLERANCE_SECONDS`] of `now`. Compares in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now.timestamp() - timestamp).abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let header = sign("whsec_1", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify("whsec_1", &header, b"{\"a\":1}", at(1_700_000_010)), Ok(()));
        assert_eq!(
            verify("whsec_1", &header, b"{\"a\":2}", at(1_700_000_010)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_2", &header, b"{\"a\":1}", at(1_700_000_010)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_1", &header, b"{\"a\":1}", at(1_700_000_400)),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify("whsec_1", "v1=zz", b"", at(0)), Err(SignatureError::Malformed));
        assert_eq!(verify("whsec_1", "t=5", b"", at(5)), Err(SignatureError::Malformed));
        // A forged timestamp with the old signature fails: the time is signed too.
        let forged = header.replace("t=1700000000", "t=1700000300");
        assert_eq!(
            verify("whsec_1", &forged, b"{\"a\":1}", at(1_700_000_300)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn retries_back_off_doubling_up_to_an_hour_then_give_up() {
        let t = at(0);
        let delays: Vec<i64> = (1..MAX_ATTEMPTS)
            .filter_map(|n| next_attempt(n, t))
            .map(|next| (next - t).num_seconds())
            .collect();
        assert_eq!(delays, vec![10, 20, 40, 80, 160, 320, 640]);
        assert_eq!(next_attempt(MAX_ATTEMPTS, t), None);
        assert_eq!(next_attempt(0, t).map(|next| (next - t).num_seconds()), Some(10));
    }

    fn input(email: &str, events: Option<&[&str]>, pool_id: Option<PoolId>) -> RecipientInput {
        RecipientInput {
            email: email.into(),
            events: events.map(|e| e.iter().map(|s| s.to_string()).collect()),
            pool_id,
        }
    }

    #[test]
    fn recipients_are_checked_as_a_whole_list() {
        let pool = PoolId::from_uuid(uuid::Uuid::now_v7());
        let list = validate_recipients(&[
            input("Ops@Example.com", None, None),
            input("cfo@example.com", Some(&["invoice_sent"]), Some(pool)),
        ]);
        let Ok(list) = list else {
            panic!("valid recipients were refused: {list:?}")
        };
        assert_eq!(list[0].email.as_str(), "ops@example.com");
        assert!(list[0].wants(EventKind::LowSeats, Some(pool)));
        assert!(!list[0].wants(EventKind::InvoiceSent, None));
        assert!(list[1].wants(EventKind::InvoiceSent, Some(pool)));
        assert!(
            !list[1].wants(EventKind::InvoiceSent, None),
            "a pool's recipient hears only of that pool"
        );

        let Err(errors) = validate_recipients(&[
            input("a@example.com", None, None),
            input("A@example.com", None, None),
            input("not-an-address", None, None),
            input("b@example.com", Some(&["low_seats", "lunch"]), None),
        ]) else {
            panic!("invalid recipients were accepted")
        };
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![
                ("recipients[1].email", "duplicate"),
                ("recipients[2].email", "invalid_email"),
                ("recipients[3].events", "unknown_event"),
            ]
        );
    }

    #[test]
    fn endpoints_get_what_they_filter_on_but_never_their_own_failures() {
        let all = BTreeSet::new();
        let low: BTreeSet<EventKind> = [EventKind::LowSeats].into_iter().collect();
        assert!(endpoint_wants(&all, EventKind::Expired) && endpoint_wants(&low, EventKind::LowSeats));
        assert!(!endpoint_wants(&low, EventKind::Expired));
        assert!(!endpoint_wants(&all, EventKind::WebhookFailing));
    }

    #[test]
    fn webhook_urls_need_a_scheme_and_a_host() {
        assert_eq!(
            validate_webhook_url(" https://hooks.example.com/x "),
            Ok("https://hooks.example.com/x".into())
        );
        assert!(validate_webhook_url("http://127.0.0.1:9000/hook").is_ok());
        for bad in ["ftp://x", "https://", "hooks.example.com", "https:// spaced.example"] {
            assert!(validate_webhook_url(bad).is_err(), "{bad} was accepted");
        }
    }
}
