/* Check suite for the examples' shared core (examples/common/mvex_classifier.c) built against a
 * model whose input is not square (tests/mvex_nonsquare_model.h: height 3, width 5, RGB): the
 * input holds height * width * channels floats, the 8-bit pixels are normalised in HWC order
 * with the per-channel mean/std, and a run hands the model that buffer and its arena. */
#define MVIT_MODEL nsq
#define MVIT_MODEL_HEADER "mvex_nonsquare_model.h"
#include "../examples/common/mvex_classifier.c" /* first: it sets _POSIX_C_SOURCE */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

_Static_assert(MVEX_INPUT_HEIGHT == 3 && MVEX_INPUT_WIDTH == 5, "the stand-in model's size");
_Static_assert(MVEX_INPUT_ELEMS == 3 * 5 * 3, "one image: height * width * channels");

/* what the last run received */
static const float *seen_input;
static void *seen_arena;
static float seen_last; /* input[ELEMS - 1], the bottom-right pixel's last channel */

int nsq_run_parallel(const float *input, float *logits, void *arena, const nsq_parallel *par)
{
    (void)par;
    seen_input = input;
    seen_arena = arena;
    seen_last = input[MVEX_INPUT_ELEMS - 1];
    for (int k = 0; k < MVEX_NUM_CLASSES; k++)
        logits[k] = k == 2 ? 1.0f : 0.0f;
    return 0;
}

START_TEST(test_normalize_hwc)
{
    static const float mean[3] = nsq_INPUT_MEAN, std_[3] = nsq_INPUT_STD;
    uint8_t px[MVEX_INPUT_ELEMS];
    float out[MVEX_INPUT_ELEMS + 1];
    for (int i = 0; i < MVEX_INPUT_ELEMS; i++)
        px[i] = (uint8_t)(i * 5);
    out[MVEX_INPUT_ELEMS] = -12345.0f; /* must stay: one image is exactly ELEMS floats */
    mvex_normalize_u8(px, out);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            for (int c = 0; c < 3; c++) {
                const int i = (y * 5 + x) * 3 + c;
                const float want = ((float)px[i] / 255.0f - mean[c]) / std_[c];
                ck_assert_msg(out[i] == want, "y %d x %d c %d: %g, want %g", y, x, c,
                              (double)out[i], (double)want);
            }
    ck_assert(out[MVEX_INPUT_ELEMS] == -12345.0f);
}
END_TEST

START_TEST(test_run)
{
    mvex_classifier *c = mvex_classifier_create(4);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_le(mvex_classifier_threads(c), nsq_MAX_TASKS);
    float *in = mvex_classifier_input(c), logits[MVEX_NUM_CLASSES];
    for (int i = 0; i < MVEX_INPUT_ELEMS; i++)
        in[i] = (float)i;
    ck_assert_int_eq(mvex_classifier_run(c, in, logits), 0);
    ck_assert_ptr_eq(seen_input, in);
    ck_assert(seen_last == (float)(MVEX_INPUT_ELEMS - 1));
    ck_assert_uint_eq((uintptr_t)seen_arena % 64, 0);
    ck_assert_int_eq(mvex_top_class(logits), 2);
    ck_assert_int_eq(mvex_classifier_run(c, NULL, logits), -1);
    mvex_classifier_destroy(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mvex_nonsquare");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_normalize_hwc);
    tcase_add_test(tc, test_run);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
