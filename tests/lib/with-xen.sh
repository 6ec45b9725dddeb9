#!/usr/bin/env bash
# with-xen.sh XENCOMPAT_DIR LIBALTVIEW_DIR TEST: runs a libaltview test on
# the xen: backend, whose libxenctrl, libxenevtchn and libxenforeignmemory
# are altview's Xen-compatible ones (first on the library path), over an
# embedded hypervisor of 128 MiB in the test's own process: every Xen call
# the backend makes is executed.
XENCOMPAT=$1 LIBALTVIEW=$2 TEST=$3
# The backend must be on altview's libraries, not Debian's (which would need a Xen host).
if ! LD_LIBRARY_PATH="$XENCOMPAT:$LIBALTVIEW" ldd "$TEST" | grep -q "libxenctrl.so.4.17 => $XENCOMPAT/"; then
	echo "Bail out! $TEST does not load $XENCOMPAT/libxenctrl.so.4.17"
	exit 1
fi
export ALTVIEW_TEST_URI=xen: ALTVIEW_XEN_URI=hv: ALTVIEW_XEN_MACHINE_MIB=128
LD_LIBRARY_PATH="$XENCOMPAT:$LIBALTVIEW${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$TEST"
