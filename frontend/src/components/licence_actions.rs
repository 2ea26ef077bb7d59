//! Pause / resume and delete, shared by the licence list and the details page.

use super::dialog::ConfirmDialog;
use super::icons::{icon, Icon};
use super::toast::use_toasts;
use crate::api;
use leasehold_core::ids::LicenceId;
use leasehold_core::values::{LicenceStatus, Role};
use leasehold_core::wire::LicenceView;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Vendor staff pause, resume and delete licences.
pub fn can_manage(role: Role) -> bool {
    role.is_vendor()
}

/// One button that pauses an active licence and resumes a paused one; it stays
/// the same element when the state flips, so the keyboard focus stays on it.
#[component]
pub fn PauseResumeButton(
    id: LicenceId,
    #[prop(into)] name: String,
    #[prop(into)] status: Signal<LicenceStatus>,
    /// Receives the licence as the server returned it.
    on_changed: Callback<LicenceView>,
    /// With a text label (details page) rather than an icon only (table row).
    #[prop(optional)]
    labelled: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let pausing = move || status.get() != LicenceStatus::Paused;
    let enabled = move || matches!(status.get(), LicenceStatus::Active | LicenceStatus::Paused);
    let name_for_label = name.clone();
    let label = move || {
        if pausing() {
            format!("Pause licence {name_for_label}")
        } else {
            format!("Resume licence {name_for_label}")
        }
    };
    let title = move || match status.get() {
        LicenceStatus::Active => "Pause: stop its seats without deleting it".to_string(),
        LicenceStatus::Paused => "Resume: make its seats available again".to_string(),
        LicenceStatus::Unassigned => "An unassigned licence cannot be paused".to_string(),
        LicenceStatus::Expired => "An expired licence cannot be paused".to_string(),
    };
    let run = move |_| {
        if busy.get_untracked() || !enabled() {
            return;
        }
        let pause = status.get_untracked() != LicenceStatus::Paused;
        let name = name.clone();
        busy.set(true);
        spawn_local(async move {
            let result = if pause {
                api::call(async |c| c.pause_licence(id).await).await
            } else {
                api::call(async |c| c.resume_licence(id).await).await
            };
            busy.try_set(false);
            match result {
                Ok(licence) => {
                    toasts.success(if pause {
                        format!("Licence {name} paused")
                    } else {
                        format!("Licence {name} resumed")
                    });
                    on_changed.run(licence);
                }
                Err(error) => toasts.error(error.summary()),
            }
        });
    };
    let class = if labelled { "btn btn-secondary" } else { "icon-btn" };
    view! {
        <button
            type="button"
            class=class
            data-testid=move || if pausing() { "pause-licence" } else { "resume-licence" }
            aria-label=label
            title=title
            disabled=move || busy.get() || !enabled()
            aria-busy=move || busy.get().to_string()
            on:click=run
        >
            {move || icon(if pausing() { Icon::Pause } else { Icon::Play })}
            {labelled.then_some(move || if pausing() { "Pause" } else { "Resume" })}
        </button>
    }
}

/// Asks "Delete licence X?" and deletes it. A licence in use (409
/// `licence_in_use`) stays, and the reason is shown in a toast.
#[component]
pub fn DeleteLicenceDialog(
    id: LicenceId,
    #[prop(into)] name: String,
    on_deleted: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let title = format!("Delete licence {name}?");
    let confirm = {
        let name = name.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            let name = name.clone();
            spawn_local(async move {
                let result = api::call(async |c| c.delete_licence(id).await).await;
                busy.try_set(false);
                match result {
                    Ok(()) => {
                        toasts.success(format!("Licence {name} deleted"));
                        on_deleted.run(());
                    }
                    Err(error) => {
                        toasts.error(error.message());
                        on_cancel.run(());
                    }
                }
            });
        }
    };
    view! {
        <ConfirmDialog
            title=title
            message="The licence and its coupon code are removed. This cannot be undone. A licence that was redeemed or whose seats are in use cannot be deleted."
            confirm_label="Yes, delete"
            busy=busy
            danger=true
            on_confirm=Callback::new(confirm)
            on_cancel=on_cancel
        />
    }
}

/// A delete icon button for a table row.
#[component]
pub fn DeleteButton(#[prop(into)] name: String, on_click: Callback<()>) -> impl IntoView {
    view! {
        <button
            type="button"
            class="icon-btn icon-btn-danger"
            data-testid="delete-licence"
            aria-label=format!("Delete licence {name}")
            title="Delete"
            on:click=move |_| on_click.run(())
        >
            {icon(Icon::Trash)}
        </button>
    }
}
