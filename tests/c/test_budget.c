/*
 * Issue #13 item 3 through the C API, with the max_message_size callback set (as most apps do):
 * (a) a flood of incomplete fragments from 1,000 names x 64 sender tags, each claiming 512
 *     pieces, grows the process by at most about the unauthenticated-input budget (4 MiB by
 *     default; it grew by ~760 MiB before the budget), and what does not fit is reported with
 *     OFFREC_EVENT_CODE_INPUT_DROPPED;
 * (b) 100 strangers are forgotten: the callback's answers are not stored on them, so a tick
 *     afterwards asks the callback about no peer at all;
 * (c) a save taken while strangers still hold fragments contains none of them: the sealed
 *     bytes are as long as a fresh client's, and the reloaded client knows no peer;
 * plus the new option's range checks. Prints "test_budget: N passed, N failed".
 */
#include "harness.h"

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
/* ASan keeps freed blocks in a quarantine (256 MiB by default), which would count as growth. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=4"; }
#endif

struct counters {
    long sends;
    long dropped_events;
    long size_questions;
};

static void b_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    struct counters *c = ud;
    (void)peer;
    (void)peer_len;
    (void)text;
    (void)len;
    c->sends++;
}

static void b_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text,
                      size_t len, offrec_security security) {
    (void)ud;
    (void)peer;
    (void)peer_len;
    (void)instance;
    (void)text;
    (void)len;
    (void)security;
}

static void b_event(void *ud, const offrec_event *e) {
    struct counters *c = ud;
    if (e->code == OFFREC_EVENT_CODE_INPUT_DROPPED) {
        c->dropped_events++;
    }
}

static size_t b_size(void *ud, const char *peer, size_t peer_len) {
    struct counters *c = ud;
    (void)peer;
    (void)peer_len;
    c->size_questions++;
    return 1400;
}

static uint64_t b_now(void *ud) {
    (void)ud;
    return 1000000;
}

static offrec_callbacks budget_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = b_send;
    cb.deliver = b_deliver;
    cb.event = b_event;
    cb.max_message_size = b_size;
    cb.now = b_now;
    return cb;
}

static offrec_client *new_client(struct counters *c) {
    offrec_callbacks cb = budget_callbacks();
    offrec_client *client = NULL;
    CHECK_RC(offrec_client_new(S("us"), S("testnet"), OFFREC_POLICY_MANUAL, &cb, c, &client), OFFREC_RESULT_OK);
    return client;
}

static long resident_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
        resident = -1;
    }
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Valgrind preloads its own libraries into the program it runs. */
static int under_valgrind(void) {
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

/* One 43-byte incomplete fragment claiming the most pieces there can be. */
static size_t claiming_fragment(char *out, size_t cap, unsigned id, unsigned sender) {
    int n = snprintf(out, cap, "?OFR|%08x|%08x|00000000,1,512,?OFR:,", id, sender);
    return n > 0 ? (size_t)n : 0;
}

static void receive(offrec_client *client, const char *peer, const char *text, size_t len) {
    offrec_result rc = offrec_client_receive(client, peer, strlen(peer), text, len);
    if (rc != OFFREC_RESULT_OK) {
        CHECK_RC(rc, OFFREC_RESULT_OK);
    }
}

static void test_fragment_flood_rss_is_bounded(void) {
    struct counters c = {0, 0, 0};
    offrec_client *client = new_client(&c);
    char peer[32], text[96];
    unsigned name, i;
    long before, after, bound;
    /* Warm up the allocator and the library's code paths before measuring. */
    receive(client, "warmup", text, claiming_fragment(text, sizeof text, 1, 0x100));
    before = resident_bytes();
    for (name = 0; name < 1000; name++) {
        snprintf(peer, sizeof peer, "stranger%u", name);
        for (i = 0; i < 64; i++) {
            receive(client, peer, text, claiming_fragment(text, sizeof text, i, 0x10000 + name * 64 + i));
        }
    }
    after = resident_bytes();
    CHECK(before > 0 && after > 0);
    /* The budget is 4 MiB; with allocator overhead 64 MiB is generous. Valgrind's own
     * bookkeeping (shadow memory, its queue of freed blocks) grows with every allocation, so it
     * gets more room; both bounds are far below the ~760 MiB the flood took before. */
    bound = under_valgrind() ? 256L * 1024 * 1024 : 64L * 1024 * 1024;
    CHECK(after - before < bound);
    if (getenv("TEST_BUDGET_VERBOSE") != NULL || after - before >= bound) {
        fprintf(stderr, "RSS grew by %ld bytes (bound %ld)\n", after - before, bound);
    }
    CHECK(c.dropped_events > 0);
    CHECK(c.sends == 0);
    offrec_client_free(client);
}

static void test_strangers_are_forgotten_with_the_callback_set(void) {
    struct counters c = {0, 0, 0};
    offrec_client *client = new_client(&c);
    char peer[32];
    unsigned i;
    for (i = 0; i < 100; i++) {
        snprintf(peer, sizeof peer, "stranger%u", i);
        receive(client, peer, S("hello from a stranger"));
    }
    CHECK(c.size_questions == 100); /* one question per receive call */
    c.size_questions = 0;
    CHECK_RC(offrec_client_tick(client), OFFREC_RESULT_OK);
    CHECK(c.size_questions == 0); /* a tick asks about every known peer: there is none */
    offrec_client_free(client);
}

static void test_saves_contain_no_strangers(void) {
    static const uint8_t key[32] = {7};
    struct counters c = {0, 0, 0};
    offrec_client *client = new_client(&c);
    offrec_client *restored = NULL;
    offrec_callbacks cb = budget_callbacks();
    offrec_buffer fresh = {NULL, 0}, flooded = {NULL, 0};
    char peer[32], text[96];
    unsigned i;
    CHECK_RC(offrec_client_save(client, key, NULL, 0, &fresh), OFFREC_RESULT_OK);
    /* Strangers that still hold an incomplete message when the save happens. */
    for (i = 0; i < 20; i++) {
        snprintf(peer, sizeof peer, "stranger%u", i);
        receive(client, peer, text, claiming_fragment(text, sizeof text, 1, 0x1000 + i));
    }
    c.size_questions = 0;
    CHECK_RC(offrec_client_tick(client), OFFREC_RESULT_OK);
    CHECK(c.size_questions == 20); /* still held in memory until their fragments expire */
    CHECK_RC(offrec_client_save(client, key, NULL, 0, &flooded), OFFREC_RESULT_OK);
    CHECK(flooded.len == fresh.len);
    CHECK_RC(offrec_client_load(flooded.data, flooded.len, S("us"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, &c, &restored),
             OFFREC_RESULT_OK);
    c.size_questions = 0;
    CHECK_RC(offrec_client_tick(restored), OFFREC_RESULT_OK);
    CHECK(c.size_questions == 0); /* the reloaded client knows no peer */
    offrec_buffer_free(&fresh);
    offrec_buffer_free(&flooded);
    offrec_client_free(restored);
    offrec_client_free(client);
}

static void test_budget_option(void) {
    struct counters c = {0, 0, 0};
    offrec_client *client = new_client(&c);
    char text[96];
    CHECK_RC(offrec_client_set_option(client, OFFREC_OPTION_UNAUTHENTICATED_BUDGET, 0), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_max_message_size(client, S("bob"), 0), OFFREC_RESULT_OK); /* not a stranger */
    receive(client, "bob", text, claiming_fragment(text, sizeof text, 1, 0x1000));
    CHECK(c.dropped_events == 1); /* a zero budget keeps no fragment, even from a known peer */
    CHECK_RC(offrec_client_set_option(client, OFFREC_OPTION_UNAUTHENTICATED_BUDGET, 1u << 20), OFFREC_RESULT_OK);
    receive(client, "bob", text, claiming_fragment(text, sizeof text, 2, 0x1000));
    CHECK(c.dropped_events == 1);
    CHECK_RC(offrec_client_set_option(client, 8, 1), OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    offrec_client_free(client);
}

int main(void) {
    test_budget_option();
    test_strangers_are_forgotten_with_the_callback_set();
    test_saves_contain_no_strangers();
    test_fragment_flood_rss_is_bounded();
    printf("test_budget: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
