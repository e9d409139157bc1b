package diagnose

import "bytes"

// value finds the first of keys written as a field in line — key=value, key: value,
// "key":"value" or "key": 123 — and returns its value. Keys match whole words only, so "user"
// does not match "user_agent" or "superuser". It scans with bytes.Index, which is far faster
// than a regular expression on every line of a large log.
func value(line []byte, keys []string) string {
	for _, k := range keys {
		for off := 0; off < len(line); {
			i := bytes.Index(line[off:], []byte(k))
			if i < 0 {
				break
			}
			i += off
			off = i + len(k)
			if i > 0 && wordByte(line[i-1]) {
				continue
			}
			if v, ok := after(line[off:]); ok {
				return v
			}
		}
	}
	return ""
}

// after reads `"?\s*[=:]\s*["']?VALUE` following a key.
func after(b []byte) (string, bool) {
	i := 0
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		i++
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) || (b[i] != '=' && b[i] != ':') {
		return "", false
	}
	i++
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		i++
	}
	j := i
	for j < len(b) && !delim(b[j]) {
		j++
	}
	v := bytes.TrimRight(b[i:j], ".:")
	if len(v) == 0 {
		return "", false
	}
	return string(v), true
}

func wordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func delim(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '&', ',', ';', '}', ')', ']', '\n', '\r':
		return true
	}
	return false
}
