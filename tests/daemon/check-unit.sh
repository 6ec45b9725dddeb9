#!/usr/bin/env bash
# The installation files: systemd accepts the unit, its sandbox scores what
# the README says, and `meson install` puts unit, policy, activation and
# sysusers files where systemd and dbus-daemon look (their pkg-config paths).
#
#   check-unit.sh UNIT(build copy) BUILD_DIR UNITDIR DBUS_DATADIR DBUS_SERVICES_DIR SYSUSERSDIR SBINDIR
#                 TOP_UNIT(the source tree's) ALTVIEWD [XEN_DROPIN XEN_DROPIN_DIR]
. "$(dirname "$0")/lib.sh"
UNIT=$1 BUILD=$2 UNITDIR=$3 DBUS_DATADIR=$4 SERVICES=$5 SYSUSERS=$6 SBINDIR=$7 TOP=$8 ALTVIEWD=$9
XEN_DROPIN=${10:-} XEN_DROPIN_DIR=${11:-}

# verify UNIT: systemd-analyze accepts it without a word (a directive it cannot
# parse is only a warning, with exit status 0).  --man=no: the man pages it
# names are in the build tree, not installed.
verify() {
	local out
	out=$(systemd-analyze verify --man=no "$1" 2>&1) && [ -z "$out" ] || { echo "$out"; return 1; }
}
cp "$UNIT" "$T/altviewd.service"
check "systemd-analyze verify" verify "$T/altviewd.service"
# The top-level unit as it stands, for /usr/sbin/altviewd: verified where that
# path holds the daemon, in a mount namespace of its own.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	mkdir "$T/top" && cp "$TOP" "$T/top/"
	check "systemd-analyze verify on the top-level altviewd.service as it stands" \
		unshare -m bash -c 'mount -t tmpfs tmpfs /usr/sbin && cp "$1" /usr/sbin/altviewd &&
			. "$3" && verify "$2"' sh "$ALTVIEWD" "$T/top/altviewd.service" <(declare -f verify)
else
	ok "the top-level altviewd.service # SKIP needs root for a mount namespace"
fi
out=$(systemd-analyze security --offline=true --threshold=20 "$T/altviewd.service" 2>&1); rc=$?
score=$(printf '%s\n' "$out" | grep -o 'Overall exposure level for altviewd.service: [0-9.]* [A-Z]*')
echo "# $score"
expect_eq "systemd-analyze security: exposure at most 2.0" 0 "$rc"
if [ -n "$XEN_DROPIN" ]; then
	# The unit as systemd reads it with the Xen drop-in: its [Service] lines last.
	mkdir -p "$T/xen" && { cat "$UNIT"; cat "$XEN_DROPIN"; } >"$T/xen/altviewd.service"
	check "systemd-analyze verify with the Xen drop-in" verify "$T/xen/altviewd.service"
	out=$(systemd-analyze security --offline=true --threshold=20 "$T/xen/altviewd.service" 2>&1); rc=$?
	echo "# with the Xen drop-in: $(printf '%s\n' "$out" | grep -o 'Overall exposure level[^:]*: [0-9.]* [A-Z]*')"
	expect_eq "systemd-analyze security with the Xen drop-in: exposure at most 2.0" 0 "$rc"
	expect_eq "the drop-in opens exactly Xen's three devices" \
		"/dev/xen/evtchn rw /dev/xen/hypercall rw /dev/xen/privcmd rw " \
		"$(sed -n 's/^DeviceAllow=//p' "$XEN_DROPIN" | sort | tr '\n' ' ')"
fi
expect_match "the unit is Type=notify with BusName=org.altview1" 'Type=notify.*BusName=org.altview1' "$(tr '\n' ' ' <"$UNIT")"

meson install -C "$BUILD" --no-rebuild --quiet --destdir "$T/root" >"$T/install.log" 2>&1
check "meson install" test -x "$T/root$SBINDIR/altviewd"
for f in "$UNITDIR/altviewd.service" "$DBUS_DATADIR/dbus-1/system.d/org.altview1.conf" \
	"$SERVICES/org.altview1.service" "$SYSUSERS/altview.conf"; do
	check "installed: $f" test -s "$T/root$f"
done
[ -z "$XEN_DROPIN_DIR" ] || check "installed: the Xen drop-in, to link in" \
	test -s "$T/root$XEN_DROPIN_DIR/xen.conf"
expect_match "the installed unit starts the installed daemon" "^ExecStart=$SBINDIR/altviewd\$" \
	"$(grep ^ExecStart= "$T/root$UNITDIR/altviewd.service")"
expect_match "activation hands over to the unit" '^SystemdService=altviewd.service$' \
	"$(cat "$T/root$SERVICES/org.altview1.service")"
check "the policy file is well-formed XML" python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" \
	"$T/root$DBUS_DATADIR/dbus-1/system.d/org.altview1.conf"
finish
