/*
 * limits.h - every size, count and time limit of wims, each with its reason.
 *
 * Limits are what keep a misbehaving or hostile peer from taking memory,
 * descriptors or CPU that belong to everyone else.  Config keys may lower
 * some of them; nothing raises them past these ceilings.
 */
#ifndef WIMS_CORE_LIMITS_H
#define WIMS_CORE_LIMITS_H

/* A built message never needs more: the largest SIP message we accept plus
 * the headers a proxy adds. */
#define WIMS_BUF_DEFAULT_MAX (96 * 1024)

/* SIP over WebSocket and TCP: RFC 3261 messages from browsers are a few KB;
 * 64 KiB leaves room for large SDP while bounding a slowloris buffer. */
#define WIMS_SIP_MAX_MSG (64 * 1024)
/* Header lines per message: real REGISTERs/INVITEs carry 10-30; 128 bounds
 * the index kept per message. */
#define WIMS_SIP_MAX_HEADERS 128
/* Via and Route entries in one message (loops are caught by Max-Forwards,
 * this bounds parsing work). */
#define WIMS_SIP_MAX_VIAS 32
/* Longest single token we copy out (user part, host, parameter value). */
#define WIMS_SIP_MAX_TOKEN 256
/* Edits a proxy makes to one forwarded message (sip_edit: Via, Route pop,
 * Path, Record-Route, identity headers...): a handful; 32 bounds the
 * struct kept on the stack. */
#define WIMS_SIP_MAX_EDITS 32

/* WebSocket: one message, reassembled from frames, may not exceed the SIP
 * limit (RFC 7118 carries one SIP message per WebSocket message). */
#define WIMS_WS_MAX_MSG WIMS_SIP_MAX_MSG
/* The HTTP upgrade request: browsers send ~1 KiB of headers. */
#define WIMS_WS_MAX_HANDSHAKE (8 * 1024)
/* Keep-alive: ping every 30 s, close if nothing came back for 90 s. */
#define WIMS_WS_PING_INTERVAL_MS 30000
#define WIMS_WS_IDLE_TIMEOUT_MS 90000
/* A client must finish TLS + the upgrade in this time. */
#define WIMS_HANDSHAKE_TIMEOUT_MS 10000

/* Connections one listener holds at once; beyond it new ones are refused
 * rather than starving the ones already served. */
#define WIMS_MAX_CONNECTIONS 20000

/* Digest: a nonce lives this long before stale=true. */
#define WIMS_NONCE_LIFETIME_S 300
/* Highest nc we track per nonce; a client that counts past it re-challenges. */
#define WIMS_NONCE_MAX_NC 1024
/* Failed authentications per IMPI per minute before we answer 403 without
 * checking (password guessing). */
#define WIMS_AUTH_MAX_FAILURES_PER_MIN 10

/* Registration expiry bounds (RFC 3261 10.2.8, 423 below the minimum). */
#define WIMS_REG_MIN_EXPIRES 60
#define WIMS_REG_MAX_EXPIRES 7200
#define WIMS_REG_DEFAULT_EXPIRES 3600
/* Bindings (contacts) per IMPU. */
#define WIMS_REG_MAX_CONTACTS 10

/* Config: longest line and value we read. */
#define WIMS_CONF_MAX_VALUE 1024

/* --- I/O (core/loop, net, tls, ws, http) --- */
/* Worker threads per pool: more than the cores only adds switching. */
#define WIMS_MAX_WORKERS 64
/* listen(2) backlog: absorbs a burst of reconnecting browsers after a
 * restart; the kernel caps it at somaxconn anyway. */
#define WIMS_LISTEN_BACKLOG 1024
/* WebSocket send queue per connection: above HIGH_WATER a sender should
 * pause (ws_conn_queued), below LOW_WATER on_drain tells it to resume; a
 * peer that lets MAX_QUEUED pile up is not reading and is dropped. */
#define WIMS_WS_HIGH_WATER (256 * 1024)
#define WIMS_WS_LOW_WATER (64 * 1024)
#define WIMS_WS_MAX_QUEUED (1024 * 1024)
/* After we send a close frame, wait this long for the peer's before
 * dropping TCP (RFC 6455 7.1.1 lets the server close first). */
#define WIMS_WS_CLOSE_TIMEOUT_MS 2000
/* HTTP roles: request line + headers, and bodies (JSON token requests,
 * form posts) are small; files we serve (the WIC bundle) are bounded too. */
#define WIMS_HTTP_MAX_HEADERS (16 * 1024)
#define WIMS_HTTP_MAX_BODY (256 * 1024)
#define WIMS_HTTP_MAX_FILE (8 * 1024 * 1024)
/* An HTTP exchange (read or write) stalls no longer than this. */
#define WIMS_HTTP_TIMEOUT_S 30

/* --- auth, store, hss --- */
/* Nonces the replay tracker remembers at once (about 90 bytes each): far
 * more than the challenges outstanding in one nonce lifetime at bench
 * rates, and ~6 MB at most. */
#define WIMS_NONCE_MAX_TRACKED 65536
/* IMPIs the failed-attempt limiter tracks per minute window. */
#define WIMS_AUTH_RATELIMIT_MAX_TRACKED 65536
/* Identities (IMPI as an NAI, IMPU as a SIP or tel URI, TS 23.003 13):
 * real ones are well under 100 bytes; longer ones are refused. */
#define WIMS_IMPI_MAX 256
#define WIMS_IMPU_MAX 256
/* A WWSF identity (its OAuth client_id, a domain name, TR 33.871 REQ 2.3)
 * and a web identity (a user name at the WAF or at a WWSF, Annex C). */
#define WIMS_WWSF_ID_MAX 128
#define WIMS_WEB_ID_MAX 128
/* A registration binding: Contact URI, the Path header values, the
 * +sip.instance value and the Call-ID, as the store keeps them. */
#define WIMS_REG_CONTACT_MAX 512
#define WIMS_REG_PATH_MAX 1024
#define WIMS_REG_INSTANCE_MAX 256
#define WIMS_REG_CALLID_MAX 256
/* IMPUs in one implicit registration set (SAA / P-Associated-URI):
 * TS 23.228 sets hold a handful. */
#define WIMS_IRS_MAX_IMPUS 32
/* S-CSCF name (a SIP URI) stored by SAR. */
#define WIMS_SCSCF_NAME_MAX 256
/* SQLite waits this long for a lock held by another connection (another
 * worker, the CLI) before reporting WIMS_ESTORE. */
#define WIMS_STORE_BUSY_TIMEOUT_MS 5000
/* Subscriber cache of one Cx handle (hss/cx.c), direct-mapped by IMPU:
 * ~11 KB per slot in use, allocated on first use. */
#define WIMS_HSS_CACHE_SLOTS 512

/* --- pcscf --- */
/* Requests one pcscf worker has forwarded to the core and not yet seen
 * answered (each keeps a copy of the client's request, <= WIMS_SIP_MAX_MSG,
 * to answer it 503/408 itself): beyond it new requests get 503. */
#define WIMS_PCSCF_MAX_TXNS 16384
/* Connecting to the core (cscf_addr) may take this long before the
 * requests waiting for it are answered 503. */
#define WIMS_PCSCF_CONNECT_TIMEOUT_MS 3000

/* --- cscf --- */
/* UDP server transactions each cscf worker remembers, so that a
 * retransmitted request gets its response again instead of being handled
 * twice (RFC 3261 17.2.2: Timer J = 64*T1 = 32 s); a retransmitted
 * REGISTER would otherwise meet its own nc as a replay.  A slot table:
 * a collision forgets the older entry, which only costs a re-handling. */
#define WIMS_CSCF_UDP_TXN_SLOTS 4096
/* Expired registration bindings are purged (and the HSS told, SAR
 * TIMEOUT_DEREGISTRATION) this often. */
#define WIMS_REG_PURGE_INTERVAL_S 5
/* A TCP connection to the cscf that carries nothing for this long is
 * closed: it bounds half-sent messages (slowloris); a P-CSCF reconnects
 * when it next needs to. */
#define WIMS_CSCF_TCP_IDLE_S 900
/* Registration updates of one subscription are serialised by one of this
 * many locks (hash of the IMPI), so that two REGISTERs on two workers
 * cannot interleave their read-check-write of the bindings. */
#define WIMS_CSCF_REG_LOCKS 64

/* Branches one request is forked to: every binding of the IMPU
 * (WIMS_REG_MAX_CONTACTS), no more. */
#define WIMS_CSCF_MAX_BRANCHES WIMS_REG_MAX_CONTACTS
/* Proxy server transactions one cscf worker holds at once (each keeps
 * copies of the request and of what it sent on every branch, a few KB):
 * beyond it new requests get 503 rather than taking all memory. */
#define WIMS_CSCF_MAX_TXNS 65536
/* Outgoing TCP connections (to pcscfs and phones) are found by address
 * among the worker's connections; the proxy's timers run this often. */
#define WIMS_CSCF_TICK_MS 50
/* A TCP peer (pcscf, phone) that lets this much of what we send pile up
 * is not reading: further messages to it fail (503 upstream) instead of
 * growing the queue without bound. */
#define WIMS_CSCF_MAX_QUEUED (4 * 1024 * 1024)

#endif
