//! The sales pipeline vocabulary: stages, leads, deals, clients, activities.
//!
//! Only the kinds live here so far; the board and its server functions come
//! with the pipeline feature.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

/// Money in minor units (kopecks for RUB). Never a float.
pub type Money = i64;

macro_rules! kind_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize,
            EnumString, IntoStaticStr, EnumIter,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The name stored in the database and sent over the wire.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

kind_enum!(
    /// Whether a stage is still in progress or ends the deal.
    StageKind { Open, Won, Lost }
);

kind_enum!(
    /// Where a lead is on its way to a deal.
    LeadStatus { New, InWork, Qualified, Disqualified }
);

kind_enum!(
    /// What a manager did. Calls carry their duration.
    ActivityKind { CallIn, CallOut, Meeting, Proposal, Chat, Note }
);

kind_enum!(
    /// A company or a private person buying.
    ClientKind { Company, Person }
);

kind_enum!(
    /// What a deal event records.
    DealEventKind { Created, Stage, Responsible }
);
