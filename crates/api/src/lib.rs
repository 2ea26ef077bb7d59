//! Leasehold's HTTP API and the `leasehold` binary's commands.
//!
//! Layers, outside in: `routes` (thin actix handlers, one file per resource,
//! documented with utoipa) → `service` (use cases: permissions, validation, the
//! change set and its audit entries) → `leasehold_core::ports::Store`.

pub mod auth;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod limits;
pub mod openapi;
pub mod overload;
pub mod routes;
pub mod security;
pub mod service;
pub mod spa;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
