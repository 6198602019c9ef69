/* Calls the plugin's core through include/httpclient.h, as a C user would.
 * Usage: main BASE_URL   (an HTTP server with /echo and /status/<code>, see tests/dist.rs)
 * Prints one line per check; exits non-zero on the first failed check. */
#include <stdio.h>
#include <string.h>
#include "httpclient.h"

static int failures = 0;
#define CHECK(cond, what)                                    \
    do {                                                     \
        if (cond) {                                          \
            printf("ok %s\n", what);                         \
        } else {                                             \
            printf("FAILED %s\n", what);                     \
            failures++;                                      \
        }                                                    \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASE_URL [CONFIG_JSON]\n", argv[0]);
        return 2;
    }
    const char *config = argc > 2 ? argv[2] : NULL;
    char url[1024];
    HttpClientResult r;

    printf("version %s\n", httpclient_version());

    /* POST with a body containing a NUL byte, a header, a timeout. */
    snprintf(url, sizeof url, "%s/echo", argv[1]);
    const unsigned char body[] = {'a', 0, 'b', '\xe4'};
    int rc = httpclient_http_request("POST", url, body, sizeof body, 5000,
                                     "Content-Type: application/octet-stream\r\nX-Test: c-api", config, &r);
    CHECK(rc == 0 && r.error == NULL, "post returns 0");
    if (rc != 0) {
        printf("error %s\n", r.error);
        httpclient_free_result(&r);
        return 1;
    }
    CHECK(r.status == 200, "post status 200");
    CHECK(r.body_len == sizeof body && memcmp(r.body, body, sizeof body) == 0, "post body echoed byte-exact");
    CHECK(r.body[r.body_len] == 0, "body NUL-terminated");
    CHECK(strstr(r.headers, "x-method: POST") != NULL || strstr(r.headers, "X-Method: POST") != NULL,
          "headers block has x-method");
    CHECK(strlen(r.headers) == r.headers_len, "headers_len");
    CHECK(r.elapsed > 0.0 && r.elapsed < 5.0, "elapsed in seconds");
    httpclient_free_result(&r);
    CHECK(r.body == NULL && r.headers == NULL && r.error == NULL, "free zeroes the result");
    httpclient_free_result(&r); /* a second free is harmless */

    /* GET: the body is the query string; a non-2xx status is a normal return. */
    snprintf(url, sizeof url, "%s/status/404", argv[1]);
    rc = httpclient_http_request("get", url, (const unsigned char *)"x=1", 3, 0, NULL, config, &r);
    CHECK(rc == 0 && r.status == 404, "get 404 is a normal return");
    printf("status %d body %s\n", r.status, (const char *)r.body);
    httpclient_free_result(&r);

    /* Errors come back as messages. */
    rc = httpclient_http_request("GET", "http://127.0.0.1:1/", NULL, 0, 2000, NULL, NULL, &r);
    CHECK(rc == -1 && r.status == 0 && r.error != NULL, "refused connection is an error");
    printf("error %s\n", r.error ? r.error : "(null)");
    httpclient_free_result(&r);

    rc = httpclient_http_request("GET", url, NULL, 0, 0, NULL, "{\"nope\": 1}", &r);
    CHECK(rc == -1 && r.error && strstr(r.error, "unknown config key 'nope'"), "unknown config key");
    httpclient_free_result(&r);

    rc = httpclient_http_request("PATCH", url, NULL, 0, 0, NULL, NULL, &r);
    CHECK(rc == -1 && r.error && strstr(r.error, "method"), "bad method");
    httpclient_free_result(&r);

    rc = httpclient_http_request("GET", url, NULL, 0, 0, "X-Bad: a\r\nX-Evil: b\rc", NULL, &r);
    CHECK(rc == -1 && r.error != NULL, "header with a bare CR is refused");
    printf("error %s\n", r.error ? r.error : "(null)");
    httpclient_free_result(&r);

    CHECK(httpclient_http_request("GET", url, NULL, 0, 0, NULL, NULL, NULL) == -2, "NULL out");

    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
