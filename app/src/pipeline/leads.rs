//! The leads list: newest first, filtered by status and text, a page at a
//! time; a form for a new lead; logging a call on one, taking it on,
//! refusing it with a reason or turning it into a deal.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::deal::{LogActivity, LoggedOn};
use super::lists::{finish_edit, span, when, LeadSort, ListBody, Order, SortHeader};
use super::server::{create_lead, list_leads, list_pipelines, people_options, set_lead_status, update_lead};
use super::{Lead, LeadEdit, LeadFilter, LeadPage, LeadStatus, NewLeadForm};
use crate::access::{Action, Module, Scope};
use crate::error::AppError;
use crate::i18n::SOURCE_KEYS;
use crate::org::UserId;
use crate::shell::{use_ui, FormError};

#[component]
pub fn LeadsPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let status = RwSignal::new(None::<LeadStatus>);
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0i64);
    let order = RwSignal::new(Order::<LeadSort>::default());
    let reload = RwSignal::new(0u32);
    let leads = LocalResource::new(move || {
        let filter = LeadFilter {
            status: status.get(),
            search: Some(search.get()).filter(|s| !s.trim().is_empty()),
            order: order.get(),
            page: page.get(),
        };
        reload.track();
        list_leads(filter)
    });
    let can_create = move || ui.scope(Module::Leads, Action::Create) != Scope::None;
    let error = RwSignal::new(None::<AppError>);

    view! {
        <h1>{move || t().leads_title}</h1>
        {move || can_create().then(|| view! { <NewLead reload /> })}
        <div class="filters" role="search">
            <label>
                <span>{move || t().status}</span>
                <select on:change=move |ev| { status.set(event_target_value(&ev).parse().ok()); page.set(0); }>
                    <option value="">{move || t().all_statuses}</option>
                    {LeadStatus::iter().map(|s| view! { <option value=s.as_str()>{move || t().lead_status(s)}</option> }).collect_view()}
                </select>
            </label>
            <label class="grow">
                <span>{move || t().search}</span>
                <input type="search" maxlength="100" on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); } />
            </label>
        </div>
        <FormError error=error.into() />
        <ListBody list=leads empty=Signal::derive(move || t().no_leads) page table=move |list: LeadPage| view! {
            <table data-testid="leads">
                <thead>
                    <tr>
                        <SortHeader order by=LeadSort::Title label=Signal::derive(move || t().title) page />
                        <th>{t().contact_name}</th>
                        <th>{t().source}</th>
                        <SortHeader order by=LeadSort::Responsible label=Signal::derive(move || t().responsible) page />
                        <SortHeader order by=LeadSort::Status label=Signal::derive(move || t().status) page />
                        <SortHeader order by=LeadSort::Created label=Signal::derive(move || t().created_at) page />
                        <th>{t().first_response}</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|lead| view! { <LeadRow lead reload error /> }).collect_view()}
                </tbody>
            </table>
        } />
    }
}

#[component]
fn LeadRow(lead: Lead, reload: RwSignal<u32>, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let refusing = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let logging = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let for_edit = lead.clone();
    let id = lead.id;
    let change = move |status: LeadStatus, reason: Option<String>| {
        leptos::task::spawn_local(async move {
            let pipeline = list_pipelines().await.ok().and_then(|p| p.into_iter().find(|p| !p.archived)).map(|p| p.id);
            match set_lead_status(id, status, reason, pipeline).await {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let status = lead.status;
    let can_take = matches!(status, LeadStatus::New | LeadStatus::Disqualified);
    let can_close = matches!(status, LeadStatus::New | LeadStatus::InWork);
    // A qualified lead's work goes on in its deal.
    let can_log = status != LeadStatus::Qualified;
    let waited = lead.first_response_at.map(|first| first - lead.created_at);
    view! {
        <tr>
            <td>
                {lead.title.clone()}
                <div class="muted">{lead.phone.clone()}</div>
                {(!lead.email.is_empty()).then(|| view! { <div class="muted">{lead.email.clone()}</div> })}
            </td>
            <td>{lead.contact_name.clone()}</td>
            <td>{move || t().source_name(&lead.source).to_string()}</td>
            <td>{lead.responsible.clone()}</td>
            <td>
                {move || t().lead_status(status)}
                {lead.disqualify_reason.clone().map(|r| view! { <div class="muted">{r}</div> })}
                {lead.deal_id.map(|d| view! { <div><a href=format!("/deals/{d}")>{move || t().open_deal}</a></div> })}
            </td>
            <td class="nowrap">{when(lead.created_at)}</td>
            <td class="nowrap" data-testid="first-response">
                {move || waited.map_or_else(|| t().not_yet.to_string(), |ms| span(ms, t()))}
            </td>
            <td class="actions">
                {can_log.then(|| view! {
                    <button type="button" aria-expanded=move || logging.get().to_string()
                        on:click=move |_| logging.update(|l| *l = !*l)>{move || t().log_call}</button>
                })}
                <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>{move || t().edit}</button>
                {can_take.then(|| view! { <button type="button" on:click=move |_| change(LeadStatus::InWork, None)>{move || t().take_in_work}</button> })}
                {can_close.then(|| view! {
                    <button type="button" on:click=move |_| change(LeadStatus::Qualified, None)>{move || t().qualify}</button>
                    <button type="button" on:click=move |_| refusing.update(|r| *r = !*r)>{move || t().disqualify}</button>
                })}
                {move || refusing.get().then(|| view! {
                    <form class="inline" on:submit=move |ev| { ev.prevent_default(); change(LeadStatus::Disqualified, Some(reason.get_untracked())); }>
                        <input type="text" maxlength="300" aria-label=move || t().disqualify_reason placeholder=move || t().disqualify_reason
                            on:input=move |ev| reason.set(event_target_value(&ev)) />
                        <button type="submit">{move || t().confirm}</button>
                    </form>
                })}
            </td>
        </tr>
        {move || logging.get().then(|| view! {
            <tr class="editing"><td colspan="8" on:keydown=move |ev| if ev.key() == "Escape" { logging.set(false) }>
                <LogActivity on=LoggedOn::Lead(id) on_logged=Callback::new(move |_| {
                    logging.set(false);
                    reload.update(|n| *n += 1);
                }) />
            </td></tr>
        })}
        {move || editing.get().then(|| view! {
            <tr class="editing"><td colspan="8"><EditLead lead=for_edit.clone() editing reload error /></td></tr>
        })}
    }
}

#[component]
fn NewLead(reload: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let form = RwSignal::new(NewLeadForm { source: "website".into(), ..Default::default() });
    // None: the person creating it.
    let responsible = RwSignal::new(None::<UserId>);
    let options = LocalResource::new(|| people_options(Module::Leads, Action::Create));
    let error = RwSignal::new(None::<AppError>);
    let open = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let data = form.get_untracked();
        let responsible_id = responsible.get_untracked();
        leptos::task::spawn_local(async move {
            match create_lead(data, responsible_id).await {
                Ok(_) => {
                    error.set(None);
                    open.set(false);
                    form.set(NewLeadForm { source: "website".into(), ..Default::default() });
                    responsible.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Only someone whose right covers colleagues has a choice to make.
    let choice = move || {
        let people = options.get().and_then(Result::ok)?.people;
        (people.len() > 1).then(|| {
            view! {
                <label><span>{move || t().responsible}</span>
                    <select data-testid="lead-responsible"
                        on:change=move |ev| responsible.set(event_target_value(&ev).parse().ok())>
                        <option value="" selected=move || responsible.get().is_none()>{move || t().me}</option>
                        {people.into_iter().map(|(id, name)| view! {
                            <option value=id.to_string() selected=move || responsible.get() == Some(id)>{name}</option>
                        }).collect_view()}
                    </select></label>
            }
        })
    };
    view! {
        <button type="button" class="primary" on:click=move |_| open.update(|o| *o = !*o)>{move || t().new_lead}</button>
        {move || open.get().then(|| view! {
            <form class="card new-deal" novalidate on:submit=submit>
                <LeadFields form />
                {choice}
                <FormError error=error.into() />
                <div class="actions"><button type="submit" class="primary">{t().create}</button></div>
            </form>
        })}
    }
}

/// Title, contact, phone, e-mail and source of a lead, for the new-lead and edit forms.
#[component]
fn LeadFields(form: RwSignal<NewLeadForm>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    view! {
        <label><span>{move || t().title}</span>
            <input type="text" maxlength="200" prop:value=move || form.with(|f| f.title.clone())
                on:input=move |ev| form.update(|f| f.title = event_target_value(&ev)) /></label>
        <label><span>{move || t().contact_name}</span>
            <input type="text" maxlength="200" prop:value=move || form.with(|f| f.contact_name.clone())
                on:input=move |ev| form.update(|f| f.contact_name = event_target_value(&ev)) /></label>
        <label><span>{move || t().phone}</span>
            <input type="tel" maxlength="40" prop:value=move || form.with(|f| f.phone.clone())
                on:input=move |ev| form.update(|f| f.phone = event_target_value(&ev)) /></label>
        <label><span>{move || t().email}</span>
            <input type="email" maxlength="254" autocomplete="off" prop:value=move || form.with(|f| f.email.clone())
                on:input=move |ev| form.update(|f| f.email = event_target_value(&ev)) /></label>
        <label><span>{move || t().source}</span>
            <select on:change=move |ev| form.update(|f| f.source = event_target_value(&ev))>
                {move || {
                    let current = form.with_untracked(|f| f.source.clone());
                    SOURCE_KEYS.iter().map(|k| view! {
                        <option value=*k selected=*k == current>{t().source_name(k).to_string()}</option>
                    }).collect_view()
                }}
            </select></label>
    }
}

/// Changes a lead in place; a stale version reloads the list with a message.
#[component]
fn EditLead(
    lead: Lead,
    editing: RwSignal<bool>,
    reload: RwSignal<u32>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let form = RwSignal::new(NewLeadForm {
        title: lead.title.clone(),
        source: lead.source.clone(),
        contact_name: lead.contact_name.clone(),
        phone: lead.phone.clone(),
        email: lead.email.clone(),
    });
    let own_error = RwSignal::new(None::<AppError>);
    let (id, version) = (lead.id, lead.version);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let edit = LeadEdit { id, version, form: form.get_untracked() };
        leptos::task::spawn_local(async move {
            finish_edit(update_lead(edit).await, editing, reload, error, own_error);
        });
    };
    view! {
        <form class="card new-deal" data-testid="edit-lead" novalidate on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { editing.set(false) }>
            <LeadFields form />
            <FormError error=own_error.into() />
            <div class="actions">
                <button type="button" on:click=move |_| editing.set(false)>{move || t().cancel}</button>
                <button type="submit" class="primary">{move || t().save}</button>
            </div>
        </form>
    }
}
