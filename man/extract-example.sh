#!/bin/sh
# extract-example.sh PAGE.scd OUT.c — the C program in the EXAMPLE section
# of a man page source, unescaped as scdoc renders it.
set -eu
awk '/^# EXAMPLE/ { ex = 1 } ex && /^```$/ { if (inside) exit; inside = 1; next } inside { print }' "$1" |
	sed 's/\\\\/\\/g' > "$2"
