//! Short messages in a corner: success, information and errors. They go away by
//! themselves (errors stay longer) or with their close button.

use super::icons::{icon, Icon};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Info,
    Error,
}

impl ToastKind {
    fn as_str(self) -> &'static str {
        match self {
            ToastKind::Success => "success",
            ToastKind::Info => "info",
            ToastKind::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

/// The app's toasts; `Copy`, so handlers keep it across `await`s.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    pub fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(1),
        }
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text.into());
    }

    pub fn info(&self, text: impl Into<String>) {
        self.push(ToastKind::Info, text.into());
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into());
    }

    fn push(&self, kind: ToastKind, text: String) {
        let id = self.next.try_get_value().unwrap_or(1);
        self.next.try_set_value(id + 1);
        self.list.try_update(|list| {
            list.push(Toast { id, kind, text });
            // Keep the corner readable.
            while list.len() > 4 {
                list.remove(0);
            }
        });
        let list = self.list;
        let millis = if kind == ToastKind::Error { 9_000 } else { 4_500 };
        spawn_local(async move {
            TimeoutFuture::new(millis).await;
            list.try_update(|list| list.retain(|toast| toast.id != id));
        });
    }

    fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|toast| toast.id != id));
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_default()
}

/// Where toasts appear; announced to screen readers.
#[component]
pub fn ToastArea() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" aria-live="polite" aria-relevant="additions">
            <For
                each=move || toasts.list.get()
                key=|toast| toast.id
                children=move |toast| {
                    let id = toast.id;
                    let kind = toast.kind;
                    let symbol = match kind {
                        ToastKind::Success => Icon::Check,
                        ToastKind::Info => Icon::Info,
                        ToastKind::Error => Icon::Alert,
                    };
                    view! {
                        <div
                            class=format!("toast toast-{}", kind.as_str())
                            role=if kind == ToastKind::Error { "alert" } else { "status" }
                            data-testid="toast"
                            data-kind=kind.as_str()
                        >
                            <span class="toast-icon">{icon(symbol)}</span>
                            <span class="toast-text">{toast.text}</span>
                            <button
                                type="button"
                                class="icon-btn toast-close"
                                aria-label="Dismiss message"
                                title="Dismiss"
                                on:click=move |_| toasts.dismiss(id)
                            >
                                {icon(Icon::Close)}
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
