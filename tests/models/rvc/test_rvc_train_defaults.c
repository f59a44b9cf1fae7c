/*
 * The default epochs (issue 14, docs/RVC.md "Defaults"): as many as fit in the target time at a
 * step time, between the bounds; the figures docs/RVC.md states for a 10-minute recording.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "models/rvc/rvc_train_pipeline.h"

static void ten_minutes_at_the_measured_step_times(void **state)
{
    rvc_train_recipe r;
    rvc_train_recipe_default(&r); /* v2 48k, batch 4: 120 min, 10..20 epochs */
    int spe = rvc_train_steps_per_epoch(&r, 600);
    assert_int_equal(spe, 45); /* 177 pieces of 3.7 s */
    /* Zen 5, 16.5 s a step: 12.4 min an epoch, 9 fit in 2 h → the floor of 10 (≈ 2.1 h) */
    assert_int_equal(rvc_train_epochs_for(&r, 16.5, spe), 10);
    /* the AVX2 VM, 37 s a step: 28 min an epoch → still 10 (≈ 4.6 h) */
    assert_int_equal(rvc_train_epochs_for(&r, 37.0, spe), 10);
    /* a machine at 10 s a step: 7.5 min an epoch → 16 fit */
    assert_int_equal(rvc_train_epochs_for(&r, 10.0, spe), 16);
    /* PyTorch's step here (7.7 s: 5.8 min an epoch) or better: RVC-WebUI's 20 */
    assert_int_equal(rvc_train_epochs_for(&r, 7.7, spe), 20);
    assert_int_equal(rvc_train_epochs_for(&r, 2.0, spe), 20);
}

static void settings_and_hint(void **state)
{
    rvc_train_recipe r;
    rvc_train_recipe_default(&r);
    r.target_minutes = 60;
    r.min_epochs = 2;
    r.max_epochs = 50;
    assert_int_equal(rvc_train_epochs_for(&r, 16.5, 45), 4);   /* 60 min / 12.4 min */
    assert_int_equal(rvc_train_epochs_for(&r, 100.0, 45), 2);  /* the floor */
    assert_int_equal(rvc_train_epochs_for(&r, 0.1, 45), 50);   /* the cap */
    r.max_epochs = 1;                                          /* a cap under the floor: the floor wins */
    assert_int_equal(rvc_train_epochs_for(&r, 0.1, 45), 2);
    /* before any step: the built-in figure, or a step measured here before */
    rvc_train_recipe_default(&r);
    int builtin = rvc_train_default_epochs(&r, 600);
    r.step_seconds_hint = 5.0;
    assert_int_equal(rvc_train_default_epochs(&r, 600), 20);   /* 3.75 min an epoch */
    assert_int_equal(builtin, 10);                             /* 37 s a step */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_minutes_at_the_measured_step_times),
        cmocka_unit_test(settings_and_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
