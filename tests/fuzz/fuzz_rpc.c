/* fuzz_rpc.c - libFuzzer target for the netcon RPC decoder, both directions
 * (requests as the server sees them, replies as the intercept sees them:
 * the type byte's reply bit picks which). Anything that decodes must
 * re-encode to the same bytes and decode to the same message.
 *
 * The same bytes then go through the transport both sides use,
 * nc_rpc_recv() on a SOCK_SEQPACKET socketpair, with fds attached by
 * SCM_RIGHTS: as many as the header's FD flag says, except that a last
 * byte 0xfe attaches the other count (0 <-> 1) and 0xff attaches two.
 * Checks: the result is what the decoder and the fd rules say (oversized:
 * -EMSGSIZE; two fds: -EBADMSG; empty and no fd: -ECONNRESET; otherwise the
 * decoder's verdict, and -EBADMSG when the flag and the fds disagree); an
 * accepted fd is open; no fd is left open afterwards, whatever the verdict.
 */
#include "nc_rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

static int fz_sp[2] = { -1, -1 }, fz_null = -1;

/* fz_send() - data as one datagram with nfd copies of fz_null; Return: 0 or -1 */
static int fz_send(const uint8_t *data, size_t size, int nfd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { (void *)data, size };
	struct msghdr mh;
	int fds[2] = { fz_null, fz_null };

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfd) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
	}
	return sendmsg(fz_sp[0], &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)size ? 0 : -1;
}

/* fz_open_fds() - bit i: fd base + i is open (received fds take the lowest
 * free numbers, so a leaked one shows up just above the lowest free) */
static unsigned fz_open_fds(int base)
{
	unsigned bits = 0;

	for (int i = 0; i < 16; i++)
		if (fcntl(base + i, F_GETFD) >= 0)
			bits |= 1u << i;
	return bits;
}

/* fz_lowest_free_fd() - what the next open() would return */
static int fz_lowest_free_fd(void)
{
	int fd = dup(fz_null);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static void fz_transport(const uint8_t *data, size_t size, int drc, const struct nc_rpc_msg *dm)
{
	struct nc_rpc_msg m;
	int nfd, want, rc, base;
	unsigned before = 0;

	if (fz_sp[0] < 0) {
		fz_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fz_null < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fz_sp) < 0)
			abort();
	}
	nfd = size >= 6 && (data[5] & NC_RPC_F_FD) ? 1 : 0;
	if (size && data[size - 1] == 0xfe)
		nfd = 1 - nfd;
	else if (size && data[size - 1] == 0xff)
		nfd = 2;
	base = fz_lowest_free_fd();
	if (nfd)
		before = fz_open_fds(base);
	if (fz_send(data, size, nfd) < 0)
		return;	/* too big for the socket: nothing to receive */
	if (size > NC_RPC_MAX_MSG + 1)
		want = -EMSGSIZE;
	else if (nfd > 1)
		want = -EBADMSG;
	else if (size == 0 && nfd == 0)
		want = -ECONNRESET;
	else if (drc)
		want = drc;
	else
		want = !!(dm->flags & NC_RPC_F_FD) != (nfd == 1) ? -EBADMSG : 0;
	rc = nc_rpc_recv(fz_sp[1], &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (rc != want)
		abort();
	if (rc == 0 && (nfd == 1) != (m.fd >= 0))
		abort();
	if (m.fd >= 0 && fcntl(m.fd, F_GETFD) < 0)
		abort();	/* an fd handed over must be open */
	nc_rpc_msg_release(&m);
	if (fz_lowest_free_fd() != base || (nfd && fz_open_fds(base) != before))
		abort();	/* an fd that arrived was left open */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_rpc_msg m, m2;
	struct nc_rpc_hdr h;
	uint8_t out[NC_RPC_MAX_MSG];
	int n, drc;

	(void)nc_rpc_hdr_decode(data, size, &h);
	drc = nc_rpc_decode(data, size, &m);
	fz_transport(data, size, drc, &m);
	if (drc != 0)
		return 0;
	if (m.fd != -1)
		abort();
	n = nc_rpc_encode(&m, out, sizeof(out));
	/* a decoded message always re-encodes, to the same bytes (the reply
	 * bit, flags and id included), except that an address of kind "none"
	 * and ones of a known kind are canonical already */
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	if (nc_rpc_decode(out, (size_t)n, &m2) != 0)
		abort();
	if (m2.type != m.type || m2.id != m.id || m2.err != m.err || m2.addrlen != m.addrlen ||
	    memcmp(&m2.addr, &m.addr, m.addrlen) != 0 || m2.optlen != m.optlen ||
	    m2.sock_id != m.sock_id)
		abort();
	return 0;
}
