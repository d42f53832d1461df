/*
 * The checks the runner makes after every scenario (brief §5.1 "Global asserts"):
 *   - every text a scenario expected was shown byte-exact, exactly once, with the expected
 *     security, and nothing else was shown;
 *   - no libotr RCVDMSG_MALFORMED / RCVDMSG_UNRECOGNIZED / SETUP_ERROR / ENCRYPTION_ERROR and
 *     no offrec MALFORMED, unless the scenario allowed it;
 *   - no error-message loop: at most one `?OTR Error:` per 10 s from each party;
 *   - the two ends of every conversation agree on whether it is encrypted;
 *   - each end of an encrypted conversation holds the other's DSA fingerprint;
 *   - the SSIDs are equal and the bold halves opposite.
 * The wire tap (network.c) fails a scenario as soon as it sees a bad text.
 */
#include "interop.h"

#include <stdlib.h>
#include <string.h>

static const char *sec_name(enum sec_want s) {
    return s == SEC_PLAIN ? "plaintext" : s == SEC_ENCRYPTED ? "encrypted" : "any";
}

void assert_deliveries(void) {
    for (int i = 0; i < nparties; i++) {
        struct party *p = parties[i];
        bool *used = calloc(p->ndel + 1, sizeof *used);
        if (used == NULL) exit(2);
        for (size_t e = 0; e < p->nexp; e++) {
            const struct expectation *x = &p->exp[e];
            size_t hit = p->ndel;
            for (size_t d = 0; d < p->ndel && hit == p->ndel; d++) {
                if (!used[d] && p->del[d].len == x->len && !memcmp(p->del[d].text, x->text, x->len)) {
                    hit = d;
                }
            }
            if (hit == p->ndel) {
                check_fail(__FILE__, __LINE__, "%s was never shown (%zu B) \"%.60s\"", p->label,
                           x->len, x->text);
                continue;
            }
            used[hit] = true;
            bool enc = p->del[hit].encrypted;
            CHECKF(x->security == SEC_ANY || enc == (x->security == SEC_ENCRYPTED),
                   "%s was shown \"%.40s\" %s, expected %s", p->label, x->text,
                   enc ? "encrypted" : "in plaintext", sec_name(x->security));
        }
        for (size_t d = 0; d < p->ndel; d++) {
            CHECKF(used[d], "%s was shown something unexpected (%zu B, %s): \"%.60s\"", p->label,
                   p->del[d].len, p->del[d].encrypted ? "encrypted" : "plain", p->del[d].text);
        }
        free(used);
    }
}

void assert_no_bad_events(void) {
    static const OtrlMessageEvent bad[] = {OTRL_MSGEVENT_RCVDMSG_MALFORMED,
                                           OTRL_MSGEVENT_RCVDMSG_UNRECOGNIZED,
                                           OTRL_MSGEVENT_SETUP_ERROR,
                                           OTRL_MSGEVENT_ENCRYPTION_ERROR};
    for (int i = 0; i < nparties; i++) {
        struct party *p = parties[i];
        if (p->kind == PARTY_LIBOTR) {
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                if (p->allowed_otr_msg_events & ((uint64_t)1 << bad[b])) continue;
                CHECKF(ev_count(p, EV_OTR_MSG, bad[b]) == 0, "libotr %s: message event %d seen %zu time(s)",
                       p->label, (int)bad[b], ev_count(p, EV_OTR_MSG, bad[b]));
            }
        } else if (!p->allow_offrec_malformed) {
            CHECKF(ev_count(p, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED) == 0,
                   "offrec %s: MALFORMED seen %zu time(s)", p->label,
                   ev_count(p, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED));
        }
    }
}

void assert_no_error_loops(void) {
    for (int i = 0; i < nparties; i++) {
        struct party *p = parties[i];
        if (p->allow_error_burst) continue;
        time_t last = 0;
        bool seen = false;
        for (size_t k = 0; k < net_log_count(); k++) {
            const struct wire_rec *w = net_log(k);
            if (w->from != p->id || strstr(w->text, "?OTR Error:") == NULL) continue;
            CHECKF(!seen || w->at - last >= 10, "%s sent two ?OTR Error: messages within %ld s",
                   p->label, (long)(w->at - last));
            seen = true;
            last = w->at;
        }
    }
}

/* Pairs of parties that talk to each other (each one's peer is the other's account). */
#define FOR_EACH_PAIR(a, b)                                                              \
    for (int ia_ = 0; ia_ < nparties; ia_++)                                             \
        for (int ib_ = ia_ + 1; ib_ < nparties; ib_++)                                   \
            for (struct party *a = parties[ia_], *b = parties[ib_]; a != NULL; a = NULL) \
                if (!strcmp(a->peer, b->account) && !strcmp(b->peer, a->account))

void assert_msgstates_agree(void) {
    FOR_EACH_PAIR(a, b) {
        bool ea = party_encrypted_with(a, b), eb = party_encrypted_with(b, a);
        CHECKF(ea == eb, "%s %s encrypted with %s, but %s %s", a->label, ea ? "is" : "is not",
               b->label, b->label, eb ? "is" : "is not");
    }
}

/* What p holds as q's DSA fingerprint (false if p has no OTR session with q). */
static bool held_fingerprint(struct party *p, struct party *q, uint8_t out[20]) {
    if (p->kind == PARTY_LIBOTR) {
        ConnContext *c = otr_ctx(p, q);
        if (c == NULL || c->msgstate != OTRL_MSGSTATE_ENCRYPTED || c->active_fingerprint == NULL) return false;
        memcpy(out, c->active_fingerprint->fingerprint, 20);
        return true;
    }
#if HAVE_OFFREC_OTR
    struct offrec_session_protocol sp;
    if (!or_protocol(p, q, &sp) || !sp.has_otr_fingerprint) return false;
    memcpy(out, sp.their_otr_fingerprint, 20);
    return true;
#else
    (void)q, (void)out;
    return false;
#endif
}

/* p's own DSA fingerprint (false if it has none). */
static bool own_fingerprint(struct party *p, uint8_t out[20]) {
    if (p->kind == PARTY_LIBOTR) {
        otr_fingerprint(p, out);
        return true;
    }
#if HAVE_OFFREC_OTR
    return offrec_client_otr_fingerprint(p->client, out) == OFFREC_RESULT_OK;
#else
    (void)out;
    return false;
#endif
}

void assert_fingerprints_match(void) {
    FOR_EACH_PAIR(a, b) {
        struct party *ends[2][2] = {{a, b}, {b, a}};
        for (int k = 0; k < 2; k++) {
            struct party *holder = ends[k][0], *owner = ends[k][1];
            uint8_t held[20], own[20];
            if (!held_fingerprint(holder, owner, held) || !own_fingerprint(owner, own)) continue;
            CHECKF(!memcmp(held, own, 20), "%s holds a DSA fingerprint for %s that is not %s's key",
                   holder->label, owner->label, owner->label);
        }
    }
}

/* p's SSID with q (8 bytes) and whether p shows the first half bold. */
static bool otr_ssid(struct party *p, struct party *q, uint8_t ssid[8], bool *first_bold) {
    if (p->kind == PARTY_LIBOTR) {
        ConnContext *c = otr_ctx(p, q);
        if (c == NULL || c->msgstate != OTRL_MSGSTATE_ENCRYPTED || c->sessionid_len != 8) return false;
        memcpy(ssid, c->sessionid, 8);
        *first_bold = c->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD;
        return true;
    }
#if HAVE_OFFREC_OTR
    struct offrec_session_protocol sp;
    if (!or_protocol(p, q, &sp) || sp.protocol == 1) return false;
    memcpy(ssid, sp.otr_ssid, 8);
    *first_bold = sp.otr_ssid_first_half_bold;
    return true;
#else
    (void)q, (void)ssid, (void)first_bold;
    return false;
#endif
}

void assert_ssids_match(void) {
    FOR_EACH_PAIR(a, b) {
        uint8_t sa[8], sb[8];
        bool fa, fb;
        if (!otr_ssid(a, b, sa, &fa) || !otr_ssid(b, a, sb, &fb)) continue;
        CHECKF(!memcmp(sa, sb, 8), "%s and %s have different SSIDs", a->label, b->label);
        CHECKF(fa != fb, "%s and %s both show the %s half of the SSID bold", a->label, b->label,
               fa ? "first" : "second");
    }
}

void assert_global(void) {
    assert_deliveries();
    assert_no_bad_events();
    assert_no_error_loops();
    assert_msgstates_agree();
    assert_fingerprints_match();
    assert_ssids_match();
}

void assert_libotr_pair_secure(struct party *a, struct party *b, unsigned version) {
    ConnContext *ca = otr_ctx(a, b), *cb = otr_ctx(b, a);
    CHECKF(ca && ca->msgstate == OTRL_MSGSTATE_ENCRYPTED, "%s is not encrypted with %s", a->label, b->label);
    CHECKF(cb && cb->msgstate == OTRL_MSGSTATE_ENCRYPTED, "%s is not encrypted with %s", b->label, a->label);
    if (ca) CHECKF(ca->protocol_version == version, "%s: protocol v%u, want v%u", a->label, ca->protocol_version, version);
    if (cb) CHECKF(cb->protocol_version == version, "%s: protocol v%u, want v%u", b->label, cb->protocol_version, version);
}
