/*
 * trainsweep.c - training the points of a sweep with a `train:` section
 * (trainsweep.h): the dataset check at load time, and per point and seed
 * a result read back from the sweep directory or a run trained (resumed
 * from its checkpoint when one is there) and its result written
 * atomically.
 */
#include "trainsweep.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_io.h"
#include "dataset.h"
#include "eval.h"
#include "json_read.h"
#include "model.h"
#include "sweep_out.h"

#define RESULT_FORMAT "archex-trained-point"

enum ax_status ax_trainsweep_check(const struct ax_sweep *sw, struct ax_diag *d)
{
	const struct ax_sweep_train *tr = &sw->train;
	if (!tr->present)
		return AX_OK;
	struct ax_dataset *ds = calloc(1, sizeof *ds);
	struct ax_graph g;
	struct ax_diag dd = { 0 };
	enum ax_status s;
	ax_graph_init(&g);
	if (!ds)
		return ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
	if (access(tr->data, F_OK) != 0) {
		s = ax_diag_set(d, AX_ERR_INPUT, sw->path, tr->data_line, tr->data_col,
				"train.data: no dataset directory %s (%s); build one with "
				"'archex data'", tr->data, strerror(errno));
		goto done;
	}
	if ((s = ax_dataset_open(tr->data, false, ds, &dd)) != AX_OK) {
		s = ax_diag_set(d, s, sw->path, tr->data_line, tr->data_col,
				"train.data: %s: %s", dd.file[0] ? dd.file : tr->data, dd.msg);
		goto done;
	}
	for (int f = 0; f < sw->n_families && s == AX_OK; f++) {
		const struct ax_config *base = &sw->family[f].base;
		memset(&dd, 0, sizeof dd);
		struct ax_eval_opts eo = { .split = (enum ax_data_split)tr->eval_split,
					   .decode = true, .beam = tr->beam };
		if ((s = ax_model_build(base, &g, &dd)) == AX_OK &&
		    (s = ax_train_data_check(&g, base, ds, &dd)) == AX_OK &&
		    (!tr->bleu || (s = ax_eval_check(&g, ds, &eo, &dd)) == AX_OK))
			continue;
		s = ax_diag_set(d, s, sw->path, tr->data_line, tr->data_col,
				"train.data does not fit family %s (%s): %s",
				sw->family[f].label, sw->family[f].base_path, dd.msg);
	}
done:
	ax_graph_free(&g);
	free(ds);
	return s;
}

/* DIR/trained/<id>-<recipe>-s<seed> */
static void key_dir(const struct ax_trainsweep *ts, const struct ax_sweep_point *pt,
		    int64_t seed, char *buf, size_t size)
{
	snprintf(buf, size, "%s/trained/%016" PRIx64 "-%s-s%" PRId64, ts->dir, pt->id,
		 pt->trained.recipe, seed);
}

/* An optional number: absent or null is NaN. */
static bool opt_f64(const json_t *v, double *out)
{
	*out = NAN;
	return !v || ax_json_get_f64(v, out);
}

/* result.json of a finished run: true with the three figures when it is
 * there and is this point's (id, recipe, seed); false when absent. A
 * file that is there but unreadable or foreign is an error. */
static enum ax_status read_result(const char *path, const struct ax_sweep_point *pt,
				  int64_t seed, double out[5], bool *found,
				  struct ax_diag *d)
{
	*found = false;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? AX_OK :
		       ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
	char text[4096];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	int col = 0;
	json_t *root = ax_json_parse(text, n, &col);
	char fmt[64] = "", id[17], want_id[17], recipe[17] = "";
	int64_t s = -1;
	bool ok = root && json_is_object(root) &&
		  ax_json_get_str(json_object_get(root, "format"), fmt, sizeof fmt) &&
		  !strcmp(fmt, RESULT_FORMAT) &&
		  ax_json_get_str(json_object_get(root, "id"), id, sizeof id) &&
		  ax_json_get_str(json_object_get(root, "recipe_hash"), recipe, sizeof recipe) &&
		  ax_json_get_i64(json_object_get(root, "seed"), 0, INT64_MAX, &s) &&
		  ax_json_get_f64(json_object_get(root, "valid_loss"), &out[0]) &&
		  ax_json_get_f64(json_object_get(root, "valid_ppl"), &out[1]) &&
		  ax_json_get_f64(json_object_get(root, "train_seconds"), &out[2]) &&
		  opt_f64(json_object_get(root, "bleu"), &out[3]) &&
		  opt_f64(json_object_get(root, "chrf"), &out[4]);
	json_decref(root);
	if (!ok)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0, "not a trained point's "
				   "result (corrupt or foreign); remove it to train again");
	snprintf(want_id, sizeof want_id, "%016" PRIx64, pt->id);
	if (strcmp(id, want_id) || strcmp(recipe, pt->trained.recipe) || s != seed)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0, "holds point %s recipe %s "
				   "seed %" PRId64 ", not %s %s %" PRId64, id, recipe, s,
				   want_id, pt->trained.recipe, seed);
	*found = true;
	return AX_OK;
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static enum ax_status write_result(const char *path, const struct ax_sweep_point *pt,
				   int64_t seed, const struct ax_train_summary *r,
				   const double *bleu_chrf, struct ax_diag *d)
{
	struct ax_atomic a = { 0 };
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	fprintf(f, "{\"format\": \"%s\", \"id\": \"%016" PRIx64 "\", \"recipe_hash\": "
		"\"%s\", \"seed\": %" PRId64 ", \"steps\": %" PRId64 ", \"train_tokens\": %"
		PRId64 ", \"valid_loss\": ", RESULT_FORMAT, pt->id, pt->trained.recipe, seed,
		r->steps, r->tokens);
	json_num(f, r->valid_loss);
	fputs(", \"valid_ppl\": ", f);
	json_num(f, r->valid_ppl);
	fputs(", \"train_seconds\": ", f);
	json_num(f, r->seconds);
	if (bleu_chrf) {
		fputs(", \"bleu\": ", f);
		json_num(f, bleu_chrf[0]);
		fputs(", \"chrf\": ", f);
		json_num(f, bleu_chrf[1]);
	}
	fputs("}\n", f);
	return ax_atomic_commit(&a, d);
}

struct relay {
	struct ax_trainsweep *ts;
	const struct ax_sweep_point *pt;
	int64_t seed;
};

static void relay_progress(void *ctx, const struct ax_train_progress *p)
{
	struct relay *r = ctx;
	r->ts->progress(r->ts->progress_ctx, r->pt, r->seed, p);
}

/* BLEU and chrF of run/weights: the eval split decoded by beam search
 * to the section's length cap (archex eval's defaults otherwise), into
 * out[0], out[1]. */
static enum ax_status eval_bleu(const struct ax_sweep *sw, const struct ax_graph *g,
				const char *run, double out[2], struct ax_diag *d)
{
	char weights[AX_PATH_MAX + 16];
	snprintf(weights, sizeof weights, "%s/weights", run);
	struct ax_dataset *ds = calloc(1, sizeof *ds);
	struct ax_eval_result *r = calloc(1, sizeof *r);
	enum ax_status s = ds && r ? AX_OK :
		ax_diag_set(d, AX_ERR_NOMEM, run, 0, 0, "out of memory");
	struct ax_eval_opts eo = {
		.split = (enum ax_data_split)sw->train.eval_split, .weights = weights,
		.decode = true, .beam = sw->train.beam, .lenpen = 1.0,
		.max_len_a = sw->train.max_len_a, .max_len_b = sw->train.max_len_b,
	};
	if (s == AX_OK && (s = ax_dataset_open(sw->train.data, false, ds, d)) == AX_OK &&
	    (s = ax_eval_run(g, ds, &eo, r, d)) == AX_OK) {
		out[0] = r->bleu.score;
		out[1] = r->bleu.chrf;
	}
	free(ds);
	free(r);
	return s;
}

/* One seed: trains (or resumes) the run in dir/run, writes
 * dir/run/config.yaml beside dir/run/weights and dir/result.json; a point that cannot train gets pt->trained.error. */
static enum ax_status train_seed(struct ax_trainsweep *ts, const struct ax_sweep *sw,
				 struct ax_sweep_point *pt, const struct ax_graph *g,
				 const struct ax_train_hparams *hp0, int64_t seed,
				 const char *dir, double out[5], struct ax_diag *d)
{
	const struct ax_sweep_train *tr = &sw->train;
	char run[AX_PATH_MAX], ckpt[AX_PATH_MAX + 16], res[AX_PATH_MAX];
	snprintf(run, sizeof run, "%.4000s/run", dir);
	snprintf(ckpt, sizeof ckpt, "%s/checkpoint", run);
	snprintf(res, sizeof res, "%.4000s/result.json", dir);
	enum ax_status s = ax_sweep_make_dirs(dir, d);
	if (s != AX_OK)
		return s;
	struct ax_train_hparams hp = *hp0;
	hp.seed = (uint64_t)seed;
	struct relay rl = { ts, pt, seed };
	struct ax_train_run_opts o = {
		.budget = { .train_tokens = tr->train_tokens, .max_steps = tr->max_steps },
		.valid_every = tr->valid_every, .save_every = tr->save_every,
		.threads = (int)tr->threads, .resume = access(ckpt, F_OK) == 0,
		.progress = ts->progress ? relay_progress : NULL, .progress_ctx = &rl,
	};
	struct ax_train_summary sum;
	struct ax_diag rd = { 0 };
	s = ax_train_run(g, &pt->cfg, &hp, tr->data, run, &o, &sum, &rd);
	if (s == AX_ERR_INPUT) {
		snprintf(pt->trained.error, sizeof pt->trained.error, "seed %" PRId64 ": %.170s",
			 seed, rd.msg);
		return AX_OK;
	}
	if (s != AX_OK) {
		if (d)
			*d = rd;
		return s;
	}
	/* run/config.yaml: what run/weights belong to, recipe and seed in */
	struct ax_config rc = pt->cfg;
	char cfgpath[AX_PATH_MAX + 16];
	snprintf(cfgpath, sizeof cfgpath, "%s/config.yaml", run);
	ax_train_hparams_to_config(&hp, &rc);
	if ((s = ax_config_save_yaml(cfgpath, &rc, d)) != AX_OK)
		return s;
	ts->trained++;
	out[0] = sum.valid_loss;
	out[1] = sum.valid_ppl;
	out[2] = sum.seconds;
	out[3] = out[4] = NAN;
	if (tr->bleu && (s = eval_bleu(sw, g, run, &out[3], d)) != AX_OK)
		return s;
	return write_result(res, pt, seed, &sum, tr->bleu ? &out[3] : NULL, d);
}

enum ax_status ax_trainsweep_point(void *ctx, const struct ax_sweep *sw,
				   struct ax_sweep_point *pt, struct ax_diag *d)
{
	struct ax_trainsweep *ts = ctx;
	struct ax_sweep_trained *t = &pt->trained;
	struct ax_train_hparams hp;
	struct ax_config rc = pt->cfg;
	ax_train_hparams_from_config(&pt->cfg, &hp);
	ax_train_hparams_to_config(&hp, &rc);
	snprintf(t->recipe, sizeof t->recipe, "%016" PRIx64, ax_config_recipe_hash(&rc));
	struct ax_graph g;
	bool built = false;
	enum ax_status s = AX_OK;
	ax_graph_init(&g);
	for (int i = 0; i < sw->train.n_seeds && s == AX_OK && !t->error[0]; i++) {
		int64_t seed = sw->train.seeds[i];
		char dir[AX_PATH_MAX], res[AX_PATH_MAX + 16];
		double v[5];
		bool found;
		key_dir(ts, pt, seed, dir, sizeof dir);
		snprintf(res, sizeof res, "%s/result.json", dir);
		if ((s = read_result(res, pt, seed, v, &found, d)) != AX_OK)
			break;
		if (found) {
			ts->reused++;
		} else {
			struct ax_diag bd = { 0 };
			if (!built && ax_model_build(&pt->cfg, &g, &bd) != AX_OK) {
				snprintf(t->error, sizeof t->error, "%.199s", bd.msg);
				break;
			}
			built = true;
			if ((s = train_seed(ts, sw, pt, &g, &hp, seed, dir, v, d)) != AX_OK ||
			    t->error[0])
				break;
		}
		t->valid_loss[t->n_seeds] = v[0];
		t->valid_ppl[t->n_seeds] = v[1];
		t->train_seconds[t->n_seeds] = v[2];
		t->bleu[t->n_seeds] = v[3];
		t->chrf[t->n_seeds] = v[4];
		t->n_seeds++;
	}
	ax_graph_free(&g);
	return s;
}
