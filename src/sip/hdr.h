/*
 * hdr.h - the table of SIP header names wims knows, and number parsing for
 * the headers whose value is a plain number.
 *
 * One X-macro, SIP_HEADERS, is the whole list: it gives enum sip_hdr_id,
 * the canonical name used when we write a header, and the RFC 3261 7.3.3
 * compact form.  Name lookup (sip_hdr_lookup) runs on every header line of
 * every message, so it does not loop over the table with strcasecmp: it
 * switches on the first letter and compares the length before the bytes.
 * Headers not in the table get SIP_HDR_OTHER and are still indexed by name
 * (sip_msg_hdr_by_name).
 *
 * Adding a header: add an X() line here AND its case in sip_hdr_lookup()
 * (hdr.c); hdr_test.c checks that every table entry is found by name.
 */
#ifndef WIMS_SIP_HDR_H
#define WIMS_SIP_HDR_H

#include <stdint.h>

#include "core/slice.h"

/* X(ID, "Canonical-Name", compact char or 0) */
#define SIP_HEADERS(X)                                            \
	X(VIA, "Via", 'v')                                        \
	X(FROM, "From", 'f')                                      \
	X(TO, "To", 't')                                          \
	X(CALL_ID, "Call-ID", 'i')                                \
	X(CSEQ, "CSeq", 0)                                        \
	X(CONTACT, "Contact", 'm')                                \
	X(CONTENT_LENGTH, "Content-Length", 'l')                  \
	X(CONTENT_TYPE, "Content-Type", 'c')                      \
	X(CONTENT_ENCODING, "Content-Encoding", 'e')              \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0)          \
	X(CONTENT_LANGUAGE, "Content-Language", 0)                \
	X(MAX_FORWARDS, "Max-Forwards", 0)                        \
	X(ROUTE, "Route", 0)                                      \
	X(RECORD_ROUTE, "Record-Route", 0)                        \
	X(PATH, "Path", 0)                                        \
	X(SERVICE_ROUTE, "Service-Route", 0)                      \
	X(EXPIRES, "Expires", 0)                                  \
	X(MIN_EXPIRES, "Min-Expires", 0)                          \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0)                \
	X(AUTHORIZATION, "Authorization", 0)                      \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0)            \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0)          \
	X(AUTHENTICATION_INFO, "Authentication-Info", 0)          \
	X(P_ASSOCIATED_URI, "P-Associated-URI", 0)                \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0)          \
	X(P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0)        \
	X(P_VISITED_NETWORK_ID, "P-Visited-Network-ID", 0)        \
	X(P_CHARGING_VECTOR, "P-Charging-Vector", 0)              \
	X(P_CHARGING_FUNCTION_ADDRESSES, "P-Charging-Function-Addresses", 0) \
	X(P_ACCESS_NETWORK_INFO, "P-Access-Network-Info", 0)      \
	X(P_CALLED_PARTY_ID, "P-Called-Party-ID", 0)              \
	X(P_SERVED_USER, "P-Served-User", 0)                      \
	X(SUPPORTED, "Supported", 'k')                            \
	X(REQUIRE, "Require", 0)                                  \
	X(PROXY_REQUIRE, "Proxy-Require", 0)                      \
	X(UNSUPPORTED, "Unsupported", 0)                          \
	X(ALLOW, "Allow", 0)                                      \
	X(ALLOW_EVENTS, "Allow-Events", 'u')                      \
	X(ACCEPT, "Accept", 0)                                    \
	X(ACCEPT_ENCODING, "Accept-Encoding", 0)                  \
	X(ACCEPT_LANGUAGE, "Accept-Language", 0)                  \
	X(ACCEPT_CONTACT, "Accept-Contact", 'a')                  \
	X(REJECT_CONTACT, "Reject-Contact", 'j')                  \
	X(REQUEST_DISPOSITION, "Request-Disposition", 'd')        \
	X(USER_AGENT, "User-Agent", 0)                            \
	X(SERVER, "Server", 0)                                    \
	X(WARNING, "Warning", 0)                                  \
	X(EVENT, "Event", 'o')                                    \
	X(SUBSCRIPTION_STATE, "Subscription-State", 0)            \
	X(SUBJECT, "Subject", 's')                                \
	X(SESSION_EXPIRES, "Session-Expires", 'x')                \
	X(MIN_SE, "Min-SE", 0)                                    \
	X(SECURITY_CLIENT, "Security-Client", 0)                  \
	X(SECURITY_SERVER, "Security-Server", 0)                  \
	X(SECURITY_VERIFY, "Security-Verify", 0)                  \
	X(REASON, "Reason", 0)                                    \
	X(DATE, "Date", 0)                                        \
	X(TIMESTAMP, "Timestamp", 0)                              \
	X(ORGANIZATION, "Organization", 0)                        \
	X(REFERRED_BY, "Referred-By", 'b')                        \
	X(REFER_TO, "Refer-To", 'r')                              \
	X(REPLACES, "Replaces", 0)                                \
	X(PRIVACY, "Privacy", 0)                                  \
	X(PRIORITY, "Priority", 0)                                \
	X(RETRY_AFTER, "Retry-After", 0)                          \
	X(FLOW_TIMER, "Flow-Timer", 0)                            \
	X(RSEQ, "RSeq", 0)                                        \
	X(RACK, "RAck", 0)                                        \
	X(REPLY_TO, "Reply-To", 0)                                \
	X(IN_REPLY_TO, "In-Reply-To", 0)                          \
	X(CALL_INFO, "Call-Info", 0)                              \
	X(ALERT_INFO, "Alert-Info", 0)                            \
	X(ERROR_INFO, "Error-Info", 0)                            \
	X(MIME_VERSION, "MIME-Version", 0)                        \
	X(IDENTITY, "Identity", 'y')                              \
	X(FEATURE_CAPS, "Feature-Caps", 0)

enum sip_hdr_id {
	SIP_HDR_OTHER = 0, /* not in the table: look it up by name */
#define SIP_HDR_ENUM_(id, name, compact) SIP_HDR_##id,
	SIP_HEADERS(SIP_HDR_ENUM_)
#undef SIP_HDR_ENUM_
	SIP_HDR_COUNT_
};

/* The id of a header name (case-insensitive, compact forms included), or
 * SIP_HDR_OTHER.  The name is a slice; no NUL needed. */
enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len);

/* Canonical name ("Call-ID"), or "" for SIP_HDR_OTHER / out of range. */
const char *sip_hdr_name(enum sip_hdr_id id);

/* Compact form letter ('i' for Call-ID), or 0 if it has none. */
char sip_hdr_compact(enum sip_hdr_id id);

/*
 * A header value that is one decimal number (Content-Length, Expires,
 * Max-Forwards, Min-Expires, RSeq...): surrounding LWS (including a folded
 * CRLF) is skipped; anything else, an empty value, or a number above max is
 * WIMS_EPARSE with *reason set ("Bad number").  Returns 0 on success.
 */
int sip_hdr_parse_uint(struct slice value, uint32_t max, uint32_t *out,
		       const char **reason);

#endif
