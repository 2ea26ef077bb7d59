//! Organisations (vendor staff): search, and for vendor admins, add one.

use crate::api::{self, ApiError};
use crate::components::dialog::Modal;
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{date, role_label};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows};
use crate::components::toast::use_toasts;
use crate::lookups;
use crate::resource::fetch;
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::UserId;
use leasehold_core::values::Role;
use leasehold_core::wire::{CreateOrganisation, ListQuery, OrganisationView};
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;

const PER_PAGE: u32 = 25;

#[component]
pub fn OrganisationsPage() -> impl IntoView {
    set_title("Organisations");
    let role = api::current_role();
    if !role.is_vendor() {
        return view! { <NoAccess what="Organisations" /> }.into_any();
    }
    let can_add = role == Role::VendorAdmin;
    let search = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let typed = StoredValue::new(0u64);
    let adding = RwSignal::new(false);

    let list = fetch(
        move || (q.get(), page.get()),
        |(q, page)| async move {
            let query = ListQuery {
                q: Some(q).filter(|q| !q.trim().is_empty()),
                page: Some(page),
                per_page: Some(PER_PAGE),
                ..Default::default()
            };
            api::call(async |c| c.list_organisations(&query).await).await
        },
    );
    let users = lookups::users(|| None);
    let manager_name = move |id: Option<UserId>| -> String {
        let Some(id) = id else {
            return "—".into();
        };
        users
            .with_ok(|list| {
                list.iter().find(|u| u.id == id).map(|u| {
                    if u.name.is_empty() {
                        u.email.clone()
                    } else {
                        u.name.clone()
                    }
                })
            })
            .flatten()
            .unwrap_or_else(|| "—".into())
    };

    let on_search = move |ev: leptos::ev::Event| {
        search.set(event_target_value(&ev));
        let ticket = typed.get_value() + 1;
        typed.set_value(ticket);
        spawn_local(async move {
            TimeoutFuture::new(300).await;
            if typed.try_get_value() == Some(ticket) {
                q.try_set(search.get_untracked());
                page.try_set(1);
            }
        });
    };

    view! {
        <PageHeader title="Organisations" subtitle="Your customers. Each one owns licences, devices and users.">
            {can_add
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="add-organisation"
                            on:click=move |_| adding.set(true)
                        >
                            {icon(Icon::Plus)}
                            "Add organisation"
                        </button>
                    }
                })}
        </PageHeader>
        <section class="card" aria-label="Organisations">
            <div class="toolbar" role="search">
                <div class="search">
                    {icon(Icon::Search)}
                    <label for="org-search" class="visually-hidden">
                        "Search organisations"
                    </label>
                    <input
                        id="org-search"
                        class="input search-input"
                        type="search"
                        placeholder="Search organisations…"
                        autocomplete="off"
                        data-testid="organisation-search"
                        prop:value=search
                        on:input=on_search
                    />
                </div>
            </div>
            <div class="table-wrap" class:is-loading=move || list.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" aria-busy=move || list.loading.get().to_string()>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Account manager"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col" class="col-actions">
                                <span class="visually-hidden">"Links"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            list.data
                                .with(|data| match data {
                                    None => view! { <SkeletonRows columns=4 /> }.into_any(),
                                    Some(Err(error)) => {
                                        view! {
                                            <tr>
                                                <td colspan="4">
                                                    <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| list.reload()) />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) if p.items.is_empty() => {
                                        let searching = !q.get_untracked().trim().is_empty();
                                        view! {
                                            <tr>
                                                <td colspan="4">
                                                    <EmptyState
                                                        title=if searching { "No organisations match" } else { "No organisations yet" }
                                                        hint=if searching {
                                                            "Try another name."
                                                        } else {
                                                            "Add the first customer organisation to assign licences to it."
                                                        }
                                                        symbol=Icon::Building
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) => {
                                        p.items
                                            .iter()
                                            .map(|o| org_row(o, manager_name(o.account_manager_id)))
                                            .collect_view()
                                            .into_any()
                                    }
                                })
                        }}
                    </tbody>
                </table>
            </div>
            <Pagination
                page=page
                per_page=Signal::derive(move || list.with_ok(|p| p.per_page).unwrap_or(PER_PAGE))
                total=Signal::derive(move || list.with_ok(|p| p.total).unwrap_or(0))
                busy=list.loading
                on_page=Callback::new(move |p| page.set(p))
            />
        </section>
        {move || {
            adding
                .get()
                .then(|| {
                    view! {
                        <AddOrganisationDialog
                            on_close=Callback::new(move |_| adding.set(false))
                            on_created=Callback::new(move |_| {
                                adding.set(false);
                                list.reload();
                            })
                        />
                    }
                })
        }}
    }
    .into_any()
}

fn org_row(o: &OrganisationView, manager: String) -> impl IntoView {
    view! {
        <tr data-testid="organisation-row">
            <td class="strong">{o.name.clone()}</td>
            <td>{manager}</td>
            <td>{date(o.created_at)}</td>
            <td class="col-actions">
                <a class="btn btn-ghost btn-sm" href=format!("/licences?organisation={}", o.id)>
                    "Licences"
                    {icon(Icon::ChevronRight)}
                </a>
            </td>
        </tr>
    }
}

#[component]
fn AddOrganisationDialog(on_close: Callback<()>, on_created: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let manager = RwSignal::new(None::<UserId>);
    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);
    let users = lookups::users(|| None);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value = name.get_untracked().trim().to_string();
        if value.is_empty() {
            errors.set(Some(ApiError::invalid(vec![FieldError::new(
                "name",
                "required",
                "Enter the organisation's name.",
            )])));
            return;
        }
        errors.set(None);
        pending.set(true);
        let body = CreateOrganisation {
            name: value,
            account_manager_id: manager.get_untracked(),
        };
        spawn_local(async move {
            let result = api::call(async |c| c.create_organisation(&body).await).await;
            pending.try_set(false);
            match result {
                Ok(created) => {
                    toasts.success(format!("Organisation {} created", created.name));
                    on_created.run(());
                }
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };
    let name_error = field_error(errors, &["name"]);
    let manager_error = field_error(errors, &["account_manager_id"]);

    view! {
            <Modal title="Add organisation" on_close=on_close testid="organisation-dialog">
                <form class="form" on:submit=submit novalidate=true>
                    <div class="modal-body">
                        <FormError errors=errors claimed=&["name", "account_manager_id"] />
                        <Field label="Name" id="org-name" error=name_error>
                            <input
                                id="org-name"
                                class="input"
                                type="text"
                                maxlength="200"
                                autocomplete="organization"
                                data-testid="organisation-name"
                                aria-invalid=invalid(name_error)
                                aria-describedby="org-name-msg"
                                prop:value=name
                                on:input=move |ev| {
        name.set(event_target_value(&ev));
        clear_field(errors, &["name"]);
    }
                            />
                        </Field>
                        <Field label="Account manager" id="org-manager" error=manager_error optional=true>
                            <select
                                id="org-manager"
                                class="select"
                                aria-invalid=invalid(manager_error)
                                aria-describedby="org-manager-msg"
                                on:change=move |ev| manager.set(event_target_value(&ev).parse().ok())
                            >
                                <option value="">"Nobody yet"</option>
                                {move || {
                                    users
                                        .with_ok(|list| {
                                            list.iter()
                                                .filter(|u| u.role == Role::AccountManager)
                                                .map(|u| {
                                                    view! {
                                                        <option value=u.id.to_string()>
                                                            {format!("{} ({})", if u.name.is_empty() { &u.email } else { &u.name }, role_label(u.role))}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()
                                        })
                                }}
                            </select>
                        </Field>
                    </div>
                    <div class="modal-footer">
                        <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                            "Cancel"
                        </button>
                        <button
                            type="submit"
                            class="btn btn-primary"
                            data-testid="dialog-confirm"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                        >
                            {move || if pending.get() { "Adding…" } else { "Add organisation" }}
                        </button>
                    </div>
                </form>
            </Modal>
        }
}
