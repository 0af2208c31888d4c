#ifndef SLUICE_THEME_H
#define SLUICE_THEME_H
/* Colour themes for the terminal UI (docs/tui.md#themes): one X-macro names every element of the
 * screen with its built-in colours and its monochrome look, and libconfig files in themes/ override
 * them. No ncurses here: attributes are our own bits, the UI maps them. */
#include <stdbool.h>

/* A theme is a few KiB; a bigger file is refused before it is read. */
#define THEME_MAX_BYTES (1024 * 1024)

/* X(ID, "name", fg, bg, attrs, mono attrs): the built-in look is the "default" theme.
 * mono is what NO_COLOR or a colourless terminal shows: bold and reverse only. */
#define THEME_ELEMENTS(X)                                                           \
    X(TITLE,        "title",        "black",        "cyan",    "bold", "reverse bold") \
    X(HEADER,       "header",       "default",      "default", "",     "")          \
    X(LABEL,        "label",        "cyan",         "default", "",     "")          \
    X(VALUE,        "value",        "white",        "default", "bold", "bold")      \
    X(BAR,          "bar",          "green",        "default", "bold", "bold")      \
    X(BAR_FULL,     "bar_full",     "yellow",       "default", "bold", "bold")      \
    X(BAR_EMPTY,    "bar_empty",    "bright-black", "default", "",     "")          \
    X(SPARK,        "spark",        "cyan",         "default", "",     "")          \
    X(ALERT,        "alert",        "white",        "red",     "bold", "reverse bold") \
    X(TAB,          "tab",          "default",      "default", "",     "")          \
    X(TAB_ACTIVE,   "tab_active",   "black",        "cyan",    "bold", "reverse bold") \
    X(COLUMNS,      "columns",      "black",        "green",   "",     "reverse")   \
    X(ROW,          "row",          "default",      "default", "",     "")          \
    X(SELECTED,     "selected",     "black",        "cyan",    "",     "reverse")   \
    X(ST_ACTIVE,    "active",       "green",        "default", "",     "bold")      \
    X(ST_QUEUED,    "queued",       "default",      "default", "",     "")          \
    X(ST_RETRY,     "retry",        "yellow",       "default", "",     "")          \
    X(ST_PAUSED,    "paused",       "magenta",      "default", "bold", "bold")      \
    X(ST_DONE,      "done",         "blue",         "default", "bold", "")          \
    X(ST_FAILED,    "failed",       "red",          "default", "bold", "bold")      \
    X(PROGRESS,     "progress",     "green",        "default", "",     "")          \
    X(PROGRESS_EMPTY, "progress_empty", "bright-black", "default", "", "")          \
    X(STATUS,       "status",       "default",      "default", "",     "")          \
    X(ERROR,        "error",        "red",          "default", "bold", "bold")      \
    X(HINT_KEY,     "hint_key",     "black",        "cyan",    "",     "reverse")   \
    X(HINT,         "hint",         "default",      "default", "",     "")          \
    X(PROMPT,       "prompt",       "yellow",       "default", "bold", "bold")      \
    X(DETAIL_LABEL, "detail_label", "cyan",         "default", "",     "bold")

enum theme_elem {
#define THEME_ENUM(id, name, fg, bg, attr, mono) TH_##id,
    THEME_ELEMENTS(THEME_ENUM)
#undef THEME_ENUM
    TH_COUNT
};

#define THEME_BOLD      1u
#define THEME_REVERSE   2u
#define THEME_UNDERLINE 4u
#define THEME_DIM       8u

#define THEME_COLOR_DEFAULT (-1)   /* the terminal's own foreground or background */

struct theme_style {
    short fg, bg;                  /* 0..255 or THEME_COLOR_DEFAULT */
    unsigned attr;                 /* THEME_* bits, with colours */
    unsigned mono;                 /* THEME_BOLD/THEME_REVERSE, without colours */
};

struct theme {
    struct theme_style st[TH_COUNT];
    char source[256];              /* the file it came from, or "built-in" */
};

const char *theme_elem_name(enum theme_elem e);
/* The built-in look ("default"). */
void theme_defaults(struct theme *t);
/* "red", "bright-red", "default", "196" → 0..255 or THEME_COLOR_DEFAULT. 0 or -1 with err. */
int theme_parse_color(const char *s, short *out, char *err);
/* "bold reverse" (blank or comma separated; "" or "none" is nothing) → THEME_* bits. */
int theme_parse_attrs(const char *s, unsigned *out, char *err);
/* Applies a theme file over the built-in look: each element is a group
 * `name = { fg = "COLOUR"; bg = "COLOUR"; attr = "bold"; mono = "reverse"; };`, every member
 * optional. Returns 0, or -1 with "FILE:LINE: message" in err (ERRLEN), or "FILE: too large (...)"
 * over THEME_MAX_BYTES; t is then unchanged. */
int theme_load_file(struct theme *t, const char *path, char *err);
/* NAME (looked up as NAME.conf in the theme folders) or FILE (anything with a '/' or ending in
 * ".conf"). "default" and "mono" work even when no folder holds them. */
int theme_load(struct theme *t, const char *name_or_file, char *err);

#endif
