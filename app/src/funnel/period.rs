//! The report period, one choice for every report page: picked on the
//! funnel, it is the KPI page's too, and back, until the page is reloaded.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::page::funnel_texts;
use super::PeriodPreset;
use crate::i18n::Texts;
use crate::shell::use_ui;

/// A period as the person picked it: a preset, or `Custom` with two dates
/// (`YYYY-MM-DD`). `None` is the server's default, this month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodChoice {
    pub preset: Option<PeriodPreset>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The choice the report pages share, provided once by the app shell.
#[derive(Clone, Copy)]
pub struct ReportPeriod(pub RwSignal<PeriodChoice>);

/// The shared choice; a page's own when there is no shell around it.
pub fn use_period() -> RwSignal<PeriodChoice> {
    use_context::<ReportPeriod>().map_or_else(|| RwSignal::new(PeriodChoice::default()), |p| p.0)
}

/// The period's preset list and, for a custom period, its two dates. Test
/// ids are `{prefix}-period`, `{prefix}-from` and `{prefix}-to`.
#[component]
pub fn PeriodFilter(
    prefix: &'static str,
    /// Told the new choice after the shared one is set.
    #[prop(into)]
    on_change: Callback<PeriodChoice>,
) -> impl IntoView {
    let ui = use_ui();
    let ft = move || funnel_texts(ui.texts().lang);
    let period = use_period();
    let change = move |edit: &dyn Fn(&mut PeriodChoice)| {
        period.update(|p| edit(p));
        on_change.run(period.get_untracked());
    };
    let custom = move || period.with(|p| p.preset == Some(PeriodPreset::Custom));
    // One of the custom period's two ends: its label, test id suffix and field.
    let date_input = move |label: fn(&Texts) -> &'static str,
                           end: &'static str,
                           field: fn(&mut PeriodChoice) -> &mut Option<String>| {
        view! {
            <label>
                <span>{move || label(ui.texts())}</span>
                <input type="date" data-testid=format!("{prefix}-{end}")
                    prop:value=move || field(&mut period.get()).clone().unwrap_or_default()
                    on:change=move |ev| {
                        let v = Some(event_target_value(&ev));
                        change(&|p| *field(p) = v.clone());
                    } />
            </label>
        }
    };
    view! {
        <label>
            <span>{move || ft().period}</span>
            <select data-testid=format!("{prefix}-period") on:change=move |ev| {
                let preset = event_target_value(&ev).parse().ok();
                change(&|p| p.preset = preset);
            }>
                {PeriodPreset::iter().enumerate().map(|(i, p)| view! {
                    <option value=p.as_str() prop:selected=move || period.with(|c| c.preset.unwrap_or(PeriodPreset::ThisMonth) == p)>
                        {move || ft().presets[i]}
                    </option>
                }).collect_view()}
            </select>
        </label>
        <Show when=custom>
            {date_input(|t| t.date_from, "from", |p| &mut p.from)}
            {date_input(|t| t.date_to, "to", |p| &mut p.to)}
        </Show>
    }
}
