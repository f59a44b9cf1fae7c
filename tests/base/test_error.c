#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "base/error.h"

static void fail_fills_code_and_message(void **state)
{
    vc_error err;
    assert_int_equal(vc_fail(&err, VC_ERR_FILE_TOO_LARGE, "file is %d MB", 120), -1);
    assert_int_equal(err.code, VC_ERR_FILE_TOO_LARGE);
    assert_string_equal(err.message, "file is 120 MB");
    assert_string_equal(vc_code_name(err.code), "FILE_TOO_LARGE");
    assert_int_equal(vc_code_http_status(err.code), 413);
}

static void wrap_prefixes_context(void **state)
{
    vc_error err;
    vc_fail(&err, VC_ERR_IO, "disk full");
    vc_error_wrap(&err, "saving %s", "a.wav");
    assert_string_equal(err.message, "saving a.wav: disk full");
}

static void every_code_has_a_name_and_status(void **state)
{
    for (int c = 0; c < VC_CODE_COUNT; c++) {
        assert_non_null(vc_code_name((vc_code)c));
        assert_true(vc_code_http_status((vc_code)c) >= 200);
        assert_true(strlen(vc_code_user_message((vc_code)c)) > 0);
    }
    assert_string_equal(vc_code_name((vc_code)999), "INTERNAL_ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fail_fills_code_and_message),
        cmocka_unit_test(wrap_prefixes_context),
        cmocka_unit_test(every_code_has_a_name_and_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
