//! Typed record ids.
//!
//! Each entity has its own id type, so a [`PartnerId`] cannot be passed where a [`RepId`] is
//! expected. Ids are UUIDv7: they sort by creation time, which gives the API stable cursor
//! pagination and sled ordered keys for free. Parsing accepts only version-7 UUIDs, so an id
//! made up by hand or by another system is rejected at the boundary rather than silently
//! never matching.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationError;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[derive(utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, format = Uuid, example = $example, pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id, ordered after every id made before it by this process.
            #[allow(clippy::new_without_default)] // a fresh id is not a "default" value
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps a UUID, which must be version 7.
            pub fn from_uuid(uuid: Uuid) -> Result<Self, ValidationError> {
                if uuid.get_version_num() == 7 {
                    Ok(Self(uuid))
                } else {
                    Err(ValidationError::new(
                        "",
                        format!(
                            "expected a version-7 (time-ordered) UUID, found version {}",
                            uuid.get_version_num()
                        ),
                    ))
                }
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let uuid = Uuid::try_parse(s.trim()).map_err(|_| {
                    ValidationError::new(
                        "",
                        format!("expected a UUID such as {}, found {s:?}", $example),
                    )
                })?;
                Self::from_uuid(uuid)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

define_id!(
    /// Identifies a region.
    RegionId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01"
);
define_id!(
    /// Identifies a rep.
    RepId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"
);
define_id!(
    /// Identifies a partner.
    PartnerId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03"
);
define_id!(
    /// Identifies a contract.
    ContractId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a04"
);
define_id!(
    /// Identifies an activity.
    ActivityId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a05"
);
define_id!(
    /// Identifies a sales record.
    SalesRecordId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a06"
);
define_id!(
    /// Identifies a goal.
    GoalId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a07"
);
define_id!(
    /// Identifies a process spec; all its versions share it.
    ProcessSpecId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a08"
);
define_id!(
    /// Identifies an assessment.
    AssessmentId, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a09"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_version_7_and_time_ordered() {
        let first = PartnerId::new();
        let second = PartnerId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(first < second, "{first} should sort before {second}");
    }

    #[test]
    fn an_id_survives_display_and_parse() {
        let id = RepId::new();
        assert_eq!(id.to_string().parse::<RepId>(), Ok(id));
    }

    #[test]
    fn parse_rejects_text_that_is_not_a_uuid() {
        let err = "partner-17".parse::<PartnerId>().unwrap_err();
        assert!(err.message().contains("expected a UUID"), "{err}");
    }

    #[test]
    fn parse_rejects_uuids_of_other_versions() {
        let v4 = "f47ac10b-58cc-4372-a567-0e02b2c3d479";
        let err = v4.parse::<RegionId>().unwrap_err();
        assert!(err.message().contains("found version 4"), "{err}");
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id = GoalId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<GoalId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<GoalId>("\"nope\"").is_err());
    }
}
