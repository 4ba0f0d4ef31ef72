#!/usr/bin/env bash
# Tours of the CLI against one fake DingTalk server: an instant conference's lifecycle, a
# scheduled conference held, and what a meeting leaves behind. CI runs it (.ci/run).
# Run from the repository root after `cargo build -p dingtalk-conference-mock -p dingtalk-conference-cli`
# (binaries in ${CARGO_TARGET_DIR:-target}/debug).
set -euo pipefail
bin="${CARGO_TARGET_DIR:-target}/debug"
export TZ=CST-8   # Beijing time, as the seeded data is

# The fake server on a free port; it prints `listening on http://127.0.0.1:PORT`.
# `exec`: the coprocess is the server itself, so the trap's kill reaches it (a subshell killed
# would leave the server running after the script).
coproc MOCK { exec "$bin/dingtalk-conference-mock" --port 0 2>/dev/null; }
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

# ---------------------------------------------------------------------------------------------
# A scheduled conference, held: schedule → join → mute → kick → close.
# People join from DingTalk's app; the fake server's admin route /__mock/join-schedule stands in.
join() {
    curl -sS -X POST "$url/__mock/join-schedule" \
        -d "{\"scheduleConferenceId\":\"$1\",\"unionId\":\"$2\",\"nick\":\"$3\"}" |
        sed -n 's/.*"conferenceId":"\([^"]*\)".*/\1/p'
}
START=$(date -u +%Y-%m-%dT%H:%M:%SZ) END=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
echo "\$ SCHEDULE=\$(dingtalk-conference schedule create --title 'Design review 设计评审' --user-id organiser-union-id --start $START --end $END --cohost cohost-union-id)"
SCHEDULE=$(dt schedule create --title 'Design review 设计评审' --user-id organiser-union-id \
    --start "$START" --end "$END" --cohost cohost-union-id)
echo "[exit $?]  SCHEDULE=$SCHEDULE"; echo
show schedule show "$SCHEDULE" --user-id organiser-union-id
show schedule update "$SCHEDULE" --user-id organiser-union-id --title 'Design review 设计评审 (v2)'
show schedule settings "$SCHEDULE"
HELD=$(join "$SCHEDULE" organiser-union-id 'Organiser 组织者')
join "$SCHEDULE" guest-union-id 'Guest 访客' >/dev/null
echo "# the organiser and a guest join the scheduled conference (the fake server's admin route)"
echo "HELD=$HELD"; echo
show members "$HELD"
show mute "$HELD" --user-id organiser-union-id --member guest-union-id
show kick "$HELD" --user-id organiser-union-id --member guest-union-id --no-rejoin
show members "$HELD"
echo "# the guest tries again: removed with --no-rejoin, they stay out"
curl -sS -o /dev/null -w '[HTTP %{http_code}]\n\n' -X POST "$url/__mock/join-schedule" \
    -d "{\"scheduleConferenceId\":\"$SCHEDULE\",\"unionId\":\"guest-union-id\",\"nick\":\"Guest\"}"
show close "$HELD" --union-id organiser-union-id
show api queryScheduleConferenceInfo --schedule-conference-id "$SCHEDULE"
show schedule cancel "$SCHEDULE" --user-id organiser-union-id

# ---------------------------------------------------------------------------------------------
# What a meeting leaves behind: record → minutes → summary → history.
# The seeded conference in progress ($STARTED) and its host: its cloud recording and its flash
# minutes are running.
STARTED_HOST=iPOL2rN3XkF9mQb8sT0uViiE
show stream start "$STARTED" --user-id "$STARTED_HOST" --name 'All hands' \
    --url rtmp://live.example.com/app/all-hands --url https://not-rtmp.example.com/x
show stream stop "$STARTED" --user-id "$STARTED_HOST" --all
show record stop "$STARTED" --user-id "$STARTED_HOST"
show recordings "$STARTED" --union-id "$STARTED_HOST"
show record start "$STARTED" --user-id "$STARTED_HOST"
show minutes stop "$STARTED" --user-id "$STARTED_HOST"
show minutes text "$STARTED" --user-id "$STARTED_HOST"
show minutes summary "$STARTED" --user-id "$STARTED_HOST"
show close "$STARTED" --union-id "$STARTED_HOST"
show history --from "$(date -u -d '-400 days' +%Y-%m-%d) +08:00" --to "$(date -u -d '+1 day' +%Y-%m-%d) +08:00"
show quality "$ENDED" --member "$HOST" --from "2026-02-10 14:00 +08:00" --to "2026-02-10 14:05 +08:00"
