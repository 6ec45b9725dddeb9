/* SPDX-License-Identifier: MIT */
/*
 * Guest entry: the host set rsp and put the vCPU id in rdi.  main(id)
 * runs, then the vCPU shuts itself down (sched_op(SCHEDOP_shutdown)).
 */
	.section .text.start, "ax"
	.globl _start
_start:
	and $-16, %rsp
	call main
	mov $29, %eax           /* __HYPERVISOR_sched_op */
	mov $2, %edi            /* SCHEDOP_shutdown */
	xor %esi, %esi
	vmcall
1:	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
