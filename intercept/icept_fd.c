/* icept_fd.c - "is this fd one of ours?", answered cheaply.
 *
 * A netcon socket is, to the kernel, one end of an AF_UNIX SOCK_STREAM
 * socketpair; the daemon's stack names it by the inode of that end. So:
 * fstat() the fd (not a socket: native); look the fd number up in a small
 * cache whose entries carry the inode they were made for (a different
 * socket under the same number misses); otherwise a native getsockname()
 * and getpeername() showing two unnamed AF_UNIX stream ends means "maybe a
 * socketpair", and only then is the server asked (QUERY). The answer is
 * cached both ways. Entries are one atomic word each: lock-free readers,
 * benign races (the worst case is one extra QUERY).
 */
#include "icept.h"
#include "stack/stack.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/un.h>

#define ICEPT_FD_CACHE	65536

#define ENT_INO_MASK	((UINT64_C(1) << 56) - 1)
#define ENT_VALID	(UINT64_C(1) << 56)
#define ENT_OURS	(UINT64_C(1) << 57)
#define ENT_INET6	(UINT64_C(1) << 58)
#define ENT_LISTEN	(UINT64_C(1) << 59)

static _Atomic uint64_t icept_fd_cache[ICEPT_FD_CACHE];

/* fd_ino() - inode of a socket fd, or 0 if fd is not an open socket */
static uint64_t fd_ino(int fd)
{
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return 0;
	return (uint64_t)sb.st_ino & ENT_INO_MASK;
}

static void fd_store(int fd, uint64_t ino, uint64_t bits)
{
	if (fd >= 0 && fd < ICEPT_FD_CACHE)
		atomic_store(&icept_fd_cache[fd], (ino & ENT_INO_MASK) | ENT_VALID | bits);
}

static int fd_verdict(uint64_t e, int *family, unsigned *flags)
{
	if (!(e & ENT_OURS))
		return 0;
	*family = (e & ENT_INET6) ? AF_INET6 : AF_INET;
	*flags = (e & ENT_LISTEN) ? ICEPT_FD_LISTEN : 0;
	return 1;
}

/* fd_maybe_pair() - does the fd look like a socketpair end (both ends
 * unnamed AF_UNIX, stream)? Native calls only. */
static int fd_maybe_pair(int fd)
{
	const struct icept_real *r = icept_real();
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type = 0;
	socklen_t tl = sizeof(type);

	if (r->getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family != AF_UNIX || len != sizeof(sa_family_t))
		return 0;
	if (r->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
		return 0;
	len = sizeof(ss);
	if (r->getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;	/* not connected: never one of ours */
	return ss.ss_family == AF_UNIX && len == sizeof(sa_family_t);
}

int icept_fd_classify(int fd, int *family, unsigned *flags)
{
	struct nc_rpc_msg req, rep;
	uint64_t ino, e, bits;
	int rc;

	*family = 0;
	*flags = 0;
	ino = fd_ino(fd);
	if (!ino)
		return 0;
	if (fd < ICEPT_FD_CACHE) {
		e = atomic_load(&icept_fd_cache[fd]);
		if ((e & ENT_VALID) && (e & ENT_INO_MASK) == ino)
			return fd_verdict(e, family, flags);
	}
	if (!fd_maybe_pair(fd)) {
		fd_store(fd, ino, 0);
		return 0;
	}
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	rc = icept_rpc_call(&req, fd, &rep, 0);
	nc_rpc_msg_release(&rep);
	if (rc == -ENOTSOCK) {
		fd_store(fd, ino, 0);
		return 0;
	}
	if (rc < 0)
		return 0;	/* daemon unreachable: native, and ask again next time */
	bits = ENT_OURS;
	if (rep.family == AF_INET6)
		bits |= ENT_INET6;
	if (rep.state == NC_SOCK_LISTENING)
		bits |= ENT_LISTEN;
	fd_store(fd, ino, bits);
	return fd_verdict(bits, family, flags);
}

void icept_fd_remember(int fd, int family, unsigned flags)
{
	uint64_t ino = fd_ino(fd), bits = ENT_OURS;

	if (!ino)
		return;
	if (family == AF_INET6)
		bits |= ENT_INET6;
	if (flags & ICEPT_FD_LISTEN)
		bits |= ENT_LISTEN;
	fd_store(fd, ino, bits);
}

void icept_fd_set_flags(int fd, unsigned flags)
{
	if (fd < 0 || fd >= ICEPT_FD_CACHE)
		return;
	if (flags & ICEPT_FD_LISTEN)
		atomic_fetch_or(&icept_fd_cache[fd], ENT_LISTEN);
}

void icept_fd_forget(int fd)
{
	if (fd >= 0 && fd < ICEPT_FD_CACHE)
		atomic_store(&icept_fd_cache[fd], 0);
}

void icept_fd_copy(int from, int to)
{
	if (from < 0 || from >= ICEPT_FD_CACHE || to < 0 || to >= ICEPT_FD_CACHE)
		return;
	atomic_store(&icept_fd_cache[to], atomic_load(&icept_fd_cache[from]));
}
