/* SPDX-License-Identifier: MIT */
/*
 * core.c — the hypervisor handle: backend selection by URI, logging,
 * options-struct rules, and the object lists that av_close() tears down.
 */
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

static const struct {
	const char *scheme;
	const struct av_backend_ops *ops;
} backends[] = {
	{ "hv", &av_backend_hv },
#if HAVE_ALTVIEWD
	{ "altviewd", &av_backend_altviewd },
#endif
#if HAVE_XEN
	{ "xen", &av_backend_xen },
#endif
};

AV_API const char *av_version(void)
{
	return ALTVIEW_VERSION;
}

AV_API const char *av_strerror(int err)
{
	const char *s = err < 0 ? strerrordesc_np(-err) : NULL;

	return s ? s : "Unknown error";
}

void av_log(struct av_hv *hv, enum av_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!hv || !hv->log || level > hv->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hv->log(hv->log_ctx, level, msg);
}

bool opts_valid(struct av_hv *hv, const void *opts, size_t known, const char *type)
{
	size_t sz = *(const size_t *)opts;

	if (sz < sizeof(size_t)) {
		av_err(hv, "struct %s: sz is %zu, too small to be one", type, sz);
		return false;
	}
	for (size_t i = known; i < sz; i++) {
		if (((const unsigned char *)opts)[i]) {
			av_err(hv, "struct %s: byte %zu is set, a field this library (%s) does not know",
			       type, i, ALTVIEW_VERSION);
			return false;
		}
	}
	return true;
}

void out_fill(void *out, const void *src, size_t src_size)
{
	size_t sz = *(const size_t *)out;

	memcpy((char *)out + sizeof(size_t), (const char *)src + sizeof(size_t),
	       (sz < src_size ? sz : src_size) - sizeof(size_t));
	if (sz > src_size)
		memset((char *)out + src_size, 0, sz - src_size);
}

void list_init(struct list *l)
{
	l->prev = l->next = l;
}

void list_add(struct list *head, struct list *e)
{
	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

void list_del(struct list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	list_init(e);
}

static const struct av_backend_ops *backend_of(const char *uri, const char **arg)
{
	const char *colon = strchr(uri, ':');

	if (!colon)
		return NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i].scheme);

		if ((size_t)(colon - uri) == n && !strncmp(uri, backends[i].scheme, n)) {
			*arg = colon + 1;
			return backends[i].ops;
		}
	}
	return NULL;
}

AV_API int av_open(const char *uri, const struct av_open_opts *opts, av_hv **out)
{
	struct av_hv *hv;
	const char *arg = NULL;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	/* The log callback first, so that everything after can explain itself. */
	if (opts && opts->sz >= offsetofend(struct av_open_opts, log_ctx)) {
		hv->log = opts->log;
		hv->log_ctx = opts->log_ctx;
	}
	hv->log_level = OPTS_GET(opts, av_open_opts, log_level, 0);
	if (!hv->log_level)
		hv->log_level = AV_LOG_WARNING;
	list_init(&hv->domains);
	list_init(&hv->evtchns);
	pthread_mutex_init(&hv->lock, NULL);

	r = -EINVAL;
	if (!uri)
		av_err(hv, "av_open: no URI");
	else if (!OPTS_VALID(hv, opts, av_open_opts, machine_bytes))
		;
	else if (!(hv->ops = backend_of(uri, &arg))) {
		r = -EPROTONOSUPPORT;
		av_err(hv, "av_open: \"%s\": unknown backend (this build has: %s)", uri,
		       HAVE_ALTVIEWD ? "hv:, altviewd:" : "hv:");
	} else {
		r = hv->ops->open(hv, arg, opts);
	}
	if (r < 0) {
		pthread_mutex_destroy(&hv->lock);
		free(hv);
		return r;
	}
	*out = hv;
	return 0;
}

AV_API void av_close(av_hv *hv)
{
	if (!hv)
		return;
	/* Monitors go with their domain handles: close those, they close theirs. */
	while (hv->evtchns.next != &hv->evtchns)
		av_evtchn_close(list_entry(hv->evtchns.next, struct av_evtchn, link));
	while (hv->domains.next != &hv->domains)
		domain_handle_free(list_entry(hv->domains.next, struct av_domain, link));
	hv->ops->close(hv);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
}

AV_API int av_hv_get_info(av_hv *hv, struct av_hv_info *info)
{
	struct av_hv_info full = { .sz = sizeof(full) };
	int r;

	if (!hv || !info || info->sz < sizeof(size_t))
		return -EINVAL;
	full.backend = hv->ops->name;
	full.vm_event_version = VM_EVENT_INTERFACE_VERSION;
	r = hv->ops->get_info(hv, &full);
	if (r < 0)
		return r;
	out_fill(info, &full, sizeof(full));
	return 0;
}

/* ---- conversions ------------------------------------------------------------- */

/*
 * altview's registers begin with Xen's first 31 in Xen's order (rax ..
 * gdtr_base), so that part is one copy; the rest sits elsewhere in Xen's.
 */
#define REGS_PREFIX offsetofend(struct av_regs_x86, gdtr_base)
_Static_assert(offsetof(struct av_regs_x86, gdtr_base) == offsetof(struct vm_event_regs_x86, gdtr_base) &&
	       offsetof(struct av_regs_x86, msr_lstar) == offsetof(struct vm_event_regs_x86, msr_lstar) &&
	       offsetof(struct av_regs_x86, rip) == offsetof(struct vm_event_regs_x86, rip),
	       "struct av_regs_x86 starts as struct vm_event_regs_x86 does");

#define REGS_REST(X) \
	X(fs_base) X(gs_base) X(shadow_gs) X(gdtr_limit) \
	X(cs_sel) X(ss_sel) X(ds_sel) X(es_sel) X(fs_sel) X(gs_sel)

void regs_to_xen(const struct av_regs_x86 *in, struct vm_event_regs_x86 *out)
{
	memcpy(out, in, REGS_PREFIX);
#define X(f) out->f = in->f;
	REGS_REST(X)
#undef X
}

void regs_from_xen(const struct vm_event_regs_x86 *in, struct av_regs_x86 *out)
{
	memcpy(out, in, REGS_PREFIX);
#define X(f) out->f = in->f;
	REGS_REST(X)
#undef X
	out->pad = 0;
}
