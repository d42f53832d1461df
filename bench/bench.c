/*
 * offrec vs libotr 4.1.1, the same scenarios in one process, alternating per run, medians.
 *
 *   bench [--runs N] [--ake N] [--conv N] [--burst N] [--frag N] [--smp N]
 *         [--mem N] [--big N] [--otr-big N] [--json PATH] [--only-offrec]
 *         [--no-otr | --only-otr] [--capi W]
 *
 * Two tables: offrec's own protocol against libotr (offrec<->offrec vs libotr<->libotr), every
 * scenario timed in thread CPU time (the value and the ratio that counts) and wall time, the
 * one-way bursts split into a steady per-message cost and a fixed per-burst cost by a line
 * fitted over bursts of n/4, n/2 and n messages; and the OTR v3 rows: offrec speaking OTR v3 with libotr (offrec<->libotr) against libotr<->libotr,
 * each side's own cost timed in thread CPU time and wall time (--ake, --burst and --smp set
 * their counts too; with --only-otr a count of 0 skips that OTR scenario, for profiling).
 * --no-otr skips the OTR rows, --only-otr everything else; --only-offrec skips libotr's pairs.
 *
 * Every decrypted plaintext is compared with what was sent; any mismatch, unexpected event or
 * error code aborts with exit status 1. See BENCHMARKS.md for what each scenario measures.
 * The last stdout line starting with "CAPI " is for the bindings benches (bench/bindings.md).
 * --capi W measures only that line, the way the bindings' benches measure theirs: per run one
 * untimed warm-up burst of --burst messages at each size, then W timed bursts at each size
 * (100 B and 4 KiB alternating, a fresh pair each), rate = messages / summed time; the clients
 * without a `now` callback (the library's own clock, as the bindings' clients have it).
 */
#define _GNU_SOURCE
#include "offrec.h"

#include <gcrypt.h>
/* libotr's headers are not self-contained: this order works */
#include <libotr/proto.h>
#include <libotr/tlv.h>
#include <libotr/userstate.h>
#include <libotr/context.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/message.h>

#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S(lit) (lit), (sizeof(lit) - 1)

/* offrec's MANUAL preset: allow, plus the OTR fallback as libotr's presets have it. */
#define BENCH_POLICY_MANUAL OFFREC_POLICY_MANUAL

/* ---------------------------------------------------------------------------------------- */
/* options, clock, failure                                                                   */

static struct {
    int runs, ake, conv, burst, frag, smp, mem, big, otr_big, only_offrec, otr_rows, modern_rows, capi;
    const char *json;
} opt = {5, 60, 1000, 5000, 2000, 10, 10000, 100000, 0, 0, 1, 1, 0, "bench/results.json"};

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: what the code itself cost, without the time other jobs on a shared
 * machine took the core away (the wall clock counts that too). */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------------------------- */
/* the in-memory transport shared by both libraries: one FIFO of wire texts                  */

struct msg {
    struct msg *next;
    int to;
    char from[24];
    size_t len;
    char text[];
};

static struct msg *q_head, *q_tail;
static size_t wire_bytes, wire_msgs, wire_max; /* counted at enqueue */

static void enqueue(int to, const char *from, const char *text, size_t len) {
    size_t from_len;
    struct msg *m = malloc(sizeof *m + len + 1);
    if (m == NULL) {
        die("out of memory");
    }
    m->next = NULL;
    m->to = to;
    from_len = strnlen(from, sizeof m->from - 1);
    memcpy(m->from, from, from_len);
    m->from[from_len] = '\0';
    m->len = len;
    memcpy(m->text, text, len);
    m->text[len] = '\0';
    if (q_tail) {
        q_tail->next = m;
    } else {
        q_head = m;
    }
    q_tail = m;
    wire_bytes += len;
    wire_msgs++;
    if (len > wire_max) {
        wire_max = len;
    }
}

static struct msg *dequeue(void) {
    struct msg *m = q_head;
    if (m) {
        q_head = m->next;
        if (!q_head) {
            q_tail = NULL;
        }
    }
    return m;
}

/* ---------------------------------------------------------------------------------------- */
/* plaintexts: message i of size n is an 8-digit sequence number then a fixed letter pattern */

static char pattern[8192];
static char sendbuf[8192];

/* seq % 10^8 as 8 decimal digits ("%08u"). Not printf: the harness runs inside both libraries'
 * timed loops, so its own cost dilutes every ratio (printf was ~0.03 µs per call here). */
static void seq_digits(unsigned seq, char out[8]) {
    unsigned v = seq % 100000000u;
    int i;
    for (i = 7; i >= 0; i--) {
        out[i] = (char)('0' + v % 10u);
        v /= 10u;
    }
}

static const char *make_msg(unsigned seq, size_t n) {
    memcpy(sendbuf, pattern, n);
    seq_digits(seq, sendbuf);
    sendbuf[n] = '\0';
    return sendbuf;
}

/* per receiving side: what the next delivered message must be */
struct expect {
    unsigned next_seq;
    size_t size;
    unsigned delivered;
};
static struct expect expect[2];

static void check_delivery(int who, const char *text, size_t len) {
    struct expect *e = &expect[who];
    char digits[8];
    if (len != e->size) {
        die("side %d: delivered %zu bytes, expected %zu", who, len, e->size);
    }
    seq_digits(e->next_seq, digits);
    if (memcmp(text, digits, 8) != 0 || memcmp(text + 8, pattern + 8, len - 8) != 0) {
        die("side %d: plaintext #%u differs from what was sent", who, e->next_seq);
    }
    e->next_seq++;
    e->delivered++;
}

static void expect_reset(size_t size) {
    memset(expect, 0, sizeof expect);
    expect[0].size = expect[1].size = size;
}

/* ---------------------------------------------------------------------------------------- */
/* offrec side                                                                               */

struct orparty {
    int idx;
    char name[24];
    offrec_client *c;
    int encrypted;
    int smp_asked, smp_ok;
};
static struct orparty orp[2];
static uint64_t or_clock; /* the `now` callback: real start time, advanced past SMP limits */

static void or_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    struct orparty *p = ud;
    (void)peer;
    (void)peer_len;
    enqueue(1 - p->idx, p->name, text, len);
}

static void or_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                       const uint8_t *text, size_t len, offrec_security sec) {
    struct orparty *p = ud;
    (void)peer;
    (void)peer_len;
    (void)instance;
    if (sec == OFFREC_SECURITY_PLAINTEXT) {
        die("offrec: plaintext delivered");
    }
    check_delivery(p->idx, (const char *)text, len);
}

static void or_state(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                     offrec_session_state st) {
    struct orparty *p = ud;
    (void)peer;
    (void)peer_len;
    (void)instance;
    p->encrypted = st == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED ||
                   st == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED;
}

static void or_event(void *ud, const offrec_event *e) {
    struct orparty *p = ud;
    switch (e->code) {
    case OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET:
        p->smp_asked = 1;
        break;
    case OFFREC_EVENT_CODE_SMP_SUCCEEDED:
        p->smp_ok++;
        break;
    case OFFREC_EVENT_CODE_UNREADABLE:
    case OFFREC_EVENT_CODE_MALFORMED:
    case OFFREC_EVENT_CODE_NOT_IN_PRIVATE:
    case OFFREC_EVENT_CODE_HANDSHAKE_FAILED:
    case OFFREC_EVENT_CODE_SMP_FAILED:
    case OFFREC_EVENT_CODE_SMP_ABORTED:
    case OFFREC_EVENT_CODE_SMP_CHEATED:
    case OFFREC_EVENT_CODE_MESSAGE_NOT_SENT:
    case OFFREC_EVENT_CODE_PEER_ERROR:
        die("offrec %s: unexpected event %u", p->name, e->code);
        break;
    default:
        break;
    }
}

static uint64_t or_now(void *ud) {
    (void)ud;
    return or_clock;
}

static void or_check(const char *what, offrec_result rc) {
    if (rc != OFFREC_RESULT_OK) {
        die("offrec %s: %s", what, offrec_result_message(rc));
    }
}

static void or_receive(const struct msg *m) {
    or_check("receive",
             offrec_client_receive(orp[m->to].c, m->from, strlen(m->from), m->text, m->len));
}

static void or_pump(void) {
    struct msg *m;
    while ((m = dequeue()) != NULL) {
        or_receive(m);
        free(m);
    }
}

/* the callbacks every offrec party uses; resets party idx */
static void or_party_init(int idx, const char *name, offrec_callbacks *cb) {
    memset(cb, 0, sizeof *cb);
    cb->send = or_send;
    cb->deliver = or_deliver;
    cb->state_changed = or_state;
    cb->event = or_event;
    /* --capi: the library's own clock, as the bindings' clients use it (a constant callback
     * saves the library's clock reads, ~1.5 % of the 100 B burst, that the bindings pay) */
    cb->now = opt.capi ? NULL : or_now;
    memset(&orp[idx], 0, sizeof orp[idx]);
    orp[idx].idx = idx;
    snprintf(orp[idx].name, sizeof orp[idx].name, "%s", name);
}

static void or_new(int idx, const char *name) {
    offrec_callbacks cb;
    or_party_init(idx, name, &cb);
    or_check("client_new", offrec_client_new(name, strlen(name), S("bench"), BENCH_POLICY_MANUAL,
                                             &cb, &orp[idx], &orp[idx].c));
}

/* An offrec client with an OTR DSA key, sealed once at startup (like libotr's key file, which
 * every libotr party reads): the OTR rows load a fresh client from it for every scenario. */
static offrec_buffer or_otr_store;
static const uint8_t or_otr_store_key[32] = {'b', 'e', 'n', 'c', 'h'}; /* a bench, not a secret */

static void or_make_otr_store(const char *name) {
    double t0 = now_s();
    or_new(0, name);
    or_check("generate_otr_key", offrec_client_generate_otr_key(orp[0].c, NULL));
    or_check("save", offrec_client_save(orp[0].c, or_otr_store_key, NULL, 0, &or_otr_store));
    offrec_client_free(orp[0].c);
    orp[0].c = NULL;
    fprintf(stderr, "setup: offrec client %s with a 1024-bit OTR DSA key in %.2f s (not timed)\n",
            name, now_s() - t0);
}

static void or_load_otr(int idx, const char *name) {
    offrec_callbacks cb;
    or_party_init(idx, name, &cb);
    or_check("load", offrec_client_load(or_otr_store.data, or_otr_store.len, name, strlen(name),
                                        or_otr_store_key, NULL, 0, BENCH_POLICY_MANUAL, &cb,
                                        &orp[idx], &orp[idx].c));
}

/* query -> both encrypted, from whatever state the two are in (each ends its session first) */
static void or_handshake(void) {
    orp[0].encrypted = orp[1].encrypted = 0;
    or_check("start_session",
             offrec_client_start_session(orp[0].c, orp[1].name, strlen(orp[1].name)));
    or_pump();
    if (!orp[0].encrypted || !orp[1].encrypted) {
        die("offrec: handshake did not reach encrypted on both sides");
    }
}

static void or_end_both(void) {
    or_check("end", offrec_client_end_session(orp[0].c, orp[1].name, strlen(orp[1].name), 0));
    or_check("end", offrec_client_end_session(orp[1].c, orp[0].name, strlen(orp[0].name), 0));
    while (q_head) {
        free(dequeue()); /* the peer already ended too: drop the notices */
    }
}

static void or_send_one(int from, unsigned seq, size_t size) {
    uint64_t id;
    const char *t = make_msg(seq, size);
    or_check("send", offrec_client_send(orp[from].c, orp[1 - from].name,
                                        strlen(orp[1 - from].name), t, size, &id));
}

/* ---------------------------------------------------------------------------------------- */
/* libotr side                                                                               */

#define OTR_PROTO "bench"

/* Which library each of the two parties runs: both the same, except in the OTR v3 rows, where
 * an offrec party speaks OTR with a libotr one (the mixed pair). */
enum side_kind { SIDE_LIBOTR = 0, SIDE_OFFREC = 1 };
static enum side_kind side_kind[2];

struct otrparty {
    int idx;
    char account[24];
    char peer[24]; /* the username we talk to */
    OtrlUserState us;
    int encrypted;
    int smp_asked, smp_ok;
    ConnContext *smp_ctx;
};
static struct otrparty otp[2];
static int otr_mms; /* max_message_size answer, 0 = unlimited */
static char keyfile[256], instfile[256];

static OtrlPolicy ot_policy(void *od, ConnContext *c) {
    (void)od;
    (void)c;
    return OTRL_POLICY_MANUAL;
}

static void ot_inject(void *od, const char *acct, const char *proto, const char *recipient,
                      const char *message) {
    struct otrparty *p = od;
    (void)acct;
    (void)proto;
    (void)recipient;
    /* A libotr receiver knows us as its own `peer` (libotr binds no names into its AKE, and the
     * memory scenario renames both ends per session); an offrec receiver by our account. */
    enqueue(1 - p->idx, side_kind[1 - p->idx] == SIDE_OFFREC ? p->account : otp[1 - p->idx].peer,
            message, strlen(message));
}

static void ot_gone_secure(void *od, ConnContext *c) {
    (void)c;
    ((struct otrparty *)od)->encrypted = 1;
}

static void ot_gone_insecure(void *od, ConnContext *c) {
    (void)c;
    ((struct otrparty *)od)->encrypted = 0;
}

static int ot_mms(void *od, ConnContext *c) {
    (void)od;
    (void)c;
    return otr_mms;
}

static void ot_smp(void *od, OtrlSMPEvent ev, ConnContext *c, unsigned short pct, char *q) {
    struct otrparty *p = od;
    (void)pct;
    (void)q;
    switch (ev) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        p->smp_asked = 1;
        p->smp_ctx = c;
        break;
    case OTRL_SMPEVENT_SUCCESS:
        p->smp_ok++;
        break;
    case OTRL_SMPEVENT_IN_PROGRESS:
    case OTRL_SMPEVENT_NONE:
        break;
    default:
        die("libotr %s: SMP event %d", p->account, (int)ev);
    }
}

static void ot_msg_event(void *od, OtrlMessageEvent ev, ConnContext *c, const char *m,
                         gcry_error_t err) {
    struct otrparty *p = od;
    (void)c;
    (void)m;
    switch (ev) {
    case OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD:
    case OTRL_MSGEVENT_LOG_HEARTBEAT_SENT:
    case OTRL_MSGEVENT_NONE:
        break;
    default:
        die("libotr %s: message event %d (%s)", p->account, (int)ev, gcry_strerror(err));
    }
}

static void ot_create_instag(void *od, const char *acct, const char *proto) {
    struct otrparty *p = od;
    if (otrl_instag_generate(p->us, instfile, acct, proto)) {
        die("libotr: instag generate");
    }
}

static OtrlMessageAppOps ot_ops;

static void ot_ops_init(void) {
    memset(&ot_ops, 0, sizeof ot_ops);
    ot_ops.policy = ot_policy;
    ot_ops.inject_message = ot_inject;
    ot_ops.gone_secure = ot_gone_secure;
    ot_ops.gone_insecure = ot_gone_insecure;
    ot_ops.max_message_size = ot_mms;
    ot_ops.handle_smp_event = ot_smp;
    ot_ops.handle_msg_event = ot_msg_event;
    ot_ops.create_instag = ot_create_instag;
}

static void ot_new(int idx, const char *account, const char *peer) {
    struct otrparty *p = &otp[idx];
    memset(p, 0, sizeof *p);
    p->idx = idx;
    snprintf(p->account, sizeof p->account, "%s", account);
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    p->us = otrl_userstate_create();
    if (otrl_privkey_read(p->us, keyfile)) {
        die("libotr: reading %s", keyfile);
    }
    if (otrl_privkey_find(p->us, account, OTR_PROTO) == NULL) {
        die("libotr: no key for %s", account);
    }
    if (otrl_instag_generate(p->us, instfile, account, OTR_PROTO)) {
        die("libotr: instag");
    }
}

static void ot_free(int idx) {
    otrl_userstate_free(otp[idx].us);
    otp[idx].us = NULL;
}

static void ot_receive(const struct msg *m) {
    struct otrparty *p = &otp[m->to];
    char *newmsg = NULL;
    OtrlTLV *tlvs = NULL;
    int ignore = otrl_message_receiving(p->us, &ot_ops, p, p->account, OTR_PROTO, m->from,
                                        m->text, &newmsg, &tlvs, NULL, NULL, NULL);
    if (!ignore) {
        if (newmsg == NULL) {
            die("libotr %s: a message passed through unencrypted", p->account);
        }
        check_delivery(p->idx, newmsg, strlen(newmsg));
    }
    otrl_message_free(newmsg);
    otrl_tlv_free(tlvs);
}

static void ot_pump(void) {
    struct msg *m;
    while ((m = dequeue()) != NULL) {
        ot_receive(m);
        free(m);
    }
}

static void ot_send_text(int from, const char *text) {
    struct otrparty *p = &otp[from];
    char *out = NULL;
    gcry_error_t err = otrl_message_sending(p->us, &ot_ops, p, p->account, OTR_PROTO, p->peer,
                                            OTRL_INSTAG_BEST, text, NULL, &out,
                                            OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
    if (err) {
        die("libotr send: %s", gcry_strerror(err));
    }
    otrl_message_free(out);
}

static void ot_send_one(int from, unsigned seq, size_t size) {
    if (!otp[from].encrypted) {
        die("libotr: sending while not encrypted");
    }
    ot_send_text(from, make_msg(seq, size));
}

static void ot_handshake(void) {
    ot_send_text(0, "?OTR?");
    ot_pump();
    if (!otp[0].encrypted || !otp[1].encrypted) {
        die("libotr: AKE did not reach encrypted on both sides");
    }
}

static void ot_end_both(void) {
    otrl_message_disconnect_all_instances(otp[0].us, &ot_ops, &otp[0], otp[0].account, OTR_PROTO,
                                          otp[0].peer);
    otrl_message_disconnect_all_instances(otp[1].us, &ot_ops, &otp[1], otp[1].account, OTR_PROTO,
                                          otp[1].peer);
    while (q_head) {
        free(dequeue());
    }
    otp[0].encrypted = otp[1].encrypted = 0;
}

static ConnContext *ot_ctx(int idx) {
    struct otrparty *p = &otp[idx];
    ConnContext *c = otrl_context_find(p->us, p->peer, p->account, OTR_PROTO, OTRL_INSTAG_BEST, 0,
                                       NULL, NULL, NULL);
    if (c == NULL || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
        die("libotr: no encrypted context");
    }
    return c;
}

static void ot_gen_keys(void) {
    char dir[] = "/tmp/offrec-bench-XXXXXX";
    OtrlUserState us;
    double t0 = now_s();
    if (mkdtemp(dir) == NULL) {
        die("mkdtemp");
    }
    snprintf(keyfile, sizeof keyfile, "%s/keys", dir);
    snprintf(instfile, sizeof instfile, "%s/instags", dir);
    us = otrl_userstate_create();
    /* Both two-party accounts and the many-session hub and peer; once, outside every timing. */
    if (otrl_privkey_generate(us, keyfile, "alice", OTR_PROTO) ||
        otrl_privkey_generate(us, keyfile, "bob", OTR_PROTO) ||
        otrl_privkey_generate(us, keyfile, "hub", OTR_PROTO) ||
        otrl_privkey_generate(us, keyfile, "peer", OTR_PROTO)) {
        die("libotr: key generation");
    }
    otrl_userstate_free(us);
    fprintf(stderr, "setup: four 1024-bit DSA keys for libotr in %.1f s (%s, not timed)\n",
            now_s() - t0, dir);
}

static void ot_cleanup_keys(void) {
    char dir[256];
    unlink(keyfile);
    unlink(instfile);
    snprintf(dir, sizeof dir, "%s", keyfile);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* library-neutral drivers                                                                   */

enum lib { OTR = 0, OFR = 1 };
static const char *lib_name[2] = {"libotr", "offrec"};

static void lib_setup(enum lib L) {
    side_kind[0] = side_kind[1] = L == OTR ? SIDE_LIBOTR : SIDE_OFFREC;
    if (L == OTR) {
        ot_new(0, "alice", "bob");
        ot_new(1, "bob", "alice");
        otr_mms = 0;
    } else {
        or_new(0, "alice");
        or_new(1, "bob");
    }
}

static void lib_teardown(enum lib L) {
    while (q_head) {
        free(dequeue());
    }
    if (L == OTR) {
        ot_free(0);
        ot_free(1);
    } else {
        offrec_client_free(orp[0].c);
        offrec_client_free(orp[1].c);
    }
}

static void lib_handshake(enum lib L) {
    if (L == OTR) {
        ot_handshake();
    } else {
        or_handshake();
    }
}

static void lib_end(enum lib L) {
    if (L == OTR) {
        ot_end_both();
    } else {
        or_end_both();
    }
}

static void lib_send(enum lib L, int from, unsigned seq, size_t size) {
    if (L == OTR) {
        ot_send_one(from, seq, size);
    } else {
        or_send_one(from, seq, size);
    }
}

static void lib_pump(enum lib L) {
    if (L == OTR) {
        ot_pump();
    } else {
        or_pump();
    }
}

static void lib_set_mms(enum lib L, size_t mms) {
    if (L == OTR) {
        otr_mms = (int)mms;
    } else {
        or_check("mms", offrec_client_set_max_message_size(orp[0].c, S("bob"), mms));
        or_check("mms", offrec_client_set_max_message_size(orp[1].c, S("alice"), mms));
    }
}

/* ---------------------------------------------------------------------------------------- */
/* scenarios: each returns its measured value                                                */

/* Every modern scenario is timed with both clocks: the thread's CPU time (what the code cost,
 * whatever else the shared machine was doing) and the wall clock. One thread runs both
 * parties, so either clock covers both sides' library work plus the harness's callbacks,
 * which are the same code for both libraries. */
struct timing {
    double cpu, wall; /* seconds */
};

static struct timing timing_now(void) {
    struct timing t;
    t.cpu = cpu_s();
    t.wall = now_s();
    return t;
}

static void timing_add_since(struct timing *acc, struct timing start) {
    acc->cpu += cpu_s() - start.cpu;
    acc->wall += now_s() - start.wall;
}

/* ms per full AKE: query to both encrypted (ending the previous session is not timed) */
static struct timing sc_ake(enum lib L, int n) {
    struct timing total = {0, 0};
    int i;
    lib_setup(L);
    for (i = 0; i < n; i++) {
        struct timing t0 = timing_now();
        lib_handshake(L);
        timing_add_since(&total, t0);
        lib_end(L);
    }
    lib_teardown(L);
    total.cpu *= 1e3 / n;
    total.wall *= 1e3 / n;
    return total;
}

/* messages/s, alternating sender each message; *wire gets mean wire bytes per message */
static struct timing sc_conv(enum lib L, int n, size_t size, double *wire) {
    struct timing t = {0, 0}, t0;
    size_t bytes = 0;
    int i;
    lib_setup(L);
    lib_handshake(L);
    expect_reset(size);
    /* warm up: one exchange each way so both ratchets are in their steady state */
    lib_send(L, 0, 0, size);
    lib_pump(L);
    lib_send(L, 1, 0, size);
    lib_pump(L);
    t0 = timing_now();
    for (i = 0; i < n; i++) {
        int from = i & 1;
        size_t before = wire_bytes;
        lib_send(L, from, expect[1 - from].next_seq, size);
        bytes += wire_bytes - before;
        lib_pump(L);
    }
    timing_add_since(&t, t0);
    if (expect[0].delivered + expect[1].delivered != (unsigned)n + 2) {
        die("%s conv: delivered %u of %d", lib_name[L], expect[0].delivered + expect[1].delivered,
            n + 2);
    }
    lib_teardown(L);
    *wire = (double)bytes / n;
    t.cpu = n / t.cpu;
    t.wall = n / t.wall;
    return t;
}

/* Messages per chunk in a one-way burst: the sender sends a chunk, the receiver takes it at
 * once ("receive as you go"), so neither library's numbers depend on how many wire texts sit
 * queued (page faults) and both meet the same memory pattern. */
#define BURST_CHUNK 64

/* One one-way burst of n messages from party 0, right after the AKE and one reply (untimed):
 * everything the libraries do for these n messages is inside the timing, including costs paid
 * once per burst (libotr's receiver makes its next 1536-bit D-H key on the first message). */
static struct timing burst_once(enum lib L, int n, size_t size, size_t mms, double *wire) {
    struct timing t = {0, 0}, whole0;
    size_t before;
    int sent = 0, i;
    lib_setup(L);
    lib_handshake(L);
    expect_reset(size);
    lib_send(L, 1, 0, size);
    lib_pump(L);
    lib_set_mms(L, mms);
    wire_max = 0;
    before = wire_bytes;
    /* --capi times the burst as a whole, as the bindings' benches do: the clock reads per chunk
     * (a thread-CPU read is a system call) are not in its time */
    whole0 = timing_now();
    while (sent < n) {
        int k = n - sent < BURST_CHUNK ? n - sent : BURST_CHUNK;
        struct timing t0 = opt.capi ? whole0 : timing_now();
        for (i = 0; i < k; i++) {
            lib_send(L, 0, (unsigned)(sent + i), size);
        }
        lib_pump(L);
        if (!opt.capi) {
            timing_add_since(&t, t0);
        }
        sent += k;
    }
    if (opt.capi) {
        timing_add_since(&t, whole0);
    }
    if (expect[1].delivered != (unsigned)n) {
        die("%s burst: delivered %u of %d", lib_name[L], expect[1].delivered, n);
    }
    if (mms && wire_max > mms) {
        die("%s: a fragment of %zu bytes exceeds %zu", lib_name[L], wire_max, mms);
    }
    *wire = (double)(wire_bytes - before) / n;
    lib_teardown(L);
    return t;
}

/* A burst's cost split into what is paid once per burst and what each message costs: bursts
 * of n/4, n/2 and n messages, a least-squares line through (length, time) per clock. The
 * slope is the steady per-message cost the targets are about; the intercept the fixed cost
 * (noise can make it slightly negative when it is near zero). */
struct burst_fit {
    struct timing steady_us; /* per message */
    struct timing fixed_ms;  /* per burst */
    struct timing whole;     /* the length-n burst as a whole, msg/s (the bindings' reference) */
    double wire;             /* wire bytes per message */
};

static void line_fit(const double *x, const double *y, int k, double *slope, double *intercept) {
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    int i;
    for (i = 0; i < k; i++) {
        mx += x[i] / k;
        my += y[i] / k;
    }
    for (i = 0; i < k; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    *slope = sxx > 0 ? sxy / sxx : (mx > 0 ? my / mx : 0);
    *intercept = my - *slope * mx;
}

static struct burst_fit sc_burst(enum lib L, int n, size_t size, size_t mms) {
    enum { LENGTHS = 3 };
    double len[LENGTHS], cpu[LENGTHS], wall[LENGTHS];
    struct burst_fit f;
    int i;
    for (i = 0; i < LENGTHS; i++) {
        int k = n >> (LENGTHS - 1 - i);
        struct timing t;
        if (k < 1) {
            k = 1;
        }
        t = burst_once(L, k, size, mms, &f.wire);
        len[i] = k;
        cpu[i] = t.cpu;
        wall[i] = t.wall;
        if (i == LENGTHS - 1) {
            f.whole.cpu = k / t.cpu;
            f.whole.wall = k / t.wall;
        }
    }
    line_fit(len, cpu, LENGTHS, &f.steady_us.cpu, &f.fixed_ms.cpu);
    line_fit(len, wall, LENGTHS, &f.steady_us.wall, &f.fixed_ms.wall);
    f.steady_us.cpu *= 1e6;
    f.steady_us.wall *= 1e6;
    f.fixed_ms.cpu *= 1e3;
    f.fixed_ms.wall *= 1e3;
    return f;
}

/* ms per SMP run with matching secrets, start to success on both sides */
static struct timing sc_smp(enum lib L, int n) {
    static const unsigned char secret[] = "correct horse battery staple";
    struct timing total = {0, 0};
    int i;
    lib_setup(L);
    lib_handshake(L);
    for (i = 0; i < n; i++) {
        struct timing t0;
        if (L == OFR) {
            or_clock += 11; /* offrec refuses a new SMP run within 10 s of the last one */
        }
        t0 = timing_now();
        if (L == OTR) {
            otp[0].smp_ok = otp[1].smp_ok = otp[1].smp_asked = 0;
            otrl_message_initiate_smp(otp[0].us, &ot_ops, &otp[0], ot_ctx(0), secret,
                                      sizeof secret - 1);
            ot_pump();
            if (!otp[1].smp_asked) {
                die("libotr: SMP question did not arrive");
            }
            otrl_message_respond_smp(otp[1].us, &ot_ops, &otp[1], otp[1].smp_ctx, secret,
                                     sizeof secret - 1);
            ot_pump();
            if (otp[0].smp_ok != 1 || otp[1].smp_ok != 1) {
                die("libotr: SMP did not succeed on both sides");
            }
        } else {
            orp[0].smp_ok = orp[1].smp_ok = orp[1].smp_asked = 0;
            or_check("smp_start", offrec_client_smp_start(orp[0].c, S("bob"), 0, secret,
                                                          sizeof secret - 1, NULL, 0));
            or_pump();
            if (!orp[1].smp_asked) {
                die("offrec: SMP request did not arrive");
            }
            or_check("smp_respond",
                     offrec_client_smp_respond(orp[1].c, S("alice"), 0, secret, sizeof secret - 1));
            or_pump();
            if (orp[0].smp_ok != 1 || orp[1].smp_ok != 1) {
                die("offrec: SMP did not succeed on both sides");
            }
        }
        timing_add_since(&total, t0);
    }
    lib_teardown(L);
    total.cpu *= 1e3 / n;
    total.wall *= 1e3 / n;
    return total;
}

/* ---------------------------------------------------------------------------------------- */
/* OTR v3: offrec speaking OTR v3 with libotr (the mixed pair) against libotr with libotr     */
/*
 * Party 0 is "alice", party 1 "bob". In the mixed pair alice is an offrec client (OTR
 * fallback of BENCH_POLICY_MANUAL, loaded from or_otr_store) and bob a libotr userstate; in
 * the libotr pair both are libotr. Every call into a library is timed (thread CPU and wall)
 * and charged to the party that made it, so besides the pair's total each side's own cost is
 * known: offrec's side against libotr's side in the same role compares the implementations,
 * the pair's total against libotr's pair shows what a user of one offrec end gains.
 */

static const char *const party_name[2] = {"alice", "bob"};

struct cost {
    double cpu[2], wall[2];       /* per party: the calls it made */
    double cpu_total, wall_total; /* the whole operation, end to end */
};

#define CHARGE(c, side, stmt)                                                                    \
    do {                                                                                         \
        double w0_ = now_s(), c0_ = cpu_s();                                                     \
        stmt;                                                                                    \
        (c)->cpu[side] += cpu_s() - c0_;                                                         \
        (c)->wall[side] += now_s() - w0_;                                                        \
    } while (0)

static void cost_scale(struct cost *c, double k) {
    c->cpu[0] *= k;
    c->cpu[1] *= k;
    c->wall[0] *= k;
    c->wall[1] *= k;
    c->cpu_total *= k;
    c->wall_total *= k;
}

static void mx_setup(int mixed) {
    side_kind[0] = mixed ? SIDE_OFFREC : SIDE_LIBOTR;
    side_kind[1] = SIDE_LIBOTR;
    otr_mms = 0;
    if (mixed) {
        or_load_otr(0, party_name[0]);
    } else {
        ot_new(0, party_name[0], party_name[1]);
    }
    ot_new(1, party_name[1], party_name[0]);
}

static void mx_drain(void) {
    while (q_head) {
        free(dequeue());
    }
}

static void mx_teardown(void) {
    mx_drain();
    if (side_kind[0] == SIDE_OFFREC) {
        offrec_client_free(orp[0].c);
        orp[0].c = NULL;
    } else {
        ot_free(0);
    }
    ot_free(1);
}

static void mx_receive(const struct msg *m) {
    if (side_kind[m->to] == SIDE_OFFREC) {
        or_receive(m);
    } else {
        ot_receive(m);
    }
}

/* until the queue is empty, each receive charged to its receiver */
static void mx_pump(struct cost *c) {
    struct msg *m;
    while ((m = dequeue()) != NULL) {
        int to = m->to;
        CHARGE(c, to, mx_receive(m));
        free(m);
    }
}

static int *mx_encrypted(int i) {
    return side_kind[i] == SIDE_OFFREC ? &orp[i].encrypted : &otp[i].encrypted;
}
static int *mx_smp_asked(int i) {
    return side_kind[i] == SIDE_OFFREC ? &orp[i].smp_asked : &otp[i].smp_asked;
}
static int *mx_smp_ok(int i) {
    return side_kind[i] == SIDE_OFFREC ? &orp[i].smp_ok : &otp[i].smp_ok;
}

static void mx_query(int q) {
    if (side_kind[q] == SIDE_OFFREC) {
        or_check("start_session", offrec_client_start_session(orp[q].c, party_name[1 - q],
                                                              strlen(party_name[1 - q])));
    } else {
        ot_send_text(q, "?OTR?"); /* libotr turns it into its own query: ?OTRv23? and a text */
    }
}

/* party q sends the query; both encrypted afterwards */
static void mx_ake(int q, struct cost *c) {
    double w0 = now_s(), c0 = cpu_s();
    *mx_encrypted(0) = *mx_encrypted(1) = 0;
    CHARGE(c, q, mx_query(q));
    mx_pump(c);
    c->cpu_total += cpu_s() - c0;
    c->wall_total += now_s() - w0;
    if (!*mx_encrypted(0) || !*mx_encrypted(1)) {
        die("OTR pair (%s): AKE did not reach encrypted on both sides", lib_name[side_kind[0]]);
    }
}

/* both ends speak OTR v3 (not offrec's own protocol, not v2); not timed */
static void mx_check_otr3(void) {
    int i;
    for (i = 0; i < 2; i++) {
        if (side_kind[i] == SIDE_OFFREC) {
            const char *peer = party_name[1 - i];
            size_t n = 0, k, found = 0;
            or_check("session_count", offrec_client_session_count(orp[i].c, peer, strlen(peer), &n));
            for (k = 0; k < n; k++) {
                offrec_session_info info;
                offrec_session_protocol sp;
                or_check("session_info",
                         offrec_client_session_info(orp[i].c, peer, strlen(peer), k, &info));
                if (info.state != OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED &&
                    info.state != OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED) {
                    continue;
                }
                or_check("session_protocol",
                         offrec_client_session_protocol(orp[i].c, peer, strlen(peer), k, &sp));
                if (sp.protocol != OFFREC_PROTOCOL_OTR_V3) {
                    die("offrec: the session with libotr speaks protocol %u, not OTR v3",
                        (unsigned)sp.protocol);
                }
                found++;
            }
            if (found != 1) {
                die("offrec: %zu encrypted sessions with libotr, expected 1", found);
            }
        } else if (ot_ctx(i)->protocol_version != 3) {
            die("libotr: protocol version %d, expected 3", (int)ot_ctx(i)->protocol_version);
        }
    }
}

static void mx_end(void) {
    int i;
    for (i = 0; i < 2; i++) {
        if (side_kind[i] == SIDE_OFFREC) {
            or_check("end", offrec_client_end_session(orp[i].c, party_name[1 - i],
                                                      strlen(party_name[1 - i]), 0));
        } else {
            otrl_message_disconnect_all_instances(otp[i].us, &ot_ops, &otp[i], otp[i].account,
                                                  OTR_PROTO, otp[i].peer);
        }
    }
    mx_drain(); /* the peer ended too: drop the notices */
    *mx_encrypted(0) = *mx_encrypted(1) = 0;
}

static void mx_send(int from, unsigned seq, size_t size) {
    if (side_kind[from] == SIDE_OFFREC) {
        uint64_t id;
        const char *t = make_msg(seq, size);
        or_check("send", offrec_client_send(orp[from].c, party_name[1 - from],
                                            strlen(party_name[1 - from]), t, size, &id));
    } else {
        ot_send_one(from, seq, size);
    }
}

/* per AKE: party `querier` asks, the other answers with the D-H Commit; after one untimed AKE
 * (first-use costs), each session ended on both sides outside the timing */
static struct cost ox_ake(int mixed, int querier, int n) {
    struct cost c, warm;
    int i;
    memset(&c, 0, sizeof c);
    memset(&warm, 0, sizeof warm);
    mx_setup(mixed);
    mx_ake(querier, &warm);
    mx_check_otr3();
    mx_end();
    for (i = 0; i < n; i++) {
        mx_ake(querier, &c);
        mx_check_otr3();
        mx_end();
    }
    mx_teardown();
    cost_scale(&c, 1e3 / n); /* ms */
    return c;
}

/* Messages per chunk in the OTR bursts: the sender sends a chunk, the receiver takes it, so
 * each phase is timed on its own with two clock reads per chunk, and the queue stays small. */
#define OTR_CHUNK 64
#define OTR_WARMUP 8

/* per message, µs: a one-way burst from `from`, in the steady state: after a reply and a few
 * untimed messages each side has made its next D-H key and both hold the session keys that
 * every further message of the burst uses (OTR keeps one key pair until the peer answers) */
static struct cost ox_burst(int mixed, int from, int n, size_t size, double *wire) {
    struct cost c, warm;
    int to = 1 - from, sent = 0, i;
    size_t before;
    memset(&c, 0, sizeof c);
    memset(&warm, 0, sizeof warm);
    mx_setup(mixed);
    mx_ake(0, &warm);
    mx_check_otr3();
    expect_reset(size);
    mx_send(to, 0, size);
    mx_pump(&warm);
    for (i = 0; i < OTR_WARMUP; i++) {
        mx_send(from, (unsigned)i, size);
    }
    mx_pump(&warm);
    before = wire_bytes;
    while (sent < n) {
        int k = n - sent < OTR_CHUNK ? n - sent : OTR_CHUNK;
        double w0 = now_s(), c0 = cpu_s(), w1, c1, w2, c2;
        struct msg *m;
        for (i = 0; i < k; i++) {
            mx_send(from, expect[to].next_seq + (unsigned)i, size);
        }
        w1 = now_s();
        c1 = cpu_s();
        while ((m = dequeue()) != NULL) {
            if (m->to != to) {
                die("OTR burst: the receiver sent something back (%.40s)", m->text);
            }
            mx_receive(m);
            free(m);
        }
        c2 = cpu_s();
        w2 = now_s();
        c.cpu[from] += c1 - c0;
        c.wall[from] += w1 - w0;
        c.cpu[to] += c2 - c1;
        c.wall[to] += w2 - w1;
        sent += k;
    }
    if (expect[to].delivered != (unsigned)(n + OTR_WARMUP) || expect[from].delivered != 1) {
        die("OTR burst: delivered %u of %d", expect[to].delivered, n + OTR_WARMUP);
    }
    *wire = (double)(wire_bytes - before) / n;
    mx_teardown();
    c.cpu_total = c.cpu[0] + c.cpu[1];
    c.wall_total = c.wall[0] + c.wall[1];
    cost_scale(&c, 1e6 / n); /* µs */
    return c;
}

static void mx_smp_start(int i, const unsigned char *secret, size_t len) {
    if (side_kind[i] == SIDE_OFFREC) {
        or_check("smp_start", offrec_client_smp_start(orp[i].c, party_name[1 - i],
                                                      strlen(party_name[1 - i]), 0, secret, len,
                                                      NULL, 0));
    } else {
        otrl_message_initiate_smp(otp[i].us, &ot_ops, &otp[i], ot_ctx(i), secret, len);
    }
}

static void mx_smp_respond(int i, const unsigned char *secret, size_t len) {
    if (side_kind[i] == SIDE_OFFREC) {
        or_check("smp_respond", offrec_client_smp_respond(orp[i].c, party_name[1 - i],
                                                          strlen(party_name[1 - i]), 0, secret,
                                                          len));
    } else {
        otrl_message_respond_smp(otp[i].us, &ot_ops, &otp[i], otp[i].smp_ctx, secret, len);
    }
}

/* per SMP run, ms: `initiator` starts without a question, the other answers on the ask event,
 * until success on both sides */
static struct cost ox_smp(int mixed, int initiator, int n) {
    static const unsigned char secret[] = "correct horse battery staple";
    struct cost c, warm;
    int responder = 1 - initiator, i;
    memset(&c, 0, sizeof c);
    memset(&warm, 0, sizeof warm);
    mx_setup(mixed);
    mx_ake(0, &warm);
    mx_check_otr3();
    for (i = 0; i < n; i++) {
        double w0, c0;
        or_clock += 11; /* offrec refuses a new SMP run within 10 s of the last one */
        *mx_smp_ok(0) = *mx_smp_ok(1) = *mx_smp_asked(responder) = 0;
        w0 = now_s();
        c0 = cpu_s();
        CHARGE(&c, initiator, mx_smp_start(initiator, secret, sizeof secret - 1));
        mx_pump(&c);
        if (!*mx_smp_asked(responder)) {
            die("OTR SMP: the request did not arrive");
        }
        CHARGE(&c, responder, mx_smp_respond(responder, secret, sizeof secret - 1));
        mx_pump(&c);
        c.cpu_total += cpu_s() - c0;
        c.wall_total += now_s() - w0;
        if (*mx_smp_ok(0) != 1 || *mx_smp_ok(1) != 1) {
            die("OTR SMP (%s initiates): did not succeed on both sides",
                lib_name[side_kind[initiator]]);
        }
    }
    mx_teardown();
    cost_scale(&c, 1e3 / n); /* ms */
    return c;
}

/* ---------------------------------------------------------------------------------------- */
/* memory: a hub with n idle encrypted sessions, each set up against a throwaway counterpart   */

struct memres {
    double rss_per, heap_per, seconds;
    long n;
};

static long statm_rss_bytes(void) {
    long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%ld %ld", &size, &rss) != 2) {
        die("reading /proc/self/statm");
    }
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

static long heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

static void mem_child(enum lib L, long n, int fd) {
    struct memres r;
    long rss0, heap0, i;
    double t0;
    char name[24];
    r.n = n;
    side_kind[0] = side_kind[1] = L == OTR ? SIDE_LIBOTR : SIDE_OFFREC;
    if (L == OTR) {
        ot_new(0, "hub", "");
        ot_new(1, "peer", "");
    } else {
        or_new(0, "hub");
    }
    expect_reset(100);
    rss0 = heap0 = 0;
    t0 = 0;
    /* Session 0 is a warm-up, not measured: it faults in the library's code pages and builds
     * whatever a process builds once (about 0.7 MB for offrec: at 1,000 sessions that alone
     * read as 700 B per session). The n sessions after it are what a session costs. */
    for (i = 0; i <= n; i++) {
        snprintf(name, sizeof name, "p%07ld", i);
        if (L == OTR) {
            snprintf(otp[0].peer, sizeof otp[0].peer, "%s", name);
            snprintf(otp[1].peer, sizeof otp[1].peer, "%s", name);
            otp[0].encrypted = otp[1].encrypted = 0;
            ot_handshake();
        } else {
            or_new(1, name);
            or_handshake();
        }
        /* one message each way: the session has both chains, as after any exchange */
        lib_send(L, 0, expect[1].next_seq, 100);
        lib_pump(L);
        lib_send(L, 1, expect[0].next_seq, 100);
        lib_pump(L);
        /* throw the counterpart away: only the hub's sessions are measured */
        if (L == OTR) {
            otrl_context_forget_all(otp[1].us);
        } else {
            offrec_client_free(orp[1].c);
        }
        if (i == 0) {
            malloc_trim(0);
            rss0 = statm_rss_bytes();
            heap0 = heap_bytes();
            t0 = now_s();
        }
    }
    r.seconds = now_s() - t0;
    if (L == OTR) {
        ot_free(1);
    }
    malloc_trim(0);
    r.rss_per = (double)(statm_rss_bytes() - rss0) / n;
    r.heap_per = (double)(heap_bytes() - heap0) / n;
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) {
        die("pipe");
    }
    _exit(0);
}

static struct memres sc_mem(enum lib L, long n) {
    struct memres r;
    int fds[2], status;
    pid_t pid;
    memset(&r, 0, sizeof r);
    fflush(NULL);
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        die("fork");
    }
    if (pid == 0) {
        close(fds[0]);
        mem_child(L, n, fds[1]);
    }
    close(fds[1]);
    if (read(fds[0], &r, sizeof r) != (ssize_t)sizeof r) {
        r.n = -1;
    }
    close(fds[0]);
    waitpid(pid, &status, 0);
    if (r.n != n || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        die("%s memory child (%ld sessions) failed", lib_name[L], n);
    }
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* runs, medians, table                                                                      */

enum {
    R_AKE,
    R_CONV100,
    R_CONV4K,
    R_BURST100,
    R_BURST100_FIXED,
    R_BURST4K,
    R_BURST4K_FIXED,
    R_FRAG4K,
    R_FRAG4K_FIXED,
    R_SMP,
    R_WIRE100,
    R_WIRE4K,
    R_WIREB100,
    R_FRAGWIRE,
    R_COUNT
};

/* Ratios are libotr/offrec for times ("x faster"), offrec/libotr for rates, offrec/libotr
 * for bytes. Byte rows have one value (the clocks do not apply). */
static const struct {
    const char *key, *label, *unit;
    int higher_better; /* ratio = offrec/libotr if 1, libotr/offrec if 0 */
} rows[R_COUNT] = {
    {"ake_ms", "AKE, query to both encrypted", "ms", 0},
    {"conv_100B_msgs_per_s", "alternating conversation, 100 B", "msg/s", 1},
    {"conv_4KiB_msgs_per_s", "alternating conversation, 4 KiB", "msg/s", 1},
    {"burst_100B_steady_us", "one-way 100 B, steady per message", "us", 0},
    {"burst_100B_fixed_ms", "  fixed cost per burst", "ms", 0},
    {"burst_4KiB_steady_us", "one-way 4 KiB, steady per message", "us", 0},
    {"burst_4KiB_fixed_ms", "  fixed cost per burst", "ms", 0},
    {"burst_4KiB_frag1400_steady_us", "one-way 4 KiB fragmented at 1400 B", "us", 0},
    {"burst_4KiB_frag1400_fixed_ms", "  fixed cost per burst", "ms", 0},
    {"smp_ms", "SMP, matching secrets", "ms", 0},
    {"wire_100B_bytes", "wire bytes / 100 B msg (conversation)", "B", 0},
    {"wire_4KiB_bytes", "wire bytes / 4 KiB msg (conversation)", "B", 0},
    {"wire_burst_100B_bytes", "wire bytes / 100 B msg (burst)", "B", 0},
    {"wire_frag_4KiB_bytes", "wire bytes / 4 KiB msg (fragmented)", "B", 0},
};

enum { CPU = 0, WALL = 1 };

static double samples[R_COUNT][2][2][64]; /* [row][lib][clock][run] */
/* whole 100 B / 4 KiB bursts of --burst messages, msg/s: the bindings' reference */
static double capi_whole[2][64];     /* [100 B, 4 KiB][run], offrec only, msg/s in wall time */
static double capi_whole_cpu[2][64]; /* the same in thread CPU time */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    double tmp[64];
    if (n <= 0) {
        return 0;
    }
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void put_timing(int row, enum lib L, int run, struct timing t) {
    samples[row][L][CPU][run] = t.cpu;
    samples[row][L][WALL][run] = t.wall;
}

static void put_value(int row, enum lib L, int run, double v) {
    samples[row][L][CPU][run] = v;
    samples[row][L][WALL][run] = v;
}

static void put_fit(int steady_row, enum lib L, int run, struct burst_fit f) {
    put_timing(steady_row, L, run, f.steady_us);
    put_timing(steady_row + 1, L, run, f.fixed_ms);
}

static void run_one(enum lib L, int run) {
    double w;
    double t0 = now_s();
    struct burst_fit f;
    put_timing(R_AKE, L, run, sc_ake(L, opt.ake));
    put_timing(R_CONV100, L, run, sc_conv(L, opt.conv, 100, &w));
    put_value(R_WIRE100, L, run, w);
    put_timing(R_CONV4K, L, run, sc_conv(L, opt.conv, 4096, &w));
    put_value(R_WIRE4K, L, run, w);
    f = sc_burst(L, opt.burst, 100, 0);
    put_fit(R_BURST100, L, run, f);
    put_value(R_WIREB100, L, run, f.wire);
    if (L == OFR) {
        capi_whole[0][run] = f.whole.wall;
        capi_whole_cpu[0][run] = f.whole.cpu;
    }
    f = sc_burst(L, opt.burst, 4096, 0);
    put_fit(R_BURST4K, L, run, f);
    if (L == OFR) {
        capi_whole[1][run] = f.whole.wall;
        capi_whole_cpu[1][run] = f.whole.cpu;
    }
    f = sc_burst(L, opt.frag, 4096, 1400);
    put_fit(R_FRAG4K, L, run, f);
    put_value(R_FRAGWIRE, L, run, f.wire);
    put_timing(R_SMP, L, run, sc_smp(L, opt.smp));
    fprintf(stderr, "run %d/%d %s: %.1f s\n", run + 1, opt.runs, lib_name[L], now_s() - t0);
}

/* ---------------------------------------------------------------------------------------- */
/* OTR v3 rows: each run measures the libotr pair and the mixed pair, alternating which first */

enum {
    O_AKE_ANSWER,
    O_AKE_QUERY,
    O_AKE_SIDES,
    O_AKE_PAIR_ANSWER,
    O_AKE_PAIR_QUERY,
    O_B100_SEND,
    O_B100_RECV,
    O_B100_SIDES,
    O_B100_PAIR_SEND,
    O_B100_PAIR_RECV,
    O_B4K_SEND,
    O_B4K_RECV,
    O_B4K_SIDES,
    O_B4K_PAIR_SEND,
    O_B4K_PAIR_RECV,
    O_SMP_INIT,
    O_SMP_RESP,
    O_SMP_SIDES,
    O_SMP_PAIR_INIT,
    O_SMP_PAIR_RESP,
    O_COUNT
};

/* "libotr" is always libotr in that role (or libotr's pair); "offrec" is offrec in that role
 * (or the mixed pair with offrec in that role). Ratios: libotr / offrec. */
static const struct {
    const char *key, *label, *unit;
    double target; /* 0: none */
} orows[O_COUNT] = {
    {"otr_ake_answerer_side_ms", "AKE: the answerer's own side", "ms", 0},
    {"otr_ake_querier_side_ms", "AKE: the querier's own side", "ms", 0},
    {"otr_ake_both_sides_ms", "AKE: both sides (answerer + querier)", "ms", 1.5},
    {"otr_ake_pair_offrec_answers_ms", "AKE pair, offrec answers the query", "ms", 0},
    {"otr_ake_pair_offrec_queries_ms", "AKE pair, offrec sends the query", "ms", 0},
    {"otr_burst_100B_sender_side_us", "burst 100 B: the sender's side", "us/msg", 0},
    {"otr_burst_100B_receiver_side_us", "burst 100 B: the receiver's side", "us/msg", 0},
    {"otr_burst_100B_both_sides_us", "burst 100 B: both sides", "us/msg", 2},
    {"otr_burst_100B_pair_offrec_sends_us", "burst 100 B pair, offrec -> libotr", "us/msg", 0},
    {"otr_burst_100B_pair_offrec_receives_us", "burst 100 B pair, libotr -> offrec", "us/msg", 0},
    {"otr_burst_4KiB_sender_side_us", "burst 4 KiB: the sender's side", "us/msg", 0},
    {"otr_burst_4KiB_receiver_side_us", "burst 4 KiB: the receiver's side", "us/msg", 0},
    {"otr_burst_4KiB_both_sides_us", "burst 4 KiB: both sides", "us/msg", 0},
    {"otr_burst_4KiB_pair_offrec_sends_us", "burst 4 KiB pair, offrec -> libotr", "us/msg", 0},
    {"otr_burst_4KiB_pair_offrec_receives_us", "burst 4 KiB pair, libotr -> offrec", "us/msg", 0},
    {"otr_smp_initiator_side_ms", "SMP: the initiator's own side", "ms", 0},
    {"otr_smp_responder_side_ms", "SMP: the responder's own side", "ms", 0},
    {"otr_smp_both_sides_ms", "SMP: both sides", "ms", 1.5},
    {"otr_smp_pair_offrec_initiates_ms", "SMP pair, offrec initiates", "ms", 0},
    {"otr_smp_pair_offrec_responds_ms", "SMP pair, offrec responds", "ms", 0},
};

/* [row][lib][clock][run]; partner: the libotr side's own cost inside a mixed pair row */
static double osamples[O_COUNT][2][2][64];
static double opartner[O_COUNT][2][64];
static double owire[2][2][64]; /* [size 100/4K][lib][run]: wire bytes per burst message */

static void o_put(int row, enum lib L, int run, double cpu, double wall) {
    osamples[row][L][CPU][run] = cpu;
    osamples[row][L][WALL][run] = wall;
}

/* a pair row: the pair's total; for the mixed pair also the libotr side's share */
static void o_pair(int row, enum lib L, int run, const struct cost *c) {
    o_put(row, L, run, c->cpu_total, c->wall_total);
    if (L == OFR) {
        opartner[row][CPU][run] = c->cpu[1];
        opartner[row][WALL][run] = c->wall[1];
    }
}

static void o_sum(int sum, int a, int b, enum lib L, int run) {
    int k;
    for (k = 0; k < 2; k++) {
        osamples[sum][L][k][run] = osamples[a][L][k][run] + osamples[b][L][k][run];
    }
}

/* the libotr pair: alice queries, alice sends the bursts, alice starts SMP */
static void otr_run_libotr(int run) {
    struct cost c;
    int s;
    if (opt.ake > 0) {
        c = ox_ake(0, 0, opt.ake);
        o_put(O_AKE_QUERY, OTR, run, c.cpu[0], c.wall[0]);
        o_put(O_AKE_ANSWER, OTR, run, c.cpu[1], c.wall[1]);
        o_pair(O_AKE_PAIR_ANSWER, OTR, run, &c);
        o_pair(O_AKE_PAIR_QUERY, OTR, run, &c);
    }
    for (s = 0; s < 2 && opt.burst > 0; s++) {
        int base = s ? O_B4K_SEND : O_B100_SEND;
        c = ox_burst(0, 0, opt.burst, s ? 4096 : 100, &owire[s][OTR][run]);
        o_put(base, OTR, run, c.cpu[0], c.wall[0]);
        o_put(base + 1, OTR, run, c.cpu[1], c.wall[1]);
        o_pair(base + 3, OTR, run, &c);
        o_pair(base + 4, OTR, run, &c);
    }
    if (opt.smp > 0) {
        c = ox_smp(0, 0, opt.smp);
        o_put(O_SMP_INIT, OTR, run, c.cpu[0], c.wall[0]);
        o_put(O_SMP_RESP, OTR, run, c.cpu[1], c.wall[1]);
        o_pair(O_SMP_PAIR_INIT, OTR, run, &c);
        o_pair(O_SMP_PAIR_RESP, OTR, run, &c);
    }
}

/* the mixed pair: offrec (party 0) in each role in turn, libotr (party 1) in the other */
static void otr_run_mixed(int run) {
    struct cost c;
    int s;
    if (opt.ake > 0) {
        c = ox_ake(1, 1, opt.ake);
        o_put(O_AKE_ANSWER, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(O_AKE_PAIR_ANSWER, OFR, run, &c);
        c = ox_ake(1, 0, opt.ake);
        o_put(O_AKE_QUERY, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(O_AKE_PAIR_QUERY, OFR, run, &c);
    }
    for (s = 0; s < 2 && opt.burst > 0; s++) {
        int base = s ? O_B4K_SEND : O_B100_SEND;
        double w;
        c = ox_burst(1, 0, opt.burst, s ? 4096 : 100, &owire[s][OFR][run]);
        o_put(base, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(base + 3, OFR, run, &c);
        c = ox_burst(1, 1, opt.burst, s ? 4096 : 100, &w);
        o_put(base + 1, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(base + 4, OFR, run, &c);
    }
    if (opt.smp > 0) {
        c = ox_smp(1, 0, opt.smp);
        o_put(O_SMP_INIT, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(O_SMP_PAIR_INIT, OFR, run, &c);
        c = ox_smp(1, 1, opt.smp);
        o_put(O_SMP_RESP, OFR, run, c.cpu[0], c.wall[0]);
        o_pair(O_SMP_PAIR_RESP, OFR, run, &c);
    }
}

static void otr_run(int run) {
    enum lib L;
    int k;
    for (k = 0; k < 2; k++) {
        double t0 = now_s();
        /* alternate which pair goes first, as the other rows do */
        L = (run + k) % 2 ? OFR : OTR;
        if (L == OTR && opt.only_offrec) {
            continue;
        }
        if (L == OTR) {
            otr_run_libotr(run);
        } else {
            otr_run_mixed(run);
        }
        fprintf(stderr, "run %d/%d OTR v3 %s: %.1f s\n", run + 1, opt.runs,
                L == OTR ? "libotr<->libotr" : "offrec<->libotr", now_s() - t0);
    }
    for (k = 0; k < 2; k++) {
        L = (enum lib)k;
        o_sum(O_AKE_SIDES, O_AKE_ANSWER, O_AKE_QUERY, L, run);
        o_sum(O_B100_SIDES, O_B100_SEND, O_B100_RECV, L, run);
        o_sum(O_B4K_SIDES, O_B4K_SEND, O_B4K_RECV, L, run);
        o_sum(O_SMP_SIDES, O_SMP_INIT, O_SMP_RESP, L, run);
    }
}

static double o_ratio(double libotr, double offrec) {
    return offrec > 0 ? libotr / offrec : 0;
}

static void otr_report(FILE *js) {
    double med[O_COUNT][2][2], part[O_COUNT][2], wire[2][2];
    int r, L, k;
    for (r = 0; r < O_COUNT; r++) {
        for (L = 0; L < 2; L++) {
            for (k = 0; k < 2; k++) {
                med[r][L][k] = L == OTR && opt.only_offrec ? 0 : median(osamples[r][L][k], opt.runs);
            }
        }
        part[r][CPU] = median(opartner[r][CPU], opt.runs);
        part[r][WALL] = median(opartner[r][WALL], opt.runs);
    }
    for (k = 0; k < 2; k++) {
        wire[k][OTR] = opt.only_offrec ? 0 : median(owire[k][OTR], opt.runs);
        wire[k][OFR] = median(owire[k][OFR], opt.runs);
    }

    printf("\nOTR v3: offrec speaking OTR v3 with libotr, against libotr with libotr (same run)\n");
    printf("side rows: each library's own calls in that role; pair rows: the whole pair (libotr's\n"
           "pair against offrec<->libotr); ratio = libotr / offrec; CPU = thread CPU time\n\n");
    printf("%-40s %-6s %10s %10s %7s  %10s %10s %7s  %-7s %s\n", "scenario", "unit", "libotr",
           "offrec", "CPU", "libotr", "offrec", "wall", "target", "met CPU/wall");
    printf("%-40s %-6s %10s %10s %7s  %10s %10s %7s\n", "", "", "CPU", "CPU", "ratio", "wall",
           "wall", "ratio");
    for (r = 0; r < O_COUNT; r++) {
        double rc = o_ratio(med[r][OTR][CPU], med[r][OFR][CPU]);
        double rw = o_ratio(med[r][OTR][WALL], med[r][OFR][WALL]);
        char tgt[16] = "";
        char met[16] = "";
        int prec = orows[r].unit[0] == 'm' ? 3 : 2;
        if (orows[r].target > 0) {
            snprintf(tgt, sizeof tgt, ">= %.1fx", orows[r].target);
            snprintf(met, sizeof met, "%s/%s", rc >= orows[r].target ? "yes" : "NO",
                     rw >= orows[r].target ? "yes" : "NO");
        }
        printf("%-40s %-6s %10.*f %10.*f %6.2fx  %10.*f %10.*f %6.2fx  %-7s %s\n", orows[r].label,
               orows[r].unit, prec, med[r][OTR][CPU], prec, med[r][OFR][CPU], rc, prec,
               med[r][OTR][WALL], prec, med[r][OFR][WALL], rw, tgt, met);
    }
    printf("%-40s %-6s %10.0f %10.0f %6.0f%%\n", "wire bytes / 100 B burst msg (sender)", "B",
           wire[0][OTR], wire[0][OFR], wire[0][OTR] > 0 ? 100 * wire[0][OFR] / wire[0][OTR] : 0);
    printf("%-40s %-6s %10.0f %10.0f %6.0f%%\n", "wire bytes / 4 KiB burst msg (sender)", "B",
           wire[1][OTR], wire[1][OFR], wire[1][OTR] > 0 ? 100 * wire[1][OFR] / wire[1][OTR] : 0);

    if (js == NULL) {
        return;
    }
    fprintf(js, "  \"otr_v3\": {\n");
    fprintf(js, "    \"about\": \"offrec speaking OTR v3 with libotr vs libotr with libotr, same "
                "run; side rows: each library's own calls in that role; pair rows: the whole "
                "pair; partner: libotr's own share inside the mixed pair; ratio = libotr / "
                "offrec; cpu = CLOCK_THREAD_CPUTIME_ID, wall = CLOCK_MONOTONIC\",\n");
    fprintf(js, "    \"counts\": {\"ake\": %d, \"burst\": %d, \"smp\": %d},\n", opt.ake, opt.burst,
            opt.smp);
    fprintf(js, "    \"wire_burst_100B_bytes\": {\"libotr\": %.1f, \"offrec\": %.1f},\n",
            wire[0][OTR], wire[0][OFR]);
    fprintf(js, "    \"wire_burst_4KiB_bytes\": {\"libotr\": %.1f, \"offrec\": %.1f},\n",
            wire[1][OTR], wire[1][OFR]);
    fprintf(js, "    \"rows\": {\n");
    for (r = 0; r < O_COUNT; r++) {
        int is_pair = strstr(orows[r].key, "_pair_") != NULL;
        fprintf(js,
                "      \"%s\": {\"unit\": \"%s\", \"libotr_cpu\": %.6g, \"offrec_cpu\": %.6g, "
                "\"ratio_cpu\": %.4g, \"libotr_wall\": %.6g, \"offrec_wall\": %.6g, "
                "\"ratio_wall\": %.4g",
                orows[r].key, orows[r].unit, med[r][OTR][CPU], med[r][OFR][CPU],
                o_ratio(med[r][OTR][CPU], med[r][OFR][CPU]), med[r][OTR][WALL], med[r][OFR][WALL],
                o_ratio(med[r][OTR][WALL], med[r][OFR][WALL]));
        if (is_pair) {
            fprintf(js, ", \"partner_libotr_cpu\": %.6g, \"partner_libotr_wall\": %.6g",
                    part[r][CPU], part[r][WALL]);
        }
        if (orows[r].target > 0) {
            fprintf(js, ", \"target\": %.2g", orows[r].target);
        }
        fprintf(js, "}%s\n", r + 1 < O_COUNT ? "," : "");
    }
    fprintf(js, "    }\n  }");
}

struct target {
    int row;
    const char *text;
    double need; /* ratio must be >= need (or, for wire bytes, offrec/libotr <= need) */
};
/* the targets of issue #17, judged on the CPU-time ratio (steady per-message cost for bursts) */
static const struct target targets[] = {
    {R_AKE, ">= 15x faster", 15},  {R_CONV100, ">= 20x", 20},         {R_BURST100, ">= 2x faster", 2},
    {R_BURST4K, ">= 3x faster", 3}, {R_FRAG4K, ">= 2x faster", 2},     {R_SMP, ">= 30x faster", 30},
    {R_WIRE100, "<= 60% of libotr", 0.60},
};

static const struct target *target_for(int row) {
    size_t i;
    for (i = 0; i < sizeof targets / sizeof *targets; i++) {
        if (targets[i].row == row) {
            return &targets[i];
        }
    }
    return NULL;
}

/* The CPU the numbers come from: /proc/cpuinfo's model name and flags (first processor). */
static char cpu_model[512] = "unknown", cpu_ident[256] = "", cpu_flags[4096] = "";

static void read_cpu_info(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        char *value;
        if (line[0] == '\n' && cpu_flags[0] != '\0') {
            break; /* the first processor's block is enough */
        }
        if (colon == NULL) {
            continue;
        }
        value = colon + 1 + (colon[1] == ' ');
        value[strcspn(value, "\n")] = '\0';
        if (!strncmp(line, "model name", 10) && !strcmp(cpu_model, "unknown")) {
            snprintf(cpu_model, sizeof cpu_model, "%s", value);
        } else if ((!strncmp(line, "cpu family", 10) || !strncmp(line, "model\t", 6) ||
                    !strncmp(line, "stepping", 8)) &&
                   strlen(cpu_ident) + strlen(value) + 16 < sizeof cpu_ident) {
            /* family/model/stepping name the microarchitecture ("AMD EPYC" alone does not) */
            strcat(cpu_ident, cpu_ident[0] ? ", " : "");
            strncat(cpu_ident, line, strcspn(line, "\t:"));
            strcat(cpu_ident, " ");
            strcat(cpu_ident, value);
        } else if (!strncmp(line, "flags", 5) && cpu_flags[0] == '\0') {
            snprintf(cpu_flags, sizeof cpu_flags, "%s", value);
        }
    }
    fclose(f);
    if (cpu_ident[0] && strlen(cpu_model) + strlen(cpu_ident) + 4 < sizeof cpu_model) {
        strcat(cpu_model, " (");
        strcat(cpu_model, cpu_ident);
        strcat(cpu_model, ")");
    }
}

/* Whether /proc/cpuinfo lists `flag` (a whole word). */
static int cpu_has(const char *flag) {
    size_t n = strlen(flag);
    const char *p = cpu_flags;
    while ((p = strstr(p, flag)) != NULL) {
        if ((p == cpu_flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

/* The flags the primitives' speed depends on, for the table's header line. */
static void print_cpu_summary(void) {
    static const char *const relevant[] = {"aes",  "vaes",   "pclmulqdq", "vpclmulqdq", "sha_ni",
                                           "avx2", "avx512f", "avx512ifma", "bmi2",      "adx"};
    size_t i;
    printf("CPU: %s; flags:", cpu_model);
    for (i = 0; i < sizeof relevant / sizeof *relevant; i++) {
        printf(" %s%s", cpu_has(relevant[i]) ? "+" : "-", relevant[i]);
    }
    printf("\n");
}

/* ---------------------------------------------------------------------------------------- */
/* --capi: the bindings' reference measured as the bindings measure themselves               */

/* One run: after one untimed warm-up burst per size, W timed bursts per size, alternating;
 * each size's rate is its W * burst messages over their summed time. The same structure as
 * bindings/python/bench_burst.py --window and benchburst -window (bench/bindings.md). */
static void capi_run(int run) {
    static const size_t sizes[2] = {100, 4096};
    struct timing sum[2] = {{0, 0}, {0, 0}};
    double wire;
    int k, w;
    for (k = 0; k < 2; k++) {
        burst_once(OFR, opt.burst, sizes[k], 0, &wire);
    }
    for (w = 0; w < opt.capi; w++) {
        for (k = 0; k < 2; k++) {
            struct timing t = burst_once(OFR, opt.burst, sizes[k], 0, &wire);
            sum[k].cpu += t.cpu;
            sum[k].wall += t.wall;
        }
    }
    for (k = 0; k < 2; k++) {
        double msgs = (double)opt.burst * opt.capi;
        capi_whole[k][run] = msgs / sum[k].wall;
        capi_whole_cpu[k][run] = msgs / sum[k].cpu;
    }
}

static int capi_main(void) {
    double conv[64];
    int run;
    for (run = 0; run < opt.runs; run++) {
        double w;
        capi_run(run);
        conv[run] = sc_conv(OFR, opt.conv, 100, &w).wall;
    }
    printf("CAPI burst_100B_msgs_per_s=%.0f burst_4KiB_msgs_per_s=%.0f burst_100B_cpu_msgs_per_s=%.0f "
           "burst_4KiB_cpu_msgs_per_s=%.0f conv_100B_msgs_per_s=%.0f runs=%d burst=%d\n",
           median(capi_whole[0], opt.runs), median(capi_whole[1], opt.runs), median(capi_whole_cpu[0], opt.runs),
           median(capi_whole_cpu[1], opt.runs), median(conv, opt.runs), opt.runs, opt.burst);
    return 0;
}

static void parse_args(int argc, char **argv) {
    int i, min;
    for (i = 1; i < argc; i++) {
        int *slot = NULL;
        if (!strcmp(argv[i], "--only-offrec")) {
            opt.only_offrec = 1;
            continue;
        }
        if (!strcmp(argv[i], "--no-otr")) {
            opt.otr_rows = 0;
            continue;
        }
        if (!strcmp(argv[i], "--only-otr")) {
            opt.modern_rows = 0;
            continue;
        }
        if (i + 1 >= argc) {
            die("usage: see the comment at the top of bench/bench.c");
        }
        if (!strcmp(argv[i], "--json")) {
            opt.json = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--runs")) slot = &opt.runs;
        else if (!strcmp(argv[i], "--ake")) slot = &opt.ake;
        else if (!strcmp(argv[i], "--conv")) slot = &opt.conv;
        else if (!strcmp(argv[i], "--burst")) slot = &opt.burst;
        else if (!strcmp(argv[i], "--frag")) slot = &opt.frag;
        else if (!strcmp(argv[i], "--smp")) slot = &opt.smp;
        else if (!strcmp(argv[i], "--mem")) slot = &opt.mem;
        else if (!strcmp(argv[i], "--big")) slot = &opt.big;
        else if (!strcmp(argv[i], "--otr-big")) slot = &opt.otr_big;
        else if (!strcmp(argv[i], "--capi")) slot = &opt.capi;
        else die("unknown option %s", argv[i]);
        *slot = atoi(argv[++i]);
    }
    /* with --only-otr, a count of 0 skips that OTR scenario (profiling one of them) */
    min = opt.modern_rows ? 1 : 0;
    if (opt.runs < 1 || opt.runs > 64 || opt.ake < min || opt.conv < 2 || opt.burst < min ||
        opt.frag < 1 || opt.smp < min || opt.mem < 0 || opt.big < 0 || opt.otr_big < 0 ||
        opt.capi < 0) {
        die("counts out of range (runs 1..64, others >= 1; ake, burst, smp >= 0 with --only-otr)");
    }
    if (!opt.otr_rows && !opt.modern_rows) {
        die("--no-otr and --only-otr leave nothing to run");
    }
}

int main(int argc, char **argv) {
    int run, r;
    size_t i;
    struct memres mem[2] = {{0, 0, 0, 0}, {0, 0, 0, 0}}, big_or = {0, 0, 0, 0},
                  big_otr = {0, 0, 0, 0};
    double med[R_COUNT][2][2]; /* [row][lib][clock] */
    FILE *js;
    double t_start = now_s();

    parse_args(argc, argv);
    read_cpu_info();
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 0; i < sizeof pattern; i++) {
        pattern[i] = (char)('a' + (i * 7 + i / 26) % 26);
    }
    or_clock = (uint64_t)time(NULL);
    if (opt.capi > 0) {
        return capi_main();
    }
    gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
    OTRL_INIT;
    ot_ops_init();
    ot_gen_keys();
    if (opt.otr_rows) {
        or_make_otr_store(party_name[0]);
    }
    if (!opt.modern_rows) {
        opt.mem = opt.big = opt.otr_big = 0;
    }

    for (run = 0; run < opt.runs; run++) {
        /* alternate which library goes first, so neither always meets a cold (or hot) machine */
        enum lib first = run % 2 ? OFR : OTR;
        if (opt.modern_rows) {
            if (!opt.only_offrec || first == OFR) run_one(first, run);
            if (!opt.only_offrec || first == OTR) run_one((enum lib)(1 - first), run);
        }
        if (opt.otr_rows) {
            otr_run(run);
        }
    }
    if (opt.mem > 0) {
        mem[OFR] = sc_mem(OFR, opt.mem);
        fprintf(stderr, "memory offrec %d sessions: %.1f s\n", opt.mem, mem[OFR].seconds);
        if (!opt.only_offrec) {
            mem[OTR] = sc_mem(OTR, opt.mem);
            fprintf(stderr, "memory libotr %d sessions: %.1f s\n", opt.mem, mem[OTR].seconds);
        }
    }
    if (opt.big > 0) {
        big_or = sc_mem(OFR, opt.big);
        fprintf(stderr, "memory offrec %d sessions: %.1f s\n", opt.big, big_or.seconds);
    }
    if (opt.otr_big > 0 && !opt.only_offrec) {
        big_otr = sc_mem(OTR, opt.otr_big);
        fprintf(stderr, "memory libotr %d sessions: %.1f s\n", opt.otr_big, big_otr.seconds);
    }
    ot_cleanup_keys();
    offrec_buffer_free(&or_otr_store);

    for (r = 0; r < R_COUNT; r++) {
        int k;
        for (k = CPU; k <= WALL; k++) {
            med[r][OTR][k] = opt.only_offrec ? 0 : median(samples[r][OTR][k], opt.runs);
            med[r][OFR][k] = median(samples[r][OFR][k], opt.runs);
        }
    }

    if (opt.modern_rows) {
        printf("\noffrec %s vs libotr %s; medians of %d runs, alternating order\n", offrec_version(),
               otrl_version(), opt.runs);
        print_cpu_summary();
        printf("counts: ake %d, conversation %d, burst %d, fragmented burst %d, smp %d; bursts fitted "
               "over n/4, n/2, n\n",
               opt.ake, opt.conv, opt.burst, opt.frag, opt.smp);
        printf("values in thread CPU time; ratios libotr/offrec for times, offrec/libotr for rates and "
               "bytes\n\n");
        printf("%-40s %-6s %11s %11s %9s %9s  %-18s %s\n", "scenario", "unit", "libotr", "offrec",
               "CPU ratio", "wall", "target", "met");
        for (r = 0; r < R_COUNT; r++) {
            const struct target *t = target_for(r);
            double a = med[r][OTR][CPU], b = med[r][OFR][CPU], aw = med[r][OTR][WALL],
                   bw = med[r][OFR][WALL], ratio, wratio;
            const char *met = "";
            char rtext[32], wtext[32];
            /* times (ms, us) with decimals, rates and bytes whole */
            int decimals = !strcmp(rows[r].unit, "ms") || !strcmp(rows[r].unit, "us") ? 3 : 0;
            if (rows[r].unit[0] == 'B') {
                ratio = a > 0 ? b / a : 0;
                snprintf(rtext, sizeof rtext, "%.0f%%", ratio * 100);
                snprintf(wtext, sizeof wtext, "%s", "");
                if (t) met = ratio <= t->need ? "yes" : "NO";
            } else {
                ratio = rows[r].higher_better ? (a > 0 ? b / a : 0) : (b > 0 ? a / b : 0);
                wratio = rows[r].higher_better ? (aw > 0 ? bw / aw : 0) : (bw > 0 ? aw / bw : 0);
                /* a fitted fixed cost near zero can come out negative: no ratio then */
                snprintf(rtext, sizeof rtext, a > 0 && b > 0 ? "%.2fx" : "n/a", ratio);
                snprintf(wtext, sizeof wtext, aw > 0 && bw > 0 ? "%.2fx" : "n/a", wratio);
                if (t) met = ratio >= t->need ? "yes" : "NO";
            }
            printf("%-40s %-6s %11.*f %11.*f %9s %9s  %-18s %s\n", rows[r].label, rows[r].unit, decimals,
                   a, decimals, b, rtext, wtext, t ? t->text : "", met);
        }
        if (opt.mem > 0) {
            printf("%-40s %-7s %12.0f %12.0f %8.1fx  %-18s %s\n", "RSS / idle encrypted session",
                   "B", mem[OTR].rss_per, mem[OFR].rss_per,
                   mem[OFR].rss_per > 0 ? mem[OTR].rss_per / mem[OFR].rss_per : 0,
                   "offrec <= 2048 B", mem[OFR].rss_per <= 2048 ? "yes" : "NO");
            printf("%-40s %-7s %12.0f %12.0f %8.1fx\n", "  heap in use / session (mallinfo2)", "B",
                   mem[OTR].heap_per, mem[OFR].heap_per,
                   mem[OFR].heap_per > 0 ? mem[OTR].heap_per / mem[OFR].heap_per : 0);
            printf("%-40s %-7s %12.1f %12.1f    (%d sessions each)\n", "  time to set them up", "s",
                   mem[OTR].seconds, mem[OFR].seconds, opt.mem);
        }
        if (opt.big > 0) {
            printf("%-40s %-7s %12s %12.0f  (%.1f MiB RSS, set up in %.1f s)\n",
                   "one process, offrec sessions", "B/sess", opt.otr_big ? "" : "-", big_or.rss_per,
                   big_or.rss_per * opt.big / 1048576.0, big_or.seconds);
            printf("%-40s %-7s %12s %12d\n", "  sessions held", "count", "", opt.big);
        }
        if (opt.otr_big > 0 && !opt.only_offrec) {
            printf("%-40s %-7s %12.0f  (%d sessions, %.1f MiB RSS, set up in %.1f s)\n",
                   "one process, libotr sessions", "B/sess", big_otr.rss_per, opt.otr_big,
                   big_otr.rss_per * opt.otr_big / 1048576.0, big_otr.seconds);
        }
    }
    js = fopen(opt.json, "w");
    if (js == NULL) {
        die("cannot write %s", opt.json);
    }
    fprintf(js, "{\n  \"offrec_version\": \"%s\",\n  \"libotr_version\": \"%s\",\n", offrec_version(),
            otrl_version());
    fprintf(js, "  \"cpu\": {\"model\": \"%s\", \"flags\": \"%s\"},\n", cpu_model, cpu_flags);
    fprintf(js, "  \"method\": \"thread CPU time and wall time per scenario; one-way bursts received "
                "as they go in chunks of %d, fitted over n/4, n/2, n: steady = per-message slope, fixed = "
                "per-burst intercept\",\n",
            BURST_CHUNK);
    fprintf(js, "  \"runs\": %d,\n  \"counts\": {\"ake\": %d, \"conv\": %d, \"burst\": %d, "
                "\"frag\": %d, \"smp\": %d, \"mem\": %d, \"big\": %d, \"otr_big\": %d},\n",
            opt.runs, opt.ake, opt.conv, opt.burst, opt.frag, opt.smp, opt.mem, opt.big,
            opt.otr_big);
    if (opt.modern_rows) {
        fprintf(js, "  \"scenarios\": {\n");
        for (r = 0; r < R_COUNT; r++) {
            fprintf(js,
                    "    \"%s\": {\"unit\": \"%s\", \"libotr\": {\"cpu\": %.6g, \"wall\": %.6g}, "
                    "\"offrec\": {\"cpu\": %.6g, \"wall\": %.6g}},\n",
                    rows[r].key, rows[r].unit, med[r][OTR][CPU], med[r][OTR][WALL], med[r][OFR][CPU],
                    med[r][OFR][WALL]);
        }
        fprintf(js, "    \"mem_rss_per_session_bytes\": {\"sessions\": %d, \"libotr\": %.1f, "
                    "\"offrec\": %.1f},\n",
                opt.mem, mem[OTR].rss_per, mem[OFR].rss_per);
        fprintf(js, "    \"mem_heap_per_session_bytes\": {\"sessions\": %d, \"libotr\": %.1f, "
                    "\"offrec\": %.1f},\n",
                opt.mem, mem[OTR].heap_per, mem[OFR].heap_per);
        fprintf(js, "    \"big_offrec_rss_per_session_bytes\": {\"sessions\": %d, \"offrec\": %.1f},\n",
                opt.big, big_or.rss_per);
        fprintf(js, "    \"big_libotr_rss_per_session_bytes\": {\"sessions\": %d, \"libotr\": %.1f}\n",
                opt.otr_big, big_otr.rss_per);
        fprintf(js, "  }%s\n", opt.otr_rows ? "," : "");
    }
    if (opt.otr_rows) {
        otr_report(js);
        fprintf(js, "\n");
    }
    fprintf(js, "}\n");
    fclose(js);
    printf("\ntotal %.1f s\n", now_s() - t_start);
    if (opt.modern_rows) {
        /* Machine-readable C-API throughput, the reference for the bindings (bench/bindings.md). */
        printf("CAPI burst_100B_msgs_per_s=%.0f burst_4KiB_msgs_per_s=%.0f burst_100B_cpu_msgs_per_s=%.0f "
               "burst_4KiB_cpu_msgs_per_s=%.0f conv_100B_msgs_per_s=%.0f runs=%d burst=%d\n",
               median(capi_whole[0], opt.runs), median(capi_whole[1], opt.runs), median(capi_whole_cpu[0], opt.runs),
               median(capi_whole_cpu[1], opt.runs), med[R_CONV100][OFR][WALL], opt.runs, opt.burst);
    }
    return 0;
}
