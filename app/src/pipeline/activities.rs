//! The activities list: calls, meetings, proposals, chats and notes of the
//! people the caller may see, by kind, person and period, sorted by any
//! column, each linked to its deal or lead.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::lists::{when, ActivityFilter, ActivityList, ActivitySort, ListBody, Order, SortHeader};
use super::server::{board_options, list_activities};
use super::{Activity, ActivityKind, DAY_MS};
use crate::shell::use_ui;

/// Local midnight `days_back` days ago, in ms; the device's clock decides "today".
fn local_day_start(days_back: i64) -> i64 {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new_0();
        d.set_hours(0);
        d.set_minutes(0);
        d.set_seconds(0);
        d.set_milliseconds(0);
        d.get_time() as i64 - days_back * DAY_MS
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        now - now.rem_euclid(DAY_MS) - days_back * DAY_MS
    }
}

/// "2 min 05 s" for a call's length.
fn call_length(seconds: i32, t: &crate::i18n::Texts) -> String {
    format!("{} {} {:02} {}", seconds / 60, t.minutes_short, seconds % 60, t.seconds_short)
}

#[component]
pub fn ActivitiesPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let filter = RwSignal::new(ActivityFilter::default());
    let order = RwSignal::new(Order::<ActivitySort>::default());
    let page = RwSignal::new(0i64);
    let options = LocalResource::new(board_options);
    let activities = LocalResource::new(move || {
        list_activities(ActivityFilter { order: order.get(), page: page.get(), ..filter.get() })
    });
    let set = move |change: &dyn Fn(&mut ActivityFilter)| {
        filter.update(|f| change(f));
        page.set(0);
    };

    view! {
        <h1>{move || t().nav_activities}</h1>
        <div class="filters" role="search">
            <label>
                <span>{move || t().kind}</span>
                <select data-testid="activities-kind" on:change=move |ev| {
                    let kind = event_target_value(&ev).parse().ok();
                    set(&|f| f.kind = kind);
                }>
                    <option value="">{move || t().all_kinds}</option>
                    {ActivityKind::iter().map(|k| view! { <option value=k.as_str()>{move || t().activity_kind(k)}</option> }).collect_view()}
                </select>
            </label>
            <label>
                <span>{move || t().employee}</span>
                <select on:change=move |ev| {
                    let id = event_target_value(&ev).parse().ok();
                    set(&|f| f.user_id = id);
                }>
                    <option value="">{move || t().all_people}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.people.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
            <label>
                <span>{move || t().period}</span>
                <select on:change=move |ev| {
                    let since = event_target_value(&ev).parse::<i64>().ok().map(local_day_start);
                    set(&|f| f.since = since);
                }>
                    <option value="">{move || t().period_any}</option>
                    <option value="0">{move || t().period_today}</option>
                    {[6i64, 29].map(|d| view! { <option value=d>{move || t().period_days.replace("{n}", &(d + 1).to_string())}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <ListBody list=activities empty=Signal::derive(move || t().no_activities) page table=move |list: ActivityList| view! {
            <table data-testid="activities">
                <thead>
                    <tr>
                        <SortHeader order by=ActivitySort::At label=Signal::derive(move || t().when) page />
                        <SortHeader order by=ActivitySort::Kind label=Signal::derive(move || t().kind) page />
                        <SortHeader order by=ActivitySort::User label=Signal::derive(move || t().employee) page />
                        <th>{t().subject}</th>
                        <SortHeader order by=ActivitySort::Duration label=Signal::derive(move || t().duration) page />
                        <th>{t().note}</th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|a| view! { <ActivityRow activity=a /> }).collect_view()}
                </tbody>
            </table>
        } />
    }
}

#[component]
fn ActivityRow(activity: Activity) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let subject = match (activity.deal_id, activity.lead_id) {
        (Some(deal), _) => view! { <a href=format!("/deals/{deal}")>{activity.subject.clone()}</a> }.into_any(),
        (None, Some(_)) => view! { <a href="/leads">{activity.subject.clone()}</a> }.into_any(),
        _ => activity.subject.clone().into_any(),
    };
    let kind = activity.kind;
    let duration = activity.duration_s;
    view! {
        <tr>
            <td class="nowrap">{when(activity.at)}</td>
            <td>{move || t().activity_kind(kind)}</td>
            <td>{activity.user.clone()}</td>
            <td>{subject}</td>
            <td class="num nowrap">{move || duration.map(|s| call_length(s, t())).unwrap_or_default()}</td>
            <td class="note">{activity.note.clone()}</td>
        </tr>
    }
}
