//! Form fields with their label, hint and the server's (or our) error message.

use super::icons::{icon, Icon};
use crate::api::ApiError;
use leptos::prelude::*;

/// The message for a field, from a form's last error.
pub fn field_error(errors: RwSignal<Option<ApiError>>, names: &'static [&'static str]) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.as_ref().and_then(|e| e.field(names))))
}

/// A labelled control. The control itself (passed as children) should carry
/// `id=id`, `aria-invalid` and `aria-describedby=format!("{id}-msg")`.
#[component]
pub fn Field(
    label: &'static str,
    id: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] optional: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id class="field-label">
                {label}
                {optional.then(|| view! { <span class="field-optional">" (optional)"</span> })}
            </label>
            {children()}
            <div id=format!("{id}-msg") class="field-msg">
                {move || match error.get() {
                    Some(message) => {
                        view! {
                            <p class="field-error" data-testid=format!("{id}-error")>
                                {icon(Icon::Alert)}
                                {message}
                            </p>
                        }
                            .into_any()
                    }
                    None if !hint.is_empty() => view! { <p class="field-hint">{hint}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </div>
    }
}

/// The form's error in plain words; field errors that no field shows are listed.
#[component]
pub fn FormError(errors: RwSignal<Option<ApiError>>, claimed: &'static [&'static str]) -> impl IntoView {
    move || {
        errors.get().map(|error| {
            let unclaimed = error.unclaimed(claimed);
            let text = if error.fields.is_empty() {
                error.summary()
            } else {
                "Please correct the highlighted fields.".to_string()
            };
            view! {
                <div class="banner banner-error" role="alert" data-testid="form-error">
                    {icon(Icon::Alert)}
                    <div>
                        <p class="banner-title">{text}</p>
                        {(!unclaimed.is_empty())
                            .then(|| {
                                view! {
                                    <ul class="banner-list">
                                        {unclaimed
                                            .into_iter()
                                            .map(|f| view! { <li>{format!("{}: {}", f.field, f.message)}</li> })
                                            .collect_view()}
                                    </ul>
                                }
                            })}
                    </div>
                </div>
            }
        })
    }
}

/// Forgets the errors of a field the user is changing (the rest stay).
pub fn clear_field(errors: RwSignal<Option<ApiError>>, names: &[&str]) {
    let stale = errors.with_untracked(|e| {
        e.as_ref()
            .is_some_and(|e| e.fields.iter().any(|f| names.contains(&f.field.as_str())))
    });
    if stale {
        errors.update(|slot| {
            if let Some(error) = slot {
                error.fields.retain(|f| !names.contains(&f.field.as_str()));
                if error.fields.is_empty() && error.code == "validation_failed" {
                    *slot = None;
                }
            }
        });
    }
}

/// `aria-invalid` for a field with an error.
pub fn invalid(error: Signal<Option<String>>) -> impl Fn() -> &'static str + Send + Sync + Copy + 'static {
    move || {
        if error.with(Option::is_some) {
            "true"
        } else {
            "false"
        }
    }
}
