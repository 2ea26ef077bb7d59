//! Typed, layered configuration: defaults → `leasehold.toml` (or the file named by
//! `LEASEHOLD_CONFIG`) → `LEASEHOLD__*` environment variables → the two variables
//! of the public contract, `LEASEHOLD_DATABASE_URL` and `LEASEHOLD_BIND`.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

const DEFAULT_MAIL_FROM: &str = "Leasehold <notifications@leasehold.invalid>";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `sqlite:<path>` (created if missing) or `postgres://…`.
    pub database_url: SecretString,
    pub bind: String,
    /// The built SPA; served at `/` when the directory exists.
    pub frontend_dir: PathBuf,
    pub log_format: LogFormat,
    /// Lifetime of an access token.
    pub access_token_seconds: i64,
    /// Lifetime of a console session (its refresh tokens).
    pub session_days: i64,
    /// Window of the licences' "expiring soon" filter.
    pub expiring_soon_days: i64,
    /// Lifetime of a seat token; apps renew it with heartbeats.
    pub seat_token_hours: i64,
    /// How often the reaper reclaims lapsed leases.
    pub reaper_interval_seconds: u64,
    /// Sign-in attempts per minute per client address.
    pub login_per_minute: u32,
    /// Coupon redemption attempts per minute per client address.
    pub redeem_per_minute: u32,
    /// Requests per minute per API key (device registration, checkouts,
    /// heartbeats of a fleet or an integration).
    pub api_key_per_minute: u32,
    /// API requests a process works on at once; more are answered 503
    /// `overloaded` with `Retry-After` at once instead of queueing.
    pub max_in_flight: usize,
    /// Failed sign-ins for one e-mail address, within `lockout_minutes`,
    /// that lock its sign-in for `lockout_minutes`.
    pub lockout_failures: u32,
    pub lockout_minutes: i64,
    /// SQLite `synchronous=FULL` (power-loss durable) instead of `NORMAL`.
    pub sqlite_durable: bool,
    /// Database connections per process (SQLite: readers).
    pub max_connections: u32,
    /// The SMTP server e-mail notifications go through: `smtps://user:pass@host`
    /// (TLS), `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtp://host:port` (plain, for a local relay). Without it e-mails stay
    /// queued in the outbox.
    pub smtp_url: Option<SecretString>,
    /// The sender of e-mail notifications.
    pub mail_from: String,
    /// Where people reach the console, for links in e-mails.
    pub public_url: Option<String>,
    /// How often the outbox worker looks for due deliveries.
    pub delivery_interval_ms: u64,
}

impl Settings {
    pub fn load() -> Result<Self, config::ConfigError> {
        let file = std::env::var("LEASEHOLD_CONFIG").unwrap_or_else(|_| "leasehold.toml".to_owned());
        let mut builder = config::Config::builder()
            .set_default("database_url", "sqlite:leasehold.db")?
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("frontend_dir", "frontend/dist")?
            .set_default("log_format", "pretty")?
            .set_default("access_token_seconds", 900)?
            .set_default("session_days", 30)?
            .set_default(
                "expiring_soon_days",
                leasehold_core::licence::DEFAULT_EXPIRING_SOON_DAYS,
            )?
            .set_default("seat_token_hours", 72)?
            .set_default("reaper_interval_seconds", 5)?
            .set_default("login_per_minute", 10)?
            .set_default("redeem_per_minute", 10)?
            .set_default("api_key_per_minute", 6000)?
            .set_default("max_in_flight", 512)?
            .set_default("lockout_failures", 5)?
            .set_default("lockout_minutes", 15)?
            .set_default("sqlite_durable", false)?
            .set_default("max_connections", 8)?
            .set_default("mail_from", DEFAULT_MAIL_FROM)?
            .set_default("delivery_interval_ms", 1000)?
            .add_source(config::File::with_name(&file).required(false))
            .add_source(
                config::Environment::with_prefix("LEASEHOLD")
                    .prefix_separator("__")
                    .separator("__"),
            );
        if let Ok(url) = std::env::var("LEASEHOLD_DATABASE_URL") {
            builder = builder.set_override("database_url", url)?;
        }
        if let Ok(bind) = std::env::var("LEASEHOLD_BIND") {
            builder = builder.set_override("bind", bind)?;
        }
        builder.build()?.try_deserialize()
    }

    /// Defaults for tests and tools: an explicit database, an ephemeral port.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: SecretString::from(database_url.to_owned()),
            bind: "127.0.0.1:0".into(),
            frontend_dir: PathBuf::from("frontend/dist"),
            log_format: LogFormat::Pretty,
            access_token_seconds: 900,
            session_days: 30,
            expiring_soon_days: leasehold_core::licence::DEFAULT_EXPIRING_SOON_DAYS,
            seat_token_hours: 72,
            reaper_interval_seconds: 5,
            login_per_minute: 1000,
            redeem_per_minute: 1000,
            // Tests and benchmarks drive thousands of requests through one key.
            api_key_per_minute: 100_000_000,
            max_in_flight: 100_000,
            lockout_failures: 5,
            lockout_minutes: 15,
            sqlite_durable: false,
            max_connections: 8,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            public_url: None,
            delivery_interval_ms: 1000,
        }
    }

    pub fn store_options(&self) -> leasehold_store::StoreOptions {
        leasehold_store::StoreOptions {
            max_connections: self.max_connections,
            sqlite_durable: self.sqlite_durable,
        }
    }
}
