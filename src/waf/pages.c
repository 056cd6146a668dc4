/*
 * pages.c - the WAF's HTML: one frame for every page (sign-in, consent,
 * errors, and the link pages through waf_link_env.send_page), so that each
 * carries the same security headers and CSP, and one escaping function
 * that everything taken from a request or a store passes through.
 */
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "core/http.h"
#include "waf/waf_int.h"

void waf_html_escape(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': evbuffer_add(out, "&amp;", 5); break;
		case '<': evbuffer_add(out, "&lt;", 4); break;
		case '>': evbuffer_add(out, "&gt;", 4); break;
		case '"': evbuffer_add(out, "&quot;", 6); break;
		case '\'': evbuffer_add(out, "&#39;", 5); break;
		default: evbuffer_add(out, s, 1); break;
		}
	}
}

void waf_page_send(struct evhttp_request *req, int code, const char *title,
		   const char *body_html, const char *csp)
{
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add_printf(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<meta name=\"viewport\" content=\"width=device-width\">"
			       "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	waf_html_escape(b, title);
	evbuffer_add_printf(b, "</title></head><body><main><h1>");
	waf_html_escape(b, title);
	evbuffer_add_printf(b, "</h1>\n%s\n</main></body></html>\n", body_html);
	http_add_security_headers(req, csp ? csp : WAF_PAGE_CSP, false);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/html; charset=utf-8");
	const char *reason = code == 200 ? "OK" : code == 400 ? "Bad Request" :
		code == 401 ? "Unauthorized" : code == 403 ? "Forbidden" :
		code == 404 ? "Not Found" : code == 429 ? "Too Many Requests" : "Error";
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

void waf_page_style(struct evhttp_request *req)
{
	static const char css[] =
		"body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
		"main{max-width:28rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;"
		"border-radius:8px;box-shadow:0 1px 4px #0002}"
		"h1{font-size:1.3rem}label{display:block;margin:.8rem 0 .2rem}"
		"input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}"
		"button{margin-top:1rem;padding:.5rem 1rem;margin-right:.5rem}"
		".error{color:#a00}.who{font-weight:bold}";
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		http_reply_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(b, css, sizeof(css) - 1);
	http_add_security_headers(req, "default-src 'none'", true);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/css; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
