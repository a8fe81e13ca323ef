/* sock_api.c - the nc_stack_sock_* entry points (any thread; each takes
 * the instance lock). The data path behind them is in tcp_bridge.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "stack/stack_internal.h"

static const uint8_t sock_junk[131072];
/**
 * nc_stack_sock_new() - a new TCP socket
 * @st:		stack
 * @family:	AF_INET or AF_INET6
 * @app_fd:	the application's end (blocking, close-on-exec)
 * @id:		its inode
 *
 * Return: 0 or -errno
 */
int nc_stack_sock_new(struct nc_stack *st, int family, int *app_fd, uint64_t *id)
{
	struct nc_conn *c;
	int app, ours, err;
	uint64_t ino;
	unsigned junk = 0;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	err = nc_bridge_pair(&app, &ours, &ino);
	if (err)
		return err;
	/* make the app end unwritable until a connect completes: it polls
	 * writable while 4 * (bytes charged) <= SO_SNDBUF, so a quarter of it
	 * plus room for skb overhead does it in one write (checked by poll) */
	int sb = 0;
	socklen_t sbl = sizeof(sb);
	size_t first = sizeof(sock_junk);
	if (getsockopt(app, SOL_SOCKET, SO_SNDBUF, &sb, &sbl) == 0 && sb > 0 &&
	    (size_t)sb / 4 + 8192 < first)
		first = (size_t)sb / 4 + 8192;
	for (int i = 0; i < 64; i++) {
		ssize_t w = send(app, sock_junk, i ? 16384 : first, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			break;
		junk += (unsigned)w;
		struct pollfd pf = { .fd = app, .events = POLLOUT };
		if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLOUT))
			break;
	}
	c = nc_conn_new(st, ours, family, ino);
	if (!c) {
		close(app);
		close(ours);
		return -ENOMEM;
	}
	c->hold = junk;
	nc_stack_lock(st);
	err = nc_conn_register(st, c);
	nc_stack_unlock(st);
	if (err) {
		free(c);
		close(app);
		close(ours);
		return err;
	}
	*app_fd = app;
	*id = ino;
	return 0;
}

/* conn_make_pcb() - create c's pcb for a local or remote address @ip */
static int conn_make_pcb(struct nc_stack *st, struct nc_conn *c, const ip_addr_t *ip)
{
	u8_t type;

	if (c->pcb)
		return 0;
	if (c->family == AF_INET)
		type = IPADDR_TYPE_V4;
	else if (ip && IP_IS_V4(ip) && IP_GET_TYPE(ip) == IPADDR_TYPE_V4)
		type = c->v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4;
	else if (c->v6only || (ip && !ip_addr_isany(ip)))
		type = IPADDR_TYPE_V6;
	else
		type = IPADDR_TYPE_ANY;
	c->pcb = st->L.tcp_new_ip_type(type);
	if (!c->pcb)
		return -ENOMEM;
	st->L.tcp_arg(c->pcb, c);
	nc_opts_apply(st, c);
	return 0;
}

/* conn_lookup() - the socket @id, locked; NULL (unlocked) if unknown */
static struct nc_conn *conn_lookup(struct nc_stack *st, uint64_t id)
{
	struct nc_conn *c;

	nc_stack_lock(st);
	c = nc_conn_find(st, id);
	if (!c)
		nc_stack_unlock(st);
	return c;
}


/**
 * nc_stack_sock_bind() - bind to a virtual address and port (0: ephemeral)
 * Return: 0 or -errno (-EADDRNOTAVAIL, -EADDRINUSE, -EINVAL)
 */
int nc_stack_sock_bind(struct nc_stack *st, uint64_t id, const struct sockaddr *sa, socklen_t len)
{
	struct nc_conn *c;
	ip_addr_t ip;
	u16_t port = 0;
	int err;

	c = conn_lookup(st, id);
	if (!c)
		return -ENOENT;
	err = nc_addr_from_sa(st, c->family, sa, len, &ip, &port);
	if (err)
		goto out;
	if (c->state != NC_SOCK_NEW) {
		err = -EINVAL;
		goto out;
	}
	if (IP_IS_V4(&ip) && c->family == AF_INET6 && c->v6only) {
		err = -EINVAL;
		goto out;
	}
	if (ip_addr_isany(&ip) && c->family == AF_INET6 && IP_IS_V6(&ip))
		nc_addr_any(c, &ip);
	if (!nc_addr_is_local(st, &ip)) {
		err = -EADDRNOTAVAIL;
		goto out;
	}
	err = conn_make_pcb(st, c, &ip);
	if (err)
		goto out;
	if (port)
		err = nc_addr_errno(st->L.tcp_bind(c->pcb, &ip, port));
	else
		err = nc_port_bind(st, c->pcb, &ip, NULL, 0);
	if (!err)
		c->state = NC_SOCK_BOUND;
out:
	nc_stack_unlock(st);
	return err;
}

/**
 * nc_stack_sock_listen() - start accepting (binds to any:ephemeral if unbound)
 * Return: 0 or -errno
 */
int nc_stack_sock_listen(struct nc_stack *st, uint64_t id, int backlog)
{
	struct nc_conn *c;
	struct tcp_pcb *lpcb;
	err_t le = ERR_OK;
	int err = 0;

	c = conn_lookup(st, id);
	if (!c)
		return -ENOENT;
	if (backlog <= 0)
		backlog = 1;
	if (c->state == NC_SOCK_LISTENING) {
		c->backlog = backlog;
		goto out;
	}
	if (c->state != NC_SOCK_NEW && c->state != NC_SOCK_BOUND) {
		err = -EINVAL;
		goto out;
	}
	if (c->state == NC_SOCK_NEW) {
		ip_addr_t any;
		nc_addr_any(c, &any);
		err = conn_make_pcb(st, c, &any);
		if (!err)
			err = nc_port_bind(st, c->pcb, &any, NULL, 0);
		if (err)
			goto out;
		c->state = NC_SOCK_BOUND;
	}
	lpcb = st->L.tcp_listen_with_backlog_and_err(c->pcb, (u8_t)(backlog > 255 ? 255 : backlog), &le);
	if (!lpcb) {
		err = le == ERR_USE ? -EADDRINUSE : nc_addr_errno(le);
		if (!err)
			err = -ENOMEM;
		goto out;
	}
	c->pcb = lpcb;
	c->backlog = backlog;
	c->state = NC_SOCK_LISTENING;
	st->L.tcp_arg(lpcb, c);
	st->L.tcp_accept(lpcb, nc_conn_accept_cb);
	nc_conn_drain_all(c);
	/* keep only a few records in the socket itself, so that the backlog
	 * (our queue of connections the application has not taken) means
	 * about what it means for a kernel socket */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){ 1 }, sizeof(int));
	c->can_write = 1;
	__atomic_add_fetch(&st->listeners, 1, __ATOMIC_RELAXED);
out:
	nc_stack_unlock(st);
	return err;
}

/**
 * nc_stack_sock_connect() - start connecting; done() reports the result
 * Return: 0 if started, or -errno (-ENETUNREACH, -EISCONN, -EALREADY, ...)
 */
int nc_stack_sock_connect(struct nc_stack *st, uint64_t id, const struct sockaddr *sa,
			  socklen_t len, nc_stack_connect_done_fn done, void *arg)
{
	struct nc_conn *c;
	ip_addr_t ip;
	u16_t port = 0;
	int err;

	c = conn_lookup(st, id);
	if (!c)
		return -ENOENT;
	err = nc_addr_from_sa(st, c->family, sa, len, &ip, &port);
	if (err)
		goto out;
	if (c->state == NC_SOCK_CONNECTING) {
		err = -EALREADY;
		goto out;
	}
	if (c->state == NC_SOCK_CONNECTED) {
		err = -EISCONN;
		goto out;
	}
	if (c->state == NC_SOCK_LISTENING || c->state == NC_SOCK_CLOSED) {
		err = c->state == NC_SOCK_CLOSED && c->pending_err ? -c->pending_err : -EINVAL;
		goto out;
	}
	if (port == 0 || ip_addr_isany(&ip)) {
		err = port == 0 ? -ECONNREFUSED : -ENETUNREACH;
		goto out;
	}
	if ((IP_IS_V4(&ip) && c->family == AF_INET6 && c->v6only) || !nc_addr_onlink(st, &ip)) {
		err = -ENETUNREACH;
		goto out;
	}
	if (c->pcb && IP_GET_TYPE(&c->pcb->local_ip) != IPADDR_TYPE_ANY &&
	    IP_IS_V4(&c->pcb->local_ip) != IP_IS_V4(&ip)) {
		err = -ENETUNREACH;	/* bound to the other family */
		goto out;
	}
	err = conn_make_pcb(st, c, &ip);
	if (err)
		goto out;
	if (!c->pcb->local_port) {
		/* our choice of port, not lwIP's (sock_port.c) */
		ip_addr_t local;

		ip_addr_copy(local, c->pcb->local_ip);
		err = nc_port_bind(st, c->pcb, &local, &ip, port);
		if (err)
			goto out;
	}
	nc_conn_set_callbacks(c);
	c->done = done;
	c->done_arg = arg;
	c->has_remote = 1;
	c->state = NC_SOCK_CONNECTING;
	err = nc_addr_errno(st->L.tcp_connect(c->pcb, &ip, port, nc_conn_connected_cb));
	if (err) {
		c->done = NULL;
		c->state = c->pcb->local_port ? NC_SOCK_BOUND : NC_SOCK_NEW;
		c->has_remote = 0;
	}
out:
	nc_stack_unlock(st);
	return err;
}

/* sock_tomb_find() - the tombstone of a recently finished socket (lock held) */
static struct nc_tomb *sock_tomb_find(struct nc_stack *st, uint64_t id)
{
	for (unsigned i = 0; id && i < NC_STACK_TOMBS; i++)
		if (st->tombs[i].id == id)
			return &st->tombs[i];
	return NULL;
}

/* nc_stack_sock_error() - pending error for SO_ERROR as a positive errno
 * (0 when none); clears it. -ENOENT for an unknown socket. */
int nc_stack_sock_error(struct nc_stack *st, uint64_t id)
{
	struct nc_conn *c;
	struct nc_tomb *t;
	int e = -ENOENT;

	nc_stack_lock(st);
	c = nc_conn_find(st, id);
	if (c) {
		e = c->pending_err;
		c->pending_err = 0;
	} else if ((t = sock_tomb_find(st, id)) != NULL) {
		e = t->err;
		t->err = 0;
	}
	nc_stack_unlock(st);
	return e;
}

/* nc_stack_sock_state() - NC_SOCK_* or -ENOENT */
int nc_stack_sock_state(struct nc_stack *st, uint64_t id)
{
	struct nc_conn *c;
	int s = -ENOENT;

	nc_stack_lock(st);
	c = nc_conn_find(st, id);
	if (c) {
		s = c->state;
	} else if (sock_tomb_find(st, id)) {
		s = NC_SOCK_CLOSED;
	}
	nc_stack_unlock(st);
	return s;
}

/**
 * nc_stack_sock_name() - local (@peer 0) or remote address, in the socket's family
 * Return: 0, -ENOTCONN (no peer), -ENOENT
 */
int nc_stack_sock_name(struct nc_stack *st, uint64_t id, int peer, struct sockaddr_storage *sa,
		       socklen_t *len)
{
	struct nc_conn *c;
	ip_addr_t ip;
	u16_t port;
	socklen_t l;
	int family;

	c = conn_lookup(st, id);
	if (!c)
		return -ENOENT;
	family = c->family;
	if (peer) {
		if (!c->has_remote || c->state == NC_SOCK_CONNECTING ||
		    (c->state == NC_SOCK_CLOSED && !c->pcb && c->remote_port == 0)) {
			nc_stack_unlock(st);
			return -ENOTCONN;
		}
		if (c->pcb) {
			ip_addr_copy(ip, c->pcb->remote_ip);
			port = c->pcb->remote_port;
		} else {
			ip_addr_copy(ip, c->remote_ip);
			port = c->remote_port;
		}
	} else if (c->pcb) {
		ip_addr_copy(ip, c->pcb->local_ip);
		port = c->pcb->local_port;
	} else if (c->local_port || !ip_addr_isany(&c->local_ip)) {
		ip_addr_copy(ip, c->local_ip);
		port = c->local_port;
	} else {
		nc_addr_any(c, &ip);
		port = 0;
	}
	nc_stack_unlock(st);
	nc_addr_to_sa(family, &ip, port, sa, &l);
	*len = l;
	return 0;
}
