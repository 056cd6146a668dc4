/*
 * hdr.c - header name table and lookup (see hdr.h).
 *
 * Lookup runs once per header line of every message, so it avoids a scan of
 * the whole table: a switch on the lower-cased first letter narrows it to
 * a few candidates, each rejected on length before any byte compare.  The
 * most frequent headers come first in their letter.
 */
#include "sip/hdr.h"

#include "core/wims.h"
#include "sip/param.h"

static const char *const hdr_names[SIP_HDR_COUNT_] = {
	[SIP_HDR_OTHER] = "",
#define HDR_NAME_(id, name, compact) [SIP_HDR_##id] = name,
	SIP_HEADERS(HDR_NAME_)
#undef HDR_NAME_
};

static const uint8_t hdr_lens[SIP_HDR_COUNT_] = {
	[SIP_HDR_OTHER] = 0,
#define HDR_LEN_(id, name, compact) [SIP_HDR_##id] = sizeof(name) - 1,
	SIP_HEADERS(HDR_LEN_)
#undef HDR_LEN_
};

static const char hdr_compacts[SIP_HDR_COUNT_] = {
	[SIP_HDR_OTHER] = 0,
#define HDR_COMPACT_(id, name, compact) [SIP_HDR_##id] = compact,
	SIP_HEADERS(HDR_COMPACT_)
#undef HDR_COMPACT_
};

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* name (len already checked equal) against the table name, ignoring case;
 * the first letter was matched by the switch. */
static bool name_eq(const char *name, enum sip_hdr_id id)
{
	const char *t = hdr_names[id];
	for (size_t i = 1; i < hdr_lens[id]; i++)
		if (lower(name[i]) != lower(t[i]))
			return false;
	return true;
}

#define TRY(ID)                                                     \
	do {                                                        \
		if (len == hdr_lens[SIP_HDR_##ID] && name_eq(name, SIP_HDR_##ID)) \
			return SIP_HDR_##ID;                        \
	} while (0)

static enum sip_hdr_id lookup_compact(char c)
{
	switch (c) {
	case 'v': return SIP_HDR_VIA;
	case 'f': return SIP_HDR_FROM;
	case 't': return SIP_HDR_TO;
	case 'i': return SIP_HDR_CALL_ID;
	case 'm': return SIP_HDR_CONTACT;
	case 'l': return SIP_HDR_CONTENT_LENGTH;
	case 'c': return SIP_HDR_CONTENT_TYPE;
	case 'e': return SIP_HDR_CONTENT_ENCODING;
	case 'k': return SIP_HDR_SUPPORTED;
	case 'u': return SIP_HDR_ALLOW_EVENTS;
	case 'a': return SIP_HDR_ACCEPT_CONTACT;
	case 'j': return SIP_HDR_REJECT_CONTACT;
	case 'd': return SIP_HDR_REQUEST_DISPOSITION;
	case 'o': return SIP_HDR_EVENT;
	case 's': return SIP_HDR_SUBJECT;
	case 'x': return SIP_HDR_SESSION_EXPIRES;
	case 'b': return SIP_HDR_REFERRED_BY;
	case 'r': return SIP_HDR_REFER_TO;
	case 'y': return SIP_HDR_IDENTITY;
	default: return SIP_HDR_OTHER;
	}
}

enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len)
{
	if (len == 0 || len > 64)
		return SIP_HDR_OTHER;
	if (len == 1)
		return lookup_compact(lower(name[0]));
	switch (lower(name[0])) {
	case 'a':
		TRY(AUTHORIZATION);
		TRY(ALLOW);
		TRY(ACCEPT);
		TRY(AUTHENTICATION_INFO);
		TRY(ALLOW_EVENTS);
		TRY(ACCEPT_ENCODING);
		TRY(ACCEPT_LANGUAGE);
		TRY(ACCEPT_CONTACT);
		TRY(ALERT_INFO);
		break;
	case 'c':
		TRY(CALL_ID);
		TRY(CSEQ);
		TRY(CONTACT);
		TRY(CONTENT_LENGTH);
		TRY(CONTENT_TYPE);
		TRY(CONTENT_ENCODING);
		TRY(CONTENT_DISPOSITION);
		TRY(CONTENT_LANGUAGE);
		TRY(CALL_INFO);
		break;
	case 'd':
		TRY(DATE);
		break;
	case 'e':
		TRY(EXPIRES);
		TRY(EVENT);
		TRY(ERROR_INFO);
		break;
	case 'f':
		TRY(FROM);
		TRY(FLOW_TIMER);
		TRY(FEATURE_CAPS);
		break;
	case 'i':
		TRY(IN_REPLY_TO);
		TRY(IDENTITY);
		break;
	case 'm':
		TRY(MAX_FORWARDS);
		TRY(MIN_EXPIRES);
		TRY(MIN_SE);
		TRY(MIME_VERSION);
		break;
	case 'o':
		TRY(ORGANIZATION);
		break;
	case 'p':
		TRY(PATH);
		TRY(P_ASSERTED_IDENTITY);
		TRY(P_PREFERRED_IDENTITY);
		TRY(P_ASSOCIATED_URI);
		TRY(PROXY_AUTHENTICATE);
		TRY(PROXY_AUTHORIZATION);
		TRY(P_VISITED_NETWORK_ID);
		TRY(P_CHARGING_VECTOR);
		TRY(P_CHARGING_FUNCTION_ADDRESSES);
		TRY(P_ACCESS_NETWORK_INFO);
		TRY(P_CALLED_PARTY_ID);
		TRY(P_SERVED_USER);
		TRY(PROXY_REQUIRE);
		TRY(PRIVACY);
		TRY(PRIORITY);
		break;
	case 'r':
		TRY(ROUTE);
		TRY(RECORD_ROUTE);
		TRY(REQUIRE);
		TRY(REASON);
		TRY(REJECT_CONTACT);
		TRY(REQUEST_DISPOSITION);
		TRY(REFERRED_BY);
		TRY(REFER_TO);
		TRY(REPLACES);
		TRY(RETRY_AFTER);
		TRY(RSEQ);
		TRY(RACK);
		TRY(REPLY_TO);
		break;
	case 's':
		TRY(SUPPORTED);
		TRY(SERVICE_ROUTE);
		TRY(SERVER);
		TRY(SUBJECT);
		TRY(SESSION_EXPIRES);
		TRY(SUBSCRIPTION_STATE);
		TRY(SECURITY_CLIENT);
		TRY(SECURITY_SERVER);
		TRY(SECURITY_VERIFY);
		break;
	case 't':
		TRY(TO);
		TRY(TIMESTAMP);
		break;
	case 'u':
		TRY(USER_AGENT);
		TRY(UNSUPPORTED);
		break;
	case 'v':
		TRY(VIA);
		break;
	case 'w':
		TRY(WWW_AUTHENTICATE);
		TRY(WARNING);
		break;
	default:
		break;
	}
	return SIP_HDR_OTHER;
}

#undef TRY

const char *sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR_COUNT_)
		return "";
	return hdr_names[id];
}

char sip_hdr_compact(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR_COUNT_)
		return 0;
	return hdr_compacts[id];
}

int sip_hdr_parse_uint(struct slice value, uint32_t max, uint32_t *out,
		       const char **reason)
{
	uint64_t v;
	struct slice s = sip_lws_trim(value);
	/* Ten digits already exceed 2^32; more is an attack on the counter,
	 * not a number (leading zeros included). */
	if (s.len > 10 || slice_to_u64(s, max, &v) != 0) {
		*reason = "Bad number";
		return WIMS_EPARSE;
	}
	*out = (uint32_t)v;
	return 0;
}
