/*
 * One client ("hub") shared by 8 threads, talking to 4 peers at once. Every thread sends its
 * messages from the hub and pumps the shared (thread-safe) network queue; each peer echoes
 * every message back from inside its deliver callback (re-entrant send). Checks that every
 * message and every echo arrives exactly once (sends to one peer in wire order: see
 * peer_link). Prints "test_threads: N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <time.h>

enum { THREADS = 8, PEERS = 4, PER_THREAD = 40 };

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static int at_peer[THREADS][PER_THREAD];
static int at_hub[THREADS][PER_THREAD];
static int echoes_total;
static int bad_texts;

static void record(int (*table)[PER_THREAD], const uint8_t *text, size_t len, int is_echo) {
    char buf[64];
    int t = -1, k = -1;
    if (len >= sizeof buf) {
        bad_texts++;
        return;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (sscanf(buf, "m %d %d", &t, &k) != 2 || t < 0 || t >= THREADS || k < 0 || k >= PER_THREAD) {
        pthread_mutex_lock(&count_lock);
        bad_texts++;
        pthread_mutex_unlock(&count_lock);
        return;
    }
    pthread_mutex_lock(&count_lock);
    table[t][k]++;
    if (is_echo) {
        echoes_total++;
    }
    pthread_mutex_unlock(&count_lock);
}

static void peer_echoes(struct party *self, const char *peer, size_t peer_len, const uint8_t *text,
                        size_t len) {
    uint64_t id;
    record(at_peer, text, len, 0);
    if (offrec_client_send(self->client, peer, peer_len, (const char *)text, len, &id) !=
        OFFREC_RESULT_OK) {
        pthread_mutex_lock(&count_lock);
        bad_texts++;
        pthread_mutex_unlock(&count_lock);
    }
}

static void hub_counts(struct party *self, const char *peer, size_t peer_len, const uint8_t *text,
                       size_t len) {
    (void)self;
    (void)peer;
    (void)peer_len;
    record(at_hub, text, len, 1);
}

static struct party *hub;
static struct party *peers[PEERS];

static int done(void) {
    int d;
    pthread_mutex_lock(&count_lock);
    d = echoes_total >= THREADS * PER_THREAD;
    pthread_mutex_unlock(&count_lock);
    return d;
}

/* The network delivers in the order the library handed messages to `send`: popping and
 * receiving happen under one lock, like a single ordered transport. (The peers' echoes are
 * sent re-entrantly from their deliver callbacks, under that lock.) */
static pthread_mutex_t transport_lock = PTHREAD_MUTEX_INITIALIZER;

/* One link per peer, held around the hub's send to that peer: callbacks run after the client's
 * lock is released, so two threads sending to one peer can reach `send` in the other order
 * from the one they were encrypted in; a thread descheduled in between can then arrive more
 * ratchet steps late than a skipped key is kept (the header's callback rules), and the message
 * is rightly unreadable. An application that needs wire order serialises its sends to a peer
 * the same way. The hub still sends to four peers at once, receives and answers queries
 * concurrently on 8 threads. */
static pthread_mutex_t peer_link[PEERS] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                           PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

static int ordered_pump(void) {
    int r;
    pthread_mutex_lock(&transport_lock);
    r = pump_one();
    pthread_mutex_unlock(&transport_lock);
    return r;
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    int k;
    char text[64];
    uint64_t id;
    time_t start = time(NULL);
    for (k = 0; k < PER_THREAD; k++) {
        int p = (t + k) % PEERS;
        struct party *to = peers[p];
        int n = snprintf(text, sizeof text, "m %d %d", t, k);
        offrec_session_state st;
        offrec_result rc;
        pthread_mutex_lock(&peer_link[p]);
        rc = offrec_client_send(hub->client, to->name, strlen(to->name), text, (size_t)n, &id);
        pthread_mutex_unlock(&peer_link[p]);
        if (rc != OFFREC_RESULT_OK) {
            pthread_mutex_lock(&count_lock);
            bad_texts++;
            pthread_mutex_unlock(&count_lock);
        }
        /* queries interleaved with the traffic */
        offrec_client_session_state(hub->client, to->name, strlen(to->name), &st);
        ordered_pump();
        ordered_pump();
    }
    while (!done() && time(NULL) - start < 20) {
        if (!ordered_pump()) {
            struct timespec ms = {0, 1000000};
            offrec_client_tick(hub->client);
            nanosleep(&ms, NULL);
        }
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    int i, t, k, missing = 0, duplicated = 0;
    char name[16];

    hub = party_new("hub", OFFREC_POLICY_MANUAL, 0);
    hub->on_deliver = hub_counts;
    for (i = 0; i < PEERS; i++) {
        snprintf(name, sizeof name, "peer%d", i);
        peers[i] = party_new(name, OFFREC_POLICY_MANUAL, 0);
        CHECK_RC(offrec_client_start_session(hub->client, name, strlen(name)), OFFREC_RESULT_OK);
    }
    pump_all();
    for (i = 0; i < PEERS; i++) {
        CHECK(state_of(hub, peers[i]) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
        peers[i]->on_deliver = peer_echoes;
    }

    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    pump_all();

    for (t = 0; t < THREADS; t++) {
        for (k = 0; k < PER_THREAD; k++) {
            missing += at_peer[t][k] == 0 || at_hub[t][k] == 0;
            duplicated += at_peer[t][k] > 1 || at_hub[t][k] > 1;
        }
    }
    CHECK(missing == 0);
    CHECK(duplicated == 0);
    CHECK(bad_texts == 0);
    CHECK(echoes_total == THREADS * PER_THREAD);
    if (missing || duplicated || bad_texts) {
        fprintf(stderr, "missing %d, duplicated %d, bad %d, echoes %d\n", missing, duplicated,
                bad_texts, echoes_total);
    }
    for (i = 0; i < PEERS; i++) {
        CHECK(party_has_event(peers[i], OFFREC_EVENT_CODE_UNREADABLE) == 0);
    }
    party_free_all();
    printf("test_threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
