/* SPDX-License-Identifier: MIT */
/*
 * main.c — the daemon's life: configuration, the hypervisor handle, the
 * bus connection, signals, systemd notification, and a clean shutdown that
 * hands every guest back running and without views.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "bus-connect.h"
#include "bus-error.h"
#include "daemon.h"
#include "log.h"

/* How often state a guest changes by itself (a crash, a view switch) is looked at. */
#define REFRESH_USEC 250000

static _Thread_local char last_error[512];

const char *daemon_last_error(void)
{
	return last_error;
}

void daemon_clear_error(void)
{
	last_error[0] = 0;
}

int daemon_reply_error(sd_bus_error *error, int r, const char *prefix)
{
	return av_bus_error_set(error, r, "%s%s", prefix, last_error[0] ? last_error :
				av_strerror(r));
}

/*
 * libaltview explains each failure in a log message; it becomes the text of
 * the D-Bus error.  Most are a client's mistake, so they are only debug
 * output here.
 */
static void on_library_log(void *ctx, enum av_log_level level, const char *msg)
{
	if (level <= AV_LOG_ERR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	log_full(level <= AV_LOG_ERR ? LOG_DEBUG : (int)level, "libaltview: %s", msg);
}

struct options {
	const char *config_path;
	const char *bus_address;
	bool user_bus;
	bool check_config;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: altviewd [OPTIONS]\n"
		"The altview control plane: guests, views and access over D-Bus (org.altview1).\n\n"
		"  -c, --config=PATH        configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"      --system             the system bus (default)\n"
		"      --user               the user's session bus\n"
		"      --bus-address=ADDR   a bus at a D-Bus address (unix:path=...)\n"
		"      --check-config       check the configuration and exit\n"
		"  -v, --verbose            debug messages\n"
		"  -h, --help               this text\n"
		"      --version            the version\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_SYSTEM = 0x100, OPT_USER, OPT_ADDRESS, OPT_CHECK, OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "user", no_argument, NULL, OPT_USER },
		{ "bus-address", required_argument, NULL, OPT_ADDRESS },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) >= 0) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case OPT_SYSTEM: o->user_bus = false; o->bus_address = NULL; break;
		case OPT_USER: o->user_bus = true; o->bus_address = NULL; break;
		case OPT_ADDRESS: o->bus_address = optarg; o->user_bus = false; break;
		case OPT_CHECK: o->check_config = true; break;
		case 'v': log_set_max_level(LOG_DEBUG); break;
		case 'h': usage(stdout); exit(EXIT_SUCCESS);
		case OPT_VERSION: printf("altviewd %s\n", av_version()); exit(EXIT_SUCCESS);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "altviewd: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int load_config(struct daemon *daemon, struct config *cfg)
{
	char err[512];
	int r;

	r = config_load(cfg, daemon->config_path, daemon->config_optional, err, sizeof(err));
	if (r < 0)
		log_error("%s: %s", daemon->config_path, err);
	else if (cfg->deprecated[0])
		log_warning("%s: %s", daemon->config_path, cfg->deprecated);
	return r;
}

/* Boots the configured domains not running yet (by name).  At start a failure is fatal. */
static int boot_domains(struct daemon *daemon, bool fatal)
{
	size_t n = daemon->config.domains ? json_object_array_length(daemon->config.domains) : 0;
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *spec = json_object_array_get_idx(daemon->config.domains, i);
		const char *name = config_domain_name(spec);
		sd_bus_error error = SD_BUS_ERROR_NULL;
		struct dom *dom;
		int r;

		if (dom_find_name(daemon, name))
			continue;
		r = dom_create(daemon, json_object_to_json_string(spec), &dom, &error);
		if (r >= 0) {
			/* A domain in the configuration is there to run. */
			r = av_domain_unpause(dom->handle);
			if (r >= 0)
				dom->paused = false;
			else
				sd_bus_error_set_errnof(&error, -r, "Failed to start it: %s",
							av_strerror(r));
		}
		if (r < 0) {
			log_error("%s: domains[%zu] \"%s\": %s", daemon->config_path, i, name,
				  error.message ? error.message : strerror(-r));
			failed = r;
		}
		sd_bus_error_free(&error);
		if (failed && fatal)
			return failed;
	}
	return failed;
}

static void reload(struct daemon *daemon)
{
	struct config next = { 0 };

	sd_notify(false, "RELOADING=1");
	if (load_config(daemon, &next) < 0) {
		log_error("reload: keeping the configuration in use");
	} else {
		if (strcmp(next.backend, daemon->config.backend) ||
		    next.machine_mib != daemon->config.machine_mib)
			log_warning("reload: \"backend\" and \"machine_mib\" take effect at the next "
				    "start; keeping %s", daemon->config.backend);
		free(next.backend);
		next.backend = daemon->config.backend;
		next.machine_mib = daemon->config.machine_mib;
		daemon->config.backend = NULL;
		config_deinit(&daemon->config);
		daemon->config = next;
		log_info("reload: configuration from %s in use", daemon->config_path);
		monitors_configure(daemon);
		conns_revoke(daemon);
		boot_domains(daemon, false);
	}
	sd_notify(false, "READY=1");
	manager_status(daemon);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *daemon = arg;

	if (sig == SIGHUP) {
		reload(daemon);
		return;
	}
	log_info("%s: shutting down", strsignal(sig));
	event_base_loopbreak(daemon->base);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
	domains_refresh(arg);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(false, "WATCHDOG=1");
}

static int add_timer(struct daemon *daemon, struct event **ev, event_callback_fn cb, uint64_t usec)
{
	struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };

	*ev = event_new(daemon->base, -1, EV_PERSIST, cb, daemon);
	return *ev && event_add(*ev, &tv) == 0 ? 0 : -ENOMEM;
}

static int add_signal(struct daemon *daemon, struct event **ev, int sig)
{
	*ev = evsignal_new(daemon->base, sig, on_signal, daemon);
	return *ev && event_add(*ev, NULL) == 0 ? 0 : -ENOMEM;
}

static int daemon_start(struct daemon *daemon, const struct options *o)
{
	AV_OPTS(av_open_opts, opts, .log = on_library_log, .log_level = AV_LOG_DEBUG,
		.machine_bytes = daemon->config.machine_mib << 20);
	uint64_t watchdog_usec = 0;
	int r;

	r = av_bus_error_register();
	if (r < 0)
		return r;
	r = av_open(daemon->config.backend, &opts, &daemon->hv);
	if (r < 0) {
		log_error("Failed to open backend %s: %s", daemon->config.backend,
			  last_error[0] ? last_error : av_strerror(r));
		return r;
	}
	daemon->hv_info.sz = sizeof(daemon->hv_info);
	r = av_hv_get_info(daemon->hv, &daemon->hv_info);
	if (r < 0)
		return r;
	daemon->owns_domains = !strcmp(daemon->hv_info.backend, "hv");

	daemon->base = event_base_new();
	if (!daemon->base)
		return -ENOMEM;
	r = add_signal(daemon, &daemon->sigterm, SIGTERM);
	if (r >= 0)
		r = add_signal(daemon, &daemon->sigint, SIGINT);
	if (r >= 0)
		r = add_signal(daemon, &daemon->sighup, SIGHUP);
	if (r >= 0)
		r = add_timer(daemon, &daemon->refresh, on_refresh, REFRESH_USEC);
	if (r >= 0 && sd_watchdog_enabled(false, &watchdog_usec) > 0)
		r = add_timer(daemon, &daemon->watchdog, on_watchdog, watchdog_usec / 2);
	if (r < 0)
		return r;

	r = av_bus_connect(o->bus_address, o->user_bus, &daemon->bus);
	if (r < 0) {
		log_error("Failed to connect to the %s bus: %s", o->bus_address ? o->bus_address :
			  o->user_bus ? "user" : "system", strerror(-r));
		return r;
	}
	r = manager_register(daemon);
	if (r < 0) {
		log_error("Failed to register the D-Bus objects: %s", strerror(-r));
		return r;
	}
	r = bus_loop_init(&daemon->loop, daemon->base, daemon->bus);
	if (r < 0)
		return r;
	r = boot_domains(daemon, true);
	if (r < 0)
		return r;
	r = sd_bus_request_name(daemon->bus, BUS_NAME, 0);
	if (r < 0) {
		log_error("Failed to own %s: %s", BUS_NAME,
			  r == -EEXIST ? "another altviewd owns it" : strerror(-r));
		return r;
	}
	sd_notify(false, "READY=1");
	manager_status(daemon);
	log_info("%s ready: backend %s, %u domain%s", BUS_NAME, daemon->config.backend,
		 daemon->nr_domains, daemon->nr_domains == 1 ? "" : "s");
	return 0;
}

/* Every guest back as found: views dropped, not paused; the embedded backend's destroyed. */
static void daemon_stop(struct daemon *daemon)
{
	daemon->stopping = true;
	sd_notify(false, "STOPPING=1");
	manager_status(daemon);
	mappings_drop(daemon);
	evtchns_drop(daemon);
	while (daemon->domains) {
		struct dom *dom = daemon->domains;
		/* Handed back before it goes, even where it goes with the daemon. */
		unsigned int done = dom_release(dom);

		log_info("domain %" PRIu32 " \"%s\": %s%s%s", dom->id, dom->name,
			 done & RELEASED_VIEWS ? "views dropped, " : "",
			 done & RELEASED_UNPAUSED ? "unpaused, " : "",
			 daemon->owns_domains ? "destroyed" : "left running");
		dom_remove(dom, daemon->owns_domains);
	}
	if (daemon->bus) {
		sd_bus_release_name(daemon->bus, BUS_NAME);
		sd_bus_flush(daemon->bus);
	}
}

static void daemon_deinit(struct daemon *daemon)
{
	struct event *events[] = {
		daemon->sigterm, daemon->sigint, daemon->sighup, daemon->refresh, daemon->watchdog,
	};

	bus_loop_deinit(&daemon->loop);
	sd_bus_flush_close_unref(daemon->bus);
	signal_queue_free(daemon->signals);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i])
			event_free(events[i]);
	if (daemon->base)
		event_base_free(daemon->base);
	av_close(daemon->hv);
	config_deinit(&daemon->config);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct daemon daemon = { 0 };
	int r;

	log_init();
	if (parse_args(argc, argv, &o) < 0)
		return EXIT_FAILURE;
	daemon.config_path = o.config_path ? o.config_path : CONFIG_DEFAULT_PATH;
	/* Without a file at the default path, the defaults apply; a path given must exist. */
	daemon.config_optional = !o.config_path;
	if (load_config(&daemon, &daemon.config) < 0)
		return EXIT_FAILURE;
	if (o.check_config) {
		printf("%s: ok\n", daemon.config_path);
		config_deinit(&daemon.config);
		return EXIT_SUCCESS;
	}
	r = daemon_start(&daemon, &o);
	if (r >= 0)
		r = bus_loop_run(&daemon.loop);
	daemon_stop(&daemon);
	daemon_deinit(&daemon);
	if (r < 0)
		sd_notifyf(false, "ERRNO=%d", -r);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
