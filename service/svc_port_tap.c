/* svc_port_tap.c - the kernel tap port of zerotier-one.
 *
 * One /dev/net/tun device (IFF_TAP | IFF_NO_PI) per network, named
 * "zt" + 8 base32 characters folded from the network id, with the MAC the
 * engine derives, the network's MTU, its addresses and routes (rtnetlink).
 * The fd is non-blocking and watched by the loop; each read is one frame.
 * Multicast: programs join groups on the tap through the kernel, which lists
 * the resulting link-layer groups in /proc/net/dev_mcast. The kernel sends no
 * event for that, so tap_tick() rescans once a second (SVC_PORT_TICK_MS) and
 * turns additions and removals into zt_node_multicast_(un)subscribe, i.e.
 * MULTICAST_LIKEs to the network (as ZeroTier One does).
 * Needs root or CAP_NET_ADMIN: without it up() fails with -EPERM and the
 * network shows PORT_ERROR.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "node/buf.h"
#include "service/svc.h"
#include "service/svc_netlink.h"

/**
 * svc_tap_name() - "zt" + 8 base32 digits of the network id folded to 40 bits
 * @nwid:	network id
 * @out:	at least 11 bytes
 */
void svc_tap_name(uint64_t nwid, char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint64_t v = (nwid ^ (nwid >> 40)) & 0xffffffffffULL;
	int i;

	out[0] = 'z';
	out[1] = 't';
	for (i = 0; i < 8; i++)
		out[2 + i] = b32[(v >> (35 - 5 * i)) & 31];
	out[10] = 0;
}

static int tap_ifreq(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, req, ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int tap_up(struct svc *s, struct svc_net *n, const struct zt_network_info *info)
{
	struct ifreq ifr;
	char name[16];
	uint64_t mac = info->mac ? info->mac : zt_mac_from_address(zt_node_address(s->node), n->nwid);
	int fd, r, i;

	svc_tap_name(n->nwid, name);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		svc_log("network %016llx: cannot open /dev/net/tun: %s (the tap port needs root "
			"or CAP_NET_ADMIN; zerotier-netcon-service needs neither)",
			(unsigned long long)n->nwid, strerror(-r));
		return r;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		svc_log("network %016llx: cannot create tap %s: %s (needs root or CAP_NET_ADMIN)",
			(unsigned long long)n->nwid, name, strerror(-r));
		close(fd);
		return r;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	for (i = 0; i < 6; i++)
		ifr.ifr_hwaddr.sa_data[i] = (char)(mac >> (40 - 8 * i));
	r = tap_ifreq(name, SIOCSIFHWADDR, &ifr);
	if (r == 0) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_mtu = (int)(info->mtu ? info->mtu : ZT_DEFAULT_MTU);
		r = tap_ifreq(name, SIOCSIFMTU, &ifr);
	}
	if (r == 0) {
		memset(&ifr, 0, sizeof(ifr));
		r = tap_ifreq(name, SIOCGIFFLAGS, &ifr);
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (r == 0)
			r = tap_ifreq(name, SIOCSIFFLAGS, &ifr);
	}
	if (r == 0) {
		memset(&ifr, 0, sizeof(ifr));
		r = tap_ifreq(name, SIOCGIFINDEX, &ifr);
		n->ifindex = ifr.ifr_ifindex;
	}
	if (r < 0) {
		svc_log("network %016llx: configuring tap %s: %s", (unsigned long long)n->nwid,
			name, strerror(-r));
		close(fd);
		return r;
	}
	if (s->rtnl_fd < 0)
		s->rtnl_fd = svc_nl_open();
	n->tap_fd = fd;
	snprintf(n->dev, sizeof(n->dev), "%s", name);
	r = svc_loop_add(s, fd, SVC_EV_PORT, (uint32_t)n->slot, EPOLLIN);
	if (r < 0) {
		close(fd);
		n->tap_fd = -1;
		return r;
	}
	return 0;
}

static int same_ss(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	size_t l = a->ss_family == AF_INET ? sizeof(struct sockaddr_in)
					   : sizeof(struct sockaddr_in6);

	return a->ss_family == b->ss_family && !memcmp(a, b, l);
}

static int has_addr(const struct zt_network_info *i, const struct sockaddr_storage *a)
{
	unsigned k;

	for (k = 0; k < i->n_assigned; k++)
		if (same_ss(&i->assigned[k], a))
			return 1;
	return 0;
}

static int has_route(const struct zt_network_info *i, const struct zt_route *r)
{
	unsigned k;

	for (k = 0; k < i->n_routes; k++)
		if (same_ss(&i->routes[k].target, &r->target) && same_ss(&i->routes[k].via, &r->via))
			return 1;
	return 0;
}

/* route_is_subnet() - the kernel already routes an address's own subnet */
static int route_is_subnet(const struct zt_network_info *i, const struct zt_route *r)
{
	unsigned k;

	if (r->via.ss_family)
		return 0;
	for (k = 0; k < i->n_assigned; k++) {
		struct svc_cidr c;
		const struct sockaddr_storage *a = &i->assigned[k];
		unsigned abits = ntohs(a->ss_family == AF_INET
					       ? ((const struct sockaddr_in *)a)->sin_port
					       : ((const struct sockaddr_in6 *)a)->sin6_port);

		memset(&c, 0, sizeof(c));
		c.net = r->target;
		c.bits = ntohs(r->target.ss_family == AF_INET
				       ? ((const struct sockaddr_in *)&r->target)->sin_port
				       : ((const struct sockaddr_in6 *)&r->target)->sin6_port);
		if (c.bits == abits && svc_cidr_match(&c, a))
			return 1;
	}
	return 0;
}

static int tap_apply(struct svc *s, struct svc_net *n, const struct zt_network_info *info)
{
	const struct zt_network_info *old = &n->applied;
	struct ifreq ifr;
	unsigned k;
	int r, first = 0;

	if (s->rtnl_fd < 0)
		return -ENOTCONN;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)(info->mtu ? info->mtu : ZT_DEFAULT_MTU);
	tap_ifreq(n->dev, SIOCSIFMTU, &ifr);
	for (k = 0; k < old->n_routes; k++)
		if (!has_route(info, &old->routes[k]) && !route_is_subnet(old, &old->routes[k]))
			svc_nl_route(s->rtnl_fd, n->ifindex, 0, &old->routes[k].target,
				     &old->routes[k].via, old->routes[k].metric);
	for (k = 0; k < old->n_assigned; k++)
		if (!has_addr(info, &old->assigned[k]))
			svc_nl_addr(s->rtnl_fd, n->ifindex, 0, &old->assigned[k]);
	for (k = 0; k < info->n_assigned; k++) {
		if (has_addr(old, &info->assigned[k]))
			continue;
		r = svc_nl_addr(s->rtnl_fd, n->ifindex, 1, &info->assigned[k]);
		if (r < 0 && r != -EEXIST && !first)
			first = r;
	}
	for (k = 0; k < info->n_routes; k++) {
		const struct zt_route *rt = &info->routes[k];

		if (has_route(old, rt) || route_is_subnet(info, rt))
			continue;
		r = svc_nl_route(s->rtnl_fd, n->ifindex, 1, &rt->target, &rt->via, rt->metric);
		if (r < 0 && r != -EEXIST && !first)
			first = r;
	}
	return first;
}

static void tap_down(struct svc *s, struct svc_net *n)
{
	if (n->tap_fd >= 0) {
		svc_loop_del(s, n->tap_fd);
		close(n->tap_fd);	/* a non-persistent tap disappears with its fd */
	}
	n->tap_fd = -1;
	n->ifindex = 0;
	n->n_mcast = 0;	/* the engine forgets the port's groups with the port */
}

static void tap_frame(struct svc *s, struct svc_net *n, uint64_t src, uint64_t dst,
		      unsigned ethertype, const void *data, unsigned len)
{
	uint8_t buf[SVC_FRAME_MAX];

	if (n->tap_fd < 0 || len + 14 > sizeof(buf))
		return;
	zt_store_be(buf, dst, 6);
	zt_store_be(buf + 6, src, 6);
	zt_store_be(buf + 12, ethertype, 2);
	memcpy(buf + 14, data, len);
	if (write(n->tap_fd, buf, len + 14) < 0)
		return;	/* full or down: the frame is lost, as on a wire */
}

static void tap_readable(struct svc *s, struct svc_net *n)
{
	uint8_t buf[16384];
	int budget = 64;

	while (budget-- > 0 && n->tap_fd >= 0 && s->node) {
		ssize_t r = read(n->tap_fd, buf, sizeof(buf));
		uint64_t src, dst;
		unsigned et, off = 14, vlan = 0;
		int64_t nd = 0;

		if (r < 14)
			return;
		dst = zt_load_be(buf, 6);
		src = zt_load_be(buf + 6, 6);
		et = (unsigned)zt_load_be(buf + 12, 2);
		if (et == 0x8100 && r >= 18) {
			vlan = (unsigned)zt_load_be(buf + 14, 2) & 0xfff;
			et = (unsigned)zt_load_be(buf + 16, 2);
			off = 18;
		}
		zt_node_frame_in(s->node, svc_now(), n->nwid, src, dst, et, vlan, buf + off,
				 (unsigned)r - off, &nd);
		svc_deadline(s, nd);
	}
}

/* mcast_read() - multicast MACs the kernel holds for ifindex (/proc/net/dev_mcast) */
static int mcast_read(int ifindex, uint64_t *out, int max)
{
	FILE *f = fopen("/proc/net/dev_mcast", "r");
	char line[256];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		int idx, ref, glob;
		char name[32], hex[64];
		unsigned long long mac;

		if (sscanf(line, "%d %31s %d %d %63s", &idx, name, &ref, &glob, hex) != 5)
			continue;
		if (idx != ifindex || strlen(hex) != 12 || sscanf(hex, "%llx", &mac) != 1)
			continue;
		if (n < max)
			out[n++] = (uint64_t)mac;
	}
	fclose(f);
	return n;
}

static int mcast_has(const uint64_t *set, int n, uint64_t mac)
{
	int i;

	for (i = 0; i < n; i++)
		if (set[i] == mac)
			return 1;
	return 0;
}

static void tap_tick(struct svc *s, struct svc_net *n, int64_t now)
{
	uint64_t cur[SVC_MAX_MCAST];
	int nc, i, k = 0, changed = 0;

	if (n->tap_fd < 0 || !n->ifindex || !s->node)
		return;
	nc = mcast_read(n->ifindex, cur, SVC_MAX_MCAST);
	if (nc < 0)
		return;
	for (i = 0; i < nc; i++)
		if (!mcast_has(n->mcast, n->n_mcast, cur[i])) {
			zt_node_multicast_subscribe(s->node, now, n->nwid, cur[i], 0);
			changed = 1;
		}
	for (i = 0; i < n->n_mcast; i++)
		if (!mcast_has(cur, nc, n->mcast[i])) {
			zt_node_multicast_unsubscribe(s->node, n->nwid, n->mcast[i], 0);
			changed = 1;
		}
	for (i = 0; i < nc; i++)
		n->mcast[k++] = cur[i];
	n->n_mcast = k;
	if (changed)
		s->deadline = now;	/* let the engine announce the change now */
}

const struct svc_port_ops svc_port_tap_ops = {
	.kind = "tap",
	.up = tap_up,
	.apply = tap_apply,
	.down = tap_down,
	.frame = tap_frame,
	.readable = tap_readable,
	.tick = tap_tick,
};
