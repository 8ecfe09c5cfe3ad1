/* Helpers shared by the kraft tests: temporary directories and file reads. */
#ifndef ODRADEK_KRAFT_TESTUTIL_H
#define ODRADEK_KRAFT_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int kr_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A fresh directory under $TMPDIR (or /tmp); path must hold 256 bytes. */
static inline void kr_tmpdir(char *path)
{
    const char *t = getenv("TMPDIR");
    snprintf(path, 256, "%s/od-kraft-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
}

static inline void kr_rmtree(const char *path)
{
    nftw(path, kr_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file into a malloc'd NUL-terminated string; NULL if absent. */
static inline char *kr_read_file(const char *dir, const char *name, size_t *len_out)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        abort();
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len_out)
            *len_out = (size_t)n;
    }
    return buf;
}

static inline void kr_write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        abort();
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

#endif
