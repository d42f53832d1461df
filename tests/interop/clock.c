/*
 * The fake clock. libotr reads the time only through time(NULL) (heartbeats, resends, the
 * expiry of master-context commits); this executable defines time(), and the dynamic linker
 * binds libotr.so's calls to it because the executable comes first in the lookup order (the
 * selftest H1 scenario checks that libotr's lastsent took the fake value). offrec reads the
 * same clock through its `now` callback. One clock, so 60 s heartbeats and 120 s timeouts run
 * instantly and deterministically.
 */
#include "interop.h"

static time_t fake_now = CLOCK_START;

time_t time(time_t *out) {
    if (out != NULL) {
        *out = fake_now;
    }
    return fake_now;
}

time_t clock_now(void) {
    return fake_now;
}

void clock_reset(void) {
    fake_now = CLOCK_START;
}

/* libotr's poll timer (set through timer_control) and offrec's tick, once per fake second. */
static void run_timers(void) {
    for (int i = 0; i < nparties; i++) {
        struct party *p = parties[i];
        if (p->kind == PARTY_LIBOTR && p->timer_interval > 0 && fake_now >= p->next_poll) {
            p->next_poll = fake_now + (time_t)p->timer_interval;
            otr_poll(p);
        } else if (p->kind == PARTY_OFFREC) {
            offrec_client_tick(p->client);
        }
    }
}

void clock_advance(long seconds) {
    for (long s = 0; s < seconds; s++) {
        fake_now++;
        run_timers();
        net_pump();
    }
}
