/* tcp_bridge.c - TCP sockets: socketpair ends <-> lwIP raw-API pcbs.
 *
 * Theory of operation
 *
 * Each socket is an AF_UNIX stream socketpair. The application holds one end
 * ("app end"); we keep the other ("our end", non-blocking) in the bridge
 * thread's epoll, edge-triggered, with EPOLLIN|EPOLLRDHUP, and EPOLLOUT
 * from the first write that found it full (conn_blocked). Every
 * field of a connection is guarded by the instance's lwIP core lock, so lwIP
 * callbacks (tcpip thread, or whoever calls nc_stack_frame_in) and the
 * bridge thread pump the same connection under the same lock.
 *
 * States: NEW -> BOUND -> LISTENING, or NEW/BOUND -> CONNECTING -> CONNECTED
 * (-> CLOSED on failure); accepted connections start CONNECTED.
 *
 * App -> network: when our end is readable and lwIP has send buffer
 * (tcp_sndbuf, snd_queuelen), read up to that much and tcp_write(COPY) it;
 * without window we stop and resume from tcp_sent. Network -> app: tcp_recv
 * queues the pbufs and writes them to our end; on EAGAIN they stay queued
 * and tcp_recved is withheld, so lwIP's window closes (back-pressure end to
 * end, nothing dropped); EPOLLOUT resumes, tcp_recved follows each write.
 * Segments without PSH (the middle of a burst) are not written at once: the
 * connection goes on st->rx_dirty and the bridge thread writes everything
 * that arrived meanwhile in one sendmsg (fewer, larger writes and fewer
 * wake-ups of the reader); PSH, FIN or 32 kB queued write immediately.
 * Frames fed as a batch (nc_stack_frame_flush) go further: every connection
 * that received data or ACKs during the batch goes on that same list and is
 * serviced once at the batch's end (nc_bridge_batch_end), so one write per
 * batch reaches the application.
 * App -> network refills happen in tcp_sent once a quarter of the send
 * buffer is free, not on every ACK.
 *
 * Windows: Debian's lwIP has a 64 kB TCP_WND and TCP_SND_BUF, which caps a
 * connection at 64 kB per round trip. Established connections get a 192 kB
 * send buffer (conn_grow_sndbuf) and, when the peer accepted window
 * scaling, a 128 kB receive window (conn_grow_rcvwnd, conn_recved).
 *
 * The "held byte", and ECONNRESET: when a stream socket of a Linux AF_UNIX
 * pair is closed while its receive queue is not empty, the kernel sets
 * ECONNRESET on the peer (unix_release_sock): the peer's read returns its
 * remaining data, then -1/ECONNRESET, and poll shows POLLERR|POLLHUP. The
 * kernel gives no other way to make an AF_UNIX peer see a reset. So we keep
 * our receive queue non-empty for the whole life of a connection: its first
 * byte is always one we have already dealt with (c->hold counts them). On
 * new data we SIOCINQ, read all but the last new byte (consuming the old
 * held one too) and MSG_PEEK that last byte, which becomes the new held
 * byte. A reset from the peer then closes our end as is; a graceful end
 * drains our queue before closing so the application reads a clean EOF.
 * Accepted connections start with one junk byte written from the app end
 * before it is handed out.
 *
 * The held byte pins the skb it is part of (up to ~90 kB), which the app end
 * must be able to afford while still polling writable: see
 * bridge_app_sndbuf().
 *
 * Non-blocking connect: an AF_UNIX stream socket polls writable while the
 * bytes it has sent and the peer has not read use at most a quarter of its
 * SO_SNDBUF. At nc_stack_sock_new() (sock_api.c) we write junk from the app end until it
 * no longer polls writable (about 130 kB of kernel memory sits in our
 * receive queue, counted in c->hold, until connect or listen). When a connect completes (or fails) we read and discard all
 * but one byte of it, which the application sees as POLLOUT. No SO_SNDBUF
 * change is needed, so nothing has to be restored on a fd we no longer
 * hold. A listen() discards all of it.
 *
 * Half-close: EOF on our end (EPOLLRDHUP: the app did shutdown(SHUT_WR) or
 * closed) -> once its data is all in lwIP, tcp_shutdown(TX) (a FIN). EPOLLHUP
 * (both directions of our end shut: the app closed every copy, or shut down
 * both ways) or EPIPE on write -> the app reads no more; once its data is
 * forwarded we tcp_close (lwIP sends RST if it had unread data, like a
 * kernel socket). Remote FIN -> after the queued data, shutdown(our end,
 * SHUT_WR): the app reads EOF. When both directions are done we hand the pcb
 * to lwIP with tcp_close (it must not reach TIME_WAIT in our hands: lwIP
 * frees TIME_WAIT pcbs without telling us) and, once the queued data is
 * written, drain and close our end and free the connection.
 *
 * Freed connections go to a graveyard that the bridge thread empties after
 * each epoll batch, so an event already fetched for them is harmless.
 * Connect completions are queued and run by the bridge thread after it has
 * released the lock (so done() may call back into the stack).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <netinet/in.h>

#include "stack/stack_internal.h"

static void conn_check(struct nc_conn *c);
static void conn_destroy(struct nc_conn *c, int reset);

/* ---- table ---- */

/* conn_hash() - bucket of an id */
static unsigned conn_hash(const struct nc_stack *st, uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 32) & (st->tab_size - 1);
}

/* nc_conn_find() - the live connection with this id, or NULL (lock held) */
struct nc_conn *nc_conn_find(struct nc_stack *st, uint64_t id)
{
	for (struct nc_conn *c = st->tab[conn_hash(st, id)]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

/* conn_insert() - add to the table, growing it (lock held) */
static void conn_insert(struct nc_stack *st, struct nc_conn *c)
{
	if (st->nconns >= st->tab_size) {
		unsigned nsize = st->tab_size * 2;
		struct nc_conn **nt = calloc(nsize, sizeof(*nt));
		if (nt) {
			struct nc_conn **ot = st->tab;
			unsigned osize = st->tab_size;
			st->tab = nt;
			st->tab_size = nsize;
			for (unsigned i = 0; i < osize; i++) {
				while (ot[i]) {
					struct nc_conn *x = ot[i];
					unsigned h = conn_hash(st, x->id);
					ot[i] = x->hnext;
					x->hnext = nt[h];
					nt[h] = x;
				}
			}
			free(ot);
		}
	}
	unsigned h = conn_hash(st, c->id);
	c->hnext = st->tab[h];
	st->tab[h] = c;
	st->nconns++;
}

/* conn_unlink() - remove from the table (lock held) */
static void conn_unlink(struct nc_stack *st, struct nc_conn *c)
{
	for (struct nc_conn **pp = &st->tab[conn_hash(st, c->id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			st->nconns--;
			return;
		}
	}
}

/* ---- connection life ---- */

/* nc_conn_new() - allocate a connection around our end @fd (not yet in the table) */
struct nc_conn *nc_conn_new(struct nc_stack *st, int fd, int family, uint64_t id)
{
	struct nc_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->st = st;
	c->fd = fd;
	c->family = family;
	c->id = id;
	c->state = NC_SOCK_NEW;
	c->rcvbuf = 131072;
	c->sndbuf = 16384;
	c->keepidle = 7200;
	c->keepintvl = 75;
	c->keepcnt = 9;
	c->backlog = 128;
	return c;
}

/* nc_conn_register() - table + epoll (lock held). Return: 0 or -errno.
 * EPOLLOUT is left out until a write to the app end first fills it
 * (conn_blocked): otherwise every read of ours by the application (each
 * response of a request/response exchange) would wake the bridge thread
 * for nothing. */
#define CONN_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)
int nc_conn_register(struct nc_stack *st, struct nc_conn *c)
{
	struct epoll_event ev = { .events = CONN_EVENTS, .data.ptr = c };

	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	conn_insert(st, c);
	return 0;
}

/* conn_blocked() - a write to our end found it full (lock held): wait for
 * EPOLLOUT from now on. Arming an edge-triggered fd that is already
 * writable again reports EPOLLOUT at once, so no wake-up is lost between
 * the EAGAIN and the epoll_ctl. Once armed it stays armed: a connection
 * that filled its reader once (a bulk transfer) will again. */
static void conn_blocked(struct nc_conn *c)
{
	struct epoll_event ev = { .events = CONN_EVENTS | EPOLLOUT, .data.ptr = c };

	c->can_write = 0;
	if (c->out_armed)
		return;
	if (epoll_ctl(c->st->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->out_armed = 1;
	else
		c->can_write = 1;	/* cannot wait for it: keep trying on every pass */
}

/* conn_tomb() - remember a freed socket's error and names (lock held) */
static void conn_tomb(struct nc_conn *c)
{
	struct nc_stack *st = c->st;
	struct nc_tomb *t = &st->tombs[st->tomb_next++ % NC_STACK_TOMBS];

	t->id = c->id;
	t->err = c->pending_err;
}

/* conn_queue_done() - queue a connect completion for the bridge thread */
static void conn_queue_done(struct nc_conn *c, int result)
{
	struct nc_stack *st = c->st;
	struct nc_done *d;

	if (!c->done)
		return;
	d = malloc(sizeof(*d));
	if (d) {
		d->next = NULL;
		d->fn = c->done;
		d->arg = c->done_arg;
		d->id = c->id;
		d->result = result;
		if (st->done_tail)
			st->done_tail->next = d;
		else
			st->done_head = d;
		st->done_tail = d;
		nc_stack_wake(st);
	}
	c->done = NULL;
}

/* conn_detach() - stop lwIP calling us about c's pcb; forget it */
static struct tcp_pcb *conn_detach(struct nc_conn *c)
{
	struct nc_stack *st = c->st;
	struct tcp_pcb *pcb = c->pcb;

	if (!pcb)
		return NULL;
	st->L.tcp_arg(pcb, NULL);
	if (c->state == NC_SOCK_LISTENING) {
		st->L.tcp_accept(pcb, NULL);
	} else {
		st->L.tcp_recv(pcb, NULL);
		st->L.tcp_sent(pcb, NULL);
		st->L.tcp_err(pcb, NULL);
	}
	/* keep the names for getsockname/getpeername after the pcb is gone */
	ip_addr_copy(c->local_ip, pcb->local_ip);
	c->local_port = pcb->local_port;
	if (c->state != NC_SOCK_LISTENING && c->has_remote) {
		ip_addr_copy(c->remote_ip, pcb->remote_ip);
		c->remote_port = pcb->remote_port;
	}
	c->pcb = NULL;
	return pcb;
}

/* conn_abort_pcb() - RST and drop the pcb. Not for the pcb of the lwIP
 * callback being run (those return ERR_ABRT through conn_cb_end). */
static void conn_abort_pcb(struct nc_conn *c)
{
	struct tcp_pcb *pcb = conn_detach(c);

	if (pcb)
		c->st->L.tcp_abort(pcb);
}

/* conn_recved() - the application took @n bytes: give the window back.
 * With a window beyond lwIP's TCP_WND (conn_grow_rcvwnd) this is what
 * tcp_recved() does, without its clamp to TCP_WND. */
static void conn_recved(struct nc_conn *c, uint32_t n)
{
	struct nc_stack *st = c->st;
	struct tcp_pcb *pcb = c->pcb;

	c->unrecved = n > c->unrecved ? 0 : c->unrecved - n;
	if (!pcb || !n)
		return;
	if (!c->rx_big) {
		while (n) {
			u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
			st->L.tcp_recved(pcb, k);
			n -= k;
		}
		return;
	}
	pcb->rcv_wnd = pcb->rcv_wnd + n > NC_RCV_TOTAL ? NC_RCV_TOTAL : pcb->rcv_wnd + n;
	if (st->L.tcp_update_rcv_ann_wnd(pcb) >= TCP_WND_UPDATE_THRESHOLD) {
		tcp_ack_now(pcb);
		st->L.tcp_output(pcb);
	}
}

/* conn_grow_rcvwnd() - a 128 kB receive window instead of lwIP's 64 kB.
 *
 * Debian's build has TCP_WND 0xFFFF but window scaling with TCP_RCV_SCALE
 * 1, so our SYN already tells the peer that our window field counts in
 * units of 2 bytes. lwIP checks arriving data against pcb->rcv_wnd and
 * announces rcv_ann_wnd, both 32-bit; only tcp_recved() (and tcp_close's
 * "all data read?" test, see conn_disown) clamp to TCP_WND. So once the
 * peer has agreed to scaling we add the difference to rcv_wnd and give
 * window back through conn_recved(). */
static void conn_grow_rcvwnd(struct nc_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if (!pcb || c->rx_big || !(pcb->flags & TF_WND_SCALE) || pcb->rcv_scale != TCP_RCV_SCALE)
		return;
	c->rx_big = 1;
	pcb->rcv_wnd += NC_RCV_TOTAL - TCP_WND_MAX(pcb);
	if (c->st->L.tcp_update_rcv_ann_wnd(pcb))
		tcp_ack_now(pcb);	/* sent when lwIP finishes this segment */
}

/* conn_disown() - graceful: hand the pcb to lwIP with tcp_close */
static void conn_disown(struct nc_conn *c)
{
	struct nc_stack *st = c->st;
	struct tcp_pcb *pcb;

	if (!c->pcb)
		return;
	/* after a FIN nothing more arrives: open the window for what is still
	 * queued for the app, else tcp_close would answer with a RST */
	if (c->remote_fin && c->unrecved && c->state == NC_SOCK_CONNECTED)
		conn_recved(c, c->unrecved);
	/* tcp_close resets when rcv_wnd is not TCP_WND (data left unread): say
	 * exactly that with our larger window */
	if (c->rx_big && c->state == NC_SOCK_CONNECTED)
		c->pcb->rcv_wnd = c->unrecved ? TCP_WND_MAX(c->pcb) - 1 : TCP_WND_MAX(c->pcb);
	pcb = conn_detach(c);
	if (st->L.tcp_close(pcb) != ERR_OK)
		st->L.tcp_abort(pcb);
	nc_tw_trim(st);	/* pcbs enter TIME_WAIT some time after their close */
}

/* conn_discard() - read and drop @n bytes of our receive queue */
static void conn_discard(struct nc_conn *c, unsigned n)
{
	while (n) {
		ssize_t r = read(c->fd, c->st->iobuf, n > NC_STACK_IOBUF ? NC_STACK_IOBUF : n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		n -= (unsigned)r;
	}
}

/* nc_conn_drain_all() - drop everything in our receive queue */
void nc_conn_drain_all(struct nc_conn *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->st->iobuf, NC_STACK_IOBUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	c->hold = 0;
}

/* rxq_free() - drop the data queued for the app */
static void rxq_free(struct nc_conn *c)
{
	if (c->rxq)
		c->st->L.pbuf_free(c->rxq);
	c->rxq = c->rxq_tail = NULL;
	c->rxq_off = 0;
	c->rxq_bytes = 0;
}

/* rxq_consume() - @n bytes were written to the app: free what is done */
static void rxq_consume(struct nc_conn *c, size_t n)
{
	c->rxq_bytes -= (uint32_t)n;
	while (c->rxq) {
		struct pbuf *q = c->rxq;
		size_t left = q->len - c->rxq_off;
		if (n < left) {
			c->rxq_off += (unsigned)n;
			return;
		}
		n -= left;
		c->rxq = q->next;
		q->next = NULL;
		c->rxq_off = 0;
		c->st->L.pbuf_free(q);
	}
	c->rxq_tail = NULL;
}

/* conn_destroy() - free a connection (lock held). @reset: the application
 * must see ECONNRESET (our queue is left non-empty: see the top of file);
 * otherwise our queue is drained first so it reads a clean EOF. */
static void conn_destroy(struct nc_conn *c, int reset)
{
	struct nc_stack *st = c->st;

	if (c->dead)
		return;
	c->dead = 1;
	if (c->pcb) {
		if (c->state == NC_SOCK_LISTENING) {
			struct tcp_pcb *lpcb = conn_detach(c);
			st->L.tcp_close(lpcb);	/* listen pcbs cannot be aborted */
		} else if (reset || c->state != NC_SOCK_CONNECTED)
			conn_abort_pcb(c);
		else
			conn_disown(c);
	}
	rxq_free(c);
	if (c->acc_owner) {
		/* reset before the application accepted it: drop its record */
		struct nc_conn *lc = c->acc_owner;
		struct nc_pending_accept **pp = &lc->acc_head, *prev = NULL;
		while (*pp && (*pp)->conn != c) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp) {
			struct nc_pending_accept *pa = *pp;
			*pp = pa->next;
			if (lc->acc_tail == pa)
				lc->acc_tail = prev;
			lc->acc_n--;
			close(pa->app_fd);
			free(pa);
		}
		c->acc_owner = NULL;
	}
	while (c->acc_head) {
		struct nc_pending_accept *pa = c->acc_head;
		c->acc_head = pa->next;
		pa->conn->acc_owner = NULL;
		close(pa->app_fd);
		conn_destroy(pa->conn, 1);
		free(pa);
	}
	c->acc_tail = NULL;
	c->acc_n = 0;
	if (c->state == NC_SOCK_CONNECTING)
		conn_queue_done(c, -ECONNABORTED);
	if (c->state == NC_SOCK_LISTENING)
		__atomic_sub_fetch(&st->listeners, 1, __ATOMIC_RELAXED);
	if (c->counted_open)
		__atomic_sub_fetch(&st->conns_open, 1, __ATOMIC_RELAXED);
	if (!reset)
		nc_conn_drain_all(c);
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = NC_SOCK_CLOSED;
	conn_tomb(c);
	conn_unlink(st, c);
	c->gnext = st->graveyard;
	st->graveyard = c;
}

/* ---- pumps ---- */

/* conn_app_noread() - the app can no longer read: drop what it would get */
static void conn_app_noread(struct nc_conn *c)
{
	c->app_noread = 1;
	rxq_free(c);
}

/* conn_pump_rx() - network -> app: write queued pbufs to our end */
static void conn_pump_rx(struct nc_conn *c)
{
	size_t total = 0;

	while (c->rxq && c->can_write && !c->app_noread) {
		struct iovec iov[64];
		int n = 0;
		unsigned off = c->rxq_off;
		for (struct pbuf *q = c->rxq; q && n < 64; q = q->next, off = 0) {
			if (q->len > off) {
				iov[n].iov_base = (uint8_t *)q->payload + off;
				iov[n].iov_len = q->len - off;
				n++;
			}
		}
		if (n == 0) {
			rxq_consume(c, 0);	/* only empty pbufs ahead: free them */
			continue;
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_blocked(c);
				break;
			}
			conn_app_noread(c);	/* EPIPE / ECONNRESET */
			break;
		}
		rxq_consume(c, (size_t)w);
		total += (size_t)w;
	}
	if (total)
		conn_recved(c, (uint32_t)total);
	if (!c->rxq && c->remote_fin && !c->fin_delivered && !c->app_noread) {
		shutdown(c->fd, SHUT_WR);
		c->fin_delivered = 1;
	}
}

/* conn_send_fin() - the app's data is all in lwIP and it sent EOF */
static void conn_send_fin(struct nc_conn *c)
{
	struct nc_stack *st = c->st;

	c->tx_fin = 1;
	if (!c->pcb)
		return;
	if (c->remote_fin || c->app_noread || st->L.tcp_shutdown(c->pcb, 0, 1) != ERR_OK)
		conn_disown(c);
	else
		st->L.tcp_output(c->pcb);
}

/* conn_pump_tx() - app -> network: move what the send buffer allows */
static void conn_pump_tx(struct nc_conn *c)
{
	struct nc_stack *st = c->st;
	int wrote = 0;

	while (c->pcb && !c->tx_fin && (c->can_read || c->app_eof)) {
		int avail = 0;
		if (ioctl(c->fd, SIOCINQ, &avail) < 0)
			avail = 0;
		if ((unsigned)avail <= c->hold) {
			c->can_read = 0;
			if (c->app_eof)
				conn_send_fin(c);
			break;
		}
		unsigned win = tcp_sndbuf(c->pcb);
		unsigned qlen = c->pcb->snd_queuelen;
		unsigned qfree = TCP_SND_QUEUELEN > qlen ? TCP_SND_QUEUELEN - qlen : 0;
		unsigned mss = c->pcb->mss ? c->pcb->mss : TCP_MSS;
		if (qfree < 4)
			win = 0;
		else if (win > (qfree - 3) * mss)
			win = (qfree - 3) * mss;
		if (win > 0xffff)
			win = 0xffff;
		if (win == 0)
			break;	/* tcp_sent() calls us again */
		unsigned all = (unsigned)avail - c->hold, k = all;
		if (k > win)
			k = win;
		if (c->hold > 1) {
			conn_discard(c, c->hold - 1);
			c->hold = 1;
		}
		/* consume the held byte(s) and all but the last new byte, then
		 * peek that one: it is the next held byte */
		unsigned want = c->hold + k - 1;
		size_t r = 0;
		while (r < want) {	/* a stream read may stop at an skb boundary */
			ssize_t n = read(c->fd, st->iobuf + r, want - r);
			if (n > 0) {
				r += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (r == 0 && !(n < 0 && errno == EAGAIN)) {
				conn_app_noread(c);
				c->app_eof = 1;
				goto out;
			}
			break;
		}
		if (r < want) {
			/* the queue shrank under us (cannot happen): send what we
			 * got, hold nothing */
			if (r > c->hold) {
				if (st->L.tcp_write(c->pcb, st->iobuf + c->hold, (u16_t)(r - c->hold),
						    TCP_WRITE_FLAG_COPY) != ERR_OK)
					goto fail;
				wrote = 1;
			}
			c->hold = r ? 0 : c->hold;
			if (!r)
				break;
			continue;
		}
		if (recv(c->fd, st->iobuf + want, 1, MSG_PEEK | MSG_DONTWAIT) != 1) {
			/* queue emptied under us: send the k-1 new bytes read */
			if (k > 1) {
				if (st->L.tcp_write(c->pcb, st->iobuf + c->hold, (u16_t)(k - 1),
						    TCP_WRITE_FLAG_COPY) != ERR_OK)
					goto fail;
				wrote = 1;
			}
			c->hold = 0;
			continue;
		}
		if (st->L.tcp_write(c->pcb, st->iobuf + c->hold, (u16_t)k, TCP_WRITE_FLAG_COPY) != ERR_OK)
			goto fail;
		c->hold = 1;
		wrote = 1;
		/* took all there was: bytes that arrive later raise a new
		 * (edge-triggered) EPOLLIN, no need to ask SIOCINQ again */
		if (k == all && !c->app_eof) {
			c->can_read = 0;
			break;
		}
	}
out:
	if (wrote && c->pcb)
		st->L.tcp_output(c->pcb);
	return;
fail:
	/* out of memory in lwIP with bytes already taken from the app: the
	 * stream cannot continue intact */
	c->pending_err = ENOMEM;
	c->abort_req = 1;
}

/* conn_check() - advance the end-of-connection state machine (lock held) */
static void conn_check(struct nc_conn *c)
{
	if (c->dead || c->state != NC_SOCK_CONNECTED)
		return;
	if (c->app_noread && !c->tx_fin && !c->pcb)
		c->tx_fin = 1;
	if (c->pcb && c->tx_fin && (c->remote_fin || c->app_noread) && !c->in_cb)
		conn_disown(c);
	if (c->pcb && c->tx_fin && (c->remote_fin || c->app_noread) && c->in_cb)
		c->disown_req = 1;
	if (!c->pcb && c->tx_fin && (c->fin_delivered || c->app_noread))
		conn_destroy(c, 0);
}

/* conn_service() - pump both ways and check for the end */
static void conn_service(struct nc_conn *c)
{
	if (c->dead || c->state != NC_SOCK_CONNECTED)
		return;
	if (c->rxq || (c->remote_fin && !c->fin_delivered))
		conn_pump_rx(c);
	conn_pump_tx(c);
	conn_check(c);
}

/* conn_service_now() - conn_service() outside any lwIP callback, where a
 * reset it asked for is carried out at once */
static void conn_service_now(struct nc_conn *c)
{
	if (c->dead)
		return;
	conn_service(c);
	if (c->abort_req) {
		c->abort_req = 0;
		conn_destroy(c, 1);
	}
}

/* ---- lwIP callbacks (lock held) ---- */

/* conn_cb_begin() / conn_cb_end() - bracket work on the pcb of the current
 * callback: aborting it must be signalled to lwIP with ERR_ABRT */
static void conn_cb_begin(struct nc_conn *c)
{
	c->in_cb = 1;
}

static err_t conn_cb_end(struct nc_conn *c)
{
	struct nc_stack *st = c->st;

	c->in_cb = 0;
	if (c->abort_req && c->pcb) {
		struct tcp_pcb *pcb = conn_detach(c);
		c->abort_req = 0;
		st->L.tcp_abort(pcb);
		conn_destroy(c, 1);
		return ERR_ABRT;
	}
	c->abort_req = 0;
	if (c->disown_req) {
		c->disown_req = 0;
		conn_disown(c);
		conn_check(c);
	}
	return ERR_OK;
}

/*
 * conn_defer() - service c outside this callback, with whatever else arrives
 * meanwhile: at the end of the input batch being fed (nc_bridge_batch_end),
 * else when the bridge thread wakes (nc_bridge_reap), which is woken here
 * when the list goes non-empty
 */
static void conn_defer(struct nc_conn *c)
{
	struct nc_stack *st = c->st;
	int was_empty = st->rx_dirty == NULL;

	if (c->rx_sched)
		return;
	c->rx_sched = 1;
	c->dnext = st->rx_dirty;
	st->rx_dirty = c;
	if (was_empty && !st->batching)
		nc_stack_wake(st);
}

/* conn_recv_cb() - data or FIN (p == NULL) from the peer */
static err_t conn_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct nc_conn *c = arg;

	if (!c)
		return p ? ERR_VAL : ERR_OK;	/* detached: cannot happen */
	if (!p) {
		c->remote_fin = 1;
		if (c->st->batching) {
			conn_defer(c);
			return ERR_OK;
		}
	} else if (c->app_noread) {
		c->unrecved += p->tot_len;
		conn_recved(c, p->tot_len);
		c->st->L.pbuf_free(p);
		return ERR_OK;
	} else {
		c->unrecved += p->tot_len;
		c->rxq_bytes += p->tot_len;
		if (c->rxq_tail)
			c->rxq_tail->next = p;
		else
			c->rxq = p;
		struct pbuf *t = p;
		while (t->next)
			t = t->next;
		c->rxq_tail = t;
		/* inside a batch of input frames: one write at its end, PSH or
		 * not (a batch is at most 64 frames) */
		/* segments without PSH are written by the bridge thread once it
		 * wakes up, together with whatever followed them */
		if (c->st->batching ||
		    (!(p->flags & PBUF_FLAG_PUSH) && c->rxq_bytes < 32768 && c->can_write)) {
			conn_defer(c);
			return ERR_OK;
		}
	}
	conn_cb_begin(c);
	conn_pump_rx(c);
	conn_check(c);
	return conn_cb_end(c);
}

/* conn_sent_cb() - the peer acked data: there is send buffer again */
static err_t conn_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct nc_conn *c = arg;

	if (!c)
		return ERR_OK;
	/* refill in large pieces, not one read per ACK: wait until a quarter
	 * of the send buffer is free, unless lwIP is about to run dry */
	if (c->pcb && tcp_sndbuf(c->pcb) < NC_SND_TOTAL / 4 && !c->app_eof)
		return ERR_OK;
	if (c->st->batching) {	/* once, after every ACK of the batch */
		conn_defer(c);
		return ERR_OK;
	}
	conn_cb_begin(c);
	conn_pump_tx(c);
	conn_check(c);
	return conn_cb_end(c);
}

/* conn_err_cb() - lwIP freed the pcb: reset, timeout, refused */
static void conn_err_cb(void *arg, err_t err)
{
	struct nc_conn *c = arg;

	if (!c)
		return;
	c->pcb = NULL;
	if (c->state == NC_SOCK_CONNECTING) {
		int res = err == ERR_ABRT ? -ETIMEDOUT : -ECONNREFUSED;
		c->pending_err = -res;
		c->state = NC_SOCK_CLOSED;
		if (c->hold > 1) {
			conn_discard(c, c->hold - 1);
			c->hold = 1;
		}
		conn_queue_done(c, res);
		return;
	}
	if (c->state != NC_SOCK_CONNECTED)
		return;
	if (err == ERR_CLSD) {
		/* closed after both FINs (we had only shut down TX) */
		c->tx_fin = 1;
		c->remote_fin = 1;
		conn_pump_rx(c);
		conn_check(c);
		return;
	}
	c->pending_err = err == ERR_ABRT ? ETIMEDOUT : ECONNRESET;
	conn_destroy(c, 1);
}

/* nc_conn_set_callbacks() - route a connected pcb's events to c */
void nc_conn_set_callbacks(struct nc_conn *c)
{
	struct nc_stack *st = c->st;

	st->L.tcp_arg(c->pcb, c);
	st->L.tcp_recv(c->pcb, conn_recv_cb);
	st->L.tcp_sent(c->pcb, conn_sent_cb);
	st->L.tcp_err(c->pcb, conn_err_cb);
}

/* conn_grow_sndbuf() - a larger send buffer than Debian's build gives.
 *
 * TCP_SND_BUF is 64 kB, which caps what is in flight to a peer with a large
 * window (a kernel stack) at 64 kB per round trip. lwIP keeps snd_buf only
 * as a credit that tcp_write() spends and ACKs give back (tcp_receive adds
 * recv_acked, without a cap), so raising it once on an established pcb
 * simply makes the buffer larger; the queue stays within TCP_SND_QUEUELEN
 * pbufs, which conn_pump_tx() respects. */
static void conn_grow_sndbuf(struct nc_conn *c)
{
	if (!c->pcb)
		return;
	c->pcb->snd_buf += NC_SND_TOTAL - TCP_SND_BUF;
	/* lwIP starts ssthresh at TCP_SND_BUF: let slow start reach the rest */
	if (c->pcb->ssthresh < NC_SND_TOTAL)
		c->pcb->ssthresh = NC_SND_TOTAL;
}

/* nc_conn_connected_cb() - our SYN was answered */
err_t nc_conn_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct nc_conn *c = arg;
	struct nc_stack *st;

	if (!c)
		return ERR_OK;
	st = c->st;
	c->state = NC_SOCK_CONNECTED;
	conn_grow_sndbuf(c);
	conn_grow_rcvwnd(c);
	c->counted_open = 1;
	__atomic_add_fetch(&st->conns_open, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st->conns_total, 1, __ATOMIC_RELAXED);
	/* the app end becomes writable: drop the junk but one held byte */
	if (c->hold > 1) {
		conn_discard(c, c->hold - 1);
		c->hold = 1;
	}
	c->can_read = c->can_write = 1;
	conn_queue_done(c, 0);
	conn_cb_begin(c);
	conn_service(c);
	return conn_cb_end(c);
}

/* listener_flush() - send pending accept records with their fds */
static void listener_flush(struct nc_conn *lc)
{
	while (lc->acc_head && !lc->dead) {
		struct nc_pending_accept *pa = lc->acc_head;
		struct nc_accept_rec rec;
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} cm;
		struct iovec iov = { .iov_base = &rec, .iov_len = sizeof(rec) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
		struct cmsghdr *ch;
		const ip_addr_t *rip;
		u16_t rport;
		socklen_t alen;

		memset(&rec, 0, sizeof(rec));
		memset(&cm, 0, sizeof(cm));
		rec.magic = NC_ACCEPT_MAGIC;
		if (pa->conn->pcb) {
			rip = &pa->conn->pcb->remote_ip;
			rport = pa->conn->pcb->remote_port;
		} else {
			rip = &pa->conn->remote_ip;
			rport = pa->conn->remote_port;
		}
		nc_addr_to_sa(lc->family, rip, rport, &rec.peer, &alen);
		rec.addrlen = alen;
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &pa->app_fd, sizeof(int));
		ssize_t r = sendmsg(lc->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				conn_blocked(lc);
			break;	/* or the app is gone: its HUP closes the listener */
		}
		close(pa->app_fd);
		pa->conn->acc_owner = NULL;
		lc->acc_head = pa->next;
		if (!lc->acc_head)
			lc->acc_tail = NULL;
		lc->acc_n--;
		free(pa);
	}
}

/* bridge_app_sndbuf() - size the app end's SO_SNDBUF for the held byte.
 *
 * The held byte keeps the whole skb it belongs to in our queue, charged to
 * the app end. An AF_UNIX stream skb carries up to MAX_SKB_FRAGS (17) pages
 * plus a linear part, or 17 spliced pages with sendfile(): about 90 kB of
 * truesize. The app end polls writable only while 4 * wmem <= sk_sndbuf, so
 * with the default 212992 a poll()-driven writer whose last write left one
 * such skb pinned would wait forever. Ask for 256 kB (the kernel doubles it,
 * within net.core.wmem_max; 212992 -> 425984 is still enough), or force it
 * when the limit is lower and we may. */
static void bridge_app_sndbuf(int fd)
{
	int v = 1 << 18, got = 0;
	socklen_t l = sizeof(got);

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &l) == 0 && got < 4 * 96 * 1024)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
}

/* nc_bridge_pair() - a socketpair for a socket: *app (blocking), *ours
 * (non-blocking), both close-on-exec, and the app end's inode */
int nc_bridge_pair(int *app, int *ours, uint64_t *id)
{
	int sv[2];
	struct stat sb;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	bridge_app_sndbuf(sv[0]);
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fstat(sv[0], &sb) < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	*app = sv[0];
	*ours = sv[1];
	*id = (uint64_t)sb.st_ino;
	return 0;
}

/* nc_conn_accept_cb() - lwIP accepted a connection on a listener */
err_t nc_conn_accept_cb(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct nc_conn *lc = arg;
	struct nc_stack *st;
	struct nc_pending_accept *pa;
	struct nc_conn *c;
	int app, ours;
	uint64_t id;

	if (!lc || err != ERR_OK || !newpcb)
		return ERR_VAL;
	st = lc->st;
	nc_tw_trim(st);	/* a server that closes first fills TIME_WAIT too */
	if (lc->acc_n >= (unsigned)(lc->backlog > 0 ? lc->backlog : 1))
		goto refuse;
	if (nc_bridge_pair(&app, &ours, &id) < 0)
		goto refuse;
	/* the first held byte (see the top of the file) */
	if (send(app, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
		goto refuse_fds;
	c = nc_conn_new(st, ours, lc->family, id);
	pa = malloc(sizeof(*pa));
	if (!c || !pa) {
		free(c);
		free(pa);
		goto refuse_fds;
	}
	c->hold = 1;
	c->state = NC_SOCK_CONNECTED;
	c->pcb = newpcb;
	c->has_remote = 1;
	c->nodelay = lc->nodelay;
	c->keepalive = lc->keepalive;
	c->keepidle = lc->keepidle;
	c->keepintvl = lc->keepintvl;
	c->keepcnt = lc->keepcnt;
	c->rcvbuf = lc->rcvbuf;
	c->sndbuf = lc->sndbuf;
	c->linger = lc->linger;
	c->can_read = c->can_write = 1;
	if (nc_conn_register(st, c) < 0) {
		free(c);
		free(pa);
		goto refuse_fds;
	}
	nc_conn_set_callbacks(c);
	nc_opts_apply(st, c);
	conn_grow_sndbuf(c);
	conn_grow_rcvwnd(c);
	c->counted_open = 1;
	__atomic_add_fetch(&st->conns_open, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st->conns_total, 1, __ATOMIC_RELAXED);
	pa->next = NULL;
	pa->conn = c;
	pa->app_fd = app;
	c->acc_owner = lc;
	if (lc->acc_tail)
		lc->acc_tail->next = pa;
	else
		lc->acc_head = pa;
	lc->acc_tail = pa;
	lc->acc_n++;
	listener_flush(lc);
	return ERR_OK;
refuse_fds:
	close(app);
	close(ours);
refuse:
	st->L.tcp_abort(newpcb);
	return ERR_ABRT;
}

/* ---- bridge thread entry points ---- */

/**
 * nc_bridge_event() - epoll reported @events on c's end (lock held)
 * @st:		stack
 * @c:		connection (possibly already freed into the graveyard)
 * @events:	EPOLL* bits
 */
void nc_bridge_event(struct nc_stack *st, struct nc_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & EPOLLIN)
		c->can_read = 1;
	if (events & EPOLLOUT)
		c->can_write = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		c->app_eof = 1;
	switch (c->state) {
	case NC_SOCK_NEW:
	case NC_SOCK_BOUND:
	case NC_SOCK_CONNECTING:
	case NC_SOCK_CLOSED:
		if (events & EPOLLHUP)
			conn_destroy(c, 0);
		return;
	case NC_SOCK_LISTENING:
		if (events & EPOLLHUP) {
			conn_destroy(c, 0);
			return;
		}
		if (c->can_read) {
			nc_conn_drain_all(c);	/* nothing is expected from the app here */
			c->can_read = 0;
		}
		if (c->can_write)
			listener_flush(c);
		return;
	case NC_SOCK_CONNECTED:
		break;
	}
	if (events & EPOLLHUP) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		conn_app_noread(c);
		/* closed with unread data, or SO_LINGER {1, 0}: reset, like the kernel */
		if (soerr == ECONNRESET || (c->linger.l_onoff && c->linger.l_linger == 0)) {
			conn_destroy(c, 1);
			return;
		}
	}
	conn_service_now(c);
}

/**
 * nc_bridge_reap() - free the graveyard, then run queued completions
 * @st:	stack, locked on entry, UNLOCKED on return
 */
void nc_bridge_reap(struct nc_stack *st)
{
	struct nc_conn *g;
	struct nc_done *d;

	nc_bridge_batch_end(st);	/* what callbacks deferred */
	g = st->graveyard;
	d = st->done_head;
	st->graveyard = NULL;
	st->done_head = st->done_tail = NULL;
	nc_stack_unlock(st);
	while (g) {
		struct nc_conn *next = g->gnext;
		free(g);
		g = next;
	}
	while (d) {
		struct nc_done *next = d->next;
		d->fn(d->arg, d->id, d->result);
		free(d);
		d = next;
	}
}

/**
 * nc_bridge_batch_end() - service the connections callbacks deferred
 * (conn_defer): at the end of an input batch, and from nc_bridge_reap()
 * @st:	stack (lock held)
 *
 * Outside any lwIP callback, as the bridge thread does: a connection freed
 * meanwhile is dead and waits in the graveyard, which only nc_bridge_reap()
 * empties, after this.
 */
void nc_bridge_batch_end(struct nc_stack *st)
{
	struct nc_conn *c = st->rx_dirty;

	st->rx_dirty = NULL;
	while (c) {
		struct nc_conn *next = c->dnext;
		c->rx_sched = 0;
		conn_service_now(c);
		c = next;
	}
}

/* nc_bridge_abort_all() - reset every socket (lock held; at shutdown) */
void nc_bridge_abort_all(struct nc_stack *st)
{
	for (unsigned i = 0; i < st->tab_size; i++) {
		while (st->tab[i])
			conn_destroy(st->tab[i], 1);
	}
}

