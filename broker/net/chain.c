/*
 * Chain writer. See chain.h for ownership and the numbered invariants.
 *
 * Memory links are gathered into one sendmsg of up to IOV_BATCH entries so a
 * pipelined burst of small responses costs one syscall; a file link is sent
 * on its own with sendfile so its pages go from the page cache to the socket
 * without passing through user space. Both calls report partial progress,
 * which `advance` applies to the front of the chain.
 */
#include "chain.h"

#include <errno.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

enum { IOV_BATCH = 64 };

/* One sendfile call moves at most this much; Linux caps it near 2 GiB anyway. */
#define SENDFILE_MAX ((size_t)1 << 30)

void od_ref_init(od_ref *ref, void (*release)(od_ref *ref))
{
    atomic_init(&ref->count, 1);
    ref->release = release;
}

od_ref *od_ref_get(od_ref *ref)
{
    atomic_fetch_add_explicit(&ref->count, 1, memory_order_relaxed);
    return ref;
}

void od_ref_put(od_ref *ref)
{
    /* acq_rel so whatever a thread wrote through the object happens before
     * the release callback of the thread that frees it. */
    if (atomic_fetch_sub_explicit(&ref->count, 1, memory_order_acq_rel) == 1)
        ref->release(ref);
}

void od_chain_init(od_chain *chain)
{
    chain->head = chain->tail = NULL;
    chain->bytes = 0;
}

static od_link *new_link(od_arena *arena, od_link_kind kind, size_t len, od_ref *ref)
{
    od_link *link = od_arena_alloc(arena, sizeof *link);
    if (link == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memset(link, 0, sizeof *link);
    link->kind = kind;
    link->len = len;
    link->fd = -1;
    link->ref = ref ? od_ref_get(ref) : NULL;
    return link;
}

static void append_link(od_chain *chain, od_link *link)
{
    if (chain->tail)
        chain->tail->next = link;
    else
        chain->head = link;
    chain->tail = link;
    chain->bytes += link->len;
}

int od_chain_add_memory(od_chain *chain, od_arena *arena, const void *data, size_t len, od_ref *ref)
{
    if (len == 0)
        return 0;
    od_link *link = new_link(arena, OD_LINK_MEMORY, len, ref);
    if (link == NULL)
        return -1;
    link->memory = data;
    append_link(chain, link);
    return 0;
}

static void *copy_into_arena(od_arena *arena, const void *data, size_t len)
{
    void *copy = od_arena_alloc(arena, len);
    if (copy == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (len)
        memcpy(copy, data, len);
    return copy;
}

void *od_chain_add_copy(od_chain *chain, od_arena *arena, const void *data, size_t len)
{
    void *copy = copy_into_arena(arena, data, len);
    if (copy == NULL || od_chain_add_memory(chain, arena, copy, len, NULL) != 0)
        return NULL;
    return copy;
}

void *od_chain_prepend_copy(od_chain *chain, od_arena *arena, const void *data, size_t len)
{
    void *copy = copy_into_arena(arena, data, len);
    if (copy == NULL || len == 0)
        return copy;
    od_link *link = new_link(arena, OD_LINK_MEMORY, len, NULL);
    if (link == NULL)
        return NULL;
    link->memory = copy;
    link->next = chain->head;
    chain->head = link;
    if (chain->tail == NULL)
        chain->tail = link;
    chain->bytes += len;
    return copy;
}

int od_chain_add_file(od_chain *chain, od_arena *arena, int fd, off_t offset, size_t len, od_ref *ref)
{
    if (offset < 0 || fd < 0) {
        errno = EINVAL;
        return -1;
    }
    if (len == 0)
        return 0;
    od_link *link = new_link(arena, OD_LINK_FILE, len, ref);
    if (link == NULL)
        return -1;
    link->fd = fd;
    link->offset = offset;
    append_link(chain, link);
    return 0;
}

void od_chain_splice(od_chain *to, od_chain *from)
{
    if (from->head == NULL)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->bytes += from->bytes;
    od_chain_init(from);
}

static void drop_head(od_chain *chain)
{
    od_link *link = chain->head;
    chain->head = link->next;
    if (chain->head == NULL)
        chain->tail = NULL;
    /* Read `next` before the release: the ref may own the arena the link is in. */
    if (link->ref)
        od_ref_put(link->ref);
}

/* Consumes n sent bytes from the front (I2). */
static void advance(od_chain *chain, size_t n)
{
    chain->bytes -= n;
    while (n > 0) {
        od_link *link = chain->head;
        size_t step = n < link->len ? n : link->len;
        link->len -= step;
        if (link->kind == OD_LINK_MEMORY)
            link->memory += step;
        else
            link->offset += (off_t)step;
        n -= step;
        if (link->len == 0)
            drop_head(chain);
    }
}

static ssize_t send_memory_run(od_chain *chain, int sock, size_t *asked)
{
    struct iovec iov[IOV_BATCH];
    int count = 0;
    *asked = 0;
    for (od_link *link = chain->head; link && link->kind == OD_LINK_MEMORY && count < IOV_BATCH;
         link = link->next) {
        iov[count].iov_base = (void *)link->memory;
        iov[count].iov_len = link->len;
        *asked += link->len;
        count++;
    }
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)count;
    return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t send_file_link(od_link *link, int sock, size_t *asked)
{
    off_t offset = link->offset;
    size_t len = link->len < SENDFILE_MAX ? link->len : SENDFILE_MAX;
    *asked = len;
    ssize_t n = sendfile(sock, link->fd, &offset, len);
    if (n == 0) {
        errno = EIO; /* the file ends before the region does */
        return -1;
    }
    return n;
}

od_io od_chain_write(od_chain *chain, int sock, size_t budget, size_t *sent)
{
    size_t total = 0;
    od_io result = OD_IO_DONE;
    while (chain->head != NULL) {
        if (budget != 0 && total >= budget) {
            result = OD_IO_AGAIN;
            break;
        }
        size_t asked = 0;
        od_link_kind kind = chain->head->kind;
        ssize_t n = kind == OD_LINK_FILE ? send_file_link(chain->head, sock, &asked)
                                                       : send_memory_run(chain, sock, &asked);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            result = (errno == EAGAIN || errno == EWOULDBLOCK) ? OD_IO_AGAIN : OD_IO_ERROR;
            break;
        }
        advance(chain, (size_t)n);
        total += (size_t)n;
        /* A short sendmsg means the socket buffer is full: asking again now
         * would only earn EAGAIN. A short sendfile may instead mean the file
         * ended early, which only the next call can tell. */
        if ((size_t)n < asked && kind == OD_LINK_MEMORY) {
            result = OD_IO_AGAIN;
            break;
        }
    }
    *sent = total;
    return result;
}

void od_chain_discard(od_chain *chain)
{
    while (chain->head != NULL)
        drop_head(chain);
    chain->bytes = 0;
}
