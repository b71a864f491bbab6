#!/usr/bin/env bash
# The README's walkthrough in one script, from an empty database to a paid-out claim:
#
#   examples/walkthrough.sh        (from the repository's root, once `make run` has made .venv)
#
# It starts its own service, platform simulator and gateway simulator on ports 8000, 8100 and
# 8200 (stop `make run` first, or set PORT, PLATFORM_PORT and GATEWAY_PORT), keeps its database
# in var/walkthrough.db (or give DATABASE_URL an empty database) and stops what it started when
# it ends. It needs bash, curl and openssl. The README shows each section below as it is, and
# tests/e2e/test_walkthrough.py runs the whole, checking the value after every `pick ... # `.
set -euo pipefail

## start
export PATH="$PWD/.venv/bin:$PATH"
export DATABASE_URL=${DATABASE_URL:-sqlite:///./var/walkthrough.db}
export MUTUALAID_CLOCK=2026-11-23T10:00:00+08:00  # the service's "now", which every date rule reads
export PAYMENT_NOTIFICATION_SECRETS=walkthrough-secret  # the payment gateway signs with it
PORT=${PORT:-8000} PLATFORM_PORT=${PLATFORM_PORT:-8100} GATEWAY_PORT=${GATEWAY_PORT:-8200}
API=http://127.0.0.1:$PORT LOG=${MUTUALAID_VAR_DIR:-var}/walkthrough.log
mkdir -p "${MUTUALAID_VAR_DIR:-var}" && rm -f var/walkthrough.db*
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # stop what this script started

# `pick status <<<"$ANSWER"` prints one field of a JSON answer (`invoice.id`, `rows.0.ref`).
pick() { python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))' "$1"; }
# `until_answers URL`: wait (a minute at most) until something answers there.
until_answers() {
  for _ in $(seq 300); do curl -so /dev/null "$1" && return; sleep 0.2; done; return 1
}
# `until_shows FIELD VALUE URL KEY`: read URL with KEY until FIELD is VALUE (a minute at most).
until_shows() {
  for _ in $(seq 300); do
    [ "$(curl -sS "$3" -H "$4" | pick "$1")" = "$2" ] && return; sleep 0.2
  done; return 1
}
# `signed PATH BODY`: what the payment gateway sends. X-Signature is t=<unix time>,v1=<hex
# HMAC-SHA256 of "<t>.<body>"> under the secret the gateway and the service share.
signed() {
  local t sig
  t=$(date +%s)
  sig=$(printf '%s.%s' "$t" "$2" | openssl dgst -sha256 -hmac "$PAYMENT_NOTIFICATION_SECRETS" \
        | awk '{print $NF}')
  curl -sS --fail-with-body "$API$1" -H 'Content-Type: application/json' \
       -H "X-Signature: t=$t,v1=$sig" -d "$2"
}
# `mutualaid serve`, and on PostgreSQL the job worker it leaves the jobs to (on SQLite `serve`
# runs them itself), until `stop_service`.
start_service() {
  mutualaid serve --port "$PORT" >>"$LOG" 2>&1 & SERVICE=$!
  case $DATABASE_URL in postgresql*)
    mutualaid worker --poll-seconds 0.2 >>"$LOG" 2>&1 & SERVICE="$SERVICE $!" ;;
  esac
  until_answers "$API/healthz"
}
stop_service() { kill $SERVICE; wait $SERVICE 2>/dev/null || true; }

for port in "$PORT" "$PLATFORM_PORT" "$GATEWAY_PORT"; do  # is `make run` still running?
  ! curl -so /dev/null "http://127.0.0.1:$port" || { echo "port $port is taken" >&2; false; }
done
# The platform `demo-delivery` with the riders of examples/riders.json, the database with the
# demo clients and demo world, then the service.
mutualaid platform-sim --port "$PLATFORM_PORT" --workers examples/riders.json >>"$LOG" 2>&1 &
mutualaid migrate >>"$LOG"
KEYS=$(mutualaid demo --json --platform-url "http://127.0.0.1:$PLATFORM_PORT")
CITIZEN="Authorization: Bearer $(pick citizen_app <<<"$KEYS")"  # the government app
UNION="Authorization: Bearer $(pick union <<<"$KEYS")"          # bound to SH-PUDONG
PLATFORM="Authorization: Bearer $(pick platform <<<"$KEYS")"    # bound to demo-delivery
EXAMINER="Authorization: Bearer $(pick examiner <<<"$KEYS")"
FINANCE="Authorization: Bearer $(pick finance <<<"$KEYS")"
start_service
until_answers "http://127.0.0.1:$PLATFORM_PORT/docs"

## enrol
# 1. The rider applies through the government app; the service asks the platform.
ENROLMENT=$(curl -sS --fail-with-body "$API/v1/enrolments" -H "$CITIZEN" \
  -H 'Idempotency-Key: walkthrough-rider-001' -H 'Content-Type: application/json' -d @- <<'EOF'
{"plan_code": "shanghai-new-employment-e", "id_number": "620102199005201237", "name": "马小龙",
 "phone": "13812345678", "platform_code": "demo-delivery", "platform_worker_id": "rider-001",
 "work_type": "food_delivery", "work_district": "310115", "union": {"join": true},
 "consent": {"sensitive_personal_data": true}}
EOF
)
pick status <<<"$ENROLMENT"                           # awaiting_payment
MEMBER=$(pick member_id <<<"$ENROLMENT")
# 2. A payment order for the premium.
ORDER=$(curl -sS --fail-with-body -X POST \
  "$API/v1/enrolments/$(pick id <<<"$ENROLMENT")/payment-orders" \
  -H "$CITIZEN" -H 'Idempotency-Key: walkthrough-order-rider-001')
pick amount_fen <<<"$ORDER"                           # 7200
# 3. The gateway's signed notification that it was paid: cover starts the next day.
PAID=$(signed /v1/payment-notifications "$(printf '{"event_id": "evt-rider-001",
  "payment_order_id": "%s", "status": "succeeded", "amount_fen": 7200,
  "paid_at": "2026-11-23T10:05:00+08:00", "channel": "alipay"}' "$(pick id <<<"$ORDER")")")
pick outcome <<<"$PAID"                               # activated
pick coverage.starts_on <<<"$PAID"                    # 2026-11-24
# 4. What the app, the rider's union and the platform see.
COVER=$(curl -sS --fail-with-body "$API/v1/members/$MEMBER/coverage" -H "$CITIZEN")
pick periods.0.status <<<"$COVER"                     # upcoming
FOUND=$(curl -sS --fail-with-body "$API/v1/members/lookup" -H "$UNION" \
  -H 'Content-Type: application/json' -d '{"id_number": "620102199005201237", "name": "马小龙"}')
pick member.name_masked <<<"$FOUND"                   # 马**
SEEN=$(curl -sS --fail-with-body "$API/v1/platform/workers/rider-001/coverage" -H "$PLATFORM")
pick covered <<<"$SEEN"                               # false
pick starts_on <<<"$SEEN"                             # 2026-11-24

## batch
# The Pudong union sends examples/members.csv; the service works through it in the background.
BATCH=$(curl -sS --fail-with-body "$API/v1/enrolment-batches?plan_code=shanghai-new-employment-e" \
  -H "$UNION" -H 'Idempotency-Key: walkthrough-pudong-2026-47' -H 'Content-Type: text/csv' \
  --data-binary @examples/members.csv)
BATCH_URL=$API/v1/enrolment-batches/$(pick id <<<"$BATCH")
until_shows status done "$BATCH_URL" "$UNION"
BATCH=$(curl -sS --fail-with-body "$BATCH_URL" -H "$UNION")
pick accepted <<<"$BATCH"                             # 4
pick rejected <<<"$BATCH"                             # 3
pick duplicate <<<"$BATCH"                            # 2
curl -sS --fail-with-body "$BATCH_URL/rows.csv" -H "$UNION"  # the rejected rows and why
pick invoice.amount_fen <<<"$BATCH"                   # 28800
# The union pays its invoice; a job then starts cover for every accepted row.
PAID=$(signed /v1/payment-notifications "$(printf '{"event_id": "evt-pudong-2026-47",
  "payment_order_id": "%s", "status": "succeeded", "amount_fen": 28800,
  "paid_at": "2026-11-23T11:00:00+08:00", "channel": "bank"}' "$(pick invoice.id <<<"$BATCH")")")
pick outcome <<<"$PAID"                               # activation_queued
until_shows activated 4 "$BATCH_URL" "$UNION"
ROWS=$(curl -sS --fail-with-body "$BATCH_URL/rows?outcome=accepted" -H "$UNION")
pick rows.0.ref <<<"$ROWS"                            # pd-0001
WANG=$(pick rows.0.member_id <<<"$ROWS")              # 王建国, a member of the union now

## claims
# Cover began on 24 November: move the service's clock two months on, and start the payment
# gateway (its simulator keeps the same clock) that payouts are sent to.
stop_service
export MUTUALAID_CLOCK=2027-01-20T10:00:00+08:00
export MUTUALAID_GATEWAY_URL=http://127.0.0.1:$GATEWAY_PORT
mutualaid gateway-sim --port "$GATEWAY_PORT" --notify-url "$API" >>"$LOG" 2>&1 &
start_service
until_answers "$MUTUALAID_GATEWAY_URL/healthz"
SCAN=$(printf 'a scanned page' | openssl dgst -sha256 | awk '{print $NF}')  # a document's SHA-256
# 1. An accident on 12 January: the condolence is approved at once, and paid to the account given.
CLAIM=$(curl -sS --fail-with-body "$API/v1/claims" -H "$CITIZEN" \
  -H 'Idempotency-Key: walkthrough-claim-1' -H 'Content-Type: application/json' -d @- <<EOF
{"member_id": "$MEMBER", "benefit": "accident_condolence",
 "event": {"kind": "accident", "occurred_on": "2027-01-12", "ref": "fall-2027-01-12"},
 "documents": [{"type": "id_proof", "ref": "scan-1", "sha256": "$SCAN"},
               {"type": "accident_proof", "ref": "scan-2", "sha256": "$SCAN"},
               {"type": "medical_record", "ref": "scan-3", "sha256": "$SCAN"}],
 "payee_account": {"kind": "alipay", "account_no": "13812345678", "holder_name": "马小龙"}}
EOF
)
pick status <<<"$CLAIM"                               # approved
pick decision.payable_fen <<<"$CLAIM"                 # 50000
PAYOUT_URL=$API/v1/payouts/$(pick payout.id <<<"$CLAIM")
until_shows status paid "$PAYOUT_URL" "$FINANCE"
PAYOUT=$(curl -sS --fail-with-body "$PAYOUT_URL" -H "$FINANCE")
pick account_masked <<<"$PAYOUT"                      # alipay ****5678 马**
# 2. The union files a disability for 王建国: an examiner judges it, and from ¥50,000 a payout
#    needs a second approval, from finance.
CLAIM=$(curl -sS --fail-with-body "$API/v1/claims" -H "$UNION" \
  -H 'Idempotency-Key: walkthrough-claim-2' -H 'Content-Type: application/json' -d @- <<EOF
{"member_id": "$WANG", "benefit": "accidental_disability",
 "event": {"kind": "accident", "occurred_on": "2026-12-05", "ref": "crash-2026-12-05"},
 "facts": {"assessed_on": "2027-01-15", "injuries": [{"grade": 10}]},
 "documents": [{"type": "id_proof", "ref": "scan-4", "sha256": "$SCAN"},
               {"type": "disability_certificate", "ref": "scan-5", "sha256": "$SCAN"},
               {"type": "accident_proof", "ref": "scan-6", "sha256": "$SCAN"}],
 "payee_account": {"kind": "bank", "account_no": "6222020000000101", "holder_name": "王建国",
                   "bank_name": "工商银行"}}
EOF
)
pick status <<<"$CLAIM"                               # pending_review
DECIDED=$(curl -sS --fail-with-body "$API/v1/claims/$(pick id <<<"$CLAIM")/review" \
  -H "$EXAMINER" -H 'Content-Type: application/json' -d '{"decision": "approve"}')
pick decision.payable_fen <<<"$DECIDED"               # 6000000
pick payout.status <<<"$DECIDED"                      # awaiting_approval
PAYOUT_URL=$API/v1/payouts/$(pick payout.id <<<"$DECIDED")
curl -sS --fail-with-body -X POST "$PAYOUT_URL/approve" -H "$FINANCE" >/dev/null
until_shows status paid "$PAYOUT_URL" "$FINANCE"
PAYOUT=$(curl -sS --fail-with-body "$PAYOUT_URL" -H "$FINANCE")
pick status <<<"$PAYOUT"                              # paid
