//! Leasehold's domain, free of I/O so that the server, the SPA (wasm) and the
//! device agent share one definition of every rule and every wire type.
//!
//! - [`ids`]: typed identifiers (`LicenceId`, `OrganisationId`, …).
//! - [`values`]: validated values (`CouponCode`, `Quantity`, `Email`, …) and enums.
//! - [`licence`]: the licence lifecycle, billing and money rules.
//! - [`seat`]: pools, devices, seats and the request queue.
//! - [`watch`]: pools' low-seat alerts and automatic top-ups.
//! - [`notify`]: e-mail recipients, the delivery outbox's retries, webhook signatures.
//! - [`report`]: pool reports integrated exactly from usage events.
//! - [`access`]: who is asking and what they may see.
//! - [`audit`]: the audit log's hash chain and its verification.
//! - [`error`]: the domain's typed errors, each with a stable code.
//! - [`wire`]: request and response bodies of the public API.
//! - [`ports`]: what storage must provide (implemented by `leasehold-store`).

pub mod access;
pub mod audit;
pub mod error;
pub mod ids;
pub mod licence;
pub mod notify;
pub mod ports;
pub mod report;
pub mod seat;
pub mod values;
pub mod watch;
pub mod wire;

pub use error::{DomainError, FieldError};
