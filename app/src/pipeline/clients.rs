//! The clients list: companies and people with how many deals they have and
//! what they bought (so a repeat buyer stands out), sorted by any figure, a
//! form to add a client or change one, and a call logged about a client.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::deal::{LogActivity, LoggedOn};
use super::lists::{
    when, Client, ClientFilter, ClientForm, ClientList, ClientSort, ListBody, Order, SaveOrCancel, SortHeader,
};
use super::server::{list_clients, save_client};
use super::{format_rubles, ClientKind};
use crate::access::{Action, Module, Scope};
use crate::error::AppError;
use crate::shell::{use_ui, FormError};

#[component]
pub fn ClientsPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let kind = RwSignal::new(None::<ClientKind>);
    // A link may arrive searching already (`/clients?search=…`, from a deal page).
    let arrived = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("search")).unwrap_or_default();
    let search = RwSignal::new(arrived);
    let order = RwSignal::new(Order { by: ClientSort::Name, descending: false });
    let page = RwSignal::new(0i64);
    let reload = RwSignal::new(0u32);
    // The client being edited, or a blank one being added.
    let editing = RwSignal::new(None::<ClientForm>);
    let clients = LocalResource::new(move || {
        reload.track();
        list_clients(ClientFilter {
            kind: kind.get(),
            search: Some(search.get()).filter(|s| !s.trim().is_empty()),
            order: order.get(),
            page: page.get(),
        })
    });
    let can_create = move || ui.scope(Module::Deals, Action::Create) != Scope::None;
    let can_edit = move || ui.scope(Module::Deals, Action::Edit) != Scope::None;
    let blank = || ClientForm {
        id: None,
        name: String::new(),
        kind: ClientKind::Company,
        phone: String::new(),
        email: String::new(),
    };

    view! {
        <h1>{move || t().nav_clients}</h1>
        {move || can_create().then(|| view! {
            <button type="button" class="primary" on:click=move |_| editing.set(Some(blank()))>{move || t().new_client}</button>
        })}
        {move || editing.get().map(|form| view! { <ClientEditor form editing reload /> })}
        <div class="filters" role="search">
            <label>
                <span>{move || t().kind}</span>
                <select on:change=move |ev| { kind.set(event_target_value(&ev).parse().ok()); page.set(0); }>
                    <option value="">{move || t().all_kinds}</option>
                    {ClientKind::iter().map(|k| view! { <option value=k.as_str()>{move || t().client_kind(k)}</option> }).collect_view()}
                </select>
            </label>
            <label class="grow">
                <span>{move || t().search}</span>
                <input type="search" maxlength="100" prop:value=move || search.get()
                    on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); } />
            </label>
        </div>
        <ListBody list=clients empty=Signal::derive(move || t().no_clients) page table=move |list: ClientList| view! {
            <table data-testid="clients">
                <thead>
                    <tr>
                        <SortHeader order by=ClientSort::Name label=Signal::derive(move || t().name) page />
                        <th>{t().kind}</th>
                        <th>{t().phone}</th>
                        <th>{t().responsible}</th>
                        <SortHeader order by=ClientSort::Deals label=Signal::derive(move || t().deals_count) page />
                        <th>{t().won_deals}</th>
                        <SortHeader order by=ClientSort::Revenue label=Signal::derive(move || t().revenue) page />
                        <SortHeader order by=ClientSort::Created label=Signal::derive(move || t().created_at) page />
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|c| view! { <ClientRow client=c editing can_edit=can_edit() /> }).collect_view()}
                </tbody>
            </table>
        } />
    }
}

#[component]
fn ClientRow(client: Client, editing: RwSignal<Option<ClientForm>>, can_edit: bool) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let repeat = client.is_repeat();
    let logging = RwSignal::new(false);
    // Nothing in the row changes when an activity is logged, so the row says it was.
    let logged = RwSignal::new(false);
    let id = client.id;
    let form = ClientForm {
        id: Some(client.id),
        name: client.name.clone(),
        kind: client.kind,
        phone: client.phone.clone(),
        email: client.email.clone(),
    };
    view! {
        <tr>
            <td>
                {client.name.clone()}
                {(client.won_deals > 0).then(|| view! {
                    <span class=if repeat { "badge repeat" } else { "badge first" }>
                        {move || if repeat { t().repeat_client } else { t().first_time_client }}
                    </span>
                })}
                <div class="muted">{client.email.clone()}</div>
            </td>
            <td>{move || t().client_kind(client.kind)}</td>
            <td>{client.phone.clone()}</td>
            <td>{client.responsible.clone()}</td>
            <td class="num">{client.deals}</td>
            <td class="num">{client.won_deals}</td>
            <td class="num">{format_rubles(client.won_total)}</td>
            <td class="nowrap">{when(client.created_at)}</td>
            <td class="actions">
                {can_edit.then(|| view! {
                    <button type="button" aria-expanded=move || logging.get().to_string()
                        on:click=move |_| logging.update(|l| *l = !*l)>{move || t().log_call}</button>
                    <button type="button" on:click=move |_| editing.set(Some(form.clone()))>{move || t().edit}</button>
                })}
                <Show when=move || logged.get()>
                    <span class="muted" role="status">{move || t().saved}</span>
                </Show>
            </td>
        </tr>
        // A call about the client as a whole, not one deal; the activities list shows it.
        {move || logging.get().then(|| view! {
            <tr class="editing"><td colspan="9" on:keydown=move |ev| if ev.key() == "Escape" { logging.set(false) }>
                <LogActivity on=LoggedOn::Client(id) on_logged=Callback::new(move |_| {
                    logging.set(false);
                    logged.set(true);
                }) />
            </td></tr>
        })}
    }
}

#[component]
fn ClientEditor(form: ClientForm, editing: RwSignal<Option<ClientForm>>, reload: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let draft = RwSignal::new(form);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let data = draft.get_untracked();
        leptos::task::spawn_local(async move {
            match save_client(data).await {
                Ok(_) => {
                    editing.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card new-deal" data-testid="client-form" novalidate on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }>
            <label><span>{move || t().name}</span>
                <input type="text" maxlength="200" required prop:value=move || draft.with(|d| d.name.clone())
                    on:input=move |ev| draft.update(|d| d.name = event_target_value(&ev)) /></label>
            <label><span>{move || t().kind}</span>
                <select on:change=move |ev| if let Ok(k) = event_target_value(&ev).parse() { draft.update(|d| d.kind = k) }>
                    {ClientKind::iter().map(|k| view! {
                        <option value=k.as_str() prop:selected=move || draft.with(|d| d.kind == k)>{move || t().client_kind(k)}</option>
                    }).collect_view()}
                </select></label>
            <label><span>{move || t().phone}</span>
                <input type="tel" maxlength="40" prop:value=move || draft.with(|d| d.phone.clone())
                    on:input=move |ev| draft.update(|d| d.phone = event_target_value(&ev)) /></label>
            <label><span>{move || t().email}</span>
                <input type="email" maxlength="254" prop:value=move || draft.with(|d| d.email.clone())
                    on:input=move |ev| draft.update(|d| d.email = event_target_value(&ev)) /></label>
            <FormError error=error.into() />
            <SaveOrCancel busy cancel=move |_| editing.set(None) />
        </form>
    }
}
