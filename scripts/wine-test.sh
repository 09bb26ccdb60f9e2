#!/usr/bin/env bash
# Runs the unit tests of the given packages built for windows/amd64 under
# Wine. Skips (exit 0, saying why) where Wine is missing or cannot start a
# Go program: Go 1.22 and later need bcryptprimitives.dll (ProcessPrng),
# which Wine has from version 9; Debian 12 ships Wine 8.0.
set -euo pipefail
wine=${WINE:-}
if [ -z "$wine" ]; then
	wine=$(command -v wine64 || true)
	[ -n "$wine" ] || { [ -x /usr/lib/wine/wine64 ] && wine=/usr/lib/wine/wine64; } || true
fi
if [ -z "$wine" ]; then
	echo "wine-test: no wine64; skipped"
	exit 0
fi
export WINEDEBUG=-all GOOS=windows GOARCH=amd64 CGO_ENABLED=0
probe=$(mktemp -d)
if [ -z "${WINEPREFIX:-}" ]; then
	export WINEPREFIX=$probe/prefix
fi
trap 'rm -rf "$probe"' EXIT
go test -c -o "$probe/probe.exe" ./internal/buildinfo
if ! out=$(timeout 300 "$wine" "$probe/probe.exe" -test.run '^$' 2>&1); then
	echo "wine-test: $("$wine" --version 2>/dev/null || echo wine) cannot start a Go program; skipped:"
	printf '%s\n' "$out" | head -3
	exit 0
fi
go test -count=1 -timeout 10m -exec "$wine" "$@"
