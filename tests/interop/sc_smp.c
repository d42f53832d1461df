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
#endif

const struct scenario smp_scenarios[] = {
    OTR_SCENARIO("S1", "SMP: offrec starts, no question, same secret", s1_offrec_starts),
    OTR_SCENARIO("S2", "SMP: offrec asks a question; libotr answerer gains no trust", s2_offrec_asks),
    OTR_SCENARIO("S3", "SMP: libotr starts, without and with a question", s3_libotr_starts),
    OTR_SCENARIO("S4", "SMP: wrong secret, each side starting", s4_wrong_secret),
    {NULL, NULL, NULL},
};
