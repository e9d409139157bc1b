package creds

import (
	"bytes"
	"encoding/json"
	"time"
)

// ParseCredential decodes a credential as the stores keep it (the JSON a file store writes; the
// foreign shapes of FileStore.Load are accepted too). Stores other than this package's use it.
func ParseCredential(data []byte) (*Credential, error) {
	return parseCredential(data, time.Time{})
}

// Encode returns the credential as compact JSON, in the shape it was read in: what
// ParseCredential reads back.
func (c *Credential) Encode() ([]byte, error) {
	data, err := c.encode(time.Now())
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, err
	}
	return compact.Bytes(), nil
}
