/*
 * Shared C test harness: CHECK macros, and an in-memory network of offrec clients ("parties")
 * whose send callbacks append to one mutex-protected FIFO that the test pumps into
 * offrec_client_receive. Each party records what it was delivered, its states and its events.
 */
#ifndef OFFREC_TEST_HARNESS_H
#define OFFREC_TEST_HARNESS_H

#include "offrec.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

#define CHECK_RC(expr, want)                                                                    \
    do {                                                                                        \
        offrec_result rc_ = (expr);                                                             \
        if (rc_ == (offrec_result)(want)) {                                                     \
            passed++;                                                                           \
        } else {                                                                                \
            failed++;                                                                           \
            fprintf(stderr, "%s:%d: %s returned %u (%s), wanted %u\n", __FILE__, __LINE__, #expr, \
                    (unsigned)rc_, offrec_result_message(rc_), (unsigned)(want));               \
        }                                                                                       \
    } while (0)

#define S(lit) (lit), (sizeof(lit) - 1) /* a string literal as (ptr, len) */

enum { MAX_LOG = 64, MAX_TEXT = 512, MAX_PARTIES = 8 };

struct wire_msg {
    struct wire_msg *next;
    int from, to;
    size_t len;
    char text[]; /* NUL-terminated */
};

struct party {
    int index;
    char name[32];
    offrec_client *client;
    pthread_mutex_t lock; /* guards everything below */
    int delivered_count;
    char delivered[MAX_LOG][MAX_TEXT];
    uint32_t delivered_security[MAX_LOG];
    int event_count;
    uint32_t events[4096];
    uint32_t event_reasons[4096]; /* the `reason` of each event in `events` */
    int persist_events; /* PERSIST_NEEDED, counted apart: one comes with most changes (once until saved) */
    char smp_question[MAX_TEXT];
    uint8_t extra_key[32];
    uint32_t extra_usage;
    char extra_context[64];
    uint32_t last_state;
    int state_changes;
    size_t max_sent_len;
    size_t size_limit; /* answered by the max_message_size callback */
    /* optional re-entrant behaviour, run inside deliver */
    void (*on_deliver)(struct party *self, const char *peer, size_t peer_len, const uint8_t *text,
                       size_t len);
    /* every wire text this party sent, for forging tests */
    int sent_count;
    char *sent[MAX_LOG];
};

static struct party *parties[MAX_PARTIES];
static int party_count;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wire_msg *queue_head, *queue_tail;
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t test_clock = 1000000;

/* A whole file as a NUL-terminated string (the frozen vectors; paths from the repository root).
 * Exits naming the file if it cannot be read. */
static inline char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *data;
    long n;
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        exit(1);
    }
    data[n] = '\0';
    fclose(f);
    return data;
}

static inline uint64_t clock_now(void) {
    uint64_t t;
    pthread_mutex_lock(&clock_lock);
    t = test_clock;
    pthread_mutex_unlock(&clock_lock);
    return t;
}

static inline void clock_advance(uint64_t s) {
    pthread_mutex_lock(&clock_lock);
    test_clock += s;
    pthread_mutex_unlock(&clock_lock);
}

static inline int party_by_name(const char *name, size_t len) {
    int i;
    for (i = 0; i < party_count; i++) {
        if (strlen(parties[i]->name) == len && memcmp(parties[i]->name, name, len) == 0) {
            return i;
        }
    }
    return -1;
}

static inline void cb_send(void *ud, const char *peer, size_t peer_len, const char *text,
                           size_t len) {
    struct party *p = ud;
    struct wire_msg *m;
    int to = party_by_name(peer, peer_len);
    if (peer[peer_len] != '\0' || text[len] != '\0') {
        failed++;
        fprintf(stderr, "send callback: strings not NUL-terminated\n");
    }
    pthread_mutex_lock(&p->lock);
    if (len > p->max_sent_len) {
        p->max_sent_len = len;
    }
    if (p->sent_count < MAX_LOG) {
        p->sent[p->sent_count] = malloc(len + 1);
        if (p->sent[p->sent_count] != NULL) {
            memcpy(p->sent[p->sent_count], text, len + 1);
            p->sent_count++;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (to < 0) {
        return; /* to nobody we know: dropped */
    }
    m = malloc(sizeof *m + len + 1);
    if (m == NULL) {
        abort();
    }
    m->next = NULL;
    m->from = p->index;
    m->to = to;
    m->len = len;
    memcpy(m->text, text, len + 1);
    pthread_mutex_lock(&queue_lock);
    if (queue_tail != NULL) {
        queue_tail->next = m;
    } else {
        queue_head = m;
    }
    queue_tail = m;
    pthread_mutex_unlock(&queue_lock);
}

static inline void cb_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                              const uint8_t *text, size_t len, offrec_security security) {
    struct party *p = ud;
    (void)instance;
    if (text[len] != '\0') {
        failed++;
    }
    pthread_mutex_lock(&p->lock);
    if (p->delivered_count < MAX_LOG) {
        size_t n = len < MAX_TEXT - 1 ? len : MAX_TEXT - 1;
        memcpy(p->delivered[p->delivered_count], text, n);
        p->delivered[p->delivered_count][n] = '\0';
        p->delivered_security[p->delivered_count] = security;
        p->delivered_count++;
    }
    pthread_mutex_unlock(&p->lock);
    if (p->on_deliver != NULL) {
        p->on_deliver(p, peer, peer_len, text, len);
    }
}

static inline void cb_state(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                            offrec_session_state state) {
    struct party *p = ud;
    (void)peer;
    (void)peer_len;
    (void)instance;
    pthread_mutex_lock(&p->lock);
    p->last_state = state;
    p->state_changes++;
    pthread_mutex_unlock(&p->lock);
}

static inline void cb_event(void *ud, const offrec_event *e) {
    struct party *p = ud;
    if (e->peer == NULL || e->peer[e->peer_len] != '\0') {
        failed++;
    }
    pthread_mutex_lock(&p->lock);
    if (e->code == OFFREC_EVENT_CODE_PERSIST_NEEDED) {
        p->persist_events++;
    } else if (p->event_count < (int)(sizeof p->events / sizeof p->events[0])) {
        p->event_reasons[p->event_count] = e->reason;
        p->events[p->event_count++] = e->code;
    } else {
        failed++; /* a test that needs more must say so, not lose events silently */
    }
    if (e->code == OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) {
        if (e->text != NULL) {
            size_t n = e->text_len < MAX_TEXT - 1 ? e->text_len : MAX_TEXT - 1;
            memcpy(p->smp_question, e->text, n);
            p->smp_question[n] = '\0';
        } else {
            p->smp_question[0] = '\0';
        }
    }
    if (e->code == OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED && e->key != NULL) {
        size_t n = e->context_len < sizeof p->extra_context - 1 ? e->context_len
                                                                : sizeof p->extra_context - 1;
        memcpy(p->extra_key, e->key, 32);
        p->extra_usage = e->usage;
        if (n > 0) {
            memcpy(p->extra_context, e->context, n);
        }
        p->extra_context[n] = '\0';
    }
    pthread_mutex_unlock(&p->lock);
}

static inline size_t cb_max_size(void *ud, const char *peer, size_t peer_len) {
    struct party *p = ud;
    (void)peer;
    (void)peer_len;
    return p->size_limit;
}

static inline uint64_t cb_now(void *ud) {
    (void)ud;
    return clock_now();
}

static inline int party_has_event(struct party *p, uint32_t code) {
    int i, found = 0;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->event_count; i++) {
        if (p->events[i] == code) {
            found = 1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return found;
}

/* The reason of the party's last event with `code` into *reason; 0 if it had none. */
static inline int party_event_reason(struct party *p, uint32_t code, uint32_t *reason) {
    int i, found = 0;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->event_count; i++) {
        if (p->events[i] == code) {
            *reason = p->event_reasons[i];
            found = 1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return found;
}

static inline struct party *party_new(const char *name, uint32_t policy, int with_size_cb) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb;
    offrec_result rc;
    if (p == NULL || party_count >= MAX_PARTIES) {
        abort();
    }
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = cb_event;
    cb.now = cb_now;
    if (with_size_cb) {
        cb.max_message_size = cb_max_size;
    }
    p->index = party_count;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    rc = offrec_client_new(p->name, strlen(p->name), S("testnet"), policy, &cb, p, &p->client);
    if (rc != OFFREC_RESULT_OK) {
        fprintf(stderr, "offrec_client_new(%s): %s\n", name, offrec_result_message(rc));
        abort();
    }
    parties[party_count++] = p;
    return p;
}

/* Gives the party a fixed OTR DSA key, its own by index (account "party<index>" of
 * tests/c/fixtures/otr-keys.private_key), through the public import call. The OTR-heavy tests
 * use it because generating a DSA-1024 key is a prime search that dominated their run time
 * under valgrind (about 5 s a key there). Generation itself keeps its tests: test_otr's
 * explicit one and its lazy one (inside the first OTR handshake), test_migrate's and
 * test_downgrade's new device. Run from the repository root, as make test does. */
static inline void party_use_fixture_otr_key(struct party *p) {
    static const char path[] = "tests/c/fixtures/otr-keys.private_key";
    char account[16];
    offrec_result rc;
    snprintf(account, sizeof account, "party%d", p->index);
    rc = offrec_client_import_otr_key(p->client, path, strlen(path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                      account, strlen(account), S("offrec-tests"), false, NULL);
    if (rc != OFFREC_RESULT_OK) {
        fprintf(stderr, "importing %s's fixture OTR key: %s\n", p->name, offrec_result_message(rc));
        abort();
    }
}

static inline void party_free_all(void) {
    int i, j;
    struct wire_msg *m;
    for (i = 0; i < party_count; i++) {
        offrec_client_free(parties[i]->client);
        for (j = 0; j < parties[i]->sent_count; j++) {
            free(parties[i]->sent[j]);
        }
        pthread_mutex_destroy(&parties[i]->lock);
        free(parties[i]);
    }
    party_count = 0;
    while ((m = queue_head) != NULL) {
        queue_head = m->next;
        free(m);
    }
    queue_tail = NULL;
}

/* Takes the oldest message in flight off the queue (NULL if none); the caller frees it. */
static inline struct wire_msg *queue_pop(void) {
    struct wire_msg *m;
    pthread_mutex_lock(&queue_lock);
    m = queue_head;
    if (m != NULL) {
        queue_head = m->next;
        if (queue_head == NULL) {
            queue_tail = NULL;
        }
    }
    pthread_mutex_unlock(&queue_lock);
    return m;
}

/* Pops one message and hands it to its receiver; returns 0 when the queue was empty. */
static inline int pump_one(void) {
    struct wire_msg *m = queue_pop();
    offrec_result rc;
    if (m == NULL) {
        return 0;
    }
    rc = offrec_client_receive(parties[m->to]->client, parties[m->from]->name,
                               strlen(parties[m->from]->name), m->text, m->len);
    if (rc != OFFREC_RESULT_OK) {
        failed++;
        fprintf(stderr, "receive: %s\n", offrec_result_message(rc));
    }
    free(m);
    return 1;
}

/* Delivers everything, including what delivering produces. */
static inline void pump_all(void) {
    while (pump_one()) {
    }
}

/* Drops everything queued (a lossy network). */
static inline void drop_all(void) {
    struct wire_msg *m;
    pthread_mutex_lock(&queue_lock);
    while ((m = queue_head) != NULL) {
        queue_head = m->next;
        free(m);
    }
    queue_tail = NULL;
    pthread_mutex_unlock(&queue_lock);
}

static inline offrec_session_state state_of(struct party *p, struct party *peer) {
    offrec_session_state s = 99;
    offrec_client_session_state(p->client, peer->name, strlen(peer->name), &s);
    return s;
}

/* Saves `p` to bytes and drops them, as an app that saves on a PERSIST_NEEDED notice would:
 * PERSIST_NEEDED is reported once until saved, so the next change is reported again. */
static inline void save_now(struct party *p) {
    uint8_t key[32];
    offrec_buffer sealed = {NULL, 0};
    memset(key, 7, sizeof key);
    CHECK_RC(offrec_client_save(p->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    offrec_buffer_free(&sealed);
}

#endif /* OFFREC_TEST_HARNESS_H */
