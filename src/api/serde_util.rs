//! Lenient decoding helpers shared by the endpoint types.

use serde::{Deserialize, Deserializer};

/// Decodes an optional string where `null`, a missing key and `""` all mean `None`.
pub(crate) fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.filter(|text| !text.is_empty()))
}
