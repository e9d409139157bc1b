// Package measure is what the benchmark programs bench and bench/fleet share: the statistics of
// paired timings and the way their reports format them (sample.go, pairs.go, format.go),
// running a tokctl child and judging what it printed (child.go, tally.go), dropping a freshly
// built binary from the page cache (settle.go), and stamping the moment a token request reaches
// the oauthtest server (arrival.go).
package measure
