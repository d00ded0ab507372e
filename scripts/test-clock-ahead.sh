#!/bin/sh
# Runs the whole test suite with the machine's wall clock ten years ahead: no test outcome may
# depend on what the machine's clock says (issue 9). libfaketime (Debian package `faketime`)
# shifts the wall clock of every process it starts, children included; monotonic time is left
# alone so timers, timeouts and performance.now() work as usual.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
if ! command -v faketime >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "greenlight: installing libfaketime (Debian package faketime, once)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >&2
  else
    echo "greenlight: faketime is not installed (Debian: apt-get install faketime)" >&2
    exit 1
  fi
fi
# Set-up (Node, npm ci) first and on the real clock: TLS to the registry fails ten years ahead.
sh "$root/scripts/node.sh" --version >/dev/null
shift_by=${GREENLIGHT_CLOCK_AHEAD:-+3650d}
# A run that did not shift the clock would prove nothing: check that Node sees the shift.
year=$(sh "$root/scripts/node.sh" -p 'new Date().getUTCFullYear()')
shifted=$(FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$shift_by" sh "$root/scripts/node.sh" -p 'new Date().getUTCFullYear()')
if [ "$shifted" -le "$year" ]; then
  echo "greenlight: faketime did not move Node's clock ($year, shifted $shifted)" >&2
  exit 1
fi
echo "greenlight: the test suite with the wall clock at $shift_by ($year -> $shifted)" >&2
FAKETIME_DONT_FAKE_MONOTONIC=1 exec faketime -f "$shift_by" \
  sh "$root/scripts/node.sh" "$root/node_modules/vitest/vitest.mjs" run "$@"
