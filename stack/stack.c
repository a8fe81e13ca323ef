/* stack.c - one lwIP instance per network: loading, netif, frames, threads.
 *
 * Threads of one instance:
 *  - lwIP's tcpip thread (started by tcpip_init in the private copy). It runs
 *    lwIP's timers from its own timeout list; we never tick lwIP ourselves.
 *  - the bridge thread (tcp_bridge.c): epoll over our ends of the socket
 *    pairs, pumps bytes between them and lwIP, runs connect completions.
 *  - callers: nc_stack_frame_in() feeds lwIP directly under the core lock
 *    (so input never waits in lwIP's mbox and cannot overflow it);
 *    nc_stack_out_drain() empties the out queue on the owner's thread.
 *
 * Frames out: netif linkoutput copies each frame into the out queue (its own
 * mutex) and bumps the eventfd when the queue goes non-empty. The buffers
 * come from a bounded free list (most frames are the same size).
 *
 * Frames in, batched: the daemon receives datagrams in batches (recvmmsg);
 * nc_stack_frame_put() builds each frame in a pbuf and queues it, and
 * nc_stack_frame_flush() feeds the whole batch under one hold of the core
 * lock. Connections that received data meanwhile write it to their
 * applications once, at the end of the batch, instead of once per segment
 * with PSH (iperf3 and most programs push every write), and the frames
 * lwIP sent in reply (ACKs, window updates) are handed to frame_out right
 * there, without a round trip through the eventfd and the caller's loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>
#include <netinet/in.h>

#include "stack/stack_internal.h"

#define NC_OUTQ_MAX 16384

/* nc_stack_lock() - take this instance's lwIP core lock */
void nc_stack_lock(struct nc_stack *st)
{
	st->L.sys_lock_tcpip_core();
}

/* stack_efd_bump() - make an eventfd readable */
static void stack_efd_bump(int fd)
{
	uint64_t one = 1;
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r;
}

/* nc_stack_unlock() - release the lock, then send the wake-ups decided
 * under it: waking a thread that will want the lock while we still hold it
 * would only make it sleep again on the mutex. Frames queued meanwhile are
 * first offered to out_ready, which may send them from this thread. */
void nc_stack_unlock(struct nc_stack *st)
{
	int out = st->sig_out, wake = st->sig_wake;

	st->sig_out = st->sig_wake = 0;
	st->L.sys_unlock_tcpip_core();
	if (out && !(st->out_ready && st->out_ready(st->user)))
		stack_efd_bump(st->out_efd);
	if (wake)
		stack_efd_bump(st->wake_efd);
}

/* stack_on_tcpip_thread() - lwIP's own thread unlocks inside lwIP, where
 * nothing can be deferred to nc_stack_unlock() */
static int stack_on_tcpip_thread(const struct nc_stack *st)
{
	return st->tcpip_running && pthread_equal(pthread_self(), st->tcpip_thread);
}

/* nc_stack_wake() - poke the bridge thread (lock held): completions or
 * data to flush are queued */
void nc_stack_wake(struct nc_stack *st)
{
	if (stack_on_tcpip_thread(st))
		stack_efd_bump(st->wake_efd);
	else
		st->sig_wake = 1;
}

/* stack_frame_get() - a buffer for an outgoing frame of @len bytes (lock
 * held: every linkoutput runs under the core lock) */
static struct nc_frame *stack_frame_get(struct nc_stack *st, unsigned len)
{
	struct nc_frame *f;

	if (len > NC_FRAME_CAP) {
		f = malloc(sizeof(*f) + len);
		if (f)
			f->pooled = 0;
		return f;
	}
	if (!st->fpool) {
		pthread_mutex_lock(&st->outq_mu);
		st->fpool = st->fpool_ret;
		st->fpool_ret = NULL;
		st->fpool_ret_n = 0;
		pthread_mutex_unlock(&st->outq_mu);
	}
	f = st->fpool;
	if (f) {
		st->fpool = f->next;
		return f;
	}
	f = malloc(sizeof(*f) + NC_FRAME_CAP);
	if (f)
		f->pooled = 1;
	return f;
}

/* stack_frames_free() - free a list of frames */
static void stack_frames_free(struct nc_frame *f)
{
	while (f) {
		struct nc_frame *next = f->next;
		free(f);
		f = next;
	}
}

/* stack_frames_put() - give drained frames back: pooled ones to fpool_ret
 * while it holds fewer than NC_FRAME_POOL, the rest freed */
static void stack_frames_put(struct nc_stack *st, struct nc_frame *f)
{
	struct nc_frame *drop = NULL;

	pthread_mutex_lock(&st->outq_mu);
	while (f) {
		struct nc_frame *next = f->next;
		struct nc_frame **to = f->pooled && st->fpool_ret_n < NC_FRAME_POOL ? &st->fpool_ret : &drop;

		st->fpool_ret_n += to == &st->fpool_ret;
		f->next = *to;
		*to = f;
		f = next;
	}
	pthread_mutex_unlock(&st->outq_mu);
	stack_frames_free(drop);
}

/* stack_linkoutput() - netif linkoutput: queue one frame for the owner */
static err_t stack_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nc_stack *st = netif->state;
	struct nc_frame *f;
	int was_empty;

	if (p->tot_len < 14)
		return ERR_ARG;
	f = stack_frame_get(st, p->tot_len);
	if (!f) {
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return ERR_MEM;
	}
	f->next = NULL;
	f->len = st->L.pbuf_copy_partial(p, f->data, p->tot_len, 0);
	pthread_mutex_lock(&st->outq_mu);
	if (st->outq_len >= NC_OUTQ_MAX) {
		pthread_mutex_unlock(&st->outq_mu);
		if (f->pooled) {
			f->next = st->fpool;
			st->fpool = f;
		} else {
			free(f);
		}
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return ERR_MEM;
	}
	was_empty = st->outq_head == NULL;
	if (st->outq_tail)
		st->outq_tail->next = f;
	else
		st->outq_head = f;
	st->outq_tail = f;
	st->outq_len++;
	pthread_mutex_unlock(&st->outq_mu);
	if (was_empty) {
		/* a frame queued by a flush that drains by itself needs no
		 * eventfd: anyone who queues after that drain took the queue
		 * finds it empty and announces their own */
		if (st->direct_out)
			st->out_unsignalled = 1;
		else if (stack_on_tcpip_thread(st))
			stack_efd_bump(st->out_efd);
		else
			st->sig_out = 1;
	}
	return ERR_OK;
}

/* stack_netif_init() - netif_add() init callback: Ethernet with ARP and ND */
static err_t stack_netif_init(struct netif *netif)
{
	struct nc_stack *st = netif->state;

	netif->name[0] = 'z';
	netif->name[1] = 't';
	netif->mtu = (u16_t)st->mtu;	/* netif_add copies it to mtu6 */
	netif->hwaddr_len = 6;
	for (int i = 0; i < 6; i++)
		netif->hwaddr[i] = (u8_t)(st->mac >> (40 - 8 * i));
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = st->L.etharp_output;
	netif->output_ip6 = st->L.ethip6_output;
	netif->linkoutput = stack_linkoutput;
	/* addresses are static (assigned by the network controller): no SLAAC,
	 * no router solicitations */
	netif->ip6_autoconfig_enabled = 0;
	netif->rs_count = 0;
	return ERR_OK;
}

/* stack_tcpip_ready() - tcpip_init done callback, on the new tcpip thread */
static void stack_tcpip_ready(void *arg)
{
	struct nc_stack *st = arg;

	pthread_mutex_lock(&st->init_mu);
	st->tcpip_thread = pthread_self();
	st->init_done = 1;
	pthread_cond_signal(&st->init_cv);
	pthread_mutex_unlock(&st->init_mu);
}

/* stack_tcpip_exit() - runs on the tcpip thread (core lock held): end it.
 * lwIP's thread loop never returns, so the thread exits from inside it; the
 * 16-byte start record lwIP's sys_thread_new keeps for it is lost. Under
 * AddressSanitizer the thread is parked instead (its stack keeps that
 * record reachable, so LeakSanitizer stays quiet; the copy stays mapped). */
static void stack_tcpip_exit(void *arg)
{
	struct nc_stack *st = arg;

	st->L.sys_unlock_tcpip_core();
#if defined(__SANITIZE_ADDRESS__)
	pthread_mutex_lock(&st->init_mu);
	st->init_done = 2;	/* st is not touched after this */
	pthread_cond_signal(&st->init_cv);
	pthread_mutex_unlock(&st->init_mu);
	for (;;)
		pause();
#else
	pthread_exit(NULL);
#endif
}

/* stack_bridge_main() - the bridge thread: one epoll loop */
static void *stack_bridge_main(void *arg)
{
	struct nc_stack *st = arg;
	struct epoll_event ev[128];

	while (!__atomic_load_n(&st->bridge_stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(st->epfd, ev, 128, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		nc_stack_lock(st);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				uint64_t v;
				ssize_t r = read(st->wake_efd, &v, sizeof(v));
				(void)r;
				continue;
			}
			nc_bridge_event(st, ev[i].data.ptr, ev[i].events);
		}
		nc_bridge_reap(st);	/* unlocks */
	}
	return NULL;
}

/**
 * nc_stack_new() - load a private lwIP, start its threads, bring the netif up
 * @cfg:	configuration (copied)
 * @out:	the new stack
 *
 * Return: 0 or -errno
 */
int nc_stack_new(const struct nc_stack_config *cfg, struct nc_stack **out)
{
	struct nc_stack *st;
	struct epoll_event ev = { .events = EPOLLIN };
	ip4_addr_t zero4 = { 0 };
	int err;

	*out = NULL;
	if (!cfg || !cfg->frame_out)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->nwid = cfg->nwid;
	st->mac = cfg->mac & 0xffffffffffffULL;
	st->mtu = cfg->mtu ? (cfg->mtu > 0xffff ? 0xffff : cfg->mtu) : 2800;
	st->frame_out = cfg->frame_out;
	st->out_ready = cfg->out_ready;
	st->user = cfg->user;
	st->port_lo = NC_PORT_LO;
	st->port_hi = NC_PORT_HI;
	if (cfg->port_lo && cfg->port_lo <= cfg->port_hi && cfg->port_hi <= 65535) {
		st->port_lo = cfg->port_lo;
		st->port_hi = cfg->port_hi;
	}
	/* start somewhere random, as lwIP does (LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS) */
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (unsigned)getpid();
	st->port_next = st->port_lo + rnd % (st->port_hi - st->port_lo + 1);
	st->out_efd = st->wake_efd = st->epfd = -1;
	pthread_mutex_init(&st->outq_mu, NULL);
	pthread_mutex_init(&st->init_mu, NULL);
	pthread_cond_init(&st->init_cv, NULL);

	err = nc_lwip_load(&st->L, cfg->lwip_path, cfg->tmp_dir);
	if (err)
		goto fail;
	st->out_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	st->wake_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	st->tab_size = 256;
	st->tab = calloc(st->tab_size, sizeof(*st->tab));
	if (st->out_efd < 0 || st->wake_efd < 0 || st->epfd < 0 || !st->tab) {
		err = st->tab ? -errno : -ENOMEM;
		goto fail;
	}
	ev.data.ptr = NULL;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->wake_efd, &ev) < 0) {
		err = -errno;
		goto fail;
	}

	st->L.tcpip_init(stack_tcpip_ready, st);
	pthread_mutex_lock(&st->init_mu);
	while (!st->init_done)
		pthread_cond_wait(&st->init_cv, &st->init_mu);
	pthread_mutex_unlock(&st->init_mu);
	st->tcpip_running = 1;

	nc_stack_lock(st);
	if (!st->L.netif_add(&st->netif, &zero4, &zero4, &zero4, st, stack_netif_init,
			     st->L.ethernet_input)) {
		nc_stack_unlock(st);
		err = -ENOMEM;
		goto fail;
	}
	st->netif_added = 1;
	st->L.netif_create_ip6_linklocal_address(&st->netif, 1);
	st->L.netif_ip6_addr_set_state(&st->netif, 0, IP6_ADDR_PREFERRED);
	st->L.netif_set_link_up(&st->netif);
	st->L.netif_set_up(&st->netif);
	st->netif.rs_count = 0;	/* set_up re-arms router solicitations: none here */
	nc_stack_unlock(st);

	if (pthread_create(&st->bridge_thread, NULL, stack_bridge_main, st) != 0) {
		err = -EAGAIN;
		goto fail;
	}
	st->bridge_running = 1;
	*out = st;
	return 0;
fail:
	nc_stack_free(st);
	return err;
}

/**
 * nc_stack_free() - abort every connection, stop threads, unload lwIP
 * @st:	stack (may be NULL)
 *
 * Connections still connecting get done(-ECONNABORTED) on this thread.
 */
void nc_stack_free(struct nc_stack *st)
{
	if (!st)
		return;
	if (st->bridge_running) {
		__atomic_store_n(&st->bridge_stop, 1, __ATOMIC_RELEASE);
		stack_efd_bump(st->wake_efd);
		pthread_join(st->bridge_thread, NULL);
		st->bridge_running = 0;
	}
	if (st->tcpip_running) {
		nc_stack_lock(st);
		nc_bridge_abort_all(st);
		if (st->netif_added) {
			st->L.netif_set_down(&st->netif);
			st->L.netif_remove(&st->netif);
			st->netif_added = 0;
		}
		nc_bridge_reap(st);	/* unlocks, runs the completions */
#if defined(__SANITIZE_ADDRESS__)
		if (st->L.tcpip_callback(stack_tcpip_exit, st) == ERR_OK) {
			pthread_mutex_lock(&st->init_mu);
			while (st->init_done != 2)
				pthread_cond_wait(&st->init_cv, &st->init_mu);
			pthread_mutex_unlock(&st->init_mu);
		}
#else
		if (st->L.tcpip_callback(stack_tcpip_exit, st) == ERR_OK)
			pthread_join(st->tcpip_thread, NULL);
#endif
		st->tcpip_running = 0;
	}
	for (unsigned i = 0; i < st->inq_n; i++)
		st->L.pbuf_free(st->inq[i]);	/* only queued once loaded */
	st->inq_n = 0;
	nc_lwip_unload(&st->L);
	stack_frames_free(st->outq_head);
	stack_frames_free(st->fpool);
	stack_frames_free(st->fpool_ret);
	if (st->out_efd >= 0)
		close(st->out_efd);
	if (st->wake_efd >= 0)
		close(st->wake_efd);
	if (st->epfd >= 0)
		close(st->epfd);
	free(st->tab);
	pthread_mutex_destroy(&st->outq_mu);
	pthread_mutex_destroy(&st->init_mu);
	pthread_cond_destroy(&st->init_cv);
	free(st);
}

/* stack_prefix_mask4() - IPv4 netmask for a prefix length, network order */
static uint32_t stack_prefix_mask4(unsigned plen)
{
	if (plen == 0)
		return 0;
	if (plen > 32)
		plen = 32;
	return htonl(0xffffffffu << (32 - plen));
}

/**
 * nc_stack_set_addrs() - replace the netif's addresses and MTU
 * @st:		stack
 * @addrs:	AF_INET / AF_INET6 addresses, port = prefix length
 * @n:		how many (lwIP holds one IPv4 address: the first one is used;
 *		up to 5 IPv6 addresses besides the link-local one)
 * @mtu:	new MTU, 0 to keep
 *
 * Return: 0 or -EINVAL
 */
int nc_stack_set_addrs(struct nc_stack *st, const struct sockaddr_storage *addrs, int n,
		       unsigned mtu)
{
	ip4_addr_t ip4 = { 0 }, mask4 = { 0 }, gw4 = { 0 };
	ip6_addr_t want6[LWIP_IPV6_NUM_ADDRESSES];
	int have4 = 0, nwant6 = 0, ll_given = 0;

	if (n < 0 || (n > 0 && !addrs))
		return -EINVAL;
	if (n > NC_STACK_MAX_ADDRS)
		n = NC_STACK_MAX_ADDRS;
	nc_stack_lock(st);
	st->naddrs = 0;
	for (int i = 0; i < n; i++) {
		if (addrs[i].ss_family == AF_INET || addrs[i].ss_family == AF_INET6)
			st->addrs[st->naddrs++] = addrs[i];
	}
	if (mtu) {
		st->mtu = mtu > 0xffff ? 0xffff : mtu;
		st->netif.mtu = (u16_t)st->mtu;
		st->netif.mtu6 = (u16_t)st->mtu;
	}
	for (int i = 0; i < st->naddrs; i++) {
		const struct sockaddr_storage *ss = &st->addrs[i];
		if (ss->ss_family == AF_INET && !have4) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
			ip4.addr = sin->sin_addr.s_addr;
			mask4.addr = stack_prefix_mask4(ntohs(sin->sin_port));
			have4 = 1;
		} else if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
			ip6_addr_t a;
			memcpy(a.addr, s6->sin6_addr.s6_addr, 16);
			ip6_addr_clear_zone(&a);
			if (ip6_addr_islinklocal(&a)) {
				if (ll_given)
					continue;
				ll_given = 1;
				ip6_addr_assign_zone(&a, IP6_UNICAST, &st->netif);
				want6[0] = a;
			} else if (nwant6 < LWIP_IPV6_NUM_ADDRESSES - 1) {
				want6[1 + nwant6++] = a;
			}
		}
	}
	/* Change only what changed: lwIP resets every connection of an
	 * address that goes away, and config updates repeat the same set.
	 * Slot 0 holds the link-local address: the given one, else the one
	 * derived from our MAC. */
	if (ll_given && memcmp(netif_ip6_addr(&st->netif, 0)->addr, want6[0].addr, 16) != 0) {
		st->L.netif_ip6_addr_set_state(&st->netif, 0, IP6_ADDR_INVALID);
		st->L.netif_ip6_addr_set(&st->netif, 0, &want6[0]);
		st->L.netif_ip6_addr_set_state(&st->netif, 0, IP6_ADDR_PREFERRED);
	}
	for (int i = 1; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		int keep = 0;
		if (!ip6_addr_isvalid(netif_ip6_addr_state(&st->netif, i)))
			continue;
		for (int k = 0; k < nwant6; k++)
			if (memcmp(netif_ip6_addr(&st->netif, i)->addr, want6[1 + k].addr, 16) == 0)
				keep = 1;
		if (!keep)
			st->L.netif_ip6_addr_set_state(&st->netif, (s8_t)i, IP6_ADDR_INVALID);
	}
	for (int k = 0; k < nwant6; k++) {
		s8_t idx = -1;
		if (st->L.netif_add_ip6_address(&st->netif, &want6[1 + k], &idx) == ERR_OK && idx >= 0 &&
		    !ip6_addr_isvalid(netif_ip6_addr_state(&st->netif, idx)))
			/* unique by construction (the controller assigns
			 * them): skip duplicate address detection */
			st->L.netif_ip6_addr_set_state(&st->netif, idx, IP6_ADDR_PREFERRED);
	}
	if (!ip4_addr_cmp(&ip4, netif_ip4_addr(&st->netif)) ||
	    !ip4_addr_cmp(&mask4, netif_ip4_netmask(&st->netif)))
		st->L.netif_set_addr(&st->netif, &ip4, &mask4, &gw4);
	nc_stack_unlock(st);
	return 0;
}

/**
 * nc_stack_frame_in() - give lwIP one Ethernet frame (copied)
 * @st:		stack
 * @frame:	frame, 14-byte header included
 * @len:	its length
 *
 * Return: 0, -EINVAL for a runt or oversized frame, -ENOMEM (all counted as
 * dropped)
 */
int nc_stack_frame_in(struct nc_stack *st, const uint8_t *frame, unsigned len)
{
	struct pbuf *p;

	if (!frame || len < 14 || len > 0xffff) {
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return -EINVAL;
	}
	p = st->L.pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p) {
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	memcpy(p->payload, frame, len);
	__atomic_add_fetch(&st->frames_in, 1, __ATOMIC_RELAXED);
	nc_stack_lock(st);
	/* ethernet_input consumes p in every case */
	st->L.ethernet_input(p, &st->netif);
	nc_stack_unlock(st);
	return 0;
}

/* stack_out_run() - hand every queued frame to frame_out; @read_efd: also
 * consume the eventfd's count (when it was reported readable) */
static void stack_out_run(struct nc_stack *st, int read_efd)
{
	struct nc_frame *f, *head;
	unsigned n = 0;

	if (read_efd) {
		uint64_t v;
		ssize_t r = read(st->out_efd, &v, sizeof(v));
		(void)r;
	}
	pthread_mutex_lock(&st->outq_mu);
	head = st->outq_head;
	st->outq_head = st->outq_tail = NULL;
	st->outq_len = 0;
	pthread_mutex_unlock(&st->outq_mu);
	for (f = head; f; f = f->next, n++)
		st->frame_out(st->user, f->data, f->len);
	stack_frames_put(st, head);
	__atomic_add_fetch(&st->frames_out, n, __ATOMIC_RELAXED);
}

/* stack_feed() - feed the queued input frames to lwIP under one hold of the
 * lock. Connections write what they received to their applications once,
 * at the end (nc_bridge_batch_end). @direct: drain the out queue here
 * afterwards, so frames lwIP sent meanwhile need no eventfd. */
static void stack_feed(struct nc_stack *st, int direct)
{
	unsigned n = st->inq_n, out;

	st->inq_n = 0;
	nc_stack_lock(st);
	st->batching = 1;
	st->direct_out = direct;
	for (unsigned i = 0; i < n; i++)
		st->L.ethernet_input(st->inq[i], &st->netif);	/* consumes it */
	st->batching = 0;
	nc_bridge_batch_end(st);
	out = st->out_unsignalled;
	st->out_unsignalled = st->direct_out = 0;
	nc_stack_unlock(st);
	if (out)
		stack_out_run(st, 0);
}

/**
 * nc_stack_frame_put() - queue one Ethernet frame for the stack, built from
 * its parts straight into an lwIP buffer (the only copy of the payload)
 * @st:		stack
 * @dst:	destination MAC (low 48 bits)
 * @src:	source MAC
 * @ethertype:	ethertype
 * @payload:	frame payload
 * @len:	its length
 *
 * The frame reaches lwIP at the next nc_stack_frame_flush() (or when
 * NC_STACK_INQ frames are queued: then without calling frame_out). Only the
 * owner's thread (the one that drains) may put and flush.
 *
 * Return: 0, -EINVAL for an oversized frame, -ENOMEM (counted as dropped)
 */
int nc_stack_frame_put(struct nc_stack *st, uint64_t dst, uint64_t src, unsigned ethertype,
		       const void *payload, unsigned len)
{
	struct pbuf *p;
	uint8_t *h;

	if ((len && !payload) || len > 0xffff - 14) {
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return -EINVAL;
	}
	p = st->L.pbuf_alloc(PBUF_RAW, (u16_t)(len + 14), PBUF_RAM);
	if (!p) {
		__atomic_add_fetch(&st->frames_dropped, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	h = p->payload;
	for (int i = 0; i < 6; i++) {
		h[i] = (uint8_t)(dst >> (40 - 8 * i));
		h[6 + i] = (uint8_t)(src >> (40 - 8 * i));
	}
	h[12] = (uint8_t)(ethertype >> 8);
	h[13] = (uint8_t)ethertype;
	if (len)
		memcpy(h + 14, payload, len);
	__atomic_add_fetch(&st->frames_in, 1, __ATOMIC_RELAXED);
	st->inq[st->inq_n++] = p;
	if (st->inq_n == NC_STACK_INQ)
		stack_feed(st, 0);
	return 0;
}

/**
 * nc_stack_frame_flush() - feed the frames queued by nc_stack_frame_put()
 * to lwIP, then hand what lwIP sent meanwhile to frame_out (on this thread)
 * @st:		stack
 *
 * Return: how many frames were fed
 */
unsigned nc_stack_frame_flush(struct nc_stack *st)
{
	unsigned n = st->inq_n;

	if (n)
		stack_feed(st, 1);
	return n;
}

/* nc_stack_out_fd() - eventfd readable when frames are queued for frame_out */
int nc_stack_out_fd(struct nc_stack *st)
{
	return st->out_efd;
}

/**
 * nc_stack_out_drain() - hand every queued frame to frame_out, on this thread
 * @st:	stack
 */
void nc_stack_out_drain(struct nc_stack *st)
{
	stack_out_run(st, 1);
}

/* nc_stack_stats() - counters for /metrics */
void nc_stack_stats(struct nc_stack *st, struct nc_stack_stats *s)
{
	s->frames_in = __atomic_load_n(&st->frames_in, __ATOMIC_RELAXED);
	s->frames_out = __atomic_load_n(&st->frames_out, __ATOMIC_RELAXED);
	s->frames_dropped = __atomic_load_n(&st->frames_dropped, __ATOMIC_RELAXED);
	s->conns_open = __atomic_load_n(&st->conns_open, __ATOMIC_RELAXED);
	s->conns_total = __atomic_load_n(&st->conns_total, __ATOMIC_RELAXED);
	s->listeners = __atomic_load_n(&st->listeners, __ATOMIC_RELAXED);
	s->time_wait = 0;
	if (st->L.tw_pcbs) {
		nc_stack_lock(st);
		for (const struct tcp_pcb *p = *st->L.tw_pcbs; p; p = p->next)
			s->time_wait++;
		nc_stack_unlock(st);
	}
}
