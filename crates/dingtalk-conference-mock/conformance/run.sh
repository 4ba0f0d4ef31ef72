#!/usr/bin/env bash
# Conformance of the fake DingTalk server to spec/dingtalk-conference.yaml, checked by
# schemathesis: it generates requests for every operation of the spec (valid ones and, in its
# negative mode, invalid ones) and checks that every answer is one the spec documents. Then
# exercised.py reads the requests schemathesis sent (its HAR report) and fails the run unless
# every operation of the spec was sent and answered with a success at least once, so an
# operation that schemathesis skipped, or that never got past the fake's checks, cannot pass
# unnoticed.
#
#   crates/dingtalk-conference-mock/conformance/run.sh [extra schemathesis args...]
#
# Steps: install schemathesis (pinned) into a venv, build and start the mock binary on an
# ephemeral port, fetch an access token with curl, run schemathesis with that token in the
# `x-acs-dingtalk-access-token` header, stop the server, check that every operation was
# exercised, and exit with the first failure's status.
#
# Environment:
#   SCHEMATHESIS_VENV          venv to use or create (default: target/schemathesis-venv)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default: 50)
#   SCHEMATHESIS_SEED          random seed, for reproducible runs (default: 20260302)
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

conformance=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$conformance/../../.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=${SCHEMATHESIS_VENV:-target/schemathesis-venv}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-50}
seed=${SCHEMATHESIS_SEED:-20260302}

# 1. schemathesis, pinned, in its own venv (reused when it already has the right version; made
# again when it has no pip; python3-venv installed when missing: see .ci/venv.sh).
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    # shellcheck source=.ci/venv.sh
    source "$root/.ci/venv.sh"
    ensure_venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION"
fi

# 2. The mock, on a port the system picks.
cargo build --quiet -p dingtalk-conference-mock --bin dingtalk-conference-mock
work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$target_dir/debug/dingtalk-conference-mock" --port 0 >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
base_url=
for _ in $(seq 1 100); do
    if read -r line <"$work/stdout" 2>/dev/null && [[ $line == "listening on "* ]]; then
        base_url=${line#listening on }
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [[ -z $base_url ]]; then
    echo "error: the mock server did not start" >&2
    cat "$work/stderr" >&2
    exit 1
fi
echo "mock server: $base_url" >&2

# 3. A token, the way a client gets one.
token=$(curl --silent --show-error --fail --noproxy '*' \
    -X POST "$base_url/v1.0/oauth2/accessToken" \
    -H 'content-type: application/json' \
    -d '{"appKey":"mock-app-key","appSecret":"mock-app-secret"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])')

# 4. schemathesis. Only response-conformance checks: every status, content type and body must
# be one the spec documents for that operation, and nothing may be a 5xx. The other checks of
# `--checks all` test HTTP conventions that DingTalk itself does not follow, so they would fail
# on a faithful fake: `ignored_auth` expects 401 without a token (DingTalk answers 400
# InvalidAuthentication), `unsupported_method` expects 405 (DingTalk's gateway answers 404
# InvalidAction.NotFound), and `positive_data_acceptance` expects any schema-valid token
# request to succeed (only the right credentials do).
# Two passes on one server: every operation but closeVideoConference, then that one alone.
# Schemathesis feeds values from answers into later requests, so in one pass it closes the
# seeded conference in progress (with its host's unionId, read from the info answer) before the
# in-meeting operations run, and they could only ever answer `confClosed`.
status=0
run_schemathesis() {
    local har=$1
    shift
    "$venv/bin/schemathesis" --config-file "$conformance/schemathesis.toml" \
        run spec/dingtalk-conference.yaml \
        --url "$base_url" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --header "x-acs-dingtalk-access-token: $token" \
        --max-examples "$max_examples" \
        --seed "$seed" \
        --generation-database none \
        --request-timeout 10 \
        --no-color \
        --report har \
        --report-har-path "$har" \
        "$@" || status=$?
}
run_schemathesis "$work/requests.har" --exclude-operation-id closeVideoConference "$@"
run_schemathesis "$work/close.har" --include-operation-id closeVideoConference "$@"

# 5. Every operation of the spec sent, and answered with a 2xx, at least once.
exercised=0
"$venv/bin/python" "$conformance/exercised.py" spec/dingtalk-conference.yaml \
    "$work/requests.har" "$work/close.har" || exercised=$?

if [[ $status -ne 0 ]]; then
    exit "$status"
fi
exit "$exercised"
