//! A token response as it arrives: the known fields picked out in one pass over the JSON
//! object, everything else kept for `extra`. Building a full map and removing the known
//! keys from it cost a tenth of a refresh.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

#[derive(Default)]
pub(crate) struct WireToken {
    pub access_token: Option<Value>,
    pub token_type: Option<Value>,
    pub expires_in: Option<Value>,
    pub refresh_token: Option<Value>,
    pub scope: Option<Value>,
    pub created_at: Option<Value>,
    pub id_token: Option<Value>,
    /// Whether the object has an `error` member (some servers answer 200 with one).
    pub has_error: bool,
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for WireToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(WireVisitor)
    }
}

struct WireVisitor;

impl<'de> Visitor<'de> for WireVisitor {
    type Value = WireToken;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireToken, A::Error> {
        let mut w = WireToken::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "access_token" => &mut w.access_token,
                "token_type" => &mut w.token_type,
                "expires_in" => &mut w.expires_in,
                "refresh_token" => &mut w.refresh_token,
                "scope" => &mut w.scope,
                "created_at" => &mut w.created_at,
                "id_token" => &mut w.id_token,
                other => {
                    w.has_error |= other == "error";
                    w.extra.insert(key.into_owned(), map.next_value()?);
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(w)
    }
}
