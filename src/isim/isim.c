/*
 * isim.c - the soft ISIM store of isim.h on SQLite.
 *
 * One table, one row per IMPI:
 *
 *	isim(impi TEXT PRIMARY KEY, impu, realm,
 *	     k BLOB(16), opc BLOB(16), amf BLOB(2),
 *	     seq BLOB(AKA_IND_SLOTS * 8))   -- SEQ per IND slot, big-endian
 *
 * The file is created 0600 (its directory 0700) before SQLite opens it:
 * the WAL and -shm files take its mode.  It runs in WAL mode with a busy
 * timeout so that the CLI and a running role can share it, and with
 * secure_delete so that a removed K does not linger in free pages.
 *
 * An authentication is BEGIN IMMEDIATE; read K, OPc, SQN state; run the
 * card (aka_usim_authenticate); write the new SQN state; COMMIT -- all
 * before the answer is made, so that a challenge the card accepted can
 * never be accepted again, even across a crash or by a second process on
 * the same file.  The mutex makes a handle safe to share between threads
 * (each call holds it throughout); SQLite's locking covers processes.
 *
 * Secrets: K and OPc are bound with SQLITE_STATIC from buffers that are
 * wiped once the statement's bindings are cleared; RES, CK and IK live on
 * the stack only until the password is derived, and are wiped then.
 */
#include "isim/isim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/fs.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/wims.h"

#define ISIM_SCHEMA_VERSION 1
#define SEQ_BLOB_LEN (AKA_IND_SLOTS * 8)
/* The highest SEQ: SQN is 48 bits, the low AKA_IND_BITS are IND. */
#define ISIM_SEQ_MAX (AKA_SQN_MAX >> AKA_IND_BITS)

static const char schema_v1[] = "CREATE TABLE IF NOT EXISTS isim ("
				"  impi TEXT PRIMARY KEY,"
				"  impu TEXT NOT NULL,"
				"  realm TEXT NOT NULL,"
				"  k BLOB NOT NULL,"
				"  opc BLOB NOT NULL,"
				"  amf BLOB NOT NULL,"
				"  seq BLOB NOT NULL);";

/* X(ID, "SQL"): every statement, prepared once per handle. */
#define ISIM_SQL(X)                                                                          \
	X(BEGIN, "BEGIN IMMEDIATE")                                                          \
	X(COMMIT, "COMMIT")                                                                  \
	X(ROLLBACK, "ROLLBACK")                                                              \
	/* A new K means a new card: its SQN state starts again at zero. */                  \
	X(PUT, "INSERT INTO isim (impi, impu, realm, k, opc, amf, seq) "                     \
	       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(impi) DO UPDATE SET "        \
	       "impu = excluded.impu, realm = excluded.realm, opc = excluded.opc, "          \
	       "amf = excluded.amf, "                                                        \
	       "seq = CASE WHEN isim.k = excluded.k THEN isim.seq ELSE excluded.seq END, "   \
	       "k = excluded.k")                                                             \
	X(GET_PUBLIC, "SELECT impi, impu, realm FROM isim WHERE impi = ?")                   \
	X(GET_SECRET, "SELECT k, opc, amf, seq FROM isim WHERE impi = ?")                    \
	X(SET_SEQ, "UPDATE isim SET seq = ? WHERE impi = ?")                                 \
	X(REMOVE, "DELETE FROM isim WHERE impi = ?")                                         \
	X(LIST, "SELECT impi, impu, realm FROM isim ORDER BY impi")

enum isim_sql {
#define ISIM_SQL_ENUM_(id, sql) SQL_##id,
	ISIM_SQL(ISIM_SQL_ENUM_)
#undef ISIM_SQL_ENUM_
	SQL_COUNT_
};

static const char *const sql_text[SQL_COUNT_] = {
#define ISIM_SQL_TEXT_(id, sql) [SQL_##id] = sql,
	ISIM_SQL(ISIM_SQL_TEXT_)
#undef ISIM_SQL_TEXT_
};

struct isim {
	pthread_mutex_t mu;
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT_];
};

static int db_error(struct isim *is, const char *what)
{
	WIMS_ERROR("isim", "%s: %s", what, sqlite3_errmsg(is->db));
	return WIMS_ESTORE;
}

/* The cached statement, reset and unbound, or NULL (logged). */
static sqlite3_stmt *stmt_get(struct isim *is, enum isim_sql id)
{
	sqlite3_stmt *s = is->stmt[id];
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(is->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK) {
		db_error(is, sql_text[id]);
		return NULL;
	}
	is->stmt[id] = s;
	return s;
}

/* Done with a statement: reset it (no read lock held) and drop its
 * bindings (no pointer to a secret buffer about to be wiped). */
static int stmt_done(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Step a statement that returns no rows. */
static int stmt_exec(struct isim *is, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return stmt_done(s, 0);
	return stmt_done(s, db_error(is, sqlite3_sql(s)));
}

static int exec_id(struct isim *is, enum isim_sql id)
{
	sqlite3_stmt *s = stmt_get(is, id);
	return s ? stmt_exec(is, s) : WIMS_ESTORE;
}

/* A string within max bytes with its NUL, non-empty. */
static bool text_ok(const char *s, size_t max)
{
	return s && *s && strnlen(s, max) < max;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : WIMS_ESTORE;
}

static int bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC) == SQLITE_OK ? 0 : WIMS_ESTORE;
}

static int col_copy(sqlite3_stmt *s, int i, char *dst, size_t dstsz)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	if (!v || n >= dstsz) {
		dst[0] = '\0';
		return WIMS_ESTORE;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* A blob column of exactly n bytes into dst. */
static int col_blob(sqlite3_stmt *s, int i, void *dst, size_t n)
{
	const void *v = sqlite3_column_blob(s, i);
	if (!v || (size_t)sqlite3_column_bytes(s, i) != n)
		return WIMS_ESTORE;
	memcpy(dst, v, n);
	return 0;
}

static void seq_encode(const struct aka_sqn_state *st, uint8_t out[SEQ_BLOB_LEN])
{
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		for (unsigned b = 0; b < 8; b++)
			out[i * 8 + b] = (uint8_t)(st->seq[i] >> (56 - 8 * b));
}

static void seq_decode(const uint8_t in[SEQ_BLOB_LEN], struct aka_sqn_state *st)
{
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++) {
		uint64_t v = 0;
		for (unsigned b = 0; b < 8; b++)
			v = (v << 8) | in[i * 8 + b];
		st->seq[i] = v;
	}
}

static int schema_init(struct isim *is, char *err, size_t errsz, const char *path)
{
	sqlite3_stmt *v = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(is->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK &&
	    sqlite3_step(v) == SQLITE_ROW)
		version = sqlite3_column_int(v, 0);
	sqlite3_finalize(v);
	if (version < 0) {
		snprintf(err, errsz, "%s: %s", path, sqlite3_errmsg(is->db));
		return WIMS_ESTORE;
	}
	if (version > ISIM_SCHEMA_VERSION) {
		snprintf(err, errsz, "%s: ISIM schema version %d is newer than this wims (%d)",
			 path, version, ISIM_SCHEMA_VERSION);
		return WIMS_ESTORE;
	}
	if (version == ISIM_SCHEMA_VERSION)
		return 0;
	char *msg = NULL;
	int rc = sqlite3_exec(is->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(is->db, schema_v1, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(is->db, "PRAGMA user_version = 1; COMMIT", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg : sqlite3_errmsg(is->db));
		sqlite3_free(msg);
		sqlite3_exec(is->db, "ROLLBACK", NULL, NULL, NULL);
		return WIMS_ESTORE;
	}
	return 0;
}

struct isim *isim_open(const char *path, char *err, size_t errsz)
{
	if (!path || !*path) {
		snprintf(err, errsz, "no ISIM store path");
		return NULL;
	}
	if (fs_make_parent_dirs(path, 0700)) {
		snprintf(err, errsz, "%s: cannot create its directory: %s", path,
			 strerror(errno));
		return NULL;
	}
	/* Created owner-only before SQLite sees it: it holds K and OPc. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	struct isim *is = calloc(1, sizeof(*is));
	if (!is) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&is->mu, NULL);
	int rc = sqlite3_open_v2(path, &is->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path,
			 is->db ? sqlite3_errmsg(is->db) : sqlite3_errstr(rc));
		isim_close(is);
		return NULL;
	}
	sqlite3_busy_timeout(is->db, WIMS_STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(is->db, 1);
	char *msg = NULL;
	rc = sqlite3_exec(is->db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			  "PRAGMA secure_delete=ON;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg : sqlite3_errmsg(is->db));
		sqlite3_free(msg);
		isim_close(is);
		return NULL;
	}
	if (schema_init(is, err, errsz, path)) {
		isim_close(is);
		return NULL;
	}
	return is;
}

void isim_close(struct isim *is)
{
	if (!is)
		return;
	for (int i = 0; i < SQL_COUNT_; i++)
		sqlite3_finalize(is->stmt[i]);
	sqlite3_close(is->db);
	pthread_mutex_destroy(&is->mu);
	free(is);
}

int isim_put(struct isim *is, const struct isim_entry *e)
{
	if (!is || !e || !text_ok(e->impi, sizeof(e->impi)) ||
	    !text_ok(e->impu, sizeof(e->impu)) || !text_ok(e->realm, sizeof(e->realm)))
		return WIMS_EINVAL;
	uint8_t zero[SEQ_BLOB_LEN] = {0};
	pthread_mutex_lock(&is->mu);
	int rc = WIMS_ESTORE;
	sqlite3_stmt *s = stmt_get(is, SQL_PUT);
	if (s) {
		rc = bind_text(s, 1, e->impi);
		rc = rc ? rc : bind_text(s, 2, e->impu);
		rc = rc ? rc : bind_text(s, 3, e->realm);
		rc = rc ? rc : bind_blob(s, 4, e->keys.k, sizeof(e->keys.k));
		rc = rc ? rc : bind_blob(s, 5, e->keys.opc, sizeof(e->keys.opc));
		rc = rc ? rc : bind_blob(s, 6, e->amf, sizeof(e->amf));
		rc = rc ? rc : bind_blob(s, 7, zero, sizeof(zero));
		rc = rc ? stmt_done(s, rc) : stmt_exec(is, s);
	}
	pthread_mutex_unlock(&is->mu);
	return rc;
}

/* The public columns of the row s is on. */
static int row_public(sqlite3_stmt *s, struct isim_entry *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->impi, sizeof(out->impi));
	rc = rc ? rc : col_copy(s, 1, out->impu, sizeof(out->impu));
	return rc ? rc : col_copy(s, 2, out->realm, sizeof(out->realm));
}

int isim_get_public(struct isim *is, const char *impi, struct isim_entry *out)
{
	if (!is || !out)
		return WIMS_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!text_ok(impi, WIMS_IMPI_MAX))
		return WIMS_ENOTFOUND;
	pthread_mutex_lock(&is->mu);
	int rc = WIMS_ESTORE;
	sqlite3_stmt *s = stmt_get(is, SQL_GET_PUBLIC);
	if (s && !bind_text(s, 1, impi)) {
		int step = sqlite3_step(s);
		if (step == SQLITE_ROW)
			rc = row_public(s, out);
		else if (step == SQLITE_DONE)
			rc = WIMS_ENOTFOUND;
		else
			rc = db_error(is, "isim get");
		stmt_done(s, 0);
	}
	pthread_mutex_unlock(&is->mu);
	return rc;
}

int isim_remove(struct isim *is, const char *impi)
{
	if (!is)
		return WIMS_EINVAL;
	if (!text_ok(impi, WIMS_IMPI_MAX))
		return WIMS_ENOTFOUND;
	pthread_mutex_lock(&is->mu);
	int rc = WIMS_ESTORE;
	sqlite3_stmt *s = stmt_get(is, SQL_REMOVE);
	if (s && !bind_text(s, 1, impi)) {
		rc = stmt_exec(is, s);
		if (!rc && sqlite3_changes(is->db) == 0)
			rc = WIMS_ENOTFOUND;
	}
	pthread_mutex_unlock(&is->mu);
	return rc;
}

int isim_set_seq(struct isim *is, const char *impi, uint64_t seq)
{
	if (!is || seq > ISIM_SEQ_MAX)
		return WIMS_EINVAL;
	if (!text_ok(impi, WIMS_IMPI_MAX))
		return WIMS_ENOTFOUND;
	struct aka_sqn_state st;
	for (unsigned i = 0; i < AKA_IND_SLOTS; i++)
		st.seq[i] = seq;
	uint8_t blob[SEQ_BLOB_LEN];
	seq_encode(&st, blob);
	pthread_mutex_lock(&is->mu);
	int rc = WIMS_ESTORE;
	sqlite3_stmt *s = stmt_get(is, SQL_SET_SEQ);
	if (s && !bind_blob(s, 1, blob, sizeof(blob)) && !bind_text(s, 2, impi)) {
		rc = stmt_exec(is, s);
		if (!rc && sqlite3_changes(is->db) == 0)
			rc = WIMS_ENOTFOUND;
	}
	pthread_mutex_unlock(&is->mu);
	return rc;
}

/* Rows are copied out first and fn called without the lock, so that fn
 * may call back into this store. */
int isim_list(struct isim *is, isim_fn fn, void *arg)
{
	if (!is || !fn)
		return WIMS_EINVAL;
	struct isim_entry *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	pthread_mutex_lock(&is->mu);
	sqlite3_stmt *s = stmt_get(is, SQL_LIST);
	if (!s)
		rc = WIMS_ESTORE;
	while (!rc) {
		int step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = db_error(is, "isim list");
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct isim_entry *more = realloc(rows, ncap * sizeof(*rows));
			if (!more) {
				rc = WIMS_ENOMEM;
				break;
			}
			rows = more;
			cap = ncap;
		}
		rc = row_public(s, &rows[n]);
		if (!rc)
			n++;
	}
	if (s)
		stmt_done(s, 0);
	pthread_mutex_unlock(&is->mu);
	for (size_t i = 0; !rc && i < n; i++)
		rc = fn(arg, &rows[i]);
	free(rows);
	return rc;
}

/* Inside the caller's transaction: the card's secrets and SQN state. */
static int load_card(struct isim *is, const char *impi, struct aka_keys *keys,
		     struct aka_sqn_state *st)
{
	sqlite3_stmt *s = stmt_get(is, SQL_GET_SECRET);
	if (!s || bind_text(s, 1, impi))
		return WIMS_ESTORE;
	int rc;
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		uint8_t amf[AKA_AMF_LEN], blob[SEQ_BLOB_LEN];
		rc = col_blob(s, 0, keys->k, sizeof(keys->k));
		rc = rc ? rc : col_blob(s, 1, keys->opc, sizeof(keys->opc));
		rc = rc ? rc : col_blob(s, 2, amf, sizeof(amf));
		rc = rc ? rc : col_blob(s, 3, blob, sizeof(blob));
		if (!rc)
			seq_decode(blob, st);
		else
			WIMS_ERROR("isim", "%s: malformed row", impi);
	} else if (step == SQLITE_DONE) {
		rc = WIMS_ENOTFOUND;
	} else {
		rc = db_error(is, "isim load");
	}
	return stmt_done(s, rc);
}

static int store_seq(struct isim *is, const char *impi, const struct aka_sqn_state *st)
{
	uint8_t blob[SEQ_BLOB_LEN];
	seq_encode(st, blob);
	sqlite3_stmt *s = stmt_get(is, SQL_SET_SEQ);
	if (!s || bind_blob(s, 1, blob, sizeof(blob)) || bind_text(s, 2, impi))
		return s ? stmt_done(s, WIMS_ESTORE) : WIMS_ESTORE;
	return stmt_exec(is, s);
}

/* The AUTHENTICATE command inside one write transaction; fills out.  The
 * mutex is held. */
static int authenticate_locked(struct isim *is, const char *impi,
			       const uint8_t rand[AKA_RAND_LEN],
			       const uint8_t autn[AKA_AUTN_LEN], struct isim_answer *out)
{
	struct aka_keys keys;
	struct aka_sqn_state st;
	struct aka_usim_out card;
	memset(&card, 0, sizeof(card));
	int rc = exec_id(is, SQL_BEGIN);
	if (rc)
		return rc;
	rc = load_card(is, impi, &keys, &st);
	int result = 0;
	if (!rc) {
		result = aka_usim_authenticate(&keys, &st, rand, autn, &card);
		if (result < 0)
			rc = result;
	}
	OPENSSL_cleanse(&keys, sizeof(keys));
	/* The new SQN is stored and committed before any answer exists. */
	if (!rc && result == AKA_OK)
		rc = store_seq(is, impi, &st);
	if (!rc)
		rc = exec_id(is, SQL_COMMIT);
	else
		exec_id(is, SQL_ROLLBACK);
	if (!rc) {
		switch (result) {
		case AKA_OK:
			out->outcome = ISIM_PASSWORD;
			rc = aka_digest_password(AKA_V2_SHA256, card.res, sizeof(card.res),
						 card.ik, card.ck, out->password,
						 sizeof(out->password), &out->password_len);
			break;
		case AKA_SYNC_FAILURE: {
			out->outcome = ISIM_RESYNC;
			int n = aka_auts_encode(card.auts, out->auts, sizeof(out->auts));
			rc = n < 0 ? n : 0;
			break;
		}
		case AKA_MAC_FAILURE:
			out->outcome = ISIM_NETWORK_REJECTED;
			break;
		default:
			rc = WIMS_EINVAL;
			break;
		}
	}
	OPENSSL_cleanse(&card, sizeof(card));
	return rc;
}

int isim_authenticate(struct isim *is, const char *impi, enum aka_version v, struct slice nonce,
		      struct isim_answer *out)
{
	if (!is || !out)
		return WIMS_EINVAL;
	memset(out, 0, sizeof(*out));
	/* TS 33.203 Annex X: the page gets the AKAv2 password only.  AKAv1's
	 * password is RES itself, which would let the page answer for the
	 * card wherever RES is accepted. */
	if (v != AKA_V2_SHA256)
		return WIMS_EUNSUPPORTED;
	if (!nonce.p || nonce.len > AKA_NONCE_MAX)
		return WIMS_EPARSE;
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	int rc = aka_nonce_decode(nonce, rand, autn);
	if (rc)
		return rc < 0 ? rc : WIMS_EPARSE;
	if (!text_ok(impi, WIMS_IMPI_MAX))
		return WIMS_ENOTFOUND;
	pthread_mutex_lock(&is->mu);
	rc = authenticate_locked(is, impi, rand, autn, out);
	pthread_mutex_unlock(&is->mu);
	if (rc)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}
