/*
 * odradek: the broker binary. Until the broker lands it offers the
 * kafka-storage.sh helpers that need no running server.
 */
#include <stdio.h>
#include <string.h>


static int usage(FILE *out)
{
    fprintf(out,
            "usage: odradek [server.properties]\n"
            "       odradek --version\n");
    return out == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("odradek %s\n", ODRADEK_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout);
    fprintf(stderr, "odradek: the broker is not built yet (see the open issues)\n");
    return 1;
}
