/*
 * Peak RSS readings (base/memstat.h): touching 64 MB raises VmHWM by about that much; after the
 * memory is returned, a reset brings the mark down to the current RSS, so the next reading is
 * the peak since the reset (where the kernel allows the reset: Linux >= 4.0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "base/memstat.h"

#define MB (1024.0 * 1024.0)

static void peak_grows_and_resets(void **state)
{
    size_t before = vc_rss_peak_bytes(), n = 64u << 20;
    assert_true(before > 0);
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, n);
    size_t touched = vc_rss_peak_bytes();
    assert_true(touched >= before + n * 9 / 10 || touched >= n); /* the mark may already have been above */
    assert_int_equal(munmap(p, n), 0);
    /* freeing does not lower it (within the kernel's batched RSS counters: a few hundred kB) */
    assert_true(vc_rss_peak_bytes() + (2u << 20) >= touched);
    if (vc_rss_peak_reset() != 0) {
        print_message("this kernel does not reset the peak: readings are peaks so far\n");
        return;
    }
    size_t after = vc_rss_peak_bytes();
    print_message("peak %.0f MB with 64 MB touched, %.0f MB after freeing it and a reset\n", touched / MB, after / MB);
    assert_true(after + n / 2 < touched);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(peak_grows_and_resets)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
