//! Redeem coupon: a customer admin turns a coupon code into a licence of their
//! organisation.

use crate::api::{self, ApiError};
use crate::components::form::{field_error, invalid, Field};
use crate::components::format::{opt_date, plan_label};
use crate::components::icons::{icon, Icon};
use crate::components::pills::LicencePills;
use crate::components::state::{set_title, NoAccess, PageHeader};
use crate::components::toast::use_toasts;
use leasehold_core::values::{CouponCode, Role};
use leasehold_core::wire::LicenceView;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn RedeemPage() -> impl IntoView {
    set_title("Redeem coupon");
    if api::current_role() != Role::OrgAdmin {
        return view! { <NoAccess what="Redeeming coupons" /> }.into_any();
    }
    let organisation = api::current_me()
        .and_then(|me| me.organisation_name)
        .unwrap_or_else(|| "your organisation".into());
    let toasts = use_toasts();
    let code = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);
    let redeemed = RwSignal::new(None::<LicenceView>);
    // Kept across a retry after a lost answer; renewed once the server decided.
    let idempotency_key = StoredValue::new(api::idempotency_key());
    let input = NodeRef::<html::Input>::new();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let parsed = match CouponCode::parse(&code.get_untracked()) {
            Ok(parsed) => parsed,
            Err(error) => {
                errors.set(Some(ApiError::invalid(vec![error])));
                return;
            }
        };
        errors.set(None);
        redeemed.set(None);
        pending.set(true);
        let key = idempotency_key.get_value();
        spawn_local(async move {
            let result = api::call(async |c| c.redeem_coupon(parsed.as_str(), Some(&key)).await).await;
            pending.try_set(false);
            match result {
                Ok(licence) => {
                    idempotency_key.try_set_value(api::idempotency_key());
                    toasts.success(format!("Coupon redeemed: {}", licence.name));
                    code.try_set(String::new());
                    redeemed.try_set(Some(licence));
                }
                Err(error) => {
                    if !error.is_transport() {
                        idempotency_key.try_set_value(api::idempotency_key());
                    }
                    errors.try_set(Some(error));
                }
            }
        });
    };

    let code_error = field_error(errors, &["code", "coupon_code"]);
    // Errors that are not about the field (e.g. `coupon_not_redeemable`).
    let other_error = move || errors.get().filter(|e| e.fields.is_empty());

    view! {
        <PageHeader
            title="Redeem a coupon"
            subtitle=format!("Add the seats of a licence your account manager sent you to {organisation}.")
        />
        <div class="redeem-layout">
            <form class="card form" on:submit=submit novalidate=true data-testid="redeem-form">
                <Field
                    label="Coupon code"
                    id="redeem-code"
                    error=code_error
                    hint="8 characters, letters and digits 2–9"
                >
                    <input
                        id="redeem-code"
                        node_ref=input
                        class="input input-code"
                        type="text"
                        maxlength="12"
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck="false"
                        placeholder="K7PMW2QX"
                        autofocus=true
                        data-testid="redeem-code"
                        aria-invalid=invalid(code_error)
                        aria-describedby="redeem-code-msg"
                        prop:value=code
                        on:input=move |ev| {
                            code.set(event_target_value(&ev).to_uppercase());
                            if errors.with_untracked(Option::is_some) {
                                errors.set(None);
                            }
                        }
                    />
                </Field>
                {move || {
                    other_error()
                        .map(|error| {
                            view! {
                                <div class="banner banner-error" role="alert" data-testid="redeem-error">
                                    {icon(Icon::Alert)}
                                    <div>
                                        <p class="banner-title">{error.title.clone()}</p>
                                        {error
                                            .detail
                                            .clone()
                                            .filter(|d| *d != error.title)
                                            .map(|d| view! { <p class="banner-text">{d}</p> })}
                                    </div>
                                </div>
                            }
                        })
                }}
                <div class="form-actions">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="redeem-submit"
                        disabled=move || pending.get()
                        aria-busy=move || pending.get().to_string()
                    >
                        {icon(Icon::Ticket)}
                        {move || if pending.get() { "Redeeming…" } else { "Redeem" }}
                    </button>
                </div>
            </form>
            {move || {
                redeemed
                    .get()
                    .map(|l| {
                        let href = format!("/licences/{}", l.id);
                        view! {
                            <section class="card success-card" data-testid="redeem-success" aria-live="polite">
                                <div class="success-head">
                                    <span class="success-icon">{icon(Icon::Check)}</span>
                                    <div>
                                        <h2 class="card-title">"Coupon redeemed"</h2>
                                        <p class="muted">"The licence now belongs to your organisation."</p>
                                    </div>
                                </div>
                                <dl class="facts">
                                    <dt>"Licence"</dt>
                                    <dd data-testid="redeemed-name">{l.name.clone()}</dd>
                                    <dt>"Product"</dt>
                                    <dd>{l.product_name.clone()}</dd>
                                    <dt>"Plan"</dt>
                                    <dd>{plan_label(l.plan)}</dd>
                                    <dt>"Seats"</dt>
                                    <dd>{l.quantity}</dd>
                                    <dt>"Ends"</dt>
                                    <dd>{opt_date(l.ends_at)}</dd>
                                    <dt>"Status"</dt>
                                    <dd>
                                        <LicencePills status=l.status billing=l.billing_status />
                                    </dd>
                                </dl>
                                <div class="form-actions">
                                    <a class="btn btn-primary" href=href data-testid="redeemed-link">
                                        "View licence"
                                    </a>
                                    <button
                                        type="button"
                                        class="btn btn-secondary"
                                        on:click=move |_| {
                                            redeemed.set(None);
                                            if let Some(input) = input.get_untracked() {
                                                let _ = input.focus();
                                            }
                                        }
                                    >
                                        "Redeem another"
                                    </button>
                                </div>
                            </section>
                        }
                    })
            }}
        </div>
    }
    .into_any()
}
