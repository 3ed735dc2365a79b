/*
 * A library that tests/targets/dlopen_target loads with dlopen() after
 * gridprobe has attached, unloads and loads again (preset
 * tests/targets/dlopen_target.yaml).
 */
__attribute__((noinline)) long gpdl_work(long x)
{
	volatile long acc = x;

	for (int i = 0; i < 100; i++)
		acc = acc * 3 + i;
	return acc;
}
