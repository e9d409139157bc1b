package kubeexec

import "time"

// MaxMargin is how long before the token's real expiry kubectl is told it expires, at most.
//
// kubectl caches the token until the reported expiration and then runs the plugin again, so the
// margin is what keeps a request from reaching the API server with a token that expires on the
// way. It must stay below tokctl's --min-ttl (60 s by default): when kubectl comes back at the
// reported time, the token then has less than the min-ttl left and tokctl refreshes it, instead
// of handing out the same token with an expiration already past (which would make kubectl run
// the plugin before every request).
const MaxMargin = 30 * time.Second

// ReportedExpiry is the expirationTimestamp tokctl reports for a token that stops working at
// expiry: 30 s earlier, or a tenth of the remaining lifetime earlier when that is less (a token
// valid for 2 minutes is reported as expiring 12 s early), in UTC, truncated to the second as
// Kubernetes timestamps are. A zero expiry (lifetime unknown) is reported as zero: no
// expirationTimestamp, and kubectl uses the token until the API server rejects it.
func ReportedExpiry(expiry, now time.Time) time.Time {
	if expiry.IsZero() {
		return time.Time{}
	}
	margin := min(MaxMargin, expiry.Sub(now)/10)
	if margin < 0 {
		margin = 0
	}
	return expiry.Add(-margin).UTC().Truncate(time.Second)
}
