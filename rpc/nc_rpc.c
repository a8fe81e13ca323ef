/* nc_rpc.c - netcon RPC codec and SEQPACKET transport (include/nc_rpc.h).
 *
 * Shared by the server (rpc/nc_rpcd.c) and the intercept library, so it uses
 * libc only and keeps no state. Every field is written and read through the
 * small big-endian helpers below; no struct is ever copied onto the wire.
 */
#include "nc_rpc.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- fixed-width big-endian reader / writer ---- */

struct rpc_rd {
	const uint8_t *p;
	size_t len, pos;
	int err;
};

struct rpc_wr {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static uint64_t rd_be(struct rpc_rd *r, unsigned n)
{
	uint64_t v = 0;

	if (r->err || n > r->len - r->pos) {
		r->err = 1;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | r->p[r->pos + i];
	r->pos += n;
	return v;
}

static void rd_bytes(struct rpc_rd *r, void *out, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
}

static void wr_be(struct rpc_wr *w, uint64_t v, unsigned n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	for (unsigned i = n; i > 0; i--) {
		w->p[w->len + i - 1] = (uint8_t)v;
		v >>= 8;
	}
	w->len += n;
}

static void wr_bytes(struct rpc_wr *w, const void *src, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

/* ---- addresses ---- */

/* wr_addr() - encode a sockaddr (or "none" when len is 0). Return 0 or -EINVAL */
static int wr_addr(struct rpc_wr *w, const struct sockaddr_storage *ss, socklen_t len)
{
	if (len == 0) {
		wr_be(w, NC_RPC_ADDR_NONE, 1);
		return 0;
	}
	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		wr_be(w, NC_RPC_ADDR_IPV4, 1);
		wr_be(w, ntohs(s4->sin_port), 2);
		wr_bytes(w, &s4->sin_addr.s_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		wr_be(w, NC_RPC_ADDR_IPV6, 1);
		wr_be(w, ntohs(s6->sin6_port), 2);
		wr_be(w, ntohl(s6->sin6_flowinfo), 4);
		wr_bytes(w, s6->sin6_addr.s6_addr, 16);
		wr_be(w, s6->sin6_scope_id, 4);
		return 0;
	}
	return -EINVAL;
}

/* rd_addr() - decode an address into ss/len. Return 0 or -EBADMSG */
static int rd_addr(struct rpc_rd *r, struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned kind = (unsigned)rd_be(r, 1);

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if (r->err)
		return -EBADMSG;
	if (kind == NC_RPC_ADDR_NONE)
		return 0;
	if (kind == NC_RPC_ADDR_IPV4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)rd_be(r, 2));
		rd_bytes(r, &s4->sin_addr.s_addr, 4);
		*len = sizeof(*s4);
	} else if (kind == NC_RPC_ADDR_IPV6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)rd_be(r, 2));
		s6->sin6_flowinfo = htonl((uint32_t)rd_be(r, 4));
		rd_bytes(r, s6->sin6_addr.s6_addr, 16);
		s6->sin6_scope_id = (uint32_t)rd_be(r, 4);
		*len = sizeof(*s6);
	} else {
		return -EBADMSG;
	}
	return r->err ? -EBADMSG : 0;
}

static int family_to_kind(int family)
{
	if (family == AF_INET)
		return NC_RPC_ADDR_IPV4;
	if (family == AF_INET6)
		return NC_RPC_ADDR_IPV6;
	return -1;
}

static int kind_to_family(unsigned kind)
{
	if (kind == NC_RPC_ADDR_IPV4)
		return AF_INET;
	if (kind == NC_RPC_ADDR_IPV6)
		return AF_INET6;
	return -1;
}

/* ---- messages ---- */

void nc_rpc_msg_init(struct nc_rpc_msg *m, uint8_t type, uint32_t id)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->id = id;
	m->fd = -1;
}

const char *nc_rpc_type_name(uint8_t type)
{
	static const char *const names[NC_RPC_TYPE_MAX + 1] = {
		[NC_RPC_SOCKET] = "SOCKET", [NC_RPC_BIND] = "BIND",
		[NC_RPC_LISTEN] = "LISTEN", [NC_RPC_CONNECT] = "CONNECT",
		[NC_RPC_GETSOCKNAME] = "GETSOCKNAME", [NC_RPC_GETPEERNAME] = "GETPEERNAME",
		[NC_RPC_SETSOCKOPT] = "SETSOCKOPT", [NC_RPC_GETSOCKOPT] = "GETSOCKOPT",
		[NC_RPC_QUERY] = "QUERY", [NC_RPC_SOCKERR] = "SOCKERR",
	};
	uint8_t t = type & (uint8_t)~NC_RPC_REPLY;

	if (t == 0 || t > NC_RPC_TYPE_MAX)
		return "?";
	return names[t];
}

int nc_rpc_hdr_decode(const uint8_t *b, size_t n, struct nc_rpc_hdr *h)
{
	struct rpc_rd r = { b, n, 0, 0 };
	unsigned magic, reserved;

	if (n < NC_RPC_HDR_LEN)
		return -EBADMSG;
	magic = (unsigned)rd_be(&r, 2);
	h->version = (uint8_t)rd_be(&r, 1);
	h->type = (uint8_t)rd_be(&r, 1);
	h->flags = (uint16_t)rd_be(&r, 2);
	reserved = (unsigned)rd_be(&r, 2);
	h->len = (uint32_t)rd_be(&r, 4);
	h->id = (uint32_t)rd_be(&r, 4);
	if (magic != NC_RPC_MAGIC)
		return -EBADMSG;
	if (h->version != NC_RPC_VERSION)
		return -EPROTONOSUPPORT;
	if (h->len > NC_RPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	if ((h->flags & ~NC_RPC_F_KNOWN) || reserved)
		return -EBADMSG;
	return 0;
}

/* enc_payload() - the type-specific part of m. Return 0 or -EINVAL */
static int enc_payload(struct rpc_wr *w, const struct nc_rpc_msg *m)
{
	int reply = !!(m->type & NC_RPC_REPLY);
	uint8_t t = m->type & (uint8_t)~NC_RPC_REPLY;
	int kind;

	if (t == 0)
		return -EINVAL;
	if (reply) {
		/* an error reply is encodable for any type, so a server can
		 * answer a request type it does not know */
		wr_be(w, m->err, 4);
		if (m->err)
			return 0;
		switch (t) {
		case NC_RPC_SOCKET:
			wr_be(w, m->sock_id, 8);
			return 0;
		case NC_RPC_BIND: case NC_RPC_LISTEN: case NC_RPC_CONNECT:
		case NC_RPC_SETSOCKOPT:
			return 0;
		case NC_RPC_GETSOCKNAME: case NC_RPC_GETPEERNAME:
			return wr_addr(w, &m->addr, m->addrlen);
		case NC_RPC_GETSOCKOPT:
			if (m->optlen > NC_RPC_OPT_MAX)
				return -EINVAL;
			wr_be(w, m->optlen, 2);
			wr_bytes(w, m->optval, m->optlen);
			return 0;
		case NC_RPC_QUERY:
			kind = family_to_kind(m->family);
			if (kind < 0)
				return -EINVAL;
			wr_be(w, (unsigned)kind, 1);
			wr_be(w, (uint32_t)m->state, 4);
			wr_be(w, m->sock_id, 8);
			return 0;
		case NC_RPC_SOCKERR:
			wr_be(w, (uint32_t)m->so_error, 4);
			return 0;
		}
		return -EINVAL;
	}
	switch (t) {
	case NC_RPC_SOCKET:
		kind = family_to_kind(m->family);
		if (kind < 0)
			return -EINVAL;
		wr_be(w, (unsigned)kind, 1);
		wr_be(w, (uint32_t)m->socktype, 4);
		wr_be(w, (uint32_t)m->protocol, 4);
		return 0;
	case NC_RPC_BIND:
		return wr_addr(w, &m->addr, m->addrlen);
	case NC_RPC_LISTEN:
		wr_be(w, (uint32_t)m->backlog, 4);
		return 0;
	case NC_RPC_CONNECT:
		if (m->cflags & ~NC_RPC_CONNECT_KNOWN)
			return -EINVAL;
		wr_be(w, m->cflags, 4);
		return wr_addr(w, &m->addr, m->addrlen);
	case NC_RPC_GETSOCKNAME: case NC_RPC_GETPEERNAME: case NC_RPC_QUERY:
	case NC_RPC_SOCKERR:
		return 0;
	case NC_RPC_SETSOCKOPT:
		if (m->optlen > NC_RPC_OPT_MAX)
			return -EINVAL;
		wr_be(w, (uint32_t)m->level, 4);
		wr_be(w, (uint32_t)m->optname, 4);
		wr_be(w, m->optlen, 2);
		wr_bytes(w, m->optval, m->optlen);
		return 0;
	case NC_RPC_GETSOCKOPT:
		if (m->optlen > NC_RPC_OPT_MAX)
			return -EINVAL;
		wr_be(w, (uint32_t)m->level, 4);
		wr_be(w, (uint32_t)m->optname, 4);
		wr_be(w, m->optlen, 2);
		return 0;
	}
	return -EINVAL;
}

int nc_rpc_encode(const struct nc_rpc_msg *m, uint8_t *b, size_t cap)
{
	struct rpc_wr w = { b, cap, 0, 0 };
	size_t plen;
	int rc;

	if (cap < NC_RPC_HDR_LEN)
		return -EMSGSIZE;
	if (m->flags & ~NC_RPC_F_KNOWN)
		return -EINVAL;
	w.len = NC_RPC_HDR_LEN;		/* payload first, header once its length is known */
	rc = enc_payload(&w, m);
	if (rc)
		return rc;
	if (w.err)
		return -EMSGSIZE;
	plen = w.len - NC_RPC_HDR_LEN;
	if (plen > NC_RPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	w.len = 0;
	wr_be(&w, NC_RPC_MAGIC, 2);
	wr_be(&w, NC_RPC_VERSION, 1);
	wr_be(&w, m->type, 1);
	wr_be(&w, m->flags, 2);
	wr_be(&w, 0, 2);
	wr_be(&w, plen, 4);
	wr_be(&w, m->id, 4);
	return (int)(NC_RPC_HDR_LEN + plen);
}

/* dec_payload() - the type-specific part. Return 0 or -EBADMSG */
static int dec_payload(struct rpc_rd *r, struct nc_rpc_msg *m)
{
	int reply = !!(m->type & NC_RPC_REPLY);
	uint8_t t = m->type & (uint8_t)~NC_RPC_REPLY;
	int fam;

	if (t == 0 || t > NC_RPC_TYPE_MAX)
		return -EOPNOTSUPP;
	if (reply) {
		m->err = (uint32_t)rd_be(r, 4);
		if (r->err)
			return -EBADMSG;
		if (m->err)
			return m->err > 4095 ? -EBADMSG : 0;
		switch (t) {
		case NC_RPC_SOCKET:
			m->sock_id = rd_be(r, 8);
			break;
		case NC_RPC_GETSOCKNAME: case NC_RPC_GETPEERNAME:
			if (rd_addr(r, &m->addr, &m->addrlen))
				return -EBADMSG;
			break;
		case NC_RPC_GETSOCKOPT:
			m->optlen = (uint32_t)rd_be(r, 2);
			if (m->optlen > NC_RPC_OPT_MAX)
				return -EBADMSG;
			rd_bytes(r, m->optval, m->optlen);
			break;
		case NC_RPC_QUERY:
			fam = kind_to_family((unsigned)rd_be(r, 1));
			if (fam < 0)
				return -EBADMSG;
			m->family = fam;
			m->state = (int32_t)rd_be(r, 4);
			m->sock_id = rd_be(r, 8);
			break;
		case NC_RPC_SOCKERR:
			m->so_error = (int32_t)rd_be(r, 4);
			if (m->so_error < 0 || m->so_error > 4095)
				return -EBADMSG;
			break;
		default:
			break;
		}
		return r->err ? -EBADMSG : 0;
	}
	switch (t) {
	case NC_RPC_SOCKET:
		fam = kind_to_family((unsigned)rd_be(r, 1));
		if (fam < 0)
			return -EBADMSG;
		m->family = fam;
		m->socktype = (int32_t)rd_be(r, 4);
		m->protocol = (int32_t)rd_be(r, 4);
		break;
	case NC_RPC_BIND:
		if (rd_addr(r, &m->addr, &m->addrlen))
			return -EBADMSG;
		break;
	case NC_RPC_LISTEN:
		m->backlog = (int32_t)rd_be(r, 4);
		break;
	case NC_RPC_CONNECT:
		m->cflags = (uint32_t)rd_be(r, 4);
		if (m->cflags & ~NC_RPC_CONNECT_KNOWN)
			return -EBADMSG;
		if (rd_addr(r, &m->addr, &m->addrlen))
			return -EBADMSG;
		break;
	case NC_RPC_SETSOCKOPT:
		m->level = (int32_t)rd_be(r, 4);
		m->optname = (int32_t)rd_be(r, 4);
		m->optlen = (uint32_t)rd_be(r, 2);
		if (m->optlen > NC_RPC_OPT_MAX)
			return -EBADMSG;
		rd_bytes(r, m->optval, m->optlen);
		break;
	case NC_RPC_GETSOCKOPT:
		m->level = (int32_t)rd_be(r, 4);
		m->optname = (int32_t)rd_be(r, 4);
		m->optlen = (uint32_t)rd_be(r, 2);
		if (m->optlen > NC_RPC_OPT_MAX)
			return -EBADMSG;
		break;
	default:
		break;
	}
	return r->err ? -EBADMSG : 0;
}

int nc_rpc_decode(const uint8_t *b, size_t n, struct nc_rpc_msg *m)
{
	struct nc_rpc_hdr h;
	struct rpc_rd r;
	int rc;

	nc_rpc_msg_init(m, 0, 0);
	rc = nc_rpc_hdr_decode(b, n, &h);
	if (rc)
		return rc;
	if (n != NC_RPC_HDR_LEN + (size_t)h.len)
		return -EBADMSG;
	m->type = h.type;
	m->flags = h.flags;
	m->id = h.id;
	r.p = b + NC_RPC_HDR_LEN;
	r.len = h.len;
	r.pos = 0;
	r.err = 0;
	rc = dec_payload(&r, m);
	if (rc == 0 && r.pos != r.len)
		rc = -EBADMSG;		/* trailing bytes */
	if (rc) {
		/* keep type and id: the server answers an unknown type */
		nc_rpc_msg_init(m, h.type, h.id);
		m->flags = h.flags;
	}
	return rc;
}

/* ---- transport ---- */

int nc_rpc_send(int sock, struct nc_rpc_msg *m, int fd, int flags)
{
	uint8_t buf[NC_RPC_MAX_MSG];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int len;

	m->flags = fd >= 0 ? NC_RPC_F_FD : 0;
	len = nc_rpc_encode(m, buf, sizeof(buf));
	if (len < 0)
		return len;
	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/* collect_fds() - the first fd carried by mh into *fd_out, closing any
 * others. Return: how many fds arrived. */
static int collect_fds(struct msghdr *mh, int *fd_out)
{
	int count = 0;

	*fd_out = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (count++ == 0)
				*fd_out = fd;
			else
				close(fd);
		}
	}
	return count;
}

int nc_rpc_recv(int sock, struct nc_rpc_msg *m, int flags)
{
	uint8_t buf[NC_RPC_MAX_MSG + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	ssize_t n;
	int fd, nfds, rc;

	nc_rpc_msg_init(m, 0, 0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(sock, &mh, flags & (MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	nfds = collect_fds(&mh, &fd);
	if (n == 0 && nfds == 0)
		return -ECONNRESET;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1) {
		rc = (mh.msg_flags & MSG_TRUNC) ? -EMSGSIZE : -EBADMSG;
		goto bad;
	}
	rc = nc_rpc_decode(buf, (size_t)n, m);
	if (rc)
		goto bad;
	if (!!(m->flags & NC_RPC_F_FD) != (nfds == 1)) {
		rc = -EBADMSG;
		goto bad;
	}
	m->fd = fd;
	return 0;
bad:
	if (fd >= 0)
		close(fd);
	m->fd = -1;
	return rc;
}

int nc_rpc_msg_take_fd(struct nc_rpc_msg *m)
{
	int fd = m->fd;

	m->fd = -1;
	return fd;
}

void nc_rpc_msg_release(struct nc_rpc_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
