/* com.h - Certificate of Membership (PROTOCOL.md §8), Revocation and the
 * skip-parsers for the other credentials (§9).
 */
#ifndef NETCON_NODE_COM_H
#define NETCON_NODE_COM_H

#include <stddef.h>
#include <stdint.h>

#include "node/identity.h"

#define ZT_COM_MAX_QUALIFIERS 8
#define ZT_COM_MAX_LEN (1 + 2 + 24 * ZT_COM_MAX_QUALIFIERS + 5 + ZT_SIGNATURE_LEN)

enum {
	ZT_COM_Q_TIMESTAMP = 0,
	ZT_COM_Q_NETWORK_ID = 1,
	ZT_COM_Q_ISSUED_TO = 2,
};

struct zt_com_qualifier {
	uint64_t id, value, max_delta;
};

struct zt_com {
	unsigned n;
	struct zt_com_qualifier q[ZT_COM_MAX_QUALIFIERS];
	uint64_t signed_by;	/* 0 = unsigned */
	uint8_t sig[ZT_SIGNATURE_LEN];
};

/* zt_com_init() - the official 7 qualifiers (ts, nwid, issued-to, identity
 * hash 3..6), unsigned. */
void zt_com_init(struct zt_com *c, uint64_t ts, uint64_t max_delta, uint64_t nwid,
		 const struct zt_identity *issued_to);

/* zt_com_serialize() - Return: bytes written or -ENOSPC. */
int zt_com_serialize(const struct zt_com *c, uint8_t *out, size_t cap);
/* zt_com_deserialize() - Return: bytes consumed or -EINVAL. */
int zt_com_deserialize(struct zt_com *c, const uint8_t *in, size_t len);

/* zt_com_sign() - sign with the controller identity. Return 0 or -errno. */
int zt_com_sign(struct zt_com *c, const struct zt_identity *signer);
/* zt_com_verify() - signed by signer and the signature verifies. Return 1 or 0. */
int zt_com_verify(const struct zt_com *c, const struct zt_identity *signer);

/* zt_com_get() - value of qualifier id; *found (may be NULL) set 0/1 */
uint64_t zt_com_get(const struct zt_com *c, uint64_t id, int *found);
static inline uint64_t zt_com_timestamp(const struct zt_com *c) { return zt_com_get(c, ZT_COM_Q_TIMESTAMP, NULL); }
static inline uint64_t zt_com_nwid(const struct zt_com *c) { return zt_com_get(c, ZT_COM_Q_NETWORK_ID, NULL); }
static inline uint64_t zt_com_issued_to(const struct zt_com *c) { return zt_com_get(c, ZT_COM_Q_ISSUED_TO, NULL); }

/* zt_com_agrees() - the gate's agreement check (§8.3): every qualifier of
 * ours within our maxDelta of theirs, and their identity hash qualifiers
 * (3..6) equal to SHA-384 of their actual identity. Return 1 or 0. */
int zt_com_agrees(const struct zt_com *ours, const struct zt_com *theirs,
		  const struct zt_identity *their_id);

/* zt_identity_hash_qualifiers() - SHA-384(address ‖ public key)[0..31] as 4 u64 */
void zt_identity_hash_qualifiers(const struct zt_identity *id, uint64_t out[4]);

/* ---- Revocation (§8.5, §9) ---- */

enum zt_credential_type {
	ZT_CRED_NULL = 0,
	ZT_CRED_COM = 1,
	ZT_CRED_CAPABILITY = 2,
	ZT_CRED_TAG = 3,
	ZT_CRED_COO = 4,
	ZT_CRED_REVOCATION = 6,
};

#define ZT_REVOCATION_FLAG_FAST_PROPAGATE 0x1ULL

struct zt_revocation {
	uint32_t id;
	uint64_t nwid;
	uint32_t credential_id;
	uint64_t threshold;
	uint64_t flags;
	uint64_t target;
	uint64_t signed_by;
	uint8_t type;
	int has_sig;
	uint8_t sig[ZT_SIGNATURE_LEN];
};

/* zt_revocation_serialize() - Return bytes written or -ENOSPC. */
int zt_revocation_serialize(const struct zt_revocation *r, uint8_t *out, size_t cap);
/* zt_revocation_deserialize() - Return bytes consumed or -EINVAL. */
int zt_revocation_deserialize(struct zt_revocation *r, const uint8_t *in, size_t len);
/* zt_revocation_sign() / zt_revocation_verify() - 0/-errno, 1/0 */
int zt_revocation_sign(struct zt_revocation *r, const struct zt_identity *signer);
int zt_revocation_verify(const struct zt_revocation *r, const struct zt_identity *signer);

/* Skip-parsers for credentials we do not interpret (§9).
 * Return: bytes the credential occupies, or -EINVAL. */
int zt_tag_skip(const uint8_t *in, size_t len);
int zt_capability_skip(const uint8_t *in, size_t len);
int zt_coo_skip(const uint8_t *in, size_t len);

/* zt_credentials_build() - NETWORK_CREDENTIALS payload: optional COM, the
 * 00 terminator, then counts (caps 0, tags 0, revs n_rev, coos 0).
 * Return bytes written or -ENOSPC. */
int zt_credentials_build(uint8_t *out, size_t cap, const struct zt_com *com,
			 const struct zt_revocation *revs, unsigned n_rev);

#endif
