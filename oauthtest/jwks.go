package oauthtest

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
)

// jwk is an RFC 7517 JSON Web Key holding an RSA public key (RFC 7518 §6.3).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// jwkSet is an RFC 7517 §5 JWK Set.
type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// handleJWKS serves GET /jwks: the JWK Set with the ID token signing key.
// Asking for it generates the key if no ID token has done so yet.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	k := s.signingKey()
	writeJSON(w, http.StatusOK, jwkSet{Keys: []jwk{publicJWK(&k.priv.PublicKey, k.kid)}})
	s.logf("GET /jwks: kid %s", k.kid)
}

// publicJWK renders pub as a signing JWK with key ID kid.
func publicJWK(pub *rsa.PublicKey, kid string) jwk {
	enc := base64.RawURLEncoding
	return jwk{
		Kty: "RSA",
		Use: "sig",
		Alg: "RS256",
		Kid: kid,
		N:   enc.EncodeToString(pub.N.Bytes()),
		E:   enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of an RSA JWK: the hash of
// its required members in lexicographic order, without whitespace.
func thumbprint(k jwk) string {
	canonical := `{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
