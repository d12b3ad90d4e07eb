//! The sales pipeline vocabulary: stages, leads, deals, clients, activities.
//!
//! Only the kinds live here so far; the board and its server functions come
//! with the pipeline feature.

/// Money in minor units (kopecks for RUB). Never a float.
pub type Money = i64;

named_enum!(
    /// Whether a stage is still in progress or ends the deal.
    StageKind { Open, Won, Lost }
);

named_enum!(
    /// Where a lead is on its way to a deal.
    LeadStatus { New, InWork, Qualified, Disqualified }
);

named_enum!(
    /// What a manager did. Calls carry their duration.
    ActivityKind { CallIn, CallOut, Meeting, Proposal, Chat, Note }
);

named_enum!(
    /// A company or a private person buying.
    ClientKind { Company, Person }
);

named_enum!(
    /// What a deal event records.
    DealEventKind { Created, Stage, Responsible }
);
