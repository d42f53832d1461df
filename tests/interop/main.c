/*
 * The runner: every scenario of every group, one line each, then the observed libotr
 * behaviour and a summary; exit status 1 if any check failed. Options: -v traces every wire
 * message and event; -q prints only failures and the summary; --list lists the scenarios;
 * scenario ids run only those.
 */
#include "interop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int verbose;
static int quiet;
static int scenario_failures;
static const char *current_id = "-";

void check_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    scenario_failures++;
    fprintf(stderr, "    FAIL [%s] %s:%d: ", current_id, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void trace(const char *fmt, ...) {
    if (!verbose) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Observations, each kept once with the scenarios that made it. */
#define MAX_OBS 64
static struct {
    char text[320];
    char ids[96];
} obs[MAX_OBS];
static int nobs;

void observe(const char *fmt, ...) {
    char text[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    trace("  observed: %s", text);
    for (int i = 0; i < nobs; i++) {
        if (strcmp(obs[i].text, text) != 0) continue;
        if (strstr(obs[i].ids, current_id) == NULL && strlen(obs[i].ids) + strlen(current_id) + 2 < sizeof obs[i].ids) {
            strcat(obs[i].ids, " ");
            strcat(obs[i].ids, current_id);
        }
        return;
    }
    if (nobs == MAX_OBS) return;
    snprintf(obs[nobs].text, sizeof obs[nobs].text, "%s", text);
    snprintf(obs[nobs].ids, sizeof obs[nobs].ids, "%s", current_id);
    nobs++;
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct scenario *const groups[] = {
    selftest_scenarios, negotiation_scenarios, data_scenarios,
    fragment_scenarios, smp_scenarios,        misc_scenarios,   robust_scenarios,
    migrate_scenarios,
    smp_hostile_scenarios,
    ui_scenarios,
};

static bool selected(const char *id, int argc, char **argv) {
    bool any = false;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        any = true;
        if (!strcmp(argv[i], id)) return true;
    }
    return !any;
}

/* Runs one scenario in a fresh world and the global asserts after it. */
static bool run_one(const struct scenario *s) {
    current_id = s->id;
    scenario_failures = 0;
    clock_reset();
    net_reset();
    double t0 = seconds();
    trace("== %s %s", s->id, s->title);
    s->run();
    assert_global();
    if (scenario_failures > 0) net_dump_tail(24);
    parties_reset();
    net_reset();
    if (!quiet || scenario_failures) {
        printf("%s  %-5s %s (%.2f s)\n", scenario_failures ? "FAIL" : "PASS", s->id, s->title,
               seconds() - t0);
    }
    fflush(stdout);
    current_id = "-";
    return scenario_failures == 0;
}

int main(int argc, char **argv) {
    bool list = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) verbose = 1;
        if (!strcmp(argv[i], "-q")) quiet = 1;
        if (!strcmp(argv[i], "--list")) list = true;
    }
    OTRL_INIT;
    atexit(keys_cleanup); /* also on a fatal exit */
    setvbuf(stderr, NULL, _IOLBF, 0);
    double t0 = seconds();
    int passed = 0, failed = 0, waiting = 0;
    char waiting_ids[512] = "";
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        for (const struct scenario *s = groups[g]; s->id != NULL; s++) {
            if (!selected(s->id, argc, argv)) continue;
            if (list) {
                printf("%-5s %s%s\n", s->id, s->title, s->run ? "" : "  [waits for the OTR API]");
            } else if (s->run == NULL) {
                waiting++;
                if (strlen(waiting_ids) + strlen(s->id) + 2 < sizeof waiting_ids) {
                    strcat(waiting_ids, " ");
                    strcat(waiting_ids, s->id);
                }
            } else if (run_one(s)) {
                passed++;
            } else {
                failed++;
            }
        }
    }
    if (list) return 0;
    if (nobs > 0 && !quiet) {
        printf("observed behaviour:\n");
        for (int i = 0; i < nobs; i++) printf("  - %s  [%s]\n", obs[i].text, obs[i].ids);
    }
    if (waiting > 0 && !quiet) {
        printf("waiting for offrec's OTR API (OFFREC_POLICY_ALLOW_OTR_V3):%s\n", waiting_ids);
    }
    printf("interop: %d passed, %d failed, %d waiting (%.1f s, libotr %s, offrec %s)\n", passed,
           failed, waiting, seconds() - t0, OTRL_VERSION, offrec_version());
    return failed ? 1 : 0;
}
