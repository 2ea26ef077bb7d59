//! Users and API keys, as two tabs of one page (`/users`, `/users?tab=keys`).

use crate::api::{self, ApiError};
use crate::components::dialog::{ConfirmDialog, Modal};
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{date, datetime_full, relative, role_label, scope_label};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::pills::RolePill;
use crate::components::secret::SecretDialog;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows};
use crate::components::toast::use_toasts;
use crate::lookups::{self, OrganisationOptions};
use crate::resource::{fetch, Fetch};
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::{ApiKeyId, OrganisationId};
use leasehold_core::values::{ApiScope, Role};
use leasehold_core::wire::{ApiKeyView, CreateApiKey, CreateUser, ListQuery, OrganisationView, UserView};
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

const PER_PAGE: u32 = 25;

#[component]
pub fn UsersPage() -> impl IntoView {
    set_title("Users & API keys");
    let role = api::current_role();
    if !matches!(role, Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin) {
        return view! { <NoAccess what="Users and API keys" /> }.into_any();
    }
    let query = use_query_map();
    let navigate = use_navigate();
    let keys_tab = Memo::new(move |_| query.with(|q| q.get("tab").as_deref() == Some("keys")));
    let select = move |keys: bool| {
        let to = if keys { "/users?tab=keys" } else { "/users" };
        navigate(
            to,
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    };
    let orgs = lookups::organisations();
    let select_users = select.clone();
    let select_keys = select.clone();
    let select_left = select.clone();

    view! {
        <PageHeader title="Users & API keys" subtitle="People who sign in to the console, and the keys integrations use." />
        <div class="tabs" role="tablist" aria-label="Users and API keys">
            <button
                type="button"
                role="tab"
                id="tab-users"
                class="tab"
                aria-selected=move || (!keys_tab.get()).to_string()
                aria-controls="panel-users"
                tabindex=move || if keys_tab.get() { "-1" } else { "0" }
                data-testid="tab-users"
                on:click=move |_| select_users(false)
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "ArrowRight" {
                        select(true);
                        focus("tab-keys");
                    }
                }
            >
                {icon(Icon::Users)}
                "Users"
            </button>
            <button
                type="button"
                role="tab"
                id="tab-keys"
                class="tab"
                aria-selected=move || keys_tab.get().to_string()
                aria-controls="panel-keys"
                tabindex=move || if keys_tab.get() { "0" } else { "-1" }
                data-testid="tab-keys"
                on:click=move |_| select_keys(true)
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "ArrowLeft" {
                        select_left(false);
                        focus("tab-users");
                    }
                }
            >
                {icon(Icon::Key)}
                "API keys"
            </button>
        </div>
        {move || {
            if keys_tab.get() {
                view! {
                    <div role="tabpanel" id="panel-keys" aria-labelledby="tab-keys">
                        <ApiKeysPanel orgs=orgs />
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <div role="tabpanel" id="panel-users" aria-labelledby="tab-users">
                        <UsersPanel orgs=orgs />
                    </div>
                }
                    .into_any()
            }
        }}
    }
    .into_any()
}

fn focus(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        use wasm_bindgen::JsCast;
        if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
            let _ = element.focus();
        }
    }
}

fn org_label(orgs: Fetch<Vec<OrganisationView>>, id: Option<OrganisationId>) -> String {
    match id {
        None => "Vendor".into(),
        Some(id) => lookups::org_name(&orgs, id)
            .or_else(|| {
                api::current_me()
                    .filter(|me| me.organisation_id == Some(id))
                    .and_then(|me| me.organisation_name)
            })
            .unwrap_or_else(|| format!("Organisation {}", crate::components::format::short_id(id))),
    }
}

// ------------------------------------------------------------------ users

#[component]
fn UsersPanel(orgs: Fetch<Vec<OrganisationView>>) -> impl IntoView {
    let role = api::current_role();
    let can_add = !lookups::assignable_roles(role).is_empty();
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
            api::call(async |c| c.list_users(&query).await).await
        },
    );
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
        <section class="card" aria-label="Users">
            <div class="toolbar" role="search">
                <div class="search">
                    {icon(Icon::Search)}
                    <label for="user-search" class="visually-hidden">
                        "Search users"
                    </label>
                    <input
                        id="user-search"
                        class="input search-input"
                        type="search"
                        placeholder="Search e-mail or name…"
                        autocomplete="off"
                        data-testid="user-search"
                        prop:value=search
                        on:input=on_search
                    />
                </div>
                <div class="toolbar-end">
                    {can_add
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid="add-user"
                                    on:click=move |_| adding.set(true)
                                >
                                    {icon(Icon::Plus)}
                                    "Add user"
                                </button>
                            }
                        })}
                </div>
            </div>
            <div class="table-wrap" class:is-loading=move || list.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" aria-busy=move || list.loading.get().to_string()>
                    <thead>
                        <tr>
                            <th scope="col">"E-mail"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Organisation"</th>
                            <th scope="col">"Added"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            list.data
                                .with(|data| match data {
                                    None => view! { <SkeletonRows columns=5 /> }.into_any(),
                                    Some(Err(error)) => {
                                        view! {
                                            <tr>
                                                <td colspan="5">
                                                    <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| list.reload()) />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) if p.items.is_empty() => {
                                        view! {
                                            <tr>
                                                <td colspan="5">
                                                    <EmptyState
                                                        title="No users found"
                                                        hint="Try another keyword, or add a user."
                                                        symbol=Icon::Users
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) => p.items.iter().map(|u| user_row(u, orgs)).collect_view().into_any(),
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
                        <AddUserDialog
                            orgs=orgs
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
}

fn user_row(u: &UserView, orgs: Fetch<Vec<OrganisationView>>) -> impl IntoView {
    let organisation = if u.role.is_vendor() {
        "Vendor".to_string()
    } else {
        org_label(orgs, u.organisation_id)
    };
    view! {
        <tr data-testid="user-row">
            <td class="strong">{u.email.clone()}</td>
            <td>{if u.name.is_empty() { "—".to_string() } else { u.name.clone() }}</td>
            <td>
                <RolePill role=u.role />
            </td>
            <td>{organisation}</td>
            <td title=datetime_full(u.created_at)>{date(u.created_at)}</td>
        </tr>
    }
}

#[component]
fn AddUserDialog(
    orgs: Fetch<Vec<OrganisationView>>,
    on_close: Callback<()>,
    on_created: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let me_role = api::current_role();
    let roles = lookups::assignable_roles(me_role);
    let choose_org = me_role == Role::VendorAdmin;
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(if choose_org { Role::OrgAdmin } else { Role::Member });
    let organisation = RwSignal::new(None::<OrganisationId>);
    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let email_value = email.get_untracked().trim().to_string();
        if email_value.is_empty() {
            problems.push(FieldError::new("email", "required", "Enter an e-mail address."));
        }
        let password_value = password.get_untracked();
        if password_value.chars().count() < 10 {
            problems.push(FieldError::new("password", "too_short", "Use at least 10 characters."));
        }
        let role_value = role.get_untracked();
        let organisation_value = if choose_org && !role_value.is_vendor() {
            if organisation.get_untracked().is_none() {
                problems.push(FieldError::new(
                    "organisation_id",
                    "required",
                    "Choose the organisation this user belongs to.",
                ));
            }
            organisation.get_untracked()
        } else {
            None
        };
        if !problems.is_empty() {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        }
        errors.set(None);
        pending.set(true);
        let body = CreateUser {
            email: email_value,
            name: name.get_untracked().trim().to_string(),
            password: password_value,
            role: role_value,
            organisation_id: organisation_value,
        };
        spawn_local(async move {
            let result = api::call(async |c| c.create_user(&body).await).await;
            pending.try_set(false);
            match result {
                Ok(user) => {
                    toasts.success(format!("User {} added", user.email));
                    on_created.run(());
                }
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };

    let email_error = field_error(errors, &["email"]);
    let name_error = field_error(errors, &["name"]);
    let password_error = field_error(errors, &["password"]);
    let role_error = field_error(errors, &["role"]);
    let org_error = field_error(errors, &["organisation_id", "organisation"]);

    view! {
            <Modal title="Add user" on_close=on_close testid="user-dialog">
                <form class="form" on:submit=submit novalidate=true>
                    <div class="modal-body">
                        <FormError
                            errors=errors
                            claimed=&["email", "name", "password", "role", "organisation_id", "organisation"]
                        />
                        <Field label="E-mail" id="user-email" error=email_error>
                            <input
                                id="user-email"
                                class="input"
                                type="email"
                                autocomplete="off"
                                data-testid="user-email"
                                aria-invalid=invalid(email_error)
                                aria-describedby="user-email-msg"
                                prop:value=email
                                on:input=move |ev| {
        email.set(event_target_value(&ev));
        clear_field(errors, &["email"]);
    }
                            />
                        </Field>
                        <Field label="Name" id="user-name" error=name_error optional=true>
                            <input
                                id="user-name"
                                class="input"
                                type="text"
                                autocomplete="off"
                                data-testid="user-name"
                                aria-invalid=invalid(name_error)
                                aria-describedby="user-name-msg"
                                prop:value=name
                                on:input=move |ev| {
        name.set(event_target_value(&ev));
        clear_field(errors, &["name"]);
    }
                            />
                        </Field>
                        <Field label="Password" id="user-password" error=password_error hint="At least 10 characters. Share it safely.">
                            <input
                                id="user-password"
                                class="input"
                                type="password"
                                autocomplete="new-password"
                                data-testid="user-password"
                                aria-invalid=invalid(password_error)
                                aria-describedby="user-password-msg"
                                prop:value=password
                                on:input=move |ev| {
        password.set(event_target_value(&ev));
        clear_field(errors, &["password"]);
    }
                            />
                        </Field>
                        <Field label="Role" id="user-role" error=role_error>
                            <select
                                id="user-role"
                                class="select"
                                data-testid="user-role"
                                aria-invalid=invalid(role_error)
                                aria-describedby="user-role-msg"
                                on:change=move |ev| {
                                    if let Some(r) = Role::parse(&event_target_value(&ev)) {
                                        role.set(r);
                                    }
                                }
                            >
                                {roles
                                    .iter()
                                    .map(|r| {
                                        let r = *r;
                                        view! {
                                            <option value=r.as_str() prop:selected=move || role.get() == r>
                                                {role_label(r)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </Field>
                        {move || {
                            (choose_org && !role.get().is_vendor())
                                .then(|| {
                                    view! {
                                        <Field label="Organisation" id="user-organisation" error=org_error>
                                            <select
                                                id="user-organisation"
                                                class="select"
                                                data-testid="user-organisation"
                                                aria-invalid=invalid(org_error)
                                                aria-describedby="user-organisation-msg"
                                                on:change=move |ev| {
        organisation.set(event_target_value(&ev).parse().ok());
        clear_field(errors, &["organisation_id", "organisation"]);
    }
                                            >
                                                <OrganisationOptions orgs=orgs selected=organisation none_label="Choose an organisation…" />
                                            </select>
                                        </Field>
                                    }
                                })
                        }}
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
                            {move || if pending.get() { "Adding…" } else { "Add user" }}
                        </button>
                    </div>
                </form>
            </Modal>
        }
}

// ------------------------------------------------------------------ API keys

#[component]
fn ApiKeysPanel(orgs: Fetch<Vec<OrganisationView>>) -> impl IntoView {
    let role = api::current_role();
    let can_manage = matches!(role, Role::VendorAdmin | Role::OrgAdmin);
    let page = RwSignal::new(1u32);
    let creating = RwSignal::new(false);
    let secret = RwSignal::new(None::<(String, String)>);
    let to_revoke = RwSignal::new(None::<(ApiKeyId, String)>);
    let revoking = RwSignal::new(false);
    let toasts = use_toasts();
    let list = fetch(
        move || page.get(),
        |page| async move {
            let query = ListQuery {
                page: Some(page),
                per_page: Some(PER_PAGE),
                ..Default::default()
            };
            api::call(async |c| c.list_api_keys(&query).await).await
        },
    );
    let columns = if can_manage { 8 } else { 7 };

    let revoke = move |_| {
        let Some((id, name)) = to_revoke.get_untracked() else {
            return;
        };
        revoking.set(true);
        spawn_local(async move {
            let result = api::call(async |c| c.revoke_api_key(id).await).await;
            revoking.try_set(false);
            to_revoke.try_set(None);
            match result {
                Ok(_) => {
                    toasts.success(format!("API key {name} revoked"));
                    list.reload();
                }
                Err(error) => toasts.error(error.summary()),
            }
        });
    };

    view! {
        <section class="card" aria-label="API keys">
            <div class="toolbar">
                <p class="muted toolbar-text">
                    "Integrations send a key as "
                    <code>"Authorization: Bearer <key>"</code>
                    ". A key can do only what its scopes allow."
                </p>
                <div class="toolbar-end">
                    {can_manage
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid="create-api-key"
                                    on:click=move |_| creating.set(true)
                                >
                                    {icon(Icon::Plus)}
                                    "Create key"
                                </button>
                            }
                        })}
                </div>
            </div>
            <div class="table-wrap" class:is-loading=move || list.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" aria-busy=move || list.loading.get().to_string()>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Prefix"</th>
                            <th scope="col">"Scopes"</th>
                            <th scope="col">"Organisation"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">"Status"</th>
                            {can_manage
                                .then(|| {
                                    view! {
                                        <th scope="col" class="col-actions">
                                            <span class="visually-hidden">"Actions"</span>
                                        </th>
                                    }
                                })}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            list.data
                                .with(|data| match data {
                                    None => view! { <SkeletonRows columns=columns /> }.into_any(),
                                    Some(Err(error)) => {
                                        view! {
                                            <tr>
                                                <td colspan=columns.to_string()>
                                                    <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| list.reload()) />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) if p.items.is_empty() => {
                                        view! {
                                            <tr>
                                                <td colspan=columns.to_string()>
                                                    <EmptyState
                                                        title="No API keys yet"
                                                        hint="Create a key for each integration, with only the scopes it needs."
                                                        symbol=Icon::Key
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) => {
                                        p.items
                                            .iter()
                                            .map(|k| key_row(k, orgs, can_manage, to_revoke))
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
            creating
                .get()
                .then(|| {
                    view! {
                        <CreateKeyDialog
                            orgs=orgs
                            on_close=Callback::new(move |_| creating.set(false))
                            on_created=Callback::new(move |created: (String, String)| {
                                creating.set(false);
                                secret.set(Some(created));
                                list.reload();
                            })
                        />
                    }
                })
        }}
        {move || {
            secret
                .get()
                .map(|(name, key)| {
                    view! {
                        <SecretDialog
                            title=format!("API key {name} created")
                            label="Secret key"
                            what="API key"
                            value=key
                            testid="api-key"
                            on_close=Callback::new(move |_| secret.set(None))
                        />
                    }
                })
        }}
        {move || {
            to_revoke
                .get()
                .map(|(_, name)| {
                    view! {
                        <ConfirmDialog
                            title=format!("Revoke API key {name}?")
                            message="Integrations using this key stop working at once. This cannot be undone."
                            confirm_label="Yes, revoke"
                            danger=true
                            busy=revoking
                            on_confirm=Callback::new(revoke)
                            on_cancel=Callback::new(move |_| to_revoke.set(None))
                        />
                    }
                })
        }}
    }
}

fn key_row(
    k: &ApiKeyView,
    orgs: Fetch<Vec<OrganisationView>>,
    can_manage: bool,
    to_revoke: RwSignal<Option<(ApiKeyId, String)>>,
) -> impl IntoView {
    let id = k.id;
    let name = k.name.clone();
    let revoked = k.revoked_at.is_some();
    let organisation = match k.organisation_id {
        None => "Vendor-wide".to_string(),
        some => org_label(orgs, some),
    };
    view! {
        <tr data-testid="api-key-row" class:row-muted=revoked>
            <td class="strong">{k.name.clone()}</td>
            <td>
                <code>{format!("{}…", k.prefix)}</code>
            </td>
            <td>
                <div class="tags">
                    {k.scopes.iter().map(|s| view! { <span class="tag" title=scope_label(*s)>{s.as_str()}</span> }).collect_view()}
                </div>
            </td>
            <td>{organisation}</td>
            <td title=datetime_full(k.created_at)>{date(k.created_at)}</td>
            <td>
                {match k.last_used_at {
                    Some(at) => view! { <span title=datetime_full(at)>{relative(at)}</span> }.into_any(),
                    None => view! { <span class="muted">"Never"</span> }.into_any(),
                }}
            </td>
            <td>
                {match k.revoked_at {
                    Some(at) => {
                        view! { <span class="pill pill-expired" title=datetime_full(at)>{format!("Revoked {}", date(at))}</span> }
                            .into_any()
                    }
                    None => view! { <span class="pill pill-active">"Active"</span> }.into_any(),
                }}
            </td>
            {can_manage
                .then(|| {
                    view! {
                        <td class="col-actions">
                            {(!revoked)
                                .then(|| {
                                    let name = name.clone();
                                    view! {
                                        <button
                                            type="button"
                                            class="btn btn-ghost btn-sm btn-ghost-danger"
                                            data-testid="revoke-api-key"
                                            aria-label=format!("Revoke API key {name}")
                                            on:click=move |_| to_revoke.set(Some((id, name.clone())))
                                        >
                                            "Revoke"
                                        </button>
                                    }
                                })}
                        </td>
                    }
                })}
        </tr>
    }
}

#[component]
fn CreateKeyDialog(
    orgs: Fetch<Vec<OrganisationView>>,
    on_close: Callback<()>,
    /// Receives `(name, secret key)`.
    on_created: Callback<(String, String)>,
) -> impl IntoView {
    let choose_org = api::current_role() == Role::VendorAdmin;
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![ApiScope::LicencesRead]);
    let organisation = RwSignal::new(None::<OrganisationId>);
    let pending = RwSignal::new(false);
    let errors = RwSignal::new(None::<ApiError>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let name_value = name.get_untracked().trim().to_string();
        if name_value.is_empty() {
            problems.push(FieldError::new(
                "name",
                "required",
                "Name the integration that will use the key.",
            ));
        }
        let chosen = scopes.get_untracked();
        if chosen.is_empty() {
            problems.push(FieldError::new("scopes", "required", "Choose at least one scope."));
        }
        if !problems.is_empty() {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        }
        errors.set(None);
        pending.set(true);
        let body = CreateApiKey {
            name: name_value.clone(),
            organisation_id: if choose_org { organisation.get_untracked() } else { None },
            scopes: chosen,
        };
        spawn_local(async move {
            let result = api::call(async |c| c.create_api_key(&body).await).await;
            pending.try_set(false);
            match result {
                Ok(created) => on_created.run((name_value, created.key)),
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };
    let name_error = field_error(errors, &["name"]);
    let scopes_error = field_error(errors, &["scopes"]);
    let org_error = field_error(errors, &["organisation_id"]);

    view! {
            <Modal title="Create API key" on_close=on_close testid="api-key-dialog">
                <form class="form" on:submit=submit novalidate=true>
                    <div class="modal-body">
                        <FormError errors=errors claimed=&["name", "scopes", "organisation_id"] />
                        <Field label="Name" id="key-name" error=name_error hint="Which integration uses it, e.g. \"Build farm\".">
                            <input
                                id="key-name"
                                class="input"
                                type="text"
                                maxlength="200"
                                autocomplete="off"
                                data-testid="api-key-name"
                                aria-invalid=invalid(name_error)
                                aria-describedby="key-name-msg"
                                prop:value=name
                                on:input=move |ev| {
        name.set(event_target_value(&ev));
        clear_field(errors, &["name"]);
    }
                            />
                        </Field>
                        <fieldset class="fieldset" aria-describedby="key-scopes-msg">
                            <legend class="field-label">"Scopes"</legend>
                            {ApiScope::ALL
                                .iter()
                                .map(|s| {
                                    let s = *s;
                                    view! {
                                        <label class="checkbox">
                                            <input
                                                type="checkbox"
                                                value=s.as_str()
                                                data-testid=format!("scope-{}", s.as_str().replace(':', "-"))
                                                prop:checked=move || scopes.with(|list| list.contains(&s))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    scopes
                                                        .update(|list| {
                                                            list.retain(|x| *x != s);
                                                            if on {
                                                                list.push(s);
                                                            }
                                                        });
                                                    clear_field(errors, &["scopes"]);
                                                }
                                            />
                                            <span>
                                                <code>{s.as_str()}</code>
                                                <span class="muted small block">{scope_label(s)}</span>
                                            </span>
                                        </label>
                                    }
                                })
                                .collect_view()}
                            <div id="key-scopes-msg" class="field-msg">
                                {move || scopes_error.get().map(|m| view! { <p class="field-error">{icon(Icon::Alert)}{m}</p> })}
                            </div>
                        </fieldset>
                        {choose_org
                            .then(|| {
                                view! {
                                    <Field label="Organisation" id="key-organisation" error=org_error optional=true>
                                        <select
                                            id="key-organisation"
                                            class="select"
                                            data-testid="api-key-organisation"
                                            aria-invalid=invalid(org_error)
                                            aria-describedby="key-organisation-msg"
                                            on:change=move |ev| {
        organisation.set(event_target_value(&ev).parse().ok());
        clear_field(errors, &["organisation_id", "organisation"]);
    }
                                        >
                                            <OrganisationOptions orgs=orgs selected=organisation none_label="Vendor-wide (every organisation)" />
                                        </select>
                                    </Field>
                                }
                            })}
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
                            {move || if pending.get() { "Creating…" } else { "Create key" }}
                        </button>
                    </div>
                </form>
            </Modal>
        }
}
