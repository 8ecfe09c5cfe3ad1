/*
 * Buffer chains: the bytes of one or more responses as a list of links, each
 * either a memory range or a region of an open file, and the writer that
 * sends them with sendmsg (gathering runs of memory links) and sendfile.
 *
 * Ownership
 *   - Links are carved from an arena supplied when they are added, normally
 *     the request arena of the response they belong to. A chain never frees
 *     a link; the arena does, after the bytes are sent.
 *   - The bytes a link points at are either arena memory (no reference) or
 *     memory/files kept alive by an od_ref the link holds. The chain takes
 *     its own reference when a link is added and drops it exactly once: when
 *     the writer has sent the link's last byte, or in od_chain_discard.
 *   - A file link reads the file through its fd at its own offset (pread
 *     semantics); the fd's file position is never moved, so several links
 *     and threads can share one segment fd.
 *   - A chain is used by one thread at a time; od_ref counts are atomic so
 *     the referenced objects may be shared between threads.
 *
 * Invariants
 *   1. chain->bytes is the sum of the unsent lengths of its links.
 *   2. Every link in a chain has at least one unsent byte; a fully sent link
 *      is unlinked before the writer returns, so a chain whose head link
 *      lives in arena A never needs arena A once it has moved past it.
 *   3. After od_chain_write returns, the bytes it reports are exactly the
 *      prefix of the chain that left through the socket; a partial write is
 *      resumed by calling it again with the same chain.
 */
#ifndef ODRADEK_BROKER_NET_CHAIN_H
#define ODRADEK_BROKER_NET_CHAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"

/* A reference count on something a link points into. `release` runs once,
 * on whichever thread drops the last reference. */
typedef struct od_ref od_ref;
struct od_ref {
    atomic_uint count;
    void (*release)(od_ref *ref);
};

/* Starts the count at one, owned by the caller. */
void od_ref_init(od_ref *ref, void (*release)(od_ref *ref));
od_ref *od_ref_get(od_ref *ref);
void od_ref_put(od_ref *ref);

typedef enum od_link_kind { OD_LINK_MEMORY, OD_LINK_FILE } od_link_kind;

typedef struct od_link od_link;
struct od_link {
    od_link *next;
    od_link_kind kind;
    size_t len;            /* unsent bytes */
    const uint8_t *memory; /* OD_LINK_MEMORY: next unsent byte */
    int fd;                /* OD_LINK_FILE */
    off_t offset;          /* OD_LINK_FILE: file offset of the next unsent byte */
    od_ref *ref;           /* may be NULL */
};

typedef struct od_chain {
    od_link *head;
    od_link *tail;
    size_t bytes;
} od_chain;

/* Results of an I/O step, shared by the network layer. */
typedef enum od_io {
    OD_IO_DONE = 0, /* nothing left to do */
    OD_IO_AGAIN,    /* stopped early: socket full or byte budget spent; call again later */
    OD_IO_ERROR,    /* errno says why; the chain is still consistent */
} od_io;

void od_chain_init(od_chain *chain);

static inline bool od_chain_empty(const od_chain *chain)
{
    return chain->head == NULL;
}

/* Appends len bytes at `data`, not copied. `data` must stay valid until
 * sent: it is in `arena`, or `ref` (may be NULL) keeps it alive and the chain
 * takes its own reference. Returns 0, or -1 (ENOMEM) when the arena is
 * exhausted. Adding zero bytes adds nothing. */
int od_chain_add_memory(od_chain *chain, od_arena *arena, const void *data, size_t len, od_ref *ref);

/* Copies len bytes into `arena` and appends them. Returns the copy, or NULL
 * (ENOMEM). */
void *od_chain_add_copy(od_chain *chain, od_arena *arena, const void *data, size_t len);

/* Same, but in front of the chain, for framing written after the body. */
void *od_chain_prepend_copy(od_chain *chain, od_arena *arena, const void *data, size_t len);

/* Appends `len` bytes of fd starting at `offset`. The fd must stay open until
 * sent; `ref` (may be NULL) is how the owner of the fd learns that. Returns 0,
 * or -1 (ENOMEM, or EINVAL for a negative offset). */
int od_chain_add_file(od_chain *chain, od_arena *arena, int fd, off_t offset, size_t len, od_ref *ref);

/* Moves every link of `from` to the end of `to`; `from` is left empty. */
void od_chain_splice(od_chain *to, od_chain *from);

/* Sends from the front of the chain until it is empty, the socket would
 * block, or at least `budget` bytes have gone (0 means no budget). Stores the
 * number of bytes sent in *sent. Never raises SIGPIPE for memory links;
 * sendfile can, so the calling thread must block or ignore SIGPIPE. A file
 * that turns out shorter than its link is OD_IO_ERROR with EIO. */
od_io od_chain_write(od_chain *chain, int sock, size_t budget, size_t *sent);

/* Drops the references of every unsent link and empties the chain. */
void od_chain_discard(od_chain *chain);

#endif
