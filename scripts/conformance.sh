#!/usr/bin/env bash
# Runs Okta's and Microsoft's SCIM conformance suites (../shared/conformance) against a real Roster server
# on PostgreSQL: a fresh database, a server started here, one new organization per suite (Microsoft's needs
# an empty one). Exits non-zero when any assertion fails. Cleans up after itself.
#   CONFORMANCE_DATABASE_URL  server to create the database on (default postgres://postgres@127.0.0.1:5432/postgres)
#   CONFORMANCE_DIR           the suites (default ../shared/conformance beside the repo)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suites=${CONFORMANCE_DIR:-$repo/../shared/conformance}
server_url=${CONFORMANCE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="roster_conformance_$$"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
operator_token="conformance-$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"
work=$(mktemp -d)
pid=""

cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql "$server_url" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$suites/run" ] || { echo "conformance suites not found at $suites"; exit 1; }
# The suites' folder may be read-only or lack its dependencies: run a copy when needed.
if [ ! -d "$suites/node_modules/newman" ]; then
  cp -r "$suites" "$work/suites"
  (cd "$work/suites" && npm install --no-audit --no-fund --silent >/dev/null)
  suites="$work/suites"
fi

(cd "$repo" && node scripts/build-if-stale.mjs)
psql "$server_url" -qc "create database $db" >/dev/null
database_url="${server_url%/*}/$db"
(cd "$repo" && DATABASE_URL="$database_url" PORT="$port" HOST=127.0.0.1 PUBLIC_URL="http://127.0.0.1:$port" \
  ROSTER_OPERATOR_TOKEN="$operator_token" LOG_LEVEL=warn exec node dist/src/main.js) > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited:"; cat "$work/server.log"; exit 1; }
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready:"; cat "$work/server.log"; exit 1; }

new_org() {
  curl -fsS -X POST "http://127.0.0.1:$port/api/v1/orgs" -H "Authorization: Bearer $operator_token" \
    -H 'content-type: application/json' -d "{\"name\":\"$1\",\"plan\":\"enterprise_usage\",\"seats\":{\"chat_code\":20,\"chat\":50}}" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).scimToken))'
}

status=0
echo "== Okta SCIM 2.0 spec test"
BASE_URL="http://127.0.0.1:$port/scim/v2" TOKEN="$(new_org "Okta conformance")" "$suites/run" okta || status=1
echo "== Microsoft SCIM reference collection"
BASE_URL="http://127.0.0.1:$port/scim/v2" TOKEN="$(new_org "Microsoft conformance")" "$suites/run" microsoft || status=1
if [ "$status" -ne 0 ]; then echo "-- server log (last 50 lines)"; tail -n 50 "$work/server.log"; fi
exit "$status"
