/* sluice report: the session's items without SQL. A read-only connection of its own (no lock of
 * the running sluice is taken or needed: WAL readers never block the writer), one query in id
 * order, printed as it is read so a million-item session needs no memory. */
#include "report.h"
#include "item.h"
#include "store_schema.h"
#include "urlpath.h"
#include "util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { REPORT_OK = 0, REPORT_ERROR = 1, REPORT_USAGE = 2 };

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: sluice report [-d DIR | --session FILE] [--failed | --all] [--json]\n"
            "\n"
            "Prints the items of the session (DIR/.sluice/session.db, DIR default .): id, state,\n"
            "last HTTP status, attempts, reason and URL. --failed (the default) only the failed\n"
            "ones, --all every item; --json one JSON object per line. Works whether or not a\n"
            "sluice runs on it.\n"
            "\n"
            "exit status: 0 printed, 1 the session cannot be read, 2 bad usage or no session\n");
}

/* What the row says went wrong: the error, else the HTTP status of a failure. */
static const char *reason(int state, int http, const char *error, char *buf, size_t len)
{
    if (error != NULL && *error)
        return error;
    if (state == ITEM_FAILED && http > 0) {
        snprintf(buf, len, "HTTP %d", http);
        return buf;
    }
    return "";
}

int report_print(const char *path, bool all, bool json, FILE *out, char *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    struct sbuf line = { 0 };
    int rc = -1, step;
    long n = 0;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        errf(err, "cannot open %s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    /* A file that is not a session is said so, not queried. */
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        errf(err, "cannot read %s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_column_int64(s, 0) != STORE_APPLICATION_ID) {
        errf(err, "%s is not a sluice session", path);
        goto out;
    }
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(db,
                           "SELECT id, state, http_status, attempts, error, url, path FROM items "
                           "WHERE ?1 OR state = ?2 ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
        errf(err, "cannot read %s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int(s, 1, all ? 1 : 0);
    sqlite3_bind_int(s, 2, ITEM_FAILED);
    if (!json)
        fprintf(out, "%-8s %-9s %4s %3s  %-32s %s\n", "ID", "STATE", "HTTP", "TRY", "REASON", "URL");
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        int state = sqlite3_column_int(s, 1), http = sqlite3_column_int(s, 2);
        int attempts = sqlite3_column_int(s, 3);
        const char *error = (const char *)sqlite3_column_text(s, 4);
        const char *url = (const char *)sqlite3_column_text(s, 5);
        const char *file = (const char *)sqlite3_column_text(s, 6);
        const char *name = state >= 0 && state < ITEM_STATE_COUNT
                               ? item_state_name((enum item_state)state) : "?";
        char *shown = urlpath_redact(url != NULL ? url : "");
        char rb[32];
        const char *why = reason(state, http, error, rb, sizeof rb);

        line.len = 0;
        if (json) {
            sbuf_printf(&line, "{\"id\":%lld,\"state\":\"%s\",\"http_status\":%d,\"attempts\":%d,"
                        "\"reason\":", (long long)id, name, http, attempts);
            sbuf_json_str(&line, why);
            sbuf_addstr(&line, ",\"url\":");
            sbuf_json_str(&line, shown);
            sbuf_addstr(&line, ",\"path\":");
            sbuf_json_str(&line, file != NULL ? file : "");
            sbuf_addstr(&line, "}\n");
        } else {
            struct sbuf w = { 0 };
            char h[16];

            if (http > 0)
                snprintf(h, sizeof h, "%d", http);
            else
                snprintf(h, sizeof h, "-");
            /* A URL or a reason from the network is hostile: made safe for the terminal. */
            sbuf_safe_text(&w, *why ? why : "-");
            sbuf_printf(&line, "%-8lld %-9s %4s %3d  %-32s ", (long long)id, name, h, attempts,
                        w.s);
            w.len = 0;
            sbuf_safe_text(&w, shown);
            sbuf_addstr(&line, w.s != NULL ? w.s : "");
            sbuf_addstr(&line, "\n");
            sbuf_free(&w);
        }
        free(shown);
        fwrite(line.s, 1, line.len, out);
        n++;
    }
    if (step != SQLITE_DONE) {
        errf(err, "cannot read %s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    if (fflush(out) != 0 || ferror(out)) {
        errf(err, "cannot write the report");
        goto out;
    }
    rc = 0;
out:
    sbuf_free(&line);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

int report_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "session", required_argument, NULL, 's' },
        { "failed", no_argument, NULL, 'f' },
        { "all", no_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = ".", *session = NULL;
    bool all = false, json = false;
    char err[ERRLEN], *path;
    struct stat sb;
    int c, rc;

    opterr = 0;
    optind = 2;             /* after "sluice report" */
    while ((c = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 's': session = optarg; break;
        case 'f': all = false; break;
        case 'a': all = true; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return REPORT_OK;
        default:
            fprintf(stderr, "sluice report: bad option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return REPORT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice report: unexpected '%s'\n", argv[optind]);
        usage(stderr);
        return REPORT_USAGE;
    }
    path = session != NULL ? xstrdup(session) : xasprintf("%s/.sluice/session.db", dir);
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "sluice report: no session at %s\n", path);
        free(path);
        return REPORT_USAGE;
    }
    rc = report_print(path, all, json, stdout, err);
    if (rc < 0)
        fprintf(stderr, "sluice report: %s\n", err);
    free(path);
    return rc < 0 ? REPORT_ERROR : REPORT_OK;
}
