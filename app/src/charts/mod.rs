//! Charts: ECharts drawings built with charming, each with its figures as a
//! table. ECharts itself (about 1 MB) is fetched only by pages that show a
//! chart, the first time one mounts: `scripts/setup.sh` copies it from npm to
//! `public/vendor/`, and the site serves it from [`ECHARTS_URL`].
//!
//! The options are plain data, built and unit-tested on both sides; only the
//! browser build draws them (charming's `wasm` renderer).

use charming::component::{Grid, Legend};
use charming::element::{Color, Tooltip, Trigger};
use charming::Chart;
use leptos::prelude::*;

use crate::i18n::Theme;
use crate::shell::use_ui;

/// Where the site serves the full ECharts build (funnel series included).
pub const ECHARTS_URL: &str = "/vendor/echarts.min.js";

/// The ECharts option of a chart, as JSON. charming 0.6 writes `Sort::None`
/// as `null`, which ECharts reads as "descending"; so every funnel series
/// without a sort gets "none" here, and steps are drawn in their own order.
pub fn echarts_option(chart: &Chart) -> serde_json::Value {
    let mut option = serde_json::to_value(chart).unwrap_or_default();
    if let Some(series) = option.get_mut("series").and_then(|s| s.as_array_mut()) {
        for funnel in series.iter_mut().filter(|s| s["type"] == "funnel") {
            if funnel.get("sort").is_none_or(serde_json::Value::is_null) {
                funnel["sort"] = "none".into();
            }
        }
    }
    option
}

/// What every chart with axes shares: a see-through background (the page's
/// theme shows through), a tooltip, a legend below and room for axis labels.
pub fn axis_chart(trigger: Trigger) -> Chart {
    Chart::new()
        .background_color(Color::from("transparent"))
        .tooltip(Tooltip::new().trigger(trigger))
        .legend(Legend::new().bottom(0))
        .grid(Grid::new().left(8).right(16).top(16).bottom(40).contain_label(true))
}

/// Chart words in one language.
pub struct ChartTexts {
    pub show_table: &'static str,
    pub show_chart: &'static str,
    pub loading: &'static str,
    pub failed: &'static str,
}

pub static RU: ChartTexts = ChartTexts {
    show_table: "Показать таблицей",
    show_chart: "Показать графиком",
    loading: "Загружаем график…",
    failed: "График не загрузился; те же цифры — в таблице.",
};

pub static EN: ChartTexts = ChartTexts {
    show_table: "Show as a table",
    show_chart: "Show as a chart",
    loading: "Loading the chart…",
    failed: "The chart did not load; the same figures are in the table.",
};

pub fn chart_texts(lang: &str) -> &'static ChartTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

/// Whether the ECharts script is there to draw with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Loading,
    Ready,
    Failed,
}

/// A chart and the same figures as a table. Screen readers always get the
/// table (the drawing is hidden from them); sighted people switch between the
/// two, by mouse or keyboard. When ECharts cannot load, the table is shown.
#[component]
pub fn ChartFigure(
    /// The drawing's DOM id, unique on the page; the figure's test id.
    id: &'static str,
    #[prop(into)] title: Signal<String>,
    /// What to draw; `None` while there are no figures yet.
    #[prop(into)]
    option: Signal<Option<Chart>>,
    /// The table view, built from the same figures as `option`.
    #[prop(into)]
    table: ViewFn,
    /// The drawing's height; the stylesheet's when not given.
    #[prop(optional, into)]
    height_rem: Option<Signal<u32>>,
) -> impl IntoView {
    let ui = use_ui();
    let t = move || chart_texts(ui.texts().lang);
    let engine = RwSignal::new(Engine::Loading);
    let table_chosen = RwSignal::new(false);
    let table_shown = move || table_chosen.get() || engine.get() == Engine::Failed;
    let dark = Signal::derive(move || ui.theme() == Theme::Dark);
    let table_id = format!("{id}-table");
    #[cfg(feature = "hydrate")]
    browser::draw(id, option, dark, engine, Signal::derive(move || (table_shown(), height_rem.map(|h| h.get()))));
    #[cfg(not(feature = "hydrate"))]
    let _ = (option, dark);
    view! {
        <figure class="chart-figure" data-testid=id>
            <figcaption class="row">
                <span class="chart-title">{move || title.get()}</span>
                // The label says what a press does; a pressed state beside it would contradict it.
                <button type="button" class="link" data-testid="chart-toggle" aria-controls=table_id.clone()
                    hidden=move || engine.get() == Engine::Failed
                    on:click=move |_| table_chosen.update(|v| *v = !*v)>
                    {move || if table_chosen.get() { t().show_chart } else { t().show_table }}
                </button>
            </figcaption>
            <div class="chart-canvas" id=id aria-hidden="true" class:hidden=table_shown
                style=move || height_rem.map(|h| format!("height: {}rem", h.get()))></div>
            {move || match engine.get() {
                Engine::Loading => Some(view! { <p class="loading">{t().loading}</p> }.into_any()),
                Engine::Failed => Some(view! { <p class="muted" role="status">{t().failed}</p> }.into_any()),
                Engine::Ready => None,
            }}
            // Once shown, a long table scrolls: focusable so the keyboard can scroll it, named by the title.
            <div class="chart-table" id=table_id data-testid="chart-table" class:sr-only=move || !table_shown()
                role="region" aria-label=move || title.get() tabindex=move || table_shown().then_some("0")>
                {move || table.run()}
            </div>
        </figure>
    }
}

/// Drawing in the browser: loading the script once, drawing, updating in
/// place as the figures change, re-measuring and cleaning up.
#[cfg(feature = "hydrate")]
mod browser {
    use charming::theme::Theme;
    use charming::{Chart, Echarts, WasmRenderer};
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    use super::{Engine, ECHARTS_URL};

    const SCRIPT_ID: &str = "echarts-script";

    pub fn draw(
        id: &'static str,
        option: Signal<Option<Chart>>,
        dark: Signal<bool>,
        engine: RwSignal<Engine>,
        // Whether the table hides the drawing, and the drawing's height.
        layout: Signal<(bool, Option<u32>)>,
    ) {
        // The drawing and the theme it was made with; a theme change draws anew.
        let drawn = StoredValue::new_local(None::<(bool, Echarts)>);
        Effect::new(move |_| load(engine));
        Effect::new(move |_| {
            let (Some(chart), dark) = (option.get(), dark.get()) else { return };
            if engine.get() != Engine::Ready {
                return;
            }
            let option = super::echarts_option(&chart);
            drawn.update_value(|current| match current {
                Some((made_dark, handle)) if *made_dark == dark => set_option(handle, &option),
                _ => {
                    if let Some((_, old)) = current.take() {
                        dispose(&old);
                    }
                    let theme = if dark { Theme::Dark } else { Theme::Default };
                    // Made empty, then given the option the way updates are (see `echarts_option`).
                    match WasmRenderer::new_opt(None, None).theme(theme).render(id, &Chart::new()) {
                        Ok(handle) => {
                            set_option(&handle, &option);
                            *current = Some((dark, handle));
                        }
                        Err(e) => {
                            leptos::logging::warn!("chart {id}: {e:?}");
                            engine.set(Engine::Failed);
                        }
                    }
                }
            });
        });
        let resize = move || drawn.with_value(|d| d.iter().for_each(|(_, h)| h.resize(JsValue::UNDEFINED)));
        // A hidden drawing has no size: measure again once it is shown or resized.
        Effect::new(move |_| {
            if !layout.get().0 {
                resize();
            }
        });
        let on_resize = window_event_listener(leptos::ev::resize, move |_| resize());
        on_cleanup(move || {
            on_resize.remove();
            if let Some(Some((_, handle))) = drawn.try_update_value(Option::take) {
                dispose(&handle);
            }
        });
    }

    /// Calls a method of the ECharts instance that charming does not bind.
    fn call(handle: &Echarts, method: &str, args: &js_sys::Array) {
        if let Ok(f) = js_sys::Reflect::get(handle, &method.into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = f.apply(handle, args);
        }
    }

    fn set_option(handle: &Echarts, option: &serde_json::Value) {
        if let Ok(value) = js_sys::JSON::parse(&option.to_string()) {
            call(handle, "setOption", &js_sys::Array::of1(&value));
        }
    }

    fn dispose(handle: &Echarts) {
        call(handle, "dispose", &js_sys::Array::new());
    }

    /// Adds the ECharts script to the page once; every chart waits for it.
    fn load(engine: RwSignal<Engine>) {
        let window = window();
        if js_sys::Reflect::get(&window, &"echarts".into()).is_ok_and(|e| !e.is_undefined()) {
            engine.set(Engine::Ready);
            return;
        }
        let document = document();
        let script = match document.get_element_by_id(SCRIPT_ID) {
            Some(script) => script,
            None => {
                let Ok(script) = document.create_element("script") else { return engine.set(Engine::Failed) };
                script.set_id(SCRIPT_ID);
                let _ = script.set_attribute("src", ECHARTS_URL);
                if let Some(head) = document.head() {
                    let _ = head.append_child(&script);
                }
                script
            }
        };
        if script.has_attribute("data-failed") {
            return engine.set(Engine::Failed);
        }
        // The chart may be gone by the time the script answers: `try_set`.
        let loaded = Closure::once_into_js(move || {
            engine.try_set(Engine::Ready);
        });
        let marked = script.clone();
        let failed = Closure::once_into_js(move || {
            let _ = marked.set_attribute("data-failed", "");
            engine.try_set(Engine::Failed);
        });
        let _ = script.add_event_listener_with_callback("load", loaded.unchecked_ref());
        let _ = script.add_event_listener_with_callback("error", failed.unchecked_ref());
    }
}
