/* Fixed test keys of the fuzz harnesses and seed generator (never used anywhere else). */
#ifndef SEQA_FUZZ_KEYS_H
#define SEQA_FUZZ_KEYS_H
#include <sodium.h>
static uint8_t fk_c4gh_sk[32], fk_c4gh_pk[32], fk_sign_sk[64], fk_sign_pk[32];
static void fk_init(void)
{
	static int done;
	uint8_t seed[32];
	if (done) return;
	done = 1;
	if (sodium_init() < 0) abort();
	memset(fk_c4gh_sk, 0x11, 32);
	crypto_scalarmult_base(fk_c4gh_pk, fk_c4gh_sk);
	memset(seed, 0x22, 32);
	crypto_sign_seed_keypair(fk_sign_pk, fk_sign_sk, seed);
}
#endif
