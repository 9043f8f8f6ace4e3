#!/bin/sh
# Runs bulkcancel against a local fakesubverse and stops the fake after.
# Used by `make demo` and `make demo-faults`; reads BIN, OUT, INPUT,
# FAKE_ARGS and BULK_ARGS from the environment.
set -u
export SUBVERSE_API_KEY=demo-key
"$BIN/fakesubverse" $FAKE_ARGS >"$OUT/fake.url" 2>"$OUT/fake.log" &
fake=$!
trap 'kill $fake 2>/dev/null' EXIT INT TERM
i=0
base=
while [ -z "$base" ]; do
  base=$(sed -n '1{/^http/p;}' "$OUT/fake.url" 2>/dev/null)
  [ -n "$base" ] && break
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 $fake 2>/dev/null; then
    echo "fakesubverse did not start:" >&2; cat "$OUT/fake.log" >&2; exit 1
  fi
  sleep 0.1
done
prefix="$OUT/report-$(date -u +%Y%m%dT%H%M%SZ)"
echo "fake API at $base; cancelling the calls in $INPUT"
echo
"$BIN/bulkcancel" --base-url "$base" $BULK_ARGS --yes --log-format json --progress off \
  --report "$prefix" "$INPUT" 2>"$prefix.log"
code=$?
echo
echo "exit status $code; logs in $prefix.log"
case $code in 0|1) exit 0 ;; *) exit $code ;; esac
