//! JSON Web Keys (RFC 7517) — public halves only.

use serde::{Deserialize, Serialize};

/// A public JWK.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    /// Key type: EC, RSA or OKP.
    pub kty: String,
    /// Key id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kid: Option<String>,
    /// Intended use (`sig`).
    #[serde(rename = "use", skip_serializing_if = "Option::is_none", default)]
    pub use_: Option<String>,
    /// Algorithm.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alg: Option<String>,
    /// Curve (EC, OKP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// X coordinate (EC) or public key (OKP).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// Y coordinate (EC).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// RSA modulus.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
}

/// A JWK set.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}
