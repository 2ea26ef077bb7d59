//! `OptionalJson<T>`: a request body that may be absent, but when it is sent
//! must be valid. (`Option<web::Json<T>>` turns a malformed body into `None`:
//! `{"product_id": ""}` sent to revoke one product's seats would revoke all.)

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The largest body read (the same as for `web::Json`).
const LIMIT: usize = 64 * 1024;

pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// `None` for an empty body; the value for valid JSON; 400 `invalid_body` otherwise.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|error| ApiError::BadRequest {
            code: "invalid_body",
            detail: format!("The body is not valid: {error}"),
        })
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.len() > LIMIT {
                return Err(ApiError::BadRequest {
                    code: "invalid_body",
                    detail: format!("The body is larger than {LIMIT} bytes."),
                }
                .into());
            }
            Ok(OptionalJson(parse(&bytes)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Body {
        product_id: Option<uuid::Uuid>,
    }

    #[test]
    fn absent_is_none_and_malformed_is_refused() {
        assert_eq!(parse::<Body>(b"").ok(), Some(None));
        assert_eq!(parse::<Body>(b"  \n").ok(), Some(None));
        assert_eq!(parse::<Body>(b"{}").ok(), Some(Some(Body { product_id: None })));
        assert!(matches!(
            parse::<Body>(br#"{"product_id": ""}"#),
            Err(ApiError::BadRequest {
                code: "invalid_body",
                ..
            })
        ));
        assert!(parse::<Body>(b"not json").is_err());
    }
}
