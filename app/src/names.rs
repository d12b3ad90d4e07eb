//! `named_enum!`: a closed set of names stored in the database and sent over
//! the wire as snake_case text (`"in_work"`), parsed back with `str::parse`.

macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            strum::EnumString, strum::IntoStaticStr, strum::EnumIter,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stored and transmitted name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}
