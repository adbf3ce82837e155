/*
 * study.h - the proxy study's report (docs/study.md): reads trained sweep
 * directories (docs/sweeps.md "Trained sweeps") and answers three
 * questions.
 *
 * Sweeps are grouped by training budget ("train_tokens=100000"): the
 * sweeps with the first directory's budget form the main group, whose
 * points (their union) parts (a) and (b) read; a study may thus be split
 * into several sweeps (designs near 90M and 350M MACs with 3 seeds, the
 * large ones with 1). All must share the convention and the lengths.
 *
 * (a) Trust in the proxy. Each trained point of the main group is joined to a published config (results/published/,
 *     configs/paper/) when the point's model IS that config with the
 *     config's vocabulary replaced by the point's: the published config
 *     is loaded, given the point's vocab.source, vocab.target and
 *     vocab.share, validated, and its ax_config_hash compared with the
 *     point's config_hash. Nothing is joined by name. Per published
 *     dataset, Spearman's rho and Kendall's tau-b (rankcorr.h) between
 *     the published figure and four proxies: the proxy's BLEU, its valid
 *     loss (negated, so that +1 means "lower loss, higher published
 *     BLEU"), its parameters (exact convention, with the embeddings of
 *     the point's vocabulary) and its non-embedding parameters.
 * (b) The paper's claim. Points of the main group grouped by MAC budget:
 *     a point belongs to budget b when (1 - tolerance) b <= MACs <= b
 *     (the sweeps' budgets are caps, as in best.csv; by default the
 *     union of the main group's sweeps' budgets). Per budget and
 *     family: valid loss and BLEU, mean and std over seeds, and the
 *     budget's winner (lowest valid loss).
 * (c) The budget study. With two or more training budgets, the same
 *     designs (same family label and config_hash) trained with each:
 *     per budget, the designs' ranks by valid loss (average ranks for
 *     ties), and Kendall's tau-b between every two budgets' valid
 *     losses over the designs present at every budget.
 *
 * Everything is computed in memory before anything is written; the
 * files are then replaced one by one through atomic_io.
 */
#ifndef AX_STUDY_H
#define AX_STUDY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "atomic_io.h"
#include "config.h"
#include "diag.h"
#include "sweep_out.h"

#define AX_STUDY_MAX_SWEEPS 8
#define AX_STUDY_MAX_DATASETS 16
#define AX_STUDY_MAX_FAMILIES 32
#define AX_STUDY_MAX_BUDGETS 32

/* One trained point of a sweep directory. */
struct ax_study_point {
	char id[17];
	char name[128];
	char family[64];            /* the sweep's family label */
	char kind[16];              /* its family kind (ax_family_names) */
	int fam;                    /* row of the study's family table (after ax_study_run) */
	int sweep;                  /* index of its sweep in the study */
	uint64_t config_hash;       /* the model's (result.config_hash) */
	int64_t vocab_source, vocab_target;
	enum ax_share share;
	double macs;                /* under the sweep's convention and lengths */
	double nonembedding_params;
	double valid_loss, valid_loss_std;   /* mean, sample std over seeds */
	double bleu, bleu_std;               /* NaN without bleu: true */
	int n_seeds;
};

/* A trained sweep directory as the study reads it. */
struct ax_study_sweep {
	char dir[AX_PATH_MAX];
	struct ax_sweep_meta meta;
	char budget[64];            /* the training budget: "train_tokens=100000" */
	double budget_value;        /* its number */
	int64_t n_records;          /* points in points.jsonl */
	int64_t n_untrained;        /* of them without a valid loss */
	struct ax_study_point *pt;  /* (n) the trained ones, in index order */
	int64_t n;
};

/* The proxies of part (a), in table order. */
enum ax_study_proxy {
	AX_STUDY_PROXY_BLEU,
	AX_STUDY_PROXY_VALID_LOSS,
	AX_STUDY_PROXY_PARAMS,
	AX_STUDY_PROXY_NONEMBEDDING_PARAMS,
	AX_STUDY_PROXY_COUNT
};
extern const char *const ax_study_proxy_names[AX_STUDY_PROXY_COUNT];

/* The trained points of the sweeps with one training budget. */
struct ax_study_group {
	char budget[64];            /* "train_tokens=100000" */
	double value;               /* 100000 */
	char sweeps[256];           /* the sweeps' names, '+'-joined */
	struct ax_study_point *pt;  /* (n) in sweep order, then index order */
	int64_t n;
};

/* (a): a published record joined to a point of the main group. */
struct ax_study_join {
	char dataset[32];
	char config[64];            /* the published config's name */
	double published;
	int64_t point;              /* index into the main group's pt */
	double params;              /* exact-convention params of the point's model */
};

struct ax_study_corr {
	int64_t n;                  /* pairs with a finite proxy */
	double spearman, kendall;   /* NaN when n < 2 or a side is constant */
};

/* (b): a point of the main group in a MAC budget group. */
struct ax_study_cell {
	int budget;                 /* index into budget[] */
	int64_t point;
	bool winner;                /* the lowest valid loss of its budget */
};

/* (c): a design present at every training budget. */
struct ax_study_design {
	int fam;                    /* row of the study's family table */
	char name[128];             /* its point name in the main group */
	int64_t point[AX_STUDY_MAX_SWEEPS];   /* per group: index into its pt */
	double rank[AX_STUDY_MAX_SWEEPS];     /* per group, by valid loss, 1 = best */
};

struct ax_study_opts {
	const char *published;      /* the published CSV */
	const char *configs_dir;    /* where its configs are: DIR/NAME.yaml */
	const char *metric;         /* the published metric: "bleu" */
	int n_budgets;              /* 0: the main group's sweeps' budgets */
	double budget[AX_STUDY_MAX_BUDGETS];
	double tolerance;           /* (b)'s band below each budget, in (0, 1] */
};

struct ax_study {
	int n_sweeps;
	struct ax_study_sweep *sw;  /* (n_sweeps) as given */
	int n_groups;               /* training budgets, ascending */
	struct ax_study_group group[AX_STUDY_MAX_SWEEPS];
	int main_group;             /* the group of sw[0] */
	int n_families;             /* family labels, main group's first */
	char family[AX_STUDY_MAX_FAMILIES][64];
	char family_kind[AX_STUDY_MAX_FAMILIES][16];
	char metric[32];
	/* (a) */
	struct ax_study_join *join; /* (n_join) by dataset, then published order */
	int64_t n_join;
	int n_datasets;
	char dataset[AX_STUDY_MAX_DATASETS][32];
	struct ax_study_corr corr[AX_STUDY_MAX_DATASETS][AX_STUDY_PROXY_COUNT];
	/* (b) */
	int n_budgets;              /* ascending */
	double budget[AX_STUDY_MAX_BUDGETS];
	double tolerance;
	struct ax_study_cell *cell; /* (n_cell) by budget, family, MACs */
	int64_t n_cell;
	int64_t n_outside;          /* main-group points in no budget group */
	/* (c): only with n_groups >= 2 */
	struct ax_study_design *design;       /* (n_design) in main-group order */
	int64_t n_design;
	double kendall[AX_STUDY_MAX_SWEEPS][AX_STUDY_MAX_SWEEPS];  /* by group */
};

/* Reads DIR/sweep.json and DIR/points.jsonl. Errors: a missing
 * directory or sweep.json, a sweep without a train: section ("not a
 * trained sweep"), a malformed line, no trained point. */
enum ax_status ax_study_sweep_load(struct ax_study_sweep *s, const char *dir,
				   struct ax_diag *d);
void ax_study_sweep_free(struct ax_study_sweep *s);

/* Loads dirs[0..n), groups them and computes (a), (b) and, with two or
 * more training budgets, (c). Fails when the sweeps differ in convention
 * or lengths, or when no point of the main group joins a published
 * config of the metric (the message says what was tried). */
enum ax_status ax_study_run(struct ax_study *st, const char *const *dirs, int n,
			    const struct ax_study_opts *o, struct ax_diag *d);
void ax_study_free(struct ax_study *st);

/* The tables, as text (what `archex study` prints). */
void ax_study_print(FILE *f, const struct ax_study *st);

/* Writes into outdir (created if missing): proxy_join.csv,
 * proxy_correlation.csv, claim.csv, budget_ranks.csv and
 * budget_kendall.csv (the last two with two or more budgets), study.json,
 * and the plot data plots/proxy.csv (proxy.gp) and plots/claim.csv
 * (accuracy.gp). Each file is replaced atomically. */
enum ax_status ax_study_write(const struct ax_study *st, const char *outdir,
			      struct ax_diag *d);

/* study.json alone (what `archex study --format json` prints). */
enum ax_status ax_study_write_json(FILE *f, const struct ax_study *st, struct ax_diag *d);

/* The blocks of plots/proxy.csv, for proxy.gp's styles: per block, its
 * family (1-based row of the study's family table) into fams and its
 * dataset (1-based) into sets, space-separated ("1 2 1", "1 1 2"). */
void ax_study_proxy_blocks(const struct ax_study *st, char *fams, char *sets, size_t size);

#endif
