// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation accounting: every allocation is charged to the innermost
 * operation running on the allocating thread (read from the latency
 * programs' frame stacks), kept in a bounded map of live allocations until
 * it is freed, and summed per category.
 *
 * Entry programs remember the request per thread; one return program
 * (uretprobe: nothing unwinds through an allocator) records the result.
 * An allocator that calls another (reallocarray -> realloc, memalign
 * helpers) is counted once, at the outermost call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "frames.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define EEXIST 17

/* Set between open and load. */
const volatile __u32 track_unattributed = 1;	/* --memory full (1) or ops (0) */
const volatile __u32 collect_stacks = 1;

/* Set by user space to freeze the counters and the live map for a
 * consistent final read while the probes are still attached. */
volatile __u32 paused = 0;

enum alloc_kind {
	KIND_PLAIN = 1,		/* malloc, calloc, memalign, aligned_alloc, valloc, pvalloc */
	KIND_REALLOC,		/* realloc, reallocarray: frees old_ptr when it moves or size is 0 */
	KIND_POSIX_MEMALIGN,	/* result written through memptr, return value is an errno */
};

struct pending {
	__u64 size;
	__u64 old_ptr;
	__u64 memptr;
	__u64 sp;		/* at the outermost entry: identifies that call */
	__u32 kind;
	__u32 depth;
};

/* Per thread, in the task itself: found without hashing and written in
 * place, where a hash map keyed by tid cost a lookup and an update (with its
 * bucket lock) on every allocator call. Freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pendings SEC(".maps");

static __always_inline struct pending *pending_get(__u64 flags)
{
	return bpf_task_storage_get(&pendings, bpf_get_current_task_btf(), 0, flags);
}

/* Sized by user space before load (--max-allocs). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct alloc_info);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_MAX_CATEGORIES);
	__type(key, __u32);
	__type(value, struct cat_stats);
} cats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_counters);
} counters SEC(".maps");

struct stack {
	__u64 ips[GP_STACK_DEPTH];
};

/* User stacks by a hash of their frames (the id user space reads back). Not
 * the kernel's stack map: bpf_get_stackid's walk ends only when a read of the
 * frame chain fails, and that faulting read past the outermost frame cost
 * ~750 ns of its ~1,000 per allocation here; the walk below stops before it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stack);
} stacks SEC(".maps");

/* One stack being collected, per CPU: too big for the BPF stack with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack);
} scratch SEC(".maps");

/* Frames further apart than this are not one thread's stack. */
#define GP_MAX_FRAME_SIZE	(1ull << 20)

/* The user stack at a return probe (ip: the caller; rbp: the caller's frame
 * pointer) by frame pointers, stored under its hash; -1 when not stored. */
static __always_inline __s32 user_stack_id(struct pt_regs *ctx)
{
	__u32 zero = 0, id, i;
	struct stack *st = bpf_map_lookup_elem(&scratch, &zero);
	__u64 fp = PT_REGS_FP(ctx), frame[2];
	__u64 hash = 14695981039346656037ull;	/* FNV-1a over the frames */

	if (!st)
		return -1;
	st->ips[0] = PT_REGS_IP(ctx);
	for (i = 1; i < GP_STACK_DEPTH; i++) {
		st->ips[i] = 0;
		/* Stop at a null or misaligned frame pointer instead of faulting on it. */
		if (!fp || (fp & 7))
			continue;
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp) || !frame[1]) {
			fp = 0;
			continue;
		}
		st->ips[i] = frame[1];
		/* The caller's frame lies above this one, within the stack. */
		fp = frame[0] > fp && frame[0] - fp < GP_MAX_FRAME_SIZE ? frame[0] : 0;
	}
	for (i = 0; i < GP_STACK_DEPTH; i++) {
		hash ^= st->ips[i];
		hash *= 1099511628211ull;
	}
	id = (__u32)(hash ^ (hash >> 32)) & 0x7fffffff;
	/* An existing entry under this id is taken to be the same stack. */
	if (bpf_map_update_elem(&stacks, &id, st, BPF_NOEXIST) && !bpf_map_lookup_elem(&stacks, &id))
		return -1;
	return (__s32)id;
}

static __always_inline struct mem_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* The innermost operation open on this thread, as a category. */
static __always_inline __u32 current_category(__u32 tid)
{
	struct thread_frames *tf = bpf_map_lookup_elem(&threads, &tid);
	__u32 d;

	if (!tf)
		return GP_CAT_UNATTRIBUTED;
	d = tf->depth;
	if (d == 0 || d > GP_MAX_FRAMES)
		return GP_CAT_UNATTRIBUTED;
	return tf->frames[(d - 1) & (GP_MAX_FRAMES - 1)].op + 1;
}

static __always_inline void charge_free(__u64 ptr)
{
	struct alloc_info *info;
	struct cat_stats *cs;
	struct mem_counters *mc;
	__u64 size;
	__u32 cat;

	if (!ptr)
		return;
	info = bpf_map_lookup_elem(&allocs, &ptr);
	if (!info) {
		mc = counters_get();
		if (mc)
			mc->unknown_frees++;
		return;
	}
	cat = info->category;
	size = info->size;
	/* Only the deleting program charges: a racing free of the same block
	 * (a bug in the target) cannot count it twice. */
	if (bpf_map_delete_elem(&allocs, &ptr))
		return;
	cs = bpf_map_lookup_elem(&cats, &cat);
	if (cs) {
		cs->frees++;
		cs->free_bytes += size;
	}
}

static __always_inline void charge_alloc(struct pt_regs *ctx, __u64 ptr, __u64 size, __u64 caller,
					 __u32 cat)
{
	struct alloc_info info = {};
	struct cat_stats *cs;
	struct mem_counters *mc;
	long err;

	cs = bpf_map_lookup_elem(&cats, &cat);
	if (!cs)
		return;
	info.size = size;
	info.ts_ns = bpf_ktime_get_ns();
	info.caller = caller;
	info.stack_id = collect_stacks ? user_stack_id(ctx) : -1;
	info.category = cat;
	/* Insert first and look for an old record only when there is one: the
	 * common case costs one map operation, not a lookup and an insert. */
	err = bpf_map_update_elem(&allocs, &ptr, &info, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* Reused without a traced free (freed by a path we do not probe). */
		charge_free(ptr);
		mc = counters_get();
		if (mc)
			mc->reused++;
		err = bpf_map_update_elem(&allocs, &ptr, &info, BPF_NOEXIST);
	}
	if (err) {
		cs->dropped++;
		cs->dropped_bytes += size;
		return;
	}
	cs->allocs++;
	cs->alloc_bytes += size;
}

/* Remembers a request in place; returns 0 when this call is nested in
 * another or is not tracked. */
static __always_inline int begin(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 old_ptr,
				 __u64 memptr)
{
	struct pending *p;
	struct mem_counters *mc;
	__u64 sp = PT_REGS_SP(ctx);

	if (paused)
		return 0;
	p = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return 0;
	/* A nested call runs below the outer one's frame, or at it when the
	 * outer one tail-calls (tcmalloc's pvalloc jumps to valloc); a pending
	 * call below this stack pointer lost its return (the thread unwound
	 * past it) and is forgotten. */
	if (p->depth > 0 && sp <= p->sp) {
		p->depth++;
		mc = counters_get();
		if (mc)
			mc->nested_calls++;
		return 0;
	}
	p->size = size;
	p->old_ptr = old_ptr;
	p->memptr = memptr;
	p->kind = kind;
	p->sp = sp;
	p->depth = 1;
	return 1;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	begin(ctx, KIND_PLAIN, size, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	begin(ctx, KIND_PLAIN, n * size, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	begin(ctx, KIND_REALLOC, size, ptr, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 n, __u64 size)
{
	begin(ctx, KIND_REALLOC, n * size, ptr, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 alignment, __u64 size)
{
	begin(ctx, KIND_PLAIN, size, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 alignment, __u64 size)
{
	begin(ctx, KIND_POSIX_MEMALIGN, size, 0, memptr);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	struct pending *p = pending_get(0);
	struct mem_counters *mc;
	__u64 ptr = ret;
	__u32 cat;

	if (!p || p->depth == 0)
		return 0;
	if (paused) {
		p->depth = 0;
		return 0;
	}
	if (p->depth > 1) {
		p->depth--;
		return 0;
	}
	p->depth = 0;
	if (p->kind == KIND_POSIX_MEMALIGN) {
		ptr = 0;
		if (ret == 0)
			bpf_probe_read_user(&ptr, sizeof(ptr), (void *)p->memptr);
	}
	if (p->kind == KIND_REALLOC && p->old_ptr && (ptr || p->size == 0)) {
		/* Moved, resized in place (same address) or freed by size 0. */
		charge_free(p->old_ptr);
	}
	if (!ptr) {
		if (p->size > 0) {
			mc = counters_get();
			if (mc)
				mc->failed++;
		}
		return 0;
	}
	cat = current_category((__u32)bpf_get_current_pid_tgid());
	if (cat == GP_CAT_UNATTRIBUTED && !track_unattributed)
		return 0;
	/* A return probe runs with the ip already back at the return address:
	 * the caller, without reading it from the user stack at entry. */
	charge_alloc(ctx, ptr, p->size, PT_REGS_IP(ctx), cat);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	struct pending *p = pending_get(0);

	/* realloc freeing internally is accounted by its own return. */
	if (paused || (p && p->depth > 0 && PT_REGS_SP(ctx) <= p->sp))
		return 0;
	charge_free(ptr);
	return 0;
}
