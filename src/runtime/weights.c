/*
 * weights.c - the archex weights file: atomic save, checked load, CRC-32
 * and the counter-based initialiser (see weights.h and
 * docs/weights-format.md).
 */
#include "weights.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "atomic_io.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "weights.c writes tensor data with fwrite: little-endian hosts only"
#endif

#define FIXED_HEADER 12   /* magic, version, count */
#define MIN_ENTRY 32      /* u16 + empty name + u8 + u8 + 1 dim + off + len + crc */

/* ==== CRC-32 ============================================================== */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t ax_crc32(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *p = buf;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ==== deterministic init ================================================== */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void ax_weights_init_uniform(float *x, int64_t n, float scale, uint64_t seed,
			     uint64_t stream)
{
	ax_weights_init_uniform_at(x, n, 0, scale, seed, stream);
}

void ax_weights_init_uniform_at(float *x, int64_t n, int64_t k0, float scale,
				uint64_t seed, uint64_t stream)
{
	/* splitmix64 keyed by (seed, stream), evaluated at counter k0 + k */
	uint64_t key = mix64(seed ^ mix64(stream + 0x9E3779B97F4A7C15ull));
	for (int64_t k = 0; k < n; k++) {
		uint64_t z = mix64(key + (uint64_t)(k0 + k + 1) * 0x9E3779B97F4A7C15ull);
		float u = (float)(z >> 40) * (1.0f / 16777216.0f);   /* [0,1) */
		x[k] = scale * (2.0f * u - 1.0f);
	}
}

/* ==== little-endian encoding ============================================== */

static unsigned char *put(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (unsigned char)(v >> (8 * i));
	return p;
}

static uint64_t get(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t align_up(uint64_t x)
{
	return (x + AX_WEIGHTS_ALIGN - 1) / AX_WEIGHTS_ALIGN * AX_WEIGHTS_ALIGN;
}

static int ndim_of(const struct ax_weights_entry *e)
{
	return e->cols == 1 ? 1 : 2;
}

/* ==== save ================================================================ */

static enum ax_status check_entries(const char *path,
				    const struct ax_weights_entry *e,
				    int64_t n, struct ax_diag *d)
{
	if (n < 0 || (uint64_t)n > AX_WEIGHTS_MAX_TENSORS)
		return ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
				   "%" PRId64 " tensors: at most %u fit a weights file",
				   n, AX_WEIGHTS_MAX_TENSORS);
	for (int64_t k = 0; k < n; k++) {
		size_t len = e[k].name ? strlen(e[k].name) : 0;
		if (len == 0 || len > AX_WEIGHTS_MAX_NAME)
			return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
					   "tensor #%" PRId64 ": a name must have 1 to %d bytes",
					   k, AX_WEIGHTS_MAX_NAME);
		if (e[k].rows < 0 || e[k].cols < 1 ||
		    e[k].rows > INT64_MAX / 4 / e[k].cols ||
		    (e[k].rows * e[k].cols > 0 && !e[k].data))
			return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
					   "tensor '%s': bad shape (%" PRId64 ", %" PRId64
					   ") or no data", e[k].name, e[k].rows, e[k].cols);
		for (int64_t j = 0; j < k; j++)
			if (strcmp(e[j].name, e[k].name) == 0)
				return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
						   "tensor '%s' is named twice",
						   e[k].name);
	}
	return AX_OK;
}

static enum ax_status write_all(FILE *f, const void *buf, size_t len,
				const char *path, struct ax_diag *d)
{
	if (len && fwrite(buf, 1, len, f) != len)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot write: %s",
				   strerror(errno));
	return AX_OK;
}

enum ax_status ax_weights_save(const char *path,
			       const struct ax_weights_entry *e, int64_t n,
			       struct ax_diag *d)
{
	enum ax_status st = check_entries(path, e, n, d);
	if (st != AX_OK)
		return st;

	/* header size, then 64-byte-aligned data offsets */
	uint64_t hsize = FIXED_HEADER + 4;
	for (int64_t k = 0; k < n; k++)
		hsize += 2 + strlen(e[k].name) + 2 + 8 * (uint64_t)ndim_of(&e[k]) + 20;
	unsigned char *hdr = malloc(hsize);
	if (!hdr)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0,
				   "out of memory for a %" PRIu64 "-byte header", hsize);

	unsigned char *p = hdr;
	memcpy(p, AX_WEIGHTS_MAGIC, 4);
	p = put(p + 4, AX_WEIGHTS_VERSION, 4);
	p = put(p, (uint64_t)n, 4);
	uint64_t off = align_up(hsize);
	for (int64_t k = 0; k < n; k++) {
		size_t len = strlen(e[k].name);
		uint64_t bytes = (uint64_t)(e[k].rows * e[k].cols) * 4;
		p = put(p, len, 2);
		memcpy(p, e[k].name, len);
		p += len;
		p = put(p, 0, 1);                       /* dtype f32 */
		p = put(p, (uint64_t)ndim_of(&e[k]), 1);
		p = put(p, (uint64_t)e[k].rows, 8);
		if (ndim_of(&e[k]) == 2)
			p = put(p, (uint64_t)e[k].cols, 8);
		p = put(p, off, 8);
		p = put(p, bytes, 8);
		p = put(p, ax_crc32(0, e[k].data, bytes), 4);
		off = align_up(off + bytes);
	}
	p = put(p, ax_crc32(0, hdr, hsize - 4), 4);

	/* a unique temporary beside path, renamed over it when complete
	 * (atomic_io.h): concurrent writers never share a temporary */
	struct ax_atomic at_file;
	FILE *f = ax_atomic_open(&at_file, path, d);
	if (!f) {
		/* errno is still open(2)'s; keep this file's own wording */
		int err = errno;
		free(hdr);
		if (!d || d->status != AX_ERR_IO)
			return d ? d->status : AX_ERR_IO;
		char file[sizeof d->file];
		memcpy(file, d->file, sizeof file);
		return ax_diag_set(d, AX_ERR_IO, file, 0, 0,
				   "cannot open for writing: %s", strerror(err));
	}
	static const unsigned char zeros[AX_WEIGHTS_ALIGN];
	uint64_t at = hsize;
	st = write_all(f, hdr, hsize, path, d);
	for (int64_t k = 0; st == AX_OK && k < n; k++) {
		uint64_t bytes = (uint64_t)(e[k].rows * e[k].cols) * 4;
		if ((st = write_all(f, zeros, align_up(at) - at, path, d)) == AX_OK)
			st = write_all(f, e[k].data, bytes, path, d);
		at = align_up(at) + bytes;
	}
	if (st == AX_OK)
		st = ax_atomic_commit(&at_file, d);
	else
		ax_atomic_abort(&at_file);
	free(hdr);
	return st;
}

/* ==== load ================================================================ */

/* A bounds-checked reader over the header: every read is checked against
 * the file size first, and the header CRC accumulates as it goes. */
struct reader {
	FILE *f;
	const char *path;
	uint64_t pos, size;
	uint32_t crc;
	struct ax_diag *d;
};

static enum ax_status rd(struct reader *r, void *buf, uint64_t len,
			 const char *what)
{
	if (len > r->size - r->pos)
		return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
				   "truncated: %s needs %" PRIu64 " bytes at offset %"
				   PRIu64 ", the file has %" PRIu64, what, len,
				   r->pos, r->size);
	if (len && fread(buf, 1, len, r->f) != len)
		return ax_diag_set(r->d, AX_ERR_IO, r->path, 0, 0,
				   "cannot read %s: %s", what,
				   ferror(r->f) ? strerror(errno) : "unexpected end of file");
	r->crc = ax_crc32(r->crc, buf, len);
	r->pos += len;
	return AX_OK;
}

struct file_entry {
	char *name;
	int64_t rows, cols;
	uint64_t off, len;
	uint32_t crc;
	int64_t match;     /* index into the caller's entries, -1 */
};

static int64_t find_name(const struct ax_weights_entry *e, int64_t n,
			 const char *name, int64_t hint)
{
	if (hint >= 0 && hint < n && strcmp(e[hint].name, name) == 0)
		return hint;
	for (int64_t k = 0; k < n; k++)
		if (strcmp(e[k].name, name) == 0)
			return k;
	return -1;
}

static bool file_has(const struct file_entry *fe, int64_t count,
		     const char *name)
{
	for (int64_t k = 0; k < count; k++)
		if (strcmp(fe[k].name, name) == 0)
			return true;
	return false;
}

/* Parses the table after the fixed header into fe[0..count). */
static enum ax_status read_table(struct reader *r, struct file_entry *fe,
				 int64_t count)
{
	enum ax_status st;
	unsigned char b[24];
	for (int64_t k = 0; k < count; k++) {
		if ((st = rd(r, b, 2, "a tensor name length")) != AX_OK)
			return st;
		uint64_t len = get(b, 2);
		fe[k].name = malloc(len + 1);
		if (!fe[k].name)
			return ax_diag_set(r->d, AX_ERR_NOMEM, r->path, 0, 0,
					   "out of memory");
		if ((st = rd(r, fe[k].name, len, "a tensor name")) != AX_OK)
			return st;
		fe[k].name[len] = '\0';
		if (len == 0 || memchr(fe[k].name, '\0', len))
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "tensor #%" PRId64 " has an empty or "
					   "NUL-containing name", k);
		if ((st = rd(r, b, 2, "a dtype and ndim")) != AX_OK)
			return st;
		int dtype = b[0], ndim = b[1];
		if (dtype != 0 || (ndim != 1 && ndim != 2))
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "tensor '%s': dtype %d ndim %d (only f32 = 0, "
					   "ndim 1 or 2)", fe[k].name, dtype, ndim);
		if ((st = rd(r, b, 8 * (uint64_t)ndim, "tensor dims")) != AX_OK)
			return st;
		fe[k].rows = (int64_t)get(b, 8);
		fe[k].cols = ndim == 2 ? (int64_t)get(b + 8, 8) : 1;
		if ((st = rd(r, b, 20, "a tensor offset, length and CRC")) != AX_OK)
			return st;
		fe[k].off = get(b, 8);
		fe[k].len = get(b + 8, 8);
		fe[k].crc = (uint32_t)get(b + 16, 4);
		fe[k].match = -1;
	}
	return AX_OK;
}

/* Matches the file's table to the caller's entries; names the first
 * mismatch. */
static enum ax_status match_table(const char *path, struct file_entry *fe,
				  int64_t count,
				  const struct ax_weights_entry *e, int64_t n,
				  struct ax_diag *d)
{
	bool *seen = calloc((size_t)n + 1, sizeof *seen);
	if (!seen)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	enum ax_status st = AX_OK;
	for (int64_t k = 0; k < count && st == AX_OK; k++) {
		int64_t j = find_name(e, n, fe[k].name, k);
		if (j < 0) {
			if (k < n && !file_has(fe, count, e[k].name))
				st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
						 "tensor #%" PRId64 " is '%s' in the file "
						 "but the model expects '%s'", k,
						 fe[k].name, e[k].name);
			else
				st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
						 "the file has tensor '%s', which the "
						 "model does not", fe[k].name);
		} else if (seen[j]) {
			st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					 "tensor '%s' appears twice in the file",
					 fe[k].name);
		} else if (fe[k].rows != e[j].rows || fe[k].cols != e[j].cols) {
			st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					 "tensor '%s' has shape (%" PRId64 ", %" PRId64
					 ") in the file but the model expects (%" PRId64
					 ", %" PRId64 ")", fe[k].name, fe[k].rows,
					 fe[k].cols, e[j].rows, e[j].cols);
		} else {
			seen[j] = true;
			fe[k].match = j;
		}
	}
	for (int64_t j = 0; j < n && st == AX_OK; j++)
		if (!seen[j])
			st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					 "tensor '%s' is missing from the file",
					 e[j].name);
	free(seen);
	return st;
}

/* Reads and CRC-checks each tensor's data into the caller's buffer. */
static enum ax_status read_fail(struct reader *r, const struct file_entry *x)
{
	return ax_diag_set(r->d, AX_ERR_IO, r->path, 0, 0,
			   "cannot read tensor '%s': %s", x->name,
			   ferror(r->f) ? strerror(errno) : "unexpected end of file");
}

/* Tensor x into dst (rows*cols floats); *crc gets its CRC. */
static enum ax_status read_whole(struct reader *r, const struct file_entry *x,
				 float *dst, uint32_t *crc)
{
	if (x->len && fread(dst, 1, x->len, r->f) != x->len)
		return read_fail(r, x);
	*crc = ax_crc32(0, dst, x->len);
	return AX_OK;
}

/* Tensor x in blocks of whole rows through to->sink (weights.h). */
static enum ax_status read_blocks(struct reader *r, const struct file_entry *x,
				  const struct ax_weights_entry *to, uint32_t *crc)
{
	int64_t cols = x->cols > 0 ? x->cols : 1;
	int64_t per = AX_WEIGHTS_SINK_FLOATS / cols > 0 ?
		      AX_WEIGHTS_SINK_FLOATS / cols : 1;
	float *buf = malloc((size_t)(per * cols) * sizeof *buf);   /* (per, cols) */
	if (!buf)
		return ax_diag_set(r->d, AX_ERR_NOMEM, r->path, 0, 0, "out of memory");
	*crc = 0;
	for (int64_t r0 = 0; r0 < x->rows; r0 += per) {
		int64_t n = x->rows - r0 < per ? x->rows - r0 : per;
		size_t bytes = (size_t)(n * cols) * sizeof *buf;
		if (fread(buf, 1, bytes, r->f) != bytes) {
			free(buf);
			return read_fail(r, x);
		}
		*crc = ax_crc32(*crc, buf, bytes);
		to->sink(to->ctx, r0, n, buf);
	}
	free(buf);
	return AX_OK;
}

static enum ax_status read_data(struct reader *r, const struct file_entry *fe,
				int64_t count, const struct ax_weights_entry *e,
				uint64_t data_start)
{
	for (int64_t k = 0; k < count; k++) {
		const struct file_entry *x = &fe[k];
		float *dst = e[x->match].data;
		uint64_t want = (uint64_t)(x->rows * x->cols) * 4;
		if (x->len != want)
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "tensor '%s': %" PRIu64 " data bytes for shape "
					   "(%" PRId64 ", %" PRId64 ")", x->name, x->len,
					   x->rows, x->cols);
		if (x->off % AX_WEIGHTS_ALIGN || x->off < data_start)
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "tensor '%s': bad data offset %" PRIu64,
					   x->name, x->off);
		if (x->off > r->size || x->len > r->size - x->off)
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "truncated: tensor '%s' needs bytes [%" PRIu64
					   ", %" PRIu64 "), the file has %" PRIu64,
					   x->name, x->off, x->off + x->len, r->size);
		if (fseeko(r->f, (off_t)x->off, SEEK_SET) != 0)
			return ax_diag_set(r->d, AX_ERR_IO, r->path, 0, 0,
					   "cannot seek to tensor '%s': %s", x->name,
					   strerror(errno));
		const struct ax_weights_entry *to = &e[x->match];
		uint32_t crc = 0;
		enum ax_status st = to->sink ?
			read_blocks(r, x, to, &crc) : read_whole(r, x, dst, &crc);
		if (st != AX_OK)
			return st;
		if (crc != x->crc)
			return ax_diag_set(r->d, AX_ERR_FORMAT, r->path, 0, 0,
					   "tensor '%s': data CRC %08" PRIx32 " but the "
					   "table says %08" PRIx32 " (corrupt file)",
					   x->name, crc, x->crc);
	}
	return AX_OK;
}

enum ax_status ax_weights_load(const char *path,
			       const struct ax_weights_entry *e, int64_t n,
			       struct ax_diag *d)
{
	enum ax_status st;
	struct file_entry *fe = NULL;
	int64_t count = 0;
	struct reader r = { .path = path, .d = d };
	struct stat sb;

	r.f = fopen(path, "rb");
	if (!r.f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
				   "cannot open weights file: %s", strerror(errno));
	if (fstat(fileno(r.f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		st = ax_diag_set(d, AX_ERR_IO, path, 0, 0,
				 "not a regular file");
		goto close_file;
	}
	r.size = (uint64_t)sb.st_size;

	unsigned char b[FIXED_HEADER];
	if ((st = rd(&r, b, FIXED_HEADER, "the fixed header")) != AX_OK)
		goto close_file;
	if (memcmp(b, AX_WEIGHTS_MAGIC, 4) != 0) {
		st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				 "not an archex weights file (bad magic, want "
				 "\"" AX_WEIGHTS_MAGIC "\")");
		goto close_file;
	}
	uint32_t version = (uint32_t)get(b + 4, 4);
	if (version != AX_WEIGHTS_VERSION) {
		st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				 "weights format version %" PRIu32 ", this build "
				 "reads version %u; regenerate the file",
				 version, AX_WEIGHTS_VERSION);
		goto close_file;
	}
	uint64_t cnt = get(b + 8, 4);
	/* every entry takes at least MIN_ENTRY bytes: bound the allocation */
	if (cnt > AX_WEIGHTS_MAX_TENSORS ||
	    cnt > (r.size - FIXED_HEADER) / MIN_ENTRY) {
		st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				 "truncated or corrupt: a table of %" PRIu64
				 " tensors cannot fit %" PRIu64 " bytes", cnt, r.size);
		goto close_file;
	}
	count = (int64_t)cnt;
	fe = calloc((size_t)count + 1, sizeof *fe);
	if (!fe) {
		st = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
		goto close_file;
	}
	if ((st = read_table(&r, fe, count)) != AX_OK)
		goto free_table;
	uint32_t computed = r.crc;
	unsigned char cb[4];
	if ((st = rd(&r, cb, 4, "the header CRC")) != AX_OK)
		goto free_table;
	if ((uint32_t)get(cb, 4) != computed) {
		st = ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				 "header CRC mismatch (stored %08" PRIx32 ", computed %08"
				 PRIx32 "): corrupt file", (uint32_t)get(cb, 4), computed);
		goto free_table;
	}
	if ((st = match_table(path, fe, count, e, n, d)) != AX_OK)
		goto free_table;
	st = read_data(&r, fe, count, e, r.pos);

free_table:
	for (int64_t k = 0; k < count; k++)
		free(fe[k].name);
	free(fe);
close_file:
	fclose(r.f);
	return st;
}
