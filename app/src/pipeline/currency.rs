//! Deals priced in other currencies. Every total, funnel, KPI and goal
//! counts in roubles, so a deal in dollars also carries its value in
//! roubles, fixed at the rate heads and admins set when its amount or
//! currency was saved: a later rate change does not move closed figures.
//!
//! - the currencies, rates and the conversion both sides compute the same way
//! - server functions: read the rates, set one
//! - [`CurrencyRates`] — the rates form on the pipelines page; [`CurrencyPicker`]
//!   — the currency field of the deal forms

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{check_amount, parse_decimal, Money};
use crate::error::{AppError, Problem};
use crate::shell::{use_ui, ErrorPage, FormError};

/// The organisation's own currency, which every figure counts in.
pub const BASE: &str = "RUB";
/// Currencies a deal may be priced in besides the rouble. Each has a
/// hundredth as its minor unit, like the kopeck, so minor units convert by
/// the rate alone.
pub const FOREIGN: [&str; 5] = ["USD", "EUR", "CNY", "KZT", "BYN"];
/// Rates are kept to six decimals: the Bank of Russia quotes the tenge per
/// 100 (17.6532 ₽), so one tenge is 0.176532 ₽.
const RATE_DECIMALS: usize = 6;
pub const RATE_SCALE: i64 = 10_i64.pow(RATE_DECIMALS as u32);
/// A rate above 100,000 roubles for one unit is a typing mistake.
pub const MAX_RATE: i64 = 100_000 * RATE_SCALE;

/// What one unit of a foreign currency costs in roubles, as last set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyRate {
    pub currency: String,
    /// Roubles for one unit, in millionths (92.5 ₽ is 92 500 000).
    pub rate: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

pub fn default_currency() -> String {
    BASE.to_string()
}

/// The sign printed after an amount.
pub fn symbol(currency: &str) -> &str {
    match currency {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        "CNY" => "¥",
        "KZT" => "₸",
        "BYN" => "Br",
        other => other,
    }
}

/// The currency code as stored, if it is one a deal may be priced in.
pub fn check_currency(code: &str) -> Result<&'static str, AppError> {
    std::iter::once(BASE)
        .chain(FOREIGN)
        .find(|c| *c == code)
        .ok_or_else(|| AppError::invalid("currency", Problem::Unknown))
}

/// `amount` minor units of a currency at `rate`, in kopecks, half a kopeck
/// rounded up.
pub fn to_rubles(amount: Money, rate: i64) -> Result<Money, AppError> {
    let kopecks = (amount as i128 * rate as i128 + (RATE_SCALE / 2) as i128) / RATE_SCALE as i128;
    check_amount(Money::try_from(kopecks).map_err(|_| AppError::invalid("amount", Problem::TooLarge))?)
}

/// Reads a rate as a person types it: "92,5", "0.176532", "1 000".
pub fn parse_rate(raw: &str) -> Result<i64, AppError> {
    check_rate(parse_decimal("rate", raw, RATE_DECIMALS)?)
}

/// A rate is above zero and within [`MAX_RATE`].
pub fn check_rate(rate: i64) -> Result<i64, AppError> {
    match rate {
        ..=0 => Err(AppError::invalid("rate", Problem::NotPositive)),
        r if r > MAX_RATE => Err(AppError::invalid("rate", Problem::TooLarge)),
        r => Ok(r),
    }
}

/// A rate as a person would type it back: "92.5", "100".
pub fn rate_for_input(rate: i64) -> String {
    let frac = format!("{:06}", rate % RATE_SCALE);
    match frac.trim_end_matches('0') {
        "" => (rate / RATE_SCALE).to_string(),
        digits => format!("{}.{digits}", rate / RATE_SCALE),
    }
}

/// The words of the rates form and of the currency field, in both languages.
pub struct CurrencyTexts {
    pub heading: &'static str,
    pub intro: &'static str,
    pub currency: &'static str,
    /// "{c}" is the currency code.
    pub rate_of: &'static str,
    pub rate: &'static str,
    pub not_set: &'static str,
    pub updated: &'static str,
    /// "{c}" is the currency sign.
    pub amount_in: &'static str,
    /// "{rub}" is the amount in roubles.
    pub in_rubles: &'static str,
}

static RU: CurrencyTexts = CurrencyTexts {
    heading: "Курсы валют",
    intro: "Сделку можно вести в валюте, для которой задан курс. Все итоги, воронка, KPI и цели считаются в рублях: сумма сделки переводится по курсу на момент, когда её сумму или валюту сохранили.",
    currency: "Валюта",
    rate_of: "Рублей за 1 {c}",
    rate: "Цена в рублях",
    not_set: "не задан",
    updated: "изменён",
    amount_in: "Сумма, {c}",
    in_rubles: "≈ {rub} по курсу при сохранении",
};

static EN: CurrencyTexts = CurrencyTexts {
    heading: "Exchange rates",
    intro: "A deal may be priced in a currency that has a rate. Every total, the funnel, KPIs and goals count in roubles: a deal's amount is converted at the rate in force when its amount or currency was saved.",
    currency: "Currency",
    rate_of: "Roubles for 1 {c}",
    rate: "Price in roubles",
    not_set: "not set",
    updated: "changed",
    amount_in: "Amount, {c}",
    in_rubles: "≈ {rub} at the rate when saved",
};

pub fn currency_texts(lang: &str) -> &'static CurrencyTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

/// Every foreign currency's rate, those never set left out.
#[server(prefix = "/api", endpoint = "currencies/rates")]
pub async fn currency_rates() -> Result<Vec<CurrencyRate>, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    Ok(ctx.storage().currency_rates(auth.user.org_id).await?)
}

/// Sets what one unit of `currency` costs in roubles (millionths), for
/// deals saved from now on. Heads and admins only, as for pipelines.
#[server(prefix = "/api", endpoint = "currencies/set")]
pub async fn set_currency_rate(currency: String, rate: i64) -> Result<CurrencyRate, AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let auth = super::server::ssr::pipeline_admin(&ctx).await?;
    let currency = check_currency(&currency)?;
    if currency == BASE {
        return Err(AppError::invalid("currency", Problem::Unknown));
    }
    let rate = check_rate(rate)?;
    let now = super::server::ssr::now_ms();
    Ok(ctx.storage().set_currency_rate(auth.user.org_id, auth.user.id, currency, rate, now).await?)
}

/// "Сумма, $": the amount field's label for the chosen currency.
pub fn amount_label(lang: &str, currency: &str) -> String {
    currency_texts(lang).amount_in.replace("{c}", symbol(currency))
}

/// The currency of a deal form: the rouble and every currency with a rate,
/// plus `currency` itself if its rate is not (or not yet) known.
#[component]
pub fn CurrencyPicker(currency: RwSignal<String>) -> impl IntoView {
    let ui = use_ui();
    let rates = LocalResource::new(currency_rates);
    let choices = move || {
        let mut codes = vec![BASE.to_string()];
        codes.extend(rates.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|r| r.currency));
        let current = currency.get();
        if !codes.contains(&current) {
            codes.push(current);
        }
        codes
    };
    view! {
        <label><span>{move || currency_texts(ui.texts().lang).currency}</span>
            <select name="currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                {move || {
                    let current = currency.get_untracked();
                    choices().into_iter().map(|code| {
                        let selected = code == current;
                        view! { <option value=code.clone() selected=selected>{format!("{code} {}", symbol(&code))}</option> }
                    }).collect_view()
                }}
            </select></label>
    }
}

/// The rates of the foreign currencies, each saved on its own. A save
/// updates its own row only, so what is typed in the others stays.
#[component]
pub fn CurrencyRates() -> impl IntoView {
    let ui = use_ui();
    let ct = move || currency_texts(ui.texts().lang);
    let rates = LocalResource::new(currency_rates);
    view! {
        <section class="card" data-testid="currency-rates">
            <h2>{move || ct().heading}</h2>
            <p class="muted">{move || ct().intro}</p>
            {move || match rates.get() {
                None => view! { <p class="loading">{ui.texts().loading}</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
                Some(Ok(list)) => FOREIGN
                    .iter()
                    .map(|code| {
                        let current = list.iter().find(|r| r.currency == *code).cloned();
                        view! { <RateRow code current /> }
                    })
                    .collect_view()
                    .into_any(),
            }}
        </section>
    }
}

#[component]
fn RateRow(code: &'static str, current: Option<CurrencyRate>) -> impl IntoView {
    let ui = use_ui();
    let ct = move || currency_texts(ui.texts().lang);
    let typed = RwSignal::new(current.as_ref().map(|r| rate_for_input(r.rate)).unwrap_or_default());
    let current = RwSignal::new(current);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let rate = match parse_rate(&typed.get_untracked()) {
            Ok(r) => r,
            Err(e) => return error.set(Some(e)),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match set_currency_rate(code.to_string(), rate).await {
                Ok(saved) => {
                    error.set(None);
                    typed.set(rate_for_input(saved.rate));
                    current.set(Some(saved));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="inline rate" novalidate on:submit=submit data-currency=code>
            <label><span>{move || ct().rate_of.replace("{c}", code)}</span>
                <input type="text" inputmode="decimal" name="rate" placeholder=move || ct().not_set
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) /></label>
            <button type="submit" disabled=move || busy.get()>{move || ui.texts().save}</button>
            {move || current.get().map(|r| view! {
                <span class="muted">{format!("{} {} · {}", ct().updated, super::lists::when(r.updated_at), r.updated_by)}</span>
            })}
            <FormError error=error.into() />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_amounts_convert_to_exact_kopecks() {
        // $1,234.56 at 92.4567 ₽ is 114,143.343552 ₽: 114,143.34 ₽.
        assert_eq!(to_rubles(123_456, 92_456_700).unwrap(), 11_414_334);
        // €10.01 at 100.05 ₽ is 1,001.5005 ₽: 1,001.50 ₽.
        assert_eq!(to_rubles(1_001, 100_050_000).unwrap(), 100_150);
        // 1,000,000 ₸ at 0.176532 ₽ is 176,532 ₽ to the kopeck, which four decimals would miss.
        assert_eq!(to_rubles(100_000_000, 176_532).unwrap(), 17_653_200);
        // Half a kopeck rounds up, less rounds down.
        assert_eq!(to_rubles(1, 500_000).unwrap(), 1);
        assert_eq!(to_rubles(1, 499_999).unwrap(), 0);
        assert_eq!(to_rubles(0, MAX_RATE).unwrap(), 0);
        // Beyond the largest amount a deal may have, in roubles: refused, not wrapped.
        assert_eq!(to_rubles(100_000_000_000_000, MAX_RATE), Err(AppError::invalid("amount", Problem::TooLarge)));
    }

    #[test]
    fn rates_parse_to_six_decimals_and_read_back() {
        assert_eq!(parse_rate("92,5").unwrap(), 92_500_000);
        assert_eq!(parse_rate(" 0.176532 ").unwrap(), 176_532);
        assert_eq!(parse_rate("1 000").unwrap(), 1_000_000_000);
        for rate in [1, 92_500_000, 176_532, 1_000_000_000, MAX_RATE] {
            assert_eq!(parse_rate(&rate_for_input(rate)).unwrap(), rate);
        }
        assert_eq!(rate_for_input(92_500_000), "92.5");
        assert_eq!(rate_for_input(176_532), "0.176532");
        let problem = |s: &str| match parse_rate(s) {
            Err(AppError::Invalid { field, problem }) if field == "rate" => problem,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(problem(""), Problem::Required);
        assert_eq!(problem("0"), Problem::NotPositive);
        assert_eq!(problem("-1"), Problem::Negative);
        assert_eq!(problem("9.1234567"), Problem::NotANumber);
        assert_eq!(problem("abc"), Problem::NotANumber);
        assert_eq!(problem("100000.000001"), Problem::TooLarge);
        assert_eq!(problem("99999999999999999999"), Problem::TooLarge);
    }

    #[test]
    fn only_known_currencies_are_taken() {
        assert_eq!(check_currency("USD").unwrap(), "USD");
        assert_eq!(check_currency("RUB").unwrap(), BASE);
        for wrong in ["usd", "XXX", "", "RUBB"] {
            assert_eq!(check_currency(wrong), Err(AppError::invalid("currency", Problem::Unknown)));
        }
        assert_eq!(symbol("EUR"), "€");
    }
}
