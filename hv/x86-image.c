/* SPDX-License-Identifier: MIT */
/*
 * x86-image.c — the guest's image: a static ELF64 for x86-64, loaded by its
 * PT_LOAD segments at their physical addresses through the host p2m, below
 * the vCPUs' stacks at the top of RAM.  Every offset and size in the image
 * is checked against the image and guest memory before it is used.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "x86.h"

/* Guest-physical copy through the host p2m, for the loader and hypercalls. */
int x86_guest_copy(struct hv_domain *d, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
	while (len) {
		struct hv_p2m_entry e;
		size_t off = gpa & (HV_PAGE_SIZE - 1), n = HV_PAGE_SIZE - off;

		if (n > len)
			n = len;
		if (gpa >> HV_PAGE_SHIFT > HV_MAX_GFN ||
		    hv_p2m_get_entry(d, gpa >> HV_PAGE_SHIFT, &e) < 0 || e.type != HV_P2M_RAM_RW)
			return -EFAULT;
		if (to_guest)
			memcpy(machine_ptr(d, e.mfn) + off, buf, n);
		else
			memcpy(buf, machine_ptr(d, e.mfn) + off, n);
		gpa += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

/* A static ELF64 for x86-64, loaded by its PT_LOAD segments at their physical addresses. */
int x86_load_elf(struct x86_domain *xd, const uint8_t *img, size_t size, const char **why)
{
	const Elf64_Ehdr *eh = (const void *)img;
	uint64_t stacks = (uint64_t)xd->d->nr_vcpus * X86_STACK_BYTES, limit;
	uint8_t zero[HV_PAGE_SIZE] = { 0 };

	if (!img || size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return *why = "not an ELF image", -EINVAL;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return *why = "not a little-endian x86-64 ELF64 image", -EINVAL;
	if (eh->e_type != ET_EXEC)
		return *why = "not a static executable (ET_EXEC)", -EINVAL;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
	    (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
		return *why = "program headers outside the image (truncated?)", -EINVAL;
	if (stacks >= xd->ram_bytes)
		return *why = "no room for the vCPU stacks", -EINVAL;
	limit = xd->ram_bytes - stacks;

	bool loaded = false;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			return *why = "a segment lies outside the image (truncated?)", -EINVAL;
		if (ph.p_paddr > limit || ph.p_memsz > limit - ph.p_paddr)
			return *why = "a segment lies outside guest memory (or over the stacks)", -EINVAL;
		if (x86_guest_copy(xd->d, ph.p_paddr, (void *)(img + ph.p_offset), ph.p_filesz, true) < 0)
			return *why = "a segment lies outside guest memory", -EINVAL;
		for (uint64_t at = ph.p_filesz; at < ph.p_memsz; at += sizeof(zero)) {
			uint64_t n = ph.p_memsz - at < sizeof(zero) ? ph.p_memsz - at : sizeof(zero);

			x86_guest_copy(xd->d, ph.p_paddr + at, zero, n, true);
		}
		loaded = true;
	}
	if (!loaded)
		return *why = "no PT_LOAD segment", -EINVAL;
	if (eh->e_entry >= limit)
		return *why = "the entry point lies outside guest memory", -EINVAL;
	xd->entry = eh->e_entry;
	return 0;
}
