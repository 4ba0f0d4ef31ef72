//! A mutation test of the review workflow itself: each kind of spec change, applied to a copy of
//! the spec, must change the snapshot output a reviewer reads, and the changed lines must name
//! the change. A pure reformat must change nothing.
//!
//! Everything runs in-process, as library calls: the generator and the constants module
//! (`xtask::generate_all_from_str`), the spec digest (`xtask::digest`), the API listing
//! (`api_listing::crate_listing`), and the wire requests (the compiled client driven by the
//! generated dispatch with the mutated spec's examples). A new operation cannot be sent without
//! recompiling, so for it the test checks the regenerated dispatch that gives it its wire
//! snapshot.

use std::collections::BTreeSet;

use dingtalk_conference_tests::BoxError;
use dingtalk_conference_tests::api_listing::crate_listing;
use dingtalk_conference_tests::event_listing::event_listing;
use dingtalk_conference_tests::facade_listing::facade_listing;
use dingtalk_conference_tests::operations::{capture_every_operation, render_wire};
use dingtalk_conference_tests::spec::spec_path;
use xtask::{CONSTANTS_PATH, DISPATCH_PATH, EVENTS_PATH, OUTPUT_PATH, SPEC_PATH};

/// A snapshot output the review shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// `spec_digest__spec_digest.snap`.
    Digest,
    /// `api_surface__generated_client_public_api.snap` (client and constants).
    Listing,
    /// `wire__request_*.snap`, from the compiled client.
    Wire,
    /// `tests/src/dispatch.rs`, which gives a new operation its wire snapshot.
    Dispatch,
    /// `api_surface__event_listing.snap`: the typed events.
    Events,
}

/// Every output, rendered from spec text.
struct Rendered {
    digest: String,
    listing: String,
    wire: String,
    dispatch: String,
    events: String,
}

impl Rendered {
    async fn of(spec: &str) -> Result<Self, BoxError> {
        let files = xtask::generate_all_from_str(spec, SPEC_PATH)?;
        let file = |path: &str| -> Result<String, BoxError> {
            files
                .iter()
                .find(|f| f.path == path)
                .map(|f| f.text.clone())
                .ok_or_else(|| format!("the generator wrote no {path}").into())
        };
        let typed: openapiv3::OpenAPI = serde_json::from_value(serde_saphyr::from_str(spec)?)?;
        Ok(Self {
            digest: xtask::digest::digest_from_str(spec, SPEC_PATH)?,
            listing: crate_listing(&file(OUTPUT_PATH)?, &file(CONSTANTS_PATH)?)?,
            wire: wire_of(&typed).await?,
            dispatch: file(DISPATCH_PATH)?,
            events: events_of(&file(EVENTS_PATH)?)?,
        })
    }

    fn get(&self, output: Output) -> &str {
        match output {
            Output::Digest => &self.digest,
            Output::Listing => &self.listing,
            Output::Wire => &self.wire,
            Output::Dispatch => &self.dispatch,
            Output::Events => &self.events,
        }
    }
}

/// The event listing with `generated` as the facade's generated events module (the other
/// files as they are on disk).
fn events_of(generated: &str) -> Result<String, BoxError> {
    let src = xtask::workspace_root().join("crates/dingtalk-conference/src");
    let module = EVENTS_PATH
        .strip_prefix("crates/dingtalk-conference/src/")
        .ok_or("EVENTS_PATH is not in the facade's src/")?;
    let facade = facade_listing(&|relative: &str| {
        if relative == module {
            Some(generated.to_string())
        } else {
            std::fs::read_to_string(src.join(relative)).ok()
        }
    })?;
    event_listing(generated, &facade)
}

/// Every operation's wire rendering, for the operations the compiled dispatch knows (a new
/// operation is checked through [`Output::Dispatch`] instead).
async fn wire_of(spec: &openapiv3::OpenAPI) -> Result<String, BoxError> {
    let mut known = spec.clone();
    for (_, item) in known.paths.paths.iter_mut() {
        if let openapiv3::ReferenceOr::Item(item) = item {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ] {
                let unknown = operation.as_ref().is_some_and(|o| {
                    !dingtalk_conference_tests::dispatch::OPERATION_IDS
                        .contains(&o.operation_id.as_deref().unwrap_or_default())
                });
                if unknown {
                    *operation = None;
                }
            }
        }
    }
    let mut out = String::new();
    for (operation, request) in capture_every_operation(&known).await? {
        out.push_str(&render_wire(&operation, &request));
    }
    Ok(out)
}

/// The lines only in `after` (added) and only in `before` (removed).
fn changed_lines(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let old: BTreeSet<&str> = before.lines().collect();
    let new: BTreeSet<&str> = after.lines().collect();
    let added = new.difference(&old).map(ToString::to_string).collect();
    let removed = old.difference(&new).map(ToString::to_string).collect();
    (added, removed)
}

/// One kind of spec change: replace `find` (which must occur exactly once) by `replace`; then
/// each `(output, needle)` must gain a line containing `needle`.
struct Mutation {
    kind: &'static str,
    find: &'static str,
    replace: &'static str,
    expect: &'static [(Output, &'static str)],
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        kind: "a field type",
        find: "        activeNum:\n          type: integer\n          format: int32\n",
        replace: "        activeNum:\n          type: string\n",
        expect: &[
            (
                Output::Digest,
                "schema ConferenceInfo.activeNum: optional, string",
            ),
            (Output::Listing, "ConferenceInfo.active_num: Option<String>"),
        ],
    },
    Mutation {
        kind: "a new field",
        find: "        title:\n          type: string\n          description: The conference title.\n        roomCode:\n          # A string",
        replace: "        hostNick:\n          type: string\n          description: The host's nickname.\n        title:\n          type: string\n          description: The conference title.\n        roomCode:\n          # A string",
        expect: &[
            (
                Output::Digest,
                "schema ConferenceInfo.hostNick: optional, string",
            ),
            (
                Output::Listing,
                "ConferenceInfo.host_nick: Option<String>  [json \"hostNick\"",
            ),
        ],
    },
    Mutation {
        kind: "a renamed field",
        find: "        title:\n          type: string\n          description: The conference title.\n        roomCode:\n          # A string",
        replace: "        subject:\n          type: string\n          description: The conference title.\n        roomCode:\n          # A string",
        expect: &[
            (
                Output::Digest,
                "schema ConferenceInfo.subject: optional, string",
            ),
            (
                Output::Listing,
                "ConferenceInfo.subject: Option<String>  [json \"subject\"",
            ),
        ],
    },
    Mutation {
        kind: "a new operation",
        find: "\n  /v1.0/oauth2/accessToken:\n",
        replace: "
  /v1.0/conference/videoConferences/{conferenceId}/recordings:
    get:
      operationId: listConferenceRecordings
      security:
        - accessToken: []
      parameters:
        - name: conferenceId
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: The recordings.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QueryConferenceInfoResponse'
        '4XX':
          $ref: '#/components/responses/Error'

  /v1.0/oauth2/accessToken:
",
        expect: &[
            (
                Output::Digest,
                "operation listConferenceRecordings: GET /v1.0/conference/videoConferences/{conferenceId}/recordings",
            ),
            (
                Output::Listing,
                "async fn Client::list_conference_recordings<'a>",
            ),
            (
                Output::Listing,
                "  list_conference_recordings: 200 -> QueryConferenceInfoResponse; 4XX -> ErrorBody",
            ),
            (Output::Dispatch, "\"listConferenceRecordings\""),
        ],
    },
    Mutation {
        kind: "a changed server URL",
        find: "  - url: https://api.dingtalk.com\n",
        replace: "  - url: https://api.dingtalk.cn\n",
        expect: &[
            (
                Output::Digest,
                "server https://api.dingtalk.cn [x-edition china]",
            ),
            (
                Output::Listing,
                "CHINA_BASE_URL: &str = \"https://api.dingtalk.cn\"",
            ),
        ],
    },
    Mutation {
        kind: "a renamed security header",
        find: "      name: x-acs-dingtalk-access-token\n",
        replace: "      name: x-acs-dingtalk-token\n",
        expect: &[
            (
                Output::Digest,
                "security scheme accessToken: apiKey in header named \"x-acs-dingtalk-token\"",
            ),
            (
                Output::Listing,
                "ACCESS_TOKEN_HEADER: &str = \"x-acs-dingtalk-token\"",
            ),
        ],
    },
    Mutation {
        kind: "a changed bound",
        find: "          x-facade-name: duration\n          minimum: 0\n          description: Duration in milliseconds. Only",
        replace: "          x-facade-name: duration\n          minimum: 1\n          description: Duration in milliseconds. Only",
        expect: &[
            (
                Output::Digest,
                "schema ConferenceInfo.confDuration: optional, integer (int64), minimum 1",
            ),
            (
                Output::Listing,
                "CONFERENCE_INFO_CONF_DURATION_MINIMUM: i64 = 1",
            ),
        ],
    },
    Mutation {
        kind: "a field marked deprecated",
        find: "        roomCode:\n          # A string of digits on the wire; kept a string so leading zeros survive.\n          type: string\n",
        replace: "        roomCode:\n          type: string\n          deprecated: true\n",
        expect: &[(
            Output::Digest,
            "schema ConferenceInfo.roomCode: optional, string, deprecated",
        )],
    },
    Mutation {
        kind: "a changed enum description",
        find: "Conference status: 0 initialised, 1 ended, 2 started (the numbering",
        replace: "Conference status: 0 initialised, 1 ended, 2 started, 3 cancelled (the numbering",
        expect: &[(Output::Digest, "2 started, 3 cancelled")],
    },
    Mutation {
        kind: "a changed enum meaning",
        find: "        - {value: 2, name: Started, label: started, description: in progress}\n",
        replace: "        - {value: 2, name: Started, label: in progress, description: in progress}\n",
        expect: &[(
            Output::Digest,
            "components x-enums.ConferenceStatus.variants[2].label = \"in progress\"",
        )],
    },
    Mutation {
        kind: "a status code remapped",
        find: "        '404':\n          description: '`roomNotFound`: no such conference.'\n",
        replace: "        '410':\n          description: '`roomNotFound`: no such conference.'\n",
        expect: &[
            (
                Output::Digest,
                "operation queryConferenceInfo response 410 — `roomNotFound`",
            ),
            (
                Output::Listing,
                "  query_conference_info: 200 -> QueryConferenceInfoResponse; 400|403|410|500|4XX|5XX -> ErrorBody",
            ),
        ],
    },
    Mutation {
        kind: "a changed example value",
        find: "              appKey: dingeqqpkv3xxxxxx\n",
        replace: "              appKey: dingchangedkey\n",
        expect: &[
            (
                Output::Digest,
                "operation getAccessToken request body application/json example: appKey = \"dingchangedkey\"",
            ),
            (Output::Wire, "  \"appKey\": \"dingchangedkey\","),
        ],
    },
    Mutation {
        kind: "an event field type",
        find: "        userNick:\n          type: string\n          description: The member's nickname (用户昵称).\n",
        replace: "        userNick:\n          type: integer\n          format: int32\n          description: The member's nickname (用户昵称).\n",
        expect: &[
            (
                Output::Digest,
                "schema EventMember.userNick: optional, integer (int32)",
            ),
            (
                Output::Events,
                "dingtalk_conference::events::EventMember.user_nick: Option<i32>",
            ),
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_spec_change_shows_in_the_snapshot_that_names_it() -> Result<(), BoxError> {
    let spec = std::fs::read_to_string(spec_path())?;
    let before = Rendered::of(&spec).await?;
    let mut failures = Vec::new();
    for mutation in MUTATIONS {
        assert_eq!(
            spec.matches(mutation.find).count(),
            1,
            "{}: the spec no longer contains {:?} exactly once; update this test",
            mutation.kind,
            mutation.find
        );
        let changed = spec.replacen(mutation.find, mutation.replace, 1);
        let after = Rendered::of(&changed).await?;
        for &(output, needle) in mutation.expect {
            let (added, removed) = changed_lines(before.get(output), after.get(output));
            if !added.iter().any(|line| line.contains(needle)) {
                failures.push(format!(
                    "{}: no added {output:?} line contains {needle:?}\n  added: {added:#?}\n  removed: {removed:#?}",
                    mutation.kind
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        MUTATIONS.len(),
        13,
        "the review-snapshot issue names eleven kinds of change; the twelfth is an enum \
         meaning declared in components.x-enums, the thirteenth an event payload's field"
    );
    Ok(())
}

/// The spec rewritten as JSON (itself valid YAML): every comment gone, every string unfolded,
/// every mapping's keys in sorted order, flow style throughout.
fn reformatted(spec: &str) -> Result<String, BoxError> {
    let value: serde_json::Value = serde_saphyr::from_str(spec)?;
    Ok(serde_json::to_string_pretty(&sorted(value))?)
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pure_reformat_changes_no_snapshot_output() -> Result<(), BoxError> {
    let spec = std::fs::read_to_string(spec_path())?;
    let reformatted = reformatted(&spec)?;
    let comment = "# Conventions kept throughout:";
    assert!(
        spec.contains(comment) && !reformatted.contains(comment),
        "the reformat kept the comments"
    );
    assert_ne!(spec, reformatted);
    let before = Rendered::of(&spec).await?;
    let after = Rendered::of(&reformatted).await?;
    for output in [
        Output::Digest,
        Output::Listing,
        Output::Wire,
        Output::Dispatch,
        Output::Events,
    ] {
        let (added, removed) = changed_lines(before.get(output), after.get(output));
        assert!(
            added.is_empty() && removed.is_empty(),
            "{output:?} changed on a reformat:\n  added: {added:#?}\n  removed: {removed:#?}"
        );
    }
    // And the generated files themselves, byte for byte.
    assert_eq!(
        xtask::generate_all_from_str(&spec, SPEC_PATH)?,
        xtask::generate_all_from_str(&reformatted, SPEC_PATH)?
    );
    Ok(())
}
