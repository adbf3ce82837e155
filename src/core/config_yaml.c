/*
 * config_yaml.c - stages 1 and 2 of loading any YAML file archex reads:
 * reading the file, refusing NUL bytes and tabs, and one scan of the
 * event stream that refuses what a config has no use for (see
 * config_rules.h for the stages, config.h for ax_yaml_precheck()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_impl.h"

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

enum ax_status ax_cfg_pos_error(struct ax_diag *d, enum ax_status st,
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

/* ---- stage 1: reading, NUL bytes and tabs --------------------------- */

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
enum ax_status ax_cfg_read_file(const char *path, char **text, size_t *len,
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
enum ax_status ax_cfg_refuse_tabs(const char *text, size_t len,
				  const char *file, struct ax_diag *d)
{
	const char *nul = memchr(text, '\0', len);
	const char *tab = memchr(text, '\t', len);

	if (nul)
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file,
					offset_pos(text, len, (size_t)(nul - text)),
					"a NUL byte: this is binary data or UTF-16 text, "
					"not a UTF-8 YAML config");
	if (!tab)
		return AX_OK;
	return ax_cfg_pos_error(d, AX_ERR_INPUT, file,
				offset_pos(text, len, (size_t)(tab - text)),
				"tab character; config files must use spaces");
}

/* ---- stage 2: the event scan ------------------------------------------ */

enum ax_status ax_cfg_parser_error(const yaml_parser_t *p, const char *text,
				   size_t len, const char *file,
				   struct ax_diag *d)
{
	const char *problem = p->problem ? p->problem : "unknown problem";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return ax_diag_set(d, AX_ERR_NOMEM, file, 0, 0,
				   "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file,
					offset_pos(text, len, p->problem_offset),
					"unreadable text: %s", problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (p->context)
			return ax_cfg_pos_error(d, AX_ERR_INPUT, file,
						mark_pos(p->problem_mark),
						"YAML syntax error: %s (%s at line %d)",
						problem, p->context,
						(int)p->context_mark.line + 1);
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file,
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
			return ax_cfg_pos_error(d, AX_ERR_INPUT, file, at,
						"a second YAML document; a config file holds one");
		return AX_OK;
	case YAML_ALIAS_EVENT:
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file, at,
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
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file, at,
					"anchors (&%.40s) and aliases are not supported; "
					"write the value out", (const char *)anchor);
	if (tag)
		return ax_cfg_pos_error(d, AX_ERR_INPUT, file, at,
					"YAML tags (%.40s) are not supported",
					(const char *)tag);
	if (*depth > CONFIG_MAX_DEPTH)
		return ax_cfg_pos_error(d, AX_ERR_LIMIT, file, at,
					"nesting deeper than %d levels", CONFIG_MAX_DEPTH);
	return AX_OK;
}

enum ax_status ax_cfg_scan_events(const char *text, size_t len,
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
			st = ax_cfg_parser_error(&parser, text, len, file, d);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		st = check_event(&ev, &depth, &docs, file, d);
		yaml_event_delete(&ev);
	}
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
	if ((st = ax_cfg_refuse_tabs(text, len, file, d)) != AX_OK)
		return st;
	return ax_cfg_scan_events(text, len, file, d);
}
