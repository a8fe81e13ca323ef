/* icept_rpc.c - the intercept's side of the netcon RPC: real libc entry
 * points, the ZT_NC_NETWORK switch, diagnostics, and the process's single
 * RPC connection.
 *
 * The connection is opened on first use and belongs to one process: after
 * fork() the child drops its inherited copy (pthread_atfork, and a pid check
 * for children made without the atfork handlers) and opens its own, so
 * replies never go to the wrong process. One mutex serialises
 * request/reply pairs between threads; the only request that can take long,
 * a blocking CONNECT, uses a connection of its own instead. Those come from
 * a few spare connections kept open between calls (a client that opens a
 * connection per request would otherwise make an RPC connection, and the
 * daemon's credential check, per connect()); one whose reply never came
 * (EINTR, SO_SNDTIMEO) is closed, since the late reply would be read by the
 * next caller.
 */
#include "icept.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static struct icept_real icept_real_fns;
static pthread_once_t icept_real_once = PTHREAD_ONCE_INIT;

/* state of ZT_NC_NETWORK: 0 not read yet, 1 set, -1 unset */
static atomic_int icept_on;
static atomic_int icept_dbg = -1;
static char icept_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static pthread_mutex_t icept_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int icept_sock = -1;	/* the RPC connection, or -1 */
static pid_t icept_sock_pid;		/* the process that opened it */
static uint32_t icept_next_id;

#define ICEPT_SPARES 4
static int icept_spare[ICEPT_SPARES];	/* idle connections for blocking CONNECTs */
static atomic_int icept_nspare;
static pid_t icept_spare_pid;		/* the process that opened them */

#define RESOLVE(name) icept_real_fns.name = (__typeof__(icept_real_fns.name))dlsym(RTLD_NEXT, #name)

/* icept_resolve() - look up every real function once */
static void icept_resolve(void)
{
	RESOLVE(socket);
	RESOLVE(socketpair);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(shutdown);
	RESOLVE(close);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(syscall);
}

const struct icept_real *icept_real(void)
{
	pthread_once(&icept_real_once, icept_resolve);
	return &icept_real_fns;
}

void icept_debug(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, saved = errno;

	if (icept_dbg < 0)
		icept_dbg = getenv("ZT_NC_DEBUG") != NULL;
	if (!icept_dbg)
		return;
	n = snprintf(line, sizeof(line), "netcon[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0) {
		/* nowhere left to report to */
	}
	errno = saved;
}

int icept_enabled(void)
{
	int on = atomic_load(&icept_on);

	if (on == 0) {
		const char *p = getenv("ZT_NC_NETWORK");
		if (p && *p && strlen(p) < sizeof(icept_path)) {
			pthread_mutex_lock(&icept_mu);
			strcpy(icept_path, p);
			pthread_mutex_unlock(&icept_mu);
			on = 1;
		} else {
			if (p && *p)
				icept_debug("ZT_NC_NETWORK too long, intercept disabled");
			on = -1;
		}
		atomic_store(&icept_on, on);
	}
	return on > 0;
}

/* icept_rpc_open() - connect a new RPC socket to the daemon.
 * Return: fd, or -ENETUNREACH (no such network socket: not joined) /
 * -ECONNREFUSED (daemon not running) / other -errno. */
static int icept_rpc_open(void)
{
	const struct icept_real *r = icept_real();
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, icept_path);
	fd = r->socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fd <= 2) {
		/* stdin/out/err were closed: keep out of the slots a program
		 * expects its next open() to refill */
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		r->close(fd);
		if (hi < 0)
			return -errno;
		fd = hi;
	}
	if (r->connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		r->close(fd);
		if (e == ENOENT || e == ENOTDIR) {
			icept_debug("no netcon network at %s (not joined?)", icept_path);
			return -ENETUNREACH;
		}
		icept_debug("cannot reach the netcon service at %s: %s", icept_path, strerror(e));
		return e == EACCES || e == EPERM ? -EACCES : -ECONNREFUSED;
	}
	return fd;
}

/* icept_rpc_drop() - close the shared connection (icept_mu held) */
static void icept_rpc_drop(void)
{
	int fd = atomic_exchange(&icept_sock, -1);

	if (fd >= 0)
		icept_real()->close(fd);
}

/* icept_rpc_exchange() - send req on sock, wait for its reply.
 * Return: 0 (reply in *rep, its err not yet looked at), or -errno for a
 * transport or protocol failure (the connection is then unusable). */
static int icept_rpc_exchange(int sock, struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep,
			      int rflags)
{
	int rc = nc_rpc_send(sock, req, fd, 0);

	if (rc)
		return rc;
	rc = nc_rpc_recv(sock, rep, rflags & MSG_CMSG_CLOEXEC);
	if (rc)
		return rc;
	if (rep->type != (req->type | NC_RPC_REPLY) || rep->id != req->id) {
		icept_debug("RPC reply %s id %u does not match request %s id %u",
			    nc_rpc_type_name(rep->type), rep->id, nc_rpc_type_name(req->type), req->id);
		nc_rpc_msg_release(rep);
		return -EPROTO;
	}
	return 0;
}

/* icept_rpc_transport_err() - what the application sees when the exchange
 * itself failed: the daemon went away (ECONNREFUSED), or it answered with
 * something we do not understand (EPROTO) */
static int icept_rpc_transport_err(int rc)
{
	switch (rc) {
	case 0: case -ENETUNREACH: case -ECONNREFUSED: case -EACCES:
		return rc;
	case -ECONNRESET: case -EPIPE: case -ENOTCONN:
		return -ECONNREFUSED;
	case -EBADMSG: case -EPROTONOSUPPORT: case -EMSGSIZE: case -EOPNOTSUPP: case -EPROTO:
		icept_debug("the netcon service sent a reply we do not understand (%s)", strerror(-rc));
		return -EPROTO;
	}
	return rc;
}

int icept_rpc_call(struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep, int rflags)
{
	int rc = -ECONNREFUSED;

	nc_rpc_msg_init(rep, 0, 0);
	if (!icept_enabled())
		return -ENOSYS;
	/* a thread cancelled inside recvmsg() must not leave the mutex held */
	int cstate;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cstate);
	pthread_mutex_lock(&icept_mu);
	if (icept_sock >= 0 && icept_sock_pid != getpid())
		atomic_store(&icept_sock, -1);	/* a child's inherited copy: not ours to use */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (icept_sock < 0) {
			int s = icept_rpc_open();
			if (s < 0) {
				rc = s;
				break;
			}
			atomic_store(&icept_sock, s);
			icept_sock_pid = getpid();
		}
		req->id = ++icept_next_id;
		rc = icept_rpc_exchange(icept_sock, req, fd, rep, rflags);
		if (rc == 0)
			break;
		icept_debug("RPC %s failed: %s", nc_rpc_type_name(req->type), strerror(-rc));
		icept_rpc_drop();
		/* retry once on a fresh connection only if the request cannot have
		 * been acted on: the send itself failed (the daemon restarted
		 * since our last call) */
		if (rc != -EPIPE && rc != -ENOTCONN)
			break;
		rc = -ECONNREFUSED;
	}
	pthread_mutex_unlock(&icept_mu);
	pthread_setcancelstate(cstate, NULL);
	rc = icept_rpc_transport_err(rc);
	if (rc)
		return rc;
	return rep->err ? -(int)rep->err : 0;
}

/* icept_spare_put() - keep connection s, whose last exchange completed, for
 * the next blocking CONNECT (or close it when enough are kept) */
static void icept_spare_put(int s)
{
	pthread_mutex_lock(&icept_mu);
	if (icept_spare_pid != getpid()) {
		icept_nspare = 0;
		icept_spare_pid = getpid();
	}
	if (icept_nspare < ICEPT_SPARES) {
		icept_spare[icept_nspare++] = s;
		s = -1;
	}
	pthread_mutex_unlock(&icept_mu);
	if (s >= 0)
		icept_real()->close(s);
}

int icept_rpc_call_alone(struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep, int timeout_ms)
{
	struct pollfd pf;
	int s, rc;

	nc_rpc_msg_init(rep, 0, 0);
	if (!icept_enabled())
		return -ENOSYS;
	pthread_mutex_lock(&icept_mu);
	if (icept_spare_pid != getpid())
		icept_nspare = 0;	/* a child's inherited copies: not ours to use */
	s = icept_nspare ? icept_spare[--icept_nspare] : icept_rpc_open();
	pthread_mutex_unlock(&icept_mu);
	if (s < 0)
		return s;
	req->id = 1;
	rc = nc_rpc_send(s, req, fd, 0);
	if (rc == 0) {
		/* wait like a blocking connect(): a signal interrupts it (EINTR),
		 * SO_SNDTIMEO bounds it (EINPROGRESS); either way the attempt
		 * goes on in the stack, as it does in the kernel */
		pf.fd = s;
		pf.events = POLLIN;
		pf.revents = 0;
		int n = poll(&pf, 1, timeout_ms);
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			rc = -EINPROGRESS;
	}
	if (rc == 0)
		rc = nc_rpc_recv(s, rep, 0);
	if (rc == 0 && (rep->type != (req->type | NC_RPC_REPLY) || rep->id != req->id)) {
		nc_rpc_msg_release(rep);
		rc = -EPROTO;
	}
	if (rc == 0)
		icept_spare_put(s);
	else
		icept_real()->close(s);
	if (rc == -EINTR || rc == -EINPROGRESS)
		return rc;
	rc = icept_rpc_transport_err(rc);
	if (rc)
		return rc;
	return rep->err ? -(int)rep->err : 0;
}

void icept_rpc_range_closed(unsigned first, unsigned last)
{
	int cur = atomic_load(&icept_sock);

	if (cur >= 0 && (unsigned)cur >= first && (unsigned)cur <= last)
		atomic_compare_exchange_strong(&icept_sock, &cur, -1);
	if (!icept_nspare)
		return;
	pthread_mutex_lock(&icept_mu);
	for (int i = 0; i < icept_nspare; i++)
		if ((unsigned)icept_spare[i] >= first && (unsigned)icept_spare[i] <= last)
			icept_spare[i--] = icept_spare[--icept_nspare];
	pthread_mutex_unlock(&icept_mu);
}

void icept_rpc_fd_closed(int fd)
{
	/* The application closed (or dup2'd over) our fd: a daemonising
	 * program closing every descriptor. Forget it; the fd is theirs now. */
	if (fd >= 0)
		icept_rpc_range_closed((unsigned)fd, (unsigned)fd);
}

/* ---- fork ---- */

static void icept_atfork_prepare(void)
{
	pthread_mutex_lock(&icept_mu);
}

static void icept_atfork_parent(void)
{
	pthread_mutex_unlock(&icept_mu);
}

/* icept_atfork_child() - the child gets a connection of its own. It stays
 * on the parent's network even if its environment was cleared (nginx
 * workers get a fresh environ); a child of a process that was not on a
 * network reads ZT_NC_NETWORK again.
 *
 * If the parent had a connection the child opens its own at once, not on
 * first use: servers such as Apache fork children that drop to another uid
 * (www-data) before they first call getsockname() on an inherited
 * listener, and the daemon admits only its own uid and root (SO_PEERCRED,
 * checked when the connection is made). Opened now, while the child still
 * has the parent's credentials, the connection keeps working after setuid. */
static void icept_atfork_child(void)
{
	int fd = atomic_exchange(&icept_sock, -1);

	pthread_mutex_init(&icept_mu, NULL);
	while (icept_nspare)
		icept_real()->close(icept_spare[--icept_nspare]);
	if (fd >= 0) {
		icept_real()->close(fd);
		int s = icept_rpc_open();
		if (s >= 0) {
			icept_sock_pid = getpid();
			atomic_store(&icept_sock, s);
		}
	}
	if (atomic_load(&icept_on) < 0)
		atomic_store(&icept_on, 0);
}

/* icept_init() - resolve libc and read ZT_NC_NETWORK at start, before the
 * program can change its environment */
__attribute__((constructor)) static void icept_init(void)
{
	icept_real();
	icept_enabled();
	pthread_atfork(icept_atfork_prepare, icept_atfork_parent, icept_atfork_child);
}
