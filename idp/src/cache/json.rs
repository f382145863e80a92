//! JSON helpers on top of any [`Cache`]: typed put, get and consume.

use super::{Cache, CacheError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Typed JSON access for every [`Cache`] (including `dyn Cache`); a value that does not decode
/// is a [`CacheError::Decode`].
#[async_trait::async_trait]
pub trait CacheJson: Cache {
    /// Serialise `value` as JSON and store it under `key` for `ttl` (overwrites).
    async fn put_json<T: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let raw = serde_json::to_vec(value).map_err(CacheError::Encode)?;
        self.put(key, &raw, ttl).await
    }

    /// Read and decode the JSON value under `key`.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        decode(self.get(key).await?)
    }

    /// Atomically read, delete and decode the JSON value under `key` (see [`Cache::consume`]).
    async fn consume_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        decode(self.consume(key).await?)
    }
}

impl<C: Cache + ?Sized> CacheJson for C {}

fn decode<T: DeserializeOwned>(raw: Option<Vec<u8>>) -> Result<Option<T>, CacheError> {
    raw.map(|r| serde_json::from_slice(&r))
        .transpose()
        .map_err(CacheError::Decode)
}
