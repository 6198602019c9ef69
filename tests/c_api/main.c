/* Calls the plugin's core through include/httpclient.h, as a C user would.
 * Usage: main BASE_URL [CONFIG_JSON]   (an HTTP server with /echo, /status/<code> and
 * /hang, see tests/dist.rs)
 * Prints one line per check, then "<n> failed"; exits non-zero if any check failed.
 * Failures are told apart by `cause`, not by the wording of `error`. */
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
    CHECK(rc == 0 && r.error == NULL && r.cause == 0, "post returns 0, cause 0");
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
    CHECK(r.body == NULL && r.headers == NULL && r.error == NULL && r.cause == 0 && r.status == 0,
          "free zeroes the result");
    httpclient_free_result(&r); /* a second free is harmless */

    /* GET: the body is the query string; a non-2xx status is a normal return. */
    snprintf(url, sizeof url, "%s/status/404", argv[1]);
    rc = httpclient_http_request("get", url, (const unsigned char *)"x=1", 3, 0, NULL, config, &r);
    CHECK(rc == 0 && r.status == 404 && r.cause == 0, "get 404 is a normal return");
    printf("status %d body %s\n", r.status, (const char *)r.body);
    httpclient_free_result(&r);

    /* Errors come back as a cause and a message. */
    rc = httpclient_http_request("GET", "http://127.0.0.1:1/", NULL, 0, 2000, NULL, NULL, &r);
    CHECK(rc == -1 && r.status == 0 && r.error != NULL, "refused connection is an error");
    CHECK(r.cause == 3 && strcmp(httpclient_cause_name(r.cause), "connect") == 0,
          "refused connection: cause connect");
    CHECK(r.error && strstr(r.error, "127.0.0.1:1") != NULL, "the message names the peer");
    printf("error %s\n", r.error ? r.error : "(null)");
    httpclient_free_result(&r);

    snprintf(url, sizeof url, "%s/hang", argv[1]);
    rc = httpclient_http_request("GET", url, NULL, 0, 300, NULL, config, &r);
    CHECK(rc == -1 && r.cause == 2 && strcmp(httpclient_cause_name(r.cause), "timeout") == 0,
          "no answer within timeout_ms: cause timeout");
    printf("error %s\n", r.error ? r.error : "(null)");
    httpclient_free_result(&r);

    snprintf(url, sizeof url, "%s/status/404", argv[1]);
    rc = httpclient_http_request("GET", url, NULL, 0, 0, NULL, "{\"nope\": 1}", &r);
    CHECK(rc == -1 && r.cause == 1 && strcmp(httpclient_cause_name(r.cause), "argument") == 0,
          "unknown config key: cause argument");
    CHECK(r.error && strstr(r.error, "'nope'") != NULL, "the message names the key");
    httpclient_free_result(&r);

    rc = httpclient_http_request("GET", url, NULL, 0, 0, NULL, "[1]", &r);
    CHECK(rc == -1 && r.cause == 1, "config_json not an object: cause argument");
    httpclient_free_result(&r);

    rc = httpclient_http_request("PATCH", url, NULL, 0, 0, NULL, NULL, &r);
    CHECK(rc == -1 && r.cause == 1, "bad method: cause argument");
    httpclient_free_result(&r);

    rc = httpclient_http_request("GET", NULL, NULL, 0, 0, NULL, NULL, &r);
    CHECK(rc == -1 && r.cause == 1, "NULL url: cause argument");
    httpclient_free_result(&r);

    rc = httpclient_http_request("GET", url, NULL, 0, 0, "X-Bad: a\r\nX-Evil: b\rc", NULL, &r);
    CHECK(rc == -1 && r.cause == 1, "header with a bare CR is refused: cause argument");
    printf("error %s\n", r.error ? r.error : "(null)");
    httpclient_free_result(&r);

    CHECK(strcmp(httpclient_cause_name(0), "none") == 0 && strcmp(httpclient_cause_name(5), "tls") == 0 &&
              strcmp(httpclient_cause_name(13), "internal") == 0 &&
              strcmp(httpclient_cause_name(99), "unknown") == 0,
          "cause names");

    CHECK(httpclient_http_request("GET", url, NULL, 0, 0, NULL, NULL, NULL) == -2, "NULL out");

    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
