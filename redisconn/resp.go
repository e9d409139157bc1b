package redisconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxArray bounds the elements of one array reply (INFO and ROLE answers are small).
const maxArray = 1 << 16

// maxDepth bounds nested arrays.
const maxDepth = 8

// writeCommand writes args as a RESP array of bulk strings and flushes.
func writeCommand(w *bufio.Writer, args []string) error {
	w.WriteByte('*')
	w.WriteString(strconv.Itoa(len(args)))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.WriteString(strconv.Itoa(len(a)))
		w.WriteString("\r\n")
		w.WriteString(a)
		w.WriteString("\r\n")
	}
	return w.Flush()
}

// ErrProtocol is wrapped by replies that are not RESP2.
var ErrProtocol = errors.New("malformed reply")

// readReply reads one RESP2 reply. Error replies come back as *Error values, not as errors.
func readReply(r *bufio.Reader) (any, error) { return readValue(r, 0) }

func readValue(r *bufio.Reader, depth int) (any, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	body := string(line[1:])
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return &Error{Msg: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: bad integer", ErrProtocol)
		}
		return n, nil
	case '$':
		n, err := length(body, MaxBulk)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return nil, fmt.Errorf("%w: bulk string not terminated", ErrProtocol)
		}
		return string(buf[:n]), nil
	case '*':
		n, err := length(body, maxArray)
		if err != nil || n < 0 {
			return nil, err
		}
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: arrays nested too deep", ErrProtocol)
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readValue(r, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: unknown type %q", ErrProtocol, line[0])
}

// length parses a bulk or array length: -1 (nil) or 0..max.
func length(s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n > max {
		return 0, fmt.Errorf("%w: bad length", ErrProtocol)
	}
	return n, nil
}

// readLine reads up to CRLF (at most 64 KiB) and returns the line without it.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		if len(line) > 64<<10 {
			return nil, fmt.Errorf("%w: line too long", ErrProtocol)
		}
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
	}
	return line[:len(line)-2], nil
}
