/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by the BPF programs and user space: map values and limits.
 * Fixed-width fields only; user space pins the sizes with static_assert.
 */
#ifndef __GRIDPROBE_H
#define __GRIDPROBE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Latency histogram, log-linear ("HDR") buckets. Values below
 * HIST_SUB_BUCKETS ns get a bucket each; above that every power of two is cut
 * into HIST_SUB_BUCKETS equal buckets, so a bucket is never wider than 1/64
 * of the values in it. A percentile read from a bucket midpoint is then within
 * 0.8% of the exact sample, whatever the distribution (log2 buckets are off by
 * up to 50%). Values of 2^HIST_MAX_EXP ns (18 minutes) and more share the last
 * bucket; max_ns stays exact.
 */
#define HIST_SUB_BITS		6
#define HIST_SUB_BUCKETS	(1u << HIST_SUB_BITS)
#define HIST_MAX_EXP		40
#define HIST_BUCKETS		(HIST_SUB_BUCKETS + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB_BUCKETS)

/* Operations one gridprobe instance can time (the per-op map's size). */
#define GP_MAX_OPS		64
/* Per-process histograms (attach --all): one per (process, operation). */
struct proc_op_key {
	__u32 tgid;
	__u32 op;
};

/* Nested/recursive calls tracked per thread; deeper calls are counted as untracked. */
#define GP_MAX_FRAMES		128

/* One operation's latency record, per CPU. Summed across CPUs by user space. */
struct op_hist {
	__u64 count;	/* calls that returned normally */
	__u64 sum_ns;
	__u64 min_ns;	/* meaningful when count > 0 */
	__u64 max_ns;
	__u64 unwound;	/* frames an exception or longjmp removed without a return */
	__u64 untracked;	/* calls not timed because the thread's frame stack was full */
	__u64 buckets[HIST_BUCKETS];
};

/*
 * Memory accounting. Category 0 holds allocations made while no operation
 * ran on the thread ("unattributed"); operation i is category i + 1.
 */
#define GP_CAT_UNATTRIBUTED	0
#define GP_MAX_CATEGORIES	(GP_MAX_OPS + 1)
#define GP_STACK_DEPTH		32

/* Per category, per CPU. Live bytes = alloc_bytes - free_bytes summed over CPUs. */
struct cat_stats {
	__u64 allocs;		/* tracked allocations */
	__u64 alloc_bytes;	/* requested bytes */
	__u64 frees;		/* frees of tracked allocations, charged to their category */
	__u64 free_bytes;
	__u64 dropped;		/* allocations not tracked: the live map was full */
	__u64 dropped_bytes;
};

/* One live allocation; the key is its address. */
struct alloc_info {
	__u64 size;
	__u64 ts_ns;		/* CLOCK_MONOTONIC at allocation */
	__u64 caller;		/* return address of the allocator call */
	__s32 stack_id;		/* user stack in the stacks map, < 0 when not taken */
	__u32 category;
};

/* Process-wide counters, per CPU. */
struct mem_counters {
	__u64 unknown_frees;	/* free() of an address never seen: allocated before attach */
	__u64 nested_calls;	/* allocator calls made by another allocator call: counted once */
	__u64 failed;		/* allocations that returned NULL */
	__u64 reused;		/* an address allocated again without a traced free */
};

/* floor(log2(v)) for v > 0, with shifts: clang 14 cannot lower __builtin_clzll for BPF. */
static __always_inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFull) << 5; v >>= s; r |= s;
	s = (v > 0xFFFFull) << 4; v >>= s; r |= s;
	s = (v > 0xFFull) << 3; v >>= s; r |= s;
	s = (v > 0xFull) << 2; v >>= s; r |= s;
	s = (v > 0x3ull) << 1; v >>= s; r |= s;
	return r | (__u32)(v >> 1);
}

static __always_inline __u32 hist_bucket(__u64 v)
{
	__u32 e;

	if (v < HIST_SUB_BUCKETS)
		return (__u32)v;
	e = hist_log2(v);
	if (e >= HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	return HIST_SUB_BUCKETS + (e - HIST_SUB_BITS) * HIST_SUB_BUCKETS +
	       (__u32)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB_BUCKETS - 1));
}

#endif /* __GRIDPROBE_H */
