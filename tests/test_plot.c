/*
 * test_plot.c - renders every template in plots/ to PNG and SVG from
 * small sample data files and checks the outputs' magic bytes; checks
 * that titles cannot inject gnuplot commands, that gnuplot errors come
 * back as diagnostics, and that a missing gnuplot is reported clearly.
 * Skips (with a message) when gnuplot is not installed. The sample data
 * and plots stay in AX_BINARY_DIR/plot-samples/ for people to look at.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pareto.h"
#include "plot.h"

static char outdir[400];

static int setup(void **state)
{
	(void)state;
	snprintf(outdir, sizeof outdir, "%s/plot-samples", AX_BINARY_DIR);
	if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void skip_without_gnuplot(void)
{
	if (!ax_plot_available(NULL, 0)) {
		print_message("gnuplot not found on PATH: skipping plot rendering "
			      "(install gnuplot-nox)\n");
		skip();
	}
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", outdir, name);
}

static void write_text(const char *name, const char *text)
{
	char p[700];
	path_in(p, sizeof p, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Asserts that path is a non-empty PNG or SVG. */
static void check_output(const char *path, enum ax_plot_format fmt)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("no output %s", path);
	unsigned char head[256] = {0};
	size_t n = fread(head, 1, sizeof head - 1, f);
	fclose(f);
	if (fmt == AX_PLOT_PNG) {
		assert_true(n > 8);
		assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
	} else {
		assert_true(n > 5);
		assert_true(strstr((char *)head, "<svg") != NULL ||
			    memcmp(head, "<?xml", 5) == 0);
	}
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000);
}

/* Renders plots/<tmpl>.gp to <out>.png and <out>.svg. vars[] holds
 * name/value pairs; "@file" values are resolved in the sample dir. */
static void render_both(const char *tmpl, const char *out,
			const char *const *kv, int nvars)
{
	char template_path[700];
	snprintf(template_path, sizeof template_path, "%s/plots/%s.gp",
		 AX_SOURCE_DIR, tmpl);
	struct ax_plot_var vars[8];
	char values[8][700];
	assert_true(nvars <= 8);
	for (int i = 0; i < nvars; i++) {
		vars[i].name = kv[2 * i];
		if (kv[2 * i + 1][0] == '@')
			path_in(values[i], sizeof values[i], kv[2 * i + 1] + 1);
		else
			snprintf(values[i], sizeof values[i], "%s", kv[2 * i + 1]);
		vars[i].value = values[i];
	}
	for (int f = 0; f < AX_PLOT_FORMAT_COUNT; f++) {
		char name[200], path[700];
		snprintf(name, sizeof name, "%s.%s", out,
			 ax_plot_format_name((enum ax_plot_format)f));
		path_in(path, sizeof path, name);
		unlink(path);
		struct ax_diag d = {0};
		enum ax_status s = ax_plot_render(template_path, path,
						  (enum ax_plot_format)f, vars,
						  nvars, &d);
		if (s != AX_OK) {
			char msg[2048];
			ax_diag_format(&d, msg, sizeof msg);
			fail_msg("%s", msg);
		}
		check_output(path, (enum ax_plot_format)f);
	}
}

static void test_tradeoff(void **state)
{
	(void)state;
	skip_without_gnuplot();
	/* Published BLEU (results/published) against illustrative MACs. */
	write_text("tradeoff.csv",
		   "# sample: WMT'14 En-Fr BLEU; MACs are illustrative\n"
		   "Transformer,value,config\n"
		   "98,33.6,wmt-transformer-128\n"
		   "330,37.6,wmt-transformer-256\n"
		   "480,38.4,wmt-transformer-320\n"
		   "1180,39.9,wmt-transformer-512\n"
		   "\n\n"
		   "Lite Transformer,value,config\n"
		   "90,35.3,wmt-lite-200\n"
		   "360,39.1,wmt-lite-408\n"
		   "527,39.6,wmt-lite-496\n");
	const char *kv[] = {
		"data", "@tradeoff.csv",
		"title_text", "WMT'14 En-Fr: BLEU vs. Mult-Adds (sample)",
		"ylabel_text", "BLEU (higher is better)",
		"show_labels", "1",
	};
	render_both("tradeoff", "tradeoff", kv, 4);

	/* Lower-is-better metric, linear axis: only the label changes. */
	write_text("tradeoff-ppl.csv",
		   "Transformer,value,config\n"
		   "150,30.1,lm-transformer-a\n"
		   "420,25.0,lm-transformer-b\n"
		   "900,22.9,lm-transformer-c\n"
		   "\n\n"
		   "Lite Transformer,value,config\n"
		   "140,28.2,lm-lite-a\n"
		   "400,23.5,lm-lite-b\n"
		   "880,22.2,wikitext103-lite-896\n");
	const char *kv2[] = {
		"data", "@tradeoff-ppl.csv",
		"title_text", "WikiText-103: perplexity vs. Mult-Adds (sample)",
		"ylabel_text", "Test perplexity (lower is better)",
		"logx", "0",
	};
	render_both("tradeoff", "tradeoff-ppl", kv2, 4);
}

static uint64_t rng = 0x243f6a8885a308d3ULL;
static double uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void test_pareto_plot(void **state)
{
	(void)state;
	skip_without_gnuplot();
	/* A fake sweep: per family, random (MACs, params) points; the front
	 * is fewest MACs with most parameters, found by ax_pareto_front. */
	static const char *const families[] = {"Transformer", "Lite Transformer",
					       "LightConv"};
	static const double capacity[] = {1.0, 1.25, 1.1};
	enum { PER = 120 };
	char points_path[700], fronts_path[700];
	path_in(points_path, sizeof points_path, "pareto-points.csv");
	path_in(fronts_path, sizeof fronts_path, "pareto-fronts.csv");
	FILE *pf = fopen(points_path, "w"), *ff = fopen(fronts_path, "w");
	assert_non_null(pf);
	assert_non_null(ff);
	fprintf(pf, "family,macs_m,params_m,config\n");
	for (int fam = 0; fam < 3; fam++) {
		double obj[PER * 2];
		bool on[PER];
		for (int i = 0; i < PER; i++) {
			double macs = pow(10.0, 1.3 + 1.9 * uniform());
			obj[2 * i] = macs;
			obj[2 * i + 1] = macs * capacity[fam] *
					 (0.012 + 0.038 * uniform());
			fprintf(pf, "%s,%.3f,%.4f,%s-%d\n", families[fam], obj[2 * i],
				obj[2 * i + 1], families[fam], i);
		}
		const bool maximize[] = {false, true};
		struct ax_diag d = {0};
		assert_int_equal(ax_pareto_front(obj, PER, 2, maximize, on, &d),
				 AX_OK);
		/* Write the front sorted by MACs (selection by repeated min). */
		fprintf(ff, "%s%s,params_m,config\n", fam ? "\n\n" : "",
			families[fam]);
		double last = -1;
		for (;;) {
			int best = -1;
			for (int i = 0; i < PER; i++)
				if (on[i] && obj[2 * i] > last &&
				    (best < 0 || obj[2 * i] < obj[2 * best]))
					best = i;
			if (best < 0)
				break;
			fprintf(ff, "%.3f,%.4f,%s-%d\n", obj[2 * best],
				obj[2 * best + 1], families[fam], best);
			last = obj[2 * best];
		}
	}
	assert_int_equal(fclose(pf), 0);
	assert_int_equal(fclose(ff), 0);
	const char *kv[] = {
		"points", "@pareto-points.csv",
		"fronts", "@pareto-fronts.csv",
		"title_text", "Sample sweep: parameters vs. Mult-Adds",
	};
	render_both("pareto", "pareto", kv, 3);
}

static void test_breakdown(void **state)
{
	(void)state;
	skip_without_gnuplot();
	write_text("breakdown.csv",
		   "# sample values, M Mult-Adds\n"
		   "config,attention_proj,attention_matmul,conv,conv_proj,"
		   "conv_kernelgen,ffn,glu,embed_proj,output_proj,norm,elementwise\n"
		   "wmt-transformer-128,11.8,1.2,0,0,0,23.6,0,0,63.0,0.1,0.3\n"
		   "wmt-lite-200,7.5,0.5,1.1,9.0,3.2,14.4,6.0,0,98.3,0.2,0.4\n"
		   "wmt-evolved-128,9.0,1.0,2.5,8.0,0,25.0,4.0,0,63.0,0.2,0.4\n"
		   "wmt-lite-408,31.0,1.0,4.4,37.5,12.8,60.0,25.0,0,200.5,0.5,0.8\n");
	const char *kv[] = {
		"data", "@breakdown.csv",
		"title_text", "Mult-Adds by operation kind (sample)",
	};
	render_both("breakdown", "breakdown", kv, 2);
}

static void test_seqlen(void **state)
{
	(void)state;
	skip_without_gnuplot();
	char text[2048] = "seq_len,Transformer,Lite Transformer,LightConv,"
			  "Evolved Transformer\n";
	const int lens[] = {5, 10, 20, 30, 50, 80, 120, 200};
	for (int i = 0; i < 8; i++) {
		double l = lens[i];
		size_t u = strlen(text);
		snprintf(text + u, sizeof text - u, "%d,%.2f,%.2f,%.2f,%.2f\n",
			 lens[i], 2.8 * l + 0.02 * l * l, 2.6 * l + 0.005 * l * l,
			 2.55 * l, 3.1 * l + 0.015 * l * l);
	}
	write_text("seqlen.csv", text);
	const char *kv[] = {
		"data", "@seqlen.csv",
		"title_text", "Mult-Adds vs. sequence length (sample)",
	};
	render_both("seqlen", "seqlen", kv, 2);
}

static void test_quoting_and_errors(void **state)
{
	(void)state;
	skip_without_gnuplot();
	/* A title full of gnuplot syntax is drawn as text, not run. */
	char marker[700], cmd_title[1600];
	path_in(marker, sizeof marker, "injected");
	unlink(marker);
	snprintf(cmd_title, sizeof cmd_title,
		 "it's `touch %s` @data '; system('touch %s'); x='", marker,
		 marker);
	const char *kv[] = {
		"data", "@seqlen.csv",
		"title_text", cmd_title,
	};
	render_both("seqlen", "seqlen-quoting", kv, 2);
	assert_int_equal(access(marker, F_OK), -1);

	char template_path[700], out[700];
	snprintf(template_path, sizeof template_path, "%s/plots/seqlen.gp",
		 AX_SOURCE_DIR);
	path_in(out, sizeof out, "never.png");
	struct ax_diag d = {0};
	struct ax_plot_var bad_value = {"title_text", "two\nlines"};
	assert_int_equal(ax_plot_render(template_path, out, AX_PLOT_PNG,
					&bad_value, 1, &d), AX_ERR_INPUT);
	struct ax_plot_var bad_name = {"x; system('true')", "1"};
	assert_int_equal(ax_plot_render(template_path, out, AX_PLOT_PNG,
					&bad_name, 1, &d), AX_ERR_INPUT);

	/* A missing data file: gnuplot's complaint comes back, no output. */
	struct ax_plot_var missing = {"data", "/nonexistent/data.csv"};
	assert_int_equal(ax_plot_render(template_path, out, AX_PLOT_PNG,
					&missing, 1, &d), AX_ERR_IO);
	assert_non_null(strstr(d.msg, "gnuplot failed"));
	assert_int_equal(access(out, F_OK), -1);

	/* No variables at all: the template's own message. */
	assert_int_equal(ax_plot_render(template_path, out, AX_PLOT_PNG, NULL,
					0, &d), AX_ERR_IO);
	assert_non_null(strstr(d.msg, "set data="));

	struct ax_plot_var ok = {"data", "x"};
	assert_int_equal(ax_plot_render("/nonexistent/t.gp", out, AX_PLOT_PNG,
					&ok, 1, &d), AX_ERR_IO);
	assert_non_null(strstr(d.msg, "open plot template"));
}

static void test_missing_gnuplot(void **state)
{
	(void)state;
	/* Runs with or without gnuplot installed: with PATH pointing at an
	 * empty directory, gnuplot is "absent" and the message says so. */
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	setenv("PATH", outdir, 1);
	bool found = ax_plot_available(NULL, 0);
	struct ax_plot_var v = {"data", "x"};
	struct ax_diag d = {0};
	enum ax_status s = ax_plot_render("plots/seqlen.gp", "/tmp/x.png",
					  AX_PLOT_PNG, &v, 1, &d);
	if (saved) {
		setenv("PATH", saved, 1);
		free(saved);
	} else {
		unsetenv("PATH");
	}
	assert_false(found);
	assert_int_equal(s, AX_ERR_IO);
	assert_non_null(strstr(d.msg, "gnuplot not found on PATH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tradeoff),
		cmocka_unit_test(test_pareto_plot),
		cmocka_unit_test(test_breakdown),
		cmocka_unit_test(test_seqlen),
		cmocka_unit_test(test_quoting_and_errors),
		cmocka_unit_test(test_missing_gnuplot),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
