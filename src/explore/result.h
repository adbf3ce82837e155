/*
 * result.h - one result record and one field table that drive every output
 * format: the person-readable table, CSV, JSON and JSON Lines.
 *
 * A record is the cost of one config under one convention, mode and pair of
 * lengths, with provenance (archex version, config hash). To add a scalar
 * column: a field in struct ax_result and a row in ax_result_fields[].
 */
#ifndef AX_RESULT_H
#define AX_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cost.h"
#include "json.h"

struct ax_result_layer {
	char name[32];          /* "encoder.0" */
	int64_t params;
	int64_t macs;
};

struct ax_result {
	char name[128];
	const char *family;
	const char *task;
	const char *convention;
	const char *mode;
	int64_t src_len;        /* S (0 for language models) */
	int64_t tgt_len;        /* T */
	int64_t params;
	int64_t macs;
	int64_t other_flops;
	int64_t bytes;
	int64_t embed_params;   /* params of the embedding scope */
	int64_t macs_by_kind[AX_KIND_COUNT];
	int n_layers;
	struct ax_result_layer layers[AX_MAX_COST_LAYERS];
	char config_hash[17];   /* 16 hex digits */
	const char *version;
};

enum ax_field_type { AX_FIELD_STR, AX_FIELD_CSTR, AX_FIELD_I64, AX_FIELD_TYPE_COUNT };

struct ax_result_field {
	const char *name;
	enum ax_field_type type;
	size_t offset;
};

extern const struct ax_result_field ax_result_fields[];
extern const int ax_result_n_fields;

/* Fills r from a config and its cost at lengths (S, T). */
void ax_result_fill(struct ax_result *r, const struct ax_config *cfg,
		    const struct ax_cost *cost, int64_t S, int64_t T);

/* JSON: the record's members into the object j has open, so callers can
 * add members of their own before closing it. */
void ax_result_write_json_members(struct ax_json *j, const struct ax_result *r);
/* CSV: a header, then one row per record; macs_by_kind as macs_<kind>. */
void ax_result_write_csv_header(FILE *f);
void ax_result_write_csv_row(FILE *f, const struct ax_result *r);

/* One CSV field: quoted (quotes doubled) when it holds a comma, a quote
 * or a line break, as RFC 4180 has it; every CSV writer uses it. */
void ax_csv_string(FILE *f, const char *s);

#endif
