/*
 * SMP on the 1536-bit group (brief §5.2 S*). libotr<->libotr is the self-test T3 (which pins
 * down that a libotr answerer of a question gains no trust); S1-S4 wait for offrec's OTR API.
 */
#include "interop.h"

#include <string.h>

#if HAVE_OFFREC_OTR
static offrec_result or_smp_start(struct party *o, const char *question, const char *secret) {
    o->last_rc = offrec_client_smp_start(o->client, o->peer, strlen(o->peer), 0,
                                         (const uint8_t *)secret, strlen(secret), question,
                                         question ? strlen(question) : 0);
    net_settle();
    return o->last_rc;
}

static bool or_verified(struct party *o, struct party *l) {
    struct offrec_session_info info;
    return or_session_info(o, l, &info) && info.state == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED;
}

static bool libotr_trusts(struct party *l, struct party *o) {
    const char *t = otr_trust(l, o);
    return t != NULL && !strcmp(t, "smp");
}

static void session(struct party **o, struct party **l) {
    otr_pair(o, l, 0, OTRL_POLICY_MANUAL, 0);
    if (!ake_offrec_asks(*o, *l)) check_fail(__FILE__, __LINE__, "no session");
}

/* S1: offrec starts without a question, same secret: both succeed, libotr trusts "smp",
 * offrec's session becomes verified. */
static void s1_offrec_starts(void) {
    struct party *o, *l;
    session(&o, &l);
    l->smp_auto_secret = "the same secret";
    CHECK(or_smp_start(o, NULL, "the same secret") == OFFREC_RESULT_OK);
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_ASK_FOR_SECRET) == 1);
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    CHECK(libotr_trusts(l, o));
    CHECK(or_verified(o, l));
    chat(o, "verified now");
}

/* S2: offrec asks a question: libotr sees it exactly (ASK_FOR_ANSWER), both succeed; the libotr
 * answerer's trust stays unchanged, offrec (the asker) is verified. */
static void s2_offrec_asks(void) {
    struct party *o, *l;
    session(&o, &l);
    l->smp_auto_secret = "Paris";
    static const char question[] = "Where did we meet? (city, \xc3\xa9t\xc3\xa9 2019)";
    CHECK(or_smp_start(o, question, "Paris") == OFFREC_RESULT_OK);
    const struct evrec *ask = ev_last(l, EV_OTR_SMP, OTRL_SMPEVENT_ASK_FOR_ANSWER);
    CHECK(ask != NULL && ask->text != NULL && !strcmp(ask->text, question));
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    CHECK(!libotr_trusts(l, o));
    CHECK(or_verified(o, l));
}

/* S3: libotr starts, without and with a question: offrec is asked (with the exact question),
 * answers, both succeed. Answering a question verifies offrec to libotr, not libotr to offrec
 * (VERIFIED_BY_PEER, as for modern sessions). */
static void s3_libotr_starts(void) {
    struct party *o, *l;
    session(&o, &l);
    o->smp_auto_secret = "shared";
    otr_smp_start(l, o, NULL, "shared");
    const struct evrec *ask = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET);
    CHECK(ask != NULL && (ask->text == NULL || ask->text_len == 0));
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    CHECK(libotr_trusts(l, o));
    CHECK(or_verified(o, l));
    assert_global();
    parties_reset();
    net_reset();

    session(&o, &l);
    o->smp_auto_secret = "42";
    otr_smp_start(l, o, "The answer?", "42");
    ask = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET);
    CHECK(ask != NULL && ask->text != NULL && !strcmp(ask->text, "The answer?"));
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(libotr_trusts(l, o));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 0);
    CHECK(!or_verified(o, l));
}

/* S4: a wrong secret, each side starting: FAILURE / SMP_FAILED, no trust anywhere. */
static void s4_wrong_secret(void) {
    struct party *o, *l;
    session(&o, &l);
    l->smp_auto_secret = "not it";
    CHECK(or_smp_start(o, NULL, "it") == OFFREC_RESULT_OK);
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_FAILED) == 1);
    CHECK(!libotr_trusts(l, o) && !or_verified(o, l));

    clock_advance(11); /* offrec's SMP rate limit is 10 s */
    o->smp_auto_secret = "mine";
    otr_smp_start(l, o, NULL, "yours");
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE) == 2);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_FAILED) == 2);
    CHECK(!libotr_trusts(l, o) && !or_verified(o, l));
    chat(l, "still talking");
}

static size_t smp_ev(const struct party *p, int code) {
    return p->kind == PARTY_LIBOTR ? ev_count(p, EV_OTR_SMP, code) : ev_count(p, EV_OFFREC, code);
}

/* Neither side has a run in progress: libotr expects SMP1, offrec reports none. */
static void check_idle(struct party *o, struct party *l) {
    ConnContext *c = otr_ctx(l, o);
    CHECK(c != NULL && c->smstate->nextExpected == OTRL_SMP_EXPECT1);
    struct offrec_session_info info;
    CHECK(or_session_info(o, l, &info) && !info.smp_in_progress);
}

/* A run offrec starts with the same secret on both sides: both succeed. */
static void run_succeeds(struct party *o, struct party *l, const char *secret) {
    size_t ls = smp_ev(l, OTRL_SMPEVENT_SUCCESS), os = smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED);
    clock_advance(11); /* offrec's SMP rate limit */
    l->smp_auto_secret = secret;
    CHECK(or_smp_start(o, NULL, secret) == OFFREC_RESULT_OK);
    l->smp_auto_secret = NULL;
    CHECK(smp_ev(l, OTRL_SMPEVENT_SUCCESS) == ls + 1);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == os + 1);
    CHECK(libotr_trusts(l, o) && or_verified(o, l));
    check_idle(o, l);
}

/* S5: aborts and simultaneous starts, and runs that succeed after them. (1) libotr aborts
 * instead of answering offrec's request; (2) offrec aborts libotr's request; a run libotr
 * starts succeeds; (3) libotr answers and aborts while its answer is on the wire (offrec reads
 * SMP2 and answers SMP3 into libotr's reset state: libotr's SMP error, and the Pidgin-like app
 * aborts again); a run offrec starts succeeds; (4) both start at once; a run succeeds. No run
 * that was aborted succeeds, nobody is marked cheating, nothing loops. */
static void s5_abort_and_simultaneous(void) {
    struct party *o, *l;
    session(&o, &l);

    /* (1) */
    CHECK(or_smp_start(o, NULL, "one") == OFFREC_RESULT_OK);
    REQUIRE(l->smp_pending);
    otr_smp_abort(l, o);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED) == 1);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 0 && smp_ev(l, OTRL_SMPEVENT_SUCCESS) == 0);
    check_idle(o, l);
    CHECK(!libotr_trusts(l, o) && !or_verified(o, l));

    /* (2) */
    otr_smp_start(l, o, NULL, "two");
    REQUIRE(o->smp_pending);
    o->smp_pending = false;
    CHECK(offrec_client_smp_abort(o->client, "bob", 3, 0) == OFFREC_RESULT_OK);
    net_pump();
    CHECK(smp_ev(l, OTRL_SMPEVENT_ABORT) == 1);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 0 && smp_ev(l, OTRL_SMPEVENT_SUCCESS) == 0);
    check_idle(o, l);
    o->smp_auto_secret = "two";
    otr_smp_start(l, o, NULL, "two");
    o->smp_auto_secret = NULL;
    CHECK(smp_ev(l, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    CHECK(libotr_trusts(l, o) && or_verified(o, l));

    /* (3) */
    size_t succ_l = smp_ev(l, OTRL_SMPEVENT_SUCCESS), succ_o = smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED);
    size_t aborted = smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED), errors = smp_ev(l, OTRL_SMPEVENT_ERROR);
    clock_advance(11);
    net_autopump = false;
    CHECK(or_smp_start(o, NULL, "three") == OFFREC_RESULT_OK);
    net_pump();
    REQUIRE(l->smp_pending);
    otr_smp_respond(l, "three"); /* SMP2 queued */
    otr_smp_abort(l, o);         /* TLV 6 queued behind it */
    net_autopump = true;
    net_pump();
    CHECK(smp_ev(l, OTRL_SMPEVENT_SUCCESS) == succ_l && smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == succ_o);
    CHECK(smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED) > aborted);
    observe("S5 (3): libotr aborts with its SMP2 on the wire: offrec answers SMP3, libotr reports SMP error %zu "
            "time(s), offrec SMP_ABORTED %zu time(s)",
            smp_ev(l, OTRL_SMPEVENT_ERROR) - errors, smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED) - aborted);
    check_idle(o, l);
    run_succeeds(o, l, "three");

    /* (4) */
    succ_l = smp_ev(l, OTRL_SMPEVENT_SUCCESS), succ_o = smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED);
    aborted = smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED), errors = smp_ev(l, OTRL_SMPEVENT_ERROR);
    size_t log_before = net_log_count();
    clock_advance(11);
    net_autopump = false;
    CHECK(or_smp_start(o, NULL, "four") == OFFREC_RESULT_OK);
    otr_smp_start(l, o, NULL, "four");
    net_autopump = true;
    net_pump();
    o->smp_pending = l->smp_pending = false;
    CHECK(smp_ev(l, OTRL_SMPEVENT_SUCCESS) == succ_l && smp_ev(o, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == succ_o);
    CHECKF(net_log_count() - log_before <= 8, "%zu messages after simultaneous starts", net_log_count() - log_before);
    observe("S5 (4): simultaneous SMP starts: %zu messages, libotr SMP error %zu, offrec SMP_ABORTED %zu",
            net_log_count() - log_before, smp_ev(l, OTRL_SMPEVENT_ERROR) - errors,
            smp_ev(o, OFFREC_EVENT_CODE_SMP_ABORTED) - aborted);
    check_idle(o, l);
    run_succeeds(o, l, "four");
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_CHEATED) == 0 && ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_CHEATED) == 0);
    chat(o, "after all that");
}

/* S7: a 1 000-byte question and a 1 000-byte secret at mms 417, each side asking: the SMP
 * messages travel in fragments, the question arrives exact, both succeed (only the asker
 * gains trust). */
static void s7_long_question(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 417);
    REQUIRE(ake_offrec_asks(o, l));
    static char q1[1001], q2[1001], s1[1001], s2[1001];
    for (size_t i = 0; i < 1000; i++) {
        q1[i] = (char)('a' + (char)(i % 26));
        q2[i] = (char)('A' + (char)(i % 26));
        s1[i] = (char)('0' + (char)(i % 10));
        s2[i] = (char)('!' + (char)(i % 90));
    }
    memcpy(q1 + 990, "?  (o ask)", 10);
    memcpy(q2 + 990, "? (l asks)", 10);
    size_t frags = net_count_containing(o, l, "?OTR|");
    l->smp_auto_secret = s1;
    CHECK(or_smp_start(o, q1, s1) == OFFREC_RESULT_OK);
    CHECK(net_count_containing(o, l, "?OTR|") > frags + 2);
    const struct evrec *ask = ev_last(l, EV_OTR_SMP, OTRL_SMPEVENT_ASK_FOR_ANSWER);
    CHECK(ask != NULL && ask->text != NULL && ask->text_len == 1000 && !memcmp(ask->text, q1, 1000));
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == 1);
    CHECK(or_verified(o, l) && !libotr_trusts(l, o));
    l->smp_auto_secret = NULL;

    clock_advance(11);
    frags = net_count_containing(l, o, "?OTR|");
    o->smp_auto_secret = s2;
    otr_smp_start(l, o, q2, s2);
    CHECK(net_count_containing(l, o, "?OTR|") > frags + 2);
    ask = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET);
    CHECK(ask != NULL && ask->text != NULL && ask->text_len == 1000 && !memcmp(ask->text, q2, 1000));
    CHECK(ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 2);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER) == 1);
    CHECK(libotr_trusts(l, o));
    chat(l, "verified both ways now");
}
#endif

const struct scenario smp_scenarios[] = {
    OTR_SCENARIO("S1", "SMP: offrec starts, no question, same secret", s1_offrec_starts),
    OTR_SCENARIO("S2", "SMP: offrec asks a question; libotr answerer gains no trust", s2_offrec_asks),
    OTR_SCENARIO("S3", "SMP: libotr starts, without and with a question", s3_libotr_starts),
    OTR_SCENARIO("S4", "SMP: wrong secret, each side starting", s4_wrong_secret),
    OTR_SCENARIO("S5", "SMP: aborts either side, mid-run, simultaneous starts; next run succeeds", s5_abort_and_simultaneous),
    OTR_SCENARIO("S7", "SMP: 1 000-byte question and secret at mms 417, each side asking", s7_long_question),
    {NULL, NULL, NULL},
};
