/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-thread stacks of open operation calls. latency.bpf.c owns them; the
 * memory programs read them (same map, shared by fd) to charge an
 * allocation to the innermost operation running on the thread.
 */
#ifndef __GRIDPROBE_FRAMES_BPF_H
#define __GRIDPROBE_FRAMES_BPF_H

#include "gridprobe.h"

struct frame {
	__u64 sp;
	__u64 start_ns;
	__u32 op;
	__u32 pad;
};

struct thread_frames {
	__u32 depth;
	__u32 pad;
	struct frame frames[GP_MAX_FRAMES];
};

/* Sized by user space before load (--max-threads). LRU: threads that exit
 * while a frame is open must not pin entries forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct thread_frames);
} threads SEC(".maps");

#endif /* __GRIDPROBE_FRAMES_BPF_H */
