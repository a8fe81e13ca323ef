/* nc_rpcd.c - the netcon RPC server of one network (rpc/nc_rpcd.h).
 *
 * Theory of operation
 *
 * One thread per server runs an epoll loop over three kinds of fd: the
 * listening SOCK_SEQPACKET socket, an eventfd that asks the thread to stop,
 * and one connected socket per client (an intercepted process). Each
 * datagram is one request (include/nc_rpc.h); the thread decodes it, acts on
 * the nc_stack, and replies on the same socket. A client that sends anything
 * malformed, or does not read its replies, is closed; the others go on.
 *
 * A blocking CONNECT is the one request whose reply is deferred: the stack
 * calls our done() later from one of its own threads. The pending reply
 * therefore holds a reference on the client, and every send to a client, and
 * the close of its fd, happens under the client's mutex. If the client went
 * away meanwhile (fd already -1), done() just drops the reply. The client
 * struct is freed when the last reference goes, whichever thread that is.
 *
 * Sockets are named by the inode of the application's end of their
 * socketpair: every request about an existing socket carries that fd, the
 * server fstat()s it and closes its copy at once (the stack notices when the
 * last copy is gone, so the server must never hold one longer than a
 * request).
 */
#include "rpc/nc_rpcd.h"
#include "nc_rpc.h"
#include "stack/stack.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RPCD_MAX_EVENTS		32
#define RPCD_BATCH		16	/* requests handled per client per wakeup */

struct rpcd_client {
	pthread_mutex_t mu;		/* guards fd against done() on stack threads */
	int fd;				/* -1 once closed */
	atomic_int refs;
	struct rpcd_client *prev, *next;	/* server thread only */
};

struct nc_rpcd {
	struct nc_stack *st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, efd, ep;
	uid_t uid;
	pthread_t thread;
	struct rpcd_client *clients;	/* server thread only (and free after join) */
	/* for /metrics: written by the server thread, read by anyone */
	_Atomic uint64_t n_open, n_admitted, n_refused, n_requests, n_malformed;
};

/* a deferred blocking-CONNECT reply */
struct rpcd_pending {
	struct rpcd_client *c;
	uint32_t req_id;
};

/* tags for the epoll data of the two non-client fds */
static char rpcd_tag_listen, rpcd_tag_stop;

/* rpcd_client_unref() - drop a reference; free the client with the last one */
static void rpcd_client_unref(struct rpcd_client *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		pthread_mutex_destroy(&c->mu);
		free(c);
	}
}

/* rpcd_client_send() - send one message to c under its mutex, never blocking.
 * A client whose buffer is full is not reading its replies: shut it down so
 * the server thread reaps it. Return 0 or -errno. */
static int rpcd_client_send(struct rpcd_client *c, struct nc_rpc_msg *m, int fd)
{
	int rc = -EPIPE;

	pthread_mutex_lock(&c->mu);
	if (c->fd >= 0) {
		rc = nc_rpc_send(c->fd, m, fd, MSG_DONTWAIT);
		if (rc)
			shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* rpcd_reply_err() - a reply carrying only err (0 or errno) */
static int rpcd_reply_err(struct rpcd_client *c, const struct nc_rpc_msg *req, int err)
{
	struct nc_rpc_msg r;

	nc_rpc_msg_init(&r, (uint8_t)(req->type | NC_RPC_REPLY), req->id);
	r.err = (uint32_t)err;
	return rpcd_client_send(c, &r, -1);
}

/* rpcd_connect_done() - stack callback for a blocking CONNECT: send the
 * deferred reply (stack thread). */
static void rpcd_connect_done(void *arg, uint64_t id, int result)
{
	struct rpcd_pending *p = arg;
	struct nc_rpc_msg r;

	nc_rpc_msg_init(&r, NC_RPC_CONNECT | NC_RPC_REPLY, p->req_id);
	r.err = (uint32_t)(result < 0 ? -result : 0);
	rpcd_client_send(p->c, &r, -1);
	rpcd_client_unref(p->c);
	free(p);
}

/* rpcd_connect_ignore() - stack callback for a non-blocking CONNECT: the
 * application learns the result natively (poll) and through SO_ERROR. */
static void rpcd_connect_ignore(void *arg, uint64_t id, int result)
{
}

/* rpcd_sock_id() - the stack socket named by the fd a request carried.
 * Return 0 (and *id) or -errno to reply with. */
static int rpcd_sock_id(struct nc_rpcd *d, const struct nc_rpc_msg *m, uint64_t *id)
{
	struct stat sb;

	if (m->fd < 0)
		return -EBADF;
	if (fstat(m->fd, &sb) < 0)
		return -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -ENOTSOCK;
	*id = (uint64_t)sb.st_ino;
	if (nc_stack_sock_state(d->st, *id) < 0)
		return -ENOTSOCK;	/* a socket, but not one of this network's */
	return 0;
}

/* rpcd_do_socket() - SOCKET: create a stack socket, reply with its app fd */
static int rpcd_do_socket(struct nc_rpcd *d, struct rpcd_client *c, const struct nc_rpc_msg *m)
{
	struct nc_rpc_msg r;
	uint64_t id;
	int app_fd, rc;

	if (m->socktype != SOCK_STREAM)
		return rpcd_reply_err(c, m, EPROTONOSUPPORT);
	if (m->protocol != 0 && m->protocol != IPPROTO_TCP)
		return rpcd_reply_err(c, m, EPROTONOSUPPORT);
	rc = nc_stack_sock_new(d->st, m->family, &app_fd, &id);
	if (rc < 0)
		return rpcd_reply_err(c, m, -rc);
	nc_rpc_msg_init(&r, NC_RPC_SOCKET | NC_RPC_REPLY, m->id);
	r.sock_id = id;
	rc = rpcd_client_send(c, &r, app_fd);
	close(app_fd);		/* the client has its own copy now (or never will) */
	return rc;
}

/* rpcd_do_connect() - CONNECT: non-blocking replies at once, blocking later */
static int rpcd_do_connect(struct nc_rpcd *d, struct rpcd_client *c, const struct nc_rpc_msg *m,
			   uint64_t id)
{
	struct rpcd_pending *p;
	int rc;

	if (m->addrlen == 0)
		return rpcd_reply_err(c, m, EAFNOSUPPORT);
	if (m->cflags & NC_RPC_CONNECT_NONBLOCK) {
		rc = nc_stack_sock_connect(d->st, id, (const struct sockaddr *)&m->addr, m->addrlen,
					   rpcd_connect_ignore, NULL);
		return rpcd_reply_err(c, m, rc < 0 ? -rc : EINPROGRESS);
	}
	p = malloc(sizeof(*p));
	if (!p)
		return rpcd_reply_err(c, m, ENOMEM);
	p->c = c;
	p->req_id = m->id;
	atomic_fetch_add(&c->refs, 1);
	/* done() may run before this returns, on another thread: no lock held */
	rc = nc_stack_sock_connect(d->st, id, (const struct sockaddr *)&m->addr, m->addrlen,
				   rpcd_connect_done, p);
	if (rc < 0) {
		rpcd_client_unref(c);
		free(p);
		return rpcd_reply_err(c, m, -rc);
	}
	return 0;
}

/* rpcd_do_getsockopt() - GETSOCKOPT: SO_ERROR from the stack's pending
 * error, the rest from the stack's option table */
static int rpcd_do_getsockopt(struct nc_rpcd *d, struct rpcd_client *c, const struct nc_rpc_msg *m,
			      uint64_t id)
{
	struct nc_rpc_msg r;
	socklen_t len = m->optlen;
	int rc;

	nc_rpc_msg_init(&r, NC_RPC_GETSOCKOPT | NC_RPC_REPLY, m->id);
	if (m->level == SOL_SOCKET && m->optname == SO_ERROR) {
		int e = nc_stack_sock_error(d->st, id);
		if (e < 0)
			e = -e;
		if (len < sizeof(int))
			return rpcd_reply_err(c, m, EINVAL);
		memcpy(r.optval, &e, sizeof(int));	/* host ABI value, see nc_rpc.h */
		r.optlen = sizeof(int);
		return rpcd_client_send(c, &r, -1);
	}
	rc = nc_stack_sock_getopt(d->st, id, m->level, m->optname, r.optval, &len);
	if (rc < 0)
		return rpcd_reply_err(c, m, -rc);
	r.optlen = len > NC_RPC_OPT_MAX ? NC_RPC_OPT_MAX : len;
	return rpcd_client_send(c, &r, -1);
}

/* rpcd_dispatch() - act on one well-formed request. Return 0, or -errno
 * when the client must be dropped. */
static int rpcd_dispatch(struct nc_rpcd *d, struct rpcd_client *c, const struct nc_rpc_msg *m)
{
	struct nc_rpc_msg r;
	uint64_t id = 0;
	int rc, e;

	if (m->type == NC_RPC_SOCKET)
		return rpcd_do_socket(d, c, m);
	rc = rpcd_sock_id(d, m, &id);
	if (rc < 0)
		return rpcd_reply_err(c, m, -rc);
	switch (m->type) {
	case NC_RPC_BIND:
		if (m->addrlen == 0)
			return rpcd_reply_err(c, m, EINVAL);
		rc = nc_stack_sock_bind(d->st, id, (const struct sockaddr *)&m->addr, m->addrlen);
		return rpcd_reply_err(c, m, rc < 0 ? -rc : 0);
	case NC_RPC_LISTEN:
		rc = nc_stack_sock_listen(d->st, id, m->backlog);
		return rpcd_reply_err(c, m, rc < 0 ? -rc : 0);
	case NC_RPC_CONNECT:
		return rpcd_do_connect(d, c, m, id);
	case NC_RPC_GETSOCKNAME:
	case NC_RPC_GETPEERNAME:
		nc_rpc_msg_init(&r, (uint8_t)(m->type | NC_RPC_REPLY), m->id);
		r.addrlen = sizeof(r.addr);
		rc = nc_stack_sock_name(d->st, id, m->type == NC_RPC_GETPEERNAME, &r.addr, &r.addrlen);
		if (rc < 0)
			return rpcd_reply_err(c, m, -rc);
		if (r.addr.ss_family != AF_INET && r.addr.ss_family != AF_INET6)
			r.addrlen = 0;
		return rpcd_client_send(c, &r, -1);
	case NC_RPC_SETSOCKOPT:
		rc = nc_stack_sock_setopt(d->st, id, m->level, m->optname, m->optval, m->optlen);
		return rpcd_reply_err(c, m, rc < 0 ? -rc : 0);
	case NC_RPC_GETSOCKOPT:
		return rpcd_do_getsockopt(d, c, m, id);
	case NC_RPC_QUERY: {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		nc_rpc_msg_init(&r, NC_RPC_QUERY | NC_RPC_REPLY, m->id);
		r.state = nc_stack_sock_state(d->st, id);
		r.sock_id = id;
		memset(&ss, 0, sizeof(ss));
		r.family = AF_INET;
		if (nc_stack_sock_name(d->st, id, 0, &ss, &sl) == 0 && ss.ss_family == AF_INET6)
			r.family = AF_INET6;
		return rpcd_client_send(c, &r, -1);
	}
	case NC_RPC_SOCKERR:
		nc_rpc_msg_init(&r, NC_RPC_SOCKERR | NC_RPC_REPLY, m->id);
		e = nc_stack_sock_error(d->st, id);
		r.so_error = e < 0 ? -e : e;
		return rpcd_client_send(c, &r, -1);
	}
	return rpcd_reply_err(c, m, EOPNOTSUPP);
}

/* rpcd_client_close() - forget a client (server thread) */
static void rpcd_client_close(struct nc_rpcd *d, struct rpcd_client *c)
{
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	pthread_mutex_lock(&c->mu);
	close(c->fd);
	c->fd = -1;
	pthread_mutex_unlock(&c->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub(&d->n_open, 1);
	rpcd_client_unref(c);
}

/* rpcd_client_input() - handle what a client sent. Return 0, or -errno
 * when the client is gone or misbehaved and must be closed. */
static int rpcd_client_input(struct nc_rpcd *d, struct rpcd_client *c)
{
	for (int i = 0; i < RPCD_BATCH; i++) {
		struct nc_rpc_msg m;
		int rc = nc_rpc_recv(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (rc == -EAGAIN)
			return 0;
		if (rc == -EOPNOTSUPP && !(m.type & NC_RPC_REPLY)) {
			rc = rpcd_reply_err(c, &m, EOPNOTSUPP);
			if (rc)
				return rc;
			continue;
		}
		if (rc)
			return rc;
		if (m.type & NC_RPC_REPLY) {	/* clients send requests only */
			nc_rpc_msg_release(&m);
			return -EBADMSG;
		}
		atomic_fetch_add(&d->n_requests, 1);
		rc = rpcd_dispatch(d, c, &m);
		nc_rpc_msg_release(&m);	/* our copy of the app fd goes at once */
		if (rc)
			return rc;
	}
	return 0;
}

/* rpcd_accept() - take new clients; only our own uid or root may stay */
static void rpcd_accept(struct nc_rpcd *d)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct epoll_event ev;
		struct rpcd_client *c;
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;		/* EAGAIN, or a transient error: epoll retries */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    (cred.uid != d->uid && cred.uid != 0)) {
			atomic_fetch_add(&d->n_refused, 1);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		pthread_mutex_init(&c->mu, NULL);
		c->fd = fd;
		atomic_init(&c->refs, 1);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			pthread_mutex_destroy(&c->mu);
			free(c);
			continue;
		}
		c->next = d->clients;
		if (c->next)
			c->next->prev = c;
		d->clients = c;
		atomic_fetch_add(&d->n_open, 1);
		atomic_fetch_add(&d->n_admitted, 1);
	}
}

/* rpcd_is_malformed() - does this reason for closing a client mean it sent
 * something we refuse, rather than that it went away? */
static int rpcd_is_malformed(int rc)
{
	switch (rc) {
	case -ECONNRESET: case -EPIPE: case -ENOTCONN: case -ESHUTDOWN: case -ENOBUFS: case -ENOMEM:
	case -EAGAIN:
		return 0;
	}
	return 1;
}

/* rpcd_thread() - the server's epoll loop */
static void *rpcd_thread(void *arg)
{
	struct nc_rpcd *d = arg;
	struct epoll_event evs[RPCD_MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(d->ep, evs, RPCD_MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &rpcd_tag_stop)
				return NULL;
			if (p == &rpcd_tag_listen) {
				rpcd_accept(d);
				continue;
			}
			struct rpcd_client *c = p;
			int rc = 0;
			if (evs[i].events & EPOLLIN)
				rc = rpcd_client_input(d, c);
			else if (evs[i].events & (EPOLLHUP | EPOLLERR))
				rc = -ECONNRESET;
			if (rc && rpcd_is_malformed(rc))
				atomic_fetch_add(&d->n_malformed, 1);
			if (rc)
				rpcd_client_close(d, c);
		}
	}
}

/* rpcd_listen() - bind the server socket at path, mode 0600 */
static int rpcd_listen(struct nc_rpcd *d, const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			return -EEXIST;	/* never replace anything but a socket */
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Linux creates the socket file with the socket inode's mode (minus
	 * umask): setting it first leaves no window with a wider mode. */
	fchmod(fd, 0600);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 128) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	d->lfd = fd;
	return 0;
}

int nc_rpcd_new(struct nc_stack *st, const char *path, struct nc_rpcd **out)
{
	struct nc_rpcd *d;
	struct epoll_event ev;
	int rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->st = st;
	d->uid = geteuid();
	d->lfd = d->efd = d->ep = -1;
	if (strlen(path) >= sizeof(d->path)) {
		free(d);
		return -ENAMETOOLONG;
	}
	strcpy(d->path, path);
	rc = rpcd_listen(d, path);
	if (rc)
		goto fail;
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->efd < 0 || d->ep < 0) {
		rc = -errno;
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &rpcd_tag_listen;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	ev.data.ptr = &rpcd_tag_stop;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->efd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = -pthread_create(&d->thread, NULL, rpcd_thread, d);
	if (rc)
		goto fail;
	*out = d;
	return 0;
fail:
	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(d->path);
	}
	if (d->efd >= 0)
		close(d->efd);
	if (d->ep >= 0)
		close(d->ep);
	free(d);
	return rc;
}

void nc_rpcd_free(struct nc_rpcd *d)
{
	uint64_t one = 1;

	if (!d)
		return;
	if (write(d->efd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(d->thread);	/* cannot happen with a fresh eventfd */
	pthread_join(d->thread, NULL);
	while (d->clients)
		rpcd_client_close(d, d->clients);
	close(d->lfd);
	unlink(d->path);
	close(d->efd);
	close(d->ep);
	free(d);
}

void nc_rpcd_stats(struct nc_rpcd *d, struct nc_rpcd_stats *out)
{
	out->clients_open = atomic_load(&d->n_open);
	out->clients_total = atomic_load(&d->n_admitted);
	out->clients_refused = atomic_load(&d->n_refused);
	out->requests = atomic_load(&d->n_requests);
	out->malformed = atomic_load(&d->n_malformed);
}
