/*
 * Fragmentation (brief §5.2 F*). libotr's own fragmenting is covered by the self-tests T2, T7
 * and T10; F1 waits for offrec's OTR API.
 */
#include "interop.h"

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
#endif

const struct scenario fragment_scenarios[] = {
    OTR_SCENARIO("F1", "fragments at mms 40/120/200/417/1409: AKE and 1-50 kB both ways", f1_sizes),
    {NULL, NULL, NULL},
};
