/* SPDX-License-Identifier: MIT */
/*
 * xenstore.c — libxenstore.so.4: the part of xenstore altview has, read
 * only.  Tools find domains and their names there (LibVMI, the xen:
 * backend of libaltview): /local/domain lists the domains, and each
 * /local/domain/<id> holds its name and domid.  Any other path does not
 * exist (ENOENT); writes and watches fail with EOPNOTSUPP.  Transactions
 * are served: over a store nobody writes, each commits as it started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "private.h"

#define DOMAIN_DIR "/local/domain"
#define MAX_LISTED 1024

/* The library's handle: nothing of its own, the process's hypervisor is altview's. */
struct xs_handle {
	unsigned long flags;
};

XENCOMPAT_API struct xs_handle *xs_open(unsigned long flags)
{
	struct xs_handle *h;

	if (!xencompat_hv())
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h)
		h->flags = flags;
	return h;
}

XENCOMPAT_API void xs_close(struct xs_handle *h)
{
	free(h);
}

XENCOMPAT_API struct xs_handle *xs_daemon_open(void)
{
	return xs_open(0);
}

XENCOMPAT_API struct xs_handle *xs_daemon_open_readonly(void)
{
	return xs_open(XS_OPEN_READONLY);
}

XENCOMPAT_API struct xs_handle *xs_domain_open(void)
{
	return xs_open(0);
}

XENCOMPAT_API void xs_daemon_close(struct xs_handle *h)
{
	xs_close(h);
}

XENCOMPAT_API xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	if (!h) {
		errno = EINVAL;
		return XBT_NULL;
	}
	return 1;
}

XENCOMPAT_API bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	if (!h || t == XBT_NULL) {
		errno = EINVAL;
		return false;
	}
	return true;
}

XENCOMPAT_API bool xs_path_is_subpath(const char *parent, const char *child)
{
	size_t n = strlen(parent);

	if (n && parent[n - 1] == '/')
		n--;
	return !strncmp(parent, child, n) && (child[n] == '/' || child[n] == '\0');
}

XENCOMPAT_API char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	char *path = NULL;

	if (!h) {
		errno = EINVAL;
		return NULL;
	}
	if (asprintf(&path, DOMAIN_DIR "/%u", domid) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return path;
}

/* "/local/domain/<id>[/<leaf>]": the id, and the leaf ("" for the directory). */
static bool domain_path(const char *path, uint32_t *domid, const char **leaf)
{
	char *end;
	unsigned long id;

	if (strncmp(path, DOMAIN_DIR "/", sizeof(DOMAIN_DIR)) ||
	    path[sizeof(DOMAIN_DIR)] < '0' || path[sizeof(DOMAIN_DIR)] > '9')
		return false;
	errno = 0;
	id = strtoul(path + sizeof(DOMAIN_DIR), &end, 10);
	if (errno || id >= DOMID_FIRST_RESERVED || (*end && *end != '/'))
		return false;
	*domid = (uint32_t)id;
	*leaf = *end ? end + 1 : end;
	return true;
}

/* A domain's name as xenstore has it; dom0 is this process, "Domain-0" as on Xen. */
static int domain_name(uint32_t domid, char *name, size_t size)
{
	struct av_domain_info info;
	av_domain *dom;
	int r;

	if (domid == 0) {
		snprintf(name, size, "Domain-0");
		return 0;
	}
	r = xencompat_domain_info(domid, &dom, &info);
	if (r == 0 && info.state == AV_DOMAIN_DYING)
		r = -ENOENT;
	if (r == 0)
		snprintf(name, size, "%s", info.name);
	return r == -ESRCH ? -ENOENT : r;
}

/* xenstore's values are counted strings with a NUL after them, one malloc'd block. */
static void *value(const char *s, unsigned int *len)
{
	size_t n = strlen(s);
	char *v = malloc(n + 1);

	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, s, n + 1);
	if (len)
		*len = (unsigned int)n;
	return v;
}

XENCOMPAT_API void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
			    unsigned int *len)
{
	char buf[sizeof(((struct av_domain_info *)0)->name) + 16];
	const char *leaf;
	uint32_t domid;
	int r;

	if (!h || !path) {
		errno = EINVAL;
		return NULL;
	}
	if (!domain_path(path, &domid, &leaf) || (strcmp(leaf, "name") && strcmp(leaf, "domid"))) {
		errno = ENOENT;
		return NULL;
	}
	r = domain_name(domid, buf, sizeof(buf));
	if (r == 0 && !strcmp(leaf, "name") && !buf[0])
		r = -ENOENT;            /* an unnamed guest: no name node */
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (!strcmp(leaf, "domid"))
		snprintf(buf, sizeof(buf), "%u", domid);
	return value(buf, len);
}

/* Xen's form: one block, the pointers first and the strings after them, freed at once. */
static char **listing(char names[][16], unsigned int n, unsigned int *num)
{
	size_t bytes = n * sizeof(char *);
	char **out, *at;

	for (unsigned int i = 0; i < n; i++)
		bytes += strlen(names[i]) + 1;
	out = malloc(bytes ? bytes : 1);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	at = (char *)(out + n);
	for (unsigned int i = 0; i < n; i++) {
		out[i] = at;
		at = stpcpy(at, names[i]) + 1;
	}
	*num = n;
	return out;
}

XENCOMPAT_API char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
				  unsigned int *num)
{
	char names[MAX_LISTED + 1][16];
	char name[sizeof(((struct av_domain_info *)0)->name)];
	uint32_t ids[MAX_LISTED];
	unsigned int n = 0;
	const char *leaf;
	uint32_t domid;
	char **out;
	int r;

	if (!h || !path || !num) {
		errno = EINVAL;
		return NULL;
	}
	if (!strcmp(path, DOMAIN_DIR) || !strcmp(path, DOMAIN_DIR "/")) {
		r = av_domain_list(xencompat_hv(), ids, MAX_LISTED);
		snprintf(names[n++], sizeof(names[0]), "0");
		for (int i = 0; i < r && i < MAX_LISTED; i++)
			snprintf(names[n++], sizeof(names[0]), "%u", ids[i]);
		r = r < 0 ? r : 0;
	} else if (domain_path(path, &domid, &leaf) && !*leaf) {
		r = domain_name(domid, name, sizeof(name));
		if (r == 0 && name[0])
			snprintf(names[n++], sizeof(names[0]), "name");
		if (r == 0)
			snprintf(names[n++], sizeof(names[0]), "domid");
	} else {
		r = -ENOENT;
	}
	out = r < 0 ? NULL : listing(names, n, num);
	if (r < 0)
		errno = -r;
	return out;
}
