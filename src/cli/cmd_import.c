/*
 * cmd_import.c - `archex import fairseq CHECKPOINT.pt --out DIR` and
 * `archex import lite-yaml FILE.yml --vocab S[,T] [--out CONFIG]`.
 *
 * A fairseq checkpoint is a torch zip holding a pickle; reading it needs
 * torch's unpickler, so the conversion is tools/fairseq_import.py on
 * Debian's python3-torch (docs/fairseq.md explains the choice). This file
 * checks the flags and runs that script with fork/exec (never a shell),
 * passing this executable's own path for `archex graph --params`.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define PYTHON "/usr/bin/python3"

static void help_import(void)
{
	printf(
"usage: archex import fairseq CHECKPOINT.pt --out DIR\n"
"       archex import lite-yaml FILE.yml --vocab S[,T] [--out CONFIG.yaml]\n"
"\n"
"fairseq: convert a fairseq checkpoint (arch transformer*, lightconv*, or\n"
"lite-transformer's transformer_multibranch_v2*) into DIR/config.yaml and\n"
"DIR/weights, ready for 'archex run DIR/config.yaml --weights DIR/weights'.\n"
"The model's arguments come from the checkpoint's args or cfg; every\n"
"state_dict entry must map to exactly one archex parameter of the same\n"
"shape, else the import is refused with the offending keys.\n"
"\n"
"lite-yaml: convert an upstream lite-transformer config file (fairseq\n"
"argument names: arch, encoder-embed-dim, encoder-branch-type, ...) into\n"
"an archex config, on stdout or into --out. A config file does not record\n"
"the dictionary sizes: --vocab gives them (S for a joined dictionary).\n"
"\n"
"Needs " PYTHON " with python3-torch and python3-numpy (fairseq) or\n"
"python3-yaml (lite-yaml); the converter is tools/fairseq_import.py\n"
"($ARCHEX_TOOLS_DIR overrides its directory). See docs/fairseq.md.\n"
"\n"
"options:\n"
"  --out PATH      output directory (fairseq) or config file (lite-yaml)\n"
"  --vocab S[,T]   lite-yaml: source and target dictionary sizes\n"
"  -h, --help      this text\n");
}

/* tools/fairseq_import.py: $ARCHEX_TOOLS_DIR, else the source tree's. */
static const char *script_path(char *buf, size_t n)
{
	const char *dir = getenv("ARCHEX_TOOLS_DIR");
#ifdef AX_DATA_DIR
	if (!dir || !*dir)
		dir = AX_DATA_DIR "/tools";
#endif
	if (!dir || !*dir)
		dir = "tools";
	snprintf(buf, n, "%s/fairseq_import.py", dir);
	return buf;
}

/* Runs argv (argv[0] a path) and returns its mapped exit code: 0, 2 for a
 * usage error, else 1. */
static int spawn(char *const argv[])
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "archex import: error: fork: %s\n", strerror(errno));
		return AX_EXIT_ERROR;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "archex import: error: cannot run %s: %s (install "
			"python3)\n", argv[0], strerror(errno));
		_exit(1);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "archex import: error: waitpid: %s\n", strerror(errno));
			return AX_EXIT_ERROR;
		}
	if (!WIFEXITED(status)) {
		fprintf(stderr, "archex import: error: the converter died (signal %d)\n",
			WTERMSIG(status));
		return AX_EXIT_ERROR;
	}
	int rc = WEXITSTATUS(status);
	return rc == 0 ? AX_EXIT_OK : rc == 2 ? AX_EXIT_USAGE : AX_EXIT_ERROR;
}

int ax_cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "vocab", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *vocab = NULL;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'v': vocab = optarg; break;
		case 'h': help_import(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("import", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("import", argv, longopts);
		}
	}
	if (argc - optind != 2)
		return ax_cli_usage_error("import", "expected fairseq CHECKPOINT or lite-yaml FILE");
	const char *kind = argv[optind], *in = argv[optind + 1];
	bool fairseq = !strcmp(kind, "fairseq");
	if (!fairseq && strcmp(kind, "lite-yaml"))
		return ax_cli_usage_error("import", "unknown source '%s' (fairseq or lite-yaml)", kind);
	if (fairseq && (!out || !*out))
		return ax_cli_usage_error("import", "fairseq needs --out DIR");
	if (fairseq && vocab)
		return ax_cli_usage_error("import", "--vocab is for lite-yaml (a checkpoint has its dictionaries)");
	if (!fairseq && !vocab)
		return ax_cli_usage_error("import", "lite-yaml needs --vocab S[,T]");
	if (out && !*out)
		return ax_cli_usage_error("import", "--out is empty");
	struct stat st;
	if (stat(in, &st) != 0 || !S_ISREG(st.st_mode)) {   /* a FIFO would hang */
		fprintf(stderr, "%s: error: %s\n", in,
			S_ISREG(st.st_mode) || errno == ENOENT ? strerror(errno) :
			"not a regular file");
		return AX_EXIT_ERROR;
	}
	char script[PATH_MAX], self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "archex import: error: cannot find this executable: %s\n", strerror(errno));
		return AX_EXIT_ERROR;
	}
	self[n] = 0;
	char *args[12];
	int k = 0;
	args[k++] = PYTHON;
	args[k++] = (char *)script_path(script, sizeof script);
	args[k++] = fairseq ? "checkpoint" : "lite-yaml";
	args[k++] = (char *)in;
	if (out) {
		args[k++] = "--out";
		args[k++] = (char *)out;
	}
	if (fairseq) {
		args[k++] = "--archex";
		args[k++] = self;
	} else {
		args[k++] = "--vocab";
		args[k++] = (char *)vocab;
	}
	args[k] = NULL;
	return spawn(args);
}
