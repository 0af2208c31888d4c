/* The JSON Lines log: one object per event, fields as README.md lists them ("Logs"), strings
 * escaped, credentials in URLs masked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evlog.h"
#include "util.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    static char buf[8192];
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void item_event_fields(void **state)
{
    char path[] = "/tmp/sluice-evlog-XXXXXX";
    char err[ERRLEN];
    int fd = mkstemp(path);
    char *urls[1] = { "https://user:hunter2@img.example.com/a%20b.jpg?sig=1" };
    struct item it = { .id = 7, .urls = urls, .nurls = 1, .path = "a b\"\n.jpg", .attempts = 3,
                       .http_status = 503, .duration_ms = 42 };
    struct engine_event ev = { .kind = EV_RETRY, .item = &it, .bytes = 1234, .duration_ms = 42,
                               .retry_count = 2, .http_status = 503, .error = "HTTP 503",
                               .value = 1500 };
    struct evlog *l;
    char *text;

    assert_true(fd >= 0);
    close(fd);
    l = evlog_open(path, err);
    assert_non_null(l);
    evlog_listener(&ev, l);
    evlog_close(l);
    text = slurp(path);
    unlink(path);
    assert_non_null(strstr(text, "\"event\":\"retry\""));
    assert_non_null(strstr(text, "\"id\":7"));
    assert_non_null(strstr(text, "\"bytes\":1234"));
    assert_non_null(strstr(text, "\"duration_ms\":42"));
    assert_non_null(strstr(text, "\"retry_count\":2"));
    assert_non_null(strstr(text, "\"http_status\":503"));
    assert_non_null(strstr(text, "\"error\":\"HTTP 503\""));
    assert_non_null(strstr(text, "\"path\":\"a b\\\"\\n.jpg\""));
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "user:"));
    assert_non_null(strstr(text, "img.example.com"));
    assert_true(strncmp(text, "{\"ts\":\"20", 9) == 0);
    assert_non_null(strstr(text, "Z\",\"event\""));
    /* Exactly one line. */
    assert_non_null(strchr(text, '\n'));
    assert_int_equal(strchr(text, '\n')[1], '\0');
}

static void engine_wide_events(void **state)
{
    char path[] = "/tmp/sluice-evlog-XXXXXX";
    char err[ERRLEN];
    int fd = mkstemp(path);
    struct engine_event rate = { .kind = EV_RATE, .value = 1048576 };
    struct engine_event msg = { .kind = EV_MESSAGE, .error = "disk full" };
    struct evlog *l;
    char *text;

    close(fd);
    l = evlog_open(path, err);
    assert_non_null(l);
    evlog_listener(&rate, l);
    evlog_listener(&msg, l);
    evlog_close(l);
    text = slurp(path);
    unlink(path);
    assert_non_null(strstr(text, "\"event\":\"rate\",\"rate\":1048576}"));
    assert_non_null(strstr(text, "\"event\":\"message\",\"message\":\"disk full\"}"));
    assert_null(strstr(text, "\"id\""));
}

static void unwritable_log_is_an_error(void **state)
{
    char err[ERRLEN];

    assert_null(evlog_open("/nonexistent-dir/x.jsonl", err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.jsonl"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(item_event_fields),
        cmocka_unit_test(engine_wide_events),
        cmocka_unit_test(unwritable_log_is_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
