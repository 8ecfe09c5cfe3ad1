/*
 * Buffer chains: mixed memory and file links written through a socketpair
 * with tiny buffers, so nearly every call is a partial write; the bytes must
 * arrive intact and every reference must be dropped exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chain.h"
#include "od_test.h"

typedef struct counted {
    od_ref ref;
    int released;
} counted;

static void count_release(od_ref *ref)
{
    ((counted *)ref)->released++;
}

enum { FILE_SIZE = 300000 };

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 131u) ^ (i >> 8));
}

static int make_pattern_file(void)
{
    FILE *f = tmpfile();
    if (f == NULL)
        return -1;
    int fd = dup(fileno(f));
    fclose(f);
    static uint8_t data[FILE_SIZE];
    for (size_t i = 0; i < FILE_SIZE; i++)
        data[i] = pattern_byte(i);
    if (pwrite(fd, data, FILE_SIZE, 0) != FILE_SIZE) {
        close(fd);
        return -1;
    }
    return fd;
}

static void small_socketpair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        sv[0] = sv[1] = -1;
        return;
    }
    int tiny = 1; /* the kernel rounds up to its minimum */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

typedef struct expect_buf {
    uint8_t *data;
    size_t len;
} expect_buf;

static void expect_append(expect_buf *e, const void *p, size_t n)
{
    memcpy(e->data + e->len, p, n);
    e->len += n;
}

static void expect_file(expect_buf *e, size_t offset, size_t n)
{
    for (size_t i = 0; i < n; i++)
        e->data[e->len++] = pattern_byte(offset + i);
}

static void mixed_chain_survives_partial_writes(void)
{
    signal(SIGPIPE, SIG_IGN);
    int file = make_pattern_file();
    REQUIRE(file >= 0);
    int sv[2];
    small_socketpair(sv);
    REQUIRE(sv[0] >= 0);

    od_arena arena;
    od_arena_init(&arena);
    od_chain chain;
    od_chain_init(&chain);
    counted shared;
    od_ref_init(&shared.ref, count_release);
    shared.released = 0;
    static uint8_t expected_data[1 << 20];
    expect_buf expect = {expected_data, 0};

    static uint8_t owned_block[70000]; /* "refcounted" memory, bigger than the socket buffer */
    for (size_t i = 0; i < sizeof owned_block; i++)
        owned_block[i] = (uint8_t)(i * 7);

    CHECK(od_chain_add_copy(&chain, &arena, "header", 6) != NULL);
    expect_append(&expect, "header", 6);
    CHECK(od_chain_add_file(&chain, &arena, file, 1000, 150000, &shared.ref) == 0);
    expect_file(&expect, 1000, 150000);
    for (int i = 0; i < 100; i++) { /* more memory links than one sendmsg takes */
        char small[16];
        int n = snprintf(small, sizeof small, "<%d>", i);
        CHECK(od_chain_add_copy(&chain, &arena, small, (size_t)n) != NULL);
        expect_append(&expect, small, (size_t)n);
    }
    CHECK(od_chain_add_memory(&chain, &arena, owned_block, sizeof owned_block, &shared.ref) == 0);
    expect_append(&expect, owned_block, sizeof owned_block);
    CHECK(od_chain_add_file(&chain, &arena, file, 7, 10, &shared.ref) == 0);
    expect_file(&expect, 7, 10);
    CHECK(od_chain_add_file(&chain, &arena, file, 200000, 99999, NULL) == 0);
    expect_file(&expect, 200000, 99999);
    CHECK(od_chain_add_memory(&chain, &arena, "", 0, &shared.ref) == 0); /* adds nothing */
    CHECK(od_chain_add_copy(&chain, &arena, "trailer", 7) != NULL);
    expect_append(&expect, "trailer", 7);
    uint8_t size_prefix[4] = {0, 0, 1, 2};
    CHECK(od_chain_prepend_copy(&chain, &arena, size_prefix, 4) != NULL);
    memmove(expect.data + 4, expect.data, expect.len);
    memcpy(expect.data, size_prefix, 4);
    expect.len += 4;
    CHECK_EQ_INT(chain.bytes, expect.len);
    CHECK_EQ_INT(atomic_load(&shared.ref.count), 4);

    static uint8_t received[1 << 20];
    size_t got = 0, total_sent = 0;
    int partial_writes = 0, budget_stops = 0;
    od_io io;
    for (int rounds = 0; rounds < 1000000; rounds++) {
        size_t sent = 0;
        /* A small budget on some calls exercises stopping with room left. */
        size_t budget = (rounds % 5 == 0) ? 1 : 0;
        io = od_chain_write(&chain, sv[0], budget, &sent);
        total_sent += sent;
        CHECK_EQ_INT(chain.bytes, expect.len - total_sent);
        if (io == OD_IO_DONE)
            break;
        REQUIRE(io == OD_IO_AGAIN);
        if (budget)
            budget_stops++;
        else
            partial_writes++;
        ssize_t n = read(sv[1], received + got, 1500);
        if (n > 0)
            got += (size_t)n;
    }
    CHECK(io == OD_IO_DONE);
    CHECK(od_chain_empty(&chain));
    CHECKF(partial_writes > 50, "only %d partial writes", partial_writes);
    CHECK(budget_stops > 0);
    while (got < expect.len) {
        ssize_t n = read(sv[1], received + got, expect.len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    CHECK_EQ_INT(got, expect.len);
    CHECK_MEM(received, expect.data, expect.len);
    CHECK_EQ_INT(atomic_load(&shared.ref.count), 1);
    CHECK_EQ_INT(shared.released, 0);
    od_ref_put(&shared.ref);
    CHECK_EQ_INT(shared.released, 1);

    od_arena_release(&arena);
    close(sv[0]);
    close(sv[1]);
    close(file);
}

static void short_file_is_an_error_and_discard_drops_refs(void)
{
    signal(SIGPIPE, SIG_IGN);
    int file = make_pattern_file();
    REQUIRE(file >= 0);
    int sv[2];
    small_socketpair(sv);
    REQUIRE(sv[0] >= 0);
    od_arena arena;
    od_arena_init(&arena);
    od_chain chain;
    od_chain_init(&chain);
    counted shared;
    od_ref_init(&shared.ref, count_release);
    shared.released = 0;

    CHECK(od_chain_add_file(&chain, &arena, file, FILE_SIZE - 10, 20, &shared.ref) == 0);
    CHECK(od_chain_add_copy(&chain, &arena, "never", 5) != NULL);
    CHECK(od_chain_add_file(&chain, &arena, file, -1, 5, NULL) == -1);
    size_t sent = 0;
    errno = 0;
    CHECK(od_chain_write(&chain, sv[0], 0, &sent) == OD_IO_ERROR);
    CHECK_EQ_INT(errno, EIO);
    CHECK_EQ_INT(sent, 10);
    CHECK_EQ_INT(chain.bytes, 15);
    od_chain_discard(&chain);
    CHECK(od_chain_empty(&chain));
    CHECK_EQ_INT(chain.bytes, 0);
    CHECK_EQ_INT(atomic_load(&shared.ref.count), 1);

    /* A peer that went away is an error, not a signal. */
    od_chain_init(&chain);
    CHECK(od_chain_add_copy(&chain, &arena, "lost", 4) != NULL);
    close(sv[1]);
    CHECK(od_chain_write(&chain, sv[0], 0, &sent) == OD_IO_ERROR);
    CHECK(errno == EPIPE || errno == ECONNRESET);
    od_chain_discard(&chain);

    od_ref_put(&shared.ref);
    CHECK_EQ_INT(shared.released, 1);
    od_arena_release(&arena);
    close(sv[0]);
    close(file);
}

static void splice_moves_links_and_bytes(void)
{
    od_arena arena;
    od_arena_init(&arena);
    od_chain a, b;
    od_chain_init(&a);
    od_chain_init(&b);
    od_chain_splice(&a, &b);
    CHECK(od_chain_empty(&a));
    od_chain_add_copy(&b, &arena, "one", 3);
    od_chain_splice(&a, &b);
    od_chain_add_copy(&b, &arena, "two", 3);
    od_chain_add_copy(&b, &arena, "three", 5);
    od_chain_splice(&a, &b);
    CHECK(od_chain_empty(&b));
    CHECK_EQ_INT(b.bytes, 0);
    CHECK_EQ_INT(a.bytes, 11);
    int links = 0;
    for (od_link *l = a.head; l; l = l->next)
        links++;
    CHECK_EQ_INT(links, 3);
    CHECK(a.tail->next == NULL && a.tail->len == 5);
    od_chain_discard(&a);
    od_arena_release(&arena);
}

OD_TEST_MAIN(OD_CASE(mixed_chain_survives_partial_writes),
             OD_CASE(short_file_is_an_error_and_discard_drops_refs),
             OD_CASE(splice_moves_links_and_bytes))
