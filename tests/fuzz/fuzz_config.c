/*
 * fuzz_config.c - libFuzzer target for everything a model config goes
 * through: YAML load, validation, the family builder and the cost model
 * under both conventions and modes. Invariants checked on every input:
 *   - a config the loader accepts also passes ax_config_validate();
 *   - an accepted config builds, and its costs evaluate without overflow
 *     traps (UBSan) at the default and at long lengths;
 *   - a rejected config leaves a diagnostic with a message.
 * Build with -DAX_FUZZ=ON (clang); see scripts/test.sh for the smoke run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cost.h"
#include "graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ax_config cfg;
	static struct ax_cost cost;
	struct ax_diag d;
	memset(&d, 0, sizeof d);
	if (ax_config_load_string((const char *)data, size, "fuzz.yaml", &cfg,
				  &d) != AX_OK) {
		if (!d.msg[0])
			abort();   /* every failure must say why */
		return 0;
	}
	if (ax_config_validate(&cfg, &d) != AX_OK)
		abort();       /* the loader and the validator disagree */
	struct ax_graph g;
	ax_graph_init(&g);
	if (ax_model_build(&cfg, &g, &d) == AX_OK) {
		for (int c = 0; c < AX_CONVENTION_COUNT; c++)
			for (int m = 0; m < AX_MODE_COUNT; m++) {
				ax_cost_graph(&g, (enum ax_convention)c,
					      (enum ax_mode)m, &cost);
				(void)ax_poly_eval(&cost.macs, 30, 30);
				(void)ax_poly_eval(&cost.bytes, 1024, 1024);
			}
	}
	ax_graph_free(&g);
	return 0;
}
