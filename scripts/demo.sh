#!/usr/bin/env bash
# `make run`: with the stack already up, create two demo users, print a copy-paste curl
# walk-through, then wait in the foreground; Ctrl-C takes the whole stack down.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BASE="http://127.0.0.1:${BACKEND_PORT:-8080}"
PASSWORD="demo-password"

SLEEP_PID=
shutdown() {
    trap - INT TERM
    [ -z "$SLEEP_PID" ] || kill "$SLEEP_PID" 2>/dev/null || true
    echo
    echo "demo: stopping the stack"
    scripts/stack down
    exit 0
}
# If creating the demo users fails, the stack stays up for a look at the logs.
trap 'echo "demo: failed; the stack is still up (scripts/stack logs backend, make down)" >&2' ERR

# POST JSON and print the body; fails (with the body on stderr) on a non-2xx answer.
post_json() {
    local path="$1" body="$2" out code
    out="$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$body" "$BASE$path")"
    code="${out##*$'\n'}"; out="${out%$'\n'*}"
    if [[ "$code" != 2* ]]; then
        echo "demo: POST $path answered $code: $out" >&2
        return 1
    fi
    echo "$out"
}

register() {
    local first="$1" second="$2"
    post_json /user/register "$(jq -nc --arg f "$first" --arg s "$second" --arg p "$PASSWORD" \
        '{first_name: $f, second_name: $s, birthdate: "1990-01-01", biography: "demo user", city: "Moscow", password: $p}')" \
        | jq -er .user_id
}

login() {
    post_json /login "$(jq -nc --arg id "$1" --arg p "$PASSWORD" '{id: $id, password: $p}')" | jq -er .token
}

ALICE_ID="$(register Alice Demo)"
BOB_ID="$(register Bob Demo)"
ALICE_TOKEN="$(login "$ALICE_ID")"
BOB_TOKEN="$(login "$BOB_ID")"

cat <<EOF

Web client: $BASE/   (log in with an id below and the password; two windows, two people)
API reference: $BASE/docs   (the OpenAPI document: $BASE/openapi.json)
Backend: $BASE   (logs: scripts/stack logs backend; state: scripts/stack ps)

Two demo users (password "$PASSWORD"):
  alice  $ALICE_ID
  bob    $BOB_ID

Copy-paste walk-through:

  BASE=$BASE
  ALICE=$ALICE_ID
  BOB=$BOB_ID

  # register a user
  curl -sS -H 'Content-Type: application/json' -d '{"first_name":"Carol","second_name":"Demo","birthdate":"1991-02-03","biography":"hi","city":"Kazan","password":"$PASSWORD"}' \$BASE/user/register
  # log in (alice) and keep the token
  ALICE_TOKEN=\$(curl -sS -H 'Content-Type: application/json' -d '{"id":"'\$ALICE'","password":"$PASSWORD"}' \$BASE/login | jq -r .token)
  BOB_TOKEN=\$(curl -sS -H 'Content-Type: application/json' -d '{"id":"'\$BOB'","password":"$PASSWORD"}' \$BASE/login | jq -r .token)
  # get a user
  curl -sS -H "Authorization: Bearer \$ALICE_TOKEN" \$BASE/user/get/\$BOB
  # search by name prefixes
  curl -sS -H "Authorization: Bearer \$ALICE_TOKEN" "\$BASE/user/search?first_name=Bo&last_name=De"
  # alice sends bob a dialog message
  curl -sS -H "Authorization: Bearer \$ALICE_TOKEN" -H 'Content-Type: application/json' -d '{"text":"hello bob"}' \$BASE/dialog/\$BOB/send
  # bob's unread counters (before he reads)
  curl -sS -H "Authorization: Bearer \$BOB_TOKEN" \$BASE/counters/unread
  # bob lists the dialog with alice (this marks the messages read)
  curl -sS -H "Authorization: Bearer \$BOB_TOKEN" \$BASE/dialog/\$ALICE/list
  # bob's unread counters again
  curl -sS -H "Authorization: Bearer \$BOB_TOKEN" \$BASE/counters/unread

Tokens already issued:  ALICE_TOKEN=$ALICE_TOKEN
                        BOB_TOKEN=$BOB_TOKEN

Press Ctrl-C to stop everything.
EOF

# Wait for Ctrl-C; `wait` on a background sleep lets the trap run at once.
trap - ERR
trap shutdown INT TERM
sleep infinity &
SLEEP_PID=$!
wait "$SLEEP_PID" || true
