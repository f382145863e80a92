use super::detect::{detect, DocType, Refused};
use super::*;

#[test]
fn types_are_recognised_by_content() {
    assert_eq!(detect(b"%PDF-1.7\n..."), Ok(DocType::Pdf));
    assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0"), Ok(DocType::Png));
    assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Ok(DocType::Jpeg));
    assert_eq!(detect("Договор №1\n".as_bytes()), Ok(DocType::Text));
    assert_eq!(detect(b"<?xml version=\"1.0\"?><a/>"), Ok(DocType::Xml));
    assert_eq!(detect(b"MZ\x90\0\x03\0\0\0"), Err(Refused::Unknown));
    assert_eq!(detect(b""), Err(Refused::Empty));
    assert_eq!(detect(b"PK\x03\x04\x14\0\0\0"), Err(Refused::ZipNotDocx));
}

#[test]
fn set_digest_ignores_order() {
    let a = "00".repeat(32);
    let b = "ff".repeat(32);
    assert_eq!(
        set_digest([a.as_str(), b.as_str()]),
        set_digest([b.as_str(), a.as_str()])
    );
    assert_ne!(set_digest([a.as_str()]), set_digest([b.as_str()]));
}

#[test]
fn openapi_lists_every_route() {
    let doc: serde_json::Value = serde_json::from_str(openapi::OPENAPI).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in ROUTES {
        let rel = path.strip_prefix(API_BASE).expect("under the base");
        assert!(doc["paths"][rel][*method].is_object(), "{method} {path}");
    }
}

#[test]
fn openapi_describes_public_validation_beside_the_bearer_routes() {
    let doc: serde_json::Value = serde_json::from_str(openapi::OPENAPI).expect("JSON");
    let rel = crate::http::validate::PATH
        .strip_prefix(API_BASE)
        .expect("under the base");
    let op = &doc["paths"][rel]["post"];
    assert!(op.is_object(), "{rel} is not described");
    // Public: the operation overrides the document's bearer requirement.
    assert_eq!(op["security"], serde_json::json!([]));
    assert_eq!(doc["security"][0]["bearer"][0], "sign");
    for status in ["200", "400", "413", "415", "429"] {
        assert!(op["responses"][status].is_object(), "{status}");
    }
    // Every reference resolves inside the one document.
    let text = openapi::OPENAPI;
    for r in text.split("\"$ref\": \"#/").skip(1) {
        let path = r.split('"').next().expect("ref");
        let mut node = &doc;
        for part in path.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling $ref #/{path}");
    }
}

#[test]
fn openapi_describes_the_webhook_and_its_claims() {
    let doc: serde_json::Value = serde_json::from_str(openapi::OPENAPI).expect("JSON");
    let op = &doc["webhooks"]["signingRequestEvent"]["post"];
    assert!(op["requestBody"]["content"]["application/jwt"].is_object());
    assert_eq!(op["parameters"][0]["name"], "Webhook-Id");
    assert!(op["description"]
        .as_str()
        .expect("description")
        .contains(WEBHOOK_JWT_TYPE));
    let claims = &doc["components"]["schemas"]["WebhookEvent"]["required"];
    for c in [
        "iss",
        "aud",
        "iat",
        "jti",
        "event",
        "request_id",
        "event_at",
        "status_url",
    ] {
        assert!(
            claims.as_array().expect("list").iter().any(|x| x == c),
            "{c}"
        );
    }
}
