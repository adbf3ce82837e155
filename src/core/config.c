/*
 * config.c - the YAML model-config loader, the validator, the config hash
 * and the JSON writer (see config.h; the schema is docs/config.md).
 *
 * Loading runs in stages; each stops at the first error and reports it as
 * file:line:col (1-based) in the caller's struct ax_diag:
 *   1. read the file (at most CONFIG_MAX_BYTES) and refuse tabs;
 *   2. scan the event stream once: syntax errors, and refuse anchors,
 *      aliases, tags, a second document and deep nesting, so that the
 *      document built next is a small tree (no billion laughs);
 *   3. load the document (libyaml document API) and walk it with one
 *      static field table per mapping: unknown, duplicate, missing and
 *      family-irrelevant keys, types, ranges, per-layer lists;
 *   4. run the cross-field checks that ax_config_validate() runs, with the
 *      position the walker recorded for every value it stored.
 * Nothing here prints, exits or keeps state between calls.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define CONFIG_MAX_BYTES ((size_t)1 << 20)  /* 1 MiB: far above any config */
#define CONFIG_MAX_DEPTH 16                 /* nested collections; schema uses 4 */
#define MAX_FIELDS 16                       /* keys in one mapping's table */
#define PATH_LEN 128                        /* a key path; ours are < 40 */

/* ---- name tables ------------------------------------------------------ */

/* Declared with [] so that a missing name is also a type conflict with the
 * sized declaration in config.h, besides failing the static_assert. */
const char *const ax_family_names[] = {
	[AX_FAMILY_TRANSFORMER] = "transformer",
	[AX_FAMILY_LITE] = "lite",
	[AX_FAMILY_LIGHTCONV] = "lightconv",
	[AX_FAMILY_EVOLVED] = "evolved",
};
static_assert(ARRAY_LEN(ax_family_names) == AX_FAMILY_COUNT,
	      "every family needs a name");

const char *const ax_task_names[] = {
	[AX_TASK_TRANSLATION] = "translation",
	[AX_TASK_LANGUAGE_MODEL] = "language_model",
};
static_assert(ARRAY_LEN(ax_task_names) == AX_TASK_COUNT,
	      "every task needs a name");

const char *const ax_share_names[] = {
	[AX_SHARE_NONE] = "none",
	[AX_SHARE_DECODER] = "decoder",
	[AX_SHARE_ALL] = "all",
};
static_assert(ARRAY_LEN(ax_share_names) == AX_SHARE_COUNT,
	      "every share mode needs a name");

const char *const ax_norm_names[] = {
	[AX_NORM_POST] = "post",
	[AX_NORM_PRE] = "pre",
};
static_assert(ARRAY_LEN(ax_norm_names) == AX_NORM_COUNT,
	      "every norm placement needs a name");

const char *const ax_conv_type_names[] = {
	[AX_CONV_LIGHTWEIGHT] = "lightweight",
	[AX_CONV_DYNAMIC] = "dynamic",
};
static_assert(ARRAY_LEN(ax_conv_type_names) == AX_CONV_TYPE_COUNT,
	      "every conv type needs a name");

const char *const ax_side_names[] = {
	[AX_SIDE_ENCODER] = "encoder",
	[AX_SIDE_DECODER] = "decoder",
};
static_assert(ARRAY_LEN(ax_side_names) == AX_SIDE_COUNT,
	      "every side needs a name");

/* The walker stores enum values through an int pointer. */
static_assert(sizeof(enum ax_family) == sizeof(int) &&
	      sizeof(enum ax_task) == sizeof(int) &&
	      sizeof(enum ax_share) == sizeof(int) &&
	      sizeof(enum ax_norm) == sizeof(int) &&
	      sizeof(enum ax_conv_type) == sizeof(int),
	      "enums are stored as int");

static const char *enum_name(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "?";
}

/* ---- which per-layer fields a family reads ---------------------------- */

enum {
	USE_FFN = 1u << 0,        /* ffn_dim */
	USE_HEADS = 1u << 1,      /* attention_heads */
	USE_ATT_BRANCH = 1u << 2, /* attention_dim, attention_branch_heads */
	USE_CONV = 1u << 3,       /* conv_type, conv_dim, conv_heads, glu, kernel_size */
};

/* The per-layer fields one stack of a family reads (config.h's table). */
static unsigned layer_uses(enum ax_family fam, enum ax_task task,
			   enum ax_side side)
{
	bool cross = side == AX_SIDE_DECODER && task == AX_TASK_TRANSLATION;

	switch (fam) {
	case AX_FAMILY_TRANSFORMER:
		return USE_FFN | USE_HEADS;
	case AX_FAMILY_LITE:
		return USE_FFN | USE_ATT_BRANCH | USE_CONV |
		       (cross ? USE_HEADS : 0u);
	case AX_FAMILY_LIGHTCONV:
		return USE_FFN | USE_CONV | (cross ? USE_HEADS : 0u);
	case AX_FAMILY_EVOLVED:
		return USE_HEADS;
	default:
		return 0;
	}
}

/* Why a stack of this family does not read the fields in `bit`. */
static const char *why_unused(enum ax_family fam, enum ax_task task,
			      enum ax_side side, unsigned bit)
{
	switch (bit) {
	case USE_FFN:
		return "family evolved fixes its inner widths as multiples of embed_dim";
	case USE_HEADS:
		if (side == AX_SIDE_DECODER && task == AX_TASK_LANGUAGE_MODEL)
			return "a language_model decoder of family lite or lightconv has no "
			       "full-width attention (no cross-attention)";
		if (fam == AX_FAMILY_LITE)
			return "a lite encoder has no full-width attention; its heads are "
			       "attention_branch.heads";
		return "a lightconv encoder has no attention; its heads are conv.heads";
	case USE_ATT_BRANCH:
		return "only family lite has LSRA branches";
	default:
		return "only families lite and lightconv have convolutions";
	}
}

/* ---- positions and diagnostics ---------------------------------------- */

/* A 1-based source position; {0, 0} = unknown. */
struct pos {
	int line;
	int col;
};

static struct pos mark_pos(yaml_mark_t m)
{
	/* libyaml marks are 0-based. */
	return (struct pos){ (int)m.line + 1, (int)m.column + 1 };
}

/* Line and column (bytes) of a byte offset into text. */
static struct pos offset_pos(const char *text, size_t len, size_t offset)
{
	struct pos p = { 1, 1 };

	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static enum ax_status pos_error(struct ax_diag *d, enum ax_status st,
				const char *file, struct pos p,
				const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum ax_status pos_error(struct ax_diag *d, enum ax_status st,
				const char *file, struct pos p,
				const char *fmt, ...)
{
	char msg[sizeof ((struct ax_diag *)0)->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ax_diag_set(d, st, file, p.line, p.col, "%s", msg);
}

/* ---- stage 1: reading and tabs ---------------------------------------- */

static enum ax_status io_error(struct ax_diag *d, const char *path,
			       const char *what, int err, const char *hint)
{
	char buf[256];

	if (strerror_r(err, buf, sizeof buf) != 0)
		snprintf(buf, sizeof buf, "error %d", err);
	return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot %s: %s%s", what,
			   buf, hint);
}

/* Reads at most CONFIG_MAX_BYTES from path into a new buffer. */
static enum ax_status read_file(const char *path, char **text, size_t *len,
				struct ax_diag *d)
{
	enum ax_status st = AX_OK;
	size_t n = 0;
	char *buf = NULL;
	struct stat sb;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK so that a FIFO with no writer cannot hang the open;
	 * reads are made blocking again below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return io_error(d, path, "open for reading", errno, "");
	if (fstat(fd, &sb) != 0) {
		st = io_error(d, path, "stat", errno, "");
		goto close_fd;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		st = io_error(d, path, "read", errno, "");
		goto close_fd;
	}
	if (S_ISDIR(sb.st_mode)) {
		st = io_error(d, path, "read", EISDIR,
			      " (expected a YAML file, got a directory)");
		goto close_fd;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		st = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0,
				 "out of memory reading the config");
		goto close_fd;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, CONFIG_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			st = io_error(d, path, "read", errno, "");
			goto free_buf;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CONFIG_MAX_BYTES) {
			st = ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
					 "the file is larger than %zu bytes (1 MiB); "
					 "a model config is a few hundred bytes",
					 CONFIG_MAX_BYTES);
			goto free_buf;
		}
	}
	*text = buf;
	*len = n;
	goto close_fd;
free_buf:
	free(buf);
close_fd:
	close(fd);
	return st;
}

/* A NUL byte means binary data or UTF-16 text, which libyaml would
 * otherwise report as a confusing syntax or tab error. YAML forbids tabs
 * in indentation; we refuse them everywhere, so that a config reads the
 * same in every editor. */
static enum ax_status refuse_tabs(const char *text, size_t len,
				  const char *file, struct ax_diag *d)
{
	const char *nul = memchr(text, '\0', len);
	const char *tab = memchr(text, '\t', len);

	if (nul)
		return pos_error(d, AX_ERR_INPUT, file,
				 offset_pos(text, len, (size_t)(nul - text)),
				 "a NUL byte: this is binary data or UTF-16 text, "
				 "not a UTF-8 YAML config");
	if (!tab)
		return AX_OK;
	return pos_error(d, AX_ERR_INPUT, file,
			 offset_pos(text, len, (size_t)(tab - text)),
			 "tab character; config files must use spaces");
}

/* ---- stage 2: the event scan ------------------------------------------ */

static enum ax_status parser_error(const yaml_parser_t *p, const char *text,
				   size_t len, const char *file,
				   struct ax_diag *d)
{
	const char *problem = p->problem ? p->problem : "unknown problem";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				   "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		return pos_error(d, AX_ERR_INPUT, file,
				 offset_pos(text, len, p->problem_offset),
				 "unreadable text: %s", problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (p->context)
			return pos_error(d, AX_ERR_INPUT, file,
					 mark_pos(p->problem_mark),
					 "YAML syntax error: %s (%s at line %d)",
					 problem, p->context,
					 (int)p->context_mark.line + 1);
		return pos_error(d, AX_ERR_INPUT, file,
				 mark_pos(p->problem_mark),
				 "YAML syntax error: %s", problem);
	default:
		return ax_diag_set(d, AX_ERR_INTERNAL, file, 0, 0,
				   "libyaml failed without saying why");
	}
}

/* Checks one event; anchors and tags are refused where they appear. */
static enum ax_status check_event(const yaml_event_t *ev, int *depth,
				  int *docs, const char *file,
				  struct ax_diag *d)
{
	struct pos at = mark_pos(ev->start_mark);
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return pos_error(d, AX_ERR_INPUT, file, at,
					 "a second YAML document; a config file holds one");
		return AX_OK;
	case YAML_ALIAS_EVENT:
		return pos_error(d, AX_ERR_INPUT, file, at,
				 "aliases are not supported; write the value out");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		++*depth;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		++*depth;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		return AX_OK;
	default:
		return AX_OK;
	}
	if (anchor)
		return pos_error(d, AX_ERR_INPUT, file, at,
				 "anchors (&%.40s) and aliases are not supported; "
				 "write the value out", (const char *)anchor);
	if (tag)
		return pos_error(d, AX_ERR_INPUT, file, at,
				 "YAML tags (%.40s) are not supported",
				 (const char *)tag);
	if (*depth > CONFIG_MAX_DEPTH)
		return pos_error(d, AX_ERR_LIMIT, file, at,
				 "nesting deeper than %d levels", CONFIG_MAX_DEPTH);
	return AX_OK;
}

static enum ax_status scan_events(const char *text, size_t len,
				  const char *file, struct ax_diag *d)
{
	yaml_parser_t parser;
	enum ax_status st = AX_OK;
	int depth = 0, docs = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser))
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				   "out of memory starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && st == AX_OK) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			st = parser_error(&parser, text, len, file, d);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		st = check_event(&ev, &depth, &docs, file, d);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return st;
}

/* ---- stage 3: field tables and the walker ----------------------------- */

enum field_type {
	FT_INT,       /* int64_t */
	FT_BOOL,      /* bool */
	FT_ENUM,      /* an enum stored as int, spelled by `names` */
	FT_STRING,    /* char[sizeof ax_config.name] */
	FT_INT_LIST,  /* int64_t[max_count] plus an int count */
	FT_MAP,       /* a nested mapping walked with `sub` */
	FT_STACK,     /* encoder/decoder: a FT_MAP that also sets the stack */
};

enum presence { PRESENCE_OPTIONAL, PRESENCE_REQUIRED, PRESENCE_FORBIDDEN };

struct walk {
	const char *file;
	yaml_document_t *doc;
	struct ax_config *cfg;
	struct pos *pos;                /* per byte offset in *cfg */
	struct ax_stack_config *stack;  /* the stack being walked, or NULL */
	enum ax_side side;
	char path[PATH_LEN];            /* key path of this mapping; "" = root */
	struct ax_diag *d;
};

/*
 * One key of a mapping. offset is from the mapping's base (struct
 * ax_config for the root, vocab and adaptive's parent, the stack for a
 * stack), except for per_layer fields, whose offset is into struct
 * ax_layer_config. To add a key: a row here, its field in config.h, its
 * check in check_config() and a line in docs/config.md.
 */
struct field {
	const char *key;
	enum field_type type;
	size_t offset;
	int64_t min, max;           /* FT_INT, FT_INT_LIST elements */
	bool required;              /* when rule is NULL */
	bool per_layer;             /* scalar or one entry per layer */
	bool early;                 /* parsed first: other keys' rules read it */
	const char *const *names;   /* FT_ENUM */
	int n_names;
	const struct field *sub;    /* FT_MAP, FT_STACK */
	size_t n_sub;
	size_t count_offset;        /* FT_INT_LIST: its int count */
	int max_count;              /* FT_INT_LIST */
	bool has_flag;              /* FT_MAP: set a bool when present */
	size_t flag_offset;
	enum ax_side side;          /* FT_STACK */
	enum presence (*rule)(const struct walk *w, const char **why);
};

static enum presence layer_rule(const struct walk *w, unsigned bit,
				const char **why)
{
	const struct ax_config *c = w->cfg;

	if (layer_uses(c->family, c->task, w->side) & bit)
		return PRESENCE_REQUIRED;
	*why = why_unused(c->family, c->task, w->side, bit);
	return PRESENCE_FORBIDDEN;
}

static enum presence rule_ffn(const struct walk *w, const char **why)
{
	return layer_rule(w, USE_FFN, why);
}

static enum presence rule_heads(const struct walk *w, const char **why)
{
	enum presence p = layer_rule(w, USE_HEADS, why);

	if (p == PRESENCE_REQUIRED && w->cfg->family != AX_FAMILY_TRANSFORMER &&
	    w->cfg->family != AX_FAMILY_EVOLVED)
		*why = "the cross-attention heads of a translation decoder";
	return p;
}

static enum presence rule_lite(const struct walk *w, const char **why)
{
	if (w->cfg->family == AX_FAMILY_LITE)
		return PRESENCE_REQUIRED;
	*why = "only family lite has LSRA branches";
	return PRESENCE_FORBIDDEN;
}

static enum presence rule_lightconv(const struct walk *w, const char **why)
{
	if (w->cfg->family == AX_FAMILY_LIGHTCONV)
		return PRESENCE_REQUIRED;
	*why = w->cfg->family == AX_FAMILY_LITE
		       ? "family lite configures its convolution under conv_branch"
		       : "only family lightconv has a conv block";
	return PRESENCE_FORBIDDEN;
}

static enum presence rule_final_norm(const struct walk *w, const char **why)
{
	if (w->cfg->norm == AX_NORM_PRE) {
		*why = "norm: pre must say whether each stack ends in a LayerNorm";
		return PRESENCE_REQUIRED;
	}
	*why = "norm: post stacks have no final LayerNorm";
	return PRESENCE_FORBIDDEN;
}

static enum presence rule_translation(const struct walk *w, const char **why)
{
	if (w->cfg->task == AX_TASK_TRANSLATION) {
		*why = "task translation has an encoder and a source vocabulary";
		return PRESENCE_REQUIRED;
	}
	*why = "a language_model has no source side (no encoder, no source vocabulary)";
	return PRESENCE_FORBIDDEN;
}

static enum presence rule_adaptive(const struct walk *w, const char **why)
{
	if (w->cfg->task == AX_TASK_LANGUAGE_MODEL)
		return PRESENCE_OPTIONAL;
	*why = "adaptive input and softmax are for task language_model only";
	return PRESENCE_FORBIDDEN;
}

#define LAYER_OFF(member) offsetof(struct ax_layer_config, member)
#define CFG_OFF(member) offsetof(struct ax_config, member)
#define ENUM_NAMES(table) .names = (table), .n_names = (int)ARRAY_LEN(table)
#define SUB(table) .sub = (table), .n_sub = ARRAY_LEN(table)

static const struct field attention_branch_fields[] = {
	{ .key = "dim", .type = FT_INT, .offset = LAYER_OFF(attention_dim),
	  .min = 1, .max = AX_MAX_DIM, .required = true, .per_layer = true },
	{ .key = "heads", .type = FT_INT,
	  .offset = LAYER_OFF(attention_branch_heads),
	  .min = 1, .max = AX_MAX_DIM, .required = true, .per_layer = true },
};

/* Lite's conv_branch and LightConv's conv. */
static const struct field conv_fields[] = {
	{ .key = "type", .type = FT_ENUM, .offset = LAYER_OFF(conv_type),
	  ENUM_NAMES(ax_conv_type_names), .required = true, .per_layer = true },
	{ .key = "dim", .type = FT_INT, .offset = LAYER_OFF(conv_dim),
	  .min = 1, .max = AX_MAX_DIM, .required = true, .per_layer = true },
	{ .key = "heads", .type = FT_INT, .offset = LAYER_OFF(conv_heads),
	  .min = 1, .max = AX_MAX_DIM, .required = true, .per_layer = true },
	{ .key = "glu", .type = FT_BOOL, .offset = LAYER_OFF(glu),
	  .required = true, .per_layer = true },
	{ .key = "kernel_size", .type = FT_INT, .offset = LAYER_OFF(kernel_size),
	  .min = 1, .max = AX_MAX_KERNEL, .required = true, .per_layer = true },
};

static const struct field stack_fields[] = {
	{ .key = "layers", .type = FT_INT,
	  .offset = offsetof(struct ax_stack_config, layers),
	  .min = 1, .max = AX_MAX_LAYERS, .required = true, .early = true },
	{ .key = "ffn_dim", .type = FT_INT, .offset = LAYER_OFF(ffn_dim),
	  .min = 1, .max = AX_MAX_DIM, .per_layer = true, .rule = rule_ffn },
	{ .key = "attention_heads", .type = FT_INT,
	  .offset = LAYER_OFF(attention_heads),
	  .min = 1, .max = AX_MAX_DIM, .per_layer = true, .rule = rule_heads },
	{ .key = "attention_branch", .type = FT_MAP, SUB(attention_branch_fields),
	  .rule = rule_lite },
	{ .key = "conv_branch", .type = FT_MAP, SUB(conv_fields),
	  .rule = rule_lite },
	{ .key = "conv", .type = FT_MAP, SUB(conv_fields),
	  .rule = rule_lightconv },
};

static const struct field vocab_fields[] = {
	{ .key = "source", .type = FT_INT, .offset = CFG_OFF(vocab_source),
	  .min = 1, .max = AX_MAX_VOCAB, .rule = rule_translation },
	{ .key = "target", .type = FT_INT, .offset = CFG_OFF(vocab_target),
	  .min = 1, .max = AX_MAX_VOCAB, .required = true },
	{ .key = "share", .type = FT_ENUM, .offset = CFG_OFF(share),
	  ENUM_NAMES(ax_share_names), .required = true },
};

static const struct field adaptive_fields[] = {
	{ .key = "cutoffs", .type = FT_INT_LIST,
	  .offset = offsetof(struct ax_adaptive_config, cutoff),
	  .count_offset = offsetof(struct ax_adaptive_config, n_cutoffs),
	  .max_count = AX_MAX_CUTOFFS, .min = 1, .max = AX_MAX_VOCAB,
	  .required = true },
	{ .key = "factor", .type = FT_INT,
	  .offset = offsetof(struct ax_adaptive_config, factor),
	  .min = 1, .max = AX_MAX_DIM, .required = true },
	{ .key = "tie_weights", .type = FT_BOOL,
	  .offset = offsetof(struct ax_adaptive_config, tie_weights),
	  .required = true },
	{ .key = "tie_proj", .type = FT_BOOL,
	  .offset = offsetof(struct ax_adaptive_config, tie_proj),
	  .required = true },
};

static const struct field root_fields[] = {
	{ .key = "name", .type = FT_STRING, .offset = CFG_OFF(name) },
	{ .key = "family", .type = FT_ENUM, .offset = CFG_OFF(family),
	  ENUM_NAMES(ax_family_names), .required = true, .early = true },
	{ .key = "task", .type = FT_ENUM, .offset = CFG_OFF(task),
	  ENUM_NAMES(ax_task_names), .required = true, .early = true },
	{ .key = "embed_dim", .type = FT_INT, .offset = CFG_OFF(embed_dim),
	  .min = 1, .max = AX_MAX_DIM, .required = true },
	{ .key = "norm", .type = FT_ENUM, .offset = CFG_OFF(norm),
	  ENUM_NAMES(ax_norm_names), .required = true, .early = true },
	{ .key = "final_norm", .type = FT_BOOL, .offset = CFG_OFF(final_norm),
	  .rule = rule_final_norm },
	{ .key = "vocab", .type = FT_MAP, SUB(vocab_fields), .required = true },
	{ .key = "adaptive", .type = FT_MAP, .offset = CFG_OFF(adaptive),
	  SUB(adaptive_fields), .has_flag = true,
	  .flag_offset = offsetof(struct ax_adaptive_config, enabled),
	  .rule = rule_adaptive },
	{ .key = "encoder", .type = FT_STACK, .offset = CFG_OFF(encoder),
	  SUB(stack_fields), .side = AX_SIDE_ENCODER, .rule = rule_translation },
	{ .key = "decoder", .type = FT_STACK, .offset = CFG_OFF(decoder),
	  SUB(stack_fields), .side = AX_SIDE_DECODER, .required = true },
};

static_assert(ARRAY_LEN(root_fields) <= MAX_FIELDS &&
	      ARRAY_LEN(stack_fields) <= MAX_FIELDS &&
	      ARRAY_LEN(conv_fields) <= MAX_FIELDS,
	      "raise MAX_FIELDS");

static struct pos node_pos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

static enum ax_status node_error(const struct walk *w, const yaml_node_t *n,
				 enum ax_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum ax_status node_error(const struct walk *w, const yaml_node_t *n,
				 enum ax_status st, const char *fmt, ...)
{
	char msg[sizeof ((struct ax_diag *)0)->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return pos_error(w->d, st, w->file, node_pos(n), "%s", msg);
}

static void record(const struct walk *w, const void *field,
		   const yaml_node_t *n)
{
	size_t off = (size_t)((const char *)field - (const char *)w->cfg);

	assert(off < sizeof *w->cfg);
	w->pos[off] = node_pos(n);
}

/* Marks a path that did not fit; table paths are far shorter than
 * PATH_LEN, so this only guards against our own future mistakes. */
static void mark_cut(char *buf, size_t size, int n)
{
	if (n >= 0 && (size_t)n >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

/* "decoder.conv_branch" + "dim" -> "decoder.conv_branch.dim". */
static void key_path(const struct walk *w, const char *key, char *buf,
		     size_t size)
{
	mark_cut(buf, size, snprintf(buf, size, "%s%s%s", w->path,
				     w->path[0] ? "." : "", key));
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

static const char *type_name(enum field_type t)
{
	switch (t) {
	case FT_INT:
		return "an integer";
	case FT_BOOL:
		return "a boolean (true or false)";
	case FT_ENUM:
	case FT_STRING:
		return "a string";
	case FT_INT_LIST:
		return "a sequence of integers";
	default:
		return "a mapping";
	}
}

/* "expected X, got Y" where Y quotes a scalar. */
static enum ax_status type_error(const struct walk *w, const yaml_node_t *n,
				 const char *path, const char *expected)
{
	if (n->type != YAML_SCALAR_NODE)
		return node_error(w, n, AX_ERR_INPUT, "%s: expected %s, got %s",
				  path, expected, kind_name(n));
	if (n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return node_error(w, n, AX_ERR_INPUT,
				  "%s: expected %s, got an empty value", path,
				  expected);
	return node_error(w, n, AX_ERR_INPUT, "%s: expected %s, got %s'%.40s'",
			  path, expected,
			  n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
				  ? "" : "the quoted string ",
			  (const char *)n->data.scalar.value);
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);

	return n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, s, len) == 0;
}

/* A plain decimal integer: [+-]?[0-9]+ (no floats, exponents, hex). */
static enum ax_status parse_int(const struct walk *w, const struct field *f,
				const yaml_node_t *n, const char *path,
				int64_t *out)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length, i = 0;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return type_error(w, n, path, "an integer");
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (i == len)
		return type_error(w, n, path, "an integer");
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return type_error(w, n, path, "an integer");
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s: %.40s does not fit in a 64-bit integer",
				  path, s);
	if (errno != 0 || end != s + len)
		return type_error(w, n, path, "an integer");
	if (v < f->min || v > f->max)
		return node_error(w, n, v < f->min ? AX_ERR_INPUT : AX_ERR_LIMIT,
				  "%s is %lld, must be in %" PRId64 "..%" PRId64,
				  path, v, f->min, f->max);
	*out = v;
	return AX_OK;
}

/* YAML 1.2 core-schema booleans, plain only. */
static enum ax_status parse_bool(const struct walk *w, const yaml_node_t *n,
				 const char *path, int64_t *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
			if (scalar_is(n, yes[i])) {
				*out = 1;
				return AX_OK;
			}
			if (scalar_is(n, no[i])) {
				*out = 0;
				return AX_OK;
			}
		}
	}
	return type_error(w, n, path, "a boolean (true or false)");
}

static enum ax_status parse_enum(const struct walk *w, const struct field *f,
				 const yaml_node_t *n, const char *path,
				 int64_t *out)
{
	char allowed[256] = "";
	size_t used = 0;

	for (int i = 0; i < f->n_names; i++) {
		if (scalar_is(n, f->names[i])) {
			*out = i;
			return AX_OK;
		}
		int k = snprintf(allowed + used, sizeof allowed - used, "%s%s",
				 i ? ", " : "", f->names[i]);
		if (k > 0 && (size_t)k < sizeof allowed - used)
			used += (size_t)k;
	}
	return node_error(w, n, AX_ERR_INPUT,
			  "%s: '%.40s' is not one of: %s", path,
			  (const char *)n->data.scalar.value, allowed);
}

/* An integer, boolean or enum scalar, as int64_t. */
static enum ax_status parse_scalar(const struct walk *w, const struct field *f,
				   const yaml_node_t *n, const char *path,
				   int64_t *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return type_error(w, n, path, type_name(f->type));
	switch (f->type) {
	case FT_INT:
		return parse_int(w, f, n, path, out);
	case FT_BOOL:
		return parse_bool(w, n, path, out);
	default:
		return parse_enum(w, f, n, path, out);
	}
}

static void store(const struct field *f, void *dst, int64_t v)
{
	switch (f->type) {
	case FT_INT:
		*(int64_t *)dst = v;
		break;
	case FT_BOOL:
		*(bool *)dst = v != 0;
		break;
	default:
		*(int *)dst = (int)v;
		break;
	}
}

/* A scalar for every layer, or a sequence of exactly `layers` scalars. */
static enum ax_status walk_per_layer(const struct walk *w,
				     const struct field *f,
				     const yaml_node_t *n, const char *path)
{
	struct ax_stack_config *s = w->stack;
	int64_t v = 0;
	enum ax_status st;

	assert(s && s->layers >= 1 && s->layers <= AX_MAX_LAYERS);
	if (n->type == YAML_SEQUENCE_NODE) {
		const yaml_node_item_t *it = n->data.sequence.items.start;
		ptrdiff_t count = n->data.sequence.items.top - it;
		if (count != s->layers)
			return node_error(w, n, AX_ERR_INPUT,
					  "%s has %td %s, but %s.layers is %" PRId64
					  " (give one per layer, or one scalar for all)",
					  path, count, count == 1 ? "entry" : "entries",
					  ax_side_names[w->side],
					  s->layers);
		for (int64_t i = 0; i < s->layers; i++) {
			char elem[PATH_LEN + 32];
			const yaml_node_t *e = yaml_document_get_node(w->doc, it[i]);
			snprintf(elem, sizeof elem, "%s[%" PRId64 "]", path, i);
			if ((st = parse_scalar(w, f, e, elem, &v)) != AX_OK)
				return st;
			void *dst = (char *)&s->layer[i] + f->offset;
			store(f, dst, v);
			record(w, dst, e);
		}
		return AX_OK;
	}
	if (n->type != YAML_SCALAR_NODE) {
		char expected[64];
		snprintf(expected, sizeof expected, "%s or a sequence of them",
			 type_name(f->type));
		return type_error(w, n, path, expected);
	}
	if ((st = parse_scalar(w, f, n, path, &v)) != AX_OK)
		return st;
	for (int64_t i = 0; i < s->layers; i++) {
		void *dst = (char *)&s->layer[i] + f->offset;
		store(f, dst, v);
		record(w, dst, n);
	}
	return AX_OK;
}

static enum ax_status walk_int_list(const struct walk *w,
				    const struct field *f, const yaml_node_t *n,
				    const char *path, char *base)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return type_error(w, n, path, type_name(f->type));
	const yaml_node_item_t *it = n->data.sequence.items.start;
	ptrdiff_t count = n->data.sequence.items.top - it;
	if (count == 0)
		return node_error(w, n, AX_ERR_INPUT, "%s must not be empty", path);
	if (count > f->max_count)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s has %td entries, at most %d are allowed",
				  path, count, f->max_count);
	int64_t *dst = (int64_t *)(base + f->offset);
	int *n_dst = (int *)(base + f->count_offset);
	for (ptrdiff_t i = 0; i < count; i++) {
		char elem[PATH_LEN + 32];
		const yaml_node_t *e = yaml_document_get_node(w->doc, it[i]);
		snprintf(elem, sizeof elem, "%s[%td]", path, i);
		if (e->type != YAML_SCALAR_NODE)
			return type_error(w, e, elem, "an integer");
		enum ax_status st = parse_int(w, f, e, elem, &dst[i]);
		if (st != AX_OK)
			return st;
		record(w, &dst[i], e);
	}
	*n_dst = (int)count;
	record(w, n_dst, n);
	return AX_OK;
}

static enum ax_status walk_string(const struct walk *w, const struct field *f,
				  const yaml_node_t *n, const char *path,
				  char *base)
{
	char *dst = base + f->offset;
	size_t cap = sizeof w->cfg->name;

	if (n->type != YAML_SCALAR_NODE)
		return type_error(w, n, path, "a string");
	size_t len = n->data.scalar.length;
	if (len == 0)
		return node_error(w, n, AX_ERR_INPUT, "%s must not be empty", path);
	if (strlen((const char *)n->data.scalar.value) != len)
		return node_error(w, n, AX_ERR_INPUT,
				  "%s contains a NUL character", path);
	if (len >= cap)
		return node_error(w, n, AX_ERR_LIMIT,
				  "%s is %zu bytes long, at most %zu are allowed",
				  path, len, cap - 1);
	memcpy(dst, n->data.scalar.value, len);
	dst[len] = '\0';
	record(w, dst, n);
	return AX_OK;
}

static enum ax_status walk_map(struct walk *w, const yaml_node_t *map,
			       const struct field *tab, size_t n_tab,
			       char *base);

static enum ax_status walk_nested(struct walk *w, const struct field *f,
				  const yaml_node_t *n, const char *path,
				  char *base)
{
	char saved_path[sizeof w->path];
	struct ax_stack_config *saved_stack = w->stack;
	enum ax_side saved_side = w->side;
	char *sub_base = base + f->offset;

	if (n->type != YAML_MAPPING_NODE)
		return type_error(w, n, path, "a mapping");
	if (f->type == FT_STACK) {
		w->stack = (struct ax_stack_config *)sub_base;
		w->side = f->side;
	}
	if (f->has_flag)
		*(bool *)(sub_base + f->flag_offset) = true;
	memcpy(saved_path, w->path, sizeof saved_path);
	mark_cut(w->path, sizeof w->path,
		 snprintf(w->path, sizeof w->path, "%s", path));
	enum ax_status st = walk_map(w, n, f->sub, f->n_sub, sub_base);
	memcpy(w->path, saved_path, sizeof saved_path);
	w->stack = saved_stack;
	w->side = saved_side;
	return st;
}

static enum ax_status walk_field(struct walk *w, const struct field *f,
				 const yaml_node_t *n, char *base)
{
	char path[PATH_LEN];
	int64_t v = 0;
	enum ax_status st;

	key_path(w, f->key, path, sizeof path);
	switch (f->type) {
	case FT_STRING:
		return walk_string(w, f, n, path, base);
	case FT_INT_LIST:
		return walk_int_list(w, f, n, path, base);
	case FT_MAP:
	case FT_STACK:
		return walk_nested(w, f, n, path, base);
	default:
		break;
	}
	if (f->per_layer)
		return walk_per_layer(w, f, n, path);
	if ((st = parse_scalar(w, f, n, path, &v)) != AX_OK)
		return st;
	store(f, base + f->offset, v);
	record(w, base + f->offset, n);
	return AX_OK;
}

/* Levenshtein distance; b is a table key (short). */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), row[33];

	assert(lb < ARRAY_LEN(row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static enum ax_status unknown_key(const struct walk *w, const yaml_node_t *k,
				  const struct field *tab, size_t n_tab)
{
	const char *key = (const char *)k->data.scalar.value;
	size_t len = k->data.scalar.length;
	char path[PATH_LEN + 80];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	if (w->path[0])
		snprintf(path, sizeof path, "%s.%.64s", w->path, key);
	else
		snprintf(path, sizeof path, "%.64s", key);
	for (size_t i = 0; i < n_tab && len <= 64; i++) {
		size_t dist = edit_distance(key, len, tab[i].key);
		size_t lb = strlen(tab[i].key);
		size_t limit = lb / 3 > 2 ? lb / 3 : 2;
		bool prefix = len >= 3 && (strncmp(key, tab[i].key, len) == 0 ||
					  (len > lb && strncmp(key, tab[i].key, lb) == 0));
		if ((dist <= limit && dist < lb) || prefix) {
			if (dist < best_d) {
				best_d = dist;
				best = tab[i].key;
			}
		}
	}
	if (best)
		return node_error(w, k, AX_ERR_INPUT,
				  "unknown key '%s'; did you mean '%s'?", path, best);

	char allowed[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < n_tab; i++) {
		int r = snprintf(allowed + used, sizeof allowed - used, "%s%s",
				 i ? ", " : "", tab[i].key);
		if (r > 0 && (size_t)r < sizeof allowed - used)
			used += (size_t)r;
	}
	return node_error(w, k, AX_ERR_INPUT,
			  "unknown key '%s' (allowed here: %s)", path, allowed);
}

static enum presence presence_of(const struct walk *w, const struct field *f,
				 const char **why)
{
	*why = NULL;
	if (f->rule)
		return f->rule(w, why);
	return f->required ? PRESENCE_REQUIRED : PRESENCE_OPTIONAL;
}

/* Parses one present key after refusing it if the family/task forbids it. */
static enum ax_status walk_present(struct walk *w, const struct field *f,
				   const yaml_node_pair_t *pair, char *base)
{
	const yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	const yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
	const char *why;

	if (presence_of(w, f, &why) == PRESENCE_FORBIDDEN) {
		char path[PATH_LEN];
		key_path(w, f->key, path, sizeof path);
		return node_error(w, k, AX_ERR_INPUT,
				  "'%s' is not allowed for family %s, task %s: %s",
				  path, ax_family_names[w->cfg->family],
				  ax_task_names[w->cfg->task], why);
	}
	/* libyaml marks an empty value at the next token, often the next
	 * line, so point at the key instead. */
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
	    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		char path[PATH_LEN];
		key_path(w, f->key, path, sizeof path);
		return node_error(w, k, AX_ERR_INPUT, "%s has no value; expected %s",
				  path, type_name(f->type));
	}
	return walk_field(w, f, v, base);
}

static enum ax_status check_missing(const struct walk *w,
				    const yaml_node_t *map,
				    const struct field *tab, size_t n_tab,
				    const yaml_node_pair_t *const *seen,
				    bool early)
{
	for (size_t i = 0; i < n_tab; i++) {
		const char *why;
		char path[PATH_LEN];
		if (tab[i].early != early || seen[i] ||
		    presence_of(w, &tab[i], &why) != PRESENCE_REQUIRED)
			continue;
		key_path(w, tab[i].key, path, sizeof path);
		if (why)
			return node_error(w, map, AX_ERR_INPUT,
					  "missing required key '%s' (%s)", path, why);
		return node_error(w, map, AX_ERR_INPUT,
				  "missing required key '%s'", path);
	}
	return AX_OK;
}

/*
 * Walks one mapping against its table: (1) every key known and unique,
 * (2) the early keys, which later rules read, (3) the rest in document
 * order, (4) the required keys that are missing.
 */
static enum ax_status walk_map(struct walk *w, const yaml_node_t *map,
			       const struct field *tab, size_t n_tab,
			       char *base)
{
	const yaml_node_pair_t *seen[MAX_FIELDS] = { 0 };
	const yaml_node_pair_t *p0 = map->data.mapping.pairs.start;
	const yaml_node_pair_t *p1 = map->data.mapping.pairs.top;
	enum ax_status st;

	assert(n_tab <= MAX_FIELDS);
	for (const yaml_node_pair_t *p = p0; p < p1; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return node_error(w, k, AX_ERR_INPUT,
					  "%s%skeys must be plain strings, got %s",
					  w->path, w->path[0] ? ": " : "",
					  kind_name(k));
		size_t i = 0;
		while (i < n_tab && !scalar_is(k, tab[i].key))
			i++;
		if (i == n_tab)
			return unknown_key(w, k, tab, n_tab);
		if (seen[i]) {
			char path[PATH_LEN];
			const yaml_node_t *first =
				yaml_document_get_node(w->doc, seen[i]->key);
			key_path(w, tab[i].key, path, sizeof path);
			return node_error(w, k, AX_ERR_INPUT,
					  "duplicate key '%s' (first given at line %d)",
					  path, node_pos(first).line);
		}
		seen[i] = p;
	}
	for (size_t i = 0; i < n_tab; i++)
		if (tab[i].early && seen[i] &&
		    (st = walk_present(w, &tab[i], seen[i], base)) != AX_OK)
			return st;
	if ((st = check_missing(w, map, tab, n_tab, seen, true)) != AX_OK)
		return st;
	for (const yaml_node_pair_t *p = p0; p < p1; p++) {
		size_t i = 0;
		while (seen[i] != p)
			i++;
		if (!tab[i].early && (st = walk_present(w, &tab[i], p, base)) != AX_OK)
			return st;
	}
	return check_missing(w, map, tab, n_tab, seen, false);
}

/* ---- stage 4: cross-field checks (shared with ax_config_validate) ----- */

struct check {
	const struct ax_config *cfg;
	const struct pos *pos;   /* per byte offset in *cfg, or NULL */
	const char *file;
	struct ax_diag *d;
};

static enum ax_status check_fail(const struct check *c, const void *field,
				 enum ax_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fails at the position recorded for *field (none for validate). */
static enum ax_status check_fail(const struct check *c, const void *field,
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
	return pos_error(c->d, st, c->file, p, "%s", msg);
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
static void layer_path(char *buf, size_t size, enum ax_side side,
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
		layer_path(buf, size, k->side, k->group, k->name, k->i);
}

static enum ax_status check_range(const struct check *c, const int64_t *v,
				  int64_t lo, int64_t hi, const struct key *k)
{
	if (*v >= lo && *v <= hi)
		return AX_OK;
	char path[PATH_LEN];
	key_format(k, path, sizeof path);
	return check_fail(c, v, *v < lo ? AX_ERR_INPUT : AX_ERR_LIMIT,
			  "%s is %" PRId64 ", must be in %" PRId64 "..%" PRId64,
			  path, *v, lo, hi);
}

static enum ax_status check_enum(const struct check *c, const void *v,
				 int value, int count, const struct key *k)
{
	if (value >= 0 && value < count)
		return AX_OK;
	char path[PATH_LEN];
	key_format(k, path, sizeof path);
	return check_fail(c, v, AX_ERR_INPUT, "%s is %d, not a known value",
			  path, value);
}

/* Fields a stack does not read must stay zero in code-built configs. */
static enum ax_status check_unused(const struct check *c,
				   const struct ax_layer_config *l,
				   enum ax_side side, int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const char *fam = ax_family_names[g->family];
	char path[PATH_LEN];

	if (!(use & USE_FFN) && l->ffn_dim != 0) {
		layer_path(path, sizeof path, side, NULL, "ffn_dim", i);
		return check_fail(c, &l->ffn_dim, AX_ERR_INPUT,
				  "%s is set, but family %s does not read it: %s",
				  path, fam, why_unused(g->family, g->task, side, USE_FFN));
	}
	if (!(use & USE_HEADS) && l->attention_heads != 0) {
		layer_path(path, sizeof path, side, NULL, "attention_heads", i);
		return check_fail(c, &l->attention_heads, AX_ERR_INPUT,
				  "%s is set, but family %s does not read it: %s",
				  path, fam, why_unused(g->family, g->task, side, USE_HEADS));
	}
	if (!(use & USE_ATT_BRANCH) &&
	    (l->attention_dim != 0 || l->attention_branch_heads != 0)) {
		layer_path(path, sizeof path, side, "attention_branch", "dim", i);
		return check_fail(c, &l->attention_dim, AX_ERR_INPUT,
				  "%s or .heads is set, but family %s does not read it: %s",
				  path, fam,
				  why_unused(g->family, g->task, side, USE_ATT_BRANCH));
	}
	if (!(use & USE_CONV) &&
	    (l->conv_type != 0 || l->conv_dim != 0 || l->conv_heads != 0 ||
	     l->glu || l->kernel_size != 0)) {
		layer_path(path, sizeof path, side, "conv", "dim", i);
		return check_fail(c, &l->conv_dim, AX_ERR_INPUT,
				  "%s (or another conv field) is set, but family %s "
				  "does not read it: %s", path, fam,
				  why_unused(g->family, g->task, side, USE_CONV));
	}
	return AX_OK;
}

/* heads > 0 must divide width. */
static enum ax_status check_heads(const struct check *c, const int64_t *heads,
				  int64_t width, const struct key *k,
				  const struct key *width_key)
{
	enum ax_status st = check_range(c, heads, 1, AX_MAX_DIM, k);

	if (st != AX_OK)
		return st;
	if (width % *heads != 0) {
		char path[PATH_LEN], width_name[PATH_LEN];
		key_format(k, path, sizeof path);
		key_format(width_key, width_name, sizeof width_name);
		return check_fail(c, heads, AX_ERR_INPUT,
				  "%s = %" PRId64 " does not divide %s = %" PRId64
				  " (heads are equal channel blocks)",
				  path, *heads, width_name, width);
	}
	return AX_OK;
}

static enum ax_status check_attention(const struct check *c,
				      const struct ax_layer_config *l,
				      enum ax_side side, int64_t i)
{
	const struct ax_config *g = c->cfg;
	const struct key *k = LAYER_KEY(side, NULL, "attention_heads", i);
	enum ax_status st;

	if ((st = check_heads(c, &l->attention_heads, g->embed_dim, k,
			      WHOLE_KEY("embed_dim"))) != AX_OK)
		return st;
	if (g->family == AX_FAMILY_EVOLVED) {
		/* MODELS §6.3: the decoder's wide self-attention has H2 heads. */
		int64_t h = l->attention_heads;
		int64_t h2 = 2 * h < 16 ? 2 * h : 16;
		if (h2 < h)
			h2 = h;
		if (g->embed_dim % h2 != 0) {
			char path[PATH_LEN];
			key_format(k, path, sizeof path);
			return check_fail(c, &l->attention_heads, AX_ERR_INPUT,
					  "%s = %" PRId64 " gives H2 = max(min(2H, 16), H) = %"
					  PRId64 ", which does not divide embed_dim = %" PRId64,
					  path, h, h2, g->embed_dim);
		}
	}
	return AX_OK;
}

static enum ax_status check_conv(const struct check *c,
				 const struct ax_layer_config *l,
				 enum ax_side side, int64_t i)
{
	const struct ax_config *g = c->cfg;
	bool lite = g->family == AX_FAMILY_LITE;
	const char *group = lite ? "conv_branch" : "conv";
	const struct key *dim_key = LAYER_KEY(side, group, "dim", i);
	char path[PATH_LEN];
	enum ax_status st;

	if ((st = check_enum(c, &l->conv_type, (int)l->conv_type,
			     AX_CONV_TYPE_COUNT,
			     LAYER_KEY(side, group, "type", i))) != AX_OK)
		return st;
	if ((st = check_range(c, &l->conv_dim, 1, AX_MAX_DIM, dim_key)) != AX_OK)
		return st;
	if ((st = check_heads(c, &l->conv_heads, l->conv_dim,
			      LAYER_KEY(side, group, "heads", i), dim_key)) != AX_OK)
		return st;
	if ((st = check_range(c, &l->kernel_size, 1, AX_MAX_KERNEL,
			      LAYER_KEY(side, group, "kernel_size", i))) != AX_OK)
		return st;
	if (lite && l->glu && l->conv_type == AX_CONV_LIGHTWEIGHT) {
		layer_path(path, sizeof path, side, group, "glu", i);
		return check_fail(c, &l->glu, AX_ERR_INPUT,
				  "%s: glu: true with type: lightweight; upstream Lite "
				  "ignores GLU for lightweight convs, set glu: false",
				  path);
	}
	return AX_OK;
}

static enum ax_status check_branches(const struct check *c,
				     const struct ax_layer_config *l,
				     enum ax_side side, int64_t i)
{
	const struct ax_config *g = c->cfg;
	const struct key *dim_key = LAYER_KEY(side, "attention_branch", "dim", i);
	char path[PATH_LEN];
	enum ax_status st;

	if ((st = check_range(c, &l->attention_dim, 1, AX_MAX_DIM,
			      dim_key)) != AX_OK)
		return st;
	if ((st = check_heads(c, &l->attention_branch_heads, l->attention_dim,
			      LAYER_KEY(side, "attention_branch", "heads", i),
			      dim_key)) != AX_OK)
		return st;
	if ((st = check_conv(c, l, side, i)) != AX_OK)
		return st;
	if (l->attention_dim + l->conv_dim != g->embed_dim) {
		layer_path(path, sizeof path, side, "conv_branch", "dim", i);
		return check_fail(c, &l->conv_dim, AX_ERR_INPUT,
				  "%s: the branch widths attention_branch.dim + "
				  "conv_branch.dim = %" PRId64 " + %" PRId64
				  " must sum to embed_dim = %" PRId64,
				  path, l->attention_dim, l->conv_dim, g->embed_dim);
	}
	return AX_OK;
}

static enum ax_status check_layer(const struct check *c, enum ax_side side,
				  int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	enum ax_status st = AX_OK;

	if ((use & USE_FFN) &&
	    (st = check_range(c, &l->ffn_dim, 1, AX_MAX_DIM,
			      LAYER_KEY(side, NULL, "ffn_dim", i))) != AX_OK)
		return st;
	if ((use & USE_HEADS) && (st = check_attention(c, l, side, i)) != AX_OK)
		return st;
	if (use & USE_ATT_BRANCH)
		st = check_branches(c, l, side, i);
	else if (use & USE_CONV)
		st = check_conv(c, l, side, i);
	if (st != AX_OK)
		return st;
	return check_unused(c, l, side, i, use);
}

static enum ax_status check_stack(const struct check *c, enum ax_side side)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const char *path = side == AX_SIDE_ENCODER ? "encoder.layers" :
			   "decoder.layers";
	enum ax_status st;

	if (side == AX_SIDE_ENCODER && g->task == AX_TASK_LANGUAGE_MODEL) {
		if (s->layers != 0)
			return check_fail(c, &s->layers, AX_ERR_INPUT,
					  "%s must be 0: a language_model has no encoder",
					  path);
		return AX_OK;
	}
	if ((st = check_range(c, &s->layers, 1, AX_MAX_LAYERS,
			      WHOLE_KEY(path))) != AX_OK)
		return st;
	unsigned use = layer_uses(g->family, g->task, side);
	for (int64_t i = 0; i < s->layers; i++)
		if ((st = check_layer(c, side, i, use)) != AX_OK)
			return st;
	return AX_OK;
}

static enum ax_status check_vocab(const struct check *c)
{
	const struct ax_config *g = c->cfg;
	enum ax_status st;

	if (g->task == AX_TASK_TRANSLATION) {
		st = check_range(c, &g->vocab_source, 1, AX_MAX_VOCAB,
				 WHOLE_KEY("vocab.source"));
		if (st != AX_OK)
			return st;
	} else if (g->vocab_source != 0) {
		return check_fail(c, &g->vocab_source, AX_ERR_INPUT,
				  "vocab.source must be 0: a language_model has one "
				  "vocabulary (vocab.target)");
	}
	st = check_range(c, &g->vocab_target, 1, AX_MAX_VOCAB,
			 WHOLE_KEY("vocab.target"));
	if (st != AX_OK)
		return st;
	if (g->share != AX_SHARE_ALL)
		return AX_OK;
	if (g->task != AX_TASK_TRANSLATION)
		return check_fail(c, &g->share, AX_ERR_INPUT,
				  "vocab.share: all needs task translation; a "
				  "language_model has one vocabulary (use decoder)");
	if (g->vocab_source != g->vocab_target)
		return check_fail(c, &g->share, AX_ERR_INPUT,
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

static enum ax_status check_adaptive(const struct check *c)
{
	const struct ax_config *g = c->cfg;
	const struct ax_adaptive_config *a = &g->adaptive;
	enum ax_status st;

	if (!a->enabled) {
		if (!adaptive_is_zero(a))
			return check_fail(c, NULL, AX_ERR_INPUT,
					  "adaptive fields are set but adaptive.enabled "
					  "is false");
		return AX_OK;
	}
	if (g->task != AX_TASK_LANGUAGE_MODEL)
		return check_fail(c, &a->enabled, AX_ERR_INPUT,
				  "adaptive input and softmax are for task "
				  "language_model only");
	if (a->n_cutoffs < 1 || a->n_cutoffs > AX_MAX_CUTOFFS)
		return check_fail(c, &a->n_cutoffs, AX_ERR_INPUT,
				  "adaptive.cutoffs has %d entries, must have 1..%d",
				  a->n_cutoffs, AX_MAX_CUTOFFS);
	for (int i = 0; i < a->n_cutoffs; i++) {
		const int64_t *v = &a->cutoff[i];
		if (*v < 1 || *v >= g->vocab_target)
			return check_fail(c, v, AX_ERR_INPUT,
					  "adaptive.cutoffs[%d] is %" PRId64 ", must be in "
					  "1..%" PRId64 " (below vocab.target)",
					  i, *v, g->vocab_target - 1);
		if (i > 0 && *v <= v[-1])
			return check_fail(c, v, AX_ERR_INPUT,
					  "adaptive.cutoffs must ascend: [%d] = %" PRId64
					  " follows %" PRId64, i, *v, v[-1]);
	}
	st = check_range(c, &a->factor, 1, AX_MAX_DIM,
			 WHOLE_KEY("adaptive.factor"));
	if (st != AX_OK)
		return st;
	int64_t width = g->embed_dim;
	for (int b = 1; b <= a->n_cutoffs; b++) {
		width /= a->factor;
		if (width < 1)
			return check_fail(c, &a->factor, AX_ERR_INPUT,
					  "adaptive.factor = %" PRId64 " leaves band %d "
					  "with width embed_dim / factor^%d = 0",
					  a->factor, b, b);
	}
	if (a->tie_proj && !a->tie_weights)
		return check_fail(c, &a->tie_proj, AX_ERR_INPUT,
				  "adaptive.tie_proj needs adaptive.tie_weights: true "
				  "(fairseq ties projections only with tied weights)");
	if (g->share != AX_SHARE_NONE)
		return check_fail(c, &g->share, AX_ERR_INPUT,
				  "vocab.share must be none with adaptive; "
				  "adaptive.tie_weights sets the tying");
	return AX_OK;
}

/* Family-wide rules that upstream hard-codes. */
static enum ax_status check_family(const struct check *c)
{
	const struct ax_config *g = c->cfg;

	if (g->norm == AX_NORM_POST && g->final_norm)
		return check_fail(c, &g->final_norm, AX_ERR_INPUT,
				  "final_norm: true needs norm: pre; post-norm "
				  "stacks have no final LayerNorm");
	if (g->family == AX_FAMILY_EVOLVED) {
		if (g->task != AX_TASK_TRANSLATION)
			return check_fail(c, &g->task, AX_ERR_INPUT,
					  "family evolved is encoder-decoder only "
					  "(MODELS.md §6): task must be translation");
		if (g->norm != AX_NORM_PRE)
			return check_fail(c, &g->norm, AX_ERR_INPUT,
					  "family evolved is pre-norm (tensor2tensor): "
					  "norm must be pre");
		if (!g->final_norm)
			return check_fail(c, &g->final_norm, AX_ERR_INPUT,
					  "family evolved ends each stack in a LayerNorm "
					  "(tensor2tensor): final_norm must be true");
		if (g->share != AX_SHARE_ALL)
			return check_fail(c, &g->share, AX_ERR_INPUT,
					  "family evolved shares one embedding matrix "
					  "(tensor2tensor): vocab.share must be all");
	}
	if (g->family == AX_FAMILY_LITE && g->task == AX_TASK_LANGUAGE_MODEL) {
		if (g->norm != AX_NORM_PRE)
			return check_fail(c, &g->norm, AX_ERR_INPUT,
					  "a lite language_model is pre-norm upstream "
					  "(forced): norm must be pre");
		if (g->final_norm)
			return check_fail(c, &g->final_norm, AX_ERR_INPUT,
					  "a lite language_model has no final LayerNorm "
					  "upstream: final_norm must be false");
	}
	return AX_OK;
}

/* ---- size limit: every count must fit in 64 bits --------------------- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t sat_mul3(int64_t a, int64_t b, int64_t c)
{
	return sat_mul(sat_mul(a, b), c);
}

/* The largest term of the bound, for the message and the position. */
struct size_bound {
	int64_t total;
	int64_t worst;
	const void *worst_field;
	char worst_what[PATH_LEN + 32];
};

static void bound_add(struct size_bound *b, int64_t v, const void *field,
		      const char *what)
{
	b->total = sat_add(b->total, v);
	if (v > b->worst) {
		b->worst = v;
		b->worst_field = field;
		snprintf(b->worst_what, sizeof b->worst_what, "%s", what);
	}
}

/*
 * An upper bound of one layer's parameters from its widths, generous
 * rather than exact (the builders are the exact count): every linear is
 * (in+1) x out with in, out among d, f, the branch widths and H*K, and a
 * layer has at most the linears counted here (MODELS.md §5, §6):
 *   ffn             2 (d+1)(f+1)
 *   full attention  8 (d+1)^2       self + cross, 4 projections each
 *   evolved cell    64 (d+1)^2      all its widths are <= 4d
 *   LSRA attention  4 (a+1)^2
 *   conv block      4 (d+1)(c+1) + 2 (c+1) H K    linear1 (GLU), linear2,
 *                                                 kernel generation
 *   norms           16 (d+1)
 */
static void bound_layer(const struct check *c, struct size_bound *b,
			enum ax_side side, int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	int64_t d1 = g->embed_dim + 1;
	char what[PATH_LEN + 32];

	bound_add(b, sat_mul(16, d1), &g->embed_dim, "embed_dim");
	if (use & USE_FFN) {
		layer_path(what, sizeof what, side, NULL, "ffn_dim", i);
		bound_add(b, sat_mul3(2, d1, l->ffn_dim + 1), &l->ffn_dim, what);
	}
	if (use & USE_HEADS)
		bound_add(b, sat_mul3(g->family == AX_FAMILY_EVOLVED ? 64 : 8,
				      d1, d1), &g->embed_dim, "embed_dim");
	if (use & USE_ATT_BRANCH) {
		layer_path(what, sizeof what, side, "attention_branch", "dim", i);
		bound_add(b, sat_mul3(4, l->attention_dim + 1,
				      l->attention_dim + 1), &l->attention_dim,
			  what);
	}
	if (use & USE_CONV) {
		const char *group =
			g->family == AX_FAMILY_LITE ? "conv_branch" : "conv";
		int64_t c1 = l->conv_dim + 1;
		layer_path(what, sizeof what, side, group, "dim", i);
		bound_add(b, sat_mul3(4, d1, c1), &l->conv_dim, what);
		layer_path(what, sizeof what, side, group, "heads", i);
		bound_add(b, sat_mul(sat_mul3(2, c1, l->conv_heads),
				     l->kernel_size), &l->conv_heads, what);
	}
}

/*
 * Refuses models whose parameter bound exceeds AX_MAX_PARAMS (runs after
 * the range and cross-field checks, so every width is in range). Below
 * it, every cost coefficient fits in 64 bits with room to spare (MACs
 * per token and bytes are small multiples of params), so only the
 * evaluation at very long lengths can overflow, and ax_cost_check()
 * catches that.
 */
static enum ax_status check_size(const struct check *c)
{
	const struct ax_config *g = c->cfg;
	struct size_bound b = { 0 };
	int64_t d1 = g->embed_dim + 1;

	/* tables: source, target, output (+ position rows, adaptive tails) */
	bound_add(&b, sat_mul(g->vocab_source, d1), &g->vocab_source,
		  "vocab.source x embed_dim");
	bound_add(&b, sat_mul3(2, g->vocab_target, d1), &g->vocab_target,
		  "vocab.target x embed_dim");
	bound_add(&b, sat_mul(4096, d1), &g->embed_dim, "embed_dim");
	if (g->adaptive.enabled)
		bound_add(&b, sat_mul3(32, d1, d1), &g->embed_dim, "embed_dim");
	for (int side = 0; side < AX_SIDE_COUNT; side++) {
		const struct ax_stack_config *s =
			side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
		unsigned use = layer_uses(g->family, g->task, (enum ax_side)side);
		for (int64_t i = 0; i < s->layers && i < AX_MAX_LAYERS; i++)
			bound_layer(c, &b, (enum ax_side)side, i, use);
	}
	if (b.total <= AX_MAX_PARAMS)
		return AX_OK;
	return check_fail(c, b.worst_field, AX_ERR_LIMIT,
			  "the model is too large: its parameters may reach %.3g "
			  "(the largest term, %s, gives %.3g), and archex accepts "
			  "at most 2^40 = %.3g so that every count fits in 64 bits",
			  (double)b.total, b.worst_what, (double)b.worst,
			  (double)AX_MAX_PARAMS);
}

static enum ax_status check_config(const struct check *c)
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
	if ((st = check_range(c, &g->embed_dim, 1, AX_MAX_DIM,
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
	return check_size(c);
}

enum ax_status ax_config_validate(const struct ax_config *cfg,
				  struct ax_diag *d)
{
	struct check c = { .cfg = cfg, .pos = NULL, .file = NULL, .d = d };

	if (memchr(cfg->name, '\0', sizeof cfg->name) == NULL)
		return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0,
				   "name is not NUL-terminated");
	return check_config(&c);
}

/* ---- loading ---------------------------------------------------------- */

/* "dir/wmt-lite-200.yaml" -> "wmt-lite-200" (truncated to fit). */
static void default_name(char *dst, size_t size, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	size_t len;

	base = base ? base + 1 : (path ? path : "config");
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	if (len >= size)
		len = size - 1;
	memcpy(dst, base, len);
	dst[len] = '\0';
}

static enum ax_status check_root(const yaml_document_t *doc,
				 const yaml_node_t *root, const char *file,
				 struct ax_diag *d)
{
	if (!root)
		return pos_error(d, AX_ERR_INPUT, file, (struct pos){ 1, 1 },
				 "the config is empty; expected a mapping of keys "
				 "(family, task, embed_dim, ...)");
	if (root->type == YAML_MAPPING_NODE)
		return AX_OK;
	/* An empty document's null scalar is marked past its end: point at
	 * the document instead. */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		return pos_error(d, AX_ERR_INPUT, file, mark_pos(doc->start_mark),
				 "the YAML document is empty; expected a mapping of keys");
	return pos_error(d, AX_ERR_INPUT, file, node_pos(root),
			 "the top level must be a mapping of keys, got %s",
			 kind_name(root));
}

/* Stages 3 and 4 on text that passed stages 1 and 2. */
static enum ax_status load_document(const char *text, size_t len,
				    const char *file, struct ax_config *cfg,
				    struct ax_diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	enum ax_status st;

	if (!yaml_parser_initialize(&parser))
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				   "out of memory starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		/* yaml_parser_load frees the document on failure. */
		st = parser_error(&parser, text, len, file, d);
		goto delete_parser;
	}
	struct pos *pos = calloc(sizeof *cfg, sizeof *pos);
	if (!pos) {
		st = ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				 "out of memory loading the config");
		goto delete_doc;
	}
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if ((st = check_root(&doc, root, file, d)) != AX_OK)
		goto free_pos;
	struct walk w = { .file = file, .doc = &doc, .cfg = cfg, .pos = pos,
			  .d = d };
	if ((st = walk_map(&w, root, root_fields, ARRAY_LEN(root_fields),
			   (char *)cfg)) != AX_OK)
		goto free_pos;
	struct check c = { .cfg = cfg, .pos = pos, .file = file, .d = d };
	st = check_config(&c);
free_pos:
	free(pos);
delete_doc:
	yaml_document_delete(&doc);
delete_parser:
	yaml_parser_delete(&parser);
	return st;
}

enum ax_status ax_yaml_precheck(const char *text, size_t len,
				const char *file, size_t max_bytes,
				struct ax_diag *d)
{
	enum ax_status st;

	if (len > max_bytes)
		return ax_diag_set(d, AX_ERR_LIMIT, file, 0, 0,
				   "the file is larger than %zu bytes", max_bytes);
	if ((st = refuse_tabs(text, len, file, d)) != AX_OK)
		return st;
	return scan_events(text, len, file, d);
}

static enum ax_status load_text(const char *text, size_t len,
				const char *file, const char *name_source,
				struct ax_config *cfg, struct ax_diag *d)
{
	enum ax_status st;

	memset(cfg, 0, sizeof *cfg);
	if (len > CONFIG_MAX_BYTES)
		st = ax_diag_set(d, AX_ERR_LIMIT, file, 0, 0,
				 "the config is larger than %zu bytes (1 MiB)",
				 CONFIG_MAX_BYTES);
	else if ((st = refuse_tabs(text, len, file, d)) == AX_OK &&
		 (st = scan_events(text, len, file, d)) == AX_OK) {
		default_name(cfg->name, sizeof cfg->name, name_source);
		st = load_document(text, len, file, cfg, d);
	}
	if (st != AX_OK)
		memset(cfg, 0, sizeof *cfg);
	return st;
}

enum ax_status ax_config_load(const char *path, struct ax_config *cfg,
			      struct ax_diag *d)
{
	char *text;
	size_t len;
	enum ax_status st;

	memset(cfg, 0, sizeof *cfg);
	if ((st = read_file(path, &text, &len, d)) != AX_OK)
		return st;
	st = load_text(text, len, path, path, cfg, d);
	free(text);
	return st;
}

enum ax_status ax_config_load_string(const char *text, size_t len,
				     const char *name, struct ax_config *cfg,
				     struct ax_diag *d)
{
	return load_text(text ? text : "", text ? len : 0, name, name, cfg, d);
}

/* ---- hash ------------------------------------------------------------- */

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* Eight bytes, little-endian whatever the host: stable across machines. */
static uint64_t fnv_i64(uint64_t h, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++) {
		h ^= (u >> (8 * i)) & 0xff;
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}

static int64_t clamp_layers(int64_t n)
{
	return n < 0 ? 0 : n > AX_MAX_LAYERS ? AX_MAX_LAYERS : n;
}

static uint64_t hash_stack(uint64_t h, const struct ax_stack_config *s)
{
	int64_t n = clamp_layers(s->layers);

	h = fnv_i64(h, s->layers);
	for (int64_t i = 0; i < n; i++) {
		const struct ax_layer_config *l = &s->layer[i];
		h = fnv_i64(h, l->ffn_dim);
		h = fnv_i64(h, l->attention_heads);
		h = fnv_i64(h, l->attention_dim);
		h = fnv_i64(h, l->attention_branch_heads);
		h = fnv_i64(h, l->conv_type);
		h = fnv_i64(h, l->conv_dim);
		h = fnv_i64(h, l->conv_heads);
		h = fnv_i64(h, l->glu);
		h = fnv_i64(h, l->kernel_size);
	}
	return h;
}

/* Field by field, never the raw struct, so padding cannot leak in; the
 * version tag changes whenever the hashed field list does. */
uint64_t ax_config_hash(const struct ax_config *cfg)
{
	const struct ax_adaptive_config *a = &cfg->adaptive;
	uint64_t h = fnv_str(FNV_OFFSET, "archex-config-v1");

	h = fnv_i64(h, cfg->family);
	h = fnv_i64(h, cfg->task);
	h = fnv_i64(h, cfg->embed_dim);
	h = fnv_i64(h, cfg->norm);
	h = fnv_i64(h, cfg->final_norm);
	h = fnv_i64(h, cfg->vocab_source);
	h = fnv_i64(h, cfg->vocab_target);
	h = fnv_i64(h, cfg->share);
	h = fnv_i64(h, a->enabled);
	if (a->enabled) {
		int n = a->n_cutoffs < 0 ? 0
			: a->n_cutoffs > AX_MAX_CUTOFFS ? AX_MAX_CUTOFFS
			: a->n_cutoffs;
		h = fnv_i64(h, a->n_cutoffs);
		for (int i = 0; i < n; i++)
			h = fnv_i64(h, a->cutoff[i]);
		h = fnv_i64(h, a->factor);
		h = fnv_i64(h, a->tie_weights);
		h = fnv_i64(h, a->tie_proj);
	}
	h = hash_stack(h, &cfg->encoder);
	return hash_stack(h, &cfg->decoder);
}

/* ---- JSON ------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

enum json_kind { JSON_INT, JSON_BOOL, JSON_CONV_TYPE };

/* "key":[v0,v1,...] over the layers of a stack; offset into ax_layer_config. */
static void json_layers(FILE *f, const char *key,
			const struct ax_stack_config *s, size_t offset,
			enum json_kind kind)
{
	int64_t n = clamp_layers(s->layers);

	fprintf(f, "\"%s\":[", key);
	for (int64_t i = 0; i < n; i++) {
		const char *p = (const char *)&s->layer[i] + offset;
		if (i)
			fputc(',', f);
		if (kind == JSON_INT)
			fprintf(f, "%" PRId64, *(const int64_t *)p);
		else if (kind == JSON_BOOL)
			fputs(*(const bool *)p ? "true" : "false", f);
		else
			fprintf(f, "\"%s\"", enum_name(ax_conv_type_names,
						       AX_CONV_TYPE_COUNT,
						       *(const int *)p));
	}
	fputc(']', f);
}

static void json_stack(FILE *f, const struct ax_config *cfg, enum ax_side side)
{
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &cfg->encoder : &cfg->decoder;
	unsigned use = layer_uses(cfg->family, cfg->task, side);

	fprintf(f, ",\"%s\":{\"layers\":%" PRId64, ax_side_names[side], s->layers);
	if (use & USE_FFN) {
		fputc(',', f);
		json_layers(f, "ffn_dim", s, LAYER_OFF(ffn_dim), JSON_INT);
	}
	if (use & USE_HEADS) {
		fputc(',', f);
		json_layers(f, "attention_heads", s, LAYER_OFF(attention_heads),
			    JSON_INT);
	}
	if (use & USE_ATT_BRANCH) {
		fputs(",\"attention_branch\":{", f);
		json_layers(f, "dim", s, LAYER_OFF(attention_dim), JSON_INT);
		fputc(',', f);
		json_layers(f, "heads", s, LAYER_OFF(attention_branch_heads),
			    JSON_INT);
		fputc('}', f);
	}
	if (use & USE_CONV) {
		fprintf(f, ",\"%s\":{",
			cfg->family == AX_FAMILY_LITE ? "conv_branch" : "conv");
		json_layers(f, "type", s, LAYER_OFF(conv_type), JSON_CONV_TYPE);
		fputc(',', f);
		json_layers(f, "dim", s, LAYER_OFF(conv_dim), JSON_INT);
		fputc(',', f);
		json_layers(f, "heads", s, LAYER_OFF(conv_heads), JSON_INT);
		fputc(',', f);
		json_layers(f, "glu", s, LAYER_OFF(glu), JSON_BOOL);
		fputc(',', f);
		json_layers(f, "kernel_size", s, LAYER_OFF(kernel_size), JSON_INT);
		fputc('}', f);
	}
	fputc('}', f);
}

void ax_config_write_json(FILE *f, const struct ax_config *cfg)
{
	const struct ax_adaptive_config *a = &cfg->adaptive;
	bool translation = cfg->task == AX_TASK_TRANSLATION;
	char name[sizeof cfg->name];

	memcpy(name, cfg->name, sizeof name);
	name[sizeof name - 1] = '\0';
	fputs("{\"name\":", f);
	json_string(f, name);
	fprintf(f, ",\"family\":\"%s\",\"task\":\"%s\",\"embed_dim\":%" PRId64
		",\"norm\":\"%s\"",
		enum_name(ax_family_names, AX_FAMILY_COUNT, (int)cfg->family),
		enum_name(ax_task_names, AX_TASK_COUNT, (int)cfg->task),
		cfg->embed_dim,
		enum_name(ax_norm_names, AX_NORM_COUNT, (int)cfg->norm));
	if (cfg->norm == AX_NORM_PRE)
		fprintf(f, ",\"final_norm\":%s", cfg->final_norm ? "true" : "false");
	fputs(",\"vocab\":{", f);
	if (translation)
		fprintf(f, "\"source\":%" PRId64 ",", cfg->vocab_source);
	fprintf(f, "\"target\":%" PRId64 ",\"share\":\"%s\"}", cfg->vocab_target,
		enum_name(ax_share_names, AX_SHARE_COUNT, (int)cfg->share));
	if (a->enabled) {
		int n = a->n_cutoffs < 0 ? 0
			: a->n_cutoffs > AX_MAX_CUTOFFS ? AX_MAX_CUTOFFS
			: a->n_cutoffs;
		fputs(",\"adaptive\":{\"cutoffs\":[", f);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s%" PRId64, i ? "," : "", a->cutoff[i]);
		fprintf(f, "],\"factor\":%" PRId64 ",\"tie_weights\":%s,"
			"\"tie_proj\":%s}", a->factor,
			a->tie_weights ? "true" : "false",
			a->tie_proj ? "true" : "false");
	}
	if (translation)
		json_stack(f, cfg, AX_SIDE_ENCODER);
	json_stack(f, cfg, AX_SIDE_DECODER);
	fputc('}', f);
}
