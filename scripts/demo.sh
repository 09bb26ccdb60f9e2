#!/usr/bin/env bash
# The lanchat demo: a rendezvous server and two peer daemons (alice and
# bob) on this machine, in a throw-away directory. They register, become
# friends, chat directly over QUIC, and then alice writes to bob while his
# daemon is stopped: the message is sealed, relayed by the server, and
# waiting for bob when he comes back. Then alice sends bob a file,
# directly. Last, it prints the addresses of alice's and bob's web apps.
#
# The server and its metrics listen on free loopback ports unless
# DEMO_ADDR and DEMO_METRICS name others (HOST:PORT). DEMO_KEEP=1 leaves
# everything running until Ctrl-C. DEMO_BUILD=1 (make demo) builds the
# binaries first. The demo stops at the first step that fails, saying
# which and why. Colours only on a terminal, and never with NO_COLOR set.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
GO=${GO:-go}
ADDR=${DEMO_ADDR:-127.0.0.1:0}
METRICS=${DEMO_METRICS:-127.0.0.1:0}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lanchat-demo.XXXXXX")
PIDS=()
STEP="starting"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	BOLD=$'\033[1m' DIM=$'\033[2m' RED=$'\033[31m' RESET=$'\033[0m'
else
	BOLD='' DIM='' RED='' RESET=''
fi

cleanup() {
	for pid in "${PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail REASON: stop the demo, naming the step that failed and why.
fail() {
	trap - ERR
	printf '\n%sdemo stopped at "%s": %s%s\n' "$RED" "$STEP" "$*" "$RESET" >&2
	exit 1
}
trap 'fail "a command failed (exit status $?, scripts/demo.sh line $LINENO)"' ERR

step() {
	STEP=$*
	printf '\n%s== %s%s\n' "$BOLD" "$*" "$RESET"
}
# as USER CMD...: run a lanchat command as USER, echoing it as typed.
as() {
	local who=$1
	shift
	printf '%s%s$ lanchat %s%s\n' "$DIM" "$who" "$*" "$RESET"
	"$BIN/lanchat" --home "$DIR/$who" "$@"
}
# wait_for FILE PATTERN PID: wait until a process's log shows PATTERN.
wait_for() {
	for _ in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if ! kill -0 "$3" 2>/dev/null; then
			cat "$1" >&2
			fail "the process exited; its log is above"
		fi
		sleep 0.05
	done
	cat "$1" >&2
	fail "timed out waiting for '$2' in $1"
}

if [ "${DEMO_BUILD:-}" = 1 ]; then
	if [ -x "$BIN/lanchat" ] && [ -x "$BIN/rendezvous" ]; then
		step "building $BIN/lanchat and $BIN/rendezvous"
		"$GO" build -o "$BIN/" ./cmd/...
	else
		step "first build of $BIN/lanchat and $BIN/rendezvous"
		echo "Go downloads the modules and compiles every package once: a minute or more"
		echo "on a slow machine (later builds take seconds). Each package as it compiles:"
		"$GO" build -v -o "$BIN/" ./cmd/... 2>&1 | sed -u 's/^/  /'
	fi
fi

step "starting the rendezvous server on $ADDR (metrics on $METRICS)"
"$BIN/rendezvous" serve --listen "$ADDR" --data "$DIR/server" --metrics "$METRICS" >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$DIR/server.log" 'rendezvous listening on' "$SERVER_PID"
wait_for "$DIR/server.log" 'metrics listening' "$SERVER_PID"
cat "$DIR/server.log"
# Port 0 means a free port: take the ones the server chose.
ADDR=$(sed -n 's/^rendezvous listening on //p' "$DIR/server.log" | head -1)
METRICS=$(sed -n 's/.*msg="metrics listening" addr=\([^ ]*\).*/\1/p' "$DIR/server.log" | head -1)
[ -n "$ADDR" ] && [ -n "$METRICS" ] || fail "cannot read the server's addresses from its log"
echo "the server listens on $ADDR, its metrics on http://$METRICS/metrics"
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
	fail "bob's copy differs from alice's"
fi

step "what the server saw: ciphertext only, and these metrics"
curl -fsS "http://$METRICS/healthz" 2>/dev/null && echo || true
curl -fsS "http://$METRICS/metrics" 2>/dev/null | grep -E '^lanchat_rendezvous_(relay_(queued|delivered)|logins_ok|sessions_online)' | head -10 || true
if grep -rqa "3pm" "$DIR/server"; then
	fail "the plaintext was found in the server's data: this must never happen"
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
