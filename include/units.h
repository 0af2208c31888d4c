#ifndef SLUICE_UNITS_H
#define SLUICE_UNITS_H
/* Parsing and printing of rates, sizes and durations (README.md#using-it). Pure functions. */
#include <stdint.h>
#include <stddef.h>

/* SIZE: "123", "64K", "8M", "1G", "1.5M" (powers of 1024, bytes), "400Mbit", "10kbit", "1Gbit"
 * (powers of 1000, bits → bytes). Suffixes are case-insensitive except that "b"/"bit" means bits.
 * K, M, G, T; KB, MB, GB, TB; KiB, MiB, GiB, TiB are all powers of 1024 bytes; "Kb", "kbit",
 * "Kbits" are 1000 bits. No blanks, no sign, at most 9 decimals are significant. A value that is not
 * zero but rounds to 0 bytes gives 1. Results above INT64_MAX are errors.
 * Returns 0 and sets *out, or -1 with a message in err (ERRLEN). Negative values are errors. */
int units_parse_size(const char *s, int64_t *out, char *err);
/* RATE: a SIZE per second; "0" and "off" (any case) give 0 = unlimited. An optional "/s" suffix is accepted. */
int units_parse_rate(const char *s, int64_t *out, char *err);
/* Duration: "500ms", "30s", "5m", "1h", "1d", "1.5s", "1h30m", "4m05s" or a bare number of seconds
 * → milliseconds. */
int units_parse_duration(const char *s, int64_t *out_ms, char *err);
/* "MIN,MAX" durations, MIN <= MAX (blanks after the comma are allowed). */
int units_parse_duration_pair(const char *s, int64_t *min_ms, int64_t *max_ms, char *err);
/* Integer in [min, max], decimal only, whole string. */
int units_parse_int(const char *s, long min, long max, long *out, char *err);

/* Human output: "1.5 MiB", "512 B", "12.0 GiB" (buf >= 16); negative (unknown) → "-". */
const char *units_fmt_size(int64_t bytes, char *buf, size_t len);
/* A measured rate: "1.5 MiB/s", 0 → "0 B/s", negative → "-". */
const char *units_fmt_rate(int64_t bytes_per_s, char *buf, size_t len);
/* A cap: like units_fmt_rate, but 0 (no cap) → "off". */
const char *units_fmt_cap(int64_t bytes_per_s, char *buf, size_t len);
/* "3s", "4m05s", "2h10m", "3d04h"; negative → "-". */
const char *units_fmt_duration(int64_t ms, char *buf, size_t len);

/* A user-given string made safe to quote in a message: control and non-ASCII bytes become '?',
 * and anything past about 40 characters becomes "...". Returns buf (len >= 8). */
const char *units_quote(const char *s, char *buf, size_t len);

#endif
