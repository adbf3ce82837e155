/*
 * cmd_bleu.c - `archex bleu --ref REF [HYP]`: sacreBLEU-compatible corpus
 * BLEU and chrF of a hypothesis file (or stdin) against a reference file,
 * as JSON on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bleu.h"
#include "cli.h"
#include "json.h"

static void help(FILE *f)
{
	fprintf(f,
		"usage: archex bleu --ref REF [HYP]\n\n"
		"Corpus BLEU as sacreBLEU computes it by default (13a tokenizer, exp\n"
		"smoothing, brevity penalty) and chrF (character 6-grams, beta 2), of\n"
		"HYP (default: stdin) against REF, one sentence a line, detokenized.\n"
		"The two must have the same number of lines.\n\n"
		"Output (JSON): score, precisions (1- to 4-gram, %%), bp, ratio,\n"
		"sys_len, ref_len, lines, chrf.\n\n"
		"options:\n"
		"  --ref REF    the reference file (required)\n"
		"  -h, --help   this text\n");
}

int ax_cmd_bleu(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ref", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ref = NULL;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': ref = optarg; break;
		case 'h': help(stdout); return AX_EXIT_OK;
		default:
			return ax_cli_bad_option("bleu", argv, longopts);
		}
	}
	if (!ref)
		return ax_cli_usage_error("bleu", "--ref REF is required");
	if (argc - optind > 1)
		return ax_cli_usage_error("bleu", "at most one hypothesis file");
	const char *hyp_name = optind < argc ? argv[optind] : "<stdin>";
	FILE *hyp = optind < argc ? fopen(hyp_name, "r") : stdin;
	if (!hyp) {
		fprintf(stderr, "%s: error: open: %s\n", hyp_name, strerror(errno));
		return AX_EXIT_ERROR;
	}
	struct ax_diag d = { 0 };
	struct ax_bleu b;
	enum ax_status s = ax_bleu_files(ref, hyp, hyp_name, &b, &d);
	if (hyp != stdin)
		fclose(hyp);
	if (s != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "score");
	ax_json_double(&j, b.score);
	ax_json_key(&j, "precisions");
	ax_json_begin_array(&j);
	for (int n = 0; n < AX_BLEU_ORDER; n++)
		ax_json_double(&j, b.precision[n]);
	ax_json_end_array(&j);
	ax_json_key(&j, "bp");
	ax_json_double(&j, b.bp);
	ax_json_key(&j, "ratio");
	ax_json_double(&j, b.ratio);
	ax_json_key(&j, "sys_len");
	ax_json_int(&j, b.sys_len);
	ax_json_key(&j, "ref_len");
	ax_json_int(&j, b.ref_len);
	ax_json_key(&j, "lines");
	ax_json_int(&j, b.lines);
	ax_json_key(&j, "chrf");
	ax_json_double(&j, b.chrf);
	ax_json_key(&j, "signature");
	ax_json_string(&j, "sacreBLEU-compatible: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp; chrF2 nc:6 nw:0 space:no");
	ax_json_end_object(&j);
	if (ax_json_finish(&j, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	printf("\n");
	return AX_EXIT_OK;
}
