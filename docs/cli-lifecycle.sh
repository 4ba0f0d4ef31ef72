#!/usr/bin/env bash
# The conference lifecycle against one fake DingTalk server, as the closing note shows it.
# Run from the repository root after `cargo build -p dingtalk-conference-mock -p dingtalk-conference-cli`
# (binaries in ${CARGO_TARGET_DIR:-target}/debug).
set -euo pipefail
bin="${CARGO_TARGET_DIR:-target}/debug"
export TZ=CST-8   # Beijing time, as the seeded data is

# The fake server on a free port; it prints `listening on http://127.0.0.1:PORT`.
coproc MOCK { "$bin/dingtalk-conference-mock" --port 0 2>/dev/null; }
trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
read -r _ _ url <&"${MOCK[0]}"

secret_file=$(mktemp); trap 'kill "$MOCK_PID" 2>/dev/null || true; rm -f "$secret_file"' EXIT
echo mock-app-secret > "$secret_file"
dt() { "$bin/dingtalk-conference" --base-url "$url" --app-key mock-app-key --app-secret-file "$secret_file" "$@"; }
show() { echo "\$ dingtalk-conference $*"; dt "$@"; echo "[exit $?]"; echo; }

ENDED=65c6f2a1e4b0c7d93a1f0e27 STARTED=6323d7568777190142ab9d10 HOST=Xq7TnW2bLs9vRk4mPz1cAgiE
echo "\$ ID=\$(dingtalk-conference create --title 'Launch review 发布评审' --user-id organiser-union-id --invite guest-union-id)"
ID=$(dt create --title 'Launch review 发布评审' --user-id organiser-union-id --invite guest-union-id)
echo "[exit $?]  ID=$ID"; echo
show info "$ID"
CODE=$(dt info "$ID" | sed -n 's/^room code  *//p')
show info --room-code "$CODE"
show status "$ID" "$STARTED" "$ENDED"
show members "$ID"
show close "$ID" --union-id organiser-union-id
show info "$ID"
set +e
show close "$ID" --union-id organiser-union-id
set -e
show recordings "$ENDED" --union-id "$HOST"
show transcript "$ENDED" --union-id "$HOST"
