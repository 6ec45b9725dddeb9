/* SPDX-License-Identifier: MIT */
/*
 * creds.c — who may change things: root, and members of the configured
 * group.  The policy file already keeps others out, but the daemon does not
 * rely on it (a bus may run without it, as the tests' does).
 *
 * Every method is SD_BUS_VTABLE_UNPRIVILEGED, which turns off sd-bus's own
 * check (CAP_SYS_ADMIN, nobody else): this file is the check instead.
 *
 * The uid is the effective uid the bus driver vouches for (its UnixUserID,
 * SO_PEERCRED when the client connected).  Credentials sd-bus would "augment" from /proc are
 * refused: the process may have exec'd something else or its pid been
 * reused since.  Group membership comes from the user database for that
 * uid — the same answer dbus-daemon's <policy group=...> gives.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "daemon.h"

static bool uid_in_group(uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t *groups = NULL;
	int n = 32;
	bool found = false;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		return false;
	if (pw.pw_gid == gid)
		return true;
	for (;;) {
		gid_t *more = realloc(groups, n * sizeof(*groups));
		int want = n;

		if (!more)
			break;
		groups = more;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &want) >= 0) {
			for (int i = 0; i < want && !found; i++)
				found = groups[i] == gid;
			break;
		}
		if (want <= n || want > 65536)
			break;
		n = want;
	}
	free(groups);
	return found;
}

bool uid_allowed(struct daemon *daemon, uid_t uid)
{
	return uid == 0 || (daemon->config.group && uid_in_group(uid, daemon->config.gid));
}

/*
 * A unique name is one connection for the bus's lifetime, and a
 * connection's uid is fixed when it connects: the answer, once had, holds.
 * Cached, a call costs no round trip to the bus driver.
 */
static bool uid_cached(struct daemon *daemon, const char *sender, uid_t *uid)
{
	for (size_t i = 0; i < UID_CACHE_SIZE; i++) {
		if (!strcmp(daemon->uid_cache[i].sender, sender)) {
			*uid = daemon->uid_cache[i].uid;
			return true;
		}
	}
	return false;
}

static void uid_remember(struct daemon *daemon, const char *sender, uid_t uid)
{
	struct sender_uid *e = &daemon->uid_cache[daemon->uid_cache_next++ % UID_CACHE_SIZE];

	if (strlen(sender) >= sizeof(e->sender))
		return;
	strcpy(e->sender, sender);
	e->uid = uid;
}

int caller_check(struct daemon *daemon, sd_bus_message *m, uid_t *ret_uid, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	const char *sender = sd_bus_message_get_sender(m);
	uid_t uid;
	int r = 0;

	if (!sender || !uid_cached(daemon, sender, &uid)) {
		r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
		if (r >= 0 && (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID))
			r = -EPERM;
		if (r >= 0)
			r = sd_bus_creds_get_euid(creds, &uid);
		if (r >= 0 && sender && *sender == ':')
			uid_remember(daemon, sender, uid);
	}
	if (r < 0)
		return av_bus_error_set(error, -EACCES, "the bus does not vouch for the caller's uid"
					" (%s)", strerror(-r));
	if (!uid_allowed(daemon, uid))
		return av_bus_error_set(error, -EACCES, "uid %u may not do this: only root%s%s",
					(unsigned int)uid,
					daemon->config.group ? " and group " : "",
					daemon->config.group ? daemon->config.group : "");
	if (ret_uid)
		*ret_uid = uid;
	return 0;
}
