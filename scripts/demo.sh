#!/usr/bin/env bash
# The lanchat demo: a rendezvous server and two peer daemons (alice and
# bob) on this machine, in a throw-away directory. They register, become
# friends, chat directly over QUIC, and then alice writes to bob while his
# daemon is stopped: the message is sealed, relayed by the server, and
# waiting for bob when he comes back. Then alice sends bob a file,
# directly. Last, it prints the addresses of alice's and bob's web apps.
# Set DEMO_KEEP=1 to leave everything running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
ADDR=${DEMO_ADDR:-127.0.0.1:7443}
METRICS=${DEMO_METRICS:-127.0.0.1:9090}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lanchat-demo.XXXXXX")
PIDS=()

cleanup() {
	for pid in "${PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# as USER CMD...: run a lanchat command as USER, echoing it as typed.
as() {
	local who=$1
	shift
	printf '\033[2m%s$ lanchat %s\033[0m\n' "$who" "$*"
	"$BIN/lanchat" --home "$DIR/$who" "$@"
}
# wait_for FILE PATTERN PID: wait until a process's log shows PATTERN.
wait_for() {
	for _ in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { cat "$1"; exit 1; }
		sleep 0.05
	done
	echo "timed out waiting for '$2' in $1" >&2
	cat "$1"
	exit 1
}

step "starting the rendezvous server on $ADDR"
"$BIN/rendezvous" serve --listen "$ADDR" --data "$DIR/server" --metrics "$METRICS" >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$DIR/server.log" 'listening on' "$SERVER_PID"
cat "$DIR/server.log"
FP=$("$BIN/rendezvous" fingerprint --data "$DIR/server")

# start_daemon USER: run USER's daemon, pinned to the server's certificate.
start_daemon() {
	"$BIN/lanchat" --home "$DIR/$1" daemon --server "$ADDR" --server-fingerprint "$FP" \
		--listen 127.0.0.1:0 --no-mdns --downloads "$DIR/$1-downloads" >"$DIR/$1.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "${1}_PID=$pid"
	wait_for "$DIR/$1.log" 'local API on' "$pid"
}

step "alice and bob each start a daemon (one per user, each with its own --home)"
start_daemon alice
start_daemon bob
sed 's/^/  alice daemon: /' "$DIR/alice.log"

step "they register (a new Ed25519 identity key is made on each machine)"
echo "alice-demo-password" | as alice register alice --display-name "Alice" --password-stdin
echo "bob-demo-password" | as bob register bob --display-name "Bob" --password-stdin

step "alice asks bob to be friends; bob accepts"
as alice friend add bob
as bob friend requests
as bob friend accept alice
as alice friends

step "alice writes to bob while both are online: it goes directly, peer to peer"
as alice send bob "Hi Bob! Lunch at noon?"
sleep 0.3
as bob recent
as bob history alice
as bob send alice "Sure, see you there."
sleep 0.3
as alice history bob

step "bob's daemon stops; alice writes anyway: sealed for bob and relayed by the server"
kill -TERM "$bob_PID"
wait "$bob_PID" 2>/dev/null || true
as alice send bob "The meeting moved to 3pm."
as alice status

step "bob comes back: the relayed message is waiting, unread"
start_daemon bob
for _ in $(seq 1 100); do
	"$BIN/lanchat" --home "$DIR/bob" recent | grep -q "3pm" && break
	sleep 0.1
done
as bob recent
as bob history alice
sleep 0.5
as alice history bob

step "alice sends bob a file: directly over QUIC, verified chunk by chunk"
head -c 48000000 /dev/urandom >"$DIR/quarterly-report.pdf"
as alice send-file bob "$DIR/quarterly-report.pdf"
as bob transfers
ls -l "$DIR/bob-downloads"
if cmp -s "$DIR/quarterly-report.pdf" "$DIR/bob-downloads/quarterly-report.pdf"; then
	echo "bob's copy is identical to alice's"
else
	echo "bob's copy differs from alice's" >&2
	exit 1
fi

step "what the server saw: ciphertext only, and these metrics"
curl -fsS "http://$METRICS/healthz" 2>/dev/null && echo || true
curl -fsS "http://$METRICS/metrics" 2>/dev/null | grep -E '^lanchat_rendezvous_(relay_(queued|delivered)|logins_ok|sessions_online)' | head -10 || true
if grep -rqa "3pm" "$DIR/server"; then
	echo "the plaintext was found in the server's data: this must never happen" >&2
	exit 1
fi
echo "the text of the relayed message appears nowhere in the server's data directory"

step "the web app: each daemon serves it on a loopback port (lanchat ui opens it)"
for who in alice bob; do
	printf '%s: %s\n' "$who" "$("$BIN/lanchat" --home "$DIR/$who" ui --print)"
done
if [ "${DEMO_KEEP:-}" = 1 ]; then
	echo "(each address signs in once; for a new one: $BIN/lanchat --home $DIR/alice ui)"
else
	echo "(these stop with the demo: run DEMO_KEEP=1 make demo to keep them)"
fi

if [ "${DEMO_KEEP:-}" = 1 ]; then
	step "running; try: $BIN/lanchat --home $DIR/alice chat bob   (Ctrl-C here to stop)"
	wait "$SERVER_PID"
fi
step "stopping"
