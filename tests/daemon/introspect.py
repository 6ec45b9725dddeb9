#!/usr/bin/env python3
"""The org.altview1.* interfaces in D-Bus introspection XML, one canonical
text per interface: members and their arguments in document order,
attributes sorted, whitespace and comments dropped.

  introspect.py FILE...          the interfaces declared in the files
"""
import sys
import xml.etree.ElementTree as ET


def canonical(elem, depth=0):
    attrs = " ".join(f'{k}="{v}"' for k, v in sorted(elem.attrib.items()))
    lines = ["  " * depth + f"<{elem.tag} {attrs}>".replace(" >", ">")]
    for child in elem:
        lines += canonical(child, depth + 1)
    return lines


def interfaces(path):
    out = {}
    for iface in ET.parse(path).getroot().iter("interface"):
        if iface.get("name", "").startswith("org.altview1."):
            out[iface.get("name")] = "\n".join(canonical(iface))
    return out


found = {}
for f in sys.argv[1:]:
    found.update(interfaces(f))
for name in sorted(found):
    print(found[name])
