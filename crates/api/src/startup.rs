//! Builds the application: state, middleware, routes, docs and the SPA.

use crate::auth::Tokens;
use crate::config::Settings;
use crate::error::{json_error, path_error, query_error, ApiError};
use crate::limits::Limits;
use crate::openapi::register;
use crate::state::AppState;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpMessage, HttpResponse, HttpServer};
use leasehold_core::DomainError;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// Opens the database (migrating it) and loads the signing keys.
pub async fn build_state(settings: Settings) -> Result<AppState, ApiError> {
    let store = leasehold_store::open(settings.database_url.expose_secret(), &settings.store_options()).await?;
    let tokens = Tokens::load(store.as_ref(), settings.access_token_seconds).await?;
    let limits = Limits::new(
        settings.login_per_minute,
        settings.redeem_per_minute,
        settings.api_key_per_minute,
    );
    let deliverer = crate::delivery::Deliverer::new(&settings).map_err(ApiError::internal)?;
    Ok(AppState {
        store,
        deliverer: Arc::new(deliverer),
        tokens: Arc::new(tokens),
        settings: Arc::new(settings),
        limits: Arc::new(limits),
    })
}

/// How long requests in flight, then background jobs, may take to finish on shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    jobs: Vec<tokio::task::JoinHandle<()>>,
    stop_jobs: tokio::sync::watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, ApiError> {
        let listener = TcpListener::bind(&settings.bind).map_err(ApiError::internal)?;
        let state = build_state(settings).await?;
        Self::with_listener(state, listener)
    }

    pub fn with_listener(state: AppState, listener: TcpListener) -> Result<Self, ApiError> {
        let port = listener.local_addr().map_err(ApiError::internal)?.port();
        let data = web::Data::new(state.clone());
        let frontend = state.settings.frontend_dir.clone();
        let serve_spa = frontend.join("index.html").is_file();
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let max_in_flight = state.settings.max_in_flight.max(1);
        let console_policy: Arc<str> = match std::fs::read_to_string(frontend.join("index.html")) {
            Ok(index) => crate::security::console_policy(&index).into(),
            Err(_) => crate::security::API_POLICY.into(),
        };
        // One document, computed once: what /v1/openapi.json serves is what the
        // drift test compares with openapi/openapi.json.
        let api = crate::openapi::spec();
        let server = HttpServer::new(move || {
            let app = App::new()
                .service(SwaggerUi::new("/docs/{_:.*}").url("/v1/openapi.json", api.clone()))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(json_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .into_utoipa_app()
                .configure(register)
                .into_app()
                .wrap_fn({
                    // Load shedding: past `max_in_flight` API requests, answer
                    // 503 at once (health checks and the console's files pass).
                    let in_flight = in_flight.clone();
                    move |req, srv| {
                        let counted = req.path().starts_with("/v1/");
                        let ticket = if counted {
                            crate::overload::admit(&in_flight, max_in_flight)
                        } else {
                            None
                        };
                        let refused = counted && ticket.is_none();
                        let response = (!refused).then(|| srv.call(req));
                        async move {
                            // The ticket is held until the response is ready.
                            let _ticket = ticket;
                            let Some(response) = response else {
                                return Err(ApiError::Overloaded.into());
                            };
                            response.await
                        }
                    }
                })
                .wrap_fn({
                    let console_policy = console_policy.clone();
                    move |req, srv| {
                        let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                        let policy = HeaderValue::from_str(crate::security::policy_for(req.path(), &console_policy));
                        let response = srv.call(req);
                        async move {
                            let mut response = response.await?;
                            let rate = response
                                .request()
                                .extensions()
                                .get::<crate::limits::RateState>()
                                .copied();
                            let headers = response.headers_mut();
                            if let Some(rate) = rate {
                                rate.write(headers);
                            }
                            if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                                headers.insert(HeaderName::from_static("x-request-id"), value);
                            }
                            if let Ok(policy) = policy {
                                headers.insert(header::CONTENT_SECURITY_POLICY, policy);
                            }
                            Ok(response)
                        }
                    }
                })
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((HeaderName::from_static("cross-origin-opener-policy"), "same-origin")),
                )
                .wrap(TracingLogger::default());
            if serve_spa {
                app.service(crate::spa::files(&frontend))
            } else {
                app.service(web::scope("").default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::Domain(DomainError::NotFound("page")))
                })))
            }
        })
        .listen(listener)
        .map_err(ApiError::internal)?
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .run();
        let interval = std::time::Duration::from_secs(state.settings.reaper_interval_seconds.max(1));
        let (stop_jobs, stop) = tokio::sync::watch::channel(false);
        let jobs = vec![
            crate::jobs::spawn_reaper(state.clone(), interval, stop.clone()),
            crate::jobs::spawn_sealer(state.clone(), crate::jobs::SEAL_INTERVAL, stop.clone()),
            crate::jobs::spawn_deliverer(
                state.clone(),
                std::time::Duration::from_millis(state.settings.delivery_interval_ms.max(50)),
                stop,
            ),
        ];
        Ok(Self {
            port,
            server,
            state,
            jobs,
            stop_jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops (SIGTERM or Ctrl-C: no new connections,
    /// requests in flight finish, for up to 10 s), then stops the jobs: each
    /// finishes the pass it is in, for up to 10 s more, before the process ends.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.stop_jobs.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(self.jobs)).await;
        match drained {
            Ok(_) => tracing::info!("stopped: requests drained, background jobs finished"),
            Err(_) => tracing::warn!("stopped: a background job was still busy after {SHUTDOWN_GRACE:?}"),
        }
        result
    }
}
