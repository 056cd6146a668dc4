/*
 * build.h - writing SIP messages: responses to a parsed request, and
 * forwarded (proxied) messages made by editing a parsed one.
 *
 * A proxy changes little in what it forwards: a Via on top, a Route popped,
 * a Path or Record-Route added, perhaps a new Request-URI.  So the editor
 * records what changes (a bounded list, no allocation) and sip_edit_build()
 * copies every untouched line of the original byte for byte, writing only
 * the new parts.  The output goes to a struct buf (core/buf.h), the one
 * allocation per outgoing message.
 *
 * Lines given to these functions are whole header lines ("Via: SIP/2.0/TCP
 * 127.0.0.1:5070;branch=z9hG4bK..."), with or without a trailing CRLF (the
 * builder adds it when missing).  They must not contain a bare CR or LF
 * elsewhere: WIMS_EINVAL.  A const char * line must stay valid until
 * sip_edit_build() returns (the editor keeps the pointer).
 *
 * Randomness is the caller's: sip_branch_format() and sip_tag_format()
 * turn bytes the caller drew into tokens.
 */
#ifndef WIMS_SIP_BUILD_H
#define WIMS_SIP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/slice.h"
#include "sip/msg.h"

/* The RFC 3261 21 reason phrase of a status code ("Not Found"), or a
 * generic one for its class ("Client Error") if it has none. */
const char *sip_status_reason(int status);

/* Optional parts of a response. */
struct sip_response_opts {
	const char *to_tag;        /* added to To if it has no tag; NULL: keep */
	const char *extra_headers; /* preformatted lines ("A: b\r\nC: d\r\n" or
				    * without the last CRLF), NULL if none */
	struct slice body;         /* empty: no body, Content-Length: 0 */
	const char *content_type;  /* required when body is not empty */
	const char *server;        /* Server: value, NULL for none */
	const char *warning;       /* Warning: value ("399 wims \"text\""),
				    * NULL for none */
};

/*
 * Append to out a response to req (RFC 3261 8.2.6): status line, every Via
 * line as received and in order, From, To (with ";tag=to_tag" appended
 * when to_tag is given and To has no tag), Call-ID, CSeq, then Server,
 * Warning, the extra headers, Content-Type and Content-Length, then the
 * body.  reason NULL means sip_status_reason(status).  status must be
 * 100-699 (WIMS_EINVAL).  req must satisfy sip_msg_can_answer()
 * (WIMS_EINVAL otherwise).  Returns 0 or the buf's error.
 */
int sip_build_response(struct buf *out, const struct sip_msg *req, int status,
		       const char *reason, const char *to_tag,
		       const char *extra_headers, struct slice body,
		       const char *content_type);
/* The same with every option in one struct (o may be NULL). */
int sip_build_response_opts(struct buf *out, const struct sip_msg *req,
			    int status, const char *reason,
			    const struct sip_response_opts *o);

/* --- Forwarding: the edit list --- */

enum sip_edit_kind {
	SIP_EDIT_INSERT, /* new text before header `pos` (nhdrs: at the end) */
	SIP_EDIT_FIRST_VALUE_REST, /* rewrite header `pos` keeping all but its
				    * first comma-separated element */
};

struct sip_edit_op {
	uint8_t kind;
	uint8_t pos;    /* header index (0..nhdrs) */
	struct slice text;
};

struct sip_edit {
	const struct sip_msg *msg;
	int err; /* first error, sticky: sip_edit_build() returns it */
	unsigned nops;
	unsigned nprepend; /* ops inserted at the top come first, in order */
	struct sip_edit_op ops[WIMS_SIP_MAX_EDITS];
	uint8_t removed[WIMS_SIP_MAX_HEADERS]; /* 1: drop header i */
	bool set_ruri;
	struct slice ruri;
	bool set_body;
	struct slice body;
	const char *content_type; /* with set_body; NULL keeps Content-Type */
	int max_forwards;         /* -1: untouched; else the value to write */
};

/* Start editing msg (a parsed request or response; not copied, must stay
 * valid until sip_edit_build). */
void sip_edit_init(struct sip_edit *ed, const struct sip_msg *msg);

/* Insert a line above every original header (a new Via, Record-Route).
 * Several prepends keep their call order. */
int sip_edit_prepend(struct sip_edit *ed, const char *line);
int sip_edit_prepend_slice(struct sip_edit *ed, struct slice line);
/* Append a line after the last original header (a Path, P-Asserted-Identity). */
int sip_edit_add(struct sip_edit *ed, const char *line);
int sip_edit_add_slice(struct sip_edit *ed, struct slice line);
/* Insert a line right after / before header h of the message. */
int sip_edit_insert_after(struct sip_edit *ed, const struct sip_hdr *h,
			  const char *line);
int sip_edit_insert_before(struct sip_edit *ed, const struct sip_hdr *h,
			   const char *line);

/* Drop one header line. */
int sip_edit_remove(struct sip_edit *ed, const struct sip_hdr *h);
/* Drop the first header of this id; WIMS_ENOTFOUND if there is none. */
int sip_edit_remove_first(struct sip_edit *ed, enum sip_hdr_id id);
/* Drop every header of this id (none present is fine: 0). */
int sip_edit_remove_all(struct sip_edit *ed, enum sip_hdr_id id);
/* Replace header h by a new line (at its place). */
int sip_edit_replace(struct sip_edit *ed, const struct sip_hdr *h,
		     const char *line);

/*
 * Remove the first element of the first header of this id, which may hold
 * several ("Route: <sip:a;lr>, <sip:b;lr>" becomes "Route: <sip:b;lr>"; a
 * single-element line is dropped).  For a response going back along Via
 * (pop our own top Via) and for Route popping (RFC 3261 16.4, 16.12).
 * WIMS_ENOTFOUND if there is no such header, WIMS_EPARSE if its list is
 * malformed.
 */
int sip_edit_pop_first_value(struct sip_edit *ed, enum sip_hdr_id id);

/* Write this Request-URI instead of the original one (requests only:
 * WIMS_EINVAL on a response).  uri must stay valid until build. */
int sip_edit_set_ruri(struct sip_edit *ed, struct slice uri);

/*
 * RFC 3261 16.6 step 3: decrement Max-Forwards, or add "Max-Forwards: 70"
 * if absent.  Returns the value that will be written (>= 0), or
 * WIMS_EDENIED if it is already 0 (answer 483 Too Many Hops), or
 * WIMS_EPARSE for a malformed value.
 */
int sip_edit_decrement_max_forwards(struct sip_edit *ed);

/* Replace the body (and its Content-Type if content_type is not NULL).
 * body must stay valid until build. */
int sip_edit_set_body(struct sip_edit *ed, struct slice body,
		      const char *content_type);

/*
 * Append the edited message to out.  Content-Length: the original line is
 * kept as it was when the body is unchanged and it states the right
 * length; otherwise every Content-Length line is dropped and a fresh
 * "Content-Length: N" is written after the last header (so a message taken
 * from UDP without one is fit for TCP).  Returns 0, the first edit error,
 * or the buf's error.
 */
int sip_edit_build(struct sip_edit *ed, struct buf *out);

/* A response going back one hop (RFC 3261 16.7 step 3): the same bytes
 * without the top Via entry (ours), into out.  WIMS_EPARSE when no Via
 * entry is left under it: the response was for us and goes nowhere. */
int sip_build_response_upstream(struct buf *out, const struct sip_msg *resp);

/* Would a parser with our limits (WIMS_SIP_MAX_MSG bytes,
 * WIMS_SIP_MAX_HEADERS header lines) accept this built message?  A proxy
 * asks before sending: what it adds (Via, Route, Record-Route,
 * P-Asserted-Identity) can take a message received at the limits past
 * them, and on a shared TCP connection the next hop would have to drop
 * every transaction with it.  A folded line counts as a header of its own:
 * such a message is refused a little early, never late. */
bool sip_build_within_limits(const char *p, size_t len);

/* --- Tokens from the caller's random bytes --- */

/*
 * "z9hG4bK" followed by the bytes in lower-case base32 (RFC 3261 8.1.1.7
 * magic cookie; base32 letters and digits are token characters).  Pass at
 * least 10 bytes for 80 bits of uniqueness.  Writes a NUL-terminated
 * string into out; returns its length or WIMS_ETOOBIG.
 */
int sip_branch_format(char *out, size_t outsz, const uint8_t *rnd, size_t n);
/* The same without the cookie: a From/To tag (RFC 3261 19.3 wants 32 bits
 * of randomness or more). */
int sip_tag_format(char *out, size_t outsz, const uint8_t *rnd, size_t n);

/* --- Requests a transaction sends on its own --- */

/*
 * The CANCEL of an INVITE we sent (RFC 3261 9.1): the same Request-URI,
 * top Via (so the same branch), Route set, From, To, Call-ID and CSeq
 * number, method CANCEL, no body.  req: the INVITE as sent.  0,
 * WIMS_EINVAL (not an INVITE) or the buf's error.
 */
int sip_build_cancel(struct buf *out, const struct sip_msg *req);
/*
 * The ACK for a non-2xx final response resp to the INVITE req we sent
 * (RFC 3261 17.1.1.3): like the CANCEL, but To copied from the response
 * (with its tag) and method ACK.  0, WIMS_EINVAL (resp is not 3xx-6xx)
 * or the buf's error.
 */
int sip_build_ack(struct buf *out, const struct sip_msg *req, const struct sip_msg *resp);

#endif
