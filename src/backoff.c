/* Retry waits (docs/design.md#retries-and-backoff): full-jitter exponential backoff and Retry-After
 * parsing.
 *
 * HTTP dates are converted with our own days-from-civil rather than mktime/timegm so the result
 * never depends on TZ or the locale, and every number is scanned by hand (no strtol/sscanf) so a
 * hostile header cannot overflow anything. */
#include "backoff.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest delta-seconds we believe: a 32-bit count. Beyond it a server is not asking for a
 * delay (RFC 9111 uses 2^31 as "infinity"); the value is garbage, and garbage gives -1. */
#define DELTA_SECONDS_MAX 2147483647LL

uint64_t backoff_rand(uint64_t *state)
{
    uint64_t x = *state;

    /* Zero is the one fixed point of xorshift; escape it instead of returning 0 forever. */
    if (x == 0)
        x = 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t backoff_jitter_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t r)
{
    int64_t cap;

    if (attempt < 0)
        attempt = 0;
    if (min_ms <= 0 || max_ms <= 0)
        return 0;
    /* min << attempt, saturating at max: the shift is only done when it stays <= max. */
    cap = max_ms;
    if (attempt < 62 && min_ms <= (max_ms >> attempt))
        cap = min_ms * ((int64_t)1 << attempt);
    /* random(0, cap) inclusive; the modulo bias is below cap / 2^64, i.e. nothing. */
    return (int64_t)(r % ((uint64_t)cap + 1));
}

int64_t backoff_delay_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t *rng)
{
    if (min_ms <= 0 || max_ms <= 0)
        return 0;
    return backoff_jitter_ms(attempt, min_ms, max_ms, backoff_rand(rng));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive match of `word` at *s; advances past it on success. */
static bool eat_word(const char **s, const char *word)
{
    const char *p = *s;

    for (; *word; word++, p++)
        if (lower(*p) != lower(*word))
            return false;
    *s = p;
    return true;
}

static bool eat_char(const char **s, char c)
{
    if (**s != c)
        return false;
    (*s)++;
    return true;
}

/* Exactly `n` digits. */
static bool eat_digits(const char **s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!is_digit((*s)[i]))
            return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return true;
}

static const char *const wkday_short[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const wkday_long[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                          "Saturday", "Sunday" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool eat_one_of(const char **s, const char *const *words, int n, int *idx)
{
    for (int i = 0; i < n; i++)
        if (eat_word(s, words[i])) {
            *idx = i;
            return true;
        }
    return false;
}

static bool eat_month(const char **s, int *mon)
{
    if (!eat_one_of(s, months, 12, mon))
        return false;
    (*mon)++;
    return true;
}

/* "HH:MM:SS"; 60 seconds is allowed for a leap second. */
static bool eat_time(const char **s, int *h, int *m, int *sec)
{
    return eat_digits(s, 2, h) && eat_char(s, ':') && eat_digits(s, 2, m) && eat_char(s, ':') &&
           eat_digits(s, 2, sec) && *h <= 23 && *m <= 59 && *sec <= 60;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Year of a wall clock in ms (for RFC 850's two-digit years). */
static int64_t year_of(int64_t wall_ms)
{
    /* Hinnant's civil_from_days, year only. */
    int64_t z = wall_ms / 86400000 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    return yoe + era * 400 + (mp >= 10);
}

/* Parses the three HTTP-date forms of RFC 9110 §5.6.7 into ms since the epoch. */
static bool parse_http_date(const char *s, int64_t now_wall_ms, int64_t *out_ms)
{
    int wd, day, mon, year, h, m, sec;

    if (eat_one_of(&s, wkday_long, 7, &wd)) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        int yy;
        int64_t now_year, full;

        if (!(eat_char(&s, ',') && eat_char(&s, ' ') && eat_digits(&s, 2, &day) &&
              eat_char(&s, '-') && eat_month(&s, &mon) && eat_char(&s, '-') &&
              eat_digits(&s, 2, &yy) && eat_char(&s, ' ') && eat_time(&s, &h, &m, &sec) &&
              eat_char(&s, ' ') && eat_word(&s, "GMT")))
            return false;
        /* RFC 9110: a two-digit year more than 50 years in the future is the most recent past
         * year with those digits. */
        now_year = year_of(now_wall_ms);
        full = now_year - now_year % 100 + yy;
        if (full > now_year + 50)
            full -= 100;
        if (full < 0 || full > 9999)
            return false;
        year = (int)full;
    } else if (eat_one_of(&s, wkday_short, 7, &wd)) {
        if (eat_char(&s, ',')) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            if (!(eat_char(&s, ' ') && eat_digits(&s, 2, &day) && eat_char(&s, ' ') &&
                  eat_month(&s, &mon) && eat_char(&s, ' ') && eat_digits(&s, 4, &year) &&
                  eat_char(&s, ' ') && eat_time(&s, &h, &m, &sec) && eat_char(&s, ' ') &&
                  eat_word(&s, "GMT")))
                return false;
        } else {
            /* asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space, or two digits) */
            if (!(eat_char(&s, ' ') && eat_month(&s, &mon) && eat_char(&s, ' ')))
                return false;
            if (eat_char(&s, ' ')) {
                if (!eat_digits(&s, 1, &day))
                    return false;
            } else if (!eat_digits(&s, 2, &day)) {
                return false;
            }
            if (!(eat_char(&s, ' ') && eat_time(&s, &h, &m, &sec) && eat_char(&s, ' ') &&
                  eat_digits(&s, 4, &year)))
                return false;
        }
    } else {
        return false;
    }
    while (is_space(*s))
        s++;
    if (*s != '\0')
        return false;
    if (day < 1 || day > days_in_month(year, mon))
        return false;
    /* The weekday is not checked against the date: servers get it wrong and the date is what
     * matters. Years are 0..9999, so this stays far from overflowing. */
    *out_ms = ((days_from_civil(year, mon, day) * 86400) + h * 3600 + m * 60 + sec) * 1000;
    return true;
}

int backoff_http_date(const char *value, int64_t now_wall_ms, int64_t *epoch_s)
{
    int64_t ms;

    if (value == NULL)
        return -1;
    while (is_space(*value))
        value++;
    if (!parse_http_date(value, now_wall_ms, &ms))
        return -1;
    *epoch_s = ms / 1000;
    return 0;
}

/* Delay from now until `at_ms`, clamped to [0, max] without overflowing for any now. */
static int64_t delay_until(int64_t at_ms, int64_t now_wall_ms)
{
    if (now_wall_ms >= at_ms)
        return 0;
    if (now_wall_ms <= at_ms - BACKOFF_RETRY_AFTER_MAX_MS)
        return BACKOFF_RETRY_AFTER_MAX_MS;
    return at_ms - now_wall_ms;
}

int backoff_parse_retry_after(const char *value, int64_t now_wall_ms, int64_t *delay_ms)
{
    const char *s = value;

    if (s == NULL)
        return -1;
    while (is_space(*s))
        s++;
    if (is_digit(*s)) {
        int64_t secs = 0;

        while (is_digit(*s)) {
            secs = secs * 10 + (*s - '0');
            if (secs > DELTA_SECONDS_MAX)
                return -1;
            s++;
        }
        while (is_space(*s))
            s++;
        if (*s != '\0')
            return -1;
        *delay_ms = secs * 1000 > BACKOFF_RETRY_AFTER_MAX_MS ? BACKOFF_RETRY_AFTER_MAX_MS
                                                            : secs * 1000;
        return 0;
    }
    {
        int64_t at_ms;

        if (!parse_http_date(s, now_wall_ms, &at_ms))
            return -1;
        *delay_ms = delay_until(at_ms, now_wall_ms);
    }
    return 0;
}

int64_t backoff_wait_ms(int attempt, int64_t min_ms, int64_t max_ms, int64_t retry_after_ms,
                        uint64_t r)
{
    int64_t wait = backoff_jitter_ms(attempt, min_ms, max_ms, r);

    /* libcurl 7.88.1's CURLINFO_RETRY_AFTER is unclamped, so clamp here too. */
    if (retry_after_ms > BACKOFF_RETRY_AFTER_MAX_MS)
        retry_after_ms = BACKOFF_RETRY_AFTER_MAX_MS;
    return retry_after_ms > wait ? retry_after_ms : wait;
}

int64_t backoff_next_ms(int attempt, int64_t min_ms, int64_t max_ms, int64_t retry_after_ms,
                        uint64_t *rng)
{
    return backoff_wait_ms(attempt, min_ms, max_ms, retry_after_ms, backoff_rand(rng));
}
