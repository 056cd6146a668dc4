/*
 * sqlite_test.c - the SQLite store through store.h: schema and WAL on
 * open, subscribers (add/get/list/remove, password -> H(A1) only), IMPUs
 * and implicit registration sets, bindings (upsert rules, expiry) and that
 * they survive close/reopen, refusals (duplicates, unknown, too long,
 * newer schema), the allowed schemes, the AKA data (set/get, SQN
 * reservation by take, from several threads too, set-SQN), a file made
 * before the aka.ind column, and the TNA tables (TR 33.871 REQ 2.1, 2.2,
 * 2.5, 3.2): allowed WWSFs, pools, the block list, web identity links with
 * their one-time codes, and a file with the first web_identity table; the
 * WWSF a binding came through, the removal of one WWSF's bindings (a
 * block) and a file made before bindings had that column.
 */
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/digest.h"
#include "core/wims.h"
#include "unit.h"

static char dir[64];
static char path[128];

static void fresh_path(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
}

static struct store *open_ok(void)
{
	struct store *st = NULL;
	char err[256] = "";
	int rc = store_open(path, &st, err, sizeof(err));
	if (rc)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static int add_sub(struct store *st, const char *impi)
{
	struct store_subscriber s = {0};
	snprintf(s.impi, sizeof(s.impi), "%s", impi);
	snprintf(s.realm, sizeof(s.realm), "ims.example.org");
	return store_subscriber_add(st, &s);
}

static int add_impu(struct store *st, const char *impi, const char *impu, int64_t irs)
{
	struct store_impu u = {0};
	snprintf(u.impi, sizeof(u.impi), "%s", impi);
	snprintf(u.impu, sizeof(u.impu), "%s", impu);
	u.irs_id = irs;
	return store_impu_add(st, &u);
}

static int pragma_text(const char *sql, char *out, size_t outsz)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_stmt *s;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(s, 0));
			rc = 0;
		}
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return rc;
}

static void schema_created_on_open(void)
{
	fresh_path("schema.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	store_close(st);
	char v[64];
	EXPECT_INT(pragma_text("PRAGMA user_version", v, sizeof(v)), ==, 0);
	EXPECT_STR(v, "1");
	EXPECT_INT(pragma_text("PRAGMA journal_mode", v, sizeof(v)), ==, 0);
	EXPECT_STR(v, "wal");
	static const char *const tables[] = {"subscriber", "impu",      "binding",
					     "aka",        "wwsf_allowed", "wwsf_pool",
					     "web_identity", "wwsf_block"};
	for (size_t i = 0; i < WIMS_ARRAY_LEN(tables); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
			 tables[i]);
		EXPECT_INT(pragma_text(sql, v, sizeof(v)), ==, 0);
		EXPECT_STR(v, "1");
	}
	/* Reopening an existing file keeps it. */
	st = open_ok();
	EXPECT_TRUE(st != NULL);
	store_close(st);
	store_close(NULL);
}

static void newer_schema_refused(void)
{
	fresh_path("newer.db");
	sqlite3 *db;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	struct store *st = (struct store *)1;
	char err[256] = "";
	EXPECT_INT(store_open(path, &st, err, sizeof(err)), ==, WIMS_ESTORE);
	EXPECT_TRUE(st == NULL);
	EXPECT_TRUE(strstr(err, "newer") != NULL);
	EXPECT_INT(store_open("postgres://db/hss", &st, err, sizeof(err)), ==,
		   WIMS_EUNSUPPORTED);
	EXPECT_INT(store_open("/nonexistent-dir/x/y.db", &st, err, sizeof(err)), ==, WIMS_EIO);
}

static void subscriber_add_get_remove(void)
{
	fresh_path("sub.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "alice@ims.example.org"), ==, 0);
	EXPECT_INT(add_sub(st, "alice@ims.example.org"), ==, WIMS_EEXIST);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(st, "alice@ims.example.org", &got), ==, 0);
	EXPECT_STR(got.impi, "alice@ims.example.org");
	EXPECT_STR(got.realm, "ims.example.org");
	EXPECT_STR(got.ha1_md5, "");
	EXPECT_INT(got.schemes, ==, STORE_SCHEME_DIGEST);
	EXPECT_TRUE(!got.barred);
	EXPECT_TRUE(got.created_at > 1600000000);
	EXPECT_INT(store_subscriber_get(st, "nobody@ims.example.org", &got), ==, WIMS_ENOTFOUND);

	/* Refusals: empty IMPI, bad HA1 text, too long. */
	struct store_subscriber bad = {0};
	snprintf(bad.realm, sizeof(bad.realm), "r");
	EXPECT_INT(store_subscriber_add(st, &bad), ==, WIMS_EINVAL);
	snprintf(bad.impi, sizeof(bad.impi), "x@r");
	snprintf(bad.ha1_md5, sizeof(bad.ha1_md5), "not-hex");
	EXPECT_INT(store_subscriber_add(st, &bad), ==, WIMS_EINVAL);
	char longname[WIMS_IMPI_MAX + 10];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_INT(store_subscriber_get(st, longname, &got), ==, WIMS_ENOTFOUND);

	EXPECT_INT(add_sub(st, "bob@ims.example.org"), ==, 0);
	uint64_t n = 0;
	EXPECT_INT(store_subscriber_count(st, &n), ==, 0);
	EXPECT_INT(n, ==, 2);
	EXPECT_INT(store_subscriber_remove(st, "alice@ims.example.org"), ==, 0);
	EXPECT_INT(store_subscriber_remove(st, "alice@ims.example.org"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_subscriber_get(st, "alice@ims.example.org", &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_subscriber_count(st, &n), ==, 0);
	EXPECT_INT(n, ==, 1);
	store_close(st);
}

struct names {
	char v[8][WIMS_IMPU_MAX];
	size_t n;
	size_t stop_after;
};

static int collect_sub(void *arg, const struct store_subscriber *s)
{
	struct names *nm = arg;
	snprintf(nm->v[nm->n++], WIMS_IMPU_MAX, "%s", s->impi);
	return nm->stop_after && nm->n == nm->stop_after ? 7 : 0;
}

static int collect_impu(void *arg, const struct store_impu *u)
{
	struct names *nm = arg;
	snprintf(nm->v[nm->n++], WIMS_IMPU_MAX, "%s", u->impu);
	return 0;
}

static void subscriber_list_in_order(void)
{
	fresh_path("list.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "carol@x"), ==, 0);
	EXPECT_INT(add_sub(st, "alice@x"), ==, 0);
	EXPECT_INT(add_sub(st, "bob@x"), ==, 0);
	struct names nm = {0};
	EXPECT_INT(store_subscriber_list(st, collect_sub, &nm), ==, 0);
	EXPECT_INT(nm.n, ==, 3);
	EXPECT_STR(nm.v[0], "alice@x");
	EXPECT_STR(nm.v[2], "carol@x");
	/* A callback's non-zero stops the walk and comes back. */
	struct names stop = {.stop_after = 2};
	EXPECT_INT(store_subscriber_list(st, collect_sub, &stop), ==, 7);
	EXPECT_INT(stop.n, ==, 2);
	store_close(st);
}

static void password_stores_only_ha1(void)
{
	fresh_path("pw.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "alice@ims.example.org"), ==, 0);
	const char *pw = "Sup3r-Secret-Passw0rd";
	EXPECT_INT(store_subscriber_set_password(st, "alice@ims.example.org", pw, strlen(pw)), ==,
		   0);
	EXPECT_INT(store_subscriber_set_password(st, "nobody@x", pw, strlen(pw)), ==,
		   WIMS_ENOTFOUND);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(st, "alice@ims.example.org", &got), ==, 0);
	char md5[DIGEST_HEX_MAX], sha[DIGEST_HEX_MAX];
	digest_ha1(DIGEST_ALG_MD5, SLICE_LIT("alice@ims.example.org"),
		   SLICE_LIT("ims.example.org"), slice_from_cstr(pw), md5);
	digest_ha1(DIGEST_ALG_SHA256, SLICE_LIT("alice@ims.example.org"),
		   SLICE_LIT("ims.example.org"), slice_from_cstr(pw), sha);
	EXPECT_STR(got.ha1_md5, md5);
	EXPECT_STR(got.ha1_sha256, sha);
	store_close(st);

	/* The password is nowhere in the files (db and WAL). */
	const char *files[] = {"", "-wal"};
	for (size_t i = 0; i < 2; i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", path, files[i]);
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		EXPECT_TRUE(memmem(buf, n, pw, strlen(pw)) == NULL);
	}
}

static void barred_and_scscf(void)
{
	fresh_path("flags.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "a@x"), ==, 0);
	EXPECT_INT(store_subscriber_set_barred(st, "a@x", true), ==, 0);
	EXPECT_INT(store_subscriber_set_scscf(st, "a@x", "sip:scscf.x:5060"), ==, 0);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(st, "a@x", &got), ==, 0);
	EXPECT_TRUE(got.barred);
	EXPECT_STR(got.scscf_name, "sip:scscf.x:5060");
	EXPECT_INT(store_subscriber_set_scscf(st, "a@x", NULL), ==, 0);
	EXPECT_INT(store_subscriber_get(st, "a@x", &got), ==, 0);
	EXPECT_STR(got.scscf_name, "");
	EXPECT_INT(store_subscriber_set_barred(st, "zz@x", true), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_subscriber_set_scscf(st, "zz@x", "s"), ==, WIMS_ENOTFOUND);
	store_close(st);
}

static void impus_and_implicit_sets(void)
{
	fresh_path("impu.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "alice@x"), ==, 0);
	EXPECT_INT(add_sub(st, "bob@x"), ==, 0);
	EXPECT_INT(add_impu(st, "alice@x", "sip:alice@x", 0), ==, 0);
	EXPECT_INT(add_impu(st, "alice@x", "tel:+15550000001", 0), ==, 0);
	int64_t second = 0;
	EXPECT_INT(store_irs_new(st, &second), ==, 0);
	EXPECT_INT(add_impu(st, "alice@x", "sip:alice-work@x", second), ==, 0);
	EXPECT_INT(add_impu(st, "bob@x", "sip:bob@x", 0), ==, 0);
	/* Refusals: taken IMPU, unknown IMPI, someone else's set. */
	EXPECT_INT(add_impu(st, "bob@x", "sip:alice@x", 0), ==, WIMS_EEXIST);
	EXPECT_INT(add_impu(st, "nobody@x", "sip:nobody@x", 0), ==, WIMS_ENOTFOUND);
	EXPECT_INT(add_impu(st, "bob@x", "sip:bob2@x", second), ==, WIMS_EINVAL);

	struct store_impu u;
	EXPECT_INT(store_impu_get(st, "tel:+15550000001", &u), ==, 0);
	EXPECT_STR(u.impi, "alice@x");
	struct store_impu first;
	EXPECT_INT(store_impu_get(st, "sip:alice@x", &first), ==, 0);
	EXPECT_INT(u.irs_id, ==, first.irs_id);
	EXPECT_TRUE(first.irs_id != second);

	struct names nm = {0};
	EXPECT_INT(store_impu_list(st, "alice@x", collect_impu, &nm), ==, 0);
	EXPECT_INT(nm.n, ==, 3);
	struct names irs = {0};
	EXPECT_INT(store_irs_list(st, "tel:+15550000001", collect_impu, &irs), ==, 0);
	EXPECT_INT(irs.n, ==, 2);
	EXPECT_STR(irs.v[0], "sip:alice@x");
	EXPECT_STR(irs.v[1], "tel:+15550000001");
	struct names none = {0};
	EXPECT_INT(store_irs_list(st, "sip:ghost@x", collect_impu, &none), ==, WIMS_ENOTFOUND);

	EXPECT_INT(store_impu_set_barred(st, "sip:alice-work@x", true), ==, 0);
	EXPECT_INT(store_impu_get(st, "sip:alice-work@x", &u), ==, 0);
	EXPECT_TRUE(u.barred);
	EXPECT_INT(store_impu_remove(st, "sip:alice-work@x"), ==, 0);
	EXPECT_INT(store_impu_remove(st, "sip:alice-work@x"), ==, WIMS_ENOTFOUND);

	/* Removing the IMPI takes its IMPUs and their bindings. */
	struct store_binding b = {0};
	snprintf(b.impu, sizeof(b.impu), "sip:alice@x");
	snprintf(b.contact, sizeof(b.contact), "sip:a@192.0.2.1");
	b.expires = 5000;
	EXPECT_INT(store_binding_upsert(st, &b), ==, 0);
	EXPECT_INT(store_subscriber_remove(st, "alice@x"), ==, 0);
	EXPECT_INT(store_impu_get(st, "sip:alice@x", &u), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_binding_delete_impu(st, "sip:alice@x"), ==, 0);
	EXPECT_INT(store_impu_get(st, "sip:bob@x", &u), ==, 0);
	store_close(st);
}

struct bindings {
	struct store_binding b[8];
	size_t n;
};

static int collect_binding(void *arg, const struct store_binding *b)
{
	struct bindings *bs = arg;
	if (bs->n < 8)
		bs->b[bs->n++] = *b;
	return 0;
}

static void bindings_persist_across_reopen(void)
{
	fresh_path("reg.db");
	struct store *st = open_ok();
	struct store_binding b = {0};
	snprintf(b.impu, sizeof(b.impu), "sip:alice@ims.example.org");
	snprintf(b.contact, sizeof(b.contact), "sip:alice@df7jal23ls0d.invalid;transport=ws");
	snprintf(b.path, sizeof(b.path), "<sip:tok1@127.0.0.1:5070;transport=tcp;lr;ob>");
	snprintf(b.instance_id, sizeof(b.instance_id),
		 "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	b.reg_id = 1;
	b.expires = 10000;
	snprintf(b.call_id, sizeof(b.call_id), "call-1");
	b.cseq = 2;
	snprintf(b.received, sizeof(b.received), "tcp:127.0.0.1:5070");
	EXPECT_INT(store_binding_upsert(st, &b), ==, 0);
	struct store_binding b2 = b;
	snprintf(b2.contact, sizeof(b2.contact), "sip:other@192.0.2.9");
	b2.instance_id[0] = '\0';
	b2.reg_id = 0;
	b2.expires = 9000;
	EXPECT_INT(store_binding_upsert(st, &b2), ==, 0);
	store_close(st);

	st = open_ok();
	struct bindings bs = {0};
	EXPECT_INT(store_binding_list(st, "sip:alice@ims.example.org", 1000, collect_binding, &bs),
		   ==, 0);
	EXPECT_INT(bs.n, ==, 2);
	/* By expiry: b2 first. */
	EXPECT_STR(bs.b[0].contact, "sip:other@192.0.2.9");
	EXPECT_STR(bs.b[1].contact, b.contact);
	EXPECT_STR(bs.b[1].path, b.path);
	EXPECT_STR(bs.b[1].instance_id, b.instance_id);
	EXPECT_INT(bs.b[1].reg_id, ==, 1);
	EXPECT_INT(bs.b[1].expires, ==, 10000);
	EXPECT_STR(bs.b[1].call_id, "call-1");
	EXPECT_INT(bs.b[1].cseq, ==, 2);
	EXPECT_STR(bs.b[1].received, "tcp:127.0.0.1:5070");

	/* Same contact: refreshed in place. */
	b.expires = 12000;
	b.cseq = 3;
	EXPECT_INT(store_binding_upsert(st, &b), ==, 0);
	/* Same instance and reg-id, new contact (a new flow): replaces it. */
	struct store_binding b3 = b;
	snprintf(b3.contact, sizeof(b3.contact), "sip:alice@newflow.invalid;transport=ws");
	EXPECT_INT(store_binding_upsert(st, &b3), ==, 0);
	/* Same instance, another reg-id (RFC 5626 outbound second flow): kept. */
	struct store_binding b4 = b;
	snprintf(b4.contact, sizeof(b4.contact), "sip:alice@flow2.invalid;transport=ws");
	b4.reg_id = 2;
	EXPECT_INT(store_binding_upsert(st, &b4), ==, 0);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:alice@ims.example.org", 1000, collect_binding, &bs),
		   ==, 0);
	EXPECT_INT(bs.n, ==, 3);
	for (size_t i = 0; i < bs.n; i++)
		EXPECT_TRUE(strcmp(bs.b[i].contact, b.contact) != 0);

	/* Listing hides expired ones; expire deletes them. */
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:alice@ims.example.org", 9500, collect_binding, &bs),
		   ==, 0);
	EXPECT_INT(bs.n, ==, 2);
	EXPECT_INT(store_binding_expire(st, 9000), ==, 1);
	EXPECT_INT(store_binding_expire(st, 9000), ==, 0);
	EXPECT_INT(store_binding_delete(st, "sip:alice@ims.example.org", b3.contact), ==, 0);
	EXPECT_INT(store_binding_delete(st, "sip:alice@ims.example.org", b3.contact), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(store_binding_delete_impu(st, "sip:alice@ims.example.org"), ==, 1);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:alice@ims.example.org", 0, collect_binding, &bs),
		   ==, 0);
	EXPECT_INT(bs.n, ==, 0);
	/* A failed flow (430): its Contact goes from every IMPU, the others stay. */
	struct store_binding f1 = b2, f2 = b2;
	snprintf(f1.contact, sizeof(f1.contact), "sip:dead@flow.invalid;transport=ws");
	snprintf(f2.contact, sizeof(f2.contact), "sip:live@flow.invalid;transport=ws");
	EXPECT_INT(store_binding_upsert(st, &f1), ==, 0);
	EXPECT_INT(store_binding_upsert(st, &f2), ==, 0);
	EXPECT_INT(store_binding_delete_contact(st, f1.contact), ==, 1);
	EXPECT_INT(store_binding_delete_contact(st, f1.contact), ==, 0);
	char longc[WIMS_REG_CONTACT_MAX + 8];
	memset(longc, 'x', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	EXPECT_INT(store_binding_delete_contact(st, longc), ==, 0);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:alice@ims.example.org", 0, collect_binding, &bs),
		   ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	EXPECT_STR(bs.b[0].contact, f2.contact);
	EXPECT_INT(store_binding_delete_impu(st, "sip:alice@ims.example.org"), ==, 1);
	/* Refusals: no contact, too long a path. */
	struct store_binding bad = b;
	bad.contact[0] = '\0';
	EXPECT_INT(store_binding_upsert(st, &bad), ==, WIMS_EINVAL);
	store_close(st);
}

static void transaction_rollback_and_commit(void)
{
	fresh_path("txn.db");
	struct store *st = open_ok();
	EXPECT_INT(store_begin(st), ==, 0);
	EXPECT_INT(add_sub(st, "a@x"), ==, 0);
	EXPECT_INT(add_impu(st, "a@x", "sip:a@x", 0), ==, 0);
	EXPECT_INT(store_rollback(st), ==, 0);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(st, "a@x", &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_begin(st), ==, 0);
	for (int i = 0; i < 1000; i++) {
		char impi[32];
		snprintf(impi, sizeof(impi), "u%d@x", i);
		EXPECT_INT(add_sub(st, impi), ==, 0);
	}
	/* A failed write inside leaves the transaction usable. */
	EXPECT_INT(add_sub(st, "u1@x"), ==, WIMS_EEXIST);
	EXPECT_INT(store_commit(st), ==, 0);
	store_close(st);
	st = open_ok();
	uint64_t n = 0;
	EXPECT_INT(store_subscriber_count(st, &n), ==, 0);
	EXPECT_INT(n, ==, 1000);
	store_close(st);
}

/* Two handles on one file (two workers, or cscf and the CLI). */
static void two_handles_share_a_file(void)
{
	fresh_path("two.db");
	struct store *a = open_ok(), *b = open_ok();
	EXPECT_TRUE(a && b);
	EXPECT_INT(add_sub(a, "a@x"), ==, 0);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(b, "a@x", &got), ==, 0);
	EXPECT_INT(add_impu(b, "a@x", "sip:a@x", 0), ==, 0);
	struct store_impu u;
	EXPECT_INT(store_impu_get(a, "sip:a@x", &u), ==, 0);
	store_close(a);
	store_close(b);
}

/* The HSS data version moves on any subscriber or impu change, by any
 * handle, and not on binding writes; a file without its triggers (made
 * before them) gets them on open. */
static void hss_version_moves_on_hss_changes(void)
{
	fresh_path("version.db");
	struct store *a = open_ok(), *b = open_ok();
	EXPECT_TRUE(a && b);
	int64_t v0 = -1, v1 = -1, v2 = -1, v3 = -1, v4 = -1;
	EXPECT_INT(store_hss_version(a, &v0), ==, 0);
	EXPECT_INT(add_sub(b, "v@x"), ==, 0);
	EXPECT_INT(store_hss_version(a, &v1), ==, 0);
	EXPECT_TRUE(v1 != v0);
	EXPECT_INT(add_impu(b, "v@x", "sip:v@x", 0), ==, 0);
	EXPECT_INT(store_subscriber_set_password(b, "v@x", "pw", 2), ==, 0);
	EXPECT_INT(store_hss_version(a, &v2), ==, 0);
	EXPECT_TRUE(v2 != v1);
	struct store_binding bd = {.impu = "sip:v@x", .contact = "sip:v@h", .expires = 100};
	EXPECT_INT(store_binding_upsert(b, &bd), ==, 0);
	EXPECT_INT(store_hss_version(a, &v3), ==, 0);
	EXPECT_INT(v3, ==, v2);
	EXPECT_INT(store_impu_set_barred(a, "sip:v@x", true), ==, 0);
	EXPECT_INT(store_hss_version(b, &v4), ==, 0);
	EXPECT_TRUE(v4 != v3);
	store_close(a);
	store_close(b);

	sqlite3 *db;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db, "DROP TRIGGER hss_v_sub_upd; DROP TRIGGER hss_v_impu_del;",
				NULL, NULL, NULL),
		   ==, SQLITE_OK);
	sqlite3_close(db);
	a = open_ok();
	EXPECT_TRUE(a != NULL);
	char n[32] = "";
	EXPECT_INT(pragma_text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'", n,
			       sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "6");
	EXPECT_INT(store_hss_version(a, &v0), ==, 0);
	EXPECT_INT(store_subscriber_set_barred(a, "v@x", true), ==, 0);
	EXPECT_INT(store_hss_version(a, &v1), ==, 0);
	EXPECT_TRUE(v1 != v0);
	store_close(a);
}

static void schemes_set_and_refused(void)
{
	fresh_path("schemes.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "s@x"), ==, 0);
	int64_t v0 = -1, v1 = -1;
	EXPECT_INT(store_hss_version(st, &v0), ==, 0);
	EXPECT_INT(store_subscriber_set_schemes(st, "s@x", STORE_SCHEME_AKAV2 | STORE_SCHEME_AKAV1),
		   ==, 0);
	struct store_subscriber got;
	EXPECT_INT(store_subscriber_get(st, "s@x", &got), ==, 0);
	EXPECT_INT(got.schemes, ==, STORE_SCHEME_AKAV2 | STORE_SCHEME_AKAV1);
	/* The Cx cache must see it at once. */
	EXPECT_INT(store_hss_version(st, &v1), ==, 0);
	EXPECT_TRUE(v1 != v0);
	EXPECT_INT(store_subscriber_set_schemes(st, "s@x", 0), ==, WIMS_EINVAL);
	EXPECT_INT(store_subscriber_set_schemes(st, "s@x", 1u << 4), ==, WIMS_EINVAL);
	EXPECT_INT(store_subscriber_set_schemes(st, "nobody@x", STORE_SCHEME_DIGEST), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(store_subscriber_get(st, "s@x", &got), ==, 0);
	EXPECT_INT(got.schemes, ==, STORE_SCHEME_AKAV2 | STORE_SCHEME_AKAV1);
	/* The bit values are the contract (they are in files). */
	EXPECT_INT(STORE_SCHEME_DIGEST, ==, 1);
	EXPECT_INT(STORE_SCHEME_AKAV1, ==, 2);
	EXPECT_INT(STORE_SCHEME_TNA, ==, 4);
	EXPECT_INT(STORE_SCHEME_AKAV2, ==, 8);
	store_close(st);
}

static struct store_aka aka_of(const char *impi, uint8_t fill)
{
	struct store_aka a;
	memset(&a, 0, sizeof(a));
	snprintf(a.impi, sizeof(a.impi), "%s", impi);
	memset(a.k, fill, sizeof(a.k));
	memset(a.opc, fill + 1, sizeof(a.opc));
	a.amf[0] = 0x80;
	return a;
}

static void aka_set_get_take(void)
{
	fresh_path("aka.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "k@x"), ==, 0);
	struct store_aka got, a = aka_of("k@x", 0x11);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_aka_take(st, "k@x", 1, &got), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_aka_set_sqn(st, "k@x", 5), ==, WIMS_ENOTFOUND);
	struct store_aka nobody = aka_of("nobody@x", 1);
	EXPECT_INT(store_aka_set(st, &nobody), ==, WIMS_ENOTFOUND);

	int64_t v0 = -1, v1 = -1;
	EXPECT_INT(store_hss_version(st, &v0), ==, 0);
	EXPECT_INT(store_aka_set(st, &a), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_STR(got.impi, "k@x");
	EXPECT_MEM(got.k, a.k, 16);
	EXPECT_MEM(got.opc, a.opc, 16);
	EXPECT_MEM(got.amf, a.amf, 2);
	EXPECT_INT(got.sqn, ==, 0);
	EXPECT_INT(got.ind, ==, 0);

	/* Three vectors: IND 0, 1, 2 with SEQ 1, 2, 3. */
	EXPECT_INT(store_aka_take(st, "k@x", 3, &got), ==, 0);
	EXPECT_INT(got.sqn, ==, 0);
	EXPECT_INT(got.ind, ==, 0);
	EXPECT_MEM(got.k, a.k, 16);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, (3 << AKA_IND_BITS) | 2);
	EXPECT_INT(got.ind, ==, 3);
	EXPECT_INT(store_aka_take(st, "k@x", 1, &got), ==, 0);
	EXPECT_INT(got.sqn, ==, (3 << AKA_IND_BITS) | 2);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, (4 << AKA_IND_BITS) | 3);
	EXPECT_INT(got.ind, ==, 4);
	/* AKA writes are not HSS data changes: the Cx cache stays. */
	EXPECT_INT(store_hss_version(st, &v1), ==, 0);
	EXPECT_INT(v1, ==, v0);

	/* IND wraps around the 32 slots. */
	EXPECT_INT(store_aka_take(st, "k@x", 30, &got), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.ind, ==, 2);
	EXPECT_INT(got.sqn, ==, (34 << AKA_IND_BITS) | 1);
	EXPECT_INT(store_aka_take(st, "k@x", 0, &got), ==, WIMS_EINVAL);
	EXPECT_INT(store_aka_take(st, "k@x", AKA_IND_SLOTS + 1, &got), ==, WIMS_EINVAL);

	/* New keys keep the SQN; set_sqn moves it, keeping IND. */
	struct store_aka b = aka_of("k@x", 0x55);
	b.sqn = 999; /* ignored by set */
	EXPECT_INT(store_aka_set(st, &b), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_MEM(got.k, b.k, 16);
	EXPECT_INT(got.sqn, ==, (34 << AKA_IND_BITS) | 1);
	EXPECT_INT(store_aka_set_sqn(st, "k@x", 7 << AKA_IND_BITS), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, 7 << AKA_IND_BITS);
	EXPECT_INT(got.ind, ==, 2);
	EXPECT_INT(store_aka_set_sqn(st, "k@x", AKA_SQN_MAX + 1), ==, WIMS_EINVAL);

	/* The SQN space ends: refused, nothing changed. */
	EXPECT_INT(store_aka_set_sqn(st, "k@x", AKA_SQN_MAX - 40), ==, 0);
	EXPECT_INT(store_aka_take(st, "k@x", 2, &got), ==, WIMS_ETOOBIG);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, AKA_SQN_MAX - 40);
	EXPECT_INT(store_aka_take(st, "k@x", 1, &got), ==, 0);

	/* Inside a caller's transaction (a savepoint), undone by rollback. */
	EXPECT_INT(store_aka_set_sqn(st, "k@x", 0), ==, 0);
	EXPECT_INT(store_begin(st), ==, 0);
	EXPECT_INT(store_aka_take(st, "k@x", 2, &got), ==, 0);
	EXPECT_INT(store_rollback(st), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, 0);

	/* Gone with its subscriber. */
	EXPECT_INT(store_subscriber_remove(st, "k@x"), ==, 0);
	EXPECT_INT(store_aka_get(st, "k@x", &got), ==, WIMS_ENOTFOUND);
	store_close(st);
}

/* Workers of several processes reserve SQNs at once: never the same one. */
#define TAKERS 4
#define TAKES 100

struct taker {
	uint64_t sqn[TAKES];
	int rc;
};

static void *take_thread(void *arg)
{
	struct taker *t = arg;
	struct store *st = open_ok();
	t->rc = st ? 0 : -1;
	for (int i = 0; st && i < TAKES && !t->rc; i++) {
		struct store_aka a;
		t->rc = store_aka_take(st, "t@x", 1, &a);
		t->sqn[i] = store_aka_sqn_next(a.sqn, a.ind);
	}
	store_close(st);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void aka_take_from_threads(void)
{
	fresh_path("takers.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "t@x"), ==, 0);
	struct store_aka a = aka_of("t@x", 3);
	EXPECT_INT(store_aka_set(st, &a), ==, 0);
	static struct taker t[TAKERS];
	pthread_t th[TAKERS];
	for (int i = 0; i < TAKERS; i++)
		pthread_create(&th[i], NULL, take_thread, &t[i]);
	for (int i = 0; i < TAKERS; i++)
		pthread_join(th[i], NULL);
	static uint64_t all[TAKERS * TAKES];
	for (int i = 0; i < TAKERS; i++) {
		EXPECT_INT(t[i].rc, ==, 0);
		memcpy(all + i * TAKES, t[i].sqn, sizeof(t[i].sqn));
	}
	qsort(all, TAKERS * TAKES, sizeof(all[0]), cmp_u64);
	for (int i = 1; i < TAKERS * TAKES; i++)
		EXPECT_TRUE(all[i] > all[i - 1]);
	EXPECT_INT(store_aka_get(st, "t@x", &a), ==, 0);
	EXPECT_INT(a.sqn, ==, all[TAKERS * TAKES - 1]);
	EXPECT_INT(a.sqn >> AKA_IND_BITS, ==, TAKERS * TAKES);
	store_close(st);
}

/* A store made before the IND column (the demo stores of earlier
 * versions) opens, gets the column and keeps its rows. */
static void aka_ind_column_added_on_open(void)
{
	fresh_path("old-aka.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "o@x"), ==, 0);
	store_close(st);
	sqlite3 *db;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db,
				"DROP TABLE aka;"
				"CREATE TABLE aka ("
				"  impi TEXT PRIMARY KEY REFERENCES subscriber(impi) ON DELETE CASCADE,"
				"  k BLOB NOT NULL, opc BLOB NOT NULL, amf BLOB NOT NULL,"
				"  sqn INTEGER NOT NULL DEFAULT 0);"
				"INSERT INTO aka VALUES ('o@x', zeroblob(16), zeroblob(16), x'8000', 64);",
				NULL, NULL, NULL),
		   ==, SQLITE_OK);
	sqlite3_close(db);
	char n[32] = "";
	EXPECT_INT(pragma_text("SELECT count(*) FROM pragma_table_info('aka') WHERE name = 'ind'", n,
			       sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "0");
	st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(pragma_text("SELECT count(*) FROM pragma_table_info('aka') WHERE name = 'ind'", n,
			       sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "1");
	EXPECT_INT(pragma_text("PRAGMA user_version", n, sizeof(n)), ==, 0);
	EXPECT_STR(n, "1");
	struct store_aka got;
	EXPECT_INT(store_aka_take(st, "o@x", 1, &got), ==, 0);
	EXPECT_INT(got.sqn, ==, 64);
	EXPECT_INT(got.ind, ==, 0);
	EXPECT_INT(store_aka_get(st, "o@x", &got), ==, 0);
	EXPECT_INT(got.sqn, ==, 3 << AKA_IND_BITS);
	store_close(st);
	/* A row of the wrong shape is an error, not a short key. */
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db, "UPDATE aka SET k = x'00'", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	st = open_ok();
	EXPECT_INT(store_aka_get(st, "o@x", &got), ==, WIMS_ESTORE);
	store_close(st);
}

/* Collects "wwsf|impi;" rows of a store_wwsf_fn walk. */
static int pair_cat(void *arg, const char *wwsf, const char *impi)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 512 - n, "%s|%s;", wwsf, impi);
	return 0;
}

static int stop_walk(void *arg, const char *wwsf, const char *impi)
{
	WIMS_UNUSED(wwsf);
	WIMS_UNUSED(impi);
	(*(int *)arg)++;
	return 7;
}

/* REQ 2.1: the WWSFs a subscriber allows. */
static void wwsf_allow_and_disallow(void)
{
	fresh_path("wwsf-allow.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "g@x"), ==, 0);
	EXPECT_INT(add_sub(st, "h@x"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "nobody@x", "w1"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_wwsf_allow(st, "g@x", ""), ==, WIMS_EINVAL);
	EXPECT_INT(store_wwsf_allow(st, "g@x", NULL), ==, WIMS_EINVAL);
	char big[WIMS_WWSF_ID_MAX + 1];
	memset(big, 'w', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_INT(store_wwsf_allow(st, "g@x", big), ==, WIMS_ETOOBIG);
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "w1"));
	EXPECT_INT(store_wwsf_allow(st, "g@x", "w1"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "g@x", "w1"), ==, 0); /* idempotent */
	EXPECT_INT(store_wwsf_allow(st, "g@x", "w2"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "h@x", "w1"), ==, 0);
	EXPECT_TRUE(store_wwsf_allowed(st, "g@x", "w1"));
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "W1")); /* exact */
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "w3"));
	EXPECT_TRUE(!store_wwsf_allowed(st, "nobody@x", "w1"));
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", big));
	EXPECT_TRUE(!store_wwsf_allowed(st, NULL, "w1"));
	char all[512] = "";
	EXPECT_INT(store_wwsf_allowed_list(st, NULL, pair_cat, all), ==, 0);
	EXPECT_STR(all, "w1|g@x;w2|g@x;w1|h@x;");
	all[0] = '\0';
	EXPECT_INT(store_wwsf_allowed_list(st, "h@x", pair_cat, all), ==, 0);
	EXPECT_STR(all, "w1|h@x;");
	int calls = 0;
	EXPECT_INT(store_wwsf_allowed_list(st, NULL, stop_walk, &calls), ==, 7);
	EXPECT_INT(calls, ==, 1);
	EXPECT_INT(store_wwsf_disallow(st, "g@x", "w1"), ==, 0);
	EXPECT_INT(store_wwsf_disallow(st, "g@x", "w1"), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "w1"));
	EXPECT_TRUE(store_wwsf_allowed(st, "h@x", "w1")); /* the other IMPI keeps it */
	/* Removing the subscription removes its allowed WWSFs. */
	EXPECT_INT(store_subscriber_remove(st, "g@x"), ==, 0);
	EXPECT_INT(add_sub(st, "g@x"), ==, 0);
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "w2"));
	store_close(st);
}

/* REQ 3.1, 3.2: an IMPI is in one WWSF's pool at most. */
static void wwsf_pools(void)
{
	fresh_path("wwsf-pool.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "p1@x"), ==, 0);
	EXPECT_INT(add_sub(st, "p2@x"), ==, 0);
	char owner[WIMS_WWSF_ID_MAX] = "junk";
	EXPECT_INT(store_pool_owner(st, "p1@x", owner), ==, WIMS_ENOTFOUND);
	EXPECT_STR(owner, "");
	EXPECT_INT(store_pool_add(st, "shop", "nobody@x"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_pool_add(st, "", "p1@x"), ==, WIMS_EINVAL);
	EXPECT_INT(store_pool_add(st, "shop", "p1@x"), ==, 0);
	EXPECT_INT(store_pool_add(st, "shop", "p1@x"), ==, 0); /* idempotent */
	EXPECT_INT(store_pool_add(st, "shop", "p2@x"), ==, 0);
	EXPECT_INT(store_pool_add(st, "other", "p1@x"), ==, WIMS_EEXIST);
	EXPECT_INT(store_pool_owner(st, "p1@x", owner), ==, 0);
	EXPECT_STR(owner, "shop");
	char all[512] = "";
	EXPECT_INT(store_pool_list(st, NULL, pair_cat, all), ==, 0);
	EXPECT_STR(all, "shop|p1@x;shop|p2@x;");
	all[0] = '\0';
	EXPECT_INT(store_pool_list(st, "other", pair_cat, all), ==, 0);
	EXPECT_STR(all, "");
	EXPECT_INT(store_pool_remove(st, "other", "p1@x"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_pool_remove(st, "shop", "p1@x"), ==, 0);
	EXPECT_INT(store_pool_remove(st, "shop", "p1@x"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_pool_owner(st, "p1@x", owner), ==, WIMS_ENOTFOUND);
	/* Free again: another WWSF may take it. */
	EXPECT_INT(store_pool_add(st, "other", "p1@x"), ==, 0);
	all[0] = '\0';
	EXPECT_INT(store_pool_list(st, NULL, pair_cat, all), ==, 0);
	EXPECT_STR(all, "other|p1@x;shop|p2@x;");
	EXPECT_INT(store_subscriber_remove(st, "p2@x"), ==, 0);
	all[0] = '\0';
	EXPECT_INT(store_pool_list(st, "shop", pair_cat, all), ==, 0);
	EXPECT_STR(all, "");
	store_close(st);
}

/* REQ 2.2: the block list. */
static void wwsf_block_list(void)
{
	fresh_path("wwsf-block.db");
	struct store *st = open_ok();
	EXPECT_TRUE(!store_wwsf_blocked(st, "shop"));
	EXPECT_INT(store_wwsf_block(st, "", "x", 1), ==, WIMS_EINVAL);
	char big[STORE_BLOCK_REASON_MAX + 1];
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_INT(store_wwsf_block(st, "shop", big, 1), ==, WIMS_ETOOBIG);
	EXPECT_TRUE(!store_wwsf_blocked(st, "shop"));
	EXPECT_INT(store_wwsf_block(st, "shop", "fraud", 100), ==, 0);
	EXPECT_INT(store_wwsf_block(st, "b", NULL, 101), ==, 0);
	EXPECT_TRUE(store_wwsf_blocked(st, "shop"));
	EXPECT_TRUE(store_wwsf_blocked(st, "b"));
	EXPECT_TRUE(!store_wwsf_blocked(st, "wwsf"));
	EXPECT_TRUE(!store_wwsf_blocked(st, NULL));
	/* Again: the reason is updated, the time it started kept. */
	EXPECT_INT(store_wwsf_block(st, "shop", "fraud, confirmed", 200), ==, 0);
	char all[512] = "";
	EXPECT_INT(store_wwsf_block_list(st, pair_cat, all), ==, 0);
	EXPECT_STR(all, "b|;shop|fraud, confirmed;");
	char since[32];
	EXPECT_INT(pragma_text("SELECT since FROM wwsf_block WHERE wwsf_id = 'shop'", since,
			       sizeof(since)),
		   ==, 0);
	EXPECT_STR(since, "100");
	EXPECT_INT(store_wwsf_unblock(st, "shop"), ==, 0);
	EXPECT_INT(store_wwsf_unblock(st, "shop"), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_wwsf_unblock(st, "never"), ==, WIMS_ENOTFOUND);
	EXPECT_TRUE(!store_wwsf_blocked(st, "shop"));
	EXPECT_TRUE(store_wwsf_blocked(st, "b"));
	store_close(st);
	/* Another handle (the cscf's, the CLI's) sees it at once. */
	struct store *a = open_ok(), *b = open_ok();
	EXPECT_INT(store_wwsf_block(a, "shop", "again", 300), ==, 0);
	EXPECT_TRUE(store_wwsf_blocked(b, "shop"));
	EXPECT_INT(store_wwsf_unblock(a, "shop"), ==, 0);
	EXPECT_TRUE(!store_wwsf_blocked(b, "shop"));
	store_close(a);
	store_close(b);
}

static int link_cat(void *arg, const struct store_link *l)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 512 - n, "%s,%s,%s,%s,%s,%d;", l->web_id, l->idp, l->impu, l->impi,
		 l->wwsf_grant, l->confirmed);
	return 0;
}

static void code_hash(uint8_t h[32], int n)
{
	memset(h, 0, 32);
	h[0] = (uint8_t)n;
	h[31] = 0xa5;
}

/* REQ 2.5, Annex C M2: a link is usable once its code confirmed it. */
static void web_identity_links(void)
{
	fresh_path("links.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "g@x"), ==, 0);
	EXPECT_INT(add_impu(st, "g@x", "sip:g@x", 0), ==, 0);
	EXPECT_INT(add_impu(st, "g@x", "tel:+1", 0), ==, 0);
	uint8_t c1[32], c2[32], c3[32];
	code_hash(c1, 1);
	code_hash(c2, 2);
	code_hash(c3, 3);
	struct store_link l;
	char got[512] = "";

	/* Refusals. */
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:nobody@x", "", c1, 200, 100), ==,
		   WIMS_ENOTFOUND);
	EXPECT_INT(store_link_request(st, "", "waf", "sip:g@x", "", c1, 200, 100), ==,
		   WIMS_EINVAL);
	EXPECT_INT(store_link_request(st, "grace", "", "sip:g@x", "", c1, 200, 100), ==,
		   WIMS_EINVAL);
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:g@x", "", NULL, 200, 100), ==,
		   WIMS_EINVAL);
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:g@x", "", c1, 100, 100), ==,
		   WIMS_EINVAL); /* already expired */
	char bigid[WIMS_WEB_ID_MAX + 1];
	memset(bigid, 'u', sizeof(bigid) - 1);
	bigid[sizeof(bigid) - 1] = '\0';
	EXPECT_INT(store_link_request(st, bigid, "waf", "sip:g@x", "", c1, 200, 100), ==,
		   WIMS_ETOOBIG);

	/* Pending: never returned as a link, its IMPI looked up. */
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:g@x", "wwsf.a", c1, 200, 100), ==,
		   0);
	EXPECT_INT(store_links_confirmed(st, "grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "");
	EXPECT_INT(store_link_list(st, link_cat, got), ==, 0);
	EXPECT_STR(got, "grace,waf,sip:g@x,g@x,wwsf.a,0;");
	EXPECT_TRUE(!store_wwsf_allowed(st, "g@x", "wwsf.a"));

	/* One live code names one link. */
	EXPECT_INT(store_link_request(st, "eve", "waf", "tel:+1", "", c1, 200, 100), ==,
		   WIMS_EAGAIN);
	/* Wrong code, expired code: nothing confirmed. */
	EXPECT_INT(store_link_confirm(st, c2, 150, &l), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_link_confirm(st, c1, 200, &l), ==, WIMS_ENOTFOUND);
	EXPECT_INT(store_link_confirm(st, c1, 250, &l), ==, WIMS_ENOTFOUND);
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "");

	/* A new request voids the old code. */
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:g@x", "wwsf.a", c2, 400, 300), ==,
		   0);
	EXPECT_INT(store_link_confirm(st, c1, 310, &l), ==, WIMS_ENOTFOUND);
	/* The right live code confirms, once, and grants the WWSF. */
	EXPECT_INT(store_link_confirm(st, c2, 399, &l), ==, 0);
	EXPECT_STR(l.web_id, "grace");
	EXPECT_STR(l.idp, "waf");
	EXPECT_STR(l.impu, "sip:g@x");
	EXPECT_STR(l.impi, "g@x");
	EXPECT_STR(l.wwsf_grant, "wwsf.a");
	EXPECT_TRUE(l.confirmed);
	EXPECT_INT(l.created_at, ==, 300);
	EXPECT_TRUE(store_wwsf_allowed(st, "g@x", "wwsf.a"));
	EXPECT_INT(store_link_confirm(st, c2, 399, &l), ==, WIMS_ENOTFOUND);
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "grace,waf,sip:g@x,g@x,wwsf.a,1;");
	/* Only for that (web_id, idp). */
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "grace", "wwsf.a", link_cat, got), ==, 0);
	EXPECT_INT(store_links_confirmed(st, "Grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "");
	/* A confirmed link is left alone; its old code is free again. */
	EXPECT_INT(store_link_request(st, "grace", "waf", "sip:g@x", "", c3, 900, 400), ==,
		   WIMS_EEXIST);
	EXPECT_INT(store_link_confirm(st, c3, 401, NULL), ==, WIMS_ENOTFOUND);

	/* Without a grant nothing is allowed; confirming needs no out. */
	EXPECT_INT(store_link_request(st, "erin", "wwsf.a", "tel:+1", "", c2, 900, 400), ==, 0);
	EXPECT_INT(store_link_request(st, "grace", "waf", "tel:+1", "", c3, 900, 400), ==, 0);
	EXPECT_INT(store_link_confirm(st, c2, 500, NULL), ==, 0);
	got[0] = '\0';
	EXPECT_INT(store_wwsf_allowed_list(st, "g@x", pair_cat, got), ==, 0);
	EXPECT_STR(got, "wwsf.a|g@x;");
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "grace,waf,sip:g@x,g@x,wwsf.a,1;"); /* tel:+1 still pending */
	got[0] = '\0';
	EXPECT_INT(store_link_list(st, link_cat, got), ==, 0);
	EXPECT_STR(got, "erin,wwsf.a,tel:+1,g@x,,1;grace,waf,sip:g@x,g@x,wwsf.a,1;"
			"grace,waf,tel:+1,g@x,,0;");
	/* An expired pending link goes away with the next request. */
	EXPECT_INT(store_link_request(st, "bob", "waf", "sip:g@x", "", c1, 2000, 1000), ==, 0);
	got[0] = '\0';
	EXPECT_INT(store_link_list(st, link_cat, got), ==, 0);
	EXPECT_TRUE(strstr(got, "grace,waf,tel:+1") == NULL);

	EXPECT_INT(store_link_remove(st, "grace", "waf", "sip:g@x"), ==, 0);
	EXPECT_INT(store_link_remove(st, "grace", "waf", "sip:g@x"), ==, WIMS_ENOTFOUND);
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "grace", "waf", link_cat, got), ==, 0);
	EXPECT_STR(got, "");
	/* Removing the IMPU removes its links. */
	EXPECT_INT(store_impu_remove(st, "tel:+1"), ==, 0);
	got[0] = '\0';
	EXPECT_INT(store_links_confirmed(st, "erin", "wwsf.a", link_cat, got), ==, 0);
	EXPECT_STR(got, "");
	store_close(st);
}

/* A file with the first, never used web_identity table (and no
 * wwsf_block) gets the new ones on open; its other data stays. */
static void old_web_identity_replaced_on_open(void)
{
	fresh_path("old-webid.db");
	struct store *st = open_ok();
	EXPECT_INT(add_sub(st, "o@x"), ==, 0);
	EXPECT_INT(store_wwsf_allow(st, "o@x", "w"), ==, 0);
	store_close(st);
	sqlite3 *db;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db,
				"DROP TABLE web_identity; DROP TABLE wwsf_block;"
				"DROP INDEX wwsf_pool_by_impi;"
				"CREATE TABLE web_identity ("
				"  web_id TEXT NOT NULL,"
				"  wwsf_id TEXT NOT NULL,"
				"  impi TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,"
				"  confirmed INTEGER NOT NULL DEFAULT 0,"
				"  created_at INTEGER NOT NULL,"
				"  PRIMARY KEY (web_id, wwsf_id, impi));",
				NULL, NULL, NULL),
		   ==, SQLITE_OK);
	sqlite3_close(db);
	st = open_ok();
	EXPECT_TRUE(st != NULL);
	char n[32] = "";
	EXPECT_INT(pragma_text("SELECT count(*) FROM pragma_table_info('web_identity') "
			       "WHERE name IN ('idp', 'impu', 'code_hash', 'wwsf_grant')",
			       n, sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "4");
	EXPECT_INT(pragma_text("SELECT count(*) FROM sqlite_master WHERE name IN "
			       "('wwsf_block', 'wwsf_pool_by_impi', 'web_identity_by_code')",
			       n, sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "3");
	EXPECT_TRUE(store_wwsf_allowed(st, "o@x", "w"));
	EXPECT_INT(store_wwsf_block(st, "w", "r", 1), ==, 0);
	EXPECT_TRUE(store_wwsf_blocked(st, "w"));
	store_close(st);
	/* A file that has them already is left alone (the block stays). */
	st = open_ok();
	EXPECT_TRUE(store_wwsf_blocked(st, "w"));
	store_close(st);
}

/* One binding of impu at contact through wwsf ("" for Digest). */
static int put_binding(struct store *st, const char *impu, const char *contact, const char *wwsf)
{
	struct store_binding *b = calloc(1, sizeof(*b));
	if (!b)
		return WIMS_ENOMEM;
	snprintf(b->impu, sizeof(b->impu), "%s", impu);
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	snprintf(b->received, sizeof(b->received), "tcp:127.0.0.1:5070");
	snprintf(b->wwsf, sizeof(b->wwsf), "%s", wwsf);
	b->expires = 10000;
	int rc = store_binding_upsert(st, b);
	free(b);
	return rc;
}

/* TR 33.871 REQ 2.2: a binding keeps the WWSF it came through, and a
 * block removes that WWSF's bindings only. */
static void binding_wwsf_recorded_and_removed(void)
{
	fresh_path("bind-wwsf.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	/* grace: one WIC, both IMPUs of her set; pool1 and pool2 through the
	 * third party; bob by Digest; erin through the operator WWSF too. */
	EXPECT_INT(put_binding(st, "sip:grace@x", "sip:g@192.0.2.1", "wwsf.ims.example.org"), ==, 0);
	EXPECT_INT(put_binding(st, "tel:+15550000007", "sip:g@192.0.2.1", "wwsf.ims.example.org"), ==,
		   0);
	EXPECT_INT(put_binding(st, "sip:pool1@x", "sip:p1@192.0.2.2", "webshop.example.net"), ==, 0);
	EXPECT_INT(put_binding(st, "sip:pool2@x", "sip:p2@192.0.2.3", "webshop.example.net"), ==, 0);
	EXPECT_INT(put_binding(st, "sip:pool2@x", "sip:p2b@192.0.2.4", "webshop.example.net"), ==, 0);
	EXPECT_INT(put_binding(st, "sip:bob@x", "sip:b@192.0.2.5", ""), ==, 0);
	struct bindings bs = {0};
	EXPECT_INT(store_binding_list(st, "sip:pool1@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	EXPECT_STR(bs.b[0].wwsf, "webshop.example.net");
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:bob@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	EXPECT_STR(bs.b[0].wwsf, "");
	/* A Digest re-registration of the same Contact is no longer TNA. */
	EXPECT_INT(put_binding(st, "sip:pool1@x", "sip:p1@192.0.2.2", ""), ==, 0);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:pool1@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	EXPECT_STR(bs.b[0].wwsf, "");
	EXPECT_INT(put_binding(st, "sip:pool1@x", "sip:p1@192.0.2.2", "webshop.example.net"), ==, 0);

	/* Live or not, without reading the rows. */
	EXPECT_INT(store_binding_live(st, "sip:pool1@x", 0), ==, 1);
	EXPECT_INT(store_binding_live(st, "sip:pool1@x", 10000), ==, 0);
	EXPECT_INT(store_binding_live(st, "sip:nobody@x", 0), ==, 0);

	/* Too long a WWSF is refused, not cut. */
	char longw[WIMS_WWSF_ID_MAX + 1];
	memset(longw, 'w', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	struct store_binding *b = calloc(1, sizeof(*b));
	EXPECT_TRUE(b != NULL);
	snprintf(b->impu, sizeof(b->impu), "sip:pool3@x");
	snprintf(b->contact, sizeof(b->contact), "sip:p3@192.0.2.6");
	memset(b->wwsf, 'w', sizeof(b->wwsf)); /* no terminator */
	b->expires = 10000;
	EXPECT_INT(store_binding_upsert(st, b), ==, WIMS_ETOOBIG);
	free(b);

	int contacts = -1;
	EXPECT_INT(store_binding_delete_wwsf(st, "", &contacts), ==, WIMS_EINVAL);
	EXPECT_INT(contacts, ==, 0);
	EXPECT_INT(store_binding_delete_wwsf(st, longw, &contacts), ==, 0);
	EXPECT_INT(store_binding_delete_wwsf(st, "nobody.example", &contacts), ==, 0);
	EXPECT_INT(contacts, ==, 0);
	/* The third party's: 3 rows, 3 Contacts; nothing else goes. */
	EXPECT_INT(store_binding_delete_wwsf(st, "webshop.example.net", &contacts), ==, 3);
	EXPECT_INT(contacts, ==, 3);
	EXPECT_INT(store_binding_delete_wwsf(st, "webshop.example.net", NULL), ==, 0);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:pool1@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(store_binding_list(st, "sip:pool2@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 0);
	EXPECT_INT(store_binding_list(st, "sip:grace@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(store_binding_list(st, "tel:+15550000007", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(store_binding_list(st, "sip:bob@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 3);
	/* The operator WWSF's: one registration of a two-IMPU set. */
	EXPECT_INT(store_binding_delete_wwsf(st, "wwsf.ims.example.org", &contacts), ==, 2);
	EXPECT_INT(contacts, ==, 1);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:bob@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	/* Inside a caller's transaction, rolled back: nothing went. */
	EXPECT_INT(put_binding(st, "sip:pool4@x", "sip:p4@192.0.2.7", "webshop.example.net"), ==, 0);
	EXPECT_INT(store_begin(st), ==, 0);
	EXPECT_INT(store_binding_delete_wwsf(st, "webshop.example.net", &contacts), ==, 1);
	EXPECT_INT(store_rollback(st), ==, 0);
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:pool4@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	store_close(st);
}

/* The block deregisters (S-CSCF name cleared) an IMPI it left without a
 * binding, and only such an IMPI. */
static void binding_wwsf_removal_deregisters(void)
{
	fresh_path("bind-wwsf-dereg.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(add_sub(st, "p@x"), ==, 0);
	EXPECT_INT(add_impu(st, "p@x", "sip:p@x", 1), ==, 0);
	EXPECT_INT(add_sub(st, "g@x"), ==, 0);
	EXPECT_INT(add_impu(st, "g@x", "sip:g@x", 2), ==, 0);
	EXPECT_INT(add_impu(st, "g@x", "tel:+15550000007", 2), ==, 0);
	EXPECT_INT(add_sub(st, "o@x"), ==, 0);
	EXPECT_INT(add_impu(st, "o@x", "sip:o@x", 3), ==, 0);
	const char *scscf = "sip:127.0.0.1:5060";
	EXPECT_INT(store_subscriber_set_scscf(st, "p@x", scscf), ==, 0);
	EXPECT_INT(store_subscriber_set_scscf(st, "g@x", scscf), ==, 0);
	EXPECT_INT(store_subscriber_set_scscf(st, "o@x", scscf), ==, 0);
	/* p: through shop only; g: through shop and by Digest on another
	 * device; o: through the operator WWSF. */
	EXPECT_INT(put_binding(st, "sip:p@x", "sip:p@192.0.2.1", "shop"), ==, 0);
	EXPECT_INT(put_binding(st, "sip:g@x", "sip:g@192.0.2.2", "shop"), ==, 0);
	EXPECT_INT(put_binding(st, "tel:+15550000007", "sip:g@192.0.2.2", "shop"), ==, 0);
	EXPECT_INT(put_binding(st, "sip:g@x", "sip:g@192.0.2.3", ""), ==, 0);
	EXPECT_INT(put_binding(st, "sip:o@x", "sip:o@192.0.2.4", "op"), ==, 0);
	int contacts = 0;
	EXPECT_INT(store_binding_delete_wwsf(st, "shop", &contacts), ==, 3);
	EXPECT_INT(contacts, ==, 2);
	struct store_subscriber sub;
	EXPECT_INT(store_subscriber_get(st, "p@x", &sub), ==, 0);
	EXPECT_STR(sub.scscf_name, "");
	EXPECT_INT(store_subscriber_get(st, "g@x", &sub), ==, 0);
	EXPECT_STR(sub.scscf_name, scscf);
	EXPECT_INT(store_subscriber_get(st, "o@x", &sub), ==, 0);
	EXPECT_STR(sub.scscf_name, scscf);
	store_close(st);
}

/* A store made before bindings recorded their WWSF opens, gets the
 * column (and its index) and keeps its bindings, as Digest ones. */
static void binding_wwsf_column_added_on_open(void)
{
	fresh_path("old-binding.db");
	struct store *st = open_ok();
	EXPECT_TRUE(st != NULL);
	store_close(st);
	sqlite3 *db;
	EXPECT_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	EXPECT_INT(sqlite3_exec(db,
				"DROP TABLE binding;"
				"CREATE TABLE binding ("
				"  impu TEXT NOT NULL,"
				"  contact TEXT NOT NULL,"
				"  path TEXT NOT NULL DEFAULT '',"
				"  instance_id TEXT NOT NULL DEFAULT '',"
				"  reg_id INTEGER NOT NULL DEFAULT 0,"
				"  expires INTEGER NOT NULL,"
				"  call_id TEXT NOT NULL DEFAULT '',"
				"  cseq INTEGER NOT NULL DEFAULT 0,"
				"  received TEXT NOT NULL DEFAULT '',"
				"  PRIMARY KEY (impu, contact));"
				"CREATE INDEX binding_by_expiry ON binding(expires);"
				"INSERT INTO binding (impu, contact, expires) "
				"  VALUES ('sip:old@x', 'sip:old@192.0.2.1', 5000);",
				NULL, NULL, NULL),
		   ==, SQLITE_OK);
	sqlite3_close(db);
	char n[32] = "";
	EXPECT_INT(pragma_text("SELECT count(*) FROM pragma_table_info('binding') WHERE name = 'wwsf'",
			       n, sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "0");
	st = open_ok();
	EXPECT_TRUE(st != NULL);
	EXPECT_INT(pragma_text("SELECT count(*) FROM pragma_table_info('binding') WHERE name = 'wwsf'",
			       n, sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "1");
	EXPECT_INT(pragma_text("SELECT count(*) FROM sqlite_master WHERE name = 'binding_by_wwsf'", n,
			       sizeof(n)),
		   ==, 0);
	EXPECT_STR(n, "1");
	struct bindings bs = {0};
	EXPECT_INT(store_binding_list(st, "sip:old@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	EXPECT_STR(bs.b[0].contact, "sip:old@192.0.2.1");
	EXPECT_STR(bs.b[0].wwsf, "");
	EXPECT_INT(put_binding(st, "sip:new@x", "sip:new@192.0.2.2", "w"), ==, 0);
	EXPECT_INT(store_binding_delete_wwsf(st, "w", NULL), ==, 1);
	store_close(st);
	/* Opened again: left alone, the old binding still there. */
	st = open_ok();
	bs.n = 0;
	EXPECT_INT(store_binding_list(st, "sip:old@x", 0, collect_binding, &bs), ==, 0);
	EXPECT_INT(bs.n, ==, 1);
	store_close(st);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wims-store-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	UNIT_RUN(schema_created_on_open);
	UNIT_RUN(newer_schema_refused);
	UNIT_RUN(subscriber_add_get_remove);
	UNIT_RUN(subscriber_list_in_order);
	UNIT_RUN(password_stores_only_ha1);
	UNIT_RUN(barred_and_scscf);
	UNIT_RUN(impus_and_implicit_sets);
	UNIT_RUN(bindings_persist_across_reopen);
	UNIT_RUN(transaction_rollback_and_commit);
	UNIT_RUN(two_handles_share_a_file);
	UNIT_RUN(hss_version_moves_on_hss_changes);
	UNIT_RUN(schemes_set_and_refused);
	UNIT_RUN(aka_set_get_take);
	UNIT_RUN(aka_take_from_threads);
	UNIT_RUN(aka_ind_column_added_on_open);
	UNIT_RUN(wwsf_allow_and_disallow);
	UNIT_RUN(wwsf_pools);
	UNIT_RUN(wwsf_block_list);
	UNIT_RUN(web_identity_links);
	UNIT_RUN(old_web_identity_replaced_on_open);
	UNIT_RUN(binding_wwsf_recorded_and_removed);
	UNIT_RUN(binding_wwsf_removal_deregisters);
	UNIT_RUN(binding_wwsf_column_added_on_open);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return UNIT_MAIN_END();
}
