//! The one error type every server function returns.
//!
//! It crosses the wire as JSON so the browser can show a translated message
//! next to the right field. Internal details never leave the server: they are
//! logged there and the client sees [`AppError::Internal`].

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::i18n::Texts;

/// What is wrong with one input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    BadEmail,
    /// Not one of the values this field accepts (an unknown role, say).
    Unknown,
    /// Another record already uses this value.
    Taken,
    /// The record is still referenced and cannot be removed.
    InUse,
    Negative,
    TooLarge,
    NotANumber,
    /// The move jumps over required stages and the pipeline forbids that.
    SkipsRequired,
    /// A period ends before it starts.
    BeforeStart,
    /// Only a closed deal takes this (a client's rating).
    StillOpen,
    /// The goal is split into parts that count the same thing; change them first.
    HasParts,
    /// Deals still stand here (a stage to archive or retype, a pipeline with open deals).
    HasDeals,
    /// The organisation's last active one of its kind (a pipeline) cannot go.
    LastActive,
    /// A moment later than now (an activity dated ahead).
    InFuture,
    /// A moment before the record it is about was created.
    BeforeCreated,
    /// A currency whose rate to the rouble nobody has set yet.
    NoRate,
    /// Zero where only more than zero makes sense (an exchange rate).
    NotPositive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "error")]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid {field}: {problem:?}")]
    Invalid { field: String, problem: Problem },
    #[error("changed by someone else")]
    Conflict,
    #[error("internal error")]
    Internal,
    /// The request never reached the function or its answer got lost.
    #[error("network: {message}")]
    Network { message: String },
}

impl AppError {
    pub fn invalid(field: &str, problem: Problem) -> AppError {
        AppError::Invalid { field: field.to_string(), problem }
    }

    /// The sentence a person sees, in their language.
    pub fn message(&self, t: &Texts) -> String {
        match self {
            AppError::Unauthenticated => t.err_unauthenticated.into(),
            AppError::BadCredentials => t.err_bad_credentials.into(),
            AppError::RateLimited { retry_after_secs } => {
                t.err_rate_limited.replace("{min}", &retry_after_secs.div_ceil(60).to_string())
            }
            AppError::Forbidden => t.err_forbidden.into(),
            AppError::NotFound => t.err_not_found.into(),
            AppError::Invalid { field, problem } => {
                let what = match problem {
                    Problem::Required => t.err_required.to_string(),
                    Problem::TooLong { max } => t.err_too_long.replace("{n}", &max.to_string()),
                    Problem::TooShort { min } => t.err_too_short.replace("{n}", &min.to_string()),
                    Problem::BadEmail => t.err_bad_email.into(),
                    Problem::Unknown => t.err_unknown_value.into(),
                    Problem::Taken => t.err_taken.into(),
                    Problem::InUse => t.err_in_use.into(),
                    Problem::Negative => t.err_negative.into(),
                    Problem::TooLarge => t.err_too_large.into(),
                    Problem::NotANumber => t.err_not_a_number.into(),
                    Problem::SkipsRequired => t.err_skips_required.into(),
                    Problem::BeforeStart => t.err_before_start.into(),
                    Problem::StillOpen => t.err_still_open.into(),
                    Problem::HasParts => t.err_has_parts.into(),
                    Problem::HasDeals => t.err_has_deals.into(),
                    Problem::LastActive => t.err_last_active.into(),
                    Problem::InFuture => t.err_in_future.into(),
                    Problem::BeforeCreated => t.err_before_created.into(),
                    Problem::NoRate => t.err_no_rate.into(),
                    Problem::NotPositive => t.err_not_positive.into(),
                };
                format!("{}: {what}", t.field_name(field))
            }
            AppError::Conflict => t.err_conflict.into(),
            AppError::Internal => t.err_internal.into(),
            AppError::Network { .. } => t.err_network.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Network { message: value.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn messages_name_the_field_and_the_limit() {
        let e = AppError::invalid("email", Problem::TooLong { max: 254 });
        assert_eq!(e.message(Locale::En.texts()), "E-mail: at most 254 characters");
        assert_eq!(e.message(Locale::Ru.texts()), "E-mail: не длиннее 254 символов");
    }

    #[test]
    fn rate_limit_rounds_up_to_minutes() {
        let e = AppError::RateLimited { retry_after_secs: 61 };
        assert!(e.message(Locale::En.texts()).contains("2 min"));
    }

    #[test]
    fn wire_format_is_tagged_json() {
        let e = AppError::invalid("role", Problem::Unknown);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"error":"invalid","field":"role","problem":{"kind":"unknown"}}"#);
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
    }
}
