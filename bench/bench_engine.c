/* bench_engine.c - microbenchmarks of the node engine alone (no I/O):
 * packet armor (Salsa20/12 + Poly1305, PROTOCOL.md §3.5) and dearmor at a
 * given packet size, identity validation (the memory-hard address hash,
 * §2.4), key agreement and signatures.
 *
 * Usage: bench_engine [-s SIZE] [-t SECONDS] [-j]
 * Prints one "name value unit" line per measurement (-j: one JSON object).
 * Built by bench/run.sh against build/libztnode.a.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/crypto.h"
#include "node/identity.h"

struct bench_result {
	const char *name;
	double value;
	const char *unit;
};

/* bench_now() - monotonic seconds */
static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bench_fill() - deterministic pseudo-random bytes (xorshift) */
static void bench_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* bench_armor() - armor then dearmor one SIZE-byte packet in a loop for
 * SECONDS; a failed dearmor aborts (the benchmark also checks round trips).
 * Return: packets per second (each counted once for armor+dearmor), or -1. */
static double bench_armor(unsigned size, double seconds, double *armor_only_pps)
{
	uint8_t key[32], *pkt, *orig;
	unsigned long n = 0, m = 0;
	double t0, t1;

	pkt = malloc(size);
	orig = malloc(size);
	if (!pkt || !orig)
		return -1;
	bench_fill(key, sizeof(key), 1);
	bench_fill(orig, size, 2);
	orig[ZT_PKT_IDX_FLAGS] = 0;

	/* armor only */
	t0 = bench_now();
	do {
		for (int i = 0; i < 256; i++) {
			memcpy(pkt, orig, size);
			pkt[0] = (uint8_t)m;	/* new IV each packet */
			zt_armor(pkt, size, key, ZT_CIPHER_POLY1305_SALSA2012);
			m++;
		}
		t1 = bench_now();
	} while (t1 - t0 < seconds / 2);
	*armor_only_pps = (double)m / (t1 - t0);

	/* armor + dearmor, verifying the plaintext comes back */
	t0 = bench_now();
	do {
		for (int i = 0; i < 256; i++) {
			memcpy(pkt, orig, size);
			pkt[0] = (uint8_t)n;
			zt_armor(pkt, size, key, ZT_CIPHER_POLY1305_SALSA2012);
			if (zt_dearmor(pkt, size, key) != 0 ||
			    memcmp(pkt + ZT_PKT_IDX_VERB, orig + ZT_PKT_IDX_VERB, size - ZT_PKT_IDX_VERB) != 0) {
				fprintf(stderr, "bench_engine: armor round trip failed at packet %lu\n", n);
				free(pkt);
				free(orig);
				return -1;
			}
			n++;
		}
		t1 = bench_now();
	} while (t1 - t0 < seconds / 2);
	free(pkt);
	free(orig);
	return (double)n / (t1 - t0);
}

/* bench_identity() - time generate (a few), validate, agree, sign, verify.
 * Fills results; Return: number of results, or -1. */
static int bench_identity(struct bench_result *r, double seconds)
{
	struct zt_identity a, b, pub;
	uint8_t key[ZT_PEER_KEY_LEN], sig[ZT_SIGNATURE_LEN], msg[256];
	double t0, t1;
	unsigned long n;
	int k = 0;

	t0 = bench_now();
	n = 0;
	do {
		if (zt_identity_generate(n & 1 ? &b : &a) != 0)
			return -1;
		n++;
		t1 = bench_now();
	} while (n < 2 || (t1 - t0 < seconds && n < 20));
	r[k++] = (struct bench_result){"identity_generate_ms", (t1 - t0) * 1000.0 / (double)n, "ms"};

	pub = a;
	pub.has_private = 0;
	memset(pub.priv, 0, sizeof(pub.priv));
	t0 = bench_now();
	n = 0;
	do {
		if (zt_identity_validate(&pub) != 1) {
			fprintf(stderr, "bench_engine: a fresh identity did not validate\n");
			return -1;
		}
		n++;
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	r[k++] = (struct bench_result){"identity_validate_ms", (t1 - t0) * 1000.0 / (double)n, "ms"};

	t0 = bench_now();
	n = 0;
	do {
		if (zt_identity_agree(&a, &b, key) != 0)
			return -1;
		n++;
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	r[k++] = (struct bench_result){"key_agree_us", (t1 - t0) * 1e6 / (double)n, "us"};

	bench_fill(msg, sizeof(msg), 3);
	t0 = bench_now();
	n = 0;
	do {
		if (zt_identity_sign(&a, msg, sizeof(msg), sig) != 0)
			return -1;
		n++;
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	r[k++] = (struct bench_result){"sign_us", (t1 - t0) * 1e6 / (double)n, "us"};

	t0 = bench_now();
	n = 0;
	do {
		if (zt_identity_verify(&pub, msg, sizeof(msg), sig, sizeof(sig)) != 1) {
			fprintf(stderr, "bench_engine: signature did not verify\n");
			return -1;
		}
		n++;
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	r[k++] = (struct bench_result){"verify_us", (t1 - t0) * 1e6 / (double)n, "us"};
	return k;
}

int main(int argc, char **argv)
{
	unsigned size = 1400;
	double seconds = 2.0;
	int json = 0, opt, k = 0, n;
	struct bench_result r[16];
	double pps, armor_pps;

	while ((opt = getopt(argc, argv, "s:t:j")) != -1) {
		switch (opt) {
		case 's': size = (unsigned)atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'j': json = 1; break;
		default:
			fprintf(stderr, "usage: %s [-s SIZE] [-t SECONDS] [-j]\n", argv[0]);
			return 2;
		}
	}
	if (size < ZT_PKT_MIN + 1 || size > 10000) {
		fprintf(stderr, "bench_engine: size must be %d..10000\n", ZT_PKT_MIN + 1);
		return 2;
	}
	if (zt_crypto_init() != 0) {
		fprintf(stderr, "bench_engine: libsodium init failed\n");
		return 1;
	}
	pps = bench_armor(size, seconds, &armor_pps);
	if (pps < 0)
		return 1;
	r[k++] = (struct bench_result){"armor_pps", armor_pps, "pkt/s"};
	r[k++] = (struct bench_result){"armor_MBps", armor_pps * size / 1e6, "MB/s"};
	r[k++] = (struct bench_result){"armor_dearmor_pps", pps, "pkt/s"};
	r[k++] = (struct bench_result){"armor_dearmor_MBps", pps * size / 1e6, "MB/s"};
	n = bench_identity(r + k, seconds / 4);
	if (n < 0) {
		fprintf(stderr, "bench_engine: identity benchmark failed\n");
		return 1;
	}
	k += n;
	if (json) {
		printf("{\"size\":%u", size);
		for (int i = 0; i < k; i++)
			printf(",\"%s\":%.3f", r[i].name, r[i].value);
		printf("}\n");
	} else {
		for (int i = 0; i < k; i++)
			printf("%s %.3f %s\n", r[i].name, r[i].value, r[i].unit);
	}
	return 0;
}
