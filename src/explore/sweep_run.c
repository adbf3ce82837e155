/*
 * sweep_run.c - running a sweep: grid and random points in batches on
 * worker threads, evolution by generations, each point resolved and
 * measured (sweep.c), deduplicated by id and handed to the caller in
 * index order (see ax_sweep_run in sweep.h).
 */
#include "sweep.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_impl.h"

/* --- the run --------------------------------------------------------- */

/* ids already emitted: open addressing, 0 marks an empty slot */
struct idset {
	uint64_t *slot;
	size_t cap, n;
};

static int idset_add(struct idset *s, uint64_t id)
{
	if (!id)
		id = 1;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint64_t *n = calloc(cap, sizeof *n);
		if (!n)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = s->slot[i] & (cap - 1);
				while (n[j])
					j = (j + 1) & (cap - 1);
				n[j] = s->slot[i];
			}
		free(s->slot);
		s->slot = n;
		s->cap = cap;
	}
	size_t j = id & (s->cap - 1);
	while (s->slot[j]) {
		if (s->slot[j] == id)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = id;
	s->n++;
	return 1;
}

struct slot {
	struct ax_sweep_point pt;
	enum ax_status status;
	char reason[160];         /* why the point is invalid */
};

struct batch {
	const struct ax_sweep *sw;
	struct slot *slots;
	int64_t n;               /* slots in use */
	int64_t first;           /* shard-local ordinal of slot 0 */
	int stride;              /* worker count */
	int64_t *index;          /* sweep index of each slot */
	int *family;
};

struct worker {
	struct batch *b;
	int k;
	struct ax_sweep_ws ws;
};

static void eval_slot(const struct ax_sweep *sw, struct ax_sweep_ws *ws,
		      struct slot *s, int family, int64_t index)
{
	struct ax_diag d = { 0 };
	int32_t genes[AX_SWEEP_MAX_GENES];
	ax_sweep_genome(sw, family, index - sw->family[family].first_index, genes);
	s->pt.index = index;
	s->status = ax_sweep_resolve(sw, family, genes, &s->pt, &d);
	if (s->status == AX_OK)
		s->status = ax_sweep_measure(sw, ws, &s->pt, &d);
	snprintf(s->reason, sizeof s->reason, "%.159s", s->status ? d.msg : "");
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->b;
	for (int64_t i = w->k; i < b->n; i += b->stride)
		eval_slot(b->sw, &w->ws, &b->slots[i], b->family[i], b->index[i]);
	return NULL;
}

static int family_of(const struct ax_sweep *sw, int64_t index)
{
	int f = 0;
	while (f + 1 < sw->n_families && index >= sw->family[f + 1].first_index)
		f++;
	return f;
}

/* Tallies why a point of family f was invalid: its message with every
 * run of digits as N, among the family's first AX_SWEEP_MAX_REASONS. */
static void tally_reason(struct ax_sweep_stats *st, int f, const char *msg)
{
	char key[160];
	size_t k = 0;
	for (const char *p = msg; *p && k + 2 < sizeof key; p++) {
		if (*p >= '0' && *p <= '9') {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			key[k++] = 'N';
		} else {
			key[k++] = *p;
		}
	}
	key[k] = '\0';
	for (int i = 0; i < AX_SWEEP_MAX_REASONS; i++) {
		struct ax_sweep_reason *r = &st->reason[f][i];
		if (!r->n)
			snprintf(r->text, sizeof r->text, "%s", key);
		if (!strcmp(r->text, key)) {
			r->n++;
			return;
		}
	}
	st->fam_other_invalid[f]++;
}

/* A valid, first-seen point is trained here (a `train:` sweep), on the
 * calling thread and in index order: one training run at a time. */
static enum ax_status emit(const struct ax_sweep *sw, const struct ax_sweep_run_opts *o,
			   struct idset *ids, int family,
			   struct ax_sweep_point *pt, enum ax_status status,
			   const char *reason, ax_sweep_point_fn fn, void *ctx,
			   struct ax_sweep_stats *st, struct ax_diag *d)
{
	st->fam_in_shard[family]++;
	if (status == AX_ERR_INPUT) {
		st->invalid++;
		tally_reason(st, family, reason);
		return AX_OK;
	}
	if (status != AX_OK)
		return ax_diag_set(d, status, sw->path, 0, 0, "cannot evaluate point %" PRId64,
				   pt->index);
	int added = idset_add(ids, pt->id);
	if (added < 0)
		return ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
	st->fam_valid[family]++;
	if (!added) {
		st->duplicate++;
		return AX_OK;
	}
	/* (evolution trained its points already, for their fitness) */
	enum ax_status ts = pt->trained.attempted ? AX_OK :
		ax_sweep_measure_trained(sw, pt, o->train, o->train_ctx, d);
	if (ts != AX_OK)
		return ts;
	st->emitted++;
	st->feasible += pt->feasible;
	return fn(ctx, pt, st, d);
}

#define BATCH 256

static enum ax_status run_indexed(const struct ax_sweep *sw,
				  const struct ax_sweep_run_opts *o,
				  ax_sweep_point_fn fn, void *ctx,
				  struct ax_sweep_stats *st, struct idset *ids,
				  struct ax_diag *d)
{
	int jobs = o->jobs > 0 ? o->jobs : 1;
	struct batch b = { .sw = sw, .stride = jobs };
	b.slots = malloc(BATCH * sizeof *b.slots);
	b.index = malloc(BATCH * sizeof *b.index);
	b.family = malloc(BATCH * sizeof *b.family);
	struct worker *w = calloc((size_t)jobs, sizeof *w);
	enum ax_status status = AX_OK;
	if (!b.slots || !b.index || !b.family || !w) {
		status = ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
		goto free_batch;
	}
	for (int k = 0; k < jobs; k++) {
		w[k].b = &b;
		w[k].k = k;
		ax_sweep_ws_init(&w[k].ws);
	}
	int64_t next = o->shard_k;
	while (next < sw->n_points && status == AX_OK) {
		b.n = 0;
		for (; next < sw->n_points && b.n < BATCH; next += o->shard_n) {
			b.index[b.n] = next;
			b.family[b.n] = family_of(sw, next);
			b.n++;
		}
		st->in_shard += b.n;
		if (jobs == 1) {
			work(&w[0]);
		} else {
			pthread_t th[64];
			int started = 0;
			for (int k = 1; k < jobs && k < 64; k++)
				if (!pthread_create(&th[k], NULL, work, &w[k]))
					started = k;
				else
					break;
			/* a worker that failed to start: do its share here */
			for (int k = started + 1; k < jobs; k++)
				work(&w[k]);
			work(&w[0]);
			for (int k = 1; k <= started; k++)
				pthread_join(th[k], NULL);
		}
		for (int64_t i = 0; i < b.n && status == AX_OK; i++) {
			status = emit(sw, o, ids, b.family[i], &b.slots[i].pt, b.slots[i].status,
				      b.slots[i].reason, fn, ctx, st, d);
			if (o->limit && st->emitted >= o->limit)
				goto free_workers;
		}
	}
free_workers:
	for (int k = 0; k < jobs; k++)
		ax_sweep_ws_free(&w[k].ws);
free_batch:
	free(w);
	free(b.slots);
	free(b.index);
	free(b.family);
	return status;
}

/* Sorting a population by fitness, best first; ties to the earlier index. */
struct member {
	double fit;
	int64_t index;
	int32_t genes[AX_SWEEP_MAX_GENES];
};

static int by_fitness(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->fit != y->fit)
		return x->fit > y->fit ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* HAT-style evolution per family: a random population; each generation
 * keeps the `parents` fittest (feasible first, by the `best` objective)
 * and refills the rest with crossovers of two parents and mutations of
 * one. Every shard evolves the whole population (evaluation is cheap) and
 * emits only its indices, so shards together equal one run. With a
 * `train:` section every member is trained for its fitness, in every
 * shard (so such a sweep gains nothing from shards). */
static enum ax_status run_evolution(const struct ax_sweep *sw,
				    const struct ax_sweep_run_opts *o,
				    ax_sweep_point_fn fn, void *ctx,
				    struct ax_sweep_stats *st, struct idset *ids,
				    struct ax_diag *d)
{
	int64_t P = sw->population, K = sw->parents;
	struct member *pop = calloc((size_t)P, sizeof *pop);
	struct ax_sweep_point *pt = malloc(sizeof *pt);
	struct ax_sweep_ws ws;
	ax_sweep_ws_init(&ws);
	enum ax_status status = AX_OK;
	if (!pop || !pt) {
		status = ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
		goto done;
	}
	for (int f = 0; f < sw->n_families && status == AX_OK; f++) {
		const struct ax_sweep_family *fam = &sw->family[f];
		uint64_t rng = sw->seed * 0x9e3779b97f4a7c15ull ^ (uint64_t)(f + 1) * 0xd1b54a32d192ed03ull;
		int64_t index = fam->first_index;
		for (int64_t gen = 0; gen <= sw->generations && status == AX_OK; gen++) {
			int64_t from = gen == 0 ? 0 : K;
			for (int64_t i = from; i < P && status == AX_OK; i++) {
				struct member *m = &pop[i];
				if (gen == 0) {
					random_genome(fam, &rng, m->genes);
				} else if (unit(&rng) < sw->crossover_prob) {
					const struct member *a = &pop[below(&rng, (uint64_t)K)];
					const struct member *b = &pop[below(&rng, (uint64_t)K)];
					for (int g = 0; g < fam->n_genes; g++)
						m->genes[g] = (splitmix(&rng) & 1) ? a->genes[g] : b->genes[g];
				} else {
					const struct member *a = &pop[below(&rng, (uint64_t)K)];
					for (int g = 0; g < fam->n_genes; g++)
						m->genes[g] = unit(&rng) < sw->mutation_prob ?
							(int32_t)below(&rng, (uint64_t)fam->axes[fam->gene_axis[g]].n_values) :
							a->genes[g];
				}
				m->index = index;
				struct ax_diag pd = { 0 };
				pt->index = index;
				enum ax_status ps = ax_sweep_resolve(sw, f, m->genes, pt, &pd);
				if (ps == AX_OK)
					ps = ax_sweep_measure(sw, &ws, pt, &pd);
				/* a trained sweep's fitness is measured: every
				 * member trains (results are cached by id) */
				if (ps == AX_OK && (status = ax_sweep_measure_trained(
						sw, pt, o->train, o->train_ctx, d)) != AX_OK)
					goto done;
				m->fit = ps == AX_OK && pt->feasible ?
					 ax_sweep_fitness(&sw->best, pt->metrics) : -INFINITY;
				if (isnan(m->fit))   /* not measured (a diverged run) */
					m->fit = -INFINITY;
				st->total++;
				if (index % o->shard_n == o->shard_k) {
					st->in_shard++;
					memcpy(pt->genes, m->genes, sizeof m->genes);
					status = emit(sw, o, ids, f, pt, ps, pd.msg, fn, ctx, st, d);
					if (o->limit && st->emitted >= o->limit)
						goto done;
				}
				index++;
			}
			qsort(pop, (size_t)P, sizeof *pop, by_fitness);
		}
	}
done:
	ax_sweep_ws_free(&ws);
	free(pt);
	free(pop);
	return status;
}

enum ax_status ax_sweep_run(const struct ax_sweep *sw,
			    const struct ax_sweep_run_opts *opts,
			    ax_sweep_point_fn fn, void *ctx,
			    struct ax_sweep_stats *st, struct ax_diag *d)
{
	struct ax_sweep_run_opts o = opts ? *opts : (struct ax_sweep_run_opts){ 0 };
	if (o.shard_n < 1)
		o.shard_n = 1;
	if (o.shard_k < 0 || o.shard_k >= o.shard_n)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "shard %d/%d is out of range",
				   o.shard_k, o.shard_n);
	memset(st, 0, sizeof *st);
	struct idset ids = { 0 };
	enum ax_status s;
	if (sw->strategy == AX_SWEEP_EVOLUTION) {
		s = run_evolution(sw, &o, fn, ctx, st, &ids, d);
	} else {
		st->total = sw->n_points;
		s = run_indexed(sw, &o, fn, ctx, st, &ids, d);
	}
	free(ids.slot);
	return s;
}
