/* SPDX-License-Identifier: MIT */
/*
 * config.h — /etc/altview/altviewd.json, parsed and checked as a whole
 * before anything uses it, so a bad file changes nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

/* SYSCONFDIR "/altview/altviewd.json", from the build (meson's sysconfdir). */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/altview/altviewd.json"
#define CONFIG_DEFAULT_GROUP "altview"
/* LOCALSTATEDIR "/lib/altview/programs", from the build. */
#define CONFIG_DEFAULT_PROGRAM_DIR LOCALSTATEDIR "/lib/altview/programs"

/*
 * The most limits.max_subscriptions can be: what a domain's monitor is
 * sized for, so that a reload can raise the limit for monitors already
 * running.
 */
#define CONFIG_MAX_SUBSCRIPTIONS 256

struct config_limits {
	uint32_t max_domains;
	uint32_t max_vcpus;         /* per domain */
	uint64_t max_memory_mib;    /* per domain */
	uint32_t max_views;         /* per domain, view 0 included */
	uint32_t max_read_bytes;    /* one ReadMemory call */
	uint32_t max_subscriptions; /* per domain */
};

/* How synchronous events are answered for clients that do not. */
struct config_monitor {
	uint32_t response_timeout_ms;
	int default_answer;         /* enum default_answer */
};

struct config {
	char *backend;              /* a libaltview URI: "hv:", ... */
	uint64_t machine_mib;       /* hv: only */
	char *group;                /* may call mutating methods besides root; NULL: root only */
	char *program_dir;          /* where x86 programs are looked up by name */
	gid_t gid;
	struct config_limits limits;
	struct config_monitor monitor;
	json_object *domains;       /* array of domain specs to boot; each has a unique "name" */
	char deprecated[160];       /* a key spelt the old way: what to tell the administrator */
};

/*
 * Reads @path into @cfg.  A missing file is no error when @optional (the
 * defaults apply).  On failure @cfg is untouched and @err says which key or
 * which line and column is wrong.
 */
int config_load(struct config *cfg, const char *path, bool optional, char *err, size_t errsz);
void config_deinit(struct config *cfg);

/*
 * @text of @len bytes (its terminator, if any, never read) as one JSON
 * value with only white space after it, or NULL: *@trailing says there was
 * more text, else @tok says what is wrong; *@end is where parsing stopped.
 */
json_object *json_parse_whole(json_tokener *tok, const char *text, size_t len, size_t *end,
			      bool *trailing);

/* The spec of @name in cfg->domains, or NULL. */
json_object *config_find_domain(const struct config *cfg, const char *name);
const char *config_domain_name(json_object *spec);
