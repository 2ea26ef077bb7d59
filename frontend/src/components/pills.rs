//! Coloured status pills. Lifecycle and billing are shown side by side.

use super::format::{billing_label, role_label, status_label};
use leasehold_core::values::{BillingStatus, LicenceStatus, Role};
use leptos::prelude::*;

#[component]
pub fn StatusPill(#[prop(into)] status: Signal<LicenceStatus>) -> impl IntoView {
    view! {
        <span
            class=move || format!("pill pill-{}", status.get().as_str())
            data-testid="status-pill"
            data-status=move || status.get().as_str()
            title="Lifecycle status"
        >
            <span class="pill-dot" aria-hidden="true"></span>
            {move || status_label(status.get())}
        </span>
    }
}

#[component]
pub fn BillingPill(#[prop(into)] status: Signal<BillingStatus>) -> impl IntoView {
    view! {
        <span
            class=move || format!("pill pill-billing pill-{}", status.get().as_str())
            data-testid="billing-pill"
            data-status=move || status.get().as_str()
            title="Billing status"
        >
            {move || billing_label(status.get())}
        </span>
    }
}

/// Both states of a licence, together.
#[component]
pub fn LicencePills(
    #[prop(into)] status: Signal<LicenceStatus>,
    #[prop(into)] billing: Signal<BillingStatus>,
) -> impl IntoView {
    view! {
        <span class="pills">
            <StatusPill status=status />
            <BillingPill status=billing />
        </span>
    }
}

#[component]
pub fn RolePill(role: Role) -> impl IntoView {
    let tone = if role.is_vendor() {
        "pill pill-role pill-vendor"
    } else {
        "pill pill-role"
    };
    view! { <span class=tone>{role_label(role)}</span> }
}
