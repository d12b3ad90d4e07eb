//! What the deals, clients, activities and leads lists share: the columns
//! each can be sorted by, one page of rows, and the header and pager that
//! drive them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Activity, ActivityKind, ClientId, ClientKind, Deal, Money, PipelineId, StageId, StageKind};
use crate::error::AppError;
use crate::org::UserId;
use crate::shell::{use_ui, ErrorPage};

/// Rows per page in every list.
pub const ROWS_PER_PAGE: i64 = 50;
/// Search text longer than this is refused rather than cut.
pub const MAX_SEARCH: usize = 100;

named_enum!(
    /// Columns the deals list sorts by.
    #[derive(Default)]
    DealSort {
        #[default]
        Created,
        Title,
        Amount,
        Stage,
        Manager,
        Closed,
    }
);

named_enum!(
    /// Columns the clients list sorts by.
    #[derive(Default)]
    ClientSort {
        #[default]
        Name,
        Created,
        Deals,
        Revenue,
    }
);

named_enum!(
    /// Columns the activities list sorts by.
    #[derive(Default)]
    ActivitySort {
        #[default]
        At,
        Kind,
        Duration,
        User,
    }
);

named_enum!(
    /// Columns the leads list sorts by.
    #[derive(Default)]
    LeadSort {
        #[default]
        Created,
        Title,
        Status,
        Responsible,
    }
);

/// The column a list is sorted by and which way. Ties fall back to the
/// newest record first, so pages never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order<S> {
    pub by: S,
    pub descending: bool,
}

impl<S: Default> Default for Order<S> {
    /// Newest (or A to Z for names) first is what people open a list for.
    fn default() -> Self {
        Order { by: S::default(), descending: true }
    }
}

impl<S: PartialEq + Copy> Order<S> {
    /// A click on a column header: the same column flips, another starts descending.
    pub fn toggled(self, by: S) -> Self {
        if self.by == by {
            Order { by, descending: !self.descending }
        } else {
            Order { by, descending: true }
        }
    }
}

/// One page of any list, with the number of rows over all pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + ROWS_PER_PAGE - 1) / ROWS_PER_PAGE).max(1)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DealFilter {
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub manager_id: Option<UserId>,
    /// Open, won or lost: the kind of the deal's stage.
    pub state: Option<StageKind>,
    pub source: Option<String>,
    pub search: Option<String>,
    pub order: Order<DealSort>,
    pub page: i64,
}

pub type DealList = Page<Deal>;

/// A buyer with what they bought, so new and repeat clients can be told apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub kind: ClientKind,
    pub phone: String,
    pub email: String,
    pub responsible_id: Option<UserId>,
    pub responsible: String,
    pub created_at: i64,
    pub deals: i64,
    pub won_deals: i64,
    pub won_total: Money,
}

impl Client {
    /// Bought more than once.
    pub fn is_repeat(&self) -> bool {
        self.won_deals > 1
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientFilter {
    pub kind: Option<ClientKind>,
    pub search: Option<String>,
    pub order: Order<ClientSort>,
    pub page: i64,
}

pub type ClientList = Page<Client>;

/// A client to add (`id: None`) or change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientForm {
    pub id: Option<ClientId>,
    pub name: String,
    pub kind: ClientKind,
    pub phone: String,
    pub email: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFilter {
    pub kind: Option<ActivityKind>,
    pub user_id: Option<UserId>,
    pub deal_id: Option<super::DealId>,
    /// Only activities at or after this moment (ms since the epoch).
    pub since: Option<i64>,
    pub order: Order<ActivitySort>,
    pub page: i64,
}

pub type ActivityList = Page<Activity>;

/// "3 д 4 ч", "2 ч 5 мин" or "25 мин" for a span of time, cut to the
/// minute: the two largest units are enough to compare stays and waits.
pub fn span(ms: i64, t: &crate::i18n::Texts) -> String {
    let minutes = ms.max(0) / 60_000;
    match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
        (0, 0, m) => format!("{m} {}", t.minutes_short),
        (0, h, m) => format!("{h} {} {m} {}", t.hours_short, t.minutes_short),
        (d, h, _) => format!("{d} {} {h} {}", t.days_short, t.hours_short),
    }
}

/// "12.03.2026 14:05" in the viewer's clock.
pub fn when(ms: i64) -> String {
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

/// A sortable column header: a button showing the direction, with `aria-sort`.
#[component]
pub fn SortHeader<S>(
    order: RwSignal<Order<S>>,
    by: S,
    #[prop(into)] label: Signal<&'static str>,
    page: RwSignal<i64>,
) -> impl IntoView
where
    S: PartialEq + Copy + Send + Sync + 'static,
{
    let sorted = move || order.with(|o| (o.by == by).then_some(o.descending));
    let aria = move || match sorted() {
        Some(true) => "descending",
        Some(false) => "ascending",
        None => "none",
    };
    view! {
        <th aria-sort=aria>
            <button type="button" class="sort" on:click=move |_| { order.update(|o| *o = o.toggled(by)); page.set(0); }>
                {move || label.get()}
                <span aria-hidden="true">{move || match sorted() { Some(true) => " ▼", Some(false) => " ▲", None => "" }}</span>
            </button>
        </th>
    }
}

/// One list's body: loading, the error, the empty text, or the rows' table
/// (made by `table`) with the pager under it.
#[component]
pub fn ListBody<T, V>(
    list: LocalResource<Result<Page<T>, AppError>>,
    #[prop(into)] empty: Signal<&'static str>,
    page: RwSignal<i64>,
    table: impl Fn(Page<T>) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let ui = use_ui();
    move || match list.get() {
        None => view! { <p class="loading">{ui.texts().loading}</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
        Some(Ok(rows)) if rows.rows.is_empty() => view! { <p class="empty">{empty.get()}</p> }.into_any(),
        Some(Ok(rows)) => {
            let (current, pages) = (rows.page, rows.pages());
            view! {
                <div class="table-wrap">{table(rows)}</div>
                <Pager page current pages />
            }
            .into_any()
        }
    }
}

/// What an edit form does with the server's answer. Saved: close and reload.
/// Someone else changed the record meanwhile: close, reload and say so in
/// `notice` (outside the form, which is gone). Refused: stay open with the error.
pub fn finish_edit<T>(
    answer: Result<T, AppError>,
    editing: RwSignal<bool>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<AppError>>,
    form_error: RwSignal<Option<AppError>>,
) {
    match answer {
        Ok(_) => {
            notice.set(None);
            editing.set(false);
            reload.update(|n| *n += 1);
        }
        Err(AppError::Conflict) => {
            notice.set(Some(AppError::Conflict));
            editing.set(false);
            reload.update(|n| *n += 1);
        }
        Err(e) => form_error.set(Some(e)),
    }
}

/// The foot of an edit form: «Отмена» runs `cancel`, «Сохранить» submits
/// and says «Сохраняем…» while `busy`.
#[component]
pub fn SaveOrCancel(busy: RwSignal<bool>, #[prop(into)] cancel: Callback<()>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    view! {
        <div class="actions">
            <button type="button" on:click=move |_| cancel.run(())>{move || t().cancel}</button>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { t().saving } else { t().save }}
            </button>
        </div>
    }
}

/// Previous / next with "page of pages".
#[component]
pub fn Pager(page: RwSignal<i64>, current: i64, pages: i64) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    view! {
        <nav class="pager" aria-label="pages">
            <button type="button" disabled=current == 0 on:click=move |_| page.update(|p| *p -= 1)>{move || t().prev_page}</button>
            <span>{format!("{} / {}", current + 1, pages)}</span>
            <button type="button" disabled=current + 1 >= pages on:click=move |_| page.update(|p| *p += 1)>{move || t().next_page}</button>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_click_flips_the_same_column_and_starts_others_descending() {
        let o = Order { by: DealSort::Amount, descending: true };
        assert_eq!(o.toggled(DealSort::Amount), Order { by: DealSort::Amount, descending: false });
        assert_eq!(o.toggled(DealSort::Title), Order { by: DealSort::Title, descending: true });
    }

    #[test]
    fn spans_keep_their_two_largest_units_in_the_viewers_language() {
        use crate::i18n::{EN, RU};
        let minute = 60_000;
        assert_eq!(span(59_999, &RU), "0 мин");
        assert_eq!(span(25 * minute, &RU), "25 мин");
        assert_eq!(span(125 * minute + 59_999, &RU), "2 ч 5 мин");
        assert_eq!(span((3 * 1440 + 4 * 60 + 59) * minute, &RU), "3 д 4 ч");
        assert_eq!(span(1440 * minute, &EN), "1 d 0 h");
        assert_eq!(span(-5 * minute, &EN), "0 min", "a clock set back never shows a negative wait");
    }

    #[test]
    fn pages_round_up_and_never_drop_to_zero() {
        let page = |total| Page::<()> { rows: vec![], total, page: 0 }.pages();
        assert_eq!((page(0), page(1), page(50), page(51)), (1, 1, 1, 2));
    }
}
