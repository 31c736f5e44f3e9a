//! `GET ping`: health check that echoes the token's claims.

use serde::Deserialize;

use crate::call::{Call, Method};
use crate::client::Client;
use crate::error::Result;

/// Result of `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Ping {
    /// `msg`: `"Pong!"` when the API is up.
    pub msg: String,
    /// `claims_for_token_debug`: the claims of the token the call carried.
    #[serde(rename = "claims_for_token_debug", default)]
    pub claims: Claims,
}

/// Claims of the bearer token as the server decoded them (`claims_for_token_debug`).
///
/// Every field is optional on decode, so a token with fewer or other claims still parses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// `sub`: the partner id.
    #[serde(default)]
    pub sub: Option<String>,
    /// `scope`: granted scopes, such as `deposit` and `withdraw`.
    #[serde(default)]
    pub scope: Vec<String>,
    /// `exp`: expiry, Unix seconds.
    #[serde(default)]
    pub exp: Option<i64>,
    /// `iat`: issue time, Unix seconds.
    #[serde(default)]
    pub iat: Option<i64>,
    /// `jti`: the token id.
    #[serde(default)]
    pub jti: Option<String>,
    /// `env`: the environment the token belongs to.
    #[serde(default)]
    pub env: Option<String>,
    /// `alg`: signature algorithm, `RS256`.
    #[serde(default)]
    pub alg: Option<String>,
    /// `typ`: token type, `JWT`.
    #[serde(default)]
    pub typ: Option<String>,
}

impl Ping {
    /// Tells whether the answer is the expected `"Pong!"`.
    pub fn is_pong(&self) -> bool {
        self.msg == "Pong!"
    }
}

impl Call<Ping> {
    /// Prepares a `ping` call. The API allows about one ping a minute.
    pub fn ping() -> Call<Ping> {
        Call::new(Method::Get, "ping".to_owned(), None)
    }
}

impl Client {
    /// Calls `ping` in the client's mode: checks that the API is up and the token valid.
    pub fn ping(&self) -> Result<Ping> {
        self.execute(&Call::ping()).map(|done| done.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_decodes() {
        let body = r#"{"msg":"Pong!","claims_for_token_debug":{"alg":"RS256","env":"dev","exp":1734676306,"iat":1734244306,"jti":"0123456789ab","scope":["deposit","withdraw"],"sub":"partner_id","typ":"JWT"}}"#;
        let ping: Ping = serde_json::from_str(body).unwrap();
        assert!(ping.is_pong());
        assert_eq!(ping.claims.sub.as_deref(), Some("partner_id"));
        assert_eq!(ping.claims.exp, Some(1_734_676_306));
        assert_eq!(ping.claims.scope, ["deposit", "withdraw"]);
    }

    #[test]
    fn missing_claims_decode() {
        let ping: Ping = serde_json::from_str(r#"{"msg":"Pong!","extra":1}"#).unwrap();
        assert_eq!(ping.claims, Claims::default());
    }
}
