//! Matching a request to an operation of the spec, by the path templates `cargo xtask codegen`
//! takes from it ([`OPERATIONS`](dingtalk_conference_api::spec_constants::OPERATIONS)), so a
//! new operation in the spec is routed without a hand-written path here.

use http::Method;

use crate::server::percent_decode;

/// A request matched to an operation: its `operationId` and its path parameters,
/// percent-decoded, in the template's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matched {
    pub(crate) operation_id: &'static str,
    pub(crate) params: Vec<(&'static str, String)>,
}

impl Matched {
    /// The path parameter `name` (empty if the template has none of that name).
    pub(crate) fn param(&self, name: &str) -> String {
        self.params
            .iter()
            .find(|(param, _)| *param == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    /// The first path parameter, which for DingTalk's conference paths names the resource
    /// (a conference id, a room code); fault scopes select requests by it.
    pub(crate) fn first_param(&self) -> Option<&str> {
        self.params.first().map(|(_, value)| value.as_str())
    }
}

/// The operation of `operations` that `method` and `path` (without its query) ask for. A
/// parameter matches one path segment, empty included (the handler refuses an empty id the way
/// DingTalk does); where two templates match, the one with more literal segments wins, so
/// `POST …/videoConferences/query` is never read as a conference id.
pub(crate) fn match_operation(
    operations: &[(&'static str, &'static str, &'static str)],
    method: &Method,
    path: &str,
) -> Option<Matched> {
    // Every request of every test and bench goes through here, against every operation: no
    // allocation until a template matches (splitting each template into a `Vec` cost more
    // than the rest of serving a request).
    let segments = slashes(path);
    let mut best: Option<(usize, &'static str, &'static str)> = None;
    for &(operation_id, template_method, template) in operations {
        if !method.as_str().eq_ignore_ascii_case(template_method) || slashes(template) != segments {
            continue;
        }
        let mut literals = 0;
        let matched =
            template
                .split('/')
                .zip(path.split('/'))
                .all(|(part, segment)| match parameter(part) {
                    Some(_) => true,
                    None => {
                        literals += 1;
                        part == segment
                    }
                });
        if matched && best.is_none_or(|(most, _, _)| literals > most) {
            best = Some((literals, operation_id, template));
        }
    }
    let (_, operation_id, template) = best?;
    let params = template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(part, segment)| parameter(part).map(|name| (name, percent_decode(segment))))
        .collect();
    Some(Matched {
        operation_id,
        params,
    })
}

/// The name of a template segment that is a parameter (`{name}`).
fn parameter(part: &str) -> Option<&str> {
    part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
}

/// How many `/` a path holds: two paths with as many have as many segments.
fn slashes(path: &str) -> usize {
    path.bytes().filter(|&b| b == b'/').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATIONS: &[(&str, &str, &str)] = &[
        (
            "info",
            "GET",
            "/v1.0/conference/videoConferences/{conferenceId}",
        ),
        ("batch", "POST", "/v1.0/conference/videoConferences/query"),
        (
            "members",
            "GET",
            "/v1.0/conference/videoConferences/{conferenceId}/members",
        ),
        ("byQuery", "GET", "/v1.0/conference/videoConferences/query"),
    ];

    fn route(method: Method, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
        match_operation(OPERATIONS, &method, path).map(|m| (m.operation_id, m.params))
    }

    #[test]
    fn templates_match_by_method_and_segments_and_decode_parameters() {
        assert_eq!(
            route(Method::GET, "/v1.0/conference/videoConferences/a%2Fb%20c"),
            Some(("info", vec![("conferenceId", "a/b c".to_string())]))
        );
        assert_eq!(
            route(Method::GET, "/v1.0/conference/videoConferences/x/members"),
            Some(("members", vec![("conferenceId", "x".to_string())]))
        );
        assert_eq!(
            route(Method::POST, "/v1.0/conference/videoConferences/query"),
            Some(("batch", vec![]))
        );
        // An empty id still reaches the operation, which refuses it as DingTalk does.
        assert_eq!(
            route(Method::GET, "/v1.0/conference/videoConferences/"),
            Some(("info", vec![("conferenceId", String::new())]))
        );
        assert_eq!(
            route(Method::DELETE, "/v1.0/conference/videoConferences/x"),
            None
        );
        assert_eq!(
            route(Method::GET, "/v1.0/conference/videoConferences/x/y"),
            None
        );
        assert_eq!(route(Method::GET, "/v1.0/other"), None);
    }

    #[test]
    fn a_literal_segment_beats_a_parameter() {
        assert_eq!(
            route(Method::GET, "/v1.0/conference/videoConferences/query"),
            Some(("byQuery", vec![]))
        );
    }
}
