/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types gridprobe's BPF programs read, declared with
 * preserve_access_index so that libbpf relocates every field access against
 * the running kernel's BTF (CO-RE). Uprobe programs only read user registers
 * from struct pt_regs, so a full bpftool-generated vmlinux.h (100k lines tied
 * to one kernel build) buys nothing and would tie the build to the build
 * machine's kernel. See docs/bpf.md.
 */
#ifndef __GRIDPROBE_VMLINUX_H
#define __GRIDPROBE_VMLINUX_H
/* Tells bpf_tracing.h to use the kernel's pt_regs field names (sp, di, ...). */
#define __VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h>

#ifndef __x86_64__
#if !defined(__TARGET_ARCH_x86)
#error "gridprobe's BPF programs are built for x86-64 (__TARGET_ARCH_x86)"
#endif
#endif

struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
} __attribute__((preserve_access_index));

#endif /* __GRIDPROBE_VMLINUX_H */
