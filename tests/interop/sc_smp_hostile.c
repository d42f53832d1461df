/*
 * S6 (brief §5.2): malformed SMP values between offrec and libotr 4.1.1.
 *
 * offrec -> libotr: a test-only offrec peer (the test hook offrec_test_client_send_otr_smp, in
 * a library built with the test-hooks feature) sends SMP TLVs built here with libgcrypt inside
 * its authenticated OTR session: an element 1, p-1 or p, an exponent response D = 0 or q, a
 * wrong MPI count, in SMP1, SMP2, SMP3 and SMP4, each arriving in the state that expects it.
 * libotr's sm.c marks the run CHEATED before it parses (sm_prog_state), so every one of them is
 * SMPEVENT_CHEATED; the Pidgin-like harness then aborts (TLV 6), which offrec reports as
 * SMP_ABORTED when it had a run and ignores when idle. A control SMP1 built the same way but
 * honest is accepted (ASK_FOR_SECRET), so each CHEATED is the bad value's doing. A quadratic
 * non-residue g2a (p - g^a2) with a proof that still verifies (c2 even) is NOT caught by
 * libotr (no subgroup check, only the range [2, p-2]): it asks for the secret.
 *
 * libotr -> offrec: libotr's own data-message code (otrl_proto_create_data, in the session it
 * keyed) carries malformed SMP1 values to offrec: offrec reports SMP_CHEATED for each, the
 * non-residue included (its subgroup check), replies with an abort (libotr: SMPEVENT_ABORT), and
 * the honest control is asked. A MITM cannot do this: SMP travels inside MAC'd data messages, so
 * a damaged libotr SMP message (last case) fails the MAC before SMP sees it and, being
 * IGNORE_UNREADABLE, is dropped silently; the run is left to an abort. Malformed values from an authenticated peer at every
 * step are otherwise covered by the Rust tests (tests/otr_smp.rs, tests/otr_hostile.rs) and the
 * bindings' vector tests (test_otr_vectors).
 *
 * Built only into the hooks harness (interop.mk: target/interop/interop-hooks, -DOFFREC_TEST_HOOKS,
 * linked to the hooks library); the plain harness has no S6.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_OFFREC_OTR && defined(OFFREC_TEST_HOOKS)

/* The SMP group: RFC 3526's 1536-bit prime (libotr's sm.c, the OTR spec), generator 2. */
static const char SMP_P_HEX[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";

static gcry_mpi_t P, Q, G;

static void group_init(void) {
    gcry_mpi_scan(&P, GCRYMPI_FMT_HEX, SMP_P_HEX, 0, NULL);
    Q = gcry_mpi_new(1536);
    gcry_mpi_sub_ui(Q, P, 1);
    gcry_mpi_rshift(Q, Q, 1);
    G = gcry_mpi_set_ui(NULL, 2);
}

static void group_free(void) {
    gcry_mpi_release(P);
    gcry_mpi_release(Q);
    gcry_mpi_release(G);
    P = Q = G = NULL;
}

static gcry_mpi_t num(unsigned long v) { return gcry_mpi_set_ui(NULL, v); }

static gcry_mpi_t p_minus(unsigned long k) {
    gcry_mpi_t x = gcry_mpi_new(1536);
    gcry_mpi_sub_ui(x, P, k);
    return x;
}

static gcry_mpi_t random_exponent(void) {
    gcry_mpi_t x = gcry_mpi_new(1536);
    gcry_mpi_randomize(x, 1536, GCRY_WEAK_RANDOM);
    gcry_mpi_mod(x, x, Q);
    if (gcry_mpi_cmp_ui(x, 2) < 0) gcry_mpi_set_ui(x, 2);
    return x;
}

/* SMP's hash: SHA-256(version BYTE || MPI(a)) as an integer. */
static gcry_mpi_t smp_hash(int version, gcry_mpi_t a) {
    unsigned char *bytes = NULL, out[32];
    size_t n = 0;
    gcry_mpi_aprint(GCRYMPI_FMT_USG, &bytes, &n, a);
    unsigned char *in = malloc(5 + n);
    if (in == NULL) exit(2);
    in[0] = (unsigned char)version;
    in[1] = (unsigned char)(n >> 24);
    in[2] = (unsigned char)(n >> 16);
    in[3] = (unsigned char)(n >> 8);
    in[4] = (unsigned char)n;
    memcpy(in + 5, bytes, n);
    gcry_md_hash_buffer(GCRY_MD_SHA256, out, in, 5 + n);
    gcry_mpi_t c = NULL;
    gcry_mpi_scan(&c, GCRYMPI_FMT_USG, out, sizeof out, NULL);
    free(in);
    gcry_free(bytes);
    return c;
}

/* out = {y, c, d}: y = g^x for a random x (with `negate`, y = p - g^x, a quadratic
 * non-residue) and a proof of knowledge of x under `version`: c = H(version, g^r),
 * d = r - x c mod q. libotr checks H(g^d y^c) = c; for p - g^x that holds when c is even, so
 * with `negate` the proof is redrawn until it is. */
static void know_log(int version, bool negate, gcry_mpi_t out[3]) {
    gcry_mpi_t x = random_exponent();
    out[0] = gcry_mpi_new(1536);
    gcry_mpi_powm(out[0], G, x, P);
    if (negate) gcry_mpi_sub(out[0], P, out[0]);
    for (;;) {
        gcry_mpi_t r = random_exponent(), t = gcry_mpi_new(1536);
        gcry_mpi_powm(t, G, r, P);
        gcry_mpi_t c = smp_hash(version, t);
        gcry_mpi_release(t);
        if (negate && gcry_mpi_test_bit(c, 0)) {
            gcry_mpi_release(r);
            gcry_mpi_release(c);
            continue;
        }
        gcry_mpi_t xc = gcry_mpi_new(1536);
        out[1] = c;
        out[2] = gcry_mpi_new(1536);
        gcry_mpi_mulm(xc, x, c, Q);
        gcry_mpi_subm(out[2], r, xc, Q);
        gcry_mpi_release(xc);
        gcry_mpi_release(r);
        gcry_mpi_release(x);
        return;
    }
}

#define MAX_MPIS 12

/* An SMP message under construction: `n` MPIs (owned). */
struct smp_msg {
    gcry_mpi_t m[MAX_MPIS];
    int n;
};

static void msg_free(struct smp_msg *s) {
    for (int i = 0; i < s->n; i++) gcry_mpi_release(s->m[i]);
    s->n = 0;
}

/* An honest-looking SMP1 (g2a, c2, D2, g3a, c3, D3) whose proofs verify; with `non_residue`,
 * g2a is p - g^a2 (its proof still verifies). */
static void smp1(struct smp_msg *s, bool non_residue) {
    know_log(1, non_residue, s->m);
    know_log(2, false, s->m + 3);
    s->n = 6;
}

/* `n` in-range placeholder values (4 for elements and exponents alike): for messages whose bad
 * value libotr's range check meets before any proof. */
static void placeholders(struct smp_msg *s, int n) {
    for (int i = 0; i < n; i++) s->m[i] = num(4);
    s->n = n;
}

/* Replaces MPI i (takes v). */
static void set(struct smp_msg *s, int i, gcry_mpi_t v) {
    gcry_mpi_release(s->m[i]);
    s->m[i] = v;
}

/* INT count || MPIs, minimal big-endian (as libotr writes them; 0 is an empty MPI). */
static size_t serialize(const struct smp_msg *s, int count, unsigned char *out, size_t cap) {
    size_t at = 4;
    out[0] = out[1] = out[2] = 0;
    out[3] = (unsigned char)count;
    for (int i = 0; i < s->n; i++) {
        unsigned char *bytes = NULL;
        size_t n = 0;
        gcry_mpi_aprint(GCRYMPI_FMT_USG, &bytes, &n, s->m[i]);
        if (gcry_mpi_cmp_ui(s->m[i], 0) == 0) n = 0;
        if (at + 4 + n > cap) exit(2);
        out[at] = (unsigned char)(n >> 24);
        out[at + 1] = (unsigned char)(n >> 16);
        out[at + 2] = (unsigned char)(n >> 8);
        out[at + 3] = (unsigned char)n;
        memcpy(out + at + 4, bytes, n);
        at += 4 + n;
        gcry_free(bytes);
    }
    return at;
}

/* offrec (the test-only peer) sends one SMP TLV in its OTR session with l. */
static void offrec_sends(struct party *o, unsigned type, const struct smp_msg *s, int count) {
    static unsigned char buf[4096];
    size_t n = serialize(s, count, buf, sizeof buf);
    offrec_result rc = offrec_test_client_send_otr_smp(o->client, o->peer, strlen(o->peer), 0, type, buf, n);
    CHECKF(rc == OFFREC_RESULT_OK, "offrec_test_client_send_otr_smp: %s", offrec_result_message(rc));
    net_settle();
}

/* libotr's own data-message code sends one SMP TLV in the session it keyed with o (its SMP
 * state is not touched). */
static void libotr_sends(struct party *l, struct party *o, unsigned type, const struct smp_msg *s, int count) {
    static unsigned char buf[4096];
    size_t n = serialize(s, count, buf, sizeof buf);
    ConnContext *c = otr_ctx(l, o);
    char *msg = NULL;
    OtrlTLV *tlv = otrl_tlv_new((unsigned short)type, (unsigned short)n, buf);
    gcry_error_t err = c != NULL ? otrl_proto_create_data(&msg, c, "", tlv, OTRL_MSGFLAGS_IGNORE_UNREADABLE, NULL)
                                 : gcry_error(GPG_ERR_INV_VALUE);
    otrl_tlv_free(tlv);
    CHECKF(err == 0 && msg != NULL, "otrl_proto_create_data failed");
    if (msg != NULL) net_inject(l, o, msg);
    free(msg);
    net_settle();
}

static size_t lsmp(const struct party *l, int code) { return ev_count(l, EV_OTR_SMP, code); }
static size_t osmp(const struct party *o, int code) { return ev_count(o, EV_OFFREC, code); }

static void session(struct party **o, struct party **l) {
    otr_pair(o, l, 0, OTRL_POLICY_MANUAL, 0);
    if (!ake_offrec_asks(*o, *l)) check_fail(__FILE__, __LINE__, "no session");
}

static void new_world(struct party **o, struct party **l) {
    assert_global();
    parties_reset();
    net_reset();
    session(o, l);
}

static bool libotr_expects(struct party *l, struct party *o, NextExpectedSMP state) {
    ConnContext *c = otr_ctx(l, o);
    return c != NULL && c->smstate->nextExpected == state;
}

/* One malformed message offrec sends into the state that expects it: libotr must report
 * CHEATED once (and abort, as Pidgin does), give no trust, and go back to EXPECT1. */
static void libotr_cheated(struct party *o, struct party *l, const char *what, unsigned type,
                           struct smp_msg *s, int count) {
    size_t cheated = lsmp(l, OTRL_SMPEVENT_CHEATED), asked = lsmp(l, OTRL_SMPEVENT_ASK_FOR_SECRET);
    size_t aborts = net_count(l, o);
    offrec_sends(o, type, s, count);
    msg_free(s);
    CHECKF(lsmp(l, OTRL_SMPEVENT_CHEATED) == cheated + 1, "%s: libotr reported CHEATED %zu time(s)", what,
           lsmp(l, OTRL_SMPEVENT_CHEATED) - cheated);
    CHECKF(lsmp(l, OTRL_SMPEVENT_ASK_FOR_SECRET) == asked, "%s: libotr asked for the secret", what);
    CHECKF(net_count(l, o) == aborts + 1, "%s: libotr sent %zu message(s), not its one abort", what,
           net_count(l, o) - aborts);
    CHECKF(libotr_expects(l, o, OTRL_SMP_EXPECT1), "%s: libotr is not back to EXPECT1", what);
    const char *trust = otr_trust(l, o);
    CHECKF(trust == NULL || trust[0] == '\0', "%s: libotr trusts offrec (%s)", what, trust);
    CHECKF(lsmp(l, OTRL_SMPEVENT_SUCCESS) == 0, "%s: libotr succeeded", what);
}

/* S6, offrec -> libotr: SMP1 (libotr idle). */
static void s6_smp1_into_libotr(struct party *o, struct party *l) {
    struct smp_msg s;

    /* control: the builder's honest SMP1 is accepted */
    smp1(&s, false);
    offrec_sends(o, 2, &s, 6);
    msg_free(&s);
    CHECK(lsmp(l, OTRL_SMPEVENT_ASK_FOR_SECRET) == 1 && lsmp(l, OTRL_SMPEVENT_CHEATED) == 0);
    CHECK(l->smp_pending); /* libotr waits for its user's secret */
    otr_smp_abort(l, o);
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED) == 0); /* offrec had no run: silent */

    smp1(&s, false);
    set(&s, 0, num(1));
    libotr_cheated(o, l, "SMP1 g2a = 1", 2, &s, 6);
    smp1(&s, false);
    set(&s, 0, p_minus(1));
    libotr_cheated(o, l, "SMP1 g2a = p - 1", 2, &s, 6);
    smp1(&s, false);
    set(&s, 3, p_minus(0));
    libotr_cheated(o, l, "SMP1 g3a = p", 2, &s, 6);
    smp1(&s, false);
    set(&s, 2, num(0));
    libotr_cheated(o, l, "SMP1 D2 = 0", 2, &s, 6);
    smp1(&s, false);
    set(&s, 5, gcry_mpi_copy(Q));
    libotr_cheated(o, l, "SMP1 D3 = q", 2, &s, 6);
    smp1(&s, false);
    gcry_mpi_release(s.m[5]);
    s.n = 5;
    libotr_cheated(o, l, "SMP1 with 5 MPIs", 2, &s, 5);
    smp1(&s, false);
    s.m[s.n++] = num(4);
    libotr_cheated(o, l, "SMP1 with 7 MPIs", 2, &s, 7);
    smp1(&s, false);
    libotr_cheated(o, l, "SMP1 announcing 7 MPIs, carrying 6", 2, &s, 7);

    /* a quadratic non-residue with a proof that verifies: libotr has no subgroup check */
    smp1(&s, true);
    offrec_sends(o, 2, &s, 6);
    msg_free(&s);
    CHECKF(lsmp(l, OTRL_SMPEVENT_ASK_FOR_SECRET) == 2 && l->smp_pending,
           "libotr refused a non-residue g2a (ASK %zu, CHEATED %zu)", lsmp(l, OTRL_SMPEVENT_ASK_FOR_SECRET),
           lsmp(l, OTRL_SMPEVENT_CHEATED));
    observe("S6: libotr accepts an SMP1 whose g2a is a quadratic non-residue (p - g^a2) when its proof "
            "verifies (c2 even): sm.c checks elements against [2, p-2] only; offrec refuses it (SMP_CHEATED)");
    otr_smp_abort(l, o);
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_CHEATED) == 0 && osmp(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 0);
}

/* S6, offrec -> libotr: SMP2 into libotr's EXPECT2 (libotr started; offrec was asked). */
static void s6_smp2_into_libotr(struct party *o, struct party *l) {
    static const struct {
        const char *what;
        int index; /* of 11: g2b c2 D2 g3b c3 D3 Pb Qb cP D5 D6 */
        unsigned long value; /* 1, or 0 */
        int count;
    } cases[] = {
        {"SMP2 Pb = 1", 6, 1, 11},
        {"SMP2 g3b = 1", 3, 1, 11},
        {"SMP2 D5 = 0", 9, 0, 11},
        {"SMP2 with 10 MPIs", -1, 0, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct smp_msg s;
        size_t aborted = osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED);
        otr_smp_start(l, o, NULL, "their secret");
        REQUIRE(o->smp_pending && libotr_expects(l, o, OTRL_SMP_EXPECT2));
        o->smp_pending = false;
        placeholders(&s, cases[i].count);
        if (cases[i].index >= 0) set(&s, cases[i].index, num(cases[i].value));
        libotr_cheated(o, l, cases[i].what, 3, &s, cases[i].count);
        /* libotr's abort ends the run offrec was asked to answer */
        CHECKF(osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED) == aborted + 1, "%s: offrec did not report the abort",
               cases[i].what);
        CHECK(offrec_client_smp_respond(o->client, o->peer, strlen(o->peer), 0, (const uint8_t *)"x", 1) !=
              OFFREC_RESULT_OK);
    }
}

/* S6, offrec -> libotr: SMP3 into libotr's EXPECT3 (offrec started, libotr answered; offrec's
 * honest SMP3 is dropped on the wire and the malformed one goes instead). */
static void s6_smp3_into_libotr(struct party *o, struct party *l) {
    struct smp_msg s;
    size_t aborted = osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED);
    net_rule_add(o, l, (struct net_rule){.action = RULE_DROP, .nth = (unsigned)net_count(o, l) + 2});
    l->smp_auto_secret = "same";
    offrec_result rc = offrec_client_smp_start(o->client, o->peer, strlen(o->peer), 0, (const uint8_t *)"same", 4,
                                               NULL, 0);
    REQUIRE(rc == OFFREC_RESULT_OK);
    net_settle();
    l->smp_auto_secret = NULL;
    REQUIRE(libotr_expects(l, o, OTRL_SMP_EXPECT3)); /* offrec's SMP3 was the message dropped */
    placeholders(&s, 8); /* Pa Qa cP D5 D6 Ra cR D7 */
    set(&s, 5, p_minus(1));
    libotr_cheated(o, l, "SMP3 Ra = p - 1", 4, &s, 8);
    CHECKF(osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED) == aborted + 1, "SMP3: offrec (awaiting SMP4) saw no abort");
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 0);
}

/* S6, offrec -> libotr: SMP4 into libotr's EXPECT4 (libotr started, offrec answered and read
 * libotr's SMP3; offrec's SMP4 is dropped, the malformed one goes instead). */
static void s6_smp4_into_libotr(struct party *o, struct party *l) {
    struct smp_msg s;
    net_rule_add(o, l, (struct net_rule){.action = RULE_DROP, .nth = (unsigned)net_count(o, l) + 2});
    o->smp_auto_secret = "same";
    otr_smp_start(l, o, NULL, "same");
    o->smp_auto_secret = NULL;
    REQUIRE(libotr_expects(l, o, OTRL_SMP_EXPECT4));
    /* offrec learnt the result from libotr's honest SMP3, as Bob does */
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    placeholders(&s, 3); /* Rb cR D7 */
    set(&s, 0, num(1));
    libotr_cheated(o, l, "SMP4 Rb = 1", 5, &s, 3);
    observe("S6: a malformed SMP4 leaves libotr (the initiator) CHEATED and untrusting while offrec, which read "
            "libotr's honest SMP3, verified libotr; libotr's abort reaches an idle offrec silently");
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_ABORTED) == 0);
}

/* S6, libotr -> offrec: malformed SMP1s made by libotr's own data-message code. */
static void s6_smp1_into_offrec(struct party *o, struct party *l) {
    static const char *const what[] = {
        "control", "g2a = 1", "g2a = p - 1", "g2a a non-residue with a valid proof", "D2 = 0", "D3 = q", "5 MPIs",
    };
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        struct smp_msg s;
        int count = 6;
        smp1(&s, i == 3);
        if (i == 1) set(&s, 0, num(1));
        if (i == 2) set(&s, 0, p_minus(1));
        if (i == 4) set(&s, 2, num(0));
        if (i == 5) set(&s, 5, gcry_mpi_copy(Q));
        if (i == 6) {
            gcry_mpi_release(s.m[5]);
            s.n = count = 5;
        }
        size_t cheated = osmp(o, OFFREC_EVENT_CODE_SMP_CHEATED), asked = osmp(o, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET);
        size_t labort = lsmp(l, OTRL_SMPEVENT_ABORT);
        libotr_sends(l, o, 2, &s, count);
        msg_free(&s);
        if (i == 0) {
            CHECKF(osmp(o, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) == asked + 1, "libotr's control SMP1 was not asked");
            o->smp_pending = false;
            CHECK(offrec_client_smp_abort(o->client, o->peer, strlen(o->peer), 0) == OFFREC_RESULT_OK);
            net_settle();
        } else {
            CHECKF(osmp(o, OFFREC_EVENT_CODE_SMP_CHEATED) == cheated + 1 &&
                       osmp(o, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) == asked,
                   "offrec: SMP1 %s is not cheating", what[i]);
        }
        /* offrec answers with an abort itself (PROTOCOL.md B.8): libotr, idle, reports it */
        CHECKF(lsmp(l, OTRL_SMPEVENT_ABORT) == labort + 1, "SMP1 %s: libotr saw %zu abort(s)", what[i],
               lsmp(l, OTRL_SMPEVENT_ABORT) - labort);
        CHECK(libotr_expects(l, o, OTRL_SMP_EXPECT1));
    }
    CHECK(osmp(o, OFFREC_EVENT_CODE_MALFORMED) == 0 && osmp(o, OFFREC_EVENT_CODE_UNREADABLE) == 0);
}

/* S6, on the wire: a MITM damages libotr's SMP1 (a character in the middle of its ciphertext).
 * The MAC fails before SMP sees anything, and SMP messages are IGNORE_UNREADABLE: offrec drops
 * it silently (no UNREADABLE event, no error message, no SMP event); its SMP state stays idle,
 * libotr's run waits until aborted. */
static void s6_damaged_on_the_wire(struct party *o, struct party *l) {
    net_rule_add(l, o, (struct net_rule){.action = RULE_REWRITE, .nth = (unsigned)net_count(l, o) + 1,
                                         .rewrite = rewrite_flip_middle});
    otr_smp_start(l, o, NULL, "secret");
    CHECK(osmp(o, OFFREC_EVENT_CODE_UNREADABLE) == 0 && osmp(o, OFFREC_EVENT_CODE_MALFORMED) == 0);
    CHECK(net_count_containing(o, l, "?OTR Error:") == 0);
    CHECK(osmp(o, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) == 0 && osmp(o, OFFREC_EVENT_CODE_SMP_CHEATED) == 0);
    struct offrec_session_info info;
    CHECK(or_session_info(o, l, &info) && !info.smp_in_progress);
    CHECK(libotr_expects(l, o, OTRL_SMP_EXPECT2));
    otr_smp_abort(l, o);
    chat(o, "still talking after the damaged SMP message");
}

static void s6_malformed_smp(void) {
    struct party *o, *l;
    group_init();
    session(&o, &l);
    s6_smp1_into_libotr(o, l);
    s6_smp2_into_libotr(o, l);
    new_world(&o, &l);
    s6_smp3_into_libotr(o, l);
    new_world(&o, &l);
    s6_smp4_into_libotr(o, l);
    new_world(&o, &l);
    s6_smp1_into_offrec(o, l);
    new_world(&o, &l);
    s6_damaged_on_the_wire(o, l);
    chat(l, "the session outlived all of it");
    group_free();
}
#endif

const struct scenario smp_hostile_scenarios[] = {
#if HAVE_OFFREC_OTR && defined(OFFREC_TEST_HOOKS)
    OTR_SCENARIO("S6", "SMP: malformed values both ways (element 1/p-1/p, non-residue, D=0/q, MPI counts), "
                       "SMP1-SMP4; a damaged SMP message", s6_malformed_smp),
#endif
    {NULL, NULL, NULL},
};
