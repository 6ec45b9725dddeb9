/* SPDX-License-Identifier: MIT */
/*
 * altview/common.h — what every part of libaltview shares: the hypervisor
 * handle, options structs, errors, logging and versions.
 *
 * Rules that hold for the whole library:
 *  - Functions return 0 (or a count) on success and a negative errno on
 *    failure; av_strerror() gives the text.  A failed call changes nothing.
 *  - Options structs begin with `size_t sz` and are declared with AV_OPTS()
 *    so that a program built against an older header keeps working (missing
 *    fields take their defaults) and one built against a newer header gets
 *    -EINVAL from an older library if it sets a field that library does not
 *    know.  A NULL options pointer means "all defaults".
 *  - The library never prints.  Details of a failure (where a JSON spec is
 *    wrong, which argument was refused) go to the log callback, if any.
 *  - Thread safety is stated on each call.  Unless it says otherwise, a
 *    handle may be used from several threads at once.
 */
#ifndef ALTVIEW_COMMON_H
#define ALTVIEW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AV_API
#define AV_API __attribute__((visibility("default")))
#endif

/* The release, as meson.build, libaltview.so.1.0.0 and the symbol node ALTVIEW_1.0 say it. */
#define AV_VERSION_MAJOR 1
#define AV_VERSION_MINOR 0
#define AV_VERSION_MICRO 0

/*
 * Declares and zero-fills an options struct with its size set:
 *   AV_OPTS(av_open_opts, o, .log = my_log);
 */
#define AV_OPTS(TYPE, NAME, ...)                                        \
	struct TYPE NAME = ({                                           \
		__builtin_memset(&NAME, 0, sizeof(struct TYPE));        \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/* The library's version, "major.minor.micro"; never NULL. */
AV_API const char *av_version(void);

/* Text for a negative errno returned by this library (thread-safe). */
AV_API const char *av_strerror(int err);

enum av_log_level {
	AV_LOG_ERR = 3,
	AV_LOG_WARNING = 4,
	AV_LOG_INFO = 6,
	AV_LOG_DEBUG = 7,
};

/*
 * Receives the library's messages; may be called from any thread that uses
 * a handle, so it must be thread-safe.  @msg has no trailing newline.
 */
typedef void av_log_fn(void *ctx, enum av_log_level level, const char *msg);

/* ---- the hypervisor handle ---------------------------------------------- */

/* One connection to a hypervisor through one backend. */
typedef struct av_hv av_hv;

struct av_open_opts {
	size_t sz;
	av_log_fn *log;             /* optional */
	void *log_ctx;
	enum av_log_level log_level;    /* 0: AV_LOG_WARNING */
	/* "hv:" only: machine memory of the embedded hypervisor; 0: 256 MiB. */
	uint64_t machine_bytes;
};

/*
 * Opens a hypervisor by URI:
 *   "hv:"                     the embedded hypervisor core, in this process;
 *   "altviewd:system"         altviewd on the system bus ("altviewd:" too),
 *   "altviewd:user"           on the user's session bus,
 *   "altviewd:ADDRESS"        on the bus at a D-Bus address (unix:path=...):
 *                             the same API through the daemon, so that many
 *                             monitors can share a guest (libaltview(3)).
 * -EPROTONOSUPPORT for a backend this build does not have, -EINVAL for a
 * malformed URI or options.  Thread-safe.
 */
AV_API int av_open(const char *uri, const struct av_open_opts *opts, av_hv **out);

/*
 * Closes the handle and everything opened through it that is still open
 * (monitors, domain handles, event channel handles, mappings).  Domains
 * created on the embedded hypervisor die with it.  Call it once, when no
 * other thread uses the handle or anything opened through it.
 */
AV_API void av_close(av_hv *hv);

struct av_hv_info {
	size_t sz;
	const char *backend;        /* "hv", ... (static storage) */
	uint32_t hv_version_major;  /* of the hypervisor behind the backend */
	uint32_t hv_version_minor;
	uint32_t vm_event_version;  /* VM_EVENT_INTERFACE_VERSION it speaks */
	uint32_t max_views;         /* per domain, view 0 included */
	uint32_t max_vcpus;         /* per domain */
	uint64_t machine_bytes;     /* 0 when the backend cannot tell */
};

/* Fills @info up to info->sz (which the caller sets).  Thread-safe. */
AV_API int av_hv_get_info(av_hv *hv, struct av_hv_info *info);

#ifdef __cplusplus
}
#endif

#endif
