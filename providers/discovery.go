package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxMetadataSize is the largest metadata document Discover accepts.
const MaxMetadataSize = 1 << 20

// ErrNoMetadata means no well-known location of an issuer served metadata:
// each answered 404 Not Found.
var ErrNoMetadata = errors.New("no discovery metadata found")

// errNotFound marks a 404 from one well-known location.
var errNotFound = errors.New("not found")

// Discover fetches the authorization-server metadata of issuer.
//
// It tries, in order, and moves to the next only on 404 Not Found:
//
//  1. issuer + "/.well-known/openid-configuration" (OIDC Discovery §4.1),
//  2. "/.well-known/oauth-authorization-server" inserted between host and
//     path (RFC 8414 §3.1),
//  3. issuer + "/.well-known/oauth-authorization-server" (the appended form
//     some servers use; tried only when the issuer has a path).
//
// A terminating "/" of the issuer is removed before building these URLs.
//
// The issuer must be an https URL without query or fragment; http is
// accepted for loopback hosts (127.0.0.0/8, ::1, localhost) only. Redirects
// are followed only to URLs meeting the same rule. The response must be 200,
// JSON by Content-Type and at most MaxMetadataSize bytes. The document's
// "issuer" must equal issuer exactly — no trailing-slash or case
// normalisation, as OIDC Discovery §4.3 and RFC 8414 §3.3 require — else
// the error is an *IssuerMismatchError. token_endpoint must be present; all
// endpoints must be absolute https URLs (http on loopback hosts).
//
// ctx bounds the whole exchange. A nil client means http.DefaultClient.
// Errors name the URL involved; when every location answered 404 the error
// wraps ErrNoMetadata.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Metadata, error) {
	u, err := parseIssuer(issuer)
	if err != nil {
		return nil, fmt.Errorf("discover issuer %q: %w", issuer, err)
	}
	if client == nil {
		client = http.DefaultClient
	}
	guarded := *client // a shallow copy shares the Transport and its connections
	next := client.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkScheme(req.URL); err != nil {
			return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}

	locations := wellKnownURLs(u, issuer)
	for _, loc := range locations {
		body, err := fetchMetadata(ctx, &guarded, loc)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return parseMetadata(loc, issuer, body)
	}
	return nil, fmt.Errorf("discover issuer %q: %w (404 from %s)", issuer, ErrNoMetadata, strings.Join(locations, ", "))
}

// parseIssuer checks the issuer identifier rules of OIDC Discovery §2 and
// RFC 8414 §2 (plus the loopback http exception).
func parseIssuer(issuer string) (*url.URL, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme == "" || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return nil, errors.New("not an absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("user info not allowed")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, errors.New("query not allowed")
	}
	if u.Fragment != "" || strings.Contains(issuer, "#") {
		return nil, errors.New("fragment not allowed")
	}
	return u, checkScheme(u)
}

// wellKnownURLs lists the metadata locations for issuer, in the order
// Discover tries them, without duplicates.
func wellKnownURLs(u *url.URL, issuer string) []string {
	base := strings.TrimSuffix(issuer, "/")
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host
	locations := []string{
		base + "/.well-known/openid-configuration",
		origin + "/.well-known/oauth-authorization-server" + path,
	}
	if path != "" {
		locations = append(locations, base+"/.well-known/oauth-authorization-server")
	}
	return locations
}

// fetchMetadata GETs loc and returns its body. A 404 returns errNotFound.
func fetchMetadata(ctx context.Context, client *http.Client, loc string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", loc, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL; keep the cause
		}
		return nil, fmt.Errorf("fetch %s: %w", loc, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // allow connection reuse
		return nil, fmt.Errorf("fetch %s: %w", loc, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: unexpected status %s", loc, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !isJSONMediaType(ct) {
		return nil, fmt.Errorf("fetch %s: content type %q is not JSON", loc, ct)
	}
	if resp.ContentLength > MaxMetadataSize {
		return nil, fmt.Errorf("fetch %s: document of %d bytes exceeds the %d-byte limit", loc, resp.ContentLength, MaxMetadataSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	if len(body) > MaxMetadataSize {
		return nil, fmt.Errorf("fetch %s: document exceeds the %d-byte limit", loc, MaxMetadataSize)
	}
	return body, nil
}

// isJSONMediaType accepts application/json and any +json structured syntax
// suffix type, with parameters such as charset.
func isJSONMediaType(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}
