#!/usr/bin/env bash
# The lanchat demo: runs the rendezvous server on this machine in a
# throw-away data directory and shows what an operator sees.
# Set DEMO_KEEP=1 to leave the server running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
ADDR=${DEMO_ADDR:-127.0.0.1:7443}
METRICS=${DEMO_METRICS:-127.0.0.1:9090}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/lanchat-demo.XXXXXX")
SERVER_PID=

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting the rendezvous server on $ADDR (data in $DATA)"
"$BIN/rendezvous" serve --listen "$ADDR" --data "$DATA/server" --metrics "$METRICS" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
	grep -q 'listening on' "$DATA/server.log" 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
	sleep 0.1
done
cat "$DATA/server.log"

step "the certificate fingerprint peers pin (rendezvous fingerprint)"
"$BIN/rendezvous" fingerprint --data "$DATA/server"

step "two users register, befriend, and alice relays a sealed message to offline bob"
go build -o "$BIN/" ./bench/rvload
"$BIN/rvload" demo --addr "$ADDR" --fingerprint "$("$BIN/rendezvous" fingerprint --data "$DATA/server")" --metrics "$METRICS"

step "the operator's view (rendezvous users list)"
"$BIN/rendezvous" users list --data "$DATA/server"

if [ "${DEMO_KEEP:-}" = 1 ]; then
	step "server running; Ctrl-C to stop"
	wait "$SERVER_PID"
fi
step "stopping the server"
