/*
 * Issue #13 item 5 through the C API: ending a session publishes the forgery material of every
 * key it still holds, in several messages when one cannot carry them all (255 at most), and
 * also when the peer ended first. Checked with offrec_forge, as a transcript reader would.
 * Prints "test_reveals: N passed, N failed"; exits non-zero on failure.
 */
#include "harness.h"

enum { SENT = 300 };

/* A copy of the newest message in flight (strdup is not C11). */
static char *queued_tail_copy(void) {
    char *copy = NULL;
    pthread_mutex_lock(&queue_lock);
    if (queue_tail != NULL) {
        copy = malloc(queue_tail->len + 1);
        if (copy != NULL) {
            memcpy(copy, queue_tail->text, queue_tail->len + 1);
        }
    }
    pthread_mutex_unlock(&queue_lock);
    return copy;
}

/* Drops the oldest message in flight (a lossy network). */
static void drop_one(void) {
    struct wire_msg *m = queue_pop();
    free(m);
}

/* Whether `captured` (known to say `known`) can be forged from the wire texts `later`. */
static int forgeable(const char *captured, char *const *later, int later_count, const char *known) {
    const char *texts[8];
    size_t lens[8];
    offrec_buffer out = {NULL, 0};
    offrec_result rc;
    int i;
    for (i = 0; i < later_count && i < 8; i++) {
        texts[i] = later[i];
        lens[i] = strlen(later[i]);
    }
    rc = offrec_forge(captured, strlen(captured), texts, lens, (size_t)i, (const uint8_t *)known, strlen(known),
                      (const uint8_t *)"forged", 6, &out);
    offrec_buffer_free(&out);
    return rc == OFFREC_RESULT_OK;
}

static void start(struct party *a, struct party *b) {
    CHECK_RC(offrec_client_start_session(a->client, b->name, strlen(b->name)), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
}

static void test_every_skipped_key_is_revealed_at_the_end(struct party *alice, struct party *bob) {
    static char *captured[SENT];
    static const int samples[] = {0, 100, 253, 254, 255, 298, 299};
    char text[32];
    uint64_t id;
    int i, before;
    start(alice, bob);
    for (i = 0; i < SENT; i++) {
        snprintf(text, sizeof text, "message %03d", i);
        CHECK_RC(offrec_client_send(alice->client, S("bob"), text, strlen(text), &id), OFFREC_RESULT_OK);
        captured[i] = queued_tail_copy();
    }
    drop_all();
    /* Only the last arrives: bob stores the 299 keys skipped before it. */
    CHECK_RC(offrec_client_receive(bob->client, S("alice"), captured[SENT - 1], strlen(captured[SENT - 1])),
             OFFREC_RESULT_OK);
    before = bob->sent_count;
    CHECK_RC(offrec_client_end_session(bob->client, S("alice"), 0), OFFREC_RESULT_OK);
    CHECK(bob->sent_count - before == 2); /* 300 reveals: two messages */
    for (i = 0; i < (int)(sizeof samples / sizeof samples[0]); i++) {
        snprintf(text, sizeof text, "message %03d", samples[i]);
        CHECK(forgeable(captured[samples[i]], bob->sent + before, bob->sent_count - before, text));
    }
    pump_all(); /* alice reads the goodbye */
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_PEER_ENDED_SESSION));
    CHECK(!party_has_event(alice, OFFREC_EVENT_CODE_UNREADABLE));
    for (i = 0; i < SENT; i++) {
        free(captured[i]);
    }
    CHECK_RC(offrec_client_end_session(alice->client, S("bob"), 0), OFFREC_RESULT_OK);
    drop_all();
}

static void test_reveals_go_out_when_the_peer_ended_first(struct party *alice, struct party *bob) {
    char *first;
    uint64_t id;
    int before;
    start(alice, bob);
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("first"), &id), OFFREC_RESULT_OK);
    first = queued_tail_copy();
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("second"), &id), OFFREC_RESULT_OK);
    drop_one(); /* "first" is lost */
    pump_all();
    CHECK_RC(offrec_client_end_session(alice->client, S("bob"), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(bob, alice) == OFFREC_SESSION_STATE_FINISHED);
    before = bob->sent_count;
    CHECK_RC(offrec_client_end_session(bob->client, S("alice"), 0), OFFREC_RESULT_OK);
    CHECK(bob->sent_count > before);
    CHECK(first != NULL && forgeable(first, bob->sent + before, bob->sent_count - before, "first"));
    free(first);
    drop_all();
}

int main(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 1);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 1);
    test_every_skipped_key_is_revealed_at_the_end(alice, bob);
    test_reveals_go_out_when_the_peer_ended_first(alice, bob);
    party_free_all();
    printf("test_reveals: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
