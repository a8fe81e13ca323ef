/* icept_hooks.c - the socket calls libzerotierintercept.so takes over.
 *
 * Without ZT_NC_NETWORK every hook goes straight to libc. With it, socket()
 * for AF_INET/AF_INET6 SOCK_STREAM asks the daemon for a socket and returns
 * the application end of its socketpair; calls on an fd are moved to the
 * daemon only when icept_fd_classify() says the fd is one of ours, so
 * everything else (files, AF_UNIX, netlink, the program's own socketpairs)
 * stays native. Data never passes through here: read/write/send/recv,
 * sendfile, poll, select and epoll work on the socketpair natively.
 *
 * Each icept_*() returns like its libc counterpart (-1 and errno); the
 * exported wrappers at the end are thin.
 *
 * Where a netcon socket differs from a kernel TCP socket, on purpose:
 * - only TCP: AF_INET/AF_INET6 SOCK_DGRAM/SOCK_RAW (and other protocols)
 *   fail with EPROTONOSUPPORT (one line on stderr under ZT_NC_DEBUG); they
 *   never become TCP and never reach the host network. Programs that probe
 *   IPv6 with a UDP socket (curl) then treat IPv6 as unavailable.
 * - SOL_SOCKET options the stack does not keep (SO_RCVTIMEO, SO_SNDTIMEO,
 *   SO_RCVLOWAT, ...) act on the socketpair, which is where the data flows.
 *   IP/TCP-level options the stack has no use for (TCP_CORK,
 *   TCP_DEFER_ACCEPT, IP_TOS, ...) are accepted by setsockopt() and report
 *   ENOPROTOOPT on getsockopt(), rather than a made-up value.
 * - shutdown() is native: SHUT_WR is an EOF on the socketpair, which the
 *   stack sends as a FIN.
 * - a blocking connect() waits on an RPC connection of its own (so other
 *   threads' calls go on); like the kernel's, a signal interrupts it (EINTR)
 *   and SO_SNDTIMEO limits it (EINPROGRESS), the attempt going on.
 * - if the daemon goes away, a listener reads EOF: accept() then fails with
 *   EINVAL, as on a listening socket that was shut down.
 * - programs that do not call socket functions through libc (static Go
 *   binaries) are not intercepted at all.
 */
#include "icept.h"
#include "stack/stack.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* ret_err() - libc convention: rc < 0 is -errno */
static int ret_err(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

/* set_nonblock() - add O_NONBLOCK to fd. Return 0 or -errno */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* addr_map_v4() - on an AF_INET6 socket, show an IPv4 address the way
 * Linux does for a dual-stack socket: ::ffff:a.b.c.d */
static void addr_map_v4(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	if (family != AF_INET6 || ss->ss_family != AF_INET)
		return;
	struct sockaddr_in s4 = *(struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	memset(s6, 0, sizeof(*s6));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = s4.sin_port;
	s6->sin6_addr.s6_addr[10] = 0xff;
	s6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6->sin6_addr.s6_addr[12], &s4.sin_addr.s_addr, 4);
	*len = sizeof(*s6);
}

/* addr_copy_out() - accept/getsockname semantics: copy what fits, report
 * the full length */
static void addr_copy_out(const struct sockaddr_storage *ss, socklen_t len, struct sockaddr *sa,
			  socklen_t *salen)
{
	if (!sa || !salen)
		return;
	memcpy(sa, ss, len < *salen ? len : *salen);
	*salen = len;
}

/* addr_check() - copy an application address for a socket of family fam.
 * Return 0 or -errno as Linux gives it for bind/connect. */
static int addr_check(int fam, const struct sockaddr *sa, socklen_t len,
		      struct sockaddr_storage *ss, socklen_t *sslen)
{
	if (!sa)
		return -EFAULT;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		if (len < sizeof(struct sockaddr_in))
			return -EINVAL;
		if (sa->sa_family != AF_INET)
			return -EAFNOSUPPORT;
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		*sslen = sizeof(struct sockaddr_in);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return sa->sa_family == AF_INET ? -EINVAL : -EAFNOSUPPORT;
	if (len < 24)	/* RFC 2133 size, without scope id */
		return -EINVAL;
	memcpy(ss, sa, len < sizeof(struct sockaddr_in6) ? len : sizeof(struct sockaddr_in6));
	*sslen = sizeof(struct sockaddr_in6);
	return 0;
}

int icept_socket(int domain, int type, int protocol)
{
	const struct icept_real *r = icept_real();
	struct nc_rpc_msg req, rep;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), fd, rc;

	if (!icept_enabled() || (domain != AF_INET && domain != AF_INET6))
		return r->socket(domain, type, protocol);
	if (base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) {
		icept_debug("socket(%s, type %d, proto %d): only TCP runs on a netcon network; "
			    "failing with EPROTONOSUPPORT", domain == AF_INET ? "AF_INET" : "AF_INET6",
			    base, protocol);
		return ret_err(-EPROTONOSUPPORT);
	}
	nc_rpc_msg_init(&req, NC_RPC_SOCKET, 0);
	req.family = domain;
	req.socktype = SOCK_STREAM;
	req.protocol = protocol;
	rc = icept_rpc_call(&req, -1, &rep, (type & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
	if (rc < 0) {
		nc_rpc_msg_release(&rep);
		icept_debug("socket(): %s", strerror(-rc));
		return ret_err(rc);
	}
	fd = nc_rpc_msg_take_fd(&rep);
	if (fd < 0)
		return ret_err(-EPROTO);
	if ((type & SOCK_NONBLOCK) && (rc = set_nonblock(fd)) < 0) {
		icept_real()->close(fd);
		return ret_err(rc);
	}
	icept_fd_remember(fd, domain, 0);
	return fd;
}

int icept_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return icept_real()->bind(fd, sa, len);
	nc_rpc_msg_init(&req, NC_RPC_BIND, 0);
	rc = addr_check(fam, sa, len, &req.addr, &req.addrlen);
	if (rc == 0)
		rc = icept_rpc_call(&req, fd, &rep, 0);
	if (rc < 0)
		icept_debug("bind(%d): %s", fd, strerror(-rc));
	return ret_err(rc);
}

int icept_listen(int fd, int backlog)
{
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return icept_real()->listen(fd, backlog);
	nc_rpc_msg_init(&req, NC_RPC_LISTEN, 0);
	req.backlog = backlog;
	rc = icept_rpc_call(&req, fd, &rep, 0);
	if (rc == 0)
		icept_fd_set_flags(fd, ICEPT_FD_LISTEN);
	else
		icept_debug("listen(%d): %s", fd, strerror(-rc));
	return ret_err(rc);
}

/* icept_query_listening() - ask the server whether fd listens. Return 1/0. */
static int icept_query_listening(int fd)
{
	struct nc_rpc_msg req, rep;

	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	if (icept_rpc_call(&req, fd, &rep, 0) < 0)
		return 0;
	if (rep.state != NC_SOCK_LISTENING)
		return 0;
	icept_fd_set_flags(fd, ICEPT_FD_LISTEN);
	return 1;
}

/* icept_recv_accept() - one struct nc_accept_rec and its fd from a listener.
 * Return: the new fd, or -errno (-EAGAIN natively for a non-blocking one). */
static int icept_recv_accept(int lfd, int flags, struct nc_accept_rec *rec)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct iovec iov = { rec, sizeof(*rec) };
	struct msghdr mh;
	ssize_t n;
	size_t got;
	int nfd = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	n = recvmsg(lfd, &mh, (flags & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfd < 0)
				nfd = f;
			else
				icept_real()->close(f);
		}
	}
	if (n == 0) {
		if (nfd >= 0)
			icept_real()->close(nfd);
		return -EINVAL;		/* the stack closed the listener */
	}
	/* one record is one write by the stack; finish a short read anyway */
	for (got = (size_t)n; got < sizeof(*rec); got += (size_t)n) {
		n = recv(lfd, (char *)rec + got, sizeof(*rec) - got, MSG_WAITALL);
		if (n <= 0)
			break;
	}
	if (got < sizeof(*rec) || rec->magic != NC_ACCEPT_MAGIC || nfd < 0 ||
	    rec->addrlen > sizeof(rec->peer)) {
		icept_debug("accept(%d): malformed accept record from the stack", lfd);
		if (nfd >= 0)
			icept_real()->close(nfd);
		return -ECONNABORTED;
	}
	return nfd;
}

/* icept_accept_common() - accept() and accept4() (and their syscalls) */
static int icept_accept_common(int fd, struct sockaddr *sa, socklen_t *len, int flags, int is4)
{
	const struct icept_real *r = icept_real();
	struct nc_accept_rec rec;
	struct sockaddr_storage peer;
	socklen_t plen;
	unsigned fl;
	int fam, nfd, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return is4 ? r->accept4(fd, sa, len, flags) : r->accept(fd, sa, len);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return ret_err(-EINVAL);
	if (!(fl & ICEPT_FD_LISTEN) && !icept_query_listening(fd))
		return ret_err(-EINVAL);
	if (sa && !len)
		return ret_err(-EFAULT);
	nfd = icept_recv_accept(fd, flags, &rec);
	if (nfd < 0)
		return ret_err(nfd);
	if ((flags & SOCK_NONBLOCK) && (rc = set_nonblock(nfd)) < 0) {
		r->close(nfd);
		return ret_err(rc);
	}
	icept_fd_remember(nfd, fam, 0);
	memset(&peer, 0, sizeof(peer));
	plen = rec.addrlen;
	memcpy(&peer, &rec.peer, plen);
	addr_map_v4(fam, &peer, &plen);
	addr_copy_out(&peer, plen, sa, len);
	return nfd;
}

int icept_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return icept_accept_common(fd, sa, len, flags, 1);
}

int icept_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc, nonblock;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return icept_real()->connect(fd, sa, len);
	nc_rpc_msg_init(&req, NC_RPC_CONNECT, 0);
	rc = addr_check(fam, sa, len, &req.addr, &req.addrlen);
	if (rc < 0)
		return ret_err(rc);
	nonblock = fcntl(fd, F_GETFL);
	nonblock = nonblock >= 0 && (nonblock & O_NONBLOCK);
	if (nonblock) {
		req.cflags = NC_RPC_CONNECT_NONBLOCK;
		rc = icept_rpc_call(&req, fd, &rep, 0);
	} else {
		/* SO_SNDTIMEO bounds a blocking connect, as in the kernel */
		struct timeval tv = { 0, 0 };
		socklen_t tl = sizeof(tv);
		int ms = -1;
		if (icept_real()->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 &&
		    (tv.tv_sec || tv.tv_usec)) {
			long long t = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
			ms = t > 0x7fffffff ? 0x7fffffff : (int)t;
		}
		rc = icept_rpc_call_alone(&req, fd, &rep, ms);
	}
	nc_rpc_msg_release(&rep);
	if (rc < 0 && rc != -EINPROGRESS)
		icept_debug("connect(%d): %s", fd, strerror(-rc));
	return ret_err(rc);
}

/* icept_name() - getsockname (peer = 0) / getpeername (peer = 1) */
static int icept_name(int fd, struct sockaddr *sa, socklen_t *len, int peer)
{
	const struct icept_real *r = icept_real();
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return peer ? r->getpeername(fd, sa, len) : r->getsockname(fd, sa, len);
	if (!sa || !len)
		return ret_err(-EFAULT);
	nc_rpc_msg_init(&req, peer ? NC_RPC_GETPEERNAME : NC_RPC_GETSOCKNAME, 0);
	rc = icept_rpc_call(&req, fd, &rep, 0);
	if (rc < 0)
		return ret_err(rc);
	if (rep.addrlen == 0) {
		if (peer)
			return ret_err(-ENOTCONN);
		/* not bound yet: the family's wildcard, port 0, as Linux says */
		memset(&rep.addr, 0, sizeof(rep.addr));
		rep.addr.ss_family = (sa_family_t)fam;
		rep.addrlen = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	}
	addr_map_v4(fam, &rep.addr, &rep.addrlen);
	addr_copy_out(&rep.addr, rep.addrlen, sa, len);
	return 0;
}

int icept_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	return icept_name(fd, sa, len, 0);
}

int icept_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	return icept_name(fd, sa, len, 1);
}

/* opt_stack_socket() - SOL_SOCKET options the stack keeps (stack/stack.h);
 * the other SOL_SOCKET options act on the socketpair itself (timeouts,
 * low-water marks), which is where the data actually flows. */
static int opt_stack_socket(int name)
{
	switch (name) {
	case SO_KEEPALIVE: case SO_REUSEADDR: case SO_RCVBUF: case SO_SNDBUF: case SO_LINGER:
	case SO_RCVBUFFORCE: case SO_SNDBUFFORCE:
		return 1;
	}
	return 0;
}

int icept_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	const struct icept_real *r = icept_real();
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return r->setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE: case SO_DOMAIN: case SO_PROTOCOL: case SO_ACCEPTCONN: case SO_ERROR:
			return ret_err(-ENOPROTOOPT);
		}
		if (!opt_stack_socket(name))
			return r->setsockopt(fd, level, name, val, len);
		if (name == SO_RCVBUFFORCE)
			name = SO_RCVBUF;
		if (name == SO_SNDBUFFORCE)
			name = SO_SNDBUF;
	}
	if (len > NC_RPC_OPT_MAX)
		return ret_err(-EINVAL);
	if (len > 0 && !val)
		return ret_err(-EFAULT);
	nc_rpc_msg_init(&req, NC_RPC_SETSOCKOPT, 0);
	req.level = level;
	req.optname = name;
	req.optlen = len;
	if (len)
		memcpy(req.optval, val, len);
	rc = icept_rpc_call(&req, fd, &rep, 0);
	if (rc == -ENOPROTOOPT && level != SOL_SOCKET &&
	    (level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6)) {
		/* An IP/TCP tuning knob the stack has no use for (TCP_CORK,
		 * TCP_DEFER_ACCEPT, IP_TOS...): accept it, as the program would
		 * see on Linux; reading it back still says ENOPROTOOPT. */
		icept_debug("setsockopt(%d, level %d, %d): ignored by the netcon stack", fd, level, name);
		rc = 0;
	}
	return ret_err(rc);
}

/* opt_put_int() - write an int option value, Linux style */
static int opt_put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len)
		return ret_err(-EFAULT);
	if ((int)*len < 0)
		return ret_err(-EINVAL);
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

int icept_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	const struct icept_real *r = icept_real();
	struct nc_rpc_msg req, rep;
	unsigned fl;
	int fam, rc;

	if (!icept_enabled() || !icept_fd_classify(fd, &fam, &fl))
		return r->getsockopt(fd, level, name, val, len);
	if (!len)
		return ret_err(-EFAULT);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE:
			return opt_put_int(val, len, SOCK_STREAM);
		case SO_DOMAIN:
			return opt_put_int(val, len, fam);
		case SO_PROTOCOL:
			return opt_put_int(val, len, IPPROTO_TCP);
		case SO_ACCEPTCONN:
			return opt_put_int(val, len, (fl & ICEPT_FD_LISTEN) || icept_query_listening(fd));
		case SO_ERROR:
			nc_rpc_msg_init(&req, NC_RPC_SOCKERR, 0);
			rc = icept_rpc_call(&req, fd, &rep, 0);
			if (rc < 0)
				return ret_err(rc);
			return opt_put_int(val, len, rep.so_error);
		}
		if (!opt_stack_socket(name))
			return r->getsockopt(fd, level, name, val, len);
	}
	nc_rpc_msg_init(&req, NC_RPC_GETSOCKOPT, 0);
	req.level = level;
	req.optname = name;
	req.optlen = *len > NC_RPC_OPT_MAX ? NC_RPC_OPT_MAX : *len;
	rc = icept_rpc_call(&req, fd, &rep, 0);
	if (rc < 0)
		return ret_err(rc);
	if (rep.optlen > *len)
		rep.optlen = *len;
	if (rep.optlen && !val)
		return ret_err(-EFAULT);
	memcpy(val, rep.optval, rep.optlen);
	*len = rep.optlen;
	return 0;
}

int icept_shutdown(int fd, int how)
{
	/* Native for every fd: SHUT_WR on the socketpair is an EOF the stack
	 * turns into a FIN; SHUT_RD only stops our own reads. */
	return icept_real()->shutdown(fd, how);
}

int icept_close(int fd)
{
	icept_fd_forget(fd);
	icept_rpc_fd_closed(fd);
	return icept_real()->close(fd);
}

int icept_close_range(unsigned first, unsigned last, int flags)
{
	/* CLOSE_RANGE_CLOEXEC closes nothing now (our own fds are close-on-exec
	 * already); cached verdicts carry their inode, so only the RPC
	 * connections need forgetting */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
		icept_rpc_range_closed(first, last);
	return (int)icept_real()->syscall(SYS_close_range, first, last, flags);
}

/* ---- the exported symbols ---- */

ICEPT_EXPORT int socket(int domain, int type, int protocol)
{
	return icept_socket(domain, type, protocol);
}

ICEPT_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	/* always native; the new fds may reuse numbers we cached */
	int rc = icept_real()->socketpair(domain, type, protocol, sv);

	if (rc == 0) {
		icept_fd_forget(sv[0]);
		icept_fd_forget(sv[1]);
	}
	return rc;
}

ICEPT_EXPORT int bind(int fd, __CONST_SOCKADDR_ARG sa, socklen_t len)
{
	return icept_bind(fd, sa.__sockaddr__, len);
}

ICEPT_EXPORT int listen(int fd, int backlog)
{
	return icept_listen(fd, backlog);
}

ICEPT_EXPORT int accept(int fd, __SOCKADDR_ARG sa, socklen_t *len)
{
	return icept_accept_common(fd, sa.__sockaddr__, len, 0, 0);
}

ICEPT_EXPORT int accept4(int fd, __SOCKADDR_ARG sa, socklen_t *len, int flags)
{
	return icept_accept_common(fd, sa.__sockaddr__, len, flags, 1);
}

ICEPT_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG sa, socklen_t len)
{
	return icept_connect(fd, sa.__sockaddr__, len);
}

ICEPT_EXPORT int getsockname(int fd, __SOCKADDR_ARG sa, socklen_t *len)
{
	return icept_getsockname(fd, sa.__sockaddr__, len);
}

ICEPT_EXPORT int getpeername(int fd, __SOCKADDR_ARG sa, socklen_t *len)
{
	return icept_getpeername(fd, sa.__sockaddr__, len);
}

ICEPT_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return icept_setsockopt(fd, level, name, val, len);
}

ICEPT_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return icept_getsockopt(fd, level, name, val, len);
}

ICEPT_EXPORT int shutdown(int fd, int how)
{
	return icept_shutdown(fd, how);
}

ICEPT_EXPORT int close(int fd)
{
	return icept_close(fd);
}

ICEPT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	return icept_close_range(first, last, flags);
}

ICEPT_EXPORT int dup2(int oldfd, int newfd)
{
	int rc;

	if (oldfd != newfd) {
		icept_fd_forget(newfd);
		icept_rpc_fd_closed(newfd);
	}
	rc = icept_real()->dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd)
		icept_fd_copy(oldfd, newfd);
	return rc;
}

ICEPT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int rc;

	if (oldfd != newfd) {
		icept_fd_forget(newfd);
		icept_rpc_fd_closed(newfd);
	}
	rc = icept_real()->dup3(oldfd, newfd, flags);
	if (rc >= 0)
		icept_fd_copy(oldfd, newfd);
	return rc;
}
