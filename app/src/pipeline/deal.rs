//! One deal: its card, how long it spent in each stage, its stage history
//! and its activities, with a quick form to log a call.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::server::{get_deal, list_pipelines, log_activity};
use super::{
    format_rubles, time_in_stages, ActivityKind, DealEventKind, DealId, DealPage as DealData, NewActivityForm, StageId,
};
use crate::error::{AppError, Problem};
use crate::shell::{use_ui, ErrorPage, FormError};

/// "12.03.2026 14:05" in the viewer's clock.
fn when(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!(
            "{:02}.{:02}.{} {:02}:{:02}",
            d.get_date(),
            d.get_month() + 1,
            d.get_full_year(),
            d.get_hours(),
            d.get_minutes()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        // Server render: UTC, replaced by local time once the page is live.
        let days = ms.div_euclid(super::DAY_MS);
        let rest = ms.rem_euclid(super::DAY_MS) / 60_000;
        format!("{days}d {:02}:{:02} UTC", rest / 60, rest % 60)
    }
}

/// "3 d 4 h" or "25 min" for a span of time.
fn span(ms: i64) -> String {
    let minutes = ms / 60_000;
    match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[component]
pub fn DealPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<DealId>().ok()));
    let reload = RwSignal::new(0u32);
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
        {move || match deal.get() {
            None => view! { <p class="loading">{t().loading}</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
            Some(Ok(page)) => view! { <DealView page stage_name reload /> }.into_any(),
        }}
    }
}

#[component]
fn DealView(
    page: DealData,
    stage_name: impl Fn(Option<StageId>) -> String + Copy + Send + Sync + 'static,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let card = page.deal.card.clone();
    let spent = time_in_stages(&page.events, page.deal.closed_at.unwrap_or(page.now_ms));
    let events = page.events.clone();
    let activities = page.activities.clone();
    let deal_id = card.id;
    view! {
        <h1>{card.title.clone()}</h1>
        <section class="card facts">
            <div><span class="muted">{move || t().amount}</span><strong>{format_rubles(card.amount)}</strong></div>
            <div><span class="muted">{move || t().stage}</span><strong data-testid="deal-stage">{move || stage_name(Some(card.stage_id))}</strong></div>
            <div><span class="muted">{move || t().client}</span><strong>{card.client.clone().unwrap_or_default()}</strong></div>
            <div><span class="muted">{move || t().responsible}</span><strong>{card.manager.clone()}</strong></div>
            <div><span class="muted">{move || t().created_at}</span><strong>{when(page.deal.created_at)}</strong></div>
            {page.deal.closed_at.map(|c| view! { <div><span class="muted">{move || t().closed_at}</span><strong>{when(c)}</strong></div> })}
            {page.deal.loss_reason.clone().map(|r| view! { <div><span class="muted">{move || t().loss_reason}</span><strong>{r}</strong></div> })}
        </section>
        <LogActivity deal_id reload />
        <section class="card">
            <h2>{move || t().time_in_stages}</h2>
            <table>
                <tbody>
                    {spent.into_iter().map(|(stage, ms)| view! {
                        <tr><th scope="row">{move || stage_name(Some(stage))}</th><td>{span(ms)}</td></tr>
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
                        DealEventKind::Responsible => t().event_responsible.to_string(),
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
                        {activities.into_iter().map(|a| view! {
                            <li>
                                <span class="when muted">{when(a.at)}</span>
                                <strong>{move || t().activity_kind(a.kind)}</strong>
                                {a.duration_s.map(|d| format!(" · {} {}", (d + 59) / 60, ui.texts().minutes_short))}
                                <span class="muted">{format!(" · {}", a.user)}</span>
                                {(!a.note.is_empty()).then(|| view! { <div>{a.note.clone()}</div> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Logs a call (or a meeting, proposal, chat, note) on the deal.
#[component]
fn LogActivity(deal_id: DealId, reload: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let kind = RwSignal::new(ActivityKind::CallOut);
    let minutes = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
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
        let form = NewActivityForm {
            kind: kind.get_untracked(),
            deal_id: Some(deal_id),
            lead_id: None,
            duration_s,
            note: note.get_untracked(),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match log_activity(form).await {
                Ok(_) => {
                    error.set(None);
                    minutes.set(String::new());
                    note.set(String::new());
                    reload.update(|n| *n += 1);
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
