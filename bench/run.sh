#!/usr/bin/env bash
# The benchmarks of make bench: the rendezvous server, messaging, then
# file transfer.
#
# Builds the binaries, starts `rendezvous serve` on a free loopback port in
# a throw-away data directory, runs the load generator (bin/bench server)
# against it as a separate process, prints the result table, stops the
# server and writes the table to bench/results/rendezvous-latest.md.
#
# Then runs the messaging benchmark (bin/bench messaging), which starts a server
# and lanchat daemons of its own, measures message latency and throughput
# per conversation, direct and relayed, prints its table and writes it to
# bench/results/messaging-latest.md. Run bin/bench messaging --help for running it
# alone. Nothing leaves 127.0.0.0/8.
#
# Last the file transfer benchmark (bin/bench transfer): a big file (4 GiB,
# scaled down if the disk has no room) and a folder of small files sent
# between two lanchat daemons, against baselines (bin/rawcopy, a raw
# quic-go copy with lanchat's settings or TLS over TCP; iperf3;
# croc; cp), on loopback and over a 1 Gbit/s link emulated between two
# network namespaces it makes (root only; they are removed however it
# ends). It installs iperf3 (apt-get) and croc (go install) when they are
# missing, prints its table and writes it to
# bench/results/transfer-latest.md. Run bin/bench transfer --help for running it
# alone.
#
# Then the web app benchmark (bin/bench webapp): a server, two daemons and a
# headless Chromium for each user (installed with apt-get when missing):
# the time from Send pressed in alice's app to the message shown in bob's
# app, beside the same path through the API alone, over WEB_N messages;
# the time to open a WEB_HISTORY-message conversation; the page's
# JavaScript heap after scrolling through it. It writes
# bench/results/webapp-latest.md. BENCH_WEB=0 skips it.
#
# Environment overrides: IDLE (idle sessions, default 20000), HOLD (how
# long they are held, default 30s), SENDERS (relay sender/recipient pairs,
# default 32), DURATION (timed relay phase, default 20s), BIN (default bin);
# for messaging MSG_ROUNDS (repeats, default 3), MSG_N (messages timed per
# latency round, default 500), MSG_SENDERS (concurrent senders, default 4);
# for file transfer BENCH_XFER_SIZE (the big file, default 4G),
# BENCH_XFER_RUNS (runs of each row, default 3), BENCH_XFER_FILES (small
# files, default 10000), BENCH_XFER_LINK (tc rate of the emulated link,
# default 1gbit; off for none), BENCH_XFER=0 to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
IDLE=${IDLE:-20000}
HOLD=${HOLD:-30s}
SENDERS=${SENDERS:-32}
DURATION=${DURATION:-20s}
MSG_ROUNDS=${MSG_ROUNDS:-3}
MSG_N=${MSG_N:-500}
MSG_SENDERS=${MSG_SENDERS:-4}
BENCH_WEB=${BENCH_WEB:-1}
WEB_N=${WEB_N:-200}
WEB_HISTORY=${WEB_HISTORY:-10000}
WEB_OPENS=${WEB_OPENS:-5}
BENCH_XFER=${BENCH_XFER:-1}
BENCH_XFER_SIZE=${BENCH_XFER_SIZE:-4G}
BENCH_XFER_RUNS=${BENCH_XFER_RUNS:-3}
BENCH_XFER_FILES=${BENCH_XFER_FILES:-10000}
BENCH_XFER_LINK=${BENCH_XFER_LINK:-1gbit}
CROC_VERSION=v10.7.0
RESULTS=bench/results
OUT=$RESULTS/rendezvous-latest.md
MSG_OUT=$RESULTS/messaging-latest.md
XFER_OUT=$RESULTS/transfer-latest.md
WEB_OUT=$RESULTS/webapp-latest.md

say() { printf '== %s\n' "$*" >&2; }

# apt_install PACKAGE installs a missing Debian package when this shell
# may (root, apt-get); it says so either way and never fails the run.
apt_install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing $1 (apt-get)"
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$1"; } >"$DATA/apt-$1.log" 2>&1 ||
			say "could not install $1: $(tail -n 3 "$DATA/apt-$1.log")"
	else
		say "no $1 and no way to install it here (apt-get as root); what needs it will say so"
	fi
}

DATA=$(mktemp -d "${TMPDIR:-/tmp}/lanchat-bench.XXXXXX")
SERVER_PID=

stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		# Give it its shutdown time, then insist.
		for _ in $(seq 1 150); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=
}

cleanup() {
	stop_server
	rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building bin/rendezvous, bin/lanchat, bin/bench and the baseline copy (rawcopy)"
go build -o "$BIN/" ./cmd/... ./bench ./bench/rawcopy

# Each side holds one descriptor per connection. Raise the limit as far as
# this shell may; Go raises its own soft limit to the hard one anyway.
want_fds=1048576
if ! ulimit -n "$want_fds" 2>/dev/null; then
	hard=$(ulimit -Hn)
	if [ "$hard" = unlimited ]; then hard=$want_fds; fi
	ulimit -n "$hard" 2>/dev/null || true
	say "open-file limit: could not raise it to $want_fds; using $(ulimit -n) (the hard limit here)"
	if [ "$(ulimit -n)" -lt $((IDLE + 2 * SENDERS + 200)) ]; then
		say "that is too few for $IDLE idle sessions: the load generator will hold fewer and say so in the notes"
	fi
else
	say "open-file limit: $(ulimit -n)"
fi

# The idle sessions dial from 127.0.0.2..127.0.0.9 so that ephemeral ports
# never run out. On Linux all of 127.0.0.0/8 is routed to lo, so those
# addresses work without being added; check, and add any that do not.
for i in 2 3 4 5 6 7 8 9; do
	a=127.0.0.$i
	if command -v ip >/dev/null && ! ip route get "$a" 2>/dev/null | grep -q '^local'; then
		if ip addr add "$a/32" dev lo 2>/dev/null; then
			say "added $a to lo"
		else
			say "warning: $a is not local and could not be added; the load generator will skip it"
		fi
	fi
done

# Relay throughput is bound by the store's durable commits, so note how
# fast this disk makes a small synchronous write, in the directory the
# server's database will live in.
mkdir -p "$DATA/server"
DISK=
if command -v dd >/dev/null; then
	t0=$(date +%s%N)
	if dd if=/dev/zero of="$DATA/server/sync-test" bs=4k count=500 oflag=dsync 2>/dev/null; then
		t1=$(date +%s%N)
		DISK="$((500 * 1000000000 / (t1 - t0 + 1))) synchronous 4 KiB writes per second in the data directory (dd oflag=dsync)"
		say "disk: $DISK"
	fi
	rm -f "$DATA/server/sync-test"
fi

# The server picks free loopback ports itself (port 0) and prints them.
SERVER_ARGS=(serve --listen 127.0.0.1:0 --data "$DATA/server" --metrics 127.0.0.1:0
	--max-conns-per-addr 100000 --max-conns 100000 --register-rate 1000000
	--argon2-memory 256 --argon2-time 1 --idle-timeout 30s)
say "starting: $BIN/rendezvous ${SERVER_ARGS[*]}"
say "argon2id is made cheap (256 KiB, 1 pass) for the benchmark, so that registering $IDLE users takes seconds, not hours; logins are not what is measured"
"$BIN/rendezvous" "${SERVER_ARGS[@]}" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
ADDR= METRICS=
for _ in $(seq 1 100); do
	ADDR=$(sed -n 's/^rendezvous listening on //p' "$DATA/server.log" | head -n 1)
	METRICS=$(sed -n 's/.*msg="metrics listening" addr=\([0-9.:]*\).*/\1/p' "$DATA/server.log" | head -n 1)
	[ -n "$ADDR" ] && [ -n "$METRICS" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || { say "the server exited:"; cat "$DATA/server.log" >&2; exit 1; }
	sleep 0.1
done
case "$ADDR" in 127.*:*) ;; *) say "the server did not start on loopback (address '$ADDR')"; cat "$DATA/server.log" >&2; exit 1 ;; esac
case "$METRICS" in 127.*:*) ;; *) say "the server's metrics did not start"; cat "$DATA/server.log" >&2; exit 1 ;; esac
FP=$(sed -n 's/^certificate fingerprint (sha256): //p' "$DATA/server.log" | head -n 1)
[ -n "$FP" ] || { say "no fingerprint in the server's output"; cat "$DATA/server.log" >&2; exit 1; }
say "server pid $SERVER_PID on $ADDR (metrics on $METRICS), fingerprint $FP"

say "running the load generator (progress below; the table follows)"
mkdir -p "$RESULTS"
REPORT=$DATA/report.md
status=0
"$BIN/bench" server --addr "$ADDR" --fingerprint "$FP" --server-pid "$SERVER_PID" --metrics "$METRICS" \
	--idle "$IDLE" --hold "$HOLD" --senders "$SENDERS" --duration "$DURATION" >"$REPORT" || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
	say "the server died during the run; its last log lines:"
	tail -n 30 "$DATA/server.log" >&2
	[ "$status" -ne 0 ] || status=1
fi
if grep -qE 'level=(ERROR|WARN)' "$DATA/server.log"; then
	say "the server logged warnings or errors (first 10):"
	grep -E 'level=(ERROR|WARN)' "$DATA/server.log" | head -n 10 >&2
fi

{
	cat "$REPORT"
	echo
	echo "Server started by bench/run.sh with cheap argon2id (256 KiB, 1 pass) so that registering the"
	echo "idle users is quick; logins are not what is measured. Numbers are from one run on a shared"
	echo "machine: compare runs on the same machine only."
	if [ -n "$DISK" ]; then echo; echo "Disk: $DISK."; fi
	echo "Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (other work on the machine skews every figure)."
} >"$DATA/full.md"
if [ -s "$REPORT" ]; then
	cp "$DATA/full.md" "$OUT"
	echo
	cat "$DATA/full.md"
	say "written to $OUT"
fi

# The messaging benchmark brings its own server and daemons; the server
# above (and its idle sessions' memory) goes first.
stop_server
echo
say "running the messaging benchmark (progress below; the table follows)"
msg_status=0
"$BIN/bench" messaging --bin "$BIN" --out "$MSG_OUT" --rounds "$MSG_ROUNDS" --n "$MSG_N" --concurrency "$MSG_SENDERS" || msg_status=$?
[ "$status" -ne 0 ] || status=$msg_status

if [ "$BENCH_WEB" = 0 ]; then
	say "BENCH_WEB=0: skipping the web app benchmark"
else
	echo
	command -v chromium >/dev/null || apt_install chromium
	say "running the web app benchmark (progress below; the table follows)"
	web_status=0
	"$BIN/bench" webapp --bin "$BIN" --out "$WEB_OUT" --n "$WEB_N" --history "$WEB_HISTORY" --opens "$WEB_OPENS" || web_status=$?
	[ "$status" -ne 0 ] || status=$web_status
fi

if [ "$BENCH_XFER" = 0 ]; then
	say "BENCH_XFER=0: skipping the file transfer benchmark"
	exit "$status"
fi
echo
# The baselines the transfer benchmark compares with. What cannot be installed here is
# left out, and its row says so.
command -v iperf3 >/dev/null || apt_install iperf3
if ! command -v croc >/dev/null && [ ! -x "$BIN/croc" ]; then
	say "installing croc $CROC_VERSION into $BIN (go install)"
	GOBIN=$(cd "$BIN" && pwd) go install "github.com/schollz/croc/v10@$CROC_VERSION" >"$DATA/croc-install.log" 2>&1 ||
		say "could not install croc (see its row): $(tail -n 3 "$DATA/croc-install.log")"
fi
say "running the file transfer benchmark (progress below; the table follows)"
xfer_status=0
"$BIN/bench" transfer --bin "$BIN" --out "$XFER_OUT" --size "$BENCH_XFER_SIZE" --runs "$BENCH_XFER_RUNS" \
	--files "$BENCH_XFER_FILES" --link "$BENCH_XFER_LINK" || xfer_status=$?
[ "$status" -ne 0 ] || status=$xfer_status
exit "$status"
