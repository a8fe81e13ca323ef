/* svc_udp.c - the primary UDP sockets (IPv4 0.0.0.0 and IPv6 ::).
 *
 * The engine names a socket by the int64 we hand it in zt_node_wire_in();
 * we use the file descriptor itself, so a wire_send() naming a socket goes
 * straight back out of it.
 *
 * Sends are batched: svc_udp_send() copies the datagram into udp_txq and
 * svc_udp_flush() (the loop calls it before every epoll_wait, so after each
 * round of events) hands the batch to sendmmsg(), one call per run of
 * datagrams on the same socket. A bulk transfer made one sendto() per
 * datagram, which was the largest single cost of a sending daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "service/svc.h"

static int udp_bind(int family, int port, int *out_port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, bufsz = 1 << 21;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons((uint16_t)port);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		a->sin_port = htons((uint16_t)port);
		sl = sizeof(*a);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*out_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					     : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/**
 * svc_udp_open() - bind the IPv4 and IPv6 sockets and register them
 * @s:		daemon
 * @port:	port, 0 to pick a free one (then both families share it)
 * Return: the bound port, or -errno
 */
int svc_udp_open(struct svc *s, int port)
{
	int got4 = 0, got6 = 0, fd4, fd6, tries;

	for (tries = 0; tries < 20; tries++) {
		fd4 = udp_bind(AF_INET, port, &got4);
		if (fd4 < 0)
			return fd4;
		fd6 = udp_bind(AF_INET6, got4, &got6);
		if (fd6 == -EADDRINUSE && port == 0) {
			close(fd4);
			continue;
		}
		break;
	}
	if (fd4 < 0)
		return fd4;
	s->udp[s->n_udp].fd = fd4;
	s->udp[s->n_udp].family = AF_INET;
	svc_loop_add(s, fd4, SVC_EV_UDP, (uint32_t)s->n_udp, EPOLLIN);
	s->n_udp++;
	if (fd6 >= 0) {
		s->udp[s->n_udp].fd = fd6;
		s->udp[s->n_udp].family = AF_INET6;
		svc_loop_add(s, fd6, SVC_EV_UDP, (uint32_t)s->n_udp, EPOLLIN);
		s->n_udp++;
	} else {
		svc_log("IPv6 UDP socket unavailable (%s), IPv4 only", strerror(-fd6));
	}
	return got4;
}

/**
 * svc_udp_readable() - drain one socket into the engine, SVC_UDP_BATCH
 * datagrams per recvmmsg() (bounded per call so other fds get their turn)
 * @s:		daemon
 * @idx:	index in s->udp
 */
void svc_udp_readable(struct svc *s, int idx)
{
	struct mmsghdr msgs[SVC_UDP_BATCH];
	struct iovec iov[SVC_UDP_BATCH];
	struct sockaddr_storage from[SVC_UDP_BATCH];
	int rounds = 8, i, n;

	if (!s->udp_rxbuf) {
		s->udp_rxbuf = malloc((size_t)SVC_UDP_BATCH * SVC_UDP_MAX);
		if (!s->udp_rxbuf)
			return;
	}
	while (rounds-- > 0) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < SVC_UDP_BATCH; i++) {
			iov[i].iov_base = s->udp_rxbuf + (size_t)i * SVC_UDP_MAX;
			iov[i].iov_len = SVC_UDP_MAX;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(s->udp[idx].fd, msgs, SVC_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			int64_t nd = 0;

			if (!msgs[i].msg_len)
				continue;
			zt_node_wire_in(s->node, svc_now(), s->udp[idx].fd, &from[i], iov[i].iov_base,
					msgs[i].msg_len, &nd);
			svc_deadline(s, nd);
			if (s->stop)
				return;
		}
		svc_port_flush(s);	/* the frames of this batch, in one go */
		if (n < SVC_UDP_BATCH)
			return;
	}
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

struct svc_udp_txq {
	unsigned n;
	int fd[SVC_UDP_TXB];
	unsigned len[SVC_UDP_TXB];
	struct sockaddr_storage to[SVC_UDP_TXB];
	uint8_t data[SVC_UDP_TXB][SVC_UDP_TXMAX];
};

/**
 * svc_udp_flush() - send every batched datagram (sendmmsg per socket run);
 * a datagram the kernel refuses is dropped, as a failed sendto() would be
 * @s:		daemon
 */
void svc_udp_flush(struct svc *s)
{
	struct svc_udp_txq *q = s->udp_txq;
	struct mmsghdr msgs[SVC_UDP_TXB];
	struct iovec iov[SVC_UDP_TXB];
	unsigned i = 0, j, k;

	if (!q || !q->n)
		return;
	memset(msgs, 0, sizeof(msgs));
	for (j = 0; j < q->n; j++) {
		iov[j].iov_base = q->data[j];
		iov[j].iov_len = q->len[j];
		msgs[j].msg_hdr.msg_iov = &iov[j];
		msgs[j].msg_hdr.msg_iovlen = 1;
		msgs[j].msg_hdr.msg_name = &q->to[j];
		msgs[j].msg_hdr.msg_namelen = ss_len(&q->to[j]);
	}
	while (i < q->n) {
		int r;

		for (k = i + 1; k < q->n && q->fd[k] == q->fd[i]; k++)
			;
		r = sendmmsg(q->fd[i], msgs + i, k - i, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			i++;	/* this one failed: skip it, go on with the rest */
		else
			i += (unsigned)r;
	}
	q->n = 0;
}

/**
 * svc_udp_send() - the engine's wire_send
 * Return: 0 or -errno
 */
int svc_udp_send(struct svc *s, int64_t local_socket, const struct sockaddr_storage *to,
		 const void *data, unsigned len, unsigned ttl)
{
	int fd = -1, i;

	if (to->ss_family != AF_INET && to->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (s->conf.no_planet && !svc_addr_is_local_scope(to)) {
		/* noPlanet: tests and demos must never reach the Internet */
		s->udp_dropped_scope++;
		return -ENETUNREACH;
	}
	for (i = 0; i < s->n_udp; i++) {
		if (local_socket >= 0 && s->udp[i].fd == local_socket &&
		    s->udp[i].family == to->ss_family) {
			fd = s->udp[i].fd;
			break;
		}
	}
	for (i = 0; fd < 0 && i < s->n_udp; i++)
		if (s->udp[i].family == to->ss_family)
			fd = s->udp[i].fd;
	if (fd < 0)
		return -EAFNOSUPPORT;
	if (!ttl && len <= SVC_UDP_TXMAX) {
		struct svc_udp_txq *q = s->udp_txq;

		if (!q)
			q = s->udp_txq = calloc(1, sizeof(*q));
		if (q) {
			if (q->n == SVC_UDP_TXB)
				svc_udp_flush(s);
			q->fd[q->n] = fd;
			q->len[q->n] = len;
			memcpy(&q->to[q->n], to, ss_len(to));
			memcpy(q->data[q->n], data, len);
			q->n++;
			return 0;
		}
	}
	svc_udp_flush(s);	/* keep the order of datagrams */
	if (ttl) {
		int t = (int)ttl;

		if (to->ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_TTL, &t, sizeof(t));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &t, sizeof(t));
	}
	if (sendto(fd, data, len, 0, (const struct sockaddr *)to, ss_len(to)) < 0) {
		int e = errno;

		if (ttl) {
			int t = 64;

			setsockopt(fd, to->ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
				   to->ss_family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS, &t,
				   sizeof(t));
		}
		return -e;
	}
	if (ttl) {
		int t = 64;

		setsockopt(fd, to->ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			   to->ss_family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS, &t, sizeof(t));
	}
	return 0;
}

/**
 * svc_udp_close() - close every UDP socket
 */
void svc_udp_close(struct svc *s)
{
	int i;

	svc_udp_flush(s);
	free(s->udp_txq);
	s->udp_txq = NULL;
	for (i = 0; i < s->n_udp; i++)
		close(s->udp[i].fd);
	s->n_udp = 0;
	free(s->udp_rxbuf);
	s->udp_rxbuf = NULL;
}
