//! One deal: its card, how long it spent in each stage, its stage history
//! and its activities, with a quick form to log a call.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use leptos_router::params::ParamsMap;

use super::activities::{call_length, EditActivity};
use super::currency::{amount_label, currency_texts, CurrencyPicker};
use super::lists::{finish_edit, span, when, SaveOrCancel};
use super::server::{board_options, get_deal, list_pipelines, log_activity, update_deal};
use super::{
    format_rubles, parse_rubles, rubles_for_input, time_in_stages, ActivityKind, ClientId, DealEdit, DealEventKind,
    DealId, DealPage as DealData, LeadId, NewActivityForm, StageId,
};
use crate::access::{Action, Module, Scope};
use crate::error::{AppError, Problem};
use crate::i18n::SOURCE_KEYS;
use crate::shell::{use_ui, ErrorPage, FormError};

#[component]
pub fn DealPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<DealId>().ok()));
    let reload = RwSignal::new(0u32);
    // Outlives the edit form, so a conflict can still be told after it closes.
    let notice = RwSignal::new(None::<AppError>);
    let deal = LocalResource::new(move || {
        let id = id();
        reload.track();
        async move {
            match id {
                Some(id) => get_deal(id).await,
                None => Err(AppError::NotFound),
            }
        }
    });
    let pipelines = LocalResource::new(list_pipelines);
    let stage_name = move |id: Option<StageId>| -> String {
        let Some(id) = id else { return String::new() };
        pipelines
            .get()
            .and_then(Result::ok)
            .and_then(|p| p.into_iter().flat_map(|p| p.stages).find(|s| s.id == id).map(|s| s.name))
            .unwrap_or_else(|| format!("#{id}"))
    };

    view! {
        <a class="back" href="/board">{move || format!("← {}", t().back_to_board)}</a>
        <FormError error=notice.into() />
        {move || match deal.get() {
            None => view! { <p class="loading">{t().loading}</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
            Some(Ok(page)) => view! { <DealView page stage_name reload notice /> }.into_any(),
        }}
    }
}

#[component]
fn DealView(
    page: DealData,
    stage_name: impl Fn(Option<StageId>) -> String + Copy + Send + Sync + 'static,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let card = page.deal.card.clone();
    let card_currency = card.currency.clone();
    let spent = time_in_stages(&page.events, page.deal.closed_at.unwrap_or(page.now_ms));
    let events = page.events.clone();
    let activities = page.activities.clone();
    let deal_id = card.id;
    let editing = RwSignal::new(false);
    let can_edit = move || ui.scope(Module::Deals, Action::Edit) != Scope::None;
    let edit = DealEdit {
        id: deal_id,
        version: card.version,
        title: card.title.clone(),
        amount: card.own_amount(),
        currency: card.currency.clone(),
        client_name: card.client.clone().unwrap_or_default(),
        source: card.source.clone(),
        responsible_id: card.manager_id,
    };
    view! {
        <h1>{card.title.clone()}</h1>
        {move || (can_edit() && !editing.get()).then(|| view! {
            <button type="button" on:click=move |_| editing.set(true)>{move || t().edit_deal}</button>
        })}
        {move || editing.get().then(|| view! { <EditDeal edit=edit.clone() editing reload notice /> })}
        <section class="card facts">
            <div><span class="muted">{move || amount_label(t().lang, &card_currency)}</span><strong data-testid="deal-amount">{card.price()}</strong>
                {card.rubles_if_foreign().map(|rub| view! {
                    <span class="muted">{move || currency_texts(t().lang).in_rubles.replace("{rub}", &rub)}</span>
                })}
            </div>
            <div><span class="muted">{move || t().stage}</span><strong data-testid="deal-stage">{move || stage_name(Some(card.stage_id))}</strong></div>
            <div><span class="muted">{move || t().client}</span><strong>{card.client.clone().map(|name| {
                // The clients list, searched for this name: the deals and purchases of the client.
                let href = format!("/clients{}", ParamsMap::from_iter([("search", name.as_str())]).to_query_string());
                view! { <a href=href data-testid="deal-client">{name}</a> }
            })}</strong></div>
            <div><span class="muted">{move || t().responsible}</span><strong>{card.manager.clone()}</strong></div>
            <div><span class="muted">{move || t().created_at}</span><strong>{when(page.deal.created_at)}</strong></div>
            {page.deal.closed_at.map(|c| view! { <div><span class="muted">{move || t().closed_at}</span><strong>{when(c)}</strong></div> })}
            {page.deal.loss_reason.clone().map(|r| view! { <div><span class="muted">{move || t().loss_reason}</span><strong>{r}</strong></div> })}
        </section>
        <LogActivity on=LoggedOn::Deal(deal_id) on_logged=Callback::new(move |_| reload.update(|n| *n += 1)) />
        {(page.deal.closed_at.is_some() && can_edit()).then(|| view! {
            <RateDeal deal_id csat=page.deal.csat nps=page.deal.nps reload />
        })}
        <section class="card">
            <h2>{move || t().time_in_stages}</h2>
            <table>
                <tbody>
                    {spent.into_iter().map(|(stage, ms)| view! {
                        <tr><th scope="row">{move || stage_name(Some(stage))}</th><td>{move || span(ms, t())}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>{move || t().history}</h2>
            <ol class="history" data-testid="history">
                {events.into_iter().rev().map(|e| {
                    let text = move || match e.kind {
                        DealEventKind::Created => t().event_created.replace("{to}", &stage_name(e.to_stage_id)),
                        DealEventKind::Stage => t().event_stage.replace("{from}", &stage_name(e.from_stage_id)).replace("{to}", &stage_name(e.to_stage_id)),
                        DealEventKind::Responsible => t().event_responsible
                            .replace("{from}", e.from_user.as_deref().unwrap_or_default())
                            .replace("{to}", e.to_user.as_deref().unwrap_or_default()),
                    };
                    view! {
                        <li class:violation=e.skipped_required>
                            <span class="when muted">{when(e.at)}</span>
                            <span>{text}</span>
                            <span class="muted">{format!(" · {} · {}", e.actor, format_rubles(e.amount))}</span>
                            {e.skipped_required.then(|| view! { <span class="badge">{move || t().violation}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
        <section class="card">
            <h2>{move || t().activities}</h2>
            {if activities.is_empty() {
                view! { <p class="empty">{move || t().no_activities}</p> }.into_any()
            } else {
                view! {
                    <ul class="activities" data-testid="activities">
                        {activities.into_iter().map(|a| {
                            let correcting = RwSignal::new(false);
                            let for_edit = a.clone();
                            view! {
                                <li>
                                    <span class="when muted">{when(a.at)}</span>
                                    <strong>{move || t().activity_kind(a.kind)}</strong>
                                    {a.duration_s.map(|d| view! { " · " {move || call_length(d, t())} })}
                                    <span class="muted">{format!(" · {}", a.user)}</span>
                                    {move || (can_edit() && !correcting.get()).then(|| view! {
                                        " " <button type="button" class="link" on:click=move |_| correcting.set(true)>{move || t().edit}</button>
                                    })}
                                    {(!a.note.is_empty()).then(|| view! { <div>{a.note.clone()}</div> })}
                                    {move || correcting.get().then(|| view! {
                                        <EditActivity activity=for_edit.clone() editing=correcting reload notice />
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// The client's CSAT and NPS answers on a closed deal; empty is "not asked".
#[component]
fn RateDeal(deal_id: DealId, csat: Option<i64>, nps: Option<i64>, reload: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let csat = RwSignal::new(csat);
    let nps = RwSignal::new(nps);
    let save = ServerAction::<crate::kpi::server::RateDeal>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    let choice = |value: RwSignal<Option<i64>>, range: std::ops::RangeInclusive<i64>| {
        view! {
            <select on:change=move |ev| value.set(event_target_value(&ev).parse().ok())>
                <option value="" prop:selected=move || value.get().is_none()>"—"</option>
                {range.map(|v| view! { <option value=v prop:selected=move || value.get() == Some(v)>{v}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <form class="card" data-testid="rate-deal" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch(crate::kpi::server::RateDeal { deal_id, csat: csat.get_untracked(), nps: nps.get_untracked() });
        }>
            <h2>{move || t().client_rating}</h2>
            <div class="row">
                <label><span>{move || t().csat}</span>{choice(csat, 1..=5)}</label>
                <label><span>{move || t().nps}</span>{choice(nps, 0..=10)}</label>
                <button type="submit" disabled=move || save.pending().get()>{move || t().save}</button>
            </div>
            {move || match save.value().get() {
                Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.message(t())}</p> }.into_any()),
                Some(Ok(())) => Some(view! { <p class="muted" role="status">{t().saved}</p> }.into_any()),
                None => None,
            }}
        </form>
    }
}

/// Title, amount, client, source and responsible of a deal, saved only if
/// nobody changed the deal meanwhile; a conflict reloads the page's data.
#[component]
fn EditDeal(
    edit: DealEdit,
    editing: RwSignal<bool>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let amount = RwSignal::new(rubles_for_input(edit.amount));
    let currency = RwSignal::new(edit.currency.clone());
    let draft = RwSignal::new(edit);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let options = LocalResource::new(board_options);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let amount = match parse_rubles(&amount.get_untracked()) {
            Ok(a) => a,
            Err(e) => return error.set(Some(e)),
        };
        let data = DealEdit { amount, currency: currency.get_untracked(), ..draft.get_untracked() };
        busy.set(true);
        leptos::task::spawn_local(async move {
            finish_edit(update_deal(data).await, editing, reload, notice, error);
            busy.set(false);
        });
    };
    view! {
        <form class="card new-deal" data-testid="edit-deal" novalidate on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { editing.set(false) }>
            <label><span>{move || t().title}</span>
                <input type="text" maxlength="200" required prop:value=move || draft.with(|d| d.title.clone())
                    on:input=move |ev| draft.update(|d| d.title = event_target_value(&ev)) /></label>
            <div class="amount-in">
                <label><span>{move || amount_label(t().lang, &currency.get())}</span>
                    <input type="text" inputmode="decimal" name="amount" prop:value=move || amount.get()
                        on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
                <CurrencyPicker currency />
            </div>
            <label><span>{move || t().client}</span>
                <input type="text" maxlength="200" prop:value=move || draft.with(|d| d.client_name.clone())
                    on:input=move |ev| draft.update(|d| d.client_name = event_target_value(&ev)) /></label>
            <label><span>{move || t().source}</span>
                <select on:change=move |ev| draft.update(|d| d.source = event_target_value(&ev))>
                    {move || {
                        let current = draft.with_untracked(|d| d.source.clone());
                        let mut keys: Vec<String> = SOURCE_KEYS.iter().map(|k| k.to_string()).collect();
                        if !keys.contains(&current) {
                            keys.push(current.clone());
                        }
                        keys.into_iter().map(|k| {
                            let selected = k == current;
                            view! { <option value=k.clone() selected=selected>{t().source_name(&k).to_string()}</option> }
                        }).collect_view()
                    }}
                </select></label>
            <label><span>{move || t().responsible}</span>
                <select name="responsible" on:change=move |ev| {
                    if let Ok(id) = event_target_value(&ev).parse() { draft.update(|d| d.responsible_id = id) }
                }>
                    {move || options.get().and_then(Result::ok).map(|o| {
                        let current = draft.with_untracked(|d| d.responsible_id);
                        o.people.into_iter().map(|(id, name)| view! {
                            <option value=id selected=id == current>{name}</option>
                        }).collect_view()
                    })}
                </select></label>
            <FormError error=error.into() />
            <SaveOrCancel busy cancel=move |_| editing.set(false) />
        </form>
    }
}

/// A `datetime-local` value ("2026-12-04T09:30") as UTC milliseconds, read
/// in the browser's time zone, as the person meant it.
fn local_moment(text: &str) -> Option<i64> {
    #[cfg(feature = "hydrate")]
    {
        let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(text)).get_time();
        ms.is_finite().then_some(ms as i64)
    }
    // Forms are sent from the browser only.
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        None
    }
}

/// What a logged activity is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoggedOn {
    Deal(DealId),
    Lead(LeadId),
    Client(ClientId),
}

/// Logs a call (or a meeting, proposal, chat, note) on a deal, a lead or a
/// client, now or dated back; used on the deal's page, from a card on the
/// board, and from the leads and clients lists.
#[component]
pub fn LogActivity(on: LoggedOn, #[prop(into)] on_logged: Callback<()>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let kind = RwSignal::new(ActivityKind::CallOut);
    let minutes = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    // A `datetime-local` value in the browser's zone; empty is now.
    let moment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let kinds = [
        ActivityKind::CallOut,
        ActivityKind::CallIn,
        ActivityKind::Meeting,
        ActivityKind::Proposal,
        ActivityKind::Chat,
        ActivityKind::Note,
    ];
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let raw = minutes.get_untracked();
        let duration_s = match raw.trim() {
            "" => None,
            m => match m.replace(',', ".").parse::<f64>() {
                Ok(v) if v < 0.0 => return error.set(Some(AppError::invalid("duration", Problem::Negative))),
                Ok(v) => Some((v * 60.0).round() as i32),
                Err(_) => return error.set(Some(AppError::invalid("duration", Problem::NotANumber))),
            },
        };
        let at = match moment.with_untracked(|w| w.trim().to_string()) {
            w if w.is_empty() => None,
            w => match local_moment(&w) {
                Some(ms) => Some(ms),
                None => return error.set(Some(AppError::invalid("at", Problem::Unknown))),
            },
        };
        let form = NewActivityForm {
            kind: kind.get_untracked(),
            deal_id: if let LoggedOn::Deal(id) = on { Some(id) } else { None },
            lead_id: if let LoggedOn::Lead(id) = on { Some(id) } else { None },
            client_id: if let LoggedOn::Client(id) = on { Some(id) } else { None },
            duration_s,
            note: note.get_untracked(),
            at,
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match log_activity(form).await {
                Ok(_) => {
                    error.set(None);
                    minutes.set(String::new());
                    note.set(String::new());
                    moment.set(String::new());
                    on_logged.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card log-activity" on:submit=submit>
            <h2>{move || t().log_call}</h2>
            <div class="row">
                <label><span>{move || t().kind}</span>
                    <select on:change=move |ev| {
                        if let Ok(k) = event_target_value(&ev).parse() { kind.set(k) }
                    }>
                        {kinds.map(|k| view! { <option value=k.as_str()>{move || t().activity_kind(k)}</option> }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t().duration_min}</span>
                    <input type="text" inputmode="decimal" size="5" prop:value=move || minutes.get()
                        on:input=move |ev| minutes.set(event_target_value(&ev)) /></label>
                <label><span>{move || t().activity_at}</span>
                    <input type="datetime-local" data-testid="activity-at" title=move || t().activity_at_hint
                        prop:value=move || moment.get() on:input=move |ev| moment.set(event_target_value(&ev)) /></label>
            </div>
            <label><span>{move || t().note}</span>
                <textarea rows="2" maxlength="2000" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea></label>
            <FormError error=error.into() />
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { t().saving } else { t().log_activity }}
            </button>
        </form>
    }
}
