#!/usr/bin/env bash
# Smoke test of a deployed prediction API (local, Heroku, Cloud Run):
#
#   lambdas-src/api/test/test_api.sh http://127.0.0.1:8000
#   lambdas-src/api/test/test_api.sh https://my-app.herokuapp.com
#
# One line per check passed; stops at the first failure with one line saying which check failed
# (exit 1). Needs bash and curl only. TIMEOUT (seconds per request, default 30) can be raised
# for a cold start. The CRUD round trip creates one prediction and deletes it again.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 BASE_URL   (e.g. http://127.0.0.1:8000)" >&2
  exit 2
fi
base="${1%/}"
timeout="${TIMEOUT:-30}"
body="$(mktemp)"
trap 'rm -f "$body" "$body.err"' EXIT
passed=0

fail() {
  echo "FAIL: $1" >&2
  exit 1
}

pass() {
  passed=$((passed + 1))
  echo "ok: $1"
}

# request METHOD PATH [JSON]: sets $status, leaves the body in $body
request() {
  local method="$1" path="$2" data="${3-}"
  local args=(--silent --show-error --max-time "$timeout" -o "$body" -w '%{http_code}' -X "$method")
  if [[ -n "$data" ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$data")
  fi
  status="$(curl "${args[@]}" "$base$path" 2>"$body.err")" || {
    local why
    why="$(tr '\n' ' ' <"$body.err")"
    rm -f "$body.err"
    fail "$method $path: no HTTP answer from $base ($why)"
  }
  rm -f "$body.err"
}

# expect CHECK STATUS [TEXT...]: the last request answered STATUS and its body has every TEXT
expect() {
  local check="$1" want="$2"
  shift 2
  [[ "$status" == "$want" ]] || fail "$check: expected HTTP $want, got $status: $(head -c 300 "$body")"
  local text
  for text in "$@"; do
    grep -qF -- "$text" "$body" || fail "$check: response lacks '$text': $(head -c 300 "$body")"
  done
  pass "$check"
}

json_field() { # json_field NAME: value (string or number) of the first "NAME": in the last body
  grep -o "\"$1\": *\"\{0,1\}[^\",}]*" "$body" | head -n 1 | sed 's/^[^:]*: *"\{0,1\}//'
}

request GET /
expect "hello world (GET /)" 200 '"message"' 'Hello World'

request GET /health
expect "health (GET /health)" 200 '"status"' '"model"' '"database"'
[[ "$(json_field status)" == "ok" ]] || echo "warning: /health says the API is degraded: $(head -c 300 "$body")" >&2
# the model's class names, from /health (whatever data set the model was trained on)
classes="$(grep -o '"classes": *\[[^]]*\]' "$body" | head -n 1 | sed 's/^[^[]*\[//; s/\]$//; s/[" ]//g')"
[[ -n "$classes" ]] || fail "health (GET /health): no model classes in $(head -c 300 "$body")"

request GET /docs
expect "OpenAPI docs (GET /docs)" 200 'swagger-ui'

status="$(curl --silent --head --max-time "$timeout" -o /dev/null -w '%{http_code}' "$base/health")" \
  || fail "HEAD /health: no HTTP answer from $base"
[[ "$status" == "200" ]] || fail "HEAD answers like GET (HEAD /health): expected HTTP 200, got $status"
pass "HEAD answers like GET (HEAD /health)"

request GET /openapi.json
expect "OpenAPI schema (GET /openapi.json)" 200 '"/predict"' '"/predictions/{prediction_id}"'

request POST /predict '{"text": "The home team won the final after a tense match on Sunday."}'
expect "prediction (POST /predict)" 200 '"label"' '"probabilities"' '"stored":true'
id="$(json_field id)"
label="$(json_field label)"
[[ "$id" =~ ^[0-9]+$ ]] || fail "prediction (POST /predict): no numeric id in $(head -c 300 "$body")"
[[ ",$classes," == *",$label,"* ]] || fail "prediction (POST /predict): label '$label' is not one of the model's classes ($classes)"
for class in ${classes//,/ }; do
  grep -qF "\"$class\":" "$body" || fail "prediction (POST /predict): no probability for class '$class': $(head -c 300 "$body")"
done
pass "prediction's label and probabilities are the model's classes ($classes)"

request POST /predict/batch '{"texts": ["The senate passed the budget bill.", "The startup released a faster processor."]}'
expect "batch prediction (POST /predict/batch)" 200 '"predictions"' '"label"'

request GET "/predictions/$id"
expect "read the stored prediction (GET /predictions/$id)" 200 "\"id\":$id" "\"label\":\"$label\""

request PATCH "/predictions/$id" "{\"corrected_label\": \"$label\"}"
expect "correct it (PATCH /predictions/$id)" 200 "\"corrected_label\":\"$label\""

request GET "/predictions?limit=100&offset=0"
expect "list predictions (GET /predictions)" 200 '"items"' '"total"' "\"id\":$id"

request DELETE "/predictions/$id"
[[ "$status" == "204" ]] || fail "delete it (DELETE /predictions/$id): expected HTTP 204, got $status: $(head -c 300 "$body")"
pass "delete it (DELETE /predictions/$id)"

request GET "/predictions/$id"
expect "deleted prediction is gone (GET /predictions/$id)" 404 '"detail"'

request POST /predict '{"text": ""}'
[[ "$status" =~ ^4[0-9][0-9]$ ]] || fail "empty text is refused (POST /predict): expected HTTP 4xx, got $status"
grep -qF '"detail"' "$body" || fail "empty text is refused (POST /predict): no detail in $(head -c 300 "$body")"
pass "empty text is refused with $status (POST /predict)"

request POST /predict '{"text": "\u200b\u200d\ufeff"}'
[[ "$status" == "422" ]] || fail "invisible-only text is refused (POST /predict): expected HTTP 422, got $status"
pass "invisible-only text is refused with 422 (POST /predict)"

request GET /predictions/01
[[ "$status" == "422" ]] || fail "non-canonical id is refused (GET /predictions/01): expected HTTP 422, got $status"
pass "non-canonical id is refused with 422 (GET /predictions/01)"

request POST /predict '{"text": "unterminated'
[[ "$status" =~ ^4[0-9][0-9]$ ]] || fail "invalid JSON is refused (POST /predict): expected HTTP 4xx, got $status"
pass "invalid JSON is refused with $status (POST /predict)"

echo "all $passed checks passed against $base"
