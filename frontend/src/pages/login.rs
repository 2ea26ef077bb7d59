//! Sign-in: e-mail and password; on success the tokens are kept in localStorage.

use crate::api::{self, ApiError, Auth};
use crate::components::form::{clear_field, field_error, invalid, Field};
use crate::components::icons::{icon, Icon};
use crate::components::state::set_title;
use leasehold_core::values::Role;
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// Where to go after signing in: `next` when it is a path of this console, else
/// the role's home page.
fn destination(next: Option<String>, role: Role) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/login") => path,
        _ => api::home(role).0.into(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    set_title("Sign in");
    let auth = api::auth();
    let query = use_query_map();
    let navigate = use_navigate();

    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);

    // Already signed in (or the stored session turned out valid): go on.
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Auth::SignedIn(me) = auth.get() {
                if pending.get_untracked() {
                    return;
                }
                let to = destination(query.get_untracked().get("next"), me.role);
                navigate(
                    &to,
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
        });
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let email_value = email.get_untracked().trim().to_string();
        let password_value = password.get_untracked();
        let mut missing = Vec::new();
        if email_value.is_empty() {
            missing.push(FieldError::new("email", "required", "Enter your e-mail address."));
        }
        if password_value.is_empty() {
            missing.push(FieldError::new("password", "required", "Enter your password."));
        }
        if !missing.is_empty() {
            errors.set(Some(ApiError::invalid(missing)));
            return;
        }
        errors.set(None);
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::login(&email_value, &password_value).await {
                Ok(me) => {
                    let to = destination(query.get_untracked().get("next"), me.role);
                    pending.try_set(false);
                    navigate(
                        &to,
                        NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
                Err(error) => {
                    errors.try_set(Some(error));
                    pending.try_set(false);
                }
            }
        });
    };

    let email_error = field_error(errors, &["email"]);
    let password_error = field_error(errors, &["password"]);
    let banner = move || {
        errors.get().filter(|e| e.fields.is_empty()).map(|error| {
            view! {
                <div class="banner banner-error" role="alert" data-testid="login-error">
                    {icon(Icon::Alert)}
                    <div>
                        <p class="banner-title">{error.message()}</p>
                        {(error.detail.is_some() && error.message() != error.title)
                            .then(|| view! { <p class="banner-text">{error.title.clone()}</p> })}
                    </div>
                </div>
            }
        })
    };

    view! {
            <div class="login-page">
                <div class="login-card card">
                    <div class="login-brand">
                        <span class="brand-mark" aria-hidden="true">
                            "L"
                        </span>
                        <span class="brand-name">"Leasehold"</span>
                    </div>
                    <h1 class="login-title">"Sign in to the console"</h1>
                    <p class="login-subtitle">"Manage licences, seats and the people who use them."</p>
                    <form class="form" on:submit=submit novalidate=true data-testid="login-form">
                        {banner}
                        <Field label="E-mail" id="login-email" error=email_error>
                            <input
                                id="login-email"
                                class="input"
                                type="email"
                                name="email"
                                autocomplete="username"
                                required=true
                                autofocus=true
                                data-testid="login-email"
                                aria-invalid=invalid(email_error)
                                aria-describedby="login-email-msg"
                                prop:value=email
                                on:input=move |ev| {
        email.set(event_target_value(&ev));
        clear_field(errors, &["email"]);
    }
                            />
                        </Field>
                        <Field label="Password" id="login-password" error=password_error>
                            <input
                                id="login-password"
                                class="input"
                                type="password"
                                name="password"
                                autocomplete="current-password"
                                required=true
                                data-testid="login-password"
                                aria-invalid=invalid(password_error)
                                aria-describedby="login-password-msg"
                                prop:value=password
                                on:input=move |ev| {
        password.set(event_target_value(&ev));
        clear_field(errors, &["password"]);
    }
                            />
                        </Field>
                        <button
                            type="submit"
                            class="btn btn-primary btn-block"
                            data-testid="login-submit"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                        >
                            {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </form>
                </div>
            </div>
        }
}
