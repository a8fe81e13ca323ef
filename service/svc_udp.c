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
 *
 * Within a batch, consecutive datagrams to the same address of the same
 * length (the last of a run may be shorter) go as one message with
 * UDP_SEGMENT (UDP GSO, Linux 4.18): the kernel takes the whole run
 * through its send path once and cuts it into those datagrams as late as
 * it can (in the NIC, or just before the device). On the wire nothing
 * changes: the peer receives the same datagrams. A bulk stream is exactly
 * such runs, and per-datagram sendmmsg() was still half of a sending
 * daemon's CPU. A run the kernel refuses is sent again one datagram per
 * message. EIO (older kernels, no checksum offload on the route's device)
 * turns GSO off on that socket for good; EMSGSIZE (a path whose MTU is
 * below the datagrams, which must then be fragmented) and EINVAL (also a
 * kernel without UDP_SEGMENT) concern a run, and turn it off only after
 * SVC_UDP_GSO_EINVAL_MAX of them. NC_NO_GSO=1 turns it off.
 *
 * Receiving, the sockets ask for UDP_GRO: the kernel may coalesce
 * consecutive datagrams of one sender into one message (over loopback a
 * GSO run arrives whole), which svc_udp_readable() cuts up again. The
 * receive slots are then 64 kB each, in the same 512 kB area.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

/* udp_gso_off() - NC_NO_GSO=1 (anything but empty or 0) turns UDP GSO off */
static int udp_gso_off(void)
{
	const char *e = getenv("NC_NO_GSO");

	return e && *e && strcmp(e, "0");
}

/* udp_gro_on() - ask the kernel to coalesce what fd receives (UDP_GRO);
 * NC_NO_GSO turns this off too. Return: 1 if it will */
static int udp_gro_on(int fd)
{
	int one = 1;

	if (udp_gso_off())
		return 0;
	return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
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
	s->udp[s->n_udp].no_gso = udp_gso_off();
	s->udp[s->n_udp].gro = udp_gro_on(fd4);
	svc_loop_add(s, fd4, SVC_EV_UDP, (uint32_t)s->n_udp, EPOLLIN);
	s->n_udp++;
	if (fd6 >= 0) {
		s->udp[s->n_udp].fd = fd6;
		s->udp[s->n_udp].family = AF_INET6;
		s->udp[s->n_udp].no_gso = udp_gso_off();
		s->udp[s->n_udp].gro = udp_gro_on(fd6);
		svc_loop_add(s, fd6, SVC_EV_UDP, (uint32_t)s->n_udp, EPOLLIN);
		s->n_udp++;
	} else {
		svc_log("IPv6 UDP socket unavailable (%s), IPv4 only", strerror(-fd6));
	}
	return got4;
}

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* udp_gro_size() - the segment size of a coalesced (UDP_GRO) message, or 0 */
static unsigned udp_gro_size(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int v = 0;

			memcpy(&v, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0) < sizeof(v) ?
					       c->cmsg_len - CMSG_LEN(0) : sizeof(v));
			return v > 0 ? (unsigned)v : 0;
		}
	}
	return 0;
}

/**
 * svc_udp_readable() - drain one socket into the engine, SVC_UDP_BATCH
 * messages per recvmmsg() (bounded per call so other fds get their turn).
 * With UDP_GRO on the socket a message may be several datagrams of one
 * sender coalesced by the kernel (the cmsg gives their size, the last may
 * be shorter): each goes to the engine on its own, as if read one by one.
 * @s:		daemon
 * @idx:	index in s->udp
 */
void svc_udp_readable(struct svc *s, int idx)
{
	struct mmsghdr msgs[SVC_UDP_BATCH];
	struct iovec iov[SVC_UDP_BATCH];
	struct sockaddr_storage from[SVC_UDP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[SVC_UDP_BATCH];
	int gro = s->udp[idx].gro, rounds = 8, i, n, slots;
	size_t slot;

	if (!s->udp_rxbuf) {
		s->udp_rxbuf = malloc(SVC_UDP_RXBUF);
		if (!s->udp_rxbuf)
			return;
	}
	/* the same area either way: fewer, larger slots for coalesced messages */
	slot = gro ? SVC_UDP_GRO_MAX : SVC_UDP_MAX;
	slots = (int)(SVC_UDP_RXBUF / slot) < SVC_UDP_BATCH ? (int)(SVC_UDP_RXBUF / slot) : SVC_UDP_BATCH;
	while (rounds-- > 0) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < slots; i++) {
			iov[i].iov_base = s->udp_rxbuf + (size_t)i * slot;
			iov[i].iov_len = slot;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			if (gro) {
				msgs[i].msg_hdr.msg_control = ctl[i].buf;
				msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
			}
		}
		n = recvmmsg(s->udp[idx].fd, msgs, (unsigned)slots, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			const uint8_t *p = iov[i].iov_base;
			unsigned left = msgs[i].msg_len, seg = left;

			if (!left)
				continue;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->udp_rx_truncated++;	/* cannot happen: slots hold any message */
				continue;
			}
			if (gro) {
				unsigned g = udp_gro_size(&msgs[i].msg_hdr);

				if (g && g < left) {
					seg = g;
					s->udp_gro_datagrams += (left + g - 1) / g;
				}
			}
			while (left) {
				unsigned l = left < seg ? left : seg;
				int64_t nd = 0;

				zt_node_wire_in(s->node, svc_now(), s->udp[idx].fd, &from[i], p, l, &nd);
				svc_deadline(s, nd);
				if (s->stop)
					return;
				p += l;
				left -= l;
			}
		}
		svc_port_flush(s);	/* the frames of this batch, in one go */
		if (n < slots)
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

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define UDP_GSO_MAX_SEGS 64	/* the kernel's UDP_MAX_SEGMENTS */
#define UDP_GSO_MAX_BYTES 65000	/* one IP packet */

/* udp_sock_of() - our entry for fd */
static struct svc_udp_sock *udp_sock_of(struct svc *s, int fd)
{
	for (int i = 0; i < s->n_udp; i++)
		if (s->udp[i].fd == fd)
			return &s->udp[i];
	return NULL;
}

/* udp_run_len() - how many datagrams from j on can go as one UDP_SEGMENT
 * message: same socket and address, all of the first one's length but the
 * last, which may be shorter */
static unsigned udp_run_len(const struct svc_udp_txq *q, unsigned j)
{
	unsigned seg = q->len[j], total = seg, k;
	socklen_t al = ss_len(&q->to[j]);

	for (k = j + 1; k < q->n && k - j < UDP_GSO_MAX_SEGS; k++) {
		if (q->fd[k] != q->fd[j] || q->len[k] > seg || total + q->len[k] > UDP_GSO_MAX_BYTES ||
		    memcmp(&q->to[k], &q->to[j], al))
			break;
		total += q->len[k];
		if (q->len[k] < seg) {
			k++;	/* a shorter one ends the run */
			break;
		}
	}
	return k - j;
}

/**
 * svc_udp_flush() - send every batched datagram (sendmmsg per socket run,
 * runs to one address as UDP_SEGMENT messages); a datagram the kernel
 * refuses is dropped, as a failed sendto() would be
 * @s:		daemon
 */
void svc_udp_flush(struct svc *s)
{
	struct svc_udp_txq *q = s->udp_txq;
	struct mmsghdr msgs[SVC_UDP_TXB];
	struct iovec iov[SVC_UDP_TXB];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[SVC_UDP_TXB];
	unsigned first[SVC_UDP_TXB], segs[SVC_UDP_TXB];
	unsigned i, j, k, m;

	if (!q || !q->n)
		return;
	for (j = 0; j < q->n; j++) {
		iov[j].iov_base = q->data[j];
		iov[j].iov_len = q->len[j];
	}
	for (i = 0; i < q->n; i = k) {
		struct svc_udp_sock *us = udp_sock_of(s, q->fd[i]);
		int gso = us && !us->no_gso;
		unsigned n = 0, sent = 0;

		/* the messages of this socket's run */
		memset(msgs, 0, sizeof(msgs));
		for (k = i; k < q->n && q->fd[k] == q->fd[i]; k += segs[n++]) {
			struct msghdr *h = &msgs[n].msg_hdr;

			first[n] = k;
			segs[n] = gso ? udp_run_len(q, k) : 1;
			h->msg_iov = &iov[k];
			h->msg_iovlen = segs[n];
			h->msg_name = &q->to[k];
			h->msg_namelen = ss_len(&q->to[k]);
			if (segs[n] > 1) {
				struct cmsghdr *c;
				uint16_t seg = (uint16_t)q->len[k];

				h->msg_control = ctl[n].buf;
				h->msg_controllen = sizeof(ctl[n].buf);
				c = CMSG_FIRSTHDR(h);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(seg));
				memcpy(CMSG_DATA(c), &seg, sizeof(seg));
			}
		}
		for (m = 0; m < n;) {
			int r = sendmmsg(q->fd[i], msgs + m, n - m, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r > 0) {
				for (j = m; j < m + (unsigned)r; j++) {
					sent += segs[j];
					if (segs[j] > 1) {
						s->udp_gso_sends += segs[j];
						s->udp_gso_sends_msgs++;
					}
				}
				m += (unsigned)r;
				continue;
			}
			if (segs[m] > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE ||
					    errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				/* the kernel will not take this run as one message: the
				 * rest of the socket's run goes datagram by datagram.
				 * EIO (no checksum offload on the route's device) and a
				 * kernel without UDP_SEGMENT are for good; EMSGSIZE or
				 * EINVAL (a segment larger than the route's MTU: the
				 * datagrams must be fragmented) concern one path, so
				 * only a socket that keeps hitting them gives up */
				int e = errno;

				s->udp_gso_refused++;
				if (us && ((e != EINVAL && e != EMSGSIZE) || ++us->gso_einval >= SVC_UDP_GSO_EINVAL_MAX)) {
					us->no_gso = 1;
					svc_log("UDP: the kernel refuses UDP_SEGMENT on fd %d (%s): one datagram per message from now on",
						q->fd[i], strerror(e));
				}
				break;
			}
			s->udp_send_errors += segs[m];
			m++;	/* this one failed: skip it, go on with the rest */
		}
		s->udp_datagrams_out += sent;
		if (m < n) {
			/* what the GSO refusal left: the rest of this socket's run,
			 * datagram by datagram */
			for (j = first[m]; j < k;) {
				struct mmsghdr one[SVC_UDP_TXB];
				unsigned c = 0, t;
				int r;

				memset(one, 0, sizeof(one));
				for (t = j; t < k; t++, c++) {
					one[c].msg_hdr.msg_iov = &iov[t];
					one[c].msg_hdr.msg_iovlen = 1;
					one[c].msg_hdr.msg_name = &q->to[t];
					one[c].msg_hdr.msg_namelen = ss_len(&q->to[t]);
				}
				r = sendmmsg(q->fd[i], one, c, 0);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					s->udp_send_errors++;
					j++;
				} else {
					s->udp_datagrams_out += (unsigned)r;
					j += (unsigned)r;
				}
			}
		}
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
		s->udp_send_errors++;
		return -e;
	}
	s->udp_datagrams_out++;
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
