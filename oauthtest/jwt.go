package oauthtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// signingKey is the server's RSA-2048 ID token key and its key ID.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string // the RFC 7638 JWK thumbprint of the public key
}

// signingKey returns the server's key, generating it on first use, so that
// servers that never issue an ID token do not pay for RSA key generation.
func (s *Server) signingKey() *signingKey {
	s.keyOnce.Do(func() {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("oauthtest: generate RSA key: " + err.Error())
		}
		s.key = &signingKey{priv: priv, kid: thumbprint(publicJWK(&priv.PublicKey, ""))}
	})
	return s.key
}

// idClaims are the claims of an OpenID Connect ID token (OIDC Core §2,
// §5.1).
type idClaims struct {
	Iss               string `json:"iss"`
	Sub               string `json:"sub"`
	Aud               string `json:"aud"`
	Exp               int64  `json:"exp"`
	Iat               int64  `json:"iat"`
	AuthTime          int64  `json:"auth_time,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	Email             string `json:"email,omitempty"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

// idClaimsLocked returns the claims of an ID token for family f, or nil
// when f gets none: only families of a logged-in user whose grant has the
// openid scope do. nonce is that of the authorization request, "" on
// refresh and in the device flow.
func (s *Server) idClaimsLocked(f *family, nonce string) *idClaims {
	if f.user == nil || !hasScope(f.scope, "openid") {
		return nil
	}
	now := time.Now()
	c := &idClaims{
		Iss:               s.url,
		Sub:               f.user.Subject,
		Aud:               f.clientID,
		Exp:               now.Add(s.opt.AccessTTL).Unix(),
		Iat:               now.Unix(),
		Nonce:             nonce,
		Email:             f.user.Email,
		Name:              f.user.Name,
		PreferredUsername: f.user.Name,
	}
	if !f.authTime.IsZero() {
		c.AuthTime = f.authTime.Unix()
	}
	return c
}

// signIDToken returns c as a compact RS256 JWS (RFC 7515, RFC 7519), or ""
// for nil claims. It may generate the key, so callers do not hold s.mu.
func (s *Server) signIDToken(c *idClaims) string {
	if c == nil {
		return ""
	}
	return signJWT(s.signingKey(), c)
}

// signJWT signs claims with k: header {"alg":"RS256","kid":…,"typ":"JWT"},
// RSASSA-PKCS1-v1_5 over SHA-256.
func signJWT(k *signingKey, claims any) string {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": k.kid, "typ": "JWT"})
	if err != nil {
		panic("oauthtest: " + err.Error())
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("oauthtest: " + err.Error())
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		panic("oauthtest: sign ID token: " + err.Error())
	}
	return input + "." + enc.EncodeToString(sig)
}
