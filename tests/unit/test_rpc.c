/* test_rpc.c - the netcon RPC codec and transport (include/nc_rpc.h):
 * round trips of every message, every truncation and extension rejected,
 * header checks (magic, version, flags, reserved, oversize), and fd passing
 * rules over a real SOCK_SEQPACKET socketpair. */
#include "nc_rpc.h"
#include "tests/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* sample() - the n-th sample message (requests and replies of every type).
 * Return 0 when n is past the end. */
static int sample(int n, struct nc_rpc_msg *m)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&m->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m->addr;
	int linger[2] = { 1, 5 };

	switch (n) {
	case 0: nc_rpc_msg_init(m, NC_RPC_SOCKET, 1);
		m->family = AF_INET; m->socktype = SOCK_STREAM; m->protocol = IPPROTO_TCP; break;
	case 1: nc_rpc_msg_init(m, NC_RPC_SOCKET, 2);
		m->family = AF_INET6; m->socktype = SOCK_STREAM; break;
	case 2: nc_rpc_msg_init(m, NC_RPC_SOCKET | NC_RPC_REPLY, 3); m->sock_id = 0x1122334455667788ull; break;
	case 3: nc_rpc_msg_init(m, NC_RPC_BIND, 4);
		s4->sin_family = AF_INET; s4->sin_port = htons(8080);
		inet_pton(AF_INET, "10.147.17.1", &s4->sin_addr); m->addrlen = sizeof(*s4); break;
	case 4: nc_rpc_msg_init(m, NC_RPC_BIND, 5);
		s6->sin6_family = AF_INET6; s6->sin6_port = htons(443); s6->sin6_flowinfo = htonl(0x12345);
		inet_pton(AF_INET6, "fd00::1", &s6->sin6_addr); s6->sin6_scope_id = 7;
		m->addrlen = sizeof(*s6); break;
	case 5: nc_rpc_msg_init(m, NC_RPC_BIND | NC_RPC_REPLY, 6); break;
	case 6: nc_rpc_msg_init(m, NC_RPC_LISTEN, 7); m->backlog = -1; break;
	case 7: nc_rpc_msg_init(m, NC_RPC_LISTEN | NC_RPC_REPLY, 8); m->err = EADDRINUSE; break;
	case 8: nc_rpc_msg_init(m, NC_RPC_CONNECT, 9); m->cflags = NC_RPC_CONNECT_NONBLOCK;
		s4->sin_family = AF_INET; s4->sin_port = htons(1);
		inet_pton(AF_INET, "10.147.17.2", &s4->sin_addr); m->addrlen = sizeof(*s4); break;
	case 9: nc_rpc_msg_init(m, NC_RPC_CONNECT | NC_RPC_REPLY, 10); m->err = EINPROGRESS; break;
	case 10: nc_rpc_msg_init(m, NC_RPC_GETSOCKNAME, 11); break;
	case 11: nc_rpc_msg_init(m, NC_RPC_GETSOCKNAME | NC_RPC_REPLY, 12);
		s4->sin_family = AF_INET; s4->sin_port = htons(40000);
		inet_pton(AF_INET, "10.147.17.2", &s4->sin_addr); m->addrlen = sizeof(*s4); break;
	case 12: nc_rpc_msg_init(m, NC_RPC_GETPEERNAME | NC_RPC_REPLY, 13); break; /* no address */
	case 13: nc_rpc_msg_init(m, NC_RPC_GETPEERNAME, 14); break;
	case 14: nc_rpc_msg_init(m, NC_RPC_SETSOCKOPT, 15); m->level = SOL_SOCKET; m->optname = SO_LINGER;
		m->optlen = sizeof(linger); memcpy(m->optval, linger, sizeof(linger)); break;
	case 15: nc_rpc_msg_init(m, NC_RPC_SETSOCKOPT | NC_RPC_REPLY, 16); m->err = ENOPROTOOPT; break;
	case 16: nc_rpc_msg_init(m, NC_RPC_GETSOCKOPT, 17); m->level = IPPROTO_TCP;
		m->optname = TCP_NODELAY; m->optlen = 4; break;
	case 17: nc_rpc_msg_init(m, NC_RPC_GETSOCKOPT | NC_RPC_REPLY, 18); m->optlen = NC_RPC_OPT_MAX;
		for (int i = 0; i < NC_RPC_OPT_MAX; i++)
			m->optval[i] = (uint8_t)i;
		break;
	case 18: nc_rpc_msg_init(m, NC_RPC_QUERY, 19); break;
	case 19: nc_rpc_msg_init(m, NC_RPC_QUERY | NC_RPC_REPLY, 20); m->family = AF_INET6;
		m->state = 2; m->sock_id = 99; break;
	case 20: nc_rpc_msg_init(m, NC_RPC_SOCKERR, 21); break;
	case 21: nc_rpc_msg_init(m, NC_RPC_SOCKERR | NC_RPC_REPLY, 0xffffffffu); m->so_error = ECONNREFUSED; break;
	case 22: nc_rpc_msg_init(m, NC_RPC_SETSOCKOPT, 23); m->level = IPPROTO_TCP; m->optname = TCP_NODELAY;
		m->optlen = 0; break;
	default: return 0;
	}
	return 1;
}

/* msg_equal() - field-by-field comparison (addr by its meaningful length) */
static int msg_equal(const struct nc_rpc_msg *a, const struct nc_rpc_msg *b)
{
	return a->type == b->type && a->id == b->id && a->err == b->err &&
	       a->family == b->family && a->socktype == b->socktype && a->protocol == b->protocol &&
	       a->backlog == b->backlog && a->cflags == b->cflags && a->level == b->level &&
	       a->optname == b->optname && a->optlen == b->optlen &&
	       memcmp(a->optval, b->optval, a->optlen) == 0 && a->addrlen == b->addrlen &&
	       memcmp(&a->addr, &b->addr, a->addrlen) == 0 && a->state == b->state &&
	       a->so_error == b->so_error && a->sock_id == b->sock_id;
}

static void test_round_trip(void)
{
	uint8_t buf[NC_RPC_MAX_MSG];
	struct nc_rpc_msg m, d;

	CHECK_BEGIN("rpc: every message type round-trips (requests and replies)");
	for (int i = 0; sample(i, &m); i++) {
		int n = nc_rpc_encode(&m, buf, sizeof(buf));
		CHECK_MSG(n >= NC_RPC_HDR_LEN, "sample %d encode %d", i, n);
		if (n < 0)
			continue;
		int rc = nc_rpc_decode(buf, (size_t)n, &d);
		CHECK_MSG(rc == 0, "sample %d decode %d", i, rc);
		CHECK_MSG(msg_equal(&m, &d), "sample %d differs after decode", i);
		CHECK(d.fd == -1);
		/* header fields are where the protocol says */
		CHECK(buf[0] == 0x6e && buf[1] == 0x63 && buf[2] == NC_RPC_VERSION && buf[3] == m.type);
		CHECK(((uint32_t)buf[8] << 24 | buf[9] << 16 | buf[10] << 8 | buf[11]) == (uint32_t)(n - 16));
		CHECK(((uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 | buf[14] << 8 | buf[15]) == m.id);
	}
	CHECK_END();
}

static void test_known_bytes(void)
{
	/* LISTEN backlog 5, id 0x01020304: fixed bytes, big-endian */
	static const uint8_t want[] = { 0x6e, 0x63, 1, 3, 0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4,
					0, 0, 0, 5 };
	uint8_t buf[NC_RPC_MAX_MSG];
	struct nc_rpc_msg m;

	CHECK_BEGIN("rpc: encoding is the documented big-endian layout");
	nc_rpc_msg_init(&m, NC_RPC_LISTEN, 0x01020304);
	m.backlog = 5;
	CHECK(nc_rpc_encode(&m, buf, sizeof(buf)) == (int)sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
	/* an IPv4 BIND: kind 4, port, address bytes in network order */
	struct sockaddr_in *s4 = (struct sockaddr_in *)&m.addr;
	nc_rpc_msg_init(&m, NC_RPC_BIND, 1);
	s4->sin_family = AF_INET;
	s4->sin_port = htons(0x1f90);
	inet_pton(AF_INET, "10.147.17.1", &s4->sin_addr);
	m.addrlen = sizeof(*s4);
	CHECK(nc_rpc_encode(&m, buf, sizeof(buf)) == 16 + 7);
	static const uint8_t addr[] = { 4, 0x1f, 0x90, 10, 147, 17, 1 };
	CHECK(memcmp(buf + 16, addr, sizeof(addr)) == 0);
	CHECK_END();
}

static void test_truncation(void)
{
	uint8_t buf[NC_RPC_MAX_MSG + 8];
	struct nc_rpc_msg m, d;

	CHECK_BEGIN("rpc: every truncation and every extension is rejected");
	for (int i = 0; sample(i, &m); i++) {
		int n = nc_rpc_encode(&m, buf, sizeof(buf));
		for (int cut = 0; cut < n; cut++)
			CHECK_MSG(nc_rpc_decode(buf, (size_t)cut, &d) < 0, "sample %d cut %d accepted", i, cut);
		/* payload shortened consistently (length field fixed up): still rejected */
		for (int plen = 0; plen < n - 16; plen++) {
			uint8_t t[NC_RPC_MAX_MSG];
			memcpy(t, buf, (size_t)16 + (size_t)plen);
			t[8] = 0; t[9] = 0; t[10] = 0; t[11] = (uint8_t)plen;
			CHECK_MSG(nc_rpc_decode(t, (size_t)16 + (size_t)plen, &d) < 0,
				  "sample %d payload %d accepted", i, plen);
		}
		/* one trailing byte, length fixed up: rejected */
		buf[n] = 0;
		buf[11] = (uint8_t)(n - 16 + 1);
		CHECK_MSG(nc_rpc_decode(buf, (size_t)n + 1, &d) == -EBADMSG, "sample %d trailing", i);
		/* datagram longer than the header says */
		buf[11] = (uint8_t)(n - 16);
		CHECK(nc_rpc_decode(buf, (size_t)n + 1, &d) == -EBADMSG);
	}
	CHECK_END();
}

static void test_header_checks(void)
{
	uint8_t buf[NC_RPC_MAX_MSG], t[NC_RPC_MAX_MSG];
	struct nc_rpc_msg m, d;
	struct nc_rpc_hdr h;
	int n;

	CHECK_BEGIN("rpc: bad magic, version, flags, reserved, oversize and type are rejected");
	sample(3, &m);
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	CHECK(nc_rpc_hdr_decode(buf, (size_t)n, &h) == 0 && h.type == NC_RPC_BIND && h.id == 4);
	memcpy(t, buf, (size_t)n); t[0] ^= 1;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	memcpy(t, buf, (size_t)n); t[2] = 2;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EPROTONOSUPPORT);
	memcpy(t, buf, (size_t)n); t[2] = 0;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EPROTONOSUPPORT);
	memcpy(t, buf, (size_t)n); t[5] = 0x02;	/* unknown flag */
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	memcpy(t, buf, (size_t)n); t[7] = 1;	/* reserved */
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	memcpy(t, buf, (size_t)n); t[8] = 0x80;	/* 2 GB payload claimed: before anything else */
	CHECK(nc_rpc_hdr_decode(t, 16, &h) == -EMSGSIZE);
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EMSGSIZE);
	memcpy(t, buf, (size_t)n); t[10] = (NC_RPC_MAX_PAYLOAD + 1) >> 8; t[11] = (NC_RPC_MAX_PAYLOAD + 1) & 0xff;
	CHECK(nc_rpc_hdr_decode(t, 16, &h) == -EMSGSIZE);
	memcpy(t, buf, (size_t)n); t[3] = 0x42;	/* unknown type: id kept for the error reply */
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EOPNOTSUPP && d.type == 0x42 && d.id == 4);
	memcpy(t, buf, (size_t)n); t[3] = 0;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EOPNOTSUPP);
	memcpy(t, buf, (size_t)n); t[16] = 5;	/* unknown address kind */
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	/* option length above the maximum */
	sample(14, &m);
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	memcpy(t, buf, (size_t)n); t[24] = 0; t[25] = NC_RPC_OPT_MAX + 1;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	/* an unknown CONNECT flag */
	sample(8, &m);
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	memcpy(t, buf, (size_t)n); t[19] |= 2;
	CHECK(nc_rpc_decode(t, (size_t)n, &d) == -EBADMSG);
	/* an error reply for a type we do not know encodes (server's answer) */
	nc_rpc_msg_init(&m, 0x42 | NC_RPC_REPLY, 9);
	m.err = EOPNOTSUPP;
	CHECK(nc_rpc_encode(&m, buf, sizeof(buf)) == 20);
	/* unencodable: bad family, option too long, no room */
	nc_rpc_msg_init(&m, NC_RPC_SOCKET, 1);
	m.family = AF_UNIX;
	CHECK(nc_rpc_encode(&m, buf, sizeof(buf)) == -EINVAL);
	nc_rpc_msg_init(&m, NC_RPC_SETSOCKOPT, 1);
	m.optlen = NC_RPC_OPT_MAX + 1;
	CHECK(nc_rpc_encode(&m, buf, sizeof(buf)) == -EINVAL);
	sample(4, &m);
	CHECK(nc_rpc_encode(&m, buf, 20) == -EMSGSIZE);
	CHECK_END();
}

/* fd_open() - is fd an open descriptor */
static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* send_raw() - a datagram with arbitrary bytes and fds */
static int send_raw(int s, const uint8_t *b, size_t n, const int *fds, int nfds)
{
	char cb[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { (void *)b, n };
	struct msghdr mh = { 0 };

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		memset(cb, 0, sizeof(cb));
		mh.msg_control = cb;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(s, &mh, 0) == (ssize_t)n ? 0 : -1;
}

/* count_open() - how many fds are open in this process */
static int count_open(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fd_open(fd);
	return n;
}

static void test_transport(void)
{
	uint8_t buf[NC_RPC_MAX_MSG + 64];
	struct nc_rpc_msg m, d;
	struct stat a, b;
	int sp[2], pipefd[2], fds[2], n, base;

	CHECK_BEGIN("rpc: SEQPACKET transport passes one fd, owned by the receiver");
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	CHECK(pipe(pipefd) == 0);
	base = count_open();
	sample(2, &m);
	CHECK(nc_rpc_send(sp[0], &m, pipefd[0], 0) == 0);
	CHECK(m.flags == NC_RPC_F_FD);
	CHECK(nc_rpc_recv(sp[1], &d, MSG_CMSG_CLOEXEC) == 0);
	CHECK(d.fd >= 0 && msg_equal(&m, &d));
	CHECK(fstat(d.fd, &a) == 0 && fstat(pipefd[0], &b) == 0 && a.st_ino == b.st_ino);
	CHECK(fcntl(d.fd, F_GETFD) & FD_CLOEXEC);
	int taken = nc_rpc_msg_take_fd(&d);
	CHECK(taken >= 0 && d.fd == -1 && nc_rpc_msg_take_fd(&d) == -1);
	nc_rpc_msg_release(&d);		/* nothing left to close */
	CHECK(fd_open(taken));
	close(taken);
	/* an unclaimed fd is closed by release */
	CHECK(nc_rpc_send(sp[0], &m, pipefd[0], 0) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == 0);
	int kept = d.fd;
	nc_rpc_msg_release(&d);
	CHECK(!fd_open(kept));
	CHECK(count_open() == base);
	/* no fd: flag clear */
	sample(3, &m);
	CHECK(nc_rpc_send(sp[0], &m, -1, 0) == 0 && m.flags == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == 0 && d.fd == -1 && msg_equal(&m, &d));
	CHECK_END();

	CHECK_BEGIN("rpc: fd/flag mismatch, extra fds and oversize datagrams are rejected, fds closed");
	/* flag says fd, none attached */
	sample(3, &m);
	m.flags = NC_RPC_F_FD;
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	CHECK(send_raw(sp[0], buf, (size_t)n, NULL, 0) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -EBADMSG && d.fd == -1);
	/* fd attached, flag clear: the fd must not leak */
	m.flags = 0;
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	CHECK(send_raw(sp[0], buf, (size_t)n, &pipefd[0], 1) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -EBADMSG && d.fd == -1);
	CHECK(count_open() == base);
	/* two fds, flag set */
	m.flags = NC_RPC_F_FD;
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	fds[0] = pipefd[0];
	fds[1] = pipefd[1];
	CHECK(send_raw(sp[0], buf, (size_t)n, fds, 2) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -EBADMSG && d.fd == -1);
	CHECK(count_open() == base);
	/* a datagram larger than any message */
	memset(buf, 0, sizeof(buf));
	CHECK(send_raw(sp[0], buf, sizeof(buf), &pipefd[0], 1) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -EMSGSIZE);
	CHECK(count_open() == base);
	/* a bad version arrives as an error, the fd closed */
	sample(3, &m);
	m.flags = NC_RPC_F_FD;
	n = nc_rpc_encode(&m, buf, sizeof(buf));
	buf[2] = 9;
	CHECK(send_raw(sp[0], buf, (size_t)n, &pipefd[0], 1) == 0);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -EPROTONOSUPPORT);
	CHECK(count_open() == base);
	/* nothing queued, non-blocking */
	CHECK(nc_rpc_recv(sp[1], &d, MSG_DONTWAIT) == -EAGAIN);
	/* end of stream */
	close(sp[0]);
	CHECK(nc_rpc_recv(sp[1], &d, 0) == -ECONNRESET);
	close(sp[1]);
	close(pipefd[0]);
	close(pipefd[1]);
	CHECK_END();
}

int main(void)
{
	test_round_trip();
	test_known_bytes();
	test_truncation();
	test_header_checks();
	test_transport();
	return CHECK_EXIT();
}
