//! The console's only way to the server: the typed public client, the tokens in
//! localStorage, and one refresh-and-retry when the API answers 401.

use gloo_timers::future::TimeoutFuture;
use leasehold_client::{Client, ClientError};
use leasehold_core::values::Role;
use leasehold_core::wire::{Me, TokenResponse};
use leasehold_core::FieldError;
use leptos::prelude::*;
use std::cell::Cell;

const ACCESS_KEY: &str = "access_token";
const REFRESH_KEY: &str = "refresh_token";

/// An error the user can read: the server's problem document, or what went wrong
/// on the way to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub code: String,
    pub title: String,
    pub detail: Option<String>,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    /// A client-side validation failure, shaped like the server's.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            status: None,
            code: "validation_failed".into(),
            title: "Some fields need your attention".into(),
            detail: None,
            fields,
        }
    }

    /// The most specific sentence: the detail, else the title.
    pub fn message(&self) -> String {
        match &self.detail {
            Some(detail) if !detail.trim().is_empty() => detail.clone(),
            _ => self.title.clone(),
        }
    }

    /// Title and detail together (toasts).
    pub fn summary(&self) -> String {
        match &self.detail {
            Some(detail) if !detail.trim().is_empty() && *detail != self.title => {
                format!("{}: {}", self.title, detail)
            }
            _ => self.title.clone(),
        }
    }

    /// The message for one of `names` (a field may be reported as `owner.user_id`
    /// or `owner_user_id`; both spellings are accepted by listing them).
    pub fn field(&self, names: &[&str]) -> Option<String> {
        self.fields
            .iter()
            .find(|f| names.iter().any(|n| f.field == *n))
            .map(|f| f.message.clone())
    }

    /// Field errors whose field no input on the form claims.
    pub fn unclaimed(&self, claimed: &[&str]) -> Vec<FieldError> {
        self.fields
            .iter()
            .filter(|f| !claimed.iter().any(|n| f.field == *n))
            .cloned()
            .collect()
    }

    pub fn is_status(&self, status: u16) -> bool {
        self.status == Some(status)
    }

    /// Whether retrying the same request could succeed (nothing was decided).
    pub fn is_transport(&self) -> bool {
        self.status.is_none() && self.code == "transport"
    }
}

impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Api { status, problem } => Self {
                status: Some(status),
                code: problem.code,
                title: problem.title,
                detail: problem.detail,
                fields: problem.fields,
            },
            ClientError::Transport(message) => Self {
                status: None,
                code: "transport".into(),
                title: "Could not reach the server".into(),
                detail: Some(format!("Check the connection and try again. ({message})")),
                fields: Vec::new(),
            },
            ClientError::Decode(message) => Self {
                status: None,
                code: "decode".into(),
                title: "The server sent an unexpected answer".into(),
                detail: Some(message),
                fields: Vec::new(),
            },
        }
    }
}

/// Where the console stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// Tokens were found; `/v1/me` is being asked who they belong to.
    Checking,
    SignedIn(Me),
    SignedOut,
    /// The server could not be asked (not an authentication failure).
    Unreachable(ApiError),
}

thread_local! {
    static AUTH: Cell<Option<RwSignal<Auth>>> = const { Cell::new(None) };
    static REFRESHING: Cell<bool> = const { Cell::new(false) };
    static SIGNED_OUT_BY_USER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the session ended because the user signed out (not because it expired).
pub fn signed_out_by_user() -> bool {
    SIGNED_OUT_BY_USER.with(Cell::get)
}

/// The session state, created once by the app root.
pub fn auth() -> RwSignal<Auth> {
    if let Some(signal) = AUTH.with(Cell::get) {
        return signal;
    }
    let initial = if stored(ACCESS_KEY).is_some() || stored(REFRESH_KEY).is_some() {
        Auth::Checking
    } else {
        Auth::SignedOut
    };
    let signal = RwSignal::new(initial);
    AUTH.with(|cell| cell.set(Some(signal)));
    signal
}

fn set_auth(state: Auth) {
    let signal = auth();
    if signal.get_untracked() != state {
        signal.try_set(state);
    }
}

/// The signed-in user, read without tracking (pages render only when signed in).
pub fn current_me() -> Option<Me> {
    match auth().get_untracked() {
        Auth::SignedIn(me) => Some(me),
        _ => None,
    }
}

/// The signed-in user's role; `member` (who may do least) when unknown.
pub fn current_role() -> Role {
    current_me().map(|me| me.role).unwrap_or(Role::Member)
}

/// Where `role` lands after signing in, and what the link there is called.
/// Members may not read licences: they land on their own sessions.
pub fn home(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Member => ("/sessions", "Go to your sessions"),
        _ => ("/licences", "Go to licences"),
    }
}

// ------------------------------------------------------------------ storage

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage()?
        .get_item(key)
        .ok()
        .flatten()
        .filter(|value| !value.is_empty())
}

fn save_tokens(tokens: &TokenResponse) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(ACCESS_KEY, &tokens.access_token);
        let _ = storage.set_item(REFRESH_KEY, &tokens.refresh_token);
    }
}

fn clear_tokens() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(ACCESS_KEY);
        let _ = storage.remove_item(REFRESH_KEY);
    }
}

// ------------------------------------------------------------------ client

/// The API lives on the same origin as the console.
pub fn base_url() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

fn client_with(token: Option<String>) -> Client {
    let mut client = Client::new(&base_url());
    client.set_token(token);
    client
}

enum Refreshed {
    Yes,
    /// The server refused the refresh token: the session is over.
    Refused,
    /// The server could not be reached; keep the tokens.
    Failed,
}

/// Exchanges the refresh token once, even when several calls failed together.
async fn refresh_after(failed_token: Option<String>) -> Refreshed {
    while REFRESHING.with(Cell::get) {
        TimeoutFuture::new(25).await;
    }
    let current = stored(ACCESS_KEY);
    if current.is_some() && current != failed_token {
        // Another call refreshed while this one waited.
        return Refreshed::Yes;
    }
    let Some(refresh_token) = stored(REFRESH_KEY) else {
        return Refreshed::Refused;
    };
    REFRESHING.with(|flag| flag.set(true));
    let result = client_with(None).refresh(&refresh_token).await;
    REFRESHING.with(|flag| flag.set(false));
    match result {
        Ok(tokens) => {
            save_tokens(&tokens);
            set_auth(Auth::SignedIn(tokens.user));
            Refreshed::Yes
        }
        Err(ClientError::Transport(_)) => Refreshed::Failed,
        Err(_) => Refreshed::Refused,
    }
}

fn session_ended() {
    clear_tokens();
    set_auth(Auth::SignedOut);
}

/// Runs one API call with the stored access token. On 401 the refresh token is
/// exchanged once and the call retried; when that fails too, the session ends
/// (the shell then sends the user to the sign-in page).
pub async fn call<T, F>(request: F) -> Result<T, ApiError>
where
    F: AsyncFn(&Client) -> Result<T, ClientError>,
{
    let token = stored(ACCESS_KEY);
    match request(&client_with(token.clone())).await {
        Err(error) if error.status() == Some(401) => match refresh_after(token).await {
            Refreshed::Yes => match request(&client_with(stored(ACCESS_KEY))).await {
                Err(error) if error.status() == Some(401) => {
                    session_ended();
                    Err(error.into())
                }
                other => other.map_err(ApiError::from),
            },
            Refreshed::Refused => {
                session_ended();
                Err(error.into())
            }
            Refreshed::Failed => Err(error.into()),
        },
        other => other.map_err(ApiError::from),
    }
}

/// Asks the server who the stored tokens belong to (on start-up).
pub async fn restore_session() {
    if stored(ACCESS_KEY).is_none() && stored(REFRESH_KEY).is_none() {
        set_auth(Auth::SignedOut);
        return;
    }
    set_auth(Auth::Checking);
    match call(async |client| client.me().await).await {
        Ok(me) => set_auth(Auth::SignedIn(me)),
        Err(error) if error.is_status(401) => session_ended(),
        Err(error) if error.status.is_none() || error.status.is_some_and(|s| s >= 500) => {
            set_auth(Auth::Unreachable(error))
        }
        Err(_) => session_ended(),
    }
}

pub async fn login(email: &str, password: &str) -> Result<Me, ApiError> {
    let tokens = client_with(None).login(email, password).await?;
    SIGNED_OUT_BY_USER.with(|flag| flag.set(false));
    save_tokens(&tokens);
    set_auth(Auth::SignedIn(tokens.user.clone()));
    Ok(tokens.user)
}

/// Ends the session on the server (best effort) and forgets the tokens.
pub async fn logout() {
    let refresh_token = stored(REFRESH_KEY);
    let _ = client_with(stored(ACCESS_KEY)).logout(refresh_token.as_deref()).await;
    SIGNED_OUT_BY_USER.with(|flag| flag.set(true));
    session_ended();
}

/// A fresh `Idempotency-Key`.
pub fn idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
