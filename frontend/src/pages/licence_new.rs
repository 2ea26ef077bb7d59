//! Add licence: product, plan, name, note, quantity, and either a coupon to hand
//! over or an owner (organisation, optionally one of its users).

use crate::api::{self, ApiError};
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{plan_label, price_line, seat_kind_label};
use crate::components::icons::{icon, Icon};
use crate::components::state::{set_title, ErrorPanel, NoAccess, PageHeader, Spinner};
use crate::components::toast::use_toasts;
use crate::lookups::{self, OrganisationOptions};
use leasehold_core::ids::{OrganisationId, ProductId, UserId};
use leasehold_core::licence::renewable;
use leasehold_core::values::Plan;
use leasehold_core::wire::CreateLicence;
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

const CLAIMED: &[&str] = &[
    "product_id",
    "product",
    "plan",
    "name",
    "note",
    "quantity",
    "owner_organisation_id",
    "owner.organisation_id",
    "organisation_id",
    "owner_user_id",
    "owner.user_id",
    "user_id",
];

#[component]
pub fn NewLicencePage() -> impl IntoView {
    set_title("Add licence");
    if !api::current_role().is_vendor() {
        return view! { <NoAccess what="Adding licences" /> }.into_any();
    }
    view! { <NewLicenceForm /> }.into_any()
}

#[component]
fn NewLicenceForm() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let products = lookups::products();
    let orgs = lookups::organisations();

    let product = RwSignal::new(None::<ProductId>);
    let plan = RwSignal::new(Plan::Yearly);
    let name = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let quantity = RwSignal::new("1".to_string());
    let assign = RwSignal::new(false);
    let auto_renew = RwSignal::new(false);
    let organisation = RwSignal::new(None::<OrganisationId>);
    let user = RwSignal::new(None::<UserId>);
    let users = lookups::users(move || organisation.get());

    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);
    // One key per form: a retry after a lost answer cannot create a second licence.
    let idempotency_key = StoredValue::new(api::idempotency_key());

    // Pick the first product once the list arrives.
    Effect::new(move |_| {
        if product.get_untracked().is_none() {
            if let Some(first) = products.with_ok(|list| list.first().map(|p| p.id)).flatten() {
                product.set(Some(first));
            }
        }
    });

    let selected_product = Memo::new(move |_| {
        let id = product.get()?;
        products
            .with_ok(|list| list.iter().find(|p| p.id == id).cloned())
            .flatten()
    });
    let price_line = move || {
        let product = selected_product.get()?;
        let quantity: i64 = quantity.get().trim().parse().unwrap_or(0);
        Some(price_line(&product, plan.get(), quantity))
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let product_id = product.get_untracked();
        if product_id.is_none() {
            problems.push(FieldError::new("product_id", "required", "Choose a product."));
        }
        let name_value = name.get_untracked().trim().to_string();
        if name_value.is_empty() {
            problems.push(FieldError::new("name", "required", "Give the licence a name."));
        }
        let quantity_value = match quantity.get_untracked().trim().parse::<i64>() {
            Ok(q) if q >= 1 => Some(q),
            _ => {
                problems.push(FieldError::new(
                    "quantity",
                    "too_small",
                    "Enter a whole number of seats, at least 1.",
                ));
                None
            }
        };
        let owner = if assign.get_untracked() {
            if organisation.get_untracked().is_none() {
                problems.push(FieldError::new(
                    "owner_organisation_id",
                    "required",
                    "Choose the organisation that receives the licence.",
                ));
            }
            (organisation.get_untracked(), user.get_untracked())
        } else {
            (None, None)
        };
        let (Some(product_id), Some(quantity_value), true) = (product_id, quantity_value, problems.is_empty()) else {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        };
        let note_value = note.get_untracked().trim().to_string();
        let body = CreateLicence {
            product_id,
            plan: plan.get_untracked(),
            name: name_value,
            note: Some(note_value).filter(|n| !n.is_empty()),
            quantity: quantity_value,
            owner_organisation_id: owner.0,
            owner_user_id: owner.1,
            auto_renew: auto_renew.get_untracked() && renewable(plan.get_untracked()),
        };
        errors.set(None);
        pending.set(true);
        let key = idempotency_key.get_value();
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = api::call(async |c| c.create_licence(&body, Some(&key)).await).await;
            pending.try_set(false);
            match result {
                Ok(created) => {
                    toasts.success("Licence created");
                    navigate(&format!("/licences/{}", created.body.id), Default::default());
                }
                Err(error) => {
                    // The server decided: a corrected form is a new request.
                    if !error.is_transport() {
                        idempotency_key.try_set_value(api::idempotency_key());
                    }
                    errors.try_set(Some(error));
                }
            }
        });
    };

    let product_error = field_error(errors, &["product_id", "product"]);
    let plan_error = field_error(errors, &["plan"]);
    let name_error = field_error(errors, &["name"]);
    let note_error = field_error(errors, &["note"]);
    let quantity_error = field_error(errors, &["quantity"]);
    let org_error = field_error(
        errors,
        &["owner_organisation_id", "owner.organisation_id", "organisation_id"],
    );
    let user_error = field_error(errors, &["owner_user_id", "owner.user_id", "user_id"]);

    view! {
            <a class="back-link" href="/licences">
                {icon(Icon::ArrowLeft)}
                "Licences"
            </a>
            <PageHeader title="Add licence" subtitle="Grant seats of a product, then hand over the coupon or assign it." />
            {move || match (products.data.get(), products.loading.get()) {
                (None, _) => view! { <div class="card"><Spinner label="Loading products…" /></div> }.into_any(),
                (Some(Err(error)), _) => {
                    view! {
                        <div class="card">
                            <ErrorPanel error=error on_retry=Callback::new(move |_| products.reload()) />
                        </div>
                    }
                        .into_any()
                }
                (Some(Ok(_)), _) => ().into_any(),
            }}
            <form
                class="card form form-wide"
                on:submit=submit
                novalidate=true
                data-testid="licence-form"
                hidden=move || products.with_ok(|_| ()).is_none()
            >
                    <FormError errors=errors claimed=CLAIMED />
                    <div class="form-grid">
                        <Field label="Product" id="licence-product" error=product_error>
                            <select
                                id="licence-product"
                                class="select"
                                data-testid="licence-product"
                                aria-invalid=invalid(product_error)
                                aria-describedby="licence-product-msg"
                                on:change=move |ev| {
        product.set(event_target_value(&ev).parse().ok());
        clear_field(errors, &["product_id", "product"]);
    }
                            >
                                {move || {
                                    products
                                        .with_ok(|list| {
                                            list.iter()
                                                .map(|p| {
                                                    let id = p.id;
                                                    view! {
                                                        <option value=id.to_string() prop:selected=move || product.get() == Some(id)>
                                                            {format!("{} ({}) · {}", p.name, p.code, seat_kind_label(p.seat_kind))}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()
                                        })
                                }}
                            </select>
                        </Field>
                        <Field label="Plan" id="licence-plan" error=plan_error>
                            <select
                                id="licence-plan"
                                class="select"
                                data-testid="licence-plan"
                                aria-invalid=invalid(plan_error)
                                aria-describedby="licence-plan-msg"
                                on:change=move |ev| {
                                    if let Some(p) = Plan::parse(&event_target_value(&ev)) {
                                        plan.set(p);
                                    }
                                }
                            >
                                {Plan::ALL
                                    .iter()
                                    .map(|p| {
                                        let p = *p;
                                        view! {
                                            <option value=p.as_str() prop:selected=move || plan.get() == p>
                                                {plan_label(p)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </Field>
                    </div>
                    <p class="price-line" data-testid="licence-price" aria-live="polite">
                        {price_line}
                    </p>
                    <Show when=move || renewable(plan.get())>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                data-testid="licence-auto-renew"
                                prop:checked=move || auto_renew.get()
                                on:change=move |ev| auto_renew.set(event_target_checked(&ev))
                            />
                            <span>
                                "Renew automatically"
                                <span class="muted small block">
                                    "Adds a term an hour before the licence ends, so its seats never lapse."
                                </span>
                            </span>
                        </label>
                    </Show>
                    <Field label="Name" id="licence-name" error=name_error hint="Used to find the licence later, e.g. the customer and the purpose.">
                        <input
                            id="licence-name"
                            class="input"
                            type="text"
                            maxlength="200"
                            autocomplete="off"
                            data-testid="licence-name"
                            aria-invalid=invalid(name_error)
                            aria-describedby="licence-name-msg"
                            prop:value=name
                            on:input=move |ev| {
        name.set(event_target_value(&ev));
        clear_field(errors, &["name"]);
    }
                        />
                    </Field>
                    <Field label="Note" id="licence-note" error=note_error optional=true>
                        <textarea
                            id="licence-note"
                            class="input textarea"
                            rows="3"
                            data-testid="licence-note"
                            aria-invalid=invalid(note_error)
                            aria-describedby="licence-note-msg"
                            prop:value=note
                            on:input=move |ev| {
        note.set(event_target_value(&ev));
        clear_field(errors, &["note"]);
    }
                        ></textarea>
                    </Field>
                    <Field label="Quantity" id="licence-quantity" error=quantity_error hint="The number of seats.">
                        <input
                            id="licence-quantity"
                            class="input input-narrow"
                            type="number"
                            min="1"
                            step="1"
                            inputmode="numeric"
                            data-testid="licence-quantity"
                            aria-invalid=invalid(quantity_error)
                            aria-describedby="licence-quantity-msg"
                            prop:value=quantity
                            on:input=move |ev| {
        quantity.set(event_target_value(&ev));
        clear_field(errors, &["quantity"]);
    }
                        />
                    </Field>

                    <fieldset class="fieldset">
                        <legend class="field-label">"Owner"</legend>
                        <label class="radio">
                            <input
                                type="radio"
                                name="owner"
                                value="none"
                                data-testid="owner-none"
                                prop:checked=move || !assign.get()
                                on:change=move |_| assign.set(false)
                            />
                            <span>
                                "Don't assign"
                                <span class="muted small block">
                                    "Hand over the coupon code; the customer redeems it in their console."
                                </span>
                            </span>
                        </label>
                        <label class="radio">
                            <input
                                type="radio"
                                name="owner"
                                value="organisation"
                                data-testid="owner-organisation"
                                prop:checked=move || assign.get()
                                on:change=move |_| assign.set(true)
                            />
                            <span>
                                "Assign to an organisation"
                                <span class="muted small block">"The licence is active for that organisation right away."</span>
                            </span>
                        </label>
                        <Show when=move || assign.get()>
                            <div class="form-grid nested">
                                <Field label="Organisation" id="licence-organisation" error=org_error>
                                    <select
                                        id="licence-organisation"
                                        class="select"
                                        data-testid="licence-organisation"
                                        aria-invalid=invalid(org_error)
                                        aria-describedby="licence-organisation-msg"
                                        on:change=move |ev| {
                                            organisation.set(event_target_value(&ev).parse().ok());
                                            user.set(None);
                                            clear_field(
                                                errors,
                                                &["owner_organisation_id", "owner.organisation_id", "organisation_id"],
                                            );
                                        }
                                    >
                                        <OrganisationOptions orgs=orgs selected=organisation none_label="Choose an organisation…" />
                                    </select>
                                </Field>
                                <Field label="User" id="licence-user" error=user_error optional=true>
                                    <select
                                        id="licence-user"
                                        class="select"
                                        data-testid="licence-user"
                                        disabled=move || organisation.get().is_none()
                                        aria-invalid=invalid(user_error)
                                        aria-describedby="licence-user-msg"
                                        on:change=move |ev| user.set(event_target_value(&ev).parse().ok())
                                    >
                                        <option value="" prop:selected=move || user.get().is_none()>
                                            "Whole organisation (no specific user)"
                                        </option>
                                        {move || {
                                            let org = organisation.get()?;
                                            users
                                                .with_ok(|list| {
                                                    lookups::customer_users(list, Some(org))
                                                        .into_iter()
                                                        .map(|u| {
                                                            let id = u.id;
                                                            let label = if u.name.is_empty() {
                                                                u.email.clone()
                                                            } else {
                                                                format!("{} ({})", u.name, u.email)
                                                            };
                                                            view! {
                                                                <option value=id.to_string() prop:selected=move || user.get() == Some(id)>
                                                                    {label}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()
                                                })
                                        }}
                                    </select>
                                </Field>
                            </div>
                        </Show>
                    </fieldset>

                    <div class="form-actions">
                        <button
                            type="submit"
                            class="btn btn-primary"
                            data-testid="licence-save"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                        >
                            {move || if pending.get() { "Saving…" } else { "Save licence" }}
                        </button>
                        <a class="btn btn-secondary" href="/licences">
                            "Cancel"
                        </a>
                    </div>
            </form>
        }
}
