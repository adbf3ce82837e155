/*
 * config_check.c - stage 4 of loading, and ax_config_validate_with():
 * the cross-field checks every config passes (enums and ranges of
 * code-built configs, heads divide widths, vocabularies, adaptive bands,
 * fields a stack does not read), with the family rules injected
 * (config_rules.h) and the size bound last (config_size.c). A failure
 * points at the position the loader recorded for the offending value.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_impl.h"

/* Fails at the position recorded for *field (none for validate). */
enum ax_status ax_check_fail(const struct ax_check *c, const void *field,
			     enum ax_status st, const char *fmt, ...)
{
	char msg[sizeof ((struct ax_diag *)0)->msg];
	struct pos p = { 0, 0 };
	va_list ap;

	if (c->pos && field) {
		size_t off = (size_t)((const char *)field - (const char *)c->cfg);
		if (off < sizeof *c->cfg)
			p = c->pos[off];
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ax_cfg_pos_error(c->d, st, c->file, p, "%s", msg);
}

/* A key path, formatted only when a check fails (formatting every path
 * of every layer cost 15% of a sweep point): a whole path ("vocab.source")
 * or a layer's field ("decoder.conv_branch.dim[3]"). */
struct key {
	const char *whole;       /* non-NULL: the path; the rest is unused */
	enum ax_side side;
	const char *group;       /* NULL: none */
	const char *name;
	int64_t i;
};

#define WHOLE_KEY(s) (&(struct key){ .whole = (s) })
#define LAYER_KEY(side_, group_, name_, i_) \
	(&(struct key){ .side = (side_), .group = (group_), .name = (name_), \
			.i = (i_) })

/* "decoder.conv_branch.dim[3]" */
void ax_layer_path(char *buf, size_t size, enum ax_side side,
		   const char *group, const char *key, int64_t i)
{
	snprintf(buf, size, "%s.%s%s%s[%" PRId64 "]", ax_side_names[side],
		 group ? group : "", group ? "." : "", key, i);
}

static void key_format(const struct key *k, char *buf, size_t size)
{
	if (k->whole)
		snprintf(buf, size, "%s", k->whole);
	else
		ax_layer_path(buf, size, k->side, k->group, k->name, k->i);
}

static enum ax_status check_range(const struct ax_check *c, const int64_t *v,
				  int64_t lo, int64_t hi, const struct key *k)
{
	if (*v >= lo && *v <= hi)
		return AX_OK;
	char path[PATH_LEN];
	key_format(k, path, sizeof path);
	return ax_check_fail(c, v, *v < lo ? AX_ERR_INPUT : AX_ERR_LIMIT,
			     "%s is %" PRId64 ", must be in %" PRId64 "..%" PRId64,
			     path, *v, lo, hi);
}

static enum ax_status check_enum(const struct ax_check *c, const void *v,
				 int value, int count, const struct key *k)
{
	if (value >= 0 && value < count)
		return AX_OK;
	char path[PATH_LEN];
	key_format(k, path, sizeof path);
	return ax_check_fail(c, v, AX_ERR_INPUT, "%s is %d, not a known value",
			     path, value);
}

/* Fields a stack does not read must stay zero in code-built configs. */
static enum ax_status check_unused(const struct ax_check *c,
				   const struct ax_layer_config *l,
				   enum ax_side side, int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const char *fam = ax_family_names[g->family];
	const struct ax_config_rules *r = c->rules;
	char path[PATH_LEN];

	if (!(use & AX_USE(AX_RULE_FFN)) && l->ffn_dim != 0) {
		ax_layer_path(path, sizeof path, side, NULL, "ffn_dim", i);
		return ax_check_fail(c, &l->ffn_dim, AX_ERR_INPUT,
				     "%s is set, but family %s does not read it: %s",
				     path, fam, r->why_unused(g, side, AX_RULE_FFN));
	}
	if (!(use & AX_USE(AX_RULE_HEADS)) && l->attention_heads != 0) {
		ax_layer_path(path, sizeof path, side, NULL, "attention_heads", i);
		return ax_check_fail(c, &l->attention_heads, AX_ERR_INPUT,
				     "%s is set, but family %s does not read it: %s",
				     path, fam, r->why_unused(g, side, AX_RULE_HEADS));
	}
	if (!(use & AX_USE(AX_RULE_ATT_BRANCH)) &&
	    (l->attention_dim != 0 || l->attention_branch_heads != 0)) {
		ax_layer_path(path, sizeof path, side, "attention_branch", "dim", i);
		return ax_check_fail(c, &l->attention_dim, AX_ERR_INPUT,
				     "%s or .heads is set, but family %s does not read it: %s",
				     path, fam,
				     r->why_unused(g, side, AX_RULE_ATT_BRANCH));
	}
	if (!(use & AX_USE(AX_RULE_CONV)) &&
	    (l->conv_type != 0 || l->conv_dim != 0 || l->conv_heads != 0 ||
	     l->glu || l->kernel_size != 0)) {
		ax_layer_path(path, sizeof path, side, "conv", "dim", i);
		return ax_check_fail(c, &l->conv_dim, AX_ERR_INPUT,
				     "%s (or another conv field) is set, but family %s "
				     "does not read it: %s", path, fam,
				     r->why_unused(g, side, AX_RULE_CONV));
	}
	return AX_OK;
}

static_assert(RANGE_LO_attention_heads == RANGE_LO_conv_heads &&
	      RANGE_HI_attention_heads == RANGE_HI_conv_heads &&
	      RANGE_LO_attention_heads == RANGE_LO_attention_branch_heads &&
	      RANGE_HI_attention_heads == RANGE_HI_attention_branch_heads,
	      "check_heads() checks every heads row with one range");

/* heads > 0 must divide width. */
static enum ax_status check_heads(const struct ax_check *c, const int64_t *heads,
				  int64_t width, const struct key *k,
				  const struct key *width_key)
{
	enum ax_status st = check_range(c, heads, RANGE(attention_heads), k);

	if (st != AX_OK)
		return st;
	if (width % *heads != 0) {
		char path[PATH_LEN], width_name[PATH_LEN];
		key_format(k, path, sizeof path);
		key_format(width_key, width_name, sizeof width_name);
		return ax_check_fail(c, heads, AX_ERR_INPUT,
				     "%s = %" PRId64 " does not divide %s = %" PRId64
				     " (heads are equal channel blocks)",
				     path, *heads, width_name, width);
	}
	return AX_OK;
}

static enum ax_status check_attention(const struct ax_check *c,
				      const struct ax_layer_config *l,
				      enum ax_side side, int64_t i)
{
	const struct ax_config *g = c->cfg;
	const struct key *k = LAYER_KEY(side, NULL, "attention_heads", i);

	return check_heads(c, &l->attention_heads, g->embed_dim, k,
			   WHOLE_KEY("embed_dim"));
}

static enum ax_status check_conv(const struct ax_check *c,
				 const struct ax_layer_config *l,
				 enum ax_side side, int64_t i)
{
	const struct ax_config *g = c->cfg;
	const char *group = c->rules->map_name(g, AX_RULE_CONV);
	const struct key *dim_key = LAYER_KEY(side, group, "dim", i);
	enum ax_status st;

	if ((st = check_enum(c, &l->conv_type, (int)l->conv_type,
			     AX_CONV_TYPE_COUNT,
			     LAYER_KEY(side, group, "type", i))) != AX_OK)
		return st;
	if ((st = check_range(c, &l->conv_dim, RANGE(conv_dim), dim_key)) != AX_OK)
		return st;
	if ((st = check_heads(c, &l->conv_heads, l->conv_dim,
			      LAYER_KEY(side, group, "heads", i), dim_key)) != AX_OK)
		return st;
	return check_range(c, &l->kernel_size, RANGE(kernel_size),
			   LAYER_KEY(side, group, "kernel_size", i));
}

static enum ax_status check_branches(const struct ax_check *c,
				     const struct ax_layer_config *l,
				     enum ax_side side, int64_t i)
{
	const struct key *dim_key = LAYER_KEY(side, "attention_branch", "dim", i);
	enum ax_status st;

	if ((st = check_range(c, &l->attention_dim, RANGE(attention_dim),
			      dim_key)) != AX_OK)
		return st;
	if ((st = check_heads(c, &l->attention_branch_heads, l->attention_dim,
			      LAYER_KEY(side, "attention_branch", "heads", i),
			      dim_key)) != AX_OK)
		return st;
	return check_conv(c, l, side, i);
}

static enum ax_status check_layer(const struct ax_check *c, enum ax_side side,
				  int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	enum ax_status st = AX_OK;

	if ((use & AX_USE(AX_RULE_FFN)) &&
	    (st = check_range(c, &l->ffn_dim, RANGE(ffn_dim),
			      LAYER_KEY(side, NULL, "ffn_dim", i))) != AX_OK)
		return st;
	if ((use & AX_USE(AX_RULE_HEADS)) && (st = check_attention(c, l, side, i)) != AX_OK)
		return st;
	if (use & AX_USE(AX_RULE_ATT_BRANCH))
		st = check_branches(c, l, side, i);
	else if (use & AX_USE(AX_RULE_CONV))
		st = check_conv(c, l, side, i);
	if (st != AX_OK || (st = c->rules->check_layer(c, side, i)) != AX_OK)
		return st;
	return check_unused(c, l, side, i, use);
}

static enum ax_status check_stack(const struct ax_check *c, enum ax_side side)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const char *path = side == AX_SIDE_ENCODER ? "encoder.layers" :
			   "decoder.layers";
	enum ax_status st;

	if (side == AX_SIDE_ENCODER && g->task == AX_TASK_LANGUAGE_MODEL) {
		if (s->layers != 0)
			return ax_check_fail(c, &s->layers, AX_ERR_INPUT,
					     "%s must be 0: a language_model has no encoder",
					     path);
		return AX_OK;
	}
	if ((st = check_range(c, &s->layers, RANGE(layers),
			      WHOLE_KEY(path))) != AX_OK)
		return st;
	unsigned use = c->rules->layer_uses(g, side);
	for (int64_t i = 0; i < s->layers; i++)
		if ((st = check_layer(c, side, i, use)) != AX_OK)
			return st;
	return AX_OK;
}

static enum ax_status check_vocab(const struct ax_check *c)
{
	const struct ax_config *g = c->cfg;
	enum ax_status st;

	if (g->task == AX_TASK_TRANSLATION) {
		st = check_range(c, &g->vocab_source, RANGE(vocab_source),
				 WHOLE_KEY("vocab.source"));
		if (st != AX_OK)
			return st;
	} else if (g->vocab_source != 0) {
		return ax_check_fail(c, &g->vocab_source, AX_ERR_INPUT,
				     "vocab.source must be 0: a language_model has one "
				     "vocabulary (vocab.target)");
	}
	st = check_range(c, &g->vocab_target, RANGE(vocab_target),
			 WHOLE_KEY("vocab.target"));
	if (st != AX_OK)
		return st;
	if (g->share != AX_SHARE_ALL)
		return AX_OK;
	if (g->task != AX_TASK_TRANSLATION)
		return ax_check_fail(c, &g->share, AX_ERR_INPUT,
				     "vocab.share: all needs task translation; a "
				     "language_model has one vocabulary (use decoder)");
	if (g->vocab_source != g->vocab_target)
		return ax_check_fail(c, &g->share, AX_ERR_INPUT,
				     "vocab.share: all needs vocab.source == vocab.target, "
				     "got %" PRId64 " and %" PRId64,
				     g->vocab_source, g->vocab_target);
	return AX_OK;
}

static bool adaptive_is_zero(const struct ax_adaptive_config *a)
{
	bool zero = a->n_cutoffs == 0 && a->factor == 0 && !a->tie_weights &&
		    !a->tie_proj;

	for (int i = 0; i < AX_MAX_CUTOFFS; i++)
		zero = zero && a->cutoff[i] == 0;
	return zero;
}

static enum ax_status check_adaptive(const struct ax_check *c)
{
	const struct ax_config *g = c->cfg;
	const struct ax_adaptive_config *a = &g->adaptive;
	enum ax_status st;

	if (!a->enabled) {
		if (!adaptive_is_zero(a))
			return ax_check_fail(c, NULL, AX_ERR_INPUT,
					     "adaptive fields are set but adaptive.enabled "
					     "is false");
		return AX_OK;
	}
	if (g->task != AX_TASK_LANGUAGE_MODEL)
		return ax_check_fail(c, &a->enabled, AX_ERR_INPUT,
				     "adaptive input and softmax are for task "
				     "language_model only");
	if (a->n_cutoffs < 1 || a->n_cutoffs > AX_MAX_CUTOFFS)
		return ax_check_fail(c, &a->n_cutoffs, AX_ERR_INPUT,
				     "adaptive.cutoffs has %d entries, must have 1..%d",
				     a->n_cutoffs, AX_MAX_CUTOFFS);
	for (int i = 0; i < a->n_cutoffs; i++) {
		const int64_t *v = &a->cutoff[i];
		if (*v < 1 || *v >= g->vocab_target)
			return ax_check_fail(c, v, AX_ERR_INPUT,
					     "adaptive.cutoffs[%d] is %" PRId64 ", must be in "
					     "1..%" PRId64 " (below vocab.target)",
					     i, *v, g->vocab_target - 1);
		if (i > 0 && *v <= v[-1])
			return ax_check_fail(c, v, AX_ERR_INPUT,
					     "adaptive.cutoffs must ascend: [%d] = %" PRId64
					     " follows %" PRId64, i, *v, v[-1]);
	}
	st = check_range(c, &a->factor, RANGE(factor),
			 WHOLE_KEY("adaptive.factor"));
	if (st != AX_OK)
		return st;
	int64_t width = g->embed_dim;
	for (int b = 1; b <= a->n_cutoffs; b++) {
		width /= a->factor;
		if (width < 1)
			return ax_check_fail(c, &a->factor, AX_ERR_INPUT,
					     "adaptive.factor = %" PRId64 " leaves band %d "
					     "with width embed_dim / factor^%d = 0",
					     a->factor, b, b);
	}
	if (a->tie_proj && !a->tie_weights)
		return ax_check_fail(c, &a->tie_proj, AX_ERR_INPUT,
				     "adaptive.tie_proj needs adaptive.tie_weights: true "
				     "(fairseq ties projections only with tied weights)");
	if (g->share != AX_SHARE_NONE)
		return ax_check_fail(c, &g->share, AX_ERR_INPUT,
				     "vocab.share must be none with adaptive; "
				     "adaptive.tie_weights sets the tying");
	return AX_OK;
}

/* A present train section, every row in its range (code-built and swept
 * configs; the loader has checked a file's already). F64: finite too. */
static enum ax_status check_f64(const struct ax_check *c, const double *v,
				double lo, double hi, const char *key)
{
	if (*v >= lo && *v <= hi)
		return AX_OK;
	char vs[32], ls[32], hs[32];
	if (isfinite(*v))
		ax_cfg_num_text(vs, sizeof vs, *v);
	else
		snprintf(vs, sizeof vs, "%s", "not finite");
	ax_cfg_num_text(ls, sizeof ls, lo);
	ax_cfg_num_text(hs, sizeof hs, hi);
	return ax_check_fail(c, v, *v > hi ? AX_ERR_LIMIT : AX_ERR_INPUT,
			     "train.%s is %s, must be in %s..%s", key, vs, ls, hs);
}

#define TRAIN_CHECK(t, kind, key, member, ctype, min, max, aux, flags, rule, \
		    tag, doc)                                                \
	if ((st = TRAIN_CHECK_##kind(t, key, member, min, max)) != AX_OK)    \
		return st;
#define TRAIN_CHECK_F64(t, key, member, min, max)                            \
	check_f64(c, &(t)->member, (min), (max), key)
#define TRAIN_CHECK_I64(t, key, member, min, max)                            \
	check_range(c, &(t)->member, (min), (max), WHOLE_KEY("train." key))

static enum ax_status check_train(const struct ax_check *c)
{
	const struct ax_train_config *t = &c->cfg->train;
	enum ax_status st;

	if (!t->enabled)
		return AX_OK;
	AX_SCHEMA_TRAIN(TRAIN_CHECK, t)
	return AX_OK;
}

/* final_norm needs pre-norm; then the family-wide rules (models/). */
static enum ax_status check_family(const struct ax_check *c)
{
	const struct ax_config *g = c->cfg;

	if (g->norm == AX_NORM_POST && g->final_norm)
		return ax_check_fail(c, &g->final_norm, AX_ERR_INPUT,
				     "final_norm: true needs norm: pre; post-norm "
				     "stacks have no final LayerNorm");
	return c->rules->check_config(c);
}

enum ax_status ax_cfg_check_all(const struct ax_check *c)
{
	const struct ax_config *g = c->cfg;
	enum ax_status st;

	if ((st = check_enum(c, &g->family, (int)g->family, AX_FAMILY_COUNT,
			     WHOLE_KEY("family"))) != AX_OK ||
	    (st = check_enum(c, &g->task, (int)g->task, AX_TASK_COUNT,
			     WHOLE_KEY("task"))) != AX_OK ||
	    (st = check_enum(c, &g->norm, (int)g->norm, AX_NORM_COUNT,
			     WHOLE_KEY("norm"))) != AX_OK ||
	    (st = check_enum(c, &g->share, (int)g->share, AX_SHARE_COUNT,
			     WHOLE_KEY("vocab.share"))) != AX_OK)
		return st;
	if ((st = check_range(c, &g->embed_dim, RANGE(embed_dim),
			      WHOLE_KEY("embed_dim"))) != AX_OK)
		return st;
	if ((st = check_family(c)) != AX_OK)
		return st;
	if ((st = check_vocab(c)) != AX_OK)
		return st;
	if ((st = check_adaptive(c)) != AX_OK)
		return st;
	if ((st = check_stack(c, AX_SIDE_ENCODER)) != AX_OK)
		return st;
	if ((st = check_stack(c, AX_SIDE_DECODER)) != AX_OK)
		return st;
	if ((st = check_train(c)) != AX_OK)
		return st;
	return ax_cfg_check_size(c);
}

const struct ax_config *ax_check_config(const struct ax_check *c)
{
	return c->cfg;
}

enum ax_status ax_config_validate_with(const struct ax_config_rules *r,
				       const struct ax_config *cfg,
				       struct ax_diag *d)
{
	struct ax_check c = { .rules = r, .cfg = cfg, .d = d };

	if (memchr(cfg->name, '\0', sizeof cfg->name) == NULL)
		return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0,
				   "name is not NUL-terminated");
	return ax_cfg_check_all(&c);
}
