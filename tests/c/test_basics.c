/*
 * Basic C-side checks of the offrec ABI: version, result codes and messages, buffer release.
 * Prints "test_basics: N passed, N failed" and exits non-zero on any failure.
 */
#include "offrec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed;
static int failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define STR_(x) #x
#define STR(x) STR_(x)

static void test_version(void) {
    const char *v = offrec_version();
    CHECK(v != NULL);
    CHECK(v != NULL && strcmp(v, OFFREC_VERSION) == 0);
    CHECK(strcmp(OFFREC_VERSION, STR(OFFREC_VERSION_MAJOR) "." STR(OFFREC_VERSION_MINOR) "." STR(
                                     OFFREC_VERSION_PATCH)) == 0);
    CHECK(offrec_version() == v); /* static: the same pointer every time */
    CHECK(OFFREC_ABI_VERSION == 0);
}

static void test_result_codes(void) {
    static const struct {
        uint32_t code;
        uint32_t number;
    } known[] = {
        {OFFREC_RESULT_OK, 0},
        {OFFREC_RESULT_NULL_ARGUMENT, 1},
        {OFFREC_RESULT_INVALID_ARGUMENT, 2},
        {OFFREC_RESULT_BUFFER_TOO_SMALL, 3},
        {OFFREC_RESULT_PANIC, 4},
        {OFFREC_RESULT_INVALID_UTF8, 5},
        {OFFREC_RESULT_OUT_OF_MEMORY, 6},
        {OFFREC_RESULT_UNKNOWN_ENUM_VALUE, 7},
        {OFFREC_RESULT_NO_SESSION, 100},
        {OFFREC_RESULT_NOT_ENCRYPTED, 101},
        {OFFREC_RESULT_SESSION_FINISHED, 102},
        {OFFREC_RESULT_POLICY_FORBIDS, 103},
        {OFFREC_RESULT_SMP_IN_PROGRESS, 104},
        {OFFREC_RESULT_RANDOM_FAILED, 105},
        {OFFREC_RESULT_STORE_ERROR, 106},
        {OFFREC_RESULT_MESSAGE_TOO_LARGE, 107},
        {OFFREC_RESULT_UNKNOWN_PEER, 108},
        {OFFREC_RESULT_QUEUE_FULL, 109},
        {OFFREC_RESULT_SMP_RATE_LIMITED, 110},
        {OFFREC_RESULT_SMP_ERROR, 111},
        {OFFREC_RESULT_INVALID_POLICY, 112},
        {OFFREC_RESULT_NOT_A_DATA_MESSAGE, 113},
        {OFFREC_RESULT_NO_MATCHING_REVEAL, 114},
        {OFFREC_RESULT_TEXT_DOES_NOT_FIT, 115},
        {OFFREC_RESULT_STORE_NOT_FOUND, 116},
        {OFFREC_RESULT_STORE_WRONG_KEY, 117},
        {OFFREC_RESULT_STORE_CORRUPTED, 118},
        {OFFREC_RESULT_STORE_UNSUPPORTED_VERSION, 119},
        {OFFREC_RESULT_STORE_WRONG_ACCOUNT, 121},
        {OFFREC_RESULT_STORE_NOT_A_FILE, 122},
        {OFFREC_RESULT_NO_OTR_KEY, 123},
    };
    static const uint32_t unknown[] = {8, 99, 120, 124, 1000, UINT32_MAX};
    const char *unknown_message = offrec_result_message(UINT32_MAX);
    size_t i, j;

    CHECK(sizeof(offrec_result) == sizeof(uint32_t));
    CHECK(unknown_message != NULL && strcmp(unknown_message, "unknown result code") == 0);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_OK), "success") == 0);

    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        const char *m = offrec_result_message(known[i].code);
        CHECK(known[i].code == known[i].number);
        CHECK(m != NULL && m[0] != '\0');
        CHECK(m != NULL && strcmp(m, unknown_message) != 0);
        for (j = 0; j < i; j++) {
            CHECK(strcmp(m, offrec_result_message(known[j].code)) != 0);
        }
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *m = offrec_result_message(unknown[i]);
        CHECK(m != NULL && strcmp(m, "unknown result code") == 0);
    }
}

static void test_buffer_free(void) {
    offrec_buffer empty = {NULL, 0};

    offrec_buffer_free(NULL); /* NULL: no-op */
    offrec_buffer_free(&empty); /* empty: no-op */
    offrec_buffer_free(&empty); /* and again */
    CHECK(empty.data == NULL && empty.len == 0);
}

int main(void) {
    test_version();
    test_result_codes();
    test_buffer_free();
    printf("test_basics: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
