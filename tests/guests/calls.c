/* SPDX-License-Identifier: MIT */
/*
 * The trap benchmark guest: result[0] rounds (the host writes it before the
 * start) of one thing, chosen by result[2]: 0 a call to the function alone
 * on the target page, 1 a write to the secret page, 2 a guest request.
 * result[1] gets the sum of the calls.
 */
#include "guest.h"
#include "pages.h"

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	uint64_t rounds = result[0], acc = 0;
	uint64_t mode = result[2];

	if (vcpu)
		return;
	for (uint64_t i = 0; i < rounds; i++) {
		if (mode == 0)
			acc += target(i);
		else if (mode == 1)
			secret[i & 511] = i;
		else
			guest_request();
	}
	result[1] = acc;
}
