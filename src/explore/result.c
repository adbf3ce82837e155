/*
 * result.c - the result record's field table and its JSON and CSV writers.
 * Numbers are integers; strings are escaped; output is locale-independent.
 */
#include "result.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

const struct ax_result_field ax_result_fields[] = {
	{ "name", AX_FIELD_STR, offsetof(struct ax_result, name) },
	{ "family", AX_FIELD_CSTR, offsetof(struct ax_result, family) },
	{ "task", AX_FIELD_CSTR, offsetof(struct ax_result, task) },
	{ "convention", AX_FIELD_CSTR, offsetof(struct ax_result, convention) },
	{ "mode", AX_FIELD_CSTR, offsetof(struct ax_result, mode) },
	{ "src_len", AX_FIELD_I64, offsetof(struct ax_result, src_len) },
	{ "tgt_len", AX_FIELD_I64, offsetof(struct ax_result, tgt_len) },
	{ "params", AX_FIELD_I64, offsetof(struct ax_result, params) },
	{ "macs", AX_FIELD_I64, offsetof(struct ax_result, macs) },
	{ "other_flops", AX_FIELD_I64, offsetof(struct ax_result, other_flops) },
	{ "bytes", AX_FIELD_I64, offsetof(struct ax_result, bytes) },
	{ "embed_params", AX_FIELD_I64, offsetof(struct ax_result, embed_params) },
	{ "config_hash", AX_FIELD_STR, offsetof(struct ax_result, config_hash) },
	{ "archex_version", AX_FIELD_CSTR, offsetof(struct ax_result, version) },
};
const int ax_result_n_fields = sizeof ax_result_fields / sizeof ax_result_fields[0];

#ifndef AX_VERSION
#define AX_VERSION "unknown"
#endif

void ax_result_fill(struct ax_result *r, const struct ax_config *cfg,
		    const struct ax_cost *cost, int64_t S, int64_t T)
{
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", cfg->name);
	r->family = ax_family_names[cfg->family];
	r->task = ax_task_names[cfg->task];
	r->convention = ax_convention_names[cost->convention];
	r->mode = ax_mode_names[cost->mode];
	if (cfg->task == AX_TASK_LANGUAGE_MODEL)
		S = 0;
	r->src_len = S;
	r->tgt_len = T;
	r->params = cost->params;
	r->macs = ax_poly_eval(&cost->macs, S, T);
	r->other_flops = ax_poly_eval(&cost->other_flops, S, T);
	r->bytes = ax_poly_eval(&cost->bytes, S, T);
	r->embed_params = cost->params_by_scope[AX_SCOPE_EMBED];
	for (int k = 0; k < AX_KIND_COUNT; k++)
		r->macs_by_kind[k] = ax_poly_eval(&cost->macs_by_kind[k], S, T);
	r->n_layers = cost->n_layers;
	for (int i = 0; i < cost->n_layers; i++) {
		const struct ax_layer_cost *l = &cost->layers[i];
		snprintf(r->layers[i].name, sizeof r->layers[i].name, "%s.%d",
			 l->scope == AX_SCOPE_ENCODER ? "encoder" : "decoder",
			 (int)l->layer);
		r->layers[i].params = l->params;
		r->layers[i].macs = ax_poly_eval(&l->macs, S, T);
	}
	snprintf(r->config_hash, sizeof r->config_hash, "%016" PRIx64,
		 ax_config_hash(cfg));
	r->version = AX_VERSION;
}

static const void *field_ptr(const struct ax_result *r, const struct ax_result_field *fd)
{
	return (const char *)r + fd->offset;
}

void ax_result_write_json_members(struct ax_json *j, const struct ax_result *r)
{
	for (int i = 0; i < ax_result_n_fields; i++) {
		const struct ax_result_field *fd = &ax_result_fields[i];
		const void *p = field_ptr(r, fd);
		ax_json_key(j, fd->name);
		switch (fd->type) {
		case AX_FIELD_STR: ax_json_string(j, (const char *)p); break;
		case AX_FIELD_CSTR: ax_json_string(j, *(const char *const *)p); break;
		case AX_FIELD_I64: ax_json_int(j, *(const int64_t *)p); break;
		case AX_FIELD_TYPE_COUNT: break;
		}
	}
	ax_json_key(j, "macs_by_kind");
	ax_json_begin_object(j);
	for (int k = 0; k < AX_KIND_COUNT; k++) {
		ax_json_key(j, ax_cost_kind_names[k]);
		ax_json_int(j, r->macs_by_kind[k]);
	}
	ax_json_end_object(j);
	ax_json_key(j, "layers");
	ax_json_begin_array(j);
	for (int i = 0; i < r->n_layers; i++) {
		ax_json_begin_object(j);
		ax_json_key(j, "name");
		ax_json_string(j, r->layers[i].name);
		ax_json_key(j, "params");
		ax_json_int(j, r->layers[i].params);
		ax_json_key(j, "macs");
		ax_json_int(j, r->layers[i].macs);
		ax_json_end_object(j);
	}
	ax_json_end_array(j);
}

void ax_result_write_csv_header(FILE *f)
{
	for (int i = 0; i < ax_result_n_fields; i++)
		fprintf(f, "%s%s", i ? "," : "", ax_result_fields[i].name);
	for (int k = 0; k < AX_KIND_COUNT; k++)
		fprintf(f, ",macs_%s", ax_cost_kind_names[k]);
	fputc('\n', f);
}

void ax_csv_string(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void ax_result_write_csv_row(FILE *f, const struct ax_result *r)
{
	for (int i = 0; i < ax_result_n_fields; i++) {
		const struct ax_result_field *fd = &ax_result_fields[i];
		const void *p = field_ptr(r, fd);
		if (i)
			fputc(',', f);
		if (fd->type == AX_FIELD_I64)
			fprintf(f, "%" PRId64, *(const int64_t *)p);
		else if (fd->type == AX_FIELD_STR)
			ax_csv_string(f, (const char *)p);
		else
			ax_csv_string(f, *(const char *const *)p);
	}
	for (int k = 0; k < AX_KIND_COUNT; k++)
		fprintf(f, ",%" PRId64, r->macs_by_kind[k]);
	fputc('\n', f);
}
