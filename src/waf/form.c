/*
 * form.c - form bodies, query strings and Basic credentials (form.h).
 */
#include "waf/form.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/urlenc.h"
#include "core/wims.h"

/* Kept under the WAF's name for its callers (waf.c, the fuzz target);
 * the decoding and its refusals are core's, shared with the WWSF. */
int waf_form_decode(struct slice in, char *out, size_t outsz)
{
	return urlenc_form_decode(in, out, outsz);
}

/* Two encoded names are the same parameter if they decode the same. */
static bool same_name(struct slice a, struct slice b)
{
	char da[64], db[64];
	int la = waf_form_decode(a, da, sizeof(da));
	int lb = waf_form_decode(b, db, sizeof(db));
	return la >= 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
}

int waf_form_parse(struct slice in, struct waf_form *out, const char **why)
{
	static const char *dummy;
	if (!why)
		why = &dummy;
	out->n = 0;
	if (in.len > WAF_FORM_MAX_LEN) {
		*why = "form too long";
		return WIMS_ETOOBIG;
	}
	size_t i = 0;
	while (i < in.len) {
		size_t end = i;
		while (end < in.len && in.p[end] != '&')
			end++;
		if (end > i) { /* "a=1&&b=2": empty pairs are skipped */
			size_t eq = i;
			while (eq < end && in.p[eq] != '=')
				eq++;
			struct waf_form_field fld = {
				.name = {in.p + i, eq - i},
				.value = {eq < end ? in.p + eq + 1 : in.p + end,
					  eq < end ? end - eq - 1 : 0},
			};
			char name[64];
			if (fld.name.len == 0) {
				*why = "empty parameter name";
				return WIMS_EPARSE;
			}
			if (waf_form_decode(fld.name, name, sizeof(name)) < 0) {
				*why = "malformed parameter name";
				return WIMS_EPARSE;
			}
			if (out->n == WAF_FORM_MAX_FIELDS) {
				*why = "too many parameters";
				return WIMS_ETOOBIG;
			}
			for (size_t k = 0; k < out->n; k++) {
				if (same_name(out->f[k].name, fld.name)) {
					/* RFC 6749 3.1: MUST NOT be included more than once */
					*why = "parameter included more than once";
					return WIMS_EPARSE;
				}
			}
			out->f[out->n++] = fld;
		}
		i = end + 1;
	}
	return 0;
}

static const struct waf_form_field *find(const struct waf_form *f, const char *name)
{
	size_t nl = strlen(name);
	for (size_t k = 0; k < f->n; k++) {
		char d[64];
		int l = waf_form_decode(f->f[k].name, d, sizeof(d));
		if (l >= 0 && (size_t)l == nl && memcmp(d, name, nl) == 0)
			return &f->f[k];
	}
	return NULL;
}

bool waf_form_has(const struct waf_form *f, const char *name)
{
	return find(f, name) != NULL;
}

int waf_form_get(const struct waf_form *f, const char *name, char *out, size_t outsz)
{
	const struct waf_form_field *fld = find(f, name);
	if (outsz)
		out[0] = '\0';
	if (!fld)
		return WIMS_ENOTFOUND;
	int rc = waf_form_decode(fld->value, out, outsz);
	if (rc < 0 && outsz)
		out[0] = '\0';
	return rc;
}

int waf_cookie_get(struct slice h, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	if (outsz)
		out[0] = '\0';
	size_t i = 0;
	while (i < h.len) {
		while (i < h.len && (h.p[i] == ' ' || h.p[i] == ';'))
			i++;
		size_t end = i;
		while (end < h.len && h.p[end] != ';')
			end++;
		size_t eq = i;
		while (eq < end && h.p[eq] != '=')
			eq++;
		if (eq < end && eq - i == nl && memcmp(h.p + i, name, nl) == 0) {
			size_t vs = eq + 1, ve = end;
			while (ve > vs && h.p[ve - 1] == ' ')
				ve--;
			if (ve - vs + 1 > outsz)
				return WIMS_ETOOBIG;
			for (size_t k = vs; k < ve; k++) {
				unsigned char c = (unsigned char)h.p[k];
				/* RFC 6265 4.1.1 cookie-octet */
				if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' ||
				    c == '\\')
					return WIMS_EPARSE;
			}
			memcpy(out, h.p + vs, ve - vs);
			out[ve - vs] = '\0';
			return (int)(ve - vs);
		}
		i = end + 1;
	}
	return WIMS_ENOTFOUND;
}

int waf_basic_parse(struct slice header, char *id, size_t idsz, char *secret, size_t secsz,
		    const char **why)
{
	static const char *dummy;
	if (!why)
		why = &dummy;
	if (idsz)
		id[0] = '\0';
	if (secsz)
		secret[0] = '\0';
	if (header.len < 6 || strncasecmp(header.p, "Basic ", 6) != 0) {
		*why = "not Basic";
		return WIMS_ENOTFOUND;
	}
	struct slice b = {header.p + 6, header.len - 6};
	while (b.len && b.p[0] == ' ') {
		b.p++;
		b.len--;
	}
	while (b.len && b.p[b.len - 1] == ' ')
		b.len--;
	/* id and secret are bounded by the caller; 1 KiB of base64 covers
	 * both. */
	if (b.len == 0 || b.len > 1024 || b.len % 4) {
		*why = "malformed Basic credentials";
		return b.len > 1024 ? WIMS_ETOOBIG : WIMS_EPARSE;
	}
	for (size_t k = 0; k < b.len; k++) {
		char c = b.p[k];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/' ||
			  (c == '=' && k >= b.len - 2);
		if (!ok || (k == b.len - 2 && c == '=' && b.p[b.len - 1] != '=')) {
			*why = "malformed Basic credentials";
			return WIMS_EPARSE;
		}
	}
	unsigned char raw[1024];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b.p, (int)b.len);
	if (n < 0) {
		*why = "malformed Basic credentials";
		return WIMS_EPARSE;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (b.p[b.len - 1] == '=')
		n--;
	if (b.p[b.len - 2] == '=')
		n--;
	int rc = WIMS_EPARSE;
	const unsigned char *colon = memchr(raw, ':', (size_t)n);
	if (!colon) {
		*why = "Basic credentials without ':'";
		goto out;
	}
	struct slice sid = {(const char *)raw, (size_t)(colon - raw)};
	struct slice ssec = {(const char *)colon + 1, (size_t)n - sid.len - 1};
	int l1 = waf_form_decode(sid, id, idsz);
	int l2 = l1 >= 0 ? waf_form_decode(ssec, secret, secsz) : l1;
	if (l1 <= 0 || l2 < 0) {
		*why = "malformed Basic credentials";
		rc = (l1 == WIMS_ETOOBIG || l2 == WIMS_ETOOBIG) ? WIMS_ETOOBIG : WIMS_EPARSE;
		if (idsz)
			id[0] = '\0';
		if (secsz)
			secret[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}
