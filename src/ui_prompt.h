#ifndef SLUICE_UI_PROMPT_H
#define SLUICE_UI_PROMPT_H
/* The one-line editor of the UI's prompts (b, c, a, /): insert, move, delete, Escape cancels.
 * No ncurses: the UI translates keys into these actions, and draws the line itself. */
#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#define UI_PROMPT_MAX 1024         /* characters; a URL with credentials and a query fits */

enum ui_prompt_action {
    PA_CHAR,                       /* insert ch */
    PA_LEFT, PA_RIGHT, PA_HOME, PA_END,
    PA_BACKSPACE, PA_DELETE,       /* before / under the cursor */
    PA_KILL_LINE,                  /* Ctrl-U: all before the cursor */
    PA_KILL_END,                   /* Ctrl-K: all from the cursor */
    PA_KILL_WORD,                  /* Ctrl-W: the word before the cursor */
    PA_ENTER, PA_CANCEL,
    PA_IGNORE,
};

enum ui_prompt_result { PROMPT_MORE, PROMPT_ENTER, PROMPT_CANCEL };

struct ui_prompt {
    int kind;                      /* what the answer is for (the owner's choice) */
    char label[96];
    wchar_t buf[UI_PROMPT_MAX + 1];
    size_t len, cur;
    bool url;                      /* the text is a URL: its password is drawn masked */
};

/* Starts editing: label (shown before the text) and initial text (UTF-8, may be NULL). */
void ui_prompt_open(struct ui_prompt *p, int kind, const char *label, const char *initial);
enum ui_prompt_result ui_prompt_key(struct ui_prompt *p, enum ui_prompt_action a, wchar_t ch);
/* For a URL prompt, the characters [*from, *to) that may be a password: those after the first ':'
 * of the user part, up to its '@', drawn as '*' like "***" everywhere else (urlpath_redact).
 * While the host is still being typed, a ':' may start a port or a password; until a '@' or
 * the end of the host ('/', '?', '#') tells, it is masked. *from == *to: nothing to mask. */
void ui_prompt_secret(const struct ui_prompt *p, size_t *from, size_t *to);
/* The text as UTF-8 in out (len bytes), blanks around it removed; returns out. */
char *ui_prompt_text(const struct ui_prompt *p, char *out, size_t len);

#endif
