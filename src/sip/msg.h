/*
 * msg.h - a SIP message indexed in place.
 *
 * sip_msg_parse() reads the start line and every header line of a message
 * that sits in the caller's receive buffer and records slices into it: it
 * copies nothing and allocates nothing.  Header values are not parsed
 * beyond what framing and validation need (CSeq, Content-Length); the
 * structured parsers (uri.h, via.h, nameaddr.h, auth_hdr.h) run on demand
 * on a header's value slice.  The buffer must outlive the struct sip_msg
 * and every slice taken from it.
 *
 * Framing (RFC 3261 18.3):
 *  - SIP_FRAMING_DATAGRAM: UDP, or one WebSocket message (RFC 7118 5.3):
 *    the buffer is exactly one message.  Content-Length is optional; if
 *    present it may not exceed the bytes after the header block (400), and
 *    bytes beyond it are ignored.
 *  - SIP_FRAMING_STREAM: TCP/TLS: the buffer holds the start of a byte
 *    stream.  Content-Length is mandatory.  Returns WIMS_EAGAIN until one
 *    whole message (headers and body) is present, then its length; any
 *    bytes after it belong to the next message.
 *
 * Keep-alives (RFC 5626 3.5.1, RFC 3261 7.5): CRLFs before a start line
 * are not a message.  If the buffer starts with CRLF, sip_msg_parse()
 * returns the number of CRLF bytes it consumed with m->keepalive set and
 * m->pings = the number of "\r\n\r\n" pings among them (answer each with
 * one "\r\n" pong on a stream).  A lone trailing "\r\n" waits for more
 * (WIMS_EAGAIN) on a stream so that a ping split in two segments is still
 * seen as one ping.  A datagram made only of CRLFs is a keep-alive too.
 *
 * Lines end with CRLF (strictly: a bare CR or LF in the header block is
 * refused, so that we never disagree with a peer about where a header
 * ends).  A header value continued on following lines that start with SP or
 * HTAB (folding, RFC 3261 7.3.1) is one value: its slice then spans the
 * CRLF and the whitespace, and every parser in src/sip treats CRLF followed
 * by SP/HTAB as linear white space.
 */
#ifndef WIMS_SIP_MSG_H
#define WIMS_SIP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/slice.h"
#include "sip/hdr.h"

/* X(ID, "NAME"): methods we know by name; anything else is OTHER and its
 * name is still in m->method.  Method names are case-sensitive. */
#define SIP_METHODS(X)              \
	X(REGISTER, "REGISTER")     \
	X(INVITE, "INVITE")         \
	X(ACK, "ACK")               \
	X(BYE, "BYE")               \
	X(CANCEL, "CANCEL")         \
	X(OPTIONS, "OPTIONS")       \
	X(MESSAGE, "MESSAGE")       \
	X(UPDATE, "UPDATE")         \
	X(PRACK, "PRACK")           \
	X(INFO, "INFO")             \
	X(SUBSCRIBE, "SUBSCRIBE")   \
	X(NOTIFY, "NOTIFY")         \
	X(REFER, "REFER")           \
	X(PUBLISH, "PUBLISH")

enum sip_method {
	SIP_METHOD_OTHER = 0,
#define SIP_METHOD_ENUM_(id, name) SIP_METHOD_##id,
	SIP_METHODS(SIP_METHOD_ENUM_)
#undef SIP_METHOD_ENUM_
	SIP_METHOD_COUNT_
};

/* Method id of a name (exact case), SIP_METHOD_OTHER if unknown. */
enum sip_method sip_method_lookup(struct slice name);
/* "INVITE" etc.; "" for SIP_METHOD_OTHER. */
const char *sip_method_name(enum sip_method m);

enum sip_framing {
	SIP_FRAMING_DATAGRAM, /* UDP datagram, WebSocket message */
	SIP_FRAMING_STREAM,   /* TCP, TLS */
};

/* One header line. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct slice name;  /* as written ("v", "VIA", "Via") */
	struct slice value; /* LWS around it dropped; may span folded lines */
	struct slice line;  /* the whole line(s), name to CRLF included */
	uint8_t next;       /* index+1 of the next header with the same id
			     * (for SIP_HDR_OTHER: the next unknown header),
			     * 0 = last */
};

struct sip_msg {
	struct slice raw;        /* the message: start line to end of body */
	struct slice start_line; /* without its CRLF */
	bool is_request;

	/* Request line: Method SP Request-URI SP SIP/2.0 */
	struct slice method;
	enum sip_method method_id;
	struct slice ruri;

	/* Status line: SIP/2.0 SP Status-Code SP Reason-Phrase */
	int status;
	struct slice reason;

	/* Keep-alive CRLFs consumed instead of a message (see above). */
	bool keepalive;
	unsigned pings;

	unsigned nhdrs;
	struct sip_hdr hdrs[WIMS_SIP_MAX_HEADERS];
	/* index+1 into hdrs of the first header of each id, 0 = absent */
	uint8_t first[SIP_HDR_COUNT_];

	/* Parsed during sip_msg_parse because validation needs them. */
	uint32_t cseq;
	struct slice cseq_method;
	enum sip_method cseq_method_id;
	bool has_content_length;
	uint32_t content_length;

	struct slice headers; /* first header line .. the empty line, excluded */
	struct slice body;    /* Content-Length bytes (or the rest, datagram) */
};

/*
 * Parse one message from p/len into the caller's m (m need not be
 * initialised; it is fully overwritten).
 *
 * Returns the number of bytes consumed (the message, or the keep-alive
 * CRLFs), WIMS_EAGAIN (stream: incomplete; datagram never), or a negative
 * error with *reason set to a static phrase fit for the status line
 * ("Bad CSeq", "Missing Call-ID", "Message Too Large"...):
 *   WIMS_EPARSE   malformed: answer 400 (if sip_msg_can_answer) or drop
 *   WIMS_ETOOBIG  over WIMS_SIP_MAX_MSG or WIMS_SIP_MAX_HEADERS: 513
 * On a stream any error means the framing is lost: answer if possible, then
 * close the connection.  On error the fields parsed so far stay valid
 * (start line, the headers indexed so far).
 *
 * Validation: start line syntax and "SIP/2.0"; status code 100-699; header
 * name is a token followed by ':'; requests must carry Via, From, To,
 * Call-ID and CSeq (Max-Forwards is not required); CSeq is
 * "number method" with the number < 2^31 and, in a request, the method
 * equal to the request method (ACK and CANCEL included, RFC 3261 8.1.1.7);
 * Content-Length a number, at most one value; responses must carry Via,
 * From, To, Call-ID and CSeq as well.
 */
int sip_msg_parse(struct sip_msg *m, const char *p, size_t len,
		  enum sip_framing framing, const char **reason);

/* The status to answer a failed parse with: 513 for WIMS_ETOOBIG, else
 * 400. */
int sip_msg_error_status(int err);

/* True if m is a request whose Via, From, To, Call-ID and CSeq were all
 * indexed, so that a response (e.g. the 400 for a parse error found later)
 * can be built from it.  Never true for an ACK (ACKs are not answered). */
bool sip_msg_can_answer(const struct sip_msg *m);

/* First header with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
/* The next header with the same id as h, or NULL:
 *	for (h = sip_msg_hdr(m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(m, h))
 */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m,
				       const struct sip_hdr *h);
/* First header whose name equals name (case-insensitive).  Known names
 * (and their compact forms) are found through the index; unknown ones by a
 * scan of the unknown headers only. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m,
					  struct slice name);
/* Index of h in m->hdrs (for the edit API in build.h). */
unsigned sip_msg_hdr_index(const struct sip_msg *m, const struct sip_hdr *h);
/* Number of headers with this id. */
unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);

/*
 * CSeq value: 1*DIGIT LWS Method.  The number must be < 2^31 (RFC 3261
 * 8.1.1.5).  method_id may be NULL.  0 or WIMS_EPARSE ("Bad CSeq").
 */
int sip_cseq_parse(struct slice value, uint32_t *num, struct slice *method,
		   enum sip_method *method_id, const char **reason);

#endif
