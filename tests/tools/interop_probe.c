/* interop_probe.c - hand-built HELLO and ECHO against a ZeroTier node.
 *
 * A diagnostic for interop with the official ZeroTier One: it uses only the
 * engine's identity and armor primitives (node/identity.h, node/crypto.h) and
 * builds every packet itself, so a mismatch can be pinned to one field. It
 * prints each packet it sends and receives in hex with its decoded fields.
 *
 * Usage: interop_probe [-v] [-i IDENTITY.SECRET] [-t SECONDS] PEER_IDENTITY IP PORT
 *   PEER_IDENTITY  the peer's identity string, or a file holding it
 *                  (identity.public of the official node)
 *   -i             our identity (string form with secret); default: a new one
 *   -t             give up after this many seconds (default 10)
 *   -v             hex dumps
 *
 * Theory of operation:
 *   1. send HELLO (cipher 0, proto 11, tail with an encrypted zero moon count)
 *      once a second until OK(HELLO) in-re that packet id arrives;
 *   2. send ECHO (cipher 1) with 16 random bytes until OK(ECHO) carrying the
 *      same bytes arrives;
 *   3. any HELLO from the peer is answered with OK(HELLO).
 * Exit status 0 when both OKs arrived ("RESULT ok_hello=1 ok_echo=1").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/identity.h"
#include "node/inaddr.h"

#define PROBE_MAX_PKT 10240

struct probe {
	struct zt_identity self, peer;
	uint8_t key[ZT_PEER_KEY_LEN];
	int fd;
	struct sockaddr_storage to;
	int verbose;
	uint64_t hello_pid, echo_pid;
	uint8_t echo_data[16];
	int ok_hello, ok_echo;
};

/* probe_now() - wall clock in ms */
static int64_t probe_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* probe_hex() - print a labelled hex dump */
static void probe_hex(const char *label, const uint8_t *p, unsigned len)
{
	printf("%s (%u bytes):", label, len);
	for (unsigned i = 0; i < len; i++)
		printf("%s%02x", (i % 32) ? "" : "\n   ", p[i]);
	printf("\n");
}

/* probe_header() - write the 28-byte header (verb included) into w */
static uint64_t probe_header(struct probe *pr, struct zt_wbuf *w, unsigned verb)
{
	uint64_t pid;
	randombytes_buf(&pid, sizeof(pid));
	zt_wbuf_u64(w, pid);
	zt_wbuf_addr(w, pr->peer.address);
	zt_wbuf_addr(w, pr->self.address);
	zt_wbuf_u8(w, 0);	/* flags: set by zt_armor */
	zt_wbuf_u64(w, 0);	/* MAC: set by zt_armor */
	zt_wbuf_u8(w, (uint8_t)verb);
	return pid;
}

/* probe_send() - armor and send one packet. Return 0 or -errno. */
static int probe_send(struct probe *pr, uint8_t *pkt, unsigned len, unsigned cipher,
		      const char *what)
{
	if (pr->verbose)
		probe_hex(what, pkt, len);
	zt_armor(pkt, len, pr->key, cipher);
	if (pr->verbose)
		probe_hex("  armored", pkt, len);
	if (sendto(pr->fd, pkt, len, 0, (const struct sockaddr *)&pr->to,
		   pr->to.ss_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6)) < 0) {
		printf("sendto: %s\n", strerror(errno));
		return -errno;
	}
	printf("sent %s len=%u\n", what, len);
	return 0;
}

/* probe_send_hello() - HELLO (§5.2) */
static int probe_send_hello(struct probe *pr)
{
	uint8_t pkt[512], idb[ZT_IDENTITY_PUBLIC_BIN_LEN + 8], tail[2] = { 0, 0 };
	struct zt_wbuf w;
	int n;

	zt_wbuf_init(&w, pkt, sizeof(pkt));
	pr->hello_pid = probe_header(pr, &w, 0x01);
	zt_wbuf_u8(&w, 11);	/* protocol version */
	zt_wbuf_u8(&w, 1);
	zt_wbuf_u8(&w, 14);
	zt_wbuf_u16(&w, 1);
	zt_wbuf_u64(&w, (uint64_t)probe_now());
	n = zt_identity_serialize(&pr->self, 0, idb, sizeof(idb));
	if (n < 0)
		return n;
	zt_wbuf_put(&w, idb, (size_t)n);
	zt_inaddr_write(&w, &pr->to);
	zt_wbuf_u64(&w, 0);	/* world id */
	zt_wbuf_u64(&w, 0);	/* world timestamp */
	zt_hello_tail_crypt(pkt, pr->key, tail, sizeof(tail));
	zt_wbuf_put(&w, tail, sizeof(tail));
	if (w.err)
		return -ENOSPC;
	return probe_send(pr, pkt, (unsigned)w.len, ZT_CIPHER_POLY1305_NONE, "HELLO");
}

/* probe_send_echo() - ECHO (§5.6) with 16 random bytes */
static int probe_send_echo(struct probe *pr)
{
	uint8_t pkt[128];
	struct zt_wbuf w;

	zt_wbuf_init(&w, pkt, sizeof(pkt));
	pr->echo_pid = probe_header(pr, &w, 0x08);
	randombytes_buf(pr->echo_data, sizeof(pr->echo_data));
	zt_wbuf_put(&w, pr->echo_data, sizeof(pr->echo_data));
	return probe_send(pr, pkt, (unsigned)w.len, ZT_CIPHER_POLY1305_SALSA2012, "ECHO");
}

/* probe_send_ok_hello() - answer the peer's HELLO pid with OK(HELLO) */
static int probe_send_ok_hello(struct probe *pr, uint64_t inre, uint64_t ts,
			       const struct sockaddr_storage *from)
{
	uint8_t pkt[256];
	struct zt_wbuf w;

	zt_wbuf_init(&w, pkt, sizeof(pkt));
	probe_header(pr, &w, 0x03);
	zt_wbuf_u8(&w, 0x01);
	zt_wbuf_u64(&w, inre);
	zt_wbuf_u64(&w, ts);
	zt_wbuf_u8(&w, 11);
	zt_wbuf_u8(&w, 1);
	zt_wbuf_u8(&w, 14);
	zt_wbuf_u16(&w, 1);
	zt_inaddr_write(&w, from);
	zt_wbuf_u16(&w, 0);	/* no world updates */
	return probe_send(pr, pkt, (unsigned)w.len, ZT_CIPHER_POLY1305_SALSA2012, "OK(HELLO)");
}

/* probe_on_ok() - decode an OK */
static void probe_on_ok(struct probe *pr, struct zt_rbuf *r)
{
	unsigned inre_verb = zt_rbuf_u8(r);
	uint64_t inre = zt_rbuf_u64(r);
	char addr[80];

	if (r->err) {
		printf("  OK: truncated\n");
		return;
	}
	printf("  OK in-re verb 0x%02x pid %016llx\n", inre_verb, (unsigned long long)inre);
	if (inre_verb == 0x01) {
		uint64_t ts = zt_rbuf_u64(r);
		unsigned proto = zt_rbuf_u8(r), maj = zt_rbuf_u8(r), min = zt_rbuf_u8(r);
		unsigned rev = zt_rbuf_u16(r);
		struct sockaddr_storage sa;
		memset(&sa, 0, sizeof(sa));
		zt_inaddr_read(r, &sa);
		unsigned wlen = zt_rbuf_u16(r);
		printf("  OK(HELLO): ts-echo %llu (rtt %lld ms) proto %u version %u.%u.%u"
		       " external %s worlds %u bytes%s\n",
		       (unsigned long long)ts, (long long)(probe_now() - (int64_t)ts), proto,
		       maj, min, rev, zt_inaddr_format(&sa, addr, sizeof(addr)), wlen,
		       r->err ? " (truncated)" : "");
		if (inre != pr->hello_pid)
			printf("  (in-re pid does not match our last HELLO %016llx)\n",
			       (unsigned long long)pr->hello_pid);
		if (!r->err)
			pr->ok_hello = 1;
	} else if (inre_verb == 0x08) {
		size_t left = zt_rbuf_left(r);
		const uint8_t *d = zt_rbuf_take(r, left);
		int same = inre == pr->echo_pid && left == sizeof(pr->echo_data) &&
			   memcmp(d, pr->echo_data, left) == 0;
		printf("  OK(ECHO): %zu payload bytes, %s\n", left,
		       same ? "match our ECHO" : "DO NOT match our ECHO");
		if (same)
			pr->ok_echo = 1;
	}
}

/* probe_on_packet() - dearmor and decode one datagram */
static void probe_on_packet(struct probe *pr, uint8_t *pkt, unsigned len,
			    const struct sockaddr_storage *from)
{
	struct zt_rbuf r;
	uint8_t unz[PROBE_MAX_PKT];
	uint64_t pid, dst, src;
	unsigned cipher, verb;
	int rc;

	if (pr->verbose)
		probe_hex("received", pkt, len);
	if (len >= ZT_FRAG_MIN && pkt[13] == ZT_FRAG_INDICATOR) {
		printf("recv fragment (not reassembled by the probe) len=%u\n", len);
		return;
	}
	if (len < ZT_PKT_MIN) {
		printf("recv runt len=%u\n", len);
		return;
	}
	zt_rbuf_init(&r, pkt, len);
	pid = zt_rbuf_u64(&r);
	dst = zt_rbuf_addr(&r);
	src = zt_rbuf_addr(&r);
	cipher = zt_pkt_cipher(pkt);
	printf("recv len=%u pid=%016llx dst=%010llx src=%010llx flags=%02x cipher=%u hops=%u\n",
	       len, (unsigned long long)pid, (unsigned long long)dst, (unsigned long long)src,
	       pkt[ZT_PKT_IDX_FLAGS], cipher, zt_pkt_hops(pkt));
	if (dst != pr->self.address || src != pr->peer.address) {
		printf("  not from the peer to us: ignored\n");
		return;
	}
	if (pkt[ZT_PKT_IDX_FLAGS] & ZT_PKT_FLAG_FRAGMENTED) {
		printf("  head of a fragmented packet: ignored\n");
		return;
	}
	rc = zt_dearmor(pkt, len, pr->key);
	if (rc < 0) {
		printf("  dearmor failed: %s (cipher %u)\n",
		       rc == -ENOTSUP ? "unsupported cipher" : "bad MAC", cipher);
		return;
	}
	verb = pkt[ZT_PKT_IDX_VERB];
	if (verb & ZT_VERB_FLAG_COMPRESSED) {
		memcpy(unz, pkt, ZT_PKT_IDX_PAYLOAD);
		rc = zt_lz4_decompress(pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD,
				       unz + ZT_PKT_IDX_PAYLOAD, sizeof(unz) - ZT_PKT_IDX_PAYLOAD);
		if (rc < 0) {
			printf("  LZ4 decompression failed\n");
			return;
		}
		pkt = unz;
		len = ZT_PKT_IDX_PAYLOAD + (unsigned)rc;
		verb &= 0x1f;
	}
	verb &= 0x1f;
	printf("  verb 0x%02x, %u payload bytes\n", verb, len - ZT_PKT_IDX_PAYLOAD);
	if (pr->verbose)
		probe_hex("  plaintext", pkt, len);
	zt_rbuf_init(&r, pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD);
	if (verb == 0x03) {
		probe_on_ok(pr, &r);
	} else if (verb == 0x02) {
		unsigned v = zt_rbuf_u8(&r);
		uint64_t inre = zt_rbuf_u64(&r);
		unsigned code = zt_rbuf_u8(&r);
		printf("  ERROR in-re verb 0x%02x pid %016llx code 0x%02x\n", v,
		       (unsigned long long)inre, code);
	} else if (verb == 0x01) {
		zt_rbuf_take(&r, 5);
		uint64_t ts = zt_rbuf_u64(&r);
		printf("  HELLO from the peer: answering\n");
		probe_send_ok_hello(pr, pid, ts, from);
	}
}

/* probe_load_identity() - string form, from the argument or the file it names */
static int probe_load_identity(struct zt_identity *id, const char *arg)
{
	char buf[ZT_IDENTITY_STRING_MAX + 2];
	FILE *f = strchr(arg, ':') ? NULL : fopen(arg, "r");

	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		buf[strcspn(buf, "\r\n \t")] = 0;
		arg = buf;
	}
	return zt_identity_from_string(id, arg);
}

int main(int argc, char **argv)
{
	struct probe pr;
	const char *ident = NULL;
	int timeout_s = 10, opt;
	char s[ZT_IDENTITY_STRING_MAX];

	memset(&pr, 0, sizeof(pr));
	while ((opt = getopt(argc, argv, "vi:t:")) != -1) {
		if (opt == 'v')
			pr.verbose = 1;
		else if (opt == 'i')
			ident = optarg;
		else if (opt == 't')
			timeout_s = atoi(optarg);
		else
			goto usage;
	}
	if (argc - optind != 3)
		goto usage;
	if (zt_crypto_init() < 0)
		return 2;
	if (ident ? probe_load_identity(&pr.self, ident) : zt_identity_generate(&pr.self)) {
		fprintf(stderr, "interop_probe: cannot get our identity\n");
		return 2;
	}
	if (!pr.self.has_private) {
		fprintf(stderr, "interop_probe: our identity needs its secret\n");
		return 2;
	}
	if (probe_load_identity(&pr.peer, argv[optind]) || !zt_identity_validate(&pr.peer)) {
		fprintf(stderr, "interop_probe: bad peer identity\n");
		return 2;
	}
	if (zt_identity_agree(&pr.self, &pr.peer, pr.key)) {
		fprintf(stderr, "interop_probe: key agreement failed\n");
		return 2;
	}
	char ep[128];
	snprintf(ep, sizeof(ep), "%s/%s", argv[optind + 1], argv[optind + 2]);
	if (zt_inaddr_parse(&pr.to, ep)) {
		fprintf(stderr, "interop_probe: bad endpoint %s\n", ep);
		return 2;
	}
	zt_identity_to_string(&pr.self, 0, s, sizeof(s));
	printf("our identity %s\npeer %010llx at %s\n", s, (unsigned long long)pr.peer.address, ep);

	pr.fd = socket(pr.to.ss_family, SOCK_DGRAM, 0);
	if (pr.fd < 0) {
		perror("socket");
		return 2;
	}
	int64_t end = probe_now() + (int64_t)timeout_s * 1000, next = 0;
	while (probe_now() < end && !(pr.ok_hello && pr.ok_echo)) {
		int64_t now = probe_now();
		if (now >= next) {
			if (!pr.ok_hello)
				probe_send_hello(&pr);
			else
				probe_send_echo(&pr);
			next = now + 1000;
		}
		struct pollfd pfd = { .fd = pr.fd, .events = POLLIN };
		int wait = (int)(next - now);
		if (poll(&pfd, 1, wait < 0 ? 0 : wait) > 0) {
			uint8_t pkt[PROBE_MAX_PKT];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(pr.fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
			if (n > 0) {
				int had_hello = pr.ok_hello;
				probe_on_packet(&pr, pkt, (unsigned)n, &from);
				if (!had_hello && pr.ok_hello)
					next = 0;	/* ECHO at once */
			}
		}
	}
	printf("RESULT ok_hello=%d ok_echo=%d\n", pr.ok_hello, pr.ok_echo);
	close(pr.fd);
	return pr.ok_hello && pr.ok_echo ? 0 : 1;
usage:
	fprintf(stderr, "usage: interop_probe [-v] [-i IDENTITY] [-t SECONDS] PEER_IDENTITY IP PORT\n");
	return 2;
}
