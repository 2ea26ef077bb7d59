//! `leasehold-agent`: what a device app does with Leasehold, from a shell.
//! It keeps its state (device, seat token, the server's public keys) in a JSON
//! file so that `verify` works without the network.

use clap::{Parser, Subcommand};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use leasehold_client::{Checkout, Client, Registration};
use leasehold_core::ids::{DeviceId, ProductId, UserId};
use leasehold_core::wire::{CreateSession, Jwks, RegisterDevice, SeatClaims, SeatGrant, SessionGrant};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "leasehold-agent", version, about = "A Leasehold device agent")]
struct Cli {
    /// The Leasehold server.
    #[arg(long, env = "LEASEHOLD_URL", default_value = "http://127.0.0.1:8080", global = true)]
    server: String,
    /// An organisation's API key with the devices:register scope.
    #[arg(long, env = "LEASEHOLD_API_KEY", global = true, hide_env_values = true)]
    key: Option<String>,
    /// Where the agent keeps its device, token and the server's keys.
    #[arg(
        long,
        env = "LEASEHOLD_AGENT_STATE",
        default_value = "leasehold-agent.json",
        global = true
    )]
    state: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ask for a seat; with --wait, keep asking until one is granted.
    Register {
        #[arg(long)]
        product: ProductId,
        /// Defaults to this machine's host name.
        #[arg(long)]
        fingerprint: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Seconds between attempts while queued.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Print the seat token and its claims.
    Token,
    /// Verify the seat token offline, against the keys saved at registration.
    Verify,
    /// Renew the seat token (the server says if the seat was revoked).
    Heartbeat {
        /// Keep renewing every N seconds until interrupted.
        #[arg(long)]
        every: Option<u64>,
    },
    /// Give the seat back.
    Release,
    /// A desktop app's concurrent seat: check out, renew in a loop, release on
    /// Ctrl-C (or after --for seconds).
    Session {
        #[arg(long)]
        product: ProductId,
        /// The member (needed with an integration key that has sessions:write).
        #[arg(long)]
        user: Option<UserId>,
        /// This installation; defaults to the host name.
        #[arg(long)]
        client: Option<String>,
        /// Release after this many seconds instead of waiting for Ctrl-C.
        #[arg(long = "for")]
        duration: Option<u64>,
        /// Renew every N seconds instead of when the server asks.
        #[arg(long)]
        every: Option<u64>,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    product_id: Option<ProductId>,
    fingerprint: Option<String>,
    device_id: Option<DeviceId>,
    grant: Option<SeatGrant>,
    jwks: Option<Jwks>,
}

impl State {
    fn load(path: &PathBuf) -> State {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &PathBuf) -> Result<(), String> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

fn client_for(cli: &Cli) -> Result<Client, String> {
    let key = cli
        .key
        .as_deref()
        .ok_or("set LEASEHOLD_API_KEY (or --key) to an API key with devices:register")?;
    Ok(Client::new(&cli.server).with_token(key))
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| name.len() >= 4)
        .unwrap_or_else(|| format!("device-{}", uuid::Uuid::new_v4().simple()))
}

/// Checks a seat token's signature and expiry against saved keys, without the network.
fn verify_offline(token: &str, jwks: &Jwks) -> Result<SeatClaims, String> {
    let kid = jsonwebtoken::decode_header(token)
        .map_err(|e| format!("not a token: {e}"))?
        .kid;
    let jwk = jwks
        .keys
        .iter()
        .find(|k| Some(&k.kid) == kid.as_ref())
        .ok_or("signed with an unknown key")?;
    let key = DecodingKey::from_ed_components(&jwk.x).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["leasehold-seat"]);
    validation.set_issuer(&["leasehold"]);
    jsonwebtoken::decode::<SeatClaims>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| format!("invalid: {e}"))
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut state = State::load(&cli.state);
    match &cli.command {
        Command::Register {
            product,
            fingerprint,
            name,
            wait,
        } => {
            let api = client_for(&cli)?;
            let fingerprint = fingerprint
                .clone()
                .or(state.fingerprint.clone())
                .unwrap_or_else(host_name);
            let body = RegisterDevice {
                fingerprint: fingerprint.clone(),
                name: name.clone().unwrap_or(fingerprint.clone()),
                product_id: *product,
            };
            state.product_id = Some(*product);
            state.fingerprint = Some(fingerprint);
            state.jwks = Some(api.jwks().await.map_err(|e| e.to_string())?);
            loop {
                match api.register_device(&body, None).await.map_err(|e| e.to_string())? {
                    Registration::Granted { grant, new } => {
                        println!(
                            "{} seat {} until {}",
                            if new { "granted" } else { "holding" },
                            grant.seat_id,
                            grant.expires_at
                        );
                        state.device_id = Some(grant.device_id);
                        state.grant = Some(grant);
                        return state.save(&cli.state);
                    }
                    Registration::Queued(queued) => {
                        println!(
                            "queued at position {} (device {})",
                            queued.queue_position, queued.device_id
                        );
                        state.device_id = Some(queued.device_id);
                        state.grant = None;
                        state.save(&cli.state)?;
                        match wait {
                            Some(seconds) => tokio::time::sleep(Duration::from_secs(*seconds)).await,
                            None => return Ok(()),
                        }
                    }
                }
            }
        }
        Command::Token => {
            let grant = state.grant.as_ref().ok_or("no seat yet: run register")?;
            println!("{}", grant.seat_token);
            let claims = jsonwebtoken::dangerous::insecure_decode::<SeatClaims>(&grant.seat_token)
                .map_err(|e| e.to_string())?
                .claims;
            println!("{}", serde_json::to_string_pretty(&claims).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Verify => {
            let grant = state.grant.as_ref().ok_or("no seat yet: run register")?;
            let jwks = state.jwks.as_ref().ok_or("no saved keys: run register")?;
            let claims = verify_offline(&grant.seat_token, jwks)?;
            let expires = chrono::DateTime::from_timestamp(claims.exp, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            println!(
                "valid offline: seat {} of licence {} until {expires}",
                claims.jti, claims.licence
            );
            Ok(())
        }
        Command::Heartbeat { every } => {
            let api = client_for(&cli)?;
            let (device, product) = state
                .device_id
                .zip(state.product_id)
                .ok_or("no device yet: run register")?;
            loop {
                let grant = api.heartbeat_device(device, product).await.map_err(|e| e.to_string())?;
                println!("renewed seat {} until {}", grant.seat_id, grant.expires_at);
                state.grant = Some(grant);
                state.save(&cli.state)?;
                let Some(seconds) = every else { return Ok(()) };
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(*seconds)) => {}
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                }
            }
        }
        Command::Session {
            product,
            user,
            client,
            duration,
            every,
        } => {
            let api = client_for(&cli)?;
            let body = CreateSession {
                product_id: *product,
                user_id: *user,
                client_id: client.clone().unwrap_or_else(host_name),
            };
            run_session(&api, body, *duration, *every).await
        }
        Command::Release => {
            let api = client_for(&cli)?;
            let device = state.device_id.ok_or("no device yet: run register")?;
            let released = api
                .release_device(device, state.product_id)
                .await
                .map_err(|e| e.to_string())?;
            println!("released {} seat(s)", released.released);
            state.grant = None;
            state.save(&cli.state)
        }
    }
}

/// Checks out, keeps the seat with heartbeats, and releases it at the end.
async fn run_session(
    api: &Client,
    body: CreateSession,
    duration: Option<u64>,
    every: Option<u64>,
) -> Result<(), String> {
    let deadline = duration.map(|seconds| tokio::time::Instant::now() + Duration::from_secs(seconds));
    // Listen for Ctrl-C from the start: an interrupt while checking out still releases.
    let mut interrupted = tokio::spawn(tokio::signal::ctrl_c());
    let mut grant: SessionGrant = loop {
        match api.create_session(&body).await.map_err(|e| e.to_string())? {
            Checkout::Granted { grant, .. } => break grant,
            Checkout::Queued(queued) => {
                println!("queued at position {}", queued.queue_position);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(every.unwrap_or(5))) => {}
                    _ = &mut interrupted => {
                        println!("stopped while queued");
                        return Ok(());
                    }
                }
            }
        }
    };
    println!(
        "checked out seat {} until {} (renew at {})",
        grant.id, grant.expires_at, grant.next_heartbeat_at
    );
    loop {
        let until_renewal = (grant.next_heartbeat_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        let mut wait = every.map(Duration::from_secs).unwrap_or(until_renewal);
        if let Some(deadline) = deadline {
            wait = wait.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        }
        let stop = tokio::select! {
            _ = tokio::time::sleep(wait) => deadline.is_some_and(|d| tokio::time::Instant::now() >= d),
            _ = &mut interrupted => true,
        };
        if stop {
            break;
        }
        grant = api.heartbeat_session(grant.id, true).await.map_err(|e| e.to_string())?;
        println!("renewed seat {} until {}", grant.id, grant.expires_at);
    }
    api.delete_session(grant.id).await.map_err(|e| e.to_string())?;
    println!("released seat {}", grant.id);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("leasehold-agent: {message}");
            ExitCode::FAILURE
        }
    }
}
