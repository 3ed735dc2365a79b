// SPDX-License-Identifier: GPL-2.0
/*
 * Operation latency, in two return modes (docs/bpf.md).
 *
 * A uretprobe replaces the return address with a trampoline that has no
 * unwind information, so a C++ exception thrown through the function kills
 * the target. In safe mode op_enter sits at the function's entry and op_exit
 * on each of its return instructions and tail-call jumps. Both run where the
 * stack pointer points at the return address, so (thread, sp) names one
 * activation. In fast mode, only for functions nothing can unwind through,
 * op_return is a uretprobe at the entry site and pairs by the same sp.
 * Each thread keeps a stack of open frames; a frame found below a newer entry
 * or exit on the same thread was unwound by an exception or longjmp and is
 * counted, not timed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "frames.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_MAX_OPS);
	__type(key, __u32);
	__type(value, struct op_hist);
} hists SEC(".maps");

/*
 * attach --all: the same histogram per (process, operation) as well, so the
 * report can break the totals down. Entries are made on a process's first
 * call (no preallocation: most slots are never used); when the map is full
 * the call is in the totals only and counted in proc_overflow.
 */
const volatile __u8 per_process = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);	/* sized by user space before load */
	__type(key, struct proc_op_key);
	__type(value, struct op_hist);
} proc_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct op_hist);
} zero_hist SEC(".maps");

/* The name of a process whose histogram the kernel made, taken at its first
 * call: it may be gone before user space looks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* sized by user space before load */
	__type(key, __u32);
	__type(value, char[16]);
} proc_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} proc_overflow SEC(".maps");

/* A zeroed value to insert new threads from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_frames);
} zero_frames SEC(".maps");

static __always_inline struct op_hist *hist_of(__u32 op)
{
	return bpf_map_lookup_elem(&hists, &op);
}

/* The calling process's histogram of `op`, made on first use; NULL when not
 * per process or the map is full. */
static __always_inline struct op_hist *proc_hist_of(__u32 op)
{
	struct proc_op_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .op = op };
	struct op_hist *h;
	__u32 zero = 0;

	if (!per_process)
		return NULL;
	h = bpf_map_lookup_elem(&proc_hists, &key);
	if (h)
		return h;
	h = bpf_map_lookup_elem(&zero_hist, &zero);
	if (h)
		bpf_map_update_elem(&proc_hists, &key, h, BPF_NOEXIST);
	if (!bpf_map_lookup_elem(&proc_comms, &key.tgid)) {
		char comm[16] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		bpf_map_update_elem(&proc_comms, &key.tgid, comm, BPF_NOEXIST);
	}
	h = bpf_map_lookup_elem(&proc_hists, &key);
	if (!h) {
		__u64 *overflow = bpf_map_lookup_elem(&proc_overflow, &zero);

		if (overflow)
			(*overflow)++;
	}
	return h;
}

/* What one probe hit does to an operation's histogram. */
enum hist_update {
	HIST_SAMPLE,	/* a call returned after `ns` */
	HIST_UNWOUND,	/* an exception or longjmp left the call */
	HIST_UNTRACKED, /* the call could not be timed (nesting too deep) */
};

static __always_inline void apply(struct op_hist *h, enum hist_update what, __u64 ns)
{
	__u32 b;

	if (!h)
		return;
	if (what == HIST_UNWOUND) {
		h->unwound++;
		return;
	}
	if (what == HIST_UNTRACKED) {
		h->untracked++;
		return;
	}
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	h->sum_ns += ns;
	b = hist_bucket(ns);
	if (b < HIST_BUCKETS)
		h->buckets[b]++;
}

/* The global histogram of `op`, then the calling process's (attach --all). */
static __always_inline void update(__u32 op, enum hist_update what, __u64 ns)
{
	apply(hist_of(op), what, ns);
	apply(proc_hist_of(op), what, ns);
}

/* Drop frames at stack addresses below `sp` (or at it, when `inclusive`):
 * their functions can no longer return, an exception or longjmp unwound them. */
static __always_inline void pop_unwound(struct thread_frames *tf, __u64 sp, int inclusive)
{
	for (int i = 0; i < GP_MAX_FRAMES; i++) {
		__u32 d = tf->depth;
		struct frame *f;

		if (d == 0 || d > GP_MAX_FRAMES)
			break;
		f = &tf->frames[(d - 1) & (GP_MAX_FRAMES - 1)];
		if (f->sp > sp || (!inclusive && f->sp == sp))
			break;
		update(f->op, HIST_UNWOUND, 0);
		tf->depth = d - 1;
	}
}

SEC("uprobe")
int BPF_KPROBE(op_enter)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 op = (__u32)bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_frames *tf;
	__u32 d;

	tf = bpf_map_lookup_elem(&threads, &tid);
	if (!tf) {
		__u32 zero = 0;
		struct thread_frames *init = bpf_map_lookup_elem(&zero_frames, &zero);

		if (!init)
			return 0;
		bpf_map_update_elem(&threads, &tid, init, BPF_NOEXIST);
		tf = bpf_map_lookup_elem(&threads, &tid);
		if (!tf)
			goto untracked;
	}
	/* A new call at the same sp as an open frame means that frame is gone. */
	pop_unwound(tf, sp, 1);
	d = tf->depth;
	if (d >= GP_MAX_FRAMES)
		goto untracked;
	tf->frames[d & (GP_MAX_FRAMES - 1)].sp = sp;
	tf->frames[d & (GP_MAX_FRAMES - 1)].start_ns = now;
	tf->frames[d & (GP_MAX_FRAMES - 1)].op = op;
	tf->depth = d + 1;
	return 0;

untracked:
	update(op, HIST_UNTRACKED, 0);
	return 0;
}

/* A return with the stack pointer at `sp` (where the return address was):
 * pop frames an unwind left behind, then time the frame of this call. */
static __always_inline void leave(__u64 sp, __u64 now)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_frames *tf;
	struct frame *f;
	__u32 d;

	tf = bpf_map_lookup_elem(&threads, &tid);
	if (!tf)
		return;
	pop_unwound(tf, sp, 0);
	d = tf->depth;
	if (d == 0 || d > GP_MAX_FRAMES)
		return;
	f = &tf->frames[(d - 1) & (GP_MAX_FRAMES - 1)];
	/* Above the frame's sp: a jump inside the function body (the probed jmp was
	 * not a tail call), or a return of a call that began before attach. */
	if (f->sp != sp)
		return;
	tf->depth = d - 1;
	update(f->op, HIST_SAMPLE, now - f->start_ns);
}

/* Safe mode: at each ret and tail-call jump, before it executes. */
SEC("uprobe")
int BPF_KPROBE(op_exit)
{
	leave(PT_REGS_SP(ctx), bpf_ktime_get_ns());
	return 0;
}

/* Fast mode: the uretprobe placed with op_enter at the entry site. The ret
 * has popped the return address, so the call's sp is 8 bytes below. */
SEC("uretprobe")
int BPF_KRETPROBE(op_return)
{
	leave(PT_REGS_SP(ctx) - 8, bpf_ktime_get_ns());
	return 0;
}

/* Does nothing: the calibration times a bare uprobe hit on each kind of
 * instruction to learn which ones this kernel emulates. */
SEC("uprobe")
int BPF_KPROBE(calibrate)
{
	return 0;
}
