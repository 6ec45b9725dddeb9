/* SPDX-License-Identifier: MIT */
/*
 * objects.c — what lives under /org/altview1/domain: object paths parsed
 * back into the domain, view or subscription they name (one spelling per
 * path), the node enumerator, and the registration of every interface
 * there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* A domain's objects: its own path, and view paths under it. */
static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	/* Decimal, no sign, no leading zero: one spelling per path. */
	if (!len || len > 10 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Splits "/org/altview1/domain/<id>[/<segment>/<n>]": *@index is UINT32_MAX
 * for a domain's own path; a path under another segment is no match.
 */
static int parse_path(const char *path, const char *segment, uint32_t *id, uint32_t *index)
{
	const char *p, *slash;
	size_t len;

	if (strncmp(path, DOMAIN_PREFIX "/", sizeof(DOMAIN_PREFIX)))
		return -EINVAL;
	p = path + sizeof(DOMAIN_PREFIX);
	slash = strchr(p, '/');
	if (parse_u32(p, slash ? (size_t)(slash - p) : strlen(p), id) < 0)
		return -EINVAL;
	*index = UINT32_MAX;
	if (!slash)
		return 0;
	len = segment ? strlen(segment) : 0;
	if (!segment || strncmp(slash + 1, segment, len) || slash[len + 1] != '/')
		return -EINVAL;
	p = slash + len + 2;
	return parse_u32(p, strlen(p), index);
}

static int domain_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		       void **found, sd_bus_error *error)
{
	uint32_t id, view;
	struct dom *dom;

	if (parse_path(path, NULL, &id, &view) < 0)
		return 0;
	dom = dom_find(userdata, id);
	if (!dom)
		return 0;
	*found = dom;
	return 1;
}

static int view_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		     void **found, sd_bus_error *error)
{
	uint32_t id, index;
	struct dom *dom;

	if (parse_path(path, "view", &id, &index) < 0 || index == UINT32_MAX)
		return 0;
	dom = dom_find(userdata, id);
	if (dom && !dom->max_views && index == 0) {
		*found = &dom->host_view;
		return 1;
	}
	if (!dom || index >= dom->max_views || !dom->views[index].exists)
		return 0;
	*found = &dom->views[index];
	return 1;
}

static int subscription_lookup(sd_bus *bus, const char *path, const char *iface, void *userdata,
			 void **found, sd_bus_error *error)
{
	uint32_t id, index;
	struct dom *dom;

	if (parse_path(path, "client", &id, &index) < 0 || index == UINT32_MAX)
		return 0;
	dom = dom_find(userdata, id);
	*found = dom ? subscription_find(dom, index) : NULL;
	return *found != NULL;
}

static int enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
		     sd_bus_error *error)
{
	struct daemon *daemon = userdata;
	size_t n = 0, cap = 1;
	char **list;

	for (struct dom *dom = daemon->domains; dom; dom = dom->next) {
		cap++;
		for (uint32_t i = 0; i < dom->max_views; i++)
			cap += dom->views[i].exists;
		for (struct subscription *c = dom->subscriptions; c; c = c->next)
			cap++;
	}
	list = calloc(cap, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (struct dom *dom = daemon->domains; dom; dom = dom->next) {
		list[n] = strdup(dom->path);
		if (!list[n++])
			goto oom;
		for (uint32_t i = 0; i < dom->max_views; i++) {
			char path[OBJECT_PATH_MAX];

			if (!dom->views[i].exists)
				continue;
			view_path(&dom->views[i], path);
			list[n] = strdup(path);
			if (!list[n++])
				goto oom;
		}
		for (struct subscription *c = dom->subscriptions; c; c = c->next) {
			list[n] = strdup(c->sink->path);
			if (!list[n++])
				goto oom;
		}
	}
	*nodes = list;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -ENOMEM;
}

int domain_objects_register(struct daemon *daemon)
{
	int r;

	r = sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, DOMAIN_IFACE, domain_vtable,
				       domain_find, daemon);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, DOMAIN_IFACE,
					       domain_monitor_vtable, domain_find, daemon);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(daemon->bus, NULL, DOMAIN_PREFIX, DOMAIN_IFACE,
					       mapping_domain_vtable, domain_find, daemon);
	if (r >= 0)
		r = views_register(daemon, view_find);
	if (r >= 0)
		r = subscriptions_register(daemon, subscription_lookup);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(daemon->bus, NULL, DOMAIN_PREFIX, enumerate, daemon);
	return r;
}
