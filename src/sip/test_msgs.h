/*
 * test_msgs.h - realistic SIP messages shared by the sip unit tests (not
 * part of the library).  Shaped after what JsSIP 3.10 sends over WSS and
 * what SIPp's uac/uas scenarios send over UDP/TCP, with our own addresses.
 */
#ifndef WIMS_SIP_TEST_MSGS_H
#define WIMS_SIP_TEST_MSGS_H

#define CRLF "\r\n"

/* JsSIP first REGISTER (no credentials) over WSS. */
static const char jssip_register[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK6469213" CRLF
	"Max-Forwards: 69" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"From: \"Alice\" <sip:alice@ims.example.org>;tag=8fd3oqu1np" CRLF
	"Call-ID: 0hlvs1c6uq4rai80ak6cdt" CRLF
	"CSeq: 1 REGISTER" CRLF
	"Contact: <sip:6k3gpjma@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;"
	"+sip.instance=\"<urn:uuid:3a8e5d2b-2a5b-4a3b-9d74-0e2b0b0c2f5e>\";expires=600" CRLF
	"Expires: 600" CRLF
	"Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY" CRLF
	"Supported: path,gruu,outbound" CRLF
	"User-Agent: JsSIP 3.10.0" CRLF
	"Content-Length: 0" CRLF
	CRLF;

/* JsSIP second REGISTER, answering a SHA-256 challenge. */
static const char jssip_register_auth[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2912785" CRLF
	"Max-Forwards: 69" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"From: \"Alice\" <sip:alice@ims.example.org>;tag=8fd3oqu1np" CRLF
	"Call-ID: 0hlvs1c6uq4rai80ak6cdt" CRLF
	"CSeq: 2 REGISTER" CRLF
	"Authorization: Digest algorithm=SHA-256, username=\"alice@ims.example.org\", "
	"realm=\"ims.example.org\", nonce=\"Y2FmZWJhYmUuMTcwMDAwMDAwMA\", "
	"uri=\"sip:ims.example.org\", "
	"response=\"5b2c1d6a3f0e9d8c7b6a59483726150493827160594a3b2c1d0e0f1a2b3c4d5e\", "
	"qop=auth, cnonce=\"ll6ubtslhdpn\", nc=00000001" CRLF
	"Contact: <sip:6k3gpjma@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;"
	"+sip.instance=\"<urn:uuid:3a8e5d2b-2a5b-4a3b-9d74-0e2b0b0c2f5e>\";expires=600" CRLF
	"Expires: 600" CRLF
	"Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY" CRLF
	"Supported: path,gruu,outbound" CRLF
	"User-Agent: JsSIP 3.10.0" CRLF
	"Content-Length: 0" CRLF
	CRLF;

/* SIPp uac.xml style INVITE over UDP with SDP. */
#define SIPP_SDP                                  \
	"v=0" CRLF                                \
	"o=user1 53655765 2353687637 IN IP4 127.0.0.1" CRLF \
	"s=-" CRLF                                \
	"c=IN IP4 127.0.0.1" CRLF                 \
	"t=0 0" CRLF                              \
	"m=audio 6000 RTP/AVP 0" CRLF             \
	"a=rtpmap:0 PCMU/8000" CRLF

static const char sipp_invite[] =
	"INVITE sip:service@127.0.0.1:5060 SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4117-1-0" CRLF
	"From: sipp <sip:sipp@127.0.0.1:5061>;tag=4117SIPpTag001" CRLF
	"To: service <sip:service@127.0.0.1:5060>" CRLF
	"Call-ID: 1-4117@127.0.0.1" CRLF
	"CSeq: 1 INVITE" CRLF
	"Contact: sip:sipp@127.0.0.1:5061" CRLF
	"Max-Forwards: 70" CRLF
	"Subject: Performance Test" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length:   129" CRLF
	CRLF
	SIPP_SDP;

/* SIPp uas.xml style 200 OK to it. */
static const char sipp_200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4117-1-0" CRLF
	"From: sipp <sip:sipp@127.0.0.1:5061>;tag=4117SIPpTag001" CRLF
	"To: service <sip:service@127.0.0.1:5060>;tag=4120SIPpTag011" CRLF
	"Call-ID: 1-4117@127.0.0.1" CRLF
	"CSeq: 1 INVITE" CRLF
	"Contact: <sip:127.0.0.1:5060;transport=UDP>" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length: 129" CRLF
	CRLF
	SIPP_SDP;

/* A REGISTER as the P-CSCF forwards it to the S-CSCF over TCP: two Vias,
 * Path with a flow token. */
static const char pcscf_register[] =
	"REGISTER sip:ims.example.org SIP/2.0" CRLF
	"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpcscf0001;rport" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;received=127.0.0.1;rport=54321;branch=z9hG4bK6469213" CRLF
	"Max-Forwards: 68" CRLF
	"To: <sip:alice@ims.example.org>" CRLF
	"From: <sip:alice@ims.example.org>;tag=8fd3oqu1np" CRLF
	"Call-ID: 0hlvs1c6uq4rai80ak6cdt" CRLF
	"CSeq: 1 REGISTER" CRLF
	"Contact: <sip:6k3gpjma@df7jal23ls0d.invalid;transport=ws>;expires=600" CRLF
	"Path: <sip:Zmxvdy0xMjM0@127.0.0.1:5070;transport=tcp;lr;ob>" CRLF
	"Supported: path,outbound" CRLF
	"Content-Length: 0" CRLF
	CRLF;

/* 401 from the S-CSCF with two challenges (RFC 8760 order). */
static const char cscf_401[] =
	"SIP/2.0 401 Unauthorized" CRLF
	"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKpcscf0001;rport=40000;received=127.0.0.1" CRLF
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;received=127.0.0.1;rport=54321;branch=z9hG4bK6469213" CRLF
	"To: <sip:alice@ims.example.org>;tag=cscf77" CRLF
	"From: <sip:alice@ims.example.org>;tag=8fd3oqu1np" CRLF
	"Call-ID: 0hlvs1c6uq4rai80ak6cdt" CRLF
	"CSeq: 1 REGISTER" CRLF
	"WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"Y2FmZWJhYmUuMTcwMDAwMDAwMA\", algorithm=SHA-256, qop=\"auth\"" CRLF
	"WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"Y2FmZWJhYmUuMTcwMDAwMDAwMA\", algorithm=MD5, qop=\"auth\"" CRLF
	"Content-Length: 0" CRLF
	CRLF;

/* Torture-style: compact forms, folding, LWS everywhere, several Vias in
 * one line and across lines, IPv6, escaped display name, unknown header. */
static const char torture_compact[] =
	"OPTIONS sip:[2001:db8::10]:5060;transport=tcp SIP/2.0" CRLF
	"v: SIP / 2.0 / TCP [2001:db8::9]:5070 ;branch=z9hG4bKtort1 ;rport," CRLF
	"  SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKtort2;received=192.0.2.99" CRLF
	"Via: SIP/2.0/TLS host.example.org:5061;branch=z9hG4bKtort3" CRLF
	"t: \"Bob \\\"the\\\" Builder\" <sip:bob@example.org>" CRLF
	"f: Carol   <sip:carol@[2001:db8::77]>;tag=a48s" CRLF
	"i: tort-0001@example.org" CRLF
	"CSeq:" CRLF
	"\t 8  OPTIONS" CRLF
	"m: <sip:carol@[2001:db8::77]:5070>;q=0.7, sip:carol2@example.org;q=0.1" CRLF
	"k: path, outbound" CRLF
	"X-Unknown-Header:  value with   spaces  " CRLF
	"s:" CRLF
	"l: 0" CRLF
	CRLF;

#endif
