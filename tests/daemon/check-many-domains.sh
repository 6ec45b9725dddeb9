#!/usr/bin/env bash
# More domains than any fixed-size list holds: the periodic refresh that
# notices domains gone behind the daemon's back must see every live one,
# or it takes the rest for gone, drops them from the bus and leaks them.
#
#   check-many-domains.sh ALTVIEWD X86_SPEC [COUNT]
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 COUNT=${3:-300}
M="org.altview1 /org/altview1 org.altview1.Manager"

echo "{ \"limits\": { \"max_domains\": $COUNT } }" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
failed=0
for i in $(seq "$COUNT"); do
	bctl call $M CreateDomain s "{\"name\": \"d$i\", \"memory_bytes\": 65536, \"vcpus\": 0}" \
		>/dev/null 2>>"$T/create.err" || failed=$((failed + 1))
done
expect_eq "$COUNT memory-only domains created" 0 "$failed"
sleep 1    # four refreshes
expect_eq "after the refresh, all $COUNT are listed" "$COUNT" \
	"$(bctl call $M ListDomains | awk '{print $2}')"
check "the last one is still on the bus" bctl introspect org.altview1 "$(dom_path "$COUNT")"
expect_eq "and none was taken for gone" 0 "$(grep -c 'destroyed\|left running' "$T/daemon.log")"
daemon_stop TERM
expect_eq "SIGTERM: a clean exit" 0 "$DAEMON_STATUS"
expect_eq "every one was destroyed at shutdown" "$COUNT" "$(grep -c 'destroyed$' "$T/daemon.log")"
finish
