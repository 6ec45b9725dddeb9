/* SPDX-License-Identifier: MIT */
/*
 * bus-fuzz — a bounded random-call driver for altviewd's D-Bus API: method
 * calls to every interface and member, on real and made-up object paths,
 * with the right signature and values near the edges, or with a random
 * signature and random values.  A fixed seed gives the same calls again.
 *
 *   bus-fuzz ADDRESS SEED CALLS
 *
 * Every call must get a reply (a return or an error) within the timeout;
 * a call without one, or a daemon that stops answering Ping, is a finding.
 * Properties and ListDomains are read on the way, so that state which
 * cannot be sent any more (invalid UTF-8, say) shows as a failed call.
 * TAP on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "org-altview1.h"

#define CALL_TIMEOUT_USEC (10 * 1000000ull)

static uint64_t state;

static uint64_t rnd(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dull;
}

#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])

static const struct method {
	const char *iface, *member, *sig, *where;   /* where: m(anager) d(omain) v(iew) c(lient) */
} methods[] = {
	{ MANAGER_IFACE, "ListDomains", "", "m" },
	{ MANAGER_IFACE, "CreateDomain", "s", "m" },
	{ MANAGER_IFACE, "DestroyDomain", "u", "m" },
	{ DOMAIN_IFACE, "Pause", "", "d" },
	{ DOMAIN_IFACE, "Unpause", "", "d" },
	{ DOMAIN_IFACE, "EnableViews", "u", "d" },
	{ DOMAIN_IFACE, "DisableViews", "", "d" },
	{ DOMAIN_IFACE, "CreateView", "s", "d" },
	{ DOMAIN_IFACE, "ReadMemory", "tu", "d" },
	{ DOMAIN_IFACE, "WriteMemory", "tay", "d" },
	{ DOMAIN_IFACE, "GetRegisters", "u", "d" },
	{ DOMAIN_IFACE, "SetRegisters", "ua{st}", "d" },
	{ DOMAIN_IFACE, "Subscribe", "a{sv}", "d" },
	{ DOMAIN_IFACE, "Observe", "a{sv}", "d" },
	{ DOMAIN_IFACE, "Hold", "", "d" },
	{ DOMAIN_IFACE, "Release", "", "d" },
	{ DOMAIN_IFACE, "SetSingleStep", "ub", "d" },
	{ DOMAIN_IFACE, "SetAccessRequired", "b", "d" },
	{ VIEW_IFACE, "SetAccess", "tts", "v" },
	{ VIEW_IFACE, "SetAccessMulti", "atas", "v" },
	{ VIEW_IFACE, "GetAccess", "t", "v" },
	{ VIEW_IFACE, "SetDefaultAccess", "s", "v" },
	{ VIEW_IFACE, "ChangeGfn", "tt", "v" },
	{ VIEW_IFACE, "Switch", "", "v" },
	{ VIEW_IFACE, "SwitchVcpu", "u", "v" },
	{ VIEW_IFACE, "SetVisible", "b", "v" },
	{ VIEW_IFACE, "Destroy", "", "v" },
	{ CLIENT_IFACE, "SetFilter", "a{sv}", "c" },
	{ CLIENT_IFACE, "Close", "", "c" },
	{ "org.freedesktop.DBus.Properties", "GetAll", "s", "mdvc" },
	{ "org.freedesktop.DBus.Properties", "Get", "ss", "mdvc" },
	{ "org.freedesktop.DBus.Properties", "Set", "ssv", "mdvc" },
	{ "org.freedesktop.DBus.Introspectable", "Introspect", "", "mdvc" },
	{ "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", "m" },
};

static const char *const signatures[] = {
	"", "s", "u", "t", "b", "i", "y", "d", "n", "q", "x", "o", "g", "h", "v", "ss", "tu",
	"tts", "atas", "a{sv}", "as", "au", "at", "(tt)", "a(tt)", "ub", "ssv", "aay", "a{ss}",
	"uuuuuuuu", "a{sa{sv}}", "(sv)", "av", "tay", "ua{st}", "a{st}",
};

static uint64_t number(void)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 4, 9, 10, 15, 16, 0x111, 0x1ff, 0x200, 0x1000, 0xfff, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ull, 0xfffffffffffff000ull, UINT64_MAX,
		UINT64_MAX - 1, 1ull << 63, 65536, 65537, 4097, 1048576, 16777217,
	};

	return rnd() % 4 ? PICK(edges) : rnd();
}

/* Strings the daemon has to take apart: access names, kinds, specs, and worse. */
static const char *text(char *buf, size_t size)
{
	static const char *const words[] = {
		"rwx", "r", "w", "x", "n", "rx", "wx", "rw", "rx2rw", "n2rwx", "default", "",
		"rip", "rsp", "rflags", "cr3", "cs_sel", "gs_sel", "gdtr_limit",
		"mem_access", "breakpoint", "singlestep", "cpuid", "guest_request", "kinds",
		"vcpus", "views", "gfns", "priority", "ring_entries", "org.altview1.Domain",
		"org.altview1.View", "org.altview1.Manager", "org.altview1.Client", "Name",
		"MaxViews", "Paused", "ActiveViews", "Views", "Clients", "Version",
		"{}", "[]", "{\"memory_mib\": 1}", "{\"name\": \"f\", \"memory_bytes\": 65536}",
		"{\"name\": \"v\", \"memory_bytes\": 8192, \"vcpus\": 0}",
		"{\"name\": \"s\", \"memory_mib\": 1, \"vcpus\": 1, \"engine\": \"script\", "
		"\"program\": [{\"op\": \"loop\", \"count\": 100, \"body\": [{\"op\": \"request\"}]}]}",
		"{\"name\": \"x\", \"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"x86\", "
		"\"program\": \"demo.elf\"}",
		"{\"name\": \"p\", \"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"x86\", "
		"\"program\": \"/etc/shadow\"}",
		"{\"name\": \"q\", \"memory_mib\": 2, \"vcpus\": 1, \"engine\": \"x86\", "
		"\"program\": {\"elf\": \"../../../etc/passwd\"}}",
		"{\"name\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\", "
		"\"memory_bytes\": 8192}",
		"{\"name\": \"a\\nb\", \"memory_bytes\": 8192}",
		"{\"name\": \"big\", \"memory_bytes\": 18446744073709551615}",
		"{\"name\": \"mib\", \"memory_mib\": 17592186044415}",
		"{\"memory_mib\": 1, \"memory_mib\": 999999999}", "{\"vcpus\": -1}",
		"{\"memory_mib\": 1 /* unterminated", "\xc3\xa9\xc3\xa9\xc3\xa9",
	};
	size_t n;

	if (rnd() % 4)
		return PICK(words);
	/*
	 * Random text, ASCII and characters of two, three and four bytes, long
	 * enough to cross any fixed-size buffer a message is built in.
	 */
	static const char *const chars[] = { "a", "Z", " ", "\"", "\xc3\xa9", "\xe6\x97\xa5",
					     "\xf0\x9f\x90\xa7" };
	n = 0;
	for (size_t len = rnd() % (size - 8); n < len;) {
		const char *c = PICK(chars);

		memcpy(buf + n, c, strlen(c));
		n += strlen(c);
	}
	buf[n] = 0;
	return buf;
}

static void object_path(char *buf, size_t size)
{
	unsigned int a = (unsigned int)(rnd() % 5), b = (unsigned int)(rnd() % 5);

	switch (rnd() % 6) {
	case 0: snprintf(buf, size, "/org/altview1"); break;
	case 1: snprintf(buf, size, "/org/altview1/domain/%u", a); break;
	case 2: snprintf(buf, size, "/org/altview1/domain/%u/view/%u", a, b); break;
	case 3: snprintf(buf, size, "/org/altview1/domain/%u/client/%u", a, b); break;
	case 4: snprintf(buf, size, "/org/altview1/domain/%u/x/%u", a, b); break;
	default: snprintf(buf, size, "/"); break;
	}
}

/* The length of the first complete type in @t. */
static size_t type_len(const char *t)
{
	const char *p = t;
	int level = 0;

	while (*p == 'a')
		p++;
	do {
		level += *p == '(' || *p == '{';
		level -= *p == ')' || *p == '}';
		p++;
	} while (level > 0 && *p);
	return (size_t)(p - t);
}

/* One complete type from *@sig, with a random value; *@sig moves past it. */
static int append_value(sd_bus_message *m, const char **sig, int depth)
{
	char c = **sig, buf[600], inner[64];
	size_t n = type_len(*sig);
	const char *p;
	uint64_t v = number();
	int r;

	/* What a container holds: the element of an array, the members of a struct. */
	if (c == 'a' || c == '(' || c == '{') {
		size_t k = c == 'a' ? n - 1 : n - 2;

		memcpy(inner, *sig + 1, k);
		inner[k] = 0;
	}
	*sig += n;
	switch (c) {
	case 'y': { uint8_t x = (uint8_t)v; return sd_bus_message_append_basic(m, c, &x); }
	case 'b': { int x = (int)(v & 1); return sd_bus_message_append_basic(m, c, &x); }
	case 'n': case 'q': { uint16_t x = (uint16_t)v; return sd_bus_message_append_basic(m, c, &x); }
	case 'i': case 'u': { uint32_t x = (uint32_t)v; return sd_bus_message_append_basic(m, c, &x); }
	case 'x': case 't': return sd_bus_message_append_basic(m, c, &v);
	case 'd': { double x = (double)(int64_t)v; return sd_bus_message_append_basic(m, c, &x); }
	case 's': return sd_bus_message_append_basic(m, c, text(buf, sizeof(buf)));
	case 'o': object_path(buf, sizeof(buf)); return sd_bus_message_append_basic(m, c, buf);
	case 'g': return sd_bus_message_append_basic(m, c, PICK(signatures));
	case 'h': {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		r = sd_bus_message_append_basic(m, c, &fd);
		close(fd);
		return r;
	}
	case 'v': {
		const char *t = depth < 3 ? PICK(signatures) : "u";
		size_t k = *t ? type_len(t) : 0;

		if (!k)
			t = "s", k = 1;
		memcpy(inner, t, k);
		inner[k] = 0;
		r = sd_bus_message_open_container(m, 'v', inner);
		p = inner;
		if (r >= 0)
			r = append_value(m, &p, depth + 1);
		return r < 0 ? r : sd_bus_message_close_container(m);
	}
	case 'a': {
		size_t count = depth < 3 ? rnd() % 4 : 0;

		r = sd_bus_message_open_container(m, 'a', inner);
		for (size_t i = 0; r >= 0 && i < count; i++) {
			p = inner;
			r = append_value(m, &p, depth + 1);
		}
		return r < 0 ? r : sd_bus_message_close_container(m);
	}
	case '(': case '{':
		r = sd_bus_message_open_container(m, c == '(' ? 'r' : 'e', inner);
		for (p = inner; r >= 0 && *p;)
			r = append_value(m, &p, depth + 1);
		return r < 0 ? r : sd_bus_message_close_container(m);
	default:
		return -EINVAL;
	}
}

/* A filter a{sv} that is usually nearly right: known keys, mostly the right types. */
static int append_filter(sd_bus_message *m)
{
	static const struct { const char *key, *sig; } keys[] = {
		{ "kinds", "as" }, { "vcpus", "au" }, { "views", "au" }, { "gfns", "a(tt)" },
		{ "priority", "i" }, { "ring_entries", "u" }, { "colour", "s" },
	};
	size_t n = rnd() % 4;
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t k = rnd() % (sizeof(keys) / sizeof(keys[0]));
		const char *sig = rnd() % 5 ? keys[k].sig : PICK(signatures);

		if (!*sig)
			sig = "u";
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append_basic(m, 's', keys[k].key);
		/* A variant holds one complete type. */
		if (type_len(sig) != strlen(sig))
			sig = "s";
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'v', sig);
		if (r >= 0)
			r = append_value(m, &sig, 1);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static const char *path_for(const char *where, char *buf, size_t size)
{
	char kind = where[rnd() % strlen(where)];
	unsigned int dom = rnd() % 8 ? 1 : (unsigned int)(rnd() % 4);

	if (rnd() % 10 == 0) {
		object_path(buf, size);
		return buf;
	}
	switch (kind) {
	case 'd': snprintf(buf, size, DOMAIN_PREFIX "/%u", dom); break;
	case 'v': snprintf(buf, size, DOMAIN_PREFIX "/%u/view/%u", dom, (unsigned int)(rnd() % 4)); break;
	case 'c': snprintf(buf, size, DOMAIN_PREFIX "/%u/client/%u", dom, (unsigned int)(rnd() % 6)); break;
	default: snprintf(buf, size, "%s", MANAGER_PATH); break;
	}
	return buf;
}

/* Which errors the calls met: whether the fuzzing reaches past argument checks. */
static struct { const char *name; unsigned long n; } seen[48];

static void tally(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(seen) / sizeof(seen[0]) && seen[i].name; i++)
		if (!strcmp(seen[i].name, name))
			break;
	if (i == sizeof(seen) / sizeof(seen[0]) || (!seen[i].name && !(seen[i].name = strdup(name))))
		return;
	seen[i].n++;
}

static void views_setup(sd_bus *bus)
{
	const char *dom = DOMAIN_PREFIX "/1";

	sd_bus_call_method(bus, BUS_NAME, dom, DOMAIN_IFACE, "EnableViews", NULL, NULL, "u", 4);
	for (int i = 0; i < 3; i++)
		sd_bus_call_method(bus, BUS_NAME, dom, DOMAIN_IFACE, "CreateView", NULL, NULL, "s",
				   "rwx");
}

int main(int argc, char **argv)
{
	unsigned long calls, replies = 0, errors = 0, no_reply = 0, refused = 0;
	sd_bus *bus;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: bus-fuzz ADDRESS SEED CALLS\n");
		return 2;
	}
	state = strtoull(argv[2], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
	calls = strtoul(argv[3], NULL, 0);
	r = av_bus_connect(argv[1], false, &bus);
	if (r < 0) {
		printf("Bail out! connecting: %s\n", strerror(-r));
		return 1;
	}
	for (unsigned long i = 0; i < calls; i++) {
		const struct method *me = &PICK(methods);

		/* Views to aim at: made again now and then, as calls drop them. */
		if (i % 200 == 0)
			views_setup(bus);
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *m = NULL, *reply = NULL;
		const char *sig = rnd() % 4 ? me->sig : PICK(signatures);
		char path[128];

		r = sd_bus_message_new_method_call(bus, &m, BUS_NAME,
						   path_for(me->where, path, sizeof(path)),
						   me->iface, me->member);
		if (r >= 0 && !strcmp(me->member, "DestroyDomain") && sig == me->sig)
			/* The guest whose events the rest of the calls exercise stays. */
			r = sd_bus_message_append(m, "u", (uint32_t)(2 + rnd() % 64));
		else if (r >= 0 && !strcmp(sig, "a{sv}") && rnd() % 2)
			r = append_filter(m);
		else
			while (r >= 0 && *sig)
				r = append_value(m, &sig, 0);
		if (r < 0) {
			/* A message sd-bus itself will not build: not a call the daemon sees. */
			refused++;
			sd_bus_message_unref(m);
			continue;
		}
		r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
		if (r >= 0)
			replies++;
		else if (sd_bus_error_has_name(&error, SD_BUS_ERROR_NO_REPLY) || r == -ETIMEDOUT ||
			 r == -ECONNRESET || r == -ENOTCONN) {
			no_reply++;
			printf("# call %lu: %s.%s on %s: no reply (%s)\n", i, me->iface, me->member,
			       path, error.message ? error.message : strerror(-r));
		} else {
			errors++;
			tally(error.name);
		}
		sd_bus_error_free(&error);
		sd_bus_message_unref(reply);
		sd_bus_message_unref(m);
		if (no_reply > 3)
			break;
	}
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]) && seen[i].name; i++)
		printf("# %lu x %s\n", seen[i].n, seen[i].name);
	printf("%s 1 - %lu calls: %lu returns, %lu errors, %lu without a reply (%lu not built)\n",
	       no_reply ? "not ok" : "ok", calls, replies, errors, no_reply, refused);
	r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
			       NULL, NULL, "");
	printf("%s 2 - the daemon answers Ping afterwards\n", r >= 0 ? "ok" : "not ok");
	{
		sd_bus_error error = SD_BUS_ERROR_NULL;
		int l = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListDomains",
					   &error, NULL, "");
		int g = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH,
					   "org.freedesktop.DBus.ObjectManager",
					   "GetManagedObjects", &error, NULL, "");

		printf("%s 3 - ListDomains and GetManagedObjects still reply%s%s\n",
		       l >= 0 && g >= 0 ? "ok" : "not ok", error.message ? ": " : "",
		       error.message ? error.message : "");
		sd_bus_error_free(&error);
		r = r >= 0 && l >= 0 && g >= 0 ? 0 : -1;
	}
	printf("1..3\n");
	sd_bus_flush_close_unref(bus);
	return !no_reply && r == 0 ? 0 : 1;
}
