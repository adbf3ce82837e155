/*
 * sweep.h - design-space sweeps: a sweep file (docs/sweeps.md) names
 * families, each a base config plus axes over config fields and derived
 * fields; a search strategy (grid, random, evolution) turns it into a
 * deterministic list of design points, each costed analytically and
 * checked against constraints, with objectives for Pareto fronts and
 * budgets for "best design under N MACs".
 *
 * A point's genome holds one value index per axis (per_layer axes: one
 * per layer slot). Resolving a genome: copy the base config, apply the
 * `layers` axes, then the other axes in file order, then the derived
 * fields in file order, then ax_config_validate(). Invalid points are
 * counted, not emitted. A point's id is a hash of the resolved config,
 * the convention, the mode and the lengths, so it is stable across runs,
 * shards and machines (ax_sweep_point_id).
 *
 * Evaluation allocates nothing once the workspace's graphs have grown
 * (ax_graph_reset keeps its arrays) and its layer cache exists. Counts
 * come from the fast evaluator (fastcost.h), equal to ax_cost_graph()'s.
 */
#ifndef AX_SWEEP_H
#define AX_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfgpath.h"
#include "config.h"
#include "cost.h"
#include "device.h"
#include "diag.h"
#include "expr.h"
#include "fastcost.h"
#include "graph.h"
#include "model.h"

#define AX_SWEEP_MAX_FAMILIES 8
#define AX_SWEEP_MAX_AXES 24
#define AX_SWEEP_MAX_VALUES 4096      /* values of one axis */
#define AX_SWEEP_MAX_DERIVED 16
#define AX_SWEEP_MAX_CONSTRAINTS 16
#define AX_SWEEP_MAX_OBJECTIVES 4
#define AX_SWEEP_MAX_BUDGETS 8
#define AX_SWEEP_MAX_GENES 256
#define AX_SWEEP_MAX_ID_FIELDS 32
#define AX_SWEEP_MAX_ACCURACY 64
#define AX_SWEEP_MAX_NAME 64          /* bytes of a sweep name (sweep_load.c says 64) */
#define AX_SWEEP_MAX_GRID ((int64_t)1 << 32)
#define AX_SWEEP_MAX_SEEDS 8

enum ax_sweep_strategy {
	AX_SWEEP_GRID,
	AX_SWEEP_RANDOM,
	AX_SWEEP_EVOLUTION,
	AX_SWEEP_STRATEGY_COUNT
};
extern const char *const ax_sweep_strategy_names[AX_SWEEP_STRATEGY_COUNT];

/* What a point measures: the counts of the result record, under the
 * sweep's convention, mode and lengths, plus derived figures.
 * nonembedding_params = params - params of the embedding and output
 * scopes (LiteTransformerSearch's training-free capacity proxy);
 * latency_ms is the roofline estimate of device.h (computed only when a
 * constraint or objective asks for it, NaN otherwise); accuracy is the
 * published figure of the sweep's `accuracy:` join for a point whose
 * resolved config equals a published config (NaN for every other). */
enum ax_metric {
	AX_METRIC_MACS,
	AX_METRIC_PARAMS,
	AX_METRIC_EMBED_PARAMS,
	AX_METRIC_NONEMBEDDING_PARAMS,
	AX_METRIC_OTHER_FLOPS,
	AX_METRIC_BYTES,
	AX_METRIC_LATENCY_MS,
	AX_METRIC_ACCURACY,
	AX_METRIC_KIND_BASE,              /* then macs_<kind> per cost kind */
	/* measured by training (a sweep with a `train:` section): the mean
	 * over seeds and its sample std (0 for one seed); NaN when the point
	 * was not trained. Points of other sweeps do not write them. */
	AX_METRIC_VALID_LOSS = AX_METRIC_KIND_BASE + AX_KIND_COUNT,
	AX_METRIC_VALID_LOSS_STD,
	AX_METRIC_VALID_PPL,
	AX_METRIC_VALID_PPL_STD,
	AX_METRIC_TRAIN_SECONDS,
	AX_METRIC_TRAIN_SECONDS_STD,
	AX_METRIC_BLEU,                   /* with train.bleu: BLEU of the */
	AX_METRIC_BLEU_STD,               /* eval split's beam decode, */
	AX_METRIC_CHRF,                   /* and chrF (0..100) */
	AX_METRIC_CHRF_STD,
	AX_METRIC_COUNT
};
#define AX_METRIC_TRAINED_BASE AX_METRIC_VALID_LOSS
#define AX_METRIC_N_TRAINED (AX_METRIC_COUNT - AX_METRIC_TRAINED_BASE)
/* "macs", ..., "macs_attention_proj", ... */
const char *ax_metric_name(int m);
int ax_metric_find(const char *name);

/* Expression variables: metrics are ids < AX_METRIC_COUNT; config paths
 * are AX_SWEEP_VAR_PATH + field * 4 + side. */
#define AX_SWEEP_VAR_PATH 1000

struct ax_sweep_axis {
	struct ax_cfg_path path;
	char text[96];            /* the path as written */
	bool per_layer;           /* one gene per layer (random, evolution) */
	int n_values;
	int32_t *off;             /* value v: pool[off[v] .. off[v]+len[v]) */
	int16_t *len;
	int line, col;
};

struct ax_sweep_derived {
	struct ax_cfg_path path;
	char text[96];
	char expr_text[160];      /* the expression as written */
	struct ax_expr expr;
	int line, col;
};

struct ax_sweep_constraint {
	char text[160];
	struct ax_expr expr;
	bool trained;             /* names a trained metric (valid_loss ...) */
};

/* The sweep's `train:` section (docs/sweeps.md): every point whose
 * other constraints hold is trained on `data` for the budget, once per
 * seed. The recipe (lr, warmup, ...) is the point's config's own
 * `train:` section, so its axes (train.lr ...) vary it. */
struct ax_sweep_train {
	bool present;
	char data[1024];          /* the dataset directory, as resolved */
	char data_text[1024];     /* as the sweep file writes it (relative to
				     the file): the identity's, the same from
				     any working directory */
	int data_line, data_col;  /* where `data:` is, for its errors */
	int64_t train_tokens;     /* the budget: one of these two is > 0 */
	int64_t max_steps;
	int n_seeds;
	int64_t seeds[AX_SWEEP_MAX_SEEDS];
	int64_t valid_every;      /* 0: validate only at the end */
	int64_t save_every;       /* checkpoint period (updates) */
	int64_t threads;          /* OpenBLAS threads per training run */
	bool bleu;                /* decode the eval split: BLEU and chrF */
	int eval_split;           /* enum ax_data_split: 1 valid, 2 test */
	int64_t beam;             /* beam width of that decode */
	double max_len_a;         /* it decodes at most a * (S + 1) + b */
	int64_t max_len_b;        /* tokens (default 0, 200) */
};

struct ax_sweep_family {
	char label[64];           /* unique within the sweep */
	char base_path[512];      /* as resolved (relative to the sweep file) */
	struct ax_config base;
	int n_axes;
	struct ax_sweep_axis axes[AX_SWEEP_MAX_AXES];
	int n_derived;
	struct ax_sweep_derived derived[AX_SWEEP_MAX_DERIVED];
	int n_genes;              /* genome length */
	int gene_axis[AX_SWEEP_MAX_GENES];   /* axis of each gene */
	int n_constraints;        /* 0: the sweep's; else the sweep's, then its own */
	struct ax_sweep_constraint constraint[AX_SWEEP_MAX_CONSTRAINTS];
	int64_t n_points;         /* points the strategy makes for it */
	int64_t first_index;      /* index of its first point in the sweep */
};

struct ax_sweep_objective {
	int metric;
	bool maximize;
};

struct ax_sweep {
	char path[512];
	char name[128];
	enum ax_convention convention;
	enum ax_mode mode;
	int64_t src_len, tgt_len;
	enum ax_sweep_strategy strategy;
	uint64_t seed;
	int64_t n_random;         /* random: points per family */
	int64_t population;       /* evolution */
	int64_t generations;
	int64_t parents;
	double mutation_prob;
	double crossover_prob;    /* share of children made by crossover */
	const struct ax_device *device;
	struct ax_device *device_file;  /* owned: `device:` named a file */
	int n_families;
	struct ax_sweep_family family[AX_SWEEP_MAX_FAMILIES];
	int n_constraints;
	struct ax_sweep_constraint constraint[AX_SWEEP_MAX_CONSTRAINTS];
	int n_objectives;
	struct ax_sweep_objective objective[AX_SWEEP_MAX_OBJECTIVES];
	int n_budgets;
	double budget[AX_SWEEP_MAX_BUDGETS];
	struct ax_sweep_objective best;     /* best.csv ranks by this */
	int budget_metric;                  /* budgets bound this (macs) */
	bool need_latency;
	/* accuracy join: published configs by ax_config_hash */
	char accuracy_what[96];             /* "wmt14-en-de bleu" */
	int n_accuracy;
	uint64_t accuracy_hash[AX_SWEEP_MAX_ACCURACY];
	double accuracy_value[AX_SWEEP_MAX_ACCURACY];
	struct ax_sweep_train train;
	int n_id_fields;                    /* what a point id hashes */
	int16_t id_field[AX_SWEEP_MAX_ID_FIELDS];
	int64_t n_points;         /* over all families */
	int64_t *pool;            /* axis values */
	int64_t pool_len, pool_cap;
};

/* Reads the base config at path (relative paths already resolved). */
typedef enum ax_status (*ax_sweep_base_fn)(void *ctx, const char *path,
					   struct ax_config *cfg,
					   struct ax_diag *d);

/* Loads a sweep file. Base configs load with ax_config_load(), relative
 * to the sweep file's directory. Errors carry FILE:LINE:COL. */
enum ax_status ax_sweep_load(struct ax_sweep *sw, const char *path,
			     struct ax_diag *d);
/* The same from memory; name is the file name for diagnostics and for
 * resolving base paths. base == NULL uses ax_config_load(). */
enum ax_status ax_sweep_load_string(struct ax_sweep *sw, const char *text,
				    size_t len, const char *name,
				    ax_sweep_base_fn base, void *ctx,
				    struct ax_diag *d);
void ax_sweep_free(struct ax_sweep *sw);

/* One evaluated design point. */
struct ax_sweep_point {
	int family;
	int64_t index;            /* position in the sweep's point list */
	uint64_t id;
	struct ax_config cfg;     /* resolved */
	struct ax_cost cost;
	double metrics[AX_METRIC_COUNT];
	uint32_t constraint_ok;   /* bit c: constraint c holds */
	bool feasible;            /* every constraint holds */
	int32_t genes[AX_SWEEP_MAX_GENES];
	struct ax_sweep_trained {
		bool attempted;       /* static constraints held: trained */
		int n_seeds;          /* seeds with a result */
		double valid_loss[AX_SWEEP_MAX_SEEDS];
		double valid_ppl[AX_SWEEP_MAX_SEEDS];
		double train_seconds[AX_SWEEP_MAX_SEEDS];
		double bleu[AX_SWEEP_MAX_SEEDS];   /* NaN without train.bleu */
		double chrf[AX_SWEEP_MAX_SEEDS];
		char recipe[17];      /* ax_config_recipe_hash, hex */
		char error[200];      /* why the point could not be trained */
	} trained;
};

/* Trains pt (its resolved config) once per seed of sw->train, filling
 * pt->trained. A point that cannot be trained (a kind without a
 * backward, ...) is not an error: its reason goes to pt->trained.error
 * and AX_OK is returned; an error stops the sweep (I/O, memory). */
typedef enum ax_status (*ax_sweep_train_fn)(void *ctx, const struct ax_sweep *sw,
					    struct ax_sweep_point *pt,
					    struct ax_diag *d);

/* For a sweep with a `train:` section: when pt's constraints that name
 * no trained metric hold, has fn train it, sets the trained metrics
 * (mean and std over seeds) and checks every constraint again. Other
 * points keep NaN trained metrics and stay infeasible. */
enum ax_status ax_sweep_measure_trained(const struct ax_sweep *sw,
					struct ax_sweep_point *pt,
					ax_sweep_train_fn fn, void *ctx,
					struct ax_diag *d);

/* Per-thread scratch, reused across points. */
struct ax_sweep_ws {
	struct ax_graph g;          /* the op list, when latency needs it */
	struct ax_fastcost fc;      /* counts, with its layer cache */
	bool reference;             /* count with ax_model_build() and
				       ax_cost_graph() instead (benchmarks) */
};
void ax_sweep_ws_init(struct ax_sweep_ws *ws);
void ax_sweep_ws_free(struct ax_sweep_ws *ws);

/* Genome -> resolved and validated config in pt->cfg and pt->id.
 * AX_ERR_INPUT (reason in d) for an invalid point. */
enum ax_status ax_sweep_resolve(const struct ax_sweep *sw, int family,
				const int32_t *genes, struct ax_sweep_point *pt,
				struct ax_diag *d);
/* A resolved config's point id (see ax_sweep_resolve). */
uint64_t ax_sweep_point_id(const struct ax_sweep *sw, int family,
			   const struct ax_config *cfg);
/* Builds and costs pt->cfg: fills cost, metrics, constraints. A point
 * whose counts exceed int64 at the sweep's lengths is AX_ERR_INPUT (an
 * invalid point), like one that fails validation. */
enum ax_status ax_sweep_measure(const struct ax_sweep *sw,
				struct ax_sweep_ws *ws,
				struct ax_sweep_point *pt, struct ax_diag *d);
/* The genome of point i (0-based within the family) of a grid or random
 * sweep. */
void ax_sweep_genome(const struct ax_sweep *sw, int family, int64_t i,
		     int32_t *genes);

/* The constraints a family's points are checked against (the sweep's,
 * then the family's own); *n gets their count when n is non-NULL. */
const struct ax_sweep_constraint *ax_sweep_constraints(const struct ax_sweep *sw,
						       int family, int *n);

/* Value of objective o of pt, oriented so that larger is better. */
double ax_sweep_fitness(const struct ax_sweep_objective *o, const double *metrics);

/* Why points were invalid: a validation message with every number
 * written as N ("encoder.attention_heads[N] = N does not divide
 * embed_dim = N"), and how many points it rejected. */
#define AX_SWEEP_MAX_REASONS 4
struct ax_sweep_reason {
	char text[160];
	int64_t n;
};

struct ax_sweep_stats {
	int64_t total;            /* points the strategy made */
	int64_t in_shard;         /* of those, in this shard */
	int64_t invalid;          /* rejected by validation */
	int64_t duplicate;        /* same id as an earlier point */
	int64_t emitted;          /* passed to the callback */
	int64_t feasible;         /* of those, meeting every constraint */
	/* per family, of the points in this shard: */
	int64_t fam_in_shard[AX_SWEEP_MAX_FAMILIES];
	int64_t fam_valid[AX_SWEEP_MAX_FAMILIES];     /* emitted or duplicate */
	struct ax_sweep_reason reason[AX_SWEEP_MAX_FAMILIES][AX_SWEEP_MAX_REASONS];
	int64_t fam_other_invalid[AX_SWEEP_MAX_FAMILIES];   /* reasons beyond those */
};

/* Called once per valid, first-seen point of the shard, in index order. */
typedef enum ax_status (*ax_sweep_point_fn)(void *ctx,
					    const struct ax_sweep_point *pt,
					    const struct ax_sweep_stats *st,
					    struct ax_diag *d);

struct ax_sweep_run_opts {
	int shard_k, shard_n;     /* evaluate index % shard_n == shard_k */
	int jobs;                 /* worker threads (grid, random) */
	int64_t limit;            /* stop after this many points (0: all) */
	ax_sweep_train_fn train;  /* trains points of a `train:` sweep, one */
	void *train_ctx;          /* at a time, in index order (NULL: none) */
};

/* Runs the strategy. A callback error stops the run and is returned. */
enum ax_status ax_sweep_run(const struct ax_sweep *sw,
			    const struct ax_sweep_run_opts *opts,
			    ax_sweep_point_fn fn, void *ctx,
			    struct ax_sweep_stats *st, struct ax_diag *d);

/* One JSON line (no newline) for pt: id, index, family, name, feasible,
 * metrics, objectives, constraints, config, result record. */
enum ax_status ax_sweep_point_write_json(FILE *f, const struct ax_sweep *sw,
					 const struct ax_sweep_point *pt,
					 struct ax_diag *d);

/* A point's display name: "<label>-<id>" */
void ax_sweep_point_name(const struct ax_sweep *sw,
			 const struct ax_sweep_point *pt, char *buf, size_t size);

#endif
