//! Every operation of the spec as a request a test can send: arguments from the spec's
//! examples, or the smallest values its schemas allow where there are none, for the generated
//! [`dispatch`](crate::dispatch) to turn into a typed call.

use openapiv3::{
    MediaType, OpenAPI, ReferenceOr, RequestBody, Schema, SchemaKind, SecurityScheme, StatusCode,
    Type,
};
use serde_json::{Map, Value, json};

use crate::BoxError;
use dingtalk_conference_testkit::capture::{CannedResponse, CaptureServer, CapturedRequest};

/// The access token the wire tests hand the client; snapshots show it redacted.
pub const TEST_TOKEN: &str = "secret-token-value";

/// A generated client with [`TEST_TOKEN`], pointed at a fresh capture server answering `answer`.
pub async fn client_and_server(
    answer: &Value,
) -> Result<(dingtalk_conference_api::Client, CaptureServer), BoxError> {
    let server = CaptureServer::start(CannedResponse::json(200, answer)).await?;
    let context = dingtalk_conference_api::RequestContext::new().with_access_token(TEST_TOKEN)?;
    // No proxy: one from the environment must not carry loopback requests.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let client = dingtalk_conference_api::Client::new_with_client(server.base_url(), http, context);
    Ok((client, server))
}

/// Every operation of `spec`, sent by the generated dispatch with arguments from the spec's
/// examples (or minimal valid values), as a capture server received it.
pub async fn capture_every_operation(
    spec: &OpenAPI,
) -> Result<Vec<(SpecOperation, CapturedRequest)>, BoxError> {
    let mut captured = Vec::new();
    for operation in spec_operations(spec)? {
        let (client, mut server) = client_and_server(&operation.success_example).await?;
        // The call's own outcome is not what the wire tests are about (decoding is tested in
        // decode.rs); that the dispatch knows the operation and its arguments decode is.
        let _outcome = crate::dispatch::call(&client, &operation.id, &operation.args)
            .await
            .map_err(|e| format!("{}: {e}", operation.id))?;
        let request = server.next_request().await?;
        captured.push((operation, request));
    }
    Ok(captured)
}

/// An operation's request as its wire snapshot shows it: the operation, then the request with
/// the headers of its security schemes redacted.
pub fn render_wire(operation: &SpecOperation, request: &CapturedRequest) -> String {
    let redacted: Vec<&str> = operation.auth_headers.iter().map(String::as_str).collect();
    format!(
        "operation {}: {} {}\n{}",
        operation.id,
        operation.method,
        operation.path,
        request.render(&redacted)
    )
}

/// One operation, ready to send.
#[derive(Debug, Clone)]
pub struct SpecOperation {
    /// The spec's `operationId`.
    pub id: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template, e.g. `/v1.0/oauth2/accessToken`.
    pub path: String,
    /// The arguments for [`dispatch::call`](crate::dispatch::call), keyed by the spec's parameter
    /// names, `body` for the request body.
    pub args: Map<String, Value>,
    /// The headers of the security schemes this operation requires (empty: unauthenticated).
    pub auth_headers: Vec<String>,
    /// The first 2XX response's example, to answer with (`{}` if it has none).
    pub success_example: Value,
}

/// The spec, parsed into `openapiv3`'s types.
pub fn load_typed_spec() -> Result<OpenAPI, BoxError> {
    Ok(serde_json::from_value(crate::spec::load_spec()?)?)
}

/// Every operation of `spec`, in spec order.
pub fn spec_operations(spec: &OpenAPI) -> Result<Vec<SpecOperation>, BoxError> {
    let mut operations = Vec::new();
    for (route, method, operation) in spec.operations() {
        let id = operation
            .operation_id
            .clone()
            .ok_or_else(|| format!("{method} {route} has no operationId"))?;
        let mut args = Map::new();
        for parameter in &operation.parameters {
            let ReferenceOr::Item(parameter) = parameter else {
                return Err(format!("{id}: parameter $refs are not supported here").into());
            };
            let data = parameter.parameter_data_ref();
            let schema = match &data.format {
                openapiv3::ParameterSchemaOrContent::Schema(schema) => Some(schema),
                openapiv3::ParameterSchemaOrContent::Content(_) => None,
            };
            let named = data.examples.values().find_map(|e| match e {
                ReferenceOr::Item(e) => e.value.clone(),
                ReferenceOr::Reference { .. } => None,
            });
            // A parameter carrying a JSON document (`content`, e.g. optRecordWhiteAccount's
            // `requestBody`) travels as its JSON text: its media type's example, encoded.
            let content = match &data.format {
                openapiv3::ParameterSchemaOrContent::Content(content) => content
                    .get("application/json")
                    .and_then(|media| media.example.clone())
                    .map(|example| Value::String(example.to_string())),
                openapiv3::ParameterSchemaOrContent::Schema(_) => None,
            };
            // An optional parameter without an example is left out: that is its minimal value.
            let value = match (data.example.clone().or(named).or(content), schema) {
                (Some(example), _) => example,
                (None, Some(schema)) if data.required => example_or_minimal(spec, schema, 0)?,
                (None, _) => continue,
            };
            args.insert(data.name.clone(), value);
        }
        match &operation.request_body {
            None => {}
            Some(ReferenceOr::Reference { reference }) => {
                return Err(format!("{id}: request body {reference}: $refs not supported").into());
            }
            Some(ReferenceOr::Item(body)) => {
                args.insert("body".to_string(), body_value(spec, &id, body)?);
            }
        }
        let security = operation.security.as_ref().or(spec.security.as_ref());
        let mut auth_headers = Vec::new();
        for requirement in security.into_iter().flatten() {
            for scheme in requirement.keys() {
                auth_headers.push(header_of(spec, scheme)?);
            }
        }
        let success_example = operation
            .responses
            .responses
            .iter()
            .find(|(code, _)| matches!(code, StatusCode::Code(200..=299) | StatusCode::Range(2)))
            .and_then(|(_, response)| match response {
                ReferenceOr::Item(response) => response.content.get("application/json"),
                ReferenceOr::Reference { .. } => None,
            })
            .and_then(|media| media.example.clone())
            .unwrap_or_else(|| json!({}));
        operations.push(SpecOperation {
            id,
            method: method.to_uppercase(),
            path: route.to_string(),
            args,
            auth_headers,
            success_example,
        });
    }
    Ok(operations)
}

fn body_value(spec: &OpenAPI, id: &str, body: &RequestBody) -> Result<Value, BoxError> {
    let media: &MediaType = body
        .content
        .get("application/json")
        .ok_or_else(|| format!("{id}: the request body is not application/json"))?;
    if let Some(example) = &media.example {
        return Ok(example.clone());
    }
    if let Some(ReferenceOr::Item(example)) = media.examples.values().next()
        && let Some(value) = &example.value
    {
        return Ok(value.clone());
    }
    match &media.schema {
        Some(schema) => example_or_minimal(spec, schema, 0),
        None => Ok(json!({})),
    }
}

/// The header that the security scheme `scheme` puts its key in.
fn header_of(spec: &OpenAPI, scheme: &str) -> Result<String, BoxError> {
    let found = spec
        .components
        .as_ref()
        .and_then(|c| c.security_schemes.get(scheme));
    match found {
        Some(ReferenceOr::Item(SecurityScheme::APIKey { name, .. })) => Ok(name.clone()),
        _ => Err(format!("security scheme {scheme} is not an apiKey scheme in a header").into()),
    }
}

/// The schema's own `example`, or the smallest value it allows: the first `enum` value, the
/// `minimum`, `minLength` times `x`, an object of its required properties.
fn example_or_minimal(
    spec: &OpenAPI,
    schema: &ReferenceOr<Schema>,
    depth: usize,
) -> Result<Value, BoxError> {
    if depth > 16 {
        return Err("schema nesting deeper than 16: a cycle?".into());
    }
    let schema = resolve(spec, schema)?;
    if let Some(example) = &schema.schema_data.example {
        return Ok(example.clone());
    }
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => match s.enumeration.iter().flatten().next() {
            Some(first) => json!(first),
            None => json!("x".repeat(s.min_length.unwrap_or(1).max(1))),
        },
        SchemaKind::Type(Type::Integer(i)) => {
            json!(i.minimum.or(i.maximum.filter(|max| *max < 0)).unwrap_or(0))
        }
        SchemaKind::Type(Type::Number(n)) => json!(n.minimum.unwrap_or(0.0)),
        SchemaKind::Type(Type::Boolean(_)) => json!(false),
        SchemaKind::Type(Type::Array(a)) => {
            let mut items = Vec::new();
            if let Some(item) = &a.items {
                for _ in 0..a.min_items.unwrap_or(0) {
                    items.push(example_or_minimal(spec, &item.clone().unbox(), depth + 1)?);
                }
            }
            Value::Array(items)
        }
        SchemaKind::Type(Type::Object(o)) => {
            let mut object = Map::new();
            for name in &o.required {
                let property = o
                    .properties
                    .get(name)
                    .ok_or_else(|| format!("required property {name} is not described"))?;
                object.insert(
                    name.clone(),
                    example_or_minimal(spec, &property.clone().unbox(), depth + 1)?,
                );
            }
            Value::Object(object)
        }
        _ => Value::Null,
    })
}

fn resolve<'a>(spec: &'a OpenAPI, schema: &'a ReferenceOr<Schema>) -> Result<&'a Schema, BoxError> {
    match schema {
        ReferenceOr::Item(schema) => Ok(schema),
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("unsupported $ref {reference}"))?;
            match spec.components.as_ref().and_then(|c| c.schemas.get(name)) {
                Some(ReferenceOr::Item(schema)) => Ok(schema),
                _ => Err(format!("{reference} does not resolve to a schema").into()),
            }
        }
    }
}
