//! Lists used to fill dropdowns and to turn ids into names.

use crate::api;
use crate::resource::{fetch, fetch_once, Fetch};
use leasehold_core::ids::OrganisationId;
use leasehold_core::values::Role;
use leasehold_core::wire::{ListQuery, OrganisationView, Page, ProductView, UserView};
use leptos::prelude::*;

/// The most a list endpoint returns at once; dropdowns show this many.
pub const MAX_PER_PAGE: u32 = 100;

/// Organisations the caller may see (vendor roles; others get an empty list
/// without asking).
pub fn organisations() -> Fetch<Vec<OrganisationView>> {
    let vendor = api::current_role().is_vendor();
    fetch_once(move || async move {
        if !vendor {
            return Ok(Vec::new());
        }
        let query = ListQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_organisations(&query).await)
            .await
            .map(sorted_orgs)
    })
}

fn sorted_orgs(page: Page<OrganisationView>) -> Vec<OrganisationView> {
    let mut items = page.items;
    items.sort_by_key(|o| o.name.to_lowercase());
    items
}

/// The options of an organisation picker: `none_label` for no organisation
/// ("All organisations" in a filter), then each organisation by name,
/// `selected` marked.
#[component]
pub fn OrganisationOptions(
    orgs: Fetch<Vec<OrganisationView>>,
    #[prop(into)] selected: Signal<Option<OrganisationId>>,
    #[prop(default = "All organisations")] none_label: &'static str,
) -> impl IntoView {
    view! {
        <option value="" prop:selected=move || selected.get().is_none()>
            {none_label}
        </option>
        {move || {
            orgs.with_ok(|list| {
                list.iter()
                    .map(|o| {
                        let id = o.id;
                        view! {
                            <option value=id.to_string() prop:selected=move || selected.get() == Some(id)>
                                {o.name.clone()}
                            </option>
                        }
                    })
                    .collect_view()
            })
        }}
    }
}

pub fn org_name(orgs: &Fetch<Vec<OrganisationView>>, id: OrganisationId) -> Option<String> {
    orgs.with_ok(|list| list.iter().find(|o| o.id == id).map(|o| o.name.clone()))
        .flatten()
}

/// Users the caller may see, optionally of one organisation; reloads when
/// `organisation` changes.
pub fn users(organisation: impl Fn() -> Option<OrganisationId> + 'static) -> Fetch<Vec<UserView>> {
    fetch(organisation, |organisation| async move {
        let query = ListQuery {
            organisation,
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_users(&query).await).await.map(|page| {
            let mut items = page.items;
            items.sort_by_key(|u| u.email.clone());
            items
        })
    })
}

/// Customers' users only (the ones that can own a licence).
pub fn customer_users(list: &[UserView], organisation: Option<OrganisationId>) -> Vec<UserView> {
    list.iter()
        .filter(|u| !u.role.is_vendor())
        .filter(|u| organisation.is_none() || u.organisation_id == organisation)
        .cloned()
        .collect()
}

pub fn products() -> Fetch<Vec<ProductView>> {
    fetch_once(|| async {
        let query = ListQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_products(&query).await)
            .await
            .map(|page| page.items)
    })
}

/// Roles a user with `role` may give to a new user.
pub fn assignable_roles(role: Role) -> &'static [Role] {
    match role {
        Role::VendorAdmin => Role::ALL,
        Role::OrgAdmin => &[Role::OrgAdmin, Role::OrgViewer, Role::Member],
        _ => &[],
    }
}
