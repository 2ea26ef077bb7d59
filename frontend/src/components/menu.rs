//! A "⋯" button that opens a short list of actions (a card's or a row's menu).
//!
//! The list closes on Escape (focus returns to the button), on a click outside
//! and when an action is chosen; arrow keys move between the actions.

use super::icons::{icon, Icon};
use leptos::html;
use leptos::prelude::*;

/// One action of a menu.
#[derive(Clone)]
pub struct MenuAction {
    pub label: String,
    pub testid: &'static str,
    pub run: Callback<()>,
}

#[component]
pub fn ActionMenu(
    /// The button's accessible name, e.g. "Actions for Studio Pro".
    #[prop(into)]
    label: String,
    actions: Vec<MenuAction>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let list = NodeRef::<html::Ul>::new();
    let menu_id = format!("menu-{}", uuid::Uuid::new_v4().simple());

    let items = move || -> Vec<web_sys::HtmlElement> {
        let Some(list) = list.get_untracked() else {
            return Vec::new();
        };
        let Ok(nodes) = list.query_selector_all("[role=menuitem]") else {
            return Vec::new();
        };
        (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
            .collect()
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    };
    // Focus the first action once the list is shown.
    Effect::new(move |_| {
        if open.get() {
            if let Some(first) = items().into_iter().next() {
                let _ = first.focus();
            }
        }
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if key == "Escape" {
            ev.prevent_default();
            close(true);
            return;
        }
        if key != "ArrowDown" && key != "ArrowUp" {
            return;
        }
        ev.prevent_default();
        let all = items();
        if all.is_empty() {
            return;
        }
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let at = all
            .iter()
            .position(|el| active.as_ref().is_some_and(|a| a == el.as_ref()))
            .unwrap_or(0);
        let next = if key == "ArrowDown" {
            (at + 1) % all.len()
        } else {
            (at + all.len() - 1) % all.len()
        };
        let _ = all[next].focus();
    };

    let controls = menu_id.clone();
    view! {
        <div class="menu" on:keydown=on_key>
            <button
                type="button"
                class="icon-btn"
                node_ref=button
                aria-label=label
                title="More actions"
                aria-haspopup="menu"
                aria-controls=controls
                aria-expanded=move || open.get().to_string()
                data-testid=testid
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {icon(Icon::More)}
            </button>
            <Show when=move || open.get()>
                // A click anywhere else closes the list.
                <div class="menu-backdrop" aria-hidden="true" on:click=move |_| close(false)></div>
            </Show>
            <ul id=menu_id class="menu-list" role="menu" node_ref=list hidden=move || !open.get()>
                {actions
                    .into_iter()
                    .map(|action| {
                        let run = action.run;
                        view! {
                            <li role="none">
                                <button
                                    type="button"
                                    role="menuitem"
                                    class="menu-item"
                                    data-testid=action.testid
                                    on:click=move |_| {
                                        // The button takes the focus back, so a dialog the
                                        // action opens returns it there.
                                        close(true);
                                        run.run(());
                                    }
                                >
                                    {action.label}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
