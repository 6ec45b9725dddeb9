#!/usr/bin/env bash
# altviewctl against a real altviewd: every verb, as tables and as --json,
# and its errors (the daemon's message, exit status 1).
#
#   check-ctl.sh ALTVIEWD X86_SPEC   (ALTVIEWCTL in the environment)
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2

config '{}'
bus_start
daemon_start "$T/altviewd.json"
ctl() { "$ALTVIEWCTL" --address="$ADDR" "$@"; }
# json EXPR: evaluates EXPR on the JSON read from stdin (as j).
json() { python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }

x86_spec ctl-guest >"$T/spec.json"
expect_eq "create FILE prints the id" 1 "$(ctl create "$T/spec.json")"
expect_eq "create - reads stdin" '{"id":2,"path":"/org/altview1/domain/2"}' \
	"$(x86_spec second | ctl --json create -)"
expect_match "list: a table" '^ID +NAME +STATE +VCPUS +MEMORY +VIEWS
1 +ctl-guest +paused +4 +2\.0M +-
2 +second +paused +4 +2\.0M +-

2 domains listed\.$' "$(ctl list)"
expect_eq "list --no-legend" 2 "$(ctl list --no-legend | wc -l)"
expect_eq "list --json" "ctl-guest paused 4 2097152" \
	"$(ctl list --json | json '" ".join(str(x) for x in (j[0]["name"], j[0]["state"], j[0]["vcpus"], j[0]["memory_bytes"]))')"
expect_match "status: the daemon" 'Backend: hv:.*Domains: 2' "$(ctl status | tr '\n' ' ')"
expect_eq "status --json: the daemon" "hv: 2 512" \
	"$(ctl status --json | json '" ".join(str(x) for x in (j["backend"], j["domains"], j["max_views"]))')"
check "destroy" ctl destroy 2
expect_eq "enable-views" "" "$(ctl enable-views 1 4)"
expect_eq "create-view prints the index" 1 "$(ctl create-view 1 rx)"
expect_eq "create-view --json" '{"view":2,"path":"/org/altview1/domain/1/view/2"}' "$(ctl --json create-view 1)"
check "set-access on a range" ctl set-access 1 1 0x110-0x112 r
expect_eq "get-access inside the range" r "$(ctl get-access 1 1 0x112)"
expect_eq "get-access past the range" rwx "$(ctl get-access 1 1 0x113)"
expect_eq "get-access --json" '{"gfn":272,"access":"r"}' "$(ctl --json get-access 1 1 0x110)"
check "set-visible no" ctl set-visible 1 2 no
check "change-gfn" ctl change-gfn 1 2 0x115 0x116
check "change-gfn none" ctl change-gfn 1 2 0x115 none
check "switch" ctl switch 1 1
check "switch --vcpu" ctl switch 1 0 --vcpu=3
expect_match "views: a table with who is where" '^VIEW +DEFAULT +VISIBLE +OWNER +VCPUS
0 +rwx +yes +0 +3
1 +rx +yes +0 +0,1,2
2 +rwx +no +0 +-$' "$(ctl views 1)"
expect_eq "views --json" "[0, 1, 2] False" \
	"$(ctl views 1 --json | json 'j[1]["vcpus"], j[2]["visible"]' | tr -d '()' | sed 's/\], /] /')"
expect_match "status ID" 'ctl-guest \(domain 1\).*State: paused \(paused by altviewd\).*Views: 0 1 2 \(of 4\).*vcpu0=1 vcpu1=1 vcpu2=1 vcpu3=0' \
	"$(ctl status 1 | tr '\n' ' ')"
check "switch back" ctl switch 1 0
check "resume" ctl resume 1
expect_eq "status --json after resume" "running False" \
	"$(ctl status 1 --json | json 'j["state"], j["paused"]' | tr -d "(),'")"
want='0000000000112000  16 00 00 00 00 00 00 00 '
for _ in $(seq 200); do
	got=$(ctl read 1 0x112000 16)
	[ "${got:0:${#want}}" = "$want" ] && break
	sleep 0.05
done
expect_match "read: a hex dump of what the guest computed" '^0000000000112000  16 00 00 00 00 00 00 00  [0-9a-f ]{23}  \|' "$got"
expect_eq "read --json" 16000000 "$(ctl read 1 0x112000 4 --json | json 'j["hex"]')"
check "pause" ctl pause 1
check "destroy-view" ctl destroy-view 1 2
check "disable-views" ctl disable-views 1

# Errors: the daemon's words, exit status 1.
err() { local out rc=0; out=$(ctl "$@" 2>&1) || rc=$?; echo "$rc $out"; }
expect_eq "an unknown domain" "1 Failed to pause the domain: Unknown object '/org/altview1/domain/9'." "$(err pause 9)"
expect_eq "pause twice" "1 Failed to pause the domain: domain 1 is already paused" "$(err pause 1)"
expect_eq "an unknown access" "1 Failed to create a view: views are not enabled on domain 1 (EnableViews first)" "$(err create-view 1 rwx)"
expect_eq "a bad number" '1 Invalid domain id: "one" (a number, 0x for hex)' "$(err pause one)"
expect_eq "a backwards range" '1 Invalid gfn range: the last gfn comes before the first' "$(err set-access 1 0 5-4 r)"
expect_eq "too few arguments" '1 "set-access" takes 4 arguments (altviewctl --help)' "$(err set-access 1 0)"
expect_eq "an unknown verb" '1 Unknown command "frobnicate" (altviewctl --help lists them)' "$(err frobnicate)"
expect_eq "a spec that is not JSON" '1 Failed to create the domain: domain spec: line 2, column 1: unexpected end of data' "$(echo '{' | err create -)"
expect_match "no such file" '^1 Failed to open /nonexistent.json' "$(err create /nonexistent.json)"
expect_match "--help" 'Usage: altviewctl' "$(ctl --help)"

daemon_stop INT
expect_eq "SIGINT: a clean exit" 0 "$DAEMON_STATUS"
expect_match "SIGINT: the domain is handed back before it goes" 'domain 1 "ctl-guest": unpaused, destroyed' "$(cat "$T/daemon.log")"
expect_match "no daemon on the bus" '^1 Failed to list domains: .*org.altview1' "$(err list)"
expect_match "no bus at all" '^1 Failed to connect to the unix:path=.*/nobus bus' \
	"$(out=$("$ALTVIEWCTL" --address="unix:path=$T/nobus" list 2>&1); echo "$? $out")"
finish
