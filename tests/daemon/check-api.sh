#!/usr/bin/env bash
# Every method and property of org.altview1, through busctl, on a real x86
# guest (tests/guests/workload.c): the guest runs, its views change, its
# memory reads back what it computed, and the bus hears every change.
#
#   check-api.sh ALTVIEWD X86_SPEC(4 vCPUs) VERSION
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 VERSION=$3

config '{}'
bus_start
daemon_start "$T/altviewd.json"
bctl monitor --json=short org.altview1 >"$T/signals" 2>/dev/null &
MONITOR_PID=$!
sleep 0.2

M="org.altview1 /org/altview1 org.altview1.Manager"
D=org.altview1.Domain V=org.altview1.View

expect_eq "Manager.Version" "s \"$VERSION\"" "$(prop /org/altview1 org.altview1.Manager Version)"
expect_eq "Manager.Backend" 's "hv:"' "$(prop /org/altview1 org.altview1.Manager Backend)"
expect_eq "Manager.MaxViews" 'u 512' "$(prop /org/altview1 org.altview1.Manager MaxViews)"
expect_match "Manager.MaxVcpus" '^u [1-9]' "$(prop /org/altview1 org.altview1.Manager MaxVcpus)"
expect_eq "ListDomains: none yet" 'a(uso) 0' "$(bctl call $M ListDomains)"

expect_eq "CreateDomain" 'uo 1 "/org/altview1/domain/1"' \
	"$(bctl call $M CreateDomain s "$(x86_spec guest-a)")"
P=$(dom_path 1)
expect_eq "ListDomains" 'a(uso) 1 1 "guest-a" "/org/altview1/domain/1"' "$(bctl call $M ListDomains)"
expect_eq "Domain.Id" 'u 1' "$(prop $P $D Id)"
expect_eq "Domain.Name" 's "guest-a"' "$(prop $P $D Name)"
expect_eq "Domain.VcpuCount" 'u 4' "$(prop $P $D VcpuCount)"
expect_eq "Domain.MemoryBytes" 't 2097152' "$(prop $P $D MemoryBytes)"
expect_eq "Domain.State: created paused" 's "paused"' "$(prop $P $D State)"
expect_eq "Domain.Paused" 'b true' "$(prop $P $D Paused)"
expect_eq "Domain.CrashReason" 's ""' "$(prop $P $D CrashReason)"
expect_eq "Domain.MaxViews: views off" 'u 0' "$(prop $P $D MaxViews)"
expect_eq "Domain.ActiveViews" 'au 4 0 0 0 0' "$(prop $P $D ActiveViews)"

expect_eq "Domain.AccessRequired: as the spec" 'b false' "$(prop $P $D AccessRequired)"
# busctl's connection ends with its call, and the requirement with it.
check "SetAccessRequired" bctl call org.altview1 $P $D SetAccessRequired b true
expect_eq "Domain.AccessRequired: gone with the client" 'b false' "$(prop $P $D AccessRequired)"
check "SetAccessRequired false: nothing to drop" bctl call org.altview1 $P $D SetAccessRequired b false
check "EnableViews" bctl call org.altview1 $P $D EnableViews u 4
expect_eq "Domain.MaxViews" 'u 4' "$(prop $P $D MaxViews)"
expect_eq "Domain.Views: the host view" 'ao 1 "/org/altview1/domain/1/view/0"' "$(prop $P $D Views)"
expect_eq "CreateView" 'uo 1 "/org/altview1/domain/1/view/1"' \
	"$(bctl call org.altview1 $P $D CreateView s rx)"
V1=$(view_path 1 1) V0=$(view_path 1 0)
expect_eq "Domain.Views" 'ao 2 "/org/altview1/domain/1/view/0" "/org/altview1/domain/1/view/1"' \
	"$(prop $P $D Views)"
expect_eq "View.Index" 'u 1' "$(prop $V1 $V Index)"
expect_eq "View.Domain" 'o "/org/altview1/domain/1"' "$(prop $V1 $V Domain)"
expect_eq "View.Owner" 'u 0' "$(prop $V1 $V Owner)"
expect_eq "View.DefaultAccess" 's "rx"' "$(prop $V1 $V DefaultAccess)"
expect_eq "View.Visible" 'b true' "$(prop $V1 $V Visible)"

check "SetAccess" bctl call org.altview1 $V1 $V SetAccess tts 0x111 2 r
expect_eq "GetAccess: set" 's "r"' "$(bctl call org.altview1 $V1 $V GetAccess t 0x112)"
# A gfn the sparse view has no entry for yet answers with the host's access, as Xen does.
expect_eq "GetAccess: not in the view yet" 's "rwx"' "$(bctl call org.altview1 $V1 $V GetAccess t 0x120)"
check "SetAccessMulti" bctl call org.altview1 $V1 $V SetAccessMulti atas 2 0x113 0x114 2 n w
expect_eq "GetAccess after SetAccessMulti (1)" 's "n"' "$(bctl call org.altview1 $V1 $V GetAccess t 0x113)"
expect_eq "GetAccess after SetAccessMulti (2)" 's "w"' "$(bctl call org.altview1 $V1 $V GetAccess t 0x114)"
check "SetDefaultAccess" bctl call org.altview1 $V1 $V SetDefaultAccess s rwx
expect_eq "View.DefaultAccess changed" 's "rwx"' "$(prop $V1 $V DefaultAccess)"
check "ChangeGfn" bctl call org.altview1 $V1 $V ChangeGfn tt 0x115 0x116
check "ChangeGfn back to the host frame" bctl call org.altview1 $V1 $V ChangeGfn tt 0x115 18446744073709551615
check "SetVisible false" bctl call org.altview1 $V1 $V SetVisible b false
expect_eq "View.Visible changed" 'b false' "$(prop $V1 $V Visible)"
expect_error "Switch into a hidden view" org.altview1.Error.NotPermitted 'hidden' call org.altview1 $V1 $V Switch
check "SwitchVcpu into a hidden view" bctl call org.altview1 $V1 $V SwitchVcpu u 0
check "SwitchVcpu back to view 0" bctl call org.altview1 $V0 $V SwitchVcpu u 0
check "SetVisible true" bctl call org.altview1 $V1 $V SetVisible b true

check "View.Switch" bctl call org.altview1 $V1 $V Switch
expect_eq "ActiveViews after Switch" 'au 4 1 1 1 1' "$(prop $P $D ActiveViews)"
check "View.SwitchVcpu" bctl call org.altview1 $V0 $V SwitchVcpu u 2
expect_eq "ActiveViews after SwitchVcpu" 'au 4 1 1 0 1' "$(prop $P $D ActiveViews)"
out=$(bctl call org.altview1 $V1 $V Destroy 2>&1)
expect_match "Destroy refused while vCPUs are in the view" 'is in view 1' "$out"
check "back to the host view" bctl call org.altview1 $V0 $V Switch
check "View.Destroy" bctl call org.altview1 $V1 $V Destroy
expect_eq "Domain.Views after Destroy" 'ao 1 "/org/altview1/domain/1/view/0"' "$(prop $P $D Views)"
check "the destroyed view's object is gone" \
	bash -c "! busctl --address='$ADDR' introspect org.altview1 $V1 >/dev/null 2>&1"

check "Unpause" bctl call org.altview1 $P $D Unpause
expect_eq "Domain.Paused after Unpause" 'b false' "$(prop $P $D Paused)"
expect_eq "Domain.State after Unpause" 's "running"' "$(prop $P $D State)"
# Each vCPU's result[vcpu*4] (32 bytes apart) = sum of 3i+1 over 4 rounds = 22.
want='^ay 104 22( 0){7}( [0-9]+){24} 22( 0){7}( [0-9]+){24} 22( 0){7}( [0-9]+){24} 22( 0){7}$'
for _ in $(seq 200); do
	got=$(bctl call org.altview1 $P $D ReadMemory tu 0x112000 104)
	[[ $got =~ $want ]] && break
	sleep 0.05
done
expect_match "ReadMemory: what the guest computed" "$want" "$got"
check "Pause" bctl call org.altview1 $P $D Pause
expect_eq "Domain.Paused after Pause" 'b true' "$(prop $P $D Paused)"
expect_eq "Domain.State after Pause" 's "paused"' "$(prop $P $D State)"
check "Unpause again" bctl call org.altview1 $P $D Unpause

objects=$(bctl call org.altview1 /org/altview1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
expect_match "GetManagedObjects lists the domain and its view" \
	'"/org/altview1/domain/1" .*"org.altview1.Domain".*"/org/altview1/domain/1/view/0"' "$objects"
check "DisableViews" bctl call org.altview1 $P $D DisableViews
expect_eq "Domain.MaxViews after DisableViews" 'u 0' "$(prop $P $D MaxViews)"
check "DestroyDomain" bctl call $M DestroyDomain u 1
expect_eq "ListDomains after DestroyDomain" 'a(uso) 0' "$(bctl call $M ListDomains)"

sleep 0.3
kill "$MONITOR_PID"; wait "$MONITOR_PID" 2>/dev/null
sigs=$(python3 - "$T/signals" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") != "signal":
        continue
    data = m.get("payload", {}).get("data", [])
    extra = ""
    if m["member"] == "PropertiesChanged":
        extra = " " + ",".join(sorted(data[1].keys()))
    elif m["member"] in ("InterfacesAdded", "InterfacesRemoved"):
        extra = " " + data[0]
    print(m["path"], m["member"] + extra)
PY
)
expect_match "InterfacesAdded for the domain" '^/org/altview1 InterfacesAdded /org/altview1/domain/1$' "$sigs"
expect_match "InterfacesAdded for a view" 'InterfacesAdded /org/altview1/domain/1/view/1' "$sigs"
expect_match "InterfacesRemoved for the view" 'InterfacesRemoved /org/altview1/domain/1/view/1' "$sigs"
expect_match "InterfacesRemoved for the domain" 'InterfacesRemoved /org/altview1/domain/1$' "$sigs"
expect_match "PropertiesChanged: ActiveViews" '^/org/altview1/domain/1 PropertiesChanged ActiveViews' "$sigs"
expect_match "PropertiesChanged: State" '^/org/altview1/domain/1 PropertiesChanged .*State' "$sigs"
expect_match "PropertiesChanged: Visible" '^/org/altview1/domain/1/view/1 PropertiesChanged Visible' "$sigs"

daemon_stop TERM
expect_eq "SIGTERM: exit status 0" 0 "$DAEMON_STATUS"
finish
