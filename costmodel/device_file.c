/*
 * device_file.c - device files (devices/NAME.yaml): the libyaml document
 * API with one key list per mapping, checked into a struct ax_device, and
 * the writer `archex calibrate` uses (device.h, docs/latency.md).
 */
#include "device.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "util.h"
#include "yaml_map.h"

#define DEVICE_MAX_BYTES ((size_t)64 << 10)  /* 64 KiB; ours are < 4 KiB */

struct loader {
	yaml_document_t doc;
	struct ax_ymap y;   /* doc, file and diag for the shared helpers */
};

static enum ax_status err_at(struct loader *L, const yaml_node_t *n,
			     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum ax_status err_at(struct loader *L, const yaml_node_t *n,
			     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ax_status st = ax_ymap_verror(&L->y, n, 0, fmt, ap);
	va_end(ap);
	return st;
}

static yaml_node_t *node(struct loader *L, int id)
{
	return ax_ymap_node(&L->y, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return ax_ymap_scalar(n);
}

static enum ax_status want_map(struct loader *L, const yaml_node_t *n,
			       const char *what)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return AX_OK;
	return err_at(L, n, "%s must be a mapping", what);
}

/* Every key of mapping n is in keys[] (NULL-terminated) and appears once;
 * an unknown key gets the closest known one as a hint. */
static enum ax_status check_keys(struct loader *L, yaml_node_t *n,
				 const char *what, const char *const *keys)
{
	return ax_ymap_check_keys(&L->y, n, what, keys);
}

static yaml_node_t *lookup(struct loader *L, yaml_node_t *map, const char *key)
{
	return ax_ymap_lookup(&L->y, map, key);
}

/* Not ax_ymap_get_f64: a device file's non-scalar number has always read
 * "WHAT must be a number", which its tests and users see. */
static enum ax_status get_f64(struct loader *L, const yaml_node_t *n,
			      const char *what, double min, double max,
			      double *out)
{
	const char *s = scalar(n);
	if (!s)
		return err_at(L, n, "%s must be a number", what);
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return err_at(L, n, "%s must be a number, not '%s'", what, s);
	if (v < min || v > max)
		return err_at(L, n, "%s = %s is outside %g..%g", what, s, min, max);
	*out = v;
	return AX_OK;
}

static enum ax_status get_text(struct loader *L, const yaml_node_t *n,
			       const char *what, char *buf, size_t size)
{
	const char *s = scalar(n);
	if (!s)
		return err_at(L, n, "%s must be a string", what);
	if (strlen(s) >= size)
		return err_at(L, n, "%s is longer than %zu characters", what,
			      size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return AX_OK;
}

/* efficiency: {PREC: {KIND: {compute: x, memory: y}}} */
static enum ax_status parse_eff(struct loader *L, yaml_node_t *n,
				struct ax_device *dev)
{
	enum ax_status s;
	const char *precs[AX_PREC_COUNT + 1] = { 0 }, *kinds[AX_DEV_KIND_COUNT + 1] = { 0 };
	static const char *const ek[] = { "compute", "memory", "call_us", NULL };
	for (int i = 0; i < AX_PREC_COUNT; i++)
		precs[i] = ax_precision_names[i];
	for (int i = 0; i < AX_DEV_KIND_COUNT; i++)
		kinds[i] = ax_dev_kind_names[i];
	if ((s = want_map(L, n, "efficiency")) ||
	    (s = check_keys(L, n, "efficiency", precs)))
		return s;
	for (int p = 0; p < AX_PREC_COUNT; p++) {
		yaml_node_t *pn = lookup(L, n, precs[p]);
		if (!pn)
			continue;
		if ((s = want_map(L, pn, precs[p])) ||
		    (s = check_keys(L, pn, precs[p], kinds)))
			return s;
		for (int k = 0; k < AX_DEV_KIND_COUNT; k++) {
			yaml_node_t *kn = lookup(L, pn, kinds[k]), *v;
			if (!kn)
				continue;
			if ((s = want_map(L, kn, kinds[k])) ||
			    (s = check_keys(L, kn, kinds[k], ek)))
				return s;
			struct ax_dev_eff *e = &dev->eff[p][k];
			if ((v = lookup(L, kn, "compute")) &&
			    (s = get_f64(L, v, "compute", 1e-4, 1.5, &e->compute)))
				return s;
			if ((v = lookup(L, kn, "memory")) &&
			    (s = get_f64(L, v, "memory", 1e-4, 10, &e->memory)))
				return s;
			double us;
			if ((v = lookup(L, kn, "call_us"))) {
				if ((s = get_f64(L, v, "call_us", 0, 1e6, &us)))
					return s;
				e->call_s = us * 1e-6;
			}
		}
	}
	return AX_OK;
}

/* A bandwidth curve (`what`): a list of [bytes, bytes/s], bytes
 * ascending, into *count, cb[] and cw[]. */
static enum ax_status parse_curve(struct loader *L, yaml_node_t *n,
				  const char *what, int *count, double *cb,
				  double *cw)
{
	enum ax_status s;
	if (n->type != YAML_SEQUENCE_NODE)
		return err_at(L, n, "%s must be a list of [bytes, bytes/s]", what);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *x = node(L, *it);
		if (x->type != YAML_SEQUENCE_NODE ||
		    x->data.sequence.items.top - x->data.sequence.items.start != 2)
			return err_at(L, x, "a %s point is [bytes, bytes/s]", what);
		if (*count == AX_DEV_MAX_CURVE)
			return err_at(L, x, "%s has over %d points", what,
				      AX_DEV_MAX_CURVE);
		int i = *count;
		if ((s = get_f64(L, node(L, x->data.sequence.items.start[0]),
				 "working-set bytes", 1, 1e13, &cb[i])) ||
		    (s = get_f64(L, node(L, x->data.sequence.items.start[1]),
				 "bandwidth", 1e6, 1e14, &cw[i])))
			return s;
		if (i > 0 && cb[i] <= cb[i - 1])
			return err_at(L, x, "%s bytes must ascend", what);
		(*count)++;
	}
	return AX_OK;
}

/* bandwidth_curves: {bf16: [...], int8: [...]}, the reduced precisions'. */
static enum ax_status parse_qcurves(struct loader *L, yaml_node_t *n,
				   struct ax_device *dev)
{
	enum ax_status s;
	const char *precs[AX_PREC_COUNT] = { 0 };   /* not fp32: its own key */
	for (int p = 1; p < AX_PREC_COUNT; p++)
		precs[p - 1] = ax_precision_names[p];
	if ((s = want_map(L, n, "bandwidth_curves")) ||
	    (s = check_keys(L, n, "bandwidth_curves", precs)))
		return s;
	for (int p = 1; p < AX_PREC_COUNT; p++) {
		yaml_node_t *v = lookup(L, n, ax_precision_names[p]);
		struct ax_dev_curve *q = &dev->qcurve[p];
		if (v && (s = parse_curve(L, v, ax_precision_names[p], &q->n,
					  q->bytes, q->bw)))
			return s;
	}
	return AX_OK;
}

static enum ax_status parse_sources(struct loader *L, yaml_node_t *n,
				    struct ax_device *dev)
{
	enum ax_status s;
	if (n->type != YAML_SEQUENCE_NODE)
		return err_at(L, n, "sources must be a list of strings");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		if (dev->n_sources == AX_DEV_MAX_SOURCES)
			return err_at(L, node(L, *it), "over %d sources",
				      AX_DEV_MAX_SOURCES);
		if ((s = get_text(L, node(L, *it), "a source",
				  dev->sources[dev->n_sources], AX_DEV_TEXT)))
			return s;
		dev->n_sources++;
	}
	return AX_OK;
}

static const char *const root_keys[] = {
	"name", "calibrated", "cpu", "blas_core", "threads", "date",
	"archex_version", "note", "peak_flops", "bandwidth", "overhead_us",
	"attention_head_us", "attention_score_ns", "exec_op_us", "step_us",
	"step_vocab_ns", "bandwidth_curve", "bandwidth_curves", "efficiency",
	"sources", NULL
};

static enum ax_status parse_root(struct loader *L, yaml_node_t *root,
				 struct ax_device *dev)
{
	enum ax_status s;
	yaml_node_t *v;
	if ((s = want_map(L, root, "a device file")) ||
	    (s = check_keys(L, root, "a device file", root_keys)))
		return s;
	static const char *const required[] = { "name", "calibrated", "peak_flops",
						"bandwidth", "sources" };
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		if (!lookup(L, root, required[i]))
			return err_at(L, root, "missing key '%s'", required[i]);
	if ((s = get_text(L, lookup(L, root, "name"), "name", dev->name_buf,
			  sizeof dev->name_buf)))
		return s;
	v = lookup(L, root, "calibrated");
	if (!scalar(v) || (strcmp(scalar(v), "true") && strcmp(scalar(v), "false")))
		return err_at(L, v, "calibrated must be true or false");
	dev->calibrated = !strcmp(scalar(v), "true");
	struct { const char *key; char *buf; size_t size; } texts[] = {
		{ "cpu", dev->cpu, sizeof dev->cpu },
		{ "blas_core", dev->blas_core, sizeof dev->blas_core },
		{ "date", dev->date, sizeof dev->date },
		{ "archex_version", dev->version, sizeof dev->version },
		{ "note", dev->note_buf, sizeof dev->note_buf },
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if ((v = lookup(L, root, texts[i].key)) &&
		    (s = get_text(L, v, texts[i].key, texts[i].buf, texts[i].size)))
			return s;
	double x = 0;
	if ((v = lookup(L, root, "threads"))) {
		if ((s = get_f64(L, v, "threads", 1, 1024, &x)))
			return s;
		if (x != floor(x))
			return err_at(L, v, "threads must be an integer");
		dev->threads = (int)x;
	}
	if ((s = get_f64(L, lookup(L, root, "peak_flops"), "peak_flops", 1e6,
			 1e16, &dev->peak_flops)) ||
	    (s = get_f64(L, lookup(L, root, "bandwidth"), "bandwidth", 1e6,
			 1e14, &dev->bandwidth)))
		return s;
	/* the fixed costs, optional (0): key, bound, unit, field */
	const struct { const char *key; double max, unit; double *to; } fixed[] = {
		{ "overhead_us", 1e6, 1e-6, &dev->overhead_s },
		{ "attention_head_us", 1e6, 1e-6, &dev->attn_head_s },
		{ "attention_score_ns", 1e6, 1e-9, &dev->attn_score_s },
		{ "exec_op_us", 1e6, 1e-6, &dev->exec_op_s },
		{ "step_us", 1e9, 1e-6, &dev->step_s },
		{ "step_vocab_ns", 1e6, 1e-9, &dev->step_vocab_s },
	};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		if ((v = lookup(L, root, fixed[i].key))) {
			if ((s = get_f64(L, v, fixed[i].key, 0, fixed[i].max, &x)))
				return s;
			*fixed[i].to = x * fixed[i].unit;
		}
	if ((v = lookup(L, root, "bandwidth_curve")) &&
	    (s = parse_curve(L, v, "bandwidth_curve", &dev->n_curve,
			     dev->curve_bytes, dev->curve_bw)))
		return s;
	if ((v = lookup(L, root, "bandwidth_curves")) && (s = parse_qcurves(L, v, dev)))
		return s;
	if ((v = lookup(L, root, "efficiency")) && (s = parse_eff(L, v, dev)))
		return s;
	return parse_sources(L, lookup(L, root, "sources"), dev);
}

enum ax_status ax_device_parse(struct ax_device *dev, const char *text,
			       size_t len, const char *file, struct ax_diag *d)
{
	*dev = (struct ax_device){ 0 };
	enum ax_status st = ax_yaml_precheck(text, len, file, DEVICE_MAX_BYTES, d);
	if (st != AX_OK)
		return st;
	struct loader L = { .y = { .file = file, .d = d } };
	L.y.doc = &L.doc;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		st = ax_diag_set(d, AX_ERR_INPUT, file,
				 (int)parser.problem_mark.line + 1,
				 (int)parser.problem_mark.column + 1, "YAML: %s",
				 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return st;
	}
	yaml_node_t *root = yaml_document_get_root_node(&L.doc);
	st = root ? parse_root(&L, root, dev) :
	     ax_diag_set(d, AX_ERR_INPUT, file, 0, 0, "empty device file");
	yaml_document_delete(&L.doc);
	yaml_parser_delete(&parser);
	if (st != AX_OK)
		return st;
	dev->name = dev->name_buf;
	dev->note = dev->note_buf[0] ? dev->note_buf : dev->sources[0];
	dev->per_kind = true;
	return AX_OK;
}

enum ax_status ax_device_load(struct ax_device *dev, const char *path,
			      struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s",
				   strerror(errno));
	char *buf = malloc(DEVICE_MAX_BYTES + 2);
	if (!buf) {
		fclose(f);
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	}
	size_t len = fread(buf, 1, DEVICE_MAX_BYTES + 1, f);
	int bad = ferror(f);
	fclose(f);
	enum ax_status st = bad ?
		ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot read (a directory?)") :
		ax_device_parse(dev, buf, len, path, d);
	free(buf);
	return st;
}

enum ax_status ax_device_resolve(struct ax_device *dev, const char *spec,
				 struct ax_diag *d)
{
	size_t n = strlen(spec);
	if (!strchr(spec, '/') && !(n > 5 && !strcmp(spec + n - 5, ".yaml"))) {
		const struct ax_device *b = ax_device_find(spec);
		if (!b)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "unknown device '%s' (%s, %s, or a device file path)",
					   spec, ax_devices[0].name, ax_devices[1].name);
		*dev = *b;
		return AX_OK;
	}
	return ax_device_load(dev, spec, d);
}

/* A YAML double-quoted string (our texts hold no control characters). */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s >= 0x20 ? *s : ' ', f);
	}
	fputc('"', f);
}

void ax_device_write(FILE *f, const struct ax_device *dev)
{
	fprintf(f, "# archex device file (docs/latency.md)\nname: ");
	put_str(f, dev->name);
	fprintf(f, "\ncalibrated: %s\ncpu: ", dev->calibrated ? "true" : "false");
	put_str(f, dev->cpu);
	fprintf(f, "\nblas_core: ");
	put_str(f, dev->blas_core);
	fprintf(f, "\nthreads: %d\ndate: ", dev->threads > 0 ? dev->threads : 1);
	put_str(f, dev->date);
	fprintf(f, "\narchex_version: ");
	put_str(f, dev->version);
	fprintf(f, "\npeak_flops: %.4g        # FLOP/s, the best sgemm\n"
		"bandwidth: %.4g         # bytes/s, streaming weights beyond the caches\n"
		"overhead_us: %.3g       # fixed cost of one kernel call\n"
		"attention_head_us: %.3g # per head of an attention call\n"
		"attention_score_ns: %.3g # per score (head x query x key)\n"
		"exec_op_us: %.3g        # the executor's own cost per op call\n"
		"step_us: %.3g           # the search's cost per decoding step\n"
		"step_vocab_ns: %.3g     # ... and per vocabulary entry per step\n",
		dev->peak_flops, dev->bandwidth, dev->overhead_s * 1e6,
		dev->attn_head_s * 1e6, dev->attn_score_s * 1e9, dev->exec_op_s * 1e6, dev->step_s * 1e6, dev->step_vocab_s * 1e9);
	fprintf(f, "bandwidth_curve:%s        # [weight bytes per pass, bytes/s]\n",
		dev->n_curve ? "" : " []");
	for (int i = 0; i < dev->n_curve; i++)
		fprintf(f, "  - [%.0f, %.4g]\n", dev->curve_bytes[i], dev->curve_bw[i]);
	bool q = false;
	for (int p = 1; p < AX_PREC_COUNT; p++)
		q |= dev->qcurve[p].n > 0;
	if (q)
		fprintf(f, "bandwidth_curves:       # the same through the bf16 and int8 kernels\n");
	for (int p = 1; p < AX_PREC_COUNT; p++) {
		const struct ax_dev_curve *c = &dev->qcurve[p];
		if (c->n)
			fprintf(f, "  %s:\n", ax_precision_names[p]);
		for (int i = 0; i < c->n; i++)
			fprintf(f, "    - [%.0f, %.4g]\n", c->bytes[i], c->bw[i]);
	}
	bool given = false;
	for (int p = 0; p < AX_PREC_COUNT; p++)
		for (int k = 0; k < AX_DEV_KIND_COUNT; k++)
			given |= dev->eff[p][k].compute > 0 || dev->eff[p][k].memory > 0 ||
				 dev->eff[p][k].call_s > 0;
	fprintf(f, "efficiency:%s     # fractions of peak_flops and of the bandwidth\n",
		given ? "" : " {}");
	for (int p = 0; p < AX_PREC_COUNT; p++) {
		bool any = false;
		for (int k = 0; k < AX_DEV_KIND_COUNT; k++) {
			const struct ax_dev_eff *e = &dev->eff[p][k];
			if (e->compute <= 0 && e->memory <= 0 && e->call_s <= 0)
				continue;
			if (!any)
				fprintf(f, "  %s:\n", ax_precision_names[p]);
			any = true;
			fprintf(f, "    %s: {", ax_dev_kind_names[k]);
			const char *sep = "";
			if (e->compute > 0) {
				fprintf(f, "compute: %.3g", e->compute);
				sep = ", ";
			}
			if (e->memory > 0) {
				fprintf(f, "%smemory: %.3g", sep, e->memory);
				sep = ", ";
			}
			if (e->call_s > 0)
				fprintf(f, "%scall_us: %.3g", sep, e->call_s * 1e6);
			fprintf(f, "}\n");
		}
	}
	fprintf(f, "sources:\n");
	for (int i = 0; i < dev->n_sources; i++) {
		fprintf(f, "  - ");
		put_str(f, dev->sources[i]);
		fputc('\n', f);
	}
}
