/*
 * fastcost.c - ax_cost_graph()'s sums with each distinct layer built and
 * costed once per thread (see fastcost.h for why that is exact).
 *
 * Per evaluation: look every layer slot up in the cache (a miss reserves
 * an entry at once, so the equal layers after it in the same model hit
 * it); build the op list with only the missed layers; cost its ops with
 * ax_cost_op(), adding layer ops into their entry and the rest (embeddings,
 * final norms, output) into the totals as ax_cost_graph() does; then add
 * each distinct layer's sums times its number of slots.
 */
#include "fastcost.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ENTRIES 1024                 /* cached layers; cleared when full */
#define SLOTS (2 * ENTRIES)          /* hash slots, a power of two */

static_assert(AX_MAX_LAYERS <= 64, "keep masks are 64 bits");

/* Key words: convention, mode, the top-level fields, then side and the
 * layer config (config.h's words, expanded from the schema, so a new
 * config field joins the key by itself). Words, not structs, so that no
 * padding is compared. */
enum {
	TOP_WORDS = 2 + AX_CONFIG_TOP_WORDS,
	LAYER_WORDS = 1 + AX_CONFIG_LAYER_WORDS,
	KEY_WORDS = TOP_WORDS + LAYER_WORDS
};

/* What one layer's ops add to a model's cost: ax_cost_graph()'s sums. */
struct part {
	int64_t params;
	struct ax_poly macs;        /* MACs plus aux MACs, as in the totals */
	struct ax_poly other_flops;
	struct ax_poly bytes;
	struct ax_poly macs_by_kind[AX_KIND_COUNT];
};

struct ax_fastcost_entry {
	int64_t key[KEY_WORDS];
	struct part part;
	uint64_t stamp;             /* evaluation that last counted it */
	int32_t count;              /* its slots in that evaluation */
};

void ax_fastcost_init(struct ax_fastcost *fc)
{
	memset(fc, 0, sizeof *fc);
	ax_graph_init(&fc->g);
}

void ax_fastcost_free(struct ax_fastcost *fc)
{
	ax_graph_free(&fc->g);
	free(fc->entry);
	free(fc->slot);
	memset(fc, 0, sizeof *fc);
}

static void clear(struct ax_fastcost *fc)
{
	if (!fc->slot)
		return;
	for (int i = 0; i < SLOTS; i++)
		fc->slot[i] = -1;
	fc->n_entries = 0;
}

static void top_words(const struct ax_config *cfg, enum ax_convention conv,
		      enum ax_mode mode, int64_t *w)
{
	w[0] = conv;
	w[1] = mode;
	ax_config_top_words(cfg, w + 2);
}

static void layer_words(enum ax_side side, const struct ax_layer_config *l,
			int64_t *w)
{
	w[0] = side;
	ax_config_layer_words(l, w + 1);
}

static void poly_add_times(struct ax_poly *acc, const struct ax_poly *p,
			   int64_t k)
{
	for (int i = 0; i < AX_MONO_COUNT; i++)
		acc->h[i] += k * p->h[i];
}

/* The entry for a layer's key: found, or reserved (and *miss set). */
static int32_t lookup(struct ax_fastcost *fc, const int64_t *key, uint64_t h,
		      bool *miss)
{
	uint32_t s = (uint32_t)(h ^ h >> 32) & (SLOTS - 1);
	for (;; s = (s + 1) & (SLOTS - 1)) {
		int32_t e = fc->slot[s];
		if (e < 0)
			break;
		if (!memcmp(fc->entry[e].key, key, sizeof fc->entry[e].key)) {
			*miss = false;
			return e;
		}
	}
	int32_t e = fc->n_entries++;
	struct ax_fastcost_entry *en = &fc->entry[e];
	memcpy(en->key, key, sizeof en->key);
	memset(&en->part, 0, sizeof en->part);
	fc->slot[s] = e;
	*miss = true;
	return e;
}

void ax_fastcost_clear(struct ax_fastcost *fc)
{
	clear(fc);
}

/* The cache's arrays, allocated on first use. */
static enum ax_status alloc_cache(struct ax_fastcost *fc,
				  const struct ax_config *cfg,
				  struct ax_diag *d)
{
	if (fc->entry)
		return AX_OK;
	fc->entry = malloc(ENTRIES * sizeof *fc->entry);
	fc->slot = malloc(SLOTS * sizeof *fc->slot);
	if (!fc->entry || !fc->slot) {
		free(fc->entry);
		free(fc->slot);
		fc->entry = NULL;
		fc->slot = NULL;
		return ax_diag_set(d, AX_ERR_NOMEM, cfg->name, 0, 0,
				   "out of memory for the layer cache");
	}
	clear(fc);
	return AX_OK;
}

/* One evaluation's layer slots: slot i is encoder layer i for i < n_enc,
 * then decoder layer i - n_enc. */
struct slots {
	int n_enc, n_layers;
	int32_t entry_of[AX_MAX_COST_LAYERS];  /* cache entry of each slot */
	int32_t distinct[AX_MAX_COST_LAYERS];  /* entries counted this time */
	int n_distinct;
	uint64_t keep[AX_SIDE_COUNT];          /* layers to build: the misses */
};

/* 1. each layer slot's entry (a miss reserves it and marks the layer to
 * be built) and each distinct entry's number of slots. */
static void lookup_slots(struct ax_fastcost *fc, const struct ax_config *cfg,
			 enum ax_convention conv, enum ax_mode mode,
			 struct slots *sl)
{
	int64_t key[KEY_WORDS];
	top_words(cfg, conv, mode, key);
	uint64_t top_hash = AX_FNV_OFFSET;
	for (int k = 0; k < TOP_WORDS; k++)
		top_hash = ax_mix64(top_hash, key[k]);
	for (int i = 0; i < sl->n_layers; i++) {
		enum ax_side side = i < sl->n_enc ? AX_SIDE_ENCODER : AX_SIDE_DECODER;
		int l = i < sl->n_enc ? i : i - sl->n_enc;
		const struct ax_stack_config *st =
			side == AX_SIDE_ENCODER ? &cfg->encoder : &cfg->decoder;
		layer_words(side, &st->layer[l], key + TOP_WORDS);
		uint64_t h = top_hash;
		for (int k = TOP_WORDS; k < KEY_WORDS; k++)
			h = ax_mix64(h, key[k]);
		bool miss;
		int32_t e = lookup(fc, key, h, &miss);
		struct ax_fastcost_entry *en = &fc->entry[e];
		if (miss) {
			sl->keep[side] |= (uint64_t)1 << l;
			fc->misses++;
		} else {
			fc->hits++;
		}
		if (miss || en->stamp != fc->stamp) {   /* first slot of its kind */
			en->stamp = fc->stamp;
			en->count = 0;
			sl->distinct[sl->n_distinct++] = e;
		}
		en->count++;
		sl->entry_of[i] = e;
	}
}

/* 2. cost the built ops, as ax_cost_graph() does: layer ops into their
 * entry's sums, the rest into the totals. */
static void cost_built(struct ax_fastcost *fc, const struct slots *sl,
		       enum ax_convention conv, enum ax_mode mode,
		       struct ax_cost *out)
{
	const struct ax_graph *g = &fc->g;
	struct ax_op_cost c;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		ax_cost_op(g, i, conv, mode, &c);
		bool in_layer = op->layer >= 0 && (op->scope == AX_SCOPE_ENCODER ||
						   op->scope == AX_SCOPE_DECODER);
		if (in_layer) {
			int slot = op->scope == AX_SCOPE_ENCODER ? op->layer :
				   sl->n_enc + op->layer;
			struct part *p = &fc->entry[sl->entry_of[slot]].part;
			p->params += c.params;
			ax_poly_add(&p->macs, &c.macs);
			ax_poly_add(&p->macs, &c.aux_macs);
			ax_poly_add(&p->other_flops, &c.other_flops);
			ax_poly_add(&p->bytes, &c.bytes);
			ax_poly_add(&p->macs_by_kind[op->tag], &c.macs);
			ax_poly_add(&p->macs_by_kind[AX_KIND_ELEMENTWISE], &c.aux_macs);
			continue;
		}
		ax_cost_add_op(out, op, &c);
	}
}

/* 3. every layer: its entry's sums, times its slots for the totals. */
static void add_layers(const struct ax_fastcost *fc, const struct slots *sl,
		       struct ax_cost *out)
{
	for (int i = 0; i < sl->n_distinct; i++) {
		const struct ax_fastcost_entry *en = &fc->entry[sl->distinct[i]];
		const struct part *p = &en->part;
		int64_t k = en->count;
		enum ax_scope scope = en->key[TOP_WORDS] == AX_SIDE_ENCODER ?
				      AX_SCOPE_ENCODER : AX_SCOPE_DECODER;
		out->params += k * p->params;
		poly_add_times(&out->macs, &p->macs, k);
		poly_add_times(&out->other_flops, &p->other_flops, k);
		poly_add_times(&out->bytes, &p->bytes, k);
		for (int b = 0; b < AX_KIND_COUNT; b++)
			poly_add_times(&out->macs_by_kind[b], &p->macs_by_kind[b], k);
		out->params_by_scope[scope] += k * p->params;
		poly_add_times(&out->macs_by_scope[scope], &p->macs, k);
	}
	for (int i = 0; i < sl->n_layers; i++) {
		const struct part *p = &fc->entry[sl->entry_of[i]].part;
		out->layers[i] = (struct ax_layer_cost){
			.scope = i < sl->n_enc ? AX_SCOPE_ENCODER : AX_SCOPE_DECODER,
			.layer = (int16_t)(i < sl->n_enc ? i : i - sl->n_enc),
			.params = p->params,
			.macs = p->macs,
		};
	}
}

enum ax_status ax_fastcost_eval(struct ax_fastcost *fc,
				const struct ax_config *cfg,
				enum ax_convention conv, enum ax_mode mode,
				struct ax_cost *out, struct ax_diag *d)
{
	struct slots sl;
	enum ax_status s = alloc_cache(fc, cfg, d);

	if (s)
		return s;
	sl.n_enc = cfg->task == AX_TASK_TRANSLATION ? (int)cfg->encoder.layers : 0;
	sl.n_layers = sl.n_enc + (int)cfg->decoder.layers;
	sl.n_distinct = 0;
	sl.keep[AX_SIDE_ENCODER] = sl.keep[AX_SIDE_DECODER] = 0;
	/* room for every layer of this model: entries reserved below stay
	 * valid until the sums are taken */
	if (fc->n_entries + sl.n_layers > ENTRIES)
		clear(fc);
	fc->stamp++;

	lookup_slots(fc, cfg, conv, mode, &sl);
	/* build only the missed layers */
	if ((s = ax_model_build_layers(cfg, &fc->g, sl.keep, d))) {
		clear(fc);   /* the entries reserved above stay empty */
		return s;
	}
	memset(out, 0, offsetof(struct ax_cost, layers));
	out->convention = conv;
	out->mode = mode;
	out->n_layers = sl.n_layers;
	cost_built(fc, &sl, conv, mode, out);
	add_layers(fc, &sl, out);
	return AX_OK;
}
