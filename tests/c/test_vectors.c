/*
 * The C API agrees byte for byte with the frozen vectors in tests/vectors/: identities restored
 * from ake.json have their recorded fingerprints, and forging forge.json's transcript gives its
 * recorded bytes. (The Python and Go bindings run the same checks.) Run from the repository
 * root. Prints "test_vectors: N passed, N failed".
 */
#include "harness.h"

/* The string value of the first `"key": "..."` after `from` (no escapes in our vectors). */
static char *json_string_after(const char *from, const char *key) {
    char pattern[128];
    const char *start, *end;
    char *out;
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    start = strstr(from, pattern);
    if (start == NULL) {
        fprintf(stderr, "test_vectors: no %s\n", key);
        exit(1);
    }
    start += strlen(pattern);
    end = strchr(start, '"');
    out = malloc((size_t)(end - start) + 1);
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return out;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void test_identities(void) {
    char *ake = read_file("tests/vectors/ake.json");
    const char *names[] = {"\"alice\": {", "\"bob\": {"};
    size_t i;
    for (i = 0; i < 2; i++) {
        const char *section = strstr(strstr(ake, "\"identities\""), names[i]);
        char *secret_hex = json_string_after(section, "secret");
        char *fp_hex = json_string_after(section, "fingerprint");
        uint8_t secret[32], want[32], got[32];
        offrec_client *c = NULL;
        offrec_callbacks cb;
        memset(&cb, 0, sizeof cb);
        cb.send = cb_send;
        cb.deliver = cb_deliver;
        hex_to_bytes(secret_hex, secret, 32);
        hex_to_bytes(fp_hex, want, 32);
        CHECK_RC(offrec_client_new_with_identity(S("vector"), S("net"), OFFREC_POLICY_MANUAL, secret, 0x100, &cb, NULL, &c),
                 OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_fingerprint(c, got), OFFREC_RESULT_OK);
        CHECK(memcmp(got, want, 32) == 0);
        offrec_client_free(c);
        free(secret_hex);
        free(fp_hex);
    }
    free(ake);
}

static void test_forge(void) {
    char *json = read_file("tests/vectors/forge.json");
    char *captured = json_string_after(json, "captured");
    char *later;
    char *known = json_string_after(json, "known");
    char *new_text = json_string_after(json, "new");
    char *forged = json_string_after(json, "forged");
    const char *later_list[1];
    size_t later_lens[1];
    offrec_buffer out = {NULL, 0};
    /* "later": [ "..." ] : take the first quoted string after the bracket. */
    const char *bracket = strchr(strstr(json, "\"later\""), '[');
    const char *q1 = strchr(bracket, '"') + 1;
    const char *q2 = strchr(q1, '"');
    later = malloc((size_t)(q2 - q1) + 1);
    memcpy(later, q1, (size_t)(q2 - q1));
    later[q2 - q1] = '\0';
    later_list[0] = later;
    later_lens[0] = strlen(later);
    CHECK_RC(offrec_forge(captured, strlen(captured), later_list, later_lens, 1, (const uint8_t *)known, strlen(known),
                          (const uint8_t *)new_text, strlen(new_text), &out),
             OFFREC_RESULT_OK);
    CHECK(out.len == strlen(forged) && memcmp(out.data, forged, out.len) == 0);
    offrec_buffer_free(&out);
    free(json);
    free(captured);
    free(later);
    free(known);
    free(new_text);
    free(forged);
}

int main(void) {
    test_identities();
    test_forge();
    printf("test_vectors: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
