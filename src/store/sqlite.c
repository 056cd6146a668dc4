/*
 * sqlite.c - the SQLite back end of store.h (the embedded default).
 *
 * One struct store is one SQLite connection used by one thread, opened in
 * WAL mode (readers never block the writer; several processes may share
 * the file) with a busy timeout, foreign keys on and synchronous=NORMAL
 * (durable at each checkpoint, safe against corruption; a power cut may
 * lose the last commits, which for registrations means a re-REGISTER).
 *
 * Statements are prepared on first use and cached per handle, indexed by
 * the STORE_SQL table below, so each call is bind/step/reset.  Writes that
 * take several statements run inside a SAVEPOINT, which nests inside a
 * caller's store_begin() transaction or stands alone.
 *
 * The schema version is PRAGMA user_version; a file from a newer wims is
 * refused rather than guessed at.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/digest.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/wims.h"
#include "store/store.h"

/* Version 1.  The tables at the end are created empty for later work;
 * their columns say what they will hold. */
static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS subscriber ("
	"  impi TEXT PRIMARY KEY,"
	"  realm TEXT NOT NULL,"
	/* H(A1) per algorithm, lower-case hex; never the password. */
	"  ha1_md5 TEXT NOT NULL DEFAULT '',"
	"  ha1_sha256 TEXT NOT NULL DEFAULT '',"
	"  schemes INTEGER NOT NULL DEFAULT 1,"
	"  barred INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  scscf_name TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS impu ("
	"  impu TEXT PRIMARY KEY,"
	"  impi TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,"
	"  barred INTEGER NOT NULL DEFAULT 0,"
	"  irs_id INTEGER NOT NULL,"
	"  service_profile TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS impu_by_impi ON impu(impi, irs_id);"
	"CREATE INDEX IF NOT EXISTS impu_by_irs ON impu(irs_id);"
	/* S-CSCF bindings; no foreign key, so the cscf may keep them in a
	 * file of its own. */
	"CREATE TABLE IF NOT EXISTS binding ("
	"  impu TEXT NOT NULL,"
	"  contact TEXT NOT NULL,"
	"  path TEXT NOT NULL DEFAULT '',"
	"  instance_id TEXT NOT NULL DEFAULT '',"
	"  reg_id INTEGER NOT NULL DEFAULT 0,"
	"  expires INTEGER NOT NULL,"
	"  call_id TEXT NOT NULL DEFAULT '',"
	"  cseq INTEGER NOT NULL DEFAULT 0,"
	"  received TEXT NOT NULL DEFAULT '',"
	/* The WWSF a TNA registration came through (P-WWSF-Identity),
	 * "" for Digest and AKA: `wims hss wwsf-block` removes its rows. */
	"  wwsf TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (impu, contact));"
	"CREATE INDEX IF NOT EXISTS binding_by_expiry ON binding(expires);"
	"CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO counter VALUES ('irs', 0);"
	/* Digest AKA: K and OPc are 16 bytes, AMF 2, SQN 48 bits (the last
	 * one handed out), ind the IND slot of the next vector. */
	"CREATE TABLE IF NOT EXISTS aka ("
	"  impi TEXT PRIMARY KEY REFERENCES subscriber(impi) ON DELETE CASCADE,"
	"  k BLOB NOT NULL, opc BLOB NOT NULL, amf BLOB NOT NULL,"
	"  sqn INTEGER NOT NULL DEFAULT 0,"
	"  ind INTEGER NOT NULL DEFAULT 0);"
	/* TR 33.871 REQ 2.1: the WWSFs a subscriber allows to register it. */
	"CREATE TABLE IF NOT EXISTS wwsf_allowed ("
	"  impi TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,"
	"  wwsf_id TEXT NOT NULL,"
	"  PRIMARY KEY (impi, wwsf_id));"
	/* TR 33.871 REQ 3.1, 3.2: IMPIs of a pool owned by one WWSF. */
	"CREATE TABLE IF NOT EXISTS wwsf_pool ("
	"  wwsf_id TEXT NOT NULL,"
	"  impi TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,"
	"  PRIMARY KEY (wwsf_id, impi));";

/*
 * The TNA tables beside wwsf_allowed and wwsf_pool (TR 33.871 REQ 2.2,
 * 2.5, 3.2), run on every new file and on older version-1 files that lack
 * them.  Version 1 files had an empty web_identity table of another shape
 * (web_id, wwsf_id, impi), which nothing ever wrote: it is dropped and
 * made again (web_identity_v0 tells the two apart by the idp column).
 *
 * web_identity: a link of a web identity to an IMPU; code_hash is the
 * SHA-256 of the pending one-time code (NULL once confirmed).  The IMPU
 * and IMPI references cascade: a removed identity takes its links along.
 */
static const char tna_sql[] =
	"CREATE UNIQUE INDEX IF NOT EXISTS wwsf_pool_by_impi ON wwsf_pool(impi);"
	"CREATE TABLE IF NOT EXISTS wwsf_block ("
	"  wwsf_id TEXT PRIMARY KEY,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  since INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS web_identity ("
	"  web_id TEXT NOT NULL,"
	"  idp TEXT NOT NULL,"
	"  impu TEXT NOT NULL REFERENCES impu(impu) ON DELETE CASCADE,"
	"  impi TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,"
	"  wwsf_grant TEXT NOT NULL DEFAULT '',"
	"  confirmed INTEGER NOT NULL DEFAULT 0,"
	"  code_hash BLOB,"
	"  code_expires INTEGER NOT NULL DEFAULT 0,"
	"  tries INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (web_id, idp, impu));"
	"CREATE INDEX IF NOT EXISTS web_identity_by_code ON web_identity(code_hash) "
	"  WHERE code_hash IS NOT NULL;";

/*
 * The HSS data version (store_hss_version): a counter every change of a
 * subscriber or impu row bumps, by trigger, so that whichever connection
 * or process writes (`wims hss passwd`, an import, the sqlite3 shell, an
 * older wims), a cache in front of these tables sees it.  Added to any
 * version-1 file that lacks it; older binaries run the triggers too.
 */
#define HSS_BUMP "BEGIN UPDATE counter SET value = value + 1 WHERE name = 'hss'; END;"
static const char hss_version_sql[] =
	"INSERT OR IGNORE INTO counter VALUES ('hss', 0);"
	"CREATE TRIGGER IF NOT EXISTS hss_v_sub_ins AFTER INSERT ON subscriber " HSS_BUMP
	"CREATE TRIGGER IF NOT EXISTS hss_v_sub_upd AFTER UPDATE ON subscriber " HSS_BUMP
	"CREATE TRIGGER IF NOT EXISTS hss_v_sub_del AFTER DELETE ON subscriber " HSS_BUMP
	"CREATE TRIGGER IF NOT EXISTS hss_v_impu_ins AFTER INSERT ON impu " HSS_BUMP
	"CREATE TRIGGER IF NOT EXISTS hss_v_impu_upd AFTER UPDATE ON impu " HSS_BUMP
	"CREATE TRIGGER IF NOT EXISTS hss_v_impu_del AFTER DELETE ON impu " HSS_BUMP;
#define HSS_VERSION_TRIGGERS 6

/* The aka table was created empty, without ind, before the AKA work:
 * such a file gets the column on open (older binaries never read it). */
static const char aka_ind_sql[] = "ALTER TABLE aka ADD COLUMN ind INTEGER NOT NULL DEFAULT 0";

/* Likewise the binding table before bindings recorded their WWSF (TR
 * 33.871 REQ 2.2: a block removes the registrations made through it).
 * Older binaries write their rows without it: "", as for Digest.  The
 * index is partial: Digest and AKA rows do not pay for it. */
static const char binding_wwsf_sql[] = "ALTER TABLE binding ADD COLUMN wwsf TEXT NOT NULL DEFAULT ''";
static const char binding_wwsf_index[] =
	"CREATE INDEX IF NOT EXISTS binding_by_wwsf ON binding(wwsf) WHERE wwsf <> ''";

#define SUB_COLS "impi, realm, ha1_md5, ha1_sha256, schemes, barred, created_at, scscf_name"
#define IMPU_COLS "impu, impi, barred, irs_id, service_profile"
#define BIND_COLS                                                                         \
	"impu, contact, path, instance_id, reg_id, expires, call_id, cseq, received, wwsf"
#define AKA_COLS "impi, k, opc, amf, sqn, ind"
#define LINK_COLS                                                                         \
	"web_id, idp, impu, impi, wwsf_grant, confirmed, code_expires, tries, created_at"

/* X(ID, "SQL"): every statement, prepared once per handle. */
#define STORE_SQL(X)                                                                      \
	X(BEGIN, "BEGIN IMMEDIATE")                                                       \
	X(COMMIT, "COMMIT")                                                               \
	X(ROLLBACK, "ROLLBACK")                                                           \
	X(SP_BEGIN, "SAVEPOINT store_op")                                                 \
	X(SP_RELEASE, "RELEASE store_op")                                                 \
	X(SP_ROLLBACK, "ROLLBACK TO store_op")                                            \
	X(SUB_ADD, "INSERT INTO subscriber (" SUB_COLS ") VALUES (?,?,?,?,?,?,?,?)")      \
	X(SUB_GET, "SELECT " SUB_COLS " FROM subscriber WHERE impi = ?")                  \
	X(SUB_DEL, "DELETE FROM subscriber WHERE impi = ?")                               \
	X(SUB_LIST, "SELECT " SUB_COLS " FROM subscriber ORDER BY impi")                  \
	X(SUB_COUNT, "SELECT count(*) FROM subscriber")                                   \
	X(SUB_REALM, "SELECT realm FROM subscriber WHERE impi = ?")                       \
	X(SUB_SET_HA1, "UPDATE subscriber SET ha1_md5 = ?, ha1_sha256 = ? WHERE impi = ?") \
	X(SUB_SET_BARRED, "UPDATE subscriber SET barred = ? WHERE impi = ?")              \
	X(SUB_SET_SCSCF, "UPDATE subscriber SET scscf_name = ? WHERE impi = ?")           \
	X(SUB_SET_SCHEMES, "UPDATE subscriber SET schemes = ? WHERE impi = ?")            \
	X(AKA_PUT, "INSERT INTO aka (impi, k, opc, amf) VALUES (?,?,?,?) "                \
		   "ON CONFLICT (impi) DO UPDATE SET k = excluded.k, opc = excluded.opc, "   \
		   "amf = excluded.amf")                                                  \
	X(AKA_GET, "SELECT " AKA_COLS " FROM aka WHERE impi = ?")                         \
	X(AKA_SET_SQN, "UPDATE aka SET sqn = ? WHERE impi = ?")                           \
	X(AKA_ADVANCE, "UPDATE aka SET sqn = ?, ind = ? WHERE impi = ?")                  \
	X(SUB_BIND_DEL, "DELETE FROM binding WHERE impu IN "                              \
			"(SELECT impu FROM impu WHERE impi = ?)")                         \
	X(IMPU_ADD, "INSERT INTO impu (" IMPU_COLS ") VALUES (?,?,?,?,?)")                \
	X(IMPU_GET, "SELECT " IMPU_COLS " FROM impu WHERE impu = ?")                      \
	X(IMPU_DEL, "DELETE FROM impu WHERE impu = ?")                                    \
	X(IMPU_SET_BARRED, "UPDATE impu SET barred = ? WHERE impu = ?")                   \
	X(IMPU_LIST, "SELECT " IMPU_COLS " FROM impu WHERE impi = ? ORDER BY irs_id, rowid") \
	X(IMPU_FIRST_IRS, "SELECT irs_id FROM impu WHERE impi = ? ORDER BY irs_id LIMIT 1") \
	X(IMPU_IRS_OWNER, "SELECT impi FROM impu WHERE irs_id = ? LIMIT 1")               \
	X(IRS_LIST, "SELECT " IMPU_COLS " FROM impu WHERE irs_id = "                      \
		    "(SELECT irs_id FROM impu WHERE impu = ?) ORDER BY rowid")            \
	X(IRS_NEXT, "UPDATE counter SET value = value + 1 WHERE name = 'irs' "            \
		    "RETURNING value")                                                    \
	X(BIND_DEL_INSTANCE, "DELETE FROM binding WHERE impu = ? AND instance_id = ? "    \
			     "AND reg_id = ? AND contact <> ?")                           \
	X(BIND_PUT, "INSERT OR REPLACE INTO binding (" BIND_COLS ") "                     \
		    "VALUES (?,?,?,?,?,?,?,?,?,?)")                                       \
	X(BIND_DEL, "DELETE FROM binding WHERE impu = ? AND contact = ?")                 \
	X(BIND_DEL_IMPU, "DELETE FROM binding WHERE impu = ?")                            \
	X(BIND_DEL_CONTACT, "DELETE FROM binding WHERE contact = ?")                      \
	X(BIND_LIST, "SELECT " BIND_COLS " FROM binding WHERE impu = ? AND expires > ? "  \
		     "ORDER BY expires, contact")                                         \
	X(BIND_EXPIRE, "DELETE FROM binding WHERE expires <= ?")                          \
	X(BIND_LIVE, "SELECT 1 FROM binding WHERE impu = ? AND expires > ? LIMIT 1")      \
	X(BIND_WWSF_COUNT, "SELECT count(DISTINCT contact), count(*) FROM binding "       \
			   "WHERE wwsf = ?")                                              \
	X(BIND_DEL_WWSF, "DELETE FROM binding WHERE wwsf = ?")                            \
	X(BIND_WWSF_DEREG, "UPDATE subscriber SET scscf_name = '' WHERE scscf_name <> '' " \
			   "AND impi IN (SELECT i.impi FROM binding b JOIN impu i "       \
			   "ON i.impu = b.impu WHERE b.wwsf = ?1) AND NOT EXISTS "        \
			   "(SELECT 1 FROM impu i JOIN binding b ON b.impu = i.impu "     \
			   "WHERE i.impi = subscriber.impi AND b.wwsf <> ?1)")            \
	X(HSS_VERSION, "SELECT value FROM counter WHERE name = 'hss'")                   \
	X(WWSF_ALLOW, "INSERT INTO wwsf_allowed (impi, wwsf_id) VALUES (?,?) "            \
		      "ON CONFLICT DO NOTHING")                                           \
	X(WWSF_DISALLOW, "DELETE FROM wwsf_allowed WHERE impi = ? AND wwsf_id = ?")       \
	X(WWSF_ALLOWED, "SELECT 1 FROM wwsf_allowed WHERE impi = ? AND wwsf_id = ?")      \
	X(WWSF_ALLOWED_ALL, "SELECT wwsf_id, impi FROM wwsf_allowed ORDER BY impi, wwsf_id") \
	X(WWSF_ALLOWED_OF, "SELECT wwsf_id, impi FROM wwsf_allowed WHERE impi = ? "       \
			   "ORDER BY wwsf_id")                                            \
	X(POOL_ADD, "INSERT INTO wwsf_pool (wwsf_id, impi) VALUES (?,?)")                 \
	X(POOL_DEL, "DELETE FROM wwsf_pool WHERE wwsf_id = ? AND impi = ?")               \
	X(POOL_OWNER, "SELECT wwsf_id FROM wwsf_pool WHERE impi = ?")                     \
	X(POOL_ALL, "SELECT wwsf_id, impi FROM wwsf_pool ORDER BY wwsf_id, impi")         \
	X(POOL_OF, "SELECT wwsf_id, impi FROM wwsf_pool WHERE wwsf_id = ? ORDER BY impi") \
	X(BLOCK_PUT, "INSERT INTO wwsf_block (wwsf_id, reason, since) VALUES (?,?,?) "    \
		     "ON CONFLICT (wwsf_id) DO UPDATE SET reason = excluded.reason")      \
	X(BLOCK_DEL, "DELETE FROM wwsf_block WHERE wwsf_id = ?")                          \
	X(BLOCK_GET, "SELECT 1 FROM wwsf_block WHERE wwsf_id = ?")                        \
	X(BLOCK_ALL, "SELECT wwsf_id, reason FROM wwsf_block ORDER BY wwsf_id")           \
	X(LINK_PURGE, "DELETE FROM web_identity WHERE confirmed = 0 AND code_expires <= ?") \
	X(LINK_CONFIRMED_KEY, "SELECT confirmed FROM web_identity "                       \
			      "WHERE web_id = ? AND idp = ? AND impu = ?")                \
	X(LINK_CODE_TAKEN, "SELECT 1 FROM web_identity WHERE code_hash = ? "              \
			   "AND confirmed = 0 AND code_expires > ? "                      \
			   "AND NOT (web_id = ? AND idp = ? AND impu = ?)")               \
	X(LINK_PUT, "INSERT OR REPLACE INTO web_identity (" LINK_COLS ", code_hash) "     \
		    "VALUES (?,?,?,?,?,0,?,0,?,?)")                                       \
	X(LINK_BY_CODE, "SELECT " LINK_COLS " FROM web_identity WHERE code_hash = ? "     \
			"AND confirmed = 0 AND code_expires > ?")                         \
	X(LINK_SET_CONFIRMED, "UPDATE web_identity SET confirmed = 1, code_hash = NULL, " \
			      "code_expires = 0 WHERE web_id = ? AND idp = ? AND impu = ?") \
	X(LINK_OF, "SELECT " LINK_COLS " FROM web_identity WHERE web_id = ? AND idp = ? " \
		   "AND confirmed = 1 ORDER BY impu")                                     \
	X(LINK_DEL, "DELETE FROM web_identity WHERE web_id = ? AND idp = ? AND impu = ?") \
	X(LINK_ALL, "SELECT " LINK_COLS " FROM web_identity ORDER BY web_id, idp, impu")

enum store_sql {
#define STORE_SQL_ENUM_(id, sql) SQL_##id,
	STORE_SQL(STORE_SQL_ENUM_)
#undef STORE_SQL_ENUM_
	SQL_COUNT_
};

static const char *const sql_text[SQL_COUNT_] = {
#define STORE_SQL_TEXT_(id, sql) [SQL_##id] = sql,
	STORE_SQL(STORE_SQL_TEXT_)
#undef STORE_SQL_TEXT_
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT_];
};

static int db_error(struct store *st, const char *what)
{
	WIMS_ERROR("store", "%s: %s", what, sqlite3_errmsg(st->db));
	return WIMS_ESTORE;
}

/* The cached statement, reset and unbound, or NULL (logged). */
static sqlite3_stmt *stmt_get(struct store *st, enum store_sql id)
{
	sqlite3_stmt *s = st->stmt[id];
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK) {
		db_error(st, sql_text[id]);
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

/* Done with a statement: reset it so it holds no read lock. */
static int stmt_done(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	return rc;
}

/* Run a statement that returns no rows; maps constraint errors. */
static int stmt_exec(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return stmt_done(s, 0);
	int ext = sqlite3_extended_errcode(st->db);
	int err;
	if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
		err = WIMS_EEXIST;
	else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
		err = WIMS_ENOTFOUND;
	else
		err = db_error(st, sqlite3_sql(s));
	return stmt_done(s, err);
}

static int exec_id(struct store *st, enum store_sql id)
{
	sqlite3_stmt *s = stmt_get(st, id);
	return s ? stmt_exec(st, s) : WIMS_ESTORE;
}

/* A string argument within max bytes (with its NUL), else ETOOBIG/EINVAL. */
static int arg_ok(const char *s, size_t max)
{
	if (!s)
		return WIMS_EINVAL;
	return strnlen(s, max) < max ? 0 : WIMS_ETOOBIG;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC) == SQLITE_OK ? 0
										      : WIMS_ESTORE;
}

static int col_copy(sqlite3_stmt *s, int i, char *dst, size_t dstsz)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	if (n >= dstsz) {
		dst[0] = '\0';
		return WIMS_ETOOBIG;
	}
	if (n)
		memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* Whether table has column (1), not (0), or -1 on error. */
static int has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", -1,
			       &s, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int aka_has_ind(sqlite3 *db)
{
	return has_column(db, "aka", "ind");
}

static int binding_has_wwsf(sqlite3 *db)
{
	return has_column(db, "binding", "wwsf");
}

/* Whether the file has the TNA tables of tna_sql: wwsf_block, and
 * web_identity with its idp column (1), not (0), or -1 on error. */
static int tna_schema_ok(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM pragma_table_info('web_identity') "
			       "WHERE name = 'idp') + (SELECT count(*) FROM sqlite_master "
			       "WHERE type = 'table' AND name = 'wwsf_block')",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0) == 2;
	sqlite3_finalize(s);
	return n;
}

/* Whether the file has the first, never used web_identity table (no idp
 * column): it is dropped before tna_sql makes the new one. */
static const char web_identity_drop[] = "DROP TABLE web_identity";
static bool web_identity_v0(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	bool old = false;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' "
			       "AND name = 'web_identity'), (SELECT count(*) FROM "
			       "pragma_table_info('web_identity') WHERE name = 'idp')",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		old = sqlite3_column_int(s, 0) == 1 && sqlite3_column_int(s, 1) == 0;
	sqlite3_finalize(s);
	return old;
}

/* How many of the HSS data version triggers the file has (-1: error). */
static int hss_triggers(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
			       "AND name LIKE 'hss\\_v\\_%' ESCAPE '\\'",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

int store_open(const char *path, struct store **out, char *err, size_t errsz)
{
	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errsz, "no store path");
		return WIMS_EINVAL;
	}
	if (strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0) {
		snprintf(err, errsz, "%s: the PostgreSQL store is not built in this version",
			 path);
		return WIMS_EUNSUPPORTED;
	}
	struct store *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errsz, "out of memory");
		return WIMS_ENOMEM;
	}
	int rc = sqlite3_open_v2(path, &st->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		store_close(st);
		return WIMS_EIO;
	}
	sqlite3_busy_timeout(st->db, WIMS_STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	char *msg = NULL;
	rc = sqlite3_exec(st->db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			  "PRAGMA foreign_keys=ON;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto fail;

	sqlite3_stmt *v = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK &&
	    sqlite3_step(v) == SQLITE_ROW)
		version = sqlite3_column_int(v, 0);
	sqlite3_finalize(v);
	if (version < 0) {
		snprintf(err, errsz, "%s: %s", path, sqlite3_errmsg(st->db));
		store_close(st);
		return WIMS_ESTORE;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errsz, "%s: schema version %d is newer than this wims (%d)", path,
			 version, STORE_SCHEMA_VERSION);
		store_close(st);
		return WIMS_ESTORE;
	}
	if (version < STORE_SCHEMA_VERSION) {
		rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, schema_v1, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, hss_version_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, tna_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK && binding_has_wwsf(st->db) == 0)
			rc = sqlite3_exec(st->db, binding_wwsf_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, binding_wwsf_index, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, "PRAGMA user_version = 1; COMMIT", NULL, NULL,
					  &msg);
		if (rc != SQLITE_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	} else if (hss_triggers(st->db) < HSS_VERSION_TRIGGERS || aka_has_ind(st->db) < 1 ||
		   tna_schema_ok(st->db) < 1 || binding_has_wwsf(st->db) < 1) {
		/* A file made before the HSS data version, the IND column,
		 * the TNA tables or the binding's WWSF: add what it lacks
		 * (checked again under the write lock, as another process may
		 * be doing the same). */
		rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, hss_version_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK && aka_has_ind(st->db) == 0)
			rc = sqlite3_exec(st->db, aka_ind_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK && tna_schema_ok(st->db) == 0)
			rc = sqlite3_exec(st->db, web_identity_v0(st->db) ? web_identity_drop : "",
					  NULL, NULL, &msg);
		if (rc == SQLITE_OK && tna_schema_ok(st->db) == 0)
			rc = sqlite3_exec(st->db, tna_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK && binding_has_wwsf(st->db) == 0)
			rc = sqlite3_exec(st->db, binding_wwsf_sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, binding_wwsf_index, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	*out = st;
	return 0;
fail:
	snprintf(err, errsz, "%s: %s", path, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	store_close(st);
	return WIMS_ESTORE;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < SQL_COUNT_; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int store_begin(struct store *st)
{
	return exec_id(st, SQL_BEGIN);
}

int store_commit(struct store *st)
{
	return exec_id(st, SQL_COMMIT);
}

int store_rollback(struct store *st)
{
	return exec_id(st, SQL_ROLLBACK);
}

/* Several statements as one.  Outside a caller's transaction this is
 * BEGIN IMMEDIATE, which takes the write lock up front: a deferred
 * transaction that reads then writes can meet another writer and fail with
 * SQLITE_BUSY without waiting.  Inside one it is a savepoint. */
enum op_mode { OP_TXN, OP_SAVEPOINT };

static int op_begin(struct store *st, enum op_mode *mode)
{
	*mode = sqlite3_get_autocommit(st->db) ? OP_TXN : OP_SAVEPOINT;
	return exec_id(st, *mode == OP_TXN ? SQL_BEGIN : SQL_SP_BEGIN);
}

static int op_end(struct store *st, enum op_mode mode, int rc)
{
	if (mode == OP_TXN) {
		if (rc < 0) {
			exec_id(st, SQL_ROLLBACK);
			return rc;
		}
		int r = exec_id(st, SQL_COMMIT);
		return r ? r : rc;
	}
	if (rc < 0) {
		exec_id(st, SQL_SP_ROLLBACK);
		exec_id(st, SQL_SP_RELEASE);
		return rc;
	}
	int r = exec_id(st, SQL_SP_RELEASE);
	return r ? r : rc;
}

/* --- subscribers --- */

static bool hex_ok(const char *h, size_t want)
{
	size_t n = strlen(h);
	if (n == 0)
		return true;
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

static int row_subscriber(sqlite3_stmt *s, struct store_subscriber *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->impi, sizeof(out->impi));
	if (!rc)
		rc = col_copy(s, 1, out->realm, sizeof(out->realm));
	if (!rc)
		rc = col_copy(s, 2, out->ha1_md5, sizeof(out->ha1_md5));
	if (!rc)
		rc = col_copy(s, 3, out->ha1_sha256, sizeof(out->ha1_sha256));
	out->schemes = (unsigned)sqlite3_column_int(s, 4);
	out->barred = sqlite3_column_int(s, 5) != 0;
	out->created_at = sqlite3_column_int64(s, 6);
	if (!rc)
		rc = col_copy(s, 7, out->scscf_name, sizeof(out->scscf_name));
	return rc;
}

int store_subscriber_add(struct store *st, const struct store_subscriber *sub)
{
	int rc;
	if ((rc = arg_ok(sub->impi, sizeof(sub->impi))) ||
	    (rc = arg_ok(sub->realm, sizeof(sub->realm))) ||
	    (rc = arg_ok(sub->ha1_md5, sizeof(sub->ha1_md5))) ||
	    (rc = arg_ok(sub->ha1_sha256, sizeof(sub->ha1_sha256))) ||
	    (rc = arg_ok(sub->scscf_name, sizeof(sub->scscf_name))))
		return rc;
	if (!sub->impi[0] || !sub->realm[0] || !hex_ok(sub->ha1_md5, DIGEST_MD5_HEX_LEN) ||
	    !hex_ok(sub->ha1_sha256, DIGEST_SHA256_HEX_LEN))
		return WIMS_EINVAL;
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_ADD);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, sub->impi);
	bind_text(s, 2, sub->realm);
	bind_text(s, 3, sub->ha1_md5);
	bind_text(s, 4, sub->ha1_sha256);
	sqlite3_bind_int(s, 5, sub->schemes ? (int)sub->schemes : STORE_SCHEME_DIGEST);
	sqlite3_bind_int(s, 6, sub->barred);
	sqlite3_bind_int64(s, 7, sub->created_at ? sub->created_at : (int64_t)time(NULL));
	bind_text(s, 8, sub->scscf_name);
	return stmt_exec(st, s);
}

int store_subscriber_get(struct store *st, const char *impi, struct store_subscriber *out)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_GET);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impi);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return stmt_done(s, row_subscriber(s, out));
	if (rc == SQLITE_DONE)
		return stmt_done(s, WIMS_ENOTFOUND);
	return stmt_done(s, db_error(st, "subscriber get"));
}

/* Run a statement bound to one text key; ENOTFOUND if it changed no row. */
static int exec_changed(struct store *st, sqlite3_stmt *s)
{
	int rc = stmt_exec(st, s);
	if (rc)
		return rc;
	return sqlite3_changes(st->db) > 0 ? 0 : WIMS_ENOTFOUND;
}

/* In one transaction: drop the registration bindings that hang on key
 * (bindings_sql), then the row itself (row_sql); WIMS_ENOTFOUND if there
 * was no such row. */
static int remove_with_bindings(struct store *st, enum store_sql bindings_sql,
				enum store_sql row_sql, const char *key)
{
	enum op_mode mode;
	int rc = op_begin(st, &mode);
	if (rc)
		return rc;
	sqlite3_stmt *s = stmt_get(st, bindings_sql);
	rc = s ? 0 : WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, key);
		rc = stmt_exec(st, s);
	}
	if (!rc && !(s = stmt_get(st, row_sql)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, key);
		rc = exec_changed(st, s);
	}
	return op_end(st, mode, rc);
}

int store_subscriber_remove(struct store *st, const char *impi)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	/* IMPUs, AKA data and WWSF links go by ON DELETE CASCADE. */
	return remove_with_bindings(st, SQL_SUB_BIND_DEL, SQL_SUB_DEL, impi);
}

int store_subscriber_list(struct store *st, store_subscriber_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_LIST);
	if (!s)
		return WIMS_ESTORE;
	struct store_subscriber sub;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int r = row_subscriber(s, &sub);
		if (!r)
			r = fn(arg, &sub);
		if (r) {
			OPENSSL_cleanse(&sub, sizeof(sub));
			return stmt_done(s, r);
		}
	}
	OPENSSL_cleanse(&sub, sizeof(sub));
	return stmt_done(s, rc == SQLITE_DONE ? 0 : db_error(st, "subscriber list"));
}

int store_subscriber_count(struct store *st, uint64_t *count)
{
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_COUNT);
	if (!s)
		return WIMS_ESTORE;
	if (sqlite3_step(s) != SQLITE_ROW)
		return stmt_done(s, db_error(st, "subscriber count"));
	*count = (uint64_t)sqlite3_column_int64(s, 0);
	return stmt_done(s, 0);
}

int store_subscriber_set_password(struct store *st, const char *impi, const char *password,
				  size_t password_len)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	if (!password)
		return WIMS_EINVAL;
	char realm[WIMS_IMPI_MAX];
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_REALM);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impi);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return stmt_done(s, rc == SQLITE_DONE ? WIMS_ENOTFOUND
						      : db_error(st, "subscriber realm"));
	rc = stmt_done(s, col_copy(s, 0, realm, sizeof(realm)));
	if (rc)
		return rc;

	char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX];
	struct slice user = slice_from_cstr(impi), r = slice_from_cstr(realm);
	struct slice pw = {password, password_len};
	rc = digest_ha1(DIGEST_ALG_MD5, user, r, pw, md5);
	if (!rc)
		rc = digest_ha1(DIGEST_ALG_SHA256, user, r, pw, sha);
	if (!rc && !(s = stmt_get(st, SQL_SUB_SET_HA1)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, md5);
		bind_text(s, 2, sha);
		bind_text(s, 3, impi);
		rc = exec_changed(st, s);
	}
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return rc;
}

static int set_flag(struct store *st, enum store_sql id, const char *key, size_t max, int v)
{
	int rc = arg_ok(key, max);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int(s, 1, v);
	bind_text(s, 2, key);
	return exec_changed(st, s);
}

int store_subscriber_set_barred(struct store *st, const char *impi, bool barred)
{
	return set_flag(st, SQL_SUB_SET_BARRED, impi, WIMS_IMPI_MAX, barred);
}

int store_subscriber_set_schemes(struct store *st, const char *impi, unsigned schemes)
{
	if (schemes == 0 || (schemes & ~(unsigned)STORE_SCHEMES_ALL))
		return WIMS_EINVAL;
	return set_flag(st, SQL_SUB_SET_SCHEMES, impi, WIMS_IMPI_MAX, (int)schemes);
}

int store_subscriber_set_scscf(struct store *st, const char *impi, const char *server_name)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	if (server_name && (rc = arg_ok(server_name, WIMS_SCSCF_NAME_MAX)))
		return rc;
	sqlite3_stmt *s = stmt_get(st, SQL_SUB_SET_SCSCF);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, server_name);
	bind_text(s, 2, impi);
	return exec_changed(st, s);
}

/* --- IMPUs --- */

static int row_impu(sqlite3_stmt *s, struct store_impu *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->impu, sizeof(out->impu));
	if (!rc)
		rc = col_copy(s, 1, out->impi, sizeof(out->impi));
	out->barred = sqlite3_column_int(s, 2) != 0;
	out->irs_id = sqlite3_column_int64(s, 3);
	if (!rc)
		rc = col_copy(s, 4, out->service_profile, sizeof(out->service_profile));
	return rc;
}

int store_irs_new(struct store *st, int64_t *irs_id)
{
	sqlite3_stmt *s = stmt_get(st, SQL_IRS_NEXT);
	if (!s)
		return WIMS_ESTORE;
	if (sqlite3_step(s) != SQLITE_ROW)
		return stmt_done(s, db_error(st, "irs counter"));
	*irs_id = sqlite3_column_int64(s, 0);
	/* Step to the end so the UPDATE completes before the reset. */
	while (sqlite3_step(s) == SQLITE_ROW)
		;
	return stmt_done(s, 0);
}

/* The first IRS of impi, or 0 when it has no IMPU yet. */
static int first_irs(struct store *st, const char *impi, int64_t *irs)
{
	sqlite3_stmt *s = stmt_get(st, SQL_IMPU_FIRST_IRS);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impi);
	int rc = sqlite3_step(s);
	*irs = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	return stmt_done(s, (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0
								      : db_error(st, "first irs"));
}

int store_impu_add(struct store *st, const struct store_impu *impu)
{
	int rc;
	if ((rc = arg_ok(impu->impu, sizeof(impu->impu))) ||
	    (rc = arg_ok(impu->impi, sizeof(impu->impi))) ||
	    (rc = arg_ok(impu->service_profile, sizeof(impu->service_profile))))
		return rc;
	if (!impu->impu[0] || !impu->impi[0] || impu->irs_id < 0)
		return WIMS_EINVAL;
	enum op_mode mode;
	if ((rc = op_begin(st, &mode)))
		return rc;
	int64_t irs = impu->irs_id;
	if (irs == 0) {
		rc = first_irs(st, impu->impi, &irs);
		if (!rc && irs == 0)
			rc = store_irs_new(st, &irs);
	} else {
		/* A set belongs to one IMPI: refuse joining another's. */
		sqlite3_stmt *s = stmt_get(st, SQL_IMPU_IRS_OWNER);
		rc = s ? 0 : WIMS_ESTORE;
		if (!rc) {
			sqlite3_bind_int64(s, 1, irs);
			int r = sqlite3_step(s);
			if (r == SQLITE_ROW &&
			    strcmp((const char *)sqlite3_column_text(s, 0), impu->impi) != 0)
				rc = WIMS_EINVAL;
			else if (r != SQLITE_ROW && r != SQLITE_DONE)
				rc = db_error(st, "irs owner");
			stmt_done(s, 0);
		}
	}
	sqlite3_stmt *s = NULL;
	if (!rc && !(s = stmt_get(st, SQL_IMPU_ADD)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, impu->impu);
		bind_text(s, 2, impu->impi);
		sqlite3_bind_int(s, 3, impu->barred);
		sqlite3_bind_int64(s, 4, irs);
		bind_text(s, 5, impu->service_profile);
		rc = stmt_exec(st, s);
	}
	return op_end(st, mode, rc);
}

int store_impu_get(struct store *st, const char *impu, struct store_impu *out)
{
	int rc = arg_ok(impu, WIMS_IMPU_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_IMPU_GET);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impu);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return stmt_done(s, row_impu(s, out));
	if (rc == SQLITE_DONE)
		return stmt_done(s, WIMS_ENOTFOUND);
	return stmt_done(s, db_error(st, "impu get"));
}

int store_impu_remove(struct store *st, const char *impu)
{
	int rc = arg_ok(impu, WIMS_IMPU_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	return remove_with_bindings(st, SQL_BIND_DEL_IMPU, SQL_IMPU_DEL, impu);
}

int store_impu_set_barred(struct store *st, const char *impu, bool barred)
{
	return set_flag(st, SQL_IMPU_SET_BARRED, impu, WIMS_IMPU_MAX, barred);
}

static int impu_walk(struct store *st, enum store_sql id, const char *key, size_t max,
		     store_impu_fn fn, void *arg, bool need_one)
{
	int rc = arg_ok(key, max);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, key);
	struct store_impu row;
	size_t n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		int r = row_impu(s, &row);
		if (!r)
			r = fn(arg, &row);
		if (r)
			return stmt_done(s, r);
	}
	if (rc != SQLITE_DONE)
		return stmt_done(s, db_error(st, "impu list"));
	return stmt_done(s, (need_one && n == 0) ? WIMS_ENOTFOUND : 0);
}

int store_impu_list(struct store *st, const char *impi, store_impu_fn fn, void *arg)
{
	return impu_walk(st, SQL_IMPU_LIST, impi, WIMS_IMPI_MAX, fn, arg, false);
}

int store_irs_list(struct store *st, const char *impu, store_impu_fn fn, void *arg)
{
	return impu_walk(st, SQL_IRS_LIST, impu, WIMS_IMPU_MAX, fn, arg, true);
}

/* --- bindings --- */

int store_binding_upsert(struct store *st, const struct store_binding *b)
{
	int rc;
	if ((rc = arg_ok(b->impu, sizeof(b->impu))) ||
	    (rc = arg_ok(b->contact, sizeof(b->contact))) ||
	    (rc = arg_ok(b->path, sizeof(b->path))) ||
	    (rc = arg_ok(b->instance_id, sizeof(b->instance_id))) ||
	    (rc = arg_ok(b->call_id, sizeof(b->call_id))) ||
	    (rc = arg_ok(b->received, sizeof(b->received))) ||
	    (rc = arg_ok(b->wwsf, sizeof(b->wwsf))))
		return rc;
	if (!b->impu[0] || !b->contact[0])
		return WIMS_EINVAL;
	enum op_mode mode;
	if ((rc = op_begin(st, &mode)))
		return rc;
	sqlite3_stmt *s;
	/* RFC 5626 4.2: the same instance and reg-id is the same flow,
	 * whatever its Contact now says: the new binding replaces it. */
	if (b->instance_id[0]) {
		if (!(s = stmt_get(st, SQL_BIND_DEL_INSTANCE))) {
			rc = WIMS_ESTORE;
		} else {
			bind_text(s, 1, b->impu);
			bind_text(s, 2, b->instance_id);
			sqlite3_bind_int64(s, 3, b->reg_id);
			bind_text(s, 4, b->contact);
			rc = stmt_exec(st, s);
		}
	}
	if (!rc && !(s = stmt_get(st, SQL_BIND_PUT)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, b->impu);
		bind_text(s, 2, b->contact);
		bind_text(s, 3, b->path);
		bind_text(s, 4, b->instance_id);
		sqlite3_bind_int64(s, 5, b->reg_id);
		sqlite3_bind_int64(s, 6, b->expires);
		bind_text(s, 7, b->call_id);
		sqlite3_bind_int64(s, 8, b->cseq);
		bind_text(s, 9, b->received);
		bind_text(s, 10, b->wwsf);
		rc = stmt_exec(st, s);
	}
	return op_end(st, mode, rc);
}

int store_binding_delete(struct store *st, const char *impu, const char *contact)
{
	int rc;
	if ((rc = arg_ok(impu, WIMS_IMPU_MAX)) || (rc = arg_ok(contact, WIMS_REG_CONTACT_MAX)))
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_DEL);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impu);
	bind_text(s, 2, contact);
	return exec_changed(st, s);
}

int store_binding_delete_impu(struct store *st, const char *impu)
{
	int rc = arg_ok(impu, WIMS_IMPU_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? 0 : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_DEL_IMPU);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impu);
	rc = stmt_exec(st, s);
	return rc ? rc : sqlite3_changes(st->db);
}

int store_binding_delete_contact(struct store *st, const char *contact)
{
	int rc = arg_ok(contact, WIMS_REG_CONTACT_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? 0 : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_DEL_CONTACT);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, contact);
	rc = stmt_exec(st, s);
	return rc ? rc : sqlite3_changes(st->db);
}

static int row_binding(sqlite3_stmt *s, struct store_binding *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->impu, sizeof(out->impu));
	if (!rc)
		rc = col_copy(s, 1, out->contact, sizeof(out->contact));
	if (!rc)
		rc = col_copy(s, 2, out->path, sizeof(out->path));
	if (!rc)
		rc = col_copy(s, 3, out->instance_id, sizeof(out->instance_id));
	out->reg_id = (uint32_t)sqlite3_column_int64(s, 4);
	out->expires = sqlite3_column_int64(s, 5);
	if (!rc)
		rc = col_copy(s, 6, out->call_id, sizeof(out->call_id));
	out->cseq = (uint32_t)sqlite3_column_int64(s, 7);
	if (!rc)
		rc = col_copy(s, 8, out->received, sizeof(out->received));
	if (!rc)
		rc = col_copy(s, 9, out->wwsf, sizeof(out->wwsf));
	return rc;
}

int store_binding_list(struct store *st, const char *impu, int64_t now, store_binding_fn fn,
		       void *arg)
{
	int rc = arg_ok(impu, WIMS_IMPU_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? 0 : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_LIST);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impu);
	sqlite3_bind_int64(s, 2, now);
	/* struct store_binding is ~3 KB: off the stack of worker threads
	 * with small stacks it is still fine, one at a time. */
	struct store_binding row;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int r = row_binding(s, &row);
		if (!r)
			r = fn(arg, &row);
		if (r)
			return stmt_done(s, r);
	}
	return stmt_done(s, rc == SQLITE_DONE ? 0 : db_error(st, "binding list"));
}

int store_binding_live(struct store *st, const char *impu, int64_t now)
{
	int rc = arg_ok(impu, WIMS_IMPU_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? 0 : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_LIVE);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impu);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return stmt_done(s, 1);
	return stmt_done(s, rc == SQLITE_DONE ? 0 : db_error(st, "binding live"));
}

int store_binding_expire(struct store *st, int64_t now)
{
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_EXPIRE);
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	int rc = stmt_exec(st, s);
	return rc ? rc : sqlite3_changes(st->db);
}

int store_binding_delete_wwsf(struct store *st, const char *wwsf, int *contacts)
{
	if (contacts)
		*contacts = 0;
	int rc = arg_ok(wwsf, WIMS_WWSF_ID_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? 0 : rc;
	if (!wwsf[0])
		return WIMS_EINVAL; /* "" is every Digest and AKA binding */
	enum op_mode mode;
	if ((rc = op_begin(st, &mode)))
		return rc;
	/* Counted and deleted in one transaction: what is said is what went. */
	int rows = 0;
	sqlite3_stmt *s = stmt_get(st, SQL_BIND_WWSF_COUNT);
	if (!s) {
		rc = WIMS_ESTORE;
	} else {
		bind_text(s, 1, wwsf);
		int r = sqlite3_step(s);
		if (r == SQLITE_ROW && contacts)
			*contacts = sqlite3_column_int(s, 0);
		rc = stmt_done(s, r == SQLITE_ROW ? 0 : db_error(st, "binding count"));
	}
	/* The IMPIs left without any binding are deregistered as an
	 * administrative deregistration would (TS 29.228 6.1.2.1: the
	 * S-CSCF name cleared), where the subscribers share this file. */
	if (!rc && !(s = stmt_get(st, SQL_BIND_WWSF_DEREG)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, wwsf);
		rc = stmt_exec(st, s);
	}
	if (!rc && !(s = stmt_get(st, SQL_BIND_DEL_WWSF)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, wwsf);
		rc = stmt_exec(st, s);
		if (!rc)
			rows = sqlite3_changes(st->db);
	}
	rc = op_end(st, mode, rc);
	if (rc && contacts)
		*contacts = 0;
	return rc ? rc : rows;
}

/* --- Digest AKA data --- */

static int col_blob(sqlite3_stmt *s, int i, uint8_t *dst, size_t len)
{
	if (sqlite3_column_type(s, i) != SQLITE_BLOB || (size_t)sqlite3_column_bytes(s, i) != len)
		return WIMS_ESTORE;
	memcpy(dst, sqlite3_column_blob(s, i), len);
	return 0;
}

static int row_aka(sqlite3_stmt *s, struct store_aka *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->impi, sizeof(out->impi));
	if (!rc)
		rc = col_blob(s, 1, out->k, sizeof(out->k));
	if (!rc)
		rc = col_blob(s, 2, out->opc, sizeof(out->opc));
	if (!rc)
		rc = col_blob(s, 3, out->amf, sizeof(out->amf));
	sqlite3_int64 sqn = sqlite3_column_int64(s, 4);
	sqlite3_int64 ind = sqlite3_column_int64(s, 5);
	if (!rc && (sqn < 0 || (uint64_t)sqn > AKA_SQN_MAX || ind < 0 || ind >= AKA_IND_SLOTS))
		rc = WIMS_ESTORE;
	if (rc) {
		/* A row written by hand with the wrong sizes: say which, not
		 * what it holds. */
		WIMS_ERROR("store", "aka row of %s is malformed", out->impi);
		OPENSSL_cleanse(out, sizeof(*out));
		return WIMS_ESTORE;
	}
	out->sqn = (uint64_t)sqn;
	out->ind = (unsigned)ind;
	return 0;
}

int store_aka_set(struct store *st, const struct store_aka *aka)
{
	int rc = arg_ok(aka->impi, sizeof(aka->impi));
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_AKA_PUT);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, aka->impi);
	sqlite3_bind_blob(s, 2, aka->k, sizeof(aka->k), SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, aka->opc, sizeof(aka->opc), SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, aka->amf, sizeof(aka->amf), SQLITE_STATIC);
	rc = stmt_exec(st, s);
	/* Unbind now: the statement must not point at the caller's K. */
	sqlite3_clear_bindings(s);
	return rc;
}

int store_aka_get(struct store *st, const char *impi, struct store_aka *out)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_AKA_GET);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impi);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return stmt_done(s, row_aka(s, out));
	if (rc == SQLITE_DONE)
		return stmt_done(s, WIMS_ENOTFOUND);
	return stmt_done(s, db_error(st, "aka get"));
}

int store_aka_take(struct store *st, const char *impi, unsigned n, struct store_aka *out)
{
	if (n == 0 || n > AKA_IND_SLOTS)
		return WIMS_EINVAL;
	enum op_mode mode;
	int rc = op_begin(st, &mode);
	if (rc)
		return rc;
	/* Read inside the write transaction: nobody else takes between. */
	rc = store_aka_get(st, impi, out);
	uint64_t sqn = out->sqn;
	unsigned ind = out->ind;
	for (unsigned i = 0; !rc && i < n; i++) {
		sqn = store_aka_sqn_next(sqn, ind);
		ind = (ind + 1) % AKA_IND_SLOTS;
		if (sqn > AKA_SQN_MAX)
			rc = WIMS_ETOOBIG;
	}
	sqlite3_stmt *s = NULL;
	if (!rc && !(s = stmt_get(st, SQL_AKA_ADVANCE)))
		rc = WIMS_ESTORE;
	if (!rc) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)sqn);
		sqlite3_bind_int(s, 2, (int)ind);
		bind_text(s, 3, impi);
		rc = exec_changed(st, s);
	}
	if (rc)
		OPENSSL_cleanse(out, sizeof(*out));
	return op_end(st, mode, rc);
}

int store_aka_set_sqn(struct store *st, const char *impi, uint64_t sqn)
{
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	if (sqn > AKA_SQN_MAX)
		return WIMS_EINVAL;
	sqlite3_stmt *s = stmt_get(st, SQL_AKA_SET_SQN);
	if (!s)
		return WIMS_ESTORE;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)sqn);
	bind_text(s, 2, impi);
	return exec_changed(st, s);
}

int store_hss_version(struct store *st, int64_t *version)
{
	sqlite3_stmt *s = stmt_get(st, SQL_HSS_VERSION);
	if (!s)
		return WIMS_ESTORE;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(s, 0);
		return stmt_done(s, 0);
	}
	return stmt_done(s, rc == SQLITE_DONE ? WIMS_ENOTFOUND : db_error(st, "hss version"));
}

/* --- TNA: allowed WWSFs, pools, block list (TR 33.871 REQ 2.1, 2.2, 3.2) --- */

/* A WWSF identity argument: non-empty and bounded. */
static int wwsf_ok(const char *wwsf)
{
	int rc = arg_ok(wwsf, WIMS_WWSF_ID_MAX);
	return rc ? rc : (wwsf[0] ? 0 : WIMS_EINVAL);
}

/* Bind two text keys and run: 0, or ENOTFOUND if no row changed when
 * need_change, or the insert's constraint error. */
static int exec_pair(struct store *st, enum store_sql id, const char *a, const char *b,
		     bool need_change)
{
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, a);
	bind_text(s, 2, b);
	return need_change ? exec_changed(st, s) : stmt_exec(st, s);
}

/* Whether a query bound to the given text keys returns a row. */
static bool exists_pair(struct store *st, enum store_sql id, const char *a, const char *b)
{
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return false;
	bind_text(s, 1, a);
	if (b)
		bind_text(s, 2, b);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_error(st, sqlite3_sql(s));
	return stmt_done(s, rc == SQLITE_ROW);
}

int store_wwsf_allow(struct store *st, const char *impi, const char *wwsf)
{
	int rc;
	if ((rc = arg_ok(impi, WIMS_IMPI_MAX)))
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	if ((rc = wwsf_ok(wwsf)))
		return rc;
	/* The foreign key answers ENOTFOUND for an unknown IMPI. */
	return exec_pair(st, SQL_WWSF_ALLOW, impi, wwsf, false);
}

int store_wwsf_disallow(struct store *st, const char *impi, const char *wwsf)
{
	if (arg_ok(impi, WIMS_IMPI_MAX) || wwsf_ok(wwsf))
		return impi && wwsf ? WIMS_ENOTFOUND : WIMS_EINVAL;
	return exec_pair(st, SQL_WWSF_DISALLOW, impi, wwsf, true);
}

bool store_wwsf_allowed(struct store *st, const char *impi, const char *wwsf)
{
	if (arg_ok(impi, WIMS_IMPI_MAX) || wwsf_ok(wwsf))
		return false;
	return exists_pair(st, SQL_WWSF_ALLOWED, impi, wwsf);
}

int store_pool_owner(struct store *st, const char *impi, char *owner)
{
	owner[0] = '\0';
	int rc = arg_ok(impi, WIMS_IMPI_MAX);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_POOL_OWNER);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, impi);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return stmt_done(s, col_copy(s, 0, owner, WIMS_WWSF_ID_MAX));
	if (rc == SQLITE_DONE)
		return stmt_done(s, WIMS_ENOTFOUND);
	return stmt_done(s, db_error(st, "pool owner"));
}

int store_pool_add(struct store *st, const char *wwsf, const char *impi)
{
	int rc;
	if ((rc = wwsf_ok(wwsf)))
		return rc;
	if ((rc = arg_ok(impi, WIMS_IMPI_MAX)))
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	enum op_mode mode;
	if ((rc = op_begin(st, &mode)))
		return rc;
	/* REQ 3.2: an IMPI of a pool is that one WWSF's to hand out. */
	char owner[WIMS_WWSF_ID_MAX];
	rc = store_pool_owner(st, impi, owner);
	if (rc == 0)
		rc = strcmp(owner, wwsf) == 0 ? 1 : WIMS_EEXIST;
	else if (rc == WIMS_ENOTFOUND)
		rc = exec_pair(st, SQL_POOL_ADD, wwsf, impi, false);
	rc = op_end(st, mode, rc);
	return rc > 0 ? 0 : rc;
}

int store_pool_remove(struct store *st, const char *wwsf, const char *impi)
{
	if (wwsf_ok(wwsf) || arg_ok(impi, WIMS_IMPI_MAX))
		return impi && wwsf ? WIMS_ENOTFOUND : WIMS_EINVAL;
	return exec_pair(st, SQL_POOL_DEL, wwsf, impi, true);
}

/* Walk rows of two text columns; key (may be NULL) bound first. */
static int pair_walk(struct store *st, enum store_sql id, const char *key, store_wwsf_fn fn,
		     void *arg)
{
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return WIMS_ESTORE;
	if (key)
		bind_text(s, 1, key);
	int rc;
	char a[WIMS_WWSF_ID_MAX], b[WIMS_IMPI_MAX > STORE_BLOCK_REASON_MAX ? WIMS_IMPI_MAX
									     : STORE_BLOCK_REASON_MAX];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int r = col_copy(s, 0, a, sizeof(a));
		if (!r)
			r = col_copy(s, 1, b, sizeof(b));
		if (!r)
			r = fn(arg, a, b);
		if (r)
			return stmt_done(s, r);
	}
	return stmt_done(s, rc == SQLITE_DONE ? 0 : db_error(st, sqlite3_sql(s)));
}

int store_pool_list(struct store *st, const char *wwsf, store_wwsf_fn fn, void *arg)
{
	if (wwsf && arg_ok(wwsf, WIMS_WWSF_ID_MAX))
		return 0; /* no such pool can exist */
	return pair_walk(st, wwsf ? SQL_POOL_OF : SQL_POOL_ALL, wwsf, fn, arg);
}

int store_wwsf_allowed_list(struct store *st, const char *impi, store_wwsf_fn fn, void *arg)
{
	if (impi && arg_ok(impi, WIMS_IMPI_MAX))
		return 0;
	return pair_walk(st, impi ? SQL_WWSF_ALLOWED_OF : SQL_WWSF_ALLOWED_ALL, impi, fn, arg);
}

int store_wwsf_block(struct store *st, const char *wwsf, const char *reason, int64_t now)
{
	int rc;
	if ((rc = wwsf_ok(wwsf)))
		return rc;
	if (reason && (rc = arg_ok(reason, STORE_BLOCK_REASON_MAX)))
		return rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BLOCK_PUT);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, wwsf);
	bind_text(s, 2, reason);
	sqlite3_bind_int64(s, 3, now);
	return stmt_exec(st, s);
}

int store_wwsf_unblock(struct store *st, const char *wwsf)
{
	int rc = wwsf_ok(wwsf);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_BLOCK_DEL);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, wwsf);
	return exec_changed(st, s);
}

bool store_wwsf_blocked(struct store *st, const char *wwsf)
{
	if (wwsf_ok(wwsf))
		return false;
	return exists_pair(st, SQL_BLOCK_GET, wwsf, NULL);
}

int store_wwsf_block_list(struct store *st, store_wwsf_fn fn, void *arg)
{
	return pair_walk(st, SQL_BLOCK_ALL, NULL, fn, arg);
}

/* --- web identity links (REQ 2.5, Annex C M2) --- */

static int link_keys_ok(const char *web_id, const char *idp, const char *impu)
{
	int rc;
	if ((rc = arg_ok(web_id, WIMS_WEB_ID_MAX)) || (rc = wwsf_ok(idp)) ||
	    (rc = arg_ok(impu, WIMS_IMPU_MAX)))
		return rc;
	return web_id[0] && impu[0] ? 0 : WIMS_EINVAL;
}

static int row_link(sqlite3_stmt *s, struct store_link *out)
{
	memset(out, 0, sizeof(*out));
	int rc = col_copy(s, 0, out->web_id, sizeof(out->web_id));
	if (!rc)
		rc = col_copy(s, 1, out->idp, sizeof(out->idp));
	if (!rc)
		rc = col_copy(s, 2, out->impu, sizeof(out->impu));
	if (!rc)
		rc = col_copy(s, 3, out->impi, sizeof(out->impi));
	if (!rc)
		rc = col_copy(s, 4, out->wwsf_grant, sizeof(out->wwsf_grant));
	out->confirmed = sqlite3_column_int(s, 5) != 0;
	out->code_expires = sqlite3_column_int64(s, 6);
	out->tries = sqlite3_column_int(s, 7);
	out->created_at = sqlite3_column_int64(s, 8);
	return rc;
}

int store_link_request(struct store *st, const char *web_id, const char *idp, const char *impu,
		       const char *wwsf_grant, const uint8_t code_hash[32], int64_t expires,
		       int64_t now)
{
	int rc;
	if ((rc = link_keys_ok(web_id, idp, impu)))
		return rc;
	if (wwsf_grant && wwsf_grant[0] && (rc = wwsf_ok(wwsf_grant)))
		return rc;
	if (!code_hash || expires <= now)
		return WIMS_EINVAL;
	struct store_impu u;
	if ((rc = store_impu_get(st, impu, &u)))
		return rc;
	enum op_mode mode;
	if ((rc = op_begin(st, &mode)))
		return rc;
	sqlite3_stmt *s = stmt_get(st, SQL_LINK_PURGE);
	rc = s ? 0 : WIMS_ESTORE;
	if (!rc) {
		sqlite3_bind_int64(s, 1, now);
		rc = stmt_exec(st, s);
	}
	/* A confirmed link stays as it is: asking again changes nothing. */
	if (!rc && !(s = stmt_get(st, SQL_LINK_CONFIRMED_KEY)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, web_id);
		bind_text(s, 2, idp);
		bind_text(s, 3, impu);
		int r = sqlite3_step(s);
		if (r == SQLITE_ROW && sqlite3_column_int(s, 0))
			rc = WIMS_EEXIST;
		else if (r != SQLITE_ROW && r != SQLITE_DONE)
			rc = db_error(st, "link get");
		stmt_done(s, 0);
	}
	/* One live code names one link, or confirming it would be a guess
	 * between two. */
	if (!rc && !(s = stmt_get(st, SQL_LINK_CODE_TAKEN)))
		rc = WIMS_ESTORE;
	if (!rc) {
		sqlite3_bind_blob(s, 1, code_hash, STORE_LINK_CODE_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
		bind_text(s, 3, web_id);
		bind_text(s, 4, idp);
		bind_text(s, 5, impu);
		int r = sqlite3_step(s);
		if (r == SQLITE_ROW)
			rc = WIMS_EAGAIN;
		else if (r != SQLITE_DONE)
			rc = db_error(st, "link code");
		stmt_done(s, 0);
	}
	if (!rc && !(s = stmt_get(st, SQL_LINK_PUT)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, web_id);
		bind_text(s, 2, idp);
		bind_text(s, 3, impu);
		bind_text(s, 4, u.impi);
		bind_text(s, 5, wwsf_grant);
		sqlite3_bind_int64(s, 6, expires);
		sqlite3_bind_int64(s, 7, now);
		sqlite3_bind_blob(s, 8, code_hash, STORE_LINK_CODE_HASH_LEN, SQLITE_STATIC);
		rc = stmt_exec(st, s);
		sqlite3_clear_bindings(s);
	}
	return op_end(st, mode, rc);
}

int store_link_confirm(struct store *st, const uint8_t code_hash[32], int64_t now,
		       struct store_link *out)
{
	if (!code_hash)
		return WIMS_EINVAL;
	struct store_link l;
	enum op_mode mode;
	int rc = op_begin(st, &mode);
	if (rc)
		return rc;
	sqlite3_stmt *s = stmt_get(st, SQL_LINK_BY_CODE);
	rc = s ? 0 : WIMS_ESTORE;
	if (!rc) {
		sqlite3_bind_blob(s, 1, code_hash, STORE_LINK_CODE_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
		int r = sqlite3_step(s);
		if (r == SQLITE_ROW)
			rc = row_link(s, &l);
		else
			rc = r == SQLITE_DONE ? WIMS_ENOTFOUND : db_error(st, "link by code");
		sqlite3_clear_bindings(s);
		stmt_done(s, 0);
	}
	if (!rc && !(s = stmt_get(st, SQL_LINK_SET_CONFIRMED)))
		rc = WIMS_ESTORE;
	if (!rc) {
		bind_text(s, 1, l.web_id);
		bind_text(s, 2, l.idp);
		bind_text(s, 3, l.impu);
		rc = exec_changed(st, s);
	}
	/* REQ 2.1: confirming the link is the subscriber allowing the WWSF
	 * it was asked for. */
	if (!rc && l.wwsf_grant[0])
		rc = store_wwsf_allow(st, l.impi, l.wwsf_grant);
	rc = op_end(st, mode, rc);
	if (!rc && out) {
		l.confirmed = true;
		l.code_expires = 0;
		*out = l;
	}
	return rc;
}

static int link_walk(struct store *st, enum store_sql id, const char *web_id, const char *idp,
		     store_link_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt_get(st, id);
	if (!s)
		return WIMS_ESTORE;
	if (web_id) {
		bind_text(s, 1, web_id);
		bind_text(s, 2, idp);
	}
	struct store_link l;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int r = row_link(s, &l);
		if (!r)
			r = fn(arg, &l);
		if (r)
			return stmt_done(s, r);
	}
	return stmt_done(s, rc == SQLITE_DONE ? 0 : db_error(st, "link list"));
}

int store_links_confirmed(struct store *st, const char *web_id, const char *idp,
			  store_link_fn fn, void *arg)
{
	if (!web_id || !idp)
		return WIMS_EINVAL;
	if (arg_ok(web_id, WIMS_WEB_ID_MAX) || arg_ok(idp, WIMS_WWSF_ID_MAX))
		return 0; /* no such link can exist */
	return link_walk(st, SQL_LINK_OF, web_id, idp, fn, arg);
}

int store_link_remove(struct store *st, const char *web_id, const char *idp, const char *impu)
{
	int rc = link_keys_ok(web_id, idp, impu);
	if (rc)
		return rc == WIMS_ETOOBIG ? WIMS_ENOTFOUND : rc;
	sqlite3_stmt *s = stmt_get(st, SQL_LINK_DEL);
	if (!s)
		return WIMS_ESTORE;
	bind_text(s, 1, web_id);
	bind_text(s, 2, idp);
	bind_text(s, 3, impu);
	return exec_changed(st, s);
}

int store_link_list(struct store *st, store_link_fn fn, void *arg)
{
	return link_walk(st, SQL_LINK_ALL, NULL, NULL, fn, arg);
}
