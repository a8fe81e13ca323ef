/* svc_netlink.c - rtnetlink for the tap port: addresses and routes.
 *
 * Each request is sent with NLM_F_ACK and its ACK (an nlmsgerr) read back
 * before returning, so errors reach the caller as -errno. The socket is
 * blocking with a 1 s receive timeout: the kernel answers these at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "service/svc_netlink.h"

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	} u;
	char attrs[256];
};

/**
 * svc_nl_open() - an rtnetlink socket
 * Return: fd or -errno
 */
int svc_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void nl_attr(struct nl_req *r, unsigned type, const void *data, unsigned len)
{
	char *base = (char *)(void *)r;
	struct rtattr *a = (struct rtattr *)(void *)(base + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_talk(int fd, struct nl_req *r)
{
	static unsigned seq;
	char buf[4096];
	ssize_t n;

	r->h.nlmsg_seq = ++seq;
	if (send(fd, r, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
		}
	}
}

static int addr_parts(const struct sockaddr_storage *a, const void **raw, unsigned *len,
		      unsigned *bits)
{
	if (a->ss_family == AF_INET) {
		*raw = &((const struct sockaddr_in *)a)->sin_addr;
		*len = 4;
		*bits = ntohs(((const struct sockaddr_in *)a)->sin_port);
		return *bits <= 32 ? 0 : -EINVAL;
	}
	if (a->ss_family == AF_INET6) {
		*raw = &((const struct sockaddr_in6 *)a)->sin6_addr;
		*len = 16;
		*bits = ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
		return *bits <= 128 ? 0 : -EINVAL;
	}
	return -EAFNOSUPPORT;
}

/**
 * svc_nl_addr() - add or delete an interface address
 * @fd:		rtnetlink socket
 * @ifindex:	interface
 * @add:	1 add, 0 delete
 * @a:		address, prefix length in the port field
 * Return: 0 or -errno (-EEXIST when already there)
 */
int svc_nl_addr(int fd, int ifindex, int add, const struct sockaddr_storage *a)
{
	struct nl_req r;
	const void *raw;
	unsigned len, bits;
	int e = addr_parts(a, &raw, &len, &bits);

	if (e < 0)
		return e;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.h.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	r.u.ifa.ifa_family = (unsigned char)a->ss_family;
	r.u.ifa.ifa_prefixlen = (unsigned char)bits;
	r.u.ifa.ifa_index = (unsigned)ifindex;
	r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	nl_attr(&r, IFA_LOCAL, raw, len);
	nl_attr(&r, IFA_ADDRESS, raw, len);
	if (add && a->ss_family == AF_INET6) {
		uint32_t fl = IFA_F_NODAD;

		nl_attr(&r, IFA_FLAGS, &fl, sizeof(fl));
	}
	return nl_talk(fd, &r);
}

/**
 * svc_nl_route() - add or delete a route through the interface
 * @target:	destination, prefix length in the port field
 * @via:	gateway, or NULL / family 0 for on-link
 * @metric:	route metric
 * Return: 0 or -errno
 */
int svc_nl_route(int fd, int ifindex, int add, const struct sockaddr_storage *target,
		 const struct sockaddr_storage *via, unsigned metric)
{
	struct nl_req r;
	const void *raw, *graw;
	unsigned len, bits, glen, gbits;
	uint32_t oif = (uint32_t)ifindex, prio = metric;
	int e = addr_parts(target, &raw, &len, &bits);

	if (e < 0)
		return e;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	r.u.rt.rtm_family = (unsigned char)target->ss_family;
	r.u.rt.rtm_dst_len = (unsigned char)bits;
	r.u.rt.rtm_table = RT_TABLE_MAIN;
	r.u.rt.rtm_protocol = RTPROT_STATIC;
	r.u.rt.rtm_type = RTN_UNICAST;
	r.u.rt.rtm_scope = (via && via->ss_family) ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	nl_attr(&r, RTA_DST, raw, len);
	nl_attr(&r, RTA_OIF, &oif, sizeof(oif));
	if (metric)
		nl_attr(&r, RTA_PRIORITY, &prio, sizeof(prio));
	if (via && via->ss_family == target->ss_family &&
	    addr_parts(via, &graw, &glen, &gbits) == 0)
		nl_attr(&r, RTA_GATEWAY, graw, glen);
	return nl_talk(fd, &r);
}
