package redisconn

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestWriteCommand(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeCommand(w, []string{"SET", "k", "a\r\nb", ""}); err != nil {
		t.Fatal(err)
	}
	want := "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n"
	if b.String() != want {
		t.Fatalf("got %q", b.String())
	}
}

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"+OK\r\n", "OK"},
		{":-42\r\n", int64(-42)},
		{"$5\r\nhe\r\nl\r\n", "he\r\nl"},
		{"$-1\r\n", nil},
		{"*-1\r\n", nil},
		{"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+y\r\n", []any{int64(1), "x", []any{"y"}}},
		{"-WRONGPASS invalid username-password pair\r\n", &Error{"WRONGPASS invalid username-password pair"}},
	} {
		got, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestReadReplyRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		"", "\r\n", "+OK\n", ":x\r\n", "$3\r\nabcd\r\n", "$99999999\r\n", "*99999999\r\n",
		"$-2\r\n", "?what\r\n", "$3\r\nab", strings.Repeat("*1\r\n", 20) + ":1\r\n",
	} {
		if _, err := readReply(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

// FuzzReadReply: any bytes from the network give a value or an error, never a panic, and never
// an allocation beyond the bounds (MaxBulk, maxArray, maxDepth).
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", ":1\r\n", "$3\r\nabc\r\n", "*2\r\n$1\r\na\r\n:2\r\n", "-ERR x\r\n", "*-1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := readReply(bufio.NewReader(bytes.NewReader(data)))
		if err != nil && v != nil {
			t.Fatalf("value and error both set")
		}
		if err != nil && !errors.Is(err, ErrProtocol) && err.Error() != "EOF" && err.Error() != "unexpected EOF" {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
