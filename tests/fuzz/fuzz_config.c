/*
 * fuzz_config.c - libFuzzer target for the YAML config loader: any bytes
 * must give AX_OK or a diagnostic, never a crash, leak or hang; a config
 * that loads must also pass ax_config_validate() and write JSON that
 * loads back to the same hash. It is also built and costed under every
 * convention and mode, with UBSan watching every signed product and sum:
 * the loader's parameter bound must keep all of them within int64, and
 * ax_cost_check() must vouch for ax_poly_eval() at the longest lengths.
 * Built with -DAX_FUZZ=ON (clang).
 */
#define _POSIX_C_SOURCE 200809L  /* open_memstream; the fuzz build sets no flags */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "cost.h"
#include "graph.h"
#include "models.h"
#include "model.h"

/* Builds and costs cfg; any overflow is a UBSan abort. */
static void cost_everything(const struct ax_config *cfg)
{
	static struct ax_graph g;
	static bool init;
	struct ax_cost *c = malloc(sizeof *c);
	struct ax_diag d;

	if (!c)
		abort();
	if (!init) {
		ax_graph_init(&g);
		init = true;
	}
	if (ax_model_build(cfg, &g, &d) != AX_OK)
		abort();   /* a validated config must build */
	for (int conv = 0; conv < AX_CONVENTION_COUNT; conv++)
		for (int mode = 0; mode < AX_MODE_COUNT; mode++) {
			ax_cost_graph(&g, (enum ax_convention)conv,
				      (enum ax_mode)mode, c);
			static const int64_t len[] = { 1, 30, 4096, 1 << 20 };
			for (size_t i = 0; i < sizeof len / sizeof len[0]; i++)
				if (ax_cost_check(c, len[i], len[i], &d) == AX_OK &&
				    ax_poly_eval(&c->macs, len[i], len[i]) < 0)
					abort();
		}
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ax_config *cfg = malloc(sizeof *cfg), *back = malloc(sizeof *back);
	struct ax_diag d;

	if (!cfg || !back)
		abort();
	if (ax_config_load_string((const char *)data, size, "fuzz", cfg, &d) ==
	    AX_OK) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (ax_config_validate(cfg, &d) != AX_OK || !f)
			abort();
		cost_everything(cfg);
		ax_config_write_json(f, cfg);
		fclose(f);
		if (ax_config_load_string(buf, len, "json", back, &d) != AX_OK ||
		    ax_config_hash(back) != ax_config_hash(cfg) ||
		    ax_config_recipe_hash(back) != ax_config_recipe_hash(cfg))
			abort();
		free(buf);
	} else if (d.msg[0] == '\0') {
		abort();
	}
	free(cfg);
	free(back);
	return 0;
}
