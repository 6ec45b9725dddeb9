#!/bin/sh
# check-access.sh TOOL SPEC MODE KIND=N... [-- OPTIONS...]
#
# Runs altview-access on a domain it boots from SPEC and checks the event
# counts of its JSON summary, and that it logged one line per event.
set -u
tool=$1 spec=$2 mode=$3
shift 3
expect=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	expect="$expect $1"
	shift
done
[ $# -gt 0 ] && shift

out=$("$tool" --json "$@" --spec "$spec" "$mode") || { echo "FAIL: exit $?"; printf '%s\n' "$out"; exit 1; }
summary=$(printf '%s\n' "$out" | grep '^{"summary"')
[ -n "$summary" ] || { echo "FAIL: no summary"; printf '%s\n' "$out"; exit 1; }
echo "$summary"
fail=0
total=0
for kv in $expect; do
	kind=${kv%=*} want=${kv#*=}
	got=$(printf '%s\n' "$summary" | sed -n "s/.*\"$kind\":\([0-9]*\).*/\1/p")
	[ "$got" = "$want" ] || { echo "FAIL: $kind: $got events, expected $want"; fail=1; }
	total=$((total + want))
done
got=$(printf '%s\n' "$summary" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
[ "$got" = "$total" ] || { echo "FAIL: total $got, expected $total"; fail=1; }
lines=$(printf '%s\n' "$out" | grep -c '^{"event"')
[ "$lines" = "$total" ] || { echo "FAIL: $lines event lines for $total events"; fail=1; }
exit $fail
