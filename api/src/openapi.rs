//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` (routes and document are
//! declared together with `utoipa_axum::routes!`, so they cannot drift), then completed here
//! with what holds for every operation by the service's conventions, declared once:
//!
//! - every error answer is `application/problem+json` ([`Problem`]);
//! - every secured operation can answer 401 (with `WWW-Authenticate`) and 403; every operation
//!   with a path parameter 404; every operation 400, 500 and 503;
//! - every command (POST, PUT) takes `Idempotency-Key` and can answer 409, 413, 415 and 422; a
//!   command on an existing resource (`{id}` in its path, or a PUT) takes `If-Match` and can
//!   answer 412;
//!   its success (a `CommandResponse`) carries `ETag`, `Location` and `Idempotent-Replayed`;
//! - 429 carries `Retry-After`; every response has a description.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, HttpMethod, ObjectBuilder, OpenApi, Ref, RefOr, Required, Response, Schema, Type,
};
use utoipa::Modify;

use crate::problem::Problem;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The conventions every operation follows (see the module's documentation).
#[derive(Debug)]
pub struct Conventions;

fn string_schema(max_length: Option<usize>) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new().schema_type(Type::String);
    if let Some(max) = max_length {
        builder = builder.max_length(Some(max)).min_length(Some(1));
    }
    RefOr::T(Schema::Object(builder.build()))
}

fn header_parameter(name: &str, description: &str, max_length: Option<usize>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(string_schema(max_length)))
        .build()
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "304" => "Not modified: the resource still has the ETag given in If-None-Match",
        "400" => "Malformed request: the body is not JSON, or a parameter or header is invalid",
        "401" => "Not authenticated: no token, or one that is malformed, expired or badly signed",
        "403" => "Forbidden: the caller's role may not do this",
        "404" => "Not found, or not the caller's to see",
        "409" => "Refused by the procedure's rules in the file's state, or a concurrent change",
        "410" => "Gone",
        "412" => "If-Match is not the resource's current version",
        "413" => "The request body is too large",
        "415" => "The body is not application/json",
        "422" => {
            "Invalid values (naming the fields), or an Idempotency-Key reused for another request"
        }
        "429" => "Too many attempts: retry after Retry-After seconds",
        "500" => "Internal error (logged with the request id, never shown)",
        "503" => "The service's database is unavailable",
        _ => "See the problem's detail",
    }
}

fn problem_response(status: &str) -> Response {
    let mut response = Response::new(default_description(status));
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
    );
    response
}

fn ensure(operation: &mut Operation, status: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(problem_response(status)));
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
    .collect()
}

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.schemas.insert(
            "Problem".to_owned(),
            <Problem as utoipa::PartialSchema>::schema(),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_parameter = path.contains('{');
            for (method, operation) in operations(item) {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let command = matches!(method, HttpMethod::Post | HttpMethod::Put);
                // A command on a resource that exists: one named in the path, or replaced by PUT.
                let addressed = path.contains("{id}") || method == HttpMethod::Put;
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                if command {
                    parameters.push(header_parameter(
                        "Idempotency-Key",
                        "Makes a retry safe: the same key from the same caller answers the first \
                         result and appends nothing (1 to 255 visible characters)",
                        Some(255),
                    ));
                    if addressed {
                        parameters.push(header_parameter(
                            "If-Match",
                            "The resource's ETag as last read: the command is carried out only if \
                             it is still the resource's version (else 412)",
                            None,
                        ));
                    }
                }
                ensure(operation, "400");
                if secured {
                    ensure(operation, "401");
                    ensure(operation, "403");
                }
                // A command may name other resources in its body (an inscription, a file).
                if has_path_parameter || command {
                    ensure(operation, "404");
                }
                // Query and path parameters are checked like bodies: a bad one is 422.
                let checked_parameters = operation.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        matches!(
                            p.parameter_in,
                            utoipa::openapi::path::ParameterIn::Query
                                | utoipa::openapi::path::ParameterIn::Path
                        )
                    })
                });
                if checked_parameters || has_path_parameter {
                    ensure(operation, "422");
                }
                if command {
                    for status in ["409", "413", "415", "422"] {
                        ensure(operation, status);
                    }
                    if addressed {
                        ensure(operation, "412");
                    }
                }
                ensure(operation, "500");
                ensure(operation, "503");
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if response.description.trim().is_empty() {
                        response.description = default_description(status).to_owned();
                    }
                    let error = status.starts_with('4') || status.starts_with('5');
                    if error {
                        // An error declared as a problem is served as problem+json.
                        let is_problem = response.content.get("application/json").is_some_and(|c| {
                            matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
                        });
                        if is_problem {
                            if let Some(content) = response.content.shift_remove("application/json")
                            {
                                response.content.insert(PROBLEM_JSON.to_owned(), content);
                            }
                        }
                        if response.content.is_empty() {
                            *response = problem_response(status);
                        }
                    }
                    if status == "401" {
                        response.headers.insert(
                            "WWW-Authenticate".to_owned(),
                            HeaderBuilder::new()
                                .schema(string_schema(None))
                                .description(Some("Bearer"))
                                .build(),
                        );
                    }
                    if status == "429" {
                        response.headers.insert(
                            "Retry-After".to_owned(),
                            HeaderBuilder::new()
                                .schema(string_schema(None))
                                .description(Some("Seconds to wait before trying again"))
                                .build(),
                        );
                    }
                    let answers_a_command = response.content.values().any(|c| {
                        matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/CommandResponse"))
                    });
                    if command && status.starts_with('2') && answers_a_command {
                        for (name, description) in [
                            ("ETag", "The addressed resource's version after the command"),
                            ("Location", "Where to read the addressed resource"),
                            (
                                "Idempotent-Replayed",
                                "`true` when this answers a retry with the same Idempotency-Key",
                            ),
                        ] {
                            response.headers.entry(name.to_owned()).or_insert_with(|| {
                                HeaderBuilder::new()
                                    .schema(string_schema(None))
                                    .description(Some(description))
                                    .build()
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The `procedure` query parameters take one of the registered procedures' names: the document
/// lists them (the set is the registry's, so it is filled in here rather than written by hand).
pub fn procedure_names(openapi: &mut OpenApi, names: &[String]) {
    for item in openapi.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.name == "procedure" && parameter.parameter_in == ParameterIn::Query {
                    parameter.schema = Some(RefOr::T(Schema::Object(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(names.iter().cloned()))
                            .build(),
                    )));
                }
            }
        }
    }
}

/// Every string of a request body is bounded ([`crate::extract::MAX_STRING`], and less where a
/// field says so): the document states the bound of each input string that does not state its
/// own.
pub fn bound_input_strings(openapi: &mut OpenApi) {
    use utoipa::openapi::schema::SchemaType;
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if !(name.ends_with("Input") || name.ends_with("Request")) {
            continue;
        }
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for property in object.properties.values_mut() {
            let RefOr::T(Schema::Object(field)) = property else {
                continue;
            };
            let is_string = match &field.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if is_string && field.max_length.is_none() && field.enum_values.is_none() {
                field.max_length = Some(crate::extract::MAX_STRING);
            }
        }
    }
}
