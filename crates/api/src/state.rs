//! What every handler shares.

use crate::auth::Tokens;
use crate::config::Settings;
use crate::limits::Limits;
use chrono::{DateTime, SubsecRound, Utc};
use leasehold_core::ports::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<Tokens>,
    pub settings: Arc<Settings>,
    pub limits: Arc<Limits>,
    pub deliverer: Arc<crate::delivery::Deliverer>,
}

impl AppState {
    /// Now, to the microsecond: what both engines store, so a value read back
    /// equals the value written.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
