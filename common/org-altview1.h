/* SPDX-License-Identifier: MIT */
/*
 * org-altview1.h — the bus name, object paths and interface names of
 * altviewd's API (org.altview1(5)), for the daemon and its clients alike.
 */
#pragma once

#define BUS_NAME "org.altview1"
#define MANAGER_PATH "/org/altview1"
#define DOMAIN_PREFIX "/org/altview1/domain"
#define MANAGER_IFACE "org.altview1.Manager"
#define DOMAIN_IFACE "org.altview1.Domain"
#define VIEW_IFACE "org.altview1.View"

/* printf formats (PRIu32 ids) of a domain's and a view's object paths. */
#define DOMAIN_PATH_FMT DOMAIN_PREFIX "/%" PRIu32
#define VIEW_PATH_FMT DOMAIN_PREFIX "/%" PRIu32 "/view/%" PRIu32

/* Room for either path with 32-bit ids, terminator included. */
#define OBJECT_PATH_MAX 64

#define CLIENT_IFACE "org.altview1.Client"
#define CLIENT_PATH_FMT DOMAIN_PREFIX "/%" PRIu32 "/client/%" PRIu32
#define EVTCHN_IFACE "org.altview1.EventChannel"
#define EVTCHN_PATH_FMT "/org/altview1/evtchn/%" PRIu64
