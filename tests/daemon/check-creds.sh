#!/usr/bin/env bash
# Who may do what.  First on a bus without altview's policy, so that the
# daemon's own checks are all there is: root and the configured group may
# change things, anyone may read properties; views belong to their creator.
# Then with org.altview1.conf included: dbus-daemon itself keeps others to
# introspection and properties.
#
#   check-creds.sh ALTVIEWD X86_SPEC POLICY_FILE
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 POLICY=$3

if ! command -v setpriv >/dev/null || [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root and setpriv to act as other uids"
	exit 0
fi
# nobody:nogroup is in the allowed group; daemon (uid 1, gid 1) is not.
MEMBER="setpriv --reuid=65534 --regid=65534 --clear-groups"
STRANGER="setpriv --reuid=1 --regid=1 --clear-groups"
E=org.altview1.Error
M="org.altview1 /org/altview1 org.altview1.Manager"
D=org.altview1.Domain V=org.altview1.View

config '{ "group": "nogroup" }'
bus_start
daemon_start "$T/altviewd.json"

check "root: CreateDomain" bctl call $M CreateDomain s "$(x86_spec by-root)"
P=$(dom_path 1)
check "root: EnableViews" bctl call org.altview1 $P $D EnableViews u 4
check "root: CreateView" bctl call org.altview1 $P $D CreateView s rwx
V1=$(view_path 1 1)

check "group member: CreateDomain" $MEMBER busctl --address="$ADDR" call $M CreateDomain s "$(x86_spec by-member)"
expect_eq "group member: CreateView, owned by uid 65534" 'uo 2 "/org/altview1/domain/1/view/2"' \
	"$($MEMBER busctl --address="$ADDR" call org.altview1 $P $D CreateView s rx)"
V2=$(view_path 1 2)
expect_eq "View.Owner is the creator" 'u 65534' "$(prop $V2 $V Owner)"
check "group member: SetAccess on its own view" $MEMBER busctl --address="$ADDR" call org.altview1 $V2 $V SetAccess tts 0x111 1 r
check "group member: Switch to its own view" $MEMBER busctl --address="$ADDR" call org.altview1 $V2 $V Switch
check "group member: back to the host view" $MEMBER busctl --address="$ADDR" call org.altview1 $(view_path 1 0) $V Switch
check "group member: ReadMemory" $MEMBER busctl --address="$ADDR" call org.altview1 $P $D ReadMemory tu 0 16
AS=$MEMBER expect_error "group member: SetAccess on root's view" $E.PermissionDenied 'belongs to uid 0' \
	call org.altview1 $V1 $V SetAccess tts 0x111 1 r
AS=$MEMBER expect_error "group member: Destroy root's view" $E.PermissionDenied 'belongs to uid 0' \
	call org.altview1 $V1 $V Destroy
AS=$MEMBER expect_error "group member: DisableViews while root has a view" $E.PermissionDenied \
	'view 1 of domain 1 belongs to uid 0' call org.altview1 $P $D DisableViews
expect_eq "root's view is still there" 'u 0' "$(prop $V1 $V Owner)"
AS=$MEMBER expect_error "group member: SetAccess on the host view" $E.PermissionDenied 'belongs to uid 0' \
	call org.altview1 $(view_path 1 0) $V SetAccess tts 0x111 1 r
check "root: changes the member's view" bctl call org.altview1 $V2 $V SetAccess tts 0x112 1 r

for call in "$M CreateDomain s {}" "$M DestroyDomain u 1" "org.altview1 $P $D Pause" \
	"org.altview1 $P $D Unpause" "org.altview1 $P $D EnableViews u 3" "org.altview1 $P $D DisableViews" \
	"org.altview1 $P $D CreateView s rwx" "org.altview1 $P $D ReadMemory tu 0 16" \
	"org.altview1 $V2 $V SetAccess tts 1 1 r" "org.altview1 $V2 $V SetAccessMulti atas 1 1 1 r" \
	"org.altview1 $V2 $V SetDefaultAccess s r" "org.altview1 $V2 $V ChangeGfn tt 1 2" \
	"org.altview1 $V2 $V Switch" "org.altview1 $V2 $V SwitchVcpu u 0" \
	"org.altview1 $V2 $V SetVisible b false" "org.altview1 $V2 $V Destroy" \
	"org.altview1 $(view_path 1 0) $V Switch" "org.altview1 $P $D SetAccessRequired b true"; do
	set -- $call
	AS=$STRANGER expect_error "outsider: ${3##*.}.$4 refused by altviewd" $E.PermissionDenied \
		'uid 1 may not do this: only root and group nogroup' call $call
done
check "outsider: ListDomains" $STRANGER busctl --address="$ADDR" call $M ListDomains
check "outsider: GetAccess" $STRANGER busctl --address="$ADDR" call org.altview1 $V2 $V GetAccess t 0x112
expect_eq "outsider: properties" 's "by-root"' "$($STRANGER busctl --address="$ADDR" get-property org.altview1 $P $D Name)"
expect_eq "nothing the outsider tried happened" 'au 4 0 0 0 0' "$(prop $P $D ActiveViews)"
expect_eq "the member's view is as root left it" 's "r"' "$(bctl call org.altview1 $V2 $V GetAccess t 0x112)"
daemon_stop TERM

# No group: root only.
config '{ "group": null }'
daemon_start "$T/altviewd.json"
AS=$MEMBER expect_error "group null: even nogroup is refused" $E.PermissionDenied 'uid 65534 may not do this: only root$' \
	call $M CreateDomain s {}
daemon_stop TERM

# With the policy file, dbus-daemon turns outsiders away before altviewd sees them.
kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null; rm -f "$T/bus"
bus_start "$POLICY"
config '{}'
daemon_start "$T/altviewd.json"
check "policy: root calls" bctl call $M CreateDomain s "$(x86_spec policy)"
AS=$STRANGER expect_error "policy: an outsider may not call CreateDomain" \
	org.freedesktop.DBus.Error.AccessDenied '' call $M CreateDomain s {}
AS=$STRANGER expect_error "policy: an outsider may not call ListDomains" \
	org.freedesktop.DBus.Error.AccessDenied '' call $M ListDomains
AS=$STRANGER expect_error "policy: an outsider may not Set a property" \
	org.freedesktop.DBus.Error.AccessDenied '' set-property org.altview1 $P $D MaxViews u 3
check "policy: an outsider may introspect" $STRANGER busctl --address="$ADDR" introspect org.altview1 /org/altview1
check "policy: an outsider may read a property" $STRANGER busctl --address="$ADDR" get-property org.altview1 /org/altview1 org.altview1.Manager Version
check "policy: an outsider may GetAll" $STRANGER busctl --address="$ADDR" call org.altview1 $P org.freedesktop.DBus.Properties GetAll s $D
check "policy: an outsider may GetManagedObjects" $STRANGER busctl --address="$ADDR" call org.altview1 /org/altview1 org.freedesktop.DBus.ObjectManager GetManagedObjects
daemon_stop TERM
finish
