/* A small line editor (readline's common keys). Control characters never enter the buffer, so
 * what the operator types cannot drive the terminal when it is drawn back. */
#include "ui_prompt.h"

#include <stdio.h>
#include <string.h>
#include <wctype.h>

static size_t utf8_put(unsigned long c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static void insert(struct ui_prompt *p, wchar_t c)
{
    if (p->len >= UI_PROMPT_MAX)
        return;
    memmove(p->buf + p->cur + 1, p->buf + p->cur, (p->len - p->cur) * sizeof *p->buf);
    p->buf[p->cur++] = c;
    p->buf[++p->len] = L'\0';
}

static void cut(struct ui_prompt *p, size_t from, size_t to)
{
    if (from >= to || to > p->len)
        return;
    memmove(p->buf + from, p->buf + to, (p->len - to) * sizeof *p->buf);
    p->len -= to - from;
    p->buf[p->len] = L'\0';
    if (p->cur > to)
        p->cur -= to - from;
    else if (p->cur > from)
        p->cur = from;
}

void ui_prompt_open(struct ui_prompt *p, int kind, const char *label, const char *initial)
{
    const unsigned char *s = (const unsigned char *)(initial != NULL ? initial : "");

    memset(p, 0, sizeof *p);
    p->kind = kind;
    snprintf(p->label, sizeof p->label, "%s", label);
    /* The initial text is ours (a filter typed before): ASCII and UTF-8, decoded simply. */
    while (*s != '\0') {
        unsigned long c = *s++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

        if (more > 0)
            c &= 0x3f >> more;
        while (more-- > 0 && (*s & 0xc0) == 0x80)
            c = (c << 6) | (*s++ & 0x3f);
        ui_prompt_key(p, PA_CHAR, (wchar_t)c);      /* the same filter as typing */
    }
}

enum ui_prompt_result ui_prompt_key(struct ui_prompt *p, enum ui_prompt_action a, wchar_t ch)
{
    size_t i;

    switch (a) {
    case PA_CHAR:
        if (ch >= 0x20 && ch != 0x7f && !(ch >= 0x80 && ch < 0xa0) && ch <= 0x10ffff &&
            (ch < 0xd800 || ch > 0xdfff))
            insert(p, ch);
        break;
    case PA_LEFT:
        if (p->cur > 0)
            p->cur--;
        break;
    case PA_RIGHT:
        if (p->cur < p->len)
            p->cur++;
        break;
    case PA_HOME:
        p->cur = 0;
        break;
    case PA_END:
        p->cur = p->len;
        break;
    case PA_BACKSPACE:
        if (p->cur > 0)
            cut(p, p->cur - 1, p->cur);
        break;
    case PA_DELETE:
        cut(p, p->cur, p->cur + 1);
        break;
    case PA_KILL_LINE:
        cut(p, 0, p->cur);
        break;
    case PA_KILL_END:
        cut(p, p->cur, p->len);
        break;
    case PA_KILL_WORD:
        i = p->cur;
        while (i > 0 && iswspace((wint_t)p->buf[i - 1]))
            i--;
        while (i > 0 && !iswspace((wint_t)p->buf[i - 1]))
            i--;
        cut(p, i, p->cur);
        break;
    case PA_ENTER:
        return PROMPT_ENTER;
    case PA_CANCEL:
        return PROMPT_CANCEL;
    case PA_IGNORE:
        break;
    }
    return PROMPT_MORE;
}

char *ui_prompt_text(const struct ui_prompt *p, char *out, size_t len)
{
    size_t from = 0, to = p->len, k = 0;

    if (len == 0)
        return out;
    while (from < to && (p->buf[from] == L' ' || p->buf[from] == L'\t'))
        from++;
    while (to > from && (p->buf[to - 1] == L' ' || p->buf[to - 1] == L'\t'))
        to--;
    for (size_t i = from; i < to; i++) {
        char tmp[4];
        size_t n = utf8_put((unsigned long)p->buf[i], tmp);

        if (k + n >= len)
            break;
        memcpy(out + k, tmp, n);
        k += n;
    }
    out[k] = '\0';
    return out;
}

void ui_prompt_secret(const struct ui_prompt *p, size_t *from, size_t *to)
{
    size_t start = 0, end, colon, at = (size_t)-1;
    bool ended;

    *from = *to = 0;
    if (!p->url)
        return;
    while (start + 1 < p->len && !(p->buf[start] == L'/' && p->buf[start + 1] == L'/'))
        start++;
    if (start + 1 >= p->len)
        return;
    start += 2;
    /* The authority ends at the path, query or fragment; a password may hold '/', '?' or '#'
     * only percent-encoded (RFC 3986 userinfo), so the first one ends it. */
    for (end = start; end < p->len; end++) {
        if (p->buf[end] == L'/' || p->buf[end] == L'?' || p->buf[end] == L'#')
            break;
        if (p->buf[end] == L'@')
            at = end;
    }
    ended = end < p->len;
    if (at == (size_t)-1) {
        if (ended)
            end = start;            /* host[:port], complete: nothing secret */
        /* An IPv6 literal is a host; userinfo cannot hold '['. */
        if (start < p->len && p->buf[start] == L'[')
            return;
    } else {
        end = at;
    }
    for (colon = start; colon < end && p->buf[colon] != L':'; colon++)
        ;
    if (colon >= end)
        return;
    *from = colon + 1;
    *to = end;
}
