/* SPDX-License-Identifier: MIT */
/*
 * regs-client — a monitor through altviewd that reads and writes the
 * registers of each vCPU that traps, and reads the guest's memory, inside
 * its event, as a VMI tool does: libaltview's av_vcpu_get_regs(),
 * av_vcpu_set_regs() and av_read() over the altviewd: backend
 * (Domain.GetRegisters, SetRegisters, ReadMemory).
 *
 *   regs-client URI DOMID EVENTS
 *
 * For each of EVENTS breakpoints: the registers read must be the event's
 * (rip included), a write of them must be taken, a register changed and
 * read back must hold the new value until it is put back, and the byte at
 * rip in guest memory must be the int3 that trapped.  Then a read of more
 * than one call's worth, and one past the end of RAM (-EFAULT).  Exit 0 and
 * a line "N events: registers read and written in each" when all hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <altview/altview.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "regs-client: %s: %s\n", what, r < 0 ? strerror(-r) : "wrong value");
	return 1;
}

/* Inside @ev: read, compare with the event, change one register, read back, restore. */
static int touch_regs(av_domain *dom, const struct av_event *ev)
{
	struct av_regs_x86 regs, back;
	uint64_t saved;
	int r;

	if ((r = av_vcpu_get_regs(dom, ev->vcpu, &regs)) < 0)
		return fail("reading the registers of the vCPU in the event", r);
	if (regs.rip != ev->regs.rip || regs.rsp != ev->regs.rsp)
		return fail("the registers read are the event's", 0);
	saved = regs.r15;
	regs.r15 = ~saved;
	if ((r = av_vcpu_set_regs(dom, ev->vcpu, &regs)) < 0)
		return fail("writing the registers", r);
	if ((r = av_vcpu_get_regs(dom, ev->vcpu, &back)) < 0 || back.r15 != ~saved)
		return fail("reading back a register written", r);
	regs.r15 = saved;
	if ((r = av_vcpu_set_regs(dom, ev->vcpu, &regs)) < 0)
		return fail("putting the register back", r);
	return 0;
}

/* The instruction that trapped, read from guest memory: the int3 itself. */
static int read_int3(av_domain *dom, const struct av_event *ev)
{
	uint64_t gpa = ev->u.breakpoint.gfn << AV_PAGE_SHIFT | (ev->regs.rip & (AV_PAGE_SIZE - 1));
	uint8_t insn;
	int r;

	if ((r = av_read(dom, gpa, &insn, 1)) < 0)
		return fail("reading the instruction at rip", r);
	if (insn != 0xcc)
		return fail("the byte at rip is the int3 that trapped", 0);
	return 0;
}

/*
 * More than one call's worth (64 KiB, or the daemon's smaller limit), both
 * ways, and past the end of RAM: a write that would not fit writes nothing.
 */
static int copy_big(av_domain *dom)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	size_t len = 200 * 1024;
	uint8_t *buf = malloc(len), *tail = malloc(8192), *again = malloc(4096);
	uint64_t end;
	int r = buf && tail && again ? 0 : -ENOMEM;

	if (r >= 0)
		r = av_domain_get_info(dom, &info);
	end = info.memory_bytes;
	if (r >= 0)
		r = av_read(dom, 0, buf, len);
	/* The low 8 KiB, which the guest leaves alone, written back as they are. */
	if (r >= 0)
		r = av_write(dom, 0, buf, 8192);
	if (r >= 0 && av_read(dom, end - 4096, buf, 8192) != -EFAULT)
		r = -EINVAL;
	if (r >= 0)
		r = av_read(dom, end - 4096, again, 4096);
	for (size_t i = 0; r >= 0 && i < 8192; i++)
		tail[i] = i < 4096 ? (uint8_t)~again[i] : 0x5a;
	if (r >= 0 && av_write(dom, end - 4096, tail, 8192) != -EFAULT)
		r = -EINVAL;
	if (r >= 0)
		r = av_read(dom, end - 4096, tail, 4096);
	if (r >= 0 && memcmp(tail, again, 4096))
		r = -EINVAL;
	free(buf);
	free(tail);
	free(again);
	return r < 0 ? fail("copying 200 KiB, then past the end of RAM", r) : 0;
}

int main(int argc, char **argv)
{
	unsigned long events, done = 0;
	av_hv *hv;
	av_domain *dom;
	av_monitor *mon;
	AV_OPTS(av_event, ev);
	int r;

	if (argc != 4 || !(events = strtoul(argv[3], NULL, 0))) {
		fprintf(stderr, "usage: regs-client URI DOMID EVENTS\n");
		return 2;
	}
	if ((r = av_open(argv[1], NULL, &hv)) < 0 ||
	    (r = av_domain_open(hv, (uint32_t)strtoul(argv[2], NULL, 0), &dom)) < 0 ||
	    (r = av_monitor_open(dom, NULL, &mon)) < 0 ||
	    (r = av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_BREAKPOINT))) < 0)
		return fail("subscribing", r);
	while (done < events) {
		struct pollfd pfd = { .fd = av_monitor_fd(mon), .events = POLLIN };

		r = av_monitor_next(mon, &ev);
		if (r == -EAGAIN) {
			if (poll(&pfd, 1, 10000) <= 0)
				return fail("waiting for a breakpoint", -ETIMEDOUT);
			continue;
		}
		if (r < 0)
			return fail("taking an event", r);
		if (!(ev.flags & AV_EVENT_F_SYNC))
			continue;
		if (touch_regs(dom, &ev) || read_int3(dom, &ev))
			return 1;
		if ((r = av_monitor_respond(mon, &ev, NULL)) < 0)
			return fail("answering", r);
		done++;
	}
	/* Held, so that nothing but this client changes the guest's memory meanwhile. */
	if ((r = av_domain_pause(dom)) < 0)
		return fail("holding the domain", r);
	if (copy_big(dom))
		return 1;
	if ((r = av_domain_unpause(dom)) < 0)
		return fail("releasing the domain", r);
	printf("%lu events: registers read and written, the int3 read, in each\n", done);
	av_monitor_close(mon);
	av_domain_close(dom);
	av_close(hv);
	return 0;
}
