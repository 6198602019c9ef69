/* The official plugin's way of doing a call, as a baseline for benches/plugin.rs: a fresh
 * libcurl easy handle per request (new TCP connection, and for HTTPS a new TLS handshake with
 * the CA file loaded again), verification on with the test CA as CAINFO.
 *
 *   curl_per_call http  N URL GET|POST BODY CAFILE
 *   curl_per_call smtp  N URL USER PASSWORD FROM TO CAFILE MESSAGE-FILE
 *
 * One warm-up request (not timed), then N timed ones. Prints "SECONDS <s> OK <n>" on stdout.
 * Build: cc -O2 benches/curl_per_call.c -lcurl -o curl_per_call   (libcurl4-openssl-dev) */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t sink(char* p, size_t s, size_t n, void* u) {
    (void)p;
    (void)u;
    return s * n;
}

struct upload {
    const char* data;
    size_t len, off;
};

static size_t source(char* p, size_t s, size_t n, void* u) {
    struct upload* up = (struct upload*)u;
    size_t left = up->len - up->off, room = s * n;
    size_t k = left < room ? left : room;
    memcpy(p, up->data + up->off, k);
    up->off += k;
    return k;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Error buffer, timeout, and TLS verified against the test CA, as our calls are. */
static void common_options(CURL* c, char* err, const char* ca) {
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
}

/* What the official plugin does per httpGet/httpPost: easy_init, options, perform, cleanup. */
static int http_once(const char* url, int post, const char* body, const char* ca) {
    CURL* c = curl_easy_init();
    if (!c) return 0;
    char err[CURL_ERROR_SIZE] = "";
    long code = 0;
    struct curl_slist* hdr = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink);
    common_options(c, err, ca);
    if (post) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "curl: %s (%d) %s status %ld\n", url, (int)rc, err, code);
        return 0;
    }
    return 1;
}

/* One mail on a fresh connection (what the official sendEmail does with libcurl). */
static int smtp_once(const char* url, const char* user, const char* pwd, const char* from,
                     const char* to, const char* ca, const char* msg, size_t len) {
    CURL* c = curl_easy_init();
    if (!c) return 0;
    char err[CURL_ERROR_SIZE] = "";
    struct upload up = {msg, len, 0};
    struct curl_slist* rcpt = curl_slist_append(NULL, to);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, pwd);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, source);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    common_options(c, err, ca);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl smtp: %s (%d) %s\n", url, (int)rc, err);
        return 0;
    }
    return 1;
}

static char* slurp(const char* path, size_t* len) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* b = malloc(n + 1);
    *len = fread(b, 1, n, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: see the top of curl_per_call.c\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* once, as the plugin does at load */
    int n = atoi(argv[2]), ok = 0;
    double t0 = 0;
    if (!strcmp(argv[1], "http") && argc == 7) {
        int post = !strcmp(argv[4], "POST");
        if (!http_once(argv[3], post, argv[5], argv[6])) return 1;
        t0 = now();
        for (int i = 0; i < n; i++) ok += http_once(argv[3], post, argv[5], argv[6]);
    } else if (!strcmp(argv[1], "smtp") && argc == 10) {
        size_t len = 0;
        char* msg = slurp(argv[9], &len);
        if (!msg) return 2;
        if (!smtp_once(argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], msg, len)) return 1;
        t0 = now();
        for (int i = 0; i < n; i++)
            ok += smtp_once(argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], msg, len);
    } else {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    printf("SECONDS %.6f OK %d\n", now() - t0, ok);
    curl_global_cleanup();
    return ok == n ? 0 : 1;
}
