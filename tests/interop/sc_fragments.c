/*
 * Fragmentation (brief §5.2 F*). libotr's own fragmenting is covered by the self-tests T2, T7
 * and T10; F1 waits for offrec's OTR API.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_OFFREC_OTR
static char *filled(size_t len, char first) {
    char *t = malloc(len + 1);
    if (t == NULL) exit(2);
    for (size_t i = 0; i < len; i++) t[i] = (char)('0' + (char)(i % 75));
    t[0] = first;
    t[len] = '\0';
    return t;
}

/* F1: at mms 40, 120, 200, 417 and 1409 the AKE and 1, 10 and 50 kB both ways arrive exactly;
 * offrec's fragments fit its mms (the wire tap fails any that does not) and are in libotr's
 * format; libotr's zero-padded fragments are read by offrec. The AKE starts with offrec's
 * query at every size and also with libotr's where libotr's query survives its own
 * fragmenting (T10: from its length up). */
static void f1_sizes(void) {
    static const int mmss[] = {40, 120, 200, 417, 1409};
    static const size_t sizes[] = {1000, 10000, 50000};
    for (size_t m = 0; m < sizeof mmss / sizeof mmss[0]; m++) {
        for (int offrec_asks = 1; offrec_asks >= 0; offrec_asks--) {
            if (!offrec_asks && mmss[m] < 417) continue;
            struct party *o, *l;
            otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, mmss[m]);
            REQUIRE(offrec_asks ? ake_offrec_asks(o, l) : ake_libotr_asks(l, o));
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                char *t = filled(sizes[s], 'O');
                chat(o, t);
                t[0] = 'L';
                chat(l, t);
                free(t);
            }
            CHECK(net_count_containing(o, l, "?OTR|") > 0);
            CHECK(net_count_containing(l, o, "?OTR|") > 0);
            CHECK(net_max_otr_len(o) <= (size_t)mmss[m]);
            CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_INPUT_DROPPED) == 0);
            assert_global();
            parties_reset();
            net_reset();
        }
    }
}

/* A fragment made by hand: `head` is everything up to the piece ("?OTR|...,k,n,"). */
static char *hand_fragment(const char *head, const char *piece, size_t piece_len) {
    size_t hl = strlen(head);
    char *f = malloc(hl + piece_len + 2);
    if (f == NULL) exit(2);
    memcpy(f, head, hl);
    memcpy(f + hl, piece, piece_len);
    f[hl + piece_len] = ',';
    f[hl + piece_len + 1] = '\0';
    return f;
}

/* libotr's next message to offrec, kept off the wire by the capture rule: its text. */
static char *libotr_message(struct party *l, struct net_capture *cap, const char *text) {
    cap->on = true;
    CHECK(party_send(l, text) == 0);
    cap->on = false;
    char *m = net_capture_take(cap);
    CHECKF(m != NULL && !strncmp(m, "?OTR:AAMD", 9) && cap->n == 0, "capture of \"%s\"", text);
    return m;
}

enum frag_style { FS_LIBOTR, FS_NO_ZEROS, FS_UPPER_HEX, FS_MORE_ZEROS, FS_RECEIVER_ZERO, FS_TEXT_BEFORE };

/* The head of piece k of n in one of the accepted styles. */
static void styled_head(char *out, size_t cap, enum frag_style st, uint32_t s, uint32_t r, unsigned k, unsigned n) {
    switch (st) {
    case FS_LIBOTR: snprintf(out, cap, "?OTR|%08x|%08x,%05u,%05u,", s, r, k, n); break;
    case FS_NO_ZEROS: snprintf(out, cap, "?OTR|%x|%x,%u,%u,", s, r, k, n); break;
    case FS_UPPER_HEX: snprintf(out, cap, "?OTR|%08X|%08X,%05u,%05u,", s, r, k, n); break;
    case FS_MORE_ZEROS: snprintf(out, cap, "?OTR|%012x|%016x,%010u,%07u,", s, r, k, n); break;
    case FS_RECEIVER_ZERO: snprintf(out, cap, "?OTR|%08x|00000000,%05u,%05u,", s, k, n); break;
    case FS_TEXT_BEFORE: snprintf(out, cap, "relay: ?OTR|%08x|%08x,%05u,%05u,", s, r, k, n); break;
    }
}

/* A libotr sender "bob" and a receiver "alice" (offrec, or libotr for reference) in a v3
 * session, bob's messages to alice kept off the wire by `cap`. */
static bool fragment_world(bool offrec_receives, struct party **snd, struct party **rcv, struct net_capture *cap) {
    bool ok;
    if (offrec_receives) {
        otr_pair(rcv, snd, 0, OTRL_POLICY_MANUAL, 0);
        ok = ake_offrec_asks(*rcv, *snd);
    } else {
        *rcv = party_libotr("alice", "alice", "bob", OTRL_POLICY_MANUAL, NULL);
        *snd = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
        otr_query(*rcv);
        ok = party_encrypted_with(*rcv, *snd) && party_encrypted_with(*snd, *rcv);
    }
    memset(cap, 0, sizeof *cap);
    net_rule_add(*snd, *rcv, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = cap});
    return ok;
}

static void end_world(struct net_capture *cap) {
    net_capture_free(cap);
    assert_global();
    parties_reset();
    net_reset();
}

/* F2: hand-made variants of libotr's fragment format: no leading zeros, upper-case hex, more
 * leading zeros, receiver tag 0, text before each fragment, a message in one piece. offrec
 * reassembles every one; libotr, fed the same, is the reference (recorded; it reads them all,
 * its sscanf takes %x and %hu). */
static void f2_fragment_variants(void) {
    static const struct {
        enum frag_style style;
        unsigned pieces;
        const char *name;
    } variants[] = {
        {FS_LIBOTR, 3, "libotr's own %08x/%05u"},  {FS_NO_ZEROS, 3, "no leading zeros"},
        {FS_UPPER_HEX, 3, "upper-case hex"},       {FS_MORE_ZEROS, 4, "more leading zeros (00001 and longer)"},
        {FS_RECEIVER_ZERO, 2, "receiver tag 0"},   {FS_TEXT_BEFORE, 3, "text before each fragment"},
        {FS_LIBOTR, 1, "one piece, 00001 of 00001"},
    };
    for (int offrec_receives = 1; offrec_receives >= 0; offrec_receives--) {
        struct party *l, *rcv;
        struct net_capture cap;
        REQUIRE(fragment_world(offrec_receives, &l, &rcv, &cap));
        uint32_t s = party_instag(l), r = party_instag(rcv);
        char unread[256] = "";
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            char text[96];
            snprintf(text, sizeof text, "fragments with %s", variants[v].name);
            char *m = libotr_message(l, &cap, text);
            if (m == NULL) continue;
            size_t len = strlen(m), n = variants[v].pieces, size = (len + n - 1) / n;
            net_tap_lenient = true; /* hand-made fragments are not libotr's format on purpose */
            for (unsigned k = 1; k <= n; k++) {
                char head[96];
                styled_head(head, sizeof head, variants[v].style, s, r, k, (unsigned)n);
                size_t off = (k - 1) * size, plen = off + size > len ? len - off : size;
                char *f = hand_fragment(head, m + off, plen);
                net_inject(l, rcv, f);
                free(f);
            }
            net_pump();
            net_tap_lenient = false;
            bool read = delivered(rcv, text, strlen(text));
            if (read) expect_delivery(rcv, text, strlen(text), SEC_ENCRYPTED);
            if (offrec_receives) {
                CHECKF(read, "offrec did not reassemble fragments with %s", variants[v].name);
            } else if (!read && strlen(unread) + strlen(variants[v].name) + 3 < sizeof unread) {
                strcat(strcat(unread, unread[0] ? ", " : ""), variants[v].name);
            }
            free(m);
        }
        if (offrec_receives) {
            CHECK(ev_count(rcv, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED) == 0);
        } else {
            observe("F2 reference: libotr reads fragments with every variant%s%s", unread[0] ? " but " : "", unread);
        }
        chat(rcv, "all read");
        end_world(&cap);
    }
}

/* F3: invalid fragments, each carrying a whole message that would be shown if the fragment
 * were taken: k = 0, n = 0, k > n, an empty piece (taken, it would make piece 2 complete the
 * message), n > 65535 (libotr's %hu wraps 65537 to 1), a sender tag below 0x100, a receiver
 * tag of another instance. offrec rejects each and shows nothing; the same message sent whole
 * afterwards is read, so the rejection changed nothing. libotr, fed the same, is recorded. */
static void f3_invalid_fragments(void) {
    static const char *names[] = {"k = 0", "n = 0", "k > n", "an empty piece", "n = 65537", "k = n = 65537",
                                  "sender tag 0xff", "another receiver"};
    for (int offrec_receives = 1; offrec_receives >= 0; offrec_receives--) {
        struct party *l, *rcv;
        struct net_capture cap;
        REQUIRE(fragment_world(offrec_receives, &l, &rcv, &cap));
        rcv->allow_offrec_malformed = true;
        allow_otr_event(rcv, OTRL_MSGEVENT_RCVDMSG_MALFORMED);
        uint32_t s = party_instag(l), r = party_instag(rcv);
        char reported[256] = "", silent[256] = "", shown[256] = "";
        size_t answered = 0;
        for (size_t v = 0; v < sizeof names / sizeof names[0]; v++) {
            char text[96], head[96];
            snprintf(text, sizeof text, "never shown from a fragment with %s", names[v]);
            clock_advance(10); /* libotr answers some with an error message, unlimited */
            char *m = libotr_message(l, &cap, text);
            if (m == NULL) continue;
            size_t len = strlen(m), sent_back = net_count(rcv, l);
            size_t bad = offrec_receives ? ev_count(rcv, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED)
                                         : ev_count(rcv, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_MALFORMED);
            net_tap_lenient = true;
            switch (v) {
            case 0: snprintf(head, sizeof head, "?OTR|%08x|%08x,00000,00001,", s, r); break;
            case 1: snprintf(head, sizeof head, "?OTR|%08x|%08x,00001,00000,", s, r); break;
            case 2: snprintf(head, sizeof head, "?OTR|%08x|%08x,00002,00001,", s, r); break;
            case 3: snprintf(head, sizeof head, "?OTR|%08x|%08x,00001,00002,", s, r); break;
            case 4: snprintf(head, sizeof head, "?OTR|%08x|%08x,00001,65537,", s, r); break;
            case 5: snprintf(head, sizeof head, "?OTR|%08x|%08x,65537,65537,", s, r); break;
            case 6: snprintf(head, sizeof head, "?OTR|000000ff|%08x,00001,00001,", r); break;
            default: snprintf(head, sizeof head, "?OTR|%08x|%08x,00001,00001,", s, r ^ 0x01010101u); break;
            }
            char *f = v == 3 ? hand_fragment(head, "", 0) : hand_fragment(head, m, len);
            net_inject(l, rcv, f);
            free(f);
            if (v == 3) {
                snprintf(head, sizeof head, "?OTR|%08x|%08x,00002,00002,", s, r);
                f = hand_fragment(head, m, len);
                net_inject(l, rcv, f);
                free(f);
            }
            net_pump();
            net_tap_lenient = false;
            bool read = delivered(rcv, text, strlen(text));
            size_t now_bad = offrec_receives ? ev_count(rcv, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED)
                                             : ev_count(rcv, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_MALFORMED);
            char *list = read ? shown : now_bad > bad ? reported : silent;
            if (strlen(list) + strlen(names[v]) + 3 < 256) strcat(strcat(list, list[0] ? ", " : ""), names[v]);
            answered += net_count(rcv, l) > sent_back;
            expect_delivery(rcv, text, strlen(text), SEC_ENCRYPTED);
            if (offrec_receives) {
                CHECKF(!read, "offrec showed a message from a fragment with %s", names[v]);
            }
            if (!read) { /* the message itself was fine */
                net_inject(l, rcv, m);
                net_pump();
                CHECKF(delivered(rcv, text, strlen(text)), "the message behind the fragment with %s was lost", names[v]);
            }
            free(m);
        }
        observe("F3 %s: reports a fragment with %s as malformed; drops %s silently; shows the message for %s; "
                "answers %zu",
                offrec_receives ? "offrec" : "reference, libotr", reported, silent[0] ? silent : "none",
                shown[0] ? shown : "none", answered);
        clock_advance(10);
        chat(rcv, "still fine");
        chat(l, "yes");
        end_world(&cap);
    }
}

/* Injects the captured fragments of two messages: `a`'s first piece, then all of `b`, then the
 * rest of `a` (interleave_all: a1 b1 a2 b2 ... instead). */
static void inject_two(struct party *fa, struct party *fb, struct party *to, char **a, size_t na, char **b,
                       size_t nb, bool interleave_all) {
    if (interleave_all) {
        for (size_t i = 0; i < na || i < nb; i++) {
            if (i < na) net_inject(fa, to, a[i]);
            if (i < nb) net_inject(fb, to, b[i]);
        }
    } else {
        net_inject(fa, to, a[0]);
        for (size_t i = 0; i < nb; i++) net_inject(fb, to, b[i]);
        for (size_t i = 1; i < na; i++) net_inject(fa, to, a[i]);
    }
    net_pump();
}

/* Captures the fragments of one message p sends to instance `to` of its peer. */
static size_t capture_fragments(struct party *p, uint32_t to, struct net_capture *cap, const char *text,
                                char **out, size_t max) {
    cap->on = true;
    party_send_to(p, to, text);
    cap->on = false;
    size_t n = 0;
    while (cap->n > 0 && n < max) out[n++] = net_capture_take(cap);
    net_capture_free(cap);
    return n;
}

static void free_all(char **t, size_t n) {
    for (size_t i = 0; i < n; i++) free(t[i]);
}

/* F4: fragments of two libotr instances interleaved into offrec: both messages shown (one
 * buffer per sender instance). Two messages of one instance interleaved: the first is lost
 * (piece 1 of the second starts the buffer over), the second is shown, nothing garbled; the
 * same at libotr with offrec's fragments (P9). */
static void f4_interleaved(void) {
    struct party *o = party_offrec("alice", "alice", "bob", OR_POLICY_OTR);
    struct party *b1 = party_libotr("bob#1", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    struct party *b2 = party_libotr("bob#2", "bob", "alice", OTRL_POLICY_MANUAL, "bob-laptop");
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    REQUIRE(party_encrypted_with(o, b1) && party_encrypted_with(o, b2));
    b1->mms = b2->mms = o->mms = 200;
    static struct net_capture c1, c2, co1;
    net_rule_add(b1, o, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = &c1});
    net_rule_add(b2, o, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = &c2});
    net_rule_add(o, b1, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = &co1});
    char long1[700], long2[900], long3[600], long4[800];
    memset(long1, 'd', sizeof long1 - 1), long1[sizeof long1 - 1] = '\0';
    memset(long2, 'l', sizeof long2 - 1), long2[sizeof long2 - 1] = '\0';
    memset(long3, 'x', sizeof long3 - 1), long3[sizeof long3 - 1] = '\0';
    memset(long4, 'y', sizeof long4 - 1), long4[sizeof long4 - 1] = '\0';
    memcpy(long1, "desktop:", 8), memcpy(long2, "laptop:", 7), memcpy(long3, "first:", 6), memcpy(long4, "second:", 7);
    char *a[32], *b[32];
    uint32_t to = party_instag(o);

    /* two instances, piece by piece */
    size_t na = capture_fragments(b1, to, &c1, long1, a, 32);
    size_t nb = capture_fragments(b2, to, &c2, long2, b, 32);
    CHECK(na > 2 && nb > 2);
    expect_delivery(o, long1, strlen(long1), SEC_ENCRYPTED);
    expect_delivery(o, long2, strlen(long2), SEC_ENCRYPTED);
    inject_two(b1, b2, o, a, na, b, nb, true);
    CHECK(delivered(o, long1, strlen(long1)) && delivered(o, long2, strlen(long2)));
    free_all(a, na);
    free_all(b, nb);

    /* one instance, two messages: the first is lost */
    na = capture_fragments(b1, to, &c1, long3, a, 32);
    nb = capture_fragments(b1, to, &c1, long4, b, 32);
    expect_delivery(o, long4, strlen(long4), SEC_ENCRYPTED);
    inject_two(b1, b1, o, a, na, b, nb, false);
    CHECK(!delivered(o, long3, strlen(long3)));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED) == 0);
    free_all(a, na);
    free_all(b, nb);

    /* the same at libotr, offrec's fragments */
    na = capture_fragments(o, party_instag(b1), &co1, long3, a, 32);
    nb = capture_fragments(o, party_instag(b1), &co1, long4, b, 32);
    CHECK(na > 2 && nb > 2);
    expect_delivery(b1, long4, strlen(long4), SEC_ENCRYPTED);
    inject_two(o, o, b1, a, na, b, nb, false);
    CHECK(!delivered(b1, long3, strlen(long3)));
    free_all(a, na);
    free_all(b, nb);
    observe("two fragmented messages from one instance, the second's pieces between the first's: libotr and "
            "offrec both show only the second (P9)");

    expect_delivery(o, "after the interleaving", 22, SEC_ENCRYPTED);
    party_send(b2, "after the interleaving");
}
#endif

const struct scenario fragment_scenarios[] = {
    OTR_SCENARIO("F1", "fragments at mms 40/120/200/417/1409: AKE and 1-50 kB both ways", f1_sizes),
    OTR_SCENARIO("F2", "hand-made fragment variants libotr reads: offrec reassembles them", f2_fragment_variants),
    OTR_SCENARIO("F3", "invalid fragments (k/n 0, k>n, empty, n>65535, tags): rejected", f3_invalid_fragments),
    OTR_SCENARIO("F4", "interleaved fragments: two instances both shown; one instance loses the first", f4_interleaved),
    {NULL, NULL, NULL},
};
