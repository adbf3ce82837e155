/*
 * sweep.c - the per-point work of a sweep: genome expansion for grid,
 * random and evolution search, point ids and names, resolve, validate,
 * build, cost, constrain, and the JSON line of a point (see sweep.h and
 * docs/sweeps.md). Loading is in sweep_load.c, running in sweep_run.c.
 */
#include "sweep.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "result.h"
#include "sweep_impl.h"
#include "util.h"

/* --- points ---------------------------------------------------------- */

void ax_sweep_genome(const struct ax_sweep *sw, int family, int64_t i, int32_t *genes)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	if (sw->strategy == AX_SWEEP_GRID) {
		/* mixed radix, the last axis fastest */
		for (int a = fam->n_axes - 1; a >= 0; a--) {
			genes[a] = (int32_t)(i % fam->axes[a].n_values);
			i /= fam->axes[a].n_values;
		}
		return;
	}
	uint64_t rng = sw->seed * 0x9e3779b97f4a7c15ull ^
		       (uint64_t)(family + 1) * 0xd1b54a32d192ed03ull ^
		       (uint64_t)i * 0xabc98388fb8fac03ull;
	splitmix(&rng);
	random_genome(fam, &rng, genes);
}

static double var_config(const void *ctx, int32_t id)
{
	const struct ax_config *cfg = ctx;
	int k = id - AX_SWEEP_VAR_PATH;
	struct ax_cfg_path p = { .field = (int16_t)(k / 4), .side = (int8_t)(k % 4) };
	return ax_cfg_value_number(ax_cfg_path_field(&p), ax_cfg_path_get(cfg, &p));
}

static double var_point(const void *ctx, int32_t id)
{
	const struct ax_sweep_point *pt = ctx;
	if (id < AX_METRIC_COUNT)
		return pt->metrics[id];
	return var_config(&pt->cfg, id);
}

/* The id: a hash of the resolved config as ax_config_hash covers it, in
 * the order of ax_config_mix() (family, task, the adaptive settings, the
 * other top-level fields, then each stack's layers), then the convention,
 * the mode and the lengths; not the name, so equal designs from different
 * families' bases get equal ids. Words are mixed a word at a time:
 * ax_config_hash's byte-wise FNV costs about a microsecond per point, 10%
 * of the hot path. */
uint64_t ax_sweep_point_id(const struct ax_sweep *sw, int family,
			   const struct ax_config *cfg)
{
	uint64_t h = ax_config_mix(AX_FNV_OFFSET, cfg);
	(void)family;
	int64_t S = cfg->task == AX_TASK_LANGUAGE_MODEL ? 0 : sw->src_len;
	h = ax_mix64(h, sw->convention);
	h = ax_mix64(h, sw->mode);
	h = ax_mix64(h, S);
	h = ax_mix64(h, sw->tgt_len);
	/* a final avalanche so that nearby configs get unrelated ids */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

enum ax_status ax_sweep_resolve(const struct ax_sweep *sw, int family,
				const int32_t *genes, struct ax_sweep_point *pt,
				struct ax_diag *d)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	struct ax_config *cfg = &pt->cfg;
	*cfg = fam->base;
	pt->family = family;
	enum ax_status s;
	/* layer counts first, so per-layer values meet the final stacks */
	for (int pass = 0; pass < 2; pass++) {
		int g = 0;
		for (int a = 0; a < fam->n_axes; a++) {
			const struct ax_sweep_axis *ax = &fam->axes[a];
			bool stack = ax_cfg_path_field(&ax->path)->level == AX_CFG_STACK;
			int ng = ax->per_layer ? AX_MAX_LAYERS : 1;
			if (stack != (pass == 0)) {
				g += ng;
				continue;
			}
			if (ax->per_layer) {
				int64_t v[AX_MAX_LAYERS];
				const struct ax_stack_config *st =
					ax->path.side == AX_CFG_SIDE_ENCODER ? &cfg->encoder : &cfg->decoder;
				int n = (int)st->layers;
				for (int l = 0; l < n; l++)
					v[l] = sw->pool[ax->off[genes[g + l]]];
				if (n && (s = ax_cfg_path_set(cfg, &ax->path, v, n > 1 ? n : 1, d)))
					return s;
			} else {
				int vi = genes[g];
				if ((s = ax_cfg_path_set(cfg, &ax->path, sw->pool + ax->off[vi],
							 ax->len[vi], d)))
					return s;
			}
			g += ng;
		}
	}
	for (int i = 0; i < fam->n_derived; i++) {
		const struct ax_sweep_derived *dv = &fam->derived[i];
		int64_t v;
		if (ax_cfg_path_field(&dv->path)->type == AX_CFG_F64) {
			/* a float field: the real value, as its bits */
			double x = ax_expr_eval_f64(&dv->expr, var_config, cfg);
			if (!isfinite(x))
				return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						   "derived %s is not finite", dv->text);
			v = ax_f64_bits(x);
		} else if (!ax_expr_eval_i64(&dv->expr, var_config, cfg, &v)) {
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "derived %s divides by zero or leaves "
					   "the 64-bit integer range", dv->text);
		}
		if ((s = ax_cfg_path_set(cfg, &dv->path, &v, 1, d)))
			return s;
	}
	if ((s = ax_config_validate(cfg, d)))
		return s;
	pt->id = ax_sweep_point_id(sw, family, cfg);
	return AX_OK;
}

/* constraint_ok and feasible from pt's metrics (a NaN metric fails). */
static void check_constraints(const struct ax_sweep *sw, struct ax_sweep_point *pt)
{
	pt->constraint_ok = 0;
	pt->feasible = true;
	int n_con;
	const struct ax_sweep_constraint *con = ax_sweep_constraints(sw, pt->family, &n_con);
	for (int i = 0; i < n_con; i++) {
		if (ax_expr_eval_f64(&con[i].expr, var_point, pt) != 0)
			pt->constraint_ok |= 1u << i;
		else
			pt->feasible = false;
	}
}

enum ax_status ax_sweep_measure(const struct ax_sweep *sw, struct ax_sweep_ws *ws,
				struct ax_sweep_point *pt, struct ax_diag *d)
{
	/* The roofline latency walks the whole op list; the counts alone come
	 * from the fast evaluator, equal to ax_cost_graph() field by field
	 * (tests/test_cost_fast.c). */
	enum ax_status s;
	if (sw->need_latency || ws->reference) {
		if ((s = ax_model_build(&pt->cfg, &ws->g, d)))
			return s;
		ax_cost_graph(&ws->g, sw->convention, sw->mode, &pt->cost);
	} else if ((s = ax_fastcost_eval(&ws->fc, &pt->cfg, sw->convention,
					 sw->mode, &pt->cost, d))) {
		return s;
	}
	int64_t S = pt->cfg.task == AX_TASK_LANGUAGE_MODEL ? 0 : sw->src_len;
	int64_t T = sw->tgt_len;
	/* counts beyond int64 at the sweep's lengths: an invalid point */
	if (ax_cost_check(&pt->cost, S, T, d) != AX_OK)
		return AX_ERR_INPUT;
	const struct ax_cost *c = &pt->cost;
	double *m = pt->metrics;
	m[AX_METRIC_MACS] = (double)ax_poly_eval(&c->macs, S, T);
	m[AX_METRIC_PARAMS] = (double)c->params;
	m[AX_METRIC_EMBED_PARAMS] = (double)c->params_by_scope[AX_SCOPE_EMBED];
	m[AX_METRIC_NONEMBEDDING_PARAMS] = (double)(c->params -
		c->params_by_scope[AX_SCOPE_EMBED] - c->params_by_scope[AX_SCOPE_OUTPUT]);
	m[AX_METRIC_OTHER_FLOPS] = (double)ax_poly_eval(&c->other_flops, S, T);
	m[AX_METRIC_BYTES] = (double)ax_poly_eval(&c->bytes, S, T);
	m[AX_METRIC_ACCURACY] = NAN;
	if (sw->n_accuracy) {
		uint64_t h = ax_config_hash(&pt->cfg);
		for (int i = 0; i < sw->n_accuracy; i++)
			if (sw->accuracy_hash[i] == h)
				m[AX_METRIC_ACCURACY] = sw->accuracy_value[i];
	}
	m[AX_METRIC_LATENCY_MS] = sw->need_latency ?
		ax_device_latency_ms(&ws->g, sw->mode, S, T, sw->device) : NAN;
	for (int k = 0; k < AX_KIND_COUNT; k++)
		m[AX_METRIC_KIND_BASE + k] = (double)ax_poly_eval(&c->macs_by_kind[k], S, T);
	for (int k = AX_METRIC_TRAINED_BASE; k < AX_METRIC_COUNT; k++)
		m[k] = NAN;
	memset(&pt->trained, 0, sizeof pt->trained);
	check_constraints(sw, pt);
	return AX_OK;
}

/* Mean and sample std of x[0..n) into out[0], out[1] (std 0 for one). */
static void mean_std(const double *x, int n, double *out)
{
	double s = 0, q = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	double mean = n ? s / n : NAN;
	for (int i = 0; i < n; i++)
		q += (x[i] - mean) * (x[i] - mean);
	out[0] = mean;
	out[1] = n > 1 ? sqrt(q / (n - 1)) : n ? 0.0 : NAN;
}

enum ax_status ax_sweep_measure_trained(const struct ax_sweep *sw,
					struct ax_sweep_point *pt,
					ax_sweep_train_fn fn, void *ctx,
					struct ax_diag *d)
{
	if (!sw->train.present || !fn)
		return AX_OK;
	int n_con;
	const struct ax_sweep_constraint *con = ax_sweep_constraints(sw, pt->family, &n_con);
	for (int i = 0; i < n_con; i++)
		if (!con[i].trained && !(pt->constraint_ok & (1u << i)))
			return AX_OK;   /* statically infeasible: not worth training */
	pt->trained.attempted = true;
	enum ax_status s = fn(ctx, sw, pt, d);
	if (s != AX_OK)
		return s;
	const struct ax_sweep_trained *t = &pt->trained;
	if (t->n_seeds == sw->train.n_seeds && !t->error[0]) {
		double *m = pt->metrics;
		mean_std(t->valid_loss, t->n_seeds, &m[AX_METRIC_VALID_LOSS]);
		mean_std(t->valid_ppl, t->n_seeds, &m[AX_METRIC_VALID_PPL]);
		mean_std(t->train_seconds, t->n_seeds, &m[AX_METRIC_TRAIN_SECONDS]);
		if (sw->train.bleu) {
			mean_std(t->bleu, t->n_seeds, &m[AX_METRIC_BLEU]);
			mean_std(t->chrf, t->n_seeds, &m[AX_METRIC_CHRF]);
		}
	}
	check_constraints(sw, pt);
	return AX_OK;
}

const struct ax_sweep_constraint *ax_sweep_constraints(const struct ax_sweep *sw,
						       int family, int *n)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	if (fam->n_constraints) {
		if (n)
			*n = fam->n_constraints;
		return fam->constraint;
	}
	if (n)
		*n = sw->n_constraints;
	return sw->constraint;
}

double ax_sweep_fitness(const struct ax_sweep_objective *o, const double *metrics)
{
	double v = metrics[o->metric];
	return o->maximize ? v : -v;
}

void ax_sweep_ws_init(struct ax_sweep_ws *ws)
{
	ax_graph_init(&ws->g);
	ax_fastcost_init(&ws->fc);
	ws->reference = false;
}

void ax_sweep_ws_free(struct ax_sweep_ws *ws)
{
	ax_graph_free(&ws->g);
	ax_fastcost_free(&ws->fc);
}

/* --- output ---------------------------------------------------------- */

static int64_t layer_value(const struct ax_stack_config *st, int64_t l,
			   const struct ax_cfg_field *fd);

/* "<label>-d200-eL6-dL3-k3.7.15": the family label, then each axis's
 * value in the resolved config (e/d for one stack; a per-layer field
 * whose layers differ as its values joined by '.'; enums by name). */
void ax_sweep_point_name(const struct ax_sweep *sw, const struct ax_sweep_point *pt,
			 char *buf, size_t size)
{
	const struct ax_sweep_family *fam = &sw->family[pt->family];
	size_t o = (size_t)snprintf(buf, size, "%s", fam->label);
	for (int a = 0; a < fam->n_axes && o < size; a++) {
		const struct ax_sweep_axis *ax = &fam->axes[a];
		const struct ax_cfg_field *fd = ax_cfg_path_field(&ax->path);
		const char *side = ax->path.side == AX_CFG_SIDE_ENCODER ? "e" :
				   ax->path.side == AX_CFG_SIDE_DECODER ? "d" : "";
		o += (size_t)snprintf(buf + o, size - o, "-%s%s", side, fd->tag);
		const struct ax_stack_config *st =
			ax->path.side == AX_CFG_SIDE_DECODER ? &pt->cfg.decoder : &pt->cfg.encoder;
		if (fd->level == AX_CFG_LAYER && st->layers == 0)
			st = &pt->cfg.decoder;
		int64_t n = fd->level == AX_CFG_LAYER ? st->layers : 1;
		bool same = true;
		for (int64_t l = 1; l < n; l++)
			same &= layer_value(st, l, fd) == layer_value(st, 0, fd);
		if (fd->level != AX_CFG_LAYER || same)
			n = 1;
		for (int64_t l = 0; l < n && o < size; l++) {
			int64_t v = fd->level == AX_CFG_LAYER ? layer_value(st, l, fd) :
				    ax_cfg_path_get(&pt->cfg, &ax->path);
			const char *sep = l ? "." : "";
			char num[40];
			if (fd->type == AX_CFG_ENUM) {
				o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, fd->names[v]);
			} else if (fd->type == AX_CFG_F64) {
				ax_cfg_value_format(fd, v, num, sizeof num);
				o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, num);
			} else
				o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, sep, v);
		}
	}
}

/* Integral values as JSON integers, others shortest round-trip, NaN null. */
static void json_num(struct ax_json *j, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9e15)
		ax_json_int(j, (int64_t)v);
	else
		ax_json_double(j, v);
}

static void json_field_value(struct ax_json *j, const struct ax_cfg_field *fd, int64_t v)
{
	if (fd->type == AX_CFG_ENUM)
		ax_json_string(j, fd->names[v]);
	else if (fd->type == AX_CFG_F64)
		ax_json_double(j, ax_bits_f64(v));
	else if (fd->type == AX_CFG_BOOL)
		ax_json_bool(j, v != 0);
	else
		ax_json_int(j, v);
}

static int64_t layer_value(const struct ax_stack_config *st, int64_t l,
			   const struct ax_cfg_field *fd)
{
	const char *p = (const char *)&st->layer[l] + fd->offset;
	return fd->type == AX_CFG_I64 ? *(const int64_t *)p :
	       fd->type == AX_CFG_F64 ? ax_f64_bits(*(const double *)p) :
	       fd->type == AX_CFG_BOOL ? *(const bool *)p : *(const int *)p;
}

/* The config as flat dotted paths, the spelling of sweep axes: a
 * per-layer field is a scalar when every layer agrees, else a list. Every
 * path is written but those under a mapping the family does not have
 * (ax_config_map_name: attention_branch and conv_branch for lite, conv
 * for lightconv), and the train.* paths of a config without a train
 * section. */
static void write_config(struct ax_json *j, const struct ax_config *cfg)
{
	ax_json_begin_object(j);
	ax_json_key(j, "family");
	ax_json_string(j, ax_family_names[cfg->family]);
	ax_json_key(j, "task");
	ax_json_string(j, ax_task_names[cfg->task]);
	for (int i = 0; i < ax_cfg_n_fields; i++) {
		const struct ax_cfg_field *fd = &ax_cfg_fields[i];
		const char *map = fd->map ? ax_config_map_name(cfg, fd->rule) : NULL;
		if (fd->map && (!map || strcmp(map, fd->map) != 0))
			continue;
		if (fd->level == AX_CFG_TRAIN && !cfg->train.enabled)
			continue;
		if (fd->level == AX_CFG_TOP || fd->level == AX_CFG_TRAIN) {
			struct ax_cfg_path p = { .field = (int16_t)i, .side = 0 };
			ax_json_key(j, fd->name);
			json_field_value(j, fd, ax_cfg_path_get(cfg, &p));
			continue;
		}
		for (int s = 1; s <= 2; s++) {
			struct ax_cfg_path p = { .field = (int16_t)i, .side = (int8_t)s };
			const struct ax_stack_config *st = s == 1 ? &cfg->encoder : &cfg->decoder;
			if (fd->level == AX_CFG_LAYER && st->layers == 0)
				continue;
			char name[96];
			ax_cfg_path_format(&p, name, sizeof name);
			ax_json_key(j, name);
			if (fd->level == AX_CFG_STACK) {
				ax_json_int(j, st->layers);
				continue;
			}
			bool same = true;
			for (int64_t l = 1; l < st->layers; l++)
				same &= layer_value(st, l, fd) == layer_value(st, 0, fd);
			if (same) {
				json_field_value(j, fd, layer_value(st, 0, fd));
				continue;
			}
			ax_json_begin_array(j);
			for (int64_t l = 0; l < st->layers; l++)
				json_field_value(j, fd, layer_value(st, l, fd));
			ax_json_end_array(j);
		}
	}
	ax_json_end_object(j);
}

/* "trained": {"attempted", "recipe_hash", "seeds": [..], "valid_loss":
 * [..] per seed, ..., "error"}. */
static void write_trained(struct ax_json *j, const struct ax_sweep *sw,
			  const struct ax_sweep_trained *t)
{
	ax_json_key(j, "trained");
	ax_json_begin_object(j);
	ax_json_key(j, "attempted");
	ax_json_bool(j, t->attempted);
	ax_json_key(j, "recipe_hash");
	t->recipe[0] ? ax_json_string(j, t->recipe) : ax_json_null(j);
	ax_json_key(j, "seeds");
	ax_json_begin_array(j);
	for (int i = 0; i < sw->train.n_seeds; i++)
		ax_json_int(j, sw->train.seeds[i]);
	ax_json_end_array(j);
	static const char *const names[] = { "valid_loss", "valid_ppl", "train_seconds",
					     "bleu", "chrf" };
	const double *v[] = { t->valid_loss, t->valid_ppl, t->train_seconds, t->bleu,
			      t->chrf };
	for (int k = 0; k < (sw->train.bleu ? 5 : 3); k++) {
		ax_json_key(j, names[k]);
		ax_json_begin_array(j);
		for (int i = 0; i < t->n_seeds; i++)
			json_num(j, v[k][i]);
		ax_json_end_array(j);
	}
	ax_json_key(j, "error");
	t->error[0] ? ax_json_string(j, t->error) : ax_json_null(j);
	ax_json_end_object(j);
}

enum ax_status ax_sweep_point_write_json(FILE *f, const struct ax_sweep *sw,
					 const struct ax_sweep_point *pt,
					 struct ax_diag *d)
{
	char name[128], id[17];
	struct ax_json j;
	ax_sweep_point_name(sw, pt, name, sizeof name);
	snprintf(id, sizeof id, "%016" PRIx64, pt->id);
	ax_json_init(&j, f, AX_JSON_COMPACT);
	ax_json_begin_object(&j);
	ax_json_key(&j, "id");
	ax_json_string(&j, id);
	ax_json_key(&j, "index");
	ax_json_int(&j, pt->index);
	ax_json_key(&j, "family");
	ax_json_string(&j, sw->family[pt->family].label);
	ax_json_key(&j, "name");
	ax_json_string(&j, name);
	ax_json_key(&j, "feasible");
	ax_json_bool(&j, pt->feasible);
	ax_json_key(&j, "metrics");
	ax_json_begin_object(&j);
	int n_metrics = sw->train.present ? AX_METRIC_COUNT : AX_METRIC_TRAINED_BASE;
	for (int m = 0; m < n_metrics; m++) {
		ax_json_key(&j, ax_metric_name(m));
		json_num(&j, pt->metrics[m]);
	}
	ax_json_end_object(&j);
	if (sw->train.present)
		write_trained(&j, sw, &pt->trained);
	ax_json_key(&j, "objectives");
	ax_json_begin_object(&j);
	for (int o = 0; o < sw->n_objectives; o++) {
		ax_json_key(&j, ax_metric_name(sw->objective[o].metric));
		json_num(&j, pt->metrics[sw->objective[o].metric]);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "constraints");
	ax_json_begin_object(&j);
	int n_con;
	const struct ax_sweep_constraint *con = ax_sweep_constraints(sw, pt->family, &n_con);
	for (int c = 0; c < n_con; c++) {
		ax_json_key(&j, con[c].text);
		ax_json_bool(&j, (pt->constraint_ok & (1u << c)) != 0);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "config");
	write_config(&j, &pt->cfg);
	struct ax_result r;
	struct ax_config named = pt->cfg;
	snprintf(named.name, sizeof named.name, "%s", name);
	ax_result_fill(&r, &named, &pt->cost, sw->src_len, sw->tgt_len);
	ax_json_key(&j, "result");
	ax_json_begin_object(&j);
	ax_result_write_json_members(&j, &r);
	ax_json_end_object(&j);
	ax_json_end_object(&j);
	return ax_json_finish(&j, d);
}
