//! `leasehold`: the server and its administrative commands.

use clap::{Parser, Subcommand};
use leasehold_api::config::Settings;
use leasehold_api::error::ApiError;
use leasehold_api::startup::{build_state, Application};
use leasehold_api::{demo, openapi, service, telemetry};
use leasehold_core::ids::OrganisationId;
use leasehold_core::values::Role;
use secrecy::ExposeSecret;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "leasehold", version, about = "Leasehold: licences, seats and pools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API under /v1, the docs at /docs and the SPA at / (migrates first).
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create demo data (once) and print the demo logins.
    Demo,
    /// Write a consistent backup of the database while it serves (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump, custom format).
    Backup {
        /// The backup file to create (it must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restore a backup into a new database (a missing SQLite file, or an
    /// empty PostgreSQL database), before serving it.
    Restore {
        /// The backup file written by `leasehold backup`.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Seal pending entries, then recompute every organisation's hash chain;
    /// exits with 1 if any entry was edited or deleted.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user, e.g. the first vendor_admin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// vendor_admin, account_manager, org_admin, org_viewer or member.
        #[arg(long)]
        role: String,
        /// The organisation of a customer role.
        #[arg(long)]
        organisation: Option<OrganisationId>,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(settings.log_format);
    match run(cli.command, settings).await {
        Ok(code) => code,
        Err(error) => {
            let problem = error.problem();
            eprintln!(
                "error: {}{}",
                problem.title,
                problem.detail.map(|d| format!(": {d}")).unwrap_or_default()
            );
            for field in problem.fields {
                eprintln!("  {}: {}", field.field, field.message);
            }
            if let ApiError::Internal(cause) = error {
                eprintln!("  cause: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<ExitCode, ApiError> {
    match command {
        Command::Serve => {
            let app = Application::build(settings.clone()).await?;
            let url = format!("http://{}", settings.bind.replace("0.0.0.0", "127.0.0.1"));
            tracing::info!(%url, "Leasehold is serving; API docs at {url}/docs");
            app.run_until_stopped().await.map_err(ApiError::internal)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            build_state(settings).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            print!("{}", openapi::spec_json().map_err(ApiError::internal)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    role,
                    organisation,
                    name,
                },
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                ApiError::Domain(leasehold_core::DomainError::field(
                    "role",
                    "invalid_role",
                    "use vendor_admin, account_manager, org_admin, org_viewer or member",
                ))
            })?;
            let state = build_state(settings).await?;
            let user =
                service::accounts::create_user_as_system(&state, &email, &name, &password, role, organisation).await?;
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            let url = settings.database_url.expose_secret();
            leasehold_store::backup::backup(url, &to).await?;
            println!("backed up to {}", to.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from } => {
            let url = settings.database_url.expose_secret();
            leasehold_store::backup::restore(url, &from).await?;
            // Bring a backup of an older release up to this one's schema.
            build_state(settings).await?;
            println!("restored {}; the database is up to date", from.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let state = build_state(settings).await?;
            let created = demo::seed(&state).await?;
            println!(
                "{}",
                if created {
                    "demo data created"
                } else {
                    "demo data already present"
                }
            );
            println!("demo logins (password: {}):", demo::DEMO_PASSWORD);
            for (email, role, sees) in demo::DEMO_LOGINS {
                println!("  {email:<28} {role:<16} {sees}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let state = build_state(settings).await?;
            let report = service::audit::verify(
                state.store.as_ref(),
                leasehold_core::access::Visibility::Everything,
                state.now(),
            )
            .await?;
            for chain in &report.chains {
                let name = chain
                    .organisation_id
                    .map_or("vendor-wide".to_owned(), |id| format!("organisation {id}"));
                match &chain.detail {
                    None => println!(
                        "ok      {name}: {} entries, head {}",
                        chain.verified_entries,
                        chain.head_hash.as_deref().unwrap_or("-")
                    ),
                    Some(detail) => println!(
                        "BROKEN  {name}: {detail} ({} entries verified before it)",
                        chain.verified_entries
                    ),
                }
            }
            if report.verified {
                println!("the audit log verifies: {} chains", report.chains.len());
                Ok(ExitCode::SUCCESS)
            } else {
                println!("the audit log was tampered with");
                Ok(ExitCode::from(1))
            }
        }
    }
}
