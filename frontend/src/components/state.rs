//! Page furniture: headers, loading, empty and error states, "no access".

use super::icons::{icon, Icon};
use crate::api::ApiError;
use crate::resource::Fetch;
use leptos::prelude::*;

/// What a table shows instead of its rows, as one full-width row: a skeleton
/// until the first answer, the error with a retry, or `empty()` when the
/// answer has nothing. `None` when there are rows to show. Call it inside a
/// reactive closure.
pub fn table_placeholder<T: Send + Sync + 'static>(
    fetch: Fetch<T>,
    columns: usize,
    skeleton_rows: usize,
    is_empty: impl FnOnce(&T) -> bool,
    empty: impl FnOnce() -> AnyView,
) -> Option<AnyView> {
    let row = |content: AnyView| {
        view! {
            <tr>
                <td colspan=columns.to_string()>{content}</td>
            </tr>
        }
        .into_any()
    };
    fetch.data.with(|data| match data {
        None => Some(view! { <SkeletonRows columns=columns rows=skeleton_rows /> }.into_any()),
        Some(Err(error)) => {
            let error = error.clone();
            Some(row(
                view! { <ErrorPanel error=error on_retry=Callback::new(move |_| fetch.reload()) /> }.into_any(),
            ))
        }
        Some(Ok(value)) if is_empty(value) => Some(row(empty())),
        Some(Ok(_)) => None,
    })
}

/// Sets the browser tab's title.
pub fn set_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{page} · Leasehold"));
    }
}

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: MaybeProp<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <div>
                <h1 class="page-title">{title}</h1>
                {move || subtitle.get().map(|s| view! { <p class="page-subtitle">{s}</p> })}
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </header>
    }
}

#[component]
pub fn Spinner(#[prop(optional)] label: &'static str) -> impl IntoView {
    let label = if label.is_empty() { "Loading…" } else { label };
    view! {
        <div class="loading" role="status" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

/// Grey placeholder rows while a table loads for the first time.
#[component]
pub fn SkeletonRows(columns: usize, #[prop(optional)] rows: usize) -> impl IntoView {
    let rows = if rows == 0 { 5 } else { rows };
    (0..rows)
        .map(|_| {
            view! {
                <tr class="skeleton-row" aria-hidden="true">
                    {(0..columns).map(|_| view! { <td><span class="skeleton"></span></td> }).collect_view()}
                </tr>
            }
        })
        .collect_view()
}

#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(into)] hint: String,
    #[prop(optional)] symbol: Option<Icon>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty" data-testid="empty-state">
            <div class="empty-icon">{icon(symbol.unwrap_or(Icon::Search))}</div>
            <p class="empty-title">{title}</p>
            <p class="empty-hint">{hint}</p>
            {children.map(|c| view! { <div class="empty-actions">{c()}</div> })}
        </div>
    }
}

/// An error where the data would be, with a retry button.
#[component]
pub fn ErrorPanel(error: ApiError, #[prop(optional)] on_retry: Option<Callback<()>>) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert" data-testid="error-panel">
            {icon(Icon::Alert)}
            <div class="banner-body">
                <p class="banner-title">{error.title.clone()}</p>
                {error
                    .detail
                    .clone()
                    .filter(|d| *d != error.title)
                    .map(|d| view! { <p class="banner-text">{d}</p> })}
            </div>
            {on_retry
                .map(|retry| {
                    view! {
                        <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| retry.run(())>
                            "Try again"
                        </button>
                    }
                })}
        </div>
    }
}

/// Shown instead of a page the signed-in role may not use.
#[component]
pub fn NoAccess(#[prop(into)] what: String) -> impl IntoView {
    let (href, label) = crate::api::home(crate::api::current_role());
    view! {
        <div class="card">
            <EmptyState
                title="You don't have access to this page"
                hint=format!("{what} is not available for your role. Ask an administrator if you need it.")
                symbol=Icon::Alert
            >
                <a class="btn btn-secondary" href=href>
                    {label}
                </a>
            </EmptyState>
        </div>
    }
}

/// Moves the keyboard focus to the element with `id` (tabs, after arrow keys).
pub fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
