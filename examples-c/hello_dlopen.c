/*
 * hello_dlopen: the same conversation as hello.c, with no link-time dependency on liboffrec:
 * the library is loaded with dlopen() and every function is looked up with dlsym().
 *
 *   hello_dlopen [path/to/liboffrec.so.0]     (else $OFFREC_LIB, else "liboffrec.so.0")
 *
 * The header is used for types and constants only. Each function name used by hello.c is
 * redirected to a pointer filled in from dlsym before hello.c's main runs; the pointers have
 * the header's function-pointer types (offrec_<name>_fn, one per function), so no signature
 * is written by hand. Afterwards it names a few numbers with the name functions and classifies
 * a line, through pointers of the same kind.
 */
#define _POSIX_C_SOURCE 200809L
#include "offrec.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFREC_STR_(x) #x
#define OFFREC_STR(x) OFFREC_STR_(x)

#define OFFREC_FUNCTIONS(X)                                                                      \
    X(offrec_version)                                                                            \
    X(offrec_result_message)                                                                     \
    X(offrec_client_new)                                                                         \
    X(offrec_client_free)                                                                        \
    X(offrec_client_receive)                                                                     \
    X(offrec_client_start_session)                                                               \
    X(offrec_client_send)                                                                        \
    X(offrec_client_fingerprint)                                                                 \
    X(offrec_fingerprint_format)                                                                 \
    X(offrec_client_session_state)                                                               \
    X(offrec_event_name)                                                                         \
    X(offrec_state_name)                                                                         \
    X(offrec_classify)                                                                           \
    X(offrec_message_kind_name)

#define DECLARE(name) static name##_fn p_##name;
OFFREC_FUNCTIONS(DECLARE)

static int load(const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void *sym;
    if (lib == NULL) {
        fprintf(stderr, "hello_dlopen: cannot load %s: %s\n", path, dlerror());
        return 0;
    }
#define LOOKUP(name)                                                                     \
    sym = dlsym(lib, #name);                                                             \
    if (sym == NULL) {                                                                   \
        fprintf(stderr, "hello_dlopen: %s has no %s\n", path, #name);                    \
        return 0;                                                                        \
    }                                                                                    \
    memcpy(&p_##name, &sym, sizeof p_##name); /* object -> function pointer, portably */
    OFFREC_FUNCTIONS(LOOKUP)
    return 1; /* the library stays loaded for the life of the process */
}

/* From here on, hello.c's calls go through the pointers. */
#define offrec_version (*p_offrec_version)
#define offrec_result_message (*p_offrec_result_message)
#define offrec_client_new (*p_offrec_client_new)
#define offrec_client_free (*p_offrec_client_free)
#define offrec_client_receive (*p_offrec_client_receive)
#define offrec_client_start_session (*p_offrec_client_start_session)
#define offrec_client_send (*p_offrec_client_send)
#define offrec_client_fingerprint (*p_offrec_client_fingerprint)
#define offrec_fingerprint_format (*p_offrec_fingerprint_format)
#define offrec_client_session_state (*p_offrec_client_session_state)
#define main hello_main
#include "hello.c"
#undef main

/* The name functions and the classifier, through the same typed pointers. */
static int names_demo(void) {
    const char line[] = "?OTRv23?";
    uint32_t kind = 0;
    if (p_offrec_classify(line, sizeof line - 1, &kind) != OFFREC_RESULT_OK) {
        return 1;
    }
    printf("hello_dlopen: event %u is %s, state %u is %s, \"%s\" is %s\n",
           (unsigned)OFFREC_EVENT_CODE_HANDSHAKE_COMPLETE, p_offrec_event_name(OFFREC_EVENT_CODE_HANDSHAKE_COMPLETE),
           (unsigned)OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED,
           p_offrec_state_name(OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED), line, p_offrec_message_kind_name(kind));
    return kind == OFFREC_MESSAGE_KIND_OTR_QUERY ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("OFFREC_LIB");
    if (path == NULL) {
        path = "liboffrec.so." OFFREC_STR(OFFREC_ABI_VERSION);
    }
    if (!load(path)) {
        return 1;
    }
    if (hello_main() != 0) {
        return 1;
    }
    return names_demo();
}
