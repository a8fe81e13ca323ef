/* fault_xfer.c - one TCP bulk transfer for the fault tests, run under the
 * intercept (or not: it is an ordinary sockets program).
 *
 *   fault_xfer sink PORT [FIRST_MS]
 *	accept one connection on 0.0.0.0:PORT (and [::]), read until EOF or
 *	error; print "listening" when ready, then one line:
 *	"done BYTES SHA256" or "error ERRNAME BYTES MS" where MS is the time
 *	since the last byte arrived (how long the error took to show).
 *   fault_xfer source IP PORT BYTES [KBPS]
 *	connect and send BYTES of a deterministic stream (optionally paced);
 *	print "connected", then "sent BYTES SHA256" or "error ERRNAME BYTES MS".
 *   fault_xfer stream BYTES
 *	print the SHA256 of the first BYTES of that stream (no network).
 *
 * FAULT_KEEPALIVE=IDLE,INTVL,CNT (seconds, count) in the environment turns
 * on TCP keepalive with those parameters on the sink's connection.
 *
 * Exit status: 0 on a complete transfer, 3 on a socket error or EOF before
 * the end (source), 1 on usage or set-up errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sodium.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stream_fill() - bytes [off, off+n) of the deterministic stream */
static void stream_fill(uint8_t *buf, size_t n, uint64_t off)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t x = (off + i) / 8 * 0x9E3779B97F4A7C15ull;

		x ^= x >> 29;
		buf[i] = (uint8_t)(x >> (8 * ((off + i) % 8)));
	}
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "EOF";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNABORTED: return "ECONNABORTED";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	}
	return strerror(e);
}

static void hex(const uint8_t *h, char *out)
{
	int i;

	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static int do_stream(uint64_t total)
{
	crypto_hash_sha256_state st;
	uint8_t buf[65536], h[32];
	char hx[65];
	uint64_t off = 0;

	crypto_hash_sha256_init(&st);
	while (off < total) {
		size_t n = total - off < sizeof(buf) ? (size_t)(total - off) : sizeof(buf);

		stream_fill(buf, n, off);
		crypto_hash_sha256_update(&st, buf, n);
		off += n;
	}
	crypto_hash_sha256_final(&st, h);
	hex(h, hx);
	printf("%s\n", hx);
	return 0;
}

static int do_sink(int port)
{
	struct sockaddr_in a;
	crypto_hash_sha256_state st;
	static uint8_t buf[65536];
	uint8_t h[32];
	char hx[65];
	uint64_t got = 0;
	int64_t last;
	int l, c, one = 1;

	l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0) {
		perror("sink: bind/listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("sink: accept");
		return 1;
	}
	const char *ka = getenv("FAULT_KEEPALIVE");
	int ki, kv, kc;
	if (ka && sscanf(ka, "%d,%d,%d", &ki, &kv, &kc) == 3 &&
	    (setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	     setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &ki, sizeof(ki)) < 0 ||
	     setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &kv, sizeof(kv)) < 0 ||
	     setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &kc, sizeof(kc)) < 0)) {
		perror("sink: keepalive");
		return 1;
	}
	printf("accepted\n");
	fflush(stdout);
	crypto_hash_sha256_init(&st);
	last = now_ms();
	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r > 0) {
			crypto_hash_sha256_update(&st, buf, (size_t)r);
			got += (uint64_t)r;
			last = now_ms();
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			printf("error %s %llu %lld\n", errname(errno), (unsigned long long)got,
			       (long long)(now_ms() - last));
			return 3;
		}
		break;
	}
	crypto_hash_sha256_final(&st, h);
	hex(h, hx);
	printf("done %llu %s %lld\n", (unsigned long long)got, hx, (long long)(now_ms() - last));
	return 0;
}

static int do_source(const char *ip, int port, uint64_t total, long kbps)
{
	struct addrinfo hints, *ai;
	crypto_hash_sha256_state st;
	static uint8_t buf[65536];
	uint8_t h[32];
	char hx[65], ps[16];
	uint64_t off = 0;
	int64_t start, last;
	int fd;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(ip, ps, &hints, &ai) != 0) {
		fprintf(stderr, "source: bad address %s\n", ip);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		printf("error connect:%s 0 0\n", errname(errno));
		return 3;
	}
	freeaddrinfo(ai);
	printf("connected\n");
	fflush(stdout);
	crypto_hash_sha256_init(&st);
	start = last = now_ms();
	while (off < total) {
		size_t n = total - off < sizeof(buf) ? (size_t)(total - off) : sizeof(buf);
		ssize_t w;

		if (kbps > 0) {
			int64_t due = start + (int64_t)(off / 1024 * 1000 / (uint64_t)kbps);
			int64_t t = now_ms();

			if (due > t)
				usleep((useconds_t)(due - t) * 1000);
			if (n > 8192)
				n = 8192;
		}
		stream_fill(buf, n, off);
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			printf("error %s %llu %lld\n", errname(w < 0 ? errno : 0),
			       (unsigned long long)off, (long long)(now_ms() - last));
			return 3;
		}
		crypto_hash_sha256_update(&st, buf, (size_t)w);
		off += (uint64_t)w;
		last = now_ms();
	}
	crypto_hash_sha256_final(&st, h);
	hex(h, hx);
	close(fd);
	printf("sent %llu %s\n", (unsigned long long)off, hx);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "sink"))
		return do_sink(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "source"))
		return do_source(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10),
				 argc > 5 ? atol(argv[5]) : 0);
	if (argc >= 3 && !strcmp(argv[1], "stream"))
		return do_stream(strtoull(argv[2], NULL, 10));
	fprintf(stderr, "usage: fault_xfer sink PORT | source IP PORT BYTES [KBPS] | stream BYTES\n");
	return 1;
}
