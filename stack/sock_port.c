/* sock_port.c - local ports for connect(), bind(port 0) and listen()
 * without bind: the stack's own choice instead of lwIP's tcp_new_port().
 *
 * Why: lwIP 2.1.3 takes ephemeral ports from 0xc000-0xfffe only and never
 * hands out a port that any pcb holds, TIME_WAIT ones included. A program
 * that makes many short connections leaves each closed one in TIME_WAIT
 * for 2 * TCP_MSL (120 s in Debian's packaged build, 20 s in netcon's own,
 * stack/lwipopts.h), so after ~16,000 connections in that time
 * tcp_new_port() fails and connect() got ENOBUFS.
 *
 * Theory of operation. A port is chosen from the stack's range (default
 * NC_PORT_LO-NC_PORT_HI, twice lwIP's; nc_stack_config.port_lo/hi), going
 * round from where the last choice stopped, in this order:
 *  1. a port no pcb holds;
 *  2. else the port of the oldest TIME_WAIT pcb whose remote end is not
 *     the one we connect to: that pcb is recycled (tcp_abort frees a
 *     TIME_WAIT pcb without sending anything). The old connection only
 *     loses its protection against a late retransmitted FIN, which now
 *     meets a RST instead of an ACK; the new connection has another
 *     4-tuple, so no old segment can be taken for one of its own;
 *  3. else the oldest TIME_WAIT pcb with the same 4-tuple, if it has been
 *     there at least NC_TW_REUSE_MS: the same rule as Linux's tcp_tw_reuse
 *     (RFC 6191 reasoning: a segment of the old connection still in flight
 *     after that long is implausible on a virtual link; lwIP has no
 *     timestamps to prove it, and its ISN grows with time);
 *  4. else -EADDRNOTAVAIL, at once: every port of the range is held by a
 *     live connection, a listener or a bound socket (or a brand-new
 *     TIME_WAIT of the very same 4-tuple), as Linux reports it.
 * One pass over lwIP's four pcb lists (a bitmap of the held ports) per
 * choice: linear in the number of pcbs, as lwIP's own lookups are.
 *
 * TIME_WAIT is capped at NC_TW_MAX pcbs (nc_tw_trim), as Linux caps it with
 * tcp_max_tw_buckets: lwIP keeps its pcbs in lists, and tcp_bind(), the
 * slow timer (every 50 ms) and our port choice each walk all of them, so a
 * client making 3,000 connections a second (20 s of TIME_WAIT: ~18,000
 * pcbs) spent ever more CPU per connection: 340 us in the first 3 s of
 * bench/ab.sh's connection test, 1,010 us in the fourth, and its rate fell
 * from 3,070 to 1,000 a second. Past the cap the oldest TIME_WAIT pcbs
 * are freed, with the same small risk as point 2 above.
 * Everything here runs with the core lock held.
 */
#include <errno.h>
#include <string.h>

#include "stack/stack_internal.h"

/* TIME_WAIT pcbs of the same 4-tuple are recycled after this long */
#define NC_TW_REUSE_MS 1000
/* at most this many pcbs in TIME_WAIT (Linux: tcp_max_tw_buckets) */
#define NC_TW_MAX 2048

/* tw_cut() - free every TIME_WAIT pcb after @keep (the older ones) */
static void tw_cut(struct nc_stack *st, struct tcp_pcb *keep)
{
	while (keep->next)
		st->L.tcp_abort(keep->next);	/* unlinked and freed, nothing sent */
}

/**
 * nc_tw_trim() - free the oldest TIME_WAIT pcbs beyond NC_TW_MAX
 * @st:	stack (core lock held)
 *
 * lwIP puts a pcb that enters TIME_WAIT at the head of its list, so the
 * oldest are the tail. Called on every accepted connection (each SYN walks
 * the TIME_WAIT list in lwIP's tcp_input) and after every close we hand to
 * lwIP; a port choice cuts the list in the walk it makes anyway
 * (port_scan). A pcb enters TIME_WAIT a round trip or so after its close,
 * so the list stays within those in flight of the cap.
 */
void nc_tw_trim(struct nc_stack *st)
{
	struct tcp_pcb *keep;
	unsigned k = 1;

	if (!st->L.tw_pcbs || !*st->L.tw_pcbs)
		return;
	keep = *st->L.tw_pcbs;
	while (keep->next && k < NC_TW_MAX) {
		keep = keep->next;
		k++;
	}
	tw_cut(st, keep);
}

struct port_scan {
	struct tcp_pcb *old_other;	/* oldest TIME_WAIT pcb, other remote end */
	struct tcp_pcb *old_same;	/* oldest TIME_WAIT pcb, same 4-tuple */
};

static int bit_get(const uint64_t *m, unsigned p) { return (int)(m[p / 64] >> (p % 64)) & 1; }
static void bit_set(uint64_t *m, unsigned p) { m[p / 64] |= 1ULL << (p % 64); }

/* port_in_range() - p is one of the stack's ports */
static int port_in_range(const struct nc_stack *st, unsigned p)
{
	return p >= st->port_lo && p <= st->port_hi;
}

/* port_scan() - fill st->port_held/port_tw and @sc from lwIP's lists;
 * @rip/@rport (NULL/0: none) is the remote end we are about to connect to */
static void port_scan(struct nc_stack *st, struct port_scan *sc, const ip_addr_t *rip, u16_t rport)
{
	u32_t now = *st->L.ticks;

	memset(sc, 0, sizeof(*sc));
	memset(st->port_held, 0, sizeof(st->port_held));
	memset(st->port_tw, 0, sizeof(st->port_tw));
	for (int i = 0; i < NUM_TCP_PCB_LISTS; i++) {
		int is_tw = st->L.pcb_lists[i] == st->L.tw_pcbs;
		unsigned k = 0;

		for (struct tcp_pcb *p = *st->L.pcb_lists[i]; p; p = p->next) {
			if (!is_tw) {
				bit_set(st->port_held, p->local_port);
				continue;
			}
			if (++k == NC_TW_MAX)
				tw_cut(st, p);	/* the cap (nc_tw_trim), in this walk */
			bit_set(st->port_tw, p->local_port);
			if (!port_in_range(st, p->local_port))
				continue;
			int same = rip && p->remote_port == rport && ip_addr_cmp(&p->remote_ip, rip);
			struct tcp_pcb **best = same ? &sc->old_same : &sc->old_other;
			/* age in slow-timer ticks; lwIP's own TIME_WAIT clock */
			if (!*best || (u32_t)(now - p->tmr) > (u32_t)(now - (*best)->tmr))
				*best = p;
		}
	}
}

/**
 * nc_port_choose() - a local port for a new connection, listener or bind
 * @st:		stack (core lock held)
 * @rip:	remote address we connect to, or NULL
 * @rport:	its port (0 with rip NULL)
 *
 * May free one TIME_WAIT pcb of lwIP's to reuse its port (see above).
 * Return: the port, or -EADDRNOTAVAIL
 */
static int nc_port_choose(struct nc_stack *st, const ip_addr_t *rip, u16_t rport)
{
	struct port_scan sc;
	unsigned n = st->port_hi - st->port_lo + 1, start = st->port_next;
	struct tcp_pcb *tw = NULL;

	port_scan(st, &sc, rip, rport);
	for (unsigned k = 0; k < n; k++) {
		unsigned p = st->port_lo + (start - st->port_lo + k) % n;

		if (!bit_get(st->port_held, p) && !bit_get(st->port_tw, p)) {
			st->port_next = p + 1 > st->port_hi ? st->port_lo : p + 1;
			return (int)p;
		}
	}
	if (sc.old_other && !bit_get(st->port_held, sc.old_other->local_port))
		tw = sc.old_other;
	else if (sc.old_same && !bit_get(st->port_held, sc.old_same->local_port) &&
		 (uint64_t)(u32_t)(*st->L.ticks - sc.old_same->tmr) * st->L.slow_ms >= NC_TW_REUSE_MS)
		tw = sc.old_same;
	if (!tw)
		return -EADDRNOTAVAIL;
	int p = tw->local_port;
	st->L.tcp_abort(tw);	/* TIME_WAIT: unlinked and freed, nothing sent */
	return p;
}

/**
 * nc_port_bind() - bind @pcb to @ip and a port of the stack's choosing
 * @st:		stack (core lock held)
 * @pcb:	a CLOSED, unbound pcb
 * @ip:		local address (any or one of ours)
 * @rip:	remote address it is about to connect to, or NULL
 * @rport:	its port
 *
 * Without the pcb lists (a liblwip.so that does not export them) lwIP
 * chooses, as before.
 * Return: 0 or -errno (-EADDRNOTAVAIL when the range is exhausted)
 */
int nc_port_bind(struct nc_stack *st, struct tcp_pcb *pcb, const ip_addr_t *ip, const ip_addr_t *rip,
		 u16_t rport)
{
	int p;

	if (!st->L.pcb_lists || !st->L.ticks || !st->L.tw_pcbs)
		return nc_addr_errno(st->L.tcp_bind(pcb, ip, 0));
	p = nc_port_choose(st, rip, rport);
	if (p < 0)
		return p;
	return nc_addr_errno(st->L.tcp_bind(pcb, ip, (u16_t)p));
}
