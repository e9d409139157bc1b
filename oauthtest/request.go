package oauthtest

import (
	"crypto/subtle"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// maxFormBytes bounds a request body; real servers reject far smaller ones.
const maxFormBytes = 64 << 10

// oauthError is an RFC 6749 §5.2 error response waiting to be written.
type oauthError struct {
	status int
	code   string
	desc   string
}

// errorBody is the JSON shape of an RFC 6749 §5.2 error.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func newError(status int, code, desc string) *oauthError {
	return &oauthError{status: status, code: code, desc: desc}
}

func (e *oauthError) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.desc) }

// setNoStore sets the RFC 6749 §5.1 caching headers.
func setNoStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// writeJSON answers with v as application/json and no-store caching headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	setNoStore(w.Header())
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away
}

// writeError answers with an RFC 6749 §5.2 error. A 401 carries the
// WWW-Authenticate challenge that §5.2 requires for invalid_client.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
	}
	writeJSON(w, status, errorBody{Error: code, Description: desc})
}

// writePage answers with a minimal HTML page: what a browser shows at
// /authorize when the server must not redirect, and at the device
// verification page. The body is html-escaped text; extra is trusted HTML
// appended after it (a form).
func writePage(w http.ResponseWriter, status int, title, text, extra string) {
	body := "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		"</title></head>\n<body><h1>" + html.EscapeString(title) + "</h1>\n<p>" +
		html.EscapeString(text) + "</p>\n" + extra + "</body></html>\n"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	setNoStore(w.Header())
	w.WriteHeader(status)
	w.Write([]byte(body)) //nolint:errcheck // the browser went away
}

// writeErrorPage answers with an error page naming the RFC 6749 error code,
// "error: CODE" in the title, for errors that must not be redirected.
func writeErrorPage(w http.ResponseWriter, status int, code, desc string) {
	writePage(w, status, "error: "+code, desc, "")
}

// methodNotAllowed answers 405 with an Allow header.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" not allowed")
}

// parseForm reads the request body strictly: the content type must be
// application/x-www-form-urlencoded, parameters in the URL query are ignored
// (RFC 6749 §3.2 puts them in the body) and no parameter may repeat.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, newError(http.StatusBadRequest, "invalid_request",
			"content type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_request", "unreadable request body")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_request", "malformed form body")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, newError(http.StatusBadRequest, "invalid_request", "parameter "+k+" repeated")
		}
	}
	return form, nil
}

// authenticateClient checks RFC 6749 §2.3.1 client authentication, either
// client_secret_basic (form-urlencoded id and secret in a Basic header) or
// client_secret_post, never both. Without a configured secret the client is
// public: it must still name itself, and any secret it sends is ignored.
func (s *Server) authenticateClient(r *http.Request, form url.Values) *oauthError {
	id, secret, basic := r.BasicAuth()
	switch {
	case basic:
		id, secret = formUnescape(id), formUnescape(secret)
		if form.Has("client_secret") {
			return newError(http.StatusBadRequest, "invalid_request",
				"more than one client authentication method")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return newError(http.StatusBadRequest, "invalid_request",
				"client_id does not match the authorization header")
		}
	case r.Header.Get("Authorization") != "":
		return newError(http.StatusUnauthorized, "invalid_client", "unsupported authorization scheme")
	default:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	switch {
	case id == "":
		return newError(http.StatusUnauthorized, "invalid_client", "client authentication required")
	case id != s.opt.ClientID:
		return newError(http.StatusUnauthorized, "invalid_client", "unknown client")
	case s.opt.ClientSecret == "":
		return nil
	case secret == "":
		return newError(http.StatusUnauthorized, "invalid_client", "client secret required")
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opt.ClientSecret)) != 1:
		return newError(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	return nil
}

// formUnescape undoes the form-urlencoding RFC 6749 §2.3.1 applies to Basic
// credentials; a value that is not valid encoding is taken literally.
func formUnescape(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// tokenParam reads the "token" parameter of an authenticated POST to /revoke or /introspect
// (RFC 7009 §2.1, RFC 7662 §2.1); on failure it has answered and logged, and ok is false.
func (s *Server) tokenParam(w http.ResponseWriter, r *http.Request, endpoint string) (token string, ok bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return "", false
	}
	form, err := parseForm(w, r)
	if err == nil {
		err = s.authenticateClient(r, form)
	}
	if err == nil && form.Get("token") == "" {
		err = newError(http.StatusBadRequest, "invalid_request", "missing token")
	}
	if err != nil {
		err.write(w)
		s.logf("POST %s: %s: %s", endpoint, err.code, err.desc)
		return "", false
	}
	return form.Get("token"), true
}
