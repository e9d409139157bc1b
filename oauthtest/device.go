package oauthtest

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceState is where a device authorization stands.
type deviceState int

const (
	devicePending  deviceState = iota // waiting for the user
	deviceApproved                    // approved; the next poll gets tokens
	deviceDenied                      // the user said no
	deviceUsed                        // tokens issued; the device code is spent
)

// deviceGrant is the server's record of one device authorization request.
type deviceGrant struct {
	deviceCode string
	userCode   string // as shown to the user, "BCDF-GHJK"
	clientID   string
	scope      []string
	expires    time.Time
	interval   time.Duration // grows by Options.SlowDownStep on each slow_down
	lastPoll   time.Time     // zero before the first poll
	state      deviceState
	decidedAt  time.Time // when the user approved or denied
}

// deviceAuthResponse is the RFC 8628 §3.2 device authorization response.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// userCodeAlphabet is RFC 8628 §6.1's base-20 set: no vowels (no words),
// no easily confused characters.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// handleDeviceCode serves POST /device/code, the device authorization
// endpoint (RFC 8628 §3.1). The client authenticates as at /token (a
// confidential client must send its secret: x/oauth2's DeviceAuth needs
// oauth2.SetAuthURLParam("client_secret", …)); a scope outside
// Options.Scopes is invalid_scope. The answer's expires_in is
// Options.DeviceTTL and interval is Options.DeviceInterval, both rounded up
// to whole seconds.
func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	form, err := parseForm(w, r)
	if err == nil {
		err = s.authenticateClient(r, form)
	}
	scope := strings.Fields(form.Get("scope"))
	if err == nil {
		err = s.checkScope(scope)
	}
	if err != nil {
		err.write(w)
		s.logf("POST /device/code: %s: %s", err.code, err.desc)
		return
	}
	g := s.newDeviceGrant(scope)
	writeJSON(w, http.StatusOK, deviceAuthResponse{
		DeviceCode:              g.deviceCode,
		UserCode:                g.userCode,
		VerificationURI:         s.VerificationURL(),
		VerificationURIComplete: s.VerificationURL() + "?" + url.Values{"user_code": {g.userCode}}.Encode(),
		ExpiresIn:               ceilSeconds(s.opt.DeviceTTL),
		Interval:                ceilSeconds(s.opt.DeviceInterval),
	})
	s.logf("POST /device/code: device_code=%s user_code=%s", fingerprint(g.deviceCode), fingerprint(g.userCode))
}

// ceilSeconds renders d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// newDeviceGrant records a pending device authorization for scope.
func (s *Server) newDeviceGrant(scope []string) *deviceGrant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &deviceGrant{
		deviceCode: newToken("dc_"),
		clientID:   s.opt.ClientID,
		scope:      scope,
		expires:    time.Now().Add(s.opt.DeviceTTL),
		interval:   s.opt.DeviceInterval,
	}
	for g.userCode == "" || s.userCodes[normalizeUserCode(g.userCode)] != nil {
		g.userCode = newUserCode()
	}
	s.devices[g.deviceCode] = g
	s.userCodes[normalizeUserCode(g.userCode)] = g
	return g
}

// newUserCode returns a random user code such as "BCDF-GHJK".
func newUserCode() string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // never fails since Go 1.24
	code := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			code = append(code, '-')
		}
		code = append(code, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return string(code)
}

// normalizeUserCode makes user codes compare as RFC 8628 §6.1 suggests:
// case-insensitive, punctuation and spaces ignored.
func normalizeUserCode(c string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			return r
		}
		return -1
	}, c)
}

// ApproveDevice is the user approving userCode at the verification page:
// the next poll of its device code gets tokens. It reports whether a
// pending, unexpired authorization had that user code (compared
// case-insensitively, dashes and spaces ignored).
func (s *Server) ApproveDevice(userCode string) bool {
	return s.decideDevice(userCode, deviceApproved)
}

// DenyDevice is the user refusing userCode: polls of its device code get
// access_denied from now on. It reports whether a pending, unexpired
// authorization had that user code.
func (s *Server) DenyDevice(userCode string) bool {
	return s.decideDevice(userCode, deviceDenied)
}

// decideDevice moves the pending authorization of userCode to state to.
func (s *Server) decideDevice(userCode string, to deviceState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.userCodes[normalizeUserCode(userCode)]
	now := time.Now()
	if g == nil || g.state != devicePending || !now.Before(g.expires) {
		s.logf("device user_code=%s: not pending", fingerprint(userCode))
		return false
	}
	g.state, g.decidedAt = to, now
	s.logf("device user_code=%s: %s", fingerprint(g.userCode), map[deviceState]string{
		deviceApproved: "approved", deviceDenied: "denied"}[to])
	return true
}

// devicePageForm lets a person type the user code in a browser.
const devicePageForm = `<form method="get" action="/device"><input name="user_code" autofocus>` +
	` <button type="submit">Approve</button></form>` + "\n"

// handleDevicePage serves GET /device, the verification page: with a
// user_code it approves it (as ApproveDevice) and says "device approved",
// or answers 400 for an unknown, expired or already decided code; without
// one it shows a form asking for it.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet { // not HEAD: a request has side effects
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	code := r.URL.Query().Get("user_code")
	switch {
	case code == "":
		writePage(w, http.StatusOK, "Connect a device", "Enter the code shown on your device.", devicePageForm)
	case s.ApproveDevice(code):
		writePage(w, http.StatusOK, "device approved", "You can return to your device.", "")
	default:
		writePage(w, http.StatusBadRequest, "invalid code",
			"The code is unknown, expired or already used.", devicePageForm)
	}
}
