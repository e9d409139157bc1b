package oauthtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind names a misbehaviour of the token endpoint. Unless its comment
// says the refresh or grant is performed, a faulted request is not
// processed: no token is rotated, issued or revoked, no code is spent.
type FaultKind int

const (
	// ServerError answers 500 {"error":"server_error"}.
	ServerError FaultKind = iota + 1
	// ServerErrorAfterProcessing performs the grant (a presented refresh
	// token is rotated away, a code or device code is spent) and then
	// answers 502: the ambiguous case.
	ServerErrorAfterProcessing
	// RateLimited answers 429 with Retry-After: Fault.RetryAfter in whole
	// seconds (rounded up) and {"error":"temporarily_unavailable"}.
	RateLimited
	// Unavailable answers 503 {"error":"temporarily_unavailable"}.
	Unavailable
	// Slow sleeps Fault.Delay, then processes the request normally. If the
	// client gives up (or the server closes) first, the request is dropped
	// unprocessed.
	Slow
	// Truncated answers 200 with a well-framed body that is the first half
	// of a token response: not valid JSON. Its tokens were never issued.
	Truncated
	// HugeBody answers 200 with a JSON token response padded beyond 10 MiB
	// and streamed without Content-Length. Its tokens were never issued.
	HugeBody
	// HTTP200Error answers GitHub-style: HTTP 200 with
	// {"error":Fault.Code,"error_description":…}; Code defaults to
	// "bad_refresh_token".
	HTTP200Error
	// NoRefreshToken performs the refresh without rotation: the response
	// omits refresh_token and the presented refresh token stays valid. The
	// authorization_code and device_code grants then issue no refresh token.
	NoRefreshToken
	// NoExpiresIn performs the grant normally but omits expires_in.
	NoExpiresIn
	// ErrorStatus answers Fault.Status (default 500) with
	// {"error":Fault.Code} (default "server_error").
	ErrorStatus
	// HangUp closes the connection without any response.
	HangUp
)

var faultNames = [...]string{"none", "ServerError", "ServerErrorAfterProcessing", "RateLimited",
	"Unavailable", "Slow", "Truncated", "HugeBody", "HTTP200Error", "NoRefreshToken",
	"NoExpiresIn", "ErrorStatus", "HangUp"}

// String returns the constant's name.
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one injected misbehaviour; only the fields its Kind names matter.
type Fault struct {
	Kind       FaultKind
	RetryAfter time.Duration // RateLimited
	Delay      time.Duration // Slow
	Code       string        // HTTP200Error, ErrorStatus
	Status     int           // ErrorStatus
}

// Inject queues faults: the next len(faults) POSTs to /token, in order of
// arrival, each get the next fault, whatever grant they ask for (so
// HTTP200Error with Code "authorization_pending" is GitHub's device flow).
// Later calls append to the queue. Faults of /authorize are queued by
// InjectAuthorize.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// hugeBodySize is the padding of a HugeBody response.
const hugeBodySize = 10 << 20

// preFault answers the request if fault f replaces processing, reporting
// whether it did (or the request must be dropped) and what happened.
func (s *Server) preFault(w http.ResponseWriter, r *http.Request, f Fault) (bool, string) {
	switch f.Kind {
	case ServerErrorAfterProcessing, NoRefreshToken, NoExpiresIn:
		return false, ""
	case Slow:
		if !s.sleep(r.Context(), f.Delay) {
			s.abandon(w)
			return true, "abandoned while slow"
		}
		return false, ""
	case RateLimited:
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 0), 10))
		writeError(w, http.StatusTooManyRequests, "temporarily_unavailable", "rate limit exceeded")
		return true, "429"
	case Unavailable:
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "service unavailable")
		return true, "503"
	case Truncated:
		b := fakeResponse()
		writeRaw(w, b[:len(b)/2])
		return true, "200 truncated"
	case HugeBody:
		writeHuge(w)
		return true, "200 huge body"
	case HTTP200Error:
		code := orDefault(f.Code, "bad_refresh_token")
		writeJSON(w, http.StatusOK, errorBody{Error: code,
			Description: "The refresh token passed is incorrect or expired."})
		return true, "200 error " + code
	case ErrorStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeJSON(w, status, errorBody{Error: orDefault(f.Code, "server_error")})
		return true, strconv.Itoa(status)
	case HangUp:
		hangUp(w)
		return true, "hung up"
	}
	// ServerError, and any unknown kind.
	writeError(w, http.StatusInternalServerError, "server_error", "injected server error")
	return true, "500"
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// fakeResponse returns a plausible token response whose tokens were never
// issued.
func fakeResponse() []byte {
	b, _ := json.Marshal(TokenResponse{AccessToken: newToken("at_"), TokenType: "Bearer",
		ExpiresIn: 3600, RefreshToken: newToken("rt_")})
	return b
}

// writeRaw answers 200 with body b as JSON.
func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	setNoStore(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(b) //nolint:errcheck // the client went away
}

// writeHuge streams a valid JSON token response of more than hugeBodySize
// bytes in chunks, so that the server never holds it all.
func writeHuge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	setNoStore(w.Header())
	w.WriteHeader(http.StatusOK)
	head := fakeResponse()
	fmt.Fprintf(w, `%s,"padding":"`, head[:len(head)-1])
	chunk := []byte(strings.Repeat("x", 64<<10))
	for n := 0; n < hugeBodySize; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	w.Write([]byte(`"}`)) //nolint:errcheck // the client went away
}

// hangUp closes the connection without writing anything. Where the
// connection cannot be hijacked (HTTP/2), the handler is aborted instead,
// which resets the stream.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
