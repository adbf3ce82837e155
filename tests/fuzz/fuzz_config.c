/*
 * fuzz_config.c - libFuzzer target for the YAML config loader: any bytes
 * must give AX_OK or a diagnostic, never a crash, leak or hang; a config
 * that loads must also pass ax_config_validate() and write JSON that
 * loads back to the same hash. Built with -DAX_FUZZ=ON (clang).
 */
#define _POSIX_C_SOURCE 200809L  /* open_memstream; the fuzz build sets no flags */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

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
		ax_config_write_json(f, cfg);
		fclose(f);
		if (ax_config_load_string(buf, len, "json", back, &d) != AX_OK ||
		    ax_config_hash(back) != ax_config_hash(cfg))
			abort();
		free(buf);
	} else if (d.msg[0] == '\0') {
		abort();
	}
	free(cfg);
	free(back);
	return 0;
}
