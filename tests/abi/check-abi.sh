#!/bin/sh
# check-abi.sh BASELINE LIBRARY HEADERS_DIR
#
# Compares the library with the committed ABI baseline.  New functions are
# fine (they belong in a new version node); anything removed or changed in
# a type the public headers define fails.  Refresh the baseline on purpose
# only, with `ninja -C build abi-update`.
set -u
out=$(abidiff --headers-dir1 "$3" --headers-dir2 "$3" "$1" "$2")
rc=$?
printf '%s\n' "$out"
if [ $((rc & 3)) -ne 0 ]; then
	echo "abidiff could not compare (exit $rc)"
	exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
	echo "FAIL: incompatible ABI change against $1"
	exit 1
fi
if printf '%s\n' "$out" | grep 'changes summary:' | grep -qv ' 0 Removed, 0 Changed'; then
	echo "FAIL: a function, variable or public type changed or went away"
	exit 1
fi
echo "ABI compatible with the baseline"
