//! The activities list: calls, meetings, proposals, chats and notes of the
//! people the caller may see, by kind, person and period, sorted by any
//! column, each linked to its deal or lead, and corrected in place (the
//! deal page reuses the correction form).

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::lists::{
    finish_edit, when, ActivityFilter, ActivityList, ActivitySort, ListBody, Order, SaveOrCancel, SortHeader,
};
use super::server::{board_options, list_activities, update_activity};
use super::{Activity, ActivityEdit, ActivityKind, DAY_MS};
use crate::access::{Action, Module, Scope};
use crate::error::{AppError, Problem};
use crate::shell::{use_ui, FormError};

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
pub(super) fn call_length(seconds: i32, t: &crate::i18n::Texts) -> String {
    format!("{} {} {:02} {}", seconds / 60, t.minutes_short, seconds % 60, t.seconds_short)
}

#[component]
pub fn ActivitiesPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let filter = RwSignal::new(ActivityFilter::default());
    let order = RwSignal::new(Order::<ActivitySort>::default());
    let page = RwSignal::new(0i64);
    let reload = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<AppError>);
    let options = LocalResource::new(board_options);
    let activities = LocalResource::new(move || {
        reload.track();
        list_activities(ActivityFilter { order: order.get(), page: page.get(), ..filter.get() })
    });
    // The server decides per activity; without any edit right the button would only ever fail.
    let can_edit = Signal::derive(move || {
        ui.scope(Module::Deals, Action::Edit) != Scope::None || ui.scope(Module::Leads, Action::Edit) != Scope::None
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
        <FormError error=notice.into() />
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
                        <th><span class="sr-only">{t().edit}</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|a| view! { <ActivityRow activity=a can_edit reload notice /> }).collect_view()}
                </tbody>
            </table>
        } />
    }
}

#[component]
fn ActivityRow(
    activity: Activity,
    can_edit: Signal<bool>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let editing = RwSignal::new(false);
    let for_edit = activity.clone();
    let subject = match (activity.deal_id, activity.lead_id) {
        (Some(deal), _) => view! { <a href=format!("/deals/{deal}")>{activity.subject.clone()}</a> }.into_any(),
        (None, Some(_)) => view! { <a href="/leads">{activity.subject.clone()}</a> }.into_any(),
        (None, None) if activity.client_id.is_some() => {
            let href = format!("/clients?search={}", crate::funnel::page::encode(&activity.subject));
            view! { <a href=href>{activity.subject.clone()}</a> }.into_any()
        }
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
            <td class="actions">
                {move || can_edit.get().then(|| view! {
                    <button type="button" aria-expanded=move || editing.get().to_string()
                        on:click=move |_| editing.update(|e| *e = !*e)>{move || t().edit}</button>
                })}
            </td>
        </tr>
        {move || editing.get().then(|| view! {
            <tr class="editing"><td colspan="7"><EditActivity activity=for_edit.clone() editing reload notice /></td></tr>
        })}
    }
}

/// Minutes and seconds as typed into the edit form; both empty means no length.
fn typed_length(minutes: &str, seconds: &str) -> Result<Option<i32>, AppError> {
    let (minutes, seconds) = (minutes.trim(), seconds.trim());
    if minutes.is_empty() && seconds.is_empty() {
        return Ok(None);
    }
    let part = |raw: &str| -> Result<i64, AppError> {
        match raw {
            "" => Ok(0),
            raw => match raw.parse::<i64>() {
                Ok(v) if v < 0 => Err(AppError::invalid("duration", Problem::Negative)),
                Ok(v) => Ok(v),
                Err(_) => Err(AppError::invalid("duration", Problem::NotANumber)),
            },
        }
    };
    let total = part(minutes)?.saturating_mul(60).saturating_add(part(seconds)?);
    // The server refuses anything over a day; clamping first keeps the number an i32.
    Ok(Some(total.min(i64::from(i32::MAX)) as i32))
}

/// Corrects an activity's kind, length and note; a stale version reloads the list with a message.
#[component]
pub(super) fn EditActivity(
    activity: Activity,
    editing: RwSignal<bool>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let kind = RwSignal::new(activity.kind);
    let minutes = RwSignal::new(activity.duration_s.map(|s| (s / 60).to_string()).unwrap_or_default());
    let seconds = RwSignal::new(activity.duration_s.map(|s| (s % 60).to_string()).unwrap_or_default());
    let note = RwSignal::new(activity.note.clone());
    let own_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let is_call = move || matches!(kind.get(), ActivityKind::CallIn | ActivityKind::CallOut);
    let (id, version) = (activity.id, activity.version);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let duration_s = if is_call() {
            match typed_length(&minutes.get_untracked(), &seconds.get_untracked()) {
                Ok(d) => d,
                Err(e) => return own_error.set(Some(e)),
            }
        } else {
            None
        };
        let edit = ActivityEdit { id, version, kind: kind.get_untracked(), duration_s, note: note.get_untracked() };
        busy.set(true);
        leptos::task::spawn_local(async move {
            finish_edit(update_activity(edit).await, editing, reload, notice, own_error);
            busy.set(false);
        });
    };
    view! {
        // Our own checks name the field in words; the browser's would block the form silently on a phone.
        <form class="card new-deal" data-testid="edit-activity" aria-label=move || t().edit_activity novalidate on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { editing.set(false) }>
            <div class="row">
                <label><span>{move || t().kind}</span>
                    <select on:change=move |ev| if let Ok(k) = event_target_value(&ev).parse() { kind.set(k) }>
                        {ActivityKind::iter().map(|k| view! {
                            <option value=k.as_str() selected=k == kind.get_untracked()>{move || t().activity_kind(k)}</option>
                        }).collect_view()}
                    </select>
                </label>
                {move || is_call().then(|| view! {
                    <label><span>{move || t().duration_min}</span>
                        <input type="number" min="0" max="1440" inputmode="numeric" size="5" prop:value=move || minutes.get()
                            on:input=move |ev| minutes.set(event_target_value(&ev)) /></label>
                    <label><span>{move || t().duration_sec}</span>
                        <input type="number" min="0" inputmode="numeric" size="3" prop:value=move || seconds.get()
                            on:input=move |ev| seconds.set(event_target_value(&ev)) /></label>
                })}
            </div>
            <label><span>{move || t().note}</span>
                <textarea rows="2" maxlength="2000" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea></label>
            <FormError error=own_error.into() />
            <SaveOrCancel busy cancel=move |_| editing.set(false) />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::typed_length;
    use crate::error::{AppError, Problem};

    #[test]
    fn typed_call_lengths() {
        assert_eq!(typed_length("", " "), Ok(None));
        assert_eq!(typed_length("2", "5"), Ok(Some(125)));
        assert_eq!(typed_length("", "45"), Ok(Some(45)));
        assert_eq!(typed_length("3", ""), Ok(Some(180)));
        assert_eq!(typed_length("1", "90"), Ok(Some(150)));
        assert_eq!(typed_length("-1", "0"), Err(AppError::invalid("duration", Problem::Negative)));
        assert_eq!(typed_length("2,5", ""), Err(AppError::invalid("duration", Problem::NotANumber)));
        assert_eq!(typed_length("99999999999", ""), Ok(Some(i32::MAX)));
    }
}
